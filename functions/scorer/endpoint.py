"""Scoring feature rows on the SageMaker endpoint in as few InvokeEndpoint calls as the payload allows."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np
import orjson

from model.features import FEATURE_NAMES
from model.rows import JSON_CONTENT_TYPE, NPY_CONTENT_TYPE, encode_npy
from scorer.exceptions import TransientError

RESPONSE_CONTENT_TYPE = JSON_CONTENT_TYPE


class Score(NamedTuple):
    """One row's answer from the model (a tuple: one is made per event)."""

    score: float
    is_anomaly: bool
    threshold: float
    top_features: list[dict[str, Any]]


class Endpoint(Protocol):
    """Scores a chunk of feature rows (``body``: the rows already encoded as ``content_type``, if the
    caller has them); raises ``TransientError`` when a retry may succeed."""

    content_type: str

    def score(self, rows: np.ndarray[Any, Any], body: bytes | None = None) -> list[Score]: ...


def encode_rows(rows: np.ndarray[Any, Any], content_type: str = NPY_CONTENT_TYPE) -> bytes:
    """A request body the model's ``input_fn`` reads (see ``model.serving``), with the names of the
    features the rows were computed with, which the endpoint checks against its own: NPY (the names
    in its header), or JSON for an endpoint whose artifact predates NPY."""
    if content_type == NPY_CONTENT_TYPE:
        return encode_npy(rows)
    if content_type == JSON_CONTENT_TYPE:
        return orjson.dumps({"feature_names": FEATURE_NAMES, "rows": rows}, option=orjson.OPT_SERIALIZE_NUMPY)
    raise ValueError(f"no encoder for {content_type!r}; the endpoint reads {NPY_CONTENT_TYPE} or {JSON_CONTENT_TYPE}")


def decode_scores(body: bytes, expected: int) -> list[Score]:
    """Parse the model's ``output_fn`` response; raises ``ValueError`` if it does not fit the request."""
    payload = orjson.loads(body)
    results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(results, list) or len(results) != expected:
        raise ValueError(f"expected {expected} results, got {type(results).__name__}")
    threshold = float(payload["threshold"])
    scores = [Score(float(r["score"]), bool(r["anomaly"]), threshold, list(r.get("top_features", []))) for r in results]
    # DynamoDB numbers cannot hold NaN or infinity; a model that answers them is broken, not an anomaly.
    if not math.isfinite(threshold) or not all(math.isfinite(score.score) for score in scores):
        raise ValueError("scores and threshold must be finite numbers")
    return scores


def plan_chunks(
    rows: np.ndarray[Any, Any], max_payload_bytes: int, max_rows: int, content_type: str = NPY_CONTENT_TYPE
) -> list[tuple[int, bytes]]:
    """Split rows into the fewest request bodies under the payload and row limits: (row count, body) each.

    The whole batch is encoded once. If it is too large, it is cut into the fewest equal parts that
    its bytes per row allow, each with room for the body's header (NPY rows are all the same size,
    so the parts then fit); a part still too large (JSON rows vary in length) is cut again the same way.
    """
    header = len(encode_rows(rows[:0], content_type))
    pending = [(0, len(rows))]
    planned: list[tuple[int, int, bytes]] = []
    while pending:
        start, end = pending.pop()
        count = end - start
        body = encode_rows(rows[start:end], content_type)
        if (len(body) <= max_payload_bytes and count <= max_rows) or count == 1:
            planned.append((start, end, body))
            continue
        row_bytes = (len(body) - header) / count
        fitting = max(1, min(max_rows, count - 1, int((max_payload_bytes - header) // row_bytes)))
        parts = -(-count // fitting)  # ceiling
        step = -(-count // parts)
        pending.extend((cut, min(cut + step, end)) for cut in range(start, end, step))
    planned.sort()
    return [(end - start, body) for start, end, body in planned]


class SageMakerEndpoint:
    """``sagemaker-runtime`` InvokeEndpoint with a timeout and bounded retries on the client."""

    def __init__(self, client: Any, endpoint_name: str, content_type: str = NPY_CONTENT_TYPE) -> None:
        self.client = client
        self.endpoint_name = endpoint_name
        self.content_type = content_type

    def score(self, rows: np.ndarray[Any, Any], body: bytes | None = None) -> list[Score]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.invoke_endpoint(
                EndpointName=self.endpoint_name,
                ContentType=self.content_type,
                Accept=RESPONSE_CONTENT_TYPE,
                Body=encode_rows(rows, self.content_type) if body is None else body,
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
    start = 0
    for count, body in plan_chunks(rows, max_payload_bytes, max_rows, endpoint.content_type):
        end = start + count
        started = time.perf_counter()
        calls += 1
        try:
            chunk: Sequence[Score] = endpoint.score(rows[start:end], body)
        except TransientError:
            if on_call is not None:
                on_call((time.perf_counter() - started) * 1000, False)
            break
        if on_call is not None:
            on_call((time.perf_counter() - started) * 1000, True)
        scores[start:end] = chunk
        start = end
    return scores, calls
