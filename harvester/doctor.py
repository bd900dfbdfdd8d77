"""`harvester doctor`: is each archive still the one the adapters were written for?

For each enabled source, one small real request (two for TAP services: their column list, then
a count), asked the way a harvest asks: is the archive reachable, does it accept the query, does
the answer hold the fields the adapter reads, and how many target records does it say it has.
It is what a user runs first on a machine with internet, and what `pytest --live` runs.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from harvester.config import Config
from harvester.errors import FatalHTTPError, HarvesterError, HTTPError, SourceError
from harvester.names.matcher import AliasMatcher
from harvester.sources import source_class
from harvester.sources.base import Probe, SourceContext
from harvester.sources.tap import TapQueryError
from harvester.timeutil import utcnow

# ok: the contract holds. unreachable: no answer (network, 5xx after a retry). refused: the
# archive answered the query with an error (4xx, a TAP error). changed: it answered, but not with
# what the adapter reads. error: the adapter itself failed.
VERDICTS = ("ok", "unreachable", "refused", "changed", "error")
COLUMNS = ["source", "kind", "verdict", "reachable", "accepted", "missing", "records", "seconds", "detail"]


@dataclass
class Check:
    source: str
    kind: str
    url: str
    verdict: str = "ok"
    reachable: bool = True
    accepted: bool = True
    missing: list[str] = field(default_factory=list)
    records: int | None = None
    seconds: float = 0.0
    detail: str = ""
    request: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"

    def line(self) -> str:
        """The one line that names what broke."""
        return f"{self.source} ({self.kind}, {self.url}): {self.verdict}: {self.detail}"

    def row(self) -> list[Any]:
        return [self.source, self.kind, self.verdict, _yes(self.reachable), _yes(self.accepted),
                ", ".join(self.missing), "" if self.records is None else self.records,
                f"{self.seconds:.2f}", self.detail]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _first_line(text: str, limit: int = 200) -> str:
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    return line[:limit]


def check_source(config: Config, name: str, http: Any, matcher: AliasMatcher) -> Check:
    settings = config.sources[name]
    check = Check(source=name, kind=settings.kind, url=settings.base_url)
    source = source_class(settings.kind)(SourceContext(name=name, settings=settings, matcher=matcher,
                                                       http=http, now=utcnow()))
    started = time.monotonic()
    try:
        probe: Probe = source.probe()
    except TapQueryError as exc:
        check.verdict, check.accepted, check.detail = "refused", False, _first_line(exc)
    except FatalHTTPError as exc:
        check.verdict, check.accepted = "refused", False
        check.detail = f"HTTP {exc.status}: {_first_line(exc)}" if exc.status else _first_line(exc)
    except HTTPError as exc:
        check.verdict, check.reachable, check.accepted = "unreachable", False, False
        check.detail = _first_line(exc)
    except SourceError as exc:
        check.verdict, check.detail = "changed", _first_line(exc)
    except (HarvesterError, NotImplementedError) as exc:
        check.verdict, check.detail = "error", _first_line(exc)
    except Exception as exc:  # an adapter's bug is that source's verdict, never the doctor's end
        check.verdict, check.detail = "error", _first_line(f"{type(exc).__name__}: {exc}")
    else:
        check.request, check.records, check.missing = probe.request, probe.records, probe.missing
        if probe.missing:
            check.verdict = "changed"
            check.detail = f"the answer lacks {', '.join(probe.missing)}, which the adapter reads"
        else:
            count = "?" if probe.records is None else f"{probe.records:,}"
            check.detail = f"{count} target records" + (f"; {probe.note}" if probe.note else "")
    check.seconds = time.monotonic() - started
    return check


def run_doctor(config: Config, *, only: list[str] | None = None) -> list[Check]:
    """One Check per enabled source (or per source named in `only`), in config order."""
    from harvester.engine import select_sources
    from harvester.http import HttpClient

    names = select_sources(config, only)
    # One retry, short waits: a doctor reports how the archive answers, it does not insist.
    http_settings = dataclasses.replace(config.http, retries=min(config.http.retries, 1),
                                        backoff_initial=min(config.http.backoff_initial, 0.5),
                                        backoff_max=min(config.http.backoff_max, 2.0))
    http = HttpClient(http_settings)
    matcher = AliasMatcher(config.target.name, config.target.aliases)
    try:
        checks = []
        for name in names:
            settings = config.sources[name]
            if settings.rate_limit:
                http.set_rate_limit(settings.base_url, settings.rate_limit)
            checks.append(check_source(config, name, http, matcher))
        return checks
    finally:
        http.close()
