"""The same report as .txt, .docx, .pdf (and .doc, and PDF-extracted text) gives the same JSON;
the generator lays tables out exactly like the official template."""

from __future__ import annotations

import random

import docx
import pytest

from nianbao.check import parse_file
from nianbao.generate import (
    ReportSpec,
    balanced_table3,
    balanced_table4,
    expected_report,
    write_all,
    write_docx,
    write_txt,
)
from nianbao.libreoffice import convert, soffice
from tests.conftest import SAMPLES, needs_shared


def _specs() -> dict[str, ReportSpec]:
    rng = random.Random(11)
    big = ReportSpec(body="巨鹿县人民政府办公室", table3=balanced_table3(rng, 4000), table4=balanced_table4(rng, 60))
    big.table2 = {"rules": [0, 0, 0], "normative": [12, 3, 140], "licensing": 447228, "penalty": 3985,
                  "coercion": 88, "fees_10k_yuan": 961.75}
    return {
        "zeros": ReportSpec(),
        "township": ReportSpec(body="巨鹿县王虎寨镇人民政府", table3=balanced_table3(rng, 15), table4=balanced_table4(rng, 2)),
        "big": big,
        "old": ReportSpec(body="巨鹿县张王疃乡人民政府", template="2019", table3=balanced_table3(rng, 9)),
        "one-line-title": ReportSpec(title_lines=1, table3=balanced_table3(rng, 30)),
    }


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    out = tmp_path_factory.mktemp("formats")
    specs = _specs()
    docs = write_all(specs, out)
    for name, spec in specs.items():
        docs[name]["txt-pdf"] = write_txt(spec, out / f"{name}-pdf.txt", shape="pdf")
    docs_doc = convert([docs[n]["docx"] for n in specs], "doc:MS Word 97", out / "doc")
    for name, d in zip(specs, docs_doc, strict=True):
        docs[name]["doc"] = d
    return specs, docs


@pytest.mark.parametrize("name", list(_specs()))
def test_same_json_in_every_format(name, documents):
    specs, docs = documents
    got = {fmt: parse_file(path).report.to_json() for fmt, path in docs[name].items() if fmt != "txt-pdf"}
    assert got["txt"] == got["docx"] == got["pdf"] == got["doc"]
    want = expected_report(specs[name]).to_json()
    period = got["docx"].pop("period")
    want.pop("period")
    assert got["docx"] == want
    assert period == {"text": f"{specs[name].year}年1月1日至12月31日", "start": f"{specs[name].year}-01-01",
                      "end": f"{specs[name].year}-12-31"}


@pytest.mark.parametrize("name", list(_specs()))
def test_pdf_extracted_text_gives_the_same_tables(name, documents):
    specs, docs = documents
    got = parse_file(docs[name]["txt-pdf"]).report.to_json()
    want = parse_file(docs[name]["docx"]).report.to_json()
    for key in ("body", "year", "title", "template", "period", "table2", "table3", "table4"):
        assert got[key] == want[key], key


def test_report_json_has_exactly_the_spec_keys(documents):
    _, docs = documents
    report = parse_file(docs["township"]["pdf"]).report.to_json()
    assert list(report) == ["body", "year", "title", "template", "period", "sections", "table2", "table3", "table4"]
    assert list(report["sections"]) == ["1", "2", "3", "4", "5", "6"]
    assert list(report["table2"]) == ["rules", "normative", "licensing", "penalty", "coercion", "fees_10k_yuan"]
    assert len(report["table3"]) == 25 and all(len(v) == 7 for v in report["table3"].values())
    assert len(report["table4"]) == 15


def _merge_layout(path):
    """Per table, per row: (gridSpan, vMerge) of every cell element."""
    return [[[(tc.grid_span, tc.vMerge) for tc in tr.tc_lst] for tr in t._tbl.tr_lst] for t in docx.Document(str(path)).tables]


@needs_shared
def test_generated_docx_has_the_official_merged_layout(tmp_path):
    ours = _merge_layout(write_docx(ReportSpec(), tmp_path / "ours.docx"))
    official = _merge_layout(SAMPLES / "template-2021.docx")
    assert ours == official


def test_doc_without_libreoffice_is_a_finding(tmp_path, monkeypatch, documents):
    """No soffice on PATH: a clear finding, not a traceback."""
    from nianbao.check import check_file

    _, docs = documents
    monkeypatch.setenv("PATH", str(tmp_path))
    result = check_file(docs["zeros"]["doc"], year=2024)
    assert [f.rule for f in result.findings] == ["file.unreadable"]
    assert "LibreOffice" in result.findings[0].message


def test_soffice_is_available_for_these_tests():
    assert soffice(), "LibreOffice is part of the test machine (.ci/run installs it)"
