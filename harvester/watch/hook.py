"""What the release watch does after each harvest, under the catalog lock: count the run's new
products into each source's publication history, reload the campaign into `expected`, evaluate
every expected observation and source, store the conclusions and append the events of what
changed, all in one transaction (all of it or none of it)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("harvester.watch")


def preflight(config: Any) -> None:
    """Read and check the campaign and policies files before a harvest starts (ConfigError on a
    missing or bad one), so that a typo in them stops nothing half-way."""
    from harvester.watch.evaluate import load_inputs
    from harvester.watch.settings import settings_of

    settings = settings_of(config)
    if settings.enabled:
        load_inputs(settings)


def after_harvest(catalog: Any, config: Any, report: Any) -> None:
    """Called by the engine under the catalog lock once every source has run."""
    from harvester.timeutil import utcnow
    from harvester.watch.arrivals import absorb_new_products
    from harvester.watch.evaluate import evaluate_watch, load_inputs
    from harvester.watch.events import forget_removed, record_states
    from harvester.watch.settings import settings_of
    from harvester.watch.store import replace_expected, replace_statuses

    settings = settings_of(config)
    if not settings.enabled:
        return
    # Read and check the files before the transaction: a bad edit fails with one clear line
    # and leaves the previous load in place.
    inputs = load_inputs(settings)
    now = utcnow()
    with catalog.transaction() as conn:
        absorb_new_products(conn)
        replace_expected(conn, inputs[0], now)
        watch = evaluate_watch(conn, config, now, inputs=inputs)
        replace_statuses(conn, watch.statuses, now)
        forget_removed(conn, watch)
        events = record_states(conn, watch, now)
    if events:
        log.info("watch: %d event(s): %s", len(events), watch.counts())
