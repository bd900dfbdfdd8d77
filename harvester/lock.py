"""One harvest per catalog at a time: an advisory lock on `<catalog>.lock`.

flock is released by the kernel when the holder dies, even by kill -9, so a crashed harvest
never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import Any, Self

from harvester.errors import CatalogError, LockBusyError
from harvester.timeutil import iso, utcnow


class FileLock:
    """An flock on `<catalog><suffix>`; the file says who holds it."""

    suffix = ".lock"
    busy = "another harvest is running on this catalog ({holder}); try again later or pass --wait SECONDS"

    def __init__(self, catalog_path: str, *, wait: float = 0.0, poll: float = 0.2) -> None:
        self.path = Path(f"{catalog_path}{self.suffix}")
        self.wait = wait
        self.poll = poll
        self._handle: Any = None
        self._holder_seen = "holder unknown"

    def try_acquire(self) -> bool:
        """Take the lock, waiting up to `wait` seconds; False when another process keeps it."""
        handle = self._open()
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._holder_seen = self._holder(handle)
                    handle.close()
                    return False
                time.sleep(self.poll)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {iso(utcnow())}\n")
        handle.flush()
        self._handle = handle
        return True

    def _open(self) -> Any:
        parent = self.path.absolute().parent
        if not parent.is_dir():
            raise CatalogError(f"{str(self.path)[:-len(self.suffix)]}: directory {parent} does not exist")
        try:
            return self.path.open("a+")
        except OSError as exc:
            raise CatalogError(f"cannot create the lock file {self.path}: {exc.strerror or exc} "
                               "(a harvest needs to write in the catalog's directory)") from None

    def acquire(self) -> None:
        if not self.try_acquire():
            raise LockBusyError(self.busy.format(holder=self._holder_seen))

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

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


class CatalogLock(FileLock):
    """One harvest per catalog."""
