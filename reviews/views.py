from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from proposals import access, workflow
from proposals.models import Proposal
from reviews import services
from reviews.forms import (
    AnswerForm,
    CommentForm,
    DecisionForm,
    NotificationPreferenceForm,
    OrrAreaSetupForm,
    QueueFilterForm,
)
from reviews.models import (
    InAppNotification,
    NotificationPreference,
    OrrArea,
    OrrAreaChange,
    Review,
    ReviewComment,
    Watch,
)
from reviews.status import orr_status_summary, proposal_reviews

QUEUE_PAGE = "reviews/review_queue.html"
DETAIL_PAGE = "reviews/review_detail.html"
ANSWERS_PAGE = "reviews/orr_answers.html"
QUEUE_PAGE_SIZE = 50
REVIEWS_FOR_GATES = Review.objects.select_related(
    "area", "area__reviewer_group", "current_decision", "current_decision__decided_by", "reviewer"
).with_author_answer()


def _refusal(request: HttpRequest, *, status: int, message: str) -> HttpResponse:
    template = "proposals/refusal.html#refusal" if request.htmx else "proposals/refusal.html"
    return render(request, template, {"status": status, "message": message}, status=status)


def _partial(request: HttpRequest, page: str, name: str) -> str:
    if request.htmx and not request.htmx.history_restore_request:
        return f"{page}#{name}"
    return page


def _visible_review(request: HttpRequest, pk: int) -> Review | None:
    visible = Proposal.objects.visible_to(request.user)
    return (
        Review.objects.filter(pk=pk, proposal__in=visible)
        .select_related(
            "proposal",
            "proposal__owner",
            "area",
            "area__reviewer_group",
            "reviewer",
            "current_decision",
            "current_decision__decided_by",
        )
        .first()
    )


# --- "My reviews" --------------------------------------------------------------------------------


@require_GET
@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    """What waits for this reviewer: area, proposal, since when, due, and what changed since they last looked."""
    today = timezone.localdate()
    filters = QueueFilterForm(request.GET or None)
    reviews = Review.objects.for_reviewer(request.user)
    visible = Proposal.objects.visible_to(request.user)
    if visible.query.has_filters():  # a join only when some proposals are hidden from this person
        reviews = reviews.filter(proposal__in=visible)
    reviews = reviews.with_last_seen(request.user).with_author_answer().for_queue()
    reviews = filters.apply(reviews, today=today).order_by(
        F("due_on").asc(nulls_last=True), "assigned_at", "area__number", "pk"
    )
    page = Paginator(reviews, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "page": page,
        "reviews": page.object_list,
        "today": today,
        "query": query.urlencode(),
    }
    return render(request, _partial(request, QUEUE_PAGE, "queue-results"), context)


# --- One review ----------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, review: Review, *, decision_form=None, comment_form=None) -> dict:
    user = request.user
    refusal = services.decide_refusal(review, by=user)
    may_decide = refusal is None
    return {
        "review": review,
        "proposal": review.proposal,
        "decisions": list(review.decisions.select_related("decided_by")),
        "comments": list(ReviewComment.objects.filter(review=review).select_related("author")),
        "diff": services.answer_diff_since_decision(review),
        "may_decide": may_decide,
        "decide_refusal": "" if may_decide else str(refusal),
        "may_discuss": services.can_discuss(review, user),
        "decision_form": decision_form or DecisionForm(initial={"answer_sha256": review.answer_sha256}),
        "comment_form": comment_form or CommentForm(),
        "is_author": review.proposal.owner_id == user.pk,
        "reader": user,
        "may_take": review.reviewer_id is None and not review.is_signed_off and access.may_take(user, review),
        "may_hand_back": review.reviewer_id is not None and review.reviewer_id == user.pk,
    }


@require_GET
@login_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = _visible_review(request, pk)
    if review is None:
        return _refusal(request, status=404, message="This review does not exist or is not visible to you.")
    context = _detail_context(request, review)
    if review.is_reviewer(request.user):
        services.review_mark_seen(review=review, user=request.user)
    return render(request, DETAIL_PAGE, context)


@require_POST
@login_required
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    review = _visible_review(request, pk)
    if review is None:
        return _refusal(request, status=404, message="This review does not exist or is not visible to you.")
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            decision = services.review_decide(
                review=review,
                kind=form.cleaned_data["kind"],
                comment=form.cleaned_data["comment"],
                waiver_expires_on=form.cleaned_data["waiver_expires_on"],
                answer_sha256_read=form.cleaned_data["answer_sha256"],
                by=request.user,
            )
        except services.DecisionForbidden as refusal:
            return _refusal(request, status=403, message=str(refusal))
        except services.ReviewRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, f"Recorded: {decision.get_kind_display().lower()}.")
            if request.htmx:
                # The whole page changes (status, history, diff): have htmx load it rather than swap a fragment.
                return HttpResponseClientRedirect(review.get_absolute_url())
            return redirect(review)
    review = _visible_review(request, pk)
    context = _detail_context(request, review, decision_form=form)
    # Re-rendered with the reviewer's words and the reason; 200 so htmx swaps it in.
    return render(request, _partial(request, DETAIL_PAGE, "decision-form"), context)


@require_POST
@login_required
def review_hold(request: HttpRequest, pk: int, *, take: bool) -> HttpResponse:
    """Take a group review ("assign to me"), or hand it back to the area's group."""
    review = _visible_review(request, pk)
    if review is None:
        return _refusal(request, status=404, message="This review does not exist or is not visible to you.")
    try:
        services.review_hold(review=review, by=request.user, take=take)
    except services.DecisionForbidden as refusal:
        return _refusal(request, status=403, message=str(refusal))
    except services.ReviewRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, "It is yours now." if take else "Handed back to the area's reviewers.")
    if request.htmx:
        return HttpResponseClientRedirect(review.get_absolute_url())
    return redirect(review)


@require_POST
@login_required
def review_comment(request: HttpRequest, pk: int) -> HttpResponse:
    review = _visible_review(request, pk)
    if review is None:
        return _refusal(request, status=404, message="This review does not exist or is not visible to you.")
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.review_comment_add(review=review, body=form.cleaned_data["body"], by=request.user)
        except PermissionDenied as refusal:
            return _refusal(request, status=403, message=str(refusal))
        except services.ReviewRefused as refusal:
            form.add_error("body", str(refusal))
        else:
            if not request.htmx:
                return redirect(f"{review.get_absolute_url()}#thread")
            form = CommentForm()
    context = _detail_context(request, review, comment_form=form)
    return render(request, _partial(request, DETAIL_PAGE, "thread"), context)


# --- The author's answers (edit page) ------------------------------------------------------------


def answers_context(proposal: Proposal, *, user, reviews: list | None = None) -> dict:
    """What `{% orr_answers proposal %}` and the answer view render; every key present, always.

    `answered` is the review a save response is about: its status line carries the outcome.
    """
    return {
        "proposal": proposal,
        "reader": user,
        "reviews": proposal_reviews(proposal) if reviews is None else reviews,
        "editable": proposal.is_editable_by(user) and proposal.state != Proposal.State.CLOSED,
        "answered": None,
        "saved": False,
        "conflict": None,
        "error": "",
        "became_stale": False,
    }


@require_POST
@login_required
def answer_save(request: HttpRequest, proposal_id: int, area_key: str) -> HttpResponse:
    """Autosave of one ORR answer: author (or admin) only; an htmx request gets the small status fragment."""
    proposal = Proposal.objects.editable_by(request.user).filter(pk=proposal_id).first()
    if proposal is None:
        return _refusal(request, status=403, message="Only the proposal's author or an admin can change its answers.")
    review = Review.objects.filter(proposal=proposal, area__key=area_key).select_related("area").first()
    if review is None:
        return _refusal(request, status=404, message="This proposal has no such ORR area.")
    form = AnswerForm(request.POST)
    # The status fragment needs only this review; the page without JavaScript needs them all.
    context = answers_context(proposal, user=request.user, reviews=[] if request.htmx else None)
    context["answered"] = review.pk
    if not form.is_valid():
        context.update(review=review, error=" ".join(e for errors in form.errors.values() for e in errors))
    else:
        try:
            result = services.review_answer_save(
                review=review,
                answer=form.cleaned_data["answer"],
                base_sha256=form.cleaned_data["base"],
                by=request.user,
            )
        except services.AnswerConflict as conflict:
            review.refresh_from_db()
            context.update(review=review, conflict=conflict)
        except services.ReviewRefused as refusal:
            context.update(review=review, error=str(refusal))
        else:
            if not request.htmx:
                messages.success(request, f"Saved the answer to “{review.area.title}”.")
                return redirect(f"{reverse('proposals:edit', args=[proposal.pk])}#orr-{area_key}")
            context.update(review=result.review, saved=result.changed, became_stale=result.became_stale)
    if request.htmx:
        response = render(request, f"{ANSWERS_PAGE}#orr-answer-status", context)
        trigger_client_event(response, "proposal-changed")
        return response
    # Without JavaScript: the answers page, the refusal next to the answer and the author's text kept.
    if context["conflict"]:
        review.answer = context["conflict"].submitted
    context["reviews"] = [review if r.pk == review.pk else r for r in context["reviews"]]
    return render(request, ANSWERS_PAGE, context, status=409 if context["conflict"] else 200)


def _not_visible(request: HttpRequest) -> HttpResponse:
    return _refusal(request, status=404, message="This proposal does not exist or is not visible to you.")


@require_GET
@login_required
def answers_page(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """The ORR answers on a page of their own (the edit page includes the same partial)."""
    proposal = Proposal.objects.visible_to(request.user).filter(pk=proposal_id).first()
    if proposal is None:
        return _not_visible(request)
    return render(request, ANSWERS_PAGE, answers_context(proposal, user=request.user))


# --- Gates and transitions -----------------------------------------------------------------------

TRANSITIONS = {
    workflow.ADVANCE: workflow.proposal_advance_stage,
    workflow.APPROVE: workflow.proposal_approve,
    workflow.CLOSE: workflow.proposal_close,
    workflow.REOPEN: workflow.proposal_reopen,
}
CONFIRM = {
    workflow.CLOSE: {
        "question": "Close this proposal?",
        "consequence": "A closed proposal is read-only: nobody can change its sections, checklists or lists, "
        "and reviewers stop being asked, until someone reopens it.",
        "button": "Close the proposal",
    },
    workflow.REOPEN: {
        "question": "Reopen this proposal?",
        "consequence": "It becomes a draft again: its author can change it, and it has to be submitted for "
        "review again before it can move on.",
        "button": "Reopen as a draft",
    },
}
DONE = {
    workflow.SUBMIT: "Submitted for review.",
    workflow.ADVANCE: "Moved into the next stage's work.",
    workflow.APPROVE: "Approved for General Availability.",
    workflow.CLOSE: "Closed.",
    workflow.REOPEN: "Reopened as a draft.",
}


@require_POST
@login_required
def proposal_transition(request: HttpRequest, proposal_id: int, transition: str) -> HttpResponse:
    if transition not in DONE:
        return _refusal(request, status=404, message="There is no such step.")
    if transition == workflow.APPROVE:
        # The working group's decision (or an admin's), never the author's: `access.may_approve`.
        proposal = Proposal.objects.visible_to(request.user).filter(pk=proposal_id).first()
        if proposal is None or not access.may_approve(request.user, proposal):
            return _refusal(request, status=403, message=workflow.APPROVERS_ONLY + ".")
    else:
        proposal = Proposal.objects.editable_by(request.user).filter(pk=proposal_id).first()
        if proposal is None:
            return _refusal(request, status=403, message="Only the proposal's author or an admin can do this.")
    if transition in CONFIRM and request.POST.get("confirmed") != "yes":
        # Closing and reopening change what everyone may do: say so, and ask once more.
        context = {"proposal": proposal, "transition": transition, **CONFIRM[transition]}
        return render(request, "reviews/confirm_transition.html", context)
    try:
        if transition == workflow.SUBMIT:
            reviews = services.review_submit_for_review(proposal=proposal, by=request.user)
        else:
            TRANSITIONS[transition](proposal=proposal, by=request.user)
    except workflow.GateClosed as closed:
        messages.error(request, "Not yet: " + "; ".join(closed.reasons))
    else:
        if transition == workflow.SUBMIT:
            anyone, message = services.submission_told(reviews)
            (messages.success if anyone else messages.warning)(request, message)
        else:
            messages.success(request, DONE[transition])
    return redirect(proposal)


@require_POST
@login_required
def review_resubmit(request: HttpRequest, pk: int) -> HttpResponse:
    """The author's "resubmit" next to one area whose requested changes they answered."""
    review = _visible_review(request, pk)
    if review is None:
        return _refusal(request, status=404, message="This review does not exist or is not visible to you.")
    if not Proposal.objects.editable_by(request.user).filter(pk=review.proposal_id).exists():
        return _refusal(request, status=403, message="Only the proposal's author or an admin can resubmit its areas.")
    try:
        reviews = services.review_submit_for_review(proposal=review.proposal, by=request.user, only=review)
    except workflow.GateClosed as closed:
        messages.error(request, "Not yet: " + "; ".join(closed.reasons))
    except services.ReviewRefused as refusal:
        messages.error(request, str(refusal))
    else:
        anyone, message = services.submission_told(reviews)
        (messages.success if anyone else messages.warning)(request, message)
    back = request.POST.get("next", "")
    if back == "answers":
        return redirect(f"{reverse('reviews:answers', args=[review.proposal_id])}#orr-{review.area.key}")
    return redirect(review.proposal)


@require_GET
@login_required
def gates_panel(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """The gates partial on its own: the proposal pages refresh it after every save."""
    proposal = (
        Proposal.objects.visible_to(request.user)
        .prefetch_related("requirements", "research_links", "persona_tags", "checklist_items")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None:
        return _refusal(request, status=404, message="This proposal does not exist or is not visible to you.")
    return render(request, "reviews/_gates.html", gates_context(proposal, user=request.user))


def gates_context(proposal: Proposal, *, user) -> dict:
    """What `{% orr_gates proposal %}` renders: the buttons, their reasons, each area's status."""

    if "reviews" not in getattr(proposal, "_prefetched_objects_cache", {}):
        # Every gate and the status table read the same reviews: load them once for this render.
        prefetch_related_objects([proposal], Prefetch("reviews", queryset=REVIEWS_FOR_GATES))
    reviews = {review.area.key: review for review in proposal_reviews(proposal)}
    rows = [(row, reviews[row.key]) for row in orr_status_summary(proposal)]
    # Who watches, by name (one query): they are told of its decisions and comments, so the author sees them.
    watches = Watch.objects.filter(proposal=proposal).order_by("user__username")
    watchers = list(watches.values_list("user_id", "user__username"))
    return {
        "proposal": proposal,
        "gates": [
            {
                "transition": transition,
                "left": len(transition.reasons),
                "groups": workflow.reason_groups(transition.reasons),
            }
            for transition in workflow.transitions(proposal, by=user)
        ],
        "watchers": len(watchers),
        "watcher_names": [name for _, name in watchers],
        "watching": any(user_id == getattr(user, "pk", None) for user_id, _ in watchers),
        "orr_rows": rows,
        "editable": proposal.is_editable_by(user) and proposal.state != Proposal.State.CLOSED,
        "reader": user,
    }


# --- ORR setup ---------------------------------------------------------------------------------

SETUP_PAGE = "reviews/orr_setup.html"
SETUP_TIMELINE_LENGTH = 50


def _setup_page(request: HttpRequest, *, invalid: OrrAreaSetupForm | None = None, status: int = 200) -> HttpResponse:
    areas = OrrArea.objects.select_related("reviewer_group", "lead").prefetch_related("reviewers")
    forms = [
        invalid
        if invalid is not None and invalid.instance.pk == area.pk
        else OrrAreaSetupForm(instance=area, prefix=area.key)
        for area in areas
    ]
    changes = OrrAreaChange.objects.select_related("area", "changed_by")[:SETUP_TIMELINE_LENGTH]
    return render(request, SETUP_PAGE, {"forms": forms, "changes": changes}, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def orr_setup(request: HttpRequest, area_key: str | None = None) -> HttpResponse:
    """Admins and working-group leads set each area's reviewers, lead, service level and Slack webhook."""
    if not access.may_set_up_orr(request.user):
        return _refusal(request, status=403, message="Only admins and working-group leads set up the ORR.")
    if request.method == "GET":
        return _setup_page(request)
    area = OrrArea.objects.filter(key=area_key).first() if area_key else None
    if area is None:
        return _refusal(request, status=404, message="There is no such ORR area.")
    form = OrrAreaSetupForm(request.POST, instance=OrrArea.objects.get(pk=area.pk), prefix=area.key)
    if not form.is_valid():
        return _setup_page(request, invalid=form)
    changes = services.orr_area_update(
        area=area, by=request.user, **{name: form.cleaned_data[name] for name in services.SETUP_FIELDS}
    )
    messages.success(request, f"{area.title}: {len(changes)} change{'s' if len(changes) != 1 else ''} saved.")
    return redirect("reviews:setup")


# --- In-app notifications, preferences, watching ----------------------------------------------

INBOX_PAGE = "reviews/notifications.html"
INBOX_LENGTH = 50


@require_http_methods(["GET", "POST"])
@login_required
def notification_inbox(request: HttpRequest) -> HttpResponse:
    """The bell's page: what this person was told, newest first; their preferences beside it."""
    preference = NotificationPreference.objects.filter(user=request.user).first() or NotificationPreference(
        user=request.user
    )
    # Both boxes unticked post nothing but the CSRF token: bind on the method, not on the data.
    form = NotificationPreferenceForm(request.POST if request.method == "POST" else None, instance=preference)
    if form.is_bound and form.is_valid():
        form.save()
        messages.success(request, "Your notification preferences are saved.")
        return redirect("reviews:notifications")
    items = InAppNotification.objects.for_user(request.user)
    context = {"items": items[:INBOX_LENGTH], "unread": items.unread().count(), "form": form}
    return render(request, INBOX_PAGE, context)


@require_POST
@login_required
def notifications_read(request: HttpRequest) -> HttpResponse:
    InAppNotification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("reviews:notifications")


@require_POST
@login_required
def proposal_watch(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Watch a proposal (or stop): its decisions, comments and resubmissions are then told to you too."""
    proposal = Proposal.objects.visible_to(request.user).filter(pk=proposal_id).first()
    if proposal is None:
        return _not_visible(request)
    watching = services.proposal_watch_toggle(proposal=proposal, user=request.user)
    messages.success(request, "You watch this proposal." if watching else "You no longer watch this proposal.")
    return redirect(proposal)
