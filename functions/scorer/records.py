"""From a Lambda Kinesis event to user records: base64 decoding and KPL deaggregation.

Lambda hands the function Kinesis records as they are stored; a KPL aggregate arrives as one record
holding many user events (Lambda does not deaggregate, nor does Powertools). Every user record keeps
the position and sequence number of the Kinesis record it came in, because that is the unit Lambda
checkpoints and retries.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from vedette.kpl import deaggregate


class UserRecord(NamedTuple):
    """One user event's bytes and where it sits in the batch (a tuple: one is made per event)."""

    record_index: int  # position of the outer Kinesis record in the batch
    sequence_number: str
    sub_sequence_number: int | None  # index inside the aggregate; None for a plain record
    partition_key: str
    data: bytes


@dataclass(frozen=True, slots=True)
class UndecodableRecord:
    """A Kinesis record whose bytes cannot be split into user records (bad base64, corrupt aggregate)."""

    record_index: int
    sequence_number: str
    partition_key: str
    data: bytes
    reason: str


@dataclass(frozen=True, slots=True)
class DecodedBatch:
    sequence_numbers: list[str]  # of the Kinesis records, in batch order
    shard_id: str
    user_records: list[UserRecord]
    undecodable: list[UndecodableRecord]
    arrivals: list[float | None] = field(default_factory=list)  # approximateArrivalTimestamp, per record

    def arrived_at(self, record_index: int, default: datetime) -> datetime:
        """When Kinesis received a record of the batch (``default`` when the event does not say)."""
        seconds = self.arrivals[record_index] if record_index < len(self.arrivals) else None
        return default if seconds is None else datetime.fromtimestamp(seconds, UTC)


# A NamedTuple's own constructor is a Python function; this builds the same tuple in half the time,
# which counts where one is made per event.
_new_tuple = tuple.__new__


def shard_of(event_id: str) -> str:
    """The shard in a Lambda record's ``eventID`` (``shardId-000000000000:4954...``)."""
    return event_id.split(":", 1)[0]


def decode_batch(event: Mapping[str, Any]) -> DecodedBatch:
    """Split a Lambda Kinesis event into user records, keeping each one's outer sequence number."""
    records: Sequence[Mapping[str, Any]] = event.get("Records") or []
    sequence_numbers: list[str] = []
    arrivals: list[float | None] = []
    user_records: list[UserRecord] = []
    undecodable: list[UndecodableRecord] = []
    shard_id = shard_of(records[0].get("eventID", "")) if records else ""
    for index, record in enumerate(records):
        kinesis = record["kinesis"]
        sequence_number = kinesis["sequenceNumber"]
        partition_key = kinesis.get("partitionKey", "")
        sequence_numbers.append(sequence_number)
        arrival = kinesis.get("approximateArrivalTimestamp")
        arrivals.append(float(arrival) if arrival is not None else None)
        try:
            # base64.b64decode(validate=True) without its copy of the text to bytes first
            data = binascii.a2b_base64(kinesis["data"], strict_mode=True)
        except (binascii.Error, ValueError) as error:
            raw = str(kinesis.get("data", "")).encode()
            undecodable.append(UndecodableRecord(index, sequence_number, partition_key, raw, f"bad base64: {error}"))
            continue
        try:
            parts = deaggregate(data, partition_key)
        except ValueError as error:
            undecodable.append(
                UndecodableRecord(index, sequence_number, partition_key, data, f"corrupt aggregate: {error}")
            )
            continue
        if not parts:  # well framed, but holding nothing: park it rather than acknowledge it silently
            undecodable.append(UndecodableRecord(index, sequence_number, partition_key, data, "empty aggregate"))
            continue
        for key, part_data, _, sub_sequence_number in parts:
            user_records.append(_new_tuple(UserRecord, (index, sequence_number, sub_sequence_number, key, part_data)))
    return DecodedBatch(sequence_numbers, shard_id, user_records, undecodable, arrivals)
