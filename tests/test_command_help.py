"""Every command a user runs answers --help: argparse formats each option's help with %-formatting,
so a stray '%' in one (an Envoy format's %START_TIME%) crashed the backtest's --help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# (the module, the arguments before --help): the commands README.md and docs/ show
COMMANDS = [
    ("model.backtest", ()),
    ("model.build", ()),
    ("model.train", ()),
    ("model.evaluate", ()),
    ("model.lifecycle", ()),
    ("model.sample", ()),
    ("model.network", ()),
    ("traffic", ("import",)),
    ("traffic", ("simulate",)),
    ("local_pipeline", ()),
    ("loadtest", ()),
    ("console", ()),
    ("archive.sql", ()),
]


@pytest.mark.parametrize(("module", "before"), COMMANDS, ids=[" ".join((m, *b)) for m, b in COMMANDS])
def test_a_command_answers_help(module: str, before: tuple[str, ...]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module, *before, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("usage:")
    assert "Traceback" not in result.stderr
