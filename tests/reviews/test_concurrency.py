"""Sign-offs and answer edits racing each other: the sign-off never counts for text it did not sign."""

import threading

import pytest
from django.db import connection, connections

from proposals.template import Stage
from reviews import services
from reviews.models import Decision, Review
from tests.reviews.conftest import review_of

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs row locks: run with DATABASE_URL=postgres://…"
)


def race(*actions):
    """Start the actions together, each in its own thread and database connection; return what each raised."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait()
            action()
        except Exception as error:  # noqa: BLE001 - the refusal is the outcome under test
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_answer_edit_racing_a_sign_off_never_leaves_a_sign_off_on_text_it_did_not_sign(
    submitted_proposal, data_reviewer, author
):
    for round_number in range(8):
        review = review_of(submitted_proposal, "data")
        read = review.answer_sha256
        base = review.answer_sha256
        edit, sign = race(
            lambda review=review, base=base, n=round_number: services.review_answer_save(
                review=review, answer=f"Edit {n}", base_sha256=base, by=author
            ),
            lambda review=review, read=read: services.review_decide(
                review=review, kind="approved", by=data_reviewer, answer_sha256_read=read
            ),
        )
        assert edit is None
        review = review_of(submitted_proposal, "data")
        if sign is None:  # the sign-off came first, the edit made it stale
            assert review.status == Review.Status.STALE
        else:  # the edit came first: signing text the reviewer never read is refused
            assert isinstance(sign, services.ReviewRefused) and review.status != Review.Status.APPROVED
        if review.status == Review.Status.APPROVED:
            assert review.current_decision.answer_sha256 == review.answer_sha256
        Review.objects.filter(pk=review.pk).update(status=Review.Status.IN_REVIEW)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_reviewers_deciding_at_once_both_land_on_the_record(submitted_proposal, make_reviewer):
    first, second = make_reviewer("data", "rev_a"), make_reviewer("data", "rev_b")
    review = review_of(submitted_proposal, "data")
    outcomes = race(
        lambda: services.review_decide(review=review, kind="approved", by=first),
        lambda: services.review_decide(review=review, kind="changes_requested", comment="Retention?", by=second),
    )
    assert outcomes == [None, None]
    decisions = list(Decision.objects.filter(review=review))
    assert len(decisions) == 2
    review = review_of(submitted_proposal, "data")
    assert review.current_decision == decisions[0]  # the latest one is current, the other superseded
    assert review.status == decisions[0].kind


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_approval_for_ga_racing_an_answer_edit_never_leaves_an_approved_proposal_with_a_stale_area(
    submitted_proposal, author, make_reviewer, areas
):
    from proposals import workflow
    from proposals.models import Proposal
    from tests.workflow.conftest import fill

    proposal = fill(submitted_proposal, Stage.EXPERIMENT)
    Proposal.objects.filter(pk=proposal.pk).update(stage=Stage.GA)
    proposal = fill(Proposal.objects.get(pk=proposal.pk), Stage.GA)
    for key in areas:
        services.review_decide(review=review_of(proposal, key), kind="approved", by=make_reviewer(key))
    review = review_of(proposal, "cost")
    approve, edit = race(
        lambda: workflow.proposal_approve(proposal=proposal, by=author),
        lambda: services.review_answer_save(
            review=review, answer="New figures.", base_sha256=review.answer_sha256, by=author
        ),
    )
    assert edit is None
    proposal.refresh_from_db()
    assert review_of(proposal, "cost").status == Review.Status.STALE
    assert proposal.state == Proposal.State.IN_REVIEW
    assert approve is None or isinstance(approve, workflow.GateClosed)
