"""`nianbao link`: the secret links of the upload page — print a body's (or the office's), revoke
it, send it to the body's contacts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from cli.output import safe
from cli.records import CountyOpt, Dir, _fail, actor, err, open_env, out, settings_for
from nianbao.workdays import zh_date

EXIT_REFUSED = 1  # unknown body, no open cycle, nothing to send with: one Chinese line


def link_cmd(
    code: Annotated[str | None, typer.Argument(help="The body's code (nianbao roster list).")] = None,
    office: Annotated[bool, typer.Option("--office", help="The county office's page instead of a body's.")] = False,
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke the link: it no longer opens; the next one differs.")] = False,
    send: Annotated[bool, typer.Option("--send", help="Send the (new) link to the body's contacts.")] = False,
    year: Annotated[int | None, typer.Option(help="The cycle's year (default: the newest open cycle).")] = None,
    county: CountyOpt = None,
    data_dir: Dir = None,
) -> None:
    """Print the page link of body CODE for the open cycle (issued when it has none; the same one
    again after), or with --office the county office's. Only the link goes to stdout."""
    from db import repo
    from service import links

    if bool(code) == office:
        raise _fail("请给出单位代码（nianbao link CODE），或用 --office 取县政务公开办的链接，二者选一。")
    if office and send:
        raise _fail("县政务公开办的链接不通过通知发送：请直接复制 nianbao link --office 打印的链接。")
    e = open_env(settings_for(data_dir))
    who = actor()
    try:
        if revoke:
            n = links.revoke(e, code, county=county, year=year, actor=who)
            out.print(f"已撤销{'县政务公开办' if office else safe(code)}的 {n} 个链接，原链接不能再打开。")
            if not send:
                return
        if send:
            assert code is not None
            sent = links.send_link(e, code, county=county, year=year, actor=who)
            _delivered(e, sent)
            link = sent.link
        else:
            link = links.issue(e, code, county=county, year=year, actor=who)
    except (repo.NotFound, links.Refused) as exc:
        raise _fail(str(exc), EXIT_REFUSED) from None
    if not e.settings.web_links():
        err.print("[yellow]注意：未设置 NIANBAO_PUBLIC_URL，链接指向本机地址，各单位打不开；通知也不附链接。[/yellow]")
    if link.expires_at is not None:
        err.print(f"有效至{zh_date(link.expires_at.date())}；请勿在聊天群中公开，泄露后用 --revoke 撤销再发。")
    # the link alone on stdout (other tools read it); it is the secret, never logged
    print(link.url)


def _delivered(e, sent) -> None:
    """Send the queued notice now, as `nianbao submit` does (a channel down: the next flow run retries)."""
    from service.delivery import deliver

    if sent.undeliverable:
        err.print(f"[yellow]{safe(sent.body)}没有可用的联系方式：链接通知未能发出，请在名单中补充联系方式。[/yellow]")
        return
    if not sent.new:
        err.print(f"这个链接已经发给{safe(sent.body)}（{safe('、'.join(sent.channels))}），未重复发送。")
        return
    done = deliver(e, sent.county_code, sent.year, datetime.now(UTC))
    err.print(f"链接已通知{safe(sent.body)}（{safe('、'.join(sent.channels))}）：已发 {done.sent}，失败 {done.failed}。")
