"""The release chart fits its labels at any width: every text element lies inside the SVG's
viewBox (however long a period's label or a status is), and the picture scales to the window
instead of needing a horizontal scroll. Measured by a real headless Chromium (getBBox of each
text as the browser lays it out); skipped only when Chromium is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import Catalog
from harvester.watch.chart import text_extent
from tests.harvest_helpers import run_cli
from tests.test_serve_browser import CHROMEDRIVER, CHROMIUM, HAVE_CHROMIUM

LONG_LABELS = """
[[period]]
id = "a-long-period"
label = "A period whose label is much longer than the space right of its band leaves for it, near as-of"
start = 2026-05-20
end = 2026-05-30

[[observation]]
id = "an-observation-with-a-very-long-identifier-indeed"
platform = "A platform with a long name (and details)"
archive = "other"
archive_note = "an archive nobody harvests, named at length so the reason is long as well"
obs_start = 2025-07-02
obs_end = 2025-07-03

[[observation]]
id = "mro-hirise"
platform = "Mars Reconnaissance Orbiter"
archive = "pds"
mission = "MRO"
instrument = "HIRISE"
obs_start = 2025-10-02
obs_end = 2025-10-02
"""


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    campaign = tmp_path / "campaign.toml"
    campaign.write_text(LONG_LABELS)
    config = tmp_path / "harvester.toml"
    config.write_text(f'[watch]\ncampaign = "{campaign}"\n')
    db = tmp_path / "catalog.db"
    Catalog.open(db).close()
    svg = tmp_path / "chart.svg"
    made = run_cli(["gaps", "--config", str(config), "--catalog", str(db), "--plot", str(svg),
                    "--as-of", "2026-06-01"])
    assert made.returncode == 0, made.stderr
    return svg


def test_the_viewbox_holds_the_longest_label_by_estimate(chart: Path):
    text = chart.read_text()
    left, right = text_extent(text)
    x0, _, width, _ = (float(v) for v in text.split("viewBox='")[1].split("'")[0].split())
    assert x0 <= left and right <= x0 + width
    assert "width='100%'" in text and right > 1500  # the long period label made it wider


@pytest.mark.parametrize("window", [480, 1900])
def test_every_label_is_inside_the_picture_in_a_browser(chart: Path, window: int):
    if not HAVE_CHROMIUM:
        pytest.skip("chromium and chromedriver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", f"--window-size={window},900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(chart.as_uri())
        found = driver.execute_script("""
            const svg = document.querySelector('svg'), vb = svg.viewBox.baseVal, out = [];
            for (const t of svg.querySelectorAll('text')) {
              const b = t.getBBox();
              if (b.x < vb.x || b.x + b.width > vb.x + vb.width || b.y < vb.y
                  || b.y + b.height > vb.y + vb.height) out.push(t.textContent);
            }
            return {outside: out, texts: svg.querySelectorAll('text').length,
                    scroll: document.documentElement.scrollWidth, inner: window.innerWidth};""")
    finally:
        driver.quit()
    assert found["texts"] > 20
    assert found["outside"] == []
    assert found["scroll"] <= found["inner"]  # no horizontal scrolling at this width
