"""The proposal's discussion in a real browser, on a phone and a laptop: post a comment and a reply without a
reload, and find both on the GitLab issue (the fake GitLab, over real HTTP) in the thread they belong to.
Linked issues and design thumbnails sit beside it. The page fits the screen and axe-core finds nothing serious."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from config.celery import app as celery_app
from gitlab_fake import FakeGitLab
from gitlab_sync import client, connection, discussion, inbound, outbox
from gitlab_sync.models import IssueComment, SyncState
from tests.browser.pages import assert_no_horizontal_scroll
from tests.browser.test_accessibility import BLOCKING, axe_page, axe_violations
from tests.factories import ProposalFactory, UserFactory
from tests.gitlab_sync.conftest import point_celery_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"


@pytest.fixture(scope="module")
def fake_server():
    fake = FakeGitLab().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(fake_server, settings, eager_celery):
    """Stagegate synced with the fake GitLab; the worker's tasks run as they are queued (eager)."""
    fake_server.reset()
    settings.GITLAB_URL = fake_server.url
    settings.GITLAB_TOKEN = fake_server.token
    settings.GITLAB_PROJECT = fake_server.project.path_with_namespace
    settings.GITLAB_PUSH_MIN_INTERVAL = 0
    # The design thumbnails come from GitLab, as settings.py allows for GITLAB_URL.
    policy = {**settings.CONTENT_SECURITY_POLICY}
    policy["DIRECTIVES"] = {**policy["DIRECTIVES"], "img-src": [*policy["DIRECTIVES"]["img-src"], fake_server.url]}
    settings.CONTENT_SECURITY_POLICY = policy
    client._client.cache_clear()
    client._graphql.cache_clear()
    connection.redis_client.cache_clear()
    yield fake_server
    fake_server.reset()


def test_post_a_comment_and_a_reply_and_find_them_in_their_thread_on_gitlab(browsing, fake, screen):
    author = UserFactory(username="ada", first_name="Ada", last_name="Lovelace", groups=["author"])
    proposal = ProposalFactory(owner=author, title="Summarise merge request threads")
    outbox.push(proposal.pk)
    iid = SyncState.objects.get(proposal=proposal).issue_iid
    question = fake.human_comment(iid, "Which **reviewers** did you interview? @ada")
    fake.human_link(iid, fake.create_issue(title="Research: reading long threads"), "relates_to")
    fake.add_design(iid, "summary-panel.png")
    inbound.pull_comments(proposal.pk)

    page = axe_page(browsing, author, screen)
    page.goto(browsing.url(proposal.get_absolute_url()))
    discussion = page.locator("#discussion")
    expect(discussion.locator(".comment-body").get_by_text("Which reviewers did you interview?")).to_be_visible()
    expect(page.locator("#linked-items").get_by_text("Research: reading long threads")).to_be_visible()
    expect(page.locator("#linked-items img")).to_have_count(1)
    page.evaluate("() => { window.stillTheSamePage = true }")  # gone if the page reloads

    page.get_by_label("Comment", exact=True).fill("We asked twelve reviewers; notes are in the research issue.")
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(discussion.locator(".comment-body").get_by_text("We asked twelve reviewers")).to_be_visible()
    expect(discussion.locator(".comment-meta").get_by_text("via Stagegate")).to_be_visible()

    question_thread = page.get_by_role("article", name="Thread started by Alice Author")
    question_thread.get_by_label("Reply to Alice Author").fill("Twelve, across three stages.")
    question_thread.get_by_role("button", name="Reply", exact=True).click()
    first_thread = discussion.locator(".thread").first
    expect(first_thread.locator(".comment-body").get_by_text("Twelve, across three stages.")).to_be_visible()
    assert page.evaluate("() => window.stillTheSamePage === true"), "posting reloaded the page"

    notes = [n for n in sorted(fake.issue(iid).notes.values(), key=lambda n: n.id) if not n.system]
    by_discussion = {}
    for note in notes:
        by_discussion.setdefault(note.discussion_id, []).append(note.body.split("\n\n")[0])
    assert by_discussion[question.discussion_id] == [
        "Which **reviewers** did you interview? @ada",
        "Twelve, across three stages.",
    ]
    assert ["We asked twelve reviewers; notes are in the research issue."] in by_discussion.values()
    assert all("— Ada Lovelace via Stagegate" in n.body for n in notes if n.author.username == fake.bot.username)

    assert_no_horizontal_scroll(page)
    serious = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert serious == [], serious
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = f"{screen['width']}x{screen['height']}"
    page.locator("#discussion").screenshot(path=SCREENSHOTS / f"discussion-{size}.png")
    page.locator("#linked-items").screenshot(path=SCREENSHOTS / f"linked-items-{size}.png")
    page.screenshot(path=SCREENSHOTS / f"proposal-with-discussion-{size}.png", full_page=True)


@pytest.fixture
def queued_tasks():
    """Tasks queued, not run: the test plays the worker. In memory, so no real worker takes them."""
    previous = celery_app.conf.broker_url
    point_celery_at("memory://")
    yield
    point_celery_at(previous)


def test_the_comment_says_when_the_worker_has_posted_it_without_a_reload(browsing, fake_server, settings, queued_tasks):
    settings.GITLAB_URL = fake_server.url
    settings.GITLAB_TOKEN = fake_server.token
    settings.GITLAB_PROJECT = fake_server.project.path_with_namespace
    fake_server.reset()
    client._client.cache_clear()
    author = UserFactory(username="ada", groups=["author"])
    proposal = ProposalFactory(owner=author, title="Summarise merge request threads")
    outbox.push(proposal.pk)

    page = browsing.as_user(author)
    page.goto(browsing.url(proposal.get_absolute_url()))
    page.get_by_label("Comment", exact=True).fill("Waiting for the worker")
    page.get_by_role("button", name="Comment", exact=True).click()
    badge = page.locator("#discussion .comment-meta .badge")
    expect(badge).to_have_text("Posting to GitLab…")
    comment = IssueComment.objects.get(proposal=proposal)
    assert discussion.comment_deliver(comment.pk) == "posted"  # what the worker does
    expect(badge).to_have_text("via Stagegate")
    fake_server.reset()
