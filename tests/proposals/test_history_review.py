"""For reviewers: what changed in the whole proposal since the area's decision, on the review page."""

import pytest
from django.urls import reverse

from reviews import services as review_services
from tests.helpers import edit
from tests.reviews import conftest as orr

# The ORR's fixtures (areas with reviewer groups, a submitted proposal), shared with its tests.
areas, make_reviewer, data_reviewer = orr.areas, orr.make_reviewer, orr.data_reviewer
answered_proposal, submitted_proposal, tasks_run_inline = (
    orr.answered_proposal,
    orr.submitted_proposal,
    orr.tasks_run_inline,
)
review_of = orr.review_of


@pytest.mark.django_db
def test_the_review_page_shows_every_part_changed_since_the_decision(client, author, data_reviewer, submitted_proposal):
    review = review_of(submitted_proposal, "data")
    review_services.review_decide(review=review, kind="approved", by=data_reviewer)
    page = reverse("reviews:detail", args=[review.pk])
    client.force_login(data_reviewer)
    assert 'id="changes-since-decision"' in client.get(page).content.decode()
    assert "Nothing has changed since then." in client.get(page).content.decode()

    edit(submitted_proposal, author, user_problem="A new problem statement, written after the sign-off.")
    html = client.get(page).content.decode()
    section = html[html.index('id="changes-since-decision"') :]
    section = section[: section.index("</section>")]
    assert "User problem" in section and "<ins>A new problem statement, written after the sign-off.</ins>" in section
    assert "by rev_data" in section


@pytest.mark.django_db
def test_a_review_without_a_decision_shows_no_such_section(client, data_reviewer, submitted_proposal):
    client.force_login(data_reviewer)
    html = client.get(reverse("reviews:detail", args=[review_of(submitted_proposal, "data").pk])).content.decode()
    assert 'id="changes-since-decision"' not in html
