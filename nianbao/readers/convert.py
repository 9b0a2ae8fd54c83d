""".doc and .wps: converted to .docx by LibreOffice headless, then read as .docx."""

from __future__ import annotations

import tempfile
from pathlib import Path

from nianbao.convert import ConversionError, convert, soffice
from nianbao.document import Document
from nianbao.readers import Limits, ReadError


def read_converted(path: Path, limits: Limits) -> Document:
    ext = path.suffix.lower()
    if soffice() is None:
        raise ReadError("file.unreadable",
                        f"本系统未安装 LibreOffice，无法读取 {ext} 格式。请用 Word 或 WPS 打开后“另存为”.docx（或导出 PDF）再提交。",
                        extension=ext, converter=None)
    from nianbao.readers.docx import read_docx

    with tempfile.TemporaryDirectory(prefix="nianbao-conv-") as tmp:
        src = Path(tmp) / ("input" + ext)  # a plain name: LibreOffice dislikes some file names
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
