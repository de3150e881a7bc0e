from django.contrib import admin

from proposals import history, search
from proposals.models import Activity, ChecklistItem, Persona, Proposal, Requirement, ResearchLink
from proposals.services import possible_authors, proposal_bump_version, proposal_create, proposal_set_co_authors
from proposals.signals import send_proposal_changed

# A changed value is kept on the timeline entry up to this many characters (the whole text stays on the proposal).
VALUE_EXCERPT = 200


def _excerpt(value) -> str:
    if hasattr(value, "all") or isinstance(value, list | tuple | set):
        value = ", ".join(sorted(str(item) for item in value))
    text = "" if value is None else str(value)
    return text if len(text) <= VALUE_EXCERPT else text[: VALUE_EXCERPT - 1] + "…"


def form_changes(form) -> dict[str, list[str]]:
    """What an admin form changed, field by field: [before, after] as short text.

    Compared as text because the admin reports a JSON field posted back unchanged as changed.
    """
    changes = {}
    for name in form.changed_data:
        before, after = _excerpt(form.initial.get(name)), _excerpt(form.cleaned_data.get(name))
        if before != after:
            changes[name] = [before, after]
    return changes


def record_admin_edit(proposal: Proposal, *, by, what: str, data: dict | None = None) -> None:
    """Every edit made in the Django admin lands on the proposal's timeline, with who made it and what changed.

    The proposal's version moves too, so an editor's open form learns of the change, and the GitLab issue follows.
    """
    Activity.objects.record(
        proposal,
        actor=by,
        kind=Activity.Kind.EDITED,
        message=f"{by} {what} in the admin",
        data={"admin": True, **(data or {})},
    )
    proposal_bump_version(proposal)
    send_proposal_changed(proposal, fields=["admin"], by=by)


class ProposalRowAdminMixin:
    """Admin pages of a proposal's rows (requirements, research links, checklist items): each save or delete
    is recorded on the row's proposal, on its timeline and in its history, as the proposal's own form is."""

    row_name = "row"

    def history_keys(self, row) -> list[str]:
        """The parts of the proposal (as history names them) that this row is part of."""
        raise NotImplementedError

    def _before(self, rows) -> dict[int, tuple[Proposal, list[str], dict[str, str]]]:
        """Per proposal the rows belong to: the proposal, the parts they touch, and what those hold now."""
        touched: dict[int, tuple[Proposal, set[str]]] = {}
        for row in rows:
            proposal, keys = touched.setdefault(row.proposal_id, (row.proposal, set()))
            keys.update(self.history_keys(row))
        return {pk: (p, sorted(keys), history.current_values(p, keys)) for pk, (p, keys) in touched.items()}

    def _record_history(self, request, before) -> None:
        for proposal, keys, values in before.values():
            after = history.current_values(proposal, keys)
            history.record_changes(proposal, before=values, after=after, by=request.user)

    def save_model(self, request, obj, form, change):
        saved = type(obj).objects.select_related("proposal").filter(pk=obj.pk).first() if change else None
        before = self._before([obj] if saved is None else [saved, obj])
        super().save_model(request, obj, form, change)
        self._record_history(request, before)
        if not change:
            record_admin_edit(obj.proposal, by=request.user, what=f"added a {self.row_name} “{_excerpt(obj)}”")
        elif changes := {name: change for name, change in form_changes(form).items() if name != "co_authors"}:
            what = f"changed a {self.row_name} ({', '.join(changes)})"
            data = {"fields": list(changes), "changes": changes}
            record_admin_edit(obj.proposal, by=request.user, what=what, data=data)

    def delete_model(self, request, obj):
        proposal, label = obj.proposal, _excerpt(obj)
        before = self._before([obj])
        super().delete_model(request, obj)
        self._record_history(request, before)
        record_admin_edit(proposal, by=request.user, what=f"removed a {self.row_name} “{label}”")

    def delete_queryset(self, request, queryset):
        rows = list(queryset.select_related("proposal"))
        removed = [(row.proposal, _excerpt(row)) for row in rows]
        before = self._before(rows)
        super().delete_queryset(request, queryset)
        self._record_history(request, before)
        for proposal, label in removed:
            record_admin_edit(proposal, by=request.user, what=f"removed a {self.row_name} “{label}”")


class RequirementInline(admin.TabularInline):
    model = Requirement
    extra = 0


class ResearchLinkInline(admin.TabularInline):
    model = ResearchLink
    extra = 0


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    readonly_fields = ["checked_by", "checked_at", "checked_by_app"]


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "stage", "state", "confidence", "confidential", "updated_at"]
    list_filter = ["stage", "state", "confidence", "confidential", "template_version"]
    search_fields = ["title", "owner__username", "user_problem"]
    list_select_related = ["owner"]
    readonly_fields = ["version", "created_at", "updated_at"]
    filter_horizontal = ["persona_tags", "co_authors"]
    inlines = [RequirementInline, ResearchLinkInline, ChecklistItemInline]

    def has_delete_permission(self, request, obj=None):
        # A proposal is never deleted with its history and timeline: close it instead.
        return False

    # What the admin's form and inlines may change, as history names the parts.
    HISTORY_KEYS = (
        "title",
        "confidence",
        "labels",
        "confidential",
        "state",
        "stage",
        "template_version",
        "list:requirements",
        "research_links",
        "persona_tags",
    )

    def _history_keys(self, obj) -> list[str]:
        text = [
            f"field:{f.name}"
            for f in obj._meta.get_fields()
            if getattr(f, "get_internal_type", None)
            and f.get_internal_type() == "TextField"
            and f.name not in ("kept_blocks",)
        ]
        # The checklist inline's ticks and "does not apply" marks, item by item.
        items = [
            f"{prefix}:{checklist.stage.value}:{item.key}"
            for checklist in obj.definition.checklists
            for item in checklist.items
            for prefix in ("check", "na")
        ]
        return [*self.HISTORY_KEYS, *text, *items]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "co_authors":
            kwargs["queryset"] = possible_authors()  # whom `proposal_set_co_authors` accepts
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_inlines(self, request, obj):
        # A new proposal's checklists come from its template; they are ticked on its change page.
        return self.inlines if obj is not None else [RequirementInline, ResearchLinkInline]

    def save_model(self, request, obj, form, change):
        if not change:
            self._create(request, obj)
            return
        # An admin edit bypasses the services: keep its history like any other change.
        saved = Proposal.objects.filter(pk=obj.pk).first()
        request._history_before = history.current_values(saved, self._history_keys(obj)) if saved else {}
        super().save_model(request, obj, form, change)

    def _create(self, request, obj) -> None:
        """A proposal added here is created as on every other path (`proposal_create`: checklists, reviews,
        sync state, timeline, search); what else the form holds is then saved as the admin's first edit."""
        created = proposal_create(
            title=obj.title,
            owner=obj.owner,
            confidential=obj.confidential,
            template_version=obj.template_version,
            by=request.user,
        )
        request._history_before = history.current_values(created, self._history_keys(created))
        obj.pk, obj.title, obj.version, obj.created_at = created.pk, created.title, created.version, created.created_at
        # Every proposal carries its template's label, whatever else the form names.
        obj.labels = [*created.labels, *(label for label in obj.labels or () if label not in created.labels)]
        obj._state.adding = False
        obj.save(force_update=True)

    def save_related(self, request, form, formsets, change):
        # Co-authors are named through the service, as on the proposal's page: its timeline entry and the
        # "made you a co-author" notice. Taken out of the form's data, so its own save leaves them alone.
        co_authors = form.cleaned_data.pop("co_authors", None)
        # After the many-to-many fields and the inlines are saved: one entry for the proposal's own fields.
        super().save_related(request, form, formsets, change)
        proposal = form.instance
        if co_authors is not None:
            proposal_set_co_authors(proposal=proposal, co_authors=list(co_authors), by=request.user)
        after = history.current_values(proposal, self._history_keys(proposal))
        recorded = history.record_changes(proposal, before=request._history_before, after=after, by=request.user)
        if not change:
            if recorded:
                filled = sorted({history.part_label(proposal.definition, row.field) for row in recorded})
                what = f"filled in {', '.join(filled)} of the new proposal"
                record_admin_edit(proposal, by=request.user, what=what, data={"fields": [r.field for r in recorded]})
        elif changes := {name: change for name, change in form_changes(form).items() if name != "co_authors"}:
            what = f"changed {', '.join(str(form.fields[name].label or name) for name in changes)}"
            data = {"fields": list(changes), "changes": changes}
            record_admin_edit(proposal, by=request.user, what=what, data=data)
        search.search_index_proposal(proposal)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        name, plural = formset.model._meta.verbose_name, formset.model._meta.verbose_name_plural
        done = {"added": formset.new_objects, "changed": formset.changed_objects, "removed": formset.deleted_objects}
        parts = [f"{verb} {len(rows)} {name if len(rows) == 1 else plural}" for verb, rows in done.items() if rows]
        if parts:
            data = {
                "rows": name,
                "added": [_excerpt(row) for row in formset.new_objects],
                "changed": {_excerpt(row): fields for row, fields in formset.changed_objects},
                "removed": [_excerpt(row) for row in formset.deleted_objects],
            }
            record_admin_edit(form.instance, by=request.user, what=" and ".join(parts), data=data)


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = ["name", "role"]
    search_fields = ["name", "role"]


@admin.register(Requirement)
class RequirementAdmin(ProposalRowAdminMixin, admin.ModelAdmin):
    list_display = ["text", "proposal", "position"]
    list_select_related = ["proposal"]
    row_name = "requirement"

    def history_keys(self, row) -> list[str]:
        return ["list:requirements"]


@admin.register(ResearchLink)
class ResearchLinkAdmin(ProposalRowAdminMixin, admin.ModelAdmin):
    list_display = ["title", "url", "proposal"]
    list_select_related = ["proposal"]
    row_name = "research link"

    def history_keys(self, row) -> list[str]:
        return ["research_links"]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(ProposalRowAdminMixin, admin.ModelAdmin):
    list_display = ["proposal", "stage", "key", "checked", "checked_by_app", "checked_by", "checked_at"]
    list_filter = ["stage", "checked", "checked_by_app"]
    list_select_related = ["proposal", "checked_by"]
    row_name = "checklist item"

    def history_keys(self, row) -> list[str]:
        return [f"check:{row.stage}:{row.key}", f"na:{row.stage}:{row.key}"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    """Read-only: the timeline is append-only."""

    list_display = ["created_at", "proposal", "actor", "kind", "message"]
    list_filter = ["kind"]
    list_select_related = ["proposal", "actor"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
