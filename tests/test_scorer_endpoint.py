"""Chunking feature rows into InvokeEndpoint calls under the payload limit."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

from model.features import FEATURE_COUNT, FEATURE_NAMES
from model.rows import decode_npy
from scorer.endpoint import Score, decode_scores, encode_rows, plan_chunks
from scorer.settings import ScorerSettings
from scorer.stores import sns_subject


def test_one_call_when_the_batch_fits():
    rows = np.random.default_rng(1).random((500, FEATURE_COUNT))
    [(count, body)] = plan_chunks(rows, max_payload_bytes=4_000_000, max_rows=10_000)
    assert count == 500
    assert decode_npy(body, 10_000).tolist() == rows.tolist()


def test_chunks_stay_under_the_limit_and_are_as_few_as_the_bytes_need():
    # GIVEN rows and a limit a fifth of their encoded size
    rows = np.random.default_rng(2).random((2000, FEATURE_COUNT))
    total = len(encode_rows(rows))
    limit = total // 5

    chunks = plan_chunks(rows, max_payload_bytes=limit, max_rows=10_000)

    assert all(len(body) <= limit for _, body in chunks)
    assert sum(count for count, _ in chunks) == 2000
    # as few calls as fixed-size rows allow, each body carrying the NPY header
    header = len(encode_rows(rows[:0]))
    rows_per_call = (limit - header) // (8 * FEATURE_COUNT)
    assert len(chunks) == math.ceil(2000 / rows_per_call)
    decoded = [row for _, body in chunks for row in decode_npy(body, 10_000).tolist()]
    assert decoded == rows.tolist()  # in order, nothing lost or repeated


def test_row_cap_applies_before_the_byte_limit():
    rows = np.zeros((25, FEATURE_COUNT))
    counts = [count for count, _ in plan_chunks(rows, 4_000_000, max_rows=10)]
    assert len(counts) == 3
    assert max(counts) <= 10
    assert sum(counts) == 25


@pytest.mark.parametrize("batch_rows", [9_000, 10_001, 20_000, 50_000])
def test_as_few_calls_as_the_scorer_defaults_allow(batch_rows: int) -> None:
    # GIVEN the scorer's default limits: a 10,000-row cap and a payload just under serverless's 4 MB
    settings = ScorerSettings("endpoint", "state", "anomalies", "topic", "bucket")
    rows = np.zeros((batch_rows, FEATURE_COUNT))
    header = len(encode_rows(rows[:0]))
    rows_per_call = min(settings.max_rows_per_call, (settings.max_payload_bytes - header) // (8 * FEATURE_COUNT))
    # WHEN the batch is planned
    chunks = plan_chunks(rows, settings.max_payload_bytes, settings.max_rows_per_call)
    # THEN it takes the fewest calls that fit, none over either limit
    assert len(chunks) == math.ceil(batch_rows / rows_per_call)
    assert all(len(body) <= settings.max_payload_bytes for _, body in chunks)
    assert all(count <= settings.max_rows_per_call for count, _ in chunks)


def test_fixed_size_rows_take_the_fewest_calls_whatever_the_limits() -> None:
    rng = np.random.default_rng(4)
    header = len(encode_rows(np.zeros((0, FEATURE_COUNT))))
    for _ in range(200):
        batch_rows = int(rng.integers(1, 3000))
        rows_per_call = int(rng.integers(1, 400))
        limit = header + rows_per_call * 8 * FEATURE_COUNT + int(rng.integers(0, 8 * FEATURE_COUNT))
        max_rows = int(rng.integers(1, 500))
        chunks = plan_chunks(np.zeros((batch_rows, FEATURE_COUNT)), limit, max_rows)
        assert len(chunks) == math.ceil(batch_rows / min(rows_per_call, max_rows))
        assert all(len(body) <= limit and count <= max_rows for count, body in chunks)
        assert sum(count for count, _ in chunks) == batch_rows


def test_a_response_that_does_not_match_the_request_is_rejected():
    body = orjson.dumps({"threshold": 2.0, "results": [{"score": 1.0, "anomaly": False, "top_features": []}]})
    assert decode_scores(body, 1)[0].threshold == 2.0
    with pytest.raises(ValueError, match="expected 2 results"):
        decode_scores(body, 2)


def test_the_compact_response_gives_every_score_and_the_flagged_rows_reasons():
    # GIVEN a compact answer for three rows, the middle one flagged with its reasons
    reasons = [{"feature": "resource_suspicious_tokens", "contribution": 9.9}]
    body = orjson.dumps(
        {"threshold": 2.0, "scores": [1.0, 3.5, 0.5], "anomalies": [{"row": 1, "top_features": reasons}]}
    )
    # WHEN it is read as the content type the endpoint answered
    scores = decode_scores(body, 3, "application/vnd.vedette.scores+json")
    # THEN each row has its score and the threshold, and only the flagged row a flag and reasons
    assert scores == [
        Score(1.0, False, 2.0, []),
        Score(3.5, True, 2.0, reasons),
        Score(0.5, False, 2.0, []),
    ]
    # AND an answer that does not fit the request is refused
    with pytest.raises(ValueError, match="expected 4 scores"):
        decode_scores(body, 4, "application/vnd.vedette.scores+json")
    outside = orjson.dumps({"threshold": 2.0, "scores": [1.0], "anomalies": [{"row": 1, "top_features": []}]})
    with pytest.raises(ValueError, match="anomaly row 1 is not one of the 1 rows"):
        decode_scores(outside, 1, "application/vnd.vedette.scores+json")


def test_a_json_answer_is_read_as_json_whatever_was_asked():
    # GIVEN the JSON answer, as an endpoint that does not offer the compact type gives it
    body = orjson.dumps({"threshold": 2.0, "results": [{"score": 3.0, "anomaly": True, "top_features": []}]})
    # THEN it is read by its own content type
    assert decode_scores(body, 1, "application/json") == [Score(3.0, True, 2.0, [])]


def test_sns_subjects_are_printable_ascii_under_100_characters():
    subject = sns_subject("Vedette: anomalous login_failed by u\n\u00e9l\u00e8ve\x07" + "x" * 200)
    assert len(subject) == 99
    assert all(" " <= char <= "~" for char in subject)
    assert subject.startswith("Vedette: anomalous login_failed by u")


def test_json_bodies_for_an_endpoint_whose_artifact_predates_npy_are_chunked_under_the_limit_too():
    # GIVEN rows whose JSON varies in length, and a limit a fifth of their encoded size
    rng = np.random.default_rng(3)
    rows = np.where(rng.random((2000, FEATURE_COUNT)) < 0.5, 0.0, rng.random((2000, FEATURE_COUNT)))
    total = len(encode_rows(rows, "application/json"))
    limit = total // 5

    chunks = plan_chunks(rows, max_payload_bytes=limit, max_rows=10_000, content_type="application/json")

    assert all(len(body) <= limit for _, body in chunks)
    assert len(chunks) <= math.ceil(total / limit) + 2
    decoded = [row for _, body in chunks for row in orjson.loads(body)["rows"]]
    assert decoded == rows.tolist()  # in order, nothing lost or repeated
    assert orjson.loads(chunks[0][1])["feature_names"] == list(FEATURE_NAMES)
    with pytest.raises(ValueError, match="no encoder for 'text/csv'"):
        encode_rows(rows, "text/csv")
