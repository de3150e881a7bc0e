"""A new proposal's checklist, verified without a query, and a content write, which runs only the checklist
checks that read what it wrote, leave the items as if every check had run (the checks' declared answers for a
new proposal and their declared reads are complete)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proposals import services
from proposals.checklists import refresh_verified_checklist
from proposals.content import content_from_proposal, content_values, content_with_values, proposal_apply_content
from proposals.models import ChecklistItem, Persona
from proposals.signals import Origin
from proposals.template import DEFINITIONS
from reviews.models import Review

pytestmark = pytest.mark.django_db

ANSWERS = st.sampled_from(["", "Reviewers lose track of long merge request threads."])


def app_ticks(proposal) -> dict[tuple[str, str], tuple[bool, bool]]:
    rows = ChecklistItem.objects.filter(proposal=proposal).values_list("stage", "key", "checked", "checked_by_app")
    return {(stage, key): (checked, by_app) for stage, key, checked, by_app in rows}


def value_of(key: str, current):
    """A valid value for a content key, of the kind the key holds (an answer filled or emptied, a tick...)."""
    if isinstance(current, bool):
        return st.booleans()
    if key == "persona_tags":
        return st.lists(st.sampled_from(sorted(Persona.objects.values_list("name", flat=True))), max_size=2)
    if key.startswith("list:"):
        return st.sampled_from([[], ["Summarise one thread"]])
    return ANSWERS


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(version=st.sampled_from(sorted(DEFINITIONS)), data=st.data(), signed_off=st.booleans())
def test_a_partial_content_write_leaves_the_checklist_as_a_full_check_would(author, version, data, signed_off):
    proposal = services.proposal_create(title="Summarise threads", owner=author, template_version=version)
    created = app_ticks(proposal)  # verified with no query, as for a proposal with no rows of its own yet
    refresh_verified_checklist(proposal)
    assert app_ticks(proposal) == created
    if signed_off:  # every area signed off: an ORR answer written with the content unsigns its area
        Review.objects.filter(proposal=proposal).update(status=Review.Status.APPROVED)
        refresh_verified_checklist(proposal)  # as a decision does
    current = content_values(content_from_proposal(proposal), proposal.title)
    writable = sorted(key for key in current if key not in ("title", "research_links", "kept_blocks"))
    ticks = [key for key in writable if key.startswith(("check:", "na:"))]
    answers = [key for key in writable if key not in ticks]  # fewer, and what the checks read
    keys = data.draw(st.sets(st.sampled_from(answers), min_size=1, max_size=4))
    keys |= data.draw(st.sets(st.sampled_from(ticks), max_size=2))
    values = {key: data.draw(value_of(key, current[key])) for key in keys}
    # As GitLab's edit comes: an ORR answer a signed-off area may not take is left aside, not refused.
    proposal_apply_content(
        proposal=proposal,
        content=content_with_values(content_from_proposal(proposal), values),
        keys=set(values),
        by=author,
        origin=Origin.GITLAB,
    )
    written = app_ticks(proposal)
    refresh_verified_checklist(type(proposal).objects.get(pk=proposal.pk))
    assert app_ticks(proposal) == written
