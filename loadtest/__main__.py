"""`python -m loadtest`: sustained throughput, throttling and latency of a Kinesis stream with Vedette's producer.

Runs producer processes (the library services embed) fed by the traffic simulator against a stream
on AWS or on a local emulator, shows progress, and reports achieved events/s and MB/s, Kinesis
records and PUT payload units, throttles, retries, put latency, failures, the shards that load
needs and what the stream would cost per month in both capacity modes. ``--baseline`` runs boto3
``put_records`` without aggregation in the same conditions afterwards and reports the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from emulators import DUMMY_CREDENTIALS
from loadtest.e2e import probe_latencies
from loadtest.pricing import DEFAULT_HEADROOM
from loadtest.report import plot, render, summarize
from loadtest.runner import WorkerSettings, run_processes

MAX_SECONDS = 900
MAX_RATE = 100_000
TEST_STREAM = re.compile(r"(test|load|bench|dev|staging|tmp|demo)", re.IGNORECASE)
LOOPBACK = re.compile(r"^https?://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?/?$")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__.splitlines()[0])
    parser.add_argument("--stream", required=True, help="Kinesis stream name")
    parser.add_argument("--endpoint-url", help="Kinesis endpoint (a local emulator); default: AWS for the region")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--rate", type=float, default=2000, help="target events/s over all processes; 0 = unlimited")
    parser.add_argument("--duration", type=float, default=30, help="measured seconds, after the warm-up")
    parser.add_argument("--warmup", type=float, default=5, help="seconds run but not measured")
    parser.add_argument("--processes", type=int, default=2, help="producer processes")
    parser.add_argument("--users", type=int, default=5000, help="simulated users per process (event mix)")
    parser.add_argument("--attack-share", type=float, default=0.02, help="share of attack events in the mix")
    parser.add_argument("--pad-bytes", type=int, default=0, help="extra bytes per event, to test larger events")
    parser.add_argument("--headroom", type=float, default=DEFAULT_HEADROOM, help="spare share of each shard")
    parser.add_argument("--baseline", action="store_true", help="also run boto3 put_records without aggregation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--e2e",
        action="store_true",
        help="put one probe event a second per process and time it to the scorer's anomalies table",
    )
    parser.add_argument("--anomalies-table", help="with --e2e: the scorer's anomalies table (a stack output)")
    parser.add_argument("--dynamodb-endpoint-url", help="with --e2e: DynamoDB endpoint (the local pipeline's)")
    parser.add_argument("--output", type=Path, default=Path("loadtest-results.json"), help="results as JSON")
    parser.add_argument("--plot", type=Path, default=Path("loadtest.png"), help="throughput and latency over time")
    parser.add_argument(
        "--allow-any-stream",
        action="store_true",
        help="run against a stream whose name does not look like a test stream (test, load, bench, dev...)",
    )
    parser.add_argument(
        "--allow-large", action="store_true", help=f"lift the caps of {MAX_SECONDS} s and {MAX_RATE:,} events/s"
    )
    arguments = parser.parse_args(argv)
    local = bool(arguments.endpoint_url and LOOPBACK.match(arguments.endpoint_url))
    if not local and not arguments.allow_any_stream and not TEST_STREAM.search(arguments.stream):
        parser.error(
            f"--stream {arguments.stream!r} does not look like a test stream and the endpoint is not local; "
            "pass --allow-any-stream if you mean it"
        )
    if not arguments.allow_large and (
        arguments.duration + arguments.warmup > MAX_SECONDS
        or (arguments.rate == 0 and not local)
        or arguments.rate > MAX_RATE
    ):
        parser.error(
            f"duration above {MAX_SECONDS} s or rate above {MAX_RATE:,} events/s (or unlimited against AWS) "
            "needs --allow-large"
        )
    if arguments.e2e and not arguments.anomalies_table:
        parser.error("--e2e needs --anomalies-table (the stack's output, or the local pipeline's name)")
    if arguments.processes < 1 or arguments.duration <= 0 or arguments.warmup < 0:
        parser.error("--processes must be at least 1, --duration positive and --warmup not negative")
    return arguments


class ProgressBar:
    """A one-line bar on a terminal, a line every five seconds elsewhere."""

    def __init__(self, label: str, total_seconds: float, warmup: float) -> None:
        self.label = label
        self.total = total_seconds
        self.warmup = warmup
        self.started = time.time()
        self.window: list[dict[str, Any]] = []
        self.last_line = 0.0
        self.tty = sys.stderr.isatty()

    def __call__(self, interval: dict[str, Any]) -> None:
        self.window = [*self.window[-50:], interval]
        elapsed = min(self.total, time.time() - self.started)
        recent = [item for item in self.window if item["ended_at"] > time.time() - 3]
        rate = sum(item["delivered"] for item in recent) / 3
        throttles = sum(item["throttles"] for item in self.window)
        filled = int(30 * elapsed / self.total) if self.total else 30
        phase = "warm-up" if elapsed < self.warmup else "measuring"
        line = (
            f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {elapsed:4.0f}/{self.total:.0f} s {phase:<9} "
            f"{rate:>9,.0f} events/s  throttles {throttles:,}"
        )
        if self.tty:
            print("\r" + line, end="", file=sys.stderr, flush=True)
        elif time.time() - self.last_line >= 5:
            print(line, file=sys.stderr, flush=True)
            self.last_line = time.time()

    def close(self) -> None:
        if self.tty:
            print(file=sys.stderr)


def run(arguments: argparse.Namespace, baseline: bool) -> dict[str, Any]:
    settings = WorkerSettings(
        stream=arguments.stream,
        endpoint_url=arguments.endpoint_url,
        region=arguments.region,
        rate=arguments.rate,
        seconds=arguments.warmup + arguments.duration,
        users=arguments.users,
        attack_share=arguments.attack_share,
        pad_bytes=arguments.pad_bytes,
        seed=arguments.seed,
        baseline=baseline,
        probes=arguments.e2e and not baseline,
    )
    bar = ProgressBar("boto3 baseline" if baseline else "vedette producer", settings.seconds, arguments.warmup)
    started = time.time()
    try:
        intervals = run_processes(settings, arguments.processes, bar)
    finally:
        bar.close()
    summary = summarize(intervals, started, arguments.warmup, arguments.headroom)
    if settings.probes:
        import boto3

        dynamodb = boto3.client("dynamodb", endpoint_url=arguments.dynamodb_endpoint_url, region_name=arguments.region)
        probes = [probe for interval in intervals for probe in interval["probes"]]
        summary["e2e"] = probe_latencies(dynamodb, arguments.anomalies_table, probes)
    return summary


def main(argv: list[str] | None = None) -> int:
    arguments = parse_args(argv)
    if arguments.endpoint_url and LOOPBACK.match(arguments.endpoint_url):
        # A local emulator takes any credentials; do not make the user invent some.
        for name, value in DUMMY_CREDENTIALS.items():
            os.environ.setdefault(name, value)
    try:
        results: dict[str, Any] = {"settings": {k: str(v) for k, v in vars(arguments).items()}}
        results["vedette"] = run(arguments, baseline=False)
        if arguments.baseline:
            results["baseline"] = run(arguments, baseline=True)
            base = results["baseline"]["events_per_second"]
            results["ratio_to_baseline"] = round(results["vedette"]["events_per_second"] / base, 2) if base else None
    except KeyboardInterrupt:
        print("\nloadtest: interrupted; producers were closed", file=sys.stderr)
        return 130
    arguments.output.write_text(json.dumps(results, indent=2))
    plot(results, arguments.plot)
    sys.stdout.write(render(results))
    print(f"results: {arguments.output}   plot: {arguments.plot}")
    print(json.dumps({key: value for key, value in results.items() if key != "settings"}, separators=(",", ":")))
    failures = results["vedette"]["failed"]
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
