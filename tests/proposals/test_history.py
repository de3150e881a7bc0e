"""A proposal's history: every change kept with before and after, whoever made it and wherever."""

from datetime import timedelta

import pytest
from django.db.models import ProtectedError
from django.urls import reverse

from proposals import history, services, workflow
from proposals.models import Activity, FieldChange, Proposal
from proposals.template_moves import proposal_import_markdown
from tests.factories import ProposalFactory
from tests.helpers import edit


def changes(proposal, field=None):
    rows = FieldChange.objects.filter(proposal=proposal).order_by("started_at", "id")
    return list(rows.filter(field=field) if field else rows)


@pytest.mark.django_db
def test_a_section_save_keeps_the_text_before_and_after_and_who_wrote_it(author, proposal):
    edit(proposal, author, user_problem="Reviewers drown in threads.")
    (row,) = changes(proposal, "field:user_problem")
    assert (row.before, row.after) == ("", "Reviewers drown in threads.")
    assert row.actor == author and row.actor_name == "ada"
    assert row.section == "problem"


@pytest.mark.django_db
def test_an_autosave_burst_is_one_entry_from_the_first_text_to_the_last(author, proposal):
    for text in ("Rev", "Reviewers", "Reviewers drown", "Reviewers drown in threads."):
        edit(proposal, author, user_problem=text)
    (row,) = changes(proposal, "field:user_problem")
    assert (row.before, row.after) == ("", "Reviewers drown in threads.")


@pytest.mark.django_db
def test_after_a_pause_longer_than_the_window_a_new_entry_starts(author, proposal, monkeypatch):
    edit(proposal, author, user_problem="First draft.")
    monkeypatch.setattr(history, "COALESCE_WINDOW", timedelta(0))
    edit(proposal, author, user_problem="Second draft.")
    assert [(r.before, r.after) for r in changes(proposal, "field:user_problem")] == [
        ("", "First draft."),
        ("First draft.", "Second draft."),
    ]


@pytest.mark.django_db
def test_another_persons_edit_in_a_burst_starts_a_new_entry(author, admin_user, proposal):
    edit(proposal, author, user_problem="Ada's text.")
    edit(proposal, admin_user, user_problem="Barbara's text.")
    edit(proposal, author, user_problem="Ada again.")
    rows = changes(proposal, "field:user_problem")
    assert [(r.actor_name, r.before, r.after) for r in rows] == [
        ("ada", "", "Ada's text."),
        ("barbara", "Ada's text.", "Barbara's text."),
        ("ada", "Barbara's text.", "Ada again."),
    ]


@pytest.mark.django_db
def test_history_rows_cannot_be_edited_or_deleted(author, proposal):
    edit(proposal, author, user_problem="Kept.")
    row = changes(proposal)[0]
    row.after = "rewritten"
    with pytest.raises(TypeError):
        row.save()
    with pytest.raises(TypeError):
        row.delete()
    with pytest.raises(TypeError):
        FieldChange.objects.filter(proposal=proposal).update(after="rewritten")
    with pytest.raises(TypeError):
        FieldChange.objects.filter(proposal=proposal).delete()
    assert FieldChange.objects.get(pk=row.pk).after == "Kept."


@pytest.mark.django_db
def test_ticks_lists_details_and_state_are_kept_too(author, admin_user, proposal):
    item = proposal.checklist_items.filter(checked_by_app=False).first()
    services.checklist_toggle(item=item, checked=True, by=author)
    services.requirement_add(proposal=proposal, text="See the summary first", by=author)
    requirement = services.requirement_add(proposal=proposal, text="Ask follow-ups", by=author)
    services.ordered_row_move(row=requirement, direction=services.MOVE_UP, by=author)
    services.research_link_add(proposal=proposal, url="https://example.com/study", title="Study", by=author)
    services.proposal_update_section(
        proposal=proposal,
        fields=("labels", "confidential"),
        data={"labels": ["wg-ai-integration", "team::x"], "confidential": True},
        version=proposal.version,
        base="",
        by=author,
        section_title="Title and visibility",
    )
    workflow.proposal_close(proposal=proposal, by=author)
    by_field = {}
    for row in changes(proposal):
        by_field.setdefault(row.field, []).append((row.before, row.after))
    assert by_field[f"check:{item.stage}:{item.key}"] == [("not ticked", "ticked")]
    assert by_field["list:requirements"] == [
        ("", "See the summary first"),
        ("See the summary first", "See the summary first\nAsk follow-ups"),
        ("See the summary first\nAsk follow-ups", "Ask follow-ups\nSee the summary first"),
    ]
    assert by_field["research_links"] == [("", "Study — https://example.com/study")]
    assert by_field["labels"] == [("~wg-ai-integration", "~wg-ai-integration, ~team::x")]
    assert by_field["confidential"] == [("public", "confidential")]
    assert by_field["state"] == [("Draft", "Closed")]


@pytest.mark.django_db
def test_closing_keeps_the_history_and_a_proposal_is_never_deleted_with_it(author, proposal):
    edit(proposal, author, user_problem="Kept after closing.")
    workflow.proposal_close(proposal=proposal, by=author)
    assert FieldChange.objects.filter(proposal=proposal, field="field:user_problem").exists()
    with pytest.raises(ProtectedError):
        Proposal.objects.get(pk=proposal.pk).delete()
    assert Activity.objects.filter(proposal=proposal).exists()


@pytest.mark.django_db
def test_a_proposal_without_field_changes_is_not_deleted_with_its_timeline_either(author):
    proposal = ProposalFactory(owner=author)
    with pytest.raises(ProtectedError):
        proposal.delete()


@pytest.mark.django_db
def test_the_admin_offers_no_way_to_delete_a_proposal(client, admin_user, proposal):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    response = client.get(reverse("admin:proposals_proposal_delete", args=[proposal.pk]))
    assert response.status_code == 403
    changelist = client.get(reverse("admin:proposals_proposal_changelist")).content.decode()
    assert "Explain this vulnerability" in changelist and "delete_selected" not in changelist
    assert Proposal.objects.filter(pk=proposal.pk).exists()


@pytest.mark.django_db
def test_a_web_save_is_marked_as_the_web_pages(author_client, author, proposal):
    page = author_client.get(reverse("proposals:edit", args=[proposal.pk])).content.decode()
    form = page[page.index('id="section-problem"') :]
    import re

    version = re.search(r'name="version" value="([^"]*)"', form).group(1)
    base = re.search(r'name="base" value="([^"]*)"', form).group(1)
    author_client.post(
        reverse("proposals:section-save", args=[proposal.pk, "problem"]),
        {"version": version, "base": base, "user_problem": "Typed in the browser."},
    )
    (row,) = changes(proposal, "field:user_problem")
    assert row.origin == FieldChange.Origin.WEB and row.actor == author


@pytest.mark.django_db
def test_an_import_is_marked_as_one_and_keeps_every_field_it_brought(author):
    markdown = "# Experiment\n## Problem to be solved\n### User problem\nThreads are long.\n"
    proposal, _ = proposal_import_markdown(markdown_text=markdown, title="Imported", owner=author)
    rows = changes(proposal, "field:user_problem")
    assert [(r.origin, r.before, r.after) for r in rows] == [(FieldChange.Origin.IMPORT, "", "Threads are long.")]


@pytest.mark.django_db
def test_a_change_from_gitlab_is_the_gitlab_users_not_the_authors(author, proposal):
    from proposals.content import content_from_proposal, content_with_values, proposal_apply_content
    from proposals.signals import Origin

    content = content_with_values(content_from_proposal(proposal), {"field:user_problem": "Edited on GitLab."})
    with history.change_origin(FieldChange.Origin.GITLAB, actor_name="gitlab-grace"):
        proposal_apply_content(
            proposal=proposal, content=content, keys={"field:user_problem"}, by=author, origin=Origin.GITLAB
        )
    (row,) = changes(proposal, "field:user_problem")
    assert row.origin == FieldChange.Origin.GITLAB and row.actor is None and row.actor_name == "gitlab-grace"


@pytest.mark.django_db
def test_changes_since_a_moment_go_from_the_text_then_to_the_text_now(author, admin_user, proposal, monkeypatch):
    monkeypatch.setattr(history, "COALESCE_WINDOW", timedelta(0))
    edit(proposal, author, user_problem="Before the look.")
    looked = FieldChange.objects.get(proposal=proposal).changed_at
    edit(proposal, admin_user, user_problem="After the look.")
    edit(proposal, admin_user, user_problem="After the look, twice.")
    edit(proposal, author, solution_hypothesis="Mine.")
    seen = history.changes_since(proposal, looked, exclude_actor=author)
    assert [(c.field, c.before, c.after, c.people) for c in seen] == [
        ("field:user_problem", "Before the look.", "After the look, twice.", ("barbara",))
    ]


def _admin_post_data(response) -> dict:
    """The admin change form as the browser would post it unchanged: the form's and every inline's values."""
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list | tuple) else value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for sub in formset.forms:
            for name in sub.fields:
                value = sub[name].value()
                if value is not None and value is not False:
                    data[sub.add_prefix(name)] = value
    return {key: value for key, value in data.items() if value is not False}


@pytest.mark.django_db
def test_an_admin_edit_is_kept_as_the_admins_from_the_admin(client, admin_user, proposal):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    url = reverse("admin:proposals_proposal_change", args=[proposal.pk])
    data = _admin_post_data(client.get(url))
    data["user_problem"] = "Fixed by an admin."
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    (row,) = changes(proposal, "field:user_problem")
    assert (row.after, row.actor, row.origin) == ("Fixed by an admin.", admin_user, FieldChange.Origin.ADMIN)
