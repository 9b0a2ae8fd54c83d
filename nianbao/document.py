"""The neutral document every reader produces: paragraphs and table grids in document order,
each block with its source (where in the clerk's file it came from).

The readers know file formats; the normaliser knows the report and never sees a file. The one
place where reading needs the report's shape — rebuilding paragraphs and table rows from the
broken lines of a PDF or of PDF-extracted text, which must know the section headings — is
`nianbao/readers/lines.py`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

CJK = r"\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef“”‘’《》〈〉【】〔〕—…·"
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{CJK}])[ \t]+|[ \t]+(?=[{CJK}])")
_MULTISPACE = re.compile(r"[ \t]{2,}")


def clean_text(text: str) -> str:
    """One canonical form of a paragraph, the same whatever file it came from.

    PDF text has spaces where fonts change ("2024 年"), Word text pads with U+3000; a space
    next to a Chinese character carries no meaning, so it goes.
    """
    text = text.replace("\u3000", " ").replace("\u00a0", " ").replace("\u200b", "")
    text = re.sub(r"\s*\n\s*", "", text)
    text = _SPACE_NEAR_CJK.sub("", text)
    return _MULTISPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Ocr:
    """What OCR made of a cell of a scan: the text, the lowest probability of its characters,
    and the other readings its unsure digits allow (each one replaced by its runner-up, or by a
    digit it is commonly mistaken for)."""

    text: str
    conf: float
    others: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """Where a block or a table cell came from in the clerk's own file, for a writer that puts a
    finding back in place (a Word comment on the paragraph or the cell):

    - .docx: `path`, the indexes of the element among its parent's children from `w:body` down
      (a paragraph `(12,)`; one inside a content control `(5, 0)`; one inside a table drawn as a
      box around text, `w:tbl` → `w:tr` → `w:tc` → `w:p`: `(7, 2, 1, 0)`); a table cell adds its
      row (among the table's `w:tr`) and its cell (among the row's `w:tc`, content controls looked
      through): `(20, 3, 1)`;
    - PDF: `page` and `box` (x0, top, x1, bottom in points, as pdfplumber gives them);
    - a scan: `page` and `box` the same way (points at 72 a inch of the page image), and a cell's
      `ocr` reading;
    - text: `line` (1-based);
    - HTML/.mht: `path`, the element's child indexes from `<body>` as lxml's HTML parser builds
      the page (`readers.html.page_body`), to the block element holding the text (the lines a
      `<br>` splits share it); a table cell adds its row (among the table's `<tr>`, through
      thead/tbody/tfoot) and its cell (among the row's `<td>`/`<th>`).
    """

    path: tuple[int, ...] = ()
    page: int | None = None
    line: int | None = None
    box: tuple[float, float, float, float] | None = None
    ocr: Ocr | None = None  # a scan's cell: how sure its reading is (readers/scan.py)

    def cell(self, row: int, index: int) -> Source:
        """A .docx cell of this table: its row and its `w:tc` index within the row."""
        return Source((*self.path, row, index), self.page, self.line)


@dataclass
class Paragraph:
    text: str
    page: int | None = None
    line: int | None = None  # first line in a .txt file (1-based)
    source: Source | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.source is None and (self.page is not None or self.line is not None):
            self.source = Source(page=self.page, line=self.line)


@dataclass
class Table:
    # None marks a grid position covered by a merged cell (already shown in another position)
    rows: list[list[str | None]]
    page: int | None = None
    line: int | None = None
    row_pages: list[int | None] = field(default_factory=list)
    row_lines: list[int | None] = field(default_factory=list)
    source: Source | None = field(default=None, compare=False)
    # per grid position, where that cell's text came from (None: covered, or not known)
    cell_sources: list[list[Source | None]] = field(default_factory=list, compare=False)
    # rebuilt from text lines (readers/lines.py), not read as a grid: its rows were chosen as rows
    # already, so the layout step (readers/boxes.py) leaves it alone
    from_lines: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if self.source is None and (self.page is not None or self.line is not None):
            self.source = Source(page=self.page, line=self.line)

    def cell_source(self, row: int, col: int) -> Source | None:
        """Where the cell at this grid position came from; for a table rebuilt from lines, the
        line of its row."""
        if row < len(self.cell_sources) and col < len(self.cell_sources[row]):
            return self.cell_sources[row][col]
        if self.cell_sources or row >= len(self.rows) or col >= len(self.rows[row]) or self.rows[row][col] is None:
            return None
        page, line = self.row_page(row), self.row_line(row)
        return Source(page=page, line=line) if page is not None or line is not None else None

    def row_page(self, i: int) -> int | None:
        return self.row_pages[i] if i < len(self.row_pages) else self.page

    def row_line(self, i: int) -> int | None:
        return self.row_lines[i] if i < len(self.row_lines) else self.line


@dataclass(frozen=True)
class Artifact:
    kind: str  # "bookmark" | "comment" | "tracked_change" | "field"
    text: str
    page: int | None = None
    line: int | None = None


@dataclass
class Document:
    blocks: list[Paragraph | Table]
    kind: str  # "docx" | "pdf" | "txt-word" | "txt-pdf" | "md" | "doc" | "wps" | "rtf" | "html" | "mht" …
    artifacts: list[Artifact] = field(default_factory=list)
    pages: int | None = None
    # pictures in the body (.docx: inline, floating, VML and embedded objects' pictures; PDF: images
    # on its pages): with text but no table, the tables were pasted as pictures (file.no_text)
    images: int = 0

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [b for b in self.blocks if isinstance(b, Paragraph)]

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


def normalize_number_text(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).replace(",", "").replace("，", "").strip()
