"""The harvest engine: for each enabled source, under the catalog lock, load its cursor, page
through the archive, normalize, and commit each page with its advanced cursor in one transaction.

A failing source is recorded as failed and the others go on. Given a GracefulStop, a SIGTERM or
SIGINT ends the harvest between pages (or cuts short a wait on an archive): the run is recorded
as interrupted and the next run resumes from the last stored page.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catalog import Catalog
from catalog.bulk import begin_load, finish_load
from catalog.db import after_write_failure, storage_error
from catalog.store import (
    Reject,
    commit_page,
    finish_run,
    get_cursor,
    mark_interrupted_runs,
    start_run,
    stored_fingerprints,
)
from harvester import jsontext
from harvester.config import Config
from harvester.crashpoints import crashpoint
from harvester.errors import (
    CatalogDamagedError,
    CatalogWriteError,
    ConfigError,
    HarvesterError,
    RecordRejected,
)
from harvester.lock import CatalogLock
from harvester.logs import run_context
from harvester.names.matcher import AliasMatcher
from harvester.names.platforms import Platforms, platforms_of
from harvester.product import Product
from harvester.shutdown import GracefulStop, HarvestStopped
from harvester.sources import source_class
from harvester.sources.base import Source, SourceContext
from harvester.timeutil import EARLIEST_HARVEST, iso, utcnow
from harvester.unchanged import (
    fingerprint,
    record_hash,
    record_text,
    release_horizon,
    still_unchanged,
)

log = logging.getLogger("harvester.engine")

ProgressFn = Callable[[str, int, int], None]


@dataclass
class SourceResult:
    source: str
    archive: str
    status: str = "ok"
    run_id: int | None = None
    pages: int = 0
    records: int = 0
    skipped: int = 0
    new: int = 0
    updated: int = 0
    released: int = 0
    rejected: int = 0
    unchanged: int = 0  # of the records, those known unchanged without normalizing them
    requests: int = 0
    seconds: float = 0.0
    error: str | None = None

    def summary_line(self) -> str:
        """One line for `harvester run` and the demo: the counts of this source's run."""
        head = f"{self.source}: {self.status}"
        body = (f"{self.pages} pages, {self.records:,} records, {self.new} new, "
                f"{self.updated} updated, {self.released} released, {self.rejected} rejected, "
                f"{self.requests} requests, {self.seconds:.1f} s")
        tail = f" - {self.error}" if self.error else ""
        return f"{head}: {body}{tail}"


@dataclass
class HarvestReport:
    results: list[SourceResult] = field(default_factory=list)
    stopped: bool = False  # a stop was requested: later sources and the after-harvest hooks skipped
    alerts: Any = None     # what the alerts hook matched and sent (harvester.alerts.sender.SendReport)
    # An after-harvest stage that failed on its own (the harvest itself is committed), by name.
    stage_errors: dict[str, str] = field(default_factory=dict)
    stop: GracefulStop | None = None  # so a stage's long statements can heed SIGTERM too

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.results) and not self.stage_errors


def product_row(product: Product, raw_text: str | None = None) -> dict[str, Any]:
    """The catalog's row for a product: JSON columns serialized once, the content fingerprinted.
    `raw_text` is `product.raw` already serialized, where the caller has it."""
    # Not dataclasses.asdict: it deep-copies `raw`, which a 100,000-product backfill feels.
    row = {name: getattr(product, name) for name in _PRODUCT_FIELDS}
    extra_json = product.extra_json()
    row["extra"] = extra_json
    # raw keeps the archive's own key order: "exactly as the archive sent it".
    row["raw"] = raw_text if raw_text is not None else jsontext.dumps(product.raw)
    row["product_key"] = product.product_key
    row["content_hash"] = product.content_hash(extra_json)
    if product.evidence is not None:
        row["evidence"] = json.dumps(product.evidence, sort_keys=True, separators=(",", ":"),
                                     default=str)
    return row


_PRODUCT_FIELDS = [f.name for f in dataclasses.fields(Product)]


def build_source(config: Config, name: str, matcher: AliasMatcher, http: Any,
                 target_ids: list[str] | None = None, ephemerides: Any = None) -> Source:
    settings = config.sources[name]
    cls = source_class(settings.kind)
    return cls(SourceContext(name=name, settings=settings, matcher=matcher, http=http,
                             now=utcnow(), target_ids=list(target_ids or []),
                             ephemerides=ephemerides))


def ephemeris_store(catalog: Catalog, config: Config, http: Any, names: list[str]) -> Any:
    """The catalog-backed ephemerides for this harvest, if a source in it searches by position
    (its settings name an `observer`); None otherwise, so a name-only harvest never loads it."""
    if not any(getattr(config.sources[n], "observer", None) for n in names):
        return None
    from harvester.ephemeris.settings import settings_of
    from harvester.ephemeris.store import EphemerisStore

    return EphemerisStore(catalog, http, settings_of(config), utcnow())


def harvest(
    config: Config,
    *,
    only: list[str] | None = None,
    full: bool = False,
    lock_wait: float | None = None,
    progress: ProgressFn | None = None,
    stop: GracefulStop | None = None,
) -> HarvestReport:
    """Harvest every enabled source (or `only` those named) into the configured catalog.

    Checked before anything is written: the clock, the sources asked for, and the inputs of the
    after-harvest stages (the campaign file), so a mistake costs no harvest. A catalog that
    turns out damaged, or a disk that fills, stops the whole harvest at once (CatalogDamagedError,
    CatalogWriteError): every source writes to the same file, so the next could only fail too,
    and nothing more is written to a damaged file."""
    check_clock()
    names = select_sources(config, only)
    preflight(config)
    from harvester.http import HttpClient

    wait = config.catalog.lock_wait if lock_wait is None else lock_wait
    report = HarvestReport(stop=stop)
    with CatalogLock(config.catalog.path, wait=wait):
        catalog = Catalog.open(config.catalog.path)
        try:
            mark_interrupted_runs(catalog, iso(utcnow()))
            loading = start_load(catalog, config)
            matcher = build_matcher(catalog, config)
            platforms = platforms_of(config)
            http = HttpClient(config.http)
            try:
                ephemerides = ephemeris_store(catalog, config, http, names)
                for name in names:
                    if stop is not None and stop.requested:
                        break
                    report.results.append(
                        harvest_source(catalog, config, name, matcher, http, full=full,
                                       progress=progress, stop=stop, platforms=platforms,
                                       ephemerides=ephemerides)
                    )
            finally:
                http.close()
            report.stopped = stop is not None and stop.requested
            # A stopping process leaves the hooks (and a load's index building) to the next
            # run: they pick up from the events table, so nothing committed is missed.
            if not report.stopped:
                if loading:
                    finish_load(catalog)
                after_harvest(catalog, config, report)
        except sqlite3.DatabaseError as exc:
            error = after_write_failure(catalog.conn, config.catalog.path, exc)
            if error is None:
                raise
            raise error from None  # the CLI says it in one line; logging it too would say it twice
        finally:
            catalog.close()
    return report


def start_load(catalog: Catalog, config: Config) -> bool:
    """Is this harvest a load into an empty catalog (its indexes built at the end)? A load a
    killed run left unfinished goes on as one, or is finished now if loads are turned off."""
    if config.catalog.bulk_load:
        return begin_load(catalog, iso(utcnow()))
    finish_load(catalog)
    return False


def check_clock() -> None:
    now = utcnow()
    if now < EARLIEST_HARVEST:
        raise ConfigError(f"the clock says {iso(now)}: a harvest before {EARLIEST_HARVEST.year} "
                          "makes no sense (3I/ATLAS was discovered on 2025-07-01); check --now "
                          "or HARVESTER_NOW")


def preflight(config: Config) -> None:
    """The after-harvest stages' own inputs, read before harvesting: a campaign file that is
    missing or wrong is one line now, not a failure after every source has run."""
    from harvester.watch.hook import preflight as watch_preflight

    watch_preflight(config)


def build_matcher(catalog: Catalog, config: Config) -> AliasMatcher:
    """The config's aliases plus those `harvester target resolve` stored in the catalog."""
    from catalog.aliases import stored_aliases

    aliases = list(dict.fromkeys([*config.target.aliases, *stored_aliases(catalog)]))
    return AliasMatcher(config.target.name, aliases)


def after_harvest(catalog: Catalog, config: Config, report: HarvestReport) -> None:
    """The watch first (its overdue/silent events are news too), then the alerts outbox. Each
    stage commits on its own: one that fails is reported and the next still runs (a harvest's
    new products are news whether or not the watch could judge them). A damaged catalog or a
    full disk stops both."""
    from harvester.alerts.hook import after_harvest as alerts_after_harvest
    from harvester.watch.hook import after_harvest as watch_after_harvest

    for stage, hook in (("watch", watch_after_harvest), ("alerts", alerts_after_harvest)):
        try:
            hook(catalog, config, report)
        except sqlite3.DatabaseError as exc:
            if storage_error(exc, config.catalog.path) is not None:
                raise
            _stage_failed(report, stage, f"{type(exc).__name__}: {exc}", catalog)
        except HarvesterError as exc:
            if isinstance(exc, CatalogDamagedError | CatalogWriteError):
                raise
            _stage_failed(report, stage, str(exc), catalog)


def _stage_failed(report: HarvestReport, stage: str, error: str, catalog: Catalog) -> None:
    if catalog.conn.in_transaction:
        catalog.conn.execute("ROLLBACK")
    report.stage_errors[stage] = error
    log.warning("%s: failed, the harvest itself is stored: %s", stage, error)


def store_target_ids(catalog: Catalog, source: Source, now: str) -> int:
    """Keep what the source found by asking its archive (PDS target context LIDs) in the
    aliases table, with where it came from. A copy also lives in the source's cursor, so a run
    killed before this point loses nothing."""
    from catalog.aliases import TARGET_LID, StoredAlias, store_aliases

    found = [StoredAlias(alias=t.value, service=source.name, field=t.field, raw=t.raw, query=t.query,
                         kind=TARGET_LID) for t in source.found_target_ids]
    return store_aliases(catalog, found, now) if found else 0


def archive_target_ids(config: Config, http: Any, aliases: list[str]) -> list[Any]:
    """Ask every enabled source's archive for its own identifiers of the target (PDS target
    context LIDs), as `harvester target resolve` does: one ServiceAnswer per source that has
    such identifiers, naming the source as the service."""
    from harvester.names.resolve import Candidate, ServiceAnswer

    matcher = AliasMatcher(config.target.name, aliases)
    answers = []
    for name in config.enabled_sources():
        source = build_source(config, name, matcher, http)
        if type(source).discover_target_ids is Source.discover_target_ids:
            continue
        answer = ServiceAnswer(service=name, query="target context products",
                               url=config.sources[name].base_url)
        try:
            found = source.discover_target_ids()
        except HarvesterError as exc:
            answer.error = str(exc)
        else:
            answer.candidates = [Candidate(t.value, t.field, kind="target_lid", raw=t.raw) for t in found]
            answer.query = found[0].query if found else answer.query
            if not found:
                answer.note = "no context product names the target"
        answers.append(answer)
    return answers


def select_sources(config: Config, only: list[str] | None) -> list[str]:
    if not only:
        return config.enabled_sources()
    unknown = [n for n in only if n not in config.sources]
    if unknown:
        raise ConfigError(
            f"{config.path}: no source named {', '.join(unknown)} "
            f"(configured: {', '.join(config.sources) or 'none'})"
        )
    return list(dict.fromkeys(only))


def harvest_source(
    catalog: Catalog,
    config: Config,
    name: str,
    matcher: AliasMatcher,
    http: Any,
    *,
    full: bool = False,
    progress: ProgressFn | None = None,
    stop: GracefulStop | None = None,
    platforms: Platforms | None = None,
    ephemerides: Any = None,
) -> SourceResult:
    from catalog.aliases import stored_target_ids

    settings = config.sources[name]
    source = build_source(config, name, matcher, http, stored_target_ids(catalog), ephemerides)
    if settings.rate_limit:
        http.set_rate_limit(settings.base_url, settings.rate_limit)
    result = SourceResult(source=name, archive=source.archive)
    started = time.monotonic()
    requests_before = http.requests_made
    result.run_id = start_run(catalog, name, source.archive, iso(utcnow()))
    with run_context(result.run_id, name):
        _harvest_pages(catalog, source, result, http, requests_before,
                       cursor=None if full else get_cursor(catalog, name),
                       progress=progress, stop=stop, platforms=platforms,
                       skip_unchanged=config.catalog.skip_unchanged)
        result.requests = http.requests_made - requests_before
        result.seconds = time.monotonic() - started
        result.error = storable(result.error)
        store_target_ids(catalog, source, iso(utcnow()))
        finish_run(catalog, result.run_id, source=name, archive=source.archive,
                   status=result.status, now=iso(utcnow()), requests=result.requests,
                   error=result.error)
        # Info, not warning, even for a failure: `run` prints it on stdout already, and cron
        # mails whatever reaches stderr.
        log.info("%s, %d pages, %d records, %d new, %d updated, %d released, %d rejected, "
                 "%d requests, %.1f s%s", result.status, result.pages, result.records,
                 result.new, result.updated, result.released, result.rejected, result.requests,
                 result.seconds, f": {result.error}" if result.error else "")
    return result


def _harvest_pages(catalog: Catalog, source: Source, result: SourceResult, http: Any,
                   requests_before: int, *, cursor: dict[str, Any] | None,
                   progress: ProgressFn | None, stop: GracefulStop | None,
                   platforms: Platforms | None = None, skip_unchanged: bool = True) -> None:
    """Page through the archive into the catalog, recording the outcome in `result`."""
    name = source.name
    log.info("run %d of %s started from cursor %s", result.run_id, name, json.dumps(cursor))
    try:
        pages = source.fetch_pages(cursor)
        horizon = release_horizon(source.now)
        while (page := _next_page(pages, stop)) is not None:
            marks = mark_records(catalog, source, page.records, platforms, horizon,
                                 skip=skip_unchanged)
            products, rejects, skipped = normalize_page(source, page.records, platforms, marks)
            result.requests = http.requests_made - requests_before
            stored = commit_page(
                catalog, source=name, archive=source.archive, run_id=result.run_id,
                now=iso(utcnow()), products=products, rejects=rejects, cursor=page.bookmark,
                records=len(page.records), skipped=skipped, requests=result.requests,
                unchanged=list(marks.unchanged.values()) if marks else (),
                before_commit=lambda: crashpoint("page_commit"),
            )
            crashpoint("page_committed")
            result.pages += 1
            result.records += len(page.records)
            result.skipped += skipped
            result.new += stored.new
            result.updated += stored.updated
            result.released += stored.released
            result.rejected += stored.rejected
            result.unchanged += len(marks.unchanged) if marks else 0
            log.debug("page %d stored: %d records, %d new, %d updated, %d released, "
                      "%d rejected", result.pages, len(page.records), stored.new,
                      stored.updated, stored.released, stored.rejected)
            if progress:
                progress(name, result.pages, result.records)
            # Drop this page before the source fetches the next one: peak memory is one page.
            page = products = rejects = stored = marks = None
    except HarvestStopped as exc:
        # Only a second signal lands inside a page's transaction, which rolled itself back;
        # the connection must be out of it before the run is recorded.
        if catalog.conn.in_transaction:
            catalog.conn.execute("ROLLBACK")
        result.status = "interrupted"
        result.error = f"stopped by {exc} after {result.pages} pages; the next run resumes here"
    except sqlite3.DatabaseError as exc:
        if storage_error(exc, catalog.path) is not None:
            raise  # the catalog itself: harvest() stops everything
        log.exception("source %s: storing a page failed", name)
        result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
    except HarvesterError as exc:
        result.status, result.error = "failed", str(exc)
    except Exception as exc:  # an adapter bug must not stop the other sources
        log.exception("source %s crashed", name)
        result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"


def _next_page(pages: Any, stop: GracefulStop | None) -> Any:
    """The source's next page, or None at the end. The wait for it is the one stretch a stop
    signal may cut short: nothing of this page is written yet."""
    if stop is None:
        return next(pages, None)
    with stop.interruptible():
        return next(pages, None)


@dataclass
class RecordMarks:
    """A page's records as harvester.unchanged sees them: each one's raw text and hash, and
    which (by index) are known unchanged, with their product keys."""

    texts: list[str | None]
    hashes: list[str | None]
    unchanged: dict[int, str] = field(default_factory=dict)


def mark_records(catalog: Catalog, source: Source, records: list[Any],
                 platforms: Platforms | None, horizon: str, *, skip: bool) -> RecordMarks | None:
    """Hash the page's records (None if the source does not take part) and, if `skip`, find
    those whose stored product they would only write again."""
    fp = fingerprint(source, platforms)
    if fp is None:
        return None
    texts = [record_text(record) for record in records]
    hashes = [record_hash(fp, text) if text is not None else None for text in texts]
    marks = RecordMarks(texts=texts if skip else [None] * len(texts), hashes=hashes)
    if not skip:
        return marks
    keys = {}
    for index, record in enumerate(records):
        native = _safe_id(source, record) if hashes[index] is not None else None
        if native:
            keys[index] = f"{source.archive}:{native}"
    stored = stored_fingerprints(catalog, list(set(keys.values())))
    marks.unchanged = {index: key for index, key in keys.items()
                       if still_unchanged(stored.get(key), hashes[index], horizon)}
    return marks


def normalize_page(source: Source, records: list[Any], platforms: Platforms | None = None,
                   marks: RecordMarks | None = None) -> tuple[list[dict], list[Reject], int]:
    products: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    skipped = 0
    for index, record in enumerate(records):
        # Let go of each parsed row once read: the page's rows and its products need not
        # both be held whole, which halves the peak memory of a large page.
        records[index] = None
        if marks is not None and index in marks.unchanged:
            continue
        try:
            product = source.normalize(record)
        except RecordRejected as exc:
            rejects.append(_reject(source, record, str(exc)))
            continue
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            rejects.append(_reject(source, record, f"{type(exc).__name__}: {exc}"))
            continue
        if product is None:
            skipped += 1
            continue
        if platforms is not None:
            # One identity per platform and instrument, whatever the archive's spelling.
            platforms.normalize(product)
        if marks is None:
            row = product_row(product)
        else:
            # The record's text already written is raw's, if normalize kept the record whole.
            row = product_row(product, marks.texts[index] if product.raw is record else None)
            row["raw_hash"] = marks.hashes[index]
        problem = unstorable_text(row)
        if problem:
            # One odd character (a lone surrogate from a mis-decoded name) is one bad record,
            # never a source failing on every run.
            rejects.append(_reject(source, record, problem))
            continue
        products.append(row)
    return products, rejects, skipped


def _reject(source: Source, record: Any, reason: str) -> Reject:
    # Kept as text (JSON escapes what UTF-8 cannot hold; raw text lines are escaped here).
    raw = storable(record) if isinstance(record, str) else record
    return Reject(reason=storable(reason), raw=raw, native_id=storable(_safe_id(source, record)))


def unstorable_text(row: dict[str, Any]) -> str | None:
    """Why a product row cannot be stored as UTF-8 text, or None. JSON columns are already
    ASCII-escaped; a lone surrogate in any other text column would fail the page's commit."""
    for column, value in row.items():
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                bad = value[exc.start]
                return (f"{column} holds a character that is not valid Unicode ({bad!r} at "
                        f"position {exc.start}); the record cannot be stored as text")
    return None


def storable(text: str | None) -> str | None:
    """Text made safe to store and print: an undecodable character becomes its escape."""
    if text is None:
        return None
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _safe_id(source: Source, record: Any) -> str | None:
    try:
        return source.native_id_of(record)
    except Exception:  # an id is a courtesy for the rejects table, never a reason to fail
        return None
