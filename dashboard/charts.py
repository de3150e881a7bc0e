"""The figures shaped for display: inline SVG bar charts (their numbers are in tables beside them) and the
matrix's sort links."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.filters import SORTS
from dashboard.queries import Spread

MATRIX_SORT_COLUMNS = ("title", "owner", "stage", "state", "confidence", "updated")


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


def sort_headers(sort: str) -> list[dict]:
    """Per matrix column: the sort it links to (flipping the direction of the current one) and its aria-sort."""
    current = sort.removeprefix("-")
    descending = sort.startswith("-")
    headers = []
    for key in MATRIX_SORT_COLUMNS:
        if key == current:
            target = key if descending else f"-{key}"
            state = "descending" if descending else "ascending"
        else:
            target, state = key, "none"
        headers.append({"label": SORTS[key][0], "sort": target, "aria_sort": state})
    return headers


def dashboard_charts(figures: dict) -> dict:
    """The page's charts, drawn from dashboard_figures()."""
    stages = figures["stages"]
    return {
        "funnel_chart": bar_chart([(row.label, row.total) for row in stages], css="bar-stage"),
        "confidence_chart": stacked_chart([(row.label, row.confidence_counts) for row in stages]),
        "time_in_stage_chart": spread_chart(figures["time_in_stage"]),
    }
