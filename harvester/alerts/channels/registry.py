"""What every delivery channel shares: the unit it sends, the error it raises, and the registry.

A unit is what one send covers: one delivery (mode `each`, webhook, stdout), a digest of
several (email `run`/`day`), or every due delivery of an Atom subscription (one file write).
A unit is marked sent only after its channel returned, so a crash in between re-sends exactly
that unit, with the same Message-ID / Idempotency-Key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from harvester.alerts.message import Alert
from harvester.alerts.subscriptions import Subscription
from harvester.errors import HarvesterError


class DeliveryError(HarvesterError):
    """A send failed. `permanent`: retrying cannot help (the delivery is failed at once).
    `unreachable`: the destination itself is down, so this pass skips what else goes there."""

    def __init__(self, message: str, *, permanent: bool = False, unreachable: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unreachable = unreachable


@dataclass
class Unit:
    subscription: Subscription
    alerts: list[Alert]
    batch: int | None = None  # the digest's id (its first delivery's), stable across re-sends
    ids: list[int] = field(default_factory=list)


class Channel(Protocol):
    def send(self, unit: Unit) -> None: ...

    def destination(self, unit: Unit) -> str:
        """Units with the same destination share a fate when it is unreachable."""
        ...

    def close(self) -> None: ...


class Channels:
    """One channel object per kind for a send pass, made when first needed."""

    def __init__(self, conn: Any, settings: Any, *, out: Any = None, test: bool = False) -> None:
        self.conn = conn
        self.settings = settings
        self.out = out
        self.test = test
        self._open: dict[str, Channel] = {}

    def get(self, kind: str) -> Channel:
        if kind not in self._open:
            self._open[kind] = self._make(kind)
        return self._open[kind]

    def _make(self, kind: str) -> Channel:
        from harvester.alerts.message import instance_token

        token = instance_token(self.conn)
        if kind == "email":
            from harvester.alerts.mail import MailChannel

            return MailChannel(self.settings.smtp, token=token, test=self.test)
        if kind == "webhook":
            from harvester.alerts.webhook import WebhookChannel

            return WebhookChannel(timeout=self.settings.webhook_timeout, test=self.test)
        if kind == "atom":
            from harvester.alerts.atom import AtomChannel

            return AtomChannel(self.conn, token=token, entries=self.settings.feed_entries)
        if kind == "stdout":
            from harvester.alerts.lines import LinesChannel

            return LinesChannel(self.out)
        raise HarvesterError(f"unknown channel {kind!r}")

    def close(self) -> None:
        for channel in self._open.values():
            channel.close()
        self._open.clear()
