"""An HTTP proxy in front of a Kinesis endpoint that refuses PutRecords for throughput, and records
every attempt that reached it (with botocore's ``amz-sdk-request`` retry header).

``throttle_calls`` answers every PutRecords attempt with HTTP 400 ProvisionedThroughputExceededException;
otherwise each entry is refused (``ErrorCode`` at its index, not written) the first
``entry_refusals`` times its data reaches the proxy (None: every time) and forwarded after that.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass

from tests.loopback_proxy import LoopbackProxy

PUT_RECORDS_TARGET = "Kinesis_20131202.PutRecords"
THROTTLED = {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded for shard"}


@dataclass(frozen=True)
class Attempt:
    invocation_id: str
    retry_header: str  # amz-sdk-request, e.g. "attempt=2; max=3"
    entries: int


class RefusingKinesisProxy(LoopbackProxy):
    def __init__(self, upstream: str, *, throttle_calls: bool = False, entry_refusals: int | None = None) -> None:
        self.throttle_calls = throttle_calls
        self.entry_refusals = entry_refusals
        self.attempts: list[Attempt] = []
        self.refused: Counter[str] = Counter()  # by the entry's data
        self.lock = threading.Lock()
        super().__init__(upstream)

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if headers.get("X-Amz-Target", "") == PUT_RECORDS_TARGET:
            return self._put_records(headers, body)
        return self.forward(headers, body)

    def _put_records(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        request = json.loads(body)
        entries = request["Records"]
        with self.lock:
            self.attempts.append(
                Attempt(headers.get("amz-sdk-invocation-id", ""), headers.get("amz-sdk-request", ""), len(entries))
            )
            if self.throttle_calls:
                self.refused.update(entry["Data"] for entry in entries)
                return 400, json.dumps(
                    {"__type": THROTTLED["ErrorCode"], "message": THROTTLED["ErrorMessage"]}
                ).encode()
            refused = set()
            for index, entry in enumerate(entries):
                if self.entry_refusals is None or self.refused[entry["Data"]] < self.entry_refusals:
                    self.refused[entry["Data"]] += 1
                    refused.add(index)
        kept = [entry for index, entry in enumerate(entries) if index not in refused]
        written: list[dict[str, str]] = []
        if kept:
            status, payload = self.forward(headers, json.dumps({**request, "Records": kept}).encode())
            if status != 200:
                return status, payload
            written = json.loads(payload)["Records"]
        results = iter(written)
        merged = [THROTTLED if index in refused else next(results) for index in range(len(entries))]
        return 200, json.dumps({"FailedRecordCount": len(refused), "Records": merged}).encode()
