"""The upload page in a real browser (issue 11): `nianbao web` started as the county would run it,
Debian's chromium driven by Playwright (nothing downloaded). A clerk on a phone opens her link,
uploads a flawed report, reads the findings, downloads the annotated copy, uploads the fixed one
and sees it accepted; a wrong token is 404; her token neither reads nor posts for another body;
the office's page shows the status and assigns a held file. Screenshots in
test-artifacts/screenshots/web-*.png."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from db import migrate, repo
from db.session import session_scope
from nianbao.bodies import load_roster
from tests.conftest import ROOT, ROSTER
from tests.loopback import HOST, free_port
from tests.test_web import TODAY, YEAR, report, versions

ARTIFACTS = Path(os.environ.get("NIANBAO_TEST_ARTIFACTS", ROOT / "test-artifacts"))
SHOTS = ARTIFACTS / "screenshots"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The database made here, `nianbao web` serving it in its own process."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.fail("chromium is not installed (apt-get install chromium; scripts/setup does)")
    tmp = tmp_path_factory.mktemp("web")
    port = free_port()
    env = {**os.environ, "NIANBAO_DATA_DIR": str(tmp / "data"), "NIANBAO_NOTICE_SINK": str(tmp / "sink"),
           "NIANBAO_PUBLIC_URL": f"http://{HOST}:{port}", "NIANBAO_WEB_BAD_TOKEN_DELAY_S": "0.05"}
    env.pop("NIANBAO_DATABASE_URL", None)
    old = {k: os.environ.get(k) for k in env}
    os.environ.update({k: v for k, v in env.items() if k.startswith("NIANBAO_")})
    from nianbao.settings import get_settings
    from service.env import env as make_env

    get_settings.cache_clear()
    migrate.upgrade(get_settings().db_url())
    e = make_env()
    with session_scope(e.factory) as s:
        repo.import_roster(s, load_roster(ROSTER), "test")
        repo.open_cycle(s, repo.county(s), YEAR, TODAY + timedelta(days=28), [14, 7, 3, 1, 0], "test",
                        today=TODAY)
    from service.submission import submit

    held = tmp / "县里转来的报告.docx"
    held.write_bytes(report(tmp, "h.docx", body="巨鹿县某某乡人民政府"))
    assert submit(e, held, source="mail").held
    log = open(tmp / "web.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen([sys.executable, "-m", "cli", "web", "--host", HOST, "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"nianbao web did not start: {(tmp / 'web.log').read_text()[-2000:]}")
        time.sleep(0.2)
    yield e, base, tmp
    proc.terminate()
    proc.wait(timeout=20)
    log.close()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def browser(served):
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


def _fits(page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths  # nothing to scroll sideways on a phone


def test_a_clerk_on_her_phone_fixes_her_report_from_the_findings(served, browser):
    from service.links import issue

    e, base, tmp = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    flawed, fixed = tmp / "官亭镇年报.docx", tmp / "官亭镇年报（修改后）.docx"
    flawed.write_bytes(report(tmp, "f.docx", flaw=True))
    fixed.write_bytes(report(tmp, "g.docx"))
    url = issue(e, "guanting").url
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, locale="zh-CN",
                              accept_downloads=True)
    page = ctx.new_page()
    assert page.goto(url).status == 200
    page.get_by_text("尚未报送").wait_for()
    text = page.inner_text("body")
    assert "官亭镇" in text and "还有28天" in text
    _fits(page)
    page.screenshot(path=str(SHOTS / "web-body-start.png"), full_page=True)

    page.set_input_files('input[type="file"]', str(flawed))
    page.get_by_role("button", name="正式报送").click()
    page.get_by_text("第1版审核结果").wait_for()
    text = page.inner_text("#result")
    assert "退回" in text and "表三" in text and "第一部分“总体情况”第1段" in text
    _fits(page)
    page.screenshot(path=str(SHOTS / "web-body-rejected.png"), full_page=True)

    with page.expect_download() as got:
        page.get_by_text("下载批注版").click()
    download = got.value
    assert download.suggested_filename == "官亭镇年报-批注.docx"
    saved = ARTIFACTS / "annotated" / "web-download-批注.docx"
    saved.parent.mkdir(parents=True, exist_ok=True)
    download.save_as(str(saved))
    assert zipfile.ZipFile(io.BytesIO(saved.read_bytes())).read("word/document.xml").count(b"<w:commentReference") >= 2

    page.set_input_files('input[type="file"]', str(fixed))
    page.get_by_role("button", name="正式报送").click()
    page.get_by_text("已通过审核（第2版）").wait_for()
    page.get_by_text("已修正的问题").click()  # open the list
    assert "XX" in page.inner_text("#fixed")
    _fits(page)
    page.screenshot(path=str(SHOTS / "web-body-accepted.png"), full_page=True)
    assert [v.verdict for v in versions(e)] == ["rejected", "accepted"]
    ctx.close()


def test_a_wrong_token_is_404_and_one_bodys_page_cannot_reach_another(served, browser):
    from service.links import issue

    e, base, tmp = served
    mine, theirs = issue(e, "wanghuzhai").url, issue(e, "julu").url
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = ctx.new_page()
    r = page.goto(f"{base}/b/{'x' * 32}")
    assert r.status == 404 and "链接无效或已失效" in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "web-404.png"))

    page.goto(theirs)
    page.set_input_files('input[type="file"]', str(tmp / "f.docx"))
    page.get_by_role("button", name="正式报送").click()
    page.get_by_text("第1版审核结果").wait_for()
    [other] = versions(e, "julu")
    page.goto(mine)
    assert page.request.get(f"{mine}/annotated/{other.id}").status == 404
    assert page.request.get(f"{theirs}/annotated/{other.id}").status == 200
    # her page's form, posted to the other body's address, is refused and records nothing
    form_csrf = page.locator('input[name="csrf"]').get_attribute("value")
    r = page.request.post(f"{theirs}/upload", multipart={
        "csrf": form_csrf, "file": {"name": "r.docx", "mimeType": "application/octet-stream",
                                    "buffer": (tmp / "g.docx").read_bytes()}})
    assert r.status == 403 and len(versions(e, "julu")) == 1 and versions(e, "wanghuzhai") == []
    ctx.close()


def test_the_office_sees_the_status_and_assigns_the_held_file(served, browser):
    from service.links import issue

    e, base, tmp = served
    url = issue(e, None).url
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(url)
    page.get_by_text("待认定的来件").first.wait_for()
    table = page.inner_text("#status-table")
    assert "官亭镇" in table and "通过" in table and "未报送" in table
    page.screenshot(path=str(SHOTS / "web-office.png"), full_page=True)
    held = page.locator("form.held").first
    assert "县里转来的报告.docx" in held.inner_text()
    held.locator("select").select_option(label="堤村乡")
    held.get_by_role("button", name="认定").click()
    page.get_by_text("已认定，记为该单位第1版").wait_for()
    assert page.locator("form.held").count() == 0
    assert "堤村乡" in page.inner_text("#status-table")
    page.screenshot(path=str(SHOTS / "web-office-assigned.png"), full_page=True)
    [v] = versions(e, "dicun")
    assert v.original_name == "县里转来的报告.docx"
    ctx.close()

    # the server's log says what was asked, never the token
    log = (tmp / "web.log").read_text(encoding="utf-8", errors="replace")
    assert "GET /o/***" in log and "POST /b/***/upload" in log
    for code in ("guanting", "julu", "wanghuzhai", None):
        assert issue(e, code).token not in log
