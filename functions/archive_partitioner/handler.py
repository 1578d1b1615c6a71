"""Firehose's Lambda data transformation for dynamic partitioning: each record back unchanged,
with the bucket of its user's hash as the partition key ``user_hash``.

Firehose (reading the stream, having split the producer's KPL aggregates: a transforming delivery
stream deaggregates before it invokes the function) sends
``{"invocationId", "deliveryStreamArn", "records": [{"recordId", "approximateArrivalTimestamp",
"data" (base64), ...}]}`` and takes back, for every record, ``{"recordId", "result", "data",
"metadata": {"partitionKeys": {...}}}`` (Firehose developer guide: "Required parameters for data
transformation", "Understand partitioning keys"). A record that is not a valid event (the event
contract, ``vedette.events.decode_event``) is ``ProcessingFailed``: Firehose writes it as it came
under the error prefix (``errors/processing-failed/...``), so nothing the stream accepted is lost,
and the archive's ``events/`` prefix holds events only.

The hash is training's (``model.sampling.user_hash``) and the bucket the layout's
(``archive.layout.user_hash_bucket_start``): what is written under ``user_hash=<b>`` is exactly
the users a sampler reading the buckets below b expects.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import Mapping
from typing import Any

from archive.layout import USER_HASH_KEY, check_user_hash_buckets, user_hash_bucket_start, user_hash_partition_value
from model.sampling import user_hash
from vedette.events import decode_event
from vedette.exceptions import InvalidEventError

logger = logging.getLogger("archive_partitioner")

# The environment variable the stack sets to archiveUserHashBuckets.
BUCKETS_VARIABLE = "VEDETTE_USER_HASH_BUCKETS"
OK = "Ok"
PROCESSING_FAILED = "ProcessingFailed"


class PartitionerSettingError(ValueError):
    """The function's configuration is unusable; the message names the variable."""


def buckets_from(environment: Mapping[str, str]) -> int:
    """The bucket count from ``VEDETTE_USER_HASH_BUCKETS``; raises ``PartitionerSettingError`` naming it."""
    text = environment.get(BUCKETS_VARIABLE, "").strip()
    try:
        buckets = check_user_hash_buckets(int(text))
    except ValueError as error:
        reason = str(error) if text.lstrip("-").isdigit() else f"must be an integer, got {text!r}"
        raise PartitionerSettingError(f"{BUCKETS_VARIABLE}: {reason}") from None
    if buckets == 0:
        raise PartitionerSettingError(f"{BUCKETS_VARIABLE}: 0 is the time-only layout, which needs no partitioner")
    return buckets


def partition_keys_of(event: Mapping[str, Any], buckets: int) -> dict[str, str]:
    """An event's partition keys: the first hash of its user's bucket, as the ``user_hash=`` folder names it."""
    return {USER_HASH_KEY: user_hash_partition_value(user_hash_bucket_start(user_hash(event), buckets))}


def partition(record: Mapping[str, Any], buckets: int) -> dict[str, Any]:
    """One Firehose record's answer: Ok with its partition key, or ProcessingFailed; ``data`` unchanged."""
    answer: dict[str, Any] = {"recordId": record["recordId"], "data": record["data"]}
    try:
        event = decode_event(base64.b64decode(record["data"], validate=True))
    except (InvalidEventError, binascii.Error, ValueError) as error:
        answer["result"] = PROCESSING_FAILED
        logger.warning("record %s is not an event: %s", record["recordId"], error)
        return answer
    answer["result"] = OK
    answer["metadata"] = {"partitionKeys": partition_keys_of(event, buckets)}
    return answer


def handle(event: Mapping[str, Any], buckets: int) -> dict[str, list[dict[str, Any]]]:
    """Firehose's invocation answered: one answer per record, in the order and with the ids it came."""
    return {"records": [partition(record, buckets) for record in event["records"]]}


BUCKETS = buckets_from(os.environ) if BUCKETS_VARIABLE in os.environ else None


def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, list[dict[str, Any]]]:
    """The entry point (``archive_partitioner.handler.lambda_handler``)."""
    if BUCKETS is None:
        # Fail every invocation (Firehose retries, then writes the batch under the error prefix)
        # with a message naming what to set, rather than archive under a wrong layout.
        raise PartitionerSettingError(f"{BUCKETS_VARIABLE} is not set (the stack sets it from archiveUserHashBuckets)")
    return handle(event, BUCKETS)
