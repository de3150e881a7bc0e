"""The dashboard from the worker's portfolio summary: the same figures as live, for the same readers, at a
flat cost; and the decision turnaround from real take/decide calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboard.models import PortfolioSummary
from dashboard.summary import bucket_of, bucket_seconds, summary_refresh
from dashboard.tasks import refresh_portfolio_summary
from gitlab_sync.models import SyncState
from proposals.management.commands.seed_bench import seed_portfolio
from proposals.models import Proposal
from reviews import services as review_services
from reviews.models import Decision, Review
from tests.factories import ProposalFactory, UserFactory

DASHBOARD = reverse("dashboard:index")
pytestmark = pytest.mark.django_db

# session, user, ORR areas, the viewer's groups; the summary rows with which proposals are confidential now;
# the listed proposals (GA blockers and stale), the listed stale reviews, the listed sync states; the matrix
# page + its reviews; the viewer's saved views. (A list with no candidates costs no query.)
QUERIES_SUMMARY_HTMX = 11
QUERIES_SUMMARY_PAGE = QUERIES_SUMMARY_HTMX + 1  # the bell's unread count (the form's choices are in the summary)


def figures_of(response) -> dict:
    """What a reader sees on the dashboard, in plain values."""
    context = response.context
    spreads = lambda name: [(s.label, s.count, s.median_days, s.p90_days) for s in context[name]]  # noqa: E731
    return {
        "total": context["total"],
        "stages": [
            (row.stage, row.total, row.state_counts, row.confidence_counts, row.moved_week, row.moved_month, row.stale)
            for row in context["stages"]
        ],
        "matrix": [row.proposal.pk for row in context["matrix"]],
        "blocked": (context["blocked"].total, [(b.proposal.pk, b.reasons) for b in context["blocked"].rows]),
        "stale_proposals": (context["stale"].proposals.total, [p.pk for p in context["stale"].proposals.rows]),
        "stale_reviews": (context["stale"].reviews.total, [r.pk for r in context["stale"].reviews.rows]),
        "reviewer_load": context["reviewer_load"],
        "sync": (context["sync"].counts, [s.pk for s in context["sync"].troubled]),
        "time_in_stage": spreads("time_in_stage"),
        "review_waits": spreads("review_waits"),
        "turnaround": spreads("turnaround"),
        "choices": context["choices"],
    }


def close_enough(from_summary: list, live: list) -> bool:
    """Spreads from the summary's 1%-wide buckets: the same counts, medians and p90s within 0.5% (+ rounding)."""
    for (label, count, median, p90), (label_live, count_live, median_live, p90_live) in zip(
        from_summary, live, strict=True
    ):
        if (label, count) != (label_live, count_live):
            return False
        for value, exact in ((median, median_live), (p90, p90_live)):
            if (value is None) != (exact is None) or (exact is not None and abs(value - exact) > exact * 0.005 + 0.1):
                return False
    return True


def assert_same_as_live(client) -> None:
    from_summary = client.get(DASHBOARD)
    assert from_summary.context["summary_as_of"] is not None
    PortfolioSummary.objects.all().delete()
    live = client.get(DASHBOARD)
    assert live.context["summary_as_of"] is None
    summary_figures, live_figures = figures_of(from_summary), figures_of(live)
    for name in ("time_in_stage", "review_waits", "turnaround"):
        assert close_enough(summary_figures.pop(name), live_figures.pop(name)), name
    assert summary_figures == live_figures
    summary_refresh()


@pytest.fixture
def portfolio(other_author):
    seed_portfolio(proposals=80, seed=11)
    # A confidential proposal of the author's own, so their view adds it to the open scope.
    Proposal.objects.filter(pk=Proposal.objects.order_by("pk")[3].pk).update(owner=other_author, confidential=True)
    summary_refresh()


def test_the_summary_shows_each_reader_what_live_figures_show_them(
    client, portfolio, working_group_member, other_author, admin_user, reviewer
):
    for user in (working_group_member, other_author, admin_user, reviewer):
        client.force_login(user)
        assert_same_as_live(client)


def test_a_working_group_member_is_not_shown_confidential_proposals_from_the_summary(
    client, working_group_member, other_author, make_proposal
):
    make_proposal(title="Open one", stage="ga", labels=["open-label"])
    secret = make_proposal(
        title="Project Nightjar", owner=other_author, confidential=True, stage="ga", labels=["nightjar-only"]
    )
    Review.objects.filter(proposal=secret, area__key="legal").update(
        status=Review.Status.IN_REVIEW, reviewer=UserFactory(username="secret-reviewer", groups=["reviewer"])
    )
    summary_refresh()

    client.force_login(working_group_member)
    page = client.get(DASHBOARD)
    assert page.context["summary_as_of"] is not None
    html = page.content.decode()
    assert page.context["total"] == 1
    assert "Project Nightjar" not in html and "secret-reviewer" not in html
    assert "nightjar-only" not in page.context["choices"]["labels"]
    assert "grace" not in page.context["choices"]["owners"]
    assert [b.proposal.title for b in page.context["blocked"].rows] == ["Open one"]

    client.force_login(other_author)
    page = client.get(DASHBOARD)
    assert page.context["summary_as_of"] is not None
    assert page.context["total"] == 2
    assert "nightjar-only" in page.context["choices"]["labels"]
    assert sorted(b.proposal.title for b in page.context["blocked"].rows) == ["Open one", "Project Nightjar"]


def test_a_proposal_made_confidential_after_the_summary_is_not_counted_for_those_who_may_not_see_it(
    client, working_group_member, make_proposal
):
    make_proposal(title="Open one")
    turning = make_proposal(title="Soon secret", stage="ga")
    summary_refresh()
    client.force_login(working_group_member)
    assert client.get(DASHBOARD).context["total"] == 2

    Proposal.objects.filter(pk=turning.pk).update(confidential=True)  # any path: page, API, admin, GitLab

    page = client.get(DASHBOARD)
    assert page.context["total"] == 1
    assert "Soon secret" not in page.content.decode()
    # The worker catches up and the summary is used again.
    refresh_portfolio_summary()
    page = client.get(DASHBOARD)
    assert page.context["summary_as_of"] is not None
    assert page.context["total"] == 1


def test_an_old_summary_gives_way_to_live_figures_and_the_page_says_how_fresh_it_is(
    client, working_group_member, make_proposal, settings
):
    make_proposal(title="Open one")
    summary_refresh(now=timezone.now() - timedelta(seconds=settings.DASHBOARD_SUMMARY_MAX_AGE + 5))
    client.force_login(working_group_member)
    page = client.get(DASHBOARD)
    assert page.context["summary_as_of"] is None
    assert "Portfolio figures as of" not in page.content.decode()

    summary_refresh()
    page = client.get(DASHBOARD)
    assert page.context["summary_as_of"] is not None
    assert "Portfolio figures as of" in page.content.decode()


def test_a_filtered_page_takes_the_form_choices_from_the_summary_for_its_reader(
    client, working_group_member, other_author, make_proposal, django_assert_num_queries
):
    make_proposal(title="Open one", stage="ga", labels=["open-label"])
    make_proposal(title="Project Nightjar", owner=other_author, confidential=True, labels=["nightjar-only"])
    summary_refresh()
    client.force_login(working_group_member)
    page = client.get(DASHBOARD + "?stage=ga")
    assert page.context["summary_as_of"] is None  # the figures are live
    assert "open-label" in page.context["choices"]["labels"]
    assert "nightjar-only" not in page.context["choices"]["labels"]
    assert "grace" not in page.context["choices"]["owners"]
    client.force_login(other_author)
    page = client.get(DASHBOARD + "?stage=ga")
    assert "nightjar-only" in page.context["choices"]["labels"]
    assert "grace" in page.context["choices"]["owners"]


def test_a_filter_is_always_computed_live(client, working_group_member, make_proposal):
    make_proposal(title="Open one", stage="ga")
    summary_refresh()
    make_proposal(title="Made after the summary", stage="ga")
    client.force_login(working_group_member)
    page = client.get(DASHBOARD + "?stage=ga")
    assert page.context["summary_as_of"] is None
    assert page.context["total"] == 2


def summary_query_counts(client) -> tuple[int, int]:
    counts = []
    for url, headers in ((DASHBOARD, {}), (DASHBOARD + "?sort=title&page=2", {"HX-Request": "true"})):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, headers=headers)
        assert "Portfolio figures as of" in response.content.decode()
        counts.append(len(captured))
    return tuple(counts)


def grow_to(size: int) -> None:
    seed_portfolio(proposals=size - Proposal.objects.count(), seed=size)
    # Every list has rows at each size, so the queries behind them run at each size.
    first = Proposal.objects.filter(confidential=False).order_by("pk")[0]
    Proposal.objects.filter(pk=first.pk).update(stage="ga", state="in_review")
    SyncState.objects.filter(proposal=first).update(needs_push=True)
    summary_refresh()


def test_the_summary_page_costs_the_same_queries_at_10_and_1000_proposals(client, working_group_member):
    client.force_login(working_group_member)
    grow_to(10)
    assert summary_query_counts(client) == (QUERIES_SUMMARY_PAGE, QUERIES_SUMMARY_HTMX)
    grow_to(1000)
    assert summary_query_counts(client) == (QUERIES_SUMMARY_PAGE, QUERIES_SUMMARY_HTMX)


def test_an_author_adds_their_own_confidential_proposals_at_a_flat_cost(client, author):
    client.force_login(author)
    ProposalFactory(owner=author, title="Mine alone", confidential=True)
    grow_to(10)
    small = summary_query_counts(client)
    grow_to(1000)
    assert summary_query_counts(client) == small


def test_decision_turnaround_comes_from_real_take_and_decide(client, working_group_member, author):
    reviewer = UserFactory(username="rosalind", groups=["reviewer"])
    proposal = ProposalFactory(owner=author, title="Summarise merge request threads")
    for review in proposal.reviews.all():
        Review.objects.filter(pk=review.pk).update(answer="Covered.")
    review_services.review_submit_for_review(proposal=proposal, by=author)
    data = Review.objects.get(proposal=proposal, area__key="data")
    # The review has been waiting for three days (as the submission recorded it, three days earlier).
    Review.objects.filter(pk=data.pk).update(assigned_at=timezone.now() - timedelta(days=3))
    data.refresh_from_db()
    review_services.review_take(review=data, by=reviewer)
    decision = review_services.review_decide(review=data, kind=Decision.Kind.APPROVED, by=reviewer)
    # Waiting again later does not rewrite when this decision's wait began.
    Review.objects.filter(pk=data.pk).update(assigned_at=timezone.now())
    assert decision.waited_since == data.assigned_at

    client.force_login(working_group_member)
    for refreshed in (False, True):
        if refreshed:
            summary_refresh()
        page = client.get(DASHBOARD)
        assert (page.context["summary_as_of"] is not None) == refreshed
        turnaround = {s.label: s for s in page.context["turnaround"]}
        assert turnaround[data.area.title].count == 1
        assert turnaround[data.area.title].median_days == pytest.approx(3.0, abs=0.05)
        assert sum(s.count for s in page.context["turnaround"]) == 1
        assert "Days from a review starting to wait to its decision" in page.content.decode()


@pytest.mark.parametrize("seconds", [0, 0.5, 1, 59, 3600, 86400 * 3.25, 86400 * 700])
def test_a_duration_lands_in_a_bucket_whose_middle_is_within_half_a_percent(seconds):
    middle = bucket_seconds(bucket_of(seconds))
    assert abs(middle - seconds) <= max(seconds * 0.005, 0.5)
