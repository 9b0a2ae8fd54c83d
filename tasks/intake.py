"""Intake: files from the inbox (inbox/<body code>/…, or the inbox root when the sender is not
known) are stored, checked, recorded and routed — one task run per file."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import task
from sqlalchemy import select

from db import repo
from db.intake import ensure_inbox, submit_file
from db.models import AuditEvent, Body, County, Cycle, Submission
from db.session import session_scope
from nianbao.labels import HELD, cycle_state, severity, verdict
from notifications import compose
from notifications.outbox import enqueue
from tasks import artifacts
from tasks.context import env, now_or

DONE = ".done"  # processed files move here: the next run does not see them again


def inbox_dir() -> Path:
    return env().data_dir / "inbox"


@task(name="scan-inbox")
def scan_inbox(county_code: str, year: int) -> dict[str, Any]:
    """Every file waiting in the inbox, with the body its folder names (None at the root or in a
    folder that is not a body's code). The inbox belongs to the county's newest open cycle: a
    compiled or closed cycle takes nothing, nor does an older one still open (its late reports
    come in with `nianbao submit --year`). {"files": [...], "skipped": why or None}"""
    e = env()
    root = inbox_dir()
    with session_scope(e.factory) as s:
        c = repo.county_by_code(s, county_code)
        cy = repo.cycle(s, c, year)
        if cy.state != "open":
            return {"files": [], "skipped": f"{year}年度报送周期{cycle_state(cy.state)}，不再收件。"}
        newest = repo.cycle(s, c)
        if newest.year != year:
            return {"files": [], "skipped": f"收件目录中的文件由{newest.year}年度的周期接收；{year}年度的补报请用 "
                                            f"nianbao submit --year {year}。"}
        codes = {b.code for b in repo.bodies(s, c, active_only=True)}
    ensure_inbox(e.data_dir, sorted(codes))  # a body added to the roster since gets its folder
    found = []
    for p in sorted(root.rglob("*")) if root.exists() else []:
        rel = p.relative_to(root)
        if not p.is_file() or rel.parts[0] == DONE or any(part.startswith((".", "~$")) for part in rel.parts):
            continue
        code = rel.parts[0] if len(rel.parts) > 1 and rel.parts[0] in codes else None
        found.append({"path": str(p), "code": code, "name": p.name})
    return {"files": found, "skipped": None}


def routing(templates_dir, sink: bool):
    """What happens in the recording transaction: the body is told its verdict. A file that names
    no body of the roster is held; the office hears of it in the next intake's digest, with
    everything else received (one digest per intake). (Used by intake and by `nianbao submit`.)"""

    def after_record(s, sub: Submission) -> None:
        if sub.body_id is None:
            return
        cycle = s.get(Cycle, sub.cycle_id)
        county = s.get(County, cycle.county_id)
        body = s.get(Body, sub.body_id)
        enqueue(s, compose.result(county, cycle, body, sub, templates_dir), sink=sink)

    return after_record


@task(name="check-file", task_run_name="check-{label}")
def process_file(path: str, code: str | None, county_code: str, year: int, label: str = "file",
                 as_of: datetime | str | None = None) -> dict[str, Any]:
    """Store, check, record, queue the notices — then move the file out of the inbox. Killed
    halfway, a re-run finds the same bytes already recorded: no second submission, no second notice."""
    e = env()
    src = Path(path)
    with session_scope(e.factory) as s:
        c = repo.county_by_code(s, county_code)
    o = submit_file(e.factory, e.settings, src, county=c.name, year=year, body_code=code, channel="inbox",
                    actor=f"flow:intake:{county_code}", received_at=now_or(as_of),
                    after_record=routing(e.settings.templates_dir, e.sink))
    _move_done(src, o.body.code if o.body else "_unassigned")
    sub = o.submission
    out = {"file": src.name, "code": o.body.code if o.body else None, "name": o.body.name if o.body else None,
           "version": sub.version, "verdict": sub.verdict, "errors": sub.errors, "warnings": sub.warnings,
           "created": o.created, "submission_id": sub.id}
    if o.created:
        who = o.body.code if o.body else "unassigned"
        title = (f"{o.body.name} 第{sub.version}版审核结果" if o.body
                 else f"未识别单位的来件《{sub.original_name}》（暂存，待县政务公开办认定）")
        artifacts.markdown(artifacts.key("submission", county_code, year, who,
                                         f"v{sub.version}" if o.body else sub.id), _markdown(o.body, sub), title)
    return out


def _move_done(src: Path, code: str) -> None:
    dest_dir = inbox_dir() / DONE / code
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / src.name
    n = 1
    while dest.exists():  # never overwrite what a body sent earlier under the same name
        dest = dest_dir / f"{src.stem}.{n}{src.suffix}"
        n += 1
    shutil.move(str(src), dest)


def _markdown(body: Body | None, sub: Submission) -> str:
    """One list item per finding — place, then what is wrong — so nothing runs off the page."""
    if body is None:
        head = f"# 未识别单位的来件 · {HELD}"
        intro = [f"文件《{sub.original_name}》没有写明（或写错了）报送单位，已暂存，不计入任何单位的报送。"
                 "县政务公开办核实后可请该单位按规定方式重新报送。", ""]
    else:
        head = f"# {body.name} · 第{sub.version}版 · {verdict(sub.verdict)}"
        intro = []
    lines = [head, "", *intro,
             f"文件：{sub.original_name}（SHA-256 {sub.sha256[:12]}…）；错误 {sub.errors} 处，提醒 {sub.warnings} 处", ""]
    if sub.delta:
        lines += [f"与第{sub.delta['against']}版相比：已修正 {len(sub.delta['fixed'])}，新出现 {len(sub.delta['new'])}，"
                  f"仍存在 {len(sub.delta['remaining'])}", ""]
    for sev in ("error", "warning", "info"):
        found = [f for f in sub.findings if f.severity == sev]
        if found:
            lines += [f"## {severity(sev)}（{len(found)}）", ""]
            lines += [f"{i}. {f.message}（`{f.rule}`）" for i, f in enumerate(found, 1)]
            lines.append("")
    return "\n".join(lines)


@task(name="office-digest")
def queue_office_digest(county_code: str, year: int) -> int:
    """One digest to the county office of everything recorded since the last one — the reports
    and the files held because they name no body (a re-run after a crash still reports what the
    crashed run recorded)."""
    e = env()
    with session_scope(e.factory) as s:
        c = repo.county_by_code(s, county_code)
        cy = repo.cycle(s, c, year)
        marks = s.scalars(select(AuditEvent.details).where(AuditEvent.cycle_id == cy.id,
                                                          AuditEvent.action == "digest.intake"))
        since = max((m.get("up_to", 0) for m in marks), default=0)
        new = list(s.scalars(select(Submission).where(Submission.cycle_id == cy.id, Submission.id > since,
                                                      Submission.channel != "import").order_by(Submission.id)))
        if not new:
            return 0
        names = {b.id: b.name for b in repo.bodies(s, c)}
        received = [{"name": names[x.body_id], "version": x.version, "verdict": x.verdict,
                     "verdict_zh": verdict(x.verdict), "errors": x.errors,
                     "warnings": x.warnings} for x in new if x.body_id is not None]
        held = [{"file": x.original_name,
                 "reasons": [f.message for f in x.findings if f.rule.startswith("identity.")] or ["报告未写明单位"]}
                for x in new if x.body_id is None]
        accepted = repo.accepted_latest(s, cy)
        active = repo.bodies(s, c, active_only=True)
        n_rejected = sum(1 for r in received if r["verdict"] == "rejected")
        headline = (f"收到{len(received)}份报告，通过{len(received) - n_rejected}份，退回{n_rejected}份" if received
                    else "")
        if held:
            headline += ("；另有" if received else "收到") + f"{len(held)}份无法确定报送单位的文件"
        draft = compose.digest(c, cy, f"intake:up-to:{new[-1].id}", headline, received=received, unassigned=held,
                               accepted_count=sum(1 for b in active if b.id in accepted), total=len(active),
                               rules=sorted({f.rule for x in new for f in x.findings if f.severity == "error"}),
                               templates_dir=e.settings.templates_dir)
        enqueue(s, draft, sink=e.sink)
        repo.audit(s, f"flow:intake:{county_code}", "digest.intake", "cycle", cy.id, cycle_id=cy.id,
                   up_to=new[-1].id, submissions=len(new))
        return len(new)
