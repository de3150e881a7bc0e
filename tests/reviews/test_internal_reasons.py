"""A decision made in one of GitLab's internal notes: it counts for everyone, its reason stays with those who
may see internal notes (the proposal's authors, reviewers, admins) on the pages, in the API and in e-mails."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from proposals.models import Activity
from reviews import services
from reviews.models import Decision, Review, Watch
from tests.reviews.conftest import review_of

pytestmark = pytest.mark.django_db

REASON = "The export leaks INC-4411 customer names."


def decided_in_an_internal_note(proposal, reviewer, kind: str = "changes_requested") -> Review:
    services.review_decide(
        review=review_of(proposal, "data"),
        kind=kind,
        comment=REASON,
        by=reviewer,
        source=Decision.Source.GITLAB,
        gitlab_note_id=101,
        reason_internal=True,
    )
    return review_of(proposal, "data")


def pages(client, proposal, review) -> dict[str, str]:
    urls = {
        "proposal": proposal.get_absolute_url(),
        "review": review.get_absolute_url(),
        "gates": reverse("reviews:gates", args=[proposal.pk]),
        "timeline": reverse("proposals:timeline", args=[proposal.pk]),
    }
    shown = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, name
        shown[name] = response.content.decode()
    api = client.get(f"/api/reviews/{review.pk}/")
    assert api.status_code == 200
    shown["api"] = api.content.decode()
    [shown["api decision"]] = api.json()["decisions"]
    return shown


def test_a_reader_who_may_not_see_internal_notes_sees_the_decision_but_not_its_reason(
    client, submitted_proposal, data_reviewer, other_author
):
    review = decided_in_an_internal_note(submitted_proposal, data_reviewer)
    assert review.status == Review.Status.CHANGES_REQUESTED  # the decision counts for everyone
    client.force_login(other_author)
    shown = pages(client, submitted_proposal, review)
    for name, text in shown.items():
        assert "INC-4411" not in str(text), name
    assert "The reason was given in an internal note on GitLab" in shown["proposal"]
    assert "Changes requested" in shown["review"] and "internal note" in shown["review"]
    assert shown["api decision"]["comment"] == "" and shown["api decision"]["reason_internal"] is True
    assert shown["api decision"]["kind"] == "changes_requested"


@pytest.mark.parametrize("who", ["author", "data_reviewer", "admin_user"])
def test_the_authors_reviewers_and_admins_read_the_reason_marked_as_internal(
    client, submitted_proposal, data_reviewer, who, request
):
    review = decided_in_an_internal_note(submitted_proposal, data_reviewer)
    client.force_login(request.getfixturevalue(who))
    shown = pages(client, submitted_proposal, review)
    for name in ("proposal", "review", "gates"):
        assert REASON in shown[name], name
        assert "Given in an internal note on GitLab" in shown[name], name
    assert shown["api decision"]["comment"] == REASON
    # Nobody reads it on the timeline: every reader of the proposal reads that.
    assert "INC-4411" not in shown["timeline"]


def test_a_not_applicable_reason_from_an_internal_note_is_kept_the_same_way(
    client, submitted_proposal, data_reviewer, other_author, author
):
    review = decided_in_an_internal_note(submitted_proposal, data_reviewer, kind="not_applicable")
    assert review.status == Review.Status.NOT_APPLICABLE
    client.force_login(other_author)
    page = client.get(submitted_proposal.get_absolute_url()).content.decode()
    assert "Not applicable" in page and "INC-4411" not in page
    client.force_login(author)
    assert REASON in client.get(submitted_proposal.get_absolute_url()).content.decode()


def test_a_decision_made_in_stagegate_shows_its_reason_to_every_reader_as_before(
    client, submitted_proposal, data_reviewer, other_author
):
    services.review_decide(
        review=review_of(submitted_proposal, "data"), kind="changes_requested", comment=REASON, by=data_reviewer
    )
    client.force_login(other_author)
    shown = pages(client, submitted_proposal, review_of(submitted_proposal, "data"))
    assert REASON in shown["proposal"] and REASON in shown["review"] and REASON in shown["timeline"]
    assert shown["api decision"]["comment"] == REASON and shown["api decision"]["reason_internal"] is False
    assert "Given in an internal note" not in shown["proposal"]


def test_the_authors_e_mail_carries_the_reason_and_a_watchers_does_not(
    submitted_proposal, data_reviewer, other_author, author, django_capture_on_commit_callbacks
):
    Watch.objects.get_or_create(proposal=submitted_proposal, user=other_author)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decided_in_an_internal_note(submitted_proposal, data_reviewer)
    [to_author] = [message for message in mail.outbox if author.email in message.to]
    [to_watcher] = [message for message in mail.outbox if other_author.email in message.to]
    assert other_author.email not in to_author.to
    assert REASON in to_author.body
    assert "INC-4411" not in to_watcher.body
    assert "The reason was given in an internal note on GitLab." in to_watcher.body
    assert to_watcher.subject == to_author.subject  # the subject names no reason
    entry = Activity.objects.filter(proposal=submitted_proposal, kind=Activity.Kind.REVIEW).latest("id")
    assert "INC-4411" not in entry.message and "internal note" in entry.message


def test_an_approval_from_an_internal_note_has_no_reason_to_keep(submitted_proposal, data_reviewer):
    services.review_decide(
        review=review_of(submitted_proposal, "data"), kind="approved", by=data_reviewer, reason_internal=True
    )
    assert review_of(submitted_proposal, "data").current_decision.reason_internal is False
