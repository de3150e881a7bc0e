"""The proposal list's text filter (`q`) asks the full-text index: any word in any part finds a proposal."""

import pytest
from django.urls import reverse

from proposals import search, services
from proposals.models import Persona, Proposal
from tests.factories import ProposalFactory
from tests.helpers import edit

LIST = "proposals:list"


def listed(client, **params) -> str:
    return client.get(reverse(LIST), params).content.decode()


@pytest.mark.django_db
def test_a_word_in_any_part_of_a_proposal_finds_it_in_the_list(author_client, author):
    in_problem = ProposalFactory(owner=author, title="Summaries for reviewers")
    edit(in_problem, author, user_problem="Threads about flamingos are long.")
    in_requirement = ProposalFactory(owner=author, title="Pipeline digests")
    services.requirement_add(proposal=in_requirement, text="Export the pelican report", by=author)
    ProposalFactory(owner=author, title="Unrelated work")

    assert "Summaries for reviewers" in listed(author_client, q="flamingo")  # stemmed: the singular finds it
    html = listed(author_client, q="pelican")
    assert "Pipeline digests" in html and "Summaries for reviewers" not in html and "Unrelated work" not in html
    assert "1 proposal" in html
    both = listed(author_client, q="flamingos or pelican")  # GitLab-like web search syntax
    assert "Summaries for reviewers" in both and "Pipeline digests" in both and "2 proposals" in both


@pytest.mark.django_db
def test_the_text_filter_never_shows_a_confidential_proposal_to_someone_who_may_not_read_it(
    author, other_author, reviewer, client
):
    ProposalFactory(owner=author, title="Secret heron project", confidential=True)
    ProposalFactory(owner=author, title="Open heron project")
    client.force_login(other_author)
    html = listed(client, q="heron")
    assert "Open heron project" in html and "Secret heron project" not in html and "1 proposal" in html
    client.force_login(reviewer)
    assert "Secret heron project" in listed(client, q="heron")
    client.force_login(author)
    assert "2 proposals" in listed(client, q="heron")


@pytest.mark.django_db
def test_the_text_filter_combines_with_the_other_filters(author_client, author):
    ProposalFactory(owner=author, title="Summarise heron threads", stage="ga")
    ProposalFactory(owner=author, title="Summarise heron pipelines", stage="experiment")
    html = listed(author_client, q="heron", stage="ga")
    assert "Summarise heron threads" in html and "Summarise heron pipelines" not in html


@pytest.mark.django_db
def test_a_search_of_stop_words_only_finds_nothing_rather_than_everything(author_client, author):
    ProposalFactory(owner=author, title="The heron")
    assert "0 proposals" in listed(author_client, q="the")


@pytest.mark.django_db
def test_the_fallback_matches_every_word_somewhere_in_the_proposal(author):
    both = ProposalFactory(owner=author, title="Heron summaries")
    edit(both, author, user_problem="Flamingo threads")
    ProposalFactory(owner=author, title="Heron only")
    found = search.filter_matching_fallback(Proposal.objects.all(), "heron FLAMINGO")
    assert list(found) == [both]
    assert not search.filter_matching_fallback(Proposal.objects.all(), "!!").exists()


@pytest.mark.django_db
def test_the_list_counts_every_proposal_its_reader_may_see(client, author, other_author):
    ProposalFactory(owner=author, title="Open one")
    ProposalFactory(owner=author, title="Own secret", confidential=True)
    shared = ProposalFactory(owner=other_author, title="Shared secret", confidential=True)
    ProposalFactory(owner=other_author, title="Their secret", confidential=True)
    services.proposal_set_co_authors(proposal=shared, co_authors=[author], by=other_author)
    client.force_login(author)
    html = listed(client)
    assert "3 proposals" in html and "Shared secret" in html and "Their secret" not in html


@pytest.mark.django_db
def test_the_list_flags_high_confidence_without_research_on_the_page_it_shows(author_client, author):
    unbacked = ProposalFactory(owner=author, title="Claims a lot", confidence="high")
    backed = ProposalFactory(owner=author, title="Shows its work", confidence="high")
    services.research_link_add(proposal=backed, url="https://example.com/r", title="Interviews", by=author)
    rows = {p.title: p.confidence_unbacked for p in author_client.get(reverse(LIST)).context["page"].object_list}
    assert rows == {unbacked.title: True, backed.title: False}


@pytest.mark.django_db
def test_the_persona_picker_draws_each_checkbox_exactly_as_its_widget_would(author_client, author):
    from proposals.forms import section_form_class

    proposal = ProposalFactory(owner=author)
    sasha = Persona.objects.get(name="Sasha")
    edit(proposal, author, persona_tags=[sasha.pk])
    html = author_client.get(reverse("proposals:edit", args=[proposal.pk])).content.decode()
    form = section_form_class(proposal.definition, "problem")(initial={"persona_tags": [sasha.pk]})
    boxes = [str(option.tag()) for option in form["persona_tags"]]
    assert len(boxes) == Persona.objects.count()
    assert all(box in html for box in boxes)
    assert sum(" checked>" in box for box in boxes) == 1


@pytest.mark.django_db
def test_the_list_finds_as_one_types_a_word(author_client, author):
    ProposalFactory(owner=author, title="Summarise merge request threads")
    ProposalFactory(owner=author, title="Forecast pipeline failures")
    for typed in ("sum", "summ", "summar", "summarise"):
        html = listed(author_client, q=typed)
        assert "Summarise merge request threads" in html and "Forecast pipeline failures" not in html, typed
        assert "1 proposal" in html, typed


@pytest.mark.django_db
def test_words_in_different_parts_find_the_proposal_together(author_client, author, client):
    spread = ProposalFactory(owner=author, title="Summaries for reviewers")
    edit(spread, author, user_problem="Threads about flamingos are long.")
    ProposalFactory(owner=author, title="Summaries of pipelines")  # one word only: not found by both
    html = listed(author_client, q="summaries flamingos")
    assert "Summaries for reviewers" in html and "Summaries of pipelines" not in html and "1 proposal" in html
    page = author_client.get(reverse("proposals:search"), {"q": "summaries flamingos"}).content.decode()
    assert "Summaries for reviewers" in page and "Summaries of pipelines" not in page
    assert "<mark>flamingos</mark>" in page  # the snippet marks the word found in the answer


@pytest.mark.django_db
def test_a_stop_word_among_the_words_asks_for_nothing(author_client, author):
    ProposalFactory(owner=author, title="Rebuild incident timelines")
    html = listed(author_client, q="rebuild the timeline")
    assert "Rebuild incident timelines" in html and "1 proposal" in html
    page = author_client.get(reverse("proposals:search"), {"q": "rebuild the timeline"}).content.decode()
    assert "Rebuild incident timelines" in page
