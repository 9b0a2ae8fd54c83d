"""Properties over random reports: balanced tables read back exactly and pass the arithmetic;
any single changed figure in table 三 or 四 is caught."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from nianbao.check import check_file
from nianbao.generate import ReportSpec, balanced_table3, balanced_table4, write_txt
from nianbao.template import TABLE3_KEYS

ARITH3 = {"table3.row_total", "table3.results_total", "table3.balance"}


def _check(spec: ReportSpec, shape: str = "word"):
    with tempfile.TemporaryDirectory() as tmp:
        return check_file(write_txt(spec, Path(tmp) / "r.txt", shape=shape), year=2024, county="巨鹿县")


def _spec(seed: int, scale: int) -> ReportSpec:
    rng = random.Random(seed)
    return ReportSpec(table3=balanced_table3(rng, scale), table4=balanced_table4(rng, max(1, scale // 10)))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), scale=st.integers(0, 5000), shape=st.sampled_from(["word", "pdf"]))
def test_balanced_tables_round_trip_and_pass(seed, scale, shape):
    spec = _spec(seed, scale)
    result = _check(spec, shape)
    assert result.report.table3 == spec.table3
    assert result.report.table4 == spec.table4
    assert not {f.rule for f in result.findings} & (ARITH3 | {"table4.total", "table.cell_invalid"})


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), row=st.sampled_from(TABLE3_KEYS), col=st.integers(0, 6),
       delta=st.integers(1, 50))
def test_any_changed_table3_figure_is_caught(seed, row, col, delta):
    spec = _spec(seed, 30)
    spec.table3[row][col] += delta
    rules = {f.rule for f in _check(spec).findings}
    assert rules & ARITH3


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), col=st.integers(0, 14), delta=st.integers(1, 50))
def test_any_changed_table4_figure_is_caught(seed, col, delta):
    spec = _spec(seed, 30)
    spec.table4[col] += delta
    found = [f for f in _check(spec).findings if f.rule == "table4.total"]
    assert len(found) == 1 and found[0].location.column.startswith(
        ("review", "litigation_direct", "litigation_after_review")[col // 5])


_PIECES = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议、行政诉讼情况",
           "五、存在的主要问题及改进情况", "六、其他需要报告的事项", "\t", "\t0", "\t12", "\t—", "", "规章 0 0 0",
           "（一）予以公开 1 0 0 0 0 0 1", "（七）总计", "四、结转下年度继续办理", "第二十条第（一）项", "行政复议 行政诉讼",
           "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0", "- 3 -", "2024年政府信息公开工作年度报告", "统计期限为20241月1日至12月31日",
           "[bookmark: x]", "XX", "收到申请5件", "无行政复议", "共21条，其中3条、40条", "\u3000", "本年新制作数量"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=30)), max_size=80))
def test_any_text_gets_a_verdict_never_an_exception(lines):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.txt"
        path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
        result = check_file(path, year=2024, county="巨鹿县")
    assert result.verdict in ("accepted", "rejected")
    assert all(f.message for f in result.findings)
