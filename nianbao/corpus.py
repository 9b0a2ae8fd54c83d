"""A corpus of realistic variation: good reports written as real bodies write them, and flawed
ones each with the one finding it must get.

Real reports vary within their meaning — headings worded and numbered otherwise, the period
written six ways, a district government that says 我区, 收到申请75件 counting last year's one,
the 2019 template on a 2020 report — and nianbao must accept all of it, while every flaw in the
arithmetic, the year, the county and the template's rows is still caught. The corpus test
(`tests/test_corpus.py`) and the precision benchmark (`benchmarks/precision.py`) are made here
from the generator, so that "a rule that fires on a good document" is a failing test.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.generate import ReportSpec, balanced_table3, balanced_table4, default_sections
from nianbao.template import SECTIONS, TABLE3_KEYS, blank_table4

# ---- the ways real reports say the same thing --------------------------------------------------

HEADING_WORDS: dict[str, tuple[str, ...]] = {
    "1": ("总体情况", "基本情况", "总体工作情况", "工作总体情况"),
    "2": ("主动公开政府信息情况", "主动公开情况", "主动公开政府信息的情况"),
    "3": ("收到和处理政府信息公开申请情况", "依申请公开情况", "收到和处理政府信息公开申请的情况", "依申请公开政府信息情况"),
    "4": ("政府信息公开行政复议、行政诉讼情况", "政府信息公开行政复议行政诉讼情况",
          "因政府信息公开工作被申请行政复议、提起行政诉讼情况", "政府信息公开行政复议和行政诉讼情况"),
    "5": ("存在的主要问题及改进情况", "存在的主要问题及整改措施", "存在的问题和改进措施",
          "政府信息公开工作存在的主要问题及改进情况", "存在的主要问题和改进措施"),
    "6": ("其他需要报告的事项", "其他需要报告事项", "其他事项"),
}
NUMBERING: tuple[Callable[[str], str], ...] = (
    lambda n: f"{n}、", lambda n: f"{n}、", lambda n: f"{n}、",  # the template's, and the most common
    lambda n: f"{n}．", lambda n: f"第{n}部分 ", lambda n: f"【{n}、",
)
PERIODS = (
    "本报告中所列数据统计期限为{y}年1月1日至12月31日。",
    "本报告所列数据的统计期限自{y}年1月1日起至{y}年12月31日止。",
    "本报告中使用数据统计期限为{y}年1月1日至{y}年12月31日。",
    "报告中所列数据统计时间为{y}年1月1日—12月31日。",
    "本年度报告中所列数据的统计期间为{y}年度。",
    "本报告所列数据统计期限：{y}.1.1-{y}.12.31。",
    "本报告所列数据统计期限为{cy}年一月一日至十二月三十一日。",
)


@dataclass(frozen=True)
class Body:
    """Who writes: the name, the county it belongs to (and that county's city), the word it uses of itself."""

    name: str
    county: str
    parents: tuple[str, ...] = ()
    self_word: str | None = None  # None: what the generator picks from the name
    township: bool = False


BODIES = (
    Body("巨鹿县官亭镇人民政府", "巨鹿县", ("邢台市",), township=True),
    Body("巨鹿县王虎寨镇人民政府", "巨鹿县", ("邢台市",), township=True),
    Body("巨鹿县张王疃乡人民政府", "巨鹿县", ("邢台市",), township=True),
    Body("巨鹿县人民政府", "巨鹿县", ("邢台市",), "我县"),
    Body("淮安市清江浦区人民政府", "清江浦区", ("淮安市",), "我区"),
    Body("巨鹿县教育局", "巨鹿县", ("邢台市",)),
    Body("巨鹿县卫生健康委员会", "巨鹿县", ("邢台市",)),
    Body("巨鹿县人民政府办公室", "巨鹿县", ("邢台市",)),
    Body("清江浦区长西街道办事处", "清江浦区", ("淮安市",), "我街道", township=True),
)
_CN_YEAR = str.maketrans("0123456789", "〇一二三四五六七八九")


def _cn_year(y: int) -> str:
    return str(y).translate(_CN_YEAR)


@dataclass
class Doc:
    """One corpus document: its spec, what it is checked against, and what it must get."""

    name: str
    spec: ReportSpec
    county: str
    parents: tuple[str, ...] = ()
    year: int = 2024
    intended: str | None = None  # the rule a flawed document must get; None: a good document
    # rules this document may get besides (e.g. template.outdated on a 2019-template flaw)
    also: frozenset[str] = field(default_factory=frozenset)


def good_report(seed: int, year: int = 2024) -> Doc:
    """A good report as a real body writes one: every way of saying it varies with the seed."""
    rng = random.Random(seed)
    who = BODIES[seed % len(BODIES)]
    scale = rng.choice((0, 0, 3, 12, 40, 300))
    t3 = balanced_table3(rng, scale) if scale else balanced_table3(rng, 0)
    t4 = balanced_table4(rng, rng.choice((0, 1, 3))) if scale else blank_table4(0)
    spec = ReportSpec(body=who.name, year=year, county=who.county, table3=t3, table4=t4, variety=seed,
                      title_lines=rng.choice((1, 2)))
    spec.table2 = {"rules": [0, 0, 0], "normative": [rng.randint(0, 5), rng.randint(0, 2), rng.randint(5, 40)],
                   "licensing": rng.choice((0, rng.randint(1, 900))), "penalty": rng.choice((0, rng.randint(1, 60))),
                   "coercion": rng.choice((0, 0, rng.randint(1, 5))), "fees_10k_yuan": rng.choice((0, 0, 1.25, 36.8))}
    if rng.random() < 0.2:
        spec.title = f"{who.name}{_cn_year(year)}年度政府信息公开工作年度报告"
    numbering = rng.choice(NUMBERING)
    close = "】" if numbering("一").startswith("【") else ""
    for s in SECTIONS:
        words = rng.choice(HEADING_WORDS[s.key]) if rng.random() < 0.5 else s.title
        spec.headings[s.key] = f"{numbering(s.numeral)}{words}{close}"
    period = rng.choice(PERIODS).format(y=year, cy=_cn_year(year))
    spec.preamble = (f"根据《中华人民共和国政府信息公开条例》规定，发布本年度报告。{period}"
                     f"本报告全文在{who.county}人民政府门户网站公布。")
    sections = default_sections(spec)
    if who.self_word:
        sections = {k: [p.replace("本单位", who.self_word) for p in v] for k, v in sections.items()}
    new, over = t3["new"][-1], t3["carried_over"][-1]
    if new and over and rng.random() < 0.5:  # 收到申请N件 counting last year's carried over too
        sections["1"] = [p.replace(f"收到政府信息公开申请{new}件，上年结转{over}件",
                                   f"收到政府信息公开申请{new + over}件（含上年结转{over}件）") for p in sections["1"]]
    sections["1"] = [*sections["1"], *_true_sentences(rng, spec, who)]
    if rng.random() < 0.25:  # each part in a box, or the heading as its table's first row (.docx, PDF)
        spec.boxed = rng.choice(("table", "frame", "heading-row", "border", "textbox"))
    spec.sections = sections
    return Doc(f"good-{seed}", spec, who.county, who.parents, year)


def _true_sentences(rng: random.Random, spec: ReportSpec, who: Body) -> list[str]:
    """What real section 一 texts also say, and say rightly: history, a plan's span of years,
    breakdowns that add up, counts that agree with the tables."""
    y, me = spec.year, who.self_word or "我们"
    n = rng.randint(40, 3000)
    a, b = rng.randint(0, n // 2), rng.randint(0, n // 3)
    t2 = spec.table2
    pool = [
        f"自2008年《中华人民共和国政府信息公开条例》施行以来，{me}始终把政务公开作为依法行政的重要内容。",
        f"按照“十四五”规划（2021—2025年）部署，{y}年持续推进基层政务公开标准化规范化建设。",
        f"全年主动公开政府信息{n}条，其中政策文件{a}条、工作动态{b}条、其他信息{n - a - b}条。",
        f"全年在政府网站发布信息{n}条，其中政策解读{a}条，占{a / n * 100:.1f}%。",
        f"本年度制发行政规范性文件{t2['normative'][0]}件，均按规定进行合法性审核并公开。",
        f"全年办理行政许可{t2['licensing']}件，行政处罚决定{t2['penalty']}件，均按规定公开。",
        f"全年组织政务公开专题培训{rng.randint(1, 6)}次，参训{rng.randint(20, 300)}人次。",
        f"{y + 1}年，{me}将继续按照2019年修订的《中华人民共和国政府信息公开条例》要求做好政务公开工作。",
    ]
    return rng.sample(pool, rng.randint(2, 4))


def good_2019(seed: int) -> Doc:
    """A 2020 report, rightly on the 2019 template (and speaking of 行政规范性文件 in its text)."""
    doc = good_report(seed, year=2020)
    doc.spec.template = "2019"
    doc.spec.sections["1"] = [*doc.spec.sections["1"], "全年制发行政规范性文件均按要求公开。"]
    doc.name = f"good-2019-{seed}"
    return doc


# ---- flaws: each changes a good report so that exactly one rule must speak --------------------


def _row_total(s: ReportSpec) -> None:
    s.table3["granted"][6] += 1


def _results_total(s: ReportSpec) -> None:
    s.table3["total"][0] += 1
    s.table3["total"][6] += 1
    s.table3["carried_forward"][0] -= 1  # keep rule 3 (balance) true: only rule 2 breaks
    s.table3["carried_forward"][6] -= 1


def _balance(s: ReportSpec) -> None:
    s.table3["new"][0] += 1
    s.table3["new"][6] += 1


def _table4_total(s: ReportSpec) -> None:
    s.table4[4] += 1


def _blank_cell(s: ReportSpec) -> None:
    s.raw_cells[("table3", "partial", 1)] = ""


def _blank_legal_persons(s: ReportSpec) -> None:
    s.raw_cells.update({("table3", k, i): "" for k in TABLE3_KEYS for i in range(1, 6)})


def _dash_cell(s: ReportSpec) -> None:
    s.raw_cells[("table2", "penalty", 0)] = "—"


def _regulations(s: ReportSpec) -> None:
    s.table2["rules"] = [1, 0, 1]


def _drop_heading(s: ReportSpec) -> None:
    s.headings["4"] = None


def _empty_five(s: ReportSpec) -> None:
    s.sections["5"] = []


def _wrong_year(s: ReportSpec) -> None:
    s.title = f"{s.body}{s.year - 1}年政府信息公开工作年度报告"


def _old_template(s: ReportSpec) -> None:
    s.template = "2019"


def _hybrid(s: ReportSpec) -> None:
    s.table_templates = {"table2": "2019"}


def _self_reference(s: ReportSpec) -> None:
    s.sections["1"] = [*s.sections["1"], "我局将继续做好政务公开工作。"]


def _foreign_place(s: ReportSpec) -> None:
    s.preamble = (s.preamble or "").replace("人民政府门户网站", "人民政府门户网站和内乡县人民政府门户网站")


def _period_malformed(s: ReportSpec) -> None:
    s.preamble = f"报告中所列数据统计期限为{s.year}1月1日至12月31日。"


def _period_missing(s: ReportSpec) -> None:
    s.preamble = "根据《中华人民共和国政府信息公开条例》规定，发布本年度报告。"


def _placeholder(s: ReportSpec) -> None:
    s.sections["6"] = ["XX年度未收取信息处理费。"]


def _apps_none(s: ReportSpec) -> None:
    s.sections["1"] = [*s.sections["1"], "全年未收到政府信息公开申请。"]


def _review_none(s: ReportSpec) -> None:
    s.sections["1"] = [*s.sections["1"], "全年未发生政府信息公开行政复议案件。"]


def _no_problems(s: ReportSpec) -> None:
    s.sections["5"] = ["本年度政务公开工作运行平稳。"]


def _fee(s: ReportSpec) -> None:
    s.sections["6"] = ["无。"]


def _numbering(s: ReportSpec) -> None:
    s.headings["2"] = "2、主动公开政府信息情况"


def _stray_year(s: ReportSpec) -> None:
    s.sections["1"] = [*s.sections["1"], f"{s.year - 4}年全镇共发布信息120条。"]


def _drop_table(s: ReportSpec) -> None:
    s.drop_tables = ("table4",)


def _negative(s: ReportSpec) -> None:
    s.table2["licensing"] = -3


# (name, the rule that must fire, a change, rules it may also get, who it applies to)
FLAWS: tuple[tuple[str, str, Callable[[ReportSpec], None], frozenset[str]], ...] = (
    ("row-total", "table3.row_total", _row_total, frozenset({"table3.results_total", "table3.balance"})),
    ("results-total", "table3.results_total", _results_total, frozenset({"table3.row_total", "table.negative",
                                                                         "narrative.applications"})),
    ("balance", "table3.balance", _balance, frozenset({"narrative.applications"})),
    ("table4-total", "table4.total", _table4_total, frozenset({"narrative.review_litigation"})),
    ("blank-cell", "table.cell_invalid", _blank_cell, frozenset()),
    ("blank-legal-persons", "table.cell_invalid", _blank_legal_persons, frozenset()),
    ("dash-cell", "table.cell_invalid", _dash_cell, frozenset({"narrative.table2"})),
    ("regulations", "table2.regulations_not_allowed", _regulations, frozenset({"table2.valid_vs_made"})),
    ("no-heading-4", "sections.missing", _drop_heading, frozenset({"sections.order", "table.missing"})),
    ("empty-5", "sections.empty", _empty_five, frozenset()),
    ("wrong-year", "year.mismatch", _wrong_year, frozenset({"years.stray"})),
    ("old-template", "template.outdated", _old_template, frozenset({"narrative.table2"})),
    ("hybrid", "template.hybrid", _hybrid, frozenset({"narrative.table2"})),
    ("self-reference", "identity.self_reference", _self_reference, frozenset()),
    ("foreign-place", "identity.foreign_place", _foreign_place, frozenset()),
    ("period-malformed", "period.malformed", _period_malformed, frozenset()),
    ("period-missing", "period.missing", _period_missing, frozenset()),
    ("placeholder", "text.placeholder", _placeholder, frozenset({"content.fee_statement"})),
    ("apps-none", "narrative.applications", _apps_none, frozenset()),
    ("review-none", "narrative.review_litigation", _review_none, frozenset()),
    ("no-problems", "content.problems", _no_problems, frozenset()),
    ("fee", "content.fee_statement", _fee, frozenset()),
    ("numbering", "sections.numbering", _numbering, frozenset()),
    ("stray-year", "years.stray", _stray_year, frozenset()),
    ("no-table-4", "table.missing", _drop_table, frozenset({"narrative.review_litigation"})),
    ("negative", "table.negative", _negative, frozenset({"narrative.table2"})),
)
FLAW_BY_NAME = {name: (rule, change, also) for name, rule, change, also in FLAWS}


def flawed_report(seed: int, flaw: str) -> Doc:
    """A good report of this seed with one flaw: the document must get `FLAW_BY_NAME[flaw]`'s rule."""
    rule, change, also = FLAW_BY_NAME[flaw]
    doc = good_report(seed)
    spec = copy.deepcopy(doc.spec)
    if flaw in ("apps-none",) and not spec.table3["new"][-1]:
        spec.table3 = balanced_table3(random.Random(seed), 5)
        while not spec.table3["new"][-1]:
            spec.table3["new"][0] += 1
            spec.table3["new"][-1] += 1
            spec.table3["granted"][0] += 1
            spec.table3["granted"][-1] += 1
            spec.table3["total"][0] += 1
            spec.table3["total"][-1] += 1
        spec.sections = default_sections(spec)
    if flaw == "review-none" and not spec.table4[4]:
        spec.table4 = [1, 0, 0, 0, 1, *spec.table4[5:]]
    if flaw in ("results-total",) and spec.table3["carried_forward"][0] == 0:
        spec.table3["carried_forward"][0] += 1
        spec.table3["carried_forward"][6] += 1
        spec.table3["new"][0] += 1
        spec.table3["new"][6] += 1
    if flaw == "self-reference" and "局" in spec.body:  # a 局 may say 我局: it says 我镇 instead
        spec.sections["1"] = [*spec.sections["1"], "我镇将继续做好政务公开工作。"]
    else:
        change(spec)
    return Doc(f"flaw-{flaw}-{seed}", spec, doc.county, doc.parents, doc.year, rule,
               also | frozenset({"content.prior_year"}))


def corpus(good: int, flawed_each: int = 1, start: int = 0) -> list[Doc]:
    """`good` good reports (a tenth of them 2020 reports on the 2019 template) and every flaw
    `flawed_each` times, on different seeds."""
    docs = [good_2019(start + i) if i % 10 == 9 else good_report(start + i) for i in range(good)]
    for k in range(flawed_each):
        for j, (name, *_rest) in enumerate(FLAWS):
            docs.append(flawed_report(start + 1000 + k * len(FLAWS) + j, name))
    return docs


# ---- writing the corpus in every format, and judging it -------------------------------------------

# format → how a document of it is written from its spec; "pdf" and "doc" go through LibreOffice
# in one batch from the .docx (see write_corpus)
TEXT_FORMATS: dict[str, Callable[[ReportSpec, Path], Path]] = {}


def _register_writers() -> None:
    from nianbao import generate as g

    def named(suffix: str) -> Callable[[Path], Path]:
        return lambda p: p.with_name(p.name + suffix)

    def by_seed(p: Path, choices: tuple[str, ...]) -> str:  # a style per document, the same every run
        return choices[sum(map(ord, p.name)) % len(choices)]

    TEXT_FORMATS["docx"] = lambda s, p: g.write_docx(s, named(".docx")(p))
    TEXT_FORMATS["txt"] = lambda s, p: g.write_txt(s, named(".txt")(p))
    TEXT_FORMATS["txt-pdf"] = lambda s, p: g.write_txt(s, named("-pdf.txt")(p), shape="pdf")
    # what a PDF-to-text converter makes: broken lines, pipe tables, page numbers
    TEXT_FORMATS["txt-pipe"] = lambda s, p: g.write_txt(s, named("-pipe.txt")(p), shape="pipe")
    # a portal's report page copied as text: chrome, then one cell per line (and with cell borders)
    TEXT_FORMATS["txt-cells"] = lambda s, p: g.write_txt(s, named("-cells.txt")(p), shape="cells")
    TEXT_FORMATS["txt-cells-pipe"] = lambda s, p: g.write_txt(s, named("-cellsp.txt")(p), shape="cells-pipe")
    TEXT_FORMATS["md"] = lambda s, p: g.write_md(s, named(".md")(p), style=by_seed(p, tuple(g.MD_STYLES)))
    # a report page saved from a portal, in every layout, some in GBK
    TEXT_FORMATS["html"] = lambda s, p: g.write_html(s, named(".html")(p), shape="portal",
                                                     layout=by_seed(p, g.PORTAL_LAYOUTS),
                                                     encoding=by_seed(p, ("utf-8", "gb18030")))
    # Word's "save as web page" kept with a .doc name, and the single-file web page
    TEXT_FORMATS["doc-html"] = lambda s, p: g.write_html(s, named("-web.doc")(p), shape="word", encoding="gb18030")
    TEXT_FORMATS["mht"] = lambda s, p: g.write_mht(s, named(".mht")(p))


_register_writers()
# format → LibreOffice filter, from the .docx (boxed parts and all)
CONVERTED = {"pdf": "pdf", "doc": "doc:MS Word 97", "rtf": "rtf"}
FORMATS = (*TEXT_FORMATS, *CONVERTED)


def write_corpus(docs: Iterable[Doc], outdir: str | Path, formats: Iterable[str] = FORMATS) -> dict[tuple[str, str], Path]:
    """Every document in every format: {(doc name, format): path}. The LibreOffice formats are
    converted in one batch each."""
    from nianbao.libreoffice import convert

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    formats = tuple(formats)
    docs = list(docs)
    out: dict[tuple[str, str], Path] = {}
    need_docx = "docx" in formats or any(f in CONVERTED for f in formats)
    for doc in docs:
        for fmt, write in TEXT_FORMATS.items():
            if fmt in formats or (fmt == "docx" and need_docx):
                out[(doc.name, fmt)] = write(doc.spec, outdir / doc.name)
    for fmt, target in CONVERTED.items():
        if fmt in formats:
            made = convert([out[(d.name, "docx")] for d in docs], target, outdir / fmt)
            out.update({(d.name, fmt): p for d, p in zip(docs, made, strict=True)})
    if "docx" not in formats:
        out = {k: v for k, v in out.items() if k[1] != "docx"}
    return out


@dataclass
class Judged:
    doc: Doc
    fmt: str
    errors: list[str]  # rule ids
    warnings: list[str]
    infos: list[str]

    @property
    def wrong(self) -> list[str]:
        """What a good document should not have got, or what a flawed one got besides its flaw."""
        if self.doc.intended is None:
            return self.errors + self.warnings
        return [r for r in self.errors + self.warnings if r != self.doc.intended and r not in self.doc.also]

    @property
    def caught(self) -> bool:
        return self.doc.intended is None or self.doc.intended in self.errors + self.warnings + self.infos


def judge(doc: Doc, fmt: str, path: Path) -> Judged:
    """Check one corpus document as the county would (its year, its county and that county's city)."""
    from nianbao.check import check_file
    from nianbao.settings import Settings

    result = check_file(path, year=doc.year, county=doc.county, settings=Settings(county_parents=list(doc.parents)))
    by = {sev: [f.rule for f in result.findings if str(f.severity) == sev] for sev in ("error", "warning", "info")}
    return Judged(doc, fmt, by["error"], by["warning"], by["info"])
