"""``python -m vedette.deadletter replay FILE --stream NAME``: put parked events into a stream again.

Apart from the package so that the producer, which parks events (``vedette.deadletter``), and this
command, which makes a producer, do not import each other.
"""

from __future__ import annotations

import argparse
import sys

from vedette.deadletter import replay
from vedette.metrics import FAILED, InMemoryMetrics
from vedette.producer import Producer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vedette.deadletter",
        description="Put the parked events of a dead-letter file into a stream again.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    replay_command = commands.add_parser("replay", help="put the parked events of FILE into a stream again")
    replay_command.add_argument("file")
    replay_command.add_argument("--stream", required=True, help="Kinesis stream name")
    replay_command.add_argument("--endpoint-url", help="Kinesis endpoint (default: boto3's for the region)")
    replay_command.add_argument("--region", help="AWS region (default: boto3's configuration)")
    arguments = parser.parse_args(argv)

    failed_again = arguments.file + ".failed"
    metrics = InMemoryMetrics()
    with Producer(
        arguments.stream,
        endpoint_url=arguments.endpoint_url,
        region_name=arguments.region,
        dead_letter_path=failed_again,
        metrics=metrics,
    ) as producer:
        count = replay(arguments.file, producer)
        pending = producer.flush()
    failed = metrics.snapshot().get(FAILED, 0)
    sys.stdout.write(
        f"replayed {count} event(s); {failed} failed again (parked in {failed_again}); {pending} pending at exit\n"
    )
    return 1 if failed or pending else 0


if __name__ == "__main__":
    sys.exit(main())
