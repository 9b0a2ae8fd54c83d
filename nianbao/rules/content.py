"""content.* and text.*: what sections 一, 五 and 六 must say, and what must not be left in."""

from __future__ import annotations

import re
from collections.abc import Iterator

from nianbao.model import Finding, Location
from nianbao.places import section_name
from nianbao.rules.form import section_text
from nianbao.rules.identity import para_location
from nianbao.rules.registry import Context, finding, rule
from nianbao.template import PLACEHOLDER_ANYWHERE, flat, starts_with_placeholder

_ASPECTS = (
    ("主动公开", r"主动公开"),
    ("依申请公开", r"依申请|申请公开|公开申请"),
    ("政府信息管理", r"信息管理|保密审查|审查|审核|台账|目录|属性|源头"),
    ("政府信息公开平台建设", r"平台|网站|新媒体|公开栏|专区|公众号|公报"),
    ("监督保障", r"监督|保障|考核|培训|问责|督查|督导|评议"),
)


def _before_2021(ctx: Context) -> bool:
    """A report on 2019 or 2020: the 2019 format, before the fee rules, was the right one."""
    y = ctx.report_year
    return bool(y and y < 2021)


def _has_text(ctx: Context, key: str) -> bool:
    text = flat(section_text(ctx, key))
    return bool(text) and not starts_with_placeholder(text)


@rule("content.overview_aspects", "warning")
def content_overview_aspects(ctx: Context) -> Iterator[Finding]:
    """Section 一 covers the five aspects: 主动公开, 依申请公开, 政府信息管理, 政府信息公开平台建设, 监督保障.

    Asked of reports on 2021 and later: the five aspects are the 2021 format's; a 2019 or 2020
    report followed the 2019 one."""
    if not _has_text(ctx, "1") or _before_2021(ctx):
        return
    text = flat(section_text(ctx, "1"))
    missing = [name for name, rx in _ASPECTS if not re.search(rx, text)]
    if missing:
        yield finding("content.overview_aspects",
                      f"没有写到{'、'.join(f'“{m}”' for m in missing)}方面的情况。总体情况应分别说明主动公开、依申请公开、"
                      "政府信息管理、政府信息公开平台建设、监督保障五个方面。", Location(section="1"), missing=missing)


_PROBLEM = re.compile(r"问题|不足|差距|短板|薄弱|有待|不够|欠缺|尚需|仍需|还需|不到位|不及时|不全面|不完善|不高")
_MEASURE = re.compile(r"措施|下一步|今后|将(?:进一步|继续|持续|着力|加大|加强|重点|不断|严格|积极|建立|完善|按照|采取)|计划|整改|改进|提升|完善|加强")


@rule("content.problems", "error")
def content_problems(ctx: Context) -> Iterator[Finding]:
    """Section 五 names this year's problems and the measures taken or planned."""
    if not _has_text(ctx, "5"):
        return
    text = flat(section_text(ctx, "5"))
    lacks = []
    if not _PROBLEM.search(text):
        lacks.append("存在的问题")
    if not _MEASURE.search(text):
        lacks.append("改进措施")
    if lacks:
        yield finding("content.problems",
                      f"没有写明{'和'.join(lacks)}。{section_name('5')}应写明本年度存在的主要问题和具体改进措施。",
                      Location(section="5"), lacks=lacks)


@rule("content.prior_year", "info")
def content_prior_year(ctx: Context) -> Iterator[Finding]:
    """Section 五 reports how last year's problems were fixed (上年度存在问题的整改情况).

    Kept for the record (info), not as a warning to the clerk: the 2021 format asks for
    "存在的主要问题及改进情况" and does not require last year's problems by name; the evaluations
    that score these reports ask for them, but most good published reports leave them out (it
    fired on 13 of 14 good real reports), and a warning on nearly every report teaches the clerk
    to skip warnings. The county office still sees it in the record and the county report."""
    if not _has_text(ctx, "5"):
        return
    text = flat(section_text(ctx, "5"))
    y = ctx.report_year
    last = rf"|{y - 1}年" if y else ""
    if not re.search(rf"上一?年度?|去年|以往|前期|此前|往年{last}", text):
        yield finding("content.prior_year",
                      "没有说明上一年度报告中存在问题的整改情况。请补充“上年度存在问题及整改情况”。",
                      Location(section="5"))


@rule("content.fee_statement", "warning")
def content_fee_statement(ctx: Context) -> Iterator[Finding]:
    """Section 六 states the 信息处理费 collected, or that none was (国办函〔2020〕109号); "无" alone is
    not enough.

    Asked of reports on 2021 and later: the 信息处理费 rules (国办函〔2020〕109号) apply from 2021."""
    if _before_2021(ctx):
        return
    if not flat(section_text(ctx, "6")) or not any(h.section == "6" for h in ctx.ev.headings):
        return  # sections.empty / sections.missing speak
    if not re.search(r"信息处理费|处理费|收费|收取费用|费用", flat(section_text(ctx, "6"))):
        y = ctx.report_year or "本"
        yield finding("content.fee_statement",
                      f"没有说明信息处理费的收取情况。请写明，例如“{y}年度本单位未收取政府信息公开信息处理费”。",
                      Location(section="6"))


@rule("text.placeholder", "error")
def text_placeholder(ctx: Context) -> Iterator[Finding]:
    """No template placeholder is left in: XX, ××, ***, 202X, X月X日, （单位名称）, （文字描述）, 此处填写."""
    title = ctx.report.title or ""
    m = PLACEHOLDER_ANYWHERE.search(flat(title))
    if m:
        yield finding("text.placeholder", f"标题中留有占位符“{m.group(0)}”，请替换为实际内容。", Location(),
                      text=m.group(0))
    for section, para in ctx.ev.all_paragraphs():
        m = PLACEHOLDER_ANYWHERE.search(para.flat)
        if m:
            yield finding("text.placeholder", f"留有模板占位符“{m.group(0)}”，请替换为实际内容。",
                          para_location(section, para), text=m.group(0))


_ARTIFACT_ZH = {"bookmark": "书签标记", "comment": "批注", "tracked_change": "修订痕迹", "footnote": "脚注标记",
                "endnote": "尾注标记", "image": "图片标记", "hyperlink": "链接标记", "field": "域代码"}


@rule("text.artifacts", "warning")
def text_artifacts(ctx: Context) -> Iterator[Finding]:
    """No editing leftovers: tracked changes, comments, "[bookmark: …]" and similar markers."""
    by_kind: dict[str, list] = {}
    for a in ctx.ev.artifacts:
        by_kind.setdefault(a.kind, []).append(a)
    for kind, items in by_kind.items():
        first = items[0]
        name = _ARTIFACT_ZH.get(kind, kind)
        sample = f"（如“{first.text}”）" if kind not in ("comment",) and first.text else ""
        fix = "请接受或拒绝全部修订后再提交。" if kind == "tracked_change" else "请删除后再提交。"
        yield finding("text.artifacts", f"文件中留有{len(items)}处{name}{sample}。{fix}",
                      Location(page=first.page, line=first.line), kind=kind, count=len(items))
