"""Commands on the cycle's memory: db, roster, cycle, submit, import, status."""

from __future__ import annotations

import getpass
import json
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.output import safe, safe_error
from nianbao.labels import HELD, cycle_state, notice, source_label, verdict, verdict_markup
from nianbao.model import Severity
from nianbao.settings import Settings, get_settings
from nianbao.workdays import zh_date

out = Console(soft_wrap=True)  # long Chinese lines: the terminal wraps them, rich does not cut them
err = Console(stderr=True, soft_wrap=True)

Dir = Annotated[Path | None, typer.Option("--dir", help="Data directory (NIANBAO_DATA_DIR): files and the SQLite database.")]
CountyOpt = Annotated[str | None, typer.Option(help="The county, when the database holds more than one.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]

db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
roster_app = typer.Typer(help="The county's roster of bodies.", no_args_is_help=True)
cycle_app = typer.Typer(help="Reporting cycles.", no_args_is_help=True)


def settings_for(data_dir: Path | None) -> Settings:
    s = get_settings()
    return s.model_copy(update={"data_dir": data_dir}) if data_dir else s


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli"


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]{safe(message)}[/red]")  # messages quote names, files and errors: data
    return typer.Exit(code)


def open_db(s: Settings, migrate: bool = True):
    """The session factory; a brand-new database gets its schema."""
    from db.migrate import SchemaOutOfDate, ensure_schema
    from db.session import make_engine, redacted, session_factory

    url = s.db_url()
    engine = make_engine(url)
    try:
        if migrate:
            ensure_schema(engine, url)
    except SchemaOutOfDate as exc:
        raise _fail(f"{exc}（数据库 {redacted(url)}）") from None
    except Exception as exc:  # noqa: BLE001 - a database we cannot reach: say which, without its password
        raise _fail(f"无法连接数据库 {redacted(url)}：{type(exc).__name__}") from None
    return session_factory(engine)


def open_env(s: Settings):
    """The service's environment (database, notifier) for a command, with the database's problems
    said in Chinese."""
    from notifications.channels import notifier_for
    from service.env import Env

    return Env(s, open_db(s), notifier_for(s.notice_sink))


def _dump(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


# ---- db -------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head", data_dir: Dir = None) -> None:
    """Bring the database schema up to REVISION (default: the newest)."""
    from db.migrate import upgrade
    from db.session import redacted

    s = settings_for(data_dir)
    upgrade(s.db_url(), revision)
    out.print(f"数据库已升级到 {revision}：{redacted(s.db_url())}")


@db_app.command("downgrade")
def db_downgrade(revision: str, data_dir: Dir = None) -> None:
    """Take the schema back to REVISION ("base": empty)."""
    from db.migrate import downgrade

    downgrade(settings_for(data_dir).db_url(), revision)
    out.print(f"数据库已回退到 {revision}")


@db_app.command("current")
def db_current(data_dir: Dir = None) -> None:
    """Print the schema revision of the database and the newest one."""
    from db.migrate import current, heads
    from db.session import make_engine

    engine = make_engine(settings_for(data_dir).db_url())
    out.print(f"current: {current(engine)}  head: {', '.join(heads())}")
    engine.dispose()


# ---- roster ---------------------------------------------------------------------------------


@roster_app.command("import")
def roster_import(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".yaml or .csv")],
                  county: Annotated[str | None, typer.Option(help="The county (a CSV roster does not name it).")] = None,
                  county_code: Annotated[str | None, typer.Option(help="Its pinyin code, e.g. julu.")] = None,
                  data_dir: Dir = None) -> None:
    """Import the roster (create, update; bodies no longer listed become inactive). A roster with
    any problem is refused whole, every problem with its line."""
    from db import repo
    from db.session import session_scope
    from nianbao.bodies import RosterError, load_roster
    from notifications.urls import url_problem

    try:
        roster = load_roster(file, url_problem=url_problem)
    except RosterError as exc:
        err.print(f"[red]名单未导入（{safe(file)}）：[/red]")
        for p in exc.problems:
            err.print(f"  {safe_error(p)}")
        raise typer.Exit(2) from None
    except OSError as exc:
        raise _fail(f"无法读取 {file}：{exc.strerror}") from None
    roster = replace(roster, county=county or roster.county, code=county_code or roster.code)
    if not roster.county:
        raise _fail("名单中缺少 county（县名）：请在名单中写明，或用 --county 指定。")
    factory = open_db(settings_for(data_dir))
    with session_scope(factory) as s:
        try:
            counts = repo.import_roster(s, roster, actor())
        except ValueError as exc:
            raise _fail(str(exc)) from None
    out.print(f"{safe(roster.county)}：{counts['bodies']} 个单位（新增 {counts['created']}，更新 {counts['updated']}，"
              f"停用 {counts['deactivated']}）。")


@roster_app.command("list")
def roster_list(county: CountyOpt = None, as_json: JsonOpt = False, data_dir: Dir = None) -> None:
    """The bodies on the roster (contacts by name and channel; their URLs are never shown)."""
    from db import repo
    from db.session import session_scope
    from notifications.urls import channel_ref

    factory = open_db(settings_for(data_dir))
    with session_scope(factory) as s:
        try:
            c = repo.county(s, county)
        except repo.NotFound as exc:
            raise _fail(str(exc)) from None
        rows = [{"code": b.code, "name": b.name, "kind": b.kind, "active": b.active, "aliases": b.aliases,
                 "contacts": [channel_ref(u, ct.get("name", "")) for ct in b.contacts for u in ct.get("urls", [])]}
                for b in repo.bodies(s, c)]
    if as_json:
        _dump({"county": c.name, "bodies": rows})
        return
    table = Table(title=f"{safe(c.name)} 报送单位名单")
    for col in ("代码", "名称", "类型", "状态", "联系渠道"):
        table.add_column(col, overflow="fold")
    kinds = {"township": "乡镇", "department": "部门", "other": "其他"}
    for r in rows:
        table.add_row(safe(r["code"]), safe(r["name"]), kinds[r["kind"]], "在册" if r["active"] else "停用",
                      safe("、".join(r["contacts"])))
    out.print(table)


# ---- cycle ----------------------------------------------------------------------------------


@cycle_app.command("open")
def cycle_open(
    year: Annotated[int, typer.Option(min=2008, max=2100, help="The report year (2024 for reports due in January 2025).")],
    deadline: Annotated[str, typer.Option(help="YYYY-MM-DD, e.g. 2025-01-31.")],
    offsets: Annotated[str | None, typer.Option(help="Reminder days before the deadline, e.g. 14,7,3,1,0.")] = None,
    county: CountyOpt = None,
    confirm_late: Annotated[bool, typer.Option("--confirm-late", help="Open it although its deadline has passed.")] = False,
    data_dir: Dir = None,
) -> None:
    """Open the cycle of a report year with its deadline (no notice is sent: `nianbao run
    open-cycle` does both). A deadline already past is refused unless --confirm-late."""
    from db import repo
    from db.session import session_scope
    from service.cycle import open_cycle

    try:
        due = date.fromisoformat(deadline)
        days = [int(x) for x in offsets.split(",")] if offsets else None
    except ValueError:
        raise _fail("截止日期应写作 YYYY-MM-DD，提醒天数写作 14,7,3,1,0。") from None
    e = open_env(settings_for(data_dir))
    with session_scope(e.factory) as session:
        try:
            c = repo.county(session, county)
            repo.cycle(session, c, year)
            raise _fail(f"{c.name}{year}年度的报送周期已经存在。")
        except repo.NotFound:
            pass
    opened = open_cycle(e, c.code, year, due, days, e.today(), confirm_late=confirm_late, actor=actor())
    if opened.refused:
        raise _fail(opened.refused)
    if opened.calendar:
        out.print(f"[yellow]注意：{safe(opened.calendar)}[/yellow]")
    with session_scope(e.factory) as session:
        offsets_kept = repo.cycle(session, c, year).reminder_offsets
    out.print(f"已开启{safe(c.name)}{year}年度报送周期，截止日期 {zh_date(due, weekday=True)}，提前 {offsets_kept} 天提醒"
              f"（遇休息日提前到之前的工作日）。收件目录：{safe(Path(opened.inbox).resolve())}")


@cycle_app.command("close")
def cycle_close(
    year: Annotated[int, typer.Option(min=2008, max=2100, help="The report year.")],
    county: CountyOpt = None,
    data_dir: Dir = None,
) -> None:
    """Close a cycle without compiling it: no more intake or reminders (its schedules stop)."""
    from db import repo
    from db.session import session_scope

    factory = open_db(settings_for(data_dir))
    with session_scope(factory) as session:
        try:
            c = repo.county(session, county)
            repo.close_cycle(session, repo.cycle(session, c, year), actor())
        except repo.NotFound as exc:
            raise _fail(str(exc)) from None
    out.print(f"已关闭{safe(c.name)}{year}年度报送周期：不再收件和提醒（nianbao serve 或工作池会暂停它的定时任务）。")


# ---- submit, import, status ------------------------------------------------------------------


def submit(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The report as received.")],
    body: Annotated[str | None, typer.Option(help="The body's code; without it the report says whose it is.")] = None,
    year: Annotated[int | None, typer.Option(help="The cycle's year (default: the open cycle).")] = None,
    county: CountyOpt = None,
    source: Annotated[str, typer.Option(help="How it arrived: cli, inbox, mail, upload …")] = "cli",
    as_json: JsonOpt = False,
    data_dir: Dir = None,
) -> None:
    """Store, check and record a report as the body's next version; exit 0 accepted, 1 rejected,
    2 not recorded (refused, or a usage error), 3 held (the report names no body of the roster)."""
    _submit(file, body, year, county, source, as_json, data_dir, accept=False)


def import_previous(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    body: Annotated[str, typer.Option(help="The body's code.")],
    year: Annotated[int, typer.Option(help="The year the report is on (e.g. 2023).")],
    county: CountyOpt = None,
    as_json: JsonOpt = False,
    data_dir: Dir = None,
) -> None:
    """Record a body's report that was accepted in an earlier year (for crossyear.* and
    similarity.previous_year). Its cycle is created, closed, if needed."""
    from db import repo
    from db.session import session_scope

    s = settings_for(data_dir)
    factory = open_db(s)
    with session_scope(factory) as session:
        try:
            c = repo.county(session, county)
            try:
                repo.cycle(session, c, year)
            except repo.NotFound:
                repo.open_cycle(session, c, year, date(year + 1, 1, 31), [], actor(), state="closed")
        except repo.NotFound as exc:
            raise _fail(str(exc)) from None
    _submit(file, body, year, county, "import", as_json, data_dir, accept=True)


EXIT_HELD = 3  # recorded, but held: the report names no body of the roster (neither 通过 nor 退回)


def _submit(file, body, year, county, source, as_json, data_dir, accept: bool) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from db import repo
    from service.delivery import deliver
    from service.submission import Refused, submit

    e = open_env(settings_for(data_dir))
    try:
        # a report handed in at the counter is answered like one from the inbox (an import of last
        # year's report is not: it was answered last year)
        o = submit(e, file, county=county, year=year, body_code=body, source=source, actor=actor(), accept=accept)
    except repo.NotFound as exc:
        raise _fail(str(exc)) from None
    except Refused as exc:
        raise _fail(exc.message) from None
    except SQLAlchemyError as exc:  # e.g. the disk under the database is full: nothing was recorded
        raise _fail(f"数据库写入失败（{type(exc.orig or exc).__name__}），本次未登记，文件也未保留。"
                    "请联系系统管理员检查数据库和磁盘空间后重新报送。") from None
    except OSError as exc:
        raise _fail(f"文件无法读取或保存（{exc.strerror or type(exc).__name__}），本次未登记。") from None
    if o.created and not accept:
        from datetime import UTC, datetime

        from db.session import session_scope

        with session_scope(e.factory) as s:
            code = repo.county(s, county).code
        deliver(e, code, o.cycle.year, datetime.now(UTC))  # a channel down: the next flow run retries
    sub = o.submission
    state = o.brief().state
    who = o.body.name if o.body else "（未识别单位）"
    data = {"body": o.body.code if o.body else None, "version": sub.version, "new": o.created, "state": state,
            "verdict": sub.verdict, "errors": sub.errors, "warnings": sub.warnings, "sha256": sub.sha256,
            "delta": sub.delta,
            "findings": [f.to_domain().to_json() for f in sub.findings]}
    if as_json:
        _dump(data)
    else:
        if state == "held":
            out.print(f"{HELD}：报告中找不到名单上的报送单位，文件已暂存，待县政务公开办认定后再审核（尚未通过）。")
        elif not o.created:
            out.print(safe(f"{who}：这份文件与第 {sub.version} 版（最新一版）内容相同，未重复登记；"
                           f"以最新一版为准，结论仍为{verdict(sub.verdict)}。"))
        else:
            label = verdict(sub.verdict)
            out.print(safe(f"{who}：第 {sub.version} 版，{label}（错误 {sub.errors}，提醒 {sub.warnings}）。"
                           "以最新报送的一版为准。"))
            if sub.delta:
                out.print(delta_text(sub.delta))
        if o.created:
            for f in sub.findings:
                if f.severity != Severity.INFO:
                    colour = "red" if f.severity == Severity.ERROR else "yellow"
                    out.print(f"  [{colour}]{safe(f.rule)}[/] {safe(f.message)}")
    raise typer.Exit(EXIT_HELD if state == "held" else 0 if sub.verdict == "accepted" else 1)


def delta_text(delta: dict) -> str:
    before = len(delta["fixed"]) + len(delta["remaining"])
    text = f"与第 {delta['against']} 版相比：{before} 个问题中已修正 {len(delta['fixed'])} 个"
    if delta["new"]:
        text += f"，新出现 {len(delta['new'])} 个"
    return text + "。"


def status(
    body: Annotated[str | None, typer.Argument(help="A body's code: its versions and what changed.")] = None,
    year: Annotated[int | None, typer.Option(help="The cycle's year (default: the open cycle).")] = None,
    county: CountyOpt = None,
    as_json: JsonOpt = False,
    data_dir: Dir = None,
) -> None:
    """Where the cycle stands: per body, versions, latest verdict, open errors, last notice."""
    from db import repo
    from db.session import session_scope

    factory = open_db(settings_for(data_dir))
    with session_scope(factory) as s:
        try:
            c = repo.county(s, county)
            cy = repo.cycle(s, c, year)
            if body:
                b = repo.body_by_code(s, c, body)
                data = _body_history(s, cy, b)
            else:
                data = repo.status(s, cy)
                held = repo.unassigned(s, cy)
        except repo.NotFound as exc:
            raise _fail(str(exc)) from None
    if as_json:
        _dump(data)
        return
    if body:
        _print_body_history(data)
        return
    cyd = data["cycle"]
    due = date.fromisoformat(cyd["deadline"])
    table = Table(title=f"{safe(cyd['county'])}{cyd['year']}年度 · 截止 {zh_date(due, weekday=True)} · {cycle_state(cyd['state'])}")
    for col in ("代码", "单位", "版本", "结论", "错误", "提醒", "最近通知"):
        table.add_column(col, overflow="fold")
    for r in data["bodies"]:
        n = r["last_notice"]
        table.add_row(safe(r["code"]), safe(r["name"]), str(r["versions"]), verdict_markup(r["verdict"]), str(r["errors"]),
                      str(r["warnings"]), notice(n["kind"], n["status"]) if n else "—")
    out.print(table)
    done = sum(1 for r in data["bodies"] if r["verdict"] == "accepted")
    out.print(f"{len(data['bodies'])} 个单位：通过 {done}，退回 "
              f"{sum(1 for r in data['bodies'] if r['verdict'] == 'rejected')}，未报送 "
              f"{sum(1 for r in data['bodies'] if r['verdict'] is None)}。")
    if held:
        out.print(f"另有 {len(held)} 份无法识别单位的文件暂存：" + safe("、".join(h.original_name for h in held)))


def _body_history(s, cy, b) -> dict:
    from db import repo

    return {"code": b.code, "name": b.name, "year": cy.year, "versions": [
        {"version": v.version, "received_at": v.received_at.isoformat(), "source": v.source,
         "file": v.original_name, "sha256": v.sha256, "verdict": v.verdict, "errors": v.errors,
         "warnings": v.warnings, "delta": v.delta,
         "findings": [f.to_domain().to_json() for f in v.findings]}
        for v in repo.versions(s, cy, b)]}


def _print_body_history(data: dict) -> None:
    out.print(f"{safe(data['name'])}（{safe(data['code'])}）{data['year']}年度：{len(data['versions'])} 个版本")
    for v in data["versions"]:
        label = verdict(v["verdict"])
        out.print(f"\n第 {v['version']} 版 · {v['received_at'][:16]} · {safe(source_label(v['source']))} · {safe(v['file'])} · "
                  f"{label}（错误 {v['errors']}，提醒 {v['warnings']}）")
        if v["delta"]:
            out.print("  " + delta_text(v["delta"]))
            for key, label in (("fixed", "已修正"), ("new", "新出现"), ("remaining", "仍存在")):
                if v["delta"][key]:
                    out.print(f"  {label}：" + safe("、".join(k.split("|")[0] for k in v["delta"][key])))


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(roster_app, name="roster")
    app.add_typer(cycle_app, name="cycle")
    app.command("submit")(submit)
    app.command("import")(import_previous)
    app.command("status")(status)
