"""The edit page to work in: an outline with each section's completeness, gates summarised, one personas control,
counters near length limits, and a live page that learns of changes made elsewhere.

Each journey runs on a phone (390×844) and a laptop (1366×900) screen, by real clicks and keystrokes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from proposals import services, workflow
from proposals.models import Persona, Proposal
from tests.browser.pages import assert_no_horizontal_scroll, autosave, section_status
from tests.browser.test_accessibility import BLOCKING, axe_page, axe_violations
from tests.factories import ProposalFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SCREENS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"
POLL_FAST = "window.STAGEGATE_LIVE_POLL_MS = 500;"  # the page polls every 10 s; the tests need not wait that long


def size(screen: dict) -> str:
    return f"{screen['width']}x{screen['height']}"


def phone(page: Page) -> bool:
    return page.viewport_size["width"] < 600


def outline(page: Page):
    return page.locator("#edit-outline")


def open_outline_if_folded(page: Page) -> None:
    """On narrow screens the outline is a bar that folds out; on a laptop it is a sidebar, always shown."""
    toggle = outline(page).locator(".outline-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")


def someone_else_saves(proposal: Proposal, by, fields: tuple[str, ...], data: dict, title: str) -> None:
    """A save made elsewhere (another tab, another person, the API) while the page is open."""
    proposal = Proposal.objects.get(pk=proposal.pk)
    values = services.section_values(proposal, fields)
    services.proposal_update_section(
        proposal=proposal,
        fields=fields,
        data=data,
        version=proposal.version,
        base=services.section_fingerprint(values),
        by=by,
        section_title=title,
    )


@pytest.fixture
def author():
    return UserFactory(username="ada", groups=["author"])


@pytest.fixture
def proposal(author):
    return ProposalFactory(owner=author, title="Summarise merge request threads")


def test_outline_jumps_to_a_section_and_its_completeness_follows_the_typing(browsing, screen, author, proposal):
    browsing.viewport = screen
    page = browsing.as_user(author)
    page.goto(browsing.url(f"/proposals/{proposal.pk}/edit/"))
    nav = outline(page)
    problem = nav.get_by_role("link", name="Problem to be solved")
    if phone(page):
        # On a phone the outline is one bar at the top that folds out; it stays on screen while scrolling.
        expect(nav.locator(".outline-toggle")).to_contain_text("0 of")
        expect(problem).to_be_hidden()
    open_outline_if_folded(page)
    expect(problem).to_contain_text("0 of 4 answered")

    # A jump link brings the section into view (and folds the phone's outline away).
    nav.get_by_role("link", name="Main job story").click()
    expect(page.locator("#section-job-story")).to_be_in_viewport()
    expect(page).to_have_url(f"{browsing.url(f'/proposals/{proposal.pk}/edit/')}#section-job-story")
    if phone(page):
        expect(problem).to_be_hidden()
        expect(nav.locator(".outline-toggle")).to_be_in_viewport()  # sticky: still on screen
    page.screenshot(path=SCREENS / f"edit-outline-jump-{size(screen)}.png", caret="initial")

    # Answering updates the section's count without a reload; a full section gets its check.
    autosave(
        page, "problem", {"User problem:": "Reviewers drown in long threads.", "Solution hypothesis:": "A summary."}
    )
    open_outline_if_folded(page)
    expect(problem).to_contain_text("2 of 4 answered")
    autosave(page, "problem", {"Assumptions:": "Threads are long.", "Others, not in the list (free text)": "SREs"})
    open_outline_if_folded(page)
    expect(problem).to_contain_text("4 of 4 answered, complete")
    expect(nav.locator("li.complete").filter(has_text="Problem to be solved")).to_have_count(1)
    assert_no_horizontal_scroll(page)


def test_gates_read_one_line_each_and_their_reasons_fold_out_grouped(browsing, screen, author, proposal):
    browsing.viewport = screen
    page = browsing.as_user(author)
    page.goto(browsing.url(f"/proposals/{proposal.pk}/edit/"))
    gates = page.locator("#orr-gates")
    advance = gates.locator("#gate-advance-reasons")
    # One line: the button and how many things are left; the reasons themselves are folded away.
    expect(gates.get_by_role("button", name="Move into General Availability work")).to_be_disabled()
    left = len(workflow.advance_gate(Proposal.objects.get(pk=proposal.pk), by=author))
    assert left > 5
    expect(advance.locator("summary")).to_have_text(f"{left} things left")
    expect(advance.get_by_text("Fill in “User problem” (Experiment)")).to_be_hidden()

    advance.locator("summary").click()
    group = advance.locator(".reason-group").filter(has=page.get_by_role("link", name="Problem to be solved"))
    expect(group).to_contain_text("Fill in “User problem” (Experiment)")
    expect(advance.get_by_role("link", name="Experiment checklist")).to_be_visible()
    page.screenshot(path=SCREENS / f"edit-gates-open-{size(screen)}.png", caret="initial")

    # Saving a section redraws the panel: it stays open, one reason fewer; a group link jumps to the section.
    autosave(page, "problem", {"User problem:": "Reviewers drown in long threads."})
    expect(advance.locator("summary")).to_have_text(f"{left - 1} things left")
    expect(page.locator("#gate-advance-reasons")).to_have_attribute("open", "")
    expect(group).not_to_contain_text("Fill in “User problem”")
    group.get_by_role("link", name="Problem to be solved").click()
    expect(page.locator("#section-problem h2")).to_be_in_viewport()

    page.locator("#gate-advance-reasons summary").click()
    expect(page.locator("#gate-advance-reasons")).not_to_have_attribute("open", "")
    assert_no_horizontal_scroll(page)


def test_personas_are_searched_picked_and_written_in_one_control(browsing, screen, author, proposal):
    browsing.viewport = screen
    page = browsing.as_user(author)
    page.goto(browsing.url(f"/proposals/{proposal.pk}/edit/"))
    picker = page.locator("#section-problem fieldset.persona-picker")
    expect(picker.locator("legend")).to_have_text("Personas")
    expect(page.locator("#section-problem").get_by_text("Personas impacted")).to_have_count(0)
    expect(page.locator("#section-problem legend")).to_have_count(1)
    options = picker.locator(".persona-options li")
    expect(options.filter(visible=True)).to_have_count(Persona.objects.count())

    search = picker.get_by_label("Search the template's personas")
    search.press_sequentially("develop")
    # Searching by role narrows the list; typing in the search box saves nothing.
    expect(options.filter(visible=True)).to_have_count(3)
    expect(picker.locator(".persona-shown")).to_have_text(f"3 of {Persona.objects.count()} personas match “develop”")
    with page.expect_response(lambda r: "/sections/problem/" in r.url and r.request.method == "POST"):
        picker.get_by_label("Sasha (Software Developer)").check()
    expect(section_status(page, "problem")).to_contain_text("Saved")

    # Enter with one match left ticks it, without submitting anything else.
    search.fill("")
    search.press_sequentially("analyst")
    expect(options.filter(visible=True)).to_have_count(1)
    with page.expect_response(lambda r: "/sections/problem/" in r.url and r.request.method == "POST"):
        search.press("Enter")
    expect(picker.get_by_label("Dana (Data Analyst)")).to_be_checked()
    search.fill("nobody like this")
    expect(picker.get_by_text("No persona in the list matches")).to_be_visible()
    expect(picker.locator(".persona-chosen")).to_have_text("Chosen: Dana (Data Analyst), Sasha (Software Developer)")

    # Anyone not in the list goes in the free text, which saves like every other field.
    autosave(page, "problem", {"Others, not in the list (free text)": "Site reliability engineers on call"})
    page.screenshot(path=SCREENS / f"edit-personas-{size(screen)}.png", caret="initial")
    saved = Proposal.objects.get(pk=proposal.pk)
    assert sorted(saved.persona_tags.values_list("name", flat=True)) == ["Dana", "Sasha"]
    assert saved.personas == "Site reliability engineers on call"
    page.reload()
    expect(page.locator("#section-problem").get_by_label("Dana (Data Analyst)")).to_be_checked()
    assert_no_horizontal_scroll(page)


def test_a_counter_shows_near_the_limit_and_an_over_long_title_is_refused_with_the_limit(
    browsing, screen, author, proposal
):
    browsing.viewport = screen
    page = browsing.as_user(author)
    page.goto(browsing.url(f"/proposals/{proposal.pk}/edit/"))
    title = page.locator("#section-details").get_by_label("Title:", exact=True)
    counter = page.locator("#section-details .char-count")
    expect(counter).to_be_hidden()

    title.fill("A" * 150)
    expect(counter).to_be_hidden()  # far from the limit: no noise
    title.fill("A" * 210)
    expect(counter).to_be_visible()
    expect(counter).to_have_text("210 of 255 characters")

    # Pasted text is never cut: all of it stays, the counter says by how much it is over, the save says the limit.
    title.fill("")
    title.focus()
    page.keyboard.insert_text("B" * 300)
    expect(title).to_have_value("B" * 300)
    expect(counter).to_contain_text("300 of 255 characters: 45 too many")
    expect(section_status(page, "details")).to_contain_text("at most 255 characters")
    expect(page.locator("#save-state")).to_contain_text("Not saved")
    assert Proposal.objects.get(pk=proposal.pk).title == "Summarise merge request threads"
    page.screenshot(path=SCREENS / f"edit-counter-over-{size(screen)}.png", caret="initial")

    # A requirement's limit is counted the same way.
    requirement = page.get_by_label("The user needs to be able to")
    requirement.fill("C" * 900)
    expect(page.locator("#requirements .char-count")).to_have_text("900 of 1,000 characters")


def test_a_change_made_elsewhere_refreshes_untouched_sections_and_warns_on_the_one_being_edited(
    browsing, screen, author, proposal
):
    colleague = UserFactory(username="grace", is_staff=True, is_superuser=True)
    browsing.viewport = screen
    page = browsing.as_user(author)
    page.add_init_script(POLL_FAST)
    page.goto(browsing.url(f"/proposals/{proposal.pk}/edit/"))
    success = page.get_by_label("Success:", exact=True)
    expect(success).to_have_value("")

    # An untouched section takes the other person's text, and the outline and meters follow.
    someone_else_saves(proposal, colleague, ("proposal", "success"), {"success": "Half reuse it weekly."}, "Proposal")
    expect(success).to_have_value("Half reuse it weekly.")
    open_outline_if_folded(page)
    expect(outline(page).get_by_role("link", name="Proposal")).to_contain_text("1 of 2 answered")
    if phone(page):
        outline(page).locator(".outline-toggle").click()

    # The section being edited is not redrawn under the cursor: it warns, before any save, naming who and when.
    problem = page.get_by_label("User problem:", exact=True)
    problem.click()
    problem.press_sequentially("Reviewers drown in threads")
    expect(section_status(page, "problem")).to_contain_text("Saved")
    someone_else_saves(
        proposal,
        colleague,
        ("user_problem",),
        {"user_problem": "Grace's version of the problem."},
        "Problem to be solved",
    )
    warning = page.locator("#section-problem .live-warning")
    expect(warning).to_contain_text("This section was changed elsewhere by grace at")
    expect(problem).to_have_value("Reviewers drown in threads")  # nothing typed is touched
    page.screenshot(path=SCREENS / f"edit-live-warning-{size(screen)}.png", caret="initial")

    # Keep typing: the warning goes; the next save shows both texts to choose from.
    warning.get_by_role("button", name="Keep typing").click()
    expect(warning).to_have_count(0)
    expect(problem).to_be_focused()
    page.keyboard.type(" daily")
    expect(section_status(page, "problem").locator(".conflict")).to_be_visible()
    expect(section_status(page, "problem").locator(".theirs")).to_contain_text("Grace's version of the problem.")

    # Another change while editing; this time reload the section: it shows the saved text.
    section_status(page, "problem").get_by_role("button", name="Take theirs").click()
    expect(problem).to_have_value("Grace's version of the problem.")
    problem.click()
    someone_else_saves(proposal, colleague, ("user_problem",), {"user_problem": "Grace again."}, "Problem to be solved")
    page.locator("#section-problem .live-warning").get_by_role("button", name="Reload this section").click()
    expect(page.locator("#section-problem .live-warning")).to_have_count(0)
    expect(page.get_by_label("User problem:", exact=True)).to_have_value("Grace again.")
    assert_no_horizontal_scroll(page)


def test_a_second_tab_sees_the_first_tabs_save_and_a_requirement_added_there(browsing, screen, author, proposal):
    browsing.viewport = screen
    first = browsing.as_user(author)
    first.add_init_script(POLL_FAST)
    second = browsing.tab(first)
    url = browsing.url(f"/proposals/{proposal.pk}/edit/")
    first.goto(url)
    second.goto(url)

    autosave(second, "experiment-proposal", {"Proposal:": "A summary above the thread."})
    second.get_by_label("The user needs to be able to").fill("See the summary above the thread")
    second.get_by_role("button", name="Add requirement").click()
    expect(second.locator("#requirements li")).to_have_count(1)

    first.bring_to_front()
    expect(first.get_by_label("Proposal:", exact=True)).to_have_value("A summary above the thread.")
    expect(first.locator("#requirements li")).to_contain_text(["See the summary above the thread"])
    # The panels that fetch themselves follow too: the GitLab preview, and the stage when it changes.
    expect(first.locator("#live-preview")).to_contain_text("A summary above the thread.")
    workflow.proposal_close(proposal=Proposal.objects.get(pk=proposal.pk), by=author)
    expect(first.locator("#live-notice")).to_have_text(
        "This proposal was closed elsewhere: it is read-only now, and nothing more you type here is saved."
    )


def test_the_edit_page_has_no_serious_accessibility_violation_with_panels_open(browsing, screen, author, proposal):
    page = axe_page(browsing, author, screen)
    page.goto(browsing.url(f"/proposals/{proposal.pk}/edit/"))
    page.wait_for_load_state("networkidle")
    page.screenshot(path=SCREENS / f"edit-first-view-{size(screen)}.png", caret="initial")
    open_outline_if_folded(page)
    page.screenshot(path=SCREENS / f"edit-outline-open-{size(screen)}.png", caret="initial")
    page.locator("#gate-advance-reasons summary").click()
    page.locator(".persona-search input").fill("dev")
    page.locator("#section-details").get_by_label("Title:", exact=True).fill("T" * 240)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=SCREENS / f"edit-panels-open-{size(screen)}.png", full_page=True, caret="initial")
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert blocking == []
    assert_no_horizontal_scroll(page)
