"""The one place Stagegate talks python-gitlab.

Every function returns plain dicts and raises one of the errors below, so the
sync layer decides what to retry without knowing python-gitlab's exceptions.
Retries happen in Celery (with backoff), never by sleeping inside a request.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import gitlab
import requests
from django.conf import settings


class GitLabError(Exception):
    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status
        self.message = message


class TransientGitLabError(GitLabError):
    """5xx, 409 resource lock, 429, timeouts, connection errors: try again later."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ConnectionBlocked(GitLabError):
    """GitLab refuses every request of this kind, not this one issue: the connection stops (one
    message for admins) until someone fixes the cause. ``reason`` says which."""

    def __init__(self, message: str, *, reason: str, status: int | None = None):
        super().__init__(message, status=status)
        self.reason = reason


class AuthenticationFailed(GitLabError):
    """401: the bot token is wrong, revoked or expired; stop all sync until it is fixed."""


class IssueNotFound(GitLabError):
    """404: the issue was deleted or moved, or the bot lost access."""


class PermanentGitLabError(GitLabError):
    """400/403/422: GitLab refuses this write; retrying the same request will not help."""


class SyncDisabled(GitLabError):
    """GITLAB_URL, GITLAB_TOKEN or GITLAB_PROJECT is not set."""


_last_response = threading.local()


def _remember_response(response: requests.Response, *args, **kwargs) -> None:
    # python-gitlab's errors drop the response headers; a 429's Retry-After matters, and a 401's
    # WWW-Authenticate says whether the token expired.
    _last_response.retry_after = response.headers.get("Retry-After")
    _last_response.authenticate = response.headers.get("WWW-Authenticate", "")


@functools.cache
def _client(url: str, token: str, timeout: float) -> gitlab.Gitlab:
    session = requests.Session()
    session.hooks["response"].append(_remember_response)
    # keep_base_url: GitLab builds Link headers from its external URL, which behind a proxy may not be
    # reachable from here; the next page is fetched from the URL we were given (path prefix included).
    return gitlab.Gitlab(
        url, private_token=token, timeout=timeout, retry_transient_errors=False, session=session, keep_base_url=True
    )


def client() -> gitlab.Gitlab:
    if not (settings.GITLAB_URL and settings.GITLAB_TOKEN and settings.GITLAB_PROJECT):
        raise SyncDisabled("GitLab sync is not configured (GITLAB_URL, GITLAB_TOKEN, GITLAB_PROJECT).")
    return _client(settings.GITLAB_URL, settings.GITLAB_TOKEN, settings.GITLAB_TIMEOUT)


# python-gitlab retries 429/5xx in a loop when asked to; we want one attempt and a clear error.
_ONE_TRY = {"obey_rate_limit": False, "retry_transient_errors": False}


def is_configured_project(project: str | int | None) -> bool:
    """Whether ``project`` (an id or a path, None for the default) is the configured project. GitLab
    paths are case-insensitive."""
    return project is None or str(project).casefold() == str(settings.GITLAB_PROJECT).casefold()


def _translate(exc: Exception, *, project: str | int | None = None, as_person: bool = False) -> GitLabError:
    """Our error for python-gitlab's or requests' ``exc``; ``project``: the project the request named
    (None: the configured one), since "404 Project Not Found" means something else for each.
    ``as_person``: sent with a person's own token, whose scope is theirs, not the connection's."""
    if isinstance(exc, requests.Timeout):
        return TransientGitLabError(f"GitLab did not answer in time ({exc.__class__.__name__})")
    if isinstance(exc, requests.RequestException):
        return TransientGitLabError(f"Could not reach GitLab: {exc.__class__.__name__}")
    if isinstance(exc, gitlab.RedirectError):
        return ConnectionBlocked(
            "GitLab redirected a write: GITLAB_URL has the wrong scheme or address (use the URL GitLab "
            f"redirects to). {exc.error_message}",
            reason="redirect",
        )
    if isinstance(exc, gitlab.GitlabAuthenticationError):
        expired = "expired" in (getattr(_last_response, "authenticate", "") or "").lower()
        why = "the token has expired; create a new one" if expired else "the token is wrong, revoked or expired"
        return AuthenticationFailed(f"GitLab rejected the bot token (401 Unauthorized): {why}", status=401)
    if isinstance(exc, gitlab.GitlabError):
        status = exc.response_code
        message = f"GitLab answered {status}: {exc.error_message}"
        body = exc.response_body or b""
        if status == 409 and b"needs_captcha_response" in body:
            return ConnectionBlocked(
                "GitLab's spam check held the bot's write and wants a CAPTCHA, which a bot cannot solve: "
                "make the bot user trusted (Admin > Users > Trust user) or lower the spam check. " + message,
                reason="captcha",
                status=409,
            )
        if status == 403 and b"insufficient_scope" in body and not as_person:
            # API::APIGuard refuses every write of a token without the `api` scope (read_api, read_user):
            # no proposal can be synced until the token changes.
            return ConnectionBlocked(
                "The GitLab bot token may only read: GitLab refuses its writes (403 insufficient_scope). "
                "Create a token with the api scope, set it as GITLAB_TOKEN, then resume sync.",
                reason="token_scope",
                status=403,
            )
        if status == 404 and "project not found" in str(exc.error_message).lower():
            if not is_configured_project(project):
                # Another project (one a moved issue went to): only the issues living there are out of reach.
                return IssueNotFound(
                    f"GitLab cannot find the project {project}: it was deleted or renamed, or the bot may no "
                    "longer read it. " + message,
                    status=404,
                )
            return ConnectionBlocked(
                f"GitLab cannot find the project {settings.GITLAB_PROJECT}: it was deleted or renamed, or the "
                "bot is no longer a member. " + message,
                reason="project_gone",
                status=404,
            )
        if status == 429:
            header = getattr(_last_response, "retry_after", None) or ""
            retry_after = float(header) if header.isdigit() else None
            return TransientGitLabError(message, status=status, retry_after=retry_after)
        if status is None or status >= 500 or status == 409:
            return TransientGitLabError(message, status=status)
        if status == 401:
            return AuthenticationFailed(message, status=status)
        if status == 404:
            return IssueNotFound(message, status=status)
        return PermanentGitLabError(message, status=status)
    raise exc


def _call(fn, *args, project: str | int | None = None, as_person: bool = False):
    """``fn(*args)``, its errors translated; ``project``: the project the request names (None: the
    configured one); ``as_person``: sent with a person's own token, not the bot's."""
    try:
        return fn(*args)
    except (gitlab.GitlabError, requests.RequestException) as exc:
        raise _translate(exc, project=project, as_person=as_person) from exc


def _issues_path(project: str | None = None) -> str:
    """The issues of ``project`` (an id or a path), the configured project by default."""
    return f"/projects/{quote(str(project or settings.GITLAB_PROJECT), safe='')}/issues"


def get_project() -> dict[str, Any]:
    """GET /projects/:id — https://docs.gitlab.com/api/projects/#get-a-single-project"""
    return _call(lambda: client().http_get(f"/projects/{quote(str(settings.GITLAB_PROJECT), safe='')}", **_ONE_TRY))


def token_self() -> dict[str, Any]:
    """GET /personal_access_tokens/self: the bot token's ``expires_at`` —
    https://docs.gitlab.com/api/personal_access_tokens/#get-single-personal-access-token"""
    return _call(lambda: client().http_get("/personal_access_tokens/self", **_ONE_TRY))


def list_hooks() -> list[dict[str, Any]]:
    """GET /projects/:id/hooks: each hook's ``alert_status`` (GitLab disables failing hooks) —
    https://docs.gitlab.com/api/project_webhooks/#list-webhooks-for-a-project"""
    path = f"/projects/{quote(str(settings.GITLAB_PROJECT), safe='')}/hooks"
    return _call(lambda: list(client().http_list(path, get_all=True, **_ONE_TRY)))


def get_issue(iid: int, *, project: str | None = None) -> dict[str, Any]:
    """GET /projects/:id/issues/:iid — https://docs.gitlab.com/api/issues/#single-project-issue"""
    return _call(lambda: client().http_get(f"{_issues_path(project)}/{iid}", **_ONE_TRY), project=project)


def create_issue(attrs: dict[str, Any]) -> dict[str, Any]:
    """POST /projects/:id/issues — https://docs.gitlab.com/api/issues/#new-issue"""
    return _call(lambda: client().http_post(_issues_path(), post_data=attrs, **_ONE_TRY))


def update_issue(iid: int, attrs: dict[str, Any], *, project: str | None = None) -> dict[str, Any]:
    """PUT /projects/:id/issues/:iid (only the attributes sent change; labels via
    add_labels/remove_labels) — https://docs.gitlab.com/api/issues/#edit-an-issue"""
    return _call(
        lambda: client().http_put(f"{_issues_path(project)}/{iid}", post_data=attrs, **_ONE_TRY), project=project
    )


def iter_issues(**filters: Any) -> Iterator[dict[str, Any]]:
    """GET /projects/:id/issues, every page (follows the Link header) —
    https://docs.gitlab.com/api/issues/#list-project-issues"""
    filters.setdefault("per_page", 100)
    listing = _call(lambda: client().http_list(_issues_path(), iterator=True, query_data=filters, **_ONE_TRY))
    while True:
        try:
            item = _call(next, listing)
        except StopIteration:
            return
        yield item


def list_issues_page(**filters: Any) -> list[dict[str, Any]]:
    """One page of GET /projects/:id/issues (``page``, ``per_page`` in ``filters``) —
    https://docs.gitlab.com/api/issues/#list-project-issues"""
    return _call(lambda: list(client().http_list(_issues_path(), query_data=filters, get_all=False, **_ONE_TRY)))


def list_notes(iid: int, *, project: str | None = None) -> list[dict[str, Any]]:
    """GET /projects/:id/issues/:iid/notes, every page, oldest first —
    https://docs.gitlab.com/api/notes/#list-project-issue-notes"""
    return _call(
        lambda: list(
            client().http_list(
                f"{_issues_path(project)}/{iid}/notes",
                query_data={"sort": "asc", "order_by": "created_at", "per_page": 100},
                get_all=True,
                **_ONE_TRY,
            )
        ),
        project=project,
    )


def create_note(iid: int, body: str, *, project: str | None = None) -> dict[str, Any]:
    """POST /projects/:id/issues/:iid/notes — https://docs.gitlab.com/api/notes/#create-new-issue-note"""
    path = f"{_issues_path(project)}/{iid}/notes"
    return _call(lambda: client().http_post(path, post_data={"body": body}, **_ONE_TRY), project=project)


# --- Linked issues, designs, discussions (issue 15) -------------------------------------------


def _as(token: str | None) -> gitlab.Gitlab:
    """The bot's client, or one acting with a person's own token (a comment posted as them)."""
    if token is None:
        return client()
    client()  # sync configured at all
    return _client(settings.GITLAB_URL, token, settings.GITLAB_TIMEOUT)


def list_issue_links(iid: int, *, project: str | None = None) -> list[dict[str, Any]]:
    """GET /projects/:id/issues/:iid/links: the linked issues the bot may read, each with
    ``issue_link_id`` and ``link_type`` — https://docs.gitlab.com/api/issue_links/#list-issue-relations"""
    return _call(
        lambda: list(client().http_list(f"{_issues_path(project)}/{iid}/links", get_all=True, **_ONE_TRY)),
        project=project,
    )


def create_issue_link(
    iid: int, *, target_project: str | int, target_iid: int, link_type: str, project: str | None = None
) -> dict[str, Any]:
    """POST /projects/:id/issues/:iid/links —
    https://docs.gitlab.com/api/issue_links/#create-an-issue-link"""
    data = {"target_project_id": str(target_project), "target_issue_iid": str(target_iid), "link_type": link_type}
    return _call(
        lambda: client().http_post(f"{_issues_path(project)}/{iid}/links", post_data=data, **_ONE_TRY), project=project
    )


def delete_issue_link(iid: int, link_id: int, *, project: str | None = None) -> None:
    """DELETE /projects/:id/issues/:iid/links/:issue_link_id —
    https://docs.gitlab.com/api/issue_links/#delete-an-issue-link"""
    _call(lambda: client().http_delete(f"{_issues_path(project)}/{iid}/links/{link_id}", **_ONE_TRY), project=project)


def list_discussions(iid: int, *, project: str | None = None) -> list[dict[str, Any]]:
    """GET /projects/:id/issues/:iid/discussions, every page: threads with their notes, system notes
    included — https://docs.gitlab.com/api/discussions/#list-project-issue-discussion-items"""
    return _call(
        lambda: list(
            client().http_list(
                f"{_issues_path(project)}/{iid}/discussions", query_data={"per_page": 100}, get_all=True, **_ONE_TRY
            )
        ),
        project=project,
    )


def create_discussion(iid: int, body: str, *, project: str | None = None, token: str | None = None) -> dict:
    """POST /projects/:id/issues/:iid/discussions: a new thread —
    https://docs.gitlab.com/api/discussions/#create-new-issue-thread"""
    path = f"{_issues_path(project)}/{iid}/discussions"
    return _call(
        lambda: _as(token).http_post(path, post_data={"body": body}, **_ONE_TRY),
        project=project,
        as_person=token is not None,
    )


def reply_to_discussion(
    iid: int, discussion_id: str, body: str, *, project: str | None = None, token: str | None = None
) -> dict:
    """POST /projects/:id/issues/:iid/discussions/:discussion_id/notes (a lone comment becomes a
    thread) — https://docs.gitlab.com/api/discussions/#add-note-to-existing-issue-thread"""
    path = f"{_issues_path(project)}/{iid}/discussions/{quote(discussion_id, safe='')}/notes"
    return _call(
        lambda: _as(token).http_post(path, post_data={"body": body}, **_ONE_TRY),
        project=project,
        as_person=token is not None,
    )


def update_note(iid: int, note_id: int, body: str, *, project: str | None = None, token: str | None = None) -> dict:
    """PUT /projects/:id/issues/:iid/notes/:note_id — https://docs.gitlab.com/api/notes/#modify-existing-issue-note"""
    path = f"{_issues_path(project)}/{iid}/notes/{note_id}"
    return _call(
        lambda: _as(token).http_put(path, post_data={"body": body}, **_ONE_TRY),
        project=project,
        as_person=token is not None,
    )


def delete_note(iid: int, note_id: int, *, project: str | None = None, token: str | None = None) -> None:
    """DELETE /projects/:id/issues/:iid/notes/:note_id — https://docs.gitlab.com/api/notes/#delete-an-issue-note"""
    _call(
        lambda: _as(token).http_delete(f"{_issues_path(project)}/{iid}/notes/{note_id}", **_ONE_TRY),
        project=project,
        as_person=token is not None,
    )


def designs_query(project_path: str, iid: int) -> str:
    """The designCollection query; values as JSON strings, which are valid GraphQL string literals."""
    # A design's versions come newest first: the first one's time is when the design last changed.
    fields = "nodes { id filename fullPath image imageV432x230 versions(first: 1) { nodes { createdAt } } }"
    issue = f"issue(iid: {json.dumps(str(iid))}) {{ designCollection {{ designs {{ {fields} }} }} }}"
    return f"query {{ project(fullPath: {json.dumps(project_path)}) {{ {issue} }} }}"


@functools.cache
def _graphql(url: str, token: str, timeout: float) -> gitlab.GraphQL:
    return gitlab.GraphQL(url, token=token, timeout=timeout, max_retries=0, obey_rate_limit=False)


def list_designs(iid: int, *, project_path: str) -> list[dict[str, Any]] | None:
    """The issue's designs through GitLab's GraphQL API (``designCollection``; Design Management has no
    REST list). None when GitLab answers that the project or issue is not visible —
    https://docs.gitlab.com/api/graphql/reference/#designcollection"""
    client()
    graphql = _graphql(settings.GITLAB_URL, settings.GITLAB_TOKEN, settings.GITLAB_TIMEOUT)
    try:
        import gql.transport.exceptions as gql_errors
        import httpx

        result = graphql.execute(designs_query(project_path, iid))
    except (gitlab.GitlabError, requests.RequestException) as exc:
        raise _translate(exc) from exc
    except httpx.TimeoutException as exc:
        raise TransientGitLabError(f"GitLab did not answer in time ({exc.__class__.__name__})") from exc
    except httpx.HTTPError as exc:
        raise TransientGitLabError(f"Could not reach GitLab: {exc.__class__.__name__}") from exc
    except gql_errors.TransportQueryError as exc:
        raise PermanentGitLabError(f"GitLab refused the designs query: {exc}") from exc
    issue = ((result or {}).get("project") or {}).get("issue")
    if issue is None:
        return None
    collection = issue.get("designCollection") or {}
    return list(((collection.get("designs") or {}).get("nodes")) or [])
