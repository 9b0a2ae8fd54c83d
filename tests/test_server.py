"""The cycle runs by itself on a real Prefect server, as README's "Running it for real" says:
`prefect server start` (its own PREFECT_HOME; SQLite, then the suite's PostgreSQL for both the
server and nianbao), `nianbao run open-cycle`, then either `nianbao serve` or `nianbao deploy` +
`prefect worker start`. The server's own scheduler creates the runs (nothing is run by hand);
files dropped in the inbox are recorded and answered; a cycle opened meanwhile gets its
deployments; a compiled one's schedules stop; a refused compile leaves no traceback anywhere.
The UI is then looked at in Debian's chromium. (NIANBAO_SCHEDULE_EVERY_S shortens the schedules
to seconds; PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS makes the scheduler look every 2 s.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from nianbao.generate import ReportSpec, write_docx
from nianbao.rules.history import local_date
from nianbao.workdays import WorkCalendar
from tests.conftest import ROOT, ROSTER
from tests.prefect_server import PREFECT, PrefectServer, Process, start_server

EVERY_S = 20  # intake and deadline every 15 s instead of 10 min / daily
SCREENSHOTS = Path(os.environ.get("NIANBAO_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"


def wait_until(check: Callable[[], object], timeout: float, what: str, every: float = 0.5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = check()
        except httpx.TimeoutException:  # the SQLite-backed server stalls for a while under load: ask again
            value = None
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not within {timeout} s: {what}")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request, tmp_path_factory) -> Iterator[tuple[PrefectServer, Callable[[str], str | None]]]:
    """A Prefect server on SQLite or on the suite's PostgreSQL, and how to make a nianbao database
    on the same backend (None: SQLite in the data folder)."""
    home = tmp_path_factory.mktemp(f"prefect-{request.param}")
    if request.param == "sqlite":
        server = start_server(home)
        make_db = lambda name: None  # noqa: E731
    else:
        import psycopg

        pg = request.getfixturevalue("pg_server")

        def make_db(name: str) -> str:
            with psycopg.connect(**pg.connect_kwargs(), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
            return pg.url(name)

        server = start_server(home, make_db("prefect").replace("+psycopg", "+asyncpg"))
    print(f"prefect server ({request.param}) started in {server.started_in:.1f} s")
    yield server, make_db
    server.process.stop()


@dataclass
class County:
    """One county's nianbao, set up with README's commands against the server."""

    server: PrefectServer
    data: Path
    code: str
    env: dict[str, str]
    year: int
    deadline: date
    reminder_today: bool = False

    def nianbao(self, *args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess:
        r = subprocess.run([sys.executable, "-m", "cli", *args], env=self.env, cwd=ROOT, capture_output=True,
                           text=True, timeout=timeout)
        assert r.returncode == 0 or not check, f"nianbao {' '.join(args)}: {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def notices(self) -> list[dict]:
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((self.data / "notices").glob("*.json"))]

    def status(self) -> dict:
        return json.loads(self.nianbao("status", "--json", "--year", str(self.year)).stdout)

    def drop(self, code: str, spec: ReportSpec, name: str) -> Path:
        return write_docx(spec, self.data / "inbox" / code / name)

    def deployment(self, name: str) -> dict:
        return self.server.deployments()[name]

    def completed_by_scheduler(self, name: str) -> list[dict]:
        runs = self.server.flow_runs(self.deployment(name)["id"])
        return [r for r in runs if r["auto_scheduled"] and r["state_type"] == "COMPLETED"]


def _county(backend, tmp_path: Path, code: str) -> County:
    server, make_db = backend
    data = tmp_path / "data"
    env = server.client_env(NIANBAO_DATA_DIR=str(data), NIANBAO_NOTICE_SINK=str(data / "notices"),
                            NIANBAO_SCHEDULE_EVERY_S=str(EVERY_S), NIANBAO_SERVE_SYNC_S="2",
                            PREFECT_RUNNER_POLL_FREQUENCY="1", PREFECT_WORKER_QUERY_SECONDS="1",
                            PREFECT_LOGGING_LEVEL="INFO")
    url = make_db(f"nianbao_{code}")
    if url:
        env["NIANBAO_DATABASE_URL"] = url
    today = local_date(datetime.now(UTC), "Asia/Shanghai")
    year = today.year  # the report year whose deadline (31 January next year) is still ahead
    county = County(server, data, code, env, year, date(year + 1, 1, 31))
    county.nianbao("db", "upgrade")
    county.nianbao("roster", "import", str(ROSTER), "--county-code", code)
    # a reminder due today (if today is a working day), besides the usual ones
    offsets = sorted({14, 7, 3, 1, 0, (county.deadline - today).days}, reverse=True)
    r = county.nianbao("run", "open-cycle", "--year", str(year), "--deadline", county.deadline.isoformat(),
                       "--offsets", ",".join(map(str, offsets)))
    assert "收件目录" in r.stdout and (data / "inbox" / "guanting").is_dir()
    county.reminder_today = WorkCalendar().reminder_days(county.deadline, offsets).get(today) is not None
    return county


def _reports(county: County) -> None:
    good = ReportSpec(body="巨鹿县官亭镇人民政府", year=county.year)
    bad = ReportSpec(body="巨鹿县王虎寨镇人民政府", year=county.year)
    bad.table3["total"][0] += 1  # a wrong total: rejected with table3.* findings
    county.drop("guanting", good, "官亭镇年报.docx")
    county.drop("wanghuzhai", bad, "王虎寨镇年报.docx")


def _answered(county: County) -> dict[str, dict]:
    """Wait until both reports are recorded and answered; the notices by kind and recipient."""
    wait_until(lambda: {"accepted-guanting", "rejected-wanghuzhai"} <= {f"{n['kind']}-{n['to']}" for n in
                                                                         county.notices()},
               EVERY_S * 4 + 30, "the scheduled intake answered both reports")
    st = {b["code"]: b for b in county.status()["bodies"]}
    assert (st["guanting"]["verdict"], st["wanghuzhai"]["verdict"]) == ("accepted", "rejected")
    assert not list((county.data / "inbox").glob("*/*.docx"))  # moved to inbox/.done
    return {f"{n['kind']}-{n['to']}": n for n in county.notices()}


def _reminders_as_scheduled(county: County, name: str) -> None:
    wait_until(lambda: county.completed_by_scheduler(name), EVERY_S * 3 + 30, f"a scheduled {name} completed")
    reminded = {n["to"] for n in county.notices() if n["kind"] == "reminder"}
    if county.reminder_today:  # every body not yet accepted when the check ran
        assert len(reminded) >= 15 and "星期" in next(n for n in county.notices() if n["kind"] == "reminder")["message"]
    else:  # today is a day off: nothing goes out
        assert reminded == set()


def _refused_compile_without_traceback(county: County, name: str, output: Callable[[], str]) -> None:
    before = output().count("Traceback")
    r = subprocess.run([*PREFECT, "deployment", "run", name], env=county.env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    dep = county.deployment(name)
    try:  # a run started by a worker on a loaded 2-core machine: a fresh process, then the engine
        run = wait_until(lambda: [x for x in county.server.flow_runs(dep["id"]) if x["state_type"] == "FAILED"],
                         150, f"{name} refused")[0]
    except AssertionError as exc:  # say what the run did instead, and what its runner said
        runs = [(x["state_type"], x["state"]["message"] if x["state"] else None)
                for x in county.server.flow_runs(dep["id"])]
        raise AssertionError(f"{exc}; its runs: {runs}\n{output()[-4000:]}") from None
    assert run["state"]["message"].startswith("summary.coverage：以下") and "尚无审核通过的报告" in run["state"]["message"]
    wait_until(lambda: any("暂不能汇总" in m for m in county.server.logs(run["id"])), 60, "the reason in the run's log")
    time.sleep(3)  # the last records of the run (the engine's) come in their own batch
    logs = county.server.logs(run["id"])
    assert any("Finished in state Failed" in m for m in logs), logs
    assert not [m for m in logs if "Traceback" in m or "FailedRun" in m or "unexpected exception" in m]
    time.sleep(1)
    assert output().count("Traceback") == before, output()[-3000:]


def test_served_schedules_fire_and_follow_the_cycles(backend, tmp_path):
    county = _county(backend, tmp_path, "julu")
    y = county.year
    serve = Process([sys.executable, "-m", "cli", "serve"], county.env, tmp_path / "serve.log", ROOT).start()
    try:
        serve.wait_for("正在运行的部署", 90)
        deps = county.server.deployments()
        assert {f"intake/julu-{y}", f"deadline/julu-{y}", f"compile/julu-{y}", "open-cycle/julu"} <= set(deps)
        assert deps[f"intake/julu-{y}"]["work_pool_name"] is None and not deps[f"intake/julu-{y}"]["paused"]

        _reports(county)
        notices = _answered(county)
        assert "王虎寨镇" in notices["rejected-wanghuzhai"]["subject"] and notices["digest-county-office"]
        intake_runs = county.completed_by_scheduler(f"intake/julu-{y}")
        assert intake_runs and all(r["tags"] and f"year-{y}" in r["tags"] for r in intake_runs)
        _reminders_as_scheduled(county, f"deadline/julu-{y}")

        # the workers' way is refused while these are served: the same inbox taken twice otherwise
        r = county.nianbao("deploy", "--pool", "test-pool", check=False)
        assert r.returncode == 2 and "nianbao serve" in r.stderr and f"intake/julu-{y}" in r.stderr

        # next year's cycle, opened while serve runs: its deployments come without an edit or a restart
        county.nianbao("cycle", "open", "--year", str(y + 1), "--deadline", f"{y + 2}-01-31")
        wait_until(lambda: {f"{f}/julu-{y + 1}" for f in ("intake", "deadline", "compile")}
                   <= set(county.server.deployments()), 30, "next year's deployments")
        wait_until(lambda: county.completed_by_scheduler(f"intake/julu-{y + 1}"), EVERY_S * 3 + 30,
                   "next year's intake ran by itself")
        _refused_compile_without_traceback(county, f"compile/julu-{y + 1}", serve.output)

        # this year's cycle compiled: its schedules stop, and no run of it starts after that
        county.nianbao("compile", "--year", str(y), "--allow-missing", "--reason", "测试：其余单位未报送")
        wait_until(lambda: county.deployment(f"intake/julu-{y}")["paused"] and
                   county.deployment(f"deadline/julu-{y}")["paused"], 30, "this year's schedules paused")
        paused_at = datetime.now(UTC)
        time.sleep(EVERY_S + 12)
        # a run the runner had already taken (it fetches 10 s ahead) may still start; none due later
        late = [(r["expected_start_time"], r["start_time"], r["state_type"])
                for r in county.server.flow_runs(county.deployment(f"intake/julu-{y}")["id"])
                if datetime.fromisoformat(r["expected_start_time"]) > paused_at + timedelta(seconds=11)]
        assert late == [], (paused_at, late)
        assert not county.deployment(f"intake/julu-{y + 1}")["paused"]
    finally:
        serve.stop()
    # stopping serve does not pause January's schedules
    assert not county.deployment(f"intake/julu-{y + 1}")["paused"]
    _pause_all(county)
    assert "Traceback" not in serve.output(), serve.output()[-3000:]
    if backend[0].env.get("PREFECT_API_DATABASE_CONNECTION_URL") is None:
        _look_in_the_browser(county)


# on PostgreSQL only: workers on several machines share one database, which SQLite cannot be
# (README, "Several machines"); the served way is tried on both
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_work_pool_and_a_worker_run_the_cycle(backend, tmp_path):
    county = _county(backend, tmp_path, "juluw")
    y = county.year
    r = county.nianbao("deploy", "--pool", "nianbao-test")
    assert "已建立工作池 nianbao-test" in r.stdout and "prefect worker start --pool nianbao-test" in r.stdout
    deps = county.server.deployments()
    names = {f"intake/juluw-{y}@nianbao-test", f"deadline/juluw-{y}@nianbao-test", f"compile/juluw-{y}@nianbao-test",
             "open-cycle/juluw@nianbao-test", "sync-deployments/juluw@nianbao-test"}
    assert names <= set(deps) and all(deps[n]["work_pool_name"] == "nianbao-test" for n in names)
    assert county.nianbao("deploy", "--pool", "nianbao-test").stdout.count("已建立工作池") == 0  # once

    # the worker runs in another folder, as on another machine: nianbao installed, no checkout
    elsewhere = tmp_path / "worker"
    elsewhere.mkdir()
    worker = Process([*PREFECT, "worker", "start", "--pool", "nianbao-test"], county.env, tmp_path / "worker.log",
                     elsewhere).start()
    try:
        worker.wait_for("started", 60)
        _reports(county)
        _answered(county)
        assert county.completed_by_scheduler(f"intake/juluw-{y}@nianbao-test")
        _reminders_as_scheduled(county, f"deadline/juluw-{y}@nianbao-test")
        # a cycle opened later: the scheduled sync-deployments flow, run by the worker, registers it
        county.nianbao("cycle", "open", "--year", str(y + 1), "--deadline", f"{y + 2}-01-31")
        wait_until(lambda: {f"{f}/juluw-{y + 1}@nianbao-test" for f in ("intake", "deadline", "compile")}
                   <= set(county.server.deployments()), EVERY_S * 3 + 30, "next year's deployments on the pool")
        _refused_compile_without_traceback(county, f"compile/juluw-{y + 1}@nianbao-test", worker.output)
    finally:
        worker.stop()
        _pause_all(county)
    assert "Traceback" not in worker.output(), worker.output()[-3000:]


def _pause_all(county: County) -> None:
    """Leave the server quiet for the next test: nothing scheduled every few seconds any more."""
    import httpx

    for d in county.server.deployments().values():
        if d["tags"] and f"county-{county.code}" in d["tags"]:
            httpx.patch(f"{county.server.api}/deployments/{d['id']}", json={"paused": True}, timeout=60)


def _look_in_the_browser(county: County) -> None:
    """Debian's chromium (never a downloaded browser) shows the cycle's table and one submission's
    findings in Chinese, the table without sideways scrolling on a laptop screen."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.fail("chromium is not installed (apt-get install chromium; scripts/setup does)")
    from playwright.sync_api import sync_playwright

    y = county.year
    table = county.server.artifacts(f"cycle-{county.code}-{y}")[0]
    findings = county.server.artifacts(f"submission-{county.code}-{y}-wanghuzhai-v1")[0]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.goto(f"{county.server.ui}/artifacts/artifact/{table['id']}")
        page.get_by_text("王虎寨镇").first.wait_for(timeout=30_000)
        text = page.inner_text("body")
        for word in ("各单位报送情况", "已汇总", "星期"):
            assert word in text, word
        cells = page.locator("table").first.inner_text()
        for word in ("单位", "结论", "最近通知", "逾期工作日", "退回", "通过", "未报送", "（已发送）"):
            assert word in cells, word
        assert not [w for w in ("accepted", "rejected", "overdue", "kickoff", "sent", "open") if w in cells]
        header = page.get_by_text("逾期工作日").first.bounding_box()
        assert header and header["x"] + header["width"] <= 1280  # the last column is on the screen
        page.screenshot(path=str(SCREENSHOTS / "cycle-table.png"), full_page=True)

        page.goto(f"{county.server.ui}/artifacts/artifact/{findings['id']}")
        page.get_by_text("王虎寨镇 · 第1版 · 退回").wait_for(timeout=30_000)
        text = page.inner_text("body")
        assert "错误（" in text and "表三" in text and "table3." in text
        items = page.locator("li").all_inner_texts()
        assert any("表三" in i for i in items)  # one list item per finding: place — what is wrong
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1]  # nothing cut off at the right edge
        page.screenshot(path=str(SCREENSHOTS / "submission-findings.png"), full_page=True)
        browser.close()
