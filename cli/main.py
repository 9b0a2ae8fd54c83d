"""The `nianbao` command line."""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.output import safe, safe_error
from nianbao.bodies import Body, Roster, infer_kind, load_roster
from nianbao.labels import severity, verdict_markup
from nianbao.model import Severity

app = typer.Typer(
    help="nianbao（年报）: collect, check and compile the county's 政府信息公开工作年度报告.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)  # long Chinese lines: the terminal wraps them, rich does not cut them
err = Console(stderr=True, soft_wrap=True)

EXIT_ACCEPTED, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2
EXAMPLE_ROSTER = Path(str(resources.files("nianbao") / "data" / "julu-roster.yaml"))


def _dump(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _load_roster(path: Path | None) -> Roster | None:
    if path is None:
        return None
    try:
        return load_roster(path)
    except (OSError, ValueError, KeyError) as exc:
        err.print(f"[red]无法读取单位名单 {safe(path)}：{safe_error(exc)}[/red]")
        raise typer.Exit(EXIT_USAGE) from exc


def _resolve_body(name: str | None, roster: Roster | None) -> Body | None:
    if not name:
        return None
    if roster:
        found = roster.by_code(name) or roster.find(name)
        if found is None:
            err.print(f"[red]单位“{safe(name)}”不在名单中（可用单位代码或名称）。[/red]")
            raise typer.Exit(EXIT_USAGE)
        return found
    kind = infer_kind(name)
    return Body(code=name, name=name, kind="township" if kind == "township" else "department" if kind == "department" else "other")


@app.command()
def parse(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A report: .docx .doc .wps .rtf .pdf .txt .md .html .htm .mht")]) -> None:
    """Print the report as JSON (the spec's keys)."""
    from nianbao.check import parse_file
    from nianbao.readers import ReadError

    try:
        parsed = parse_file(file)
    except ReadError as exc:
        _dump({"rule": exc.rule, "message": exc.message})
        raise typer.Exit(EXIT_REJECTED) from None
    _dump(parsed.report.to_json())


@app.command()
def check(
    path: Annotated[Path, typer.Argument(exists=True, help="A report file, or a folder: every file below it.")],
    year: Annotated[int, typer.Option(min=2008, max=2100, help="The cycle's report year.")],
    county: Annotated[str | None, typer.Option(help="The county, e.g. 巨鹿县.")] = None,
    body: Annotated[str | None, typer.Option(help="Submitted for this body (name, or code with --roster).")] = None,
    roster: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="Roster: .yaml, .csv or one name per line.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    no_fail: Annotated[bool, typer.Option("--no-fail", help="Report only: exit 0 even when reports are rejected.")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1,
                                             help="A folder: check on N processes (default: every core).")] = None,
) -> None:
    """Check reports; exit status 0 accepted, 1 rejected, 2 usage or I/O error."""
    from nianbao.check import check_file

    ros = _load_roster(roster)
    who = _resolve_body(body, ros)
    county = county or (ros.county if ros and ros.county else None)
    if path.is_dir():
        status = _check_dir(path, year, county, ros, who, as_json, jobs)
    else:
        result = check_file(path, year=year, county=county, roster=ros, body=who)
        if as_json:
            _dump(result.to_json())
        else:
            _print_result(result)
        status = EXIT_ACCEPTED if result.verdict == "accepted" else EXIT_REJECTED
    raise typer.Exit(EXIT_ACCEPTED if no_fail else status)


def _print_result(result) -> None:
    r = result.report
    out.print(f"{safe(result.path)}\n单位：{safe(r.body if r else '—')}  年度：{safe(r.year if r else '—')}  "
              f"模板：{safe(r.template if r else '—')}  结论：{verdict_markup(result.verdict)}")
    if not result.findings:
        out.print("没有发现问题。")
        return
    table = Table(show_lines=False)
    table.add_column("级别")
    table.add_column("规则")
    table.add_column("问题与位置", overflow="fold")
    for f in result.findings:
        style = {Severity.ERROR: "red", Severity.WARNING: "yellow"}.get(f.severity, "dim")
        table.add_row(f"[{style}]{severity(f.severity)}[/{style}]", safe(f.rule), safe(f.message))
    out.print(table)


def _check_dir(folder: Path, year: int, county: str | None, ros: Roster | None, who: Body | None, as_json: bool,
               jobs: int | None = None) -> int:
    from rich.progress import Progress

    from nianbao.check import check_files

    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "~$")))
    with Progress(console=err, transient=True, disable=as_json and not err.is_terminal) as progress:
        task = progress.add_task("检查中", total=len(files))
        # a handful of files are quicker in this process than with workers to start
        results = check_files(files, jobs=jobs if jobs or len(files) >= 16 else 1, year=year, county=county,
                              roster=ros, body=who, progress=lambda n: progress.advance(task, n), light=True)
    if as_json:
        _dump([{"file": r.path, **r.to_json()} for r in results])
    else:
        table = Table(title=f"{safe(folder)}：{len(results)} 个文件")
        for col in ("文件", "单位", "结论", "错误", "提醒", "主要问题"):
            table.add_column(col, overflow="fold")
        for r in results:
            verdict = verdict_markup(r.verdict)
            main = "、".join(dict.fromkeys(f.rule for f in r.errors or r.warnings))
            table.add_row(safe(Path(r.path).relative_to(folder)), safe(r.to_json()["body"] or "—"), verdict,
                          str(len(r.errors)), str(len(r.warnings)), safe(main))
        out.print(table)
        accepted = sum(r.verdict == "accepted" for r in results)
        out.print(f"通过 {accepted} 个，退回 {len(results) - accepted} 个。")
    return EXIT_ACCEPTED if all(r.verdict == "accepted" for r in results) else EXIT_REJECTED


@app.command()
def rules(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List every rule id with its severity and requirement."""
    from nianbao.rules import RULES

    if as_json:
        _dump([{"rule": r.id, "severity": str(r.severity), "needs": r.needs, "requirement": r.requirement}
               for r in RULES.values()])
        return
    table = Table()
    for col in ("rule", "severity", "needs", "requirement"):
        table.add_column(col, overflow="fold")
    for r in RULES.values():
        table.add_row(r.id, str(r.severity), r.needs, safe(r.requirement))
    out.print(table)


@app.command()
def examples(
    outdir: Annotated[Path, typer.Argument(file_okay=False, help="Where to write the example reports.")],
    roster: Annotated[Path, typer.Option(exists=True, dir_okay=False)] = EXAMPLE_ROSTER,
    year: Annotated[int, typer.Option(min=2008, max=2100)] = 2024,
) -> None:
    """Write example reports made by the generator (one per roster body, in the situations a
    county meets: old template, wrong year, another county's report, unbalanced sums …)."""
    from nianbao.examples import example_set, write_examples

    ros = _load_roster(roster)
    assert ros is not None
    written = write_examples(ros, outdir, year)
    ex = example_set(ros, year)
    table = Table(title=f"{len(written)} 份示例报告 → {safe(outdir)}")
    for col in ("文件", "单位", "情形"):
        table.add_column(col, overflow="fold")
    for name, p in written.items():
        b = ros.by_code(ex[name].code)
        table.add_row(safe(p.name), safe(b.name if b else ex[name].spec.body), safe(ex[name].situation))
    out.print(table)




from cli.cycle_flows import compile_cmd, deploy_cmd, run_app, serve_cmd  # noqa: E402 - the outer layers' commands, after the domain ones
from cli.demo import demo  # noqa: E402
from cli.links import link_cmd  # noqa: E402
from cli.mail import mail_app  # noqa: E402
from cli.records import register  # noqa: E402
from cli.web import web_cmd  # noqa: E402

register(app)
app.add_typer(run_app, name="run")
app.add_typer(mail_app, name="mail")
app.command("compile")(compile_cmd)
app.command("demo")(demo)
app.command("serve")(serve_cmd)
app.command("deploy")(deploy_cmd)
app.command("link")(link_cmd)
app.command("web")(web_cmd)
