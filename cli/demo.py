"""`nianbao demo`: the whole cycle rehearsed in a sandbox on a fresh machine — SQLite, Prefect's
ephemeral API, notices to a local sink — with reports made by the project's own generator."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.output import safe
from nianbao.labels import HELD, verdict_markup

if TYPE_CHECKING:
    from service.submission import Brief

out = Console()
MARKER = ".nianbao-demo"

YEAR = 2024
DEADLINE = date(2025, 1, 31)
# the rehearsal's clock (Beijing time): kickoff, first reports, a reminder, corrections, the week before
KICKOFF = datetime.fromisoformat("2025-01-02T09:00+08:00")
FIRST = datetime.fromisoformat("2025-01-15T10:00+08:00")
REMINDER = datetime.fromisoformat("2025-01-17T09:00+08:00")
SECOND = datetime.fromisoformat("2025-01-22T15:00+08:00")
LAST = datetime.fromisoformat("2025-01-24T09:00+08:00")


def _sandbox(root: Path, verbose: bool) -> None:
    """Everything under DIR, nothing from the machine: set before Prefect is imported."""
    for var in ("NIANBAO_DATABASE_URL", "PREFECT_API_URL", "PREFECT_API_KEY", "NIANBAO_TEMPLATES_DIR"):
        os.environ.pop(var, None)
    os.environ.update({
        "NIANBAO_DATA_DIR": str(root),
        "NIANBAO_NOTICE_SINK": str(root / "notices"),
        "PREFECT_HOME": str(root / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO" if verbose else "WARNING",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
        # the rehearsal writes each file whole and takes it at once; real inboxes wait for quiet
        "NIANBAO_INBOX_SETTLE_S": "0",
    })
    from nianbao.settings import get_settings

    get_settings.cache_clear()


def _drop(examples: dict, inbox: Path, fixed: bool) -> list[str]:
    """Put each example (or its corrected version) where a clerk's file lands: inbox/<code>/,
    or the inbox root for a report whose sender is not known. Formats vary as in real life."""
    from nianbao.generate import write_docx, write_pdfs, write_scan, write_txt
    from nianbao.libreoffice import soffice

    dropped, to_pdf, scans = [], {}, set()
    with tempfile.TemporaryDirectory(prefix="nianbao-demo-") as tmp:
        for i, (name, ex) in enumerate(examples.items()):
            spec = ex.fixed if fixed else ex.spec
            if spec is None:
                continue
            folder = inbox / ex.code if ex.code else inbox
            folder.mkdir(parents=True, exist_ok=True)
            stem = ex.file_name("") + ("（修改稿）" if fixed else "")
            fmt = ("docx", "pdf", "txt")[i % 3] if not fixed else "docx"
            if ex.scan and not fixed:
                fmt = "pdf"
                scans.add(name)
            if fmt == "pdf" and soffice():
                to_pdf[name] = (write_docx(spec, Path(tmp) / f"{name}.docx"), folder / f"{stem}.pdf")
            elif fmt == "txt":
                dropped.append(str(write_txt(spec, folder / f"{stem}.txt").relative_to(inbox)))
            else:
                dropped.append(str(write_docx(spec, folder / f"{stem}.docx").relative_to(inbox)))
        if to_pdf:
            pdfs = write_pdfs([d for d, _ in to_pdf.values()], Path(tmp) / "pdf")
            for (name, (_, target)), pdf in zip(to_pdf.items(), pdfs, strict=True):
                if name in scans:  # printed, stamped, scanned: pictures of the pages only
                    write_scan(pdf, target)
                else:
                    target.write_bytes(pdf.read_bytes())
                dropped.append(str(target.relative_to(inbox)))
    return dropped


def demo(
    data_dir: Annotated[Path, typer.Option("--dir", help="The sandbox folder (created; must be empty).")],
    verbose: Annotated[bool, typer.Option("--verbose", help="Show Prefect's logs.")] = False,
) -> None:
    """Rehearse a whole cycle in a sandbox: roster, kickoff, first reports (the five sample
    situations and more), rejections, reminders, corrected versions, compile."""
    started = time.monotonic()
    root = data_dir.resolve()
    if (root / MARKER).exists():
        shutil.rmtree(root)  # an earlier rehearsal: start again from nothing
    elif root.exists() and any(root.iterdir()):
        out.print(f"[red]{safe(root)} 不是空目录；请换一个目录（演示会在其中建立数据库和文件）。[/red]")
        raise typer.Exit(2)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("nianbao demo sandbox: `nianbao demo` may delete this folder and start again\n")
    _sandbox(root, verbose)

    from importlib import resources

    from cli.cycle_flows import run_tagged
    from db import migrate, repo
    from db.session import make_engine, session_factory, session_scope
    from flows.cycle import deadline, intake, open_cycle
    from nianbao.bodies import load_roster
    from nianbao.examples import example_set
    from nianbao.settings import get_settings

    settings = get_settings()
    migrate.upgrade(settings.db_url())
    roster = load_roster(Path(str(resources.files("nianbao") / "data" / "julu-roster.yaml")))
    factory = session_factory(make_engine(settings.db_url()))
    with session_scope(factory) as s:
        repo.import_roster(s, roster, "demo")
    code = roster.code
    out.print(f"[bold]nianbao 演示[/bold]：{roster.county}{YEAR}年度政府信息公开工作年度报告（截止 {DEADLINE}），"
              f"{len(roster.bodies)} 个报送单位。沙盒：{safe(root)}")

    r = run_tagged(open_cycle, code, YEAR, deadline=DEADLINE, as_of=KICKOFF)
    out.print(f"① 开启报送周期，向 {r.queued} 个单位发出启动通知（附空白模板）。")

    examples = example_set(roster, YEAR)
    inbox = root / "inbox"
    dropped = _drop(examples, inbox, fixed=False)
    r = run_tagged(intake, code, YEAR, as_of=FIRST)
    out.print(f"② 收到 {len(dropped)} 份报告（.docx/.pdf/.txt，其中一份是盖章扫描件），登记 {len(r.new)} 份：")
    _print_results(r.files)

    r = run_tagged(deadline, code, YEAR, as_of=REMINDER)
    out.print(f"③ 截止前 14 天：向尚未通过的单位发出提醒 {r.check.reminders} 条。")

    dropped = _drop(examples, inbox, fixed=True)
    r = run_tagged(intake, code, YEAR, as_of=SECOND)
    out.print(f"④ 被退回的单位报送修改稿 {len(dropped)} 份：")
    _print_results(r.files)

    r = run_tagged(deadline, code, YEAR, as_of=LAST)
    compiled = r.compiled
    out.print("⑤ 截止前 7 天的每日检查：" + (f"全部单位已通过，已汇总全县 {len(compiled.bodies)} 个单位的报告。"
                                           if compiled and compiled.compiled else "尚有单位未通过，未汇总。"))

    from cli.records import status as status_cmd

    try:
        status_cmd(body=None, year=YEAR, county=None, as_json=False, data_dir=root)
    except typer.Exit:
        pass
    notices = sorted((root / "notices").glob("*.json"))
    out.print(f"\n通知 {len(notices)} 条：{safe(root / 'notices')}（每条一个 JSON 文件）")
    for f in (compiled.paths(root) if compiled else []):
        out.print(f"全县汇总：{safe(f)}")
    out.print(f"报告原件（按 SHA-256 保存）：{safe(root / 'files')}；已处理的收件：{safe(inbox / '.done')}")
    out.print(f"数据库：{safe(root / 'nianbao.db')}；之后可运行 nianbao status --json --dir {safe(root)}")
    out.print(f"用时 {time.monotonic() - started:.0f} 秒。")


def _print_results(results: list[Brief]) -> None:
    table = Table()
    for col in ("单位", "版本", "结论", "错误", "提醒", "文件"):
        table.add_column(col, overflow="fold")
    for r in results:
        table.add_row(safe(r.name or f"（未识别，{HELD}）"), str(r.version) if r.code else "—", verdict_markup(r.verdict),
                      str(r.errors), str(r.warnings), safe(r.file))
    out.print(table)
