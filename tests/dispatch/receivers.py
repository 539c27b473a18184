"""Real local receivers for notification tests: an HTTP server on 127.0.0.1 and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Request:
    """One request the HTTP receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Records every POST; answers ``status`` with ``answer`` (JSON), after failing the first ``fail_first``."""

    url: str
    requests: list[Request] = field(default_factory=list)
    status: int = 200
    answer: dict[str, Any] = field(default_factory=dict)
    fail_first: int = 0


@contextmanager
def serve_http() -> Iterator[HttpReceiver]:
    """An HTTP server on 127.0.0.1 (any free port) in a thread, for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    receiver = HttpReceiver(url=f"http://127.0.0.1:{server.server_port}")
    server.receiver = receiver  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        receiver: HttpReceiver = self.server.receiver  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers["Content-Length"]))
        receiver.requests.append(Request(self.path, dict(self.headers), body))
        failing = len(receiver.requests) <= receiver.fail_first
        payload = json.dumps(receiver.answer).encode()
        self.send_response(500 if failing else receiver.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Mailbox:
    """What the SMTP server received: envelope recipients and the parsed message, in order."""

    host: str
    port: int
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)


class _Collect:
    def __init__(self, mailbox: Mailbox) -> None:
        self._mailbox = mailbox

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self._mailbox.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@contextmanager
def serve_smtp() -> Iterator[Mailbox]:
    """An SMTP server (aiosmtpd) on 127.0.0.1, no TLS and no login, collecting what it is sent."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox("127.0.0.1", port)
    controller = Controller(_Collect(mailbox), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
