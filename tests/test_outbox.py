"""The outbox and the message texts, on SQLite and PostgreSQL, without Prefect."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from db import migrate, repo
from db.models import Notice
from db.session import make_engine, session_factory, session_scope
from nianbao.bodies import load_roster
from notifications.channels import Message
from notifications.outbox import Draft, deliver_due, enqueue
from notifications.render import render
from tests.conftest import ROSTER

NOW = datetime(2025, 1, 10, 1, 0, tzinfo=UTC)


class Counting:
    """A notifier that counts what it is asked to send (slowly, to widen any race)."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[Message] = []
        self.fail = fail
        self.lock = threading.Lock()

    def send(self, url, message):
        threading.Event().wait(0.05)
        with self.lock:
            self.sent.append(message)
        return "发送失败（json）" if self.fail else None


@pytest.fixture
def cycle(db_url):
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    factory = session_factory(engine)
    with session_scope(factory) as s:
        repo.import_roster(s, load_roster(ROSTER), "test")
        cy = repo.open_cycle(s, repo.county(s), 2024, date(2025, 1, 31), [14, 7, 3, 1, 0], "test")
        cycle_id = cy.id
    yield factory, cycle_id
    engine.dispose()


def _draft(cycle_id: int, key: str = "test|1") -> Draft:
    return Draft(kind="digest", key=key, cycle_id=cycle_id, recipient="county-office", subject="主题", message="正文")


def test_enqueue_is_idempotent(cycle):
    factory, cycle_id = cycle
    for _ in range(3):
        with session_scope(factory) as s:
            enqueue(s, _draft(cycle_id), sink=True)
    with session_scope(factory) as s:
        assert s.query(Notice).count() == 1


def test_two_deliverers_at_once_send_each_notice_once(cycle, tmp_path):
    factory, cycle_id = cycle
    with session_scope(factory) as s:
        for i in range(12):
            enqueue(s, _draft(cycle_id, f"test|{i}"), sink=True)
    notifier = Counting()
    threads = [threading.Thread(target=deliver_due, args=(factory, notifier, tmp_path, NOW, cycle_id))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    keys = [m.key for m in notifier.sent]
    assert len(keys) == 12 and len(set(keys)) == 12
    with session_scope(factory) as s:
        assert {n.status for n in s.query(Notice)} == {"sent"}


def test_a_failing_channel_backs_off_and_the_notice_is_kept(cycle, tmp_path):
    factory, cycle_id = cycle
    with session_scope(factory) as s:
        enqueue(s, _draft(cycle_id), sink=True)
    down = Counting(fail=True)
    waits = []
    now = NOW
    for _ in range(4):
        deliver_due(factory, down, tmp_path, now, cycle_id)
        with session_scope(factory) as s:
            n = s.query(Notice).one()
            waits.append(n.next_attempt_at.replace(tzinfo=UTC) - now)
            now = n.next_attempt_at.replace(tzinfo=UTC)
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]
    assert deliver_due(factory, down, tmp_path, now - timedelta(seconds=1), cycle_id).sent == 0  # not yet due
    up = Counting()
    assert deliver_due(factory, up, tmp_path, now, cycle_id).sent == 1
    assert deliver_due(factory, up, tmp_path, now + timedelta(days=1), cycle_id).sent == 0
    with session_scope(factory) as s:
        n = s.query(Notice).one()
        assert (n.status, n.attempts, n.last_error) == ("sent", 5, None)


def test_the_county_can_reword_a_notice(tmp_path):
    ctx = {"recipient": "官亭镇", "year": 2024, "days_left": 3, "deadline_zh": "2025年1月31日", "latest": None,
           "office": "巨鹿县政务公开办", "county": "巨鹿县", "last_workday": False, "deadline_note": ""}
    subject, body = render("reminder", ctx)
    assert subject == "【提醒】2024年度政府信息公开工作年度报告还有3天截止" and "官亭镇" in body
    (tmp_path / "reminder.txt.j2").write_text("{{ recipient }}请注意：还有{{ days_left }}天\n请尽快报送。", encoding="utf-8")
    subject, body = render("reminder", ctx, tmp_path)
    assert (subject, body) == ("官亭镇请注意：还有3天", "请尽快报送。")
    subject, _ = render("overdue", {**ctx, "workdays_late": 2, "days_late": 4}, tmp_path)  # the built-in one
    assert "逾期2个工作日" in subject
