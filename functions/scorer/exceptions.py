"""Errors the scorer raises."""

from __future__ import annotations


class ScorerError(Exception):
    """Base class of the scorer's errors."""


class MissingSettingError(ScorerError):
    """A setting the stack must provide is absent or malformed; raised at cold start."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"environment variable {name}: {reason}")
        self.name = name
        self.reason = reason


class TransientError(ScorerError):
    """A dependency failed in a way a retry can fix (throttling, 5xx, timeout)."""

    def __init__(self, dependency: str, detail: str) -> None:
        super().__init__(f"{dependency}: {detail}")
        self.dependency = dependency
        self.detail = detail


class NothingProcessedError(ScorerError):
    """Raised by the handler when no record of the batch could be processed, so Lambda retries it
    (and bisects, if the mapping says so)."""
