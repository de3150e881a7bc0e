import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

# The ORR's own fixtures (areas with reviewer groups, answered and submitted proposals, eager Celery).
from tests.reviews.conftest import *  # noqa: F403


@pytest.fixture
def api_client_for():
    """An API client that authenticates the way scripts do: ``Authorization: Token <key>``."""

    def make(user) -> APIClient:
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
