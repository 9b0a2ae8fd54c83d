"""The clerk's own .docx comes back with a Word comment (批注) at each finding's place: on the
paragraph a section finding names, on the table cell a table finding names; the clerk's text is
untouched. One LibreOffice run shows the comments in the margin, on the page of their place."""

from __future__ import annotations

import os
import random
import re
import shutil
from pathlib import Path

import docx
import pdfplumber
import pytest

from nianbao.annotate import MAX_PLACES, Annotated, annotate_docx
from nianbao.check import check_file
from nianbao.generate import ReportSpec, balanced_table3, write_docx, write_txt
from nianbao.libreoffice import convert, soffice
from nianbao.model import Finding, Location, Severity
from nianbao.places import place
from nianbao.template import flat
from tests.conftest import ROOT

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
ARTIFACTS = Path(os.environ.get("NIANBAO_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "annotated"


def _flawed() -> ReportSpec:
    return ReportSpec(
        table3=balanced_table3(random.Random(5), 10),
        raw_cells={("table3", "total", 0): "—", ("table3", "partial", 1): "", ("table3", "partial", 2): ""},
        headings={"4": "4、行政复议"},  # not a heading: section 四 is missing
        sections={"1": ["本年度，本单位XX认真贯彻落实政府信息公开工作。", "第二段文字。"]},
    )


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    d = tmp_path_factory.mktemp("annotate")
    src = write_docx(_flawed(), d / "r.docx")
    result = check_file(src, year=2024)
    out = d / "r-批注.docx"
    annotated = annotate_docx(src, result.findings, result.parsed, out)
    return src, result, out, annotated


def _text(el) -> str:
    return flat("".join(t.text or "" for t in el.iter(f"{W}t")))


def _comments(path: Path) -> dict[int, tuple[str, object, object]]:
    """comment id → (text, the w:p and the w:tc (or None) its range starts in)."""
    doc = docx.Document(str(path))
    body = doc.element.body
    texts = {c.comment_id: c.text for c in doc.comments}
    out = {}
    for start in body.iter(f"{W}commentRangeStart"):
        cid = int(start.get(f"{W}id"))
        p = next(a for a in start.iterancestors(f"{W}p"))
        tc = next(start.iterancestors(f"{W}tc"), None)
        ref = next(r for r in body.iter(f"{W}commentReference") if int(r.get(f"{W}id")) == cid)
        # the reference closes the range in the same paragraph (one paragraph or one cell's)
        assert next(ref.iterancestors(f"{W}p")) is p
        out[cid] = (texts[cid], p, tc)
    assert set(out) == set(texts)
    return out


def _with(comments, finding):
    return [(p, tc) for text, p, tc in comments.values() if finding.message in text]


def _by_rule(result, rule):
    (f,) = [f for f in result.findings if f.rule == rule]
    return f


def test_every_finding_has_its_comment_with_its_message(made):
    src, result, out, annotated = made
    assert result.findings and annotated is not None
    comments = _comments(out)
    for f in result.findings:
        assert len(_with(comments, f)) == max(1, len(f.location.places)), f.rule
    assert annotated.placed + annotated.fallback == len(comments)
    texts = [t for t, _, _ in comments.values()]
    assert any(t.startswith("【错误】") for t in texts) and any(t.startswith("【提醒】") for t in texts)
    assert {c.author for c in docx.Document(str(out)).comments} == {"nianbao 年报检查"}


def test_a_section_finding_sits_on_its_paragraph_and_a_table_finding_in_its_cell(made):
    src, result, out, annotated = made
    comments = _comments(out)

    ((p, tc),) = _with(comments, _by_rule(result, "text.placeholder"))  # section 一, paragraph 1
    assert tc is None and _text(p) == flat("本年度，本单位XX认真贯彻落实政府信息公开工作。")

    ((p, tc),) = _with(comments, _by_rule(result, "content.overview_aspects"))  # section 一 as a whole
    assert tc is None and _text(p) == flat("一、总体情况")

    cells = _with(comments, _by_rule(result, "table.cell_invalid"))  # two places of table 三
    assert len(cells) == 2 and all(tc is not None for _, tc in cells)
    rows = {_text(next(tc.iterancestors(f"{W}tr"))): _text(tc) for _, tc in cells}
    total = next(t for r, t in rows.items() if "总计" in r)
    assert total == "—"  # the very cell, row 总计, column 自然人
    assert any("部分公开" in r for r in rows)

    # a missing section has no place in the file: on the first paragraph, counted as such
    ((p, tc),) = _with(comments, _by_rule(result, "sections.missing"))
    assert tc is None and _text(p) == flat("巨鹿县官亭镇人民政府")
    assert annotated.fallback == 1 and annotated.placed == len(comments) - 1


def test_the_clerks_text_is_unchanged_and_the_original_untouched(made):
    src, result, out, annotated = made
    before = docx.Document(str(src)).element.body
    after = docx.Document(str(out)).element.body
    assert [t.text for t in before.iter(f"{W}t")] == [t.text for t in after.iter(f"{W}t")]
    assert next(before.iter(f"{W}commentRangeStart"), None) is None  # src was not written


def test_many_places_get_at_most_so_many_comments_and_the_rest_listed(made, tmp_path):
    src, result, out, annotated = made
    cells = [c for c in result.parsed.evidence.tables["table3"].cells][:MAX_PLACES + 12]
    places = tuple(Location(table="table3", row=c.row, column=c.column) for c in cells)
    f = Finding("table.cell_invalid", Severity.ERROR, "表三共42处：……", Location(table="table3", places=places))
    many = tmp_path / "many.docx"
    assert annotate_docx(src, [f], result.parsed, many) == Annotated(MAX_PLACES, 0)
    texts = [t for t, _, _ in _comments(many).values()]
    assert len(texts) == MAX_PLACES and all(f.message in t for t in texts)
    (last,) = [t for t in texts if "另有12处" in t]
    assert place(places[-1]) in last and place(places[0]) not in last


def test_what_cannot_be_annotated_gives_none_and_no_file(tmp_path):
    txt = write_txt(ReportSpec(), tmp_path / "r.txt")
    result = check_file(txt, year=2024)
    assert annotate_docx(txt, result.findings, result.parsed, tmp_path / "x.docx") is None
    assert not (tmp_path / "x.docx").exists()


def _pdf_notes(pdf: Path) -> list[tuple[int, float, str]]:
    """(page, top, text) of each comment LibreOffice exported as a PDF text annotation."""
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    out = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            for a in resolve1(page.page_obj.annots) or []:
                a = resolve1(a)
                if resolve1(a.get("Subtype")).name != "Text":
                    continue  # the popups that belong to each note
                rect = [float(resolve1(v)) for v in resolve1(a["Rect"])]
                out.append((page.page_number, float(page.height) - rect[3], decode_text(resolve1(a["Contents"]))))
    return out


@pytest.mark.skipif(soffice() is None, reason="LibreOffice is not installed")
def test_libreoffice_shows_every_comment_beside_its_place(made, tmp_path):
    """Every comment LibreOffice reads from the copy, exported as a PDF note on the page and at
    the height of the text it is anchored to (ExportNotes: LibreOffice 7.4 has no margin export)."""
    src, result, out, annotated = made
    fmt = 'pdf:writer_pdf_Export:{"ExportNotes":{"type":"boolean","value":"true"}}'
    (pdf,) = convert([out], fmt, tmp_path)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(pdf, ARTIFACTS / "annotated.pdf")
    shutil.copy(out, ARTIFACTS / "annotated.docx")
    notes = _pdf_notes(pdf)
    comments = _comments(out)
    assert sorted(t for _, _, t in notes) == sorted(t for t, _, _ in comments.values())
    with pdfplumber.open(pdf) as doc:
        for text, p, tc in comments.values():
            anchor = _text(tc if tc is not None else p)[:6]
            assert anchor

            def beside(note, anchor=anchor):
                # the anchor's text (its first characters) on the note's page, on the note's line
                hits = doc.pages[note[0] - 1].search(re.escape(anchor), regex=True)
                return any(abs(h["top"] - note[1]) < 25 for h in hits)

            assert any(beside(n) for n in notes if n[2] == text), (text[:30], anchor)
