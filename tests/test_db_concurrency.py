"""Several processes submitting at once: nothing lost, nothing doubled, versions without gaps."""

from __future__ import annotations

import multiprocessing as mp
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from db import migrate, repo
from db.models import Submission
from db.session import make_engine, session_factory, session_scope
from nianbao.bodies import load_roster
from nianbao.generate import ReportSpec, write_txt
from tests.conftest import ROSTER

BODIES = {"guanting": "巨鹿县官亭镇人民政府", "wanghuzhai": "巨鹿县王虎寨镇人民政府",
          "guanzhai": "巨鹿县观寨乡人民政府", "dicun": "巨鹿县堤村乡人民政府"}


def _worker(url: str, data_dir: str, jobs: list[tuple[str, str]], barrier) -> list[tuple[str, int, bool]]:
    """Runs in a fresh process: submit each (file, body) and say what became of it."""
    from nianbao.settings import Settings
    from notifications.channels import notifier_for
    from service.env import Env
    from service.submission import submit

    engine = make_engine(url)
    factory = session_factory(engine)
    settings = Settings(data_dir=Path(data_dir), database_url=url)
    barrier.wait(timeout=120)
    out = []
    for path, body in jobs:
        o = submit(Env(settings, factory, notifier_for(None)), Path(path), body_code=body, source="inbox",
                   actor="test-worker", received_at=datetime(2025, 1, 20, tzinfo=UTC), notify=False)
        out.append((body, o.submission.version, o.created))
    engine.dispose()
    return out


def _prepare(url: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    with session_scope(session_factory(engine)) as s:
        repo.import_roster(s, load_roster(ROSTER), "test")
        repo.open_cycle(s, repo.county(s), 2024, date(2025, 1, 31), [14, 7, 3, 1, 0], "test")
    engine.dispose()


def _run(url: str, data_dir: Path, per_process: list[list[tuple[str, str]]]):
    ctx = mp.get_context("spawn")  # a clean interpreter per worker, as separate intake runs are
    with ctx.Manager() as manager:
        barrier = manager.Barrier(len(per_process))
        with ctx.Pool(len(per_process)) as pool:
            results = pool.starmap(_worker, [(url, str(data_dir), jobs, barrier) for jobs in per_process])
    return [r for rs in results for r in rs]


def _rows(url: str) -> list[tuple[str, int, str]]:
    engine = make_engine(url)
    with session_scope(session_factory(engine)) as s:
        from db.models import BodyRecord

        rows = s.execute(select(BodyRecord.code, Submission.version, Submission.sha256)
                         .join(BodyRecord, BodyRecord.id == Submission.body_id)).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_two_processes_same_file_same_body_leave_one_submission(db_url, tmp_path):
    _prepare(db_url)
    path = write_txt(ReportSpec(body=BODIES["guanting"]), tmp_path / "官亭镇.txt")
    results = _run(db_url, tmp_path / "data", [[(str(path), "guanting")], [(str(path), "guanting")]])
    assert sorted(created for _, _, created in results) == [False, True]
    assert {v for _, v, _ in results} == {1}
    assert [(code, v) for code, v, _ in _rows(db_url)] == [("guanting", 1)]


@pytest.mark.parametrize("n_processes,per_process,backend", [(8, 25, "postgresql"), (8, 10, "sqlite")])
def test_many_concurrent_submissions_all_stored_versions_without_gaps(n_processes, per_process, backend, tmp_path,
                                                                       request):
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'n.db'}"
    _prepare(url)
    codes = list(BODIES)
    jobs: list[list[tuple[str, str]]] = [[] for _ in range(n_processes)]
    expected: dict[str, int] = defaultdict(int)
    for i in range(n_processes * per_process):
        code = codes[i % len(codes)]
        spec = ReportSpec(body=BODIES[code])
        spec.table2["licensing"] = i  # distinct bytes for every submission
        path = write_txt(spec, tmp_path / "in" / f"{i:03d}.txt")
        jobs[i % n_processes].append((str(path), code))
        expected[code] += 1
    results = _run(url, tmp_path / "data", jobs)
    assert len(results) == n_processes * per_process and all(created for *_, created in results)
    rows = _rows(url)
    assert len(rows) == n_processes * per_process  # none lost
    assert len({sha for *_, sha in rows}) == len(rows)  # none doubled
    by_body: dict[str, list[int]] = defaultdict(list)
    for code, version, _ in rows:
        by_body[code].append(version)
    for code, versions in by_body.items():
        assert sorted(versions) == list(range(1, expected[code] + 1)), code  # no gaps, no duplicates
