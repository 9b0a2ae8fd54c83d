"""narrative.*: what the text says against what the tables say."""

from __future__ import annotations

import re
from collections.abc import Iterator

from nianbao.model import Finding, Number
from nianbao.rules.identity import para_location
from nianbao.rules.registry import Context, finding, rule
from nianbao.template import T3_APPLICANTS, T3_TOTAL, T3_WIDTH, blank_row, litigation_total, review_total

_NP = r"[^。；;，,\d]"  # inside one clause, no number

_APPS_NONE = re.compile(
    rf"(?:未|没有|无)(?:收到|受理|接到|接收|发生){_NP}{{0,12}}申请"
    rf"|(?:收到|受理|接到|接收){_NP}{{0,15}}申请{_NP}{{0,4}}(?:0|零)件"
    rf"|无{_NP}{{0,4}}依申请公开"
)
_APPS_COUNT = re.compile(rf"(?:收到|受理|新收|接收|接到){_NP}{{0,15}}申请{_NP}{{0,6}}?(\d+)件")
# a count of some of the applications only (收到自然人申请3件, 网上申请2件): not the table's total
_PART = re.compile(r"自然人|法人|企业|组织|机构|公民|网上|网络|在线|信函|当面|现场|邮件|邮寄|传真|电话|来信")
_CARRIED_OVER = re.compile(rf"上一?年度?{_NP}{{0,2}}结转{_NP}{{0,8}}?(\d+)件")
_CARRIED_FORWARD = re.compile(rf"(\d+)件{_NP}{{0,4}}(?:结转|顺延){_NP}{{0,3}}下一?年度|结转(?:至|到)?下一?年度{_NP}{{0,8}}?(\d+)件")


def _t3_total(ctx: Context, key: str) -> Number:
    row = ctx.report.table3.get(key) or blank_row(T3_WIDTH)
    if row[T3_TOTAL] is not None:
        return row[T3_TOTAL]
    applicants = row[T3_APPLICANTS]
    return sum(v for v in applicants if v is not None) if None not in applicants else None


@rule("narrative.applications", "error")
def narrative_applications(ctx: Context) -> Iterator[Finding]:
    """Counts of applications in the text (收到/受理…申请N件, 上年结转N件, 结转下年度N件) agree
    with table 三.

    "收到申请N件" may be this year's new applications or those together with last year's carried
    over: either agrees. A count of one kind of applicant or channel (收到自然人申请3件) is a part,
    not the whole, and is not compared.

    An error when the text says none were received while the table has some, or the reverse;
    a warning when both have some but the numbers differ."""
    table_new = _t3_total(ctx, "new")
    for section, para in ctx.ev.all_paragraphs():
        if section in ("2", "3", "4"):
            continue
        text = para.flat
        loc = para_location(section, para)
        if table_new is not None and _APPS_NONE.search(text) and table_new > 0:
            yield finding("narrative.applications",
                          f"正文说没有收到政府信息公开申请，但表三“本年新收”总计为 {table_new}。请核对正文或表格。",
                          loc, severity="error", text_says=0, table=table_new)
            continue
        m = next((m for m in _APPS_COUNT.finditer(text) if not _PART.search(m.group(0))), None)
        if m and table_new is not None:
            n = int(m.group(1))
            over = _t3_total(ctx, "carried_over") or 0
            # 收到申请75件 may count last year's 1 carried over with this year's 74: both readings are right
            if n not in (table_new, table_new + over):
                sev = "error" if (n == 0) != (table_new == 0) else "warning"
                both = f"（加上年结转 {over} 件共 {table_new + over}）" if over else ""
                yield finding("narrative.applications",
                              f"正文写“{m.group(0)}”，但表三“本年新收”总计为 {table_new}{both}。请核对正文或表格。",
                              loc, severity=sev, text_says=n, table=table_new, carried_over=over)
        for rx, key, label in ((_CARRIED_OVER, "carried_over", "上年结转"), (_CARRIED_FORWARD, "carried_forward", "结转下年度")):
            m = rx.search(text)
            table = _t3_total(ctx, key)
            if m and table is not None:
                n = int(next(g for g in m.groups() if g))
                if n != table:
                    yield finding("narrative.applications",
                                  f"正文写“{m.group(0)}”，但表三“{label}”总计为 {table}。请核对。",
                                  loc, severity="warning", text_says=n, table=table, row=key)


_REVIEW_NONE = re.compile(rf"(?:无|没有|未发生|未收到|未出现|未有){_NP}{{0,16}}行政复议|行政复议{_NP}{{0,6}}(?:为0|为零|0件|0起)")
_REVIEW_COUNT = re.compile(rf"行政复议{_NP}{{0,8}}?(\d+)\s*(?:件|起|宗|个)")
_LITIGATION_NONE = re.compile(rf"(?:无|没有|未发生|未收到|未出现|未有){_NP}{{0,16}}行政诉讼|行政诉讼{_NP}{{0,6}}(?:为0|为零|0件|0起)")
_LITIGATION_COUNT = re.compile(rf"行政诉讼{_NP}{{0,8}}?(\d+)\s*(?:件|起|宗|个)")


@rule("narrative.review_litigation", "error")
def narrative_review_litigation(ctx: Context) -> Iterator[Finding]:
    """What the text says of 行政复议 and 行政诉讼 (无…, or N件) agrees with table 四.

    An error when the text says none while the table has some (or the reverse); a warning when
    the counts differ."""
    t4 = ctx.report.table4
    review = review_total(t4)
    litigation = litigation_total(t4)
    checks = (("行政复议", review, _REVIEW_NONE, _REVIEW_COUNT, "表四“行政复议”总计"),
              ("行政诉讼", litigation, _LITIGATION_NONE, _LITIGATION_COUNT, "表四两类“行政诉讼”总计之和"))
    for section, para in ctx.ev.all_paragraphs():
        if section in ("2", "3", "4"):
            continue
        text = para.flat
        loc = para_location(section, para)
        for word, table, none_rx, count_rx, where in checks:
            if table is None:
                continue
            if none_rx.search(text) and table > 0:
                yield finding("narrative.review_litigation",
                              f"正文说没有{word}，但{where}为 {table}。请核对正文或表格。",
                              loc, severity="error", kind=word, text_says=0, table=table)
                continue
            m = count_rx.search(text)
            if m:
                n = int(m.group(1))
                if n != table:
                    sev = "error" if (n == 0) != (table == 0) else "warning"
                    yield finding("narrative.review_litigation",
                                  f"正文写“{m.group(0)}”，但{where}为 {table}。请核对正文或表格。",
                                  loc, severity=sev, kind=word, text_says=n, table=table)


_T2_TEXT = (
    (re.compile(rf"(?:制发|印发|出台|制定|新增){_NP}{{0,10}}?(?:行政)?规范性文件{_NP}{{0,2}}(\d+)件"), "normative", 0,
     "“行政规范性文件”行“本年制发件数”"),
    (re.compile(rf"(?:制发|印发|出台|制定|新增){_NP}{{0,10}}?规章{_NP}{{0,2}}(\d+)件"), "rules", 0, "“规章”行“本年制发件数”"),
    (re.compile(rf"(?:办理|作出|处理|实施|办结)行政许可(?:决定)?{_NP}{{0,2}}(\d+)件|行政许可决定(\d+)件"), "licensing", None,
     "“行政许可”行"),
    (re.compile(rf"(?:办理|作出|处理|实施|办结)行政处罚(?:决定)?{_NP}{{0,2}}(\d+)件|行政处罚决定(\d+)件"), "penalty", None,
     "“行政处罚”行"),
)


@rule("narrative.table2", "warning")
def narrative_table2(ctx: Context) -> Iterator[Finding]:
    """Counts of 规范性文件, 规章, 行政许可 and 行政处罚 decisions in the text agree with table 二."""
    t2 = ctx.report.table2
    for section, para in ctx.ev.all_paragraphs():
        if section in ("2", "3", "4"):
            continue
        text = para.flat
        for rx, key, idx, where in _T2_TEXT:
            m = rx.search(text)
            if not m:
                continue
            table = t2.get(key)
            if idx is not None:
                table = (table or [None])[idx]
            if table is None:
                continue
            n = int(next(g for g in m.groups() if g))
            if n != table:
                yield finding("narrative.table2", f"正文写“{m.group(0)}”，但表二{where}为 {table}。请核对。",
                              para_location(section, para), text_says=n, table=table, row=key)


_UNIT = r"(条|件|个|次|篇|项|期|场)"
_BREAKDOWN = re.compile(rf"(?:共|共计|合计|累计|总计)?{_NP}{{0,3}}(\d+)\s*{_UNIT}[，,：:（(]?其中")
_PCT = re.compile(r"(\d+)\s*(条|件|个|次|篇|项|期|场)[^；;。\d]{0,6}?占(?:比)?(?:为)?(\d+(?:\.\d+)?)[%％]")


@rule("narrative.breakdown", "warning")
def narrative_breakdown(ctx: Context) -> Iterator[Finding]:
    """A stated breakdown adds up: in "共N条，其中a条、b条…" the parts do not exceed the whole, and a
    part's stated percentage is its share of the whole."""
    for section, para in ctx.ev.all_paragraphs():
        text = para.flat
        for m in _BREAKDOWN.finditer(text):
            whole, unit = int(m.group(1)), m.group(2)
            end = len(text)
            for stop in ("。", "；", ";"):
                i = text.find(stop, m.end())
                if i != -1:
                    end = min(end, i)
            clause = text[m.end(): end]
            parts = [int(x) for x in re.findall(rf"(?<![\d.])(\d+)\s*{unit}", clause)]
            if parts and sum(parts) > whole:
                yield finding("narrative.breakdown",
                              f"“{text[m.start(): min(end, m.start() + 60)]}”中各分项之和为 {sum(parts)}，超过了总数 {whole}。请核对。",
                              para_location(section, para), whole=whole, parts=parts)
            for pm in _PCT.finditer(clause):
                part, pct = int(pm.group(1)), float(pm.group(3))
                if whole and abs(part / whole * 100 - pct) > 1.0:
                    yield finding("narrative.breakdown",
                                  f"“{pm.group(0)}”：{part}/{whole} = {part / whole * 100:.1f}%，与所写的 {pct:g}% 不符。",
                                  para_location(section, para), whole=whole, part=part, percent=pct)
