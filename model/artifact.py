"""The model artifact: a folder (SageMaker's ``SM_MODEL_DIR``) and its ``model.tar.gz``.

Layout, as the prebuilt scikit-learn container unpacks it to ``/opt/ml/model``::

    detector.joblib        the fitted detector (model.detectors)
    vocabulary.json        the resource vocabulary the features were computed with
    metadata.json          feature names and version, threshold, training window, scores, versions
    entities.json          the entity stage per kind (user, session): priors, profile, threshold
    code/inference.py      model_fn, input_fn, predict_fn, output_fn (SAGEMAKER_PROGRAM)
    code/model/*.py        the feature and detector modules inference.py imports
    code/vedette/schema.py the event contract's vocabulary and limits the features import

``code/`` is copied from this very package and from the producer library's ``vedette.schema`` (the
contract's names, standard library only: the container has none of the producer's dependencies), so
the endpoint runs the code the tests import.
``load_model`` refuses an artifact whose feature names or version differ from this code's.

Every artifact has a **feature configuration** (``feature_config``): what the scorer needs besides
the code to compute this model's features and act on its scores (the vocabulary, the lookups, the
entity stages' thresholds). Each retraining learns a new one, so it has an id, a digest of its
content, recorded in ``metadata.json``: the endpoint refuses rows computed with another one
(``model.serving``) and the scorer loads the one the endpoint names (``scorer.model_config``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.detectors import ECODDetector, IsolationForestDetector
from model.entities import EntityModel
from model.exceptions import ArtifactError, InvalidStateError
from model.features import FEATURE_NAMES, FEATURES_VERSION, ResourceVocabulary
from model.rows import FEATURE_CONFIG_ID, JSON_CONTENT_TYPE
from model.tails import ECOD_DIRECTIONS
from model.verdicts import Suppressions, suppressions_of
from model.waves import ATTEMPTS, LOGINS, PAYMENTS, WaveModel, wave_models_of
from vedette import schema as vedette_schema

DETECTOR_FILE = "detector.joblib"
VOCABULARY_FILE = "vocabulary.json"
METADATA_FILE = "metadata.json"
ENTITIES_FILE = "entities.json"
CODE_DIR = "code"
# The modules inference.py needs at run time (and nothing that imports scikit-learn at import time
# besides what unpickling the detector needs).
SHIPPED_MODULES = (
    "__init__.py",
    "exceptions.py",
    "features",  # the package
    "enrichment.py",
    "rows.py",
    "tails.py",
    "detectors.py",
    "entities.py",
    "waves.py",
    "client_alerts.py",  # (the pseudonymous users' prefixes, which waves.py reads)
    "verdicts.py",
    "artifact.py",
    "serving.py",
)
INFERENCE_SOURCE = "inference.py"
PACKAGE_DIR = Path(__file__).resolve().parent
# The contract's modules the shipped ones import, from the installed producer library; the package
# around them is a bare one, as its __init__ imports the whole producer.
CONTRACT_MODULES = ("schema.py",)
CONTRACT_PACKAGE_INIT = '"""The event contract vocabulary (vedette.schema), as the model artifact ships it."""\n'


@dataclass
class LoadedModel:
    """What ``model_fn`` returns: the detector, its threshold, and the artifact's metadata."""

    detector: ECODDetector | IsolationForestDetector
    threshold: float
    metadata: dict[str, Any]
    vocabulary: ResourceVocabulary
    entity_models: dict[str, EntityModel]
    # The service's waves (model.waves: failed logins, declined payments, sign-ups) by Attempts.kind:
    # those the training traffic had.
    wave_models: dict[str, WaveModel] = field(default_factory=dict)
    suppressions: Suppressions = field(default_factory=Suppressions)  # patterns analysts judged benign (model.verdicts)


def write_model_dir(
    model_dir: str | os.PathLike[str],
    detector: ECODDetector | IsolationForestDetector,
    vocabulary: ResourceVocabulary,
    metadata: dict[str, Any],
    entity_models: dict[str, EntityModel] | None = None,
) -> Path:
    """Write the artifact's files into ``model_dir`` (created if missing); returns its path.

    Records the id of the artifact's feature configuration in ``metadata`` (the dict given too)."""
    import joblib

    folder = Path(model_dir)
    folder.mkdir(parents=True, exist_ok=True)
    entities = {kind: model.to_json() for kind, model in (entity_models or {}).items()}
    metadata[FEATURE_CONFIG_ID] = feature_config_id(feature_config_document(metadata, vocabulary.to_json(), entities))
    joblib.dump(detector, folder / DETECTOR_FILE)
    (folder / VOCABULARY_FILE).write_text(json.dumps(vocabulary.to_json(), separators=(",", ":")))
    (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True))
    (folder / ENTITIES_FILE).write_text(json.dumps(entities, separators=(",", ":")))
    copy_code(folder / CODE_DIR)
    return folder


def feature_config_document(
    metadata: dict[str, Any], vocabulary: dict[str, Any], entities: dict[str, Any]
) -> dict[str, Any]:
    """The artifact's feature configuration without its id, from its files' contents: everything the
    scorer reads from the model besides the code (``scorer.model_config``)."""
    return {
        "features_version": metadata["features_version"],
        "feature_names": metadata["feature_names"],
        "network_lookup": metadata.get("network_lookup"),
        "agent_parser": metadata.get("agent_parser"),
        "request_content_types": metadata.get("request_content_types", [JSON_CONTENT_TYPE]),
        "response_content_types": metadata.get("response_content_types", [JSON_CONTENT_TYPE]),
        "vocabulary": vocabulary,
        "entities": entities,
        LOGINS.metadata_key: metadata.get(LOGINS.metadata_key),
        PAYMENTS.metadata_key: metadata.get(PAYMENTS.metadata_key),
        # The later waves' (sign-ups, login surges, visits), each only where the model has it: a model
        # made before it digests as it did, to the id its serving code answers.
        **{
            attempts.metadata_key: metadata[attempts.metadata_key]
            for attempts in ATTEMPTS
            if attempts not in (LOGINS, PAYMENTS) and attempts.metadata_key in metadata
        },
        "verdicts": metadata.get("verdicts"),
        "model": {key: metadata.get(key) for key in ("detector", "threshold", "trained_at") if key in metadata},
    }


def feature_config_id(document: dict[str, Any]) -> str:
    """The digest of a feature configuration (``feature_config_document``): 32 hex digits of the
    SHA-256 of its canonical JSON (read back first, so a value written as JSON digests the same)."""
    canonical = json.dumps(json.loads(json.dumps(document)), separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def feature_config(metadata: dict[str, Any], vocabulary: dict[str, Any], entities: dict[str, Any]) -> dict[str, Any]:
    """The artifact's feature configuration with its id: the one ``metadata.json`` records (what the
    endpoint answers), or for an artifact made before ids, its digest."""
    document = feature_config_document(metadata, vocabulary, entities)
    return {**document, FEATURE_CONFIG_ID: metadata.get(FEATURE_CONFIG_ID) or feature_config_id(document)}


def export_feature_config(model: str | os.PathLike[str], destination: str | os.PathLike[str]) -> Path:
    """Write the feature configuration of a model folder or ``model.tar.gz`` (``feature_config``) to
    ``destination``: the file the scorer's bundle carries, and that the retraining cycle publishes
    as ``<id>.json`` (``publish_feature_config``)."""
    target = Path(destination)
    target.write_text(json.dumps(feature_config(*_read_artifact(Path(model))), separators=(",", ":"), sort_keys=True))
    return target


def publish_feature_config(model: str | os.PathLike[str], folder: str | os.PathLike[str]) -> Path:
    """Write the model's feature configuration into ``folder`` as ``<id>.json``, where the scorer
    looks for it by the id the endpoint answers (``scorer.model_config.FeatureConfigs``)."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    scratch = export_feature_config(model, target / ".exporting.json")
    published = target / f"{json.loads(scratch.read_text())[FEATURE_CONFIG_ID]}.json"
    scratch.replace(published)
    return published


def _read_artifact(model: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The artifact's metadata, vocabulary and entity stages (empty for an artifact made before them)."""
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
                raise ArtifactError(f"{model}: no {name} in the artifact")
            loaded: dict[str, Any] = json.load(file)
            return loaded

        return read(METADATA_FILE), read(VOCABULARY_FILE), read(ENTITIES_FILE, required=False)


def copy_code(code_dir: str | os.PathLike[str]) -> None:
    """Copy inference.py and the modules it imports from this package into ``code_dir``."""
    target = Path(code_dir)
    package = target / "model"
    package.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PACKAGE_DIR / INFERENCE_SOURCE, target / INFERENCE_SOURCE)
    for name in SHIPPED_MODULES:
        if (PACKAGE_DIR / name).is_dir():
            shutil.copytree(PACKAGE_DIR / name, package / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(PACKAGE_DIR / name, package / name)
    contract = target / "vedette"
    contract.mkdir(exist_ok=True)
    (contract / "__init__.py").write_text(CONTRACT_PACKAGE_INIT)
    for name in CONTRACT_MODULES:
        shutil.copyfile(Path(vedette_schema.__file__).parent / name, contract / name)


def build_tarball(model_dir: str | os.PathLike[str], tarball: str | os.PathLike[str]) -> Path:
    """Pack ``model_dir`` into a ``model.tar.gz`` with its files at the archive's root."""
    folder = Path(model_dir)
    for required in (DETECTOR_FILE, VOCABULARY_FILE, METADATA_FILE, f"{CODE_DIR}/{INFERENCE_SOURCE}"):
        if not (folder / required).is_file():
            raise ArtifactError(f"{folder}: missing {required}; train first (python -m model.train)")
    output = Path(tarball)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(output, "w:gz") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.resolve() != output.resolve():
                archive.add(path, arcname=path.relative_to(folder).as_posix())
    return output


def extract_tarball(tarball: str | os.PathLike[str], model_dir: str | os.PathLike[str]) -> Path:
    """Unpack a ``model.tar.gz`` as SageMaker does into ``/opt/ml/model``."""
    folder = Path(model_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as archive:
        archive.extractall(folder, filter="data")
    return folder


def _check_features(folder: Path, metadata: dict[str, Any]) -> None:
    names = tuple(metadata.get("feature_names", ()))
    if metadata.get("features_version") != FEATURES_VERSION or names != FEATURE_NAMES:
        difference = next(
            (
                f"#{i}: artifact {a!r}, code {b!r}"
                for i, (a, b) in enumerate(zip(names, FEATURE_NAMES, strict=False))
                if a != b
            ),
            f"artifact has {len(names)} features, code {len(FEATURE_NAMES)}",
        )
        raise ArtifactError(
            f"{folder}: built for features version {metadata.get('features_version')!r}, this code computes "
            f"version {FEATURES_VERSION}; feature names differ at {difference}"
        )


def counted_once_names(detector: Any) -> list[list[str]]:
    """The feature names of each group of columns ``detector`` counts once by its largest term (none:
    every column counts; ``model.features.COUNTED_ONCE``), as the metadata records them."""
    groups = getattr(detector, "counted_once", ())
    return [[FEATURE_NAMES[column] for column in group] for group in groups]


def load_model(model_dir: str | os.PathLike[str]) -> LoadedModel:
    """Load an artifact folder; raises ``ArtifactError`` if it was built for other features."""
    import joblib

    folder = Path(model_dir)
    try:
        metadata = json.loads((folder / METADATA_FILE).read_text())
        vocabulary = ResourceVocabulary.from_json(json.loads((folder / VOCABULARY_FILE).read_text()))
    except FileNotFoundError as error:
        raise ArtifactError(f"{folder}: missing {Path(error.filename).name}") from None
    _check_features(folder, metadata)
    detector = joblib.load(folder / DETECTOR_FILE)
    recorded = metadata.get("detector_aggregation")
    if recorded is not None and recorded != getattr(detector, "aggregation", ECOD_DIRECTIONS):
        raise ArtifactError(
            f"{folder}: the detector adds its terms as {getattr(detector, 'aggregation', ECOD_DIRECTIONS)!r}, "
            f"its threshold was calibrated for {recorded!r}"
        )
    recorded_groups = metadata.get("detector_counted_once")
    if recorded_groups is not None and recorded_groups != counted_once_names(detector):
        raise ArtifactError(
            f"{folder}: the detector counts {counted_once_names(detector)} once each, its threshold was "
            f"calibrated counting {recorded_groups} once each"
        )
    if detector.n_features != len(FEATURE_NAMES):
        raise ArtifactError(
            f"{folder}: detector fitted on {detector.n_features} features, expected {len(FEATURE_NAMES)}"
        )
    try:
        wave_models = wave_models_of(metadata)
    except InvalidStateError as error:
        raise ArtifactError(f"{folder}: {error}") from None
    return LoadedModel(
        detector,
        float(metadata["threshold"]),
        metadata,
        vocabulary,
        load_entity_models(folder),
        wave_models,
        suppressions_of(metadata),
    )


def load_entity_models(folder: Path) -> dict[str, EntityModel]:
    """The artifact's entity stage by kind; empty for an artifact trained before it existed."""
    path = folder / ENTITIES_FILE
    if not path.is_file():
        return {}
    return {kind: EntityModel.from_json(data) for kind, data in json.loads(path.read_text()).items()}
