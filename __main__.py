"""Vedette's Pulumi program: read the configuration once, deploy the pipeline, export its outputs.

The scorer's settings names come from functions/scorer (the Lambda bundle's root), so the program
puts functions/ on the path as the bundle does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pulumi

ROOT = Path(__file__).resolve().parent
for folder in (ROOT, ROOT / "functions"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from stack.exceptions import StackError  # noqa: E402
from stack.pipeline import deploy  # noqa: E402
from stack.settings import StackSettings  # noqa: E402

try:
    settings = StackSettings.from_config(pulumi.Config())
    outputs = deploy(settings, ROOT, pulumi.get_stack())
except StackError as error:
    # One line (RunError prints no traceback) naming the key or the command that fixes it.
    raise pulumi.RunError(str(error)) from None
for output_name, value in outputs.items():
    pulumi.export(output_name, value)
