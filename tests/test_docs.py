"""The README is where users look: every command and every config key must be documented there."""

import dataclasses
from pathlib import Path

import click
import pytest

from harvester.cli import cli
from harvester.config import CatalogSettings, TargetSettings
from harvester.settings import HttpSettings, SourceSettings
from harvester.sources import known_kinds, settings_class

README = (Path(__file__).parent.parent / "README.md").read_text()


def command_names(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in group.commands.items():
        full = f"{prefix}{name}"
        if isinstance(command, click.Group):
            names += command_names(command, f"{full} ")
        else:
            names.append(full)
    return names


@pytest.mark.parametrize("command", command_names(cli))
def test_every_command_is_in_the_readme(command):
    assert f"harvester {command}" in README


def config_keys() -> list[tuple[str, str]]:
    keys = [("catalog", f.name) for f in dataclasses.fields(CatalogSettings)]
    keys += [("target", f.name) for f in dataclasses.fields(TargetSettings)]
    keys += [("http", f.name) for f in dataclasses.fields(HttpSettings)]
    keys += [("sources", f.name) for f in dataclasses.fields(SourceSettings)]
    for kind in known_kinds():
        keys += [(f"sources.{kind}", f.name) for f in dataclasses.fields(settings_class(kind))]
    return sorted(set(keys))


@pytest.mark.parametrize("table, key", config_keys())
def test_every_config_key_is_in_the_readme(table, key):
    assert f"`{key}`" in README, f"[{table}] {key} is not documented in README.md"


@pytest.mark.parametrize("command", command_names(cli))
def test_every_command_has_help_with_an_example(command):
    parts = command.split()
    target = cli
    for part in parts:
        target = target.commands[part]
    assert target.help and "Example" in target.help
