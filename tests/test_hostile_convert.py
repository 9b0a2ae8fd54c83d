"""A hostile upload converted by LibreOffice: an image linked to a URL (a `.docx` renamed `.wps`,
or a real `.doc`) must not make the converter call that URL, and a conversion that runs too long
leaves no soffice process behind.

The layers (nianbao/libreoffice.py): a network namespace with nothing in it, and a private profile
that blocks linked images and link updates. Either alone stops the fetch; with both switched off
LibreOffice 7.4 does fetch the linked image — the last test here shows the tests can fail."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import docx
import pytest
from lxml import etree

import nianbao.libreoffice as lo
from nianbao.check import check_file
from nianbao.generate import ReportSpec, balanced_table3, write_docx
from nianbao.settings import Settings

pytestmark = pytest.mark.skipif(lo.soffice() is None, reason="LibreOffice is not installed")

ROOT = Path(__file__).resolve().parents[1]
NS = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
      'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
      'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
      'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
      'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"')
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


@pytest.fixture
def server(http_receiver):
    """The suite's loopback HTTP server (tests/loopback.py), answering 404: it records every
    request a converter makes."""
    http_receiver.status = 404
    return http_receiver


def asked(server) -> list[str]:
    """The paths requested so far."""
    time.sleep(0.3)  # a request still in flight when soffice exited
    return [r.path for r in server.requests]


def hostile_docx(path: Path, base: str) -> ReportSpec:
    """A correct report with, after its text, an image linked to {base}/blip.png (DrawingML
    `a:blip r:link`, an external relationship), a VML image and a linked OLE object on external
    relationships, and INCLUDEPICTURE / INCLUDETEXT / HYPERLINK fields pointing at the server."""
    spec = ReportSpec(table3=balanced_table3(random.Random(5), 10))
    write_docx(spec, path)
    d = docx.Document(str(path))
    part = d.part
    blip = part.relate_to(f"{base}/blip.png", RT + "image", is_external=True)
    vml = part.relate_to(f"{base}/vml.png", RT + "image", is_external=True)
    ole = part.relate_to(f"{base}/ole.xlsx", RT + "oleObject", is_external=True)
    fields = "".join(
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        f'<w:r><w:instrText xml:space="preserve"> {instr} </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>'
        for instr in (f'INCLUDEPICTURE "{base}/field.png" \\d', f'INCLUDETEXT "{base}/text.docx"',
                      f'HYPERLINK "{base}/hyper"'))
    paragraphs = [
        f'''<w:p {NS}><w:r><w:drawing><wp:inline><wp:extent cx="914400" cy="914400"/><wp:docPr id="901" name="linked"/>
<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic>
<pic:nvPicPr><pic:cNvPr id="901" name="blip.png"/><pic:cNvPicPr/></pic:nvPicPr>
<pic:blipFill><a:blip r:link="{blip}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>
<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="914400" cy="914400"/></a:xfrm><a:prstGeom prst="rect"/></pic:spPr>
</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>''',
        f'''<w:p {NS}><w:r><w:pict><v:shape id="s902" style="width:50pt;height:50pt" type="#_x0000_t75">
<v:imagedata r:id="{vml}" o:title=""/></v:shape></w:pict></w:r></w:p>''',
        f'''<w:p {NS}><w:r><w:object><v:shape id="s903" style="width:50pt;height:50pt" type="#_x0000_t75"/>
<o:OLEObject Type="Link" ProgID="Excel.Sheet.12" ShapeID="s903" DrawAspect="Content" r:id="{ole}"
 UpdateMode="Always"><o:LinkType>EnhancedMetaFile</o:LinkType></o:OLEObject></w:object></w:r></w:p>''',
        f"<w:p {NS}>{fields}</w:p>",
    ]
    body = d.element.body
    last = body[-1]  # w:sectPr
    for xml in paragraphs:
        last.addprevious(etree.fromstring(xml))
    d.save(str(path))
    return spec


def _read_whole(result, spec: ReportSpec) -> None:
    """The converter ran and the report was read: not a file.* finding, the body and year found."""
    assert result.parsed is not None, [f.rule for f in result.findings]
    assert not [f.rule for f in result.findings if f.rule.startswith("file.")]
    assert result.report.body == spec.body and result.report.year == spec.year


@pytest.fixture
def wps(tmp_path, server):
    src = tmp_path / "hostile.docx"
    spec = hostile_docx(src, server.url(''))
    path = tmp_path / "报告.wps"  # a .docx renamed: the .wps reader takes zip contents too
    shutil.copy(src, path)
    return path, spec


def test_a_linked_image_in_a_wps_is_not_fetched(server, wps):
    path, spec = wps
    result = check_file(path, year=spec.year, county=spec.county)
    assert asked(server) == []
    _read_whole(result, spec)


def test_a_linked_image_in_a_real_doc_is_not_fetched(server, wps, tmp_path):
    """A binary Word 97 file (LibreOffice writes the linked image as a linked picture) goes the
    same way: .doc → .docx, no request."""
    path, spec = wps
    (doc,) = lo.convert([path.with_name("hostile.docx")], "doc:MS Word 97", tmp_path / "doc")
    assert doc.read_bytes().startswith(b"\xd0\xcf\x11\xe0")
    result = check_file(doc, year=spec.year, county=spec.county)
    assert asked(server) == []
    _read_whole(result, spec)


def test_the_cli_does_not_fetch_either(server, wps):
    path, spec = wps
    run = subprocess.run([sys.executable, "-m", "cli", "check", str(path), "--year", str(spec.year),
                          "--county", spec.county, "--json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert asked(server) == []
    assert run.returncode in (0, 1), run.stderr
    assert spec.body in run.stdout and "file.unreadable" not in run.stdout


def test_a_pdf_made_from_a_hostile_docx_does_not_fetch(server, tmp_path):
    """The county report's .docx → .pdf goes through the same converter."""
    src = tmp_path / "hostile.docx"
    hostile_docx(src, server.url(''))
    (pdf,) = lo.convert([src], "pdf", tmp_path / "pdf")
    assert asked(server) == []
    assert pdf.read_bytes().startswith(b"%PDF")


def test_the_converter_runs_in_a_namespace_without_network(server):
    if not sys.platform.startswith("linux"):
        pytest.skip("network namespaces are Linux's")
    prefix = lo.net_sandbox()
    assert prefix and prefix[0] == "unshare" and "--net" in prefix  # CI runs as root: unshare --net works
    cmd = lo.command("soffice", Path("/tmp/p"), [Path("a.wps")], "docx", Path("/tmp/o"))
    assert cmd[:len(prefix)] == prefix and cmd[len(prefix)] == "soffice"
    assert "-env:UserInstallation=file:///tmp/p" in cmd
    connect = ("import socket, sys\n"
               f"try:\n socket.create_connection(('127.0.0.1', {server.port}), timeout=3)"
               ".sendall(b'GET /from-inside HTTP/1.0\\r\\n\\r\\n')\n"
               "except OSError as e:\n print(type(e).__name__); sys.exit(3)\n")
    inside = subprocess.run([*prefix, sys.executable, "-c", connect], capture_output=True, text=True, timeout=30)
    assert inside.returncode == 3, inside  # OSError: the loopback inside is down, the server is outside
    outside = subprocess.run([sys.executable, "-c", connect], capture_output=True, text=True, timeout=30)
    assert outside.returncode == 0, outside  # the same probe does reach the server from here
    assert asked(server) == ["/from-inside"]


def test_the_profile_blocks_links_and_macros(tmp_path):
    lo.write_profile(tmp_path)
    xcu = (tmp_path / "user" / "registrymodifications.xcu").read_text(encoding="utf-8")
    root = etree.fromstring(xcu.encode())
    got = {(i.get("{http://openoffice.org/2001/registry}path"), p.get("{http://openoffice.org/2001/registry}name")):
           p.findtext("value") for i in root for p in i}
    assert got == {
        ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks"): "true",
        ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel"): "3",
        ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution"): "true",
        ("/org.openoffice.Office.Writer/Content/Update", "Link"): "0",  # Writer: 0 never
        ("/org.openoffice.Office.Writer/Content/Update", "Field"): "false",
        ("/org.openoffice.Office.Calc/Content/Update", "Link"): "1",  # Calc: 1 never
    }
    schema = Path("/usr/lib/libreoffice/share/registry/main.xcd")
    if schema.exists():  # every item exists in the installed LibreOffice's schema
        text = schema.read_text(encoding="utf-8")
        for _, name in got:
            assert f'oor:name="{name}"' in text


@pytest.mark.parametrize("off", ["network", "profile", "both"])
def test_each_layer_alone_stops_the_fetch_and_without_both_it_happens(server, wps, monkeypatch, off):
    """With the network namespace and the profile settings both switched off, LibreOffice does call
    the URL: the assertions above are not vacuous. (Read in this process: the switches are
    monkeypatched here, not in the isolated reader's helper process.)"""
    path, spec = wps
    if off in ("network", "both"):
        monkeypatch.setattr(lo, "net_sandbox", lambda: [])
    if off in ("profile", "both"):
        monkeypatch.setattr(lo, "write_profile", lambda profile: None)
    result = check_file(path, year=spec.year, county=spec.county, settings=Settings(isolate_reads=False))
    _read_whole(result, spec)
    hits = asked(server)
    if off == "both":
        assert "/blip.png" in hits
    else:
        assert hits == []


def _ours(marker: str) -> list[tuple[int, str]]:
    found = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmdline = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append((int(p.name), cmdline))
    return found


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_a_timeout_kills_the_whole_process_tree(tmp_path, monkeypatch):
    """soffice forks soffice.bin: a timeout that killed only the first left soffice.bin running."""
    profiles: list[Path] = []
    real = lo.write_profile
    monkeypatch.setattr(lo, "write_profile", lambda profile: (profiles.append(profile), real(profile)))
    spec = ReportSpec(table3=balanced_table3(random.Random(5), 10))
    src = write_docx(spec, tmp_path / "r.docx")
    many = []
    for i in range(20):  # far more than a second's work
        many.append(tmp_path / f"r{i}.docx")
        shutil.copy(src, many[-1])
    seen: list[tuple[int, str]] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if profiles:
                seen.extend(p for p in _ours(str(profiles[0])) if "soffice.bin" in p[1])
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.monotonic()
    try:
        with pytest.raises(lo.ConversionError, match="timed out"):
            lo.convert(many, "pdf", tmp_path / "out", timeout=1.5, jobs=1)
    finally:
        done.set()
        watcher.join()
    assert time.monotonic() - started < 15
    assert seen, "soffice.bin never ran: the timeout tested nothing"
    left = _ours(str(profiles[0]))
    assert left == [], left


def test_without_a_sandbox_a_warning_once(monkeypatch, caplog):
    monkeypatch.setattr(lo, "_sandbox", None)
    monkeypatch.setattr(lo, "_find_sandbox", lambda: [])
    with caplog.at_level("WARNING", logger="nianbao.libreoffice"):
        assert lo.net_sandbox() == [] and lo.net_sandbox() == []
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "network" in caplog.records[0].message
