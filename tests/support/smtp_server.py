"""A real SMTP server on 127.0.0.1 for the supervision outbox tests (no mocks, no aiosmtpd in
the lock): `socketserver` speaking the part of RFC 5321 that `smtplib` uses — EHLO/HELO, MAIL,
RCPT, DATA (dot-unstuffed), RSET, NOOP, QUIT.

    with smtp_server() as srv:
        ...  # WINDOWWATCH_SMTP_URL = srv.url
        srv.messages        # [(mail_from, [rcpt, ...], email.message.Message), ...]
        srv.fail_next = 2   # the next two MAIL commands get 451 (a temporary failure)
"""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def _send(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode("ascii"))
        self.wfile.flush()

    def handle(self) -> None:
        srv: SmtpServer = self.server  # type: ignore[assignment]
        self._send("220 localhost test SMTP")
        mail_from, rcpts = None, []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb == "EHLO":
                self._send("250-localhost")
                self._send("250-8BITMIME")
                self._send("250 SMTPUTF8")
            elif verb == "HELO":
                self._send("250 localhost")
            elif verb == "MAIL":
                with srv.lock:
                    failing = srv.fail_next > 0
                    srv.fail_next -= failing
                if failing:
                    self._send("451 4.3.0 try again later")
                    continue
                mail_from, rcpts = line.split(":", 1)[1].strip().split()[0].strip("<>"), []
                self._send("250 OK")
            elif verb == "RCPT":
                rcpts.append(line.split(":", 1)[1].strip().strip("<>"))
                self._send("250 OK")
            elif verb == "DATA":
                self._send("354 end with <CRLF>.<CRLF>")
                data = bytearray()
                while True:
                    chunk = self.rfile.readline()
                    if not chunk or chunk in (b".\r\n", b".\n"):
                        break
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                msg = email.message_from_bytes(bytes(data), policy=email.policy.default)
                with srv.lock:
                    srv.messages.append((mail_from, list(rcpts), msg))
                self._send("250 OK queued")
            elif verb == "RSET":
                mail_from, rcpts = None, []
                self._send("250 OK")
            elif verb == "NOOP":
                self._send("250 OK")
            elif verb == "QUIT":
                self._send("221 bye")
                return
            else:
                self._send("502 command not implemented")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.messages: list = []
        self.fail_next = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.server_address[1]}"


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    srv = SmtpServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(10)
