"""People get their API token from their account page, and replacing it retires the old one."""

import re

import pytest
from allauth.socialaccount.models import SocialAccount
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _token(page) -> str:
    return re.search(r'id="api-token" type="text" readonly value="([0-9a-f]{40})"', page.content.decode()).group(1)


def _api_status(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/proposals/").status_code


def test_a_person_makes_a_token_and_scripts_use_it(author_client):
    assert "You have no API token yet." in author_client.get("/accounts/api-token/").content.decode()

    page = author_client.post("/accounts/api-token/", follow=True)

    token = _token(page)
    assert _api_status(token) == 200


def test_replacing_the_token_retires_the_old_one(author_client):
    old = _token(author_client.post("/accounts/api-token/", follow=True))

    new = _token(author_client.post("/accounts/api-token/", follow=True))

    assert new != old
    assert _api_status(old) == 401
    assert _api_status(new) == 200


def test_the_page_says_which_gitlab_account_is_linked(author_client, author):
    SocialAccount.objects.create(user=author, provider="gitlab", uid="77", extra_data={"username": "ada.l"})

    page = author_client.get("/accounts/api-token/").content.decode()

    assert "@ada.l" in page
    assert "GitLab user 77" in page


def test_signed_out_visitors_are_sent_to_log_in(client):
    response = client.get("/accounts/api-token/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
