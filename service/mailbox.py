"""The county's mailbox: reports mailed there become submissions, and each mail is answered over
SMTP, threaded to it (In-Reply-To, References), with the findings and the annotated .docx.

Each message is taken once, whatever the re-runs, crashes or intakes at once:

* the database first: a MailMessage row (mailbox, message key) is inserted in state 'taking' —
  the unique constraint gives a message to one intake only. A row left 'taking' longer than
  RETAKE (a run killed mid-way) is taken again by the next run; its parts are submitted with the
  origin ``mail:<row id>:<part>``, so what the killed run recorded is found, not recorded again;
* then, in one transaction, the body's other channels are told, the reply is queued and the row
  is 'done'; only then is the message flagged ($NianbaoDone) or moved in the mailbox. A crash
  between the two leaves a message whose row says 'done': the next run only flags it. A server
  that does not take keywords is read from the UID after the last one done.

Bodies are known by the sender's address (the roster's mail contacts, case-insensitive); else the
report's own body name decides; else the file is held for the office (its digest lists it). Mail
from a machine (an auto-reply, a bounce, a list) is never answered; mail from ourselves and
bounces are not taken at all. Client file names are never paths: each part is written under a
name of ours and keeps its own name only as the submission's original name."""

from __future__ import annotations

import base64
import email
import email.header
import email.policy
import hashlib
import imaplib
import logging
import re
import ssl
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, Message
from email.utils import getaddresses
from pathlib import Path, PurePosixPath
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from db import repo
from db.models import BodyRecord, County, Cycle, MailMessage, Submission
from db.session import session_scope
from nianbao.archives import ARCHIVES, ZipLimits, unpack
from nianbao.filenames import display_name
from nianbao.labels import cycle_state
from nianbao.readers import SUPPORTED
from nianbao.readers.scan import IMAGE_EXTENSIONS
from nianbao.safetext import file_component, one_line
from notifications import compose
from notifications.channels import MAIL_SCHEMES, install_log_redaction
from notifications.outbox import Draft, enqueue
from service.annotated import annotated_copy_of
from service.env import Env
from service.submission import Brief, Refused, result_draft, submit

log = logging.getLogger(__name__)

KEYWORD = "$NianbaoDone"  # the flag a taken message carries in the mailbox
RETAKE = timedelta(minutes=15)  # a message 'taking' this long was left by a killed run: taken again
MAX_MESSAGE_FACTOR = 3  # a mail larger than this many times the file limit is not downloaded
ZIP_EXTENSIONS = ARCHIVES  # .zip and .7z (py7zr); .rar has no free reader that installs here
# what a clerk's client calls a report it attached without a name
_MIME_EXT = {"application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
             "application/msword": ".doc", "application/pdf": ".pdf", "application/vnd.ms-works": ".wps",
             "application/kswps": ".wps", "application/zip": ".zip", "application/x-zip-compressed": ".zip"}
_LINK = re.compile(r"https?://\S+", re.IGNORECASE)
_SHARE_WORDS = ("网盘", "超大附件", "pan.baidu.com", "weiyun", "aliyundrive", "alipan", "cloud.189.cn",
                "caiyun", "ftn", "mail.163.com/large", "wx.mail.qq.com")
imaplib.Commands.setdefault("ID", ("NONAUTH", "AUTH", "SELECTED"))  # RFC 2971: 163.com refuses SELECT without it


@dataclass(frozen=True)
class MailTaken:
    """One message taken: its subject (for people), what became of its parts, whether it is answered."""

    subject: str
    files: list[Brief] = field(default_factory=list)
    replied: bool = False
    note: str = ""  # why it was not answered, or what else happened (Chinese)


@dataclass(frozen=True)
class MailScan:
    messages: list[MailTaken] = field(default_factory=list)
    skipped: str | None = None  # why the mailbox was not read (no mailbox set, cycle closed …)
    waiting: int = 0  # left for the next run (another intake has them, or more than imap_max_messages)
    errors: list[str] = field(default_factory=list)  # what went wrong (Chinese, no secret)

    @property
    def files(self) -> list[Brief]:
        return [b for m in self.messages for b in m.files]


@dataclass
class _Part:
    name: str  # for people
    ext: str
    content: bytes


@dataclass
class _Read:
    """What a message brings: its parts, what could not be taken, and who it is from."""

    sender: str
    subject: str
    message_id: str | None
    references: str
    parts: list[_Part] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    links: bool = False
    no_reply: str | None = None  # why it must not be answered (a machine sent it)
    ignore: str | None = None  # why it is not taken at all (our own mail, a bounce)


class MailboxError(Exception):
    """The mailbox could not be read now (Chinese, no secret); the next intake tries again."""


# ---- the mailbox -----------------------------------------------------------------------------


def mailbox_id(e: Env) -> str:
    s = e.settings
    return hashlib.sha256(f"{s.imap_host}|{s.imap_user}|{s.imap_folder}".encode()).hexdigest()


def imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3): 163's and QQ's folders are Chinese."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            raw = base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
            out.append(f"&{raw}-")
            run.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return '"' + "".join(out).replace("\\", "\\\\").replace('"', '\\"') + '"'


def connect(e: Env) -> imaplib.IMAP4:
    """Logged in (and identified: RFC 2971 ID where the server offers it). MailboxError otherwise."""
    s = e.settings
    if s.imap_password is not None:
        install_log_redaction([s.imap_password.get_secret_value()])
    context = ssl.create_default_context()
    try:
        imap: imaplib.IMAP4
        if s.imap_tls == "ssl":
            imap = imaplib.IMAP4_SSL(s.imap_host or "", s.imap_port, ssl_context=context, timeout=s.imap_timeout_s)
        else:
            imap = imaplib.IMAP4(s.imap_host or "", s.imap_port, timeout=s.imap_timeout_s)
            if s.imap_tls == "starttls":
                imap.starttls(ssl_context=context)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"无法连接邮箱服务器（{type(exc).__name__}）") from None
    try:
        imap.login(s.imap_user or "", s.imap_password.get_secret_value() if s.imap_password else "")
    except imaplib.IMAP4.error:
        _close(imap)
        raise MailboxError("邮箱登录失败：请检查 NIANBAO_IMAP_USER 和 NIANBAO_IMAP_PASSWORD（163/QQ 邮箱用授权码，"
                           "并在邮箱设置中开启 IMAP/SMTP 服务）") from None
    except OSError as exc:
        _close(imap)
        raise MailboxError(f"邮箱登录时连接中断（{type(exc).__name__}）") from None
    try:  # what the server offers once logged in (MOVE, UIDPLUS …): imaplib keeps the greeting's list
        typ, data = imap.capability()
        if typ == "OK" and data and isinstance(data[-1], bytes):
            imap.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())
    except (imaplib.IMAP4.error, OSError):
        pass
    if "ID" in imap.capabilities:
        try:
            imap._simple_command("ID", '("name" "nianbao" "version" "0.1" "vendor" "nianbao")')
        except (imaplib.IMAP4.error, OSError):
            pass  # only 163 needs it, and it answers it
    return imap


def _close(imap: imaplib.IMAP4) -> None:
    try:
        imap.logout()
    except (imaplib.IMAP4.error, OSError):
        pass


def _untagged(imap: imaplib.IMAP4, name: str) -> bytes:
    data = imap.untagged_responses.get(name) or [b""]
    item = data[-1]
    return item if isinstance(item, bytes) else b""


# ---- reading a message -------------------------------------------------------------------------


def _address(msg: Message, header: str) -> str:
    pairs = getaddresses([str(v) for v in msg.get_all(header, [])])
    return next((addr.strip().lower() for _, addr in pairs if "@" in addr), "")


def _filename(part: Message) -> str | None:
    """The attachment's name as the clerk sees it: RFC 2231 (what email decodes), RFC 2047 words
    inside the parameter (what 163, QQ and Foxmail write, GBK included), raw 8-bit GBK."""
    try:
        name = part.get_filename()
    except (ValueError, LookupError):
        name = None
    if name and "=?" in name:
        words = email.header.decode_header(name)
        try:
            name = "".join(w.decode(c or "gb18030", "replace") if isinstance(w, bytes) else w for w, c in words)
        except LookupError:
            pass
    if name and any("\udc80" <= c <= "\udcff" for c in name):
        name = display_name(name)  # raw bytes the client did not encode: UTF-8, else GBK
    return one_line(name).strip() if name else None


def auto_generated(msg: Message, own: set[str]) -> tuple[str | None, str | None]:
    """(why not to answer it, why not to take it at all): mail a machine sent (RFC 3834)."""
    sender = _address(msg, "From")
    local = sender.partition("@")[0]
    if sender in own:
        return "本邮箱自己发出的邮件", "本邮箱自己发出的邮件"
    if local in {"mailer-daemon", "postmaster"} or msg.get_content_type() == "multipart/report" \
            or str(msg.get("Return-Path", "")).strip() == "<>":
        return "退信", "退信"
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto != "no":
        return "自动发送的邮件", None
    if str(msg.get("Precedence", "")).strip().lower() in {"bulk", "list", "junk", "auto_reply"}:
        return "群发或自动发送的邮件", None
    if msg.get("List-Id") or msg.get("List-Unsubscribe") or msg.get("X-Autoreply") or msg.get("X-Autorespond"):
        return "邮件列表或自动回复", None
    if not sender:
        return "没有发件人地址", None
    return None, None


def _leaves(msg: EmailMessage) -> list[EmailMessage]:
    """The message's parts, without looking inside an attached mail (a bounce carries ours)."""
    if msg.get_content_maintype() == "multipart":
        return [leaf for p in msg.iter_parts() for leaf in _leaves(p)]  # type: ignore[arg-type]
    return [msg]


def read_message(raw: bytes, own: set[str], max_bytes: int) -> _Read:
    msg = cast(EmailMessage, email.message_from_bytes(raw, policy=email.policy.default))
    no_reply, ignore = auto_generated(msg, own)
    message_id = str(msg.get("Message-ID", "")).strip() or None
    refs = " ".join(str(msg.get("References", "")).split())
    got = _Read(_address(msg, "From"), one_line(str(msg.get("Subject", ""))).strip(), message_id, refs,
                no_reply=no_reply, ignore=ignore)
    if ignore:
        return got
    wanted = tuple(x for x in SUPPORTED)
    limits = ZipLimits(max_member_bytes=max_bytes)
    for leaf in _leaves(msg):
        ctype = leaf.get_content_type()
        name = _filename(leaf)
        if name is None:
            if ctype in ("text/plain", "text/html") and leaf.get_content_disposition() != "attachment":
                try:
                    text = leaf.get_content()
                except (LookupError, ValueError):
                    text = ""
                if isinstance(text, str) and (_LINK.search(text) or any(w in text for w in _SHARE_WORDS)):
                    got.links = True
                continue
            if ctype not in _MIME_EXT:
                continue
            name = f"附件{len(got.parts) + 1}{_MIME_EXT[ctype]}"
        ext = PurePosixPath(name.lower()).suffix
        if not ext and ctype in _MIME_EXT:
            ext = _MIME_EXT[ctype]
            name += ext
        content = leaf.get_payload(decode=True)
        if not isinstance(content, bytes):
            continue
        if ext in ZIP_EXTENSIONS:
            unpacked = unpack(content, ext, wanted, limits, f"压缩包《{name}》")
            got.parts += [_Part(n, PurePosixPath(n.lower()).suffix, c) for n, c in unpacked.files]
            got.problems += unpacked.problems
            if not unpacked.files and not unpacked.problems:
                got.problems.append(f"压缩包《{name}》中没有年度报告文件（{'、'.join(SUPPORTED)}）。")
        elif ext in wanted:
            got.parts.append(_Part(name, ext, content))
        elif ext == ".rar":
            got.problems.append(f"附件《{name}》是 .rar 压缩包，系统无法解压。请直接发送报告文件，或改用 .zip 压缩。")
        elif ext in (".gif", ".heic", ".heif", ".webp"):
            got.problems.append(f"附件《{name}》是系统读不了的图片格式。请发送 Word 文档或 PDF；拍照的请存为 .jpg 再发送。")
        elif ext in (".xls", ".xlsx", ".et"):
            got.problems.append(f"附件《{name}》是表格文件。年度报告应为 Word 文档或 PDF（表格在报告正文中）。")
    _pages_as_one(got)
    return got


def _pages_as_one(got: _Read) -> None:
    """Pictures are a report's pages, photographed or scanned one by one: together they are one scan
    (a .zip of the pages, in the order they came, read by OCR). Beside a report file they are not
    the report (a photo of the seal, of a letter) and are left out."""
    pictures = [p for p in got.parts if p.ext in IMAGE_EXTENSIONS]
    if not pictures:
        return
    rest = [p for p in got.parts if p.ext not in IMAGE_EXTENSIONS]
    if rest:
        got.parts = rest
        return
    if len(pictures) == 1:
        return
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for k, p in enumerate(pictures, 1):
            zf.writestr(f"{k:03d}{p.ext}", p.content)
    stem = PurePosixPath(pictures[0].name).stem
    got.parts = [_Part(f"{stem}等{len(pictures)}页照片.zip", ".zip", buf.getvalue())]


def _message_key(raw: bytes, message_id: str | None) -> str:
    basis = message_id.strip("<> ").lower().encode() if message_id else raw
    return hashlib.sha256(basis).hexdigest()


# ---- the roster's mailboxes --------------------------------------------------------------------


def contact_addresses(url: str) -> list[str]:
    """The addresses a contact's mail URL sends to: ``mailto:a@b``, apprise's ``mailto://…?to=a,b``,
    or apprise's default, the login at the host (``mailto://user:pw@example.com`` → user@example.com)."""
    scheme = url.split(":", 1)[0].lower()
    if scheme not in MAIL_SCHEMES:
        return []
    if "://" not in url:
        return [a.strip().lower() for a in unquote(url.split(":", 1)[1].split("?", 1)[0]).split(",") if "@" in a]
    parts = urlsplit(url)
    to = [v for k, v in parse_qsl(parts.query) if k.lower() == "to"]
    if to:
        return [a.strip().lower() for v in to for a in re.split(r"[,;\s]+", v) if "@" in a]
    user = unquote(parts.username or "")
    if "@" in user:
        return [user.lower()]
    host = parts.hostname or ""
    if user and "." in host and not re.fullmatch(r"[0-9.]+", host):
        return [f"{user}@{host}".lower()]
    return []


def body_addresses(bodies: list[BodyRecord]) -> dict[int, list[str]]:
    return {b.id: list(dict.fromkeys(a for c in b.contacts or [] for u in c.get("urls", [])
                                     for a in contact_addresses(u))) for b in bodies}


# ---- intake ------------------------------------------------------------------------------------


def poll(e: Env, county_code: str, year: int, now: datetime) -> MailScan:
    """Take what is new in the county's mailbox (at most imap_max_messages)."""
    s = e.settings
    if not s.imap_host:
        return MailScan(skipped="未配置县邮箱（NIANBAO_IMAP_HOST），不读取邮件。")
    now = now.astimezone(UTC)
    with session_scope(e.factory) as ss:
        c = repo.county_by_code(ss, county_code)
        cy = repo.cycle(ss, c, year)
        if cy.state != "open":
            return MailScan(skipped=f"{year}年度报送周期{cycle_state(cy.state)}，不读取邮件。")
        if repo.cycle(ss, c).year != year:
            return MailScan(skipped=f"县邮箱的来件由最新的报送周期接收，{year}年度不读取。")
    try:
        imap = connect(e)
    except MailboxError as exc:
        log.error("读取县邮箱失败：%s", exc)
        return MailScan(errors=[str(exc)])
    try:
        return _poll(e, imap, county_code, year, now)
    except (imaplib.IMAP4.error, OSError) as exc:
        log.error("读取县邮箱时出错（%s），下次收件时继续", type(exc).__name__)
        return MailScan(errors=[f"读取县邮箱时出错（{type(exc).__name__}），下次收件时继续。"])
    finally:
        _close(imap)


def _poll(e: Env, imap: imaplib.IMAP4, county_code: str, year: int, now: datetime) -> MailScan:
    s = e.settings
    typ, _ = imap.select(imap_utf7(s.imap_folder))
    if typ != "OK":
        return MailScan(errors=[f"邮箱中没有文件夹“{s.imap_folder}”（NIANBAO_IMAP_FOLDER）"])
    uidvalidity = _int32(int(_untagged(imap, "UIDVALIDITY") or 0))
    flags = _untagged(imap, "PERMANENTFLAGS")
    keywords = b"\\*" in flags or KEYWORD.encode() in flags
    box = mailbox_id(e)
    if keywords:
        typ, data = imap.uid("SEARCH", "UNKEYWORD", KEYWORD, "UNDELETED")
    else:  # no keywords here: the database remembers, and the search starts after the last one done
        low = _first_undone_uid(e, box, uidvalidity)
        typ, data = imap.uid("SEARCH", f"UID {low}:*", "UNDELETED")
    uids = sorted(int(u) for u in (data[0] or b"").split()) if typ == "OK" else []
    if not keywords:
        uids = [u for u in uids if u >= low]
    waiting = max(0, len(uids) - s.imap_max_messages)
    uids = uids[:s.imap_max_messages]
    sizes = _sizes(imap, uids)
    limit = s.limits().max_bytes * MAX_MESSAGE_FACTOR
    taken: list[MailTaken] = []
    errors: list[str] = []
    own = {a.lower() for a in (s.mail_from, s.imap_user) if a and "@" in a}
    for uid in uids:
        try:
            got = _one(e, imap, uid, uidvalidity, box, county_code, year, now, own, keywords,
                       too_large=sizes.get(uid, 0) > limit)
        except MailboxError as exc:
            errors.append(str(exc))
            continue
        except (imaplib.IMAP4.abort, ConnectionError, TimeoutError):
            raise  # the connection is gone: the rest waits for the next run
        except (SQLAlchemyError, OSError) as exc:  # the machine's, not the message's: next run
            log.error("邮件 UID %d 暂未处理（%s），下次收件时继续", uid, type(exc).__name__)
            errors.append(f"一封邮件暂未处理（{type(exc).__name__}），下次收件时继续。")
            continue
        except Exception as exc:  # noqa: BLE001 - this message's own failure must not stop the others
            log.exception("邮件 UID %d 处理失败，%s后重试", uid, RETAKE)
            errors.append(f"一封邮件处理失败（{type(exc).__name__}），稍后重试。")
            continue
        if got is None:
            waiting += 1
        elif got.note != "already":
            taken.append(got)
    return MailScan(taken, waiting=waiting, errors=errors)


def _int32(n: int) -> int:
    """IMAP's unsigned 32-bit UIDVALIDITY in the signed INTEGER column (PostgreSQL's int4)."""
    return n - (1 << 32) if n >= 1 << 31 else n


def _first_undone_uid(e: Env, box: str, uidvalidity: int) -> int:
    with session_scope(e.factory) as ss:
        rows = list(ss.execute(select(MailMessage.uid, MailMessage.state).where(
            MailMessage.mailbox == box, MailMessage.uidvalidity == uidvalidity)))
    taking = [u for u, st in rows if st != "done" and u]
    done = [u for u, st in rows if st == "done" and u]
    return min([*taking, max(done, default=0) + 1])


def _sizes(imap: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    if not uids:
        return {}
    typ, data = imap.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)")
    out: dict[int, int] = {}
    for item in data if typ == "OK" else []:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes) and (m := re.search(rb"UID (\d+)", line)) and (n := re.search(rb"RFC822\.SIZE (\d+)", line)):
            out[int(m.group(1))] = int(n.group(1))
    return out


def _fetch(imap: imaplib.IMAP4, uid: int, what: str) -> tuple[bytes, datetime | None]:
    typ, data = imap.uid("FETCH", str(uid), f"(INTERNALDATE {what})")
    if typ != "OK":
        raise MailboxError("邮件读取失败，下次收件时继续。")
    raw, arrived = b"", None
    for item in data:
        if isinstance(item, tuple):
            head, raw = item[0], item[1]
            tt = imaplib.Internaldate2tuple(head)
            if tt is not None:
                arrived = datetime.fromtimestamp(time.mktime(tt), UTC)
    if not raw:
        raise MailboxError("邮件内容为空或已被删除。")
    return raw, arrived


def _one(e: Env, imap: imaplib.IMAP4, uid: int, uidvalidity: int, box: str, county_code: str, year: int,
         now: datetime, own: set[str], keywords: bool, too_large: bool) -> MailTaken | None:
    """One message: claimed, taken, answered, marked. None: another intake has it."""
    raw, arrived = _fetch(imap, uid, "BODY.PEEK[HEADER]" if too_large else "BODY.PEEK[]")  # PEEK: \\Seen stays as it was
    got = read_message(raw, own, e.settings.limits().max_bytes)
    if too_large:
        got.problems.append(f"邮件过大（超过 {e.settings.max_file_mb * MAX_MESSAGE_FACTOR:.0f} MB），系统未下载。"
                            "请压缩图片后只发送年度报告文件。")
    row_id = _claim(e, box, _message_key(raw, got.message_id), uid, uidvalidity, got, county_code, year, now)
    if row_id is None:
        return None
    if row_id < 0:  # done already (a run stopped before marking it): only the mark was missing
        _mark(e, imap, uid, keywords)
        return MailTaken(got.subject, note="already")
    received = min(arrived, now) if arrived else now
    briefs, texts = _take(e, row_id, got, county_code, year, received)
    taken = _finish(e, row_id, got, briefs, texts, county_code, year)
    _mark(e, imap, uid, keywords)
    return taken


def _claim(e: Env, box: str, key: str, uid: int, uidvalidity: int, got: _Read, county_code: str, year: int,
           now: datetime) -> int | None:
    """The row's id when this run has the message; -(id) when it is done already; None when another
    intake is on it."""
    try:
        with session_scope(e.factory) as ss:
            cy = repo.cycle(ss, repo.county_by_code(ss, county_code), year)
            row = MailMessage(mailbox=box, message_key=key, uidvalidity=uidvalidity, uid=uid,
                              message_id=(got.message_id or "")[:255] or None, sender=got.sender[:255],
                              subject=got.subject[:255], cycle_id=cy.id, state="taking", taken_at=now)
            ss.add(row)
            ss.flush()
            return row.id
    except IntegrityError:
        pass
    with session_scope(e.factory) as ss:
        row = ss.scalars(select(MailMessage).where(MailMessage.mailbox == box, MailMessage.message_key == key)).one()
        if row.state == "done":
            return -row.id
        # left 'taking' by a run that stopped: the first to move taken_at on has it
        moved = ss.execute(update(MailMessage).where(MailMessage.id == row.id, MailMessage.state == "taking",
                                                     MailMessage.taken_at < now - RETAKE)
                           .values(taken_at=now, uid=uid, uidvalidity=uidvalidity)
                           .execution_options(synchronize_session=False))
        if moved.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's CursorResult
            return None
        log.warning("邮件《%s》上次处理中断，重新处理", got.subject)
        return row.id


def _take(e: Env, row_id: int, got: _Read, county_code: str, year: int,
          received: datetime) -> tuple[list[Brief], list[str]]:
    """Each part submitted (once per origin, whatever the re-runs). Returns the briefs and, for
    parts not recorded, why (for the reply)."""
    briefs: list[Brief] = []
    texts: list[str] = []
    if got.ignore:
        return briefs, texts
    with session_scope(e.factory) as ss:
        c = repo.county_by_code(ss, county_code)
        bodies = repo.bodies(ss, c)
        owners = [b.code for b in bodies if got.sender in body_addresses([b])[b.id]]
        county = c.name
    code = owners[0] if len(owners) == 1 else None  # one clerk for two bodies: the report says which
    with tempfile.TemporaryDirectory(prefix="nianbao-mail-") as tmp:
        for i, part in enumerate(got.parts):
            path = Path(tmp) / f"part-{i}{file_component(part.ext, 12)}"  # never the client's name
            path.write_bytes(part.content)
            try:
                done = submit(e, path, county=county, year=year, body_code=code, source="mail",
                              actor=f"flow:intake:{county_code}", received_at=received,
                              original_name=part.name, notify=False, origin=f"mail:{row_id}:{i}")
            except Refused as exc:
                if exc.transient:
                    raise OSError(exc.message) from None  # the machine's: the whole message waits
                texts.append(f"《{part.name}》未登记：{exc.message}")
                continue
            briefs.append(done.brief(part.name))
    return briefs, texts


def _finish(e: Env, row_id: int, got: _Read, briefs: list[Brief], texts: list[str], county_code: str,
            year: int) -> MailTaken:
    """In one transaction: the bodies' other channels told, the reply queued, the message done."""
    s = e.settings
    can_reply = got.no_reply is None and got.ignore is None and (s.smtp_url is not None or e.sink)
    replied, note = False, got.no_reply or ""
    with session_scope(e.factory) as ss:
        c = repo.county_by_code(ss, county_code)
        cy = repo.cycle(ss, c, year)
        subs = [ss.get_one(Submission, b.submission_id) for b in briefs]
        for sub in subs:  # the verdict to the body's chat bots and gateways; its mailboxes get the reply
            draft = result_draft(ss, sub, e)
            if draft is not None and not (can_reply and e.sink):
                enqueue(ss, draft, sink=e.sink, skip_schemes=MAIL_SCHEMES if can_reply else frozenset())
        if can_reply:
            replied = _queue_reply(ss, e, c, cy, row_id, got, subs, texts)
        elif got.no_reply is None and got.ignore is None:
            note = "未配置回复邮件的发信服务器（NIANBAO_SMTP_URL），未回复"
        row = ss.get_one(MailMessage, row_id)
        row.state, row.done_at = "done", datetime.now(UTC)
        row.body_id = next((x.body_id for x in subs if x.body_id), None)
        row.outcome = {"submissions": [x.id for x in subs], "replied": replied, "not_recorded": texts,
                       "problems": got.problems, "note": got.ignore or note}
    return MailTaken(got.subject, briefs, replied, got.ignore or note)


def _queue_reply(ss: Any, e: Env, c: County, cy: Cycle, row_id: int, got: _Read, subs: list[Submission],
                 texts: list[str]) -> bool:
    templates = e.settings.templates_dir
    drafts: list[Draft] = []
    for sub in subs:
        d = result_draft(ss, sub, e) or compose.mail_held(c, cy, sub, templates)
        drafts.append(d)
    body = next((ss.get(BodyRecord, x.body_id) for x in subs if x.body_id), None)
    if not drafts:
        if body is None:  # who it is from, when the sender is a contact
            bodies = repo.bodies(ss, c)
            body = next((b for b in bodies if got.sender in body_addresses([b])[b.id]), None)
        drafts.append(compose.mail_missing(c, cy, f"mail:{row_id}", body=body, subject=got.subject, links=got.links,
                                           problems=[*got.problems, *texts], templates_dir=templates))
        extra: list[str] = []
    else:
        extra = [*texts, *got.problems]
    text = "\n\n".join(f"{d.subject}\n\n{d.message}" if len(drafts) > 1 or subs else d.message for d in drafts)
    if extra and subs:
        text += "\n\n另：\n" + "\n".join(f"{i}. {x}" for i, x in enumerate(extra, 1))
    attachments = []
    for sub in subs:
        if sub.original_name.lower().endswith(".docx"):
            copy = annotated_copy_of(e, sub)  # in this transaction: no second connection
            if copy is not None:
                attachments.append(_relative(e, copy))
    bodies_told = {x.body_id for x in subs if x.body_id} | ({body.id} if body else set())
    cc = [a for b in ss.scalars(select(BodyRecord).where(BodyRecord.id.in_(bodies_told)))
          for a in body_addresses([b])[b.id] if a != got.sender]
    subject = got.subject if re.match(r"(?i)re[:：]", got.subject) else f"Re: {got.subject or '年度报告'}"
    first = drafts[0]
    kind = "rejected" if any(d.kind == "rejected" for d in drafts) else first.kind
    reply = {"to": [got.sender], "cc": list(dict.fromkeys(cc)), "in_reply_to": got.message_id,
             "references": " ".join(x for x in (got.references, got.message_id) if x) or None}
    draft = Draft(kind=kind, key=f"mail-reply|mail:{row_id}", cycle_id=cy.id,
                  recipient=body.code if body else compose.MAIL_SENDER, subject=subject[:200], message=text,
                  body_id=body.id if body else None, submission_id=subs[0].id if subs else None,
                  rules=list(dict.fromkeys(r for d in drafts for r in d.rules)), attachments=attachments)
    enqueue(ss, draft, sink=e.sink, reply=reply)
    return True


def _relative(e: Env, path: Path) -> str:
    p = Path(path).resolve()
    root = e.data_dir.resolve()
    return p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p)


def _mark(e: Env, imap: imaplib.IMAP4, uid: int, keywords: bool) -> None:
    """Flag the message as taken and, when a folder is set, move it there. The database already
    says it is done: a failure here costs only a second look next time."""
    folder = e.settings.imap_done_folder
    try:
        if keywords:
            imap.uid("STORE", str(uid), "+FLAGS", f"({KEYWORD})")
        if folder:
            target = imap_utf7(folder)
            if "MOVE" in imap.capabilities:
                typ, _ = imap.uid("MOVE", str(uid), target)
                if typ != "OK":
                    imap.create(target)
                    imap.uid("MOVE", str(uid), target)
            else:
                typ, _ = imap.uid("COPY", str(uid), target)
                if typ != "OK":
                    imap.create(target)
                    typ, _ = imap.uid("COPY", str(uid), target)
                if typ == "OK":
                    imap.uid("STORE", str(uid), "+FLAGS", "(\\Deleted)")
                    if "UIDPLUS" in imap.capabilities:  # never a plain EXPUNGE: it takes the clerks' deleted mail too
                        imap.uid("EXPUNGE", str(uid))
    except imaplib.IMAP4.error as exc:
        log.warning("邮件 UID %d 已处理，但未能在邮箱中标记（%s）", uid, type(exc).__name__)

