"""A real mail system on loopback for the mailbox tests: Debian's dovecot (IMAP) with a throw-away
configuration, users and maildirs under one temporary folder, and an aiosmtpd server that takes
mail for those users and delivers each message into the recipient's dovecot mailbox (IMAP APPEND
as that user). nianbao reads the county's mailbox from dovecot and sends its replies to the same
SMTP server, so a reply lands in the clerk's dovecot mailbox, where the test reads it.

Runs as root (CI) or as a user: as root dovecot's own users (dovecot, dovenull) run its processes
and the mail belongs to nobody; as a user everything runs as that user."""

from __future__ import annotations

import email
import email.policy
import getpass
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from tests.loopback import HOST, free_port

DOMAIN = "example.test"
PASSWORD = "Mailbox-Pa55"


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (os.path.exists("/usr/sbin/dovecot") and "/usr/sbin/dovecot") or None


class Dovecot:
    """One dovecot instance: IMAP on 127.0.0.1:`port`, plain login, one maildir per user."""

    def __init__(self, users: list[str]) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="nianbao-dovecot-"))
        self.root.chmod(0o755)  # dovecot's unprivileged processes must reach their sockets below
        self.users = list(users)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = self.root / "dovecot.log"

    def _config(self) -> str:
        root = os.geteuid() == 0
        if root:
            internal, login = "dovecot", "dovenull"
            mail_uid = pwd.getpwnam("nobody").pw_uid
            mail_gid = pwd.getpwnam("nobody").pw_gid
        else:
            internal = login = getpass.getuser()
            mail_uid, mail_gid = os.getuid(), os.getgid()
        mail = self.root / "mail"
        mail.mkdir(exist_ok=True)
        if root:
            os.chown(mail, mail_uid, mail_gid)
        (self.root / "users").write_text("".join(f"{u}:{{PLAIN}}{PASSWORD}::::::\n" for u in self.users))
        return f"""
protocols = imap
listen = {HOST}
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = nianbao-test-{self.port}
log_path = {self.log}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal if not root else 'dovecot'}
default_login_user = {login}
first_valid_uid = {min(mail_uid, 500) if not root else 1}
mail_location = maildir:{mail}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.root}/users
  default_fields = uid={mail_uid} gid={mail_gid} home={mail}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
"""

    def start(self) -> Dovecot:
        binary = dovecot_binary()
        assert binary, "dovecot is not installed (scripts/setup installs dovecot-imapd)"
        conf = self.root / "dovecot.conf"
        conf.write_text(self._config())
        check = subprocess.run([binary, "-n", "-c", str(conf)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        until = time.monotonic() + 20
        while time.monotonic() < until:
            if self.proc.poll() is not None:
                raise AssertionError(f"dovecot stopped: {self.proc.stderr.read() if self.proc.stderr else ''}"
                                     f"{self.log.read_text() if self.log.exists() else ''}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("dovecot did not answer on its port")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)

    # --- what a person's mail client does ---------------------------------------------------------

    def login(self, user: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(HOST, self.port, timeout=10)
        imap.login(user, PASSWORD)
        return imap

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        imap = self.login(user)
        try:
            typ, data = imap.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            imap.logout()

    def messages(self, user: str, folder: str = "INBOX") -> list[EmailMessage]:
        """Every message in the user's folder, read without marking it seen."""
        imap = self.login(user)
        try:
            typ, _ = imap.select(folder, readonly=True)
            if typ != "OK":
                return []
            _, data = imap.uid("SEARCH", "ALL")
            out = []
            for uid in (data[0] or b"").split():
                _, got = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = next(x[1] for x in got if isinstance(x, tuple))
                out.append(email.message_from_bytes(raw, policy=email.policy.default))
            return out  # type: ignore[return-value]
        finally:
            imap.logout()

    def flags(self, user: str, folder: str = "INBOX") -> list[bytes]:
        imap = self.login(user)
        try:
            imap.select(folder, readonly=True)
            _, data = imap.uid("FETCH", "1:*", "(FLAGS)")
            return [d for d in data if isinstance(d, bytes)]
        finally:
            imap.logout()

    def empty(self, user: str) -> None:
        imap = self.login(user)
        try:
            imap.select("INBOX")
            imap.store("1:*", "+FLAGS", "(\\Deleted)")
            imap.expunge()
        except imaplib.IMAP4.error:
            pass  # an empty mailbox has no 1:*
        finally:
            imap.logout()


@dataclass
class MailRelay:
    """The SMTP side: takes mail for DOMAIN's users and appends it to their dovecot mailbox."""

    dovecot: Dovecot
    port: int = 0
    received: list[tuple[str, list[str]]] = field(default_factory=list)  # (mail from, rcpt tos)
    _controller: object = None

    def start(self) -> MailRelay:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        relay = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
                local, _, domain = address.lower().partition("@")
                if domain != DOMAIN or local not in relay.dovecot.users:
                    return "550 5.1.1 No such user here"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                raw = envelope.original_content or envelope.content
                relay.received.append((envelope.mail_from, list(envelope.rcpt_tos)))
                for rcpt in envelope.rcpt_tos:
                    relay.dovecot.append(rcpt.lower().partition("@")[0], raw)
                return "250 Message accepted for delivery"

        self.port = free_port()
        controller = Controller(Handler(), hostname=HOST, port=self.port,
                                authenticator=lambda *a: AuthResult(success=True), auth_require_tls=False)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()  # type: ignore[attr-defined]

    def send(self, raw: bytes, mail_from: str, to: list[str]) -> None:
        import smtplib

        with smtplib.SMTP(HOST, self.port, timeout=10) as smtp:
            smtp.sendmail(mail_from, to, raw)
