"""Plain functions the tests share (fixtures live in tests/conftest.py)."""

from __future__ import annotations

from proposals import services
from proposals.models import Proposal


def edit(proposal: Proposal, by, **values) -> Proposal:
    """Save the given fields of the problem section as `by`, from the proposal's current version."""
    proposal.refresh_from_db()
    return services.proposal_update_section(
        proposal=proposal,
        fields=tuple(values),
        data=values,
        version=proposal.version,
        base="",
        by=by,
        section_title="Problem to be solved",
    )
