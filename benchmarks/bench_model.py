"""model_score: the anomaly model's serving throughput (training cost: bench_model_train).

``model_score``: feature rows/s on one core through the container's ``input_fn -> predict_fn ->
output_fn`` for 1,000-row requests of the shipped detector (ECOD):

- ``npy_request_rows_per_second``: the scorer's path, an NPY body (``model.rows``) answered with
  the compact scores (``application/vnd.vedette.scores+json``: explanations for the flagged rows
  only); ``flagged_rows`` says how many of the request's rows the model flagged, and
  ``npy_request_one_percent_flagged_rows_per_second`` is the same path with a threshold that flags
  1 % of them (the training's alert rate), to show what explaining them costs;
- ``npy_request_json_response_rows_per_second``: an NPY body answered with JSON, every row explained;
- ``rows_per_second``: JSON in and out, as a client of the first artifacts calls it, and
  ``isolation_forest_detector_rows_per_second`` the same with the Isolation Forest detector.

Baseline in the same run: bare ``sklearn.ensemble.IsolationForest(n_estimators=100).score_samples``
on the same rows (no decoding, no explanations). Each figure is the median of ``ROUNDS`` rounds of
``REQUESTS`` requests, the paths and the baseline taking turns within each round, timed in this
process's CPU time: on a shared machine, the time other processes hold the core counts against
none of them, and a busy moment weighs on all alike. ``*_response_bytes_per_row``: the answers'
sizes.
"""

from __future__ import annotations

import os

# One core, as the issue measures: set before numpy loads its thread pools.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import replace  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402

from model import serving  # noqa: E402
from model.artifact import LoadedModel  # noqa: E402
from model.detectors import IsolationForestDetector  # noqa: E402
from model.features import featurize_batch  # noqa: E402
from model.rows import JSON_CONTENT_TYPE, NPY_CONTENT_TYPE, SCORES_CONTENT_TYPE, encode_npy  # noqa: E402
from model.train import DEFAULT_ALERT_RATE, save, train  # noqa: E402
from model.user_agents import parse_agent  # noqa: E402
from traffic import geo  # noqa: E402
from traffic.simulator import Simulator  # noqa: E402

REQUEST_ROWS = 1_000
REQUESTS = 20
ROUNDS = 5


def median_rows_per_second(actions: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Each action's rows per CPU second: the median of ``ROUNDS`` rounds of ``REQUESTS`` calls, the
    actions taking turns within a round, after one warm-up call each."""
    for action in actions.values():
        action()
    rates: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(ROUNDS):
        for name, action in actions.items():
            started = time.process_time()
            for _ in range(REQUESTS):
                action()
            rates[name].append(REQUEST_ROWS * REQUESTS / (time.process_time() - started))
    return {name: statistics.median(values) for name, values in rates.items()}


def bench_score() -> dict[str, object]:
    simulator = Simulator(seed=5, users=500, attack_share=0.02)
    events = [event for event, _ in simulator.events(count=60_000)]
    trained = train(events[:50_000], network_of=geo.network_of, agent_of=parse_agent)
    rows = featurize_batch(events, network_of=geo.network_of, agent_of=parse_agent, vocabulary=trained.vocabulary).rows[
        -REQUEST_ROWS:
    ]
    body = json.dumps({"rows": rows.tolist()})
    npy_body = encode_npy(rows)
    with tempfile.TemporaryDirectory() as folder:
        save(trained, folder)
        model = serving.model_fn(folder)
    scores = model.detector.score(rows)
    # The score above which 1 % of the request's rows lie, as calibration sets it on training's scores.
    one_percent = replace(model, threshold=float(np.quantile(scores, 1.0 - DEFAULT_ALERT_RATE, method="higher")))
    forest_model = replace(
        model,
        detector=IsolationForestDetector().fit(
            featurize_batch(
                events[:50_000], network_of=geo.network_of, agent_of=parse_agent, vocabulary=trained.vocabulary
            ).rows
        ),
    )
    forest = IsolationForest(n_estimators=100, random_state=0).fit(rows)

    def answer(request: str | bytes, content_type: str, accept: str, served: LoadedModel) -> bytes:
        payload, _ = serving.output_fn(serving.predict_fn(serving.input_fn(request, content_type), served), accept)
        return payload

    paths: dict[str, Callable[[], object]] = {
        "npy_compact": lambda: answer(npy_body, NPY_CONTENT_TYPE, SCORES_CONTENT_TYPE, model),
        "npy_compact_one_percent": lambda: answer(npy_body, NPY_CONTENT_TYPE, SCORES_CONTENT_TYPE, one_percent),
        "npy_json": lambda: answer(npy_body, NPY_CONTENT_TYPE, JSON_CONTENT_TYPE, model),
        "json": lambda: answer(body, JSON_CONTENT_TYPE, JSON_CONTENT_TYPE, model),
        "isolation_forest": lambda: answer(body, JSON_CONTENT_TYPE, JSON_CONTENT_TYPE, forest_model),
        "baseline": lambda: forest.score_samples(rows),
    }
    figures = median_rows_per_second(paths)
    compact = answer(npy_body, NPY_CONTENT_TYPE, SCORES_CONTENT_TYPE, model)
    full = answer(npy_body, NPY_CONTENT_TYPE, JSON_CONTENT_TYPE, model)
    return {
        "bench": "model_score",
        "request_rows": REQUEST_ROWS,
        "flagged_rows": int((np.round(scores, 6) > model.threshold).sum()),
        "npy_request_rows_per_second": round(figures["npy_compact"]),
        "npy_request_one_percent_flagged_rows_per_second": round(figures["npy_compact_one_percent"]),
        "npy_request_json_response_rows_per_second": round(figures["npy_json"]),
        "rows_per_second": round(figures["json"]),
        "isolation_forest_detector_rows_per_second": round(figures["isolation_forest"]),
        "compact_response_bytes_per_row": round(len(compact) / REQUEST_ROWS, 1),
        "json_response_bytes_per_row": round(len(full) / REQUEST_ROWS, 1),
        "baseline": {
            "name": "IsolationForest(n_estimators=100).score_samples",
            "rows_per_second": round(figures["baseline"]),
        },
    }


def main() -> None:
    np.random.seed(0)
    print(json.dumps(bench_score()), flush=True)


if __name__ == "__main__":
    main()
