"""Vedette's Pulumi program: read the configuration once, deploy the pipeline, export its outputs.

Pulumi runs it with the project's virtualenv (Pulumi.yaml: ``virtualenv: .venv``), where ``make
install`` installed the repository's packages (``stack``, and ``scorer`` whose settings names the
program uses).
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from stack.exceptions import StackError
from stack.pipeline import deploy
from stack.settings import StackSettings

ROOT = Path(__file__).resolve().parent

try:
    settings = StackSettings.from_config(pulumi.Config())
    outputs = deploy(settings, ROOT, pulumi.get_stack())
except StackError as error:
    # One line (RunError prints no traceback) naming the key or the command that fixes it.
    raise pulumi.RunError(str(error)) from None
for output_name, value in outputs.items():
    pulumi.export(output_name, value)
