"""Apprise URLs: checking them without sending, and naming them without their secrets."""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import urlsplit

_checking = threading.local()


class _Quiet(logging.Filter):
    """Drops apprise's records while this thread checks a URL: it logs a bad URL, token and all
    ("Could not load DingTalk URL: dingtalk://…", "An invalid WeCom Bot Webhook Key (…)")."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_checking, "on", False)


_quiet = _Quiet()


def url_problem(url: str) -> str | None:
    """Why apprise cannot use this URL, in Chinese; None when it can. Never quotes the URL (only
    its scheme, when that is one), and apprise logs nothing of it meanwhile."""
    import apprise

    if "://" not in url:
        return "不是通知地址（应形如 mailto://…、dingtalk://…、wecombot://…、feishu://…、json://…）"
    scheme = url.split("://", 1)[0].lower()
    logger = logging.getLogger("apprise")
    if _quiet not in logger.filters:
        logger.addFilter(_quiet)
    _checking.on = True
    try:
        usable = apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None
    finally:
        _checking.on = False
    if not usable:
        shown = f"“{scheme}://” " if re.fullmatch(r"[a-z][a-z0-9+.-]{0,15}", scheme) else ""
        return f"{shown}地址格式不正确或不受支持"
    return None


def channel_ref(url: str, contact: str = "") -> str:
    """What may be stored, logged and shown about a URL: the contact and the scheme — never the
    token, password or webhook path it carries."""
    scheme = urlsplit(url).scheme.lower() or "?"
    return f"{contact} {scheme}".strip()
