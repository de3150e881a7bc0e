"""The proposal's discussion both ways, against the fake GitLab over real HTTP: Stagegate comments become
signed notes (once, however often the worker retries), GitLab's threads appear whole, replies keep their
thread, edits and deletions travel both ways, internal notes stay with members, mentions tell readers."""

from __future__ import annotations

import time

import pytest
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from gitlab_fake.state import run_quick_actions
from gitlab_sync import discussion, inbound
from gitlab_sync.failures import RetryLater
from gitlab_sync.models import GitLabConnection, IssueComment
from reviews.models import InAppNotification, Watch
from tests.factories import ProposalFactory

from .conftest import issue_of

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def page(client, proposal) -> str:
    response = client.get(proposal.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def user_notes(issue):
    return [note for note in sorted(issue.notes.values(), key=lambda n: n.id) if not note.system]


def deliver_all() -> None:
    """What the worker does: every comment waiting for GitLab is delivered."""
    for comment_id in IssueComment.objects.filter(posting="pending").values_list("pk", flat=True):
        discussion.comment_deliver(comment_id)
    for comment_id in IssueComment.objects.filter(edit_pending=True).values_list("pk", flat=True):
        discussion.comment_deliver(comment_id)


def test_a_comment_posted_from_the_page_appears_without_reload_and_reaches_gitlab_signed(
    fake, linked, author_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = author_client.post(
            f"/gitlab/proposals/{linked.pk}/discussion/comment/", {"body": "Can we ship **this** in 17.2?"}, **HTMX
        )
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="section-card discussion" id="discussion"')
    assert "<strong>this</strong>" in html and "Posting to GitLab…" in html
    assert len(callbacks) == 1  # the worker is asked to post it

    deliver_all()
    [note] = user_notes(issue_of(fake, linked))
    assert note.author.username == fake.bot.username
    assert note.body.startswith("Can we ship **this** in 17.2?\n\n— ada via Stagegate\n\n<!-- stagegate:comment=")
    comment = IssueComment.objects.get(proposal=linked)
    assert (comment.gitlab_note_id, comment.posting) == (note.id, "posted")
    assert "via Stagegate" in page(author_client, linked) and "Posting to GitLab…" not in page(author_client, linked)


def test_the_note_echo_does_not_duplicate_the_comment(fake, linked, author):
    discussion.comment_post(proposal=linked, body="Once only", by=author)
    deliver_all()
    inbound.pull_comments(linked.pk)
    inbound.pull_comments(linked.pk)
    [comment] = IssueComment.objects.filter(proposal=linked)
    assert comment.body == "Once only" and comment.written_by == author


def test_a_post_whose_answer_was_lost_is_not_posted_twice(fake, linked, author, settings):
    comment = discussion.comment_post(proposal=linked, body="Posted while GitLab was slow", by=author)
    settings.GITLAB_TIMEOUT = 0.5
    from gitlab_sync import client

    client._client.cache_clear()
    fake.fail("discussions.create", status=None, hang=1.5)  # GitLab takes it, the answer comes too late
    with pytest.raises(RetryLater):
        discussion.comment_deliver(comment.pk)
    issue = issue_of(fake, linked)
    deadline = time.monotonic() + 30
    while not user_notes(issue) and time.monotonic() < deadline:
        time.sleep(0.05)  # waits for the fake to finish the slow request; asserts nothing by itself
    assert len(user_notes(issue)) == 1

    discussion.comment_deliver(comment.pk)  # the retry
    assert len(user_notes(issue)) == 1
    comment.refresh_from_db()
    assert comment.posting == "posted" and comment.gitlab_note_id == user_notes(issue)[0].id


def test_a_gitlab_comment_appears_in_full_as_a_thread_and_a_reply_keeps_it(fake, linked, author_client):
    iid = issue_of(fake, linked).iid
    long_text = "We measured it. " + "Reviewers read every thread from the top. " * 40
    first = fake.human_comment(iid, long_text)
    inbound.pull_comments(linked.pk)
    html = page(author_client, linked)
    assert long_text.strip() in html  # whole, not a 300-character line

    head = IssueComment.objects.get(gitlab_note_id=first.id)
    author_client.post(
        f"/gitlab/proposals/{linked.pk}/discussion/comment/", {"body": "Thanks, noted", "reply_to": head.pk}, **HTMX
    )
    deliver_all()
    fake.human_reply(iid, first.discussion_id, "And the second half?")
    inbound.pull_comments(linked.pk)

    notes = user_notes(issue_of(fake, linked))
    assert [n.discussion_id for n in notes] == [first.discussion_id] * 3
    [thread] = discussion.threads_for(linked, linked.owner)
    assert [c.body.split(" ")[0] for c in thread.comments] == ["We", "Thanks,", "And"]
    html = page(author_client, linked)
    assert html.index("We measured it.") < html.index("Thanks, noted") < html.index("And the second half?")
    assert html.count('class="thread"') == 1


def test_a_reply_to_a_comment_not_yet_on_gitlab_waits_for_its_thread(fake, linked, author, reviewer):
    head = discussion.comment_post(proposal=linked, body="First", by=author)
    reply = discussion.comment_post(proposal=linked, body="Second", by=reviewer, reply_to=head)
    with pytest.raises(RetryLater):
        discussion.comment_deliver(reply.pk)
    discussion.comment_deliver(head.pk)
    discussion.comment_deliver(reply.pk)
    first, second = user_notes(issue_of(fake, linked))
    assert first.discussion_id == second.discussion_id
    assert second.body.startswith("Second\n\n— rosalind via Stagegate")


def test_edits_and_deletions_travel_both_ways(fake, linked, author, author_client):
    iid = issue_of(fake, linked).iid
    mine = discussion.comment_post(proposal=linked, body="Draft wording", by=author)
    theirs = fake.human_comment(iid, "A GitLab comment")
    deliver_all()
    inbound.pull_comments(linked.pk)

    author_client.post(f"/gitlab/comments/{mine.pk}/", {"body": "Final wording"}, **HTMX)
    deliver_all()
    note = fake.issue(iid).notes[IssueComment.objects.get(pk=mine.pk).gitlab_note_id]
    assert note.body.startswith("Final wording\n\n— ada via Stagegate")

    fake.human_edit_comment(iid, theirs.id, "A GitLab comment, edited")
    inbound.pull_comments(linked.pk)
    assert "A GitLab comment, edited" in page(author_client, linked)

    author_client.post(f"/gitlab/comments/{mine.pk}/", {"delete": "1"}, **HTMX)
    deliver_all()
    assert note.id not in fake.issue(iid).notes
    fake.human_delete_comment(iid, theirs.id)
    inbound.pull_comments(linked.pk)
    html = page(author_client, linked)
    assert "Final wording" not in html and "A GitLab comment, edited" not in html


def test_only_the_writer_edits_a_stagegate_comment_and_gitlab_comments_are_not_editable_here(
    fake, linked, author, client, reviewer
):
    mine = discussion.comment_post(proposal=linked, body="Mine", by=author)
    client.force_login(reviewer)
    assert "Edit or delete" not in page(client, linked)
    client.post(f"/gitlab/comments/{mine.pk}/", {"body": "Hijacked"}, **HTMX)
    mine.refresh_from_db()
    assert mine.body == "Mine"


def test_internal_notes_are_shown_only_to_those_gitlab_would_show_them_to(
    fake, linked, client, working_group_member, reviewer
):
    fake.human_comment(issue_of(fake, linked).iid, "Internal: the customer is Acme", internal=True)
    inbound.pull_comments(linked.pk)
    client.force_login(working_group_member)
    assert "the customer is Acme" not in page(client, linked)
    client.force_login(reviewer)
    html = page(client, linked)
    assert "the customer is Acme" in html and "Internal note" in html


def test_mentions_tell_only_people_who_may_read_the_proposal(fake, author, reviewer, working_group_member):
    from gitlab_sync import outbox

    secret = ProposalFactory(owner=author, title="Secret plan", confidential=True)
    outbox.push(secret.pk)
    discussion.comment_post(proposal=secret, body="@rosalind and @katherine, please look", by=author)
    assert InAppNotification.objects.filter(user=reviewer, url__endswith=f"/proposals/{secret.pk}/#discussion").exists()
    assert not InAppNotification.objects.filter(user=working_group_member).exists()
    assert not InAppNotification.objects.filter(user=author).exists()


def test_a_mention_in_a_gitlab_comment_tells_the_person_in_stagegate(fake, linked, reviewer):
    fake.human_comment(issue_of(fake, linked).iid, "Hey @rosalind, can you check the rollout plan?")
    inbound.pull_comments(linked.pk)
    notice = InAppNotification.objects.get(user=reviewer)
    assert "alice mentioned you" in notice.subject and notice.url.endswith(f"/proposals/{linked.pk}/#discussion")


def test_a_mention_in_an_internal_note_reaches_no_watcher_who_may_not_see_internal_notes(
    fake, linked, reviewer, working_group_member
):
    Watch.objects.create(user=working_group_member, proposal=linked)
    fake.human_comment(issue_of(fake, linked).iid, "@rosalind @katherine the customer is Acme", internal=True)
    inbound.pull_comments(linked.pk)
    assert InAppNotification.objects.filter(user=reviewer).count() == 1
    assert not InAppNotification.objects.filter(user=working_group_member).exists()


def test_a_person_whose_gitlab_token_may_write_posts_as_themselves_unsigned(fake, linked, author, settings):
    settings.SOCIALACCOUNT_STORE_TOKENS = True
    settings.SOCIALACCOUNT_PROVIDERS = {"gitlab": {"SCOPE": ["api"]}}
    account = SocialAccount.objects.create(user=author, provider="gitlab", uid=str(fake.human.id))
    SocialToken.objects.create(account=account, token=fake.human_token)
    comment = discussion.comment_post(proposal=linked, body="In my own name", by=author)
    discussion.comment_deliver(comment.pk)
    [note] = user_notes(issue_of(fake, linked))
    assert note.author.username == "alice" and "via Stagegate" not in note.body


def test_without_a_token_that_may_write_the_bot_posts_signed(fake, linked, author, settings):
    settings.SOCIALACCOUNT_STORE_TOKENS = True
    settings.SOCIALACCOUNT_PROVIDERS = {"gitlab": {"SCOPE": ["read_user"]}}  # the sign-in default
    account = SocialAccount.objects.create(user=author, provider="gitlab", uid=str(fake.human.id))
    SocialToken.objects.create(account=account, token=fake.human_token)
    comment = discussion.comment_post(proposal=linked, body="Signed", by=author)
    discussion.comment_deliver(comment.pk)
    [note] = user_notes(issue_of(fake, linked))
    assert note.author.username == fake.bot.username and "— ada via Stagegate" in note.body


def test_a_person_whose_token_turns_out_read_only_on_gitlab_is_posted_for_by_the_bot(fake, linked, author, settings):
    """Settings asked for the api scope, but the person's token may only read (GitLab's 403
    insufficient_scope): that is their token's matter, not the connection's."""
    settings.SOCIALACCOUNT_STORE_TOKENS = True
    settings.SOCIALACCOUNT_PROVIDERS = {"gitlab": {"SCOPE": ["api"]}}
    account = SocialAccount.objects.create(user=author, provider="gitlab", uid=str(fake.human.id))
    SocialToken.objects.create(account=account, token=fake.human_token)
    fake.set_token_scopes(["read_api"], token=fake.human_token)
    comment = discussion.comment_post(proposal=linked, body="Signed after all", by=author)
    assert discussion.comment_deliver(comment.pk) == "posted"
    [note] = user_notes(issue_of(fake, linked))
    assert note.author.username == fake.bot.username and "— ada via Stagegate" in note.body
    assert GitLabConnection.objects.get().healthy


def test_a_bot_token_that_may_only_read_stops_the_connection_at_the_first_comment(fake, linked, author):
    fake.set_token_scopes(["read_api"])
    comment = discussion.comment_post(proposal=linked, body="Waits for a token that may write", by=author)
    assert discussion.comment_deliver(comment.pk) == "waiting"
    conn = GitLabConnection.objects.get()
    assert conn.blocked_reason == "token_scope" and "api scope" in conn.blocked_message
    fake.clear_request_log()
    assert discussion.comment_deliver(comment.pk) == "waiting"
    assert fake.requests_to() == []  # not tried again until an admin resumes sync


@pytest.mark.parametrize("body", ["", "   ", "bad \x07 bell"])
def test_an_empty_or_invalid_comment_is_refused_and_the_text_kept(fake, linked, author_client, body):
    html = author_client.post(
        f"/gitlab/proposals/{linked.pk}/discussion/comment/", {"body": body}, **HTMX
    ).content.decode()
    assert 'role="alert"' in html
    assert not IssueComment.objects.filter(proposal=linked).exists()


def test_a_reader_who_may_not_read_the_proposal_cannot_comment(fake, author, client, working_group_member):
    secret = ProposalFactory(owner=author, title="Secret plan", confidential=True)
    client.force_login(working_group_member)
    response = client.post(f"/gitlab/proposals/{secret.pk}/discussion/comment/", {"body": "hello"}, **HTMX)
    assert response.status_code == 404
    assert not IssueComment.objects.exists()


def test_the_proposal_page_reads_the_discussion_in_the_same_queries_for_10_or_100_comments(
    fake, linked, author_client, author
):
    iid = issue_of(fake, linked).iid

    def queries_with(count: int) -> int:
        while IssueComment.objects.filter(proposal=linked).count() < count:
            n = IssueComment.objects.filter(proposal=linked).count()
            if n % 2:
                discussion.comment_post(proposal=linked, body=f"Stagegate comment {n}", by=author)
            else:
                fake.human_comment(iid, f"GitLab comment {n}")
                inbound.pull_comments(linked.pk)
        with CaptureQueriesContext(connection) as captured:
            html = page(author_client, linked)
        assert html.count('class="comment') >= count
        return len(captured)

    few, many = queries_with(10), queries_with(100)
    print(f"proposal page queries: {few} with 10 comments, {many} with 100")
    assert few == many


def test_a_comment_deleted_before_the_worker_posted_it_never_reaches_gitlab(fake, linked, author):
    comment = discussion.comment_post(proposal=linked, body="Oops, wrong proposal", by=author)
    discussion.comment_delete(comment=comment, by=author)
    deliver_all()
    assert user_notes(issue_of(fake, linked)) == []
    comment.refresh_from_db()
    assert not comment.edit_pending and comment.gitlab_note_id is None


def test_a_comment_edited_before_the_worker_posted_it_reaches_gitlab_as_edited(fake, linked, author):
    comment = discussion.comment_post(proposal=linked, body="Frist", by=author)
    discussion.comment_edit(comment=comment, body="First", by=author)
    deliver_all()
    deliver_all()
    [note] = user_notes(issue_of(fake, linked))
    assert note.body.startswith("First\n\n— ada via Stagegate")
    comment.refresh_from_db()
    assert (comment.posting, comment.edit_pending) == ("posted", False)


def test_comments_wait_while_sync_is_off_and_go_once_it_is_on(fake, linked, author, settings):
    url = settings.GITLAB_URL
    settings.GITLAB_URL = ""
    comment = discussion.comment_post(proposal=linked, body="Written while GitLab was off", by=author)
    assert discussion.comment_deliver(comment.pk) == "waiting"
    comment.refresh_from_db()
    assert comment.posting == "pending"
    settings.GITLAB_URL = url
    assert discussion.comment_deliver(comment.pk) == "posted"
    assert len(user_notes(issue_of(fake, linked))) == 1


def test_a_reply_in_an_internal_thread_stays_internal_here_and_on_gitlab(
    fake, linked, reviewer, client, working_group_member
):
    iid = issue_of(fake, linked).iid
    note = fake.human_comment(iid, "Internal: pricing is open", internal=True)
    inbound.pull_comments(linked.pk)
    head = IssueComment.objects.get(gitlab_note_id=note.id)
    reply = discussion.comment_post(proposal=linked, body="Noted, keep it internal", by=reviewer, reply_to=head)
    discussion.comment_deliver(reply.pk)
    posted = fake.issue(iid).notes[IssueComment.objects.get(pk=reply.pk).gitlab_note_id]
    assert posted.internal and posted.discussion_id == note.discussion_id
    client.force_login(working_group_member)
    html = page(client, linked)
    assert "keep it internal" not in html and "pricing is open" not in html
    with pytest.raises(discussion.CommentRefused):
        discussion.comment_post(proposal=linked, body="Let me in", by=working_group_member, reply_to=head)


# -- quick actions in comments written in Stagegate ---------------------------------------------


def test_command_lines_of_a_stagegate_comment_run_nothing_on_gitlab_and_read_as_typed_on_both_sides(
    fake, linked, author, author_client
):
    iid = issue_of(fake, linked).iid
    typed = "/label ~rejected\nWhy not this?\n```\n/confidential\n```\n/unlabel ~stage::experiment"
    discussion.comment_post(proposal=linked, body=typed, by=author)
    deliver_all()
    issue = fake.issue(iid)
    assert not issue.confidential and "rejected" not in issue.labels
    [note] = user_notes(issue)
    # Markdown shows "\/label" as "/label"; the line in the code block is code, which GitLab never runs.
    assert note.body.startswith("\\/label ~rejected\nWhy not this?\n```\n/confidential\n```\n\\/unlabel")
    inbound.pull_comments(linked.pk)
    [comment] = IssueComment.objects.filter(proposal=linked)
    assert comment.body == typed  # the echo is the same comment, not an edit
    html = page(author_client, linked)
    assert "/label ~rejected" in html and "\\/label" not in html


@given(
    st.lists(
        st.sampled_from(
            [
                "/confidential",
                "/label ~rejected",
                "/LABEL ~y",
                "/confidential\r",
                "\r/unlabel ~x",
                "```",
                "```python",
                "~~~",
                "<div>",
                "</div>",
                ">>>",
                "text with `code",
                "",
                " /x",
            ]
        ),
        max_size=12,
    )
)
def test_no_line_of_an_escaped_comment_is_a_quick_action_and_the_escape_is_undone_exactly(lines):
    """GitLab's extractor (as the fake runs it) finds no command in what Stagegate posts, whatever the
    blocks around it, and the text read back is the text written."""
    text = "\n".join(lines)
    escaped = discussion.escape_quick_actions(text)
    _, effects = run_quick_actions(escaped)
    assert effects == {"add_labels": [], "remove_labels": [], "confidential": False}
    assert discussion.unescape_quick_actions(escaped) == text


def test_only_code_every_gitlab_version_reads_as_code_keeps_its_command_lines_as_typed():
    """A ``` block closed by a line of exactly ``` is code to the extractor's regex and to Markdown; a ~~~
    block, or one closed by ````, is code to Markdown only, and older GitLab runs the commands in it."""
    typed = "```\n/close\n```\n~~~\n/close\n~~~\n```\n/close\n````"
    assert discussion.escape_quick_actions(typed) == "```\n/close\n```\n~~~\n\\/close\n~~~\n```\n\\/close\n````"
