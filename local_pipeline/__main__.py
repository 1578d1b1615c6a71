"""`python -m local_pipeline`: run the demo (``make demo``)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from dataclasses import replace
from pathlib import Path

from archive.layout import check_user_hash_buckets
from local_pipeline.demo import DemoOptions, render, run_demo, write_report
from local_pipeline.event_source import MappingSettings
from traffic.scenarios import SCENARIO_NAMES


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _user_hash_buckets(text: str) -> int:
    try:
        return check_user_hash_buckets(int(text))
    except ValueError as error:
        reason = str(error) if text.strip().lstrip("-").isdigit() else f"must be an integer, got {text!r}"
        raise argparse.ArgumentTypeError(reason) from None


def main(argv: list[str] | None = None) -> int:
    defaults = DemoOptions()
    parser = argparse.ArgumentParser(
        prog="python -m local_pipeline",
        description="Run the whole Vedette pipeline on this machine: emulated AWS on 127.0.0.1, the real "
        "producer, scorer and model code. The last line printed is one JSON object with the figures.",
    )
    parser.add_argument("--users", type=int, default=defaults.users, help="simulated customers (default %(default)s)")
    parser.add_argument(
        "--training-days",
        type=float,
        default=defaults.training_days,
        help="simulated days of attack-free traffic the model is trained on (default %(default)s)",
    )
    parser.add_argument(
        "--live-days",
        type=float,
        default=defaults.live_days,
        help="simulated days of live traffic (default %(default)s)",
    )
    parser.add_argument("--attack-share", type=float, default=defaults.attack_share, help="default %(default)s")
    parser.add_argument(
        "--scenarios",
        default=",".join(defaults.scenarios),
        help=f"comma-separated attack scenarios, of: {', '.join(SCENARIO_NAMES)} (default %(default)s)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=defaults.rate,
        help="live events/s, 0 for as fast as possible (default %(default)s)",
    )
    parser.add_argument("--shards", type=int, default=defaults.shards, help="default %(default)s")
    parser.add_argument(
        "--linger",
        type=float,
        default=defaults.producer_linger_seconds,
        help="seconds the producer holds an event to aggregate it with others (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--archive-user-hash-buckets",
        type=_user_hash_buckets,
        default=defaults.archive_user_hash_buckets,
        help="the stack's archiveUserHashBuckets: lay the archive out by user hash in this many buckets "
        "(a power of two from 2; default %(default)s, time only), through the partitioner function",
    )
    parser.add_argument("--batch-size", type=int, default=MappingSettings().batch_size, help="mapping batch size")
    parser.add_argument(
        "--batching-window",
        type=int,
        default=MappingSettings().maximum_batching_window_in_seconds,
        help="the mapping's MaximumBatchingWindowInSeconds, 0-300 (default %(default)s, the stack's)",
    )
    parser.add_argument("--timeout", type=float, default=defaults.timeout_seconds, help="seconds to wait per stage")
    parser.add_argument("--report", type=Path, default=defaults.report, help="where to write the report")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--serve",
        action="store_true",
        help="after the demo traffic, keep the pipeline and the analyst console running (for a browser, "
        "and python -m loadtest --e2e) until Ctrl-C",
    )
    arguments = parser.parse_args(argv)
    options = replace(
        defaults,
        users=arguments.users,
        training_days=arguments.training_days,
        live_days=arguments.live_days,
        attack_share=arguments.attack_share,
        scenarios=tuple(name for name in arguments.scenarios.split(",") if name),
        rate=arguments.rate,
        shards=arguments.shards,
        producer_linger_seconds=arguments.linger,
        seed=arguments.seed,
        archive_user_hash_buckets=arguments.archive_user_hash_buckets,
        mapping=replace(
            defaults.mapping,
            batch_size=arguments.batch_size,
            maximum_batching_window_in_seconds=arguments.batching_window,
        ),
        timeout_seconds=arguments.timeout,
        report=arguments.report,
        quiet=arguments.quiet,
        serve=arguments.serve,
    )
    # SIGTERM (a service manager, `timeout`) stops it as Ctrl-C does: through the cleanup that stops
    # the emulators, which run in sessions of their own.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        figures = run_demo(options)
    except KeyboardInterrupt:
        print("\ndemo: interrupted; every process it started has been stopped", file=sys.stderr)
        return 130
    sys.stdout.write(render(figures))
    write_report(figures, options.report)
    print(f"  report: {options.report}")
    print(json.dumps(figures, separators=(",", ":")))
    accounted = figures["archived_equals_produced"] and figures["accounted_equals_produced"]
    return 0 if accounted and not figures["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
