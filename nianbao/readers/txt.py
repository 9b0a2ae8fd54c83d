"""Plain text and Markdown, in the two shapes reports arrive in, with or without pipe tables.

Word-extracted: one paragraph per line; a table is a run of tab-indented lines, one cell per
line, rows separated by blank lines, cells padded with U+3000 or spaces, a cell's own line
breaks continuing on an unindented line; extractor artefacts such as "[bookmark: _GoBack]".

PDF-extracted: lines broken mid-phrase, vertical headers one character per line, a data row's
numbers on one line after its label, page numbers like "- 3 -" in between.

Either shape may carry its tables as pipe or HTML tables instead (what PDF-to-text and
PDF-to-Markdown converters write, and Markdown exports): `readers/markup.py` finds them and
strips the Markdown from the text around them; the rest goes through the shape's line logic.
A text with pipe tables whose lines are whole paragraphs is read a paragraph per line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from nianbao.document import Artifact, Document, Paragraph, Table, clean_text
from nianbao.readers import Limits, ReadError
from nianbao.readers.lines import Line, assemble, is_page_number, split_values
from nianbao.readers.markup import Placed, find_tables, is_break, line_text
from nianbao.template import flat, match_heading

_ARTIFACT = re.compile(r"\[(bookmark|comment|footnote|endnote|image|hyperlink)\s*:[^\]\n]*\]", re.IGNORECASE)


def decode(data: bytes) -> str:
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # what Chinese Windows saves as "ANSI"
    except UnicodeDecodeError as exc:
        raise ReadError("file.unreadable", "文本文件的编码无法识别（既不是 UTF-8 也不是 GBK）。请另存为 UTF-8 编码后重新提交。") from exc


_MD_EXTENSIONS = (".md", ".markdown")


def read_txt(path: Path, limits: Limits | None = None) -> Document:
    limits = limits or Limits()
    text = decode(path.read_bytes())
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    artifacts: list[Artifact] = []
    raw_lines = text.split("\n")
    lines: list[str] = []
    for no, ln in enumerate(raw_lines, 1):
        if "[" in ln:
            for m in _ARTIFACT.finditer(ln):
                artifacts.append(Artifact(m.group(1).lower(), m.group(0), line=no))
            ln = _ARTIFACT.sub("", ln)
        lines.append(ln.replace("\f", ""))  # pdftotext's page break
    if not any(ln.strip() for ln in lines):
        raise ReadError("file.no_text", "文件中没有任何文字内容。请提交包含报告正文和表格的文件。")
    is_md = path.suffix.lower() in _MD_EXTENSIONS
    placed = find_tables(lines, limits)
    lines = _without_stray_pipes(lines, placed)
    if is_md or placed or _marked_up(lines):
        lines = _without_markup(lines, placed)
    tabbed = sum(1 for ln in lines if ln.startswith("\t"))
    if tabbed >= 10:
        blocks = _word_shape(lines, placed)
        kind = "txt-word"
    elif placed and _whole_lines(_prose(lines, placed)) and not _needs_line_tables(lines, placed):
        # every line a paragraph (Markdown, or text a converter reflowed): no joining to guess
        blocks = _word_shape(["" if is_page_number(ln) else ln for ln in lines], placed)
        kind = "txt-word"
    else:
        blocks = _line_shape(lines, placed)
        kind = "txt-pdf"
    return Document(blocks, "md" if is_md else kind, artifacts)


_STRAY_PIPES = re.compile(r"^\s*[|│┃｜]+|[|│┃｜]+\s*$")


def _without_stray_pipes(lines: list[str], placed: list[Placed]) -> list[str]:
    """Outside the tables, the pipes a converter left around one cell per line ("规章 |", "|||")
    go: what is left is the cell's text for the line logic."""
    taken = bytearray(len(lines))
    for p in placed:
        taken[p.start:p.end] = b"\x01" * (p.end - p.start)
    return [_STRAY_PIPES.sub("", ln) if not taken[i] and ("|" in ln or "｜" in ln or "│" in ln or "┃" in ln) else ln
            for i, ln in enumerate(lines)]


def _marked_up(lines: list[str]) -> bool:
    """A text (saved as .txt) that is Markdown all the same: headings marked with # or **."""
    return sum(1 for ln in lines if _MD_HEADING.match(ln)) >= 2


_MD_HEADING = re.compile(r"^\s{0,3}(?:#{1,6}[^#]|\*\*[^*]+\*\*\s*$)")


def _without_markup(lines: list[str], placed: list[Placed]) -> list[str]:
    """Prose lines without Markdown marks; a break marker (---, a fence, a page marker) is no
    line. Table lines are left as they are: the tables have been read."""
    out = list(lines)
    taken = bytearray(len(lines))
    for p in placed:
        taken[p.start:p.end] = b"\x01" * (p.end - p.start)
    for i, ln in enumerate(lines):
        if not taken[i] and ln.strip():
            out[i] = "" if is_break(ln) else line_text(ln)
    return out


def _prose(lines: list[str], placed: list[Placed]) -> list[str]:
    """The lines with the tables' lines blanked."""
    out = list(lines)
    for p in placed:
        out[p.start:p.end] = [""] * (p.end - p.start)
    return out


def _line_shape(lines: list[str], placed: list[Placed]) -> list[Paragraph | Table]:
    """PDF-extracted text: the lines outside the tables go through the line logic, the tables
    standing where they were (as a PDF's ruled tables do)."""
    starts = {p.start: p for p in placed}
    kept: list[Line] = []
    tables: list[tuple[int, Table]] = []
    i = 0
    blank = page_break = False
    while i < len(lines):
        p = starts.get(i)
        if p is not None:
            tables.append((len(kept), p.table))
            i = p.end
            continue
        ln = lines[i]
        if ln.strip() and not is_page_number(ln):  # what assemble drops, dropped first: its indexes count kept lines
            kept.append(Line(ln, line=i + 1, after_blank=blank))
            blank = page_break = False
        elif ln.strip():  # a page number: the blank lines around it are the page break's, not a paragraph's end
            blank, page_break = False, True
        elif not page_break and kept:
            blank = True
        i += 1
    return assemble(kept, tables)


def _whole_lines(lines: list[str]) -> bool:
    """Each line is a whole paragraph (Word's or a converter's text), not a PDF's broken lines:
    nearly every long line ends a sentence."""
    long = [t for ln in lines if len(t := flat(ln)) >= 20 and not is_page_number(ln) and not match_heading(ln)]
    if not long:
        return True
    return sum(1 for t in long if t.endswith(_SENTENCE_ENDS)) >= 0.75 * len(long)


_SENTENCE_ENDS = tuple("。！？；：!?;:…）)”」』】》")


def _needs_line_tables(lines: list[str], placed: list[Placed]) -> bool:
    """A section 二–四 whose table is not a pipe table but lines of figures ("规章 0 0 0"): only
    the line logic rebuilds those."""
    starts = {p.start: p for p in placed}
    section: str | None = None
    with_table: set[str | None] = set()
    with_figures: set[str | None] = set()
    i = 0
    while i < len(lines):
        if i in starts:
            with_table.add(section)
            i = starts[i].end
            continue
        heading = match_heading(lines[i].strip())
        if heading:
            section = heading.section.key
        elif section in ("2", "3", "4") and split_values(lines[i])[1]:
            with_figures.add(section)
        i += 1
    return bool(with_figures - with_table)


def _word_shape(lines: list[str], placed: Sequence[Placed] = ()) -> list[Paragraph | Table]:
    starts = {p.start: p for p in placed}
    blocks: list[Paragraph | Table] = []
    rows: list[list[str | None]] = []
    row_lines: list[int | None] = []
    row: list[str | None] = []
    row_start: int | None = None
    in_table = False
    prev_was_cell = False

    def end_row() -> None:
        nonlocal row, row_start
        if row:
            rows.append(row)
            row_lines.append(row_start)
        row, row_start = [], None

    def end_table() -> None:
        nonlocal rows, row_lines, in_table
        end_row()
        if _looks_like_a_table(rows):
            blocks.append(Table(rows, line=row_lines[0], row_lines=row_lines))
        else:  # paragraphs indented with a tab, not table cells
            for r, first in zip(rows, row_lines, strict=True):
                for i, cell in enumerate(r):
                    if cell and cell.strip():
                        blocks.append(Paragraph(clean_text(cell), line=(first or 0) + i))
        rows, row_lines, in_table = [], [], False

    index = 0
    while index < len(lines):
        no, ln = index + 1, lines[index]
        index += 1
        if no - 1 in starts:  # a pipe or HTML table
            if in_table:
                end_table()
            p = starts[no - 1]
            blocks.append(p.table)
            index = p.end
            prev_was_cell = False
        elif ln.startswith("\t") and match_heading(ln):
            if in_table:
                end_table()
            blocks.append(Paragraph(clean_text(ln), line=no))
            prev_was_cell = False
        elif ln.startswith("\t"):
            in_table = True
            if row_start is None:
                row_start = no
            row.append(ln[1:])
            prev_was_cell = True
        elif not ln.strip():
            if in_table:
                end_row()
            prev_was_cell = False
        elif in_table and prev_was_cell:
            row[-1] = f"{row[-1]}\n{ln}"  # a cell's own line break
        else:
            if in_table:
                end_table()
            blocks.append(Paragraph(clean_text(ln), line=no))
            prev_was_cell = False
    if in_table:
        end_table()
    return blocks


_TABLE_WORDS = ("第二十条", "信息内容", "申请人情况", "自然人", "本年新收", "行政复议", "行政诉讼", "规章", "总计")


def _looks_like_a_table(rows: list[list[str | None]]) -> bool:
    """A run of tab-indented lines is one of the report's tables if it has figures or short
    cells in the tables' own words; otherwise it is paragraphs someone indented with a tab."""
    cells = [flat(c or "") for r in rows for c in r]
    if not any(cells):
        return False
    return any(c.isdigit() for c in cells) or any(len(c) <= 20 and w in c for c in cells for w in _TABLE_WORDS)
