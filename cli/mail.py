"""`nianbao mail poll`: read the county's mailbox now (what intake does on its schedule), and
send the replies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from cli.output import safe
from cli.records import CountyOpt, Dir, JsonOpt, _dump, _fail, open_env, out, settings_for

mail_app = typer.Typer(help="The county's mailbox (NIANBAO_IMAP_*, NIANBAO_SMTP_URL).", no_args_is_help=True)


@mail_app.command("poll")
def mail_poll(
    year: Annotated[int | None, typer.Option(help="The cycle's year (default: the open cycle).")] = None,
    county: CountyOpt = None,
    as_json: JsonOpt = False,
    data_dir: Dir = None,
) -> None:
    """Take the reports mailed to the county's mailbox and answer each mail; exit 1 when the
    mailbox could not be read."""
    from db import repo
    from db.session import session_scope
    from service.delivery import deliver
    from service.mailbox import poll

    e = open_env(settings_for(data_dir))
    if not e.settings.imap_host:
        raise _fail("未配置县邮箱：请设置 NIANBAO_IMAP_HOST、NIANBAO_IMAP_USER、NIANBAO_IMAP_PASSWORD（见 README）。")
    try:
        with session_scope(e.factory) as s:
            c = repo.county(s, county)
            code, cycle_year = c.code, repo.cycle(s, c, year).year
    except repo.NotFound as exc:
        raise _fail(str(exc)) from None
    now = datetime.now(UTC)
    scan = poll(e, code, cycle_year, now)
    sent = deliver(e, code, cycle_year, now)
    if as_json:
        _dump({"skipped": scan.skipped, "errors": scan.errors, "waiting": scan.waiting, "sent": sent.sent,
               "failed": sent.failed,
               "messages": [{"subject": m.subject, "replied": m.replied, "note": m.note,
                             "files": [f.__dict__ for f in m.files]} for m in scan.messages]})
    else:
        if scan.skipped:
            out.print(safe(scan.skipped))
        for m in scan.messages:
            what = "、".join(f"《{f.file}》{f.code or '暂存'} 第{f.version}版 {f.state}" for f in m.files) or "无报告附件"
            out.print(safe(f"《{m.subject or '无主题'}》：{what}；{'已回复' if m.replied else m.note or '未回复'}"))
        out.print(f"邮件 {len(scan.messages)} 封，待下次 {scan.waiting} 封；通知已发 {sent.sent}，失败 {sent.failed}。")
        for problem in scan.errors:
            out.print(f"[red]{safe(problem)}[/red]")
    raise typer.Exit(1 if scan.errors else 0)
