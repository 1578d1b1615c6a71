"""The limit-enforcing Kinesis proxy benchmarks run in front of kinesalite, and what it admitted.

kinesalite does not enforce the per-shard write limits (1 MiB and 1,000 records per shard per
second). The proxy does, as a sliding 1 s window or a token bucket (``--limit-algo``), refusing
entries over the limit with ProvisionedThroughputExceededException, and writes its per-second
counts to ``--stats`` when it gets SIGTERM.

``LIMIT_PROXY_COMMAND`` is the one place that names the proxy; ``VEDETTE_LIMIT_PROXY`` replaces it
(a command line, before the arguments) to cross-check with another proxy that takes the same
arguments and writes the same statistics. ``admitted_per_second`` is the one place that reads its statistics.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from emulators import LOOPBACK, free_port

LIMIT_PROXY_MODULE = "emulators.kinesis_limits"
LIMIT_PROXY_COMMAND = (sys.executable, "-m", LIMIT_PROXY_MODULE)
LIMIT_PROXY_VARIABLE = "VEDETTE_LIMIT_PROXY"
LIMIT_ALGORITHMS = ("window", "bucket")
STARTUP_SECONDS = 30.0
STOP_SECONDS = 30.0  # it writes its statistics on SIGTERM before it exits
# One second of the loadtest agrees with the proxy when records, bytes and throttled entries are
# each within this share of the proxy's count.
AGREEMENT_SHARE = 0.01


class LimitProxyMissingError(RuntimeError):
    """Neither the project's limit proxy nor a ``VEDETTE_LIMIT_PROXY`` command is available."""


def limit_proxy_command() -> list[str]:
    """The proxy's command line before its arguments."""
    override = os.environ.get(LIMIT_PROXY_VARIABLE)
    if override:
        return shlex.split(override)
    if find_spec(LIMIT_PROXY_MODULE) is None:
        raise LimitProxyMissingError(
            f"{LIMIT_PROXY_MODULE} is not in this tree; set {LIMIT_PROXY_VARIABLE} to a proxy command taking "
            "--listen PORT --upstream PORT --limit-algo window|bucket --stats FILE"
        )
    return list(LIMIT_PROXY_COMMAND)


@contextmanager
def limit_proxy(upstream: str, algorithm: str, stats: Path) -> Iterator[str]:
    """Run the proxy in front of ``upstream`` (a loopback endpoint); yields its endpoint, then stops
    it so that it writes ``stats``."""
    port = free_port()
    command = [*limit_proxy_command(), "--listen", str(port), "--upstream", str(urlsplit(upstream).port)]
    command += ["--limit-algo", algorithm, "--stats", str(stats)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _wait_for_port(port, process)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"the limit proxy exited with code {process.returncode}: {error[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"the limit proxy did not listen on {port} within {STARTUP_SECONDS} s")


@dataclass(frozen=True)
class Admitted:
    """What the proxy decided in one wall-clock second, over all shards of a stream."""

    records: int = 0
    bytes: int = 0
    throttled: int = 0


def admitted_per_second(stats_path: Path, stream: str) -> dict[int, Admitted]:
    """The proxy's per-second timeline of ``stream`` (``emulators.kinesis_limits``' stats: one row per
    arrival second, its counts summed over the shards). Records are Kinesis records (entries): the
    proxy sees KPL aggregates as one record each, as the stream's limits count them."""
    stats = json.loads(stats_path.read_text())
    return {
        int(row["second"]): Admitted(
            records=int(row["admitted_entries"]),
            bytes=int(row["admitted_bytes"]),
            throttled=int(row["throttled_entries"]),
        )
        for row in stats["streams"][stream]["timeline"]
    }


def agreement(run: Mapping[str, Any], proxy: Mapping[int, Admitted]) -> dict[str, Any]:
    """How a load test run's per-second timeline compares with what the proxy decided in those seconds."""
    rows = run["timeline"]
    ours = {row["t"]: Admitted(row["kinesis_records"], row["kinesis_bytes"], row["throttled"]) for row in rows}
    span = range(min(ours), max(ours) + 1) if ours else range(0)
    theirs = {second: proxy.get(second, Admitted()) for second in span}

    def within(mine: int, reference: int) -> bool:
        return abs(mine - reference) <= AGREEMENT_SHARE * reference

    agreeing = [
        second
        for second in span
        if all(
            within(getattr(ours.get(second, Admitted()), name), getattr(theirs[second], name))
            for name in ("records", "bytes", "throttled")
        )
    ]
    total_records = sum(item.records for item in theirs.values())
    misplaced = sum(abs(ours.get(second, Admitted()).records - theirs[second].records) for second in span) / 2
    measured = [row["t"] for row in rows if row["phase"] == "measured"]
    proxy_records_per_second = sum(theirs[second].records for second in measured) / max(1, len(measured))

    def both(name: str) -> dict[str, int]:
        return {
            "loadtest": sum(getattr(item, name) for item in ours.values()),
            "proxy": sum(getattr(item, name) for item in theirs.values()),
        }

    return {
        "records": both("records"),
        "bytes": both("bytes"),
        "throttled": both("throttled"),
        "measured_records_per_second": {
            "loadtest": run["kinesis_records_per_second"],
            "proxy": round(proxy_records_per_second, 1),
        },
        "seconds": len(span),
        "seconds_within_1pct": len(agreeing),
        # Records counted in another second than the proxy's: calls sent just before a second ended
        # that the proxy decided on just after.
        "records_in_another_second": round(misplaced / total_records, 4) if total_records else 0.0,
        "disagreeing_seconds": [
            {"t": second, "loadtest": astuple(ours.get(second, Admitted())), "proxy": astuple(theirs[second])}
            for second in span
            if second not in agreeing
        ],
    }
