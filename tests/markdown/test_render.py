"""render(): the issue body in the template's exact shape, from content and from a saved proposal's content."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals import markdown
from proposals.content import RENDER_PREFETCH, content_from_proposal
from proposals.markdown import KeptBlock, Link, OrrAnswer, PersonaMention, ProposalContent
from proposals.models import ChecklistItem, Persona, Proposal, Requirement, ResearchLink
from proposals.template import JUNE_2023


def non_blank(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


def test_an_empty_proposal_renders_as_the_template_without_its_quick_actions(spec_text):
    template_lines = [line for line in non_blank(spec_text()) if not line.startswith("/")]
    assert non_blank(markdown.render(ProposalContent())) == template_lines


def test_no_quick_action_is_written():
    body = markdown.render(ProposalContent(fields={"user_problem": "/label ~x\n/confidential"}))
    assert not [line for line in body.split("\n") if line.lstrip().startswith("/")]
    assert "\\/label ~x" in body


def test_a_filled_field_replaces_its_prompt_and_an_empty_one_keeps_it():
    body = markdown.render(ProposalContent(fields={"user_problem": "Reviewers drown in findings."}))
    assert "### User problem\nReviewers drown in findings.\n" in body
    assert "_What user problem will this solve?_" not in body
    assert "### Solution hypothesis\n_Why do you believe this AI solution is a good way to solve this problem?_" in body


def test_confidence_table_holds_the_value_and_research_links():
    content = ProposalContent(
        confidence="medium",
        research_links=(Link("Interview synthesis", "https://gitlab.com/g/p/-/issues/7"), Link("", "https://x.test/a")),
    )
    body = markdown.render(content)
    assert (
        "| Confidence | Research |\n| ----------------- | ------------------------------ |\n"
        "| Medium | [Interview synthesis](https://gitlab.com/g/p/-/issues/7)<br><https://x.test/a> |"
    ) in body
    assert "[High/Medium/Low]" not in body


def test_requirements_are_bullets_under_the_user_needs_to_be_able_to():
    body = markdown.render(ProposalContent(lists={"requirements": ("See the risk", "Dismiss a finding")}))
    assert "#### The user needs to be able to:\n- See the risk\n- Dismiss a finding\n" in body
    assert "- ..." not in body


def test_checklists_are_task_lists_with_the_template_items_verbatim():
    ticked = {("experiment", "personas"), ("ga", "label")}
    body = markdown.render(ProposalContent(checked=frozenset(ticked)))
    for checklist in JUNE_2023.checklists:
        for item in checklist.items:
            mark = "x" if (checklist.stage.value, item.key) in ticked else " "
            assert f"- [{mark}] {item.text}" in body
    experiment, ga = body.split("### General Availability\n")
    assert "- [x] Who it's for, list of personas impacted" in experiment
    assert "- [x] Ensure this issue has the ~wg-ai-integration label" in ga


def test_orr_areas_show_each_answer_and_review_status_and_the_needs_follow():
    content = ProposalContent(
        orr={"data": OrrAnswer("Training data: public MRs only.", "Approved"), "legal": OrrAnswer("", "Not started")},
        fields={"dependency_needs": "The AI gateway", "legal_needs": "A DPA with the vendor"},
    )
    body = markdown.render(content)
    assert ("2. **Data Limitation:** We would like to upfront validate") in body
    data = body.split("2. **Data Limitation:**")[1].split("3. **Model Limitation:**")[0]
    assert "   _Review status: Approved_" in data
    assert "   Training data: public MRs only." in data
    assert "   _Review status: Not started_" in body.split("5. **Legal and Ethical Framework:**")[1]
    assert "Dependency needs\n- [ ] [Operational Requirements Review" in body
    assert "\n\n  The AI gateway\n" in body
    assert "Legal needs\n- [ ] TBD\n\n  A DPA with the vendor\n" in body


def test_kept_blocks_stand_where_they_stood():
    content = ProposalContent(
        kept_blocks=(KeptBlock("success", "## Rollout plan\nThree waves."), KeptBlock("", "Epic: &12"))
    )
    body = markdown.render(content)
    assert body.startswith("Epic: &12\n\n# [Experiment]")
    assert (
        "_How will you measure whether this experiment is a success?_\n\n## Rollout plan\n\nThree waves.\n\n# [General"
        in body
    )


@pytest.fixture
def filled_proposal(proposal):
    Proposal.objects.filter(pk=proposal.pk).update(
        user_problem="Findings pile up.",
        confidence="high",
        legal_needs="None",
        kept_blocks=[{"after": "proposal", "markdown": "## Notes\nmore"}],
    )
    proposal.persona_tags.add(Persona.objects.get(name="Sasha"), Persona.objects.get(name="Amy"))
    for position in range(3):
        Requirement.objects.create(proposal=proposal, text=f"Requirement {position}", position=position)
        ResearchLink.objects.create(
            proposal=proposal, title=f"Study {position}", url=f"https://x.test/{position}", position=position
        )
    ChecklistItem.objects.filter(proposal=proposal, stage="experiment", key="user_problem").update(checked=True)
    proposal.reviews.filter(area__key="model").update(answer="A hosted model.", status="approved")
    return proposal


def test_a_saved_proposal_renders_with_no_query_when_prefetched(filled_proposal):
    proposal = Proposal.objects.prefetch_related(*RENDER_PREFETCH).get(pk=filled_proposal.pk)
    with CaptureQueriesContext(connection) as queries:
        body = markdown.render(content_from_proposal(proposal))
    assert len(queries) == 0
    assert "### User problem\nFindings pile up." in body
    assert "- [Amy (Application Security Engineer)](" in body and "- [Sasha (Software Developer)](" in body
    assert (
        "| High | [Study 0](https://x.test/0)<br>[Study 1](https://x.test/1)<br>[Study 2](https://x.test/2) |" in body
    )
    assert "- Requirement 0\n- Requirement 1\n- Requirement 2" in body
    assert "- [x] The user problem being solved" in body
    assert "   _Review status: Approved_\n\n   A hosted model." in body
    assert "## Notes\n\nmore" in body  # kept Markdown in the rich-text editor's layout, as it reads it back


def test_the_query_count_does_not_grow_with_rows(filled_proposal):
    def count(pk):
        proposal = Proposal.objects.prefetch_related(
            "requirements", "research_links", "persona_tags", "checklist_items"
        ).get(pk=pk)
        with CaptureQueriesContext(connection) as queries:
            markdown.render(content_from_proposal(proposal))
        return len(queries)

    before = count(filled_proposal.pk)
    for position in range(3, 20):
        Requirement.objects.create(proposal=filled_proposal, text=f"Requirement {position}", position=position)
    assert count(filled_proposal.pk) == before <= 1


def test_content_from_a_proposal_round_trips_through_content(filled_proposal):
    proposal = Proposal.objects.prefetch_related(*RENDER_PREFETCH).get(pk=filled_proposal.pk)
    content = content_from_proposal(proposal)
    assert content.fields["user_problem"] == "Findings pile up."
    assert content.persona_tags[0] == PersonaMention(
        "Amy", "Application Security Engineer", content.persona_tags[0].url
    )
    assert markdown.parse(markdown.render(content)).content == content
