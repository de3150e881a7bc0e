"""The checklists: their rows, and the items Stagegate ticks itself because the data says so."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from proposals.models import ChecklistItem, Proposal


def create_checklist_items(proposal: Proposal, *, verified: bool = False) -> None:
    """The proposal's checklist rows, those it lacks. ``verified``: the proposal was just created, and the
    new rows already hold what the data verifies (as `refresh_verified_checklist` would set them), each
    check answered as for a proposal with no rows of its own yet: no query asks for them."""
    rows = []
    states: dict[str, bool | None] = {}
    now = timezone.now()
    for checklist in proposal.definition.checklists:
        for position, entry in enumerate(checklist.items):
            row = ChecklistItem(proposal=proposal, stage=checklist.stage.value, key=entry.key, position=position)
            if verified and is_app_checked(entry.verified_by):
                if entry.verified_by not in states:
                    states[entry.verified_by] = verified_state(proposal, entry.verified_by, new=True)
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
# The content keys (or key prefixes) a check reads: a content write runs only the checks it can change.
_reads: dict[str, tuple[str, ...]] = {}
# What a check answers for a proposal just created, which has no rows of its own (reviews, designs) yet.
_answer_when_new: dict[str, bool | None] = {}


def register_verifier(
    name: str,
    check: Callable[[Proposal], bool | None],
    *,
    available: Callable[[], bool] | None = None,
    reads: tuple[str, ...] = (),
    when_new: bool | None = None,
) -> None:
    """Add a check. ``reads``: the content keys, or key prefixes such as ``"orr:"``, whose change can change
    its answer (none: it reads only data kept apart from the content, such as GitLab's designs).
    ``when_new``: its answer for a proposal just created."""
    _verifiers[name] = check
    _reads[name] = reads
    _answer_when_new[name] = when_new
    if available is not None:
        _available[name] = available


def is_app_checked(verified_by: str) -> bool:
    """Whether Stagegate ticks this item itself (so a person may not), rather than the author."""
    return bool(verified_by) and (verified_by not in _available or _available[verified_by]())


def verified_state(proposal: Proposal, verified_by: str, *, new: bool = False) -> bool | None:
    """Whether the data itself satisfies a checklist item the app can check (None: no data yet).
    ``new``: the proposal was just created, so it has no persona tags, reviews or designs yet."""
    if verified_by in _verifiers:
        return _answer_when_new[verified_by] if new else _verifiers[verified_by](proposal)
    if verified_by.startswith("label:"):
        return verified_by.removeprefix("label:") in proposal.labels
    if verified_by == "personas":
        return bool(proposal.personas.strip()) or (not new and proposal.persona_tags.exists())
    return bool(str(proposal.field_value(verified_by)).strip())


def reads_any(verified_by: str, keys: set[str]) -> bool:
    """Whether the check named ``verified_by`` reads one of these content keys."""
    if verified_by in _verifiers:
        return any(key.startswith(_reads[verified_by]) for key in keys) if _reads[verified_by] else False
    if verified_by.startswith("label:"):
        return "labels" in keys
    if verified_by == "personas":
        return bool(keys & {"field:personas", "persona_tags"})
    return f"field:{verified_by}" in keys


def refresh_verified_checklist(proposal: Proposal, *, changed: set[str] | None = None) -> None:
    """Tick and untick the items the app can verify, so they always agree with the data.

    ``changed``: the content keys just written; only the checks that read one of them run (a GitLab edit
    of one answer asks neither the reviews nor the designs). Every other writer of what a check reads
    (labels, ORR decisions, GitLab's links and designs) refreshes the checklist itself."""
    entries = [
        (checklist.stage.value, entry)
        for checklist in proposal.definition.checklists
        for entry in checklist.items
        if is_app_checked(entry.verified_by) and (changed is None or reads_any(entry.verified_by, changed))
    ]
    if not entries:
        return
    now = timezone.now()
    items = {(item.stage, item.key): item for item in proposal.checklist_items.all()}
    # Several items share a check (personas, designs, a label in each stage): each check runs once.
    states: dict[str, bool | None] = {}
    changed_to: dict[bool, list[int]] = {True: [], False: []}
    for stage, entry in entries:
        item = items.get((stage, entry.key))
        if item is None:
            continue
        if entry.verified_by not in states:
            states[entry.verified_by] = verified_state(proposal, entry.verified_by)
        should_be = states[entry.verified_by]
        if should_be is None:
            continue
        if item.checked != should_be or not item.checked_by_app:
            changed_to[should_be].append(item.pk)
    # One statement for the items ticked and one for those unticked (an import ticks a dozen at once).
    for checked, pks in changed_to.items():
        if pks:
            ChecklistItem.objects.filter(pk__in=pks).update(
                checked=checked, checked_by_app=True, checked_by=None, checked_at=now if checked else None
            )
