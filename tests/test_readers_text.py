"""Text and Markdown with pipe (or HTML) tables, and .rtf, read into the same neutral document:
the same report gives the same JSON as its .docx whatever converter or editor wrote it; hostile
tables end as a finding or a correct read, in time linear in their size."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nianbao.check import check_file, parse_file
from nianbao.document import Table
from nianbao.generate import MD_STYLES, ReportSpec, md_text, txt_pipe, write_docx, write_md, write_txt
from nianbao.libreoffice import convert
from nianbao.normalize import normalize
from nianbao.readers import SUPPORTED, ReadError, read
from nianbao.template import flat
from tests.test_formats import _specs

SPECS = _specs()  # zeros, township, big numbers, the 2019 template, a one-line title
RTF_AS_DOC = ("township", "old")


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    out = tmp_path_factory.mktemp("text-formats")
    docs: dict[str, dict[str, Path]] = {name: {} for name in SPECS}
    for name, spec in SPECS.items():
        docs[name]["docx"] = write_docx(spec, out / f"{name}.docx")
        for style in MD_STYLES:
            docs[name][f"md-{style}"] = write_md(spec, out / f"{name}-{style}.md", style)
        docs[name]["txt-pipe"] = write_txt(spec, out / f"{name}-pipe.txt", shape="pipe")
    rtfs = convert([docs[n]["docx"] for n in SPECS], "rtf", out / "rtf")  # one soffice start for all
    for name, rtf in zip(SPECS, rtfs, strict=True):
        docs[name]["rtf"] = rtf
        if name in RTF_AS_DOC:  # Word and WPS save RTF under a .doc name
            docs[name]["rtf-as-doc"] = shutil.copy(rtf, out / f"{name}-rtf.doc")
    return docs


@pytest.fixture(scope="module")
def docx_json(documents):
    return {name: parse_file(documents[name]["docx"]).report.to_json() for name in SPECS}


FORMATS = [*(f"md-{s}" for s in MD_STYLES), "txt-pipe"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(SPECS))
def test_markdown_and_pipe_text_give_the_docx_json(name, fmt, documents, docx_json):
    assert parse_file(documents[name][fmt]).report.to_json() == docx_json[name]


@pytest.mark.parametrize("name", list(SPECS))
def test_rtf_gives_the_docx_json(name, documents, docx_json):
    assert parse_file(documents[name]["rtf"]).report.to_json() == docx_json[name]
    if name in RTF_AS_DOC:
        assert parse_file(documents[name]["rtf-as-doc"]).report.to_json() == docx_json[name]


def _texts(t: Table) -> list[list[str]]:
    return [[c for c in row if c] for row in t.rows]


def test_tables_have_the_docx_shape(documents):
    """Rows of cell texts, merged positions None where the text shows them, every row with its
    line and every cell's source that line."""
    docx = read(documents["township"]["docx"]).tables
    for fmt in ("md-atx", "md-split", "md-generic", "md-bare", "txt-pipe"):
        path = documents["township"][fmt]
        lines = path.read_text(encoding="utf-8").split("\n")
        tables = read(path).tables
        assert len(tables) == 3, fmt  # table 三's two pieces are one again; no generic header row
        for ours, theirs in zip(tables, docx, strict=True):
            assert len(ours.rows) == len(theirs.rows), fmt
            assert {len(r) for r in ours.rows} == {len(theirs.rows[0])}, fmt
            if fmt in ("md-atx", "md-split"):  # merged cells left empty: the same texts in the same rows
                assert [[flat(c) for c in r] for r in _texts(ours)] == [[flat(c) for c in r] for r in _texts(theirs)]
            for r, row in enumerate(ours.rows):
                line = ours.row_line(r)
                assert line and ours.cell_sources[r] and "|" in lines[line - 1]
                for c, text in enumerate(row):
                    src = ours.cell_source(r, c)
                    assert (src is None) == (text is None)
                    if text:
                        assert src.line == line and flat(text)[:4] in flat(lines[line - 1]).replace("<br>", "")
    # merged cells repeated by the converter: every row with figures folds to the docx's grid
    for ours, theirs in zip(read(documents["township"]["md-generic"]).tables[1:], docx[1:], strict=True):
        figures = [i for i, r in enumerate(theirs.rows) if any(c and c.isdigit() for c in r)]
        assert figures and all(ours.rows[i] == theirs.rows[i] for i in figures)
    # an HTML table (MinerU, marker) is expanded exactly as the docx reader expands Word's merges
    assert [t.rows for t in read(documents["township"]["md-html"]).tables] == [t.rows for t in docx]


def test_table2_merged_figure_cell_is_one_cell(tmp_path):
    """表二's 行政许可 | 5 | | |: the empty positions are the merged cell's, not figures left blank;
    the same row with its empties dropped (a ragged row) reads the same."""
    spec = ReportSpec(table2={"rules": [1, 0, 4], "normative": [2, 1, 9], "licensing": 5, "penalty": 7,
                              "coercion": 0, "fees_10k_yuan": 1.5})
    text = md_text(spec)
    want = parse_file(write_docx(spec, tmp_path / "r.docx")).report.to_json()["table2"]
    ragged = re.sub(r"^(\| (?:行政许可|行政处罚|行政强制|行政事业性收费) \| [\d.]+ \|)(?:  \|)+$", r"\1", text, flags=re.M)
    assert ragged != text
    for i, t in enumerate((text, ragged)):
        p = tmp_path / f"r{i}.md"
        p.write_text(t, encoding="utf-8")
        assert parse_file(p).report.to_json()["table2"] == want
        t2 = read(p).tables[0]
        assert t2.rows[6] == ["行政许可", "5", None, None]


@pytest.mark.parametrize("header", [
    "| 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 |",  # pandas' column numbers: figures, but no data
    "| Column1 | Column2 | Column3 | Column4 | Column5 | Column6 | Column7 | Column8 | Column9 | Column10 |",
    "| 列1 | 列2 | 列3 | 列4 | 列5 | 列6 | 列7 | 列8 | 列9 | 列10 |",
    "|  |  |  |  |  |  |  |  |  |  |",
])
def test_generic_header_rows_are_not_data(header, tmp_path, documents, docx_json):
    text = documents["township"]["md-atx"].read_text(encoding="utf-8")
    first = next(ln for ln in text.split("\n") if ln.startswith("| （本列数据"))
    sep = "|" + " --- |" * 10
    text = text.replace(first, f"{header}\n{sep}\n{first}", 1).replace(f"{first}\n{sep}", first, 1)
    p = tmp_path / "h.md"
    p.write_text(text, encoding="utf-8")
    assert parse_file(p).report.to_json() == docx_json["township"]
    assert len(read(p).tables[1].rows) == len(read(documents["township"]["docx"]).tables[1].rows)


def test_ragged_rows_and_missing_pipes(tmp_path, documents, docx_json):
    """Rows that lost their trailing empty cells, rows with a stray empty cell beyond the last
    column, rows without outer pipes, no ruling line at all: the same report."""
    out = []
    for i, ln in enumerate(documents["big"]["md-atx"].read_text(encoding="utf-8").split("\n")):
        if not ln.startswith("|"):
            out.append(ln)
        elif set(ln) <= set("|- "):
            continue  # what PDF-to-text tools write: no ruling
        elif i % 3 == 0:
            out.append(re.sub(r"(?:\s*\|\s*)+$", " |", ln))  # trailing empties dropped
        elif i % 3 == 1:
            out.append(ln + "  |")  # one more (empty) cell than the header
        elif ln.startswith("| （") or ln.startswith("| 一"):
            out.append(ln.strip("| "))  # no outer pipes (only where the first cell is not empty)
        else:
            out.append(ln)
    p = tmp_path / "ragged.md"
    p.write_text("\n".join(out), encoding="utf-8")
    assert parse_file(p).report.to_json() == docx_json["big"]


def _tight(ln: str) -> str:
    return "|" + "|".join(c.strip() for c in ln.strip().strip("|").split("|")) + "|"


def _pymupdf(text: str) -> str:
    """pymupdf4llm: "## **heading**", no spaces around pipes, its own Col1… header."""
    out: list[str] = []
    for ln in re.sub(r"^## (.*)$", r"## **\1**", text, flags=re.M).split("\n"):
        if not ln.startswith("|"):
            out.append(ln)
        elif not set(ln) <= set("|- "):
            if not out or not out[-1].startswith("|"):
                n = len(_tight(ln).split("|")) - 2
                out += ["|" + "|".join(f"Col{k + 1}" for k in range(n)) + "|", "|" + "---|" * n]
            out.append(_tight(ln))
    return "\n".join(out)


def _grid_drawn(text: str, h: str = "+", v: str = "|", dash: str = "-") -> str:
    """A text tool that draws the grid: a ruling between every two rows."""
    out: list[str] = []
    for ln in text.split("\n"):
        if not ln.startswith("|"):
            out.append(ln)
        elif not set(ln) <= set("|- "):
            rule = h + h.join([dash * 4] * (ln.count("|") - 1)) + h
            if not out or not out[-1].startswith(h):
                out.append(rule)
            out += [ln.replace("|", v), rule]
    return "\n".join(out)


DIALECTS = {
    "pymupdf4llm": _pymupdf,
    "marker page markers": lambda t: t.replace("- 2 -", "{1}" + "-" * 48),
    "full-width pipes": lambda t: "\n".join(ln.replace("|", "｜") if ln.startswith("|") else ln for ln in t.split("\n")),
    "in a blockquote": lambda t: "\n".join("> " + ln if ln.startswith("|") else ln for ln in t.split("\n")),
    "ascii grid": _grid_drawn,
    "box drawing": lambda t: _grid_drawn(t, "┼", "│", "─"),
    "docling image marker": lambda t: t.replace("\n\n根据", "\n\n<!-- image -->\n\n根据", 1),
}


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_converter_dialects(dialect, tmp_path, documents, docx_json):
    text = documents["township"]["md-split"].read_text(encoding="utf-8")
    p = tmp_path / "d.md"
    p.write_text(DIALECTS[dialect](text), encoding="utf-8")
    assert p.read_text(encoding="utf-8") != text
    assert parse_file(p).report.to_json() == docx_json["township"]


def test_page_numbers_anywhere_in_pdf_to_text_with_pipes(tmp_path, docx_json):
    """A page number ("- 3 -") between any two lines: in a paragraph, between table rows."""
    for name in ("township", "old"):
        for every in (5, 7, 11):
            p = tmp_path / f"{name}-{every}.txt"
            p.write_text(txt_pipe(SPECS[name], page_lines=every), encoding="utf-8")
            assert parse_file(p).report.to_json() == docx_json[name], (name, every)


def test_markdown_marks_leave_the_text(tmp_path):
    spec = ReportSpec(sections={"6": ["本年度**未收取**信息处理费，标注\\*号的栏目&nbsp;为<span>新增</span>。"
                                      "详见[门户网站](http://www.julu.gov.cn/a_b_c)。"]})
    text = md_text(spec, "bold") + "\n---\n\n<!-- 第 3 页 -->\n\n> 注：以上数据截至12月31日。\n"
    p = tmp_path / "m.md"
    p.write_text(text, encoding="utf-8")
    report = parse_file(p).report
    assert report.sections["6"].split("\n")[0] == "本年度未收取信息处理费，标注*号的栏目为新增。详见门户网站。"
    assert report.sections["6"].split("\n")[1] == "注：以上数据截至12月31日。"
    assert "**" not in "".join(report.sections.values()) and "&" not in "".join(report.sections.values())


def test_unsupported_type_lists_the_new_formats(tmp_path):
    assert {".md", ".markdown", ".rtf"} <= set(SUPPORTED)
    p = tmp_path / "r.xlsx"
    p.write_bytes(b"PK\x03\x04junk")
    (finding,) = check_file(p).findings
    assert finding.rule == "file.unsupported_type" and ".md" in finding.message and ".rtf" in finding.message


def test_mislabelled_markdown_and_rtf(tmp_path, documents):
    md = tmp_path / "r.md"
    md.write_bytes(documents["zeros"]["docx"].read_bytes())
    rtf = tmp_path / "r.rtf"
    rtf.write_text(md_text(ReportSpec()), encoding="utf-8")
    for p in (md, rtf):
        (finding,) = check_file(p).findings
        assert finding.rule == "file.unreadable" and "内容实际是" in finding.message


def test_markdown_with_no_report(tmp_path):
    p = tmp_path / "readme.md"
    p.write_text("# 使用说明\n\n本工具用于整理数据。\n\n| 名称 | 数量 | 单价 |\n|---|---|---|\n| 纸张 | 3 | 20 |\n"
                 "| 墨盒 | 1 | 150 |\n\n```\npip install x\n```\n\n## 更新日志\n\n- 修复若干问题\n", encoding="utf-8")
    result = check_file(p, year=2024)
    rules = {f.rule for f in result.findings}
    assert result.verdict == "rejected" and "table.missing" in rules and not any(r.startswith("file.") for r in rules)


def _timed(path) -> tuple[float, set[str]]:
    start = time.perf_counter()
    result = check_file(path, year=2024)
    return time.perf_counter() - start, {f.rule for f in result.findings}


def test_huge_pipe_table_is_a_finding_in_linear_time(tmp_path):
    """100,000 rows: a table of figures over the cell limit is file.too_large, refused before it
    is built; one of two columns (under the limit) is read, in time linear in its rows."""
    figures = "| 项目 | 数据1 | 数据2 | 数据3 | 数据4 | 数据5 | 数据6 | 数据7 | 数据8 |\n|" + "---|" * 9 + "\n" + "".join(
        f"| 行{i} | {i} | 0 | 0 | 0 | 0 | 0 | 0 | {i} |\n" for i in range(100_000))
    p = tmp_path / "figures.md"
    p.write_text(figures, encoding="utf-8")
    took, rules = _timed(p)
    assert rules == {"file.too_large"} and took < 10

    times = {}
    for n in (10_000, 100_000):
        p = tmp_path / f"labels{n}.md"
        p.write_text("| 名称 | 说明 |\n|---|---|\n" + "".join(f"| 标签{i} | 说明 |\n" for i in range(n)), encoding="utf-8")
        times[n], rules = _timed(p)
        assert "table.missing" in rules and not any(r.startswith("file.") for r in rules)
    assert times[100_000] < 30 * max(times[10_000], 0.05), times  # ten times the rows: not a hundred times the time


def test_ten_thousand_columns(tmp_path, documents):
    """A table 三 row of 10,000 figures reads as the clerk wrote it (its last seven cells) and is
    judged; a bare 10,000-column table is no report."""
    text = documents["zeros"]["md-atx"].read_text(encoding="utf-8")
    row = next(ln for ln in text.split("\n") if ln.startswith("| 一、本年新收"))
    p = tmp_path / "wide-row.md"
    p.write_text(text.replace(row, "| 一、本年新收政府信息公开申请数量 | " + " | ".join(["1"] * 10_000) + " |"), encoding="utf-8")
    took, rules = _timed(p)
    assert took < 10 and "table3.balance" in rules and not any(r.startswith("file.") for r in rules)
    p = tmp_path / "wide.md"
    p.write_text("| " + " | ".join(f"数据{i}" for i in range(10_000)) + " |\n|" + "---|" * 10_000 + "\n| "
                 + " | ".join(["0"] * 10_000) + " |\n", encoding="utf-8")
    took, rules = _timed(p)
    assert took < 10 and "table.missing" in rules and not any(r.startswith("file.") for r in rules)


@pytest.mark.parametrize("mark", ["[", "<!--", "`", "<http:", "**a", "[a](", "![", "~~", "|", "#", " ", "*", "\\"])
def test_pathological_lines_stay_linear(mark, tmp_path):
    """A 400,000-character line of one repeated mark (links, comments, code spans … that never
    close, a one-row table of 400,000 cells): read and normalised in well under a few seconds,
    never a pattern that goes back over the line for every mark in it."""
    p = tmp_path / "line.md"
    p.write_text("# 报告\n\n" + mark * (400_000 // len(mark)) + "x\n", encoding="utf-8")
    start = time.perf_counter()
    normalize(read(p))
    assert time.perf_counter() - start < 5


_PIECES = ["|", " | ", "||", "\\|", "---", "|---|", ":--:", "+--+", "｜", "│", "\n", "\n\n", "# ", "## ", "**", "*", "_",
           "__", "~~", "`", "```\n", "\\", "[", "](", ")", "![", "<br>", "<table>", "<tr>", "<td rowspan=\"3\">",
           "<td colspan=\"99999\">", "</td>", "</tr>", "</table>", "<!--", "-->", "&nbsp;", "&#x4e00;", "&", "> ", "- ",
           "- 3 -", "\f", "0", "17", "1.5", "—", "¹²³", "一、本年新收", "（七）总计", "三、收到和处理政府信息公开申请情况",
           "行政许可", "数据1", "列2", "予以公开", "。", "\t"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(_PIECES), max_size=120))
def test_any_marked_up_text_is_read_or_refused(tmp_path, pieces):
    p = tmp_path / "any.md"
    p.write_text("".join(pieces) or "x", encoding="utf-8")
    try:
        normalize(read(p))
    except ReadError as exc:
        assert exc.rule.startswith("file.")
