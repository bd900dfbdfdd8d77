"""Fixtures of the alerts tests: sandbox archives, SMTP and webhook peers, a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harvester.sandbox import Sandbox
from tests.alerts.peers import SmtpPeer, WebhookPeer
from tests.harvest_helpers import config_text
from tests.scenarios import engine_scenario

SECRET_ENV = "HOOK_SECRET"
# Fast retries, so tests can walk the backoff with --now.
ALERTS_BLOCK = """
[alerts]
max_attempts = 3
backoff_initial = 60
backoff_max = 600
webhook_timeout = 5
{extra}
[alerts.smtp]
host = "127.0.0.1"
port = {smtp_port}
sender = "harvester@example.org"
timeout = 5
{smtp_extra}
"""


def harvester(args: list[str], *, now: str | None = None, env: dict[str, str] | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess:
    """`harvester ARGS` in a fresh process (the console script's entry point)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    full_env[SECRET_ENV] = "s3cret"
    if now:
        full_env["HARVESTER_NOW"] = now
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", "from harvester.cli.main import main; main()", *args],
                          capture_output=True, text=True, env=full_env, timeout=timeout)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def sandbox():
    with Sandbox(engine_scenario(), port=0) as sb:
        yield sb


@pytest.fixture
def smtp():
    peer = SmtpPeer().start()
    yield peer
    peer.stop()


@pytest.fixture
def hook():
    peer = WebhookPeer().start()
    yield peer
    peer.stop()


@pytest.fixture
def make_config(tmp_path: Path, sandbox, smtp):
    """Write a config for the sandbox and the SMTP peer; returns (config path, catalog path)."""

    def make(extra_alerts: str = "", name: str = "catalog.db") -> tuple[str, str]:
        db = str(tmp_path / name)
        text = config_text(sandbox.base_urls, db) + ALERTS_BLOCK.format(
            smtp_port=smtp.port, extra=extra_alerts, smtp_extra="")
        path = tmp_path / f"{name}.toml"
        path.write_text(text)
        return str(path), db

    return make
