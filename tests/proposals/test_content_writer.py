"""The one writer of content refuses the same things whichever path they come by."""

from __future__ import annotations

from pathlib import Path

import pytest

from proposals.content import content_from_proposal, content_with_values, proposal_apply_content
from proposals.models import Proposal, ResearchLink
from proposals.template_moves import proposal_import_markdown
from proposals.validators import ContentInvalid

FILLED = Path(__file__).parent.parent / "markdown" / "fixtures" / "01-v2-gitlab-filled.md"


@pytest.mark.django_db
def test_an_imported_body_with_a_javascript_link_creates_nothing_and_says_why(author):
    body = FILLED.read_text().replace(
        "https://gitlab.com/gitlab-org/ux-research/-/issues/2311", "javascript:alert(document.cookie)"
    )
    with pytest.raises(ContentInvalid, match="http or https"):
        proposal_import_markdown(markdown_text=body, title="Explain findings", owner=author)
    assert not Proposal.objects.filter(title="Explain findings").exists()


@pytest.mark.django_db
def test_the_same_body_with_web_links_imports(author):
    proposal, _ = proposal_import_markdown(markdown_text=FILLED.read_text(), title="Explain findings", owner=author)
    assert ResearchLink.objects.filter(proposal=proposal).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "refused"),
    [
        ({"research_links": [["Notes", "data:text/html,<script>alert(1)</script>"]]}, "http or https"),
        ({"list:requirements": ["Ask for one finding\nand then another"]}, "control characters"),
        ({"field:user_problem": "Fine text\x00with a NUL"}, "control characters"),
        ({"field:user_problem": "x" * 20_001}, "the limit is 20,000"),
    ],
)
def test_what_may_not_be_stored_is_refused_and_nothing_is_written(proposal, author, values, refused):
    before = proposal.version
    content = content_with_values(content_from_proposal(proposal), values)
    with pytest.raises(ContentInvalid, match=refused):
        proposal_apply_content(proposal=proposal, content=content, keys=set(values), by=author)
    proposal.refresh_from_db()
    assert proposal.version == before and "\x00" not in proposal.user_problem
