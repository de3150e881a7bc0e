"""Import from Markdown: a pasted or uploaded issue body becomes a proposal, with a report of what was read."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals.models import Activity, Proposal

FIXTURES = Path(__file__).parent / "fixtures"
IMPORT = reverse("proposals:import")
CONFIRM = {"step": "confirm"}  # the preview's "Create the proposal" button


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_the_import_page_needs_a_login(client):
    assert client.get(IMPORT).status_code == 302


def test_the_import_page_offers_paste_and_upload(author_client):
    page = author_client.get(IMPORT).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="markdown"' in page and 'name="file"' in page


def test_a_pasted_issue_becomes_the_importers_proposal(author_client, author):
    response = author_client.post(
        IMPORT, {"title": "Explain this vulnerability", "markdown": fixture("01-v2-gitlab-filled.md"), **CONFIRM}
    )
    proposal = Proposal.objects.get(title="Explain this vulnerability")
    assert response.status_code == 302 and response["Location"] == reverse(
        "proposals:import-report", args=[proposal.pk]
    )
    assert proposal.owner == author and proposal.template_version == "2023-06"
    assert proposal.user_problem.startswith("Developers who get a SAST finding")
    assert proposal.confidence == "medium" and proposal.confidential
    assert "wg-ai-integration" in proposal.labels
    assert sorted(proposal.persona_tags.values_list("name", flat=True)) == ["Amy", "Sasha"]
    assert list(proposal.requirements.values_list("text", flat=True))[0] == "Ask for an explanation of one finding"
    assert proposal.research_links.count() == 2
    assert proposal.checklist_items.get(stage="ga", key="legal_tbd").checked
    assert not proposal.checklist_items.get(stage="ga", key="orr_checklist").checked  # ticked by ORR sign-off
    assert proposal.reviews.get(area__key="cost").answer == "About $0.01 per explanation at current token prices."
    assert proposal.reviews.get(area__key="cost").status == "not_started"  # statuses never come from Markdown
    assert Activity.objects.filter(proposal=proposal, data__has_key="import").exists()


def test_the_report_shows_found_missing_and_kept_blocks_where_they_stood(author_client):
    upload = SimpleUploadedFile("root-cause-analysis.md", fixture("03-june-reordered-missing.md").encode())
    response = author_client.post(IMPORT, {"file": upload, **CONFIRM}, follow=True)
    page = response.content.decode()
    proposal = Proposal.objects.get()
    assert proposal.title == "root cause analysis"
    found = page[
        page.index('data-testid="fields-found"') : page.index("</ul>", page.index('data-testid="fields-found"'))
    ]
    assert "User problem" in found and "Main job story" in found and "Requirements" in found
    missing = page[page.index('data-testid="fields-missing"') :]
    assert "Solution hypothesis" in missing and "Business objective" in missing
    kept = page[page.index('data-testid="kept-blocks"') :]
    assert "At the top, before the template" in kept and "Related epic: &amp;10284" in kept
    assert "After “Proposal”" in kept and "<h4>Rollout plan</h4>" in kept


def test_an_issue_from_the_latest_template_version_keeps_its_own_fields(author_client):
    author_client.post(IMPORT, {"title": "Duo Chat in the IDE", "markdown": fixture("08-v5-latest-beta.md"), **CONFIRM})
    proposal = Proposal.objects.get()
    assert proposal.template_version == "2023-beta"
    assert (
        proposal.extra_fields["small_jobs"] == "- Understand an unfamiliar function\n- Write a first unit test for it"
    )
    assert proposal.extra_fields["ga_requirements"] == "Use chat from JetBrains IDEs too"
    assert proposal.checklist_items.get(stage="beta", key="linked_features").checked


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"markdown": "   "}, "Paste an issue description or choose a file."),
        ({"file": SimpleUploadedFile("x.md", b"\xff\xfe\x00bad")}, "The file is not UTF-8 text."),
        ({"markdown": "x" * 1_048_577}, "GitLab keeps at most"),
    ],
)
def test_what_cannot_be_imported_is_said_on_the_form(author_client, data, error):
    response = author_client.post(IMPORT, {**data, **CONFIRM})
    assert response.status_code == 200 and error in response.content.decode()
    assert not Proposal.objects.exists()


def test_user_markdown_in_the_report_cannot_run(author_client):
    body = '## Notes\n<script>alert(1)</script>\n<img src=x onerror="alert(2)">\n[x](javascript:alert(3))\n'
    response = author_client.post(IMPORT, {"title": "t", "markdown": body, **CONFIRM}, follow=True)
    page = response.content.decode()
    rendered = page[page.index('class="issue-rendered"') : page.index("<details><summary>Markdown")]
    assert "<script" not in rendered and "onerror" not in rendered and 'href="javascript:' not in rendered


def test_only_the_owner_sees_the_report(author_client, client, other_author):
    author_client.post(IMPORT, {"title": "t", "markdown": "### User problem\nP\n", **CONFIRM})
    proposal = Proposal.objects.get()
    client.force_login(other_author)
    assert client.get(reverse("proposals:import-report", args=[proposal.pk])).status_code == 403


def test_the_report_page_runs_a_fixed_number_of_queries(author_client):
    def queries_for(body: str) -> int:
        author_client.post(IMPORT, {"title": "t", "markdown": body, **CONFIRM})
        url = reverse("proposals:import-report", args=[Proposal.objects.latest("id").pk])
        with CaptureQueriesContext(connection) as queries:
            assert author_client.get(url).status_code == 200
        return len(queries)

    few = queries_for("### User problem\nP\n## Extra\nx\n")
    many = queries_for(fixture("01-v2-gitlab-filled.md") + "".join(f"\n## Extra {n}\ntext {n}\n" for n in range(30)))
    assert few == many


def test_the_preview_shows_the_report_and_creates_nothing(author_client):
    text = fixture("01-v2-gitlab-filled.md")
    with CaptureQueriesContext(connection) as queries:
        response = author_client.post(IMPORT, {"title": "Explain this vulnerability", "markdown": text})
    page = response.content.decode()
    assert response.status_code == 200 and "Nothing has been created yet" in page
    assert 'data-testid="fields-found"' in page and "User problem" in page
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == [] and not Proposal.objects.exists() and not Activity.objects.exists()


def test_an_uploaded_file_is_carried_to_the_confirm_step_without_a_second_upload(author_client, author):
    upload = SimpleUploadedFile("root-cause-analysis.md", fixture("03-june-reordered-missing.md").encode())
    preview = author_client.post(IMPORT, {"file": upload}).content.decode()
    assert not Proposal.objects.exists()
    carried = _hidden_inputs(preview)
    assert carried["title"] == "root cause analysis" and carried["markdown"].startswith(
        fixture("03-june-reordered-missing.md")[:40]
    )
    response = author_client.post(IMPORT, {**carried, **CONFIRM})
    proposal = Proposal.objects.get()
    assert response["Location"] == reverse("proposals:import-report", args=[proposal.pk])
    assert proposal.title == "root cause analysis" and proposal.owner == author


def test_change_the_text_goes_back_to_the_form_with_the_text_kept(author_client):
    response = author_client.post(
        IMPORT, {"title": "Kept", "markdown": "### User problem\nStill here\n", "step": "edit"}
    )
    page = response.content.decode()
    assert "Still here" in page and 'value="Kept"' in page and not Proposal.objects.exists()


def test_without_gitlab_there_is_no_issue_link_field(author_client, settings):
    settings.GITLAB_URL = ""
    assert 'name="gitlab_issue"' not in author_client.get(IMPORT).content.decode()


def test_a_malformed_issue_reference_is_refused_on_the_form(author_client, settings):
    settings.GITLAB_URL, settings.GITLAB_TOKEN, settings.GITLAB_PROJECT = "https://gitlab.example.com", "t", "g/p"
    page = author_client.get(IMPORT).content.decode()
    assert 'name="gitlab_issue"' in page
    response = author_client.post(IMPORT, {"markdown": "### User problem\nP\n", "gitlab_issue": "twelve", **CONFIRM})
    assert "Write the issue" in response.content.decode() and not Proposal.objects.exists()


def _hidden_inputs(page: str) -> dict[str, str]:
    import html
    import re

    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)
        if name != "csrfmiddlewaretoken"
    }
