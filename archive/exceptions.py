"""Errors raised by the archive package."""

from __future__ import annotations


class ArchiveError(Exception):
    """Base class of every error this package raises."""


class PrefixExpressionError(ArchiveError, ValueError):
    """A Firehose prefix expression this code cannot evaluate; ``expression`` is the offending part."""

    def __init__(self, expression: str, reason: str) -> None:
        super().__init__(f"{expression!r}: {reason}")
        self.expression = expression
        self.reason = reason


class ArchiveLocationError(ArchiveError, ValueError):
    """An archive location is neither a local folder nor an ``s3://bucket[/prefix]`` URL."""

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"archive location {location!r}: {reason}")
        self.location = location
        self.reason = reason


class ArchiveWriteError(ArchiveError):
    """An object could not be written; ``key`` is where it was going, ``cause`` the reason."""

    def __init__(self, key: str, cause: str) -> None:
        super().__init__(f"could not write {key}: {cause}")
        self.key = key
        self.cause = cause
