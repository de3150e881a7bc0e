import pytest
from django.urls import reverse

from proposals import services
from proposals.markdown_html import to_html
from tests.proposals.test_services import save

HOSTILE = (
    '<script>alert("x")</script>\n\n'
    '<img src="https://tracker.example/p.png" onerror="alert(1)">\n\n'
    "[click me](javascript:alert(1)) and ![pixel](https://tracker.example/pixel.png)\n\n"
    '<a href="https://gitlab.example.com" onclick="steal()">a link</a>'
)


def test_task_lists_and_tables_render_as_gitlab_shows_them():
    html = to_html("- [x] The user problem being solved\n- [ ] Your assumptions\n\n| A | B |\n| - | - |\n| 1 | 2 |\n")
    assert '<input checked="checked" disabled="disabled" type="checkbox"> The user problem being solved' in html
    assert '<input disabled="disabled" type="checkbox"> Your assumptions' in html
    assert "<table>" in html and "<td>2</td>" in html


def test_nothing_from_user_text_can_run_or_fetch_in_the_preview():
    html = to_html(HOSTILE)
    for forbidden in ("<script", "onerror", "onclick", 'href="javascript:', "<img", 'src="https://tracker'):
        assert forbidden not in html
    assert "[click me](javascript:alert(1))" in html  # kept, as plain text
    assert '<a href="https://gitlab.example.com" rel="noopener noreferrer nofollow">a link</a>' in html


@pytest.mark.django_db
def test_the_preview_page_shows_the_issue_rendered_and_as_markdown(author_client, author, proposal):
    proposal = save(proposal, author, {"user_problem": HOSTILE})
    services.requirement_add(proposal=proposal, text="See open threads", by=author)
    html = author_client.get(reverse("proposals:preview", args=[proposal.pk])).content.decode()
    rendered = html[html.index('data-testid="issue-rendered"') : html.index('data-testid="issue-markdown"')]
    # The issue's headings sit below the page's own: its "### User problem" is an h5 here.
    assert "<h5>User problem</h5>" in rendered and "<h1" not in rendered and "See open threads" in rendered
    assert 'type="checkbox"' in rendered
    assert "<script" not in rendered and "onerror" not in rendered and 'href="javascript:' not in rendered
    # The Markdown source is shown escaped, as text.
    assert "&lt;script&gt;" in html[html.index('data-testid="issue-markdown"') :]


@pytest.mark.django_db
def test_the_preview_fragment_for_the_edit_page_is_only_the_preview(author_client, proposal):
    html = author_client.get(reverse("proposals:preview", args=[proposal.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<div class="preview">') and "<html" not in html
