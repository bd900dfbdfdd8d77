"""Showing where an alert goes without giving its secrets away.

A webhook URL is often its own password: Slack and Discord put a token in the path, others in
the query or as `user:password@`. An email address is a person's. Lists, the web page, status
lines and stored error messages show instead the scheme, the host and a short fingerprint of
the whole address (so two webhooks to one host stay apart), or the first letter and the domain
of an address. The full value stays in the catalog, readable by whoever can read the file.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

_URL = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "backslashreplace")).hexdigest()[:6]


def redact_url(url: str) -> str:
    """`https://hooks.slack.com/services/T0/B0/XXXX` -> `https://hooks.slack.com/… [3fa2c1]`."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return f"<url> [{fingerprint(url)}]"
    if ":" in host:
        host = f"[{host}]"
    user = "***@" if parts.username or parts.password else ""
    tail = "/…" if parts.path not in ("", "/") or parts.query or parts.fragment else "/"
    return f"{parts.scheme}://{user}{host}{port}{tail} [{fingerprint(url)}]"


def redact_email(address: str) -> str:
    """`someone@example.org` -> `s***@example.org`."""
    local, at, domain = address.rpartition("@")
    if not at:
        return f"*** [{fingerprint(address)}]"
    return f"{local[:1]}***@{domain}"


def redact_address(channel: str | None, address: str | None) -> str | None:
    """What a listing shows of a subscription's address: webhooks and mail redacted, an Atom
    file path as it is (it names no secret)."""
    if address is None:
        return None
    if channel == "webhook":
        return redact_url(address)
    if channel == "email":
        return redact_email(address)
    return address


def redact_text(text: str | None) -> str | None:
    """Every URL inside a message (a delivery's error, a log line) redacted."""
    if text is None:
        return None
    return _URL.sub(lambda m: redact_url(m.group(0)), text)
