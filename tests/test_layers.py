"""The package's layers: every import (at the top, inside a function or under
TYPE_CHECKING) points down this list, and only lint/ (and the daemon) reach the speed
machinery; the commands go through lint/api. docs/architecture.md explains the layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vaultsync"

# Lowest first: a module may import its own layer and any layer before it.
LAYERS = [
    "core",
    "io",
    "parse",
    "config",
    "vault",
    "rules",
    "output",
    "lint",
    "fixing",
    "daemon",
    "lsp",
    "commands",
    "cli",
]

# Imports that run back up a layer, each with why (at most two).
EXCEPTIONS: dict[tuple[str, str], str] = {
    # A config's `select`/`ignore`/`severity` name rules; whether a name is a rule is the
    # rule table's to say, and a bad one is reported as the config file's error. The rule
    # table (rules/codes.py) needs only core/, so this makes no circle.
    ("vaultsync.config.schema", "vaultsync.rules"): "rule selectors in the config",
}

# The speed machinery: caches, forks, codecs and the strategies built on them.
MACHINERY = {
    "vaultsync.lint.cache",
    "vaultsync.lint.codec",
    "vaultsync.lint.forks",
    "vaultsync.lint.shards",
    "vaultsync.lint.delta",
    "vaultsync.lint.results",
}
MACHINERY_USERS = ("vaultsync.lint", "vaultsync.daemon")  # commands go through lint.api


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The vaultsync modules `name` imports, wherever in the file the import is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in MODULES else base)
    return {m for m in out if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(name: str) -> int | None:
    """The layer of a module; None for the package root (it holds the version and the
    public API, which may use every layer; `from vaultsync import __version__` is allowed)."""
    parts = name.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return None
    return LAYERS.index(parts[1])


def test_every_module_is_in_a_layer() -> None:
    for name in MODULES:
        parts = name.split(".")
        assert len(parts) == 1 or parts[1] in LAYERS or parts[1] == "__main__", name


def test_imports_point_down_the_layers() -> None:
    upward = []
    for name, imported in GRAPH.items():
        mine = _layer(name)
        for other in imported:
            theirs = _layer(other)
            if mine is None or theirs is None:
                continue
            if theirs > mine and (name, other) not in EXCEPTIONS:
                upward.append(f"{name} -> {other}")
    assert upward == []
    assert len(EXCEPTIONS) <= 2


def test_the_package_root_imports_only_what_it_exports() -> None:
    # Modules read `__version__` from the root; the root must not import them back
    # at import time, or importing any module would load the whole package.
    root = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    top = [n for n in root.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert all(isinstance(n, ast.ImportFrom) and n.module == "__future__" for n in top)


def test_no_import_circles() -> None:
    # Among modules (inside a layer too): a circle is held apart only by import order.
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> None:
        if name in path:
            pytest.fail("import circle: " + " -> ".join([*path[path.index(name) :], name]))
        if name in done:
            return
        path.append(name)
        for other in sorted(GRAPH[name]):
            if _layer(other) is not None:
                visit(other)
        path.pop()
        done.add(name)

    for name in sorted(MODULES):
        visit(name)


def test_only_lint_reaches_the_speed_machinery() -> None:
    reaching = sorted(
        f"{name} -> {other}"
        for name, imported in GRAPH.items()
        for other in imported & MACHINERY
        if not name.startswith(MACHINERY_USERS)
    )
    assert reaching == []
