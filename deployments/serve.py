"""`nianbao serve`: every open cycle's deployments from one process, on a real Prefect server.

The process registers the deployments of the county's open cycles (see deployments/sync.py),
executes their runs, and every NIANBAO_SERVE_SYNC_S seconds looks again: a cycle opened since
gets its deployments, a compiled or closed one has its schedules paused. Stopping the process
does not pause the schedules (pause_on_shutdown=False): runs wait for it to come back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio

from deployments.sync import Conflict, SyncReport, sync
from nianbao.settings import Settings, get_settings

log = logging.getLogger("nianbao.serve")


async def serve(county: str, settings: Settings | None = None,
                say: Callable[[str], None] = print) -> None:
    from prefect.runner import Runner

    settings = settings or get_settings()
    runner = Runner(name=f"nianbao-{county}", pause_on_shutdown=False)
    registered: set[str] = set()
    report = await sync(county, runner=runner, registered=registered, settings=settings)
    say(_started(report, registered))
    stopped: list[Conflict] = []

    async def keep_in_line() -> None:
        while True:
            await anyio.sleep(settings.serve_sync_s)
            try:
                r = await sync(county, runner=runner, registered=registered, settings=settings)
            except Conflict as exc:  # the county went over to a work pool: make way
                stopped.append(exc)
                tg.cancel_scope.cancel()
                return
            except Exception as exc:  # noqa: BLE001 - the server or the database briefly away: next time
                say(f"查看报送周期时出错（{type(exc).__name__}），{settings.serve_sync_s:g} 秒后再试。")
                log.debug("sync failed", exc_info=True)
                continue
            if r.changed:
                say(r.text())

    async with anyio.create_task_group() as tg:
        tg.start_soon(runner.start)
        tg.start_soon(keep_in_line)
    if stopped:
        raise stopped[0]


def _started(report: SyncReport, registered: set[str]) -> str:
    lines = [report.text(), "正在运行的部署：", *(f"  {n}" for n in sorted(registered))]
    if report.taken_over:
        lines.append("（已暂停另一种方式的部署：" + "、".join(report.taken_over) + "）")
    return "\n".join(lines)
