"""scorer_handler: user events/s on one core through the scorer for 1,000-record aggregated batches.

The whole batch path runs: base64 decoding, KPL deaggregation, contract validation, state load,
featurization, scoring through ``SageMakerEndpoint`` (request encoding and response parsing), anomaly
recording, the entity stage (each user's and session's episode evidence read, updated, scored and
written; ``model.entities``) and state save. The endpoint is an in-process fake: an HTTP server on a thread of this
process that decodes the request and answers every row (no model), reached by a real boto3
``sagemaker-runtime`` client, so each call pays what a call costs the client (signing, HTTP on
loopback) but no network; the stores are in memory. Baseline in the same run: the same batch
through a per-record design, one InvokeEndpoint call per event (``max_rows_per_call=1``),
everything else equal. The run without the entity stage is reported beside it, and where the
fastest run's time went, in microseconds per event by the handler's steps (``BatchOutcome.step_ms``,
with the records' decoding).

The in-memory state store counts what the DynamoDB store would be asked for: keys read and items
written per event, by kind (``user#``, ``ip#``, ``entity#user#``, ``entity#session#``), and each
written item's size as DynamoDB bills it (``state_items``; the inputs of ``python -m loadtest.plan``).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from benchmarks.workload import realistic_events
from emulators import DUMMY_CREDENTIALS
from model.entities import EntityAlert, EntityModel, EpisodeSoFar
from model.features import FEATURE_NAMES, ResourceVocabulary
from model.rows import MAX_ROWS_PER_REQUEST, decode_npy
from model.train import TrainedModel
from scorer.batch import Dependencies, collect_garbage_for_batches, process_batch
from scorer.clients import aws_client
from scorer.endpoint import SageMakerEndpoint
from scorer.records import decode_batch
from scorer.settings import ScorerSettings
from scorer.stores import ALERT_SENT, Announced, Anomaly, StoredState
from vedette.events import encode_event, normalize_event
from vedette.kpl import AggregateBuilder

RECORDS_PER_BATCH = 1000
EVENTS_PER_RECORD = 9  # 1,000 aggregates of 9 events of about 420 B: under Lambda's 6 MB payload
BATCHES = 3
REPEATS = 5
ANOMALY_FEATURE = FEATURE_NAMES.index("resource_suspicious_tokens")


class FakeEndpointServer:
    """Answers InvokeEndpoint like the model container: parses the rows, returns one prediction each."""

    def __init__(self) -> None:
        self.calls = 0
        self.cpu_seconds = 0.0  # the fake's own work (parsing rows, answering), on this process's core
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as boto3's connection pool expects
            disable_nagle_algorithm = True  # else each small answer waits for a delayed ACK (40 ms)

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                started = time.thread_time()
                server.calls += 1
                rows = decode_npy(self.rfile.read(int(self.headers["Content-Length"])), MAX_ROWS_PER_REQUEST)
                results = [{"score": value, "anomaly": value > 0} for value in rows[:, ANOMALY_FEATURE].tolist()]
                body = orjson.dumps({"threshold": 1.0, "results": results})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                server.cpu_seconds += time.thread_time() - started

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint_url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def state_kind(key: str) -> str:
    """``user``, ``ip``, ``entity#user`` or ``entity#session``: the state table key's prefix; an
    address's home (``ip#<address>``, read for every address, written once per shard) is ``ip home``."""
    parts = key.split("#")
    if parts[0] == "ip" and len(parts) == 2 and "@" not in parts[1]:
        return "ip home"
    return "#".join(parts[:2]) if parts[0] == "entity" else parts[0]


def dynamodb_item_bytes(key: str, item: StoredState, expires_at: int) -> int:
    """The item's size as DynamoDB counts it: attribute names plus values (UTF-8 strings, raw binary,
    numbers at about one byte per two digits plus one), as ``DynamoStateStore`` writes it."""
    size = len("key") + len(key.encode()) + len("state") + len(item.state)
    size += len("expires_at") + (len(str(expires_at)) + 1) // 2 + 1
    if item.applied:
        size += len("applied") + len(item.applied)
    if item.seen:
        size += len("seen") + len(item.seen)
    return size


class MemoryStates:
    """The state table in memory. The keys read and the items saved are kept as they come and
    counted after the timed run (``per_event``), so that the bench's bookkeeping is not timed as the
    scorer's work."""

    def __init__(self) -> None:
        self.items: dict[str, StoredState] = {}
        self.reads: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()
        self.written_bytes: Counter[str] = Counter()
        self.keys_read: list[Collection[str]] = []
        self.saved: list[tuple[Mapping[str, StoredState], int]] = []

    def load(self, keys: Collection[str], eventually: Collection[str] = ()) -> dict[str, StoredState]:
        self.keys_read += [keys, eventually]
        return {key: self.items[key] for key in [*keys, *eventually] if key in self.items}

    def save(self, items: Mapping[str, StoredState], expires_at: int) -> set[str]:
        self.saved.append((items, expires_at))
        self.items.update(items)
        return set()

    def _count_kept(self) -> None:
        """Count the reads and saves kept since the last count."""
        for keys in self.keys_read:
            self.reads.update(state_kind(key) for key in keys)
        for items, expires_at in self.saved:
            for key, item in items.items():
                kind = state_kind(key)
                self.writes[kind] += 1
                self.written_bytes[kind] += dynamodb_item_bytes(key, item, expires_at)
        self.keys_read, self.saved = [], []

    def announce(self, homes: Mapping[str, bytes | None], limit: int, expires_at: int) -> Announced:
        announced = Announced()
        for key, tag in homes.items():
            home = self.items.get(key, StoredState(b""))
            if tag is not None and tag not in home.shards and len(home.shards) >= limit:
                announced.full.add(key)
                continue
            shards = home.shards | {tag} if tag is not None else home.shards
            self.items[key] = home._replace(shards=shards, expires_at=expires_at)
            self.writes[state_kind(key)] += 1
            self.written_bytes[state_kind(key)] += len(key) + 3 + 6 + 8 * len(shards) + 10 + 6
        return announced

    def save_parts(self, parts: Mapping[str, tuple[str, bytes]], expires_at: int) -> set[str]:
        for key, (attribute, value) in parts.items():
            item = self.items.get(key, StoredState(b""))
            merged = {**item.parts, attribute: value}
            self.items[key] = item._replace(parts=merged, expires_at=expires_at)
            self.writes["ip hot"] += 1
            self.written_bytes["ip hot"] += len(key) + 3 + sum(len(name) + len(part) for name, part in merged.items())
        return set()

    def per_event(self, events: int) -> dict[str, dict[str, float]]:
        """Keys read and items written per event, and the mean written item's bytes, by kind."""
        self._count_kept()
        return {
            kind: {
                "reads_per_event": round(self.reads[kind] / events, 4),
                "writes_per_event": round(self.writes[kind] / events, 4),
                "mean_item_bytes": round(self.written_bytes[kind] / self.writes[kind]) if self.writes[kind] else 0,
            }
            for kind in sorted(self.reads | self.writes)
        }


class MemoryAnomalies:
    def __init__(self) -> None:
        self.recorded: set[str] = set()
        self.alerts: set[tuple[str, int]] = set()

    def record(self, anomaly: Anomaly) -> bool:
        before = len(self.recorded)
        self.recorded.add(anomaly.event["event_id"])
        return len(self.recorded) > before

    def claim_alert(self, user_id: str, window_start: int, expires_at: int | None = None) -> str | None:
        before = len(self.alerts)
        self.alerts.add((user_id, window_start))
        return None if len(self.alerts) > before else ALERT_SENT

    def alert_sent(self, user_id: str, window_start: int) -> None:
        pass

    def alert_folded(self, user_id: str, window_start: int, into: str, expires_at: int) -> bool:
        return True

    def count_folded(self, user_id: str, window_start: int, count: int) -> None:
        pass

    def episode_went_on(self, so_far: EpisodeSoFar) -> None:
        pass


class Discard:
    def publish(self, anomaly: Anomaly, slot: str) -> None:
        pass

    def publish_entity(self, alert: EntityAlert, slot: str) -> None:
        pass

    def put(self, name: str, arrived_at: datetime, lines: Sequence[Mapping[str, Any]]) -> None:
        pass


def lambda_batches() -> list[dict[str, Any]]:
    events = [normalize_event(event) for event in realistic_events(RECORDS_PER_BATCH * EVENTS_PER_RECORD * BATCHES)]
    events.sort(key=lambda event: event["occurred_at"])
    batches = []
    sequence = 49_650_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000
    for start in range(0, len(events), RECORDS_PER_BATCH * EVENTS_PER_RECORD):
        records = []
        for offset in range(start, start + RECORDS_PER_BATCH * EVENTS_PER_RECORD, EVENTS_PER_RECORD):
            builder = AggregateBuilder()
            for event in events[offset : offset + EVENTS_PER_RECORD]:
                builder.try_add(event["user_id"], encode_event(event))
            sequence += 1000
            records.append(
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": events[offset]["user_id"],
                        "sequenceNumber": str(sequence),
                        "data": base64.b64encode(builder.build()).decode(),
                        "approximateArrivalTimestamp": time.time(),
                    },
                    "eventSource": "aws:kinesis",
                    "eventID": f"shardId-000000000000:{sequence}",
                }
            )
        batches.append({"Records": records})
    return batches


def trained_model() -> TrainedModel:
    """A model trained on other events of the same workload: its entity stages, and the resource
    vocabulary the scorer featurizes with (without it every path is unknown, the entity stage reads
    every episode as unlike its training's, and nearly all of them alert: a batch of alerts is not
    what the scorer handles)."""
    from model.train import train

    return train(realistic_events(40_000, seed=11), alert_rate=0.01)


def run(
    batches: list[dict[str, Any]],
    max_rows_per_call: int,
    entity_models: Mapping[str, EntityModel],
    vocabulary: ResourceVocabulary | None = None,
) -> dict[str, Any]:
    settings = ScorerSettings("bench", "state", "anomalies", "topic", "bucket", max_rows_per_call=max_rows_per_call)
    server = FakeEndpointServer()
    client = aws_client("sagemaker-runtime", server.endpoint_url)
    discard = Discard()
    states = MemoryStates()
    deps = Dependencies(states, MemoryAnomalies(), discard, discard, SageMakerEndpoint(client, "bench"))
    deps.entity_models = entity_models
    deps.vocabulary = vocabulary
    events = 0
    alerts = 0
    step_ms: Counter[str] = Counter()
    payload_bytes = sum(len(json.dumps(batch)) for batch in batches)
    started = time.perf_counter()
    for batch in batches:
        decoding = time.perf_counter()
        records = decode_batch(batch)
        step_ms["decode"] += (time.perf_counter() - decoding) * 1000
        outcome = process_batch(records, deps, settings)
        assert not outcome.failed_sequence_numbers, outcome.errors
        events += outcome.scored
        alerts += outcome.alerts
        step_ms.update(outcome.step_ms)
    elapsed = time.perf_counter() - started
    server.close()
    return {
        "events_per_second": round(events / elapsed),
        "alerts_per_1000_events": round(1000 * alerts / max(events, 1), 2),
        "fake_endpoint_share_of_time": round(server.cpu_seconds / elapsed, 3),
        "endpoint_calls_per_batch": server.calls / len(batches),
        # Where an event's time goes: the handler's steps (``BatchOutcome.step_ms``), per event.
        "microseconds_per_event_by_step": {
            step: round(1000 * milliseconds / max(events, 1), 1) for step, milliseconds in step_ms.items()
        },
        "mean_batch_payload_mb": round(payload_bytes / len(batches) / 1e6, 2),
        "mean_event_bytes": round(event_bytes(batches) / events),
        "state_items": states.per_event(events),
    }


def event_bytes(batches: list[dict[str, Any]]) -> int:
    """The user records' bytes in ``batches`` (the encoded events, without the aggregate framing)."""
    from vedette.kpl import deaggregate

    return sum(
        len(user_record.data)
        for batch in batches
        for record in batch["Records"]
        for user_record in deaggregate(base64.b64decode(record["kinesis"]["data"]), record["kinesis"]["partitionKey"])
    )


def best_of(
    repeats: int,
    batches: list[dict[str, Any]],
    max_rows_per_call: int,
    entity_models: Mapping[str, EntityModel],
    vocabulary: ResourceVocabulary | None = None,
) -> dict[str, Any]:
    """The fastest of ``repeats`` runs, each from empty state (this machine's neighbours are noisy),
    with the median beside it."""
    runs = sorted(
        (run(batches, max_rows_per_call, entity_models, vocabulary) for _ in range(repeats)),
        key=lambda r: r["events_per_second"],
    )
    return {**runs[-1], "median_events_per_second": runs[len(runs) // 2]["events_per_second"], "runs": repeats}


def main() -> None:
    os.environ.update(DUMMY_CREDENTIALS)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    batches = lambda_batches()
    model = trained_model()
    stages, vocabulary = model.entity_models, model.vocabulary
    collect_garbage_for_batches()  # as the handler does at cold start
    rows_per_call = ScorerSettings.__dataclass_fields__["max_rows_per_call"].default
    ours = best_of(REPEATS, batches, rows_per_call, stages, vocabulary)
    without_stage = best_of(REPEATS, batches, rows_per_call, {}, vocabulary)
    # A tenth of one batch is enough to time a design that makes one call per event.
    first_tenth = [{"Records": batches[0]["Records"][: RECORDS_PER_BATCH // 10]}]
    per_record = best_of(REPEATS, first_tenth, 1, stages, vocabulary)
    print(
        json.dumps(
            {
                "bench": "scorer_handler",
                "records_per_batch": RECORDS_PER_BATCH,
                "events_per_batch": RECORDS_PER_BATCH * EVENTS_PER_RECORD,
                **ours,
                "without_entity_stage_events_per_second": without_stage["events_per_second"],
                "baseline": {"name": "one InvokeEndpoint call per event", **per_record},
                "ratio": round(ours["events_per_second"] / per_record["events_per_second"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
