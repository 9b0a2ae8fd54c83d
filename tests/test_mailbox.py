"""Reports mailed to the county's mailbox (issue 11): a real dovecot on loopback holds the county's
and the clerks' mailboxes, a real SMTP server delivers into them, nianbao reads the county's over
IMAP and answers over SMTP, and each test reads the reply from the clerk's mailbox as a person's
mail client would. Nothing is mocked; the one injected fault is a SIGKILL at the worst moment."""

from __future__ import annotations

import copy
import io
import json
import os
import signal
import subprocess
import sys
import threading
import zipfile
from base64 import b64encode
from datetime import UTC, date, datetime, timedelta
from email.utils import make_msgid
from pathlib import Path

import pytest
from sqlalchemy import select

from db import migrate, repo
from db.models import BodyRecord, MailMessage, Notice, Submission
from db.session import session_scope
from nianbao.bodies import load_roster
from nianbao.corpus import good_report
from nianbao.generate import write_docx
from tests.conftest import ROOT, ROSTER
from tests.imapserver import DOMAIN, PASSWORD, Dovecot, MailRelay, dovecot_binary
from tests.loopback import HOST

pytestmark = pytest.mark.skipif(dovecot_binary() is None, reason="dovecot-imapd is not installed (scripts/setup)")

YEAR, DEADLINE = 2024, date(2025, 1, 31)
JAN = datetime(2025, 1, 15, 2, 0, tzinfo=UTC)
USERS = ["county", "guanting1", "guanting2", "stranger", "robot"]
COUNTY = f"county@{DOMAIN}"
CLERK, CLERK2 = f"guanting1@{DOMAIN}", f"guanting2@{DOMAIN}"
DOCX_NAME = "官亭镇2024年政府信息公开工作年度报告.docx"


@pytest.fixture(scope="module")
def mail():
    dovecot = Dovecot(USERS).start()
    relay = MailRelay(dovecot).start()
    yield dovecot, relay
    relay.stop()
    dovecot.stop()


@pytest.fixture
def county(tmp_path, monkeypatch, mail):
    """巨鹿县 on SQLite, the 2024 cycle open, 官亭镇's two clerks on the roster by mail; the
    mailboxes empty; nianbao reading county@ and answering through the relay."""
    dovecot, relay = mail
    for user in USERS:
        dovecot.empty(user)
    env = {"NIANBAO_DATA_DIR": str(tmp_path / "data"), "NIANBAO_IMAP_HOST": HOST,
           "NIANBAO_IMAP_PORT": str(dovecot.port), "NIANBAO_IMAP_TLS": "none", "NIANBAO_IMAP_USER": "county",
           "NIANBAO_IMAP_PASSWORD": PASSWORD, "NIANBAO_IMAP_TIMEOUT_S": "10",
           "NIANBAO_SMTP_URL": f"smtp+plain://{HOST}:{relay.port}", "NIANBAO_MAIL_FROM": COUNTY}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NIANBAO_NOTICE_SINK", raising=False)
    monkeypatch.delenv("NIANBAO_DATABASE_URL", raising=False)
    from nianbao.settings import get_settings

    get_settings.cache_clear()
    migrate.upgrade(get_settings().db_url())
    with session_scope(_env().factory) as s:
        repo.import_roster(s, load_roster(ROSTER), "test")
        repo.open_cycle(s, repo.county(s), YEAR, DEADLINE, [14, 7, 3, 1, 0], "test")
        body = s.scalars(select(BodyRecord).where(BodyRecord.code == "guanting")).one()
        apprise_mail = (f"mailto://{HOST}:{relay.port}?smtp={HOST}&from={COUNTY}&to={CLERK.upper()}"
                        "&mode=insecure")  # the roster's case is not the sender's
        body.contacts = [{"name": "张三", "role": "联络员", "urls": [apprise_mail]},
                         {"name": "李四", "urls": [f"mailto:{CLERK2}"]}]
    yield env
    get_settings.cache_clear()


def _env():
    from service.env import env

    return env()


def _spec(flaw: bool = False, body: str | None = None):
    spec = copy.deepcopy(good_report(0).spec)
    if flaw:
        spec.table3["new"][-1] += 7  # the total no longer adds up
    if body:
        spec.body = body
    return spec


def _docx(tmp_path: Path, **kw) -> bytes:
    return write_docx(_spec(**kw), tmp_path / f"r{len(list(tmp_path.iterdir()))}.docx").read_bytes()


def _gbk_words(name: str) -> str:
    return f"=?GBK?B?{b64encode(name.encode('gbk')).decode()}?="


def _mail(sender: str, subject: str, attachments: list[tuple[str, bytes]] = (), text: str = "请审核。",
          headers: dict[str, str] | None = None) -> tuple[bytes, str]:
    """A mail as 163's web mail writes one: GBK text, the file name as RFC 2047 words in GBK."""
    msgid = make_msgid(domain="163.example")
    boundary = "----=_Part_1_163"
    lines = [f"From: =?GBK?B?{b64encode('张三'.encode('gbk')).decode()}?= <{sender}>", f"To: {COUNTY}",
             f"Subject: =?GBK?B?{b64encode(subject.encode('gbk')).decode()}?=", f"Message-ID: {msgid}",
             "Date: Wed, 15 Jan 2025 09:30:00 +0800", "MIME-Version: 1.0",
             *(f"{k}: {v}" for k, v in (headers or {}).items()),
             f'Content-Type: multipart/mixed; boundary="{boundary}"', "", f"--{boundary}",
             "Content-Type: text/plain; charset=GBK", "Content-Transfer-Encoding: base64", "",
             b64encode(text.encode("gbk")).decode()]
    for name, content in attachments:
        words = _gbk_words(name)
        lines += [f"--{boundary}", f'Content-Type: application/octet-stream; name="{words}"',
                  "Content-Transfer-Encoding: base64", f'Content-Disposition: attachment; filename="{words}"', "",
                  *(b64encode(content).decode()[i:i + 76] for i in range(0, len(b64encode(content)), 76))]
    lines.append(f"--{boundary}--")
    return "\r\n".join(lines).encode("ascii") + b"\r\n", msgid


def _send(mail, raw: bytes, sender: str) -> None:
    mail[1].send(raw, sender, [COUNTY])


def _poll(now: datetime = JAN):
    from service.delivery import deliver
    from service.mailbox import poll

    scan = poll(_env(), "julu", YEAR, now)
    assert scan.errors == []
    return scan, deliver(_env(), "julu", YEAR, now)


def _subs() -> list[Submission]:
    with session_scope(_env().factory) as s:
        return list(s.scalars(select(Submission).order_by(Submission.id)))


def _replies() -> list[Notice]:
    with session_scope(_env().factory) as s:
        return list(s.scalars(select(Notice).where(Notice.channel == "mail-reply")))


def _attachments(msg) -> list[tuple[str, bytes]]:
    return [(p.get_filename(), p.get_content()) for p in msg.iter_attachments()]


# ---- the Must show ---------------------------------------------------------------------------


def test_a_flawed_docx_from_a_clerk_is_rejected_and_the_reply_is_threaded_in_her_mailbox(county, mail, tmp_path):
    dovecot, _ = mail
    raw, msgid = _mail(CLERK, "官亭镇2024年度报告", [(DOCX_NAME, _docx(tmp_path, flaw=True))])
    _send(mail, raw, CLERK)
    scan, sent = _poll()
    [sub] = _subs()
    assert (sub.source, sub.verdict, sub.original_name) == ("mail", "rejected", DOCX_NAME)
    assert sub.origin.startswith("mail:") and sub.received_at is not None
    with session_scope(_env().factory) as s:
        assert s.get_one(BodyRecord, sub.body_id).code == "guanting"  # known by her address, not the report
    assert [m.replied for m in scan.messages] == [True] and sent.sent == 1

    [reply] = dovecot.messages("guanting1")
    assert reply["In-Reply-To"] == msgid and msgid in reply["References"]
    assert reply["Subject"] == "Re: 官亭镇2024年度报告"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert CLERK2 in reply["Cc"] and reply["Message-ID"] and reply["Message-ID"] != msgid
    text = reply.get_body(("plain",)).get_content()
    assert "退回" in text and "表三" in text and "重新报送" in text
    from service.annotated import annotated_copy

    annotated = annotated_copy(_env(), sub.id)
    docs = [(n, c) for n, c in _attachments(reply) if n and n.endswith(".docx")]
    # the clerk's own document comes back, a comment at each finding
    assert annotated is not None and [n for n, _ in docs] == [annotated.name] and annotated.name.endswith("-批注.docx")
    assert docs[0][1] == annotated.read_bytes()
    assert b"w:commentReference" in zipfile.ZipFile(io.BytesIO(docs[0][1])).read("word/document.xml")
    # the other clerk has the same reply (Cc), and the county's message is marked, not read
    assert [m["In-Reply-To"] for m in dovecot.messages("guanting2")] == [msgid]
    [flags] = dovecot.flags("county")
    assert b"$NianbaoDone" in flags and b"\\Seen" not in flags


def test_a_good_report_in_a_zip_is_accepted_once_however_often_intake_runs(county, mail, tmp_path):
    dovecot, _ = mail
    gbk = ("年报/" + DOCX_NAME).encode("gbk")
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("#" * len(gbk), _docx(tmp_path))
        zf.writestr("说明.jpg", b"\xff\xd8\xff\xe0 not a report")
    # as Windows zips it: the name in GBK without the UTF-8 flag (zipfile itself always writes UTF-8)
    windows_zip = packed.getvalue().replace(b"#" * len(gbk), gbk)
    raw, msgid = _mail(CLERK, "报送年报", [("官亭镇年报.zip", windows_zip)])
    _send(mail, raw, CLERK)
    for _ in range(2):
        _poll()
    _poll(JAN + timedelta(hours=1))  # later still: nothing is left 'taking'
    [sub] = _subs()
    assert (sub.verdict, sub.original_name) == ("accepted", DOCX_NAME)
    [reply] = dovecot.messages("guanting1")
    assert reply["In-Reply-To"] == msgid and "通过" in reply.get_body(("plain",)).get_content()
    assert len(_replies()) == 1


def test_intake_killed_mid_message_then_run_again_takes_it_once_and_replies_once(county, mail, tmp_path):
    dovecot, _ = mail
    raw, msgid = _mail(CLERK, "年报（修改稿）", [(DOCX_NAME, _docx(tmp_path, flaw=True))])
    _send(mail, raw, CLERK)
    # a child process runs intake and is killed once the submission is recorded, before the reply is
    # queued and the message is marked: the worst moment
    code = ("import os, signal\n"
            "from datetime import datetime\n"
            "import service.mailbox as m\n"
            "from service.env import env\n"
            "m._finish = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
            f"m.poll(env(), 'julu', {YEAR}, datetime.fromisoformat('{JAN.isoformat()}'))\n")
    child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **county}, timeout=120,
                           capture_output=True, text=True)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert len(_subs()) == 1 and _replies() == []
    with session_scope(_env().factory) as s:
        assert [r.state for r in s.scalars(select(MailMessage))] == ["taking"]
    _poll(JAN + timedelta(minutes=1))  # another run at once: the message is still someone's
    assert _replies() == []
    _poll(JAN + timedelta(minutes=30))  # later: the killed run's message is taken again
    _poll(JAN + timedelta(minutes=31))
    assert len(_subs()) == 1
    assert [m["In-Reply-To"] for m in dovecot.messages("guanting1")] == [msgid]
    with session_scope(_env().factory) as s:
        assert [r.state for r in s.scalars(select(MailMessage))] == ["done"]


def test_a_mail_without_a_report_gets_a_polite_reply_saying_what_to_send(county, mail):
    dovecot, _ = mail
    raw, msgid = _mail(CLERK, "年报", text="年报在百度网盘：https://pan.baidu.com/s/1abcDEF 提取码 x1y2")
    _send(mail, raw, CLERK)
    _poll()
    assert _subs() == []
    [reply] = dovecot.messages("guanting1")
    text = reply.get_body(("plain",)).get_content()
    assert reply["In-Reply-To"] == msgid
    assert "附件" in text and "网盘" in text and ".docx" in text and "2025年1月31日" in text
    assert text.startswith("官亭镇：")


def test_an_unknown_sender_whose_report_names_no_body_is_held_and_the_office_told(county, mail, tmp_path):
    dovecot, _ = mail
    raw, _ = _mail(f"stranger@{DOMAIN}", "年报", [("年报.docx", _docx(tmp_path, body="巨鹿县幸福镇人民政府"))])
    _send(mail, raw, f"stranger@{DOMAIN}")
    _poll()
    [sub] = _subs()
    assert sub.body_id is None and sub.version == 0  # held
    [reply] = dovecot.messages("stranger")
    assert "暂未确定报送单位" in reply.get_body(("plain",)).get_content()
    assert dovecot.messages("guanting1") == []
    from service.digest import intake_digest

    assert intake_digest(_env(), "julu", YEAR) == 1
    with session_scope(_env().factory) as s:
        digest = s.scalars(select(Notice).where(Notice.kind == "digest")).one()
        assert "年报.docx" in digest.body


def test_mail_from_a_machine_is_never_answered(county, mail):
    dovecot, _ = mail
    raw, _ = _mail(f"robot@{DOMAIN}", "自动回复：年报", text="我正在休假。",
                   headers={"Auto-Submitted": "auto-replied"})
    _send(mail, raw, f"robot@{DOMAIN}")
    bounce, _ = _mail(f"MAILER-DAEMON@{DOMAIN}", "Undelivered Mail Returned to Sender", text="bounce")
    _send(mail, bounce, f"robot@{DOMAIN}")
    scan, _ = _poll()
    assert [m.replied for m in scan.messages] == [False, False]
    assert dovecot.messages("robot") == [] and _replies() == []
    assert all(b"$NianbaoDone" in f for f in dovecot.flags("county"))


def test_two_intakes_at_once_take_a_message_once(county, mail, tmp_path):
    dovecot, _ = mail
    raw, msgid = _mail(CLERK, "年报", [(DOCX_NAME, _docx(tmp_path))])
    _send(mail, raw, CLERK)
    from service.mailbox import poll

    barrier = threading.Barrier(2)
    scans = []

    def run() -> None:
        barrier.wait()
        scans.append(poll(_env(), "julu", YEAR, JAN))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert sorted(len(s.messages) for s in scans) in ([0, 1], [1, 1])  # the loser finds it taken, or done
    _poll()
    assert len(_subs()) == 1 and len(_replies()) == 1
    assert [m["In-Reply-To"] for m in dovecot.messages("guanting1")] == [msgid]


def test_the_intake_flow_reads_the_mailbox(county, mail, tmp_path, request):
    request.getfixturevalue("prefect_harness")
    dovecot, _ = mail
    raw, msgid = _mail(CLERK, "年报", [(DOCX_NAME, _docx(tmp_path, flaw=True))])
    _send(mail, raw, CLERK)
    from flows.cycle import intake

    run = intake(county="julu", year=YEAR, as_of=JAN)
    assert [(f.code, f.verdict, f.created) for f in run.mail.files] == [("guanting", "rejected", True)]
    assert [f.file for f in run.files] == [DOCX_NAME] and run.digested == 1
    assert [m["In-Reply-To"] for m in dovecot.messages("guanting1")] == [msgid]


def test_nianbao_mail_poll(county, mail, tmp_path):
    dovecot, _ = mail
    raw, msgid = _mail(CLERK, "年报", [(DOCX_NAME, _docx(tmp_path))])
    _send(mail, raw, CLERK)
    done = subprocess.run([sys.executable, "-m", "cli", "mail", "poll", "--json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **county})
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [(m["replied"], [f["verdict"] for f in m["files"]]) for m in data["messages"]] == [(True, ["accepted"])]
    assert data["sent"] == 1 and PASSWORD not in done.stdout + done.stderr
    assert [m["In-Reply-To"] for m in dovecot.messages("guanting1")] == [msgid]


# ---- pieces --------------------------------------------------------------------------------------


def test_a_zip_bomb_and_nested_zips_are_refused_without_inflating_them():
    from nianbao.archives import ZipLimits, unpack_zip

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.docx", b"\0" * (40 << 20))  # 40 MB of zeros in ~40 KB
    got = unpack_zip(bomb.getvalue(), (".docx",), ZipLimits(max_member_bytes=30 << 20))
    assert got.files == [] and "过大" in got.problems[0]
    got = unpack_zip(bomb.getvalue(), (".docx",), ZipLimits(max_member_bytes=100 << 20))
    assert got.files == [] and "压缩比" in got.problems[0]
    inner = bomb.getvalue()
    for _ in range(3):
        outer = io.BytesIO()
        with zipfile.ZipFile(outer, "w") as zf:
            zf.writestr("../../etc/x.zip", inner)
        inner = outer.getvalue()
    got = unpack_zip(inner, (".docx",))
    assert got.files == [] and "嵌套" in got.problems[-1]


def test_contact_addresses_are_read_from_the_roster_urls():
    from service.mailbox import contact_addresses

    assert contact_addresses("mailto:A@B.cn") == ["a@b.cn"]
    assert contact_addresses("mailto://u:p@127.0.0.1:25?to=x@y.cn,Z@y.cn&smtp=127.0.0.1") == ["x@y.cn", "z@y.cn"]
    assert contact_addresses("mailtos://clerk:secret@163.com") == ["clerk@163.com"]
    assert contact_addresses("mailtos://clerk%40qq.com:secret@smtp.qq.com?smtp=smtp.qq.com") == ["clerk@qq.com"]
    assert contact_addresses("dingtalk://token") == []


def test_pages_photographed_one_by_one_are_read_as_one_scan(county, mail, tmp_path):
    """Three phone photos of the pages (JPEG, attached out of order in one mail) are one report,
    read by OCR: one submission, accepted, read as a scan (a picture beside a report file is left
    out: the zip test above)."""
    from nianbao.generate import render_pages, write_pdfs

    docx = tmp_path / "r.docx"
    docx.write_bytes(_docx(tmp_path))
    (pdf,) = write_pdfs([docx], tmp_path / "pdf")
    photos = []
    for k, page in enumerate(render_pages(pdf, 200), 1):
        buf = io.BytesIO()
        page.save(buf, "JPEG", quality=85)
        photos.append((f"IMG_20250120_10{k:02d}.jpg", buf.getvalue()))
    raw, _ = _mail(CLERK, "官亭镇年报盖章版", photos)
    _send(mail, raw, CLERK)
    _poll()
    [sub] = _subs()
    assert (sub.verdict, sub.read_as) == ("accepted", "scan"), [f.message for f in sub.findings]
    assert sub.original_name.endswith("等3页照片.zip")
