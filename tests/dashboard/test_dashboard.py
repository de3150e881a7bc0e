import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.queries import PAGE_SIZE, time_in_stage
from proposals.csv_export import safe_cell
from proposals.management.commands.seed_bench import seed_portfolio, timestamps_as_given
from proposals.models import Activity, Proposal
from proposals.search import search_index_proposal
from reviews.models import Review
from tests.factories import UserFactory

DASHBOARD = reverse("dashboard:index")
CSV = reverse("dashboard:csv")
pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[list[str]]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def titles_in_csv(response) -> list[str]:
    return [row[1] for row in csv_rows(response)[1:]]


def matrix_titles(response) -> list[str]:
    return [row.proposal.title for row in response.context["matrix"]]


def set_review(proposal, area_key: str, status: str, reviewer=None) -> None:
    Review.objects.filter(proposal=proposal, area__key=area_key).update(status=status, reviewer=reviewer)


# --- a fixed number of queries ---------------------------------------------------------------------

# Computed live (a filter applied, or no fresh portfolio summary; tests/dashboard/test_summary.py has the
# summary's counts): session, user, ORR areas, the viewer's groups; funnel (with the GA and stale totals)
# + moves; matrix page + its reviews; GA blockers list + 5 prefetches; stale proposals list, stale reviews
# list; time in stage; review waits, load and stale-review count; decision turnaround; sync counts + list;
# the viewer's saved views.
QUERIES_HTMX = 22  # with the viewer's saved views of the dashboard
QUERIES_PAGE = QUERIES_HTMX + 3  # the filter form's owners and labels; the bell's unread count
QUERIES_FILTERED = 1  # with any filter, the chosen proposals' ids are read once for every figure
QUERIES_TEXT_FILTER = 1  # a text filter (`q`) first reads the matching ids from the search index
QUERIES_NO_SUMMARY = 1  # a full page looks for the portfolio summary (its figures, or the form's choices)
QUERIES_CSV = 5  # session, user, ORR areas, the viewer's groups, then one streamed query
FILTERED = "?stage=ga&state=in_review&area=data&area_state=in_review&label=wg-ai-integration&q=bench&sort=title"


def assert_query_counts(client, assert_num_queries) -> None:
    for url, headers, queries in (
        (DASHBOARD, {}, QUERIES_PAGE + QUERIES_NO_SUMMARY),
        (DASHBOARD + FILTERED, {}, QUERIES_PAGE + QUERIES_FILTERED + QUERIES_TEXT_FILTER + QUERIES_NO_SUMMARY),
        (DASHBOARD + "?stage=ga&page=2", {"HX-Request": "true"}, QUERIES_HTMX + QUERIES_FILTERED),
        (CSV + "?sort=-confidence", {}, QUERIES_CSV),
    ):
        with assert_num_queries(queries):
            response = client.get(url, headers=headers)
            if response.streaming:
                b"".join(response.streaming_content)
        assert response.status_code == 200, url


def test_query_count_is_the_same_at_10_and_300_proposals(wg_client, django_assert_num_queries):
    seed_portfolio(proposals=10, seed=3)
    # Make sure every list on the page has rows at both sizes, so prefetches run at both sizes.
    first = Proposal.objects.order_by("pk").first()
    Proposal.objects.filter(pk=first.pk).update(stage="ga", state="in_review", confidential=False, title="A bench")
    search_index_proposal(Proposal.objects.get(pk=first.pk))  # the text filter finds it by its new title
    set_review(first, "data", Review.Status.IN_REVIEW)
    assert_query_counts(wg_client, django_assert_num_queries)

    seed_portfolio(proposals=290, seed=4)
    assert_query_counts(wg_client, django_assert_num_queries)


def test_dashboard_page_is_pinned_at_its_query_count(wg_client, django_assert_num_queries):
    seed_portfolio(proposals=20, seed=5)
    with django_assert_num_queries(QUERIES_PAGE + QUERIES_NO_SUMMARY):
        response = wg_client.get(DASHBOARD)
    visible = Proposal.objects.filter(confidential=False).count()
    assert response.context["total"] == visible
    assert len(response.context["matrix"]) == visible


# --- confidentiality --------------------------------------------------------------------------------


@pytest.fixture
def secret(make_proposal, other_author):
    proposal = make_proposal(
        title="Project Nightjar", owner=other_author, confidential=True, stage="ga", labels=["nightjar-only"]
    )
    set_review(proposal, "legal", Review.Status.IN_REVIEW, reviewer=UserFactory(username="secret-reviewer"))
    return proposal


@pytest.fixture
def public(make_proposal, author):
    return make_proposal(title="Explain pipeline failures", owner=author, stage="ga")


def test_confidential_proposal_is_nowhere_for_a_working_group_member(wg_client, secret, public):
    page = wg_client.get(DASHBOARD)
    html = page.content.decode()

    assert "Project Nightjar" not in html
    assert matrix_titles(page) == ["Explain pipeline failures"]
    assert page.context["total"] == 1
    ga = next(row for row in page.context["stages"] if row.stage == "ga")
    assert ga.total == 1
    assert page.context["blocked"].total == 1
    # Neither its owner, its label nor its reviewer's load gives it away.
    assert "grace" not in page.context["choices"]["owners"]
    assert "nightjar-only" not in page.context["choices"]["labels"]
    assert "secret-reviewer" not in html
    assert titles_in_csv(wg_client.get(CSV)) == ["Explain pipeline failures"]
    # Asking for it by name finds nothing either.
    assert wg_client.get(DASHBOARD + "?q=Nightjar").context["total"] == 0
    assert titles_in_csv(wg_client.get(CSV + "?owner=grace")) == []


def test_confidential_proposal_is_shown_to_its_author_and_to_admins(client, secret, public, other_author, admin_user):
    for user in (other_author, admin_user):
        client.force_login(user)
        page = client.get(DASHBOARD)
        assert sorted(matrix_titles(page)) == ["Explain pipeline failures", "Project Nightjar"]
        assert page.context["total"] == 2
        assert sorted(titles_in_csv(client.get(CSV))) == ["Explain pipeline failures", "Project Nightjar"]


def test_the_dashboard_asks_to_log_in(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.get(CSV).status_code == 302


# --- filters ------------------------------------------------------------------------------------------


def test_filters_combine(wg_client, make_proposal, author, other_author):
    wanted = make_proposal(
        title="Summarise incident timelines", owner=author, stage="ga", confidence="high", labels=["duo-chat"]
    )
    set_review(wanted, "data", Review.Status.CHANGES_REQUESTED)
    make_proposal(title="Summarise runner logs", owner=author, stage="ga", confidence="low", labels=["duo-chat"])
    make_proposal(title="Summarise epics", owner=other_author, stage="ga", confidence="high", labels=["duo-chat"])
    make_proposal(title="Summarise wiki pages", owner=author, stage="beta", confidence="high", labels=["duo-chat"])
    other_label = make_proposal(title="Summarise notes", owner=author, stage="ga", confidence="high", labels=["x"])
    set_review(other_label, "data", Review.Status.CHANGES_REQUESTED)

    query = "?stage=ga&confidence=high&owner=ada&label=duo-chat&area=data&area_state=changes_requested&q=summarise"
    page = wg_client.get(DASHBOARD + query)

    assert matrix_titles(page) == ["Summarise incident timelines"]
    assert page.context["total"] == 1
    assert titles_in_csv(wg_client.get(CSV + query)) == ["Summarise incident timelines"]
    # The same area state in another area does not match.
    assert wg_client.get(DASHBOARD + "?area=legal&area_state=changes_requested").context["total"] == 0
    # Confidence "unset" finds proposals without one.
    assert wg_client.get(DASHBOARD + "?confidence=unset").context["total"] == 0


def test_unknown_filter_values_are_ignored_rather_than_failing(wg_client, public):
    response = wg_client.get(DASHBOARD + "?stage=launch&area=nope&sort=password&page=x&area_state=done")
    assert response.status_code == 200
    assert matrix_titles(response) == ["Explain pipeline failures"]


def test_filter_form_keeps_the_url_and_htmx_gets_only_the_body(wg_client, public):
    page = wg_client.get(DASHBOARD + "?stage=ga")
    html = page.content.decode()
    assert '<option value="ga" selected>' in html
    assert 'hx-push-url="true"' in html

    response = wg_client.get(DASHBOARD + "?q=&stage=ga&owner=&sort=-updated", headers={"HX-Request": "true"})
    # The form sends its empty fields too; the address bar gets the tidy URL.
    assert response["HX-Push-Url"] == DASHBOARD + "?stage=ga"
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="dashboard-body"')
    assert "<html" not in fragment
    assert "Explain pipeline failures" in fragment

    restore = wg_client.get(
        DASHBOARD + "?stage=ga", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    ).content.decode()
    assert "<html" in restore


# --- sorting, pagination -----------------------------------------------------------------------------


def test_sorting_by_title_both_ways(wg_client, make_proposal):
    for title in ("Bravo", "Alpha", "Charlie"):
        make_proposal(title=title)
    assert matrix_titles(wg_client.get(DASHBOARD + "?sort=title")) == ["Alpha", "Bravo", "Charlie"]
    descending = wg_client.get(DASHBOARD + "?sort=-title")
    assert matrix_titles(descending) == ["Charlie", "Bravo", "Alpha"]
    title_header = descending.context["sort_headers"][0]
    assert title_header["aria_sort"] == "descending"
    assert title_header["sort"] == "title"
    assert 'href="?sort=title"' in descending.content.decode()


def test_sorting_by_stage_follows_the_template_order(wg_client, make_proposal):
    make_proposal(title="In GA", stage="ga")
    make_proposal(title="In experiment", stage="experiment")
    make_proposal(title="In beta", stage="beta")
    assert matrix_titles(wg_client.get(DASHBOARD + "?sort=stage")) == ["In experiment", "In beta", "In GA"]


def test_pagination_keeps_the_filters(wg_client):
    seed_portfolio(proposals=2 * PAGE_SIZE + 5, seed=11)
    Proposal.objects.update(confidential=False, stage="beta")
    first = wg_client.get(DASHBOARD + "?stage=beta&sort=title")
    assert first.context["page"].paginator.count == 2 * PAGE_SIZE + 5
    assert len(first.context["matrix"]) == PAGE_SIZE
    assert 'href="?stage=beta&amp;sort=title&amp;page=2"' in first.content.decode()

    last = wg_client.get(DASHBOARD + "?stage=beta&sort=title&page=3")
    assert len(last.context["matrix"]) == 5
    assert 'href="?stage=beta&amp;sort=title&amp;page=2"' in last.content.decode()
    second = wg_client.get(DASHBOARD + "?stage=beta&sort=title&page=2")
    shown = [row.proposal.pk for response in (first, second, last) for row in response.context["matrix"]]
    assert sorted(shown) == sorted(Proposal.objects.values_list("pk", flat=True))


# --- what the page says -------------------------------------------------------------------------------


def test_orr_matrix_cells_show_status_and_reviewer_and_open_the_review(wg_client, public, reviewer):
    set_review(public, "cost", Review.Status.APPROVED, reviewer=reviewer)
    page = wg_client.get(DASHBOARD)
    row = page.context["matrix"][0]
    cost = next(cell for cell in row.cells if cell.review.area.key == "cost")
    assert cost.review.status == "approved"
    assert cost.review.reviewer == reviewer
    html = page.content.decode()
    review = Review.objects.get(proposal=public, area__key="cost")
    assert f'href="{cost.url}"' in html
    assert cost.url.endswith(f"/{review.pk}/")
    assert "rosalind" in html


def test_area_filter_narrows_the_matrix_to_that_column(wg_client, public):
    page = wg_client.get(DASHBOARD + "?area=legal")
    assert [area.key for area in page.context["columns"]] == ["legal"]
    assert len(page.context["matrix"][0].cells) == 1


def test_ga_blockers_name_what_is_missing(wg_client, public, reviewer):
    Review.objects.filter(proposal=public).update(status=Review.Status.APPROVED)
    set_review(public, "legal", Review.Status.CHANGES_REQUESTED)
    reasons = wg_client.get(DASHBOARD).context["blocked"].rows[0].reasons
    assert "ORR “Legal and Ethical Framework”: changes requested" in reasons
    assert not any(reason.startswith("ORR “Cost") for reason in reasons)
    assert "Fill in “Main job story” (General Availability)" in reasons


def test_stale_work_lists_proposals_and_reviews_nobody_touched(wg_client, quiet_proposal, public, settings):
    settings.STALE_AFTER_DAYS = 14
    quiet = quiet_proposal(days=30, title="Gone quiet", state="in_review")
    quiet_proposal(days=3, title="Still moving", state="in_review")
    quiet_proposal(days=40, title="Closed long ago", state="closed")
    stale = wg_client.get(DASHBOARD).context["stale"]
    assert [p.title for p in stale.proposals.rows] == ["Gone quiet"]
    assert stale.proposals.total == 1

    review = Review.objects.get(proposal=public, area__key="model")
    Review.objects.filter(pk=review.pk).update(
        status=Review.Status.IN_REVIEW, updated_at=timezone.now() - timedelta(days=20)
    )
    stale = wg_client.get(DASHBOARD).context["stale"]
    assert [r.pk for r in stale.reviews.rows] == [review.pk]
    assert stale.reviews.total == 1
    assert quiet.pk not in {r.proposal_id for r in stale.reviews.rows}


def test_reviewer_load_and_waits_count_reviews_waiting_for_a_decision(wg_client, make_proposal, reviewer):
    first, second = make_proposal(title="One"), make_proposal(title="Two")
    set_review(first, "data", Review.Status.IN_REVIEW, reviewer=reviewer)
    set_review(second, "data", Review.Status.IN_REVIEW, reviewer=reviewer)
    set_review(second, "cost", Review.Status.APPROVED, reviewer=reviewer)  # decided: not waiting
    set_review(first, "model", Review.Status.IN_REVIEW, reviewer=UserFactory(username="mary"))
    Review.objects.filter(proposal=first, area__key="data").update(
        assigned_at=timezone.now() - timedelta(days=4), answer_updated_at=None
    )
    Review.objects.filter(proposal=second, area__key="data").update(
        assigned_at=timezone.now() - timedelta(days=2), answer_updated_at=None
    )
    page = wg_client.get(DASHBOARD).context
    assert page["reviewer_load"] == [("rosalind", 2), ("mary", 1)]
    waits = {spread.label: spread for spread in page["review_waits"]}
    assert (waits["Data Limitation"].count, waits["Data Limitation"].median_days) == (2, 3.0)
    assert waits["Cost, Scalability, Reliability"].count == 0
    # With an area chosen, the figures are that area's.
    data_only = wg_client.get(DASHBOARD + "?area=data").context
    assert data_only["reviewer_load"] == [("rosalind", 2)]
    assert [spread.label for spread in data_only["review_waits"]] == ["Data Limitation"]


def test_funnel_counts_stage_moves_this_week_and_month(wg_client, public):
    now = timezone.now()
    with timestamps_as_given(Activity):
        Activity.objects.bulk_create(
            [
                Activity(
                    proposal=public,
                    kind=Activity.Kind.STATE,
                    message="to beta",
                    data={"stage": ["experiment", "beta"]},
                    created_at=now - timedelta(days=20),
                ),
                Activity(
                    proposal=public,
                    kind=Activity.Kind.STATE,
                    message="to ga",
                    data={"stage": ["beta", "ga"]},
                    created_at=now - timedelta(days=2),
                ),
            ]
        )
    ga = next(row for row in wg_client.get(DASHBOARD).context["stages"] if row.stage == "ga")
    assert (ga.total, ga.moved_week, ga.moved_month) == (1, 1, 1)


def test_time_in_stage_counts_each_stint(public):
    now = timezone.now()
    Proposal.objects.filter(pk=public.pk).update(created_at=now - timedelta(days=10))
    with timestamps_as_given(Activity):
        Activity.objects.bulk_create(
            [
                Activity(
                    proposal=public,
                    kind=Activity.Kind.STATE,
                    message="to beta",
                    data={"stage": ["experiment", "beta"]},
                    created_at=now - timedelta(days=6),
                ),
                Activity(
                    proposal=public,
                    kind=Activity.Kind.STATE,
                    message="to ga",
                    data={"stage": ["beta", "ga"]},
                    created_at=now - timedelta(days=1),
                ),
                # A state change inside a stage is not a stage move.
                Activity(
                    proposal=public,
                    kind=Activity.Kind.STATE,
                    message="submitted",
                    data={"state": ["draft", "in_review"]},
                    created_at=now - timedelta(hours=12),
                ),
            ]
        )
    spreads = {s.label: s for s in time_in_stage(Proposal.objects.all(), now=now)}
    assert (spreads["Experiment"].count, spreads["Experiment"].median_days) == (1, 4.0)
    assert (spreads["Beta"].count, spreads["Beta"].median_days) == (1, 5.0)
    assert (spreads["General Availability"].count, spreads["General Availability"].median_days) == (1, 1.0)


def test_time_in_stage_is_shown_whatever_the_database(wg_client, make_proposal, author):
    # Runs on the suite's database: PostgreSQL, or SQLite with DATABASE_URL=sqlite:///… (the embedded default).
    now = timezone.now()
    for days in (1, 2, 3, 4, 5):
        proposal = make_proposal(title=f"{days} days old", owner=author)
        Proposal.objects.filter(pk=proposal.pk).update(created_at=now - timedelta(days=days))
    page = wg_client.get(DASHBOARD)
    experiment = page.context["time_in_stage"][0]
    # Interpolated between the closest stints, as PostgreSQL's percentile_cont does.
    assert (experiment.label, experiment.count, experiment.median_days, experiment.p90_days) == (
        "Experiment",
        5,
        3.0,
        4.6,
    )
    html = page.content.decode()
    assert '<th scope="row">Experiment</th><td>5</td><td>3.0</td><td>4.6</td>' in html
    assert "needs PostgreSQL" not in html


def test_charts_come_with_their_numbers_in_tables(wg_client, public):
    html = wg_client.get(DASHBOARD).content.decode()
    charts = re.findall(r'<svg class="chart"[^>]*>', html)
    assert len(charts) == 3
    assert all('aria-hidden="true" focusable="false"' in chart for chart in charts)  # the tables carry the numbers
    assert "<caption>Proposals per stage and state" in html
    assert "<caption>Proposals per confidence, by stage</caption>" in html
    assert "<caption>Days spent in each stage" in html
    assert "cdn" not in html.lower()


# --- CSV ----------------------------------------------------------------------------------------------------


def test_csv_has_one_row_per_proposal_with_review_states(wg_client, public, reviewer):
    set_review(public, "data", Review.Status.APPROVED, reviewer=reviewer)
    Proposal.objects.filter(pk=public.pk).update(confidence="high", labels=["wg-ai-integration", "duo-chat"])
    response = wg_client.get(CSV)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="stagegate-proposals-')
    header, row = csv_rows(response)
    assert header[:10] == [
        "ID",
        "Title",
        "Owner",
        "Stage",
        "State",
        "Confidence",
        "Confidential",
        "Labels",
        "Created",
        "Updated",
    ]
    assert header[11] == "ORR 2: Data Limitation"
    assert row[:8] == [
        str(public.pk),
        "Explain pipeline failures",
        "ada",
        "General Availability",
        "Draft",
        "High",
        "no",
        "~wg-ai-integration ~duo-chat",
    ]
    assert row[11] == "Approved"
    assert row[10] == "Not started"


def test_csv_cells_cannot_run_as_formulas(wg_client, make_proposal, author):
    make_proposal(title='=HYPERLINK("http://evil.example","click")', owner=author)
    make_proposal(title="+1+1", owner=author)
    make_proposal(title="@SUM(A1)", owner=author)
    titles = sorted(titles_in_csv(wg_client.get(CSV)))
    assert titles == ["'+1+1", '\'=HYPERLINK("http://evil.example","click")', "'@SUM(A1)"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [("=1+2", "'=1+2"), ("-2", "'-2"), ("\tx", "'\tx"), ("plain", "plain"), (None, ""), ("a=b", "a=b")],
)
def test_safe_cell(value, shown):
    assert safe_cell(value) == shown


def test_an_empty_portfolio_still_renders_every_panel(wg_client):
    page = wg_client.get(DASHBOARD)
    html = page.content.decode()
    assert page.status_code == 200
    assert page.context["total"] == 0
    assert "No proposal matches these filters." in html
    assert "No proposal is in GA work." in html
    assert [row.total for row in page.context["stages"]] == [0, 0, 0]
    assert csv_rows(wg_client.get(CSV))[1:] == []
