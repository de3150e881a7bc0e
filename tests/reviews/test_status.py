import datetime

import pytest
from django.db.models import Prefetch

from proposals.models import Proposal
from reviews import services
from reviews.models import Review
from reviews.status import ORR_LABELS, orr_labels, orr_status_summary
from tests.factories import ProposalFactory
from tests.reviews.conftest import review_of


@pytest.mark.django_db
def test_the_orr_label_follows_the_review(submitted_proposal, author, make_reviewer, areas):
    draft = ProposalFactory(owner=author)
    assert orr_labels(draft) == {"orr::not-started"}
    assert orr_labels(submitted_proposal) == {"orr::in-review"}
    people = {key: make_reviewer(key) for key in areas}
    services.review_decide(
        review=review_of(submitted_proposal, "data"), kind="changes_requested", comment="Which data?", by=people["data"]
    )
    assert orr_labels(submitted_proposal) == {"orr::changes-requested"}
    for key in areas:
        services.review_decide(review=review_of(submitted_proposal, key), kind="approved", by=people[key])
    assert orr_labels(submitted_proposal) == {"orr::approved"}
    review = review_of(submitted_proposal, "cost")
    services.review_answer_save(review=review, answer="New figures.", base_sha256=review.answer_sha256, by=author)
    assert orr_labels(submitted_proposal) == {"orr::stale"}
    assert orr_labels(submitted_proposal) <= ORR_LABELS


@pytest.mark.django_db
def test_an_expired_waiver_shows_without_waiting_for_the_daily_task(submitted_proposal, make_reviewer, areas):
    people = {key: make_reviewer(key) for key in areas}
    for key in areas:
        services.review_decide(review=review_of(submitted_proposal, key), kind="approved", by=people[key])
    expiry = datetime.date(2099, 1, 1)
    services.review_decide(
        review=review_of(submitted_proposal, "legal"),
        kind="not_applicable",
        comment="Internal only",
        by=people["legal"],
        waiver_expires_on=expiry,
    )
    assert orr_labels(submitted_proposal, today=expiry) == {"orr::approved"}
    assert orr_labels(submitted_proposal, today=expiry + datetime.timedelta(days=1)) == {"orr::stale"}
    legal = orr_status_summary(submitted_proposal, today=expiry)[4]
    assert (legal.status_text, legal.reviewer, legal.waiver_expires_on) == ("Not applicable", "rev_legal", "2099-01-01")


@pytest.mark.django_db
def test_the_summary_names_each_area_its_status_and_reviewer_in_order(submitted_proposal, data_reviewer, areas):
    services.review_decide(review=review_of(submitted_proposal, "data"), kind="approved", by=data_reviewer)
    rows = orr_status_summary(submitted_proposal)
    assert [row.number for row in rows] == [1, 2, 3, 4, 5]
    assert (rows[1].title, rows[1].status_text, rows[1].reviewer, rows[1].signed_off) == (
        "Data Limitation",
        "Approved",
        "rev_data",
        True,
    )
    assert (rows[0].status_text, rows[0].reviewer) == ("In review", "orr work_estimate")


@pytest.mark.django_db
def test_the_summary_of_many_proposals_costs_a_fixed_number_of_queries(author, areas, django_assert_num_queries):
    for _ in range(3):
        ProposalFactory(owner=author)
    reviews = Prefetch(
        "reviews",
        queryset=Review.objects.select_related(
            "area", "area__reviewer_group", "reviewer", "current_decision__decided_by__gitlab_account"
        ),
    )
    with django_assert_num_queries(2):
        proposals = list(Proposal.objects.prefetch_related(reviews))
        summaries = [orr_status_summary(p) for p in proposals]
        labels = [orr_labels(p) for p in proposals]
    assert len(summaries) == 3 and labels == [{"orr::not-started"}] * 3
