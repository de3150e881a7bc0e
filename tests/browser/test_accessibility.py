"""axe-core on every main page (no serious or critical violation), and the edit page by keyboard alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from proposals import services
from proposals.models import Proposal
from reviews.models import OrrArea, Review
from tests.browser.conftest import PASSWORD
from tests.factories import ProposalFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core in the page as it stands; returns its violations (impact, rule id, how many nodes)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make install` (npm ci installs axe-core from package-lock.json)")
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [
        {
            "impact": violation["impact"],
            "rule": violation["id"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in results["violations"]
    ]


@pytest.fixture
def portfolio(db):
    """An author's proposal with answers, submitted for review; a data reviewer; a working-group member."""
    data_group = Group.objects.get_or_create(name="orr data")[0]
    OrrArea.objects.filter(key="data").update(reviewer_group=data_group)
    author = UserFactory(username="ada", groups=["author"])
    reviewer = UserFactory(username="rosalind", groups=["reviewer", "orr data"])
    member = UserFactory(username="katherine", groups=["working group"])
    proposal = ProposalFactory(owner=author, title="Summarise merge request threads")
    Proposal.objects.filter(pk=proposal.pk).update(
        user_problem="Reviewers spend hours reading long threads.",
        proposal="A summary above the thread.",
        main_job_story="When I come back to a merge request, I want the gist.",
        confidence=Proposal.Confidence.MEDIUM,
        state=Proposal.State.IN_REVIEW,
    )
    services.requirement_add(proposal=proposal, text="See the summary above the thread", by=author)
    services.research_link_add(proposal=proposal, url="https://gitlab.example.com/ux/1", title="Interviews", by=author)
    Review.objects.filter(proposal=proposal).update(status=Review.Status.IN_REVIEW, answer="Opted-in projects only.")
    review = proposal.reviews.get(area__key="data")
    return {"author": author, "reviewer": reviewer, "member": member, "proposal": proposal, "review": review}


def axe_page(browsing, user, viewport: dict) -> Page:
    """A logged-in page whose context lets axe-core's script in (the CSP would rightly refuse it)."""
    phone = viewport["width"] < 600
    context = browsing.browser.new_context(
        viewport=viewport, is_mobile=phone, has_touch=phone, bypass_csp=True, locale="en-GB"
    )
    browsing.contexts.append(context)
    page = context.new_page()
    browsing.problems.watch(page)
    browsing.log_in(page, user)
    return page


# What on a page is too small to touch: visible buttons, fields, menus and navigation links under 44px.
SMALL_TARGETS = """() => Array.from(document.querySelectorAll(
    'button, select, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), summary, nav a, .menu-button'
  )).concat(Array.from(document.querySelectorAll(
    'input[type=checkbox]:not(:disabled), input[type=radio]:not(:disabled)'
  )).map(box => box.closest('label') || box))
  .filter(el => el.offsetParent !== null)
  .map(el => [el, el.getBoundingClientRect()])
  .filter(([el, box]) => box.height < 44 && box.width > 0)
  .map(([el, box]) => `${el.tagName.toLowerCase()} "${(el.textContent || el.name || '').trim().slice(0, 30)}"`
    + ` ${Math.round(box.width)}x${Math.round(box.height)}`)"""

# The innermost elements reaching past the screen's right edge: what makes a page scroll sideways.
WIDEST = """width => Array.from(document.querySelectorAll('body *'))
  .filter(el => el.getBoundingClientRect().right > width + 1
    && !Array.from(el.children).some(child => child.getBoundingClientRect().right > width + 1))
  .slice(0, 5)
  .map(el => `${el.tagName.toLowerCase()}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)"""

# Visible text that still shows Markdown's link syntax (the raw Markdown of the issue, in <pre>, is meant to).
RAW_LINKS = """() => Array.from(document.querySelectorAll('main *'))
  .filter(el => el.checkVisibility() && !el.closest('pre, code, textarea')
    && Array.from(el.childNodes).some(node => node.nodeType === 3 && node.textContent.includes('](http')))
  .map(el => el.textContent.trim().slice(0, 80))"""

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"


def test_every_page_fits_the_screen_and_has_no_serious_accessibility_violation(browsing, portfolio, screen):
    """On a phone and a laptop: no horizontal scrolling, touch targets of 44px, axe clean, no console error."""
    pk, review_pk = portfolio["proposal"].pk, portfolio["review"].pk
    visits = {
        "author": [
            ("list", "/proposals/"),
            ("create", "/proposals/new/"),
            ("import", "/proposals/import/"),
            ("edit", f"/proposals/{pk}/edit/"),
            ("read view", f"/proposals/{pk}/"),
            ("preview", f"/proposals/{pk}/preview/"),
            ("answers", f"/reviews/answers/{pk}/"),
            ("sync conflicts", f"/gitlab/proposals/{pk}/conflicts/"),
            ("api token", "/accounts/api-token/"),
        ],
        "reviewer": [("my reviews", "/reviews/"), ("review", f"/reviews/{review_pk}/")],
        "member": [("dashboard", "/dashboard/")],
    }
    size = f"{screen['width']}x{screen['height']}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    console_errors: list[str] = []
    found, too_wide, too_small, raw_markdown = {}, {}, {}, {}

    def check(name: str, page: Page) -> None:
        page.screenshot(path=SCREENSHOTS / f"{name.replace(' ', '-')}-{size}.png", full_page=True)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > screen["width"]:
            too_wide[name] = [width, page.evaluate(WIDEST, screen["width"])]
        small = page.evaluate(SMALL_TARGETS)
        if small:
            too_small[name] = small
        found[name] = axe_violations(page)

    login = _bypassing(browsing, "/accounts/login/", screen)
    check("login", login)
    for who, pages in visits.items():
        page = axe_page(browsing, portfolio[who], screen)
        page.on("console", lambda m, page=page: m.type == "error" and console_errors.append(f"{page.url}: {m.text}"))
        # Every page has its favicon, and on a phone the navigation opens from a menu button.
        expect(page.locator("link[rel=icon]")).to_have_count(1)
        if screen["width"] < 600:
            expect(page.get_by_role("link", name="Dashboard")).to_be_hidden()
            page.get_by_role("button", name="Menu").click()
            expect(page.get_by_role("link", name="Dashboard")).to_be_visible()
            check(f"{who} menu", page)
        for name, path in pages:
            page.goto(browsing.url(path))
            expect(page.locator("h1").first).to_be_visible()
            page.wait_for_load_state("networkidle")  # htmx's load-triggered fragments (the live preview) are in
            check(name, page)
            # Markdown reads as GitLab shows it: help texts, checklist labels and answers carry no raw link syntax.
            raw = page.evaluate(RAW_LINKS)
            if raw:
                raw_markdown[name] = raw
            if name in ("list", "read view", "review"):  # the stage says what it means
                expect(page.locator("main")).to_contain_text("Experiment work · in review")
    print("axe-core findings per page:", json.dumps(found, indent=1))
    blocking = {name: [v for v in violations if v["impact"] in BLOCKING] for name, violations in found.items()}
    assert {name: v for name, v in blocking.items() if v} == {}
    assert too_wide == {}, f"pages wider than the screen: {too_wide}"
    assert too_small == {}, f"touch targets under 44px: {json.dumps(too_small, indent=1)}"
    assert console_errors == []
    assert raw_markdown == {}, "Markdown shown raw"


def _bypassing(browsing, path: str, viewport: dict) -> Page:
    phone = viewport["width"] < 600
    context = browsing.browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone, bypass_csp=True)
    browsing.contexts.append(context)
    page = context.new_page()
    page.goto(browsing.url(path))
    return page


def tab_to(page: Page, target, *, limit: int = 250) -> None:
    """Press Tab until `target` has the focus, as a keyboard user would; fails when it is never reached."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"{target} is not reachable with the Tab key")


def test_the_edit_page_works_by_keyboard_alone(browsing, portfolio):
    author, pk = portfolio["author"], portfolio["proposal"].pk
    page = browsing.new_page()
    # Log in by keyboard too.
    page.goto(browsing.url("/accounts/login/"))
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type(author.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    page.goto(browsing.url(f"/proposals/{pk}/edit/"))
    # Autosave: type an answer, then move on with Tab; the section says it saved.
    success = page.get_by_label("Success:", exact=True)
    tab_to(page, success)
    page.keyboard.type("Half of the reviewers use it again within a week.")
    page.keyboard.press("Tab")
    expect(page.locator("#section-experiment-proposal-status")).to_contain_text("Saved")

    # A checklist tick with the space bar.
    designs = page.locator("#checklists").get_by_role(
        "checkbox", name="Add relevant designs to the Design Management area of the issue.", exact=True
    )
    tab_to(page, designs)
    with page.expect_response(lambda r: r.request.method == "POST" and "/checklist/" in r.url):
        page.keyboard.press("Space")

    # A requirement added with Enter.
    tab_to(page, page.get_by_label("The user needs to be able to"))
    page.keyboard.type("Jump from a sentence to its comment")
    page.keyboard.press("Enter")
    expect(page.locator("#requirements li")).to_contain_text(
        ["See the summary above the thread", "Jump from a sentence to its comment"]
    )

    page.reload()
    expect(page.get_by_label("Success:", exact=True)).to_have_value("Half of the reviewers use it again within a week.")
    expect(designs).to_be_checked()
