"""Webhooks: a JSON POST of the event and its product, signed by the Standard Webhooks scheme.

Headers (https://www.standardwebhooks.com, spec 1.0): `webhook-id` = the delivery id (the same
on a re-send, so a receiver drops repeats), `webhook-timestamp` = the attempt's Unix time in
seconds (so a receiver rejects replays), and, when the subscription names a secret,
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed by that environment
variable's value read as the spec's secret (`whsec_` + base64; the prefix is optional). Any
stock verifier checks it, e.g. Python's `standardwebhooks.Webhook(secret).verify(body, headers)`.
For one release the old headers come too: `Idempotency-Key` and
`X-Harvester-Signature: sha256=<hex HMAC-SHA256 of the body>` keyed by the raw value.

One attempt per send pass (the outbox retries with backoff across passes), redirects not
followed, connect and read timeouts, and never to a link-local or cloud metadata address
(channels.guard). Error messages name the URL redacted. `format = slack` posts
`{"text": ...}` instead, for Slack- or Matrix-hookshot-style incoming webhooks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import time
from urllib.parse import urlparse

from harvester.alerts.channels.base import DeliveryError, Unit
from harvester.alerts.channels.guard import BlockedDestination, allowed_networks, guarded_session
from harvester.alerts.message import Alert
from harvester.alerts.subscriptions import Subscription
from harvester.redact import redact_text, redact_url

USER_AGENT = "harvester-3i alerts"
log = logging.getLogger("harvester.alerts")


def signature(secret: bytes, body: bytes) -> str:
    """The legacy X-Harvester-Signature (kept for one release)."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def standard_key(secret: bytes) -> bytes:
    """The HMAC key a Standard Webhooks secret stands for: `whsec_` (optional) then base64,
    decoded exactly as the reference libraries do, so their verifiers agree with us."""
    text = secret.decode("utf-8", "replace")
    if text.startswith("whsec_"):
        text = text[len("whsec_"):]
    try:
        key = base64.b64decode(text + "==")
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise ValueError("not a Standard Webhooks secret (whsec_ followed by base64)")
    return key


def _is_standard(secret: bytes) -> bool:
    try:
        standard_key(secret)
    except ValueError:
        return False
    return True


def standard_signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def body_of(alert: Alert, fmt: str) -> bytes:
    if fmt == "slack":
        text = alert.title()
        url = (alert.product or {}).get("url")
        if url:
            text += f" <{url}>"
        return json.dumps({"text": text}, sort_keys=True, ensure_ascii=False).encode()
    return alert.body()


def secret_of(sub: Subscription) -> bytes | None:
    if not sub.secret_env:
        return None
    value = os.environ.get(sub.secret_env)
    if not value:
        raise DeliveryError(f"environment variable {sub.secret_env} (the signing secret of "
                            f"subscription {sub.name}) is not set")
    return value.encode("utf-8", "backslashreplace")


def headers_for(alert: Alert, body: bytes, secret: bytes | None, *, test: bool,
                timestamp: int | None = None) -> dict[str, str]:
    # The attempt's real time, never the harvester's (possibly replayed) clock: the receiver
    # compares it with its own clock to refuse replays.
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "webhook-id": alert.key, "webhook-timestamp": str(timestamp),
               "Idempotency-Key": alert.key}
    if secret is not None:
        try:
            key = standard_key(secret)
        except ValueError:
            # An older secret that is not base64 (a passphrase): a stock verifier could not use
            # it either, so only the old header is sent (and a warning, once per pass).
            key = None
        if key is not None:
            headers["webhook-signature"] = standard_signature(key, alert.key, timestamp, body)
        headers["X-Harvester-Signature"] = signature(secret, body)
    if test:
        headers["X-Harvester-Test"] = "yes"
    return headers


class WebhookChannel:
    def __init__(self, *, timeout: float, test: bool = False,
                 allow_networks: list[str] | tuple[str, ...] = ()) -> None:
        import requests  # lazy: `harvester --help` must not pay for it

        self._requests = requests
        self.session = guarded_session(allowed_networks(allow_networks))
        self.timeout = timeout
        self.test = test
        self._warned: set[str] = set()

    def destination(self, unit: Unit) -> str:
        return urlparse(unit.subscription.address or "").netloc

    def send(self, unit: Unit) -> None:
        sub = unit.subscription
        secret = secret_of(sub)
        if secret is not None and sub.name not in self._warned and not _is_standard(secret):
            self._warned.add(sub.name)
            log.warning("subscription %s: the secret in %s is not a Standard Webhooks secret "
                        "(whsec_ followed by base64): only the old X-Harvester-Signature header "
                        "is sent", sub.name, sub.secret_env)
        for alert in unit.alerts:
            body = body_of(alert, sub.format)
            self._post(sub.address or "", body, headers_for(alert, body, secret, test=self.test))

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        requests = self._requests
        try:
            response = self.session.post(url, data=body, headers=headers, timeout=self.timeout,
                                         allow_redirects=False)
        except BlockedDestination as exc:
            raise DeliveryError(f"POST {redact_url(url)} refused: {exc}", permanent=True) from None
        except requests.exceptions.RequestException as exc:
            raise DeliveryError(f"POST {redact_url(url)} failed: {redact_text(str(exc))}",
                                unreachable=True) from None
        status = response.status_code
        if 200 <= status < 300:
            return
        snippet = response.text[:200].strip().replace("\n", " ")
        message = f"POST {redact_url(url)}: HTTP {status} {redact_text(snippet)}".rstrip()
        # 408/429 and 5xx are the receiver's trouble of the moment; another 4xx (a bad URL, a
        # signature it rejects) stays wrong until someone fixes something.
        retriable = status >= 500 or status in (408, 425, 429)
        raise DeliveryError(message, permanent=not retriable and 400 <= status < 500,
                            unreachable=retriable)

    def close(self) -> None:
        self.session.close()

