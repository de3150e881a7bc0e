"""The fake GitLab's data: users, projects, issues, notes, labels and hooks.

Every write goes through one of the ``Store`` methods below, whether it comes
from the HTTP API (the Stagegate bot) or from a test helper acting as a human,
so both fire the same webhooks and bump ``updated_at`` the same way.
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DESCRIPTION_LIMIT = 1_048_576
NOTE_LIMIT = 1_000_000

# GitLab's Taskable regex, simplified: an optional blockquote prefix, a list
# marker, a checkbox; fenced code and HTML comments are skipped first.
_TASK_ITEM = re.compile(
    r"^[ \t]*(?:>\s{0,4})*(?:[-+*]|\d+[.)])\s+\[(?P<box>[ \txX])\]\s+\S",
    re.MULTILINE,
)
_CODE_OR_COMMENT = re.compile(r"```.*?```|~~~.*?~~~|<!--.*?-->", re.DOTALL)


class ValidationError(Exception):
    """A 400 with GitLab's body."""

    def __init__(self, body: dict[str, Any]):
        super().__init__(body)
        self.body = body


class Forbidden(Exception):
    """A 403: the user lacks the permission."""


class NotFound(Exception):
    def __init__(self, what: str):
        super().__init__(what)
        self.message = f"404 {what} Not Found"


class CommandsOnly(Exception):
    """A comment that held nothing but quick actions: GitLab ran them and saved no note. The notes and
    discussions APIs answer 202 with what the commands changed (``API::Helpers::NotesHelpers``
    ``process_note_creation_result``, ``Entities::NoteCommands``)."""

    def __init__(self, changes: dict[str, Any]):
        super().__init__(changes)
        self.changes = changes


def task_completion_status(description: str) -> dict[str, int]:
    text = _CODE_OR_COMMENT.sub("", description or "")
    boxes = [m.group("box") for m in _TASK_ITEM.finditer(text)]
    return {"count": len(boxes), "completed_count": sum(b in "xX" for b in boxes)}


class Clock:
    """Wall-clock time in milliseconds that never repeats or goes back.

    GitLab's ``updated_at`` has millisecond precision; two writes in the same
    millisecond would make ``updated_after`` filtering ambiguous in tests.
    """

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            ms = max(int(time.time() * 1000), self._last + 1)
            self._last = ms
        return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso_ms(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


@dataclass
class User:
    id: int
    username: str
    name: str

    def as_json(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "state": "active",
            "avatar_url": None,
            "web_url": f"{base_url}/{self.username}",
        }


@dataclass
class Label:
    id: int
    name: str
    color: str = "#6699cc"
    description: str | None = None
    created_at: datetime | None = None


@dataclass
class Note:
    id: int
    body: str
    author: User
    created_at: datetime
    updated_at: datetime
    system: bool = False
    internal: bool = False
    # Every note is in a discussion; a lone comment's is its own until someone replies (gitlab_fake.collab).
    discussion_id: str = ""
    individual_note: bool = True


@dataclass
class Issue:
    id: int
    iid: int
    project_id: int
    title: str
    description: str
    author: User
    created_at: datetime
    updated_at: datetime
    labels: list[str] = field(default_factory=list)
    state: str = "opened"
    confidential: bool = False
    closed_at: datetime | None = None
    closed_by: User | None = None
    updated_by: User | None = None
    notes: dict[int, Note] = field(default_factory=dict)
    moved_to_id: int | None = None
    duplicated_to_id: int | None = None
    designs: list = field(default_factory=list)  # gitlab_fake.collab.Design


@dataclass
class Hook:
    id: int
    url: str
    token: str | None
    created_at: datetime
    issues_events: bool = False
    confidential_issues_events: bool = False
    note_events: bool = False
    confidential_note_events: bool = False
    enable_ssl_verification: bool = True
    # GitLab's auto-disabling (WebHooks::AutoDisabling): "executable", "temporarily_disabled", "disabled".
    alert_status: str = "executable"
    disabled_until: datetime | None = None
    recent_failures: int = 0  # failed deliveries in a row
    backoff_count: int = 0  # times it was disabled for a while since it last worked

    # WebHooks::AutoDisabling: 4 failures in a row disable it for a while (1 min, doubling up to 24 h),
    # 40 for good; a success (or a test delivery that succeeds) enables it again.
    FAILURE_THRESHOLD = 4
    PERMANENT_FAILURE_THRESHOLD = 40
    MAX_BACKOFF_SECONDS = 24 * 3600

    def executable(self, now: datetime) -> bool:
        if self.alert_status == "disabled":
            return False
        return self.alert_status != "temporarily_disabled" or (
            self.disabled_until is not None and now >= self.disabled_until
        )

    def record_success(self) -> None:
        self.recent_failures = self.backoff_count = 0
        self.alert_status, self.disabled_until = "executable", None

    def record_failure(self, now: datetime, *, client_error: bool, failures_alike: bool) -> None:
        self.recent_failures += 1
        if self.recent_failures < self.FAILURE_THRESHOLD:
            return
        if (failures_alike and self.recent_failures >= self.PERMANENT_FAILURE_THRESHOLD) or (
            client_error and not failures_alike
        ):
            self.alert_status, self.disabled_until = "disabled", None
            return
        seconds = min(60 * 2**self.backoff_count, self.MAX_BACKOFF_SECONDS)
        self.backoff_count += 1
        self.alert_status = "temporarily_disabled"
        self.disabled_until = datetime.fromtimestamp(now.timestamp() + seconds, tz=UTC)

    EVENT_FLAGS = (
        "issues_events",
        "confidential_issues_events",
        "note_events",
        "confidential_note_events",
        "enable_ssl_verification",
    )


@dataclass
class Project:
    id: int
    path_with_namespace: str
    name: str
    issues: dict[int, Issue] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    hooks: dict[int, Hook] = field(default_factory=dict)
    next_iid: int = 1
    # Ids of the users who may see the project; None: everyone (a public project, or the bot a member).
    members: set[int] | None = None
    archived: bool = False  # read-only: every write is 403


@dataclass
class Change:
    """One write that GitLab would announce through a webhook."""

    kind: str  # "issue" or "note"
    action: str  # open/update/close/reopen, or create/update for notes
    project: Project
    issue: Issue
    actor: User
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    note: Note | None = None


ISSUE_EDIT_KEYS = (
    "assignee_id",
    "assignee_ids",
    "confidential",
    "created_at",
    "description",
    "discussion_locked",
    "due_date",
    "issue_type",
    "labels",
    "add_labels",
    "remove_labels",
    "milestone_id",
    "state_event",
    "title",
)


# Quick actions in a saved description, on create and on update, as GitLab's ``QuickActions::InterpretService``
# runs them: ``Gitlab::QuickActions::Extractor`` takes out of the text every line ``/<command> args`` (at the
# line's start, any case) of a command that has an action, with the blank lines right after it, and strips
# the end of the text; lines in a ``` code block, an HTML block or a ``>>>`` quote stay. A command runs
# only where it is available: ``/parent_epic`` (ee/lib/ee/gitlab/quick_actions/epic_actions.rb) is for
# epics, so on an issue GitLab (EE, as on gitlab.com) takes the line out and does nothing. ``/cc`` is a
# dummy command with no action (lib/gitlab/quick_actions/common_actions.rb): never taken out, it stays in
# the text, where its ``@user`` is an ordinary mention. Other commands stay as text here.
_QUICK_ACTION_LINE = re.compile(
    r"^/(?P<name>label|unlabel|confidential|parent_epic|set_parent_epic)(?:[ \t]+(?P<arg>.*))?[ \t]*$",
    re.IGNORECASE,
)
_LABEL_ARG = re.compile(r'~"(?P<quoted>[^"]+)"|~(?P<plain>[^\s~"]+)')
# Gitlab::QuickActions::Extractor's blocks, whose lines are never commands: a ``` code block, an HTML block,
# a >>> quote, each up to the first closing line that leaves at least one character between ("\n```$" after
# ".+?"). A block never closed is no block: its "/" lines are commands.
_BLOCK = re.compile(r"^```.+?\n```$|^<[^>]+?>\n.+?\n</[^>]+?>$|^>>>.+?\n>>>$", re.MULTILINE | re.DOTALL)


def _lines_in_blocks(text: str) -> set[int]:
    inside: set[int] = set()
    for block in _BLOCK.finditer(text):
        first = text.count("\n", 0, block.start())
        inside.update(range(first, first + block.group().count("\n") + 1))
    return inside


def run_quick_actions(description: str) -> tuple[str, dict[str, Any]]:
    """The description without the quick actions GitLab runs, and what they do (label changes, confidential)."""
    kept: list[str] = []
    effects: dict[str, Any] = {"add_labels": [], "remove_labels": [], "confidential": False}
    text = description.replace("\r", "")
    lines = text.split("\n")
    in_blocks = _lines_in_blocks(text)
    removed = False
    for i, line in enumerate(lines):
        match = None if i in in_blocks else _QUICK_ACTION_LINE.match(line)
        if match is None:
            if removed and not line.strip() and i + 1 < len(lines):
                continue  # the blank lines right after a command go with it
            removed = False
            kept.append(line)
            continue
        removed = True
        name = match.group("name").lower()
        names = [m.group("quoted") or m.group("plain") for m in _LABEL_ARG.finditer(match.group("arg") or "")]
        if name == "label":
            effects["add_labels"] += names
        elif name == "unlabel":
            effects["remove_labels"] += names
        elif name == "confidential":
            effects["confidential"] = True
        # /parent_epic: an epic's command; on an issue it is taken out and does nothing.
    return "\n".join(kept).rstrip(), effects


def project_reference(project: Project, from_project: Project) -> str:
    """How GitLab names ``project`` in the text of ``from_project`` (``Project#to_reference_base``): the
    full path across namespaces, the bare path for another project of the same namespace."""
    namespace, _, path = project.path_with_namespace.rpartition("/")
    if namespace != from_project.path_with_namespace.rpartition("/")[0]:
        return project.path_with_namespace
    return path


def _split_labels(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    seen: list[str] = []
    for item in items:
        name = str(item).strip()
        if name and name not in seen:
            seen.append(name)
    return seen


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


class Store:
    """All state of the fake, guarded by one lock.

    ``on_change`` runs under the lock so the webhook payload is a snapshot of
    the issue as this write left it.
    """

    BOT_TOKEN = "stagegate-bot-token"
    HUMAN_TOKEN = "alice-token"

    def __init__(self, on_change=None) -> None:
        self.lock = threading.RLock()
        self.clock = Clock()
        self.on_change = on_change or (lambda change: None)
        self.reset()

    # -- setup -------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self._ids = itertools.count(1001)
            self.users: dict[int, User] = {}
            self.tokens: dict[str, User] = {}
            self.expired_tokens: set[str] = set()
            self.token_expires_at: dict[str, str] = {}  # token -> YYYY-MM-DD
            # token -> its scopes, for tokens made with fewer than ``api`` (every scope otherwise).
            self.token_scopes: dict[str, list[str]] = {}
            self.projects: dict[int, Project] = {}
            # Users below Reporter on the project: GitLab lets them label issues but not create labels.
            self.label_creation_forbidden: set[int] = set()
            self.bot = self.add_user("stagegate-bot", "Stagegate Bot", token=self.BOT_TOKEN)
            self.human = self.add_user("alice", "Alice Author", token=self.HUMAN_TOKEN)
            self.project = self.add_project("ai-group/proposals", project_id=1)
            self.issue_links: dict[int, Any] = {}  # gitlab_fake.collab.IssueLink by id

    def next_id(self) -> int:
        return next(self._ids)

    def add_user(self, username: str, name: str, *, token: str | None = None) -> User:
        with self.lock:
            user = User(id=len(self.users) + 2, username=username, name=name)
            self.users[user.id] = user
            if token:
                self.tokens[token] = user
            return user

    def add_project(self, path: str, *, project_id: int | None = None) -> Project:
        with self.lock:
            pid = project_id or self.next_id()
            project = Project(id=pid, path_with_namespace=path, name=path.rsplit("/", 1)[-1])
            self.projects[pid] = project
            return project

    def user_for_token(self, token: str | None) -> User | None:
        return self.tokens.get(token) if token else None

    def revoke_token(self, token: str) -> None:
        with self.lock:
            self.tokens.pop(token, None)

    def expire_token(self, token: str) -> None:
        with self.lock:
            self.tokens.pop(token, None)
            self.expired_tokens.add(token)

    def find_project(self, ref: str | int) -> Project:
        with self.lock:
            ref = str(ref)
            if ref.isdigit() and int(ref) in self.projects:
                return self.projects[int(ref)]
            for project in self.projects.values():
                if project.path_with_namespace == ref:
                    return project
        raise NotFound("Project")

    def project_for(self, ref: str | int, user: User) -> Project:
        """A project as ``user`` sees it: one they are no member of is "404 Project Not Found", as in GitLab."""
        project = self.find_project(ref)
        if project.members is not None and user.id not in project.members:
            raise NotFound("Project")
        return project

    def move_issue(self, project: Project, issue: Issue, target: Project, actor: User) -> Issue:
        """``POST …/issues/:iid/move``: a copy in ``target`` (new id and iid), the old issue closed with
        ``moved_to_id``, a system note on each side (``Issues::MoveService``)."""
        with self.lock:
            if target is project:
                raise ValidationError({"message": "Cannot move issue to project it originates from!"})
            if issue.moved_to_id:
                raise ValidationError({"message": "Cannot move issue which was already moved"})
            moved = self.create_issue(
                target,
                {
                    "title": issue.title,
                    "description": issue.description,
                    "labels": ",".join(issue.labels),
                    "confidential": issue.confidential,
                },
                issue.author,
            )
            # Notes::CopyService: each note copied in order under a new id, each thread under a new id.
            threads: dict[str, str] = {}
            for note in sorted(issue.notes.values(), key=lambda n: n.id):
                copy = Note(
                    id=self.next_id(),
                    body=note.body,
                    author=note.author,
                    created_at=note.created_at,
                    updated_at=note.updated_at,
                    system=note.system,
                    internal=note.internal,
                    discussion_id=threads.setdefault(note.discussion_id, secrets.token_hex(20)),
                    individual_note=note.individual_note,
                )
                moved.notes[copy.id] = copy
            # SystemNotes::IssuablesService#noteable_moved names each issue relative to the other's project.
            self.create_note(
                target,
                moved,
                {"body": f"moved from {project_reference(project, target)}#{issue.iid}"},
                actor,
                system=True,
            )
            issue.moved_to_id = moved.id
            self.create_note(
                project,
                issue,
                {"body": f"moved to {project_reference(target, project)}#{moved.iid}"},
                actor,
                system=True,
            )
            self.edit_issue(project, issue, {"state_event": "close"}, actor)
            return moved

    def close_as_duplicate(self, project: Project, issue: Issue, of: Issue, actor: User) -> None:
        """The ``/duplicate #n`` quick action: closed, ``duplicated_to_id`` set, a system note."""
        with self.lock:
            issue.duplicated_to_id = of.id
            self.create_note(
                project, issue, {"body": f"marked this issue as a duplicate of #{of.iid}"}, actor, system=True
            )
            self.edit_issue(project, issue, {"state_event": "close"}, actor)

    def find_issue(self, project: Project, iid: int | str) -> Issue:
        try:
            return project.issues[int(iid)]
        except (KeyError, ValueError):
            raise NotFound("Issue") from None

    # -- labels ------------------------------------------------------------

    def may_create_labels(self, user: User) -> bool:
        return user.id not in self.label_creation_forbidden

    def ensure_labels(self, project: Project, names: list[str], actor: User) -> list[str]:
        """The labels an issue write may carry. A user who may not create labels gets the missing ones
        dropped without an error, as GitLab's ``Labels::AvailableLabelsService`` does (``.compact``)."""
        kept = []
        for name in names:
            if name not in project.labels:
                if not self.may_create_labels(actor):
                    continue
                project.labels[name] = Label(id=self.next_id(), name=name, created_at=self.clock.now())
            kept.append(name)
        return kept

    def create_label(self, project: Project, params: dict[str, Any], actor: User) -> Label:
        with self.lock:
            if not self.may_create_labels(actor):
                raise Forbidden()
            name = (params.get("name") or "").strip()
            color = params.get("color")
            if not name:
                raise ValidationError({"error": "name is missing"})
            if not color:
                raise ValidationError({"error": "color is missing"})
            if name in project.labels:
                raise ValidationError({"message": "Label already exists"})
            label = Label(
                id=self.next_id(),
                name=name,
                color=color,
                description=params.get("description"),
                created_at=self.clock.now(),
            )
            project.labels[name] = label
            return label

    def find_label(self, project: Project, ref: str) -> Label:
        for label in project.labels.values():
            if str(label.id) == ref or label.name == ref:
                return label
        raise NotFound("Label")

    # -- issues ------------------------------------------------------------

    def _validate_issue_text(self, params: dict[str, Any]) -> None:
        description = params.get("description")
        if description is not None and len(description) > DESCRIPTION_LIMIT:
            raise ValidationError(
                {"message": {"description": [f"is too long (maximum is {DESCRIPTION_LIMIT} characters)"]}}
            )
        if "title" in params and len(str(params["title"] or "")) > 255:
            raise ValidationError({"message": {"title": ["is too long (maximum is 255 characters)"]}})

    def create_issue(self, project: Project, params: dict[str, Any], actor: User) -> Issue:
        with self.lock:
            title = params.get("title")
            if title is None or not str(title).strip():
                raise ValidationError({"error": "title is missing"})
            self._validate_issue_text(params)
            description, actions = run_quick_actions(params.get("description") or "")
            wanted = _split_labels(params.get("labels")) + actions["add_labels"]
            labels = self.ensure_labels(
                project, [n for n in _split_labels(wanted) if n not in actions["remove_labels"]], actor
            )
            now = self.clock.now()
            issue = Issue(
                id=self.next_id(),
                iid=project.next_iid,
                project_id=project.id,
                title=str(title),
                description=description,
                author=actor,
                created_at=now,
                updated_at=now,
                labels=labels,
                confidential=_bool(params.get("confidential", False)) or actions["confidential"],
                updated_by=actor,
            )
            project.next_iid += 1
            project.issues[issue.iid] = issue
            change = Change(kind="issue", action="open", project=project, issue=issue, actor=actor)
            self.on_change(change)
            return issue

    def edit_issue(self, project: Project, issue: Issue, params: dict[str, Any], actor: User) -> Issue:
        """Apply GitLab's PUT semantics: only the attributes sent change."""
        with self.lock:
            if not any(key in params for key in ISSUE_EDIT_KEYS):
                raise ValidationError(
                    {
                        "error": ", ".join(k for k in ISSUE_EDIT_KEYS if "_labels" not in k)
                        + " are missing, at least one parameter must be provided"
                    }
                )
            if "title" in params and not str(params["title"] or "").strip():
                raise ValidationError({"message": {"title": ["can't be blank"]}})
            self._validate_issue_text(params)
            if params.get("description"):
                text, actions = run_quick_actions(params["description"])
                params = {
                    **params,
                    "description": text,
                    "add_labels": _split_labels(params.get("add_labels")) + actions["add_labels"],
                    "remove_labels": _split_labels(params.get("remove_labels")) + actions["remove_labels"],
                    **({"confidential": True} if actions["confidential"] else {}),
                }
            state_event = params.get("state_event")
            if state_event is not None and state_event not in ("close", "reopen"):
                raise ValidationError({"error": "state_event does not have a valid value"})

            before = {
                "title": issue.title,
                "description": issue.description,
                "confidential": issue.confidential,
                "labels": list(issue.labels),
                "state": issue.state,
            }
            if "title" in params:
                issue.title = str(params["title"])
            if "description" in params:
                issue.description = params["description"] or ""
            if "confidential" in params:
                issue.confidential = _bool(params["confidential"])
            labels = list(issue.labels)
            if "labels" in params:
                labels = _split_labels(params["labels"])
            for name in _split_labels(params.get("add_labels")):
                if name not in labels:
                    labels.append(name)
            removed = _split_labels(params.get("remove_labels"))
            labels = [name for name in labels if name not in removed]
            issue.labels = self.ensure_labels(project, labels, actor)
            now = self.clock.now()
            if state_event == "close" and issue.state == "opened":
                issue.state, issue.closed_at, issue.closed_by = "closed", now, actor
            elif state_event == "reopen" and issue.state == "closed":
                issue.state, issue.closed_at, issue.closed_by = "opened", None, None

            after = {
                "title": issue.title,
                "description": issue.description,
                "confidential": issue.confidential,
                "labels": list(issue.labels),
                "state": issue.state,
            }
            changed = {k: {"previous": before[k], "current": after[k]} for k in before}
            changed = {k: v for k, v in changed.items() if v["previous"] != v["current"]}
            if not changed:
                return issue
            changed["updated_at"] = {"previous": issue.updated_at, "current": now}
            changed["updated_by_id"] = {
                "previous": issue.updated_by.id if issue.updated_by else None,
                "current": actor.id,
            }
            issue.updated_at = now
            issue.updated_by = actor
            action = "update"
            if "state" in changed:
                action = "close" if issue.state == "closed" else "reopen"
            change = Change(
                kind="issue",
                action=action,
                project=project,
                issue=issue,
                actor=actor,
                changes=changed,
            )
            self.on_change(change)
            return issue

    def delete_issue(self, project: Project, issue: Issue) -> None:
        with self.lock:
            project.issues.pop(issue.iid, None)

    def list_issues(self, project: Project, query: dict[str, Any]) -> list[Issue]:
        with self.lock:
            issues = list(project.issues.values())
        state = query.get("state")
        if state in ("opened", "closed"):
            issues = [i for i in issues if i.state == state]
        if query.get("labels"):
            wanted = _split_labels(query["labels"])
            if wanted == ["None"]:
                issues = [i for i in issues if not i.labels]
            elif wanted == ["Any"]:
                issues = [i for i in issues if i.labels]
            else:
                issues = [i for i in issues if all(name in i.labels for name in wanted)]
        if query.get("iids"):
            iids = {int(x) for x in query["iids"]}
            issues = [i for i in issues if i.iid in iids]
        if "confidential" in query:
            flag = _bool(query["confidential"])
            issues = [i for i in issues if i.confidential == flag]
        for key, keep in (
            ("updated_after", lambda i, t: i.updated_at >= t),
            ("updated_before", lambda i, t: i.updated_at <= t),
            ("created_after", lambda i, t: i.created_at >= t),
            ("created_before", lambda i, t: i.created_at <= t),
        ):
            if query.get(key):
                moment = parse_time(query[key])
                issues = [i for i in issues if keep(i, moment)]
        order_by = query.get("order_by") or "created_at"
        if order_by not in ("created_at", "updated_at", "title", "relative_position"):
            raise ValidationError({"error": "order_by does not have a valid value"})
        sort = query.get("sort") or "desc"
        if sort not in ("asc", "desc"):
            raise ValidationError({"error": "sort does not have a valid value"})
        key = {
            "created_at": lambda i: (i.created_at, i.id),
            "updated_at": lambda i: (i.updated_at, i.id),
            "title": lambda i: (i.title, i.id),
            "relative_position": lambda i: i.id,
        }[order_by]
        return sorted(issues, key=key, reverse=sort == "desc")

    # -- notes -------------------------------------------------------------

    def create_note(
        self,
        project: Project,
        issue: Issue,
        params: dict[str, Any],
        actor: User,
        *,
        system: bool = False,
        discussion_id: str | None = None,
    ) -> Note:
        with self.lock:
            body = params.get("body")
            if body is None or not str(body).strip():
                raise ValidationError({"error": "body is missing"})
            if len(body) > NOTE_LIMIT:
                raise ValidationError({"message": {"note": [f"is too long (maximum is {NOTE_LIMIT} characters)"]}})
            if not system:
                # Notes::CreateService runs the comment's quick actions as its writer, then saves the rest.
                body = self._run_note_quick_actions(project, issue, str(body), actor)
            internal = _bool(params.get("internal", params.get("confidential", False)))
            now = self.clock.now()
            note = Note(
                id=self.next_id(),
                body=str(body),
                author=actor,
                created_at=now,
                updated_at=now,
                system=system,
                internal=internal,
                discussion_id=discussion_id or secrets.token_hex(20),
                individual_note=discussion_id is None,
            )
            if discussion_id is not None:
                # A reply turns the lone comment it answers into a thread (Discussion#convert_to_discussion!).
                for other in issue.notes.values():
                    if other.discussion_id == discussion_id:
                        other.individual_note = False
            issue.notes[note.id] = note
            # Note#touch_noteable: a comment, even a system note, moves its issue's updated_at.
            issue.updated_at = now
            change = Change(kind="note", action="create", project=project, issue=issue, actor=actor, note=note)
            self.on_change(change)
            return note

    def _run_note_quick_actions(self, project: Project, issue: Issue, body: str, actor: User) -> str:
        """The comment's text once GitLab has run its quick actions (as ``actor``) and taken them out."""
        text, actions = run_quick_actions(body)
        changes: dict[str, Any] = {}
        if actions["add_labels"]:
            changes["add_labels"] = ",".join(actions["add_labels"])
        if actions["remove_labels"]:
            changes["remove_labels"] = ",".join(actions["remove_labels"])
        if actions["confidential"]:
            changes["confidential"] = True
        if changes:
            self.edit_issue(project, issue, changes, actor)
        if text == body.rstrip():
            return body
        if not text.strip():
            raise CommandsOnly(changes)
        return text

    def find_note(self, issue: Issue, note_id: str) -> Note:
        try:
            return issue.notes[int(note_id)]
        except (KeyError, ValueError):
            raise NotFound("Note") from None

    def edit_note(self, project: Project, issue: Issue, note: Note, params: dict[str, Any], actor: User) -> Note:
        with self.lock:
            body = params.get("body")
            if body is None or not str(body).strip():
                raise ValidationError({"error": "body is missing"})
            if len(body) > NOTE_LIMIT:
                raise ValidationError({"message": {"note": [f"is too long (maximum is {NOTE_LIMIT} characters)"]}})
            if body == note.body:
                return note
            note.body = str(body)
            note.updated_at = issue.updated_at = self.clock.now()
            change = Change(kind="note", action="update", project=project, issue=issue, actor=actor, note=note)
            self.on_change(change)
            return note

    def delete_note(self, issue: Issue, note: Note) -> None:
        with self.lock:
            issue.notes.pop(note.id, None)

    # -- hooks -------------------------------------------------------------

    def save_hook(self, project: Project, params: dict[str, Any], hook: Hook | None = None) -> Hook:
        with self.lock:
            url = params.get("url", hook.url if hook else None)
            if not url:
                raise ValidationError({"error": "url is missing"})
            if hook is None:
                hook = Hook(
                    id=self.next_id(),
                    url=url,
                    token=params.get("token") or None,
                    created_at=self.clock.now(),
                    # GitLab defaults push_events to true and the rest to false.
                )
                project.hooks[hook.id] = hook
            hook.url = url
            if "token" in params:
                hook.token = params["token"] or None
            for flag in Hook.EVENT_FLAGS:
                if flag in params:
                    setattr(hook, flag, _bool(params[flag]))
            return hook

    def find_hook(self, project: Project, hook_id: str) -> Hook:
        try:
            return project.hooks[int(hook_id)]
        except (KeyError, ValueError):
            raise NotFound("Hook") from None


def parse_time(value: str) -> datetime:
    text = str(value).strip().replace(" UTC", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
