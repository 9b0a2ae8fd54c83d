"""Opening a cycle, the daily deadline check, compiling the county's tables, the cycle's table."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from prefect import task

from db import repo
from db.models import Cycle, Notice, Submission
from db.session import session_scope
from nianbao.consolidate import headline, sum_tables
from nianbao.generate import blank_template
from nianbao.model import Report
from notifications import compose
from notifications.outbox import enqueue
from tasks import artifacts
from tasks.context import env, now_or


def _cycle(s, county_code: str, year: int) -> tuple[Any, Cycle]:
    c = repo.county_by_code(s, county_code)
    return c, repo.cycle(s, c, year)


@task(name="open-cycle-record")
def record_cycle(county_code: str, year: int, deadline: date, offsets: list[int] | None = None,
                 actor: str = "flow:open-cycle") -> int:
    """The cycle row (once: a re-run finds it)."""
    e = env()
    with session_scope(e.factory) as s:
        c = repo.county_by_code(s, county_code)
        try:
            return repo.cycle(s, c, year).id
        except repo.NotFound:
            return repo.open_cycle(s, c, year, deadline, offsets or e.settings.reminder_offsets, actor).id


@task(name="kickoff-notices")
def queue_kickoff(county_code: str, year: int) -> int:
    """A kickoff notice to every active body, with the blank 2021 template attached."""
    e = env()
    template = Path("templates") / f"{year}年度政府信息公开工作年度报告模板.docx"
    if not (e.data_dir / template).exists():
        blank_template(year, e.data_dir / template)
    queued = 0
    with session_scope(e.factory) as s:
        c, cy = _cycle(s, county_code, year)
        for b in repo.bodies(s, c, active_only=True):
            draft = compose.kickoff(c, cy, b, [template.as_posix()], e.settings.templates_dir)
            queued += len(enqueue(s, draft, sink=e.sink))
    return queued


def _latest(s, cy: Cycle, body) -> Submission | None:
    return repo.latest(s, cy, body)


@task(name="deadline-notices")
def queue_deadline_notices(county_code: str, year: int, as_of: datetime | str | None = None) -> dict[str, Any]:
    """Reminders before the deadline at the cycle's offsets; after it, overdue notices every N
    days and an escalation digest to the office. Only bodies without an accepted report."""
    e = env()
    now = now_or(as_of)
    today = e.local_today(now)
    out: dict[str, Any] = {"reminders": 0, "overdue": 0, "escalation": False}
    with session_scope(e.factory) as s:
        c, cy = _cycle(s, county_code, year)
        accepted = repo.accepted_latest(s, cy)
        active = repo.bodies(s, c, active_only=True)
        waiting = [b for b in active if b.id not in accepted]
        out["all_accepted"] = not waiting
        out["state"] = cy.state
        days_left = (cy.deadline - today).days
        if days_left >= 0:
            if days_left in (cy.reminder_offsets or []):
                for b in waiting:
                    draft = compose.reminder(c, cy, b, days_left, _latest(s, cy, b), e.settings.templates_dir)
                    out["reminders"] += bool(enqueue(s, draft, sink=e.sink))
            return out
        days_late = -days_left
        if (days_late - 1) % e.settings.overdue_every_days != 0 or not waiting:
            return out
        missing, rejected = [], []
        for b in waiting:
            latest = _latest(s, cy, b)
            (rejected if latest else missing).append(b.name)
            out["overdue"] += bool(enqueue(s, compose.overdue(c, cy, b, days_late, latest, e.settings.templates_dir),
                                           sink=e.sink))
        draft = compose.digest(c, cy, f"escalation:{today.isoformat()}",
                               f"截止日期已过{days_late}天，{len(waiting)}个单位尚未通过", missing=missing,
                               rejected=rejected, accepted_count=len(active) - len(waiting), total=len(active),
                               escalation=True, days_late=days_late, undeliverable=_undeliverable(s, cy),
                               templates_dir=e.settings.templates_dir)
        enqueue(s, draft, sink=e.sink)
        out["escalation"] = True
    return out


def _undeliverable(s, cy: Cycle) -> list[str]:
    from sqlalchemy import select

    from db.models import Body

    rows = s.execute(select(Body.name).join(Notice, Notice.body_id == Body.id).where(
        Notice.cycle_id == cy.id, Notice.status == "failed").distinct())
    return sorted(r[0] for r in rows)


@task(name="compile-cycle")
def compile_cycle(county_code: str, year: int, allow_missing: bool = False, reason: str | None = None,
                  actor: str = "flow:compile") -> dict[str, Any]:
    """Refuse (summary.coverage, naming the missing bodies) until every active body has an accepted
    report, unless the office overrides with a reason (recorded in the audit). Then sum the
    latest accepted version of each body into summary/summary.json."""
    e = env()
    with session_scope(e.factory) as s:
        c, cy = _cycle(s, county_code, year)
        accepted = repo.accepted_latest(s, cy)
        active = repo.bodies(s, c, active_only=True)
        missing = [b.name for b in active if b.id not in accepted]
        if missing and not allow_missing:
            enqueue(s, compose.summary(c, cy, f"refused:{len(accepted)}", compiled=False, bodies=[],
                                       missing=missing, templates_dir=e.settings.templates_dir), sink=e.sink)
            repo.audit(s, actor, "compile.refused", "cycle", cy.id, cycle_id=cy.id, missing=missing)
            return {"compiled": False, "missing": missing}
        if missing and not (reason or "").strip():
            raise ValueError("缺报情况下汇总必须写明理由（--reason）")
        included = [b for b in active if b.id in accepted]
        subs = [accepted[b.id] for b in included]
        tables = sum_tables([Report.from_json(x.report) for x in subs])
        summary = {"county": c.name, "year": cy.year, "tables": tables,
                   "bodies": [{"code": b.code, "name": b.name, "version": x.version, "sha256": x.sha256,
                               "table2": x.report["table2"], "table3": x.report["table3"], "table4": x.report["table4"]}
                              for b, x in zip(included, subs, strict=True)],
                   "missing": missing}
        folder = e.data_dir / "summary"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
        cy.state = "compiled"
        repo.audit(s, actor, "compile.override" if missing else "compile", "cycle", cy.id, cycle_id=cy.id,
                   bodies=len(subs), missing=missing, reason=reason or None)
        totals = headline(tables)
        enqueue(s, compose.summary(c, cy, f"compiled:{len(subs)}", compiled=True, bodies=[b.name for b in included],
                                   missing=missing, reason=reason, totals=totals, files=["summary/summary.json"],
                                   attachments=["summary/summary.json"], templates_dir=e.settings.templates_dir),
                sink=e.sink)
        return {"compiled": True, "missing": missing, "bodies": len(subs), "totals": totals,
                "file": str(folder / "summary.json")}


@task(name="cycle-table")
def publish_cycle_table(county_code: str, year: int, as_of: datetime | str | None = None) -> list[dict[str, Any]]:
    """The cycle's table artifact (cycle-<county>-<year>): one row per body."""
    e = env()
    today = e.local_today(now_or(as_of))
    with session_scope(e.factory) as s:
        c, cy = _cycle(s, county_code, year)
        st = repo.status(s, cy)
        late = max(0, (today - cy.deadline).days)
        rows = []
        for b in st["bodies"]:
            verdict = {"accepted": "通过", "rejected": "退回", None: "未报送"}[b["verdict"]]
            n = b["last_notice"]
            rows.append({"单位": b["name"], "代码": b["code"], "最新版本": b["versions"], "结论": verdict,
                         "未改错误": b["errors"], "最近通知": f"{n['kind']}（{n['status']}）" if n else "",
                         "逾期天数": late if b["verdict"] != "accepted" else 0})
    artifacts.table(artifacts.key("cycle", county_code, year), rows,
                    f"{c.name}{year}年度政府信息公开工作年度报告：各单位报送情况（截止 {cy.deadline}）")
    return rows
