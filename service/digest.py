"""The county office's digest of an intake: every report recorded since the last digest, and the
files held because they name no body — one notice per intake."""

from __future__ import annotations

from sqlalchemy import select

from db import repo
from db.models import AuditEvent, Submission
from db.session import session_scope
from nianbao.labels import verdict
from nianbao.model import Severity
from notifications import compose
from notifications.outbox import enqueue
from service.env import Env


def intake_digest(e: Env, county_code: str, year: int) -> int:
    """Queue the digest of everything recorded since the last one (a re-run after a crash still
    reports what the crashed run recorded); how many submissions it covers."""
    with session_scope(e.factory) as s:
        c = repo.county_by_code(s, county_code)
        cy = repo.cycle(s, c, year)
        marks = list(s.scalars(select(AuditEvent.details).where(AuditEvent.cycle_id == cy.id,
                                                               AuditEvent.action == "digest.intake")))
        since = max((m.get("up_to", 0) for m in marks), default=0)
        aside_since = max((m.get("aside_up_to", 0) for m in marks), default=0)
        new = list(s.scalars(select(Submission).where(Submission.cycle_id == cy.id, Submission.id > since,
                                                      Submission.source != "import").order_by(Submission.id)))
        asides = list(s.scalars(select(AuditEvent).where(AuditEvent.cycle_id == cy.id, AuditEvent.id > aside_since,
                                                        AuditEvent.action == "inbox.set_aside")
                                .order_by(AuditEvent.id)))
        if not new and not asides:
            return 0
        rows = repo.bodies(s, c)
        names = {b.id: b.name for b in rows}
        place = {b.id: i for i, b in enumerate(rows)}
        # in the roster's order, each body's versions in turn: not in the order of recording, which
        # differs when workers record side by side (service/intake_work.py)
        received = [{"name": names[x.body_id], "version": x.version, "verdict": x.verdict,
                     "verdict_zh": verdict(x.verdict), "errors": x.errors, "warnings": x.warnings}
                    for x in sorted(new, key=lambda x: (place.get(x.body_id or 0, -1), x.version))
                    if x.body_id is not None]
        held = [{"file": x.original_name,
                 "reasons": [f.message for f in x.findings if f.rule.startswith("identity.")] or ["报告未写明单位"]}
                for x in new if x.body_id is None]
        accepted = repo.counted(s, cy)
        active = repo.bodies(s, c, active_only=True)
        n_rejected = sum(1 for r in received if r["verdict"] == "rejected")
        headline = (f"收到{len(received)}份报告，通过{len(received) - n_rejected}份，退回{n_rejected}份" if received
                    else "")
        if held:
            headline += ("；另有" if received else "收到") + f"{len(held)}份无法确定报送单位的文件"
        if asides:
            headline += ("；" if headline else "") + f"{len(asides)}个来件已移至隔离区"
        set_aside = sorted(({"file": a.details.get("file", ""), "reason": a.details.get("reason", ""),
                             "kept_as": a.details.get("kept_as", "")} for a in asides),
                           key=lambda a: (a["file"], a["kept_as"]))
        up_to = new[-1].id if new else since
        aside_up_to = asides[-1].id if asides else aside_since
        draft = compose.digest(c, cy, f"intake:up-to:{up_to}" + (f":aside:{aside_up_to}" if asides else ""), headline,
                               received=received, unassigned=held, set_aside=set_aside,
                               accepted_count=sum(1 for b in active if b.id in accepted), total=len(active),
                               rules=sorted({f.rule for x in new for f in x.findings if f.severity == Severity.ERROR}),
                               templates_dir=e.settings.templates_dir)
        enqueue(s, draft, sink=e.sink)
        repo.audit(s, f"flow:intake:{county_code}", "digest.intake", "cycle", cy.id, cycle_id=cy.id,
                   up_to=up_to, aside_up_to=aside_up_to, submissions=len(new))
        return len(new)
