"""The national template (国办公开办函〔2021〕30号) and the superseded 2019 trial template.

Everything the readers, the normaliser, the rules and the generator need to know about the
format lives here: section names, table rows and columns with the keys of the spec
(../shared/spec/annual-report-format.md §2), and the markers that tell the templates apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

NUMERALS = "一二三四五六"


@dataclass(frozen=True)
class Section:
    key: str  # "1".."6"
    numeral: str  # 一..六
    title: str  # canonical wording
    variants: tuple[str, ...] = ()

    @property
    def heading(self) -> str:
        return f"{self.numeral}、{self.title}"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.title, *self.variants)


SECTIONS: tuple[Section, ...] = (
    Section("1", "一", "总体情况"),
    Section("2", "二", "主动公开政府信息情况"),
    Section("3", "三", "收到和处理政府信息公开申请情况"),
    Section("4", "四", "政府信息公开行政复议、行政诉讼情况", ("政府信息公开行政复议行政诉讼情况",)),
    Section("5", "五", "存在的主要问题及改进情况", ("政府信息公开工作存在的主要问题及改进情况",)),
    Section("6", "六", "其他需要报告的事项"),
)
SECTION_BY_KEY = {s.key: s for s in SECTIONS}


@dataclass(frozen=True)
class Column:
    key: str
    label: str


@dataclass(frozen=True)
class Row:
    key: str
    label: str  # the template's own words, used in messages
    pattern: str  # a regex that identifies the row in a whitespace-free label
    columns: tuple[Column, ...] = ()


# ---- table 二 -------------------------------------------------------------------------------

T2_DOC_COLUMNS = (
    Column("made", "本年制发件数"),
    Column("repealed", "本年废止件数"),
    Column("in_force", "现行有效件数"),
)
T2_COUNT = (Column("count", "本年处理决定数量"),)
T2_FEE = (Column("amount", "本年收费金额（单位：万元）"),)

TABLE2_ROWS: tuple[Row, ...] = (
    Row("rules", "规章", r"规章$", T2_DOC_COLUMNS),
    Row("normative", "行政规范性文件", r"规范性文件$", T2_DOC_COLUMNS),
    Row("licensing", "行政许可", r"行政许可$", T2_COUNT),
    Row("penalty", "行政处罚", r"行政处罚$", T2_COUNT),
    Row("coercion", "行政强制", r"行政强制$", T2_COUNT),
    Row("fees_10k_yuan", "行政事业性收费", r"行政事业性收费$", T2_FEE),
)
TABLE2_BY_KEY = {r.key: r for r in TABLE2_ROWS}
TABLE2_LIST_KEYS = ("rules", "normative")  # rows with three numbers; the rest hold one

# ---- table 三 -------------------------------------------------------------------------------

TABLE3_COLUMNS: tuple[Column, ...] = (
    Column("natural_person", "自然人"),
    Column("business", "商业企业"),
    Column("research", "科研机构"),
    Column("public_interest", "社会公益组织"),
    Column("legal_service", "法律服务机构"),
    Column("other", "其他"),
    Column("total", "总计"),
)

TABLE3_ROWS: tuple[Row, ...] = (
    Row("new", "一、本年新收政府信息公开申请数量", r"本年新收"),
    Row("carried_over", "二、上年结转政府信息公开申请数量", r"上年结转"),
    Row("granted", "（一）予以公开", r"予以公开"),
    Row("partial", "（二）部分公开", r"部分公开"),
    Row("denied_state_secret", "（三）不予公开 1.属于国家秘密", r"国家秘密"),
    Row("denied_law_forbids", "（三）不予公开 2.其他法律行政法规禁止公开", r"法律行政法规禁止公开"),
    Row("denied_three_safeties", "（三）不予公开 3.危及“三安全一稳定”", r"三安全一稳定"),
    Row("denied_third_party", "（三）不予公开 4.保护第三方合法权益", r"第三方合法权益"),
    Row("denied_internal_affairs", "（三）不予公开 5.属于三类内部事务信息", r"内部事务信息"),
    Row("denied_process_info", "（三）不予公开 6.属于四类过程性信息", r"过程性信息"),
    Row("denied_enforcement_file", "（三）不予公开 7.属于行政执法案卷", r"行政执法案卷"),
    Row("denied_query_matter", "（三）不予公开 8.属于行政查询事项", r"行政查询事项"),
    Row("unable_not_held", "（四）无法提供 1.本机关不掌握相关政府信息", r"不掌握相关政府信息"),
    Row("unable_needs_creation", "（四）无法提供 2.没有现成信息需要另行制作", r"另行制作"),
    Row("unable_unclear", "（四）无法提供 3.补正后申请内容仍不明确", r"仍不明确"),
    Row("refused_petition", "（五）不予处理 1.信访举报投诉类申请", r"信访举报投诉"),
    Row("refused_repeat", "（五）不予处理 2.重复申请", r"重复申请$"),
    Row("refused_publication", "（五）不予处理 3.要求提供公开出版物", r"公开出版物"),
    Row("refused_mass_repeat", "（五）不予处理 4.无正当理由大量反复申请", r"大量反复申请"),
    Row("refused_confirm_existing", "（五）不予处理 5.要求行政机关确认或重新出具已获取信息", r"重新出具"),
    Row("other_no_correction", "（六）其他处理 1.申请人无正当理由逾期不补正", r"逾期不补正"),
    Row("other_no_fee", "（六）其他处理 2.申请人逾期未按收费通知要求缴纳费用", r"缴纳费用"),
    # 2021: "3.其他"; 2019: the single row "（六）其他处理"
    Row("other_other", "（六）其他处理 3.其他", r"(?:\d[.．、]?其他|其他处理)$"),
    Row("total", "（七）总计", r"(?:（七）|\(七\)|七、)?总计$"),
    Row("carried_forward", "四、结转下年度继续办理", r"结转下年度"),
)
TABLE3_KEYS = tuple(r.key for r in TABLE3_ROWS)
TABLE3_BY_KEY = {r.key: r for r in TABLE3_ROWS}
# the result rows that add up to （七）总计 (spec §3 rule 2)
TABLE3_RESULT_KEYS = TABLE3_KEYS[TABLE3_KEYS.index("granted") : TABLE3_KEYS.index("other_other") + 1]
TABLE3_HEADER_WORDS = ("自然人", "商业", "科研", "公益", "法律服务", "法人", "申请人")

# ---- table 四 -------------------------------------------------------------------------------

_T4_OUTCOMES = (("upheld", "结果维持"), ("corrected", "结果纠正"), ("other", "其他结果"),
                ("pending", "尚未审结"), ("total", "总计"))
TABLE4_GROUPS = (
    ("review", "行政复议"),
    ("litigation_direct", "行政诉讼（未经复议直接起诉）"),
    ("litigation_after_review", "行政诉讼（复议后起诉）"),
)
TABLE4_COLUMNS: tuple[Column, ...] = tuple(
    Column(f"{g}_{o}", f"{glabel}·{olabel}") for g, glabel in TABLE4_GROUPS for o, olabel in _T4_OUTCOMES
)
TABLE4_KEYS = tuple(c.key for c in TABLE4_COLUMNS)

# ---- the tables' shape, by name: no code indexes a table by a bare number -----------------------

T2_DOC_WIDTH = len(T2_DOC_COLUMNS)  # 规章 and 行政规范性文件: made, repealed, in force
T2_IN_FORCE = 2
T3_WIDTH = len(TABLE3_COLUMNS)  # six kinds of applicant and 总计
T3_TOTAL = T3_WIDTH - 1  # the 总计 column
T3_APPLICANTS = slice(0, T3_TOTAL)
T4_OUTCOMES = len(_T4_OUTCOMES)  # per group: upheld, corrected, other, pending, total
T4_WIDTH = len(TABLE4_COLUMNS)


def t4_index(group: str, outcome: str = "total") -> int:
    """The position in table 四's row of one group's outcome."""
    return TABLE4_KEYS.index(f"{group}_{outcome}")


def t4_group(t4: list, group: str) -> list:
    """One group's five figures (结果维持 … 总计)."""
    start = t4_index(group, _T4_OUTCOMES[0][0])
    return t4[start:start + T4_OUTCOMES]


def review_total(t4: list) -> int | float | None:
    return t4[t4_index("review")]


def litigation_total(t4: list) -> int | float | None:
    """Both kinds of 行政诉讼 together; unknown if either is."""
    direct, after = t4[t4_index("litigation_direct")], t4[t4_index("litigation_after_review")]
    return None if direct is None or after is None else direct + after


def blank_row(width: int, fill: int | None = None) -> list:
    return [fill] * width


def blank_table3(fill: int | None = None) -> dict[str, list]:
    """Every row of table 三, each cell `fill` (None: not read; 0: a zero table)."""
    return {k: blank_row(T3_WIDTH, fill) for k in TABLE3_KEYS}


def blank_table4(fill: int | None = None) -> list:
    return blank_row(T4_WIDTH, fill)

TABLES = {"table2": "表二（主动公开政府信息情况）", "table3": "表三（收到和处理政府信息公开申请情况）",
          "table4": "表四（政府信息公开行政复议、行政诉讼情况）"}
TABLE_SHORT = {"table2": "表二", "table3": "表三", "table4": "表四"}

# ---- template markers (spec §2: compare on text with all whitespace removed) -----------------

# Column headings and structural rows say which template a table follows; row labels only when no
# heading is there to say it (a 2019 table 二 labelled "行政规范性文件" is still a 2019 table)
MARKERS_2021 = ("本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额（单位：万元）",
                "申请人无正当理由逾期不补正")  # （六）其他处理 split into three sub-rows
MARKERS_2019 = ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增/减", "采购项目数量",
                "采购总金额")
LABEL_MARKERS_2021 = ("行政规范性文件",)
LABEL_MARKERS_2019 = ("其他对外管理服务事项", "第二十条第（九）项", "政府集中采购")


def template_markers(flat_text: str) -> tuple[list[str], list[str]]:
    """The 2021 and 2019 markers found in `flat_text`, the tables' text with whitespace removed.

    Only the tables count: the running text may well speak of 行政规范性文件 in a 2019-template
    report, and that does not make it a hybrid."""
    m21 = [m for m in MARKERS_2021 if m in flat_text]
    m19 = [m for m in MARKERS_2019 if m in flat_text]
    if not m21 and not m19:
        m21 = [m for m in LABEL_MARKERS_2021 if m in flat_text]
        m19 = [m for m in LABEL_MARKERS_2019 if m in flat_text]
    return m21, m19


def template_kind(m21: list[str], m19: list[str]) -> str:
    """The one decision: markers of both templates → hybrid, of one → that one, none → unknown."""
    if m21 and m19:
        return "hybrid"
    if m21:
        return "2021"
    if m19:
        return "2019"
    return "unknown"


# ---- the template's placeholders: one vocabulary, two questions --------------------------------

# what the blank template (and the county report's draft) writes where the text is to go
PLACEHOLDER_WORDS = ("文字描述", "此处填写", "请填写")
_PLACEHOLDER_START = re.compile(rf"^[（(]?(?:{'|'.join(PLACEHOLDER_WORDS)})")
_PLACEHOLDER_ONLY = re.compile(rf"^[（(]?(?:{'|'.join(PLACEHOLDER_WORDS)})[^）)]*[）)]?$")
# anything left in that stands for text or figures still to write (text.placeholder)
PLACEHOLDER_ANYWHERE = re.compile(
    r"(?<![A-Za-z])(?:[XxＸｘ×]{2,}|\*{3,}|＊{3,})(?![A-Za-z])"
    r"|20[0-9][XxＸ×]|20[XxＸ×]{2}"
    r"|[XxＸ×]月[XxＸ×]日"
    r"|[（(](?:单位名称|机关名称|单位全称|单位|文字描述[^）)]*)[）)]"
    r"|此处填写|在此填写|请在此|请填写"
)


def starts_with_placeholder(flat_text: str) -> bool:
    """A section that opens with the template's placeholder has not been written (content.*)."""
    return bool(_PLACEHOLDER_START.match(flat_text))


def is_placeholder_only(flat_text: str) -> bool:
    """A section that holds nothing but the placeholder is empty (sections.empty)."""
    return bool(_PLACEHOLDER_ONLY.match(flat_text))


# ---- section headings -----------------------------------------------------------------------

_WS = re.compile(r"[\s\u3000\u00a0]+")
# the numbering before a heading's words, as reports really write it: 二、 二． 二. 二， 二：, 第二部分,
# 第二章, 2、 2. (an Arabic numeral is a sections.numbering warning: the template writes 二、)
_HEADING = re.compile(
    r"^(?P<num>第[一二三四五六](?:部分|章|节|项)|[一二三四五六](?![一二三四五六七八九十])|[1-6１-６](?![0-9０-９]))"
    r"\s*(?P<sep>[、.．，,:：]?)\s*(?P<rest>.*)$"
)
_WRAPPERS = "【】[]「」『』*#＊ "
_OK_SEPS = ("、", "．", ".", "，", ",", "：", ":", "")

# A heading worded otherwise than the template still names its section's subject. These are the
# words each section's heading cannot do without (learnt from published reports: 五、存在的主要问题及
# 整改措施, 三、依申请公开情况, 四、因政府信息公开工作被申请行政复议、提起行政诉讼情况 …); they are only
# trusted after the section's own Chinese numeral, on a short line of its own, so that table 三's
# row labels (一、本年新收政府信息公开申请数量) and section 一's sub-items ((二)依申请公开) are not headings.
_SUBJECT = (
    ("4", re.compile(r"行政复议|行政诉讼")),
    ("3", re.compile(r"(?:收到|受理|办理|处理|答复).{0,8}申请|依申请|申请公开|公开申请")),
    ("2", re.compile(r"主动公开")),
    ("1", re.compile(r"^(?:工作)?(?:总体|基本|整体|综合)(?:工作)?(?:情况|概况|概述)|^(?:工作)?(?:概况|概述)")),
    ("5", re.compile(r"问题|不足|差距|改进|整改")),
    ("6", re.compile(r"^其他|其[他它].{0,6}(?:事项|情况)|需要报告|需报告")),
)
_NOT_A_HEADING = re.compile(r"数量|办理结果|结转|。")
_SUBJECT_MAX = 32


@dataclass(frozen=True)
class HeadingMatch:
    section: Section
    numbering_ok: bool  # the section's own Chinese numeral (二、 as the template writes it, or 二．/第二部分)
    written: str  # the prefix as written, e.g. "2、"
    rest: str  # text after the heading on the same line (usually "")


def flat(text: str) -> str:
    """Text with all whitespace (incl. U+3000 and line breaks) removed."""
    return _WS.sub("", text)


def match_heading(line: str) -> HeadingMatch | None:
    """A section heading at the start of a line, or None.

    Only the start of a line counts, and the words after the numeral must be a section's
    name, a slight misspelling of it, or — after the section's own numeral, on a short line —
    words naming the section's subject: the preamble that lists all six names, and table 三's
    row labels (一、本年新收…, 四、结转下年度…), are not headings.
    """
    text = flat(line).strip(_WRAPPERS)
    if not text:
        return None
    m = _HEADING.match(text)
    num, sep, rest = (m.group("num"), m.group("sep"), m.group("rest").strip(_WRAPPERS)) if m else ("", "", text)
    for section in SECTIONS:
        for name in section.names:
            if rest.startswith(name):
                tail = rest[len(name):]
                if tail and tail[0] not in "。：:；;，,":
                    continue  # a sentence that merely starts with the name
                return _heading(section, num, sep, tail.lstrip("。：:；;，,"))
    if not num:
        return None
    if len(rest) <= 25:  # a slightly misworded name after a numeral: 政府信息公开行政复议和行政诉讼情况
        for section in SECTIONS:
            for name in section.names:
                if (abs(len(rest) - len(name)) <= 3 and rest[:2] in name
                        and SequenceMatcher(None, rest, name).ratio() >= 0.85):
                    return _heading(section, num, sep, "")
    numeral = num[1] if num.startswith("第") else num
    if (numeral in NUMERALS and (sep or num.startswith("第")) and 2 <= len(rest) <= _SUBJECT_MAX
            and not _NOT_A_HEADING.search(rest)):  # (not 五是存在问题…: an enumeration in running text)
        rest = rest.rstrip("：:")
        for key, subject in _SUBJECT:
            if subject.search(rest):
                section = SECTION_BY_KEY[key]
                return _heading(section, num, sep, "") if section.numeral == numeral else None
    return None


def _heading(section: Section, num: str, sep: str, rest: str) -> HeadingMatch:
    numeral = num[1] if num.startswith("第") else num
    ok = numeral == section.numeral and (sep in _OK_SEPS if num.startswith("第") else sep in _OK_SEPS[:-1])
    return HeadingMatch(section, ok, num + sep, rest)
