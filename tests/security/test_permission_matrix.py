"""Every URL Stagegate answers × every role × a confidential proposal or not: the exact status each gets.

The URL list is read from the resolver, so a new URL without a row here fails
`test_every_url_has_a_row_in_the_matrix`. Each request runs inside a savepoint that is rolled back, so every
role meets the same state (a sign-off or a removed requirement by one role does not change what the next sees).

Roles: anonymous; the proposal's author; another author; a reviewer of the review's ORR area; a reviewer of
another area; a working-group member; an admin. Confidential proposals are seen only by their author, reviewers
and admins; only the author and admins change a proposal; only an area's reviewers (and admins) decide it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from gitlab_sync import discussion
from gitlab_sync.models import SyncConflict
from proposals import services
from proposals.forms import section_form_class
from proposals.models import Proposal
from reviews.models import OrrArea, Review
from tests.factories import ProposalFactory, UserFactory

ROLES = ("anonymous", "author", "other_author", "area_reviewer", "other_reviewer", "working_group", "admin")
SEES_CONFIDENTIAL = {"author", "area_reviewer", "other_reviewer", "admin"}
EDITORS = {"author", "admin"}
DECIDERS = {"area_reviewer", "admin"}  # of the review's area; never the author
DISCUSSES = {"author", "area_reviewer", "admin"}
# Creating and importing need the `author` role (or admin); the working group and reviewers only read.
CREATORS = {"author", "other_author", "admin"}
APPROVERS = {"working_group", "admin"}  # approval for General Availability; never the proposal's author

LOGIN = 302  # anonymous visitors are sent to the login page
API_ANONYMOUS = 401  # token auth comes first: an anonymous API call is asked to authenticate


# --- what each kind of URL answers -----------------------------------------------------------------


def visible(role: str, confidential: bool) -> bool:
    return role != "anonymous" and (not confidential or role in SEES_CONFIDENTIAL)


def everyone(status: int) -> Callable[[str, bool], int]:
    return lambda role, confidential: status


def signed_in(status: int, *, anonymous: int = LOGIN) -> Callable[[str, bool], int]:
    return lambda role, confidential: anonymous if role == "anonymous" else status


def readers(status: int, *, anonymous: int = LOGIN) -> Callable[[str, bool], int]:
    """Those who may see the proposal get `status`; it does not exist for anyone else."""

    def expected(role: str, confidential: bool) -> int:
        if role == "anonymous":
            return anonymous
        return status if visible(role, confidential) else 404

    return expected


def editors(
    status: int, *, anonymous: int = LOGIN, refused: int = 403, hidden: int = 404
) -> Callable[[str, bool], int]:
    """The author and admins get `status`; others who see it are `refused`; it is `hidden` from the rest."""

    def expected(role: str, confidential: bool) -> int:
        if role == "anonymous":
            return anonymous
        if role in EDITORS:
            return status
        return refused if visible(role, confidential) else hidden

    return expected


def creators(status: int, *, anonymous: int = LOGIN) -> Callable[[str, bool], int]:
    """Authors and admins get `status`; every other signed-in role is refused (403)."""
    return lambda role, confidential: anonymous if role == "anonymous" else (status if role in CREATORS else 403)


def signed_in_only(allowed: set[str], status: int) -> Callable[[str, bool], int]:
    """A page about no proposal: `allowed` roles get `status`, every other signed-in role is refused (403)."""
    return lambda role, confidential: LOGIN if role == "anonymous" else (status if role in allowed else 403)


def approvers(status: int) -> Callable[[str, bool], int]:
    """The working group and admins who may read the proposal get `status`; everyone else is refused (403)."""

    def expected(role: str, confidential: bool) -> int:
        if role == "anonymous":
            return LOGIN
        return status if role in APPROVERS and visible(role, confidential) else 403

    return expected


def api_approvers(status: int) -> Callable[[str, bool], int]:
    """As `approvers`, with the API's answers: 401 for the anonymous, and a proposal one cannot read is a 404."""

    def expected(role: str, confidential: bool) -> int:
        if role == "anonymous":
            return API_ANONYMOUS
        if not visible(role, confidential):
            return 404
        return status if role in APPROVERS else 403

    return expected


def only(allowed: set[str], status: int, *, anonymous: int = LOGIN) -> Callable[[str, bool], int]:
    """`allowed` roles get `status`; others who see the proposal are refused (403); it is hidden from the rest."""

    def expected(role: str, confidential: bool) -> int:
        if role == "anonymous":
            return anonymous
        if role in allowed:
            return status
        return 403 if visible(role, confidential) else 404

    return expected


# --- the world every request meets -----------------------------------------------------------------


@dataclass
class World:
    proposal: Proposal
    review: Review
    checklist_item_id: int
    requirement_id: int
    research_link_id: int
    conflict_id: int
    section_post: dict = field(default_factory=dict)


def make_world(author, *, confidential: bool) -> World:
    proposal = ProposalFactory(owner=author, title=f"Matrix {'secret' if confidential else 'open'}")
    Proposal.objects.filter(pk=proposal.pk).update(confidential=confidential, state=Proposal.State.IN_REVIEW)
    proposal.refresh_from_db()
    review = proposal.reviews.get(area__key="data")
    Review.objects.filter(pk=review.pk).update(status=Review.Status.IN_REVIEW, answer="Opted-in projects only.")
    review.refresh_from_db()
    requirement = services.requirement_add(proposal=proposal, text="See the summary", by=author)
    services.requirement_add(proposal=proposal, text="Turn it off", by=author)
    link = services.research_link_add(proposal=proposal, url="https://gitlab.example.com/r/1", title="R1", by=author)
    services.research_link_add(proposal=proposal, url="https://gitlab.example.com/r/2", title="R2", by=author)
    proposal.refresh_from_db()
    item = proposal.checklist_items.filter(key="add_information").first() or proposal.checklist_items.first()
    discussion.comment_post(proposal=proposal, body="Written in Stagegate by the author", by=author)
    conflict = SyncConflict.objects.create(
        proposal=proposal, field="user_problem", base_value="a", local_value="b", remote_value="c"
    )
    fields = section_form_class(proposal.definition, "needs").section.fields
    values = services.section_values(proposal, fields)
    section_post = {
        "version": proposal.version,
        "base": services.section_fingerprint(values),
        "dependency_needs": "The AI gateway.",
        "legal_needs": "None.",
    }
    return World(
        proposal=proposal,
        review=review,
        checklist_item_id=item.pk,
        requirement_id=getattr(requirement, "pk", None) or proposal.requirements.first().pk,
        research_link_id=getattr(link, "pk", None) or proposal.research_links.first().pk,
        conflict_id=conflict.pk,
        section_post=section_post,
    )


# --- the matrix: route → requests and what each role gets -----------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: Callable[[World], str]
    expected: Callable[[str, bool], int]
    data: Callable[[World], dict] = lambda w: {}
    json: bool = False


def p(template: str) -> Callable[[World], str]:
    """A path with {pk}, {review}, {item}, {requirement}, {link}, {conflict} filled from the world."""
    return lambda w: template.format(
        pk=w.proposal.pk,
        review=w.review.pk,
        item=w.checklist_item_id,
        requirement=w.requirement_id,
        link=w.research_link_id,
        conflict=w.conflict_id,
    )


DECISION = lambda w: {"kind": "approved", "comment": "Fine by data.", "answer_sha256": w.review.answer_sha256}  # noqa: E731

MATRIX: dict[str, list[Call]] = {
    "": [Call("GET", p("/"), everyone(302))],
    "healthz": [Call("GET", p("/healthz"), everyone(200))],
    "login": [Call("GET", p("/accounts/login/"), everyone(200))],
    "logout": [
        Call("GET", p("/accounts/logout/"), everyone(405)),
        Call("POST", p("/accounts/logout/"), everyone(302)),
    ],
    # django-allauth (Sign in with GitLab).
    # allauth names the same login and logout addresses again; Django's views, listed first, answer them.
    "account_login": [Call("POST", p("/accounts/login/"), everyone(200), data=lambda w: {"username": "ada"})],
    "account_logout": [Call("GET", p("/accounts/logout/"), everyone(405))],
    "accounts:api-token": [
        Call("GET", p("/accounts/api-token/"), signed_in(200)),
        Call("POST", p("/accounts/api-token/"), signed_in(302)),
    ],
    "socialaccount_connections": [Call("GET", p("/accounts/3rdparty/"), signed_in(200))],
    "socialaccount_login_cancelled": [Call("GET", p("/accounts/3rdparty/login/cancelled/"), everyone(200))],
    "socialaccount_login_error": [Call("GET", p("/accounts/3rdparty/login/error/"), everyone(401))],
    "socialaccount_signup": [Call("GET", p("/accounts/3rdparty/signup/"), everyone(302))],
    "account_email": [Call("GET", p("/accounts/email/"), signed_in(200))],
    "account_email_verification_sent": [Call("GET", p("/accounts/confirm-email/"), everyone(200))],
    "gitlab_login": [Call("GET", p("/accounts/gitlab/login/"), everyone(200))],
    # A callback without GitLab's code and state is a failed login: allauth's error page.
    "gitlab_callback": [Call("GET", p("/accounts/gitlab/login/callback/"), everyone(401))],
    "account_inactive": [Call("GET", p("/accounts/inactive/"), everyone(200))],
    "account_confirm_login_code": [Call("GET", p("/accounts/login/code/confirm/"), everyone(302))],
    "account_change_password": [Call("GET", p("/accounts/password/change/"), signed_in(200))],
    "account_reset_password": [Call("GET", p("/accounts/password/reset/"), everyone(200))],
    "account_reset_password_done": [Call("GET", p("/accounts/password/reset/done/"), everyone(200))],
    "account_reset_password_from_key_done": [Call("GET", p("/accounts/password/reset/key/done/"), everyone(200))],
    "account_set_password": [Call("GET", p("/accounts/password/set/"), everyone(302))],
    "account_reauthenticate": [Call("GET", p("/accounts/reauthenticate/"), signed_in(200))],
    "account_signup": [Call("GET", p("/accounts/signup/"), signed_in(302, anonymous=200))],
    "accounts/social/connections/": [Call("GET", p("/accounts/social/connections/"), everyone(301))],
    "accounts/social/login/cancelled/": [Call("GET", p("/accounts/social/login/cancelled/"), everyone(301))],
    "accounts/social/login/error/": [Call("GET", p("/accounts/social/login/error/"), everyone(301))],
    "accounts/social/signup/": [Call("GET", p("/accounts/social/signup/"), everyone(301))],
    "account_confirm_email": [Call("GET", p("/accounts/confirm-email/not-a-key/"), everyone(200))],
    "account_reset_password_from_key": [Call("GET", p("/accounts/password/reset/key/1-not-a-key/"), everyone(200))],
    # Proposal pages.
    "proposals:list": [Call("GET", p("/proposals/"), signed_in(200))],
    "proposals:create": [
        Call("GET", p("/proposals/new/"), creators(200)),
        Call("POST", p("/proposals/new/"), creators(302), data=lambda w: {"title": "Made here"}),
    ],
    "proposals:import": [
        Call("GET", p("/proposals/import/"), creators(200)),
        Call(
            "POST",
            p("/proposals/import/"),
            creators(302),
            data=lambda w: {"markdown": "## Problem\n\nX", "step": "confirm"},
        ),
    ],
    # The world's proposal was not imported: there is no report, even for its editors.
    "proposals:import-report": [Call("GET", p("/proposals/{pk}/import-report/"), editors(404))],
    "proposals:detail": [Call("GET", p("/proposals/{pk}/"), readers(200))],
    "proposals:history": [Call("GET", p("/proposals/{pk}/history/"), readers(200))],
    "proposals:history-csv": [Call("GET", p("/proposals/{pk}/history.csv"), readers(200))],
    "proposals:timeline": [Call("GET", p("/proposals/{pk}/timeline/"), readers(200))],
    "proposals:timeline-csv": [Call("GET", p("/proposals/{pk}/timeline.csv"), readers(200))],
    "proposals:search": [Call("GET", p("/proposals/search/?q=matrix"), signed_in(200))],
    "proposals:saved-view-save": [
        Call(
            "POST",
            p("/proposals/saved-views/"),
            signed_in(302),
            data=lambda w: {"name": "Mine", "page": "proposals:list", "query": "state=draft"},
        )
    ],
    "proposals:saved-view-delete": [Call("POST", p("/proposals/saved-views/999999/delete/"), signed_in(404))],
    "proposals:edit": [Call("GET", p("/proposals/{pk}/edit/"), editors(200))],
    "proposals:preview": [Call("GET", p("/proposals/{pk}/preview/"), readers(200))],
    # The edit page's poll: JSON for a script, so a signed-out poll is told 401, never sent to the login page.
    "proposals:live": [Call("GET", p("/proposals/{pk}/live/"), readers(200, anonymous=401))],
    "proposals:template-change": [
        Call(
            "POST",
            p("/proposals/{pk}/template/"),
            editors(302),
            data=lambda w: {"version": "2023-06", "confirmed": "yes"},
        )
    ],
    "proposals:section-save": [
        Call("POST", p("/proposals/{pk}/sections/needs/"), editors(302), data=lambda w: w.section_post)
    ],
    "proposals:checklist": [Call("GET", p("/proposals/{pk}/checklist/"), editors(200))],
    "proposals:checklist-toggle": [
        Call("POST", p("/proposals/{pk}/checklist/{item}/"), editors(302), data=lambda w: {"checked": "on"})
    ],
    "proposals:requirement-add": [
        Call("POST", p("/proposals/{pk}/requirements/"), editors(302), data=lambda w: {"text": "Share it"})
    ],
    "proposals:requirement-change": [
        Call("POST", p("/proposals/{pk}/requirements/{requirement}/remove/"), editors(302))
    ],
    "proposals:requirement-edit": [
        Call("GET", p("/proposals/{pk}/requirements/{requirement}/edit/"), editors(200)),
        Call(
            "POST",
            p("/proposals/{pk}/requirements/{requirement}/edit/"),
            editors(302),
            data=lambda w: {f"requirement-{w.requirement_id}-text": "See the summary first"},
        ),
    ],
    # Naming co-authors and handing over: the owner and admins (the editors of the world's proposal).
    "proposals:co-authors": [
        Call("POST", p("/proposals/{pk}/co-authors/"), editors(302), data=lambda w: {"add": "grace"})
    ],
    "proposals:owner": [
        Call("POST", p("/proposals/{pk}/owner/"), editors(200), data=lambda w: {"owner": "grace"}),
        Call("POST", p("/proposals/{pk}/owner/"), editors(302), data=lambda w: {"owner": "grace", "confirmed": "yes"}),
    ],
    "proposals:research-add": [
        Call(
            "POST",
            p("/proposals/{pk}/research/"),
            editors(302),
            data=lambda w: {"url": "https://gitlab.example.com/r/3"},
        )
    ],
    "proposals:research-change": [Call("POST", p("/proposals/{pk}/research/{link}/down/"), editors(302))],
    # The ORR.
    "reviews:queue": [Call("GET", p("/reviews/"), signed_in(200))],
    "reviews:detail": [Call("GET", p("/reviews/{review}/"), readers(200))],
    "reviews:decide": [Call("POST", p("/reviews/{review}/decide/"), only(DECIDERS, 302), data=DECISION)],
    # Taking a group review: a current reviewer of its area; nobody holds the world's review to hand back.
    "reviews:take": [Call("POST", p("/reviews/{review}/take/"), only({"area_reviewer"}, 302))],
    "reviews:hand-back": [Call("POST", p("/reviews/{review}/hand-back/"), only(set(), 302))],
    # The ORR setup page: admins and working-group leads only.
    "reviews:setup": [Call("GET", p("/reviews/setup/"), signed_in_only({"admin"}, 200))],
    "reviews:setup-area": [
        Call(
            "POST",
            p("/reviews/setup/data/"),
            signed_in_only({"admin"}, 302),
            data=lambda w: {"data-service_level_days": "3", "data-slack_webhook_url": ""},
        )
    ],
    # In-app notifications and watching.
    "reviews:notifications": [
        Call("GET", p("/reviews/notifications/"), signed_in(200)),
        Call("POST", p("/reviews/notifications/"), signed_in(302), data=lambda w: {"email": "on"}),
    ],
    "reviews:notifications-read": [Call("POST", p("/reviews/notifications/read/"), signed_in(302))],
    "reviews:watch": [Call("POST", p("/reviews/proposal/{pk}/watch/"), readers(302))],
    "reviews:comment": [
        Call("POST", p("/reviews/{review}/comments/"), only(DISCUSSES, 302), data=lambda w: {"body": "Which region?"})
    ],
    # The author's one-button resubmit of an area (the world's review is not waiting for it: told so, redirected).
    "reviews:resubmit": [Call("POST", p("/reviews/{review}/resubmit/"), editors(302))],
    "reviews:answers": [Call("GET", p("/reviews/answers/{pk}/"), readers(200))],
    "reviews:answer": [
        Call(
            "POST",
            p("/reviews/answer/{pk}/data/"),
            editors(302, hidden=403),
            data=lambda w: {"answer": "EU region only.", "base": w.review.answer_sha256},
        )
    ],
    "reviews:gates": [Call("GET", p("/reviews/proposal/{pk}/gates/"), readers(200))],
    "reviews:transition": [
        Call("POST", p("/reviews/proposal/{pk}/close/"), editors(302, hidden=403), data=lambda w: {"confirmed": "yes"}),
        # Approval for GA is the working group's (or an admin's) decision, never the author's.
        Call("POST", p("/reviews/proposal/{pk}/approve/"), approvers(302)),
    ],
    # GitLab.
    "gitlab_sync:webhook": [
        Call("POST", p("/gitlab/webhook/"), everyone(401), data=lambda w: {"object_kind": "issue"})
    ],
    "gitlab_sync:badge": [Call("GET", p("/gitlab/proposals/{pk}/sync/"), readers(200))],
    # The discussion is every reader's; a comment written in Stagegate is changed by its writer only.
    "gitlab_sync:discussion": [Call("GET", p("/gitlab/proposals/{pk}/discussion/"), readers(302))],
    "gitlab_sync:comment": [
        Call("POST", p("/gitlab/proposals/{pk}/discussion/comment/"), readers(302), data=lambda w: {"body": "Hi"})
    ],
    "gitlab_sync:comment-change": [
        Call(
            "POST",
            lambda w: f"/gitlab/comments/{w.proposal.issue_comments.get().pk}/",
            only({"author"}, 302),
            data=lambda w: {"body": "Edited"},
        )
    ],
    # Links are changed by those who change the proposal (here sync is off: they are told why, 302).
    "gitlab_sync:link-create": [
        Call("POST", p("/gitlab/proposals/{pk}/links/"), editors(302), data=lambda w: {"reference": "#1"})
    ],
    "gitlab_sync:link-delete": [Call("POST", p("/gitlab/proposals/{pk}/links/999999/remove/"), editors(302))],
    "gitlab_sync:retry": [Call("POST", p("/gitlab/proposals/{pk}/sync/retry/"), editors(302, refused=404))],
    "gitlab_sync:conflicts": [Call("GET", p("/gitlab/proposals/{pk}/conflicts/"), readers(200))],
    "gitlab_sync:resolve": [
        Call(
            "POST",
            p("/gitlab/conflicts/{conflict}/resolve/"),
            editors(302, refused=404),
            data=lambda w: {"choice": "local"},
        )
    ],
    # The working group.
    "dashboard:index": [Call("GET", p("/dashboard/"), signed_in(200))],
    "dashboard:csv": [Call("GET", p("/dashboard/proposals.csv"), signed_in(200))],
    # Django's admin: only staff get in (an admin-group member without is_staff is sent to its login).
    "admin:index": [Call("GET", p("/admin/"), everyone(302))],
    "admin:proposals_proposal_changelist": [Call("GET", p("/admin/proposals/proposal/"), everyone(302))],
    # The JSON API (token or session auth): same rules, JSON refusals, 401 for the anonymous.
    "api:schema": [Call("GET", p("/api/schema/"), signed_in(200, anonymous=API_ANONYMOUS))],
    "api:proposal-list": [
        Call("GET", p("/api/proposals/"), signed_in(200, anonymous=API_ANONYMOUS)),
        Call(
            "POST", p("/api/proposals/"), creators(201, anonymous=API_ANONYMOUS), lambda w: {"title": "Via API"}, True
        ),
    ],
    "api:proposal-detail": [Call("GET", p("/api/proposals/{pk}/"), readers(200, anonymous=API_ANONYMOUS))],
    "api:section-save": [
        Call(
            "PATCH",
            p("/api/proposals/{pk}/sections/needs/"),
            editors(200, anonymous=API_ANONYMOUS),
            lambda w: {
                "version": w.section_post["version"],
                "base": w.section_post["base"],
                "values": {"legal_needs": "None."},
            },
            True,
        )
    ],
    "api:checklist-toggle": [
        Call(
            "POST",
            p("/api/proposals/{pk}/checklist/{item}/"),
            editors(200, anonymous=API_ANONYMOUS),
            lambda w: {"checked": True},
            True,
        )
    ],
    "api:requirement-add": [
        Call(
            "POST",
            p("/api/proposals/{pk}/requirements/"),
            editors(201, anonymous=API_ANONYMOUS),
            lambda w: {"text": "Share it"},
            True,
        )
    ],
    "api:research-link-add": [
        Call(
            "POST",
            p("/api/proposals/{pk}/research-links/"),
            editors(201, anonymous=API_ANONYMOUS),
            lambda w: {"url": "https://gitlab.example.com/r/3", "title": "R3"},
            True,
        )
    ],
    # Already in review: the author and admins pass the permission check and meet the closed gate (400).
    "api:proposal-submit": [
        Call("POST", p("/api/proposals/{pk}/submit/"), editors(400, anonymous=API_ANONYMOUS), lambda w: {}, True)
    ],
    "api:review-list": [Call("GET", p("/api/reviews/"), signed_in(200, anonymous=API_ANONYMOUS))],
    "api:review-detail": [Call("GET", p("/api/reviews/{review}/"), readers(200, anonymous=API_ANONYMOUS))],
    "api:review-decide": [
        Call(
            "POST", p("/api/reviews/{review}/decisions/"), only(DECIDERS, 201, anonymous=API_ANONYMOUS), DECISION, True
        )
    ],
    "api:review-take": [
        Call("POST", p("/api/reviews/{review}/take/"), only({"area_reviewer"}, 200, anonymous=API_ANONYMOUS), json=True)
    ],
    "api:review-hand-back": [
        Call("POST", p("/api/reviews/{review}/hand-back/"), only(set(), 200, anonymous=API_ANONYMOUS), json=True)
    ],
    "api:review-answer": [
        Call(
            "PUT",
            p("/api/reviews/{review}/answer/"),
            editors(200, anonymous=API_ANONYMOUS),
            lambda w: {"answer": "EU region only.", "base_sha256": w.review.answer_sha256},
            True,
        )
    ],
    # The world's proposal is an Experiment in review: moving on and approving meet closed gates (400).
    "api:proposal-advance": [
        Call("POST", p("/api/proposals/{pk}/advance/"), editors(400, anonymous=API_ANONYMOUS), json=True)
    ],
    "api:proposal-approve": [Call("POST", p("/api/proposals/{pk}/approve/"), api_approvers(400), json=True)],
    "api:proposal-close": [
        Call("POST", p("/api/proposals/{pk}/close/"), editors(200, anonymous=API_ANONYMOUS), json=True)
    ],
    "api:proposal-reopen": [
        Call("POST", p("/api/proposals/{pk}/reopen/"), editors(400, anonymous=API_ANONYMOUS), json=True)
    ],
    "api:requirement-change": [
        Call(
            "PATCH",
            p("/api/proposals/{pk}/requirements/{requirement}/"),
            editors(200, anonymous=API_ANONYMOUS),
            lambda w: {"text": "See the summary first"},
            True,
        ),
        Call("DELETE", p("/api/proposals/{pk}/requirements/{requirement}/"), editors(204, anonymous=API_ANONYMOUS)),
    ],
    "api:requirement-move": [
        Call(
            "POST",
            p("/api/proposals/{pk}/requirements/{requirement}/move/"),
            editors(200, anonymous=API_ANONYMOUS),
            lambda w: {"direction": "down"},
            True,
        )
    ],
    "api:research-link-remove": [
        Call("DELETE", p("/api/proposals/{pk}/research-links/{link}/"), editors(204, anonymous=API_ANONYMOUS))
    ],
    "api:research-link-move": [
        Call(
            "POST",
            p("/api/proposals/{pk}/research-links/{link}/move/"),
            editors(200, anonymous=API_ANONYMOUS),
            lambda w: {"direction": "down"},
            True,
        )
    ],
    "api:template-move": [
        Call("GET", p("/api/proposals/{pk}/template/?version=2023-07"), editors(200, anonymous=API_ANONYMOUS)),
        Call(
            "POST",
            p("/api/proposals/{pk}/template/"),
            editors(200, anonymous=API_ANONYMOUS),
            lambda w: {"version": "2023-07"},
            True,
        ),
    ],
    "api:conflict-list": [Call("GET", p("/api/proposals/{pk}/conflicts/"), readers(200, anonymous=API_ANONYMOUS))],
    "api:conflict-resolve": [
        Call(
            "POST",
            p("/api/proposals/{pk}/conflicts/{conflict}/resolve/"),
            editors(200, anonymous=API_ANONYMOUS),
            lambda w: {"choice": "local"},
            True,
        )
    ],
    # Naming co-authors and handing over: the owner and admins (the editors of the world's proposal).
    "api:owner-transfer": [
        Call(
            "POST",
            p("/api/proposals/{pk}/owner/"),
            editors(200, anonymous=API_ANONYMOUS),
            lambda w: {"owner": "grace"},
            True,
        )
    ],
    "api:co-authors": [
        Call(
            "PUT",
            p("/api/proposals/{pk}/co-authors/"),
            editors(200, anonymous=API_ANONYMOUS),
            lambda w: {"co_authors": ["grace"]},
            True,
        )
    ],
    "api:watch": [Call("PUT", p("/api/proposals/{pk}/watch/"), readers(200, anonymous=API_ANONYMOUS), json=True)],
    # The discussion is every reader's; a comment is changed by its writer; links by those who change the
    # proposal (sync is off here: 400 says why); the history is every reader's.
    "api:comments": [
        Call("GET", p("/api/proposals/{pk}/comments/"), readers(200, anonymous=API_ANONYMOUS)),
        Call(
            "POST",
            p("/api/proposals/{pk}/comments/"),
            readers(201, anonymous=API_ANONYMOUS),
            lambda w: {"body": "Hi"},
            True,
        ),
    ],
    "api:comment-reply": [
        Call(
            "POST",
            lambda w: f"/api/proposals/{w.proposal.pk}/comments/{w.proposal.issue_comments.get().pk}/replies/",
            readers(201, anonymous=API_ANONYMOUS),
            lambda w: {"body": "Agreed"},
            True,
        )
    ],
    "api:comment-change": [
        Call(
            "PATCH",
            lambda w: f"/api/proposals/{w.proposal.pk}/comments/{w.proposal.issue_comments.get().pk}/",
            only({"author"}, 200, anonymous=API_ANONYMOUS),
            lambda w: {"body": "Edited"},
            True,
        ),
        Call(
            "DELETE",
            lambda w: f"/api/proposals/{w.proposal.pk}/comments/{w.proposal.issue_comments.get().pk}/",
            only({"author"}, 204, anonymous=API_ANONYMOUS),
        ),
    ],
    "api:linked-issues": [
        Call("GET", p("/api/proposals/{pk}/linked-issues/"), readers(200, anonymous=API_ANONYMOUS)),
        Call(
            "POST",
            p("/api/proposals/{pk}/linked-issues/"),
            editors(400, anonymous=API_ANONYMOUS),
            lambda w: {"reference": "#1"},
            True,
        ),
    ],
    "api:linked-issue-remove": [
        Call("DELETE", p("/api/proposals/{pk}/linked-issues/999999/"), editors(404, anonymous=API_ANONYMOUS))
    ],
    "api:history": [Call("GET", p("/api/proposals/{pk}/history/?kind=text"), readers(200, anonymous=API_ANONYMOUS))],
    "api:designs": [Call("GET", p("/api/proposals/{pk}/designs/"), readers(200, anonymous=API_ANONYMOUS))],
    "api:timeline": [
        Call("GET", p("/api/proposals/{pk}/timeline/?kind=edited"), readers(200, anonymous=API_ANONYMOUS))
    ],
    "api:changes-since-last-look": [
        Call("GET", p("/api/proposals/{pk}/changes-since-last-look/"), readers(200, anonymous=API_ANONYMOUS))
    ],
    "api:seen": [Call("POST", p("/api/proposals/{pk}/seen/"), readers(200, anonymous=API_ANONYMOUS), json=True)],
    "api:import": [
        Call(
            "POST",
            p("/api/proposals/import/"),
            creators(201, anonymous=API_ANONYMOUS),
            lambda w: {"markdown": "## Problem\n\nX"},
            True,
        )
    ],
    "api:import-preview": [
        Call(
            "POST",
            p("/api/proposals/import/preview/"),
            creators(200, anonymous=API_ANONYMOUS),
            lambda w: {"markdown": "## Problem\n\nX"},
            True,
        )
    ],
    "api:dashboard": [Call("GET", p("/api/dashboard/"), signed_in(200, anonymous=API_ANONYMOUS))],
    "api/^(?P<path>(?s:.*))\\Z": [
        Call("GET", p("/api/nothing-here/"), signed_in(404, anonymous=API_ANONYMOUS)),
        Call("GET", p("/api/proposals/1/sections/a%0Ab/"), signed_in(404, anonymous=API_ANONYMOUS)),
    ],
}


def all_routes() -> list[str]:
    """Every URL pattern, named by its URL name (namespace included), or by its route when it has none."""

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            else:
                assert isinstance(pattern, URLPattern)
                route = prefix + str(pattern.pattern)
                yield route if route.startswith("admin/") else (namespace + pattern.name if pattern.name else route)

    return sorted(set(walk(get_resolver().url_patterns)))


# Django's admin brings ~170 URLs of its own; representative rows ("admin:…") stand for them.
SAMPLED_PREFIXES = ("admin/",)


def test_every_url_has_a_row_in_the_matrix():
    missing = [route for route in all_routes() if route not in MATRIX and not route.startswith(SAMPLED_PREFIXES)]
    assert missing == [], "add these URLs to the permission matrix"
    stale = [route for route in MATRIX if route not in all_routes() and not route.startswith("admin:")]
    assert stale == [], "these matrix rows name URLs that no longer exist"


# --- running it --------------------------------------------------------------------------------------


@pytest.fixture
def people(db):
    data_group = Group.objects.get_or_create(name="orr data")[0]
    legal_group = Group.objects.get_or_create(name="orr legal")[0]
    OrrArea.objects.filter(key="data").update(reviewer_group=data_group)
    OrrArea.objects.filter(key="legal").update(reviewer_group=legal_group)
    return {
        "anonymous": None,
        "author": UserFactory(username="ada", groups=["author"]),
        "other_author": UserFactory(username="grace", groups=["author"]),
        "area_reviewer": UserFactory(username="rosalind", groups=["reviewer", "orr data"]),
        "other_reviewer": UserFactory(username="lise", groups=["reviewer", "orr legal"]),
        "working_group": UserFactory(username="katherine", groups=["working group"]),
        "admin": UserFactory(username="barbara", groups=["admin"]),
    }


@pytest.fixture
def worlds(people):
    return {confidential: make_world(people["author"], confidential=confidential) for confidential in (False, True)}


def call(client: Client, request: Call, world: World) -> int:
    """One request whose effects are rolled back afterwards, so every role meets the same world."""
    with transaction.atomic():
        method = getattr(client, request.method.lower())
        if request.json:
            response = method(request.path(world), request.data(world), content_type="application/json")
        else:
            response = method(request.path(world), request.data(world))
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        transaction.set_rollback(True)
    return response.status_code


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_each_role_gets_exactly_its_status(route, people, worlds, settings):
    # Sign in with GitLab configured, as in production, so its pages answer as they would there.
    settings.SOCIALACCOUNT_PROVIDERS = {
        "gitlab": {
            "GITLAB_URL": "https://gitlab.example.com",
            "SCOPE": ["read_user"],
            "APPS": [{"client_id": "stagegate-matrix", "secret": "matrix-secret"}],
        }
    }
    clients = {}
    for role, user in people.items():
        clients[role] = Client()
        if user is not None:
            clients[role].force_login(user)
    got, wanted = {}, {}
    for request in MATRIX[route]:
        for confidential, world in worlds.items():
            for role in ROLES:
                key = f"{request.method} {'confidential' if confidential else 'open'} {role}"
                got[key] = call(clients[role], request, world)
                wanted[key] = request.expected(role, confidential)
    assert got == wanted
