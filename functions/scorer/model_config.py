"""What the scorer needs from the deployed model to compute the same features it was trained on.

Some features depend on the trained model: the resource vocabulary learned from training traffic,
and the country lookup used for "new country". The scorer computes features before calling the
endpoint, so it must use exactly those. ``export_feature_config`` writes them, from a model artifact,
into one small JSON file that ships inside the Lambda bundle (the stack builds the bundle and the
endpoint from the same ``model.tar.gz``, so they cannot drift apart); ``load_feature_config`` reads it
at cold start and refuses a file made for another features version.
"""

from __future__ import annotations

import importlib
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.features import FEATURE_NAMES, FEATURES_VERSION, CountryLookup, ResourceVocabulary
from model.rows import JSON_CONTENT_TYPE, NPY_CONTENT_TYPE
from scorer.exceptions import ScorerError

# Inside the Lambda bundle, beside the scorer package (the function's root).
BUNDLED_FEATURE_CONFIG = Path(__file__).resolve().parent.parent / "feature_config.json"


class FeatureConfigError(ScorerError):
    """The feature configuration is missing or was made for other features than this code computes."""


@dataclass(frozen=True)
class FeatureConfig:
    vocabulary: ResourceVocabulary | None
    country_of: CountryLookup | None
    country_lookup: str | None  # the module providing country_of, as recorded at training
    # The request body the artifact's serving code reads best: NPY, or JSON for an artifact made
    # before NPY (its metadata lists no request_content_types).
    request_content_type: str = JSON_CONTENT_TYPE


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
    lookup = data.get("country_lookup")
    country_of: CountryLookup | None = None
    if lookup:
        try:
            country_of = importlib.import_module(lookup).country_of
        except (ImportError, AttributeError) as error:
            raise FeatureConfigError(f"{path}: country lookup {lookup!r} is not importable: {error}") from None
    vocabulary = ResourceVocabulary.from_json(data["vocabulary"]) if data.get("vocabulary") else None
    readable = data.get("request_content_types") or [JSON_CONTENT_TYPE]
    content_type = NPY_CONTENT_TYPE if NPY_CONTENT_TYPE in readable else JSON_CONTENT_TYPE
    return FeatureConfig(vocabulary, country_of, lookup, content_type)


def export_feature_config(model: str | os.PathLike[str], destination: str | os.PathLike[str]) -> Path:
    """Write the scorer's feature configuration from a model folder or ``model.tar.gz``."""
    metadata, vocabulary = _read_artifact(Path(model))
    config: dict[str, Any] = {
        "features_version": metadata["features_version"],
        "feature_names": metadata["feature_names"],
        "country_lookup": metadata.get("country_lookup"),
        "request_content_types": metadata.get("request_content_types", [JSON_CONTENT_TYPE]),
        "vocabulary": vocabulary,
        "model": {key: metadata.get(key) for key in ("detector", "threshold", "trained_at") if key in metadata},
    }
    target = Path(destination)
    target.write_text(json.dumps(config, separators=(",", ":"), sort_keys=True))
    return target


def _read_artifact(model: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    from model.artifact import METADATA_FILE, VOCABULARY_FILE

    if model.is_dir():
        return json.loads((model / METADATA_FILE).read_text()), json.loads((model / VOCABULARY_FILE).read_text())
    with tarfile.open(model, "r:gz") as archive:
        members = {Path(member.name).as_posix().removeprefix("./"): member for member in archive.getmembers()}

        def read(name: str) -> dict[str, Any]:
            member = members.get(name)
            file = archive.extractfile(member) if member is not None else None
            if file is None:
                raise FeatureConfigError(f"{model}: no {name} in the artifact")
            loaded: dict[str, Any] = json.load(file)
            return loaded

        return read(METADATA_FILE), read(VOCABULARY_FILE)
