"""`/orr` commands in GitLab comments: parse them, then decide with the same rules as the browser.

    /orr approve data
    /orr changes legal Please name the data processing agreement.
    /orr na cost Hosted by the vendor; no infrastructure of ours.
    /orr na legal until 2027-03-31 Covered by the pilot agreement until then.

The GitLab sync calls `review_decide_from_comment` from its note-hook handling and posts
every reply it returns as a comment on the issue (in the note's thread when the note is internal,
so the reply is internal too). A decision made in an internal note keeps its reason with those who
may see internal notes.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from accounts.gitlab import user_for_gitlab_id
from proposals.markdown.lines import TEXT, LineWalker
from proposals.models import Proposal
from reviews.models import Decision, GitLabAccount, OrrArea, Review
from reviews.services import ReviewRefused, review_decide

VERBS = {
    "approve": Decision.Kind.APPROVED,
    "approved": Decision.Kind.APPROVED,
    "lgtm": Decision.Kind.APPROVED,
    "changes": Decision.Kind.CHANGES_REQUESTED,
    "request-changes": Decision.Kind.CHANGES_REQUESTED,
    "na": Decision.Kind.NOT_APPLICABLE,
    "n/a": Decision.Kind.NOT_APPLICABLE,
    "not-applicable": Decision.Kind.NOT_APPLICABLE,
}

# Words people use for the areas besides their keys and numbers.
AREA_ALIASES = {
    "work": "work_estimate",
    "estimate": "work_estimate",
    "skills": "work_estimate",
    "staffing": "work_estimate",
    "work-estimate": "work_estimate",
    "scalability": "cost",
    "reliability": "cost",
    "ethics": "legal",
    "ethical": "legal",
}

COMMAND_LINE = re.compile(r"[ \t]*/orr\b(?P<rest>.*)", re.IGNORECASE)
USAGE = (
    "Usage: `/orr approve <area>`, `/orr changes <area> <comment>` or "
    "`/orr na <area> [until YYYY-MM-DD] <justification>`."
)
# A waiver's expiry, written right after the area: `until 2027-03-31`.
UNTIL = re.compile(r"until\s+(?P<date>\S+)\s*(?P<rest>.*)", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class OrrCommand:
    line: str
    kind: str = ""  # a Decision.Kind value
    area: str = ""  # an area key as written, resolved later against OrrArea
    comment: str = ""
    waiver_expires_on: datetime.date | None = None
    error: str = ""  # why the line is not a command we understand


def _given_lines(body: str) -> list[str]:
    """The comment's lines outside code fences, HTML comments and quotes: a command there is being talked
    about, not given."""
    return [
        line for line, where, _ in LineWalker(body.splitlines()) if where == TEXT and not line.lstrip().startswith(">")
    ]


def parse_orr_commands(body: str) -> list[OrrCommand]:
    """Every `/orr` line of a comment, in order; a line we cannot read carries an error instead."""
    commands = []
    for match in filter(None, map(COMMAND_LINE.match, _given_lines(body))):
        line = match.group(0).strip()
        words = match.group("rest").split(maxsplit=2)
        if len(words) < 2:
            commands.append(OrrCommand(line=line, error=f"“{line}” names no decision or area. {USAGE}"))
            continue
        verb, area = words[0].lower(), words[1].lower().rstrip(":,")
        comment = words[2].strip() if len(words) > 2 else ""
        kind = VERBS.get(verb)
        if kind is None:
            commands.append(OrrCommand(line=line, error=f"“{verb}” is not an ORR decision. {USAGE}"))
            continue
        expires = None
        until = UNTIL.fullmatch(comment)
        if until is not None:
            try:
                expires = datetime.date.fromisoformat(until.group("date"))
            except ValueError:
                commands.append(OrrCommand(line=line, error=f"“{until.group('date')}” is not a date (YYYY-MM-DD)."))
                continue
            comment = until.group("rest").strip()
        commands.append(
            OrrCommand(
                line=line, kind=kind, area=AREA_ALIASES.get(area, area), comment=comment, waiver_expires_on=expires
            )
        )
    return commands


def _resolve_area(word: str, areas: list[OrrArea]) -> OrrArea | None:
    for area in areas:
        if word in {area.key, str(area.number), area.key.replace("_", "-")}:
            return area
    return None


def _resolve_user(*, gitlab_user_id: int | None, gitlab_username: str):
    """Who wrote the comment: by GitLab user id (signed in with GitLab, or mapped in the admin).

    A username alone only matches a mapping without an id: GitLab usernames can be renamed and reused.
    """
    if gitlab_user_id is not None:
        user = user_for_gitlab_id(gitlab_user_id)
        if user is not None:
            return user
    accounts = GitLabAccount.objects.select_related("user").filter(user__is_active=True)
    account = None
    if gitlab_user_id is not None:
        account = accounts.filter(gitlab_user_id=gitlab_user_id).first()
    if account is None and gitlab_username:
        account = accounts.filter(gitlab_username__iexact=gitlab_username, gitlab_user_id__isnull=True).first()
    return account.user if account is not None else None


def review_decide_from_comment(
    *,
    proposal: Proposal,
    gitlab_user_id: int | None,
    gitlab_username: str,
    note_body: str,
    note_id: int,
    posted_at: datetime.datetime | None = None,
    internal: bool = False,
) -> list[str]:
    """Apply the `/orr` commands of one GitLab comment; return the replies to post (empty: no command).

    The same rules as in the browser apply (own proposal, wrong area, state, required comment).
    A comment delivered twice decides once: each decision remembers its note. A decision applies to
    the answer as it was when the comment was posted (`posted_at`, GitLab's `created_at`): an answer
    changed since is refused, as the browser refuses a decision on text that changed while read.
    A command in an internal note (``internal``) decides for everyone, but its reason was written for
    those who may see internal notes and stays with them (`Decision.reason_for`); the replies name no reason.
    """
    commands = parse_orr_commands(note_body)
    if not commands:
        return []
    mention = f"@{gitlab_username}" if gitlab_username else "Someone"
    user = _resolve_user(gitlab_user_id=gitlab_user_id, gitlab_username=gitlab_username)
    if user is None:
        return [f"{mention}: Stagegate does not know your GitLab account, so `/orr` commands from it are refused."]

    areas = list(OrrArea.objects.order_by("number"))
    replies = []
    for command in commands:
        if command.error:
            replies.append(f"{mention}: {command.error}")
            continue
        area = _resolve_area(command.area, areas)
        if area is None:
            known = ", ".join(f"`{a.key}`" for a in areas)
            replies.append(f"{mention}: “{command.area}” is not an ORR area (one of {known}).")
            continue
        review = Review.objects.filter(proposal=proposal, area=area).first()
        if review is None:
            replies.append(f"{mention}: this proposal has no review for “{area.title}”.")
            continue
        if Decision.objects.filter(review=review, gitlab_note_id=note_id).exists():
            continue  # a redelivered comment: already decided, already answered
        if posted_at is not None and review.answer_updated_at is not None and review.answer_updated_at > posted_at:
            replies.append(
                f"{mention}: refused for “{area.title}”: the author changed the answer after your comment "
                f"({review.answer_updated_at.astimezone(datetime.UTC):%Y-%m-%d %H:%M} UTC); "
                "read the new answer and decide again. Nothing was recorded."
            )
            continue
        try:
            with transaction.atomic():
                decision = review_decide(
                    review=review,
                    kind=command.kind,
                    comment=command.comment,
                    # The answer checked above: one changed in between is refused by review_decide.
                    answer_sha256_read=review.answer_sha256,
                    waiver_expires_on=command.waiver_expires_on,
                    by=user,
                    source=Decision.Source.GITLAB,
                    gitlab_note_id=note_id,
                    reason_internal=internal,
                )
        except ReviewRefused as refusal:
            replies.append(f"{mention}: refused for “{area.title}”: {refusal} Nothing was recorded.")
            continue
        except IntegrityError:
            continue  # the same note is being applied concurrently
        until = f" until {decision.waiver_expires_on:%Y-%m-%d}" if decision.waiver_expires_on else ""
        replies.append(
            f"{mention} recorded “{area.title}”: {decision.get_kind_display().lower()}{until}"
            + (" (as admin)." if decision.decided_as_admin else ".")
        )
    return replies
