"""Hostile files: each is refused as a file.* finding within seconds and without the service's
memory, and a good report still passes through the same (isolated) path.

The files are built here, in tmp_path, from a few MB at most of compressed data: a one-page PDF
whose content stream inflates to 1 GB, a .docx with 80,000 relationships, a .docx holding
190 MB of XML, a FIFO; and good reports that trip the read's memory and time limits when those
are set tiny. `python -m tests.test_hostile_readers` prints each one's time and peak memory.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from nianbao.check import check_file
from nianbao.corpus import corpus, judge, write_corpus
from nianbao.generate import ReportSpec, write_docx
from nianbao.readers import Limits, ReadError, isolated, read
from nianbao.settings import Settings

WALL = 15.0  # seconds any hostile file may cost
PARENT_GROWTH_MB = 150  # the parent's peak RSS may grow this much at most (the bombs are GBs)


# ---- the hostile files ---------------------------------------------------------------------------


def pdf_with_content(path: Path, chunks, *, filters: bytes = b"/FlateDecode") -> Path:
    """A valid one-page PDF whose page content stream is the concatenation of `chunks` (already
    encoded), written without holding it whole."""
    with path.open("wb") as fh:
        offsets = []

        def obj(body: bytes) -> None:
            offsets.append(fh.tell())
            fh.write(b"%d 0 obj\n" % len(offsets) + body + b"\nendobj\n")

        fh.write(b"%PDF-1.4\n")
        obj(b"<< /Type /Catalog /Pages 2 0 R >>")
        obj(b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
        obj(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>")
        offsets.append(fh.tell())
        fh.write(b"4 0 obj\n<< /Length 6 0 R /Filter %s >>\nstream\n" % filters)
        start = fh.tell()
        for chunk in chunks:
            fh.write(chunk)
        length = fh.tell() - start
        fh.write(b"\nendstream\nendobj\n")
        obj(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        obj(b"%d" % length)
        xref = fh.tell()
        fh.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
        fh.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
        fh.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref))
    return path


def deflated(total: int, unit: bytes, step: int = 1 << 22):
    """zlib of `total` bytes of `unit` repeated, made in steps."""
    z = zlib.compressobj(9)
    block = unit * (step // len(unit))
    left = total
    while left > 0:
        yield z.compress(block[:left])
        left -= len(block)
    yield z.flush()


def pdf_with_object_stream(path: Path, padding: int = 0) -> Path:
    """A PDF 1.5 whose catalog, pages, page and font are in an object stream (an xref stream
    points into it), the object stream followed by `padding` bytes of spaces once inflated."""
    content = b"BT /F1 12 Tf 72 720 Td (2024) Tj ET"
    inner = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
             b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
             b"/Resources << /Font << /F1 5 0 R >> >> >>", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    ids = [1, 2, 3, 5]
    body, heads = b"", []
    for objid, obj in zip(ids, inner, strict=True):
        heads.append(b"%d %d" % (objid, len(body)))
        body += obj + b" "
    head = b" ".join(heads) + b" "
    z = zlib.compressobj(9)
    packed = z.compress(head + body) + b"".join(_continue(z, padding)) if padding else zlib.compress(head + body)
    out = bytearray(b"%PDF-1.5\n")
    offsets = {}
    offsets[4] = len(out)
    out += b"4 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (len(content), content)
    offsets[6] = len(out)
    out += (b"6 0 obj\n<< /Type /ObjStm /N %d /First %d /Length %d /Filter /FlateDecode >>\nstream\n"
            % (len(ids), len(head), len(packed)) + packed + b"\nendstream\nendobj\n")
    offsets[7] = len(out)
    rows = [b"\x00" + (0).to_bytes(4, "big") + b"\xff\xff"]
    for objid in range(1, 8):
        if objid in offsets:
            rows.append(b"\x01" + offsets[objid].to_bytes(4, "big") + b"\x00\x00")
        else:
            rows.append(b"\x02" + (6).to_bytes(4, "big") + ids.index(objid).to_bytes(2, "big"))
    xref = b"".join(rows)
    out += (b"7 0 obj\n<< /Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(xref)
            + xref + b"\nendstream\nendobj\n")
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[7]
    path.write_bytes(bytes(out))
    return path


def pdf_bomb(path: Path, inflated: int = 1 << 30) -> Path:
    """A one-page PDF whose page inflates to 1 GB of spaces (~1 MB on disk)."""
    head = zlib.compressobj(9)
    text = head.compress(b"BT /F1 12 Tf 72 720 Td (2024) Tj ET\n") + head.flush(zlib.Z_SYNC_FLUSH)
    return pdf_with_content(path, [text, *_continue(head, inflated)])


def _continue(z, total: int, step: int = 1 << 22):
    block = b" " * step
    left = total
    while left > 0:
        yield z.compress(block[:left])
        left -= step
    yield z.flush()


def rewrite_docx(src: Path, dst: Path, replace: dict[str, object]) -> Path:
    """A copy of a .docx with some parts replaced: bytes, or an iterable of chunks written streaming."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            new = replace.get(info.filename)
            if new is None:
                zout.writestr(info, zin.read(info))
            elif isinstance(new, bytes):
                zout.writestr(info.filename, new)
            else:
                with zout.open(info.filename, "w", force_zip64=True) as fh:
                    for chunk in new:  # type: ignore[attr-defined]
                        fh.write(chunk)
    return dst


def docx_many_rels(good: Path, dst: Path, n: int = 80_000) -> Path:
    with zipfile.ZipFile(good) as z:
        rels = z.read("word/_rels/document.xml.rels")
    end = rels.rindex(b"</Relationships>")
    extra = b"".join(b'<Relationship Id="rX%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                     b'relationships/hyperlink" Target="http://example.invalid/%d" TargetMode="External"/>' % (i, i)
                     for i in range(n))
    return rewrite_docx(good, dst, {"word/_rels/document.xml.rels": rels[:end] + extra + rels[end:]})


def docx_huge_xml(good: Path, dst: Path, size: int = 190 * 1024 * 1024, compressible: bool = False) -> Path:
    """The good report's body followed by ~190 MB of paragraphs, written streaming: empty ones
    (a few hundred KB zipped), or ones holding a few random characters each (~15 MB zipped, the
    ratio of a real document's XML)."""
    import random

    with zipfile.ZipFile(good) as z:
        xml = z.read("word/document.xml")
    cut = xml.rindex(b"<w:sectPr")
    if compressible:
        pad = b"<w:p/>" * (1 << 16)
    else:
        rnd = random.Random(7)
        pad = b"".join(b"<w:p><w:r><w:t>%04x</w:t></w:r></w:p>" % rnd.getrandbits(16) for _ in range(1 << 17))

    def chunks():
        yield xml[:cut]
        for _ in range(size // len(pad)):
            yield pad
        yield xml[cut:]

    return rewrite_docx(good, dst, {"word/document.xml": chunks()})


# ---- what each costs ---------------------------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def checked(path: Path, **settings):
    """check_file, timed, with the parent's peak RSS growth and the child's peak."""
    before = _peak_mb()
    t = time.monotonic()
    result = check_file(path, year=2024, settings=Settings(**settings))
    seconds = time.monotonic() - t
    stats = isolated.last_read()
    return result, seconds, _peak_mb() - before, stats


def assert_refused(result, rule: str, seconds: float, growth: float, words: str = "") -> None:
    assert result.verdict == "rejected"
    assert [f.rule for f in result.findings] == [rule], [(f.rule, f.message) for f in result.findings]
    message = result.findings[0].message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message) and words in message, message
    assert "Traceback" not in message
    assert seconds < WALL, seconds
    assert growth < PARENT_GROWTH_MB, growth


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    return write_docx(ReportSpec(), tmp_path_factory.mktemp("good") / "good.docx")


@pytest.fixture(scope="module")
def good_pdf(tmp_path_factory, good) -> Path:
    from nianbao.generate import write_pdfs

    if shutil.which("soffice") is None and shutil.which("libreoffice") is None:
        pytest.skip("LibreOffice is not installed")
    (pdf,) = write_pdfs([good], tmp_path_factory.mktemp("good-pdf"))
    return pdf


def test_a_pdf_inflating_to_a_gigabyte_is_refused_before_any_page_is_read(tmp_path):
    bomb = pdf_bomb(tmp_path / "bomb.pdf")
    assert bomb.stat().st_size < 3 * 1024 * 1024
    result, seconds, growth, stats = checked(bomb)
    assert_refused(result, "file.too_complex", seconds, growth, "压缩炸弹")
    assert result.findings[0].values["limit"] == Limits().max_stream_bytes
    assert stats.outcome == "error" and stats.peak_rss_kb < 300 * 1024  # 64 MB inflated in 1 MB steps, thrown away


def test_an_object_stream_is_bounded_before_the_objects_in_it_are_read(tmp_path):
    plain = pdf_with_object_stream(tmp_path / "objstm.pdf")
    assert read(plain).blocks  # the PDF 1.5 shape reads
    bomb = pdf_with_object_stream(tmp_path / "objstm-bomb.pdf", padding=256 << 20)
    t = time.monotonic()
    with pytest.raises(ReadError) as refused:
        read(bomb)
    assert refused.value.rule == "file.too_complex" and time.monotonic() - t < 5
    # refused as pdfminer opens the file (the catalog is in there), not after inflating it whole
    assert refused.value.values["stream_bytes"] < 2 * Limits().max_stream_bytes
    assert isolated.last_read().peak_rss_kb < 200 * 1024


def test_pdf_streams_are_bounded_together_and_through_other_filters(tmp_path):
    # the streams together: the total limit has its own message
    p = tmp_path / "text.pdf"
    p.write_bytes(isolated.tiny_pdf(b"BT /F1 12 Tf 72 720 Td (2024) Tj ET\n" * 10, compress=True))
    assert read(p).blocks
    with pytest.raises(ReadError) as refused:
        read(p, Limits(max_inflated_bytes=200))
    assert refused.value.rule == "file.too_complex" and "合计" in refused.value.message
    # a hex layer over the deflate is seen through (80 MB of spaces, 160 KB of hex)
    hexed = pdf_with_content(tmp_path / "hex.pdf", [b"".join(deflated(80 << 20, b" ")).hex().encode(), b">"],
                             filters=b"[/ASCIIHexDecode /FlateDecode]")
    with pytest.raises(ReadError) as refused:
        read(hexed)
    assert refused.value.rule == "file.too_complex" and refused.value.values["limit"] == Limits().max_stream_bytes


def test_a_docx_with_80000_relationships_is_refused_without_python_docx(tmp_path, good):
    many = docx_many_rels(good, tmp_path / "rels.docx")
    result, seconds, growth, stats = checked(many)
    assert_refused(result, "file.too_complex", seconds, growth, "链接关系")
    assert result.findings[0].values["part"] == "word/_rels/document.xml.rels"
    assert seconds < 5


def test_a_docx_holding_190_mb_of_xml_is_refused(tmp_path, good):
    huge = docx_huge_xml(good, tmp_path / "huge.docx")  # under the 200 MB of all parts, 13:1
    assert 5 * 1024 * 1024 < huge.stat().st_size < 30 * 1024 * 1024
    result, seconds, growth, stats = checked(huge)
    assert_refused(result, "file.too_complex", seconds, growth, "word/document.xml")
    assert seconds < 5 and result.findings[0].values["part"] == "word/document.xml"
    # the same XML as empty paragraphs, zipped 600:1: the zip bomb check has it first
    bomb = docx_huge_xml(good, tmp_path / "bomb.docx", compressible=True)
    result, seconds, growth, stats = checked(bomb)
    assert_refused(result, "file.unreadable", seconds, growth, "解压后大小异常")


def test_a_docx_with_too_many_parts_or_cells_is_refused(tmp_path, good):
    parts = rewrite_docx(good, tmp_path / "parts.docx", {})
    with zipfile.ZipFile(parts, "a") as z:
        for i in range(60):
            z.writestr(f"extra/item{i}.xml", b"<a/>")
    with pytest.raises(ReadError) as refused:
        read(parts, Limits(max_zip_entries=50))
    assert refused.value.rule == "file.too_complex" and "部件" in refused.value.message
    with pytest.raises(ReadError) as refused:
        read(good, Limits(max_table_cells=100))
    assert refused.value.rule == "file.too_complex" and "单元格" in refused.value.message


def test_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "report.docx"
    os.mkfifo(fifo)
    result, seconds, growth, _ = checked(fifo)
    assert_refused(result, "file.unreadable", seconds, growth, "不是普通文件")
    assert seconds < 1
    folder = tmp_path / "folder.pdf"
    folder.mkdir()
    assert [f.rule for f in check_file(folder, year=2024).findings] == ["file.unreadable"]
    assert [f.rule for f in check_file(_device(tmp_path), year=2024).findings] == ["file.unreadable"]


def _device(tmp_path: Path) -> Path:
    link = tmp_path / "zero.pdf"  # a device behind a name the readers take
    link.symlink_to("/dev/zero")
    return link


def test_nianbao_check_on_a_fifo_exits_at_once(tmp_path):
    fifo = tmp_path / "report.pdf"
    os.mkfifo(fifo)
    exe = shutil.which("nianbao")
    cmd = [exe] if exe else [sys.executable, "-c", "from cli.main import app; app()"]
    t = time.monotonic()
    done = subprocess.run([*cmd, "check", str(fifo), "--year", "2024", "--json"], capture_output=True, text=True,
                          timeout=60)
    assert time.monotonic() - t < 30
    assert done.returncode == 1, done.stderr
    assert '"file.unreadable"' in done.stdout and "不是普通文件" in done.stdout


def test_the_childs_memory_limit_becomes_too_complex(tmp_path, good):
    result, seconds, growth, stats = checked(good, max_read_memory_mb=64)
    assert_refused(result, "file.too_complex", seconds, growth, "内存")
    assert result.findings[0].values["reason"] == "memory" and stats.outcome == "memory"


def test_the_childs_time_limit_becomes_too_complex(tmp_path, good):
    result, seconds, growth, stats = checked(good, max_read_seconds=0.01)
    assert_refused(result, "file.too_complex", seconds, growth, "秒")
    assert result.findings[0].values["reason"] == "time" and stats.outcome == "time"


def test_a_pdf_that_needs_memory_or_time_past_the_pre_checks_stops_at_the_childs_limits(tmp_path):
    # 24 MB of path operators (under the stream limit, 50 KB on disk): pdfplumber would keep 1.8 M
    # curves, GBs and minutes; the child runs out of its memory, or of its time, and is gone
    ops = b"0 0 m 1 1 l S\n" * (24 * 1024 * 1024 // 14)
    heavy = pdf_with_content(tmp_path / "heavy.pdf", [zlib.compress(b"BT /F1 12 Tf 72 720 Td (2024) Tj ET\n" + ops)])
    result, seconds, growth, stats = checked(heavy, max_read_memory_mb=200, max_read_seconds=12)
    assert_refused(result, "file.too_complex", seconds, growth, "内存")
    assert result.findings[0].values["reason"] == "memory" and stats.peak_rss_kb < 200 * 1024
    result, seconds, growth, stats = checked(heavy, max_read_seconds=2)
    assert_refused(result, "file.too_complex", seconds, growth, "2 秒")
    assert result.findings[0].values["reason"] == "time" and 2 <= seconds < 4
    assert not _alive(stats.pid)


def _alive(pid: int) -> bool:
    """Still there after a second (a child that has just ended may not be reaped yet)."""
    for _ in range(20):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.05)
    return True


def test_read_errors_and_other_exceptions_cross_the_process_boundary(tmp_path):
    p = tmp_path / "r.docx"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ReadError) as refused:
        read(p)
    assert refused.value.rule == "file.unreadable" and refused.value.values == {}
    assert isolated.last_read().pid not in (None, os.getpid())
    import pickle

    e = pickle.loads(pickle.dumps(ReadError("file.too_large", "太大", size=3, limit=2)))
    assert (e.rule, e.message, e.values) == ("file.too_large", "太大", {"size": 3, "limit": 2})


def test_good_reports_pass_through_the_isolated_path(tmp_path, good, good_pdf):
    assert Settings().isolate_reads and Settings().limits().isolate
    for path in (good, good_pdf):
        result, seconds, growth, stats = checked(path)
        assert result.verdict == "accepted", [(f.rule, f.message) for f in result.findings]
        assert stats.outcome == "ok" and stats.pid not in (None, os.getpid())
    docs = corpus(good=3, flawed_each=0)
    written = write_corpus(docs, tmp_path / "corpus", ["docx", "txt", "html"])
    for (name, fmt), path in written.items():
        doc = next(d for d in docs if d.name == name)
        assert judge(doc, fmt, path).wrong == [], (name, fmt)
        assert isolated.last_read().outcome == "ok"


def test_the_fork_server_comes_back_after_it_dies(good):
    read(good)
    server = isolated._current
    assert server is not None
    server.proc.kill()
    server.proc.wait()
    assert read(good).blocks  # a new helper, the same reading
    assert isolated._current is not server


# ---- the figures -----------------------------------------------------------------------------


def main() -> None:
    """Each hostile file once: wall time, the parent's peak growth, the child's peak RSS."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        good = write_docx(ReportSpec(), d / "good.docx")
        fifo = d / "fifo.docx"
        os.mkfifo(fifo)
        cases = [("PDF inflating to 1 GB", pdf_bomb(d / "bomb.pdf"), {}),
                 ("docx with 80,000 relationships", docx_many_rels(good, d / "rels.docx"), {}),
                 ("docx holding 190 MB of XML (15 MB)", docx_huge_xml(good, d / "huge.docx"), {}),
                 ("docx holding 190 MB of XML (0.3 MB)", docx_huge_xml(good, d / "bomb.docx", compressible=True), {}),
                 ("FIFO", fifo, {}),
                 ("good docx", good, {})]
        check_file(good, year=2024)  # the fork server started
        for name, path, kw in cases:
            result, seconds, growth, stats = checked(path, **kw)
            peak = f"{stats.peak_rss_kb / 1024:.0f} MB" if stats and stats.peak_rss_kb else "—"
            print(f"{name:34} {path.stat().st_size / 1048576 if path.is_file() else 0:6.1f} MB on disk  "
                  f"{result.verdict:8} {','.join(f.rule for f in result.findings if f.rule.startswith('file.')):18} "
                  f"{seconds * 1000:8.0f} ms  child peak {peak:>7}  parent growth {growth:.0f} MB")
            isolated._last.stats = None


if __name__ == "__main__":
    main()
