"""The ORR setup page: admins and working-group leads set each area's reviewers, lead, service level and Slack."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from reviews import services
from reviews.models import OrrArea, OrrAreaChange
from tests.factories import UserFactory
from tests.reviews.conftest import review_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(db):
    return UserFactory(username="wg_lead", groups=["working group", "working group lead"])


def post_area(client, key, **values):
    data = {f"{key}-service_level_days": "5", f"{key}-slack_webhook_url": ""}
    data.update({f"{key}-{name}": value for name, value in values.items()})
    return client.post(f"/reviews/setup/{key}/", data)


def test_a_working_group_lead_sets_up_an_area_and_the_change_is_on_the_timeline(client, lead, areas):
    group = Group.objects.create(name="data reviewers")
    alan = UserFactory(username="alan", groups=["reviewer"])
    client.force_login(lead)
    assert client.get("/reviews/setup/").status_code == 200
    response = post_area(
        client,
        "data",
        reviewer_group=group.pk,
        reviewers=[alan.pk],
        lead=alan.pk,
        service_level_days="3",
        slack_webhook_url="https://hooks.slack.com/services/T/B/X",
    )
    assert response.status_code == 302
    area = OrrArea.objects.get(key="data")
    assert (area.reviewer_group, area.lead, area.service_level_days) == (group, alan, 3)
    assert list(area.reviewers.all()) == [alan]
    changes = {change.field: change for change in OrrAreaChange.objects.filter(area=area)}
    assert set(changes) == {"reviewer_group", "reviewers", "lead", "service_level_days", "slack_webhook_url"}
    assert (changes["service_level_days"].before, changes["service_level_days"].after) == ("5", "3")
    assert changes["service_level_days"].changed_by == lead
    # The timeline says that the Slack webhook changed, never what the secret URL is.
    assert "hooks.slack.com" not in changes["slack_webhook_url"].after
    page = client.get("/reviews/setup/").content.decode()
    assert "changed service_level_days of Data Limitation" in page
    assert "hooks.slack.com/services/T/B/X" not in page.split('id="setup-timeline"')[1]


def test_others_are_refused(client, author, reviewer, working_group_member, areas):
    for user in (author, reviewer, working_group_member):
        client.force_login(user)
        assert client.get("/reviews/setup/").status_code == 403
        assert post_area(client, "data", service_level_days="1").status_code == 403
    assert OrrArea.objects.get(key="data").service_level_days == 5
    assert not OrrAreaChange.objects.exists()


def test_a_non_https_slack_webhook_or_a_zero_service_level_is_refused_on_the_page(client, admin_user, areas):
    client.force_login(admin_user)
    response = post_area(client, "cost", slack_webhook_url="http://hooks.example/x", service_level_days="0")
    assert response.status_code == 200
    assert "A Slack webhook is an https:// address." in response.content.decode()
    assert OrrArea.objects.get(key="cost").slack_webhook_url == ""


def test_named_reviewers_serve_an_area_and_leave_it_when_removed(
    client, admin_user, submitted_proposal, areas, django_capture_on_commit_callbacks
):
    named = UserFactory(username="named", groups=["reviewer"])
    services.orr_area_update(area=areas["model"], by=admin_user, reviewers=[named])
    review = review_of(submitted_proposal, "model")
    client.force_login(named)
    assert client.post(f"/reviews/{review.pk}/take/").status_code == 302
    assert review_of(submitted_proposal, "model").reviewer == named
    services.orr_area_update(area=areas["model"], by=admin_user, reviewers=[])
    assert review_of(submitted_proposal, "model").reviewer is None
    review.refresh_from_db()
    response = client.post(
        f"/reviews/{review.pk}/decide/",
        {"kind": "approved", "comment": "", "answer_sha256": review.answer_sha256},
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_named_reviewers_are_a_searchable_list_of_checkboxes_labelled_by_name(client, admin_user):

    for name in ("rosalind", "grace", "katherine"):
        UserFactory(username=name, groups=["reviewer"])
    client.force_login(admin_user)
    page = client.get("/reviews/setup/").content.decode()
    data = page[page.index('id="area-data"') :]
    data = data[: data.index("</fieldset>")]
    assert "<select multiple" not in page and "data-people-search" in data
    assert data.count('type="checkbox" name="data-reviewers"') == 3
    assert '<label for="id_data-reviewers_0">' in data and "grace" in data
