"""Word .docx through python-docx: body paragraphs and tables in document order.

Merged cells are expanded here and only here: a cell spanning n grid columns gives its text
once and None for the n−1 positions it covers; a vertically merged continuation is None.
That is also what pdfplumber gives for a PDF table, so the normaliser sees one shape.
Rows are iterated once (`table.cell(r, c)` is quadratic).

A table drawn as a box around text (`boxes.is_box`), or as a frame around other tables, is not
a table: its cells are read like the body, paragraph by paragraph, tables inside them as tables.
Pictures are counted (`Document.images`); a body with pictures and no text is a scan pasted
into Word, which nothing here can read.
"""

from __future__ import annotations

import zipfile
from itertools import islice
from pathlib import Path

from nianbao.document import Artifact, Document, Paragraph, Source, Table, clean_text
from nianbao.readers import Limits, ReadError, num
from nianbao.readers.boxes import is_box
from nianbao.template import flat

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
A_BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
V_IMAGEDATA = "{urn:schemas-microsoft-com:vml}imagedata"
TXBX = f"{W}txbxContent"  # a text box's body, inside a shape (DrawingML, or VML in the fallback)
_FRAME_MAX_WIDTH = 3  # a frame around tables is a column or two; the report's own tables are 4–15 wide


_RESAVE = "请用 Word 或 WPS 打开报告，“另存为”.docx 后重新提交。"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def check_zip(path: Path, limits: Limits) -> None:
    """Refuse what is not a sound .docx before python-docx inflates anything: the parts' declared
    sizes (zipfile never inflates past them: a part that lies fails its CRC), their number, and
    the relationships of every *.rels part, counted streaming and no further than the limit
    (python-docx takes minutes over tens of thousands of them)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_zip_entries:
                raise ReadError("file.too_complex",
                                f"文件内部的部件数量异常（{len(infos)} 个，上限 {limits.max_zip_entries} 个，正常的 Word 文档只有"
                                f"几十个），疑似损坏或恶意构造的文件，系统拒绝读取。{_RESAVE}",
                                entries=len(infos), limit=limits.max_zip_entries)
            names = {i.filename for i in infos}
            if "word/document.xml" not in names:
                raise ReadError("file.unreadable",
                                "文件扩展名是“.docx”，但里面没有 Word 正文（可能是改了扩展名的压缩包或其他文件）。"
                                "请用 Word 或 WPS 打开报告后“另存为”.docx 再提交。")
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if total > limits.max_unzipped_bytes or total / packed > limits.max_zip_ratio and total > 20 * 1024 * 1024:
                raise ReadError("file.unreadable",
                                f"文件解压后大小异常（{total / 1048576:.0f} MB），疑似损坏或恶意文件，系统拒绝读取。"
                                "请重新从 Word 另存为 .docx 后提交。", unzipped=total, limit=limits.max_unzipped_bytes)
            big = max(infos, key=lambda i: i.file_size)
            if big.file_size > limits.max_part_bytes:
                what = "Word 正文（word/document.xml）" if big.filename == "word/document.xml" else f"其中的“{big.filename}”"
                raise ReadError("file.too_complex",
                                f"文件解压后{what}大小异常（{num(big.file_size / 1048576)} MB，上限 "
                                f"{num(limits.max_part_bytes / 1048576)} MB；正常的年度报告只有几百 KB），疑似损坏或恶意构造的文件，"
                                f"系统拒绝读取。{_RESAVE}", part=big.filename, part_bytes=big.file_size,
                                limit=limits.max_part_bytes)
            if any(i.flag_bits & 0x1 for i in infos):
                raise ReadError("file.unreadable", "文件已加密，系统无法读取。请取消文档密码后重新提交。")
            for info in infos:
                if info.filename.endswith(".rels"):
                    _check_relationships(zf, info, limits)
    except zipfile.BadZipFile as exc:
        raise ReadError("file.unreadable", "文件不完整或已损坏（无法解压 .docx）。请重新保存后提交完整文件。") from exc


def _check_relationships(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> None:
    from lxml import etree

    n = 0
    try:
        with zf.open(info) as fh:
            for _, el in etree.iterparse(fh, events=("end",), tag="{*}Relationship", resolve_entities=False,
                                         no_network=True, huge_tree=False):
                n += 1
                if n > limits.max_relationships:
                    raise ReadError("file.too_complex",
                                    f"文件内部的链接关系数量异常（“{info.filename}”中超过 {limits.max_relationships} 条，"
                                    f"正常的 Word 文档不到 200 条），疑似损坏或恶意构造的文件，系统拒绝读取。{_RESAVE}",
                                    part=info.filename, relationships=n, limit=limits.max_relationships)
                el.clear()
    except (etree.XMLSyntaxError, zipfile.BadZipFile, OSError, EOFError):
        return  # a broken part: python-docx says so below
    except RuntimeError:  # an encrypted entry zipfile will not open
        return


def _check_cells(body, limits: Limits) -> None:
    """The table cells of the body, counted before any is read (a report's three tables hold a few hundred)."""
    n = sum(1 for _ in islice(body.iter(f"{W}tc"), limits.max_table_cells + 1))
    if n > limits.max_table_cells:
        raise ReadError("file.too_complex",
                        f"文档中的表格单元格数量异常（超过 {limits.max_table_cells} 个，年度报告的三张表格只有几百个），"
                        f"疑似损坏或恶意构造的文件，系统拒绝读取。{_RESAVE}", cells=n, limit=limits.max_table_cells)


def read_docx(path: Path, limits: Limits) -> Document:
    check_zip(path, limits)
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except MemoryError:  # the isolated read's limit: file.too_complex
        raise
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ReadError("file.unreadable", "文件不完整或已损坏，Word 正文无法读取。请重新保存后提交完整文件。") from exc
    except Exception as exc:  # lxml syntax errors and friends: a broken package
        raise ReadError("file.unreadable", "文件内容已损坏（Word 正文的结构无法解析）。请用 Word 打开并另存后重新提交。") from exc

    artifacts: list[Artifact] = []
    blocks: list[Paragraph | Table] = []
    body = document.element.body
    _check_cells(body, limits)
    _walk(body, blocks, artifacts, ())
    images = _pictures(body)
    if images and limits.ocr and _pages_as_pictures(blocks):
        from nianbao.readers import scan

        return scan.read_docx_pictures(_picture_blobs(document, body), limits)
    if not any(_has_text(b) for b in blocks):
        if images:
            raise ReadError("file.no_text",
                            f"文档内容是图片（共{images}张，疑似将扫描件或截图粘贴进了 Word），系统无法读取图片中的文字和数字。"
                            "请提交 Word 原文件（文字可编辑、表格按模板填写数字的 .docx），不要粘贴扫描件或截图。",
                            images=images)
        raise ReadError("file.no_text", "文档中没有任何文字内容（空白文档）。请提交包含报告正文和表格的年度报告文件。")
    try:
        comments_part = any("comments" in str(rel.reltype) for rel in document.part.rels.values())
    except Exception:  # noqa: BLE001 - a rel we cannot inspect is not a comment
        comments_part = False
    if comments_part and not any(a.kind == "comment" for a in artifacts):
        artifacts.append(Artifact("comment", "批注"))
    return Document(blocks, "docx", artifacts, images=images)


def _has_text(b: Paragraph | Table) -> bool:
    if isinstance(b, Paragraph):
        return bool(flat(b.text))
    return any(c is not None and flat(c) for row in b.rows for c in row)


def _pictures(body) -> int:
    """Pictures in the body: DrawingML (inline or floating), legacy VML (w:pict), an embedded object's
    picture (w:object, counted once). A text box or a shape is not a picture; the fallback copy Word
    keeps for old readers (mc:Fallback) is not a second one."""
    n = 0
    for el in body.iter(f"{W}drawing", f"{W}pict", f"{W}object"):
        if any(a.tag in (MC_FALLBACK, f"{W}object") for a in el.iterancestors()):
            continue
        if el.tag == f"{W}object" or (_blip(el) if el.tag == f"{W}drawing" else _imagedata(el)):
            n += 1
    return n


def _pages_as_pictures(blocks: list[Paragraph | Table]) -> bool:
    """A scan pasted into Word: no table with text, and hardly any text (a typed title at most)."""
    if any(isinstance(b, Table) and _has_text(b) for b in blocks):
        return False
    return sum(len(b.text) for b in blocks if isinstance(b, Paragraph)) < 200


_R_EMBED = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _picture_blobs(document, body) -> list[bytes]:
    """The pictures' bytes in the order the body shows them: a page each (Word keeps one part for
    a picture pasted twice; it is shown, so read, twice). Word's fallback copy is not a page."""
    rels = document.part.related_parts
    out: list[bytes] = []
    for el in body.iter(A_BLIP, V_IMAGEDATA):
        if any(a.tag == MC_FALLBACK for a in el.iterancestors()):
            continue
        rid = el.get(_R_EMBED) or el.get(_R_ID)
        if rid and rid in rels:
            out.append(rels[rid].blob)
    return out


def _blip(el) -> bool:
    return next(el.iter(A_BLIP), None) is not None


def _imagedata(el) -> bool:
    return next(el.iter(V_IMAGEDATA), None) is not None


def _walk(container, blocks: list[Paragraph | Table], artifacts: list[Artifact], path: tuple[int, ...]) -> None:
    for i, child in enumerate(container.iterchildren()):
        tag = child.tag
        if tag == f"{W}p":
            blocks.append(Paragraph(clean_text(_text(child, artifacts, boxes=False)), source=Source((*path, i))))
            for box in _text_boxes(child):  # a text box drawn around text: its paragraphs after the anchor's
                _walk(box, blocks, artifacts, (*path, i, *_steps(child, box)))
        elif tag == f"{W}tbl":
            found: list[Artifact] = []
            table = _table(child, found, Source((*path, i)))
            if is_box(table.rows) or _frames_tables(child, table):
                _walk_cells(child, blocks, artifacts, (*path, i))
            else:
                artifacts.extend(found)
                blocks.append(table)
        elif tag == f"{W}sdt":  # content control around paragraphs or tables
            content = child.find(f"{W}sdtContent")
            if content is not None:
                _walk(content, blocks, artifacts, (*path, i))


def _frames_tables(tbl, table: Table) -> bool:
    """A narrow table with tables inside its cells: a frame drawn around a part and its table."""
    width = max((sum(1 for c in r if c is not None) for r in table.rows), default=0)
    return width <= _FRAME_MAX_WIDTH and next(tbl.iterdescendants(f"{W}tbl"), None) is not None


def _walk_cells(tbl, blocks: list[Paragraph | Table], artifacts: list[Artifact], path: tuple[int, ...]) -> None:
    """A box's cells, row by row, read like the body (a cell under a content control looked through)."""
    for ri, tr in enumerate(tbl.iterchildren()):
        if tr.tag != f"{W}tr":
            continue
        for ci, tc in enumerate(tr.iterchildren()):
            if tc.tag == f"{W}tc":
                _walk(tc, blocks, artifacts, (*path, ri, ci))
            elif tc.tag == f"{W}sdt":
                content = tc.find(f"{W}sdtContent")
                for k, inner in enumerate(content.iterchildren() if content is not None else ()):
                    if inner.tag == f"{W}tc":
                        _walk(inner, blocks, artifacts, (*path, ri, ci, k))


def _text_boxes(p) -> list:
    """The text boxes anchored in a paragraph (not their copies in mc:Fallback, not boxes in boxes)."""
    return [b for b in p.iter(TXBX) if not any(a.tag in (MC_FALLBACK, TXBX) for a in b.iterancestors())]


def _steps(ancestor, el) -> tuple[int, ...]:
    """The child indexes from ancestor down to el."""
    steps: list[int] = []
    while el is not ancestor:
        parent = el.getparent()
        steps.append(parent.index(el))
        el = parent
    return tuple(reversed(steps))


def _text(el, artifacts: list[Artifact] | None, boxes: bool = True) -> str:
    """Visible text of a paragraph or cell: inserted text counts, deleted text does not; the copy
    of a shape Word keeps for old readers (mc:Fallback) does not either, and a text box's text
    only when `boxes` (a body paragraph's text boxes are read as paragraphs of their own)."""
    parts: list[str] = []
    hidden = {n for h in el.iter(MC_FALLBACK, *(() if boxes else (TXBX,))) for n in h.iter()}
    for node in el.iter():
        if hidden and node in hidden:
            continue
        tag = node.tag
        if tag == f"{W}t":
            parts.append(node.text or "")
        elif tag in (f"{W}tab",):
            parts.append("\t")
        elif tag in (f"{W}br", f"{W}cr"):
            parts.append("\n")
        elif tag == f"{W}p" and node is not el:
            parts.append("\n")
        elif artifacts is not None and tag in (f"{W}ins", f"{W}del", f"{W}moveFrom", f"{W}moveTo"):
            changed = "".join(t.text or "" for t in node.iter(f"{W}t", f"{W}delText"))
            artifacts.append(Artifact("tracked_change", changed[:40]))
        elif artifacts is not None and tag == f"{W}commentReference":
            artifacts.append(Artifact("comment", "批注"))
    return "".join(parts)


def _table(tbl, artifacts: list[Artifact], source: Source) -> Table:
    rows: list[list[str | None]] = []
    sources: list[list[Source | None]] = []
    for ri, tr in enumerate(tbl.iterchildren(f"{W}tr")):
        row: list[str | None] = []
        where: list[Source | None] = []
        trpr = tr.find(f"{W}trPr")
        if trpr is not None:
            before = trpr.find(f"{W}gridBefore")
            if before is not None:
                row.extend([None] * int(before.get(f"{W}val", "0")))
                where.extend([None] * int(before.get(f"{W}val", "0")))
        for ci, tc in enumerate(_cells(tr)):
            span = 1
            tcpr = tc.find(f"{W}tcPr")
            continued = False
            if tcpr is not None:
                gs = tcpr.find(f"{W}gridSpan")
                if gs is not None:
                    span = max(1, int(gs.get(f"{W}val", "1")))
                vm = tcpr.find(f"{W}vMerge")
                if vm is not None and vm.get(f"{W}val", "continue") == "continue":
                    continued = True
            text = "\n".join(
                _text(p, artifacts) for p in tc.iterchildren(f"{W}p", f"{W}tbl")
            ).strip("\n")
            row.append(None if continued else text)
            row.extend([None] * (span - 1))
            where.append(None if continued else source.cell(ri, ci))
            where.extend([None] * (span - 1))
        rows.append(row)
        sources.append(where)
    return Table(rows, source=source, cell_sources=sources)


def _cells(tr):
    for child in tr.iterchildren():
        if child.tag == f"{W}tc":
            yield child
        elif child.tag == f"{W}sdt":
            content = child.find(f"{W}sdtContent")
            if content is not None:
                yield from (c for c in content.iterchildren(f"{W}tc"))
