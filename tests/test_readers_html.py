"""Web pages — a report page saved from a county portal, Word's "save as web page" (also kept as
.doc), single-file .mht/.mhtml — read to the same JSON as the report's .docx; broken and hostile
pages are findings, never tracebacks."""

from __future__ import annotations

import json
import random
import time

import pytest

from nianbao.check import check_file, parse_file
from nianbao.document import Paragraph
from nianbao.generate import (
    PORTAL_LAYOUTS,
    ReportSpec,
    balanced_table3,
    expected_report,
    html_page,
    write_docx,
    write_html,
    write_mht,
)
from nianbao.libreoffice import convert, soffice
from nianbao.readers import Limits, ReadError, read, sniff
from nianbao.readers.html import page_body
from nianbao.template import flat
from tests.test_cli_records import nianbao, office  # noqa: F401 - office: the fixture, for the import test
from tests.test_formats import (
    _specs,  # the same five reports: zeros, a township, big numbers, 2019, one-line title
)


def _pages(spec: ReportSpec, out) -> dict[str, object]:
    """Every web shape of one report: {variant: path}."""
    files = {}
    for layout in PORTAL_LAYOUTS:
        for enc in ("utf-8", "gb18030"):
            files[f"portal-{layout}-{enc}"] = write_html(spec, out / f"portal-{layout}-{enc}.html", layout=layout,
                                                         encoding=enc)
    files["portal-gbk-undeclared.htm"] = write_html(spec, out / "undeclared.htm", encoding="gb18030", declare=False)
    for enc in ("utf-8", "gb18030"):
        files[f"word-{enc}.htm"] = write_html(spec, out / f"word-{enc}.htm", shape="word", encoding=enc)
    files["word-html-as.doc"] = write_html(spec, out / "word-html.doc", shape="word", encoding="gb18030")
    files["mht-qp-gb2312.mht"] = write_mht(spec, out / "qp.mht")
    files["mht-base64-utf8.mhtml"] = write_mht(spec, out / "b64.mhtml", encoding="utf-8", transfer="base64")
    files["mht-as.doc"] = write_mht(spec, out / "mht.doc")
    files["portal-mht"] = write_mht(spec, out / "portal.mht", shape="portal")
    return files


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    made = {}
    for name, spec in _specs().items():
        d = out / name
        d.mkdir()
        made[name] = (spec, write_docx(spec, d / "report.docx"), _pages(spec, d))
    return made


@pytest.mark.parametrize("name", list(_specs()))
def test_every_web_shape_reads_to_the_docx_json(name, pages):
    spec, docx, files = pages[name]
    want = parse_file(docx).report.to_json()
    wrong = {}
    for variant, path in files.items():
        got = parse_file(path).report.to_json()
        if got != want:
            wrong[variant] = {k: got[k] for k in got if got[k] != want[k]}
    assert not wrong, json.dumps(wrong, ensure_ascii=False)[:2000]
    expected = expected_report(spec).to_json()
    expected.pop("period")
    want.pop("period")
    assert want == expected


@pytest.mark.parametrize("name", ["township", "old"])
def test_tables_have_the_docx_readers_shape(name, pages):
    """Merged cells give their text once and None where they cover, a rowspan's rows None: the
    very grids the docx reader gives, for every web shape."""
    _, docx, files = pages[name]
    want = [t.rows for t in read(docx).tables]
    assert len(want) == 3
    for variant, path in files.items():
        assert [t.rows for t in read(path).tables] == want, variant


def test_the_document_starts_with_the_title_and_holds_no_site_chrome(pages):
    spec, _, files = pages["township"]
    for variant, path in files.items():
        doc = read(path)
        first = doc.blocks[0]
        assert isinstance(first, Paragraph) and first.text in (spec.body, spec.standard_title()), variant
        text = "".join(b.text for b in doc.paragraphs) + "".join(c or "" for t in doc.tables for r in t.rows for c in r)
        for chrome in ("首页", "当前位置", "索引号", "浏览次数", "分享到", "打印", "ICP备", "主办单位", "相关链接", "搜索"):
            assert chrome not in text, (variant, chrome)
        # the portal's script writes report-like words: never text
        assert "99999" not in text and "document" not in text and "font:" not in text, variant
        assert doc.kind == ("mht" if "mht" in variant else "html")


def _element(body, path):
    el = body
    for i in path:
        el = list(el)[i]
    return el


def _strings(el) -> str:
    """The element's own text, with its descendants' (script and style aside)."""
    parts = []
    for node in el.iter():
        if node.tag in ("script", "style"):
            continue
        parts.append(node.text or "")
        if node is not el:
            parts.append(node.tail or "")
    return flat("".join(parts))


@pytest.mark.parametrize("variant", ["portal-tables-gb18030", "portal-br-utf-8", "portal-meta-utf-8", "word-gb18030.htm",
                                     "mht-qp-gb2312.mht"])
def test_blocks_and_cells_point_at_their_elements(pages, variant):
    """Source.path: the child indexes from <body> (as lxml parses the page) to the element holding
    the text; a cell adds its row among the table's rows and its index among the row's cells."""
    _, _, files = pages["township"]
    path = files[variant]
    doc = read(path)
    body, _ = page_body(path.read_bytes())
    for b in doc.paragraphs:
        el = _element(body, b.source.path)
        assert flat(b.text) in _strings(el), (b.text, el.tag)
    checked = 0
    for t in doc.tables:
        table = _element(body, t.source.path)
        assert table.tag == "table"
        rows = [tr for tr in table.iter("tr")]
        for r, row in enumerate(t.rows):
            for c, text in enumerate(row):
                src = t.cell_source(r, c)
                if text is None:
                    assert src is None
                    continue
                row_i, cell_i = src.path[-2:]
                td = [x for x in rows[row_i] if x.tag in ("td", "th")][cell_i]
                assert _strings(td) == flat(text)
                checked += 1
    assert checked > 150


def test_a_gbk_portal_page_declared_wrongly_or_not_at_all(tmp_path):
    spec = ReportSpec(body="巨鹿县张王疃乡人民政府", table3=balanced_table3(random.Random(2), 8))
    want = parse_file(write_docx(spec, tmp_path / "r.docx")).report.to_json()
    gbk = html_page(spec, charset="gb2312").encode("gbk")  # 疃 is GBK's, not GB2312's: pages are GBK whatever they say
    cases = {
        "gbk.html": gbk,
        "no-meta.html": html_page(spec, charset=None).encode("gb18030"),
        "lying-utf8-meta.html": html_page(spec, charset="utf-8").encode("gb18030"),
        "utf8-under-gb2312-meta.html": html_page(spec, charset="gb2312").encode("utf-8"),  # a CMS template's old meta
        "xml-declaration.html": b'<?xml version="1.0" encoding="gbk"?>\n' + gbk,
        "utf16-bom.htm": html_page(spec, shape="word", charset="unicode").encode("utf-16"),  # Word's "Unicode" web page
        "utf8-bom.html": b"\xef\xbb\xbf" + html_page(spec, charset=None).encode("utf-8"),
    }
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        assert parse_file(p).report.to_json() == want, name


def test_a_browsers_mhtml(tmp_path):
    """Chrome's "save as single file": headers before MIME-Version, a folded subject, the page
    quoted-printable with no charset but its meta's."""
    import quopri

    spec = ReportSpec(table3=balanced_table3(random.Random(6), 7))
    want = parse_file(write_docx(spec, tmp_path / "r.docx")).report.to_json()
    page = html_page(spec, layout="meta", charset="utf-8").encode()
    data = (b"From: <Saved by Blink>\r\nSnapshot-Content-Location: https://www.julu.gov.cn/art/2025/1/20/1.html\r\n"
            b"Subject: =?utf-8?Q?=E5=B7=A8=E9=B9=BF?=\r\n =?utf-8?Q?=E5=B9=B4=E6=8A=A5?=\r\nDate: Mon, 20 Jan 2025 09:00:00 +0800\r\n"
            b'MIME-Version: 1.0\r\nContent-Type: multipart/related;\r\n\ttype="text/html";\r\n\tboundary="----Boundary--x----"\r\n'
            b"\r\n\r\n------Boundary--x----\r\nContent-Type: text/html\r\nContent-ID: <frame-1@mhtml.blink>\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\nContent-Location: https://www.julu.gov.cn/art/2025/1/20/1.html\r\n\r\n"
            + quopri.encodestring(page) + b"\r\n------Boundary--x------\r\n")
    p = tmp_path / "年报.mhtml"
    p.write_bytes(data)
    assert sniff(data[:4096]) == "mht"
    assert parse_file(p).report.to_json() == want


def test_libreoffice_web_page_of_the_docx(tmp_path):
    """An HTML export nianbao did not write itself: LibreOffice's (page footer "- 1 -" inline)."""
    if soffice() is None:
        pytest.skip("LibreOffice is not installed")
    spec = ReportSpec(table3=balanced_table3(random.Random(4), 12))
    docx = write_docx(spec, tmp_path / "r.docx")
    (page,) = convert([docx], "html:HTML (StarWriter)", tmp_path / "lo")
    assert parse_file(page).report.to_json() == parse_file(docx).report.to_json()


def test_web_pages_under_doc_and_txt_names_need_no_libreoffice(tmp_path, monkeypatch):
    spec = ReportSpec()
    want = parse_file(write_docx(spec, tmp_path / "r.docx")).report.to_json()
    word = write_html(spec, tmp_path / "word.doc", shape="word", encoding="gb18030")
    mht = write_mht(spec, tmp_path / "mht.doc")
    txt = write_html(spec, tmp_path / "page.txt")
    assert (sniff(word.read_bytes()[:4096]), sniff(mht.read_bytes()[:4096])) == ("html", "mht")
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice: these never reach LibreOffice
    for p in (word, mht, txt):
        assert parse_file(p).report.to_json() == want, p.name
    rtf = tmp_path / "rtf.doc"  # an RTF under a .doc name still goes to the LibreOffice reader
    rtf.write_bytes(b"{\\rtf1\\ansi 2024}")
    result = check_file(rtf, year=2024)
    assert [f.rule for f in result.findings] == ["file.unreadable"] and "LibreOffice" in result.findings[0].message


def test_a_page_mislabelled_as_docx_is_named_in_chinese(tmp_path):
    p = tmp_path / "r.docx"
    p.write_bytes(html_page(ReportSpec()).encode())
    result = check_file(p, year=2024)
    assert [f.rule for f in result.findings] == ["file.unreadable"]
    assert "网页" in result.findings[0].message and "Traceback" not in result.findings[0].message


def _check(tmp_path, name: str, data: bytes, **kwargs):
    p = tmp_path / name
    p.write_bytes(data)
    return check_file(p, year=2024, **kwargs)


def _only(result, rule: str, *words: str) -> None:
    assert [f.rule for f in result.findings] == [rule], [(f.rule, f.message) for f in result.findings]
    for w in words:
        assert w in result.findings[0].message


def test_broken_and_empty_pages_are_findings(tmp_path):
    spec = ReportSpec()
    mht = write_mht(spec, tmp_path / "full.mht").read_bytes()
    page_end = mht.index(b"Content-Location: file:///C:/D0A1B2C3/report.files/image001.png")
    _only(_check(tmp_path, "empty.html", b"<html></html>"), "file.no_text", "没有任何文字")
    _only(_check(tmp_path, "blank.htm", b" \r\n \t"), "file.no_text", "没有任何文字")
    _only(_check(tmp_path, "script.html", "<html><head><script>var t='一、总体情况';</script></head><body>"
                 "<style>p{}</style><script>document.write(t)</script></body></html>".encode()), "file.no_text")
    _only(_check(tmp_path, "list.html", "<html><body><div>首页 政务公开</div><ul><li><a href='/1.html'>巨鹿县召开会议"
                 "</a></li><li>通知公告</li></ul><p>版权所有 巨鹿县人民政府</p></body></html>".encode()),
          "file.no_text", "栏目页")
    _only(_check(tmp_path, "pictures.html", "<html><body><h1>巨鹿县官亭镇人民政府2024年政府信息公开工作年度报告</h1>"
                 "<p><img src='1.jpg'></p><p><img src='2.jpg'></p></body></html>".encode()), "file.no_text", "2 张图片")
    _only(_check(tmp_path, "attachment.html", "<html><body><h1>巨鹿县官亭镇人民政府2024年政府信息公开工作年度报告</h1>"
                 "<p>附件：<a href='/upload/2025/官亭镇年报.pdf'>官亭镇年报</a></p></body></html>".encode()),
          "file.no_text", "官亭镇年报.pdf")
    _only(_check(tmp_path, "cut-in-page.mht", mht[:page_end // 2]), "file.unreadable", "截断")
    _only(_check(tmp_path, "cut-headers.mht", mht[:200]), "file.unreadable", ".mht")
    # cut after the page, in a picture: the report itself is whole
    assert _check(tmp_path, "cut-after-page.mht", mht[:page_end + 200]).verdict == "accepted"
    bad = b"<html><head><meta charset='utf-8'></head><body><p>" + bytes(range(0x80, 0x100)) * 50 + b"</p></body></html>"
    _only(_check(tmp_path, "invalid.html", bad), "file.unreadable", "编码")
    # a stray bad byte, a page cut inside a character: not a broken file
    stray = html_page(spec).encode("utf-8").replace("根据".encode(), "根据".encode() + b"\xff", 1) + b"\xe5\x8d"
    assert _check(tmp_path, "stray.html", stray).verdict == "accepted"


def test_hostile_nesting_and_tables_stay_findings(tmp_path):
    page = html_page(ReportSpec()).encode()
    deep = b"<html><body>" + b"<div><span>x" * 50_000 + page + b"</span></div>" * 50_000 + b"</body></html>"
    _only(_check(tmp_path, "deep.html", deep), "file.unreadable", "嵌套")
    _only(_check(tmp_path, "deep.doc", b"<html><body>" + b"<b>" * 50_000 + b"</b>" * 50_000 + b"</body></html>"),
          "file.unreadable", "嵌套")
    spanned = b"<html><body><table>" + b"<tr><td colspan='999999'>a</td><td rowspan='99999'>b</td></tr>" * 3000
    _only(_check(tmp_path, "spans.html", spanned + b"</table></body></html>"), "file.too_large", "表格异常庞大")
    p = tmp_path / "many-cells.html"
    p.write_bytes(b"<html><body><table>" + (b"<tr>" + b"<td>1</td>" * 10 + b"</tr>") * 6000 + b"</table></body></html>")
    with pytest.raises(ReadError) as refused:
        read(p, Limits(max_table_cells=50_000))
    assert refused.value.rule == "file.too_large"


def _table_page(rows: int) -> bytes:
    head = "<html><body><p>一、总体情况</p><p>二、主动公开政府信息情况</p><table>".encode()
    return head + (b"<tr>" + b"<td><p>1</p></td>" * 9 + b"<td>x</td></tr>") * rows + b"</table></body></html>"


def test_a_huge_table_is_read_in_linear_time(tmp_path):
    timings = []
    for rows in (2_000, 8_000):
        p = tmp_path / f"t{rows}.html"
        p.write_bytes(_table_page(rows))
        best = float("inf")
        for _ in range(3):  # the best of three: a loaded CI machine stalls single runs by seconds
            start = time.perf_counter()
            doc = read(p)
            best = min(best, time.perf_counter() - start)
        timings.append(best)
        (table,) = doc.tables
        assert len(table.rows) == rows and all(len(r) == 10 for r in table.rows)
    assert timings[1] < 10 * timings[0] + 0.5, timings  # 4× the rows: ~4× the time, not 16×
    result = check_file(tmp_path / "t8000.html", year=2024)
    assert result.verdict == "rejected" and all(not f.rule.startswith("file.") for f in result.findings)


def test_site_lines_in_the_same_element_as_the_report(tmp_path):
    """No wrapper to tell the article by: the site's header and footer are the body's children
    like the report's paragraphs. The site's lines go; the report's own 联系电话 line stays."""
    spec = ReportSpec(sections={"6": ["本年度未收取信息处理费。", "联系电话：0319-5212345"]})
    want = parse_file(write_docx(spec, tmp_path / "r.docx")).report.to_json()
    assert want["sections"]["6"].endswith("联系电话：0319-5212345")
    page = html_page(spec, shape="word")
    body_start = page.index(">", page.index("<body")) + 1
    header = ("<p>巨鹿县人民政府</p><p>首页 &gt; 政务公开 &gt; 政府信息公开年报</p><p>发布时间：2025-01-20 "
              "浏览次数：128</p>")
    footer = ("<p>【打印本页】【关闭窗口】</p><p>主办单位：巨鹿县人民政府办公室</p><p>地址：巨鹿县城南环路1号 邮编：055250</p>"
              "<p>冀ICP备05001234号 网站标识码：1305330001</p>")
    end = page.index("</body>")
    p = tmp_path / "bare.html"
    p.write_text(page[:body_start] + header + page[body_start:end] + footer + page[end:], encoding="utf-8")
    assert parse_file(p).report.to_json() == want


def test_layout_tables_are_flow_and_data_tables_inside_them_are_tables(tmp_path):
    spec = ReportSpec(table3=balanced_table3(random.Random(8), 5))
    want = parse_file(write_docx(spec, tmp_path / "r.docx")).report.to_json()
    page = html_page(spec, layout="divs")
    # the whole article in one cell of a one-row page table, beside a sidebar cell
    start, end = page.index('<div class="TRS_Editor"'), page.index('<div class="share">')
    wrapped = (page[:start] + '<table width="100%"><tr><td width="20%"><a href="#">政府信息公开指南</a></td><td>'
               + page[start:end] + "</td></tr></table>" + page[end:])
    p = tmp_path / "wrapped.html"
    p.write_text(wrapped, encoding="utf-8")
    doc = read(p)
    assert len(doc.tables) == 3
    assert parse_file(p).report.to_json() == want
    # a one-column table around a paragraph is that paragraph
    framed = wrapped.replace("<p style=\"text-indent:2em;line-height:2\">", "<table border=1><tr><td><p>", 1).replace(
        "</span></p>", "</span></p></td></tr></table>", 1)
    assert framed.count("<table border=1><tr><td><p>") == 1
    p.write_text(framed, encoding="utf-8")
    assert len(read(p).tables) == 3 and parse_file(p).report.to_json() == want


def test_nianbao_import_reads_last_years_web_page(request, tmp_path):
    """`nianbao import` (last year's report, most often a page saved from the portal) goes through
    the same readers."""
    data = request.getfixturevalue("office")
    page = write_html(ReportSpec(year=2023), tmp_path / "2023年报.html", encoding="gb18030", layout="tables")
    r = nianbao("import", str(page), "--body", "guanting", "--year", "2023", "--json", data_dir=data)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["verdict"], out["errors"]) == ("accepted", 0), out
