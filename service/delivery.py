"""Delivery: every due notice of a cycle, sent once (see notifications/outbox.py)."""

from __future__ import annotations

from datetime import datetime

from db import repo
from db.session import session_scope
from notifications.mail import send_reply
from notifications.outbox import Delivery, Mailer, deliver_due
from service import links
from service.env import Env


def deliver(e: Env, county_code: str, year: int, now: datetime) -> Delivery:
    with session_scope(e.factory) as s:
        cycle_id = repo.cycle(s, repo.county_by_code(s, county_code), year).id
    return deliver_due(e.factory, e.notifier, e.data_dir, now, cycle_id=cycle_id, mailer=mailer(e),
                       fill=lambda message, body_id, cycle_id: links.fill(e, message, body_id, cycle_id))


def mailer(e: Env) -> Mailer | None:
    """Replies to mails go out through the county mailbox's SMTP server (NIANBAO_SMTP_URL), from
    its address (NIANBAO_MAIL_FROM, else the IMAP login)."""
    url = e.settings.smtp_url
    sender = e.settings.mail_from or e.settings.imap_user
    if url is None or not sender:
        return None
    secret, timeout = url.get_secret_value(), e.settings.imap_timeout_s
    return lambda message, reply: send_reply(secret, sender, message, reply, timeout)
