"""Fault injection: queued misbehaviours, consumed one per matching request."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = ("http500", "http503", "http429", "slow", "drop", "truncated", "html200", "executing")


@dataclass
class Fault:
    kind: str
    path_prefix: str
    remaining: int
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path_prefix": self.path_prefix,
                "count": self.remaining, **self.params}


class FaultQueue:
    """Thread-safe FIFO of faults; the first queued fault whose prefix matches wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, kind: str, path_prefix: str = "/mast", count: int = 1, **params: Any) -> Fault:
        """Queue `count` consecutive occurrences of `kind` for paths starting with `path_prefix`.

        Params: http429 `retry_after` (seconds, sent as Retry-After; also accepted by
        http503), slow `delay` (seconds). `executing` only applies to MAST invoke calls.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
        if count < 1:
            raise ValueError("count must be >= 1")
        fault = Fault(kind, path_prefix, int(count), dict(params))
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, path: str) -> Fault | None:
        """Consume one occurrence of the first fault matching `path`, if any."""
        with self._lock:
            for i, fault in enumerate(self._faults):
                if path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        del self._faults[i]
                    # A snapshot, so the caller never sees later decrements.
                    return Fault(fault.kind, fault.path_prefix, fault.remaining, fault.params)
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def __len__(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)
