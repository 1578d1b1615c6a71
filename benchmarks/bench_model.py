"""model_score: the anomaly model's serving throughput (training cost: bench_model_train).

``model_score``: feature rows/s on one core through the container's ``input_fn -> predict_fn ->
output_fn`` (JSON decoding, scoring, explanations, JSON encoding) for 1,000-row requests, with the
shipped detector (ECOD) and with the Isolation Forest detector; and with ECOD for the NPY request
body the scorer sends (``model.rows``). Baseline in the same run: bare
``sklearn.ensemble.IsolationForest(n_estimators=100).score_samples`` on the same rows (no JSON, no
explanations).
"""

from __future__ import annotations

import os

# One core, as the issue measures: set before numpy loads its thread pools.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402

from model import serving  # noqa: E402
from model.detectors import IsolationForestDetector  # noqa: E402
from model.features import featurize_batch  # noqa: E402
from model.rows import NPY_CONTENT_TYPE, encode_npy  # noqa: E402
from model.train import save, train  # noqa: E402
from model.user_agents import parse_agent  # noqa: E402
from traffic import geo  # noqa: E402
from traffic.simulator import Simulator  # noqa: E402

REQUEST_ROWS = 1_000
REQUESTS = 20


def rows_per_second(action: object, repeats: int = REQUESTS) -> float:
    assert callable(action)
    action()  # warm up
    started = time.perf_counter()
    for _ in range(repeats):
        action()
    return REQUEST_ROWS * repeats / (time.perf_counter() - started)


def bench_score() -> dict[str, object]:
    simulator = Simulator(seed=5, users=500, attack_share=0.02)
    events = [event for event, _ in simulator.events(count=60_000)]
    trained = train(events[:50_000], network_of=geo.network_of, agent_of=parse_agent)
    rows = featurize_batch(events, network_of=geo.network_of, agent_of=parse_agent, vocabulary=trained.vocabulary).rows[
        -REQUEST_ROWS:
    ]
    body = json.dumps({"rows": rows.tolist()})
    npy_body = encode_npy(rows)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        save(trained, folder)
        model = serving.model_fn(folder)

        def full_path() -> None:
            serving.output_fn(serving.predict_fn(serving.input_fn(body, "application/json"), model), "application/json")

        def full_path_npy() -> None:
            rows_in = serving.input_fn(npy_body, NPY_CONTENT_TYPE)
            serving.output_fn(serving.predict_fn(rows_in, model), "application/json")

        figures["ecod"] = rows_per_second(full_path)
        figures["ecod_npy"] = rows_per_second(full_path_npy)
        model.detector = IsolationForestDetector().fit(
            featurize_batch(
                events[:50_000], network_of=geo.network_of, agent_of=parse_agent, vocabulary=trained.vocabulary
            ).rows
        )
        figures["isolation_forest"] = rows_per_second(full_path)
    forest = IsolationForest(n_estimators=100, random_state=0).fit(rows)
    baseline = rows_per_second(lambda: forest.score_samples(rows))
    return {
        "bench": "model_score",
        "request_rows": REQUEST_ROWS,
        "rows_per_second": round(figures["ecod"]),
        "npy_request_rows_per_second": round(figures["ecod_npy"]),
        "isolation_forest_detector_rows_per_second": round(figures["isolation_forest"]),
        "baseline": {"name": "IsolationForest(n_estimators=100).score_samples", "rows_per_second": round(baseline)},
    }


def main() -> None:
    np.random.seed(0)
    print(json.dumps(bench_score()), flush=True)


if __name__ == "__main__":
    main()
