"""What the CLI prints from data — a file's name, a body's, a report's text, an error that may
quote them — goes through `safe`: control characters and terminal escape sequences removed (a
file named "\\x1b]0;…\\x07.docx" cannot retitle or clear the terminal), then rich's markup escaped
(a body named "[/x]" prints as written instead of crashing rich). Our own markup ([red]…[/red])
stays outside the call."""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from nianbao.safetext import clean, mask_urls


def safe(value: Any) -> str:
    """`value` as text a rich console prints literally."""
    return escape(clean(value))


def safe_error(value: Any) -> str:
    """An error's text, `safe`, with any URL in it masked (a roster line it quotes may carry a
    notification token)."""
    return safe(mask_urls(value))
