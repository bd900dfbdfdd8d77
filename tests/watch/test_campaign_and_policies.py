"""The campaign and policy files: the packaged ones are the documented campaign, their rules
pick the right latency, and names are compared the way the catalog spells them."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from harvester.errors import ConfigError
from harvester.watch.campaign import load_campaign
from harvester.watch.evaluate import load_inputs
from harvester.watch.matching import same_name
from harvester.watch.policies import add_months, check_references, load_policies
from harvester.watch.settings import Settings, parse

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN_YAML = ROOT.parent / "shared" / "data" / "campaign.yaml"
HARVESTED = {"mast", "pds", "psa", "mpc", "cnsa", "eso", "irsa", "heasarc", "cadc", "other"}


def test_the_packaged_campaign_keeps_every_documented_id_with_a_harvested_archive():
    campaign, policies = load_inputs(Settings())
    ids = [e.id for e in campaign.observations]
    for expected_id in ("mro-hirise", "tgo-cassis", "jwst-nirspec-20250806", "tianwen1-hiric"):
        assert expected_id in ids
    assert all(set(e.archives) <= HARVESTED for e in campaign.observations)
    unconfirmed = [e for e in campaign.observations if e.status == "unconfirmed"]
    assert len(unconfirmed) == 4
    periods = {p.id: (p.start, p.end) for p in campaign.periods}
    assert periods["us-shutdown-2025"] == (date(2025, 10, 1), date(2025, 11, 12))
    assert periods["solar-conjunction"] == (date(2025, 10, 1), date(2025, 11, 9))
    by_id = campaign.by_id()
    assert policies.for_expected(by_id["jwst-nirspec-20250806"]).id == "jwst-dd"
    assert policies.for_expected(by_id["maven-iuvs"]).id == "pds-maven"
    assert policies.for_expected(by_id["mex-hrsc"]).id == "psa-mex"
    assert policies.for_expected(by_id["gtc-ttt"]).id == "default"


@pytest.mark.skipif(not CAMPAIGN_YAML.exists(), reason="shared/data/campaign.yaml not here")
def test_the_packaged_campaign_is_what_the_tool_writes_from_campaign_yaml():
    import yaml

    written = subprocess.run([sys.executable, str(ROOT / "tools" / "campaign_to_toml.py"),
                              str(CAMPAIGN_YAML)], capture_output=True, text=True, check=True)
    assert written.stdout == (ROOT / "config" / "campaign.toml").read_text()
    documented = [o["id"] for o in yaml.safe_load(CAMPAIGN_YAML.read_text())["observations"]]
    loaded = [e.id for e in load_campaign(ROOT / "config" / "campaign.toml").observations]
    assert loaded[:len(documented)] == documented


@pytest.mark.parametrize("spelling, value, expected", [
    ("WFC3", "WFC3/UVIS", True), ("NAVCAM", "NAVCAM_RIGHT", True), ("Mastcam-Z", "MASTCAMZ", True),
    ("Trace Gas Orbiter", "ExoMars Trace Gas Orbiter", True), ("XSHOOTER", "X-shooter", True),
    ("MI", "MIRI", False), ("UVS", "UVOT", False), ("MRO", None, False),
])
def test_names_match_whole_words_or_equal_ignoring_punctuation(spelling, value, expected):
    assert same_name(spelling, value) is expected


def test_the_most_specific_policy_wins_and_explicit_ones_only_when_named(tmp_path):
    path = tmp_path / "policies.toml"
    path.write_text("""
[[policy]]
id = "pds"
archive = "pds"
months = [3, 6]
[[policy]]
id = "pds-mro-hirise"
archive = "pds"
mission = "MRO"
instrument = "HIRISE"
days = 30
[[policy]]
id = "pds-quick"
archive = "pds"
days = 1
explicit = true
[[policy]]
id = "fallback"
archive = "*"
months = 12
""")
    policies = load_policies(path)
    assert policies.for_products("pds", "MRO", "HIRISE").id == "pds-mro-hirise"
    assert policies.for_products("pds", "MRO", "CTX").id == "pds"
    assert policies.for_products("psa", "TGO", "CASSIS").id == "fallback"
    assert policies.by_id()["pds"].high_days() == pytest.approx(182.6, abs=0.1)


def test_due_dates_add_calendar_months():
    assert add_months(datetime(2025, 10, 3, tzinfo=UTC), 6) == datetime(2026, 4, 3, tzinfo=UTC)
    assert add_months(datetime(2025, 8, 31, tzinfo=UTC), 6) == datetime(2026, 2, 28, tzinfo=UTC)


@pytest.mark.parametrize("text, message", [
    ('[[policy]]\nid = "x"\narchive = "pds"\n', "policy 'x': days: give exactly one of days or months"),
    ('[[policy]]\nid = "x"\narchive = "pds"\ndays = [9, 3]\n', "policy 'x': days: expected 0 <= min <= max"),
    ('[[policy]]\nid = "x"\narchive = "pds"\nweeks = 2\n', "policy 'x': weeks: unknown key"),
])
def test_a_bad_policy_is_one_line_naming_the_rule_and_key(tmp_path, text, message):
    path = tmp_path / "policies.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_policies(path)


def test_a_campaign_naming_an_unknown_policy_is_refused(tmp_path):
    campaign = tmp_path / "campaign.toml"
    campaign.write_text('[[observation]]\nid = "a"\narchive = "pds"\nobs_start = 2025-10-02\n'
                        'obs_end = 2025-10-02\npolicy = "pds-quick"\n')
    with pytest.raises(ConfigError, match="observation 'a': policy: no policy 'pds-quick'"):
        check_references(load_campaign(campaign), load_inputs(Settings())[1])


def test_duplicate_ids_and_unknown_keys_are_refused(tmp_path):
    campaign = tmp_path / "campaign.toml"
    entry = '[[observation]]\nid = "a"\narchive = "pds"\nobs_start = 2025-10-02\nobs_end = 2025-10-02\n'
    campaign.write_text(entry + entry)
    with pytest.raises(ConfigError, match="observation 'a': id: used twice"):
        load_campaign(campaign)
    campaign.write_text(entry + 'telescope = "MRO"\n')
    with pytest.raises(ConfigError, match="observation 'a': telescope: unknown key"):
        load_campaign(campaign)


def test_watch_settings_read_files_next_to_the_config_and_check_numbers(tmp_path):
    config = tmp_path / "harvester.toml"
    settings = parse({"campaign": "mine.toml"}, path=str(config))
    assert settings.campaign_path() == tmp_path / "mine.toml"
    assert settings.policies_path().name == "policies.toml"  # the packaged one
    with pytest.raises(ConfigError, match=r"\[watch\] silence_factor: must be greater than 0"):
        parse({"silence_factor": 0}, path=str(config))
    with pytest.raises(ConfigError, match=r"\[watch\] match_tolerance_days: must be 0 or more"):
        parse({"match_tolerance_days": -1}, path=str(config))
