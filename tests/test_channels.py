"""Channels against real loopback servers (tests/loopback.py): mail with attachments, a JSON gateway
with an idempotency key, receivers that are down or hung, and secrets that never reach a log."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import uuid
from pathlib import Path

import pytest

from notifications.channels import (
    ATTACHMENTS_BY_MAIL,
    AppriseNotifier,
    Message,
    SinkNotifier,
    channel_body,
    install_log_redaction,
    url_secrets,
)
from tests.loopback import free_port


def _message(**kw) -> Message:
    base = dict(
        kind="rejected",
        to="guantingzhen",
        subject="关于退回巨鹿县官亭镇人民政府2024年度报告的通知",
        body="贵单位报送的年度报告未通过核对：\n一、表二“收到申请数”与分项之和不符。\n请于3月20日前修改后重新报送。",
        rules=("T2-SUM", "T3-BAL"),
        key="2024:rejected:guantingzhen:v2",
    )
    base.update(kw)
    return Message(**base)


def _secret_free(reason: str | None, *secrets: str) -> bool:
    return reason is not None and not any(s in reason for s in secrets)


# --- mail ----------------------------------------------------------------------------------------


def test_mail_arrives_with_subject_body_and_byte_identical_attachments(smtp_server, tmp_path):
    from nianbao.generate import ReportSpec, write_docx

    docx = write_docx(ReportSpec(), tmp_path / "官亭镇2024年度报告.docx")
    pdf = tmp_path / "review.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n")
    message = _message(attachments=(docx, pdf))

    assert (
        AppriseNotifier(timeout=5).send(smtp_server.mailto(to="clerk@guanting.example.com"), message) is None
    )

    [mail] = smtp_server.messages
    assert mail["Subject"] == message.subject
    # SMTP carries lines as CRLF
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n").rstrip("\n") == message.body
    assert mail["Idempotency-Key"] == message.key
    assert smtp_server.envelopes == [("nianbao@example.com", ["clerk@guanting.example.com"])]
    assert smtp_server.logins == [("clerk", "Loopback-Pa55word")]  # the URL's credentials were used
    # the Chinese name reads back only because Python's parser decodes the RFC 2047 word apprise puts
    # over the whole Content-Disposition header; strict mail clients may show no name at all
    files = {part.get_filename(): part.get_content() for part in mail.iter_attachments()}
    assert files == {docx.name: docx.read_bytes(), pdf.name: pdf.read_bytes()}


def test_missing_attachment_is_a_reason_not_a_half_sent_mail(smtp_server, tmp_path):
    reason = AppriseNotifier(timeout=5).send(
        smtp_server.mailto(), _message(attachments=(tmp_path / "gone.pdf",))
    )
    assert reason == "附件不可读（gone.pdf）"
    (tmp_path / "empty.pdf").write_bytes(b"")
    reason = AppriseNotifier(timeout=5).send(
        smtp_server.mailto(), _message(attachments=(tmp_path / "empty.pdf",))
    )
    assert reason == "附件为空（empty.pdf）"
    assert smtp_server.messages == []


def test_hung_smtp_server_fails_within_the_timeout_not_15_seconds(hung_server):
    url = f"mailto://clerk:pw-{uuid.uuid4().hex}@127.0.0.1:{hung_server.port}?from=a@example.com&to=b@example.com"
    started = time.monotonic()
    reason = AppriseNotifier(timeout=2).send(url, _message())
    elapsed = time.monotonic() - started
    assert reason == "发送失败（mailto）"
    assert 1.5 < elapsed < 4, elapsed
    assert hung_server.accepted  # it really connected and then waited for the greeting

    # the operator's own cto= wins over the derived one
    started = time.monotonic()
    assert AppriseNotifier(timeout=30).send(url + "&cto=1", _message()) == "发送失败（mailto）"
    assert time.monotonic() - started < 3


def test_mail_to_a_closed_port_fails_without_naming_the_password():
    password = f"Pw{uuid.uuid4().hex}"
    url = f"mailto://clerk:{password}@127.0.0.1:{free_port()}?from=a@example.com&to=b@example.com"
    reason = AppriseNotifier(timeout=2).send(url, _message())
    assert reason == "发送失败（mailto）"
    assert _secret_free(reason, password, "127.0.0.1", "clerk")


# --- JSON gateway --------------------------------------------------------------------------------


def test_json_gateway_gets_title_message_and_idempotency_key(http_receiver):
    message = _message()
    assert AppriseNotifier(timeout=5).send(http_receiver.json_url("/sms/send"), message) is None

    [post] = http_receiver.posts
    assert post.path == "/sms/send"
    assert post.headers["Idempotency-Key"] == message.key
    assert post.json["title"] == message.subject
    assert post.json["message"] == message.body
    assert post.json["idempotency_key"] == message.key
    assert post.json["attachments"] == []


def test_form_gateway_gets_the_key_too(http_receiver):
    message = _message(key="2024:kickoff:公安局")  # a non-ASCII key: header percent-encoded, field as is
    assert AppriseNotifier(timeout=5).send(http_receiver.form_url(), message) is None
    [post] = http_receiver.posts
    assert post.form["title"] == message.subject
    assert post.form["message"] == message.body
    assert post.form["idempotency_key"] == message.key
    assert post.headers["Idempotency-Key"] == "2024%3Akickoff%3A%E5%85%AC%E5%AE%89%E5%B1%80"


def test_receiver_down_gives_a_quick_secret_free_reason_then_delivers_when_up(http_receiver):
    token = f"gw{uuid.uuid4().hex}"
    url = http_receiver.json_url(f"/hook/{token}") + f"?-access_token={token}"
    notifier = AppriseNotifier(timeout=2)

    http_receiver.stop()
    started = time.monotonic()
    reason = notifier.send(url, _message())
    assert time.monotonic() - started < 3
    assert reason == "发送失败（json）"
    assert _secret_free(reason, token, str(http_receiver.port), "127.0.0.1", "hook")

    http_receiver.start()
    assert notifier.send(url, _message()) is None
    [post] = http_receiver.posts
    assert post.path == f"/hook/{token}?access_token={token}"


def test_receiver_answering_an_error_is_a_failure(http_receiver):
    http_receiver.status = 503
    assert AppriseNotifier(timeout=2).send(http_receiver.json_url(), _message()) == "发送失败（json）"
    assert len(http_receiver.posts) == 1


# --- chat bots -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "dingtalk://SEC{t}@{t}/",
        "wecombot://{t}",
        "feishu://{t}",
    ],
)
def test_chat_bots_without_internet_fail_quickly_without_the_token(url):
    token = uuid.uuid4().hex
    started = time.monotonic()
    reason = AppriseNotifier(timeout=2).send(url.format(t=token), _message(attachments=(Path("x.pdf"),)))
    assert time.monotonic() - started < 5
    scheme = url.split(":", 1)[0]
    assert reason == f"发送失败（{scheme}）"
    assert _secret_free(reason, token)


def test_chat_bot_body_points_to_the_mail_when_there_are_files():
    with_files = _message(attachments=(Path("a.docx"),))
    for scheme in ("dingtalk", "wecombot", "feishu", "DingTalk"):
        body = channel_body(scheme, with_files)
        assert body.startswith(with_files.body)
        assert body.endswith(ATTACHMENTS_BY_MAIL)
        assert "附件已通过电子邮件发送" in body
        assert channel_body(scheme, _message()) == _message().body  # no files, no pointer
    for scheme in ("mailto", "mailtos", "json", "form"):
        assert channel_body(scheme, with_files) == with_files.body


def test_prepare_url_adds_timeouts_and_key_but_keeps_the_operators_own():
    notifier = AppriseNotifier(timeout=7)
    message = _message(key="k:1")
    mail = notifier.prepare_url("mailto://u:p@127.0.0.1:25?from=a@example.com", message)
    assert mail == "mailto://u:p@127.0.0.1:25?from=a@example.com&cto=7&format=text&+Idempotency-Key=k%253A1"
    assert notifier.prepare_url("mailto://u:p@h.example.com?cto=3&format=html", _message(key="")) == (
        "mailto://u:p@h.example.com?cto=3&format=html"
    )
    gateway = notifier.prepare_url("json://gw.example.com/send?+Idempotency-Key=mine", message)
    assert gateway == "json://gw.example.com/send?+Idempotency-Key=mine&cto=4&rto=7&:idempotency_key=k%253A1"
    assert notifier.prepare_url("dingtalk://abc123def456", message) == "dingtalk://abc123def456?cto=4&rto=7"


def test_bad_addresses_are_reasons_not_exceptions():
    notifier = AppriseNotifier(timeout=1)
    assert notifier.send(None, _message()) == "未配置通知地址"
    assert notifier.send("  ", _message()) == "未配置通知地址"
    assert notifier.send("secret-token-123", _message()) == "通知地址无效"
    assert notifier.send("nosuchscheme://tok3n123456", _message()) == "通知地址无效（nosuchscheme）"
    assert notifier.send("mailto://clerk:Pw0rd9876@", _message()) == "通知地址无效（mailto）"
    assert notifier.send("tok3n/12345://x", _message()) == "通知地址无效（?）"


# --- secrets -------------------------------------------------------------------------------------


def test_url_secrets_picks_out_the_token_parts():
    assert {"Pa55-word", "clerk:Pa55-word"} <= url_secrets(
        "mailto://clerk:Pa55-word@smtp.example.com?to=a@b.cn"
    )
    assert "clerk" not in url_secrets("mailto://clerk:Pa55-word@smtp.example.com")
    assert "smtp.example.com" not in url_secrets("mailto://clerk:Pa55-word@smtp.example.com")
    ding = url_secrets("dingtalk://SECabc123xyz@0123456789abcdef0123/")
    assert {"SECabc123xyz", "0123456789abcdef0123"} <= ding
    assert "693a91f6-7a0c-4bc4" in url_secrets("wecombot://693a91f6-7a0c-4bc4")
    gw = url_secrets(
        "json://gw.example.com:8080/api/v2/Hook4b1d2c3e?-sign=a+b/c%3D&+Authorization=Bearer%20x"
    )
    assert {"Hook4b1d2c3e", "a+b/c%3D", "a+b/c=", "Bearer%20x", "Bearer x"} <= gw
    assert not {"api", "v2", "gw.example.com", "8080"} & gw


def test_secrets_never_reach_any_log_record_or_reason(http_receiver, smtp_server, caplog):
    token = f"Tk{uuid.uuid4().hex}"
    # every logger at DEBUG (caplog restores them), plus a formatting handler on the root logger
    caplog.set_level(logging.DEBUG)
    for name in ["apprise", "urllib3", "requests", "mail.log", *logging.root.manager.loggerDict]:
        caplog.set_level(logging.DEBUG, logger=name)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    try:
        notifier = AppriseNotifier(timeout=2)
        json_url = http_receiver.json_url(f"/hook/{token}") + f"?-access_token={token}"
        mail_url = smtp_server.mailto(password=token)
        reasons = [
            notifier.send(json_url, _message()),  # delivered
            notifier.send(mail_url, _message()),  # delivered
            notifier.send(f"dingtalk://{token}/", _message()),  # no internet
            notifier.send(f"mailto://clerk:{token}@127.0.0.1:{free_port()}?from=a@example.com", _message()),
            notifier.send(f"mailto://clerk:{token}@", _message()),  # invalid
        ]
        http_receiver.status = 500
        reasons.append(notifier.send(json_url, _message()))
        http_receiver.stop()
        reasons.append(notifier.send(json_url, _message()))
        # apprise child loggers and unrelated loggers are masked too, args and exception text
        logging.getLogger("apprise.plugins.somewhere").debug("url was %s", json_url)
        try:
            raise RuntimeError(f"failed posting to {json_url}")
        except RuntimeError:
            logging.getLogger("elsewhere").exception("boom")
    finally:
        logging.getLogger().removeHandler(handler)

    assert reasons[:2] == [None, None]
    assert all(r is not None and token not in r for r in reasons[2:]), reasons
    assert smtp_server.logins == [("clerk", token)] and len(http_receiver.posts) == 2  # real sends happened
    assert caplog.records, "nothing was captured"
    leaks = [
        r
        for r in caplog.records
        if token in r.getMessage() or token in str(r.args) or token in (r.exc_text or "")
    ]
    assert leaks == []
    assert token not in stream.getvalue()
    assert token not in caplog.text
    # the masking really ran: apprise's own debug lines name the webhook path
    assert any(r.name == "apprise" and "/hook/***" in r.getMessage() for r in caplog.records)
    assert any(
        r.name == "apprise.plugins.somewhere" and r.getMessage() == "url was ***" for r in caplog.records
    )
    assert "failed posting to ***" in stream.getvalue()


def test_install_log_redaction_masks_args_and_is_idempotent(caplog):
    secret = f"S3cr3t{uuid.uuid4().hex}"
    install_log_redaction([secret])
    install_log_redaction([secret])
    caplog.set_level(logging.INFO, logger="some.lib")
    logging.getLogger("some.lib").info("token=%s data=%r", secret, {"k": secret})
    [record] = [r for r in caplog.records if r.name == "some.lib"]
    assert record.getMessage() == "token=*** data={'k': '***'}"
    assert secret not in repr(record.args)


# --- the local sink ------------------------------------------------------------------------------


def test_sink_writes_numbered_files_with_exactly_five_keys(tmp_path):
    folder = tmp_path / "outbox" / "sink"  # created on first send
    sink = SinkNotifier(folder)
    sent = [
        _message(kind="kickoff", to="county-office", rules=()),
        _message(kind="rejected", to="guantingzhen"),
        _message(kind="accepted", to="gonganju", attachments=(tmp_path / "x.docx",)),
    ]
    for message in sent:
        assert sink.send("dingtalk://ignored-token-1234", message) is None

    files = sorted(folder.iterdir())
    assert [f.name for f in files] == [
        "0001-kickoff-county-office.json",
        "0002-rejected-guantingzhen.json",
        "0003-accepted-gonganju.json",
    ]
    for path, message in zip(files, sent, strict=True):
        text = path.read_text(encoding="utf-8")
        assert "\\u" not in text and "ignored-token" not in text  # real Chinese, and no URL
        data = json.loads(text)
        assert data == {
            "kind": message.kind,
            "to": message.to,
            "subject": message.subject,
            "message": message.body,
            "rules": list(message.rules),
        }
    # a second sink on the same folder continues the numbering
    assert SinkNotifier(folder).send(None, _message(kind="digest", to="county-office")) is None
    assert sorted(f.name for f in folder.iterdir())[-1] == "0004-digest-county-office.json"


def test_sinks_sharing_a_folder_across_threads_never_reuse_a_number(tmp_path):
    sinks = [SinkNotifier(tmp_path), SinkNotifier(tmp_path)]

    def work(n: int) -> None:
        for i in range(15):
            assert sinks[n % 2].send(None, _message(kind="reminder", to=f"body{n}-{i}")) is None

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert [n[:4] for n in names] == [f"{i:04d}" for i in range(1, 61)]
    assert not [n for n in names if not n.endswith(".json")]  # no temp files left behind


def test_sink_reports_an_unwritable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    reason = SinkNotifier(blocker / "sink").send(None, _message())
    assert reason is not None and reason.startswith("写入本地投递目录失败")
