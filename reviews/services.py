"""The ORR's writes: answers, submission, decisions, the thread, reminders. Views, tasks and admin share them."""

from __future__ import annotations

import datetime
import difflib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from proposals import access, history, search, workflow
from proposals.checklists import refresh_verified_checklist
from proposals.models import Activity, Proposal
from proposals.signals import Origin, send_proposal_changed
from reviews.models import (
    DUE_SOON_DAYS,
    Decision,
    Notification,
    OrrArea,
    OrrAreaChange,
    Review,
    ReviewComment,
    ReviewSeen,
    Watch,
    answer_sha256,
)
from reviews.notifications import absolute_url, notify

logger = logging.getLogger(__name__)

# Autosave sends many saves a minute; the timeline records one answer edit per person and area in this window.
ANSWER_ACTIVITY_WINDOW = timedelta(minutes=10)


class ReviewRefused(Exception):
    """A rule refused the action; the message says which, in the user's words."""


class AnswerConflict(Exception):
    """Someone else saved this answer since the author's form was loaded."""

    def __init__(self, *, current: str, submitted: str):
        super().__init__("This answer was changed by someone else.")
        self.current = current
        self.submitted = submitted

    @property
    def current_sha256(self) -> str:
        return answer_sha256(self.current)


# --- Review rows ---------------------------------------------------------------------------------


def reviews_ensure(*, proposal: Proposal) -> None:
    """One review per ORR area; idempotent, so it also repairs proposals created before an area existed."""
    Review.objects.bulk_create(
        [Review(proposal=proposal, area=area) for area in OrrArea.objects.all()], ignore_conflicts=True
    )


def on_proposal_created(sender, *, proposal: Proposal, by, **kwargs) -> None:
    reviews_ensure(proposal=proposal)


def on_orr_answers_received(
    sender, *, proposal: Proposal, answers: dict[str, str], by, origin: Origin, **kwargs
) -> None:
    """Answers that came with content (import, template move, GitLab) go through `review_answer_save`,
    so a signed-off area whose answer changed goes stale. GitLab's text for a closed proposal stays on GitLab."""
    for review in proposal.reviews.select_related("area", "current_decision").filter(area__key__in=list(answers)):
        text = answers[review.area.key]
        if text == review.answer:
            continue
        try:
            review_answer_save(review=review, answer=text, base_sha256=review.answer_sha256, by=by, origin=origin)
        except ReviewRefused:
            if origin != Origin.GITLAB:
                raise
            logger.warning("ORR answer %s of proposal %s from GitLab not applied", review.area.key, proposal.pk)


def on_group_membership_changed(sender, *, instance, action, reverse, pk_set, **kwargs) -> None:
    """Someone left a group (`user.groups` or `group.user_set`): reviews they may no longer decide go back."""
    if action not in ("post_remove", "post_clear"):
        return
    users = get_user_model().objects.all()
    if not reverse:
        users = users.filter(pk=instance.pk)
    elif pk_set:
        users = users.filter(pk__in=pk_set)
    open_reviews = Review.objects.exclude(status__in=Review.SIGNED_OFF)
    for user in users.filter(pk__in=open_reviews.values("reviewer_id")):
        reviews_return_lapsed_assignments(user=user)


@transaction.atomic
def reviews_return_lapsed_assignments(*, user) -> list[Review]:
    """Open reviews assigned to `user` in areas they no longer serve return to the area's group.

    Membership is read afresh: `access.serves_area` asks the groups the user is in now.
    """
    user = get_user_model().objects.get(pk=user.pk)  # no group cache from before the change
    returned = []
    named = (
        Review.objects.select_for_update(of=("self",))
        .filter(reviewer=user)
        .exclude(status__in=Review.SIGNED_OFF)
        .select_related("area", "area__reviewer_group", "proposal")
    )
    for review in named:
        if access.serves_area(user, review.area):
            continue
        _reassign(
            review,
            reviewer=None,
            by=None,
            message=f"ORR “{review.area.title}” went back to the area's reviewers: {user} no longer reviews it",
            tell=f"{user} no longer reviews “{review.area.title}”; it is back with the area's reviewers.",
        )
        returned.append(review)
    return returned


# --- Watching ----------------------------------------------------------------------------------


@transaction.atomic
def proposal_watch_toggle(*, proposal: Proposal, user) -> bool:
    """Start or stop watching a proposal one may read; True when now watching."""
    if not access.may_read(user, proposal):
        raise PermissionDenied("Only people who may read a proposal watch it.")
    deleted, _ = Watch.objects.filter(proposal=proposal, user=user).delete()
    if deleted:
        return False
    Watch.objects.get_or_create(proposal=proposal, user=user)
    return True


# --- ORR setup ---------------------------------------------------------------------------------

SETUP_FIELDS = ("reviewer_group", "reviewers", "lead", "service_level_days", "slack_webhook_url")


def _setting_value(area: OrrArea, name: str):
    if name == "reviewers":
        return sorted(area.reviewers.values_list("pk", flat=True))
    return getattr(area, f"{name}_id" if name in ("reviewer_group", "lead") else name)


def _setting_text(area: OrrArea, name: str) -> str:
    if name == "reviewers":
        return ", ".join(sorted(user.get_username() for user in area.reviewers.all()))
    value = getattr(area, name)
    if name == "slack_webhook_url" and value:
        return "a Slack webhook"  # the URL is a secret: the timeline says that it changed, not what it is
    return "" if value is None else str(value)


@transaction.atomic
def orr_area_update(*, area: OrrArea, by, **settings) -> list[OrrAreaChange]:
    """Change an area's setup (reviewer group, named reviewers, lead, service level, Slack); each change is
    recorded on the setup's timeline. Reviews named to someone who no longer serves the area go back to it."""
    if not access.may_set_up_orr(by):
        raise PermissionDenied("Only admins and working-group leads set up the ORR.")
    area = OrrArea.objects.select_for_update().get(pk=area.pk)
    unknown = set(settings) - set(SETUP_FIELDS)
    if unknown:
        raise ValueError(f"Not an ORR area setting: {', '.join(sorted(unknown))}")
    before = {name: (_setting_value(area, name), _setting_text(area, name)) for name in settings}
    named_before = set(area.reviewers.values_list("pk", flat=True))
    for name, value in settings.items():
        if name != "reviewers":
            setattr(area, name, value)
    area.save()
    if "reviewers" in settings:
        area.reviewers.set(settings["reviewers"])
    changes = OrrAreaChange.objects.bulk_create(
        OrrAreaChange(area=area, changed_by=by, field=name, before=before[name][1], after=_setting_text(area, name))
        for name in settings
        if _setting_value(area, name) != before[name][0]
    )
    # Whoever named on an open review of this area no longer serves it: the review returns to the area.
    affected = (
        set(
            Review.objects.filter(area=area, reviewer__isnull=False)
            .exclude(status__in=Review.SIGNED_OFF)
            .values_list("reviewer_id", flat=True)
        )
        | named_before
    )
    for user in get_user_model().objects.filter(pk__in=affected):
        reviews_return_lapsed_assignments(user=user)
    return changes


# --- Who is told --------------------------------------------------------------------------------


def review_recipients(review: Review) -> list:
    """Who is told about a review: its named reviewer, otherwise everyone in the area's group who may read it."""
    if review.reviewer_id is not None:
        return [review.reviewer]
    group = review.area.reviewer_group
    serving = Q(named_orr_areas=review.area) | (Q(groups=group) if group is not None else Q(pk__in=[]))
    people = (
        get_user_model()
        .objects.filter(serving)
        .filter(access.readers_q(review.proposal))
        .exclude(pk=review.proposal.owner_id)
        .distinct()
        .prefetch_related("groups")
    )
    for person in people:  # notify() asks the access rules per person: their groups are read here, once
        access.remember_groups(person, (group.name for group in person.groups.all()))
    return list(people)


def _review_url(review: Review) -> str:
    return absolute_url(reverse("reviews:detail", args=[review.pk]))


def _proposal_url(proposal: Proposal) -> str:
    return absolute_url(proposal.get_absolute_url())


# --- What an ORR change implies for the proposal ------------------------------------------------


def _orr_changed(proposal: Proposal, *, by, origin: Origin = Origin.STAGEGATE) -> None:
    """The ORR state moved: checklist items the app verifies follow it, and the issue shows it."""
    refresh_verified_checklist(proposal)
    send_proposal_changed(proposal, fields=["orr"], by=by, origin=origin)


# --- Search --------------------------------------------------------------------------------------


def search_parts(proposal: Proposal) -> list[search.Part]:
    """The ORR's part of a proposal's search document: the answers and the review threads."""
    return search_parts_many([proposal])[proposal.pk]


def search_parts_many(proposals: list[Proposal]) -> dict[int, list[search.Part]]:
    """`search_parts` of many proposals in two queries, by proposal id."""
    parts: dict[int, list[search.Part]] = {proposal.pk: [] for proposal in proposals}
    for review in Review.objects.filter(proposal__in=list(parts)).select_related("area"):
        area = review.area
        parts[review.proposal_id].append(
            search.Part(f"orr:{area.key}", f"ORR {area.number}. {area.title}", review.answer)
        )
    comments = ReviewComment.objects.filter(review__proposal__in=list(parts)).select_related("review__area", "author")
    for comment in comments:
        label = f"Comment by {comment.author.get_username()} on ORR “{comment.review.area.title}”"
        parts[comment.review.proposal_id].append(search.Part(f"review-comment:{comment.pk}", label, comment.body, "C"))
    return parts


# --- Answers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerSaved:
    review: Review
    changed: bool
    became_stale: bool


def _lock_review(review: Review) -> Review:
    """Lock the proposal and the review rows, then read the review with what it points to.

    Two statements on purpose: under READ COMMITTED, a statement that waited for the lock sees
    the locked row's new version but not rows committed meanwhile in other tables (the decision
    that just signed this review), so a joined read would miss that sign-off.
    """
    # Proposal first, then review: every ORR write takes the locks in this order, so none deadlock.
    list(Proposal.objects.select_for_update().filter(pk=review.proposal_id).values_list("pk", flat=True))
    list(Review.objects.select_for_update().filter(pk=review.pk).values_list("pk", flat=True))
    return Review.objects.select_related("proposal", "area", "current_decision").get(pk=review.pk)


@transaction.atomic
def review_answer_save(
    *, review: Review, answer: str, base_sha256: str, by, origin: Origin = Origin.STAGEGATE
) -> AnswerSaved:
    """Save the author's answer for one area; a signed-off area whose answer changes goes stale.

    `base_sha256` is the hash of the answer the form was loaded with: a save on top of
    someone else's newer text is refused with both texts, never silently overwritten.
    """
    review = _lock_review(review)
    proposal = review.proposal
    if not proposal.is_editable_by(by):
        raise PermissionDenied("Only the proposal's author or an admin can change its ORR answers.")
    if proposal.state == Proposal.State.CLOSED:
        raise ReviewRefused("The proposal is closed; reopen it to change its answers.")
    answer = answer.replace("\r\n", "\n")
    if answer == review.answer:
        return AnswerSaved(review=review, changed=False, became_stale=False)
    if base_sha256 != review.answer_sha256:
        raise AnswerConflict(current=review.answer, submitted=answer)

    now = timezone.now()
    answer_key = f"orr:{review.area.key}"
    history.record_changes(
        proposal, before={answer_key: review.answer}, after={answer_key: answer}, by=by, origin=origin
    )
    review.answer = answer
    review.answer_updated_at = now
    review.answer_updated_by = by
    fields = ["answer", "answer_updated_at", "answer_updated_by", "updated_at"]
    became_stale = False
    decision = review.current_decision
    if decision is not None and review.status in (*Review.SIGNED_OFF, Review.Status.STALE):
        signed = decision.answer_sha256 == review.answer_sha256
        if review.status in Review.SIGNED_OFF and not signed:
            review.status = Review.Status.STALE
            review.assigned_at = now
            review.due_on = _due_on(review.area, now)
            review.escalated_at = None
            fields += ["status", "assigned_at", "due_on", "escalated_at"]
            became_stale = True
        elif review.status == Review.Status.STALE and signed:
            # Back to exactly the text that was signed: the sign-off holds again.
            review.status = decision.kind
            fields.append("status")
    review.save(update_fields=fields)
    if by is not None and by.pk is not None:
        review.answer_authors.add(by)

    Activity.objects.record(
        proposal,
        actor=by,
        kind=Activity.Kind.EDITED,
        message=f"{by} edited the ORR answer “{review.area.title}”",
        data={"orr_area": review.area.key, "review": review.pk},
        unless_within=ANSWER_ACTIVITY_WINDOW,
        same=("orr_area",),
    )
    if became_stale:
        Activity.objects.record(
            proposal,
            actor=by,
            kind=Activity.Kind.REVIEW,
            message=f"The {decision.get_kind_display().lower()} sign-off of ORR “{review.area.title}” "
            f"by {decision.decided_by} is stale: the answer changed",
            data={"review": review.pk, "area": review.area.key, "status": review.status},
        )
        by_pk = getattr(by, "pk", None)
        notify(
            event=Notification.Event.STALE,
            # The reviewer decides again; the proposal's other authors learn that the sign-off no longer holds.
            users=[decision.decided_by, *(user for user in access.authors_of(proposal) if user.pk != by_pk)],
            review=review,
            subject=f"Sign-off stale: {review.area.title} on “{proposal.title}”",
            # Worded for everyone told (the reviewer, the authors, the watchers).
            lines=[
                f"{by} changed the answer to “{review.area.title}” on “{proposal.title}” after {decision.decided_by} "
                f"signed it off ({decision.get_kind_display().lower()}).",
                f"The area needs {decision.decided_by}'s decision again; the review page shows what changed since "
                "the sign-off.",
            ],
            url=_review_url(review),
        )
        workflow.proposal_return_to_review(
            proposal=proposal, by=by, why=f"the ORR answer “{review.area.title}” changed"
        )
    _orr_changed(proposal, by=by, origin=origin)
    return AnswerSaved(review=review, changed=True, became_stale=became_stale)


def answer_diff_since_decision(review: Review) -> list[tuple[str, str]]:
    """Line diff from the text the current decision signed to today's answer, as (op, line) pairs.

    op is "+" (added), "-" (removed) or " " (unchanged).
    """
    decision = review.current_decision
    if decision is None or decision.answer_sha256 == review.answer_sha256:
        return []
    before = decision.answer_text.splitlines()
    after = review.answer.splitlines()
    pairs = []
    for line in difflib.ndiff(before, after):
        op = line[:1]
        if op in {"+", "-", " "}:
            pairs.append((op, line[2:]))
    return pairs


# --- Submission and assignment -------------------------------------------------------------------


def _due_on(area: OrrArea, when: datetime.datetime) -> datetime.date:
    return timezone.localdate(when) + timedelta(days=area.service_level_days)


@transaction.atomic
def review_submit_for_review(*, proposal: Proposal, by, only: Review | None = None) -> list[Review]:
    """Send the ORR answers to the reviewers: first submission, or resubmission after changes were requested.

    `only` resubmits that one area (the "answered — resubmit" button next to it)."""
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    reviews_ensure(proposal=proposal)
    reasons = workflow.submit_gate(proposal, by=by)
    if reasons:
        raise workflow.GateClosed(reasons)

    now = timezone.now()
    reviews = list(
        Review.objects.select_for_update(of=("self",))
        .filter(proposal=proposal, status__in=[Review.Status.NOT_STARTED, Review.Status.CHANGES_REQUESTED])
        .filter(**({"pk": only.pk, "status": Review.Status.CHANGES_REQUESTED} if only is not None else {}))
        .select_related("area", "area__reviewer_group", "reviewer")
    )
    if only is not None and not reviews:
        raise ReviewRefused(f"“{only.area.title}” is not waiting to be resubmitted.")
    first_submission = proposal.state == Proposal.State.DRAFT
    for review in reviews:
        event = (
            Notification.Event.ASSIGNED
            if review.status == Review.Status.NOT_STARTED
            else Notification.Event.RESUBMITTED
        )
        review.status = Review.Status.IN_REVIEW
        review.assigned_at = now
        review.due_on = _due_on(review.area, now)
        review.escalated_at = None
        review.save(update_fields=["status", "assigned_at", "due_on", "escalated_at", "updated_at"])
        review.proposal = proposal
        verb = "is waiting for your review" if event == Notification.Event.ASSIGNED else "was resubmitted for review"
        recipients = review_recipients(review)
        notification = notify(
            event=event,
            users=recipients,
            review=review,
            subject=f"{review.area.title}: “{proposal.title}” {verb}",
            lines=[
                f"{by} submitted “{proposal.title}” for the Operational Requirements Review.",
                f"The area “{review.area.title}” {verb}; it is due on {review.due_on:%Y-%m-%d}.",
            ],
            url=_review_url(review),
        )
        addresses = set(notification.recipients) if notification is not None else set()
        review.told = [user for user in recipients if user.email in addresses]

    if first_submission:
        workflow.proposal_enter_review(proposal=proposal, by=by)
    else:
        Activity.objects.record(
            proposal,
            actor=by,
            kind=Activity.Kind.STATE,
            message=f"{by} resubmitted {', '.join(r.area.title for r in reviews)} for review",
            data={"state": proposal.state, "reviews": [r.pk for r in reviews]},
        )
    _orr_changed(proposal, by=by)
    return reviews


def submission_told(reviews: list[Review]) -> tuple[bool, str]:
    """What the author is told after submitting: who was notified, truthfully, or that nobody could be.

    Returns (anyone_told, message). `reviews` are those `review_submit_for_review` returned.
    """
    told = sorted(
        {user.username: user for review in reviews for user in getattr(review, "told", [])}.values(),
        key=lambda user: user.username,
    )
    unserved = [review.area.title for review in reviews if not getattr(review, "told", [])]
    if not told:
        return False, (
            "Submitted, but nobody could be told: no reviewer with an e-mail address serves "
            + (", ".join(unserved) or "these areas")
            + ". Ask an admin to set up the ORR areas."
        )
    names = ", ".join(user.get_full_name() or user.username for user in told)
    message = f"Submitted for review; {len(told)} reviewer{'s were' if len(told) != 1 else ' was'} told: {names}."
    if unserved:
        message += f" Nobody could be told about {', '.join(unserved)}: ask an admin to set up the ORR areas."
    return True, message


def can_assign(review: Review, user) -> bool:
    return access.may_assign(user, review)


@transaction.atomic
def review_assign(*, review: Review, reviewer, by) -> Review:
    """Assign a review to one named reviewer of its area, or back to the whole group (reviewer=None)."""
    review = _lock_review(review)
    if not can_assign(review, by):
        raise PermissionDenied("Only an admin or the area's lead assigns its reviews.")
    if reviewer is not None:
        if reviewer.pk == review.proposal.owner_id:
            raise ReviewRefused("Nobody reviews their own proposal.")
        group = review.area.reviewer_group
        if group is None or not reviewer.groups.filter(pk=group.pk).exists():
            raise ReviewRefused(f"{reviewer} is not one of the reviewers of “{review.area.title}”.")
        if not access.may_read(reviewer, review.proposal):
            raise ReviewRefused(f"{reviewer} may not read this confidential proposal.")
    if review.reviewer_id == (reviewer.pk if reviewer else None):
        return review
    who = str(reviewer) if reviewer else "the area's reviewers"
    return _reassign(
        review,
        reviewer=reviewer,
        by=by,
        message=f"{by} assigned ORR “{review.area.title}” to {who}",
        tell=f"{by} assigned you the review of “{review.area.title}” on “{review.proposal.title}”.",
    )


def _reassign(review: Review, *, reviewer, by, message: str, tell: str = "") -> Review:
    """Name `reviewer` on the review (None: the area's group), on the timeline; `tell` the new holders if it waits."""
    review.reviewer = reviewer
    review.save(update_fields=["reviewer", "updated_at"])
    Activity.objects.record(
        review.proposal,
        actor=by,
        kind=Activity.Kind.REVIEW,
        message=message,
        data={"review": review.pk, "reviewer": reviewer.pk if reviewer else None},
    )
    if tell and review.is_waiting:
        notify(
            event=Notification.Event.ASSIGNED,
            users=review_recipients(review),
            review=review,
            subject=f"{review.area.title}: “{review.proposal.title}” is waiting for your review",
            lines=[tell],
            url=_review_url(review),
        )
    send_proposal_changed(review.proposal, fields=["orr"], by=by)
    return review


@transaction.atomic
def review_take(*, review: Review, by) -> Review:
    """A reviewer takes a group review ("assign to me"): the others stop being reminded of it."""
    review = _lock_review(review)
    if not access.may_take(by, review):
        raise DecisionForbidden(
            str(decide_refusal(review, by=by) or f"Only the reviewers of “{review.area.title}” take its review.")
        )
    if review.reviewer_id == by.pk:
        return review
    if review.reviewer_id is not None:
        raise ReviewRefused(f"{review.reviewer} has this review; they or the area's lead can hand it on.")
    if review.is_signed_off:
        raise ReviewRefused("This area is signed off: there is nothing to take.")
    return _reassign(review, reviewer=by, by=by, message=f"{by} took ORR “{review.area.title}”")


def review_hold(*, review: Review, by, take: bool) -> Review:
    """Take the review (`take`) or hand it back: the one entry the page and the API share."""
    return review_take(review=review, by=by) if take else review_hand_back(review=review, by=by)


@transaction.atomic
def review_hand_back(*, review: Review, by) -> Review:
    """The reviewer who has a review hands it back to the area's group, which is told if it waits."""
    review = _lock_review(review)
    if review.reviewer_id is None or review.reviewer_id != by.pk:
        raise DecisionForbidden("Only the reviewer who has this review hands it back.")
    return _reassign(
        review,
        reviewer=None,
        by=by,
        message=f"{by} handed ORR “{review.area.title}” back to the area's reviewers",
        tell=f"{by} handed “{review.area.title}” on “{review.proposal.title}” back to the area's reviewers.",
    )


# --- Decisions -----------------------------------------------------------------------------------


class DecisionForbidden(ReviewRefused):
    """This person may not decide this review at all (own proposal, not a reviewer of the area)."""


def decide_refusal(review: Review, *, by) -> ReviewRefused | None:
    """Why this person may not decide this review now, or None when they may."""
    proposal = review.proposal
    if not access.may_decide(by, review):
        # The rule said no; say which part of it, in the reviewer's words.
        if access.wrote_reviewed_proposal(by, review):
            return DecisionForbidden("Nobody decides a review of their own proposal.")
        if access.wrote_answer(by, review):
            return DecisionForbidden("Nobody decides an area whose answer they wrote.")
        if not access.may_read(by, proposal):
            return DecisionForbidden("This proposal is confidential: only its author, reviewers and admins see it.")
        return DecisionForbidden(f"Only the reviewers of “{review.area.title}” decide it.")
    if proposal.state == Proposal.State.CLOSED:
        return ReviewRefused("The proposal is closed.")
    if review.status == Review.Status.NOT_STARTED or proposal.state == Proposal.State.DRAFT:
        return ReviewRefused("The author has not submitted this area for review yet.")
    return None


@transaction.atomic
def review_decide(
    *,
    review: Review,
    kind: str,
    by,
    comment: str = "",
    answer_sha256_read: str | None = None,
    waiver_expires_on: datetime.date | None = None,
    source: str = Decision.Source.WEB,
    gitlab_note_id: int | None = None,
    reason_internal: bool = False,
) -> Decision:
    """Record a reviewer's decision, bound to the exact answer text it was made on.

    `answer_sha256_read` is the hash of the answer the reviewer read; a decision on text that
    changed meanwhile is refused, so nobody signs what they did not see. `reason_internal`: the
    decision was made in one of GitLab's internal notes; its comment is then shown only to those
    who may see internal notes (`Decision.reason_for`), on the timeline to nobody.
    """
    review = _lock_review(review)
    proposal = review.proposal
    refusal = decide_refusal(review, by=by)
    if refusal is not None:
        raise refusal
    if kind not in Decision.Kind.values:
        raise ReviewRefused("Choose approve, request changes or not applicable.")
    comment = comment.strip()
    if kind == Decision.Kind.CHANGES_REQUESTED and not comment:
        raise ReviewRefused("Say which changes you request: a comment is required.")
    if kind == Decision.Kind.NOT_APPLICABLE and not comment:
        raise ReviewRefused("Say why the area does not apply: a justification is required.")
    if waiver_expires_on is not None:
        if kind != Decision.Kind.NOT_APPLICABLE:
            raise ReviewRefused("Only a not-applicable decision carries an expiry date.")
        if waiver_expires_on <= timezone.localdate():
            raise ReviewRefused("A waiver's expiry date must be in the future.")
    if answer_sha256_read is not None and answer_sha256_read != review.answer_sha256:
        raise ReviewRefused("The answer changed while you were reading it; read the new answer and decide again.")

    as_admin = not review.is_reviewer(by)
    decision = Decision.objects.create(
        review=review,
        kind=kind,
        comment=comment,
        decided_by=by,
        decided_as_admin=as_admin,
        answer_sha256=review.answer_sha256,
        answer_text=review.answer,
        waiver_expires_on=waiver_expires_on,
        source=source,
        gitlab_note_id=gitlab_note_id,
        waited_since=review.assigned_at,
        reason_internal=reason_internal and bool(comment),
    )
    review.status = kind
    review.current_decision = decision
    review.save(update_fields=["status", "current_decision", "updated_at"])

    role = " as admin" if as_admin else ""
    label = decision.get_kind_display().lower()
    message = f"{by}{role} decided ORR “{review.area.title}”: {label}"
    if waiver_expires_on:
        message += f" until {waiver_expires_on:%Y-%m-%d}"
    if comment and decision.reason_internal:
        # Every reader of the proposal reads its timeline: the reason stays on the review, for those allowed.
        message += " — the reason is in an internal note on GitLab"
    elif comment:
        message += f" — {comment}"
    Activity.objects.record(
        proposal,
        actor=by,
        kind=Activity.Kind.REVIEW,
        message=message,
        data={
            "review": review.pk,
            "area": review.area.key,
            "decision": decision.pk,
            "kind": kind,
            "as_admin": as_admin,
        },
    )
    headline = f"{by}{role} decided the ORR area “{review.area.title}” of “{proposal.title}”: {label}."

    def lines_for(reader) -> list[str]:
        reason = decision.reason_for(reader, proposal)
        if reason:
            return [headline, "", reason]
        if comment:
            return [headline, "", "The reason was given in an internal note on GitLab."]
        return [headline]

    notify(
        event=Notification.Event.DECIDED,
        by=by,
        users=access.authors_of(proposal),
        review=review,
        subject=f"{review.area.title}: {label} on “{proposal.title}”",
        lines=[headline],
        lines_for=lines_for,
        url=_review_url(review),
    )
    if kind == Decision.Kind.CHANGES_REQUESTED:
        workflow.proposal_return_to_review(
            proposal=proposal, by=by, why=f"changes requested on ORR “{review.area.title}”"
        )
    _orr_changed(proposal, by=by)
    return decision


# --- Discussion ----------------------------------------------------------------------------------


def can_discuss(review: Review, user) -> bool:
    return access.may_discuss(user, review)


@transaction.atomic
def review_comment_add(*, review: Review, body: str, by) -> ReviewComment:
    if not can_discuss(review, by):
        raise PermissionDenied("Only the author, the area's reviewers and admins discuss a review.")
    body = body.strip()
    if not body:
        raise ReviewRefused("Write a comment first.")
    comment = ReviewComment.objects.create(review=review, author=by, body=body)
    proposal = review.proposal
    search.search_index_proposal(proposal)
    Activity.objects.record(
        proposal,
        actor=by,
        kind=Activity.Kind.COMMENT,
        message=f"{by} commented on ORR “{review.area.title}”: {body[:200]}",
        data={"review": review.pk, "comment": comment.pk},
    )
    # The authors hear of a reviewer's comment; an author's comment goes to the reviewers and the other authors.
    authors = access.authors_of(proposal)
    others = authors if all(user.pk != by.pk for user in authors) else [*review_recipients(review), *authors]
    notify(
        event=Notification.Event.COMMENT,
        by=by,
        users=[user for user in others if user.pk != by.pk],
        review=review,
        slack=False,
        subject=f"{review.area.title}: new comment on “{proposal.title}”",
        lines=[f"{by} wrote on the review of “{review.area.title}”:", "", body],
        url=_review_url(review),
    )
    return comment


def review_mark_seen(*, review: Review, user) -> None:
    """Remember when this reviewer last looked, so their queue can say what changed since."""
    ReviewSeen.objects.update_or_create(review=review, user=user, defaults={"seen_at": timezone.now()})


# --- Daily: waivers, digest, escalation ----------------------------------------------------------


def reviews_expire_waivers(*, today: datetime.date) -> list[Review]:
    """A not-applicable waiver past its expiry date needs a decision again."""
    candidates = Review.objects.waiver_expired(today).values_list("pk", flat=True)
    expired = []
    for review_id in list(candidates):
        review = _expire_waiver(review_id=review_id, today=today)
        if review is not None:
            expired.append(review)
    return expired


@transaction.atomic
def _expire_waiver(*, review_id: int, today: datetime.date) -> Review | None:
    review = Review.objects.filter(pk=review_id).first()
    if review is None:
        return None
    review = _lock_review(review)
    decision = review.current_decision
    # Checked again under the lock: a new decision may have come in since the list was read.
    if review.effective_status(today) != Review.Status.WAIVER_EXPIRED:
        return None
    now = timezone.now()
    review.status = Review.Status.WAIVER_EXPIRED
    review.assigned_at = now
    review.due_on = _due_on(review.area, now)
    review.escalated_at = None
    review.save(update_fields=["status", "assigned_at", "due_on", "escalated_at", "updated_at"])
    until = decision.waiver_expires_on
    Activity.objects.record(
        review.proposal,
        actor=None,
        kind=Activity.Kind.REVIEW,
        message=f"The not-applicable waiver of ORR “{review.area.title}” expired on {until:%Y-%m-%d}",
        data={"review": review.pk, "area": review.area.key, "status": review.status},
    )
    notify(
        event=Notification.Event.WAIVER_EXPIRED,
        users=[*review_recipients(review), *access.authors_of(review.proposal)],
        review=review,
        subject=f"Waiver expired: {review.area.title} on “{review.proposal.title}”",
        lines=[
            f"The not-applicable waiver of “{review.area.title}” on “{review.proposal.title}” "
            f"expired on {until:%Y-%m-%d}; the area needs a decision again."
        ],
        url=_review_url(review),
    )
    workflow.proposal_return_to_review(
        proposal=review.proposal, by=None, why=f"the waiver of ORR “{review.area.title}” expired"
    )
    _orr_changed(review.proposal, by=None)
    return review


@dataclass(frozen=True)
class DigestResult:
    digests: int
    escalations: int


@transaction.atomic
def reviews_send_digest(*, today: datetime.date) -> DigestResult:
    """Remind each reviewer of what is due soon or overdue; escalate overdue reviews to the area's lead.

    Safe to run more than once a day: each digest and each escalation is stored under a key.
    """
    due = list(
        Review.objects.waiting()
        .filter(due_on__lte=today + timedelta(days=DUE_SOON_DAYS))
        .select_related("proposal", "area", "area__reviewer_group", "area__lead", "reviewer")
        .prefetch_related("proposal__co_authors")  # authors are not reminded of their own proposal's reviews
        .order_by("due_on", "area__number", "pk")
    )
    group_ids = {r.area.reviewer_group_id for r in due if r.reviewer_id is None and r.area.reviewer_group_id}
    members: dict[int, list] = {group_id: [] for group_id in group_ids}
    for user in get_user_model().objects.filter(groups__in=group_ids, is_active=True).prefetch_related("groups"):
        access.remember_groups(user, (group.name for group in user.groups.all()))  # the rules read these
        for group in user.groups.all():
            if group.pk in members:
                members[group.pk].append(user)

    per_user: dict[int, tuple] = {}
    for review in due:
        people = [review.reviewer] if review.reviewer_id else members.get(review.area.reviewer_group_id, [])
        for user in people:
            if access.is_proposal_author(user, review.proposal) or not access.may_be_told(user, review.proposal):
                continue
            per_user.setdefault(user.pk, (user, []))[1].append(review)

    digests = 0
    for user, reviews in per_user.values():
        lines = ["These Operational Requirements Reviews wait for you:", ""]
        for review in reviews:
            when = "overdue since" if review.due_on < today else "due"
            lines.append(
                f"- {review.area.title} — “{review.proposal.title}” ({when} {review.due_on:%Y-%m-%d}): "
                f"{_review_url(review)}"
            )
        sent = notify(
            event=Notification.Event.DIGEST,
            users=[user],
            subject=f"{len(reviews)} review{'s' if len(reviews) != 1 else ''} due or overdue",
            lines=lines,
            url=absolute_url(reverse("reviews:queue")),
            dedupe_key=f"digest:{user.pk}:{today:%Y-%m-%d}",
        )
        digests += sent is not None

    escalations = 0
    now = timezone.now()
    for review in due:
        if review.due_on >= today or review.escalated_at is not None:
            continue
        Review.objects.filter(pk=review.pk).update(escalated_at=now)
        Activity.objects.record(
            review.proposal,
            actor=None,
            kind=Activity.Kind.REVIEW,
            message=f"ORR “{review.area.title}” is overdue (due {review.due_on:%Y-%m-%d}); escalated to its lead",
            data={"review": review.pk, "area": review.area.key},
        )
        sent = notify(
            event=Notification.Event.ESCALATED,
            users=[review.area.lead] if review.area.lead_id else [],
            review=review,
            subject=f"Overdue: {review.area.title} on “{review.proposal.title}”",
            lines=[
                f"The review of “{review.area.title}” on “{review.proposal.title}” was due on "
                f"{review.due_on:%Y-%m-%d} and has no decision yet.",
                f"Assigned to: {review.reviewer or 'the area reviewers'}.",
            ],
            url=_review_url(review),
            dedupe_key=f"escalated:{review.pk}:{review.due_on:%Y-%m-%d}",
        )
        escalations += sent is not None
    return DigestResult(digests=digests, escalations=escalations)
