import json
import re

import pytest
from django.urls import reverse

from proposals import services
from proposals.models import TEXT_MAX_LENGTH, ChecklistItem, Proposal
from tests.factories import ProposalFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def section_post(client, proposal, section, data, **headers):
    """Post a section the way the edit page does: its current values, the form's version and base."""
    page = client.get(reverse("proposals:edit", args=[proposal.pk])).content.decode()
    form = page[page.index(f'id="section-{section}"') :]
    payload = {"version": hidden(form, "version"), "base": hidden(form, "base"), **data}
    return client.post(reverse("proposals:section-save", args=[proposal.pk, section]), payload, **headers)


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client, proposal):
    response = client.get(reverse("proposals:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_log_in_and_out(client, author):
    response = client.post(reverse("login"), {"username": "ada", "password": "stagegate-pass"})
    assert response.status_code == 302
    assert client.get(reverse("proposals:list")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("proposals:list")).status_code == 302


@pytest.mark.django_db
def test_create_a_proposal_then_land_on_its_edit_page(author_client):
    response = author_client.post(reverse("proposals:create"), {"title": "Draft release notes"})
    proposal = Proposal.objects.get(title="Draft release notes")
    assert response["Location"] == reverse("proposals:edit", args=[proposal.pk])
    page = author_client.get(response["Location"]).content.decode()
    assert "Problem to be solved" in page and "What user problem will this solve?" in page


@pytest.mark.django_db
def test_an_over_long_title_is_refused_with_a_message(author_client):
    response = author_client.post(reverse("proposals:create"), {"title": "x" * 300})
    assert response.status_code == 200
    assert "at most 255 characters" in response.content.decode()
    assert not Proposal.objects.exists()


@pytest.mark.django_db
def test_list_filters_and_search_combine(author_client, author, other_author):
    ProposalFactory(owner=author, title="Summarise threads", stage="ga", confidence="high")
    ProposalFactory(owner=author, title="Summarise pipelines", stage="experiment", confidence="high")
    ProposalFactory(owner=other_author, title="Summarise issues", stage="ga", confidence="low")
    response = author_client.get(reverse("proposals:list"), {"q": "summarise", "stage": "ga", "confidence": "high"})
    html = response.content.decode()
    assert "Summarise threads" in html
    assert "Summarise pipelines" not in html and "Summarise issues" not in html
    by_owner = author_client.get(reverse("proposals:list"), {"owner": "grace"}).content.decode()
    assert "Summarise issues" in by_owner and "Summarise threads" not in by_owner


@pytest.mark.django_db
def test_list_filter_over_htmx_returns_only_the_results(author_client, proposal):
    response = author_client.get(reverse("proposals:list"), {"q": "vulnerability"}, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="proposal-results">')
    assert "Explain this vulnerability" in html and "<html" not in html


@pytest.mark.django_db
def test_confidential_proposals_are_seen_only_by_author_reviewers_and_admins(
    client, author, other_author, reviewer, working_group_member, admin_user
):
    secret = ProposalFactory(owner=author, title="Secret model work", confidential=True)
    for user, sees in [
        (author, True),
        (reviewer, True),
        (admin_user, True),
        (other_author, False),
        (working_group_member, False),
    ]:
        client.force_login(user)
        listed = "Secret model work" in client.get(reverse("proposals:list")).content.decode()
        detail = client.get(reverse("proposals:detail", args=[secret.pk])).status_code
        assert (listed, detail) == ((True, 200) if sees else (False, 404)), user


@pytest.mark.django_db
def test_everyone_signed_in_reads_a_non_confidential_proposal_but_only_the_author_edits(
    client, other_author, working_group_member, proposal
):
    for user in (other_author, working_group_member):
        client.force_login(user)
        assert client.get(reverse("proposals:detail", args=[proposal.pk])).status_code == 200
        assert client.get(reverse("proposals:edit", args=[proposal.pk])).status_code == 403


@pytest.mark.django_db
def test_a_forged_post_for_someone_elses_proposal_is_refused(client, other_author, proposal):
    client.force_login(other_author)
    url = reverse("proposals:section-save", args=[proposal.pk, "problem"])
    response = client.post(url, {"version": proposal.version, "base": "x", "user_problem": "hijacked"}, **HTMX)
    assert response.status_code == 403
    item = proposal.checklist_items.get(key="add_information", stage="experiment")
    assert (
        client.post(reverse("proposals:checklist-toggle", args=[proposal.pk, item.pk]), {"checked": "on"}).status_code
        == 403
    )
    assert client.post(reverse("proposals:requirement-add", args=[proposal.pk]), {"text": "x"}).status_code == 403
    proposal.refresh_from_db()
    assert proposal.user_problem == "" and not proposal.requirements.exists()
    assert not ChecklistItem.objects.get(pk=item.pk).checked


@pytest.mark.django_db
def test_htmx_request_for_a_missing_proposal_gets_a_404_fragment(author_client):
    response = author_client.post(
        reverse("proposals:section-save", args=[999999, "problem"]), {"user_problem": "x"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 404
    assert 'class="refusal"' in html and "<html" not in html


@pytest.mark.django_db
def test_autosave_returns_the_status_fragment_and_the_updated_meter(author_client, proposal):
    response = section_post(author_client, proposal, "problem", {"user_problem": "Reviewers drown in threads."}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Saved" in html and 'id="section-problem-status"' in html
    assert 'id="completeness" class="side-card" hx-swap-oob="true"' in html
    assert "<span>1/6</span>" in html  # one of six Experiment fields filled
    assert "<html" not in html
    # django-htmx writes the event as JSON; htmx fires "proposal-changed" for it all the same.
    assert json.loads(response["HX-Trigger"]) == {"proposal-changed": {}}
    proposal.refresh_from_db()
    assert proposal.user_problem == "Reviewers drown in threads."


@pytest.mark.django_db
def test_the_status_fragment_carries_the_new_version_so_the_next_autosave_is_accepted(author_client, proposal):
    first = section_post(author_client, proposal, "problem", {"user_problem": "One"}, **HTMX).content.decode()
    url = reverse("proposals:section-save", args=[proposal.pk, "problem"])
    second = author_client.post(
        url, {"version": hidden(first, "version"), "base": hidden(first, "base"), "user_problem": "One two"}, **HTMX
    )
    assert "Saved" in second.content.decode()
    proposal.refresh_from_db()
    assert proposal.user_problem == "One two"


@pytest.mark.django_db
def test_an_over_long_answer_is_refused_in_place_and_nothing_is_lost(author_client, proposal):
    response = section_post(author_client, proposal, "problem", {"user_problem": "y" * (TEXT_MAX_LENGTH + 1)}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Not saved" in html and "at most 20000 characters" in html and "Your text is still here" in html
    proposal.refresh_from_db()
    assert proposal.user_problem == ""


@pytest.mark.django_db
def test_a_confidence_outside_the_three_values_is_refused(author_client, proposal):
    html = section_post(author_client, proposal, "confidence", {"confidence": "certain"}, **HTMX).content.decode()
    assert "Select a valid choice" in html
    proposal.refresh_from_db()
    assert proposal.confidence == ""
    section_post(author_client, proposal, "confidence", {"confidence": "medium"}, **HTMX)
    proposal.refresh_from_db()
    assert proposal.confidence == "medium"


@pytest.mark.django_db
def test_two_people_editing_one_section_the_later_save_sees_both_texts(client, author, admin_user, proposal):
    client.force_login(author)
    page = client.get(reverse("proposals:edit", args=[proposal.pk])).content.decode()
    form = page[page.index('id="section-problem"') :]
    stale = {"version": hidden(form, "version"), "base": hidden(form, "base")}
    client.force_login(admin_user)
    section_post(client, proposal, "problem", {"user_problem": "The admin's wording"}, **HTMX)
    client.force_login(author)
    url = reverse("proposals:section-save", args=[proposal.pk, "problem"])
    response = client.post(url, {**stale, "user_problem": "The author's wording"}, **HTMX)
    html = response.content.decode()
    assert "Someone else changed this section" in html
    # Both texts side by side, the words that differ marked.
    assert "<mark>admin&#x27;s</mark>" in html and "<mark>author&#x27;s</mark>" in html
    proposal.refresh_from_db()
    assert proposal.user_problem == "The admin's wording"
    # The next autosave, sent with what the fragment carries, still cannot overwrite unseen.
    again = {"version": hidden(html, "version"), "base": hidden(html, "base"), "user_problem": "The author's wording!"}
    assert "Someone else changed this section" in client.post(url, again, **HTMX).content.decode()
    proposal.refresh_from_db()
    assert proposal.user_problem == "The admin's wording"
    # Keeping one's own version is a deliberate second step: the "Keep mine" button carries its choice.
    keep = re.search(r'name="resolve" value="(mine:[^"]+)"', html).group(1)
    client.post(url, {**stale, "resolve": keep, "user_problem": "The author's wording"}, **HTMX)
    proposal.refresh_from_db()
    assert proposal.user_problem == "The author's wording"


@pytest.mark.django_db
def test_without_javascript_a_stale_save_shows_the_conflict_on_the_page(client, author, admin_user, proposal):
    client.force_login(author)
    page = client.get(reverse("proposals:edit", args=[proposal.pk])).content.decode()
    form = page[page.index('id="section-problem"') :]
    stale = {"version": hidden(form, "version"), "base": hidden(form, "base")}
    client.force_login(admin_user)
    section_post(client, proposal, "problem", {"user_problem": "First"})
    client.force_login(author)
    response = client.post(
        reverse("proposals:section-save", args=[proposal.pk, "problem"]), {**stale, "user_problem": "Second"}
    )
    assert response.status_code == 409
    assert "Someone else changed this section" in response.content.decode()


@pytest.mark.django_db
def test_details_section_sets_title_labels_and_confidentiality(author_client, proposal):
    section_post(
        author_client,
        proposal,
        "details",
        {"title": "Explain vulnerabilities", "labels": "~wg-ai-integration, group::ai", "confidential": "on"},
        **HTMX,
    )
    proposal.refresh_from_db()
    assert proposal.title == "Explain vulnerabilities"
    assert proposal.labels == ["wg-ai-integration", "group::ai"]
    assert proposal.confidential


@pytest.mark.django_db
def test_tick_and_untick_a_checklist_item_in_place(author_client, proposal):
    item = proposal.checklist_items.get(stage="experiment", key="add_information")
    url = reverse("proposals:checklist-toggle", args=[proposal.pk, item.pk])
    html = author_client.post(url, {"checked": "on"}, **HTMX).content.decode()
    assert html.lstrip().startswith('<section id="checklists"')
    item.refresh_from_db()
    assert item.checked
    author_client.post(url, {}, **HTMX)
    item.refresh_from_db()
    assert not item.checked


@pytest.mark.django_db
def test_ticking_a_verified_item_by_hand_explains_why_not(author_client, proposal):
    item = proposal.checklist_items.get(stage="experiment", key="user_problem")
    url = reverse("proposals:checklist-toggle", args=[proposal.pk, item.pk])
    html = author_client.post(url, {"checked": "on"}, **HTMX).content.decode()
    assert "ticks “The user problem being solved” itself" in html
    item.refresh_from_db()
    assert not item.checked


@pytest.mark.django_db
def test_add_reorder_and_remove_requirements_in_place(author_client, proposal):
    add = reverse("proposals:requirement-add", args=[proposal.pk])
    author_client.post(add, {"text": "See open threads"}, **HTMX)
    html = author_client.post(add, {"text": "Jump to a thread"}, **HTMX).content.decode()
    assert html.lstrip().startswith('<section class="section-card" id="requirements"')
    second = proposal.requirements.get(text="Jump to a thread")
    author_client.post(reverse("proposals:requirement-change", args=[proposal.pk, second.pk, "up"]), **HTMX)
    assert list(proposal.requirements.values_list("text", flat=True)) == ["Jump to a thread", "See open threads"]
    author_client.post(reverse("proposals:requirement-change", args=[proposal.pk, second.pk, "remove"]), **HTMX)
    assert list(proposal.requirements.values_list("text", flat=True)) == ["See open threads"]


@pytest.mark.django_db
def test_an_invalid_research_url_is_refused_with_a_message(author_client, proposal):
    url = reverse("proposals:research-add", args=[proposal.pk])
    html = author_client.post(url, {"url": "javascript:alert(1)", "title": "Interviews"}, **HTMX).content.decode()
    assert "Enter a valid URL" in html
    assert not proposal.research_links.exists()
    author_client.post(url, {"url": "https://gitlab.example.com/ux/-/issues/4", "title": "Interviews"}, **HTMX)
    assert proposal.research_links.get().title == "Interviews"


@pytest.mark.django_db
def test_read_view_shows_answers_and_the_timeline(author_client, author, proposal):
    services.requirement_add(proposal=proposal, text="See open threads", by=author)
    html = author_client.get(reverse("proposals:detail", args=[proposal.pk])).content.decode()
    assert "See open threads" in html
    assert "ada created the proposal" in html and "ada added a requirement" in html


def _grow(owner, count):
    for _ in range(count):
        proposal = ProposalFactory(owner=owner, user_problem="Long threads", confidence="low")
        services.requirement_add(proposal=proposal, text="See threads", by=owner)
        services.research_link_add(proposal=proposal, url="https://example.com/r", title="R", by=owner)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["list", "list-search", "edit", "detail", "preview"])
def test_page_query_counts_hold_from_5_to_200_proposals(
    author_client, author, page, django_assert_max_num_queries, django_assert_num_queries
):
    _grow(author, 5)
    target = Proposal.objects.order_by("pk").first()
    if page.startswith("list"):
        url = reverse("proposals:list") + ("?q=threads" if page == "list-search" else "")
    else:
        url = reverse(f"proposals:{page}", args=[target.pk])
    # A fixed few queries per panel (discussion, linked issues, designs, people), and the read page remembers
    # the visit and asks what changed since the last one (3 queries); none grows with rows.
    with django_assert_max_num_queries(27) as small:
        assert author_client.get(url).status_code == 200
    _grow(author, 195)
    for _ in range(5):
        services.requirement_add(proposal=target, text="More", by=author)
    with django_assert_num_queries(len(small)):
        assert author_client.get(url).status_code == 200


@pytest.mark.django_db
def test_reorder_and_remove_research_links_in_place(author_client, author, proposal):
    first = services.research_link_add(proposal=proposal, url="https://example.com/a", title="Interviews", by=author)
    second = services.research_link_add(proposal=proposal, url="https://example.com/b", title="Survey", by=author)
    html = author_client.post(
        reverse("proposals:research-change", args=[proposal.pk, second.pk, "up"]), **HTMX
    ).content.decode()
    assert html.index("Survey") < html.index("Interviews")
    author_client.post(reverse("proposals:research-change", args=[proposal.pk, first.pk, "remove"]), **HTMX)
    assert list(proposal.research_links.values_list("title", flat=True)) == ["Survey"]
    assert "removed a research link: Interviews" in proposal.activities.values_list("message", flat=True)[0]


@pytest.mark.django_db
def test_moving_to_the_latest_template_and_back_loses_no_answer(author_client, author, proposal):
    from tests.proposals.test_services import save

    save(proposal, author, {"user_problem": "Reviewers drown in threads.", "assumptions": "Threads are long."})
    proposal.refresh_from_db()
    section_post(author_client, proposal, "confidence", {"confidence": "high"}, **HTMX)
    url = reverse("proposals:template-change", args=[proposal.pk])
    # First a preview of what moves and what is kept; nothing moves until confirmed.
    preview = author_client.post(url, {"version": "2023-beta"}).content.decode()
    assert "Reviewers drown in threads." in preview and "Kept without a place in" in preview
    proposal.refresh_from_db()
    assert proposal.template_version == "2023-06"
    response = author_client.post(url, {"version": "2023-beta", "confirmed": "yes"})
    assert response["Location"] == reverse("proposals:edit", args=[proposal.pk])
    proposal.refresh_from_db()
    assert proposal.template_version == "2023-beta"
    page = author_client.get(reverse("proposals:edit", args=[proposal.pk])).content.decode()
    assert "Reviewers drown in threads." in page
    # The latest template has no Confidence section: the answer is kept and shown, not dropped.
    detail = author_client.get(reverse("proposals:detail", args=[proposal.pk])).content.decode()
    assert any("High" in block["markdown"] for block in proposal.kept_blocks)
    assert "Kept without a place in this template" in detail and "<td>High</td>" in detail
    author_client.post(url, {"version": "2023-06", "confirmed": "yes"})
    proposal.refresh_from_db()
    assert proposal.template_version == "2023-06"
    assert proposal.user_problem == "Reviewers drown in threads." and proposal.assumptions == "Threads are long."
    assert proposal.confidence == "high"


@pytest.mark.django_db
def test_only_the_author_moves_a_proposal_to_another_template(client, other_author, proposal):
    client.force_login(other_author)
    response = client.post(reverse("proposals:template-change", args=[proposal.pk]), {"version": "2023-beta"})
    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.template_version == "2023-06"


@pytest.mark.django_db
def test_a_new_proposal_starts_from_the_newest_template_unless_another_version_is_chosen(author_client):
    page = author_client.get(reverse("proposals:create")).content.decode()
    assert 'value="2023-beta"' in page and "checked" in page.split('value="2023-beta"')[1].split(">")[0]
    assert "June 2023" in page and "April 2023" in page  # every version, each with its date
    assert 'placeholder="🤖 [AI Proposal] {Need/outcome} {Beneficiary} {Job/Small Job}"' in page
    author_client.post(reverse("proposals:create"), {"title": "Newest by default"})
    author_client.post(reverse("proposals:create"), {"title": "Chosen June", "template_version": "2023-06"})
    assert Proposal.objects.get(title="Newest by default").template_version == "2023-beta"
    assert Proposal.objects.get(title="Chosen June").template_version == "2023-06"


@pytest.mark.django_db
def test_an_unknown_template_version_is_refused_on_the_form(author_client):
    response = author_client.post(reverse("proposals:create"), {"title": "T", "template_version": "1999"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Proposal.objects.exists()


@pytest.mark.django_db
def test_only_people_who_may_write_proposals_are_offered_new_and_import(client, author, working_group_member):
    create, imports = reverse("proposals:create"), reverse("proposals:import")
    client.force_login(working_group_member)
    page = client.get(reverse("proposals:list")).content.decode()
    assert f'href="{create}"' not in page and f'href="{imports}"' not in page
    assert client.get(create).status_code == 403
    client.force_login(author)
    page = client.get(reverse("proposals:list")).content.decode()
    assert f'href="{create}"' in page and f'href="{imports}"' in page
