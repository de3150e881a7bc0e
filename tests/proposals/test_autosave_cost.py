"""Autosave's cost: a fixed number of queries however big the proposal and the portfolio, the conflict check
and the timeline still right, and the GitLab body rendered by the worker, never in the request."""

from __future__ import annotations

import importlib
import sys

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals import services
from proposals.management.commands.seed_bench import seed_portfolio
from proposals.models import Activity, Requirement, ResearchLink
from tests.factories import ProposalFactory

pytestmark = pytest.mark.django_db

PROBLEM = ("user_problem", "solution_hypothesis", "assumptions", "personas", "persona_tags")
# session, user, groups; the proposal; savepoint, the locked row, its persona tags (the section's values);
# the text with the version (+ read back); the checklist items that the changed text verifies (no other
# check runs: the ORR reviews and GitLab's designs are not asked); the sync outbox (read + bump); the
# timeline's latest entry (+ an insert for the first save of a burst); the history's newest row of the burst
# (read + extend); the search entries of the changed field only (one statement on PostgreSQL, a delete and
# an insert elsewhere); the fragment: the proposal, its four lists, its persona tags.
AUTOSAVE_QUERIES = 23 if connection.vendor == "postgresql" else 24


def autosave(client, proposal, text: str, *, version=None, base=None):
    proposal.refresh_from_db()
    values = services.section_values(proposal, PROBLEM)
    data = {
        "version": proposal.version if version is None else version,
        "base": services.section_fingerprint(values) if base is None else base,
        "user_problem": text,
    }
    url = reverse("proposals:section-save", args=[proposal.pk, "problem"])
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response, len(captured)


def grow(proposal, n: int) -> None:
    """n requirements, research links and timeline entries more on the proposal, n proposals more around it."""
    Requirement.objects.bulk_create(Requirement(proposal=proposal, text=f"need {i}", position=i) for i in range(n))
    ResearchLink.objects.bulk_create(
        ResearchLink(proposal=proposal, url=f"https://example.com/{i}", position=i) for i in range(n)
    )
    Activity.objects.bulk_create(
        Activity(proposal=proposal, kind=Activity.Kind.COMMENT, message=f"note {i}") for i in range(n)
    )
    seed_portfolio(proposals=n, seed=n)


def test_autosave_costs_the_same_queries_with_10_and_1000_rows(author_client, author):
    proposal = ProposalFactory(owner=author, title="Summarise threads")
    counts = []
    for n in (10, 1000):
        grow(proposal, n)
        autosave(author_client, proposal, f"Reviewers drown in threads ({n}, first)")
        _, queries = autosave(author_client, proposal, f"Reviewers drown in threads ({n}, again)")
        counts.append(queries)
    assert counts == [AUTOSAVE_QUERIES, AUTOSAVE_QUERIES]


def test_a_burst_of_autosaves_keeps_one_timeline_entry_and_the_last_text(author_client, author):
    proposal = ProposalFactory(owner=author, title="Summarise threads")
    for n in range(3):
        autosave(author_client, proposal, f"Draft {n}")
    proposal.refresh_from_db()
    assert proposal.user_problem == "Draft 2"
    edits = Activity.objects.filter(proposal=proposal, kind=Activity.Kind.EDITED)
    assert edits.count() == 1


def test_an_autosave_from_a_stale_form_is_refused_when_the_section_changed(author_client, author):
    proposal = ProposalFactory(owner=author, title="Summarise threads")
    proposal.refresh_from_db()
    stale_version = proposal.version
    stale_base = services.section_fingerprint(services.section_values(proposal, PROBLEM))
    autosave(author_client, proposal, "Written in another tab")
    response, _ = autosave(author_client, proposal, "Written here", version=stale_version, base=stale_base)
    proposal.refresh_from_db()
    assert proposal.user_problem == "Written in another tab"
    assert "Someone else changed this section" in response.content.decode()


@pytest.fixture
def renders(monkeypatch):
    """Every call of the Markdown renderer, wherever it was imported."""
    calls = []
    original = importlib.import_module("proposals.markdown.render").render

    def spy(content):
        calls.append(content)
        return original(content)

    for module in list(sys.modules.values()):
        if getattr(module, "render", None) is original:
            monkeypatch.setattr(module, "render", spy)
    return calls


def test_autosave_renders_no_gitlab_body_in_the_request(author_client, author, renders, settings):
    settings.GITLAB_URL, settings.GITLAB_TOKEN, settings.GITLAB_PROJECT = "http://gitlab.invalid", "t", "g/p"
    proposal = ProposalFactory(owner=author, title="Summarise threads")
    autosave(author_client, proposal, "First")
    autosave(author_client, proposal, "Second")
    assert renders == []
