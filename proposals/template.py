"""The "AI Project Proposal" issue template as data.

Everything that knows a heading, a prompt or a checklist item reads it from
here: the section forms, the completeness meter, the checklists, the Markdown
renderer and parser. A new version of GitLab's template is a new
``TemplateDefinition``, never an edit of the code that reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum

from proposals.template_texts import (  # the long texts, byte for byte as in GitLab's files
    _APRIL_2023_COMMENTS,
    _APRIL_2023_ORR_LINES,
    _BETA_COMMENTS,
    _BETA_ORR_LINES,
    _BETA_RESOURCES,
    _JULY_2023_COMMENTS,
    _JULY_2023_ORR_LINES,
    _RESOURCES_2023,
    _UX_BETA_CAPTION,
    _UX_BETA_TABLE,
    _UX_GA_CAPTION,
    _UX_GA_TABLE,
    TEMPLATE_COMMENTS,  # noqa: F401  (read by proposals.markdown)
)


class Kind(StrEnum):
    TEXT = "text"  # free Markdown under a heading
    PERSONAS = "personas"  # persona mentions plus free text
    CONFIDENCE = "confidence"  # the Confidence | Research table
    REQUIREMENTS = "requirements"  # "The user needs to be able to:" bullets


class Stage(StrEnum):
    EXPERIMENT = "experiment"
    BETA = "beta"
    GA = "ga"


STAGE_LABELS = {Stage.EXPERIMENT: "Experiment", Stage.BETA: "Beta", Stage.GA: "General Availability"}


@dataclass(frozen=True)
class Heading:
    """A structural heading that holds no answer of its own."""

    level: int
    text: str

    @property
    def markdown(self) -> str:
        return f"{'#' * self.level} {self.text}"


@dataclass(frozen=True)
class Field:
    """One answer the author writes, under its own heading."""

    name: str  # the Proposal attribute (or key of Proposal.extra_fields)
    label: str  # what the form calls it
    level: int
    heading: str  # heading text exactly as in the template
    prompt: str = ""  # the italic question, without its underscores
    kind: Kind = Kind.TEXT
    stage: Stage = Stage.EXPERIMENT
    required: bool = True  # counts towards the completeness meter
    notes: tuple[str, ...] = ()  # template lines kept verbatim after the prompt
    list_heading: Heading | None = None  # requirements: the heading above the bullets
    # Template lines shown while the field is empty, after the list heading (the "- ..." bullets).
    placeholder: tuple[str, ...] = ()

    @property
    def markdown_heading(self) -> str:
        # Level 0: the field is introduced by a caption line (bold text), not a Markdown heading.
        if self.level == 0:
            return self.heading
        return f"{'#' * self.level} {self.heading}"

    @property
    def markdown_prompt(self) -> str:
        return f"_{self.prompt}_" if self.prompt else ""


@dataclass(frozen=True)
class Boilerplate:
    """Template lines kept verbatim (resources, quick actions, notes)."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class ChecklistEntry:
    key: str  # stable id, unique within its stage
    text: str  # item text verbatim, after "- [ ] "
    # A field name (or "label:<name>") the app can check itself; empty when only a person can.
    verified_by: str = ""
    depth: int = 0  # nesting under the item above it (sub-items of "Add information to the issue body about:")
    notes: tuple[str, ...] = ()  # non-task lines the template puts right after the item


@dataclass(frozen=True)
class ChecklistGroup:
    title: str  # the plain line above the items ("Issue information", "Technical needs", ...)
    items: tuple[ChecklistEntry, ...]
    after: tuple[str, ...] = ()  # template lines that follow the items (the ORR areas list)


@dataclass(frozen=True)
class Checklist:
    stage: Stage
    heading: Heading
    groups: tuple[ChecklistGroup, ...]

    @property
    def items(self) -> tuple[ChecklistEntry, ...]:
        return tuple(item for group in self.groups for item in group.items)


@dataclass(frozen=True)
class EditSection:
    """A group of fields the author edits and autosaves together."""

    key: str
    title: str
    stage: Stage
    fields: tuple[str, ...]


@dataclass(frozen=True)
class OrrArea:
    key: str
    number: int
    title: str
    guidance: str

    @property
    def markdown(self) -> str:
        return f"{self.number}. **{self.title}:** {self.guidance}"


@dataclass(frozen=True)
class TemplateDefinition:
    version: str
    name: str
    stages: tuple[Stage, ...]
    body: tuple[Heading | Field | Boilerplate | Checklist, ...]
    edit_sections: tuple[EditSection, ...]
    orr_areas: tuple[OrrArea, ...]
    label: str = "wg-ai-integration"
    trailer: tuple[str, ...] = ()  # quick actions and links after the body
    extra: dict = field(default_factory=dict, compare=False)
    # The template's HTML comments (hints for the author); a parser drops them, the renderer leaves them out.
    comments: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(node for node in self.body if isinstance(node, Field))

    @property
    def checklists(self) -> tuple[Checklist, ...]:
        return tuple(node for node in self.body if isinstance(node, Checklist))

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def fields_for(self, stage: Stage) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.stage == stage)

    def checklist(self, stage: Stage) -> Checklist | None:
        for checklist in self.checklists:
            if checklist.stage == stage:
                return checklist
        return None

    def edit_section(self, key: str) -> EditSection:
        for section in self.edit_sections:
            if section.key == key:
                return section
        raise KeyError(key)


ORR_CHECKLIST_LINK = (
    "[Operational Requirements Review - Checklist - #note_1337519985]"
    "(https://gitlab.com/gitlab-org/gitlab/-/issues/403859#note_1337519985)"
)

ORR_AREAS_2023 = (
    OrrArea(
        "work_estimate",
        1,
        "Work estimate and skills needs to build an ML viable feature",
        "To build any ML feature depending on the work, there are many personas that contribute "
        "including, Data Scientist, NLP engineer, ML Engineer, MLOps Engineer, ML Infra engineers, "
        "and Fullstack engineer to integrate the ML Services with Gitlab. Post-prototype we would "
        "assess the skills needed to build a production-grade ML feature for the prototype",
    ),
    OrrArea(
        "data",
        2,
        "Data Limitation",
        "We would like to upfront validate if we have viable data for the feature including whether "
        "we can use the DataOps pipeline of ModelOps or create a custom one. We would want to "
        "understand the training data, test data, and feedback data to dial up the accuracy and the "
        "limitations of the data.",
    ),
    OrrArea(
        "model",
        3,
        "Model Limitation",
        "We would want to understand if we can use an open-source pre-trained model, tune and "
        "customize it or start a model from scratch as well. Further, we would asses based on the "
        "ModelOps model evaluation framework which would be the right model to use based on the use case.",
    ),
    OrrArea(
        "cost",
        4,
        "Cost, Scalability, Reliability",
        "We would want to estimate the cost of hosting, serving, inference of the model, and the full "
        "end-to-end infrastructure including monitoring and observability.",
    ),
    OrrArea(
        "legal",
        5,
        "Legal and Ethical Framework",
        "We would want to align with legal and ethical framework like any other ModelOps features to "
        "cover across the nine principles of responsible ML and any legal support needed.",
    ),
)

_ALPHA_BETA = "https://docs.gitlab.com/ee/policy/alpha-beta-support.html"
LABEL_ITEM = "Ensure this issue has the ~wg-ai-integration label to ensure visibility to various teams working on this"

JUNE_2023 = TemplateDefinition(
    version="2023-06",
    name="AI Project Proposal (June 2023)",
    stages=(Stage.EXPERIMENT, Stage.GA),
    body=(
        Heading(1, f"[Experiment]({_ALPHA_BETA}#experiment)"),
        Heading(2, "Problem to be solved"),
        Field("user_problem", "User problem", 3, "User problem", "What user problem will this solve?"),
        Field(
            "solution_hypothesis",
            "Solution hypothesis",
            3,
            "Solution hypothesis",
            "Why do you believe this AI solution is a good way to solve this problem?",
        ),
        Field(
            "assumptions",
            "Assumptions",
            3,
            "Assumption",
            "What assumptions are you making about this problem and the solution?",
        ),
        Field(
            "personas",
            "Personas",
            3,
            "Personas",
            "What [personas](https://about.gitlab.com/handbook/product/personas/#list-of-user-personas) "
            "have this problem, who is the intended user?",
            kind=Kind.PERSONAS,
        ),
        Field("proposal", "Proposal", 2, "Proposal"),
        Field("success", "Success", 3, "Success", "How will you measure whether this experiment is a success?"),
        Heading(1, f"[General Availability]({_ALPHA_BETA}#generally-available-ga)"),
        Field(
            "main_job_story",
            "Main job story",
            2,
            "Main Job story",
            "What job to be done will this solve?",
            stage=Stage.GA,
        ),
        Field(
            "proposal_updates",
            "Proposal updates/additions",
            3,
            "Proposal updates/additions",
            stage=Stage.GA,
            required=False,
        ),
        Field(
            "problem_validation",
            "Problem validation",
            3,
            "Problem validation",
            "What validation exists that customers have this problem?",
            stage=Stage.GA,
        ),
        Field(
            "business_objective",
            "Business objective",
            3,
            "Business objective",
            "What business objective will be achieved with this proposal?",
            stage=Stage.GA,
        ),
        Field(
            "confidence",
            "Confidence",
            3,
            "Confidence",
            "Has this proposal been derived from research?",
            kind=Kind.CONFIDENCE,
            stage=Stage.GA,
            notes=(
                "| Confidence | Research |",
                "| ----------------- | ------------------------------ |",
                "| [High/Medium/Low] | [research/insight issue](Link) |",
            ),
        ),
        Field(
            "requirements",
            "Requirements",
            3,
            "Requirements",
            "What tasks or actions should the user be capable of performing with this feature?",
            kind=Kind.REQUIREMENTS,
            stage=Stage.GA,
            notes=(
                "> ⚠️ Related feature and research issues should be linked in the related issues section "
                "(Delete this line when this is done)",
            ),
            list_heading=Heading(4, "The user needs to be able to:"),
            placeholder=("- ...", "- ...", "- ..."),
        ),
        Heading(2, "Checklist"),
        Checklist(
            Stage.EXPERIMENT,
            Heading(3, "Experiment"),
            (
                ChecklistGroup(
                    "Issue information",
                    (
                        ChecklistEntry("add_information", "Add information to the issue body about:"),
                        ChecklistEntry("user_problem", "The user problem being solved", "user_problem"),
                        ChecklistEntry("assumptions", "Your assumptions", "assumptions"),
                        ChecklistEntry("personas", "Who it's for, list of personas impacted", "personas"),
                        ChecklistEntry("proposal", "Your proposal", "proposal"),
                        ChecklistEntry(
                            "designs",
                            "Add relevant designs to the Design Management area of the issue if available",
                            "gitlab:designs",
                        ),
                        ChecklistEntry("label", LABEL_ITEM, "label:wg-ai-integration"),
                    ),
                ),
            ),
        ),
        Checklist(
            Stage.GA,
            Heading(3, "General Availability"),
            (
                ChecklistGroup(
                    "Issue information",
                    (
                        ChecklistEntry("add_information", "Add information to the issue body about:"),
                        ChecklistEntry("proposal", "Your proposal", "proposal_updates"),
                        ChecklistEntry("job_statement", "The Job Statement it's expected to satisfy", "main_job_story"),
                        ChecklistEntry(
                            "problem_validation",
                            "Details about the user problem and provide any research or problem validation",
                            "problem_validation",
                        ),
                        ChecklistEntry("personas", "List the personas impacted by the proposal.", "personas"),
                        ChecklistEntry(
                            "solution_validation",
                            "Add all relevant solution validation issues to the Linked items section that shows "
                            "this proposal will solve the customer problem, or details explaining why it's not "
                            "possible to provide that validation.",
                        ),
                        ChecklistEntry(
                            "designs",
                            "Add relevant designs to the Design Management area of the issue.",
                            "gitlab:designs",
                        ),
                        ChecklistEntry(
                            "definition_of_done",
                            "You have adhered to our [Definition of Done](https://docs.gitlab.com/ee/development/"
                            "contributing/merge_request_workflow.html#definition-of-done) standards",
                        ),
                        ChecklistEntry("label", LABEL_ITEM, "label:wg-ai-integration"),
                    ),
                ),
                ChecklistGroup(
                    "Technical needs",
                    # Ticked by Stagegate once all five ORR areas are signed off (or not applicable).
                    (ChecklistEntry("orr_checklist", ORR_CHECKLIST_LINK, "orr:signed_off"),),
                    after=tuple(area.markdown for area in ORR_AREAS_2023),
                ),
                ChecklistGroup(
                    "Dependency needs",
                    (ChecklistEntry("dependency_orr_checklist", ORR_CHECKLIST_LINK),),
                ),
                ChecklistGroup("Legal needs", (ChecklistEntry("legal_tbd", "TBD"),)),
            ),
        ),
        Heading(2, "Additional resources"),
        Boilerplate(
            (
                "- If you'd like help with technical validation, or would like to discuss UX considerations "
                "for AI mention the AI Assisted group using `@gitlab-org/modelops/applied-ml`.",
                "- Read about our [AI Integration strategy](https://internal-handbook.gitlab.io/handbook/"
                "product/ai-strategy/ai-integration-effort/)",
                "- Slack channels",
                "- `#wg_ai_integration` - Slack channel for the working group and the high level alignment on "
                "getting AI ready for Production (Development, Product, UX, Legal, etc.) But from the other "
                "channels fell free to reach out and post progress here",
                "- `#ai_integration_dev_lobby` - Channel for all implementation related topics and discussions "
                "of actual AI features (e.g. explain the code)",
                "- `#ai_enablement_team` - Channel for the AI Enablement Team which is building the base for "
                "all features (experimentation API, Abstraction Layer, Embeddings, etc.)",
            )
        ),
    ),
    edit_sections=(
        EditSection(
            "problem",
            "Problem to be solved",
            Stage.EXPERIMENT,
            ("user_problem", "solution_hypothesis", "assumptions", "personas"),
        ),
        EditSection("experiment-proposal", "Proposal", Stage.EXPERIMENT, ("proposal", "success")),
        EditSection("job-story", "Main job story", Stage.GA, ("main_job_story", "proposal_updates")),
        EditSection("validation", "Validation", Stage.GA, ("problem_validation", "business_objective")),
        EditSection("confidence", "Confidence", Stage.GA, ("confidence",)),
        EditSection("needs", "Dependency and legal needs", Stage.GA, ("dependency_needs", "legal_needs")),
    ),
    orr_areas=ORR_AREAS_2023,
    trailer=(
        "/label ~wg-ai-integration",
        "/cc @tmccaslin @hbenson @wayne @pedroms @jmandell",
        "/confidential",
        "[Make change to this template](https://gitlab.com/gitlab-org/gitlab/-/blob/master/"
        ".gitlab/issue_templates/AI%20Project%20Proposal.md)",
    ),
)

# Fields the proposal holds outside the template's headings (they live inside its checklist groups).
NEEDS_FIELDS = {"dependency_needs": "Dependency needs", "legal_needs": "Legal needs"}


def field_label(definition: TemplateDefinition, key: str) -> str:
    """What a person calls the title, a field or a list, by its content key ("title", "field:…", "list:…")."""
    if key == "title":
        return "Title"
    name = key.split(":", 1)[1]
    try:
        return definition.field(name).label
    except KeyError:
        return NEEDS_FIELDS.get(name, name.replace("_", " ").capitalize())


# ---------------------------------------------------------------------------
# GitLab's other versions of the template (../shared/spec/gitlab-history/).
# Issues on GitLab were written from whichever was current; the parser reads all
# of them, and a proposal can move between them (proposals.template_moves).
# Fields keep their June 2023 names where they mean the same thing, so a move
# carries them over; fields only one version has live in Proposal.extra_fields.
# ---------------------------------------------------------------------------


def _orr_areas(lines: tuple[str, ...]) -> tuple[OrrArea, ...]:
    """The ORR areas as one version words them: ``N. Title: guidance``, or ``N. Title`` then ``- guidance``."""
    areas = []
    for area in ORR_AREAS_2023:
        prefix = f"{area.number}. "
        index = next(i for i, line in enumerate(lines) if line.startswith(prefix))
        title, colon, guidance = lines[index].removeprefix(prefix).replace("**", "").partition(":")
        if not colon:
            title, guidance = title.rstrip("."), lines[index + 1].lstrip("- ")
        areas.append(OrrArea(area.key, area.number, title.strip(), guidance.strip()))
    return tuple(areas)


def _june_field(field_name: str, /, **changes) -> Field:
    return replace(JUNE_2023.field(field_name), **changes)


def _june_item(stage: Stage, key: str, **changes) -> ChecklistEntry:
    checklist = JUNE_2023.checklist(stage)
    return replace(next(item for item in checklist.items if item.key == key), **changes)


_ISSUE_TOPICS = "Add information to the issue body about:"
_OLD_ORR_LINK = (
    "[https://gitlab.com/gitlab-org/gitlab/-/issues/403859#note_1337519985]"
    "(https://gitlab.com/gitlab-org/gitlab/-/issues/403859#note_1337519985)+s"
)
_OPERATIONAL = (
    "Please consider the operational aspects of the {what} you are creating. A list of things to think about is in: "
    "https://gitlab.com/gitlab-org/gitlab/-/issues/403859. We will be improving this process in the future: "
    "https://gitlab.com/gitlab-org/gitlab/-/merge_requests/117637#note_1353253349."
)
_APPSEC = (
    "@ mention your [AppSec Stable Counterpart](https://about.gitlab.com/handbook/product/categories/) and read the "
    "[AI secure coding guidelines](https://docs.gitlab.com/ee/development/secure_coding_guidelines.html"
    "#artificial-intelligence-ai-features)"
)
_OUTAGE = ChecklistEntry(
    "outage",
    "Confirm that an unexpected outage of this feature will not negatively impact the application or other features",
)
_FEATURE_FLAG = ChecklistEntry(
    "feature_flag", "Add a feature flag so that this feature can be quickly disabled if/when needed"
)
_RED_DATA = ChecklistEntry(
    "red_data",
    "If this experiment introduces a new service or data store, ensure it is not processing or storing [red data]"
    "(https://about.gitlab.com/handbook/security/data-classification-standard.html#data-classification-levels) "
    "without a security and if needed legal review",
    notes=(
        "  - *NOTE*: We recommend using one of the already adopted models or data stores. If you need to use "
        "something else, be aware that using other models or data stores will require additional review during "
        "the feature stage for operational fitness and compliance.",
    ),
)
_CONFIDENCE_TABLE_PADDED = (
    "| Confidence        | Research                       |",
    "| ----------------- | ------------------------------ |",
    "| [High/Medium/Low] | [research/insight issue](Link) |",
)


def _issue_information(stage: Stage, *, extra: tuple[ChecklistEntry, ...] = ()) -> ChecklistGroup:
    """June 2023's "Issue information" items with the four topics nested, and a version's additions
    before the label item."""
    (
        first,
        *topics,
    ) = JUNE_2023.checklist(stage).groups[0].items[:5]
    rest = JUNE_2023.checklist(stage).groups[0].items[5:]
    items = (first, *(replace(item, depth=1) for item in topics), *rest[:-1], *extra, rest[-1])
    return ChecklistGroup("Issue information", items)


def _needs_groups(dependency_item: str, legal_item: str = "TBD") -> tuple[ChecklistGroup, ...]:
    return (
        ChecklistGroup("Dependency needs", (ChecklistEntry("dependency_orr_checklist", dependency_item),)),
        ChecklistGroup("Legal needs", (ChecklistEntry("legal_tbd", legal_item),)),
    )


_EXPERIMENT_LINK = f"[Experiment]({_ALPHA_BETA}#experiment)"

APRIL_2023 = TemplateDefinition(
    version="2023-04",
    name="AI Project Proposal (April 2023: Experiment/Prototype, Feature release)",
    stages=(Stage.EXPERIMENT, Stage.GA),
    body=(
        Heading(1, "Experiment/Prototype"),
        Heading(2, "Problem to be solved"),
        _june_field("user_problem"),
        _june_field("solution_hypothesis", level=4),
        _june_field("assumptions"),
        _june_field(
            "personas",
            heading="[Personas](https://about.gitlab.com/handbook/product/personas/#list-of-user-personas)",
            prompt="What personas have this problem, who is the intended user?",
        ),
        _june_field("proposal"),
        _june_field("success"),
        Heading(1, "Feature release"),
        _june_field("main_job_story", level=3),
        _june_field("proposal_updates", level=2),
        _june_field("problem_validation"),
        _june_field("business_objective"),
        _june_field(
            "confidence",
            notes=(
                "| Confidence | Research |",
                "| --- | --- |",
                "| [High/Medium/Low] | [research/insight issue](Link) |",
            ),
        ),
        _june_field(
            "requirements",
            notes=(
                ">⚠️ Related feature and research issues should be linked in the related issues section "
                "(Delete this line when this is done)",
            ),
        ),
        Heading(2, "Checklist"),
        Checklist(Stage.EXPERIMENT, Heading(3, "Experiment"), (_issue_information(Stage.EXPERIMENT),)),
        Checklist(
            Stage.GA,
            Heading(3, "Feature release"),
            (
                _issue_information(Stage.GA),
                ChecklistGroup(
                    "Technical needs",
                    (ChecklistEntry("orr_checklist", _OLD_ORR_LINK, "orr:signed_off"),),
                    after=_APRIL_2023_ORR_LINES,
                ),
                *_needs_groups(_OLD_ORR_LINK),
            ),
        ),
        Heading(2, "Additional resources"),
        Boilerplate(_RESOURCES_2023),
    ),
    edit_sections=JUNE_2023.edit_sections,
    orr_areas=_orr_areas(_APRIL_2023_ORR_LINES),
    trailer=("/label ~wg-ai-integration", "/cc @tmccaslin @hbenson @wayne @pedroms @jmandell"),
    comments=_APRIL_2023_COMMENTS,
)

_JULY_2023_EXPERIMENT_EXTRA = (_OUTAGE, _FEATURE_FLAG, _RED_DATA)


def _july_2023(*, version: str, name: str, technical_items: tuple[ChecklistEntry, ...]) -> TemplateDefinition:
    return TemplateDefinition(
        version=version,
        name=name,
        stages=(Stage.EXPERIMENT, Stage.GA),
        body=(
            Heading(1, "Experiment"),
            Boilerplate(("This section should be completed prior to work on the Experiment beginning.",)),
            Heading(1, _EXPERIMENT_LINK),
            Heading(2, "Problem to be solved"),
            *(JUNE_2023.field(name) for name in ("user_problem", "solution_hypothesis", "assumptions", "personas")),
            _june_field("proposal"),
            _june_field("success"),
            Heading(1, "Feature release"),
            _june_field("main_job_story", level=3),
            _june_field("proposal_updates", level=2),
            _june_field("problem_validation"),
            _june_field("business_objective"),
            _june_field("confidence", notes=_CONFIDENCE_TABLE_PADDED),
            _june_field("requirements", placeholder=("- ...", "- ...")),
            Heading(2, "Checklist"),
            Checklist(
                Stage.EXPERIMENT,
                Heading(3, "Experiment"),
                (_issue_information(Stage.EXPERIMENT, extra=_JULY_2023_EXPERIMENT_EXTRA),),
            ),
            Checklist(
                Stage.GA,
                Heading(3, "Feature release"),
                (
                    _issue_information(Stage.GA),
                    ChecklistGroup("Technical needs", technical_items, after=_JULY_2023_ORR_LINES),
                    *_needs_groups(_OPERATIONAL.format(what="service")),
                ),
            ),
            Heading(2, "Additional resources"),
            Boilerplate(_RESOURCES_2023),
        ),
        edit_sections=JUNE_2023.edit_sections,
        orr_areas=_orr_areas(_JULY_2023_ORR_LINES),
        trailer=(
            "/label ~wg-ai-integration",
            "/cc @tmccaslin @hbenson @wayne @pedroms @jmandell",
            "/confidential",
        ),
        comments=_JULY_2023_COMMENTS,
    )


# Like June 2023's ORR item: ticked by Stagegate once all five ORR areas are signed off.
_OPERATIONAL_ITEM = ChecklistEntry("orr_checklist", _OPERATIONAL.format(what="feature"), "orr:signed_off")
_APPSEC_ITEM = ChecklistEntry("appsec", _APPSEC)

JULY_2023 = _july_2023(
    version="2023-07",
    name="AI Project Proposal (July 2023: Experiment, Feature release)",
    technical_items=(_OPERATIONAL_ITEM,),
)
# The only change from July 2023: the AppSec item under "Technical needs".
JULY_2023_APPSEC = _july_2023(
    version="2023-07-appsec",
    name="AI Project Proposal (2023, with the AppSec item)",
    technical_items=(_OPERATIONAL_ITEM, _APPSEC_ITEM),
)

_JOBS = "https://about.gitlab.com/handbook/product/ux/jobs-to-be-done"
_ASSUMPTION_PROMPT = "What assumptions are you making about this problem and the solution?"


def _sub_items(*entries: tuple[str, str, str]) -> tuple[ChecklistEntry, ...]:
    return tuple(ChecklistEntry(key, text, verified_by, depth=1) for key, text, verified_by in entries)


_DESIGNS_GA = _june_item(Stage.GA, "designs")
_SOLUTION_VALIDATION = _june_item(Stage.GA, "solution_validation")
_DEFINITION_OF_DONE = _june_item(Stage.GA, "definition_of_done")

EXPERIMENT_BETA_GA = TemplateDefinition(
    version="2023-beta",
    name="AI Project Proposal (Experiment, Beta, Generally Available; latest found)",
    stages=(Stage.EXPERIMENT, Stage.BETA, Stage.GA),
    body=(
        Heading(1, _EXPERIMENT_LINK),
        Boilerplate(("_This section should be completed prior to beginning work on the Experiment._",)),
        Heading(2, "Problem to be solved"),
        JUNE_2023.field("user_problem"),
        JUNE_2023.field("solution_hypothesis"),
        JUNE_2023.field("assumptions"),
        _june_field(
            "personas",
            prompt="What [personas](https://handbook.gitlab.com/handbook/product/personas/#list-of-user-personas) "
            "have this problem, who is the intended user?",
        ),
        _june_field("proposal"),
        _june_field("success"),
        Field(
            "ux_maturity_beta",
            "UX maturity: Experiment to Beta",
            0,
            _UX_BETA_CAPTION,
            notes=_UX_BETA_TABLE,
            required=False,
        ),
        Heading(1, f"[Beta]({_ALPHA_BETA}#beta)"),
        Boilerplate(("_This section should be completed prior to beginning work on the Beta experience._",)),
        _june_field(
            "main_job_story", level=3, heading=f"[Main Job story]({_JOBS}/#how-to-write-a-jtbd)", stage=Stage.BETA
        ),
        Field(
            "small_jobs",
            "Small jobs",
            5,
            f"[Small Jobs]({_JOBS}/#small-jobs)",
            "What are the small jobs this feature is solving for?",
            stage=Stage.BETA,
        ),
        Field("beta_assumptions", "Assumptions (Beta)", 3, "Assumption", _ASSUMPTION_PROMPT, stage=Stage.BETA),
        _june_field("proposal_updates", stage=Stage.BETA),
        _june_field("problem_validation", stage=Stage.BETA),
        _june_field("business_objective", stage=Stage.BETA),
        _june_field(
            "requirements",
            notes=(),
            list_heading=Heading(3, "The user needs to be able to:"),
            placeholder=("- ...", "- ..."),
            stage=Stage.BETA,
        ),
        Field(
            "beta_success",
            "Success (Beta)",
            4,
            "Success",
            "How will you measure whether this Beta is a success?",
            stage=Stage.BETA,
        ),
        Field(
            "ux_maturity_ga",
            "UX maturity: Beta to GA",
            0,
            _UX_GA_CAPTION,
            notes=_UX_GA_TABLE,
            stage=Stage.BETA,
            required=False,
        ),
        Heading(1, f"[Generally Available]({_ALPHA_BETA}#generally-available-ga)"),
        Field("ga_assumptions", "Assumptions (GA)", 3, "Assumption", _ASSUMPTION_PROMPT, stage=Stage.GA),
        Field(
            "ga_proposal_updates",
            "Proposal updates/additions (GA)",
            3,
            "Proposal updates/additions",
            stage=Stage.GA,
            required=False,
        ),
        _june_field("problem_validation", name="ga_problem_validation", label="Problem validation (GA)"),
        _june_field(
            "requirements",
            name="ga_requirements",
            label="Requirements (GA)",
            placeholder=("- ...", "- ..."),
        ),
        Heading(2, "Checklist"),
        Checklist(
            Stage.EXPERIMENT,
            Heading(3, "Experiment"),
            (
                ChecklistGroup(
                    "Issue information",
                    (
                        _june_item(Stage.EXPERIMENT, "add_information"),
                        *_sub_items(
                            ("user_problem", "The user problem being solved", "user_problem"),
                            (
                                "solution_hypothesis",
                                "Why the solution hypothesis solves this problem",
                                "solution_hypothesis",
                            ),
                            ("assumptions", "Your assumptions have been defined", "assumptions"),
                            ("personas", "Who it's for, list of personas impacted", "personas"),
                            ("proposal", "Your proposal has been defined", "proposal"),
                            ("success", "Your success metrics have been defined", "success"),
                            ("ux_maturity", "UX maturity requirements have been measured", "ux_maturity_beta"),
                        ),
                        _june_item(Stage.EXPERIMENT, "designs"),
                        _OUTAGE,
                        _FEATURE_FLAG,
                        _RED_DATA,
                        ChecklistEntry("to_beta", "Completed the necessary steps to move from Experiment to Beta"),
                        _june_item(Stage.EXPERIMENT, "label"),
                    ),
                ),
            ),
        ),
        Checklist(
            Stage.BETA,
            Heading(3, "Beta"),
            (
                ChecklistGroup(
                    "Issue information",
                    (
                        ChecklistEntry("add_information", _ISSUE_TOPICS),
                        *_sub_items(
                            (
                                "job_stories",
                                "The Main Job story and Small Jobs it's expected to satisfy have been stated",
                                "main_job_story",
                            ),
                            ("assumptions", "Your assumptions have been defined", "beta_assumptions"),
                            ("proposal", "Proposal has been updated as necessary", ""),
                            (
                                "problem_validation",
                                "Problem validation inforamtion has been added",
                                "problem_validation",
                            ),
                            ("business_objective", "Business objective has been defined", "business_objective"),
                            ("requirements", "Requirements have been defined", ""),
                            ("success", "Success metrics have been defined", "beta_success"),
                            ("ux_maturity", "UX maturity requirements have been measured", "ux_maturity_ga"),
                        ),
                        ChecklistEntry(
                            "linked_features",
                            "Add all related feature issues to the Linked items section",
                            "gitlab:linked_issues",
                        ),
                        _SOLUTION_VALIDATION,
                        _DESIGNS_GA,
                        _DEFINITION_OF_DONE,
                        ChecklistEntry("to_ga", "Completed the necessary steps to move from Beta to GA"),
                    ),
                ),
            ),
        ),
        Checklist(
            Stage.GA,
            Heading(4, "Generally available"),
            (
                ChecklistGroup(
                    "Issue information",
                    (
                        _june_item(Stage.GA, "add_information"),
                        *_sub_items(
                            ("assumptions", "Your assumptions have been defined", "ga_assumptions"),
                            ("proposal", "Your proposal has been defined", ""),
                            (
                                "problem_validation",
                                "Problem validation inforamtion has been added",
                                "ga_problem_validation",
                            ),
                            ("business_objective", "Business objective has been defined", "business_objective"),
                            ("confidence", "Confidence about this feature has been assessed and defined", ""),
                            ("requirements", "Requirements have been defined", ""),
                        ),
                        _SOLUTION_VALIDATION,
                        _DESIGNS_GA,
                        _DEFINITION_OF_DONE,
                        _june_item(Stage.GA, "label"),
                    ),
                ),
                ChecklistGroup("Technical needs", (_OPERATIONAL_ITEM, _APPSEC_ITEM), after=_BETA_ORR_LINES),
                *_needs_groups(_OPERATIONAL.format(what="service")),
            ),
        ),
        Heading(2, "Additional resources"),
        Boilerplate(_BETA_RESOURCES),
    ),
    edit_sections=(
        EditSection(
            "problem",
            "Problem to be solved",
            Stage.EXPERIMENT,
            ("user_problem", "solution_hypothesis", "assumptions", "personas"),
        ),
        EditSection("experiment-proposal", "Proposal", Stage.EXPERIMENT, ("proposal", "success", "ux_maturity_beta")),
        EditSection("job-story", "Main job story", Stage.BETA, ("main_job_story", "small_jobs", "beta_assumptions")),
        EditSection(
            "validation",
            "Proposal and validation",
            Stage.BETA,
            ("proposal_updates", "problem_validation", "business_objective"),
        ),
        EditSection("beta-success", "Beta success", Stage.BETA, ("beta_success", "ux_maturity_ga")),
        EditSection(
            "general-availability",
            "Generally Available",
            Stage.GA,
            ("ga_assumptions", "ga_proposal_updates", "ga_problem_validation", "ga_requirements"),
        ),
        EditSection("needs", "Dependency and legal needs", Stage.GA, ("dependency_needs", "legal_needs")),
    ),
    orr_areas=_orr_areas(_BETA_ORR_LINES),
    trailer=(
        '/label ~"AI Feature Proposal" ~"AI-Seeking community feedback" ',
        "/cc @rogerwoo @oregand @jackib",
        "/parent_epic &9997",
    ),
    comments=_BETA_COMMENTS,
)


DEFINITIONS: dict[str, TemplateDefinition] = {
    definition.version: definition
    for definition in (APRIL_2023, JUNE_2023, JULY_2023, JULY_2023_APPSEC, EXPERIMENT_BETA_GA)
}
DEFAULT_VERSION = JUNE_2023.version


def get_definition(version: str | None = None) -> TemplateDefinition:
    return DEFINITIONS.get(version or DEFAULT_VERSION, JUNE_2023)


# The newest version recovered (see ../shared/spec/gitlab-history/INDEX.md): what a new proposal starts from.
NEWEST_VERSION = EXPERIMENT_BETA_GA.version

# For a person choosing the version of a new proposal: when each was GitLab's template and what sets it apart.
# Newest first, the order the choice is offered in.
VERSION_NOTES: dict[str, tuple[str, str]] = {
    EXPERIMENT_BETA_GA.version: (
        "Latest, late 2023",
        "Experiment, Beta and Generally Available sections with UX maturity tables; no Confidence section.",
    ),
    JULY_2023_APPSEC.version: ("2023, after July", "As July 2023, plus the AppSec item under Technical needs."),
    JULY_2023.version: (
        "July 2023",
        "Experiment and Feature release; adds the outage, feature-flag and red-data checks.",
    ),
    JUNE_2023.version: (
        "June 2023",
        "Experiment and General Availability, with Confidence and research links.",
    ),
    APRIL_2023.version: ("April 2023", "The first version: Experiment/Prototype and Feature release."),
}

_TITLE_FORMAT = re.compile(r"title format:?\s*(?P<pattern>🤖[^\n]*)", re.IGNORECASE)
_TITLE_SLOT = re.compile(r"\{\s*`?\s*(?P<slot>[^`}]*?)\s*`?\s*\}")


def title_pattern(definition: TemplateDefinition) -> str:
    """The title format a version's leading comment asks for, e.g. "🤖 [AI Proposal] {Need/outcome} …", or ""."""
    # June 2023's comments are TEMPLATE_COMMENTS: Stagegate's copy of that text leaves them out of the body.
    for comment in definition.comments or TEMPLATE_COMMENTS:
        found = _TITLE_FORMAT.search(comment)
        if found:
            return _TITLE_SLOT.sub(r"{\g<slot>}", found["pattern"]).strip()
    return ""
