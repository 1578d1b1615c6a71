"""The artifact served by the real serving stack of SageMaker's scikit-learn container and by the
project's own server (``model/server.py``): the same requests get the same answers, byte for byte.

The real stack (sagemaker-containers 2.8.6.post2 on Flask, gunicorn and gevent, Python 3.10) runs
when ``make test`` could build ``.venv-sklearn-container``; otherwise the comparison is skipped with
the reason, and the project's server is still held to the answers recorded from the real stack.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest

from emulators import LocalEndpoint
from model.artifact import extract_tarball
from model.features import FEATURE_COUNT, FEATURE_NAMES, ResourceVocabulary, featurize_batch
from model.rows import MAX_ROWS_PER_REQUEST, encode_npy
from model.server import INTERNAL_ERROR_BODY, INTERNAL_ERROR_CONTENT_TYPE
from tests.model_factories import normal_traffic

JSON = "application/json"
NPY = "application/x-npy"
SCORES = "application/vnd.vedette.scores+json"


def rows(count: int, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).random((count, FEATURE_COUNT))


def json_body(matrix: np.ndarray, names: list[str] | None = None) -> bytes:
    payload: dict[str, Any] = {"rows": matrix.tolist()}
    if names is not None:
        payload["feature_names"] = names
    return json.dumps(payload).encode()


def renamed_npy(matrix: np.ndarray) -> bytes:
    """NPY rows whose header names another feature set (a field renamed)."""
    names = list(FEATURE_NAMES)
    names[4] = "renamed_feature"
    buffer = io.BytesIO()
    dtype = np.dtype([(name, "<f8") for name in names])
    np.save(buffer, np.ascontiguousarray(matrix).view(dtype).reshape(len(matrix)), allow_pickle=False)
    return buffer.getvalue()


VALID = {
    "json 421 rows": (json_body(rows(421), list(FEATURE_NAMES)), {"Content-Type": JSON}),
    "json 421 rows, charset": (json_body(rows(421)), {"Content-Type": f"{JSON}; charset=utf-8"}),
    "json 421 rows, accept json": (json_body(rows(421)), {"Content-Type": JSON, "Accept": JSON}),
    "json 421 rows, accept any": (json_body(rows(421)), {"Content-Type": JSON, "Accept": "*/*"}),
    "json 10000 rows": (json_body(rows(MAX_ROWS_PER_REQUEST)), {"Content-Type": JSON}),
    "npy 421 rows": (encode_npy(rows(421)), {"Content-Type": NPY}),
    "npy 421 rows, accept json": (encode_npy(rows(421)), {"Content-Type": NPY, "Accept": JSON}),
    "npy 10000 rows": (encode_npy(rows(MAX_ROWS_PER_REQUEST)), {"Content-Type": NPY}),
    "npy 421 rows, accept scores": (encode_npy(rows(421)), {"Content-Type": NPY, "Accept": SCORES}),
    "json 421 rows, accept scores": (json_body(rows(421)), {"Content-Type": JSON, "Accept": SCORES}),
    "npy 10000 rows, accept scores": (encode_npy(rows(MAX_ROWS_PER_REQUEST)), {"Content-Type": NPY, "Accept": SCORES}),
}
# Each with the field the artifact's log line names.
INVALID = {
    "json, wrong feature names": (
        json_body(rows(3), ["renamed", *FEATURE_NAMES[1:]]),
        {"Content-Type": JSON},
        "feature_names",
    ),
    "npy, wrong feature names": (renamed_npy(rows(3)), {"Content-Type": NPY}, "feature_names"),
    "npy, truncated": (encode_npy(rows(3))[:-10], {"Content-Type": NPY}, "body"),
    "text/csv": (b"1,2,3\n", {"Content-Type": "text/csv"}, "ContentType"),
    "octet-stream": (encode_npy(rows(3)), {"Content-Type": "application/octet-stream"}, "ContentType"),
    "accept text/csv": (encode_npy(rows(3)), {"Content-Type": NPY, "Accept": "text/csv"}, "Accept"),
    "10001 rows": (encode_npy(rows(MAX_ROWS_PER_REQUEST + 1)), {"Content-Type": NPY}, "rows"),
    "malformed json": (b'{"rows": [[1.0,', {"Content-Type": JSON}, "body"),
    "a row of the wrong length": (json_body(np.zeros((2, 3))), {"Content-Type": JSON}, "rows[0]"),
}


def invoke(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, bytes]:
    """POST to the container's /invocations: (status, content type, body)."""
    request = urllib.request.Request(f"{url}/invocations", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers["Content-Type"], error.read()


def rejections(log_path: str) -> list[dict[str, Any]]:
    """The artifact's JSON lines about rejected requests in a container's output."""
    lines = Path(log_path).read_text(errors="replace").splitlines()
    parsed = [json.loads(line) for line in lines if line.startswith("{")]
    return [line for line in parsed if line.get("event") == "request_rejected"]


@pytest.mark.parametrize("case", [*VALID, *INVALID])
def test_both_servers_answer_the_same_bytes(
    case: str, container_endpoint: LocalEndpoint, project_endpoint: LocalEndpoint
) -> None:
    # GIVEN the same artifact on the container's real serving stack and on the project's server
    body, headers, *_ = {**VALID, **INVALID}[case]
    # WHEN the same request reaches both containers
    real = invoke(container_endpoint.container_url, body, headers)
    project = invoke(project_endpoint.container_url, body, headers)
    # THEN status, content type and body are identical
    assert project == real
    assert real[0] == (200 if case in VALID else 500)


@pytest.mark.parametrize("case", list(INVALID))
def test_a_rejected_request_is_a_generic_500_and_one_json_log_line(case: str, project_endpoint: LocalEndpoint) -> None:
    # GIVEN the project's server (held above to the real stack's bytes)
    body, headers, field = INVALID[case]
    before = len(rejections(project_endpoint.log_path))
    # WHEN a bad request arrives
    status, content_type, answer = invoke(project_endpoint.container_url, body, headers)
    # THEN it gets the container's generic page, which says nothing of the reason
    assert (status, content_type, answer) == (500, INTERNAL_ERROR_CONTENT_TYPE, INTERNAL_ERROR_BODY)
    # AND the artifact logged the reason on one JSON line naming the field
    logged = rejections(project_endpoint.log_path)[before:]
    assert len(logged) == 1
    assert logged[0]["field"] == field
    assert logged[0]["reason"]


def test_the_real_stack_logs_the_reason_as_json_too(container_endpoint: LocalEndpoint) -> None:
    # GIVEN the real serving stack
    before = len(rejections(container_endpoint.log_path))
    body, headers, _ = INVALID["10001 rows"]
    # WHEN a request with too many rows arrives
    assert invoke(container_endpoint.container_url, body, headers)[0] == 500
    # THEN the artifact's line reached the container's output whole, among Flask's traceback
    [logged] = rejections(container_endpoint.log_path)[before:]
    assert logged["field"] == "rows"
    assert f"at most {MAX_ROWS_PER_REQUEST}" in logged["reason"]


@pytest.mark.parametrize("served", ["container_endpoint", "project_endpoint"])
def test_invoke_endpoint_turns_the_500_into_a_model_error_with_the_log_pointer(
    served: str, request: pytest.FixtureRequest
) -> None:
    # GIVEN boto3's sagemaker-runtime client on the local runtime in front of a container
    endpoint: LocalEndpoint = request.getfixturevalue(served)
    client = boto3.client("sagemaker-runtime", endpoint_url=endpoint.url, region_name="us-east-1")
    # WHEN it sends rows for other features
    with pytest.raises(client.exceptions.ModelError) as caught:
        client.invoke_endpoint(EndpointName="vedette-model", ContentType=NPY, Body=renamed_npy(rows(2)))
    # THEN the error carries the container's status and page, and the endpoint's log group
    response = caught.value.response
    assert response["OriginalStatusCode"] == 500
    assert response["OriginalMessage"] == INTERNAL_ERROR_BODY.decode()
    assert response["LogStreamArn"].endswith(":log-group:/aws/sagemaker/Endpoints/vedette-model")
    # AND valid rows are scored through the same path
    answer = client.invoke_endpoint(EndpointName="vedette-model", ContentType=NPY, Body=encode_npy(rows(2)))
    assert len(json.loads(answer["Body"].read())["results"]) == 2


def test_the_compact_answer_carries_the_json_answers_scores_flags_and_reasons(
    served_endpoint: LocalEndpoint, served_tarball: Path, tmp_path: Path
) -> None:
    # GIVEN ordinary traffic's rows, featurized with the artifact's vocabulary, and random rows,
    # which sit far from the training data in places and are flagged
    vocabulary = json.loads(extract_tarball(served_tarball, tmp_path / "model").joinpath("vocabulary.json").read_text())
    ordinary = featurize_batch(normal_traffic(8, 2, seed=5), vocabulary=ResourceVocabulary.from_json(vocabulary)).rows
    body = encode_npy(np.vstack([ordinary, rows(40)]))
    # WHEN they are scored once for each response type
    status, content_type, full = invoke(served_endpoint.container_url, body, {"Content-Type": NPY, "Accept": JSON})
    compact_status, compact_type, compact = invoke(
        served_endpoint.container_url, body, {"Content-Type": NPY, "Accept": SCORES}
    )
    # THEN the compact answer says so in its content type
    assert (status, content_type, compact_status, compact_type) == (200, JSON, 200, SCORES)
    results, answer = json.loads(full)["results"], json.loads(compact)
    # AND it has every row's score, and exactly the flagged rows with the same reasons
    assert answer["scores"] == [result["score"] for result in results]
    flagged = [row for row, result in enumerate(results) if result["anomaly"]]
    assert 0 < len(flagged) < len(results)
    assert answer["anomalies"] == [{"row": row, "top_features": results[row]["top_features"]} for row in flagged]
    assert {key: answer[key] for key in ("model", "features_version", "threshold")} == {
        key: json.loads(full)[key] for key in ("model", "features_version", "threshold")
    }
