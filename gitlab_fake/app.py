"""The fake GitLab's REST v4 API as a werkzeug WSGI application.

Routing works on the raw request URI, segment by segment, so a project path
sent URL-encoded (``ai-group%2Fproposals``) stays one segment, as in GitLab.
"""

from __future__ import annotations

import json
import math
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode

from werkzeug.wrappers import Request, Response

from . import collab, oauth
from .faults import FaultPlan
from .hooks import Dispatcher
from .state import (
    CommandsOnly,
    Forbidden,
    Hook,
    Issue,
    Label,
    Note,
    NotFound,
    Project,
    Store,
    User,
    ValidationError,
    iso_ms,
    task_completion_status,
)
from .versions import DEFAULT_VERSION, VersionProfile

MAX_PER_PAGE = 100


@dataclass
class RequestRecord:
    """One API request as the fake saw it, for assertions."""

    method: str
    path: str
    route: str
    query: dict[str, Any]
    body: dict[str, Any] | None
    status: int = 0
    username: str | None = None
    at: float = 0.0


Handler = Callable[..., Response]


class ConnectionResetByFake(Exception):
    """Raised to drop the connection without an answer."""


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status=status, headers=headers or {}, mimetype="application/json")


def _message(status: int, message: Any, key: str = "message") -> Response:
    return _json({key: message}, status=status)


class FakeGitLabApp:
    """Stateful WSGI app: a GitLab instance with one project by default."""

    def __init__(self, *, prefix: str = "", version: str | None = None) -> None:
        self.base_url = "http://127.0.0.1"
        # GitLab under a path prefix (relative_url_root, ``https://example.com/gitlab``) ...
        self.prefix = prefix.rstrip("/")
        # ... and the external URL it builds links from (gitlab.yml), which a client may not reach.
        self.external_url: str | None = None
        self.profile = VersionProfile(version or DEFAULT_VERSION)
        self.dispatcher = Dispatcher(lambda: self.base_url, self.profile)
        self.store = Store(on_change=self.dispatcher.on_change)
        self.faults = FaultPlan()
        self.request_log: list[RequestRecord] = []
        self.total_threshold = 10_000
        # (route, requests to let through first, callback): someone acting on GitLab mid-walk.
        self.before: list[list] = []
        self._log_lock = threading.Lock()
        P = r"(?P<project>[^/]+)"  # noqa: N806
        self._routes: list[tuple[str, str, re.Pattern[str], Handler]] = []
        for method, name, pattern, handler in (
            ("GET", "user", r"user", self.get_user),
            ("GET", "tokens.self", r"personal_access_tokens/self", self.get_token_self),
            ("GET", "project", rf"projects/{P}", self.get_project),
            ("GET", "issues.list", rf"projects/{P}/issues", self.list_issues),
            ("POST", "issues.create", rf"projects/{P}/issues", self.create_issue),
            ("GET", "issues.get", rf"projects/{P}/issues/(?P<iid>\d+)", self.get_issue),
            ("PUT", "issues.edit", rf"projects/{P}/issues/(?P<iid>\d+)", self.edit_issue),
            ("DELETE", "issues.delete", rf"projects/{P}/issues/(?P<iid>\d+)", self.delete_issue),
            ("POST", "issues.move", rf"projects/{P}/issues/(?P<iid>\d+)/move", self.move_issue),
            ("GET", "notes.list", rf"projects/{P}/issues/(?P<iid>\d+)/notes", self.list_notes),
            ("POST", "notes.create", rf"projects/{P}/issues/(?P<iid>\d+)/notes", self.create_note),
            ("GET", "notes.get", rf"projects/{P}/issues/(?P<iid>\d+)/notes/(?P<note>\d+)", self.get_note),
            ("PUT", "notes.edit", rf"projects/{P}/issues/(?P<iid>\d+)/notes/(?P<note>\d+)", self.edit_note),
            ("DELETE", "notes.delete", rf"projects/{P}/issues/(?P<iid>\d+)/notes/(?P<note>\d+)", self.delete_note),
            ("GET", "labels.list", rf"projects/{P}/labels", self.list_labels),
            ("POST", "labels.create", rf"projects/{P}/labels", self.create_label),
            ("GET", "labels.get", rf"projects/{P}/labels/(?P<label>[^/]+)", self.get_label),
            ("DELETE", "labels.delete", rf"projects/{P}/labels/(?P<label>[^/]+)", self.delete_label),
            ("GET", "hooks.list", rf"projects/{P}/hooks", self.list_hooks),
            ("POST", "hooks.create", rf"projects/{P}/hooks", self.create_hook),
            ("GET", "hooks.get", rf"projects/{P}/hooks/(?P<hook>\d+)", self.get_hook),
            ("PUT", "hooks.edit", rf"projects/{P}/hooks/(?P<hook>\d+)", self.edit_hook),
            ("DELETE", "hooks.delete", rf"projects/{P}/hooks/(?P<hook>\d+)", self.delete_hook),
        ):  # fmt: skip
            self._routes.append((method, name, re.compile(pattern + r"\Z"), handler))
        collab.register(self)  # links, discussions

    # -- WSGI --------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except ConnectionResetByFake:
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                # SO_LINGER 0: the connection ends with a TCP reset, as a crashed proxy's would.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RDWR)
            # Nothing reaches the client; the server's write then meets the closed socket quietly.
            start_response("500 Internal Server Error", [])
            return [b""]
        return response(environ, start_response)

    def own_url(self, request: Request) -> str:
        """GitLab's URL as GitLab says it: the external URL when one is set, else what was asked."""
        return (self.external_url or request.host_url.rstrip("/") + self.prefix).rstrip("/")

    def dispatch(self, request: Request) -> Response:
        raw = environ_path(request.environ)
        if self.prefix:
            if not raw.startswith(self.prefix + "/"):
                return _message(404, "404 Not Found", key="error")
            raw = raw[len(self.prefix) :]
        if raw.startswith("/oauth/"):
            return oauth.provider_for(self).dispatch(request, raw)
        if oauth.MEMBER_PATH.fullmatch(raw):
            return oauth.provider_for(self).membership(request, raw, self._authenticate(request))
        if raw == "/api/graphql" and request.method == "POST":
            return collab.graphql(self, request)
        design_image = collab.DESIGN_IMAGE.fullmatch(raw)
        if design_image and request.method == "GET":
            return collab.design_image(self, request, design_image)
        if not raw.startswith("/api/v4/"):
            return _message(404, "404 Not Found", key="error")
        tail = raw[len("/api/v4/") :]
        # Unquote each segment on its own so %2F never splits a project path.
        path = "/".join(segment.replace("/", "\x00") for segment in map(unquote, tail.split("/")))
        match_route = None
        allowed = False
        for method, name, pattern, handler in self._routes:
            match = pattern.match(path)
            if match:
                allowed = True
                if method == request.method:
                    match_route = (name, handler, {k: v.replace("\x00", "/") for k, v in match.groupdict().items()})
                    break
        params = self._params(request)
        record = RequestRecord(
            method=request.method,
            path=raw,
            route=match_route[0] if match_route else "unknown",
            query=_query(request),
            body=params if request.method in ("POST", "PUT") else None,
            at=time.time(),
        )
        with self._log_lock:
            self.request_log.append(record)
        response = self._handle(request, match_route, allowed, params, record)
        record.status = response.status_code
        return response

    def _handle(self, request, match_route, allowed, params, record) -> Response:
        user = self._authenticate(request)
        record.username = user.username if user else None
        if user is None:
            response = _message(401, "401 Unauthorized")
            if self._token(request) in self.store.expired_tokens:
                # API::APIGuard: an expired personal access token is told apart from a wrong one.
                response.headers["WWW-Authenticate"] = (
                    'Bearer realm="", error="invalid_token", error_description="Token has expired."'
                )
            return response
        scopes = self.store.token_scopes.get(self._token(request))
        if scopes is not None and "api" not in scopes and request.method not in ("GET", "HEAD"):
            # API::APIGuard: a token without the `api` scope may only read (`read_api`); a write is
            # Rack::OAuth2's Bearer::Forbidden, a 403 naming the scope it needs.
            return _json(
                {
                    "error": "insufficient_scope",
                    "error_description": "The request requires higher privileges than provided by the access token.",
                    "scope": "api",
                },
                status=403,
            )
        if match_route is None:
            if allowed:
                return _message(405, "405 Method Not Allowed", key="error")
            return _message(404, "404 Not Found", key="error")
        name, handler, kwargs = match_route
        for entry in list(self.before):
            if entry[0] == name:
                if entry[1] == 0:
                    self.before.remove(entry)
                    entry[2]()
                else:
                    entry[1] -= 1
        fault = self.faults.take(name, request.method)
        if fault is not None:
            if fault.hang:
                time.sleep(fault.hang)
            if fault.reset:
                raise ConnectionResetByFake
            injected = fault.response()
            if injected is not None:
                return injected
        self.base_url = self.own_url(request)
        try:
            if "project" in kwargs:
                kwargs["project"] = self.store.project_for(kwargs["project"], user)
                if kwargs["project"].archived and request.method != "GET":
                    return _message(403, "403 Forbidden")
            return handler(request, params=params, user=user, **kwargs)
        except NotFound as exc:
            return _message(404, exc.message)
        except Forbidden:
            return _message(403, "403 Forbidden")
        except ValidationError as exc:
            return _json(exc.body, status=400)
        except CommandsOnly as exc:
            return _json({"commands_changes": exc.changes, "summary": ["Commands applied"]}, status=202)

    def _token(self, request: Request) -> str | None:
        token = request.headers.get("PRIVATE-TOKEN")
        auth = request.headers.get("Authorization", "")
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        if not token:
            token = request.args.get("access_token") or request.args.get("private_token")
        return token

    def _authenticate(self, request: Request) -> User | None:
        return self.store.user_for_token(self._token(request))

    def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = _query(request)
        if request.method in ("POST", "PUT"):
            if request.is_json:
                body = request.get_json(silent=True)
                if isinstance(body, dict):
                    params.update(body)
            else:
                params.update(_multidict(request.form))
        return params

    # -- helpers -----------------------------------------------------------

    def _paginate(self, request: Request, items: list[Any], render) -> Response:
        try:
            per_page = int(request.args.get("per_page", 20))
        except ValueError:
            per_page = 20
        per_page = min(max(per_page, 1), MAX_PER_PAGE)
        try:
            page = max(int(request.args.get("page", 1)), 1)
        except ValueError:
            page = 1
        total = len(items)
        pages = max(math.ceil(total / per_page), 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Next-Page": str(page + 1) if page < pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        show_totals = total <= self.total_threshold
        if show_totals:
            headers["X-Total"] = str(total)
            headers["X-Total-Pages"] = str(pages)
        # lib/gitlab/pagination/base.rb: links from GitLab's configured URL, not the request's host.
        base = self.own_url(request) + environ_path(request.environ)[len(self.prefix) :]
        query = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", "per_page")]

        def link(number: int, rel: str) -> str:
            qs = urlencode([*query, ("page", number), ("per_page", per_page)])
            return f'<{base}?{qs}>; rel="{rel}"'

        links = []
        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < pages:
            links.append(link(page + 1, "next"))
        links.append(link(1, "first"))
        if show_totals:
            links.append(link(pages, "last"))
        headers["Link"] = ", ".join(links)
        return _json([render(item) for item in chunk], headers=headers)

    # -- serializers -------------------------------------------------------

    def issue_json(self, issue: Issue, project: Project) -> dict[str, Any]:
        tasks = task_completion_status(issue.description)
        web_url = f"{self.base_url}/{project.path_with_namespace}/-/issues/{issue.iid}"
        return {
            "id": issue.id,
            "iid": issue.iid,
            "project_id": project.id,
            "title": issue.title,
            "description": issue.description,
            "state": issue.state,
            "created_at": iso_ms(issue.created_at),
            "updated_at": iso_ms(issue.updated_at),
            "closed_at": iso_ms(issue.closed_at),
            "closed_by": issue.closed_by.as_json(self.base_url) if issue.closed_by else None,
            # API::Entities::IssueBasic: labels.map(&:title).sort
            "labels": sorted(issue.labels),
            "milestone": None,
            "assignees": [],
            "author": issue.author.as_json(self.base_url),
            "type": "ISSUE",
            "issue_type": "issue",
            "assignee": None,
            "user_notes_count": sum(not n.system for n in issue.notes.values()),
            "merge_requests_count": 0,
            "upvotes": 0,
            "downvotes": 0,
            "due_date": None,
            "confidential": issue.confidential,
            "discussion_locked": None,
            "web_url": web_url,
            "time_stats": {
                "time_estimate": 0,
                "total_time_spent": 0,
                "human_time_estimate": None,
                "human_total_time_spent": None,
            },
            "task_completion_status": tasks,
            "has_tasks": tasks["count"] > 0,
            "task_status": f"{tasks['completed_count']} of {tasks['count']} checklist items completed",
            "references": {
                "short": f"#{issue.iid}",
                "relative": f"#{issue.iid}",
                "full": f"{project.path_with_namespace}#{issue.iid}",
            },
            "moved_to_id": issue.moved_to_id,
            "duplicated_to_id": issue.duplicated_to_id,
            "service_desk_reply_to": None,
            "_links": {
                "self": f"{self.base_url}/api/v4/projects/{project.id}/issues/{issue.iid}",
                "notes": f"{self.base_url}/api/v4/projects/{project.id}/issues/{issue.iid}/notes",
                "project": f"{self.base_url}/api/v4/projects/{project.id}",
            },
        }

    def note_json(self, note: Note, issue: Issue) -> dict[str, Any]:
        return {
            "id": note.id,
            "type": None if note.individual_note else "DiscussionNote",
            "body": note.body,
            "attachment": None,
            "author": note.author.as_json(self.base_url),
            "created_at": iso_ms(note.created_at),
            "updated_at": iso_ms(note.updated_at),
            "system": note.system,
            "noteable_id": issue.id,
            "noteable_type": "Issue",
            "noteable_iid": issue.iid,
            "resolvable": False,
            "confidential": note.internal,
            "internal": note.internal,
            "imported": False,
            "imported_from": "none",
        }

    def label_json(self, label: Label, project: Project) -> dict[str, Any]:
        opened = sum(label.name in i.labels and i.state == "opened" for i in project.issues.values())
        closed = sum(label.name in i.labels and i.state == "closed" for i in project.issues.values())
        return {
            "id": label.id,
            "name": label.name,
            "color": label.color,
            "text_color": "#FFFFFF",
            "description": label.description,
            "description_html": label.description or "",
            "open_issues_count": opened,
            "closed_issues_count": closed,
            "open_merge_requests_count": 0,
            "subscribed": False,
            "priority": None,
            "is_project_label": True,
        }

    def hook_json(self, hook: Hook, project: Project) -> dict[str, Any]:
        data = {
            "id": hook.id,
            "url": hook.url,
            "project_id": project.id,
            "created_at": iso_ms(hook.created_at),
            "push_events": False,
            "merge_requests_events": False,
            "alert_status": hook.alert_status,
            "disabled_until": iso_ms(hook.disabled_until),
        }
        data.update({flag: getattr(hook, flag) for flag in Hook.EVENT_FLAGS})
        return data

    def project_json(self, project: Project) -> dict[str, Any]:
        web_url = f"{self.base_url}/{project.path_with_namespace}"
        return {
            "id": project.id,
            "name": project.name,
            "path": project.name,
            "path_with_namespace": project.path_with_namespace,
            "web_url": web_url,
            "default_branch": "main",
            "visibility": "private",
            "archived": project.archived,
            "issues_enabled": True,
        }

    # -- handlers ----------------------------------------------------------

    def get_user(self, request, *, params, user):
        data = user.as_json(self.base_url)
        data.update({"email": f"{user.username}@example.com", "is_admin": False})
        return _json(data)

    def get_token_self(self, request, *, params, user):
        """GET /personal_access_tokens/self (GitLab 15.5+)."""
        token = self._token(request) or ""
        return _json(
            {
                "id": abs(hash(token)) % 100_000,
                "name": "stagegate-bot",
                "revoked": False,
                "created_at": "2026-01-01T00:00:00.000Z",
                "scopes": ["api"],
                "user_id": user.id,
                "active": True,
                "expires_at": self.store.token_expires_at.get(token),
            }
        )

    def get_project(self, request, *, params, user, project):
        return _json(self.project_json(project))

    def list_issues(self, request, *, params, user, project):
        issues = self.store.list_issues(project, params)
        return self._paginate(request, issues, lambda i: self.issue_json(i, project))

    def create_issue(self, request, *, params, user, project):
        issue = self.store.create_issue(project, params, user)
        return _json(self.issue_json(issue, project), status=201)

    def get_issue(self, request, *, params, user, project, iid):
        return _json(self.issue_json(self.store.find_issue(project, iid), project))

    def edit_issue(self, request, *, params, user, project, iid):
        issue = self.store.find_issue(project, iid)
        self.store.edit_issue(project, issue, params, user)
        return _json(self.issue_json(issue, project))

    def delete_issue(self, request, *, params, user, project, iid):
        self.store.delete_issue(project, self.store.find_issue(project, iid))
        return Response(status=204)

    def move_issue(self, request, *, params, user, project, iid):
        issue = self.store.find_issue(project, iid)
        target = self.store.project_for(params.get("to_project_id", ""), user)
        moved = self.store.move_issue(project, issue, target, user)
        return _json(self.issue_json(moved, target), status=201)

    def list_notes(self, request, *, params, user, project, iid):
        issue = self.store.find_issue(project, iid)
        order_by = params.get("order_by") or "created_at"
        notes = sorted(
            issue.notes.values(),
            key=lambda n: (getattr(n, order_by, n.created_at), n.id),
            reverse=(params.get("sort") or "desc") == "desc",
        )
        return self._paginate(request, notes, lambda n: self.note_json(n, issue))

    def create_note(self, request, *, params, user, project, iid):
        issue = self.store.find_issue(project, iid)
        note = self.store.create_note(project, issue, params, user)
        return _json(self.note_json(note, issue), status=201)

    def get_note(self, request, *, params, user, project, iid, note):
        issue = self.store.find_issue(project, iid)
        return _json(self.note_json(self.store.find_note(issue, note), issue))

    def edit_note(self, request, *, params, user, project, iid, note):
        issue = self.store.find_issue(project, iid)
        found = self.store.find_note(issue, note)
        self.store.edit_note(project, issue, found, params, user)
        return _json(self.note_json(found, issue))

    def delete_note(self, request, *, params, user, project, iid, note):
        issue = self.store.find_issue(project, iid)
        self.store.delete_note(issue, self.store.find_note(issue, note))
        return Response(status=204)

    def list_labels(self, request, *, params, user, project):
        labels = sorted(project.labels.values(), key=lambda label: label.name.lower())
        return self._paginate(request, labels, lambda label: self.label_json(label, project))

    def create_label(self, request, *, params, user, project):
        label = self.store.create_label(project, params, user)
        return _json(self.label_json(label, project), status=201)

    def get_label(self, request, *, params, user, project, label):
        return _json(self.label_json(self.store.find_label(project, label), project))

    def delete_label(self, request, *, params, user, project, label):
        found = self.store.find_label(project, label)
        with self.store.lock:
            project.labels.pop(found.name, None)
        return Response(status=204)

    def list_hooks(self, request, *, params, user, project):
        hooks = list(project.hooks.values())
        return self._paginate(request, hooks, lambda h: self.hook_json(h, project))

    def create_hook(self, request, *, params, user, project):
        hook = self.store.save_hook(project, params)
        return _json(self.hook_json(hook, project), status=201)

    def get_hook(self, request, *, params, user, project, hook):
        return _json(self.hook_json(self.store.find_hook(project, hook), project))

    def edit_hook(self, request, *, params, user, project, hook):
        found = self.store.find_hook(project, hook)
        self.store.save_hook(project, params, found)
        return _json(self.hook_json(found, project))

    def delete_hook(self, request, *, params, user, project, hook):
        found = self.store.find_hook(project, hook)
        with self.store.lock:
            project.hooks.pop(found.id, None)
        return Response(status=204)


def environ_path(environ: dict[str, Any]) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
    if "://" in raw:  # absolute-form request target
        raw = "/" + raw.split("://", 1)[1].split("/", 1)[-1]
    return raw.split("?", 1)[0]


def _multidict(data) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in data:
        values = data.getlist(key)
        if key.endswith("[]"):
            out[key[:-2]] = values
        else:
            out[key] = values[-1]
    return out


def _query(request: Request) -> dict[str, Any]:
    return _multidict(request.args)
