"""stdout as JSON lines: one line per delivery, the same JSON a webhook receives, for piping
into other tools (`harvester alerts send | jq ...`). Each line is flushed before the delivery
is marked sent."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from harvester.alerts.channels.base import DeliveryError, Unit


class LinesChannel:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out: Any = out or sys.stdout

    def destination(self, unit: Unit) -> str:
        return "stdout"

    def send(self, unit: Unit) -> None:
        try:
            for alert in unit.alerts:
                self.out.write(alert.body().decode() + "\n")
            self.out.flush()
        except (OSError, ValueError) as exc:  # a closed pipe: the reader went away
            raise DeliveryError(f"cannot write to stdout: {exc}", unreachable=True) from None

    def close(self) -> None:
        pass
