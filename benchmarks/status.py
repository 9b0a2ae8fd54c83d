"""`nianbao status` and the cycle's table artifact on a large cycle, on a real PostgreSQL.

    python -m benchmarks.status [--bodies N [N ...]] [--versions K] [--repeat R] [--json]

Starts a throwaway PostgreSQL (tests/pgserver.py: initdb + pg_ctl, as the postgres user when
run as root), migrates the schema (db/migrate.py) and, for each N of --bodies (default 500 and
5000), fills a database with one county of N bodies, each with K versions (default 3: rejected,
rejected, then accepted for three bodies in four), their findings as the checker records them
(from a generated report checked once), the spec's report JSON, the notices a cycle queues
(kickoff, one per version, the office's digests) and a few held files. Rows are inserted in bulk.

Then, after one warm-up call, the median of --repeat calls (default 5) of:

- status (service): `repo.status` + `repo.unassigned` in one transaction, what `nianbao status`
  reads and what the office's page and the cycle table build on;
- nianbao status --json / nianbao status: the command in this process (typer's CliRunner):
  settings, engine, schema check, the queries, the JSON or the rich table — all but Python's start;
- cycle table (service): `service.cycle.cycle_table`, the rows of the `cycle-<county>-<year>`
  artifact (the 'cycle-table' task; sending it to a Prefect server is not timed);
- nianbao status --json (process): `python -m cli status --json` as a new process, wall time
  including the interpreter's start and imports (no statement count: another process).

Statements are counted with a `before_cursor_execute` listener on every engine: a count that
grows with N is an N+1. The target is under a second at 5,000 bodies; the exit status is 0
whatever the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, event, insert, text
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parents[1]
YEAR = 2024
COUNTY = "巨鹿县"
CODE = "julu"
TARGET_MS = 1000.0
HELD = 3  # files held for the office: repo.unassigned has rows to read


# ---- counting statements ------------------------------------------------------------------------


class StatementCounter:
    """Counts every statement sent by any engine of this process while `on`."""

    def __init__(self) -> None:
        self.on = False
        self.count = 0
        event.listen(Engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        if self.on:
            self.count += 1

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        self.count, self.on = 0, True
        try:
            yield
        finally:
            self.on = False


# ---- the cycle's data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """What the checker recorded for a generated report: the report JSON and the finding rows."""

    report: dict[str, Any]
    findings: list[dict[str, Any]]


def checked_reports(tmp: Path) -> tuple[Checked, Checked]:
    """A clean report and one with wrong totals (three errors), checked as intake checks them."""
    from db.repo import _finding_row
    from nianbao.check import check_file
    from nianbao.generate import ReportSpec, balanced_table3, balanced_table4, write_txt

    rng = random.Random(12)
    good = ReportSpec(table3=balanced_table3(rng, 20), table4=balanced_table4(rng, 3))
    bad = ReportSpec(table3=balanced_table3(rng, 20), table4=balanced_table4(rng, 3),
                     raw_cells={("table3", "total", 0): "999"})
    out = []
    for name, spec in (("good", good), ("bad", bad)):
        result = check_file(write_txt(spec, tmp / f"{name}.txt"), year=YEAR, county=COUNTY)
        assert result.report is not None, f"the generated {name} report was not read"
        rows = []
        for f in result.findings:
            r = _finding_row(f)
            rows.append({c: getattr(r, c) for c in ("rule", "severity", "section", "table_key", "row_key", "column_key",
                                                      "page", "paragraph", "line", "values", "message", "places")})
        out.append(Checked(result.report.to_json(), rows))
    assert not out[0].findings and out[1].findings, "the generated reports no longer give the expected verdicts"
    return out[0], out[1]


def fill(engine: Engine, bodies: int, versions: int, good: Checked, bad: Checked) -> None:
    """One county, one open cycle, `bodies` bodies with `versions` versions each, in bulk."""
    from db.models import BodyRecord, County, Cycle, FindingRecord, Notice, Submission

    t0 = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)
    sub_rows: list[dict[str, Any]] = []
    finding_rows: list[dict[str, Any]] = []
    notice_rows: list[dict[str, Any]] = []
    body_rows = [{"id": i, "county_id": 1, "code": f"body{i:05d}", "name": f"第{i}单位", "kind": "department",
                  "aliases": [], "contacts": [{"name": f"联络员{i}", "urls": [f"mailto://u{i}@example.org"]}]}
                 for i in range(1, bodies + 1)]

    def notice(kind: str, body_id: int | None, sub_id: int | None, at: datetime) -> None:
        n = len(notice_rows) + 1
        notice_rows.append({"id": n, "kind": kind, "cycle_id": 1, "body_id": body_id, "submission_id": sub_id,
                            "idempotency_key": f"{kind}|{n}", "recipient": f"body{body_id:05d}" if body_id else
                            "county-office", "channel": "联络员 mailto", "subject": f"{kind} 通知", "body": "正文" * 200,
                            "rules": [], "attachments": [], "status": "sent", "attempts": 1, "created_at": at,
                            "sent_at": at + timedelta(seconds=5)})

    for b in range(1, bodies + 1):
        notice("kickoff", b, None, t0 - timedelta(days=30))
        for v in range(1, versions + 1):
            accepted = v == versions and b % 4 != 0  # one body in four is still rejected
            sid = len(sub_rows) + 1
            at = t0 + timedelta(minutes=b + 10 * v)
            sub_rows.append({"id": sid, "cycle_id": 1, "body_id": b, "version": v, "source": "inbox",
                             "original_name": f"第{b}单位2024年政府信息公开工作年度报告（第{v}稿）.docx",
                             "sha256": f"{sid:064x}", "size": 40_000 + sid, "stored_path": f"files/{sid:064x}.docx",
                             "received_at": at, "verdict": "accepted" if accepted else "rejected",
                             "report": (good if accepted else bad).report, "errors": 0 if accepted else len(bad.findings),
                             "warnings": 0, "delta": None, "origin": None})
            if not accepted:
                finding_rows += [{"submission_id": sid, **f} for f in bad.findings]
            notice("accepted" if accepted else "rejected", b, sid, at + timedelta(minutes=1))
    for h in range(HELD):
        sid = len(sub_rows) + 1
        sub_rows.append({"id": sid, "cycle_id": 1, "body_id": None, "version": 0, "source": "mail",
                         "original_name": f"无名报告{h}.docx", "sha256": f"{sid:064x}", "size": 1000,
                         "stored_path": f"files/{sid:064x}.docx", "received_at": t0, "verdict": "rejected",
                         "report": bad.report, "errors": 1, "warnings": 0, "delta": None, "origin": None})
    for d in range(10):
        notice("digest", None, None, t0 + timedelta(days=d))

    with Session(engine) as s, s.begin():
        s.execute(insert(County), [{"id": 1, "name": COUNTY, "code": CODE, "parents": ["邢台市", "河北省"],
                                    "office": {"name": "县政务公开办", "contacts": []}}])
        s.execute(insert(Cycle), [{"id": 1, "county_id": 1, "year": YEAR, "deadline": date(2025, 1, 31),
                                   "reminder_offsets": [14, 7, 3, 1, 0], "state": "open"}])
        for model, rows in ((BodyRecord, body_rows), (Submission, sub_rows), (FindingRecord, finding_rows),
                            (Notice, notice_rows)):
            for i in range(0, len(rows), 2000):
                s.execute(insert(model), rows[i:i + 2000])
        # the ids were given: move the sequences past them, as a real cycle's would be
        for table in ("county", "cycle", "body", "submission", "finding", "notice"):
            s.execute(text(f"select setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"coalesce((select max(id) from {table}), 1))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("analyze"))  # as autovacuum would have by the time anyone asks


# ---- measuring ------------------------------------------------------------------------------------


@dataclass
class Row:
    measure: str
    bodies: int
    versions: int
    ms: float
    statements: int | None  # None: another process
    runs: int


def timed(fn: Callable[[], Any], repeat: int, counter: StatementCounter) -> tuple[float, int]:
    fn()  # warm-up: imports, the engine's connection, the server's caches
    samples, counts = [], []
    for _ in range(repeat):
        with counter.counting():
            t = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t)
        counts.append(counter.count)
    return statistics.median(samples) * 1000, max(counts)


def measure(url: str, data_dir: Path, bodies: int, versions: int, repeat: int,
            counter: StatementCounter) -> list[Row]:
    from typer.testing import CliRunner

    from cli.main import app
    from db import repo
    from db.session import make_engine, session_factory, session_scope
    from nianbao.settings import Settings, get_settings
    from notifications.channels import notifier_for
    from service.cycle import cycle_table
    from service.env import Env

    engine = make_engine(url)
    factory: sessionmaker[Session] = session_factory(engine)
    settings = Settings(database_url=url, data_dir=data_dir)
    e = Env(settings, factory, notifier_for(None))
    today = date(2025, 2, 10)
    cli_env = {"NIANBAO_DATABASE_URL": url, "NIANBAO_DATA_DIR": str(data_dir)}
    runner = CliRunner()

    def service_status() -> None:
        with session_scope(factory) as s:
            cy = repo.cycle(s, repo.county(s), YEAR)
            st = repo.status(s, cy)
            repo.unassigned(s, cy)
        assert len(st["bodies"]) == bodies

    def command(*args: str) -> Callable[[], None]:
        def run() -> None:
            get_settings.cache_clear()  # the command reads NIANBAO_* afresh, as a new process would
            res = runner.invoke(app, ["status", *args], env=cli_env)
            assert res.exit_code == 0, res.output
        return run

    def table() -> None:
        assert len(cycle_table(e, CODE, YEAR, today).rows) == bodies + HELD

    def process() -> None:
        proc = subprocess.run([sys.executable, "-m", "cli", "status", "--json"], capture_output=True, text=True,
                              cwd=ROOT, env={**os.environ, **cli_env}, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
        assert len(json.loads(proc.stdout)["bodies"]) == bodies

    rows = []
    for name, fn in (("status (service)", service_status), ("nianbao status --json", command("--json")),
                     ("nianbao status", command()), ("cycle table (service)", table)):
        ms, n = timed(fn, repeat, counter)
        rows.append(Row(name, bodies, versions, round(ms, 1), n, repeat))
    ms, _ = timed(process, repeat, counter)
    rows.append(Row("nianbao status --json (process)", bodies, versions, round(ms, 1), None, repeat))
    get_settings.cache_clear()
    engine.dispose()
    return rows


def run(sizes: list[int], versions: int, repeat: int, log: Callable[[str], None]) -> dict[str, Any]:
    from db import migrate
    from tests.pgserver import running_server

    counter = StatementCounter()
    rows: list[Row] = []
    setup: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp, running_server() as server:
        good, bad = checked_reports(Path(tmp))
        with psycopg.connect(host=server.host, port=server.port, user=server.user, dbname="postgres",
                             autocommit=True) as conn:
            pg_version = conn.execute("show server_version").fetchone()[0]  # type: ignore[index]
            for n in sizes:
                conn.execute(f"create database bench_{n}")
        for n in sizes:
            url = server.url(f"bench_{n}")
            t = time.perf_counter()
            migrate.upgrade(url)
            from db.session import make_engine

            engine = make_engine(url)
            fill(engine, n, versions, good, bad)
            engine.dispose()
            setup[str(n)] = round(time.perf_counter() - t, 2)
            log(f"{n} bodies × {versions} versions: filled in {setup[str(n)]} s; measuring …")
            data_dir = Path(tmp) / f"data-{n}"
            data_dir.mkdir()
            rows += measure(url, data_dir, n, versions, repeat, counter)
    return {"postgres": pg_version, "sizes": sizes, "versions": versions, "repeat": repeat, "target_ms": TARGET_MS,
            "setup_s": setup, "rows": [asdict(r) for r in rows]}


# ---- output ---------------------------------------------------------------------------------------


def verdicts(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per measure: its rows by size, whether the statements grow with N, whether the largest N is
    under the target."""
    out: dict[str, dict[str, Any]] = {}
    for r in data["rows"]:
        out.setdefault(r["measure"], {"by_size": {}})["by_size"][r["bodies"]] = r
    for m in out.values():
        counts = [r["statements"] for r in m["by_size"].values()]
        m["statements_grow"] = None if None in counts or len(counts) < 2 else len(set(counts)) > 1
        m["under_target"] = m["by_size"][max(m["by_size"])]["ms"] < data["target_ms"]
    return out


def print_table(data: dict[str, Any]) -> None:
    summary = verdicts(data)
    sizes = data["sizes"]
    header = ["measure", *(f"{n} bodies: ms / SQL" for n in sizes), "SQL grows with N", f"< {data['target_ms']:.0f} ms"]
    lines = []
    for name, m in summary.items():
        cells = [name]
        for n in sizes:
            r = m["by_size"][n]
            cells.append(f"{r['ms']:.1f} / {'—' if r['statements'] is None else r['statements']}")
        cells.append({True: "YES (N+1)", False: "no", None: "n/a"}[m["statements_grow"]])
        cells.append("yes" if m["under_target"] else "NO")
        lines.append(cells)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *lines, strict=True)]
    for cells in (header, ["-" * w for w in widths], *lines):
        print("  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)))
    print(f"\nPostgreSQL {data['postgres']}; {data['versions']} versions per body; median of {data['repeat']} "
          f"after a warm-up; setup (migrate + fill) s: {data['setup_s']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.status", description=__doc__.split("\n\n")[0])
    ap.add_argument("--bodies", type=int, nargs="+", default=[500, 5000], help="cycle sizes to compare (bodies)")
    ap.add_argument("--versions", type=int, default=3, help="versions per body")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per figure (the median is shown)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    if min(args.bodies) < 1 or args.versions < 1 or args.repeat < 1:
        ap.error("--bodies, --versions and --repeat must be at least 1")
    data = run(sorted(set(args.bodies)), args.versions, args.repeat, lambda m: print(m, file=sys.stderr))
    if args.json:
        print(json.dumps({**data, "summary": {k: {"statements_grow": v["statements_grow"],
                                                   "under_target": v["under_target"]}
                                               for k, v in verdicts(data).items()}}, ensure_ascii=False, indent=2))
    else:
        print_table(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
