"""Moving a proposal between template versions loses nothing, and moving back restores it."""

import pytest
from django.core.exceptions import PermissionDenied

from proposals import checklists, markdown
from proposals.content import RENDER_PREFETCH, content_from_proposal
from proposals.models import ChecklistItem, Persona, Proposal, Requirement, ResearchLink
from proposals.template_moves import UnknownTemplateVersion, proposal_change_template

ANSWERS = {
    "user_problem": "Security teams triage 400 findings a week.",
    "solution_hypothesis": "Ranking by exploitability halves the work.",
    "assumptions": "Findings carry enough context.",
    "personas": "Mostly AppSec engineers.",
    "proposal": "A ranked list in the vulnerability report.",
    "success": "Median triage time down 50%.",
    "main_job_story": "When I triage, I want the riskiest first.",
    "proposal_updates": "Scoped to SAST findings.",
    "problem_validation": "12 customer interviews.",
    "business_objective": "Ultimate retention.",
    "dependency_needs": "The AI gateway.",
    "legal_needs": "Vendor DPA.",
}


@pytest.fixture
def june_proposal(proposal, author):
    Proposal.objects.filter(pk=proposal.pk).update(**ANSWERS, confidence="high")
    proposal.persona_tags.add(Persona.objects.get(name="Amy"))
    Requirement.objects.create(proposal=proposal, text="See the riskiest finding first", position=0)
    ResearchLink.objects.create(proposal=proposal, title="Interviews", url="https://gitlab.test/r/1", position=0)
    ChecklistItem.objects.filter(proposal=proposal, key__in=["designs", "job_statement"]).update(checked=True)
    proposal.reviews.filter(area__key="data").update(answer="Public merge requests only.")
    Proposal.objects.filter(pk=proposal.pk).update(
        kept_blocks=[{"after": "success", "markdown": "## Rollout plan\nThree waves."}]
    )
    proposal = Proposal.objects.get(pk=proposal.pk)
    checklists.refresh_verified_checklist(proposal)  # the items the app ticks itself follow the answers
    return proposal


def body_of(proposal) -> str:
    return markdown.render(
        content_from_proposal(Proposal.objects.prefetch_related(*RENDER_PREFETCH).get(pk=proposal.pk))
    )


def ticked(proposal) -> set[tuple[str, str]]:
    return set(proposal.checklist_items.filter(checked=True).values_list("stage", "key"))


def test_moving_to_the_latest_version_keeps_every_answer_and_shows_what_has_no_place(june_proposal, author):
    before = body_of(june_proposal)
    moved = proposal_change_template(proposal=june_proposal, version="2023-beta", by=author)
    moved.refresh_from_db()
    assert moved.template_version == "2023-beta"
    for name, text in ANSWERS.items():
        assert moved.field_value(name) == text, name
    assert list(moved.requirements.values_list("text", flat=True)) == ["See the riskiest finding first"]
    assert list(moved.persona_tags.values_list("name", flat=True)) == ["Amy"]
    assert moved.reviews.get(area__key="data").answer == "Public merge requests only."
    # The latest version has no confidence table: it is kept, as it stood, after Business objective.
    assert moved.confidence == "" and not moved.research_links.exists()
    kept = {block["after"]: block["markdown"] for block in moved.kept_blocks}
    assert "### Confidence\n\n| Confidence | Research |" in kept["business_objective"]
    assert "| High | [Interviews](https://gitlab.test/r/1) |" in kept["business_objective"]
    assert kept["success"] == "## Rollout plan\n\nThree waves."
    # Ticks follow their item; the items the app ticks from the answers are ticked from them again.
    assert {("experiment", "designs"), ("ga", "designs")} <= ticked(moved)
    assert {("beta", "job_stories"), ("experiment", "solution_hypothesis")} <= ticked(moved)
    after = body_of(moved)
    assert "# [Beta](" in after and "### Confidence" in after
    for line in before.split("\n"):
        if line.strip() and any(text in line for text in ANSWERS.values()):
            assert line in after


def test_moving_back_restores_the_proposal(june_proposal, author):
    before = body_of(june_proposal)
    ticks = ticked(june_proposal)
    proposal_change_template(proposal=june_proposal, version="2023-beta", by=author)
    back = proposal_change_template(proposal=june_proposal, version="2023-06", by=author)
    back.refresh_from_db()
    assert back.confidence == "high"
    assert list(back.research_links.values_list("title", "url")) == [("Interviews", "https://gitlab.test/r/1")]
    assert ticked(back) == ticks
    assert back.kept_blocks == [{"after": "success", "markdown": "## Rollout plan\n\nThree waves."}]
    assert body_of(back) == before


def test_latest_only_fields_go_to_extra_fields_and_come_back(proposal, author):
    proposal_change_template(proposal=proposal, version="2023-beta", by=author)
    Proposal.objects.filter(pk=proposal.pk).update(
        extra_fields={"small_jobs": "Dismiss a finding", "beta_success": "NPS +10", "ga_requirements": "Audit log"}
    )
    june = proposal_change_template(proposal=proposal, version="2023-06", by=author)
    june.refresh_from_db()
    assert june.extra_fields == {}
    kept = "\n".join(block["markdown"] for block in june.kept_blocks)
    assert "Dismiss a finding" in kept and "NPS +10" in kept and "Audit log" in kept
    assert "Dismiss a finding" in body_of(june)
    assert kept.count("- [x]") == 0  # an unticked item of a version is template text: nothing to keep
    latest = proposal_change_template(proposal=proposal, version="2023-beta", by=author)
    latest.refresh_from_db()
    assert latest.extra_fields == {
        "small_jobs": "Dismiss a finding",
        "beta_success": "NPS +10",
        "ga_requirements": "Audit log",
    }
    assert latest.kept_blocks == []


def test_only_the_author_moves_a_proposal(proposal, other_author):
    with pytest.raises(PermissionDenied):
        proposal_change_template(proposal=proposal, version="2023-beta", by=other_author)


def test_an_unknown_version_is_refused(proposal, author):
    with pytest.raises(UnknownTemplateVersion):
        proposal_change_template(proposal=proposal, version="1999-01", by=author)


def test_the_move_is_recorded(proposal, author):
    proposal_change_template(proposal=proposal, version="2023-07", by=author)
    activity = proposal.activities.first()
    assert "moved the proposal" in activity.message and activity.data["template_to"] == "2023-07"


def test_a_tick_with_no_place_in_the_target_stays_a_ticked_line(proposal, author):
    latest = proposal_change_template(proposal=proposal, version="2023-beta", by=author)
    ChecklistItem.objects.filter(proposal=latest, stage="beta", key="linked_features").update(checked=True)
    june = proposal_change_template(proposal=latest, version="2023-06", by=author)
    june.refresh_from_db()
    assert [
        (markdown.anchor_label(june.template_version, block["after"]), block["markdown"]) for block in june.kept_blocks
    ] == [
        (
            "after the Experiment checklist",
            "### Beta\n\n- [x] Add all related feature issues to the Linked items section",
        )
    ]
    back = proposal_change_template(proposal=june, version="2023-beta", by=author)
    assert ("beta", "linked_features") in ticked(back)
    assert Proposal.objects.get(pk=proposal.pk).kept_blocks == []
