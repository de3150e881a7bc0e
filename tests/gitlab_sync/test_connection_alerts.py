"""What stops or soon stops the GitLab connection is shown to admins on every page, and to nobody else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from gitlab_sync import connection, inbound, outbox
from gitlab_sync.models import GitLabConnection
from tests.helpers import edit

pytestmark = pytest.mark.django_db

PAGES = ("proposals:list", "proposals:create")


def _pages(client, user) -> list[str]:
    client.force_login(user)
    return [client.get(reverse(name)).content.decode() for name in PAGES]


def test_admins_see_an_expiring_token_and_a_disabled_webhook_on_every_page(fake, linked, client, admin_user, author):
    fake.set_token_expiry((timezone.localdate() + timedelta(days=3)).isoformat())
    fake.add_hook("https://stagegate.example/gitlab/webhook/", token="t").alert_status = "disabled"
    inbound.reconcile()
    for page in _pages(client, admin_user):
        assert "bot token expires in 3 days" in page
        assert "disabled the webhook" in page
    for page in _pages(client, author):
        assert "bot token" not in page and "webhook" not in page


def test_admins_see_a_blocked_connection_on_every_page_until_it_is_resumed(fake, linked, client, admin_user, author):
    fake.project.archived = True
    edit(linked, author, user_problem="Waits for the connection")
    outbox.push(linked.pk)
    assert GitLabConnection.objects.get().blocked_reason == "archived"
    for page in _pages(client, admin_user):
        assert "GitLab sync is stopped" in page and "archived" in page
    connection.resume()
    for page in _pages(client, admin_user):
        assert "GitLab sync is stopped" not in page


def test_a_healthy_connection_shows_nothing(fake, linked, client, admin_user):
    fake.set_token_expiry((timezone.localdate() + timedelta(days=300)).isoformat())
    fake.add_hook("https://stagegate.example/gitlab/webhook/", token="t")
    inbound.reconcile()
    for page in _pages(client, admin_user):
        assert "gitlab-alerts" not in page
