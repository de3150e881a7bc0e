"""The edit page's own views: the live poll, the tokens a save returns, the outline and the gates summary."""

import pytest
from django.urls import reverse

from proposals import services
from proposals.models import Proposal
from tests.factories import UserFactory
from tests.proposals.test_views import HTMX, section_post


def live(client, proposal, etag=None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(reverse("proposals:live", args=[proposal.pk]), **headers)


def save_elsewhere(proposal, by, **values):
    proposal = Proposal.objects.get(pk=proposal.pk)
    fields = tuple(values)
    services.proposal_update_section(
        proposal=proposal,
        fields=fields,
        data=values,
        version=proposal.version,
        base=services.section_fingerprint(services.section_values(proposal, fields)),
        by=by,
        section_title="Problem to be solved",
    )


@pytest.mark.django_db
def test_the_poll_says_not_modified_until_the_proposal_changes_then_who_changed_which_section(
    author_client, proposal, admin_user
):
    first = live(author_client, proposal)
    assert first.status_code == 200
    state = first.json()
    assert set(state["sections"]) >= {"details", "problem", "experiment-proposal"}
    assert live(author_client, proposal, first["ETag"]).status_code == 304

    save_elsewhere(proposal, admin_user, user_problem="Reviewers drown in threads.")
    changed = live(author_client, proposal, first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    after = changed.json()
    assert after["sections"]["problem"] != state["sections"]["problem"]
    assert after["sections"]["experiment-proposal"] == state["sections"]["experiment-proposal"]
    assert after["changes"]["problem"]["by"] == admin_user.username
    # The fingerprint is the one the section's form carries, so the page compares like with like.
    page = author_client.get(reverse("proposals:edit", args=[proposal.pk])).content.decode()
    form = page[page.index('id="section-problem"') :]
    assert f'name="base" value="{after["sections"]["problem"]}"' in form
    assert f'data-live-token="{after["token"]}"' in page


@pytest.mark.django_db
def test_a_reviewers_timeline_entry_changes_the_token_too(author_client, proposal, admin_user):
    etag = live(author_client, proposal)["ETag"]
    services.requirement_add(proposal=proposal, text="See the summary", by=admin_user)
    assert live(author_client, proposal, etag).status_code == 200


@pytest.mark.django_db
def test_the_poll_refuses_the_signed_out_and_those_who_may_not_read(client, proposal):
    assert live(client, proposal).status_code == 401  # JSON for a script, never the login page
    Proposal.objects.filter(pk=proposal.pk).update(confidential=True)
    client.force_login(UserFactory(username="grace", groups=["author"]))
    assert live(client, proposal).status_code == 404


@pytest.mark.django_db
def test_the_poll_says_when_the_proposal_was_closed(author_client, proposal):
    Proposal.objects.filter(pk=proposal.pk).update(state=Proposal.State.CLOSED)
    assert live(author_client, proposal).json()["closed"] is True


@pytest.mark.django_db
@pytest.mark.parametrize("unchanged", [True, False])
def test_the_poll_costs_the_same_few_queries_with_10_or_1000_timeline_entries(
    author_client, author, proposal, unchanged, django_assert_num_queries, django_assert_max_num_queries
):
    def grow(count):
        for number in range(count):
            services.requirement_add(proposal=proposal, text=f"Requirement {number}", by=author)

    grow(10)
    etag = live(author_client, proposal)["ETag"] if unchanged else None
    with django_assert_max_num_queries(6 if not unchanged else 4) as small:
        live(author_client, proposal, etag)
    queries = len(small)  # read now: the connection keeps a bounded log, which growing the timeline rolls over
    grow(990)
    etag = live(author_client, proposal)["ETag"] if unchanged else None
    with django_assert_num_queries(queries):
        response = live(author_client, proposal, etag)
    assert response.status_code == (304 if unchanged else 200)
    print(f"live poll: {queries} queries {'(304)' if unchanged else '(200)'}")


@pytest.mark.django_db
def test_a_save_returns_the_token_before_and_after_it_so_the_page_knows_the_change_was_its_own(author_client, proposal):
    etag = live(author_client, proposal)["ETag"].strip('"')
    response = section_post(author_client, proposal, "problem", {"user_problem": "Reviewers drown."}, **HTMX)
    assert response["X-Live-Before"] == etag
    after = live(author_client, proposal)
    assert response["X-Live-After"] == after["ETag"].strip('"')


@pytest.mark.django_db
def test_a_save_redraws_the_outline_with_the_sections_count(author_client, proposal):
    html = section_post(author_client, proposal, "problem", {"user_problem": "Reviewers drown."}, **HTMX)
    html = html.content.decode()
    assert 'id="edit-outline"' in html and 'hx-swap-oob="true"' in html
    outline = html[html.index('id="edit-outline"') :]
    assert "1 of 4 answered" in outline[outline.index("Problem to be solved") :]


@pytest.mark.django_db
def test_section_fields_count_characters_instead_of_the_browser_cutting_them(author_client, proposal):
    page = author_client.get(reverse("proposals:edit", args=[proposal.pk])).content.decode()
    assert 'maxlength="' not in page
    assert 'data-max-length="255"' in page and 'data-max-length="20000"' in page


@pytest.mark.django_db
def test_the_gates_panel_has_one_line_per_gate_and_groups_the_reasons(author_client, proposal):
    html = author_client.get(reverse("reviews:gates", args=[proposal.pk])).content.decode()
    assert html.count('<div class="gate">') == 3  # submit, move into GA work, close
    reasons = html[html.index('id="gate-advance-reasons"') :]
    reasons = reasons[: reasons.index("</details>")]
    assert "things left</span></summary>" in reasons
    assert '<a href="#section-problem">Problem to be solved</a> <small>4</small>' in reasons
    assert '<a href="#checklists">Experiment checklist</a>' in reasons


@pytest.mark.django_db
def test_persona_picker_is_one_fieldset_with_search_list_and_free_text(author_client, proposal):
    page = author_client.get(reverse("proposals:edit", args=[proposal.pk])).content.decode()
    assert page.count("<fieldset") == 1 and "Personas impacted" not in page
    picker = page[page.index('class="persona-picker"') : page.index("</fieldset>")]
    assert "Search the template's personas" in picker
    assert "Sasha (Software Developer)" in picker and "Others, not in the list" in picker
