"""What Stagegate manages on the issue besides its text: the scoped labels, and the issue's state."""

from __future__ import annotations

from proposals.models import Proposal
from reviews.status import orr_labels

MANAGED_PREFIXES = ("stage::", "orr::")


def managed_labels(proposal: Proposal) -> list[str]:
    """The working-group label plus the scoped stage and ORR labels, which follow the proposal."""
    return [proposal.definition.label, f"stage::{proposal.stage}", *sorted(orr_labels(proposal))]


def is_managed(name: str, proposal: Proposal) -> bool:
    return name.startswith(MANAGED_PREFIXES) or name == proposal.definition.label


def own_labels(labels: list[str], proposal: Proposal) -> list[str]:
    """The author's own labels among ``labels``: not the working-group label, which every issue
    carries whatever the author's labels say, nor the stage and ORR labels."""
    return [name for name in labels if not is_managed(name, proposal)]


def desired_labels(proposal: Proposal, *, managed: list[str] | None = None) -> list[str]:
    own = own_labels(proposal.labels or [], proposal)
    return own + (managed if managed is not None else managed_labels(proposal))


def scoped_labels_set_on_gitlab(
    base: list[str], remote: list[str], proposal: Proposal, *, managed: list[str] | None = None
) -> list[str]:
    """Stage or ORR labels someone put on the issue (an issue board drag) that the proposal does not hold."""
    held = set(managed if managed is not None else managed_labels(proposal))
    return sorted(name for name in set(remote) - set(base) if name.startswith(MANAGED_PREFIXES) and name not in held)


def enforce_managed(labels: list[str], proposal: Proposal, *, managed: list[str] | None = None) -> list[str]:
    """Stage and ORR labels follow the proposal, whatever was set on GitLab.

    The rule for a ``stage::`` or ``orr::`` label changed on GitLab (an issue board drag): the
    stage moves only through Stagegate's gates and the ORR only through reviewers' decisions, so
    the label is set back to the proposal's own, and the exchange records on the timeline who set
    what (``scoped_labels_set_on_gitlab``), so the move is seen, never silently undone.
    """
    managed = managed if managed is not None else managed_labels(proposal)
    kept = [name for name in labels if not name.startswith(MANAGED_PREFIXES) or name in managed]
    return kept + [name for name in managed if name not in kept]


def issue_state_for(proposal: Proposal) -> str:
    return "closed" if proposal.state == Proposal.State.CLOSED else "opened"
