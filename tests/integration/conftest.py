"""Real Celery worker, real Redis (a private redis-server), real PostgreSQL, the fake GitLab over HTTP.

The Redis server is private to this test session, on a free port, so a test can
stop and restart it without touching the Redis other people use.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings

from config.celery import app as celery_app
from gitlab_sync import client, connection
from tests.gitlab_sync.conftest import WEBHOOK_SECRET, fake_server, point_celery_at  # noqa: F401 (session fixture)

WAIT = 60.0  # a bound, not a speed: a busy 2-core machine may take a while, a working sync always arrives


def wait_for(condition, *, timeout: float = WAIT, what: str = "condition"):
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="stagegate-redis-")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for(self.ping, timeout=10, what="redis-server")

    def ping(self) -> bool:
        try:
            return redis.Redis.from_url(self.url, socket_timeout=0.5).ping()
        except redis.exceptions.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture(scope="session")
def private_redis():
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    if django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the integration tests run against PostgreSQL (set DATABASE_URL)")
    # Worker and live-server threads close their connections after each task or request,
    # so the test database can be dropped at the end of the session.
    django_settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    server = PrivateRedis()
    server.start()
    point_celery_at(server.url, visibility_timeout=5)
    # close() drops the producer pool only when a connection pool was open; earlier tests (eager
    # tasks run in threads) can leave one behind on the old broker, so drop it here too.
    celery_app.amqp._producer_pool = None
    yield server
    server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture
def env(fake_server, private_redis, settings, live_server):  # noqa: F811
    """Settings for the whole stack; the fake sends its webhooks to the live server."""
    fake_server.reset()
    redis.Redis.from_url(private_redis.url).flushdb()
    settings.ROOT_URLCONF = "tests.gitlab_sync.urls"
    settings.REDIS_URL = private_redis.url
    settings.GITLAB_URL = fake_server.url
    settings.GITLAB_TOKEN = fake_server.token
    settings.GITLAB_PROJECT = fake_server.project.path_with_namespace
    settings.GITLAB_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.GITLAB_PUSH_MIN_INTERVAL = 0
    settings.GITLAB_RETRY_BASE = 0.2
    settings.GITLAB_SYNC_LOCK_TIMEOUT = 10
    client._client.cache_clear()
    connection.redis_client.cache_clear()
    fake_server.add_hook(f"{live_server.url}/gitlab/webhook/", token=WEBHOOK_SECRET)
    yield fake_server
    fake_server.reset()


@pytest.fixture
def worker(env):
    """A real Celery worker in a thread, consuming from the private Redis."""
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as running:
        yield running
