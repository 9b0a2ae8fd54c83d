"""The project's own report generator: a report described as data → .docx in the official merged
layout (python-docx), Word-extracted or PDF-extracted .txt, and .pdf (LibreOffice).

Tests, fixtures, benchmarks and the demo build their documents here instead of copying
third-party files. A ReportSpec holds the figures and the texts; every field can be changed
to make a flawed report (a wrong total, a missing section, an old template, a stray year …).
"""

from __future__ import annotations

import copy
import random
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
    grid_of = grids(spec)
    for kind, value, section, index in _blocks(spec):
        if kind == "title":
            p = d.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            r = p.add_run(value)
            r.bold = True
            r.font.size = Pt(16)
        elif kind == "heading":
            p = d.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(24)
            r = p.add_run(value)
            r.bold = True
        elif kind == "para":
            p = d.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY  # as government documents are set
            p.paragraph_format.first_line_indent = Pt(24)
            p.add_run(value)
            if _edited(section, index):
                if spec.tracked_change:
                    _tracked_insert(p, spec.tracked_change, OxmlElement, qn)
                if spec.comment:
                    _comment(d, p, spec.comment)
        else:
            _docx_table(d, grid_of[value], Cm, Pt, WD_TABLE_ALIGNMENT)
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


def _docx_table(d, grid: list[list[C | None]], Cm, Pt, WD_TABLE_ALIGNMENT) -> None:
    """A table with Word's own merge markup: gridSpan across, vMerge restart/continue down.

    Written straight into each row's cells (python-docx's cell.merge() looks every cell up
    again and is quadratic)."""
    nrows, ncols = len(grid), len(grid[0])
    table = d.add_table(rows=nrows, cols=ncols)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = _col_widths(ncols, Cm(16.6))
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
    path.write_text(txt_word(spec) if shape == "word" else txt_pdf(spec), encoding="utf-8")
    return path


def write_pdfs(docx_paths: list[Path], outdir: Path) -> list[Path]:
    """PDFs of many .docx in one LibreOffice call."""
    from nianbao.libreoffice import convert

    return convert(list(docx_paths), "pdf", outdir)


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
