"""The working group's figures: each a fixed number of queries over the proposals the viewer may see.

Every function here takes the already filtered queryset (built by ``DashboardFilter`` from
``Proposal.objects.visible_to(user)``, the one place confidentiality is decided) and runs the same
number of queries whatever the number of proposals: counts are computed by the database, lists are
cut to a page, and percentiles come from one column of durations read in a single query.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
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
from django.urls import reverse

from dashboard.filters import STAGES, DashboardFilter, sorted_proposals
from proposals.filters import CONFIDENCE_CHOICES, UNSET
from proposals.models import Activity, Proposal, unbacked_confidence_q
from proposals.template import STAGE_LABELS, Stage
from proposals.workflow import approve_gate
from reviews.models import Decision, OrrArea, Review

PAGE_SIZE = 25
LIST_LENGTH = 10  # rows in the stale, blocked and sync lists; the full set is one filter away

STATES = tuple(Proposal.State)
# The reviews app names the statuses that wait for a reviewer's decision.
WAITING_ON_REVIEWER = tuple(Review.WAITING)
# Reviews under way (submitted, not signed off): stale when nobody touches them.
UNDER_WAY = (*WAITING_ON_REVIEWER, Review.Status.CHANGES_REQUESTED)
ACTIVE_STATES = (Proposal.State.DRAFT, Proposal.State.IN_REVIEW)


# --- the funnel ----------------------------------------------------------------------------------


@dataclass
class StageRow:
    stage: Stage
    total: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    by_confidence: dict[str, int] = field(default_factory=dict)
    moved_week: int = 0
    moved_month: int = 0
    stale: int = 0  # active proposals without activity for STALE_AFTER_DAYS
    unbacked: int = 0  # high confidence without a research link (proposals.models.unbacked_confidence_q)

    @property
    def label(self) -> str:
        return STAGE_LABELS[self.stage]

    @property
    def state_counts(self) -> list[tuple[str, int]]:
        return [(state.label, self.by_state.get(state.value, 0)) for state in STATES]

    @property
    def confidence_counts(self) -> list[tuple[str, str, int]]:
        # Proposals without a confidence are stored with "" and filtered with UNSET.
        return [
            (value, label, self.by_confidence.get("" if value == UNSET else value, 0))
            for value, label in CONFIDENCE_CHOICES
        ]


def portfolio(proposals: QuerySet[Proposal], *, now: datetime) -> list[StageRow]:
    """Proposals per stage, state and confidence, how many went stale and how many changed state lately.

    Two queries; the GA list and the stale list take their totals from here rather than count again.
    """
    rows = {stage.value: StageRow(stage) for stage in STAGES}
    counts = (
        proposals.order_by()
        .values_list("stage", "state", "confidence")
        .annotate(
            n=Count("id"),
            stale=Count("id", filter=_stale_proposal(now)),
            unbacked=Count("id", filter=unbacked_confidence_q()),
        )
    )
    for stage, state, confidence, n, stale, unbacked in counts:
        row = rows.get(stage)
        if row is None:
            continue
        row.total += n
        row.stale += stale
        row.unbacked += unbacked
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


# A stand-in id: the review URL is reversed once per page and the id put in, not reversed per cell.
_URL_ID = "2147483647"


def _review_url_maker():
    pattern = reverse("reviews:detail", args=[_URL_ID])
    head, _, tail = pattern.rpartition(_URL_ID)
    return lambda review: f"{head}{review.pk}{tail}"


@dataclass
class MatrixRow:
    proposal: Proposal
    cells: list[MatrixCell]


def orr_matrix(
    proposals: QuerySet[Proposal], *, areas: list[OrrArea], sort: str, page: str, total: int
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
        .with_unbacked_confidence()
    )
    current = CountedPaginator(rows, PAGE_SIZE, count=total).get_page(page)
    matrix = []
    review_url = _review_url_maker()
    for proposal in current.object_list:
        by_area = {review.area_id: review for review in proposal.reviews.all()}
        cells = []
        for area in areas:
            review = by_area.get(area.pk)
            cells.append(MatrixCell(review, review_url(review) if review else ""))
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


def ga_blockers(proposals: QuerySet[Proposal], *, total: int, limit: int = LIST_LENGTH) -> Listing:
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
            Prefetch("reviews", queryset=Review.objects.select_related("area", "current_decision")),
        )
        .order_by("updated_at", "id")
    )
    listing = Listing(list(in_ga_work[:limit]), total)
    # The owner may always act on their proposal, so the reasons are about the proposal, not about who asks.
    listing.rows = [Blocked(p, approve_gate(p, by=p.owner)) for p in listing.rows]
    return listing


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
    proposals: QuerySet[Proposal],
    *,
    now: datetime,
    area: OrrArea | None,
    proposals_total: int,
    reviews_total: int,
    limit: int = LIST_LENGTH,
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
    oldest = stale_reviews.order_by("updated_at", "id").values("pk")[:limit]
    listed = (
        Review.objects.filter(pk__in=oldest)
        .select_related("proposal", "area", "reviewer")
        .only("id", "status", "updated_at", "proposal__id", "proposal__title", "area__title", "reviewer__username")
        .order_by("updated_at", "id")
    )
    return StaleWork(
        days,
        Listing(list(stale_proposals[:limit]), proposals_total),
        Listing(list(listed), reviews_total),
    )


@dataclass
class Spread:
    """How long something took: median and 90th percentile in days, over `count` cases."""

    label: str
    count: int = 0
    median_days: float | None = None
    p90_days: float | None = None

    @classmethod
    def of(cls, label: str, durations: list[timedelta]) -> Spread:
        """Median and 90th percentile interpolated between the closest values, as PostgreSQL's percentile_cont."""
        days = [duration.total_seconds() / 86400 for duration in durations]
        if len(days) < 2:  # statistics.quantiles wants two values before Python 3.13
            return cls(label, len(days), *([round(days[0], 1)] * 2 if days else [None, None]))
        deciles = statistics.quantiles(days, n=10, method="inclusive")
        return cls(label, len(days), round(deciles[4], 1), round(deciles[8], 1))


# workflow.proposal_advance_stage records a stage move as a STATE activity with data {"stage": [from, to]}.
# Plain SQL that PostgreSQL and SQLite (3.38+: JSON arrows, window functions) both run.
TIME_IN_STAGE_SQL = """
WITH shown AS ({proposals}),
entries AS (
    SELECT shown.id AS proposal_id, shown.created_at AS entered_at, '{first_stage}' AS stage FROM shown
    UNION ALL
    SELECT a.proposal_id, a.created_at, a.data -> 'stage' ->> 1
    FROM {activity} a JOIN shown ON shown.id = a.proposal_id
    WHERE a.kind = %s AND a.data -> 'stage' ->> 1 IS NOT NULL
),
stints AS (
    SELECT stage, entered_at,
           COALESCE(LEAD(entered_at) OVER (PARTITION BY proposal_id ORDER BY entered_at), %s) AS left_at
    FROM entries
)
SELECT stage, {duration} FROM stints
"""


def stage_stints(proposals: QuerySet[Proposal], *, now: datetime) -> dict[str, list[timedelta]]:
    """Time spent in each stint, per stage (a proposal still in a stage counts up to now): one query."""
    shown_sql, shown_params = proposals.order_by().values("id", "created_at").query.sql_with_params()
    # Each backend's own interval arithmetic: an interval on PostgreSQL, microseconds on SQLite.
    duration, _ = connection.ops.subtract_temporals("DateTimeField", ("left_at", []), ("entered_at", []))
    sql = TIME_IN_STAGE_SQL.format(
        proposals=shown_sql, first_stage=Stage.EXPERIMENT.value, activity=Activity._meta.db_table, duration=duration
    )
    stints: dict[str, list[timedelta]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*shown_params, Activity.Kind.STATE.value, connection.ops.adapt_datetimefield_value(now)])
        for stage, spent in cursor.fetchall():
            stints.setdefault(stage, []).append(_as_timedelta(spent))
    return stints


def _as_timedelta(value) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(microseconds=value)


def time_in_stage(proposals: QuerySet[Proposal], *, now: datetime) -> list[Spread]:
    """Days spent per stage, counting each stint (a proposal still in a stage counts up to now): one query."""
    stints = stage_stints(proposals, now=now)
    return [Spread.of(STAGE_LABELS[stage], stints.get(stage.value, [])) for stage in STAGES]


@dataclass
class ReviewTimes:
    """What the review figures are made of, in a form that adds up across sets of proposals."""

    waits: dict[int, list[timedelta]]  # per area id: how long each waiting review has waited
    by_reviewer: dict[str, int]  # per reviewer: reviews waiting for them
    stale: int  # reviews under way that nobody touched for STALE_AFTER_DAYS


def review_times(proposals: QuerySet[Proposal], *, area: OrrArea | None, now: datetime) -> ReviewTimes:
    """Waiting times per area, reviewers' waiting reviews and the count of stale reviews: one query."""
    cutoff = now - timedelta(days=settings.STALE_AFTER_DAYS)
    reviews = Review.objects.filter(proposal__in=proposals.values("pk"), status__in=UNDER_WAY)
    if area is not None:
        reviews = reviews.filter(area=area)
    rows = (
        reviews.order_by()
        .annotate(
            reviewer_name=F("reviewer__username"),
            waiting=ExpressionWrapper(Q(status__in=WAITING_ON_REVIEWER), output_field=BooleanField()),
            # "assigned_at" is when the review last started waiting; older rows fall back.
            waited=ExpressionWrapper(
                Value(now) - Coalesce("assigned_at", "answer_updated_at", "updated_at"), output_field=DurationField()
            ),
            stale=ExpressionWrapper(Q(updated_at__lt=cutoff), output_field=BooleanField()),
        )
        .values_list("area_id", "reviewer_name", "waiting", "waited", "stale")
    )
    times = ReviewTimes(waits={}, by_reviewer={}, stale=0)
    for area_id, reviewer, waiting, waited, is_stale in rows:
        times.stale += bool(is_stale)
        if waiting:
            times.waits.setdefault(area_id, []).append(waited)
            if reviewer is not None:
                times.by_reviewer[reviewer] = times.by_reviewer.get(reviewer, 0) + 1
    return times


def busiest(by_reviewer: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(by_reviewer.items(), key=lambda item: (-item[1], item[0]))[:LIST_LENGTH]


# Decisions of this many days back make the turnaround figure: how fast areas decide lately.
TURNAROUND_DAYS = 90


def decision_turnarounds(
    proposals: QuerySet[Proposal], *, area: OrrArea | None, now: datetime
) -> dict[int, list[timedelta]]:
    """Per area, the time from a review starting to wait to its decision, over recent decisions: one query.

    The start is the decision's own record of when the review started waiting (``waited_since``, the
    review's ``assigned_at`` at decision time), so a later resubmission does not rewrite history.
    """
    decisions = Decision.objects.filter(
        review__proposal__in=proposals.values("pk"),
        decided_at__gte=now - timedelta(days=TURNAROUND_DAYS),
        waited_since__isnull=False,
    )
    if area is not None:
        decisions = decisions.filter(review__area=area)
    rows = (
        decisions.order_by()
        .annotate(took=ExpressionWrapper(F("decided_at") - F("waited_since"), output_field=DurationField()))
        .values_list("review__area_id", "took")
    )
    turnarounds: dict[int, list[timedelta]] = {}
    for area_id, took in rows:
        turnarounds.setdefault(area_id, []).append(_as_timedelta(took))
    return turnarounds


@dataclass
class ReviewFigures:
    waits: list[Spread]  # per area: reviews waiting for a decision, and how long they have waited
    load: list[tuple[str, int]]  # per reviewer, busiest first: reviews waiting for them
    stale: int  # reviews under way that nobody touched for STALE_AFTER_DAYS
    turnaround: list[Spread]  # per area: from waiting to decided, over the last TURNAROUND_DAYS


def review_figures(
    proposals: QuerySet[Proposal], *, areas: list[OrrArea], area: OrrArea | None, now: datetime
) -> ReviewFigures:
    """Waiting times and decision turnaround per area, reviewer load and the count of stale reviews: two queries."""
    times = review_times(proposals, area=area, now=now)
    turnarounds = decision_turnarounds(proposals, area=area, now=now)
    shown = [area] if area else areas
    return ReviewFigures(
        waits=[Spread.of(a.title, times.waits.get(a.pk, [])) for a in shown],
        load=busiest(times.by_reviewer),
        stale=times.stale,
        turnaround=[Spread.of(a.title, turnarounds.get(a.pk, [])) for a in shown],
    )


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


def sync_health(proposals: QuerySet[Proposal], *, limit: int = LIST_LENGTH) -> SyncHealth:
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
        .order_by("failing", F("last_error_at").desc(nulls_last=True), "proposal_id")[:limit]
    )
    return SyncHealth(installed=True, enabled=settings.GITLAB_SYNC_ENABLED, counts=counts, troubled=troubled)


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


def _chosen(visible: QuerySet[Proposal], ids: list[int]) -> QuerySet[Proposal]:
    """The visible proposals with these ids, the ids sent as one parameter (an IN list has a size limit)."""
    if connection.vendor == "postgresql":
        return visible.filter(pk__in=RawSQL("SELECT unnest(%s::bigint[])", [ids]))
    return visible.filter(pk__in=RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)]))


def dashboard_figures(filters: DashboardFilter, *, now: datetime) -> dict:
    """Every figure the dashboard shows, over the proposals these filters keep: a fixed number of queries."""
    shown = filters.qs
    if filters.active:
        # A text search or a review-state filter costs a pass over every proposal; decide it once (one
        # query), then every figure reads the chosen ids instead of searching again.
        shown = _chosen(filters.queryset, list(shown.order_by().values_list("pk", flat=True)))
    area = filters.orr_area
    stages = portfolio(shown, now=now)
    total = sum(row.total for row in stages)
    page, matrix = orr_matrix(
        shown, areas=[area] if area else filters.areas, sort=filters.ordering, page=filters.page, total=total
    )
    reviews = review_figures(shown, areas=filters.areas, area=area, now=now)
    ga = stages[STAGES.index(Stage.GA)]
    return {
        "areas": filters.areas,
        "columns": [area] if area else filters.areas,
        "area": area,
        "stages": stages,
        "total": total,
        "unbacked_confidence": sum(row.unbacked for row in stages),
        "page": page,
        "matrix": matrix,
        "blocked": ga_blockers(shown, total=sum(ga.by_state.get(state, 0) for state in ACTIVE_STATES)),
        "stale": stale_work(
            shown,
            now=now,
            area=area,
            proposals_total=sum(row.stale for row in stages),
            reviews_total=reviews.stale,
        ),
        "time_in_stage": time_in_stage(shown, now=now),
        "review_waits": reviews.waits,
        "reviewer_load": reviews.load,
        "turnaround": reviews.turnaround,
        "turnaround_days": TURNAROUND_DAYS,
        "sync": sync_health(shown),
        "summary_as_of": None,  # computed now, over exactly these proposals
    }
