"""Subscriptions live in the catalog (table `subscriptions`), so they survive, travel with the
data and can be read with `harvester sql`.

Adding and removing take no harvest lock: each is one short SQLite transaction, and the matcher
reads the subscriptions inside its own transaction, so it sees a subscription whole or not at all.
A new subscription starts after the newest event (no history) unless `backfill` is asked.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from harvester.errors import ConfigError
from harvester.redact import redact_address, redact_url

CHANNELS = ("email", "webhook", "atom", "stdout")
MODES = ("each", "run", "day")
FORMATS = ("json", "slack")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$|^[^@\s,;<>]+@localhost$")


@dataclass
class Subscription:
    id: int
    name: str
    predicate: str
    channel: str
    address: str | None
    mode: str = "each"
    format: str = "json"
    secret_env: str | None = None
    created_at: str = ""
    matched_through: int = 0
    match_error: str | None = None
    match_failures: int = 0
    match_retry_at: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Subscription:
        return cls(**{k: row[k] for k in row.keys() if k in _FIELDS})

    def describe_channel(self) -> str:
        """The channel and its address as any listing or message shows it: redacted."""
        if self.channel == "stdout":
            return "stdout"
        return f"{self.channel} {redact_address(self.channel, self.address)}"


_FIELDS = frozenset(Subscription.__dataclass_fields__)


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(f"subscription name {name!r}: use letters, digits, '_', '.', '-' "
                          "(up to 64, starting with a letter or digit)")
    return name


def check_channel(channel: str, address: str | None, *, mode: str, fmt: str,
                  secret_env: str | None, allow_networks: list[str] | tuple[str, ...] = ()
                  ) -> str | None:
    """The address as stored (Atom paths made absolute, since cron runs elsewhere)."""
    if channel not in CHANNELS:
        raise ConfigError(f"unknown channel {channel!r} (known: {', '.join(CHANNELS)})")
    if mode not in MODES:
        raise ConfigError(f"--digest: expected run or day, got {mode!r}")
    if mode != "each" and channel != "email":
        raise ConfigError("--digest applies to --email subscriptions only")
    if fmt not in FORMATS:
        raise ConfigError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt != "json" and channel != "webhook":
        raise ConfigError("--format applies to --webhook subscriptions only")
    if secret_env is not None:
        if channel != "webhook":
            raise ConfigError("--secret-env applies to --webhook subscriptions only")
        if not _ENV_NAME.match(secret_env):
            raise ConfigError(f"--secret-env: not an environment variable name: {secret_env!r}")
    if channel == "email":
        if not address or not _EMAIL.match(address):
            raise ConfigError(f"--email: not an email address: {address!r}")
        return address
    if channel == "webhook":
        return check_webhook_url(address or "", allow_networks)
    if channel == "atom":
        if not address:
            raise ConfigError("--atom: a file path is needed")
        path = Path(address).expanduser().absolute()
        if path.is_dir():
            raise ConfigError(f"--atom: {path} is a directory; give the feed's file name")
        if not path.parent.is_dir():
            raise ConfigError(f"--atom: directory {path.parent} does not exist")
        return str(path)
    return None


def check_webhook_url(address: str, allow_networks: list[str] | tuple[str, ...] = ()) -> str:
    from harvester.alerts.channels.guard import BlockedDestination, allowed_networks, check_literal_host

    try:
        parsed = urlparse(address)
        host = parsed.hostname
        parsed.port  # noqa: B018 - a port that is not a number raises here, not at send time
    except ValueError as exc:
        raise ConfigError(f"--webhook: not a usable URL ({exc}): {redact_url(address)}") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise ConfigError(f"--webhook: only http(s) URLs are accepted (with a host), got "
                          f"{redact_url(address) if host else repr(address)}")
    if any(ch.isspace() or ord(ch) < 32 for ch in address):
        raise ConfigError("--webhook: the URL holds spaces or control characters")
    try:
        check_literal_host(host, allowed_networks(allow_networks))
    except BlockedDestination as exc:
        raise ConfigError(f"--webhook: refused: {exc}") from None
    return address


def add_subscription(conn: sqlite3.Connection, *, name: str, predicate: str, channel: str,
                     address: str | None, now: str, mode: str = "each", fmt: str = "json",
                     secret_env: str | None = None, backfill: bool = False) -> Subscription:
    """Store a subscription whose predicate and channel were already checked."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("SELECT 1 FROM subscriptions WHERE name = ?", (name,)).fetchone():
            raise ConfigError(f"a subscription named {name!r} exists already "
                              f"(harvester subscribe remove {name} first)")
        start = 0 if backfill else conn.execute(
            "SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
        conn.execute(
            "INSERT INTO subscriptions (name, predicate, channel, address, mode, format, "
            "secret_env, created_at, matched_through) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (name, predicate, channel, address, mode, fmt, secret_env, now, start))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return get_subscription(conn, name)


def get_subscription(conn: sqlite3.Connection, name: str) -> Subscription:
    row = conn.execute("SELECT * FROM subscriptions WHERE name = ?", (name,)).fetchone()
    if row is None:
        known = [r[0] for r in conn.execute("SELECT name FROM subscriptions ORDER BY name")]
        raise ConfigError(f"no subscription named {name!r} "
                          f"(known: {', '.join(known) or 'none yet; see harvester subscribe add'})")
    return Subscription.from_row(row)


def list_subscriptions(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Each subscription with its outbox counts, its address redacted (harvester.redact)."""
    rows = conn.execute(
        "SELECT s.*, "
        "  (SELECT COUNT(*) FROM deliveries d WHERE d.subscription_id = s.id "
        "   AND d.status = 'pending') AS pending, "
        "  (SELECT COUNT(*) FROM deliveries d WHERE d.subscription_id = s.id "
        "   AND d.status = 'sent') AS sent, "
        "  (SELECT COUNT(*) FROM deliveries d WHERE d.subscription_id = s.id "
        "   AND d.status = 'failed') AS failed "
        "FROM subscriptions s ORDER BY s.name").fetchall()
    listed = []
    for row in rows:
        item = dict(row)
        item["address"] = redact_address(item["channel"], item["address"])
        listed.append(item)
    return listed


def remove_subscription(conn: sqlite3.Connection, name: str) -> int:
    """Delete it and its outbox rows (pending ones are dropped: nobody wants them any more).
    Returns how many deliveries went with it."""
    sub = get_subscription(conn, name)
    conn.execute("BEGIN IMMEDIATE")
    try:
        dropped = conn.execute("DELETE FROM deliveries WHERE subscription_id = ?",
                               (sub.id,)).rowcount
        conn.execute("DELETE FROM subscriptions WHERE id = ?", (sub.id,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return dropped

