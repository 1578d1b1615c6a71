"""The load test against a local stream: its counts match what reached the stream; it refuses unsafe runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import boto3

from loadtest.e2e import probe_latencies
from loadtest.pricing import Load, monthly_cost, shards_needed
from scorer.stores import Anomaly, DynamoAnomalyStore
from tests.conftest import read_stream
from tests.scorer_factories import create_resources
from vedette.events import format_timestamp, normalize_event

REPOSITORY = Path(__file__).resolve().parent.parent


def run_loadtest(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadtest", *arguments], cwd=REPOSITORY, capture_output=True, text=True, check=False
    )


def test_reported_counts_match_what_reached_the_stream(kinesis_endpoint, kinesis, make_stream, tmp_path):
    # GIVEN a two-shard stream on the local emulator
    stream = make_stream(2)

    # WHEN two producer processes run a short load test, then the boto3 baseline
    result = run_loadtest(
        *("--stream", stream, "--endpoint-url", kinesis_endpoint, "--rate", "400", "--duration", "2", "--warmup", "1"),
        *("--processes", "2", "--users", "200", "--baseline"),
        *("--output", str(tmp_path / "results.json"), "--plot", str(tmp_path / "plot.png")),
    )

    # THEN every event it reports delivered is in the stream, once, and nothing else is
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    ours, baseline = results["vedette"], results["baseline"]
    stored = read_stream(kinesis, stream)
    event_ids = [json.loads(record.data)["event_id"] for record in stored]
    assert len(event_ids) == len(set(event_ids)) == ours["delivered"] + baseline["delivered"]
    assert ours["failed"] == baseline["failed"] == 0
    assert sum(record.aggregated for record in stored) > 0  # ours aggregates; the baseline does not
    assert ours["delivered"] > 0
    assert baseline["delivered"] > 0
    assert ours["capacity"]["shards"] >= 1
    assert (tmp_path / "plot.png").read_bytes().startswith(b"\x89PNG")
    assert json.loads(result.stdout.splitlines()[-1])["ratio_to_baseline"] == results["ratio_to_baseline"]


def test_refuses_a_stream_that_does_not_look_like_a_test_stream_on_aws():
    result = run_loadtest("--stream", "vedette-events", "--region", "eu-west-1")
    assert result.returncode == 2
    assert "does not look like a test stream" in result.stderr


def test_refuses_unbounded_runs_without_allow_large():
    result = run_loadtest("--stream", "loadtest-events", "--duration", "3600")
    assert result.returncode == 2
    assert "needs --allow-large" in result.stderr


def test_shards_and_cost_follow_the_binding_limit():
    # 3 MiB/s in 300 records/s: bytes bind (4 shards at 75 %); 5,000 small records/s: records bind
    assert shards_needed(Load(300, 3 * 1024 * 1024, 300)) == 4
    assert shards_needed(Load(5000, 500_000, 5000)) == 7
    cost = monthly_cost(Load(300, 3 * 1024 * 1024, 300), mean_record_bytes=10_485)
    # 4 shards x 730 h x $0.015 + 300 units/s x 2,628,000 s / 1e6 x $0.014
    assert cost["provisioned_usd_per_month"] == round(4 * 730 * 0.015 + 300 * 730 * 3600 / 1e6 * 0.014, 2)


def test_probe_latency_is_read_from_the_scorers_anomaly_records(aws_endpoint, tmp_path):
    # GIVEN three probes put by the load test, two of which the scorer recorded as anomalies
    resources = create_resources(aws_endpoint, "probes")
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name="us-east-1")
    store = DynamoAnomalyStore(dynamodb, resources.settings.anomalies_table, 3600)
    put_at = time.time() - 2.0
    probes = []
    for number in range(3):
        event = normalize_event({"user_id": "vedette-loadtest-probe-0", "event_type": "api_call"})
        probes.append({key: event[key] for key in ("event_id", "occurred_at", "user_id")} | {"put_at": put_at})
        if number < 2:
            store.record(Anomaly(event, 9.0, 1.0, [], format_timestamp(datetime.fromtimestamp(put_at + 1.5, UTC))))

    # WHEN the load test reads them back
    result = probe_latencies(dynamodb, resources.settings.anomalies_table, probes, wait_seconds=1.0)

    # THEN the latency is scored_at minus the put time, and the unscored probe is counted
    assert (result["probes"], result["probes_scored"], result["probes_not_found"]) == (3, 2, 1)
    assert result["produce_to_scored_ms_p50"] == 1500
