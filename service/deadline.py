"""The daily deadline check, on the PRC working-day calendar with its 调休: reminders on the cycle's
offsets before the deadline (one due on a day off goes out on the working day before); after the
deadline, overdue notices on its 1st, 1+N-th, 1+2N-th … working day and an escalation digest to
the office. Only to bodies without an accepted report; each at most once a day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import repo
from db.models import BodyRecord, Cycle, Notice
from db.session import session_scope
from notifications import compose
from notifications.outbox import enqueue
from service.env import Env


@dataclass
class DeadlineCheck:
    workday: bool
    state: str  # the cycle's
    all_accepted: bool
    reminders: int = 0  # bodies newly reminded today
    overdue: int = 0  # bodies newly sent an overdue notice today
    escalation: bool = False  # the office newly told today


def deadline_check(e: Env, county_code: str, year: int, today: date) -> DeadlineCheck:
    cal = e.settings.calendar()
    web = e.settings.web_links()  # the notices carry each body's upload-page link
    with session_scope(e.factory) as s:
        c = repo.county_by_code(s, county_code)
        cy = repo.cycle(s, c, year)
        accepted = repo.counted(s, cy)
        active = repo.bodies(s, c, active_only=True)
        waiting = [b for b in active if b.id not in accepted]
        out = DeadlineCheck(cal.is_workday(today), cy.state, not waiting)
        if not out.workday or cy.state != "open" or not waiting:
            return out
        if today <= cy.deadline:
            days_left = cal.reminder_days(cy.deadline, cy.reminder_offsets or []).get(today)
            if days_left is not None:
                last_workday = cal.on_or_before(cy.deadline) == today
                for b in waiting:
                    link = compose.LINK_MARK if web else None  # the link itself put in when sent
                    draft = compose.reminder(c, cy, b, days_left, repo.latest(s, cy, b), e.settings.templates_dir,
                                             day=today, last_workday=last_workday, link=link)
                    out.reminders += bool(enqueue(s, draft, sink=e.sink).new)
            return out
        if today not in cal.overdue_days(cy.deadline, today, e.settings.overdue_every_days)[-1:]:
            return out
        late = cal.workdays_after(cy.deadline, today)
        missing: list[str] = []
        rejected: list[str] = []
        for b in waiting:
            latest = repo.latest(s, cy, b)
            (rejected if latest else missing).append(b.name)
            link = compose.LINK_MARK if web else None
            draft = compose.overdue(c, cy, b, late, (today - cy.deadline).days, latest, e.settings.templates_dir,
                                    day=today, link=link)
            out.overdue += bool(enqueue(s, draft, sink=e.sink).new)
        draft = compose.digest(c, cy, f"escalation:{today.isoformat()}",
                               f"{len(waiting)}个单位逾期{late}个工作日仍未通过", missing=missing,
                               rejected=rejected, accepted_count=len(active) - len(waiting), total=len(active),
                               escalation=True, days_late=late, undeliverable=_undeliverable(s, cy),
                               templates_dir=e.settings.templates_dir)
        out.escalation = bool(enqueue(s, draft, sink=e.sink).new)
    return out


def _undeliverable(s: Session, cy: Cycle) -> list[str]:
    """Bodies a notice could not reach (no contact, or the channel keeps failing)."""
    rows = s.execute(select(BodyRecord.name).join(Notice, Notice.body_id == BodyRecord.id).where(
        Notice.cycle_id == cy.id, Notice.status == "failed").distinct())
    return sorted(r[0] for r in rows)
