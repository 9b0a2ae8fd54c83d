"""All deployments from one process (`nianbao serve`), schedules in Asia/Shanghai:

- deadline: daily at 09:00 from 1 January to the end of February;
- intake: every 10 minutes from December to March;
- open-cycle and compile: on demand (from the UI or `prefect deployment run`).

Parameters are the county's code and the year, never a URL or a password: those come from the
NIANBAO_* environment of the serving process.
"""

from __future__ import annotations

from prefect.schedules import Cron

from flows.cycle import compile_flow, deadline, intake, open_cycle

TIMEZONE = "Asia/Shanghai"
DEADLINE_CRON = "0 9 * 1,2 *"  # 09:00 every day of January and February
INTAKE_CRON = "*/10 * * 12,1,2,3 *"  # every 10 minutes, December to March


def build(county: str, year: int, timezone: str = TIMEZONE) -> list:
    tags = [f"county-{county}", f"year-{year}"]
    params = {"county": county, "year": year}
    return [
        intake.to_deployment(f"intake-{county}-{year}", schedules=[Cron(INTAKE_CRON, timezone=timezone)],
                             parameters=params, tags=tags, description="收件：检查并登记新报送的年度报告，通知各单位和县政务公开办"),
        deadline.to_deployment(f"deadline-{county}-{year}", schedules=[Cron(DEADLINE_CRON, timezone=timezone)],
                               parameters=params, tags=tags, description="每日：截止前提醒，逾期催报，全部通过后汇总"),
        open_cycle.to_deployment(f"open-cycle-{county}-{year}", parameters={**params, "deadline": f"{year + 1}-01-31"},
                                 tags=tags, description="开启报送周期并发出启动通知"),
        compile_flow.to_deployment(f"compile-{county}-{year}", parameters=params, tags=tags,
                                   description="汇总全县报告（有单位未通过时拒绝，除非写明理由）"),
    ]


def serve(county: str, year: int) -> None:
    from prefect import serve as prefect_serve

    # pause_on_shutdown=False: stopping the server process must not pause January's schedules
    prefect_serve(*build(county, year), pause_on_shutdown=False)
