"""parse(): what people really do to a template, read back without losing a word."""

import pytest

from proposals import markdown
from proposals.markdown import KeptBlock, Link, OrrAnswer, PersonaMention, ProposalContent

SASHA = "https://handbook.gitlab.com/handbook/product/personas/#sasha-software-developer"


def parse(text: str, **kwargs) -> markdown.ParseResult:
    return markdown.parse(text, **kwargs)


def test_the_empty_template_reads_as_an_empty_proposal(spec_text):
    result = parse(spec_text())
    assert result.version == "2023-06"
    assert result.content == markdown.canonical(ProposalContent())
    assert result.found == ()
    assert "user_problem" in result.empty and result.missing == ()
    assert result.labels == ("wg-ai-integration",) and result.confidential


def test_windows_line_endings_trailing_spaces_and_emoji():
    result = parse("### User problem   \r\nTriage takes 3 days 🚨🤖   \r\nEvery week.\r\n### Success\r\nHalf 🎯\r\n")
    # Trailing spaces before a line of the same paragraph are a hard break: written as GitLab's editor does.
    assert result.content.fields["user_problem"] == "Triage takes 3 days 🚨🤖\\\nEvery week."
    assert result.content.fields["success"] == "Half 🎯"


def test_a_prompt_left_above_the_answer_is_not_part_of_it():
    result = parse("### User problem\n_What user problem will this solve?_\nFindings pile up.\n")
    assert result.content.fields["user_problem"] == "Findings pile up."


def test_a_prompt_left_below_the_answer_or_in_other_italics_is_dropped_too():
    result = parse("### User problem\nFindings pile up.\n\n*What user problem will this solve?*  \n")
    assert result.content.fields["user_problem"] == "Findings pile up."


def test_a_deleted_prompt_changes_nothing():
    assert parse("### Assumption\nTeams read the list.\n").content.fields == {"assumptions": "Teams read the list."}


def test_headings_at_another_level_in_other_case_or_with_decoration():
    result = parse(
        "# USER PROBLEM\nA\n##### solution hypothesis:\nB\n## 🎯 Success\nC\n### [Personas](https://x.test)\nD\n"
    )
    assert result.content.fields == {"user_problem": "A", "solution_hypothesis": "B", "success": "C", "personas": "D"}


def test_a_heading_with_the_answer_after_a_colon():
    assert parse("### Success: weekly active users double\n").content.fields == {
        "success": "weekly active users double"
    }


def test_sections_reordered_and_missing():
    result = parse("### Business objective\nRetention\n### User problem\nToil\n## Main Job story\nWhen I triage…\n")
    assert result.content.fields == {
        "business_objective": "Retention",
        "user_problem": "Toil",
        "main_job_story": "When I triage…",
    }
    assert "success" in result.missing and "user_problem" not in result.missing
    body = markdown.render(result.content)
    assert body.index("### User problem") < body.index("## Main Job story") < body.index("### Business objective")


def test_a_field_keeps_its_sub_headings_code_and_comments():
    text = "Intro\n#### Details\n```bash\n# install\n### Success\n```\n<!-- my own note -->\nEnd"
    result = parse(f"### User problem\n{text}\n### Success\nS\n")
    # Each block apart from the next by one blank line, as GitLab's rich-text editor writes them.
    kept = "Intro\n\n#### Details\n\n```bash\n# install\n### Success\n```\n<!-- my own note -->\nEnd"
    assert result.content.fields == {"user_problem": kept, "success": "S"}


def test_template_hint_comments_are_dropped_and_the_how_to_comment_too(spec_text):
    body = spec_text("v2-2023-06.md").replace(
        "## Proposal\n<!-- Use this section", "## Proposal\nShip a ranked list.\n<!-- Use this section"
    )
    result = parse(body)
    assert result.content.fields == {"proposal": "Ship a ranked list."}
    assert result.content.kept_blocks == ()


def test_unknown_sections_are_kept_where_they_stood():
    result = parse("### Success\nS\n## Rollout plan\nThree waves.\n### Risks\nNone\n## Main Job story\nJ\n")
    assert result.content.fields == {"success": "S", "main_job_story": "J"}
    assert result.content.kept_blocks == (KeptBlock("success", "## Rollout plan\n\nThree waves.\n\n### Risks\n\nNone"),)
    assert markdown.anchor_label(result.version, "success") == "after “Success”"


def test_text_before_the_template_is_kept_at_the_top():
    result = parse("Epic: &123\n\n# [Experiment](https://x.test)\n### User problem\nP\n")
    assert result.content.kept_blocks == (KeptBlock("", "Epic: &123"),)
    assert markdown.render(result.content).startswith("Epic: &123\n\n# [Experiment]")


def test_task_items_in_every_spelling():
    result = parse(
        "## Checklist\n### Experiment\n* [X] The user problem being solved\n- [x] Your assumptions\n"
        "+ [ ] Your proposal\n1. [x] Who it's for, list of personas impacted\n"
        "> - [x] Add relevant designs to the Design Management area of the issue if available\n"
        "- [~] Add information to the issue body about:\n"
    )
    assert result.content.checked == {
        ("experiment", "user_problem"),
        ("experiment", "assumptions"),
        ("experiment", "personas"),
        ("experiment", "designs"),
    }


def test_an_added_task_item_is_kept_in_its_group():
    result = parse("### Experiment\nIssue information\n- [x] Your proposal\n- [ ] Ask legal about the vendor\n")
    [block] = result.content.kept_blocks
    assert (
        markdown.anchor_label(result.version, block.after) == "in the Experiment checklist, under “Issue information”"
    )
    assert block.markdown == "- [ ] Ask legal about the vendor"


def test_checklist_items_with_their_heading_deleted_are_still_read():
    result = parse("## Checklist\n- [x] Your assumptions\n")
    assert ("experiment", "assumptions") in result.content.checked


@pytest.mark.parametrize(
    ("body", "confidence", "links"),
    [
        (
            "| Confidence | Research |\n| --- | --- |\n| **High** | [A](https://a.test), [B](https://b.test) |",
            "high",
            (Link("A", "https://a.test"), Link("B", "https://b.test")),
        ),
        ("Confidence | Research\n:-- | :--\nlow | https://a.test<br><https://b.test>", "low", None),
        ("Confidence: Medium", "medium", ()),
        ("**Medium**", "medium", ()),
        ("Medium\n\nResearch: [Interviews](https://a.test)", "medium", (Link("Interviews", "https://a.test"),)),
    ],
)
def test_confidence_as_a_table_or_as_plain_text(body, confidence, links):
    result = parse(f"### Confidence\n_Has this proposal been derived from research?_\n{body}\n")
    assert result.content.confidence == confidence
    if links is not None:
        assert result.content.research_links == links
    assert result.content.kept_blocks == ()


def test_confidence_with_words_around_it_keeps_the_words():
    result = parse("### Confidence\nConfidence: Medium, from 6 customer interviews\n")
    assert result.content.confidence == "medium"
    assert result.content.kept_blocks == (KeptBlock("confidence", "Confidence: Medium, from 6 customer interviews"),)


def test_a_research_row_with_prose_is_kept_whole():
    result = parse("### Confidence\n| Confidence | Research |\n|--|--|\n| Low | calls with [ACME](https://a.test) |\n")
    assert result.content.confidence == "low"
    assert result.content.research_links == ()
    assert result.content.kept_blocks == (KeptBlock("confidence", "| Low | calls with [ACME](https://a.test) |"),)


def test_requirements_as_bullets_numbers_and_continuations():
    result = parse(
        "### Requirements\n> ⚠️ Related feature and research issues should be linked in the related issues section "
        "(Delete this line when this is done)\n#### The user needs to be able to:\n- ...\n1. See a ranked list\n"
        "2) Dismiss a finding\n   with a reason\n* Undo\n"
    )
    assert result.content.requirements == ("See a ranked list", "Dismiss a finding\nwith a reason", "Undo")


def test_personas_mentions_and_known_names():
    result = parse(
        f"### Personas\n- [Sasha (Software Developer)]({SASHA})\nAlso Amy, who reviews security findings.\n",
        personas=["Sasha", "Amy", "Parker"],
    )
    assert result.content.persona_tags == (PersonaMention("Sasha", "Software Developer", SASHA),)
    assert result.content.fields == {"personas": "Also Amy, who reviews security findings."}
    assert result.persona_mentions == ("Sasha", "Amy")


def test_orr_answers_statuses_and_needs():
    result = parse(
        "### General Availability\nTechnical needs\n"
        "1. **Work estimate and skills needs to build an ML viable feature:** To build any ML feature…\n"
        "   _Review status: Approved_\n\n   Two ML engineers for a quarter.\n"
        "2. Data Limitation: We would like to upfront validate…\nWe only use public merge requests.\n"
        "5. **Legal and Ethical Framework:** our legal answer on the same line\n"
        "Dependency needs\n- [ ] [Operational Requirements Review - Checklist - #note_1337519985](https://x)\n"
        "The AI gateway\nLegal needs\n- [x] TBD\n  Vendor DPA signed.\n"
    )
    content = result.content
    assert content.orr == {
        "work_estimate": OrrAnswer("Two ML engineers for a quarter.", "Approved"),
        "data": OrrAnswer("We only use public merge requests."),
        "legal": OrrAnswer("our legal answer on the same line"),
    }
    assert content.fields == {"dependency_needs": "The AI gateway", "legal_needs": "Vendor DPA signed."}
    assert content.checked == {("ga", "legal_tbd")}


def test_quick_actions_left_in_the_body_give_labels_and_confidentiality():
    result = parse('### User problem\nP\n\n/label ~"AI Feature Proposal" ~wg-ai-integration\n/confidential\n/cc @a\n')
    assert result.labels == ("AI Feature Proposal", "wg-ai-integration")
    assert result.confidential
    assert result.content.fields == {"user_problem": "P"}


def test_a_second_copy_of_a_section_is_kept_after_the_first():
    result = parse("### User problem\nFirst\n### Success\nS\n### User problem\nSecond\n")
    assert result.content.fields == {"user_problem": "First", "success": "S"}
    assert result.content.kept_blocks == (KeptBlock("user_problem", "### User problem\n\nSecond"),)
    body = markdown.render(result.content)
    assert "### User problem\nFirst\n\n### User problem\n\nSecond\n\n### Solution hypothesis" in body
    assert markdown.parse(body).content == result.content


def test_text_that_looks_like_the_template_survives_a_round_trip():
    tricky = (
        "### Success\n_What user problem will this solve?_\n- [ ] Your proposal\n| a | b |\n<!-- c\n"
        "/label ~x\n\\### escaped already\n```\n# code\n"
    )
    content = ProposalContent(fields={"user_problem": tricky}, lists={"requirements": ("...", "- [x] done")})
    body = markdown.render(content)
    assert markdown.parse(body).content == markdown.canonical(content)
    assert "\n\\### Success\n\n\\_What user problem will this solve?_\n\n\\- [ ] Your proposal\n| a | b |\n" in body


@pytest.mark.parametrize("version", ["nonsense", None, ""])
def test_an_unknown_version_falls_back_to_detection(version):
    assert parse("### User problem\nP\n", version=version).version == "2023-06"
