"""file.*: what the readers could not read. The reader raises a ReadError with the rule id; the
rules below are where each id is defined and documented."""

from __future__ import annotations

from collections.abc import Iterator

from nianbao.model import Finding, Location
from nianbao.rules.registry import Context, finding, listed_message, rule
from nianbao.template import T3_TOTAL, T3_WIDTH, TABLE_SHORT


def _from_reader(ctx: Context, rule_id: str) -> Iterator[Finding]:
    err = ctx.read_error
    if err is not None and err.rule == rule_id:
        yield finding(rule_id, err.message, **err.values)


@rule("file.unsupported_type", "error", needs="file")
def file_unsupported_type(ctx: Context) -> Iterator[Finding]:
    """The file is of a format the readers take (`nianbao.readers.SUPPORTED`): .docx, .doc, .wps,
    .pdf, .txt, and the shapes reports really arrive in — .rtf, .md, a web page (.html/.htm), a
    single-file web page (.mht/.mhtml), and scans: pictures (.jpg/.png/.tif/.bmp) and a .zip of
    page pictures, read by OCR.

    Anything else (an .xls, a .heic photo, a .zip holding no page picture) cannot be a report we read."""
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
    below NIANBAO_OCR_MIN_CONFIDENCE; or when the table's arithmetic (表三's row and column totals
    and balance, 表四's totals) fails and one of its other readings would mend it; or when the
    figure is the one place where two failing sums cross and the value both sums ask for would
    mend them (a misread total, read surely but wrongly). The finding names the cell, the reading
    and the candidates, and asks the clerk to confirm or to send the Word file."""
    if ctx.parsed is None:
        return
    floor = ctx.settings.ocr_min_confidence
    values = _values(ctx.report)
    relations = _relations()
    broken = [r for r in relations if _off(r, values) not in (0, None)]
    for key, info in ctx.ev.tables.items():
        for cell in info.cells:
            ocr = cell.source.ocr if cell.source is not None else None
            if ocr is None or not ocr.text:
                continue
            ref = _ref(cell)
            mends: list[str] = []
            if broken and ref in values:
                mine = [r for r in broken if any(x == ref for x, _ in r)]
                for other in ocr.others:  # a reading the recogniser or the common misreadings offer
                    v = _number(other)
                    if v is not None and mine and _fixed(mine, values, ref, v) >= 1:
                        mends.append(other)
                if len(mine) >= 2:  # where two broken sums cross: the value they both ask for
                    for v in {_implied(r, values, ref) for r in mine} - {None}:
                        text = f"{v:g}" if isinstance(v, float) else str(v)
                        if text not in mends and v is not None and v >= 0 and _fixed(mine, values, ref, v) >= 2:
                            mends.append(text)
            if ocr.conf >= floor and not mends:
                continue
            others = mends or list(ocr.others)
            if mends:
                why = f"与表内勾稽关系不符，若为“{'”或“'.join(mends)}”则相符"
            else:
                why = f"识别把握不足（可信度 {ocr.conf:.0%}）" + (f"，也可能是“{'”或“'.join(others[:3])}”" if others else "")
            yield finding("file.ocr_uncertain",
                          f"扫描件中识别为“{ocr.text}”，{why}。请核对盖章件后确认，或改交 Word/WPS 原文件（.docx）。",
                          Location(table=key, row=cell.row, column=cell.column, page=cell.page),
                          read=ocr.text, confidence=round(ocr.conf, 3), candidates=others[:3], mends=bool(mends))


Ref = tuple[str, str, int]  # (table, row, index): table4's row is "table4"


def _ref(cell) -> Ref:
    return (cell.table, cell.row if cell.table != "table4" else "table4", cell.col_index)


def _values(report) -> dict[Ref, float | int | None]:
    out: dict[Ref, float | int | None] = {}
    for row, vs in report.table3.items():
        for i, v in enumerate(vs):
            out[("table3", row, i)] = v
    for i, v in enumerate(report.table4):
        out[("table4", "table4", i)] = v
    return out


def _relations() -> list[list[tuple[Ref, int]]]:
    """The arithmetic rules as sums that must be 0: each term a cell and its sign."""
    from nianbao.template import T4_OUTCOMES, TABLE3_BY_KEY, TABLE3_RESULT_KEYS, TABLE4_GROUPS, t4_index

    out: list[list[tuple[Ref, int]]] = []
    for key in TABLE3_BY_KEY:  # rule 1: a row's applicants add up to its 总计
        out.append([(("table3", key, i), 1) for i in range(T3_TOTAL)] + [(("table3", key, T3_TOTAL), -1)])
    for c in range(T3_WIDTH):  # rule 2: the results add up to （七）总计; rule 3: the balance
        out.append([(("table3", k, c), 1) for k in TABLE3_RESULT_KEYS] + [(("table3", "total", c), -1)])
        out.append([(("table3", "new", c), 1), (("table3", "carried_over", c), 1), (("table3", "total", c), -1),
                    (("table3", "carried_forward", c), -1)])
    for group, _ in TABLE4_GROUPS:  # rule 4
        start = t4_index(group, "upheld")
        out.append([(("table4", "table4", start + i), 1) for i in range(T4_OUTCOMES - 1)]
                   + [(("table4", "table4", start + T4_OUTCOMES - 1), -1)])
    return out


def _off(relation, values) -> float | None:
    total = 0.0
    for ref, sign in relation:
        v = values.get(ref)
        if v is None:
            return None
        total += sign * v
    return total


def _implied(relation, values, ref: Ref) -> float | int | None:
    """The value of `ref` that makes this sum hold."""
    sign = next(s for r, s in relation if r == ref)
    rest = _off([(r, s) for r, s in relation if r != ref], values)
    if rest is None:
        return None
    v = -rest / sign
    return int(v) if float(v).is_integer() else v


def _fixed(relations, values, ref: Ref, v) -> int:
    """How many of these broken sums hold with `ref` read as `v`."""
    trial = dict(values)
    trial[ref] = v
    return sum(1 for r in relations if _off(r, trial) == 0)


def _number(text: str) -> int | float | None:
    from nianbao.document import normalize_number_text

    t = normalize_number_text(text)
    try:
        return int(t)
    except ValueError:
        try:
            return float(t)
        except ValueError:
            return None
