"""Intake end to end through the flows against `nianbao check DIR` over the same files.

    python -m benchmarks.intake [--reports N] [--servers ephemeral,postgres] [--json]

N generated reports (default 500; .txt, .docx and .pdf in turn, one in four flawed), one per body
of a generated roster of N townships, are checked three ways, each in a fresh process:

- floor: what `nianbao check DIR --jobs 1` does — read, normalise and every rule, one file after
  another, in one process, no database, no Prefect (timed after its imports);
- intake on one core (NIANBAO_JOBS=1): the `intake` flow takes the same files from the inbox —
  stored, checked, recorded, answered (notices to a local sink), moved, one task run per file;
- intake on every core (NIANBAO_JOBS=0: the files read ahead on all cores).

…each intake on Prefect's ephemeral API with SQLite, and on a Prefect server backed by PostgreSQL
with nianbao's database on PostgreSQL too (a throwaway cluster, `tests/pgserver.py`). The flow's
time excludes the server's start and the cycle's opening. The target: orchestration and the
database add ≤ 25 % to the floor (`intake 1 core / floor ≤ 1.25`). Figures only: exit 0
whatever they are.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
YEAR = 2024
TARGET = 1.25
CHARS = "东南西北安康宁和兴旺盛丰泰平福寿祥瑞光明清华德仁义礼智信忠孝勤俭"


def _names(n: int) -> list[str]:
    out: list[str] = []
    k = len(CHARS)
    for i in range(n):
        a, b, c = CHARS[i % k], CHARS[(i // k) % k], CHARS[(i // (k * k)) % k]
        out.append(f"{c}{b}{a}{'镇' if i % 2 else '乡'}")
    return out


def make_county(work: Path, n: int) -> tuple[Path, Path, dict[str, str]]:
    """A roster of n bodies and one report for each (code → file), in work/reports."""
    import random

    from nianbao.generate import ReportSpec, balanced_table3, write_docx, write_pdfs, write_txt

    names = _names(n)
    codes = [f"b{i:05d}" for i in range(n)]
    lines = ["county: 巨鹿县", "county_code: julu", "parents: [邢台市, 河北省]",
             "office: {name: 巨鹿县政务公开办, contacts: [{name: 主任, urls: [\"mailto://office@example.com\"]}]}",
             "bodies:"]
    for code, name in zip(codes, names, strict=True):
        lines.append(f"  - {{code: {code}, name: {name}, kind: township, "
                     f"contacts: [{{name: 联络员, urls: [\"mailto://{code}@example.com\"]}}]}}")
    roster = work / "roster.yaml"
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = work / "reports"
    out.mkdir()
    files: dict[str, str] = {}
    to_pdf: list[tuple[str, Path]] = []
    for i, (code, name) in enumerate(zip(codes, names, strict=True)):
        rng = random.Random(i)
        t3 = balanced_table3(rng, rng.choice((5, 20, 50, 200)))
        if i % 4 == 3:
            t3["new"][-1] += 7  # a flaw: the total no longer adds up
        spec = ReportSpec(body=f"巨鹿县{name}人民政府", year=YEAR, county="巨鹿县", table3=t3, variety=i)
        kind = ("txt", "docx", "pdf")[i % 3]
        path = out / f"{code}.{'txt' if kind == 'txt' else 'docx'}"
        (write_txt if kind == "txt" else write_docx)(spec, path)
        if kind == "pdf":
            to_pdf.append((code, path))
        else:
            files[code] = str(path)
    if to_pdf:
        pdf_dir = out / "pdf"
        pdf_dir.mkdir()
        for start in range(0, len(to_pdf), 150):  # one LibreOffice call a batch, within its time limit
            batch = to_pdf[start:start + 150]
            for (code, docx), pdf in zip(batch, write_pdfs([p for _, p in batch], pdf_dir), strict=True):
                files[code] = str(pdf)
                docx.unlink()
    return roster, out, files


def floor(files: dict[str, str], work: Path) -> float:
    """What `nianbao check DIR --jobs 1` does over the same files, timed in its own process after
    its imports (a clerk's batch: read, normalise, every rule, one after another)."""
    job = work / "floor.json"
    job.write_text(json.dumps(sorted(files.values())), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "benchmarks.intake", "--floor", str(job)], cwd=ROOT,
                         capture_output=True, text=True, env=_env())
    if out.returncode != 0:
        raise SystemExit(f"the floor's run failed:\n{out.stderr[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def floor_child(job: Path) -> None:
    from nianbao.check import check_files

    paths = json.loads(job.read_text(encoding="utf-8"))
    check_files(paths[:1], jobs=1, year=YEAR)  # warm: the first read starts the readers' helper
    began = time.perf_counter()
    check_files(paths, jobs=1, year=YEAR)
    print(time.perf_counter() - began)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NIANBAO_"))}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_LOGGING_LEVEL="WARNING", **extra)
    return env


def postgres_prefect(stack: ExitStack, work: Path, databases: tuple[str, ...]) -> tuple[Any, Any]:
    """A PostgreSQL cluster with `databases` and a `prefect` one, and a Prefect server on it, both
    stopped with `stack`: (the cluster, the server)."""
    import psycopg

    from tests.pgserver import running_server
    from tests.prefect_server import start_server

    pg = stack.enter_context(running_server())
    with psycopg.connect(**pg.connect_kwargs(), autocommit=True) as conn:
        for db in ("prefect", *databases):
            conn.execute(f"CREATE DATABASE {db}")
    server = start_server(work / "prefect-home", pg.url("prefect").replace("+psycopg", "+asyncpg"))
    stack.callback(server.process.stop)
    return pg, server


def intake_run(roster: Path, files: dict[str, str], work: Path, jobs: int, env: dict[str, str]) -> dict:
    data = work / f"data-{len(os.listdir(work))}"
    data.mkdir()
    env = dict(env, NIANBAO_DATA_DIR=str(data), NIANBAO_NOTICE_SINK=str(data / "sink"), NIANBAO_JOBS=str(jobs),
               NIANBAO_INBOX_SETTLE_S="0")
    job = {"roster": str(roster), "files": files}
    (data / "job.json").write_text(json.dumps(job), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "benchmarks.intake", "--child", str(data / "job.json")], cwd=ROOT,
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"intake run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(job_file: Path) -> None:
    """In the intake's own process: the database, the roster, the cycle opened, the files in the
    inbox; then the timed intake flow."""
    from datetime import date, datetime

    from prefect import tags
    from sqlalchemy import func, select

    from db import migrate, repo
    from db.models import Notice, Submission
    from db.session import session_scope
    from flows.cycle import intake, open_cycle
    from nianbao.bodies import load_roster
    from nianbao.settings import get_settings
    from notifications.urls import url_problem
    from service.env import env

    job = json.loads(job_file.read_text(encoding="utf-8"))
    settings = get_settings()
    migrate.upgrade(settings.db_url())
    with session_scope(env().factory) as s:
        repo.import_roster(s, load_roster(Path(job["roster"]), url_problem=url_problem), "benchmark")
    with tags("county-julu", f"year-{YEAR}"):
        open_cycle(county="julu", year=YEAR, deadline=date(YEAR + 1, 1, 31),
                   as_of=datetime.fromisoformat(f"{YEAR + 1}-01-02T09:00+08:00"))
        for code, src in job["files"].items():
            folder = settings.data_dir / "inbox" / code
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, folder / Path(src).name)
        began = time.perf_counter()
        run = intake(county="julu", year=YEAR, as_of=datetime.fromisoformat(f"{YEAR + 1}-01-15T10:00+08:00"))
        took = time.perf_counter() - began
    with session_scope(env().factory) as s:
        subs = s.scalar(select(func.count()).select_from(Submission))
        verdicts = dict(s.execute(select(Submission.verdict, func.count()).group_by(Submission.verdict)).all())
        notices = s.scalar(select(func.count()).select_from(Notice))
    print(json.dumps({"seconds": took, "new": len(run.new), "submissions": subs, "verdicts": verdicts,
                      "notices": notices, "sent": run.delivery.sent, "failed": run.delivery.failed}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=500)
    ap.add_argument("--servers", default="ephemeral,postgres", help="ephemeral, postgres or both (comma-separated)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--floor", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    if args.floor:
        floor_child(args.floor)
        return 0
    sys.path.insert(0, str(ROOT))
    from nianbao.check import default_jobs

    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-intake-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        began = time.perf_counter()
        roster, _, files = make_county(work, args.reports)
        made = time.perf_counter() - began
        base = floor(files, work)
        for server in servers:
            env = _env()
            if server == "postgres":
                pg, prefect = postgres_prefect(stack, work, ("nianbao_one", "nianbao_all"))
                env = _env(PREFECT_API_URL=prefect.api, PREFECT_HOME=str(work / "prefect-client"))
            for jobs in (1, 0):
                if server == "postgres":
                    env = dict(env, NIANBAO_DATABASE_URL=pg.url("nianbao_one" if jobs == 1 else "nianbao_all"))
                r = intake_run(roster, files, work, jobs, env)
                rows.append(dict(r, server=server, jobs=jobs or default_jobs(), ratio=r["seconds"] / base))
    figures = {"reports": args.reports, "generated_s": made, "floor_s": base, "target": TARGET, "rows": rows,
               "cores": default_jobs()}
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return 0
    print(f"{args.reports} reports (generated in {made:.1f} s); floor (`nianbao check DIR --jobs 1`): {base:.1f} s "
          f"({1000 * base / args.reports:.0f} ms a report)\n")
    print(f"{'server':<10} {'jobs':>4} {'intake s':>9} {'ms/report':>10} {'× floor':>8} {'target':>7}  "
          f"{'new':>5} {'notices':>8}  verdicts")
    for r in rows:
        ok = "yes" if r["ratio"] <= TARGET else ("no" if r["jobs"] == 1 else "n/a")
        print(f"{r['server']:<10} {r['jobs']:>4} {r['seconds']:>9.1f} {1000 * r['seconds'] / args.reports:>10.0f} "
              f"{r['ratio']:>7.2f}× {ok:>7}  {r['new']:>5} {r['notices']:>8}  {r['verdicts']}")
    print(f"\ntarget: the one-core intake ≤ {TARGET}× the floor (orchestration and the database add ≤ 25 %); "
          "the all-core row is the same intake reading ahead on every core.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
