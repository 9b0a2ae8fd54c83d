"""The secret links of the upload page: one per body and cycle (and one for the county office).

A token is an HMAC of the installation's web secret, the cycle, the body and a serial, so
`nianbao link` prints the same link again without it being kept anywhere; only its SHA-256 is in
the database. Revoking marks the row; the next link has serial + 1, so the old one never opens
again. A link expires with its cycle: 90 days after the deadline (the county publishes by
31 March), and at once when the cycle is closed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db import repo
from db.models import AccessToken, BodyRecord, County, Cycle
from db.session import session_scope
from notifications import compose
from notifications.channels import Message
from notifications.outbox import enqueue
from service.env import Env

VALID_AFTER_DEADLINE = timedelta(days=90)
OFFICE = "office"


@dataclass(frozen=True)
class Link:
    url: str
    token: str
    created: bool  # False: the link already issued, printed again
    expires_at: datetime | None
    serial: int = 0  # the body's (or office's) how-many-th link of the cycle


@dataclass(frozen=True)
class Access:
    """What a valid token opens: one body's page (body_id set) or the office's (None)."""

    token_id: int
    cycle_id: int
    body_id: int | None
    county_code: str
    year: int

    @property
    def office(self) -> bool:
        return self.body_id is None


def web_secret(e: Env) -> bytes:
    """NIANBAO_WEB_SECRET, else a random key made once in data_dir/web-secret (mode 600)."""
    if e.settings.web_secret is not None:
        return e.settings.web_secret.get_secret_value().encode()
    path = e.data_dir / "web-secret"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    e.data_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".web-secret-", dir=e.data_dir)  # mkstemp: mode 600
    try:
        os.write(fd, secrets.token_urlsafe(48).encode())
        os.close(fd)
        try:
            os.link(tmp, path)  # two processes at once: the first one's key wins
        except FileExistsError:
            pass
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path.read_bytes().strip()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token(secret: bytes, cycle_id: int, body_id: int | None, serial: int) -> str:
    msg = f"link|{cycle_id}|{body_id if body_id is not None else OFFICE}|{serial}".encode()
    return base64.urlsafe_b64encode(hmac.new(secret, msg, hashlib.sha256).digest()[:24]).decode()  # 192 bits


def url_of(e: Env, token: str, office: bool) -> str:
    return f"{e.settings.public_url.rstrip('/')}/{'o' if office else 'b'}/{token}"


def _expiry(cy: Cycle) -> datetime:
    return datetime.combine(cy.deadline + VALID_AFTER_DEADLINE, time(0), tzinfo=UTC)


def _current(s: Session, cy: Cycle, body_id: int | None) -> AccessToken | None:
    q = select(AccessToken).where(AccessToken.cycle_id == cy.id, AccessToken.revoked_at.is_(None))
    q = q.where(AccessToken.body_id == body_id) if body_id is not None else q.where(AccessToken.body_id.is_(None))
    return s.scalars(q.order_by(AccessToken.serial.desc())).first()


class Refused(Exception):
    """No link for that: the reason, in Chinese, for the office."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _target(s: Session, county: str | None, year: int | None, code: str | None,
            issuing: bool = True) -> tuple[County, Cycle, BodyRecord | None]:
    """The county, cycle and body (None: the office) a command means. Without a year, the newest
    open cycle: repo.cycle would fall back to a compiled or closed one, whose link opens nothing
    new. A link is not issued for a closed or expired cycle or a body off the roster (it would
    not open); revoking one is always allowed."""
    c = repo.county(s, county)
    cy = repo.cycle(s, c, year)
    if year is None and cy.state != "open":
        raise repo.NotFound(f"{c.name}没有进行中的报送周期（nianbao cycle open …）；以往年度的请用 --year 指明。")
    body = repo.body_by_code(s, c, code) if code else None
    if issuing:
        if cy.state == "closed":
            raise Refused(f"{c.name}{cy.year}年度的报送周期已关闭，不再发放链接。")
        if _expiry(cy) <= datetime.now(UTC):
            raise Refused(f"{c.name}{cy.year}年度的报送链接已过有效期（截止日期后{VALID_AFTER_DEADLINE.days}天）。")
        if body is not None and not body.active:
            raise Refused(f"{body.name}已不在当前单位名单中（已停用），不发放链接。")
    return c, cy, body


def issue_in(s: Session, e: Env, cy: Cycle, body: BodyRecord | None, actor: str = "cli") -> Link:
    """The link of a body (or, body None, of the office) for a cycle, issued when it has none,
    inside the caller's transaction (the kickoff and reminders carry it)."""
    secret = web_secret(e)
    body_id = body.id if body else None
    row = _current(s, cy, body_id)
    if row is not None:
        token = _token(secret, cy.id, body_id, row.serial)
        if hmac.compare_digest(token_hash(token), row.token_hash):
            return Link(url_of(e, token, body is None), token, False, row.expires_at, row.serial)
        row.revoked_at = datetime.now(UTC)  # the web secret was changed: the old link cannot be printed again
        repo.audit(s, actor, "link.revoked", "access_token", row.id, cycle_id=cy.id, body_id=body_id,
                   reason="web secret changed")
    q = select(func.max(AccessToken.serial)).where(AccessToken.cycle_id == cy.id)
    q = q.where(AccessToken.body_id == body_id) if body_id is not None else q.where(AccessToken.body_id.is_(None))
    serial = (s.scalar(q) or 0) + 1
    token = _token(secret, cy.id, body_id, serial)
    row = AccessToken(cycle_id=cy.id, body_id=body_id, serial=serial, token_hash=token_hash(token),
                      expires_at=_expiry(cy), created_by=actor)
    try:
        with s.begin_nested():  # another process (a kickoff, `nianbao link`) may issue the same serial just now
            s.add(row)
    except IntegrityError:
        theirs = _current(s, cy, body_id)
        if theirs is None or theirs.serial != serial:
            raise
        return Link(url_of(e, token, body is None), token, False, theirs.expires_at, serial)  # same secret, same token
    repo.audit(s, actor, "link.issued", "access_token", row.id, cycle_id=cy.id, body_id=body_id, serial=serial)
    return Link(url_of(e, token, body is None), token, True, row.expires_at, serial)


def issue(e: Env, code: str | None, *, county: str | None = None, year: int | None = None, actor: str = "cli") -> Link:
    """`nianbao link CODE` (or, code None, `--office`)."""
    with session_scope(e.factory) as s:
        _, cy, body = _target(s, county, year, code)
        return issue_in(s, e, cy, body, actor)


def revoke(e: Env, code: str | None, *, county: str | None = None, year: int | None = None, actor: str = "cli") -> int:
    """Revoke the body's (or the office's) links of the cycle; how many were open."""
    with session_scope(e.factory) as s:
        _, cy, body = _target(s, county, year, code, issuing=False)
        body_id = body.id if body else None
        q = select(AccessToken).where(AccessToken.cycle_id == cy.id, AccessToken.revoked_at.is_(None))
        q = q.where(AccessToken.body_id == body_id) if body_id is not None else q.where(AccessToken.body_id.is_(None))
        rows = list(s.scalars(q))
        for row in rows:
            row.revoked_at = datetime.now(UTC)
            repo.audit(s, actor, "link.revoked", "access_token", row.id, cycle_id=cy.id, body_id=body_id)
        return len(rows)


@dataclass(frozen=True)
class Sent:
    link: Link
    county_code: str
    year: int
    body: str  # the body's name
    channels: list[str]  # "contact scheme" of each notice row (never the URL)
    new: int  # rows this call queued (0: this link was sent already)
    undeliverable: bool  # the body has no contact: the notice waits, failed, and the office is told


def send_link(e: Env, code: str, *, county: str | None = None, year: int | None = None, actor: str = "cli") -> Sent:
    """Queue a notice with the body's (new) link to its contacts (`nianbao link CODE --send`),
    once per link: sending the same link again queues nothing."""
    if not e.settings.web_links():
        raise Refused("未设置 NIANBAO_PUBLIC_URL（各单位打开报送页面的地址），链接不能发给各单位。")
    with session_scope(e.factory) as s:
        c, cy, body = _target(s, county, year, code)
        assert body is not None  # a code was given
        link = issue_in(s, e, cy, body, actor)
        draft = compose.link(c, cy, body, compose.LINK_MARK, link.serial, e.settings.templates_dir)
        rows = enqueue(s, draft, sink=e.sink)
        return Sent(link, c.code, cy.year, body.name, [r.channel for r in rows], rows.new, any(r.channel == "none" for r in rows))


def resolve(e: Env, token: str, now: datetime | None = None) -> Access | None:
    """What a token opens, or None: unknown, revoked, expired, its cycle closed or its body
    taken off the roster."""
    if not token or len(token) > 64 or not token.isascii():
        return None
    now = now or datetime.now(UTC)
    with session_scope(e.factory) as s:
        row = s.scalar(select(AccessToken).where(AccessToken.token_hash == token_hash(token)))
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(_token(web_secret(e), row.cycle_id, row.body_id, row.serial), token):
            return None  # the web secret was changed (after a leak): every earlier link is dead
        expires = row.expires_at
        if expires is not None and (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) <= now:
            return None
        cy = s.get_one(Cycle, row.cycle_id)
        if cy.state == "closed":
            return None
        if row.body_id is not None and not s.get_one(BodyRecord, row.body_id).active:
            return None
        c = s.get_one(County, cy.county_id)
        last = row.last_used_at
        if last is None or (last if last.tzinfo else last.replace(tzinfo=UTC)) < now - timedelta(minutes=5):
            row.last_used_at = now  # written at most every few minutes: a page view is not a write
        return Access(row.id, cy.id, row.body_id, c.code, cy.year)


GONE = "（链接已失效，请与县政务公开办联系）"


def fill(e: Env, message: Message, body_id: int | None, cycle_id: int | None) -> Message:
    """A notice as it goes out: the body's current link where the stored text holds its mark
    (a link revoked since the notice was queued is never sent; the new one is)."""
    if compose.LINK_MARK not in message.body:
        return message
    url = GONE
    if body_id is not None and cycle_id is not None:
        with session_scope(e.factory) as s:
            cy, body = s.get(Cycle, cycle_id), s.get(BodyRecord, body_id)
            if cy is not None and body is not None:
                try:
                    url = issue_in(s, e, cy, body, "delivery").url
                except Refused:
                    pass
    return replace(message, body=message.body.replace(compose.LINK_MARK, url))
