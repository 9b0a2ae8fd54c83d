"""What each notice says: drafts for the outbox, rendered from the templates with the facts from
the database. The idempotency key says what a notice is about, so the same event never gives
two notices."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from db.models import BodyRecord, County, Cycle, FindingRecord, Submission
from nianbao.model import Severity
from nianbao.rules.history import local_date
from nianbao.settings import get_settings
from nianbao.workdays import zh_date as _zh_date
from notifications.outbox import OFFICE, Draft
from notifications.render import render


def zh_date(d: date | datetime, weekday: bool = False) -> str:
    """A date as the clerk writes it; a moment is first put on the county's clock."""
    if isinstance(d, datetime):
        d = local_date(d, get_settings().timezone)
    return _zh_date(d, weekday)


def office_name(county: County) -> str:
    return (county.office or {}).get("name") or f"{county.name}政务公开办"


def _base(county: County, cycle: Cycle) -> dict[str, Any]:
    cal = get_settings().calendar()
    holiday = cal.holiday_name(cycle.deadline)
    last = cal.on_or_before(cycle.deadline)
    # a deadline on a day off: say which working day is the last before it
    note = (f"（当天为{holiday or '休息日'}，截止前最后一个工作日是{zh_date(last, weekday=True)}）"
            if last != cycle.deadline else "")
    return {"county": county.name, "year": cycle.year, "deadline_zh": zh_date(cycle.deadline, weekday=True),
            "deadline_note": note, "office": office_name(county)}


def _draft(kind: str, key: str, county: County, cycle: Cycle, recipient: str, context: dict[str, Any],
           templates_dir: Path | None, **extra: Any) -> Draft:
    subject, message = render(kind, {**_base(county, cycle), **context}, templates_dir)
    return Draft(kind=kind, key=key, cycle_id=cycle.id, recipient=recipient, subject=subject, message=message, **extra)


def kickoff(county: County, cycle: Cycle, body: BodyRecord, attachments: list[str], templates_dir: Path | None = None,
            late: bool = False, link: str | None = None) -> Draft:
    """`link`: the body's upload page (service.links), when the installation serves one."""
    return _draft("kickoff", f"kickoff|cycle:{cycle.id}", county, cycle, body.code,
                  {"recipient": body.name, "attachments": [Path(a).name for a in attachments], "late": late,
                   "link": link},
                  templates_dir, body_id=body.id, attachments=list(attachments))


def _once(findings: Iterable[FindingRecord]) -> list[FindingRecord]:
    """Each problem once (the same words at the same place are one problem), in the order the
    check gives them: the worst first (catalogue order: the file, whose report, the year and the
    template, then the sections, the tables and the text)."""
    seen: dict[str, FindingRecord] = {}
    for f in findings:
        seen.setdefault(f.message, f)
    return list(seen.values())


def result(county: County, cycle: Cycle, body: BodyRecord, sub: Submission, templates_dir: Path | None = None,
           accepted_before: int | None = None) -> Draft:
    """Accepted (with any warnings) or rejected (every error with its place and how to fix it).
    `accepted_before`: the body's last accepted earlier version — a rejected one says that the
    latest version counts, so that one no longer does."""
    errors = _once(f for f in sub.findings if f.severity == Severity.ERROR)
    warnings = _once(f for f in sub.findings if f.severity == Severity.WARNING)
    kind = "accepted" if sub.verdict == "accepted" else "rejected"
    context = {"recipient": body.name, "body": body.name, "version": sub.version, "file": sub.original_name,
               "received_zh": zh_date(sub.received_at), "errors": errors, "warnings": warnings, "delta": sub.delta,
               "accepted_before": accepted_before}
    rules = list(dict.fromkeys(f.rule for f in (errors if kind == "rejected" else warnings)))
    return _draft(kind, f"{kind}|submission:{sub.id}", county, cycle, body.code, context, templates_dir,
                  body_id=body.id, submission_id=sub.id, rules=rules)


def reminder(county: County, cycle: Cycle, body: BodyRecord, days_left: int, latest: Submission | None,
             templates_dir: Path | None = None, *, day: date, last_workday: bool = False,
             link: str | None = None) -> Draft:
    """The reminder of `day` (one a day at most: offsets that land on the same working day are one)."""
    return _draft("reminder", f"reminder|cycle:{cycle.id}|{day.isoformat()}", county, cycle, body.code,
                  {"recipient": body.name, "days_left": days_left, "latest": latest, "last_workday": last_workday,
                   "link": link},
                  templates_dir, body_id=body.id)


def overdue(county: County, cycle: Cycle, body: BodyRecord, workdays_late: int, days_late: int, latest: Submission | None,
            templates_dir: Path | None = None, *, day: date, link: str | None = None) -> Draft:
    return _draft("overdue", f"overdue|cycle:{cycle.id}|{day.isoformat()}", county, cycle, body.code,
                  {"recipient": body.name, "workdays_late": workdays_late, "days_late": days_late, "latest": latest,
                   "link": link},
                  templates_dir, body_id=body.id)


def link(county: County, cycle: Cycle, body: BodyRecord, url: str, serial: int,
         templates_dir: Path | None = None) -> Draft:
    """The body's (new) upload-page link, sent on its own (`nianbao link CODE --send`, after a
    revoke); one notice per link (its serial)."""
    return _draft("link", f"link|cycle:{cycle.id}|serial:{serial}", county, cycle, body.code,
                  {"recipient": body.name, "link": url, "replaced": serial > 1}, templates_dir, body_id=body.id)


def digest(county: County, cycle: Cycle, key: str, headline: str, *, received: list[dict] | None = None,
           unassigned: list[dict] | None = None, set_aside: list[dict] | None = None, missing: list[str] | None = None,
           rejected: list[str] | None = None,
           undeliverable: list[str] | None = None, accepted_count: int = 0, total: int = 0, escalation: bool = False,
           days_late: int = 0, rules: list[str] | None = None, templates_dir: Path | None = None) -> Draft:
    context = {"recipient": office_name(county), "headline": headline, "received": received or [],
               "unassigned": unassigned or [], "set_aside": set_aside or [], "missing": missing or [],
               "rejected": rejected or [],
               "undeliverable": undeliverable or [], "accepted_count": accepted_count, "total": total,
               "escalation": escalation, "days_late": days_late}
    return _draft("digest", f"digest|cycle:{cycle.id}|{key}", county, cycle, OFFICE, context, templates_dir,
                  rules=list(rules or []))


def summary(county: County, cycle: Cycle, key: str, *, compiled: bool, bodies: list[str], missing: list[str],
            reason: str | None = None, totals: dict[str, Any] | None = None, files: list[str] | None = None,
            attachments: list[str] | None = None, templates_dir: Path | None = None) -> Draft:
    context = {"recipient": office_name(county), "compiled": compiled, "bodies": bodies, "missing": missing,
               "reason": reason or "", "totals": totals or {}, "files": files or []}
    return _draft("summary", f"summary|cycle:{cycle.id}|{key}", county, cycle, OFFICE, context, templates_dir,
                  rules=["summary.coverage"] if missing else [], attachments=list(attachments or []))


# stands for the body's upload-page link in a stored notice: the token is put in only when the
# notice is sent (service.links.fill), so no notice row, backup or dump holds a live token
LINK_MARK = "⟦本单位专用链接⟧"
MAIL_SENDER = "mail-sender"  # the recipient of a reply to a mail whose sender is no body's contact


def mail_missing(county: County, cycle: Cycle, key: str, *, body: BodyRecord | None, subject: str, links: bool,
                 problems: list[str], templates_dir: Path | None = None) -> Draft:
    """The reply to a mail that brought no report we can read: what to send, and how."""
    context = {"recipient": body.name if body else None, "subject": subject, "links": links, "problems": problems}
    return _draft("mail-missing", f"mail-missing|{key}", county, cycle, body.code if body else MAIL_SENDER, context,
                  templates_dir, body_id=body.id if body else None)


def mail_held(county: County, cycle: Cycle, sub: Submission, templates_dir: Path | None = None) -> Draft:
    """The reply to a sender who is no body's contact, for a report that names no body of the roster."""
    reasons = [f.message for f in _once(sub.findings) if f.rule.startswith("identity.")]
    context = {"file": sub.original_name, "received_zh": zh_date(sub.received_at), "reasons": reasons}
    return _draft("mail-held", f"mail-held|submission:{sub.id}", county, cycle, MAIL_SENDER, context, templates_dir,
                  submission_id=sub.id, rules=list(dict.fromkeys(f.rule for f in sub.findings
                                                                 if f.rule.startswith("identity."))))
