"""open-cycle · intake · deadline · compile."""

from __future__ import annotations

import logging
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.exceptions import FailedRun
from prefect.states import Failed
from prefect.utilities.annotations import quote

from nianbao.check import default_jobs
from notifications.outbox import Delivery
from service.county_report import Compiled
from service.cycle import Opened
from service.deadline import DeadlineCheck
from service.env import env
from service.inbox import Aside, read_ahead
from service.inbox import intake_lock as inbox_lock
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
from tasks.inbox import TASK_RUNS, poll_mailbox, process_files, queue_office_digest, scan_inbox
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
def intake(county: str, year: int, as_of: datetime | None = None) -> IntakeRun:
    """New files from the inbox: stored, checked, recorded, and the bodies and the office told
    (the office in one digest per run). One intake at a time on an inbox; an entry that cannot be
    taken is set aside or left for the next run, and the others are taken all the same."""
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
        bar = artifacts.progress_start(artifacts.key("intake", county, year), f"收件 {len(scan.files)} 个文件")
        # read on every core while each file is checked and recorded in turn, in the inbox's order:
        # versions, duplicates and comparisons with other reports are a sequential run's. A few
        # files a task run, so that a big intake makes at most TASK_RUNS of them
        n = len(scan.files)
        size = max(1, -(-n // TASK_RUNS))
        ahead_read = 0
        with closing(read_ahead(env(), scan.files, window=2 * size)) as ahead:  # the readers stop with the loop
            for start in range(0, n, size):
                chunk = scan.files[start:start + size]
                pre = [next(ahead) for _ in chunk]
                ahead_read += sum(p is not None for p in pre)
                label = (f"{chunk[0].code or 'unassigned'}-{start + 1}" if len(chunk) == 1
                         else f"{start + 1}-{start + len(chunk)}")
                for done in process_files(chunk, county, year, label=label, as_of=as_of, prereads=quote(pre)):
                    if isinstance(done, Aside):
                        aside.append(done)
                    elif done is not None:
                        results.append(done)
                artifacts.progress(bar, 100.0 * (start + len(chunk)) / n)
        if ahead_read:
            log.info("%d 个文件已在 %d 个进程上并行读取", ahead_read, default_jobs(env().settings))
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
