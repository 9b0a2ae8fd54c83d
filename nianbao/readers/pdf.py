"""PDF through pdfplumber: text lines and ruled table grids, in reading order.

pdfplumber gives a merged cell's covered positions as None, splits a table (and sometimes a
row) where the page breaks, takes a frame drawn around text (a part's heading and text, or the
heading above its table) for a table, gives no characters for a scanned page, and raises with an
empty message for an encrypted file. Each of those is handled here: the rows of a found table
that are text in a box (`boxes.data_runs`: a heading, prose above or below the figures, or the
whole "table") are left out of the grid, so their characters are read as lines like any text.
"""

from __future__ import annotations

import bisect
import logging
from pathlib import Path

from nianbao.document import Document, Source, Table
from nianbao.readers import Limits, ReadError
from nianbao.readers.boxes import data_runs, figure_row
from nianbao.readers.lines import LAYOUT, Line, assemble, is_page_number

# pdfminer logs every oddity of a damaged file ("Data-loss while decompressing …"); a file we
# cannot read is reported as a finding, so its chatter stays out of the clerk's terminal
logging.getLogger("pdfminer").setLevel(logging.ERROR)


def _encrypted(path: Path) -> bool:
    with path.open("rb") as fh:
        data = fh.read()
    return b"/Encrypt" in data


def read_pdf(path: Path, limits: Limits) -> Document:
    import pdfplumber

    try:
        pdf = pdfplumber.open(str(path))
        n_pages = len(pdf.pages)
    except Exception as exc:  # pdfminer raises many kinds, some with an empty message
        if _encrypted(path):
            raise ReadError("file.unreadable", "文件已加密（设置了打开密码），系统无法读取。请取消密码后重新提交。",
                            encrypted=True) from exc
        raise ReadError("file.unreadable", "PDF 文件已损坏或不完整，无法打开。请重新导出 PDF 后提交。") from exc
    with pdf:
        if n_pages == 0:
            raise ReadError("file.unreadable", "PDF 文件没有任何页面（可能不完整）。请重新导出 PDF 后提交。")
        if n_pages > limits.max_pages:
            raise ReadError("file.too_large", f"PDF 共 {n_pages} 页，超过上限 {limits.max_pages} 页。请只提交年度报告本身。",
                            pages=n_pages, limit=limits.max_pages)
        try:
            lines, tables, chars, images = _extract(pdf)
        except ReadError:
            raise
        except Exception as exc:
            if _encrypted(path):
                raise ReadError("file.unreadable", "文件已加密，系统无法读取。请取消密码后重新提交。", encrypted=True) from exc
            raise ReadError("file.unreadable", "PDF 文件内容已损坏，无法读取文字。请重新导出 PDF 后提交。") from exc
    if chars == 0 or not lines and not tables:  # nothing but page numbers is no text either
        what = "扫描件或图片" if images else "空白页面"
        raise ReadError("file.no_text",
                        f"PDF 中没有可读取的文字（共 {n_pages} 页，都是{what}）。请提交由 Word/WPS 直接导出的 PDF 或 .docx 原文件，"
                        "不要提交扫描件或截图。", pages=n_pages, images=images)
    placed = _stitch(lines, tables)
    return Document(assemble([ln for _, _, ln in lines], placed), "pdf", pages=n_pages, images=images)


def _extract(pdf):
    lines: list[tuple[int, float, Line]] = []
    tables: list[tuple[int, float, Table]] = []  # page, top, table
    n_chars = 0
    n_images = 0
    for pno, page in enumerate(pdf.pages, 1):
        n_chars += len(page.chars)
        n_images += len(page.images)
        if not page.chars:
            continue
        grids = []
        for t in page.find_tables():
            found = t.extract()
            for start, end in data_runs(found):
                rows, row_boxes = found[start:end], t.rows[start:end]
                width = max((sum(1 for c in r if c is not None) for r in rows), default=0)
                # a one-column "table" is a framed paragraph; one row is a table when it holds figures
                # (the last row of a table, carried onto the next page), else a line drawn in a box
                if width >= 2 and (len(rows) >= 2 or figure_row(rows[0])):
                    cells = [[Source(page=pno, box=tuple(box)) if box is not None and text is not None else None
                              for box, text in zip(r.cells, row, strict=False)]
                             for r, row in zip(row_boxes, rows, strict=False)]
                    grids.append((_rows_box(row_boxes) if (start, end) != (0, len(found)) else t.bbox, rows, cells))
        boxes = [b for b, _, _ in grids]

        def outside(obj, boxes=boxes) -> bool:
            if obj.get("object_type") != "char":
                return True
            cx = (obj["x0"] + obj["x1"]) / 2
            cy = (obj["top"] + obj["bottom"]) / 2
            return not any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)

        text_page = page.filter(outside) if boxes else page
        for tl in text_page.extract_text_lines(strip=True, return_chars=True):
            text = tl["text"]
            if not text.strip() or (is_page_number(text) and tl["top"] > page.height * LAYOUT.page_number_zone):
                continue
            size = tl["chars"][0]["size"] if tl.get("chars") else None
            lines.append((pno, tl["top"], Line(text, page=pno, x0=tl["x0"], x1=tl["x1"], size=size, top=tl["top"],
                                               bottom=tl["bottom"])))
        for bbox, rows, cells in grids:
            tables.append((pno, bbox[1], Table(rows, page=pno, row_pages=[pno] * len(rows),
                                               source=Source(page=pno, box=tuple(bbox)), cell_sources=cells)))
    return lines, tables, n_chars, n_images


def _rows_box(rows) -> tuple[float, float, float, float]:
    """The box around some rows of a found table: the grid once the boxed text is left out."""
    cells = [c for r in rows for c in r.cells if c is not None]
    return (min(c[0] for c in cells), min(c[1] for c in cells), max(c[2] for c in cells), max(c[3] for c in cells))


def _stitch(lines, tables) -> list[tuple[int, Table]]:
    """Place each table before the first line below it, and join a table that runs on from one
    page to the next (nothing between them, the same number of columns) into one."""
    keys = [(p, top) for p, top, _ in lines]
    placed: list[tuple[int, Table]] = []
    for p, top, t in sorted(tables, key=lambda x: (x[0], x[1])):
        index = bisect.bisect_left(keys, (p, top))
        if placed:
            prev_index, prev = placed[-1]
            if prev_index == index and prev.row_pages[-1] == p - 1 and _width(prev) == _width(t):
                _append(prev, t)
                continue
        placed.append((index, t))
    return placed


def _width(t: Table) -> int:
    return max((len(r) for r in t.rows), default=0)


def _append(a: Table, b: Table) -> None:
    a.rows.extend(b.rows)
    a.row_pages.extend(b.row_pages)
    a.cell_sources.extend(b.cell_sources)
