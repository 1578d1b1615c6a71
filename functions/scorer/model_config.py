"""What the scorer needs from the deployed model to compute the same features it was trained on.

Some features depend on the trained model: the resource vocabulary learned from training traffic,
the network lookup (country, ASN, hosting: ``model.network``) and the user-agent parser
(``model.user_agents``). The scorer computes features before calling the endpoint, so it must use
exactly those: at cold start it rebuilds the lookup the metadata records and refuses other network
data or other parser versions than the model was trained with. ``export_feature_config`` writes
them, from a model artifact, into one small JSON file that ships inside the Lambda bundle (the stack
builds the bundle and the endpoint from the same ``model.tar.gz``, so they cannot drift apart);
``load_feature_config`` reads it at cold start and refuses a file made for another features version.
"""

from __future__ import annotations

import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.enrichment import AgentLookup, NetworkLookup
from model.entities import EntityModel
from model.exceptions import AgentParserError, InvalidStateError, NetworkLookupError
from model.features import FEATURE_NAMES, FEATURES_VERSION, ResourceVocabulary
from model.login_waves import LoginWaveModel, login_wave_model_of
from model.network import lookup_from_record
from model.rows import JSON_CONTENT_TYPE, NPY_CONTENT_TYPE, SCORES_CONTENT_TYPE
from model.user_agents import check_parser
from model.verdicts import Suppressions, suppressions_of
from scorer.exceptions import ScorerError

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
    # The service's failed-login waves (credential stuffing); None for a model trained without
    # logins or before the wave watch.
    login_waves: LoginWaveModel | None = None
    # Patterns (entity and strongest reason) analysts judged benign: recorded, not sent.
    suppressions: Suppressions = field(default_factory=Suppressions)
    # The response the scorer asks for: the compact scores, or JSON for an artifact made before them
    # (its metadata lists no response_content_types), which would refuse the compact type's Accept.
    response_content_type: str = JSON_CONTENT_TYPE


def load_feature_config(path: str | os.PathLike[str]) -> FeatureConfig:
    """Read an exported configuration; raises ``FeatureConfigError`` naming the problem."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FeatureConfigError(f"{path}: no feature configuration (export it from the model artifact)") from None
    except json.JSONDecodeError as error:
        raise FeatureConfigError(f"{path}: not JSON: {error}") from None
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
        login_waves = login_wave_model_of(data)
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
        login_waves,
        suppressions,
        response_type,
    )


def export_feature_config(model: str | os.PathLike[str], destination: str | os.PathLike[str]) -> Path:
    """Write the scorer's feature configuration from a model folder or ``model.tar.gz``."""
    metadata, vocabulary, entities = _read_artifact(Path(model))
    config: dict[str, Any] = {
        "features_version": metadata["features_version"],
        "feature_names": metadata["feature_names"],
        "network_lookup": metadata.get("network_lookup"),
        "agent_parser": metadata.get("agent_parser"),
        "request_content_types": metadata.get("request_content_types", [JSON_CONTENT_TYPE]),
        "response_content_types": metadata.get("response_content_types", [JSON_CONTENT_TYPE]),
        "vocabulary": vocabulary,
        "entities": entities,
        "login_waves": metadata.get("login_waves"),
        "verdicts": metadata.get("verdicts"),
        "model": {key: metadata.get(key) for key in ("detector", "threshold", "trained_at") if key in metadata},
    }
    target = Path(destination)
    target.write_text(json.dumps(config, separators=(",", ":"), sort_keys=True))
    return target


def _read_artifact(model: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The artifact's metadata, vocabulary and entity stages (empty for an artifact made before them)."""
    from model.artifact import ENTITIES_FILE, METADATA_FILE, VOCABULARY_FILE

    if model.is_dir():
        entities_path = model / ENTITIES_FILE
        return (
            json.loads((model / METADATA_FILE).read_text()),
            json.loads((model / VOCABULARY_FILE).read_text()),
            json.loads(entities_path.read_text()) if entities_path.is_file() else {},
        )
    with tarfile.open(model, "r:gz") as archive:
        members = {Path(member.name).as_posix().removeprefix("./"): member for member in archive.getmembers()}

        def read(name: str, required: bool = True) -> dict[str, Any]:
            member = members.get(name)
            file = archive.extractfile(member) if member is not None else None
            if file is None:
                if not required:
                    return {}
                raise FeatureConfigError(f"{model}: no {name} in the artifact")
            loaded: dict[str, Any] = json.load(file)
            return loaded

        return read(METADATA_FILE), read(VOCABULARY_FILE), read(ENTITIES_FILE, required=False)
