"""Forms built from the template definition: one form class per edit section."""

from __future__ import annotations

from functools import cache

from django import forms

from proposals.models import TEXT_MAX_LENGTH, TITLE_MAX_LENGTH, Persona, Proposal, Requirement, ResearchLink
from proposals.template import (
    DEFINITIONS,
    NEEDS_FIELDS,
    NEWEST_VERSION,
    VERSION_NOTES,
    EditSection,
    Kind,
    Stage,
    TemplateDefinition,
    get_definition,
    title_pattern,
)
from proposals.validators import (
    LINK_TITLE_MAX_LENGTH,
    REQUIREMENT_MAX_LENGTH,
    link_error,
    one_line_error,
    text_error,
)

# Title, labels and confidentiality are the issue's own attributes, not template headings.
DETAILS_SECTION = EditSection("details", "Title and visibility", Stage.EXPERIMENT, ("title", "labels", "confidential"))


class LabelsField(forms.CharField):
    """Labels typed as a comma-separated list, stored as a list."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        names = []
        for name in (value or "").split(","):
            name = name.strip().lstrip("~").strip()
            if name and name not in names:
                names.append(name)
        return names

    def validate(self, value):
        for name in value:
            problem = one_line_error(name, max_length=255)
            if problem:
                raise forms.ValidationError(f"The label “{name[:40]}” {problem}.")


def count_instead_of_cutting(form: forms.BaseForm) -> None:
    """Fields keep their limit as `data-max-length`, not `maxlength`: a browser silently cuts pasted text at
    `maxlength`, while the page counts characters near the limit and the server refuses with the limit named."""
    for field in form.fields.values():
        limit = field.widget.attrs.pop("maxlength", None)
        if limit is not None:
            field.widget.attrs["data-max-length"] = limit


class PersonaChoiceField(forms.ModelMultipleChoiceField):
    """The template's personas, each named with its role so a search finds "developer" as well as "Sasha"."""

    def label_from_instance(self, persona: Persona) -> str:
        return f"{persona.name} ({persona.role})" if persona.role else persona.name


class SectionForm(forms.Form):
    """Base for section forms: carries the optimistic-lock version and the section's base fingerprint."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    base = forms.CharField(widget=forms.HiddenInput, max_length=64)

    section: EditSection

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        count_instead_of_cutting(self)

    def clean(self):
        """The same checks as every other way content enters (proposals.validators)."""
        cleaned = super().clean()
        for name in self.section.fields:
            value = cleaned.get(name)
            if not isinstance(value, str) or name == "confidence":
                continue
            title = name == "title"
            problem = one_line_error(value, max_length=TITLE_MAX_LENGTH) if title else text_error(value)
            if problem:
                self.add_error(name, f"This {problem}.")
        return cleaned

    def section_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.section.fields if name != "persona_tags"}
        if "persona_tags" in self.section.fields:
            data["persona_tags"] = sorted(persona.pk for persona in self.cleaned_data["persona_tags"])
        return data


def _text_field(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


def section_fields(section: EditSection) -> tuple[str, ...]:
    """The names a section saves, including the persona picker next to the personas text."""
    names = list(section.fields)
    if "personas" in names:
        names.insert(names.index("personas") + 1, "persona_tags")
    return tuple(names)


@cache
def section_form_class(definition: TemplateDefinition, section_key: str) -> type[SectionForm]:
    section = DETAILS_SECTION if section_key == DETAILS_SECTION.key else definition.edit_section(section_key)
    attrs: dict = {"section": EditSection(section.key, section.title, section.stage, section_fields(section))}
    for name in section.fields:
        if name == "title":
            attrs[name] = forms.CharField(label="Title", max_length=TITLE_MAX_LENGTH)
        elif name == "labels":
            attrs[name] = LabelsField(label="Labels", required=False, help_text="Comma-separated GitLab labels.")
        elif name == "confidential":
            attrs[name] = forms.BooleanField(
                label="Confidential", required=False, help_text="Only you, reviewers and admins can see it."
            )
        elif name in NEEDS_FIELDS:
            attrs[name] = _text_field(NEEDS_FIELDS[name])
        else:
            field = definition.field(name)
            if field.kind == Kind.CONFIDENCE:
                attrs[name] = forms.ChoiceField(
                    label=field.label,
                    help_text=field.prompt,
                    required=False,
                    choices=[("", "Not set"), *Proposal.Confidence.choices],
                )
            else:
                attrs[name] = _text_field(field.label, field.prompt)
            if field.kind == Kind.PERSONAS:
                attrs["persona_tags"] = PersonaChoiceField(
                    label="The template's personas",
                    queryset=Persona.objects.all(),
                    required=False,
                    widget=forms.CheckboxSelectMultiple,
                )
    return type(f"{section.key.title().replace('-', '')}SectionForm", (SectionForm,), attrs)


def edit_sections(proposal: Proposal) -> list[EditSection]:
    return [DETAILS_SECTION, *get_definition(proposal.template_version).edit_sections]


def _refuse(what: str, problem: str | None) -> None:
    if problem:
        raise forms.ValidationError(f"{what} {problem}.")


def template_versions() -> list[dict]:
    """The template versions a new proposal may start from, newest first, each with its date, what
    differs and the title format it asks for."""
    return [
        {
            "version": version,
            "name": DEFINITIONS[version].name,
            "when": when,
            "differs": differs,
            "title_pattern": title_pattern(DEFINITIONS[version]),
        }
        for version, (when, differs) in VERSION_NOTES.items()
    ]


class ProposalCreateForm(forms.ModelForm):
    # Not required: a request that names no version (an older form, a script) gets the newest.
    template_version = forms.ChoiceField(
        label="Template version",
        required=False,
        widget=forms.RadioSelect,
        initial=NEWEST_VERSION,
        choices=[(version, when) for version, (when, _) in VERSION_NOTES.items()],
    )

    class Meta:
        model = Proposal
        fields = ["title", "template_version", "confidential"]
        help_texts = {"title": "What the feature does for whom, e.g. “Summarise long issue threads for reviewers”."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        chosen = self.data.get("template_version") if self.is_bound else None
        pattern = title_pattern(get_definition(chosen if chosen in DEFINITIONS else NEWEST_VERSION))
        if pattern:
            self.fields["title"].widget.attrs["placeholder"] = pattern

    def clean_title(self):
        title = self.cleaned_data["title"]
        _refuse("The title", one_line_error(title, max_length=TITLE_MAX_LENGTH))
        return title

    def clean_template_version(self):
        return self.cleaned_data["template_version"] or NEWEST_VERSION


class RequirementForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        count_instead_of_cutting(self)

    class Meta:
        model = Requirement
        fields = ["text"]
        labels = {"text": "The user needs to be able to"}

    def clean_text(self):
        text = self.cleaned_data["text"]
        _refuse("A requirement", one_line_error(text, max_length=REQUIREMENT_MAX_LENGTH))
        return text


class ResearchLinkForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        count_instead_of_cutting(self)

    class Meta:
        model = ResearchLink
        fields = ["url", "title"]
        labels = {"url": "Research or insight issue URL", "title": "Title"}

    def clean_url(self):
        url = self.cleaned_data["url"]
        _refuse("The address", link_error(url))
        return url

    def clean_title(self):
        title = self.cleaned_data["title"]
        _refuse("The title", one_line_error(title, max_length=LINK_TITLE_MAX_LENGTH))
        return title
