"""Word .docx through python-docx: body paragraphs and tables in document order.

Merged cells are expanded here and only here: a cell spanning n grid columns gives its text
once and None for the n−1 positions it covers; a vertically merged continuation is None.
That is also what pdfplumber gives for a PDF table, so the normaliser sees one shape.
Rows are iterated once (`table.cell(r, c)` is quadratic).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from nianbao.document import Artifact, Document, Paragraph, Source, Table, clean_text
from nianbao.readers import Limits, ReadError

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def check_zip(path: Path, limits: Limits) -> None:
    """Refuse what is not a sound .docx before python-docx inflates anything."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
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
            if any(i.flag_bits & 0x1 for i in infos):
                raise ReadError("file.unreadable", "文件已加密，系统无法读取。请取消文档密码后重新提交。")
    except zipfile.BadZipFile as exc:
        raise ReadError("file.unreadable", "文件不完整或已损坏（无法解压 .docx）。请重新保存后提交完整文件。") from exc


def read_docx(path: Path, limits: Limits) -> Document:
    check_zip(path, limits)
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ReadError("file.unreadable", "文件不完整或已损坏，Word 正文无法读取。请重新保存后提交完整文件。") from exc
    except Exception as exc:  # lxml syntax errors and friends: a broken package
        raise ReadError("file.unreadable", "文件内容已损坏（Word 正文的结构无法解析）。请用 Word 打开并另存后重新提交。") from exc

    artifacts: list[Artifact] = []
    blocks: list[Paragraph | Table] = []
    body = document.element.body
    _walk(body, blocks, artifacts, ())
    try:
        comments_part = any("comments" in str(rel.reltype) for rel in document.part.rels.values())
    except Exception:  # noqa: BLE001 - a rel we cannot inspect is not a comment
        comments_part = False
    if comments_part and not any(a.kind == "comment" for a in artifacts):
        artifacts.append(Artifact("comment", "批注"))
    return Document(blocks, "docx", artifacts)


def _walk(container, blocks: list[Paragraph | Table], artifacts: list[Artifact], path: tuple[int, ...]) -> None:
    for i, child in enumerate(container.iterchildren()):
        tag = child.tag
        if tag == f"{W}p":
            blocks.append(Paragraph(clean_text(_text(child, artifacts)), source=Source((*path, i))))
        elif tag == f"{W}tbl":
            blocks.append(_table(child, artifacts, Source((*path, i))))
        elif tag == f"{W}sdt":  # content control around paragraphs or tables
            content = child.find(f"{W}sdtContent")
            if content is not None:
                _walk(content, blocks, artifacts, (*path, i))


def _text(el, artifacts: list[Artifact] | None) -> str:
    """Visible text of a paragraph or cell: inserted text counts, deleted text does not."""
    parts: list[str] = []
    for node in el.iter():
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
