"""Server time of the ORR pages: "My reviews" at thousands of reviews, the review page, an answer autosave.

    .venv/bin/python -m bench.reviews [--proposals 1000] [--rounds 100] [--smoke]

Each proposal has its five reviews submitted; the reviewer belongs to every area, so their queue
holds five reviews per proposal (shown 50 to a page). In-process through Django's test
client against a throw-away test database (``test_sg_bench`` on the server of BENCH_DATABASE_URL, see
bench/common.py): server time without network or browser. Each figure is also given as a ratio to the
trivial /healthz view measured in the same run. ``--smoke`` runs the smallest sizes in seconds.
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
    from django.contrib.auth.models import Group

    from config.celery import app
    from proposals import services as proposal_services
    from reviews import notifications, services
    from reviews.models import OrrArea, Review
    from tests.factories import UserFactory

    app.conf.task_always_eager = True
    notifications._enqueue = lambda notification_id: None  # mail stays in the outbox table: seeding measures nothing
    reviewer = UserFactory(username="bench-reviewer", groups=["reviewer"])
    for area in OrrArea.objects.all():
        area.reviewer_group = Group.objects.get_or_create(name=f"orr {area.key}")[0]
        area.save()
        reviewer.groups.add(area.reviewer_group)
    authors = [UserFactory(username=f"bench-author-{n}", groups=["author"]) for n in range(20)]
    for n in range(count):
        owner = authors[n % len(authors)]
        proposal = proposal_services.proposal_create(title=f"Proposal {n}: summarise threads", owner=owner)
        Review.objects.filter(proposal=proposal).update(answer=f"Answer for proposal {n}.")
        services.review_submit_for_review(proposal=proposal, by=owner)
    return reviewer, authors[0]


def measure(client: Client, method: str, url: str, data_for, rounds: int) -> tuple[list[float], int]:
    timings, queries = [], 0
    for n in range(rounds):
        data = data_for(n) if data_for else {}
        reset_queries()  # the query log keeps 9,000 entries; full, it would count none
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = getattr(client, method)(url, data, HTTP_HX_REQUEST="true") if data else client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    return timings, queries


def report(name: str, timings: list[float], queries: int, baseline: float) -> None:
    median = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    ratio = median / baseline
    print(f"{name:<34} median {median:7.2f} ms  p95 {p95:7.2f} ms  {ratio:6.1f}x trivial  {queries} queries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--proposals", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--smoke", action="store_true", help="5 proposals, 5 rounds: does the script still work?")
    args = parser.parse_args()
    if args.smoke:
        args.proposals, args.rounds = 5, 5

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from reviews.models import Review

        started = time.perf_counter()
        reviewer, author = seed(args.proposals)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # planner statistics, as autovacuum keeps them in production
        total = Review.objects.count()
        print(f"seeded {args.proposals} proposals, {total} reviews in {time.perf_counter() - started:.1f} s")
        client = Client()
        client.force_login(reviewer)
        review = Review.objects.filter(proposal__owner=author, area__key="data").select_related("proposal").first()
        queue = reverse("reviews:queue")
        client.get(queue)  # warm connections and template caches
        trivial, _ = measure(client, "get", reverse("healthz"), None, args.rounds)
        baseline = statistics.median(trivial)
        report("trivial view (/healthz)", trivial, 0, baseline)
        for name, url in [
            ("My reviews (waiting, page of 50)", queue),
            ("My reviews, one area, overdue", f"{queue}?area={review.area_id}&due=overdue"),
            ("My reviews, changed since looked", f"{queue}?show=all&changed=on"),
            ("review page", reverse("reviews:detail", args=[review.pk])),
        ]:
            timings, queries = measure(client, "get", url, None, args.rounds)
            report(name, timings, queries, baseline)

        author_client = Client()
        author_client.force_login(author)
        answer_url = reverse("reviews:answer", args=[review.proposal_id, "cost"])

        def autosave(n: int) -> dict:
            current = Review.objects.get(proposal_id=review.proposal_id, area__key="cost")
            return {"answer": f"About 0.2 cents per summary (draft {n})", "base": current.answer_sha256}

        timings, queries = measure(author_client, "post", answer_url, autosave, args.rounds)
        report("answer autosave (htmx)", timings, queries, baseline)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
