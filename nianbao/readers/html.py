"""Web pages: a report page saved from a portal (.html/.htm), Word's "save as web page" (also
kept under a .doc name) and single-file web pages (.mht/.mhtml, also as .doc) → the neutral
document.

- **MIME** (.mht): the stdlib `email` parser; the page is the multipart's root part (its
  `start`), else its first text/html part. A page cut off before its end (no closing boundary
  after the page's own part) is a truncated file.
- **Encoding**: a BOM; else the MIME part's charset or the page's `<meta charset>` /
  `http-equiv` / XML declaration; else UTF-8; else GB18030 (what GB2312/GBK pages really are).
  Valid UTF-8 wins over a declared legacy charset: CMS templates keep a "gb2312" meta long after
  the site moved to UTF-8, and GBK text is practically never valid UTF-8.
- **Parsing**: lxml's HTML parser (libxml2, as `lxml.html` uses it) without comments (Word's
  `<!--[if …]>` blocks go with them).
  libxml2 stops at 256 levels of nesting; a page that deep is refused, not read half.
- **Flow**: one Paragraph per block-level element and per `<br>`-separated line of it; script,
  style, forms, `<nav>`/`<aside>` and hidden elements are not text. A `<table>` is a data table
  (a Table, merged cells as the docx reader gives them) unless it lays out the page: a cell
  holding another table or running text, or only one column; those are read as flow.
- **The article**: a portal page is mostly chrome. The report is the deepest element holding a
  heading of every section found (`template.match_heading`), from the title on: the title
  inside it, or else the nearest title line before it (a portal puts the `<h1>` outside the
  body's div). Metadata lines (索引号, 发布日期, 浏览次数 …), breadcrumbs and tables between the
  title and the first heading, and site lines after the report (打印, 关闭, ICP备 …), go.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nianbao.document import Document, Paragraph, Source, Table, clean_text
from nianbao.readers import Limits, ReadError, sniff
from nianbao.readers.lines import is_page_number
from nianbao.template import match_heading

# elements whose content is never the report's text
_SKIP = frozenset({
    "head", "title", "meta", "link", "base", "script", "noscript", "style", "template", "iframe", "frame", "object",
    "embed", "applet", "param", "svg", "math", "canvas", "audio", "video", "source", "track", "map", "area",
    "select", "option", "optgroup", "datalist", "textarea", "button", "input", "nav", "aside", "xml",
})
_SKIP_ROLES = frozenset({"navigation", "search", "banner", "contentinfo", "complementary", "menu", "menubar"})
_BLOCK = frozenset({
    "html", "body", "address", "article", "blockquote", "center", "dd", "details", "dialog", "dir", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hgroup", "hr", "legend", "li", "listing", "main", "menu", "ol", "p", "plaintext", "pre", "section", "summary",
    "ul", "xmp", "table", "caption", "thead", "tbody", "tfoot", "tr", "td", "th", "colgroup", "col", "frameset",
    "noframes",
})
_CELLS = frozenset({"td", "th"})
_ATTACHMENT = re.compile(r"([^/\\?#=]+\.(?:pdf|docx?|wps|ofd|xlsx?|zip|rar))(?:[?#]|$)", re.IGNORECASE)
# hidden, and the page furniture office suites export inline: Word's header/footer/footnote
# elements (mso-element), LibreOffice's <div title="footer"> (the docx reader reads the body alone)
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all|"
                     r"mso-element\s*:\s*(?:header|footer|footnote|endnote|comment)", re.IGNORECASE)
_FURNITURE_TITLES = frozenset({"header", "footer"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f\v]+")  # what HTML collapses; U+3000 and &nbsp; are text (clean_text)
_LAYOUT_CELL_CHARS = 150  # the template's longest cell is ~35 characters: longer is running text
_MAX_COLSPAN, _MAX_ROWSPAN = 1000, 65534  # as the HTML standard clamps them
_MAX_DEPTH = 256  # libxml2's limit without XML_PARSE_HUGE


# ---- bytes → page text ------------------------------------------------------------------------

_GB = frozenset({"gb2312", "gbk", "x-gbk", "gb_2312", "gb_2312-80", "gb18030", "cp936", "ms936", "windows-936",
                 "csgb2312", "chinese", "iso-ir-58", "euc-cn", "x-euc-cn", "csiso58gb231280"})
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([-\w.:]+)""", re.IGNORECASE)


def _codec(label: str | None) -> str | None:
    """The Python codec for a declared charset label, or None when the label cannot be right."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _GB:
        return "gb18030"  # GB2312 pages hold GBK characters; GB18030 reads both
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if name.startswith("utf-16") or name.startswith("utf-32") or name in ("latin-1", "iso8859-1", "cp1252", "ascii"):
        # UTF-16 without a BOM, or a Western single-byte charset on a Chinese report: the label lies
        return None
    return name


def declared_charset(data: bytes) -> str | None:
    head = data[:65536]
    m = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    return m.group(1).decode("ascii", "replace") if m else None


def decode_page(data: bytes, declared: str | None = None) -> str:
    """The page's text: BOM, valid UTF-8, the declared charset, UTF-8, GB18030. A stray
    undecodable byte or two (a page cut inside a character) is tolerated; more is a broken file."""
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace")
    if not data.isascii():
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    candidates = [c for c in (_codec(declared), _codec(declared_charset(data)), "utf-8", "gb18030") if c]
    tolerance = max(4, len(data) // 2000)
    for codec in dict.fromkeys(candidates):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            text = data.decode(codec, errors="replace")
            if text.count("\ufffd") <= tolerance:
                return text
    raise ReadError("file.unreadable",
                    "网页文件的文字编码无法识别（含有大量无法解码的字节，文件可能已损坏）。请在浏览器中打开该网页，"
                    "确认文字显示正常后重新保存，或直接提交报告的 .docx 或 PDF 文件。")


def _mime_page(data: bytes) -> tuple[bytes, str | None]:
    """The page inside a single-file web page (MIME multipart/related) and its declared charset."""
    import email
    import email.policy
    from email.errors import CloseBoundaryNotFoundDefect

    msg = email.message_from_bytes(data, policy=email.policy.compat32)  # compat32: lenient with real files
    parts = [p for p in msg.walk() if not p.is_multipart()]
    start = (msg.get_param("start") or "") if msg.is_multipart() else ""
    start = str(start).strip("<>")
    page = next((p for p in parts if start and str(p.get("Content-ID", "")).strip().strip("<>") == start), None)
    if page is None:
        page = next((p for p in parts if p.get_content_type() in ("text/html", "application/xhtml+xml")), None)
    if page is None:  # a page labelled as something else: trust its content
        page = next((p for p in parts if sniff(_payload(p)[:4096]) == "html"), None)
    if page is None:
        raise ReadError("file.unreadable",
                        "这个文件是单个文件网页（.mht）或邮件的格式，但里面没有网页正文（可能已损坏、不完整，或报告在它的附件里）。"
                        "请直接提交报告的 .docx 或 PDF 文件。")
    truncated = any(isinstance(d, CloseBoundaryNotFoundDefect) for p in msg.walk() for d in p.defects)
    if truncated and page is parts[-1]:
        raise ReadError("file.unreadable",
                        "单个文件网页（.mht）不完整：报告正文在文件中途被截断（可能下载或复制时中断）。请重新保存完整文件后提交，"
                        "或直接提交报告的 .docx 或 PDF 文件。", truncated=True)
    charset = page.get_content_charset()
    return _payload(page), charset


def _payload(part: Any) -> bytes:
    body = part.get_payload(decode=True)
    return body if isinstance(body, bytes) else b""


# ---- page text → tree ------------------------------------------------------------------------


def _parse(text: str) -> Any:
    from lxml import etree

    # lxml's HTML parser (what lxml.html uses) without lxml.html's element classes, whose lookup
    # in Python costs more than the whole walk; bytes with the encoding given, so that libxml2
    # ignores the page's own meta (already applied)
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)
    try:
        root = etree.fromstring(text.encode("utf-8", errors="replace"), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ReadError("file.no_text", "网页中没有任何文字内容。请打开报告正文页面后重新保存，或直接提交报告的 .docx 或 PDF 文件。") from exc
    if root is None:
        raise ReadError("file.no_text", "网页中没有任何文字内容。请打开报告正文页面后重新保存，或直接提交报告的 .docx 或 PDF 文件。")
    if any(e.type_name == "ERR_RESOURCE_LIMIT" or "depth" in (e.message or "").lower() for e in parser.error_log):
        raise ReadError("file.unreadable",
                        f"网页的结构异常（元素嵌套超过 {_MAX_DEPTH} 层），不是正常保存的报告页面，系统拒绝读取。"
                        "请提交报告的 .docx 或 PDF 文件。", depth=_MAX_DEPTH)
    return root


# ---- tree → blocks ---------------------------------------------------------------------------


def _skipped(el: Any) -> bool:
    tag = el.tag
    if tag in _SKIP:
        return True
    attrib = el.attrib
    if not attrib:
        return False
    if "hidden" in attrib or attrib.get("aria-hidden") == "true" or attrib.get("role", "").lower() in _SKIP_ROLES:
        return True
    if attrib.get("title", "").lower() in _FURNITURE_TITLES:
        return True
    style = attrib.get("style")
    return bool(style and _HIDDEN.search(style))


def _span(value: str | None, cap: int) -> int:
    if value is None:
        return 1
    if not value.isdigit():  # " 2", "2px", "x": what a browser makes of it
        m = re.match(r"\s*(\d+)", value)
        value = m.group(1) if m else "1"
    return min(max(int(value), 1), cap)


@dataclass
class _Flow:
    """Walks elements into blocks without recursion (a page's nesting is data, not call depth)."""

    cells_left: int
    blocks: list[Paragraph | Table] = field(default_factory=list)
    images: int = 0
    attachments: list[str] = field(default_factory=list)  # linked files: the report may be one of them
    _parts: list[str] = field(default_factory=list)
    _owner: tuple[int, ...] = ()
    _open_blocks: list[tuple[int, ...]] = field(default_factory=list)
    _main: bool = True

    def run(self, top: Any, path: tuple[int, ...], tables: bool = True) -> list[Paragraph | Table]:
        """The blocks of `top`'s content; `tables` False for a cell's or a caption's lines."""
        self._main = tables
        self._open_blocks.append(path)
        stack: list[tuple[Any, tuple[int, ...], Any, bool]] = [(top, path, iter(enumerate(top)), True)]
        self._text(top.text)
        while stack:
            el, el_path, children, block = stack[-1]
            nxt = next(children, None)
            if nxt is None:
                stack.pop()
                if block:
                    self._flush()
                    self._open_blocks.pop()
                if stack:
                    self._text(el.tail)
                continue
            i, child = nxt
            if not isinstance(child.tag, str):  # an entity or a leftover comment
                self._text(child.tail)
                continue
            child_path = (*el_path, i)
            tag = child.tag  # libxml2 gives HTML's names in lower case
            if _skipped(child):
                pass
            elif tag == "br":
                self._flush()
            elif tag == "img":
                self.images += 1
            elif tag == "table" and tables and (table := self._table(child, child_path)) is not None:
                self._flush()
                self.blocks.extend(table)
            else:
                if tag == "a" and (m := _ATTACHMENT.search(child.get("href") or "")):
                    self.attachments.append(m.group(1))
                is_block = tag in _BLOCK
                if is_block:
                    self._flush()
                    self._open_blocks.append(child_path)
                stack.append((child, child_path, iter(enumerate(child)), is_block))
                self._text(child.text)
                continue
            self._text(child.tail)
        self._flush()
        return self.blocks

    def _text(self, text: str | None) -> None:
        if not text:
            return
        if not self._parts:
            if not text.strip(" \t\n\r\f\v\xa0\u3000"):
                return
            self._owner = self._open_blocks[-1]
        self._parts.append(text)

    def _flush(self) -> None:
        if self._parts:
            text = clean_text(_HTML_SPACE.sub(" ", "".join(self._parts)))
            self._parts.clear()
            # "- 3 -" from an office suite's page footer: a web page has no pages (a cell's text stays)
            if text and not (self._main and is_page_number(text)):
                self.blocks.append(Paragraph(text, source=Source(self._owner)))

    def _table(self, el: Any, path: tuple[int, ...]) -> list[Paragraph | Table] | None:
        """A data table as a Table (its caption before it), or None for a table that lays out
        the page (read as flow instead)."""
        if el.find(".//table") is not None:
            return None
        if el.xpath("count(.//td|.//th)") > self.cells_left:  # counted in C before a slow walk
            self._spend(self.cells_left + 1)
        caption: list[Paragraph | Table] = []
        rows_el: list[Any] = []
        for i, child in enumerate(el):
            tag = child.tag
            if tag == "tr":
                rows_el.append(child)
            elif tag in ("thead", "tbody", "tfoot"):
                rows_el.extend(tr for tr in child if tr.tag == "tr")
            elif tag == "caption" and not _skipped(child):
                caption = _Flow(self.cells_left).run(child, (*path, i), tables=False)
        rows: list[list[str | None]] = []
        sources: list[list[Source | None]] = []
        pending: list[int] = []  # per grid column: rows still covered by a rowspan from above
        chars = long_chars = 0
        spanning = False  # any rowspan still open: only then is a row's start covered
        for ri, tr in enumerate(rows_el):
            if spanning:
                covered = [n > 0 for n in pending]
                pending = [n - 1 if n > 0 else 0 for n in pending]
                spanning = any(pending)
            else:
                covered = [False] * len(pending)
            row: list[str | None] = []
            where: list[Source | None] = []
            for ci, td in enumerate(c for c in tr if c.tag in _CELLS):
                col = len(row)
                while col < len(covered) and covered[col]:
                    row.append(None)
                    where.append(None)
                    col += 1
                colspan, rowspan = _span(td.get("colspan"), _MAX_COLSPAN), _span(td.get("rowspan"), _MAX_ROWSPAN)
                text = "" if _skipped(td) else self._cell_text(td, (*path, ri, ci))
                chars += len(text)
                if len(text) > _LAYOUT_CELL_CHARS:
                    long_chars += len(text)
                row.append(text)
                row.extend([None] * (colspan - 1))
                where.append(Source((*path, ri, ci)))
                where.extend([None] * (colspan - 1))
                while len(pending) < col + colspan:
                    pending.append(0)
                    covered.append(False)
                if rowspan > 1:
                    spanning = True
                    for k in range(col, col + colspan):
                        pending[k] = max(pending[k], rowspan - 1)
            self._spend(max(len(row), len(pending)))
            rows.append(row)
            sources.append(where)
        if long_chars * 2 > chars:
            return None  # mostly running text: the page's layout (a note under a data table is not)
        width = max((len(r) for r in rows), default=0)
        if max((sum(1 for c in r if c is not None) for r in rows), default=0) < 2:
            return None  # one column: a framed paragraph, as in the PDF reader
        for row, where in zip(rows, sources, strict=True):  # rectangular, as Word's grid is
            row.extend([None] * (width - len(row)))
            where.extend([None] * (width - len(where)))
        return [*caption, Table(rows, source=Source(path), cell_sources=sources)]

    def _cell_text(self, td: Any, path: tuple[int, ...]) -> str:
        if not len(td):  # most cells: text alone, no need to walk
            text = td.text
            if not text:
                return ""
            if text.isprintable() and " " not in text:  # no space of any kind: clean_text would keep it as it is
                return text
            return clean_text(_HTML_SPACE.sub(" ", text))
        inner = _Flow(self.cells_left)
        lines = inner.run(td, path, tables=False)
        self.images += inner.images
        return "\n".join(b.text for b in lines if isinstance(b, Paragraph))

    def _spend(self, cells: int) -> None:
        self.cells_left -= cells
        if self.cells_left < 0:
            raise ReadError("file.too_large",
                            "网页中的表格异常庞大（单元格数量远超年度报告的表格），不是正常的报告页面，系统拒绝读取。"
                            "请提交报告的 .docx 或 PDF 文件。")


# ---- blocks → the report's article ----------------------------------------------------------

# a portal's lines around the article: breadcrumbs, metadata, tools, the site's footer
_CHROME = re.compile(
    r"^(当前位置|您的位置|您现在的位置|所在位置|位置[：:]|首页\s*[>›»/|]|网站首页)|[>›»]|"
    r"(索引号|发布机构|发布单位|发布日期|发布时间|成文日期|生成日期|公开日期|更新时间|来源|信息来源|文章来源|浏览次数|阅读次数|"
    r"点击数|点击率|访问次数|浏览量|字号|字体|分享到|作者|责任编辑|编辑|文号|发文字号|主题分类|体裁分类|公开方式|公开范围|"
    r"有效性|时效性|名称|标题|关键词|主办单位|承办单位|主办|承办|协办|技术支持|联系电话|联系我们|地址|邮编|网站标识码)\s*[：:]|"
    r"ICP备|公网安备|网站标识码|版权所有|Copyright|©|扫一扫|手机扫码|在手机上?打开|二维码|"
    r"^[【\[]?\s*(打印|打印本页|关闭|关闭窗口|收藏|返回顶部|返回|大|中|小|分享)\s*[】\]]?(\s*[【\[]?\s*(打印|打印本页|关闭|关闭窗口|收藏|返回顶部|返回|大|中|小|分享)\s*[】\]]?)*$",
    re.IGNORECASE)
# what only the site writes under an article (a report may end with its own 地址/联系电话 lines: those
# go only with site lines after them)
_SITE_TAIL = re.compile(
    r"ICP备|公网安备|网站标识码|版权所有|Copyright|©|(主办|承办|协办)(单位)?\s*[：:]|技术支持|分享到|扫一扫|手机扫码|"
    r"二维码|在手机上?打开|浏览次数|阅读次数|点击数|访问次数|责任编辑|(文章|信息)?来源\s*[：:]|"
    r"^[【\[]?\s*(打印|打印本页|关闭|关闭窗口|收藏|返回顶部|返回)\s*[】\]]?(\s*[【\[]?\s*(打印|打印本页|关闭|关闭窗口|收藏|返回顶部|返回)\s*[】\]]?)*$",
    re.IGNORECASE)
_CONTACT = re.compile(r"(地址|邮编|邮政编码|联系电话|电话|传真|电子邮箱|邮箱|联系我们)\s*[：:]")
_DATE_LINE = re.compile(r"^\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(\s*\d{1,2}:\d{2}(:\d{2})?)?$")
_CHROME_MAX = 120  # a report's own paragraph is never taken for chrome: only short lines are
_TITLE_MAX = 80
_BODY_NAME = re.compile(r"(人民政府|政府办公室|办公室|委员会|局|镇|乡|街道|街道办事处|办事处|中心|院|所|委|办|厅|署|站|队|会)$")
_SENTENCE = re.compile(r"^(根据|按照|依据|依照|本报告|现将|为)|[。：:；;，,]$")  # the preamble, not a title
_YEAR_FIRST = re.compile(r"^\s*(?:(?:19|20)\d{2}|[二][〇○零][一二三四五六七八九〇○零]{2})\s*年")
_TITLE_LOOKBACK = 40  # blocks before the article searched for its title


def _chrome(text: str) -> bool:
    return len(text) <= _CHROME_MAX and bool(_CHROME.search(text) or _DATE_LINE.match(text))


def _title_like(b: Paragraph | Table) -> bool:
    return (isinstance(b, Paragraph) and len(b.text) <= _TITLE_MAX and "报告" in b.text and "年" in b.text
            and not _SENTENCE.search(b.text) and not _chrome(b.text))


def _name_line(b: Paragraph | Table, title: Paragraph | Table) -> bool:
    """The body's name on its own line above a title that starts with the year ("2024年政府信息公开
    工作年度报告"); a title naming its body has no such line (the site's name above it is not one)."""
    return (isinstance(b, Paragraph) and isinstance(title, Paragraph) and bool(_YEAR_FIRST.match(title.text))
            and len(b.text) <= 30 and not _chrome(b.text) and bool(_BODY_NAME.search(b.text)))


def _heading_key(b: Paragraph | Table) -> str | None:
    if isinstance(b, Paragraph) and len(b.text) <= 200:
        m = match_heading(b.text)
        return m.section.key if m else None
    return None


def article(blocks: list[Paragraph | Table]) -> list[Paragraph | Table]:
    """The report's own blocks out of a whole page's (see the module's docstring)."""
    heads = [(i, k, b.source.path if b.source else ()) for i, b in enumerate(blocks) if (k := _heading_key(b))][:500]
    keys = {k for _, k, _ in heads}
    if len(keys) >= 2:
        holding: dict[tuple[int, ...], set[str]] = {}
        for _, k, p in heads:
            for n in range(len(p) + 1):
                holding.setdefault(p[:n], set()).add(k)
        root = max((p for p, ks in holding.items() if len(ks) == len(keys)), key=len)
        inside = [i for i, b in enumerate(blocks) if b.source and b.source.path[:len(root)] == root]
        first, last = inside[0], inside[-1]
        first_heading = next(i for i, _, _ in heads if i >= first)
    else:  # no report structure to hold on to: the whole page
        first, last = 0, len(blocks) - 1
        first_heading = heads[0][0] if heads else len(blocks)
    title = next((i for i in range(first, min(first_heading, last + 1)) if _title_like(blocks[i])), None)
    if title is None:
        title = next((i for i in range(first - 1, max(first - _TITLE_LOOKBACK, 0) - 1, -1) if _title_like(blocks[i])),
                     None)
    start = first if title is None else title
    if title is not None and title > 0 and _name_line(blocks[title - 1], blocks[title]):
        start = title - 1
    # before the first heading only the title and the preamble are the report's: no table, no chrome
    lead_end = first_heading if heads else start
    lead = [b for b in blocks[start:lead_end] if isinstance(b, Paragraph) and not _chrome(b.text)]
    rest = blocks[lead_end:last + 1]
    if not heads:  # no structure to go by: everything but the site's lines
        rest = [b for b in rest if not (isinstance(b, Paragraph) and _chrome(b.text))]
    return lead + rest[:_site_tail(rest)]


def _site_tail(blocks: list[Paragraph | Table]) -> int:
    """Where the site's own lines under the report begin (len(blocks): none). A bare date there
    is the report's, under its signature."""
    cut = len(blocks)
    for j in range(len(blocks) - 1, -1, -1):
        b = blocks[j]
        if not isinstance(b, Paragraph) or len(b.text) > _CHROME_MAX:
            break
        if _SITE_TAIL.search(b.text):
            cut = j
        elif not _CONTACT.search(b.text):
            break
    return cut


# ---- the reader ------------------------------------------------------------------------------


def page_body(data: bytes) -> tuple[Any, str]:
    """The `<body>` element of a page or a single-file page (and "html" or "mht"), as the
    blocks' `Source.path`s count from: a writer putting a finding back finds its element here."""
    kind, declared = "html", None
    if sniff(data[:4096]) == "mht":
        data, declared = _mime_page(data)
        kind = "mht"
    root = _parse(decode_page(data, declared))
    body = root.find("body")
    return (root if body is None else body), kind


def read_html(path: Path, limits: Limits) -> Document:
    body, kind = page_body(path.read_bytes())
    flow = _Flow(limits.max_table_cells)
    blocks = flow.run(body, ())
    if not blocks and not flow.images:
        raise ReadError("file.no_text", "网页中没有任何文字内容。请打开报告正文页面后重新保存，或直接提交报告的 .docx 或 PDF 文件。")
    if not any(isinstance(b, Table) for b in blocks) and not any(_heading_key(b) for b in blocks):
        pictures = f"，只有 {flow.images} 张图片" if flow.images else ""
        linked = (f"页面上链接的附件（{'、'.join(dict.fromkeys(flow.attachments[:3]))}）可能才是报告本身，请下载后提交该文件。"
                  if flow.attachments else "")
        raise ReadError("file.no_text",
                        f"网页中没有年度报告的内容（找不到“一、总体情况”等部分标题和统计表格{pictures}）。保存的可能是网站的栏目页、"
                        f"登录页、错误页面，或报告是以图片、附件形式发布的。{linked}"
                        "请打开报告正文页面后另存为网页，或直接提交报告的 .docx 或 PDF 文件。",
                        images=flow.images, attachments=flow.attachments[:3])
    return Document(article(blocks), kind)
