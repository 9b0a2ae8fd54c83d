"""Text drawn in boxes (one-cell tables, frames around a part and its table, the heading as the
table's first row, paragraph borders, text boxes) reads as the unboxed report does, in .docx and
in the PDF LibreOffice makes of it; the report's own tables are never taken for boxes; and a .docx
whose content is pictures says so."""

from __future__ import annotations

import random
import time

import docx
import pytest
from docx.oxml import parse_xml

from nianbao.check import check_file, parse_file
from nianbao.document import Document, Paragraph, Source, Table
from nianbao.generate import (
    BOXED_STYLES,
    PICTURE_MARKUPS,
    ReportSpec,
    balanced_table3,
    balanced_table4,
    blank_template,
    expected_report,
    write_docx,
    write_pdfs,
)
from nianbao.libreoffice import convert
from nianbao.normalize import normalize
from nianbao.readers import BY_EXTENSION, Limits, ReadError, read
from nianbao.readers.boxes import data_runs, is_box, unbox
from nianbao.template import flat
from tests.conftest import SAMPLES, SEEDS, needs_shared

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _specs() -> dict[str, ReportSpec]:
    rng = random.Random(23)
    # text in 二–四 too: a heading lost in a table shows in the JSON, not only in the findings
    texts = {"2": ["本年度主动公开政府信息情况见下表。"], "3": ["本年度收到的申请均已按期答复，具体情况见下表。"],
             "4": ["本年度未发生政府信息公开行政复议、行政诉讼案件。"]}
    return {
        "town": ReportSpec(body="巨鹿县王虎寨镇人民政府", table3=balanced_table3(rng, 15), table4=balanced_table4(rng, 2),
                           sections=texts),
        "old": ReportSpec(body="巨鹿县张王疃乡人民政府", template="2019", table3=balanced_table3(rng, 9),
                          sections={"3": texts["3"]}),
    }


def _variants() -> dict[str, ReportSpec]:
    out: dict[str, ReportSpec] = {}
    for name, spec in _specs().items():
        out[f"{name}-plain"] = spec
        for style in BOXED_STYLES:
            out[f"{name}-{style}"] = spec.copy(boxed=style)
    for markup in PICTURE_MARKUPS:
        out[f"pictures-tables-{markup}"] = ReportSpec(pictures="tables", picture_markup=markup)
        out[f"pictures-all-{markup}"] = ReportSpec(pictures="all", picture_markup=markup)
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    out = tmp_path_factory.mktemp("boxes")
    specs = _variants()
    docxs = {name: write_docx(spec, out / f"{name}.docx") for name, spec in specs.items()}
    pdfs = dict(zip(docxs, write_pdfs(list(docxs.values()), out / "pdf"), strict=True))
    return specs, {"docx": docxs, "pdf": pdfs}


def _report(path) -> dict:
    report = parse_file(path).report.to_json()
    report.pop("period")  # expected_report leaves it out; test_formats checks it
    return report


def _rules(path, year: int) -> list[str]:
    return [f.rule for f in check_file(path, year=year).findings]


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
@pytest.mark.parametrize("style", BOXED_STYLES)
@pytest.mark.parametrize("base", list(_specs()))
def test_boxed_report_reads_as_the_plain_one(base, style, fmt, files):
    specs, paths = files
    boxed, plain = paths[fmt][f"{base}-{style}"], paths[fmt][f"{base}-plain"]
    assert _report(boxed) == _report(plain)
    want = expected_report(specs[f"{base}-plain"]).to_json()
    want.pop("period")
    assert _report(boxed) == want
    year = specs[f"{base}-plain"].year
    assert _rules(boxed, year) == _rules(plain, year)
    assert "sections.missing" not in _rules(boxed, year)


def test_boxed_doc_through_libreoffice_reads_the_same(files, tmp_path):
    """.doc (and .wps) go through LibreOffice to .docx: its own way of writing boxes back reads the same."""
    specs, paths = files
    names = ["town-frame", "town-heading-row", "town-textbox", "pictures-all-vml"]
    docs = dict(zip(names, convert([paths["docx"][n] for n in names], "doc:MS Word 97", tmp_path), strict=True))
    want = expected_report(specs["town-plain"]).to_json()
    want.pop("period")
    for name in names[:-1]:
        assert _report(docs[name]) == want, name
    with pytest.raises(ReadError) as err:  # its pictures are read by OCR; they hold no report
        read(docs["pictures-all-vml"])
    assert err.value.rule == "file.no_text" and err.value.values["images"] == 3


def test_the_boxes_are_really_there(files):
    """The generator draws what the tests claim: boxes as tables, headings in table rows, borders,
    text boxes with Word's fallback copy."""
    _, paths = files
    body = {s: docx.Document(str(paths["docx"][f"town-{s}"])).element.body for s in BOXED_STYLES}
    one_cell = [t for t in body["table"].iter(f"{W}tbl") if len(list(t.iter(f"{W}tc"))) == 1]
    assert len(one_cell) >= 6  # a box per part, two for a part with a table in between
    assert any(next(t.iterdescendants(f"{W}tbl"), None) is not None for t in body["frame"].iterchildren(f"{W}tbl"))
    first_rows = [flat("".join(x.text or "" for x in t.find(f"{W}tr").iter(f"{W}t")))
                  for t in body["heading-row"].iterchildren(f"{W}tbl")]
    assert first_rows == ["二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议、行政诉讼情况"]
    assert len(list(body["border"].iter(f"{W}pBdr"))) > 10
    boxes = list(body["textbox"].iter(f"{W}txbxContent"))
    assert len(boxes) == 2 * 9  # 一, 五, 六 one box each, 二–四 two (text above and below the table); each copied


@pytest.mark.parametrize("style", ["table", "frame", "textbox"])
def test_paragraphs_out_of_boxes_point_at_their_element(style, files):
    _, paths = files
    path = paths["docx"][f"town-{style}"]
    body = docx.Document(str(path)).element.body
    paragraphs = [b for b in read(path).blocks if isinstance(b, Paragraph) and b.text]
    assert len(paragraphs) > 15
    for b in paragraphs:
        el = body
        for i in b.source.path:
            el = list(el.iterchildren())[i]
        assert el.tag == f"{W}p"
        assert flat("".join(t.text or "" for t in el.iter(f"{W}t"))) == flat(b.text)


def test_a_heading_out_of_a_table_row_keeps_the_cell_as_its_source(files):
    _, paths = files
    doc = read(paths["docx"]["town-heading-row"])
    heading = next(b for b in doc.blocks if isinstance(b, Paragraph) and b.text == "二、主动公开政府信息情况")
    table = doc.blocks[doc.blocks.index(heading) + 1]
    assert isinstance(table, Table) and table.rows[0][0] == "第二十条第（一）项"
    assert heading.source.path[-2:] == (0, 0) and heading.source.path[:-2] == table.source.path
    pdf = read(paths["pdf"]["town-heading-row"])
    heading = next(b for b in pdf.blocks if isinstance(b, Paragraph) and b.text == "二、主动公开政府信息情况")
    assert heading.page == 1 and heading.source.box is not None


# ---- the report's own tables are not boxes ------------------------------------------------------


def _raw(path):
    """What the reader gives, before the layout step."""
    return BY_EXTENSION[path.suffix.lower()].load()(path, Limits())


@needs_shared
@pytest.mark.parametrize("name", ["template-2021.docx", "huaian-2024.pdf"])
def test_real_samples_keep_their_tables(name):
    import pdfplumber

    path = SAMPLES / name
    raw = _raw(path)
    assert unbox(raw) is raw
    assert len(raw.tables) >= 3
    if path.suffix == ".pdf":  # and the PDF reader left every found grid whole
        with pdfplumber.open(path) as pdf:
            grids = [t.extract() for page in pdf.pages for t in page.find_tables()]
        wide = [g for g in grids if max(sum(1 for c in r if c is not None) for r in g) >= 2]  # not framed text
        assert wide and all(data_runs(g) == [(0, len(g))] for g in wide)
    else:
        assert [len(t.rows) for t in raw.tables] == [14, 28, 4]


@needs_shared
def test_seeds_are_unchanged():
    seeds = sorted(SEEDS.iterdir())
    assert seeds
    for path in seeds:
        raw = _raw(path)
        assert unbox(raw) is raw, path.name


def test_blank_template_and_its_pdf_keep_their_tables(tmp_path):
    """The blank template: merged header rows, the 勾稽关系 note, label rows with empty cells."""
    path = blank_template(2024, tmp_path / "blank.docx")
    (pdf,) = write_pdfs([path], tmp_path / "pdf")
    for p in (path, pdf):
        raw = _raw(p)
        assert unbox(raw) is raw
        assert len(raw.tables) >= 3 and not any(is_box(t.rows) for t in raw.tables)
    assert [len(t.rows) for t in read(path).tables] == [14, 28, 4]


@needs_shared
def test_a_tables_last_row_alone_on_the_next_page_stays_in_the_table(tmp_path):
    """LibreOffice prints the national template's 表三 with its last row alone on the next page:
    one row of (empty) figure cells is a piece of the table, not a line of text."""
    (pdf,) = write_pdfs([SAMPLES / "template-2021.docx"], tmp_path)
    doc = read(pdf)
    pieces = [t for t in doc.tables if any(flat(r[0] or "") == "四、结转下年度继续办理" for r in t.rows)]
    assert len(pieces) == 1 and pieces[0].row_page(len(pieces[0].rows) - 1) == 3
    assert not any("结转下年度" in p.text for p in doc.paragraphs)
    assert parse_file(pdf).report.sections["3"] == ""


@pytest.mark.parametrize("rows", [
    [["行政事业性收费", "96171.6"]],  # a table of one data row
    [["四、结转下年度继续办理", None, None, "", "", "", "", "", "", ""]],  # a blank row cut off by a page break
    [["第二十条第（八）项", None, None, None], ["信息内容", "本年收费金额（单位：万元）", None, None],
     ["行政事业性收费", "", None, None]],
    [["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", None, None, "申请人情况", None],
     [None, None, None, "自然人", "法人或其他组织"], ["一、本年新收政府信息公开申请数量", None, None, "", ""]],
    [["", ""], ["", ""]],  # an empty grid
])
def test_data_tables_are_left_whole(rows):
    assert not is_box(rows)
    assert data_runs(rows) == [(0, len(rows))]


# ---- unbox on documents --------------------------------------------------------------------


def test_a_heading_row_in_the_middle_cuts_the_table_in_two():
    rows: list[list[str | None]] = [["信息内容", "本年制发件数"], ["规章", "1"], ["三、收到和处理政府信息公开申请情况", None],
                                    ["一、本年新收政府信息公开申请数量", "3"], ["总计", "3"]]
    cells = [[Source((4, r, c)) if v is not None else None for c, v in enumerate(row)] for r, row in enumerate(rows)]
    doc = unbox(Document([Table(rows, source=Source((4,)), cell_sources=cells)], "docx"))
    first, heading, second = doc.blocks
    assert isinstance(first, Table) and first.rows == rows[:2]
    assert isinstance(heading, Paragraph) and heading.text == "三、收到和处理政府信息公开申请情况"
    assert heading.source == Source((4, 2, 0))
    assert isinstance(second, Table) and second.rows == rows[3:]
    assert second.cell_source(0, 1) == Source((4, 3, 1))


def test_a_boxed_cell_becomes_its_paragraphs_with_the_cells_page():
    text = "一、总体情况\n2024年，本镇认真贯彻落实《条例》。\n（一）主动公开。做到应公开尽公开。"
    doc = unbox(Document([Table([[text, None]], page=2, row_pages=[2], cell_sources=[[Source(page=2, box=(1, 2, 3, 4)), None]])],
                         "txt-word"))
    assert [(p.text, p.page, p.source.box) for p in doc.blocks] == [
        ("一、总体情况", 2, (1, 2, 3, 4)), ("2024年，本镇认真贯彻落实《条例》。", 2, (1, 2, 3, 4)),
        ("（一）主动公开。做到应公开尽公开。", 2, (1, 2, 3, 4))]


def test_a_pdf_cells_wrapped_lines_join_into_one_paragraph():
    text = "二、主动公开政府信息情况\n本年度主动公开政府信息情况见下\n表，全部按期公开。"
    doc = unbox(Document([Table([[text]], page=1)], "pdf"))
    assert [p.text for p in doc.blocks] == ["二、主动公开政府信息情况", "本年度主动公开政府信息情况见下表，全部按期公开。"]


def test_sentences_at_the_table_edges_go_middle_notes_stay():
    rows: list[list[str | None]] = [["本表为本年度主动公开情况。", None, None], ["信息内容", "件数", "金额"], ["规章", "1", "2"],
                                    ["注：金额为估算数，仅供参考。", None, None], ["规范性文件", "3", "4"],
                                    ["", "", ""], ["以上数据截至12月31日。", None, None]]
    doc = unbox(Document([Table(rows)], "docx"))
    kinds = [type(b).__name__ for b in doc.blocks]
    assert kinds == ["Paragraph", "Table", "Paragraph"]
    assert doc.blocks[1].rows == rows[1:5]  # the empty margin row goes with the text below it


def test_hostile_boxes_stay_fast(tmp_path):
    """A one-cell table of 100,000 paragraphs and a table of 5,000 one-cell rows, as real .docx."""
    lines = "".join(f"<w:p><w:r><w:t>第{i}行：这是一段很长的文字，没有任何意义。</w:t></w:r></w:p>" for i in range(100_000))
    rows = "".join(f"<w:tr><w:tc><w:p><w:r><w:t>第{i}格</w:t></w:r></w:p></w:tc></w:tr>" for i in range(5_000))
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    for name, inner, want in (("lines", f"<w:tr><w:tc>{lines}</w:tc></w:tr>", 100_000), ("rows", rows, 5_000)):
        d = docx.Document()
        d.add_paragraph("巨鹿县官亭镇人民政府2024年政府信息公开工作年度报告")
        d.element.body.insert(1, parse_xml(f"<w:tbl {ns}><w:tblGrid><w:gridCol w:w='9000'/></w:tblGrid>{inner}</w:tbl>"))
        path = tmp_path / f"{name}.docx"
        d.save(str(path))
        start = time.perf_counter()
        doc = read(path)
        read_s = time.perf_counter() - start
        parsed = normalize(doc)
        parse_s = time.perf_counter() - start - read_s
        assert not doc.tables and len(doc.paragraphs) == want + 1
        assert not any(parsed.report.sections.values())  # no line was taken for a part
        # generous bounds for a loaded 2-core CI machine: 2–3 s and ~1 s here
        assert read_s < 10 and parse_s < 10, (name, read_s, parse_s)
    assert check_file(path, year=2024).findings  # a report with no parts: findings, not a traceback
    start = time.perf_counter()
    sentences: list[list[str | None]] = [[f"第{i}句。", None] for i in range(5_000)]
    doc = unbox(Document([Table([["\n".join(f"第{i}行。" for i in range(100_000))]]),
                          Table([[f"第{i}格"] for i in range(5_000)]),
                          Table([*sentences, ["规章", "1"], *sentences])], "pdf"))
    assert len(doc.blocks) == 1 + 5_000 + 5_000 + 1 + 5_000
    assert time.perf_counter() - start < 5


# ---- pictures --------------------------------------------------------------------------------


@pytest.mark.parametrize("markup", PICTURE_MARKUPS)
def test_tables_pasted_as_pictures_are_counted(markup, files):
    _, paths = files
    doc = read(paths["docx"][f"pictures-tables-{markup}"])
    assert doc.images == 3 and not doc.tables
    assert any(b.text.startswith("二、主动公开") for b in doc.paragraphs)
    pdf = read(paths["pdf"][f"pictures-tables-{markup}"])
    assert pdf.images == 3 and not pdf.tables


@pytest.mark.parametrize("markup", PICTURE_MARKUPS)
def test_pictures_pasted_into_word_that_hold_no_report_are_no_text(markup, files):
    """Every picture of a .docx with no text of its own is read by OCR (readers/scan.py); these
    pictures are grids with no writing, so the file ends as file.no_text, saying why."""
    _, paths = files
    with pytest.raises(ReadError) as err:
        read(paths["docx"][f"pictures-all-{markup}"])
    assert err.value.rule == "file.no_text" and err.value.values["images"] == 3
    assert "共 3 页" in err.value.message and "Word/WPS 原文件" in err.value.message
    result = check_file(paths["docx"][f"pictures-all-{markup}"], year=2024)
    assert [f.rule for f in result.findings] == ["file.no_text"]
    # the PDF Word makes of it has only its page numbers as text: a scan too
    with pytest.raises(ReadError) as err:
        read(paths["pdf"][f"pictures-all-{markup}"])
    assert err.value.rule == "file.no_text" and "扫描件" in err.value.message


def test_plain_reports_have_no_pictures(files):
    _, paths = files
    assert read(paths["docx"]["town-plain"]).images == 0 == read(paths["pdf"]["town-plain"]).images


def test_an_empty_docx_is_no_text(tmp_path):
    d = docx.Document()
    d.add_paragraph("   ")
    d.add_table(rows=2, cols=2)
    d.save(str(tmp_path / "empty.docx"))
    with pytest.raises(ReadError) as err:
        read(tmp_path / "empty.docx")
    assert err.value.rule == "file.no_text" and "没有任何文字" in err.value.message
