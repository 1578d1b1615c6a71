"""Errors raised by the simulator, the importer and their command line."""

from __future__ import annotations


class TrafficError(Exception):
    """Base class of every error this package raises."""


class SimulationConfigError(TrafficError, ValueError):
    """A simulator setting is out of range; ``field`` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class LogFormatError(TrafficError, ValueError):
    """A log format string or time format cannot be compiled; ``format`` is the offending text."""

    def __init__(self, format: str, reason: str) -> None:
        super().__init__(f"log format {format!r}: {reason}")
        self.format = format
        self.reason = reason


class OutputError(TrafficError):
    """An output cannot take events (for example a stream that does not exist); the message says why."""
