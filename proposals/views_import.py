"""Import from Markdown: paste or upload a filled-in issue body, get a proposal and a parse report."""

from __future__ import annotations

from pathlib import PurePath

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from proposals import markdown
from proposals.models import TITLE_MAX_LENGTH, Activity, Proposal
from proposals.template import NEEDS_FIELDS, get_definition
from proposals.template_moves import proposal_import_markdown
from proposals.validators import ContentInvalid
from proposals.views import creators_only, with_proposal

# GitLab's own limit for an issue description.
MAX_CHARACTERS = 1_048_576
MAX_UPLOAD_BYTES = 4 * MAX_CHARACTERS  # UTF-8 takes up to four bytes a character
TEMPLATE = "proposals/import.html"


class MarkdownImportForm(forms.Form):
    title = forms.CharField(
        max_length=TITLE_MAX_LENGTH,
        required=False,
        help_text="The GitLab issue's title. Left empty, the file name is used.",
    )
    markdown = forms.CharField(
        label="Issue description (Markdown)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}),
        help_text="Paste the issue body as GitLab shows it in its editor, from any version of the template.",
    )
    file = forms.FileField(
        label="…or upload a .md file",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".md,.markdown,.txt,text/markdown,text/plain"}),
    )

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        text = data.get("markdown") or ""
        if upload is not None:
            if upload.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError("The file is larger than a GitLab issue description can be.")
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("file", "The file is not UTF-8 text.")
                return data
        if not text.strip():
            raise forms.ValidationError("Paste an issue description or choose a file.")
        if len(text) > MAX_CHARACTERS:
            raise forms.ValidationError(f"GitLab keeps at most {MAX_CHARACTERS:,} characters in a description.")
        data["text"] = text
        data["title"] = (
            data.get("title", "").strip()
            or (PurePath(upload.name).stem.replace("-", " ").replace("_", " ").strip() if upload else "")
            or "Imported proposal"
        )[:TITLE_MAX_LENGTH]
        return data


@require_http_methods(["GET", "POST"])
@creators_only
def proposal_import(request: HttpRequest) -> HttpResponse:
    form = MarkdownImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            proposal, _ = proposal_import_markdown(
                markdown_text=form.cleaned_data["text"], title=form.cleaned_data["title"], owner=request.user
            )
        except ContentInvalid as invalid:
            form.add_error(None, f"Nothing was imported: {invalid}.")
        else:
            return redirect("proposals:import-report", pk=proposal.pk)
    return render(request, TEMPLATE, {"form": form})


@require_GET
@with_proposal(edit=True)
def import_report(request: HttpRequest, proposal: Proposal) -> HttpResponse:
    activity = Activity.objects.filter(proposal=proposal, data__has_key="import").order_by("-created_at", "-id").first()
    if activity is None:
        raise Http404("This proposal was not imported from Markdown.")
    return render(request, TEMPLATE, {"proposal": proposal, "report": _report(proposal, activity.data["import"])})


def _report(proposal: Proposal, data: dict) -> dict:
    definition = get_definition(proposal.template_version)
    labels = {f.name: f.label for f in definition.fields} | NEEDS_FIELDS

    def named(names: list[str]) -> list[str]:
        return [labels.get(name, name.replace("_", " ").capitalize()) for name in names]

    return {
        "template": get_definition(data.get("version")).name,
        "found": named(data.get("found", [])),
        "empty": named(data.get("empty", [])),
        "missing": named(data.get("missing", [])),
        "checked": data.get("checked", 0),
        "orr_answers": len(data.get("orr_answers", [])),
        "quick_actions": data.get("quick_actions", []),
        # The blocks as the proposal holds them now, each with the place it stood in the issue.
        "kept_blocks": [
            {"where": markdown.anchor_label(proposal.template_version, block["after"]), "markdown": block["markdown"]}
            for block in proposal.kept_blocks or []
            if isinstance(block, dict)
        ],
    }
