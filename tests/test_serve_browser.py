"""`harvester serve`: the catalog of a sandbox harvest served by a real `harvester serve` process
on an ephemeral port, driven by a real headless Chromium (selenium + chromedriver): the home page
lists the tables, a canned query renders the harvested rows, SQL typed in the editor runs, a
write is refused, the search box finds products, a product's preview image is loaded from the
(sandbox) archive, and What's new and the release watch chart have pages. Skipped only when
Chromium is absent (.ci/run installs it)."""

from __future__ import annotations

import json
import select
import shutil
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from catalog.migrations import MIGRATIONS
from harvester.sandbox import Sandbox
from harvester.web.app import INSTALL_HINT
from harvester.web.metadata import build_metadata
from tests.harvest_helpers import count, run_cli, start_cli, write_config
from tests.scenarios import CLOCK_EARLY, EARLY_3I_MAST, EARLY_3I_PDS, engine_scenario

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HAVE_CHROMIUM = Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()
ATOM = "{http://www.w3.org/2005/Atom}"


PREVIEW_URI = "mast:HST/product/id1000_drc.jpg"


@pytest.fixture(scope="module")
def archives():
    """The sandbox archives, alive while the page is served: MAST serves the preview images."""
    scenario = engine_scenario()
    scenario["mast"][0]["jpegURL"] = PREVIEW_URI  # obsid 1000, an HST frame
    with Sandbox(scenario, port=0) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def harvest(archives, tmp_path_factory):
    """A real harvest of the sandbox (at a clock when a JWST program is still under exclusive
    access): the catalog and the config that points at the sandbox."""
    tmp = tmp_path_factory.mktemp("served")
    db = str(tmp / "catalog.db")
    config = write_config(tmp, archives.base_urls, db)
    proc = run_cli(["run", "--config", config], now=CLOCK_EARLY)
    assert proc.returncode == 0, proc.stderr
    return db, config


@pytest.fixture(scope="module")
def harvested(harvest):
    return harvest[0]


def read_line(proc: subprocess.Popen, timeout: float = 30) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "harvester serve printed nothing"
    return proc.stdout.readline()


@pytest.fixture(scope="module")
def served(harvest):
    harvested, config = harvest
    proc = start_cli(["serve", "--config", config, "--port", "0"], now=CLOCK_EARLY)
    try:
        line = read_line(proc)
        assert line.startswith(f"serving {harvested} read-only at http://127.0.0.1:"), line
        yield line.split(" at ")[1].split()[0]  # http://127.0.0.1:PORT/
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def fetch(url: str) -> bytes:
    """The body, whatever the status (Datasette answers a refused query with a 400)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        return exc.read()


@pytest.fixture
def browser():
    if not HAVE_CHROMIUM:
        pytest.skip("chromium and chromedriver are not installed (.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def result_rows(driver) -> list[list[str]]:
    from selenium.webdriver.common.by import By

    return [[cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td")]
            for row in driver.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")]


def wait_for_page(driver, url_part: str) -> None:
    """Until the browser shows a fully loaded page whose URL contains `url_part`."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(
        lambda d: url_part in d.current_url
        and d.execute_script("return document.readyState") == "complete"
        and d.find_elements("css selector", "footer"))


def run_sql_in_the_editor(driver, base: str, sql: str) -> None:
    """Type into the database page's SQL editor (CodeMirror) and press Run SQL, as a user does."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(base + "catalog")
    wait_for_page(driver, "/catalog")
    editor = driver.find_element(By.CSS_SELECTOR, ".CodeMirror")
    ActionChains(driver).click(editor).key_down(Keys.CONTROL).send_keys("a") \
        .key_up(Keys.CONTROL).send_keys(Keys.DELETE).send_keys(sql).perform()
    driver.find_element(By.CSS_SELECTOR, "form.sql input[type=submit]").click()
    wait_for_page(driver, "sql=")  # the form's GET navigates to ?sql=...


def test_the_catalog_in_a_real_browser(browser, served, harvested, tmp_path):
    from selenium.webdriver.common.by import By

    # The home page lists the tables, each with what it holds.
    browser.get(served)
    wait_for_page(browser, served)
    assert browser.title == "3I/ATLAS archive catalog: catalog"
    links = {a.text for a in browser.find_elements(By.CSS_SELECTOR, ".metadata-description li a")}
    assert {"products", "events", "runs", "source_state", "rejects"} <= links

    # A canned query, reached by clicking its link, renders the harvested rows.
    browser.find_element(By.LINK_TEXT, "Under exclusive access, and until when").click()
    wait_for_page(browser, "/catalog/exclusive_until")
    rows = result_rows(browser)
    assert [(r[0], r[2], r[3], r[6]) for r in rows] == [
        ("2026-02-15T00:00:00.000Z", "mast", "JWST", "mast:2001")]

    # Column descriptions reach the table page.
    browser.get(served + "catalog/products")
    wait_for_page(browser, "/catalog/products")
    assert "own public date" in browser.page_source

    # Any SELECT typed in the editor runs.
    run_sql_in_the_editor(browser, served,
                          "select archive, count(*) as n from products group by archive")
    assert sorted(map(tuple, result_rows(browser))) == [
        ("mast", str(EARLY_3I_MAST)), ("pds", str(EARLY_3I_PDS))]
    browser.save_screenshot(str(tmp_path / "sql.png"))

    # A write is refused, and changes nothing.
    before = count(harvested, "SELECT COUNT(*) FROM products")
    run_sql_in_the_editor(browser, served, "delete from products")
    assert "Statement must be a SELECT" in browser.page_source
    assert count(harvested, "SELECT COUNT(*) FROM products") == before > 0

    browser.get(served)
    wait_for_page(browser, served)
    screenshot = tmp_path / "home.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 10_000


def test_search_a_preview_image_and_the_harvesters_pages(browser, served, archives, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # The products page opens on its rows: the column descriptions are folded away.
    browser.get(served + "catalog/products")
    wait_for_page(browser, "/catalog/products")
    assert not browser.find_element(By.CSS_SELECTOR, "dl.column-descriptions").is_displayed()
    help_ = browser.find_element(By.CSS_SELECTOR, "details.column-help")
    assert help_.get_attribute("open") is None and "columns mean" in help_.text
    first_row = browser.find_element(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")
    assert first_row.location["y"] < 1000  # within the first screen of a 1400x1000 window

    # A product whose archive gives a preview shows it, loaded from the archive (the
    # sandbox's MAST download service on loopback): a real 96x96 JPEG.
    image = browser.find_element(By.CSS_SELECTOR, "img.harvester-preview")
    assert image.get_attribute("src") == (f"{archives.base_urls['mast']}/api/v0.1/Download/file?"
                                          f"uri={PREVIEW_URI}")
    browser.execute_script("arguments[0].scrollIntoView()", image)  # it loads lazily
    WebDriverWait(browser, 20).until(lambda d: d.execute_script(
        "const i = arguments[0]; return i.complete && i.naturalWidth > 0;", image))
    assert browser.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]",
                                  image) == [96, 96]
    row = image.find_element(By.XPATH, "ancestor::tr")
    assert "mast:1000" in row.text

    # The home page's search box finds products by instrument, through the FTS index.
    browser.get(served)
    wait_for_page(browser, served)
    box = browser.find_element(By.ID, "harvester-search")
    box.send_keys("hirise")
    box.submit()
    wait_for_page(browser, "_search=hirise")
    keys = [r[0] for r in result_rows(browser)]
    assert len(keys) == EARLY_3I_PDS and all(k.startswith("pds:urn:nasa:pds:mro_hirise") for k in keys)
    browser.get(served + "catalog/products?_search=" + urllib.request.quote("3I/ATLAS ToO jwst"))
    wait_for_page(browser, "_search=")
    assert [r[0] for r in result_rows(browser)] == ["mast:2001"]

    # What's new: the digest of `harvester news` (the server's clock is the harvest's).
    browser.get(served)
    wait_for_page(browser, served)
    browser.find_element(By.LINK_TEXT, "What's new").click()
    wait_for_page(browser, "/-/news")
    news = browser.find_element(By.CSS_SELECTOR, "section.news").text
    assert f"New products: {EARLY_3I_MAST + EARLY_3I_PDS} from 2 archives" in news
    assert "mast HST WFC3/UVIS: 8 new" in news and "pds MRO HIRISE: 6 new" in news
    since = browser.find_element(By.ID, "since")
    since.clear()
    since.send_keys("2025-12-02")
    since.submit()
    wait_for_page(browser, "since=2025-12-02")
    assert "Nothing new." in browser.find_element(By.CSS_SELECTOR, "section.news").text

    # The release watch chart has its own page.
    browser.get(served)
    wait_for_page(browser, served)
    browser.find_element(By.LINK_TEXT, "Release watch chart").click()
    wait_for_page(browser, "/-/gaps")
    rows = browser.find_elements(By.CSS_SELECTOR, "div.chart svg g.row")
    assert len(rows) > 10 and {r.get_attribute("data-status") for r in rows} >= {"overdue"}
    assert browser.save_screenshot(str(tmp_path / "gaps.png"))


def test_a_bad_since_on_the_news_page_is_a_400_with_the_reason(served):
    body = fetch(served + "-/news?since=yesterday").decode()
    assert "since &#x27;yesterday&#x27;: not a duration" in body
    assert json.loads(fetch(served + "-/news?since=2025-11-01&format=json"))["new"]["products"] == \
        EARLY_3I_MAST + EARLY_3I_PDS


def test_a_psa_thumbnail_is_an_image_too():
    from harvester.links import Links
    from harvester.web.pages import url_cell

    row = {"source": "psa", "product_key": "psa:granule",
           "extra": json.dumps({"thumbnail_url": "https://psa.esa.int/thumbs/granule.png"})}
    cell = url_cell("https://psa.esa.int/data/granule", row, Links())
    assert '<img class="harvester-preview" src="https://psa.esa.int/thumbs/granule.png"' in cell
    assert '<a href="https://psa.esa.int/data/granule">https://psa.esa.int/data/granule</a>' in cell
    assert url_cell("https://psa.esa.int/data/plain", {"extra": "{}"}, Links()) is None


def test_writes_are_refused_even_past_the_select_check(served, harvested):
    # Datasette's SELECT check lets a statement starting with WITH through; WITH ... DELETE is
    # a write all the same, and the read-only connection refuses it.
    body = fetch(served + "catalog.json?sql=" + urllib.request.quote(
        "with x as (select 1) delete from products"))
    assert b"attempt to write a readonly database" in body
    assert count(harvested, "SELECT COUNT(*) FROM products") == EARLY_3I_MAST + EARLY_3I_PDS


def test_events_are_an_atom_feed(served, harvested):
    feed = ET.fromstring(fetch(served + "catalog/events_feed.atom"))
    assert feed.tag == f"{ATOM}feed" and feed.findtext(f"{ATOM}title") == \
        "Events of the 3I/ATLAS catalog"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == count(harvested, "SELECT COUNT(*) FROM events")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids) and all(i.startswith("tag:harvester-3i,2025:") for i in ids)
    titles = {e.findtext(f"{ATOM}title") for e in entries}
    assert "new: mast:2001" in titles
    assert all(e.findtext(f"{ATOM}updated") for e in entries)


def test_a_canned_query_on_an_absent_table_says_so(tmp_path):
    """A catalog from before the release watch: no `expected` table. The canned query answers
    one row saying why instead of an SQL error, and the absent table is not described."""
    db = str(tmp_path / "old.db")
    conn = sqlite3.connect(db)
    conn.executescript(MIGRATIONS[0][2])
    metadata = build_metadata(conn, "old", "/old")
    database = metadata["databases"]["old"]
    assert "expected" not in database["tables"] and "products" in database["tables"]
    (note,) = conn.execute(database["queries"]["expected_observations"]["sql"]).fetchone()
    assert "The table expected is not in this catalog yet" in note
    columns = database["tables"]["products"]["columns"]
    assert set(columns) <= {row[1] for row in conn.execute("PRAGMA table_info(products)")}
    assert "release_date" in columns
    conn.close()


def test_serve_without_datasette_is_one_line_with_the_install_hint(harvested):
    code = ("import sys; sys.modules['datasette'] = None; sys.argv = ['harvester', 'serve', "
            f"'--catalog', {harvested!r}]; from harvester.cli.main import main; main()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"Error: {INSTALL_HINT}"


def test_serve_on_a_missing_catalog_is_one_line(tmp_path):
    missing = tmp_path / "none.db"
    proc = run_cli(["serve", "--catalog", str(missing), "--port", "0"])
    assert proc.returncode == 1 and "no catalog here" in proc.stderr
    assert proc.stderr.count("\n") == 1 and not missing.exists()
