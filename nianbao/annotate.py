"""The clerk's own .docx with a Word comment (批注) at each finding's place: on the paragraph of a
section, on the cell of a table, found through the `Source` every block carries back to its
element. The clerk's text is never changed (an empty run is added where a paragraph has none to
anchor on); only the copy at `dest` is written."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nianbao.document import Source
from nianbao.labels import severity as severity_word
from nianbao.model import Finding, Location
from nianbao.normalize import Evidence, Parsed, TableInfo
from nianbao.places import place

log = logging.getLogger(__name__)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# a grouped finding (25 blank cells) gets a comment at each place up to this many; the last one
# lists the rest, so a clerk's margin is not buried
MAX_PLACES = 30


@dataclass(frozen=True)
class Annotated:
    placed: int  # comments at the finding's own paragraph or cell
    fallback: int  # comments on the first paragraph, for findings with no place in the file


def annotate_docx(src: str | Path, findings: Iterable[Finding], parsed: Parsed | None, dest: str | Path,
                  author: str = "nianbao 年报检查") -> Annotated | None:
    """Write a copy of `src` with the findings as comments to `dest`. None (and a warning in the
    log) when that cannot be done: the annotated copy is a convenience, never a reason to fail."""
    try:
        return _annotate(Path(src), list(findings), parsed, Path(dest), author)
    except Exception:
        log.warning("annotating %s failed", src, exc_info=True)
        return None


def comment_text(f: Finding) -> str:
    text = f"【{severity_word(str(f.severity))}】{f.message}"
    expected = f.values.get("expected")
    if isinstance(expected, str | int | float) and not isinstance(expected, bool) and str(expected) not in f.message:
        text += f"（应为：{expected}）"
    return text


def _annotate(src: Path, findings: list[Finding], parsed: Parsed | None, dest: Path, author: str) -> Annotated:
    import docx  # python-docx ≥ 1.2 (Document.add_comment)
    from docx.text.paragraph import Paragraph

    doc = docx.Document(str(src))
    body = doc.element.body
    ev = parsed.evidence if parsed else None
    placed = fallback = 0
    first = _first_paragraph(body)
    initials = "NB"
    for f in findings:
        text = comment_text(f)
        places = list(f.location.places) or [f.location]
        shown, rest = places[:MAX_PLACES], places[MAX_PLACES:]
        for n, loc in enumerate(shown):
            note = text
            if rest and n == len(shown) - 1:
                note += f"另有{len(rest)}处：" + "；".join(filter(None, (place(p) for p in rest))) + "。"
            el = _element_of(body, ev, loc) if ev else None
            if el is None:
                el, fallback = first, fallback + 1
            else:
                placed += 1
            if el is None:  # a file with no paragraph at all: nothing to hang a comment on
                continue
            runs = _runs(el, doc, Paragraph)
            doc.add_comment(runs, text=note, author=author, initials=initials)
    dest.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(dest))
    return Annotated(placed, fallback)


def _runs(el: Any, doc: Any, paragraph_cls: Any) -> list[Any]:
    """The runs of a paragraph, or of a cell's first paragraph that has any; an empty run added
    when there is none (a comment is anchored on runs)."""
    paragraphs = [el] if el.tag == f"{W}p" else list(el.iter(f"{W}p"))
    if not paragraphs:  # a w:tc must hold a paragraph, but a broken file may not
        paragraphs = [el.add_p()] if hasattr(el, "add_p") else []
    for p in paragraphs:
        runs = paragraph_cls(p, doc._body).runs
        if runs:
            return [runs[0], runs[-1]]
    return [paragraph_cls(paragraphs[0], doc._body).add_run("")]


def _first_paragraph(body: Any) -> Any:
    ps = list(body.iter(f"{W}p"))
    return next((p for p in ps if "".join(t.text or "" for t in p.iter(f"{W}t")).strip()), ps[0] if ps else None)


# ---- from a Location to the element ---------------------------------------------------------

def _element_of(body: Any, ev: Evidence, loc: Location) -> Any:
    """The w:p or w:tc of the clerk's file where the finding is, or None."""
    if loc.table and loc.table in ev.tables:
        el = _table_element(body, ev.tables[loc.table], loc)
        if el is not None:
            return el
    if loc.paragraph is not None:
        paras = ev.sections.get(loc.section, []) if loc.section else None
        if paras is None:  # before the first heading: the preamble
            src = ev.preamble[loc.paragraph - 1].source if 0 < loc.paragraph <= len(ev.preamble) else None
        else:
            src = paras[loc.paragraph - 1].source if 0 < loc.paragraph <= len(paras) else None
        el = _block(body, src)
        if el is not None:
            return el
    if loc.section:
        heading = next((h for h in ev.headings if h.section == loc.section), None)
        el = _block(body, heading.source if heading else None)
        if el is None and ev.sections.get(loc.section):
            el = _block(body, ev.sections[loc.section][0].source)
        return el
    return None


def _table_element(body: Any, info: TableInfo, loc: Location) -> Any:
    cells = [c for c in info.cells if c.source is not None and c.source.path]
    for match in (lambda c: c.row == loc.row and c.column == loc.column,  # the cell itself
                  lambda c: loc.row is not None and c.row == loc.row,  # its row
                  lambda c: loc.column is not None and c.column == loc.column):  # its column
        cell = next((c for c in cells if match(c)), None)
        if cell is not None:
            el = _cell(body, cell.source)
            if el is not None:
                return el
    tbl = _block(body, info.source)
    return next(tbl.iter(f"{W}tc"), None) if tbl is not None and tbl.tag == f"{W}tbl" else None


def _walk(body: Any, path: tuple[int, ...]) -> Any:
    """The element at a path of child indexes from w:body (a content control looked through),
    as the .docx reader records it."""
    el = body
    for i in path:
        if el.tag == f"{W}sdt":
            el = el.find(f"{W}sdtContent")
            if el is None:
                return None
        children = list(el.iterchildren())
        if not 0 <= i < len(children):
            return None
        el = children[i]
    return el


def _block(body: Any, src: Source | None) -> Any:
    """A paragraph's (or a table's) element."""
    if src is None or not src.path:
        return None
    el = _walk(body, src.path)
    return el if el is not None and el.tag in (f"{W}p", f"{W}tbl") else None


def _cell(body: Any, src: Source | None) -> Any:
    """A table cell's w:tc: the table's path, then its row among the w:tr and its cell among the
    row's w:tc (content controls looked through)."""
    if src is None or len(src.path) < 3:
        return None
    tbl = _walk(body, src.path[:-2])
    if tbl is None or tbl.tag != f"{W}tbl":
        return None
    row_i, cell_i = src.path[-2:]
    rows = list(tbl.iterchildren(f"{W}tr"))
    if not 0 <= row_i < len(rows):
        return None
    tcs: list[Any] = []
    for child in rows[row_i].iterchildren():
        if child.tag == f"{W}tc":
            tcs.append(child)
        elif child.tag == f"{W}sdt":
            content = child.find(f"{W}sdtContent")
            tcs.extend(content.iterchildren(f"{W}tc") if content is not None else ())
    return tcs[cell_i] if 0 <= cell_i < len(tcs) else None
