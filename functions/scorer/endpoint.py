"""Scoring feature rows on the SageMaker endpoint in as few InvokeEndpoint calls as the payload allows.

The scorer cannot rely on the endpoint's status to tell a bad request from a failing endpoint: the
scikit-learn container answers any error of the model's code with a 500 (InvokeEndpoint's
``ModelError``), and the reason is only in the endpoint's log. So it checks what it can before
sending (every body within ``model.rows``' limits, the rows as wide as the features it was deployed
with) and after (the answer's features version), and when the model rejects a chunk it sends one
reference row: if that is rejected too, the endpoint refuses everything this scorer sends
(``EndpointUnusableError``: a mismatched artifact), which no retry can fix; if not, the rejection is
about those rows (``ModelRejectedError``), which the batch step parks once Lambda has bisected the
batch down to one record.

Each request names the feature configuration its rows were computed with; a model trained with
another one answers which it reads instead of scores (``model.serving``), and ``score_in_chunks``
stops there so the batch step can featurize the rows again with that one (``scorer.batch``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import numpy as np
import orjson

from model.features import FEATURE_COUNT, FEATURE_NAMES, FEATURES_VERSION
from model.rows import (
    JSON_CONTENT_TYPE,
    MAX_REQUEST_BYTES,
    MAX_ROWS_PER_REQUEST,
    NPY_CONTENT_TYPE,
    SCORES_CONTENT_TYPE,
    encode_npy,
    is_feature_config_id,
    with_feature_config,
)
from scorer.exceptions import (
    EndpointUnusableError,
    FeatureConfigRefusedError,
    ModelRejectedError,
    RequestLimitError,
    ScorerError,
    TransientError,
)

# After the endpoint refused the reference row, batches fail without calling it for this long; then
# one reference row is sent before the next batch, so a fixed endpoint is used again without a
# cold start, and a broken one costs one call per minute, not one per retry.
ENDPOINT_RECHECK_SECONDS = 60.0
# Any finite row is a valid request: the reference row is all zeros.
REFERENCE_ROW = np.zeros((1, FEATURE_COUNT))


class Score(NamedTuple):
    """One row's answer from the model (a tuple: one is made per event)."""

    score: float
    is_anomaly: bool
    threshold: float
    top_features: list[dict[str, Any]]


class Endpoint(Protocol):
    """Scores a chunk of feature rows (``body``: the rows already encoded as ``content_type``, if the
    caller has them; ``feature_config_id``: the feature configuration they were computed with);
    raises ``TransientError`` when a retry may succeed, ``ModelRejectedError`` when the model's code
    raised, ``EndpointUnusableError`` when no request can succeed, ``FeatureConfigRefusedError``
    when the model reads another feature configuration."""

    content_type: str

    def score(
        self, rows: np.ndarray[Any, Any], body: bytes | None = None, feature_config_id: str | None = None
    ) -> list[Score]: ...


def encode_rows(rows: np.ndarray[Any, Any], content_type: str = NPY_CONTENT_TYPE) -> bytes:
    """A request body the model's ``input_fn`` reads (see ``model.serving``), with the names of the
    features the rows were computed with, which the endpoint checks against its own: NPY (the names
    in its header), or JSON for an endpoint whose artifact predates NPY."""
    if content_type == NPY_CONTENT_TYPE:
        return encode_npy(rows)
    if content_type == JSON_CONTENT_TYPE:
        return orjson.dumps({"feature_names": FEATURE_NAMES, "rows": rows}, option=orjson.OPT_SERIALIZE_NUMPY)
    raise ValueError(f"no encoder for {content_type!r}; the endpoint reads {NPY_CONTENT_TYPE} or {JSON_CONTENT_TYPE}")


def decode_scores(
    body: bytes, expected: int, content_type: str = JSON_CONTENT_TYPE, feature_config_id: str | None = None
) -> list[Score]:
    """Parse the model's ``output_fn`` response, JSON or the compact ``SCORES_CONTENT_TYPE`` as its
    ``content_type`` says; raises ``ValueError`` if it does not fit the request,
    ``EndpointUnusableError`` if the model computed its scores for another features version,
    ``FeatureConfigRefusedError`` if it refused rows computed with ``feature_config_id``."""
    payload = orjson.loads(body)
    version = payload.get("features_version") if isinstance(payload, dict) else None
    if version is not None and version != FEATURES_VERSION:
        raise EndpointUnusableError(
            f"the endpoint's model is for features version {version!r}, this scorer computes version "
            f"{FEATURES_VERSION}: deploy the scorer and the endpoint from the same model.tar.gz"
        )
    if isinstance(payload, dict) and "refused" in payload:
        served = payload.get("feature_config_id")
        if not is_feature_config_id(served):
            raise ValueError(f"a refusal must name the model's feature configuration, got {served!r}")
        raise FeatureConfigRefusedError(feature_config_id, served)
    compact = content_type.split(";", 1)[0].strip().lower() == SCORES_CONTENT_TYPE
    threshold, scores = (_compact_scores if compact else _json_scores)(payload, expected)
    # DynamoDB numbers cannot hold NaN or infinity; a model that answers them is broken, not an anomaly.
    if not math.isfinite(threshold) or not all(math.isfinite(score.score) for score in scores):
        raise ValueError("scores and threshold must be finite numbers")
    return scores


def _json_scores(payload: Any, expected: int) -> tuple[float, list[Score]]:
    """The threshold and scores of the JSON response: every row's score, flag and reasons."""
    results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(results, list) or len(results) != expected:
        raise ValueError(f"expected {expected} results, got {type(results).__name__}")
    threshold = float(payload["threshold"])
    return threshold, [
        Score(float(r["score"]), bool(r["anomaly"]), threshold, list(r.get("top_features", []))) for r in results
    ]


def _compact_scores(payload: Any, expected: int) -> tuple[float, list[Score]]:
    """The threshold and scores of the compact response: every row's score; the flagged rows, each
    with its reasons (the others have none)."""
    values = payload.get("scores") if isinstance(payload, dict) else None
    if not isinstance(values, list) or len(values) != expected:
        raise ValueError(f"expected {expected} scores, got {type(values).__name__}")
    threshold = float(payload["threshold"])
    explained: dict[int, list[dict[str, Any]]] = {}
    for anomaly in payload["anomalies"]:
        row = anomaly["row"]
        if type(row) is not int or not 0 <= row < expected:
            raise ValueError(f"anomaly row {row!r} is not one of the {expected} rows")
        explained[row] = list(anomaly["top_features"])
    return threshold, [
        Score(float(score), row in explained, threshold, explained.get(row, [])) for row, score in enumerate(values)
    ]


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
    """``sagemaker-runtime`` InvokeEndpoint with a timeout and bounded retries on the client.

    ``content_type`` is the request body's format, ``accept`` the response's: JSON, which every
    artifact answers, or the compact ``SCORES_CONTENT_TYPE`` for an artifact whose metadata lists it
    (``scorer.model_config``). The response is read as its own content type says.
    """

    def __init__(
        self,
        client: Any,
        endpoint_name: str,
        content_type: str = NPY_CONTENT_TYPE,
        accept: str = JSON_CONTENT_TYPE,
    ) -> None:
        self.client = client
        self.endpoint_name = endpoint_name
        self.content_type = content_type
        self.accept = accept

    def score(
        self, rows: np.ndarray[Any, Any], body: bytes | None = None, feature_config_id: str | None = None
    ) -> list[Score]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.invoke_endpoint(
                EndpointName=self.endpoint_name,
                ContentType=with_feature_config(self.content_type, feature_config_id),
                Accept=self.accept,
                Body=encode_rows(rows, self.content_type) if body is None else body,
            )
            body = response["Body"].read()
            answered = response.get("ContentType") or JSON_CONTENT_TYPE
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            if code == "ModelError":
                raise ModelRejectedError(
                    str(error.response.get("Error", {}).get("Message", error)),
                    error.response.get("OriginalStatusCode"),
                    error.response.get("LogStreamArn"),
                ) from error
            if code == "ValidationError":  # no such endpoint, or a request it can never take
                raise EndpointUnusableError(f"InvokeEndpoint refused the request: {error}") from error
            # Throttling, ServiceUnavailable, InternalFailure, ModelNotReadyException: retry later.
            raise TransientError("endpoint", f"{code}: {error}") from error
        except BotoCoreError as error:  # timeouts, connection errors, after the client's own retries
            raise TransientError("endpoint", f"{type(error).__name__}: {error}") from error
        try:
            return decode_scores(body, len(rows), answered, feature_config_id)
        except (ValueError, KeyError, TypeError) as error:
            raise TransientError("endpoint", f"malformed response: {error}") from error


def check_request(count: int, body: bytes, columns: int) -> None:
    """Refuse, before sending, a body the endpoint would reject for its size (``model.rows``' limits,
    the artifact's own) or rows of another width than the features; raises ``RequestLimitError``."""
    for name, value, limit in (
        ("rows", count, MAX_ROWS_PER_REQUEST),
        ("bytes", len(body), MAX_REQUEST_BYTES),
    ):
        if value > limit:
            raise RequestLimitError(name, value, limit)
    if columns != FEATURE_COUNT:
        raise RequestLimitError("columns", columns, FEATURE_COUNT)


@dataclass
class UnusableLatch:
    """Remembers, for a warm execution environment, that the endpoint refuses every request: the
    retries of the batch and the next batches fail at once, without calling it, until
    ``recheck_seconds`` have passed; then one reference row decides."""

    recheck_seconds: float = ENDPOINT_RECHECK_SECONDS
    clock: Callable[[], float] = time.monotonic
    error: EndpointUnusableError | None = field(default=None, init=False)
    until: float = field(default=0.0, init=False)

    def trip(self, error: EndpointUnusableError) -> EndpointUnusableError:
        self.error, self.until = error, self.clock() + self.recheck_seconds
        return error

    def holding(self) -> EndpointUnusableError | None:
        """The error to fail with now, if the last one is recent; None once a recheck is due."""
        return self.error if self.error is not None and self.clock() < self.until else None


class Scoring(NamedTuple):
    """What ``score_in_chunks`` got: a score per row (None: not scored), the calls made, the
    model's rejection of particular rows, if any (``rejected``: their [start, end) ranges), and the
    feature configuration of a model that refused the rows for theirs (``refused_by``)."""

    scores: list[Score | None]
    calls: int
    rejection: ModelRejectedError | None
    rejected: list[tuple[int, int]]
    refused_by: str | None = None


def score_in_chunks(
    endpoint: Endpoint,
    rows: np.ndarray[Any, Any],
    max_payload_bytes: int,
    max_rows: int,
    on_call: Callable[[float, bool], None] | None = None,
    latch: UnusableLatch | None = None,
    feature_config_id: str | None = None,
) -> Scoring:
    """Score rows (computed with ``feature_config_id``) chunk by chunk; raises ``RequestLimitError``
    for a chunk over the endpoint's limits and ``EndpointUnusableError`` when the endpoint refuses
    every request (see the module docstring).

    After a failed call (once the client's own retries are spent) the remaining chunks are not
    attempted: their rows stay ``None``, to be retried with the batch, instead of paying the timeout
    again for each chunk while the endpoint is down. A chunk the model rejects, while it takes the
    reference row, stays ``None`` too and the other chunks are scored. A model that reads another
    feature configuration ends the scoring there too, naming it (``refused_by``).
    """
    latch = latch if latch is not None else UnusableLatch()
    scores: list[Score | None] = [None] * len(rows)
    calls = 0
    rejection: ModelRejectedError | None = None
    rejected: list[tuple[int, int]] = []

    def call(chunk: np.ndarray[Any, Any], body: bytes | None) -> Sequence[Score]:
        nonlocal calls
        calls += 1
        started = time.perf_counter()
        try:
            result = endpoint.score(chunk, body, feature_config_id)
        except FeatureConfigRefusedError:
            if on_call is not None:  # the model answered: a call that worked
                on_call((time.perf_counter() - started) * 1000, True)
            raise
        except ScorerError:
            if on_call is not None:
                on_call((time.perf_counter() - started) * 1000, False)
            raise
        if on_call is not None:
            on_call((time.perf_counter() - started) * 1000, True)
        return result

    def reference_row_refused(cause: ScorerError) -> EndpointUnusableError | None:
        """Send the reference row: the error to fail with if the endpoint refuses it, else None."""
        try:
            call(REFERENCE_ROW, None)
        except (ModelRejectedError, EndpointUnusableError) as error:
            return latch.trip(
                EndpointUnusableError(
                    f"the endpoint's model rejects a reference row too ({cause}): it refuses "
                    "every request this scorer sends; is it serving another artifact?",
                    error.log_stream_arn,
                )
            )
        return None

    if latch.error is not None:
        held = latch.holding()
        if held is not None:
            raise held
        try:
            refused = reference_row_refused(latch.error)  # a TransientError here leaves the batch for retry
        except FeatureConfigRefusedError as switch:  # it answers again, for another configuration
            latch.error = None
            return Scoring(scores, calls, None, [], switch.served)
        if refused is not None:
            raise refused
        latch.error = None
    start = 0
    for count, body in plan_chunks(rows, max_payload_bytes, max_rows, endpoint.content_type):
        end = start + count
        check_request(count, body, rows.shape[1])
        try:
            chunk = call(rows[start:end], body)
        except TransientError:
            break
        except FeatureConfigRefusedError as error:
            return Scoring(scores, calls, rejection, rejected, error.served)
        except EndpointUnusableError as error:
            raise latch.trip(error) from None
        except ModelRejectedError as error:
            if rejection is None:
                rejection = error
                try:
                    refused = reference_row_refused(error)
                except TransientError:
                    break
                except FeatureConfigRefusedError as switch:  # the reference row reached another model
                    return Scoring(scores, calls, rejection, rejected, switch.served)
                if refused is not None:
                    raise refused from error
            rejected.append((start, end))
            start = end
            continue
        scores[start:end] = chunk
        start = end
    return Scoring(scores, calls, rejection, rejected)
