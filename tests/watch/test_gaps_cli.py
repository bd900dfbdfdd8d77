"""`harvester gaps` as a user runs it (a real subprocess): JSON with status, due date, latency and
evidence; read-only; --as-of travels back; a bad campaign edit is one clear line; the chart."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from harvester.sandbox import Sandbox, empty_scenario
from tests.harvest_helpers import run_cli
from tests.watch.conftest import pds_frame, rows

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def harvested(tmp_path, watch_config, harvest_at, db_path):
    """A catalog harvested once HiRISE frames are public; returns the config path."""
    scenario = empty_scenario("2026-06-01T00:00:00Z")
    scenario["pds"] = [pds_frame(n, "2026-05-20T08:00:00.000Z") for n in range(3)]
    with Sandbox(scenario) as sandbox:
        config_path, config = watch_config(sandbox)
        harvest_at(sandbox, config, "2026-06-01T00:00:00Z")
    return config_path


def gaps(config_path: str, db_path: str, *args: str):
    return run_cli(["gaps", "--config", config_path, "--catalog", db_path, *args])


def test_json_gives_each_expected_observation_its_status_due_date_latency_and_evidence(
        harvested, db_path):
    result = gaps(harvested, db_path, "--format", "json", "--as-of", "2026-06-01")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    by_id = {e["id"]: e for e in data["expected"]}
    assert set(by_id) == {"mro-hirise", "vlt-fors2", "juno-flyby"}
    for entry in data["expected"]:
        assert {"id", "status", "due_date", "latency_days", "evidence"} <= set(entry)
    hirise = by_id["mro-hirise"]
    assert hirise["status"] == "released" and hirise["latency_days"] == pytest.approx(229.6, abs=0.1)
    assert hirise["due_date"].startswith("2026-04-03")
    assert sorted(hirise["evidence"]) == sorted(
        f"pds:urn:nasa:pds:mro_hirise:data:frame_{n:05d}" for n in range(3))
    assert all("instrument HIRISE" in m["reason"] for m in hirise["matches"])
    assert by_id["vlt-fors2"]["status"] == "not_watched" and by_id["vlt-fors2"]["evidence"] == []
    assert [s["source"] for s in data["sources"]] == ["mast", "pds"]
    assert data["latency"][0]["archive"] == "pds" and data["latency"][0]["count"] == 3


def test_as_of_evaluates_what_was_public_then_from_the_archive_dates(harvested, db_path):
    result = gaps(harvested, db_path, "--format", "json", "--as-of", "2026-05-01")
    hirise = next(e for e in json.loads(result.stdout)["expected"] if e["id"] == "mro-hirise")
    assert hirise["status"] == "overdue" and hirise["overdue_days"] == 28.0
    assert hirise["evidence"] == []  # the frames were not public (nor known) on 2026-05-01


def test_gaps_writes_nothing_to_the_catalog(harvested, db_path):
    before = rows(db_path, "SELECT (SELECT count(*) FROM events), (SELECT max(as_of) FROM "
                           "expected_status), (SELECT count(*) FROM watch_state)")
    result = gaps(harvested, db_path, "--as-of", "2027-06-01")
    assert result.returncode == 0, result.stderr
    assert "mro-hirise" in result.stdout and "released" in result.stdout
    assert rows(db_path, "SELECT (SELECT count(*) FROM events), (SELECT max(as_of) FROM "
                         "expected_status), (SELECT count(*) FROM watch_state)") == before


def test_csv_holds_the_expected_table_with_evidence(harvested, db_path):
    result = gaps(harvested, db_path, "--format", "csv", "--as-of", "2026-06-01")
    lines = result.stdout.splitlines()
    assert lines[0].split(",")[:2] == ["id", "status"] and lines[0].endswith(",evidence")
    assert len(lines) == 4
    hirise = next(line for line in lines if line.startswith("mro-hirise,"))
    assert "frame_00000" in hirise


def test_one_id_lists_every_matched_product_and_why(harvested, db_path):
    result = gaps(harvested, db_path, "--id", "mro-hirise", "--section", "expected")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("instrument HIRISE, observed in 2025-10-02..2025-10-02 +/- 1 d") == 3
    wide = gaps(harvested, db_path, "--id", "mro-hirise", "--section", "expected", "--wide")
    assert "why it matched" in wide.stdout  # as a table
    unknown = gaps(harvested, db_path, "--id", "nope")
    assert unknown.returncode == 2 and "--id: no observation 'nope'" in unknown.stderr


@pytest.mark.parametrize("line, edited, message", [
    ("obs_end = 2025-10-02", "obs_end = 2025-09-01",
     "observation 'mro-hirise': obs_end: 2025-09-01 is before obs_start 2025-10-02"),
    ('archive = "pds"', "", "observation 'mro-hirise': archive: missing"),
    ('mission = "MRO"', "mission = 42",
     "observation 'mro-hirise': mission: expected a string or a list of strings, got 42"),
    ("obs_start = 2025-10-02", 'obs_start = "October"',
     "observation 'mro-hirise': obs_start: expected a date like 2025-10-02, got 'October'"),
])
def test_a_bad_campaign_edit_is_one_line_naming_file_entry_and_key(harvested, db_path, tmp_path,
                                                                    line, edited, message):
    campaign = tmp_path / "campaign.toml"
    campaign.write_text(campaign.read_text().replace(line, edited, 1))
    result = gaps(harvested, db_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert str(campaign) in result.stderr and message in result.stderr


def test_the_chart_has_a_row_per_observation_the_periods_and_the_due_dates(harvested, db_path,
                                                                           tmp_path):
    chart = tmp_path / "gaps.svg"
    result = gaps(harvested, db_path, "--as-of", "2026-05-01", "--plot", str(chart),
                  "--section", "sources")
    assert result.returncode == 0, result.stderr
    svg = ET.parse(chart).getroot()
    groups = list(svg.iter(f"{SVG}g"))
    row_status = {g.get("data-id"): g.get("data-status") for g in groups if g.get("class") == "row"}
    assert row_status == {"mro-hirise": "overdue", "vlt-fors2": "not_watched",
                          "juno-flyby": "unconfirmed"}
    periods = [g.get("data-id") for g in groups if g.get("class") == "period"]
    assert periods == ["us-shutdown-2025", "solar-conjunction"]
    hirise = next(g for g in groups if g.get("data-id") == "mro-hirise")
    classes = [el.get("class") for el in hirise.iter() if el.get("class")]
    assert {"observed", "late", "due", "press"} <= set(classes)
    texts = " ".join(t.text or "" for t in svg.iter(f"{SVG}text"))
    assert "OVERDUE by 28 d" in texts and "US government shutdown" in texts


def test_the_chart_as_html_wraps_the_svg_and_the_table(harvested, db_path, tmp_path):
    page = tmp_path / "gaps.html"
    assert gaps(harvested, db_path, "--plot", str(page)).returncode == 0
    text = page.read_text()
    assert text.count("<svg") == 1 and "<table>" in text and "mro-hirise" in text
    refused = gaps(harvested, db_path, "--plot", str(tmp_path / "gaps.png"))
    assert refused.returncode == 2 and "written as SVG (.svg) or as an HTML page" in refused.stderr


def test_the_tables_fit_100_columns_and_wide_shows_everything(harvested, db_path):
    narrow = gaps(harvested, db_path, "--as-of", "2026-05-01")
    assert narrow.returncode == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert "mro-hirise" in narrow.stdout and "overdue" in narrow.stdout
    assert "--wide shows every column and text" in lines[-1]
    wide = gaps(harvested, db_path, "--as-of", "2026-05-01", "--wide")
    header = next(line for line in wide.stdout.splitlines() if line.startswith("id "))
    assert {"first_public", "obs_end", "latency_days", "archive", "detail"} <= set(header.split())
    assert max(len(line) for line in wide.stdout.splitlines()) > 100
    one = gaps(harvested, db_path, "--as-of", "2026-06-01", "--id", "mro-hirise")
    assert max(len(line) for line in one.stdout.splitlines()) <= 100
    assert one.stdout.count("archive pds, mission MRO, instrument HIRISE, observed in "
                            "2025-10-02..2025-10-02 +/- 1 d") == 3  # reasons folded, never cut
