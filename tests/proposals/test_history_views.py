"""The history pages: word diffs, filters, paging, CSV, "since I last looked" and "since the decision"."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals import history, services
from proposals.models import FieldChange
from tests.factories import ProposalFactory, UserFactory
from tests.helpers import edit


def history_url(proposal, **params):
    from urllib.parse import urlencode

    return reverse("proposals:history", args=[proposal.pk]) + (f"?{urlencode(params)}" if params else "")


@pytest.mark.django_db
def test_the_history_shows_each_change_as_a_word_diff(author_client, author, proposal, monkeypatch):
    monkeypatch.setattr(history, "COALESCE_WINDOW", timedelta(0))
    edit(proposal, author, user_problem="Reviewers drown in long threads every day.")
    edit(proposal, author, user_problem="Reviewers drown in noisy threads every day.")
    html = author_client.get(history_url(proposal)).content.decode()
    assert "<del>long</del><ins>noisy</ins>" in html
    assert "User problem" in html and "Problem to be solved" in html
    assert "2 changes" in html


@pytest.mark.django_db
def test_filters_narrow_by_section_kind_person_and_date(author_client, author, admin_user, proposal):
    edit(proposal, author, user_problem="Ada's problem.")
    edit(proposal, admin_user, solution_hypothesis="Barbara's hypothesis.")
    item = proposal.checklist_items.filter(checked_by_app=False).first()
    services.checklist_toggle(item=item, checked=True, by=author)

    def shown(**params):
        return author_client.get(history_url(proposal, **params)).content.decode()

    assert "Ada&#x27;s problem." not in shown(person="barbara") and "Barbara" in shown(person="barbara")
    by_kind = shown(kind="checklist")
    assert "1 change" in by_kind and "ticked" in by_kind and "Ada&#x27;s problem." not in by_kind
    assert "2 changes" in shown(section="problem")
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert "0 changes" in shown(date_from=tomorrow)
    assert "3 changes" in shown(date_to=tomorrow)


@pytest.mark.django_db
def test_the_csv_export_streams_the_filtered_history_and_defuses_formulas(author_client, author, proposal):
    edit(proposal, author, user_problem='=HYPERLINK("http://evil")')
    edit(proposal, author, solution_hypothesis="Plain.")
    response = author_client.get(reverse("proposals:history-csv", args=[proposal.pk]) + "?kind=text")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["changed_at", "started_at", "person"]
    afters = [row[7] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil")' in afters and "Plain." in afters


@pytest.mark.django_db
def test_a_confidential_proposals_history_is_not_shown_to_other_readers(client, author, proposal):
    edit(proposal, author, user_problem="A secret problem.")
    proposal.confidential = True
    proposal.save(update_fields=["confidential"])
    outsider = UserFactory(username="walt", groups=["working group"])
    client.force_login(outsider)
    assert client.get(history_url(proposal)).status_code == 404
    csv_response = client.get(reverse("proposals:history-csv", args=[proposal.pk]))
    assert csv_response.status_code == 404 and b"secret" not in csv_response.content


@pytest.mark.django_db
def test_a_reader_sees_what_changed_since_they_last_looked(client, author, working_group_member, proposal):
    client.force_login(working_group_member)
    first = client.get(proposal.get_absolute_url()).content.decode()
    assert 'id="since-last-look"' not in first
    edit(proposal, author, user_problem="Written after the first look.")
    second = client.get(proposal.get_absolute_url()).content.decode()
    assert 'id="since-last-look"' in second and "1 part changed since you last looked" in second
    assert 'User problem <span class="badge badge-changed">Changed</span>' in second
    third = client.get(proposal.get_absolute_url()).content.decode()
    assert 'id="since-last-look"' not in third  # seen now


@pytest.mark.django_db
def test_the_since_link_shows_each_part_from_then_to_now(author_client, author, proposal, monkeypatch):
    monkeypatch.setattr(history, "COALESCE_WINDOW", timedelta(0))
    edit(proposal, author, user_problem="First.")
    then = timezone.now()
    edit(proposal, author, user_problem="Second.")
    edit(proposal, author, user_problem="Third.")
    html = author_client.get(history_url(proposal, since=then.isoformat())).content.decode()
    summary = html[html.index('id="summary-title"') : html.index('class="filters"')]
    assert "<del>First.</del><ins>Third.</ins>" in summary and "Second." not in summary


@pytest.mark.django_db
def test_own_changes_do_not_count_as_news(author_client, author, proposal):
    author_client.get(proposal.get_absolute_url())
    edit(proposal, author, user_problem="My own words.")
    assert 'id="since-last-look"' not in author_client.get(proposal.get_absolute_url()).content.decode()


def _grow_history(proposal, author, count):
    for n in range(count):
        FieldChange.objects.create(
            proposal=proposal,
            field="field:user_problem",
            section="problem",
            before=f"v{n}",
            after=f"v{n + 1}",
            actor=author,
            actor_name=author.username,
        )


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["history", "history-csv", "detail"])
def test_history_pages_cost_the_same_queries_at_10_and_1000_changes(
    author_client, author, page, django_assert_max_num_queries, django_assert_num_queries
):
    proposal = ProposalFactory(owner=author)
    _grow_history(proposal, author, 10)
    url = reverse(f"proposals:{page}", args=[proposal.pk])
    author_client.get(proposal.get_absolute_url())

    def fetch():
        response = author_client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        return response

    with django_assert_max_num_queries(30) as small:
        assert fetch().status_code == 200
    _grow_history(proposal, author, 990)
    with django_assert_num_queries(len(small)):
        assert fetch().status_code == 200
