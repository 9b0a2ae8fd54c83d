"""PDF through pdfplumber: text lines and ruled table grids, in reading order.

pdfplumber gives a merged cell's covered positions as None, splits a table (and sometimes a
row) where the page breaks, takes a frame drawn around text (a part's heading and text, or the
heading above its table) for a table, gives no characters for a scanned page, and raises with an
empty message for an encrypted file. Each of those is handled here: the rows of a found table
that are text in a box (`boxes.data_runs`: a heading, prose above or below the figures, or the
whole "table") are left out of the grid, so their characters are read as lines like any text.

Before a page is laid out, the file's objects are walked without decoding anything
(`check_structure`): too many objects, or a stream that inflates past `Limits.max_stream_bytes`
(all of them past `max_inflated_bytes`) — a "PDF bomb" — is refused, each stream inflated in
bounded chunks and thrown away. What pdfminer decodes while it opens the file (an object stream
holding the catalog, an xref stream) comes before that walk can run: every `PDFStream.decode`
of a read is measured the same way first (`_guard`), whoever asks for it.
"""

from __future__ import annotations

import bisect
import logging
import threading
import zlib
from pathlib import Path

from nianbao.document import Document, Source, Table
from nianbao.readers import Limits, ReadError, num, pdfium
from nianbao.readers.boxes import data_runs, figure_row
from nianbao.readers.lines import LAYOUT, Line, assemble, is_page_number

# pdfminer logs every oddity of a damaged file ("Data-loss while decompressing …"); a file we
# cannot read is reported as a finding, so its chatter stays out of the clerk's terminal
logging.getLogger("pdfminer").setLevel(logging.ERROR)


def _encrypted(path: Path) -> bool:
    with path.open("rb") as fh:
        data = fh.read()
    return b"/Encrypt" in data


def _unopenable(path: Path, exc: Exception) -> ReadError:
    if isinstance(exc, MemoryError):  # the isolated read's limit: file.too_complex
        raise exc
    if _encrypted(path):
        return ReadError("file.unreadable", "文件已加密（设置了打开密码），系统无法读取。请取消密码后重新提交。",
                         encrypted=True)
    return ReadError("file.unreadable", "PDF 文件已损坏或不完整，无法打开。请重新导出 PDF 后提交。")


def read_pdf(path: Path, limits: Limits) -> Document:
    _install_guard()
    budget = _guard.budget = _Inflated(limits)
    try:
        doc = _read_pdf(path, limits)
    except Exception:
        if budget.refused is not None:  # a library turned the refusal into another error
            raise budget.refused from None
        raise
    finally:
        _guard.budget = None
    if budget.refused is not None:  # …or swallowed it
        raise budget.refused
    return doc


_guard = threading.local()  # the budget of the read going on in this thread


def _install_guard() -> None:
    """Every stream pdfminer decodes is measured first, within the read's budget (once per process)."""
    from pdfminer.pdftypes import PDFStream

    if getattr(PDFStream.decode, "nianbao_guard", False):
        return
    decode = PDFStream.decode

    def guarded(self) -> None:
        budget = getattr(_guard, "budget", None)
        if budget is not None and self.rawdata is not None:
            budget.add(self)
        decode(self)

    guarded.nianbao_guard = True  # type: ignore[attr-defined]
    PDFStream.decode = guarded  # type: ignore[method-assign]


def _read_pdf(path: Path, limits: Limits) -> Document:
    import pdfplumber

    try:
        pdf = pdfplumber.open(str(path))
    except ReadError:
        raise
    except Exception as exc:  # pdfminer raises many kinds, some with an empty message
        raise _unopenable(path, exc) from exc
    with pdf:
        check_structure(pdf.doc, limits)  # nothing is decoded yet
        try:
            n_pages = len(pdf.pages)
        except ReadError:
            raise
        except Exception as exc:
            raise _unopenable(path, exc) from exc
        if n_pages == 0:
            raise ReadError("file.unreadable", "PDF 文件没有任何页面（可能不完整）。请重新导出 PDF 后提交。")
        if n_pages > limits.max_pages:
            raise ReadError("file.too_large", f"PDF 共 {n_pages} 页，超过上限 {limits.max_pages} 页。请只提交年度报告本身。",
                            pages=n_pages, limit=limits.max_pages)
        try:
            lines, tables, chars, images = _extract(pdf, pdfium.page_objects(path, pdf))
        except ReadError:
            raise
        except Exception as exc:
            if _encrypted(path):
                raise ReadError("file.unreadable", "文件已加密，系统无法读取。请取消密码后重新提交。", encrypted=True) from exc
            raise ReadError("file.unreadable", "PDF 文件内容已损坏，无法读取文字。请重新导出 PDF 后提交。") from exc
    if (chars == 0 or not lines and not tables) and images and limits.ocr:  # a scan (page numbers at most): OCR
        from nianbao.readers import scan

        return scan.read_scan_pdf(path, limits, n_pages)
    if chars == 0 or not lines and not tables:  # nothing but page numbers is no text either
        what = "扫描件或图片" if images else "空白页面"
        raise ReadError("file.no_text",
                        f"PDF 中没有可读取的文字（共 {n_pages} 页，都是{what}）。请提交由 Word/WPS 直接导出的 PDF 或 .docx 原文件，"
                        "不要提交扫描件或截图。", pages=n_pages, images=images)
    placed = _stitch(lines, tables)
    return Document(assemble([ln for _, _, ln in lines], placed), "pdf", pages=n_pages, images=images)


_REDO = "请用 Word 或 WPS 打开报告原文件重新导出 PDF（或直接提交 .docx 原文件）后再提交。"


def check_structure(doc, limits: Limits) -> None:
    """Count the objects and bound what every stream inflates to, before pdfminer decodes any.

    Object streams are looked at first (the objects inside them are read from their inflated
    data), then every object at a file offset. A picture (/Subtype /Image) is not inflated by a
    text reader and is skipped, unless a page draws it as its content."""
    from pdfminer.pdftypes import PDFObjRef, PDFStream, resolve1
    from pdfminer.psparser import literal_name

    seen: set[int] = set()
    direct: list[int] = []
    object_streams: set[int] = set()
    for xref in doc.xrefs:
        for objid in xref.get_objids():
            if objid in seen:
                continue
            seen.add(objid)
            if len(seen) > limits.max_pdf_objects:
                raise ReadError("file.too_complex",
                                f"PDF 文件内部的对象数量异常（超过 {limits.max_pdf_objects} 个，正常的年度报告只有几百个），"
                                f"疑似损坏或恶意构造的文件，系统拒绝读取。{_REDO}",
                                objects=len(seen), limit=limits.max_pdf_objects)
            try:
                strmid, _, _ = xref.get_pos(objid)
            except KeyError:  # a free entry
                continue
            if strmid is None:
                direct.append(objid)
            else:
                object_streams.add(strmid)
    inflated = _Inflated(limits)
    contents: set[int] = set()
    pictures: list[tuple[int, PDFStream]] = []
    for objid in [*sorted(object_streams), *(i for i in direct if i not in object_streams)]:
        try:
            obj = doc.getobj(objid)
        except MemoryError:
            raise
        except Exception:  # noqa: BLE001 - a damaged object: pdfplumber will say what it makes of it
            continue
        if isinstance(obj, PDFStream):
            if _name(obj.get("Subtype"), literal_name) == "Image":
                pictures.append((objid, obj))
            else:
                inflated.add(obj)
        elif isinstance(obj, dict) and _name(obj.get("Type"), literal_name) == "Page":
            drawn = obj.get("Contents")
            if isinstance(drawn, PDFObjRef):
                contents.add(drawn.objid)
                try:
                    drawn = resolve1(drawn)
                except Exception:  # noqa: BLE001
                    continue
            for ref in drawn if isinstance(drawn, list) else ():
                if isinstance(ref, PDFObjRef):
                    contents.add(ref.objid)
    for objid, obj in pictures:
        if objid in contents:
            inflated.add(obj)


def _name(value, literal_name) -> str | None:
    try:
        return literal_name(value) if value is not None else None
    except Exception:  # noqa: BLE001
        return None


class _Inflated:
    """The running total of the streams' inflated sizes, refusing past the limits."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0
        self.refused: ReadError | None = None

    def add(self, stream) -> None:
        if self.refused is not None:
            raise self.refused
        room = self.limits.max_inflated_bytes - self.total
        most = min(self.limits.max_stream_bytes, room)
        size = _decoded_size(stream, most)
        if size > most:
            if most == self.limits.max_stream_bytes:
                mb = num(self.limits.max_stream_bytes / 1048576)
                self.refused = ReadError("file.too_complex",
                                         f"PDF 文件中有一段内容解压后超过 {mb} MB（正常的年度报告整个文件解压后只有几 MB），"
                                         f"疑似“压缩炸弹”或损坏的文件，系统拒绝读取。{_REDO}",
                                         stream_bytes=size, limit=self.limits.max_stream_bytes)
            else:
                mb = num(self.limits.max_inflated_bytes / 1048576)
                self.refused = ReadError("file.too_complex",
                                         f"PDF 文件的内容解压后合计超过 {mb} MB（正常的年度报告只有几 MB），"
                                         f"疑似“压缩炸弹”或损坏的文件，系统拒绝读取。{_REDO}",
                                         inflated_bytes=self.total + size, limit=self.limits.max_inflated_bytes)
            raise self.refused
        self.total += size


def _decoded_size(stream, most: int) -> int:
    """What pdfminer's `PDFStream.decode` would make of a stream, in bytes, without ever holding
    more than `most` of it; more than `most` once past it."""
    from pdfminer.ascii85 import ascii85decode, asciihexdecode
    from pdfminer.pdftypes import (
        LITERALS_ASCII85_DECODE,
        LITERALS_ASCIIHEX_DECODE,
        LITERALS_FLATE_DECODE,
        LITERALS_LZW_DECODE,
        LITERALS_RUNLENGTH_DECODE,
    )
    from pdfminer.runlength import rldecode

    if stream.rawdata is None:  # decoded already
        return len(stream.data or b"")
    data = stream.rawdata
    try:
        if stream.decipher and stream.objid is not None:
            data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
        filters = stream.get_filters()
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - pdfminer will fail on it the same way
        return len(data)
    for k, (f, _params) in enumerate(filters):
        keep = k < len(filters) - 1  # the next filter needs the bytes, the last one only their number
        try:
            if f in LITERALS_FLATE_DECODE:
                data, size = _inflate(data, most, keep)
            elif f in LITERALS_LZW_DECODE:
                data, size = _lzw(data, most, keep)
            elif f in LITERALS_ASCII85_DECODE:  # these shrink
                data = ascii85decode(data)
                size = len(data)
            elif f in LITERALS_ASCIIHEX_DECODE:
                data = asciihexdecode(data)
                size = len(data)
            elif f in LITERALS_RUNLENGTH_DECODE:  # two bytes make at most 128
                size = _rl_size(data)
                data = rldecode(data) if keep and size <= most else b""
            else:  # pictures (DCT, JPX, JBIG2, CCITT) and what pdfminer does not decode
                return len(data)
        except MemoryError:
            raise
        except Exception:  # noqa: BLE001 - damaged data: pdfminer stops there too
            return len(data)
        if size > most or not keep:
            return size
    return len(data)


def _inflate(data: bytes, most: int, keep: bool) -> tuple[bytes, int]:
    """zlib in 1 MB steps; past `most`, stop. A corrupt tail ends it (pdfminer keeps what came)."""
    d = zlib.decompressobj()
    parts: list[bytes] = []
    size = 0
    buf = data
    while True:
        try:
            chunk = d.decompress(buf, 1 << 20)
        except zlib.error:
            break
        size += len(chunk)
        if size > most:
            return b"", size
        if keep:
            parts.append(chunk)
        buf = d.unconsumed_tail
        if d.eof or not chunk and not buf:
            break
    return b"".join(parts), size


def _lzw(data: bytes, most: int, keep: bool) -> tuple[bytes, int]:
    from io import BytesIO

    from pdfminer.lzw import LZWDecoder

    parts: list[bytes] = []
    size = 0
    for chunk in LZWDecoder(BytesIO(data)).run():
        size += len(chunk)
        if size > most:
            return b"", size
        if keep:
            parts.append(chunk)
    return b"".join(parts), size


def _rl_size(data: bytes) -> int:
    size, i = 0, 0
    while i < len(data):
        n = data[i]
        if n == 128:
            break
        if n < 128:
            size += n + 1
            i += n + 2
        else:
            size += 257 - n
            i += 2
    return size


def _extract(pdf, objects=None):
    """The pages' lines and tables; `objects`, per page, what pdfium found on it (pdfium.page_objects),
    else pdfminer lays each page out."""
    lines: list[tuple[int, float, Line]] = []
    tables: list[tuple[int, float, Table]] = []  # page, top, table
    n_chars = 0
    n_images = 0
    for pno, page in enumerate(pdf.pages, 1):
        if objects is not None:
            page._objects = objects[pno - 1]  # pdfplumber's cache of the page's objects: no layout runs
        n_chars += len(page.chars)
        n_images += len(page.images)
        if not page.chars:
            continue
        grids = []
        for t in page.find_tables():
            found = t.extract()
            for start, end in data_runs(found):
                rows, row_boxes = found[start:end], t.rows[start:end]
                width = max((sum(1 for c in r if c is not None) for r in rows), default=0)
                # a one-column "table" is a framed paragraph; one row is a table when it holds figures
                # (the last row of a table, carried onto the next page), else a line drawn in a box
                if width >= 2 and (len(rows) >= 2 or figure_row(rows[0])):
                    cells = [[Source(page=pno, box=tuple(box)) if box is not None and text is not None else None
                              for box, text in zip(r.cells, row, strict=False)]
                             for r, row in zip(row_boxes, rows, strict=False)]
                    grids.append((_rows_box(row_boxes) if (start, end) != (0, len(found)) else t.bbox, rows, cells))
        boxes = [b for b, _, _ in grids]

        def outside(obj, boxes=boxes) -> bool:
            if obj.get("object_type") != "char":
                return True
            cx = (obj["x0"] + obj["x1"]) / 2
            cy = (obj["top"] + obj["bottom"]) / 2
            return not any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)

        text_page = page.filter(outside) if boxes else page
        for tl in text_page.extract_text_lines(strip=True, return_chars=True):
            text = tl["text"]
            if not text.strip() or (is_page_number(text) and tl["top"] > page.height * LAYOUT.page_number_zone):
                continue
            size = tl["chars"][0]["size"] if tl.get("chars") else None
            lines.append((pno, tl["top"], Line(text, page=pno, x0=tl["x0"], x1=tl["x1"], size=size, top=tl["top"],
                                               bottom=tl["bottom"])))
        for bbox, rows, cells in grids:
            tables.append((pno, bbox[1], Table(rows, page=pno, row_pages=[pno] * len(rows),
                                               source=Source(page=pno, box=tuple(bbox)), cell_sources=cells)))
    return lines, tables, n_chars, n_images


def _rows_box(rows) -> tuple[float, float, float, float]:
    """The box around some rows of a found table: the grid once the boxed text is left out."""
    cells = [c for r in rows for c in r.cells if c is not None]
    return (min(c[0] for c in cells), min(c[1] for c in cells), max(c[2] for c in cells), max(c[3] for c in cells))


def _stitch(lines, tables) -> list[tuple[int, Table]]:
    """Place each table before the first line below it, and join a table that runs on from one
    page to the next (nothing between them, the same number of columns) into one."""
    keys = [(p, top) for p, top, _ in lines]
    placed: list[tuple[int, Table]] = []
    for p, top, t in sorted(tables, key=lambda x: (x[0], x[1])):
        index = bisect.bisect_left(keys, (p, top))
        if placed:
            prev_index, prev = placed[-1]
            if prev_index == index and prev.row_pages[-1] == p - 1 and _width(prev) == _width(t):
                _append(prev, t)
                continue
        placed.append((index, t))
    return placed


def _width(t: Table) -> int:
    return max((len(r) for r in t.rows), default=0)


def _append(a: Table, b: Table) -> None:
    a.rows.extend(b.rows)
    a.row_pages.extend(b.row_pages)
    a.cell_sources.extend(b.cell_sources)
