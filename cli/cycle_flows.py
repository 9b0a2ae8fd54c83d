"""Commands that run the cycle's flows: run open-cycle / intake / deadline, compile, serve."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from cli.output import safe
from cli.records import CountyOpt, Dir, _fail, open_db, settings_for

out = Console(soft_wrap=True)  # long Chinese lines: the terminal wraps them, rich does not cut them
run_app = typer.Typer(help="Run one of the cycle's flows now (as the schedules would).", no_args_is_help=True)

AsOf = Annotated[str | None, typer.Option("--as-of", help="Rehearse as if it were this moment (ISO, e.g. 2025-01-20T09:00+08:00).")]
YearOpt = Annotated[int | None, typer.Option(help="The cycle's year (default: the open cycle).")]


def use_data_dir(data_dir: Path | None) -> None:
    """Flows read their settings from the environment (no secrets as parameters): point it here."""
    from nianbao.settings import get_settings

    if data_dir is not None:
        os.environ["NIANBAO_DATA_DIR"] = str(data_dir)
    get_settings.cache_clear()
    # absolute: flow runs started by `serve` or a worker run in another working directory
    os.environ["NIANBAO_DATA_DIR"] = str(get_settings().data_dir.resolve())
    get_settings.cache_clear()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def resolve(county: str | None, year: int | None, data_dir: Path | None,
            need_cycle: bool = True) -> tuple[str, int | None, str]:
    """(county code, year, county name) of the cycle a command is about; `county` may be the
    name or the code; without a year, the open cycle's."""
    from db import repo
    from db.session import session_scope

    factory = open_db(settings_for(data_dir))
    with session_scope(factory) as s:
        try:
            try:
                c = repo.county_by_code(s, county) if county else repo.county(s)
            except repo.NotFound:
                c = repo.county(s, county)
            if year is None and need_cycle:
                year = repo.cycle(s, c).year
        except repo.NotFound as exc:
            raise _fail(str(exc)) from None
        return c.code, year, c.name


def run_tagged(flow, code: str, year: int, **params: Any):
    """Run a flow with the county's and the year's tags on the run and its tasks."""
    from prefect import tags

    with tags(f"county-{code}", f"year-{year}"):
        return flow(county=code, year=year, **params)


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise _fail("--as-of 应写作 ISO 时间，如 2025-01-20T09:00+08:00") from None


ConfirmLate = Annotated[bool, typer.Option("--confirm-late", help="Open it although its deadline has passed.")]


@run_app.command("open-cycle")
def run_open_cycle(
    year: Annotated[int, typer.Option(min=2008, max=2100)],
    deadline: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    county: CountyOpt = None,
    offsets: Annotated[str | None, typer.Option(help="Reminder days before the deadline, e.g. 14,7,3,1,0.")] = None,
    as_of: AsOf = None,
    confirm_late: ConfirmLate = False,
    data_dir: Dir = None,
) -> None:
    """Open the cycle and send the kickoff notice (with the blank template) to every body."""
    from flows.cycle import open_cycle

    use_data_dir(data_dir)
    code, _, _ = resolve(county, None, data_dir, need_cycle=False)
    try:
        due = date.fromisoformat(deadline)
        days = [int(x) for x in offsets.split(",")] if offsets else None
    except ValueError:
        raise _fail("截止日期应写作 YYYY-MM-DD，提醒天数写作 14,7,3,1,0。") from None
    state = run_tagged(open_cycle, code, year, deadline=due, reminder_offsets=days, as_of=_as_of(as_of),
                       confirm_late=confirm_late, return_state=True)
    if state.is_failed():
        raise _fail(state.message or "未能开启报送周期")
    run = state.result()
    if run.opened.calendar:
        out.print(f"[yellow]注意：{safe(run.opened.calendar)}[/yellow]")
    out.print(f"已开启 {year} 年度报送周期；启动通知 {run.queued} 条，已发 {run.delivery.sent}，失败 {run.delivery.failed}。")
    out.print(f"收件目录：{safe(run.opened.inbox)}（每个单位一个以代码命名的子目录；不知道是谁的报告放在收件目录本身）")


@run_app.command("intake")
def run_intake(county: CountyOpt = None, year: YearOpt = None, as_of: AsOf = None, data_dir: Dir = None) -> None:
    """Take in what is waiting in the inbox (DIR/inbox/<body code>/…)."""
    from flows.cycle import intake

    use_data_dir(data_dir)
    code, year, _ = resolve(county, year, data_dir)
    r = run_tagged(intake, code, year, as_of=_as_of(as_of))
    if r.skipped:
        out.print(safe(r.skipped))
    held = sum(1 for f in r.new if f.state == "held")
    out.print(f"收件 {len(r.files)} 个文件，新登记 {len(r.new)}" + (f"（其中暂存待认定 {held}）" if held else "")
              + f"；通知已发 {r.delivery.sent}，失败 {r.delivery.failed}。")
    for a in r.aside:  # set aside (quarantined) or left for the next run
        out.print(safe(f"  《{a.file}》：{a.reason}" + (f"（{a.kept_as}）" if a.kept_as else "")))


@run_app.command("deadline")
def run_deadline(county: CountyOpt = None, year: YearOpt = None, as_of: AsOf = None, data_dir: Dir = None) -> None:
    """Reminders, overdue notices, escalation — and compile when every body has passed."""
    from flows.cycle import deadline

    use_data_dir(data_dir)
    code, year, _ = resolve(county, year, data_dir)
    r = run_tagged(deadline, code, year, as_of=_as_of(as_of))
    c = r.check
    out.print(("" if c.workday else "今天不是工作日：") + f"提醒 {c.reminders}，催报 {c.overdue}；"
              f"通知已发 {r.delivery.sent}，失败 {r.delivery.failed}。" + ("全部通过，已汇总。" if r.compiled else ""))


def compile_cmd(
    county: CountyOpt = None,
    year: YearOpt = None,
    allow_missing: Annotated[bool, typer.Option("--allow-missing", help="Compile without the missing bodies.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why (required with --allow-missing; kept in the audit).")] = None,
    data_dir: Dir = None,
) -> None:
    """Compile the county's tables from every body's accepted report."""
    from flows.cycle import compile_flow

    if allow_missing and not (reason or "").strip():
        raise _fail("--allow-missing 必须同时用 --reason 写明理由（记入审计记录）。")
    use_data_dir(data_dir)
    code, year, _ = resolve(county, year, data_dir)
    state = run_tagged(compile_flow, code, year, allow_missing=allow_missing, reason=reason, return_state=True)
    if state.is_failed():
        raise _fail(state.message or "汇总未完成", 1)
    from nianbao.settings import get_settings

    done = state.result()
    out.print(f"已汇总 {len(done.bodies)} 个单位：")
    for f in done.paths(get_settings().data_dir):
        out.print(f"  {safe(f)}")


def _need_server() -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise _fail("需要一个 Prefect 服务器，定时任务才会自动运行：先在另一个终端运行 prefect server start，"
                    "再设置 PREFECT_API_URL=http://127.0.0.1:4200/api（或服务器的地址）。")
    return url


def serve_cmd(county: CountyOpt = None, data_dir: Dir = None) -> None:
    """Serve the deployments of every open cycle from this process (one machine). New cycles are
    picked up while it runs; compiled ones stop. Needs a Prefect server: PREFECT_API_URL."""
    import anyio

    from deployments.serve import serve
    from deployments.sync import Conflict
    from nianbao.settings import get_settings

    use_data_dir(data_dir)
    api = _need_server()
    code, _, name = resolve(county, None, data_dir, need_cycle=False)
    s = get_settings()
    every = f"每 {s.schedule_every_s:g} 秒" if s.schedule_every_s else f"收件 {s.intake_cron}，截止检查 {s.deadline_cron}"
    out.print(f"{safe(name)}：运行所有进行中的报送周期（{every}，{s.timezone}；每 {s.serve_sync_s:g} 秒查看新开启或已汇总的周期）。")
    out.print(safe(f"收件目录：{(s.data_dir / 'inbox').resolve()}/<单位代码>/　界面：{api.removesuffix('/api')}"))
    try:
        anyio.run(serve, code, s, lambda text: out.print(safe(text)))
    except Conflict as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        out.print("已停止（定时任务未暂停：再次运行 nianbao serve 即继续）。")


def deploy_cmd(
    county: CountyOpt = None,
    pool: Annotated[str | None, typer.Option(help="The work pool (default NIANBAO_WORK_POOL, nianbao).")] = None,
    take_over: Annotated[bool, typer.Option("--take-over", help="Pause the deployments `nianbao serve` registered.")] = False,
    remove: Annotated[bool, typer.Option("--remove", help="Pause this pool's deployments (to go back to serve).")] = False,
    data_dir: Dir = None,
) -> None:
    """Register the open cycles' deployments on a process work pool (created when missing), for
    `prefect worker start --pool …` on one or more machines. A scheduled sync-deployments flow on
    the pool keeps them in line with the database afterwards."""
    import anyio

    from deployments.sync import Conflict, ensure_pool, sync
    from deployments.sync import remove as remove_pool
    from nianbao.settings import get_settings

    use_data_dir(data_dir)
    _need_server()
    code, _, name = resolve(county, None, data_dir, need_cycle=False)
    s = get_settings()
    pool = pool or s.work_pool
    if remove:
        paused = anyio.run(remove_pool, code, pool)
        out.print(safe(f"已暂停工作池 {pool} 中{name}的部署 {len(paused)} 个。"))
        return
    if anyio.run(ensure_pool, pool):
        out.print(safe(f"已建立工作池 {pool}（process 类型）。"))
    try:
        report = anyio.run(lambda: sync(code, pool=pool, take_over=take_over, refresh=True, settings=s))
    except Conflict as exc:
        raise _fail(str(exc)) from None
    out.print(safe(report.text()))
    out.print(safe(f"在每台运行 nianbao 的机器上（相同的 NIANBAO_* 环境，NIANBAO_DATA_DIR 用绝对路径）："
                   f"prefect worker start --pool {pool}"))
