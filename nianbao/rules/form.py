"""The report's form: year, period, title, template, sections."""

from __future__ import annotations

import re
from collections.abc import Iterator

from nianbao.bodies import canonical
from nianbao.model import Finding, Location
from nianbao.normalize import cn_year_digits
from nianbao.places import section_name
from nianbao.rules.identity import para_location, title_location
from nianbao.rules.registry import Context, finding, rule
from nianbao.template import SECTION_BY_KEY, SECTIONS, flat, is_placeholder_only


def _period_location(ctx: Context) -> Location:
    for section, para in ctx.ev.all_paragraphs():
        if ctx.report.period and ctx.report.period.get("text", "\0")[:8] in para.flat:
            return para_location(section, para)
    return Location()


@rule("year.mismatch", "error")
def year_mismatch(ctx: Context) -> Iterator[Finding]:
    """The report year, in the title and in the 统计期限, is the cycle's year."""
    if not ctx.year:
        return
    r = ctx.report
    title_year = None
    if r.title:
        m = re.search(r"((?:19|20)\d{2})\s*年", cn_year_digits(r.title))
        title_year = int(m.group(1)) if m else None
    period_year = int(r.period["start"][:4]) if r.period and r.period.get("start") else None
    if title_year and title_year != ctx.year:
        yield finding("year.mismatch",
                      f"标题写的是{title_year}年度，本次应报送{ctx.year}年度的报告。请核对是否发错了文件，"
                      f"或把标题和正文改为{ctx.year}年度。", title_location(ctx), reported=title_year, expected=ctx.year)
    if r.period and period_year and period_year != ctx.year and period_year != title_year:
        yield finding("year.mismatch",
                      f"统计期限“{r.period['text']}”不是{ctx.year}年度，应为{ctx.year}年1月1日至12月31日。",
                      _period_location(ctx), reported=period_year, expected=ctx.year)


@rule("period.missing", "warning")
def period_missing(ctx: Context) -> Iterator[Finding]:
    """The report states its 统计期限 (e.g. 报告中所列数据统计期限为2024年1月1日至12月31日)."""
    if ctx.report.period is None:
        y = ctx.report_year or "本"
        yield finding("period.missing",
                      f"报告没有写明统计期限。请在开头说明中加上“报告中所列数据统计期限为{y}年1月1日至12月31日”。",
                      Location())


@rule("period.malformed", "warning")
def period_malformed(ctx: Context) -> Iterator[Finding]:
    """The 统计期限 is two real dates covering the calendar year, 1月1日 to 12月31日 (not "20241月1日")."""
    p = ctx.report.period
    if p is None:
        return
    y = ctx.report_year
    if not p.get("start") or not p.get("end"):
        yield finding("period.malformed",
                      f"统计期限“{p['text']}”的日期写法有误，应为“{y or 'XXXX'}年1月1日至12月31日”。",
                      _period_location(ctx), text=p["text"])
        return
    start, end = p["start"], p["end"]
    if start[4:] != "-01-01" or end[4:] != "-12-31" or start[:4] != end[:4]:
        yield finding("period.malformed",
                      f"统计期限“{p['text']}”不是完整的自然年度，应为“{start[:4]}年1月1日至12月31日”。",
                      _period_location(ctx), text=p["text"], start=start, end=end)


_YEAR_IN_TEXT = re.compile(r"(?<![\d〔\[（(第号])((?:19|20)\d{2})\s*年(?!\d)")
# (no opening mark inside: unclosed brackets must stay linear, not quadratic)
_QUOTED = re.compile(r"《[^《》]*》|〔[^〔〕]*〕|\[[^\[\]]*\]|（[^）]{0,12}号）")


# what follows a year in the same clause that makes it history: 以来, 起, 修订, 施行 …
_HISTORY = re.compile(r"[^，。；,;]{0,14}?(?:以来|起|至今|开始|颁布|修订|修正|施行|实施|印发|出台|成立|设立|挂牌)")
# a span of years (2021—2025年, 2021年至2025年): a plan's period, fine when it holds the report year,
# the year before or the year after
_SPAN = re.compile(r"((?:19|20)\d{2})\s*年?\s*(?:—+|－|-|–|~|～|至|到)\s*((?:19|20)\d{2})\s*年")


def _span_years(m: re.Match[str], y: int) -> str:
    start, end = int(m.group(1)), int(m.group(2))
    return "" if start <= y + 1 and end >= y - 1 else m.group(0)


@rule("years.stray", "warning")
def years_stray(ctx: Context) -> Iterator[Finding]:
    """The text speaks of the report year Y, of Y−1 (last year's problems) and Y+1 (plans) only.

    Another year in a factual sentence is usually text left over from an older report. Years
    inside 《》 titles and 〔〕 document numbers do not count, nor history (自2008年…施行以来, 2019年
    修订) or a plan's span of years around the report year (2021—2025年)."""
    y = ctx.report_year
    if not y:
        return
    allowed = {y - 1, y, y + 1}
    if ctx.report.year:  # a report on the wrong year is year.mismatch's business, not every date in it
        allowed |= {ctx.report.year - 1, ctx.report.year, ctx.report.year + 1}
    for section, para in ctx.ev.all_paragraphs():
        text = _SPAN.sub(lambda m: _span_years(m, y), _QUOTED.sub("", para.flat))
        for m in _YEAR_IN_TEXT.finditer(text):
            year = int(m.group(1))
            if year in allowed:
                continue
            if _HISTORY.match(text, m.end()):
                continue  # "自2019年以来", "2019年修订", "2008年《条例》施行以来": history, not a stale fact
            snippet = text[max(0, m.start() - 8): m.end() + 10]
            yield finding("years.stray",
                          f"提到“{year}年”（“…{snippet}…”），与报告年度{y}年不符，可能沿用了旧报告的文字。请核对。",
                          para_location(section, para), year=year, report_year=y)
            break


_STANDARD_TITLE = re.compile(r"^(?P<body>.+?)(?P<year>(?:19|20)\d{2})年度?政府信息公开工作年度报告$")


def _formal_name(ctx: Context) -> str:
    """The body's name as a title writes it: as the report itself names the body when that is
    the body it was sent for; a township's roster name as its government (巨鹿县官亭镇人民政府)."""
    written = ctx.report.body
    if ctx.body is None:
        return written or "（单位全称）"
    county = ctx.county or ""
    if written and any(canonical(n, county) == canonical(written, county) for n in ctx.body.names):
        return written
    name = ctx.body.name
    if ctx.body_kind == "township" and not name.endswith("人民政府"):
        return f"{county}{name}人民政府"
    return name


@rule("title.nonstandard", "warning")
def title_nonstandard(ctx: Context) -> Iterator[Finding]:
    """The title is `{单位名称}{Y}年政府信息公开工作年度报告`."""
    title = ctx.report.title
    body = _formal_name(ctx)
    y = ctx.report_year or "XXXX"
    expected = f"{body}{y}年政府信息公开工作年度报告"
    if not title:
        yield finding("title.nonstandard", f"报告缺少标题。标题应为“{expected}”。", Location(), expected=expected)
        return
    m = _STANDARD_TITLE.match(cn_year_digits(flat(title)))
    if not m:
        yield finding("title.nonstandard", f"标题“{title}”不规范，应为“{expected}”。", title_location(ctx),
                      title=title, expected=expected)


@rule("template.outdated", "error")
def template_outdated(ctx: Context) -> Iterator[Finding]:
    """A report on year 2021 or later uses the 2021 template (国办公开办函〔2021〕30号), not the
    superseded 2019 trial template (国办公开办函〔2019〕60号)."""
    y = ctx.report_year
    if ctx.report.template != "2019" or (y and y < 2021):
        return
    markers = "、".join(f"“{m}”" for m in ctx.ev.markers_2019[:3])
    yield finding("template.outdated",
                  f"报告使用的是已停用的2019年试行模板（国办公开办函〔2019〕60号），表格中有{markers}等旧栏目。"
                  f"{y or '2021'}年度报告必须使用国办公开办函〔2021〕30号的新模板：表二为“本年制发件数、本年废止件数、现行有效件数”，"
                  "表三“（六）其他处理”分为三项。请下载新模板重新填写表格。",
                  Location(table="table2"), markers=ctx.ev.markers_2019)


@rule("template.hybrid", "error")
def template_hybrid(ctx: Context) -> Iterator[Finding]:
    """The tables follow one template: not some parts from the 2021 and others from the 2019 one."""
    if ctx.report.template != "hybrid":
        return
    new = "、".join(f"“{m}”" for m in ctx.ev.markers_2021[:2])
    old = "、".join(f"“{m}”" for m in ctx.ev.markers_2019[:2])
    yield finding("template.hybrid",
                  f"表格混用了新旧两版模板：既有新模板的{new}，又有2019年旧模板的{old}。请统一使用2021年新模板重新填写。",
                  Location(table="table2"), markers_2021=ctx.ev.markers_2021, markers_2019=ctx.ev.markers_2019)


_OLD_BASIS = re.compile(r"国办公开办函[〔\[［(（]2019[〕\]］)）]60号")
_REGULATION = re.compile(r"《([^《》]{0,30}?条例)》")
_REGULATION_NAME = "中华人民共和国政府信息公开条例"


@rule("template.citation", "warning")
def template_citation(ctx: Context) -> Iterator[Finding]:
    """The report cites its basis correctly: not 国办公开办函〔2019〕60号 (the old template), and the
    条例 by its name 《中华人民共和国政府信息公开条例》."""
    for section, para in ctx.ev.all_paragraphs():
        text = para.flat
        if _OLD_BASIS.search(text) and not (ctx.report_year and ctx.report_year < 2021):  # 60号 was the basis then
            yield finding("template.citation",
                          "引用了已停用的“国办公开办函〔2019〕60号”作为依据，应为“国办公开办函〔2021〕30号”。",
                          para_location(section, para), cited="国办公开办函〔2019〕60号")
        for m in _REGULATION.finditer(text):
            name = m.group(1)
            if "信息公开" in name and name != _REGULATION_NAME:
                yield finding("template.citation",
                              f"条例名称写作《{name}》，应为《{_REGULATION_NAME}》。",
                              para_location(section, para), cited=name, expected=_REGULATION_NAME)


@rule("sections.missing", "error")
def sections_missing(ctx: Context) -> Iterator[Finding]:
    """All six sections are there, each under its heading at the start of a line (一、总体情况 …
    六、其他需要报告的事项)."""
    found = {h.section for h in ctx.ev.headings}
    for s in SECTIONS:
        if s.key not in found:
            yield finding("sections.missing",
                          f"缺少{section_name(s.key)}。请按模板在单独一行写上标题“{s.heading}”并填写内容。",
                          Location(section=s.key), expected=s.heading)


@rule("sections.order", "warning")
def sections_order(ctx: Context) -> Iterator[Finding]:
    """The sections come in the template's order, each once."""
    seen: list[str] = []
    for h in ctx.ev.headings:
        if h.section in seen:
            yield finding("sections.order", f"{section_name(h.section)}出现了不止一次。请删除重复的部分。",
                          Location(section=h.section, page=h.page, line=h.line), heading=h.text)
        elif seen and h.section < seen[-1]:
            yield finding("sections.order",
                          f"{section_name(h.section)}排在{section_name(seen[-1])}之后，顺序与模板不符。",
                          Location(section=h.section, page=h.page, line=h.line), order=[*seen, h.section])
        seen.append(h.section)


@rule("sections.numbering", "warning")
def sections_numbering(ctx: Context) -> Iterator[Finding]:
    """Each heading is numbered as the template does: 一、 二、 … 六、 (not "2、" or no numeral)."""
    for h in ctx.ev.headings:
        if not h.numbering_ok:
            s = SECTION_BY_KEY[h.section]
            written = h.text.strip()
            yield finding("sections.numbering",
                          f"标题写作“{written}”，应为“{s.heading}”。",
                          Location(section=h.section, page=h.page, line=h.line), written=written, expected=s.heading)


def section_text(ctx: Context, key: str) -> str:
    return "".join(p.text for p in ctx.ev.sections.get(key, []))


@rule("sections.empty", "error")
def sections_empty(ctx: Context) -> Iterator[Finding]:
    """Sections 一 and 五 have text (an error when empty); 六 has text too ("无" is allowed; a
    warning when empty). Template placeholders such as （文字描述） do not count as text."""
    found = {h.section for h in ctx.ev.headings}
    for key, severity in (("1", "error"), ("5", "error"), ("6", "warning")):
        if key not in found:
            continue
        text = flat(section_text(ctx, key))
        if not text or is_placeholder_only(text):
            hint = "如没有需要报告的事项，请写“无”，并说明信息处理费收取情况。" if key == "6" else "请按模板要求填写。"
            yield finding("sections.empty", f"{section_name(key)}没有内容。{hint}",
                          Location(section=key), severity=severity)
