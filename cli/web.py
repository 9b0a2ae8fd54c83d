"""`nianbao web`: the upload page and the office's page, behind the county's HTTPS proxy."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from cli.records import Dir, open_env, settings_for


def web_cmd(
    host: Annotated[str | None, typer.Option(help="Listen address (NIANBAO_WEB_HOST, default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (NIANBAO_WEB_PORT, default 8080).")] = None,
    data_dir: Dir = None,
) -> None:
    """Serve the bodies' upload pages and the county office's page (links: `nianbao link`)."""
    import uvicorn

    from web.app import create_app

    e = open_env(settings_for(data_dir))
    app = create_app(e)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    web_log = logging.getLogger("nianbao.web")
    web_log.addHandler(handler)
    web_log.setLevel(logging.INFO)
    host, port = host or e.settings.web_host, port or e.settings.web_port
    typer.echo(f"nianbao web: http://{host}:{port}（各单位链接：nianbao link 单位代码；县政务公开办：nianbao link --office）",
               err=True)
    # no uvicorn access log: it writes the path, and the path carries the token (ours masks it);
    # X-Forwarded-For/-Proto are believed from the proxy on this machine only
    uvicorn.run(app, host=host, port=port, access_log=False, proxy_headers=True, forwarded_allow_ips="127.0.0.1",
                server_header=False, log_level="warning")
