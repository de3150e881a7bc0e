"""Fill a database with a realistic portfolio for the dashboard benchmark.

``manage.py seed_bench --proposals 10000`` adds that many proposals, each with
its five ORR reviews, both checklists, research links, requirements and a
timeline of a few dozen activities (stage moves included), spread over two
years, and each proposal's search index entries (with their tsvectors on PostgreSQL, so the
benchmarks search a real GIN index). Child rows go in by COPY on PostgreSQL; running
it again adds more.
"""

from __future__ import annotations

import json
import random
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import JSONField
from django.utils import timezone

from proposals.access import ADMINS, AUTHORS, REVIEWERS, WORKING_GROUP
from proposals.models import (
    Activity,
    ChecklistItem,
    Proposal,
    Requirement,
    ResearchLink,
    SearchEntry,
)
from proposals.search import CONFIG as SEARCH_CONFIG
from proposals.template import Stage, get_definition

# The ORR models through the reverse relation: proposals never import the reviews app.
Review = Proposal.reviews.rel.related_model
OrrArea = Review._meta.get_field("area").related_model
Decision = Review._meta.get_field("current_decision").related_model

BATCH = 5000
LABELS = (
    "code-suggestions",
    "duo-chat",
    "vulnerability-explanation",
    "summarization",
    "group::ai-framework",
    "group::ai-model-validation",
    "section::data-science",
    "customer",
    "priority::1",
    "priority::2",
    "type::feature",
    "needs-legal",
)
SUBJECTS = (
    "merge request threads",
    "pipeline failures",
    "vulnerability reports",
    "issue descriptions",
    "code review comments",
    "incident timelines",
    "release notes",
    "epic roadmaps",
    "test coverage gaps",
    "dependency updates",
    "runner logs",
    "wiki pages",
)
VERBS = ("Summarise", "Explain", "Suggest fixes for", "Classify", "Draft", "Translate", "Triage", "Predict")
SENTENCES = (
    "Users spend too long reading before they can act.",
    "Teams ask for a shorter path from signal to decision.",
    "We assume the model can handle the context size we need.",
    "Success is measured by weekly active users of the feature.",
    "Early research shows the problem is common in large groups.",
    "The hypothesis is that a generated draft saves ten minutes a day.",
    "Personas most affected are developers and team leads.",
)
# How a portfolio spreads: (stage, weight) and (state, weight) per stage.
STAGE_WEIGHTS = ((Stage.EXPERIMENT, 50), (Stage.BETA, 20), (Stage.GA, 30))
STATE_WEIGHTS = (
    (Proposal.State.DRAFT, 35),
    (Proposal.State.IN_REVIEW, 35),
    (Proposal.State.APPROVED, 20),
    (Proposal.State.CLOSED, 10),
)
CONFIDENCE_WEIGHTS = (("", 30), ("high", 20), ("medium", 30), ("low", 20))
ACTIVITY_KINDS = (
    (Activity.Kind.EDITED, 40),
    (Activity.Kind.CHECKLIST, 20),
    (Activity.Kind.COMMENT, 15),
    (Activity.Kind.REVIEW, 10),
    (Activity.Kind.REQUIREMENT, 5),
    (Activity.Kind.RESEARCH, 5),
    (Activity.Kind.SYNC, 5),
)


_EXPANDED: dict[tuple, list] = {}


def _pick(rng: random.Random, weighted):
    """A value drawn by weight (the weights are small integers): one list look-up, millions of times per seed."""
    expanded = _EXPANDED.get(weighted)
    if expanded is None:
        expanded = _EXPANDED[weighted] = [value for value, weight in weighted for _ in range(weight)]
    return expanded[int(rng.random() * len(expanded))]


@contextmanager
def timestamps_as_given(*models):
    """Let bulk_create keep the created/updated times a seed gives instead of stamping now."""
    fields = [
        f
        for model in models
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _users(prefix: str, count: int, group: Group, password: str) -> list:
    User = get_user_model()
    names = [f"{prefix}{i}" for i in range(count)]
    User.objects.bulk_create(
        [User(username=name, email=f"{name}@example.com", password=password) for name in names],
        ignore_conflicts=True,
    )
    users = list(User.objects.filter(username__in=names).order_by("id"))
    group.user_set.add(*users)
    return users


def _review_status(rng: random.Random, state: str) -> str:
    S = Review.Status
    if state == Proposal.State.DRAFT:
        return _pick(rng, ((S.NOT_STARTED, 85), (S.IN_REVIEW, 10), (S.NOT_APPLICABLE, 5)))
    if state == Proposal.State.IN_REVIEW:
        return _pick(
            rng,
            ((S.IN_REVIEW, 35), (S.CHANGES_REQUESTED, 15), (S.APPROVED, 30), (S.NOT_APPLICABLE, 10), (S.STALE, 10)),
        )
    if state == Proposal.State.APPROVED:
        return _pick(rng, ((S.APPROVED, 85), (S.NOT_APPLICABLE, 15)))
    return _pick(rng, ((S.NOT_STARTED, 40), (S.APPROVED, 30), (S.CHANGES_REQUESTED, 30)))


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + (end - start) * rng.random()


class _Rows:
    """Rows of one table, written in one go: COPY on PostgreSQL (no model instances, no RETURNING), else bulk_create."""

    def __init__(self, model, fields: tuple[str, ...]):
        self.model, self.fields, self.rows = model, fields, []

    def add(self, *values) -> None:
        self.rows.append(values)

    def next_ids(self, count: int) -> list[int]:
        """Ids for rows about to be added (so other rows can point at them before the COPY)."""
        if connection.vendor != "postgresql":
            return [None] * count
        table = self.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [n for (n,) in cursor.fetchall()]

    def write(self) -> int:
        written = len(self.rows)
        if connection.vendor == "postgresql":
            meta = self.model._meta
            columns = ", ".join(connection.ops.quote_name(meta.get_field(name).column) for name in self.fields)
            json_fields = [isinstance(meta.get_field(name), JSONField) for name in self.fields]
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN") as copy,
            ):
                for row in self.rows:
                    copy.write_row(
                        [json.dumps(v) if is_json else v for v, is_json in zip(row, json_fields, strict=True)]
                    )
        else:
            json_fields = {name for name in self.fields if isinstance(self.model._meta.get_field(name), JSONField)}
            self.model.objects.bulk_create(
                [
                    self.model(
                        **{
                            # Ids are given, so foreign keys by their column name ("proposal_id").
                            self.model._meta.get_field(name).attname: json.loads(v)
                            if name in json_fields and isinstance(v, str)
                            else v
                            for name, v in zip(self.fields, row, strict=True)
                        }
                    )
                    for row in self.rows
                ],
                batch_size=BATCH,
            )
        self.rows = []
        return written


class _SearchEntries(_Rows):
    """The search index's rows (what `proposals.search.proposal_parts` would write), with their tsvectors.

    On PostgreSQL the rows are copied into a temporary table and inserted from there with the vector computed
    by the server, so the benchmarks search a real GIN index without a second write of every row."""

    def __init__(self):
        super().__init__(SearchEntry, ("proposal", "part", "label", "text", "weight"))

    def write(self) -> int:
        if connection.vendor != "postgresql":
            return super().write()
        written = len(self.rows)
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS seed_searchentry"
                " (proposal_id bigint, part text, label text, text text, weight text) ON COMMIT DROP"
            )
            with cursor.cursor.copy(
                "COPY seed_searchentry (proposal_id, part, label, text, weight) FROM STDIN"
            ) as copy:
                for row in self.rows:
                    copy.write_row(row)
            cursor.execute(
                "INSERT INTO proposals_searchentry (proposal_id, part, label, text, weight, vector)"
                " SELECT proposal_id, part, label, text, weight,"
                ' setweight(to_tsvector(%s::regconfig, text), weight::"char") FROM seed_searchentry',
                [SEARCH_CONFIG],
            )
            cursor.execute("TRUNCATE seed_searchentry")
        self.rows = []
        return written


def seed_portfolio(*, proposals: int, seed: int = 7, activities_per_proposal: int = 30, now=None) -> dict[str, int]:
    """Add `proposals` proposals with everything around them; returns how many rows of each kind it wrote."""
    rng = random.Random(seed)
    now = now or timezone.now()
    definition = get_definition()
    password = make_password("stagegate-bench")
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in (AUTHORS, REVIEWERS, WORKING_GROUP, ADMINS)}
    authors = _users("bench-author-", max(10, proposals // 40), groups[AUTHORS], password)
    reviewers = _users("bench-reviewer-", 15, groups[REVIEWERS], password)
    _users("bench-wg-", 5, groups[WORKING_GROUP], password)
    areas = list(OrrArea.objects.order_by("number"))
    checklist_rows = [
        (checklist.stage.value, entry.key) for checklist in definition.checklists for entry in checklist.items
    ]
    items = _Rows(ChecklistItem, ("proposal", "stage", "key", "checked", "checked_by_app", "inapplicable", "position"))
    requirements = _Rows(Requirement, ("proposal", "text", "position"))
    links = _Rows(ResearchLink, ("proposal", "title", "url", "position"))
    activities = _Rows(Activity, ("proposal", "actor", "kind", "message", "data", "created_at"))
    review_fields = (
        "proposal",
        "area",
        "answer",
        "status",
        "reviewer",
        "answer_updated_at",
        "assigned_at",
        "updated_at",
    )
    # With COPY the ids come from the sequence first, so decisions can name their review (SQLite: no decisions).
    reviews = _Rows(Review, ("id", *review_fields) if connection.vendor == "postgresql" else review_fields)
    entries = _SearchEntries()
    field_labels = {
        name: definition.field(name).label
        for name in ("user_problem", "solution_hypothesis", "proposal", "main_job_story")
    }
    decisions = _Rows(
        Decision,
        (
            "review",
            "kind",
            "comment",
            "decided_by",
            "decided_as_admin",
            "decided_at",
            "answer_sha256",
            "answer_text",
            "source",
            "waited_since",
        ),
    )

    counts = dict.fromkeys(
        (
            "proposals",
            "reviews",
            "decisions",
            "checklist_items",
            "requirements",
            "research_links",
            "activities",
            "search_entries",
        ),
        0,
    )
    with transaction.atomic(), timestamps_as_given(Proposal, Activity, Review):
        batch_start = 0
        while batch_start < proposals:
            size = min(BATCH // 5, proposals - batch_start)
            batch_start += size
            plans = []
            for _ in range(size):
                stage = _pick(rng, STAGE_WEIGHTS)
                state = _pick(rng, STATE_WEIGHTS)
                created = now - timedelta(days=rng.uniform(1, 730))
                # A fifth of the work has gone quiet: its last touch is long before now.
                quiet = rng.random() < 0.2
                updated = _moment(rng, created, created + (now - created) * (0.3 if quiet else 1.0))
                labels = [definition.label, *rng.sample(LABELS, rng.randint(0, 3))]
                plans.append(
                    Proposal(
                        title=f"{rng.choice(VERBS)} {rng.choice(SUBJECTS)} #{rng.randint(1, 99999)}",
                        owner=rng.choice(authors),
                        stage=stage.value,
                        state=state.value,
                        confidence=_pick(rng, CONFIDENCE_WEIGHTS)
                        if stage != Stage.EXPERIMENT or rng.random() < 0.3
                        else "",
                        confidential=rng.random() < 0.1,
                        labels=labels,
                        user_problem=" ".join(rng.sample(SENTENCES, 3)),
                        solution_hypothesis=" ".join(rng.sample(SENTENCES, 2)),
                        proposal=" ".join(rng.sample(SENTENCES, 4)),
                        main_job_story=" ".join(rng.sample(SENTENCES, 2))
                        if stage == Stage.GA and rng.random() < 0.8
                        else "",
                        created_at=created,
                        updated_at=updated,
                    )
                )
            made = Proposal.objects.bulk_create(plans)
            counts["proposals"] += len(made)

            review_ids = reviews.next_ids(len(made) * len(areas))
            for p in made:
                for area in areas:
                    status = _review_status(rng, p.state)
                    touched = _moment(rng, p.created_at, p.updated_at)
                    started = status != Review.Status.NOT_STARTED
                    reviewer = rng.choice(reviewers) if started or rng.random() < 0.3 else None
                    # Submitted reviews started waiting some days after the answer was written.
                    waiting_since = touched + timedelta(days=rng.uniform(0, 3)) if started else None
                    answer = rng.choice(SENTENCES) if started else ""
                    if answer:
                        entries.add(p.pk, f"orr:{area.key}", f"ORR {area.number}. {area.title}", answer, "B")
                    review_id = review_ids.pop()
                    reviews.add(
                        *((review_id,) if review_id else ()),
                        p.pk,
                        area.pk,
                        answer,
                        status,
                        reviewer.pk if reviewer else None,
                        touched if started else None,
                        waiting_since,
                        touched,
                    )
                    if review_id and status in Decision.Kind.values:
                        # Decided a few days after it started waiting (skewed: most fast, some slow).
                        decided = waiting_since + timedelta(days=rng.expovariate(1 / 4))
                        decisions.add(
                            review_id,
                            status,
                            "Looks fine." if status == Decision.Kind.APPROVED else "See the thread.",
                            reviewer.pk if reviewer else reviewers[0].pk,
                            False,
                            min(decided, now),
                            "0" * 64,
                            answer,
                            Decision.Source.WEB,
                            waiting_since,
                        )
                for position, (stage, key) in enumerate(checklist_rows):
                    items.add(p.pk, stage, key, rng.random() < 0.6, False, False, position)
                entries.add(p.pk, "title", "Title", p.title, "A")
                for name, label in field_labels.items():
                    if getattr(p, name):
                        entries.add(p.pk, f"field:{name}", label, getattr(p, name), "B")
                if p.stage == Stage.GA.value:
                    for position in range(rng.randint(0, 5)):
                        text = f"See a summary of {rng.choice(SUBJECTS)}"
                        requirements.add(p.pk, text, position)
                        # Requirement ids come with the COPY: the part key only has to be unique per proposal.
                        entries.add(p.pk, f"requirement:seed-{position}", "Requirement", text, "B")
                for position in range(rng.randint(0, 3)):
                    title, url = (
                        f"Research round {position + 1}",
                        f"https://gitlab.example.com/research/{p.pk}/{position}",
                    )
                    links.add(p.pk, title, url, position)
                    entries.add(p.pk, f"research:seed-{position}", "Research link", f"{title} {url}", "C")
                _timeline(rng, p, activities_per_proposal, authors, reviewers, activities)
            counts["reviews"] += reviews.write()
            counts["decisions"] += decisions.write()
            counts["checklist_items"] += items.write()
            counts["requirements"] += requirements.write()
            counts["research_links"] += links.write()
            counts["activities"] += activities.write()
            counts["search_entries"] += entries.write()
            _sync_states(rng, made)
    return counts


def _timeline(rng: random.Random, p: Proposal, per_proposal: int, authors, reviewers, rows: _Rows) -> None:
    """Created, a STATE activity per stage entered (as workflow records it), then edits, reviews and comments."""
    kind = Activity.Kind
    rows.add(p.pk, p.owner_id, kind.CREATED, "created", {}, p.created_at)
    written = 1
    stages = [s.value for s in Stage]
    reached = stages[: stages.index(p.stage) + 1]
    moments = sorted(_moment(rng, p.created_at, p.updated_at) for _ in range(len(reached) - 1))
    previous = reached[0]
    for stage, when in zip(reached[1:], moments, strict=True):
        rows.add(p.pk, p.owner_id, kind.STATE, f"moved to {stage}", {"stage": [previous, stage]}, when)
        written += 1
        previous = stage
    for _ in range(max(0, int(rng.gauss(per_proposal, per_proposal / 3)) - written)):
        what = _pick(rng, ACTIVITY_KINDS)
        actor = rng.choice(reviewers) if what in (kind.REVIEW, kind.COMMENT) else p.owner
        rows.add(p.pk, actor.pk, what, f"{what} by {actor.username}", "{}", _moment(rng, p.created_at, p.updated_at))
    if p.state != Proposal.State.DRAFT:
        rows.add(
            p.pk,
            p.owner_id,
            kind.STATE,
            f"state {p.state}",
            {"state": [Proposal.State.DRAFT.value, p.state]},
            p.updated_at,
        )


def _sync_states(rng: random.Random, made: list[Proposal]) -> None:
    """GitLab twins for most proposals, a few pending or failing, when the sync app is installed."""
    try:
        SyncState = apps.get_model("gitlab_sync", "SyncState")
    except LookupError:
        return
    rows = []
    for p in made:
        roll = rng.random()
        rows.append(
            SyncState(
                proposal=p,
                issue_iid=p.pk if roll > 0.02 else None,
                needs_push=0.02 < roll < 0.05,
                attempts=3 if roll > 0.99 else 0,
                last_error="502 Bad Gateway" if roll > 0.99 else "",
                last_error_at=p.updated_at if roll > 0.99 else None,
                local_version=1,
                pushed_version=1,
            )
        )
    SyncState.objects.bulk_create(rows, batch_size=BATCH)


class Command(BaseCommand):
    help = "Add a realistic portfolio of proposals (reviews, checklists, research, timeline) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--proposals", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--activities-per-proposal", type=int, default=30)

    def handle(self, *args, proposals: int, seed: int, activities_per_proposal: int, **options):
        started = time.perf_counter()
        counts = seed_portfolio(proposals=proposals, seed=seed, activities_per_proposal=activities_per_proposal)
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items())
        self.stdout.write(f"Seeded {summary} in {elapsed:.1f}s.")
