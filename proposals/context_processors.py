"""What the navigation offers depends on who is looking: only people who may write proposals see the way to."""

from __future__ import annotations

from proposals import access


def proposal_rights(request) -> dict:
    user = getattr(request, "user", None)
    # A callable: the template asks only when it draws the navigation (the groups are read once a request).
    return {"may_create_proposals": lambda: access.may_create(user)}
