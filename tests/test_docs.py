"""The README is where users look: every command and every config key must be documented there."""

import dataclasses
import importlib
from pathlib import Path

import click
import pytest

from harvester.cli.main import cli
from harvester.config import SECTIONS, CatalogSettings, TargetSettings
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
    for section, module_name in SECTIONS.items():
        defaults = importlib.import_module(module_name).parse({}, path="-")
        keys += [(f"{section}.{name}", key) for name, key in dataclass_keys(defaults)]
    return sorted(set(keys))


def dataclass_keys(value: object, prefix: str = "") -> list[tuple[str, str]]:
    """Every key of a settings dataclass, nested tables included (e.g. [alerts.smtp] host)."""
    keys = []
    for f in dataclasses.fields(value):
        keys.append((prefix, f.name))
        inner = getattr(value, f.name)
        if dataclasses.is_dataclass(inner):
            keys += dataclass_keys(inner, f"{prefix}.{f.name}".strip("."))
    return keys


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
