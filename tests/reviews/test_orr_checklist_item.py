"""The GA checklist's "Operational Requirements Review" item follows the five areas' sign-offs."""

import pytest

from proposals.models import ChecklistItem
from reviews.models import Decision
from reviews.services import review_answer_save, review_decide
from tests.reviews.conftest import review_of


def orr_item(proposal) -> ChecklistItem:
    return ChecklistItem.objects.get(proposal=proposal, stage="ga", key="orr_checklist")


@pytest.mark.django_db
def test_the_orr_item_is_ticked_when_every_area_is_signed_off_and_unticked_when_one_goes_stale(
    submitted_proposal, make_reviewer, author
):
    assert not orr_item(submitted_proposal).checked
    for key in ("work_estimate", "data", "model", "cost", "legal"):
        review = review_of(submitted_proposal, key)
        review_decide(review=review, kind=Decision.Kind.APPROVED, by=make_reviewer(key))
    item = orr_item(submitted_proposal)
    assert item.checked and item.checked_by_app

    review = review_of(submitted_proposal, "data")
    review_answer_save(review=review, answer="Different data now.", base_sha256=review.answer_sha256, by=author)
    assert not orr_item(submitted_proposal).checked
