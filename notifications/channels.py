"""Delivering one notice to one channel: real channels through apprise, or the local sink.

Every failure comes back as a short Chinese reason that names only the scheme, never the URL:
apprise URLs carry tokens and passwords. For the same reason the log redaction below masks every
URL we send to, and its secret parts, in every log record of the process.

Apprise URL forms this module relies on (checked against apprise 1.13's source and the loopback
tests in tests/test_channels.py):

* Mail through a plain SMTP server on a custom host and port, with login::

      mailto://USER:PASSWORD@127.0.0.1:2525?from=nianbao@example.com&to=clerk@example.com

  ``mailto://`` already means no TLS (apprise's ``mode=insecure``; ``mailtos://`` defaults to
  ``mode=starttls``, ``mode=ssl`` is implicit TLS). The SMTP server is the URL's host unless
  ``smtp=HOST`` names another one; give ``smtp=`` whenever the host is a mail provider's domain
  (qq.com, 163.com …), or apprise swaps in that provider's own server, port and TLS mode. A login
  that is itself an address needs its ``@`` written as ``%40``. The connect timeout is ``cto=``
  (seconds); smtplib applies it to every socket operation, so it also bounds a server that accepts
  the connection and never answers (apprise's default for mail is 15 s).
* An SMS/OA gateway that takes JSON::

      json://127.0.0.1:8080/notices?+Idempotency-Key=KEY&:idempotency_key=KEY

  ``+Name=value`` adds an HTTP header, ``:name=value`` adds a field to the JSON payload (whose own
  fields are version, title, message, attachments, type); ``-name=value`` would add a GET
  parameter. ``form://`` takes the same three prefixes. apprise unquotes the values of these three
  twice, so quote such a value twice (a literal ``%`` is written ``%2525``).
  ``cto=``/``rto=`` are the connect and read timeouts (apprise's default 4 s each).

AppriseNotifier.prepare_url adds what the operator's URL leaves out: ``cto=`` (and ``rto=`` for
HTTP channels) from ``timeout``, ``format=text`` for mail (the body is plain text), and the outbox
key as ``+Idempotency-Key`` (mail, json, form) and ``:idempotency_key`` (json, form).
"""

from __future__ import annotations

import contextlib
import json
import logging
import mimetypes
import os
import re
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, quote_plus, unquote

from nianbao.safetext import clean, md, md_text, one_line

__all__ = [
    "AppriseNotifier",
    "Message",
    "Notifier",
    "SinkNotifier",
    "channel_body",
    "install_log_redaction",
    "url_secrets",
]


@dataclass(frozen=True)
class Message:
    kind: str  # "kickoff"|"reminder"|"accepted"|"rejected"|"overdue"|"digest"|"summary"
    to: str  # a body code (pinyin slug) or "county-office"
    subject: str
    body: str  # plain Chinese text
    rules: tuple[str, ...] = ()  # rule ids the notice reports
    attachments: tuple[Path, ...] = ()  # files to attach where the channel can carry files
    key: str = ""  # the outbox idempotency key (lets a receiver de-duplicate)


class Notifier(Protocol):
    def send(self, url: str | None, message: Message) -> str | None:
        """Deliver to one channel. None: delivered. Otherwise a short Chinese reason WITHOUT any
        secret (no URL, token, password, host credentials). Never raises."""
        ...


MAIL_SCHEMES = frozenset({"mailto", "mailtos"})
# chat bots that take text only: the files of a notice go out by mail, the bot gets a summary
IM_SCHEMES = frozenset({"dingtalk", "wecombot", "feishu"})
GATEWAY_SCHEMES = frozenset({"json", "jsons", "form", "forms"})
ATTACHMENTS_BY_MAIL = "（附件已通过电子邮件发送，请查收邮箱。）"


def channel_body(scheme: str, message: Message) -> str:
    """The text a channel gets: the body without control characters, plus a pointer to the mail
    when a chat bot cannot carry the message's files."""
    body = clean(message.body)
    if scheme.lower() in IM_SCHEMES and message.attachments:
        return f"{body.rstrip()}\n\n{ATTACHMENTS_BY_MAIL}"
    return body


def formatted(notify_format: str, title: str, body: str) -> tuple[str, str, str]:
    """(title, body, body_format) for a channel that renders `notify_format`. The notice is plain
    text: a channel rendering markdown (a bot URL with format=markdown) gets it escaped, so a file
    named ``![x](http://…)`` or ``<img …>`` shows as written; HTML mail gets it HTML-escaped by
    apprise (text → html); text channels get it as it is."""
    if str(getattr(notify_format, "value", notify_format)).lower() == "markdown":
        return md(title), md_text(body), "markdown"
    return one_line(title), body, "text"


def _scheme(url: str) -> str:
    """The scheme, or "?" when what stands before :// is not a plain scheme (a malformed URL may
    carry its token there, and reasons must never show one)."""
    scheme = url.split("://", 1)[0].lower()
    return scheme if re.fullmatch(r"[a-z][a-z0-9+.-]{0,19}", scheme) else "?"


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """Name/value pairs as apprise reads them: "+" stays a plus (parse_qsl would make it a space, but
    apprise uses it to mark a header, and base64 tokens contain it)."""
    pairs = []
    for part in query.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), value))
    return pairs


def _query_names(url: str) -> set[str]:
    if "?" not in url:
        return set()
    return {name.lower() for name, _ in _query_pairs(url.split("?", 1)[1])}


def _encode_param(name: str, value: str) -> str:
    encoded = quote(value, safe="")
    if name[:1] in "+-:":
        # apprise unquotes +header, -param and :field values twice (once parsing the query, once
        # building the headers/payload), so they are quoted twice to arrive as given
        encoded = quote(encoded, safe="")
    return f"{name}={encoded}"


def _with_params(url: str, params: dict[str, str]) -> str:
    """Append the params the URL does not set itself (the operator's own cto=, format= … win)."""
    present = _query_names(url)
    extra = [_encode_param(name, value) for name, value in params.items() if name.lower() not in present]
    if not extra:
        return url
    return url + ("&" if "?" in url else "?") + "&".join(extra)


def _header_safe(value: str) -> str:
    # HTTP and mail headers must be ASCII; the payload field keeps the key as it is
    return value if value.isascii() else quote(value, safe="")


class AppriseNotifier:
    """Real channels through apprise. ``timeout`` bounds each network wait, in seconds."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = float(timeout)

    def prepare_url(self, url: str, message: Message) -> str:
        """The URL actually handed to apprise: timeouts, and the idempotency key where a receiver
        can read it."""
        scheme = _scheme(url)
        seconds = f"{self.timeout:g}"
        params: dict[str, str] = {}
        if scheme in MAIL_SCHEMES:
            # smtplib uses one timeout for the connect and every later read, so it is the whole limit
            params["cto"] = seconds
            # the body is plain text; apprise's default HTML mail would re-render it
            params["format"] = "text"
            if message.key:
                params["+Idempotency-Key"] = _header_safe(message.key)
        else:
            # HTTP channels: a short connect (apprise's own 4 s at most), the full timeout to read
            params["cto"] = f"{min(self.timeout, 4.0):g}"
            params["rto"] = seconds
            if scheme in GATEWAY_SCHEMES and message.key:
                params["+Idempotency-Key"] = _header_safe(message.key)
                params[":idempotency_key"] = message.key
        return _with_params(url, params)

    def send(self, url: str | None, message: Message) -> str | None:
        if not url or not url.strip():
            return "未配置通知地址"
        url = url.strip()
        if "://" not in url:
            return "通知地址无效"
        scheme = _scheme(url)
        try:
            # register before apprise parses the URL: parsing already logs
            install_log_redaction(url_secrets(url))
            prepared = self.prepare_url(url, message)
            install_log_redaction(url_secrets(prepared))

            import apprise
            from apprise.attachment.memory import AttachMemory

            # memory storage: apprise must not write caches (which may name the URL) to disk
            asset = apprise.AppriseAsset(async_mode=False, storage_mode="memory", app_id="nianbao")
            attach = None
            if scheme in MAIL_SCHEMES and message.attachments:
                attach = apprise.AppriseAttachment(asset=asset)
                for path in message.attachments:
                    path = Path(path)
                    try:
                        content = path.read_bytes()
                    except OSError:
                        return f"附件不可读（{path.name}）"
                    if not content:
                        # apprise treats an empty attachment as unreadable and fails the whole mail
                        return f"附件为空（{path.name}）"
                    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    # as bytes, not a path string: apprise reads strings as attachment URLs (file://, http://)
                    attach.add(AttachMemory(content=content, name=path.name, mimetype=mimetype))

            notifier = apprise.Apprise(asset=asset)
            if not notifier.add(prepared):
                return f"通知地址无效（{scheme}）"
            title, body, body_format = formatted(notifier[0].notify_format, message.subject,
                                                 channel_body(scheme, message))
            sent = notifier.notify(
                body=body,
                title=title,
                body_format=apprise.NotifyFormat(body_format),
                attach=attach,
            )
            # notify() returns None when nothing was sent at all: that is no delivery either
            if sent is not True:
                return f"发送失败（{scheme}）"
            return None
        except Exception as exc:  # noqa: BLE001 - the contract is "never raises"; the class name only
            return f"发送出错（{scheme}，{type(exc).__name__}）"


# --- the local sink ------------------------------------------------------------------------------

_SINK_LOCK = threading.Lock()  # one lock for every sink in the process: numbering scans the folder
_NUMBERED = re.compile(r"^(\d+)-")


def _slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z_-]+", "_", text).strip("_") or "_"


class SinkNotifier:
    """The demo/rehearsal "local sink": one JSON file per notice, ``<NNNN>-<kind>-<to>.json``
    numbered in sending order. The URL is ignored."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def send(self, url: str | None, message: Message) -> str | None:
        record = {
            "kind": message.kind,
            "to": message.to,
            "subject": message.subject,
            "message": message.body,
            "rules": list(message.rules),
        }
        text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
        tmp: str | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with _SINK_LOCK:
                numbers = [int(m.group(1)) for p in self.folder.iterdir() if (m := _NUMBERED.match(p.name))]
                number = max(numbers, default=0) + 1
                target = self.folder / f"{number:04d}-{_slug(message.kind)}-{_slug(message.to)}.json"
                # the dot prefix keeps a half-written file out of the numbering and of readers' globs
                fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".sink-", suffix=".tmp")
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                os.replace(tmp, target)
                tmp = None
        except OSError as exc:
            return f"写入本地投递目录失败（{type(exc).__name__}）"
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        return None


# --- keeping secrets out of logs -----------------------------------------------------------------

MIN_SECRET_LEN = 4  # shorter strings are dropped: masking them would garble ordinary log text
PART_MIN_LEN = 6  # a path segment, host or query value this long is masked whatever it looks like
_SECRET_QUERY_NAMES = re.compile(r"(token|secret|key|pass|pwd|sign|auth|credential)", re.IGNORECASE)
# apprise's own switches and ours: their values are words (text, starttls, 4) that say nothing secret
_PLAIN_QUERY_NAMES = frozenset({"format", "mode", "cto", "rto", "method", "overflow", "emojis", "verify",
                                "tz", "store", "retry", "wait", "optional", "+idempotency-key",
                                ":idempotency_key", "smtp"})  # smtp=: the mail server's host name
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_NETWORK_HOST = re.compile(r"localhost|\[[0-9A-Fa-f:.]+\]|[0-9.]+|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def _looks_like_token(value: str) -> bool:
    """Long, digit-bearing, no spaces, not an address or a dotted host: what webhook tokens, keys and
    access codes look like (and what ordinary words, paths and host names do not)."""
    return (
        len(value) >= 8
        and not any(c.isspace() for c in value)
        and any(c.isdigit() for c in value)
        and not _EMAIL.fullmatch(value)
        and not re.fullmatch(r"[0-9.]+|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", value)
    )


def _unquoted(value: str) -> set[str]:
    """`value` as given and decoded once and twice (apprise decodes +header values twice)."""
    once = unquote(value)
    return {value, once, unquote(once)}


def url_secrets(url: str) -> set[str]:
    """The strings of an apprise URL that must not be logged: everything but its scheme and a network
    host. The URL itself; the userinfo, its password and user; a host that is no network host (most
    bots put their token there: dingtalk://TOKEN, wecombot://KEY); every path segment, the fragment,
    and every query value — each when at least PART_MIN_LEN long, or token-like, whatever it looks
    like (a key with dashes, a letters-only token); apprise's own switches (format=, mode=, cto= …)
    and the mail server (smtp=) excepted, and so are addresses and numbers (127.0.0.1, 2525). A query parameter whose name says secret (token=, key=, +Authorization= …) is masked
    at any length from MIN_SECRET_LEN."""
    found: set[str] = {url}
    if "://" not in url:
        return found
    rest = url.split("://", 1)[1]
    rest, _, fragment = rest.partition("#")
    query = rest.split("?", 1)[1] if "?" in rest else ""
    rest = rest.split("?", 1)[0]
    netloc, _, path = rest.partition("/")
    parts: list[str] = [fragment, *path.split("/")]
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        user, _, password = userinfo.partition(":")
        found.update({password, userinfo})
        parts.append(user)
    host = netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc
    if not _NETWORK_HOST.fullmatch(unquote(host)):
        parts.append(host)
    for name, value in _query_pairs(query):
        if _SECRET_QUERY_NAMES.search(name) and name.lower() not in _PLAIN_QUERY_NAMES:
            found.add(value)
        elif name.lower() not in _PLAIN_QUERY_NAMES:
            parts.append(value)
    for part in parts:
        for plain in _unquoted(part):
            if re.fullmatch(r"localhost|[0-9.]+", plain):
                continue  # an address or a number: masking it would garble every log line
            if len(plain) >= PART_MIN_LEN or _looks_like_token(plain):
                found.add(plain)
                # "Bearer x…": the words of a value are logged apart too (a header dict, a message)
                found.update(w for w in plain.split() if len(w) >= PART_MIN_LEN)
    # apprise and requests log these decoded, or re-encoded their own way
    variants = set()
    for secret in found:
        for plain in _unquoted(secret):
            variants.update({secret, plain, quote(plain, safe=""), quote_plus(plain), quote(plain)})
    return {s for s in variants if len(s) >= MIN_SECRET_LEN}


_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None
_state_lock = threading.Lock()
MASK = "***"


def _redact(text: str) -> str:
    pattern = _pattern
    return pattern.sub(MASK, text) if pattern is not None else text


class RedactingFilter(logging.Filter):
    """Masks every registered secret in a record: its message (args folded in), its exception and
    stack text. Always lets the record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        pattern = _pattern
        if pattern is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string: mask the parts separately
            record.msg = _redact(str(record.msg))
            record.args = tuple(_redact(str(a)) for a in record.args) if record.args else record.args
        else:
            args_leak = bool(record.args) and any(pattern.search(repr(a)) for a in _iter_args(record.args))
            if pattern.search(message) or args_leak:
                # fold the args in: a handler that reads record.args must not find the secret there
                record.msg = _redact(message)
                record.args = ()
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            if pattern.search(text):
                record.exc_text = _redact(text)
        elif record.exc_text:
            record.exc_text = _redact(record.exc_text)
        if record.stack_info:
            record.stack_info = _redact(record.stack_info)
        return True


def _iter_args(args: object) -> Iterable[object]:
    if isinstance(args, dict):
        return args.values()
    return args if isinstance(args, tuple) else (args,)


_FILTER = RedactingFilter()


def _redacting_factory(previous):
    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        _FILTER.filter(record)
        return record

    factory._nianbao_redacting = True
    return factory


def install_log_redaction(secrets: Iterable[str]) -> None:
    """Mask these strings as "***" in every log record of the process from now on.

    Installed as a wrapper around the log-record factory, not as a filter on the "apprise" logger:
    a logger's filters see only records logged on that very logger (not on its children), and the
    URLs also reach other loggers — requests and urllib3 log request lines with the webhook token in
    them, and apprise logs the exception text of a failed request, which names the full URL.
    Every record is made by the factory, so masking there covers every logger and every handler,
    including ones added later (pytest's caplog). The same filter also sits on the "apprise" logger
    as a second line, for records built without the factory (logging.makeLogRecord).
    Safe to call again and again: known secrets are kept, the factory is wrapped once (again only if
    someone replaced it since).
    """
    global _pattern
    new = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LEN}
    with _state_lock:
        if not new <= _secrets:
            _secrets.update(new)
            # longest first, so a URL is masked whole before its parts are
            ordered = sorted(_secrets, key=len, reverse=True)
            _pattern = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None
        current = logging.getLogRecordFactory()
        if not getattr(current, "_nianbao_redacting", False):
            logging.setLogRecordFactory(_redacting_factory(current))
        apprise_logger = logging.getLogger("apprise")
        if _FILTER not in apprise_logger.filters:
            apprise_logger.addFilter(_FILTER)


def notifier_for(sink: Path | None) -> Notifier:
    """The sink when NIANBAO_NOTICE_SINK names one (demo, rehearsal), else the real channels."""
    return SinkNotifier(sink) if sink else AppriseNotifier()
