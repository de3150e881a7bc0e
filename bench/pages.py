"""Server time of the proposal pages at 1,000 proposals, next to a trivial view measured in the same run.

    .venv/bin/python -m bench.pages [--proposals 1000] [--rounds 200] [--smoke]

Runs in-process through Django's test client against a throw-away test database, so the figures are
server time (URL routing, view, queries, template) without network or browser. The database is
``test_sg_bench`` on the server of BENCH_DATABASE_URL (see bench/common.py). ``--smoke`` runs the
smallest sizes in seconds, to check that the script still works.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.common import setup_django

setup_django()

from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402


def seed(count: int):
    from proposals import services
    from tests.factories import UserFactory

    author = UserFactory(username="bench-author", groups=["author"])
    others = [UserFactory(username=f"bench-{n}", groups=["author"]) for n in range(20)]
    for n in range(count):
        owner = author if n % 10 == 0 else others[n % len(others)]
        proposal = services.proposal_create(
            title=f"Proposal {n}: summarise threads", owner=owner, confidential=n % 7 == 0
        )
        services.requirement_add(proposal=proposal, text="See open threads", by=owner)
        services.research_link_add(
            proposal=proposal, url="https://example.com/research/1", title="Interviews", by=owner
        )
    return author


def measure(client: Client, url: str, data_for, rounds: int) -> tuple[list[float], int]:
    timings = []
    queries = 0
    for n in range(rounds):
        data = data_for(n) if data_for else None  # prepared outside the timed request
        reset_queries()  # the query log keeps 9,000 entries; full, it would count none
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url) if data is None else client.post(url, data, HTTP_HX_REQUEST="true")
            timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    return timings, queries


def report(name: str, timings: list[float], queries: int, baseline: float) -> None:
    median = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    ratio = median / baseline
    print(f"{name:<26} median {median:7.2f} ms  p95 {p95:7.2f} ms  {ratio:6.1f}x trivial  {queries} queries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--proposals", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--smoke", action="store_true", help="20 proposals, 5 rounds: does the script still work?")
    args = parser.parse_args()
    if args.smoke:
        args.proposals, args.rounds = 20, 5

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        author = seed(args.proposals)
        print(f"seeded {args.proposals} proposals in {time.perf_counter() - started:.1f} s on {connection.vendor}")
        client = Client()
        client.force_login(author)
        from proposals import services
        from proposals.models import Proposal

        proposal = Proposal.objects.filter(owner=author).first()
        fields = ("user_problem", "solution_hypothesis", "assumptions", "personas", "persona_tags")

        def autosave(n: int) -> dict:
            proposal.refresh_from_db()
            values = services.section_values(proposal, fields)
            return {
                "version": proposal.version,
                "base": services.section_fingerprint(values),
                "user_problem": f"Reviewers drown in long threads (draft {n})",
            }

        for url in (reverse("healthz"), reverse("proposals:list")):  # warm caches and connections
            client.get(url)
        trivial, _ = measure(client, reverse("healthz"), None, args.rounds)
        baseline = statistics.median(trivial)
        report("trivial view (/healthz)", trivial, 0, baseline)
        for name, url, data_for in [
            ("proposal list", reverse("proposals:list"), None),
            ("proposal list, filtered", reverse("proposals:list") + "?q=threads&stage=experiment", None),
            ("edit page", reverse("proposals:edit", args=[proposal.pk]), None),
            ("read view", reverse("proposals:detail", args=[proposal.pk]), None),
            ("autosave (htmx)", reverse("proposals:section-save", args=[proposal.pk, "problem"]), autosave),
        ]:
            timings, queries = measure(client, url, data_for, args.rounds)
            report(name, timings, queries, baseline)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
