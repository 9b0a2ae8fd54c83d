"""What the upload page and the office's page show, and the two things only the office does there
(assigning a held file, compiling): plain values, so the web layer only renders them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import repo
from db.models import AuditEvent, BodyRecord, County, Cycle, Submission
from db.session import session_scope
from nianbao.check import Result, check_file
from nianbao.labels import cycle_state, notice, source_label, verdict
from nianbao.labels import severity as severity_word
from nianbao.model import Finding, Severity
from nianbao.places import section_name
from nianbao.template import SECTION_BY_KEY, TABLE_SHORT
from nianbao.workdays import zh_date
from service.env import Env
from service.submission import Refused, Submitted, submit

FILE_GROUP = "文件与全文"  # findings of the file or the report as a whole, not of one part


@dataclass(frozen=True)
class Item:
    severity: str  # error · warning
    severity_zh: str
    message: str
    rule: str


@dataclass(frozen=True)
class Group:
    title: str
    items: list[Item]


@dataclass(frozen=True)
class Version:
    id: int
    version: int
    received: str  # on the county's clock
    source: str
    name: str
    verdict: str
    verdict_zh: str
    errors: int
    warnings: int
    counted: bool
    docx: bool  # an annotated copy can be made


@dataclass
class BodyPage:
    county: str
    year: int
    code: str
    name: str
    deadline: str
    days_left: int  # negative: days late
    cycle_open: bool
    cycle_state: str
    status: str  # one line: 已通过（第2版） · 第3版未通过，有4处错误 · 尚未报送
    passed: bool
    versions: list[Version] = field(default_factory=list)
    shown: Version | None = None  # the version whose findings are shown (the latest by default)
    groups: list[Group] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)  # what the shown version fixed of the one before
    against: int | None = None  # …of which version
    new: int = 0  # findings the shown version has that the one before had not
    remaining: int = 0


def _local(e: Env, at: datetime) -> str:
    return at.astimezone(ZoneInfo(e.settings.timezone)).strftime("%Y-%m-%d %H:%M")


def days_left(cy: Cycle, today: date) -> int:
    return (cy.deadline - today).days


def groups_of(findings: list[Finding]) -> list[Group]:
    """Errors and warnings by part of the report, in the template's order (表二–四 after their
    sections' paragraphs), the file's own problems first."""
    order: dict[str, int] = {FILE_GROUP: 0}
    for i, s in enumerate(SECTION_BY_KEY.values(), 1):
        order[section_name(s.key)] = i * 10
    for i, short in enumerate(TABLE_SHORT.values()):
        order[short] = 20 + i * 10 + 5  # 表二 after 第二部分, 表三 after 第三部分 …
    by: dict[str, list[Item]] = {}
    for f in findings:
        if f.severity == Severity.INFO:
            continue
        loc = f.location
        title = TABLE_SHORT.get(loc.table or "") or (section_name(loc.section) if loc.section in SECTION_BY_KEY
                                                     else FILE_GROUP)
        by.setdefault(title, []).append(Item(str(f.severity), severity_word(str(f.severity)), f.message, f.rule))
    for items in by.values():
        items.sort(key=lambda i: i.severity != "error")  # errors first, the check's order within
    return [Group(t, by[t]) for t in sorted(by, key=lambda t: order.get(t, 99))]


def _version(e: Env, sub: Submission, counted: Submission | None) -> Version:
    return Version(sub.id, sub.version, _local(e, sub.received_at), source_label(sub.source), sub.original_name,
                   sub.verdict, verdict(sub.verdict), sub.errors, sub.warnings,
                   counted is not None and counted.id == sub.id,
                   sub.original_name.lower().endswith(".docx") and bool(sub.stored_path))


def _findings(sub: Submission) -> list[Finding]:
    return [f.to_domain() for f in sub.findings]


def body_page(e: Env, cycle_id: int, body_id: int, today: date, version: int | None = None) -> BodyPage:
    with session_scope(e.factory) as s:
        cy = s.get_one(Cycle, cycle_id)
        c = s.get_one(County, cy.county_id)
        b = s.get_one(BodyRecord, body_id)
        subs = repo.versions(s, cy, b)
        counted = repo.counted(s, cy).get(b.id)
        last = subs[-1] if subs else None
        if counted is not None:
            status = f"已通过审核（第{counted.version}版）"
        elif last is not None:
            status = f"第{last.version}版未通过审核，有{last.errors}处错误，请修改后重新报送"
        else:
            status = "尚未报送"
        page = BodyPage(c.name, cy.year, b.code, b.name, zh_date(cy.deadline, weekday=True), days_left(cy, today),
                        cy.state == "open", cycle_state(cy.state), status, counted is not None,
                        [_version(e, v, counted) for v in reversed(subs)])
        shown = next((v for v in subs if v.version == version), None) if version else last
        if shown is None:
            return page
        page.shown = _version(e, shown, counted)
        page.groups = groups_of(_findings(shown))
        delta = shown.delta or {}
        if delta.get("against"):
            before = next((v for v in subs if v.version == delta["against"]), None)
            fixed = set(delta.get("fixed") or ())
            if before is not None:
                page.fixed = [f.message for f in before.findings
                              if f.severity != Severity.INFO and fixed & set(repo.finding_keys(f))]
            page.against, page.new, page.remaining = delta["against"], len(delta.get("new") or ()), len(
                delta.get("remaining") or ())
        return page


@dataclass(frozen=True)
class OfficeRow:
    code: str
    name: str
    versions: int
    verdict: str | None
    verdict_zh: str
    errors: int
    reasons: list[str]  # the latest version's first errors, when rejected
    last_notice: str
    late: int  # working days late (0 before the deadline or when passed)


@dataclass(frozen=True)
class HeldFile:
    id: int
    name: str
    received: str
    source: str
    named: str  # the body the report itself names, when it names one


@dataclass
class OfficePage:
    county: str
    county_code: str
    year: int
    deadline: str
    days_left: int
    cycle_state: str
    cycle_open: bool
    rows: list[OfficeRow]
    held: list[HeldFile]
    bodies: list[tuple[str, str]]  # (code, name) for the assign form
    passed: int
    rejected: int
    missing: list[str]  # names of bodies without an accepted report (coverage)
    artifact_key: str


def office_page(e: Env, cycle_id: int, today: date) -> OfficePage:
    with session_scope(e.factory) as s:
        cy = s.get_one(Cycle, cycle_id)
        c = s.get_one(County, cy.county_id)
        st = repo.status(s, cy)
        late = e.settings.calendar().workdays_after(cy.deadline, today)
        counted = repo.counted(s, cy)
        rows: list[OfficeRow] = []
        active = repo.bodies(s, c, active_only=True)
        by_code = {b.code: b for b in active}
        for r in st["bodies"]:
            reasons: list[str] = []
            if r["verdict"] == "rejected":
                last = repo.latest(s, cy, by_code[r["code"]])
                reasons = [f.message for f in (last.findings if last else []) if f.severity == Severity.ERROR][:3]
            n = r["last_notice"]
            rows.append(OfficeRow(r["code"], r["name"], r["versions"], r["verdict"], verdict(r["verdict"]), r["errors"],
                                  reasons, notice(n["kind"], n["status"]) if n else "",
                                  late if r["verdict"] != "accepted" else 0))
        held = [HeldFile(h.id, h.original_name, _local(e, h.received_at), source_label(h.source),
                         str((h.report or {}).get("body") or "")) for h in unassigned(s, cy)]
        return OfficePage(c.name, c.code, cy.year, zh_date(cy.deadline, weekday=True), days_left(cy, today),
                          cycle_state(cy.state), cy.state == "open", rows, held,
                          [(b.code, b.name) for b in active],
                          sum(1 for r in rows if r.verdict == "accepted"), sum(1 for r in rows if r.verdict == "rejected"),
                          [b.name for b in active if b.id not in counted], f"cycle-{c.code}-{cy.year}")


def unassigned(s: Session, cy: Cycle) -> list[Submission]:
    """Held files the office has not yet assigned to a body (an assigned one stays recorded, as
    it came, beside the body's version made from it)."""
    assigned = {(o or "").removeprefix("assign:") for o in s.scalars(
        select(Submission.origin).where(Submission.cycle_id == cy.id, Submission.origin.like("assign:%")))}
    return [h for h in repo.unassigned(s, cy) if str(h.id) not in assigned]


def assign_held(e: Env, cycle_id: int, held_id: int, code: str, actor: str = "office") -> Submitted:
    """A held file becomes a version of the body the office names: checked again for that body,
    received when it first came; the body is told its verdict as for any version."""
    with session_scope(e.factory) as s:
        cy = s.get_one(Cycle, cycle_id)
        c = s.get_one(County, cy.county_id)
        held = s.get(Submission, held_id)
        if held is None or held.cycle_id != cy.id or held.body_id is not None:
            raise Refused("没有这份待认定的来件（可能已被认定）。")
        earlier = repo.by_origin(s, f"assign:{held_id}")
        if earlier is not None:
            raise Refused(f"这份来件已认定为{earlier.body.name if earlier.body else '其他单位'}第{earlier.version}版，"
                          "未重复认定。")
        if not held.stored_path:
            raise Refused("这份来件超过大小限制，未保存文件，不能认定，请联系报送单位重新报送。")
        body = repo.body_by_code(s, c, code)
        path, name, source, received = e.data_dir / held.stored_path, held.original_name, held.source, held.received_at
        county, year, body_code = c.name, cy.year, body.code
    done = submit(e, path, county=county, year=year, body_code=body_code, source=source, actor=actor,
                  received_at=received, original_name=name, origin=f"assign:{held_id}")
    if done.created:
        with session_scope(e.factory) as s:
            repo.audit(s, actor, "submission.assigned", "submission", held_id, cycle_id=cycle_id,
                       body_id=done.submission.body_id, version=done.submission.version)
    return done


def practice(e: Env, cycle_id: int, body_id: int, path: Path) -> Result:
    """试检查: the same check as a submission (roster, history), nothing stored or recorded."""
    with session_scope(e.factory) as s:
        cy = s.get_one(Cycle, cycle_id)
        c = s.get_one(County, cy.county_id)
        rows = repo.bodies(s, c)
        roster = repo.to_domain(c, rows)
        b = s.get_one(BodyRecord, body_id)
        history = repo.history_for(s, cy, b, datetime.now(UTC))
        county, year, code = c.name, cy.year, b.code
    return check_file(path, year=year, county=county, roster=roster, body=roster.by_code(code), settings=e.settings,
                      history=history)


def owner_of(e: Env, submission_id: int) -> tuple[int, int | None, str] | None:
    """(cycle, body, original name) of a submission: a page shows only its own body's."""
    with session_scope(e.factory) as s:
        sub = s.get(Submission, submission_id)
        return (sub.cycle_id, sub.body_id, sub.original_name) if sub is not None else None


def body_id_of(e: Env, cycle_id: int, code: str) -> int | None:
    with session_scope(e.factory) as s:
        cy = s.get_one(Cycle, cycle_id)
        return s.scalar(select(BodyRecord.id).where(BodyRecord.county_id == cy.county_id, BodyRecord.code == code))


def stored_file(e: Env, cycle_id: int, submission_id: int) -> tuple[Path, str] | None:
    with session_scope(e.factory) as s:
        sub = s.get(Submission, submission_id)
        if sub is None or sub.cycle_id != cycle_id or not sub.stored_path:
            return None
        path = e.data_dir / sub.stored_path
        return (path, sub.original_name) if path.is_file() else None


def compiled_files(e: Env, cycle_id: int) -> list[Path]:
    """The county report's files of the cycle's last compile (as its audit record names them)."""
    with session_scope(e.factory) as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.cycle_id == cycle_id,
                                                AuditEvent.action.in_(("compile", "compile.override")))
                       .order_by(AuditEvent.id.desc())).first()
        names = list((ev.details or {}).get("files") or []) if ev is not None else []
    root = e.data_dir.resolve()
    out = [(e.data_dir / n).resolve() for n in names]
    return [p for p in out if p.is_relative_to(root) and p.is_file()]


def upload(e: Env, cycle_id: int, body_id: int, path: Path, name: str) -> Submitted:
    """A file from the body's upload page: a version of that body (the token says whose it is)."""
    with session_scope(e.factory) as s:
        cy = s.get_one(Cycle, cycle_id)
        county, year = s.get_one(County, cy.county_id).name, cy.year
        code = s.get_one(BodyRecord, body_id).code
    return submit(e, path, county=county, year=year, body_code=code, source="upload", actor="web",
                  original_name=name, origin=f"web:{uuid.uuid4()}")
