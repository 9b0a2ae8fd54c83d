"""Message texts from jinja2 templates: notifications/templates/<kind>.txt.j2, or the county's
own copy in NIANBAO_TEMPLATES_DIR (same names) so the office can reword them without code.
The first line of a rendered template is the subject, the rest the message."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined


@lru_cache(maxsize=4)
def _env(templates_dir: str | None) -> Environment:
    loaders: list[BaseLoader] = [PackageLoader("notifications", "templates")]
    if templates_dir:
        loaders.insert(0, FileSystemLoader(templates_dir))
    return Environment(loader=ChoiceLoader(loaders), autoescape=False, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=False, undefined=StrictUndefined)


def render(kind: str, context: dict[str, Any], templates_dir: Path | None = None) -> tuple[str, str]:
    text = _env(str(templates_dir) if templates_dir else None).get_template(f"{kind}.txt.j2").render(**context)
    subject, _, body = text.strip().partition("\n")
    body = "\n".join(line.rstrip() for line in body.strip("\n").splitlines())
    while "\n\n\n" in body:
        body = body.replace("\n\n\n", "\n\n")
    return subject.strip(), body
