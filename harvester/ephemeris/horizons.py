"""JPL Horizons through astroquery.jplhorizons, over the harvester's HTTP client.

astroquery builds the request (`ephemerides_async(get_query_payload=True)`: the exact parameters
its own `Horizons.ephemerides()` sends to the Horizons API) and parses the answer
(`Horizons._parse_result`), so the harvester speaks Horizons exactly as astroquery does; the
request itself goes through harvester.http, so it is counted in the run, retried, rate-limited and
sent to the configured URL (the sandbox in tests). Only the astrometric position (quantity 1)
and the distance (quantity 20) are asked for.
"""

from __future__ import annotations

import re
import warnings
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from harvester.ephemeris.model import Ephemeris
from harvester.errors import SourceError
from harvester.timeutil import iso, mjd_to_datetime

QUANTITIES = "1,20"
_SOLUTION = re.compile(r"Target body name:.*\{source:\s*([^}]+)\}")
_ERROR_LINES = ("No ephemeris", "Cannot find", "No matches found", "Multiple major-bodies",
                "Cannot interpret", "ERROR", "exceeds")


class HorizonsError(SourceError):
    """Horizons answered, but not with an ephemeris (unknown target, bad window ...)."""


class _TextResponse:
    """The two things astroquery's parser reads from a requests.Response."""

    def __init__(self, text: str) -> None:
        self.text = text

    def raise_for_status(self) -> None:
        return None


def _horizons(target: str, location: str, epochs: Any) -> Any:
    from astroquery.jplhorizons import Horizons

    return Horizons(id=target, id_type="designation", location=location, epochs=epochs)


def horizons_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def request_params(target: str, location: str, start: datetime, stop: datetime,
                   step: str) -> dict[str, str]:
    """The Horizons API parameters astroquery sends for this ephemeris (closest apparition,
    no fragments: one comet, not a list of its records)."""
    epochs = {"start": horizons_time(start), "stop": horizons_time(stop), "step": step}
    payload = _horizons(target, location, epochs).ephemerides_async(
        get_query_payload=True, quantities=QUANTITIES, closest_apparition=True, no_fragments=True)
    return dict(payload)


def probe_params(target: str, location: str, when: datetime) -> dict[str, str]:
    """One epoch: the cheapest answer that still names the orbit solution."""
    from harvester.timeutil import JD_MJD_OFFSET, datetime_to_mjd

    payload = _horizons(target, location, datetime_to_mjd(when) + JD_MJD_OFFSET).ephemerides_async(
        get_query_payload=True, quantities=QUANTITIES, closest_apparition=True, no_fragments=True)
    return dict(payload)


def query_text(url: str, params: dict[str, str]) -> str:
    """The request as one URL, kept with the ephemeris it produced."""
    return f"{url}?{urlencode(params)}"


def solution_of(text: str) -> str | None:
    """The orbit solution an answer was computed from: `{source: JPL#27}` on the target line."""
    found = _SOLUTION.search(text)
    return found.group(1).strip() if found else None


def parse_answer(text: str, *, target: str, location: str, step: str, query: str,
                 fetched_at: datetime) -> Ephemeris:
    """astroquery's parser, then the columns an ephemeris keeps."""
    import numpy as np

    if "$$SOE" not in text:
        raise HorizonsError(f"Horizons gave no ephemeris for {target!r} from {location!r}: "
                            f"{_complaint(text)}")
    parser = _horizons(target, location, None)
    parser.query_type = "ephemerides"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = parser._parse_result(_TextResponse(text))
    except Exception as exc:  # astroquery raises ValueError, IndexError ... on answers it cannot read
        raise HorizonsError(f"cannot read the Horizons answer for {target!r}: {exc}") from None
    try:
        jd = np.asarray(table["datetime_jd"], dtype=float)
        ra = np.asarray(table["RA"], dtype=float)
        dec = np.asarray(table["DEC"], dtype=float)
        delta = np.asarray(table["delta"], dtype=float) if "delta" in table.colnames else None
    except KeyError as exc:
        raise HorizonsError(f"the Horizons answer has no column {exc}") from None
    order = np.argsort(jd, kind="stable")
    return Ephemeris(target=target, observer=location, step=step, mjd=jd[order] - 2400000.5,
                     ra=ra[order], dec=dec[order], delta=None if delta is None else delta[order],
                     solution=solution_of(text), query=query, fetched_at=iso(fetched_at))


def fetch(http: Any, url: str, *, target: str, location: str, start: datetime, stop: datetime,
          step: str, now: datetime) -> Ephemeris:
    params = request_params(target, location, start, stop, step)
    text = get_text(http, url, params)
    return parse_answer(text, target=target, location=location, step=step,
                        query=query_text(url, params), fetched_at=now)


def current_solution(http: Any, url: str, *, target: str, location: str, when: datetime) -> str | None:
    text = get_text(http, url, probe_params(target, location, when))
    if "$$SOE" not in text:
        raise HorizonsError(f"Horizons gave no ephemeris for {target!r}: {_complaint(text)}")
    return solution_of(text)


def get_text(http: Any, url: str, params: dict[str, str]) -> str:
    response = http.request("GET", url, params=params, headers={"Accept": "text/plain"})
    return response.body.decode("utf-8", "replace")


def _complaint(text: str) -> str:
    for line in text.splitlines():
        if any(marker in line for marker in _ERROR_LINES):
            return line.strip()[:200]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else "an empty answer")[:200]


def mjd_iso(mjd: float) -> str:
    return iso(mjd_to_datetime(mjd))
