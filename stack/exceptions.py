"""Errors raised while building the stack, each naming what is wrong."""

from __future__ import annotations


class StackError(Exception):
    """Base class of the stack's errors."""


class StackConfigError(StackError, ValueError):
    """A configuration key holds a value the pipeline cannot be deployed with."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"vedette:{key}: {reason}")
        self.key = key
        self.reason = reason


class BundleError(StackError):
    """The scorer's Lambda bundle cannot be built (a missing pin, wheel or module)."""
