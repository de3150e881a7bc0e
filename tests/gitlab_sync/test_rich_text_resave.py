"""An issue re-saved by GitLab's rich-text editor: blank lines between blocks, tight lists, backslash escapes.

The editor's Markdown serializer (prosemirror-markdown's ``esc``) puts a backslash before ``\\ ` * _ ~ [ ]``
anywhere and before ``# - + > 1.`` where a block starts, and writes one blank line between any two blocks.
Stagegate reads that as the answers the author wrote: no history row, no conflict, no write back.
"""

from __future__ import annotations

import dataclasses

import pytest

from gitlab_sync import exchange, outbox
from gitlab_sync.fields import marked_proposal, proposal_marker
from gitlab_sync.models import SyncConflict
from proposals import markdown
from proposals.models import Activity, FieldChange, Proposal
from tests.gitlab_sync.conftest import issue_of
from tests.gitlab_sync.issue_text import edit_issue_fields

pytestmark = pytest.mark.django_db

# As the author typed them in GitLab's plain-text editor ...
TYPED = {
    "user_problem": "#1 on the board: reviewers lose track of snake_case names:\n* one in a*b\n* one in C:\\temp",
    "success": "[x] marks the spot\n-5 minutes per review",
}
# ... and as the rich-text editor writes them back when someone edits anything in the issue.
RESAVED = {
    "user_problem": "\\#1 on the board: reviewers lose track of snake\\_case names:\n\n"
    "- one in a\\*b\n- one in C:\\\\temp",
    "success": "\\[x\\] marks the spot\n\\-5 minutes per review",
}


def body_with(description: str, answers: dict[str, str]) -> str:
    """The issue body with these answers written in verbatim, as a person on GitLab leaves them."""
    marks = {name: f"Answer-of-{name}-here" for name in answers}
    marker = proposal_marker(marked_proposal(description))
    body = edit_issue_fields(description.replace(marker, ""), **marks)
    for name, text in answers.items():
        body = body.replace(marks[name], text)
    return f"{body.rstrip()}\n\n{marker}\n"


@pytest.fixture
def typed_on_gitlab(fake, linked):
    issue = issue_of(fake, linked)
    fake.human_edit(issue.iid, description=body_with(issue.description, TYPED))
    exchange.sync_proposal(linked.pk, actor="alice")
    outbox.push(linked.pk)
    fake.clear_request_log()
    return Proposal.objects.get(pk=linked.pk)


def test_an_issue_resaved_unchanged_by_the_rich_text_editor_changes_nothing(fake, typed_on_gitlab):
    proposal = typed_on_gitlab
    assert "snake_case" in proposal.user_problem and "a*b" in proposal.user_problem
    resaved = body_with(issue_of(fake, proposal).description, RESAVED)
    resave_changes_nothing(fake, proposal, resaved, fields=("user_problem", "success"))


def resave_changes_nothing(fake, proposal, description: str, *, fields: tuple[str, ...]) -> Proposal:
    """Save the description on GitLab as the editor re-saved it, sync both ways, and check that nothing
    changed on either side: no new version, history row, activity or conflict, nothing written back."""
    history, activities = FieldChange.objects.count(), Activity.objects.count()
    fake.human_edit(issue_of(fake, proposal).iid, description=description)
    exchange.sync_proposal(proposal.pk, actor="alice")
    outbox.push(proposal.pk)

    after = Proposal.objects.get(pk=proposal.pk)
    names = ("version", *fields)
    assert [getattr(after, name) for name in names] == [getattr(proposal, name) for name in names]
    assert FieldChange.objects.count() == history
    assert Activity.objects.count() == activities
    assert not SyncConflict.objects.filter(proposal=proposal).exists()
    assert fake.requests_to("issues.edit") == []  # nothing written back: GitLab keeps the editor's text
    return after


def test_an_issue_resaved_with_one_answer_edited_changes_only_that_answer(fake, typed_on_gitlab):
    proposal = typed_on_gitlab
    issue = issue_of(fake, proposal)
    edited = {**RESAVED, "success": "\\[x\\] marks the spot\n\\-7 minutes per review"}
    history = set(FieldChange.objects.values_list("pk", "after"))

    fake.human_edit(issue.iid, description=body_with(issue.description, edited))
    exchange.sync_proposal(proposal.pk, actor="alice")

    after = Proposal.objects.get(pk=proposal.pk)
    assert after.user_problem == proposal.user_problem
    assert after.success == "[x] marks the spot\n-7 minutes per review"
    # A new history row, or the newest one extended (history coalesces a burst of edits to one part).
    changed = set(FieldChange.objects.values_list("pk", "after")) - history
    assert [FieldChange.objects.get(pk=pk).field for pk, _ in changed] == ["field:success"]
    assert Activity.objects.filter(proposal=proposal).order_by("-id").first().data["fields"] == ["field:success"]
    assert not SyncConflict.objects.filter(proposal=proposal).exists()


# Blocks the editor writes apart, wherever they stand: a table under a paragraph, the text beside a code span,
# a section of the author's own, a heading right under a requirement; and its escapes on top of Stagegate's
# own (a template item in an answer is written ``\\- [x] Your proposal``, which GitLab shows as text).
TYPED_BLOCKS = {
    "user_problem": "Measured weekly:\n| Metric | Today |\n|---|---|\n| Review | 3 days |\n\n"
    "Run `make review` on [draft] branches\n\n- [x] Your proposal",
}
RESAVED_BLOCKS = {
    "user_problem": "Measured weekly:\n\n| Metric | Today |\n| --- | --- |\n| Review | 3 days |\n\n"
    "Run `make review` on \\[draft\\] branches\n\n\\- \\[x\\] Your proposal",
}
REQUIREMENTS = ("_Private_ hunks labelled", "Explain it")
TYPED_SECTION = "## Rollout plan\nThree waves:\n- staff\n- all"
RESAVED_SECTION = "## Rollout plan\n\nThree waves:\n\n- staff\n- all"


def typed_with_blocks(description: str) -> str:
    """``body_with`` the typed answers, on a body with two requirements, a heading and its text right under
    the last one, and a section of the author's own at the end."""
    content = markdown.parse(description).content
    content = dataclasses.replace(content, lists={**content.lists, "requirements": REQUIREMENTS})
    marker = proposal_marker(marked_proposal(description))
    body = body_with(f"{markdown.render(content)}\n{marker}", TYPED_BLOCKS)
    assert body.count("- Explain it\n") == 1
    body = body.replace("- Explain it\n", "- Explain it\n#### Notes\nOnly for merge requests.\n")
    return body.replace(marker, f"{TYPED_SECTION}\n\n{marker}")


def test_an_issue_with_tables_code_own_sections_and_headings_under_items_resaved_changes_nothing(fake, linked):
    issue = issue_of(fake, linked)
    fake.human_edit(issue.iid, description=typed_with_blocks(issue.description))
    exchange.sync_proposal(linked.pk, actor="alice")
    outbox.push(linked.pk)
    proposal = Proposal.objects.get(pk=linked.pk)
    assert "| Metric | Today |" in proposal.user_problem and "[draft]" in proposal.user_problem
    assert list(proposal.requirements.values_list("text", flat=True)) == list(REQUIREMENTS)
    assert any("Only for merge requests." in block["markdown"] for block in proposal.kept_blocks)
    fake.clear_request_log()

    resaved = body_with(issue_of(fake, proposal).description, RESAVED_BLOCKS).replace(TYPED_SECTION, RESAVED_SECTION)
    # An item Stagegate wrote with a backslash at its start shows as text, which the editor escapes.
    resaved = resaved.replace("- \\_Private_ hunks", "- \\_Private\\_ hunks")
    after = resave_changes_nothing(fake, proposal, resaved, fields=("user_problem", "kept_blocks"))
    assert list(after.requirements.values_list("text", flat=True)) == list(REQUIREMENTS)
