"""Line rebuilding for the line-based sources (PDF, PDF-extracted text): paragraphs from broken
lines, table rows from lines such as "（一）予以公开 10 0 0 0 0 0 10", and the tolerances that
decide both (`LAYOUT`). This is the one reader module that knows the template: a table is
rebuilt from lines only inside sections 二–四, so it matches the section headings."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nianbao.document import Paragraph, Source, Table, clean_text
from nianbao.template import match_heading


@dataclass
class Line:
    text: str
    page: int | None = None
    line: int | None = None
    x0: float | None = None  # left edge, when the source has a layout
    x1: float | None = None
    size: float | None = None  # font size
    top: float | None = None
    bottom: float | None = None
    after_blank: bool = False  # extracted text: a blank line stood before it (a paragraph ends there)


def _box(lines: list[Line]) -> tuple[float, float, float, float] | None:
    """The box around the lines on the first one's page, when they have a layout."""
    edges = [(ln.x0, ln.top, ln.x1, ln.bottom) for ln in lines if ln.page == lines[0].page]
    known = [(a, b, c, d) for a, b, c, d in edges if a is not None and b is not None and c is not None and d is not None]
    if not known or len(known) != len(edges):
        return None
    return (min(e[0] for e in known), min(e[1] for e in known), max(e[2] for e in known), max(e[3] for e in known))


_PAGE_NUMBER = re.compile(r"^\s*(?:[-—–－]\s*\d{1,4}\s*[-—–－]|第\s*\d{1,4}\s*页(?:\s*[/，,]?\s*共\s*\d+\s*页)?|\d{1,4}\s*/\s*\d{1,4})\s*$")


def is_page_number(text: str) -> bool:
    return bool(_PAGE_NUMBER.match(text))


VALUE_TOKEN = r"[-－]?\d[\d,，]*(?:[.．]\d+)?|[-—–/／－]+|无"
_TRAILING_VALUES = re.compile(rf"^(?P<label>.*?)(?P<values>(?:(?:^|\s+)(?:{VALUE_TOKEN}))+)\s*$")
_NUMBER_TOKEN = re.compile(r"^[-－]?\d[\d,，]*(?:[.．]\d+)?$")


def split_values(text: str) -> tuple[str, list[str]]:
    """'（一）予以公开 10 0 0 0 0 0 10' → ('（一）予以公开', ['10', '0', …]).

    Only whitespace-separated trailing tokens count as values, and at least one must be a
    number: '1.属于国家秘密' keeps its 1, and '3.其他' has no values.
    """
    text = text.replace("\u3000", " ").strip()
    m = _TRAILING_VALUES.match(text)
    if not m:
        return text, []
    values = m.group("values").split()
    if not any(_NUMBER_TOKEN.match(v) for v in values) and not all(re.fullmatch(r"[-—–/／－]+", v) for v in values):
        return text, []  # "…全年无": a word, not a cell; a lone dash is a (bad) cell
    label = m.group("label").strip()
    if label and re.search(r"[\d.．、]$", label) and not re.search(r"\s$", text[: m.start("values")]):
        return text, []
    return label, values


def lines_to_table(lines: list[Line]) -> Table:
    """Rows from lines: each line with trailing numbers closes a row; lines without numbers
    are (parts of) labels and are kept as label-only rows for the normaliser to join."""
    rows: list[list[str | None]] = []
    pages: list[int | None] = []
    nums: list[int | None] = []
    singles = False  # the row above is being built from one figure per line
    for ln in lines:
        label, values = split_values(ln.text)
        above = rows[-1] if rows else None
        # a table written one cell per line (a web page's text, a converter's): 规章 / 0 / 0 / 0 is
        # one row; a figures-only line joins the label above while that label has no figures yet,
        # or while its figures came one per line
        if not label and values and above and above[0] and (len(above) == 1 or (singles and len(values) == 1)):
            singles = len(values) == 1
            above.extend(values)
            continue
        singles = False
        rows.append([label, *values])
        pages.append(ln.page)
        nums.append(ln.line)
    first = lines[0] if lines else Line("")
    return Table(rows, first.page, first.line, pages, nums, from_lines=True)


_SENTENCE_END = tuple("。！？；：!?;:")


@dataclass(frozen=True)
class Layout:
    """The tolerances by which a page's lines become paragraphs and tables — in ems of the line's
    font, or shares of the typical line — named here so that a reader never carries a bare number."""

    indent_em: float = 1.2  # a line that starts this far right of the margin opens a paragraph
    # a line that stops this far short of the full width closes one: Chinese line breaking carries
    # the last character with a closing 。 to the next line, so one character short is not an end
    short_line_em: float = 2.2
    short_text_share: float = 0.8  # with no positions (extracted text): shorter than this share of a full line
    full_width_quantile: float = 0.9  # the full line: this quantile of the lines' right ends
    left_margin_quantile: float = 0.05  # the margin: a low quantile of the lines' starts (below it, stray marks)
    prose_min_chars: int = 40  # a line this long ending in 。 inside a table's region is a note, not a row
    page_number_zone: float = 0.8  # a page number is a line below this share of the page's height
    default_font_pt: float = 12.0


LAYOUT = Layout()
_ITEM_START = re.compile(r"^(?:[（(][一二三四五六七八九十\d]+[）)]|[一二三四五六七八九十]+、|\d+[.．、](?!\d)|[①-⑳])")


def assemble(lines: list[Line], tables: list[tuple[int, Table]] | None = None) -> list[Paragraph | Table]:
    """Blocks from the lines of a line-based source (and grid tables found by layout, given as
    (index of the line they precede, table)).

    Section headings are their own paragraphs. Inside sections 二, 三 and 四, lines that are not
    covered by a grid table become a table rebuilt from lines. Elsewhere broken lines are
    joined into paragraphs: a paragraph ends at a short line, an indented line, an item
    marker after a full stop, or a heading.
    """
    tables = sorted(tables or [], key=lambda t: t[0])
    lines = [ln for ln in lines if ln.text.strip() and not is_page_number(ln.text)]
    blocks: list[Paragraph | Table] = []
    full = _typical_width(lines)
    left = _typical_left(lines)
    section: str | None = None
    section_has_grid: set[str] = set()
    # which section each grid table falls in is decided by the headings before it
    pending: list[Line] = []  # lines of a table rebuilt from lines
    para: list[Line] = []
    t_iter = iter(tables)
    next_table = next(t_iter, None)

    def flush_para() -> None:
        if para:
            # lines are glued; clean_text keeps a space only between two Latin words
            text = clean_text(" ".join(p.text.strip() for p in para))
            blocks.append(Paragraph(text, para[0].page, para[0].line, Source(page=para[0].page, line=para[0].line,
                                                                             box=_box(para))))
            para.clear()

    def flush_table() -> None:
        if pending:
            blocks.append(lines_to_table(list(pending)))
            pending.clear()

    for i, ln in enumerate(lines + [None]):
        while next_table is not None and next_table[0] <= i:
            flush_para()
            flush_table()
            blocks.append(next_table[1])
            if section:
                section_has_grid.add(section)
            next_table = next(t_iter, None)
        if ln is None:
            break
        text = ln.text.strip()
        heading = match_heading(text)
        if heading:
            flush_para()
            flush_table()
            blocks.append(Paragraph(clean_text(text), ln.page, ln.line, Source(page=ln.page, line=ln.line, box=_box([ln]))))
            section = heading.section.key
            continue
        if section in ("2", "3", "4") and section not in section_has_grid and not _is_prose(ln):
            flush_para()
            pending.append(ln)
            continue
        flush_table()
        if para and _starts_paragraph(para[-1], ln, full, left):
            flush_para()
        para.append(ln)
    flush_para()
    flush_table()
    return blocks


def _is_prose(ln: Line) -> bool:
    """A long line ending in a full stop inside a table region is a note, not a table row."""
    text = ln.text.strip()
    return len(text) > LAYOUT.prose_min_chars and text.endswith("。") and not split_values(text)[1]


def _typical_width(lines: list[Line]) -> float | None:
    xs = sorted(ln.x1 for ln in lines if ln.x1 is not None)
    if xs:
        return xs[int(len(xs) * LAYOUT.full_width_quantile)]
    lens = sorted(len(ln.text.strip()) for ln in lines)
    return float(lens[int(len(lens) * LAYOUT.full_width_quantile)]) if lens else None


def _typical_left(lines: list[Line]) -> float | None:
    """The text's left margin: most paragraphs are indented, so not the most common x0 but a
    low one (the lowest few may be stray marks)."""
    xs = sorted(ln.x0 for ln in lines if ln.x0 is not None)
    if not xs:
        return None
    return xs[int(len(xs) * LAYOUT.left_margin_quantile)]


_PAGE_CHROME = re.compile(r"^[•·\s]*(?:您?当前(?:所在)?位置|发布日期|发布时间|信息来源|索\s*引\s*号|字号|欢迎访问|登录|无障碍|关怀版|"
                          r"分享到)|浏览次数|访问量[:：]|阅读次数|【打印】|【关闭】")
_WHOLE_TITLE = re.compile(r"(?:19|20)\d{2}\s*年度?\S*?(?:政府)?信息公开\S*?(?:年度报告|年报)$")


def _starts_paragraph(prev: Line, ln: Line, full: float | None, left: float | None) -> bool:
    text = ln.text.strip()
    prev_text = prev.text.strip()
    if ln.after_blank:
        return True  # no extractor leaves a blank line inside a paragraph
    if _WHOLE_TITLE.search(text) and len(text) <= 50:
        return True  # a title line of its own (after a portal's chrome): 某某局2022年度政府信息公开工作年度报告
    if any(len(t) <= 60 and _PAGE_CHROME.search(t) for t in (prev_text, text)):
        return True  # a web page's chrome line (当前位置：首页 >…, 发布日期 … 浏览次数) is a line of its own
    ends = prev_text.endswith(_SENTENCE_END) or prev_text.endswith(("）", ")", "”")) and len(prev_text) < 20
    if prev_text.endswith("报告") and len(prev_text) <= 40:
        return True  # the title's last line
    if ln.x0 is not None and left is not None:
        em = ln.size or LAYOUT.default_font_pt
        if ln.x0 - left > LAYOUT.indent_em * em:  # first-line indent
            return True
        if prev.x1 is not None and full is not None and full - prev.x1 > LAYOUT.short_line_em * em:
            return True  # the previous line stopped short
        return False
    # no layout (PDF-extracted text): judge by punctuation and length
    if ends and (_ITEM_START.match(text) or full is None or len(prev_text) < LAYOUT.short_text_share * full):
        return True
    return False
