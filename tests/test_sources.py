"""Every block of the neutral document points back to where it came from in the clerk's file —
the paragraph or the table cell of a .docx, the page and box of a PDF, the line of a .txt — so
that a writer can put a finding back in place."""

from __future__ import annotations

import pdfplumber
import pytest

from nianbao.document import Paragraph, Table
from nianbao.generate import ReportSpec, write_docx, write_pdfs, write_txt
from nianbao.libreoffice import soffice
from nianbao.readers import read
from nianbao.template import flat

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _element(body, path):
    el = body
    for i in path:
        if el.tag == f"{W}sdt":
            el = el.find(f"{W}sdtContent")
        el = list(el.iterchildren())[i]
    return el


def _text(el) -> str:
    return flat("".join(t.text or "" for t in el.iter(f"{W}t")))


def _rows(tbl):
    return list(tbl.iterchildren(f"{W}tr"))


def test_docx_paragraphs_and_cells_point_at_their_elements(tmp_path):
    import docx

    path = write_docx(ReportSpec(body="巨鹿县官亭镇人民政府"), tmp_path / "r.docx")
    doc = read(path)
    body = docx.Document(str(path)).element.body
    paragraphs = [b for b in doc.blocks if isinstance(b, Paragraph) and b.text]
    assert paragraphs and all(b.source and b.source.path for b in paragraphs)
    for b in paragraphs:
        el = _element(body, b.source.path)
        assert el.tag == f"{W}p" and _text(el) == flat(b.text)
    tables = [b for b in doc.blocks if isinstance(b, Table)]
    assert len(tables) == 3
    checked = 0
    for t in tables:
        tbl = _element(body, t.source.path)
        assert tbl.tag == f"{W}tbl"
        for r, row in enumerate(t.rows):
            for c, text in enumerate(row):
                src = t.cell_source(r, c)
                if text is None:
                    assert src is None  # a merged cell's covered position
                    continue
                row_i, cell_i = src.path[-2:]
                tc = [x for x in _rows(tbl)[row_i].iterchildren() if x.tag == f"{W}tc"][cell_i]
                assert _text(tc) == flat(text)
                checked += 1
    assert checked > 150


@pytest.mark.skipif(soffice() is None, reason="LibreOffice is not installed")
def test_pdf_cells_and_paragraphs_have_their_page_and_box(tmp_path):
    docx_path = write_docx(ReportSpec(body="巨鹿县官亭镇人民政府"), tmp_path / "r.docx")
    (pdf_path,) = write_pdfs([docx_path], tmp_path / "pdf")
    doc = read(pdf_path)
    with pdfplumber.open(pdf_path) as pdf:
        tables = [b for b in doc.blocks if isinstance(b, Table) and b.cell_sources]
        assert tables
        checked = 0
        for t in tables:
            for r, row in enumerate(t.rows):
                for c, text in enumerate(row):
                    src = t.cell_source(r, c)
                    if not text or src is None:
                        continue
                    page = pdf.pages[src.page - 1]
                    inside = page.within_bbox(src.box).extract_text() or ""
                    assert flat(text) == flat(inside), (r, c, text, inside)
                    checked += 1
        assert checked > 100
        paragraphs = [b for b in doc.blocks if isinstance(b, Paragraph) and len(b.text) > 30]
        assert paragraphs and all(b.source.page and b.source.box for b in paragraphs)
        for b in paragraphs[:10]:
            page = pdf.pages[b.source.page - 1]
            x0, top, x1, bottom = b.source.box
            inside = page.within_bbox((x0 - 1, top - 1, x1 + 1, bottom + 1)).extract_text() or ""
            assert flat(inside)[:10] == flat(b.text)[:10]


def test_text_blocks_know_their_line(tmp_path):
    path = write_txt(ReportSpec(body="巨鹿县官亭镇人民政府"), tmp_path / "r.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    doc = read(path)
    for b in doc.blocks:
        if isinstance(b, Paragraph) and b.text:
            assert b.source.line and flat(b.text[:6]) in flat(lines[b.source.line - 1])
        elif isinstance(b, Table):
            for r in range(len(b.rows)):
                if b.rows[r][0]:
                    assert b.cell_source(r, 0).line == b.row_line(r)
