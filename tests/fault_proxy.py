"""An HTTP proxy in front of a Kinesis endpoint that injects the failures real Kinesis produces.

It speaks the Kinesis JSON protocol on 127.0.0.1. PutRecords calls are, at configured rates:
answered with a whole-call error (HTTP 400 ProvisionedThroughputExceededException or HTTP 500
InternalFailure) without writing anything; held past the client's read timeout (and then, half
of the time, still written, as a timed-out call to Kinesis may have been); or forwarded with a
share of entries failed per entry (``ErrorCode`` in the response, those entries not written).
So that every run meets every kind of fault, the first PutRecords calls get them in turn (a
timeout, a throttled call, an internal failure, failed entries) whenever their rate is non-zero.
Everything else is forwarded unchanged.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter

from tests.loopback_proxy import LoopbackProxy

PUT_RECORDS_TARGET = "Kinesis_20131202.PutRecords"


class FaultyKinesisProxy(LoopbackProxy):
    def __init__(
        self,
        upstream: str,
        *,
        seed: int,
        entry_failure_rate: float = 0.0,
        call_error_rate: float = 0.0,
        timeout_rate: float = 0.0,
        timeout_seconds: float = 1.0,
        call_error: tuple[int, str] | None = None,
        entry_error: str | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.rng_lock = threading.Lock()
        self.entry_failure_rate = entry_failure_rate
        self.call_error_rate = call_error_rate
        self.timeout_rate = timeout_rate
        self.timeout_seconds = timeout_seconds
        self.forced_call_error = call_error
        # The error code of every failed entry; None: a throttle 70 % of the time, else InternalFailure.
        self.forced_entry_error = entry_error
        self.injected: Counter[str] = Counter()
        self.calls = 0
        super().__init__(upstream)

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if headers.get("X-Amz-Target", "") == PUT_RECORDS_TARGET:
            return self._put_records(headers, body)
        return self.forward(headers, body)

    def _roll(self) -> float:
        with self.rng_lock:
            return self.rng.random()

    def _put_records(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if self.forced_call_error is not None:
            status, code = self.forced_call_error
            self.injected["call_error"] += 1
            return status, json.dumps({"__type": code, "message": "injected"}).encode()
        with self.rng_lock:
            self.calls += 1
            call = self.calls
        roll = self._roll()
        if call == 1 and self.timeout_rate:
            roll = 0.0
        elif call in (2, 3) and self.call_error_rate:
            roll = self.timeout_rate
        elif call == 4 and self.entry_failure_rate:
            roll = 1.0
        if roll < self.timeout_rate:
            self.injected["timeout"] += 1
            time.sleep(self.timeout_seconds)
            if self._roll() < 0.5:
                self.injected["timeout_written"] += 1
                self.forward(headers, body)
            return 0, b""
        if roll < self.timeout_rate + self.call_error_rate:
            self.injected["call_error"] += 1
            if call == 2 or (call != 3 and self._roll() < 0.5):
                return 400, b'{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for stream"}'
            return 500, b'{"__type":"InternalFailure","message":"injected"}'
        request = json.loads(body)
        entries = request["Records"]
        failures = {}
        for index in range(len(entries)):
            if (call == 4 and index == 0 and self.entry_failure_rate) or self._roll() < self.entry_failure_rate:
                code = self.forced_entry_error or (
                    "ProvisionedThroughputExceededException" if self._roll() < 0.7 else "InternalFailure"
                )
                failures[index] = {"ErrorCode": code, "ErrorMessage": "injected"}
        self.injected["entry_failure"] += len(failures)
        kept = [entry for index, entry in enumerate(entries) if index not in failures]
        written: list[dict[str, str]] = []
        if kept:
            status, payload = self.forward(headers, json.dumps({**request, "Records": kept}).encode())
            if status != 200:
                return status, payload
            written = json.loads(payload)["Records"]
        results = iter(written)
        merged = [failures[index] if index in failures else next(results) for index in range(len(entries))]
        response = {"FailedRecordCount": sum("ErrorCode" in r for r in merged), "Records": merged}
        return 200, json.dumps(response).encode()
