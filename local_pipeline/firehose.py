"""What Firehose does with a Kinesis source, on loopback: read every shard, deaggregate, archive.

Firehose reads the stream itself, splits KPL aggregates into user records, buffers them by size and
interval, and writes GZIP objects of newline-terminated JSON lines under the time-based prefix, keyed
by the arrival time of the oldest record. ``archive.ArchiveWriter`` does the buffering and layout
(the same code that lays out imported history), so training reads what this writes exactly as it
reads what Firehose writes in the cloud.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from archive import ArchiveWriter
from vedette.kpl import deaggregate

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # Firehose, like Lambda, reads each shard about once per second


class LocalFirehose:
    """Archives a stream into ``s3://bucket/`` through ``ArchiveWriter`` on a background thread."""

    def __init__(
        self,
        kinesis: Any,
        s3: Any,
        stream_name: str,
        bucket: str,
        *,
        delivery_stream_name: str,
        buffer_bytes: int,
        buffer_seconds: float,
    ) -> None:
        self.kinesis = kinesis
        self.stream_name = stream_name
        self.writer = ArchiveWriter(
            f"s3://{bucket}/",
            stream_name=delivery_stream_name,
            buffer_bytes=buffer_bytes,
            buffer_seconds=buffer_seconds,
            s3_client=s3,
        )
        self.records_read = 0
        self.corrupt_records = 0
        self._iterators: dict[str, str | None] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-firehose", daemon=True)
        self.error: BaseException | None = None

    @property
    def archived(self) -> int:
        """User records written to the bucket so far."""
        return self.writer.records_written

    def start(self) -> LocalFirehose:
        for shard in self.kinesis.list_shards(StreamName=self.stream_name)["Shards"]:
            self._iterators[shard["ShardId"]] = self.kinesis.get_shard_iterator(
                StreamName=self.stream_name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                read = self.poll_once()
                self.writer.flush_due()
                if not read:
                    self._stop.wait(POLL_SECONDS)
        except BaseException as error:  # surfaced to the demo, which reports it and stops
            self.error = error
            logger.exception("local Firehose stopped")

    def poll_once(self) -> int:
        """One GetRecords per shard; returns how many Kinesis records were read."""
        read = 0
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            page = self.kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            self._iterators[shard_id] = page.get("NextShardIterator")
            for record in page["Records"]:
                arrival = record["ApproximateArrivalTimestamp"]
                arrived_at = arrival if isinstance(arrival, datetime) else datetime.fromtimestamp(arrival, UTC)
                try:
                    users = deaggregate(record["Data"], record["PartitionKey"])
                except ValueError:
                    # Firehose delivers what it cannot deaggregate as is; so does this.
                    self.corrupt_records += 1
                    self.writer.put(record["Data"], arrived_at)
                    continue
                for user in users:
                    self.writer.put(user.data, arrived_at)
            read += len(page["Records"])
        self.records_read += read
        return read

    def stop(self, drain: bool = True) -> None:
        """Stop polling; with ``drain``, read what is left in the stream and write it out first."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        if drain and self.error is None:
            while self.poll_once():
                pass
        self.writer.close()
