"""Repository functions: each takes a Session and does one thing to the cycle's memory."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.files import StoredFile
from db.models import AuditEvent, BodyRecord, County, Cycle, FindingRecord, Notice, Submission, utcnow
from nianbao import bodies as domain
from nianbao.model import Report, Severity
from nianbao.workdays import zh_date

# ---- audit ----------------------------------------------------------------------------------


def audit(session: Session, actor: str, action: str, object_type: str, object_id: int | None = None,
          cycle_id: int | None = None, body_id: int | None = None, **details: Any) -> AuditEvent:
    ev = AuditEvent(actor=actor, action=action, object_type=object_type, object_id=object_id,
                    cycle_id=cycle_id, body_id=body_id, details=details)
    session.add(ev)
    return ev


# ---- county and roster ------------------------------------------------------------------------


class NotFound(LookupError):
    pass


def county(session: Session, name: str | None = None) -> County:
    """The named county, or the only one there is."""
    if name:
        found = session.scalar(select(County).where(County.name == name))
        if found is None:
            raise NotFound(f"数据库中没有“{name}”。请先导入单位名单（nianbao roster import）。")
        return found
    counties = session.scalars(select(County).order_by(County.id)).all()
    if not counties:
        raise NotFound("数据库中还没有单位名单。请先运行 nianbao roster import 名单文件。")
    if len(counties) > 1:
        raise NotFound("数据库中有多个县，请用 --county 指明。")
    return counties[0]


def county_by_code(session: Session, code: str) -> County:
    found = session.scalar(select(County).where(County.code == code))
    if found is None:
        raise NotFound(f"数据库中没有代码为“{code}”的县。请先导入单位名单（nianbao roster import）。")
    return found


def counted(session: Session, cy: Cycle) -> dict[int, Submission]:
    """The version that counts for each body whose report counts: its latest version, when that
    version was accepted. The one rule for status, notices, the office's table, reminders and
    the county report alike — an earlier accepted version counts again only when the body sends
    it again, as a new version (README: "Which version counts")."""
    newest = (select(Submission.body_id, func.max(Submission.version).label("v"))
              .where(Submission.cycle_id == cy.id, Submission.body_id.is_not(None))
              .group_by(Submission.body_id).subquery())
    rows = session.scalars(select(Submission).join(newest, (newest.c.body_id == Submission.body_id)
                                                   & (newest.c.v == Submission.version))
                           .where(Submission.cycle_id == cy.id, Submission.verdict == "accepted"))
    return {s.body_id: s for s in rows if s.body_id is not None}


def import_roster(session: Session, roster: domain.Roster, actor: str) -> dict[str, int]:
    """The file is the roster: bodies in it are created or updated; bodies missing from it are
    made inactive (never deleted: their submissions stay)."""
    if not roster.county:
        raise ValueError("名单中缺少 county（县名）")
    c = session.scalar(select(County).where(County.name == roster.county).with_for_update())
    if c is None:
        if not roster.code:
            raise ValueError("名单中缺少 county_code（县名的拼音代码，如 julu）")
        c = County(name=roster.county, code=roster.code, parents=list(roster.parents), office=dict(roster.office))
        session.add(c)
        session.flush()
    else:
        c.parents = list(roster.parents)
        c.code = roster.code or c.code
        if roster.office:
            c.office = dict(roster.office)
    existing = {b.code: b for b in session.scalars(select(BodyRecord).where(BodyRecord.county_id == c.id))}
    created = updated = deactivated = 0
    # names are unique per county: free the names of renamed/removed bodies first
    incoming = {b.code for b in roster.bodies}
    for code, b in existing.items():
        if code not in incoming and b.active:
            b.active = False
            deactivated += 1
    for listed in roster.bodies:
        row = existing.get(listed.code)
        fields = {"name": listed.name, "kind": listed.kind, "aliases": list(listed.aliases),
                  "contacts": list(listed.contacts), "active": listed.active}
        if row is None:
            session.add(BodyRecord(county_id=c.id, code=listed.code, **fields))
            created += 1
        elif any(getattr(row, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(row, k, v)
            updated += 1
    session.flush()
    counts = {"created": created, "updated": updated, "deactivated": deactivated, "bodies": len(roster.bodies)}
    audit(session, actor, "roster.import", "county", c.id, **counts)
    return counts


def bodies(session: Session, c: County, active_only: bool = False) -> list[BodyRecord]:
    q = select(BodyRecord).where(BodyRecord.county_id == c.id).order_by(BodyRecord.id)
    if active_only:
        q = q.where(BodyRecord.active.is_(True))
    return list(session.scalars(q))


def to_domain(c: County, rows: list[BodyRecord]) -> domain.Roster:
    return domain.Roster(c.name, tuple(_domain_body(b) for b in rows), tuple(c.parents or ()), c.code,
                         dict(c.office or {}))


def _domain_body(b: BodyRecord) -> domain.Body:
    return domain.Body(code=b.code, name=b.name, kind=b.kind, aliases=tuple(b.aliases or ()),
                       contacts=tuple(b.contacts or ()), active=b.active)


def body_by_code(session: Session, c: County, code: str) -> BodyRecord:
    b = session.scalar(select(BodyRecord).where(BodyRecord.county_id == c.id, BodyRecord.code == code))
    if b is None:
        raise NotFound(f"单位代码“{code}”不在{c.name}的名单中（nianbao roster list 可查看）。")
    return b


# ---- cycles ---------------------------------------------------------------------------------


class LateOpen(ValueError):
    """Opening a cycle whose deadline has passed: every body would be overdue at once."""


def open_cycle(session: Session, c: County, year: int, deadline: date, offsets: list[int], actor: str,
               state: str = "open", today: date | None = None, confirm_late: bool = False) -> Cycle:
    """A new cycle. With `today` (the county's date), a deadline already past is refused unless
    the operator confirms it (`confirm_late`): a slip of the year would otherwise send every body
    an overdue notice at the next deadline check."""
    if session.scalar(select(Cycle).where(Cycle.county_id == c.id, Cycle.year == year)):
        raise ValueError(f"{c.name}{year}年度的报送周期已经存在。")
    if today is not None and deadline < today and not confirm_late:
        raise LateOpen(f"{c.name}{year}年度的截止日期{zh_date(deadline, weekday=True)}已经过去{(today - deadline).days}天："
                       "现在开启，所有单位会立即被视为逾期。若确为补开往年的周期，请加 --confirm-late（在界面中为 "
                       "confirm_late 选“是”）；若是演练，请用 --as-of 指定演练的时间。")
    cy = Cycle(county_id=c.id, year=year, deadline=deadline, reminder_offsets=sorted(set(offsets), reverse=True),
               state=state)
    session.add(cy)
    session.flush()
    audit(session, actor, "cycle.open", "cycle", cy.id, cycle_id=cy.id, year=year, deadline=deadline.isoformat(),
          state=state, **({"late": True} if today is not None and deadline < today else {}))
    return cy


def open_cycles(session: Session, c: County) -> list[Cycle]:
    return list(session.scalars(select(Cycle).where(Cycle.county_id == c.id, Cycle.state == "open")
                                .order_by(Cycle.year)))


def close_cycle(session: Session, cy: Cycle, actor: str) -> None:
    """No more intake or reminders for this cycle (its deployments' schedules are paused)."""
    cy.state = "closed"
    cy.closed_at = utcnow()
    audit(session, actor, "cycle.close", "cycle", cy.id, cycle_id=cy.id)


def cycle(session: Session, c: County, year: int | None = None) -> Cycle:
    """The cycle of `year`; without one, the newest open cycle, else the newest of all."""
    q = select(Cycle).where(Cycle.county_id == c.id)
    if year is not None:
        found = session.scalar(q.where(Cycle.year == year))
        if found is None:
            raise NotFound(f"{c.name}还没有{year}年度的报送周期（nianbao cycle open --year {year} --deadline …）。")
        return found
    found = session.scalar(q.where(Cycle.state == "open").order_by(Cycle.year.desc())) or session.scalar(
        q.order_by(Cycle.year.desc()))
    if found is None:
        raise NotFound(f"{c.name}还没有报送周期（nianbao cycle open --year … --deadline …）。")
    return found


def lock_row(session: Session, model, row_id: int, column: str) -> None:
    """Hold the row until the transaction ends. A no-op UPDATE (the column set to itself, so no
    onupdate fires) rather than SELECT … FOR UPDATE: on PostgreSQL it is the same row lock, and
    on SQLite, as the transaction's first statement, it takes the write lock at once, so a
    second writer waits for it instead of failing later with "database is locked"."""
    col = getattr(model, column)
    session.execute(update(model).where(model.id == row_id).values({column: col}))


# ---- submissions ----------------------------------------------------------------------------


def finding_keys(f: FindingRecord) -> list[str]:
    """What makes a finding "the same" in two versions: its rule and its place (not the wording,
    which carries the figures). A finding at many places is one problem at each of them, so that
    fixing 22 of 25 blank rows counts as 22 fixed."""
    places = f.places or [{"section": f.section, "table": f.table_key, "row": f.row_key, "column": f.column_key}]
    return ["|".join("" if p is None else str(p) for p in (f.rule, pl.get("section"), pl.get("table"), pl.get("row"),
                                                           pl.get("column"))) for pl in places]


def by_sha(session: Session, cy: Cycle, body: BodyRecord | None, sha: str) -> Submission | None:
    """The submission these bytes would duplicate: the body's latest version when it has these
    bytes (an older version's bytes sent again are a new version: the latest counts), or a held
    file of the same bytes."""
    if body is not None:
        last = latest(session, cy, body)
        return last if last is not None and last.sha256 == sha else None
    return session.scalar(select(Submission).where(Submission.cycle_id == cy.id, Submission.sha256 == sha,
                                                   Submission.body_id.is_(None)).limit(1))


def versions(session: Session, cy: Cycle, body: BodyRecord) -> list[Submission]:
    return list(session.scalars(select(Submission).where(Submission.cycle_id == cy.id, Submission.body_id == body.id)
                                .order_by(Submission.version)))


def by_origin(session: Session, origin: str | None) -> Submission | None:
    """The submission recorded for this arrival (a mail's part), if it was recorded already."""
    if origin is None:
        return None
    return session.scalar(select(Submission).where(Submission.origin == origin))


def latest(session: Session, cy: Cycle, body: BodyRecord) -> Submission | None:
    return session.scalar(select(Submission).where(Submission.cycle_id == cy.id, Submission.body_id == body.id)
                          .order_by(Submission.version.desc()).limit(1))


def record_submission(session: Session, cycle_id: int, body_id: int | None, stored: StoredFile, result,
                      source: str, received_at: datetime, actor: str,
                      verdict: str | None = None, origin: str | None = None) -> tuple[Submission, bool]:
    """Record one checked file as the next version of the body's report (or as unassigned).

    The body's row is locked first — before anything is read in this transaction — so two
    processes cannot both take the same version number, and the same bytes sent twice are found
    instead of stored again. Returns (submission, created)."""
    if body_id is not None:
        lock_row(session, BodyRecord, body_id, "updated_at")
    else:
        lock_row(session, Cycle, cycle_id, "state")  # unassigned files queue on the cycle
    cy = session.get_one(Cycle, cycle_id)
    body = session.get_one(BodyRecord, body_id) if body_id is not None else None
    existing = by_origin(session, origin) or by_sha(session, cy, body, stored.sha256)
    if existing is not None:
        return existing, False
    findings = [_finding_row(f) for f in result.findings]
    errors = sum(1 for f in findings if f.severity == Severity.ERROR)
    warnings = sum(1 for f in findings if f.severity == Severity.WARNING)
    version, delta = 0, None
    if body is not None:
        prev = latest(session, cy, body)
        version = (prev.version if prev else 0) + 1
        if prev is not None:
            before = {k for f in prev.findings if f.severity != Severity.INFO for k in finding_keys(f)}
            now = {k for f in findings if f.severity != Severity.INFO for k in finding_keys(f)}
            delta = {"against": prev.version, "fixed": sorted(before - now), "new": sorted(now - before),
                     "remaining": sorted(before & now)}
    sub = Submission(cycle_id=cy.id, body_id=body.id if body else None, version=version, source=source,
                     original_name=stored.original_name[:255], sha256=stored.sha256, size=stored.size,
                     stored_path=stored.relpath, received_at=received_at, verdict=verdict or result.verdict,
                     report=result.report.to_json() if result.report else None, errors=errors, warnings=warnings,
                     delta=delta, findings=findings, origin=origin, read_as=_read_as(result))
    session.add(sub)
    session.flush()
    audit(session, actor, "submission.record" if body else "submission.unassigned", "submission", sub.id,
          cycle_id=cy.id, body_id=body.id if body else None, version=version, verdict=sub.verdict,
          sha256=stored.sha256, source=source, file=stored.original_name)
    return sub, True


def _read_as(result) -> str | None:
    if result.parsed is not None:
        return result.parsed.evidence.kind[:16]
    return ((result.head or {}).get("kind") or None) if hasattr(result, "head") else None


def _finding_row(f) -> FindingRecord:
    loc = f.location
    return FindingRecord(rule=f.rule, severity=str(f.severity), section=loc.section, table_key=loc.table, row_key=loc.row,
                   column_key=loc.column, page=loc.page, paragraph=loc.paragraph, line=loc.line,
                   values=_jsonable(f.values), message=f.message,
                   places=[p.to_json() for p in loc.places] or None)


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


# ---- what the history rules need ---------------------------------------------------------------


def history_for(session: Session, cy: Cycle, body: BodyRecord | None, received_at: datetime,
                others: Mapping[str, Any] | None = None):
    """What the history rules need for a report of `body`. `others`: the other bodies' texts to
    compare with, by name, as the caller fixed them (an intake fixes them once for all its files,
    whichever worker records which: see service/intake_work.py); else the newest of each in the
    database now."""
    from nianbao.rules import History

    h = History(received_at=received_at, deadline=cy.deadline)
    if body is None:
        return h
    prev_cycle = session.scalar(select(Cycle).where(Cycle.county_id == cy.county_id, Cycle.year == cy.year - 1))
    if prev_cycle is not None:
        last_year = latest(session, prev_cycle, body)  # the version that counted last year
        if last_year is not None and last_year.verdict == "accepted" and last_year.report is not None:
            h.previous = Report.from_json(last_year.report)
    h.others = ({n: t for n, t in others.items() if n != body.name} if others is not None
                else newest_texts(session, cy, but=body.id))
    # the body's newest stamped scan and newest other file this cycle: scan.word_mismatch compares them
    for scan in (True, False):
        kind = Submission.read_as == "scan" if scan else func.coalesce(Submission.read_as, "") != "scan"
        row = session.scalar(select(Submission.report).where(
            Submission.cycle_id == cy.id, Submission.body_id == body.id, Submission.report.is_not(None), kind)
            .order_by(Submission.version.desc()).limit(1))
        if row is not None:
            if scan:
                h.scan = Report.from_json(row)
            else:
                h.word = Report.from_json(row)
    h.accepted_before = (session.scalar(select(func.count()).select_from(Submission).where(
        Submission.cycle_id == cy.id, Submission.body_id == body.id, Submission.verdict == "accepted")) or 0) > 0
    return h


def newest_texts(session: Session, cy: Cycle, but: int | None = None) -> dict[str, Any]:
    """The newest report of every body this cycle (but `but`), by name: only the texts compared
    (similarity.other_body), not whole reports — this runs for every file."""
    from nianbao.rules.history import Texts

    newest = (select(Submission.body_id, func.max(Submission.version).label("v"))
              .where(Submission.cycle_id == cy.id, Submission.body_id.is_not(None))
              .group_by(Submission.body_id))
    if but is not None:
        newest = newest.where(Submission.body_id != but)
    latest_v = newest.subquery()
    keys = ("1", "5")
    texts = [Submission.report["sections"][k].as_string() for k in keys]
    rows = session.execute(select(BodyRecord.name, *texts).join(Submission, Submission.body_id == BodyRecord.id)
                           .join(latest_v, (latest_v.c.body_id == Submission.body_id)
                                 & (latest_v.c.v == Submission.version))
                           .where(Submission.cycle_id == cy.id, Submission.report.is_not(None)))
    return {name: Texts({k: t or "" for k, t in zip(keys, found, strict=True)}) for name, *found in rows}


# ---- status ---------------------------------------------------------------------------------


def last_notice(session: Session, cy: Cycle, body: BodyRecord | None) -> Notice | None:
    q = select(Notice).where(Notice.cycle_id == cy.id)
    q = q.where(Notice.body_id == body.id) if body else q.where(Notice.recipient == "county-office")
    return session.scalar(q.order_by(Notice.created_at.desc(), Notice.id.desc()).limit(1))


def status(session: Session, cy: Cycle) -> dict[str, Any]:
    """The cycle's status: one line per active body (verdict null where nothing was received).

    One query whatever the number of bodies (benchmarks/status.py counts them): each body's
    count and latest version from one grouped subquery, its last notice from a window over the
    cycle's notices. Only the columns shown are read (not the report JSON)."""
    c = session.get_one(County, cy.county_id)
    per_body = (select(Submission.body_id, func.count().label("n"), func.max(Submission.version).label("v"))
                .where(Submission.cycle_id == cy.id, Submission.body_id.is_not(None))
                .group_by(Submission.body_id).subquery())
    ranked = (select(Notice.body_id, Notice.kind, Notice.status, Notice.sent_at, Notice.created_at,
                     func.row_number().over(partition_by=Notice.body_id,
                                            order_by=(Notice.created_at.desc(), Notice.id.desc())).label("rank"))
              .where(Notice.cycle_id == cy.id, Notice.body_id.is_not(None)).subquery())
    rows = session.execute(
        select(BodyRecord.code, BodyRecord.name, per_body.c.n, Submission.verdict, Submission.errors,
               Submission.warnings, ranked.c.kind, ranked.c.status, ranked.c.sent_at, ranked.c.created_at)
        .outerjoin(per_body, per_body.c.body_id == BodyRecord.id)
        .outerjoin(Submission, (Submission.cycle_id == cy.id) & (Submission.body_id == BodyRecord.id)
                   & (Submission.version == per_body.c.v))
        .outerjoin(ranked, (ranked.c.body_id == BodyRecord.id) & (ranked.c.rank == 1))
        .where(BodyRecord.county_id == c.id, BodyRecord.active.is_(True))
        .order_by(BodyRecord.id))
    out_bodies = [{
        "code": r.code,
        "name": r.name,
        "versions": r.n or 0,
        "verdict": r.verdict,
        "errors": r.errors or 0,
        "warnings": r.warnings or 0,
        "last_notice": ({"kind": r.kind, "status": r.status, "at": (r.sent_at or r.created_at).isoformat()}
                        if r.kind is not None else None),
    } for r in rows]
    return {"cycle": {"county": c.name, "year": cy.year, "deadline": cy.deadline.isoformat(), "state": cy.state},
            "bodies": out_bodies}


def unassigned(session: Session, cy: Cycle) -> list[Submission]:
    """Files held because the report names no body of the roster."""
    return list(session.scalars(select(Submission).where(Submission.cycle_id == cy.id, Submission.body_id.is_(None))
                                .order_by(Submission.received_at)))
