"""loadtest_local: the load test script through the limit-enforcing proxy in front of kinesalite (4 shards,
127.0.0.1), under each of the proxy's algorithms: 30 s measured after a 5 s warm-up, two producer
processes at an unlimited rate, then its ``--baseline`` (boto3 put_records without aggregation) in the
same conditions. Prints, per algorithm, the events/s, throttles and losses of each and the ratio, and
how the load test's per-second timeline agrees with what the proxy admitted and throttled in each second:
by the proxy's arrival seconds, and call by call (``loadtest --calls`` against the proxy's call log).

The proxy is ``benchmarks.limit_proxy.LIMIT_PROXY_COMMAND`` (``VEDETTE_LIMIT_PROXY`` overrides it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import boto3

from benchmarks.limit_proxy import (
    LIMIT_ALGORITHMS,
    LimitProxyMissingError,
    admitted_per_second,
    agreement,
    limit_proxy,
    proxy_calls,
)
from emulators import DUMMY_CREDENTIALS, kinesalite

ROOT = Path(__file__).resolve().parent.parent
STREAM = "loadtest-bench"
SHARDS = 4
PROCESSES = 2
SECONDS = 30
WARMUP_SECONDS = 5
FIGURES = (
    "events_per_second",
    "put_events_per_second",
    "kinesis_records_per_second",
    "kinesis_mib_per_second",
    "capacity_used",
    "throttles",
    "failed",
    "lost_share_of_accepted",
    "put_latency_ms_p50",
)


def run_through_proxy(algorithm: str, scratch: Path) -> dict[str, Any]:
    """One load test with its baseline through the proxy; the results and the proxy's per-second counts."""
    stats = scratch / f"proxy-{algorithm}.json"
    output = scratch / f"results-{algorithm}.json"
    calls = scratch / f"calls-{algorithm}.jsonl"
    with kinesalite() as upstream:
        kinesis = boto3.client("kinesis", endpoint_url=upstream, region_name="us-east-1")
        kinesis.create_stream(StreamName=STREAM, ShardCount=SHARDS)
        kinesis.get_waiter("stream_exists").wait(StreamName=STREAM, WaiterConfig={"Delay": 0.2})
        with limit_proxy(upstream, algorithm, stats) as endpoint:
            command = [sys.executable, "-m", "loadtest", "--stream", STREAM, "--endpoint-url", endpoint]
            command += ["--rate", "0", "--duration", str(SECONDS), "--warmup", str(WARMUP_SECONDS)]
            command += ["--processes", str(PROCESSES), "--baseline"]
            command += ["--output", str(output), "--plot", str(scratch / f"plot-{algorithm}.png")]
            command += ["--calls", str(calls)]
            # Exit code 1 means some accepted events were lost: a figure here, not a failure.
            finished = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
            if finished.returncode not in (0, 1):
                raise RuntimeError(f"loadtest exited with {finished.returncode}: {finished.stderr.decode()[-2000:]}")
    results: dict[str, Any] = json.loads(output.read_text())
    proxy = admitted_per_second(stats, STREAM)
    logged = proxy_calls(stats, STREAM)
    sent = [json.loads(line) for line in calls.read_text().splitlines()]
    for name in ("vedette", "baseline"):
        ours = [call for call in sent if call["run"] == name]
        # Both runs write to one stream: the other run's calls are not this one's to account for.
        others = {(call["invocation_id"], call["attempt"]) for call in sent if call["run"] != name}
        theirs = None if logged is None else {key: call for key, call in logged.items() if key not in others}
        results[name]["agreement_with_proxy"] = agreement(results[name], proxy, ours, theirs)
    return results


def main() -> int:
    os.environ.update(DUMMY_CREDENTIALS)
    with tempfile.TemporaryDirectory() as scratch:
        for algorithm in LIMIT_ALGORITHMS:
            try:
                results = run_through_proxy(algorithm, Path(scratch))
            except LimitProxyMissingError as error:
                print(json.dumps({"bench": "loadtest_local", "error": str(error)}))
                return 1
            ours, baseline = results["vedette"], results["baseline"]
            print(
                json.dumps(
                    {
                        "bench": "loadtest_local",
                        "proxy": algorithm,
                        "shards": SHARDS,
                        "processes": PROCESSES,
                        "seconds": SECONDS,
                        **{key: ours[key] for key in FIGURES},
                        "close": ours["close"],
                        "warnings": len(ours["warnings"]),
                        "agreement_with_proxy": ours["agreement_with_proxy"],
                        "baseline": {"name": "loadtest --baseline (boto3 put_records, no aggregation)"}
                        | {key: baseline[key] for key in FIGURES}
                        | {"agreement_with_proxy": baseline["agreement_with_proxy"]},
                        "ratio": results["ratio_to_baseline"],
                    }
                ),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
