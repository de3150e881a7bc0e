"""Where the portfolio is held up: the ORR area holding the most proposals, how long they have waited there,
and the reviewers with the most waiting on them. Read from the figures `queries.dashboard_figures` made."""

from __future__ import annotations

from dataclasses import dataclass, field

from dashboard.queries import Spread

LOADED_REVIEWERS = 3


@dataclass
class Bottleneck:
    area: str
    waiting: int  # proposals whose review in this area waits for a reviewer
    median_days: float | None
    p90_days: float | None
    others_waiting: int  # proposals waiting in the other areas, together
    reviewers: list[tuple[str, int]] = field(default_factory=list)  # busiest first


def bottleneck(review_waits: list[Spread], reviewer_load: list[tuple[str, int]]) -> Bottleneck | None:
    """The area with the most proposals waiting (the longer wait breaks a tie); None when nothing waits."""
    busiest = max(review_waits, key=lambda spread: (spread.count, spread.p90_days or 0), default=None)
    if busiest is None or busiest.count == 0:
        return None
    return Bottleneck(
        area=busiest.label,
        waiting=busiest.count,
        median_days=busiest.median_days,
        p90_days=busiest.p90_days,
        others_waiting=sum(spread.count for spread in review_waits) - busiest.count,
        reviewers=list(reviewer_load[:LOADED_REVIEWERS]),
    )
