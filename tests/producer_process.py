"""A service process for the crash and shutdown tests: ``python -m tests.producer_process``.

It puts events through a producer and writes each accepted ``event_id`` to stdout as soon as
``put`` has returned it (so the test knows what was accepted when it kills the process), then a
``READY`` line after ``--count`` events, and keeps running (putting more with ``--forever``) until
a signal ends it.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

from emulators import DUMMY_CREDENTIALS
from tests.conftest import make_event
from vedette.producer import Producer
from vedette.signals import flush_on_sigterm


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--stream", required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--first", type=int, default=0, help="number of the first event")
    parser.add_argument("--linger", type=float, default=0.1)
    parser.add_argument("--flush-on-sigterm", action="store_true")
    parser.add_argument("--spool-dir")
    parser.add_argument("--forever", action="store_true", help="keep putting after READY, in random bursts")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    os.environ.update(DUMMY_CREDENTIALS)
    settings = {"spool_dir": arguments.spool_dir} if arguments.spool_dir else {}
    producer = Producer(
        arguments.stream,
        endpoint_url=arguments.endpoint,
        region_name="us-east-1",
        linger_seconds=arguments.linger,
        **settings,
    )
    if arguments.flush_on_sigterm:
        flush_on_sigterm(timeout=20)
    out = sys.stdout
    number = arguments.first
    for _ in range(arguments.count):
        out.write(producer.put(make_event(number)) + "\n")
        number += 1
    out.write("READY\n")
    out.flush()
    rng = random.Random(arguments.seed)
    while True:
        if arguments.forever:
            for _ in range(rng.randrange(1, 200)):
                out.write(producer.put(make_event(number)) + "\n")
                number += 1
            out.flush()
            time.sleep(rng.random() * 0.01)
        else:
            time.sleep(0.1)


if __name__ == "__main__":
    main()
