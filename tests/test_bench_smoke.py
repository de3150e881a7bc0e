"""Every benchmark still runs: each bench script in its --smoke mode, started as `make bench` starts it.

Each script runs in a subprocess (``python -m bench.<name> --smoke``) from the project root and
must exit 0 having printed its figures. Nothing here asserts how long anything took: the figures
are for people to read, and a busy machine must not fail the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A line each script prints only once it has measured what it measures.
FIGURES = {
    "pages": "autosave (htmx)",
    "reviews": "answer autosave (htmx)",
    "markdown": "parse time by body size",
    "dashboard": "CSV export peak Python memory",
    "sync": "reconcile of 5 issues changed on GitLab",
    "load": "OK: zero errors, no lost write, every proposal in sync",
    "chaos": "OK: zero errors, no lost write, every proposal in sync",
}


def bench_database_url(script: str) -> str:
    """Databases of the script's own, named after this run's: never the test database, nor `make bench`'s."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        url = "postgres://postgres@127.0.0.1:5432/stagegate"
    return f"{url.split('?')[0]}_smoke_{script}"


@pytest.mark.parametrize("script", FIGURES)
def test_the_benchmark_runs_and_prints_its_figures(script):
    env = {**os.environ, "BENCH_DATABASE_URL": bench_database_url(script)}
    finished = subprocess.run(
        [sys.executable, "-m", f"bench.{script}", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output[-4000:]
    assert FIGURES[script] in finished.stdout, output[-4000:]
