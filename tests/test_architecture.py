"""The layout keeps data flowing one way (docs/architecture.md): no import cycles, and the lower
layers never import the higher ones. Imports inside functions count too: a lazy import is still
a dependency."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("harvester", "catalog")

# importer prefix -> imported prefixes it must never reach (the "never" column of the doc).
FORBIDDEN = {
    "catalog": ("requests", "harvester.http", "harvester.cli", "harvester.engine", "harvester.sources",
                "harvester.watch", "harvester.alerts", "harvester.web", "harvester.schedule",
                "harvester.news", "click"),
    "harvester.sources": ("catalog", "harvester.engine", "harvester.cli"),
    "harvester.names": ("harvester.engine", "harvester.cli", "harvester.sources"),
    "harvester.watch": ("harvester.engine", "harvester.cli", "harvester.alerts"),
    "harvester.alerts": ("harvester.engine", "harvester.cli", "harvester.watch"),
    "harvester.news": ("harvester.engine", "harvester.cli", "harvester.watch", "harvester.alerts",
                       "harvester.web", "requests"),
    "harvester.web": ("harvester.engine", "harvester.cli", "requests"),
    "harvester.sandbox": ("harvester.cli", "harvester.engine", "harvester.sources", "catalog",
                          "harvester.footprint", "harvester.ephemeris"),
    "harvester.footprint": ("catalog", "harvester.http", "harvester.sources", "harvester.engine",
                            "harvester.cli", "requests"),
    "harvester.ephemeris": ("harvester.sources", "harvester.engine", "harvester.cli",
                            "harvester.watch", "harvester.alerts"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every module `name` imports (anywhere in the file), resolved to project modules where the
    target is one, else kept as the top-level name (requests, click ...)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from package import module` depends on the module, not only on the package.
            found.update(f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known)
    found.discard(name)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    known = project_modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm over the project's modules; returns the components with a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_no_module_imports_another_that_imports_it_back(graph):
    assert strongly_connected(graph) == []


def test_the_cycle_check_finds_a_cycle_when_there_is_one():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("importer", sorted(FORBIDDEN))
def test_lower_layers_never_import_higher_ones(graph, importer):
    broken = sorted(
        f"{name} imports {target}"
        for name, targets in graph.items() if within(name, importer)
        for target in targets
        for banned in FORBIDDEN[importer] if within(target, banned)
    )
    assert broken == []


def test_nothing_imports_the_cli_but_the_cli(graph):
    assert sorted(name for name, targets in graph.items()
                  if not within(name, "harvester.cli")
                  and any(within(t, "harvester.cli") for t in targets)) == []


def test_command_modules_import_only_the_group_module_of_the_cli(graph):
    """The group is defined apart from the module that registers the commands, so a command
    module never imports back from its registrar."""
    for name, targets in graph.items():
        if within(name, "harvester.cli") and name not in ("harvester.cli.main", "harvester.cli.__main__"):
            assert {t for t in targets if within(t, "harvester.cli")} <= {"harvester.cli.group"}, name


def test_the_architecture_doc_names_every_package_in_the_tree():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:harvester|catalog)/(?:[a-z_]+/)*)`", doc))
    packages = {str(p.parent.relative_to(ROOT)) + "/" for package in PACKAGES
                for p in (ROOT / package).rglob("__init__.py")} - {"harvester/"}
    assert packages - named == set(), "packages missing from docs/architecture.md"
    assert named - packages == set(), "docs/architecture.md names packages that do not exist"
