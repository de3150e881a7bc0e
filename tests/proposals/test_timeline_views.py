"""The timeline page: every entry of a proposal, filtered by kind, person and date, paged, exported as CSV;
GitLab's internal notes only for those allowed; the read page shows the newest few and links to the rest."""

import csv
import io
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals.csv_export import FORMULA_STARTS
from proposals.models import Activity
from tests.factories import ProposalFactory, UserFactory


def timeline_url(proposal, **params):
    return reverse("proposals:timeline", args=[proposal.pk]) + (f"?{urlencode(params)}" if params else "")


def csv_url(proposal, **params):
    return reverse("proposals:timeline-csv", args=[proposal.pk]) + (f"?{urlencode(params)}" if params else "")


def csv_rows(response) -> list[list[str]]:
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def entry(proposal, message, *, kind=Activity.Kind.EDITED, actor=None, data=None):
    return Activity.objects.record(proposal, kind=kind, message=message, actor=actor, data=data)


def internal_note(proposal, text="Legal says no"):
    """What the sync writes for a GitLab internal note when GITLAB_INTERNAL_NOTES_ON_TIMELINE is on."""
    return entry(
        proposal,
        f"bob wrote an internal note on GitLab: {text}",
        kind=Activity.Kind.COMMENT,
        data={"note_id": 7, "by": "bob", "internal": True},
    )


def grow(proposal, actor, count):
    Activity.objects.bulk_create(
        Activity(proposal=proposal, actor=actor, kind=Activity.Kind.EDITED, message=f"{actor} edit number {n}")
        for n in range(count)
    )


@pytest.mark.django_db
def test_the_timeline_shows_every_entry_newest_first_a_page_at_a_time(author_client, author, proposal):
    for n in range(60):
        entry(proposal, f"ada edit number {n:02d}", actor=author)
    first = author_client.get(timeline_url(proposal)).content.decode()
    assert "61 entries" in first  # with "ada created the proposal"
    assert first.index("edit number 59") < first.index("edit number 58")
    assert "edit number 10" in first and "edit number 09" not in first
    assert "Page 1 of 2" in first
    second = author_client.get(timeline_url(proposal, page=2)).content.decode()
    assert "edit number 09" in second and "ada created the proposal" in second and "edit number 10" not in second


@pytest.mark.django_db
def test_filters_narrow_by_kind_person_and_date(author_client, author, admin_user, proposal, monkeypatch):
    entry(proposal, "ada edited Problem to be solved", actor=author)
    entry(proposal, "barbara approved the data review", kind=Activity.Kind.REVIEW, actor=admin_user)
    # A comment from a GitLab account with no Stagegate user: the sync names it in data["by"].
    entry(proposal, "gl-carol commented on GitLab: Nice", kind=Activity.Kind.COMMENT, data={"by": "gl-carol"})
    last_week = timezone.now() - timedelta(days=7)
    monkeypatch.setattr(timezone, "now", lambda: last_week)
    entry(proposal, "ada edited a week ago", actor=author)
    monkeypatch.undo()

    def shown(**params):
        return author_client.get(timeline_url(proposal, **params)).content.decode()

    by_kind = shown(kind="review")
    assert "1 entry" in by_kind and "barbara approved" in by_kind and "ada edited" not in by_kind
    page = shown()
    for person in ("ada", "barbara", "gl-carol"):
        assert f'<option value="{person}">{person}</option>' in page
    by_barbara = shown(person="barbara")
    assert "1 entry" in by_barbara and "barbara approved" in by_barbara
    by_carol = shown(person="gl-carol")
    assert "1 entry" in by_carol and "commented on GitLab: Nice" in by_carol
    assert "3 entries" in shown(person="ada")  # created, edited, edited a week ago
    today = timezone.localdate()
    recent = shown(date_from=(today - timedelta(days=1)).isoformat())
    assert "4 entries" in recent and "a week ago" not in recent
    old = shown(date_to=(today - timedelta(days=3)).isoformat())
    assert "1 entry" in old and "ada edited a week ago" in old
    assert "0 entries" in shown(kind="review", person="ada")
    # A value that is not a choice (or not a date) filters nothing rather than failing.
    assert "5 entries" in shown(person="nobody-here", date_from="not-a-date")


@pytest.mark.django_db
def test_the_htmx_filter_answers_with_the_results_only(author_client, author, proposal):
    entry(proposal, "ada edited Problem to be solved", actor=author)
    html = author_client.get(timeline_url(proposal, kind="edited"), headers={"HX-Request": "true"}).content.decode()
    assert html.lstrip().startswith('<div id="timeline-results">')
    assert "1 entry" in html and "<form" not in html


@pytest.mark.django_db
def test_the_csv_export_streams_the_filtered_timeline_and_defuses_formulas(author_client, author, proposal):
    entry(proposal, '=HYPERLINK("http://evil","click")', kind=Activity.Kind.COMMENT, data={"by": "-mallory"})
    entry(proposal, "ada edited Problem to be solved", actor=author)
    rows = csv_rows(author_client.get(csv_url(proposal)))
    assert rows[0] == ["created_at", "person", "kind", "internal", "message"]
    assert len(rows) == 4
    cells = [cell for row in rows[1:] for cell in row]
    assert [cell for cell in cells if cell.startswith(FORMULA_STARTS)] == []
    assert rows[2][1:] == ["'-mallory", "Comment", "no", '\'=HYPERLINK("http://evil","click")']
    filtered = csv_rows(author_client.get(csv_url(proposal, kind="edited")))
    assert [row[4] for row in filtered[1:]] == ["ada edited Problem to be solved"]


@pytest.mark.django_db
def test_the_history_csv_defuses_formulas_with_the_same_rule(author_client, author, proposal):
    from tests.helpers import edit

    edit(proposal, author, user_problem="\n=1+1")
    rows = csv_rows(author_client.get(reverse("proposals:history-csv", args=[proposal.pk])))
    assert [cell for row in rows[1:] for cell in row if cell.startswith(FORMULA_STARTS)] == []


@pytest.mark.django_db
def test_internal_notes_are_shown_only_to_those_gitlab_shows_them_to(
    client, author, reviewer, working_group_member, proposal
):
    internal_note(proposal)
    entry(proposal, "gl-carol commented on GitLab: Public thought", kind=Activity.Kind.COMMENT, data={"by": "gl-carol"})
    for person in (author, reviewer):
        client.force_login(person)
        page = client.get(timeline_url(proposal)).content.decode()
        assert "Legal says no" in page and "Internal note" in page and "3 entries" in page
        assert "Legal says no" in client.get(proposal.get_absolute_url()).content.decode()
        assert any("Legal says no" in row[4] for row in csv_rows(client.get(csv_url(proposal))))
    client.force_login(working_group_member)
    page = client.get(timeline_url(proposal)).content.decode()
    assert "Legal says no" not in page and "2 entries" in page and "Public thought" in page
    assert '<option value="bob">' not in page  # the internal note's author is not named either
    asked_for_bob = client.get(timeline_url(proposal, person="bob")).content.decode()
    assert "Legal says no" not in asked_for_bob and "2 entries" in asked_for_bob
    assert "Legal says no" not in client.get(proposal.get_absolute_url()).content.decode()
    exported = csv_rows(client.get(csv_url(proposal)))
    assert len(exported) == 3 and not any("Legal says no" in cell for row in exported for cell in row)


@pytest.mark.django_db
def test_a_confidential_proposals_timeline_does_not_exist_for_other_readers(client, author, proposal):
    entry(proposal, "ada wrote the secret plan", actor=author)
    proposal.confidential = True
    proposal.save(update_fields=["confidential"])
    client.force_login(UserFactory(username="walt", groups=["working group"]))
    page = client.get(timeline_url(proposal))
    assert page.status_code == 404 and b"secret plan" not in page.content
    export = client.get(csv_url(proposal))
    assert export.status_code == 404 and b"secret plan" not in export.content
    client.force_login(author)
    assert b"secret plan" in client.get(timeline_url(proposal)).content


@pytest.mark.django_db
def test_the_read_page_shows_the_newest_ten_entries_and_links_to_the_whole_timeline(author_client, author, proposal):
    for n in range(15):
        entry(proposal, f"ada edit number {n:02d}", actor=author)
    html = author_client.get(proposal.get_absolute_url()).content.decode()
    assert "edit number 14" in html and "edit number 05" in html and "edit number 04" not in html
    assert f'href="{timeline_url(proposal)}">Whole timeline</a>' in html


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["timeline", "timeline-csv", "detail"])
def test_timeline_pages_cost_the_same_queries_at_10_and_1000_entries(
    author_client, author, page, django_assert_max_num_queries, django_assert_num_queries
):
    proposal = ProposalFactory(owner=author)
    grow(proposal, author, 10)
    internal_note(proposal)
    url = reverse(f"proposals:{page}", args=[proposal.pk])
    author_client.get(proposal.get_absolute_url())  # the first visit writes "last looked"; later ones do not

    def fetch():
        response = author_client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        return response

    with django_assert_max_num_queries(30) as small:
        assert fetch().status_code == 200
    grow(proposal, author, 990)
    for n in range(20):  # more people on the timeline: the person filter's choices stay one query
        grow(proposal, UserFactory(username=f"person{n}"), 1)
    with django_assert_num_queries(len(small)):
        assert fetch().status_code == 200
