"""Issue 12's flows in a real browser, on a phone (390×844) and a laptop (1366×900), by clicks and keystrokes:
a new proposal from a chosen template version, an import checked before it is made, the review loop, the
dashboard's bottleneck, GitLab conflicts settled on the first click, and the ORR setup's reviewer picker.

Every page the journeys touch is measured (scrollWidth against the screen), checked with axe-core (no serious or
critical violation) and photographed into test-artifacts/flows/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from gitlab_sync.models import SyncConflict, SyncState
from proposals.models import Proposal
from reviews import services
from reviews.models import OrrArea, Review
from tests.browser.test_accessibility import BLOCKING, SMALL_TARGETS, WIDEST, axe_page, axe_violations
from tests.factories import ProposalFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "flows"
ISSUE_BODY = """### User problem
Reviewers lose hours reading long merge request threads.

### Solution hypothesis
A summary above the thread lets them catch up in a minute.

## Rollout plan
Opt-in for a month, then on by default.
"""


def inspect(page: Page, name: str, screen: dict) -> list[dict]:
    """Photograph the page, fail if it scrolls sideways or has small touch targets; its blocking axe findings."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=SHOTS / f"{name}-{screen['width']}x{screen['height']}.png", full_page=True)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= screen["width"], f"{name} is {width}px wide: {page.evaluate(WIDEST, screen['width'])}"
    small = page.evaluate(SMALL_TARGETS)
    assert small == [], f"{name}: touch targets under 44px: {small}"
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert blocking == [], f"{name}: {json.dumps(blocking, indent=1)}"
    return blocking


@pytest.fixture
def people(db):
    group = Group.objects.get_or_create(name="orr data")[0]
    OrrArea.objects.filter(key="data").update(reviewer_group=group)
    return {
        "author": UserFactory(username="ada", groups=["author"]),
        "reviewer": UserFactory(username="rosalind", groups=["reviewer", "orr data"]),
        "member": UserFactory(username="katherine", groups=["working group"]),
        "admin": UserFactory(username="root", groups=["admin"], is_staff=True, is_superuser=True),
    }


def test_a_new_proposal_from_a_chosen_template_version(browsing, people, screen):
    browsing.viewport = screen
    page = axe_page(browsing, people["author"], screen)
    page.goto(browsing.url("/proposals/new/"))
    newest = page.locator("input[name=template_version][value='2023-beta']")
    expect(newest).to_be_checked()
    title = page.get_by_label("Title")
    expect(title).to_have_attribute("placeholder", "🤖 [AI Proposal] {Need/outcome} {Beneficiary} {Job/Small Job}")
    inspect(page, "new-proposal", screen)
    # Choosing June 2023 (a click on its card) shows that version's title format.
    page.get_by_text("June 2023", exact=True).click()
    expect(page.locator("input[name=template_version][value='2023-06']")).to_be_checked()
    expect(title).to_have_attribute("placeholder", "🤖 [AI Proposal] {Need/outcome} + {Beneficiary} + {Job/Small Job}")
    expect(page.locator("[data-title-hint]")).to_have_text(
        "🤖 [AI Proposal] {Need/outcome} + {Beneficiary} + {Job/Small Job}"
    )
    title.click()
    page.keyboard.type("🤖 [AI Proposal] Faster triage for maintainers")
    page.get_by_role("button", name="Create proposal").click()
    page.wait_for_url("**/proposals/*/edit/")
    proposal = Proposal.objects.get()
    assert (proposal.title, proposal.template_version) == ("🤖 [AI Proposal] Faster triage for maintainers", "2023-06")


def test_an_import_is_previewed_and_created_only_when_confirmed(browsing, people, screen):
    page = axe_page(browsing, people["author"], screen)
    page.goto(browsing.url("/proposals/import/"))
    inspect(page, "import-form", screen)
    page.get_by_label("Title").click()
    page.keyboard.type("Thread summaries")
    page.get_by_label("Issue description (Markdown)").fill(ISSUE_BODY)
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_role("heading", name="Check the import")).to_be_visible()
    expect(page.locator("[data-testid=fields-found]")).to_contain_text("User problem")
    expect(page.locator("[data-testid=kept-blocks]")).to_contain_text("Opt-in for a month")
    assert not Proposal.objects.exists()  # a preview creates nothing
    inspect(page, "import-preview", screen)
    # Back to the text: it is still there, no second paste.
    page.get_by_role("button", name="Change the text").click()
    expect(page.get_by_label("Issue description (Markdown)")).to_have_value(ISSUE_BODY)
    page.get_by_role("button", name="Preview the import").click()
    page.get_by_role("button", name="Create the proposal").click()
    expect(page.get_by_role("heading", name="Imported “Thread summaries”")).to_be_visible()
    proposal = Proposal.objects.get()
    assert proposal.user_problem == "Reviewers lose hours reading long merge request threads."
    inspect(page, "import-report", screen)


def test_the_review_loop_from_changes_requested_to_resubmitted(browsing, people, screen):
    author, reviewer = people["author"], people["reviewer"]
    proposal = ProposalFactory(owner=author, title="Summarise merge request threads")
    Proposal.objects.filter(pk=proposal.pk).update(state=Proposal.State.IN_REVIEW)
    Review.objects.filter(proposal=proposal).update(status=Review.Status.IN_REVIEW, answer="Opted-in projects.")
    review = proposal.reviews.get(area__key="data")

    # The reviewer requests changes on the review page: one decision form, one discussion box.
    as_reviewer = axe_page(browsing, reviewer, screen)
    as_reviewer.goto(browsing.url(f"/reviews/{review.pk}/"))
    expect(as_reviewer.locator("#decision form")).to_have_count(1)
    expect(as_reviewer.locator("#thread form")).to_have_count(1)
    inspect(as_reviewer, "review-page", screen)
    as_reviewer.locator("#decision").get_by_text("Request changes", exact=True).click()
    as_reviewer.get_by_label("Comment for the author").click()
    as_reviewer.keyboard.type("Say which projects the data comes from.")
    as_reviewer.get_by_role("button", name="Record decision").click()
    expect(as_reviewer.locator(".messages")).to_contain_text("Recorded: changes requested")
    as_reviewer.goto(browsing.url("/reviews/"))
    row = (
        as_reviewer.get_by_role("row")
        .filter(has_text="Summarise merge request threads")
        .filter(has_text="Data Limitation")
    )
    expect(row).to_contain_text("Waiting for author")
    inspect(as_reviewer, "review-queue", screen)

    # The author sees the reason next to the area, answers, and resubmits with the one button.
    as_author = axe_page(browsing, author, screen)
    as_author.goto(browsing.url(f"/proposals/{proposal.pk}/"))
    expect(as_author.locator("#orr-gates")).to_contain_text("Say which projects the data comes from.")
    inspect(as_author, "proposal-page-loop", screen)
    as_author.goto(browsing.url(f"/reviews/answers/{proposal.pk}/"))
    loop = as_author.locator("[data-testid=review-loop-data]")
    expect(loop).to_contain_text("Say which projects the data comes from.")
    expect(loop).to_contain_text("rosalind")
    answer = as_author.locator("#orr-answer-data")
    answer.click()
    as_author.keyboard.press("End")
    with as_author.expect_response(lambda r: r.request.method == "POST" and "/answer/" in r.url):
        as_author.keyboard.type(" Only projects that opted in, in the EU region.")
    expect(loop).to_contain_text("Answered — resubmit")
    inspect(as_author, "answers-answered", screen)

    as_reviewer.reload()
    expect(row).to_contain_text("Answered")

    as_author.get_by_role("button", name="Resubmit “Data Limitation”").click()
    expect(as_author.locator(".messages")).to_contain_text("Submitted for review")
    assert proposal.reviews.get(area__key="data").status == Review.Status.IN_REVIEW
    as_reviewer.reload()
    expect(row).to_contain_text("In review")


def test_the_dashboard_leads_with_the_bottleneck(browsing, people, screen):
    for n in range(3):
        proposal = ProposalFactory(owner=people["author"], title=f"Waiting proposal {n}")
        Proposal.objects.filter(pk=proposal.pk).update(state=Proposal.State.IN_REVIEW)
        Review.objects.filter(proposal=proposal, area__key="data").update(
            status=Review.Status.IN_REVIEW, reviewer=people["reviewer"]
        )
    page = axe_page(browsing, people["member"], screen)
    page.goto(browsing.url("/dashboard/"))
    bottleneck = page.get_by_test_id("bottleneck")
    expect(bottleneck).to_contain_text("Data Limitation holds the most proposals: 3 proposals wait")
    expect(bottleneck).to_contain_text("rosalind (3 reviews)")
    funnel = page.get_by_role("heading", name="Funnel")
    assert bottleneck.bounding_box()["y"] < funnel.bounding_box()["y"]
    expect(page.locator("main")).not_to_contain_text("1 proposals")
    inspect(page, "dashboard", screen)


def test_gitlab_conflicts_settle_on_the_first_click(browsing, people, screen):
    proposal = ProposalFactory(owner=people["author"], title="Conflicted")
    Proposal.objects.filter(pk=proposal.pk).update(user_problem="Reviewers drown in threads.", proposal="Ours")
    SyncState.objects.update_or_create(proposal=proposal, defaults={"issue_iid": 3})

    def conflict(field, label, local, remote):
        return SyncConflict.objects.create(
            proposal=proposal, field=field, label=label, base_value="", local_value=local, remote_value=remote
        )

    kept = conflict("field:proposal", "Proposal", "Ours", "Theirs")
    merged = conflict(
        "field:user_problem", "User problem", "Reviewers drown in threads.", "Reviewers drown in long threads."
    )
    page = axe_page(browsing, people["author"], screen)
    page.goto(browsing.url(f"/gitlab/proposals/{proposal.pk}/conflicts/"))
    section = page.get_by_test_id("conflict-field:user_problem")
    expect(section.locator(".theirs mark")).to_have_text("long ")
    inspect(page, "sync-conflicts", screen)

    page.get_by_test_id("conflict-field:proposal").get_by_role("button", name="Keep mine").click()
    expect(page.locator(".messages")).to_contain_text("Kept your text for Proposal")
    assert SyncConflict.objects.get(pk=kept.pk).resolution == "local"

    section.get_by_text("Edit a merged text").click()
    box = section.get_by_label("Merged user problem")
    box.click()
    box.press("ControlOrMeta+a")
    page.keyboard.type("Reviewers drown in long MR threads.")
    section.get_by_role("button", name="Save merged text").click()
    page.wait_for_url(f"**/proposals/{proposal.pk}/")
    expect(page.locator(".messages")).to_contain_text("Saved your merged User problem")
    assert SyncConflict.objects.get(pk=merged.pk).resolved_at is not None
    proposal.refresh_from_db()
    assert proposal.user_problem == "Reviewers drown in long MR threads."


def test_the_orr_setup_reviewer_picker_searches_and_saves(browsing, people, screen):
    for name in ("grace", "katherine_r", "lise"):
        UserFactory(username=name, groups=["reviewer"])
    page = axe_page(browsing, people["admin"], screen)
    page.goto(browsing.url("/reviews/setup/"))
    area = page.locator("section").filter(has=page.get_by_role("heading", name="Data Limitation", exact=False)).first
    picker = area.locator("[data-people-picker]")
    search = picker.get_by_label("Find a reviewer for Data Limitation")
    search.click()
    page.keyboard.type("gra")
    expect(picker.get_by_label("grace")).to_be_visible()
    expect(picker.get_by_label("lise")).to_be_hidden()
    inspect(page, "orr-setup", screen)
    picker.get_by_label("grace").click()
    expect(picker.locator("[data-chosen-count]")).to_have_text("1 chosen")
    page.keyboard.press("Enter")  # on the checkbox: nothing is sent yet
    area.get_by_role("button", name="Save Data Limitation").click()
    expect(page.locator(".messages")).to_contain_text("Data Limitation")
    assert list(OrrArea.objects.get(key="data").reviewers.values_list("username", flat=True)) == ["grace"]


def test_changes_requested_reach_the_author_as_the_reviewer_wrote_them(people):
    """The reason shown next to the area is the decision's own comment (no browser needed for the wording)."""
    proposal = ProposalFactory(owner=people["author"])
    Proposal.objects.filter(pk=proposal.pk).update(state=Proposal.State.IN_REVIEW)
    Review.objects.filter(proposal=proposal).update(status=Review.Status.IN_REVIEW, answer="A")
    review = proposal.reviews.get(area__key="data")
    services.review_decide(review=review, kind="changes_requested", comment="Which region?", by=people["reviewer"])
    assert proposal.reviews.get(area__key="data").current_decision.comment == "Which region?"


@pytest.fixture
def gitlab(settings):
    """The fake GitLab over real HTTP, configured as Stagegate's GitLab for this test."""
    from gitlab_fake import FakeGitLab
    from gitlab_sync import client, connection

    fake = FakeGitLab().start()
    settings.GITLAB_URL, settings.GITLAB_TOKEN = fake.url, fake.token
    settings.GITLAB_PROJECT = fake.project.path_with_namespace
    client._client.cache_clear()
    connection.redis_client.cache_clear()
    yield fake
    fake.stop()
    client._client.cache_clear()


def test_an_import_links_an_existing_gitlab_issue_instead_of_creating_one(browsing, people, gitlab, screen):
    issue = gitlab.create_issue(title="🤖 [AI Proposal] Thread summaries for reviewers", description=ISSUE_BODY)
    page = axe_page(browsing, people["author"], screen)
    page.goto(browsing.url("/proposals/import/"))
    page.get_by_label("Issue description (Markdown)").fill(ISSUE_BODY)
    page.get_by_label("Link an existing GitLab issue (optional)").click()
    page.keyboard.type(f"#{issue.iid}")
    page.get_by_role("button", name="Preview the import").click()
    expect(page.locator(".summary")).to_contain_text(f"link #{issue.iid}")
    expect(page.locator(".summary")).to_contain_text("the issue's title")
    inspect(page, "import-preview-link", screen)
    assert not Proposal.objects.exists()
    page.get_by_role("button", name="Create the proposal").click()
    expect(
        page.get_by_role("heading", name="Imported “🤖 [AI Proposal] Thread summaries for reviewers”")
    ).to_be_visible()
    proposal = Proposal.objects.get()
    assert SyncState.objects.get(proposal=proposal).issue_iid == issue.iid
    assert len(gitlab.issues()) == 1  # no second issue

    # The same issue again: refused with the reason, the preview kept, nothing created.
    page.goto(browsing.url("/proposals/import/"))
    page.get_by_label("Issue description (Markdown)").fill(ISSUE_BODY)
    page.get_by_label("Link an existing GitLab issue (optional)").fill(f"#{issue.iid}")
    page.get_by_role("button", name="Preview the import").click()
    page.get_by_role("button", name="Create the proposal").click()
    expect(page.get_by_role("alert")).to_contain_text("already linked")
    assert Proposal.objects.count() == 1
