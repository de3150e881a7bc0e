"""Server time of the proposal pages at 1,000 and 100,000 proposals, next to a trivial view and Django
admin's change list of the same proposals (the peer), measured in the same run.

    .venv/bin/python -m bench.pages [--sizes 1000 100000] [--rounds 200] [--keep] [--smoke]

The portfolio comes from ``seed_bench`` (reviews, checklists, a timeline of about thirty entries each);
the author's own proposals, whose edit page and autosave are measured, are made through the services.

Runs in-process through Django's test client against a throw-away test database, so the figures are
server time (URL routing, view, queries, template) without network or browser. The database is
``test_sg_bench`` on the server of BENCH_DATABASE_URL (see bench/common.py). ``--smoke`` runs the
smallest sizes in seconds, to check that the script still works. ``--keep`` keeps that database for the
next run, which then seeds only what is missing (100,000 proposals take about two minutes to seed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.common import setup_django

setup_django()

from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402


def seed_author():
    from django.contrib.auth import get_user_model

    from proposals import services
    from tests.factories import UserFactory

    kept = get_user_model().objects.filter(username="bench-author").first()
    if kept is not None:  # a database kept from an earlier run (--keep)
        return kept
    author = UserFactory(username="bench-author", groups=["author"])
    for n in range(10):
        proposal = services.proposal_create(title=f"Proposal {n}: summarise threads", owner=author, confidential=n == 0)
        services.requirement_add(proposal=proposal, text="See open threads", by=author)
        services.research_link_add(
            proposal=proposal, url="https://example.com/research/1", title="Interviews", by=author
        )
    return author


# CPU time of this process per request (median): waiting for a busy machine's cores does not inflate it.
cpu_of: dict[str, float] = {}


def measure(client: Client, url: str, data_for, rounds: int) -> tuple[list[float], int]:
    timings, cpu = [], []
    queries = 0
    for n in range(rounds):
        data = data_for(n) if data_for else None  # prepared outside the timed request
        reset_queries()  # the query log keeps 9,000 entries; full, it would count none
        with CaptureQueriesContext(connection) as captured:
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url) if data is None else client.post(url, data, HTTP_HX_REQUEST="true")
            timings.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    cpu_of[url] = statistics.median(cpu)
    return timings, queries


def report(
    name: str, timings: list[float], queries: int, baseline: float, admin: float = 0, *, cpu: float = 0
) -> float:
    median = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    versus_admin = f"  {median / admin:5.2f}x admin" if admin else ""
    print(
        f"  {name:<26} median {median:7.2f} ms  p95 {p95:7.2f} ms  {median / baseline:6.1f}x trivial{versus_admin}"
        f"  cpu {cpu:6.2f} ms  {queries} queries"
    )
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100000])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument(
        "--keep", action="store_true", help="keep the seeded database for the next run (which reuses it)"
    )
    parser.add_argument("--smoke", action="store_true", help="20 proposals, 5 rounds: does the script still work?")
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.rounds = [20], 5

    from django.contrib.auth import get_user_model

    from proposals.management.commands.seed_bench import seed_portfolio

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=args.keep)
    try:
        author = seed_author()
        admin = get_user_model().objects.filter(username="bench-admin").first()
        if admin is None:
            admin = get_user_model().objects.create_superuser("bench-admin", "bench-admin@example.com", "x")
        from proposals import services
        from proposals.models import Proposal

        proposal = Proposal.objects.filter(owner=author).order_by("pk").last()
        fields = ("user_problem", "solution_hypothesis", "assumptions", "personas", "persona_tags")

        def autosave(n: int) -> dict:
            proposal.refresh_from_db()
            values = services.section_values(proposal, fields)
            return {
                "version": proposal.version,
                "base": services.section_fingerprint(values),
                "user_problem": f"Reviewers drown in long threads (draft {n})",
            }

        seeded = Proposal.objects.count()
        for size in sorted(args.sizes):
            started = time.perf_counter()
            seed_portfolio(proposals=max(0, size - seeded), seed=size)
            seeded = max(size, seeded)
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("VACUUM ANALYZE")
            print(
                f"\n{seeded} proposals, seeded in {time.perf_counter() - started:.1f} s on {connection.vendor}; "
                f"load average {' '.join(f'{n:.1f}' for n in os.getloadavg())}"
            )
            client = Client()
            client.force_login(author)
            admin_client = Client()
            admin_client.force_login(admin)
            admin_list = reverse("admin:proposals_proposal_changelist")
            for url in (reverse("healthz"), reverse("proposals:list")):  # warm caches and connections
                client.get(url)
            admin_client.get(admin_list)
            # The number in the title of the newest seeded proposal ("… #12345"): what a search for one proposal
            # looks like.
            newest = Proposal.objects.filter(title__contains="#").order_by("-pk").values_list("title", flat=True)
            rare_word = newest.first().rsplit("#", 1)[-1]
            trivial, _ = measure(client, reverse("healthz"), None, args.rounds)
            baseline = statistics.median(trivial)
            report("trivial view (/healthz)", trivial, 0, baseline)
            timings, queries = measure(admin_client, admin_list, None, max(5, args.rounds // 4))
            peer = report("admin change list (peer)", timings, queries, baseline, cpu=cpu_of[admin_list])
            for name, url, data_for in [
                ("proposal list", reverse("proposals:list"), None),
                # A word in about one proposal in eight (the count reads every match), then one in a single title.
                ("proposal list, common word", reverse("proposals:list") + "?q=vulnerability", None),
                ("proposal list, rare word", reverse("proposals:list") + f"?q={rare_word}", None),
                ("proposal list, filtered", reverse("proposals:list") + "?q=threads&stage=experiment", None),
                ("proposal list, page 40", reverse("proposals:list") + "?page=40", None),
                ("edit page", reverse("proposals:edit", args=[proposal.pk]), None),
                ("read view", reverse("proposals:detail", args=[proposal.pk]), None),
                ("autosave (htmx)", reverse("proposals:section-save", args=[proposal.pk, "problem"]), autosave),
            ]:
                timings, queries = measure(client, url, data_for, args.rounds)
                report(name, timings, queries, baseline, peer, cpu=cpu_of[url])
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=args.keep)


if __name__ == "__main__":
    main()
