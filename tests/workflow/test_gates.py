import dataclasses

import pytest

from proposals import checklists, workflow
from proposals import services as proposal_services
from proposals.models import Activity, ChecklistItem, Proposal, ResearchLink
from proposals.template import DEFINITIONS, JUNE_2023, Stage
from reviews import services
from reviews.models import Review
from tests.factories import ProposalFactory
from tests.workflow.conftest import ANSWERS, answer_all, fill, sign_off_all


def names(transitions):
    return {t.name: t for t in transitions}


@pytest.mark.django_db
def test_moving_into_ga_work_is_closed_until_the_experiment_section_and_checklist_are_done(author):
    proposal = ProposalFactory(owner=author)
    reasons = workflow.advance_gate(proposal, by=author)
    assert "Fill in “User problem” (Experiment)" in reasons
    assert "Fill in “Success” (Experiment)" in reasons
    assert (
        "Tick “Add relevant designs to the Design Management area of the issue if available” "
        "in the Experiment checklist" in reasons
    )
    # The label item is ticked by the app: the new proposal carries the label.
    assert not any("label" in reason for reason in reasons)
    button = names(workflow.transitions(proposal, by=author))[workflow.ADVANCE]
    assert button.label == "Move into General Availability work"
    assert not button.enabled
    with pytest.raises(workflow.GateClosed):
        workflow.proposal_advance_stage(proposal=proposal, by=author)
    proposal.refresh_from_db()
    assert proposal.stage == Stage.EXPERIMENT


@pytest.mark.django_db
def test_a_complete_experiment_moves_into_ga_work_and_says_so_on_the_timeline(author):
    proposal = fill(ProposalFactory(owner=author), Stage.EXPERIMENT)
    assert workflow.advance_gate(proposal, by=author) == []
    version = proposal.version
    proposal = workflow.proposal_advance_stage(proposal=proposal, by=author)
    assert proposal.stage == Stage.GA
    assert proposal.version == version + 1
    assert "into General Availability work" in proposal.activities.filter(kind=Activity.Kind.STATE).first().message
    assert names(workflow.transitions(proposal, by=author)).get(workflow.ADVANCE) is None


@pytest.mark.django_db
def test_a_missing_label_closes_the_gate_with_its_own_reason(author):
    proposal = fill(ProposalFactory(owner=author), Stage.EXPERIMENT)
    Proposal.objects.filter(pk=proposal.pk).update(labels=[])
    proposal.refresh_from_db()
    checklists.refresh_verified_checklist(proposal)
    assert workflow.advance_gate(proposal, by=author) == ["Add the ~wg-ai-integration label"]


@pytest.mark.django_db
def test_nobody_but_the_author_or_an_admin_moves_a_proposal(author, other_author, admin_user):
    proposal = fill(ProposalFactory(owner=author), Stage.EXPERIMENT)
    assert workflow.advance_gate(proposal, by=other_author) == ["Only the proposal's author or an admin can do this"]
    assert workflow.advance_gate(proposal, by=admin_user) == []


@pytest.mark.django_db
def test_approval_for_ga_lists_every_reason_it_is_closed(answered_proposal, author):
    proposal = fill(answered_proposal, Stage.EXPERIMENT)
    reasons = workflow.approve_gate(proposal, by=author)
    assert "Move into General Availability work first" in reasons
    assert "Submit the ORR answers for review first" in reasons
    assert "Fill in “Main job story” (General Availability)" in reasons
    assert "Fill in “Confidence” (General Availability)" in reasons
    assert "Fill in “Requirements” (General Availability)" in reasons
    assert (
        "Tick “You have adhered to our Definition of Done standards” in the General Availability checklist" in reasons
    )
    assert "ORR “Data Limitation”: not submitted for review yet" in reasons


@pytest.mark.django_db
def test_confidence_needs_at_least_one_research_link(answered_proposal, author):
    proposal = fill(fill(answered_proposal, Stage.EXPERIMENT), Stage.GA)
    ResearchLink.objects.filter(proposal=proposal).delete()
    assert "Add at least one research link to back the confidence" in workflow.approve_gate(proposal, by=author)


@pytest.mark.django_db
def test_approval_for_ga_opens_once_all_five_areas_are_signed_off_and_closes_again_when_one_goes_stale(
    answered_proposal, author, reviewers, working_group_member
):
    proposal = fill(answered_proposal, Stage.EXPERIMENT)
    proposal = workflow.proposal_advance_stage(proposal=proposal, by=author)
    proposal = fill(proposal, Stage.GA)
    services.review_submit_for_review(proposal=proposal, by=author)
    proposal.refresh_from_db()
    reasons = workflow.approve_gate(proposal, by=working_group_member)
    assert reasons == [
        f"ORR “{title}”: waiting for a reviewer's decision"
        for title in (
            "Work estimate and skills needs to build an ML viable feature",
            "Data Limitation",
            "Model Limitation",
            "Cost, Scalability, Reliability",
            "Legal and Ethical Framework",
        )
    ]
    sign_off_all(proposal, reviewers)
    services.review_decide(
        review=Review.objects.get(proposal=proposal, area__key="legal"),
        kind="not_applicable",
        comment="Internal tool, no customer data.",
        by=reviewers("legal"),
    )
    assert workflow.approve_gate(proposal, by=working_group_member) == []
    proposal = workflow.proposal_approve(proposal=proposal, by=working_group_member)
    assert proposal.state == Proposal.State.APPROVED

    data = Review.objects.get(proposal=proposal, area__key="data")
    services.review_answer_save(
        review=data, answer=ANSWERS["data"] + " And logs.", base_sha256=data.answer_sha256, by=author
    )
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.IN_REVIEW
    assert workflow.approve_gate(proposal, by=working_group_member) == [
        "ORR “Data Limitation”: sign-off is stale: the answer changed after it was signed"
    ]


@pytest.mark.django_db
def test_app_verified_checklist_items_follow_the_data_and_refuse_a_hand_tick(author):
    proposal = ProposalFactory(owner=author)
    item = ChecklistItem.objects.get(proposal=proposal, stage="experiment", key="user_problem")
    assert not item.checked
    fields = ("user_problem",)
    base = proposal_services.section_fingerprint(proposal_services.section_values(proposal, fields))
    proposal = proposal_services.proposal_update_section(
        proposal=proposal,
        fields=fields,
        data={"user_problem": "Threads are long."},
        version=proposal.version,
        base=base,
        by=author,
        section_title="Problem to be solved",
    )
    item.refresh_from_db()
    assert item.checked and item.checked_by_app
    with pytest.raises(proposal_services.ChecklistItemVerified):
        proposal_services.checklist_toggle(item=item, checked=False, by=author)
    base = proposal_services.section_fingerprint(proposal_services.section_values(proposal, fields))
    proposal_services.proposal_update_section(
        proposal=proposal,
        fields=fields,
        data={"user_problem": ""},
        version=proposal.version,
        base=base,
        by=author,
        section_title="Problem to be solved",
    )
    item.refresh_from_db()
    assert not item.checked and item.checked_by_app


@pytest.mark.django_db
def test_closing_and_reopening(author):
    proposal = ProposalFactory(owner=author)
    proposal = workflow.proposal_close(proposal=proposal, by=author)
    assert [t.name for t in workflow.transitions(proposal, by=author)] == [workflow.REOPEN]
    assert "The proposal is closed" in workflow.submit_gate(proposal, by=author)
    proposal = workflow.proposal_reopen(proposal=proposal, by=author)
    assert proposal.state == Proposal.State.DRAFT


@pytest.mark.django_db
def test_a_template_with_a_beta_stage_goes_through_beta_before_ga(author, monkeypatch):
    with_beta = dataclasses.replace(JUNE_2023, version="test-beta", stages=(Stage.EXPERIMENT, Stage.BETA, Stage.GA))
    monkeypatch.setitem(DEFINITIONS, with_beta.version, with_beta)
    proposal = fill(ProposalFactory(owner=author), Stage.EXPERIMENT)
    Proposal.objects.filter(pk=proposal.pk).update(template_version="test-beta")
    proposal.refresh_from_db()
    assert names(workflow.transitions(proposal, by=author))[workflow.ADVANCE].label == "Move into Beta work"
    proposal = workflow.proposal_advance_stage(proposal=proposal, by=author)
    assert proposal.stage == Stage.BETA
    assert "Move into General Availability work first" in workflow.approve_gate(proposal, by=author)
    proposal = workflow.proposal_advance_stage(proposal=proposal, by=author)
    assert proposal.stage == Stage.GA


@pytest.mark.django_db
def test_submission_needs_every_answer_and_lists_the_missing_areas(author, areas):
    proposal = ProposalFactory(owner=author)
    answer_all(proposal, {**ANSWERS, "cost": "", "legal": "  "})
    submit = names(workflow.transitions(proposal, by=author))[workflow.SUBMIT]
    assert submit.label == "Submit for review"
    assert list(submit.reasons) == [
        "Answer the ORR area “Cost, Scalability, Reliability”",
        "Answer the ORR area “Legal and Ethical Framework”",
    ]
    assert not submit.enabled
    with pytest.raises(workflow.GateClosed) as closed:
        services.review_submit_for_review(proposal=proposal, by=author)
    assert closed.value.reasons == list(submit.reasons)
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.DRAFT
