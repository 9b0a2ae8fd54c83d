"""The normaliser: neutral document → report (the spec's JSON) plus the evidence the rules need
(where every paragraph and cell came from, what the headings looked like, raw cell text).

It decides nothing about right and wrong: an unreadable cell becomes null and its raw text is
kept; the rules turn that into findings.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from nianbao.document import Artifact, Document, Paragraph, Source, Table, clean_text, normalize_number_text
from nianbao.model import Number, Report, empty_table2
from nianbao.template import (
    SECTIONS,
    T3_WIDTH,
    T4_WIDTH,
    TABLE2_LIST_KEYS,
    TABLE2_ROWS,
    TABLE3_COLUMNS,
    TABLE3_HEADER_WORDS,
    TABLE3_KEYS,
    TABLE3_ROWS,
    TABLE4_COLUMNS,
    blank_table3,
    blank_table4,
    flat,
    match_heading,
    template_kind,
    template_markers,
)


@dataclass
class Heading:
    section: str
    written: str  # numbering as written, e.g. "2、"
    numbering_ok: bool
    text: str
    page: int | None
    line: int | None
    source: Source | None = field(default=None, compare=False)  # the heading's block in the file


@dataclass
class Para:
    text: str
    page: int | None
    line: int | None
    index: int  # 1-based within its section
    source: Source | None = field(default=None, compare=False)  # its block in the file (annotate)

    @cached_property
    def flat(self) -> str:
        """The text without any whitespace (rules match on this; PDFs break lines anywhere)."""
        return flat(self.text)


@dataclass
class Cell:
    table: str
    row: str
    column: str
    col_index: int
    raw: str | None  # None: the cell is not there at all
    value: Number
    problem: str | None  # "empty" | "dash" | "text" | "decimal" | "missing"
    page: int | None = None
    line: int | None = None
    source: Source | None = field(default=None, compare=False)  # the cell in the file (annotate)


@dataclass
class TableInfo:
    key: str
    found: bool = False
    page: int | None = None
    line: int | None = None
    cells: list[Cell] = field(default_factory=list)
    missing_rows: list[str] = field(default_factory=list)
    single_other_row: bool = False  # table 三's （六）其他处理 in one row (the 2019 layout)
    source: Source | None = field(default=None, compare=False)  # the (first) table in the file


@dataclass
class Evidence:
    kind: str
    pages: int | None
    title_paragraphs: list[Paragraph]
    preamble: list[Paragraph]
    headings: list[Heading]
    sections: dict[str, list[Para]]
    tables: dict[str, TableInfo]
    flat_text: str
    markers_2021: list[str]
    markers_2019: list[str]
    artifacts: list[Artifact]
    images: int = 0  # pictures in the file (tables pasted as pictures: file.no_text)

    def all_paragraphs(self) -> list[tuple[str | None, Para]]:
        return self._all_paragraphs

    @cached_property
    def _all_paragraphs(self) -> list[tuple[str | None, Para]]:
        # built once: a dozen rules walk it, and each Para caches its whitespace-free text
        out: list[tuple[str | None, Para]] = []
        for i, p in enumerate(self.preamble, 1):
            out.append((None, Para(p.text, p.page, p.line, i, p.source)))
        for key in sorted(self.sections):
            out.extend((key, p) for p in self.sections[key])
        return out


@dataclass
class Parsed:
    report: Report
    evidence: Evidence


def normalize(doc: Document) -> Parsed:
    blocks = doc.blocks
    headings: list[tuple[int, Heading, str]] = []  # (block index, heading, rest of line)
    for i, b in enumerate(blocks):
        if isinstance(b, Paragraph):
            m = match_heading(b.text)
            if m:
                headings.append((i, Heading(m.section.key, m.written, m.numbering_ok, b.text, b.page, b.line, b.source),
                                 m.rest))
    first_heading = headings[0][0] if headings else len(blocks)

    lead = [b for b in blocks[:first_heading] if isinstance(b, Paragraph) and b.text]
    title_paras = _title_paragraphs(lead)
    preamble = lead[len(title_paras):]

    sections: dict[str, list[Para]] = {s.key: [] for s in SECTIONS}
    section_of_block: dict[int, str] = {}
    for n, (i, h, rest) in enumerate(headings):
        end = headings[n + 1][0] if n + 1 < len(headings) else len(blocks)
        paras = sections[h.section]
        if rest:
            paras.append(Para(clean_text(rest), h.page, h.line, len(paras) + 1, h.source))
        for j in range(i + 1, end):
            b = blocks[j]
            section_of_block[j] = h.section
            if isinstance(b, Paragraph) and b.text:
                paras.append(Para(b.text, b.page, b.line, len(paras) + 1, b.source))

    table_parts = [c for t in doc.tables for r in t.rows for c in r if c]
    flat_text = flat("".join([p.text for p in doc.paragraphs] + table_parts))
    # the template is the tables' (a text that merely names 行政规范性文件 is no marker); with no
    # table read at all, the text is all there is
    m21, m19 = template_markers(flat("".join(table_parts)) if table_parts else flat_text)

    grouped = _classify_tables(blocks, section_of_block)
    t2_label_2019 = any(flat(_row_label(r)) == "规范性文件" for t in grouped["table2"] for r in t.rows)
    if t2_label_2019 and not m21:  # a 2021 table 二 that shortens its label is still a 2021 table
        m19.append("规范性文件")
    template = template_kind(m21, m19)

    t3 = _table3(grouped["table3"])
    if t3.single_other_row:  # the 2019 table 三 has one （六）其他处理 row, 2021 splits it in three
        m19.append("（六）其他处理（未分三项）")
        template = template_kind(m21, m19)
    tables = {
        # a hybrid's table 二 is read by the template it follows itself
        "table2": _table2(grouped["table2"], _table_template(grouped["table2"]) if template == "hybrid" else template),
        "table3": t3,
        "table4": _table4(grouped["table4"]),
    }

    title = clean_text("".join(p.text for p in title_paras)) or None
    body, title_year = _title_parts(title)
    period = _period(preamble, sections)
    year = title_year or (int(period["start"][:4]) if period and period.get("start") else None)
    if year is None:
        year = _first_year(preamble, sections)
    if body is None:
        body = _infer_body(preamble, sections)

    report = Report(
        body=body,
        year=year,
        title=title,
        template=template,
        period=period,
        sections={k: "\n".join(p.text for p in v) for k, v in sections.items()},
        table2=_values_table2(tables["table2"]),
        table3=_values_table3(tables["table3"]),
        table4=[c.value for c in tables["table4"].cells] if tables["table4"].cells else blank_table4(),
    )
    evidence = Evidence(
        kind=doc.kind,
        pages=doc.pages,
        title_paragraphs=title_paras,
        preamble=preamble,
        headings=[h for _, h, _ in headings],
        sections=sections,
        tables=tables,
        flat_text=flat_text,
        markers_2021=m21,
        markers_2019=m19,
        artifacts=list(doc.artifacts),
        images=doc.images,
    )
    return Parsed(report, evidence)


# ---- title, body, year, period ---------------------------------------------------------------

_NOT_TITLE = re.compile(r"^(根据|按照|依据|依照|本报告|现将|为|202\d年[，,])")


# what a portal or a clerk puts before the title: 附件1, the page's metadata (索引号, 发布机构 …), its
# breadcrumbs and chrome (当前位置：首页>…, 欢迎访问…, 登录/注册, 无障碍, 字号 大 中 小, 打印 关闭)
_BEFORE_TITLE = re.compile(
    r"^[•·\s]*(?:附件\s*\d*[:：]?$|索\s*引\s*号|发\s*布\s*(?:机\s*构|日\s*期|时\s*间)|成文日期|公开方式|公开范围|"
    r"来\s*源[:：]|分\s*类[:：]|文\s*号[:：]|主题分类|有\s*效\s*性|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|"
    r"(?:您?当前(?:所在)?位置|当前页面|首页\s*[>＞»›]|欢迎(?:访问|来到)|用户(?:登录|中心)|登录|注册|无障碍|关怀版|长者模式|"
    r"IPV6|ipv6|分享到|浏览次数|访问量|阅读次数|字号|【?打印|【?关闭|扫一扫|.*[>＞»›]\s*正文$))"
)
_TITLE_WORDS = ("报告", "年报")


def _title_paragraphs(lead: list[Paragraph]) -> list[Paragraph]:
    """The first short lines before the preamble, up to the one that says 报告 or 年报 ("附件1"
    and a portal's metadata, breadcrumbs and chrome before it are not part of it). A page title
    without the body (2022年政府信息公开工作年度报告) repeated above the real title gives way to it."""
    while lead and _BEFORE_TITLE.match(lead[0].text):
        lead = lead[1:]
    out = _title_run(lead)
    if out and _title_parts(clean_text("".join(p.text for p in out)))[0] is None:
        again = _title_run(lead[len(out):])
        if again and _title_parts(clean_text("".join(p.text for p in again)))[0] is not None:
            return again
    return out


def _title_run(lead: list[Paragraph]) -> list[Paragraph]:
    out: list[Paragraph] = []
    for p in lead[:4]:
        text = p.text
        if len(text) > 50 or _NOT_TITLE.match(text) or text.endswith("。") or _BEFORE_TITLE.match(text):
            break
        out.append(p)
        joined = "".join(q.text for q in out)  # a long centred title wraps anywhere: …年度报 / 告
        if any(w in joined for w in _TITLE_WORDS):
            return out
    return []


_TITLE = re.compile(r"^(?P<body>.*?)(?P<year>(?:19|20)\d{2})\s*年度?(?P<rest>.*)$")
_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "00012345678 9".replace(" ", ""))
_CN_YEAR = re.compile(r"[二][〇○零][一二三四五六七八九〇○零]{2}(?=年)")


def cn_year_digits(text: str) -> str:
    """二〇二四年 → 2024年 (titles are often written so)."""
    return _CN_YEAR.sub(lambda m: m.group(0).translate(_CN_DIGITS), text)


# what follows the body in a title that puts the year first: 2019年上海市人民政府办公厅政府信息公开工作年度报告
_AFTER_BODY = re.compile(r"(?:政府)?信息公开(?:工作)?(?:年度报告|年报|工作报告|报告)$")


def _title_parts(title: str | None) -> tuple[str | None, int | None]:
    if not title:
        return None, None
    m = _TITLE.match(cn_year_digits(title))
    if not m:
        return None, None
    body = m.group("body").strip(" ：:") or None
    if body is None:  # the year first: the body stands between it and 政府信息公开…
        rest = _AFTER_BODY.sub("", m.group("rest").strip(" ：:"))
        body = rest if rest and rest != m.group("rest") else None
    return body, int(m.group("year"))


_PERIOD_WORDS = (r"(?:统计期限|统计期间|统计时间|统计时限|统计时段|统计区间|统计范围|统计周期|统计期|数据统计|时间范围|"
                 r"报告期|数据期限|数据时间|数据截止|统计截止)")
_D = r"(?P<{y}>\d{{4}})\s*[年./-]\s*(?P<{m}>\d{{1,2}})\s*(?:月\s*(?:(?P<{d}>\d{{1,2}})\s*日?)?|[./-]\s*(?P<{d}x>\d{{1,2}}))"
_D2 = (r"(?:(?P<y2>\d{4})\s*[年./-]\s*)?(?P<m2>\d{1,2})\s*(?:月\s*(?:(?P<d2>\d{1,2})\s*日)?|[./-]\s*(?P<d2x>\d{1,2}))")
# 2024年1月1日至12月31日, 自2024年1月1日起至2024年12月31日止, 2024.1.1-2024.12.31, 2024-01-01至2024-12-31,
# 2024年1月至12月 (the months say the whole year)
_DATE_RANGE = re.compile(_D.format(y="y1", m="m1", d="d1") + r"\s*(?:起|开始)?\s*(?:至|到|—+|－|-|–|~|～)\s*" + _D2)
# 2024年度, 2024年全年: the calendar year by name
_WHOLE_YEAR = re.compile(r"(?P<y>\d{4})年(?:度|全年|整年)|截[至止]到?(?P<y_end>\d{4})年12月31日")
_CN_NUM = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"○": 0, "零": 0}
_CN_MONTH_DAY = re.compile(r"([一二三四五六七八九十]{1,3})(?=[月日])")


def _cn_number(text: str) -> str:
    """一 → 1, 十二 → 12, 三十一 → 31 (the months and days of a date written in words)."""
    if "十" not in text:
        return "".join(str(_CN_NUM[c]) for c in text)
    tens, _, ones = text.partition("十")
    return str((_CN_NUM[tens] if tens else 1) * 10 + (_CN_NUM[ones] if ones else 0))


def date_digits(text: str) -> str:
    """A date as written in words or full-width digits, in ASCII digits: 二〇二四年十二月三十一日 → 2024年12月31日."""
    text = unicodedata.normalize("NFKC", cn_year_digits(text))
    return _CN_MONTH_DAY.sub(lambda m: _cn_number(m.group(1)), text)


def _period(preamble: list[Paragraph], sections: dict[str, list[Para]]) -> dict | None:
    texts = [p.text for p in preamble] + [p.text for p in sections["1"][:3]]
    for text in texts:
        t = flat(text)
        digits = date_digits(t)
        kw = re.search(_PERIOD_WORDS, digits)
        origin = kw.end() if kw else 0
        rng = _DATE_RANGE.search(digits, origin)
        whole = _WHOLE_YEAR.search(digits, origin) if kw else None
        if whole and (not rng or whole.start() < rng.start()) and whole.start() - origin <= 20:
            y = int(whole["y"] or whole["y_end"])
            return {"text": whole.group(0), "start": date(y, 1, 1).isoformat(), "end": date(y, 12, 31).isoformat()}
        if kw and (not rng or rng.start() - kw.end() > 20):
            snippet = t[kw.start(): kw.start() + 40].split("。")[0]
            return {"text": snippet, "start": None, "end": None}
        if rng:
            y1, m1 = int(rng["y1"]), int(rng["m1"])
            y2 = int(rng["y2"]) if rng["y2"] else y1
            m2 = int(rng["m2"])
            d1_text, d2_text = rng["d1"] or rng["d1x"], rng["d2"] or rng["d2x"]
            start: str | None
            end: str | None
            try:
                d1 = int(d1_text) if d1_text else 1
                d2 = int(d2_text) if d2_text else calendar.monthrange(y2, m2)[1]  # 至12月: to its last day
                start, end = date(y1, m1, d1).isoformat(), date(y2, m2, d2).isoformat()
            except ValueError:
                start = end = None
            return {"text": rng.group(0), "start": start, "end": end}
    return None


_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")


def _first_year(preamble: list[Paragraph], sections: dict[str, list[Para]]) -> int | None:
    for text in [p.text for p in preamble] + [p.text for p in sections["1"]]:
        m = _YEAR.search(text)
        if m:
            return int(m.group(1))
    return None


_LEADING_FUNCTION_CHARS = set("是为在对由和与及年度的了将按经向把被从于至到据以其该本我全各可请如若均另")
_TOWNSHIP = re.compile(r"([\u4e00-\u9fff]{2,7}?(?:镇|乡|街道))人民政府")


def _infer_body(preamble: list[Paragraph], sections: dict[str, list[Para]]) -> str | None:
    """No title: the township government the text names most often, e.g. 王虎寨镇人民政府."""
    text = "\n".join([p.text for p in preamble] + [p.text for ps in sections.values() for p in ps])
    counts: dict[str, int] = {}
    for m in re.finditer(r"([\u4e00-\u9fff]{1,8})(镇|乡|街道)人民政府", text):
        name = m.group(1)
        while len(name) > 2 and name[0] in _LEADING_FUNCTION_CHARS:
            name = name[1:]
        full = name + m.group(2) + "人民政府"
        counts[full] = counts.get(full, 0) + 1
    if not counts:
        return None
    return max(counts, key=lambda k: (counts[k], -len(k)))


# ---- tables ---------------------------------------------------------------------------------

_T2_WORDS = ("第二十条", "信息内容", "规章", "规范性文件", "行政许可", "行政处罚", "行政强制", "行政事业性收费",
             "本年制发件数", "本年处理决定数量")
_T4_WORDS = ("行政复议", "行政诉讼", "复议后起诉", "未经复议直接起诉", "尚未审结")


def _row_label(row: list[str | None]) -> str:
    return "".join(c for c in row if c)


def _classify_tables(blocks: list, section_of_block: dict[int, str]) -> dict[str, list[Table]]:
    grouped: dict[str, list[Table]] = {"table2": [], "table3": [], "table4": []}
    for i, b in enumerate(blocks):
        if not isinstance(b, Table):
            continue
        text = flat("".join(_row_label(r) for r in b.rows))
        scores = {
            "table2": sum(text.count(w) for w in _T2_WORDS),
            "table3": sum(1 for rx in _T3_ANYWHERE if rx.search(text))
            + text.count("申请人情况") * 3,
            "table4": sum(text.count(w) for w in _T4_WORDS),
        }
        best = max(scores, key=lambda k: scores[k])
        if scores[best] == 0:
            sec = section_of_block.get(i)
            if sec in ("2", "3", "4"):
                best = f"table{sec}"
            else:
                continue
        grouped[best].append(b)
    return grouped


def _table_template(tables: list[Table]) -> str:
    m21, m19 = template_markers(flat("".join(c for t in tables for r in t.rows for c in r if c)))
    return template_kind(m21, m19)


def _rows(tables: list[Table]):
    for t in tables:
        for i, r in enumerate(t.rows):
            yield [c for c in r if c is not None], t.row_page(i), t.row_line(i)


def _row_sources(tables: list[Table]) -> list[list[Source | None]]:
    """Per row of `_rows`, the source of each of its cells (the same cells, in the same order)."""
    return [[t.cell_source(i, j) for j, c in enumerate(r) if c is not None] for t in tables for i, r in enumerate(t.rows)]


def _at(sources: list[Source | None], i: int) -> Source | None:
    return sources[i] if 0 <= i < len(sources) else None


def parse_cell(raw: str | None, decimals: bool = False) -> tuple[Number, str | None]:
    """A cell's number, or None and why not."""
    if raw is None:
        return None, "missing"
    if raw.isascii() and raw.isdigit():
        return int(raw), None
    text = normalize_number_text(raw).replace(" ", "").replace("\n", "")
    if not text:
        return None, "empty"
    if re.fullmatch(r"[-—–/／－_~～.。]+", text):
        return None, "dash"
    if re.fullmatch(r"[-－]?\d+", text):
        return int(text.replace("－", "-")), None
    if re.fullmatch(r"[-－]?\d+\.\d+", text):
        value = float(text.replace("－", "-"))
        if decimals:
            return value, None
        if value.is_integer():
            return int(value), None
        return None, "decimal"
    return None, "text"


def _table2(tables: list[Table], template: str) -> TableInfo:
    info = TableInfo("table2", found=bool(tables))
    if tables:
        info.page, info.line, info.source = tables[0].page, tables[0].line, tables[0].source
    seen: dict[str, tuple[list[str], int | None, int | None]] = {}
    seen_sources: dict[str, list[Source | None]] = {}
    for (cells, page, line), srcs in zip(_rows(tables), _row_sources(tables), strict=True):
        label_cells: list[str] = []
        values: list[str] = []
        for c in cells:
            if values or (label_cells and _valueish(c)):
                values.append(c)
            else:
                label_cells.append(c)
        label = flat("".join(label_cells))
        if not label:
            continue
        for row in TABLE2_ROWS:
            if re.search(row.pattern, label) and row.key not in seen:
                seen[row.key] = (values, page, line)
                seen_sources[row.key] = srcs[len(label_cells):]
                break
    if not tables:
        return info
    for row in TABLE2_ROWS:
        if row.key not in seen:
            info.missing_rows.append(row.key)
            continue
        values, page, line = seen[row.key]
        want = 3 if row.key in TABLE2_LIST_KEYS else 1
        if template == "2019" and row.key in ("rules", "normative", "fees_10k_yuan"):
            continue  # different columns in 2019 (新制作/新公开…, 项目数量): nothing maps
        value_sources = seen_sources[row.key]
        if row.key not in TABLE2_LIST_KEYS and len(values) == 3:
            values = values[-1:]  # 2019: 上一年项目数量 · 本年增/减 · 处理决定数量
            value_sources = value_sources[-1:]
        for ci, col in enumerate(row.columns[:want]):
            raw = values[ci] if ci < len(values) else None
            value, problem = parse_cell(raw, decimals=row.key == "fees_10k_yuan")
            info.cells.append(Cell("table2", row.key, col.key, ci, raw, value, problem, page, line,
                                   _at(value_sources, ci)))
    return info


def _valueish(c: str) -> bool:
    t = normalize_number_text(c).replace(" ", "")
    return not t or bool(re.fullmatch(r"[-－]?[\d.]+|[-—–/／－_~～无]+", t))


def _values_table2(info: TableInfo) -> dict:
    out = empty_table2()
    for c in info.cells:
        if c.row in TABLE2_LIST_KEYS:
            out[c.row][c.col_index] = c.value
        else:
            out[c.row] = c.value
    return out


_T3_PATTERNS = [(re.compile(r.pattern), r.key) for r in TABLE3_ROWS]
# punctuation that row labels carry or drop as they please
_LABEL_PUNCT = re.compile(r"[、，,；;：:“”‘’\"'·•]")
_T3_ANYWHERE = [re.compile(r.pattern.rstrip("$")) for r in TABLE3_ROWS]


def _match_table3(label: str) -> str | None:
    """The row a label names: of all row patterns found in it, the one that ends last (merged
    group labels such as 三、本年度办理结果 come first)."""
    best: tuple[int, int, str] | None = None
    label = _LABEL_PUNCT.sub("", label)  # 法律、行政法规 is 法律行政法规; "3、其他" is "3其他"
    for rx, key in _T3_PATTERNS:
        for m in rx.finditer(label):
            cand = (m.end(), m.end() - m.start(), key)
            if best is None or cand[:2] > best[:2]:
                best = cand
    return best[2] if best else None


def _table3(tables: list[Table]) -> TableInfo:
    info = TableInfo("table3", found=bool(tables))
    if tables:
        info.page, info.line, info.source = tables[0].page, tables[0].line, tables[0].source
    found: dict[str, tuple[list[str], int | None, int | None]] = {}
    found_sources: dict[str, list[Source | None]] = {}
    labels_by_key: dict[str, str] = {}
    pending = ""
    last_index = -1
    rows = list(_rows(tables))
    row_sources = _row_sources(tables)
    for idx, (cells, page, line) in enumerate(rows):
        cells = _without_edge_column(cells)
        if len(cells) < T3_WIDTH + 1:  # the figures and at least one label cell
            pending += "".join(cells)
            continue
        values = cells[-T3_WIDTH:]
        label = flat(pending + "".join(cells[:-T3_WIDTH]))
        pending = ""
        if any(w in v for v in values for w in TABLE3_HEADER_WORDS) or any(
            flat(v) in ("其他", "总计") for v in values
        ):
            continue  # a header row
        if _split_row(label, values, rows[idx + 1][0] if idx + 1 < len(rows) else None):
            pending = label  # a row broken by the page: its figures are on the next row
            continue
        key = _match_table3(label)
        if key is None:
            # a row whose label was lost (e.g. split across pages): the next row in order
            if last_index + 1 < len(TABLE3_KEYS) and any(_valueish(v) and v.strip() for v in values):
                key = TABLE3_KEYS[last_index + 1]
            else:
                continue
        if key in found:
            continue
        labels_by_key[key] = label
        found[key] = (values, page, line)
        found_sources[key] = row_sources[idx][len(cells) - T3_WIDTH:len(cells)]  # the edge column trimmed
        last_index = TABLE3_KEYS.index(key)
    if not tables:
        return info
    is_2019_other = ("other_other" in found and "other_no_correction" not in found and "other_no_fee" not in found
                     and bool(re.search(r"其他处理$", labels_by_key.get("other_other", ""))))
    info.single_other_row = is_2019_other
    for key in TABLE3_KEYS:
        if key not in found:
            if is_2019_other and key in ("other_no_correction", "other_no_fee"):
                # the 2019 template has one （六）其他处理 row: it all maps to other_other
                for ci, col in enumerate(TABLE3_COLUMNS):
                    info.cells.append(Cell("table3", key, col.key, ci, "0", 0, None))
                continue
            info.missing_rows.append(key)
            for ci, col in enumerate(TABLE3_COLUMNS):
                info.cells.append(Cell("table3", key, col.key, ci, None, None, "missing"))
            continue
        values, page, line = found[key]
        for ci, col in enumerate(TABLE3_COLUMNS):
            value, problem = parse_cell(values[ci])
            info.cells.append(Cell("table3", key, col.key, ci, values[ci], value, problem, page, line,
                                   _at(found_sources[key], ci)))
    return info


_FIGURE = re.compile(r"^[-－]?\d+(?:\.\d+)?$")


def _without_edge_column(cells: list[str]) -> list[str]:
    """A row of a table piece drawn in a frame (a page's part boxed) has an empty column past
    its figures: seven figures after a label, then "" — the "" is the frame's, not a blank 总计."""
    while (len(cells) > T3_WIDTH + 1 and not cells[-1].strip()
           and all(_FIGURE.match(normalize_number_text(c)) for c in cells[-T3_WIDTH - 1:-1])
           and not _FIGURE.match(normalize_number_text(cells[-T3_WIDTH - 2]))):
        cells = cells[:-1]
    return cells


def _split_row(label: str, values: list[str], nxt: list[str] | None) -> bool:
    """The first part of a table row that a page break cut in two: a label and no figures here,
    figures (and perhaps the rest of the label, naming no row of its own) on the next row."""
    if nxt is None or len(nxt) < T3_WIDTH + 1 or any(v.strip() for v in values):
        return False
    if not any(re.search(r"\d", v) for v in nxt[-T3_WIDTH:]):
        return False
    return _match_table3(flat("".join(nxt[:-T3_WIDTH]))) is None


def _values_table3(info: TableInfo) -> dict[str, list[Number]]:
    out: dict[str, list[Number]] = blank_table3()
    for c in info.cells:
        out[c.row][c.col_index] = c.value
    return out


_T4_HEADER = ("结果", "维持", "纠正", "审结", "总计", "复议", "诉讼", "起诉", "其他")


def _table4(tables: list[Table]) -> TableInfo:
    info = TableInfo("table4", found=bool(tables))
    if not tables:
        return info
    info.page, info.line, info.source = tables[0].page, tables[0].line, tables[0].source
    best: tuple[list[str], int | None, int | None] | None = None
    best_sources: list[Source | None] = []
    best_score = -1
    for (cells, page, line), srcs in zip(_rows(tables), _row_sources(tables), strict=True):
        score = sum(1 for c in cells if _valueish(c))
        if score < T4_WIDTH and any(w in c for c in cells for w in _T4_HEADER):
            continue  # a header row (one whose label is the last header, its 15 figures after it, is the data)
        if score >= 15 or (score > best_score and score > 0):
            if score >= best_score:
                best, best_score, best_sources = (cells, page, line), score, srcs
    if best is None:
        info.missing_rows.append("data")
        for ci, col in enumerate(TABLE4_COLUMNS):
            info.cells.append(Cell("table4", "table4", col.key, ci, None, None, "missing"))
        return info
    cells, page, line = best
    values = cells[-15:] if len(cells) >= 15 else cells + [None] * (15 - len(cells))
    sources = best_sources[-15:] if len(cells) >= 15 else best_sources
    for ci, col in enumerate(TABLE4_COLUMNS):
        value, problem = parse_cell(values[ci])
        info.cells.append(Cell("table4", "table4", col.key, ci, values[ci], value, problem, page, line,
                               _at(sources, ci)))
    return info
