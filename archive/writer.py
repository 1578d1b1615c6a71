"""Write records in the archive layout, buffering them as a Firehose delivery stream does."""

from __future__ import annotations

import gzip
import os
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from archive.exceptions import ArchiveLocationError, ArchiveWriteError
from archive.layout import (
    DEFAULT_BUFFER_BYTES,
    DEFAULT_BUFFER_SECONDS,
    DEFAULT_STREAM_NAME,
    DEFAULT_STREAM_VERSION,
    FIREHOSE_PREFIX,
    GZIP_EXTENSION,
    MAX_BUFFER_BYTES,
    MAX_BUFFER_SECONDS,
    object_key,
)
from archive.location import Location, make_s3_client, parse_location
from vedette.events import encode_event, normalize_event, parse_timestamp

RECORD_DELIMITER = b"\n"


class ArchiveWriter:
    """Buffers user records and writes them as GZIP objects of newline-terminated JSON lines.

    Each record gets ``\\n`` appended, the bytes Firehose writes with the AppendDelimiterToRecord
    processor. An object is written when the buffered (uncompressed) bytes reach
    ``buffer_bytes`` or when a record arrives ``buffer_seconds`` or more after the oldest buffered
    one, like Firehose's buffering hints; its key is the prefix evaluated at the oldest record's
    arrival time in UTC, then Firehose's object name (``archive.layout.object_key``).

    Arrival times drive the buffer, so history imported with ``put_event`` (arrival = the event's
    ``occurred_at``) is laid out as if it had streamed through Firehose. ``destination`` is a local
    folder or ``s3://bucket[/prefix]`` (``endpoint_url`` or ``AWS_ENDPOINT_URL_S3`` for emulators).

    Raises ``ArchiveLocationError`` at once when the bucket cannot be reached, and
    ``ArchiveWriteError`` when an object cannot be written.
    """

    def __init__(
        self,
        destination: str | os.PathLike[str],
        *,
        stream_name: str = DEFAULT_STREAM_NAME,
        stream_version: int = DEFAULT_STREAM_VERSION,
        prefix: str = FIREHOSE_PREFIX,
        buffer_bytes: int = DEFAULT_BUFFER_BYTES,
        buffer_seconds: float = DEFAULT_BUFFER_SECONDS,
        s3_client: Any = None,
        endpoint_url: str | None = None,
        uuid_factory: Callable[[], uuid.UUID] = uuid.uuid4,
    ) -> None:
        if not 1 <= buffer_bytes <= MAX_BUFFER_BYTES:
            raise ValueError(f"buffer_bytes: must be within 1-{MAX_BUFFER_BYTES}, got {buffer_bytes}")
        if not 0 <= buffer_seconds <= MAX_BUFFER_SECONDS:
            raise ValueError(f"buffer_seconds: must be within 0-{MAX_BUFFER_SECONDS}, got {buffer_seconds}")
        self.location: Location = parse_location(destination)
        self.stream_name = stream_name
        self.stream_version = stream_version
        self.prefix = prefix
        self.buffer_bytes = buffer_bytes
        self.buffer_seconds = buffer_seconds
        self._uuid_factory = uuid_factory
        self._s3 = s3_client
        if self.location.is_s3:
            if self._s3 is None:
                self._s3 = make_s3_client(endpoint_url)
            self._check_bucket()
        # One buffer per partition, as Firehose keeps with dynamic partitioning (one in all without).
        self._buffers: dict[tuple[tuple[str, str], ...], _Buffer] = {}
        self.written_keys: list[str] = []
        self.records_written = 0
        self._closed = False

    @property
    def buffered_records(self) -> int:
        return sum(len(buffer.chunks) for buffer in self._buffers.values())

    def put(
        self, record: bytes, arrival: datetime | None = None, partition_keys: Mapping[str, str] | None = None
    ) -> None:
        """Buffer one user record (its bytes, without delimiter) that arrived at ``arrival`` (now).

        ``partition_keys``: the record's keys under dynamic partitioning (what the partitioner
        returned in ``metadata.partitionKeys``), which the prefix's ``!{partitionKeyFromLambda:...}``
        take; records of different keys are buffered and written apart."""
        if self._closed:
            raise ValueError("ArchiveWriter is closed")
        moment = time.time() if arrival is None else _epoch(arrival)
        partition = tuple(sorted(partition_keys.items())) if partition_keys else ()
        buffer = self._buffers.get(partition)
        if buffer is not None and moment - buffer.oldest >= self.buffer_seconds:
            self._flush(partition)
            buffer = None
        if buffer is None:
            buffer = self._buffers[partition] = _Buffer(moment)
        buffer.chunks.append(record + RECORD_DELIMITER)
        buffer.size += len(record) + 1
        buffer.oldest = min(buffer.oldest, moment)
        if buffer.size >= self.buffer_bytes:
            self._flush(partition)

    def put_event(
        self,
        event: Mapping[str, Any],
        arrival: datetime | None = None,
        partition_keys: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Validate and encode an event with the contract, then buffer it.

        The arrival time defaults to the event's ``occurred_at`` (for history). Returns the wire dict.
        """
        wire = normalize_event(event)
        moment = parse_timestamp(wire["occurred_at"]) if arrival is None else arrival
        self.put(encode_event(wire), moment, partition_keys)
        return wire

    def flush_due(self, now: datetime | None = None) -> str | None:
        """Write each buffer whose oldest record is ``buffer_seconds`` old at ``now``; the last key
        written, or None."""
        moment = time.time() if now is None else _epoch(now)
        key = None
        for partition in [
            item for item, buffer in self._buffers.items() if moment - buffer.oldest >= self.buffer_seconds
        ]:
            key = self._flush(partition)
        return key

    def flush(self) -> str | None:
        """Write everything buffered, one object per partition; returns the last key (None when
        the buffers were empty)."""
        key = None
        for partition in list(self._buffers):
            key = self._flush(partition)
        return key

    def _flush(self, partition: tuple[tuple[str, str], ...]) -> str | None:
        buffer = self._buffers.get(partition)
        if buffer is None or not buffer.chunks:
            self._buffers.pop(partition, None)
            return None
        arrival = datetime.fromtimestamp(buffer.oldest, timezone.utc)
        key = object_key(
            arrival,
            self._uuid_factory(),
            prefix=self.prefix,
            stream_name=self.stream_name,
            stream_version=self.stream_version,
            extension=GZIP_EXTENSION,
            partition_keys=dict(partition),
        )
        # mtime=0 keeps the bytes a function of the records alone.
        body = gzip.compress(b"".join(buffer.chunks), compresslevel=6, mtime=0)
        self._write(key, body)
        # Dropped only once written: a write that fails leaves the records buffered for the next flush.
        del self._buffers[partition]
        self.records_written += len(buffer.chunks)
        self.written_keys.append(key)
        return key

    def _check_bucket(self) -> None:
        # Fail before buffering anything, not at the first flush minutes later.
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._s3.head_bucket(Bucket=self.location.bucket)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            raise ArchiveLocationError(str(self.location), f"bucket not reachable ({code or error})") from None
        except BotoCoreError as error:
            raise ArchiveLocationError(str(self.location), f"S3 not reachable ({error})") from None

    def _write(self, key: str, body: bytes) -> None:
        target = self.location.key(key)
        if self.location.is_s3:
            from botocore.exceptions import BotoCoreError, ClientError

            try:
                self._s3.put_object(Bucket=self.location.bucket, Key=target, Body=body)
            except (ClientError, BotoCoreError) as error:
                raise ArchiveWriteError(target, str(error)) from None
            return
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # Write then rename, so a reader never sees a partial object.
        partial = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.partial")
        with open(partial, "wb") as handle:
            handle.write(body)
        os.replace(partial, target)

    def close(self) -> None:
        """Write what is buffered and refuse further records."""
        if not self._closed:
            self.flush()
            self._closed = True

    def __del__(self) -> None:
        if getattr(self, "_closed", True) or not getattr(self, "_buffers", None):
            return
        warnings.warn(
            f"ArchiveWriter for {self.location} was garbage-collected with {self.buffered_records} record(s) "
            "buffered and not written; call close() or use 'with'",
            ResourceWarning,
            stacklevel=2,
        )

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass
class _Buffer:
    """One partition's buffered records: their bytes with delimiters, and the oldest arrival (epoch)."""

    oldest: float
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0


def _epoch(moment: datetime) -> float:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("arrival time must be timezone-aware")
    return moment.timestamp()
