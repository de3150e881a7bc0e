"""The unfiltered dashboard from a summary the worker keeps: the same cost at 100,000 proposals as at 100.

Counting every proposal, timeline and review on each visit grows with the portfolio. Instead the worker
(``dashboard.tasks.refresh_portfolio_summary``, every DASHBOARD_SUMMARY_EVERY seconds) stores the
portfolio-wide figures in ``PortfolioSummary`` rows, one per scope, and a visit adds up the scopes its
reader may see:

- ``open`` (everything not confidential) for everyone;
- ``confidential`` only for those who read every proposal (reviewers, admins: ``access.is_admin`` /
  ``is_reviewer``, the same test as ``Proposal.objects.visible_to``);
- the reader's own confidential proposals, computed live (a handful of rows) for anyone else who has some.

Everything stored adds up: counts, per-reviewer loads, durations as histograms with buckets 1% wide (so a
median or 90th percentile read from the summary is within 0.5% of the exact one), and for each list the
oldest few candidates with their sort keys. The listed rows themselves are read live through
``visible_to``, so a title or a confidentiality change shows at once and a row that no longer qualifies
drops out. A proposal made confidential after the summary was computed would still be counted as open:
each summary records which proposals were confidential (count and sum of ids) and a visit that sees a
different set falls back to the live figures until the worker has caught up, as does a summary older
than DASHBOARD_SUMMARY_MAX_AGE. A filtered view is always live: its figures depend on the filters.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dashboard.filters import STAGES, DashboardFilter
from dashboard.models import PortfolioSummary
from dashboard.queries import (
    ACTIVE_STATES,
    LIST_LENGTH,
    TURNAROUND_DAYS,
    UNDER_WAY,
    Blocked,
    Listing,
    Spread,
    StageRow,
    StaleWork,
    SyncHealth,
    _sync_model,
    busiest,
    decision_turnarounds,
    filter_choices,
    ga_blockers,
    orr_matrix,
    portfolio,
    review_times,
    stage_stints,
    stale_work,
    sync_health,
)
from proposals.access import is_admin, is_reviewer
from proposals.models import Activity, Proposal
from proposals.template import STAGE_LABELS, Stage
from reviews.models import Review

Scope = PortfolioSummary.Scope
# Candidates kept per list: rows that changed since the summary drop out and the next ones fill in.
CANDIDATES = LIST_LENGTH * 3
# Of which a visit reads the first few: enough for the drop-outs of a minute, no more rows than that.
READ = LIST_LENGTH + 5

# --- durations that add up -------------------------------------------------------------------------

GAMMA = 1.01  # each bucket is 1% wider than the one before: its middle is within 0.5% of anything in it
LOG_GAMMA = math.log(GAMMA)


def bucket_of(seconds: float) -> int:
    return 0 if seconds < 1 else 1 + int(math.log(seconds) / LOG_GAMMA)


def bucket_seconds(bucket: int) -> float:
    return 0.0 if bucket == 0 else GAMMA ** (bucket - 1) * (1 + GAMMA) / 2


def histogram(durations: list[timedelta]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for duration in durations:
        bucket = bucket_of(duration.total_seconds())
        counts[bucket] = counts.get(bucket, 0) + 1
    return counts


def add_histograms(total: dict[int, int], more: dict[int, int]) -> None:
    for bucket, n in more.items():
        total[bucket] = total.get(bucket, 0) + n


def spread_of_histogram(label: str, counts: dict[int, int]) -> Spread:
    """Median and 90th percentile as Spread.of computes them, over the buckets' middles."""
    n = sum(counts.values())
    if n == 0:
        return Spread(label)
    ordered = sorted(counts.items())

    def nth(index: int) -> float:  # the index-th smallest value (0-based)
        seen = 0
        for bucket, count in ordered:
            seen += count
            if index < seen:
                return bucket_seconds(bucket) / 86400
        return bucket_seconds(ordered[-1][0]) / 86400

    if n < 2:
        value = round(nth(0), 1)
        return Spread(label, n, value, value)
    m = n - 1

    def decile(i: int) -> float:  # statistics.quantiles(n=10, method="inclusive")
        j, delta = divmod(i * m, 10)
        return (nth(j) * (10 - delta) + nth(j + 1) * delta) / 10 if delta else nth(j)

    return Spread(label, n, round(decile(5), 1), round(decile(9), 1))


def _histograms_to_json(series: dict) -> dict[str, list[list[int]]]:
    return {str(key): sorted(map(list, histogram(durations).items())) for key, durations in series.items()}


def _histograms_from_json(series: dict) -> dict[str, dict[int, int]]:
    return {key: dict(pairs) for key, pairs in series.items()}


# --- one scope's figures, as the worker stores them ------------------------------------------------


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def scope_figures(proposals: QuerySet[Proposal], *, now: datetime) -> dict:
    """Every portfolio-wide figure over these proposals, in a form that adds up with another scope's."""
    stages = portfolio(proposals, now=now)
    times = review_times(proposals, area=None, now=now)
    blocked = ga_blockers(proposals, total=0, limit=CANDIDATES)
    stale = stale_work(proposals, now=now, area=None, proposals_total=0, reviews_total=0, limit=CANDIDATES)
    sync = sync_health(proposals, limit=CANDIDATES)
    choices = filter_choices(proposals)
    return {
        "stages": {
            row.stage.value: {
                "by_state": row.by_state,
                "by_confidence": row.by_confidence,
                "moved_week": row.moved_week,
                "moved_month": row.moved_month,
                "stale": row.stale,
            }
            for row in stages
        },
        "stints": _histograms_to_json(stage_stints(proposals, now=now)),
        "waits": _histograms_to_json(times.waits),
        "turnaround": _histograms_to_json(decision_turnarounds(proposals, area=None, now=now)),
        "by_reviewer": times.by_reviewer,
        "stale_reviews": times.stale,
        "sync": {"installed": sync.installed, **sync.counts},
        "owners": choices["owners"],
        "labels": choices["labels"],
        # Candidates of each list with the key it is sorted by.
        "blocked": [[_stamp(item.proposal.updated_at), item.proposal.pk, item.reasons] for item in blocked.rows],
        "stale_proposals": [[_stamp(p.updated_at), p.pk] for p in stale.proposals.rows],
        "stale_review_ids": [[_stamp(r.updated_at), r.pk] for r in stale.reviews.rows],
        "sync_troubled": [
            [0 if state.status == "failed" else 1, _stamp(state.last_error_at), state.proposal_id, state.pk]
            for state in sync.troubled
        ],
    }


def _confidential_now(user) -> dict:
    """Annotations: which proposals are confidential now (how many, the sum of their ids), how many `user` owns."""
    # Grouped by a constant, so no GROUP BY at all: the partial index on confidential proposals answers it.
    confidential = Proposal.objects.filter(confidential=True).order_by().annotate(one=Value(1)).values("one")
    return {
        "confidential_n": Subquery(confidential.annotate(n=Count("id")).values("n"), output_field=IntegerField()),
        "confidential_sum": Subquery(confidential.annotate(s=Sum("id")).values("s"), output_field=IntegerField()),
        "mine": Subquery(
            confidential.filter(owner=user).annotate(n=Count("id")).values("n"), output_field=IntegerField()
        ),
    }


def summary_refresh(*, now: datetime | None = None) -> list[PortfolioSummary]:
    """Compute and store both scopes' figures (what the worker runs every DASHBOARD_SUMMARY_EVERY seconds)."""
    now = now or timezone.now()
    # Read which proposals are confidential first: a change during the refresh then shows as a mismatch
    # (and visits stay live) rather than as an open count that holds a confidential proposal.
    marker = Proposal.objects.filter(confidential=True).aggregate(n=Count("id"), s=Sum("id"))
    rows = []
    with transaction.atomic():
        for scope, confidential in ((Scope.OPEN, False), (Scope.CONFIDENTIAL, True)):
            figures = scope_figures(Proposal.objects.filter(confidential=confidential), now=now)
            row, _ = PortfolioSummary.objects.update_or_create(
                scope=scope,
                defaults={
                    "computed_at": now,
                    "figures": figures,
                    "confidential_count": marker["n"] or 0,
                    "confidential_id_sum": marker["s"] or 0,
                },
            )
            rows.append(row)
    return rows


# --- a visit: add up the scopes the reader may see ------------------------------------------------


def _merge(parts: list[dict]) -> dict:
    merged = {
        "stages": {stage.value: StageRow(stage) for stage in STAGES},
        "stints": {},
        "waits": {},
        "turnaround": {},
        "by_reviewer": {},
        "stale_reviews": 0,
        "sync": {"installed": False, "failed": 0, "pending": 0},
        "owners": set(),
        "labels": set(),
        "blocked": [],
        "stale_proposals": [],
        "stale_review_ids": [],
        "sync_troubled": [],
    }
    for part in parts:
        for stage, counts in part["stages"].items():
            row = merged["stages"].get(stage)
            if row is None:
                continue
            for state, n in counts["by_state"].items():
                row.by_state[state] = row.by_state.get(state, 0) + n
                row.total += n
            for confidence, n in counts["by_confidence"].items():
                row.by_confidence[confidence] = row.by_confidence.get(confidence, 0) + n
            row.moved_week += counts["moved_week"]
            row.moved_month += counts["moved_month"]
            row.stale += counts["stale"]
        for name in ("stints", "waits", "turnaround"):
            for key, counts in _histograms_from_json(part[name]).items():
                add_histograms(merged[name].setdefault(key, {}), counts)
        for reviewer, n in part["by_reviewer"].items():
            merged["by_reviewer"][reviewer] = merged["by_reviewer"].get(reviewer, 0) + n
        merged["stale_reviews"] += part["stale_reviews"]
        merged["sync"]["installed"] |= part["sync"]["installed"]
        for name in ("failed", "pending"):
            merged["sync"][name] += part["sync"].get(name, 0)
        merged["owners"].update(part["owners"])
        merged["labels"].update(part["labels"])
        for name in ("blocked", "stale_proposals", "stale_review_ids", "sync_troubled"):
            merged[name].extend(part[name])
    return merged


def _oldest_first(candidates: list[list]) -> list[list]:
    return sorted(candidates, key=lambda item: (item[0], item[1]))


def _sync_order(item: list) -> tuple:
    failing, last_error_at, proposal_id, _ = item
    # Failing first, then the latest error first (no error last), then by proposal.
    when = -parse_datetime(last_error_at).timestamp() if last_error_at else 0
    return (failing, last_error_at is None, when, proposal_id)


def _listed(merged: dict, *, visible: QuerySet[Proposal], now: datetime, totals: dict) -> dict:
    """The lists' rows, read live through `visible` (three queries) and kept only while they still qualify."""
    cutoff = now - timedelta(days=settings.STALE_AFTER_DAYS)
    blocked = _oldest_first(merged["blocked"])[:READ]
    stale_proposals = _oldest_first(merged["stale_proposals"])[:READ]
    last = Activity.objects.filter(proposal=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
    ids = {item[1] for item in blocked} | {item[1] for item in stale_proposals}
    proposals = {
        p.pk: p
        for p in visible.filter(pk__in=ids)
        .select_related("owner")
        .only("id", "title", "stage", "state", "updated_at", "owner__id", "owner__username")
        .annotate(last_activity=Coalesce(Subquery(last), F("updated_at")))
    }
    blocked_rows = []
    for _, pk, reasons in blocked:
        p = proposals.get(pk)
        if p is not None and p.stage == Stage.GA.value and p.state in ACTIVE_STATES:
            blocked_rows.append(Blocked(p, reasons))
    stale_rows = []
    for _, pk in stale_proposals:
        p = proposals.get(pk)
        if p is not None and p.state in ACTIVE_STATES and p.updated_at < cutoff and p.last_activity < cutoff:
            stale_rows.append(p)

    review_ids = [pk for _, pk in _oldest_first(merged["stale_review_ids"])[:READ]]
    reviews = {
        r.pk: r
        for r in Review.objects.filter(pk__in=review_ids, proposal__in=visible.values("pk"))
        .select_related("proposal", "area", "reviewer")
        .only("id", "status", "updated_at", "proposal__id", "proposal__title", "area__title", "reviewer__username")
    }
    review_rows = [
        reviews[pk]
        for pk in review_ids
        if pk in reviews and reviews[pk].status in UNDER_WAY and reviews[pk].updated_at < cutoff
    ]

    sync = SyncHealth(installed=merged["sync"]["installed"])
    model = _sync_model()
    if sync.installed and model is not None:
        state_ids = [item[3] for item in sorted(merged["sync_troubled"], key=_sync_order)[:READ]]
        states = {
            s.pk: s
            for s in model.objects.filter(pk__in=state_ids, proposal__in=visible.values("pk"))
            .select_related("proposal")
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
        }
        sync.enabled = settings.GITLAB_SYNC_ENABLED
        sync.counts = {"failed": merged["sync"]["failed"], "pending": merged["sync"]["pending"]}
        sync.troubled = [states[pk] for pk in state_ids if pk in states and states[pk].status in ("failed", "pending")][
            :LIST_LENGTH
        ]
    return {
        "blocked": Listing(blocked_rows[:LIST_LENGTH], totals["blocked"]),
        "stale": StaleWork(
            settings.STALE_AFTER_DAYS,
            Listing(stale_rows[:LIST_LENGTH], totals["stale_proposals"]),
            Listing(review_rows[:LIST_LENGTH], merged["stale_reviews"]),
        ),
        "sync": sync,
    }


def _summary_parts(user, *, now: datetime, figures: bool = True) -> tuple[list[dict], datetime] | None:
    """The summary scopes this reader may see (plus their own confidential proposals, live) and the time of
    the oldest; None when the summary is missing, too old, or made before a change in which are confidential."""
    sees_everything = is_admin(user) or is_reviewer(user)
    scopes = [Scope.OPEN, Scope.CONFIDENTIAL] if sees_everything else [Scope.OPEN]
    rows = {row.scope: row for row in PortfolioSummary.objects.annotate(**_confidential_now(user))}
    if any(scope not in rows for scope in scopes):
        return None
    if any(
        (r.confidential_n or 0, r.confidential_sum or 0) != (r.confidential_count, r.confidential_id_sum)
        or now - r.computed_at > timedelta(seconds=settings.DASHBOARD_SUMMARY_MAX_AGE)
        for r in rows.values()
    ):
        return None
    parts = [rows[scope].figures for scope in scopes]
    if not sees_everything and rows[Scope.OPEN].mine:
        # Their own confidential proposals: few rows, computed now, added like a scope.
        own = Proposal.objects.filter(owner=user, confidential=True)
        parts.append(scope_figures(own, now=now) if figures else filter_choices(own))
    return parts, min(rows[scope].computed_at for scope in scopes)


def summary_choices(user, *, now: datetime) -> dict | None:
    """The filter form's owners and labels (those of every proposal the reader may see, whatever the filters)
    from the summary, or None when it cannot be used."""
    found = _summary_parts(user, now=now, figures=False)
    if found is None:
        return None
    parts, _ = found
    return {
        "owners": sorted({owner for part in parts for owner in part["owners"]}),
        "labels": sorted({label for part in parts for label in part["labels"]}),
    }


def summary_figures(filters: DashboardFilter, *, user, now: datetime) -> dict | None:
    """The dashboard's figures from the summary, or None when they must be computed live.

    Live when a filter is applied, when the summary is missing or older than DASHBOARD_SUMMARY_MAX_AGE,
    or when the proposals that are confidential are not those the summary was computed with.
    """
    if filters.active:
        return None
    found = _summary_parts(user, now=now)
    if found is None:
        return None
    parts, as_of = found
    merged = _merge(parts)

    stages = list(merged["stages"].values())
    total = sum(stage.total for stage in stages)
    ga = merged["stages"][Stage.GA.value]
    listed = _listed(
        merged,
        visible=filters.queryset,
        now=now,
        totals={
            "blocked": sum(ga.by_state.get(state, 0) for state in ACTIVE_STATES),
            "stale_proposals": sum(stage.stale for stage in stages),
        },
    )
    page, matrix = orr_matrix(filters.qs, areas=filters.areas, sort=filters.ordering, page=filters.page, total=total)
    areas = filters.areas
    return {
        "areas": areas,
        "columns": areas,
        "area": None,
        "stages": stages,
        "total": total,
        "page": page,
        "matrix": matrix,
        **listed,
        "time_in_stage": [
            spread_of_histogram(STAGE_LABELS[stage], merged["stints"].get(stage.value, {})) for stage in STAGES
        ],
        "review_waits": [spread_of_histogram(a.title, merged["waits"].get(str(a.pk), {})) for a in areas],
        "reviewer_load": busiest(merged["by_reviewer"]),
        "turnaround": [spread_of_histogram(a.title, merged["turnaround"].get(str(a.pk), {})) for a in areas],
        "turnaround_days": TURNAROUND_DAYS,
        "summary_as_of": as_of,
        "summary_every": settings.DASHBOARD_SUMMARY_EVERY,
        "choices": {"owners": sorted(merged["owners"]), "labels": sorted(merged["labels"])},
    }
