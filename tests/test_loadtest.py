"""The load test against a local stream: its counts match what reached the stream; it refuses unsafe runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from loadtest.pricing import Load, monthly_cost, shards_needed
from tests.conftest import read_stream

REPOSITORY = Path(__file__).resolve().parent.parent


def run_loadtest(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadtest", *arguments], cwd=REPOSITORY, capture_output=True, text=True, check=False
    )


def test_reported_counts_match_what_reached_the_stream(aws_endpoint, kinesis, make_stream, tmp_path):
    # GIVEN a two-shard stream on the local emulator
    stream = make_stream(2)

    # WHEN two producer processes run a short load test, then the boto3 baseline
    result = run_loadtest(
        *("--stream", stream, "--endpoint-url", aws_endpoint, "--rate", "400", "--duration", "2", "--warmup", "1"),
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
