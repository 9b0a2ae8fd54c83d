"""The cycle's memory: who is on the roster, which cycle, what each body sent (every version),
what was found in it, what we told whom, and who did what when.

Prefect keeps events for days, not years, and has no per-body access control; an audited,
months-long cycle lives here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from nianbao import model as domain

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Json = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: Json, list[Any]: Json, datetime: DateTime(timezone=True)}


class County(Base):
    __tablename__ = "county"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # pinyin slug: cycle-julu-2024, tags
    parents: Mapped[list[Any]] = mapped_column(default=list)  # 邢台市, 河北省
    # the county office (政务公开办) that is told of everything: {"name", "contacts": [...]}
    office: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    bodies: Mapped[list[BodyRecord]] = relationship(back_populates="county", order_by="BodyRecord.id")


class BodyRecord(Base):
    """A township, department or other body that owes the county a report."""

    __tablename__ = "body"
    __table_args__ = (
        UniqueConstraint("county_id", "code"),
        UniqueConstraint("county_id", "name"),
        CheckConstraint("kind in ('township', 'department', 'other')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))  # pinyin slug: artifact keys, inbox folders
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    # [{"name": "张三", "role": "联络员", "urls": ["mailto://…", "dingtalk://…"]}]: the URLs carry
    # tokens; they are read to send and never shown, logged or put in an artifact
    contacts: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    county: Mapped[County] = relationship(back_populates="bodies")


class Cycle(Base):
    """One county's reporting cycle for one report year."""

    __tablename__ = "cycle"
    __table_args__ = (
        UniqueConstraint("county_id", "year"),
        CheckConstraint("state in ('open', 'compiled', 'closed')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)  # the report year (2024 for reports due January 2025)
    deadline: Mapped[date] = mapped_column(Date)
    reminder_offsets: Mapped[list[Any]] = mapped_column(default=list)  # days before the deadline
    state: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)

    county: Mapped[County] = relationship()


class Submission(Base):
    """One version of one body's report in one cycle: the bytes (stored by SHA-256), where they
    came from, the parsed report and the verdict. Never updated after it is recorded."""

    __tablename__ = "submission"
    __table_args__ = (
        UniqueConstraint("cycle_id", "body_id", "version"),
        CheckConstraint("verdict in ('accepted', 'rejected')", name="verdict"),
        Index(None, "cycle_id", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    # NULL: held unassigned (the report names no body of the roster)
    body_id: Mapped[int | None] = mapped_column(ForeignKey("body.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)  # 1, 2, … per body and cycle; 0 for unassigned
    source: Mapped[str] = mapped_column(String(16))  # how it arrived: cli · inbox · import · mail · upload
    original_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    stored_path: Mapped[str] = mapped_column(String(255))  # relative to NIANBAO_DATA_DIR
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    verdict: Mapped[str] = mapped_column(String(16))
    report: Mapped[dict[str, Any] | None] = mapped_column(default=None)  # the spec's report JSON
    errors: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    # against the version before: {"fixed": [...], "new": [...], "remaining": [...]} of finding keys
    delta: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # what it came in as, when the same arrival may be handled twice (a mail part re-read after a
    # crash: "mail:<mail_message.id>:<part>"): one submission per origin, whatever the re-runs
    origin: Mapped[str | None] = mapped_column(String(120), default=None, unique=True)
    # what it was read as (docx, pdf, scan …; NULL: unread, or recorded before 0007)
    read_as: Mapped[str | None] = mapped_column(String(16), default=None)

    cycle: Mapped[Cycle] = relationship()
    body: Mapped[BodyRecord | None] = relationship()
    findings: Mapped[list[FindingRecord]] = relationship(back_populates="submission", order_by="FindingRecord.id",
                                                   cascade="all, delete-orphan")


class FindingRecord(Base):
    __tablename__ = "finding"
    __table_args__ = (
        CheckConstraint("severity in ('error', 'warning', 'info')", name="severity"),
        Index(None, "submission_id"),
        Index(None, "rule"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(8))
    section: Mapped[str | None] = mapped_column(String(2))
    table_key: Mapped[str | None] = mapped_column(String(8))
    row_key: Mapped[str | None] = mapped_column(String(40))
    column_key: Mapped[str | None] = mapped_column(String(40))
    page: Mapped[int | None] = mapped_column(Integer)
    paragraph: Mapped[int | None] = mapped_column(Integer)
    line: Mapped[int | None] = mapped_column(Integer)
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str] = mapped_column(Text)
    places: Mapped[list[Any] | None] = mapped_column(default=None)  # a grouped finding's every place

    submission: Mapped[Submission] = relationship(back_populates="findings")

    def to_domain(self) -> domain.Finding:
        """The finding as the domain has it: one shape (`to_json()`) wherever a finding is shown."""
        loc = domain.Location(section=self.section, table=self.table_key, row=self.row_key, column=self.column_key,
                              page=self.page, paragraph=self.paragraph, line=self.line,
                              places=tuple(domain.Location.from_json(p) for p in self.places or ()))
        return domain.Finding(self.rule, domain.Severity(self.severity), self.message, loc, dict(self.values or {}))


class Notice(Base):
    """The outbox: every notice once, by its idempotency key. The channel is a reference (the
    contact and the URL's scheme), never the URL itself."""

    __tablename__ = "notice"
    __table_args__ = (
        CheckConstraint("status in ('queued', 'sent', 'failed')", name="status"),
        Index(None, "cycle_id", "body_id"),
        Index(None, "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # kickoff · reminder · accepted · rejected · overdue · digest · summary
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    body_id: Mapped[int | None] = mapped_column(ForeignKey("body.id", ondelete="SET NULL"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(80))  # a body code or "county-office"
    channel: Mapped[str] = mapped_column(String(80))  # e.g. "张三 mailto", "dingtalk"
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    rules: Mapped[list[Any]] = mapped_column(default=list)
    attachments: Mapped[list[Any]] = mapped_column(default=list)  # paths under NIANBAO_DATA_DIR
    # a reply to a mail (channel "mail-reply"): {"to": [...], "cc": [...], "in_reply_to": "<…>",
    # "references": "<…> <…>"}; addresses, never a password (the SMTP URL is a setting)
    reply: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # which of the recipient's URLs (the URL itself stays on the roster): its SHA-256
    url_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str] = mapped_column(String(8), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)  # backoff after a failure
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class AuditEvent(Base):
    """What happened, to what, by whom (a person or a flow run), when."""

    __tablename__ = "audit_event"
    __table_args__ = (Index(None, "cycle_id", "at"), Index(None, "object_type", "object_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int | None] = mapped_column(Integer)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycle.id", ondelete="SET NULL"))
    body_id: Mapped[int | None] = mapped_column(ForeignKey("body.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AccessToken(Base):
    """A secret link to one body's upload page (body_id set) or to the county office's page (NULL)
    for one cycle. Only the token's SHA-256 is stored; the token itself is an HMAC of the
    installation's web secret, the cycle, the body and `serial`, so `nianbao link` can print it
    again without keeping it. Revoking sets revoked_at; the next link has serial + 1."""

    __tablename__ = "access_token"
    __table_args__ = (UniqueConstraint("cycle_id", "body_id", "serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    body_id: Mapped[int | None] = mapped_column(ForeignKey("body.id", ondelete="CASCADE"))
    serial: Mapped[int] = mapped_column(Integer, default=1)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[str] = mapped_column(String(120), default="")


class MailMessage(Base):
    """One message of the county's mailbox, as intake took it: so that a re-run, a crash mid-way
    or two intakes at once take nothing twice. Keyed by the mailbox and the message (its
    Message-ID, or the SHA-256 of its bytes when it has none); the IMAP UID is kept to flag it."""

    __tablename__ = "mail_message"
    __table_args__ = (UniqueConstraint("mailbox", "message_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(64))  # SHA-256 of host|user|folder, never the password
    message_key: Mapped[str] = mapped_column(String(64))  # SHA-256 of the Message-ID (or of the bytes)
    uidvalidity: Mapped[int | None] = mapped_column(Integer, default=None)
    uid: Mapped[int | None] = mapped_column(Integer, default=None)
    message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    sender: Mapped[str] = mapped_column(String(255), default="")
    subject: Mapped[str] = mapped_column(String(255), default="")
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycle.id", ondelete="SET NULL"))
    body_id: Mapped[int | None] = mapped_column(ForeignKey("body.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(12), default="taking")  # taking · done
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[dict[str, Any]] = mapped_column(default=dict)  # submission ids, what was replied, why
