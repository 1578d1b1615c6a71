"""model_train: seconds and peak memory to train, and how both stay bounded on a large archive.

Each run is its own process (peak memory is per process), streaming simulated events into
``model.train.train`` as the training job streams the archive:

- ``VEDETTE_BENCH_TRAIN_EVENTS`` (default 1,000,000) events;
- ``VEDETTE_BENCH_LARGE_EVENTS`` (default 10,000,000) events under the same cap: every event of a
  hash-chosen sample of users (``model.sampling``).

Baseline in the same run: scikit-learn's ``IsolationForest()`` fit on the first run's feature rows.
"""

from __future__ import annotations

import os

# One core, as the issue measures: set before numpy loads its thread pools.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

TRAIN_EVENTS = int(os.environ.get("VEDETTE_BENCH_TRAIN_EVENTS", "1000000"))
LARGE_EVENTS = int(os.environ.get("VEDETTE_BENCH_LARGE_EVENTS", "10000000"))


def run(events: int, baseline: bool) -> dict[str, Any]:
    """Train on ``events`` streamed from the simulator; this process's figures."""
    from model.features import featurize_batch
    from model.train import train
    from model.user_agents import parse_agent
    from traffic import geo
    from traffic.simulator import Simulator

    simulator = Simulator(seed=9, users=max(1_000, events // 100), attack_share=0.0)
    started = time.perf_counter()
    trained = train(
        (event for event, _ in simulator.events(count=events)), network_of=geo.network_of, agent_of=parse_agent
    )
    seconds = time.perf_counter() - started
    figures: dict[str, Any] = {
        "events_read": trained.metadata["sampling"]["events_read"],
        "events_trained": trained.metadata["sampling"]["events_kept"],
        "user_share": trained.metadata["sampling"]["user_share"],
        "seconds": round(seconds, 1),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    if baseline:
        from sklearn.ensemble import IsolationForest

        sample = Simulator(seed=9, users=max(1_000, events // 100), attack_share=0.0)
        kept = [event for event, _ in sample.events(count=trained.metadata["events"]["fit"])]
        rows = featurize_batch(kept, network_of=geo.network_of, agent_of=parse_agent).rows
        started = time.perf_counter()
        IsolationForest(random_state=0).fit(rows)
        figures["baseline_fit_seconds"] = round(time.perf_counter() - started, 1)
    return figures


def in_process(events: int, baseline: bool) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_model_train", "--run", str(events), str(int(baseline))],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--run":
        print(json.dumps(run(int(sys.argv[2]), sys.argv[3] == "1")), flush=True)
        return
    regular = in_process(TRAIN_EVENTS, baseline=True)
    large = in_process(LARGE_EVENTS, baseline=False)
    baseline_seconds = regular.pop("baseline_fit_seconds")
    print(
        json.dumps(
            {
                "bench": "model_train",
                **regular,
                "large_archive": {**large, "seconds_ratio": round(large["seconds"] / max(regular["seconds"], 1e-9), 2)},
                "baseline": {"name": "IsolationForest() fit on the first run's rows", "fit_seconds": baseline_seconds},
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
