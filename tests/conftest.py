import os

import pytest
from hypothesis import settings

from config.celery import app as celery_app
from tests.factories import ProposalFactory, UserFactory

# In CI the property tests run the same examples every time (a failure is reproducible, a pass is not
# luck); on a developer's machine they explore new ones and remember failures in .hypothesis/.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def eager_celery():
    """Run tasks inline, so sent mail lands in mail.outbox; restored after each test."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def author(db):
    return UserFactory(username="ada", groups=["author"])


@pytest.fixture
def other_author(db):
    return UserFactory(username="grace", groups=["author"])


@pytest.fixture
def reviewer(db):
    return UserFactory(username="rosalind", groups=["reviewer"])


@pytest.fixture
def working_group_member(db):
    return UserFactory(username="katherine", groups=["working group"])


@pytest.fixture
def admin_user(db):
    return UserFactory(username="barbara", groups=["admin"])


@pytest.fixture
def proposal(author):
    return ProposalFactory(owner=author, title="Explain this vulnerability")


@pytest.fixture
def author_client(client, author):
    client.force_login(author)
    return client
