"""What the scorer needs from the deployed model to compute the same features it was trained on.

Some features depend on the trained model: the resource vocabulary learned from training traffic,
the network lookup (country, ASN, hosting: ``model.network``) and the user-agent parser
(``model.user_agents``). The scorer computes features before calling the endpoint, so it must use
exactly those: at cold start it rebuilds the lookup the metadata records and refuses other network
data or other parser versions than the model was trained with. ``model.artifact.export_feature_config`` writes
them, from a model artifact, into one small JSON file that ships inside the Lambda bundle (the stack
builds the bundle and the endpoint from the same ``model.tar.gz``, so they cannot drift apart);
``load_feature_config`` reads it at cold start and refuses a file made for another features version.

Each retraining learns a new configuration, and the endpoint may serve a newer (or, after a
rollback, an older) model than the one the bundle was built with, or both during a guarded rollout.
So a configuration has an id (``model.artifact.feature_config_id``), every request names the one its
rows were computed with, and a model that reads another says which (``model.serving``).
``FeatureConfigs`` then gives the scorer that one: from the configurations it has used, or from the
``feature-configs/<id>.json`` objects the stack and the retraining cycle publish beside the models.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.enrichment import AgentLookup, NetworkLookup
from model.entities import EntityModel
from model.exceptions import AgentParserError, InvalidStateError, NetworkLookupError
from model.features import FEATURE_NAMES, FEATURES_VERSION, ResourceVocabulary
from model.network import lookup_from_record
from model.rows import (
    FEATURE_CONFIG_ID,
    JSON_CONTENT_TYPE,
    NPY_CONTENT_TYPE,
    SCORES_CONTENT_TYPE,
    is_feature_config_id,
)
from model.user_agents import check_parser
from model.verdicts import Suppressions, suppressions_of
from model.waves import WaveModel, wave_models_of
from scorer.exceptions import EndpointUnusableError, ScorerError
from scorer.stores import transient_errors

# Inside the Lambda bundle, beside the scorer package (the function's root).
BUNDLED_FEATURE_CONFIG = Path(__file__).resolve().parent.parent / "feature_config.json"


class FeatureConfigError(ScorerError):
    """The feature configuration is missing or was made for other features than this code computes."""


@dataclass(frozen=True)
class FeatureConfig:
    vocabulary: ResourceVocabulary | None
    network_of: NetworkLookup | None
    network_lookup: dict[str, Any] | None  # the lookup's record, as training wrote it
    agent_of: AgentLookup | None
    agent_parser: dict[str, str] | None  # the parser versions, as training wrote them
    # The request body the artifact's serving code reads best: NPY, or JSON for an artifact made
    # before NPY (its metadata lists no request_content_types).
    request_content_type: str = JSON_CONTENT_TYPE
    # The entity stages by kind (user, session): alerts on episodes. Empty for an artifact trained
    # before them, whose scorer alerts on single events as it did then.
    entity_models: dict[str, EntityModel] = field(default_factory=dict)
    # The service's waves (model.waves: failed logins, declined payments, sign-ups) by Attempts.kind:
    # those its training traffic had (none for a model trained before the wave watch).
    wave_models: dict[str, WaveModel] = field(default_factory=dict)
    # Patterns (entity and strongest reason) analysts judged benign: recorded, not sent.
    suppressions: Suppressions = field(default_factory=Suppressions)
    # The response the scorer asks for: the compact scores, or JSON for an artifact made before them
    # (its metadata lists no response_content_types), which would refuse the compact type's Accept.
    response_content_type: str = JSON_CONTENT_TYPE
    # Its id, which requests name (None in a file exported before ids: its requests name none).
    config_id: str | None = None


def load_feature_config(path: str | os.PathLike[str]) -> FeatureConfig:
    """Read an exported configuration; raises ``FeatureConfigError`` naming the problem."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FeatureConfigError(f"{path}: no feature configuration (export it from the model artifact)") from None
    except json.JSONDecodeError as error:
        raise FeatureConfigError(f"{path}: not JSON: {error}") from None
    return parse_feature_config(data, str(path))


def parse_feature_config(data: Any, path: str) -> FeatureConfig:
    """An exported configuration's content (``path``: where it came from, for the errors); raises
    ``FeatureConfigError`` naming the problem."""
    if not isinstance(data, dict):
        raise FeatureConfigError(f"{path}: not a JSON object")
    config_id = data.get(FEATURE_CONFIG_ID)
    if config_id is not None and not is_feature_config_id(config_id):
        raise FeatureConfigError(f"{path}: {FEATURE_CONFIG_ID} is not an id: {str(config_id)[:80]!r}")
    if data.get("features_version") != FEATURES_VERSION or tuple(data.get("feature_names", ())) != FEATURE_NAMES:
        raise FeatureConfigError(
            f"{path}: made for features version {data.get('features_version')!r}, this scorer computes "
            f"version {FEATURES_VERSION}; retrain the model or deploy the matching scorer"
        )
    record, parser = data.get("network_lookup"), data.get("agent_parser")
    try:
        network_of = lookup_from_record(record).network_of
        agent_of = check_parser(parser)
    except (NetworkLookupError, AgentParserError) as error:
        raise FeatureConfigError(f"{path}: {error}") from None
    except ImportError as error:
        raise FeatureConfigError(f"{path}: the model's enrichment is not installed: {error}") from None
    vocabulary = ResourceVocabulary.from_json(data["vocabulary"]) if data.get("vocabulary") else None
    readable = data.get("request_content_types") or [JSON_CONTENT_TYPE]
    content_type = NPY_CONTENT_TYPE if NPY_CONTENT_TYPE in readable else JSON_CONTENT_TYPE
    answered = data.get("response_content_types") or [JSON_CONTENT_TYPE]
    response_type = SCORES_CONTENT_TYPE if SCORES_CONTENT_TYPE in answered else JSON_CONTENT_TYPE
    try:
        entity_models = {kind: EntityModel.from_json(stage) for kind, stage in (data.get("entities") or {}).items()}
        wave_models = wave_models_of(data)
    except InvalidStateError as error:
        raise FeatureConfigError(f"{path}: {error}") from None
    suppressions = suppressions_of(data)
    return FeatureConfig(
        vocabulary,
        network_of,
        record,
        agent_of,
        parser,
        content_type,
        entity_models,
        wave_models,
        suppressions,
        response_type,
        config_id,
    )


class FeatureConfigs:
    """The feature configurations this scorer can compute with, by id: the ones it has used, and the
    others from ``uri`` (``s3://bucket/prefix/``, where ``<id>.json`` are published), read once."""

    def __init__(self, bundled: FeatureConfig | None = None, client: Any = None, uri: str | None = None) -> None:
        self._known = {bundled.config_id: bundled} if bundled is not None and bundled.config_id else {}
        self.client = client
        self.bucket, _, self.prefix = (uri or "").removeprefix("s3://").partition("/")

    def get(self, config_id: str) -> FeatureConfig:
        """The configuration ``config_id``; raises ``EndpointUnusableError`` if it cannot be had (no
        rows this scorer computes can then be scored), ``TransientError`` if S3 may give it later."""
        from botocore.exceptions import ClientError

        known = self._known.get(config_id)
        if known is not None:
            return known
        if self.client is None or not self.bucket:
            raise EndpointUnusableError(
                f"the endpoint's model reads feature configuration {config_id}, which this scorer was not "
                "deployed with, and it has no place to load others from (VEDETTE_FEATURE_CONFIGS_URI)"
            )
        key = f"{self.prefix}{config_id}.json"
        where = f"s3://{self.bucket}/{key}"
        try:
            with transient_errors("s3", "GetObject"):
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:  # what a retry cannot cure: no such object, no access to it
            code = str(error.response.get("Error", {}).get("Code", "ClientError"))
            raise EndpointUnusableError(
                f"the endpoint's model reads feature configuration {config_id}, and {where} cannot be read "
                f"({code}): publish the model's configuration there (docs/deploy.md)"
            ) from error
        try:
            config = parse_feature_config(json.loads(body), where)
        except (json.JSONDecodeError, UnicodeDecodeError, FeatureConfigError) as error:
            raise EndpointUnusableError(f"{where}: not a feature configuration this scorer can use: {error}") from None
        if config.config_id != config_id:
            raise EndpointUnusableError(f"{where} holds feature configuration {config.config_id}, not {config_id}")
        self._known[config_id] = config
        return config
