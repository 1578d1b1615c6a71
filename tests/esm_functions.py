"""Lambda handlers for the event source mapping tests, run in a LambdaProcess (a separate process)."""

from __future__ import annotations

import base64
import os
from typing import Any


def _poisoned(record: dict[str, Any]) -> bool:
    return b"POISON" in base64.b64decode(record["kinesis"]["data"])


def report_poison(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Reports every poisoned record as a batch item failure."""
    failures = [record["kinesis"]["sequenceNumber"] for record in event["Records"] if _poisoned(record)]
    return {"batchItemFailures": [{"itemIdentifier": number} for number in failures]}


def raise_on_poison(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fails the whole invocation when the batch holds a poisoned record."""
    if any(_poisoned(record) for record in event["Records"]):
        raise ValueError("poisoned record in the batch")
    return {"batchItemFailures": []}


def report_or_raise_on_poison(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """As the scorer answers: reports the first poisoned record, and raises when it is the first of
    the batch (nothing processed)."""
    records = event["Records"]
    for index, record in enumerate(records):
        if _poisoned(record):
            if index == 0:
                raise ValueError("no record processed")
            return {"batchItemFailures": [{"itemIdentifier": record["kinesis"]["sequenceNumber"]}]}
    return {"batchItemFailures": []}


def malformed_once(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answers with an empty identifier on its first invocation, then succeeds."""
    global _answered
    if not globals().get("_answered"):
        _answered = True
        return {"batchItemFailures": [{"itemIdentifier": ""}]}
    return {"batchItemFailures": []}


def crash_on_poison(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Kills its execution environment (as an out-of-memory kill would) on a poisoned record."""
    if any(_poisoned(record) for record in event["Records"]):
        os._exit(137)
    return {"batchItemFailures": []}
