"""One sender at a time per catalog: an advisory lock on `<catalog>.outbox.lock`.

Separate from the harvest lock, so `harvester alerts send` never waits for a harvest and a
harvest never waits for a slow mail server; two senders at once could both send one delivery.
The kernel releases the lock when its holder dies, even by kill -9.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import Any

from harvester.errors import LockBusyError


class OutboxLock:
    def __init__(self, catalog_path: str, *, wait: float = 0.0, poll: float = 0.1) -> None:
        self.path = Path(f"{catalog_path}.outbox.lock")
        self.wait = wait
        self.poll = poll
        self._handle: Any = None

    def try_acquire(self) -> bool:
        handle = self.path.open("a+")
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.close()
                    return False
                time.sleep(self.poll)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return True

    def acquire(self) -> None:
        if not self.try_acquire():
            holder = self.path.read_text().strip() or "holder unknown"
            raise LockBusyError(f"another sender is delivering alerts from this catalog ({holder}); "
                                "try again later or pass --wait SECONDS")

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> OutboxLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
