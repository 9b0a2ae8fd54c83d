"""Commands that run the cycle's flows: run open-cycle / intake / deadline, compile, serve."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from cli.memory import CountyOpt, Dir, _fail, open_db, settings_for

out = Console()
run_app = typer.Typer(help="Run one of the cycle's flows now (as the schedules would).", no_args_is_help=True)

AsOf = Annotated[str | None, typer.Option("--as-of", help="Rehearse as if it were this moment (ISO, e.g. 2025-01-20T09:00+08:00).")]
YearOpt = Annotated[int | None, typer.Option(help="The cycle's year (default: the open cycle).")]


def use_data_dir(data_dir: Path | None) -> None:
    """Flows read their settings from the environment (no secrets as parameters): point it here."""
    from nianbao.settings import get_settings

    if data_dir is not None:
        os.environ["NIANBAO_DATA_DIR"] = str(data_dir)
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


@run_app.command("open-cycle")
def run_open_cycle(
    year: Annotated[int, typer.Option(min=2008, max=2100)],
    deadline: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    county: CountyOpt = None,
    as_of: AsOf = None,
    data_dir: Dir = None,
) -> None:
    """Open the cycle and send the kickoff notice (with the blank template) to every body."""
    from flows.cycle import open_cycle

    use_data_dir(data_dir)
    code, _, _ = resolve(county, None, data_dir, need_cycle=False)
    try:
        due = date.fromisoformat(deadline)
    except ValueError:
        raise _fail("截止日期应写作 YYYY-MM-DD") from None
    result = run_tagged(open_cycle, code, year, deadline=due, as_of=_as_of(as_of))
    out.print(f"已开启 {year} 年度报送周期；启动通知 {result['queued']} 条，已发 {result['sent']}，失败 {result['failed']}。")


@run_app.command("intake")
def run_intake(county: CountyOpt = None, year: YearOpt = None, as_of: AsOf = None, data_dir: Dir = None) -> None:
    """Take in what is waiting in the inbox (DIR/inbox/<body code>/…)."""
    from flows.cycle import intake

    use_data_dir(data_dir)
    code, year, _ = resolve(county, year, data_dir)
    r = run_tagged(intake, code, year, as_of=_as_of(as_of))
    out.print(f"收件 {r['files']} 个文件，新登记 {r['new']}；通知已发 {r['sent']}，失败 {r['failed']}。")


@run_app.command("deadline")
def run_deadline(county: CountyOpt = None, year: YearOpt = None, as_of: AsOf = None, data_dir: Dir = None) -> None:
    """Reminders, overdue notices, escalation — and compile when every body has passed."""
    from flows.cycle import deadline

    use_data_dir(data_dir)
    code, year, _ = resolve(county, year, data_dir)
    r = run_tagged(deadline, code, year, as_of=_as_of(as_of))
    out.print(f"提醒 {r['reminders']}，催报 {r['overdue']}；通知已发 {r['sent']}，失败 {r['failed']}。"
              + ("全部通过，已汇总。" if r.get("compile") else ""))


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
    result = state.result()
    out.print(f"已汇总 {result['bodies']} 个单位：")
    for f in result["files"]:
        out.print(f"  {f}")


def serve_cmd(county: CountyOpt = None, year: YearOpt = None, data_dir: Dir = None) -> None:
    """Serve every deployment of the cycle from this process (schedules in Asia/Shanghai; the
    schedules stay active when this process stops). Needs a Prefect server: PREFECT_API_URL."""
    use_data_dir(data_dir)
    code, year, name = resolve(county, year, data_dir)
    from deployments.serve import serve

    out.print(f"{name}{year}年度：收件每10分钟（12月至3月），截止检查每天9:00（1、2月），北京时间。界面：Prefect UI（默认 http://127.0.0.1:4200）")
    serve(code, year)
