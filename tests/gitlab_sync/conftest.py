import pytest

from config.celery import app as celery_app
from gitlab_fake import FakeGitLab
from gitlab_sync import client, connection, outbox
from gitlab_sync.models import SyncState
from tests.factories import ProposalFactory

WEBHOOK_SECRET = "test-webhook-secret"


def point_celery_at(url: str, **transport_options) -> None:
    """Send this process's tasks to ``url`` from now on, dropping connections made for another broker."""
    celery_app.conf.broker_url = url
    celery_app.conf.broker_transport_options = transport_options
    celery_app.close()
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture(scope="session", autouse=True)
def tasks_go_nowhere():
    """Sync tests call the sync directly; the pushes it queues for later stay in memory, not in a Redis."""
    previous = celery_app.conf.broker_url
    point_celery_at("memory://")
    yield
    point_celery_at(previous)


@pytest.fixture(scope="session")
def fake_server():
    fake = FakeGitLab().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(fake_server, settings):
    fake_server.reset()
    settings.GITLAB_URL = fake_server.url
    settings.GITLAB_TOKEN = fake_server.token
    settings.GITLAB_PROJECT = fake_server.project.path_with_namespace
    settings.GITLAB_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.GITLAB_PUSH_MIN_INTERVAL = 0
    settings.GITLAB_RETRY_BASE = 0.1
    client._client.cache_clear()
    connection.redis_client.cache_clear()
    yield fake_server
    fake_server.reset()


@pytest.fixture
def linked(fake, author):
    """A proposal whose issue exists on the fake, in step."""
    proposal = ProposalFactory(owner=author, title="Explain this vulnerability")
    outbox.push(proposal.pk)
    proposal.refresh_from_db()
    fake.clear_request_log()
    return proposal


def issue_of(fake, proposal):
    return fake.issue(SyncState.objects.get(proposal=proposal).issue_iid)
