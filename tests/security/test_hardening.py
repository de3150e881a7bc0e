"""Production hardening: CSP, `check --deploy`, login throttling, secure cookies, secrets kept out of logs."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from gitlab_sync import failures, outbox
from gitlab_sync.models import SyncState, WebhookDelivery
from tests.factories import ProposalFactory
from tests.gitlab_sync.conftest import fake, fake_server  # noqa: F401  (the fake GitLab, as the sync tests use it)

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "stagegate-pass"

# What a production deployment sets; the secret is long and random-looking as `check --deploy` wants.
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "q8Vf3kZ0pLw2Yx7RmN4tB6sJ1cH9dG5eA-uKoPiTyWrEzXvQnMbCsDfGhJkLa",
    "ALLOWED_HOSTS": "stagegate.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://stagegate.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_PRELOAD": "1",
}


def production_python(code: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter configured from the production environment above."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_", "DEBUG"))}
    env.update(PRODUCTION_ENV, DJANGO_SETTINGS_MODULE="config.settings", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


# --- check --deploy and the cookie flags under production settings -------------------------------------


def test_check_deploy_is_clean_under_production_settings():
    result = production_python(
        "import sys; from django.core.management import execute_from_command_line;"
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_mark_cookies_secure_and_trust_the_proxys_https_header():
    result = production_python(
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SECURE_PROXY_SSL_HEADER,"
        " s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "True",
        "31536000",
        "True",
    ]


@pytest.fixture
def https_settings(settings):
    """The cookie and proxy settings production derives from SECURE_HTTPS (see the test above)."""
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    return settings


def test_behind_the_https_proxy_login_sets_secure_httponly_cookies_and_hsts(https_settings, author):
    browser = Client(enforce_csrf_checks=True, headers={"Host": "stagegate.example.com", "X-Forwarded-Proto": "https"})
    page = browser.get("/accounts/login/")
    assert page.status_code == 200
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] is True
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"

    response = browser.post(
        "/accounts/login/",
        {"username": author.username, "password": PASSWORD, "csrfmiddlewaretoken": csrf.value},
        headers={"Referer": "https://stagegate.example.com/accounts/login/"},
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"


def test_plain_http_is_redirected_to_https(https_settings, db):
    response = Client().get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"


# --- Content-Security-Policy ---------------------------------------------------------------------------


def test_pages_carry_a_csp_without_unsafe_inline_scripts_and_htmx_gets_the_nonce(author_client, proposal):
    response = author_client.get(f"/proposals/{proposal.pk}/edit/")
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
        if directive.strip()
    )
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert "'unsafe-inline'" not in policy.get("style-src", "")
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    nonce = policy["script-src"].split("'nonce-")[1].split("'")[0]
    html = response.content.decode()
    assert f'nonce="{nonce}"' in html  # on htmx's <script> tag
    assert html.count("<script") == html.count(f'nonce="{nonce}"')  # every script tag carries it
    # A fresh nonce per response.
    again = author_client.get(f"/proposals/{proposal.pk}/edit/")["Content-Security-Policy"]
    assert f"'nonce-{nonce}'" not in again


# --- login throttling (django-axes) --------------------------------------------------------------------


def log_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_repeated_failed_logins_lock_the_account_out_for_a_while(author, other_author):
    client = Client(REMOTE_ADDR="203.0.113.7")
    limit = django_settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        refused = log_in(client, author.username, "wrong password")
        assert refused.status_code == 200
        assert "Please enter a correct username and password" in refused.content.decode()
    locked = log_in(client, author.username, "still wrong")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()

    # Now even the right password is refused, from that address...
    assert log_in(client, author.username, PASSWORD).status_code == 429
    # ...while another person, and the same person from elsewhere, log in as usual.
    assert log_in(Client(REMOTE_ADDR="203.0.113.7"), other_author.username, PASSWORD).status_code == 302
    assert log_in(Client(REMOTE_ADDR="198.51.100.2"), author.username, PASSWORD).status_code == 302

    # After the cool-off the lock lifts.
    AccessAttempt.objects.update(attempt_time=timezone.now() - django_settings.AXES_COOLOFF_TIME - timedelta(minutes=1))
    assert log_in(client, author.username, PASSWORD).status_code == 302


# --- secrets never reach the logs ----------------------------------------------------------------------


def all_logged_text(caplog) -> str:
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        if record.exc_text:
            parts.append(record.exc_text)
    return "\n".join(parts)


def test_webhook_secret_and_gitlab_token_are_never_logged(fake, caplog, client, author):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    secret = django_settings.GITLAB_WEBHOOK_SECRET
    token = django_settings.GITLAB_TOKEN
    assert secret and token

    # A delivery with a wrong token is refused; neither token lands in the logs nor in the stored deliveries.
    near_miss = secret + "-typo"
    refused = client.post(
        "/gitlab/webhook/",
        data=b'{"object_kind": "issue", "object_attributes": {"iid": 1}}',
        content_type="application/json",
        headers={"X-Gitlab-Token": near_miss, "X-Gitlab-Event": "Issue Hook"},
    )
    assert refused.status_code == 401
    accepted = client.post(
        "/gitlab/webhook/",
        data=b'{"object_kind": "note"}',
        content_type="application/json",
        headers={"X-Gitlab-Token": secret, "X-Gitlab-Event": "Note Hook", "Idempotency-Key": "k-1"},
    )
    assert accepted.status_code in (200, 202, 204)

    # A push that GitLab refuses (5xx, then a revoked token) is logged and recorded, without the token.
    proposal = ProposalFactory(owner=author, title="Never log the token")
    fake.fail("*", status=500, times=1)
    with pytest.raises(failures.RetryLater):
        outbox.push(proposal.pk)
    fake.revoke_token()
    with contextlib.suppress(failures.RetryLater):
        outbox.push(proposal.pk)
    state = SyncState.objects.get(proposal=proposal)
    assert state.last_error  # the failure is recorded...

    logged = all_logged_text(caplog)
    assert "answered 500" in logged and "rejected the bot token" in logged  # ...and logged...
    stored = [str(state.last_error)] + [str(d.__dict__) for d in WebhookDelivery.objects.all()]
    for text in [logged, *stored]:  # ...but no secret is
        assert secret not in text
        assert near_miss not in text
        assert token not in text


def test_behind_a_trusted_proxy_the_lockout_keys_on_the_client_not_the_proxy(author, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"

    def through_proxy(client_address: str, spoofed: str = "") -> Client:
        forwarded = f"{spoofed}, {client_address}" if spoofed else client_address
        return Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded)

    for attempt in range(django_settings.AXES_FAILURE_LIMIT):
        # The attacker writes a different X-Forwarded-For entry each time: it is not what the proxy saw.
        log_in(through_proxy("203.0.113.7", spoofed=f"192.0.2.{attempt}"), author.username, "wrong password")
    assert log_in(through_proxy("203.0.113.7"), author.username, PASSWORD).status_code == 429
    # The same person from elsewhere, through the same proxy, is not locked out with the attacker.
    assert log_in(through_proxy("198.51.100.2"), author.username, PASSWORD).status_code == 302


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(author, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for attempt in range(django_settings.AXES_FAILURE_LIMIT):
        client = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}")
        log_in(client, author.username, "wrong password")
    client = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert log_in(client, author.username, PASSWORD).status_code == 429
