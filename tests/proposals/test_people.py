"""Co-authors and handing a proposal over, from its page: who may, what they may then do, who is told."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals import services
from proposals.models import Activity, Proposal
from reviews.models import InAppNotification, Notification
from tests.factories import ProposalFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_owner_names_a_co_author_who_then_edits_and_reads_the_confidential_proposal(
    author_client, author, other_author
):
    client = Client()
    secret = ProposalFactory(owner=author, confidential=True)
    client.force_login(other_author)
    assert client.get(f"/proposals/{secret.pk}/edit/").status_code == 404

    page = author_client.get(f"/proposals/{secret.pk}/").content.decode()
    assert "Add a co-author" in page and "grace" not in page  # named by username, not listed
    author_client.post(f"/proposals/{secret.pk}/co-authors/", {"add": "grace"})

    assert client.get(f"/proposals/{secret.pk}/edit/").status_code == 200
    assert client.post(f"/proposals/{secret.pk}/requirements/", {"text": "Written together"}).status_code == 302
    assert secret.requirements.get().text == "Written together"
    assert "grace" in [p.username for p in Proposal.objects.visible_to(other_author).get(pk=secret.pk).co_authors.all()]
    assert InAppNotification.objects.filter(user=other_author, proposal=secret).exists()
    # A co-author edits; handing over and naming co-authors stay the owner's.
    assert client.post(f"/proposals/{secret.pk}/owner/", {"owner": "grace", "confirmed": "yes"}).status_code == 403
    assert client.post(f"/proposals/{secret.pk}/co-authors/", {"remove": "grace"}).status_code == 403
    assert "Hand over this proposal" not in client.get(f"/proposals/{secret.pk}/").content.decode()


def test_removing_a_co_author_ends_their_editing(author_client, author, other_author, proposal):
    services.proposal_set_co_authors(proposal=proposal, co_authors=[other_author], by=author)

    author_client.post(f"/proposals/{proposal.pk}/co-authors/", {"remove": "grace"})

    client = Client()
    client.force_login(other_author)
    assert client.get(f"/proposals/{proposal.pk}/edit/").status_code == 403
    assert proposal.activities.filter(message__contains="removed grace as co-author").exists()


def test_handing_over_is_on_the_timeline_and_the_new_owner_is_told_by_mail_and_bell(
    author_client, author, other_author, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    other_author.email = "grace@example.com"
    other_author.save()
    proposal = ProposalFactory(owner=author)

    with django_capture_on_commit_callbacks(execute=True):
        asked = author_client.post(f"/proposals/{proposal.pk}/owner/", {"owner": "grace"})
        assert "Hand “" in asked.content.decode() and Proposal.objects.get(pk=proposal.pk).owner == author
        response = author_client.post(f"/proposals/{proposal.pk}/owner/", {"owner": "grace", "confirmed": "yes"})

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.owner == other_author
    entry = proposal.activities.get(kind=Activity.Kind.EDITED, message__contains="handed")
    assert entry.actor == author and entry.data == {"owner": ["ada", "grace"]}
    assert InAppNotification.objects.get(user=other_author).event == Notification.Event.AUTHORS
    assert [mail.to for mail in mailoutbox] == [["grace@example.com"]]
    assert "handed you the proposal" in mailoutbox[0].subject


def test_nobody_without_the_author_role_becomes_owner_or_co_author(author_client, author, working_group_member):
    proposal = ProposalFactory(owner=author)

    author_client.post(f"/proposals/{proposal.pk}/owner/", {"owner": "katherine", "confirmed": "yes"})
    author_client.post(f"/proposals/{proposal.pk}/co-authors/", {"add": "katherine"})

    proposal.refresh_from_db()
    assert proposal.owner == author and not proposal.co_authors.exists()
    with pytest.raises(services.AuthorRefused):
        services.proposal_transfer_ownership(proposal=proposal, new_owner=working_group_member, by=author)


def test_co_authors_never_review_or_approve_their_proposal(author, other_author):
    from proposals import access

    reviewer_and_co_author = UserFactory(username="lise", groups=["author", "reviewer", "working group"])
    proposal = ProposalFactory(owner=author)
    services.proposal_set_co_authors(proposal=proposal, co_authors=[reviewer_and_co_author], by=author)
    proposal = Proposal.objects.get(pk=proposal.pk)

    assert not access.may_approve(reviewer_and_co_author, proposal)
    review = proposal.reviews.select_related("area", "proposal").first()
    assert not access.may_decide(reviewer_and_co_author, review)


def test_the_edit_queryset_lists_a_co_authored_proposal_once(author, other_author):
    proposal = ProposalFactory(owner=author)
    services.proposal_set_co_authors(proposal=proposal, co_authors=[other_author], by=author)
    third = UserFactory(username="third", groups=["author"])
    services.proposal_set_co_authors(proposal=proposal, co_authors=[other_author, third], by=author)

    assert list(Proposal.objects.editable_by(other_author)) == [proposal]
    assert list(Proposal.objects.editable_by(third).filter(confidential=False)) == [proposal]


@pytest.mark.django_db
def test_the_authors_panel_costs_the_same_however_many_people_could_be_named(client, django_assert_num_queries):
    # People are named by username and checked when the form is sent: the page lists none of them.
    owner = UserFactory(username="olive", groups=["author"])
    proposal = ProposalFactory(owner=owner)
    client.force_login(owner)
    url = reverse("proposals:detail", args=[proposal.pk])
    with CaptureQueriesContext(connection) as few:
        page = client.get(url).content.decode()
    assert 'name="owner"' in page and 'name="add"' in page
    for n in range(30):
        UserFactory(username=f"writer{n}", groups=["author"])
    with django_assert_num_queries(len(few)):
        page = client.get(url).content.decode()
    assert "writer7" not in page


@pytest.mark.django_db
def test_an_unknown_username_is_named_in_the_refusal(client):
    owner = UserFactory(username="olive", groups=["author"])
    proposal = ProposalFactory(owner=owner)
    client.force_login(owner)
    response = client.post(reverse("proposals:owner", args=[proposal.pk]), {"owner": " nobody-here "}, follow=True)
    assert "No one in Stagegate has the username “nobody-here”." in response.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).owner == owner
