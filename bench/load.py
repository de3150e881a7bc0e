"""Load: 50 people browsing, autosaving and reviewing for 60 s against the production-shaped stack.

    .venv/bin/python -m bench.load [--users 50] [--seconds 60] [--keep] [--smoke]

Starts everything itself on loopback ports: a database of its own, ``<name>_load``, on the
PostgreSQL server of BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/sg_bench, so sg_bench_load; dropped and made anew, see
bench/common.py), a private redis-server, the fake GitLab, gunicorn, a Celery worker and
Celery beat. Seeds authors (each with a proposal to write and one in review), reviewers for
the five ORR areas and working-group members, waits until every proposal has its GitLab
issue, then runs locust headless and prints throughput and p50/p95/p99 per request kind.
Everyone starts signed in (their session is made while seeding), so the minute measures
their work rather than 50 password hashes at once. Afterwards it checks: no request failed,
every author's last autosave is in the database, and, once the worker has drained, on the
fake GitLab too, with every proposal in sync. Exits non-zero when a check fails.

The sync's timings are shortened so a run converges in minutes, not hours:
GITLAB_PUSH_MIN_INTERVAL=2, GITLAB_ENQUEUE_STALE_AFTER=20, GITLAB_RETRY_BASE=1.

``--smoke``: 2 people (an author and a reviewer) for 5 s on one web worker and one Celery
process: seconds rather than minutes, to check that the script and the stack still work. So
that a smoke run of bench.chaos recovers its lost tasks in seconds too, the sweep that beat
sends every minute is also sent every 2 s while the backlog drains, and a push counts as lost
after 3 s (GITLAB_ENQUEUE_STALE_AFTER=3).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import Request, urlopen

from bench.common import database_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "stagegate-bench-pass"
WEBHOOK_SECRET = "bench-webhook-secret"
BOT_TOKEN = "stagegate-bot-token"  # the fake GitLab's bot
PROJECT = "ai-group/proposals"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, timeout: float, what: str, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Exception:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def http_ok(url: str, headers: dict | None = None) -> bool:
    with urlopen(Request(url, headers=headers or {}), timeout=2) as response:
        return response.status < 500


class Stack:
    """The processes of one Stagegate deployment, on loopback, each stoppable and restartable."""

    def __init__(
        self,
        *,
        database: str,
        workdir: Path,
        web_workers: int = 3,
        worker_concurrency: int = 2,
        stale_after: int = 20,
        sweep_every: float = 0.0,
    ):
        self.workdir = workdir
        self.web_port, self.fake_port, self.redis_port = free_port(), free_port(), free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.fake_url = f"http://127.0.0.1:{self.fake_port}"
        server = database_url().rsplit("/", 1)[0]
        self.admin_url = f"{server}/postgres"
        self.database = database
        self.database_url = f"{server}/{database}"
        self.web_workers, self.worker_concurrency = web_workers, worker_concurrency
        self.sweep_every = sweep_every  # 0: only beat sends the sweep, once a minute
        self.processes: dict[str, subprocess.Popen] = {}
        self.baseline_ms = 0.0  # the idle stack's /healthz, measured once it is seeded
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": "stagegate-bench-only",
            "SECURE_HTTPS": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "GITLAB_URL": self.fake_url,
            "GITLAB_TOKEN": BOT_TOKEN,
            "GITLAB_PROJECT": PROJECT,
            "GITLAB_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "GITLAB_PUSH_MIN_INTERVAL": "2",
            "GITLAB_ENQUEUE_STALE_AFTER": str(stale_after),
            "GITLAB_RETRY_BASE": "1",
            "AXES_FAILURE_LIMIT": "1000",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }

    # -- processes ----------------------------------------------------------

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - the process writes to it until it ends
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes[name] = process
        return process

    def _stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def start_redis(self) -> None:
        redis_dir = self.workdir / "redis"
        redis_dir.mkdir(exist_ok=True)
        server = shutil.which("redis-server") or "redis-server"
        args = [server, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._spawn("redis", [*args, "--dir", str(redis_dir)])
        wait_for(self.redis_up, timeout=15, what="redis-server")

    def redis_up(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop_redis(self) -> None:
        self._stop("redis")

    def start_fake(self) -> None:
        hook = f"{self.web_url}/gitlab/webhook/"
        args = ["-m", "gitlab_fake", "--port", str(self.fake_port), "--hook-url", hook]
        self._spawn("fake-gitlab", [sys.executable, *args, "--hook-token", WEBHOOK_SECRET])
        wait_for(lambda: http_ok(f"{self.fake_url}/api/v4/user", {"PRIVATE-TOKEN": BOT_TOKEN}), timeout=20,
                 what="the fake GitLab")  # fmt: skip

    def pause_fake(self) -> None:
        """GitLab stops answering (its process is frozen): requests hang until the client's timeout."""
        self.processes["fake-gitlab"].send_signal(signal.SIGSTOP)

    def resume_fake(self) -> None:
        self.processes["fake-gitlab"].send_signal(signal.SIGCONT)

    def start_web(self) -> None:
        args = [str(BIN / "gunicorn"), "config.wsgi", "--workers", str(self.web_workers), "--threads", "2"]
        # Keep-alive longer than a person's pause between requests: with gunicorn's 2 s default the server
        # closes idle connections just as the next request is sent on them (connection reset).
        args += ["--keep-alive", "30", "--timeout", "60"]
        self._spawn("web", [*args, "--bind", f"127.0.0.1:{self.web_port}"])
        wait_for(lambda: http_ok(f"{self.web_url}/accounts/login/"), timeout=30, what="gunicorn")

    def start_worker(self) -> None:
        args = [str(BIN / "celery"), "-A", "config", "worker", "--loglevel=WARNING", "-n", "bench@%h"]
        self._spawn("worker", [*args, f"--concurrency={self.worker_concurrency}", "--without-gossip"])

    def kill_worker(self) -> None:
        """A worker crash: SIGKILL, mid-task, nothing acknowledged."""
        self._stop("worker", signal.SIGKILL)

    def start_beat(self) -> None:
        args = [str(BIN / "celery"), "-A", "config", "beat", "--loglevel=WARNING"]
        self._spawn("beat", [*args, "--schedule", str(self.workdir / "celerybeat-schedule")])

    def stop_all(self) -> None:
        if "fake-gitlab" in self.processes:
            self.resume_fake()
        for name in ("beat", "worker", "web", "fake-gitlab", "redis"):
            self._stop(name)

    # -- database -------------------------------------------------------------

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.database}"')
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=self.env, check=True
        )

    def drop_database(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def use_in_this_process(self) -> None:
        """Point this process's Django at the bench database (for seeding and checking)."""
        for key in ("DATABASE_URL", "REDIS_URL", "GITLAB_URL", "GITLAB_TOKEN", "GITLAB_PROJECT", "SECRET_KEY"):
            os.environ[key] = self.env[key]
        for key in ("DJANGO_SETTINGS_MODULE", "DEBUG", "SECURE_HTTPS", "ALLOWED_HOSTS", "LOG_LEVEL"):
            os.environ[key] = self.env[key]
        for key in ("GITLAB_PUSH_MIN_INTERVAL", "GITLAB_ENQUEUE_STALE_AFTER", "GITLAB_RETRY_BASE"):
            os.environ[key] = self.env[key]
        import django

        django.setup()
        from django.conf import settings

        settings.DATABASES["default"]["CONN_MAX_AGE"] = 0

    def gitlab_issue(self, iid: int) -> dict:
        url = f"{self.fake_url}/api/v4/projects/{PROJECT.replace('/', '%2F')}/issues/{iid}"
        with urlopen(Request(url, headers={"PRIVATE-TOKEN": BOT_TOKEN}), timeout=10) as response:
            return json.loads(response.read())


# -- seed -------------------------------------------------------------------------------------------


def seed(*, authors: int, reviewers: int, working_group: int, extra: int) -> dict:
    """People and proposals, written through the services as the app writes them."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from proposals import services
    from reviews.models import OrrArea, Review
    from reviews.services import review_submit_for_review

    user_model = get_user_model()

    def person(username: str, *groups: str):
        user = user_model.objects.create_user(username, f"{username}@example.com", PASSWORD)
        user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in groups))
        return user

    def session(user) -> str:
        """A signed-in session, as a login would leave it (the run measures work, not password hashing)."""
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return store.session_key

    areas = list(OrrArea.objects.order_by("number"))
    for area in areas:
        area.reviewer_group = Group.objects.get_or_create(name=f"orr {area.key}")[0]
        area.save(update_fields=["reviewer_group"])

    plan: dict = {"password": PASSWORD, "people": {"author": [], "reviewer": [], "working group": []}}
    in_review = []
    for n in range(authors):
        author = person(f"author-{n:02}", "author")
        writing = services.proposal_create(title=f"Load proposal {n:02}: summarise threads", owner=author)
        submitted = services.proposal_create(title=f"Review proposal {n:02}: triage issues", owner=author)
        for review in submitted.reviews.select_related("area"):
            Review.objects.filter(pk=review.pk).update(answer=f"{review.area.title}: planned and costed.")
        review_submit_for_review(proposal=submitted, by=author)
        in_review.append(submitted)
        plan["people"]["author"].append(
            {"username": author.username, "session": session(author), "proposal": writing.pk}
        )
    owner = person("portfolio-owner", "author")
    for n in range(extra):
        services.proposal_create(title=f"Portfolio proposal {n:03}", owner=owner, confidential=n % 7 == 0)
    for n in range(reviewers):
        area = areas[n % len(areas)]
        reviewer = person(f"reviewer-{n:02}", "reviewer", f"orr {area.key}")
        reviews = Review.objects.filter(area=area, proposal__in=in_review).values_list("pk", flat=True)
        plan["people"]["reviewer"].append(
            {"username": reviewer.username, "session": session(reviewer), "reviews": list(reviews)}
        )
    for n in range(working_group):
        member = person(f"wg-{n:02}", "working group")
        plan["people"]["working group"].append({"username": member.username, "session": session(member)})
    from proposals.models import Proposal

    plan["visible_proposals"] = list(Proposal.objects.filter(confidential=False).values_list("pk", flat=True))
    plan["weights"] = {"author": authors, "reviewer": reviewers, "working group": working_group}
    return plan


# -- sync state -------------------------------------------------------------------------------------


def sync_backlog() -> dict[str, int]:
    from gitlab_sync.models import SyncConflict, SyncState, WebhookDelivery
    from proposals.models import Proposal

    states = SyncState.objects.all()
    return {
        "proposals": Proposal.objects.count(),
        "without issue": Proposal.objects.exclude(sync_state__issue_iid__isnull=False).count(),
        "waiting to push": states.filter(needs_push=True).count(),
        "failed for good": states.filter(permanent_error=True).count(),
        "webhooks not processed": WebhookDelivery.objects.filter(status="received").count(),
        "open conflicts": SyncConflict.objects.filter(resolved_at__isnull=True).count(),
    }


def settled() -> bool:
    backlog = sync_backlog()
    return not any(backlog[key] for key in ("without issue", "waiting to push", "webhooks not processed"))


def drain(timeout: float, *, sweep_every: float = 0.0) -> float:
    """Wait until the worker has pushed every proposal and processed every webhook; seconds waited.

    With `sweep_every`, the sweep (which beat sends once a minute) is also sent that often meanwhile."""
    from gitlab_sync.tasks import sweep

    started = last_sweep = time.monotonic()

    def drained() -> bool:
        nonlocal last_sweep
        if sweep_every and time.monotonic() - last_sweep >= sweep_every:
            sweep.delay()
            last_sweep = time.monotonic()
        return settled()

    wait_for(drained, timeout=timeout, what=f"the worker to drain the sync backlog ({sync_backlog()})", step=1.0)
    return time.monotonic() - started


# -- CPU: whose share of the two cores -----------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used so far) of a live process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used by a process and its live descendants (gunicorn's and Celery's workers)."""
    stats = {int(entry.name): _stat(int(entry.name)) for entry in Path("/proc").iterdir() if entry.name.isdigit()}
    children: dict[int, list[int]] = {}
    for pid, stat in stats.items():
        if stat is not None:
            children.setdefault(stat[0], []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if stats.get(pid) is not None:
            total += stats[pid][1]
        todo += children.get(pid, [])
    return total


def stack_cpu_seconds(stack) -> dict[str, float]:
    return {name: tree_cpu_seconds(process.pid) for name, process in stack.processes.items()}


def report_cpu(before: dict[str, float], after: dict[str, float], locust_seconds: float, requests: int) -> None:
    """CPU each part of the stack used during the load, and the web's per request: what locust itself took
    from the same two cores shows beside it. (PostgreSQL's backends belong to the server, not to this run,
    and are left out.)"""
    print(f"\nCPU seconds used during the load ({os.cpu_count()} CPUs):")
    for name in after:
        used = after[name] - before.get(name, after[name])
        per_request = f"  {used * 1000 / requests:6.1f} ms per request" if name == "web" and requests else ""
        print(f"  {name:<12} {used:8.1f} s{per_request}")
    print(f"  {'locust':<12} {locust_seconds:8.1f} s  (the load generator itself)")


def total_requests(stack) -> int:
    with open(stack.workdir / "locust_stats.csv") as stats:
        return next((int(row["Request Count"]) for row in csv.DictReader(stats) if row["Name"] == "Aggregated"), 0)


# -- run and report ---------------------------------------------------------------------------------


def run_locust(stack: Stack, plan: dict, *, users: int, seconds: int) -> tuple[subprocess.Popen, Path, Path]:
    plan_path = stack.workdir / "plan.json"
    plan_path.write_text(json.dumps(plan))
    last_path = stack.workdir / "last-saved.json"
    env = {**stack.env, "STAGEGATE_BENCH_PLAN": str(plan_path), "STAGEGATE_BENCH_LAST": str(last_path)}
    # Locust loads its file by path (bench/ is on sys.path only while that file is imported).
    args = [str(BIN / "locust"), "-f", str(ROOT / "bench" / "stagegate_locust.py"), "--headless"]
    args += ["--users", str(users), "--spawn-rate", str(max(1, users // 5)), "--run-time", f"{seconds}s"]
    args += [
        "--stop-timeout",
        "30",
        "--host",
        stack.web_url,
        "--csv",
        str(stack.workdir / "locust"),
        "--only-summary",
        "--loglevel",
        "ERROR",
    ]
    log = open(stack.workdir / "locust.log", "wb")  # noqa: SIM115 - locust writes to it until it ends
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), last_path, plan_path


def baseline_ms(stack: Stack, rounds: int = 20) -> float:
    """Median milliseconds of the trivial /healthz view on the idle stack: the baseline of the latencies."""
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        http_ok(f"{stack.web_url}/healthz")
        timings.append((time.perf_counter() - started) * 1000)
    return sorted(timings)[len(timings) // 2]


def report(stack: Stack, seconds: int, baseline: float) -> int:
    """Print throughput and latency per request kind (p50 also as a ratio to the idle /healthz);
    returns the number of failed requests."""
    with open(stack.workdir / "locust_stats.csv") as stats:
        rows = list(csv.DictReader(stats))
    load = ", ".join(f"{figure:.1f}" for figure in os.getloadavg())
    print(f"\n{seconds} s of load; machine load average afterwards (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")
    print(f"trivial view (/healthz) on the idle stack before the load: median {baseline:.1f} ms")
    print(
        f"{'request kind':<28}{'requests':>9}{'failed':>8}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        f"{'p50 / trivial':>15}"
    )
    failures = 0
    for row in rows:
        name = "all requests" if row["Name"] == "Aggregated" else row["Name"]
        failures += int(row["Failure Count"]) if row["Name"] != "Aggregated" else 0
        print(
            f"{name:<28}{row['Request Count']:>9}{row['Failure Count']:>8}{float(row['Requests/s']):>8.1f}"
            f"{row['50%']:>8}{row['95%']:>8}{row['99%']:>8}{float(row['50%']) / baseline:>14.1f}x"
        )
    failures_csv = stack.workdir / "locust_failures.csv"
    failed_rows = []
    if failures_csv.exists():
        with open(failures_csv) as failed:
            failed_rows = list(csv.DictReader(failed))
    for row in failed_rows[:10]:
        print(f"  failed: {row['Method']} {row['Name']}: {row['Error']} × {row['Occurrences']}")
    return failures


def check_writes(stack: Stack, outcome: dict, *, drain_timeout: float) -> list[str]:
    """Every author's last autosave in the database, then (after the drain) on GitLab; every proposal in sync.

    A save still in flight when the run stopped may or may not have landed: the database may hold
    either it or the last confirmed one, but nothing older.
    """
    from gitlab_sync.models import SyncState
    from proposals.models import Proposal

    saved, in_flight = outcome["saved"], outcome["in_flight"]
    problems = []
    in_db = dict(Proposal.objects.filter(pk__in=[int(pk) for pk in saved]).values_list("pk", "user_problem"))
    expected = {}
    for pk, text in saved.items():
        found = in_db.get(int(pk))
        if found not in (text, in_flight.get(pk)):
            problems.append(
                f"proposal {pk}: last confirmed autosave {text[:40]!r}… not in the database: {found[:40]!r}…"
            )
        expected[pk] = found
    print(
        f"\nlast confirmed autosave of {len(saved)} proposals in the database: {len(saved) - len(problems)} found "
        f"({len(in_flight)} saves were in flight when the load stopped)"
    )
    last_saved = expected

    took = drain(drain_timeout, sweep_every=stack.sweep_every)
    print(f"sync backlog drained {took:.0f} s after the load stopped: {sync_backlog()}")
    states = {state.proposal_id: state for state in SyncState.objects.all()}
    lost_gitlab = []
    out_of_step = []
    for proposal in Proposal.objects.all():
        state = states.get(proposal.pk)
        if state is None or state.issue_iid is None:
            out_of_step.append(proposal.pk)
            continue
        issue = stack.gitlab_issue(state.issue_iid)
        if issue["title"] != proposal.title or state.needs_push or state.pushed_version < state.local_version:
            out_of_step.append(proposal.pk)
        text = last_saved.get(str(proposal.pk))
        if text is not None and text not in issue["description"]:
            lost_gitlab.append(proposal.pk)
    print(f"last autosave on the GitLab issue: {len(last_saved) - len(lost_gitlab)} of {len(last_saved)}")
    print(f"proposals in sync with their issue: {len(states) - len(out_of_step)} of {Proposal.objects.count()}")
    problems += [f"proposal {pk}: last autosave not on its GitLab issue" for pk in lost_gitlab]
    problems += [f"proposal {pk}: not in sync with its GitLab issue" for pk in out_of_step]
    return problems


def prepare(args, name: str) -> tuple[Stack, dict]:
    workdir = Path(tempfile.mkdtemp(prefix=f"stagegate-{name}-"))
    database = database_url().rsplit("/", 1)[1].split("?")[0]
    smoke = {"web_workers": 1, "worker_concurrency": 1, "stale_after": 3, "sweep_every": 2.0}
    processes = smoke if args.smoke else {}
    stack = Stack(database=f"{database}_{name}", workdir=workdir, **processes)
    print(f"{name}: logs in {workdir}")
    stack.start_redis()
    stack.create_database()
    stack.use_in_this_process()
    stack.start_fake()
    stack.start_web()
    started = time.monotonic()
    plan = seed(authors=args.authors, reviewers=args.reviewers, working_group=args.working_group, extra=args.extra)
    stack.start_worker()
    stack.start_beat()
    drain(timeout=600)
    stack.baseline_ms = baseline_ms(stack)
    print(
        f"seeded {len(plan['people']['author'])} authors, {len(plan['people']['reviewer'])} reviewers, "
        f"{len(plan['people']['working group'])} working-group members; {sync_backlog()['proposals']} proposals "
        f"synced to GitLab in {time.monotonic() - started:.0f} s"
    )
    return stack, plan


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--users", type=int, default=50, help="simulated people (default 50)")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--authors", type=int, default=30)
    parser.add_argument("--reviewers", type=int, default=10)
    parser.add_argument("--working-group", type=int, default=10)
    parser.add_argument("--extra", type=int, default=40, help="more proposals, for realistic lists")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--smoke", action="store_true", help="2 people for 5 s: does the script still work?")
    args = parser.parse_args()
    if args.smoke:
        args.users, args.seconds, args.authors, args.reviewers, args.working_group, args.extra = 2, 5, 1, 1, 0, 2
    if args.users != args.authors + args.reviewers + args.working_group:
        parser.error("--users must equal --authors + --reviewers + --working-group (one account per person)")
    return args


def finish(stack: Stack, problems: list[str], failures: int, keep: bool) -> int:
    stack.stop_all()
    if not keep:
        stack.drop_database()
    if failures:
        problems.insert(0, f"{failures} requests failed")
    for problem in problems[:20]:
        print(f"FAIL: {problem}")
    print("OK: zero errors, no lost write, every proposal in sync" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    stack, plan = prepare(args, "load")
    try:
        cpu_before = stack_cpu_seconds(stack)
        reaped_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        locust, last_path, _ = run_locust(stack, plan, users=args.users, seconds=args.seconds)
        locust.wait(timeout=args.seconds + 120)
        # The only child reaped meanwhile is locust: the stack's processes are still running.
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        locust_cpu = (reaped.ru_utime - reaped_before.ru_utime) + (reaped.ru_stime - reaped_before.ru_stime)
        cpu_after = stack_cpu_seconds(stack)
        failures = report(stack, args.seconds, stack.baseline_ms)
        report_cpu(cpu_before, cpu_after, locust_cpu, total_requests(stack))
        problems = check_writes(stack, json.loads(last_path.read_text()), drain_timeout=600)
    except BaseException:
        stack.stop_all()
        raise
    return finish(stack, problems, failures, args.keep)


if __name__ == "__main__":
    sys.exit(main())
