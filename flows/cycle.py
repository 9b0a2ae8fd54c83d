"""open-cycle · intake · deadline · compile."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.exceptions import FailedRun, ObjectNotFound
from prefect.states import Failed

from nianbao.check import default_jobs
from notifications.outbox import Delivery
from service import intake_work
from service.county_report import Compiled
from service.cycle import Opened
from service.deadline import DeadlineCheck
from service.env import env, now_or
from service.inbox import Aside
from service.inbox import intake_lock as inbox_lock
from service.intake_work import PartDone, Plan
from service.mailbox import MailScan
from service.submission import Brief
from tasks import artifacts
from tasks.cycle import (
    compile_cycle,
    publish_cycle_table,
    queue_deadline_notices,
    queue_kickoff,
    record_cycle,
)
from tasks.inbox import (
    TASK_RUNS,
    poll_mailbox,
    process_files,
    queue_office_digest,
    read_files,
    scan_inbox,
)
from tasks.notify import deliver


class _RefusalWithoutTraceback(logging.Filter):
    """A flow that ends Failed by returning its Failed state (a refused compile, a late open) is
    an answer, not a crash; Prefect's engine still logs "Engine execution exited with unexpected
    exception" with a FailedRun traceback for it, in the run's log (the UI) and in the worker.
    The run has already logged its Chinese reason, so that record is dropped. A real exception is
    not a FailedRun and keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, FailedRun)


logging.getLogger("prefect.flow_runs").addFilter(_RefusalWithoutTraceback())


def _refuse(message: str) -> Any:
    get_run_logger().error(message)
    return Failed(message=message)


@dataclass
class OpenCycleRun:
    opened: Opened
    queued: int  # kickoff notices queued (one per channel)
    delivery: Delivery


@dataclass
class IntakeRun:
    files: list[Brief]
    digested: int  # submissions the office's digest covers
    delivery: Delivery
    skipped: str | None = None  # why this cycle took nothing from the inbox
    aside: list[Aside] = field(default_factory=list)  # set aside (quarantined), or left for the next run
    mail: MailScan | None = None  # the county's mailbox, when NIANBAO_IMAP_HOST is set (its files are in `files` too)

    @property
    def new(self) -> list[Brief]:
        return [f for f in self.files if f.created]


@dataclass
class DeadlineRun:
    check: DeadlineCheck
    delivery: Delivery
    compiled: Compiled | None = None  # when the last body passed and the county's report was made


@flow(name="open-cycle", flow_run_name="open-cycle-{county}-{year}")
def open_cycle(county: str, year: int, deadline: date, reminder_offsets: list[int] | None = None,
               as_of: datetime | None = None, confirm_late: bool = False) -> OpenCycleRun:
    """Open the cycle and send every active body the kickoff notice with the blank template. A
    deadline already past is refused unless `confirm_late`."""
    log = get_run_logger()
    opened = record_cycle(county, year, deadline, reminder_offsets, as_of=as_of, confirm_late=confirm_late)
    if opened.refused:
        return _refuse(opened.refused)
    if opened.calendar:
        log.warning(opened.calendar)
    log.info("收件目录：%s（每个单位一个子目录，以单位代码命名）", opened.inbox)
    queued = queue_kickoff(county, year, as_of)
    sent = deliver(county, year, as_of)
    publish_cycle_table(county, year, as_of)
    return OpenCycleRun(opened, queued, sent)


@flow(name="intake", flow_run_name="intake-{county}-{year}")
def intake(county: str, year: int, as_of: datetime | None = None, parts: int | None = None) -> IntakeRun:
    """New files from the inbox: stored, checked, recorded, and the bodies and the office told
    (the office in one digest per run). One intake at a time on an inbox; an entry that cannot be
    taken is set aside or left for the next run, and the others are taken all the same.

    `parts` (default NIANBAO_INTAKE_PARTS): run from a work pool's deployment, a big intake is
    read and recorded in that many `intake-part` flow runs, which the pool's workers share; the
    database and the notices are those of one process (service/intake_work.py)."""
    log = get_run_logger()
    results: list[Brief] = []
    aside: list[Aside] = []
    with inbox_lock(env()) as got:
        if not got:
            return _refuse("另一次收件仍在进行，等待超时；本次未收件（下次定时收件会继续）。")
        scan = scan_inbox(county, year)
        if scan.skipped:
            log.info(scan.skipped)
        aside += scan.aside
        n = len(scan.files)
        pool_parts = _pool_parts(county, year, n, env().settings.intake_parts if parts is None else parts)
        if n and not intake_work.parts_quiet(env()):
            return _refuse("上一次收件的部分运行仍在进行，等待超时；本次未收件（下次定时收件会继续）。")
        if n:
            plan = intake_work.make_plan(env(), county, year, scan.files, pool_parts[1] if pool_parts else 1,
                                         now_or(as_of))
            # a run that fails leaves its work folder to its parts still at work (removed in 2 days)
            dones = _take_in_parts(plan, pool_parts[0], pool_parts[1], as_of) if pool_parts else _take_here(plan)
            intake_work.remove(env(), plan.id)
            for done in dones:
                if isinstance(done, Aside):
                    aside.append(done)
                elif done is not None:
                    results.append(done)
        mail = poll_mailbox(county, year, as_of) if env().settings.imap_host else None
        if mail is not None:
            results += mail.files
            for problem in mail.errors:
                log.warning("县邮箱：%s", problem)
    digested = queue_office_digest(county, year)
    sent = deliver(county, year, as_of)
    publish_cycle_table(county, year, as_of)
    run = IntakeRun(results, digested, sent, scan.skipped, aside, mail)
    waiting = sum(1 for a in aside if a.deferred)
    log.info("收件 %d 个文件：新登记 %d，重复 %d；隔离 %d，待下次 %d；通知已发 %d，失败 %d", len(results), len(run.new),
             len(results) - len(run.new), len(aside) - waiting, waiting, sent.sent, sent.failed)
    return run


def _take_here(plan: Plan) -> list[Brief | Aside | None]:
    """The whole plan in this run: read on every core, then recorded in order, a few files a task
    run, so that a big intake makes at most TASK_RUNS of them."""
    read = read_files(plan.id, 0, settle=1)
    if read.ahead:
        get_run_logger().info("%d 个文件已在 %d 个进程上并行读取", read.ahead, default_jobs(env().settings))
    settled = intake_work.load_settled(env(), plan.id)
    return _record(plan, [i for part in settled.records for i in part] + settled.rest)


def _record(plan: Plan, indexes: list[int], total: int | None = None) -> list[Brief | Aside | None]:
    out: list[Brief | Aside | None] = []
    size = max(1, -(-(total or len(indexes)) // TASK_RUNS))
    bar = artifacts.progress_start(artifacts.key("intake", plan.county, plan.year),
                                   f"收件 {len(indexes)} 个文件") if indexes else None
    for start in range(0, len(indexes), size):
        chunk = indexes[start:start + size]
        first = plan.files[chunk[0]]
        label = (f"{first.code or 'unassigned'}-{chunk[0] + 1}" if len(chunk) == 1
                 else f"{chunk[0] + 1}-{chunk[-1] + 1}")
        out += process_files(plan.id, chunk, label=label)
        artifacts.progress(bar, 100.0 * (start + len(chunk)) / len(indexes))
    return out


def deployment_name(county: str, year: int | None = None, pool: str | None = None) -> str:
    """`julu-2024@nianbao`: a county's (and year's) deployment on a work pool; `julu-2024` served."""
    base = f"{county}-{year}" if year is not None else county
    return f"{base}@{pool}" if pool else base


def _pool_parts(county: str, year: int, files: int, parts: int) -> tuple[str, int] | None:
    """(the intake-part deployment, how many parts) when this intake is spread over the pool's
    workers: run from a deployment on a work pool, asked for parts, and with at least
    PART_LEAST files a part (a flow run costs seconds to start); else None (all in this run)."""
    from prefect.runtime import deployment

    parts = min(parts, files // PART_LEAST)
    mine = deployment.name if deployment.id else None  # `julu-2024@nianbao` when run from the pool
    if parts < 2 or not mine or "@" not in mine:
        return None
    name = f"intake-part/{mine}"
    try:
        with get_client(sync_client=True) as client:
            client.read_deployment_by_name(name)
    except ObjectNotFound:
        get_run_logger().warning("工作池中没有部署 %s（请运行 nianbao deploy）：本次收件在本进程内完成", name)
        return None
    return name, parts


PART_LEAST = 10  # files a part, at least
PART_TRIES = 3  # runs of a part (the first and two more after a worker died or the run failed)


def _take_in_parts(plan: Plan, name: str, parts: int, as_of: datetime | None) -> list[Brief | Aside | None]:
    """Read, then record, in `parts` intake-part runs each, which the pool's workers share; then
    the root's files here, in order. A part whose worker died (its lock is free, it is not done)
    or whose run failed is run again, by whichever worker is free."""
    log = get_run_logger()
    _run_parts(plan, name, "read", list(range(len(plan.reads))), as_of)
    settled = intake_work.settle(env(), plan, parts)
    dones = _run_parts(plan, name, "record", list(range(len(settled.records))), as_of)
    out: list[Brief | Aside | None] = []
    for done in dones:
        out += [_result(r) for r in done.results]
    if settled.rest:
        log.info("收件目录根下的 %d 个文件在本次运行中逐个登记", len(settled.rest))
        out += _record(plan, settled.rest)
    return out


def _result(r: dict[str, Any]) -> Brief | Aside | None:
    kind = r.pop("kind")
    return Brief(**r) if kind == "brief" else Aside(**r) if kind == "aside" else None


def _run_parts(plan: Plan, name: str, stage: str, parts: list[int], as_of: datetime | None) -> list[PartDone]:
    from prefect.deployments import run_deployment
    from prefect.states import Crashed

    log = get_run_logger()
    e = env()
    tries = dict.fromkeys(parts, 0)
    runs: dict[int, Any] = {}

    def launch(k: int) -> None:
        tries[k] += 1
        runs[k] = run_deployment(name, parameters={"county": plan.county, "year": plan.year, "plan": plan.id,
                                                   "stage": stage, "part": k, "as_of": as_of},
                                 timeout=0, as_subflow=True,
                                 flow_run_name=f"intake-part-{plan.county}-{plan.year}-{stage}-{k + 1}")

    for k in parts:
        launch(k)
    done: dict[int, PartDone] = {}
    stop = time.monotonic() + e.settings.intake_part_wait_s
    with get_client(sync_client=True) as client:
        while len(done) < len(parts):
            if time.monotonic() > stop:
                raise RuntimeError(f"{stage} 阶段有部分未在 {e.settings.intake_part_wait_s:.0f} 秒内完成")
            time.sleep(1.0)
            for k in parts:
                if k in done:
                    continue
                finished = intake_work.finished(e, plan.id, stage, k)
                if finished is not None:
                    done[k] = finished
                    log.info("第 %d 部分（%s）：%s 完成 %d 个文件，用时 %.1f 秒", k + 1, _STAGE[stage],
                             finished.worker, finished.files, finished.seconds)
                    continue
                state = client.read_flow_run(runs[k].id).state
                dead = intake_work.abandoned(e, plan.id, stage, k) if state and state.is_running() else None
                if dead is not None:  # its worker died: the server still thinks it runs
                    client.set_flow_run_state(runs[k].id, Crashed(message="工作进程已停止，该部分交由其他工作进程重做"),
                                              force=True)
                    intake_work.forget(e, dead, plan.id, stage, k)
                elif state is None or not state.is_final():
                    continue
                if intake_work.finished(e, plan.id, stage, k) is not None:
                    continue  # finished meanwhile: taken next round
                if tries[k] >= PART_TRIES:
                    raise RuntimeError(f"{stage} 阶段第 {k + 1} 部分运行 {tries[k]} 次均未完成")
                log.warning("第 %d 部分（%s）未完成（%s），重新运行", k + 1, _STAGE[stage],
                            "工作进程已停止" if dead is not None else state.name if state else "?")
                launch(k)
    return [done[k] for k in parts]


_STAGE = {"read": "读取", "record": "登记"}


@flow(name="intake-part")  # named by the intake that starts it (`…-record-2`: parts counted from 1)
def intake_part(county: str, year: int, plan: str, stage: str, part: int,
                as_of: datetime | None = None) -> dict[str, Any]:
    """One part of an intake spread over a pool's workers (started by the intake, never on a
    schedule): `read` reads its files, `record` takes its bodies' files in order."""
    from prefect.runtime import flow_run

    e = env()
    with intake_work.part_lock(e, plan, stage, part, str(flow_run.get_id())) as got:
        if not got:
            return _refuse("同一部分的上一次运行仍未结束，等待超时。")
        began = time.monotonic()
        if stage == "read":
            done = read_files(plan, part)
        else:
            the_plan = intake_work.load_plan(e, plan)
            indexes = intake_work.load_settled(e, plan).records[part]
            results = _record(the_plan, indexes, total=len(the_plan.files))
            done = PartDone("record", part, intake_work.worker_name(), len(indexes), time.monotonic() - began,
                            [_plain(r) for r in results])
        intake_work.finish(e, done, plan)
    return {"worker": done.worker, "files": done.files, "seconds": round(done.seconds, 1)}


def _plain(r: Brief | Aside | None) -> dict[str, Any]:
    if r is None:
        return {"kind": "gone"}
    return {"kind": "brief" if isinstance(r, Brief) else "aside", **asdict(r)}


@flow(name="deadline", flow_run_name="deadline-{county}-{year}")
def deadline(county: str, year: int, as_of: datetime | None = None) -> DeadlineRun:
    """Daily: on working days, reminders before the deadline, overdue notices and the office's
    escalation after it; when the last body has passed, the county's report is compiled."""
    log = get_run_logger()
    check = queue_deadline_notices(county, year, as_of)
    run = DeadlineRun(check, deliver(county, year, as_of))
    publish_cycle_table(county, year, as_of)
    if not check.workday:
        log.info("今天不是工作日：不发提醒和催报。")
    else:
        log.info("提醒 %d 条，催报 %d 条%s", check.reminders, check.overdue,
                 "，已向县政务公开办通报" if check.escalation else "")
    if check.all_accepted and check.state == "open":
        run.compiled = compile_flow(county, year, as_of=as_of)
    return run


@flow(name="compile", flow_run_name="compile-{county}-{year}")
def compile_flow(county: str, year: int, allow_missing: bool = False, reason: str | None = None,
                 as_of: datetime | None = None) -> Compiled:
    """The county's report — refused (summary.coverage) while a body has no accepted report,
    unless the office overrides with a reason."""
    done = compile_cycle(county, year, allow_missing, reason)
    deliver(county, year, as_of)
    publish_cycle_table(county, year, as_of)
    if not done.compiled:
        return _refuse(done.message)
    return done
