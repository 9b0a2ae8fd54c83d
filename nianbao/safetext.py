"""Text that came from outside — a report's words, a roster's names, a file's name — made inert
wherever it lands: never markup in markdown, never a formula in a spreadsheet, never an escape
sequence on a terminal, never a path out of the folder it is written to.

One helper per destination; every data value put there goes through it:

* `clean` / `one_line` — control characters (C0, C1, ANSI/OSC escape sequences, bidi overrides)
  removed; for plain text (mail bodies, logs, table cells).
* `md` / `md_text` — markdown text: every ASCII punctuation mark a renderer could read as syntax
  backslash-escaped, ``< > &`` as HTML entities (no raw ``<img`` survives), for the Prefect UI's
  markdown and chat bots that render markdown.
* `sheet_cell` / `csv_cell` — a cell that stays text: a spreadsheet never evaluates it.
* `file_component` / `inside` — a file or folder name made from data, and the check that a path
  built from such names stays inside its folder.
* `mask_urls` — text that may quote a roster's notification URL (an exception, a YAML error).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

# ESC-introduced sequences first (so "\x1b[31m" goes whole, not leaving "[31m"): CSI, OSC (ended by
# BEL or ST), and the other two-character escapes; then any single C0/C1 control but \n and \t, DEL,
# and the bidirectional overrides/isolates that reorder what a reader sees (U+202A–202E, U+2066–2069).
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI … final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC … BEL | ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC … ST
    r"|\x1b[@-Z\\-_]?"  # other escapes (and a lone ESC)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\t\u2028\u2029\x85]")


def clean(text: Any) -> str:
    """`text` as a string without control characters or terminal escape sequences; newlines and
    tabs kept (a carriage return becomes a newline)."""
    s = text if isinstance(text, str) else str(text)
    s = _ESCAPES.sub("", s.replace("\r\n", "\n").replace("\r", "\n"))
    s = _CONTROLS.sub("", s)
    # lone surrogates (undecodable bytes of a file name) cannot be written anywhere
    return s.encode("utf-8", "replace").decode("utf-8") if any("\ud800" <= c <= "\udfff" for c in s) else s


def one_line(text: Any) -> str:
    """`clean`, with line breaks and tabs as spaces: a value that cannot start a new line."""
    return _LINE_BREAKS.sub(" ", clean(text))


# --- markdown -----------------------------------------------------------------------------------

_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# the marks that make markdown syntax (links and images, emphasis, code, tables, headings, lists,
# rules, strikethrough; "." also breaks autolinked domains such as www.x.cn; a line of "=" below):
# each backslash-escaped, which CommonMark and GFM renderers show as the mark itself
_MD_PUNCT = frozenset("\\`*_{}[]()#+-.!|~")
_SETEXT = re.compile(r"[ =]*=[ =]*")  # a line of = alone underlines the line above as a heading


def md(text: Any) -> str:
    """A value inside a markdown line (a heading, a list item, a table cell): shown as written,
    read as no syntax, on one line."""
    s = one_line(text)
    if _SETEXT.fullmatch(s):
        return s.replace("=", "\\=")
    return "".join(_MD_ENTITIES.get(c) or (f"\\{c}" if c in _MD_PUNCT else c) for c in s)


def md_text(text: Any) -> str:
    """Plain text with its lines (a notice body) as markdown: every line escaped, each kept as a
    line of its own (hard breaks)."""
    lines = [md(line) for line in clean(text).split("\n")]
    return "\n".join(f"{line}  " if line and i + 1 < len(lines) and lines[i + 1] else line
                     for i, line in enumerate(lines))


# --- spreadsheets -------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def sheet_cell(value: Any) -> Any:
    """A value for an .xlsx cell: numbers (and None) as they are, text cleaned. Whoever writes the
    cell must still store text as text (openpyxl: ``cell.data_type = "s"``), never as a formula."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return clean(value).replace("\n", " ") if isinstance(value, str) else clean(str(value))


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell (OWASP CSV injection): text starting like a formula gets a leading
    apostrophe, so a spreadsheet opening the file shows it instead of evaluating it."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    s = one_line(value)
    return f"'{s}" if s.startswith(FORMULA_START) else s


# --- file names ---------------------------------------------------------------------------------

COMPONENT_MAX_BYTES = 120  # of UTF-8: room for the fixed part of a name, under 255 in all
_UNSAFE_IN_NAME = re.compile(r'[/\\:*?"<>|\x00]')


def file_component(text: Any, limit: int = COMPONENT_MAX_BYTES) -> str:
    """`text` as one safe file or folder name: no separator, no NUL or control character, no
    Windows-reserved mark, not "." or ".." or hidden, at most `limit` bytes of UTF-8 (cut at a
    character, Chinese kept)."""
    s = unicodedata.normalize("NFC", one_line(text))
    s = _UNSAFE_IN_NAME.sub("_", s)
    s = re.sub(r"\.{2,}", "_", s).strip(" .")
    raw = s.encode("utf-8")
    if len(raw) > limit:
        s = raw[:limit].decode("utf-8", errors="ignore").rstrip(" .")
    return s or "_"


def inside(path: Path, folder: Path) -> Path:
    """`path`, resolved, after checking it is within `folder` (ValueError otherwise): the last
    guard before writing a file whose name was built from data."""
    root = Path(folder).resolve()
    target = Path(path).resolve()
    if target != root and not target.is_relative_to(root):
        raise ValueError(f"路径不在目录 {root} 之内，未写入")
    return target


# --- URLs in messages ---------------------------------------------------------------------------

_URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]{1,19})://[^\s'\"<>`，。、；：（）【】《》]+")


def mask_urls(text: Any) -> str:
    """Every ``scheme://…`` in `text` as ``scheme://***``: an error that quotes a roster line or a
    request must not show the token or password the URL carries."""
    return _URL.sub(lambda m: f"{m.group(1)}://***", str(text))
