"""The release watch against the sandbox archives as their clock moves: an observation goes
pending, overdue, released; an archive goes silent and recovers; a failing source is never
silent; an unharvested archive is never overdue; each change of state is one event."""

from __future__ import annotations

import pytest

from catalog.query import readonly_connection
from harvester.sandbox import Sandbox, empty_scenario
from harvester.watch.report import source_flags
from tests.watch.conftest import pds_frame, rows, status_of, watch_events

# HiRISE frames of 2025-10-02, archived by PDS on 2026-05-20; the MRO policy is 6 months, so
# the observation is due 2026-04-03 (the end of 2025-10-02 plus 6 calendar months).
HIRISE_ARCHIVED = "2026-05-20T08:00:00.000Z"


@pytest.fixture
def hirise_sandbox():
    scenario = empty_scenario("2026-01-10T00:00:00Z")
    scenario["pds"] = [pds_frame(n, HIRISE_ARCHIVED) for n in range(3)]
    with Sandbox(scenario) as sandbox:
        yield sandbox


def test_an_observation_goes_pending_then_overdue_then_released(hirise_sandbox, watch_config,
                                                                harvest_at, db_path):
    _, config = watch_config(hirise_sandbox)

    harvest_at(hirise_sandbox, config, "2026-01-10T00:00:00Z")
    pending = status_of(db_path, "mro-hirise")
    assert pending["status"] == "pending"
    assert pending["due_date"].startswith("2026-04-03")
    assert pending["due_in_days"] == 83.0
    assert "policy pds-mro" in pending["due_basis"]

    harvest_at(hirise_sandbox, config, "2026-05-01T00:00:00Z")
    overdue = status_of(db_path, "mro-hirise")
    assert overdue["status"] == "overdue" and overdue["overdue_days"] == 28.0

    harvest_at(hirise_sandbox, config, "2026-06-01T00:00:00Z")
    released = status_of(db_path, "mro-hirise")
    assert released["status"] == "released"
    assert released["first_public"].startswith("2026-05-20")
    assert released["latency_days"] == pytest.approx(229.6, abs=0.1)
    assert released["products"] == released["public_products"] == 3
    reasons = rows(db_path, "SELECT reason FROM expected_products WHERE expected_id = 'mro-hirise'")
    assert len(reasons) == 3
    assert all("mission MRO" in r and "instrument HIRISE" in r for (r,) in reasons)

    assert [e for e in watch_events(db_path) if e[1] == "mro-hirise"] == [
        ("overdue", "mro-hirise"), ("overdue_cleared", "mro-hirise")]


def test_reruns_in_the_same_state_emit_no_new_events(hirise_sandbox, watch_config, harvest_at,
                                                     db_path):
    _, config = watch_config(hirise_sandbox)
    for clock in ("2026-05-01T00:00:00Z", "2026-05-01T06:00:00Z", "2026-05-02T00:00:00Z"):
        harvest_at(hirise_sandbox, config, clock)
    assert watch_events(db_path) == [("overdue", "mro-hirise")]
    detail = rows(db_path, "SELECT detail FROM events WHERE kind = 'overdue'")[0][0]
    assert '"due_date":"2026-04-03' in detail


def test_an_unharvested_archive_is_not_watched_and_never_overdue(hirise_sandbox, watch_config,
                                                                  harvest_at, db_path):
    _, config = watch_config(hirise_sandbox)
    # Long past any due date of the ESO observation of 2025-07-03: still no ESO source.
    for clock in ("2026-06-01T00:00:00Z", "2027-06-01T00:00:00Z"):
        harvest_at(hirise_sandbox, config, clock)
        fors2 = status_of(db_path, "vlt-fors2")
        assert fors2["status"] == "not_watched"
        assert "no enabled source harvests archive 'eso'" in fors2["reason"]
        assert status_of(db_path, "juno-flyby")["status"] == "unconfirmed"
    assert all(e[1] != "vlt-fors2" for e in watch_events(db_path))


def test_an_archive_never_harvested_successfully_is_not_watched(hirise_sandbox, watch_config,
                                                                harvest_at, db_path):
    _, config = watch_config(hirise_sandbox)
    hirise_sandbox.faults.add("http500", path_prefix="/pds", count=1000)
    harvest_at(hirise_sandbox, config, "2026-05-01T00:00:00Z")
    hirise = status_of(db_path, "mro-hirise")
    assert hirise["status"] == "not_watched"
    assert "has not completed a harvest" in hirise["reason"]
    assert ("overdue", "mro-hirise") not in watch_events(db_path)


# PDS publishes a batch every week from 2026-01-05 to 2026-03-02, then nothing until 2026-05-25.
WEEKLY = [f"2026-{m:02d}-{d:02d}T10:00:00.000Z" for m, d in
          [(1, 5), (1, 12), (1, 19), (1, 26), (2, 2), (2, 9), (2, 16), (2, 23), (3, 2)]]


@pytest.fixture
def weekly_sandbox():
    scenario = empty_scenario("2026-03-03T00:00:00Z")
    scenario["pds"] = [pds_frame(n, when, instrument="iuvs", host="maven")
                       for n, when in enumerate(WEEKLY + ["2026-05-25T10:00:00.000Z"])]
    with Sandbox(scenario) as sandbox:
        yield sandbox


def source_events(db: str) -> list[tuple]:
    return [e for e in watch_events(db) if e[1] == "pds"]


def source_row(db: str, source: str) -> tuple:
    return rows(db, "SELECT state FROM watch_state WHERE subject = ?", f"silence:{source}")[0]


def test_an_archive_that_stops_publishing_turns_silent_then_recovers(weekly_sandbox, watch_config,
                                                                     harvest_at, db_path):
    _, config = watch_config(weekly_sandbox)
    harvest_at(weekly_sandbox, config, "2026-03-03T00:00:00Z")
    assert source_row(db_path, "pds") == ("publishing",)

    # Usual interval 7 days; silent beyond max(4 x 7, 14) = 28 days without a new product.
    harvest_at(weekly_sandbox, config, "2026-03-25T00:00:00Z")
    assert source_row(db_path, "pds") == ("publishing",)
    harvest_at(weekly_sandbox, config, "2026-04-20T00:00:00Z")
    assert source_row(db_path, "pds") == ("silent",)
    harvest_at(weekly_sandbox, config, "2026-04-21T00:00:00Z")

    harvest_at(weekly_sandbox, config, "2026-05-26T00:00:00Z")
    assert source_row(db_path, "pds") == ("publishing",)
    assert source_events(db_path) == [("silent", "pds"), ("silent_cleared", "pds")]
    # Each product counted once in the publication history, on its archive's public day.
    assert rows(db_path, "SELECT sum(products), count(*), max(day) FROM watch_arrivals") == [
        (10, 10, "2026-05-25")]
    detail = rows(db_path, "SELECT detail FROM events WHERE kind = 'silent'")[0][0]
    assert '"usual_interval_days":7.0' in detail and '"threshold_days":28.0' in detail


def test_a_failing_source_is_reported_failing_never_silent(weekly_sandbox, watch_config,
                                                           harvest_at, db_path):
    _, config = watch_config(weekly_sandbox, failing_after=2)
    harvest_at(weekly_sandbox, config, "2026-03-03T00:00:00Z")

    # Long past the silence threshold, but our harvests of PDS fail: that is not silence.
    weekly_sandbox.faults.add("http500", path_prefix="/pds", count=1000)
    harvest_at(weekly_sandbox, config, "2026-04-20T00:00:00Z")
    assert source_events(db_path) == []  # one failure is not yet "failing"
    harvest_at(weekly_sandbox, config, "2026-04-21T00:00:00Z")
    harvest_at(weekly_sandbox, config, "2026-04-22T00:00:00Z")
    assert source_events(db_path) == [("source_failing", "pds")]
    assert source_row(db_path, "pds") == ("publishing",)  # silence left as it was
    conn = readonly_connection(db_path)
    assert source_flags(conn) == {"pds": "failing since 2026-04-21"}
    conn.close()

    weekly_sandbox.faults.clear()
    harvest_at(weekly_sandbox, config, "2026-04-23T00:00:00Z")
    assert source_events(db_path) == [("source_failing", "pds"), ("source_recovered", "pds"),
                                      ("silent", "pds")]
