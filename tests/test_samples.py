"""The real documents in ../shared/samples."""

from __future__ import annotations

from nianbao.check import check_file
from nianbao.template import TABLE3_KEYS
from tests.conftest import SAMPLES, needs_shared

pytestmark = needs_shared

ARITHMETIC = {"table3.row_total", "table3.results_total", "table3.balance", "table4.total",
              "table.cell_invalid", "table.negative", "table.missing", "table2.valid_vs_made"}


def test_huaian_pdf_parses_to_its_exact_tables():
    result = check_file(SAMPLES / "huaian-2024.pdf", year=2024)
    r = result.report
    assert r.body == "淮安市人民政府" and r.year == 2024 and r.template == "2021"
    assert r.table3["new"] == [3001, 53, 0, 0, 61, 4, 3119]
    assert r.table3["total"] == [2932, 53, 0, 0, 61, 4, 3050]
    assert r.table3["carried_forward"] == [103, 0, 0, 0, 0, 0, 103]
    assert r.table3["carried_over"] == [34, 0, 0, 0, 0, 0, 34]
    # rows whose labels wrap, and whose merged group label is split by the page break
    assert r.table3["partial"] == [447, 7, 0, 0, 0, 0, 454]
    assert r.table3["unable_needs_creation"] == [11, 0, 0, 0, 0, 0, 11]
    assert r.table3["other_no_correction"] == [67, 3, 0, 0, 1, 0, 71]
    assert r.table4 == [72, 64, 178, 37, 351, 13, 4, 8, 1, 26, 12, 1, 1, 6, 20]
    assert r.table2 == {"rules": [1, 0, 11], "normative": [8, 26, 66], "licensing": 447228, "penalty": 3985758,
                        "coercion": 88283, "fees_10k_yuan": 96171.6}
    assert all(None not in r.table3[k] for k in TABLE3_KEYS)
    assert not ARITHMETIC & {f.rule for f in result.findings}
    # a 设区的市 may make 规章; its narrative agrees with its tables
    assert not {"table2.regulations_not_allowed", "narrative.applications", "narrative.review_litigation",
                "narrative.breakdown"} & {f.rule for f in result.findings}


def test_huaian_sections_and_pages():
    result = check_file(SAMPLES / "huaian-2024.pdf", year=2024)
    ev = result.parsed.evidence
    assert [h.section for h in ev.headings] == ["1", "2", "3", "4", "5", "6"]
    assert [h.page for h in ev.headings] == [1, 3, 4, 5, 5, 6]
    assert result.report.period == {"text": "2024年1月1日至2024年12月31日", "start": "2024-01-01", "end": "2024-12-31"}
    assert "- 3 -" not in "".join(result.report.sections.values())
    assert result.report.sections["6"].endswith("全年收取政府信息公开信息处理费3940元。")


def test_huaian_is_foreign_to_julu():
    result = check_file(SAMPLES / "huaian-2024.pdf", year=2024, county="巨鹿县")
    assert result.verdict == "rejected"
    assert [f.rule for f in result.errors] == ["identity.foreign_place"]


def test_blank_template_is_2021_with_empty_cells():
    result = check_file(SAMPLES / "template-2021.docx", year=2024)
    r = result.report
    assert r.template == "2021"
    assert r.table3["new"] == [None] * 7 and r.table4 == [None] * 15 and r.table2["rules"] == [None] * 3
    cell_findings = [f for f in result.findings if f.rule == "table.cell_invalid"]
    assert {f.location.table for f in cell_findings} == {"table2", "table3", "table4"}
    (t3,) = [f for f in cell_findings if f.location.table == "table3"]  # one finding naming all 25 rows
    assert len(t3.location.places) == 25 and "共25行" in t3.message and "175格" in t3.message
    assert {"text.placeholder", "sections.empty"} <= {f.rule for f in result.findings}
    assert not {"table.missing", "sections.missing", "template.outdated"} & {f.rule for f in result.findings}
    assert result.verdict == "rejected"
