"""The repository's packages are installed (``make install``: pyproject.toml and producers/pyproject.toml,
editable): every part imports by name from any folder, with no PYTHONPATH and no sys.path edits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_tree import ROOT, tracked_files

# The test suite is found by pytest from the repository's root, not installed.
NOT_INSTALLED = frozenset({"tests"})
# The documented `python -m` entry points, among them those that once put functions/ on sys.path.
ENTRY_POINTS = ("local_pipeline", "console", "model.train", "model.build", "stack.bundle", "loadtest", "archive.sql")


def without_pythonpath() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def top_level_packages() -> dict[str, Path]:
    """The tree's top-level packages (a folder with ``__init__.py`` in a folder without one), by name."""
    packages = {}
    for path in tracked_files():
        folder = path.parent
        if path.name == "__init__.py" and not (folder.parent / "__init__.py").is_file():
            packages[folder.name] = folder
    return packages


def test_every_package_of_the_tree_imports_from_any_folder_from_this_checkout(tmp_path: Path) -> None:
    # GIVEN the tree's top-level packages (the scorer's in functions/, the producer's in producers/)
    packages = {name: folder for name, folder in top_level_packages().items() if name not in NOT_INSTALLED}
    assert {"scorer", "vedette", "model", "stack", "console", "policies", "local_pipeline"} <= set(packages)
    # WHEN a Python started in an unrelated folder, with no PYTHONPATH, looks each up
    script = (
        "import importlib.util, json, sys\n"
        "print(json.dumps({name: importlib.util.find_spec(name).origin for name in sys.argv[1:]}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *sorted(packages)],
        cwd=tmp_path,
        env=without_pythonpath(),
        capture_output=True,
        text=True,
        check=False,
    )
    # THEN each is found, in its folder of this checkout
    assert result.returncode == 0, result.stderr
    found = {name: Path(origin).parent for name, origin in json.loads(result.stdout).items()}
    assert found == packages


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_entry_points_start_from_any_folder(module: str, tmp_path: Path) -> None:
    # WHEN `python -m <module> --help` runs in an unrelated folder, with no PYTHONPATH
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=tmp_path,
        env=without_pythonpath(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # THEN every module it imports is found and it prints its usage
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")


def test_the_policy_pack_starts_as_pulumi_runs_it(tmp_path: Path) -> None:
    # WHEN Pulumi's Python policy host runs the pack's folder as a program (only that folder on the
    # path), from an unrelated folder with no PYTHONPATH
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(ROOT / "policies")],
        cwd=tmp_path,
        env=without_pythonpath(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=30)
    # THEN it imports its rules and serves the analyzer: its first line is the port Pulumi connects to
    assert first_line.strip().isdigit(), errors
