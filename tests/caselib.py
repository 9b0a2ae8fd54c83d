"""Rule cases as data: tests/cases/<rule id>.yaml.

A case file names its rule and lists cases; each case changes the clean base report (or names
a bad file) and says whether the rule must fire ("fail") or stay quiet ("pass"), and where.

    rule: table3.row_total
    formats: [txt, txt-pdf, docx, pdf]     # optional; where the rule's input differs
    cases:
      - name: 总计 column one short
        expect: fail
        where: [{table: table3, row: new, column: total}]   # each must match a finding (given keys)
        severity: error                                      # optional
        spec: {table3.new: [11, 0, 0, 0, 0, 0, 10]}
      - name: balanced
        expect: pass
        spec: {}

Spec changes (dotted paths on nianbao.generate.ReportSpec):
  table3.ROW: [7]        table3.ROW.I: n       table2.KEY: value      table4: [15]   table4.I: n
  sections.K: [paragraphs]   sections.K+: [appended paragraphs]   sections.K.I: "paragraph"
  replace: [[old, new], …]  (in title, preamble and every section paragraph)
  title, preamble, template, year, body, title_lines, tracked_change, comment, bookmark_artifact
  headings.K: "2、主动公开政府信息情况" or null    raw_cells: [[table, row, index, "text"], …]
  drop_tables: [table2]    drop_rows: [[table3, partial]]
A case may instead give `file: NAME` (a file of tests/fixtures/make_bad_files.py), and
`context: {year, county, body, roster: false, settings: {…}, history: {…}}`.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nianbao.generate import ReportSpec, balanced_table3, balanced_table4, default_sections, render_pages

CASES_DIR = Path(__file__).parent / "cases"
FORMATS = ("txt", "txt-pdf", "docx", "pdf")  # "scan" (an image-only PDF of the pdf, read by OCR) on request


def make_scan(pdf: Path, out: Path, smudge: tuple[tuple[str, str, int], ...] = (), dpi: int = 200) -> Path:
    """The PDF printed and scanned (an image-only PDF), with each figure of `smudge` blotted as a
    stain or a bad copier would: its upper half washed out and the rest blurred, so that what it
    was cannot be read surely."""
    import numpy as np
    from PIL import Image, ImageFilter

    from nianbao.check import parse_file

    boxes = []
    if smudge:
        ev = parse_file(pdf).evidence
        cells = {(c.table, c.row, c.col_index): c for info in ev.tables.values() for c in info.cells}
        for key in smudge:
            c = cells[tuple(key)]
            assert c.source is not None and c.source.box is not None, key
            boxes.append((c.source.page, c.source.box))
    pages = render_pages(pdf, dpi)
    f = dpi / 72
    for page_no, (x0, top, x1, bottom) in boxes:
        img = pages[page_no - 1]
        box = (int(x0 * f) + 3, int(top * f) + 3, int(x1 * f) - 3, int(bottom * f) - 3)
        a = np.array(img.crop(box).convert("L"))
        ys, xs = np.nonzero(a < 128)
        if not len(ys):
            continue
        gx0, gt, gx1, gb = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        glyph = (box[0] + gx0 - 2, box[1] + gt - 2, box[0] + gx1 + 2, box[1] + gb + 2)
        part = img.crop(glyph).filter(ImageFilter.GaussianBlur(2.2))
        arr = np.array(part).astype(np.float32)
        h = arr.shape[0]
        arr[: h // 2] = 255 - (255 - arr[: h // 2]) * 0.25  # the top half washed out
        img.paste(Image.fromarray(arr.clip(0, 255).astype(np.uint8)), glyph[:2])
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return out


def base_spec() -> ReportSpec:
    """The clean report every case starts from: it gets no finding at all."""
    rng = random.Random(2024)
    spec = ReportSpec(body="巨鹿县官亭镇人民政府", table3=balanced_table3(rng, 12), table4=balanced_table4(rng, 2))
    spec.table2 = {"rules": [0, 0, 0], "normative": [2, 1, 9], "licensing": 35, "penalty": 4, "coercion": 0,
                   "fees_10k_yuan": 1.5}
    return spec


@dataclass
class Case:
    rule: str
    name: str
    expect: str
    formats: tuple[str, ...]
    spec: ReportSpec | None
    file: str | None = None
    where: list[dict[str, Any]] = field(default_factory=list)
    severity: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    smudge: tuple[tuple[str, str, int], ...] = ()  # the scan format: figures blotted on the page

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.name}"


def apply(spec: ReportSpec, changes: dict[str, Any]) -> ReportSpec:
    s = copy.deepcopy(spec)
    # materialise the default texts so that paragraphs can be edited
    defaults = default_sections(s)
    s.sections = {k: list(s.sections.get(k, defaults.get(k, []))) for k in ("1", "2", "3", "4", "5", "6")}
    replacements = changes.get("replace") or []
    for key, value in changes.items():
        if key == "replace":
            continue
        parts = key.split(".")
        head = parts[0]
        if head in ("table3", "table2") and len(parts) >= 2:
            table = getattr(s, head)
            if len(parts) == 2:
                table[parts[1]] = copy.deepcopy(value)
            else:
                table[parts[1]][int(parts[2])] = value
        elif head == "table4":
            if len(parts) == 1:
                s.table4 = list(value)
            else:
                s.table4[int(parts[1])] = value
        elif head == "sections":
            k = parts[1]
            if k.endswith("+"):
                s.sections[k[:-1]] = s.sections[k[:-1]] + list(value)
            elif len(parts) == 3:
                s.sections[k][int(parts[2])] = value
            else:
                s.sections[k] = list(value)
        elif head == "headings":
            s.headings[parts[1]] = value
        elif head == "raw_cells":
            s.raw_cells = {(t, r, int(i)): raw for t, r, i, raw in value}
        elif head in ("drop_tables", "drop_rows"):
            setattr(s, head, tuple(tuple(x) if isinstance(x, list) else x for x in value))
        else:
            setattr(s, head, value)
    if replacements:
        s.sections = {k: [_sub(p, replacements) for p in v] for k, v in s.sections.items()}
        s.preamble = _sub(s.preamble_text(), replacements)
        s.title = _sub(s.title, replacements) if s.title else s.title
        if s.title is None:
            s.title_lines = 1
            s.title = _sub(s.standard_title(), replacements)
    return s


def _sub(text: str, pairs: list[list[str]]) -> str:
    for old, new in pairs:
        text = text.replace(old, new)
    return text


def load_cases() -> list[Case]:
    out: list[Case] = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        rule = data["rule"]
        assert path.stem == rule, f"{path.name} must be named after its rule {rule}"
        default_formats = tuple(data.get("formats") or FORMATS)
        for c in data["cases"]:
            spec = None if "file" in c else apply(base_spec(), c.get("spec") or {})
            out.append(Case(rule=rule, name=c["name"], expect=c["expect"],
                            formats=tuple(c.get("formats") or default_formats) if "file" not in c else ("file",),
                            spec=spec, file=c.get("file"), where=c.get("where") or [],
                            severity=c.get("severity"), context=data.get("context", {}) | c.get("context", {}),
                            smudge=tuple(tuple(x) for x in c.get("smudge") or ())))
    return out
