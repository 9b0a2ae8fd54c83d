"""Readers: a file in any format it arrives in → the neutral document.

The formats are a registry (`READERS`): each declares its extensions, what its first bytes may
be, the limits it enforces and the function that reads it. `read()` does what every format
shares — the extension, the size, the first bytes, an encrypted Office file — then hands the
file to its reader. Adding a format is one entry here and one module.

A file we cannot read is not a traceback: every reader raises ReadError carrying the rule id
of the spec's file.* rules and a message a clerk can act on.
"""

from __future__ import annotations

import importlib
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nianbao.document import Document
from nianbao.readers.boxes import unbox


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 30 * 1024 * 1024
    max_pages: int = 200
    max_unzipped_bytes: int = 200 * 1024 * 1024  # a zip bomb stops here
    max_zip_ratio: int = 200  # uncompressed / compressed for the whole .docx
    max_table_cells: int = 1_000_000  # a text's pipe/HTML tables, a .docx body's w:tc (a report's three hold a few hundred)
    convert_timeout: float = 120.0
    # checked before any parser runs (a real report: ~100 PDF objects, 2 MB inflated, < 200 relationships)
    max_pdf_objects: int = 200_000
    max_stream_bytes: int = 64 * 1024 * 1024  # one PDF stream, inflated
    max_inflated_bytes: int = 200 * 1024 * 1024  # all a PDF's streams, inflated
    max_part_bytes: int = 64 * 1024 * 1024  # one part of a .docx (word/document.xml …), uncompressed
    max_zip_entries: int = 10_000
    max_relationships: int = 5_000  # in one *.rels part of a .docx
    # while parsing: the reader runs in a child process with these (nianbao/readers/isolated.py)
    max_read_memory: int = 1536 * 1024 * 1024  # RLIMIT_AS of the child
    max_read_seconds: float = 120.0  # wall time of one read (a .doc's conversion comes on top)
    isolate: bool = True  # False: read in this process, without the memory and time limits
    # a scan (readers/scan.py): OCR takes 3–8 s and ~1 GB a page, so it gets its own limits
    ocr: bool = True  # False: a scan is file.no_text, as before OCR
    max_scan_pages: int = 30
    max_ocr_seconds: float = 300.0  # on top of max_read_seconds
    max_ocr_memory: int = 3 * 1024 * 1024 * 1024  # RLIMIT_AS once OCR starts (onnxruntime reserves much)


class ReadError(Exception):
    def __init__(self, rule: str, message: str, **values: object) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.values = values

    def __reduce__(self):  # whole across the process boundary of an isolated read
        return _read_error, (self.rule, self.message, self.values)


def _read_error(rule: str, message: str, values: dict[str, object]) -> ReadError:
    return ReadError(rule, message, **values)


def num(x: float) -> str:
    """A limit or a size for a message: 64, 1.5, 0.001 (never "0")."""
    return f"{x:.0f}" if x >= 10 else f"{x:.3g}"


def sniff(head: bytes) -> str:
    """What the first bytes say the file really is."""
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"  # .doc, .wps, .xls …
    if head.startswith(b"{\\rtf"):
        return "rtf"
    markup = _markup(head)
    if markup:
        return markup
    if head[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"\xff\xd8\xff\xdb") or head.startswith(b"\xff\xd8"):
        return "image"
    if head[:4] in (b"II*\x00", b"MM\x00*") or (head.startswith(b"BM") and b"\x00" in head[2:14]):  # TIFF, BMP
        return "image"
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return "text"
    if b"\x00" in head[:4096]:
        return "binary"
    return "text"


_MIME_HEADER = re.compile(r"^(?:[!-9;-~]+:[^\n]*\n(?:[ \t][^\n]*\n)*)*?mime-version:", re.IGNORECASE)
_HTML_TAG = re.compile(r"<(?:!doctype\s+html|html|head|body|meta|title)[\s>/]", re.IGNORECASE)


def _markup(head: bytes) -> str | None:
    """"html" for a web page (Word's "web page" too), "mht" for a single-file web page (MIME)."""
    for bom, enc in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            text = head[2:].decode(enc, errors="ignore")
            break
    else:
        text = head.removeprefix(b"\xef\xbb\xbf").decode("latin-1")
    text = text.lstrip().replace("\r\n", "\n")
    if text.startswith("<") and _HTML_TAG.search(text):
        return "html"
    if _MIME_HEADER.match(text):
        return "mht"
    return None


def _office_encrypted(path: Path) -> bool:
    """Word/WPS save a password-protected .docx as an OLE container holding "EncryptedPackage"."""
    with path.open("rb") as fh:
        return "EncryptedPackage".encode("utf-16-le") in fh.read(1 << 20)


KIND_ZH = {"pdf": "PDF 文件", "zip": "压缩包或 .docx 文件", "ole": "旧版 Word/WPS（.doc/.wps）文件",
           "rtf": "RTF 文件", "image": "图片", "binary": "二进制文件", "text": "纯文本",
           "html": "网页（HTML）文件", "mht": "单个文件网页（.mht）"}


@dataclass(frozen=True)
class Reader:
    extensions: tuple[str, ...]
    sniffed: frozenset[str]  # what `sniff` may say of a genuine file of this format
    target: str  # "module:function", imported on first use (python-docx, pdfplumber are slow to import)
    enforces: tuple[str, ...] = ("max_bytes",)  # the Limits it applies, besides the size every file gets

    def load(self) -> Callable[[Path, Limits], Document]:
        return load(self.target)


def load(target: str) -> Callable[[Path, Limits], Document]:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def read_with(target: str, path: Path, limits: Limits) -> Document:
    """What a reader makes of a file, in this process (the isolated child calls this)."""
    return unbox(load(target)(path, limits))  # text drawn in boxes out of the tables, whatever the format


READERS: tuple[Reader, ...] = (
    Reader((".docx",), frozenset({"zip"}), "nianbao.readers.docx:read_docx",
           ("max_bytes", "max_unzipped_bytes", "max_zip_ratio", "max_part_bytes", "max_zip_entries", "max_relationships",
            "max_table_cells")),
    Reader((".pdf",), frozenset({"pdf"}), "nianbao.readers.pdf:read_pdf",
           ("max_bytes", "max_pages", "max_pdf_objects", "max_stream_bytes", "max_inflated_bytes")),
    Reader((".txt",), frozenset({"text"}), "nianbao.readers.txt:read_txt", ("max_bytes", "max_table_cells")),
    # Markdown exports and PDF-to-Markdown output: text with pipe tables, read by the text reader
    Reader((".md", ".markdown"), frozenset({"text"}), "nianbao.readers.txt:read_txt", ("max_bytes", "max_table_cells")),
    # an RTF saved as .doc, and WPS's own zip form, go through LibreOffice too (a Word "web page"
    # saved as .doc goes to the HTML reader, below)
    Reader((".doc",), frozenset({"ole", "rtf", "zip"}), "nianbao.readers.doc:read_doc", ("max_bytes", "convert_timeout")),
    Reader((".wps",), frozenset({"ole", "zip"}), "nianbao.readers.doc:read_doc", ("max_bytes", "convert_timeout")),
    # web pages: a portal's page, Word's "web page" and its single-file .mht; text that is no page is
    # read as one all the same (a fragment saved by hand)
    Reader((".html", ".htm", ".mht", ".mhtml"), frozenset({"html", "mht", "text"}), "nianbao.readers.html:read_html",
           ("max_bytes", "max_table_cells")),
    # Word's "web page" / single-file web page kept under a .doc name, a page renamed .txt: the
    # content decides (no LibreOffice round trip for what lxml reads directly)
    Reader((".doc", ".txt"), frozenset({"html", "mht"}), "nianbao.readers.html:read_html", ("max_bytes", "max_table_cells")),
    Reader((".rtf",), frozenset({"rtf"}), "nianbao.readers.doc:read_doc", ("max_bytes", "convert_timeout")),
    # scans and phone photos of the pages, read by OCR (readers/scan.py); several pages in a .zip
    Reader((".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"), frozenset({"image"}), "nianbao.readers.scan:read_images",
           ("max_bytes", "max_scan_pages", "max_ocr_seconds", "max_ocr_memory")),
    Reader((".zip",), frozenset({"zip"}), "nianbao.readers.scan:read_zip_images",
           ("max_bytes", "max_unzipped_bytes", "max_scan_pages", "max_ocr_seconds", "max_ocr_memory")),
)
BY_EXTENSION: dict[str, Reader] = {}
for _reader in READERS:  # an extension's own format is its first entry; later ones take other contents
    for _ext in _reader.extensions:
        BY_EXTENSION.setdefault(_ext, _reader)
SUPPORTED = tuple(BY_EXTENSION)


def read(path: str | os.PathLike[str], limits: Limits | None = None) -> Document:
    """Read one submitted file into the neutral document, or raise ReadError.

    What every format shares is checked here, in this process, without parsing anything; the
    reader itself runs in a child process with hard memory and time limits (`isolated`) unless
    `limits.isolate` is off."""
    limits = limits or Limits()
    p = Path(path)
    ext = p.suffix.lower()
    reader = BY_EXTENSION.get(ext)
    if reader is None:
        raise ReadError("file.unsupported_type",
                        f"不支持的文件类型“{ext or '无扩展名'}”。请提交 {'、'.join(SUPPORTED[:-1])} 或 {SUPPORTED[-1]} "
                        "格式的年度报告。",
                        extension=ext)
    try:
        # a FIFO, a device or a directory would block or never end: looked at before it is opened
        if not stat.S_ISREG(os.stat(p).st_mode):
            raise _not_a_file(p)
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)  # never blocks, even if it became a FIFO meanwhile
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise _not_a_file(p)
            size = st.st_size
            head = fh.read(4096)
    except OSError as exc:
        raise ReadError("file.unreadable", f"无法打开文件：{exc.strerror or '读取失败'}。请重新提交。") from exc
    if size == 0:
        raise ReadError("file.unreadable", "文件是空的（0 字节），可能上传或发送时出错。请重新提交完整的年度报告文件。",
                        size=0)
    if size > limits.max_bytes:
        raise ReadError("file.too_large",
                        f"文件大小 {size / 1048576:.1f} MB，超过上限 {limits.max_bytes / 1048576:.0f} MB。"
                        "请压缩图片或删除无关附件后重新提交。", size=size, limit=limits.max_bytes)
    kind = sniff(head)
    if kind == "ole" and _office_encrypted(p):
        raise ReadError("file.unreadable", "文件已加密（设置了打开密码），系统无法读取。请取消密码后重新提交。",
                        encrypted=True)
    reader = next((r for r in READERS if ext in r.extensions and kind in r.sniffed), reader)
    if kind not in reader.sniffed:
        raise ReadError("file.unreadable",
                        f"文件扩展名是“{ext}”，但内容实际是{KIND_ZH[kind]}，系统无法按{ext}读取。"
                        "请用 Word 或 WPS 打开后“另存为”正确的格式再提交。", extension=ext, actual=kind)
    if not limits.isolate:
        return read_with(reader.target, p, limits)
    from nianbao.readers import isolated

    seconds = limits.max_read_seconds + (limits.convert_timeout if "convert_timeout" in reader.enforces else 0)
    return isolated.read_isolated(reader.target, p, limits, seconds)


def _not_a_file(p: Path) -> ReadError:
    return ReadError("file.unreadable",
                     f"“{p.name}”不是普通文件（可能是文件夹、管道或设备），系统无法读取。请提交年度报告文件本身"
                     "（.docx、.pdf 等）。", not_a_file=True)
