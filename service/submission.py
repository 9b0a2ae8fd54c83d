"""Submit one file: store it by content, check it against the cycle's year, county, roster and
history, record it as the body's next version (or hold it unassigned), and answer the body —
the notice queued in the recording transaction. What `nianbao submit`, the inbox and, next, the
mailbox and the upload page all do with a file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from db import repo
from db.files import StoredFile, StoreError, discard, store_file
from db.models import BodyRecord, County, Cycle, Submission
from db.session import session_scope
from nianbao.check import Preread, Result, check_file
from nianbao.labels import cycle_state
from notifications import compose
from notifications.outbox import Draft, enqueue
from service.env import Env


class Refused(Exception):
    """Not recorded, and why (Chinese, for the sender): a cycle that takes no more reports, a
    body no longer on the roster, a file that could not be stored."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient  # the same file may be taken later (a full disk, a file still written)


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

    @property
    def state(self) -> str:
        """"held" (暂存待认定: the report names no body of the roster), else the verdict."""
        return "held" if self.code is None else self.verdict


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
    draft = result_draft(session, sub, e)
    if draft is not None:
        enqueue(session, draft, sink=e.sink)


def result_draft(session: Session, sub: Submission, e: Env) -> Draft | None:
    """The body's notice of its verdict (None for a held file: no body to tell). The mail reply
    says the same."""
    if sub.body_id is None:
        return None
    cycle = session.get_one(Cycle, sub.cycle_id)
    county = session.get_one(County, cycle.county_id)
    body = session.get_one(BodyRecord, sub.body_id)
    before = [v.version for v in repo.versions(session, cycle, body) if v.version < sub.version and v.verdict == "accepted"]
    return compose.result(county, cycle, body, sub, e.settings.templates_dir,
                          accepted_before=before[-1] if before else None)


def submit(e: Env, path: Path, *, county: str | None = None, year: int | None = None, body_code: str | None = None,
           source: str = "cli", actor: str = "cli", received_at: datetime | None = None, accept: bool = False,
           original_name: str | None = None, notify: bool = True, origin: str | None = None,
           preread: Preread | None = None, others: Mapping[str, Any] | None = None) -> Submitted:
    """Store, check, record, answer. `accept` records the verdict as accepted whatever the check
    says (importing a report that was accepted in an earlier year; nobody is told); the findings
    are kept all the same. Without `body_code` the report says whose it is, else it is held.
    `origin` names the arrival (a mail's part) when it may be handled twice: a second call with the
    same origin returns what the first recorded (created False), whatever the bytes say.
    `preread`: these bytes read ahead (`nianbao.check.read_ahead`), used when they are the same.
    `others`: the other bodies' texts to compare with (`repo.history_for`), when the caller fixed them."""
    received_at = received_at or datetime.now(UTC)
    with session_scope(e.factory) as s:  # refused before anything is stored
        c = repo.county(s, county)
        cy = repo.cycle(s, c, year)
        _takes_reports(cy, accept)
        done = repo.by_origin(s, origin)
        if done is not None:
            done.findings  # noqa: B018 - loaded while the session is open, for the caller
            return Submitted(done, False, None, done.cycle, done.body)
        if body_code and not accept:  # an import brings last year's report of a body since removed, too
            _active(repo.body_by_code(s, c, body_code), cy)
    try:
        stored = store_file(e.data_dir, Path(path), original_name, keep_max=e.settings.limits().max_bytes)
    except StoreError as exc:
        raise Refused(exc.message, exc.transient) from exc
    try:
        return _record(e, path, stored, county=c.name, year=cy.year, body_code=body_code, source=source, actor=actor,
                       received_at=received_at, accept=accept, notify=notify, origin=origin, preread=preread,
                       others=others)
    except BaseException:
        discard(e.data_dir, stored)  # nothing refers to a copy whose record failed
        raise


def _takes_reports(cy: Cycle, accept: bool) -> None:
    if cy.state != "open" and not accept:
        raise Refused(f"{cy.year}年度报送周期{cycle_state(cy.state)}，不再接收报告，本次未登记。"
                      "如需更正，请与县政务公开办联系。")


def _active(body: BodyRecord, cy: Cycle) -> None:
    if not body.active:
        raise Refused(f"“{body.name}”已从单位名单中停用，不再报送{cy.year}年度报告，本次未登记。"
                      "如单位名称或隶属关系有变化，请与县政务公开办联系更新名单。")


def _record(e: Env, path: Path, stored: StoredFile, *, county: str, year: int, body_code: str | None, source: str,
            actor: str, received_at: datetime, accept: bool, notify: bool, origin: str | None = None,
            preread: Preread | None = None, others: Mapping[str, Any] | None = None) -> Submitted:
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
        history = repo.history_for(s, cy, body, received_at, others)
    # a file over the size limit is not kept: its own path is checked (the size check refuses it)
    file = stored.path(e.data_dir) if stored.kept else Path(path)
    domain_body = roster.by_code(body.code) if body else None
    result = check_file(file, year=cy.year, county=c.name, roster=roster, body=domain_body, settings=e.settings,
                        history=history,
                        preread=preread if preread is not None and preread.fits(stored.sha256, file) else None)
    if body is None and result.report is not None:
        found = roster.find(result.report.body)  # no body named by the sender: the report says whose it is
        if found is not None:
            if not accept:
                with session_scope(e.factory) as s:
                    _active(repo.body_by_code(s, c, found.code), cy)
            return _record(e, path, stored, county=c.name, year=cy.year, body_code=found.code, source=source,
                           actor=actor, received_at=received_at, accept=accept, notify=notify, origin=origin,
                           preread=preread, others=others)
    with session_scope(e.factory) as s:
        sub, created = repo.record_submission(s, cy.id, body.id if body else None, stored, result, source,
                                              received_at, actor, verdict="accepted" if accept else None,
                                              origin=origin)
        if created and accept and result.verdict != "accepted":
            repo.audit(s, actor, "submission.accepted_on_import", "submission", sub.id, cycle_id=cy.id,
                       body_id=sub.body_id, checked_verdict=result.verdict)
        if created and notify and not accept:
            answer(s, sub, e)
        sub.findings  # noqa: B018 - loaded while the session is open, for the caller
    return Submitted(sub, created, result if created else None, cy, body)
