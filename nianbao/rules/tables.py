"""The tables: present, every cell a number, and the arithmetic (勾稽关系) of spec §3."""

from __future__ import annotations

from collections.abc import Iterator

from nianbao.model import Finding, Location
from nianbao.places import column_label, row_label
from nianbao.rules.registry import Context, finding, listed_message, rule
from nianbao.template import (
    T2_DOC_WIDTH,
    T3_APPLICANTS,
    T3_TOTAL,
    T3_WIDTH,
    TABLE3_BY_KEY,
    TABLE3_COLUMNS,
    TABLE3_RESULT_KEYS,
    TABLE4_GROUPS,
    TABLE4_KEYS,
    TABLE_SHORT,
    TABLES,
    blank_row,
    t4_group,
    t4_index,
)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


@rule("table.missing", "error")
def table_missing(ctx: Context) -> Iterator[Finding]:
    """Tables 二, 三 and 四 are all there, as tables or as their rows of figures.

    In a file that holds pictures, a missing table is file.no_text's (pasted as a picture)."""
    if ctx.ev.images:
        return
    for key, name in TABLES.items():
        if not ctx.ev.tables[key].found:
            yield finding("table.missing",
                          f"未找到{name}。请按2021年模板填写该表（没有数据的填0，不要删除表格，也不要以图片形式粘贴）。",
                          Location(table=key, section=key[-1]))


_PROBLEM_ZH = {"empty": "空白", "dash": "填了横线或斜线", "text": "填了文字", "decimal": "填了小数", "missing": "缺少该格"}


def _cells_message(fs: list[Finding], loc: Location) -> str:
    """Many rows with the same columns wrong the same way, in one sentence: 表三共25行的“商业企业”…5列
    均为空白（共125格）."""
    table = loc.table or ""
    shapes = {(tuple(c["column"] for c in f.values["cells"]), tuple(c["problem"] for c in f.values["cells"]))
              for f in fs}
    rows = [f.location.row for f in fs]
    if len(shapes) != 1 or None in rows:
        return listed_message(fs, loc)
    (columns, problems), = shapes
    named = "、".join(f"“{row_label(table, r)}”" for r in rows) if len(rows) <= 4 else None
    if set(problems) == {"missing"}:  # rows not found at all: not the clerk's blanks
        which = named or f"共{len(rows)}行"
        return (f"{TABLE_SHORT[table]}中没有找到{which}（可能被删除、合并、改了名称，或表格没有按模板的行列排列）。"
                "请按模板恢复这些行，没有数据的填0。")
    kinds = "、".join(dict.fromkeys(_PROBLEM_ZH[p] for p in problems))
    some = rows[0] if rows else None
    cols = "、".join(f"“{column_label(table, some, c)}”" for c in columns)
    which = f"{named}各行" if named else f"共{len(rows)}行"
    return (f"{TABLE_SHORT[table]}{which}的{cols}{len(columns)}列均为{kinds}（共{len(rows) * len(columns)}格）。"
            "每一格都应填写数字，没有的填0。")


@rule("table.cell_invalid", "error", group_message=_cells_message)
def table_cell_invalid(ctx: Context) -> Iterator[Finding]:
    """Every cell of tables 二, 三 and 四 holds a number: not empty, a dash, a word or a fraction
    (the format wants 0 where there is nothing; only 行政事业性收费 may have decimals).

    One finding per table row, naming its columns."""
    for key, info in ctx.ev.tables.items():
        if not info.found:
            continue
        by_row: dict[str, list] = {}
        for c in info.cells:
            if c.problem:
                by_row.setdefault(c.row, []).append(c)
        for row, cells in by_row.items():
            first = cells[0]
            row_key = None if key == "table4" else row
            if all(c.problem == "missing" for c in cells) and row in info.missing_rows:
                msg = "没有找到这一行（可能被删除、合并或改了名称）。请按模板恢复该行，没有数据的填0。"
                loc = Location(table=key, row=row_key, page=first.page, line=first.line)
            else:
                kinds = "、".join(dict.fromkeys(
                    _PROBLEM_ZH[c.problem]
                    + (f"（“{c.raw.strip()}”）" if c.problem in ("text", "decimal", "dash") and c.raw else "")
                    for c in cells))
                if len(cells) == 1:
                    msg = f"{kinds}。每一格都应填写数字，没有的填0。"
                    loc = Location(table=key, row=row_key, column=first.column, page=first.page, line=first.line)
                else:
                    cols = "、".join(f"“{column_label(key, row, c.column)}”" for c in cells)
                    msg = f"{cols}共{len(cells)}格{kinds}。每一格都应填写数字，没有的填0。"
                    loc = Location(table=key, row=row_key, page=first.page, line=first.line)
            yield finding("table.cell_invalid", msg, loc,
                          cells=[{"column": c.column, "raw": c.raw, "problem": c.problem} for c in cells])


@rule("table.negative", "error")
def table_negative(ctx: Context) -> Iterator[Finding]:
    """No figure in tables 二, 三 and 四 is negative."""
    for key, info in ctx.ev.tables.items():
        for c in info.cells:
            if isinstance(c.value, (int, float)) and c.value < 0:
                row = None if key == "table4" else c.row
                yield finding("table.negative", f"填报为 {_fmt(c.value)}，数量不能为负数。",
                              Location(table=key, row=row, column=c.column, page=c.page, line=c.line), value=c.value)


@rule("table2.regulations_not_allowed", "error")
def table2_regulations_not_allowed(ctx: Context) -> Iterator[Finding]:
    """A township, a county government or a county department reports 规章 as 0 / 0 / 0.

    Only State Council departments and provincial or 设区的市 governments make 规章 (spec §3 rule 6)."""
    kind = ctx.body_kind
    if kind == "city" or (kind == "other" and not ctx.county):
        return
    rules = ctx.report.table2.get("rules") or []
    if any(isinstance(v, (int, float)) and v != 0 for v in rules):
        shown = " / ".join("空" if v is None else _fmt(v) for v in rules)
        yield finding("table2.regulations_not_allowed",
                      f"填报为 {shown}。乡镇、县级政府及其部门无权制定规章（只有国务院部门和省、设区的市人民政府可以），"
                      "“规章”一行应全部填0；本单位的文件请填在“行政规范性文件”一行。",
                      Location(table="table2", row="rules"), values=rules, body_kind=kind)


@rule("table2.valid_vs_made", "warning")
def table2_valid_vs_made(ctx: Context) -> Iterator[Finding]:
    """现行有效件数 is at least 本年制发件数 − 本年废止件数 (for 规章 and 行政规范性文件)."""
    for key in ("rules", "normative"):
        made, repealed, in_force = (ctx.report.table2.get(key) or blank_row(T2_DOC_WIDTH))
        if None in (made, repealed, in_force):
            continue
        if in_force < made - repealed:
            yield finding("table2.valid_vs_made",
                          f"现行有效件数 {in_force} 小于本年制发 {made} 减本年废止 {repealed}（= {made - repealed}），请核对。",
                          Location(table="table2", row=key, column="in_force"),
                          made=made, repealed=repealed, in_force=in_force)


@rule("table2.fee_scale", "warning")
def table2_fee_scale(ctx: Context) -> Iterator[Finding]:
    """行政事业性收费 is in 万元: a figure that only makes sense in 元 is flagged.

    Thresholds by kind of body are settings (NIANBAO_FEE_WARN_*)."""
    fee = ctx.report.table2.get("fees_10k_yuan")
    if not isinstance(fee, (int, float)) or fee <= 0:
        return
    s = ctx.settings
    limit = {"township": s.fee_warn_township_10k, "county": s.fee_warn_county_10k,
             "department": s.fee_warn_county_10k}.get(ctx.body_kind, s.fee_warn_other_10k)
    if fee >= limit:
        yield finding("table2.fee_scale",
                      f"填报为 {_fmt(fee)} 万元（即 {fee * 10000:,.0f} 元），数额异常。该栏单位是“万元”，"
                      f"如果填的是元，应改为 {fee / 10000:g}。", Location(table="table2", row="fees_10k_yuan", column="amount"),
                      value=fee, limit=limit)


def _t3(ctx: Context, key: str) -> list:
    return ctx.report.table3.get(key) or blank_row(T3_WIDTH)


@rule("table3.row_total", "error")
def table3_row_total(ctx: Context) -> Iterator[Finding]:
    """Table 三, every row: 总计 = 自然人 + the five kinds of 法人或其他组织 (spec §3 rule 1)."""
    for key in TABLE3_BY_KEY:
        row = _t3(ctx, key)
        if None in row:
            continue
        s = sum(row[T3_APPLICANTS])
        if s != row[T3_TOTAL]:
            yield finding("table3.row_total", f"六类申请人之和为 {s}，“总计”填报为 {row[T3_TOTAL]}。",
                          Location(table="table3", row=key, column="total"), expected=s, reported=row[T3_TOTAL])


@rule("table3.results_total", "error")
def table3_results_total(ctx: Context) -> Iterator[Finding]:
    """Table 三, every column: （七）总计 = the sum of the result rows （一）予以公开 … （六）3.其他
    (spec §3 rule 2)."""
    total = _t3(ctx, "total")
    for ci, col in enumerate(TABLE3_COLUMNS):
        parts = [_t3(ctx, k)[ci] for k in TABLE3_RESULT_KEYS]
        if None in parts or total[ci] is None:
            continue
        s = sum(parts)
        if s != total[ci]:
            yield finding("table3.results_total", f"各项办理结果之和为 {s}，填报为 {total[ci]}。",
                          Location(table="table3", row="total", column=col.key), expected=s, reported=total[ci])


@rule("table3.balance", "error")
def table3_balance(ctx: Context) -> Iterator[Finding]:
    """Table 三, every column: 本年新收 + 上年结转 = （七）总计 + 结转下年度继续办理 (spec §3 rule 3,
    the template's own note: 第一项加第二项之和，等于第三项加第四项之和)."""
    new, over, total, fwd = (_t3(ctx, k) for k in ("new", "carried_over", "total", "carried_forward"))
    for ci, col in enumerate(TABLE3_COLUMNS):
        a, b, c, d = new[ci], over[ci], total[ci], fwd[ci]
        if None in (a, b, c, d):
            continue
        if a + b != c + d:
            yield finding("table3.balance",
                          f"本年新收（{a}）+ 上年结转（{b}）= {a + b}，而办理结果总计（{c}）+ 结转下年度（{d}）= {c + d}，"
                          "两者应相等（第一项加第二项之和，等于第三项加第四项之和）。",
                          Location(table="table3", column=col.key), received=a + b, handled=c + d,
                          new=a, carried_over=b, total=c, carried_forward=d)


@rule("table4.total", "error")
def table4_total(ctx: Context) -> Iterator[Finding]:
    """Table 四: in each of the three groups, 总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结
    (spec §3 rule 4)."""
    t4 = ctx.report.table4
    for group, _label in TABLE4_GROUPS:
        *parts, total = t4_group(t4, group)
        if None in parts or total is None:
            continue
        s = sum(v for v in parts if v is not None)  # none is: for the type checker
        if s != total:
            yield finding("table4.total", f"维持、纠正、其他、尚未审结之和为 {s}，“总计”填报为 {total}。",
                          Location(table="table4", column=TABLE4_KEYS[t4_index(group)]),
                          expected=s, reported=total, group=group)
