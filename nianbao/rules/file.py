"""file.*: what the readers could not read. The reader raises a ReadError with the rule id; the
rules below are where each id is defined and documented."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from nianbao.model import Finding, Location
from nianbao.rules.registry import Context, finding, listed_message, rule
from nianbao.template import TABLE_SHORT


def _from_reader(ctx: Context, rule_id: str) -> Iterator[Finding]:
    err = ctx.read_error
    if err is not None and err.rule == rule_id:
        yield finding(rule_id, err.message, **err.values)


@rule("file.unsupported_type", "error", needs="file")
def file_unsupported_type(ctx: Context) -> Iterator[Finding]:
    """The file is of a format the readers take (`nianbao.readers.SUPPORTED`): .docx, .doc, .wps,
    .pdf, .txt, and the shapes reports really arrive in — .rtf, .md, a web page (.html/.htm) and
    a single-file web page (.mht/.mhtml).

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
    """The file has a text layer, and its tables are tables.

    A scanned or image-only PDF, or a scan pasted into Word, gives no characters to read; a
    report whose tables cannot be found while the file holds pictures had its tables pasted as
    pictures (a screenshot or a scan of the table), and says so here instead of table.missing."""
    yield from _from_reader(ctx, "file.no_text")
    if ctx.parsed is None or not ctx.ev.images:
        return
    missing = [key for key, info in ctx.ev.tables.items() if not info.found]
    if missing:
        names = "、".join(TABLE_SHORT[k] for k in missing)
        yield finding("file.no_text",
                      f"文档中找不到可编辑的{names}，却有{ctx.ev.images}张图片：表格很可能是以截图或扫描图片的形式粘贴的，"
                      "系统无法读取图片中的数字。请在 Word 中按模板插入可编辑的表格、填写数字后重新提交（不要粘贴截图或扫描件）。",
                      Location(table=missing[0] if len(missing) == 1 else None), tables=missing, images=ctx.ev.images)


@rule("file.too_large", "error", needs="file")
def file_too_large(ctx: Context) -> Iterator[Finding]:
    """The file is within the configured size and page limits (NIANBAO_MAX_FILE_MB, NIANBAO_MAX_PAGES)."""
    yield from _from_reader(ctx, "file.too_large")


@rule("file.too_complex", "error", needs="file")
def file_too_complex(ctx: Context) -> Iterator[Finding]:
    """The file is of a sane structure, readable within the configured time and memory.

    Refused before any parser runs: a PDF with more objects than NIANBAO_MAX_PDF_OBJECTS, or a
    stream inflating past NIANBAO_MAX_PDF_STREAM_MB (all of them past NIANBAO_MAX_PDF_INFLATED_MB:
    a "PDF bomb"); a .docx with a part unzipping past NIANBAO_MAX_DOCX_PART_MB, more parts than
    NIANBAO_MAX_ZIP_ENTRIES, more relationships in a *.rels part than NIANBAO_MAX_RELATIONSHIPS,
    or more table cells than NIANBAO_MAX_TABLE_CELLS. Refused while parsing: the reader runs in a
    child process (NIANBAO_ISOLATE_READS), and running out of NIANBAO_MAX_READ_MEMORY_MB or
    NIANBAO_MAX_READ_SECONDS, or dying, lands here."""
    yield from _from_reader(ctx, "file.too_complex")


def _uncertain_message(fs: list[Finding], loc: Location) -> str:
    return listed_message(fs, loc)


@rule("file.ocr_uncertain", "error", group_message=_uncertain_message)
def file_ocr_uncertain(ctx: Context) -> Iterator[Finding]:
    """Every figure read from a scan is read surely: never a guessed figure behind a verdict.

    A scan's table cells are read by OCR (readers/scan.py), each with the lowest probability of
    its characters and the other readings its unsure digits allow (a runner-up of the recogniser,
    or the common misreadings 1/7, 0/8, 3/8, 5/6). A figure is flagged when that probability is
    below NIANBAO_OCR_MIN_CONFIDENCE, or when the table's arithmetic (表三 row and column totals and
    balance, 表四 totals) fails and one of its other readings would mend it. The finding names the
    cell, the reading and the candidates, and asks the clerk to confirm or to send the Word file."""
    if ctx.parsed is None:
        return
    floor = ctx.settings.ocr_min_confidence
    failing = _failures(ctx.report)
    for key, info in ctx.ev.tables.items():
        for cell in info.cells:
            ocr = cell.source.ocr if cell.source is not None else None
            if ocr is None or not ocr.text:
                continue
            mends = [o for o in ocr.others if failing and _failures(_with(ctx.report, cell, o)) < failing] if failing else []
            if ocr.conf >= floor and not mends:
                continue
            shown = ocr.text
            others = mends or list(ocr.others)
            if mends:
                why = f"与表内勾稽关系不符，若为“{'”或“'.join(mends)}”则相符"
            else:
                why = f"识别把握不足（可信度 {ocr.conf:.0%}）" + (f"，也可能是“{'”或“'.join(others[:3])}”" if others else "")
            yield finding("file.ocr_uncertain",
                          f"扫描件中识别为“{shown}”，{why}。请核对盖章件后确认，或改交 Word/WPS 原文件（.docx）。",
                          Location(table=key, row=cell.row, column=cell.column, page=cell.page),
                          read=shown, confidence=round(ocr.conf, 3), candidates=others[:3], mends=bool(mends))


def _failures(report) -> int:
    """How many of the arithmetic rules' checks fail on this report."""
    from nianbao.rules.tables import table3_balance, table3_results_total, table3_row_total, table4_total

    shim: Any = _Shim(report)
    return sum(sum(1 for _ in fn(shim)) for fn in (table3_row_total, table3_results_total, table3_balance, table4_total))


class _Shim:
    """What the arithmetic rules read of a Context: the report."""

    def __init__(self, report) -> None:
        self.report = report


def _with(report, cell, text: str):
    """The report with this cell read as `text` instead."""
    import copy

    from nianbao.document import normalize_number_text

    try:
        value: float | int = int(normalize_number_text(text))
    except ValueError:
        return report
    other = copy.copy(report)
    if cell.table == "table3":
        other.table3 = {k: list(v) for k, v in report.table3.items()}
        if cell.row in other.table3:
            other.table3[cell.row][cell.col_index] = value
    elif cell.table == "table4":
        other.table4 = list(report.table4)
        other.table4[cell.col_index] = value
    elif cell.table == "table2":
        other.table2 = {k: (list(v) if isinstance(v, list) else v) for k, v in report.table2.items()}
        if isinstance(other.table2.get(cell.row), list):
            other.table2[cell.row][cell.col_index] = value
        else:
            other.table2[cell.row] = value
    return other
