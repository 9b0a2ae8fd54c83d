"""The clerk's own .docx with a Word comment (批注) at each finding's place, for the mail reply and
the upload page's download. (Interface; the annotation itself is nianbao.annotate.)"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from db.models import FindingRecord, Submission
from db.session import session_scope
from nianbao.annotate import annotate_docx
from nianbao.check import parse_file
from nianbao.model import Finding, Location, Severity
from nianbao.normalize import Parsed
from nianbao.readers import ReadError
from nianbao.safetext import file_component
from service.env import Env

log = logging.getLogger(__name__)


def annotated_name(original_name: str) -> str:
    """What the copy is called for the clerk: 年报.docx → 年报-批注.docx."""
    return f"{Path(original_name).stem or '年报'}-批注.docx"


def annotated_copy(e: Env, submission_id: int) -> Path | None:
    """The annotated copy of a submission's .docx (made once, kept under data_dir/annotated/), or
    None when there is nothing to annotate: not a .docx, no finding to show, or the file is gone."""
    try:
        return _copy(e, submission_id)
    except Exception:  # a convenience: the reply goes without it rather than not at all
        log.warning("annotated copy of submission %s failed", submission_id, exc_info=True)
        return None


def _copy(e: Env, submission_id: int) -> Path | None:
    with session_scope(e.factory) as s:
        sub = s.get(Submission, submission_id)
        if sub is None:
            return None
        args = (sub.id, sub.stored_path, sub.original_name, [finding_of(f) for f in sub.findings])
    return _make(e, *args)  # outside the transaction: the write lock is not held while annotating


def annotated_copy_of(e: Env, sub: Submission) -> Path | None:
    """The same, for a submission loaded in the caller's session (no second connection: on
    SQLite a second one would wait for the caller's own write lock)."""
    try:
        return _make(e, sub.id, sub.stored_path, sub.original_name, [finding_of(f) for f in sub.findings])
    except Exception:
        log.warning("annotated copy of submission %s failed", sub.id, exc_info=True)
        return None


def _make(e: Env, submission_id: int, stored: str, name: str, findings: list[Finding]) -> Path | None:
    if not stored or Path(stored).suffix.lower() != ".docx":
        return None
    src = e.data_dir / stored
    if not findings or not src.is_file():
        return None
    # under its own folder so the attachment and the download carry the clerk's name for it
    dest = e.data_dir / "annotated" / str(submission_id) / file_component(annotated_name(name))
    if dest.is_file():
        return dest
    parsed: Parsed | None
    try:
        parsed = parse_file(src, e.settings)
    except ReadError:  # no places to find: every comment goes on the first paragraph
        parsed = None
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{submission_id}-", suffix=".docx", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if annotate_docx(src, findings, parsed, tmp) is None:
            return None
        os.replace(tmp, dest)  # readers see the whole copy or none
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def finding_of(f: FindingRecord) -> Finding:
    """A stored finding back as the check gave it."""
    loc = Location(section=f.section, table=f.table_key, row=f.row_key, column=f.column_key, page=f.page,
                   paragraph=f.paragraph, line=f.line,
                   places=tuple(Location.from_json(p) for p in f.places or ()))
    return Finding(f.rule, Severity(f.severity), f.message, loc, dict(f.values or {}))
