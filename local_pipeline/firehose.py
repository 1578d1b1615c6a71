"""What Firehose does with a Kinesis source, on loopback: read every shard, deaggregate, archive.

Firehose reads the stream itself, splits KPL aggregates into user records, buffers them by size and
interval, and writes GZIP objects of newline-terminated JSON lines under the time-based prefix, keyed
by the arrival time of the oldest record. ``archive.ArchiveWriter`` does the buffering and layout
(the same code that lays out imported history), so training reads what this writes exactly as it
reads what Firehose writes in the cloud.

With ``user_hash_buckets`` (the stack's ``archiveUserHashBuckets``), it does what dynamic
partitioning does: the deaggregated records go, as one invocation of Firehose's transformation
contract, to the partitioner Lambda's own handler (``archive_partitioner.handler.handle``); each
``Ok`` record is buffered in the partition its ``metadata.partitionKeys`` name (the
``user_hash=`` folder of ``archive.layout.USER_HASH_PREFIX``), and each ``ProcessingFailed`` one
is written under the error prefix (``errors/processing-failed/...``) as a JSON document carrying
its bytes in ``rawData``, as Firehose writes the records a transformation failed.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from archive import ArchiveWriter, archive_prefix
from archive.layout import error_output_prefix
from vedette.kpl import deaggregate

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # Firehose, like Lambda, reads each shard about once per second


def transformation_invocation(records: list[tuple[bytes, datetime]], delivery_stream_name: str) -> dict[str, Any]:
    """The event Firehose invokes a Lambda processor with for ``records`` (their bytes and arrival
    times): Firehose developer guide, "Required parameters for data transformation"."""
    return {
        "invocationId": str(uuid.uuid4()),
        "deliveryStreamArn": f"arn:aws:firehose:us-east-1:000000000000:deliverystream/{delivery_stream_name}",
        "region": "us-east-1",
        "records": [
            {
                "recordId": str(number),
                "approximateArrivalTimestamp": int(arrived_at.timestamp() * 1000),
                "data": base64.b64encode(data).decode("ascii"),
            }
            for number, (data, arrived_at) in enumerate(records)
        ],
    }


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
        user_hash_buckets: int = 0,
    ) -> None:
        self.kinesis = kinesis
        self.stream_name = stream_name
        self.delivery_stream_name = delivery_stream_name
        self.user_hash_buckets = user_hash_buckets
        self.writer = ArchiveWriter(
            f"s3://{bucket}/",
            stream_name=delivery_stream_name,
            prefix=archive_prefix(user_hash_buckets),
            buffer_bytes=buffer_bytes,
            buffer_seconds=buffer_seconds,
            s3_client=s3,
        )
        # Where Firehose writes what the partitioner failed (only with dynamic partitioning).
        self.failed_writer = (
            ArchiveWriter(
                f"s3://{bucket}/",
                stream_name=delivery_stream_name,
                prefix=error_output_prefix("processing-failed"),
                buffer_bytes=buffer_bytes,
                buffer_seconds=buffer_seconds,
                s3_client=s3,
            )
            if user_hash_buckets
            else None
        )
        self.records_read = 0
        self.corrupt_records = 0
        self.processing_failed = 0
        self._iterators: dict[str, str | None] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-firehose", daemon=True)
        self.error: BaseException | None = None

    @property
    def archived(self) -> int:
        """User records written to the bucket so far: under the events prefix, and those the
        partitioner failed under the error prefix (``archived_as_errors``)."""
        return self.writer.records_written + self.archived_as_errors

    @property
    def archived_as_errors(self) -> int:
        """User records the partitioner failed, written under ``errors/processing-failed/``."""
        return self.failed_writer.records_written if self.failed_writer is not None else 0

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
                if self.failed_writer is not None:
                    self.failed_writer.flush_due()
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
            delivered: list[tuple[bytes, datetime]] = []
            for record in page["Records"]:
                arrival = record["ApproximateArrivalTimestamp"]
                arrived_at = arrival if isinstance(arrival, datetime) else datetime.fromtimestamp(arrival, UTC)
                try:
                    users = deaggregate(record["Data"], record["PartitionKey"])
                except ValueError:
                    # Firehose delivers what it cannot deaggregate as is; so does this.
                    self.corrupt_records += 1
                    delivered.append((record["Data"], arrived_at))
                    continue
                delivered += [(user.data, arrived_at) for user in users]
            if self.user_hash_buckets:
                self._partition(delivered)
            else:
                for data, arrived_at in delivered:
                    self.writer.put(data, arrived_at)
            read += len(page["Records"])
        self.records_read += read
        return read

    def _partition(self, records: list[tuple[bytes, datetime]]) -> None:
        """Dynamic partitioning: the records through the partitioner's handler, in Firehose's
        transformation contract, then each to its partition or to the error prefix."""
        from archive_partitioner.handler import OK, handle

        invocation = transformation_invocation(records, self.delivery_stream_name)
        answers = {answer["recordId"]: answer for answer in handle(invocation, self.user_hash_buckets)["records"]}
        for record in invocation["records"]:
            answer = answers[record["recordId"]]
            arrived_at = datetime.fromtimestamp(record["approximateArrivalTimestamp"] / 1000, UTC)
            if answer["result"] == OK:
                self.writer.put(base64.b64decode(answer["data"]), arrived_at, answer["metadata"]["partitionKeys"])
                continue
            self.processing_failed += 1
            assert self.failed_writer is not None
            failure = {
                "attemptsMade": 1,
                "arrivalTimestamp": record["approximateArrivalTimestamp"],
                "errorCode": "Lambda.ProcessingFailed",
                "errorMessage": "The record was marked ProcessingFailed by the partitioner",
                "rawData": record["data"],
            }
            self.failed_writer.put(json.dumps(failure).encode(), arrived_at)

    def stop(self, drain: bool = True) -> None:
        """Stop polling; with ``drain``, read what is left in the stream and write it out first."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        if drain and self.error is None:
            while self.poll_once():
                pass
        self.writer.close()
        if self.failed_writer is not None:
            self.failed_writer.close()
