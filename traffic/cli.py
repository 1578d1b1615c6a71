"""``python -m traffic``: simulate labeled traffic, or import existing logs, as events.

Both commands write JSON lines (one event per line, the bytes the producer would send) to a file
or standard output, or the archive's layout (``--archive DIR`` or ``s3://bucket/prefix``), and
``simulate`` can also push through the producer to a Kinesis stream (``--stream``). Labels and
episodes go to their own files: never inside the events. Summaries go to standard error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from typing import IO, Any

import orjson

from archive import ArchiveError, ArchiveWriter
from traffic.exceptions import LogFormatError, OutputError, SimulationConfigError
from traffic.forwarded import add_real_ip_from
from traffic.importer import (
    FORMATS,
    LogImporter,
    add_failed_login_status,
    add_haproxy_headers,
    add_session_cookie,
    add_signup_path,
    format_name,
)
from traffic.scenarios import SCENARIO_NAMES
from traffic.simulator import DEFAULT_ATTACK_SHARE, DEFAULT_START, LabeledEvent, Simulator
from vedette.events import encode_event, parse_timestamp
from vedette.exceptions import InvalidEventError, VedetteError

_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_duration(text: str) -> timedelta:
    """``90``, ``90s``, ``15m``, ``2h`` or ``7d``."""
    match = _DURATION_RE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration (like 90s, 15m, 2h, 7d): {text!r}")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def parse_start(text: str) -> datetime:
    """``now`` or an RFC 3339 time with an offset."""
    if text == "now":
        return datetime.now(timezone.utc)
    try:
        return parse_timestamp(text)
    except InvalidEventError as error:
        raise argparse.ArgumentTypeError(error.reason) from None


def positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m traffic",
        description="Labeled simulated traffic and log import, as events in the Vedette contract.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{simulate,import}")

    simulate = commands.add_parser(
        "simulate",
        help="generate normal traffic with labeled attack episodes",
        description="Generate normal customers plus labeled attack episodes ("
        + ", ".join(SCENARIO_NAMES)
        + "). Deterministic for a seed.",
    )
    amount = simulate.add_mutually_exclusive_group()
    amount.add_argument("--events", type=int, help="how many events (default 10000 unless --duration)")
    amount.add_argument("--duration", type=parse_duration, help="simulated time span instead: 90s, 15m, 2h, 7d")
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simulate.add_argument("--users", type=int, default=1000, help="simulated customers (default 1000)")
    simulate.add_argument(
        "--attack-share",
        type=float,
        default=DEFAULT_ATTACK_SHARE,
        help=f"share of events that belong to attacks, 0-0.5 (default {DEFAULT_ATTACK_SHARE})",
    )
    simulate.add_argument(
        "--scenarios",
        default=",".join(SCENARIO_NAMES),
        help="comma-separated attack scenarios (default: all)",
    )
    simulate.add_argument(
        "--start",
        type=parse_start,
        default=DEFAULT_START,
        help="simulated start time, RFC 3339 or 'now' (default 2026-11-02T00:00:00Z)",
    )
    simulate.add_argument(
        "--attack-start",
        type=parse_start,
        help="no attacks before this time (a clean history to train on); the share applies after it",
    )
    pacing = simulate.add_mutually_exclusive_group()
    pacing.add_argument(
        "--rate", type=positive_float, help="pace output at this many events per wall-clock second (default: no pacing)"
    )
    pacing.add_argument(
        "--speed",
        type=positive_float,
        help="pace output on the simulated clock: simulated seconds per wall-clock second "
        "(1 with --start now keeps occurred_at near the wall clock; 60 runs an hour a minute)",
    )
    _add_outputs(simulate, stream=True)
    simulate.add_argument("--episodes", help="write one JSON line per attack episode to this file")

    importer = commands.add_parser(
        "import",
        help="import logs (JSON lines, access logs, custom formats, CSIC 2010)",
        description="Import logs as events in the contract. Unparseable lines are counted and "
        "reported with examples on standard error; they never stop the import.",
    )
    importer.add_argument("inputs", nargs="+", help="files to read ('-' for standard input; a folder for csic2010)")
    importer.add_argument(
        "--format",
        type=format_name,
        choices=FORMATS,
        help="input format (default combined, or custom where --log-format is given)",
    )
    importer.add_argument(
        "--log-format",
        help="custom format string in nginx syntax, e.g. "
        "'$remote_addr $session_id [$time_local] \"$request\" $status', or Apache's LogFormat syntax, e.g. "
        "'%%h %%l %%u %%t \"%%r\" %%>s %%b %%{sid}C', or a JSON template for JSON lines (nginx's escape=json, "
        "API Gateway's $context format), or Envoy's format string ('[%%START_TIME%%] \"%%REQ(:METHOD)%% ...'), "
        "or a whole nginx log_format directive (with --format custom)",
    )
    importer.add_argument(
        "--time-format",
        default="%d/%b/%Y:%H:%M:%S %z",
        help="strptime format of $time_local (default %%d/%%b/%%Y:%%H:%%M:%%S %%z; no %%z means UTC)",
    )
    importer.add_argument(
        "--start",
        type=parse_start,
        default=DEFAULT_START,
        help="csic2010 only: time of the first line (one second per line after it)",
    )
    add_failed_login_status(importer)
    add_signup_path(importer)
    add_real_ip_from(importer)
    add_session_cookie(importer)
    add_haproxy_headers(importer)
    importer.add_argument("--max-examples", type=int, default=5, help="examples kept per kind of problem (default 5)")
    importer.add_argument("--report", help="also write the import report as JSON to this file")
    _add_outputs(importer, stream=False)
    return parser


def _add_outputs(parser: argparse.ArgumentParser, *, stream: bool) -> None:
    sinks = parser.add_mutually_exclusive_group()
    sinks.add_argument("--output", "-o", default="-", help="JSON lines file (default: standard output)")
    sinks.add_argument(
        "--archive",
        help="write the archive layout (GZIP JSON lines under events/yyyy/MM/dd/HH/) to a folder or s3://bucket/prefix",
    )
    if stream:
        sinks.add_argument("--stream", help="put the events into this Kinesis stream through vedette.Producer")
        parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"), help="AWS region")
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="AWS endpoint for --archive s3://... and --stream (default $AWS_ENDPOINT_URL; an emulator)",
    )
    parser.add_argument("--labels", help="write one JSON line per labeled event: event_id, scenario, episode_id")


class _Pacer:
    """Sleeps so that the n-th event leaves no earlier than n / rate seconds after the first."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.started = time.monotonic()
        self.sent = 0

    def wait_for(self, event: dict[str, Any]) -> None:
        if self.rate is None:
            return
        self.sent += 1
        delay = self.started + self.sent / self.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)


class _ClockPacer(_Pacer):
    """Sleeps so that simulated time advances ``speed`` times as fast as the wall clock."""

    def __init__(self, speed: float) -> None:
        super().__init__(None)
        self.speed = speed
        self.first: float | None = None

    def wait_for(self, event: dict[str, Any]) -> None:
        moment = parse_timestamp(event["occurred_at"]).timestamp()
        if self.first is None:
            self.first = moment
            self.started = time.monotonic()
            return
        delay = self.started + (moment - self.first) / self.speed - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def _open_binary(path: str, stack: ExitStack) -> IO[bytes]:
    if path == "-":
        return sys.stdout.buffer
    return stack.enter_context(open(path, "wb"))


def _write_events(labeled: Iterable[LabeledEvent], args: argparse.Namespace, pacer: _Pacer) -> tuple[Counter[str], int]:
    """Send every event to the chosen sink and its label to the labels file.

    Returns the counts per label (and ``events``), and how many events a stream did not take.
    """
    with ExitStack() as stack:
        sink, undelivered = _make_sink(args, stack)
        labels = _open_binary(args.labels, stack) if args.labels else None
        counts = _drain(labeled, sink, labels, pacer)
    return counts, sum(undelivered)


def _drain(labeled: Iterable[LabeledEvent], sink: Any, labels: IO[bytes] | None, pacer: _Pacer) -> Counter[str]:
    counts: Counter[str] = Counter()
    for event, label in labeled:
        pacer.wait_for(event)
        sink(event)
        counts["events"] += 1
        if label is not None:
            counts[label.scenario] += 1
            if labels is not None:
                record = {"event_id": event["event_id"], "scenario": label.scenario, "episode_id": label.episode_id}
                labels.write(orjson.dumps(record) + b"\n")
    return counts


class _StreamSink:
    """Puts events through ``vedette.Producer``; counts what was not delivered."""

    def __init__(self, args: argparse.Namespace) -> None:
        import boto3
        from botocore.exceptions import ClientError

        from vedette.producer import Producer

        self.stream = args.stream
        self.failed = 0
        self.first_failure = ""
        self._lock = threading.Lock()
        # Fail before simulating anything when the stream is not there (the producer would retry).
        client = boto3.session.Session().client("kinesis", endpoint_url=args.endpoint_url, region_name=args.region)
        try:
            client.describe_stream_summary(StreamName=args.stream)
        except ClientError as error:
            raise OutputError(f"stream {args.stream!r}: {error}") from None
        self.producer = Producer(
            args.stream,
            endpoint_url=args.endpoint_url,
            region_name=args.region,
            on_delivery=self._on_delivery,
            buffer_full_timeout_seconds=60.0,  # backpressure: wait for room rather than fail
        )
        self.put = self.producer.put

    def _on_delivery(self, report: Any) -> None:
        # Called from the producer's threads: a counter and one example, not a growing list.
        if report.error is not None:
            with self._lock:
                if not self.failed:
                    self.first_failure = f"{report.event_id}: {report.error}"
                self.failed += 1

    def close(self) -> int:
        """Flush and close; the number of events that were not delivered."""
        self.producer.close()
        if self.failed:
            print(
                f"stream {self.stream}: {self.failed} event(s) not delivered; first: {self.first_failure}",
                file=sys.stderr,
            )
        return self.failed


def _make_sink(args: argparse.Namespace, stack: ExitStack) -> tuple[Any, list[int]]:
    """The function that takes each event, and a list that receives the undelivered count."""
    undelivered: list[int] = []
    if args.archive:
        writer = stack.enter_context(ArchiveWriter(args.archive, endpoint_url=args.endpoint_url))
        return writer.put_event, undelivered
    if getattr(args, "stream", None):
        sink = _StreamSink(args)
        stack.callback(lambda: undelivered.append(sink.close()))
        return sink.put, undelivered
    output = _open_binary(args.output, stack)

    def write_line(event: dict[str, Any]) -> None:
        output.write(encode_event(event) + b"\n")

    return write_line, undelivered


def _summary(counts: Counter[str], seconds: float) -> str:
    total = counts.pop("events", 0)
    attacks = sum(counts.values())
    share = attacks / total if total else 0.0
    detail = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    rate = total / seconds if seconds > 0 else 0.0
    return f"{total} event(s), {attacks} labeled ({share:.2%}){': ' + detail if detail else ''}; {rate:,.0f} events/s"


def run_simulate(args: argparse.Namespace) -> int:
    scenarios = [name for name in args.scenarios.split(",") if name]
    simulator = Simulator(
        seed=args.seed,
        users=args.users,
        attack_share=args.attack_share,
        start=args.start,
        scenarios=scenarios,
        attack_start=args.attack_start,
    )
    count = args.events if args.events is not None or args.duration is not None else 10_000
    started = time.perf_counter()
    pacer = _ClockPacer(args.speed) if args.speed else _Pacer(args.rate)
    counts, undelivered = _write_events(simulator.events(count=count, duration=args.duration), args, pacer)
    if args.episodes:
        with open(args.episodes, "wb") as handle:
            for episode in simulator.episodes:
                handle.write(orjson.dumps(episode.to_json()) + b"\n")
    print(f"simulate: {_summary(counts, time.perf_counter() - started)}", file=sys.stderr)
    return 1 if undelivered else 0


def _imported(importer: LogImporter, inputs: list[str]) -> Iterator[LabeledEvent]:
    for path in inputs:
        yield from importer.import_file(path)


def run_import(args: argparse.Namespace) -> int:
    if args.format is None:  # (a format string names the custom format)
        args.format = "custom" if args.log_format else "combined"
    importer = LogImporter(
        args.format,
        log_format=args.log_format,
        time_format=args.time_format,
        start=args.start,
        max_examples=args.max_examples,
        failed_login_statuses=args.failed_login_status,
        real_ip_from=args.real_ip_from,
        session_cookie=args.session_cookie,
        haproxy_headers=args.haproxy_headers,
        signup_paths=args.signup_path,
    )
    for path in args.inputs:
        if path != "-" and not os.path.exists(path):
            print(f"import: {path}: no such file or folder", file=sys.stderr)
            return 2
    started = time.perf_counter()
    counts, _ = _write_events(_imported(importer, args.inputs), args, _Pacer(None))
    report = importer.report
    print(f"import: {report.summary()}", file=sys.stderr)
    for hint in report.hints():
        print(f"import: warning: {hint}", file=sys.stderr)
    print(f"import: {_summary(counts, time.perf_counter() - started)}", file=sys.stderr)
    if args.report:
        with open(args.report, "wb") as handle:
            handle.write(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
    if report.lines and not report.events:
        print(f"import: no line could be imported: is --format {args.format} right?", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "simulate":
            return run_simulate(args)
        return run_import(args)
    except (SimulationConfigError, LogFormatError) as error:
        parser.error(str(error))
    except (OutputError, ArchiveError, VedetteError, OSError) as error:
        print(f"{args.command}: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Output piped into head and friends: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
