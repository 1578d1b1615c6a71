"""The scorer tells a bad request from a failing endpoint without relying on the status: over the
real wire (InvokeEndpoint on loopback, in front of the container's serving stack when installed),
in a batch, and in the local pipeline with a mismatched artifact."""

from __future__ import annotations

import http.client
import itertools
import json
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import numpy as np
import pytest

from emulators import LocalEndpoint, local_endpoint
from local_pipeline.event_source import LocalEventSourceMapping, MappingSettings
from local_pipeline.lambda_runtime import LambdaProcess
from local_pipeline.resources import PipelineNames, create_resources, drain_queue, scorer_environment
from model.artifact import build_tarball, export_feature_config, extract_tarball
from model.features import FEATURE_COUNT, FEATURE_NAMES, FEATURES_VERSION
from model.rows import MAX_ROWS_PER_REQUEST
from scorer.batch import process_batch
from scorer.clients import aws_client
from scorer.endpoint import SageMakerEndpoint, Score, UnusableLatch, score_in_chunks
from scorer.exceptions import EndpointUnusableError, ModelRejectedError, RequestLimitError
from scorer.records import decode_batch
from tests.conftest import make_event
from tests.scorer_factories import (
    REGION,
    SUSPICIOUS,
    SuspiciousResourceEndpoint,
    lambda_event,
    plain,
    wire_event,
)
from tests.scorer_factories import (
    create_resources as create_scorer_resources,
)
from vedette.events import encode_event, normalize_event

RENAMED = "log_resource_length"
LOG_GROUP = ":log-group:/aws/sagemaker/Endpoints/"
_names = itertools.count()


def tampered(tarball: Path, folder: Path, *, rename: bool, version: int) -> Path:
    """The artifact as if built by code with other features: its own code and metadata agree (so it
    loads and serves), but they differ from what the scorer computes."""
    unpacked = extract_tarball(tarball, folder)
    package = unpacked / "code" / "model" / "features"
    state, columns = package / "state.py", package / "resources.py"  # where the version and RENAMED live
    versioned = state.read_text().replace(f"FEATURES_VERSION = {FEATURES_VERSION}\n", f"FEATURES_VERSION = {version}\n")
    assert versioned != state.read_text(), "the features version is no longer declared in features/state.py"
    state.write_text(versioned)
    metadata = json.loads((unpacked / "metadata.json").read_text())
    metadata["features_version"] = version
    if rename:
        renamed = columns.read_text().replace(f'    "{RENAMED}",\n', f'    "{RENAMED}_v{version}",\n')
        assert renamed != columns.read_text(), f"{RENAMED} is no longer declared in features/resources.py"
        columns.write_text(renamed)
        metadata["feature_names"] = [f"{RENAMED}_v{version}" if name == RENAMED else name for name in FEATURE_NAMES]
    (unpacked / "metadata.json").write_text(json.dumps(metadata))
    vocabulary = json.loads((unpacked / "vocabulary.json").read_text())
    (unpacked / "vocabulary.json").write_text(json.dumps({**vocabulary, "v": version}))
    return build_tarball(unpacked, folder.with_suffix(".tar.gz"))


@pytest.fixture(scope="module")
def mismatched(served_tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEndpoint]:
    """An endpoint serving an artifact for renamed features and another version."""
    tarball = tampered(served_tarball, tmp_path_factory.mktemp("mismatched") / "model", rename=True, version=99)
    with local_endpoint(tarball) as endpoint:
        with urllib.request.urlopen(f"{endpoint.container_url}/ping") as ping:
            assert ping.status == 200  # it loaded its model: it is the requests it refuses
        yield endpoint


def runtime(url: str) -> Any:
    return aws_client("sagemaker-runtime", url, max_attempts=1)


def rows(count: int) -> np.ndarray:
    return np.random.default_rng(5).random((count, FEATURE_COUNT))


class CallLog:
    def __init__(self) -> None:
        self.calls: list[bool] = []

    def __call__(self, latency_ms: float, ok: bool) -> None:
        self.calls.append(ok)


def test_an_endpoint_for_other_features_is_unusable_after_two_calls(mismatched: LocalEndpoint) -> None:
    # GIVEN the scorer's endpoint client, and an endpoint whose artifact has other feature names
    endpoint = SageMakerEndpoint(runtime(mismatched.url), "vedette-model")
    latch, calls = UnusableLatch(), CallLog()
    # WHEN it scores a batch of 500 rows
    with pytest.raises(EndpointUnusableError) as caught:
        score_in_chunks(endpoint, rows(500), 4_000_000, 10_000, calls, latch)
    # THEN two calls were made (the batch, then the reference row) and the error points at the log
    assert calls.calls == [False, False]
    assert "reference row" in caught.value.reason
    assert LOG_GROUP in (caught.value.log_stream_arn or "")
    # AND the next batch fails at once, without calling the endpoint
    with pytest.raises(EndpointUnusableError):
        score_in_chunks(endpoint, rows(500), 4_000_000, 10_000, calls, latch)
    assert len(calls.calls) == 2


def test_after_the_recheck_interval_one_reference_row_decides(mismatched: LocalEndpoint) -> None:
    # GIVEN a latch tripped by the mismatched endpoint, on a clock the test moves
    now = [0.0]
    latch = UnusableLatch(recheck_seconds=60, clock=lambda: now[0])
    endpoint = SageMakerEndpoint(runtime(mismatched.url), "vedette-model")
    calls = CallLog()
    with pytest.raises(EndpointUnusableError):
        score_in_chunks(endpoint, rows(3), 4_000_000, 10_000, calls, latch)
    # WHEN the interval has passed and a batch comes
    now[0] = 61.0
    with pytest.raises(EndpointUnusableError):
        score_in_chunks(endpoint, rows(3), 4_000_000, 10_000, calls, latch)
    # THEN only the reference row was sent (still refused), and the latch holds again
    assert calls.calls == [False, False, False]
    assert latch.holding() is not None


def test_an_endpoint_for_another_features_version_is_unusable_after_one_call(
    served_tarball: Path, tmp_path: Path
) -> None:
    # GIVEN an endpoint whose artifact has the same feature names but another features version
    tarball = tampered(served_tarball, tmp_path / "model", rename=False, version=FEATURES_VERSION + 1)
    with local_endpoint(tarball) as served:
        endpoint = SageMakerEndpoint(runtime(served.url), "vedette-model")
        calls = CallLog()
        # WHEN it scores rows THEN the answer's version gives it away
        with pytest.raises(EndpointUnusableError, match=f"features version {FEATURES_VERSION + 1}"):
            score_in_chunks(endpoint, rows(20), 4_000_000, 10_000, calls)
    # AND that took one call, counted as an endpoint error
    assert calls.calls == [False]


def test_rows_the_model_rejects_are_told_from_a_broken_endpoint(served_endpoint: LocalEndpoint) -> None:
    # GIVEN the served artifact, and rows of which one is not finite (the model refuses it)
    endpoint = SageMakerEndpoint(runtime(served_endpoint.url), "vedette-model")
    batch = rows(50)
    batch[7, 3] = np.nan
    calls = CallLog()
    # WHEN the rows are scored in two chunks
    scoring = score_in_chunks(endpoint, batch, 4_000_000, 25, calls)
    # THEN the chunk with the bad row is rejected, the reference row accepted, the other chunk scored
    assert calls.calls == [False, True, True]
    assert scoring.rejected == [(0, 25)]
    assert isinstance(scoring.rejection, ModelRejectedError)
    assert scoring.rejection.original_status == 500
    assert LOG_GROUP in (scoring.rejection.log_stream_arn or "")
    assert all(score is None for score in scoring.scores[:25])
    assert all(isinstance(score, Score) for score in scoring.scores[25:])


def test_a_missing_endpoint_is_unusable_not_transient(served_tarball: Path) -> None:
    # GIVEN a runtime that serves only another endpoint name
    with local_endpoint(served_tarball, endpoint_name="vedette-model") as served:
        endpoint = SageMakerEndpoint(runtime(served.url), "no-such-endpoint")
        # WHEN the scorer calls its (wrong) name THEN the runtime's ValidationError is not retried
        with pytest.raises(EndpointUnusableError, match="no-such-endpoint"):
            score_in_chunks(endpoint, rows(2), 4_000_000, 10_000)


def test_a_chunk_over_the_artifacts_row_limit_is_refused_before_sending() -> None:
    # GIVEN an endpoint that records what it is asked
    endpoint = SuspiciousResourceEndpoint()
    # WHEN a caller asks for chunks above the artifact's row limit
    with pytest.raises(RequestLimitError) as caught:
        score_in_chunks(endpoint, np.zeros((MAX_ROWS_PER_REQUEST + 1, FEATURE_COUNT)), 10**9, 10**9)
    # THEN nothing was sent, and the error names the limit
    assert endpoint.calls == []
    assert (caught.value.field, caught.value.limit) == ("rows", MAX_ROWS_PER_REQUEST)


class RejectingEndpoint(SuspiciousResourceEndpoint):
    """Rejects, as the model's code would, any chunk holding a row with a suspicious resource."""

    def score(
        self, rows: np.ndarray[Any, Any], body: bytes | None = None, feature_config_id: str | None = None
    ) -> list[Score]:
        if (rows[:, SUSPICIOUS] > 0).any():
            self.calls.append(len(rows))
            raise ModelRejectedError("Received server error (500)", 500, "arn:aws:logs:us-east-1:1:log-group:/x")
        return super().score(rows, body)


@pytest.fixture(scope="module")
def scorer_resources(aws_endpoint: str) -> Any:
    return create_scorer_resources(aws_endpoint, "model-errors")


def bad_event_objects(aws_endpoint: str, resources: Any) -> list[dict[str, Any]]:
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name=REGION)
    settings = resources.settings
    listed = s3.list_objects_v2(Bucket=settings.bad_events_bucket, Prefix=settings.bad_events_prefix)
    lines = []
    for item in listed.get("Contents", []):
        body = s3.get_object(Bucket=settings.bad_events_bucket, Key=item["Key"])["Body"].read()
        lines.extend(json.loads(line) for line in body.decode().splitlines())
    return lines


def test_a_record_the_model_rejects_alone_is_parked_with_the_log_pointer(aws_endpoint: str, scorer_resources: Any):
    from scorer.clients import build_dependencies

    # GIVEN a batch Lambda has bisected down to the one record whose event the model rejects
    deps = build_dependencies(scorer_resources.settings, aws_endpoint)
    deps.endpoint = RejectingEndpoint()
    poisoned = wire_event(1, "user-poison", suspicious=True)
    event = lambda_event([plain(encode_event(normalize_event(poisoned)), "user-poison")])
    # WHEN the scorer processes it
    outcome = process_batch(decode_batch(event), deps, scorer_resources.settings)
    # THEN the batch succeeds: the event is parked with the model's error and the endpoint's log pointer
    assert outcome.response() == {"batchItemFailures": []}
    assert (outcome.model_rejected, outcome.bad_events, outcome.scored, outcome.endpoint_calls) == (1, 1, 0, 2)
    [line] = [line for line in bad_event_objects(aws_endpoint, scorer_resources) if line["field"] == "model"]
    assert "arn:aws:logs:us-east-1:1:log-group:/x" in line["reason"]


def test_in_a_larger_batch_rejected_rows_are_retried_not_parked(aws_endpoint: str, scorer_resources: Any):
    from scorer.clients import build_dependencies

    # GIVEN a batch of three records, the second holding the event the model rejects
    settings = replace(scorer_resources.settings, max_rows_per_call=1)
    deps = build_dependencies(settings, aws_endpoint)
    deps.endpoint = RejectingEndpoint()
    events = [wire_event(2, "user-a"), wire_event(3, "user-b", suspicious=True), wire_event(4, "user-c")]
    event = lambda_event([plain(encode_event(normalize_event(item)), item["user_id"]) for item in events])
    # WHEN it is processed
    outcome = process_batch(decode_batch(event), deps, settings)
    # THEN nothing is parked; the rejected record and those after it are handed back for the retry
    assert outcome.model_rejected == 0
    assert len(outcome.failed_sequence_numbers) == 2


class CountingProxy:
    """InvokeEndpoint calls counted on their way to the local runtime."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.invocations = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.invocations += self.path.endswith("/invocations")
                connection = http.client.HTTPConnection(*target, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "content-length"}}
                    connection.request("POST", self.path, body=body, headers=headers)
                    response = connection.getresponse()
                    answer = response.read()
                    self.send_response(response.status)
                    for name, value in response.getheaders():
                        if name.lower() not in {"content-length", "connection", "transfer-encoding", "date", "server"}:
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                finally:
                    connection.close()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_mismatched_artifact_in_the_local_pipeline_is_caught_on_the_first_batch(
    aws_endpoint: str, kinesis: Any, served_tarball: Path, mismatched: LocalEndpoint, tmp_path: Path
) -> None:
    # GIVEN the local pipeline's resources and a scorer deployed with this artifact's configuration
    prefix = f"mismatch-{next(_names)}"
    names = PipelineNames(
        stream=f"{prefix}-events",
        archive_bucket=f"{prefix}-archive",
        delivery_stream=f"{prefix}-archive",
        state_table=f"{prefix}-state",
        anomalies_table=f"{prefix}-anomalies",
        alerts_topic=f"{prefix}-alerts.fifo",
        on_failure_queue=f"{prefix}-on-failure",
        alerts_inbox_queue=f"{prefix}-inbox.fifo",
    )
    clients = {
        name: boto3.client(name, endpoint_url=aws_endpoint, region_name=REGION)
        for name in ("s3", "dynamodb", "sns", "sqs")
    }
    clients["kinesis"] = kinesis
    resources = create_resources(clients, names, 1)
    feature_config = export_feature_config(served_tarball, tmp_path / "feature_config.json")
    # AND an endpoint serving an artifact for other features, behind a counter of InvokeEndpoint calls
    proxy = CountingProxy(mismatched.url)
    environment = {
        **os.environ,
        **scorer_environment(resources, str(feature_config)),
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": proxy.endpoint,
    }
    output: list[str] = []
    # WHEN 500 events reach the stream and the mapping hands them to the scorer in one batch
    entries = [
        {"Data": encode_event(normalize_event(make_event(number))), "PartitionKey": f"k{number}"}
        for number in range(500)
    ]
    assert kinesis.put_records(StreamName=names.stream, Records=entries)["FailedRecordCount"] == 0
    settings = MappingSettings(batch_size=500, maximum_batching_window_in_seconds=1, maximum_retry_attempts=2)
    mapping = LocalEventSourceMapping(
        kinesis,
        clients["sqs"],
        names.stream,
        resources.on_failure_queue_url,
        settings,
        lambda shard: LambdaProcess("scorer.handler.lambda_handler", environment, output.append),
        lambda acknowledgement: None,
    ).start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and mapping.totals().dead_lettered_records < len(entries):
            time.sleep(0.2)
    finally:
        mapping.stop()
        proxy.close()
    # THEN at most 3 InvokeEndpoint calls were made for the batch, whatever the retries
    assert 0 < proxy.invocations <= 3
    # AND the batch went whole to the failure destination once the mapping's retries ran out
    totals = mapping.totals()
    assert (totals.dead_lettered_records, totals.acknowledged_records) == (500, 0)
    assert totals.function_errors == 0  # handed back, never bisected
    dead_letters = drain_queue(clients["sqs"], resources.on_failure_queue_url)
    assert sum(letter["KinesisBatchInfo"]["batchSize"] for letter in dead_letters) == 500
    # AND the scorer named the error, with the endpoint's log pointer, and counted it
    logged = [json.loads(line) for line in output if line.startswith("{") and "error_type" in line]
    assert {entry["error_type"] for entry in logged} == {"EndpointUnusableError"}
    assert all(LOG_GROUP in entry["log_stream_arn"] for entry in logged)
    metrics = [json.loads(line) for line in output if line.startswith("{") and '"_aws"' in line]
    counted = [document.get("EndpointUnusable", 0) for document in metrics]
    assert sum(sum(value) if isinstance(value, list) else value for value in counted) == len(logged)
    assert len(logged) == settings.maximum_retry_attempts + 1  # the first attempt and each retry
