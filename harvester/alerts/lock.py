"""One sender at a time per catalog: an advisory lock on `<catalog>.outbox.lock`.

Separate from the harvest lock, so `harvester alerts send` never waits for a harvest and a
harvest never waits for a slow mail server; two senders at once could both send one delivery.
The kernel releases the lock when its holder dies, even by kill -9.
"""

from __future__ import annotations

from harvester.lock import FileLock


class OutboxLock(FileLock):
    suffix = ".outbox.lock"
    busy = ("another sender is delivering alerts from this catalog ({holder}); "
            "try again later or pass --wait SECONDS")
