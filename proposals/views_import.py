"""Import from Markdown: paste or upload a filled-in issue body, get a proposal and a parse report."""

from __future__ import annotations

import re
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from proposals import markdown
from proposals.models import TITLE_MAX_LENGTH, Activity, Proposal
from proposals.signals import IssueLinkRefused
from proposals.template import NEEDS_FIELDS, get_definition
from proposals.template_moves import import_report as import_data
from proposals.template_moves import parse_import, proposal_import_markdown
from proposals.validators import ContentInvalid
from proposals.views import creators_only, with_proposal

# GitLab's own limit for an issue description.
MAX_CHARACTERS = 1_048_576
MAX_UPLOAD_BYTES = 4 * MAX_CHARACTERS  # UTF-8 takes up to four bytes a character
TEMPLATE = "proposals/import.html"


def gitlab_connected() -> bool:
    """Whether a GitLab project is configured: only then can an import be linked to an existing issue."""
    return bool(settings.GITLAB_URL and settings.GITLAB_TOKEN and settings.GITLAB_PROJECT)


# "#12", "12", or an issue's address (…/group/project/-/issues/12); the GitLab sync checks the project.
_ISSUE_REF = re.compile(r"^(#?\d+|https?://\S+/-/issues/\d+/?(?:[?#]\S*)?)$")


class MarkdownImportForm(forms.Form):
    title = forms.CharField(
        max_length=TITLE_MAX_LENGTH,
        required=False,
        help_text="The GitLab issue's title. Left empty: the linked issue's title, else the file name.",
    )
    markdown = forms.CharField(
        label="Issue description (Markdown)",
        required=False,
        strip=False,  # the text as pasted, carried through the preview unchanged
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}),
        help_text="Paste the issue body as GitLab shows it in its editor, from any version of the template.",
    )
    file = forms.FileField(
        label="…or upload a .md file",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".md,.markdown,.txt,text/markdown,text/plain"}),
    )
    gitlab_issue = forms.CharField(
        label="Link an existing GitLab issue (optional)",
        required=False,
        max_length=500,
        help_text="Its address or #number, e.g. #12. The proposal is then kept in step with that issue "
        "instead of a new issue being created.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not gitlab_connected():
            del self.fields["gitlab_issue"]

    def clean_gitlab_issue(self):
        ref = self.cleaned_data["gitlab_issue"].strip()
        if ref and not _ISSUE_REF.match(ref):
            raise forms.ValidationError("Write the issue's address or its #number, e.g. #12.")
        return ref

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
        data.setdefault("gitlab_issue", "")
        typed = data.get("title", "").strip()
        data["title_from_issue"] = not typed and bool(data.get("gitlab_issue"))
        data["title"] = (
            typed
            or (PurePath(upload.name).stem.replace("-", " ").replace("_", " ").strip() if upload else "")
            or "Imported proposal"
        )[:TITLE_MAX_LENGTH]
        return data

    def carried(self) -> dict:
        """What the preview carries to the confirm step, so nothing is pasted or uploaded twice."""
        data = self.cleaned_data
        # A title read from the file's name is carried as if typed; one to come from the issue is left empty.
        carried = {"title": "" if data["title_from_issue"] else data["title"], "markdown": data["text"]}
        if "gitlab_issue" in self.fields:
            carried["gitlab_issue"] = self.cleaned_data.get("gitlab_issue", "")
        return carried


@require_http_methods(["GET", "POST"])
@creators_only
def proposal_import(request: HttpRequest) -> HttpResponse:
    """Paste or upload, see what would be read (nothing is created yet), then confirm to create it."""
    form = MarkdownImportForm(request.POST or None, request.FILES or None)
    step = request.POST.get("step", "")
    if request.method == "POST" and step == "edit":
        # Back from the preview to the form, with the text as it was carried.
        form = MarkdownImportForm(initial={k: request.POST.get(k, "") for k in ("title", "markdown", "gitlab_issue")})
        return render(request, TEMPLATE, {"form": form})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if step == "confirm":
            try:
                proposal, _ = proposal_import_markdown(
                    markdown_text=data["text"],
                    title=data["title"],
                    owner=request.user,
                    gitlab_issue_ref=data.get("gitlab_issue", ""),
                    title_from_issue=data["title_from_issue"],
                )
            except (ContentInvalid, IssueLinkRefused) as refusal:
                form.add_error(None, f"Nothing was imported: {refusal}.")
            else:
                return redirect("proposals:import-report", pk=proposal.pk)
        preview = _preview(parse_import(data["text"]))
        context = {
            "form": form,
            "preview": preview,
            "carried": form.carried(),
            "data": data,
            "gitlab_connected": "gitlab_issue" in form.fields,
        }
        return render(request, TEMPLATE, context)
    return render(request, TEMPLATE, {"form": form})


def _preview(result: markdown.ParseResult) -> dict:
    """The parse report of an import not made yet: what would be read, from the parse alone."""
    data = import_data(result)
    kept = [{"after": block.after, "markdown": block.markdown} for block in result.content.kept_blocks]
    return _report_of(result.version, data, kept)


@require_GET
@with_proposal(edit=True)
def import_report(request: HttpRequest, proposal: Proposal) -> HttpResponse:
    activity = Activity.objects.filter(proposal=proposal, data__has_key="import").order_by("-created_at", "-id").first()
    if activity is None:
        raise Http404("This proposal was not imported from Markdown.")
    return render(request, TEMPLATE, {"proposal": proposal, "report": _report(proposal, activity.data["import"])})


def _report(proposal: Proposal, data: dict) -> dict:
    # The blocks as the proposal holds them now, each with the place it stood in the issue.
    kept = [block for block in proposal.kept_blocks or [] if isinstance(block, dict)]
    return _report_of(proposal.template_version, data, kept)


def _report_of(version: str, data: dict, kept_blocks: list[dict]) -> dict:
    definition = get_definition(version)
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
        "kept_blocks": [
            {"where": markdown.anchor_label(version, block["after"]), "markdown": block["markdown"]}
            for block in kept_blocks
        ],
    }
