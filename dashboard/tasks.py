"""The dashboard's one task: keep the portfolio summary fresh (see dashboard.summary)."""

from __future__ import annotations

from config.celery import app
from dashboard.summary import summary_refresh


@app.task(name="dashboard.tasks.refresh_portfolio_summary")
def refresh_portfolio_summary() -> None:
    """Every DASHBOARD_SUMMARY_EVERY seconds; running it twice only computes the same figures again."""
    summary_refresh()
