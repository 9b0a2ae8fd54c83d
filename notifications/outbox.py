"""The outbox: every notice is a row, keyed by what it is about (its idempotency key), written in
the same transaction as the event it reports; delivery is a separate step that claims due rows,
sends them, and records the result. A flow that is retried or re-run creates no second row and
sends nothing that was sent; a channel that is down is retried with backoff until it goes.

One row per recipient channel: a body with a mailbox and a DingTalk bot gets two rows, each
delivered once. The row names the channel ("张三 mailto") and the URL's SHA-256, never the URL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.models import BodyRecord, County, Cycle, Notice
from db.session import session_scope
from notifications.channels import Message, Notifier
from notifications.urls import channel_ref

OFFICE = "county-office"
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
CLAIM = timedelta(minutes=10)  # a claimed notice is left alone this long by other deliverers
MAIL_REPLY = "mail-reply"  # the channel of a reply to a mail: sent by the mailer, to Notice.reply's addresses


@dataclass
class Draft:
    kind: str
    key: str  # what the notice is about, e.g. "rejected|submission:42"
    cycle_id: int
    recipient: str  # a body code or "county-office"
    subject: str
    message: str
    body_id: int | None = None
    submission_id: int | None = None
    rules: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)  # relative to the data directory


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def _contacts(session: Session, body_id: int | None, cycle_id: int) -> list[dict[str, Any]]:
    """The recipient's contacts: a body's, or (no body) the county office's."""
    if body_id is not None:
        body = session.get(BodyRecord, body_id)
        return list(body.contacts or []) if body else []
    cycle = session.get(Cycle, cycle_id)
    county = session.get(County, cycle.county_id) if cycle else None
    return list((county.office or {}).get("contacts", [])) if county else []


class Queued(list):
    """The notice's rows, one per channel; `new` counts those this call queued (a re-run finds
    them all there already: new == 0)."""

    new: int = 0


def enqueue(session: Session, draft: Draft, sink: bool = False, skip_schemes: frozenset[str] = frozenset(),
            reply: dict[str, Any] | None = None) -> Queued:
    """Queue the notice once per channel of its recipient (once in all, to the sink). Rows that
    exist already (the same key) are left as they are: that is what makes re-runs harmless.
    `skip_schemes`: channels the recipient is told on otherwise (a mail's sender and the body's
    mailboxes get the reply); none left is nothing queued. `reply`: a reply to a mail, one row on
    the MAIL_REPLY channel with its addresses (Notice.reply)."""
    channels: list[tuple[str, str | None]] = []
    if sink:
        channels = [("sink", None)]
    elif reply is not None:
        channels = [(MAIL_REPLY, None)]
    else:
        for contact in _contacts(session, draft.body_id, draft.cycle_id):
            for url in contact.get("urls", []):
                if url.split(":", 1)[0].lower() not in skip_schemes:
                    channels.append((channel_ref(url, contact.get("name", "")), url_hash(url)))
        if not channels:
            if skip_schemes:
                return Queued()
            channels = [("none", None)]  # kept, and reported to the office as undeliverable
    rows = Queued()
    for ref, digest in channels:
        key = f"{draft.key}|{draft.recipient}|{digest[:16] if digest else ref}"
        existing = session.scalar(select(Notice).where(Notice.idempotency_key == key))
        if existing is not None:
            rows.append(existing)
            continue
        row = Notice(kind=draft.kind, cycle_id=draft.cycle_id, body_id=draft.body_id,
                     submission_id=draft.submission_id, idempotency_key=key[:200], recipient=draft.recipient,
                     channel=ref[:80], subject=draft.subject[:200], body=draft.message, rules=list(draft.rules),
                     attachments=list(draft.attachments), url_hash=digest, reply=reply,
                     status="failed" if ref == "none" else "queued",
                     last_error="没有可用的联系方式" if ref == "none" else None)
        try:
            with session.begin_nested():  # another run may have queued the same key just now
                session.add(row)
            rows.new += 1
        except IntegrityError:
            row = session.scalars(select(Notice).where(Notice.idempotency_key == key)).one()
        rows.append(row)
    return rows


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_FIRST * (2 ** max(0, attempts - 1)), BACKOFF_MAX)


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0
    waiting: int = 0  # due later (backoff)


Mailer = Callable[[Message, dict[str, Any]], str | None]  # notifications.mail.send_reply, bound to the settings
# what is filled in at send time (the body's link: service.links.fill), from the notice's body and cycle
Filler = Callable[[Message, int | None, int | None], Message]


def deliver_due(factory: sessionmaker[Session], notifier: Notifier, data_dir: Path, now: datetime,
                cycle_id: int | None = None, limit: int = 500, mailer: Mailer | None = None,
                fill: Filler | None = None) -> Delivery:
    """Send what is due: queued notices, and failed ones whose backoff has passed. Replies to mails
    go through `mailer` (none: they wait, failed, until one is configured)."""
    report = Delivery()
    with session_scope(factory) as s:
        q = select(Notice.id).where(Notice.status != "sent", Notice.channel != "none",
                                    or_(Notice.next_attempt_at.is_(None), Notice.next_attempt_at <= now))
        if cycle_id is not None:
            q = q.where(Notice.cycle_id == cycle_id)
        due = list(s.scalars(q.order_by(Notice.id).limit(limit)))
        waiting = select(Notice.id).where(Notice.status == "failed", Notice.next_attempt_at > now)
        report.waiting = len(list(s.scalars(waiting.where(Notice.cycle_id == cycle_id) if cycle_id else waiting)))
    for notice_id in due:
        claimed = _claim(factory, notice_id, now, data_dir)
        if claimed is None:
            continue  # another deliverer has it, or it went meanwhile
        message, channel, url, reply, ids = claimed
        if fill is not None:
            message = fill(message, *ids)
        if channel == "sink":
            reason = notifier.send(None, message)
        elif channel == MAIL_REPLY:
            reason = mailer(message, reply or {}) if mailer else "未配置回复邮件的发信服务器（NIANBAO_SMTP_URL）"
        elif url is None:
            reason = "联系地址已从名单中删除或更改"
        else:
            reason = notifier.send(url, message)
        with session_scope(factory) as s:
            n = s.get_one(Notice, notice_id)
            if reason is None:
                n.status, n.sent_at, n.last_error, n.next_attempt_at = "sent", now, None, None
                report.sent += 1
            else:
                n.status, n.last_error, n.next_attempt_at = "failed", reason[:500], now + backoff(n.attempts)
                report.failed += 1
    return report


def _claim(factory: sessionmaker[Session], notice_id: int, now: datetime,
           data_dir: Path) -> tuple[Message, str, str | None, dict[str, Any] | None, tuple[int | None, int | None]] | None:
    """Take the notice for sending: one deliverer at a time (the UPDATE is the lock). Returns the
    message, the channel and the URL to send it to (read from the roster, never stored)."""
    with session_scope(factory) as s:
        taken = s.execute(update(Notice).where(
            Notice.id == notice_id, Notice.status != "sent",
            or_(Notice.next_attempt_at.is_(None), Notice.next_attempt_at <= now),
        ).values(attempts=Notice.attempts + 1, next_attempt_at=now + CLAIM))
        if taken.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's CursorResult
            return None
        n = s.get_one(Notice, notice_id)
        message = Message(kind=n.kind, to=n.recipient, subject=n.subject, body=n.body, rules=tuple(n.rules or ()),
                          attachments=tuple(data_dir / a for a in n.attachments or ()), key=n.idempotency_key)
        return message, n.channel, _url_for(s, n), n.reply, (n.body_id, n.cycle_id)


def _url_for(s: Session, n: Notice) -> str | None:
    if n.url_hash is None:
        return None
    for contact in _contacts(s, n.body_id, n.cycle_id):
        for url in contact.get("urls", []):
            if url_hash(url) == n.url_hash:
                return url
    return None
