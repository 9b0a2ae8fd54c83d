"""One intake spread over two Prefect workers, one of them killed mid-way, against one process.

    python -m benchmarks.scaleout [--reports 2000] [--parts 4] [--restart] [--json]

On this machine, for real: a PostgreSQL cluster (`tests/pgserver.py`) holds the Prefect server's
database and two nianbao databases; `prefect server start` on it; N generated reports (.txt,
.docx and .pdf in turn, one in four flawed; some bodies with a second version, some reports
copied from a neighbour's, some files at the inbox's root that only their text assigns).

1. **one process**: the `intake` flow takes them all in its own run (NIANBAO_INTAKE_PARTS=0).
2. **two workers**: `nianbao deploy --pool bench`, two `prefect worker start --pool bench` with
   `--limit 2`, and the pool's `intake` deployment run with `parts`; its `intake-part` runs are
   shared by the workers. Once the worker that does not run the intake itself has recorded part
   of one of its record parts, it is killed (SIGKILL to the worker and every process it started;
   a flow run has a process group of its own), as when a machine dies; with `--restart` it is
   started again 5 s later.

Then the two databases are compared: every submission (body, version, file, bytes, verdict,
findings with their messages) and every notice (recipient, kind, channel, subject, text). It
prints what each worker did (from the intake's own log), the runs that crashed and were run
again, what was lost (files left in the inbox, submissions missing) and doubled (a body's bytes
recorded twice, a notice queued twice). Figures only: exit 0 whatever they are, unless a step
failed to run at all.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
YEAR = 2024
KICKOFF = f"{YEAR + 1}-01-02T09:00:00+08:00"
AS_OF = f"{YEAR + 1}-01-15T10:00:00+08:00"
POOL = "bench"
DEPLOYMENT = f"intake/julu-{YEAR}@{POOL}"


def make_inbox(work: Path, n: int) -> tuple[Path, list[tuple[str, str]]]:
    """The roster and the inbox's files: (path in the inbox, source file), the same bytes for
    both runs (a .docx carries its making time: made once)."""
    import random

    from benchmarks.intake import _names, make_county
    from nianbao.generate import ReportSpec, balanced_table3, write_txt

    roster, _, files = make_county(work, n)
    names = _names(n)
    extra = work / "extra"
    extra.mkdir()
    out = [(f"{code}/{Path(src).name}", src) for code, src in sorted(files.items())]

    def spec(i: int, variety: int, flaw: bool = False) -> ReportSpec:
        t3 = balanced_table3(random.Random(i), 20)
        if flaw:
            t3["new"][-1] += 7
        return ReportSpec(body=f"巨鹿县{names[i]}人民政府", year=YEAR, county="巨鹿县", table3=t3, variety=variety)

    for i in range(n):
        code = f"b{i:05d}"
        if i % 40 == 3:  # a flawed report, then the fixed one: the order decides which counts
            out.append((f"{code}/z-修改.txt", str(write_txt(spec(i, i), extra / f"{code}-fixed.txt"))))
        if i % 50 == 11 and i > 0:  # worded as the neighbour's: similarity.other_body, both ways
            src = write_txt(spec(i, i - 1), extra / f"{code}-copied.txt")
            out = [(p, s) for p, s in out if not p.startswith(f"{code}/")] + [(f"{code}/{code}.txt", str(src))]
        if i % 100 == 7:  # at the root: its text says whose it is
            out.append((f"root-{code}.txt", str(write_txt(spec(i, i + 7), extra / f"{code}-root.txt"))))
    return roster, sorted(out)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NIANBAO_"))}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", PYTHONUNBUFFERED="1", NIANBAO_INBOX_SETTLE_S="0",
               # only the intake this script starts: the pool's schedules never fire meanwhile
               NIANBAO_INTAKE_CRON="0 0 1 1 *", NIANBAO_DEADLINE_CRON="0 0 1 1 *", **extra)
    return env


def _child(mode: str, env: dict[str, str], job: Path | None = None) -> Any:
    args = [sys.executable, "-m", "benchmarks.scaleout", "--child", mode] + ([str(job)] if job else [])
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(mode: str, job_file: Path | None) -> None:
    from datetime import date, datetime

    from sqlalchemy import select

    from db import migrate, repo
    from db.models import Notice, Submission
    from db.session import session_scope
    from nianbao.settings import get_settings
    from service.env import env

    settings = get_settings()
    if mode == "setup":
        from prefect import tags

        from flows.cycle import open_cycle
        from nianbao.bodies import load_roster
        from notifications.urls import url_problem

        job = json.loads(job_file.read_text(encoding="utf-8")) if job_file else {}
        migrate.upgrade(settings.db_url())
        with session_scope(env().factory) as s:
            repo.import_roster(s, load_roster(Path(job["roster"]), url_problem=url_problem), "benchmark")
        with tags("county-julu", f"year-{YEAR}"):
            open_cycle(county="julu", year=YEAR, deadline=date(YEAR + 1, 1, 31), as_of=datetime.fromisoformat(KICKOFF))
        for rel, src in job["files"]:
            dest = settings.data_dir / "inbox" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest)
        print(json.dumps({"files": len(job["files"])}))
    elif mode == "one":
        from prefect import tags

        from flows.cycle import intake

        began = time.perf_counter()
        with tags("county-julu", f"year-{YEAR}"):
            run = intake(county="julu", year=YEAR, as_of=datetime.fromisoformat(AS_OF))
        print(json.dumps({"seconds": time.perf_counter() - began, "new": len(run.new)}))
    elif mode == "snapshot":
        with session_scope(env().factory) as s:
            subs = sorted([x.body.code if x.body else "", x.version, x.original_name, x.sha256, x.verdict,
                           x.errors, x.warnings,
                           sorted([f.rule, f.severity, f.message, f.section or "", f.table_key or "", f.row_key or "",
                                   f.column_key or "", f.page or 0] for f in x.findings)]
                          for x in s.scalars(select(Submission)))
            codes = {x.id: (x.body.code if x.body else "", x.version) for x in s.scalars(select(Submission))}
            notices = sorted([n.recipient, n.kind, n.channel, n.subject, n.body, codes.get(n.submission_id or 0)]
                             for n in s.scalars(select(Notice)))
        inbox = settings.data_dir / "inbox"
        left = sorted(str(p.relative_to(inbox)) for p in inbox.rglob("*")
                      if p.is_file() and not p.relative_to(inbox).parts[0].startswith("."))
        print(json.dumps({"submissions": subs, "notices": notices, "left": left}, ensure_ascii=False, default=str))


def _runs(server: Any, prefix: str) -> list[dict]:
    return server.post("/flow_runs/filter", {"flow_runs": {"name": {"like_": prefix}}, "limit": 200})


def _part_files(data: Path, rel_files: list[str]) -> dict[int, list[str]]:
    """The record parts' files (paths in the inbox), from the intake's work folder."""
    for plan in (data / "intake-work").glob("*/settled.json"):
        settled = json.loads(plan.read_text(encoding="utf-8"))
        files = json.loads((plan.parent / "plan.json").read_text(encoding="utf-8"))["files"]
        return {k: [files[i]["path"] for i in idx] for k, idx in enumerate(settled["records"])}
    return {}


def scale_out(args: argparse.Namespace, work: Path, stack: ExitStack) -> dict[str, Any]:
    import psutil  # py7zr's dependency

    from benchmarks.intake import postgres_prefect
    from tests.prefect_server import PREFECT, Process

    began = time.perf_counter()
    roster, files = make_inbox(work, args.reports)
    made = time.perf_counter() - began
    job = work / "job.json"
    job.write_text(json.dumps({"roster": str(roster), "files": files}), encoding="utf-8")

    pg, server = postgres_prefect(stack, work, ("nianbao_one", "nianbao_two"))
    client = {"PREFECT_API_URL": server.api, "PREFECT_HOME": str(work / "prefect-client")}

    # 1. one process
    one = work / "one"
    env1 = _env(**client, NIANBAO_DATA_DIR=str(one), NIANBAO_NOTICE_SINK=str(one / "sink"),
                NIANBAO_DATABASE_URL=pg.url("nianbao_one"), PREFECT_LOGGING_LEVEL="WARNING")
    _child("setup", env1, job)
    single = _child("one", env1)

    # 2. two workers on a work pool
    two = work / "two"
    env2 = _env(**client, NIANBAO_DATA_DIR=str(two), NIANBAO_NOTICE_SINK=str(two / "sink"),
                NIANBAO_DATABASE_URL=pg.url("nianbao_two"), PREFECT_WORKER_QUERY_SECONDS="1",
                PREFECT_WORKER_PREFETCH_SECONDS="2", PREFECT_LOGGING_LEVEL="INFO")
    _child("setup", env2, job)
    dep = subprocess.run([sys.executable, "-m", "cli", "deploy", "--pool", POOL], cwd=ROOT, env=env2,
                         capture_output=True, text=True)
    if dep.returncode != 0:
        raise SystemExit(f"nianbao deploy failed:\n{dep.stdout}\n{dep.stderr}")
    workers: dict[str, Process] = {}
    elsewhere = work / "workers"
    elsewhere.mkdir()

    def start(name: str) -> Process:
        p = Process([*PREFECT, "worker", "start", "--pool", POOL, "--name", name, "--limit", "2"],
                    dict(env2, NIANBAO_WORKER_NAME=name), work / f"{name}-{time.monotonic_ns()}.log", elsewhere).start()
        p.wait_for("started", 120)
        return p

    for name in ("w1", "w2"):
        workers[name] = start(name)
        stack.callback(workers[name].stop)
    intake_id = server.deployments()[DEPLOYMENT]["id"]
    began = time.perf_counter()
    parent = server.post(f"/deployments/{intake_id}/create_flow_run",
                         {"parameters": {"county": "julu", "year": YEAR, "as_of": AS_OF, "parts": args.parts}})
    logs: dict[str, str] = {}

    def who_runs(run: dict[str, Any]) -> str | None:
        """The worker that started the run's process (the server's infrastructure_pid, whose
        parent is the worker; a worker's log names the runs its intake started too, so it cannot say)."""
        pid = str(run.get("infrastructure_pid") or "").rsplit(":", 1)[-1]
        if run.get("state_type") != "RUNNING" or not pid.isdigit():
            return None
        try:
            ancestors = {q.pid for q in psutil.Process(int(pid)).parents()}
        except psutil.Error:
            return None
        return next((name for name, p in workers.items() if p.proc is not None and p.proc.pid in ancestors), None)

    def kill(name: str) -> None:
        """The worker and every process it started (a flow run has its own process group): a machine gone."""
        proc = workers[name].proc
        assert proc is not None
        tree = psutil.Process(proc.pid).children(recursive=True)
        os.killpg(proc.pid, signal.SIGKILL)
        for child in tree:
            try:
                child.kill()
            except psutil.Error:
                continue
        proc.wait(10)

    victim: str | None = None
    killed: dict[str, Any] = {}
    restarted = False
    state = "SCHEDULED"
    while True:
        time.sleep(0.5)
        now = server.get(f"/flow_runs/{parent['id']}")
        state = now["state_type"]
        if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            break
        if time.perf_counter() - began > args.timeout:
            raise SystemExit(f"the intake did not finish within {args.timeout} s")
        if not killed:
            host = who_runs(now)
            if host is None:
                continue
            victim = next(n for n in workers if n != host)
            parts = _part_files(two, [])
            for r in _runs(server, f"intake-part-julu-{YEAR}-record-%"):
                if who_runs(r) != victim:
                    continue
                k = int(r["name"].rsplit("-", 1)[1]) - 1
                mine = parts.get(k, [])
                taken = sum(not os.path.exists(p) for p in mine)
                if mine and taken >= max(1, int(args.kill_at * len(mine))) and taken < len(mine):
                    kill(victim)
                    killed = {"worker": victim, "part": k + 1, "run": r["id"], "taken": taken, "of": len(mine),
                              "at_s": round(time.perf_counter() - began, 1)}
                    break
        elif args.restart and not restarted and time.perf_counter() - began > killed["at_s"] + 5:
            assert victim is not None
            logs[f"{victim} (killed)"] = workers[victim].output()
            workers[victim] = start(victim)
            stack.callback(workers[victim].stop)
            restarted = True
    took = time.perf_counter() - began
    if state != "COMPLETED":
        for name, p in workers.items():
            print(f"--- {name}'s log, its end:\n{p.output()[-4000:]}", file=sys.stderr)
    parent_log = server.logs(parent["id"])
    done = [re.search(r"第 (\d+) 部分（(读取|登记)）：(\S+) 完成 (\d+) 个文件，用时 ([\d.]+) 秒", m) for m in parent_log]
    per_worker: dict[str, dict[str, Any]] = {}
    for m in filter(None, done):
        w = per_worker.setdefault(m[3], {"read_parts": 0, "read_files": 0, "record_parts": 0, "record_files": 0,
                                         "seconds": 0.0})
        stage = "read" if m[2] == "读取" else "record"
        w[f"{stage}_parts"] += 1
        w[f"{stage}_files"] += int(m[4])
        w["seconds"] += float(m[5])
    runs = _runs(server, f"intake-part-julu-{YEAR}-%")
    crashed = sorted(r["name"] for r in runs if r["state_type"] == "CRASHED")
    rerun = [m for m in parent_log if "重新运行" in m]

    a, b = _child("snapshot", env1), _child("snapshot", env2)
    key = [tuple(map(str, s[:4])) for s in b["submissions"]]
    seen = [(s[0], s[3]) for s in b["submissions"] if s[0]]
    notice_keys = [json.dumps(n, ensure_ascii=False) for n in b["notices"]]
    return {
        "reports": args.reports, "files": len(files), "parts": args.parts, "generated_s": made,
        "one": {"seconds": single["seconds"], "new": single["new"]},
        "two": {"seconds": took, "state": state, "killed": killed, "restarted": restarted,
                "workers": per_worker, "crashed": crashed, "rerun": len(rerun)},
        "submissions": len(b["submissions"]), "notices": len(b["notices"]),
        "equal_submissions": a["submissions"] == b["submissions"], "equal_notices": a["notices"] == b["notices"],
        "lost": {"left_in_inbox": len(b["left"]), "left_in_inbox_one": len(a["left"]),
                 "missing": len([s for s in a["submissions"] if s not in b["submissions"]])},
        "doubled": {"submissions": len(key) - len(set(key)), "bytes_twice": len(seen) - len(set(seen)),
                    "notices": len(notice_keys) - len(set(notice_keys))},
        "differences": {"only_one": [n for n in a["notices"] if n not in b["notices"]][:3] +
                        [x for x in a["submissions"] if x not in b["submissions"]][:3],
                        "only_two": [n for n in b["notices"] if n not in a["notices"]][:3] +
                        [x for x in b["submissions"] if x not in a["submissions"]][:3]},
        "similarity": sum(1 for s in b["submissions"] for f in s[7] if f[0] == "similarity.other_body"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=2000)
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--kill-at", type=float, default=0.3, help="share of its part the victim records before the kill")
    ap.add_argument("--restart", action="store_true", help="start the killed worker again 5 s later")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]) if len(args.child) > 1 else None)
        return 0
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-scaleout-") as tmp, ExitStack() as stack:
        figures = scale_out(args, Path(tmp), stack)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return 0
    two = figures["two"]
    print(f"{figures['reports']} reports, {figures['files']} files in the inbox (generated in "
          f"{figures['generated_s']:.0f} s), {figures['parts']} parts\n")
    print(f"one process:  {figures['one']['seconds']:7.1f} s  ({figures['one']['new']} new submissions)")
    print(f"two workers:  {two['seconds']:7.1f} s  (the intake ended {two['state']})")
    k = two["killed"]
    if k:
        print(f"killed:       {k['worker']} at {k['at_s']} s, in record part {k['part']} after {k['taken']} of "
              f"its {k['of']} files{'; started again 5 s later' if two['restarted'] else ''}")
    print(f"crashed runs: {', '.join(two['crashed']) or 'none'}; parts run again: {two['rerun']}\n")
    print(f"{'worker':<8} {'read parts':>10} {'files':>6} {'record parts':>13} {'files':>6} {'busy s':>7}")
    for name, w in sorted(two["workers"].items()):
        print(f"{name:<8} {w['read_parts']:>10} {w['read_files']:>6} {w['record_parts']:>13} {w['record_files']:>6} "
              f"{w['seconds']:>7.1f}")
    print(f"\nsubmissions {figures['submissions']}, notices {figures['notices']}, "
          f"similarity.other_body findings {figures['similarity']}")
    print(f"equal to one process: submissions {figures['equal_submissions']}, notices {figures['equal_notices']}")
    print(f"lost: {figures['lost']}   doubled: {figures['doubled']}")
    if figures["differences"]["only_one"] or figures["differences"]["only_two"]:
        print("differences (a few):", json.dumps(figures["differences"], ensure_ascii=False, indent=1)[:4000])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
