"""`harvester doctor` against the real archives: skipped unless `pytest --live` (needs the
internet). Each enabled source of the shipped config must keep the contract its adapter reads."""

from __future__ import annotations

import pytest

from harvester.config import load_config
from harvester.doctor import run_doctor

pytestmark = pytest.mark.live
SOURCES = load_config().enabled_sources()


@pytest.mark.parametrize("source", SOURCES)
def test_the_real_archive_keeps_its_contract(source):
    (check,) = run_doctor(load_config(), only=[source])
    assert check.ok, check.line()
