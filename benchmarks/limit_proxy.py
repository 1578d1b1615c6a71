"""The limit-enforcing Kinesis proxy benchmarks run in front of kinesalite, and what it admitted.

kinesalite does not enforce the per-shard write limits (1 MiB and 1,000 records per shard per
second). The proxy does, as a sliding 1 s window or a token bucket (``--limit-algo``), refusing
entries over the limit with ProvisionedThroughputExceededException, and writes its per-second
counts to ``--stats`` when it gets SIGTERM.

``LIMIT_PROXY_COMMAND`` is the one place that names the proxy; ``VEDETTE_LIMIT_PROXY`` replaces it
(a command line, before the arguments) to cross-check with another proxy that takes the same
arguments and writes the same statistics. ``admitted_per_second`` and ``proxy_calls`` are the one
place that reads its statistics.

The load test counts a PutRecords attempt in the second it sent it, the proxy in the second it
arrived: the few milliseconds between them (two processes, and the scheduler of a shared machine,
between the client's ``before-send`` and the proxy reading the request) put the calls sent at the
very end of a second into the next one on the proxy's side. ``agreement`` compares both ways: by
the proxy's arrival seconds, and call by call (both sides name an attempt by the SDK's invocation
id and attempt number), placing what the proxy decided on each call in the second the load test
sent it; it says how many calls crossed a second boundary on the way and how long the way was.
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
from collections.abc import Iterable, Iterator, Mapping
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
    """What the proxy decided in one wall-clock second (or on one call), over all shards of a stream:
    Kinesis records (a KPL aggregate is one) and their bytes admitted, entries throttled, and the
    events (user records inside the aggregates) admitted."""

    records: int = 0
    bytes: int = 0
    throttled: int = 0
    events: int = 0

    def __add__(self, other: Admitted) -> Admitted:
        return Admitted(*(mine + theirs for mine, theirs in zip(astuple(self), astuple(other), strict=True)))


FIGURES = ("records", "bytes", "throttled", "events")


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
            events=int(row["admitted_user_records"]),
        )
        for row in stats["streams"][stream]["timeline"]
    }


@dataclass(frozen=True)
class ProxyCall:
    """What the proxy decided on one put call, and when the call arrived (Unix time)."""

    arrived: float
    admitted: Admitted


# A call as both sides name it: botocore's amz-sdk-invocation-id header and the attempt number
# (amz-sdk-request), so each retry of one API call is a call of its own.
CallKey = tuple[str, int]


def proxy_calls(stats_path: Path, stream: str) -> dict[CallKey, ProxyCall] | None:
    """The proxy's log of ``stream``'s put calls by invocation id and attempt; None when the proxy
    keeps none (another proxy through ``VEDETTE_LIMIT_PROXY``) or dropped some of it."""
    ledger = json.loads(stats_path.read_text())["streams"][stream]
    if "calls" not in ledger or ledger.get("calls_not_kept"):
        return None
    return {
        (call["invocation_id"], int(call["attempt"])): ProxyCall(
            float(call["arrived"]),
            Admitted(
                records=int(call["admitted_entries"]),
                bytes=int(call["admitted_bytes"]),
                throttled=int(call["throttled_entries"]),
                events=int(call["admitted_user_records"]),
            ),
        )
        for call in ledger["calls"]
        if call["invocation_id"] and call["attempt"] is not None
    }


def _within(mine: Admitted, reference: Admitted) -> bool:
    """Each figure within ``AGREEMENT_SHARE`` of the proxy's."""
    return all(
        abs(getattr(mine, name) - getattr(reference, name)) <= AGREEMENT_SHARE * getattr(reference, name)
        for name in FIGURES
    )


def _by_call(
    ours: Mapping[int, Admitted], span: range, sent: Iterable[Mapping[str, Any]], proxy: Mapping[CallKey, ProxyCall]
) -> dict[str, Any]:
    """The load test's seconds (``ours``) against what the proxy decided on the calls sent in each of them."""
    sent_at: dict[CallKey, float] = {}
    counted: dict[CallKey, tuple[int, int, int]] = {}
    for call in sent:
        if call["invocation_id"] and call["attempt"] is not None:
            key = (call["invocation_id"], int(call["attempt"]))
            sent_at[key] = float(call["sent_at"])
            counted[key] = (call["kinesis_records"], call["kinesis_bytes"], call["throttled"])
    placed: dict[int, Admitted] = {}
    transit_ms: list[float] = []
    across = unmatched = 0
    for key, call in proxy.items():
        second = int(call.arrived)
        if key in sent_at:
            # Both instants are time.time() on one machine: one clock.
            transit_ms.append((call.arrived - sent_at[key]) * 1000)
            across += int(sent_at[key]) != second
            second = int(sent_at[key])
        elif second not in span:
            continue  # the other run's call, or one before or after this run
        else:
            unmatched += 1
        placed[second] = placed.get(second, Admitted()) + call.admitted
    transit_ms.sort()

    def percentile(share: float) -> float | None:
        return round(transit_ms[min(len(transit_ms) - 1, int(share * len(transit_ms)))], 2) if transit_ms else None

    differing = sum(
        1
        for key, mine in counted.items()
        if key in proxy
        and mine != (proxy[key].admitted.records, proxy[key].admitted.bytes, proxy[key].admitted.throttled)
    )
    agreeing = [second for second in span if _within(ours.get(second, Admitted()), placed.get(second, Admitted()))]
    return {
        "calls": len(sent_at),
        "calls_not_seen_by_proxy": sum(1 for key in sent_at if key not in proxy),
        "proxy_calls_not_in_loadtest": unmatched,
        "calls_counted_differently": differing,
        # The proxy's decisions, each call in the second the load test sent it.
        "seconds_within_1pct": len(agreeing),
        # Calls sent in one second that arrived in the next: each moves a second by arrival.
        "calls_across_a_second": across,
        "transit_ms": {"p50": percentile(0.5), "p99": percentile(0.99), "max": percentile(1.0)},
        "disagreeing_seconds": [
            {
                "t": second,
                "loadtest": astuple(ours.get(second, Admitted())),
                "proxy": astuple(placed.get(second, Admitted())),
            }
            for second in span
            if second not in agreeing
        ],
    }


def agreement(
    run: Mapping[str, Any],
    proxy: Mapping[int, Admitted],
    sent: Iterable[Mapping[str, Any]] | None = None,
    calls: Mapping[CallKey, ProxyCall] | None = None,
) -> dict[str, Any]:
    """How a load test run's per-second timeline compares with what the proxy decided in those
    seconds (records, bytes, throttled entries and events); with the run's ``sent`` calls
    (``python -m loadtest --calls``) and the proxy's ``calls``, also call by call."""
    rows = run["timeline"]
    ours = {
        row["t"]: Admitted(row["kinesis_records"], row["kinesis_bytes"], row["throttled"], row["events"])
        for row in rows
    }
    span = range(min(ours), max(ours) + 1) if ours else range(0)
    theirs = {second: proxy.get(second, Admitted()) for second in span}
    agreeing = [second for second in span if _within(ours.get(second, Admitted()), theirs[second])]
    total_records = sum(item.records for item in theirs.values())
    misplaced = sum(abs(ours.get(second, Admitted()).records - theirs[second].records) for second in span) / 2
    measured = [row["t"] for row in rows if row["phase"] == "measured"]

    def both(name: str) -> dict[str, int]:
        return {
            "loadtest": sum(getattr(item, name) for item in ours.values()),
            "proxy": sum(getattr(item, name) for item in theirs.values()),
        }

    def measured_rate(name: str) -> float:
        return round(sum(getattr(theirs[second], name) for second in measured) / max(1, len(measured)), 1)

    by_call = {} if sent is None or calls is None else {"by_call": _by_call(ours, span, sent, calls)}
    return {
        **{name: both(name) for name in FIGURES},
        "measured_records_per_second": {
            "loadtest": run["kinesis_records_per_second"],
            "proxy": measured_rate("records"),
        },
        "measured_events_per_second": {"loadtest": run["events_per_second"], "proxy": measured_rate("events")},
        "seconds": len(span),
        # By the second each call arrived at the proxy.
        "seconds_within_1pct": len(agreeing),
        # Records counted in another second than the proxy's: calls sent just before a second ended
        # that the proxy decided on just after.
        "records_in_another_second": round(misplaced / total_records, 4) if total_records else 0.0,
        "disagreeing_seconds": [
            {"t": second, "loadtest": astuple(ours.get(second, Admitted())), "proxy": astuple(theirs[second])}
            for second in span
            if second not in agreeing
        ],
        **by_call,
    }
