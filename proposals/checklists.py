"""The checklists: their rows, and the items Stagegate ticks itself because the data says so."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from proposals.models import ChecklistItem, Proposal


def create_checklist_items(proposal: Proposal, *, verified: bool = False) -> None:
    """The proposal's checklist rows, those it lacks. ``verified``: the new rows already hold what the
    data verifies (as `refresh_verified_checklist` would set them), so a new proposal needs no refresh."""
    rows = []
    states: dict[str, bool | None] = {}
    now = timezone.now()
    for checklist in proposal.definition.checklists:
        for position, entry in enumerate(checklist.items):
            row = ChecklistItem(proposal=proposal, stage=checklist.stage.value, key=entry.key, position=position)
            if verified and is_app_checked(entry.verified_by):
                if entry.verified_by not in states:
                    states[entry.verified_by] = verified_state(proposal, entry.verified_by)
                if states[entry.verified_by] is not None:
                    row.checked = states[entry.verified_by]
                    row.checked_by_app = True
                    row.checked_at = now if row.checked else None
            rows.append(row)
    ChecklistItem.objects.bulk_create(rows, ignore_conflicts=True)


# Checks that apps depending on proposals add for the items they can verify (the ORR's sign-off),
# by the name the template gives in an item's `verified_by`. A check answers None while it has no data
# to judge by (GitLab's links and designs not read yet): the item then stays as it is.
_verifiers: dict[str, Callable[[Proposal], bool | None]] = {}
# Whether a check can run on this installation at all (GitLab's links and designs need GitLab connected).
# Where it cannot, its item is an ordinary one that the author ticks: nobody would be able to otherwise.
_available: dict[str, Callable[[], bool]] = {}


def register_verifier(
    name: str, check: Callable[[Proposal], bool | None], *, available: Callable[[], bool] | None = None
) -> None:
    _verifiers[name] = check
    if available is not None:
        _available[name] = available


def is_app_checked(verified_by: str) -> bool:
    """Whether Stagegate ticks this item itself (so a person may not), rather than the author."""
    return bool(verified_by) and (verified_by not in _available or _available[verified_by]())


def verified_state(proposal: Proposal, verified_by: str) -> bool | None:
    """Whether the data itself satisfies a checklist item the app can check (None: no data yet)."""
    if verified_by in _verifiers:
        return _verifiers[verified_by](proposal)
    if verified_by.startswith("label:"):
        return verified_by.removeprefix("label:") in proposal.labels
    if verified_by == "personas":
        return bool(proposal.personas.strip()) or proposal.persona_tags.exists()
    return bool(str(proposal.field_value(verified_by)).strip())


def refresh_verified_checklist(proposal: Proposal) -> None:
    """Tick and untick the items the app can verify, so they always agree with the data."""
    now = timezone.now()
    items = {(item.stage, item.key): item for item in proposal.checklist_items.all()}
    changed = []
    # Several items share a check (personas, designs, a label in each stage): each check runs once.
    states: dict[str, bool | None] = {}
    for checklist in proposal.definition.checklists:
        for entry in checklist.items:
            item = items.get((checklist.stage.value, entry.key))
            if item is None or not is_app_checked(entry.verified_by):
                continue
            if entry.verified_by not in states:
                states[entry.verified_by] = verified_state(proposal, entry.verified_by)
            should_be = states[entry.verified_by]
            if should_be is None:
                continue
            if item.checked != should_be or not item.checked_by_app:
                item.checked = should_be
                item.checked_by_app = True
                item.checked_by = None
                item.checked_at = now if should_be else None
                changed.append(item)
    # One statement for every item that changed (a new or imported proposal changes a dozen at once).
    if changed:
        ChecklistItem.objects.bulk_update(changed, ["checked", "checked_by_app", "checked_by", "checked_at"])
