"""What Stagegate manages on the issue besides its text: the scoped labels, and the issue's state."""

from __future__ import annotations

from proposals.models import Proposal
from reviews.status import orr_labels

MANAGED_PREFIXES = ("stage::", "orr::")


def managed_labels(proposal: Proposal) -> list[str]:
    """The working-group label plus the scoped stage and ORR labels, which follow the proposal."""
    return [proposal.definition.label, f"stage::{proposal.stage}", *sorted(orr_labels(proposal))]


def desired_labels(proposal: Proposal) -> list[str]:
    managed = managed_labels(proposal)
    own = [name for name in proposal.labels or [] if not name.startswith(MANAGED_PREFIXES)]
    return own + [name for name in managed if name not in own]


def enforce_managed(labels: list[str], proposal: Proposal) -> list[str]:
    """Stage and ORR labels follow the proposal, whatever was set on GitLab."""
    managed = managed_labels(proposal)
    kept = [name for name in labels if not name.startswith(MANAGED_PREFIXES) or name in managed]
    return kept + [name for name in managed if name not in kept]


def issue_state_for(proposal: Proposal) -> str:
    return "closed" if proposal.state == Proposal.State.CLOSED else "opened"
