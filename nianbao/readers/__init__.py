"""Readers: a file in any format it arrives in → the neutral document.

A file we cannot read is not a traceback: every reader raises ReadError carrying the rule id
of the spec's file.* rules and a message a clerk can act on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nianbao.document import Document

SUPPORTED = (".docx", ".doc", ".wps", ".pdf", ".txt")


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 30 * 1024 * 1024
    max_pages: int = 200
    max_unzipped_bytes: int = 200 * 1024 * 1024  # a zip bomb stops here
    max_zip_ratio: int = 200  # uncompressed / compressed for the whole .docx
    convert_timeout: float = 120.0


class ReadError(Exception):
    def __init__(self, rule: str, message: str, **values: object) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.values = values


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
    if head[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"\xff\xd8\xff\xdb") or head.startswith(b"\xff\xd8"):
        return "image"
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return "text"
    if b"\x00" in head[:4096]:
        return "binary"
    return "text"


def _office_encrypted(path: Path) -> bool:
    """Word/WPS save a password-protected .docx as an OLE container holding "EncryptedPackage"."""
    with path.open("rb") as fh:
        return "EncryptedPackage".encode("utf-16-le") in fh.read(1 << 20)


KIND_ZH = {"pdf": "PDF 文件", "zip": "压缩包或 .docx 文件", "ole": "旧版 Word/WPS（.doc/.wps）文件",
           "rtf": "RTF 文件", "image": "图片", "binary": "二进制文件", "text": "纯文本"}
EXPECTED = {".docx": {"zip"}, ".pdf": {"pdf"}, ".txt": {"text"}, ".doc": {"ole", "rtf", "zip"},
            ".wps": {"ole", "zip"}}


def read(path: str | os.PathLike[str], limits: Limits | None = None) -> Document:
    """Read one submitted file into the neutral document, or raise ReadError."""
    limits = limits or Limits()
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in SUPPORTED:
        raise ReadError("file.unsupported_type",
                        f"不支持的文件类型“{ext or '无扩展名'}”。请提交 .docx、.doc、.wps、.pdf 或 .txt 格式的年度报告。",
                        extension=ext)
    try:
        size = p.stat().st_size
        with p.open("rb") as fh:
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
    if kind not in EXPECTED[ext]:
        raise ReadError("file.unreadable",
                        f"文件扩展名是“{ext}”，但内容实际是{KIND_ZH[kind]}，系统无法按{ext}读取。"
                        "请用 Word 或 WPS 打开后“另存为”正确的格式再提交。", extension=ext, actual=kind)
    if ext == ".txt":
        from nianbao.readers.txt import read_txt

        return read_txt(p)
    if ext == ".docx":
        from nianbao.readers.docx import read_docx

        return read_docx(p, limits)
    if ext == ".pdf":
        from nianbao.readers.pdf import read_pdf

        return read_pdf(p, limits)
    from nianbao.readers.doc import read_doc

    return read_doc(p, limits)
