"""The four functions of the SageMaker scikit-learn container's serving contract.

The container calls ``model_fn(model_dir)`` once, then for each request
``input_fn(request_body, request_content_type)`` (the body arrives as ``str`` for
``application/json``, as bytes otherwise), ``predict_fn(input_data, model)`` and
``output_fn(prediction, accept)``; a ``(body, content_type)`` tuple answers 200.

Request, either of:

* ``application/json``::

    {"rows": [[f1, f2, ...], ...],            # one row per event, FEATURE_NAMES order
     "feature_names": [...]}                  # optional; must equal FEATURE_NAMES when given

* ``application/x-npy`` (what the scorer sends; ``model.rows``): a structured array with one
  float64 field per feature, named as ``FEATURE_NAMES``, or a plain ``(n, FEATURE_COUNT)`` float
  array.

Either content type may name the feature configuration the rows were computed with
(``application/x-npy; feature-config=<id>``, ``model.rows.with_feature_config``). A model trained
with another configuration does not score them: it answers 200 with no scores and ``"refused"``,
naming the configuration it reads (``feature_config_id``), so the scorer can featurize them again
with that one (``scorer.model_config``). A 200, because the container turns every exception into a
500 whose reason the client cannot read; and while a guarded rollout sends part of the traffic to
each of two models, the scorer must learn from each answer which one it reached::

    {"model": "ecod", "features_version": 3, "feature_config_id": "<id it reads>", "threshold": t,
     "refused": {"field": "ContentType", "reason": "..."}}

Rows that name no configuration are scored by any model (clients made before configurations had ids).

Response, as the request's ``Accept`` asks:

* ``application/json`` (also for ``*/*`` or no Accept; what every artifact answers), every row
  explained::

    {"model": "ecod", "features_version": 3, "feature_config_id": "<id>", "threshold": t,
     "results": [{"score": s, "anomaly": s > t,
                  "top_features": [{"feature": name, "contribution": c}, ...]}, ...]}

* ``application/vnd.vedette.scores+json`` (what the scorer asks for when the artifact's metadata
  lists it in ``response_content_types``), only the flagged rows explained, as they are the only
  ones the scorer records::

    {"model": "ecod", "features_version": 3, "feature_config_id": "<id>", "threshold": t,
     "scores": [s, ...],                                          # one per row, in request order
     "anomalies": [{"row": i, "top_features": [...]}, ...]}        # the rows with s > t, in order

Scores are rounded to 6 decimals and a row is flagged when its rounded score exceeds the threshold,
in both. ``predict_fn`` only scores; ``output_fn`` explains the rows its response explains.

Bad requests raise ``RequestError`` subclasses naming the field and the reason. The prebuilt
container answers any exception from these functions with Flask's generic 500 page (so does
``model.server``), so the reason is only in the endpoint's log: each rejection is logged first as
one JSON line (``{"event": "request_rejected", "field": ..., "reason": ...}``) on standard error,
which CloudWatch Logs Insights reads as fields (``filter event = "request_rejected"``).
"""

from __future__ import annotations

import json
import logging
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, NamedTuple, ParamSpec, TypeVar

import numpy as np

from model.artifact import LoadedModel, load_model
from model.detectors import ECODDetector, IsolationForestDetector, top_features
from model.exceptions import RequestError, UnsupportedAcceptError, UnsupportedContentTypeError
from model.features import FEATURE_COUNT, FEATURE_NAMES, FEATURES_VERSION
from model.rows import (
    FEATURE_CONFIG_ID,
    JSON_CONTENT_TYPE,
    MAX_ROWS_PER_REQUEST,
    NPY_CONTENT_TYPE,
    SCORES_CONTENT_TYPE,
    decode_npy,
    feature_config_of,
    first_difference,
)

# What input_fn reads and output_fn writes; training records them in the artifact's metadata, so a
# scorer deployed with an artifact made before NPY or the compact response knows to use JSON.
REQUEST_CONTENT_TYPES = (JSON_CONTENT_TYPE, NPY_CONTENT_TYPE)
RESPONSE_CONTENT_TYPES = (JSON_CONTENT_TYPE, SCORES_CONTENT_TYPE)
TOP_FEATURES = 3

# The rejections' log: one JSON object per line, nothing before it, so Logs Insights parses it.
rejections = logging.getLogger("vedette.model.rejections")
P = ParamSpec("P")
R = TypeVar("R")


def _log_rejections_as_json() -> None:
    if not rejections.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        rejections.addHandler(handler)
        rejections.setLevel(logging.INFO)
        rejections.propagate = False


def _logged(function: Callable[P, R]) -> Callable[P, R]:
    """Log a ``RequestError`` from ``function`` as one JSON line, then let it go on to the server."""

    @wraps(function)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except RequestError as error:
            line = {
                "level": "ERROR",
                "event": "request_rejected",
                "error": type(error).__name__,
                "field": error.field,
                "reason": error.reason,
                "status_code": error.status_code,
                "function": function.__name__,
            }
            rejections.error(json.dumps(line, separators=(",", ":")))
            raise

    return checked


def model_fn(model_dir: str) -> LoadedModel:
    """Load the artifact unpacked in ``model_dir``."""
    _log_rejections_as_json()
    return load_model(model_dir)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


class Rows(NamedTuple):
    """What ``input_fn`` hands ``predict_fn``: the rows, and the feature configuration the request
    says they were computed with (None if it names none)."""

    matrix: np.ndarray[Any, np.dtype[np.float64]]
    feature_config_id: str | None = None


@_logged
def input_fn(request_body: str | bytes, request_content_type: str | None) -> Rows:
    """Decode a batch of feature rows (JSON or NPY) into a float matrix, naming the first defect found."""
    try:
        feature_config_id = feature_config_of(request_content_type)
    except ValueError as error:
        raise RequestError(str(error), "ContentType") from None
    return Rows(_matrix(request_body, request_content_type), feature_config_id)


def _matrix(request_body: str | bytes, request_content_type: str | None) -> np.ndarray[Any, np.dtype[np.float64]]:
    media = _media_type(request_content_type)
    if media == NPY_CONTENT_TYPE:
        return _rows_from_npy(request_body)
    if media != JSON_CONTENT_TYPE:
        raise UnsupportedContentTypeError(
            f"content type {request_content_type!r} is not supported; send {JSON_CONTENT_TYPE} or {NPY_CONTENT_TYPE}",
            "ContentType",
        )
    try:
        payload = json.loads(request_body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RequestError(f"body: not UTF-8 JSON: {error}") from None
    if not isinstance(payload, dict):
        raise RequestError(f"body: must be a JSON object with 'rows', got {type(payload).__name__}")
    names = payload.get("feature_names")
    if names is not None and tuple(names) != FEATURE_NAMES:
        raise RequestError(
            f"feature_names: do not match the model's {FEATURE_COUNT} features (version {FEATURES_VERSION}); "
            f"first difference at {first_difference(names)}"
        )
    rows = payload.get("rows")
    if not isinstance(rows, list) or not rows:
        raise RequestError("rows: must be a non-empty list of feature rows")
    _check_row_count(len(rows))
    # Fast path: a well-formed batch converts in one call; the slow scan below only names the defect.
    try:
        matrix = np.asarray(rows)
    except ValueError:
        matrix = None
    if (
        matrix is not None
        and matrix.dtype.kind == "f"
        and matrix.shape == (len(rows), FEATURE_COUNT)
        and np.isfinite(matrix).all()
    ):
        return matrix.astype(np.float64, copy=False)
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != FEATURE_COUNT:
            size = len(row) if isinstance(row, list) else type(row).__name__
            raise RequestError(f"rows[{index}]: expected a list of {FEATURE_COUNT} numbers, got {size}")
        for column, value in enumerate(row):
            if not _is_finite_number(value):
                name = FEATURE_NAMES[column]
                raise RequestError(f"rows[{index}][{column}] ({name}): must be a finite number, got {repr(value)[:40]}")
    return np.asarray(rows, dtype=np.float64)


def _rows_from_npy(request_body: str | bytes) -> np.ndarray[Any, np.dtype[np.float64]]:
    if isinstance(request_body, str):  # only if a server decoded the body as text, which breaks NPY
        raise RequestError("body: NPY must arrive as bytes")
    try:
        matrix = decode_npy(request_body, MAX_ROWS_PER_REQUEST)
    except ValueError as error:
        message = str(error)
        raise RequestError(message if message.startswith(("rows:", "feature_names:")) else f"body: {message}") from None
    finite = np.isfinite(matrix)
    if not finite.all():
        index, column = (int(axis[0]) for axis in np.nonzero(~finite))
        raise RequestError(
            f"rows[{index}][{column}] ({FEATURE_NAMES[column]}): must be a finite number, got {matrix[index, column]}"
        )
    return matrix


def _check_row_count(count: int) -> None:
    if count > MAX_ROWS_PER_REQUEST:
        raise RequestError(f"rows: at most {MAX_ROWS_PER_REQUEST} per request, got {count}")


def _is_finite_number(value: Any) -> bool:
    if type(value) not in (int, float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond the float range
        return False


@dataclass(frozen=True)
class Prediction:
    """What ``predict_fn`` hands ``output_fn``: the scores and flags, and what explaining a row takes."""

    detector: ECODDetector | IsolationForestDetector
    threshold: float
    rows: np.ndarray[Any, np.dtype[np.float64]]
    scores: list[float]  # rounded to 6 decimals, as answered
    flagged: list[int]  # the rows whose score exceeds the threshold, in order
    feature_config_id: str | None = None  # the model's (None for an artifact made before ids)

    def explain(self, rows: np.ndarray[Any, np.dtype[np.float64]]) -> list[list[dict[str, Any]]]:
        """The ``TOP_FEATURES`` largest contributions of each of ``rows``, as the responses name them."""
        explanations = top_features(
            self.detector.contributions(rows), FEATURE_NAMES, TOP_FEATURES, self.detector.distances(rows)
        )
        return [
            [{"feature": name, "contribution": value} for name, value in explanation] for explanation in explanations
        ]


@dataclass(frozen=True)
class Refusal:
    """What ``predict_fn`` hands ``output_fn`` for rows computed with another feature configuration."""

    detector_name: str
    threshold: float
    feature_config_id: str  # the model's
    requested: str  # the rows'

    @property
    def reason(self) -> str:
        return (
            f"the rows were computed with feature configuration {self.requested}, this model reads "
            f"{self.feature_config_id}: compute them with that one"
        )


def predict_fn(input_data: Rows | np.ndarray[Any, np.dtype[np.float64]], model: LoadedModel) -> Prediction | Refusal:
    """Score each row; flag it when its score exceeds the calibrated threshold (``output_fn`` explains).
    Rows computed with another feature configuration than the model's are refused, not scored."""
    rows, requested = input_data if isinstance(input_data, Rows) else (input_data, None)
    served = model.metadata.get(FEATURE_CONFIG_ID)
    if requested is not None and served is not None and requested != served:
        refusal = Refusal(model.detector.name, model.threshold, served, requested)
        line = {"level": "WARNING", "event": "request_refused", "field": "ContentType", "reason": refusal.reason}
        rejections.warning(json.dumps(line, separators=(",", ":")))
        return refusal
    scores = np.round(model.detector.score(rows), 6)
    flagged = np.flatnonzero(scores > model.threshold).tolist()
    return Prediction(model.detector, model.threshold, rows, scores.tolist(), flagged, served)


@_logged
def output_fn(prediction: Prediction | Refusal, accept: str | None) -> tuple[bytes, str]:
    """Serialize the prediction as the Accept asks: JSON with every row explained (``*/*`` or no
    Accept means JSON), or the compact ``SCORES_CONTENT_TYPE`` with the flagged rows explained; a
    refusal in either type."""
    media = _media_type(accept)
    if media == SCORES_CONTENT_TYPE:
        compact = _refusal(prediction) if isinstance(prediction, Refusal) else _compact_response(prediction)
        return _dumps(compact), SCORES_CONTENT_TYPE
    if media not in ("", "*/*", JSON_CONTENT_TYPE):
        raise UnsupportedAcceptError(
            f"accept {accept!r} is not supported; accept {JSON_CONTENT_TYPE} or {SCORES_CONTENT_TYPE}", "Accept"
        )
    response = _refusal(prediction) if isinstance(prediction, Refusal) else _json_response(prediction)
    return _dumps(response), JSON_CONTENT_TYPE


def _identity(detector_name: str, feature_config_id: str | None, threshold: float) -> dict[str, Any]:
    """What every response starts with: which model answered, and with which feature configuration."""
    identity: dict[str, Any] = {"model": detector_name, "features_version": FEATURES_VERSION}
    if feature_config_id is not None:
        identity[FEATURE_CONFIG_ID] = feature_config_id
    return {**identity, "threshold": threshold}


def _refusal(refusal: Refusal) -> dict[str, Any]:
    return {
        **_identity(refusal.detector_name, refusal.feature_config_id, refusal.threshold),
        "refused": {"field": "ContentType", "reason": refusal.reason},
    }


def _json_response(prediction: Prediction) -> dict[str, Any]:
    threshold = prediction.threshold
    return {
        **_identity(prediction.detector.name, prediction.feature_config_id, threshold),
        "results": [
            {"score": score, "anomaly": score > threshold, "top_features": explanation}
            for score, explanation in zip(prediction.scores, prediction.explain(prediction.rows), strict=True)
        ],
    }


def _compact_response(prediction: Prediction) -> dict[str, Any]:
    flagged = prediction.flagged
    explanations = prediction.explain(prediction.rows[flagged]) if flagged else []
    return {
        **_identity(prediction.detector.name, prediction.feature_config_id, prediction.threshold),
        "scores": prediction.scores,
        "anomalies": [
            {"row": row, "top_features": explanation} for row, explanation in zip(flagged, explanations, strict=True)
        ],
    }


def _dumps(response: dict[str, Any]) -> bytes:
    return json.dumps(response, separators=(",", ":")).encode()
