"""open-cycle · intake · deadline · compile."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.exceptions import FailedRun
from prefect.states import Failed

from tasks import artifacts
from tasks.cycle import (
    compile_cycle,
    publish_cycle_table,
    queue_deadline_notices,
    queue_kickoff,
    record_cycle,
)
from tasks.intake import process_file, queue_office_digest, scan_inbox
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


@flow(name="open-cycle", flow_run_name="open-cycle-{county}-{year}")
def open_cycle(county: str, year: int, deadline: date, reminder_offsets: list[int] | None = None,
               as_of: datetime | None = None, confirm_late: bool = False) -> dict[str, Any]:
    """Open the cycle and send every active body the kickoff notice with the blank template. A
    deadline already past is refused unless `confirm_late`."""
    log = get_run_logger()
    opened = record_cycle(county, year, deadline, reminder_offsets, as_of=as_of, confirm_late=confirm_late)
    if opened.get("refused"):
        return _refuse(opened["refused"])
    if opened["calendar"]:
        log.warning(opened["calendar"])
    log.info("收件目录：%s（每个单位一个子目录，以单位代码命名）", opened["inbox"])
    queued = queue_kickoff(county, year, as_of)
    sent = deliver(county, year, as_of)
    publish_cycle_table(county, year, as_of)
    return {"queued": queued, **opened, **sent}


@flow(name="intake", flow_run_name="intake-{county}-{year}")
def intake(county: str, year: int, as_of: datetime | None = None) -> dict[str, Any]:
    """New files from the inbox: stored, checked, recorded, and the bodies and the office told
    (the office in one digest per run)."""
    log = get_run_logger()
    scan = scan_inbox(county, year)
    if scan["skipped"]:
        log.info(scan["skipped"])
    files = scan["files"]
    bar = artifacts.progress_start(artifacts.key("intake", county, year), f"收件 {len(files)} 个文件")
    results = []
    for i, f in enumerate(files, 1):
        label = f"{f['code'] or 'unassigned'}-{i}"
        results.append(process_file(f["path"], f["code"], county, year, label=label, as_of=as_of))
        artifacts.progress(bar, 100.0 * i / len(files))
    digested = queue_office_digest(county, year)
    sent = deliver(county, year, as_of)
    publish_cycle_table(county, year, as_of)
    new = [r for r in results if r["created"]]
    log.info("收件 %d 个文件：新登记 %d，重复 %d；通知已发 %d，失败 %d", len(results), len(new),
             len(results) - len(new), sent["sent"], sent["failed"])
    return {"files": len(results), "new": len(new), "results": results, "digested": digested, **sent}


@flow(name="deadline", flow_run_name="deadline-{county}-{year}")
def deadline(county: str, year: int, as_of: datetime | None = None) -> dict[str, Any]:
    """Daily: on working days, reminders before the deadline, overdue notices and the office's
    escalation after it; when the last body has passed, the county's tables are compiled."""
    log = get_run_logger()
    out = queue_deadline_notices(county, year, as_of)
    out.update(deliver(county, year, as_of))
    publish_cycle_table(county, year, as_of)
    if not out["workday"]:
        log.info("今天不是工作日：不发提醒和催报。")
    else:
        log.info("提醒 %d 条，催报 %d 条%s", out["reminders"], out["overdue"], "，已向县政务公开办通报" if out["escalation"] else "")
    if out["all_accepted"] and out["state"] == "open":
        out["compile"] = compile_flow(county, year, as_of=as_of)
    return out


@flow(name="compile", flow_run_name="compile-{county}-{year}")
def compile_flow(county: str, year: int, allow_missing: bool = False, reason: str | None = None,
                 as_of: datetime | None = None) -> Any:
    """The county's summed tables — refused (summary.coverage) while a body has no accepted report,
    unless the office overrides with a reason."""
    result = compile_cycle(county, year, allow_missing, reason)
    deliver(county, year, as_of)
    publish_cycle_table(county, year, as_of)
    if not result["compiled"]:
        return _refuse(result["message"])
    return result
