"""Who may do what with a proposal: the one home of these rules (django-rules predicates).

Views, the API, template tags, notifications (e-mail, digest, escalation, Slack) and the
GitLab sync all ask here. `ProposalQuerySet.visible_to` and `readers_q` are the QuerySet
twins of `may_read`, for lists and for choosing recipients in one query.

Review-level predicates take a review (anything with `.proposal`, `.reviewer_id`, `.answer_written_by(user)`
and an `.area` with `.reviewer_group`, `.reviewers` and `.names_reviewer(user)`): proposals never import the
reviews app.
"""

from __future__ import annotations

import rules
from django.contrib.auth import get_user_model
from django.db.models import Q

# Roles are Django groups; these are their names.
AUTHORS = "author"
REVIEWERS = "reviewer"
WORKING_GROUP = "working group"
ADMINS = "admin"
# Working-group leads set up the ORR (areas' reviewers, leads, service levels, Slack) beside admins.
WORKING_GROUP_LEADS = "working group lead"
ROLE_GROUPS = (AUTHORS, REVIEWERS, WORKING_GROUP, ADMINS, WORKING_GROUP_LEADS)


def group_names(user) -> set[str]:
    """The user's group names, read once per user object (a page asks many times)."""
    cached = getattr(user, "_stagegate_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) if user.pk else set()
        user._stagegate_groups = cached
    return cached


def remember_groups(user, names) -> None:
    """Prime the cache from groups loaded in bulk (the digest loads many users at once)."""
    user._stagegate_groups = set(names)


def in_group(user, name: str) -> bool:
    return bool(user is not None and user.is_authenticated and name in group_names(user))


# --- About the person ------------------------------------------------------------------------


@rules.predicate
def is_signed_in(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


@rules.predicate
def is_admin(user) -> bool:
    return is_signed_in(user) and (user.is_superuser or in_group(user, ADMINS))


@rules.predicate
def is_reviewer(user) -> bool:
    return in_group(user, REVIEWERS)


@rules.predicate
def is_author(user) -> bool:
    return in_group(user, AUTHORS)


@rules.predicate
def is_working_group(user) -> bool:
    return in_group(user, WORKING_GROUP)


@rules.predicate
def is_working_group_lead(user) -> bool:
    return in_group(user, WORKING_GROUP_LEADS)


# The ORR setup page: each area's reviewers, lead, service level and Slack webhook.
may_set_up_orr = is_signed_in & (is_admin | is_working_group_lead)

# Creating a proposal (form, Markdown import, API) is the `author` role's; the working group reads and watches.
may_create = is_signed_in & (is_author | is_admin)


# --- About the person and a proposal ---------------------------------------------------------


@rules.predicate
def is_owner(user, proposal) -> bool:
    return proposal is not None and user is not None and proposal.owner_id == user.pk


def co_author_ids(proposal) -> set[int]:
    """The proposal's co-authors' ids, read once per proposal object (prefetched `co_authors` when there)."""
    cached = getattr(proposal, "_stagegate_co_authors", None)
    if cached is None:
        prefetched = getattr(proposal, "_prefetched_objects_cache", {}).get("co_authors")
        if prefetched is not None:
            cached = {user.pk for user in prefetched}
        else:
            cached = set(proposal.co_authors.values_list("pk", flat=True)) if proposal.pk else set()
        proposal._stagegate_co_authors = cached
    return cached


def forget_co_authors(proposal) -> None:
    """After the co-authors or the owner changed: the next question reads them again."""
    proposal.__dict__.pop("_stagegate_co_authors", None)
    getattr(proposal, "_prefetched_objects_cache", {}).pop("co_authors", None)


@rules.predicate
def is_co_author(user, proposal) -> bool:
    return proposal is not None and is_signed_in(user) and user.pk in co_author_ids(proposal)


# The proposal's authors: its owner and its co-authors (they read, edit and never review it).
is_proposal_author = is_owner | is_co_author


def authors_of(proposal) -> list:
    """The people told about their own proposal (decisions, stale sign-offs, expired waivers, comments):
    the owner first, then the active co-authors. Each notice still asks `may_be_told` of every one."""
    people = [proposal.owner]
    prefetched = getattr(proposal, "_prefetched_objects_cache", {}).get("co_authors")
    co_authors = prefetched if prefetched is not None else proposal.co_authors.filter(is_active=True).order_by("pk")
    people += [user for user in co_authors if user.is_active and user.pk != proposal.owner_id]
    return people


@rules.predicate
def is_public(user, proposal) -> bool:
    return proposal is not None and not proposal.confidential


# Confidential proposals are read by their authors (owner and co-authors), reviewers and admins only.
may_read = is_signed_in & (is_public | is_owner | is_reviewer | is_admin | is_co_author)
may_edit = is_signed_in & (is_owner | is_admin | is_co_author)
# Naming co-authors and handing the proposal to a new owner: the owner's call (or an admin's), not a co-author's.
may_manage_authors = is_signed_in & (is_owner | is_admin)


@rules.predicate
def is_closed(user, proposal) -> bool:
    return proposal is not None and proposal.state == "closed"


# A closed proposal is read-only until an editor reopens it (reopening itself needs only may_edit).
may_change_content = may_edit & ~is_closed
# GitLab shows internal notes to project members; in Stagegate those are the author, reviewers, admins.
may_see_internal_notes = is_signed_in & (is_owner | is_reviewer | is_admin | is_co_author)
# Approval for General Availability is the working group's decision (or an admin's), never an author's.
may_approve = may_read & ~is_proposal_author & (is_working_group | is_admin)
# The proposal's discussion (mirrored with the GitLab issue's comments) is open to every reader, closed or not.
may_comment = may_read
# A notification (e-mail, digest, escalation, in-app) about a proposal goes to its readers only.
may_be_told = may_read


def may_post_to_channel(proposal) -> bool:
    """A chat channel's members are nobody Stagegate checked: only public proposals are posted there."""
    return not proposal.confidential


def readers_q(proposal, *, prefix: str = "") -> Q:
    """Users who may read this proposal, as a filter on the user model (the QuerySet twin of `may_read`)."""
    active = Q(**{f"{prefix}is_active": True})
    if not proposal.confidential:
        return active
    privileged = get_user_model().objects.filter(groups__name__in=[REVIEWERS, ADMINS]).values("pk")
    co_authors = proposal.co_authors.through.objects.filter(proposal_id=proposal.pk).values("user_id")
    return active & (
        Q(**{f"{prefix}pk": proposal.owner_id})
        | Q(**{f"{prefix}is_superuser": True})
        | Q(**{f"{prefix}pk__in": privileged})
        | Q(**{f"{prefix}pk__in": co_authors})
    )


# --- About the person and one ORR review of a proposal ----------------------------------------


def serves_area(user, area) -> bool:
    """A current reviewer of the area: in the `reviewer` role and in the area's reviewer group today.

    Membership is read now, not when a review was assigned: someone moved out of either group stops
    deciding at once, even where a review still names them.
    """
    if not (is_signed_in(user) and is_reviewer(user)):
        return False
    group = area.reviewer_group
    if group is not None and in_group(user, group.name):
        return True
    return area.names_reviewer(user) or (group is None and not area.reviewers.exists())


@rules.predicate
def is_area_reviewer(user, review) -> bool:
    """A current reviewer of the review's area; with no group on the area, the reviewer named on the review."""
    if not serves_area(user, review.area):
        return False
    area = review.area
    return area.reviewer_group is not None or area.names_reviewer(user) or review.reviewer_id == user.pk


@rules.predicate
def is_area_lead(user, review) -> bool:
    return is_signed_in(user) and review.area.lead_id is not None and review.area.lead_id == user.pk


@rules.predicate
def wrote_reviewed_proposal(user, review) -> bool:
    return is_proposal_author(user, review.proposal)


@rules.predicate
def wrote_answer(user, review) -> bool:
    """Wrote (any version of) the area's answer: an admin or co-author who filled it in."""
    return is_signed_in(user) and review.answer_written_by(user)


@rules.predicate
def may_read_reviewed_proposal(user, review) -> bool:
    return may_read(user, review.proposal)


# Separation of duties: nobody decides a review of their own proposal, nor an area whose answer they
# wrote, admins included.
may_decide = may_read_reviewed_proposal & ~wrote_reviewed_proposal & ~wrote_answer & (is_area_reviewer | is_admin)
# Taking a group review ("assign to me"): a current reviewer of the area who may decide it.
may_take = may_decide & is_area_reviewer
may_discuss = may_read_reviewed_proposal & (wrote_reviewed_proposal | is_area_reviewer | is_admin)
may_assign = is_admin | is_area_lead
