"""Every package the code imports is declared in pyproject.toml, and the Datasette it runs on is
the range `harvester serve` is tested with.

A package that arrives only as another's dependency (tabulate came with sqlite-utils) works
until that package drops it; then `harvester sql` breaks on a fresh machine. Imports are read
from the source (inside functions too: the CLI imports lazily), mapped to the distributions that
provide them, and looked up in [project] dependencies and the extras.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# Packages of the `web` extra: `harvester serve` alone imports them, after require_datasette().
WEB_ONLY = ("harvester/web/",)


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def declared() -> tuple[set[str], dict[str, set[str]]]:
    project = PYPROJECT["project"]
    main = {_name(r) for r in project["dependencies"]}
    extras = {extra: {_name(r) for r in reqs}
              for extra, reqs in project.get("optional-dependencies", {}).items()}
    return main, extras


def imported() -> dict[str, set[str]]:
    """Top-level third-party module -> the files importing it."""
    found: dict[str, set[str]] = {}
    for package in ("harvester", "catalog"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in ("harvester", "catalog"):
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def distribution_of(module: str) -> str:
    providers = importlib.metadata.packages_distributions().get(module)
    assert providers, f"{module} is imported but no installed distribution provides it"
    return providers[0].lower().replace("_", "-")


def test_every_imported_package_is_declared():
    main, extras = declared()
    anywhere = main.union(*extras.values())
    missing = {}
    for module, files in imported().items():
        dist = distribution_of(module)
        if dist not in anywhere:
            missing[dist] = sorted(files)
    assert missing == {}, f"imported but not declared in pyproject.toml: {missing}"


def test_what_every_command_needs_is_in_the_default_install():
    """Only `harvester serve` (web/) and an optional VOTable reader may need an extra."""
    main, extras = declared()
    for module, files in imported().items():
        dist = distribution_of(module)
        if dist in main:
            continue
        outside_web = [f for f in files if not f.startswith(WEB_ONLY)]
        if dist in extras.get("web", set()):
            assert outside_web == [], f"{dist} (web extra) is imported outside harvester/web: {outside_web}"
        else:
            assert any(dist in reqs for reqs in extras.values()), dist
            for f in outside_web:  # an optional package must be imported inside a function
                text = (ROOT / f).read_text(encoding="utf-8")
                assert f"\nimport {module}" not in text and f"\nfrom {module}" not in text, (dist, f)


def test_tabulate_is_a_declared_dependency_not_a_passenger():
    main, _ = declared()
    assert "tabulate" in main


def test_the_install_pins_the_datasette_range_serve_checks():
    from harvester.web.app import TESTED_DATASETTE

    (low, high) = TESTED_DATASETTE
    pinned = [f"datasette>={low[0]}.{low[1]},<{high[0]}.{high[1]}"]
    main = [r for r in PYPROJECT["project"]["dependencies"] if _name(r) == "datasette"]
    assert main == pinned
    # The `web` extra of earlier versions is an alias that must not ask for another range.
    web = [r for r in PYPROJECT["project"]["optional-dependencies"]["web"] if _name(r) == "datasette"]
    assert web == pinned


def test_the_installed_datasette_is_in_the_tested_range():
    pytest.importorskip("datasette")
    from datasette.version import __version__

    from harvester.web.app import TESTED_DATASETTE, _release

    low, high = TESTED_DATASETTE
    assert low <= _release(__version__) < high, __version__


def test_serve_refuses_an_untested_datasette_with_one_line(monkeypatch):
    pytest.importorskip("datasette")
    import datasette.version

    from harvester.errors import HarvesterError
    from harvester.web.app import require_datasette

    monkeypatch.setattr(datasette.version, "__version__", "1.0a19")
    with pytest.raises(HarvesterError, match=r"tested with Datasette 0.64 up to 0.66 .*this is Datasette 1.0a19"):
        require_datasette()
