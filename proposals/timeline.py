"""A proposal's timeline as one person may see it: the one rule the read page, the timeline page and its
CSV export share."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from proposals import access
from proposals.models import Activity, Proposal

# An entry copied from one of GitLab's internal notes (data {"internal": true}). `has_key` first: a bare
# `exclude(data__internal=True)` would also drop every entry without the key (NOT NULL is NULL in SQL).
INTERNAL_NOTE = Q(data__has_key="internal") & Q(data__internal=True)


def entries_seen_by(user, proposal: Proposal) -> QuerySet[Activity]:
    """The proposal's timeline entries this person may see, newest first: GitLab's internal notes only for
    those GitLab would show them to (`access.may_see_internal_notes`)."""
    entries = Activity.objects.filter(proposal=proposal).select_related("actor").order_by("-created_at", "-id")
    if not access.may_see_internal_notes(user, proposal):
        entries = entries.exclude(INTERNAL_NOTE)
    return entries


def person_of(entry: Activity) -> str:
    """Who made the entry: the Stagegate user, else the GitLab user the sync names, else GitLab or Stagegate itself."""
    if entry.actor is not None:
        return entry.actor.get_username()
    by = entry.data.get("by") if isinstance(entry.data, dict) else None
    if by:
        return str(by)
    return "GitLab" if entry.kind in (Activity.Kind.SYNC, Activity.Kind.CONFLICT) else "Stagegate"


def is_internal_note(entry: Activity) -> bool:
    return isinstance(entry.data, dict) and entry.data.get("internal") is True


def person_q(name: str) -> Q:
    """Entries by this person: their own, or those the sync made for their GitLab account of that name."""
    return Q(actor__username=name) | Q(actor__isnull=True, data__by=name)


def people_in(entries: QuerySet[Activity]) -> list[str]:
    """Everyone on these entries, in one query however long the timeline is."""
    pairs = entries.order_by().values_list("actor__username", "data__by").distinct()
    names = {username or by for username, by in pairs if username or (isinstance(by, str) and by)}
    return sorted(names, key=str.casefold)
