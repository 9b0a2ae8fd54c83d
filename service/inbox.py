"""The inbox folder: `inbox/<body code>/` for a body's files, `inbox/` itself when the sender is not
known (the report says whose it is, else it is held). Each file taken is submitted and moved to
`inbox/.done/<code>/`, so the next intake does not see it again."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from db import repo
from db.session import session_scope
from nianbao.labels import cycle_state
from service.env import Env
from service.submission import Submitted, submit

DONE = ".done"  # processed files move here: the next run does not see them again


@dataclass(frozen=True)
class InboxFile:
    path: str
    code: str | None  # the body its folder names; None at the root or in a folder that is no body's
    name: str


@dataclass(frozen=True)
class InboxScan:
    files: list[InboxFile] = field(default_factory=list)
    skipped: str | None = None  # why this cycle takes nothing from the inbox


def ensure_inbox(data_dir: Path, codes: list[str]) -> Path:
    """inbox/ and a folder per body: where files are dropped (the folder names the sender)."""
    root = data_dir / "inbox"
    for code in codes:
        (root / code).mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    return root


def scan(e: Env, county_code: str, year: int) -> InboxScan:
    """Every file waiting in the inbox. The inbox belongs to the county's newest open cycle: a
    compiled or closed cycle takes nothing, nor does an older one still open (its late reports
    come in with `nianbao submit --year`)."""
    root = e.data_dir / "inbox"
    with session_scope(e.factory) as s:
        c = repo.county_by_code(s, county_code)
        cy = repo.cycle(s, c, year)
        if cy.state != "open":
            return InboxScan(skipped=f"{year}年度报送周期{cycle_state(cy.state)}，不再收件。")
        newest = repo.cycle(s, c)
        if newest.year != year:
            return InboxScan(skipped=f"收件目录中的文件由{newest.year}年度的周期接收；{year}年度的补报请用 "
                                     f"nianbao submit --year {year}。")
        codes = {b.code for b in repo.bodies(s, c, active_only=True)}
    ensure_inbox(e.data_dir, sorted(codes))  # a body added to the roster since gets its folder
    found = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if not p.is_file() or rel.parts[0] == DONE or any(part.startswith((".", "~$")) for part in rel.parts):
            continue
        code = rel.parts[0] if len(rel.parts) > 1 and rel.parts[0] in codes else None
        found.append(InboxFile(str(p), code, p.name))
    return InboxScan(found)


def take(e: Env, item: InboxFile, county_code: str, year: int, received_at: datetime) -> Submitted:
    """Submit one inbox file, then move it out of the inbox. Killed halfway, a re-run finds the
    same bytes already recorded: no second submission, no second notice."""
    src = Path(item.path)
    with session_scope(e.factory) as s:
        county = repo.county_by_code(s, county_code).name
    done = submit(e, src, county=county, year=year, body_code=item.code, source="inbox",
                  actor=f"flow:intake:{county_code}", received_at=received_at)
    _move_done(e.data_dir / "inbox", src, done.body.code if done.body else "_unassigned")
    return done


def _move_done(root: Path, src: Path, code: str) -> None:
    dest_dir = root / DONE / code
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / src.name
    n = 1
    while dest.exists():  # never overwrite what a body sent earlier under the same name
        dest = dest_dir / f"{src.stem}.{n}{src.suffix}"
        n += 1
    shutil.move(str(src), dest)
