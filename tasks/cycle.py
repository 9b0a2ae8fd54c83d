"""Opening a cycle, the daily deadline check, compiling the county's report, the cycle's table:
the service's use cases as Prefect tasks, and what the UI shows of them."""

from __future__ import annotations

from datetime import date, datetime

from prefect import task

from service import county_report
from service import cycle as cycles
from service.county_report import Compiled
from service.cycle import Opened
from service.deadline import DeadlineCheck, deadline_check
from service.env import env
from tasks import artifacts


@task(name="open-cycle-record")
def record_cycle(county_code: str, year: int, deadline: date, offsets: list[int] | None = None,
                 as_of: datetime | str | None = None, confirm_late: bool = False) -> Opened:
    e = env()
    return cycles.open_cycle(e, county_code, year, deadline, offsets, e.today(as_of), confirm_late=confirm_late,
                             actor="flow:open-cycle")


@task(name="kickoff-notices")
def queue_kickoff(county_code: str, year: int, as_of: datetime | str | None = None) -> int:
    e = env()
    return cycles.kickoff(e, county_code, year, e.today(as_of))


@task(name="deadline-notices")
def queue_deadline_notices(county_code: str, year: int, as_of: datetime | str | None = None) -> DeadlineCheck:
    e = env()
    return deadline_check(e, county_code, year, e.today(as_of))


@task(name="compile-cycle")
def compile_cycle(county_code: str, year: int, allow_missing: bool = False, reason: str | None = None,
                  actor: str = "flow:compile") -> Compiled:
    e = env()
    done = county_report.compile_county_report(e, county_code, year, allow_missing=allow_missing, reason=reason,
                                               actor=actor)
    if done.compiled:
        artifacts.markdown(artifacts.key("compile", county_code, year),
                           artifacts.compile_markdown(done, year, reason, e.data_dir), f"{done.county}{year}年度全县汇总")
    return done


@task(name="cycle-table")
def publish_cycle_table(county_code: str, year: int, as_of: datetime | str | None = None) -> cycles.CycleTable:
    """The cycle's table artifact (cycle-<county>-<year>): one row per body."""
    e = env()
    table = cycles.cycle_table(e, county_code, year, e.today(as_of))
    artifacts.table(artifacts.key("cycle", county_code, year), table.rows, table.title)
    return table
