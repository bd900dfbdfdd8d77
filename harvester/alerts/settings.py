"""The [alerts] section (and its [alerts.smtp] table): how the outbox retries and where it sends.

Secrets never live here: the SMTP password comes from the environment variable `password_env`
names, and each webhook's signing key from the one its subscription's `--secret-env` names.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from harvester.errors import ConfigError
from harvester.settings import build, check_positive

SECURITY = ("starttls", "tls", "none")


@dataclass
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    security: str = "none"
    user: str = ""
    password_env: str = "HARVESTER_SMTP_PASSWORD"
    sender: str = "harvester@localhost"
    timeout: float = 30.0


@dataclass
class Settings:
    send_after_run: bool = True
    send_budget: float = 60.0
    max_attempts: int = 8
    backoff_initial: float = 60.0
    backoff_max: float = 21600.0
    webhook_timeout: float = 10.0
    feed_entries: int = 200
    all_events_feed: str = ""
    # Seconds one subscription predicate may run (when added, tested, and at each match); one
    # that runs longer fails its own subscription, never the harvest. Lasair allows 10.
    predicate_time_limit: float = 10.0
    # Networks a webhook may reach although they are link-local or cloud metadata addresses
    # (refused by default: a URL there reads the machine's own credentials), as CIDRs.
    webhook_allow_networks: list[str] = field(default_factory=list)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)


def parse(table: dict[str, Any], *, path: str) -> Settings:
    table = dict(table)
    smtp_table = table.pop("smtp", {})
    settings = build(Settings, table, where="alerts", path=path)
    settings.smtp = build(SmtpSettings, smtp_table, where="alerts.smtp", path=path)
    for key in ("max_attempts", "backoff_initial", "backoff_max", "webhook_timeout", "feed_entries",
                "send_budget", "predicate_time_limit"):
        check_positive(getattr(settings, key), key=key, where="alerts", path=path)
    for network in settings.webhook_allow_networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ConfigError(f"{path}: [alerts] webhook_allow_networks: not a network: {network!r} "
                              "(write e.g. \"169.254.10.0/24\")") from None
    _check_smtp(settings.smtp, path=path)
    return settings


def _check_smtp(smtp: SmtpSettings, *, path: str) -> None:
    where = "alerts.smtp"
    if smtp.security not in SECURITY:
        raise ConfigError(f"{path}: [{where}] security: expected one of {', '.join(SECURITY)}, "
                          f"got {smtp.security!r}")
    if not 0 < smtp.port < 65536:
        raise ConfigError(f"{path}: [{where}] port: not a TCP port: {smtp.port}")
    check_positive(smtp.timeout, key="timeout", where=where, path=path)
    if "@" not in smtp.sender:
        raise ConfigError(f"{path}: [{where}] sender: not an email address: {smtp.sender!r}")
    if smtp.user and smtp.security == "none" and not _is_loopback(smtp.host):
        raise ConfigError(f"{path}: [{where}] security: a password would cross the network in "
                          f"clear text to {smtp.host}; use starttls or tls")


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
