"""Webhooks: a JSON POST of the event and its product, signed, with an idempotency key.

Headers: `Idempotency-Key` = the delivery id (the same on a re-send), and, when the
subscription names a secret, `X-Harvester-Signature: sha256=<hex HMAC-SHA256 of the body>`
keyed by the value of that environment variable. A receiver verifies it with
`hmac.compare_digest(header, "sha256=" + hmac.new(secret, body, sha256).hexdigest())`.

One attempt per send pass (the outbox retries with backoff across passes), redirects not
followed, connect and read timeouts. `format = slack` posts `{"text": ...}` instead, for
Slack- or Matrix-hookshot-style incoming webhooks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from urllib.parse import urlparse

from harvester.alerts.channels.base import DeliveryError, Unit
from harvester.alerts.message import Alert
from harvester.alerts.subscriptions import Subscription

USER_AGENT = "harvester-3i alerts"


def signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


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
    return value.encode()


def headers_for(alert: Alert, body: bytes, secret: bytes | None, *, test: bool) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "Idempotency-Key": alert.key}
    if secret is not None:
        headers["X-Harvester-Signature"] = signature(secret, body)
    if test:
        headers["X-Harvester-Test"] = "yes"
    return headers


class WebhookChannel:
    def __init__(self, *, timeout: float, test: bool = False) -> None:
        import requests  # lazy: `harvester --help` must not pay for it

        self._requests = requests
        self.session = requests.Session()
        self.timeout = timeout
        self.test = test

    def destination(self, unit: Unit) -> str:
        return urlparse(unit.subscription.address or "").netloc

    def send(self, unit: Unit) -> None:
        sub = unit.subscription
        secret = secret_of(sub)
        for alert in unit.alerts:
            body = body_of(alert, sub.format)
            self._post(sub.address or "", body, headers_for(alert, body, secret, test=self.test))

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        requests = self._requests
        try:
            response = self.session.post(url, data=body, headers=headers, timeout=self.timeout,
                                         allow_redirects=False)
        except requests.exceptions.RequestException as exc:
            raise DeliveryError(f"POST {url} failed: {exc}", unreachable=True) from None
        status = response.status_code
        if 200 <= status < 300:
            return
        snippet = response.text[:200].strip().replace("\n", " ")
        message = f"POST {url}: HTTP {status} {snippet}".rstrip()
        # 408/429 and 5xx are the receiver's trouble of the moment; another 4xx (a bad URL, a
        # signature it rejects) stays wrong until someone fixes something.
        retriable = status >= 500 or status in (408, 425, 429)
        raise DeliveryError(message, permanent=not retriable and 400 <= status < 500,
                            unreachable=retriable)

    def close(self) -> None:
        self.session.close()

