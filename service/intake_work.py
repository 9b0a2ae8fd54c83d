"""An intake in stages, so that it can be spread over workers and still record exactly what one
process does.

1. **plan**: the scan's files in a fixed order — the body folders' files first, by body, then the
   files at the inbox's root (whose body only their text names) — and one received time for all.
2. **read** (in parts): each file read and normalised; the reading is kept in the work folder
   (`<sha>.pkl`), with a summary of what the texts compared across bodies say.
3. **settle**: the other bodies' texts every file of this intake is compared with
   (similarity.other_body) fixed once: each body's newest report in the database when the intake
   settled, replaced by its newest file in this intake. The bodies' files are dealt into parts,
   a body's files always in one part, in their order: versions and duplicates are the body's own
   business, so parts recorded side by side give what one process gives.
4. **record** (in parts): each part's files taken in order (`inbox.take`) with their reading and
   the fixed texts; then the root's files, one after another, by the intake itself.

The work folder is `intake-work/<plan>/` in the data folder: on the store every worker shares. A
part holds `<stage>-<part>.lock` (flock) while it works, so the intake can tell a part whose
worker died (the lock is free, the part unfinished) from one still at work; a part run again
finds its files recorded or moved already (no second submission, no second notice)."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import pickle
import platform
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from db import repo
from db.session import session_scope
from nianbao import check
from nianbao.check import Preread
from nianbao.rules.history import Texts
from service import flock
from service.env import Env
from service.inbox import InboxFile

log = logging.getLogger(__name__)

WORK = "intake-work"
COMPARED = ("1", "5")  # the sections similarity.other_body compares
PARTS_LOCK = ".parts.lock"  # shared by every part at work, taken alone by an intake before it starts
KEEP_S = 2 * 86400  # work folders of intakes that died are removed after this


@dataclass(frozen=True)
class Plan:
    id: str
    county: str
    year: int
    received_at: str  # ISO: one time for every file of the intake, whichever part takes it
    files: list[InboxFile]
    reads: list[list[int]]  # the read stage's parts: indexes into files

    def folder(self, e: Env) -> Path:
        return work_root(e) / self.id


@dataclass(frozen=True)
class Settled:
    others: dict[str, dict[str, str]]  # body name → its compared sections' texts
    records: list[list[int]]  # the record stage's parts, each in the plan's order
    rest: list[int]  # the root's files, taken by the intake itself after the parts

    def texts(self) -> dict[str, Texts]:
        return {name: Texts(dict(t)) for name, t in self.others.items()}


@dataclass
class PartDone:
    """What a part did, and where (for the intake's log and the scale-out script)."""
    stage: str
    part: int
    worker: str
    files: int
    seconds: float
    results: list[dict[str, Any]] = field(default_factory=list)  # Brief or Aside fields, with "kind"
    ahead: int = 0  # files read by the process pool (the others in the part's own process)


def work_root(e: Env) -> Path:
    return e.data_dir / WORK


def worker_name() -> str:
    """Who did a part: NIANBAO_WORKER_NAME when the machine's worker sets it, else host and pid."""
    return os.environ.get("NIANBAO_WORKER_NAME") or f"{platform.node()}:{os.getpid()}"


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: a reader on another machine never sees half a file."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write_json(path: Path, value: Any) -> None:
    _write(path, json.dumps(value, ensure_ascii=False).encode("utf-8"))


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def ordered(files: list[InboxFile]) -> list[InboxFile]:
    """The intake's order: each body's folder, by body, then the root's files (the scan's order
    within each)."""
    return sorted(files, key=lambda f: (f.code is None, f.code or ""))


def split(n: int, parts: int) -> list[list[int]]:
    """0…n-1 in `parts` runs of nearly equal length, in order."""
    parts = max(1, min(parts, n)) if n else 1
    size, extra = divmod(n, parts)
    out, start = [], 0
    for k in range(parts):
        end = start + size + (k < extra)
        out.append(list(range(start, end)))
        start = end
    return out


def make_plan(e: Env, county: str, year: int, files: list[InboxFile], parts: int, received_at: datetime) -> Plan:
    prune(e)
    plan = Plan(uuid.uuid4().hex, county, year, received_at.isoformat(), ordered(files), split(len(files), parts))
    folder = plan.folder(e)
    folder.mkdir(parents=True)
    _write_json(folder / "plan.json", asdict(plan))
    return plan


def load_plan(e: Env, plan_id: str) -> Plan:
    data = _read_json(work_root(e) / plan_id / "plan.json")
    return Plan(data["id"], data["county"], data["year"], data["received_at"],
                [InboxFile(**f) for f in data["files"]], data["reads"])


def read_part(e: Env, plan: Plan, part: int) -> PartDone:
    """The read stage's part: its files read on this machine's cores (NIANBAO_JOBS), each reading
    kept by its bytes' SHA-256, and a summary of each for `settle`."""
    began = time.monotonic()
    folder = plan.folder(e)
    idx = plan.reads[part]
    paths = [plan.files[i].path for i in idx]
    summary: dict[str, Any] = {}
    ahead = check.read_ahead(paths, jobs=check.default_jobs(e.settings), settings=e.settings)
    pooled = 0
    for i, path, pre in zip(idx, paths, ahead, strict=True):
        pooled += pre is not None
        pre = pre or check.read_one(path, e.settings)
        if pre is None:  # gone or changing: the record stage reads it itself
            summary[str(i)] = None
            continue
        _write(folder / f"{pre.sha256}{pre.suffix}.pkl", pickle.dumps(pre, protocol=pickle.HIGHEST_PROTOCOL))
        report = pre.parsed.report if pre.parsed is not None else None
        summary[str(i)] = {"sha256": pre.sha256, "suffix": pre.suffix,
                           "body": report.body if report is not None else None,
                           "texts": {k: report.sections.get(k, "") for k in COMPARED} if report is not None else None}
    _write_json(folder / f"read-{part}.json", summary)
    return PartDone("read", part, worker_name(), len(idx), time.monotonic() - began, ahead=pooled)


def settle(e: Env, plan: Plan, parts: int) -> Settled:
    """The texts compared and the record stage's parts, from the read stage's summaries and the
    database as it is now (see the module's docstring)."""
    folder = plan.folder(e)
    summary: dict[str, Any] = {}
    for k in range(len(plan.reads)):
        try:
            summary.update(_read_json(folder / f"read-{k}.json"))
        except FileNotFoundError:  # a part that never finished: its files are read when recorded
            log.warning("第 %d 部分的读取结果缺失，其文件在登记时再读取", k + 1)
    with session_scope(e.factory) as s:
        c = repo.county_by_code(s, plan.county)
        cy = repo.cycle(s, c, plan.year)
        rows = repo.bodies(s, c)
        roster = repo.to_domain(c, rows)
        active = {b.code for b in rows if b.active}
        names = {b.code: b.name for b in rows}
        others: dict[str, dict[str, str]] = {n: dict(t.sections) for n, t in repo.newest_texts(s, cy).items()}
    groups: dict[str, list[int]] = {}
    rest: list[int] = []
    for i, f in enumerate(plan.files):
        got = summary.get(str(i))
        code = f.code
        if code is None and got is not None:  # the root's file: whose its text says, as the record will
            found = roster.find(got["body"])
            code = found.code if found is not None and found.code in active else None
        if code is not None and got is not None and got["texts"] is not None:
            others[names[code]] = got["texts"]  # the body's newest in this intake replaces the database's
        if f.code is None:
            rest.append(i)
        else:
            groups.setdefault(f.code, []).append(i)
    # the bodies dealt out, the biggest first, each to the part with the fewest files so far
    records: list[list[int]] = [[] for _ in range(max(1, min(parts, len(groups))))]
    for code in sorted(groups, key=lambda c: (-len(groups[c]), c)):
        min(records, key=len).extend(groups[code])
    settled = Settled(others, [sorted(r) for r in records], rest)
    _write_json(folder / "settled.json", asdict(settled))
    return settled


def load_settled(e: Env, plan_id: str) -> Settled:
    data = _read_json(work_root(e) / plan_id / "settled.json")
    return Settled(data["others"], data["records"], data["rest"])


def preread(e: Env, plan: Plan, i: int) -> Preread | None:
    """The read stage's reading of the plan's file i, if it was kept (the record checks that it
    is of the bytes it stores: `Preread.fits`)."""
    try:
        got = _summary(plan.folder(e), _part_of(plan, i)).get(str(i))
    except FileNotFoundError:
        return None
    if got is None:
        return None
    try:
        value = pickle.loads((plan.folder(e) / f"{got['sha256']}{got['suffix']}.pkl").read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError):
        return None
    return value if isinstance(value, Preread) else None


@lru_cache(maxsize=16)
def _summary(folder: Path, part: int) -> dict[str, Any]:
    """A read part's summary, parsed once per process: the record stage asks it for each of its
    files (~1 MB of JSON for a part of 1,000). Written whole once its part is read, before any
    record starts; a missing one is not kept (an exception is not cached)."""
    return _read_json(folder / f"read-{part}.json")


def _part_of(plan: Plan, i: int) -> int:
    return next(k for k, idx in enumerate(plan.reads) if idx and idx[0] <= i <= idx[-1])


def finish(e: Env, done: PartDone, plan_id: str) -> None:
    _write_json(work_root(e) / plan_id / f"done-{done.stage}-{done.part}.json", asdict(done))


def finished(e: Env, plan_id: str, stage: str, part: int) -> PartDone | None:
    try:
        return PartDone(**_read_json(work_root(e) / plan_id / f"done-{stage}-{part}.json"))
    except FileNotFoundError:
        return None


def _lock_path(e: Env, plan_id: str, stage: str, part: int) -> Path:
    return work_root(e) / plan_id / f"{stage}-{part}.lock"


@contextmanager
def part_lock(e: Env, plan_id: str, stage: str, part: int, run: str) -> Iterator[bool]:
    """Held while a part works (the kernel's lock: a killed worker leaves none behind). A second
    run of the same part waits for the first (one that was thought dead but is not); False when
    the wait ran out."""
    wait = e.settings.intake_lock_wait_s
    # parts at work hold the shared lock: no later intake takes the inbox meanwhile
    with flock.held(work_root(e) / PARTS_LOCK, wait, shared=True) as busy, \
            flock.held(_lock_path(e, plan_id, stage, part), wait) as fd:
        if busy is None or fd is None:
            yield False
            return
        os.ftruncate(fd, 0)
        os.pwrite(fd, run.encode(), 0)  # started: a free lock with a run in it is a part whose worker died
        yield True


def parts_quiet(e: Env) -> bool:
    """Wait (up to `intake_lock_wait_s`) until no part of an earlier intake is still at work — one
    whose intake died while its workers went on — so that no file is taken by two runs at once."""
    root = work_root(e)
    root.mkdir(parents=True, exist_ok=True)
    with flock.held(root / PARTS_LOCK, e.settings.intake_lock_wait_s) as fd:
        return fd is not None


def abandoned(e: Env, plan_id: str, stage: str, part: int) -> str | None:
    """The run that started this part and died (its lock is free, the part is not done), or None."""
    path = _lock_path(e, plan_id, stage, part)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None  # not started
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # at work
        run = os.pread(fd, 200, 0).decode(errors="replace")
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    if not run or finished(e, plan_id, stage, part) is not None:
        return None
    return run


def forget(e: Env, run: str, plan_id: str, stage: str, part: int) -> None:
    """Clear a dead part's mark before it is run again (its next run writes its own)."""
    path = _lock_path(e, plan_id, stage, part)
    try:
        if path.read_text(encoding="utf-8", errors="replace") == run:
            path.write_bytes(b"")
    except FileNotFoundError:
        pass


def remove(e: Env, plan_id: str) -> None:
    shutil.rmtree(work_root(e) / plan_id, ignore_errors=True)


def prune(e: Env, now: float | None = None) -> None:
    """Work folders of intakes that died long ago (their files are still in the inbox)."""
    root = work_root(e)
    if not root.is_dir():
        return
    now = now or time.time()
    for p in root.iterdir():
        try:
            if now - p.stat().st_mtime > KEEP_S:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            continue
