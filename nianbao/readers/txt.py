"""Plain text, in the two shapes reports arrive in.

Word-extracted: one paragraph per line; a table is a run of tab-indented lines, one cell per
line, rows separated by blank lines, cells padded with U+3000 or spaces, a cell's own line
breaks continuing on an unindented line; extractor artefacts such as "[bookmark: _GoBack]".

PDF-extracted: lines broken mid-phrase, vertical headers one character per line, a data row's
numbers on one line after its label, page numbers like "- 3 -" in between.
"""

from __future__ import annotations

import re
from pathlib import Path

from nianbao.document import Artifact, Document, Paragraph, Table, clean_text
from nianbao.readers import Limits, ReadError
from nianbao.readers.lines import Line, assemble
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


def read_txt(path: Path, limits: Limits | None = None) -> Document:
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
        lines.append(ln)
    if not any(ln.strip() for ln in lines):
        raise ReadError("file.no_text", "文件中没有任何文字内容。请提交包含报告正文和表格的文件。")
    tabbed = sum(1 for ln in lines if ln.startswith("\t"))
    if tabbed >= 10:
        blocks = _word_shape(lines)
        kind = "txt-word"
    else:
        blocks = assemble([Line(ln, line=no) for no, ln in enumerate(lines, 1)])
        kind = "txt-pdf"
    return Document(blocks, kind, artifacts)


def _word_shape(lines: list[str]) -> list[Paragraph | Table]:
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

    for no, ln in enumerate(lines, 1):
        if ln.startswith("\t") and match_heading(ln):
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
