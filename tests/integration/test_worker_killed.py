"""A worker killed with SIGKILL in the middle of a push: the push completes after a restart, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from django.db import connection

from gitlab_sync.models import SyncState
from proposals import services
from tests.helpers import edit
from tests.integration.conftest import wait_for
from tests.integration.test_sync_integration import issue_text, settled

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def start_worker_process(env, private_redis) -> subprocess.Popen:
    db = connection.settings_dict
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": private_redis.url,
        "CELERY_BROKER_URL": private_redis.url,
        "GITLAB_URL": env.url,
        "GITLAB_TOKEN": env.token,
        "GITLAB_PROJECT": env.project.path_with_namespace,
        "GITLAB_PUSH_MIN_INTERVAL": "0",
        "GITLAB_RETRY_BASE": "0.2",
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return subprocess.Popen(command, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_worker_killed_mid_push_completes_the_push_once_after_restart(env, private_redis, author):
    first = start_worker_process(env, private_redis)
    try:
        proposal = services.proposal_create(title="Survives a crash", owner=author)
        wait_for(lambda: SyncState.objects.filter(proposal=proposal, issue_iid__isnull=False).exists())
        wait_for(lambda: settled(env), what="the sync to settle")
        # GitLab takes its time with the next edit; the worker dies while it waits.
        env.fail("issues.edit", status=500, hang=4)
        edit(proposal, author, user_problem="Written before the crash")
        wait_for(lambda: env.requests_to("issues.edit"), what="the push to start")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    second = start_worker_process(env, private_redis)
    try:
        wait_for(
            lambda: "Written before the crash" in issue_text(env, proposal), timeout=40, what="the push after restart"
        )
        wait_for(lambda: settled(env), what="the sync to settle")
        successful_edits = [r for r in env.requests_to("issues.edit") if r.status == 200]
        assert len(successful_edits) == 1
    finally:
        second.terminate()
        second.wait(timeout=15)
