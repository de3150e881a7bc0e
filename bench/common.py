"""What the bench scripts share: a database of their own and Django set up against it.

Every script works on the PostgreSQL server of BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/sg_bench) in databases named after it: the in-process
scripts in ``test_<name>`` (made and dropped by Django's test machinery), bench.load and
bench.chaos in ``<name>_load`` and ``<name>_chaos``. DATABASE_URL is deliberately not read,
so a benchmark never clobbers the test suite's database or a developer's own.
"""

from __future__ import annotations

import os

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sg_bench"


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)


def setup_django() -> None:
    """Django with the test settings on the bench database (each script makes its own test database there)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ["DATABASE_URL"] = database_url()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
