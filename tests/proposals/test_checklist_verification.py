"""A content write runs only the checklist checks that read what it wrote; the items then agree with the data
as if every check had run (the checks' declared reads are complete)."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proposals import services
from proposals.checklists import refresh_verified_checklist
from proposals.content import content_values, proposal_apply_content
from proposals.models import ChecklistItem
from proposals.template import DEFINITIONS
from proposals.validators import ContentInvalid
from reviews.models import Review
from reviews.services import ReviewRefused
from tests.markdown.strategies import contents

pytestmark = pytest.mark.django_db


def app_ticks(proposal) -> dict[tuple[str, str], tuple[bool, bool]]:
    rows = ChecklistItem.objects.filter(proposal=proposal).values_list("stage", "key", "checked", "checked_by_app")
    return {(stage, key): (checked, by_app) for stage, key, checked, by_app in rows}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    version=st.sampled_from(sorted(DEFINITIONS)),
    data=st.data(),
    signed_off=st.booleans(),
)
def test_a_partial_content_write_leaves_the_checklist_as_a_full_check_would(author, version, data, signed_off):
    proposal = services.proposal_create(title="Summarise threads", owner=author, template_version=version)
    if signed_off:  # every area signed off: an ORR answer written with the content unsigns its area
        Review.objects.filter(proposal=proposal).update(status=Review.Status.APPROVED)
        refresh_verified_checklist(proposal)  # as a decision does
    content = data.draw(contents(versions=[version]))
    values = content_values(content, "Summarise threads")
    keys = data.draw(st.sets(st.sampled_from(sorted(values)), min_size=1))
    try:
        with transaction.atomic():  # a refused write fails only this example
            proposal_apply_content(proposal=proposal, content=content, keys=keys, title=values.get("title"), by=author)
    except (ContentInvalid, ReviewRefused):
        return  # refused whole: nothing was written
    written = app_ticks(proposal)
    refresh_verified_checklist(type(proposal).objects.get(pk=proposal.pk))
    assert app_ticks(proposal) == written
