"""Apprise URLs: checking them without sending, and naming them without their secrets."""

from __future__ import annotations

from urllib.parse import urlsplit


def url_problem(url: str) -> str | None:
    """Why apprise cannot use this URL, in Chinese; None when it can."""
    import apprise

    if "://" not in url:
        return "不是通知地址（应形如 mailto://…、dingtalk://…、wecombot://…、feishu://…、json://…）"
    scheme = url.split("://", 1)[0].lower()
    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        return f"“{scheme}://” 地址格式不正确或不受支持"
    return None


def channel_ref(url: str, contact: str = "") -> str:
    """What may be stored, logged and shown about a URL: the contact and the scheme — never the
    token, password or webhook path it carries."""
    scheme = urlsplit(url).scheme.lower() or "?"
    return f"{contact} {scheme}".strip()
