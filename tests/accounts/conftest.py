import pytest

from gitlab_fake import FakeGitLab
from gitlab_fake import oauth as fake_oauth


@pytest.fixture
def fake_gitlab():
    with FakeGitLab() as fake:
        yield fake


@pytest.fixture
def gitlab_sign_in(settings, fake_gitlab):
    """Stagegate configured to sign people in with the fake GitLab's OAuth application."""
    settings.SOCIALACCOUNT_PROVIDERS = {
        "gitlab": {
            "GITLAB_URL": fake_gitlab.url,
            "SCOPE": ["read_user"],
            "APPS": [{"client_id": fake_oauth.CLIENT_ID, "secret": fake_oauth.CLIENT_SECRET}],
        }
    }
    return fake_oauth.provider_for(fake_gitlab.app)
