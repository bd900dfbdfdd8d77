"""Named points where the crash tests kill the harvest for real (SIGKILL, no cleanup).

HARVESTER_CRASHPOINT="name:N" kills the process the N-th time it passes point `name`. Unset,
this costs one dictionary look-up per page; it exists so tests can prove that a kill at the worst
instant (inside a page's transaction, after the rows are written but before COMMIT) loses nothing.
"""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}


def crashpoint(name: str) -> None:
    spec = os.environ.get("HARVESTER_CRASHPOINT")
    if not spec:
        return
    wanted, _, nth = spec.partition(":")
    if wanted != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
