"""The working group's dashboard: each figure a fixed number of queries over the proposals the viewer may see.

Every function here takes the already filtered queryset (built from
``Proposal.objects.visible_to(user)``, the one place confidentiality is decided)
and runs the same number of queries whatever the number of proposals: counts and
percentiles are computed by the database, lists are cut to a page.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from proposals.models import Activity, Proposal
from proposals.template import STAGE_LABELS, Stage
from proposals.workflow import approve_gate

# The ORR models, reached through the reverse relation as workflow.py does: proposals never import reviews.
Review = Proposal.reviews.rel.related_model
OrrArea = Review._meta.get_field("area").related_model

PAGE_SIZE = 25
LIST_LENGTH = 10  # rows in the stale, blocked and sync lists; the full set is one filter away
UNSET = "unset"  # the confidence filter's value for proposals without one

STAGES = tuple(Stage)
STATES = tuple(Proposal.State)
CONFIDENCES = tuple(Proposal.Confidence)
# The reviews app names the statuses that wait for a reviewer's decision.
WAITING_ON_REVIEWER = tuple(Review.WAITING)
# Reviews under way (submitted, not signed off): stale when nobody touches them.
UNDER_WAY = (*WAITING_ON_REVIEWER, Review.Status.CHANGES_REQUESTED)
ACTIVE_STATES = (Proposal.State.DRAFT, Proposal.State.IN_REVIEW)


def _stage_order():
    return Case(
        *(When(stage=stage.value, then=Value(i)) for i, stage in enumerate(STAGES)),
        default=Value(len(STAGES)),
        output_field=IntegerField(),
    )


def _confidence_order():
    return Case(
        *(When(confidence=c.value, then=Value(i)) for i, c in enumerate(CONFIDENCES)),
        default=Value(len(CONFIDENCES)),
        output_field=IntegerField(),
    )


SORTS = {
    "title": ("Title", lambda: F("title")),
    "owner": ("Owner", lambda: F("owner__username")),
    "stage": ("Stage", _stage_order),
    "state": ("State", lambda: F("state")),
    "confidence": ("Confidence", _confidence_order),
    "created": ("Created", lambda: F("created_at")),
    "updated": ("Updated", lambda: F("updated_at")),
}
DEFAULT_SORT = "-updated"
MATRIX_SORT_COLUMNS = ("title", "owner", "stage", "state", "confidence", "updated")


# --- filters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardFilters:
    """What the URL asks for. Unknown values are dropped, so a stale link still opens."""

    stage: str = ""
    state: str = ""
    confidence: str = ""
    owner: str = ""
    area: str = ""
    area_state: str = ""
    label: str = ""
    q: str = ""
    sort: str = DEFAULT_SORT
    page: str = "1"

    FILTER_NAMES = ("stage", "state", "confidence", "owner", "area", "area_state", "label", "q")

    @classmethod
    def from_query(cls, params: QueryDict, *, area_keys: set[str]) -> DashboardFilters:
        def pick(name: str, allowed) -> str:
            value = params.get(name, "").strip()
            return value if value in allowed else ""

        sort = params.get("sort", DEFAULT_SORT)
        if sort.removeprefix("-") not in SORTS:
            sort = DEFAULT_SORT
        return cls(
            stage=pick("stage", {s.value for s in STAGES}),
            state=pick("state", {s.value for s in STATES}),
            confidence=pick("confidence", {c.value for c in CONFIDENCES} | {UNSET}),
            owner=params.get("owner", "").strip()[:150],
            area=pick("area", area_keys),
            area_state=pick("area_state", {s.value for s in Review.Status}),
            label=params.get("label", "").strip()[:100],
            q=params.get("q", "").strip()[:200],
            sort=sort,
            page=params.get("page", "1")[:10],
        )

    @property
    def active(self) -> bool:
        return any(getattr(self, name) for name in self.FILTER_NAMES)

    def querystring(self, **changes) -> str:
        """The URL query for these filters with some values changed; defaults are left out."""
        values = {name: getattr(self, name) for name in (*self.FILTER_NAMES, "sort", "page")}
        values.update(changes)
        if values["sort"] == DEFAULT_SORT:
            values["sort"] = ""
        if str(values["page"]) == "1":
            values["page"] = ""
        return urlencode({k: v for k, v in values.items() if v})

    def apply(self, proposals: QuerySet[Proposal]) -> QuerySet[Proposal]:
        """The proposals these filters keep. An area alone keeps every proposal (it narrows the matrix
        columns and the review figures); with an area state it keeps those whose review there is in it."""
        if self.stage:
            proposals = proposals.filter(stage=self.stage)
        if self.state:
            proposals = proposals.filter(state=self.state)
        if self.confidence == UNSET:
            proposals = proposals.filter(confidence="")
        elif self.confidence:
            proposals = proposals.filter(confidence=self.confidence)
        if self.owner:
            proposals = proposals.filter(owner__username=self.owner)
        if self.area_state:
            reviews = Review.objects.filter(proposal=OuterRef("pk"), status=self.area_state)
            if self.area:
                reviews = reviews.filter(area__key=self.area)
            proposals = proposals.filter(Exists(reviews))
        if self.label:
            proposals = proposals.filter(_has_label(self.label))
        if self.q:
            proposals = proposals.search(self.q)
        return proposals


def _has_label(label: str) -> Q:
    if connection.features.supports_json_field_contains:
        return Q(labels__contains=[label])
    # SQLite cannot ask "does this JSON list hold this item"; the quoted item in its text is the same question.
    return Q(labels__icontains=f'"{label}"')


def sorted_proposals(proposals: QuerySet[Proposal], sort: str) -> QuerySet[Proposal]:
    key = sort.removeprefix("-")
    expression = SORTS[key][1]()
    if sort.startswith("-"):
        return proposals.order_by(expression.desc(), "-id")
    return proposals.order_by(expression.asc(), "id")


# --- the page's figures --------------------------------------------------------------------------


@dataclass
class StageRow:
    stage: Stage
    total: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    by_confidence: dict[str, int] = field(default_factory=dict)
    moved_week: int = 0
    moved_month: int = 0
    stale: int = 0  # active proposals without activity for STALE_AFTER_DAYS

    @property
    def label(self) -> str:
        return STAGE_LABELS[self.stage]

    @property
    def state_counts(self) -> list[tuple[str, int]]:
        return [(state.label, self.by_state.get(state.value, 0)) for state in STATES]

    @property
    def confidence_counts(self) -> list[tuple[str, str, int]]:
        counts = [(c.value, c.label, self.by_confidence.get(c.value, 0)) for c in CONFIDENCES]
        return [*counts, (UNSET, "Unset", self.by_confidence.get("", 0))]


def portfolio(proposals: QuerySet[Proposal], *, now: datetime) -> list[StageRow]:
    """Proposals per stage, state and confidence, how many went stale and how many changed state lately.

    Two queries; the GA list and the stale list take their totals from here rather than count again.
    """
    rows = {stage.value: StageRow(stage) for stage in STAGES}
    counts = (
        proposals.order_by()
        .values_list("stage", "state", "confidence")
        .annotate(n=Count("id"), stale=Count("id", filter=_stale_proposal(now)))
    )
    for stage, state, confidence, n, stale in counts:
        row = rows.get(stage)
        if row is None:
            continue
        row.total += n
        row.stale += stale
        row.by_state[state] = row.by_state.get(state, 0) + n
        row.by_confidence[confidence] = row.by_confidence.get(confidence, 0) + n
    moves = (
        Activity.objects.filter(
            kind=Activity.Kind.STATE, created_at__gte=now - timedelta(days=30), proposal__in=proposals.values("pk")
        )
        .order_by()
        .values_list("proposal__stage")
        .annotate(
            week=Count("proposal", distinct=True, filter=Q(created_at__gte=now - timedelta(days=7))),
            month=Count("proposal", distinct=True),
        )
    )
    for stage, week, month in moves:
        if stage in rows:
            rows[stage].moved_week, rows[stage].moved_month = week, month
    return list(rows.values())


class CountedPaginator(Paginator):
    """A paginator told how many rows there are, instead of asking the database again."""

    def __init__(self, object_list, per_page: int, *, count: int):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count


@dataclass
class MatrixCell:
    review: Review | None
    url: str = ""


@dataclass
class MatrixRow:
    proposal: Proposal
    cells: list[MatrixCell]


def orr_matrix(
    proposals: QuerySet[Proposal], *, areas: list[OrrArea], sort: str, page: str, total: int, review_url=None
) -> tuple[Page, list[MatrixRow]]:
    """One page of proposals with their review in each area: the page and its reviews.

    `total` is the number of proposals, which the funnel has counted already.
    """
    reviews = Review.objects.select_related("reviewer").only(
        "id", "proposal_id", "area_id", "status", "updated_at", "reviewer__id", "reviewer__username"
    )
    rows = (
        sorted_proposals(proposals, sort)
        .select_related("owner")
        .only(
            "id",
            "title",
            "stage",
            "state",
            "confidence",
            "confidential",
            "labels",
            "created_at",
            "updated_at",
            "owner__id",
            "owner__username",
        )
        .prefetch_related(Prefetch("reviews", queryset=reviews))
    )
    current = CountedPaginator(rows, PAGE_SIZE, count=total).get_page(page)
    matrix = []
    for proposal in current.object_list:
        by_area = {review.area_id: review for review in proposal.reviews.all()}
        cells = []
        for area in areas:
            review = by_area.get(area.pk)
            cells.append(MatrixCell(review, review_url(review.pk) if review and review_url else ""))
        matrix.append(MatrixRow(proposal, cells))
    return current, matrix


@dataclass
class Blocked:
    proposal: Proposal
    reasons: list[str]


@dataclass
class Listing:
    """The first rows of a list and how many there are in all."""

    rows: list
    total: int


def ga_blockers(proposals: QuerySet[Proposal], *, total: int) -> Listing:
    """Proposals in GA work (GA stage, not yet approved) with the reasons their approval gate is closed.

    The reasons are workflow.approve_gate's own, read from prefetched rows: the list and five prefetches.
    """
    in_ga_work = (
        proposals.filter(stage=Stage.GA.value, state__in=ACTIVE_STATES)
        .select_related("owner")
        .prefetch_related(
            "requirements",
            "persona_tags",
            "research_links",
            "checklist_items",
            Prefetch("reviews", queryset=Review.objects.select_related(*_review_relations())),
        )
        .order_by("updated_at", "id")
    )
    listing = Listing(list(in_ga_work[:LIST_LENGTH]), total)
    # The owner may always act on their proposal, so the reasons are about the proposal, not about who asks.
    listing.rows = [Blocked(p, approve_gate(p, by=p.owner)) for p in listing.rows]
    return listing


def _review_relations() -> list[str]:
    return [name for name in ("area", "current_decision") if _has_field(Review, name)]


@dataclass
class StaleWork:
    days: int
    proposals: Listing
    reviews: Listing


def _stale_proposal(now: datetime) -> Q:
    """Active, and neither edited nor on the timeline for STALE_AFTER_DAYS."""
    cutoff = now - timedelta(days=settings.STALE_AFTER_DAYS)
    recent = Activity.objects.filter(proposal=OuterRef("pk"), created_at__gte=cutoff)
    return Q(state__in=ACTIVE_STATES, updated_at__lt=cutoff) & ~Exists(recent)


def stale_work(
    proposals: QuerySet[Proposal], *, now: datetime, area: OrrArea | None, proposals_total: int, reviews_total: int
) -> StaleWork:
    """The oldest of the stale proposals and reviews (their totals are counted elsewhere): two queries."""
    days = settings.STALE_AFTER_DAYS
    cutoff = now - timedelta(days=days)
    last = Activity.objects.filter(proposal=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
    stale_proposals = (
        proposals.filter(_stale_proposal(now))
        .select_related("owner")
        .only("id", "title", "updated_at", "owner__id", "owner__username")
        .annotate(last_activity=Coalesce(Subquery(last), F("updated_at")))
        .order_by("updated_at", "id")
    )
    stale_reviews = Review.objects.filter(
        proposal__in=proposals.values("pk"), status__in=UNDER_WAY, updated_at__lt=cutoff
    )
    if area is not None:
        stale_reviews = stale_reviews.filter(area=area)
    # The oldest ids first, then their details: the joins run for LIST_LENGTH rows, not for every stale review.
    oldest = stale_reviews.order_by("updated_at", "id").values("pk")[:LIST_LENGTH]
    listed = (
        Review.objects.filter(pk__in=oldest)
        .select_related("proposal", "area", "reviewer")
        .only("id", "status", "updated_at", "proposal__id", "proposal__title", "area__title", "reviewer__username")
        .order_by("updated_at", "id")
    )
    return StaleWork(
        days,
        Listing(list(stale_proposals[:LIST_LENGTH]), proposals_total),
        Listing(list(listed), reviews_total),
    )


@dataclass
class Spread:
    """How long something took: median and 90th percentile in days, over `count` cases."""

    label: str
    count: int = 0
    median_days: float | None = None
    p90_days: float | None = None


def _days(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return round(value.total_seconds() / 86400, 1)
    return round(float(value) / 86400, 1)


def _percentiles_in_python(durations: list[timedelta]) -> tuple[float | None, float | None]:
    """Linear interpolation, as PostgreSQL's percentile_cont does; for databases without it."""
    values = sorted(d.total_seconds() for d in durations)

    def at(fraction: float) -> float | None:
        if not values:
            return None
        position = fraction * (len(values) - 1)
        low = int(position)
        high = min(low + 1, len(values) - 1)
        return values[low] + (values[high] - values[low]) * (position - low)

    return _days(at(0.5)), _days(at(0.9))


# workflow.proposal_advance_stage records a stage move as a STATE activity with data {"stage": [from, to]}.
TIME_IN_STAGE_SQL = """
WITH shown AS ({proposals}),
entries AS (
    SELECT shown.id AS proposal_id, shown.created_at AS entered_at, 'experiment' AS stage FROM shown
    UNION ALL
    SELECT a.proposal_id, a.created_at, a.data -> 'stage' ->> 1
    FROM proposals_activity a JOIN shown ON shown.id = a.proposal_id
    WHERE a.kind = %s AND jsonb_typeof(a.data -> 'stage') = 'array'
),
stints AS (
    SELECT stage,
           EXTRACT(EPOCH FROM COALESCE(LEAD(entered_at) OVER (PARTITION BY proposal_id ORDER BY entered_at), %s)
                              - entered_at) AS seconds
    FROM entries
)
SELECT stage, COUNT(*),
       PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY seconds),
       PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY seconds)
FROM stints GROUP BY stage
"""


def time_in_stage(proposals: QuerySet[Proposal], *, now: datetime) -> list[Spread] | None:
    """Days spent per stage, counting each stint (a proposal still in a stage counts up to now): one query.

    None where the database lacks window functions over JSON (SQLite in development).
    """
    if connection.vendor != "postgresql":
        return None
    shown_sql, shown_params = proposals.order_by().values("id", "created_at").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            TIME_IN_STAGE_SQL.format(proposals=shown_sql),
            [*shown_params, Activity.Kind.STATE.value, now],
        )
        found = {stage: (n, p50, p90) for stage, n, p50, p90 in cursor.fetchall()}
    spreads = []
    for stage in STAGES:
        n, p50, p90 = found.get(stage.value, (0, None, None))
        spreads.append(Spread(STAGE_LABELS[stage], n, _days(p50), _days(p90)))
    return spreads


@dataclass
class ReviewFigures:
    waits: list[Spread]  # per area: reviews waiting for a decision, and how long they have waited
    load: list[tuple[str, int]]  # per reviewer, busiest first: reviews waiting for them
    stale: int  # reviews under way that nobody touched for STALE_AFTER_DAYS


# One pass over the reviews under way: per area, per reviewer and in all (GROUPING is 1, 2 and 3 for those).
REVIEW_FIGURES_SQL = """
SELECT r.area_id, r.reviewer_name, GROUPING(r.area_id, r.reviewer_name),
       COUNT(*) FILTER (WHERE r.waiting),
       PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY r.waited) FILTER (WHERE r.waiting),
       PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY r.waited) FILTER (WHERE r.waiting),
       COUNT(*) FILTER (WHERE r.stale)
FROM ({reviews}) r
GROUP BY GROUPING SETS ((r.area_id), (r.reviewer_name), ())
"""
BY_AREA, BY_REVIEWER, IN_ALL = 1, 2, 3


def review_figures(
    proposals: QuerySet[Proposal], *, areas: list[OrrArea], area: OrrArea | None, now: datetime
) -> ReviewFigures:
    """Waiting times per area, reviewer load and the count of stale reviews: one query."""
    cutoff = now - timedelta(days=settings.STALE_AFTER_DAYS)
    # "assigned_at" (when the review last started waiting) is the reviews app's; older rows fall back.
    since = [name for name in ("assigned_at", "answer_updated_at", "updated_at") if _has_field(Review, name)]
    reviews = Review.objects.filter(proposal__in=proposals.values("pk"), status__in=UNDER_WAY)
    if area is not None:
        reviews = reviews.filter(area=area)
    rows = (
        reviews.order_by()
        .annotate(
            reviewer_name=F("reviewer__username"),
            waiting=ExpressionWrapper(Q(status__in=WAITING_ON_REVIEWER), output_field=BooleanField()),
            waited=ExpressionWrapper(Value(now) - Coalesce(*since), output_field=DurationField()),
            stale=ExpressionWrapper(Q(updated_at__lt=cutoff), output_field=BooleanField()),
        )
        .values_list("area_id", "reviewer_name", "waiting", "waited", "stale")
    )
    waits: dict[int, tuple[int, float | None, float | None]] = {}
    load: list[tuple[str, int]] = []
    stale = 0
    if connection.vendor == "postgresql":
        sql, params = rows.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(REVIEW_FIGURES_SQL.format(reviews=sql), params)
            for area_id, reviewer, level, n, p50, p90, n_stale in cursor.fetchall():
                if level == BY_AREA:
                    waits[area_id] = (n, _days(p50), _days(p90))
                elif level == BY_REVIEWER and reviewer is not None and n:
                    load.append((reviewer, n))
                elif level == IN_ALL:
                    stale = n_stale
    else:
        by_area: dict[int, list[timedelta]] = {}
        by_reviewer: dict[str, int] = {}
        for area_id, reviewer, waiting, waited, is_stale in rows:
            stale += bool(is_stale)
            if waiting:
                by_area.setdefault(area_id, []).append(waited)
                if reviewer is not None:
                    by_reviewer[reviewer] = by_reviewer.get(reviewer, 0) + 1
        waits = {area_id: (len(w), *_percentiles_in_python(w)) for area_id, w in by_area.items()}
        load = list(by_reviewer.items())
    load.sort(key=lambda item: (-item[1], item[0]))
    shown = [area] if area else areas
    return ReviewFigures(
        waits=[Spread(a.title, *waits.get(a.pk, (0, None, None))) for a in shown],
        load=load[:LIST_LENGTH],
        stale=stale,
    )


def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.concrete_fields)


@dataclass
class SyncHealth:
    installed: bool
    enabled: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    troubled: list = field(default_factory=list)


def _sync_model():
    """The GitLab sync's per-proposal state, when that part of Stagegate is installed."""
    try:
        return apps.get_model("gitlab_sync", "SyncState")
    except LookupError:
        return None


def _sync_failed() -> Q:
    # The same rule as SyncState.status, in SQL: a permanent error, or an error that survived three attempts.
    return Q(permanent_error=True) | (~Q(last_error="") & Q(attempts__gte=3))


def _sync_pending() -> Q:
    return ~_sync_failed() & (Q(needs_push=True) | Q(issue_iid__isnull=True))


def sync_health(proposals: QuerySet[Proposal]) -> SyncHealth:
    """Proposals whose GitLab sync is pending or failing: two queries (none when the sync is not installed)."""
    model = _sync_model()
    if model is None:
        return SyncHealth(installed=False)
    trouble = model.objects.filter(proposal__in=proposals.values("pk")).filter(_sync_failed() | _sync_pending())
    counts = trouble.aggregate(
        failed=Count("pk", filter=_sync_failed()),
        pending=Count("pk", filter=_sync_pending()),
    )
    troubled = list(
        trouble.select_related("proposal")
        # What the list shows and what SyncState.status reads, nothing of the merge bases.
        .only(
            "id",
            "permanent_error",
            "last_error",
            "last_error_at",
            "attempts",
            "needs_push",
            "issue_iid",
            "proposal__id",
            "proposal__title",
        )
        .annotate(failing=Case(When(_sync_failed(), then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("failing", F("last_error_at").desc(nulls_last=True), "proposal_id")[:LIST_LENGTH]
    )
    return SyncHealth(installed=True, enabled=settings.GITLAB_SYNC_ENABLED, counts=counts, troubled=troubled)


# --- charts --------------------------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    value: float
    x: float = 0
    width: float = 0
    y: float = 0
    css: str = ""


CHART_WIDTH = 480
BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 150


def bar_chart(items: list[tuple[str, float]], *, css: str = "") -> dict:
    """Horizontal bars scaled to the largest value, laid out for an inline SVG."""
    top = max((value for _, value in items), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 50
    bars = []
    for i, (label, value) in enumerate(items):
        bars.append(
            Bar(label, value, x=LABEL_WIDTH, width=round(span * value / top, 1), y=i * (BAR_HEIGHT + BAR_GAP), css=css)
        )
    return {"bars": bars, "width": CHART_WIDTH, "height": len(items) * (BAR_HEIGHT + BAR_GAP), "bar_height": BAR_HEIGHT}


def stacked_chart(rows: list[tuple[str, list[tuple[str, str, int]]]]) -> dict:
    """One bar per row split into parts (key, label, value), each part's width its share of the largest row."""
    top = max((sum(v for _, _, v in parts) for _, parts in rows), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 50
    out = []
    for i, (label, parts) in enumerate(rows):
        x = LABEL_WIDTH
        segments = []
        for key, part_label, value in parts:
            width = round(span * value / top, 1)
            segments.append(Bar(part_label, value, x=x, width=width, y=i * (BAR_HEIGHT + BAR_GAP), css=key))
            x += width
        out.append(
            {"label": label, "y": i * (BAR_HEIGHT + BAR_GAP), "segments": segments, "total": sum(v for *_, v in parts)}
        )
    return {"rows": out, "width": CHART_WIDTH, "height": len(rows) * (BAR_HEIGHT + BAR_GAP), "bar_height": BAR_HEIGHT}


# --- links ---------------------------------------------------------------------------------------


def url_maker(*candidates: str):
    """The first URL name of `candidates` that exists, as a function of a pk; reviews' URLs may still be coming."""
    for name in candidates:
        try:
            reverse(name, args=[1])
        except NoReverseMatch:
            continue
        return lambda pk, name=name: reverse(name, args=[pk])
    return lambda pk: ""


# --- CSV export ----------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value) -> str:
    """A cell a spreadsheet shows as text: a leading formula character is escaped with a quote."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Line:
    """A file-like sink that hands back what csv.writer writes, so each row is yielded as it is made."""

    def write(self, value: str) -> str:
        return value


CSV_CHUNK = 500


def csv_chunks(proposals: QuerySet[Proposal], *, areas: list[OrrArea], sort: str) -> Iterator[str]:
    """The filtered table as CSV text in chunks of rows, read from a server-side cursor: memory stays flat."""
    status_labels = dict(Review.Status.choices)
    area_columns = {
        f"orr_{area.pk}": Subquery(
            Review.objects.filter(proposal=OuterRef("pk"), area_id=area.pk).order_by().values("status")[:1],
            output_field=CharField(),
        )
        for area in areas
    }
    rows = (
        sorted_proposals(proposals, sort)
        .annotate(owner_name=F("owner__username"), **area_columns)
        .values_list(
            "id",
            "title",
            "owner_name",
            "stage",
            "state",
            "confidence",
            "confidential",
            "labels",
            "created_at",
            "updated_at",
            *area_columns,
        )
    )
    writer = csv.writer(_Line())
    stage_labels = {stage.value: label for stage, label in STAGE_LABELS.items()}
    state_labels = dict(Proposal.State.choices)
    confidence_labels = dict(Proposal.Confidence.choices)
    yield writer.writerow(
        [
            "ID",
            "Title",
            "Owner",
            "Stage",
            "State",
            "Confidence",
            "Confidential",
            "Labels",
            "Created",
            "Updated",
            *(f"ORR {area.number}: {area.title}" for area in areas),
        ]
    )
    zone = timezone.get_current_timezone()
    lines = []
    for pk, title, owner, stage, state, confidence, confidential, labels, created, updated, *orr in rows.iterator(
        chunk_size=CSV_CHUNK
    ):
        lines.append(
            writer.writerow(
                [
                    pk,
                    safe_cell(title),
                    safe_cell(owner),
                    stage_labels.get(stage, stage),
                    state_labels.get(state, state),
                    confidence_labels.get(confidence, ""),
                    "yes" if confidential else "no",
                    safe_cell(" ".join(f"~{label}" for label in labels or ())),
                    created.astimezone(zone).isoformat(timespec="seconds"),
                    updated.astimezone(zone).isoformat(timespec="seconds"),
                    *(status_labels.get(status, "") for status in orr),
                ]
            )
        )
        # A chunk of rows per write: one write per row would cost more than the row itself.
        if len(lines) == CSV_CHUNK:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


# --- the filter form's choices -------------------------------------------------------------------


def filter_choices(proposals: QuerySet[Proposal]) -> dict:
    """Owners and labels present among the visible proposals: two queries."""
    # One index probe per person ("has a visible proposal") rather than a DISTINCT over every proposal.
    owners = list(
        get_user_model()
        .objects.filter(Exists(proposals.order_by().filter(owner=OuterRef("pk"))))
        .order_by("username")
        .values_list("username", flat=True)
    )
    if connection.vendor == "postgresql":
        # Many proposals share a set of labels: unpack each distinct set once.
        shown_sql, params = proposals.order_by().values("labels").distinct().query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT jsonb_array_elements_text(shown.labels) AS label FROM ({shown_sql}) shown "
                "ORDER BY label",
                params,
            )
            labels = [label for (label,) in cursor.fetchall()]
    else:
        labels = sorted({label for row in proposals.values_list("labels", flat=True) for label in row or ()})
    return {"owners": owners, "labels": labels}


# --- the whole page ------------------------------------------------------------------------------


def dashboard_context(*, user, params: QueryDict, now: datetime, with_choices: bool = True) -> dict:
    """Everything the dashboard shows, for this viewer and these filters: a fixed number of queries."""
    areas = list(OrrArea.objects.order_by("number"))
    filters = DashboardFilters.from_query(params, area_keys={area.key for area in areas})
    area = next((a for a in areas if a.key == filters.area), None)
    visible = Proposal.objects.visible_to(user)
    shown = filters.apply(visible)
    if filters.active and connection.vendor == "postgresql":
        # A text search or a review-state filter costs a pass over every proposal; decide it once (one
        # query), then every figure reads the chosen ids instead of searching again.
        ids = list(shown.order_by().values_list("pk", flat=True))
        shown = visible.filter(pk__in=RawSQL("SELECT unnest(%s::bigint[])", [ids]))
    columns = [area] if area else areas

    stages = portfolio(shown, now=now)
    total = sum(row.total for row in stages)
    page, matrix = orr_matrix(
        shown,
        areas=columns,
        sort=filters.sort,
        page=filters.page,
        total=total,
        review_url=url_maker("reviews:detail"),
    )
    flow = time_in_stage(shown, now=now)
    figures = review_figures(shown, areas=areas, area=area, now=now)
    ga = stages[STAGES.index(Stage.GA)]
    stale = stale_work(
        shown,
        now=now,
        area=area,
        proposals_total=sum(row.stale for row in stages),
        reviews_total=figures.stale,
    )
    return {
        "filters": filters,
        "areas": areas,
        "columns": columns,
        "area": area,
        "choices": filter_choices(visible) if with_choices else None,
        "options": {
            "stage": [(stage.value, STAGE_LABELS[stage]) for stage in STAGES],
            "state": list(Proposal.State.choices),
            "confidence": [*Proposal.Confidence.choices, (UNSET, "Unset")],
            "area_state": list(Review.Status.choices),
        },
        "csv_query": filters.querystring(page=1),
        "clear_query": DashboardFilters(sort=filters.sort).querystring(),
        "previous_query": filters.querystring(page=page.previous_page_number()) if page.has_previous() else "",
        "next_query": filters.querystring(page=page.next_page_number()) if page.has_next() else "",
        "stages": stages,
        "total": total,
        "funnel_chart": bar_chart([(row.label, row.total) for row in stages], css="bar-stage"),
        "confidence_chart": stacked_chart([(row.label, row.confidence_counts) for row in stages]),
        "page": page,
        "matrix": matrix,
        "sort_headers": [sort_links(filters)[key] for key in MATRIX_SORT_COLUMNS],
        "blocked": ga_blockers(shown, total=sum(ga.by_state.get(state, 0) for state in ACTIVE_STATES)),
        "stale": stale,
        "time_in_stage": flow,
        "time_in_stage_chart": flow and spread_chart(flow),
        "review_waits": figures.waits,
        "reviewer_load": figures.load,
        "sync": sync_health(shown),
    }


def sort_links(filters: DashboardFilters) -> dict[str, dict]:
    """Per sortable column: the URL that sorts by it (flipping the direction when it is the current sort)."""
    current = filters.sort.removeprefix("-")
    descending = filters.sort.startswith("-")
    links = {}
    for key, (label, _) in SORTS.items():
        if key == current:
            target = key if descending else f"-{key}"
            state = "descending" if descending else "ascending"
        else:
            target, state = key, "none"
        links[key] = {"label": label, "query": filters.querystring(sort=target, page=1), "aria_sort": state}
    return links


def spread_chart(spreads: list[Spread]) -> dict:
    """Per row two thin bars on one scale: the median above the 90th percentile."""
    top = max((spread.p90_days or 0 for spread in spreads), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 50
    half = BAR_HEIGHT // 2
    rows = []
    for i, spread in enumerate(spreads):
        y = i * (BAR_HEIGHT + BAR_GAP)
        bars = [
            Bar("median", spread.median_days or 0, x=LABEL_WIDTH, y=y, css="bar-median"),
            Bar("90th percentile", spread.p90_days or 0, x=LABEL_WIDTH, y=y + half, css="bar-p90"),
        ]
        for bar in bars:
            bar.width = round(span * bar.value / top, 1)
        rows.append({"label": spread.label, "y": y, "bars": bars})
    return {"rows": rows, "width": CHART_WIDTH, "height": len(spreads) * (BAR_HEIGHT + BAR_GAP), "bar_height": half}
