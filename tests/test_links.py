"""The upload page's secret links: `nianbao link` as the office types it (SQLite in --dir), and the
notices that carry them."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from db import repo
from db.models import AccessToken, AuditEvent, Base, Notice
from db.session import session_scope
from nianbao.bodies import load_roster
from nianbao.settings import Settings
from notifications.compose import LINK_MARK
from service import links
from service.env import Env, env
from tests.conftest import ROSTER

PUBLIC = "https://nianbao.example.gov.cn/"
DEADLINE = date.today() + timedelta(days=60)  # the links are issued on the real clock: keep the cycle current
YEAR = DEADLINE.year - 1


def nianbao(*args: str, data_dir: Path, public: bool = True, **extra: str) -> subprocess.CompletedProcess:
    run_env = {k: v for k, v in os.environ.items() if k != "NIANBAO_PUBLIC_URL"}
    if public:
        run_env["NIANBAO_PUBLIC_URL"] = PUBLIC
    run_env.update(extra)
    return subprocess.run([sys.executable, "-m", "cli", "link", *args, "--dir", str(data_dir)], capture_output=True,
                          text=True, timeout=120, env=run_env)


def make_office(data: Path, state: str = "open", **settings) -> Env:
    """The example county's roster with the cycle of YEAR, straight through the database layer."""
    e = env(Settings(data_dir=data, **settings))
    with session_scope(e.factory) as s:
        repo.import_roster(s, load_roster(ROSTER), "test")
        repo.open_cycle(s, repo.county(s), YEAR, DEADLINE, [14, 7, 3, 1, 0], "test", state=state)
    return e


@pytest.fixture(scope="module")
def office(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("links") / "data"
    make_office(data)
    return data


def _url(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1, r.stdout  # the link alone on stdout: other tools read it
    return lines[0]


def _token(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_a_link_printed_twice_is_the_same(office):
    first = _url(nianbao("guanting", data_dir=office))
    assert first.startswith(PUBLIC + "b/") and len(_token(first)) >= 32
    assert _url(nianbao("guanting", data_dir=office)) == first
    access = links.resolve(env(Settings(data_dir=office)), _token(first))
    assert access is not None and not access.office and access.year == YEAR
    with session_scope(env(Settings(data_dir=office)).factory) as s:
        assert s.scalar(select(AccessToken.body_id).where(AccessToken.id == access.token_id)) == access.body_id


def test_revoke_gives_a_new_link_and_the_old_one_opens_nothing(office):
    e = env(Settings(data_dir=office))
    old = _url(nianbao("wanghuzhai", data_dir=office))
    r = nianbao("wanghuzhai", "--revoke", data_dir=office)
    assert r.returncode == 0 and "1 个链接" in r.stdout, r.stderr
    assert links.resolve(e, _token(old)) is None
    new = _url(nianbao("wanghuzhai", data_dir=office))
    assert new != old and links.resolve(e, _token(new)) is not None
    assert links.resolve(e, _token(old)) is None  # a new link does not bring the old one back


def test_the_office_link_is_its_own(office):
    body = _url(nianbao("guanting", data_dir=office))
    off = _url(nianbao("--office", data_dir=office))
    assert off.startswith(PUBLIC + "o/") and _token(off) != _token(body)
    access = links.resolve(env(Settings(data_dir=office)), _token(off))
    assert access is not None and access.office
    assert links.resolve(env(Settings(data_dir=office)), "x" + _token(off)[1:]) is None


def test_only_the_hash_of_a_token_is_kept(office):
    tokens = [_token(_url(nianbao(*args, data_dir=office))) for args in (("guanting",), ("--office",))]
    revoked = _token(_url(nianbao("zhangwangtuan", data_dir=office)))
    assert nianbao("zhangwangtuan", "--revoke", data_dir=office).returncode == 0
    tokens += [revoked, _token(_url(nianbao("zhangwangtuan", data_dir=office)))]
    e = env(Settings(data_dir=office))
    with session_scope(e.factory) as s:
        hashes = set(s.scalars(select(AccessToken.token_hash)))
        audit = [json.dumps(a.details, ensure_ascii=False) for a in s.scalars(select(AuditEvent))]
        rows = [str(v) for table in Base.metadata.sorted_tables for row in s.execute(table.select()) for v in row]
    assert {hashlib.sha256(t.encode()).hexdigest() for t in tokens} <= hashes
    assert any("link.issued" in a or "serial" in a for a in audit)
    for t in tokens:
        assert not any(t in v for v in rows), "a token in a database column"
        # nor anywhere in the data directory's files: the SQLite file, its journal, free pages
        for f in office.rglob("*"):
            assert not f.is_file() or t.encode() not in f.read_bytes(), f


def test_unknown_body_or_no_open_cycle_is_one_chinese_line(office, tmp_path):
    r = nianbao("nosuchbody", data_dir=office)
    assert r.returncode == 1 and "nosuchbody" in r.stderr and "名单" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    closed = tmp_path / "closed"
    make_office(closed, state="closed")
    r = nianbao("guanting", data_dir=closed)
    assert r.returncode == 1 and "没有进行中的报送周期" in r.stderr and "Traceback" not in r.stderr
    r = nianbao("guanting", "--year", str(YEAR), data_dir=closed)
    assert r.returncode == 1 and "已关闭" in r.stderr and r.stdout == ""
    r = nianbao("guanting", "--office", data_dir=office)
    assert r.returncode == 2 and "二者选一" in r.stderr


def test_send_queues_one_link_notice(tmp_path):
    data, sink = tmp_path / "data", tmp_path / "sink"
    make_office(data)
    e = env(Settings(data_dir=data))
    unset = nianbao("guanting", "--send", data_dir=data, public=False, NIANBAO_NOTICE_SINK=str(sink))
    assert unset.returncode == 1 and "NIANBAO_PUBLIC_URL" in unset.stderr  # a link to this machine helps no clerk
    first = _url(nianbao("guanting", "--send", data_dir=data, NIANBAO_NOTICE_SINK=str(sink)))
    again = nianbao("guanting", "--send", data_dir=data, NIANBAO_NOTICE_SINK=str(sink))
    assert _url(again) == first and "未重复发送" in again.stderr
    with session_scope(e.factory) as s:
        sent = list(s.scalars(select(Notice).where(Notice.kind == "link")))
    # the stored notice holds the link's mark, the message sent holds the link
    assert len(sent) == 1 and sent[0].status == "sent" and first not in sent[0].body and LINK_MARK in sent[0].body
    assert any(first in f.read_text(encoding="utf-8") for f in sink.glob("*.json"))
    assert sent[0].subject == f"【链接】{YEAR}年度政府信息公开工作年度报告报送链接"
    assert "原来的链接不能再打开" not in sent[0].body
    r = nianbao("guanting", "--revoke", "--send", data_dir=data, NIANBAO_NOTICE_SINK=str(sink))
    assert r.returncode == 0 and "1 个链接" in r.stdout, r.stderr
    new = r.stdout.splitlines()[-1]  # the revoke said, then the new link
    assert _url(nianbao("guanting", data_dir=data)) == new
    with session_scope(e.factory) as s:
        sent = list(s.scalars(select(Notice).where(Notice.kind == "link").order_by(Notice.id)))
    assert len(sent) == 2 and new != first and LINK_MARK in sent[1].body and "原来的链接不能再打开" in sent[1].body
    assert any(new in f.read_text(encoding="utf-8") for f in sink.glob("*.json"))  # it went out


def _kickoff_notices(tmp_path: Path, monkeypatch, public: bool) -> tuple[Env, list[Notice]]:
    from service.cycle import kickoff
    from service.deadline import deadline_check

    if public:
        monkeypatch.setenv("NIANBAO_PUBLIC_URL", PUBLIC)  # from the environment, as an installation sets it
    else:
        monkeypatch.delenv("NIANBAO_PUBLIC_URL", raising=False)
    e = make_office(tmp_path / "data", notice_sink=tmp_path / "sink")
    assert e.settings.web_links() is public  # what was set survives service.env's cache
    kickoff(e, "julu", YEAR, DEADLINE - timedelta(days=40))
    cal = e.settings.calendar()
    remind = min(cal.reminder_days(DEADLINE, [14, 7, 3, 1, 0]))
    assert deadline_check(e, "julu", YEAR, remind).reminders
    late = cal.overdue_days(DEADLINE, DEADLINE + timedelta(days=10), 3)[0]
    assert deadline_check(e, "julu", YEAR, late).overdue
    with session_scope(e.factory) as s:
        notices = list(s.scalars(select(Notice).where(Notice.kind.in_(["kickoff", "reminder", "overdue"]))))
        s.expunge_all()
    assert {n.kind for n in notices} == {"kickoff", "reminder", "overdue"}
    return e, notices


def _sent(sink: Path) -> list[dict]:
    return [json.loads(f.read_text(encoding="utf-8")) for f in sorted(sink.glob("*.json"))]


def test_kickoff_reminder_and_overdue_carry_the_link(tmp_path, monkeypatch):
    from service.delivery import deliver

    e, notices = _kickoff_notices(tmp_path, monkeypatch, public=True)
    # stored, each holds the mark: the token goes in only as the notice is sent
    assert all(LINK_MARK in n.body and "/b/" not in n.body for n in notices)
    assert deliver(e, "julu", YEAR, datetime.now(UTC)).sent
    url = links.issue(e, "guanting").url
    assert url.startswith(PUBLIC + "b/")
    sent = _sent(tmp_path / "sink")
    mine = [m for m in sent if m["to"] == "guanting" and m["kind"] in ("kickoff", "reminder", "overdue")]
    assert len(mine) == 3 and all(url in m["message"] and "请勿转发" in m["message"] for m in mine)
    other = next(m for m in sent if m["to"] == "wanghuzhai" and m["kind"] == "kickoff")
    assert url not in other["message"] and PUBLIC + "b/" in other["message"]  # each body its own
    token = url.rsplit("/", 1)[1]
    with session_scope(e.factory) as s:
        rows = [str(v) for table in Base.metadata.sorted_tables for row in s.execute(table.select()) for v in row]
    assert not any(token in v for v in rows)  # sent, and still in no row of the database


def test_a_link_revoked_after_the_notice_was_queued_is_never_sent(tmp_path, monkeypatch):
    from service.delivery import deliver

    e, notices = _kickoff_notices(tmp_path, monkeypatch, public=True)
    old = links.issue(e, "guanting").url
    assert links.revoke(e, "guanting") == 1
    assert deliver(e, "julu", YEAR, datetime.now(UTC)).sent
    new = links.issue(e, "guanting").url
    mine = [m["message"] for m in _sent(tmp_path / "sink") if m["to"] == "guanting"]
    assert mine and all(new in m and old not in m for m in mine)


def test_no_link_without_a_public_address(tmp_path, monkeypatch):
    e, notices = _kickoff_notices(tmp_path, monkeypatch, public=False)
    assert not any("/b/" in n.body or "专用链接" in n.body for n in notices)
    with session_scope(e.factory) as s:
        assert s.scalar(select(AccessToken.id)) is None  # nothing issued either
