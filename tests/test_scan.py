"""Scanned reports (readers/scan.py): the same report as a .docx and as a scan — a multi-page TIFF,
an image-only PDF, phone photos in a .zip, pictures pasted into Word, skewed and upside down —
gives the same JSON; unsure figures are asked about (file.ocr_uncertain); the stamped scan is held
against the Word file (scan.word_mismatch); bad scans end as coded findings within the limits.

OCR costs ~5 s a page here, so each scan is read once per session and the tests share it."""

from __future__ import annotations

import copy
import io
import random
import time
import zipfile
from pathlib import Path

import docx
import numpy as np
import pytest
from docx.shared import Cm
from PIL import Image

from benchmarks.ocr import jpeg, render, skew
from nianbao.check import check_file, check_parsed, parse_file
from nianbao.document import Ocr, Source, Table
from nianbao.generate import ReportSpec, balanced_table3, balanced_table4, write_all
from nianbao.model import Report
from nianbao.normalize import normalize
from nianbao.readers import Limits, ReadError, read
from nianbao.rules import History
from tests.conftest import SAMPLES, needs_shared

YEAR = 2024
COUNTY = "巨鹿县"


@pytest.fixture(scope="session")
def report(tmp_path_factory):
    """One generated report: its .docx, and its pages rendered at 200 dpi."""
    out = tmp_path_factory.mktemp("scan")
    rng = random.Random(5)
    spec = ReportSpec(body="巨鹿县官亭镇人民政府", year=YEAR, county=COUNTY, table3=balanced_table3(rng, 40),
                      table4=balanced_table4(rng, 3))
    paths = write_all({"r": spec}, out, formats=("docx", "pdf"))["r"]
    pages = render(paths["pdf"], 200)
    return {"dir": out, "docx": paths["docx"], "pages": pages, "want": parse_file(paths["docx"]).report.to_json()}


def _tiff(pages, path: Path, dpi: int = 200) -> Path:
    ims = [Image.fromarray(p) for p in pages]
    ims[0].save(path, save_all=True, append_images=ims[1:], dpi=(dpi, dpi), compression="tiff_deflate")
    return path


@pytest.fixture(scope="session")
def scans(report):
    """The report as four kinds of scan, each read once (isolated, as an intake reads)."""
    d, pages = report["dir"], report["pages"]
    rng = random.Random(9)
    out: dict[str, Path] = {"tiff": _tiff(pages, d / "scan.tif")}
    ims = [Image.fromarray(p) for p in pages]
    ims[0].save(d / "scan.pdf", save_all=True, append_images=ims[1:], resolution=200)  # what a scanner makes
    out["pdf"] = d / "scan.pdf"
    with zipfile.ZipFile(d / "photos.zip", "w") as zf:  # out of order in the zip: the names order the pages
        for k in (3, 1, 2):
            buf = io.BytesIO()
            Image.fromarray(jpeg(pages[k - 1], rng, 200, 40)).save(buf, "JPEG", quality=95)
            zf.writestr(f"第{k}页.jpg", buf.getvalue())
    out["zip"] = d / "photos.zip"
    # a scan pasted into Word: page 1 skewed, page 2 upside down, page 3 on its side
    doc = docx.Document()
    for k, page in enumerate(pages):
        if k == 0:
            page = skew(page, random.Random(1), 200)
        if k == 1:
            page = np.ascontiguousarray(np.rot90(page, 2))
        if k == 2:
            page = np.ascontiguousarray(np.rot90(page, 1))
        buf = io.BytesIO()
        Image.fromarray(page).save(buf, "PNG")
        buf.seek(0)
        doc.add_picture(buf, width=Cm(17))
    doc.save(d / "pasted.docx")
    out["docx"] = d / "pasted.docx"
    return {k: (p, check_file(p, year=YEAR, county=COUNTY)) for k, p in out.items()}


@pytest.mark.parametrize("kind", ["tiff", "pdf", "zip", "docx"])
def test_a_scan_reads_as_its_word_file(kind, scans, report):
    path, result = scans[kind]
    assert result.parsed is not None, [f.message for f in result.findings]
    assert result.parsed.evidence.kind == "scan"
    assert result.report.to_json() == report["want"]
    assert result.verdict == "accepted", [f.message for f in result.findings]


def test_every_figure_of_a_scan_carries_its_confidence(scans):
    _, result = scans["tiff"]
    cells = [c for info in result.parsed.evidence.tables.values() for c in info.cells]
    assert len(cells) >= 190
    assert all(c.source is not None and c.source.ocr is not None for c in cells)
    assert all(0 < c.source.ocr.conf <= 1 for c in cells)
    assert all(c.source.box is not None and c.source.page in (1, 2, 3) for c in cells)


@pytest.fixture(scope="session")
def tiff_document(scans):
    path, _ = scans["tiff"]
    return read(path)  # isolated: the OCR engine stays out of the test process


def _doc_with(tiff_document, change) -> Report:
    """The TIFF's document, one cell changed by `change(table)`, normalised."""
    doc = copy.deepcopy(tiff_document)
    t3 = next(b for b in doc.blocks if isinstance(b, Table) and any("予以公开" in (c or "") for r in b.rows for c in r))
    change(t3)
    return normalize(doc)


def _cell(t3: Table, label: str, col: int) -> tuple[int, int]:
    """Grid position of the figure in the row whose label holds `label`, `col` figures from the left."""
    for i, row in enumerate(t3.rows):
        if any(label in (c or "") for c in row[:3]):
            figures = [j for j, c in enumerate(row) if c is not None and c.strip().isdigit()]
            return i, figures[col]
    raise AssertionError(label)


def test_a_misread_figure_that_breaks_the_sum_is_asked_about_with_its_candidates(tiff_document):
    """A 0 read as 8, a 1 as 7 (confidently, as OCR does): the row total no longer adds up, and the
    reading that would mend it is offered."""
    def misread(t3: Table) -> None:
        i, j = _cell(t3, "予以公开", 0)
        old = t3.rows[i][j]
        assert old is not None
        new = {"0": "8", "1": "7", "7": "1", "8": "0", "3": "8", "5": "6", "6": "5"}.get(old[0], "8") + old[1:]
        t3.rows[i][j] = new
        src = t3.cell_sources[i][j]
        t3.cell_sources[i][j] = Source(page=src.page, box=src.box, ocr=Ocr(new, 0.97, (old,)))

    res = check_parsed(_doc_with(tiff_document, misread), year=YEAR, county=COUNTY)
    asked = [f for f in res.findings if f.rule == "file.ocr_uncertain"]
    assert len(asked) == 1 and asked[0].values["mends"] is True
    f = asked[0]
    assert f.location.table == "table3" and f.location.row == "granted" and f.location.column == "natural_person"
    assert "勾稽" in f.message and "Word/WPS 原文件" in f.message and "“（一）予以公开”行“自然人”列" in f.message
    assert res.verdict == "rejected"


def test_a_figure_read_unsurely_is_asked_about_even_when_the_sums_hold(tiff_document):
    def unsure(t3: Table) -> None:
        i, j = _cell(t3, "予以公开", 1)
        src = t3.cell_sources[i][j]
        t3.cell_sources[i][j] = Source(page=src.page, box=src.box, ocr=Ocr(t3.rows[i][j] or "", 0.41, ("8",)))

    res = check_parsed(_doc_with(tiff_document, unsure), year=YEAR, county=COUNTY)
    asked = [f for f in res.findings if f.rule == "file.ocr_uncertain"]
    assert len(asked) == 1 and asked[0].values["mends"] is False and asked[0].values["confidence"] == 0.41
    assert "41%" in asked[0].message and "“8”" in asked[0].message
    assert not [f for f in res.findings if f.rule.startswith("table3.")]


def test_the_stamped_scan_is_held_against_the_word_file(scans, report):
    _, result = scans["tiff"]
    word = Report.from_json(copy.deepcopy(report["want"]))
    word.table3["granted"][0] += 9  # the Word file says otherwise in one cell …
    word.sections["5"] = word.sections["5"].replace("2023", "2022")  # … and in one paragraph's number
    res = check_parsed(result.parsed, year=YEAR, county=COUNTY, history=History(word=word))
    found = [f for f in res.findings if f.rule == "scan.word_mismatch"]
    places = [loc for f in found for loc in (f.location.places or (f.location,))]
    assert {(p.table, p.row, p.column) for p in places if p.table} == {("table3", "granted", "natural_person")}
    assert {p.section for p in places if p.section} == {"5"}
    text = " ".join(f.message for f in found)
    got = result.report.table3["granted"][0]
    assert f"盖章扫描件为 {got}，Word 版为 {got + 9}" in text and "第五部分第1段" in text
    # the Word file sent after the scan is held against the scan the same way
    res = check_file(report["docx"], year=YEAR, county=COUNTY, history=History(scan=result.report))
    assert not [f for f in res.findings if f.rule == "scan.word_mismatch"]


# ---- bad scans -------------------------------------------------------------------------------------


def _read_rule(path: Path, **limits) -> ReadError:
    with pytest.raises(ReadError) as err:
        read(path, Limits(**limits) if limits else None)
    return err.value


def test_a_blank_scan_is_no_text(tmp_path):
    blank = np.full((2339, 1654, 3), 250, np.uint8)
    err = _read_rule(_tiff([blank, blank], tmp_path / "blank.tif"))
    assert err.rule == "file.no_text" and "识别不出任何文字" in err.message and "共 2 页" in err.message


def test_a_photo_of_something_else_is_no_text(tmp_path):
    """Writing, but no report: no table, no part's heading."""
    from PIL import ImageDraw, ImageFont

    img = Image.new("RGB", (1654, 1200), (235, 230, 220))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(_cjk_font(), 60)
    for k, line in enumerate(["会议通知", "请各单位于周五上午九点", "到三楼会议室参加培训。"]):
        draw.text((150, 200 + k * 120), line, fill=(20, 20, 20), font=font)
    img.save(tmp_path / "photo.jpg", quality=90)
    err = _read_rule(tmp_path / "photo.jpg")
    assert err.rule == "file.no_text" and "不像年度报告" in err.message


def _cjk_font() -> str:
    import subprocess

    out = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC"], capture_output=True, text=True)
    return out.stdout.strip()


def test_a_200_page_scan_is_refused_before_any_page_is_read(tmp_path):
    page = Image.new("L", (165, 234), 255)
    page.save(tmp_path / "long.tif", save_all=True, append_images=[page] * 199, dpi=(20, 20))
    start = time.monotonic()
    err = _read_rule(tmp_path / "long.tif")
    assert err.rule == "file.too_large" and "共 200 页" in err.message and "上限 30 页" in err.message
    assert time.monotonic() - start < 10
    pdf = tmp_path / "long.pdf"
    page.convert("RGB").save(pdf, save_all=True, append_images=[page.convert("RGB")] * 199)
    assert _read_rule(pdf).rule == "file.too_large"


def test_a_scan_that_takes_too_long_stops_with_a_finding(report, tmp_path):
    path = _tiff(report["pages"] * 2, tmp_path / "slow.tif")
    err = _read_rule(path, max_ocr_seconds=3)
    assert err.rule == "file.too_complex" and "识别超时" in err.message and err.values["read"] < 6


def test_a_picture_bomb_and_a_broken_picture(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    assert _read_rule(tmp_path / "broken.png").rule == "file.unreadable"
    Image.new("1", (9000, 9000)).save(tmp_path / "huge.png")  # 81 M pixels, a few kB
    err = _read_rule(tmp_path / "huge.png")
    assert err.rule == "file.too_large" and "像素" in err.message


def test_ocr_off_is_the_old_no_text(scans):
    path, _ = scans["pdf"]
    err = _read_rule(path, ocr=False)
    assert err.rule == "file.no_text" and "扫描件" in err.message


# ---- the real city report, as a scan ---------------------------------------------------------------


@needs_shared
def test_the_huaian_report_rendered_to_images_reads_its_tables_or_flags_each_wrong_cell(tmp_path):
    pdf = SAMPLES / "huaian-2024.pdf"
    want = check_file(pdf)
    scan = _tiff(render(pdf, 200), tmp_path / "huaian.tif")
    got = check_file(scan)
    assert got.parsed is not None and got.parsed.evidence.kind == "scan"
    w, g = want.report.to_json(), got.report.to_json()
    flagged = {(loc.table, loc.row, loc.column) for f in got.findings if f.rule == "file.ocr_uncertain"
               for loc in (f.location.places or (f.location,))}
    cols = {(c.table, c.row, c.col_index): c.column for info in got.parsed.evidence.tables.values() for c in info.cells}
    wrong = []
    for table in ("table3",):
        for row, values in w[table].items():
            for i, v in enumerate(values):
                if g[table].get(row, [None] * 7)[i] != v:
                    wrong.append((table, row, cols.get((table, row, i))))
    assert all(x in flagged for x in wrong), (wrong, flagged)
    assert g["table2"] == w["table2"] or flagged
    assert g["table4"] == w["table4"] or flagged
    assert len(wrong) <= 2
