"""Webhook payloads shaped like GitLab's, and their asynchronous delivery.

Payload shapes follow the saved examples in shared/gitlab/ (Issue Hook, Note
Hook). Deliveries leave from a background thread, as GitLab's Sidekiq
``WebHookWorker`` does, with GitLab's delivery headers.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from .state import Change, Hook, Issue, Label, Project, User
from .versions import VersionProfile

DELIVERY_TIMEOUT = 10  # seconds, GitLab.com's webhook timeout


def _hook_time(value: datetime | None) -> str | None:
    """The ``2013-12-03T17:15:43Z`` form used in ``object_attributes``."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _utc_time(value: datetime | None) -> str | None:
    """The ``2017-09-15 16:50:55 UTC`` form used in ``changes`` and notes."""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else None


def _user(user: User, base_url: str) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "username": user.username,
        "avatar_url": f"{base_url}/uploads/-/system/user/avatar/{user.id}/avatar.png",
        "email": "[REDACTED]",
    }


def _project(project: Project, base_url: str) -> dict[str, Any]:
    web_url = f"{base_url}/{project.path_with_namespace}"
    namespace = project.path_with_namespace.rsplit("/", 1)[0]
    return {
        "id": project.id,
        "name": project.name,
        "description": "",
        "web_url": web_url,
        "avatar_url": None,
        "git_ssh_url": f"git@fake-gitlab:{project.path_with_namespace}.git",
        "git_http_url": f"{web_url}.git",
        "namespace": namespace,
        "visibility_level": 0,
        "path_with_namespace": project.path_with_namespace,
        "default_branch": "main",
        "ci_config_path": None,
        "homepage": web_url,
        "url": f"{web_url}.git",
        "ssh_url": f"git@fake-gitlab:{project.path_with_namespace}.git",
        "http_url": f"{web_url}.git",
    }


def _repository(project: Project, base_url: str) -> dict[str, Any]:
    web_url = f"{base_url}/{project.path_with_namespace}"
    return {
        "name": project.name,
        "url": f"{web_url}.git",
        "description": "",
        "homepage": web_url,
    }


def _label(label: Label, project: Project) -> dict[str, Any]:
    return {
        "id": label.id,
        "title": label.name,
        "color": label.color,
        "project_id": project.id,
        "created_at": _hook_time(label.created_at),
        "updated_at": _hook_time(label.created_at),
        "template": False,
        "description": label.description,
        "type": "ProjectLabel",
        "group_id": None,
    }


def _labels(names: list[str], project: Project) -> list[dict[str, Any]]:
    return [_label(project.labels[name], project) for name in names if name in project.labels]


def _issue_attributes(issue: Issue, project: Project, base_url: str) -> dict[str, Any]:
    return {
        "id": issue.id,
        "title": issue.title,
        "assignee_ids": [],
        "assignee_id": None,
        "author_id": issue.author.id,
        "project_id": project.id,
        "created_at": _hook_time(issue.created_at),
        "updated_at": _hook_time(issue.updated_at),
        "updated_by_id": issue.updated_by.id if issue.updated_by else None,
        "last_edited_at": None,
        "last_edited_by_id": None,
        "relative_position": 0,
        "description": issue.description,
        "milestone_id": None,
        "state_id": 1 if issue.state == "opened" else 2,
        "confidential": issue.confidential,
        "discussion_locked": None,
        "due_date": None,
        "moved_to_id": issue.moved_to_id,
        "duplicated_to_id": issue.duplicated_to_id,
        "time_estimate": 0,
        "total_time_spent": 0,
        "time_change": 0,
        "human_total_time_spent": None,
        "human_time_estimate": None,
        "human_time_change": None,
        "weight": None,
        "health_status": None,
        "type": "Issue",
        "iid": issue.iid,
        "url": f"{base_url}/{project.path_with_namespace}/-/issues/{issue.iid}",
        "state": issue.state,
        "severity": "unknown",
        "labels": _labels(issue.labels, project),
    }


def _changes(change: Change) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in change.changes.items():
        previous, current = value["previous"], value["current"]
        if key == "labels":
            previous = _labels(previous, change.project)
            current = _labels(current, change.project)
        elif key == "updated_at":
            previous, current = _utc_time(previous), _utc_time(current)
        elif key == "state":
            # GitLab reports the state change as state_id (1 opened, 2 closed).
            key = "state_id"
            previous = 1 if previous == "opened" else 2
            current = 1 if current == "opened" else 2
        out[key] = {"previous": previous, "current": current}
    return out


def build_issue_payload(change: Change, base_url: str, *, work_item: bool = False) -> dict[str, Any]:
    issue, project = change.issue, change.project
    attributes = _issue_attributes(issue, project, base_url)
    attributes["action"] = change.action
    kind = "work_item" if work_item else "issue"
    return {
        "object_kind": kind,
        "event_type": f"confidential_{kind}" if issue.confidential and not work_item else kind,
        "user": _user(change.actor, base_url),
        "project": _project(project, base_url),
        "object_attributes": attributes,
        "repository": _repository(project, base_url),
        "assignees": [],
        "assignee": None,
        "labels": _labels(issue.labels, project),
        "changes": _changes(change),
    }


def build_note_payload(change: Change, base_url: str) -> dict[str, Any]:
    issue, project, note = change.issue, change.project, change.note
    assert note is not None
    confidential = issue.confidential or note.internal
    issue_json = _issue_attributes(issue, project, base_url)
    issue_json["created_at"] = _utc_time(issue.created_at)
    issue_json["updated_at"] = _utc_time(issue.updated_at)
    return {
        "object_kind": "note",
        "event_type": "confidential_note" if confidential else "note",
        "user": _user(change.actor, base_url),
        "project_id": project.id,
        "project": _project(project, base_url),
        "repository": _repository(project, base_url),
        "object_attributes": {
            "id": note.id,
            "note": note.body,
            "noteable_type": "Issue",
            "author_id": note.author.id,
            "created_at": _utc_time(note.created_at),
            "updated_at": _utc_time(note.updated_at),
            "project_id": project.id,
            "attachment": None,
            "line_code": None,
            "commit_id": "",
            "noteable_id": issue.id,
            "discussion_id": note.discussion_id,
            "type": None if note.individual_note else "DiscussionNote",
            "system": note.system,
            "st_diff": None,
            "internal": note.internal,
            "confidential": note.internal,
            "action": change.action,
            "url": f"{base_url}/{project.path_with_namespace}/-/issues/{issue.iid}#note_{note.id}",
        },
        "issue": issue_json,
    }


def rails_json(payload: dict[str, Any]) -> bytes:
    """JSON as Rails writes it (ActiveSupport::JSON): UTF-8 as is, but ``<``, ``>``, ``&`` and the
    line separators U+2028/U+2029 escaped, so a description full of HTML grows six-fold per copy."""
    text = json.dumps(payload, ensure_ascii=False)
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text.encode()


def event_for(change: Change) -> tuple[str, str]:
    """(X-Gitlab-Event header, hook flag that must be on) for a change."""
    if change.kind == "issue":
        if change.issue.confidential:
            return "Confidential Issue Hook", "confidential_issues_events"
        return "Issue Hook", "issues_events"
    note = change.note
    if change.issue.confidential or (note is not None and note.internal):
        return "Confidential Note Hook", "confidential_note_events"
    return "Note Hook", "note_events"


@dataclass
class Delivery:
    """One webhook request: what was (or will be) sent, and what came back."""

    hook_id: int
    url: str
    event: str
    headers: dict[str, str]
    body: bytes
    idempotency_key: str
    hook: Hook | None = field(default=None, repr=False, compare=False)
    status_code: int | None = None
    error: str | None = None
    sent_at: float | None = None
    copy: int = 0

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class HookControls:
    """What the next deliveries should suffer."""

    drop: int = 0
    duplicate: int = 0
    delay: float = 0.0
    hold: bool = False
    held: list[Delivery] = field(default_factory=list)


class Dispatcher:
    """Sends deliveries from one background thread, in due-time order."""

    def __init__(self, base_url_getter, profile: VersionProfile | None = None) -> None:
        self._base_url = base_url_getter
        self.profile = profile or VersionProfile()
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, Delivery]] = []
        self._seq = itertools.count()
        self._inflight = 0
        self._stopping = False
        self.controls = HookControls()
        self.log: list[Delivery] = []
        self.dropped: list[Delivery] = []
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name="fake-gitlab-hooks", daemon=True)
        self._thread.start()

    # -- producing ---------------------------------------------------------

    def on_change(self, change: Change) -> None:
        if change.kind == "note" and change.note is not None and change.note.system:
            return  # Notes::PostProcessService: "Skip system notes" - no Note Hook for them
        if change.kind == "note" and change.action == "update" and not self.profile.note_edit_hooks:
            return  # no hook for an edited comment before 16.11
        base_url = self._base_url()
        event, flag = event_for(change)
        if change.kind == "issue":
            payload = build_issue_payload(change, base_url, work_item=self.profile.work_item_payloads)
        else:
            payload = build_note_payload(change, base_url)
        body = rails_json(payload)
        now = datetime.now(UTC)
        for hook in list(change.project.hooks.values()):
            # A disabled hook is not executed: the event is lost for it, not queued.
            if getattr(hook, flag) and hook.executable(now):
                self.submit(self._delivery(hook, event, body, base_url))

    def _delivery(self, hook: Hook, event: str, body: bytes, base_url: str) -> Delivery:
        key = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": self.profile.user_agent,
            "X-Gitlab-Event": event,
            "X-Gitlab-Instance": base_url,
            "X-Gitlab-Event-UUID": str(uuid.uuid4()),
        }
        if self.profile.idempotency_key:
            headers["Idempotency-Key"] = key
        if hook.token:
            headers["X-Gitlab-Token"] = hook.token.replace("\n", "").replace("\r", "")
        return Delivery(
            hook_id=hook.id,
            url=hook.url,
            event=event,
            headers=headers,
            body=body,
            idempotency_key=key,
            hook=hook,
        )

    def submit(self, delivery: Delivery) -> None:
        with self._cond:
            controls = self.controls
            if controls.drop > 0:
                controls.drop -= 1
                self.dropped.append(delivery)
                return
            copies = [delivery]
            if controls.duplicate > 0:
                controls.duplicate -= 1
                copies.append(self.resend_copy(delivery))
            if controls.hold:
                controls.held.extend(copies)
                return
            for item in copies:
                self._push(item, controls.delay)

    def resend_copy(self, delivery: Delivery) -> Delivery:
        """A retry of ``delivery``: same body and Idempotency-Key, new webhook UUID."""
        headers = dict(delivery.headers)
        return Delivery(
            hook_id=delivery.hook_id,
            url=delivery.url,
            event=delivery.event,
            headers=headers,
            body=delivery.body,
            idempotency_key=delivery.idempotency_key,
            hook=delivery.hook,
            copy=delivery.copy + 1,
        )

    def resend(self, delivery: Delivery) -> None:
        with self._cond:
            self._push(self.resend_copy(delivery), 0)

    def release(self, *, reverse: bool = False) -> int:
        """Send the held deliveries (newest first when ``reverse``)."""
        with self._cond:
            held = self.controls.held
            self.controls.held = []
            self.controls.hold = False
            if reverse:
                held.reverse()
            for index, item in enumerate(held):
                # Spread the due times a little so the order is kept.
                self._push(item, index * 0.001)
            return len(held)

    def _push(self, delivery: Delivery, delay: float) -> None:
        heapq.heappush(self._queue, (time.monotonic() + delay, next(self._seq), delivery))
        self._cond.notify_all()

    # -- consuming ---------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if self._queue and self._queue[0][0] <= time.monotonic():
                        break
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cond.wait(timeout)
                if self._stopping:
                    return
                _, _, delivery = heapq.heappop(self._queue)
                self._inflight += 1
            try:
                self._send(delivery)
            finally:
                with self._cond:
                    self._inflight -= 1
                    self.log.append(delivery)
                    self._cond.notify_all()

    def _send(self, delivery: Delivery) -> None:
        headers = dict(delivery.headers)
        # A fresh X-Gitlab-Webhook-UUID per attempt, as WebHookService does.
        headers["X-Gitlab-Webhook-UUID"] = str(uuid.uuid4())
        delivery.headers = headers
        delivery.sent_at = time.time()
        try:
            response = self._session.post(delivery.url, data=delivery.body, headers=headers, timeout=DELIVERY_TIMEOUT)
            delivery.status_code = response.status_code
        except requests.RequestException as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
        hook = delivery.hook
        if hook is not None:
            # 2xx and 3xx count as delivered; anything else (timeouts too) as a failure.
            if delivery.status_code is not None and delivery.status_code < 400:
                hook.record_success()
            else:
                client_error = delivery.status_code is not None and delivery.status_code < 500
                hook.record_failure(
                    datetime.now(UTC), client_error=client_error, failures_alike=self.profile.failures_disable_alike
                )

    def test_hook(self, hook: Hook, body: bytes) -> Delivery:
        """The hook settings' "Test" button: one delivery, now; a success enables a disabled hook again."""
        delivery = self._delivery(hook, "Issue Hook", body, self._base_url())
        self._send(delivery)
        with self._cond:
            self.log.append(delivery)
        return delivery

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or in flight (held ones excepted)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._inflight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def reset(self) -> None:
        with self._cond:
            self._queue.clear()
            self.controls = HookControls()
            self.log = []
            self.dropped = []
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=5)
        self._session.close()
