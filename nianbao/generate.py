"""The project's own report generator: a report described as data → .docx in the official merged
layout (python-docx), Word-extracted or PDF-extracted .txt, and .pdf (LibreOffice).

Tests, fixtures, benchmarks and the demo build their documents here instead of copying
third-party files. A ReportSpec holds the figures and the texts; every field can be changed
to make a flawed report (a wrong total, a missing section, an old template, a stray year …).
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nianbao.template import (
    SECTIONS,
    T3_APPLICANTS,
    T3_TOTAL,
    T4_WIDTH,
    TABLE3_RESULT_KEYS,
    blank_table3,
    blank_table4,
    litigation_total,
    review_total,
)

# ---- the report as data ---------------------------------------------------------------------


def zero_table2() -> dict[str, Any]:
    return {"rules": [0, 0, 0], "normative": [0, 0, 0], "licensing": 0, "penalty": 0, "coercion": 0,
            "fees_10k_yuan": 0}


def zero_table3() -> dict[str, list[int]]:
    return blank_table3(0)


def balanced_table3(rng: random.Random, scale: int = 20) -> dict[str, list[int]]:
    """A table 三 whose rows, columns and balance all add up."""
    t = zero_table3()
    for ci in range(T3_TOTAL):
        weight = scale if ci == 0 else max(1, scale // 8)
        results = {k: (rng.randint(0, weight) if rng.random() < 0.5 else 0) for k in TABLE3_RESULT_KEYS}
        total = sum(results.values())
        carried_forward = rng.randint(0, max(1, weight // 4)) if rng.random() < 0.3 else 0
        carried_over = rng.randint(0, min(total + carried_forward, max(1, weight // 4))) if rng.random() < 0.3 else 0
        new = total + carried_forward - carried_over
        for k, v in results.items():
            t[k][ci] = v
        t["total"][ci] = total
        t["carried_forward"][ci] = carried_forward
        t["carried_over"][ci] = carried_over
        t["new"][ci] = new
    for row in t.values():
        row[T3_TOTAL] = sum(row[T3_APPLICANTS])
    return t


def balanced_table4(rng: random.Random, scale: int = 3) -> list[int]:
    out: list[int] = []
    for _ in range(3):
        parts = [rng.randint(0, scale) if rng.random() < 0.4 else 0 for _ in range(4)]
        out += [*parts, sum(parts)]
    return out


@dataclass
class ReportSpec:
    body: str = "巨鹿县官亭镇人民政府"
    year: int = 2024
    county: str = "巨鹿县"
    template: str = "2021"  # "2021" | "2019"
    table_templates: dict[str, str] = field(default_factory=dict)  # per table, for hybrids: {"table2": "2019"}
    title: str | None = None  # None: the standard title; "": no title at all
    title_lines: int = 2  # the body on one line and "{Y}年政府信息公开工作年度报告" on the next
    preamble: str | None = None  # None: the standard preamble with 统计期限
    headings: dict[str, str | None] = field(default_factory=dict)  # override ("2": "2、主动…") or drop (None)
    sections: dict[str, list[str]] = field(default_factory=dict)  # paragraphs; default texts from the figures
    table2: dict[str, Any] = field(default_factory=zero_table2)
    table2_2019: dict[str, list[Any]] | None = None  # the 22 figures of the 2019 table 二, by row label
    table3: dict[str, list[int]] = field(default_factory=zero_table3)
    table4: list[int] = field(default_factory=lambda: blank_table4(0))
    raw_cells: dict[tuple[str, str, int], str] = field(default_factory=dict)  # ("table3","total",0) → "—"
    blank_cells: bool = False  # every figure left empty: the blank template sent with the kickoff
    drop_tables: tuple[str, ...] = ()  # "table2" … "table4"
    drop_rows: tuple[tuple[str, str], ...] = ()  # ("table3", "partial")
    tracked_change: str | None = None  # .docx: this text inserted as a tracked change in section 一
    comment: str | None = None  # .docx: a comment on section 一
    bookmark_artifact: bool = False  # .txt: "[bookmark: _GoBack]" at the start of a paragraph
    variety: int | None = None  # None: the fixed default texts; a number: texts worded differently per number
    # .docx: how a clerk draws a box around a part (see _placed): "table" (its heading and text in a
    # one-cell table), "frame" (the whole part in one cell, its data table nested), "heading-row" (the
    # heading as the first merged row of the part's table), "border" (paragraph borders), "textbox"
    # (its heading and text in a text box, as Word stores one: DrawingML with a VML fallback copy)
    boxed: str | None = None
    pictures: str | None = None  # .docx: "tables" (the tables pasted as pictures), "all" (pages pasted as pictures)
    picture_markup: str = "inline"  # how Word/WPS store a picture: "inline", "anchor", "vml", "object"

    @property
    def short(self) -> str:
        name = self.body
        if name.startswith(self.county):
            name = name[len(self.county):]
        return name.removesuffix("人民政府")

    def standard_title(self) -> str:
        return f"{self.body}{self.year}年政府信息公开工作年度报告"

    def title_paragraphs(self) -> list[str]:
        if self.title == "":
            return []
        if self.title is not None:
            return [self.title]
        if self.title_lines == 2:
            return [self.body, f"{self.year}年政府信息公开工作年度报告"]
        return [self.standard_title()]

    def preamble_text(self) -> str:
        if self.preamble is not None:
            return self.preamble
        return (f"根据《中华人民共和国政府信息公开条例》和《河北省实施〈中华人民共和国政府信息公开条例〉办法》等规定，"
                f"发布本年度报告。报告中所列数据统计期限为{self.year}年1月1日至12月31日。"
                f"本报告全文在{self.county}人民政府门户网站“信息公开”栏目公布。")

    def heading(self, key: str) -> str | None:
        if key in self.headings:
            return self.headings[key]
        return next(s.heading for s in SECTIONS if s.key == key)

    def section_paragraphs(self, key: str) -> list[str]:
        if key in self.sections:
            return self.sections[key]
        return default_sections(self).get(key, [])

    def copy(self, **changes: Any) -> ReportSpec:
        new = copy.deepcopy(self)
        for k, v in changes.items():
            setattr(new, k, v)
        return new


def _self_word(spec: ReportSpec) -> str:
    s = spec.short
    for suffix, word in (("镇", "我镇"), ("乡", "我乡"), ("街道", "我街道"), ("局", "我局"), ("办公室", "我办"),
                         ("委员会", "我委"), ("开发区", "我区")):
        if s.endswith(suffix):
            return word
    return "本单位"


def default_sections(spec: ReportSpec) -> dict[str, list[str]]:
    """Texts that say what the figures say, cover the five aspects, last year's problems and the fee."""
    y, me, short = spec.year, _self_word(spec), spec.short
    t3 = spec.table3
    new, over, fwd = t3["new"][T3_TOTAL], t3["carried_over"][T3_TOTAL], t3["carried_forward"][T3_TOTAL]
    review = review_total(spec.table4)
    litigation = litigation_total(spec.table4)
    apps = (f"全年共收到政府信息公开申请{new}件，上年结转{over}件，均在法定期限内予以答复。" if new
            else "全年未收到政府信息公开申请。")
    if fwd:
        apps += f"另有{fwd}件结转下年度继续办理。"
    rl = ("全年未发生政府信息公开行政复议、行政诉讼案件。" if review == 0 and litigation == 0
          else f"全年发生政府信息公开行政复议{review}件、行政诉讼{litigation}件。")
    if spec.variety is not None:
        return _varied_sections(spec, random.Random(spec.variety), me, short, apps, rl)
    return {
        "1": [
            f"{y}年，{short}认真贯彻落实《中华人民共和国政府信息公开条例》，紧紧围绕中心工作，扎实推进政府信息公开工作。",
            f"（一）主动公开。通过{spec.county}人民政府门户网站主动公开政府信息，做到应公开尽公开。",
            f"（二）依申请公开。严格规范依申请公开办理流程。{apps}",
            "（三）政府信息管理。严格落实信息发布保密审查制度，动态调整主动公开目录。",
            "（四）政府信息公开平台建设。加强政府网站和政务新媒体管理，及时更新公开栏目。",
            f"（五）监督保障。{me}成立政务公开工作领导小组，将政务公开纳入年度考核，开展业务培训。{rl}",
        ],
        "5": [
            f"（一）上年度存在问题整改情况。针对{y - 1}年度报告中提出的公开内容不够全面的问题，已逐项整改完毕。",
            "（二）存在的主要问题。一是政策解读形式较为单一；二是工作人员业务能力有待提升。",
            f"（三）改进措施。下一步，{me}将丰富政策解读形式，加强业务培训，不断提升政务公开工作水平。",
        ],
        "6": [f"{y}年度，{me}未收取政府信息公开信息处理费。无其他需要报告的事项。"],
    }


_POOLS = {
    "intro": ["{y}年，{short}认真贯彻落实《中华人民共和国政府信息公开条例》，紧紧围绕中心工作，扎实推进政府信息公开工作。",
              "{y}年，{short}坚持以公开为常态、不公开为例外，把政府信息公开作为转变作风、服务群众的重要抓手。",
              "{y}年，{short}在县委、县政府的领导下，对照年度政务公开工作要点，逐项抓好政府信息公开各项任务。",
              "{y}年，{short}围绕乡村振兴和民生实事，持续深化政务公开，群众知情权、参与权和监督权得到有效保障。"],
    "active": ["依托{county}人民政府门户网站发布工作动态和政策文件，及时公开财政预决算、重大项目等信息。",
               "通过政府网站、公开栏和微信群多渠道主动公开政府信息，重点做好惠民惠农政策和补贴资金的公开。",
               "围绕群众关心关注的事项，主动公开政策文件、规划计划和民生资金使用情况，做到应公开尽公开。",
               "按照主动公开基本目录，动态更新机构职能、办事指南、权责清单等内容，确保信息准确完整。"],
    "request": ["严格规范依申请公开办理流程，落实登记、审核、答复各环节要求。",
                "按照申请办理规范，统一使用答复格式文本，做到依法依规、按时答复。",
                "加强与申请人的沟通联系，准确把握申请诉求，提高答复质量。"],
    "manage": ["严格落实信息发布保密审查制度，动态调整主动公开目录。",
               "落实公文公开属性源头认定，做到先审查、后公开，一事一审。",
               "建立信息发布审核台账，对拟公开信息逐条审核把关，防止泄密和错发。"],
    "platform": ["加强政府网站和政务新媒体管理，及时更新公开栏目。",
                 "规范村务公开栏和便民服务中心公开专区建设，方便群众就近查阅。",
                 "优化政务公开专区设置，定期巡查栏目内容，及时整改空白栏目和过期信息。"],
    "oversight": ["{me}成立政务公开工作领导小组，将政务公开纳入年度考核，开展业务培训。",
                  "{me}将政务公开工作纳入目标考核，组织专题培训{n}次，强化责任落实。",
                  "{me}明确分管领导和专职人员，建立监督检查机制，定期通报工作情况。"],
    "prior": ["（一）上年度存在问题整改情况。针对{py}年度报告中提出的公开内容不够全面的问题，已逐项整改完毕。",
              "（一）上年度问题整改情况。{py}年度报告指出的栏目更新不及时问题，已通过建立月度巡查制度加以解决。",
              "（一）上一年度存在问题及整改成效。针对{py}年度政策解读不够深入的问题，今年新增图解、问答等解读形式。",
              "（一）上年度问题整改落实。{py}年度发现的公开目录不完整问题，已完成目录梳理，补充公开事项{n}项。",
              "（一）上年度存在问题的整改。针对去年公开栏内容陈旧的问题，{me}已全部更新，并明确专人定期维护。"],
    "problem": ["政策解读形式较为单一", "工作人员业务能力有待提升", "部分信息公开不够及时",
                "公开内容与群众需求结合不够紧密", "基层公开栏更新频次偏低", "专职人员较少、兼职多、流动快",
                "政务新媒体互动回应不够及时", "依申请公开答复的规范性还需加强"],
    "measure": ["丰富政策解读形式，推出图解和问答", "加强业务培训，每季度组织一次集中学习",
                "建立信息发布时限制度，做到随时产生随时公开", "加强与群众的互动交流，及时回应关切",
                "完善公开栏目维护机制，落实专人定期巡查", "推动政务公开规范化标准化建设",
                "把政务公开纳入干部考核，压实工作责任", "规范依申请公开答复文书，统一使用格式文本"],
    "fee": ["{y}年度，{me}未收取政府信息公开信息处理费。无其他需要报告的事项。",
            "本年度{me}未收取信息处理费，无其他需要报告的事项。",
            "{y}年{me}未向申请人收取政府信息公开信息处理费。"],
}


def _varied_sections(spec: ReportSpec, rng: random.Random, me: str, short: str, apps: str, rl: str) -> dict[str, list[str]]:
    """The same six paragraphs of 一 (and three of 五) in other words, so that generated bodies do
    not read as copies of each other (similarity.other_body)."""
    y = spec.year
    fill = {"y": y, "py": y - 1, "short": short, "me": me, "county": spec.county, "n": rng.randint(2, 6)}

    def pick(name: str, k: int = 1) -> str:
        return "".join(x.format(**fill) for x in rng.sample(_POOLS[name], k))

    problems = rng.sample(_POOLS["problem"], 2)
    measures = rng.sample(_POOLS["measure"], 2)

    return {
        "1": [
            pick("intro"),
            "（一）主动公开。" + pick("active", 2),
            f"（二）依申请公开。{pick('request')}{apps}",
            "（三）政府信息管理。" + pick("manage", 2),
            "（四）政府信息公开平台建设。" + pick("platform", 2),
            f"（五）监督保障。{pick('oversight')}{rl}",
        ],
        "5": [pick("prior"), f"（二）存在的主要问题。一是{problems[0]}；二是{problems[1]}。",
              f"（三）改进措施。下一步，{me}将{measures[0]}；{measures[1]}。"],
        "6": [pick("fee")],
    }


# ---- the tables as grids: the official merged layout ------------------------------------------
#
# A grid is a list of rows; a row is a list of Spec cells (text, colspan, rowspan); the writer
# merges with python-docx. Positions covered by a merge are None.


@dataclass
class C:
    text: str
    colspan: int = 1
    rowspan: int = 1
    value: bool = False  # a figure (right place for raw_cells)


def _num(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _cell(spec: ReportSpec, table: str, row: str, idx: int, value: Any, colspan: int = 1) -> C:
    raw = "" if spec.blank_cells else spec.raw_cells.get((table, row, idx))
    return C(_num(value) if raw is None else raw, colspan, value=True)


def table2_grid(spec: ReportSpec) -> list[list[C | None]]:
    t = spec.table2
    drop = {r for tb, r in spec.drop_rows if tb == "table2"}
    if spec.table_templates.get("table2", spec.template) == "2019":
        return _table2_grid_2019(spec)

    def three(key: str, label: str) -> list[C | None]:
        return [C(label), *(_cell(spec, "table2", key, i, t[key][i]) for i in range(3))]

    def one(key: str, label: str) -> list[C | None]:
        return [C(label), _cell(spec, "table2", key, 0, t[key], colspan=3), None, None]

    def head(text: str) -> list[C | None]:
        return [C(text, 4), None, None, None]

    rows: list[tuple[str | None, list[C | None]]] = [
        (None, head("第二十条第（一）项")),
        (None, [C("信息内容"), C("本年制发件数"), C("本年废止件数"), C("现行有效件数")]),
        ("rules", three("rules", "规章")),
        ("normative", three("normative", "行政规范性文件")),
        (None, head("第二十条第（五）项")),
        (None, [C("信息内容"), C("本年处理决定数量", 3), None, None]),
        ("licensing", one("licensing", "行政许可")),
        (None, head("第二十条第（六）项")),
        (None, [C("信息内容"), C("本年处理决定数量", 3), None, None]),
        ("penalty", one("penalty", "行政处罚")),
        ("coercion", one("coercion", "行政强制")),
        (None, head("第二十条第（八）项")),
        (None, [C("信息内容"), C("本年收费金额（单位：万元）", 3), None, None]),
        ("fees_10k_yuan", one("fees_10k_yuan", "行政事业性收费")),
    ]
    return [r for key, r in rows if key not in drop]


def _table2_grid_2019(spec: ReportSpec) -> list[list[C | None]]:
    v = spec.table2_2019 or {}
    t2 = spec.table2

    def vals(label: str, n: int, default: list[Any]) -> list[C | None]:
        got = v.get(label, default)
        cells: list[C | None] = [C(label), *(C(_num(x), value=True) for x in got[:n])]
        if n == 2:
            cells[-1] = C(cells[-1].text, 2, value=True)  # type: ignore[union-attr]
            cells.append(None)
        return cells

    return [
        [C("第二十条第（一）项", 4), None, None, None],
        [C("信息内容"), C("本年新\n制作数量"), C("本年新\n公开数量"), C("对外公开总数量")],
        vals("规章", 3, [0, 0, 0]),
        vals("规范性文件", 3, [0, 0, 0]),
        [C("第二十条第（五）项", 4), None, None, None],
        [C("信息内容"), C("上一年项目数量"), C("本年增/减"), C("处理决定数量")],
        vals("行政许可", 3, [0, 0, t2["licensing"]]),
        vals("其他对外管理服务事项", 3, [0, 0, 0]),
        [C("第二十条第（六）项", 4), None, None, None],
        [C("信息内容"), C("上一年项目数量"), C("本年增/减"), C("处理决定数量")],
        vals("行政处罚", 3, [0, 0, t2["penalty"]]),
        vals("行政强制", 3, [0, 0, t2["coercion"]]),
        [C("第二十条第（八）项", 4), None, None, None],
        [C("信息内容"), C("上一年项目数量"), C("本年增/减", 2), None],
        vals("行政事业性收费", 2, [0, 0]),
        [C("第二十条第（九）项", 4), None, None, None],
        [C("信息内容"), C("采购项目数量"), C("采购总金额", 2), None],
        vals("政府集中采购", 2, [0, 0]),
    ]


_T3_LABELS_2021: list[tuple[str, str | None, str | None, str]] = [
    # key, level-1 group (col 0), level-2 group (col 1), own label (col 2 or cols 1-2)
    ("new", None, None, "一、本年新收政府信息公开申请数量"),
    ("carried_over", None, None, "二、上年结转政府信息公开申请数量"),
    ("granted", "三、本年度办理结果", None, "（一）予以公开"),
    ("partial", "三、本年度办理结果", None, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    ("denied_state_secret", "三、本年度办理结果", "（三）不予公开", "1.属于国家秘密"),
    ("denied_law_forbids", "三、本年度办理结果", "（三）不予公开", "2.其他法律行政法规禁止公开"),
    ("denied_three_safeties", "三、本年度办理结果", "（三）不予公开", "3.危及“三安全一稳定”"),
    ("denied_third_party", "三、本年度办理结果", "（三）不予公开", "4.保护第三方合法权益"),
    ("denied_internal_affairs", "三、本年度办理结果", "（三）不予公开", "5.属于三类内部事务信息"),
    ("denied_process_info", "三、本年度办理结果", "（三）不予公开", "6.属于四类过程性信息"),
    ("denied_enforcement_file", "三、本年度办理结果", "（三）不予公开", "7.属于行政执法案卷"),
    ("denied_query_matter", "三、本年度办理结果", "（三）不予公开", "8.属于行政查询事项"),
    ("unable_not_held", "三、本年度办理结果", "（四）无法提供", "1.本机关不掌握相关政府信息"),
    ("unable_needs_creation", "三、本年度办理结果", "（四）无法提供", "2.没有现成信息需要另行制作"),
    ("unable_unclear", "三、本年度办理结果", "（四）无法提供", "3.补正后申请内容仍不明确"),
    ("refused_petition", "三、本年度办理结果", "（五）不予处理", "1.信访举报投诉类申请"),
    ("refused_repeat", "三、本年度办理结果", "（五）不予处理", "2.重复申请"),
    ("refused_publication", "三、本年度办理结果", "（五）不予处理", "3.要求提供公开出版物"),
    ("refused_mass_repeat", "三、本年度办理结果", "（五）不予处理", "4.无正当理由大量反复申请"),
    ("refused_confirm_existing", "三、本年度办理结果", "（五）不予处理", "5.要求行政机关确认或重新出具已获取信息"),
    ("other_no_correction", "三、本年度办理结果", "（六）其他处理",
     "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("other_no_fee", "三、本年度办理结果", "（六）其他处理",
     "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("other_other", "三、本年度办理结果", "（六）其他处理", "3.其他"),
    ("total", "三、本年度办理结果", None, "（七）总计"),
    ("carried_forward", None, None, "四、结转下年度继续办理"),
]


def table3_labels(template: str) -> list[tuple[str, str | None, str | None, str]]:
    if template != "2019":
        return _T3_LABELS_2021
    out: list[tuple[str, str | None, str | None, str]] = []
    for key, l1, l2, own in _T3_LABELS_2021:
        if key in ("other_no_correction", "other_no_fee"):
            continue
        if key == "other_other":
            out.append((key, l1, None, "（六）其他处理"))
        else:
            out.append((key, l1, l2, own))
    return out


def table3_grid(spec: ReportSpec) -> list[list[C | None]]:
    drop = {r for tb, r in spec.drop_rows if tb == "table3"}
    template = spec.table_templates.get("table3", spec.template)
    labels = [lab for lab in table3_labels(template) if lab[0] not in drop]
    grid: list[list[C | None]] = [
        [C("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3), None, None,
         C("申请人情况", 7), None, None, None, None, None, None],
        [None, None, None, C("自然人", 1, 2), C("法人或其他组织", 5), None, None, None, None, C("总计", 1, 2)],
        [None, None, None, None, C("商业\n企业"), C("科研\n机构"), C("社会公益组织"), C("法律服务机构"), C("其他"), None],
    ]
    # rowspans of the group cells
    n = len(labels)
    for i, (key, l1, l2, own) in enumerate(labels):
        row: list[C | None] = [None] * 10
        if l1 is None:
            row[0] = C(own, 3)
        else:
            if i == 0 or labels[i - 1][1] != l1:
                span = 1
                while i + span < n and labels[i + span][1] == l1:
                    span += 1
                row[0] = C(l1, 1, span)
            if l2 is None:
                row[1] = C(own, 2)
            else:
                if labels[i - 1][2] != l2:
                    span = 1
                    while i + span < n and labels[i + span][2] == l2:
                        span += 1
                    row[1] = C(l2, 1, span)
                row[2] = C(own)
        values = spec.table3[key]
        if template == "2019" and key == "other_other":  # one row for all of （六）
            values = [sum(spec.table3[k][ci] for k in ("other_no_correction", "other_no_fee", "other_other"))
                      for ci in range(7)]
        for ci in range(7):
            row[3 + ci] = _cell(spec, "table3", key, ci, values[ci])
        grid.append(row)
    return grid


def table4_grid(spec: ReportSpec) -> list[list[C | None]]:
    outcomes = ["结果维持", "结果\n纠正", "其他\n结果", "尚未\n审结", "总计"]
    outcomes2 = ["结果\n维持", "结果\n纠正", "其他\n结果", "尚未\n审结", "总计"]
    grid: list[list[C | None]] = [
        [C("行政复议", 5), None, None, None, None, C("行政诉讼", 10), *([None] * 9)],
        [*(C(o, 1, 2) for o in outcomes), C("未经复议直接起诉", 5), None, None, None, None,
         C("复议后起诉", 5), None, None, None, None],
        [None] * 5 + [C(o) for o in outcomes2] + [C(o) for o in outcomes2],
        [_cell(spec, "table4", "table4", i, spec.table4[i]) for i in range(T4_WIDTH)],
    ]
    return grid


def grids(spec: ReportSpec) -> dict[str, list[list[C | None]]]:
    out = {"table2": table2_grid(spec), "table3": table3_grid(spec), "table4": table4_grid(spec)}
    return {k: v for k, v in out.items() if k not in spec.drop_tables}


# ---- writers --------------------------------------------------------------------------------


def _blocks(spec: ReportSpec):
    """The document in order: (kind, text or table key, section key, paragraph index), kind
    being "title", "para", "heading" or "table"."""
    for t in spec.title_paragraphs():
        yield "title", t, None, 0
    if spec.preamble_text():
        yield "para", spec.preamble_text(), None, 0
    for s in SECTIONS:
        h = spec.heading(s.key)
        if h is None:
            continue
        yield "heading", h, s.key, 0
        if s.key in ("2", "3", "4"):
            key = f"table{s.key}"
            if key not in spec.drop_tables:
                yield "table", key, s.key, 0
        for i, p in enumerate(spec.section_paragraphs(s.key)):
            yield "para", p, s.key, i


def _edited(section: str | None, index: int) -> bool:
    """Where the editing leftovers go (tracked change, comment, bookmark): 一's first paragraph."""
    return section == "1" and index == 0


def write_docx(spec: ReportSpec, path: str | Path) -> Path:
    import docx
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    path = Path(path)
    d = docx.Document()
    sec = d.sections[0]
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.2)
    sec.top_margin = sec.bottom_margin = Cm(2.5)
    normal = d.styles["Normal"]
    normal.font.size = Pt(12)
    normal.font.name = "Noto Serif CJK SC"
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "Noto Serif CJK SC")
    _footer_page_number(d, OxmlElement, qn)
    grid_of = _boxed_grids(spec, grids(spec))
    for target, kind, value, section, index in _placed(spec, d):
        if kind == "title":
            p = target.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            r = p.add_run(value)
            r.bold = True
            r.font.size = Pt(16)
        elif kind == "heading":
            p = target.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(24)
            r = p.add_run(value)
            r.bold = True
        elif kind == "para":
            p = target.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY  # as government documents are set
            p.paragraph_format.first_line_indent = Pt(24)
            p.add_run(value)
            if _edited(section, index):
                if spec.tracked_change:
                    _tracked_insert(p, spec.tracked_change, OxmlElement, qn)
                if spec.comment:
                    _comment(d, p, spec.comment)
        elif kind == "picture":
            _picture(target, value, spec.picture_markup)
        else:
            _docx_table(target, grid_of[value], Cm, Pt, WD_TABLE_ALIGNMENT, Cm(16.6 if target is d else 15.8))
        if spec.boxed == "border" and section is not None and kind in ("heading", "para"):
            _paragraph_border(p)
    d.core_properties.author = "nianbao generator"
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save(str(path))
    return path


def _footer_page_number(d, OxmlElement, qn) -> None:
    """"- N -" centred in the footer, as government documents print it."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    p = d.sections[0].footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run("- ")
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), "PAGE")
    r = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = "1"
    r.append(t)
    fld.append(r)
    p._p.append(fld)
    p.add_run(" -")


def _tracked_insert(p, text: str, OxmlElement, qn) -> None:
    ins = OxmlElement("w:ins")
    ins.set(qn("w:id"), "901")
    ins.set(qn("w:author"), "办公室")
    ins.set(qn("w:date"), "2025-01-10T09:00:00Z")
    r = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = text
    r.append(t)
    ins.append(r)
    p._p.append(ins)


def _comment(d, p, text: str) -> None:
    try:
        d.add_comment(p.runs, text=text, author="审核人")
    except AttributeError:  # python-docx < 1.2 has no comments API
        pass


def _docx_table(d, grid: list[list[C | None]], Cm, Pt, WD_TABLE_ALIGNMENT, total=None) -> None:
    """A table with Word's own merge markup: gridSpan across, vMerge restart/continue down.

    Written straight into each row's cells (python-docx's cell.merge() looks every cell up
    again and is quadratic)."""
    nrows, ncols = len(grid), len(grid[0])
    table = d.add_table(rows=nrows, cols=ncols)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = _col_widths(ncols, total or Cm(16.6))
    for gc, w in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
        gc.w = w  # LibreOffice lays out by the grid, Word by the cells: set both
    size = Pt(9 if ncols > 10 else 10.5)
    owner: dict[tuple[int, int], tuple[int, int]] = {}
    for ri, row in enumerate(grid):
        for ci, c in enumerate(row):
            if c is not None:
                for dr in range(c.rowspan):
                    for dc in range(c.colspan):
                        owner[(ri + dr, ci + dc)] = (ri, ci)
    for ri, row in enumerate(table.rows):  # once, in order
        tcs = list(row._tr.tc_lst)
        for ci, tc in enumerate(tcs):
            r0, c0 = owner.get((ri, ci), (ri, ci))
            if c0 != ci:  # covered from the left: the spanning cell holds this grid column
                row._tr.remove(tc)
                continue
            spec = grid[r0][c0] or C("")
            tc.width = sum(widths[c0:c0 + spec.colspan])
            if spec.colspan > 1:
                tc.grid_span = spec.colspan
            if spec.rowspan > 1:
                tc.vMerge = "restart" if r0 == ri else "continue"
            if r0 != ri:
                continue
            para = tc.p_lst[0]
            lines = spec.text.split("\n")
            from docx.text.paragraph import Paragraph as _P

            p = _P(para, None)  # type: ignore[arg-type]  # only runs are added: no story part needed
            for li, line in enumerate(lines):
                run = p.add_run(line)
                run.font.size = size
                if li < len(lines) - 1:
                    run.add_break()


def _col_widths(ncols: int, total):
    if ncols == 10:  # table 三: a wide label area
        label = int(total * 0.46)
        rest = (total - label) // 7
        return [int(label * 0.22), int(label * 0.26), label - int(label * 0.22) - int(label * 0.26)] + [rest] * 7
    if ncols == 4:
        first = int(total * 0.34)
        return [first] + [(total - first) // 3] * 3
    return [total // ncols] * ncols


def txt_word(spec: ReportSpec) -> str:
    """What a Word-to-text extractor gives: a paragraph per line; a table cell per tab-indented
    line (a merged cell once, a vertical-merge continuation as an empty cell), rows separated by
    blank lines."""
    out: list[str] = []
    grid_of = grids(spec)
    for kind, value, section, index in _blocks(spec):
        if kind == "table":
            grid = grid_of[value]
            covered = _covered(grid)
            for ri, row in enumerate(grid):
                for ci, c in enumerate(row):
                    if c is not None:
                        out.append("\t" + c.text)
                    elif (ri, ci) in covered and covered[(ri, ci)] == "v":
                        out.append("\t")
                out.append("")
            out.append("")
        else:
            if kind == "para" and spec.bookmark_artifact and _edited(section, index):
                value = "[bookmark: _GoBack]" + value
            out.append(value)
    return "\n".join(out) + "\n"


PORTAL_CHROME = ("欢迎访问{county}人民政府门户网站！", "登录 | 注册 无障碍 关怀版", "当前位置：首页 > 政府信息公开 > 政府信息公开年报",
                 "字号：大 中 小 【打印】 【关闭】", "发布日期：{y1}-01-20 浏览次数：128")


def txt_cells(spec: ReportSpec, pipes: bool = False, chrome: bool = True) -> str:
    """What copying a report's web page as text gives: the portal's chrome before the title,
    then every paragraph and every table cell on a line of its own between blank lines, no tabs
    (with `pipes`, each cell followed by " |", as some copy tools leave the cell borders)."""
    out: list[str] = [x.format(county=spec.county, y1=spec.year + 1) for x in PORTAL_CHROME] if chrome else []
    grid_of = grids(spec)
    for kind, value, _section, _index in _blocks(spec):
        if kind == "table":
            for row in grid_of[value]:
                for c in row:
                    if c is not None:
                        out += [c.text.replace("\n", "") + (" |" if pipes else ""), ""]
                if pipes:
                    out += ["|", ""]
        else:
            out += [value, ""]
    return "\n".join(out) + "\n"


def _covered(grid: list[list[C | None]]) -> dict[tuple[int, int], str]:
    """Positions covered by a merge: "h" (same row as its cell) or "v" (a row below: an empty
    continuation cell in the extracted text, counted once per merged cell)."""
    covered: dict[tuple[int, int], str] = {}
    for ri, row in enumerate(grid):
        for ci, c in enumerate(row):
            if c is None:
                continue
            for dr in range(c.rowspan):
                for dc in range(c.colspan):
                    if dr == 0 and dc == 0:
                        continue
                    covered[(ri + dr, ci + dc)] = "v" if dr > 0 and dc == 0 else "h"
    return covered


def txt_pdf(spec: ReportSpec) -> str:
    """What a PDF-to-text extractor gives: table rows as "label n n n" lines, labels run together."""
    out: list[str] = []
    grid_of = grids(spec)
    for kind, value, _section, _index in _blocks(spec):
        if kind == "table":
            for row in grid_of[value]:
                labels = [c.text.replace("\n", "") for c in row if c is not None and not c.value]
                values = [c.text or "—" for c in row if c is not None and c.value]
                line = " ".join(x for x in ["".join(labels), " ".join(values)] if x)
                if line:
                    out.append(line)
        else:
            out.append(value)
        out.append("")
    return "\n".join(out)


def write_txt(spec: ReportSpec, path: str | Path, shape: str = "word") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = {"word": txt_word, "pdf": txt_pdf, "pipe": txt_pipe, "cells": txt_cells,
            "cells-pipe": lambda s: txt_cells(s, pipes=True)}[shape](spec)
    path.write_text(text, encoding="utf-8")
    return path


def write_pdfs(docx_paths: list[Path], outdir: Path) -> list[Path]:
    """PDFs of many .docx in one LibreOffice call."""
    from nianbao.libreoffice import convert

    return convert(list(docx_paths), "pdf", outdir)


def render_pages(pdf: Path, dpi: int = 200) -> list[Any]:
    """The PDF's pages as RGB pictures (PIL) at `dpi`: what a printer and a scanner make of it."""
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return [page.render(scale=dpi / 72).to_pil().convert("RGB") for page in doc]
    finally:
        doc.close()


def write_scan(pdf: Path, path: str | Path, dpi: int = 200) -> Path:
    """The stamped copy a clerk scans: the PDF's pages as pictures in an image-only PDF (what a
    scanner makes; no text layer)."""
    pages = render_pages(pdf, dpi)
    path = Path(path)
    pages[0].save(path, "PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return path


def write_all(specs: dict[str, ReportSpec], outdir: str | Path, formats: tuple[str, ...] = ("docx", "txt", "pdf")) -> dict[str, dict[str, Path]]:
    """Write every spec in every format; PDFs in one batch. Returns {name: {format: path}}."""
    outdir = Path(outdir)
    out: dict[str, dict[str, Path]] = {name: {} for name in specs}
    for name, spec in specs.items():
        if "docx" in formats or "pdf" in formats:
            out[name]["docx"] = write_docx(spec, outdir / f"{name}.docx")
        if "txt" in formats:
            out[name]["txt"] = write_txt(spec, outdir / f"{name}.txt")
    if "pdf" in formats:
        pdfs = write_pdfs([out[n]["docx"] for n in specs], outdir)
        for name, pdf in zip(specs, pdfs, strict=True):
            out[name]["pdf"] = pdf
    return out


def blank_template(year: int, path: str | Path) -> Path:
    """The 2021 template to fill in, as the county sends it with the kickoff notice."""
    spec = ReportSpec(body="（单位名称）", year=year, title_lines=1, blank_cells=True,
                      sections={"1": ["（文字描述：主动公开、依申请公开、政府信息管理、政府信息公开平台建设、监督保障等情况）"],
                                "5": ["（文字描述：上年度存在问题的整改情况、本年度存在的主要问题和改进措施）"],
                                "6": ["（文字描述，收取信息处理费情况在此处报告。）"]})
    return write_docx(spec, path)


def expected_report(spec: ReportSpec):
    """The report a reader should get back from this spec's documents (all keys but period)."""
    from nianbao.document import clean_text
    from nianbao.model import Number, Report, empty_table2

    t2 = empty_table2()
    if spec.template == "2019":
        for key in ("licensing", "penalty", "coercion"):
            t2[key] = spec.table2[key]
    else:
        t2 = copy.deepcopy(spec.table2)
    t3: dict[str, list[Number]] = copy.deepcopy(spec.table3)  # type: ignore[arg-type]  # the spec holds ints
    if spec.template == "2019":
        for ci in range(7):
            t3["other_other"][ci] = sum(spec.table3[k][ci] for k in ("other_no_correction", "other_no_fee", "other_other"))
            t3["other_no_correction"][ci] = t3["other_no_fee"][ci] = 0
    title = clean_text("".join(spec.title_paragraphs())) or None
    return Report(
        body=spec.body if title else None,
        year=spec.year,
        title=title,
        template=spec.template,
        period=None,
        sections={s.key: "\n".join(clean_text(p) for p in spec.section_paragraphs(s.key) if clean_text(p))
                  for s in SECTIONS},
        table2=t2,
        table3=t3,
        table4=list(spec.table4),
    )


# ---- boxed parts and pasted pictures (.docx) ----------------------------------------------------
#
# Clerks draw a box around a part of the report in several ways, and some paste the tables (or
# whole scanned pages) into Word as pictures; these writers make each of them, so that the readers'
# handling of them (nianbao/readers/boxes.py, the picture count) is tested on real files.

BOXED_STYLES = ("table", "frame", "heading-row", "border", "textbox")
PICTURE_KINDS = ("tables", "all")
PICTURE_MARKUPS = ("inline", "anchor", "vml", "object")
SCANNED_PAGES = 3  # pictures="all": one picture per page


def _boxed_grids(spec: ReportSpec, grid_of: dict[str, list[list[C | None]]]) -> dict[str, list[list[C | None]]]:
    """boxed="heading-row": each part's heading becomes the first row of its table, merged across."""
    if spec.boxed != "heading-row":
        return grid_of
    out = dict(grid_of)
    for key, grid in grid_of.items():
        heading = spec.heading(key.removeprefix("table"))
        if heading is not None:
            width = len(grid[0])
            out[key] = [[C(heading, width), *([None] * (width - 1))], *grid]
    return out


class _Box:
    """A one-cell bordered table standing in for the body: blocks are added to its cell, the first
    paragraph being the one every new cell already holds."""

    def __init__(self, d: Any) -> None:
        table = d.add_table(rows=1, cols=1)
        table.style = "Table Grid"
        self.cell = table.cell(0, 0)
        self._fresh = True

    def add_paragraph(self) -> Any:
        if self._fresh:
            self._fresh = False
            return self.cell.paragraphs[0]
        return self.cell.add_paragraph()

    def add_table(self, rows: int, cols: int) -> Any:
        self._fresh = False  # the cell's empty first paragraph stays above the table, as in Word
        return self.cell.add_table(rows, cols)


class _TextBox:
    """A text box in a paragraph of its own, blocks added to its body; Word keeps a VML copy of the
    box for old readers (mc:Fallback), filled in when the box is closed."""

    _ids = iter(range(1000, 10**6))

    def __init__(self, d: Any) -> None:
        from docx.oxml import parse_xml
        from docx.shared import Cm

        self.anchor = d.add_paragraph()
        n, cx, cy = next(self._ids), Cm(16), Cm(3)
        ns = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
              'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
              'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
              'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
              'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
              'xmlns:v="urn:schemas-microsoft-com:vml"')
        run = parse_xml(
            f'<w:r {ns}><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
            f'<wp:inline distT="0" distB="0" distL="0" distR="0"><wp:extent cx="{cx}" cy="{cy}"/>'
            f'<wp:docPr id="{n}" name="Text Box {n}"/><a:graphic>'
            '<a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp>'
            f'<wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
            '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:ln w="6350"><a:solidFill><a:srgbClr val="000000"/>'
            '</a:solidFill></a:ln></wps:spPr><wps:txbx><w:txbxContent/></wps:txbx>'
            '<wps:bodyPr wrap="square" anchor="t"><a:spAutoFit/></wps:bodyPr></wps:wsp></a:graphicData></a:graphic>'
            '</wp:inline></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape type="#_x0000_t202" '
            'style="width:453pt;height:85pt"><v:textbox><w:txbxContent/></v:textbox></v:shape></w:pict>'
            '</mc:Fallback></mc:AlternateContent></w:r>')
        self.anchor._p.append(run)
        self.body, self.fallback = run.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}txbxContent")

    def add_paragraph(self) -> Any:
        from docx.oxml import OxmlElement
        from docx.text.paragraph import Paragraph

        p = OxmlElement("w:p")
        self.body.append(p)
        return Paragraph(p, self.anchor)  # the anchor paragraph gives it its story part

    def close(self) -> None:
        for child in self.body:
            self.fallback.append(copy.deepcopy(child))


def _placed(spec: ReportSpec, d: Any):
    """The blocks of `_blocks` with where each goes: (target, kind, value, section, index), target
    being the document or the cell of a box. Two tables never touch in the body (Word would show
    them as one): an empty paragraph goes between. Pictures replace what spec.pictures says."""
    if spec.pictures == "all":  # a scan pasted into Word: nothing but a picture per page
        for page in range(SCANNED_PAGES):
            yield d, "picture", "page", None, page
        return
    box: _Box | _TextBox | None = None
    box_part: str | None = None
    body_ends_with_table = False

    def close() -> None:
        nonlocal box
        if isinstance(box, _TextBox):
            box.close()
        box = None

    def new_box(section: str | None) -> _Box | _TextBox:
        nonlocal box, box_part, body_ends_with_table
        close()
        if spec.boxed == "textbox":
            box, box_part, body_ends_with_table = _TextBox(d), section, False
            return box
        if body_ends_with_table:
            d.add_paragraph()
        box, box_part, body_ends_with_table = _Box(d), section, True
        return box

    heading_in_table = {k.removeprefix("table") for k in grids(spec)} if spec.boxed == "heading-row" else set()
    for kind, value, section, index in _blocks(spec):
        if spec.pictures == "tables" and kind == "table":
            kind = "picture"
        if kind == "heading" and section in heading_in_table:
            continue
        if spec.boxed == "frame" and section is not None:
            yield (box if box is not None and box_part == section else new_box(section)), kind, value, section, index
        elif spec.boxed in ("table", "textbox") and section is not None and kind != "table":
            yield (box if box is not None and box_part == section else new_box(section)), kind, value, section, index
        else:
            close()
            if kind == "table" and body_ends_with_table:
                d.add_paragraph()
            body_ends_with_table = kind == "table"
            yield d, kind, value, section, index
    close()


def _paragraph_border(p: Any) -> None:
    """A single-line border on all four sides; Word and LibreOffice draw consecutive paragraphs with
    the same border as one box."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    bdr = OxmlElement("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), "4")
        edge.set(qn("w:space"), "4")
        edge.set(qn("w:color"), "auto")
        bdr.append(edge)
    p._p.get_or_add_pPr().insert_element_before(
        bdr, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
        "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
        "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
        "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
        "w:rPr", "w:sectPr", "w:pPrChange")


def _png(width: int, height: int, rows: int, cols: int) -> bytes:
    """A greyscale PNG of a ruled grid (a table photographed, a page of lines), made with zlib alone
    so the generator needs no imaging library: only the .docx structure around it matters."""
    import struct
    import zlib

    ruled = b"\x00" + b"\x00" * width
    blank = bytearray(b"\x00" + b"\xff" * width)
    for c in range(cols + 1):
        blank[1 + min(width - 1, c * (width - 1) // cols)] = 0
    raw = b"".join(ruled if y % max(1, (height - 1) // rows) == 0 else bytes(blank) for y in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _picture(target: Any, what: str, markup: str) -> None:
    """A picture in its own paragraph: a table ("table2" …) or a scanned page ("page"), stored the way
    `markup` says Word or WPS store one."""
    import io

    from docx.shared import Cm

    page = what == "page"
    png = _png(600, 850, 40, 1) if page else _png(800, 400, 14, 4 if what == "table2" else 10)
    run = target.add_paragraph().add_run()
    run.add_picture(io.BytesIO(png), width=Cm(15 if page else 16))
    if markup != "inline":
        _restyle_picture(run._r, markup)


def _restyle_picture(r: Any, markup: str) -> None:
    """python-docx writes an inline DrawingML picture; rewrite it as a floating one ("anchor"), as
    legacy VML ("vml": w:pict/v:imagedata, older Word and WPS) or as an embedded object's picture
    ("object": w:object, what an Excel sheet pasted into Word shows)."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls, qn

    drawing = r.find(qn("w:drawing"))
    inline = drawing.find(qn("wp:inline"))
    extent = inline.find(qn("wp:extent"))
    if markup == "anchor":
        anchor = parse_xml(
            f'<wp:anchor {nsdecls("wp")} distT="0" distB="0" distL="114300" distR="114300" simplePos="0" '
            'relativeHeight="251659264" behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
            '<wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset>'
            '</wp:positionH><wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
            '</wp:anchor>')
        anchor.append(extent)
        anchor.append(parse_xml(f'<wp:effectExtent {nsdecls("wp")} l="0" t="0" r="0" b="0"/>'))
        anchor.append(parse_xml(f'<wp:wrapTopAndBottom {nsdecls("wp")}/>'))
        for child in list(inline):
            if child.tag != qn("wp:effectExtent"):
                anchor.append(child)
        drawing.replace(inline, anchor)
        return
    rid = drawing.find(".//" + qn("a:blip")).get(qn("r:embed"))
    pt_w, pt_h = int(extent.get("cx")) / 12700, int(extent.get("cy")) / 12700
    vml = ('xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
           f'{nsdecls("w", "r")}')
    shape = (f'<v:shape id="_x0000_i1025" type="#_x0000_t75" style="width:{pt_w:.1f}pt;height:{pt_h:.1f}pt" '
             f'o:ole=""><v:imagedata r:id="{rid}" o:title=""/></v:shape>')
    if markup == "vml":
        new = parse_xml(f"<w:pict {vml}>{shape}</w:pict>")
    else:
        new = parse_xml(f'<w:object {vml} w:dxaOrig="{int(pt_w * 20)}" w:dyaOrig="{int(pt_h * 20)}">{shape}</w:object>')
    r.replace(drawing, new)


# ---- Markdown and pipe-table text: what PDF-to-Markdown / PDF-to-text converters write ----------


@dataclass(frozen=True)
class MdStyle:
    """How a converter or an editor wrote the Markdown."""

    headings: str = "atx"  # "atx": "# 标题" / "## 一、总体情况"; "bold": "**一、总体情况**"
    merged: str = "empty"  # a position a merged cell covers: "empty" or "repeat" (its text again)
    generic_header: bool = False  # the converter's "| 项目 | 数据1 | … |" above every table
    split: str | None = None  # this table cut in two by a page break, "- 2 -" between the pieces
    outer_pipes: bool = True  # "| a | b |" or "a | b"
    marks: bool = False  # bold item leads, entities for “”, escaped "1\." in cells
    tables: str = "pipe"  # "pipe", or "html": one line of <table> with row/colspans, as MinerU writes


MD_STYLES: dict[str, MdStyle] = {
    "atx": MdStyle(),
    "bold": MdStyle(headings="bold", marks=True),
    "generic": MdStyle(generic_header=True, merged="repeat"),
    "split": MdStyle(split="table3", generic_header=True),
    "bare": MdStyle(outer_pipes=False, merged="repeat", headings="bold"),
    "html": MdStyle(tables="html", marks=True),
}
_SPLIT_AFTER = {"table2": 7, "table3": 13, "table4": 2}  # rows of the grid before the page break


def _grid_texts(grid: list[list[C | None]], merged: str) -> list[list[str]]:
    """Cell texts per grid position; a covered position empty or repeating its merged cell."""
    owner: dict[tuple[int, int], C] = {}
    for ri, row in enumerate(grid):
        for ci, c in enumerate(row):
            if c is not None:
                for dr in range(c.rowspan):
                    for dc in range(c.colspan):
                        owner[(ri + dr, ci + dc)] = c
    out: list[list[str]] = []
    for ri, row in enumerate(grid):
        cells = []
        for ci, c in enumerate(row):
            if c is None:
                cells.append(owner[(ri, ci)].text if merged == "repeat" and (ri, ci) in owner else "")
            else:
                cells.append(c.text)
        out.append(cells)
    return out


def _md_marks(text: str) -> str:
    return text.replace("“", "&ldquo;").replace("”", "&rdquo;")


def _pipe_row(cells: list[str], outer: bool = True) -> str:
    inner = " | ".join(c.replace("|", "\\|").replace("\n", "<br>") for c in cells)
    return f"| {inner} |" if outer else inner


def _md_table(grid: list[list[C | None]], style: MdStyle, split: bool) -> list[str]:
    texts = _grid_texts(grid, style.merged)
    if style.marks:
        texts = [[_md_marks(re.sub(r"^(\d+)\.", r"\1\\.", t)) for t in row] for row in texts]
    n = len(texts[0])
    pieces = [texts]
    if split and style.split:
        cut = _SPLIT_AFTER[style.split]
        pieces = [texts[:cut], texts[cut:]]
    out: list[str] = []
    for pi, piece in enumerate(pieces):
        if pi:
            out += ["", "- 2 -", ""]  # the converter's page footer between the two pieces
        rows = ([["项目", *(f"数据{i}" for i in range(1, n))]] if style.generic_header else []) + piece
        out.append(_pipe_row(rows[0], style.outer_pipes))
        out.append(_pipe_row(["---"] * n, style.outer_pipes))
        out += [_pipe_row(r, style.outer_pipes) for r in rows[1:]]
    return out


def _md_html_table(grid: list[list[C | None]]) -> str:
    from html import escape

    def td(c: C) -> str:
        spans = (f' colspan="{c.colspan}"' if c.colspan > 1 else "") + (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "")
        return f"<td{spans}>{escape(c.text, quote=False).replace(chr(10), '<br>')}</td>"

    rows = "".join("<tr>" + "".join(td(c) for c in row if c is not None) + "</tr>" for row in grid)
    return f"<table>{rows}</table>"


def md_text(spec: ReportSpec, style: str | MdStyle = "atx") -> str:
    """The report as Markdown: headings, a paragraph per line with blank lines between, the
    tables as pipe tables in the official rows (merged cells empty or repeated)."""
    st = MD_STYLES[style] if isinstance(style, str) else style
    grid_of = grids(spec)
    out: list[str] = []
    for kind, value, _section, _index in _blocks(spec):
        if kind == "table" and st.tables == "html":
            out.append(_md_html_table(grid_of[value]))
        elif kind == "table":
            out += _md_table(grid_of[value], st, split=value == st.split)
        elif kind in ("title", "heading"):
            mark = ("# " if kind == "title" else "## ") if st.headings == "atx" else ""
            out.append(f"{mark}{value}" if st.headings == "atx" else f"**{value}**")
        else:
            if st.marks:
                value = _md_marks(re.sub(r"^([（(][一二三四五六七八九十]+[）)][^。]{1,20}。)", r"**\1**", value))
            out.append(value)
        out.append("")
    return "\n".join(out)


def write_md(spec: ReportSpec, path: str | Path, style: str | MdStyle = "atx") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(md_text(spec, style), encoding="utf-8")
    return path


def _broken(text: str, width: int) -> list[str]:
    """A paragraph as a page sets it: full lines of `width` characters, never breaking inside a
    number or a Latin word (it moves to the next line whole)."""
    out: list[str] = []
    while len(text) > width:
        cut = width
        while cut > 1 and text[cut - 1].isascii() and text[cut - 1].isalnum() and text[cut].isascii() and text[cut].isalnum():
            cut -= 1
        out.append(text[:cut])
        text = text[cut:]
    return [*out, text]


def txt_pipe(spec: ReportSpec, width: int = 38, page_lines: int = 30) -> str:
    """What a PDF-to-text tool that keeps tables writes: the page's lines (paragraphs broken
    every `width` characters), the tables as pipe rows with merged cells left empty and a
    ruling under the first, a "- N -" page number every `page_lines` lines — in the middle of
    a paragraph or of a table if it falls there."""
    body: list[str] = []
    grid_of = grids(spec)
    for kind, value, _section, _index in _blocks(spec):
        if kind == "table":
            texts = _grid_texts(grid_of[value], "empty")
            rows = [[t.replace("\n", "") for t in row] for row in texts]
            body += ["", _pipe_row(rows[0]), _pipe_row(["---"] * len(rows[0])), *(_pipe_row(r) for r in rows[1:]), ""]
        else:
            body += _broken(value, width)
    out: list[str] = []
    page = 1
    for i, line in enumerate(body, 1):
        out.append(line)
        if i % page_lines == 0:
            page += 1
            out += ["", f"- {page - 1} -", ""]
    return "\n".join(out) + "\n"


# ---- web pages: a portal's report page, Word's "web page", single-file .mht -------------------
#
# What counties are sent besides Word files: the report page saved from a government portal
# (site chrome around the article, often GB2312), Word's "save as web page" (mso styles, <o:p>,
# conditional comments; kept as .htm or under a .doc name) and its single-file form (.mht: MIME
# multipart). Built from the same blocks and grids as the .docx, so they must read to its JSON.

HTML_SHAPES = ("portal", "word")
# a 1×1 PNG: the picture part every Word .mht carries
_TINY_PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                          "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")
PORTAL_LAYOUTS = ("divs", "tables", "meta", "br")  # see _portal_page


def _h(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def _quotes_as_entities(markup: str) -> str:
    """Portal editors store curly quotes and dashes as named entities."""
    return markup.replace("“", "&ldquo;").replace("”", "&rdquo;").replace("—", "&mdash;")


def _html_table(grid: list[list[C | None]], cell: Any, table_attrs: str, row_attrs: Any = None) -> str:
    """A grid as an HTML table with rowspan/colspan: covered positions are simply left out."""
    out = [f"<table {table_attrs}>", "<tbody>"]
    for ri, row in enumerate(grid):
        out.append(f"<tr{row_attrs(ri) if row_attrs else ''}>")
        for c in row:
            if c is None:
                continue
            spans = (f' colspan="{c.colspan}"' if c.colspan > 1 else "") + (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "")
            out.append(cell(c, spans))
        out.append("</tr>")
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


def _portal_cell(c: C, spans: str) -> str:
    text = "<br />".join(_h(line) for line in c.text.split("\n")) or "&nbsp;"
    return f'<td{spans} style="border:1px solid #000;text-align:center"><p><span style="font-size:14px">{text}</span></p></td>'


def _portal_article(spec: ReportSpec, br: bool) -> tuple[str, str]:
    """(title markup, body markup) of the article. `br`: the body is one div of <br>-separated
    lines (the tables between them), as some portal editors store it."""
    title_lines = spec.title_paragraphs()
    grid_of = grids(spec)
    parts: list[str] = []
    for kind, value, _section, _index in _blocks(spec):
        if kind == "title":
            continue
        if kind == "table":
            table = _html_table(grid_of[value], _portal_cell,
                                'border="1" cellspacing="0" cellpadding="0" width="600" style="border-collapse:collapse"')
            parts.append(f'<div style="text-align:center">{table}</div>' if not br else table)
        elif br:
            indent = "&nbsp;&nbsp;&nbsp;&nbsp;" if kind == "heading" else "\u3000\u3000"
            parts.append(f"{indent}{_h(value)}<br />")
        elif kind == "heading":
            parts.append(f'<p style="text-indent:2em"><strong><span style="font-family:黑体">{_h(value)}</span></strong></p>')
        else:  # an indent written as characters, the text in a span (portal editors do both)
            parts.append(f'<p style="text-indent:2em;line-height:2">\u3000\u3000<span style="font-family:仿宋_GB2312;'
                         f'font-size:16pt">{_h(value)}</span></p>')
    body = "\n".join(parts)
    if br:
        title = "<br />".join(_h(t) for t in title_lines)
    else:
        title = _h("".join(title_lines))
    return _quotes_as_entities(title), _quotes_as_entities(body)


_PORTAL_SCRIPT = """<script type="text/javascript">
var _hmt = _hmt || []; var toc = "一、总体情况 二、主动公开政府信息情况 本年新收政府信息公开申请数量 99999";
function setFont(s){ document.getElementById("zoom").style.fontSize = s + "px"; }
document.write("<span>" + toc + "</span>");
</script>"""
_PORTAL_STYLE = "<style type=\"text/css\">body{font:12px/1.5 宋体} .nav li{float:left} #zoom p{text-indent:2em}</style>"


def _portal_page(spec: ReportSpec, layout: str, charset: str | None) -> str:
    """A report page as a county portal serves it. Layouts seen on real portals:

    - "divs": header, <nav>, breadcrumbs, <h1> title, an info line (发布时间 来源 浏览次数 字号),
      the article div, share buttons, footer;
    - "tables": the old layout table page (logo row, menu row, a sidebar cell and a main cell),
      a metadata table, the title in a table cell of its own above the content cell;
    - "meta": the metadata table (索引号 / 发布机构 / 发布日期) and the title inside the content div;
    - "br": the title as two <br>-separated lines in a div, the body one div of <br>-separated
      lines with the tables in between.
    """
    if layout not in PORTAL_LAYOUTS:
        raise ValueError(f"layout must be one of {PORTAL_LAYOUTS}")
    title, body = _portal_article(spec, br=layout == "br")
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}" />' if charset else ""
    head = (f"<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" "
            f"\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
            f"<html xmlns=\"http://www.w3.org/1999/xhtml\">\n<head>\n{meta}\n"
            f"<title>{title.replace('<br />', '')}_{_h(spec.county)}人民政府</title>\n{_PORTAL_STYLE}\n{_PORTAL_SCRIPT}\n</head>\n")
    site = f"{_h(spec.county)}人民政府"
    menu = "".join(f"<li><a href=\"/col/{i}/\">{m}</a></li>" for i, m in
                   enumerate(("首页", "走进巨鹿", "政务公开", "政务服务", "互动交流", "政府信息公开年报")))
    crumbs = "当前位置：<a href=\"/\">首页</a> &gt; <a href=\"/zwgk/\">政务公开</a> &gt; <a href=\"/xxgk/\">政府信息公开年报</a>"
    meta_table = ("<table class=\"xxgk_table\" width=\"100%\"><tr><td>索引号：</td><td>13053300-2025-00012</td>"
                  f"<td>发布机构：</td><td>{_h(spec.body)}</td></tr><tr><td>发布日期：</td><td>{spec.year + 1}-01-20</td>"
                  "<td>主题分类：</td><td>政府信息公开年报</td></tr><tr><td>名称：</td>"
                  f"<td colspan=\"3\">{title.replace('<br />', '')}</td></tr></table>")
    info = (f"<div class=\"info\">发布时间：{spec.year + 1}-01-20 09:30 来源：{_h(spec.body)} 浏览次数：<span id=\"hits\">"
            "</span> 字号：<a href=\"javascript:setFont(18)\">大</a> <a href=\"javascript:setFont(16)\">中</a> "
            "<a href=\"javascript:setFont(14)\">小</a></div>")
    share = ("<div class=\"share\">分享到：<a href=\"#\">微信</a> <a href=\"#\">微博</a></div>"
             "<div class=\"print\"><a href=\"javascript:window.print()\">【打印本页】</a> "
             "<a href=\"javascript:window.close()\">【关闭窗口】</a></div>")
    footer = (f"<div class=\"footer\"><p>主办单位：{site}办公室 承办单位：{site}信息中心</p>"
              "<p>网站标识码：1305330001 冀ICP备05001234号 冀公网安备 13053302000123号</p></div>")
    related = ("<div class=\"related\"><h3>相关链接</h3><ul><li><a href=\"#\">政府信息公开指南</a></li>"
               f"<li><a href=\"#\">{_h(spec.county)}{spec.year - 1}年政府信息公开工作年度报告</a></li></ul></div>")
    if layout == "divs":
        page = (f"<body>\n<div class=\"header\"><div class=\"logo\">{site}</div><div class=\"search\"><form action=\"/s\">"
                f"<input type=\"text\" value=\"请输入关键字\" /><button>搜索</button></form></div></div>\n"
                f"<nav class=\"nav\"><ul>{menu}</ul></nav>\n<div class=\"crumbs\">{crumbs}</div>\n"
                f"<div class=\"main\"><div class=\"article\">\n<h1 class=\"title\">{title}</h1>\n{info}\n"
                f"<div class=\"TRS_Editor\" id=\"zoom\">\n{body}\n</div>\n{share}\n</div>\n{related}\n</div>\n"
                f"{footer}\n<script>document.getElementById('hits').innerHTML='128';</script>\n</body>\n</html>\n")
    elif layout == "tables":
        top_links = "　".join(f"<a href=\"#\">{m}</a>" for m in ("首页", "政务公开", "政务服务", "互动交流"))
        sidebar = "".join(f"<tr><td><a href=\"#\">{x}</a></td></tr>" for x in
                          ("政府信息公开指南", "政府信息公开制度", "法定主动公开内容", "政府信息公开年报"))
        page = (f"<body>\n<table width=\"1000\" border=\"0\" cellspacing=\"0\" cellpadding=\"0\" align=\"center\">\n"
                f"<tr><td colspan=\"2\"><img src=\"/images/logo.png\" alt=\"{site}\" /></td></tr>\n"
                f"<tr><td colspan=\"2\" class=\"menu\">{top_links}</td></tr>\n"
                f"<tr><td colspan=\"2\">{crumbs}</td></tr>\n"
                f"<tr><td width=\"200\" valign=\"top\"><table width=\"100%\">{sidebar}</table></td>\n"
                f"<td width=\"800\" valign=\"top\">\n{meta_table}\n"
                f"<table width=\"100%\"><tr><td class=\"title\" align=\"center\"><font size=\"5\"><b>{title}</b></font></td></tr>\n"
                f"<tr><td align=\"center\">{spec.year + 1}年01月20日 来源：{_h(spec.body)}</td></tr>\n"
                f"<tr><td id=\"zoom\" class=\"content\">\n{body}\n</td></tr>\n"
                f"<tr><td align=\"right\">【<a href=\"javascript:window.print()\">打印</a>】【<a href=\"javascript:window.close()\">关闭</a>】</td></tr>\n"
                f"</table>\n</td></tr>\n<tr><td colspan=\"2\" class=\"footer\">{footer}</td></tr>\n</table>\n</body>\n</html>\n")
    elif layout == "meta":
        page = (f"<body>\n<div class=\"top\">{site}</div>\n<div class=\"nav\"><ul>{menu}</ul></div>\n"
                f"<div class=\"position\">{crumbs}</div>\n<div class=\"con_box\">\n<div class=\"content\">\n{meta_table}\n"
                f"<p align=\"center\"><strong><span style=\"font-size:22px\">{title}</span></strong></p>\n{body}\n"
                f"</div>\n{share}\n</div>\n{footer}\n</body>\n</html>\n")
    else:  # "br"
        page = (f"<body>\n<div id=\"top\"><span>{site}</span><span>{menu}</span></div>\n<div class=\"dqwz\">{crumbs}</div>\n"
                f"<div class=\"wzy\">\n<div class=\"bt\" style=\"text-align:center;font-weight:bold\">{title}</div>\n"
                f"<div class=\"sj\">{info}</div>\n<div class=\"nr\" id=\"zoom\">\n{body}\n</div>\n</div>\n{footer}\n"
                "</body>\n</html>\n")
    return head + page


def _word_runs(text: str) -> str:
    """Text as Word writes it into HTML: digits and Latin in their own lang=EN-US spans, long
    runs broken across source lines (a line break in the markup is only a space)."""
    out: list[str] = []
    for part in re.findall(r"[\x21-\x7e]+|[^\x21-\x7e]+", text):
        esc = _h(part)
        if part.isascii():
            out.append(f"<span lang=EN-US>{esc}</span>")
        else:
            esc = "\r\n".join(esc[i:i + 38] for i in range(0, len(esc), 38))
            out.append(f"<span style='font-family:仿宋_GB2312;mso-ascii-font-family:\"Times New Roman\"'>{esc}</span>")
    return "".join(out)


def _word_cell(c: C, spans: str) -> str:
    lines = c.text.split("\n")
    paras = "".join(f"<p class=MsoNormal align=center style='text-align:center'>{_word_runs(line) if line else ''}"
                    "<span lang=EN-US style='font-size:10.5pt'><o:p>" + ("" if line else "&nbsp;") + "</o:p></span></p>\n"
                    for line in lines)
    return (f"<td{spans.replace(chr(34), '')} valign=top style='border:solid windowtext 1.0pt;mso-border-alt:solid windowtext .5pt;"
            f"padding:0cm 5.4pt 0cm 5.4pt'>\n{paras}</td>")


_WORD_HEAD = """<html xmlns:v="urn:schemas-microsoft-com:vml"
xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:w="urn:schemas-microsoft-com:office:word"
xmlns:m="http://schemas.microsoft.com/office/2004/12/omml"
xmlns="http://www.w3.org/TR/REC-html40">

<head>
<meta http-equiv=Content-Type content="text/html; charset={charset}">
<meta name=ProgId content=Word.Document>
<meta name=Generator content="Microsoft Word 15">
<meta name=Originator content="Microsoft Word 15">
<title>{title}</title>
<!--[if gte mso 9]><xml>
 <o:DocumentProperties>
  <o:Author>办公室</o:Author>
  <o:Pages>6</o:Pages>
 </o:DocumentProperties>
</xml><![endif]-->
<!--[if gte mso 9]><xml>
 <w:WordDocument>
  <w:View>Print</w:View>
  <w:TrackMoves>false</w:TrackMoves>
  <w:Compatibility><w:SpaceForUL/></w:Compatibility>
 </w:WordDocument>
</xml><![endif]-->
<style>
<!--
 /* Font Definitions */
 @font-face {{font-family:仿宋_GB2312; panose-1:2 1 6 9 3 1 1 1 1 1;}}
p.MsoNormal, li.MsoNormal, div.MsoNormal
	{{mso-style-unhide:no; margin:0cm; text-align:justify; text-justify:inter-ideograph;
	font-size:10.5pt; font-family:等线;}}
@page WordSection1 {{size:595.3pt 841.9pt; margin:72.0pt 90.0pt 72.0pt 90.0pt;}}
div.WordSection1 {{page:WordSection1;}}
@page WordSection2 {{size:841.9pt 595.3pt; mso-page-orientation:landscape;}}
div.WordSection2 {{page:WordSection2;}}
-->
</style>
<!--[if gte mso 10]>
<style>
 table.MsoNormalTable {{mso-style-name:普通表格; mso-tstyle-rowband-size:0;}}
</style>
<![endif]-->
</head>
"""


def _word_page(spec: ReportSpec, charset: str) -> str:
    """Word's own "web page" (.htm): MsoNormal paragraphs of lang spans, <o:p> ends, conditional
    comments in the head, empty paragraphs as <o:p>&nbsp;</o:p>, and table 三 in a landscape
    section of its own (a second WordSection div after a section break)."""
    grid_of = grids(spec)
    title = "".join(spec.title_paragraphs())
    empty = "<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>"
    section_break = ("<span lang=EN-US style='font-size:10.5pt;font-family:等线'><br clear=all "
                     "style='page-break-before:always;mso-break-type:section-break'>\r\n</span>")
    out = [_WORD_HEAD.format(charset=charset, title=_h(title)),
           "<body lang=ZH-CN style='tab-interval:21.0pt;text-justify-trim:punctuation'>", "", "<div class=WordSection1>", ""]
    for kind, value, _section, _index in _blocks(spec):
        if kind == "title":
            out.append(f"<p class=MsoNormal align=center style='text-align:center'><b><span style='font-size:16.0pt;"
                       f"font-family:方正小标宋简体'>{_word_runs(value)}</span></b><b><span lang=EN-US "
                       "style='font-size:16.0pt'><o:p></o:p></span></b></p>")
        elif kind == "heading":
            out.append(f"<p class=MsoNormal style='text-indent:24.0pt;mso-char-indent-count:2.0'><b>{_word_runs(value)}"
                       "<span lang=EN-US><o:p></o:p></span></b></p>")
        elif kind == "para":
            out.append(f"<p class=MsoNormal style='text-indent:24.0pt;mso-char-indent-count:2.0'>{_word_runs(value)}"
                       "<span lang=EN-US><o:p></o:p></span></p>")
        else:
            table = _html_table(grid_of[value], _word_cell,
                                "class=MsoTableGrid border=1 cellspacing=0 cellpadding=0 align=center "
                                "style='border-collapse:collapse;border:none;mso-yfti-tbllook:1184'",
                                lambda ri: f" style='mso-yfti-irow:{ri};height:20.0pt'")
            if value == "table3":  # Word puts a landscape page in a section of its own
                out += ["", "</div>", "", section_break, "", "<div class=WordSection2>", "", table, "", empty, "", "</div>",
                        "", section_break, "", "<div class=WordSection3>", ""]
            else:
                out += [table, "", empty]
    out += ["", "</div>", "", "</body>", "", "</html>", ""]
    return "\r\n".join(out)


def html_page(spec: ReportSpec, shape: str = "portal", layout: str = "divs", charset: str | None = "utf-8") -> str:
    """The report as a web page's markup; `charset` is what its meta tag declares (None: none)."""
    if shape == "portal":
        return _portal_page(spec, layout, charset)
    if shape == "word":
        return _word_page(spec, charset or "utf-8")
    raise ValueError(f"shape must be one of {HTML_SHAPES}")


def _charset_label(encoding: str) -> str:
    """What pages declare for the encoding they are written in: GB2312, though the bytes are GBK's."""
    return "gb2312" if encoding.lower().replace("-", "") in ("gb18030", "gbk", "gb2312", "cp936") else encoding


def write_html(spec: ReportSpec, path: str | Path, shape: str = "portal", encoding: str = "utf-8",
               layout: str = "divs", declare: bool = True) -> Path:
    """A web page holding the report. shape "portal": a county portal's page around the article
    (`layout`: see `_portal_page`); "word": Word's "save as web page". `encoding`: the bytes
    ("gb18030" is declared as gb2312, as Chinese pages do); `declare`: False leaves the meta
    charset out (the reader must guess). A .doc name for the same bytes is Word's web page kept
    under its old extension."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    markup = html_page(spec, shape, layout, _charset_label(encoding) if declare else None)
    path.write_bytes(markup.encode(encoding))
    return path


def write_mht(spec: ReportSpec, path: str | Path, encoding: str = "gb18030", transfer: str = "quoted-printable",
              shape: str = "word") -> Path:
    """A single-file web page (.mht/.mhtml; Word's "单个文件网页", also kept as .doc): MIME
    multipart/related, the page as its first part (`transfer`: "quoted-printable" or "base64"),
    then an image and Word's file list, as Word writes them."""
    import base64
    import quopri

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    label = _charset_label(encoding)
    page = html_page(spec, shape, "divs", label).encode(encoding)
    boundary = "----=_NextPart_01DB6A2F.3C8E1B40"
    if transfer == "quoted-printable":
        payload = quopri.encodestring(page)
    elif transfer == "base64":
        payload = base64.encodebytes(page)
    else:
        raise ValueError("transfer must be quoted-printable or base64")
    image = base64.encodebytes(_TINY_PNG)
    filelist = b'<xml xmlns:o="urn:schemas-microsoft-com:office:office">\r\n <o:MainFile HRef="../report.htm"/>\r\n</xml>'
    parts = [
        b"MIME-Version: 1.0\r\n",
        f'Content-Type: multipart/related; boundary="{boundary}"\r\n\r\n'.encode("ascii"),
        "此文档为“单个文件网页”，也称为“Web 档案”文件。如果您看到此消息，但是您的浏览器或编辑器不支持“Web 档案”文件。"
        "请下载支持“Web 档案”的浏览器。\r\n\r\n".encode(encoding),
        f"--{boundary}\r\nContent-Location: file:///C:/D0A1B2C3/report.htm\r\n"
        f"Content-Transfer-Encoding: {transfer}\r\nContent-Type: text/html; charset=\"{label}\"\r\n\r\n".encode("ascii"),
        payload.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
        f"\r\n--{boundary}\r\nContent-Location: file:///C:/D0A1B2C3/report.files/image001.png\r\n"
        "Content-Transfer-Encoding: base64\r\nContent-Type: image/png\r\n\r\n".encode("ascii"),
        image.replace(b"\n", b"\r\n"),
        f"\r\n--{boundary}\r\nContent-Location: file:///C:/D0A1B2C3/report.files/filelist.xml\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\nContent-Type: text/xml; charset=\"utf-8\"\r\n\r\n".encode("ascii"),
        quopri.encodestring(filelist),
        f"\r\n\r\n--{boundary}--\r\n".encode("ascii"),
    ]
    path.write_bytes(b"".join(parts))
    return path
