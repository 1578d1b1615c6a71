"""``python -m vedette.deadletter replay FILE --stream NAME``: put parked events into a stream again.

Apart from the package so that the producer, which parks events (``vedette.deadletter``), and this
command, which makes a producer, do not import each other.

A replay happens once: FILE is moved to ``FILE.replaying`` before anything is sent and renamed
``FILE.replayed-<UTC time>`` when the replay has finished, so replaying FILE again sends nothing
(only events parked since, in a new FILE). Events that fail again are parked in ``FILE.failed``.
A replay that was interrupted leaves ``FILE.replaying``, which the next replay sends again.
"""

from __future__ import annotations

import argparse
import sys

from vedette.deadletter import claim, finish, replay
from vedette.metrics import FAILED, InMemoryMetrics
from vedette.producer import Producer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vedette.deadletter",
        description="Put the parked events of a dead-letter file into a stream again, once.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    replay_command = commands.add_parser("replay", help="put the parked events of FILE into a stream again")
    replay_command.add_argument("file")
    replay_command.add_argument("--stream", required=True, help="Kinesis stream name")
    replay_command.add_argument("--endpoint-url", help="Kinesis endpoint (default: boto3's for the region)")
    replay_command.add_argument("--region", help="AWS region (default: boto3's configuration)")
    arguments = parser.parse_args(argv)

    claimed = claim(arguments.file)
    if claimed is None:
        sys.stdout.write(f"nothing to replay: {arguments.file} does not exist (already replayed?)\n")
        return 0
    failed_again = arguments.file + ".failed"
    metrics = InMemoryMetrics()
    with Producer(
        arguments.stream,
        endpoint_url=arguments.endpoint_url,
        region_name=arguments.region,
        dead_letter_path=failed_again,
        metrics=metrics,
    ) as producer:
        count = replay(claimed, producer)
        pending = producer.flush()
    # Every event is now stored, or parked again in failed_again by close: the claimed file is done.
    done = finish(claimed)
    failed = metrics.snapshot().get(FAILED, 0)
    sys.stdout.write(
        f"replayed {count} event(s) from {done}; {failed} failed again (parked in {failed_again}); "
        f"{pending} pending at exit\n"
    )
    return 1 if failed or pending else 0


if __name__ == "__main__":
    sys.exit(main())
