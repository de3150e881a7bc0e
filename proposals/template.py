"""The "AI Project Proposal" issue template as data.

Everything that knows a heading, a prompt or a checklist item reads it from
here: the section forms, the completeness meter, the checklists, the Markdown
renderer and parser. A new version of GitLab's template is a new
``TemplateDefinition``, never an edit of the code that reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


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
                        ChecklistEntry("designs", "Add relevant designs to the Design Management area of the issue."),
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
                    (ChecklistEntry("orr_checklist", ORR_CHECKLIST_LINK),),
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

# HTML comments GitLab's June 2023 text carries and Stagegate's copy of it leaves out.
TEMPLATE_COMMENTS: tuple[str, ...] = ()

DEFINITIONS: dict[str, TemplateDefinition] = {JUNE_2023.version: JUNE_2023}
DEFAULT_VERSION = JUNE_2023.version


def get_definition(version: str | None = None) -> TemplateDefinition:
    return DEFINITIONS.get(version or DEFAULT_VERSION, JUNE_2023)
