"""File names as they arrive: bytes the OS hands over, decoded for people, and cut to fit.

A name from a Windows zip or a USB stick is often GBK, not UTF-8; the OS gives its bytes to Python
as surrogate escapes, which no database, log or notice can carry."""

from __future__ import annotations

import os
import unicodedata

from nianbao.safetext import file_component

NAME_MAX_BYTES = 200  # of a name we write: file systems take 255; a counter and a stamp are added


def display_name(name: str) -> str:
    """A file name as people read it. The OS gives undecodable bytes as surrogate escapes; those
    bytes are GBK/GB18030 when they come from Windows in China. Control characters become "?"."""
    raw = os.fsencode(name)
    for encoding in ("utf-8", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = raw.decode("utf-8", errors="replace")
    return "".join("?" if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text)


def fitted(name: str, limit: int = NAME_MAX_BYTES) -> str:
    """`name` as a safe file name (`safetext.file_component`: no separator, control character or
    hidden name), cut to `limit` bytes of UTF-8 with its extension kept."""
    safe = file_component(name, limit=1 << 16)
    if len(safe.encode()) <= limit:
        return safe
    stem, dot, ext = safe.rpartition(".")
    if not dot or not stem or len(ext.encode()) > 16:
        return file_component(safe, limit)
    return f"{file_component(stem, limit - len(ext.encode()) - 1)}.{ext}"
