"""The whole watch at one moment: every expected observation's status and every source's health
and silence, from a catalog connection (read-only is enough) and the campaign and policies."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harvester.names.platforms import platforms_of
from harvester.watch.campaign import Campaign, load_campaign
from harvester.watch.coverage import archive_coverage, enabled_sources_by_archive, expected_coverage
from harvester.watch.footprints import footprint_coverage, footprint_covers
from harvester.watch.latency import LatencyStats, latency_stats
from harvester.watch.matching import match_products
from harvester.watch.policies import Policies, check_references, load_policies
from harvester.watch.settings import Settings, settings_of
from harvester.watch.silence import SourceWatch, watch_source
from harvester.watch.status import ExpectedStatus, evaluate


@dataclass
class WatchReport:
    as_of: datetime
    campaign: Campaign
    policies: Policies
    statuses: list[ExpectedStatus]
    sources: list[SourceWatch]
    latency: list[LatencyStats] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for status in self.statuses:
            counts[status.status] = counts.get(status.status, 0) + 1
        return counts


def load_inputs(settings: Settings) -> tuple[Campaign, Policies]:
    """The campaign and policies files, checked against each other."""
    campaign = load_campaign(settings.campaign_path())
    policies = load_policies(settings.policies_path())
    check_references(campaign, policies)
    return campaign, policies


def evaluate_watch(conn: sqlite3.Connection, config: Any, now: datetime, *,
                   inputs: tuple[Campaign, Policies] | None = None,
                   with_latency: bool = False) -> WatchReport:
    settings = settings_of(config)
    campaign, policies = inputs or load_inputs(settings)
    coverage = archive_coverage(conn, config)
    footprints = footprint_covers(conn, config)
    matches = match_products(conn, campaign.observations, tolerance_days=settings.match_tolerance_days,
                             platforms=platforms_of(config))
    statuses = [
        evaluate(expected, matches.get(expected.id, []), policies.for_expected(expected),
                 footprint_coverage(expected, footprints) or expected_coverage(expected, coverage),
                 now)
        for expected in campaign.observations
    ]
    sources = [watch_source(conn, name, archive, settings, now)
               for archive, names in enabled_sources_by_archive(config).items() for name in names]
    report = WatchReport(as_of=now, campaign=campaign, policies=policies, statuses=statuses,
                         sources=sorted(sources, key=lambda s: s.source))
    if with_latency:
        report.latency = latency_stats(conn, policies)
    return report
