"""Scoring feature rows on the SageMaker endpoint in as few InvokeEndpoint calls as the payload allows."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import orjson

from scorer.exceptions import TransientError

CONTENT_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Score:
    score: float
    is_anomaly: bool
    threshold: float
    top_features: list[dict[str, Any]]


class Endpoint(Protocol):
    """Scores a chunk of feature rows; raises ``TransientError`` when a retry may succeed."""

    def score(self, rows: np.ndarray[Any, Any]) -> list[Score]: ...


def encode_rows(rows: np.ndarray[Any, Any]) -> bytes:
    """The request body the model's ``input_fn`` reads: ``{"instances": [[...], ...]}``."""
    return orjson.dumps({"instances": rows}, option=orjson.OPT_SERIALIZE_NUMPY)


def decode_scores(body: bytes, expected: int) -> list[Score]:
    """Parse the model's ``output_fn`` response; raises ``ValueError`` if it does not fit the request."""
    payload = orjson.loads(body)
    predictions = payload.get("predictions") if isinstance(payload, dict) else None
    if not isinstance(predictions, list) or len(predictions) != expected:
        raise ValueError(f"expected {expected} predictions, got {type(predictions).__name__}")
    return [
        Score(float(p["score"]), bool(p["is_anomaly"]), float(p["threshold"]), list(p.get("top_features", [])))
        for p in predictions
    ]


def chunk_bounds(row_count: int, row_bytes: int, max_payload_bytes: int, max_rows: int) -> list[tuple[int, int]]:
    """Split ``row_count`` rows into the fewest chunks whose bodies stay under the payload limit."""
    per_chunk = max(1, min(max_rows, max_payload_bytes // max(1, row_bytes)))
    return [(start, min(start + per_chunk, row_count)) for start in range(0, row_count, per_chunk)]


def widest_row_bytes(rows: np.ndarray[Any, Any]) -> int:
    """An upper bound of one row's JSON size (every float at its longest repr, plus separators)."""
    if not len(rows):
        return 0
    # orjson writes at most 24 characters per float64 ("-1.2345678901234567e-308"), plus a comma.
    return int(rows.shape[1]) * 25 + 2


class SageMakerEndpoint:
    """``sagemaker-runtime`` InvokeEndpoint with a timeout and bounded retries on the client."""

    def __init__(self, client: Any, endpoint_name: str) -> None:
        self.client = client
        self.endpoint_name = endpoint_name

    def score(self, rows: np.ndarray[Any, Any]) -> list[Score]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.invoke_endpoint(
                EndpointName=self.endpoint_name, ContentType=CONTENT_TYPE, Accept=CONTENT_TYPE, Body=encode_rows(rows)
            )
            body = response["Body"].read()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            raise TransientError("endpoint", f"{code}: {error}") from error
        except BotoCoreError as error:  # timeouts, connection errors, after the client's own retries
            raise TransientError("endpoint", f"{type(error).__name__}: {error}") from error
        try:
            return decode_scores(body, len(rows))
        except (ValueError, KeyError, TypeError) as error:
            raise TransientError("endpoint", f"malformed response: {error}") from error


def score_in_chunks(
    endpoint: Endpoint,
    rows: np.ndarray[Any, Any],
    max_payload_bytes: int,
    max_rows: int,
    on_call: Callable[[float, bool], None] | None = None,
) -> tuple[list[Score | None], int]:
    """Score rows chunk by chunk; returns the scores and the number of calls made.

    After a failed call (once the client's own retries are spent) the remaining chunks are not
    attempted: their rows stay ``None``, to be retried with the batch, instead of paying the timeout
    again for each chunk while the endpoint is down.
    """
    scores: list[Score | None] = [None] * len(rows)
    calls = 0
    for start, end in chunk_bounds(len(rows), widest_row_bytes(rows), max_payload_bytes, max_rows):
        started = time.perf_counter()
        calls += 1
        try:
            chunk: Sequence[Score] = endpoint.score(rows[start:end])
        except TransientError:
            if on_call is not None:
                on_call((time.perf_counter() - started) * 1000, False)
            break
        if on_call is not None:
            on_call((time.perf_counter() - started) * 1000, True)
        scores[start:end] = chunk
    return scores, calls
