"""A model and the feature configuration it was trained with are never mixed: artifacts name their
configuration, the endpoint refuses rows computed with another one and says which it reads, and the
scorer follows it, over the real wire (InvokeEndpoint on loopback, in front of the container's
serving stack when installed), through a rollout, a rollback and a guarded rollout's mixed traffic."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest

from emulators import LocalEndpoint, local_endpoint
from model import serving
from model.artifact import (
    LoadedModel,
    build_tarball,
    export_feature_config,
    extract_tarball,
    feature_config_document,
    feature_config_id,
    load_model,
)
from model.exceptions import RequestError
from model.features import FEATURE_COUNT
from model.rows import NPY_CONTENT_TYPE, SCORES_CONTENT_TYPE, encode_npy, with_feature_config
from scorer.batch import BatchOutcome, Dependencies, process_batch
from scorer.clients import aws_client, build_dependencies
from scorer.endpoint import SageMakerEndpoint, Score, decode_scores
from scorer.exceptions import EndpointUnusableError, FeatureConfigRefusedError
from scorer.model_config import FeatureConfig, load_feature_config
from scorer.records import decode_batch
from tests.scorer_factories import REGION, aggregate, lambda_event, wire_event
from tests.scorer_factories import create_resources as create_scorer_resources

CONFIGS_PREFIX = "feature-configs/"


@pytest.fixture(scope="module")
def other_tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second model, trained on other traffic: another vocabulary and thresholds, another configuration."""
    from model import train
    from tests.model_factories import normal_traffic

    work = tmp_path_factory.mktemp("other-model")
    folder = train.save(train.train(normal_traffic(24, 6, seed=11), alert_rate=0.02), work / "model")
    return build_tarball(folder, work / "model.tar.gz")


@pytest.fixture(scope="module")
def other_endpoint(other_tarball: Path) -> Any:
    with local_endpoint(other_tarball) as endpoint:
        yield endpoint


def loaded(tarball: Path, folder: Path) -> LoadedModel:
    return load_model(extract_tarball(tarball, folder))


def config_of(tarball: Path, folder: Path) -> FeatureConfig:
    return load_feature_config(export_feature_config(tarball, folder / "feature_config.json"))


def test_an_artifact_records_the_digest_of_its_feature_configuration(
    served_tarball: Path, other_tarball: Path, tmp_path: Path
) -> None:
    # GIVEN two artifacts trained on different traffic
    first, second = loaded(served_tarball, tmp_path / "a"), loaded(other_tarball, tmp_path / "b")
    # THEN each records the digest of its configuration, as read back from its files
    for model, folder in ((first, tmp_path / "a"), (second, tmp_path / "b")):
        entities = json.loads((folder / "entities.json").read_text())
        vocabulary = json.loads((folder / "vocabulary.json").read_text())
        document = feature_config_document(model.metadata, vocabulary, entities)
        assert model.metadata["feature_config_id"] == feature_config_id(document)
    # AND the two differ, and the scorer's exported file carries the same id
    assert first.metadata["feature_config_id"] != second.metadata["feature_config_id"]
    assert config_of(served_tarball, tmp_path).config_id == first.metadata["feature_config_id"]
    # AND any change to what the scorer reads changes it
    vocabulary = json.loads((tmp_path / "a" / "vocabulary.json").read_text())
    entities = json.loads((tmp_path / "a" / "entities.json").read_text())
    moved = {**first.metadata, "threshold": first.metadata["threshold"] * 2}
    assert (
        feature_config_id(feature_config_document(moved, vocabulary, entities)) != first.metadata["feature_config_id"]
    )


def test_the_model_refuses_rows_computed_with_another_configuration(served_tarball: Path, tmp_path: Path) -> None:
    # GIVEN the served model, and rows naming its configuration, another one, or none
    model = loaded(served_tarball, tmp_path)
    own = model.metadata["feature_config_id"]
    other = "0123456789abcdef0123456789abcdef"
    body = encode_npy(np.zeros((3, FEATURE_COUNT)))
    for accept in ("application/json", SCORES_CONTENT_TYPE):
        answers = {
            name: json.loads(
                serving.output_fn(
                    serving.predict_fn(serving.input_fn(body, with_feature_config(NPY_CONTENT_TYPE, sent)), model),
                    accept,
                )[0]
            )
            for name, sent in (("own", own), ("other", other), ("none", None))
        }
        # THEN its own and unnamed rows are scored, and every answer names its configuration
        assert all(answer["feature_config_id"] == own for answer in answers.values())
        assert "refused" not in answers["own"]
        assert "refused" not in answers["none"]
        # AND rows of another configuration are not scored: the answer says which one it reads
        assert "results" not in answers["other"]
        assert "scores" not in answers["other"]
        assert answers["other"]["refused"]["field"] == "ContentType"
        assert other in answers["other"]["refused"]["reason"]
        assert own in answers["other"]["refused"]["reason"]
    # AND a malformed id is a bad request naming the header
    with pytest.raises(RequestError) as caught:
        serving.input_fn(body, f"{NPY_CONTENT_TYPE}; feature-config=../../etc")
    assert caught.value.field == "ContentType"


def test_the_container_hands_the_named_configuration_to_the_model(
    served_endpoint: LocalEndpoint, served_tarball: Path, tmp_path: Path
) -> None:
    # GIVEN the scorer's client and the artifact on the container's serving stack (the real one when
    # installed: it must pass the Content-Type's parameters to input_fn)
    endpoint = SageMakerEndpoint(aws_client("sagemaker-runtime", served_endpoint.url, max_attempts=1), "vedette-model")
    own = config_of(served_tarball, tmp_path).config_id
    rows = np.zeros((4, FEATURE_COUNT))
    # WHEN it sends rows of the model's configuration THEN they are scored
    assert len(endpoint.score(rows, None, own)) == 4
    # WHEN it sends rows of another THEN the refusal names the model's
    with pytest.raises(FeatureConfigRefusedError) as caught:
        endpoint.score(rows, None, "f" * 32)
    assert (caught.value.sent, caught.value.served) == ("f" * 32, own)


class RecordingEndpoint(SageMakerEndpoint):
    """The real client, remembering each call: the configuration named, the rows, and the answer."""

    def __init__(self, url: str) -> None:
        super().__init__(aws_client("sagemaker-runtime", url, max_attempts=1), "vedette-model", NPY_CONTENT_TYPE)
        self.calls: list[tuple[str | None, np.ndarray[Any, Any], Any]] = []

    def score(self, rows: Any, body: bytes | None = None, feature_config_id: str | None = None) -> list[Score]:
        try:
            scores = super().score(rows, body, feature_config_id)
        except FeatureConfigRefusedError as error:
            self.calls.append((feature_config_id, rows.copy(), error))
            raise
        self.calls.append((feature_config_id, rows.copy(), [score.score for score in scores]))
        return scores


def batch_of(first: int, count: int) -> dict[str, Any]:
    events = [wire_event(first + n, f"user-{n % 5}") for n in range(count)]
    return lambda_event([aggregate(events[start : start + 10]) for start in range(0, count, 10)])


def scorer(aws_endpoint: str, name: str, config: FeatureConfig, url: str) -> tuple[Dependencies, Any]:
    resources = create_scorer_resources(aws_endpoint, name)
    settings = replace(
        resources.settings, feature_configs_uri=f"s3://{resources.settings.bad_events_bucket}/{CONFIGS_PREFIX}"
    )
    deps = build_dependencies(settings, aws_endpoint, config)
    deps.endpoint = RecordingEndpoint(url)
    return deps, settings


def publish(aws_endpoint: str, bucket: str, tarball: Path, folder: Path) -> str:
    path = export_feature_config(tarball, folder / "published.json")
    config_id = json.loads(path.read_text())["feature_config_id"]
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name=REGION)
    s3.put_object(Bucket=bucket, Key=f"{CONFIGS_PREFIX}{config_id}.json", Body=path.read_bytes())
    return config_id


def test_the_scorer_follows_a_rollout_to_the_new_models_configuration(
    aws_endpoint: str, served_tarball: Path, other_tarball: Path, other_endpoint: LocalEndpoint, tmp_path: Path
) -> None:
    # GIVEN a scorer deployed with the first model's configuration, while the endpoint now serves the
    # second model, whose configuration the retraining cycle published
    deps, settings = scorer(aws_endpoint, "rollout", config_of(served_tarball, tmp_path), other_endpoint.url)
    new_id = publish(aws_endpoint, settings.bad_events_bucket, other_tarball, tmp_path)
    # AND, to compare with, a scorer deployed with the second model from the start
    control, control_settings = scorer(
        aws_endpoint, "rollout-control", config_of(other_tarball, tmp_path), other_endpoint.url
    )
    # WHEN both process the same batch
    outcome = process_batch(decode_batch(batch_of(1, 40)), deps, settings)
    expected = process_batch(decode_batch(batch_of(1, 40)), control, control_settings)
    # THEN the first call was refused, and the scorer sent the same rows the control sent, with the
    # new configuration, and got the same scores
    (sent, _, refusal), (resent, rows, scores) = deps.endpoint.calls
    [(control_sent, control_rows, control_scores)] = control.endpoint.calls
    assert isinstance(refusal, FeatureConfigRefusedError)
    assert refusal.served == new_id
    assert sent != new_id
    assert resent == control_sent == new_id
    assert np.array_equal(rows, control_rows)
    assert scores == control_scores
    # AND the batch is done as the control's is
    assert (outcome.response(), outcome.scored, outcome.anomalies) == (
        expected.response(),
        expected.scored,
        expected.anomalies,
    )
    assert outcome.scored == 40
    assert outcome.endpoint_calls == 2
    # AND the next batch is computed with the new configuration at once: one call
    process_batch(decode_batch(batch_of(41, 20)), deps, settings)
    assert [call[0] for call in deps.endpoint.calls[2:]] == [new_id]


def test_a_configuration_that_cannot_be_loaded_leaves_the_batch_unprocessed(
    aws_endpoint: str, served_tarball: Path, other_endpoint: LocalEndpoint, tmp_path: Path
) -> None:
    # GIVEN a scorer whose endpoint serves a model whose configuration was never published
    deps, settings = scorer(aws_endpoint, "unpublished", config_of(served_tarball, tmp_path), other_endpoint.url)
    # WHEN it processes a batch THEN no call can succeed: the error names where it looked
    with pytest.raises(EndpointUnusableError, match=f"s3://{settings.bad_events_bucket}/{CONFIGS_PREFIX}"):
        process_batch(decode_batch(batch_of(100, 10)), deps, settings)
    # AND nothing was recorded or saved, so the retry starts afresh
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    assert dynamodb.scan(TableName=settings.state_table)["Count"] == 0
    assert dynamodb.scan(TableName=settings.anomalies_table)["Count"] == 0


class CanaryEndpoint:
    """Two models behind one endpoint, as during a guarded rollout: each call reaches either one at
    random. Each answers through the serving code, as the container would."""

    content_type = NPY_CONTENT_TYPE

    def __init__(self, models: list[LoadedModel], seed: int) -> None:
        self.models = models
        self.random = random.Random(seed)
        self.scored: list[tuple[str | None, str, int]] = []  # (rows' configuration, model's, rows)
        self.refusals = 0

    def score(self, rows: Any, body: bytes | None = None, feature_config_id: str | None = None) -> list[Score]:
        model = self.random.choice(self.models)
        request = serving.input_fn(encode_npy(rows), with_feature_config(NPY_CONTENT_TYPE, feature_config_id))
        answer, answered = serving.output_fn(serving.predict_fn(request, model), SCORES_CONTENT_TYPE)
        try:
            scores = decode_scores(answer, len(rows), answered, feature_config_id)
        except FeatureConfigRefusedError:
            self.refusals += 1
            raise
        self.scored.append((feature_config_id, model.metadata["feature_config_id"], len(rows)))
        return scores


def test_during_a_guarded_rollout_each_row_is_scored_by_the_model_of_its_configuration(
    aws_endpoint: str, served_tarball: Path, other_tarball: Path, tmp_path: Path
) -> None:
    # GIVEN both models serving, each call reaching either, and the new one's configuration published
    old, new = loaded(served_tarball, tmp_path / "old"), loaded(other_tarball, tmp_path / "new")
    deps, settings = scorer(aws_endpoint, "canary", config_of(served_tarball, tmp_path), "http://unused")
    publish(aws_endpoint, settings.bad_events_bucket, other_tarball, tmp_path)
    deps.endpoint = canary = CanaryEndpoint([old, new], seed=3)
    settings = replace(settings, max_rows_per_call=15)
    # WHEN the scorer processes batches of several chunks each
    outcomes: list[BatchOutcome] = []
    for first in range(1, 400, 80):
        outcomes.append(process_batch(decode_batch(batch_of(first, 80)), deps, settings))
    # THEN every row was scored by the model trained with the configuration it was computed with
    assert canary.refusals > 0
    assert {served for _, served, _ in canary.scored} == {
        old.metadata["feature_config_id"],
        new.metadata["feature_config_id"],
    }
    assert all(sent == served for sent, served, _ in canary.scored)
    # AND no event was lost: each batch scored every event or handed records back for the retry
    for outcome in outcomes:
        assert outcome.scored + outcome.retried_events == outcome.events == 80
    # AND following the answers keeps the batches moving: most events are scored at the first attempt
    assert sum(outcome.scored for outcome in outcomes) >= 0.8 * 400
