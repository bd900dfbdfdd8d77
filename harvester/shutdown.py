"""Stopping a harvest cleanly on SIGTERM or SIGINT: never in the middle of a page's commit.

A signal only sets a flag, except while the harvest is waiting on an archive (the engine marks
that stretch `interruptible()`): nothing is being written then, so the wait is cut short at
once by raising HarvestStopped. Anywhere else (normalizing, committing a page, recording the
run) the harvest goes on to the end of the page and stops before asking for the next one. A
second signal stops at once wherever it lands: a page being committed is rolled back whole.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class HarvestStopped(BaseException):
    """The harvest was asked to stop. A BaseException, like KeyboardInterrupt, so that no
    `except Exception` in an adapter or the HTTP client can swallow it."""


class GracefulStop:
    """Install with `with GracefulStop() as stop:`; the previous handlers come back on exit."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._interruptible = False
        self._previous: dict[int, Any] = {}
        self.signum: int | None = None

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    @property
    def reason(self) -> str:
        return signal.Signals(self.signum).name if self.signum else "request"

    def request(self, signum: int | None = None) -> None:
        if self.signum is None:
            self.signum = signum
        self._event.set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True (at once) when a stop is requested."""
        return self._event.wait(max(0.0, seconds))

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        """A stretch with nothing half-written, which a signal may cut short."""
        if self.requested:
            raise HarvestStopped(self.reason)
        self._interruptible = True
        try:
            yield
        finally:
            self._interruptible = False

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        again = self.requested
        self.request(signum)
        if self._interruptible or again:
            raise HarvestStopped(self.reason)

    def __enter__(self) -> GracefulStop:
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
