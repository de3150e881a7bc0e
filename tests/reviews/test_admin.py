import pytest
from django.core import mail
from django.urls import reverse

from reviews import services
from tests.factories import UserFactory
from tests.reviews.conftest import review_of

# The change form's inline formsets (decisions, comments), empty.
INLINES = {
    f"{prefix}-{field}": "0"
    for prefix in ("decisions", "comments")
    for field in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")
}


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.mark.django_db
def test_assigning_a_reviewer_in_the_admin_tells_them(
    client, superuser, submitted_proposal, make_reviewer, django_capture_on_commit_callbacks
):
    named = make_reviewer("data", "named_one")
    review = review_of(submitted_proposal, "data")
    client.force_login(superuser)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:reviews_review_change", args=[review.pk]), {"reviewer": named.pk, **INLINES}
        )
    assert response.status_code == 302
    assert review_of(submitted_proposal, "data").reviewer == named
    assert [m.to for m in mail.outbox] == [[named.email]]


@pytest.mark.django_db
def test_decisions_are_read_only_in_the_admin(client, superuser, submitted_proposal, data_reviewer):
    decision = services.review_decide(review=review_of(submitted_proposal, "data"), kind="approved", by=data_reviewer)
    client.force_login(superuser)
    url = reverse("admin:reviews_decision_delete", args=[decision.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    page = client.get(reverse("admin:reviews_review_change", args=[decision.review_id])).content.decode()
    assert "Approved" in page


@pytest.mark.django_db
def test_the_area_page_names_who_reviews_it(client, superuser, data_reviewer, areas):
    client.force_login(superuser)
    page = client.get(reverse("admin:reviews_orrarea_change", args=[areas["data"].pk])).content.decode()
    assert "rev_data" in page


@pytest.mark.django_db
def test_a_change_of_an_area_in_the_admin_lands_on_the_orr_setup_timeline(client, superuser, areas):
    from reviews.models import OrrAreaChange

    area = areas["cost"]
    client.force_login(superuser)
    response = client.post(
        reverse("admin:reviews_orrarea_change", args=[area.pk]),
        {
            "title": area.title,
            "guidance": area.guidance,
            "reviewer_group": area.reviewer_group_id,
            "lead": area.lead_id,
            "service_level_days": "9",
            "slack_webhook_url": "",
        },
    )
    assert response.status_code == 302
    change = OrrAreaChange.objects.get(area=area)
    assert (change.field, change.before, change.after, change.changed_by) == ("service_level_days", "5", "9", superuser)
