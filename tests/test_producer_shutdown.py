"""What a producer process loses when it is stopped: SIGTERM with and without flush_on_sigterm."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_event, read_stream
from vedette.limits import SHARD_WRITE_BYTES_PER_SECOND
from vedette.pacing import PACING_SLICE_SECONDS

ROOT = Path(__file__).resolve().parent.parent
# Few enough events that no shard holds a pacing slice even if every event hashes to it: the
# producer then sends only after its linger, however its sender thread and put interleave. (With
# 2,000 events a slow machine let the sender collect them as they came, and a full slice went out
# before the signal.)
BUFFERED_EVENTS = 120


def start_service(endpoint: str, stream: str, *options: str) -> subprocess.Popen[str]:
    """A service process (tests.producer_process) putting events into ``stream``."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.producer_process", "--endpoint", endpoint, "--stream", stream, *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def read_until_ready(process: subprocess.Popen[str]) -> list[str]:
    assert process.stdout is not None
    accepted = []
    for line in process.stdout:
        if line.strip() == "READY":
            return accepted
        accepted.append(line.strip())
    raise AssertionError(f"the service exited ({process.wait()}) before READY")


def stored_event_ids(kinesis: Any, stream: str) -> list[str]:
    return [json.loads(record.data)["event_id"] for record in read_stream(kinesis, stream)]


@pytest.mark.parametrize("flush_on_sigterm", [True, False], ids=["flush_on_sigterm", "default"])
def test_sigterm_delivers_every_buffered_event_only_with_the_handler(
    kinesis_endpoint, kinesis, make_stream, flush_on_sigterm
):
    # GIVEN a service that has put events its producer still holds (a 30 s linger, less than a slice)
    generous_event_bytes = 2 * len(json.dumps(make_event(BUFFERED_EVENTS)))
    assert BUFFERED_EVENTS * generous_event_bytes < SHARD_WRITE_BYTES_PER_SECOND * PACING_SLICE_SECONDS
    stream = make_stream(2)
    options = ["--count", str(BUFFERED_EVENTS), "--linger", "30", *(["--flush-on-sigterm"] if flush_on_sigterm else [])]
    process = start_service(kinesis_endpoint, stream, *options)
    try:
        accepted = read_until_ready(process)
        assert len(accepted) == BUFFERED_EVENTS
        # WHEN it is asked to stop
        os.kill(process.pid, signal.SIGTERM)
        exit_code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()
    stored = stored_event_ids(kinesis, stream)
    if flush_on_sigterm:
        # THEN with the handler it flushes every event, then exits with the conventional 128 + 15
        assert exit_code == 128 + signal.SIGTERM
        assert sorted(stored) == sorted(accepted)
    else:
        # THEN by default Python dies at once and every buffered event is lost (the README says so)
        assert exit_code == -signal.SIGTERM
        assert stored == []
