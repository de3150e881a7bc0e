"""Linked issues, discussions and designs, as GitLab answers them.

- ``/projects/:id/issues/:iid/links``: list, create, delete issue links
  (``doc/api/issue_links.md``). A link is one row seen from both ends: ``blocks`` from
  the source is ``is_blocked_by`` from the target. Only issues the caller may read are listed.
  Adding or removing a link writes a system note on both issues (``SystemNotes::IssuablesService``).
- ``/projects/:id/issues/:iid/discussions``: threads with their notes (``doc/api/discussions.md``);
  a reply to a lone comment turns it into a thread.
- ``POST /api/graphql``: enough of GitLab's schema for ``project.issue.designCollection``.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import build_schema, graphql_sync
from werkzeug.wrappers import Request, Response

from .state import Forbidden, Issue, NotFound, Project, User, ValidationError, iso_ms

# gitlab_fake.app.FakeGitLabApp, which registers this module's routes (so not imported here).
FakeGitLabApp = Any

LINK_TYPES = ("relates_to", "blocks", "is_blocked_by")
_REVERSE = {"relates_to": "relates_to", "blocks": "is_blocked_by", "is_blocked_by": "blocks"}
_LINK_NOTE = {"relates_to": "marked this issue as related to", "blocks": "marked this issue as blocking"}
_LINK_NOTE["is_blocked_by"] = "marked this issue as blocked by"


@dataclass
class IssueLink:
    id: int
    source: tuple[int, int]  # (project id, iid)
    target: tuple[int, int]
    link_type: str  # as seen from the source: relates_to or blocks (is_blocked_by is stored reversed)
    created_at: datetime


@dataclass
class Design:
    id: int
    filename: str
    versions: list[datetime]  # when each version was uploaded, oldest first


_design_ids = itertools.count(1)


def register(app: FakeGitLabApp) -> None:
    """Add the routes of this module to the fake's router."""
    project = r"(?P<project>[^/]+)"
    issue = rf"projects/{project}/issues/(?P<iid>\d+)"
    for method, name, pattern, handler in (
        ("GET", "links.list", rf"{issue}/links", list_links),
        ("POST", "links.create", rf"{issue}/links", create_link),
        ("DELETE", "links.delete", rf"{issue}/links/(?P<link>\d+)", delete_link),
        ("GET", "discussions.list", rf"{issue}/discussions", list_discussions),
        ("POST", "discussions.create", rf"{issue}/discussions", create_discussion),
        ("GET", "discussions.get", rf"{issue}/discussions/(?P<discussion>[0-9a-f]+)", get_discussion),
        ("POST", "discussions.reply", rf"{issue}/discussions/(?P<discussion>[0-9a-f]+)/notes", reply),
    ):

        def bound(request, *, _handler=handler, **kwargs):
            return _handler(app, request, **kwargs)

        app._routes.append((method, name, re.compile(pattern + r"\Z"), bound))


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


# -- links -------------------------------------------------------------------


def _readable(app: FakeGitLabApp, issue: Issue, user: User) -> bool:
    project = app.store.projects.get(issue.project_id)
    return project is not None and (project.members is None or user.id in project.members)


def _ends(app: FakeGitLabApp, link: IssueLink, project: Project, issue: Issue) -> tuple[Issue, str] | None:
    """The other issue of ``link`` and the link's type seen from ``issue``, when ``issue`` is an end."""
    here = (project.id, issue.iid)
    if link.source == here:
        other, link_type = link.target, link.link_type
    elif link.target == here:
        other, link_type = link.source, _REVERSE[link.link_type]
    else:
        return None
    other_project = app.store.projects.get(other[0])
    if other_project is None or other[1] not in other_project.issues:
        return None
    return other_project.issues[other[1]], link_type


def _link_json(app: FakeGitLabApp, link: IssueLink, other: Issue, link_type: str) -> dict[str, Any]:
    data = app.issue_json(other, app.store.projects[other.project_id])
    data.update(
        {
            "issue_link_id": link.id,
            "link_type": link_type,
            "link_created_at": iso_ms(link.created_at),
            "link_updated_at": iso_ms(link.created_at),
        }
    )
    return data


def list_links(app: FakeGitLabApp, request: Request, *, params, user, project, iid) -> Response:
    issue = app.store.find_issue(project, iid)
    rows = []
    with app.store.lock:
        for link in sorted(app.store.issue_links.values(), key=lambda link: link.id):
            ends = _ends(app, link, project, issue)
            if ends is not None and _readable(app, ends[0], user):
                rows.append(_link_json(app, link, *ends))
    return _json(rows)


def create_link(app: FakeGitLabApp, request: Request, *, params, user, project, iid) -> Response:
    issue = app.store.find_issue(project, iid)
    if not params.get("target_project_id") or not params.get("target_issue_iid"):
        raise ValidationError({"error": "target_project_id is missing, target_issue_iid is missing"})
    link_type = params.get("link_type") or "relates_to"
    if link_type not in LINK_TYPES:
        raise ValidationError({"error": "link_type does not have a valid value"})
    target_project = app.store.project_for(params["target_project_id"], user)
    try:
        target = target_project.issues[int(params["target_issue_iid"])]
    except (KeyError, ValueError):
        raise NotFound("Issue") from None
    if target is issue:
        return _json({"message": "Cannot link an issue to itself"}, status=400)
    with app.store.lock:
        for link in app.store.issue_links.values():
            ends = _ends(app, link, project, issue)
            if ends is not None and ends[0] is target:
                return _json({"message": "Issue(s) already assigned"}, status=409)
        source_end, target_end = (project.id, issue.iid), (target_project.id, target.iid)
        if link_type == "is_blocked_by":  # stored once, from the blocking side
            source_end, target_end, stored_type = target_end, source_end, "blocks"
        else:
            stored_type = link_type
        link = IssueLink(app.store.next_id(), source_end, target_end, stored_type, app.store.clock.now())
        app.store.issue_links[link.id] = link
        reference = _reference(target_project, project, target)
        app.store.create_note(project, issue, {"body": f"{_LINK_NOTE[link_type]} {reference}"}, user, system=True)
        back = _reference(project, target_project, issue)
        app.store.create_note(
            target_project, target, {"body": f"{_LINK_NOTE[_REVERSE[link_type]]} {back}"}, user, system=True
        )
    return _json(
        {
            "source_issue": app.issue_json(issue, project),
            "target_issue": app.issue_json(target, target_project),
            "link_type": link_type,
        },
        status=201,
    )


def delete_link(app: FakeGitLabApp, request: Request, *, params, user, project, iid, link) -> Response:
    issue = app.store.find_issue(project, iid)
    with app.store.lock:
        found = app.store.issue_links.get(int(link))
        ends = _ends(app, found, project, issue) if found else None
        if ends is None:
            raise NotFound("Link")
        other, link_type = ends
        other_project = app.store.projects[other.project_id]
        if not _readable(app, other, user):
            raise Forbidden
        del app.store.issue_links[found.id]
        reference = _reference(other_project, project, other)
        app.store.create_note(project, issue, {"body": f"removed the relation with {reference}"}, user, system=True)
        back = _reference(project, other_project, issue)
        app.store.create_note(other_project, other, {"body": f"removed the relation with {back}"}, user, system=True)
    return _json(
        {
            "source_issue": app.issue_json(issue, project),
            "target_issue": app.issue_json(other, other_project),
            "link_type": link_type,
        }
    )


def _reference(target_project: Project, from_project: Project, issue: Issue) -> str:
    if target_project is from_project:
        return f"#{issue.iid}"
    return f"{target_project.path_with_namespace}#{issue.iid}"


# -- discussions -------------------------------------------------------------


def _discussions(issue: Issue) -> list[dict]:
    threads: dict[str, list] = {}
    for note in sorted(issue.notes.values(), key=lambda n: (n.created_at, n.id)):
        threads.setdefault(note.discussion_id, []).append(note)
    return [{"id": key, "notes": notes} for key, notes in threads.items()]


def _discussion_json(app: FakeGitLabApp, thread: dict, issue: Issue) -> dict[str, Any]:
    notes = thread["notes"]
    return {
        "id": thread["id"],
        "individual_note": len(notes) == 1 and notes[0].individual_note,
        "notes": [app.note_json(note, issue) for note in notes],
    }


def list_discussions(app: FakeGitLabApp, request: Request, *, params, user, project, iid) -> Response:
    issue = app.store.find_issue(project, iid)
    with app.store.lock:
        threads = _discussions(issue)
    return app._paginate(request, threads, lambda thread: _discussion_json(app, thread, issue))


def get_discussion(app: FakeGitLabApp, request: Request, *, params, user, project, iid, discussion) -> Response:
    issue = app.store.find_issue(project, iid)
    with app.store.lock:
        for thread in _discussions(issue):
            if thread["id"] == discussion:
                return _json(_discussion_json(app, thread, issue))
    raise NotFound("Discussion")


def create_discussion(app: FakeGitLabApp, request: Request, *, params, user, project, iid) -> Response:
    issue = app.store.find_issue(project, iid)
    note = app.store.create_note(project, issue, params, user)
    with app.store.lock:
        # POST …/discussions starts a thread even before anyone replies.
        note.individual_note = False
        thread = {"id": note.discussion_id, "notes": [note]}
        return _json(_discussion_json(app, thread, issue), status=201)


def reply(app: FakeGitLabApp, request: Request, *, params, user, project, iid, discussion) -> Response:
    issue = app.store.find_issue(project, iid)
    with app.store.lock:
        thread = [note for note in issue.notes.values() if note.discussion_id == discussion]
        if not thread:
            raise NotFound("Discussion")
        # A reply in an internal thread is internal (Notes::BuildService).
        params = {**params, "internal": any(note.internal for note in thread)}
        note = app.store.create_note(project, issue, params, user, discussion_id=discussion)
        return _json(app.note_json(note, issue), status=201)


# -- designs and GraphQL -----------------------------------------------------

SCHEMA = build_schema(
    """
    type Query { project(fullPath: ID!): Project }
    type Project { id: ID! fullPath: ID! issue(iid: String): Issue }
    type Issue { id: ID! iid: String! title: String! designCollection: DesignCollection }
    type DesignCollection { designs: DesignConnection! }
    type DesignConnection { nodes: [Design] count: Int! }
    type Design {
      id: ID! filename: String! fullPath: String! image: String! imageV432x230: String
      versions(first: Int): DesignVersionConnection!
    }
    type DesignVersionConnection { nodes: [DesignVersion] }
    type DesignVersion { id: ID! sha: ID! createdAt: String! }
    """
)


def add_design(app: FakeGitLabApp, project: Project, issue: Issue, filename: str, actor: User) -> Design:
    """Upload a design as a person does in Design Management; GitLab notes it on the issue. A file name the
    issue has already is a new version of that design, in its place."""
    with app.store.lock:
        design = next((d for d in issue.designs if d.filename == filename), None)
        verb = "updated" if design is not None else "added"
        if design is None:
            design = Design(id=next(_design_ids), filename=filename, versions=[])
            issue.designs.append(design)
        design.versions.append(app.store.clock.now())
        app.store.create_note(project, issue, {"body": f"{verb} [1 design]({filename})"}, actor, system=True)
        return design


def remove_design(app: FakeGitLabApp, project: Project, issue: Issue, filename: str, actor: User) -> None:
    with app.store.lock:
        issue.designs = [d for d in issue.designs if d.filename != filename]
        app.store.create_note(project, issue, {"body": f"archived [1 design]({filename})"}, actor, system=True)


DESIGN_IMAGE = re.compile(
    r"/(?P<project>.+)/-/design_management/designs/(?P<design>\d+)/(?:raw_image|resized_image/\w+)"
)


def design_image(app: FakeGitLabApp, request: Request, match: re.Match) -> Response:
    """A design's image (raw or resized): a drawing with the design's file name, as image/svg+xml."""
    for project in app.store.projects.values():
        for issue in project.issues.values():
            for design in issue.designs:
                if design.id == int(match.group("design")):
                    label = design.filename.replace("&", "&amp;").replace("<", "&lt;")
                    svg = (
                        '<svg xmlns="http://www.w3.org/2000/svg" width="432" height="230">'
                        '<rect width="432" height="230" fill="#e8e4f7"/>'
                        f'<text x="216" y="120" font-size="24" text-anchor="middle">{label}</text></svg>'
                    )
                    return Response(svg, mimetype="image/svg+xml")
    return _json({"message": "404 Not Found"}, status=404)


def graphql(app: FakeGitLabApp, request: Request) -> Response:
    """POST /api/graphql: ``{"query": …, "variables": …}``; GitLab answers 200 with ``data`` and ``errors``."""
    user = app._authenticate(request)
    if user is None:
        return _json({"errors": [{"message": "Invalid token"}]}, status=401)
    body = request.get_json(silent=True) or {}
    base = app.own_url(request)

    def design_json(project: Project, issue: Issue, design: Design) -> dict[str, Any]:
        web = f"{base}/{project.path_with_namespace}/-/design_management/designs/{design.id}"
        return {
            "id": f"gid://gitlab/DesignManagement::Design/{design.id}",
            "filename": design.filename,
            "fullPath": f"designs/issue-{issue.iid}/{design.filename}",
            "image": f"{web}/raw_image",
            "imageV432x230": f"{web}/resized_image/v432x230",
            # GitLab lists a design's versions newest first.
            "versions": lambda info, first=None: {
                "nodes": [
                    {
                        "id": f"gid://gitlab/DesignManagement::Version/{design.id}-{n}",
                        "sha": f"{design.id:x}{n:039x}",
                        "createdAt": iso_ms(at),
                    }
                    for n, at in reversed(list(enumerate(design.versions)))
                ][: first if first is not None else None]
            },
        }

    def issue_json(project: Project, iid: str | None) -> dict[str, Any] | None:
        try:
            issue = project.issues[int(iid or "")]
        except (KeyError, ValueError):
            return None
        designs = [design_json(project, issue, d) for d in issue.designs]
        return {
            "id": f"gid://gitlab/Issue/{issue.id}",
            "iid": str(issue.iid),
            "title": issue.title,
            "designCollection": {"designs": {"nodes": designs, "count": len(designs)}},
        }

    class Root:
        @staticmethod
        def project(info, fullPath):  # noqa: N803 - GraphQL's argument name
            try:
                project = app.store.project_for(fullPath, user)
            except NotFound:
                return None  # GitLab answers null for what the caller may not see
            return {
                "id": f"gid://gitlab/Project/{project.id}",
                "fullPath": project.path_with_namespace,
                "issue": lambda info, iid=None: issue_json(project, iid),
            }

    with app.store.lock:
        result = graphql_sync(SCHEMA, body.get("query") or "", root_value=Root, variable_values=body.get("variables"))
    data: dict[str, Any] = {"data": result.data}
    if result.errors:
        data["errors"] = [{"message": error.message} for error in result.errors]
    return _json(data)
