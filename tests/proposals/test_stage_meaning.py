"""A proposal's stage and state read as what they mean, never a bare "General Availability · Draft"."""

from __future__ import annotations

import pytest

from proposals.models import Proposal
from proposals.templatetags.stages import stage_meaning


@pytest.mark.parametrize(
    ("stage", "state", "shown"),
    [
        ("experiment", Proposal.State.DRAFT, "Experiment work · draft"),
        ("ga", Proposal.State.DRAFT, "GA work · draft"),
        ("ga", Proposal.State.IN_REVIEW, "GA work · in review"),
        ("ga", Proposal.State.APPROVED, "Approved for GA"),
        ("beta", Proposal.State.CLOSED, "Closed during Beta work"),
    ],
)
def test_stage_and_state_read_as_one_phrase(stage, state, shown):
    assert stage_meaning(Proposal(stage=stage, state=state)) == shown
