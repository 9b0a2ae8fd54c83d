"""The PDF reader's fast path: a page's characters, ruled lines and pictures from pdfium
(pypdfium2, C++) instead of pdfminer's layout (pure Python, most of a read's time).

What comes out is what pdfplumber would have made of the page — the same object dicts, built by
pdfminer's own rules: a character's box from its origin, its font's width and descent (pdfminer's
font objects, so the same numbers), a path cut into subpaths and each made a line, a rectangle or
a curve as `PDFLayoutAnalyzer.paint_path` does. `pdf._extract` puts them into pdfplumber's page
(its object cache), so the table finding (edges, intersections, cells), the cell and line text and
everything after stay pdfplumber's and ours, unchanged. Coordinates are pdfium's single precision:
a box agrees with pdfplumber's to ~1e-4 pt, the text and the grids exactly (tests/test_pdf_fast.py).

Where the fast path cannot be sure it gives the same objects, `page_objects` returns None and the
reader lays the pages out with pdfplumber as before:

- a page turned (/Rotate) or whose MediaBox/CropBox does not start at 0,0 (pdfminer shifts those);
- a Form XObject on the page (its objects sit in another coordinate space and resource set);
- a character that is not upright and unscaled (rotated, skewed, squeezed text), in a Type3 or
  vertical font, whose font pdfium and pdfminer cannot be matched on, or whose text pdfminer's
  font would not give for any of its codes (no ToUnicode entry: pdfminer writes "(cid:N)");
  codes with that text but different widths, which pdfium does not tell apart;
- a text object pdfium kept no character of (it drops a text drawn twice in the same place to
  fake bold; pdfminer keeps both);
- a page whose drawing inflates past `MAX_CONTENT_BYTES` (a hostile file: the limits of an
  isolated read then stop pdfminer with the same finding as before, where pdfium would crash);
- anything pdfium fails on: the pdfplumber path then says what it makes of the file.

The PDF-bomb walk (`pdf.check_structure`) has bounded every stream before this runs; pdfium
decodes no picture here (nothing is rendered).
"""

from __future__ import annotations

import ctypes
import logging
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ENABLED = True  # False: always pdfplumber's layout (tests compare the two paths)

_lock = threading.Lock()  # pdfium is not thread-safe; a read not isolated may run in a thread


class _NotSure(Exception):
    """The page has something the fast path does not reproduce exactly: use pdfplumber."""


def page_objects(path: Path, pdf) -> list[dict[str, list[dict[str, Any]]]] | None:
    """Per page of pdfplumber's `pdf`, its objects as pdfplumber's `Page.objects` would give them;
    None where the fast path is not sure (the module docstring says when)."""
    if not ENABLED:
        return None
    try:
        import pypdfium2 as pdfium
    except ImportError:  # pragma: no cover - installed with pdfplumber
        return None
    with _lock:
        try:
            doc = pdfium.PdfDocument(str(path))
        except Exception as exc:  # noqa: BLE001 - pdfplumber opened it: let it read it
            log.debug("pdfium cannot open %s: %s", path, exc)
            return None
        try:
            pages = pdf.pages
            if len(doc) != len(pages):
                return None
            fonts = _Fonts()
            out = []
            for i, plpage in enumerate(pages):
                _fits(plpage)  # before pdfium parses the page's content
                out.append(_page(doc[i], plpage, fonts))
            return out
        except _NotSure as why:
            log.debug("pdfium fast path not taken for %s: %s", path, why)
            return None
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged page: pdfplumber reports it as before
            log.debug("pdfium failed on %s: %s", path, exc)
            return None
        finally:
            doc.close()


# a page's drawing, inflated; a report's pages hold 5–40 KB. Past this pdfium may need more memory
# than a read is given, and dies of it (a crash, not a MemoryError): pdfminer's path meets the
# limit as a MemoryError and says so (file.too_complex), as it did before the fast path
MAX_CONTENT_BYTES = 1 << 20


def _fits(plpage) -> None:
    from nianbao.readers.pdf import _decoded_size

    room = MAX_CONTENT_BYTES
    for stream in plpage.page_obj.contents or ():
        room -= _decoded_size(stream, room)
        if room < 0:
            raise _NotSure("a page's content past MAX_CONTENT_BYTES")


def _page(page, plpage, fonts: _Fonts) -> dict[str, list[dict[str, Any]]]:
    import pypdfium2.raw as raw

    try:
        if page.get_rotation() % 360 or plpage.rotation % 360:
            raise _NotSure("rotated page")
        mb = tuple(plpage.mediabox)
        if mb[0] != 0 or mb[1] != 0 or tuple(plpage.cropbox) != mb:
            raise _NotSure("page box not at 0,0")
        height = plpage.height
        objects: dict[str, list[dict[str, Any]]] = {"char": [], "line": [], "rect": [], "curve": [], "image": []}
        text_objects = _walk(page, plpage, height, objects, raw)
        tp = page.get_textpage()
        try:
            objects["char"] = _chars(tp, plpage, height, fonts, text_objects, raw)
        finally:
            tp.close()
    finally:
        page.close()
    return {k: v for k, v in objects.items() if v}


def _walk(page, plpage, height: float, objects, raw) -> list[int]:
    """Paths and pictures into `objects`; the text objects' handles, for the char check."""
    texts: list[int] = []
    m = raw.FS_MATRIX()
    x, y = ctypes.c_float(), ctypes.c_float()
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    for k in range(raw.FPDFPage_CountObjects(page)):
        obj = raw.FPDFPage_GetObject(page, k)
        kind = raw.FPDFPageObj_GetType(obj)
        if kind == raw.FPDF_PAGEOBJ_TEXT:
            texts.append(ctypes.cast(obj, ctypes.c_void_p).value or 0)
        elif kind == raw.FPDF_PAGEOBJ_FORM:
            raise _NotSure("form xobject")
        elif kind == raw.FPDF_PAGEOBJ_IMAGE:
            raw.FPDFPageObj_GetBounds(obj, left, bottom, right, top)
            objects["image"].append({"object_type": "image", "page_number": plpage.page_number,
                                     "x0": left.value, "x1": right.value, "y0": bottom.value, "y1": top.value,
                                     "top": height - top.value, "bottom": height - bottom.value,
                                     "doctop": plpage.initial_doctop + height - top.value})
        elif kind == raw.FPDF_PAGEOBJ_PATH:
            if not raw.FPDFPageObj_GetMatrix(obj, m):
                raise _NotSure("path without a matrix")
            a, b, c, d, e, f = m.a, m.b, m.c, m.d, m.e, m.f
            path: list[tuple[str, tuple[float, float]]] = []  # pdfminer's ops: m, l, c (its end point), h
            n = raw.FPDFPath_CountSegments(obj)
            bezier = 0
            for s in range(n):
                seg = raw.FPDFPath_GetPathSegment(obj, s)
                raw.FPDFPathSegment_GetPoint(seg, x, y)
                pt = (a * x.value + c * y.value + e, b * x.value + d * y.value + f)
                t = raw.FPDFPathSegment_GetType(seg)
                if t == raw.FPDF_SEGMENT_MOVETO:
                    path.append(("m", pt))
                elif t == raw.FPDF_SEGMENT_LINETO:
                    path.append(("l", pt))
                elif t == raw.FPDF_SEGMENT_BEZIERTO:
                    bezier += 1
                    if bezier % 3 == 0:  # a curve's three points: pdfminer keeps the last
                        path.append(("c", pt))
                else:
                    raise _NotSure("unknown path segment")
                if raw.FPDFPathSegment_GetClose(seg):
                    path.append(("h", path[0][1] if path else pt))
            _paint(path, plpage, height, objects)
    return texts


def _paint(path, plpage, height: float, objects) -> None:
    """pdfminer's `paint_path`: subpaths, then a line, a rectangle or a curve."""
    starts = [i for i, (op, _) in enumerate(path) if op == "m"]
    if not path or path[0][0] != "m":
        return
    if len(starts) > 1:
        for i, s in enumerate(starts):
            sub = path[s: starts[i + 1] if i + 1 < len(starts) else len(path)]
            if len(sub) > 1:  # pdfminer's r"m[^m]+": a lone move is no subpath
                _paint(sub, plpage, height, objects)
        return
    shape = "".join(op for op, _ in path)
    pts = [pt if op != "h" else path[0][1] for op, pt in path]
    if len(shape) > 3 and shape[-2:] == "lh" and pts[-2] == pts[0]:  # a redundant l before h
        shape = shape[:-2] + "h"
        pts.pop()
    if shape in ("mlh", "ml"):
        kind, corners = "line", pts[:2]
    elif shape in ("mlllh", "mllll"):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3), _ = pts
        square = (x0 == x1 and y1 == y2 and x2 == x3 and y3 == y0) or (y0 == y1 and x1 == x2 and y2 == y3 and x3 == x0)
        if pts[0] == pts[4] and square:
            kind = "rect"
            (rx0, ry0), (rx1, ry1) = pts[0], pts[2]
            corners = [(rx0, ry0), (rx1, ry0), (rx1, ry1), (rx0, ry1)]
        else:
            kind, corners = "curve", pts
    else:
        kind, corners = "curve", pts
    xs = [p[0] for p in corners]
    ys = [p[1] for p in corners]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    objects[kind].append({
        "object_type": kind, "page_number": plpage.page_number,
        "x0": x0, "y0": y0, "x1": x1, "y1": y1, "width": x1 - x0, "height": y1 - y0,
        "pts": [(px, height - py) for px, py in corners],
        "top": height - y1, "bottom": height - y0, "doctop": plpage.initial_doctop + (height - y1),
    })


class _Fonts:
    """pdfminer's font objects (for widths and descent, exactly pdfminer's numbers), and which of
    a page's fonts a pdfium font handle is."""

    def __init__(self) -> None:
        from pdfminer.pdfinterp import PDFResourceManager

        self.manager = PDFResourceManager(caching=True)
        self.reverse: dict[int, dict[str, set[int]]] = {}  # id(pdfminer font) → text → codes

    def of_page(self, plpage) -> list:
        from pdfminer.pdffont import PDFType3Font
        from pdfminer.pdftypes import PDFObjRef, dict_value

        resources = plpage.page_obj.resources or {}
        out = []
        for spec in dict_value(resources.get("Font", {})).values():
            objid = spec.objid if isinstance(spec, PDFObjRef) else None
            font = self.manager.get_font(objid, dict_value(spec))
            if isinstance(font, PDFType3Font) or font.is_vertical():
                raise _NotSure("type3 or vertical font")
            out.append(font)
        return out

    def codes(self, font) -> dict[str, set[int]]:
        """text → the codes pdfminer's `to_unichr` gives it for, in this font."""
        rev = self.reverse.get(id(font))
        if rev is None:
            mapping: dict[int, str] = dict(getattr(font, "cid2unicode", {}) or {})
            umap = getattr(font, "unicode_map", None)
            if umap is not None:
                mapping.update(umap.cid2unichr)
            rev = {}
            for cid, text in mapping.items():
                rev.setdefault(text, set()).add(cid)
            self.reverse[id(font)] = rev
        return rev


def _bare(name: str) -> str:
    """A font's name without the subset tag ("BAAAAA+Noto…" → "Noto…"): pdfium drops it for some fonts."""
    return name.split("+", 1)[1] if len(name) > 7 and name[6] == "+" else name


def _chars(tp, plpage, height: float, fonts: _Fonts, text_objects: list[int], raw) -> list[dict[str, Any]]:
    n = raw.FPDFText_CountChars(tp)
    if n < 0:
        raise _NotSure("no text page")
    ox, oy = ctypes.c_double(), ctypes.c_double()
    m = raw.FS_MATRIX()
    # per text object: its scale, font size, font (as a number to key on, and pdfium's handle)
    objs: dict[int, tuple[float, float, int, Any]] = {}
    raw_chars: list[tuple[str, float, float, int]] = []  # text, origin x, origin y, object
    for i in range(n):
        if raw.FPDFText_IsGenerated(tp, i):
            continue
        u = raw.FPDFText_GetUnicode(tp, i)
        obj = raw.FPDFText_GetTextObject(tp, i)
        key = ctypes.cast(obj, ctypes.c_void_p).value or 0
        if not key:
            raise _NotSure("a character without its text object")
        if key not in objs:
            if not raw.FPDFText_GetMatrix(tp, i, m):
                raise _NotSure("a character without a matrix")
            if m.b != 0 or m.c != 0 or m.a <= 0 or m.a != m.d:
                raise _NotSure("text not upright or scaled unevenly")
            font = raw.FPDFTextObj_GetFont(obj)
            objs[key] = (m.a, raw.FPDFText_GetFontSize(tp, i), ctypes.cast(font, ctypes.c_void_p).value or 0,
                         font)
        raw.FPDFText_GetCharOrigin(tp, i, ox, oy)
        raw_chars.append((chr(u), ox.value, oy.value, key))
    kept = {k for _, _, _, k in raw_chars}
    if any(t not in kept for t in text_objects):
        # pdfium left a text object out (a text drawn twice to fake bold): pdfminer keeps it
        if any(_has_text(t, raw) for t in text_objects if t not in kept):
            raise _NotSure("a text object pdfium kept nothing of")
    page_fonts = fonts.of_page(plpage) if raw_chars else []
    by_name: dict[str, list] = {}
    for f in page_fonts:
        by_name.setdefault(_bare(str(f.fontname)), []).append(f)
        if getattr(f, "basefont", None):
            by_name.setdefault(_bare(str(f.basefont)), [])
            if f not in by_name[_bare(str(f.basefont))]:
                by_name[_bare(str(f.basefont))].append(f)
    handle_texts: dict[int, set[str]] = {}
    for text, _, _, key in raw_chars:
        handle_texts.setdefault(objs[key][2], set()).add(text)
    handle_font: dict[int, Any] = {}
    for _, _, handle, font in objs.values():
        if handle in handle_font:
            continue
        name = _font_name(font, raw)
        wanted = handle_texts.get(handle, set())
        candidates = [f for f in by_name.get(_bare(name), []) if all(t in fonts.codes(f) for t in wanted)]
        if not candidates:
            raise _NotSure(f"font {name!r} not matched")
        handle_font[handle] = candidates

    out: list[dict[str, Any]] = []
    top0 = plpage.initial_doctop
    pno = plpage.page_number
    for text, x0, y, key in raw_chars:
        a, fs, handle, _ = objs[key]
        width, descent, fontname = _metrics(handle_font[handle], text, fonts)
        adv = width * fs
        x1 = a * adv + x0
        lo = descent * fs
        y0 = a * lo + y
        y1 = a * (lo + fs) + y
        top = height - y1
        out.append({"text": text, "fontname": fontname, "size": y1 - y0, "adv": adv, "upright": True,
                    "x0": x0, "y0": y0, "x1": x1, "y1": y1, "width": x1 - x0, "height": y1 - y0,
                    "matrix": (a, 0.0, 0.0, a, x0, y), "object_type": "char", "page_number": pno,
                    "top": top, "bottom": height - y0, "doctop": top0 + top})
    return out


def _metrics(candidates: list, text: str, fonts: _Fonts) -> tuple[float, float, str]:
    """(width, descent, name) of a character: the same in every font and code it could be, or not sure."""
    seen = {(f.char_width(cid), f.get_descent()) for f in candidates for cid in fonts.codes(f)[text]}
    if len(seen) != 1:
        raise _NotSure(f"{text!r} has codes of different widths")
    width, descent = next(iter(seen))
    # a character in two subsets of one font (LibreOffice's 256-glyph pieces): the name is the
    # first's, which nothing downstream reads
    return width, descent, str(candidates[0].fontname)


def _font_name(font, raw) -> str:
    size = raw.FPDFFont_GetBaseFontName(font, None, 0)
    buf = ctypes.create_string_buffer(max(size, 1))
    raw.FPDFFont_GetBaseFontName(font, buf, size)
    return buf.value.decode("utf-8", "replace")


def _has_text(handle: int, raw) -> bool:
    """Whether a text object draws any character (its codes, not what pdfium extracted)."""
    # pdfium gives no count of a text object's codes; its bounds are empty when it draws nothing
    obj = ctypes.cast(handle, raw.FPDF_PAGEOBJECT)
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    if not raw.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
        return False
    return right.value > left.value or top.value > bottom.value
