"""`python -m loadtest`: sustained throughput, throttling and latency of a Kinesis stream with Vedette's producer.

Runs producer processes (the library services embed) fed by the traffic simulator against a stream
on AWS or on a local emulator (or any proxy in front of one, through ``--endpoint-url``), shows
progress, and reports events/s stored, Kinesis records/s, MiB/s and PUT payload units, throttled
entries, put latency, accepted events lost, the close flush apart, a per-second timeline (each
PutRecords call counted in the second it was sent), warnings when the stream throttled or capped
the run, and the shards and monthly cost of the load offered. ``--baseline`` runs boto3
``put_records`` without aggregation (botocore's standard retries, backoff on failed entries) in the
same conditions afterwards and reports the ratio beside what each run lost.
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
from loadtest import timeline as t
from loadtest.e2e import probe_latencies
from loadtest.pricing import DEFAULT_HEADROOM
from loadtest.report import plot, render, summarize
from loadtest.runner import Run, WorkerSettings, run_processes
from vedette.shards import fetch_shard_map

MAX_SECONDS = 900
MAX_RATE = 100_000
TEST_STREAM = re.compile(r"(test|load|bench|dev|staging|tmp|demo)", re.IGNORECASE)
LOOPBACK = re.compile(r"^https?://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?/?$")
PROGRESS_RATE_SECONDS = 3
PROGRESS_LINE_SECONDS = 5


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__.splitlines()[0])
    parser.add_argument("--stream", required=True, help="Kinesis stream name")
    parser.add_argument("--endpoint-url", help="Kinesis endpoint (a local emulator); default: AWS for the region")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--rate", type=float, default=2000, help="target events/s over all processes; 0 = unlimited")
    parser.add_argument("--duration", type=float, default=30, help="measured seconds (at least 1), after the warm-up")
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
        "--calls",
        type=Path,
        help="write every PutRecords attempt here as JSON lines (the SDK's invocation id and attempt, when it "
        "was sent, records and bytes admitted, entries throttled), to match call by call with the receiving "
        "end's log",
    )
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
    if arguments.processes < 1 or arguments.duration < 1 or arguments.warmup < 0:
        parser.error("--processes and --duration must be at least 1 and --warmup not negative")
    return arguments


class ProgressBar:
    """A one-line bar on a terminal, a line every five seconds elsewhere.

    Counts are the run's cumulative totals, so they never go down; the rate is events stored in
    the last complete seconds, by the second they were sent, not by when their report arrived."""

    def __init__(self, label: str, total_seconds: float) -> None:
        self.label = label
        self.total = total_seconds
        self.last_line = 0.0
        self.line = ""  # the latest state, until printed
        self.tty = sys.stderr.isatty()

    def __call__(self, run: Run) -> None:
        now = time.time()
        schedule, timeline = run.schedule, run.timeline
        elapsed = min(self.total, max(0.0, now - schedule.started))
        # Reports come every second: the two seconds before the current one may still be incomplete.
        recent = range(int(now) - 2 - PROGRESS_RATE_SECONDS, int(now) - 2)
        rate = timeline.total(t.DELIVERED, recent) / PROGRESS_RATE_SECONDS
        phase = "closing" if now >= schedule.ends else schedule.phase(int(now))
        if phase == "closing":
            status = f"{sum(run.pending.values()):,} events still buffered"
        else:
            status = f"{rate:>9,.0f} events/s"
        filled = int(30 * elapsed / self.total) if self.total else 30
        line = (
            f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {elapsed:4.0f}/{self.total:.0f} s {phase:<9} "
            f"{status}  stored {timeline.totals[t.DELIVERED]:,}  throttled {timeline.totals[t.THROTTLED]:,}  "
            f"lost {sum(timeline.totals[name] for name in t.LOST):,}"
        )
        self.line = line
        if self.tty:
            print("\r" + line, end="", file=sys.stderr, flush=True)
        elif now - self.last_line >= PROGRESS_LINE_SECONDS:
            print(line, file=sys.stderr, flush=True)
            self.last_line = now
            self.line = ""

    def close(self) -> None:
        """End the bar; elsewhere than a terminal, print the last state if it was not printed."""
        if self.tty:
            print(file=sys.stderr)
        elif self.line:
            print(self.line, file=sys.stderr, flush=True)


def stream_shards(arguments: argparse.Namespace) -> int | None:
    """The stream's open shard count, for its capacity; None when it cannot be listed."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client("kinesis", endpoint_url=arguments.endpoint_url, region_name=arguments.region)
    try:
        return len(fetch_shard_map(client, arguments.stream).shards)
    except (BotoCoreError, ClientError) as error:
        print(f"loadtest: cannot list the stream's shards ({error}); capacity not shown", file=sys.stderr)
        return None


def write_calls(path: Path, runs: dict[str, list[t.Call]]) -> None:
    """Every attempt of each run as one JSON object a line, with the run's name."""
    with path.open("w") as output:
        for name, calls in runs.items():
            for call in sorted(calls, key=lambda call: call.sent_at):
                output.write(json.dumps({"run": name, **call._asdict()}) + "\n")


def run(arguments: argparse.Namespace, baseline: bool, shards: int | None) -> tuple[dict[str, Any], list[t.Call]]:
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
    bar = ProgressBar("boto3 baseline" if baseline else "vedette producer", settings.seconds)
    try:
        record = run_processes(settings, arguments.processes, arguments.warmup, bar)
    finally:
        bar.close()
    summary = summarize(record, shards, arguments.rate, arguments.headroom)
    if settings.probes:
        import boto3

        dynamodb = boto3.client("dynamodb", endpoint_url=arguments.dynamodb_endpoint_url, region_name=arguments.region)
        summary["e2e"] = probe_latencies(dynamodb, arguments.anomalies_table, record.probes)
    return summary, record.timeline.calls


def main(argv: list[str] | None = None) -> int:
    arguments = parse_args(argv)
    if arguments.endpoint_url and LOOPBACK.match(arguments.endpoint_url):
        # A local emulator takes any credentials; do not make the user invent some.
        for name, value in DUMMY_CREDENTIALS.items():
            os.environ.setdefault(name, value)
    try:
        results: dict[str, Any] = {"settings": {k: str(v) for k, v in vars(arguments).items()}}
        shards = stream_shards(arguments)
        calls: dict[str, list[t.Call]] = {}
        results["vedette"], calls["vedette"] = run(arguments, baseline=False, shards=shards)
        if arguments.baseline:
            results["baseline"], calls["baseline"] = run(arguments, baseline=True, shards=shards)
            base = results["baseline"]["events_per_second"]
            results["ratio_to_baseline"] = round(results["vedette"]["events_per_second"] / base, 2) if base else None
            # Beside the ratio: a run that stored more per second may have lost what it accepted.
            results["lost_share_of_accepted"] = {
                name: results[name]["lost_share_of_accepted"] for name in ("vedette", "baseline")
            }
    except KeyboardInterrupt:
        print("\nloadtest: interrupted; producers were closed", file=sys.stderr)
        return 130
    arguments.output.write_text(json.dumps(results, indent=2))
    if arguments.calls:
        write_calls(arguments.calls, calls)
    plot(results, arguments.plot)
    sys.stdout.write(render(results))
    print(f"results: {arguments.output}   plot: {arguments.plot}")
    # One line for scripts: everything but the settings and the per-second timelines (in --output).
    brief = {key: value for key, value in results.items() if key != "settings"}
    for name in ("vedette", "baseline"):
        if name in brief:
            brief[name] = {key: value for key, value in brief[name].items() if key != "timeline"}
    print(json.dumps(brief, separators=(",", ":")))
    failures = results["vedette"]["failed"]
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
