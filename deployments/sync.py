"""The deployments follow the database, not a file edited every year.

For every open cycle of a county: intake and deadline on their schedules, compile on demand;
for the county: open-cycle on demand. A compiled or closed cycle's schedules are paused (its
runs stay in the UI). Two ways to run them, never both for one county at once:

- served (`nianbao serve`): deployments without a work pool, named `julu-2024`, executed by the
  serving process, which looks for new and closed cycles every NIANBAO_SERVE_SYNC_S seconds;
- on a work pool (`nianbao deploy`, then `prefect worker start --pool nianbao` on each machine):
  named `julu-2024@nianbao`, plus a scheduled `sync-deployments/julu@nianbao` that a worker runs
  to do the same looking.

Entrypoints are module paths (`flows.cycle.intake`): a worker needs nianbao installed, not a
checkout at a given path. Parameters are the county's code and the year, never a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import anyio
from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    DeploymentFilterTags,
    FlowFilter,
    FlowFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy, StateType
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.exceptions import ObjectNotFound
from prefect.schedules import Cron, Interval
from prefect.states import Failed

from flows.cycle import compile_flow, deadline, deployment_name, intake, intake_part, open_cycle
from nianbao.settings import Settings, get_settings
from service.cycle import open_years
from service.env import env

if TYPE_CHECKING:
    from prefect.runner import Runner

SERVED = None  # the "pool" of served deployments


class Conflict(RuntimeError):
    """The county's deployments already run the other way (served vs. work pool)."""


def name(county: str, year: int | None = None, pool: str | None = SERVED) -> str:
    return deployment_name(county, year, pool)  # the intake finds its parts' deployment by it


def _schedules(settings: Settings, cron: str) -> list:
    if settings.schedule_every_s:
        return [Interval(timedelta(seconds=settings.schedule_every_s), timezone=settings.timezone)]
    return [Cron(cron, timezone=settings.timezone)]


# a second intake while one still works through a pile of files would only wait for its locks
ONE_AT_A_TIME = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)


async def wanted(county: str, years: list[int], settings: Settings, pool: str | None = SERVED) -> list[RunnerDeployment]:
    """The deployments the county should have for these open cycles."""
    common: dict[str, Any] = {"entrypoint_type": EntrypointType.MODULE_PATH}
    if pool:
        common["work_pool_name"] = pool
    out = [await open_cycle.ato_deployment(
        name(county, pool=pool), parameters={"county": county}, tags=[f"county-{county}"],
        description="开启报送周期并发出启动通知（填写年度 year 和截止日期 deadline）", **common)]
    if pool:
        out.append(await sync_deployments.ato_deployment(
            name(county, pool=pool), parameters={"county": county, "pool": pool}, tags=[f"county-{county}"],
            schedules=_schedules(settings, "*/10 * * * *"),
            description="按数据库中的报送周期更新工作池中的部署：新周期加上，已汇总的暂停", **common))
    for year in years:
        tags = [f"county-{county}", f"year-{year}"]
        params = {"county": county, "year": year}
        out += [
            await intake.ato_deployment(name(county, year, pool), parameters=params, tags=tags,
                                 schedules=_schedules(settings, settings.intake_cron), concurrency_limit=ONE_AT_A_TIME,
                                 description="收件：检查并登记新报送的年度报告，通知各单位和县政务公开办", **common),
            await deadline.ato_deployment(name(county, year, pool), parameters=params, tags=tags,
                                   schedules=_schedules(settings, settings.deadline_cron),
                                   description="每日（工作日）：截止前提醒，逾期催报，全部通过后汇总", **common),
            await compile_flow.ato_deployment(name(county, year, pool), parameters=params, tags=tags,
                                       description="汇总全县报告（有单位未通过时拒绝，除非写明理由）", **common),
        ]
        if pool:  # a big intake's parts, shared by the pool's workers (NIANBAO_INTAKE_PARTS)
            out.append(await intake_part.ato_deployment(
                name(county, year, pool), parameters=params, tags=tags,
                description="收件的一部分（由收件流程按需启动，不定时运行）", **common))
    return out


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    paused: list[str] = field(default_factory=list)
    taken_over: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.paused or self.taken_over)

    def text(self) -> str:
        parts = [f"进行中的年度：{'、'.join(map(str, self.years)) or '无'}"]
        if self.added:
            parts.append(f"新登记部署 {len(self.added)} 个：{'、'.join(self.added)}")
        if self.paused:
            parts.append(f"已暂停（周期已汇总或关闭）：{'、'.join(self.paused)}")
        if self.taken_over:
            parts.append(f"已暂停另一种运行方式的部署：{'、'.join(self.taken_over)}")
        return "；".join(parts)


async def _flow_names(client: Any, ids: set) -> dict:
    if not ids:
        return {}
    flows = await client.read_flows(flow_filter=FlowFilter(id=FlowFilterId(any_=list(ids))))
    return {f.id: f.name for f in flows}


async def sync(county: str, *, pool: str | None = SERVED, runner: Runner | None = None,
               registered: set[str] | None = None, take_over: bool = False, refresh: bool = False,
               settings: Settings | None = None) -> SyncReport:
    """Make the server's deployments of `county` (served, or on `pool`) match its open cycles.
    Deployments already there are left as they are (an operator may have paused one in the UI),
    except that those of cycles no longer open are paused. With a runner, every deployment it
    does not serve yet is registered with it (on start: all of them); `refresh` applies every
    wanted deployment again (new schedules from the settings)."""
    settings = settings or get_settings()
    report = SyncReport(years=await anyio.to_thread.run_sync(open_years, env(settings), county))
    registered = registered if registered is not None else set()
    want = await wanted(county, report.years, settings, pool)
    async with get_client() as client:
        existing = await client.read_deployments(
            deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=[f"county-{county}"])))
        flows = await _flow_names(client, {d.flow_id for d in existing})
        mine, others = {}, []
        for d in existing:
            full = f"{flows.get(d.flow_id, '?')}/{d.name}"
            if (d.work_pool_name or None) == pool:
                mine[full] = d
            elif not d.paused and d.schedules:
                others.append((full, d))
        if others:
            names = "、".join(n for n, _ in others)
            if not take_over:
                how = ("由 nianbao serve 运行" if pool else "在工作池中由 prefect worker 运行")
                raise Conflict(f"该县的部署已{how}且未暂停：{names}。同一个县只能用一种方式运行，以免同一收件被处理两次。"
                               + ("如要改用工作池，请先停止 nianbao serve，再运行 nianbao deploy --take-over。" if pool else
                                  "如要改回 nianbao serve，请在界面中暂停这些部署，或运行 nianbao deploy --remove。"))
            for n, d in others:
                await client.pause_deployment(d.id)
                report.taken_over.append(n)
        wanted_names = set()
        for dep in want:
            full = f"{dep.flow_name}/{dep.name}"
            wanted_names.add(full)
            if full in registered or (full in mine and runner is None and not refresh):
                continue
            if runner is not None:
                await runner.aadd_deployment(dep)
            else:
                await dep.aapply()
            registered.add(full)
            if full not in mine:
                report.added.append(full)
        for full, d in mine.items():
            if full not in wanted_names and not d.paused and d.schedules:
                await client.pause_deployment(d.id)
                report.paused.append(full)
        await _clear_left_runs(client, [d.id for full, d in mine.items() if full not in wanted_names and d.schedules])
    return report


async def _clear_left_runs(client: Any, ids: list) -> None:
    """Scheduled runs of paused deployments, deleted. Pausing deletes them, but the server's
    scheduler can insert a batch it planned a moment before the pause (seen on SQLite under load:
    a hundred runs of a compiled cycle's intake); each sync clears what such a race left."""
    if not ids:
        return
    left = await client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=ids)),
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))),
        limit=200)
    for run in (r for r in left if r.auto_scheduled):  # one an operator started by hand stays
        try:
            await client.delete_flow_run(run.id)
        except ObjectNotFound:  # started or deleted meanwhile
            continue


async def ensure_pool(pool: str) -> bool:
    """The process work pool, created when missing. True if it was created."""
    async with get_client() as client:
        try:
            await client.read_work_pool(pool)
            return False
        except ObjectNotFound:
            await client.create_work_pool(WorkPoolCreate(name=pool, type="process",
                                                         description="nianbao：各年度报送周期的收件、截止检查和汇总"))
            return True


async def remove(county: str, pool: str) -> list[str]:
    """Pause every deployment of the county on `pool` (e.g. to go back to `nianbao serve`)."""
    paused = []
    async with get_client() as client:
        for d in await client.read_deployments(
                deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=[f"county-{county}"]))):
            if d.work_pool_name == pool and not d.paused:
                await client.pause_deployment(d.id)
                paused.append(d.name)
    return paused


@flow(name="sync-deployments", flow_run_name="sync-deployments-{county}")
async def sync_deployments(county: str, pool: str) -> dict[str, Any]:
    """On a work pool: new cycles get their deployments, compiled and closed ones are paused."""
    log = get_run_logger()
    try:
        report = await sync(county, pool=pool)
    except Conflict as exc:
        log.error(str(exc))
        return Failed(message=str(exc))
    log.info(report.text())
    return {"added": report.added, "paused": report.paused, "years": report.years}
