"""The Lambda handler end to end: a Lambda-shaped Kinesis event in, the real model on the local
SageMaker endpoint, DynamoDB/S3/SNS on moto, the partial batch response and EMF metrics out."""

from __future__ import annotations

import gc
import importlib
import json
import os
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest

from emulators import model_server
from model import train
from model.artifact import build_tarball, export_feature_config, extract_tarball
from model.features import featurize_batch
from scorer import settings as s
from scorer.clients import build_dependencies
from scorer.model_config import FeatureConfigError, load_feature_config
from tests.model_factories import START, injection_probe, normal_traffic
from tests.scorer_factories import REGION, aggregate, create_resources, lambda_event, plain
from vedette.events import encode_event, normalize_event

TRAINING_DAYS = 5


@pytest.fixture(scope="module")
def model_tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("model")
    trained = train.train(normal_traffic(30, TRAINING_DAYS), alert_rate=0.01)
    folder = train.save(trained, work / "model")
    return build_tarball(folder, work / "model.tar.gz")


@pytest.fixture(scope="module")
def handler(aws_endpoint: str, model_tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """``scorer.handler`` imported as Lambda's init does, with the environment the stack sets."""
    resources = create_resources(aws_endpoint, "handler")
    feature_config = export_feature_config(model_tarball, tmp_path_factory.mktemp("bundle") / "feature_config.json")
    with model_server(model_tarball) as model_endpoint:
        settings = resources.settings
        environment = {
            s.ENDPOINT_NAME: settings.endpoint_name,
            s.STATE_TABLE: settings.state_table,
            s.ANOMALIES_TABLE: settings.anomalies_table,
            s.ALERTS_TOPIC_ARN: settings.alerts_topic_arn,
            s.BAD_EVENTS_BUCKET: settings.bad_events_bucket,
            s.FEATURE_CONFIG: str(feature_config),
            "AWS_ENDPOINT_URL_DYNAMODB": aws_endpoint,
            "AWS_ENDPOINT_URL_S3": aws_endpoint,
            "AWS_ENDPOINT_URL_SNS": aws_endpoint,
            "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": model_endpoint,
        }
        saved = {name: os.environ.get(name) for name in environment}
        saved_thresholds = gc.get_threshold()
        os.environ.update(environment)
        sys.modules.pop("scorer.handler", None)
        try:
            module = importlib.import_module("scorer.handler")
            module.TEST_RESOURCES = resources  # type: ignore[attr-defined]
            yield module
        finally:
            sys.modules.pop("scorer.handler", None)
            gc.set_threshold(*saved_thresholds)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def lambda_context() -> Any:
    return SimpleNamespace(
        function_name="vedette-scorer",
        function_version="$LATEST",
        memory_limit_in_mb=1024,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:vedette-scorer",
        aws_request_id="c6af9ac6-7b61-11e6-9a41-93e812345678",
    )


def emitted_metrics(output: str) -> dict[str, Any]:
    """The metric values of the EMF documents Powertools printed."""
    values: dict[str, Any] = {}
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            for definition in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = document[definition["Name"]]
                values[definition["Name"]] = value[0] if isinstance(value, list) and len(value) == 1 else value
    return values


def test_handler_scores_a_batch_on_the_real_model_and_flags_the_injection(handler, aws_endpoint, capsys, caplog):
    # GIVEN the users' usual traffic on the next day, an SQL injection by one of them, and a bad record
    later = START + timedelta(days=TRAINING_DAYS, hours=1)
    usual = [
        normalize_event(e | {"occurred_at": e["occurred_at"].replace("2026-11-02", "2026-11-07")})
        for e in normal_traffic(30, 1, seed=11)
    ]
    probe = normalize_event(injection_probe(later + timedelta(hours=12), "user-0003"))
    records = [aggregate(usual[i : i + 20]) for i in range(0, len(usual), 20)]
    records.insert(1, plain(b'{"user_id": 42}', "user-x"))
    records.append(plain(encode_event(probe), probe["user_id"]))
    event = lambda_event(records)

    # WHEN Lambda invokes the handler
    response = handler.lambda_handler(event, lambda_context())

    # THEN nothing is retried, the injection is recorded as an anomaly, and the metrics say so
    assert response == {"batchItemFailures": []}
    resources = handler.TEST_RESOURCES
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    recorded = dynamodb.query(
        TableName=resources.settings.anomalies_table,
        KeyConditionExpression="user_id = :user",
        ExpressionAttributeValues={":user": {"S": "user-0003"}},
    )["Items"]
    assert probe["event_id"] in {item.get("event_id", {}).get("S") for item in recorded}
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["Events"] == len(usual) + 2
    assert metrics["EventsScored"] == len(usual) + 1
    assert metrics["BadEvents"] == 1
    assert metrics["DuplicateEvents"] == 0
    assert metrics["EndpointCalls"] == 1
    assert metrics["Anomalies"] >= 1
    assert metrics["EndpointErrors"] == 0
    # AND the batch's log line says where its time went, step by step, in the order they ran
    (summary,) = [record for record in caplog.records if record.getMessage() == "batch processed"]
    assert list(summary.step_ms) == [
        "decode",
        "validate",
        "load_states",
        "featurize_and_score",
        "record_events",
        "alert_on_entities",
        "watch_waves",
        "save_states",
    ]
    assert all(milliseconds >= 0 for milliseconds in summary.step_ms.values())


def test_cold_start_spaces_out_garbage_collections_for_large_batches(handler):
    # A batch allocates tens of thousands of short-lived containers; the default threshold (700)
    # would collect hundreds of times per batch.
    assert gc.get_threshold()[0] >= 10_000


def test_a_feature_config_from_another_features_version_is_refused(tmp_path, model_tarball):
    path = export_feature_config(model_tarball, tmp_path / "feature_config.json")
    assert load_feature_config(path).vocabulary is not None
    config = json.loads(path.read_text())
    config["features_version"] = -1
    path.write_text(json.dumps(config))
    with pytest.raises(FeatureConfigError, match="made for features version -1"):
        load_feature_config(path)


def test_the_request_format_follows_what_the_deployed_artifact_reads(tmp_path, model_tarball):
    # GIVEN this release's artifact, and the same artifact as an earlier release wrote it, before
    # its serving code read NPY (its metadata lists no request content types)
    current = load_feature_config(export_feature_config(model_tarball, tmp_path / "current.json"))
    earlier_folder = extract_tarball(model_tarball, tmp_path / "earlier")
    metadata = json.loads((earlier_folder / "metadata.json").read_text())
    del metadata["request_content_types"]
    (earlier_folder / "metadata.json").write_text(json.dumps(metadata))
    earlier = load_feature_config(export_feature_config(earlier_folder, tmp_path / "earlier.json"))
    # THEN the scorer sends NPY to the first and JSON to the second
    settings = s.ScorerSettings("vedette-anomaly", "state", "anomalies", "topic", "bucket")
    with model_server(model_tarball) as url:
        endpoints = [build_dependencies(settings, url, config).endpoint for config in (current, earlier)]
        assert [endpoint.content_type for endpoint in endpoints] == ["application/x-npy", "application/json"]
        # AND both bodies get the same scores from the real model server
        rows = featurize_batch(normal_traffic(3, 1, seed=4), vocabulary=current.vocabulary).rows
        npy_scores, json_scores = (endpoint.score(rows) for endpoint in endpoints)
    assert [score.score for score in npy_scores] == [score.score for score in json_scores]
    assert len(npy_scores) == len(rows) > 0


# The release before the compact response: its output_fn answered JSON only, refusing other types.
EARLIER_INFERENCE = '''"""inference.py as the release before the compact response served it: JSON answers only."""

from model.exceptions import UnsupportedAcceptError
from model.serving import input_fn, model_fn, predict_fn
from model.serving import output_fn as _output_fn


def output_fn(prediction, accept):
    if (accept or "*/*") not in ("*/*", "application/json"):
        raise UnsupportedAcceptError(f"accept {accept!r} is not supported; accept application/json", "Accept")
    return _output_fn(prediction, accept)
'''


def test_the_response_format_follows_what_the_deployed_artifact_answers(tmp_path, model_tarball):
    # GIVEN this release's artifact, and the same model as the release before packed it: its
    # metadata lists no response content types, its serving code answers JSON only
    current = load_feature_config(export_feature_config(model_tarball, tmp_path / "current.json"))
    earlier_folder = extract_tarball(model_tarball, tmp_path / "earlier")
    metadata = json.loads((earlier_folder / "metadata.json").read_text())
    del metadata["response_content_types"]
    (earlier_folder / "metadata.json").write_text(json.dumps(metadata))
    (earlier_folder / "code" / "inference.py").write_text(EARLIER_INFERENCE)
    earlier_tarball = build_tarball(earlier_folder, tmp_path / "earlier.tar.gz")
    earlier = load_feature_config(export_feature_config(earlier_tarball, tmp_path / "earlier.json"))
    # AND rows of ordinary traffic with an injection probe, which the model flags
    later = START + timedelta(days=TRAINING_DAYS, hours=12)
    events = [*normal_traffic(3, 1, seed=4), injection_probe(later, "user-0001")]
    rows = featurize_batch(events, vocabulary=current.vocabulary).rows
    # WHEN the scorer's endpoint is built for each artifact and scores the rows
    settings = s.ScorerSettings("vedette-anomaly", "state", "anomalies", "topic", "bucket")
    with model_server(model_tarball) as current_url, model_server(earlier_tarball) as earlier_url:
        endpoints = [
            build_dependencies(settings, url, config).endpoint
            for url, config in ((current_url, current), (earlier_url, earlier))
        ]
        compact, full = (endpoint.score(rows) for endpoint in endpoints)
    # THEN it asks this release's artifact for the compact answer and the earlier one for JSON
    assert [endpoint.accept for endpoint in endpoints] == ["application/vnd.vedette.scores+json", "application/json"]
    # AND both answers give the same scores and flags, and the same reasons for the flagged rows
    assert full[-1].is_anomaly
    assert not all(score.is_anomaly for score in full)
    assert compact == [score if score.is_anomaly else score._replace(top_features=[]) for score in full]


def test_the_scorers_clients_leave_request_validation_to_the_service(aws_endpoint):
    # GIVEN the scorer's DynamoDB client, and a request botocore's own validation refuses before
    # sending it (a number where the model says string)
    from botocore.exceptions import ClientError

    from scorer.clients import aws_client

    dynamodb = aws_client("dynamodb", aws_endpoint)

    # WHEN it is sent
    with pytest.raises(ClientError) as answered:
        dynamodb.get_item(TableName="absent", Key={"key": {"S": 5}})

    # THEN it reached the service, which answered (no client-side check spent the scorer's CPU first)
    assert answered.value.response["Error"]["Code"]
