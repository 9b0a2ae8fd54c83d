"""One file in: stored by content, checked against the cycle's year, county, roster and history,
recorded as the body's next version (or held unassigned). Used by `nianbao submit` and the
intake flow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from db import repo
from db.files import store_file
from db.models import Body, Cycle, Submission
from db.session import session_scope
from nianbao.check import Result, check_file
from nianbao.settings import Settings


@dataclass
class Outcome:
    submission: Submission
    created: bool  # False: the same bytes were already recorded for this body and cycle
    result: Result | None  # None when nothing was checked (a duplicate)
    cycle: Cycle
    body: Body | None


def submit_file(factory: sessionmaker[Session], settings: Settings, path: Path, *, county: str | None = None,
                year: int | None = None, body_code: str | None = None, channel: str = "cli", actor: str = "cli",
                received_at: datetime | None = None, accept: bool = False, original_name: str | None = None,
                after_record: Callable[[Session, Submission], None] | None = None) -> Outcome:
    """Store, check, record. `accept` records the verdict as accepted whatever the check says
    (importing a report that was accepted in an earlier year); the findings are kept all the same.
    `after_record` runs inside the recording transaction for a new submission (the notices it
    queues are committed with it, or not at all)."""
    received_at = received_at or datetime.now(UTC)
    stored = store_file(settings.data_dir, Path(path), original_name)
    with session_scope(factory) as s:
        c = repo.county(s, county)
        cy = repo.cycle(s, c, year)
        roster = repo.to_domain(c, repo.bodies(s, c))
        body = repo.body_by_code(s, c, body_code) if body_code else None
        if body is not None:
            dup = repo.by_sha(s, cy, body, stored.sha256)
            if dup is not None:
                dup.findings  # noqa: B018 - loaded while the session is open, for the caller
                return Outcome(dup, False, None, cy, body)
        history = repo.history_for(s, cy, body, received_at)
    file = stored.path(settings.data_dir)
    domain_body = roster.by_code(body.code) if body else None
    result = check_file(file, year=cy.year, county=c.name, roster=roster, body=domain_body, settings=settings,
                        history=history)
    if body is None and result.report is not None:
        # no body named by the sender: the report says whose it is
        found = roster.find(result.report.body)
        if found is not None:
            return submit_file(factory, settings, file, county=c.name, year=cy.year, body_code=found.code,
                               channel=channel, actor=actor, received_at=received_at, accept=accept,
                               original_name=stored.original_name, after_record=after_record)
    with session_scope(factory) as s:
        sub, created = repo.record_submission(s, cy.id, body.id if body else None, stored, result, channel,
                                              received_at, actor, verdict="accepted" if accept else None)
        if created and accept and result.verdict != "accepted":
            repo.audit(s, actor, "submission.accepted_on_import", "submission", sub.id, cycle_id=cy.id,
                       body_id=sub.body_id, checked_verdict=result.verdict)
        if created and after_record is not None:
            after_record(s, sub)
        sub.findings  # noqa: B018 - loaded while the session is open, for the caller
    return Outcome(sub, created, result if created else None, cy, body)


def ensure_inbox(data_dir: Path, codes: list[str]) -> Path:
    """inbox/ and a folder per body: where files are dropped (the folder names the sender)."""
    root = data_dir / "inbox"
    for code in codes:
        (root / code).mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    return root
