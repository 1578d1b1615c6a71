"""Kinesis's per-shard write limits, in front of an emulator that lacks them (kinesalite, moto).

    python -m emulators.kinesis_limits --listen PORT --upstream PORT --limit-algo window|bucket [--stats FILE]

An HTTP proxy on 127.0.0.1. Every PutRecords and PutRecord entry is routed to its shard (the
``ExplicitHashKey``, else MD5 of the partition key, in the stream's hash key ranges, learned from
the upstream's ListShards on the first put) and checked against that shard's write limit: 1 MiB of
data and partition key, and 1,000 records, per second. An entry over the limit is not forwarded;
the answer carries ``ProvisionedThroughputExceededException`` at its index, as Kinesis answers
(PutRecord gets HTTP 400 with that type). Every other call passes through unchanged.

AWS does not document how it meters the limit, so both plausible meters are here:

- ``window``: a sliding one-second window over the admitted entries; no shard ever takes more than
  the limit in any second.
- ``bucket``: a token bucket holding one second's allowance, refilled continuously; after a quiet
  second a shard takes a full second's burst on top of the refill.

Counts per stream and shard (entries and bytes admitted and throttled, user records inside KPL
aggregates, the most offered and admitted in any one second), a timeline by arrival second, and
every put call (its arrival instant, what was admitted and throttled, and the SDK's invocation id
and attempt number from the ``amz-sdk-invocation-id`` and ``amz-sdk-request`` headers, so a client
can match its own log call by call) are served at ``GET /stats`` while it runs, and written to
``--stats`` as JSON when it stops (SIGTERM or SIGINT). The proxy is the referee of the producer's
pacing, so it shares no code with it.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import bisect
import hashlib
import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from email.message import Message
from typing import Any, NamedTuple, Protocol

from emulators.proxying import ProxyHandler, Upstream, serve_until_stopped

MIB = 1024 * 1024
# Kinesis's documented per-shard write limits (Kinesis Data Streams quotas).
SHARD_BYTES_PER_SECOND = MIB
SHARD_RECORDS_PER_SECOND = 1000
WINDOW_SECONDS = 1.0
LIMIT_ALGORITHMS = ("window", "bucket")
THROTTLED = "ProvisionedThroughputExceededException"
TARGET_PREFIX = "Kinesis_20131202."
# The KPL's aggregated record: magic, a protobuf AggregatedRecord, MD5 of the protobuf.
KPL_MAGIC = b"\xf3\x89\x9a\xc2"
KPL_DIGEST_BYTES = 16
KPL_RECORDS_FIELD_KEY = (3 << 3) | 2  # field 3 (records), length-delimited
# Put calls kept per stream for /stats, the newest (a minute of a busy load test is a few thousand).
MAX_CALLS_KEPT = 100_000
# Headers every AWS SDK sends (botocore since 1.19): one id per API call, kept across its retries,
# and the attempt number among them.
INVOCATION_ID_HEADER = "amz-sdk-invocation-id"
SDK_REQUEST_HEADER = "amz-sdk-request"


def decoded_length(base64_text: str) -> int:
    """Bytes a base64 text decodes to, without decoding it."""
    padding = len(base64_text) - len(base64_text.rstrip("="))
    return len(base64_text) * 3 // 4 - padding


def hash_key_of(partition_key: str) -> int:
    """Kinesis's hash of a partition key: MD5 of its UTF-8 bytes as an unsigned 128-bit integer."""
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")


def _read_varint(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, offset
        shift += 7


def user_records_in(base64_data: str) -> int:
    """User records in one Kinesis record: the count inside a KPL aggregate, else 1."""
    # Eight base64 characters are six bytes: enough to see the magic before decoding the rest.
    try:
        if not base64.b64decode(base64_data[:8]).startswith(KPL_MAGIC):
            return 1
        data = base64.b64decode(base64_data)
    except (binascii.Error, ValueError):
        return 1
    message = data[len(KPL_MAGIC) : -KPL_DIGEST_BYTES]
    if hashlib.md5(message).digest() != data[-KPL_DIGEST_BYTES:]:
        return 1  # not an aggregate after all: consumers would read it as one record
    count = offset = 0
    try:
        while offset < len(message):
            key, offset = _read_varint(message, offset)
            if key & 7 != 2:  # every top-level field of AggregatedRecord is length-delimited
                return 1
            length, offset = _read_varint(message, offset)
            offset += length
            count += key == KPL_RECORDS_FIELD_KEY
    except IndexError:
        return 1
    return count or 1


class Limiter(Protocol):
    def admit(self, size: int, now: float) -> bool:
        """Take ``size`` bytes and one record from the shard's allowance at ``now``, if it has them."""


class SlidingWindow:
    """At most ``max_bytes`` and ``max_records`` among the entries admitted in the last second."""

    def __init__(self, max_bytes: int, max_records: int) -> None:
        self.max_bytes = max_bytes
        self.max_records = max_records
        self.admitted: deque[tuple[float, int]] = deque()  # (arrival, size), oldest first
        self.bytes = 0

    def admit(self, size: int, now: float) -> bool:
        while self.admitted and self.admitted[0][0] <= now - WINDOW_SECONDS:
            self.bytes -= self.admitted.popleft()[1]
        if self.bytes + size > self.max_bytes or len(self.admitted) + 1 > self.max_records:
            return False
        self.admitted.append((now, size))
        self.bytes += size
        return True


class TokenBucket:
    """Buckets of bytes and records, each holding one second's allowance, refilled continuously."""

    def __init__(self, max_bytes: int, max_records: int) -> None:
        self.max_bytes = max_bytes
        self.max_records = max_records
        self.bytes = float(max_bytes)
        self.records = float(max_records)
        self.refilled_at: float | None = None

    def admit(self, size: int, now: float) -> bool:
        if self.refilled_at is not None:
            elapsed = now - self.refilled_at
            self.bytes = min(self.max_bytes, self.bytes + elapsed * self.max_bytes)
            self.records = min(self.max_records, self.records + elapsed * self.max_records)
        self.refilled_at = now
        if size > self.bytes or self.records < 1:
            return False
        self.bytes -= size
        self.records -= 1
        return True


class BusiestSecond:
    """The most bytes and entries seen within any one second (checked at every arrival)."""

    def __init__(self) -> None:
        self.recent: deque[tuple[float, int]] = deque()
        self.bytes = 0
        self.max_bytes = 0
        self.max_entries = 0

    def add(self, size: int, now: float) -> None:
        while self.recent and self.recent[0][0] <= now - WINDOW_SECONDS:
            self.bytes -= self.recent.popleft()[1]
        self.recent.append((now, size))
        self.bytes += size
        self.max_bytes = max(self.max_bytes, self.bytes)
        self.max_entries = max(self.max_entries, len(self.recent))


class ShardLedger:
    def __init__(self, shard_id: str, starting_hash_key: int, limiter: Limiter) -> None:
        self.shard_id = shard_id
        self.starting_hash_key = starting_hash_key
        self.limiter = limiter
        self.offered = BusiestSecond()
        self.admitted = BusiestSecond()
        self.admitted_entries = 0
        self.admitted_bytes = 0
        self.admitted_user_records = 0
        self.throttled_entries = 0
        self.throttled_bytes = 0

    def summary(self) -> dict[str, Any]:
        return {
            "admitted_entries": self.admitted_entries,
            "admitted_bytes": self.admitted_bytes,
            "admitted_user_records": self.admitted_user_records,
            "throttled_entries": self.throttled_entries,
            "throttled_bytes": self.throttled_bytes,
            "max_offered_bytes_in_any_second": self.offered.max_bytes,
            "max_offered_entries_in_any_second": self.offered.max_entries,
            "max_admitted_bytes_in_any_second": self.admitted.max_bytes,
            "max_admitted_entries_in_any_second": self.admitted.max_entries,
        }


COUNTS = ("admitted_entries", "admitted_bytes", "admitted_user_records", "throttled_entries", "throttled_bytes")


class Caller(NamedTuple):
    """A put call as the SDK names it: its invocation id and attempt number (None when not sent)."""

    invocation_id: str | None = None
    attempt: int | None = None


def caller_of(headers: Message | Mapping[str, str]) -> Caller:
    """The ``Caller`` of a request's headers (``amz-sdk-request: ttl=...; attempt=2; max=3``)."""
    attempt = None
    for part in headers.get(SDK_REQUEST_HEADER, "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == "attempt" and value.isdigit():
            attempt = int(value)
    return Caller(headers.get(INVOCATION_ID_HEADER), attempt)


UNNAMED = Caller()  # a call without the SDK's headers (another client, a test)


class StreamLedger:
    def __init__(self, name: str, shards: list[ShardLedger]) -> None:
        self.name = name
        self.shards = sorted(shards, key=lambda shard: shard.starting_hash_key)
        self._starts = [shard.starting_hash_key for shard in self.shards]
        # Arrival second (Unix time) -> shard id -> counts, in the order of COUNTS.
        self.timeline: dict[int, dict[str, list[int]]] = {}
        self.calls: deque[dict[str, Any]] = deque(maxlen=MAX_CALLS_KEPT)
        self.calls_seen = 0

    def shard_for(self, hash_key: int) -> ShardLedger:
        return self.shards[bisect.bisect_right(self._starts, hash_key) - 1]

    def summary(self) -> dict[str, Any]:
        shards = {shard.shard_id: shard.summary() for shard in self.shards}
        totals = {name: sum(shard[name] for shard in shards.values()) for name in COUNTS}
        timeline = []
        for second, cells in sorted(self.timeline.items()):
            row: dict[str, Any] = {"second": second}
            row.update({name: sum(cell[index] for cell in cells.values()) for index, name in enumerate(COUNTS)})
            row["shards"] = {shard_id: dict(zip(COUNTS, cell, strict=True)) for shard_id, cell in cells.items()}
            timeline.append(row)
        return {
            "shards": shards,
            "totals": totals,
            "timeline": timeline,
            "calls": list(self.calls),
            "calls_not_kept": self.calls_seen - len(self.calls),
        }


class Entry:
    """One PutRecords entry as the limiter sees it."""

    __slots__ = ("hash_key", "size", "user_records")

    def __init__(self, request_entry: dict[str, Any]) -> None:
        partition_key = request_entry.get("PartitionKey", "")
        data = request_entry.get("Data", "")
        # Kinesis counts the data blob and the partition key toward a shard's throughput.
        self.size = decoded_length(data) + len(partition_key.encode())
        explicit = request_entry.get("ExplicitHashKey")
        self.hash_key = int(explicit) if explicit is not None else hash_key_of(partition_key)
        self.user_records = user_records_in(data)


class ShardLimits:
    """The limiters and ledgers of every stream seen, behind one lock."""

    def __init__(self, algorithm: str, shard_bytes: int, shard_records: int) -> None:
        if algorithm not in LIMIT_ALGORITHMS:
            raise ValueError(f"limit algorithm must be one of {LIMIT_ALGORITHMS}, got {algorithm!r}")
        self.algorithm = algorithm
        self.shard_bytes = shard_bytes
        self.shard_records = shard_records
        self.streams: dict[str, StreamLedger] = {}
        self.lock = threading.Lock()

    def new_limiter(self) -> Limiter:
        if self.algorithm == "window":
            return SlidingWindow(self.shard_bytes, self.shard_records)
        return TokenBucket(self.shard_bytes, self.shard_records)

    def learn(self, name: str, list_shards: Callable[[dict[str, Any]], dict[str, Any]]) -> StreamLedger:
        """The stream's ledger, built from its open shards the first time it is seen."""
        with self.lock:
            known = self.streams.get(name)
        if known is not None:
            return known
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamName": name}
        while True:
            page = list_shards(request)
            shards.extend(page["Shards"])
            if not page.get("NextToken"):
                break
            request = {"NextToken": page["NextToken"]}
        ledger = StreamLedger(
            name,
            [
                ShardLedger(shard["ShardId"], int(shard["HashKeyRange"]["StartingHashKey"]), self.new_limiter())
                for shard in shards
                if "EndingSequenceNumber" not in shard["SequenceNumberRange"]
            ],
        )
        with self.lock:
            return self.streams.setdefault(name, ledger)

    def decide(
        self, ledger: StreamLedger, entries: list[Entry], arrived: float, caller: Caller = UNNAMED
    ) -> list[ShardLedger | None]:
        """Admit or throttle each entry of one call, all at one instant; None for admitted ones,
        else the shard that throttled it. The timeline counts them in the second the call arrived
        (``arrived``, Unix time, before its body was read and parsed) and the call log at that
        instant, under the ``caller``'s name, so a sender can find each call it sent even when the
        call crossed into the next second on the way."""
        routed = [(ledger.shard_for(entry.hash_key), entry) for entry in entries]
        verdicts: list[ShardLedger | None] = []
        with self.lock:
            now = time.monotonic()
            second = int(arrived)
            cells = ledger.timeline.setdefault(second, {})
            for shard, entry in routed:
                cell = cells.setdefault(shard.shard_id, [0] * len(COUNTS))
                shard.offered.add(entry.size, now)
                if shard.limiter.admit(entry.size, now):
                    shard.admitted.add(entry.size, now)
                    shard.admitted_entries += 1
                    shard.admitted_bytes += entry.size
                    shard.admitted_user_records += entry.user_records
                    cell[0] += 1
                    cell[1] += entry.size
                    cell[2] += entry.user_records
                    verdicts.append(None)
                else:
                    shard.throttled_entries += 1
                    shard.throttled_bytes += entry.size
                    cell[3] += 1
                    cell[4] += entry.size
                    verdicts.append(shard)
            admitted = [entry for (_, entry), verdict in zip(routed, verdicts, strict=True) if verdict is None]
            ledger.calls.append(
                {
                    "invocation_id": caller.invocation_id,
                    "attempt": caller.attempt,
                    "arrived": arrived,
                    "admitted_entries": len(admitted),
                    "admitted_bytes": sum(entry.size for entry in admitted),
                    "admitted_user_records": sum(entry.user_records for entry in admitted),
                    "throttled_entries": len(entries) - len(admitted),
                }
            )
            ledger.calls_seen += 1
        return verdicts

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "limit_algo": self.algorithm,
                "shard_bytes_per_second": self.shard_bytes,
                "shard_records_per_second": self.shard_records,
                "bytes_counted": "data (decoded) + partition key (UTF-8)",
                "streams": {name: ledger.summary() for name, ledger in self.streams.items()},
            }


def stream_name_of(request: dict[str, Any]) -> str:
    name = request.get("StreamName")
    if name:
        return str(name)
    return str(request.get("StreamARN", "")).rsplit("/", 1)[-1]


def make_handler(limits: ShardLimits, upstream: Upstream, account: str) -> type[ProxyHandler]:
    class Handler(ProxyHandler):
        def stats(self) -> dict[str, Any]:
            return limits.stats()

        def do_POST(self) -> None:
            arrived = time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = dict(self.headers)
            operation = self.headers.get("X-Amz-Target", "").removeprefix(TARGET_PREFIX)
            if operation == "PutRecords":
                self.put_records(headers, body, arrived)
            elif operation == "PutRecord":
                self.put_record(headers, body, arrived)
            else:
                self.reply(*upstream.call(self.path, headers, body))

        def ledger_for(self, headers: dict[str, str], request: dict[str, Any]) -> StreamLedger | None:
            def list_shards(page: dict[str, Any]) -> dict[str, Any]:
                return upstream.operation(headers, "ListShards", page)

            try:
                return limits.learn(stream_name_of(request), list_shards)
            except LookupError:
                return None  # no such stream: the upstream's own answer says so

        def put_records(self, headers: dict[str, str], body: bytes, arrived: float) -> None:
            request = json.loads(body)
            ledger = self.ledger_for(headers, request)
            if ledger is None:
                self.reply(*upstream.call(self.path, headers, body))
                return
            entries = request["Records"]
            verdicts = limits.decide(ledger, [Entry(entry) for entry in entries], arrived, caller_of(self.headers))
            if not any(verdicts):
                self.reply(*upstream.call(self.path, headers, body))
                return
            admitted = [entry for entry, verdict in zip(entries, verdicts, strict=True) if verdict is None]
            results: list[dict[str, Any]] = []
            reply_headers = [("Content-Type", "application/x-amz-json-1.1")]
            if admitted:
                status, reply_headers, answer = upstream.call(
                    self.path, headers, json.dumps({**request, "Records": admitted}).encode()
                )
                if status != 200:
                    self.reply(status, reply_headers, answer)
                    return
                results = json.loads(answer)["Records"]
            forwarded = iter(results)
            merged = [
                next(forwarded)
                if verdict is None
                else {"ErrorCode": THROTTLED, "ErrorMessage": self.throttle_message(ledger, verdict)}
                for verdict in verdicts
            ]
            failed = sum(1 for result in merged if "ErrorCode" in result)
            self.reply(200, reply_headers, json.dumps({"FailedRecordCount": failed, "Records": merged}).encode())

        def put_record(self, headers: dict[str, str], body: bytes, arrived: float) -> None:
            request = json.loads(body)
            ledger = self.ledger_for(headers, request)
            if ledger is not None:
                (verdict,) = limits.decide(ledger, [Entry(request)], arrived, caller_of(self.headers))
                if verdict is not None:
                    error = {"__type": THROTTLED, "message": self.throttle_message(ledger, verdict)}
                    self.reply(400, [("Content-Type", "application/x-amz-json-1.1")], json.dumps(error).encode())
                    return
            self.reply(*upstream.call(self.path, headers, body))

        @staticmethod
        def throttle_message(ledger: StreamLedger, shard: ShardLedger) -> str:
            # The message Kinesis sends.
            return f"Rate exceeded for shard {shard.shard_id} in stream {ledger.name} under account {account}."

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", type=int, required=True, help="port to serve on 127.0.0.1")
    parser.add_argument("--upstream", type=int, required=True, help="port of the emulator on 127.0.0.1")
    parser.add_argument("--limit-algo", choices=LIMIT_ALGORITHMS, default="window")
    parser.add_argument("--stats", help="write the counts here as JSON when stopped")
    parser.add_argument("--shard-bytes", type=int, default=SHARD_BYTES_PER_SECOND, help="per shard per second")
    parser.add_argument("--shard-records", type=int, default=SHARD_RECORDS_PER_SECOND, help="per shard per second")
    parser.add_argument("--account", default="000000000000", help="account id in throttling messages")
    arguments = parser.parse_args(argv)
    limits = ShardLimits(arguments.limit_algo, arguments.shard_bytes, arguments.shard_records)
    handler = make_handler(limits, Upstream(arguments.upstream, TARGET_PREFIX), arguments.account)
    serve_until_stopped(arguments.listen, handler, limits.stats, arguments.stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
