import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from proposals import services
from proposals.models import Activity, ChecklistItem, Persona
from proposals.template import JUNE_2023

PROBLEM = ("user_problem", "solution_hypothesis", "assumptions", "personas", "persona_tags")


def save(proposal, by, data, *, fields=PROBLEM, version=None, base=None):
    if base is None:
        base = services.section_fingerprint(services.section_values(proposal, fields))
    full = {**services.section_values(proposal, fields), **data}
    return services.proposal_update_section(
        proposal=proposal,
        fields=fields,
        data=full,
        version=proposal.version if version is None else version,
        base=base,
        by=by,
        section_title="Problem to be solved",
    )


@pytest.mark.django_db
def test_a_new_proposal_has_both_checklists_with_every_template_item(author):
    proposal = services.proposal_create(title="Suggest reviewers", owner=author)
    stored = set(proposal.checklist_items.values_list("stage", "key"))
    expected = {(c.stage.value, item.key) for c in JUNE_2023.checklists for item in c.items}
    assert stored == expected
    assert proposal.labels == ["wg-ai-integration"]
    assert proposal.activities.get().kind == Activity.Kind.CREATED


@pytest.mark.django_db
def test_saving_a_section_stores_the_text_bumps_the_version_and_records_one_activity(author, proposal):
    start = proposal.version
    proposal = save(proposal, author, {"user_problem": "Reviewers drown in threads."})
    proposal = save(proposal, author, {"user_problem": "Reviewers drown in long threads."})
    proposal.refresh_from_db()
    assert proposal.user_problem == "Reviewers drown in long threads."
    assert proposal.version == start + 2
    # Autosave bursts are one line on the timeline, not one per keystroke pause.
    assert proposal.activities.filter(kind=Activity.Kind.EDITED).count() == 1


@pytest.mark.django_db
def test_stale_version_is_refused_and_both_texts_are_kept(author, admin_user, proposal):
    loaded_version = proposal.version
    loaded_base = services.section_fingerprint(services.section_values(proposal, PROBLEM))
    save(proposal, admin_user, {"user_problem": "Admin's text"})
    with pytest.raises(services.StaleSection) as stale:
        save(proposal, author, {"user_problem": "Author's text"}, version=loaded_version, base=loaded_base)
    assert stale.value.current["user_problem"] == "Admin's text"
    assert stale.value.submitted["user_problem"] == "Author's text"
    proposal.refresh_from_db()
    assert proposal.user_problem == "Admin's text"


@pytest.mark.django_db
def test_stale_version_from_another_section_does_not_block_a_save(author, proposal):
    loaded_version = proposal.version
    loaded_base = services.section_fingerprint(services.section_values(proposal, PROBLEM))
    services.requirement_add(proposal=proposal, text="See open threads", by=author)
    proposal.refresh_from_db()
    save(proposal, author, {"user_problem": "Still mine"}, version=loaded_version, base=loaded_base)
    proposal.refresh_from_db()
    assert proposal.user_problem == "Still mine"


@pytest.mark.django_db
def test_only_the_author_or_an_admin_may_save(other_author, admin_user, proposal):
    with pytest.raises(PermissionDenied):
        save(proposal, other_author, {"user_problem": "Not mine to write"})
    save(proposal, admin_user, {"user_problem": "Admins may"})
    proposal.refresh_from_db()
    assert proposal.user_problem == "Admins may"


@pytest.mark.django_db
def test_items_the_app_can_verify_follow_the_data(author, proposal):
    item = ChecklistItem.objects.get(proposal=proposal, stage="experiment", key="user_problem")
    assert not item.checked
    proposal = save(proposal, author, {"user_problem": "A real problem"})
    item.refresh_from_db()
    assert item.checked and item.checked_by_app
    save(proposal, author, {"user_problem": ""})
    item.refresh_from_db()
    assert not item.checked
    label_item = ChecklistItem.objects.get(proposal=proposal, stage="experiment", key="label")
    assert label_item.checked  # the wg-ai-integration label is set on every new proposal


@pytest.mark.django_db
def test_a_label_saved_with_a_title_in_one_save_moves_the_items_the_label_verifies(author, proposal):
    label_item = ChecklistItem.objects.get(proposal=proposal, stage="experiment", key="label")
    details = ("title", "labels", "confidential")
    proposal = save(proposal, author, {"title": "Summarise threads", "labels": []}, fields=details)
    label_item.refresh_from_db()
    assert proposal.title == "Summarise threads" and not label_item.checked
    save(proposal, author, {"title": "Summarise long threads", "labels": ["wg-ai-integration"]}, fields=details)
    label_item.refresh_from_db()
    assert label_item.checked and label_item.checked_by_app


@pytest.mark.django_db
def test_personas_item_is_ticked_by_a_persona_tag_alone(author, proposal):
    save(proposal, author, {"persona_tags": [Persona.objects.get(name="Sasha").pk]})
    assert ChecklistItem.objects.get(proposal=proposal, stage="experiment", key="personas").checked


@pytest.mark.django_db
def test_verified_items_cannot_be_ticked_by_hand(author, proposal):
    item = ChecklistItem.objects.get(proposal=proposal, stage="experiment", key="user_problem")
    with pytest.raises(services.ChecklistItemVerified):
        services.checklist_toggle(item=item, checked=True, by=author)
    item.refresh_from_db()
    assert not item.checked


@pytest.mark.django_db
def test_ticking_records_who_and_when(author, proposal):
    item = ChecklistItem.objects.get(proposal=proposal, stage="experiment", key="add_information")
    services.checklist_toggle(item=item, checked=True, by=author)
    item.refresh_from_db()
    assert item.checked and item.checked_by == author and item.checked_at is not None
    services.checklist_toggle(item=item, checked=False, by=author)
    item.refresh_from_db()
    assert not item.checked and item.checked_by is None
    assert proposal.activities.filter(kind=Activity.Kind.CHECKLIST).count() == 2


@pytest.mark.django_db
def test_requirements_keep_their_order_through_moves_and_removals(author, proposal):
    first = services.requirement_add(proposal=proposal, text="See open threads", by=author)
    second = services.requirement_add(proposal=proposal, text="Jump to a thread", by=author)
    third = services.requirement_add(proposal=proposal, text="Copy the summary", by=author)
    services.ordered_row_move(row=third, direction=services.MOVE_UP, by=author)
    assert list(proposal.requirements.values_list("text", flat=True)) == [
        "See open threads",
        "Copy the summary",
        "Jump to a thread",
    ]
    services.ordered_row_move(row=first, direction=services.MOVE_UP, by=author)  # already first
    services.ordered_row_remove(row=second, by=author)
    assert list(proposal.requirements.values_list("text", flat=True)) == ["See open threads", "Copy the summary"]


@pytest.mark.django_db
def test_a_research_link_must_be_a_valid_url(author, proposal):
    with pytest.raises(ValidationError):
        services.research_link_add(proposal=proposal, url="not a url", title="Interviews", by=author)
    assert not proposal.research_links.exists()


@pytest.mark.django_db
def test_the_timeline_is_append_only(proposal):
    activity = proposal.activities.get()
    activity.message = "rewritten"
    with pytest.raises(TypeError):
        activity.save()
    with pytest.raises(TypeError):
        activity.delete()
    with pytest.raises(TypeError):
        proposal.activities.all().delete()
    with pytest.raises(TypeError):
        proposal.activities.update(message="rewritten")


@pytest.mark.django_db
@pytest.mark.parametrize("title", ["Line\nbreak", "NUL\x00inside", "Looks \u202eeman elif", "Tab\there"])
def test_a_title_with_control_or_direction_characters_is_refused_with_a_reason(author, title):
    with pytest.raises(ValidationError, match="control characters"):
        services.proposal_create(title=title, owner=author)


@pytest.mark.django_db
def test_a_javascript_research_link_never_reaches_the_database(author, proposal):
    with pytest.raises(ValidationError, match="http or https"):
        services.research_link_add(proposal=proposal, url="javascript:alert(1)//x", title="Interviews", by=author)
    assert not proposal.research_links.exists()


@pytest.mark.django_db
def test_a_closed_proposal_is_read_only_whichever_way_the_change_comes(author, proposal):
    from django.core.exceptions import PermissionDenied

    from proposals import workflow

    workflow.proposal_close(proposal=proposal, by=author)
    proposal.refresh_from_db()
    with pytest.raises(PermissionDenied, match="closed"):
        services.requirement_add(proposal=proposal, text="Ask for one finding", by=author)
    with pytest.raises(PermissionDenied, match="closed"):
        services.proposal_update_section(
            proposal=proposal,
            fields=("user_problem",),
            data={"user_problem": "Changed after closing"},
            version=proposal.version,
            base="",
            by=author,
            section_title="Problem",
        )
    proposal.refresh_from_db()
    assert proposal.user_problem != "Changed after closing" and not proposal.requirements.exists()
