"""The optional compiled fast paths; everything else is declared in pyproject.toml.

``optional=True``: where no C compiler is at hand the package still installs, and runs the same
code paths in Python (``vedette.compiled``).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("vedette._speedups", ["vedette/_speedups.c"], optional=True)])
