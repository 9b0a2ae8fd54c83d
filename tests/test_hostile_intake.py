"""Nothing that arrives stops the cycle: the inbox, `nianbao submit` and the version rule, tried as a
careless or hostile sender and as a faulty machine would (issue 10).

Everything is real: files on disk, SQLite, a tmpfs that is really full, a process really holding a
file open for writing, the Prefect flow on the session's test server. The one injected fault
(`_fails_for`) stands for "any reason" a file's handling may fail that no input here provokes."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from db import migrate, repo
from db.models import AuditEvent, Notice, Submission
from db.session import session_scope
from nianbao.bodies import load_roster
from nianbao.corpus import good_report
from nianbao.generate import write_docx, write_txt
from tests.conftest import ROOT, ROSTER

YEAR, DEADLINE = 2024, date(2025, 1, 31)
JAN = datetime(2025, 1, 15, 2, 0, tzinfo=UTC)
GBK_NAME = "官亭镇2024年政府信息公开年报.docx"


def _env():
    from service.env import env

    return env()


@pytest.fixture
def county(tmp_path, monkeypatch):
    """巨鹿县's roster on SQLite under tmp_path/data, the 2024 cycle open; notices to a sink."""
    data = tmp_path / "data"
    monkeypatch.setenv("NIANBAO_DATA_DIR", str(data))
    monkeypatch.setenv("NIANBAO_NOTICE_SINK", str(tmp_path / "notices"))
    monkeypatch.delenv("NIANBAO_DATABASE_URL", raising=False)
    from nianbao.settings import get_settings

    get_settings.cache_clear()
    migrate.upgrade(get_settings().db_url())
    with session_scope(_env().factory) as s:
        repo.import_roster(s, load_roster(ROSTER), "test")
        repo.open_cycle(s, repo.county(s), YEAR, DEADLINE, [14, 7, 3, 1, 0], "test")
    from service.inbox import ensure_inbox

    ensure_inbox(data, ["guanting", "wanghuzhai"])
    yield data
    get_settings.cache_clear()


def _spec(seed: int = 0):
    doc = good_report(seed)
    assert doc.spec.body.endswith("官亭镇人民政府") or seed != 0
    return doc.spec


def _good(path: Path, seed: int = 0) -> Path:
    return write_docx(_spec(seed), path)


def _bad(path: Path) -> Path:
    spec = copy.deepcopy(_spec())
    spec.table3["new"][-1] += 7  # the total no longer adds up
    return write_docx(spec, path)


def _intake(e=None):
    """What the intake flow does, without Prefect: lock, scan, take each entry."""
    from service import inbox

    e = e or _env()
    taken, aside = [], []
    with inbox.intake_lock(e) as got:
        assert got
        scan = inbox.scan(e, "julu", YEAR)
        aside += scan.aside
        for item in scan.files:
            done = inbox.take(e, item, "julu", YEAR, JAN)
            (aside if isinstance(done, inbox.Aside) else taken).append(done)
    return taken, aside


def _subs():
    with session_scope(_env().factory) as s:
        return list(s.scalars(select(Submission).options(selectinload(Submission.findings)).order_by(Submission.id)))


def _asides():
    with session_scope(_env().factory) as s:
        return [a.details for a in s.scalars(select(AuditEvent).where(AuditEvent.action == "inbox.set_aside"))]


def _cli(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def _store_files(data: Path) -> list[Path]:
    return [p for p in (data / "files").rglob("*") if p.is_file()] if (data / "files").exists() else []


# ---- names ----------------------------------------------------------------------------------


def test_a_gbk_name_is_taken_shown_in_chinese_and_blocks_nothing(county):
    """A name that is not UTF-8 (GBK, from a Windows zip) is recorded under its Chinese name; the
    files beside it are taken in the same run; the next run finds nothing left."""
    inbox = county / "inbox"
    raw = os.fsencode(inbox / "guanting") + b"/" + GBK_NAME.encode("gbk")
    _good(Path(os.fsdecode(raw)))
    _good(inbox / "wanghuzhai" / "王虎寨镇.docx", seed=1)
    _good(inbox / "later.docx")
    taken, aside = _intake()
    assert aside == [] and len(taken) == 3
    names = {s.original_name for s in _subs()}
    assert GBK_NAME in names
    done = [p.name for p in (inbox / ".done").rglob("*") if p.is_file()]
    assert GBK_NAME in done and all(n.encode("utf-8") for n in done)  # every name there is valid UTF-8
    assert _intake() == ([], [])


def test_submit_of_a_gbk_named_file_answers_without_a_traceback(county, tmp_path):
    raw = os.fsencode(tmp_path) + b"/" + GBK_NAME.encode("gbk")
    path = Path(os.fsdecode(raw))
    _good(path)
    r = _cli("submit", os.fsdecode(raw), "--body", "guanting", "--json")
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode in (0, 1) and json.loads(r.stdout)["version"] == 1
    assert [s.original_name for s in _subs()] == [GBK_NAME]


def test_a_254_byte_name_sent_twice_is_kept_twice_under_names_that_fit(county):
    inbox = county / "inbox"
    stem = "长" * 83  # 249 bytes of UTF-8
    name = stem + ".docx"
    assert len(name.encode()) == 254
    _good(inbox / "guanting" / name)
    assert len(_intake()[0]) == 1
    _bad(inbox / "guanting" / name)
    taken, aside = _intake()
    assert len(taken) == 1 and aside == []
    done = sorted(p.name for p in (inbox / ".done" / "guanting").iterdir())
    assert len(done) == 2 and all(len(n.encode()) <= 255 for n in done) and all(n.endswith(".docx") for n in done)
    assert [s.version for s in _subs()] == [1, 2]


# ---- half-written files ---------------------------------------------------------------------


def test_a_file_still_open_for_writing_waits_then_is_taken_whole(county):
    """A copy in progress: the writer holds the file open. Intake leaves it; once closed, the next
    intake takes the finished file, which is the one checked."""
    path = county / "inbox" / "guanting" / "official.docx"
    full = _good(county.parent / "whole.docx").read_bytes()
    fh = path.open("wb")
    fh.write(full[: len(full) // 2])
    fh.flush()
    os.utime(path, (time.time() - 3600, time.time() - 3600))  # old enough: only the open writer holds it back
    try:
        taken, aside = _intake()
        assert taken == [] and [a.deferred for a in aside] == [True]
        assert path.exists() and _subs() == []
    finally:
        fh.write(full[len(full) // 2:])
        fh.close()
    os.utime(path, (time.time() - 3600, time.time() - 3600))
    taken, aside = _intake()
    assert len(taken) == 1 and aside == []
    (sub,) = _subs()
    assert sub.size == len(full) and not any(f.rule == "file.unreadable" for f in sub.findings)


def test_a_file_changed_within_the_quiet_time_waits(county, monkeypatch):
    monkeypatch.setenv("NIANBAO_INBOX_SETTLE_S", "30")
    from nianbao.settings import get_settings

    get_settings.cache_clear()
    path = _good(county / "inbox" / "guanting" / "fresh.docx")
    taken, aside = _intake()
    assert taken == [] and aside[0].deferred and "写入" in aside[0].reason
    os.utime(path, (time.time() - 60, time.time() - 60))
    assert len(_intake()[0]) == 1


def test_a_file_growing_while_stored_is_not_stored_under_another_hash(county, tmp_path):
    from db.files import StoreError, store_file

    path = tmp_path / "growing.bin"
    path.write_bytes(os.urandom(8 << 20))
    started, stop = threading.Event(), threading.Event()

    def grow() -> None:
        with path.open("ab") as fh:
            while not stop.is_set():
                fh.write(os.urandom(1 << 16))
                fh.flush()
                started.set()
                time.sleep(0.001)

    t = threading.Thread(target=grow)
    t.start()
    started.wait(5)
    try:
        with pytest.raises(StoreError) as exc:
            store_file(county, path)
    finally:
        stop.set()
        t.join()
    assert "变化" in exc.value.message and exc.value.transient
    assert _store_files(county) == []  # nothing half-done: no copy, no temporary file
    stored = store_file(county, path)  # once still, the hash is that of the bytes stored
    import hashlib

    assert stored.sha256 == hashlib.sha256(stored.path(county).read_bytes()).hexdigest() == \
        hashlib.sha256(path.read_bytes()).hexdigest()
    assert stored.size == path.stat().st_size


# ---- what is not a regular file -------------------------------------------------------------


def test_links_pipes_and_devices_are_set_aside_unread_and_the_office_told(county, monkeypatch):
    monkeypatch.setenv("NIANBAO_CANARY", "canary-9f8e7d6c5b4a")
    inbox = county / "inbox"
    (inbox / "environ.docx").symlink_to("/proc/self/environ")
    (inbox / "guanting" / "passwd.txt").symlink_to("/etc/passwd")
    (inbox / "guanting" / "dir-link").symlink_to("/etc")
    os.mkfifo(inbox / "pipe.docx")
    _good(inbox / "guanting" / "real.docx")
    t0 = time.monotonic()
    taken, aside = _intake()
    assert time.monotonic() - t0 < 30  # the pipe did not hang the scan
    assert len(taken) == 1 and len(aside) == 4 and all(a.kept_as and not a.deferred for a in aside)
    assert all("不是普通文件" in a.reason for a in aside)
    for p in _store_files(county):  # nothing of the environment or of /etc reached the store
        assert b"canary-9f8e7d6c5b4a" not in p.read_bytes() and b"root:x:0:0" not in p.read_bytes()
    q = inbox / ".quarantine"
    kept = sorted(q.iterdir())
    assert len(kept) == 4 and sum(p.is_symlink() for p in kept) == 3  # the links themselves, not what they name
    assert len(_asides()) == 4
    from service.digest import intake_digest

    assert intake_digest(_env(), "julu", YEAR) == 1
    with session_scope(_env().factory) as s:
        digest = s.scalars(select(Notice).where(Notice.kind == "digest")).first()
    assert "隔离区" in digest.body and "environ.docx" in digest.body and "不是普通文件" in digest.body


# ---- any failure stays with its file --------------------------------------------------------


def _fails_for(monkeypatch, name: str) -> None:
    import service.submission as submission

    real = submission.check_file

    def check_file(path, **kw):
        if Path(path).name.endswith(name) or name in str(kw.get("body") or ""):
            raise RuntimeError("a fault this file alone provokes")
        return real(path, **kw)

    monkeypatch.setattr(submission, "check_file", check_file)


def test_intake_keeps_going_when_one_entry_fails_for_any_reason(county, monkeypatch):
    inbox = county / "inbox"
    files = [_good(inbox / "guanting" / "a.docx"), _good(inbox / "wanghuzhai" / "b.docx", seed=1),
             _good(inbox / "c.docx", seed=2)]
    # the store names a copy by its SHA-256: fail the one whose copy is b.docx's
    import hashlib

    sha = hashlib.sha256(files[1].read_bytes()).hexdigest()
    _fails_for(monkeypatch, f"{sha}.docx")
    taken, aside = _intake()
    assert len(taken) == 2 and len(aside) == 1
    assert "内部错误" in aside[0].reason and aside[0].kept_as.startswith(".quarantine/")
    assert not files[1].exists() and (inbox / aside[0].kept_as).exists()  # kept, not lost, and out of the way
    assert _intake() == ([], [])  # it does not come back to block the next run


def test_the_intake_flow_keeps_going_and_two_intakes_at_once_both_complete(county, monkeypatch, prefect_harness):
    """On the real flow: one entry's failure does not fail the run; two runs started together on
    SQLite both end Completed and every file is recorded once."""
    from prefect import tags

    from flows.cycle import intake

    inbox = county / "inbox"
    for i in range(6):
        _good(inbox / "guanting" / f"g{i}.docx", seed=9 * i)
    _good(inbox / "wanghuzhai" / "w.docx", seed=1)
    os.mkfifo(inbox / "pipe.docx")
    runs, errors = [], []

    def go() -> None:
        try:
            with tags("county-julu"):
                runs.append(intake(county="julu", year=YEAR, as_of=JAN, return_state=True))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == [] and len(runs) == 2 and all(r.is_completed() for r in runs), [r.message for r in runs]
    subs = _subs()
    assert len(subs) == 7 == len({s.sha256 for s in subs})
    results = [r.result() for r in runs]
    assert sum(len(r.files) for r in results) == 7 and sum(len(r.aside) for r in results) == 1


# ---- refused as too large: not kept unbounded ----------------------------------------------


def test_a_file_over_the_size_limit_is_answered_not_stored_and_the_quarantine_is_bounded(county, monkeypatch):
    monkeypatch.setenv("NIANBAO_MAX_FILE_MB", "1")
    monkeypatch.setenv("NIANBAO_QUARANTINE_MAX_MB", "5")
    from nianbao.settings import get_settings

    get_settings.cache_clear()
    inbox = county / "inbox" / "guanting"
    for i in range(4):
        big = inbox / f"big{i}.pdf"
        big.write_bytes(b"%PDF-1.4\n" + os.urandom(2 << 20))
        taken, aside = _intake()
        assert len(taken) == 1 and taken[0].submission.verdict == "rejected"
        assert [f.rule for f in taken[0].submission.findings] == ["file.too_large"]
    assert _store_files(county) == []  # none of the 8 MB is in the store
    subs = _subs()
    assert [s.stored_path for s in subs] == [""] * 4 and len({s.sha256 for s in subs}) == 4
    q = county / "inbox" / ".quarantine"
    kept = sum(p.stat().st_size for p in q.iterdir())
    assert kept <= 5 * 1024 * 1024 and len(list(q.iterdir())) == 2  # the oldest went first
    old = next(q.iterdir())
    os.utime(old, (time.time() - 91 * 86400,) * 2)
    from service.inbox import prune_quarantine

    assert prune_quarantine(_env()) == 1 and not old.exists()


# ---- a full disk ----------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 2 MB file system (tmpfs; root only, as CI runs), unmounted afterwards."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode(errors='replace').strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(folder: Path, leave: int) -> None:
    with (folder / "filler").open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError:
            pass
    size = (folder / "filler").stat().st_size
    os.truncate(folder / "filler", max(0, size - leave))


def test_a_full_disk_is_a_clean_refusal_that_leaves_nothing_half_done(county, tiny_disk, tmp_path):
    """The store's disk is full: `submit` says so in Chinese (exit 2, no traceback, no SQL), nothing
    is recorded, no temporary file remains; intake leaves the file in the inbox for later."""
    data = tiny_disk / "data"
    shutil.copytree(county, data, symlinks=True)  # the database and inbox of the fixture, on the tiny disk
    env = {"NIANBAO_DATA_DIR": str(data)}
    report = _good(tmp_path / "report.docx")
    _fill(tiny_disk, leave=4096)
    r = _cli("submit", str(report), "--body", "guanting", env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "磁盘空间不足" in r.stderr and "Traceback" not in r.stderr + r.stdout and "INSERT" not in r.stderr
    assert _store_files(data) == []
    inbox_file = shutil.copy(report, data / "inbox" / "guanting" / "report.docx")
    code = "from tests.test_hostile_intake import _intake\nt, a = _intake()\nprint(len(t), [x.deferred for x in a])"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={**os.environ, **env})
    assert r.returncode == 0 and r.stdout.split() == ["0", "[True]"], r.stdout + r.stderr
    assert Path(inbox_file).exists() and not (data / "inbox" / ".quarantine").exists()  # left for later, not set aside
    assert _store_files(data) == []
    os.truncate(tiny_disk / "filler", 0)
    r = _cli("status", "--json", env=env)
    assert r.returncode == 0 and all(b["versions"] == 0 for b in json.loads(r.stdout)["bodies"])


def test_a_full_database_disk_is_a_clean_error_and_the_stored_copy_is_taken_back(county, tiny_disk, tmp_path):
    data = tmp_path / "data2"
    db = tiny_disk / "nianbao.db"
    for part in county.glob("nianbao.db*"):  # with its WAL and shared-memory files: opening needs no room
        shutil.copy(part, tiny_disk / part.name)
    env = {"NIANBAO_DATA_DIR": str(data), "NIANBAO_DATABASE_URL": f"sqlite:///{db}"}
    report = _good(tmp_path / "report.docx")
    _fill(tiny_disk, leave=0)
    r = _cli("submit", str(report), "--body", "guanting", env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "数据库写入失败" in r.stderr and "Traceback" not in r.stderr + r.stdout
    assert "INSERT" not in r.stderr and "官亭镇" not in r.stderr  # no statement, no values
    assert _store_files(data) == []  # the copy stored for the failed record is gone


# ---- which version counts -------------------------------------------------------------------


def test_the_latest_version_counts_in_status_notices_the_table_and_compile(county, tmp_path):
    from service.submission import submit

    e = _env()
    v1 = _good(tmp_path / "v1.docx")
    v2 = _bad(tmp_path / "v2.docx")
    kw = {"body_code": "guanting", "received_at": JAN}
    assert submit(e, v1, **kw).submission.verdict == "accepted"
    assert submit(e, v2, **kw).submission.verdict == "rejected"
    with session_scope(e.factory) as s:
        cy = repo.cycle(s, repo.county(s), YEAR)
        assert repo.body_by_code(s, repo.county(s), "guanting").id not in repo.counted(s, cy)
        rejected = s.scalars(select(Notice).where(Notice.kind == "rejected")).first()
        row = next(b for b in repo.status(s, cy)["bodies"] if b["code"] == "guanting")
    assert "以最新报送的一版为准" in rejected.body and "第1版曾审核通过" in rejected.body
    assert row["verdict"] == "rejected"
    again = submit(e, v1, **kw)  # v1's bytes sent again: a new version, and it counts
    assert again.created and again.submission.version == 3 and again.submission.verdict == "accepted"
    with session_scope(e.factory) as s:
        cy = repo.cycle(s, repo.county(s), YEAR)
        guanting = repo.body_by_code(s, repo.county(s), "guanting")
        assert repo.counted(s, cy)[guanting.id].version == 3
        row = next(b for b in repo.status(s, cy)["bodies"] if b["code"] == "guanting")
    assert row["verdict"] == "accepted" and row["versions"] == 3
    dup = submit(e, v1, **kw)  # the same bytes as the latest: nothing new
    assert not dup.created and dup.submission.version == 3
    r = _cli("submit", str(v1), "--body", "guanting")
    assert r.returncode == 0 and "第 3 版（最新一版）内容相同" in r.stdout


def test_a_report_naming_no_body_is_held_never_passed(county, tmp_path):
    spec = copy.deepcopy(_spec())
    spec.body = "某某县某某局"
    spec.title = None
    path = write_txt(spec, tmp_path / "nobody.txt")
    r = _cli("submit", str(path))
    assert r.returncode == 3, r.stdout + r.stderr
    assert "暂存待认定" in r.stdout and "通过" not in r.stdout.replace("尚未通过", "")
    r = _cli("submit", str(path), "--json")
    assert r.returncode == 3 and json.loads(r.stdout)["state"] == "held"


def test_a_closed_cycle_and_a_deactivated_body_take_nothing_and_say_so(county, tmp_path):
    report = _good(tmp_path / "r.docx")
    with session_scope(_env().factory) as s:
        repo.body_by_code(s, repo.county(s), "guanting").active = False
    r = _cli("submit", str(report), "--body", "guanting")
    assert r.returncode == 2 and "已从单位名单中停用" in r.stderr and "Traceback" not in r.stderr
    _good(county / "inbox" / "guanting-report.docx")  # the report itself names 官亭镇
    taken, aside = _intake()
    assert taken == [] and "停用" in aside[0].reason and aside[0].kept_as
    assert _subs() == []
    with session_scope(_env().factory) as s:
        repo.body_by_code(s, repo.county(s), "guanting").active = True
        repo.close_cycle(s, repo.cycle(s, repo.county(s), YEAR), "test")
    r = _cli("submit", str(report), "--body", "guanting")
    assert r.returncode == 2 and "已关闭" in r.stderr and "不再接收" in r.stderr
    assert _subs() == []
