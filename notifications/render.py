"""Message texts from jinja2 templates: notifications/templates/<kind>.txt.j2, or the county's
own copy in NIANBAO_TEMPLATES_DIR (same names) so the office can reword them without code.
The first line of a rendered template is the subject, the rest the message.

The message is plain text. Every value a template prints (a body's or a file's name, a finding that
quotes the report) goes out on one line without control characters: a file name cannot start a line
of its own or carry a terminal escape. Markdown escaping, where a channel renders markdown, is the
channel's (notifications.channels)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

from nianbao.safetext import clean, one_line


def _value(value: Any) -> Any:
    """What a template's {{ … }} prints: a string on one line, without control characters."""
    return one_line(value) if isinstance(value, str) else value


@lru_cache(maxsize=4)
def _env(templates_dir: str | None) -> Environment:
    loaders: list[BaseLoader] = [PackageLoader("notifications", "templates")]
    if templates_dir:
        loaders.insert(0, FileSystemLoader(templates_dir))
    return Environment(loader=ChoiceLoader(loaders), autoescape=False, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=False, undefined=StrictUndefined, finalize=_value)


def render(kind: str, context: dict[str, Any], templates_dir: Path | None = None) -> tuple[str, str]:
    text = clean(_env(str(templates_dir) if templates_dir else None).get_template(f"{kind}.txt.j2").render(**context))
    subject, _, body = text.strip().partition("\n")
    body = "\n".join(line.rstrip() for line in body.strip("\n").splitlines())
    while "\n\n\n" in body:
        body = body.replace("\n\n\n", "\n\n")
    return subject.strip(), body
