"""A cycle's life outside the deadline check: opening it (and the kickoff notices), and the table
of where every body stands."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from db import repo
from db.session import session_scope
from nianbao.generate import blank_template
from nianbao.labels import HELD, cycle_state, notice, verdict
from nianbao.workdays import calendar_note, zh_date
from notifications import compose
from notifications.outbox import enqueue
from service.env import Env
from service.inbox import ensure_inbox


def open_years(e: Env, county_code: str) -> list[int]:
    """The report years of the county's open cycles, oldest first."""
    with session_scope(e.factory) as s:
        return [cy.year for cy in repo.open_cycles(s, repo.county_by_code(s, county_code))]


@dataclass(frozen=True)
class Opened:
    refused: str | None = None  # why the cycle was not opened (a deadline already past)
    cycle_id: int | None = None
    created: bool = False  # False: it was open already (a re-run)
    late: bool = False  # opened after its deadline, as the operator confirmed
    calendar: str | None = None  # what to know about the holiday calendar for its reminder days
    inbox: str | None = None


def open_cycle(e: Env, county_code: str, year: int, deadline: date, offsets: list[int] | None, today: date, *,
               confirm_late: bool = False, actor: str = "cli") -> Opened:
    """The cycle row (once: a re-run finds it) and an inbox folder for every body. A deadline
    already past is refused unless confirmed."""
    with session_scope(e.factory) as s:
        c = repo.county_by_code(s, county_code)
        try:
            cy, created = repo.cycle(s, c, year), False
        except repo.NotFound:
            try:
                cy = repo.open_cycle(s, c, year, deadline, offsets or e.settings.reminder_offsets, actor,
                                     today=today, confirm_late=confirm_late)
            except repo.LateOpen as exc:
                return Opened(refused=str(exc))
            created = True
        codes = [b.code for b in repo.bodies(s, c, active_only=True)]
        opened = Opened(None, cy.id, created, cy.deadline < today,
                        calendar_note(e.settings.calendar(), cy.deadline, cy.reminder_offsets))
    return replace(opened, inbox=str(ensure_inbox(e.data_dir, codes)))


def kickoff(e: Env, county_code: str, year: int, today: date, actor: str = "kickoff") -> int:
    """A kickoff notice to every active body, with the blank 2021 template attached and, where
    the installation serves the upload page, the body's link; how many rows were queued (one per
    channel)."""
    template = Path("templates") / f"{year}年度政府信息公开工作年度报告模板.docx"
    if not (e.data_dir / template).exists():
        blank_template(year, e.data_dir / template)
    queued = 0
    with session_scope(e.factory) as s:
        c = repo.county_by_code(s, county_code)
        cy = repo.cycle(s, c, year)
        for b in repo.bodies(s, c, active_only=True):
            link = compose.LINK_MARK if e.settings.web_links() else None  # the link itself put in when sent
            draft = compose.kickoff(c, cy, b, [template.as_posix()], e.settings.templates_dir,
                                    late=cy.deadline < today, link=link)
            queued += len(enqueue(s, draft, sink=e.sink))
    return queued


@dataclass(frozen=True)
class CycleTable:
    county: str
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)


def cycle_table(e: Env, county_code: str, year: int, today: date) -> CycleTable:
    """One row per body — few, short columns, so that the UI's table fits a laptop screen — and
    one per file held for the office, never shown as anyone's report."""
    with session_scope(e.factory) as s:
        c = repo.county_by_code(s, county_code)
        cy = repo.cycle(s, c, year)
        st = repo.status(s, cy)
        late = e.settings.calendar().workdays_after(cy.deadline, today)  # 0 up to the deadline
        rows = []
        for b in st["bodies"]:
            n = b["last_notice"]
            rows.append({"单位": b["name"], "版本": b["versions"], "结论": verdict(b["verdict"]),
                         "未改错误": b["errors"], "最近通知": notice(n["kind"], n["status"]) if n else "",
                         "逾期工作日": late if b["verdict"] != "accepted" else 0})
        for h in repo.unassigned(s, cy):
            rows.append({"单位": f"未识别单位的来件《{h.original_name}》", "版本": "", "结论": HELD,
                         "未改错误": h.errors, "最近通知": "", "逾期工作日": ""})
        title = (f"{c.name}{year}年度政府信息公开工作年度报告：各单位报送情况（{cycle_state(cy.state)}，截止"
                 f"{zh_date(cy.deadline, weekday=True)}）")
        return CycleTable(c.name, title, rows)
