""".doc, .wps and .rtf: converted to .docx by LibreOffice headless, then read as .docx."""

from __future__ import annotations

import tempfile
from pathlib import Path

from nianbao.document import Document
from nianbao.libreoffice import ConversionError, convert, soffice
from nianbao.readers import Limits, ReadError


def read_doc(path: Path, limits: Limits) -> Document:
    ext = path.suffix.lower()
    if soffice() is None:
        raise ReadError("file.unreadable",
                        f"本系统未安装 LibreOffice，无法读取 {ext} 格式。请用 Word 或 WPS 打开后“另存为”.docx（或导出 PDF）再提交。",
                        extension=ext, converter=None)
    from nianbao.readers.docx import read_docx

    head = path.read_bytes()[:1 << 20]
    if ext == ".doc" and head.startswith(b"\xd0\xcf\x11\xe0") and "WordDocument".encode("utf-16-le") not in head:
        # an OLE container without a Word stream: an .xls or .ppt renamed, or a damaged file
        raise ReadError("file.unreadable", "文件扩展名是“.doc”，但内容不是 Word 文档（可能已损坏，或是改了扩展名的其他文件）。"
                        "请用 Word 或 WPS 打开报告后“另存为”.docx 再提交。", extension=ext)

    with tempfile.TemporaryDirectory(prefix="nianbao-conv-") as tmp:
        # a plain name: LibreOffice dislikes some file names (and finds RTF under a .doc name by its content)
        src = Path(tmp) / ("input" + ext)
        src.write_bytes(path.read_bytes())
        try:
            (out,) = convert([src], "docx", Path(tmp) / "out", timeout=limits.convert_timeout)
        except ConversionError as exc:
            raise ReadError("file.unreadable",
                            f"{ext} 文件无法转换（文件可能已损坏或加密）。请用 Word 或 WPS 打开后“另存为”.docx 再提交。",
                            extension=ext) from exc
        doc = read_docx(out, limits)
    doc.kind = ext.lstrip(".")
    return doc
