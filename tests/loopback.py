"""Loopback receivers for notification tests (a pytest plugin: ``pytest_plugins = ["tests.loopback"]``).

* ``http_receiver`` — an HTTP server on 127.0.0.1 that records every request; ``stop()`` and
  ``start()`` take it down and bring it back on the same port.
* ``smtp_server`` — an aiosmtpd server on 127.0.0.1 that accepts any login over plain text and keeps
  each mail as an ``email.message.EmailMessage``; ``mailto()`` gives a working apprise URL for it.
* ``hung_server`` — a TCP port that accepts connections and never says a word (a hung SMTP server).
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote

import pytest

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# --- HTTP ----------------------------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str  # with the query string
    headers: Message  # case-insensitive: received.headers["idempotency-key"]
    body: bytes
    json: Any = None  # the parsed body when it was JSON
    form: dict[str, str] | None = None  # the fields when it was a urlencoded form


class HttpReceiver:
    """Records every request; answers ``status`` (200 unless a test sets another) with ``{}``."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.status = 200
        self.port: int | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def posts(self) -> list[Received]:
        return [r for r in self.requests if r.method == "POST"]

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> HttpReceiver:
        if self._server is not None:
            return self
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                ctype = (self.headers.get_content_type() or "").lower()
                parsed_json = form = None
                if ctype == "application/json":
                    try:
                        parsed_json = json.loads(body.decode("utf-8"))
                    except ValueError:
                        parsed_json = None
                elif ctype == "application/x-www-form-urlencoded":
                    form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
                # recorded before answering, so the sender's call has returned only once it is here
                receiver.requests.append(
                    Received(self.command, self.path, self.headers, body, parsed_json, form)
                )
                payload = b"{}"
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            # every method a sender or a converter fetching a link might use
            do_POST = do_PUT = do_PATCH = do_GET = do_DELETE = do_HEAD = do_OPTIONS = do_PROPFIND = _record

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's signature
                pass  # quiet: stderr noise in test output

        # HTTPServer sets SO_REUSEADDR, so the port is free again right after stop()
        server = ThreadingHTTPServer((HOST, self.port or 0), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listening socket: connections are refused at once until start()."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def url(self, path: str = "/notices") -> str:
        return f"http://{HOST}:{self.port}{path}"

    def json_url(self, path: str = "/notices") -> str:
        return f"json://{HOST}:{self.port}{path}"

    def form_url(self, path: str = "/notices") -> str:
        return f"form://{HOST}:{self.port}{path}"


@pytest.fixture
def http_receiver(monkeypatch):
    # a proxy from the environment must not sit between apprise and the loopback server
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, ",".join(filter(None, [HOST, "localhost", os.environ.get(name, "")])))
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


# --- SMTP ----------------------------------------------------------------------------------------


@dataclass
class SmtpServer:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)  # (mail from, rcpt tos)
    logins: list[tuple[str, str]] = field(default_factory=list)  # (login, password) as received

    def mailto(
        self,
        to: str = "clerk@example.com",
        user: str = "clerk",
        password: str = "Loopback-Pa55word",
        sender: str = "nianbao@example.com",
    ) -> str:
        """A working apprise URL for this server: plain SMTP (mailto:// is apprise's no-TLS mode),
        login with user and password."""
        return (
            f"mailto://{quote(user, safe='')}:{quote(password, safe='')}@{HOST}:{self.port}"
            f"?smtp={HOST}&from={quote(sender, safe='@')}&to={quote(to, safe='@')}&mode=insecure"
        )


class _MailHandler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.server.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    server = SmtpServer(port=free_port())

    def authenticator(smtp, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            server.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)

    # auth_require_tls=False: aiosmtpd otherwise refuses AUTH on a connection without TLS
    controller = Controller(
        _MailHandler(server),
        hostname=HOST,
        port=server.port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    yield server
    controller.stop()


# --- a server that never answers -----------------------------------------------------------------


class HungServer:
    """Accepts connections and holds them open without sending a byte."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind((HOST, 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._done.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()
        self._sock.close()


@pytest.fixture
def hung_server():
    server = HungServer()
    yield server
    server.close()
