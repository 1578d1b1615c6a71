"""`make demo`: the whole pipeline on one machine, through the code that runs in the cloud.

1. AWS on loopback: kinesalite with the stream; dynalite with the tables; moto's server with the bucket,
   topic and queues.
2. The archive: ``LocalFirehose`` reads every shard and writes the archive as Firehose does.
3. A first stretch of attack-free simulated traffic goes through the producer library, the stream
   and the archive; the model is trained from the archive by the SageMaker training entry point
   (``model.train``) and served by the local SageMaker endpoint.
4. ``LocalEventSourceMapping`` invokes the real scorer handler (one process per shard, like warm
   Lambda environments) from the start of the stream, so users' state builds up from their history.
5. Live traffic with labeled attacks follows, from several service threads through the producer,
   plus a few malformed records from a "legacy" writer that bypasses the contract.
6. When every produced event is archived and scored, parked or dead-lettered, the demo prints a
   summary, writes a report, and prints one JSON line with the figures.
"""

from __future__ import annotations

import json
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import orjson

from archive import sql as archive_sql
from console.server import ConsoleSettings, local_console, probe
from emulators import DUMMY_CREDENTIALS, dynalite, kinesalite, local_endpoint, moto_server
from local_pipeline.event_source import Acknowledgement, LocalEventSourceMapping, MappingSettings
from local_pipeline.firehose import LocalFirehose
from local_pipeline.lambda_runtime import LambdaProcess
from local_pipeline.latency import STAGES, EventTimes, FunctionSteps, breakdown, keeping_up
from local_pipeline.resources import (
    REGION,
    PipelineNames,
    PipelineResources,
    create_resources,
    drain_queue,
    scorer_environment,
)
from model.waves import WAVES_BY_KIND
from traffic.scenarios import BLATANT_SCENARIOS
from traffic.simulator import DEFAULT_START, Simulator
from vedette import Producer
from vedette.events import format_timestamp
from vedette.limits import KPL_RECORD_MAX_BUFFERED_SECONDS
from vedette.reports import DeliveryReport

REPOSITORY = Path(__file__).resolve().parent.parent
HANDLER = "scorer.handler.lambda_handler"
# The first example of docs/archive-sql.md, run on the archive the local Firehose wrote.
ARCHIVE_QUERY = (
    "SELECT event_type, count(*) AS events, count(DISTINCT user_id) AS users FROM events "
    "GROUP BY event_type ORDER BY events DESC"
)
LEGACY_BAD_RECORDS = (
    b'{"user": "u-1", "action": "login"}',  # an old schema: no event_id, no event_type
    b"login failed for u-2 from 198.18.0.9",  # not JSON at all
    b'{"event_id": "x", "occurred_at": "yesterday", "user_id": "u-3", "event_type": "login_failed"}',
)


@dataclass(frozen=True)
class DemoOptions:
    users: int = 600
    training_days: float = 4.0
    live_days: float = 1.0
    attack_share: float = 0.02
    # The attacks the demo promises to catch; the evasive scenarios are measured by `make eval`
    # (their least sizes would also not fit a small demo's attack budget beside these five).
    scenarios: tuple[str, ...] = BLATANT_SCENARIOS
    rate: float = 1500.0  # live events/s through the producer; 0 = as fast as possible
    shards: int = 2
    producer_threads: int = 4
    producer_linger_seconds: float = KPL_RECORD_MAX_BUFFERED_SECONDS
    seed: int = 7
    archive_buffer_seconds: float = 2.0
    # The stack's archiveUserHashBuckets: 0 archives by time only; else Firehose's dynamic
    # partitioning by user hash, through the partitioner function (archive.layout).
    archive_user_hash_buckets: int = 0
    mapping: MappingSettings = field(default_factory=MappingSettings)
    timeout_seconds: float = 600.0
    report: Path = REPOSITORY / "demo-report.md"
    quiet: bool = False
    # Keep the pipeline running after the demo traffic, for the load test, until Ctrl-C.
    serve: bool = False


class Tracker:
    """What was put when, what Kinesis acknowledged, and what the scorer acknowledged."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.put_at: dict[str, float] = {}
        self.delivered = 0
        self.failed = 0
        self.timings: list[EventTimes] = []
        self.live_ids: set[str] = set()
        # (kind, id) of the users and sessions any attack event came from: an alert on one of them
        # is an alert on an attack (an account taken over is its owner's user too).
        self.attack_entities: set[tuple[str, str]] = set()
        # (kind, id, UTC date) of every user and session with an event that day: the entity-days the
        # alert budget is counted in, so the alerts on normal traffic can be read against it.
        self.entity_days: set[tuple[str, str, str]] = set()
        self.last_ack = 0.0

    def on_delivery(self, report: DeliveryReport) -> None:
        with self.lock:
            if report.ok:
                self.delivered += 1
            else:
                self.failed += 1

    def on_acknowledged(self, ack: Acknowledgement) -> None:
        with self.lock:
            self.last_ack = ack.at
            if ack.invoked_at is None:
                return
            function_seconds = ack.function_seconds if ack.function_seconds is not None else ack.at - ack.invoked_at
            for event_id, arrived in zip(ack.event_ids, ack.arrivals, strict=True):
                if event_id is not None and event_id in self.live_ids:
                    put = self.put_at.get(event_id)
                    if put is not None:
                        self.timings.append(EventTimes(put, arrived, ack.invoked_at, function_seconds, ack.at))


def _produce(
    producer: Producer,
    events: Any,
    tracker: Tracker,
    threads: int,
    rate: float,
    live: bool,
    labels: dict[str, tuple[str, str]],
) -> int:
    """Feed simulated events to ``threads`` service threads that put them; returns how many were put."""
    work: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=10_000)
    put_errors: list[BaseException] = []

    def service() -> None:
        while (event := work.get()) is not None:
            try:
                with tracker.lock:
                    tracker.put_at[event["event_id"]] = time.time()
                producer.put(event)
            except Exception as error:  # noqa: BLE001 - reported after the threads stop
                put_errors.append(error)

    workers = [threading.Thread(target=service, name=f"service-{n}", daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    count = 0
    started = time.monotonic()
    try:
        for event, label in events:
            if live:
                tracker.live_ids.add(event["event_id"])
            day = event["occurred_at"][:10]
            tracker.entity_days.add(("user", event["user_id"], day))
            if event.get("session_id"):
                tracker.entity_days.add(("session", event["session_id"], day))
            if label is not None:
                labels[event["event_id"]] = (label.scenario, label.episode_id)
                tracker.attack_entities.add(("user", event["user_id"]))
                if event.get("session_id"):
                    tracker.attack_entities.add(("session", event["session_id"]))
            work.put(event)
            count += 1
            if rate > 0 and count % 100 == 0:
                ahead = count / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
    finally:
        for _ in workers:
            work.put(None)
        for worker in workers:
            worker.join()
    if put_errors:
        raise RuntimeError(f"{len(put_errors)} events refused by the producer: {put_errors[0]}")
    return count


class Progress:
    """A status line on stderr every two seconds while the pipeline runs."""

    def __init__(self, status: Any, quiet: bool) -> None:
        self.status = status
        self.quiet = quiet
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(2.0):
            if not self.quiet:
                print(self.status(), file=sys.stderr, flush=True)

    def __enter__(self) -> Progress:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.thread.join()


def _wait(condition: Any, timeout: float, what: str) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            print(f"demo: timed out waiting for {what}", file=sys.stderr)
            return False
        time.sleep(0.2)
    return True


def _log(options: DemoOptions, message: str) -> None:
    if not options.quiet:
        print(f"demo: {message}", file=sys.stderr, flush=True)


def run_demo(options: DemoOptions) -> dict[str, Any]:
    """Run the pipeline end to end; returns the figures (also written to the report)."""
    os.environ.update(DUMMY_CREDENTIALS)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    names = PipelineNames()
    tracker = Tracker()
    labels: dict[str, tuple[str, str]] = {}
    emf_scored = Counter[str]()
    # The scorer's steps in the invocations of the live stretch (live[0] is set when it starts).
    live_steps, live = FunctionSteps(), [False]
    wall_started = time.monotonic()
    # Kinesis on kinesalite (moto's Kinesis can lose a record when two writes hit one shard at once);
    # the tables on dynalite (moto's DynamoDB took most of the scorer's time and much of the
    # machine's CPU: docs/deploy.md, "Latency"); the bucket, topic and queues on moto's server.
    with (
        tempfile.TemporaryDirectory(prefix="vedette-demo-") as scratch,
        moto_server() as aws,
        kinesalite() as streams,
        dynalite() as tables,
    ):
        clients = {name: boto3.client(name, endpoint_url=aws, region_name=REGION) for name in ("s3", "sns", "sqs")}
        clients["kinesis"] = boto3.client("kinesis", endpoint_url=streams, region_name=REGION)
        clients["dynamodb"] = boto3.client("dynamodb", endpoint_url=tables, region_name=REGION)
        resources = create_resources(clients, names, options.shards)
        _log(
            options,
            f"AWS on 127.0.0.1: stream {names.stream} ({options.shards} shards) on kinesalite {streams}; "
            f"tables on dynalite {tables}; bucket, topic, queues on moto {aws}",
        )
        firehose = LocalFirehose(
            clients["kinesis"],
            clients["s3"],
            names.stream,
            names.archive_bucket,
            delivery_stream_name=names.delivery_stream,
            buffer_bytes=5 * 1024 * 1024,
            buffer_seconds=options.archive_buffer_seconds,
            user_hash_buckets=options.archive_user_hash_buckets,
        ).start()
        # The training stretch is put as fast as it is simulated, far above what the shards take:
        # put waits for room (per-shard backpressure) rather than refuse the excess.
        producer = Producer(
            names.stream,
            endpoint_url=streams,
            region_name=REGION,
            on_delivery=tracker.on_delivery,
            buffer_full_timeout_seconds=60.0,
            linger_seconds=options.producer_linger_seconds,
        )
        mapping: LocalEventSourceMapping | None = None
        serving_stack = "not started"
        try:
            # One simulated population and one run of time, so users keep their habits from the training
            # stretch into the live traffic: attack events of the training stretch are left out.
            training_start = DEFAULT_START
            live_start = training_start + timedelta(days=options.training_days)
            simulator = Simulator(
                seed=options.seed,
                users=options.users,
                attack_share=options.attack_share,
                scenarios=options.scenarios,
                start=training_start,
                attack_start=live_start,
            )
            timeline = iter(simulator.events(duration=timedelta(days=options.training_days + options.live_days)))
            first_live: list[Any] = []

            def training_stretch() -> Iterator[Any]:
                boundary = format_timestamp(live_start)
                for event, label in timeline:
                    if event["occurred_at"] >= boundary:
                        first_live.append((event, label))
                        return
                    if label is None:
                        yield event, None

            def live_stretch() -> Iterator[Any]:
                yield from first_live
                yield from timeline

            produced_training = _produce(
                producer, training_stretch(), tracker, options.producer_threads, 0.0, False, labels
            )
            producer.flush()
            _log(options, f"training stretch: {produced_training:,} events produced; archiving")
            _wait(lambda: firehose.archived >= tracker.delivered, options.timeout_seconds, "the archive")
            model_dir, tarball = Path(scratch, "model"), Path(scratch, "model.tar.gz")
            _train(aws, names, model_dir, tarball, options)
            feature_config = Path(scratch, "feature_config.json")
            from model.artifact import export_feature_config

            export_feature_config(tarball, feature_config)
            with local_endpoint(tarball, endpoint_name=names.endpoint, region=REGION) as served:
                model_endpoint = served.url
                serving_stack = served.stack.name
                _log(options, f"model trained from the archive; local endpoint on {model_endpoint}")
                _log(options, f"the model container is {served.stack.reason}")
                environment = {
                    **os.environ,
                    **scorer_environment(resources, str(feature_config)),
                    "AWS_ENDPOINT_URL": aws,
                    "AWS_ENDPOINT_URL_DYNAMODB": tables,
                    "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": model_endpoint,
                }

                emf_lock = threading.Lock()  # one output reader per shard's environment

                def on_output(line: str) -> None:
                    if line.startswith("{") and '"_aws"' in line:
                        document = json.loads(line)
                        with emf_lock:
                            for name in ("EventsScored", "BadEvents", "Anomalies", "Alerts"):
                                value = document.get(name)
                                emf_scored[name] += int(sum(value) if isinstance(value, list) else value or 0)
                    elif line.startswith("{") and '"step_ms"' in line:
                        if live[0]:
                            live_steps.add(json.loads(line)["step_ms"])
                    elif line and not line.startswith("{"):
                        print(f"scorer: {line}", file=sys.stderr)

                running = mapping = LocalEventSourceMapping(
                    clients["kinesis"],
                    clients["sqs"],
                    names.stream,
                    resources.on_failure_queue_url,
                    options.mapping,
                    # The scorer as this process imports it: from the installed packages, or from a
                    # PYTHONPATH given (a worktree's), so a run measures the code it was started from.
                    lambda shard: LambdaProcess(
                        HANDLER, environment, on_output, pythonpath=os.environ.get("PYTHONPATH", "")
                    ),
                    tracker.on_acknowledged,
                ).start()
                scoring_started = time.time()
                legacy_count = [0]

                def status() -> str:
                    totals = running.totals()
                    return (
                        f"  produced {tracker.delivered + legacy_count[0]:>8,} | archived {firehose.archived:>8,} | "
                        f"scored {totals.acknowledged_events:>8,} | anomalies {emf_scored['Anomalies']:>6,} | "
                        f"consumer lag {totals.lag_records:,} records"
                    )

                with Progress(status, options.quiet):
                    # The scorer starts at the stream's beginning (building users' state from their
                    # history); live traffic starts once it has caught up, so latency is steady-state.
                    _log(options, "scorer catching up on the training stretch")
                    _wait(
                        lambda: running.totals().acknowledged_events >= produced_training or bool(running.errors),
                        options.timeout_seconds,
                        "the scorer to catch up",
                    )
                    _log(options, "live traffic with attacks")
                    live[0] = True
                    produced_live = _produce(
                        producer,
                        live_stretch(),
                        tracker,
                        options.producer_threads,
                        options.rate,
                        True,
                        labels,
                    )
                    for number, data in enumerate(LEGACY_BAD_RECORDS):
                        clients["kinesis"].put_record(
                            StreamName=names.stream, Data=data, PartitionKey=f"legacy-{number}"
                        )
                        legacy_count[0] += 1
                    producer.flush()
                    produced = tracker.delivered + legacy_count[0]

                    def done() -> bool:
                        totals = running.totals()
                        return (
                            (
                                totals.acknowledged_events + totals.dead_lettered_events >= produced
                                and firehose.archived >= produced
                            )
                            or bool(running.errors)
                            or firehose.error is not None
                        )

                    _wait(done, options.timeout_seconds, "the scorer and the archive")
                    # The analyst console over the pipeline's tables and archive (python -m console).
                    with local_console(_console_settings(names, aws, tables)) as console:
                        console_figures = probe(console.url)
                        _log(options, f"analyst console on {console.url}/")
                        if options.serve:
                            _serve(names, streams, tables, console.url)
                scoring_seconds = max(1e-3, (tracker.last_ack or time.time()) - scoring_started)
                mapping.stop()
                firehose.stop()
                mapping_totals = running.totals()
                mapping_errors = list(mapping.errors)
                mapping = None
        finally:
            producer.close()
            if mapping is not None:
                mapping.stop()
            firehose.stop(drain=False)
        figures = _figures(
            clients,
            resources,
            tracker,
            labels,
            [episode for episode in simulator.episodes if episode.start_micros >= live_start.timestamp() * 1e6],
            produced=produced,
            produced_training=produced_training,
            produced_live=produced_live,
            archived=firehose.archived,
            archived_as_errors=firehose.archived_as_errors,
            acknowledged=mapping_totals.acknowledged_events,
            dead_lettered=mapping_totals.dead_lettered_events,
            scoring_seconds=scoring_seconds,
            emf=dict(emf_scored),
            function_steps=live_steps.figures(),
            errors=mapping_errors + ([str(firehose.error)] if firehose.error else []),
        )
        figures["archive_sql"] = _query_archive(aws, names.archive_bucket)
        figures["console"] = console_figures
    figures["wall_seconds"] = round(time.monotonic() - wall_started, 1)
    # Which server played the SageMaker container: "container" (its real serving stack) or "project"
    # (model/server.py, where the stack's Python 3.10 virtualenv could not be built).
    figures["model_server"] = serving_stack
    return figures


def _query_archive(aws: str, bucket: str) -> dict[str, Any]:
    """``ARCHIVE_QUERY`` over the archive bucket, as ``python -m archive.sql`` runs it."""
    connection = archive_sql.connect(f"s3://{bucket}", endpoint_url=aws)
    try:
        result = archive_sql.query(connection, ARCHIVE_QUERY)
    finally:
        connection.close()
    return {
        "command": f'python -m archive.sql --archive s3://{bucket} "{ARCHIVE_QUERY}"',
        "columns": result.columns,
        "rows": [list(row) for row in result.rows],
    }


def _console_settings(names: PipelineNames, aws: str, tables: str) -> ConsoleSettings:
    # The simulator's addresses resolve through its synthetic geography, as training resolved them.
    return ConsoleSettings(
        anomalies_table=names.anomalies_table,
        labels_table=names.labels_table,
        archive=f"s3://{names.archive_bucket}",
        endpoint_url=aws,
        dynamodb_endpoint_url=tables,
        region=REGION,
        geo="synthetic",
    )


def _serve(names: PipelineNames, streams: str, tables: str, console_url: str) -> None:
    """Keep everything running for other clients (the console, the load test with --e2e) until Ctrl-C."""
    print(
        f"demo: serving until Ctrl-C. The analyst console: {console_url}/\n"
        "Load test against it:\n"
        f"  .venv/bin/python -m loadtest --stream {names.stream} --endpoint-url {streams} --rate 1000 "
        f"--e2e --anomalies-table {names.anomalies_table} --dynamodb-endpoint-url {tables}",
        file=sys.stderr,
        flush=True,
    )
    while True:
        time.sleep(3600)


def _train(aws: str, names: PipelineNames, model_dir: Path, tarball: Path, options: DemoOptions) -> None:
    """The SageMaker training entry point, reading the archive from the bucket (script mode)."""
    from model import train

    environment = {"SM_CHANNEL_TRAIN": f"s3://{names.archive_bucket}/", "SM_MODEL_DIR": str(model_dir)}
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        exit_code = train.main(["--tarball", str(tarball), "--endpoint-url", aws, "--geo", "synthetic"])
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    if exit_code != 0:
        raise RuntimeError(f"training failed (exit code {exit_code})")


def _figures(
    clients: dict[str, Any],
    resources: PipelineResources,
    tracker: Tracker,
    labels: dict[str, tuple[str, str]],
    episodes: list[Any],
    **counts: Any,
) -> dict[str, Any]:
    names = resources.names
    anomalies: dict[str, dict[str, Any]] = {}
    paginator = clients["dynamodb"].get_paginator("scan")
    for page in paginator.paginate(TableName=names.anomalies_table):
        for item in page["Items"]:
            if not item["sk"]["S"].startswith("alert#"):
                anomalies[item["event_id"]["S"]] = {
                    "occurred_at": item["occurred_at"]["S"],
                    "user": item["user_id"]["S"],
                }
    bad_lines = set()
    listing = clients["s3"].list_objects_v2(Bucket=names.archive_bucket, Prefix=names.bad_events_prefix)
    for entry in listing.get("Contents", []):
        body = clients["s3"].get_object(Bucket=names.archive_bucket, Key=entry["Key"])["Body"].read()
        for line in body.splitlines():
            parsed = orjson.loads(line)
            bad_lines.add((parsed["shard_id"], parsed["sequence_number"], parsed["sub_sequence_number"]))
    dead_letter_messages = drain_queue(clients["sqs"], resources.on_failure_queue_url)
    alerts = drain_queue(clients["sqs"], resources.alerts_inbox_url)
    by_target = dict(Counter(alert_target(alert, tracker.attack_entities) for alert in alerts))

    bad = len(bad_lines)
    scored = counts["acknowledged"] - bad
    flagged_by_episode: dict[str, list[str]] = defaultdict(list)
    normal_flagged_live = normal_flagged_training = 0
    for event_id, anomaly in anomalies.items():
        label = labels.get(event_id)
        if label is not None:
            flagged_by_episode[label[1]].append(anomaly["occurred_at"])
        elif event_id in tracker.live_ids:
            normal_flagged_live += 1
        else:
            normal_flagged_training += 1
    scenarios: dict[str, dict[str, Any]] = {}
    for episode in episodes:
        row = scenarios.setdefault(
            episode.scenario, {"episodes": 0, "caught": 0, "events": 0, "events_flagged": 0, "detect_seconds": []}
        )
        row["episodes"] += 1
        row["events"] += episode.events
        flagged = sorted(flagged_by_episode.get(episode.episode_id, []))
        row["events_flagged"] += len(flagged)
        if flagged:
            row["caught"] += 1
            first = datetime.fromisoformat(flagged[0].replace("Z", "+00:00"))
            row["detect_seconds"].append(
                (first - datetime.fromtimestamp(episode.start_micros / 1e6, UTC)).total_seconds()
            )
    for row in scenarios.values():
        delays = row.pop("detect_seconds")
        row["median_seconds_to_detect"] = round(statistics.median(delays), 1) if delays else None
    live_normal = counts["produced_live"] - sum(1 for event_id in labels if event_id in tracker.live_ids)
    latency = breakdown(tracker.timings)

    def milliseconds(name: str) -> int | None:
        return round(latency[name]) if latency else None

    produced, archived = counts["produced"], counts["archived"]
    dead_lettered = counts["dead_lettered"]
    return {
        "produced": produced,
        "archived": archived,
        # Of those, the records the partitioner failed (archived by user hash), under errors/.
        "archived_as_errors": counts["archived_as_errors"],
        "scored": scored,
        "bad": bad,
        "dead_lettered": dead_lettered,
        "archived_equals_produced": archived == produced,
        "accounted_equals_produced": scored + bad + dead_lettered == produced,
        "training_events": counts["produced_training"],
        "live_events": counts["produced_live"],
        "anomalies": len(anomalies),
        "alerts": len(alerts),
        # Who the alerts were about: users and sessions an attack came from, others, the whole service.
        "alerts_by_target": by_target,
        # Against the alert budget (alerts per 1,000 active entities a day, for users and sessions each).
        "entity_days": len(tracker.entity_days),
        "normal_alerts_per_1000_entity_days": round(
            1000 * by_target.get("normal", 0) / max(len(tracker.entity_days), 1), 2
        ),
        "dead_letter_messages": len(dead_letter_messages),
        "scenarios": scenarios,
        "normal_flagged_live": normal_flagged_live,
        "normal_live_events": live_normal,
        "normal_flagged_live_rate": round(normal_flagged_live / live_normal, 4) if live_normal else None,
        "normal_flagged_training": normal_flagged_training,
        "scored_events_per_second": round(scored / counts["scoring_seconds"]),
        "produce_to_scored_ms_p50": milliseconds("p50_ms"),
        "produce_to_scored_ms_p95": milliseconds("p95_ms"),
        "produce_to_scored_ms_p99": milliseconds("p99_ms"),
        "produce_to_scored_ms_mean": milliseconds("mean_ms"),
        # Where that time goes (local_pipeline.latency): each stage's percentiles, mean and share.
        "latency_stages": latency.get("stages", {}),
        # Whether the pipeline kept up with the live stretch: if not, the latencies measure its backlog.
        "live_keeping_up": keeping_up(tracker.timings),
        # The function stage by the scorer's steps (scorer.batch.process_batch), in the live stretch.
        "function_steps": counts["function_steps"],
        "scorer_emf": counts["emf"],
        "errors": counts["errors"],
    }


def alert_target(message: dict[str, Any], attack_entities: set[tuple[str, str]]) -> str:
    """``attack``, ``normal`` or ``service`` (a wave: failed logins, declined payments, sign-ups): whom an alert
    message is about."""
    entity = message.get("entity")  # a per-event alert (a model without the entity stage) names its user
    kind, identity = (entity["kind"], entity["id"]) if isinstance(entity, dict) else ("user", message["user_id"])
    if kind in WAVES_BY_KIND:
        return "service"
    return "attack" if (kind, identity) in attack_entities else "normal"


def render(figures: dict[str, Any]) -> str:
    """The human summary: accounting, then per-scenario detection, then throughput and latency."""
    lines = [
        "",
        "Vedette local pipeline",
        "",
        f"  produced {figures['produced']:,}   archived {figures['archived']:,}   scored {figures['scored']:,}   "
        f"bad {figures['bad']:,}   dead-lettered {figures['dead_lettered']:,}",
        f"  archived == produced: {figures['archived_equals_produced']}   "
        f"scored + bad + dead-lettered == produced: {figures['accounted_equals_produced']}",
    ]
    if figures.get("archived_as_errors"):
        lines.append(
            f"  archived by user hash: {figures['archived_as_errors']:,} records the partitioner failed "
            "(not events) are under errors/processing-failed/"
        )
    lines += [
        "",
        f"  {'scenario':<20} {'episodes':>8} {'caught':>7} {'events':>7} {'flagged':>8} {'median s to detect':>19}",
    ]
    for name, row in sorted(figures["scenarios"].items()):
        delay = row["median_seconds_to_detect"]
        lines.append(
            f"  {name:<20} {row['episodes']:>8} {row['caught']:>7} {row['events']:>7} {row['events_flagged']:>8} "
            f"{'-' if delay is None else f'{delay:,.0f}':>19}"
        )
    rate = figures["normal_flagged_live_rate"]
    by_target = figures.get("alerts_by_target", {})
    targets = ", ".join(f"{by_target.get(target, 0):,} on {target}" for target in ("attack", "normal", "service"))
    lines += [
        "",
        f"  normal live events flagged: {figures['normal_flagged_live']:,} of {figures['normal_live_events']:,}"
        f" ({'-' if rate is None else f'{rate:.2%}'}); alerts sent: {figures['alerts']:,} ({targets}; on normal, "
        f"{figures['normal_alerts_per_1000_entity_days']} per 1,000 user- and session-days)",
        f"  scored {figures['scored_events_per_second']:,} events/s; produce-to-scored latency "
        f"p50 {figures['produce_to_scored_ms_p50']} ms, p95 {figures['produce_to_scored_ms_p95']} ms, "
        f"p99 {figures['produce_to_scored_ms_p99']} ms",
    ]
    lines += _render_keeping_up(figures.get("live_keeping_up", {}))
    lines += _render_stages(figures["latency_stages"])
    lines += _render_steps(figures.get("function_steps", {}))
    lines.append(f"  wall time {figures.get('wall_seconds', 0)} s")
    lines.append(f"  model container: {figures.get('model_server', '-')} (see README: which server ran)")
    if figures["errors"]:
        lines.append(f"  errors: {figures['errors']}")
    if "console" in figures:
        console = figures["console"]
        lines += [
            "",
            f"  analyst console: {console['url']} listed {console['alerts_on_first_page']} alerts on its first page"
            f" (the newest with {console['newest_alert_events']} events from the archive);"
            " make demo DEMO_ARGS=--serve keeps it up",
        ]
    if "archive_sql" in figures:
        answer = figures["archive_sql"]
        lines += ["", "  SQL over the archive (docs/archive-sql.md):", f"  {answer['command']}"]
        for row in [answer["columns"], *answer["rows"]]:
            lines.append("    " + "  ".join(f"{'NULL' if value is None else value!s:>15}" for value in row))
    return "\n".join(lines) + "\n"


def _render_stages(stages: dict[str, dict[str, Any]]) -> list[str]:
    """Where the produce-to-scored time goes: a row per stage of ``local_pipeline.latency``."""
    if not stages:
        return []

    def cell(value: float | None, form: str) -> str:
        return "-" if value is None else format(value, form)

    lines = [
        "",
        f"  {'stage':<10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'share':>6} {'of slowest 5%':>14}",
    ]
    for stage in STAGES:
        row = stages[stage.name]
        lines.append(
            f"  {stage.name:<10} {row['p50_ms']:>8,.0f} {row['p95_ms']:>8,.0f} {row['p99_ms']:>8,.0f} "
            f"{row['mean_ms']:>8,.0f} {cell(row['share'], '.0%'):>6} {cell(row['tail_share'], '.0%'):>14}"
        )
    lines += [f"    {stage.name}: {stage.description}" for stage in STAGES]
    return lines


# A pipeline that keeps up has the same latency at the end of the live stretch as at its start; one
# that falls behind builds a backlog, and the latency grows with it. (The rates cannot tell on a
# stretch of a few seconds: the last batch's latency alone lowers the scored rate.)
FELL_BEHIND_GROWTH = 1.5


def _render_keeping_up(pace: dict[str, float]) -> list[str]:
    """The live stretch's pace: put and scored rates, and the latency's first and last quarters."""
    if not pace:
        return []
    lines = [
        f"  live events put at {pace['put_per_second']:,.0f}/s, scored at {pace['scored_per_second']:,.0f}/s; "
        f"median latency {pace['first_quarter_p50_ms']:,.0f} ms in the first quarter, "
        f"{pace['last_quarter_p50_ms']:,.0f} ms in the last"
    ]
    if pace["last_quarter_p50_ms"] > FELL_BEHIND_GROWTH * pace["first_quarter_p50_ms"]:
        lines.append(
            "  the pipeline fell behind the live rate on this machine: these latencies measure its backlog "
            "(--rate sets the live rate)"
        )
    return lines


def _render_steps(steps: dict[str, dict[str, float]]) -> list[str]:
    """The function stage by the scorer's steps: mean milliseconds per invocation and share."""
    if not steps:
        return []
    cells = ", ".join(f"{step} {row['mean_ms']:,.0f} ms ({row['share']:.0%})" for step, row in steps.items())
    return [f"  function by step (mean per invocation): {cells}"]


def write_report(figures: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Vedette demo report\n\n```\n"
        + render(figures)
        + "```\n\n```json\n"
        + json.dumps(figures, indent=2)
        + "\n```\n"
    )
