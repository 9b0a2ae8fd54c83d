"""Markdown in text files: pipe tables, HTML tables, and the marks around paragraph text.

Reports arrive as the output of PDF-to-text and PDF-to-Markdown converters, or exported as
Markdown. Their tables are pipe tables (`| （一）予以公开 | 3 | 0 | … |`, a `|---|` line under the
header or none, outer pipes or none, merged cells repeated or left empty, a converter's own
`| 项目 | 数据1 | … |` header, a table cut in two by a page number) or HTML `<table>`s with
row/colspans; headings are `## 二、…` or `**一、…**`; text carries emphasis, `\\*` escapes,
entities and `<br>`.

Why not a Markdown library: what converters emit is often not Markdown a parser accepts (no
delimiter row, ragged rows, cells a GFM parser would drop), every row must keep its line number,
and CommonMark's flanking rules leave `**（一）主动公开。**通过…` untouched — a closing `**` after
Chinese punctuation and before a Chinese character closes nothing, so the stars would stay in
the text. HTML tables do go through lxml.html.

Tables come out as the docx reader gives them: rows of cell texts with line breaks as "\\n",
None at a position a merged cell covers where the text shows it (a label repeated across or
down, the empty rest of a merged figure, a short row's missing end), each row with its line.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

from nianbao.document import Source, Table
from nianbao.readers import Limits, ReadError
from nianbao.readers.lines import is_page_number

# ---- inline marks --------------------------------------------------------------------------

_ESCAPABLE = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: any ASCII punctuation may be escaped
_PROTECT = 0xF0000  # escaped characters wait in a private-use plane while the marks are removed
_PROTECTED = re.compile("[\U000f0000-\U000f007f]")
# every pattern here is linear on any line: no part can run over the character that starts the
# next attempt (a line of a million "[" or "<!--" would otherwise take hours)
_IMAGE = re.compile(r"!\[[^\[\]\n]*\]\([^()\n]*\)")
_LINK = re.compile(r"\[([^\[\]\n]*)\]\([^()\n]*\)")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^<>\s]*)>", re.IGNORECASE)
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
# paired marks only, their content without the mark's own character: linear on any input
# (a run of a million stars matches nothing), and "***" placeholders stay as they are
_STRONG_STAR = re.compile(r"\*\*(?=[^\s*])([^*\n]+)(?<=[^\s*])\*\*")
_STRONG_UNDER = re.compile(r"(?<![0-9A-Za-z])__(?=[^\s_])([^_\n]+)(?<=[^\s_])__(?![0-9A-Za-z])")
_EM_STAR = re.compile(r"(?<!\*)\*(?=[^\s*])([^*\n]+)(?<=[^\s*])\*(?!\*)")
_EM_UNDER = re.compile(r"(?<![0-9A-Za-z_])_(?=[^\s_])([^_\n]+)(?<=[^\s_])_(?![0-9A-Za-z_])")
_STRIKE = re.compile(r"~~(?=\S)([^~\n]+)(?<=\S)~~")
_CODE = re.compile(r"(?<!`)(`+)([^`\n]+)\1(?!`)")


def _protect(m: re.Match[str]) -> str:
    return chr(_PROTECT + ord(m.group(1)))


def _restore(m: re.Match[str]) -> str:
    return chr(ord(m.group(0)) - _PROTECT)


_MARKS = re.compile(r"[\\*_~`\[<&]")


def inline(text: str) -> str:
    """Text without Markdown's inline marks, HTML tags and entities; `<br>` becomes "\\n"."""
    if not _MARKS.search(text):
        return text  # the common case, and every figure cell: nothing to do
    text = _ESCAPABLE.sub(_protect, text)
    text = _IMAGE.sub("", text)  # a picture (a seal, a photo) has no words for the report
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _CODE.sub(r"\2", text)
    for rx in (_STRONG_STAR, _STRONG_UNDER, _EM_STAR, _EM_UNDER, _STRIKE):
        text = rx.sub(r"\1", text)
    if "<" in text:
        text = _without_comments(text)
        text = _BR.sub("\n", text)
        if _TAG.search(text):
            text = _html_text(text)
        else:
            text = html.unescape(text)
    elif "&" in text:
        text = html.unescape(text)
    return _PROTECTED.sub(_restore, text)


def _without_comments(text: str) -> str:
    out: list[str] = []
    pos = 0
    while (start := text.find("<!--", pos)) >= 0 and (end := text.find("-->", start + 4)) >= 0:
        out.append(text[pos:start])
        pos = end + 3
    out.append(text[pos:])
    return "".join(out)


def _html_text(fragment: str) -> str:
    """The text of an HTML fragment (lxml decodes the entities)."""
    import lxml.html

    try:
        return lxml.html.fragment_fromstring(fragment, create_parent="div").text_content()
    except Exception:  # noqa: BLE001 - an unparsable fragment: drop what looks like tags
        return html.unescape(_TAG.sub("", fragment))


# ---- line marks ----------------------------------------------------------------------------

_ATX = re.compile(r"^[ \t]{0,3}#{1,6}(?=[^#])")
_FENCE = re.compile(r"^[ \t]{0,3}(?:`{3,}|~{3,})[^`]*$")
_QUOTE = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)+")
_BULLET = re.compile(r"^[ \t]{0,3}[-*+•·][ \t]+(?=\S)")
_MARKER_PAGE = re.compile(r"^\s*\{\d+\}-{3,}\s*$")  # marker's paginated output: "{3}------"


def is_break(text: str) -> bool:
    """A line that only marks a break: a thematic break, a setext underline, a code fence, an
    HTML comment, a converter's page marker."""
    s = text.strip()
    if not s:
        return False
    marks = set(s) - {" ", "\t"}
    if len(marks) == 1 and marks <= set("-*_=") and len(s.replace(" ", "").replace("\t", "")) >= 3:
        return True  # a thematic break (--- *** ___) or a setext underline (===)
    return bool(_FENCE.match(s) or _MARKER_PAGE.match(s) or (s.startswith("<!--") and s.endswith("-->")))


def line_text(text: str) -> str:
    """One line of prose without its Markdown: heading marks, a quote's ">", a bullet, inline
    marks. A page number ("- 3 -") is left alone for the line logic to drop."""
    if is_page_number(text):
        return text
    lead = text[: len(text) - len(text.lstrip("\t"))]  # Word-extracted text indents table cells with a tab
    body = text[len(lead):]
    m = _ATX.match(body)
    if m:
        body = body[m.end():].strip()
        closed = body.rstrip("#")  # "## 二、… ##": the closing marks go, "C#" stays
        if closed != body and (not closed or closed[-1] in " \t"):
            body = closed
    body = _QUOTE.sub("", body)
    body = _BULLET.sub("", body)
    body = body.removesuffix("\\").rstrip(" ")  # a hard line break's backslash or trailing spaces
    return lead + inline(body).replace("\n", "")


# ---- pipe tables ---------------------------------------------------------------------------

_DELIMS = "|│┃｜"  # ASCII, box drawing (text tools that draw the grid), full width (Chinese tools)
_SPLIT = re.compile(r"(?<!\\)[|│┃｜]")
_RULE_JOINTS = "|+┼├┤┌┐└┘┬┴╋┣┫┳┻│┃╪╞╡╔╗╚╝╠╣╦╩╬╤╧╟╢｜"
_RULE_SPLIT = re.compile(f"[{re.escape(_RULE_JOINTS)}]")
# a ruling cell: three dashes or more (so that a row of "—" figures is never taken for a ruling)
_RULE_CELL = re.compile(r"^:?[-=─━┄┈═－]{3,}:?$")
# a converter's own column names, never the report's: 数据1 … 数据6, 列1, Column1, Unnamed: 0 …
_GENERIC_NUMBERED = re.compile(
    r"^(?:数据|数值|列|栏|栏目|字段|项|col(?:umn)?|field|unnamed:?)[\s_\-]*\d{1,3}$|^第\s*\d{1,3}\s*列$", re.IGNORECASE)
_GENERIC_WORDS = frozenset({"", "项目", "名称", "指标", "内容", "类别", "序号", "类型"})
_FIGURE = re.compile(r"^[-－+]?\d[\d,，]*(?:[.．]\d+)?$")
MAX_PAD_WIDTH = 64  # short rows are padded to the header's width up to this (a report's tables have ≤ 16)


def is_rule(text: str) -> bool:
    """A table's ruling line: `|---|:--:|`, `+----+----+`, `├──┼──┤`, `--- | ---`, `｜－－－｜`."""
    s = _unquote(text).strip()
    parts = [p.strip().replace(" ", "") for p in _RULE_SPLIT.split(s)]
    if len(parts) < 2 or not any(parts):
        return False  # no joint: a thematic break ("---") is not a ruling
    return all(not p or _RULE_CELL.match(p) for p in parts)


def _unquote(text: str) -> str:
    """A table inside a blockquote: "> | a | b |"."""
    return _QUOTE.sub("", text) if text.lstrip().startswith(">") else text


def _split(text: str) -> tuple[list[str], bool]:
    """Cells of a pipe row and whether the row is framed (a leading or trailing pipe)."""
    s = _unquote(text).strip()
    parts = _SPLIT.split(s)
    framed = False
    if parts and parts[0].strip() == "":
        parts, framed = parts[1:], True
    if parts and parts[-1].strip() == "" and not parts[-1].endswith("\\"):
        parts, framed = parts[:-1], True
    return [p.strip() for p in parts], framed


def is_figure(text: str) -> bool:
    return bool(_FIGURE.match(text.replace(" ", "")))


def _valueish(text: str) -> bool:
    """A figure or what stands in one's place (a dash, 无): never a merged label to fold."""
    t = text.replace(" ", "")
    return not t or is_figure(t) or bool(re.fullmatch(r"[-—–/／－_~～无]+", t))


def is_generic_header(cells: list[str]) -> bool:
    """A converter's header row: column names it made up (数据1…, 列1…, Column1…, 0 1 2 …), or
    nothing at all."""
    if not cells:
        return True
    if not all(c in _GENERIC_WORDS or _GENERIC_NUMBERED.match(c) for c in cells):
        if len(cells) >= 3 and all(c.isascii() and c.isdigit() for c in cells):  # pandas' 0 1 2 …, or 1 2 3 …
            first = int(cells[0])
            return first in (0, 1) and [int(c) for c in cells] == list(range(first, first + len(cells)))
        return False
    return any(_GENERIC_NUMBERED.match(c) for c in cells) or all(not c for c in cells)


@dataclass
class Placed:
    """A table found in the text and the lines it takes (0-based, end exclusive)."""

    start: int
    end: int
    table: Table


@dataclass
class _Run:
    start: int
    end: int
    rows: list[tuple[int, list[str]]]  # (0-based line, cells)
    heads: list[int]  # rows in a header's place: above the ruling, else the first (of each piece)

    @property
    def width(self) -> int:
        return max(len(cells) for _, cells in self.rows)


def _pipe_runs(lines: list[str], budget: _Budget) -> Iterator[_Run]:
    """Runs of consecutive pipe rows (and ruling lines) that make a table: at least two columns
    somewhere, and a ruling, a framed row or three columns to tell them from a sentence that
    happens to hold a "|"."""
    i, n = 0, len(lines)
    while i < n:
        if not _is_pipe_line(lines[i]):
            i += 1
            continue
        start = i
        rows: list[tuple[int, list[str]]] = []
        heads: list[int] = []
        strong = False
        width = 0
        while i < n and _is_pipe_line(lines[i]):
            text = lines[i]
            if is_rule(text):
                if rows and not heads:
                    heads = list(range(len(rows)))
                strong = True
            else:
                budget.spend(sum(text.count(d) for d in _DELIMS))  # about one cell each, counted before splitting
                cells, framed = _split(text)
                rows.append((i, cells))
                # cells with text: "规章 |" then "0 |" lines are a table written one cell per
                # line (a web page's text), not a grid; the line logic reads those
                filled = sum(1 for c in cells if c.strip())
                width = max(width, filled)
                strong = strong or (framed and filled >= 2) or filled >= 3
            i += 1
        if rows and width >= 2 and strong:
            yield _Run(start, i, rows, heads or [0])


def _is_pipe_line(text: str) -> bool:
    return is_rule(text) or bool(_SPLIT.search(text))


class _Budget:
    """Cells left before the text is refused: a report's tables hold a few hundred, and a
    file of nothing but pipes must not become millions of objects."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.limit = limit

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise ReadError("file.too_large",
                            f"文件中的表格过大，超出系统上限（{self.limit} 个单元格），不像是年度报告。年度报告的三张表格一共只有"
                            "几百个单元格，请检查是否误粘贴了其他数据，删除后重新提交。", limit=self.limit)


def _grid(rows: list[tuple[int, list[str]]], header_width: int) -> Table:
    """Cells cleaned and merged positions marked as the docx reader marks them."""
    texts = [[inline(c).strip() for c in cells] for _, cells in rows]
    out: list[list[str | None]] = []
    for r, row in enumerate(texts):
        above = texts[r - 1] if r else []
        cells: list[str | None] = list(row)
        for c in range(_label_end(row)):
            text = row[c]
            if (c and row[c - 1] == text) or (c < len(above) and above[c] == text):
                cells[c] = None  # a label repeated across or down: one merged cell
        while len(cells) > header_width and not cells[-1]:
            cells.pop()  # an empty cell beyond the header's last column: a converter's stray "| |"
        _fold_merged_figure(cells)
        if len(cells) < header_width <= MAX_PAD_WIDTH:
            cells.extend([None] * (header_width - len(cells)))  # the short row's missing end
        out.append(cells)
    line_of = [no + 1 for no, _ in rows]
    sources = [Source(line=no) for no in line_of]
    return Table(out, line=line_of[0], row_lines=list(line_of), source=Source(line=line_of[0]),
                 cell_sources=[[None if c is None else src for c in row] for row, src in zip(out, sources, strict=True)])


def _label_end(row: list[str]) -> int:
    """Where a data row's label cells end: at its first figure-like cell. A row with no figure
    at all (a header, a row left blank or written in words) has no label to fold: folding
    "暂无 | 暂无" there would lose cells the normaliser counts."""
    for i, text in enumerate(row):
        if _valueish(text):
            return i if any(is_figure(t) for t in row[i:]) else 0
    return 0


def _fold_merged_figure(cells: list[str | None]) -> None:
    """A figure in a cell merged across (表二's 行政许可 | 5 | | |): the empty positions after the
    row's only figure are that cell's, not figures left blank."""
    last = max((i for i, c in enumerate(cells) if c), default=-1)
    if last < 0 or not is_figure(cells[last] or "") or last == len(cells) - 1:
        return
    if sum(1 for c in cells if c and is_figure(c)) != 1:
        return
    for i in range(last + 1, len(cells)):
        cells[i] = None


def _run_table(run: _Run) -> Table:
    # a last column empty in every row, header included, is the converter's (a stray "| |" at each
    # line's end): kept, it would push every figure one place to the left of where it belongs
    used = max((max((i for i, c in enumerate(cells) if c), default=-1) for _, cells in run.rows), default=-1) + 1
    rows = [(no, cells[:used]) for no, cells in run.rows]
    width = len(rows[0][1])
    heads = set(run.heads)
    kept: list[tuple[int, list[str]]] = []
    dropped = -2
    for i, r in enumerate(rows):
        if (i in heads or i == dropped + 1) and is_generic_header(r[1]):
            dropped = i  # a converter's header, and any more of them right under it
        else:
            kept.append(r)
    rows = kept
    if not rows:
        rows = [(no, cells[:used]) for no, cells in run.rows[:1]]  # nothing but a header: keep it
    return _grid(rows, width)


# ---- HTML tables ---------------------------------------------------------------------------

_TABLE_OPEN = re.compile(r"<table\b", re.IGNORECASE)
_TABLE_CLOSE = re.compile(r"</table\s*>", re.IGNORECASE)
_ROW_CLOSE = re.compile(r"</t[rdh]\s*>", re.IGNORECASE)
MAX_SPAN = 64


def _html_runs(lines: list[str]) -> Iterator[tuple[int, int]]:
    i, n = 0, len(lines)
    while i < n:
        if not _TABLE_OPEN.search(lines[i]):
            i += 1
            continue
        start = i
        depth = 0
        last_row_end = start + 1
        while i < n:
            depth += len(_TABLE_OPEN.findall(lines[i])) - len(_TABLE_CLOSE.findall(lines[i]))
            if _ROW_CLOSE.search(lines[i]):
                last_row_end = i + 1
            i += 1
            if depth <= 0:
                break
        if depth > 0:  # never closed: the table ends with its last row, the text after stays text
            i = last_row_end
        yield start, i


def _html_table(lines: list[str], start: int, end: int, budget: _Budget) -> Table | None:
    """An HTML table (what MinerU and marker write for merged cells) expanded into the grid:
    a cell spanning n columns once and n−1 Nones, a rowspan's continuation None."""
    import lxml.html

    source = "\n".join(lines[start:end])
    try:
        root = lxml.html.fragment_fromstring(source, create_parent="div")
    except Exception:  # noqa: BLE001 - not HTML after all: the lines stay text
        return None
    tables = root.xpath(".//table")
    if not tables:
        return None
    grid: dict[tuple[int, int], str | None] = {}
    row_lines: list[int | None] = []
    r = 0
    for tr in tables[0].xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr"):
        c = 0
        for td in tr.xpath("./td | ./th"):
            while (r, c) in grid:
                c += 1
            cs = _span(td.get("colspan"))
            rs = _span(td.get("rowspan"))
            budget.spend(cs * rs)
            for br in td.iter("br"):
                br.tail = "\n" + (br.tail or "")
            text = "\n".join(ln.strip() for ln in td.text_content().strip().split("\n"))
            for dr in range(rs):
                for dc in range(cs):
                    grid[(r + dr, c + dc)] = text if dr == dc == 0 else None
            c += cs
        row_lines.append(start + (tr.sourceline or 1))
        r += 1
    if not grid:
        return None
    nrows = max(k[0] for k in grid) + 1
    ncols = max(k[1] for k in grid) + 1
    budget.spend(nrows * ncols - len(grid))  # the short rows' ends, filled with None
    rows = [[grid.get((ri, ci)) for ci in range(ncols)] for ri in range(nrows)]  # a short row's end: not there
    row_lines += [row_lines[-1] if row_lines else start + 1] * (nrows - len(row_lines))
    if rows and is_generic_header([c or "" for c in rows[0]]) and len(rows) > 1:
        rows, row_lines = rows[1:], row_lines[1:]
    sources = [Source(line=no) for no in row_lines]
    return Table(rows, line=row_lines[0], row_lines=list(row_lines), source=Source(line=row_lines[0]),
                 cell_sources=[[None if c is None else s for c in row] for row, s in zip(rows, sources, strict=True)])


def _span(value: str | None) -> int:
    try:
        return min(MAX_SPAN, max(1, int(value or "1")))
    except ValueError:
        return 1


# ---- all tables of a text ------------------------------------------------------------------


def find_tables(lines: list[str], limits: Limits) -> list[Placed]:
    """The pipe and HTML tables of a text, in order; a table a page break cut in two (nothing
    but blank lines, a page number or a page marker between, the same number of columns) is
    one table again, as the PDF reader joins a table continued on the next page."""
    budget = _Budget(limits.max_table_cells)
    placed = [Placed(s, e, t) for s, e in _html_runs(lines) if (t := _html_table(lines, s, e, budget))]
    taken = [(p.start, p.end) for p in placed]
    runs: list[_Run] = []
    for run in _pipe_runs(lines, budget):
        if any(s < run.end and run.start < e for s, e in taken):
            continue
        last = runs[-1] if runs else None
        if last and last.width == run.width and _only_breaks(lines[last.end:run.start]):
            # joined as written, before empty columns are trimmed (which may trim the pieces unlike)
            last.heads += [len(last.rows) + h for h in run.heads]
            last.rows += run.rows
            last.end = run.end
        else:
            runs.append(run)
    placed += [Placed(r.start, r.end, _run_table(r)) for r in runs]
    placed.sort(key=lambda p: p.start)
    joined: list[Placed] = []
    for p in placed:
        prev = joined[-1] if joined else None
        if prev and _width(prev.table) == _width(p.table) and _only_breaks(lines[prev.end:p.start]):
            t, more = prev.table, p.table
            t.rows.extend(more.rows)
            t.row_lines.extend(more.row_lines)
            t.cell_sources.extend(more.cell_sources)
            prev.end = p.end
        else:
            joined.append(p)
    return joined


def _only_breaks(lines: list[str]) -> bool:
    """Nothing but what a page break leaves: blank lines, a page number, a page marker."""
    return all(not ln.strip() or is_page_number(ln) or is_break(ln) for ln in lines)


def _width(t: Table) -> int:
    return max((len(r) for r in t.rows), default=0)
