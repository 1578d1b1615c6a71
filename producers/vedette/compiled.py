"""The optional compiled fast paths (``vedette/_speedups.c``), or ``None``.

The package compiles them when installed where a C compiler is at hand. Without one, or with the
environment variable ``VEDETTE_PURE_PYTHON=1``, every path is the Python one, which stays the
reference: the compiled code only repeats it faster, and the tests hold the two to the same bytes.
"""

from __future__ import annotations

import os
from types import ModuleType

PURE_PYTHON_VARIABLE = "VEDETTE_PURE_PYTHON"


def _load() -> ModuleType | None:
    if os.environ.get(PURE_PYTHON_VARIABLE, "") not in ("", "0"):
        return None
    try:
        from vedette import _speedups
    except ImportError:
        return None
    return _speedups


speedups = _load()
