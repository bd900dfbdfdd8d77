"""MPC astrometry: every observer's positions of the target, ATLAS survey included.

`GET {base_url}/api/get-obs` with the JSON body `{"desigs": [...], "output_format": ["ADES_DF"]}`
returns the target's WHOLE observation set each time: the API has no paging and no "since"
filter, so there is nothing to page through and no window to move. One observation is one
product (key `obsid`, instrument = station code, program = publication reference). An empty
`ref` means the MPC has not yet published the observation: the product is `exclusive` (received,
not published) with no first public date; when the reference is filled in, it is `released`.

There is no publication timestamp, but the reference dates it: an MPEC's designation names its
half-month (`MPEC 2025-N12`: N = 2025-07-01..15), so a backfill a year late does not make every
observation look a year late. The first public date is the half-month's start (never before the
observation): the earliest the reference allows. An MPS or MPC number carries no date; then the
harvester's first sight stands in, as an upper bound. `extra.publication` says which.

A poll that finds nothing new must stay cheap although the answer may hold tens of thousands
of observations: the bookmark keeps the SHA-256 of the last fully stored answer (and its ETag,
sent back as If-None-Match where the server supports it). A 304, or an answer with the same
hash, is one empty page: nothing parsed, nothing normalized. Otherwise the answer is split into
pages of `page_size` observations; only the last page carries the new bookmark, so a run
killed half-way reads the answer again and the catalog's idempotent upserts absorb repeats.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from harvester.errors import ConfigError, RecordRejected, SourceError
from harvester.product import Product
from harvester.settings import SourceSettings
from harvester.sources.base import Page, Probe, Source
from harvester.timeutil import iso, normalize_iso

# ADES fields normalize() reads (`ref` may be empty, but the field is always there).
READ_FIELDS = ("obsid", "obstime", "stn", "ref")
# ADES fields kept in `extra` besides those with columns of their own.
EXTRA_FIELDS = ("ra", "dec", "mag", "band", "mode", "astcat", "rmsra", "rmsdec", "rmscorr",
                "rmsmag", "obssubid", "trksub", "trkid", "permid", "provid", "prog", "notes",
                "remarks", "obstype", "sys", "ctr")


# MPEC designations: year, half-month letter (A = Jan 1-15 ... Y = Dec 16-31, I skipped), number.
_MPEC = re.compile(r"\bMPEC\s+(?P<year>\d{4})-(?P<half>[A-HJ-Y])(?P<number>\d+)", re.IGNORECASE)
HALF_MONTHS = "ABCDEFGHJKLMNOPQRSTUVWXY"


def half_month(year: int, letter: str) -> tuple[date, date]:
    """The first and last day of the half-month an MPEC designation letter names."""
    index = HALF_MONTHS.index(letter.upper())
    month, second = index // 2 + 1, index % 2 == 1
    last = calendar.monthrange(year, month)[1]
    return (date(year, month, 16), date(year, month, last)) if second else \
        (date(year, month, 1), date(year, month, 15))


def publication(ref: str, obstime: str) -> tuple[str | None, dict[str, Any]]:
    """(first public date, what extra says about it) for a published observation's reference."""
    found = _MPEC.search(ref)
    if not found:
        return None, {"ref": ref, "precision": "none",
                      "basis": "the reference carries no date (MPS/MPC numbers do not): "
                               "first_public is the harvester's first sight, an upper bound"}
    start, end = half_month(int(found["year"]), found["half"])
    earliest = max(iso(datetime(start.year, start.month, start.day, tzinfo=UTC)), obstime)
    return earliest, {"ref": ref, "precision": "half-month", "from": start.isoformat(),
                      "to": end.isoformat(),
                      "basis": f"MPEC {found['year']}-{found['half'].upper()}{found['number']} was issued in "
                               f"{start.isoformat()}..{end.isoformat()}; first_public is the earliest of it"}


@dataclass
class Settings(SourceSettings):
    base_url: str = "https://data.minorplanetcenter.net"
    # The designation get-obs is asked for: one designation per call (docs/archives.md).
    designation: str = "3I"
    # At most 5 requests per second, or HTTP 429 and possibly a block.
    rate_limit: float | None = 5.0
    # Observations per stored page: the answer comes whole, the catalog gets it in slices.
    page_size: int = 5000
    # Send If-None-Match with the last answer's ETag; the content hash works without it.
    conditional_requests: bool = True

    def validate(self, *, where: str, path: str) -> None:
        if not self.designation.strip():
            raise ConfigError(f"{path}: [{where}] designation: must not be empty")


def _text(record: dict[str, Any], key: str) -> str | None:
    """A field as trimmed text; empty strings and nulls (both occur for 'not given') are None."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from a DataFrame export
        return None
    text = str(value).strip()
    return text or None


def parse_ades_psv(text: str) -> list[dict[str, str]]:
    """ADES pipe-separated values (a header line of field names, one observation per line) as
    the same dicts get-obs sends in ADES_DF form."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        return []
    header = [name.strip().lower() for name in lines[0].split("|")]
    return [dict(zip(header, (v.strip() for v in line.split("|")), strict=False))
            for line in lines[1:]]


class MpcSource(Source):
    archive = "mpc"
    settings: Settings

    @property
    def get_obs_url(self) -> str:
        return f"{self.settings.base_url}/api/get-obs"

    def request_body(self) -> dict[str, Any]:
        return {"desigs": [self.settings.designation], "output_format": ["ADES_DF"]}

    def fetch_pages(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        cursor = cursor or {}
        same_question = cursor.get("designation") == self.settings.designation
        known_hash = cursor.get("answer_sha256") if same_question else None
        headers = {}
        if same_question and self.settings.conditional_requests and cursor.get("etag"):
            headers["If-None-Match"] = cursor["etag"]
        answer = self.http.fetch_json("GET", self.get_obs_url, json_body=self.request_body(),
                                      headers=headers, unchanged_hash=known_hash)
        if answer.unchanged:
            why = "304 not modified" if answer.body_hash is None else "same answer as last time"
            yield Page(records=[], bookmark=cursor or None, note=why)
            return
        bookmark = {
            "designation": self.settings.designation,
            "answer_sha256": answer.body_hash,
            "etag": answer.response.headers.get("etag"),
        }
        observations = self.observations_of(answer.data)
        answer = None  # the body and the parsed answer need not both stay for the whole run
        bookmark["observations"] = len(observations)
        size = self.settings.page_size
        pages = max(1, -(-len(observations) // size))
        for number in range(1, pages + 1):
            records = observations[:size]
            # Drop the slice from the whole list as it goes, so a stored page is freed.
            del observations[:size]
            last = number == pages
            yield Page(records=records, bookmark=bookmark if last else (cursor or None),
                       note=f"{self.settings.designation} observations, page {number} of {pages}")

    @staticmethod
    def observations_of(data: Any) -> list[Any]:
        """The ADES_DF list out of `[{"ADES_DF": [...]}]` (one entry per designation asked)."""
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            raise SourceError(f"MPC get-obs answer is not a list: {str(data)[:200]}")
        observations: list[Any] = []
        for entry in data:
            if not isinstance(entry, dict) or "ADES_DF" not in entry:
                raise SourceError(f"MPC get-obs answer has no ADES_DF: {str(entry)[:200]}")
            rows = entry["ADES_DF"]
            if not isinstance(rows, list):
                raise SourceError("MPC get-obs ADES_DF is not a list of observations")
            observations.extend(rows)
        return observations

    def unchanged_context(self) -> Any:
        return ""  # normalize reads only the record, the settings, the matcher and the clock

    def native_id_of(self, record: Any) -> str | None:
        return _text(record, "obsid") if isinstance(record, dict) else None

    def probe(self) -> Probe:
        """get-obs for the designation (the MPC answers it whole): the ADES fields normalize()
        reads, on every observation, and how many there are."""
        answer = self.http.get_json(self.get_obs_url, json_body=self.request_body())
        probe = Probe(request=f"GET {self.get_obs_url} {self.request_body()}")
        observations = self.observations_of(answer)
        probe.records = len(observations)
        dicts = [o for o in observations if isinstance(o, dict)]
        probe.missing = [f for f in READ_FIELDS if dicts and not any(f in o for o in dicts)]
        if not dicts and observations:
            probe.missing = ["observations as objects"]
        return probe

    def normalize(self, record: Any) -> Product | None:
        if not isinstance(record, dict):
            raise RecordRejected(f"expected an observation object, got {type(record).__name__}")
        obsid = _text(record, "obsid")
        if obsid is None:
            raise RecordRejected("observation has no obsid")
        station = _text(record, "stn")
        if station is None:
            raise RecordRejected("observation has no station code (stn)")
        try:
            obstime = normalize_iso(_text(record, "obstime"))
        except ValueError as exc:
            raise RecordRejected(f"bad obstime {record.get('obstime')!r}: {exc}") from None
        if obstime is None:
            raise RecordRejected("observation has no obstime")
        names = [_text(record, key) for key in ("permid", "provid", "trksub")]
        target_name = next((n for n in names if n), self.settings.designation)
        match = self.matcher.match_any(names)
        # get-obs answers for one designation: the MPC itself filed the observation under it.
        matched_by = match.matched_by if match else f"mpc_designation:{self.settings.designation}"
        ref = _text(record, "ref")
        extra = {}
        for key in EXTRA_FIELDS:
            # Inline `_text(...) is not None`: this runs 20 times per observation.
            value = record.get(key)
            if value is not None and value == value and (type(value) is not str or value.strip()):
                extra[key] = value
        extra["published"] = ref is not None
        public_since = None
        if ref is not None:
            public_since, extra["publication"] = publication(ref, obstime)
        return Product(
            archive=self.archive,
            native_id=obsid,
            target_name=target_name,
            matched_by=matched_by,
            mission="MPC",
            instrument=station,
            product_type="astrometry",
            processing_level="derived",
            obs_start=obstime,
            obs_end=obstime,
            release_date=None,
            # Received but not yet published: the catalog's "exclusive" (known, not public).
            access="public" if ref is not None else "exclusive",
            program=ref,
            title=f"{target_name} astrometry from station {station} at {obstime}",
            extra=extra,
            raw=record,
            public_since=public_since,
        )


SOURCE = MpcSource
