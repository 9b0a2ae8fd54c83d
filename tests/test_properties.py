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
