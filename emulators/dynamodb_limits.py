"""DynamoDB's per-partition throughput limits, item by item, in front of an emulator that lacks them.

    python -m emulators.dynamodb_limits --listen PORT --upstream PORT [--stats FILE]
        [--write-units N] [--read-units N]

An HTTP proxy on 127.0.0.1 in front of moto's server. DynamoDB serves at most 1,000 write units and
3,000 read units a second per partition, and an item never spans two partitions, so no item can
take more: a hot key. Each item's units are metered in a sliding one-second window, and a request
that would take an item past its limit is refused as DynamoDB refuses it: a single-item call
(PutItem, UpdateItem, DeleteItem, GetItem) with HTTP 400 ``ProvisionedThroughputExceededException``;
in a BatchWriteItem or BatchGetItem, the items over the limit come back in ``UnprocessedItems`` or
``UnprocessedKeys`` while the others go through (the exception only when none did).

Units as DynamoDB bills them: a write costs the larger of the item's size before and after it, in
1 KB units (one at least; an UpdateItem costs the whole item, not the attributes it changes); a read
costs the item's size in 4 KB units (one at least, a missing item too), half of it when eventually
consistent. Sizes are attribute names plus values: UTF-8 strings, raw binary, numbers at one byte
per two significant digits plus one, sets and lists their members, maps and lists 3 bytes plus one
a member. The proxy learns an item's size from what passes: the item a put carries, the items a read
returns, and after an UpdateItem the item read back from the emulator (a strongly consistent
GetItem of its own). A write is admitted on the larger of the item's last known size and what the
request carries, then counted at its actual cost.

``GET /stats`` while it runs (and ``--stats`` when it stops): the limits, the calls and items
throttled, and per item the most write and read units it took in any one second, hottest first.
The proxy is the referee of the scorer's item rates, so it shares no code with the scorer.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time
from collections import deque
from typing import Any

from emulators.proxying import ProxyHandler, Upstream, serve_until_stopped

# DynamoDB's per-partition maximums ("warm throughput" scenarios of the developer guide): the most
# one item can take, since an item lives in one partition.
PARTITION_WRITE_UNITS_PER_SECOND = 1000
PARTITION_READ_UNITS_PER_SECOND = 3000
WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
WINDOW_SECONDS = 1.0
THROTTLED = "ProvisionedThroughputExceededException"
TARGET_PREFIX = "DynamoDB_20120810."
JSON_CONTENT = [("Content-Type", "application/x-amz-json-1.0")]
HOTTEST_LISTED = 20


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it, from its attribute-value JSON."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: dict[str, Any]) -> int:
    [(kind, content)] = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "B":
        return len(content) * 3 // 4 - (len(content) - len(content.rstrip("="))) if isinstance(content, str) else 0
    if kind == "N":
        return _number_bytes(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(member.encode()) for member in content)
    if kind == "NS":
        return sum(_number_bytes(member) for member in content)
    if kind == "BS":
        return sum(_value_bytes({"B": member}) for member in content)
    if kind == "L":
        return 3 + sum(1 + _value_bytes(member) for member in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + _value_bytes(member) for name, member in content.items())
    raise ValueError(f"unknown attribute type {kind}")


def _number_bytes(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0")
    return (len(digits) + 1) // 2 + 1


class ItemMeter:
    """One item's units admitted in the last second, and the most it took in any one second."""

    def __init__(self) -> None:
        self.writes: deque[tuple[float, float]] = deque()
        self.reads: deque[tuple[float, float]] = deque()
        self.write_total = self.read_total = 0.0
        self.peak_write = self.peak_read = 0.0
        self.throttled_writes = self.throttled_reads = 0
        self.size: int | None = None

    @staticmethod
    def _trim(window: deque[tuple[float, float]], total: float, now: float) -> float:
        while window and window[0][0] <= now - WINDOW_SECONDS:
            total -= window.popleft()[1]
        return max(total, 0.0)

    def write_room(self, units: float, now: float, limit: float) -> bool:
        self.write_total = self._trim(self.writes, self.write_total, now)
        return self.write_total + units <= limit

    def read_room(self, units: float, now: float, limit: float) -> bool:
        self.read_total = self._trim(self.reads, self.read_total, now)
        return self.read_total + units <= limit

    def count_write(self, units: float, now: float) -> None:
        self.write_total = self._trim(self.writes, self.write_total, now) + units
        self.writes.append((now, units))
        self.peak_write = max(self.peak_write, self.write_total)

    def count_read(self, units: float, now: float) -> None:
        self.read_total = self._trim(self.reads, self.read_total, now) + units
        self.reads.append((now, units))
        self.peak_read = max(self.peak_read, self.read_total)


class ItemLimits:
    """Every item's meter, by table and key."""

    def __init__(self, write_units: float, read_units: float) -> None:
        self.write_units = write_units
        self.read_units = read_units
        self.meters: dict[str, ItemMeter] = {}
        self.key_names: dict[str, list[str]] = {}
        self.lock = threading.Lock()
        self.throttled_calls = 0
        self.calls = 0

    def meter(self, table: str, key: dict[str, Any]) -> ItemMeter:
        name = f"{table}/{json.dumps(key, sort_keys=True)}"
        meter = self.meters.get(name)
        if meter is None:
            meter = self.meters[name] = ItemMeter()
        return meter

    def stats(self) -> dict[str, Any]:
        with self.lock:
            items = sorted(self.meters.items(), key=lambda pair: pair[1].peak_write, reverse=True)
            by_read = sorted(self.meters.items(), key=lambda pair: pair[1].peak_read, reverse=True)
            return {
                "write_units_per_second_per_item": self.write_units,
                "read_units_per_second_per_item": self.read_units,
                "calls": self.calls,
                "throttled_calls": self.throttled_calls,
                "throttled_writes": sum(meter.throttled_writes for meter in self.meters.values()),
                "throttled_reads": sum(meter.throttled_reads for meter in self.meters.values()),
                "items": len(self.meters),
                "hottest_by_writes": [_row(name, meter) for name, meter in items[:HOTTEST_LISTED]],
                "hottest_by_reads": [_row(name, meter) for name, meter in by_read[:HOTTEST_LISTED]],
            }


def _row(name: str, meter: ItemMeter) -> dict[str, Any]:
    return {
        "item": name,
        "peak_write_units_per_second": round(meter.peak_write, 1),
        "peak_read_units_per_second": round(meter.peak_read, 1),
        "bytes": meter.size,
        "throttled_writes": meter.throttled_writes,
        "throttled_reads": meter.throttled_reads,
    }


def write_units(size: int) -> float:
    return float(max(1, math.ceil(size / WRITE_UNIT_BYTES)))


def read_units(size: int | None, consistent: bool) -> float:
    units = max(1, math.ceil((size or 0) / READ_UNIT_BYTES))
    return float(units if consistent else units / 2)


def make_handler(limits: ItemLimits, upstream: Upstream) -> type[ProxyHandler]:
    class Handler(ProxyHandler):
        # Answers it rewrites (unprocessed items added back) would not match the emulator's checksum.
        dropped_headers = frozenset({"x-amz-crc32"})

        def stats(self) -> dict[str, Any]:
            return limits.stats()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = dict(self.headers)
            operation = self.headers.get("X-Amz-Target", "").removeprefix(TARGET_PREFIX)
            with limits.lock:
                limits.calls += 1
            handle = {
                "PutItem": self.put_item,
                "DeleteItem": self.delete_item,
                "UpdateItem": self.update_item,
                "GetItem": self.get_item,
                "BatchWriteItem": self.batch_write,
                "BatchGetItem": self.batch_get,
            }.get(operation)
            if handle is None:
                self.reply(*upstream.call(self.path, headers, body))
                return
            handle(headers, json.loads(body))

        # One item.

        def put_item(self, headers: dict[str, str], request: dict[str, Any]) -> None:
            table, item = request["TableName"], request["Item"]
            key = self.key_of(headers, table, item)  # outside the lock: it may ask the emulator
            self.write_one(headers, request, table, key, item_bytes(item), item_bytes(item))

        def delete_item(self, headers: dict[str, str], request: dict[str, Any]) -> None:
            self.write_one(headers, request, request["TableName"], request["Key"], 0, 0)

        def update_item(self, headers: dict[str, str], request: dict[str, Any]) -> None:
            table, key = request["TableName"], request["Key"]
            carried = item_bytes(key) + sum(
                _value_bytes(value) for value in request.get("ExpressionAttributeValues", {}).values()
            )
            self.write_one(headers, request, table, key, carried, None)

        def write_one(
            self,
            headers: dict[str, str],
            request: dict[str, Any],
            table: str,
            key: dict[str, Any],
            carried: int,
            after: int | None,
        ) -> None:
            """Admit one write on its estimate (the item's known size, or what it carries), forward it,
            count it at its cost: the larger of the sizes before and after (``after`` None: read back)."""
            now = time.time()
            with limits.lock:
                meter = limits.meter(table, key)
                before = meter.size
                if not meter.write_room(write_units(max(before or 0, carried)), now, limits.write_units):
                    meter.throttled_writes += 1
                    limits.throttled_calls += 1
                    self.throttle(f"item {table}/{_key_text(key)} is past {limits.write_units:g} write units/s")
                    return
            status, reply_headers, answer = upstream.call(self.path, headers, json.dumps(request).encode())
            if status == 200:
                if after is None:
                    after = self.size_upstream(headers, table, key)
                with limits.lock:
                    meter.count_write(write_units(max(before or 0, after or 0)), time.time())
                    meter.size = after or None
            self.reply(status, reply_headers, answer)

        def get_item(self, headers: dict[str, str], request: dict[str, Any]) -> None:
            table, key = request["TableName"], request["Key"]
            consistent = bool(request.get("ConsistentRead"))
            now = time.time()
            with limits.lock:
                meter = limits.meter(table, key)
                if not meter.read_room(read_units(meter.size, consistent), now, limits.read_units):
                    meter.throttled_reads += 1
                    limits.throttled_calls += 1
                    self.throttle(f"item {table}/{_key_text(key)} is past {limits.read_units:g} read units/s")
                    return
            status, reply_headers, answer = upstream.call(self.path, headers, json.dumps(request).encode())
            if status == 200:
                item = json.loads(answer).get("Item")
                size = item_bytes(item) if item else None
                with limits.lock:
                    meter.size = size
                    meter.count_read(read_units(size, consistent), time.time())
            self.reply(status, reply_headers, answer)

        # Batches: the items over their limit are left unprocessed, the others go through.

        def batch_write(self, headers: dict[str, str], request: dict[str, Any]) -> None:
            now = time.time()
            admitted: dict[str, list[dict[str, Any]]] = {}
            unprocessed: dict[str, list[dict[str, Any]]] = {}
            counted: list[tuple[ItemMeter, int | None, int]] = []  # meter, size before, size after
            for table in request["RequestItems"]:
                self.key_names(headers, table)  # learned before the lock: it asks the emulator
            with limits.lock:
                for table, requests in request["RequestItems"].items():
                    for entry in requests:
                        if "PutRequest" in entry:
                            item = entry["PutRequest"]["Item"]
                            key, after = self.key_of(headers, table, item), item_bytes(item)
                        else:
                            key, after = entry["DeleteRequest"]["Key"], 0
                        meter = limits.meter(table, key)
                        if meter.write_room(write_units(max(meter.size or 0, after)), now, limits.write_units):
                            admitted.setdefault(table, []).append(entry)
                            counted.append((meter, meter.size, after))
                        else:
                            meter.throttled_writes += 1
                            unprocessed.setdefault(table, []).append(entry)
                if unprocessed:
                    limits.throttled_calls += 1
            if not admitted:
                self.throttle("every item of the batch is past its write units/s")
                return
            status, reply_headers, answer = upstream.call(
                self.path, headers, json.dumps({**request, "RequestItems": admitted}).encode()
            )
            if status != 200:
                self.reply(status, reply_headers, answer)
                return
            response = json.loads(answer)
            left = response.get("UnprocessedItems") or {}
            with limits.lock:
                for meter, before, after in counted:
                    meter.count_write(write_units(max(before or 0, after)), time.time())
                    meter.size = after or None
            for table, entries in unprocessed.items():
                left.setdefault(table, []).extend(entries)
            self.reply(200, JSON_CONTENT, json.dumps({**response, "UnprocessedItems": left}).encode())

        def batch_get(self, headers: dict[str, str], request: dict[str, Any]) -> None:
            now = time.time()
            admitted: dict[str, dict[str, Any]] = {}
            unprocessed: dict[str, dict[str, Any]] = {}
            names = {table: self.key_names(headers, table) for table in request["RequestItems"]}
            with limits.lock:
                for table, spec in request["RequestItems"].items():
                    consistent = bool(spec.get("ConsistentRead"))
                    for key in spec["Keys"]:
                        meter = limits.meter(table, key)
                        target = (
                            admitted
                            if meter.read_room(read_units(meter.size, consistent), now, limits.read_units)
                            else unprocessed
                        )
                        if target is unprocessed:
                            meter.throttled_reads += 1
                        target.setdefault(table, {**spec, "Keys": []})["Keys"].append(key)
                if unprocessed:
                    limits.throttled_calls += 1
            if not admitted:
                self.throttle("every item of the batch is past its read units/s")
                return
            status, reply_headers, answer = upstream.call(
                self.path, headers, json.dumps({**request, "RequestItems": admitted}).encode()
            )
            if status != 200:
                self.reply(status, reply_headers, answer)
                return
            response = json.loads(answer)
            with limits.lock:
                for table, spec in admitted.items():
                    consistent = bool(spec.get("ConsistentRead"))
                    found = {
                        json.dumps({name: item[name] for name in names[table]}, sort_keys=True): item
                        for item in response.get("Responses", {}).get(table, [])
                    }
                    for key in spec["Keys"]:
                        item = found.get(json.dumps(key, sort_keys=True))
                        meter = limits.meter(table, key)
                        meter.size = item_bytes(item) if item else None
                        meter.count_read(read_units(meter.size, consistent), time.time())
            left = response.get("UnprocessedKeys") or {}
            for table, spec in unprocessed.items():
                left.setdefault(table, {**spec, "Keys": []})["Keys"].extend(spec["Keys"])
            self.reply(200, JSON_CONTENT, json.dumps({**response, "UnprocessedKeys": left}).encode())

        # The emulator, asked by the proxy itself.

        def operation(self, headers: dict[str, str], name: str, request: dict[str, Any]) -> dict[str, Any] | None:
            try:
                return upstream.operation(headers, name, request)
            except LookupError:
                return None

        def key_names(self, headers: dict[str, str], table: str) -> list[str]:
            names = limits.key_names.get(table)
            if names is None:
                answer = self.operation(headers, "DescribeTable", {"TableName": table}) or {}
                schema = answer.get("Table", {}).get("KeySchema", [])
                names = limits.key_names[table] = [part["AttributeName"] for part in schema]
            return names

        def key_of(self, headers: dict[str, str], table: str, item: dict[str, Any]) -> dict[str, Any]:
            return {name: item[name] for name in self.key_names(headers, table) if name in item}

        def size_upstream(self, headers: dict[str, str], table: str, key: dict[str, Any]) -> int | None:
            answer = self.operation(headers, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": True})
            item = (answer or {}).get("Item")
            return item_bytes(item) if item else None

        def throttle(self, message: str) -> None:
            error = {"__type": f"com.amazonaws.dynamodb.v20120810#{THROTTLED}", "message": message}
            self.reply(400, JSON_CONTENT, json.dumps(error).encode())

    return Handler


def _key_text(key: dict[str, Any]) -> str:
    return ",".join(str(next(iter(value.values()))) for value in key.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", type=int, required=True, help="port to serve on 127.0.0.1")
    parser.add_argument("--upstream", type=int, required=True, help="port of the emulator on 127.0.0.1")
    parser.add_argument("--stats", help="write the counts here as JSON when stopped")
    parser.add_argument(
        "--write-units", type=float, default=PARTITION_WRITE_UNITS_PER_SECOND, help="per item per second"
    )
    parser.add_argument("--read-units", type=float, default=PARTITION_READ_UNITS_PER_SECOND, help="per item per second")
    arguments = parser.parse_args(argv)
    limits = ItemLimits(arguments.write_units, arguments.read_units)
    handler = make_handler(limits, Upstream(arguments.upstream, TARGET_PREFIX))
    serve_until_stopped(arguments.listen, handler, limits.stats, arguments.stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
