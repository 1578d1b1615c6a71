"""The serving path against the one it replaced, which this file keeps as the reference.

Until the tail table and the compact response, the endpoint counted each value's place in the
sorted training column row by row, explained every row in ``predict_fn`` and answered JSON only.
That path is written out below as it was (``reference_*``). The current one must give the same
tails bit for bit, answer ``application/json`` with the same bytes, and answer the compact type with
the same scores, the same flags and the same explanations of the flagged rows.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import replace
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from model import serving
from model.artifact import LoadedModel
from model.detectors import ECODDetector, IsolationForestDetector, top_features
from model.features import FEATURE_NAMES, FEATURES_VERSION, featurize_batch
from model.rows import NPY_CONTENT_TYPE, SCORES_CONTENT_TYPE, encode_npy
from model.tails import ORDINARY_TERM, SOFT_TRUNCATED_TAILS, TailProfile
from model.train import save, train
from tests.model_factories import START, credential_stuffing, injection_probe, normal_traffic

DAYS = 6


def reference_tails(profile: TailProfile, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The row-by-row lookup: each value's count at or below it and at or above it in the sorted column."""
    count = profile.rows
    left = np.empty_like(rows)
    right = np.empty_like(rows)
    for column in range(rows.shape[1]):
        values = profile.sorted_columns[:, column]
        left[:, column] = np.searchsorted(values, rows[:, column], side="right")
        right[:, column] = count - np.searchsorted(values, rows[:, column], side="left")
    left = -np.log((left + 1.0) / (count + 1.0))
    right = -np.log((right + 1.0) / (count + 1.0))
    return left, right


def reference_ecod(
    profile: TailProfile, matrix: np.ndarray, aggregation: str, counted_once: tuple[tuple[int, ...], ...]
) -> tuple[np.ndarray, np.ndarray]:
    left, right = reference_tails(profile, matrix)
    terms = np.maximum(left, right)
    if aggregation == SOFT_TRUNCATED_TAILS:
        # Since the groups: each group of columns adds its largest softened term, not all of them.
        softened = np.log1p(np.exp(terms - ORDINARY_TERM))
        grouped = {column for group in counted_once for column in group}
        alone = [column for column in range(terms.shape[1]) if column not in grouped]
        largest = [softened[:, list(group)].max(axis=1) for group in counted_once]
        return softened[:, alone].sum(axis=1) + sum(largest, np.zeros(len(terms))), terms
    automatic = np.where(profile.right_skewed, right, left)
    return np.maximum.reduce([left.sum(axis=1), right.sum(axis=1), automatic.sum(axis=1)]), terms


def reference_score_and_contributions(
    detector: ECODDetector | IsolationForestDetector, matrix: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(detector, IsolationForestDetector):
        left, right = reference_tails(detector._profile, matrix)
        return -detector._forest.score_samples(matrix), np.maximum(left, right)
    profile, cohort_profile, aggregation = detector._profile, detector._cohort_profile, detector.aggregation
    counted_once = detector.counted_once
    if cohort_profile is None or detector.cohort_column is None:
        return reference_ecod(profile, matrix, aggregation, counted_once)
    in_cohort = matrix[:, detector.cohort_column] != 0
    scores = np.empty(len(matrix))
    contributions = np.empty_like(matrix)
    for selected, chosen in ((~in_cohort, profile), (in_cohort, cohort_profile)):
        if selected.any():
            scores[selected], contributions[selected] = reference_ecod(
                chosen, matrix[selected], aggregation, counted_once
            )
    return scores, contributions


def reference_predict(rows: np.ndarray, model: LoadedModel) -> dict[str, Any]:
    """``predict_fn`` as it was: every row scored and explained (and, as answers have since, the
    artifact's feature configuration named after the features version)."""
    scores, contributions = reference_score_and_contributions(model.detector, rows)
    explanations = top_features(contributions, FEATURE_NAMES, serving.TOP_FEATURES, model.detector.distances(rows))
    return {
        "model": model.detector.name,
        "features_version": FEATURES_VERSION,
        "feature_config_id": model.metadata["feature_config_id"],
        "threshold": model.threshold,
        "results": [
            {
                "score": score,
                "anomaly": score > model.threshold,
                "top_features": [{"feature": name, "contribution": value} for name, value in explanation],
            }
            for score, explanation in zip(np.round(scores, 6).tolist(), explanations, strict=True)
        ],
    }


def reference_answer(rows: np.ndarray, model: LoadedModel) -> bytes:
    """``output_fn`` as it was: the prediction as compact JSON."""
    return json.dumps(reference_predict(rows, model), separators=(",", ":")).encode()


def bits(matrix: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(matrix).view(np.int64)


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return normal_traffic(40, DAYS)


@pytest.fixture(scope="module")
def ecod_model(tmp_path_factory: pytest.TempPathFactory, events: list[dict[str, Any]]) -> LoadedModel:
    """The shipped detector, through the artifact as the container loads it."""
    folder = save(train(events, alert_rate=0.02), tmp_path_factory.mktemp("ecod") / "model")
    return serving.model_fn(str(folder))


@pytest.fixture(scope="module")
def forest_model(ecod_model: LoadedModel, events: list[dict[str, Any]]) -> LoadedModel:
    training = featurize_batch(events, vocabulary=ecod_model.vocabulary).rows
    return replace(ecod_model, detector=IsolationForestDetector(n_estimators=50).fit(training), threshold=0.55)


@pytest.fixture(scope="module")
def request_rows(ecod_model: LoadedModel, events: list[dict[str, Any]]) -> np.ndarray:
    """Rows as the scorer computes them: a later day of the same users, then two attacks."""
    history = featurize_batch(events, vocabulary=ecod_model.vocabulary)
    later = START + timedelta(days=DAYS, hours=3)
    fresh = normal_traffic(40, 1, seed=99)
    shifted = [event | {"occurred_at": event["occurred_at"].replace("2026-11-02", "2026-11-08")} for event in fresh]
    attack = [*credential_stuffing(later, 60), injection_probe(later + timedelta(minutes=2), "user-0001")]
    batch = featurize_batch(
        [*shifted, *attack], history.user_states, history.ip_states, vocabulary=ecod_model.vocabulary
    )
    return batch.rows


def edge_values(profile: TailProfile) -> np.ndarray:
    """Every training value, the doubles either side of each, midpoints, and beyond both ends."""
    values = np.unique(profile.sorted_columns)
    extremes = [values[0] - 1.0, values[-1] + 1.0, -np.inf, np.inf, -0.0, 0.0, 1e300, -1e300]
    return np.concatenate(
        [
            values,
            np.nextafter(values, np.inf),
            np.nextafter(values, -np.inf),
            (values[1:] + values[:-1]) / 2,
            extremes,
        ]
    )


def test_the_tail_table_gives_the_row_by_row_tails_bit_for_bit(ecod_model: LoadedModel) -> None:
    # GIVEN the shipped detector's profiles, and a small one of repeated values with both zeros
    detector = ecod_model.detector
    assert isinstance(detector, ECODDetector)
    repeated = np.array([[-0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [2.5, 1.0], [2.5, 3.0], [7.0, 3.0]])
    profiles = [detector._profile, detector._cohort_profile, TailProfile.from_sorted(repeated)]
    for profile in profiles:
        assert profile is not None
        width = profile.sorted_columns.shape[1]
        # WHEN each column is asked about every edge value of every column
        probes = np.repeat(edge_values(profile)[:, None], width, axis=1)
        # THEN both tails are the row-by-row lookup's doubles, bit for bit
        for new, old in zip(profile.tails(probes), reference_tails(profile, probes), strict=True):
            assert np.array_equal(bits(new), bits(old))


def test_the_table_is_built_from_the_pickled_columns_and_not_pickled(ecod_model: LoadedModel) -> None:
    # GIVEN a profile whose table was built by scoring
    profile = ecod_model.detector._profile
    probes = profile.sorted_columns[::97]
    before = profile.tails(probes)
    assert "table" in vars(profile)
    # WHEN it is pickled, as the artifact's detector is, and loaded
    loaded = pickle.loads(pickle.dumps(profile))
    # THEN the pickle carries the sorted columns only, and the loaded profile builds the same table
    assert "table" not in vars(loaded)
    for new, old in zip(loaded.tails(probes), before, strict=True):
        assert np.array_equal(bits(new), bits(old))


@pytest.mark.parametrize("detector", ["ecod", "isolation_forest"])
def test_the_json_answer_is_the_references_bytes(
    detector: str, request: pytest.FixtureRequest, request_rows: np.ndarray
) -> None:
    # GIVEN a model with either detector, and rows of ordinary traffic and attacks
    model: LoadedModel = request.getfixturevalue(f"{'ecod' if detector == 'ecod' else 'forest'}_model")
    expected = reference_answer(request_rows, model)
    assert 0 < sum(result["anomaly"] for result in json.loads(expected)["results"]) < len(request_rows)
    for body, content_type in (
        (encode_npy(request_rows), NPY_CONTENT_TYPE),
        (json.dumps({"rows": request_rows.tolist()}), "application/json"),
    ):
        # WHEN an old client asks for JSON (or for nothing in particular)
        for accept in ("application/json", "*/*", None):
            prediction = serving.predict_fn(serving.input_fn(body, content_type), model)
            # THEN it gets the reference's bytes
            assert serving.output_fn(prediction, accept) == (expected, "application/json")


@pytest.mark.parametrize("detector", ["ecod", "isolation_forest"])
def test_the_compact_answer_has_the_references_scores_flags_and_explanations(
    detector: str, request: pytest.FixtureRequest, request_rows: np.ndarray
) -> None:
    # GIVEN the reference's answer for rows of ordinary traffic and attacks
    model: LoadedModel = request.getfixturevalue(f"{'ecod' if detector == 'ecod' else 'forest'}_model")
    expected = reference_predict(request_rows, model)
    # WHEN the scorer's request asks for the compact answer
    prediction = serving.predict_fn(serving.input_fn(encode_npy(request_rows), NPY_CONTENT_TYPE), model)
    body, content_type = serving.output_fn(prediction, SCORES_CONTENT_TYPE)
    answer = json.loads(body)
    # THEN it names itself, and carries the same model, version, threshold and every row's score
    assert content_type == SCORES_CONTENT_TYPE
    assert {key: answer[key] for key in ("model", "features_version", "feature_config_id", "threshold")} == {
        key: expected[key] for key in ("model", "features_version", "feature_config_id", "threshold")
    }
    assert answer["scores"] == [result["score"] for result in expected["results"]]
    # AND exactly the flagged rows, in order, each with the reference's explanation
    flagged = [row for row, result in enumerate(expected["results"]) if result["anomaly"]]
    assert 0 < len(flagged) < len(request_rows)
    assert answer["anomalies"] == [
        {"row": row, "top_features": expected["results"][row]["top_features"]} for row in flagged
    ]


def test_an_answer_without_flagged_rows_explains_nothing(ecod_model: LoadedModel, request_rows: np.ndarray) -> None:
    # GIVEN a model whose threshold no row exceeds
    model = replace(ecod_model, threshold=1e9)
    # WHEN the compact answer is asked for
    body, _ = serving.output_fn(serving.predict_fn(request_rows, model), SCORES_CONTENT_TYPE)
    # THEN it has every score and no anomaly
    answer = json.loads(body)
    assert len(answer["scores"]) == len(request_rows)
    assert answer["anomalies"] == []


def test_the_artifact_lists_both_responses_in_its_metadata(ecod_model: LoadedModel) -> None:
    assert ecod_model.metadata["response_content_types"] == ["application/json", SCORES_CONTENT_TYPE]
