import pytest

from harvester.config import load_config
from harvester.names.matcher import AliasMatcher, fold


@pytest.fixture(scope="module")
def matcher() -> AliasMatcher:
    config = load_config()
    return AliasMatcher(config.target.name, config.target.aliases)


@pytest.mark.parametrize("name", [
    "3I/ATLAS", "3i/atlas", "3I-ATLAS", "3I_ATLAS", "3IATLAS", "C/2025 N1 (ATLAS)", "C/2025 N1",
    "C2025N1", "C/2025N1", "2025 N1", "ATLAS 3I", "31/ATLAS", "3l/ATLAS", "A11pl3Z",
    "3I/ATLAS-TAIL-OFFSET", "comet 3I", "ATLAS (C/2025 N1)",
])
def test_spellings_of_3i_match(matcher, name):
    assert matcher.match(name) is not None


@pytest.mark.parametrize("name", [
    "ATLAS", "atlas", "ATLAS25abc", "C/2019 Y4 (ATLAS)", "C/2023 A3 (ATLAS)", "C/2025 N10",
    "2I/Borisov", "M31I-FIELD", "3IN1", "", None, "C/2025 N2 (ATLAS)",
])
def test_other_targets_do_not_match(matcher, name):
    assert matcher.match(name) is None


def test_match_says_which_alias_and_rule_matched(matcher):
    found = matcher.match("C2025N1")
    assert found.matched_by == "alias:C/2025 N1"
    assert matcher.match("3I_ATLAS_COMA").matched_by == "alias_in_name:3I/ATLAS"


def test_fold_drops_case_and_punctuation():
    assert fold("C/2025 N1 (ATLAS)") == "c2025n1atlas"


def test_atlas_alone_is_never_an_alias_even_if_configured():
    matcher = AliasMatcher("3I/ATLAS", ["ATLAS", "3I"])
    assert matcher.match("ATLAS") is None
    assert matcher.match("3I") is not None
