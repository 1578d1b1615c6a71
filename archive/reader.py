"""Read the archive back: user records in key order, or events validated with the contract.

Objects are listed in key order, which with the time-partitioned layout is the time order of
hours (within an hour, objects sort by stream name, then the oldest record's arrival time). Both
layouts of ``archive.layout`` are read: an hour's objects may also sit in ``user_hash=`` folders
below it, whose keys sort by hash within the hour; ``ArchiveObject.user_hash_start`` says which
users an object can hold, so a sampler reads only the buckets it needs (``model.sampling``).

Records are split on ``\\n``, the delimiter Firehose appends with the AppendDelimiterToRecord
processor. A delivery stream configured without it writes records back to back
(``{...}{...}``); a line that is not one JSON value is therefore split into consecutive JSON
values, and whatever cannot be decoded is yielded as one record (which ``iter_events`` counts as
invalid). Blank lines and a trailing ``\\r`` are ignored.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from archive.exceptions import PrefixExpressionError
from archive.layout import (
    FIREHOSE_PREFIX,
    MAX_BUFFER_SECONDS,
    arrival_of_key,
    evaluate_prefix,
    hour_floor,
    static_prefix,
    user_hash_start_of_key,
)
from archive.location import Location, make_s3_client, parse_location
from vedette.events import decode_event, format_timestamp
from vedette.exceptions import InvalidEventError

logger = logging.getLogger("archive.reader")

MAX_INVALID_EXAMPLES = 5
# How long after an event occurs its object may arrive (iter_events's default slack).
DEFAULT_LATE_ARRIVAL = timedelta(hours=1)
_EXAMPLE_CHARACTERS = 200
_decoder = json.JSONDecoder()


@dataclass
class ReadStats:
    """What a read went through; ``invalid_examples`` holds (key, reason, start of record)."""

    objects: int = 0
    bytes_read: int = 0  # of the objects read, as stored (compressed)
    records: int = 0
    events: int = 0
    invalid: int = 0
    skipped_keys: int = 0
    current_key: str = ""
    invalid_examples: list[tuple[str, str, str]] = field(default_factory=list)

    def add_invalid(self, key: str, reason: str, record: bytes) -> None:
        self.invalid += 1
        if len(self.invalid_examples) < MAX_INVALID_EXAMPLES:
            text = record[:_EXAMPLE_CHARACTERS].decode("utf-8", errors="replace")
            self.invalid_examples.append((key, reason, text))


def split_records(data: bytes) -> Iterator[bytes]:
    """The user records in an object's (decompressed) bytes; see the module docstring."""
    for line in data.split(b"\n"):
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line.strip():
            continue
        if b"}{" in line or b"} {" in line:
            yield from _split_concatenated(line)
        else:
            yield line


def _split_concatenated(line: bytes) -> Iterator[bytes]:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    else:
        yield line  # one JSON value that merely contains "}{" inside a string
        return
    text = line.decode("utf-8", errors="surrogateescape")
    position = 0
    while position < len(text):
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return
        try:
            _, end = _decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            yield text[position:].encode("utf-8", errors="surrogateescape")
            return
        yield text[position:end].encode("utf-8", errors="surrogateescape")
        position = end


@dataclass(frozen=True, slots=True)
class ArchiveObject:
    """One listed object: its key relative to the archive root, its stored size, and the arrival time
    its name carries (None when the key is not a Firehose object name)."""

    key: str
    size: int

    @property
    def arrival(self) -> datetime | None:
        return arrival_of_key(self.key)

    @property
    def user_hash_start(self) -> int | None:
        """The first user hash its bucket holds; None for an object of the time-only layout (every user)."""
        return user_hash_start_of_key(self.key)


def list_objects(location: Location, prefix: str, start: datetime | None, s3: Any) -> Iterator[ArchiveObject]:
    """Objects under the prefix's static part, in key order, with their sizes (from the hour of
    ``start`` on S3, when the prefix is made of time alone)."""
    base = static_prefix(prefix)
    if location.is_s3:
        arguments: dict[str, Any] = {"Bucket": location.bucket, "Prefix": location.root + base}
        if start is not None:
            # Keys of earlier hours sort before the start hour's prefix: skip them server-side
            # (only possible when the prefix is made of time alone).
            with contextlib.suppress(PrefixExpressionError):
                arguments["StartAfter"] = location.root + evaluate_prefix(prefix, hour_floor(start))
        for page in s3.get_paginator("list_objects_v2").paginate(**arguments):
            for item in page.get("Contents", []):
                yield ArchiveObject(item["Key"][len(location.root) :], int(item["Size"]))
        return
    top = os.path.join(location.root, *base.split("/"))
    if not os.path.isdir(top):
        return
    for folder, subfolders, files in os.walk(top):
        subfolders.sort()
        relative = os.path.relpath(folder, location.root).replace(os.sep, "/")
        for name in sorted(files):
            if not name.startswith("."):  # partial writes and hidden files
                key = f"{relative}/{name}" if relative != "." else name
                yield ArchiveObject(key, os.path.getsize(os.path.join(folder, name)))


def list_keys(location: Location, prefix: str, start: datetime | None, s3: Any) -> Iterator[str]:
    """Keys relative to the archive root, in key order (``list_objects`` without the sizes)."""
    for item in list_objects(location, prefix, start, s3):
        yield item.key


def list_window(
    location: str | os.PathLike[str],
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    prefix: str = FIREHOSE_PREFIX,
    s3_client: Any = None,
    endpoint_url: str | None = None,
    stats: ReadStats | None = None,
) -> Iterator[ArchiveObject]:
    """The Firehose objects that arrived in ``[start, end)``, in key order, as listed (keys that
    are not Firehose object names are counted in ``stats.skipped_keys``)."""
    where = parse_location(location)
    counts = stats if stats is not None else ReadStats()
    s3 = s3_client if s3_client is not None or not where.is_s3 else make_s3_client(endpoint_url)
    return _window(where, start, end, prefix, s3, counts)


def _window(
    where: Location, start: datetime | None, end: datetime | None, prefix: str, s3: Any, counts: ReadStats
) -> Iterator[ArchiveObject]:
    for item in list_objects(where, prefix, start, s3):
        arrival = item.arrival
        if arrival is None:
            counts.skipped_keys += 1
            continue
        if (start is None or arrival >= start) and (end is None or arrival < end):
            yield item


def arrival_window(
    start: datetime | None, end: datetime | None, late_arrival: timedelta
) -> tuple[datetime | None, datetime | None]:
    """The arrivals whose objects may hold events that occurred in ``[start, end)``: from
    ``MAX_BUFFER_SECONDS`` before ``start`` (an object named earlier may hold later records) to
    ``late_arrival`` after ``end`` (events reach the stream after they occur)."""
    return (
        None if start is None else start - timedelta(seconds=MAX_BUFFER_SECONDS),
        None if end is None else end + late_arrival,
    )


@dataclass(frozen=True)
class ArchivePart:
    """One of ``parts`` disjoint shares of the archive's objects, chosen by a hash of each key, so
    that ``parts`` readers (instances of one SageMaker Processing job) each read their share without
    talking to each other, and together read every object once."""

    index: int
    parts: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.parts:
            raise ValueError(f"part: index {self.index} is not within 0..{self.parts - 1}")

    @classmethod
    def parse(cls, text: str) -> ArchivePart:
        """``"i/n"``: the i-th (from 0) of n parts."""
        index, slash, parts = text.partition("/")
        if not slash or not index.isdigit() or not parts.isdigit() or int(parts) < 1:
            raise ValueError(f"part: {text!r} is not i/n, the i-th (from 0) of n parts")
        return cls(int(index), int(parts))

    def holds(self, key: str) -> bool:
        return zlib.crc32(key.encode()) % self.parts == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.parts}"


def _read_object(location: Location, key: str, s3: Any) -> bytes:
    if location.is_s3:
        body: bytes = s3.get_object(Bucket=location.bucket, Key=location.key(key))["Body"].read()
    else:
        with open(location.key(key), "rb") as handle:
            body = handle.read()
    return gzip.decompress(body) if key.endswith(".gz") else body


def iter_records(
    location: str | os.PathLike[str],
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    prefix: str = FIREHOSE_PREFIX,
    s3_client: Any = None,
    endpoint_url: str | None = None,
    stats: ReadStats | None = None,
    part: ArchivePart | None = None,
    objects: Iterable[ArchiveObject] | None = None,
) -> Iterator[bytes]:
    """Every user record (bytes, no delimiter) of the objects that arrived in ``[start, end)`` (of
    ``part``'s share of them, if given), or of ``objects`` (as ``list_window`` lists them) when given.

    ``location`` is the archive root: a local folder or ``s3://bucket[/prefix]``. An object's
    arrival time is the one in its name (its oldest record's). Keys that are not Firehose object
    names are skipped and counted in ``stats.skipped_keys``.
    """
    where = parse_location(location)
    counts = stats if stats is not None else ReadStats()
    s3 = s3_client if s3_client is not None or not where.is_s3 else make_s3_client(endpoint_url)
    for item in _window(where, start, end, prefix, s3, counts) if objects is None else objects:
        if part is not None and not part.holds(item.key):
            continue
        counts.objects += 1
        counts.bytes_read += item.size
        counts.current_key = item.key
        for record in split_records(_read_object(where, item.key, s3)):
            counts.records += 1
            yield record


def iter_events(
    location: str | os.PathLike[str],
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    late_arrival: timedelta = DEFAULT_LATE_ARRIVAL,
    prefix: str = FIREHOSE_PREFIX,
    s3_client: Any = None,
    endpoint_url: str | None = None,
    stats: ReadStats | None = None,
    part: ArchivePart | None = None,
    objects: Iterable[ArchiveObject] | None = None,
) -> Iterator[dict[str, Any]]:
    """Events (wire dicts, validated by ``normalize_event``) that occurred in ``[start, end)``.

    Objects are selected by arrival time with slack (``arrival_window``), or are ``objects`` when
    given (``list_window`` over that window, or the part of it a sampler chose). Invalid records
    are counted in ``stats`` with examples and logged at WARNING at the end; they never stop the read.
    """
    counts = stats if stats is not None else ReadStats()
    window_start, window_end = arrival_window(start, end, late_arrival)
    lower = None if start is None else format_timestamp(start)
    upper = None if end is None else format_timestamp(end)
    for record in iter_records(
        location,
        window_start,
        window_end,
        prefix=prefix,
        s3_client=s3_client,
        endpoint_url=endpoint_url,
        stats=counts,
        part=part,
        objects=objects,
    ):
        try:
            wire = decode_event(record)
        except InvalidEventError as error:
            counts.add_invalid(counts.current_key, str(error), record)
            continue
        occurred_at = wire["occurred_at"]
        # Canonical timestamps (fixed width, UTC, "Z") sort as strings in time order.
        if (lower is not None and occurred_at < lower) or (upper is not None and occurred_at >= upper):
            continue
        counts.events += 1
        yield wire
    if counts.invalid:
        logger.warning(
            "%d invalid record(s) skipped in %s; first: %s",
            counts.invalid,
            location,
            counts.invalid_examples[0][1] if counts.invalid_examples else "",
        )
