"""Real peers on loopback for the alert channels: an SMTP server (aiosmtpd) that keeps every
mail it accepts, and an HTTP receiver that checks each webhook's signature and idempotency key
and can be told to fail."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpPeer:
    """aiosmtpd on 127.0.0.1 (ephemeral port). `refuse_next(code, n)` answers DATA with an error."""

    def __init__(self, tls_context: Any = None) -> None:
        from aiosmtpd.controller import Controller

        self.mails: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._refusals: list[str] = []
        self._lock = threading.Lock()
        self._stopped = False
        kwargs: dict[str, Any] = {}
        if tls_context is not None:
            kwargs.update(tls_context=tls_context, require_starttls=True)
        # aiosmtpd 1.4 cannot bind port 0 (it connects to its own port to check it is up).
        self.controller = Controller(self, hostname="127.0.0.1", port=_free_port(), **kwargs)

    def start(self) -> SmtpPeer:
        self.controller.start()
        return self

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self.controller.stop()

    @property
    def port(self) -> int:
        return self.controller.port

    def refuse_next(self, reply: str, times: int = 1) -> None:
        with self._lock:
            self._refusals.extend([reply] * times)

    def accept_all(self) -> None:
        with self._lock:
            self._refusals.clear()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self._refusals:
                return self._refusals.pop(0)
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.mails.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.mails]


@dataclass
class Hit:
    path: str
    key: str | None
    signature_ok: bool   # the old X-Harvester-Signature
    body: bytes
    headers: dict[str, str]
    standard_ok: bool = False  # the Standard Webhooks headers, checked by the stock verifier

    def json(self) -> Any:
        return json.loads(self.body)


def standard_verifies(secret: bytes, body: bytes, headers: dict[str, str]) -> bool:
    """Does the stock Standard Webhooks verifier accept this request (signature, timestamp
    within its 5 minutes)?"""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    try:
        Webhook(secret.decode()).verify(body, headers, json_parse=False)
    except (WebhookVerificationError, ValueError):
        return False
    return True


@dataclass
class WebhookPeer:
    """An HTTP receiver on 127.0.0.1. Every POST is recorded with whether its
    X-Harvester-Signature matches the secret, and whether the `standardwebhooks` package (the
    stock verifier of the Standard Webhooks spec) accepts its webhook-* headers;
    `fail_next(status, n)` answers with errors, `delay` slows every answer."""

    secret: bytes = b"s3cret"
    hits: list[Hit] = field(default_factory=list)
    delay: float = 0.0
    _failures: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: Any = None

    def start(self) -> WebhookPeer:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expected = "sha256=" + hmac.new(peer.secret, body, hashlib.sha256).hexdigest()
                given = self.headers.get("X-Harvester-Signature") or ""
                if peer.delay:
                    time.sleep(peer.delay)
                standard_ok = standard_verifies(peer.secret, body, dict(self.headers))
                with peer._lock:
                    status = peer._failures.pop(0) if peer._failures else 200
                    if status == 200:
                        peer.hits.append(Hit(self.path, self.headers.get("Idempotency-Key"),
                                             hmac.compare_digest(expected, given), body,
                                             dict(self.headers), standard_ok))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def fail_next(self, status: int, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([status] * times)

    def keys(self) -> list[str | None]:
        with self._lock:
            return [h.key for h in self.hits]
