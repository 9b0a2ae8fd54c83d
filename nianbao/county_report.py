"""The county report (本级政府年度报告, made by compiling): the accepted reports summed into the national
format, as .docx (the official merged layout, section 一 drafted from the figures, 五 and 六
left for the office to write), .xlsx (a sheet per table, each body's figures, the accepted
warnings, a chart of applications by body and outcome) and summary.json (the tables and
where every figure came from)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nianbao.generate import ReportSpec, write_docx
from nianbao.model import Finding, Number, Report, empty_table2
from nianbao.safetext import one_line, sheet_cell
from nianbao.template import (
    PLACEHOLDER_WORDS,
    T2_DOC_WIDTH,
    T3_TOTAL,
    T3_WIDTH,
    TABLE2_LIST_KEYS,
    TABLE2_ROWS,
    TABLE3_COLUMNS,
    TABLE3_KEYS,
    TABLE3_ROWS,
    TABLE4_COLUMNS,
    blank_row,
    blank_table3,
    blank_table4,
    litigation_total,
    review_total,
    t4_group,
    t4_index,
)

PLACEHOLDER = f"（{PLACEHOLDER_WORDS[1]}："  # text.placeholder flags it until the office has written its own text


# ---- the sums ---------------------------------------------------------------------------------


def _add(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None  # an unknown figure makes the sum unknown, never silently smaller
    total = a + b
    return round(total, 4) if isinstance(total, float) else total


def sum_tables(reports: list[Report]) -> dict[str, Any]:
    """{"table2", "table3", "table4"} in the report's keys, each cell the sum over `reports`."""
    t2: dict[str, Any] = {k: ([0, 0, 0] if k in TABLE2_LIST_KEYS else 0) for k in empty_table2()}
    t3 = blank_table3(0)
    t4 = blank_table4(0)
    for r in reports:
        for k in t2:
            v = r.table2.get(k)
            if k in TABLE2_LIST_KEYS:
                v = v or blank_row(T2_DOC_WIDTH)
                t2[k] = [_add(a, b) for a, b in zip(t2[k], v, strict=True)]
            else:
                t2[k] = _add(t2[k], v)
        for k in TABLE3_KEYS:
            t3[k] = [_add(a, b) for a, b in zip(t3[k], r.table3.get(k) or blank_row(T3_WIDTH), strict=True)]
        t4 = [_add(a, b) for a, b in zip(t4, r.table4, strict=True)]
    return {"table2": t2, "table3": t3, "table4": t4}


def headline(tables: dict[str, Any]) -> dict[str, Any]:
    """The figures a county office reads first."""
    t3, t4 = tables["table3"], tables["table4"]
    return {"new": t3["new"][T3_TOTAL], "carried_over": t3["carried_over"][T3_TOTAL], "total": t3["total"][T3_TOTAL],
            "carried_forward": t3["carried_forward"][T3_TOTAL], "review": review_total(t4),
            "litigation": litigation_total(t4)}


@dataclass(frozen=True)
class Contribution:
    """One body's part: its latest accepted version."""

    code: str
    name: str
    kind: str  # township · department · other
    version: int
    sha256: str
    report: Report
    warnings: tuple[Finding, ...] = field(default=())  # accepted with it


def summary_json(county: str, year: int, parts: list[Contribution]) -> dict[str, Any]:
    tables = sum_tables([p.report for p in parts])
    return {
        "county": county,
        "year": year,
        "tables": tables,
        "bodies": [{"code": p.code, "name": p.name, "version": p.version, "sha256": p.sha256,
                    "table2": p.report.table2, "table3": p.report.table3, "table4": p.report.table4} for p in parts],
    }


def _n(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def section_one(county: str, year: int, parts: list[Contribution], tables: dict[str, Any]) -> list[str]:
    """Section 一 drafted from the figures; what only the office knows is left marked."""
    t2, t3, t4 = tables["table2"], tables["table3"], tables["table4"]
    towns = sum(1 for p in parts if p.kind == "township")
    col = 6

    def s(*keys: str) -> int:
        return sum(t3[k][col] for k in keys)

    denied = s(*(r.key for r in TABLE3_ROWS if r.key.startswith("denied_")))
    unable = s(*(r.key for r in TABLE3_ROWS if r.key.startswith("unable_")))
    refused = s(*(r.key for r in TABLE3_ROWS if r.key.startswith("refused_")))
    other = s("other_no_correction", "other_no_fee", "other_other")
    review, direct, after = (t4[t4_index(g)] for g in ("review", "litigation_direct", "litigation_after_review"))
    upheld, corrected, other_result, pending, _ = t4_group(t4, "review")
    rl = (f"全县发生政府信息公开行政复议{review}件（结果维持{upheld}件、结果纠正{corrected}件、其他结果{other_result}件、"
          f"尚未审结{pending}件），"
          f"行政诉讼{direct + after}件（未经复议直接起诉{direct}件、复议后起诉{after}件）。"
          if review or direct or after else "全县未发生政府信息公开行政复议、行政诉讼案件。")
    return [
        f"{year}年，{county}各乡镇、各部门认真贯彻落实《中华人民共和国政府信息公开条例》，扎实推进政府信息公开工作。"
        f"本报告汇总了全县{len(parts)}个单位（乡镇{towns}个、县直部门和其他单位{len(parts) - towns}个）审核通过的年度报告。",
        f"（一）主动公开。全县本年制发行政规范性文件{_n(t2['normative'][0])}件，废止{_n(t2['normative'][1])}件，"
        f"现行有效{_n(t2['normative'][2])}件；作出行政许可决定{_n(t2['licensing'])}件、行政处罚决定{_n(t2['penalty'])}件、"
        f"行政强制决定{_n(t2['coercion'])}件；行政事业性收费{_n(t2['fees_10k_yuan'])}万元。",
        f"（二）依申请公开。全县本年新收政府信息公开申请{t3['new'][col]}件，上年结转{t3['carried_over'][col]}件。"
        f"予以公开{t3['granted'][col]}件，部分公开{t3['partial'][col]}件，不予公开{denied}件，无法提供{unable}件，"
        f"不予处理{refused}件，其他处理{other}件，办理完毕{t3['total'][col]}件，结转下年度继续办理{t3['carried_forward'][col]}件。",
        f"（三）政府信息管理、平台建设和监督保障。{PLACEHOLDER}全县政府信息管理、政府信息公开平台建设、监督保障等情况）",
        f"（四）行政复议和行政诉讼。{rl}",
    ]


def county_spec(county: str, year: int, parts: list[Contribution], tables: dict[str, Any]) -> ReportSpec:
    body = f"{county}人民政府"
    spec = ReportSpec(
        body=body, year=year, county=county, title_lines=2,
        preamble=(f"根据《中华人民共和国政府信息公开条例》（以下简称《条例》）第四十九条、第五十条规定，编制本报告。"
                  f"本报告由总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议、行政诉讼情况、"
                  f"存在的主要问题及改进情况以及其他需要报告的事项六部分组成，数据由全县{len(parts)}个单位的年度报告汇总而成。"
                  f"报告中所列数据统计期限为{year}年1月1日至12月31日。"),
        sections={
            "1": section_one(county, year, parts, tables),
            "5": [f"{PLACEHOLDER}上年度存在问题的整改情况、本年度全县政府信息公开工作存在的主要问题和改进措施）"],
            "6": [f"{PLACEHOLDER}全县收取信息处理费情况及其他需要报告的事项）"],
        },
    )
    spec.table2 = {k: (list(v) if isinstance(v, list) else v) for k, v in tables["table2"].items()}
    spec.table3 = {k: list(v) for k, v in tables["table3"].items()}
    spec.table4 = list(tables["table4"])
    return spec


def write_county_docx(county: str, year: int, parts: list[Contribution], path: Path) -> Path:
    tables = sum_tables([p.report for p in parts])
    return write_docx(county_spec(one_line(county), year, parts, tables), path)  # no control characters in XML


# ---- the workbook ----------------------------------------------------------------------------

_OUTCOMES = (
    ("予以公开", ("granted",)),
    ("部分公开", ("partial",)),
    ("不予公开", tuple(r.key for r in TABLE3_ROWS if r.key.startswith("denied_"))),
    ("无法提供", tuple(r.key for r in TABLE3_ROWS if r.key.startswith("unable_"))),
    ("不予处理", tuple(r.key for r in TABLE3_ROWS if r.key.startswith("refused_"))),
    ("其他处理", ("other_no_correction", "other_no_fee", "other_other")),
)


def _table2_cell(key: str, i: int | None) -> Callable[[Report], Any]:
    def get(r: Report) -> Any:
        return r.table2[key] if i is None else r.table2[key][i]

    return get


def _known_sum(values: Iterable[Number]) -> Number:
    """The sum, or None when a figure is unknown (never silently smaller)."""
    vals = list(values)
    return None if None in vals else sum(v for v in vals if v is not None)


def figure_columns() -> list[tuple[str, str, Any]]:
    """Every figure of a report as (heading, table, accessor) — the per-body sheet's columns."""
    cols: list[tuple[str, str, Any]] = []
    for row in TABLE2_ROWS:
        for i, c in enumerate(row.columns):
            cols.append((f"表二·{row.label}·{c.label}", "table2",
                         _table2_cell(row.key, i if row.key in TABLE2_LIST_KEYS else None)))
    for row in TABLE3_ROWS:
        for i, c in enumerate(TABLE3_COLUMNS):
            cols.append((f"表三·{row.label}·{c.label}", "table3", lambda r, k=row.key, i=i: r.table3[k][i]))
    for i, c in enumerate(TABLE4_COLUMNS):
        cols.append((f"表四·{c.label}", "table4", lambda r, i=i: r.table4[i]))
    return cols


def _as_data(sheet: Any) -> None:
    """Every cell as the data it is: text cleaned of control characters and stored as text — a
    body's name or a warning that starts with = + - @ stays that text, never a live formula (this
    workbook writes no formulas of its own)."""
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                text = sheet_cell(cell.value)
                if text != cell.value:
                    cell.value = text
                cell.data_type = "s"


def write_county_xlsx(county: str, year: int, parts: list[Contribution], path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Font

    tables = sum_tables([p.report for p in parts])
    county = one_line(county)
    wb = Workbook()
    bold = Font(bold=True)

    ws = wb.active
    ws.title = "表二 主动公开"
    ws.append([f"{county}{year}年度 表二：主动公开政府信息情况（全县合计）"])
    ws.append(["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"])
    for key in ("rules", "normative"):
        label = next(r.label for r in TABLE2_ROWS if r.key == key)
        ws.append([label, *tables["table2"][key]])
    ws.append(["信息内容", "本年处理决定数量"])
    for key in ("licensing", "penalty", "coercion"):
        ws.append([next(r.label for r in TABLE2_ROWS if r.key == key), tables["table2"][key]])
    ws.append(["信息内容", "本年收费金额（单位：万元）"])
    ws.append(["行政事业性收费", tables["table2"]["fees_10k_yuan"]])

    ws3 = wb.create_sheet("表三 依申请公开")
    ws3.append([f"{county}{year}年度 表三：收到和处理政府信息公开申请情况（全县合计）"])
    ws3.append(["", *[c.label for c in TABLE3_COLUMNS]])
    for row in TABLE3_ROWS:
        ws3.append([row.label, *tables["table3"][row.key]])

    ws4 = wb.create_sheet("表四 复议诉讼")
    ws4.append([f"{county}{year}年度 表四：政府信息公开行政复议、行政诉讼情况（全县合计）"])
    ws4.append([c.label for c in TABLE4_COLUMNS])
    ws4.append(list(tables["table4"]))

    wsb = wb.create_sheet("分单位明细")
    cols = figure_columns()
    wsb.append(["单位代码", "单位", "版本", "SHA-256", *[c[0] for c in cols]])
    for p in parts:
        wsb.append([sheet_cell(p.code), sheet_cell(p.name), p.version, sheet_cell(p.sha256),
                    *[get(p.report) for _, _, get in cols]])
    wsb.append(["合计", "", "", "", *[get(Report(table2=tables["table2"], table3=tables["table3"],
                                                 table4=tables["table4"])) for _, _, get in cols]])

    wsf = wb.create_sheet("审核提醒")
    wsf.append(["单位", "版本", "规则", "提醒（审核通过时保留的问题）"])
    for p in parts:
        for w in p.warnings:
            wsf.append([sheet_cell(p.name), p.version, sheet_cell(w.rule), sheet_cell(w.message)])

    wsc = wb.create_sheet("申请办理情况")
    wsc.append(["单位", *[name for name, _ in _OUTCOMES], "结转下年度"])
    for p in parts:
        t3 = p.report.table3
        wsc.append([sheet_cell(p.name), *[_known_sum(t3[k][T3_TOTAL] for k in keys) for _, keys in _OUTCOMES],
                    t3["carried_forward"][T3_TOTAL]])
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "bar", "stacked", 100
    chart.title = f"{county}{year}年度各单位政府信息公开申请办理结果"
    chart.y_axis.title, chart.x_axis.title = "件数", "单位"
    n = len(parts)
    data = Reference(wsc, min_col=2, max_col=1 + len(_OUTCOMES) + 1, min_row=1, max_row=1 + n)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(wsc, min_col=1, min_row=2, max_row=1 + n))
    chart.height, chart.width = max(8, 0.6 * n + 4), 22
    wsc.add_chart(chart, "J2")

    for sheet in wb.worksheets:
        _as_data(sheet)
        for cell in sheet[1]:
            cell.font = bold
        sheet.column_dimensions["A"].width = 44
        for row in sheet.iter_rows(min_row=1, max_row=1):
            for cell in row:
                cell.alignment = Alignment(wrap_text=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
