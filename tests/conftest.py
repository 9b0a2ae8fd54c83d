"""Shared fixtures. Real documents come from ../shared (beside the clone in CI); generated
documents are made by nianbao.generate and tests/fixtures/make_bad_files.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# a real PostgreSQL server for the session (as the postgres user when we are root: CI is)
pytest_plugins = ["tests.pgserver", "tests.loopback"]

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NIANBAO_SHARED", ROOT.parent / "shared"))
SEEDS = SHARED / "seeds"
SAMPLES = SHARED / "samples"
ROSTER = ROOT / "examples" / "julu-roster.yaml"

# tests drop whole files and take them at once; tests/test_hostile_intake.py sets the quiet time
os.environ.setdefault("NIANBAO_INBOX_SETTLE_S", "0")

needs_shared = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared (seeds and samples) is not beside the clone")


@pytest.fixture(scope="session")
def roster():
    from nianbao.bodies import load_roster

    return load_roster(ROSTER)


@pytest.fixture(scope="session")
def bad_files(tmp_path_factory):
    """Every bad file of tests/fixtures/make_bad_files.py, made once per session."""
    from tests.fixtures.make_bad_files import make_all

    return make_all(tmp_path_factory.mktemp("bad"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """Every database test runs on SQLite and on the session's PostgreSQL (a fresh database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nianbao.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (it costs ~8 s to start)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
