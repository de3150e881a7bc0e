"""The working-group dashboard at 1,000, 10,000 and 100,000 proposals on PostgreSQL.

    .venv/bin/python -m bench.dashboard [--sizes 1000 10000 100000] [--smoke]

Seeds a throw-away test database (``test_sg_bench`` on the server of BENCH_DATABASE_URL, see
bench/common.py) with ``seed_bench``, then measures in-process through
Django's test client, so the figures are server time (routing, middleware, view, queries, template,
streaming) without network or browser:

- median and p95 of the dashboard (from the worker's portfolio summary, and live as when the summary
  is missing), a filtered dashboard, its htmx update and the CSV export, next to the trivial /healthz
  view and Django admin's change list of the same proposals (its first page, the peer: what an admin
  gets for free), measured in the same run; how long the worker takes to refresh the summary;
- peak Python memory while the CSV export streams (tracemalloc), next to the size of the file;
- EXPLAIN ANALYZE of the dashboard's main queries at the largest size.

``--smoke`` runs the smallest size in seconds, to check that the script still works.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc

from bench.common import setup_django

setup_django()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

FILTERED = "?stage=ga&confidence=medium&label=wg-ai-integration&area=data&area_state=in_review&sort=title"
SEARCH = "?q=pipeline&sort=-confidence&page=3"
SORTED = "?sort=title&page=2"


def consume(response) -> int:
    if response.streaming:
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


# CPU time of this process per request (median), which waiting for a busy machine's cores does not inflate
# as it does the wall-clock times: on a shared machine it says best what a request costs Stagegate itself.
cpu_of: dict[str, float] = {}


def measure(client: Client, url: str, rounds: int, **headers) -> tuple[list[float], int, int, float]:
    timings, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, headers=headers)
        size = consume(response)
        timings.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    cpu_of[url] = statistics.median(cpu)
    with CaptureQueriesContext(connection) as captured:
        consume(client.get(url, headers=headers))
    sql_ms = sum(float(query["time"]) for query in captured.captured_queries) * 1000
    return timings, len(captured), size, sql_ms


def report(
    name: str,
    timings: list[float],
    queries: int,
    size: int,
    baseline: float,
    sql_ms: float = 0,
    admin: float = 0,
    *,
    cpu: float = 0,
) -> float:
    median = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) >= 2 else timings[0]
    versus_admin = f"  {median / admin:5.2f}x admin" if admin else ""
    print(
        f"  {name:<34} median {median:8.2f} ms  p95 {p95:8.2f} ms  {median / baseline:7.1f}x trivial{versus_admin}"
        f"  cpu {cpu:7.2f} ms  {queries:>3} queries ({sql_ms:6.1f} ms of SQL in one request)  {size / 1024:8.1f} KiB"
    )
    return median


def csv_peak_memory(client: Client, url: str) -> tuple[int, int]:
    """Peak Python heap while the export streams, and the bytes it streamed."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        size = consume(client.get(url))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, size


def explain(client: Client, url: str, slowest: int) -> None:
    """EXPLAIN ANALYZE of the dashboard queries that took longest in one request."""
    with CaptureQueriesContext(connection) as captured:
        consume(client.get(url))
    plans = sorted(captured.captured_queries, key=lambda q: float(q["time"]), reverse=True)[:slowest]
    for n, query in enumerate(plans, 1):
        sql = query["sql"]
        print(f"\n--- query {n} ({float(query['time']) * 1000:.1f} ms in the request) ---")
        print(" ".join(sql.split())[:400] + (" …" if len(sql) > 400 else ""))
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
            for (line,) in cursor.fetchall():
                print("   ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--live-rounds", type=int, default=10, help="rounds of the live (no summary) dashboard")
    parser.add_argument("--csv-rounds", type=int, default=5)
    parser.add_argument("--plans", type=int, default=8, help="how many of the slowest queries to EXPLAIN")
    parser.add_argument("--smoke", action="store_true", help="50 proposals, 3 rounds: does the script still work?")
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.rounds, args.live_rounds, args.csv_rounds, args.plans = [50], 3, 2, 2, 2
    if connection.vendor != "postgresql":
        sys.exit("bench.dashboard measures PostgreSQL: set BENCH_DATABASE_URL to a postgres:// URL.")

    from django.contrib.auth import get_user_model

    from dashboard.models import PortfolioSummary
    from dashboard.summary import summary_refresh
    from proposals.management.commands.seed_bench import seed_portfolio

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            print(f"PostgreSQL {cursor.fetchone()[0]}, database {connection.settings_dict['NAME']}")
        seeded = 0
        dashboard = reverse("dashboard:index")
        export = reverse("dashboard:csv")
        admin_list = reverse("admin:proposals_proposal_changelist")
        admin = get_user_model().objects.create_superuser("bench-admin", "bench-admin@example.com", "x")
        for size in sorted(args.sizes):
            started = time.perf_counter()
            counts = seed_portfolio(proposals=size - seeded, seed=size)
            seeded = size
            seed_seconds = time.perf_counter() - started
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
                cursor.execute("SELECT count(*) FROM proposals_activity")
                activities = cursor.fetchone()[0]
            print(
                f"\n{size} proposals ({activities} activities in all; added {counts['reviews']} reviews, "
                f"{counts['decisions']} decisions, {counts['checklist_items']} checklist items) "
                f"seeded in {seed_seconds:.1f} s"
            )
            # Other work on the machine slows every figure alike; the load average says how much there was.
            print(f"  load average before measuring: {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
            refreshes = []
            for _ in range(3):
                started = time.perf_counter()
                summary_refresh()
                refreshes.append((time.perf_counter() - started) * 1000)
            print(f"  worker: portfolio summary refresh   median {statistics.median(refreshes):8.1f} ms (every minute)")
            # A working-group member: sees every proposal except others' confidential ones.
            client = Client()
            client.force_login(get_user_model().objects.get(username="bench-wg-0"))
            admin_client = Client()
            admin_client.force_login(admin)
            for url in (reverse("healthz"), dashboard, export):
                consume(client.get(url))  # warm connections and template caches
            consume(admin_client.get(admin_list))

            trivial, _, size_trivial, _ = measure(client, reverse("healthz"), args.rounds * 3)
            baseline = statistics.median(trivial)
            report("trivial view (/healthz)", trivial, 0, size_trivial, baseline)
            timings, queries, body, sql_ms = measure(admin_client, admin_list, args.rounds)
            peer = report("admin change list (peer)", timings, queries, body, baseline, sql_ms, cpu=cpu_of[admin_list])
            for name, url, rounds, headers in (
                ("dashboard (summary)", dashboard, args.rounds, {}),
                (
                    "dashboard, htmx sort (summary)",
                    dashboard + "?sort=title&page=2",
                    args.rounds,
                    {"HX-Request": "true"},
                ),
                ("dashboard, filtered (live)", dashboard + FILTERED, args.rounds, {}),
                ("dashboard, search + page 3 (live)", dashboard + SEARCH, args.rounds, {}),
                ("dashboard, htmx filter (live)", dashboard + FILTERED, args.rounds, {"HX-Request": "true"}),
                ("CSV export (all visible)", export, args.csv_rounds, {}),
                ("CSV export, filtered", export + FILTERED, args.rounds, {}),
            ):
                timings, queries, body, sql_ms = measure(client, url, rounds, **headers)
                report(name, timings, queries, body, baseline, sql_ms, peer, cpu=cpu_of[url])
            # As when the worker has not refreshed yet: every figure computed over every proposal.
            PortfolioSummary.objects.all().delete()
            timings, queries, body, sql_ms = measure(client, dashboard, args.live_rounds)
            report(
                "dashboard, no summary (live)", timings, queries, body, baseline, sql_ms, peer, cpu=cpu_of[dashboard]
            )
            summary_refresh()
            peak, streamed = csv_peak_memory(client, export)
            print(f"  CSV export peak Python memory {peak / 1024:8.1f} KiB while streaming {streamed / 1024:8.1f} KiB")
        print(f"\nEXPLAIN ANALYZE of the {args.plans} slowest dashboard queries (summary) at {seeded} proposals:")
        explain(client, dashboard, args.plans)
        print("\nand of the filtered (live) dashboard's slowest three:")
        explain(client, dashboard + FILTERED, 3)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
