"""The load test against a local stream: its counts match what reached the stream, second by second;
it warns when the stream capped the run and sizes for the load offered; its baseline retries as
botocore's standard mode does; it refuses unsafe runs."""

from __future__ import annotations

import json
import multiprocessing
import queue
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

import loadtest.__main__ as cli
from benchmarks.limit_proxy import Admitted, ProxyCall, agreement
from loadtest import timeline as t
from loadtest.e2e import probe_latencies
from loadtest.pricing import Load, monthly_cost, shards_needed
from loadtest.report import summarize
from loadtest.runner import BASELINE_RETRIES, Run, Schedule, WorkerControl, WorkerSettings, baseline_client, run_worker
from loadtest.timeline import SecondLedger, Timeline
from scorer.stores import Anomaly, DynamoAnomalyStore
from tests.conftest import read_stream
from tests.refusing_proxy import RefusingKinesisProxy
from tests.scorer_factories import create_resources
from vedette.events import format_timestamp, normalize_event
from vedette.limits import MIB

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
    # and the per-second timeline adds up to the totals: every stored event is in one second
    for run in (ours, baseline):
        assert sum(row["events"] for row in run["timeline"]) == run["delivered"]
        assert {row["phase"] for row in run["timeline"]} >= {"warm-up", "measured"}
        assert run["shards"] == 2
    assert results["lost_share_of_accepted"] == {"vedette": 0.0, "baseline": 0.0}
    assert sum(record.aggregated for record in stored) > 0  # ours aggregates; the baseline does not
    assert ours["delivered"] > 0
    assert baseline["delivered"] > 0
    assert ours["capacity"]["shards"] >= 1
    assert (tmp_path / "plot.png").read_bytes().startswith(b"\x89PNG")
    assert json.loads(result.stdout.splitlines()[-1])["ratio_to_baseline"] == results["ratio_to_baseline"]


def test_its_call_log_matches_the_limit_proxys_call_by_call(limited_kinesis, make_stream, tmp_path):
    # GIVEN a one-shard stream behind the limit proxy
    stream = make_stream(1)

    # WHEN a load test with its baseline offers it more bytes than the shard takes, logging its calls
    result = run_loadtest(
        *("--stream", stream, "--endpoint-url", limited_kinesis.endpoint, "--rate", "1000", "--pad-bytes", "1500"),
        *("--duration", "2", "--warmup", "1", "--processes", "1", "--users", "200", "--baseline"),
        *("--output", str(tmp_path / "results.json"), "--plot", str(tmp_path / "plot.png")),
        *("--calls", str(tmp_path / "calls.jsonl")),
    )

    # THEN each attempt it logged is one the proxy logged under the same invocation id and attempt,
    # with the same records, bytes and throttled entries, arrived after it was sent; and none is missing
    assert result.returncode == 0, result.stderr
    proxy = {(call["invocation_id"], call["attempt"]): call for call in limited_kinesis.stream_stats(stream)["calls"]}
    sent = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert {call["run"] for call in sent} == {"vedette", "baseline"}
    assert sorted(proxy) == sorted((call["invocation_id"], call["attempt"]) for call in sent)
    for call in sent:
        theirs = proxy[call["invocation_id"], call["attempt"]]
        mine = (call["kinesis_records"], call["kinesis_bytes"], call["throttled"])
        assert mine == (theirs["admitted_entries"], theirs["admitted_bytes"], theirs["throttled_entries"])
        assert call["sent_at"] <= theirs["arrived"]
    assert sum(call["throttled"] for call in sent) > 0  # the shard's limit was reached
    # and the timeline is the calls counted by the second they were sent, its events those the proxy
    # found in the records it admitted from them
    results = json.loads((tmp_path / "results.json").read_text())
    for name in ("vedette", "baseline"):
        keys = [(call["invocation_id"], call["attempt"]) for call in sent if call["run"] == name]
        events = sum(proxy[key]["admitted_user_records"] for key in keys)
        assert sum(row["events"] for row in results[name]["timeline"]) == events == results[name]["delivered"]
        by_second = Counter()
        for call in sent:
            if call["run"] == name:
                by_second[int(call["sent_at"])] += call["kinesis_records"]
        assert {row["t"]: row["kinesis_records"] for row in results[name]["timeline"] if row["kinesis_records"]} == {
            second: records for second, records in by_second.items() if records
        }


def _second(t: int, records: int, throttled: int = 0, events: int | None = None) -> dict[str, Any]:
    return {
        "t": t,
        "phase": "measured",
        "kinesis_records": records,
        "kinesis_bytes": 1000 * records,
        "throttled": throttled,
        "events": 10 * records if events is None else events,
    }


def test_the_benchmark_tells_a_call_that_crossed_a_second_on_the_way_from_a_miscount():
    # GIVEN three calls of 10 aggregated records (100 events): the second sent 0.5 ms before second
    # 101 began and arriving 1.5 ms after, so the proxy counted it in second 101, the load test in 100
    sent_at = {"a": 100.2, "b": 100.9995, "c": 101.5}
    arrived = {"a": 100.201, "b": 101.0015, "c": 101.501}
    throttled = {"a": 0, "b": 2, "c": 0}
    sent = [
        {"invocation_id": name, "attempt": 1, "sent_at": sent_at[name], "kinesis_records": 10}
        | {"kinesis_bytes": 10_000, "throttled": throttled[name]}
        for name in sent_at
    ]
    calls = {(name, 1): ProxyCall(arrived[name], Admitted(10, 10_000, throttled[name], 100)) for name in sent_at}
    by_arrival = {100: Admitted(10, 10_000, 0, 100), 101: Admitted(20, 20_000, 2, 200)}
    honest = {
        "timeline": [_second(100, 20, throttled=2), _second(101, 10)],
        "kinesis_records_per_second": 15,
        "events_per_second": 150,
    }

    # WHEN the benchmark compares the load test's timeline with the proxy's
    result = agreement(honest, by_arrival, sent, calls)

    # THEN both seconds differ by arrival, but agree call by call, with the one call that crossed
    # the boundary and its transit time named
    assert result["seconds_within_1pct"] == 0
    by_call = result["by_call"]
    assert by_call["seconds_within_1pct"] == 2
    assert by_call["calls_across_a_second"] == 1
    assert by_call["transit_ms"]["max"] == pytest.approx(2.0)
    assert (by_call["calls_not_seen_by_proxy"], by_call["proxy_calls_not_in_loadtest"]) == (0, 0)
    assert result["events"] == {"loadtest": 300, "proxy": 300}

    # AND a timeline that lost one record, or three of the 200 events, of second 100 disagrees call by call too
    for miscounted in (_second(100, 19, throttled=2, events=200), _second(100, 20, throttled=2, events=197)):
        run = {**honest, "timeline": [miscounted, _second(101, 10)]}
        by_call = agreement(run, by_arrival, sent, calls)["by_call"]
        assert by_call["seconds_within_1pct"] == 1
        assert [second["t"] for second in by_call["disagreeing_seconds"]] == [100]


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


def test_timeline_counts_each_second_from_reports_of_several_processes_in_any_order():
    # GIVEN two processes counting on their own clocks, each reporting twice; process 0's second
    # report carries a late answer for a call it sent in second 100 (it was blocked in put)
    now = [100.2]
    first, second = SecondLedger(clock=lambda: now[0]), SecondLedger(clock=lambda: now[0])
    first.add(t.PUT, 500)
    first.add(t.KINESIS_RECORDS, 20, at=100.9)
    second.add(t.PUT, 300)
    second.add(t.THROTTLED, 4, at=100.95)
    reports = [first.take(), second.take()]
    now[0] = 101.5
    first.add(t.PUT, 200)
    first.add(t.DELIVERED, 450, at=100.9)
    second.add(t.KINESIS_RECORDS, 10)
    second.add(t.THROTTLED, 1, at=101.01)
    reports += [first.take(), second.take()]

    # WHEN the parent adds them up in another order than they were made
    timeline = Timeline()
    for report in (reports[3], reports[0], reports[2], reports[1]):
        timeline.add(report)

    # THEN each second holds what happened in it, whichever report said so
    assert timeline.seconds[100] == Counter({t.PUT: 800, t.DELIVERED: 450, t.KINESIS_RECORDS: 20, t.THROTTLED: 4})
    assert timeline.seconds[101] == Counter({t.PUT: 200, t.KINESIS_RECORDS: 10, t.THROTTLED: 1})
    assert timeline.span() == range(100, 102)
    assert timeline.total(t.THROTTLED) == 5


def test_progress_counts_never_go_down(monkeypatch, capsys):
    # GIVEN a run whose processes report one throttled entry a second each, for 80 reports
    monkeypatch.setattr(cli, "PROGRESS_LINE_SECONDS", 0)  # a line for every report
    run = Run(Schedule(int(time.time()), 1, 60))
    bar = cli.ProgressBar("vedette producer", 61)

    # WHEN the progress bar sees the run after each report
    for number in range(80):
        ledger = SecondLedger()
        ledger.add(t.THROTTLED, 1, at=run.schedule.started + number // 2)
        ledger.add(t.DELIVERED, 100, at=run.schedule.started + number // 2)
        run.timeline.add(ledger.take())
        bar(run)

    # THEN its throttled and stored counts only grow, and end at the run's totals
    lines = capsys.readouterr().err.splitlines()
    throttled = [int(line.split("throttled ")[1].split()[0].replace(",", "")) for line in lines]
    stored = [int(line.split("stored ")[1].split()[0].replace(",", "")) for line in lines]
    assert len(lines) == 80
    assert throttled == sorted(throttled)
    assert throttled[-1] == 80
    assert stored == sorted(stored)
    assert stored[-1] == 8000


def _capped_run(target_rate: float, put_per_second: int) -> Run:
    """Four measured seconds in which four shards took 9,500 events/s in 80 aggregates of about
    3.9 MiB, throttled 40 entries a second, then a close flush that stored 50,000 more."""
    run = Run(Schedule(started=1000, warmup=1, duration=4))
    ledger = SecondLedger()
    ledger.add(t.PUT, put_per_second, at=1000)
    ledger.add(t.DELIVERED, 9_500, at=1000)
    for second in range(1001, 1005):
        for name, value in (
            (t.PUT, put_per_second),
            (t.DELIVERED, 9_500),
            (t.KINESIS_RECORDS, 80),
            (t.KINESIS_BYTES, int(3.9 * MIB)),
            (t.PUT_PAYLOAD_UNITS, 160),
            (t.THROTTLED, 40),
        ):
            ledger.add(name, value, at=second)
    ledger.add(t.DELIVERED, 50_000, at=1005)
    ledger.add(t.EXPIRED, 1_000, at=1006)
    run.timeline.add(ledger.take())
    run.closed_at = 1006.5
    return run


def test_a_throttled_run_warns_and_sizes_the_stream_for_the_offered_load():
    # GIVEN a run asked for 20,000 events/s, of which four shards took 9,500 a second, throttling
    run = _capped_run(target_rate=20_000, put_per_second=12_000)

    # WHEN it is summarized
    summary = summarize(run, shards=4, target_rate=20_000, headroom=0.25)

    # THEN it says the stream throttled and capped it, and that put fell behind the target
    warnings = " | ".join(summary["warnings"])
    assert "throttled: the stream refused 160 of 480 entries" in warnings
    assert "capacity-bound: the measured window used 97% of the 4 shard(s)" in warnings
    assert "behind: put took 12,000 events/s of the 20,000 asked" in warnings
    assert "lost: 1,000 of 60,000 accepted events were not stored (1.7%: 1,000 expired" in warnings
    # and sizes the stream for the 20,000 events/s offered, not the 9,500 the shards let through
    offered = Load(80 * 20_000 / 9_500, 3.9 * MIB * 20_000 / 9_500, 160 * 20_000 / 9_500)
    capped = Load(80, 3.9 * MIB, 160)
    assert summary["capacity"]["offered_events_per_second"] == 20_000
    assert summary["capacity"]["shards"] == shards_needed(offered) == 11
    assert shards_needed(capped) == 6
    # and the close flush is apart from the measured rate
    assert summary["events_per_second"] == 9_500
    assert summary["close"] == {"seconds": 1.5, "delivered": 50_000, "throttles": 0, "lost": 1_000}


def test_an_unlimited_run_says_its_sizing_is_a_lower_bound():
    # GIVEN a --rate 0 run whose puts took 12,000 events/s while the shards stored 9,500
    run = _capped_run(target_rate=0, put_per_second=12_000)

    # WHEN it is summarized
    summary = summarize(run, shards=4, target_rate=0, headroom=0.25)

    # THEN the stream is sized for what put accepted, and said to be a lower bound
    assert summary["capacity"]["offered_events_per_second"] == 12_000
    assert summary["capacity"]["basis"] == "put rate (a lower bound)"
    assert any(warning.startswith("--rate 0: the offered load is what put accepted") for warning in summary["warnings"])
    assert not any(warning.startswith("behind") for warning in summary["warnings"])


def test_a_run_within_capacity_has_no_warning():
    run = Run(Schedule(started=1000, warmup=0, duration=2))
    ledger = SecondLedger()
    for second in (1000, 1001):
        for name, value in ((t.PUT, 1000), (t.DELIVERED, 1000), (t.KINESIS_RECORDS, 20), (t.KINESIS_BYTES, MIB // 2)):
            ledger.add(name, value, at=second)
    run.timeline.add(ledger.take())
    summary = summarize(run, shards=4, target_rate=1000, headroom=0.25)
    assert summary["warnings"] == []
    assert summary["capacity"]["shards"] == 1


def _run_baseline_in_this_process(endpoint: str, stream: str, seconds: float) -> Timeline:
    settings = WorkerSettings(stream, endpoint, "us-east-1", 1000, seconds, 200, 0.0, 0, 1, baseline=True)
    reports: queue.Queue[dict[str, Any]] = queue.Queue()
    control = WorkerControl(go=threading.Event(), stop=threading.Event(), start=multiprocessing.Value("d", time.time()))
    control.go.set()
    run_worker(settings, 0, reports, control)
    timeline = Timeline()
    while not reports.empty():
        message = reports.get()
        if "cells" in message:
            timeline.add(message["cells"])
    return timeline


def test_the_baseline_client_uses_botocores_standard_retry_mode(kinesis_endpoint, make_stream):
    # GIVEN a stream behind a proxy that throttles every PutRecords call whole
    stream = make_stream(1)
    client = baseline_client(WorkerSettings(stream, kinesis_endpoint, "us-east-1", 0, 1, 1, 0.0, 0, 1, baseline=True))
    assert client.meta.config.retries == BASELINE_RETRIES == {"mode": "standard", "total_max_attempts": 3}
    with RefusingKinesisProxy(kinesis_endpoint, throttle_calls=True) as proxy:
        # WHEN the baseline runs against it for two seconds
        timeline = _run_baseline_in_this_process(proxy.endpoint, stream, seconds=2)

    # THEN each call reached the stream three times under one invocation id: standard mode's attempts
    by_call: dict[str, list[dict[str, str]]] = {}
    for attempt in proxy.attempts:
        fields = dict(field.split("=", 1) for field in attempt.retry_header.split("; "))
        by_call.setdefault(attempt.invocation_id, []).append(fields)
    assert by_call
    for attempts in by_call.values():
        assert [(fields["attempt"], fields["max"]) for fields in attempts] == [("1", "3"), ("2", "3"), ("3", "3")]
    # and every attempt's entries count as throttled; nothing was stored, what it made is counted lost
    assert timeline.total(t.THROTTLED) == sum(attempt.entries for attempt in proxy.attempts)
    # and each attempt is in its call log once, named as it was on the wire
    named = [(attempt.invocation_id, int(attempt.retry_header.split("attempt=")[1][0])) for attempt in proxy.attempts]
    assert sorted((call.invocation_id, call.attempt) for call in timeline.calls) == sorted(named)
    assert all(call.throttled == 500 and call.kinesis_records == 0 for call in timeline.calls)
    assert timeline.total(t.DELIVERED) == 0
    assert timeline.total(t.CLOSED) == timeline.total(t.PUT) == 500


def test_the_baseline_retries_refused_entries_after_a_backoff_until_stored(kinesis_endpoint, kinesis, make_stream):
    # GIVEN a stream behind a proxy that refuses each entry twice before it takes it
    stream = make_stream(2)
    with RefusingKinesisProxy(kinesis_endpoint, entry_refusals=2) as proxy:
        # WHEN the baseline runs against it
        timeline = _run_baseline_in_this_process(proxy.endpoint, stream, seconds=3)

    # THEN what it counts stored is in the stream, once; what it counts throttled is what was refused
    event_ids = [json.loads(record.data)["event_id"] for record in read_stream(kinesis, stream)]
    assert len(event_ids) == len(set(event_ids)) == timeline.total(t.DELIVERED) == timeline.total(t.KINESIS_RECORDS)
    assert timeline.total(t.THROTTLED) == sum(proxy.refused.values())
    assert timeline.total(t.DELIVERED) + timeline.total(t.CLOSED) == timeline.total(t.PUT)
    assert all(count <= 2 for count in proxy.refused.values())


def test_the_baseline_backs_off_instead_of_hammering_a_refusing_stream(kinesis_endpoint, make_stream):
    # GIVEN a stream behind a proxy that refuses every entry, every time
    stream = make_stream(1)
    with RefusingKinesisProxy(kinesis_endpoint, entry_refusals=None) as proxy:
        # WHEN the baseline runs against it for three seconds
        timeline = _run_baseline_in_this_process(proxy.endpoint, stream, seconds=3)

    # THEN it sent its one batch a few times, waiting longer each time (rand x 1, 2, 4 s...), not in
    # a tight loop; and it counts the batch lost
    assert 2 <= len(proxy.attempts) <= 8
    assert timeline.total(t.CLOSED) == 500


@pytest.mark.parametrize("rand", [0.0, 0.5, 1.0])
def test_the_baseline_backoff_is_botocores_standard_one(rand):
    from loadtest.runner import backoff_seconds

    assert [backoff_seconds(attempt, lambda: rand) for attempt in (1, 2, 3, 5, 6, 9)] == [
        rand * 1,
        rand * 2,
        rand * 4,
        rand * 16,
        rand * 20,
        rand * 20,
    ]
