"""The cycle's flows under one session-scoped Prefect test harness, with notices delivered for real
over loopback: json:// to a local HTTP receiver, mailto:// to a local SMTP server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import AuditEvent, Notice, Submission
from db.session import session_scope
from flows.cycle import compile_flow, deadline, intake, open_cycle
from nianbao.generate import ReportSpec, balanced_table3, write_docx, write_txt
from tests.conftest import ROOT, ROSTER, SEEDS, needs_shared

pytestmark = pytest.mark.usefixtures("prefect_harness")

TOKEN = "TOKEN5ecret0123456789abcdefXYZ"
KICKOFF = datetime.fromisoformat("2025-01-02T09:00+08:00")
FIRST = datetime.fromisoformat("2025-01-15T10:00+08:00")
YEAR, DEADLINE = 2024, date(2025, 1, 31)


def run(flow, **params):
    from prefect import tags

    with tags("county-julu", f"year-{YEAR}"):
        return flow(county="julu", year=YEAR, **params)


@pytest.fixture
def county(tmp_path, monkeypatch, http_receiver, smtp_server):
    """巨鹿县 with channels on loopback: 官亭镇 by mail and JSON, 王虎寨镇 and 县政府办 by JSON,
    张王疃乡 with no contact at all, the office by JSON. Every URL carries TOKEN."""
    data = tmp_path / "data"
    monkeypatch.setenv("NIANBAO_DATA_DIR", str(data))
    monkeypatch.delenv("NIANBAO_NOTICE_SINK", raising=False)
    monkeypatch.delenv("NIANBAO_DATABASE_URL", raising=False)
    from nianbao.settings import get_settings

    get_settings.cache_clear()
    mail = smtp_server.mailto(to="gt@example.com", password=TOKEN)

    def js(path: str) -> str:
        return http_receiver.json_url(f"/{path}/{TOKEN}")

    text = ROSTER.read_text(encoding="utf-8")
    for code, urls in {"guanting": [mail, js("guanting")], "wanghuzhai": [js("wanghuzhai")],
                       "xianzhengfuban": [js("xianzhengfuban")]}.items():
        line = next(ln for ln in text.splitlines() if f"code: {code}," in ln)
        text = text.replace(line, line[:-1] + f", contacts: [{{name: 联络员, urls: {json.dumps(urls)}}}]}}")
    office_line = next(ln for ln in text.splitlines() if ln.startswith("office:"))
    text = text.replace(office_line, "office: {name: 巨鹿县政务公开办, body: xianzhengfuban, contacts: "
                                     f'[{{name: 王主任, urls: ["{js("office")}"]}}]}}')
    roster = tmp_path / "roster.yaml"
    roster.write_text(text, encoding="utf-8")
    from db import migrate, repo
    from nianbao.bodies import load_roster
    from notifications.urls import url_problem
    from service.env import env

    migrate.upgrade(get_settings().db_url())
    with session_scope(env().factory) as s:
        repo.import_roster(s, load_roster(roster, url_problem=url_problem), "test")
    return data


def _drop(data: Path, code: str | None, src: Path, name: str | None = None) -> Path:
    folder = data / "inbox" / code if code else data / "inbox"
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(src, folder / (name or src.name)))


def _notices(**where):
    from service.env import env

    with session_scope(env().factory) as s:
        q = select(Notice)
        for k, v in where.items():
            q = q.where(getattr(Notice, k) == v)
        return list(s.scalars(q.order_by(Notice.id)))


def _keys(receiver) -> list[str]:
    return [p.headers["Idempotency-Key"] for p in receiver.posts]


@needs_shared
def test_a_cycle_over_real_channels(county, http_receiver, smtp_server):
    r = run(open_cycle, deadline=DEADLINE, as_of=KICKOFF)
    assert r.queued == 17 + 1 and r.delivery.sent == 4  # 17 bodies, 官亭镇 twice; 13 have no contact
    kickoff_mail = smtp_server.messages[0]
    assert "2025年1月31日" in kickoff_mail["subject"]
    (att,) = list(kickoff_mail.iter_attachments())
    template = county / "templates" / f"{YEAR}年度政府信息公开工作年度报告模板.docx"
    assert att.get_payload(decode=True) == template.read_bytes()  # byte-identical
    assert {p.path.split("/")[1] for p in http_receiver.posts} == {"guanting", "wanghuzhai", "xianzhengfuban"}

    for code, n in (("wanghuzhai", "000"), ("guanting", "001"), (None, "002"), ("zhangwangtuan", "003"),
                    ("xianzhengfuban", "004")):
        (src,) = SEEDS.glob(f"{n}_*.txt")
        _drop(county, code, src)
    r = run(intake, as_of=FIRST)
    assert len(r.files) == 5 and len(r.new) == 5
    by_body = {x.code: x for x in r.files}
    assert by_body["wanghuzhai"].verdict == "rejected" and by_body[None].name is None

    posted = {p.path.split("/")[1]: p.json for p in http_receiver.posts[3:]}
    assert "退回" in posted["wanghuzhai"]["title"] and "2019年试行模板" in posted["wanghuzhai"]["message"]
    assert "通过" in posted["xianzhengfuban"]["title"]
    office = [p.json for p in http_receiver.posts if p.path.startswith("/office")]
    (digest,) = office  # one digest for the whole intake, the held file in it
    assert "收到4份报告" in digest["title"] and "1份无法确定报送单位" in digest["title"]
    assert "内乡县" in digest["message"] and "通过" in digest["message"]
    accepted_mail = smtp_server.messages[-1]
    assert "通过" in accepted_mail["subject"] and "官亭镇" in accepted_mail.get_content()
    # 张王疃乡 has no channel: its rejection is kept and reported as undeliverable, not lost
    (zwt,) = _notices(recipient="zhangwangtuan", kind="rejected")
    assert zwt.status == "failed" and zwt.last_error == "没有可用的联系方式"
    assert "year.mismatch" in zwt.rules and "template.outdated" in zwt.rules

    before = (len(http_receiver.posts), len(smtp_server.messages), len(_notices()))
    for code, n in (("wanghuzhai", "000"), (None, "002")):  # the same bytes again
        (src,) = SEEDS.glob(f"{n}_*.txt")
        _drop(county, code, src, name="再次发送.txt")
    r = run(intake, as_of=FIRST + timedelta(hours=1))
    assert len(r.files) == 2 and r.new == []
    assert (len(http_receiver.posts), len(smtp_server.messages), len(_notices())) == before


def test_prefect_names_tags_and_artifacts(county, http_receiver):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        FlowRunFilter,
        FlowRunFilterName,
        TaskRunFilter,
        TaskRunFilterFlowRunId,
    )
    from prefect.client.schemas.sorting import ArtifactSort, FlowRunSort

    run(open_cycle, deadline=DEADLINE, as_of=KICKOFF)
    spec = ReportSpec(body="巨鹿县官亭镇人民政府", table3=balanced_table3(__import__("random").Random(1), 8))
    write_docx(spec, county / "inbox" / "guanting" / "官亭镇年报.docx")
    bad = spec.copy()
    bad.table3["total"][0] += 1
    write_txt(bad, county / "inbox" / "wanghuzhai" / "王虎寨镇.txt")
    run(intake, as_of=FIRST)
    with get_client(sync_client=True) as client:
        fr = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=["intake-julu-2024"])),
                                   sort=FlowRunSort.START_TIME_DESC)[0]  # this test's run: the session has others
        assert {"county-julu", "year-2024"} <= set(fr.tags)
        names = {t.name for t in client.read_task_runs(
            task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[fr.id])))}
        assert {"check-guanting-1", "check-wanghuzhai-2"} <= names
        assert len(names) <= 2 + 5  # coarse: a task run per file and a few for the whole run
        table = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["cycle-julu-2024"])),
                                      sort=ArtifactSort.CREATED_DESC)  # the newest version: after intake
        rows = json.loads(table[0].data)
        assert len(rows) == 17 and {r["单位"]: r["结论"] for r in rows}["王虎寨镇"] == "退回"
        assert {r["单位"]: r["最近通知"] for r in rows}["官亭镇"] == "通过通知（已发送）"
        md = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["submission-julu-2024-wanghuzhai-v1"])), sort=ArtifactSort.CREATED_DESC)
        assert "table3.results_total" in md[0].data
        progress = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["intake-julu-2024"])),
                                         sort=ArtifactSort.CREATED_DESC)
        assert progress and float(progress[0].data) == 100.0


def test_secrets_stay_out_of_prefect_the_database_and_the_logs(county, http_receiver, smtp_server, caplog):
    from prefect.client.orchestration import get_client

    caplog.set_level("DEBUG")
    http_receiver.stop()  # failures log more than successes do
    run(open_cycle, deadline=DEADLINE, as_of=KICKOFF)
    http_receiver.start()
    run(intake, as_of=KICKOFF + timedelta(hours=2))
    with get_client(sync_client=True) as client:
        seen = [json.dumps(fr.parameters, default=str) for fr in client.read_flow_runs()]
        seen += [str(a.data) for a in client.read_artifacts()]
        seen += [log.message for log in client.read_logs()]
    for n in _notices():
        seen += [n.channel, n.last_error or "", n.body, n.subject, n.idempotency_key]
    from service.env import env

    with session_scope(env().factory) as s:
        seen += [json.dumps(e.details, ensure_ascii=False) for e in s.scalars(select(AuditEvent))]
    seen += [r.getMessage() for r in caplog.records]
    assert seen and not [x for x in seen if TOKEN in x]


def test_receiver_down_then_up_every_notice_exactly_once(county, http_receiver):
    http_receiver.stop()
    r = run(open_cycle, deadline=DEADLINE, as_of=KICKOFF)
    assert r.delivery.sent == 1 and r.delivery.failed == 3  # only the mail got through
    failed = _notices(status="failed", channel="联络员 json")
    assert len(failed) == 3 and all(n.attempts == 1 and n.next_attempt_at for n in failed)
    r = run(intake, as_of=KICKOFF + timedelta(seconds=30))  # still down, and the backoff not over
    assert r.delivery.sent == 0
    http_receiver.start()
    run(intake, as_of=KICKOFF + timedelta(seconds=40))
    assert http_receiver.posts == []  # up, but the backoff is not over: nothing yet
    run(intake, as_of=KICKOFF + timedelta(minutes=5))
    run(intake, as_of=KICKOFF + timedelta(minutes=30))  # a re-run sends nothing again
    keys = _keys(http_receiver)
    assert len(keys) == 3 and len(set(keys)) == 3
    assert all(n.status == "sent" for n in _notices() if n.channel != "none")


def test_intake_killed_midway_then_run_again(county, http_receiver, tmp_path):
    """SIGKILL an intake run halfway through its files; the next run records each file once and
    sends each notice once."""
    run(open_cycle, deadline=DEADLINE, as_of=KICKOFF)
    sent_before = len(http_receiver.posts)
    from nianbao.bodies import load_roster
    from nianbao.examples import example_set

    files = []
    for ex in example_set(load_roster(ROSTER), YEAR).values():
        files.append(write_docx(ex.spec, county / "inbox" / (ex.code or "") / ex.file_name(".docx")))
    from prefect.settings import PREFECT_API_URL

    code = ("from tests.test_flows import run\nfrom flows.cycle import intake\n"
            "run(intake, as_of='2025-01-15T10:00:00+08:00')\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ,
                            "PREFECT_API_URL": PREFECT_API_URL.value()}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    from service.env import env

    recorded = 0
    deadline_at = time.monotonic() + 120
    while time.monotonic() < deadline_at and proc.poll() is None:
        with session_scope(env().factory) as s:
            recorded = s.scalar(select(func.count()).select_from(Submission))
        if recorded >= 3:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL and 3 <= recorded < len(files)  # killed halfway
    run(intake, as_of=FIRST + timedelta(minutes=10))
    with session_scope(env().factory) as s:
        subs = list(s.scalars(select(Submission)))
    assert len(subs) == len(files) and len({x.sha256 for x in subs}) == len(files)
    assert not list((county / "inbox").glob("*/*.docx")) and not list((county / "inbox").glob("*.docx"))
    notices = _notices()
    assert len({n.idempotency_key for n in notices}) == len(notices)
    assert {n.submission_id for n in notices if n.kind in ("accepted", "rejected")} >= {
        x.id for x in subs if x.body_id is not None and x.body_id}  # every recorded report was answered
    keys = _keys(http_receiver)[sent_before:]
    assert len(keys) == len(set(keys))  # nothing sent twice


def test_deadline_reminders_overdue_escalation_and_compile(county, http_receiver):
    run(open_cycle, deadline=DEADLINE, as_of=KICKOFF)
    spec = ReportSpec(body="巨鹿县官亭镇人民政府")
    write_docx(spec, county / "inbox" / "guanting" / "官亭镇.docx")
    run(intake, as_of=FIRST)
    r = run(deadline, as_of=datetime.fromisoformat("2025-01-17T09:00+08:00"))  # 14 days before
    assert r.check.reminders == 16 and not r.check.escalation  # not 官亭镇: it has passed
    assert run(deadline, as_of=datetime.fromisoformat("2025-01-20T09:00+08:00")).check.reminders == 0  # no offset
    # 3, 1 and 0 days before fall in the Spring Festival holiday (28 Jan – 4 Feb): one reminder on
    # Monday 27 January, the last working day before it
    r = run(deadline, as_of=datetime.fromisoformat("2025-01-27T09:00+08:00"))
    assert r.check.reminders == 16
    for day in ("2025-01-28", "2025-01-31", "2025-02-01"):  # holiday: nothing, not even overdue
        r = run(deadline, as_of=datetime.fromisoformat(f"{day}T09:00+08:00"))
        assert (r.check.workday, r.check.reminders, r.check.overdue, r.check.escalation) == (False, 0, 0, False)
    r = run(deadline, as_of=datetime.fromisoformat("2025-02-05T09:00+08:00"))  # 1st working day after it
    assert r.check.overdue == 16 and r.check.escalation
    assert run(deadline, as_of=datetime.fromisoformat("2025-02-05T15:00+08:00")).check.overdue == 0  # once a day
    assert run(deadline, as_of=datetime.fromisoformat("2025-02-06T09:00+08:00")).check.overdue == 0  # every 3
    assert run(deadline, as_of=datetime.fromisoformat("2025-02-08T09:00+08:00")).check.overdue == 16  # Saturday: 调休
    reminders = _notices(kind="reminder", recipient="wanghuzhai")
    assert len(reminders) == 2 and "2025年1月31日（星期五）" in reminders[1].body
    assert "最后一个工作日" in reminders[1].body and "还有4天" in reminders[1].subject
    overdue = _notices(kind="overdue", recipient="wanghuzhai")
    assert [n.subject.split("已逾期")[1] for n in overdue] == ["1个工作日", "4个工作日"]
    escalations = [n for n in _notices(kind="digest") if "仍未通过" in n.subject]
    assert len(escalations) == 2 and "王虎寨镇" in escalations[0].body
    assert escalations[0].body.count("个工作日") == 1  # said once

    state = compile_flow(county="julu", year=YEAR, return_state=True)
    assert state.is_failed() and "summary.coverage" in state.message and "王虎寨镇" in state.message
    r = compile_flow(county="julu", year=YEAR, allow_missing=True, reason="演示：其余单位尚未报送")
    assert r.compiled and len(r.missing) == 16
    folder = county / "summary" / "julu-2024"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert [b["code"] for b in summary["bodies"]] == ["guanting"]
    assert summary["tables"]["table3"] == spec.table3
    from nianbao.check import check_file

    compiled = check_file(folder / "巨鹿县2024年政府信息公开工作年度报告.docx", year=YEAR, county="巨鹿县")
    assert compiled.report.table3 == spec.table3 and compiled.report.body == "巨鹿县人民政府"
    (notice,) = [n for n in _notices(kind="summary") if "汇总完成" in n.subject]
    assert sorted(Path(a).suffix for a in notice.attachments) == [".docx", ".json", ".xlsx"]
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        (md, *_) = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["compile-julu-2024"])),
                                         sort=ArtifactSort.CREATED_DESC)
    assert "本年新收政府信息公开申请" in md.data and "file://" in md.data and "经批准缺报 16 个" in md.data
    from service.env import env

    with session_scope(env().factory) as s:
        (override,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "compile.override"))
        assert override.details["reason"] == "演示：其余单位尚未报送"


def test_a_cycle_opened_after_its_deadline_is_refused_unless_confirmed(county):
    state = run(open_cycle, deadline=DEADLINE, return_state=True)  # today: long after 31 January 2025
    assert state.is_failed() and "已经过去" in state.message and "--confirm-late" in state.message
    assert _notices() == []  # nothing opened, nobody told
    r = run(open_cycle, deadline=DEADLINE, confirm_late=True)
    assert r.opened.late and r.queued == 18
    assert all("截止日期已过" in n.body for n in _notices(kind="kickoff"))
    for _ in range(2):  # the first deadline run, then another the same day
        run(deadline)
    per_body = {}
    for n in _notices(kind="overdue"):  # a body with two channels gets the notice on each: count per channel
        per_body[n.recipient, n.channel] = per_body.get((n.recipient, n.channel), 0) + 1
        assert "个工作日" in n.subject
    assert all(k == 1 for k in per_body.values())  # at most one each, not one per day late


def test_deployments_follow_the_open_cycles_with_schedules_in_shanghai():
    import anyio
    from prefect.flows import load_flow_from_entrypoint

    from deployments.sync import wanted
    from nianbao.settings import Settings

    served = {f"{d.flow_name}/{d.name}": d for d in anyio.run(wanted, "julu", [2024, 2025], Settings())}
    assert set(served) == {"open-cycle/julu", *(f"{f}/julu-{y}" for f in ("intake", "deadline", "compile")
                                                for y in (2024, 2025))}
    assert [(s.schedule.cron, s.schedule.timezone) for s in served["deadline/julu-2025"].schedules] == [
        ("0 9 * * *", "Asia/Shanghai")]
    assert [(s.schedule.cron, s.schedule.timezone) for s in served["intake/julu-2025"].schedules] == [
        ("*/10 * * * *", "Asia/Shanghai")]
    assert served["compile/julu-2025"].schedules == [] and served["open-cycle/julu"].schedules == []
    assert all(set(d.parameters) <= {"county", "year"} for d in served.values())  # never a secret
    assert all(d.work_pool_name is None for d in served.values())
    for d in served.values():  # module paths: a worker needs nianbao installed, not a checkout
        assert ":" not in d.entrypoint and load_flow_from_entrypoint(d.entrypoint).name == d.flow_name
    pooled = {f"{d.flow_name}/{d.name}": d for d in anyio.run(wanted, "julu", [2025], Settings(), "nianbao")}
    assert set(pooled) == {"open-cycle/julu@nianbao", "sync-deployments/julu@nianbao", "intake/julu-2025@nianbao",
                           "deadline/julu-2025@nianbao", "compile/julu-2025@nianbao",
                           "intake-part/julu-2025@nianbao"}  # started by a big intake, never scheduled
    assert pooled["intake-part/julu-2025@nianbao"].schedules == []
    assert not set(pooled) & set(served) and all(d.work_pool_name == "nianbao" for d in pooled.values())
    fast = anyio.run(wanted, "julu", [2025], Settings(schedule_every_s=15))
    assert {s.schedule.interval.total_seconds() for d in fast for s in d.schedules} == {15}


def test_the_office_report_counts_or_not_by_setting(county, monkeypatch):
    """include_office_report: the roster's office.body (县政府办) is in the county's tables or not."""
    from nianbao.settings import get_settings
    from tasks.cycle import compile_cycle

    run(open_cycle, deadline=DEADLINE, as_of=KICKOFF)
    office = ReportSpec(body="巨鹿县人民政府办公室", table3=balanced_table3(__import__("random").Random(9), 30))
    town = ReportSpec(body="巨鹿县官亭镇人民政府")
    write_docx(office, county / "inbox" / "xianzhengfuban" / "县政府办.docx")
    write_docx(town, county / "inbox" / "guanting" / "官亭镇.docx")
    run(intake, as_of=FIRST)
    for include, codes in ((True, ["guanting", "xianzhengfuban"]), (False, ["guanting"])):
        monkeypatch.setenv("NIANBAO_INCLUDE_OFFICE_REPORT", str(include).lower())
        get_settings.cache_clear()
        r = compile_cycle.fn("julu", YEAR, allow_missing=True, reason="测试")
        summary = json.loads((Path(r.folder) / "summary.json").read_text(encoding="utf-8"))
        assert sorted(b["code"] for b in summary["bodies"]) == codes


def _snapshot():
    from service.env import env

    with session_scope(env().factory) as s:
        subs = sorted((x.body.code if x.body else "", x.version, x.verdict, x.original_name, x.sha256, x.errors,
                       tuple(sorted(f.rule for f in x.findings))) for x in s.scalars(select(Submission)))
        notices = sorted((n.kind, n.recipient, n.channel, n.status) for n in s.scalars(select(Notice)))
    return subs, notices


def _many_files(tmp: Path) -> list[tuple[str | None, Path]]:
    """Several bodies, two versions of one (flawed, then fixed: the order decides the versions),
    a file of no folder's body that is 官亭镇's by its text, and one no body's at all. Made once:
    a .docx carries its making time, and both runs must see the same bytes."""
    import random

    def spec(body: str, flaw: bool = False) -> ReportSpec:
        t3 = balanced_table3(random.Random(len(body)), 10)
        if flaw:
            t3["new"][-1] += 3
        return ReportSpec(body=body, table3=t3)

    tmp.mkdir(exist_ok=True)
    files: list[tuple[str | None, Path]] = []
    for code, body in (("wanghuzhai", "巨鹿县王虎寨镇人民政府"), ("julu", "巨鹿县巨鹿镇人民政府"),
                       ("dicun", "巨鹿县堤村乡人民政府"), ("xiaolvzhai", "巨鹿县小吕寨镇人民政府")):
        files.append((code, write_docx(spec(body), tmp / f"{code}.docx")))
    files.append(("guanting", write_docx(spec("巨鹿县官亭镇人民政府", flaw=True), tmp / "a-初稿.docx")))
    files.append(("guanting", write_txt(spec("巨鹿县官亭镇人民政府"), tmp / "b-修改.txt")))
    files.append((None, write_txt(spec("巨鹿县官亭镇人民政府", flaw=True), tmp / "c-官亭镇再报.txt")))
    files.append((None, write_txt(spec("巨鹿县某某乡人民政府"), tmp / "d-不明.txt")))
    files.append(("julu", write_txt(spec("巨鹿县巨鹿镇人民政府", flaw=True), tmp / "e-巨鹿镇.txt")))
    return files


def test_intake_on_every_core_records_what_one_file_at_a_time_does(county, tmp_path, monkeypatch, http_receiver,
                                                                   caplog):
    """The files are read on two processes, checked and recorded in the inbox's order: the same
    versions, verdicts, findings (similarity to the other bodies' reports, too) and notices."""
    from db import migrate, repo
    from nianbao.bodies import load_roster
    from nianbao.settings import get_settings
    from notifications.urls import url_problem
    from service.env import env

    files = _many_files(tmp_path / "files")
    snaps = []
    for n, (data, jobs) in enumerate(((county, 1), (tmp_path / "data2", 2))):
        monkeypatch.setenv("NIANBAO_JOBS", str(jobs))
        if n:  # a second county database, the same roster and files
            monkeypatch.setenv("NIANBAO_DATA_DIR", str(data))
        get_settings.cache_clear()
        if n:
            migrate.upgrade(get_settings().db_url())
            with session_scope(env().factory) as s:
                repo.import_roster(s, load_roster(tmp_path / "roster.yaml", url_problem=url_problem), "test")
        run(open_cycle, deadline=DEADLINE, as_of=KICKOFF)
        for code, src in files:
            _drop(data, code, src)
        caplog.clear()
        r = run(intake, as_of=FIRST)
        assert len(r.new) == len(files)
        assert (f"{len(files)} 个文件已在 2 个进程上并行读取" in caplog.text) == (jobs == 2)
        snaps.append(_snapshot())
    for one, every in zip(*snaps, strict=True):  # submissions, then notices
        assert [x for x in one if x not in every] == [x for x in every if x not in one]
        assert one == every
    guanting = [(name, v, verdict) for code, v, verdict, name, *_ in snaps[1][0] if code == "guanting"]
    # the intake's order (the body's own folder, then the root's files its text names), whatever was read first
    assert sorted(guanting, key=lambda g: g[1]) == [("a-初稿.docx", 1, "rejected"), ("b-修改.txt", 2, "accepted"),
                                                    ("c-官亭镇再报.txt", 3, "rejected")]
