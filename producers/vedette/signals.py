"""Opt-in: flush every producer when the process is asked to stop (SIGTERM).

Python's default SIGTERM action ends the process at once: no ``finally`` blocks, no ``atexit``
hooks, so every event still buffered is lost without a report. ``flush_on_sigterm()`` installs a
handler that closes every producer of the process within a deadline (what cannot be delivered in
time is reported ``ProducerClosedError``, and parked if ``dead_letter_path`` is set), then exits as
the process would have, or hands the signal to the handler that was installed before.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable
from types import FrameType
from typing import Any

from vedette.producer import close_all_producers

# Kubernetes waits 30 s (terminationGracePeriodSeconds) after SIGTERM before SIGKILL; ECS's
# stopTimeout is 30 s too. The default flush deadline leaves room for the rest of the shutdown.
DEFAULT_FLUSH_SECONDS = 20.0


def flush_on_sigterm(timeout: float = DEFAULT_FLUSH_SECONDS, signals: Iterable[int] = (signal.SIGTERM,)) -> None:
    """On SIGTERM (or each of ``signals``), close every producer within ``timeout`` seconds, then exit.

    Call it from the main thread (Python installs signal handlers only there). When the signal
    arrives, a background thread closes the producers, and the main thread then does what it
    would have done without this: call the handler installed before, if it was a Python function;
    do nothing more if the signal was ignored; otherwise raise ``SystemExit(128 + signal)``, which
    unwinds the main thread and ends the process once the flush is done (the flush thread is not
    a daemon, so the interpreter waits for it). ``put`` after the signal raises
    ``ProducerClosedError``.
    """
    if timeout <= 0:
        raise ValueError("timeout: must be positive")
    flushing: list[threading.Thread] = []

    def start_flush() -> None:
        if not flushing:
            thread = threading.Thread(target=close_all_producers, args=(timeout,), name="vedette-sigterm-flush")
            flushing.append(thread)
            thread.start()

    for number in signals:
        previous: Any = signal.getsignal(number)

        def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
            start_flush()
            if callable(previous):
                previous(signum, frame)
            elif previous != signal.SIG_IGN:
                raise SystemExit(128 + signum)

        signal.signal(number, handler)
