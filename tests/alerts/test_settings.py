"""The [alerts] section and its [alerts.smtp] table: defaults, and one clear line per mistake."""

from __future__ import annotations

import pytest

from harvester.alerts.settings import parse
from harvester.config import parse_config
from harvester.errors import ConfigError


def test_an_empty_section_gives_the_documented_defaults():
    settings = parse({}, path="x.toml")
    assert (settings.send_after_run, settings.max_attempts, settings.backoff_initial,
            settings.feed_entries, settings.all_events_feed) == (True, 8, 60.0, 200, "")
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.security,
            settings.smtp.password_env) == ("localhost", 25, "none", "HARVESTER_SMTP_PASSWORD")


def test_a_full_config_reaches_the_settings():
    config = parse_config({"alerts": {"max_attempts": 3, "smtp": {
        "host": "smtp.example.org", "port": 587, "security": "starttls", "user": "bot",
        "sender": "bot@example.org"}}}, path="x.toml")
    assert config.alerts.max_attempts == 3
    assert (config.alerts.smtp.host, config.alerts.smtp.port, config.alerts.smtp.user) == (
        "smtp.example.org", 587, "bot")


@pytest.mark.parametrize("table, message", [
    ({"feed_entries": 0}, "[alerts] feed_entries: must be greater than 0"),
    ({"max_attempts": "3"}, "[alerts] max_attempts: expected an integer"),
    ({"colour": 1}, "[alerts] colour: unknown key"),
    ({"smtp": {"security": "ssl"}}, "[alerts.smtp] security: expected one of starttls, tls, none"),
    ({"smtp": {"port": 0}}, "[alerts.smtp] port: not a TCP port"),
    ({"smtp": {"sender": "nobody"}}, "[alerts.smtp] sender: not an email address"),
    ({"smtp": {"password": "hunter2"}}, "[alerts.smtp] password: unknown key"),
    ({"smtp": {"host": "smtp.example.org", "user": "bot"}}, "password would cross the network in clear"),
    ({"smtp": "localhost"}, "[alerts.smtp] must be a table"),
])
def test_a_mistake_is_one_line_naming_file_table_and_key(table, message):
    with pytest.raises(ConfigError) as caught:
        parse(table, path="x.toml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("x.toml: ")
