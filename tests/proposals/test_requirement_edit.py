"""A requirement's text edited in place on the edit page: htmx fragment and plain form, refusals, queries."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from proposals import services, workflow
from proposals.models import Activity, Proposal, Requirement

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def edit_url(requirement) -> str:
    return reverse("proposals:requirement-edit", args=[requirement.proposal_id, requirement.pk])


def field_name(requirement) -> str:
    return f"requirement-{requirement.pk}-text"


@pytest.fixture
def requirement(proposal, author):
    services.requirement_add(proposal=proposal, text="Read a summary", by=author)
    return services.requirement_add(proposal=proposal, text="Share the summary", by=author)


def test_the_field_opens_in_place_and_saving_keeps_the_place(author_client, author, proposal, requirement):
    opened = author_client.get(edit_url(requirement), **HTMX).content.decode()
    assert f'name="{field_name(requirement)}" value="Share the summary"' in opened
    version = Proposal.objects.get(pk=proposal.pk).version

    saved = author_client.post(edit_url(requirement), {field_name(requirement): "Share it with the team"}, **HTMX)

    html = saved.content.decode()
    assert saved.status_code == 200 and "Share it with the team" in html and field_name(requirement) not in html
    assert "proposal-changed" in saved.headers["HX-Trigger"]
    assert list(proposal.requirements.values_list("text", flat=True)) == ["Read a summary", "Share it with the team"]
    assert Proposal.objects.get(pk=proposal.pk).version == version + 1
    entry = proposal.activities.get(kind=Activity.Kind.REQUIREMENT, message__contains="edited")
    assert entry.data["text"] == ["Share the summary", "Share it with the team"]


def test_a_refused_text_keeps_the_field_open_with_the_reason(author_client, proposal, requirement):
    for text in ("   ", "right\u202eto-left", "x" * 1001):
        response = author_client.post(edit_url(requirement), {field_name(requirement): text}, **HTMX)
        html = response.content.decode()
        assert response.status_code == 200 and 'role="alert"' in html and field_name(requirement) in html, text
    assert Requirement.objects.get(pk=requirement.pk).text == "Share the summary"


def test_without_javascript_the_edit_page_opens_the_field_and_saving_redirects(author_client, requirement):
    page = author_client.get(edit_url(requirement)).content.decode()
    assert "<!doctype html>" in page.lower() and f'name="{field_name(requirement)}"' in page

    response = author_client.post(edit_url(requirement), {field_name(requirement): "Share it"})

    assert response.status_code == 302
    assert Requirement.objects.get(pk=requirement.pk).text == "Share it"


def test_cancel_closes_the_field(author_client, requirement):
    html = author_client.get(edit_url(requirement) + "?cancel=1", **HTMX).content.decode()
    assert field_name(requirement) not in html and "Share the summary" in html


def test_others_and_a_closed_proposal_are_refused(author_client, author, other_author, proposal, requirement):
    client = Client()
    client.force_login(other_author)
    assert client.post(edit_url(requirement), {field_name(requirement): "hijack"}).status_code == 403
    workflow.proposal_close(proposal=proposal, by=author)
    assert author_client.post(edit_url(requirement), {field_name(requirement): "late"}, **HTMX).status_code == 403
    assert Requirement.objects.get(pk=requirement.pk).text == "Share the summary"
    with pytest.raises(PermissionDenied, match="closed"):
        services.requirement_edit(requirement=requirement, text="late", by=author)


def test_the_fragment_costs_the_same_queries_with_3_or_30_requirements(
    author_client, author, proposal, requirement, django_assert_max_num_queries, django_assert_num_queries
):
    with django_assert_max_num_queries(20) as small_get:
        author_client.get(edit_url(requirement), **HTMX)
    with django_assert_max_num_queries(40) as small_post:
        author_client.post(edit_url(requirement), {field_name(requirement): "Edit 1"}, **HTMX)
    for n in range(27):
        services.requirement_add(proposal=proposal, text=f"Requirement {n}", by=author)
    with django_assert_num_queries(len(small_get)):
        author_client.get(edit_url(requirement), **HTMX)
    with django_assert_num_queries(len(small_post)):
        author_client.post(edit_url(requirement), {field_name(requirement): "Edit 2"}, **HTMX)
