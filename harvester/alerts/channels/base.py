"""What every delivery channel shares: the unit it sends, the error it raises, the protocol.

A unit is what one send covers: one delivery (mode `each`, webhook, stdout), a digest of
several (email `run`/`day`), or every due delivery of an Atom subscription (one file write).
A unit is marked sent only after its channel returned, so a crash in between re-sends exactly
that unit, with the same Message-ID / Idempotency-Key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

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
