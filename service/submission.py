"""Submit one file: store it by content, check it against the cycle's year, county, roster and
history, record it as the body's next version (or hold it unassigned), and answer the body —
the notice queued in the recording transaction. What `nianbao submit`, the inbox and, next, the
mailbox and the upload page all do with a file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from db import repo
from db.files import store_file
from db.models import BodyRecord, County, Cycle, Submission
from db.session import session_scope
from nianbao.check import Result, check_file
from notifications import compose
from notifications.outbox import enqueue
from service.env import Env


@dataclass(frozen=True)
class Brief:
    """What a caller shows of a submission (plain values: safe to pass between processes)."""

    file: str
    code: str | None  # None: held, the report names no body of the roster
    name: str | None
    version: int
    verdict: str
    errors: int
    warnings: int
    created: bool  # False: the same bytes were already recorded for this body and cycle
    submission_id: int


@dataclass
class Submitted:
    submission: Submission  # with its findings loaded
    created: bool
    result: Result | None  # None when nothing was checked (a duplicate)
    cycle: Cycle
    body: BodyRecord | None

    @property
    def held(self) -> bool:
        return self.body is None

    def brief(self, file: str | None = None) -> Brief:
        sub = self.submission
        return Brief(file or sub.original_name, self.body.code if self.body else None,
                     self.body.name if self.body else None, sub.version, sub.verdict, sub.errors, sub.warnings,
                     self.created, sub.id)


def answer(session: Session, sub: Submission, e: Env) -> None:
    """The body is told its verdict, in the transaction that records the submission. A file that
    names no body is held; the office hears of it in the next intake's digest, with everything
    else received (one digest per intake)."""
    if sub.body_id is None:
        return
    cycle = session.get_one(Cycle, sub.cycle_id)
    county = session.get_one(County, cycle.county_id)
    body = session.get_one(BodyRecord, sub.body_id)
    enqueue(session, compose.result(county, cycle, body, sub, e.settings.templates_dir), sink=e.sink)


def submit(e: Env, path: Path, *, county: str | None = None, year: int | None = None, body_code: str | None = None,
           source: str = "cli", actor: str = "cli", received_at: datetime | None = None, accept: bool = False,
           original_name: str | None = None, notify: bool = True) -> Submitted:
    """Store, check, record, answer. `accept` records the verdict as accepted whatever the check
    says (importing a report that was accepted in an earlier year; nobody is told); the findings
    are kept all the same. Without `body_code` the report says whose it is, else it is held."""
    received_at = received_at or datetime.now(UTC)
    stored = store_file(e.data_dir, Path(path), original_name)
    with session_scope(e.factory) as s:
        c = repo.county(s, county)
        cy = repo.cycle(s, c, year)
        roster = repo.to_domain(c, repo.bodies(s, c))
        body = repo.body_by_code(s, c, body_code) if body_code else None
        if body is not None:
            dup = repo.by_sha(s, cy, body, stored.sha256)
            if dup is not None:
                dup.findings  # noqa: B018 - loaded while the session is open, for the caller
                return Submitted(dup, False, None, cy, body)
        history = repo.history_for(s, cy, body, received_at)
    file = stored.path(e.data_dir)
    domain_body = roster.by_code(body.code) if body else None
    result = check_file(file, year=cy.year, county=c.name, roster=roster, body=domain_body, settings=e.settings,
                        history=history)
    if body is None and result.report is not None:
        found = roster.find(result.report.body)  # no body named by the sender: the report says whose it is
        if found is not None:
            return submit(e, file, county=c.name, year=cy.year, body_code=found.code, source=source, actor=actor,
                          received_at=received_at, accept=accept, original_name=stored.original_name, notify=notify)
    with session_scope(e.factory) as s:
        sub, created = repo.record_submission(s, cy.id, body.id if body else None, stored, result, source,
                                              received_at, actor, verdict="accepted" if accept else None)
        if created and accept and result.verdict != "accepted":
            repo.audit(s, actor, "submission.accepted_on_import", "submission", sub.id, cycle_id=cy.id,
                       body_id=sub.body_id, checked_verdict=result.verdict)
        if created and notify and not accept:
            answer(s, sub, e)
        sub.findings  # noqa: B018 - loaded while the session is open, for the caller
    return Submitted(sub, created, result if created else None, cy, body)
