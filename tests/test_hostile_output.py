"""Everything a report, a roster or a file name carries is data wherever it lands (issue: hostile
output): never a formula in the county's workbook, never a path out of the data folder, never a
link, image, HTML or table in markdown (the Prefect UI, a bot rendering markdown), never an escape
sequence or rich markup on the terminal — and a notification URL's secrets in no log line at any
level, nor in a stored send error.

Everything is real: the county's report compiled through the service on SQLite, the CLI run as a
process, apprise sending to loopback receivers, markdown rendered by markdown-it-py and
Python-Markdown (the renderer apprise itself uses)."""

from __future__ import annotations

import html
import io
import json
import logging
import random
import re
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from db import migrate, repo
from db.models import AuditEvent, Notice
from db.session import session_scope
from nianbao.bodies import load_roster
from nianbao.county_report import Contribution, write_county_xlsx
from nianbao.generate import ReportSpec, balanced_table3, expected_report, write_txt
from nianbao.model import Finding, Severity
from nianbao.safetext import clean, csv_cell, file_component, inside, md, md_text, sheet_cell
from notifications.channels import AppriseNotifier, Message, formatted, url_secrets
from tests.conftest import ROOT
from tests.loopback import free_port

YEAR = 2024
FORMULAS = ['=HYPERLINK("http://evil","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "=1+1\x01"]
HOSTILE_FILE = "![x](http://evil/p.png)<img src=x onerror=alert(1)>|a|b|\x1b[31m[/x]\n# 标题.docx"
ESCAPES = "\x1b]0;pwned\x07\x1b[2J"


# --- helpers -------------------------------------------------------------------------------------


def _cells_xml(xlsx: Path) -> str:
    with zipfile.ZipFile(xlsx) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist()
                       if n.startswith("xl/worksheets/") or n == "xl/sharedStrings.xml")


def _no_formula(xlsx: Path) -> None:
    xml = _cells_xml(xlsx)
    assert "<f>" not in xml and "<f " not in xml, "a cell holds a formula"


def _renderings(markdown_text: str) -> list[str]:
    """The markdown as HTML, by a CommonMark renderer with GFM tables and strikethrough, and by
    Python-Markdown with the extensions apprise uses."""
    import markdown
    from markdown_it import MarkdownIt

    return [MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown_text),
            markdown.markdown(markdown_text, extensions=["markdown.extensions.nl2br", "markdown.extensions.tables"])]


def _inert(markdown_text: str, links: int = 0, tables: int = 0) -> None:
    """No live syntax in the raw markdown nor in what renderers make of it: no image, HTML,
    strikethrough or heading from data; only the page's own `links` (file: URIs, which markdown-it
    declines to link) and `tables`."""
    assert "<img" not in markdown_text and "![" not in markdown_text.replace("\\![", "")
    assert "\x1b" not in markdown_text
    for out in _renderings(markdown_text):
        for tag in ("<img", "<script", "<del", "<s>", "<h1>标题"):
            assert tag not in out, (tag, out)
        hrefs = re.findall(r'<a href="([^"]*)"', out)
        assert out.count("<a ") == len(hrefs) <= links and all(h.startswith("file:") for h in hrefs), out
        assert out.count("<table") == tables, out


def _visible(markdown_text: str) -> str:
    """The text a CommonMark renderer shows (tags dropped, entities decoded)."""
    out = _renderings(markdown_text)[0]
    return html.unescape(re.sub(r"<[^>]+>", "", out))


# --- helpers themselves -----------------------------------------------------------------------------


def test_the_helpers_make_data_inert():
    assert clean("a\x1b[31mb\x1b]0;t\x07c\x00d\x85e\u202ef\r\ng\th") == "abcdef\ng\th"
    assert md("![x](y)<b>&") == "\\!\\[x\\]\\(y\\)&lt;b&gt;&amp;"
    assert md("a\nb") == "a b"  # a value cannot start a markdown line of its own
    assert md("===") == "\\=\\=\\="
    assert _visible(md(HOSTILE_FILE)).strip() == clean(HOSTILE_FILE).replace("\n", " ")
    body = "第一行\n\n1. 第二行 <img src=x>\n---"
    _inert(md_text(body))
    assert [ln.strip() for ln in _visible(md_text(body)).splitlines() if ln.strip()] == \
        ["第一行", "1. 第二行 <img src=x>", "---"]
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("-x") == "'-x" and csv_cell("巨鹿") == "巨鹿" and csv_cell(3) == 3
    assert sheet_cell("=a\x01") == "=a" and sheet_cell(5) == 5
    for name in ("../../evil", "..", ".", "/etc/passwd", "a\\b", "x\x00y", "\x1b[2J"):
        part = file_component(name)
        assert "/" not in part and "\\" not in part and "\x00" not in part and not part.startswith(".")
        assert part not in ("", ".", "..")
    long = file_component("巨" * 200)
    assert len(long.encode()) <= 120 and set(long) == {"巨"}  # cut at a character, Chinese kept
    assert file_component("巨鹿县") == "巨鹿县"
    with pytest.raises(ValueError):
        inside(Path("/tmp/x/../y"), Path("/tmp/x"))


# --- the county's workbook ---------------------------------------------------------------------------


def test_workbook_keeps_hostile_names_and_warnings_as_text(tmp_path):
    rng = random.Random(7)
    parts = []
    for i, name in enumerate(FORMULAS):
        spec = ReportSpec(body=name, table3=balanced_table3(rng, 5))
        warning = Finding("content.prior_year", Severity.WARNING, f"=cmd|'/C calc'!A{i} 报告中写道“{name}”")
        parts.append(Contribution(code=f"b{i}", name=name, kind="other", version=1, sha256=f"{i:064x}",
                                  report=expected_report(spec), warnings=(warning,)))
    xlsx = write_county_xlsx('=HYPERLINK("http://evil","县")', YEAR, parts, tmp_path / "county.xlsx")
    _no_formula(xlsx)
    wb = load_workbook(xlsx)
    names = [c.value for c in wb["分单位明细"]["B"][1:1 + len(FORMULAS)]]
    assert names == [clean(n) for n in FORMULAS]  # the text intact, only the control character gone
    assert [c.value for c in wb["申请办理情况"]["A"][1:]] == [clean(n) for n in FORMULAS]
    warnings = [c.value for c in wb["审核提醒"]["D"][1:]]
    assert all(w.startswith("=cmd|") for w in warnings) and len(warnings) == len(FORMULAS)
    assert wb["表二 主动公开"]["A1"].value.startswith('=HYPERLINK("http://evil","县")')
    for sheet in wb.worksheets:
        assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


# --- compile: the service, a hostile roster ------------------------------------------------------------


@pytest.fixture
def hostile_county(tmp_path, monkeypatch):
    """A county named "../../evil" (and a code that walks up too, as `roster import --county-code`
    could give), one body with a formula for a name, its report accepted; SQLite under data/."""
    data = tmp_path / "work" / "data"
    monkeypatch.setenv("NIANBAO_DATA_DIR", str(data))
    monkeypatch.setenv("NIANBAO_NOTICE_SINK", str(tmp_path / "work" / "data" / "notices"))
    monkeypatch.delenv("NIANBAO_DATABASE_URL", raising=False)
    from nianbao.settings import get_settings

    get_settings.cache_clear()
    roster = tmp_path / "roster.yaml"
    roster.write_text("county: '../../evil'\ncounty_code: evil\nbodies:\n"
                      f"  - {{code: hostile, name: '{FORMULAS[0]}', kind: other}}\n"
                      "  - {code: plain, name: 官亭镇, kind: township}\n", encoding="utf-8")
    migrate.upgrade(get_settings().db_url())
    from service.env import env

    e = env()
    with session_scope(e.factory) as s:
        repo.import_roster(s, load_roster(roster), "test")
        c = repo.county(s)
        c.code = "../../up"  # as a --county-code the roster check never saw
        repo.open_cycle(s, c, YEAR, date(2025, 1, 31), [14, 7, 3, 1, 0], "test")
    report = write_txt(ReportSpec(body=FORMULAS[0], table3=balanced_table3(random.Random(3), 9)),
                       tmp_path / "report.txt")
    from service.submission import submit

    submit(e, report, year=YEAR, body_code="hostile", accept=True, actor="test")
    yield e, tmp_path
    get_settings.cache_clear()


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_compile_writes_only_inside_the_data_folder_and_no_formula(hostile_county):
    from service.county_report import compile_county_report

    e, tmp = hostile_county
    before = _files(tmp)
    done = compile_county_report(e, "../../up", YEAR, allow_missing=True, reason="测试", actor="test")
    assert done.compiled, done.message
    written = _files(tmp) - before
    data = e.data_dir.resolve()
    assert written and all(p.resolve().is_relative_to(data) for p in written), written
    summary = data / "summary"
    assert {p.parent.resolve() for p in written if p.suffix in (".docx", ".xlsx", ".json")
            and "notices" not in p.parts} == {(summary / f"{file_component('../../up')}-2024").resolve()}
    assert {p.name for p in written if p.suffix in (".docx", ".xlsx")} == {
        f"{file_component('../../evil')}2024年政府信息公开工作年度报告{x}" for x in (".docx", "（数据）.xlsx")}
    assert not (tmp / "evil").exists() and not (tmp / "up-2024").exists() and not (tmp / "work" / "up-2024").exists()
    assert all(".." not in f for f in done.files)
    (xlsx,) = [Path(p) for p in done.paths(e.data_dir) if p.endswith(".xlsx")]
    _no_formula(xlsx)
    assert load_workbook(xlsx)["分单位明细"]["B2"].value == FORMULAS[0]
    # the Prefect page of the compile: names as text, the file links still file: URIs
    from tasks.artifacts import compile_markdown

    page = compile_markdown(done, YEAR, "理由 <img src=x> ![a](b)", e.data_dir)
    _inert(page, links=3, tables=1)  # its own: the three files, the table of totals
    assert page.count("](file://") == 3


# --- markdown: the submission page, the cycle table, the digest and the notices ------------------------


def test_submission_page_escapes_file_body_and_quoted_report_text():
    from tasks.artifacts import submission_markdown

    findings = [SimpleNamespace(severity=Severity.ERROR, rule="identity.body",
                                message=f"报告标题写的是“{HOSTILE_FILE}”[link](http://evil) <script>x</script>"),
                SimpleNamespace(severity=Severity.WARNING, rule="text.placeholder", message="|a|b|\n|---|---|")]
    sub = SimpleNamespace(original_name=HOSTILE_FILE, version=2, verdict="rejected", sha256="ab" * 32, errors=1,
                          warnings=1, delta=None, findings=findings)
    for body in (None, f"![b](http://evil/b.png){ESCAPES}<img src=y>"):
        page = submission_markdown(body, sub)
        _inert(page)
        assert "\x1b" not in page and "\x07" not in page
        shown = _visible(page)
        assert clean(HOSTILE_FILE).replace("\n", " ") in shown  # shown as written, not interpreted
        assert "[link](http://evil)" in shown and "<script>x</script>" in shown


def _held(e, tmp: Path, name: str):
    """A report that names no body of the roster, handed in under a hostile file name: held."""
    from service.submission import submit

    path = write_txt(ReportSpec(body="某某单位", table3=balanced_table3(random.Random(5), 4)), tmp / "held.txt")
    return submit(e, path, year=YEAR, original_name=name, actor="test", notify=False)


def test_digest_notice_and_cycle_table_with_a_hostile_file_name(hostile_county):
    from service.cycle import cycle_table
    from service.digest import intake_digest
    from tasks.artifacts import submission_markdown

    e, tmp = hostile_county
    _held(e, tmp, HOSTILE_FILE)
    with session_scope(e.factory) as s:
        (held,) = repo.unassigned(s, repo.cycle(s, repo.county(s), YEAR))
        page = submission_markdown(None, held)
    _inert(page)
    table = cycle_table(e, "../../up", YEAR, date(2025, 1, 10))
    assert any(HOSTILE_FILE.split("\n")[0][:20] in str(r["单位"]) for r in table.rows)
    _inert(md(table.title))
    assert intake_digest(e, "../../up", YEAR) >= 1
    from service.delivery import deliver

    deliver(e, "../../up", YEAR, datetime.now(UTC))  # to the sink
    notices = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((e.data_dir / "notices").glob("*.json"))]
    digest = next(n for n in notices if n["kind"] == "digest")
    text = digest["message"]
    assert "\x1b" not in text and "\x07" not in text
    (line,) = [ln for ln in text.splitlines() if "onerror" in ln]  # the file's name is one line of the notice
    assert line.startswith("- 《![x]") and "# 标题.docx》" in line
    # a bot rendering markdown gets it escaped; a text channel gets it as written
    title, body, fmt = formatted("markdown", digest["subject"], text)
    assert fmt == "markdown"
    _inert(body)
    assert "《" + clean(HOSTILE_FILE).replace("\n", " ") + "》" in _visible(body)
    assert formatted("text", digest["subject"], text) == (digest["subject"], text, "text")


def test_a_markdown_channel_gets_the_notice_escaped_a_text_channel_as_written(http_receiver):
    notifier = AppriseNotifier(timeout=3)
    message = Message(kind="rejected", to="x", subject=f"【退回】{HOSTILE_FILE}",
                      body=f"你单位报送的《{HOSTILE_FILE}》需修改{ESCAPES}。\n1. 第一处", key="k1")
    assert notifier.send(http_receiver.json_url("/md") + "?format=markdown", message) is None
    assert notifier.send(http_receiver.json_url("/txt"), message) is None
    md_post, text_post = http_receiver.posts
    assert md_post.json["message"] == md_text(clean(message.body))
    _inert(md_post.json["message"])
    _inert(md_post.json["title"])
    assert text_post.json["message"] == clean(message.body)  # plain text: only control characters gone
    assert "\x1b" not in text_post.json["message"] + text_post.json["title"]


# --- the terminal ------------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)


def test_check_prints_hostile_titles_and_file_names_literally(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    spec = ReportSpec(body=f"[/x]巨鹿县{ESCAPES}[bold]官亭镇[/]人民政府\x1b[31m",
                      table3=balanced_table3(random.Random(2), 6))
    report = write_txt(spec, folder / f"{ESCAPES}[red]\x1b[31m报告.txt")  # no "/" in a file's name
    text = report.read_text(encoding="utf-8")
    assert text.startswith("[/x]") and "\x1b[2J" in text  # the hostile title really is in the file
    for target in (report, folder):
        r = _cli("check", str(target), "--year", str(YEAR))
        assert r.returncode in (0, 1), r.stderr
        assert "Traceback" not in r.stdout + r.stderr and "MarkupError" not in r.stderr
        assert "\x1b" not in r.stdout and "\x07" not in r.stdout and "\x9b" not in r.stdout
        assert "[/x]" in r.stdout and "[red]" in r.stdout  # shown as written, not read as markup
    single = _cli("check", str(report), "--year", str(YEAR)).stdout
    assert "单位：[/x]巨鹿县" in single and "[bold]官亭镇[/]" in single


def test_cli_record_commands_print_hostile_names_literally(tmp_path):
    data = tmp_path / "data"
    roster = tmp_path / "roster.yaml"
    roster.write_text("county: '[/x]巨鹿县'\ncounty_code: julu\nbodies:\n"
                      "  - {code: guanting, name: '[/red]官亭镇\u202e', kind: township}\n", encoding="utf-8")
    for args in (("db", "upgrade"), ("roster", "import", str(roster)),
                 ("cycle", "open", "--year", "2024", "--deadline", "2025-01-31", "--confirm-late")):
        r = _cli(*args, "--dir", str(data))
        assert r.returncode == 0, r.stderr
    report = write_txt(ReportSpec(body="官亭镇", table3=balanced_table3(random.Random(4), 3)),
                       tmp_path / f"{ESCAPES}[red]报告.txt")
    sub = _cli("submit", str(report), "--body", "guanting", "--dir", str(data))
    assert sub.returncode in (0, 1), sub.stderr
    for args in (("roster", "list"), ("status",), ("status", "guanting")):
        r = _cli(*args, "--dir", str(data))
        assert r.returncode == 0, r.stderr
        assert "Traceback" not in r.stdout + r.stderr and "\x1b" not in r.stdout and "\u202e" not in r.stdout
    history = _cli("status", "guanting", "--dir", str(data)).stdout
    assert "[red]报告.txt" in history and "[/red]官亭镇" in history
    missing = _cli("status", "--county", "[/nope]", "--dir", str(data))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr and "[/nope]" in missing.stderr


def test_a_roster_error_never_shows_the_url_it_quotes(tmp_path):
    token = "rosterTOKENletters-abc"
    roster = tmp_path / "bad.yaml"
    roster.write_text("county: 巨鹿县\nbodies:\n  - {code: a, name: 甲, kind: other, contacts: "
                      f"[{{name: 张三, urls: ['dingtalk://{token}']}}]\n  - [broken\n", encoding="utf-8")
    for args in (("check", str(roster), "--year", "2024", "--roster", str(roster)),
                 ("roster", "import", str(roster), "--dir", str(tmp_path / "d"))):
        r = _cli(*args)
        assert r.returncode == 2 and "YAML" in r.stderr, r.stderr
        assert token not in r.stdout + r.stderr and "Traceback" not in r.stderr


# --- secrets in logs and stored errors -------------------------------------------------------------------

# tokens that do not "look like" tokens: letters only, dashes, short-ish
SECRETS = {
    "json_path": "hooksecretletters",
    "json_header": "headersecret-value",
    "form_query": "formtokenvalueonly",
    "xml_path": "xmlpathsecret",
    "mail_password": "mailpassword",
    "wecom_key": "wecom-key-letters-only",
    "ding_token": "dingtokenletters",
    "ding_secret": "dingsecretletters",
}


def _urls(http_receiver) -> list[str]:
    base = f"127.0.0.1:{http_receiver.port}"
    closed = free_port()
    return [
        f"json://{base}/notices/{SECRETS['json_path']}?+X-Api-Key={SECRETS['json_header']}",
        f"form://{base}/robot/send?access_token={SECRETS['form_query']}",
        f"xml://{base}/in/{SECRETS['xml_path']}",
        f"mailto://clerk:{SECRETS['mail_password']}@127.0.0.1:{closed}?from=a@example.com&to=b@example.com",
        f"wecombot://{SECRETS['wecom_key']}",
        f"dingtalk://{SECRETS['ding_secret']}@{SECRETS['ding_token']}/",
    ]


def test_url_secrets_covers_every_part_but_scheme_and_host():
    found = url_secrets("json://gw.example.com:8080/notices/abcdefgh-ij?+X-Key=plainwords&format=markdown&cto=4")
    assert {"notices", "abcdefgh-ij", "plainwords"} <= found
    assert not {"gw.example.com", "8080", "markdown", "json"} & found
    assert "wecom-key-letters-only" in url_secrets("wecombot://wecom-key-letters-only")
    assert "localhost" not in url_secrets("json://localhost/abcdefgh")


def test_debug_logging_in_process_leaks_no_secret(http_receiver, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ["apprise", "urllib3", "requests", "mail.log", *logging.root.manager.loggerDict]:
        caplog.set_level(logging.DEBUG, logger=name)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    try:
        notifier = AppriseNotifier(timeout=2)
        reasons = [notifier.send(url, Message(kind="digest", to="x", subject="s", body="b", key="k"))
                   for url in _urls(http_receiver)]
    finally:
        logging.getLogger().removeHandler(handler)
    assert reasons[:3] == [None, None, None]  # the loopback ones arrived
    assert len(http_receiver.posts) == 3
    logged = caplog.text + stream.getvalue() + "".join(str(r.args) for r in caplog.records) + "".join(reasons[3:])
    assert any(r.levelno == logging.DEBUG and r.name.startswith("apprise") for r in caplog.records)
    assert [k for k, v in SECRETS.items() if v in logged] == []


def test_debug_logging_in_a_process_leaks_no_secret_to_stderr(http_receiver):
    code = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)\n"
        "logging.getLogger('apprise').setLevel(logging.DEBUG)\n"
        "from notifications.channels import AppriseNotifier, Message\n"
        "m = Message(kind='digest', to='x', subject='s', body='b', key='k')\n"
        "n = AppriseNotifier(timeout=2)\n"
        "for url in sys.argv[1:]:\n"
        "    print(n.send(url, m))\n"
    )
    r = subprocess.run([sys.executable, "-c", code, *_urls(http_receiver)], capture_output=True, text=True,
                       timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "DEBUG:apprise" in r.stderr and "POST" in r.stderr  # DEBUG really was on
    assert [k for k, v in SECRETS.items() if v in r.stdout + r.stderr] == []


def test_a_stored_send_error_and_the_audit_carry_no_secret(hostile_county, http_receiver, caplog):
    """The outbox keeps a failed send's reason: the scheme, never the URL or its token."""
    from notifications.outbox import Draft, deliver_due, enqueue

    caplog.set_level(logging.DEBUG)
    e, _ = hostile_county
    http_receiver.status = 500
    urls = _urls(http_receiver)
    with session_scope(e.factory) as s:
        c = repo.county(s)
        c.office = {**(c.office or {}), "contacts": [{"name": "办公室", "role": "", "urls": urls}]}
        cy = repo.cycle(s, c, YEAR)
        enqueue(s, Draft(kind="digest", key="hostile|1", cycle_id=cy.id, recipient="county-office",
                         subject="主题", message=f"正文 {HOSTILE_FILE}"))
    report = deliver_due(e.factory, AppriseNotifier(timeout=2), e.data_dir, datetime.now(UTC))
    assert report.failed == len(urls)
    with session_scope(e.factory) as s:
        stored = [json.dumps([n.channel, n.last_error, n.idempotency_key, n.body, n.subject], ensure_ascii=False)
                  for n in s.scalars(select(Notice))]
        stored += [json.dumps(a.details, ensure_ascii=False, default=str) for a in s.scalars(select(AuditEvent))]
    assert all(r for r in stored)
    errors = " ".join(stored)
    assert "发送失败" in errors
    assert [k for k, v in SECRETS.items() if v in errors + caplog.text] == []
