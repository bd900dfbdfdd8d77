"""JPL Horizons API stand-in: `GET /api/horizons.api` (format=text or json), observer tables.

Answers are laid out exactly as Horizons lays out an OBSERVER table in CSV with CAL_FORMAT=BOTH
and ANG_FORMAT=DEG (the recorded answer astroquery ships, `horizons_recorded_ceres.txt`, is the
model: banner, target and centre lines with `{source: ...}`, Start/Stop/Step lines, the column
header between rows of asterisks, rows between $$SOE and $$EOE), for the quantities 1
(astrometric RA/Dec, ICRF) and 20 (delta, deldot). A request for Ceres is answered with that
recorded answer itself. The target's positions come from the scenario's `"horizons"` paths (one per
target and observer, see path.py), interpolated at each requested time. Errors are Horizons-style
text without a table (unknown target, unknown centre, a window outside the path, too many lines).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from .archive import Archive, SandboxRequest
from .path import Path, designation_matches
from .reply import Reply, json_reply, text_reply

RECORDED = "horizons_recorded_ceres.txt"
MAX_LINES = 90024
_STEP = re.compile(r"^\s*(\d+)\s*(m|min|h|d)?\s*$", re.I)
_STEP_DAYS = {"m": 1 / 1440, "min": 1 / 1440, "h": 1 / 24, "d": 1.0, None: 1 / 1440}
_MJD_JD = 2400000.5
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_CENTERS = {"500": ("Earth (399)", "GEOCENTRIC"), "500@399": ("Earth (399)", "GEOCENTRIC")}
_HEADER = (" Date__(UT)__HR:MN, Date_________JDUT, , , R.A._(ICRF), DEC_(ICRF),"
           "             delta,     deldot,")
_STARS = "*" * 79


class HorizonsArchive(Archive):
    prefix = "/horizons"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.paths: list[Path] = []

    def add(self, records: Iterable[dict[str, Any]]) -> int:
        paths = [Path.from_record(r) for r in records]
        with self._lock:
            self.paths.extend(paths)
        return len(paths)

    def corrupt(self, key: Any, **fields: Any) -> None:
        raise ValueError("the Horizons stand-in has nothing to corrupt")

    def __len__(self) -> int:
        return len(self.paths)

    def base_urls(self, base_url: str) -> dict[str, str]:
        return {"horizons": base_url + "/api/horizons.api"}

    def serve(self, request: SandboxRequest) -> Reply:
        if request.path != "/api/horizons.api":
            return text_reply(f"Not found: /horizons{request.path}", 404)
        if request.method not in ("GET", "POST"):
            return text_reply("Method not allowed", 405)
        form = parse_qs(request.query, keep_blank_values=True)
        if request.method == "POST" and request.body:
            form.update(parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        params = {k.upper(): _unquote(v[-1]) for k, v in form.items()}
        text = self.answer(params, request.clock)
        if params.get("FORMAT", "json").lower() == "text":
            return text_reply(text, 200, "text/plain")
        return json_reply({"signature": {"source": "NASA/JPL Horizons API", "version": "1.2"},
                           "result": text})

    def answer(self, params: dict[str, str], clock: datetime) -> str:
        command = params.get("COMMAND", "")
        if re.fullmatch(r"\s*ceres\s*;?\s*", command, re.I):
            return resources.files(__package__).joinpath(RECORDED).read_text("utf-8")
        if params.get("EPHEM_TYPE", "OBSERVER").upper() != "OBSERVER":
            return _error("Only OBSERVER tables are served by this stand-in.")
        found = re.search(r"DES\s*=\s*([^;]+);", command)
        if not found:
            return _error(f"Cannot interpret COMMAND: {command!r} (use DES=<designation>;)")
        designation = found.group(1).strip()
        center = params.get("CENTER", "500@399").strip()
        candidates = [p for p in self.paths if designation_matches(p, designation)]
        if not candidates:
            return _error(f"No matches found for DES= {designation}. Unknown target.")
        path = next((p for p in candidates if p.center == center), None)
        if path is None:
            return _error(f"Cannot find central body matching \"{center}\" (no ephemeris of "
                          f"{designation} from it in this sandbox)")
        try:
            times, step_text = _times(params)
        except ValueError as exc:
            return _error(str(exc))
        if len(times) > MAX_LINES:
            return _error(f"Projected output length exceeds {MAX_LINES} line limit; use a larger step.")
        outside = [t for t in times if not path.covers(t)]
        if outside:
            when = _calendar(outside[0])
            return _error(f"No ephemeris for target \"{path.body}\" at A.D. {when} UT "
                          f"(this sandbox's path covers {_calendar(path.mjd[0])} to {_calendar(path.mjd[-1])})")
        return _table(path, center, times, step_text, clock)


def _unquote(value: str) -> str:
    value = value.strip()
    while len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1].strip()
    return value


def _parse_time(text: str) -> float:
    value = text.strip().replace("A.D.", "").strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y-%b-%d %H:%M", "%Y-%b-%d"):
        try:
            moment = datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        return (moment - datetime(1858, 11, 17, tzinfo=UTC)).total_seconds() / 86400.0
    raise ValueError(f"Cannot interpret date: {text!r}")


def _times(params: dict[str, str]) -> tuple[list[float], str]:
    if params.get("TLIST"):
        values = [float(v) for v in re.split(r"[\s,]+", params["TLIST"].strip()) if v]
        return [v - _MJD_JD if v > 2400000 else v for v in values], "discrete"
    start, stop = _parse_time(params.get("START_TIME", "")), _parse_time(params.get("STOP_TIME", ""))
    if stop < start:
        raise ValueError("STOP_TIME precedes START_TIME")
    found = _STEP.match(params.get("STEP_SIZE", "1d"))
    if not found or int(found.group(1)) == 0:
        raise ValueError(f"Cannot interpret STEP_SIZE: {params.get('STEP_SIZE')!r}")
    unit = (found.group(2) or "").lower() or None
    step = int(found.group(1)) * _STEP_DAYS[unit]
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    minutes = round(step * 1440)
    return [start + i * step for i in range(count)], f"{minutes} minutes"


def _calendar(mjd: float, *, seconds: bool = False) -> str:
    moment = datetime(1858, 11, 17, tzinfo=UTC) + timedelta(days=mjd)
    moment = moment + timedelta(seconds=30) if not seconds else moment  # rounded to the minute
    text = f"{moment.year}-{_MONTHS[moment.month - 1]}-{moment.day:02d} {moment.hour:02d}:{moment.minute:02d}"
    return text + (f":{moment.second:02d}.0000" if seconds else "")


def _error(message: str) -> str:
    return ("API VERSION: 1.2\nAPI SOURCE: NASA/JPL Horizons API\n\n" + message + "\n")


def _table(path: Path, center: str, times: list[float], step_text: str, clock: datetime) -> str:
    center_name, site = _CENTERS.get(center, (f"spacecraft {center.split('@')[-1]}", "BODY CENTER"))
    now = clock.strftime("%Y-%b-%d %H:%M:%S")
    lines = [
        "API VERSION: 1.2", "API SOURCE: NASA/JPL Horizons API", "", _STARS,
        f"JPL/HORIZONS                 {path.body:<30}{now:>20}",
        "Rec #:90004917 (+COV) Soln.date: 2026-Jan-05_10:12:33    # obs: 4021 (2025-2026)",
        " ", "  EPOCH=  2461000.5 ! 2025-Nov-21.00 (TDB)         Residual RMS= .21",
        "   EC= 6.139543513622  QR= 1.356385129553   TP= 2460977.9832",
        "   OM= 322.1568632     W=  128.0105624      IN= 175.1130999", " ",
        "Comet physical (GM= km^3/s^2; RAD= km):", "   GM= n.a.                RAD= n.a.",
        "   M1=  12.2     M2=  n.a.     k1=  7.5     k2=  n.a.     PHCOF=  n.a.", " ",
        "COMET comments: ", f"1: soln ref.= {path.solution}, data arc: 2025-05-15 to 2026-01-04",
        "2: k1=7.5;", _STARS, "", "", _STARS,
        f"Ephemeris / API_USER {clock.strftime('%a %b %d %H:%M:%S %Y')} Pasadena, USA      / Horizons",
        _STARS,
        f"Target body name: {path.body:<32}{{source: {path.solution}}}",
        f"Center body name: {center_name:<32}{{source: DE441}}",
        f"Center-site name: {site}", _STARS,
        f"Start time      : A.D. {_calendar(times[0], seconds=True)} UT",
        f"Stop  time      : A.D. {_calendar(times[-1], seconds=True)} UT",
        f"Step-size       : {step_text}", _STARS,
        "Target primary  : Sun", "Small-body perts: Yes                             {source: SB441-N16}",
        "Atmos refraction: NO (AIRLESS)", "RA format       : DEG", "Time format     : BOTH",
        "Units conversion: 1 au= 149597870.700 km, c= 299792.458 km/s, 1 day= 86400.0 s ",
        "Table format    : Comma Separated Values (spreadsheet)", _STARS,
        _HEADER, _STARS, "$$SOE",
    ]
    for mjd in times:
        ra, dec, delta = path.at(mjd)
        lines.append(f" {_calendar(mjd)}, {mjd + _MJD_JD:.9f}, , , {ra:11.5f}, {dec:10.5f}, "
                     f"{delta:17.14f}, {path.rate(mjd):10.7f},")
    lines += ["$$EOE", _STARS, "Column meaning:", " ", "Computations by ...",
              "    Solar System Dynamics Group, Horizons On-Line Ephemeris System", _STARS]
    return "\n".join(lines) + "\n"
