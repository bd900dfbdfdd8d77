"""One harvest per catalog at a time: an advisory lock on `<catalog>.lock`.

flock is released by the kernel when the holder dies, even by kill -9, so a crashed harvest
never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import Any

from harvester.errors import LockBusyError
from harvester.timeutil import iso, utcnow


class CatalogLock:
    def __init__(self, catalog_path: str, *, wait: float = 0.0, poll: float = 0.2) -> None:
        self.path = Path(f"{catalog_path}.lock")
        self.wait = wait
        self.poll = poll
        self._handle: Any = None

    def acquire(self) -> None:
        handle = self.path.open("a+")
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = self._holder(handle)
                    handle.close()
                    raise LockBusyError(
                        f"another harvest is running on this catalog ({holder}); "
                        f"try again later or pass --wait SECONDS"
                    ) from None
                time.sleep(self.poll)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {iso(utcnow())}\n")
        handle.flush()
        self._handle = handle

    @staticmethod
    def _holder(handle: Any) -> str:
        handle.seek(0)
        text = handle.read().strip()
        return text or "holder unknown"

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> CatalogLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
