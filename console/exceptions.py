"""What the console refuses, by name."""

from __future__ import annotations


class ConsoleError(Exception):
    """Base of the console's errors."""


class AlertNotFoundError(ConsoleError):
    """No alert record under ``partition`` with episode start ``start``."""

    def __init__(self, partition: str, start: int) -> None:
        super().__init__(f"no alert record for this entity and episode start {start}")
        self.partition = partition
        self.start = start


class InvalidVerdictError(ConsoleError):
    """A verdict form the console cannot store: ``field`` names what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
