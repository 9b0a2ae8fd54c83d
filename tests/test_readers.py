"""Readers on the variations real files show: tab-indented paragraphs, a portal's header lines
before the title, a year in Chinese numerals, GBK and UTF-16 text."""

from __future__ import annotations

import random

import pytest

from nianbao.check import check_file, parse_file
from nianbao.generate import ReportSpec, balanced_table3, txt_word


@pytest.fixture
def spec() -> ReportSpec:
    return ReportSpec(table3=balanced_table3(random.Random(5), 10))


def _write(tmp_path, text: str, name: str = "r.txt", encoding: str = "utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_paragraphs_indented_with_a_tab_are_paragraphs(tmp_path, spec):
    plain = txt_word(spec)
    indented = "\n".join("\t" + ln if ln and not ln.startswith("\t") else ln for ln in plain.split("\n"))
    a = parse_file(_write(tmp_path, plain, "a.txt")).report.to_json()
    b = parse_file(_write(tmp_path, indented, "b.txt")).report.to_json()
    assert a == b


def test_header_lines_before_the_title(tmp_path, spec):
    text = "附件1\n索引号：13053300-2025-00012\n发布日期：2025-01-20\n" + txt_word(spec)
    report = parse_file(_write(tmp_path, text)).report
    assert report.title == spec.standard_title() and report.body == spec.body


def test_year_in_chinese_numerals(tmp_path, spec):
    text = txt_word(spec).replace("2024年政府信息公开工作年度报告", "二〇二四年政府信息公开工作年度报告", 1)
    result = check_file(_write(tmp_path, text), year=2024, county="巨鹿县")
    assert result.report.year == 2024
    assert not {"title.nonstandard", "year.mismatch"} & {f.rule for f in result.findings}
    text = text.replace("二〇二四年政府", "二〇二三年政府", 1)
    assert "year.mismatch" in {f.rule for f in check_file(_write(tmp_path, text), year=2024).findings}


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16", "utf-8-sig"])
def test_text_encodings(tmp_path, spec, encoding):
    want = parse_file(_write(tmp_path, txt_word(spec), "u.txt")).report.to_json()
    assert parse_file(_write(tmp_path, txt_word(spec), f"e-{encoding}.txt", encoding)).report.to_json() == want
