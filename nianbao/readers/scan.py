"""Scanned reports: page images → the neutral document, by OCR (nianbao/readers/ocr.py) and the
page's ruled lines (nianbao/readers/grid.py).

The pages come from an image-only PDF (rendered by pdfium), picture files (.jpg/.png/.tif, a
multi-page TIFF, several in a .zip) or the pictures of a .docx. Each page is, in order:

1. made grey from its red channel: a red stamp (公章) over a table is as light as the paper
   there, the black print under it stays;
2. straightened: the skew (up to ±5°) is the angle whose row profile of the ink is sharpest;
3. turned upright: text boxes taller than wide mean a page on its side, and the direction model
   says whether the text is upside down;
4. read: text boxes detected, the tables' cells found from the ruled lines, each box given to the
   cell it sits in (one crossing a rule is cut there), a cell with ink and no box read whole;
5. laid out as the PDF reader does (readers/lines.py `assemble`), in points, so the normaliser
   and every rule see what they see from a PDF.

Every cell's reading carries its confidence and the other readings its unsure characters allow
(`document.Ocr`); `rules/file.py`'s file.ocr_uncertain asks the clerk about those. Limits: pages
(`Limits.max_scan_pages`), time (`max_ocr_seconds`, checked between pages), pixels per page.
"""

from __future__ import annotations

import io
import math
import re
import time
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nianbao.document import Document, Ocr, Source, Table
from nianbao.readers import Limits, ReadError
from nianbao.readers.lines import LAYOUT, Line, assemble, is_page_number
from nianbao.readers.ocr import Read
from nianbao.template import match_heading

DPI = 200  # what an image-only PDF page is rendered at, and the dpi pages are brought to
MAX_PIXELS = 60_000_000  # one page image (a 300-dpi A3 is 35 M)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
_A4_WIDTH_IN = 8.27
_CONFUSABLE = {"1": "7", "7": "1", "0": "8", "8": "03", "3": "8", "5": "6", "6": "5"}
SEND_WORD = "请核对，或改交 Word/WPS 原文件（.docx）或由其直接导出的 PDF。"


@dataclass
class Page:
    image: np.ndarray  # RGB
    dpi: float
    number: int  # 1-based, in the file


def read_scan_pdf(path: Path, limits: Limits, n_pages: int) -> Document:
    """An image-only PDF (the text reader found no characters on any page)."""
    _check_pages(n_pages, limits)
    return read_pages(_pdf_pages(path, n_pages), limits, "scan", n_pages)


def read_images(path: Path, limits: Limits) -> Document:
    """A picture file: one page, or the frames of a multi-page TIFF."""
    frames = list(_image_pages(path.read_bytes(), path.name, limits, start=1))
    return read_pages(iter(frames), limits, "scan", len(frames))


def read_zip_images(path: Path, limits: Limits) -> Document:
    """Pages photographed or scanned one picture each, sent together in a .zip (in name order)."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError("file.unreadable", "压缩包已损坏，无法打开。请重新压缩后提交。") from exc
    with zf:
        names = sorted((i for i in zf.infolist() if not i.is_dir() and Path(i.filename).suffix.lower() in IMAGE_EXTENSIONS),
                       key=lambda i: _natural(i.filename))
        if not names:
            raise ReadError("file.unsupported_type",
                            "压缩包中没有扫描页或照片（.jpg/.png/.tif）。报告文件（.docx、PDF 等）请直接提交，不要压缩。")
        _check_pages(len(names), limits)
        pages: list[Page] = []
        left = limits.max_unzipped_bytes
        for info in names:
            with zf.open(info) as fh:  # the sizes a zip declares are not trusted: read within the limit
                data = fh.read(min(left, limits.max_bytes) + 1)
            if len(data) > min(left, limits.max_bytes):
                raise ReadError("file.too_large", "压缩包中的图片解压后过大。请把每页照片压缩到几 MB 以内后重新提交。")
            left -= len(data)
            pages.extend(_image_pages(data, info.filename, limits, start=len(pages) + 1))
    return read_pages(iter(pages), limits, "scan", len(pages))


def _natural(name: str) -> list:
    """"第2页" before "第10页"."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name.lower())]


def read_docx_pictures(blobs: list[bytes], limits: Limits) -> Document:
    """A .docx whose pages are pictures (a scan pasted into Word), in the order the body shows them."""
    _check_pages(len(blobs), limits)
    pages: list[Page] = []
    for k, blob in enumerate(blobs):
        pages.extend(_image_pages(blob, f"图片{k + 1}", limits, start=len(pages) + 1))
    return read_pages(iter(pages), limits, "scan", len(pages))


def _check_pages(n: int, limits: Limits) -> None:
    if n > limits.max_scan_pages:
        raise ReadError("file.too_large",
                        f"扫描件共 {n} 页，超过识别上限 {limits.max_scan_pages} 页（年度报告一般不超过 20 页）。"
                        "请只提交年度报告本身，最好提交 Word/WPS 原文件（.docx）。", pages=n, limit=limits.max_scan_pages)


def _pdf_pages(path: Path, n_pages: int) -> Iterator[Page]:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        for i in range(n_pages):
            page = pdf[i]
            w, h = page.get_size()
            scale = DPI / 72
            if w * h * scale * scale > MAX_PIXELS:
                scale = math.sqrt(MAX_PIXELS / (w * h))
            bitmap = page.render(scale=scale)
            yield Page(np.array(bitmap.to_pil().convert("RGB")), scale * 72, i + 1)
            bitmap.close()
            page.close()
    finally:
        pdf.close()


def _image_pages(data: bytes, name: str, limits: Limits, start: int) -> Iterator[Page]:
    from PIL import Image, ImageOps, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # past it PIL raises instead of inflating a "picture bomb"
    try:
        img = Image.open(io.BytesIO(data))
        if img.size[0] * img.size[1] > MAX_PIXELS:  # PIL itself only warns below twice its limit
            raise Image.DecompressionBombError(f"{img.size}")
        frames = getattr(img, "n_frames", 1)
        _check_pages(frames, limits)
        for k in range(frames):
            img.seek(k)
            frame = ImageOps.exif_transpose(img)  # a phone's photo says which way up it was taken
            frame = frame.convert("RGB")
            yield Page(np.array(frame), _dpi(frame, img), start + k)
    except ReadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ReadError("file.too_large", f"图片“{name}”像素过多（超过 {MAX_PIXELS // 1_000_000} 百万像素）。"
                        "请以 200–300 dpi 扫描后重新提交。") from exc
    except (UnidentifiedImageError, OSError, ValueError, EOFError) as exc:
        raise ReadError("file.unreadable", f"图片“{name}”已损坏或不是图片，无法打开。请重新扫描或拍照后提交。") from exc


def _dpi(frame, img) -> float:
    """The page's resolution: what the file says when plausible, else from its width as an A4 page."""
    said = img.info.get("dpi")
    width = frame.size[0] if frame.size[0] < frame.size[1] else frame.size[1]
    guess = width / _A4_WIDTH_IN
    if said and 100 <= float(said[0]) <= 1200 and 0.5 < guess / float(said[0]) < 2:
        return float(said[0])
    return guess


def read_pages(pages: Iterator[Page], limits: Limits, kind: str, n_pages: int) -> Document:
    from nianbao.readers import isolated, ocr

    if not ocr.available():
        raise ReadError("file.no_text", f"文件是扫描件或图片（共 {n_pages} 页），本系统未安装文字识别组件，无法读取。"
                        "请提交由 Word/WPS 直接导出的 PDF 或 .docx 原文件。", pages=n_pages)
    isolated.allow_ocr(limits)
    engine = ocr.engine()
    deadline = time.monotonic() + limits.max_ocr_seconds
    lines: list[tuple[int, float, Line]] = []
    tables: list[tuple[int, float, Table]] = []
    blank = 0
    for page in pages:
        if time.monotonic() > deadline:
            raise ReadError("file.too_complex",
                            f"扫描件识别超时：{limits.max_ocr_seconds:.0f} 秒内只识别了 {page.number - 1} 页（共 {n_pages} 页）。"
                            "请提交 Word/WPS 原文件（.docx）或由其直接导出的 PDF。",
                            pages=n_pages, read=page.number - 1, limit=limits.max_ocr_seconds)
        page_lines, page_tables = read_page(engine, page)
        if not page_lines and not page_tables:
            blank += 1
        lines.extend(page_lines)
        tables.extend(page_tables)
    # a grid with nothing written in it is ruled paper, not a table
    tables = [t for t in tables if any(c for r in t[2].rows for c in r)]
    if not lines and not tables:
        raise ReadError("file.no_text",
                        f"扫描件中识别不出任何文字（共 {n_pages} 页，都是空白或无法辨认）。请确认扫描清晰、页面方向正确，"
                        "或提交 Word/WPS 原文件（.docx）。", pages=n_pages, images=n_pages, blank=blank)
    if not tables and not any(match_heading(ln.text) for _, _, ln in lines):
        raise ReadError("file.no_text",
                        f"扫描件或图片（共 {n_pages} 页）中识别出的文字不像年度报告：既没有表格，也没有“一、总体情况”等任何一部分的标题。"
                        "请确认提交的是年度报告本身、页面完整清晰，或提交 Word/WPS 原文件（.docx）。", pages=n_pages, images=n_pages)
    from nianbao.readers.pdf import _stitch

    placed = _stitch(lines, tables)
    return Document(assemble([ln for _, _, ln in lines], placed), kind, pages=n_pages, images=n_pages)


# --- one page -----------------------------------------------------------------------------------


def read_page(engine, page: Page) -> tuple[list[tuple[int, float, Line]], list[tuple[int, float, Table]]]:
    import cv2

    from nianbao.readers import grid

    gray = _grey(page.image)
    gray, dpi = _to_dpi(gray, page.dpi)
    angle = skew(grid.ink(gray))
    if abs(angle) >= 0.1:
        gray = _rotate(gray, angle)
    # the rules are found on the page as it is (a median filter would break a 1-pixel rule of a
    # 150-dpi scan); the text is read on the page with its grain taken out
    clean = _denoise(gray)
    grainy = clean is not gray
    rgb = cv2.cvtColor(clean, cv2.COLOR_GRAY2RGB)
    quads = engine.detect(rgb)
    if not quads:
        return [], []
    turn = _turn(engine, rgb, quads)
    if turn:
        gray = np.ascontiguousarray(np.rot90(gray, k=turn // 90))
        clean = np.ascontiguousarray(np.rot90(clean, k=turn // 90)) if grainy else gray
        rgb = cv2.cvtColor(clean, cv2.COLOR_GRAY2RGB)
        quads = engine.detect(rgb)
    grids = grid.find_grids(grid.ink(gray), dpi)
    binary = grid.ink(clean)
    pieces = _pieces(quads, grids)
    if grainy:
        # a grainy page: in the tables the filtered page's boxes (the grain beside a figure is no
        # text), outside them the page's own (filtering loses thin strokes: the 一 of 一、总体情况)
        pieces = [p for p in pieces if p[2] is not None] + [
            p for p in _pieces(engine.detect(cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)), grids) if p[2] is None]
    crops = [rgb[t:b, x0:x1] if q is None else engine.crop(rgb, q) for (x0, t, x1, b), q, _ in pieces]
    # cells with ink and no text box (a lone "0" the detector passed over) are read whole
    empty = _inked_empty_cells(binary, grids, pieces, dpi)
    for gi, cell, box in empty:
        x0, t, x1, b = box
        crops.append(rgb[t:b, x0:x1])
        pieces.append((box, None, (gi, cell)))
    keep = [i for i, c in enumerate(crops) if c.size and c.shape[0] >= 4 and c.shape[1] >= 4]
    reads = dict(zip(keep, engine.read([crops[i] for i in keep]), strict=True))
    pt = 72.0 / dpi
    free: list[tuple[tuple[int, int, int, int], list]] = []
    texts: dict[tuple[int, int], list[tuple[tuple[int, int, int, int], Read]]] = {}
    for i, (box, _q, where) in enumerate(pieces):
        got = reads.get(i)
        if got is None or not got.glyphs and not got.figure:
            continue
        if where is None:
            if got.glyphs:
                free.append((box, got.glyphs))
        else:
            texts.setdefault((where[0], id(where[1])), []).append((box, got))
    out_lines = _page_lines(free, page.number, pt, gray.shape[0])
    read_cells = {(gi, id(cell)): _cell_text(texts.get((gi, id(cell)), [])) for gi, g in enumerate(grids) for cell in g.cells}
    _second_look(engine, rgb, grids, read_cells, dpi)
    out_tables = []
    for gi, g in enumerate(grids):
        rows: list[list[str | None]] = [[None] * g.n_cols for _ in range(g.n_rows)]
        sources: list[list[Source | None]] = [[None] * g.n_cols for _ in range(g.n_rows)]
        for cell in g.cells:
            text, reading = read_cells[(gi, id(cell))]
            rows[cell.row][cell.col] = text
            x0, t, x1, b = cell.box
            sources[cell.row][cell.col] = Source(page=page.number, box=(x0 * pt, t * pt, x1 * pt, b * pt), ocr=reading)
        for i, r in enumerate(rows):  # a grid position no region covers (a damaged rule): an empty cell, not a merge
            for k, v in enumerate(r):
                if v is None and not _covered(g, i, k):
                    r[k] = ""
        x0, t, x1, b = g.box
        box = (x0 * pt, t * pt, x1 * pt, b * pt)
        out_tables.append((page.number, t * pt, Table(rows, page=page.number, row_pages=[page.number] * len(rows),
                                                      source=Source(page=page.number, box=box), cell_sources=sources)))
    return out_lines, out_tables


SURE = 0.95  # a figure read less surely than this is read a second time, from its whole cell


def _second_look(engine, rgb: np.ndarray, grids, read_cells: dict, dpi: float) -> None:
    """Figures read unsurely are read again from a different crop: the cell's whole inside, not
    the detector's box. Two readings that agree stand (the surer one's confidence); two that
    differ leave the figure unsure, each reading the other's candidate."""
    inset = max(2, int(dpi * 0.015))
    todo = []
    for gi, g in enumerate(grids):
        for cell in g.cells:
            text, first = read_cells[(gi, id(cell))]
            if first is None or not text or "\n" in text or len(text) > 12 or first.conf >= SURE:
                continue
            if not any(ch.isdigit() for ch in text):
                continue
            x0, t, x1, b = cell.box
            crop = rgb[t + inset:b - inset, x0 + inset:x1 - inset]
            if crop.shape[0] >= 8 and crop.shape[1] >= 8:
                todo.append(((gi, id(cell)), crop))
    if not todo:
        return
    for (key, _), got in zip(todo, engine.read([c for _, c in todo]), strict=True):
        text, first = read_cells[key]
        glyphs = got.figure if looks_like_figure(first.text) else got.glyphs
        again = reading(widths("".join(g.char for g in glyphs)), glyphs)
        if again.text == first.text:
            read_cells[key] = (text, Ocr(first.text, max(first.conf, again.conf), first.others))
        else:
            others = tuple(dict.fromkeys((again.text, *first.others, *again.others)) if again.text else first.others)
            read_cells[key] = (text, Ocr(first.text, min(first.conf, again.conf if again.text else first.conf),
                                         tuple(o for o in others if o and o != first.text)))


def _grey(rgb: np.ndarray) -> np.ndarray:
    """The red channel, with what is plainly red made paper: red ink (the stamp, a red letterhead)
    vanishes; black and blue stay, and so does black print under the seal (dark in every channel)."""
    r = rgb[:, :, 0]
    other = np.maximum(rgb[:, :, 1], rgb[:, :, 2])
    # red ink is light in luma too (~90); a black rule under the seal is not, though JPEG's halved
    # colour resolution paints it red: it stays
    luma = (rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114)
    gray = np.minimum(r, np.clip(luma + 120, 0, 255).astype(np.uint8))
    gray[(r.astype(np.int16) - other > 60) & (r > 120) & (luma > 55)] = 255
    return np.ascontiguousarray(gray)


def _denoise(gray: np.ndarray) -> np.ndarray:
    """A grainy scan (paper pixels on average more than 3.5 levels off their neighbours' median) is median
    filtered: grain and specks go, strokes stay. A clean page is left as it is."""
    import cv2

    smooth = cv2.medianBlur(gray, 3)
    k = np.ones((5, 5), np.uint8)
    sample = (slice(None, None, 4), slice(None, None, 4))
    # paper: where the filtered page is flat and light; its grain, not the edges of the print
    flat = ((cv2.dilate(smooth, k) - cv2.erode(smooth, k)) < 30)[sample] & (smooth[sample] >= 120)
    if not flat.any():
        return gray
    grain = float(np.mean(np.abs(gray[sample][flat].astype(np.int16) - smooth[sample][flat])))
    return smooth if grain > 3.5 else gray


def _to_dpi(gray: np.ndarray, dpi: float) -> tuple[np.ndarray, float]:
    """Pages far above DPI are brought down to it (time grows with pixels; 200 dpi reads 10.5 pt
    figures well); far below, up to 150."""
    import cv2

    if dpi > DPI * 1.3:
        f = DPI / dpi
    elif dpi < 140:
        f = 150 / dpi
    else:
        return gray, dpi
    out = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    return out, dpi * f


def skew(binary: np.ndarray, most: float = 5.0, step: float = 0.1) -> float:
    """The angle (degrees, counter-clockwise) that makes the ink's rows sharpest: text lines and
    rules give a spiky row profile when level, a smeared one when not."""
    import cv2

    h, w = binary.shape
    f = min(1.0, 800 / max(h, w))
    small = cv2.resize(binary, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else binary
    sh, sw = small.shape
    centre = (sw / 2, sh / 2)

    def score(a: float) -> float:
        m = cv2.getRotationMatrix2D(centre, a, 1.0)
        rotated = cv2.warpAffine(small, m, (sw, sh), flags=cv2.INTER_NEAREST, borderValue=0)
        prof = rotated.sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(prof)).sum())

    coarse = max(np.arange(-most, most + 0.01, 0.5), key=score)
    fine = max(np.arange(coarse - 0.5, coarse + 0.51, step), key=score)
    return float(round(fine, 2))


def _rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    import cv2

    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def _turn(engine, rgb: np.ndarray, quads: list[np.ndarray]) -> int:
    """Degrees to turn the page (counter-clockwise, numpy's rot90) to make its text upright."""
    sizes = [(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[3] - q[0])) for q in quads]
    long = [i for i, (w, h) in enumerate(sizes) if max(w, h) > 2.5 * min(w, h)]
    tall = sum(1 for i in long if sizes[i][1] > sizes[i][0])
    if long and tall > 0.6 * len(long):  # on its side: try it turned a quarter, the direction decides the rest
        turned = np.ascontiguousarray(np.rot90(rgb, k=1))
        quads2 = engine.detect(turned)
        crops = _sample(engine, turned, quads2)
        return 270 if engine.upside_down(crops) > 0.5 else 90
    crops = _sample(engine, rgb, quads)
    return 180 if engine.upside_down(crops) > 0.5 else 0


def _sample(engine, rgb: np.ndarray, quads: list[np.ndarray]) -> list[np.ndarray]:
    """The widest text boxes: the direction model is surest on long lines."""
    widest = sorted(quads, key=lambda q: -float(np.linalg.norm(q[1] - q[0])))[:16]
    return [engine.crop(rgb, q) for q in widest]


def _pieces(quads, grids):
    """Each text box as (box, quad or None, (grid index, cell) or None): a box inside one cell goes
    to it; one crossing cells is cut at the cells' edges; one outside every table is page text."""
    out = []
    for q in quads:
        xs, ys = q[:, 0], q[:, 1]
        box = (int(max(0, xs.min())), int(max(0, ys.min())), int(xs.max()) + 1, int(ys.max()) + 1)
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        placed = False
        for gi, g in enumerate(grids):
            gx0, gt, gx1, gb = g.box
            if not (gx0 <= cx <= gx1 and gt <= cy <= gb):
                continue
            # a cell the box reaches into by more than a thin sliver (a glyph is about as wide as
            # the box is high): "7 | 13" detected as one box is two cells' figures
            sliver = 0.3 * (box[3] - box[1])
            hit = [c for c in g.cells if _inside(cx, cy, c.box)
                   or min(box[2], c.box[2]) - max(box[0], c.box[0]) > sliver and _overlap(box, c.box) > 0]
            if not hit:  # inside the rules' outline but in no cell (a heading above the grid): page text
                continue
            if len(hit) == 1:
                out.append((box, q, (gi, hit[0])))
            else:
                for c in hit:
                    x0, t = max(box[0], c.box[0]), max(box[1], c.box[1])
                    x1, b = min(box[2], c.box[2]), min(box[3], c.box[3])
                    if x1 - x0 >= 4 and b - t >= 4:
                        out.append(((x0, t, x1, b), None, (gi, c)))
            placed = True
            break
        if not placed:
            out.append((box, q, None))
    return out


def _area(b) -> float:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def _overlap(a, b) -> float:
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def _inside(x, y, b) -> bool:
    return b[0] <= x <= b[2] and b[1] <= y <= b[3]


def _inked_empty_cells(binary, grids, pieces, dpi):
    """Cells no text box reached whose inside (away from the rules) holds a mark of ink."""
    import cv2

    reached = {(w[0], id(w[1])) for _, _, w in pieces if w is not None}
    inset = max(2, int(dpi * 0.02))
    out = []
    for gi, g in enumerate(grids):
        for c in g.cells:
            if (gi, id(c)) in reached:
                continue
            x0, t, x1, b = c.box
            inner = binary[t + inset:b - inset, x0 + inset:x1 - inset]
            if inner.size == 0:
                continue
            n, _l, stats, _ = cv2.connectedComponentsWithStats(inner, connectivity=8)
            marks = [s for s in stats[1:] if s[4] >= max(6, dpi * 0.05) and s[3] >= dpi * 0.04]
            if not marks:
                continue
            mx0 = min(s[0] for s in marks)
            mt = min(s[1] for s in marks)
            mx1 = max(s[0] + s[2] for s in marks)
            mb = max(s[1] + s[3] for s in marks)
            pad = inset
            out.append((gi, c, (max(x0, x0 + inset + mx0 - pad), max(t, t + inset + mt - pad),
                                min(x1, x0 + inset + mx1 + pad), min(b, t + inset + mb + pad))))
    return out


def _covered(g, r: int, c: int) -> bool:
    return any(cell.row <= r < cell.row + cell.rows and cell.col <= c < cell.col + cell.cols for cell in g.cells)


def _cell_text(runs) -> tuple[str, Ocr | None]:
    """A cell's runs in reading order: lines top to bottom (joined by a line break, as a PDF cell's
    are), runs left to right within a line."""
    if not runs:
        return "", Ocr("", 1.0, ())
    free = "".join(g.char for _, r in runs for g in r.glyphs)
    figure = looks_like_figure(free)
    runs = [(box, r.figure if figure else r.glyphs) for box, r in runs]
    runs = [r for r in runs if r[1]]
    if not runs:
        return "", Ocr("", 1.0, ())
    runs = sorted(runs, key=lambda r: (r[0][1] + r[0][3]) / 2)
    lines: list[list] = []
    for run in runs:
        mid = (run[0][1] + run[0][3]) / 2
        if lines and abs(mid - lines[-1][0][1]) < 0.5 * (run[0][3] - run[0][1]):
            lines[-1][1].append(run)
        else:
            lines.append([(0, mid), [run]])
    glyphs: list = []
    parts = []
    for _, line in lines:
        line.sort(key=lambda r: r[0][0])
        text = widths("".join("".join(g.char for g in r[1]) for r in line))
        parts.append(text)
        glyphs.extend(g for r in line for g in r[1])
    text = "\n".join(parts)
    return text, reading(text.replace("\n", ""), glyphs)


# what OCR makes of a figure's digits when it reads them as other characters: a small 0 as 。, o,
# 〇 or 口, a 1 as l, I or |
_DIGIT_LOOKALIKES = frozenset("0123456789.-%。oO〇口DlI|丨=:：·,，")


def looks_like_figure(text: str) -> bool:
    """A cell that holds a figure: a short run of digits and their look-alikes, with a digit or a
    lone look-alike (a 0 read as 。). "无", "—" or a word are read as they are."""
    t = text.strip()
    return 0 < len(t) <= 12 and all(ch in _DIGIT_LOOKALIKES for ch in t) and (any(ch.isdigit() for ch in t) or len(t) == 1)


_CJK = re.compile(r"[\u3400-\u9fff（）]")


def widths(text: str) -> str:
    """OCR reads the template's full-width brackets as ASCII ones half the time: "(五）". A bracket
    next to Chinese is the full-width one, as Word would have it."""
    if "(" not in text and ")" not in text:
        return text
    out = list(text)
    for k, ch in enumerate(out):
        if ch in "()":
            near = (out[k - 1] if k else "") + (out[k + 1] if k + 1 < len(out) else "")
            if _CJK.search(near):
                out[k] = "（" if ch == "(" else "）"
    return "".join(out)


def reading(text: str, glyphs) -> Ocr:
    """The reading with its confidence and the other readings of its figures: each unsure digit
    replaced by its runner-up, or by the digits it is commonly mistaken for (1/7, 0/8, 3/8, 5/6)."""
    conf = min((g.conf for g in glyphs), default=1.0)
    others: list[str] = []
    chars = [g.char for g in glyphs]
    for k, g in enumerate(glyphs):
        if not g.char.isdigit():
            continue
        alts = set()
        if g.alt and g.alt.isdigit() and g.alt_conf >= 0.02 and unicodedata.normalize("NFKC", g.alt) != g.char:
            alts.add(unicodedata.normalize("NFKC", g.alt))
        if g.conf < 0.999:
            alts.update(_CONFUSABLE.get(g.char, ""))
        for a in sorted(alts):
            other = "".join(chars[:k] + [a] + chars[k + 1:])
            if other != text and other not in others:
                others.append(other)
    return Ocr(text, conf, tuple(others))


# "- 1 -" as OCR reads it at the foot of a page: "1-", "-1", "—1—", "~ 1 ~"
_PAGE_NUMBER = re.compile(r"^[-—–－~～\s]*\d{1,3}[-—–－~～\s]*$")


def _page_lines(free, page_no: int, pt: float, height: int) -> list[tuple[int, float, Line]]:
    """Text outside the tables as the PDF reader's lines: runs on one baseline joined."""
    runs = sorted(free, key=lambda r: (r[0][1] + r[0][3]) / 2)
    rows: list[list] = []
    for box, glyphs in runs:
        mid = (box[1] + box[3]) / 2
        if rows and abs(mid - rows[-1][0]) < 0.4 * (box[3] - box[1]):
            rows[-1][1].append((box, glyphs))
        else:
            rows.append([mid, [(box, glyphs)]])
    out: list[tuple[int, float, Line]] = []
    for _, row in rows:
        row.sort(key=lambda r: r[0][0])
        text = ""
        for k, (_box, glyphs) in enumerate(row):
            piece = "".join(g.char for g in glyphs)
            if k and text and piece and text[-1].isascii() and piece[0].isascii():
                text += " "
            text += piece
        x0 = min(r[0][0] for r in row) * pt
        x1 = max(r[0][2] for r in row) * pt
        top = min(r[0][1] for r in row) * pt
        bottom = max(r[0][3] for r in row) * pt
        text = widths(text)
        if not text.strip() or ((is_page_number(text) or _PAGE_NUMBER.match(text))
                                and top > height * pt * LAYOUT.page_number_zone):
            continue
        # the detector's box is the glyphs' own height plus a margin: about 1.25 em
        size = (bottom - top) / 1.25
        out.append((page_no, top, Line(text, page=page_no, x0=x0, x1=x1, size=size, top=top, bottom=bottom)))
    return out
