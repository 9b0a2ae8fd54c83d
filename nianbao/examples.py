"""Example reports for a county, made by the generator: the situations of the five real sample
reports (old template, wrong year, a report from another county, …) and good or flawed reports
for the other bodies. Used by `nianbao examples`, the demo and the tests."""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nianbao.bodies import Roster
from nianbao.generate import ReportSpec, balanced_table3, balanced_table4
from nianbao.template import T3_TOTAL, blank_table3, blank_table4


@dataclass(frozen=True)
class Example:
    code: str  # the roster body it is submitted for ("" for one not on the roster)
    spec: ReportSpec
    expect: str  # "accepted" | "rejected"
    situation: str  # what is wrong with it, in Chinese
    main_rules: tuple[str, ...] = ()
    fixed: ReportSpec | None = None  # the corrected version a rejected body sends next
    filename: str = ""  # as a clerk would name it
    scan: bool = False  # sent as the stamped scan (an image-only PDF), read by OCR

    def file_name(self, ext: str) -> str:
        return f"{self.filename or self.spec.body + str(self.spec.year) + '年政府信息公开工作年度报告'}{ext}"


def _full_name(name: str, county: str) -> str:
    if name.endswith(("镇", "乡")):
        return f"{county}{name}人民政府"
    return name


def example_set(roster: Roster, year: int = 2024, seed: int = 7) -> dict[str, Example]:
    """One example per roster body (plus 王店镇 from 内乡县), in the situations the county meets."""
    rng = random.Random(seed)
    county = roster.county
    out: dict[str, Example] = {}

    def base(name: str, scale: int = 6) -> ReportSpec:
        return ReportSpec(body=_full_name(name, county), year=year, county=county,
                          table3=balanced_table3(rng, scale), table4=balanced_table4(rng, 1),
                          variety=sum(map(ord, name)))  # each body words its texts its own way

    specials = {"wanghuzhai", "guanting", "zhangwangtuan", "xianzhengfuban", "julu", "dicun"}
    for b in roster.bodies:
        if b.code in specials:
            continue
        if not any(e.scan for e in out.values()):  # one body sends its stamped scan, not the Word file
            out[b.code] = Example(b.code, base(b.name), "accepted", "盖章扫描件（图片 PDF），经文字识别读取",
                                  filename=f"{b.name}{year}年政府信息公开工作年度报告（盖章扫描件）", scan=True)
            continue
        out[b.code] = Example(b.code, base(b.name), "accepted", "格式规范、数据平衡的报告")

    by_code = {b.code: b for b in roster.bodies}
    if "wanghuzhai" in by_code:  # sample 000: the 2019 template, no title, nothing on last year or fees
        s = base(by_code["wanghuzhai"].name, 0).copy(template="2019", title="")
        s.sections = {"5": ["一是公开的内容还不全面，时效性有待进一步提高；二是公开监督机制还不健全。",
                            "在以后的工作中，我镇将进一步加强政府信息公开工作，完善公开制度，提升服务质量。"],
                      "6": ["无"]}
        out["wanghuzhai"] = Example("wanghuzhai", s, "rejected", "使用2019年旧模板、缺少标题",
                                    ("template.outdated", "title.nonstandard", "content.prior_year", "content.fee_statement"),
                                    fixed=base(by_code["wanghuzhai"].name, 0), filename="王虎寨镇年报")
    if "guanting" in by_code:  # sample 001: fine, but nothing on last year's problems, 六 says only 无
        s = base(by_code["guanting"].name)
        s.sections = {"5": ["存在的主要问题是：一是工作队伍需要加强；二是政策解读方式需要丰富。",
                            "下一步，我镇将优化政府信息公开平台，进一步加大主动公开力度。"],
                      "6": ["无"]}
        out["guanting"] = Example("guanting", s, "accepted", "通过，但缺少上年度问题整改和信息处理费说明",
                                  ("content.prior_year", "content.fee_statement"))
    if "zhangwangtuan" in by_code:  # sample 003: reporting on the year before, old template, "2、", empty 六
        s = base(by_code["zhangwangtuan"].name, 0).copy(
            year=year - 1, template="2019", title=f"{county}张王疃乡{year - 1}年信息公开工作年度报告",
            headings={"2": "2、 主动公开政府信息情况"}, sections={"6": []})
        out["zhangwangtuan"] = Example("zhangwangtuan", s, "rejected", "报送的是上一年度的报告，且使用旧模板",
                                       ("year.mismatch", "template.outdated", "sections.numbering", "sections.empty",
                                        "title.nonstandard"),
                                       fixed=base(by_code["zhangwangtuan"].name, 0),
                                       filename=f"张王疃乡{year - 1}年政府信息公开年报")
    if "xianzhengfuban" in by_code:  # sample 004: 11 new = 10 granted + 1 other
        s = base(by_code["xianzhengfuban"].name)
        t3 = blank_table3(0)
        t3["new"] = [11, 0, 0, 0, 0, 0, 11]
        t3["granted"] = [10, 0, 0, 0, 0, 0, 10]
        t3["other_other"] = [1, 0, 0, 0, 0, 0, 1]
        t3["total"] = [11, 0, 0, 0, 0, 0, 11]
        s.table3 = t3
        s.table4 = blank_table4(0)
        out["xianzhengfuban"] = Example("xianzhengfuban", s, "accepted", "数据一致（新收11件=予以公开10件+其他1件）")
    if "julu" in by_code:  # sums that do not balance
        good = base(by_code["julu"].name, 10)
        s = good.copy()
        s.table3["total"][0] += 1
        s.table3["total"][T3_TOTAL] += 1
        out["julu"] = Example("julu", s, "rejected", "表三“总计”与各项之和不符",
                              ("table3.results_total", "table3.balance"), fixed=good, filename="巨鹿镇政务公开年度报告")
    if "dicun" in by_code:  # text against table, a placeholder left in
        good = base(by_code["dicun"].name, 4)
        s = good.copy()
        paras = list(s.section_paragraphs("1"))
        paras[2] = "（二）依申请公开。全年未收到政府信息公开申请。"
        paras.append("联系电话：XXXX-XXXXXXX。")
        s.sections = {"1": paras}
        expect = "rejected"
        out["dicun"] = Example("dicun", s, expect, "正文与表三矛盾，留有占位符",
                               ("narrative.applications", "text.placeholder"), fixed=good)
    # sample 002: a report from 内乡县 (Henan) that is not on this roster
    s = ReportSpec(body="王店镇人民政府", year=year, county="内乡县", title_lines=1,
                   preamble="")
    s.sections = {"1": [p.replace("内乡县人民政府门户网站", "“内乡县人民政府”门户网站")
                        for p in s.section_paragraphs("1")]}
    out["wangdian"] = Example("", s, "rejected", "其他县（内乡县）的报告，不在本县名单中",
                              ("identity.foreign_place", "period.missing"))
    return out


def write_examples(roster: Roster, outdir: str | Path, year: int = 2024) -> dict[str, Path]:
    """Write the example set, one file per body, in the mix of formats that arrives in real life
    (.docx, .pdf, .txt in turn; .docx instead of .pdf where LibreOffice is missing)."""
    from nianbao.generate import write_docx, write_pdfs, write_txt
    from nianbao.libreoffice import soffice

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    examples = example_set(roster, year)
    has_lo = soffice() is not None
    written: dict[str, Path] = {}
    for_pdf: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="nianbao-examples-") as tmp:
        for i, (name, ex) in enumerate(examples.items()):
            fmt = ("docx", "pdf", "txt")[i % 3]
            if fmt == "pdf" and has_lo:
                for_pdf[name] = write_docx(ex.spec, Path(tmp) / f"{name}.docx")
            elif fmt == "txt":
                written[name] = write_txt(ex.spec, outdir / f"{name}.txt")
            else:
                written[name] = write_docx(ex.spec, outdir / f"{name}.docx")
        if for_pdf:
            for name, pdf in zip(for_pdf, write_pdfs(list(for_pdf.values()), outdir), strict=True):
                written[name] = pdf
    return written
