"""Every edit made in the Django admin is on the proposal's timeline: who, and what changed."""

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from proposals.models import Activity, Proposal, Requirement
from reviews.models import Review
from tests.factories import ProposalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def change_form_data(model, obj, superuser) -> dict:
    """What the admin's change form posts back unchanged, with empty inlines (the rows stay as they are)."""
    model_admin = site._registry[model]
    request = RequestFactory().get("/")
    request.user = superuser
    form = model_admin.get_form(request, obj)(instance=obj)
    data = {}
    for name in form.fields:
        value = form[name].value()  # as the form would show it: prepared already
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    for inline in model_admin.get_inline_instances(request, obj):
        prefix = inline.get_formset(request, obj).get_default_prefix()
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return data


def admin_entries(proposal):
    return list(Activity.objects.filter(proposal=proposal, data__admin=True).order_by("created_at", "id"))


def test_changing_a_proposal_in_the_admin_records_who_changed_which_fields(admin_client, superuser, author):
    proposal = ProposalFactory(owner=author, title="Before")
    version = proposal.version
    data = change_form_data(Proposal, proposal, superuser) | {"title": "After", "user_problem": "Long threads."}

    response = admin_client.post(f"/admin/proposals/proposal/{proposal.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    (entry,) = admin_entries(proposal)
    assert entry.actor == superuser
    assert "root changed" in entry.message and "in the admin" in entry.message
    assert set(entry.data["fields"]) == {"title", "user_problem"}
    assert entry.data["changes"]["title"] == ["Before", "After"]
    assert Proposal.objects.get(pk=proposal.pk).version > version


def test_saving_without_a_change_records_nothing(admin_client, superuser, author):
    proposal = ProposalFactory(owner=author)

    unchanged = change_form_data(Proposal, proposal, superuser)
    admin_client.post(f"/admin/proposals/proposal/{proposal.pk}/change/", unchanged)

    assert admin_entries(proposal) == []


def test_requirement_edits_and_deletions_in_the_admin_are_on_the_proposal_timeline(admin_client, author):
    proposal = ProposalFactory(owner=author)
    requirement = Requirement.objects.create(proposal=proposal, text="Read a summary", position=0)
    other = Requirement.objects.create(proposal=proposal, text="Share it", position=1)

    admin_client.post(
        f"/admin/proposals/requirement/{requirement.pk}/change/",
        {"proposal": proposal.pk, "text": "Read a short summary", "position": 0},
    )
    admin_client.post(
        "/admin/proposals/requirement/",
        {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"},
    )

    messages = [entry.message for entry in admin_entries(proposal)]
    assert messages == [
        "root changed a requirement (text) in the admin",
        "root removed a requirement “Share it” in the admin",
    ]
    assert admin_entries(proposal)[0].data["changes"]["text"] == ["Read a summary", "Read a short summary"]


def test_removing_an_orr_review_in_the_admin_is_on_the_timeline(admin_client, author):
    proposal = ProposalFactory(owner=author)
    review = Review.objects.filter(proposal=proposal).select_related("area").first()

    response = admin_client.post(f"/admin/reviews/review/{review.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    (entry,) = admin_entries(proposal)
    assert entry.message == f"root removed the ORR review of “{review.area.title}” in the admin"


def add_form_data(superuser, **values) -> dict:
    """What the admin's add form posts with its defaults, no inline rows, and these values."""
    model_admin = site._registry[Proposal]
    request = RequestFactory().get("/")
    request.user = superuser
    form = model_admin.get_form(request, None)()
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False or value == []:
            continue
        data[name] = "on" if value is True else value
    for inline in model_admin.get_inline_instances(request, None):
        prefix = inline.get_formset(request, None).get_default_prefix()
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return data | values


def test_a_proposal_added_in_the_admin_is_created_like_any_other(admin_client, superuser, author):
    from gitlab_sync.models import SyncState
    from proposals import search
    from proposals.models import ChecklistItem, FieldChange
    from reviews.models import OrrArea

    data = add_form_data(superuser, title="Summarise incident timelines", owner=author.pk)
    data["user_problem"] = "On-call engineers rebuild the timeline by hand."
    data |= {"requirements-TOTAL_FORMS": 1, "requirements-0-text": "Read the timeline", "requirements-0-position": 0}

    response = admin_client.post("/admin/proposals/proposal/add/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    proposal = Proposal.objects.get(title="Summarise incident timelines")
    assert proposal.owner == author
    assert proposal.labels[0] == proposal.definition.label
    # Its checklists, its ORR reviews and its sync state, as proposal_create makes them.
    assert ChecklistItem.objects.filter(proposal=proposal).count() == sum(
        len(checklist.items) for checklist in proposal.definition.checklists
    )
    assert Review.objects.filter(proposal=proposal).count() == OrrArea.objects.count() > 0
    assert SyncState.objects.filter(proposal=proposal).exists()
    # On the timeline: who created it, for whom, and what else the form filled in.
    kinds = list(Activity.objects.filter(proposal=proposal).order_by("created_at", "id").values_list("kind", "message"))
    assert kinds[0] == (Activity.Kind.CREATED, f"root created the proposal for {author}")
    assert any("filled in" in message and "in the admin" in message for _, message in kinds)
    # In the history, as the admin's own changes, and found by search.
    changes = {row.field: row for row in FieldChange.objects.filter(proposal=proposal)}
    assert changes["field:user_problem"].after == "On-call engineers rebuild the timeline by hand."
    assert changes["field:user_problem"].actor == superuser and changes["field:user_problem"].origin == "admin"
    assert changes["list:requirements"].after == "Read the timeline"
    assert proposal.requirements.get().text == "Read the timeline"
    hits = search.search("rebuild the timeline", visible=Proposal.objects.visible_to(author))[0:10]
    assert [hit.proposal for hit in hits] == [proposal]


def test_co_authors_named_in_the_admin_are_told_as_on_the_proposals_page(
    admin_client, superuser, author, other_author, django_user_model
):
    from reviews.models import InAppNotification

    reader = django_user_model.objects.create_user("reader")
    data = add_form_data(superuser, title="Summarise incident timelines", owner=author.pk)
    response = admin_client.post("/admin/proposals/proposal/add/", data | {"co_authors": [reader.pk]})
    assert response.status_code == 200  # someone who may not write proposals is not offered
    response = admin_client.post("/admin/proposals/proposal/add/", data | {"co_authors": [other_author.pk]})
    assert response.status_code == 302, response.content.decode()[:3000]
    proposal = Proposal.objects.get(title="Summarise incident timelines")
    assert list(proposal.co_authors.all()) == [other_author]
    notice = InAppNotification.objects.get(user=other_author, proposal=proposal)
    assert "made you a co-author" in notice.subject
    assert Activity.objects.filter(proposal=proposal, data__co_authors_added=[other_author.username]).exists()

    data = change_form_data(Proposal, proposal, superuser) | {"co_authors": []}
    response = admin_client.post(f"/admin/proposals/proposal/{proposal.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not proposal.co_authors.exists()
    assert Activity.objects.filter(proposal=proposal, data__co_authors_removed=[other_author.username]).exists()


def test_row_admin_pages_write_the_proposals_history(admin_client, superuser, author):
    from proposals.models import ChecklistItem, FieldChange, ResearchLink

    proposal = ProposalFactory(owner=author)
    requirement = Requirement.objects.create(proposal=proposal, text="Read a summary", position=0)
    Requirement.objects.create(proposal=proposal, text="Share it", position=1)
    item = ChecklistItem.objects.filter(proposal=proposal).first()

    admin_client.post(
        f"/admin/proposals/requirement/{requirement.pk}/change/",
        {"proposal": proposal.pk, "text": "Read a short summary", "position": 0},
    )
    admin_client.post(
        "/admin/proposals/researchlink/add/",
        {"proposal": proposal.pk, "url": "https://example.com/study", "title": "Interviews", "position": 0},
    )
    admin_client.post(
        f"/admin/proposals/checklistitem/{item.pk}/change/",
        {"proposal": proposal.pk, "stage": item.stage, "key": item.key, "checked": "on", "position": item.position},
    )
    admin_client.post(f"/admin/proposals/requirement/{requirement.pk}/delete/", {"post": "yes"})

    rows = list(FieldChange.objects.filter(proposal=proposal).order_by("id"))
    assert [(row.field, row.before, row.after) for row in rows] == [
        ("list:requirements", "Read a summary\nShare it", "Read a short summary\nShare it"),
        ("research_links", "", "Interviews — https://example.com/study"),
        (f"check:{item.stage}:{item.key}", "not ticked", "ticked"),
        ("list:requirements", "Read a short summary\nShare it", "Share it"),
    ]
    assert all(row.actor == superuser and row.origin == "admin" for row in rows)
    assert ResearchLink.objects.filter(proposal=proposal).count() == 1
    # The timeline has them too, as before.
    assert len(admin_entries(proposal)) == 4


def test_deleting_rows_of_two_proposals_at_once_writes_each_ones_history(admin_client, author):
    from proposals.models import FieldChange

    first, second = ProposalFactory(owner=author), ProposalFactory(owner=author)
    ids = [
        Requirement.objects.create(proposal=first, text="One", position=0).pk,
        Requirement.objects.create(proposal=second, text="Two", position=0).pk,
    ]

    admin_client.post(
        "/admin/proposals/requirement/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )

    for proposal, text in ((first, "One"), (second, "Two")):
        (row,) = FieldChange.objects.filter(proposal=proposal)
        assert (row.field, row.before, row.after) == ("list:requirements", text, "")


def test_ticking_a_checklist_item_on_the_proposals_admin_form_is_in_its_history(admin_client, superuser, author):
    from proposals.models import ChecklistItem, FieldChange

    proposal = ProposalFactory(owner=author)
    items = list(ChecklistItem.objects.filter(proposal=proposal).order_by("id"))
    data = change_form_data(Proposal, proposal, superuser)
    prefix = "checklist_items"
    data |= {f"{prefix}-TOTAL_FORMS": len(items), f"{prefix}-INITIAL_FORMS": len(items)}
    for n, item in enumerate(items):
        data |= {
            f"{prefix}-{n}-id": item.pk,
            f"{prefix}-{n}-proposal": proposal.pk,
            f"{prefix}-{n}-stage": item.stage,
            f"{prefix}-{n}-key": item.key,
            f"{prefix}-{n}-position": item.position,
        }
        if item.checked:
            data[f"{prefix}-{n}-checked"] = "on"
    first = next(item for item in items if not item.checked)
    data[f"{prefix}-{items.index(first)}-checked"] = "on"

    response = admin_client.post(f"/admin/proposals/proposal/{proposal.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    (row,) = FieldChange.objects.filter(proposal=proposal)
    assert (row.field, row.before, row.after) == (f"check:{first.stage}:{first.key}", "not ticked", "ticked")
