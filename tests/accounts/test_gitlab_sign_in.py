"""Signing in with GitLab, end to end over real HTTP: browser session -> Stagegate -> fake GitLab -> Stagegate."""

import re

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model

from accounts.gitlab import gitlab_id_for_user, user_for_gitlab_id
from tests.factories import UserFactory

# serialized_rollback: each test ends with the migrated rows (ORR areas, content types) restored, as the
# serialized-rollback tests that run later expect; a plain transactional flush breaks them.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

User = get_user_model()


def sign_in_with_gitlab(live_server, *, next_url: str = "") -> requests.Response:
    """What a browser does: open the login page, press "Sign in with GitLab", follow every redirect."""
    browser = requests.Session()
    login_page = browser.get(f"{live_server.url}/accounts/login/" + (f"?next={next_url}" if next_url else ""))
    assert "Sign in with GitLab" in login_page.text
    action = re.search(r'<form method="post" action="([^"]+)" class="sign-in-gitlab">', login_page.text).group(1)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
    response = browser.post(f"{live_server.url}{action.replace('&amp;', '&')}", data={"csrfmiddlewaretoken": csrf})
    response.browser = browser
    return response


def test_first_gitlab_sign_in_creates_an_author_linked_to_the_gitlab_user(live_server, fake_gitlab, gitlab_sign_in):
    gitlab_user = fake_gitlab.store.add_user("ada.lovelace", "Ada Lovelace")
    gitlab_sign_in.sign_in_as(gitlab_user)

    response = sign_in_with_gitlab(live_server)

    assert response.status_code == 200
    assert response.url == f"{live_server.url}/proposals/"
    hops = [r.url.split("?")[0] for r in response.history]
    assert f"{fake_gitlab.url}/oauth/authorize" in hops
    assert f"{live_server.url}/accounts/gitlab/login/callback/" in hops
    user = User.objects.get(username="ada.lovelace")
    assert "ada.lovelace" in response.text  # the page greets the signed-in person
    assert list(user.groups.values_list("name", flat=True)) == ["author"]
    assert not user.has_usable_password()
    assert user_for_gitlab_id(gitlab_user.id) == user
    assert user_for_gitlab_id(str(gitlab_user.id)) == user
    assert gitlab_id_for_user(user) == gitlab_user.id
    # The session is real: the same browser opens a page that needs a login.
    assert response.browser.get(f"{live_server.url}/proposals/new/", allow_redirects=False).status_code == 200


def test_signing_in_again_reuses_the_same_account(live_server, fake_gitlab, gitlab_sign_in):
    gitlab_user = fake_gitlab.store.add_user("grace", "Grace Hopper")
    gitlab_sign_in.sign_in_as(gitlab_user)

    sign_in_with_gitlab(live_server)
    second = sign_in_with_gitlab(live_server, next_url="/dashboard/")

    assert second.url == f"{live_server.url}/dashboard/"
    assert SocialAccount.objects.filter(provider="gitlab", uid=str(gitlab_user.id)).count() == 1
    assert User.objects.filter(username="grace").count() == 1


def test_a_gitlab_user_never_takes_over_a_local_account_with_the_same_name(live_server, fake_gitlab, gitlab_sign_in):
    local = UserFactory(username="barbara", email="barbara@example.com", groups=["admin"])
    gitlab_user = fake_gitlab.store.add_user("barbara", "Someone Else")  # same name and e-mail on GitLab
    gitlab_sign_in.sign_in_as(gitlab_user)

    response = sign_in_with_gitlab(live_server)

    assert response.status_code == 200
    linked = user_for_gitlab_id(gitlab_user.id)
    assert linked is not None
    assert linked.pk != local.pk
    assert not linked.groups.filter(name="admin").exists()
    assert user_for_gitlab_id(gitlab_user.id) != local
    assert gitlab_id_for_user(local) is None


def test_a_refused_token_exchange_signs_nobody_in(live_server, fake_gitlab, gitlab_sign_in):
    gitlab_sign_in.register_client("stagegate-oauth-app", "rotated-secret")  # Stagegate still has the old secret

    response = sign_in_with_gitlab(live_server)

    assert "/accounts/gitlab/login/callback/" in response.url
    assert "Third-Party Login Failure" in response.text
    assert not SocialAccount.objects.exists()
    assert response.browser.get(f"{live_server.url}/proposals/", allow_redirects=False).status_code == 302


def test_only_members_of_the_configured_gitlab_group_or_project_get_in(
    live_server, fake_gitlab, gitlab_sign_in, settings
):
    settings.GITLAB_SIGN_IN_MEMBERS_OF = ["group:ai-wg", "project:ai/stagegate"]
    outsider = fake_gitlab.store.add_user("mallory", "Mallory")
    gitlab_sign_in.sign_in_as(outsider)
    refused = sign_in_with_gitlab(live_server)
    assert refused.status_code == 403
    assert "Signing in with GitLab is for members of ai-wg, ai/stagegate" in refused.text
    assert not User.objects.filter(username="mallory").exists()
    assert refused.browser.get(f"{live_server.url}/proposals/", allow_redirects=False).status_code == 302

    member = fake_gitlab.store.add_user("ada.lovelace", "Ada Lovelace")
    gitlab_sign_in.add_member("projects", "ai/stagegate", member)
    gitlab_sign_in.sign_in_as(member)
    admitted = sign_in_with_gitlab(live_server)
    assert admitted.status_code == 200 and admitted.url == f"{live_server.url}/proposals/"
    assert User.objects.filter(username="ada.lovelace").exists()
