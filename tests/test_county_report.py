"""The county report: random but balanced counties; the sums, the round trip of
the compiled .docx through the core reader, and the rules hold."""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from nianbao.check import check_file
from nianbao.county_report import (
    Contribution,
    figure_columns,
    summary_json,
    write_county_docx,
    write_county_xlsx,
)
from nianbao.generate import ReportSpec, balanced_table3, balanced_table4, expected_report
from nianbao.model import Finding, Severity
from nianbao.template import TABLE3_KEYS

ARITHMETIC = {"table3.row_total", "table3.results_total", "table3.balance", "table4.total", "table.cell_invalid",
              "table.negative", "table.missing", "table2.valid_vs_made", "table2.regulations_not_allowed",
              "narrative.applications", "narrative.review_litigation", "narrative.table2", "narrative.breakdown"}


def _county(seed: int, n: int, scale: int) -> list[Contribution]:
    rng = random.Random(seed)
    parts = []
    for i in range(n):
        spec = ReportSpec(body=f"第{i}单位", table3=balanced_table3(rng, rng.randint(0, scale)),
                          table4=balanced_table4(rng, rng.randint(0, 5)))
        made, repealed = rng.randint(0, 5), rng.randint(0, 3)
        spec.table2 = {"rules": [0, 0, 0], "normative": [made, repealed, made + rng.randint(0, 40)],
                       "licensing": rng.randint(0, 500), "penalty": rng.randint(0, 80), "coercion": rng.randint(0, 9),
                       "fees_10k_yuan": round(rng.uniform(0, 30), 2) if rng.random() < 0.5 else 0}
        warnings = (Finding("content.prior_year", Severity.WARNING, "没有说明上一年度问题的整改情况。"),) if i % 2 else ()
        parts.append(Contribution(code=f"body-{i}", name=spec.body, kind=("township", "department")[i % 2],
                                  version=1 + i % 3, sha256=f"{i:064x}", report=expected_report(spec), warnings=warnings))
    return parts


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 25), scale=st.integers(0, 3000))
def test_compiled_report_sums_round_trips_and_passes_the_rules(seed, n, scale):
    parts = _county(seed, n, scale)
    summary = summary_json("巨鹿县", 2024, parts)
    tables = summary["tables"]
    for k in TABLE3_KEYS:  # the sums, cell by cell
        assert tables["table3"][k] == [sum(p.report.table3[k][c] for p in parts) for c in range(7)]
    assert tables["table4"] == [sum(p.report.table4[c] for p in parts) for c in range(15)]
    assert abs(tables["table2"]["fees_10k_yuan"] - sum(p.report.table2["fees_10k_yuan"] for p in parts)) < 1e-6
    with tempfile.TemporaryDirectory() as tmp:
        docx = write_county_docx("巨鹿县", 2024, parts, Path(tmp) / "county.docx")
        result = check_file(docx, year=2024, county="巨鹿县")
    r = result.report
    assert (r.table2, r.table3, r.table4) == (tables["table2"], tables["table3"], tables["table4"])  # round trip
    assert r.body == "巨鹿县人民政府" and r.template == "2021" and r.year == 2024
    rules = {f.rule for f in result.findings}
    assert not rules & ARITHMETIC, [f.message for f in result.findings if f.rule in ARITHMETIC]
    # until the office writes 五 and 六 (and 一's part on management), the check says so
    assert "text.placeholder" in rules
    assert {f.location.section for f in result.findings if f.rule == "text.placeholder"} == {"1", "5", "6"}


def test_summary_json_has_the_agreed_keys_and_provenance():
    parts = _county(1, 4, 50)
    data = json.loads(json.dumps(summary_json("巨鹿县", 2024, parts), ensure_ascii=False))
    assert list(data) == ["county", "year", "tables", "bodies"]
    assert list(data["tables"]) == ["table2", "table3", "table4"]
    assert [list(b) for b in data["bodies"]] == [["code", "name", "version", "sha256", "table2", "table3", "table4"]] * 4
    assert data["bodies"][2]["sha256"] == parts[2].sha256 and data["bodies"][2]["version"] == parts[2].version


def test_workbook_sheets_breakdown_warnings_and_chart(tmp_path):
    parts = _county(2, 6, 200)
    path = write_county_xlsx("巨鹿县", 2024, parts, tmp_path / "county.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["表二 主动公开", "表三 依申请公开", "表四 复议诉讼", "分单位明细", "审核提醒", "申请办理情况"]
    tables = summary_json("巨鹿县", 2024, parts)["tables"]
    t3 = {row[0].value: [c.value for c in row[1:]] for row in wb["表三 依申请公开"].iter_rows(min_row=3)}
    assert t3["（七）总计"] == tables["table3"]["total"]
    per_body = list(wb["分单位明细"].iter_rows(values_only=True))
    heads = per_body[0]
    assert len(heads) == 4 + len(figure_columns()) == 4 + 10 + 175 + 15
    assert [row[0] for row in per_body[1:]] == [p.code for p in parts] + ["合计"]
    col = heads.index("表三·（七）总计·总计")
    assert [row[col] for row in per_body[1:-1]] == [p.report.table3["total"][6] for p in parts]
    assert per_body[-1][col] == tables["table3"]["total"][6]
    warnings = list(wb["审核提醒"].iter_rows(min_row=2, values_only=True))
    assert len(warnings) == 3 and all(w[2] == "content.prior_year" for w in warnings)
    assert len(wb["申请办理情况"]._charts) == 1
