"""loadtest_local: the load test script for 30 s against kinesalite (4 shards, 127.0.0.1), two producer
processes at an unlimited rate, then its ``--baseline`` (boto3 put_records without aggregation) in the
same conditions: events/s of each and the ratio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3

from emulators import DUMMY_CREDENTIALS, kinesalite

ROOT = Path(__file__).resolve().parent.parent
SHARDS = 4


def main() -> None:
    os.environ.update(DUMMY_CREDENTIALS)
    with kinesalite() as endpoint, tempfile.TemporaryDirectory() as scratch:
        kinesis = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1")
        kinesis.create_stream(StreamName="loadtest-bench", ShardCount=SHARDS)
        kinesis.get_waiter("stream_exists").wait(StreamName="loadtest-bench", WaiterConfig={"Delay": 0.2})
        output = Path(scratch, "results.json")
        command = [sys.executable, "-m", "loadtest", "--stream", "loadtest-bench", "--endpoint-url", endpoint]
        command += ["--rate", "0", "--duration", "30", "--warmup", "5", "--processes", "2", "--baseline"]
        command += ["--output", str(output), "--plot", str(Path(scratch, "plot.png"))]
        subprocess.run(
            command,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        results = json.loads(output.read_text())
    ours, baseline = results["vedette"], results["baseline"]
    keys = ("events_per_second", "kinesis_records_per_second", "kinesis_mib_per_second", "put_latency_ms_p50")
    print(
        json.dumps(
            {
                "bench": "loadtest_local",
                "emulator": "kinesalite",
                "shards": SHARDS,
                "processes": 2,
                "seconds": 30,
                **{key: ours[key] for key in keys},
                "failed": ours["failed"],
                "baseline": {"name": "loadtest --baseline (boto3 put_records, no aggregation)"}
                | {key: baseline[key] for key in keys},
                "ratio": results["ratio_to_baseline"],
            }
        )
    )


if __name__ == "__main__":
    main()
