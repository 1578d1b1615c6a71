"""The event archive: GZIP JSON lines under time-partitioned keys (optionally then user-hash
partitioned), exactly as Firehose writes them.

Firehose writes the archive in the cloud; the importer (and the local pipeline) write the same
layout with ``ArchiveWriter``; training reads either with ``iter_events``. ``archive.layout`` is the
one definition of the key layout.
"""

from __future__ import annotations

from archive.exceptions import ArchiveError, ArchiveLocationError, ArchiveWriteError, PrefixExpressionError
from archive.layout import (
    FIREHOSE_ERROR_OUTPUT_PREFIX,
    FIREHOSE_PREFIX,
    USER_HASH_PREFIX,
    archive_prefix,
    evaluate_prefix,
    object_key,
    object_name,
)
from archive.reader import ArchiveObject, ArchivePart, ReadStats, iter_events, iter_records, list_window
from archive.writer import ArchiveWriter

__all__ = [
    "FIREHOSE_ERROR_OUTPUT_PREFIX",
    "FIREHOSE_PREFIX",
    "USER_HASH_PREFIX",
    "ArchiveError",
    "ArchiveLocationError",
    "ArchiveObject",
    "ArchivePart",
    "ArchiveWriteError",
    "ArchiveWriter",
    "PrefixExpressionError",
    "ReadStats",
    "archive_prefix",
    "evaluate_prefix",
    "iter_events",
    "iter_records",
    "list_window",
    "object_key",
    "object_name",
]
