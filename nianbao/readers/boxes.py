"""Text drawn in a box is not a table.

Clerks put a part's heading and text in a one-cell table for its border, make the heading the
first merged row of the part's table, or frame the whole part; pdfplumber takes a frame drawn
around text as a table. Left alone, the heading sits in a table row, the part is lost
(sections.missing) and its text with it. Every reader's document goes through `unbox` before
the normaliser, which then sees what the unboxed file would have given:

- a table that is all text (each row one text, or a narrow table of running prose and headings
  with no figure in it) becomes its paragraphs, a cell's line breaks separating them;
- in a data table, a row whose one text is a part's heading becomes a paragraph (the table is cut
  in two around it when it is in the middle), and so do rows of text — running prose, or a
  sentence — above the first data row or below the last (a frame around the heading, its text
  and the table; in a PDF, a boxed paragraph drawn right under a table joins its grid).

The report's own tables stay whole: their rows have several cells, or figures, or cells left
empty for figures (the blank template's "四、结转下年度继续办理" row is a label and seven empty
cells, not a text); no template label is a heading (`match_heading`), prose or a sentence (none
has a full stop), so a table cut by a page break after "第二十条第（八）项" keeps that row.
The PDF reader asks `data_runs` too, at the reader, where the boxed text can still be read as lines.
"""

from __future__ import annotations

import dataclasses
import re

from nianbao.document import Document, Paragraph, Source, Table, clean_text
from nianbao.readers.lines import LAYOUT
from nianbao.template import flat, match_heading

_VALUE = re.compile(r"[-－+]?\d[\d,，]*(?:[.．]\d+)?%?|[-—–/／－]+|无")
_SENTENCE = re.compile(r"[。！？；!?;]")
_CLOSERS = "）)”’」』】》 \u3000"
# a heading is a short line; longer text starting like one is a sentence (match_heading decides
# on the line; this only bounds how much of a wrapped cell is tried as one heading)
_HEADING_MAX_CHARS = 40
# a narrow table (a label column beside the text) can be a box; the report's tables are 4–15 wide
_BOX_MAX_WIDTH = 3


def _texts(row: list[str | None]) -> list[str]:
    """The row's distinct non-empty cell texts, in order (a merged cell repeated counts once)."""
    seen: dict[str, str] = {}
    for cell in row:
        if cell is not None:
            key = flat(cell)
            if key and key not in seen:
                seen[key] = cell
    return list(seen.values())


def is_heading(text: str) -> bool:
    """The cell's text starts with a part's heading: on its first line, or wrapped over lines."""
    first = next((ln for ln in text.split("\n") if ln.strip()), "")
    if match_heading(first):
        return True
    whole = flat(text)
    return len(whole) <= _HEADING_MAX_CHARS and match_heading(whole) is not None


def is_prose(text: str) -> bool:
    """Running text, not a label: long and with a sentence's punctuation (no template label has it)."""
    return len(flat(text)) > LAYOUT.prose_min_chars and _SENTENCE.search(text) is not None


def is_sentence(text: str) -> bool:
    """Text that ends as a sentence does (…。, …。）): a paragraph, never a table's label."""
    return _SENTENCE.search(flat(text).rstrip(_CLOSERS)[-1:]) is not None


def _kind(row: list[str | None]) -> str:
    """"empty", "heading", "prose" (the row's one text is that, or a sentence), "lone" (one short
    text and no empty cell beside it: a merged row) or "data"."""
    texts = _texts(row)
    if not texts:
        return "empty"
    if len(texts) > 1:
        return "data"
    if is_heading(texts[0]):
        return "heading"
    if is_prose(texts[0]) or is_sentence(texts[0]):
        return "prose"
    empty_cells = sum(1 for c in row if c is not None and not flat(c))
    return "lone" if empty_cells == 0 else "data"


def figure_row(row: list[str | None]) -> bool:
    """A row with a figure, or with cells left empty for figures: a row of one of the tables."""
    return any(c is not None and (not flat(c) or _VALUE.fullmatch(flat(c))) for c in row)


def is_box(rows: list[list[str | None]]) -> bool:
    """The whole table is text drawn in a box: every row one text with nothing beside it, or a
    narrow table of prose or headings without a single figure."""
    kinds = [_kind(r) for r in rows]
    if all(k == "empty" for k in kinds):
        return False  # an empty grid is (part of) a blank table, not text
    if all(k != "data" for k in kinds):
        return True
    width = max((sum(1 for c in r if c is not None) for r in rows), default=0)
    cells = [c for r in rows for c in r if c is not None and flat(c)]
    return (width <= _BOX_MAX_WIDTH and not any(_VALUE.fullmatch(flat(c)) for c in cells)
            and any(is_heading(c) or is_prose(c) or is_sentence(c) for c in cells))


def data_runs(rows: list[list[str | None]]) -> list[tuple[int, int]]:
    """The ranges [start, end) of rows that are the table's own; the rows outside them are text in
    a box (headings anywhere, prose above the first data row or below the last) or the empty rows
    of the box's margin next to them. [(0, len(rows))] when nothing is text; [] when all is."""
    n = len(rows)
    if n == 0 or is_box(rows):
        return []
    kinds = [_kind(r) for r in rows]
    text = [k == "heading" for k in kinds]
    for order in (range(n), range(n - 1, -1, -1)):  # from the top down, then from the bottom up
        last = -1  # the last text row before the first data row, counted in this order
        for pos, i in enumerate(order):
            if kinds[i] not in ("heading", "prose", "empty"):
                break
            if kinds[i] != "empty":
                last = pos
        for i in order[: last + 1]:
            text[i] = True
    if not any(text):
        return [(0, n)]
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for i in range(n + 1):
        if i < n and not text[i]:
            start = i if start is None else start
        elif start is not None:
            runs.append((start, i))
            start = None
    trimmed = []
    for a, b in runs:  # the box's margin: empty rows where the run meets the text taken out
        while a < b and a > 0 and kinds[a] == "empty":
            a += 1
        while b > a and b < n and kinds[b - 1] == "empty":
            b -= 1
        if a < b:
            trimmed.append((a, b))
    return trimmed


def _cell_paragraphs(text: str, wrapped: bool) -> list[str]:
    """A cell's paragraphs: its lines, or, where lines are only where a PDF line wrapped, the lines
    joined, a heading line standing alone."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    if not wrapped:
        return [t for t in (clean_text(ln) for ln in lines) if t]
    out: list[str] = []
    run: list[str] = []
    for ln in lines:
        if match_heading(ln):
            out.extend([clean_text(" ".join(run)), clean_text(ln)] if run else [clean_text(ln)])
            run = []
        else:
            run.append(ln)
    if run:
        out.append(clean_text(" ".join(run)))
    return [t for t in out if t]


def _paragraphs(t: Table, r: int, wrapped: bool) -> list[Paragraph]:
    """Row r of a table as paragraphs, each with the source of the cell it came from."""
    out: list[Paragraph] = []
    seen: set[str] = set()
    for c, cell in enumerate(t.rows[r]):
        if cell is None or not flat(cell) or flat(cell) in seen:
            continue
        seen.add(flat(cell))
        source = t.cell_source(r, c) or t.source
        for text in _cell_paragraphs(cell, wrapped):
            out.append(Paragraph(text, t.row_page(r), t.row_line(r), source))
    return out


def _piece(t: Table, a: int, b: int) -> Table:
    """Rows a..b of a table, with their pages, lines and cell sources."""
    if (a, b) == (0, len(t.rows)):
        return t
    src = t.source
    if src is not None and src.box is not None and t.cell_sources:  # a PDF table: the box of these rows
        boxes = [s.box for row in t.cell_sources[a:b] for s in row if s is not None and s.box is not None]
        if boxes:
            src = Source(page=t.row_page(a), box=(min(x[0] for x in boxes), min(x[1] for x in boxes),
                                                  max(x[2] for x in boxes), max(x[3] for x in boxes)))
    return Table(t.rows[a:b], t.row_page(a), t.row_line(a), t.row_pages[a:b], t.row_lines[a:b], src,
                 t.cell_sources[a:b])


def unbox(doc: Document) -> Document:
    """The document with text in boxes taken out of its tables (see the module's docstring)."""
    wrapped = doc.kind == "pdf"  # a PDF cell's line breaks are where its lines wrapped
    blocks: list[Paragraph | Table] = []
    changed = False
    for b in doc.blocks:
        if not isinstance(b, Table) or b.from_lines:  # rebuilt from lines: assemble has done this
            blocks.append(b)
            continue
        runs = data_runs(b.rows)
        if runs == [(0, len(b.rows))]:
            blocks.append(b)
            continue
        changed = True
        r = 0
        for a, z in [*runs, (len(b.rows), len(b.rows))]:
            for i in range(r, a):
                blocks.extend(_paragraphs(b, i, wrapped))
            if a < z:
                blocks.append(_piece(b, a, z))
            r = z
    return dataclasses.replace(doc, blocks=blocks) if changed else doc
