"""The upload page and the office's page (issue 11), through the real FastAPI app on a real SQLite
database and file store: a clerk's link opens her body's page only, an upload is a version (a
practice check is not), the findings and the annotated copy come back, the office assigns a held
file and compiles; wrong tokens, forged forms, oversized files and hostile names are refused."""

from __future__ import annotations

import copy
import io
import json
import logging
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from db import migrate, repo
from db.models import Submission
from db.session import session_scope
from nianbao.bodies import load_roster
from nianbao.corpus import good_report
from nianbao.generate import write_docx
from nianbao.rules.history import local_date
from tests.conftest import ROSTER

# the county's date (its pages count days there), not this machine's: they differ 16:00–24:00 UTC
TODAY = local_date(datetime.now(UTC), "Asia/Shanghai")
YEAR = TODAY.year - 1


def _spec(flaw: bool = False, body: str | None = None):
    spec = copy.deepcopy(good_report(0, year=YEAR).spec)
    if flaw:
        spec.table3["new"][-1] += 7  # the total no longer adds up
        spec.sections = {**spec.sections, "1": ["本年度，本单位XX认真贯彻落实政府信息公开工作。"]}
    if body:
        spec.body = body
    return spec


def report(tmp: Path, name: str, **kw) -> bytes:
    return write_docx(_spec(**kw), tmp / name).read_bytes()


@pytest.fixture
def site(tmp_path, monkeypatch):
    """巨鹿县 on SQLite with this year's cycle open (deadline four weeks away), notices to a sink,
    and the app; returns (client, env)."""
    env = {"NIANBAO_DATA_DIR": str(tmp_path / "data"), "NIANBAO_NOTICE_SINK": str(tmp_path / "sink"),
           "NIANBAO_PUBLIC_URL": "http://testserver", "NIANBAO_WEB_BAD_TOKEN_DELAY_S": "0.05",
           "NIANBAO_PREFECT_UI_URL": "http://192.168.1.10:4200"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("NIANBAO_DATABASE_URL", raising=False)
    from nianbao.settings import get_settings

    get_settings.cache_clear()
    migrate.upgrade(get_settings().db_url())
    from service.env import env as make_env

    e = make_env()
    with session_scope(e.factory) as s:
        repo.import_roster(s, load_roster(ROSTER), "test")
        repo.open_cycle(s, repo.county(s), YEAR, TODAY + timedelta(days=28), [14, 7, 3, 1, 0], "test",
                        today=TODAY)
    from web.app import create_app

    with TestClient(create_app(e), follow_redirects=False) as client:
        yield client, e
    get_settings.cache_clear()


def link(e, code: str | None) -> str:
    from service.links import issue

    return issue(e, code).url.removeprefix("http://testserver")


def csrf(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def upload(client, url: str, name: str, content: bytes, practice: bool = False, token_csrf: str | None = None):
    page = client.get(url)
    data = {"csrf": token_csrf if token_csrf is not None else csrf(page.text)}
    if practice:
        data["practice"] = "1"
    return client.post(f"{url}/upload", data=data, files={"file": (name, content, "application/octet-stream")})


def versions(e, code: str | None = "guanting") -> list[Submission]:
    with session_scope(e.factory) as s:
        q = select(Submission).order_by(Submission.id)
        rows = list(s.scalars(q))
        return [r for r in rows if (r.body.code if r.body else None) == code]


def test_a_clerk_uploads_a_flawed_report_sees_the_findings_and_the_fixed_one_is_accepted(site, tmp_path):
    client, e = site
    url = link(e, "guanting")
    page = client.get(url)
    assert page.status_code == 200
    html = page.text
    assert "官亭镇" in html and "还有28天" in html and "尚未报送" in html
    # the contract: one form, with one file input, posting multipart
    assert html.count("<form") == 1 and html.count('type="file"') == 1 and 'enctype="multipart/form-data"' in html

    r = upload(client, url, "官亭镇年报.docx", report(tmp_path, "a.docx", flaw=True))
    assert r.status_code == 303 and r.headers["location"].startswith(f"{url}?v=1")
    html = client.get(r.headers["location"]).text
    assert "第1版审核结果" in html and "退回" in html and "已收到第1版" in html
    # grouped by part, each finding with its place
    assert "<h3>表三</h3>" in html and "<h3>第一部分“总体情况”</h3>" in html
    assert "第一部分“总体情况”第1段" in html and "XX" in html
    [v1] = versions(e)
    assert (v1.version, v1.verdict, v1.source, v1.original_name) == (1, "rejected", "upload", "官亭镇年报.docx")

    # the annotated copy: the clerk's own document, a comment at each finding
    r = client.get(f"{url}/annotated/{v1.id}")
    assert r.status_code == 200 and "%E6%89%B9%E6%B3%A8.docx" in r.headers["content-disposition"]  # 批注
    xml = zipfile.ZipFile(io.BytesIO(r.content)).read("word/document.xml")
    assert xml.count(b"<w:commentReference") >= 2

    r = upload(client, url, "官亭镇年报（修改）.docx", report(tmp_path, "b.docx"))
    html = client.get(r.headers["location"]).text
    assert "已通过审核（第2版）" in html and "与第1版相比：已修正" in html
    fixed = html.split('id="fixed"', 1)[1].split("</div>", 1)[0]
    assert "XX" in fixed and "表三" in fixed  # what was fixed, in the clerk's words
    assert [v.verdict for v in versions(e)] == ["rejected", "accepted"]

    # nianbao status --json counts the new version
    from cli.main import app

    out = CliRunner().invoke(app, ["status", "--json"])
    assert out.exit_code == 0, out.output
    [row] = [b for b in json.loads(out.stdout)["bodies"] if b["code"] == "guanting"]
    assert (row["versions"], row["verdict"]) == (2, "accepted")


def test_a_practice_check_shows_the_findings_and_records_nothing(site, tmp_path):
    client, e = site
    url = link(e, "guanting")
    files = e.data_dir / "files"
    before = sorted(files.rglob("*")) if files.exists() else []
    r = upload(client, url, "草稿.docx", report(tmp_path, "a.docx", flaw=True), practice=True)
    assert r.status_code == 200
    assert "试检查结果" in r.text and "不计入报送" in r.text and "表三" in r.text
    assert versions(e) == []
    assert (sorted(files.rglob("*")) if files.exists() else []) == before
    assert list((e.data_dir / "uploads").iterdir()) == []


def test_a_wrong_revoked_or_other_kind_of_token_is_404_and_slowed_down(site):
    client, e = site
    from service.links import revoke

    body, office = link(e, "guanting"), link(e, None)
    assert client.get(body).status_code == 200 and client.get(office).status_code == 200
    assert client.get(body.replace("/b/", "/o/")).status_code == 404  # a body's token is no office's
    assert client.get(office.replace("/o/", "/b/")).status_code == 404
    took = []
    for _ in range(4):
        t = time.perf_counter()
        r = client.get("/b/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        took.append(time.perf_counter() - t)
        assert r.status_code == 404 and "链接无效或已失效" in r.text
    assert took[-1] >= 0.05 * 2 ** 3 * 0.9 and took[-1] > took[0]  # doubling per miss
    assert revoke(e, "guanting") == 1
    assert client.get(body).status_code == 404
    assert client.post(f"{body}/upload", files={"file": ("r.docx", b"x")}).status_code == 404
    assert link(e, "guanting") != body  # re-issued: a new link


def test_one_bodys_token_neither_reads_nor_posts_for_another(site, tmp_path):
    client, e = site
    mine, theirs = link(e, "guanting"), link(e, "julu")
    upload(client, theirs, "巨鹿镇.docx", report(tmp_path, "j.docx", flaw=True, body="巨鹿县巨鹿镇人民政府"))
    [other] = versions(e, "julu")
    assert client.get(f"{mine}/annotated/{other.id}").status_code == 404
    assert client.get(f"{theirs}/annotated/{other.id}").status_code == 200
    assert "巨鹿镇" not in client.get(mine).text
    # a form of her page posted with another page's CSRF field is refused
    r = upload(client, mine, "r.docx", report(tmp_path, "g.docx"), token_csrf=csrf(client.get(theirs).text))
    assert r.status_code == 403 and versions(e) == []
    # what her token posts is hers, whatever the report says
    r = upload(client, mine, "r.docx", report(tmp_path, "g2.docx", body="巨鹿县巨鹿镇人民政府"))
    assert r.status_code == 303 and len(versions(e)) == 1 and len(versions(e, "julu")) == 1


def test_forged_forms_huge_files_and_hostile_names_are_refused(site, tmp_path, monkeypatch):
    client, e = site
    url = link(e, "guanting")
    good = report(tmp_path, "a.docx")
    r = client.post(f"{url}/upload", data={}, files={"file": ("r.docx", good)})
    assert r.status_code == 403 and "页面已过期" in r.text
    token = csrf(client.get(url).text)
    r = client.post(f"{url}/upload", data={"csrf": token}, files={"file": ("r.docx", good)},
                    headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert versions(e) == []
    big = b"PK" + b"\0" * (int(e.settings.max_file_mb * 1024 * 1024) + 100_000)
    r = client.post(f"{url}/upload", data={"csrf": token}, files={"file": ("big.docx", big)})
    assert r.status_code == 413 and "MB" in r.text
    r = client.post(f"{url}/upload", data={"csrf": token}, files={"file": ("", b"")})
    assert r.status_code in (400, 422)
    # the client's name is shown, never a path: nothing written outside the data folder
    r = client.post(f"{url}/upload", data={"csrf": token},
                    files={"file": ("../../../outside\\..\\官亭镇.docx", good)})
    assert r.status_code == 303
    [v] = versions(e)
    assert v.original_name == "官亭镇.docx" and (e.data_dir / v.stored_path).resolve().is_relative_to(e.data_dir)
    assert not (tmp_path / "outside").exists() and not list(tmp_path.glob("*官亭镇*"))
    assert list((e.data_dir / "uploads").iterdir()) == []  # no temporary file left
    assert versions(e, None) == []
    # what the clerk's file says is text on the page, never markup (a finding quotes her title)
    hostile = report(tmp_path, "x.docx", body="巨鹿县<script>alert(1)</script>镇人民政府")
    r = client.post(f"{url}/upload", data={"csrf": token},
                    files={"file": ("<img src=x onerror=alert(2)>.docx", hostile)})
    html = client.get(r.headers["location"]).text
    assert "第2版" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html and "<img" not in html


def test_the_office_sees_the_status_assigns_a_held_file_and_compiles_with_a_reason(site, tmp_path):
    client, e = site
    from service.submission import submit

    held_file = tmp_path / "来件.docx"
    held_file.write_bytes(report(tmp_path, "h.docx", body="巨鹿县某某乡人民政府"))
    assert submit(e, held_file, source="mail").held
    upload(client, link(e, "julu"), "巨鹿镇.docx", report(tmp_path, "j.docx", flaw=True, body="巨鹿县巨鹿镇人民政府"))

    office = link(e, None)
    html = client.get(office).text
    assert "各单位报送情况" in html and "巨鹿镇" in html and "退回" in html and "未报送" in html
    assert "待认定的来件" in html and "《来件.docx》" in html
    assert 'href="http://192.168.1.10:4200/runs"' in html and "/artifacts/key/cycle-julu-" in html  # the Prefect UI
    assert "/b/" not in html.replace(f"{office}/b/", "")  # no body's link on the office's page
    row = html.split('data-code="julu"', 1)[1].split("</tr>", 1)[0]
    assert "表三" in row  # why it was rejected

    [held] = versions(e, None)
    r = client.post(f"{office}/assign", data={"csrf": csrf(html), "held": str(held.id), "code": "guanting"})
    assert r.status_code == 303
    [v] = versions(e, "guanting")
    assert (v.version, v.original_name, v.received_at) == (1, "来件.docx", held.received_at)
    assert "待认定的来件" not in client.get(office).text
    r = client.post(f"{office}/assign", data={"csrf": csrf(html), "held": str(held.id), "code": "guanting"})
    assert r.status_code == 409 and len(versions(e, "guanting")) == 1  # not twice
    assert len(versions(e, None)) == 1  # the held file itself stays recorded as it came

    # the office sees a body's findings through its own page
    assert "第1版审核结果" in client.get(f"{office}/b/julu").text

    r = client.post(f"{office}/compile", data={"csrf": csrf(html)})
    assert r.status_code == 409 and "summary.coverage" in r.text
    r = client.post(f"{office}/compile", data={"csrf": csrf(html), "allow_missing": "1"})
    assert r.status_code == 409 and "理由" in r.text
    r = client.post(f"{office}/compile", data={"csrf": csrf(html), "allow_missing": "1", "reason": "演练：部分单位未报"})
    assert r.status_code == 200 and "已汇总" in r.text
    doc = client.get(f"{office}/compiled/0")
    assert doc.status_code == 200 and doc.content[:2] == b"PK"
    with session_scope(e.factory) as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 3


def test_pages_carry_security_headers_and_the_token_is_in_no_log_line(site, tmp_path, caplog):
    client, e = site
    url = link(e, "guanting")
    token = url.rsplit("/", 1)[1]
    caplog.set_level(logging.DEBUG)
    r = client.get(url)
    h = r.headers
    assert "default-src 'none'" in h["content-security-policy"] and "frame-ancestors 'none'" in h["content-security-policy"]
    assert h["referrer-policy"] == "no-referrer" and h["x-content-type-options"] == "nosniff"
    assert h["cache-control"] == "no-store"
    upload(client, url, "r.docx", report(tmp_path, "a.docx", flaw=True))
    client.get("/b/not-a-token")
    # every record of the server's side (httpx's are the test client's own requests)
    logged = "\n".join(rec.getMessage() for rec in caplog.records if not rec.name.startswith("httpx"))
    assert "/b/***" in logged and token not in logged
    secret = (e.data_dir / "web-secret").read_text()
    assert secret not in r.text and token not in client.get(link(e, None)).text
