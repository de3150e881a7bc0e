import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from proposals import workflow
from proposals.models import Activity, Proposal
from reviews import notifications, services
from reviews.models import Decision, Notification, Review, ReviewComment, answer_sha256
from reviews.status import orr_reasons
from tests.factories import ProposalFactory, UserFactory
from tests.reviews.conftest import ANSWERS, review_of


def decide(review, by, kind="approved", comment="", **kwargs):
    return services.review_decide(review=review, kind=kind, by=by, comment=comment, **kwargs)


def save_answer(review, by, text):
    review.refresh_from_db()
    return services.review_answer_save(review=review, answer=text, base_sha256=review.answer_sha256, by=by)


@pytest.mark.django_db
def test_a_new_proposal_gets_one_review_per_orr_area(author, areas):
    proposal = ProposalFactory(owner=author)
    assert sorted(proposal.reviews.values_list("area__key", flat=True)) == sorted(areas)
    assert set(proposal.reviews.values_list("status", flat=True)) == {Review.Status.NOT_STARTED}


@pytest.mark.django_db
def test_submitting_assigns_every_area_with_a_due_date_and_mails_its_reviewers(
    answered_proposal, author, data_reviewer, legal_reviewer, areas, django_capture_on_commit_callbacks, settings
):
    areas["data"].service_level_days = 3
    areas["data"].save()
    with django_capture_on_commit_callbacks(execute=True):
        services.review_submit_for_review(proposal=answered_proposal, by=author)
    answered_proposal.refresh_from_db()
    assert answered_proposal.state == Proposal.State.IN_REVIEW
    data = review_of(answered_proposal, "data")
    assert data.status == Review.Status.IN_REVIEW
    assert data.due_on == data.assigned_at.date() + datetime.timedelta(days=3)
    to_data = [m for m in mail.outbox if data_reviewer.email in m.to]
    assert len(to_data) == 1
    assert f"{settings.SITE_URL}/reviews/{data.pk}/" in to_data[0].body
    assert "Data Limitation" in to_data[0].subject
    # The author is never mailed as a reviewer, and areas without reviewers mail nobody.
    assert all(author.email not in m.to for m in mail.outbox)
    assert answered_proposal.activities.filter(kind=Activity.Kind.STATE).exists()


@pytest.mark.django_db
def test_a_named_reviewer_alone_is_told_when_the_review_is_assigned_to_them(
    answered_proposal, author, make_reviewer, admin_user, django_capture_on_commit_callbacks
):
    first = make_reviewer("data", "rev_first")
    second = make_reviewer("data", "rev_second")
    services.review_assign(review=review_of(answered_proposal, "data"), reviewer=second, by=admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.review_submit_for_review(proposal=answered_proposal, by=author)
    recipients = {address for m in mail.outbox for address in m.to}
    assert second.email in recipients
    assert first.email not in recipients


@pytest.mark.django_db
def test_assigning_to_someone_outside_the_area_or_to_the_author_is_refused(
    answered_proposal, author, legal_reviewer, areas
):
    review = review_of(answered_proposal, "data")
    lead = areas["data"].lead
    with pytest.raises(services.ReviewRefused):
        services.review_assign(review=review, reviewer=legal_reviewer, by=lead)
    with pytest.raises(PermissionDenied):
        services.review_assign(review=review, reviewer=None, by=legal_reviewer)


@pytest.mark.django_db
def test_approval_records_who_when_and_the_hash_of_exactly_the_answer_signed(
    submitted_proposal, data_reviewer, author, django_capture_on_commit_callbacks
):
    review = review_of(submitted_proposal, "data")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decision = decide(review, data_reviewer, answer_sha256_read=review.answer_sha256)
    review.refresh_from_db()
    assert review.status == Review.Status.APPROVED
    assert review.current_decision == decision
    assert decision.decided_by == data_reviewer
    assert decision.decided_as_admin is False
    assert decision.answer_sha256 == answer_sha256(ANSWERS["data"])
    assert decision.answer_text == ANSWERS["data"]
    entry = submitted_proposal.activities.filter(kind=Activity.Kind.REVIEW).first()
    assert "approved" in entry.message and "Data Limitation" in entry.message
    # The author hears of the decision, with a link to the review.
    assert [m.to for m in mail.outbox] == [[author.email]]
    assert f"/reviews/{review.pk}/" in mail.outbox[0].body


@pytest.mark.django_db
def test_nobody_decides_a_review_of_their_own_proposal_not_even_an_admin(areas, make_reviewer):
    author_and_reviewer = make_reviewer("data", "selfie")
    proposal = ProposalFactory(owner=author_and_reviewer)
    Review.objects.filter(proposal=proposal).update(answer="An answer.")
    services.review_submit_for_review(proposal=proposal, by=author_and_reviewer)
    with pytest.raises(services.DecisionForbidden, match="own proposal"):
        decide(review_of(proposal, "data"), author_and_reviewer)
    admin_author = UserFactory(username="admin_author", groups=["admin"])
    own = ProposalFactory(owner=admin_author)
    Review.objects.filter(proposal=own).update(answer="An answer.")
    services.review_submit_for_review(proposal=own, by=admin_author)
    with pytest.raises(services.DecisionForbidden):
        decide(review_of(own, "data"), admin_author)
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_a_reviewer_of_another_area_cannot_decide_this_one(submitted_proposal, legal_reviewer):
    with pytest.raises(services.DecisionForbidden, match="Only the reviewers of “Data Limitation”"):
        decide(review_of(submitted_proposal, "data"), legal_reviewer)
    assert review_of(submitted_proposal, "data").status == Review.Status.IN_REVIEW


@pytest.mark.django_db
def test_an_admin_may_decide_any_area_and_is_recorded_as_admin(submitted_proposal, admin_user):
    decision = decide(review_of(submitted_proposal, "legal"), admin_user)
    assert decision.decided_as_admin is True
    assert "as admin" in submitted_proposal.activities.filter(kind=Activity.Kind.REVIEW).first().message


@pytest.mark.django_db
def test_nothing_is_decided_before_the_author_submits(answered_proposal, data_reviewer):
    with pytest.raises(services.ReviewRefused, match="not submitted"):
        decide(review_of(answered_proposal, "data"), data_reviewer)


@pytest.mark.django_db
def test_requesting_changes_needs_a_comment_and_not_applicable_needs_a_justification(submitted_proposal, data_reviewer):
    review = review_of(submitted_proposal, "data")
    with pytest.raises(services.ReviewRefused, match="comment is required"):
        decide(review, data_reviewer, kind="changes_requested", comment="  ")
    with pytest.raises(services.ReviewRefused, match="justification is required"):
        decide(review, data_reviewer, kind="not_applicable")
    with pytest.raises(services.ReviewRefused, match="in the future"):
        decide(
            review,
            data_reviewer,
            kind="not_applicable",
            comment="No data used",
            waiver_expires_on=datetime.date(2000, 1, 1),
        )
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_a_decision_cannot_be_edited_or_deleted_only_superseded(submitted_proposal, data_reviewer):
    review = review_of(submitted_proposal, "data")
    first = decide(review, data_reviewer)
    first.comment = "rewritten history"
    with pytest.raises(TypeError):
        first.save()
    with pytest.raises(TypeError):
        first.delete()
    with pytest.raises(TypeError):
        Decision.objects.filter(pk=first.pk).update(kind="changes_requested")
    with pytest.raises(TypeError):
        Decision.objects.filter(pk=first.pk).delete()
    second = decide(
        review_of(submitted_proposal, "data"),
        data_reviewer,
        kind="changes_requested",
        comment="Name the retention period.",
    )
    review.refresh_from_db()
    assert review.current_decision == second
    assert review.status == Review.Status.CHANGES_REQUESTED
    assert list(review.decisions.all()) == [second, first]
    assert Decision.objects.get(pk=first.pk).comment == ""


@pytest.mark.django_db
def test_a_decision_on_an_answer_that_changed_while_reading_is_refused(submitted_proposal, data_reviewer, author):
    review = review_of(submitted_proposal, "data")
    read = review.answer_sha256
    save_answer(review, author, "A newer answer.")
    with pytest.raises(services.ReviewRefused, match="changed while you were reading"):
        decide(review_of(submitted_proposal, "data"), data_reviewer, answer_sha256_read=read)


@pytest.mark.django_db
def test_changing_a_signed_answer_makes_the_sign_off_stale_and_tells_the_reviewer(
    submitted_proposal, data_reviewer, author, django_capture_on_commit_callbacks
):
    decide(review_of(submitted_proposal, "data"), data_reviewer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = save_answer(review_of(submitted_proposal, "data"), author, ANSWERS["data"] + "\nAlso support tickets.")
    assert result.became_stale
    review = review_of(submitted_proposal, "data")
    assert review.status == Review.Status.STALE
    assert [m.to for m in mail.outbox] == [[data_reviewer.email]]
    assert "Sign-off stale" in mail.outbox[0].subject
    assert services.answer_diff_since_decision(review) == [
        (" ", ANSWERS["data"]),
        ("+", "Also support tickets."),
    ]
    assert "is stale" in submitted_proposal.activities.filter(kind=Activity.Kind.REVIEW).first().message
    assert "stale" in " ".join(orr_reasons(submitted_proposal))


@pytest.mark.django_db
def test_restoring_exactly_the_signed_text_restores_the_sign_off(submitted_proposal, data_reviewer, author):
    decide(review_of(submitted_proposal, "data"), data_reviewer)
    save_answer(review_of(submitted_proposal, "data"), author, "Something else")
    save_answer(review_of(submitted_proposal, "data"), author, ANSWERS["data"])
    assert review_of(submitted_proposal, "data").status == Review.Status.APPROVED


@pytest.mark.django_db
def test_an_approved_proposal_goes_back_into_review_when_a_signed_answer_changes(
    submitted_proposal, data_reviewer, author
):
    decide(review_of(submitted_proposal, "data"), data_reviewer)
    Proposal.objects.filter(pk=submitted_proposal.pk).update(state=Proposal.State.APPROVED)
    save_answer(review_of(submitted_proposal, "data"), author, "Changed after approval")
    submitted_proposal.refresh_from_db()
    assert submitted_proposal.state == Proposal.State.IN_REVIEW


@pytest.mark.django_db
def test_an_answer_saved_over_someone_elses_newer_text_is_refused_with_both_texts(
    answered_proposal, author, admin_user
):
    review = review_of(answered_proposal, "cost")
    loaded = review.answer_sha256
    save_answer(review, admin_user, "The admin's figure.")
    with pytest.raises(services.AnswerConflict) as conflict:
        services.review_answer_save(review=review, answer="The author's figure.", base_sha256=loaded, by=author)
    assert conflict.value.current == "The admin's figure."
    assert conflict.value.submitted == "The author's figure."


@pytest.mark.django_db
def test_only_the_author_or_an_admin_edits_an_answer(answered_proposal, data_reviewer, other_author):
    for intruder in (data_reviewer, other_author):
        with pytest.raises(PermissionDenied):
            save_answer(review_of(answered_proposal, "data"), intruder, "Not mine to write.")
    assert review_of(answered_proposal, "data").answer == ANSWERS["data"]


@pytest.mark.django_db
def test_autosaving_an_answer_records_one_timeline_entry_per_burst(answered_proposal, author):
    for text in ("One", "One two", "One two three"):
        save_answer(review_of(answered_proposal, "model"), author, text)
    assert answered_proposal.activities.filter(kind=Activity.Kind.EDITED, data__orr_area="model").count() == 1


@pytest.mark.django_db
def test_resubmitting_after_changes_requested_puts_the_area_back_in_review_and_tells_the_reviewer(
    submitted_proposal, data_reviewer, author, django_capture_on_commit_callbacks
):
    decide(review_of(submitted_proposal, "data"), data_reviewer, kind="changes_requested", comment="Retention?")
    with pytest.raises(workflow.GateClosed):
        services.review_submit_for_review(proposal=Proposal.objects.get(pk=submitted_proposal.pk), by=data_reviewer)
    save_answer(review_of(submitted_proposal, "data"), author, ANSWERS["data"] + " Kept 30 days.")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        resubmitted = services.review_submit_for_review(proposal=submitted_proposal, by=author)
    assert [r.area.key for r in resubmitted] == ["data"]
    assert review_of(submitted_proposal, "data").status == Review.Status.IN_REVIEW
    assert [m.to for m in mail.outbox] == [[data_reviewer.email]]
    assert "resubmitted" in mail.outbox[0].subject


@pytest.mark.django_db
def test_resubmitting_with_nothing_to_resubmit_is_refused(submitted_proposal, author):
    with pytest.raises(workflow.GateClosed) as closed:
        services.review_submit_for_review(proposal=submitted_proposal, by=author)
    assert closed.value.reasons == ["Already in review: nothing waits for a resubmission"]


@pytest.mark.django_db
def test_a_waiver_expires_and_the_area_needs_a_decision_again(
    submitted_proposal, data_reviewer, author, django_capture_on_commit_callbacks
):
    review = review_of(submitted_proposal, "data")
    expiry = timezone.localdate() + datetime.timedelta(days=30)
    decide(review, data_reviewer, kind="not_applicable", comment="No data until GA.", waiver_expires_on=expiry)
    assert services.reviews_expire_waivers(today=expiry) == []
    assert not any("Data" in r for r in orr_reasons(submitted_proposal, today=expiry))
    later = expiry + datetime.timedelta(days=1)
    # The gate does not wait for the daily task to notice the expiry.
    assert any("Data Limitation" in r and "waiver" in r for r in orr_reasons(submitted_proposal, today=later))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        expired = services.reviews_expire_waivers(today=later)
    assert [r.pk for r in expired] == [review.pk]
    assert review_of(submitted_proposal, "data").status == Review.Status.WAIVER_EXPIRED
    assert {a for m in mail.outbox for a in m.to} == {data_reviewer.email, author.email}


@pytest.mark.django_db
def test_the_digest_reminds_of_due_and_overdue_reviews_and_escalates_overdue_ones_once(
    submitted_proposal, data_reviewer, legal_reviewer, areas, django_capture_on_commit_callbacks
):
    data = review_of(submitted_proposal, "data")
    today = data.due_on + datetime.timedelta(days=1)  # data is overdue by a day
    Review.objects.filter(pk=review_of(submitted_proposal, "legal").pk).update(
        due_on=today + datetime.timedelta(days=10)
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = services.reviews_send_digest(today=today)
        again = services.reviews_send_digest(today=today)
    digests = [m for m in mail.outbox if "due or overdue" in m.subject]
    escalations = [m for m in mail.outbox if m.subject.startswith("[Stagegate] Overdue")]
    assert {tuple(m.to) for m in digests} >= {(data_reviewer.email,)}
    assert (legal_reviewer.email,) not in {tuple(m.to) for m in digests}  # not due for ten days
    assert "overdue since" in next(m for m in digests if data_reviewer.email in m.to).body
    assert [m.to for m in escalations if "Data Limitation" in m.subject] == [[areas["data"].lead.email]]
    assert result.digests >= 1 and result.escalations >= 1
    assert again.digests == 0 and again.escalations == 0


@pytest.mark.django_db
def test_a_mail_server_that_is_down_delays_the_mail_never_the_decision(
    submitted_proposal, data_reviewer, author, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.reviews.broken_mail.Backend"
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        decision = decide(review_of(submitted_proposal, "data"), data_reviewer)
    assert Decision.objects.get(pk=decision.pk).kind == Decision.Kind.APPROVED
    waiting = Notification.objects.get(event=Notification.Event.DECIDED)
    assert waiting.sent_at is None and "refused" in waiting.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications.notification_deliver(notification_id=waiting.pk)
    waiting.refresh_from_db()
    assert waiting.sent_at is not None
    assert [m.to for m in mail.outbox] == [[author.email]]


@pytest.mark.django_db
def test_the_sweep_sends_what_the_broker_never_delivered(submitted_proposal, data_reviewer, author):
    from reviews.tasks import send_pending_notifications

    decide(review_of(submitted_proposal, "data"), data_reviewer)  # on-commit callbacks never run here
    mail.outbox.clear()
    Notification.objects.update(created_at=Notification.objects.first().created_at - datetime.timedelta(minutes=5))
    pending = notifications.notifications_pending().count()
    assert pending >= 1
    assert send_pending_notifications() == pending
    assert notifications.notifications_pending().count() == 0
    assert [author.email] in [m.to for m in mail.outbox]


@pytest.mark.django_db
def test_decisions_post_to_the_areas_slack_webhook(
    submitted_proposal, data_reviewer, areas, slack_server, django_capture_on_commit_callbacks
):
    areas["data"].slack_webhook_url = slack_server.url
    areas["data"].save()
    with django_capture_on_commit_callbacks(execute=True):
        decide(review_of(submitted_proposal, "data"), data_reviewer)
    assert len(slack_server.posts) == 1
    assert "Data Limitation: approved" in slack_server.posts[0]["text"]
    assert f"/reviews/{review_of(submitted_proposal, 'data').pk}/" in slack_server.posts[0]["text"]


@pytest.mark.django_db
def test_the_thread_keeps_the_discussion_and_tells_the_other_side(
    submitted_proposal, data_reviewer, author, other_author, django_capture_on_commit_callbacks
):
    review = review_of(submitted_proposal, "data")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.review_comment_add(review=review, body="Which projects opted in?", by=data_reviewer)
        services.review_comment_add(review=review, body="The pilot group.", by=author)
    assert list(ReviewComment.objects.values_list("body", flat=True)) == [
        "Which projects opted in?",
        "The pilot group.",
    ]
    assert [m.to for m in mail.outbox] == [[author.email], [data_reviewer.email]]
    with pytest.raises(PermissionDenied):
        services.review_comment_add(review=review, body="Drive-by", by=other_author)


@pytest.mark.django_db
def test_the_daily_task_expires_waivers_and_sends_the_digest(submitted_proposal, data_reviewer):
    from reviews import tasks

    decide(
        review_of(submitted_proposal, "data"),
        data_reviewer,
        kind="not_applicable",
        comment="Only public data.",
        waiver_expires_on=timezone.localdate() + datetime.timedelta(days=1),
    )
    later = timezone.localdate() + datetime.timedelta(days=30)
    result = tasks.daily_reviews.delay(later.isoformat()).get()
    assert result["waivers_expired"] == 1
    assert result["digests"] >= 1 and result["escalations"] >= 1
    assert review_of(submitted_proposal, "data").status == Review.Status.WAIVER_EXPIRED


@pytest.mark.django_db
def test_a_broker_outage_delays_the_mail_never_the_decision(
    submitted_proposal, data_reviewer, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from reviews import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_notification, "apply_async", broker_down)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decide(review_of(submitted_proposal, "data"), data_reviewer)
    assert review_of(submitted_proposal, "data").status == Review.Status.APPROVED
    assert mail.outbox == []
    assert Notification.objects.filter(event=Notification.Event.DECIDED, sent_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_the_diff_since_the_sign_off_shows_removed_and_added_lines(submitted_proposal, data_reviewer, author):
    save_answer(review_of(submitted_proposal, "data"), author, "Opted-in projects.\nKept 90 days.")
    decide(review_of(submitted_proposal, "data"), data_reviewer)
    save_answer(review_of(submitted_proposal, "data"), author, "Opted-in projects.\nKept 30 days.")
    assert services.answer_diff_since_decision(review_of(submitted_proposal, "data")) == [
        (" ", "Opted-in projects."),
        ("-", "Kept 90 days."),
        ("+", "Kept 30 days."),
    ]


@pytest.mark.django_db
def test_delivered_notifications_are_pruned_after_the_retention_period(submitted_proposal, data_reviewer):
    decide(review_of(submitted_proposal, "data"), data_reviewer)
    notification = Notification.objects.get(event=Notification.Event.DECIDED)
    assert notifications.notification_deliver(notification_id=notification.pk)
    later = timezone.now() + notifications.NOTIFICATION_RETENTION + datetime.timedelta(days=1)
    assert notifications.notifications_prune(now=timezone.now()) == 0
    assert notifications.notifications_prune(now=later) >= 1
    assert not Notification.objects.filter(pk=notification.pk).exists()


@pytest.mark.django_db
def test_a_confidential_proposal_reaches_only_people_who_may_read_it(
    answered_proposal, author, make_reviewer, django_capture_on_commit_callbacks
):
    role_reviewer = make_reviewer("data", "with_role")
    group_only = UserFactory(username="group_only", groups=["author", "orr data"])
    Proposal.objects.filter(pk=answered_proposal.pk).update(confidential=True)
    answered_proposal.refresh_from_db()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.review_submit_for_review(proposal=answered_proposal, by=author)
    recipients = {address for m in mail.outbox for address in m.to}
    assert role_reviewer.email in recipients and group_only.email not in recipients
    review = review_of(answered_proposal, "data")
    with pytest.raises(services.DecisionForbidden, match="confidential"):
        decide(review, group_only)
    with pytest.raises(services.ReviewRefused, match="confidential"):
        services.review_assign(review=review, reviewer=group_only, by=UserFactory(username="boss", groups=["admin"]))
    digest = services.reviews_send_digest(today=review.due_on)
    assert digest.digests == 1  # the reviewer with the role; not the group member without it
