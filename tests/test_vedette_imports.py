"""The producer library's modules import on their own, and none imports another that imports it back.

``vedette.producer`` parks failed events with ``vedette.deadletter``, and the replay command
(``vedette.deadletter.__main__``) makes a producer: the command lives apart from the package so the
two never import each other. These tests keep it so for every module, this checkout's copy.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PRODUCERS = Path(__file__).resolve().parent.parent / "producers"


def module_names() -> dict[str, Path]:
    """Every module of the library by its dotted name (a package by its own name)."""
    names = {}
    for path in sorted((PRODUCERS / "vedette").rglob("*.py")):
        parts = path.relative_to(PRODUCERS).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported_at_load(path: Path, modules: dict[str, Path]) -> set[str]:
    """The library's modules that ``path`` imports when it loads (its top-level imports, not
    those inside functions or under ``TYPE_CHECKING``)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        statements = node.body if isinstance(node, ast.Try) else [node]
        for statement in statements:
            if isinstance(statement, ast.Import):
                found |= {alias.name for alias in statement.names}
            elif isinstance(statement, ast.ImportFrom) and statement.module:
                for alias in statement.names:
                    submodule = f"{statement.module}.{alias.name}"
                    found.add(submodule if submodule in modules else statement.module)
    return found & set(modules)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle of ``graph``, as the path that closes it."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            found.append([*path[path.index(name) :], name])
            return
        if name in done:
            return
        for imported in sorted(graph[name]):
            visit(imported, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    return found


MODULES = module_names()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_module_imports_first_in_a_fresh_interpreter(name: str) -> None:
    # GIVEN a fresh interpreter with this checkout's library first on the path, warnings as errors
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PRODUCERS), os.environ.get("PYTHONPATH", "")])}
    script = f"import importlib; print(importlib.import_module({name!r}).__file__)"
    # WHEN the module is the first thing it imports
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], env=environment, capture_output=True, text=True, check=False
    )
    # THEN it loads, from this checkout
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == MODULES[name]


def test_no_two_modules_import_each_other_when_they_load() -> None:
    # GIVEN what each module imports of the library as it loads
    graph = {name: imported_at_load(path, MODULES) for name, path in MODULES.items()}
    assert "vedette.deadletter" in graph["vedette.producer"]
    assert graph["vedette.deadletter.__main__"] >= {"vedette.deadletter", "vedette.producer"}
    # THEN no chain of those imports comes back to where it started
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    # GIVEN the dead-letter package importing the producer back, as it once risked doing
    graph = {name: imported_at_load(path, MODULES) for name, path in MODULES.items()}
    graph["vedette.deadletter"] = graph["vedette.deadletter"] | {"vedette.producer"}
    # THEN the check reports the cycle through both
    assert [set(cycle) for cycle in cycles(graph)] == [{"vedette.deadletter", "vedette.producer"}]
