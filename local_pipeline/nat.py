"""A carrier-grade NAT through the local pipeline: thousands of users on one address, every shard.

    PYTHONPATH=functions .venv/bin/python -m local_pipeline.nat [--users 3000] [--minutes 6]
        [--shards 4] [--directory-size 8] [--rate 1500] [--last-writer-wins]

(the scorer imports as ``scorer``, from the Lambda bundle's root, as ``make bench`` sets it).

Kinesis partitions by user, so the NAT's users (``NAT_ADDRESS``, in the shared address space
carriers use, RFC 6598) are spread over every shard, and every shard's scorer updates the address's
state at once. The scenario produces their events to a stream of ``--shards`` shards on kinesalite;
the local event source mapping invokes the real scorer handler, one process per shard, as Lambda
does; DynamoDB is moto's server behind ``emulators.dynamodb_limits``, which throttles any item
past its partition's limits (1,000 write units and 3,000 read units a second). When every event is
scored, what the state table holds is compared with a replay of the same events in one process
(``featurize_batch`` in time order, as training replays the archive):

- the address's state: every part the shards stored, merged (``merge_ip_states``), against the
  replay's; the events it applied against the events sent from the address (``updates_lost``),
  its users, counts and per-IP features; and the merge a reader of the address sees (the parts its
  home lists and the hot items), which must be the same;
- every user's state, byte for byte;
- the proxy's count of throttled calls and the hottest item's write units in any one second.

``--last-writer-wins`` runs the previous release's write instead, for a baseline in the same
conditions: every shard reads the address's one item and writes it back whole
(``LastWriterWinsStates``), so a shard's update is lost whenever another shard writes the item
between its read and its write.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from emulators import DUMMY_CREDENTIALS, dynamodb_limits_proxy, kinesalite, moto_server
from emulators.proxying import fetch_stats
from local_pipeline.event_source import Acknowledgement, LocalEventSourceMapping, MappingSettings
from local_pipeline.lambda_runtime import LambdaProcess
from local_pipeline.resources import REGION, PipelineNames, create_resources, scorer_environment
from model.features import FEATURE_NAMES, FEATURES_VERSION, IpState, featurize_batch, merge_ip_states
from model.features.addresses import ADDRESS_COLUMNS
from model.rows import NPY_CONTENT_TYPE
from scorer.ip_slices import DEFAULT_DIRECTORY_SIZE, address_views, decode_part
from scorer.settings import IP_DIRECTORY_SIZE
from scorer.stores import IP_PREFIX, PART_ATTRIBUTE_PREFIX, Announced, StateStore, StoredState, stored_state
from vedette import Producer
from vedette.events import format_timestamp, normalize_event

NAT_ADDRESS = "100.64.0.1"
START = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
# The tag a reader of every part uses: no shard's.
READER = b"\x00" * 8
BASELINE_KEY_SUFFIX = "@all"
REPOSITORY = Path(__file__).resolve().parent.parent
HANDLER = "scorer.handler.lambda_handler"
BASELINE_HANDLER = "local_pipeline.nat.last_writer_wins_handler"


def nat_events(users: int, minutes: float, seed: int = 21, address: str = NAT_ADDRESS) -> list[dict[str, Any]]:
    """Users behind one address, in time order: each sends an event every 20 s or so, one in seven
    from their own home address instead (so some arrive at the NAT new), one login in ten failing."""
    rng = random.Random(seed)
    end = START + timedelta(minutes=minutes)
    events: list[dict[str, Any]] = []
    for number in range(users):
        user = f"nat-{number:05d}"
        home = f"198.18.{number // 250}.{number % 250 + 1}"
        moment = START + timedelta(seconds=rng.uniform(0, 20))
        while moment < end:
            failed = rng.random() < 0.1
            events.append(
                normalize_event(
                    {
                        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        "occurred_at": format_timestamp(moment),
                        "event_type": "login_failed" if failed else "page_view",
                        "user_id": user,
                        "ip": home if rng.random() < 1 / 7 else address,
                        "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36",
                        "resource": "/login" if failed else f"/catalog/items/{rng.randrange(500)}",
                        "status": 401 if failed else 200,
                    }
                )
            )
            moment += timedelta(seconds=rng.uniform(5, 35))
    events.sort(key=lambda event: (event["occurred_at"], event["user_id"]))
    return events


class LastWriterWinsStates:
    """The previous release's write of an address's state, for a same-run baseline: the shards'
    parts of an address all map to one item, which every shard reads and writes back whole, and no
    shard announces itself (so none is ever listed or hot). The last writer's view replaces the
    others'."""

    def __init__(self, states: StateStore) -> None:
        self.states = states

    @staticmethod
    def shared(key: str) -> str:
        if key.startswith(IP_PREFIX) and "@" in key:
            return key.split("@", 1)[0] + BASELINE_KEY_SUFFIX
        return key

    def load(self, keys: Collection[str], eventually: Collection[str] = ()) -> dict[str, StoredState]:
        mapped = {key: self.shared(key) for key in [*keys, *eventually]}
        found = self.states.load({mapped[key] for key in keys}, {mapped[key] for key in eventually})
        return {key: found[shared] for key, shared in mapped.items() if shared in found}

    def save(self, items: Mapping[str, StoredState], expires_at: int) -> set[str]:
        failed = self.states.save({self.shared(key): item for key, item in items.items()}, expires_at)
        return {key for key in items if self.shared(key) in failed}

    def announce(self, homes: Mapping[str, bytes | None], limit: int, expires_at: int) -> Announced:
        return Announced()

    def save_parts(self, parts: Mapping[str, tuple[str, bytes]], expires_at: int) -> set[str]:
        return self.states.save_parts(parts, expires_at)


def last_writer_wins_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The scorer's handler with ``LastWriterWinsStates`` (the baseline's Lambda function)."""
    from scorer import handler

    if not isinstance(handler.DEPENDENCIES.states, LastWriterWinsStates):
        handler.DEPENDENCIES.states = LastWriterWinsStates(handler.DEPENDENCIES.states)
    response: dict[str, Any] = handler.lambda_handler(event, context)
    return response


def stored_parts(items: Mapping[str, StoredState], ip: str) -> list[IpState]:
    """Every part of an address's state the table holds, once per shard: each shard's own item (or,
    for a shard without one, its copy in a hot item), and an earlier release's whole state in the home."""
    home = IP_PREFIX + ip
    parts: dict[str, IpState] = {}
    copies: dict[str, IpState] = {}
    legacy: list[IpState] = []
    for key, item in items.items():
        if key == home and item.state:
            legacy.append(IpState.from_bytes(item.state))
        elif key.startswith(home + "@"):
            parts[key.split("@", 1)[1]] = IpState.from_bytes(item.state)
        elif key.startswith(home + "#"):
            for name, value in item.parts.items():
                copies[name.removeprefix(PART_ATTRIBUTE_PREFIX)] = IpState.from_bytes(decode_part(value)[1])
    return [*legacy, *parts.values(), *(state for shard, state in copies.items() if shard not in parts)]


def address_columns_of(state: IpState, ip: str, at: datetime) -> dict[str, float]:
    """The per-IP features a new user's event at ``at`` would get from ``state``."""
    probe = normalize_event(
        {"event_type": "page_view", "user_id": "probe-user", "ip": ip, "occurred_at": format_timestamp(at)}
    )
    row = featurize_batch([probe], ip_states={ip: state}).rows[0]
    return {name: float(row[FEATURE_NAMES.index(name)]) for name in ADDRESS_COLUMNS}


def compare_with_replay(
    events: Sequence[dict[str, Any]], items: Mapping[str, StoredState], directory_size: int, ip: str = NAT_ADDRESS
) -> dict[str, Any]:
    """What the table holds of ``ip`` and of the users, against one process replaying ``events``."""
    replay = featurize_batch(events)
    expected = replay.ip_states[ip]
    stored = merge_ip_states(stored_parts(items, ip))
    seen = address_views(items, [ip], READER, directory_size)[ip].others or IpState()
    counters = ("rate_fast", "rate_slow", "failures_slow", "new_users_slow")
    error = max(
        abs(getattr(stored, name) - getattr(expected, name)) / max(abs(getattr(expected, name)), 1e-12)
        for name in counters
    )
    probe_at = datetime.fromtimestamp(expected.last_seen or 0.0, UTC) + timedelta(seconds=1)
    features = address_columns_of(stored, ip, probe_at)
    expected_features = address_columns_of(expected, ip, probe_at)
    users = {key.removeprefix("user#"): item.state for key, item in items.items() if key.startswith("user#")}
    return {
        "events": len(events),
        "events_at_address": expected.events,
        "events_applied_to_address": stored.events,
        "updates_lost": expected.events - stored.events,
        "parts": len(stored_parts(items, ip)),
        "users_kept_equal": stored.recent_users == expected.recent_users,
        "counts_max_relative_error": error,
        "state_equal": stored.events == expected.events
        and stored.recent_users == expected.recent_users
        and stored.last_seen == expected.last_seen
        and error < 1e-9,
        "reader_sees_every_part": seen.events == stored.events and seen.recent_users == stored.recent_users,
        "features": features,
        "features_equal": all(
            math.isclose(features[name], expected_features[name], rel_tol=1e-9, abs_tol=1e-9) for name in features
        ),
        "user_states_equal": users == {user: state.to_bytes() for user, state in replay.user_states.items()},
    }


def shard_of(user: str, shards: int) -> int:
    """The shard Kinesis puts a user on: MD5 of the partition key in even hash-key ranges."""
    return int.from_bytes(hashlib.md5(user.encode()).digest(), "big") * shards >> 128


def announcements_per_event(events: Iterable[dict[str, Any]], shards: int) -> float:
    """How often a shard meets an address it has no place in yet (its first event there): the share
    of events that make the scorer announce itself in an address's home."""
    seen: set[tuple[str, int]] = set()
    count = announced = 0
    for event in events:
        count += 1
        pair = (event.get("ip") or "", shard_of(event["user_id"], shards))
        if pair[0] and pair not in seen:
            seen.add(pair)
            announced += 1
    return announced / count if count else 0.0


def scan_states(dynamodb: Any, table: str) -> dict[str, StoredState]:
    items: dict[str, StoredState] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.update({item["key"]["S"]: stored_state(item) for item in page["Items"]})
    return items


def feature_config() -> dict[str, Any]:
    """A model's feature configuration with no vocabulary, network lookup or entity stage: the
    address's state does not depend on them."""
    return {
        "features_version": FEATURES_VERSION,
        "feature_names": list(FEATURE_NAMES),
        "network_lookup": None,
        "agent_parser": None,
        "request_content_types": [NPY_CONTENT_TYPE],
        "vocabulary": None,
        "entities": {},
    }


@dataclass(frozen=True)
class QuietEndpoint:
    """InvokeEndpoint on loopback answering every row as normal: the scenario is about state."""

    url: str
    server: ThreadingHTTPServer

    @classmethod
    def start(cls) -> QuietEndpoint:
        from model.rows import MAX_ROWS_PER_REQUEST, decode_npy

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                rows = decode_npy(self.rfile.read(int(self.headers["Content-Length"])), MAX_ROWS_PER_REQUEST)
                body = json.dumps({"threshold": 1.0, "results": [{"score": 0.0, "anomaly": False}] * len(rows)})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return cls(f"http://127.0.0.1:{server.server_address[1]}", server)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class NatOptions:
    users: int = 3000
    minutes: float = 6.0
    shards: int = 4
    directory_size: int = DEFAULT_DIRECTORY_SIZE
    rate: float = 1500.0  # events/s put, in time order; 0 = as fast as the producer takes them
    last_writer_wins: bool = False
    seed: int = 21
    timeout_seconds: float = 600.0
    # Kinesis records (aggregates) per batch, as the mapping's BatchSize; None: the stack's. Small
    # batches make several a shard whatever the machine's speed, so shards' writes overlap.
    batch_size: int | None = None


def run_nat_scenario(options: NatOptions) -> dict[str, Any]:
    """Produce the NAT's events, score them through the local pipeline (one scorer process per
    shard), compare the state table with a replay; returns the figures (``compare_with_replay``'s,
    the proxy's and the run's)."""
    os.environ.update(DUMMY_CREDENTIALS)
    events = nat_events(options.users, options.minutes, options.seed)
    names = PipelineNames()
    acknowledged: list[int] = [0]
    lock = threading.Lock()
    errors: list[str] = []

    def on_acknowledged(ack: Acknowledgement) -> None:
        with lock:
            acknowledged[0] += len(ack.event_ids)

    def on_output(line: str) -> None:
        if '"level":"ERROR"' in line.replace(" ", "") or (line and not line.startswith("{")):
            with lock:
                errors.append(line[:500])

    endpoint = QuietEndpoint.start()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="vedette-nat-") as scratch,
            moto_server() as aws,
            kinesalite() as streams,
            dynamodb_limits_proxy(aws) as limited,
        ):
            clients = {name: boto3.client(name, endpoint_url=aws, region_name=REGION) for name in ("s3", "sns", "sqs")}
            clients["dynamodb"] = boto3.client("dynamodb", endpoint_url=aws, region_name=REGION)
            clients["kinesis"] = boto3.client("kinesis", endpoint_url=streams, region_name=REGION)
            resources = create_resources(clients, names, options.shards)
            config = Path(scratch, "feature_config.json")
            config.write_text(json.dumps(feature_config()))
            environment = {
                **os.environ,
                **scorer_environment(resources, str(config)),
                "AWS_ENDPOINT_URL": aws,
                "AWS_ENDPOINT_URL_DYNAMODB": limited,
                "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": endpoint.url,
                IP_DIRECTORY_SIZE: str(options.directory_size),
            }
            handler = BASELINE_HANDLER if options.last_writer_wins else HANDLER
            pythonpath = os.pathsep.join([str(REPOSITORY / "functions"), str(REPOSITORY)])
            mapping = LocalEventSourceMapping(
                clients["kinesis"],
                clients["sqs"],
                names.stream,
                resources.on_failure_queue_url,
                MappingSettings() if options.batch_size is None else MappingSettings(batch_size=options.batch_size),
                lambda shard: LambdaProcess(handler, environment, on_output, pythonpath=pythonpath),
                on_acknowledged,
            ).start()
            started = time.monotonic()
            try:
                # One put at a time: each shard receives its users' events in time order, as the
                # replay reads them.
                with Producer(
                    names.stream,
                    endpoint_url=streams,
                    region_name=REGION,
                    max_concurrent_puts=1,
                    buffer_full_timeout_seconds=60.0,
                ) as producer:
                    for count, event in enumerate(events, 1):
                        producer.put(event)
                        if options.rate > 0 and count % 100 == 0:
                            ahead = count / options.rate - (time.monotonic() - started)
                            if ahead > 0:
                                time.sleep(ahead)
                deadline = time.monotonic() + options.timeout_seconds
                while acknowledged[0] < len(events) and not mapping.errors and time.monotonic() < deadline:
                    time.sleep(0.2)
                seconds = time.monotonic() - started
                stats = fetch_stats(limited)
            finally:
                mapping.stop()
            totals = mapping.totals()
            items = scan_states(clients["dynamodb"], names.state_table)
    finally:
        endpoint.stop()
    figures = compare_with_replay(events, items, options.directory_size)
    hottest = stats["hottest_by_writes"][0] if stats["hottest_by_writes"] else {}
    parts = [
        (len(name) + len(value), len(IpState.from_bytes(decode_part(value)[1]).recent_users))
        for key, item in items.items()
        if key.startswith(f"{IP_PREFIX}{NAT_ADDRESS}#")
        for name, value in item.parts.items()
    ]
    return {
        "design": "last writer wins" if options.last_writer_wins else "a part per shard",
        "users": options.users,
        "shards": options.shards,
        "directory_size": options.directory_size,
        **figures,
        "scored": totals.acknowledged_events,
        "dead_lettered": totals.dead_lettered_events,
        "seconds": round(seconds, 1),
        "invocations": totals.invocations,
        "throttled_calls": stats["throttled_calls"],
        "hottest_item": hottest.get("item"),
        "hottest_item_write_units_per_second": hottest.get("peak_write_units_per_second", 0.0),
        "hottest_item_bytes": hottest.get("bytes"),
        "hottest_read_units_per_second": stats["hottest_by_reads"][0]["peak_read_units_per_second"]
        if stats["hottest_by_reads"]
        else 0.0,
        "write_units_limit_per_item": stats["write_units_per_second_per_item"],
        # A hot item's attribute (name and value) without the users it keeps (12 bytes each).
        "hot_part_bytes_without_users": max((size - 12 * users for size, users in parts), default=None),
        "errors": [*mapping.errors, *errors][:10],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = NatOptions()
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--minutes", type=float, default=defaults.minutes, help="of event time")
    parser.add_argument("--shards", type=int, default=defaults.shards)
    parser.add_argument("--directory-size", type=int, default=defaults.directory_size)
    parser.add_argument("--rate", type=float, default=defaults.rate, help="events/s put; 0: as fast as possible")
    parser.add_argument("--last-writer-wins", action="store_true", help="the previous release's write")
    arguments = parser.parse_args(argv)
    figures = run_nat_scenario(
        NatOptions(
            users=arguments.users,
            minutes=arguments.minutes,
            shards=arguments.shards,
            directory_size=arguments.directory_size,
            rate=arguments.rate,
            last_writer_wins=arguments.last_writer_wins,
        )
    )
    print(json.dumps(figures))
    return 0 if figures["updates_lost"] == 0 and not figures["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
