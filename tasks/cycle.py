"""Opening a cycle, the daily deadline check, compiling the county's tables, the cycle's table."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from prefect import task
from sqlalchemy import select

from db import repo
from db.intake import ensure_inbox
from db.models import Body, Cycle, Notice
from db.session import session_scope
from nianbao.consolidate import headline
from nianbao.county_report import Contribution, summary_json, write_county_docx, write_county_xlsx
from nianbao.generate import blank_template
from nianbao.labels import HELD, cycle_state, notice, verdict
from nianbao.model import Report
from nianbao.workdays import calendar_note, zh_date
from notifications import compose
from notifications.outbox import enqueue
from tasks import artifacts
from tasks.context import env, now_or


def _cycle(s, county_code: str, year: int) -> tuple[Any, Cycle]:
    c = repo.county_by_code(s, county_code)
    return c, repo.cycle(s, c, year)


@task(name="open-cycle-record")
def record_cycle(county_code: str, year: int, deadline: date, offsets: list[int] | None = None,
                 actor: str = "flow:open-cycle", as_of: datetime | str | None = None,
                 confirm_late: bool = False) -> dict[str, Any]:
    """The cycle row (once: a re-run finds it), and an inbox folder for every body. A deadline
    already past is refused unless confirmed: {"refused": message}."""
    e = env()
    today = e.local_today(now_or(as_of))
    with session_scope(e.factory) as s:
        c = repo.county_by_code(s, county_code)
        try:
            cy, created = repo.cycle(s, c, year), False
        except repo.NotFound:
            try:
                cy = repo.open_cycle(s, c, year, deadline, offsets or e.settings.reminder_offsets, actor,
                                     today=today, confirm_late=confirm_late)
            except repo.LateOpen as exc:
                return {"refused": str(exc)}
            created = True
        codes = [b.code for b in repo.bodies(s, c, active_only=True)]
        out = {"id": cy.id, "created": created, "late": cy.deadline < today,
               "calendar": calendar_note(e.settings.calendar(), cy.deadline, cy.reminder_offsets)}
    out["inbox"] = str(ensure_inbox(e.data_dir, codes))
    return out


@task(name="kickoff-notices")
def queue_kickoff(county_code: str, year: int, as_of: datetime | str | None = None) -> int:
    """A kickoff notice to every active body, with the blank 2021 template attached."""
    e = env()
    template = Path("templates") / f"{year}年度政府信息公开工作年度报告模板.docx"
    if not (e.data_dir / template).exists():
        blank_template(year, e.data_dir / template)
    queued = 0
    today = e.local_today(now_or(as_of))
    with session_scope(e.factory) as s:
        c, cy = _cycle(s, county_code, year)
        for b in repo.bodies(s, c, active_only=True):
            draft = compose.kickoff(c, cy, b, [template.as_posix()], e.settings.templates_dir,
                                    late=cy.deadline < today)
            queued += len(enqueue(s, draft, sink=e.sink))
    return queued


@task(name="deadline-notices")
def queue_deadline_notices(county_code: str, year: int, as_of: datetime | str | None = None) -> dict[str, Any]:
    """On working days only (the PRC calendar with its 调休): reminders on the cycle's offsets
    before the deadline — one due on a day off goes out on the working day before; after the
    deadline, overdue notices on its 1st, 1+N-th, 1+2N-th … working day and an escalation digest
    to the office. Only to bodies without an accepted report; each at most once a day."""
    e = env()
    cal = e.settings.calendar()
    today = e.local_today(now_or(as_of))
    out: dict[str, Any] = {"reminders": 0, "overdue": 0, "escalation": False, "workday": cal.is_workday(today)}
    with session_scope(e.factory) as s:
        c, cy = _cycle(s, county_code, year)
        accepted = repo.accepted_latest(s, cy)
        active = repo.bodies(s, c, active_only=True)
        waiting = [b for b in active if b.id not in accepted]
        out["all_accepted"] = not waiting
        out["state"] = cy.state
        if not out["workday"] or cy.state != "open" or not waiting:
            return out
        if today <= cy.deadline:
            days_left = cal.reminder_days(cy.deadline, cy.reminder_offsets or []).get(today)
            if days_left is not None:
                last_workday = cal.on_or_before(cy.deadline) == today
                for b in waiting:
                    draft = compose.reminder(c, cy, b, days_left, repo.latest(s, cy, b), e.settings.templates_dir,
                                             day=today, last_workday=last_workday)
                    out["reminders"] += bool(enqueue(s, draft, sink=e.sink).new)
            return out
        if today not in cal.overdue_days(cy.deadline, today, e.settings.overdue_every_days)[-1:]:
            return out
        late = cal.workdays_after(cy.deadline, today)
        missing, rejected = [], []
        for b in waiting:
            latest = repo.latest(s, cy, b)
            (rejected if latest else missing).append(b.name)
            draft = compose.overdue(c, cy, b, late, (today - cy.deadline).days, latest, e.settings.templates_dir,
                                    day=today)
            out["overdue"] += bool(enqueue(s, draft, sink=e.sink).new)
        draft = compose.digest(c, cy, f"escalation:{today.isoformat()}",
                               f"{len(waiting)}个单位逾期{late}个工作日仍未通过", missing=missing,
                               rejected=rejected, accepted_count=len(active) - len(waiting), total=len(active),
                               escalation=True, days_late=late, undeliverable=_undeliverable(s, cy),
                               templates_dir=e.settings.templates_dir)
        out["escalation"] = bool(enqueue(s, draft, sink=e.sink).new)
    return out


def _undeliverable(s, cy: Cycle) -> list[str]:
    """Bodies a notice could not reach (no contact, or the channel keeps failing)."""
    rows = s.execute(select(Body.name).join(Notice, Notice.body_id == Body.id).where(
        Notice.cycle_id == cy.id, Notice.status == "failed").distinct())
    return sorted(r[0] for r in rows)


@task(name="compile-cycle")
def compile_cycle(county_code: str, year: int, allow_missing: bool = False, reason: str | None = None,
                  actor: str = "flow:compile") -> dict[str, Any]:
    """Refuse (summary.coverage, naming the missing bodies) until every active body has an accepted
    report, unless the office overrides with a reason (recorded in the audit). Then the county's
    report from the latest accepted version of each body: .docx, .xlsx and summary.json under
    summary/<county>-<year>/, attached to the notice to the office."""
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
            return {"compiled": False, "missing": missing,
                    "message": "summary.coverage：以下单位尚无审核通过的报告，暂不能汇总：" + "、".join(missing)}
        if missing and not (reason or "").strip():
            return {"compiled": False, "missing": missing,
                    "message": "缺报情况下汇总必须写明理由（--reason，或在界面中填写 reason），理由记入审计记录。"}
        office_body = (c.office or {}).get("body")
        included = [b for b in active if b.id in accepted
                    and (e.settings.include_office_report or b.code != office_body)]
        parts = [Contribution(code=b.code, name=b.name, kind=b.kind, version=accepted[b.id].version,
                              sha256=accepted[b.id].sha256, report=Report.from_json(accepted[b.id].report),
                              warnings=tuple({"rule": f.rule, "message": f.message}
                                             for f in accepted[b.id].findings if f.severity == "warning"))
                 for b in included]
        rel = Path("summary") / f"{county_code}-{year}"
        folder = e.data_dir / rel
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{c.name}{year}年政府信息公开工作年度报告"
        summary = summary_json(c.name, cy.year, parts)
        (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
        write_county_docx(c.name, cy.year, parts, folder / f"{stem}.docx")
        write_county_xlsx(c.name, cy.year, parts, folder / f"{stem}（数据）.xlsx")
        files = [(rel / f"{stem}.docx").as_posix(), (rel / f"{stem}（数据）.xlsx").as_posix(),
                 (rel / "summary.json").as_posix()]
        cy.state = "compiled"
        repo.audit(s, actor, "compile.override" if missing else "compile", "cycle", cy.id, cycle_id=cy.id,
                   bodies=len(parts), missing=missing, reason=reason or None, files=files)
        totals = headline(summary["tables"])
        enqueue(s, compose.summary(c, cy, f"compiled:{len(parts)}:{_digest(summary)}", compiled=True,
                                   bodies=[p.name for p in parts], missing=missing, reason=reason, totals=totals,
                                   files=files, attachments=files, templates_dir=e.settings.templates_dir),
                sink=e.sink)
    artifacts.markdown(artifacts.key("compile", county_code, year), _compile_markdown(c.name, year, parts, totals,
                                                                                    missing, reason, e.data_dir, files),
                       f"{c.name}{year}年度全县汇总")
    return {"compiled": True, "missing": missing, "bodies": len(parts), "totals": totals,
            "files": [str(e.data_dir / f) for f in files], "folder": str(folder)}


def _digest(summary: dict[str, Any]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(summary["tables"], sort_keys=True).encode()).hexdigest()[:12]


def _compile_markdown(county: str, year: int, parts, totals: dict[str, Any], missing: list[str],
                      reason: str | None, data_dir: Path, files: list[str]) -> str:
    lines = [f"# {county}{year}年度政府信息公开工作年度报告（全县汇总）", "",
             f"汇总单位 {len(parts)} 个" + (f"；经批准缺报 {len(missing)} 个（{'、'.join(missing)}），理由：{reason}" if missing else "。"),
             "", "| 指标 | 全县合计 |", "|---|---|",
             f"| 本年新收政府信息公开申请 | {totals['new']} |", f"| 上年结转 | {totals['carried_over']} |",
             f"| 办理完毕（七）总计 | {totals['total']} |", f"| 结转下年度继续办理 | {totals['carried_forward']} |",
             f"| 行政复议 | {totals['review']} |", f"| 行政诉讼 | {totals['litigation']} |", "", "文件：", ""]
    lines += [f"- [{Path(f).name}]({(data_dir / f).resolve().as_uri()})" for f in files]
    lines += ["", "第五、六部分及第一部分（三）须由县政务公开办填写后方可公开（其中标有“此处填写”的位置）。"]
    return "\n".join(lines)


@task(name="cycle-table")
def publish_cycle_table(county_code: str, year: int, as_of: datetime | str | None = None) -> list[dict[str, Any]]:
    """The cycle's table artifact (cycle-<county>-<year>): one row per body."""
    e = env()
    today = e.local_today(now_or(as_of))
    with session_scope(e.factory) as s:
        c, cy = _cycle(s, county_code, year)
        st = repo.status(s, cy)
        late = e.settings.calendar().workdays_after(cy.deadline, today)  # 0 up to the deadline
        rows = []
        for b in st["bodies"]:
            n = b["last_notice"]
            # few, short columns: the UI's table must fit a laptop screen without scrolling sideways
            rows.append({"单位": b["name"], "版本": b["versions"], "结论": verdict(b["verdict"]),
                         "未改错误": b["errors"], "最近通知": notice(n["kind"], n["status"]) if n else "",
                         "逾期工作日": late if b["verdict"] != "accepted" else 0})
        for h in repo.unassigned(s, cy):  # held for the office: never shown as anyone's report
            rows.append({"单位": f"未识别单位的来件《{h.original_name}》", "版本": "", "结论": HELD,
                         "未改错误": h.errors, "最近通知": "", "逾期工作日": ""})
        state = cycle_state(cy.state)
    artifacts.table(artifacts.key("cycle", county_code, year), rows,
                    f"{c.name}{year}年度政府信息公开工作年度报告：各单位报送情况（{state}，截止"
                    f"{zh_date(cy.deadline, weekday=True)}）")
    return rows
