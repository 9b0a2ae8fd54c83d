"""The PDF fast path (pdfium's characters and lines, readers/pdfium.py) reads every PDF as the
pdfplumber path does: the same blocks, the same check JSON, boxes to pdfium's precision; and where
it is not sure it steps aside."""

from __future__ import annotations

import random

import pytest

from nianbao.check import check_file
from nianbao.document import Table
from nianbao.generate import ReportSpec, balanced_table3, balanced_table4, write_all
from nianbao.libreoffice import soffice
from nianbao.readers import Limits, pdfium, read
from nianbao.settings import get_settings
from tests.conftest import SAMPLES

needs_soffice = pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) not found")
LIMITS = Limits(isolate=False)  # the switch is this process's; an isolated read runs in a helper
BOX_PRECISION = 1e-3  # pdfium keeps coordinates in single precision


def _both(path):
    """(pdfplumber's, the fast path's) document and check JSON of one file."""
    settings = get_settings().model_copy(update={"isolate_reads": False})
    out = []
    for fast in (False, True):
        pdfium.ENABLED = fast
        try:
            try:
                doc = read(path, LIMITS)
            except Exception as exc:  # noqa: BLE001 - a bad file: its error is compared
                doc = (type(exc).__name__, getattr(exc, "rule", None), str(exc), getattr(exc, "values", None))
            out.append((doc, check_file(path, year=2024, county="巨鹿县", settings=settings).to_json()))
        finally:
            pdfium.ENABLED = True
    return out


def _boxes(doc):
    out = []
    for b in doc.blocks:
        out.append(b.source.box if b.source else None)
        if isinstance(b, Table):
            out.extend(s.box if s else None for row in b.cell_sources for s in row)
    return out


def _assert_same(path) -> None:
    (slow, slow_json), (fast, fast_json) = _both(path)
    assert fast_json == slow_json
    assert fast == slow  # blocks (text, pages, rows, merged cells), pages, images
    if isinstance(slow, tuple):
        return
    slow_boxes, fast_boxes = _boxes(slow), _boxes(fast)
    assert [b is None for b in fast_boxes] == [b is None for b in slow_boxes]
    for a, b in zip(slow_boxes, fast_boxes, strict=True):
        if a is not None:
            assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < BOX_PRECISION


def _taken(path) -> bool:
    import pdfplumber

    with pdfplumber.open(str(path)) as pdf:
        return pdfium.page_objects(path, pdf) is not None


SPECS = {  # a quiet township to a busy department; merged heading rows, framed parts, parts in tables
    "small": ((5, 1), None), "medium": ((200, 5), None), "large": ((5000, 30), None),
    "heading-row": ((50, 3), "heading-row"), "frame": ((20, 3), "frame"), "table": ((20, 3), "table"),
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) not found")
    specs = {}
    for i, (name, ((s3, s4), boxed)) in enumerate(SPECS.items()):
        rng = random.Random(1200 + i)
        specs[name] = ReportSpec(year=2024, county="巨鹿县", table3=balanced_table3(rng, s3),
                                 table4=balanced_table4(rng, s4), boxed=boxed)
    written = write_all(specs, tmp_path_factory.mktemp("fast"), formats=("pdf",))
    return {name: files["pdf"] for name, files in written.items()}


@needs_soffice
@pytest.mark.parametrize("name", list(SPECS))
def test_generated_pdfs_read_the_same_on_both_paths(generated, name):
    assert _taken(generated[name])  # the fast path is what is compared, not its fallback
    _assert_same(generated[name])


@pytest.mark.skipif(not (SAMPLES / "huaian-2024.pdf").is_file(), reason="../shared/samples not beside the clone")
def test_the_huaian_sample_reads_the_same_on_both_paths():
    path = SAMPLES / "huaian-2024.pdf"
    assert _taken(path)
    _assert_same(path)


@needs_soffice
@pytest.mark.parametrize("name", ["encrypted.pdf", "truncated.pdf", "empty.pdf", "docx-named.pdf", "scanned.pdf",
                                  "blank-pages.pdf", "tables-as-pictures.pdf"])
def test_the_bad_pdfs_get_the_same_findings(bad_files, name):
    _assert_same(bad_files[name])


@needs_soffice
def test_a_turned_page_is_left_to_pdfplumber(generated, tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(generated["small"]))
    writer.pages[-1].rotate(90)
    turned = tmp_path / "turned.pdf"
    with turned.open("wb") as fh:
        writer.write(fh)
    assert not _taken(turned)
    _assert_same(turned)
