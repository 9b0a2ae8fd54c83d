"""identity.*: whose report is this, and is it really about our county?"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from nianbao.bodies import canonical
from nianbao.gazetteer import county_ending_at
from nianbao.model import Finding, Location
from nianbao.rules.registry import Context, finding, rule
from nianbao.template import flat


def para_location(section: str | None, para) -> Location:
    return Location(section=section, paragraph=para.index, page=para.page, line=para.line)


def title_location(ctx: Context) -> Location:
    tp = ctx.ev.title_paragraphs
    return Location(page=tp[0].page if tp else None, line=tp[0].line if tp else None)


@rule("identity.unknown_body", "error")
def identity_unknown_body(ctx: Context) -> Iterator[Finding]:
    """The body the report names is on the county's roster.

    Judged only when a roster is known and the submission was not made for a named body (then
    identity.wrong_body speaks)."""
    if not ctx.roster or ctx.body is not None:
        return
    name = ctx.report.body
    if not name and _mentioned_body(ctx) is not None:
        return  # no title, but the text names one body of the roster as itself
    if not name:
        yield finding("identity.unknown_body",
                      "无法从报告中识别出报送单位（缺少标题，正文中也没有单位全称）。请在标题中写明单位全称。",
                      title_location(ctx), roster=ctx.roster.county)
        return
    if ctx.roster.find(name) is None:
        county = ctx.roster.county or ctx.county or "本县"
        yield finding("identity.unknown_body",
                      f"报告的单位“{name}”不在{county}的报送单位名单中。请确认是否发错了报告；"
                      "如确属本县单位，请联系县政务公开办加入名单。", title_location(ctx), body=name, county=county)


def _mentioned_body(ctx: Context):
    """With no title: the roster body whose name the text uses most (王虎寨镇认真执行…), if one
    stands out."""
    assert ctx.roster is not None
    text = "".join(p.flat for _, p in ctx.ev.all_paragraphs())
    counts = []
    for b in ctx.roster.bodies:
        n = max(text.count(canonical(name, ctx.roster.county)) for name in b.names)
        if n:
            counts.append((n, b))
    counts.sort(key=lambda x: -x[0])
    if counts and (len(counts) == 1 or counts[0][0] > counts[1][0]):
        return counts[0][1]
    return None


@rule("identity.wrong_body", "error")
def identity_wrong_body(ctx: Context) -> Iterator[Finding]:
    """A report submitted for one body is that body's own report, not another body's."""
    if ctx.body is None or not ctx.report.body:
        return
    county = ctx.county or (ctx.roster.county if ctx.roster else None)
    written = ctx.report.body
    if any(canonical(n, county) == canonical(written, county) for n in ctx.body.names):
        return
    other = ctx.roster.find(written) if ctx.roster else None
    whose = f"“{other.name}”" if other else f"“{written}”"
    yield finding("identity.wrong_body",
                  f"本报告以“{ctx.body.name}”的名义提交，但报告标题写的是{whose}的报告。"
                  f"请提交“{ctx.body.name}”自己的年度报告。", title_location(ctx),
                  submitted_for=ctx.body.name, report_body=written)


_PLACE_SUFFIX = r"(?:自治县|县|区|市|旗)"
_NOT_A_PLACE = re.compile(r"(开发区|园区|工业区|景区|社区|小区|辖区|城区|市区|片区|库区|管理区|功能区|示范区|新区)$")
# a county's government or portal in running text: the county is the longest real county name
# (nianbao.gazetteer) ending right before 人民政府/政府 — "配合内乡县人民政府" names 内乡县, "坚持以县政府
# 门户网站" names none
_GOVERNMENT = re.compile(
    r"(?<=[\u4e00-\u9fff])(?P<what>人民政府|政府)(?P<tail>”?(?:门户网站|门户网|网站|官网|政务网|信息公开|政务公开|办公室)?)"
)
_COUNTY_END = re.compile(r"(?:县|区|旗)$")


def _is_ours(name: str, ctx: Context) -> bool:
    county = ctx.county or ""
    if county and (name == county or county.startswith(name) or name.startswith(county) or county.endswith(name)
                   or name.endswith(county)):
        return True
    return any(p.startswith(name) or name.startswith(p) or p.endswith(name) for p in ctx.county_parents)


def _title_place(title: str, ctx: Context) -> str | None:
    """The place a title names as its own when it is not ours: the first real county or city in
    its leading chain of places (内乡县王店镇… → 内乡县; 重庆市九龙坡区二郎街道… → 九龙坡区), none when our
    county is in that chain (重庆市江津区杜市镇… of 江津区) or the place is no county we know (科左后旗,
    a short form of 科尔沁左翼后旗)."""
    text = flat(title)
    county = ctx.county or ""
    stem = county[:-1] if len(county) > 2 else county
    head = text[:len(county) + 12]
    if county and (county in head or (stem and stem in head)):
        return None
    for end in range(2, min(len(text), 20) + 1):
        if text[end - 1] not in "县区市旗":
            continue
        place = county_ending_at(text, end, cities=True)  # a city's report (淮安市…) is not ours either
        if place and not _NOT_A_PLACE.search(place):
            return None if _is_ours(place, ctx) else place
    return None


@rule("identity.foreign_place", "error")
def identity_foreign_place(ctx: Context) -> Iterator[Finding]:
    """The report does not name another county's government or portal as its own.

    Judged when the county is known: the title must not begin with another place, and the
    text must not name another county's 人民政府 or its portal (a report copied from elsewhere).
    A place is named only when it is a real county's name (GB/T 2260): "坚持以县政府门户网站" is
    not a county called 持以县."""
    if not ctx.county:
        return
    seen: set[str] = set()
    title = ctx.report.title or ctx.report.body or ""
    name = _title_place(title, ctx)
    if name:
        seen.add(name)
        yield finding("identity.foreign_place",
                      f"报告标题“{title}”是“{name}”的报告，不属于{ctx.county}。请提交本单位{ctx.county}的年度报告。",
                      title_location(ctx), place=name, county=ctx.county)
    for section, para in ctx.ev.all_paragraphs():
        text = para.flat
        for m in _GOVERNMENT.finditer(text):
            if not _COUNTY_END.search(text[:m.start()]):
                continue
            place = county_ending_at(text, m.start())
            if place is None or place in seen or _NOT_A_PLACE.search(place):
                continue
            tail = (m.group("tail") or "").strip("”")
            if m.group("what") != "人民政府" and not re.match(r"门户|网站|官网|政务网", tail):
                continue  # "受理县政府信息公开申请": 县政府 alone is too loose to be a place
            if _is_ours(place, ctx):
                continue
            seen.add(place)
            snippet = (place + m.group(0)).replace("”", "")
            yield finding("identity.foreign_place",
                          f"出现“{snippet}”，但本单位属于{ctx.county}。疑似套用了其他地方的报告，请核对全文中的地名和网站名称。",
                          para_location(section, para), place=place, county=ctx.county, text=snippet)


# 我X, X a kind of body or area; not 我所在/我所属, 我办理, 我市场监管局, 我乡镇 (the county's townships)
_SELF = re.compile(r"我(局|镇|乡(?!镇)|委|办(?![理事法])|街道|中心|院|所(?![在属知能有说做辖])|队|站(?!在)|馆|区(?!域)|县|市(?!场)|旗)")
# the units a name is made of, and the word each lets the body call itself: 淮安市清江浦区人民政府
# says 我区 (and 我市 of its city); 巨鹿县教育局 says 我局 (and 我县); 巨鹿县卫生健康委员会 says 我委
_UNITS = (("自治区", "区"), ("自治州", "州"), ("自治县", "县"), ("管委会", "委"), ("管理委员会", "委"), ("委员会", "委"),
          ("办公室", "办"), ("办事处", "办"), ("街道", "街道"), ("开发区", "区"), ("园区", "区"), ("新区", "区"),
          ("省", "省"), ("市", "市"), ("州", "州"), ("盟", "盟"), ("县", "县"), ("区", "区"), ("旗", "旗"), ("镇", "镇"),
          ("乡", "乡"), ("局", "局"), ("委", "委"), ("办", "办"), ("中心", "中心"), ("院", "院"), ("所", "所"),
          ("队", "队"), ("站", "站"), ("馆", "馆"))
_UNIT = re.compile("|".join(u for u, _ in _UNITS))
_UNIT_WORD = dict(_UNITS)


def own_self_words(name: str, places: tuple[str, ...] = ()) -> set[str]:
    """What a body may call itself: each unit of its own name (镇 of 官亭镇, 局 of 教育局) and each
    area it lies in (the county, its city and province) — 我县 in a county department's report is
    the county, not a wrong self-reference."""
    words: set[str] = set()
    for text in (name, *places):
        n = re.sub(r"(人民政府|政府)$", "", flat(text))
        words.update(_UNIT_WORD[m.group(0)] for m in _UNIT.finditer(n))
    if words & {"县", "区", "旗", "市"}:
        words |= {"市", "省"}  # the city and province above: never another body's self
    return words


@rule("identity.self_reference", "warning")
def identity_self_reference(ctx: Context) -> Iterator[Finding]:
    """The report speaks of itself as the body it is: a 镇 says 我镇, not 我局 or 我乡.

    A township report naming another township of the roster as the subject of its work is
    flagged too (text pasted from a neighbour)."""
    name = ctx.body_name
    if not name:
        return
    places = tuple(p for p in (ctx.county, *ctx.county_parents) if p)
    own = own_self_words(name, places)
    if {"镇", "乡", "街道", "县", "区", "旗", "市", "局", "委", "办", "中心"} & own:  # a name we can read
        for section, para in ctx.ev.all_paragraphs():
            wrong = sorted({m.group(0) for m in _SELF.finditer(para.text) if m.group(1) not in own})
            if wrong:
                yield finding("identity.self_reference",
                              f"“{name}”的报告中自称“{'、'.join(wrong)}”，与本单位不符，疑似套用了其他单位的报告。",
                              para_location(section, para), body=name, words=wrong)
                return
    if ctx.roster and ctx.body_kind == "township":
        me = ctx.roster.find(name)
        townships = tuple(canonical(b.name, ctx.roster.county) for b in ctx.roster.bodies if b.kind == "township")
        shorts = [canonical(b.name, ctx.roster.county) for b in ctx.roster.bodies if b != me and b.kind == "township"]
        # one pattern for the whole roster (itself included: the same for every report, compiled once)
        anyone = _subject_of_work(townships) if shorts else None
        for section, para in ctx.ev.all_paragraphs():
            if section not in ("1", "5"):
                continue
            text = para.flat
            if anyone is None or not anyone.search(text):
                continue  # no township of the roster at all: one search, not one per township
            for short in shorts:
                if re.search(re.escape(short) + _WORK, text):
                    yield finding("identity.self_reference",
                                  f"“{name}”的报告中把“{short}”写成了工作主体，疑似套用了其他乡镇的报告。",
                                  para_location(section, para), body=name, other=short)
                    return


_WORK = r"(人民政府|党委|政府)?(认真|积极|始终|坚持|严格|进一步|全面)"


@lru_cache(maxsize=8)
def _subject_of_work(shorts: tuple[str, ...]) -> re.Pattern[str]:
    """Any of these names as the subject of work (a city's roster: hundreds of townships)."""
    return re.compile("(?:" + "|".join(map(re.escape, shorts)) + ")" + _WORK)
