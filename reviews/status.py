"""Where the ORR of a proposal stands: per-area summary, the gates' reasons, GitLab's scoped label.

Reads, never writes. Every status here is a review's *effective* status (`Review.effective_status`),
so an expired waiver counts as expired everywhere at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from proposals.models import Proposal
from proposals.workflow import Reason
from reviews.models import Review

# One scoped label at a time: GitLab keeps a single `orr::` label on an issue.
ORR_LABEL_NOT_STARTED = "orr::not-started"
ORR_LABEL_IN_REVIEW = "orr::in-review"
ORR_LABEL_CHANGES_REQUESTED = "orr::changes-requested"
ORR_LABEL_STALE = "orr::stale"
ORR_LABEL_APPROVED = "orr::approved"
ORR_LABELS = frozenset(
    {ORR_LABEL_NOT_STARTED, ORR_LABEL_IN_REVIEW, ORR_LABEL_CHANGES_REQUESTED, ORR_LABEL_STALE, ORR_LABEL_APPROVED}
)

# Why an area keeps a gate closed, by effective status.
STATUS_REASONS = {
    Review.Status.NOT_STARTED: "not submitted for review yet",
    Review.Status.IN_REVIEW: "waiting for a reviewer's decision",
    Review.Status.CHANGES_REQUESTED: "changes requested",
    Review.Status.STALE: "sign-off is stale: the answer changed after it was signed",
    Review.Status.WAIVER_EXPIRED: "the not-applicable waiver expired; it needs a new decision",
}

# How the gates panel groups the ORR's reasons.
ORR_GROUP = "Operational Requirements Review"

STATUS_TEXT = {
    "not_started": "Not started",
    "in_review": "In review",
    "changes_requested": "Changes requested",
    "approved": "Approved",
    "not_applicable": "Not applicable",
    "stale": "Stale (answer changed since sign-off)",
    "waiver_expired": "Waiver expired",
}


@dataclass(frozen=True)
class AreaStatus:
    number: int
    key: str
    title: str
    status: str  # Review.Status value
    status_text: str
    reviewer: str  # who decided, else who is assigned, else the group
    decided_at: str  # ISO date of the current decision, or ""
    waiver_expires_on: str  # ISO date, or ""
    signed_off: bool


def proposal_reviews(proposal: Proposal) -> list[Review]:
    """The proposal's ORR reviews in area order, with area and current decision loaded once.

    Uses `proposal.reviews` when the caller prefetched it, so a list of proposals costs no query each.
    """
    prefetched = getattr(proposal, "_prefetched_objects_cache", {}).get("reviews")
    if prefetched is not None:
        return sorted(prefetched, key=lambda review: review.area.number)
    return list(
        proposal.reviews.select_related(
            "area", "area__reviewer_group", "current_decision", "current_decision__decided_by", "reviewer"
        )
        .with_author_answer()
        .order_by("area__number")
    )


def orr_reasons(proposal: Proposal, *, today=None) -> list[str]:
    """Why the ORR areas are not all signed off (approved or not applicable, none stale or expired)."""
    reviews = proposal_reviews(proposal)
    if not reviews:
        return ["The ORR areas have not been set up for this proposal"]
    reasons = []
    for review in reviews:
        status = review.effective_status(today)
        if status not in Review.SIGNED_OFF:
            text = f"ORR “{review.area.title}”: {STATUS_REASONS.get(status, status)}"
            reasons.append(Reason(text, group=ORR_GROUP, anchor=f"orr-{review.area.key}"))
    return reasons


def orr_signed_off(proposal: Proposal, *, today=None) -> bool:
    """Whether every ORR area is signed off: `orr_reasons` is empty. Asked by the checklist at every
    content write, so it reads only what the effective status needs (the review and its decision)."""
    prefetched = getattr(proposal, "_prefetched_objects_cache", {}).get("reviews")
    if prefetched is None:
        prefetched = Review.objects.filter(proposal=proposal).select_related("current_decision")
    reviews = list(prefetched)
    return bool(reviews) and all(review.effective_status(today) in Review.SIGNED_OFF for review in reviews)


def submit_reasons(proposal: Proposal, *, today=None) -> list[str]:
    """What keeps the ORR answers from going (again) to the reviewers."""
    reviews = proposal_reviews(proposal)
    if not reviews:
        return ["The ORR areas have not been set up for this proposal"]
    if proposal.state == Proposal.State.IN_REVIEW:
        if not any(review.status == Review.Status.CHANGES_REQUESTED for review in reviews):
            return ["Already in review: nothing waits for a resubmission"]
        return []
    return [
        Reason(f"Answer the ORR area “{review.area.title}”", group=ORR_GROUP, anchor=f"orr-{review.area.key}")
        for review in reviews
        if not review.answer.strip()
    ]


def orr_status_summary(proposal: Proposal, *, today=None) -> list[AreaStatus]:
    """One row per ORR area, in area order, for the issue's Markdown and the proposal page.

    Reads `proposal.reviews` (prefetch it with area, current_decision__decided_by and reviewer
    to render many proposals without a query each).
    """
    today = today or timezone.localdate()
    rows = []
    for review in proposal_reviews(proposal):
        status = review.effective_status(today)
        decision = review.current_decision
        if decision is not None and status != "in_review":
            who = _gitlab_name(decision.decided_by)
        elif review.reviewer is not None:
            who = _gitlab_name(review.reviewer)
        else:
            group = review.area.reviewer_group
            who = group.name if group is not None else ""
        rows.append(
            AreaStatus(
                number=review.area.number,
                key=review.area.key,
                title=review.area.title,
                status=status,
                status_text=STATUS_TEXT.get(status, status),
                reviewer=who,
                decided_at=decision.decided_at.date().isoformat() if decision is not None else "",
                waiver_expires_on=decision.waiver_expires_on.isoformat()
                if decision is not None and decision.waiver_expires_on
                else "",
                signed_off=status in Review.SIGNED_OFF,
            )
        )
    return rows


def _gitlab_name(user) -> str:
    # Only a GitLab account loaded with the user (select_related) is used: no query per row.
    account = user._state.fields_cache.get("gitlab_account")
    return f"@{account.gitlab_username}" if account is not None else user.get_username()


def orr_label(proposal: Proposal, *, today=None) -> str:
    """The single `orr::` scoped label that says where the ORR stands."""
    statuses = [row.status for row in orr_status_summary(proposal, today=today)]
    if not statuses:
        return ORR_LABEL_NOT_STARTED
    if all(s in Review.SIGNED_OFF for s in statuses):
        return ORR_LABEL_APPROVED
    if "changes_requested" in statuses:
        return ORR_LABEL_CHANGES_REQUESTED
    if "stale" in statuses or "waiver_expired" in statuses:
        return ORR_LABEL_STALE
    if all(s == "not_started" for s in statuses):
        return ORR_LABEL_NOT_STARTED
    return ORR_LABEL_IN_REVIEW


def orr_labels(proposal: Proposal, *, today=None) -> set[str]:
    """The ORR labels the proposal's issue should carry; the sync removes the rest of ORR_LABELS."""
    return {orr_label(proposal, today=today)}
