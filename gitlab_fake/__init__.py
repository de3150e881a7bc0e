"""A fake GitLab on loopback, as GitLab behaves, for Stagegate's tests and demo.

fake = FakeGitLab().start()          # threaded server on 127.0.0.1:<free port>
fake.url, fake.token, fake.project   # what Stagegate's settings need
fake.human_edit(iid, description=…)  # someone else edits the issue on GitLab
fake.fail("issues.edit", status=500, times=3)
fake.hooks.drop(1); fake.hooks.duplicate(1); fake.hooks.hold(); fake.hooks.release(reverse=True)
fake.requests_to("issues.edit")      # request log
fake.deliveries()                    # delivered-hook log
fake.reset()                         # between tests
FakeGitLab(version="16.5")           # a GitLab release's webhook behaviour (gitlab_fake.versions)
"""

from __future__ import annotations

import threading
import time
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.test import EnvironBuilder

from . import collab
from .app import FakeGitLabApp, RequestRecord
from .faults import Fault
from .hooks import Delivery, Dispatcher
from .state import Hook, Issue, Note, Project, Store, User

__all__ = ["Delivery", "FakeGitLab", "Fault", "RequestRecord"]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


class HookControl:
    """Tell the fake what to do with the next webhook deliveries."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    def drop(self, count: int = 1) -> None:
        """Never send the next ``count`` deliveries (kept in ``dropped``)."""
        self._dispatcher.controls.drop += count

    def duplicate(self, count: int = 1) -> None:
        """Send each of the next ``count`` deliveries twice, same Idempotency-Key."""
        self._dispatcher.controls.duplicate += count

    def delay(self, seconds: float) -> None:
        """Send every following delivery ``seconds`` late."""
        self._dispatcher.controls.delay = seconds

    def hold(self) -> None:
        """Keep deliveries back until ``release()``."""
        self._dispatcher.controls.hold = True

    def release(self, *, reverse: bool = False) -> int:
        """Send what was held, newest first when ``reverse`` (out of order)."""
        return self._dispatcher.release(reverse=reverse)

    def resend(self, delivery: Delivery) -> None:
        """GitLab's "Resend request": same body, same Idempotency-Key."""
        self._dispatcher.resend(delivery)

    @property
    def dropped(self) -> list[Delivery]:
        return list(self._dispatcher.dropped)

    @property
    def held(self) -> list[Delivery]:
        return list(self._dispatcher.controls.held)


class FakeGitLab:
    """A threaded HTTP server around :class:`FakeGitLabApp` plus test helpers."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        quiet: bool = True,
        prefix: str = "",
        version: str | None = None,
    ) -> None:
        """``version`` picks the GitLab release the fake plays (``gitlab_fake.versions``), e.g. ``"16.5"``."""
        self.app = FakeGitLabApp(prefix=prefix, version=version)
        self._host, self._port, self._quiet = host, port, quiet
        self._server = None
        self._thread: threading.Thread | None = None
        self.hooks = HookControl(self.app.dispatcher)

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> FakeGitLab:
        handler = _QuietHandler if self._quiet else WSGIRequestHandler
        self._server = make_server(self._host, self._port, self.app, threaded=True, request_handler=handler)
        self._server.daemon_threads = True
        self.app.base_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-gitlab", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.app.dispatcher.stop()

    def __enter__(self) -> FakeGitLab:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every issue, hook, fault and log entry; keep the server up."""
        self.app.faults.clear()
        self.app.before.clear()
        self.app.dispatcher.reset()
        self.app.store.reset()
        self.app.total_threshold = 10_000
        self.app.external_url = None
        with self.app._log_lock:
            self.app.request_log.clear()
        self.app.base_url = self.url

    # -- what clients need -------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://{self._host}:{self._server.server_port}{self.app.prefix}"

    @property
    def external_url(self) -> str | None:
        return self.app.external_url

    @external_url.setter
    def external_url(self, value: str | None) -> None:
        """GitLab's configured external URL: web_url and Link headers are built from it."""
        self.app.external_url = value

    @property
    def store(self) -> Store:
        return self.app.store

    @property
    def token(self) -> str:
        return Store.BOT_TOKEN

    @property
    def human_token(self) -> str:
        return Store.HUMAN_TOKEN

    @property
    def project(self) -> Project:
        return self.app.store.project

    @property
    def bot(self) -> User:
        return self.app.store.bot

    @property
    def human(self) -> User:
        return self.app.store.human

    def revoke_token(self, token: str | None = None) -> None:
        self.app.store.revoke_token(token or self.token)

    def forbid_label_creation(self, user: User | None = None) -> None:
        """``user`` (the bot by default) may no longer create labels: writes drop unknown ones silently."""
        with self.app.store.lock:
            self.app.store.label_creation_forbidden.add((user or self.bot).id)

    def set_token_expiry(self, expires_at: str | None, token: str | None = None) -> None:
        """The token's ``expires_at`` (``YYYY-MM-DD``), as ``GET /personal_access_tokens/self`` shows it."""
        with self.app.store.lock:
            self.app.store.token_expires_at[token or self.token] = expires_at

    def set_token_scopes(self, scopes: list[str], token: str | None = None) -> None:
        """The token's scopes (the bot's by default); without ``api`` every write is a 403 ``insufficient_scope``."""
        with self.app.store.lock:
            self.app.store.token_scopes[token or self.token] = list(scopes)

    def expire_token(self, token: str | None = None) -> None:
        """The token passed its ``expires_at``: 401 with GitLab's ``error_description="Token has expired."``."""
        self.app.store.expire_token(token or self.token)

    def add_token(self, token: str, user: User | None = None) -> None:
        with self.app.store.lock:
            self.app.store.tokens[token] = user or self.bot

    # -- data helpers, acting as a person on GitLab ------------------------

    def issue(self, iid: int, project: Project | None = None) -> Issue:
        project = project or self.project
        return self.app.store.find_issue(project, iid)

    def issues(self, project: Project | None = None) -> list[Issue]:
        project = project or self.project
        with self.app.store.lock:
            return sorted(project.issues.values(), key=lambda i: i.iid)

    def create_issue(self, *, title: str, description: str = "", user: User | None = None, **attrs: Any) -> Issue:
        params = {"title": title, "description": description, **attrs}
        return self.app.store.create_issue(self.project, params, user or self.human)

    def human_edit(self, iid: int, *, user: User | None = None, **attrs: Any) -> Issue:
        """Edit an issue as a person on GitLab (fires hooks, bumps ``updated_at``)."""
        issue = self.issue(iid)
        return self.app.store.edit_issue(self.project, issue, attrs, user or self.human)

    def move_issue(self, iid: int, to: Project, *, user: User | None = None) -> Issue:
        """Move an issue to another project as a person on GitLab; returns the new issue."""
        return self.app.store.move_issue(self.project, self.issue(iid), to, user or self.human)

    def close_as_duplicate(self, iid: int, of_iid: int, *, user: User | None = None) -> None:
        self.app.store.close_as_duplicate(self.project, self.issue(iid), self.issue(of_iid), user or self.human)

    def human_comment(self, iid: int, body: str, *, internal: bool = False, user: User | None = None) -> Note:
        issue = self.issue(iid)
        return self.app.store.create_note(self.project, issue, {"body": body, "internal": internal}, user or self.human)

    def human_edit_comment(self, iid: int, note_id: int, body: str) -> Note:
        issue = self.issue(iid)
        note = self.app.store.find_note(issue, str(note_id))
        return self.app.store.edit_note(self.project, issue, note, {"body": body}, note.author)

    def human_reply(self, iid: int, discussion_id: str, body: str, *, user: User | None = None) -> Note:
        """Reply in a thread on GitLab (a lone comment becomes a thread)."""
        issue = self.issue(iid)
        return self.app.store.create_note(
            self.project, issue, {"body": body}, user or self.human, discussion_id=discussion_id
        )

    def human_delete_comment(self, iid: int, note_id: int) -> None:
        issue = self.issue(iid)
        self.app.store.delete_note(issue, self.app.store.find_note(issue, str(note_id)))

    def human_link(self, iid: int, target: Issue, link_type: str = "relates_to", *, user: User | None = None):
        """Link ``target`` to issue ``iid`` as a person does under "Linked items"."""
        target_project = self.app.store.projects[target.project_id]
        request = EnvironBuilder(method="POST").get_request()
        params = {"target_project_id": target_project.id, "target_issue_iid": target.iid, "link_type": link_type}
        return collab.create_link(
            self.app, request, params=params, user=user or self.human, project=self.project, iid=iid
        )

    def add_design(self, iid: int, filename: str, *, user: User | None = None):
        """Upload a design to the issue's Design Management area."""
        return collab.add_design(self.app, self.project, self.issue(iid), filename, user or self.human)

    def remove_design(self, iid: int, filename: str, *, user: User | None = None) -> None:
        collab.remove_design(self.app, self.project, self.issue(iid), filename, user or self.human)

    def add_hook(self, url: str, *, token: str | None = None, **flags: bool) -> Hook:
        """Register a project hook for issue and note events (confidential too)."""
        params: dict[str, Any] = {
            "url": url,
            "token": token,
            "issues_events": True,
            "confidential_issues_events": True,
            "note_events": True,
            "confidential_note_events": True,
        }
        params.update(flags)
        return self.app.store.save_hook(self.project, params)

    def test_hook(self, hook: Hook) -> Delivery:
        """Press the webhook's "Test" button (an issue event of the project's newest issue, or a bare one)."""
        from .hooks import build_issue_payload, rails_json
        from .state import Change

        issues = self.issues()
        if issues:
            change = Change(kind="issue", action="update", project=self.project, issue=issues[-1], actor=self.human)
            body = rails_json(build_issue_payload(change, self.url))
        else:
            body = rails_json({"object_kind": "issue", "event_type": "issue", "object_attributes": {}})
        return self.app.dispatcher.test_hook(hook, body)

    # -- faults ------------------------------------------------------------

    def fail(
        self,
        route: str = "*",
        *,
        status: int | None = 500,
        times: int | None = 1,
        seconds: float | None = None,
        method: str | None = None,
        retry_after: int = 1,
        hang: float = 0.0,
        reset: bool = False,
        location: str = "",
        spam: bool = False,
    ) -> Fault:
        """Make matching requests fail, ``times`` times or for ``seconds``.

        ``fail("issues.edit", status=429, retry_after=2)``; ``fail("*",
        status=503, times=None, seconds=5)``; ``fail("issues.get",
        status=None, hang=3)`` answers normally, 3 s late; ``reset=True`` drops the connection;
        ``status=302, location=url`` redirects; ``status=409, spam=True`` is the spam check's CAPTCHA demand.
        """
        until = time.monotonic() + seconds if seconds is not None else None
        if seconds is not None and times == 1:
            times = None
        fault = Fault(
            route=route,
            method=method,
            status=status,
            times=times,
            until=until,
            retry_after=retry_after,
            hang=hang,
            reset=reset,
            location=location,
            spam=spam,
        )
        return self.app.faults.add(fault)

    def before_request(self, route: str, action, *, after: int = 0) -> None:
        """Run ``action()`` (a person editing or commenting) just before the fake answers the
        (``after``+1)-th request to ``route`` from now: what happens on GitLab between two pages."""
        self.app.before.append([route, after, action])

    @property
    def version(self) -> str:
        return self.app.profile.version

    def heal(self) -> None:
        self.app.faults.clear()

    # -- introspection -----------------------------------------------------

    def requests_to(self, route: str | None = None, method: str | None = None) -> list[RequestRecord]:
        with self.app._log_lock:
            log = list(self.app.request_log)
        return [r for r in log if (route is None or r.route == route) and (method is None or r.method == method)]

    def clear_request_log(self) -> None:
        with self.app._log_lock:
            self.app.request_log.clear()

    def deliveries(self, event: str | None = None) -> list[Delivery]:
        log = list(self.app.dispatcher.log)
        return [d for d in log if event is None or d.event == event]

    def wait_for_hooks(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery has been sent (held ones excepted)."""
        return self.app.dispatcher.wait_idle(timeout)
