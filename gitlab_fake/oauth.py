"""The fake GitLab's OAuth 2 provider: enough of GitLab's "Sign in with GitLab" for Stagegate to log people in.

GitLab's endpoints (doc/api/oauth2.md): ``GET /oauth/authorize`` asks the person to approve
the application, then redirects to ``redirect_uri`` with ``code`` and ``state``; ``POST
/oauth/token`` trades the code for an access token; ``GET /api/v4/user`` with that token
says who signed in. Here the approval is automatic, as the person chosen with
``sign_in_as`` (the fake's human user by default), and the access token is an ordinary
token of the fake, so ``/api/v4/user`` needs nothing new.

    provider = oauth.provider_for(fake.app)
    provider.sign_in_as(fake.store.add_user("ada", "Ada Lovelace"))
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Request, Response

from .state import User

CLIENT_ID = "stagegate-oauth-app"
CLIENT_SECRET = "stagegate-oauth-secret"
CODE_LIFETIME = 600  # seconds, as GitLab
TOKEN_LIFETIME = 7200


@dataclass
class Grant:
    code: str
    client_id: str
    redirect_uri: str
    user: User
    scope: str
    expires_at: float


def _error(status: int, error: str, description: str) -> Response:
    body = json.dumps({"error": error, "error_description": description})
    return Response(body, status=status, mimetype="application/json")


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


class OAuthProvider:
    """GitLab as an OAuth 2 authorization server, with one registered application by default."""

    def __init__(self, app) -> None:
        self.app = app
        self.clients: dict[str, str] = {CLIENT_ID: CLIENT_SECRET}
        self.grants: dict[str, Grant] = {}
        self.issued: list[str] = []
        self._user: User | None = None
        self._lock = threading.Lock()
        # Group and project memberships, as ``GET /api/v4/{groups|projects}/:id/members/all/:user_id`` answers.
        self.members: dict[tuple[str, str], set[int]] = {}

    # -- test helpers ------------------------------------------------------

    def register_client(self, client_id: str, secret: str) -> None:
        with self._lock:
            self.clients[client_id] = secret

    def add_member(self, kind: str, path: str, user: User) -> None:
        """Make `user` a member of the group or project (`kind` "groups" or "projects") at `path`."""
        with self._lock:
            self.members.setdefault((kind, path), set()).add(user.id)

    def membership(self, request: Request, raw: str, user: User | None) -> Response:
        """GitLab's member lookup (inherited members included); needs a token with ``read_api``."""
        match = MEMBER_PATH.fullmatch(raw)
        if user is None:
            return _error(401, "unauthorized", "401 Unauthorized")
        kind, path, member = match.group("kind"), unquote(match.group("id")), int(match.group("user"))
        if (kind, path) not in self.members:
            return Response(
                json.dumps({"message": f"404 {kind[:-1].title()} Not Found"}), 404, mimetype="application/json"
            )
        if member not in self.members[(kind, path)]:
            return Response(json.dumps({"message": "404 Not found"}), 404, mimetype="application/json")
        body = {"id": member, "access_level": 30, "state": "active"}
        return Response(json.dumps(body), 200, mimetype="application/json")

    def sign_in_as(self, user: User | None) -> None:
        """Who approves the next authorizations (None: the fake's human user)."""
        self._user = user

    # -- endpoints ---------------------------------------------------------

    def dispatch(self, request: Request, path: str) -> Response:
        if path == "/oauth/authorize" and request.method == "GET":
            return self.authorize(request)
        if path == "/oauth/token" and request.method == "POST":
            return self.token(request)
        return _error(404, "not_found", "No such OAuth endpoint.")

    def authorize(self, request: Request) -> Response:
        client_id = request.args.get("client_id", "")
        redirect_uri = request.args.get("redirect_uri", "")
        if client_id not in self.clients or not redirect_uri.startswith(("http://", "https://")):
            # GitLab shows an error page instead of redirecting to an address it cannot trust.
            return _error(400, "invalid_client", "Client authentication failed due to unknown client.")
        state = request.args.get("state")
        extra = {"state": state} if state is not None else {}
        if request.args.get("response_type") != "code":
            error = {"error": "unsupported_response_type", **extra}
            return Response(status=302, headers={"Location": _with_query(redirect_uri, error)})
        user = self._user or self.app.store.human
        grant = Grant(
            code=secrets.token_hex(32),
            client_id=client_id,
            redirect_uri=redirect_uri,
            user=user,
            scope=request.args.get("scope", "read_user"),
            expires_at=time.time() + CODE_LIFETIME,
        )
        with self._lock:
            self.grants[grant.code] = grant
        location = _with_query(redirect_uri, {"code": grant.code, **extra})
        return Response(status=302, headers={"Location": location})

    def _client(self, request: Request) -> tuple[str, str]:
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return "", ""
            return client_id, secret
        return request.form.get("client_id", ""), request.form.get("client_secret", "")

    def token(self, request: Request) -> Response:
        client_id, secret = self._client(request)
        if self.clients.get(client_id) != secret or not secret:
            return _error(401, "invalid_client", "Client authentication failed due to unknown client.")
        if request.form.get("grant_type") != "authorization_code":
            return _error(400, "unsupported_grant_type", "Only the authorization code grant is supported here.")
        with self._lock:
            grant = self.grants.pop(request.form.get("code", ""), None)  # a code is good for one exchange
        if (
            grant is None
            or grant.client_id != client_id
            or grant.redirect_uri != request.form.get("redirect_uri")
            or grant.expires_at < time.time()
        ):
            return _error(
                400,
                "invalid_grant",
                "The provided authorization grant is invalid, expired, revoked, does not match the redirection "
                "URI used in the authorization request, or was issued to another client.",
            )
        access_token = secrets.token_hex(32)
        with self.app.store.lock:
            self.app.store.tokens[access_token] = grant.user
        self.issued.append(access_token)
        body = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "refresh_token": secrets.token_hex(32),
            "scope": grant.scope,
            "created_at": int(time.time()),
        }
        return Response(json.dumps(body), status=200, mimetype="application/json")


MEMBER_PATH = re.compile(r"/api/v4/(?P<kind>groups|projects)/(?P<id>[^/]+)/members/all/(?P<user>\d+)")

_providers_lock = threading.Lock()


def provider_for(app) -> OAuthProvider:
    """The OAuth provider of one fake GitLab app, made on first use."""
    with _providers_lock:
        provider = getattr(app, "_oauth_provider", None)
        if provider is None:
            provider = app._oauth_provider = OAuthProvider(app)
        return provider
