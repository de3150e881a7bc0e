"""Local accounts keep working beside GitLab sign-in, and the link to GitLab users holds."""

import pytest
from allauth.socialaccount.models import SocialAccount

from accounts.gitlab import user_for_gitlab_id
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_has_no_gitlab_button_until_gitlab_sign_in_is_configured(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"gitlab": {"APPS": []}}

    page = client.get("/accounts/login/")

    assert page.status_code == 200
    assert "Sign in with GitLab" not in page.content.decode()


def test_login_page_offers_gitlab_when_configured(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "gitlab": {"GITLAB_URL": "https://gitlab.example.com", "APPS": [{"client_id": "id", "secret": "secret"}]}
    }

    page = client.get("/accounts/login/?next=/dashboard/").content.decode()

    assert "Sign in with GitLab" in page
    assert 'action="/accounts/gitlab/login/?next=%2Fdashboard%2F"' in page


def test_a_local_account_still_logs_in_with_its_password(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "gitlab": {"GITLAB_URL": "https://gitlab.example.com", "APPS": [{"client_id": "id", "secret": "secret"}]}
    }
    UserFactory(username="barbara", password="correct horse battery", groups=["admin"])

    response = client.post("/accounts/login/", {"username": "barbara", "password": "correct horse battery"})

    assert response.status_code == 302
    assert response.url == "/proposals/"


def test_nobody_signs_up_with_a_password(client):
    response = client.post(
        "/accounts/signup/", {"username": "mallory", "password1": "x7!long-enough-pw", "password2": "x7!long-enough-pw"}
    )

    assert response.status_code == 200
    assert "closed" in response.content.decode().lower()
    assert not UserFactory._meta.model.objects.filter(username="mallory").exists()


def test_opening_the_gitlab_sign_in_address_asks_before_leaving_for_gitlab(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "gitlab": {"GITLAB_URL": "https://gitlab.example.com", "APPS": [{"client_id": "id", "secret": "secret"}]}
    }

    page = client.get("/accounts/gitlab/login/")

    assert page.status_code == 200  # a GET never starts the OAuth dance by itself (no login CSRF)
    assert "gitlab.example.com" not in page.get("Location", "")


def test_unknown_or_deactivated_gitlab_users_map_to_nobody():
    user = UserFactory(username="ada")
    SocialAccount.objects.create(user=user, provider="gitlab", uid="4242")

    assert user_for_gitlab_id(4242) == user
    assert user_for_gitlab_id(9999) is None
    assert user_for_gitlab_id(None) is None
    user.is_active = False
    user.save()
    assert user_for_gitlab_id(4242) is None


def test_a_signed_in_person_sees_their_gitlab_connection(client, author, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "gitlab": {"GITLAB_URL": "https://gitlab.example.com", "APPS": [{"client_id": "id", "secret": "secret"}]}
    }
    SocialAccount.objects.create(user=author, provider="gitlab", uid="4242", extra_data={"username": "ada"})
    client.force_login(author)

    page = client.get("/accounts/3rdparty/").content.decode()

    assert "GitLab user 4242" in page
    assert "Connect your GitLab account" in page


def test_the_email_page_lists_and_adds_addresses(client, author):
    client.force_login(author)

    assert client.get("/accounts/email/").status_code == 200
    response = client.post("/accounts/email/", {"action_add": "", "email": "ada@stagegate.example"}, follow=True)

    assert "ada@stagegate.example" in response.content.decode()
