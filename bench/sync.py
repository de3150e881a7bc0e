"""GitLab sync figures: save→issue latency, API calls per autosave burst, import and reconcile of 1,000 issues.

    REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python -m bench.sync [--samples 30] [--issues 1000] [--smoke]

Runs the real stack in one process: a throw-away test database (``test_sg_bench`` on the server of
BENCH_DATABASE_URL, see bench/common.py), one Celery worker (solo pool, in a thread) on the Redis of
REDIS_URL, on a queue of its own (so a run never takes or purges another's tasks), the fake GitLab over
HTTP and Stagegate's webhook endpoint served over HTTP, so every push also comes back as a webhook that
the worker processes (echo included). Each figure is also given as a ratio to one GitLab API round trip
measured in the same run. Settings are the defaults (GITLAB_PUSH_MIN_INTERVAL 10 s), except where a
figure says otherwise. ``--smoke`` takes 2 samples, a burst of 5 autosaves, 5 issues and a push
interval of 1 s: seconds, to check that the script still works.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
import uuid
from collections import Counter
from urllib.request import Request, urlopen

from bench.common import setup_django

os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")
setup_django()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402

from tests.helpers import edit  # noqa: E402

WEBHOOK_SECRET = "bench-webhook-secret"


def wait_for(condition, timeout: float = 60.0, step: float = 0.002):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the sync")
        time.sleep(step)


def serve_django() -> str:
    from django.core.wsgi import get_wsgi_application
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    server = make_server("127.0.0.1", 0, get_wsgi_application(), threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def settled(fake) -> bool:
    from gitlab_sync.models import SyncState, WebhookDelivery

    return (
        fake.wait_for_hooks(timeout=0.1)
        and not SyncState.objects.filter(needs_push=True).exists()
        and not WebhookDelivery.objects.filter(status="received").exists()
    )


def round_trip(fake, rounds: int = 20) -> float:
    """Median seconds of one GitLab API call to the fake over HTTP: the baseline of every figure."""
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        with urlopen(Request(f"{fake.url}/api/v4/user", headers={"PRIVATE-TOKEN": fake.token}), timeout=10):
            pass
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=20, help="autosaves in the burst, one every half second")
    parser.add_argument("--smoke", action="store_true", help="the smallest sizes: does the script still work?")
    args = parser.parse_args()
    if args.smoke:
        args.samples, args.issues, args.burst = 2, 5, 5

    from celery.contrib.testing.worker import start_worker

    from config.celery import app
    from gitlab_fake import FakeGitLab

    setup_test_environment()
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    old_config = setup_databases(verbosity=0, interactive=False)
    fake = FakeGitLab().start()
    settings.ROOT_URLCONF = "gitlab_sync.urls"
    settings.GITLAB_URL, settings.GITLAB_TOKEN = fake.url, fake.token
    settings.GITLAB_PROJECT = fake.project.path_with_namespace
    settings.GITLAB_WEBHOOK_SECRET = WEBHOOK_SECRET
    if args.smoke:
        settings.GITLAB_PUSH_MIN_INTERVAL = 1.0
    fake.add_hook(f"{serve_django()}/webhook/", token=WEBHOOK_SECRET)
    # A queue of this run's own: a bench running beside another (or beside a worker) neither steals
    # nor purges their tasks on the shared Redis.
    app.conf.task_default_queue = f"bench-sync-{uuid.uuid4().hex[:8]}"
    try:
        baseline = round_trip(fake)
        print(f"one GitLab API call to the fake (the baseline): median {baseline * 1000:.2f} ms")
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
            latency(fake, args.samples, baseline)
            burst(fake, args.burst, baseline)
        import_and_reconcile(fake, args.issues, baseline)
    finally:
        fake.stop()
        teardown_databases(old_config, verbosity=0)


def latency(fake, samples: int, baseline: float) -> None:
    from gitlab_sync.models import SyncState
    from proposals import services
    from tests.factories import UserFactory

    author = UserFactory(username="bench-author", groups=["author"])
    proposals = [services.proposal_create(title=f"Latency {n}", owner=author) for n in range(samples)]
    wait_for(lambda: SyncState.objects.filter(issue_iid__isnull=False).count() == samples)
    wait_for(lambda: settled(fake))
    # Each proposal's last push is older than the push interval, as for a save after a pause.
    time.sleep(settings.GITLAB_PUSH_MIN_INTERVAL)
    timings = []
    for n, proposal in enumerate(proposals):
        marker = f"Latency sample {n}"
        iid = SyncState.objects.get(proposal=proposal).issue_iid
        started = time.perf_counter()
        edit(proposal, author, user_problem=marker)
        wait_for(lambda iid=iid, marker=marker: marker in fake.issue(iid).description)
        timings.append(time.perf_counter() - started)
    timings.sort()
    p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
    median = statistics.median(timings)
    print(f"save → issue updated, one worker ({samples} saves): median {median * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms, {median / baseline:.0f}x one API call")  # fmt: skip
    wait_for(lambda: settled(fake))


def burst(fake, saves: int, baseline: float) -> None:
    from gitlab_sync.models import SyncState
    from proposals import services
    from tests.factories import UserFactory

    author = UserFactory(username="bench-burst", groups=["author"])
    proposal = services.proposal_create(title="Autosave burst", owner=author)
    wait_for(lambda: SyncState.objects.filter(proposal=proposal, issue_iid__isnull=False).exists())
    wait_for(lambda: settled(fake))
    time.sleep(settings.GITLAB_PUSH_MIN_INTERVAL)
    fake.clear_request_log()
    start = time.monotonic()
    for n in range(saves):  # one autosave every half second
        time.sleep(max(0.0, start + n * 0.5 - time.monotonic()))
        edit(proposal, author, user_problem=f"Autosave {n}: the text grows " + "word " * n)
    iid = SyncState.objects.get(proposal=proposal).issue_iid
    wait_for(lambda: f"Autosave {saves - 1}:" in fake.issue(iid).description, timeout=60)
    took = time.monotonic() - start
    wait_for(lambda: settled(fake))
    calls = fake.requests_to()
    writes = [r for r in calls if r.method in ("POST", "PUT")]
    print(f"burst of {saves} autosaves in {saves / 2:.1f} s: {len(writes)} GitLab writes, {len(calls)} GitLab API "
          f"calls in all; the last on the issue {took:.1f} s after the first "
          f"({took / baseline:.0f}x one API call)")  # fmt: skip


class QueryCount:
    """Counts the database queries run while installed (``connection.execute_wrapper``), and the time
    spent waiting for them."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def per_issue(took: float, cpu: float, queries: QueryCount, calls: int, baseline: float, count: int) -> str:
    """Where one issue's time goes: waiting for the database, this process's CPU, the API calls."""
    return (
        f"per issue {took / count * 1000:.1f} ms: SQL {queries.seconds / count * 1000:.1f} ms, "
        f"this process's CPU {cpu / count * 1000:.1f} ms, API ~{calls * baseline / count * 1000:.2f} ms"
    )


def import_and_reconcile(fake, count: int, baseline: float) -> None:
    from django.contrib.auth import get_user_model

    from gitlab_sync import importer, inbound
    from tests.gitlab_sync.issue_text import edit_issue_fields

    owner = get_user_model().objects.get(username="bench-author")
    fake.project.hooks.clear()  # the worker has stopped; import and reconcile run here, directly
    for n in range(count):
        body = edit_issue_fields("", user_problem=f"Imported problem {n}", assumptions="Some assumption")
        fake.create_issue(title=f"Imported proposal {n}", description=body, labels="wg-ai-integration")
    fake.clear_request_log()
    started, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(queries := QueryCount()):
        report = importer.import_issues(owner=owner)
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    calls = len(fake.requests_to())
    print(f"import of {count} issues: {took:.1f} s ({len(report.imported)} imported, "
          f"{calls} API calls, {queries.count / count:.0f} database queries per issue, "
          f"{took / count / baseline:.1f}x one API call per issue; "
          f"{per_issue(took, cpu, queries, calls, baseline, count)})")  # fmt: skip
    for iid, reason in report.failed[:5]:
        print(f"  import of #{iid} failed: {reason}")
    imported = {iid for iid, *_ in report.imported}
    # A first round of GitLab edits: its reconcile also adds the stage and ORR labels imported issues lack.
    for round_ in ("first", "second"):
        for issue in fake.issues():
            if issue.iid in imported:
                text = edit_issue_fields(issue.description, user_problem=f"Changed on GitLab, {round_} round")
                fake.human_edit(issue.iid, description=text)
        if round_ == "first":
            inbound.reconcile()
    fake.clear_request_log()
    started, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(queries := QueryCount()):
        stats = inbound.reconcile()
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    routes = Counter(r.route for r in fake.requests_to())
    print(f"reconcile of {count} issues changed on GitLab: {took:.1f} s ({stats['synced']} applied, "
          f"{queries.count / count:.0f} database queries per issue, "
          f"{took / count / baseline:.1f}x one API call per issue; "
          f"{sum(routes.values())} API calls: {dict(routes)}; "
          f"{per_issue(took, cpu, queries, sum(routes.values()), baseline, count)})")  # fmt: skip


if __name__ == "__main__":
    main()
