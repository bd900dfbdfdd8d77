"""Bad input, table-driven: each case is a `harvester` command as a new user or a careless
operator types it, with the exit status it must end with, the one line it must say on stderr
(no traceback, no usage block), nothing on stdout, and the catalog file byte for byte as it was.

Every case runs as a real process on its own copy of a catalog harvested from the sandbox
(several at a time: the cases are independent). Sources point at a closed local port, so a
case that wrongly got as far as harvesting would fail fast instead of reaching the internet.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harvester.sandbox import Sandbox
from tests.harvest_helpers import run_cli, write_config
from tests.scenarios import CLOCK_EARLY, engine_scenario

RUNAWAY = ("kind = 'new' AND (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
           "SELECT count(*) FROM c) > 0")
ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens there

# The config every case starts from (TOML literals), which a case may change key by key.
BASE_CONFIG: dict[str, dict[str, str]] = {
    "http": {"retries": "0", "connect_timeout": "1", "read_timeout": "1"},
    "sources.mast": {"base_url": f'"{CLOSED}/mast"'},
    "sources.pds": {"base_url": f'"{CLOSED}/pds"'},
    "alerts": {"predicate_time_limit": "1"},
}
BAD_CAMPAIGN = 'observation = "not a table"\n'


@dataclass
class Case:
    id: str
    argv: list[str]      # {cat} the catalog, {cfg} the config, {dir} the case's folder, {port}
    status: int
    says: str            # in the one line on stderr (case-insensitive)
    config: dict[str, dict[str, str | None]] = field(default_factory=dict)  # None drops a key
    config_bytes: bytes | None = None  # the whole config file instead
    catalog: str = "copy"  # copy, zero, text, dir, damaged, future, missing-dir
    env: dict[str, str] = field(default_factory=dict)
    unreadable_config: bool = False
    files: dict[str, str] = field(default_factory=dict)  # extra files in the case's folder
    stdout: bool = False  # the command may write to stdout (a table capped, say)


def status(*extra: str) -> list[str]:
    return ["status", "--config", "{cfg}", "--catalog", "{cat}", *extra]


def run(*extra: str) -> list[str]:
    return ["run", "--config", "{cfg}", "--catalog", "{cat}", *extra]


def sql(query: str, *extra: str) -> list[str]:
    return ["sql", "--config", "{cfg}", "--catalog", "{cat}", *extra, query]


def add(name: str, *extra: str, where: str = "kind = 'new'") -> list[str]:
    return ["subscribe", "add", name, "--where", where, *extra, "--config", "{cfg}",
            "--catalog", "{cat}"]


def gaps(*extra: str) -> list[str]:
    return ["gaps", "--config", "{cfg}", "--catalog", "{cat}", *extra]


CASES = [
    # --- the config file ---------------------------------------------------------------------
    Case("config-not-utf8", status(), 2, "not UTF-8",
         config_bytes='[http]\nuser_agent = "caf\xe9"\n'.encode("latin-1")),
    Case("config-utf16", status(), 2, "not UTF-8", config_bytes='[http]\n'.encode("utf-16")),
    Case("config-unreadable", status(), 2, "permission denied", unreadable_config=True),
    Case("config-is-a-directory", ["status", "--config", "{dir}", "--catalog", "{cat}"], 2,
         "is a directory"),
    Case("config-missing", ["status", "--config", "{dir}/nope.toml", "--catalog", "{cat}"], 2,
         "config file not found"),
    Case("config-bad-toml", status(), 2, "not valid TOML", config_bytes=b"[http\n"),
    Case("config-unknown-table", status(), 2, "unknown table", config={"nonsense": {"a": "1"}}),
    Case("config-unknown-key", status(), 2, "unknown key", config={"http": {"colour": '"red"'}}),
    Case("read-timeout-nan", run(), 2, "read_timeout: expected a finite number",
         config={"http": {"read_timeout": "nan"}}),
    Case("connect-timeout-inf", run(), 2, "expected a finite number",
         config={"http": {"connect_timeout": "inf"}}),
    Case("retries-negative", run(), 2, "retries: must be 0 or more",
         config={"http": {"retries": "-1"}}),
    Case("backoff-negative", run(), 2, "backoff_initial: must be 0 or more",
         config={"http": {"backoff_initial": "-2.5"}}),
    Case("backoff-max-negative", run(), 2, "backoff_max: must be 0 or more",
         config={"http": {"backoff_max": "-1"}}),
    Case("rate-limit-zero", run(), 2, "rate_limit: must be greater than 0",
         config={"http": {"rate_limit": "0"}}),
    Case("lock-wait-negative", run(), 2, "lock_wait: must be 0 or more",
         config={"catalog": {"lock_wait": "-5"}}),
    Case("alias-folds-to-nothing", run(), 2, "'---' has no letter or digit",
         config={"target": {"aliases": '["3I", "---"]'}}),
    Case("alias-empty", run(), 2, "has no letter or digit", config={"target": {"aliases": '[""]'}}),
    Case("target-name-punctuation", run(), 2, "[target] name: '///' has no letter or digit",
         config={"target": {"name": '"///"'}}),
    Case("cadence-never-fires", run("--due"), 2, "'0 0 31 2 *' never fires",
         config={"sources.mast": {"cadence": '"0 0 31 2 *"'}}),
    Case("cadence-never-fires-status", status(), 2, "never fires",
         config={"sources.pds": {"cadence": '"0 0 30 2 *"'}}),
    Case("cadence-with-seconds", run("--due"), 2, "not a cron expression",
         config={"sources.mast": {"cadence": '"* * * * * *"'}}),
    Case("cadence-garbage", status(), 2, "not a cron expression",
         config={"sources.mast": {"cadence": '"every hour"'}}),
    Case("lookback-negative", run(), 2, "lookback_days: must be 0 or more",
         config={"sources.mast": {"lookback_days": "-7"}}),
    Case("page-size-zero", run(), 2, "page_size: must be greater than 0",
         config={"sources.pds": {"page_size": "0"}}),
    Case("unknown-source-kind", run(), 2, "unknown source kind",
         config={"sources.eso": {"kind": '"esox"', "base_url": f'"{CLOSED}/eso"'}}),
    Case("base-url-not-http", run(), 2, "not an http(s) URL",
         config={"sources.mast": {"base_url": '"ftp://archive.stsci.edu/"'}}),
    Case("predicate-limit-zero", status(), 2, "predicate_time_limit: must be greater than 0",
         config={"alerts": {"predicate_time_limit": "0"}}),
    Case("webhook-allow-not-a-network", status(), 2, "not a network",
         config={"alerts": {"webhook_allow_networks": '["the office"]'}}),
    Case("smtp-port-out-of-range", status(), 2, "not a TCP port",
         config={"alerts.smtp": {"port": "70000"}}),
    Case("campaign-missing", run(), 2, "campaign file not found",
         config={"watch": {"campaign": '"no-such-campaign.toml"'}}),
    Case("campaign-bad", run(), 2, "campaign.toml", config={"watch": {"campaign": '"campaign.toml"'}},
         files={"campaign.toml": BAD_CAMPAIGN}),
    Case("policies-not-toml", run(), 2, "not valid TOML",
         config={"watch": {"policies": '"policies.toml"'}}, files={"policies.toml": "[[policy\n"}),
    Case("log-file-in-missing-dir", ["--log-file", "{dir}/no/such/dir/h.log", *status()], 2,
         "h.log"),
    # --- the clock --------------------------------------------------------------------------
    Case("now-year-9999", run("--now", "9999-12-31"), 2, "out of range"),
    Case("now-before-2025", run("--now", "2024-06-01"), 2, "a harvest before 2025"),
    Case("now-not-a-date", run("--now", "next tuesday"), 2, "not an ISO date"),
    Case("env-now-garbage", status(), 2, "HARVESTER_NOW: not an ISO date",
         env={"HARVESTER_NOW": "garbage"}),
    Case("env-now-year-9999", status(), 2, "HARVESTER_NOW", env={"HARVESTER_NOW": "9999-12-31"}),
    Case("env-now-before-2025-run", run(), 2, "a harvest before 2025",
         env={"HARVESTER_NOW": "2024-01-01"}),
    Case("as-of-year-9999", gaps("--as-of", "9999-12-31"), 2, "out of range"),
    Case("as-of-not-a-date", gaps("--as-of", "yesterday"), 2, "not an ISO date"),
    Case("subscribe-now-year-1", add("early", "--stdout", "--now", "0001-01-01"), 2, "out of range"),
    # --- options ----------------------------------------------------------------------------
    Case("wait-negative", run("--wait", "-5"), 2, "0 or more"),
    Case("wait-nan", run("--wait", "nan"), 2, "finite number of seconds"),
    Case("wait-not-a-number", run("--wait", "soon"), 2, "not a number of seconds"),
    Case("alerts-send-wait-negative", ["alerts", "send", "--config", "{cfg}", "--catalog", "{cat}",
                                       "--wait", "-1"], 2, "0 or more"),
    Case("serve-port-99999", ["serve", "--catalog", "{cat}", "--port", "99999"], 2,
         "not in the range"),
    Case("serve-port-negative", ["serve", "--catalog", "{cat}", "--port", "-1"], 2,
         "not in the range"),
    Case("sandbox-port-70000", ["sandbox", "--port", "70000"], 2, "not in the range"),
    Case("sandbox-port-in-use", ["sandbox", "--port", "{port}"], 1, "address already in use"),
    Case("sandbox-scenario-not-json", ["sandbox", "--port", "0", "--scenario", "{dir}/s.json"], 2,
         "not a usable scenario", files={"s.json": "{not json"}),
    Case("sandbox-scenario-not-an-object", ["sandbox", "--port", "0", "--scenario", "{dir}/s.json"],
         2, "a scenario is a JSON object", files={"s.json": "[1, 2]"}),
    Case("sandbox-scenario-bad-clock", ["sandbox", "--port", "0", "--scenario", "{dir}/s.json"], 2,
         "not a usable scenario", files={"s.json": '{"clock": "teatime"}'}),
    Case("sandbox-scenario-missing", ["sandbox", "--scenario", "{dir}/none.json"], 2,
         "does not exist"),
    Case("run-unknown-source", run("--source", "hubble"), 2, "no source named hubble"),
    Case("sql-max-rows-zero", sql("select 1", "--max-rows", "0"), 2, "--max-rows"),
    Case("sql-time-limit-negative", sql("select 1", "--time-limit", "-1"), 2, "0 or more"),
    Case("sql-format-xml", sql("select 1", "--format", "xml"), 2, "'xml' is not one of"),
    Case("gaps-unknown-id", gaps("--id", "voyager"), 2, "no observation 'voyager'"),
    Case("gaps-unknown-section", gaps("--section", "everything"), 2, "'everything' is not one of"),
    Case("subscribe-test-days-zero", ["subscribe", "test", "jwst", "--days", "0", "--config", "{cfg}",
                                      "--catalog", "{cat}"], 2, "--days"),
    Case("unknown-option", status("--verbose-please"), 2, "no such option"),
    Case("unknown-command", ["harvest-everything"], 2, "no such command"),
    # --- the catalog file -------------------------------------------------------------------
    Case("run-catalog-in-missing-dir", ["run", "--config", "{cfg}", "--catalog",
                                        "{dir}/nowhere/c.db"], 1, "does not exist"),
    Case("status-catalog-in-missing-dir", ["status", "--config", "{cfg}", "--catalog",
                                           "{dir}/nowhere/c.db"], 1, "no catalog here"),
    Case("sql-no-catalog", ["sql", "--config", "{cfg}", "--catalog", "{dir}/none.db", "select 1"], 1,
         "no catalog here"),
    Case("status-zero-bytes", status(), 1, "is empty (0 bytes)", catalog="zero"),
    Case("sql-zero-bytes", sql("select * from products"), 1, "is empty (0 bytes)", catalog="zero"),
    Case("gaps-zero-bytes", gaps(), 1, "is empty (0 bytes)", catalog="zero"),
    Case("export-zero-bytes", ["export", "parquet", "--config", "{cfg}", "--catalog", "{cat}",
                               "{dir}/out"], 1, "is empty (0 bytes)", catalog="zero"),
    Case("subscribe-list-zero-bytes", ["subscribe", "list", "--config", "{cfg}", "--catalog", "{cat}"],
         1, "is empty (0 bytes)", catalog="zero"),
    Case("alerts-list-zero-bytes", ["alerts", "list", "--config", "{cfg}", "--catalog", "{cat}"], 1,
         "is empty (0 bytes)", catalog="zero"),
    Case("sql-text-file", sql("select 1"), 1, "not an SQLite file", catalog="text"),
    Case("run-text-file", run(), 1, "not an SQLite file", catalog="text"),
    Case("status-directory", status(), 1, "is a directory", catalog="dir"),
    Case("run-directory", run(), 1, "is a directory", catalog="dir"),
    Case("status-damaged", status(), 1, "is damaged", catalog="damaged"),
    Case("sql-damaged", sql("select * from products"), 1, "is damaged", catalog="damaged"),
    Case("gaps-damaged", gaps(), 1, "is damaged", catalog="damaged"),
    Case("export-damaged", ["export", "parquet", "--config", "{cfg}", "--catalog", "{cat}",
                            "{dir}/out"], 1, "is damaged", catalog="damaged"),
    Case("run-damaged", run(), 1, "is damaged", catalog="damaged"),
    Case("subscribe-add-damaged", add("x", "--stdout"), 1, "is damaged", catalog="damaged"),
    Case("run-future-schema", run(), 1, "newer than this harvester", catalog="future"),
    # --- the chart --------------------------------------------------------------------------
    Case("plot-into-missing-dir", gaps("--plot", "{dir}/charts/gaps.svg"), 2, "does not exist"),
    Case("plot-png", gaps("--plot", "{dir}/gaps.png"), 2, "written as SVG (.svg) or as an HTML page"),
    Case("plot-no-extension", gaps("--plot", "{dir}/gaps"), 2, "written as SVG"),
    Case("plot-onto-a-directory", gaps("--plot", "{dir}/charts.svg"), 2, "is a directory",
         files={"charts.svg/keep": ""}),
    # --- user SQL ---------------------------------------------------------------------------
    Case("sql-delete", sql("delete from products"), 2, "read-only"),
    Case("sql-with-delete", sql("with x as (select 1) delete from products"), 2, "read-only"),
    Case("sql-attach", sql("attach database '{dir}/x.db' as x"), 2, "read-only"),
    Case("sql-vacuum-into", sql("vacuum into '{dir}/copy.db'"), 2, "read-only"),
    Case("sql-writable-schema", sql("pragma writable_schema = 1"), 2, "read-only"),
    Case("sql-load-extension", sql("select load_extension('/tmp/evil.so')"), 2, "load_extension"),
    Case("sql-two-statements", sql("select 1; select 2"), 2, "one statement"),
    Case("sql-syntax", sql("selec * from products"), 2, "syntax error"),
    Case("sql-runaway", sql("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                            "SELECT count(*) FROM c", "--time-limit", "1"), 2,
         "ran past its time limit of 1 s"),
    Case("sql-huge-value", sql("select zeroblob(500000000)"), 2, "over 64 MiB"),
    Case("sql-huge-string", sql("select group_concat(x) from (WITH RECURSIVE c(x) AS (SELECT "
                                "printf('%.1000c', 'x') UNION ALL SELECT x FROM c LIMIT 200000) "
                                "SELECT x FROM c)"), 2, "over 64 MiB"),
    Case("sql-endless-table", sql(ENDLESS, "--time-limit", "30"), 0, "showing the first 1,000 rows",
         stdout=True),
    # --- subscriptions ----------------------------------------------------------------------
    Case("predicate-runaway", add("hang", "--stdout", where=RUNAWAY), 2,
         "ran past its time limit of 1 s"),
    Case("predicate-syntax", add("x", "--stdout", where="kind = 'new' AND"), 2, "syntax error"),
    Case("predicate-statements", add("x", "--stdout", where="1; DROP TABLE products"), 2,
         "refused: ';'"),
    Case("predicate-closes-where", add("x", "--stdout", where="1) OR (1"), 2,
         "closes a parenthesis it never opened"),
    Case("predicate-empty", add("x", "--stdout", where="  "), 2, "the predicate is empty"),
    Case("predicate-unknown-column", add("x", "--stdout", where="colour = 'red'"), 2,
         "no such column: colour"),
    Case("predicate-reads-a-file", add("x", "--stdout", where="readfile('/etc/passwd') IS NULL"), 2,
         "readfile"),
    Case("predicate-loads-an-extension", add("x", "--stdout",
                                             where="load_extension('/tmp/evil.so') IS NULL"), 2,
         "may only read the catalog"),
    Case("webhook-metadata-address", add("x", "--webhook", "http://169.254.169.254/latest/"), 2,
         "link-local or cloud metadata range"),
    Case("webhook-mapped-metadata", add("x", "--webhook", "http://[::ffff:a9fe:a9fe]/"), 2,
         "link-local or cloud metadata range"),
    Case("webhook-not-http", add("x", "--webhook", "file:///etc/passwd"), 2,
         "only http(s) URLs are accepted"),
    Case("webhook-broken-url", add("x", "--webhook", "http://[::1/hook"), 2, "not a usable URL"),
    Case("webhook-bad-port", add("x", "--webhook", "http://example.org:99999/hook"), 2,
         "not a usable URL"),
    Case("webhook-newline", add("x", "--webhook", "http://example.org/a\nb"), 2,
         "spaces or control characters"),
    Case("email-not-an-address", add("x", "--email", "someone at example.org"), 2,
         "not an email address"),
    Case("subscription-name-with-space", add("my alerts", "--stdout"), 2, "subscription name"),
    Case("two-channels", add("x", "--stdout", "--email", "a@example.org"), 2,
         "give exactly one channel"),
    Case("no-channel", add("x"), 2, "give exactly one channel"),
    Case("atom-into-missing-dir", add("x", "--atom", "{dir}/feeds/3i.xml"), 2, "does not exist"),
    Case("secret-env-not-a-name", add("x", "--webhook", "http://127.0.0.1:9/h", "--secret-env",
                                      "MY SECRET"), 2, "not an environment variable name"),
    Case("digest-on-a-webhook", add("x", "--webhook", "http://127.0.0.1:9/h", "--digest", "day"), 2,
         "--digest applies to --email"),
    Case("subscription-exists", add("jwst", "--stdout"), 2, "exists already"),
    Case("subscribe-remove-unknown", ["subscribe", "remove", "nobody", "--config", "{cfg}",
                                      "--catalog", "{cat}"], 2, "no subscription named 'nobody'"),
    Case("subscribe-test-unknown", ["subscribe", "test", "nobody", "--config", "{cfg}",
                                    "--catalog", "{cat}"], 2, "no subscription named"),
    Case("alerts-send-unknown", ["alerts", "send", "--subscription", "nobody", "--config", "{cfg}",
                                 "--catalog", "{cat}"], 2, "no subscription named"),
    Case("alerts-retry-unknown", ["alerts", "retry", "--subscription", "nobody", "--config", "{cfg}",
                                  "--catalog", "{cat}"], 2, "no subscription named"),
    # --- export -----------------------------------------------------------------------------
    Case("export-over-a-foreign-directory", ["export", "parquet", "--config", "{cfg}", "--catalog",
                                             "{cat}", "{dir}/mine"], 1,
         "holds files that are not a previous export", files={"mine/thesis.tex": "precious"}),
    Case("export-onto-a-file", ["export", "parquet", "--config", "{cfg}", "--catalog", "{cat}",
                                "{dir}/thesis.tex"], 2, "is a file",
         files={"thesis.tex": "precious"}),
]


def render_config(case: Case) -> str:
    tables = {name: dict(keys) for name, keys in BASE_CONFIG.items()}
    for name, keys in case.config.items():
        tables.setdefault(name, {}).update(keys)
    return "".join(f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items() if v is not None)
                   for name, keys in tables.items())


def digest(path: Path) -> str | None:
    if not path.exists():
        return None
    if path.is_dir():
        return "dir:" + ",".join(sorted(p.name for p in path.iterdir()))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prepare(case: Case, root: Path, golden: str, port: int) -> tuple[list[str], Path, dict]:
    folder = root / case.id
    folder.mkdir()
    catalog = folder / "catalog.db"
    if case.catalog == "copy":
        shutil.copy(golden, catalog)
    elif case.catalog == "zero":
        catalog.touch()
    elif case.catalog == "text":
        catalog.write_text("These are my notes, not a catalog.\n")
    elif case.catalog == "dir":
        catalog.mkdir()
    elif case.catalog == "damaged":
        shutil.copy(golden, catalog)
        with open(catalog, "r+b") as handle:
            handle.seek(100)
            handle.write(b"\xde\xad\xbe\xef" * 900)
    elif case.catalog == "future":
        shutil.copy(golden, catalog)
        conn = sqlite3.connect(catalog)
        conn.execute("INSERT INTO schema_version VALUES (99, 'from the future', 'later')")
        conn.commit()
        conn.close()
    config = folder / "harvester.toml"
    if case.config_bytes is not None:
        config.write_bytes(case.config_bytes)
    else:
        config.write_text(render_config(case))
    for name, text in case.files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    values = {"cat": str(catalog), "cfg": str(config), "dir": str(folder), "port": str(port)}
    argv = list(case.argv)
    for key, value in values.items():
        argv = [part.replace("{" + key + "}", value) for part in argv]
    command = [sys.executable, "-m", "harvester.cli", *argv]
    if case.unreadable_config:
        config.chmod(0)
        if os.geteuid() == 0:  # root reads anything; in a user namespace it is not that root
            command = ["unshare", "-U", *command]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    env.update(case.env)
    return command, catalog, env


def execute(case: Case, root: Path, golden: str, port: int) -> dict[str, Any]:
    command, catalog, env = prepare(case, root, golden, port)
    before = digest(catalog)
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=90,
                              cwd=root / case.id)
        result = {"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
    except subprocess.TimeoutExpired as exc:
        result = {"rc": None, "stdout": exc.stdout, "stderr": f"timed out: {exc.stderr}"}
    result.update(before=before, after=digest(catalog))
    return result


@pytest.fixture(scope="module")
def golden(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp("golden")
    db = str(tmp / "catalog.db")
    with Sandbox(engine_scenario(), port=0) as sandbox:
        config = write_config(tmp, sandbox.base_urls, db)
        first = run_cli(["run", "--config", config], now=CLOCK_EARLY)
        assert first.returncode == 0, first.stderr
    added = run_cli(["subscribe", "add", "jwst", "--where", "kind = 'new'", "--stdout",
                     "--catalog", db])
    assert added.returncode == 0, added.stderr
    return db


@pytest.fixture(scope="module")
def outcomes(golden, tmp_path_factory) -> dict[str, dict[str, Any]]:
    root = tmp_path_factory.mktemp("bad-inputs")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = {case.id: pool.submit(execute, case, root, golden, busy.getsockname()[1])
                       for case in CASES}
            return {name: future.result() for name, future in futures.items()}
    finally:
        busy.close()


def test_the_cases_are_distinct():
    assert len({c.id for c in CASES}) == len(CASES) >= 100


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_ends_in_one_clear_line(case: Case, outcomes):
    result = outcomes[case.id]
    stderr = result["stderr"]
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"stderr should be one line:\n{stderr}"
    assert case.says.lower() in lines[0].lower(), lines[0]
    assert result["rc"] == case.status, stderr
    if not case.stdout:
        assert result["stdout"] == "", result["stdout"]
    assert result["after"] == result["before"], "the catalog changed"
