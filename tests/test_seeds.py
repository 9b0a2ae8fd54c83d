"""The five real sample reports get the verdicts and findings of the spec's §5 (year 2024,
county 巨鹿县), with and without the county's roster."""

from __future__ import annotations

import pytest

from nianbao.check import check_file
from tests.conftest import SEEDS, needs_shared

pytestmark = needs_shared

# sample → (body as read, verdict, rules that must be found, rules that must not)
EXPECTED = {
    "000": ("王虎寨镇人民政府", "rejected",
            {"template.outdated", "title.nonstandard", "content.prior_year", "content.fee_statement"},
            {"sections.missing", "table.cell_invalid", "table.missing", "year.mismatch"}),
    "001": ("巨鹿县官亭镇人民政府", "accepted", {"content.fee_statement", "content.prior_year"},
            {"template.outdated", "title.nonstandard", "sections.missing"}),
    "002": ("王店镇人民政府", "rejected", {"identity.foreign_place", "period.missing"},
            {"template.outdated", "sections.missing", "table.cell_invalid"}),
    "003": ("巨鹿县张王疃乡", "rejected",
            {"year.mismatch", "template.outdated", "sections.numbering", "sections.empty", "title.nonstandard"},
            {"sections.missing", "table.cell_invalid", "identity.foreign_place"}),
    "004": ("巨鹿县人民政府办公室", "accepted", {"content.prior_year"},
            {"table3.row_total", "table3.results_total", "table3.balance", "narrative.applications",
             "narrative.review_litigation", "narrative.table2", "identity.foreign_place", "title.nonstandard"}),
}
BODY_CODES = {"000": "wanghuzhai", "001": "guanting", "003": "zhangwangtuan", "004": "xianzhengfuban"}


def seed(n: str):
    (path,) = SEEDS.glob(f"{n}_*.txt")
    return path


@pytest.mark.parametrize("n", sorted(EXPECTED))
def test_seed_verdict_and_findings(n):
    body, verdict, must, must_not = EXPECTED[n]
    result = check_file(seed(n), year=2024, county="巨鹿县")
    rules = {f.rule for f in result.findings}
    assert result.report.body == body
    assert result.verdict == verdict, [(f.rule, f.message) for f in result.errors]
    assert must <= rules, must - rules
    assert not (must_not & rules), must_not & rules


@pytest.mark.parametrize("n", sorted(EXPECTED))
def test_seed_against_the_roster(n, roster):
    """Submitted for its body (or, for 王店镇, for nobody): the same verdicts; 王店镇 is not ours."""
    body = roster.by_code(BODY_CODES[n]) if n in BODY_CODES else None
    result = check_file(seed(n), year=2024, roster=roster, body=body)
    rules = {f.rule for f in result.findings}
    assert result.verdict == EXPECTED[n][1]
    assert EXPECTED[n][2] <= rules
    if n == "002":
        assert {"identity.unknown_body", "identity.foreign_place"} <= rules
    else:
        assert not rules & {"identity.unknown_body", "identity.wrong_body", "identity.foreign_place"}


def test_004_tables_are_consistent():
    """Sample 004 (PDF-extracted): 11 new = 10 granted + 1 other; table 四 all zero."""
    report = check_file(seed("004"), year=2024, county="巨鹿县").report
    t3 = report.table3
    assert t3["new"] == [11, 0, 0, 0, 0, 0, 11]
    assert t3["granted"] == [10, 0, 0, 0, 0, 0, 10]
    assert t3["other_other"] == [1, 0, 0, 0, 0, 0, 1]
    assert t3["total"] == [11, 0, 0, 0, 0, 0, 11]
    assert report.table4 == [0] * 15
    assert report.title == "巨鹿县人民政府办公室2024年政府信息公开工作年度报告"


def test_2019_seeds_map_onto_2021_keys():
    for n in ("000", "003"):
        report = check_file(seed(n), year=2024).report
        assert report.template == "2019"
        assert set(report.table3) == set(check_file(seed("001"), year=2024).report.table3)
        assert report.table2["rules"] == [None, None, None]  # 2019 columns mean something else
        assert report.table2["licensing"] == 0
        assert all(v == 0 for row in report.table3.values() for v in row)


def test_bookmark_artifact_is_stripped_and_reported():
    result = check_file(seed("001"), year=2024)
    assert "[bookmark" not in "".join(result.report.sections.values())
    assert any(f.rule == "text.artifacts" and f.location.line == 9 for f in result.findings)


def test_no_seed_has_a_heading_from_the_preamble_or_table_labels():
    for n in EXPECTED:
        result = check_file(seed(n), year=2024)
        assert [h.section for h in result.parsed.evidence.headings] == ["1", "2", "3", "4", "5", "6"]
