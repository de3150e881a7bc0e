from __future__ import annotations

import pytest

from proposals.checklists import refresh_verified_checklist
from proposals.models import ChecklistItem, Proposal, Requirement, ResearchLink
from proposals.template import Stage
from reviews import services
from reviews.models import Review
from tests.reviews.conftest import (  # noqa: F401 - fixtures shared with the reviews tests
    ANSWERS,
    answer_all,
    answered_proposal,
    areas,
    data_reviewer,
    make_reviewer,
    submitted_proposal,
    tasks_run_inline,
)

EXPERIMENT_TEXT = {
    "user_problem": "Reviewers drown in long merge request threads.",
    "solution_hypothesis": "A summary lets them catch up in a minute.",
    "assumptions": "Threads over 30 comments are the painful ones.",
    "personas": "Sasha (Software Developer)",
    "proposal": "Summarise the thread at the top of the merge request.",
    "success": "Half of the reviewers open the summary.",
}
GA_TEXT = {
    "main_job_story": "When I join a long review, I want the gist, so I can act.",
    "proposal_updates": "Summaries refresh on every new comment.",
    "problem_validation": "12 of 15 interviewed reviewers asked for it.",
    "business_objective": "Shorter review cycles.",
    "confidence": Proposal.Confidence.HIGH,
}


def fill(proposal: Proposal, stage: Stage) -> Proposal:
    """Everything the stage's section and checklist ask for, as an author would fill it in."""
    values = EXPERIMENT_TEXT if stage == Stage.EXPERIMENT else GA_TEXT
    Proposal.objects.filter(pk=proposal.pk).update(**values)
    if stage == Stage.GA:
        Requirement.objects.create(proposal=proposal, text="Read a summary of the thread", position=0)
        ResearchLink.objects.create(proposal=proposal, url="https://gitlab.example/research/1", title="Interviews")
    proposal.refresh_from_db()
    refresh_verified_checklist(proposal)
    ChecklistItem.objects.filter(proposal=proposal, stage=stage.value, checked=False).update(checked=True)
    return Proposal.objects.get(pk=proposal.pk)


def sign_off_all(proposal: Proposal, reviewer_for) -> None:
    for review in Review.objects.filter(proposal=proposal).select_related("area", "proposal"):
        services.review_decide(review=review, kind="approved", by=reviewer_for(review.area.key))


@pytest.fixture
def reviewers(make_reviewer):  # noqa: F811 - the fixture imported above
    made = {}

    def reviewer_for(key):
        if key not in made:
            made[key] = make_reviewer(key)
        return made[key]

    return reviewer_for
