"""Replies to the county's mailbox, sent over SMTP from that mailbox: threaded to the clerk's mail
(In-Reply-To, References, "Re: …"), marked as automatic (RFC 3834 Auto-Submitted) so that the
clerk's own auto-responder does not answer back, with the annotated report attached.

The server is NIANBAO_SMTP_URL: ``smtps://USER:PASSWORD@smtp.163.com:465`` (implicit TLS),
``smtp://USER:PASSWORD@host:587`` (STARTTLS, refused when the server does not offer it), or
``smtp+plain://host:port`` (no TLS: loopback tests only). The URL is a secret: its password is
registered with the log redaction before anything connects, and a failure names only its class."""

from __future__ import annotations

import logging
import mimetypes
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from notifications.channels import Message, install_log_redaction, url_secrets

log = logging.getLogger(__name__)

SCHEMES = {"smtps": 465, "smtp": 587, "smtp+plain": 25}


@dataclass(frozen=True)
class SmtpTarget:
    scheme: str
    host: str
    port: int
    user: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """The server of an SMTP URL; ValueError (without the URL in it) when it is not one."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.hostname:
        raise ValueError("NIANBAO_SMTP_URL 应形如 smtps://用户:授权码@smtp.163.com:465")
    return SmtpTarget(scheme, parts.hostname, parts.port or SCHEMES[scheme],
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password is not None else None)


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "nianbao.local"


def build_reply(message: Message, reply: dict, mail_from: str) -> EmailMessage:
    """The reply as it goes out. `reply`: {to, cc, in_reply_to, references} (Notice.reply)."""
    mail = EmailMessage()
    mail["From"] = mail_from
    mail["To"] = ", ".join(reply.get("to") or [])
    if reply.get("cc"):
        mail["Cc"] = ", ".join(reply["cc"])
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid("nianbao", domain=_domain(mail_from))
    if reply.get("in_reply_to"):
        mail["In-Reply-To"] = reply["in_reply_to"]
    if reply.get("references"):
        mail["References"] = reply["references"]
    mail["Auto-Submitted"] = "auto-replied"  # RFC 3834: no auto-responder answers this
    mail["X-Auto-Response-Suppress"] = "All"  # the same, for Exchange/Outlook
    if message.key and message.key.isascii():
        mail["Idempotency-Key"] = message.key  # a repeat after a crash can be recognised
    mail.set_content(message.body)
    for path in message.attachments:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, _, subtype = ctype.partition("/")
        # a Chinese file name goes out RFC 2231-encoded (email does that for non-ASCII names)
        mail.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return mail


def send_reply(smtp_url: str, mail_from: str, message: Message, reply: dict, timeout: float = 30.0) -> str | None:
    """Send one reply. None: the server took it; else a short Chinese reason without any secret."""
    install_log_redaction(url_secrets(smtp_url))
    try:
        target = parse_smtp_url(smtp_url)
    except ValueError as exc:
        return str(exc)
    recipients = [*(reply.get("to") or []), *(reply.get("cc") or [])]
    if not recipients:
        return "回复没有收件人"
    try:
        mail = build_reply(message, reply, mail_from)
    except OSError:
        return "附件不可读"
    try:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if target.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(target.host, target.port, timeout=timeout)
        with smtp:
            if target.scheme == "smtp":
                smtp.starttls(context=context)  # refuses (SMTPNotSupportedError) rather than send in clear
            if target.user:
                smtp.login(target.user, target.password or "")
            refused = smtp.send_message(mail, from_addr=mail_from, to_addrs=recipients)
    except smtplib.SMTPAuthenticationError:
        return "发信邮箱登录失败（请检查 NIANBAO_SMTP_URL 中的用户名和授权码）"
    except smtplib.SMTPRecipientsRefused:
        return "收件地址被发信服务器拒绝"
    except (smtplib.SMTPException, OSError) as exc:  # the class only: smtplib's texts may echo the login
        return f"发信失败（{type(exc).__name__}）"
    if refused:  # the others have it: sending again would repeat it to them
        log.warning("回复已发出，但%d个抄送地址被发信服务器拒绝", len(refused))
    return None
