"""The inbox folder: `inbox/<body code>/` for a body's files, `inbox/` itself when the sender is not
known (the report says whose it is, else it is held). Each file taken is submitted and moved to
`inbox/.done/<code>/`, so the next intake does not see it again.

No entry can stop intake: each is handled on its own. Only regular files are read; a symlink, a
pipe or a device is set aside in `inbox/.quarantine/` unread, as is a file whose handling failed
for a reason of its own, and a file refused as too large (not kept in the store) — the office
hears of each in the intake's digest. A file is taken only once it is complete: unchanged for
`inbox_settle_s` and open for writing by no process (a Linux read lease says so; where leases
are not available the quiet time alone decides), and unchanged while it is copied into the
store. What cannot be done now (a full disk, a database away) is left in place for the next
run. Names are bytes until decoded for people: UTF-8, else GB18030 (the GBK names of Windows
zips and USB sticks); the names under `.done` and `.quarantine` are those decoded names, cut
to fit the file system."""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import stat
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from db import repo
from db.session import session_scope
from nianbao import check
from nianbao.check import Preread
from nianbao.filenames import NAME_MAX_BYTES, display_name, fitted
from nianbao.labels import cycle_state
from service import flock
from service.env import Env
from service.submission import Refused, Submitted, submit

log = logging.getLogger(__name__)

DONE = ".done"  # processed files move here: the next run does not see them again
QUARANTINE = ".quarantine"  # entries set aside, with the reason told to the office
LOCK = ".intake.lock"
MAX_DEPTH = 4  # inbox/<code>/<folder>/<folder>/file: deeper folders are not looked into
_CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
F_SETLEASE = getattr(fcntl, "F_SETLEASE", 1024)


@dataclass(frozen=True)
class InboxFile:
    path: str  # as the OS gives it: bytes that are no UTF-8 are kept (surrogate escapes)
    code: str | None  # the body its folder names; None at the root or in a folder that is no body's
    name: str  # decoded for people (display_name)


@dataclass(frozen=True)
class Aside:
    """An inbox entry not recorded by this run, and why (Chinese, for the office)."""

    file: str
    reason: str
    kept_as: str | None = None  # where it is now, relative to the inbox; None: left where it was
    deferred: bool = False  # left in place: the next run tries again


@dataclass(frozen=True)
class InboxScan:
    files: list[InboxFile] = field(default_factory=list)
    skipped: str | None = None  # why this cycle takes nothing from the inbox
    aside: list[Aside] = field(default_factory=list)  # set aside (quarantined) or waiting (still being written)


def ensure_inbox(data_dir: Path, codes: list[str]) -> Path:
    """inbox/ and a folder per body: where files are dropped (the folder names the sender)."""
    root = data_dir / "inbox"
    for code in codes:
        if _CODE.fullmatch(code):  # a code is a folder name: nothing else becomes a path
            (root / code).mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextmanager
def intake_lock(e: Env) -> Iterator[bool]:
    """One intake at a time on an inbox: a second waits (up to `intake_lock_wait_s`) instead of
    taking the files the first is moving. Yields False when the wait ran out. The lock is the
    kernel's (flock): a killed run leaves none behind."""
    root = e.data_dir / "inbox"
    root.mkdir(parents=True, exist_ok=True)
    with flock.held(root / LOCK, e.settings.intake_lock_wait_s) as fd:
        yield fd is not None


def scan(e: Env, county_code: str, year: int) -> InboxScan:
    """Every file waiting in the inbox. The inbox belongs to the county's newest open cycle: a
    compiled or closed cycle takes nothing, nor does an older one still open (its late reports
    come in with `nianbao submit --year`)."""
    root = e.data_dir / "inbox"
    with session_scope(e.factory) as s:
        c = repo.county_by_code(s, county_code)
        cy = repo.cycle(s, c, year)
        if cy.state != "open":
            return InboxScan(skipped=f"{year}年度报送周期{cycle_state(cy.state)}，不再收件。")
        newest = repo.cycle(s, c)
        if newest.year != year:
            return InboxScan(skipped=f"收件目录中的文件由{newest.year}年度的周期接收；{year}年度的补报请用 "
                                     f"nianbao submit --year {year}。")
        codes = {b.code for b in repo.bodies(s, c, active_only=True)}
    ensure_inbox(e.data_dir, sorted(codes))  # a body added to the roster since gets its folder
    prune_quarantine(e)
    found: list[InboxFile] = []
    aside: list[Aside] = []
    now = time.time()
    for path, st in _entries(root):
        rel = Path(path).relative_to(root)
        name = display_name(rel.name)
        if not stat.S_ISREG(st.st_mode):
            what = "符号链接" if stat.S_ISLNK(st.st_mode) else "管道、设备或套接字"
            aside.append(set_aside(e, Path(path), name, f"不是普通文件（{what}），系统未读取其内容。", county_code, year))
            continue
        if now - st.st_mtime < e.settings.inbox_settle_s or _open_for_writing(path):
            aside.append(Aside(name, "文件仍在写入或复制中，下次收件时再处理。", deferred=True))
            continue
        code = rel.parts[0] if len(rel.parts) > 1 and rel.parts[0] in codes else None
        found.append(InboxFile(path, code, name))
    return InboxScan(found, aside=aside)


def _entries(root: Path, depth: int = 0) -> Iterator[tuple[str, os.stat_result]]:
    """(path, lstat) of every entry below `root` but folders, links never followed; hidden
    entries (.done, .quarantine, Office's ~$ lock files) left alone. A folder that cannot be
    listed is passed over (said in the log), not the end of the scan."""
    try:
        with os.scandir(root) as it:
            entries = sorted(it, key=lambda d: d.name)
    except OSError as exc:
        log.warning("收件目录中的文件夹无法读取（%s），已跳过", exc.strerror)
        return
    for entry in entries:
        if entry.name.startswith((".", "~$")):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # gone meanwhile
        if stat.S_ISDIR(st.st_mode):
            if depth < MAX_DEPTH:
                yield from _entries(Path(entry.path), depth + 1)
            continue
        yield entry.path, st


def _open_for_writing(path: str) -> bool:
    """Whether some process has the file open for writing: a read lease is refused (EAGAIN)
    exactly then. False where leases are not supported (the quiet time decides there)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.fcntl(fd, F_SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        return exc.errno == errno.EAGAIN
    else:
        fcntl.fcntl(fd, F_SETLEASE, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)


def take(e: Env, item: InboxFile, county_code: str, year: int, received_at: datetime,
         preread: Preread | None = None, others: Mapping[str, Any] | None = None) -> Submitted | Aside | None:
    """Submit one inbox file, then move it out of the inbox. Killed halfway, a re-run finds the
    same bytes already recorded: no second submission, no second notice. Whatever goes wrong
    with this file stays with this file: it is set aside (or, when the cause is the machine's,
    left for the next run) and the others are taken all the same. None: the file was gone."""
    src = Path(item.path)
    root = e.data_dir / "inbox"
    try:
        with session_scope(e.factory) as s:
            county = repo.county_by_code(s, county_code).name
        done = submit(e, src, county=county, year=year, body_code=item.code, source="inbox",
                      actor=f"flow:intake:{county_code}", received_at=received_at, original_name=item.name,
                      preread=preread, others=others)
    except FileNotFoundError:
        return None  # taken away meanwhile (by its sender, or by hand)
    except Refused as exc:
        if exc.transient:
            log.warning("《%s》暂未登记：%s", item.name, exc.message)
            return Aside(item.name, exc.message, deferred=True)
        return set_aside(e, src, item.name, exc.message, county_code, year)
    except (SQLAlchemyError, OSError) as exc:  # the database or the disk, not this file
        log.error("《%s》暂未登记（%s），下次收件时再处理", item.name, type(exc).__name__)
        return Aside(item.name, f"系统暂时无法登记（{type(exc).__name__}），下次收件时再处理。", deferred=True)
    except Exception as exc:  # noqa: BLE001 - a failure of this file's own: it must not block the others
        log.exception("《%s》处理失败，已移至隔离区", item.name)
        return set_aside(e, src, item.name, f"处理时出现内部错误（{type(exc).__name__}），文件已移至隔离区，"
                                           "请联系系统管理员检查。", county_code, year)
    if not done.submission.stored_path:  # refused as too large: not kept in the store, nor in .done
        set_aside(e, src, item.name, "文件超过大小上限，已退回报送单位；原文件移至隔离区，按期限自动清理。",
                  county_code, year, record=False)
    else:
        _move(src, root / DONE / (done.body.code if done.body else "_unassigned"), item.name)
    return done


def set_aside(e: Env, src: Path, name: str, reason: str, county_code: str, year: int,
              record: bool = True) -> Aside:
    """Move an inbox entry (the entry itself: a link is not followed) into the quarantine, and
    record why, for the office's digest."""
    root = e.data_dir / "inbox"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    try:
        dest = _move(src, root / QUARANTINE, f"{stamp}-{name}")
        os.utime(dest, follow_symlinks=False)  # kept for quarantine_keep_days from now, not from its own date
        kept = dest.relative_to(root).as_posix()
    except FileNotFoundError:
        return Aside(name, reason)
    if record:
        with session_scope(e.factory) as s:
            c = repo.county_by_code(s, county_code)
            cy = repo.cycle(s, c, year)
            repo.audit(s, f"flow:intake:{county_code}", "inbox.set_aside", "cycle", cy.id, cycle_id=cy.id,
                       file=name, reason=reason, kept_as=kept)
    log.warning("《%s》已移至隔离区：%s", name, reason)
    prune_quarantine(e)
    return Aside(name, reason, kept)


def _move(src: Path, dest_dir: Path, name: str) -> Path:
    """Rename `src` into `dest_dir` under `name` (fitted), never over an earlier file."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    base = fitted(name)
    dest = dest_dir / base
    n = 1
    while os.path.lexists(dest):  # never overwrite what a body sent earlier under the same name
        stem, dot, ext = base.rpartition(".")
        dest = dest_dir / (f"{fitted(stem or base, NAME_MAX_BYTES - 24)}.{n}.{ext}" if dot and stem
                           else f"{fitted(base, NAME_MAX_BYTES - 8)}.{n}")
        n += 1
    os.rename(src, dest)
    return dest


def prune_quarantine(e: Env, now: float | None = None) -> int:
    """Keep the quarantine bounded: entries older than `quarantine_keep_days` go, then the oldest
    until it is under `quarantine_max_mb`. Returns how many were deleted."""
    folder = e.data_dir / "inbox" / QUARANTINE
    if not folder.is_dir():
        return 0
    now = now or time.time()
    entries = []
    for p in folder.iterdir():
        try:
            st = p.lstat()
        except OSError:
            continue
        entries.append((st.st_mtime, st.st_size if stat.S_ISREG(st.st_mode) else 0, p))
    entries.sort()
    total = sum(size for _, size, _ in entries)
    cap = e.settings.quarantine_max_mb * 1024 * 1024
    gone = 0
    for mtime, size, p in entries:
        if now - mtime <= e.settings.quarantine_keep_days * 86400 and total <= cap:
            break
        try:
            p.unlink()
            gone += 1
            total -= size
        except OSError:
            continue
    return gone


def read_ahead(e: Env, files: list[InboxFile], window: int = 0) -> Iterator[Preread | None]:
    """The scan's files read on every core (NIANBAO_JOBS), one result per file in its order, for
    `take` one after another (see `nianbao.check.read_ahead`)."""
    return check.read_ahead([f.path for f in files], jobs=check.default_jobs(e.settings), settings=e.settings,
                            window=window)
