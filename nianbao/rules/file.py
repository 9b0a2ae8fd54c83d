"""file.*: what the readers could not read. The reader raises a ReadError with the rule id; the
rules below are where each id is defined and documented."""

from __future__ import annotations

from collections.abc import Iterator

from nianbao.model import Finding
from nianbao.rules.registry import Context, finding, rule


def _from_reader(ctx: Context, rule_id: str) -> Iterator[Finding]:
    err = ctx.read_error
    if err is not None and err.rule == rule_id:
        yield finding(rule_id, err.message, **err.values)


@rule("file.unsupported_type", "error", needs="file")
def file_unsupported_type(ctx: Context) -> Iterator[Finding]:
    """The file is .docx, .doc, .wps, .pdf or .txt.

    Anything else (an .xls, a .zip, a picture) cannot be a report we read."""
    yield from _from_reader(ctx, "file.unsupported_type")


@rule("file.unreadable", "error", needs="file")
def file_unreadable(ctx: Context) -> Iterator[Finding]:
    """The file opens: not corrupt, encrypted, truncated, empty, or other than its extension says.

    A .docx that is really a PDF, a truncated zip, a zip bomb, a password-protected PDF, and
    a .doc/.wps where LibreOffice is not installed all land here."""
    yield from _from_reader(ctx, "file.unreadable")


@rule("file.no_text", "error", needs="file")
def file_no_text(ctx: Context) -> Iterator[Finding]:
    """The file has a text layer.

    A scanned or image-only PDF, or tables pasted as pictures, give no characters to read."""
    yield from _from_reader(ctx, "file.no_text")


@rule("file.too_large", "error", needs="file")
def file_too_large(ctx: Context) -> Iterator[Finding]:
    """The file is within the configured size and page limits (NIANBAO_MAX_FILE_MB, NIANBAO_MAX_PAGES)."""
    yield from _from_reader(ctx, "file.too_large")
