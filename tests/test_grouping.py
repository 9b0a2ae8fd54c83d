"""The same rule at many places of one table is one finding that names them all; its location
keeps every place; the record, the delta between versions and the notice see it so."""

from __future__ import annotations

from nianbao.check import check_file, group_findings
from nianbao.generate import write_docx, write_txt
from nianbao.model import Finding, Location, Severity
from nianbao.template import TABLE3_KEYS
from tests.caselib import base_spec

LEGAL_PERSONS = range(1, 6)  # 商业企业 … 其他: the five kinds of 法人或其他组织


def _blank_legal_persons(spec):
    spec.raw_cells = {("table3", k, i): "" for k in TABLE3_KEYS for i in LEGAL_PERSONS}
    return spec


def test_every_legal_person_cell_blank_is_one_finding(tmp_path):
    for path in (write_docx(_blank_legal_persons(base_spec()), tmp_path / "r.docx"),
                 write_txt(_blank_legal_persons(base_spec()), tmp_path / "r.txt")):
        result = check_file(path, year=2024, county="巨鹿县")
        cells = [f for f in result.findings if f.rule == "table.cell_invalid"]
        assert len(cells) == 1, [f.message for f in cells]
        (f,) = cells
        assert f.location.table == "table3" and f.location.row is None
        assert [p.row for p in f.location.places] == list(TABLE3_KEYS)
        assert f.values["count"] == 25
        for word in ("25行", "商业企业", "法律服务机构", "5列", "125格", "空白", "填0"):
            assert word in f.message
        # nothing else stands for the same blanks
        assert [x.rule for x in result.findings] == ["table.cell_invalid"]


def test_different_problems_in_one_table_are_listed_with_the_advice_once(tmp_path):
    spec = base_spec()
    spec.raw_cells = {("table3", "new", 6): "86x", ("table3", "granted", 2): "—", ("table3", "total", 0): ""}
    result = check_file(write_docx(spec, tmp_path / "r.docx"), year=2024, county="巨鹿县")
    (f,) = [f for f in result.findings if f.rule == "table.cell_invalid"]
    assert f.message.startswith("表三共3处：（1）")
    assert f.message.count("每一格都应填写数字") == 1
    assert {(p.row, p.column) for p in f.location.places} == {("new", "total"), ("granted", "research"),
                                                              ("total", "natural_person")}


def test_arithmetic_at_many_rows_is_one_finding_per_rule(tmp_path):
    spec = base_spec()
    spec.table3["new"][6] += 1
    spec.table3["granted"][6] += 1
    result = check_file(write_docx(spec, tmp_path / "r.docx"), year=2024, county="巨鹿县")
    totals = [f for f in result.findings if f.rule == "table3.row_total"]
    assert len(totals) == 1 and {p.row for p in totals[0].location.places} == {"new", "granted"}
    assert totals[0].location.column == "total"  # what the places share


def test_findings_in_different_tables_or_of_other_rules_stay_apart():
    a = Finding("table.negative", Severity.ERROR, "表二…", Location(table="table2", row="licensing", column="count"))
    b = Finding("table.negative", Severity.ERROR, "表三…", Location(table="table3", row="new", column="total"))
    c = Finding("sections.numbering", Severity.WARNING, "…", Location(section="2"))
    d = Finding("sections.numbering", Severity.WARNING, "…", Location(section="3"))
    assert group_findings([a, b, c, d]) == [a, b, c, d]


def test_location_json_round_trip_keeps_every_place():
    loc = Location(table="table3", column="total", places=(Location(table="table3", row="new", column="total"),
                                                           Location(table="table3", row="granted", column="total")))
    assert Location.from_json(loc.to_json()) == loc
    assert loc.to_json()["places"][1] == {"table": "table3", "row": "granted", "column": "total"}
