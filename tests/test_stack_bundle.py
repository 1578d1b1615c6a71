"""The scorer's Lambda bundle: reproducible, complete, built for arm64 at the pinned versions."""

from __future__ import annotations

import ast
import hashlib
import importlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from archive_partitioner.handler import BUCKETS_VARIABLE
from scorer.model_config import BUNDLED_FEATURE_CONFIG, load_feature_config
from scorer.settings import ALERTS_TOPIC_ARN, ANOMALIES_TABLE, BAD_EVENTS_BUCKET, ENDPOINT_NAME, STATE_TABLE
from stack import bundle
from stack.archive import PARTITIONER_HANDLER
from stack.exceptions import BundleError
from tests.stack_harness import write_model_artifact

EM_AARCH64 = 183  # ELF e_machine of 64-bit ARM
# The packages of this repository the zip holds: the scorer, the archive partitioner with the
# archive's layout, the contract, the serving side of the model, and the simulator's geography (the
# `built` fixture's model looks countries up with it).
FIRST_PARTY = {"scorer", "archive_partitioner", "archive", "vedette", "model", "traffic"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    # GIVEN the pinned wheels (downloaded once into build/wheels, reused after)
    bundle.download_wheels()
    folder = tmp_path_factory.mktemp("bundle")
    # AND a model trained with the synthetic network lookup and parsed agents, as `make model` trains it
    model = write_model_artifact(folder / "model.tar.gz", "synthetic", parsed_agents=True)
    # WHEN the bundle is built twice
    first = bundle.build_bundle(folder / "first.zip", model)
    second = bundle.build_bundle(folder / "second.zip", model)
    return first, second


def test_two_builds_are_byte_identical_with_fixed_timestamps(built: tuple[Path, Path]) -> None:
    first, second = built
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    with zipfile.ZipFile(first) as archive:
        infos = archive.infolist()
        assert {info.date_time for info in infos} == {bundle.FIXED_TIME}
        assert [info.filename for info in infos] == sorted(info.filename for info in infos)


def test_bundle_holds_the_handler_the_contract_the_features_and_not_training(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[0]) as archive:
        names = set(archive.namelist())
        handler = archive.read("scorer/handler.py").decode()
    module, function = bundle_handler()
    assert f"{module.replace('.', '/')}.py" in names
    assert f"def {function}(" in handler
    assert {
        "vedette/events.py",
        "vedette/kpl.py",
        "model/features/__init__.py",
        "model/features/featurize.py",
        "scorer/settings.py",
    } <= names
    # The entity stage scores with ECOD's tail profiles (numpy); training and the detectors stay out.
    assert {"model/entities.py", "model/tails.py"} <= names
    assert "model/detectors.py" not in names
    assert "model/train.py" not in names
    assert "model/entity_training.py" not in names
    assert not any(name.startswith("sklearn/") for name in names)
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


def test_bundled_first_party_modules_are_the_ones_the_tests_import(built: tuple[Path, Path]) -> None:
    # GIVEN the first-party packages in the zip
    with zipfile.ZipFile(built[0]) as archive:
        members = {name: archive.read(name) for name in archive.namelist() if name.split("/")[0] in FIRST_PARTY}
    assert {name.split("/")[0] for name in members} == FIRST_PARTY
    # THEN each module is, byte for byte, the file of the package this test imports
    for name, data in members.items():
        package, _, relative = name.partition("/")
        assert (Path(importlib.import_module(package).__file__ or "").parent / relative).read_bytes() == data, name


@pytest.mark.parametrize("handler", ["scorer", "archive partitioner"])
def test_each_handler_starts_from_the_bundles_own_modules(
    built: tuple[Path, Path], tmp_path: Path, handler: str
) -> None:
    # GIVEN the bundle's first-party packages and feature configuration, unpacked alone (its
    # third-party packages are built for the Lambda's arm64 Python, so this machine's stand in)
    unpacked = tmp_path / "bundle"
    with zipfile.ZipFile(built[0]) as archive:
        for name in archive.namelist():
            if name.split("/")[0] in FIRST_PARTY or name == bundle.FEATURE_CONFIG_NAME:
                archive.extract(name, unpacked)
    site_packages = [path for path in sys.path if path.endswith("site-packages")]
    settings = {name: "x" for name in (ENDPOINT_NAME, STATE_TABLE, ANOMALIES_TABLE, BAD_EVENTS_BUCKET)}
    settings |= {ALERTS_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:alerts.fifo", "AWS_DEFAULT_REGION": "us-east-1"}
    settings |= {BUCKETS_VARIABLE: "128"}
    # WHEN a Python without this repository's editable installs (-S: no .pth files) imports the
    # handler as the Lambda runtime does at cold start
    module, _ = bundle_handler() if handler == "scorer" else PARTITIONER_HANDLER.rsplit(".", 1)
    code = f"import sys; sys.path[:0] = {[str(unpacked), *site_packages]!r}; import {module}; print({module}.__file__)"
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], env=settings, capture_output=True, text=True, timeout=120, check=False
    )
    # THEN every module it imports is in the bundle, and it is the bundle's handler that loaded
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().startswith(str(unpacked))


def bundle_handler() -> tuple[str, str]:
    from stack.scorer import HANDLER

    module, _, function = HANDLER.rpartition(".")
    return module, function


def test_bundle_carries_the_models_feature_configuration_and_enrichment(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    # GIVEN the feature configuration inside the zip, where the handler looks for it
    assert BUNDLED_FEATURE_CONFIG.name == bundle.FEATURE_CONFIG_NAME
    with zipfile.ZipFile(built[0]) as archive:
        names = set(archive.namelist())
        (tmp_path / bundle.FEATURE_CONFIG_NAME).write_bytes(archive.read(bundle.FEATURE_CONFIG_NAME))
    # WHEN the scorer loads it as it does at cold start
    config = load_feature_config(tmp_path / bundle.FEATURE_CONFIG_NAME)
    # THEN it rebuilds the model's network lookup and agent parser, and their modules ship in the zip
    assert config.network_lookup is not None
    assert config.network_lookup["name"] == "synthetic"
    assert config.network_of is not None
    assert config.agent_of is not None
    assert {"traffic/__init__.py", "traffic/geo.py", "model/network.py", "model/user_agents.py"} <= names
    # AND the embedded data the lookup reads, but not geoip2fast's other data files
    assert "geoip2fast/geoip2fast-asn-ipv6.dat.gz" in names
    assert "geoip2fast/geoip2fast.dat.gz" not in names


def test_verify_refuses_a_bundle_of_another_model(built: tuple[Path, Path], tmp_path: Path) -> None:
    same = write_model_artifact(tmp_path / "same.tar.gz", "synthetic", parsed_agents=True)
    bundle.verify_bundle(built[0], same)
    other = write_model_artifact(tmp_path / "other.tar.gz")
    with pytest.raises(BundleError, match="another model"):
        bundle.verify_bundle(built[0], other)


def test_native_extensions_are_aarch64_for_the_lambda_python(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[0]) as archive:
        extensions = [name for name in archive.namelist() if name.endswith(".so")]
        tag = "cpython-" + bundle.LAMBDA_PYTHON.replace(".", "")
        assert any(name.startswith("numpy/") and tag in name for name in extensions)
        assert any(name.startswith("orjson/") for name in extensions)
        for name in extensions:
            header = archive.open(name).read(20)
            assert header[:4] == b"\x7fELF", name
            assert int.from_bytes(header[18:20], "little") == EM_AARCH64, name


def test_bundled_distributions_are_the_pinned_versions(built: tuple[Path, Path]) -> None:
    pins = bundle.pinned_versions()
    with zipfile.ZipFile(built[0]) as archive:
        dist_infos = {
            name.split("/")[0].removesuffix(".dist-info") for name in archive.namelist() if ".dist-info/" in name
        }
    found = {bundle.normalize(info.rsplit("-", 1)[0]): info.rsplit("-", 1)[1] for info in dist_infos}
    assert found == pins


def test_every_import_of_the_bundled_code_resolves_in_the_bundle_or_the_runtime(built: tuple[Path, Path]) -> None:
    # GIVEN the first-party modules in the zip and the top-level names the zip provides
    with zipfile.ZipFile(built[0]) as archive:
        names = archive.namelist()
        provided = {name.split("/")[0].removesuffix(".py") for name in names}
        first_party = {"scorer", "vedette", "model", "traffic", "archive"}
        sources = {name: archive.read(name) for name in names if name.split("/")[0] in first_party}
    # WHEN every import statement is listed
    unresolved = set()
    for name, source in sources.items():
        for node in ast.walk(ast.parse(source, name)):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in provided and top not in sys.stdlib_module_names and top not in bundle.RUNTIME_PROVIDED:
                    unresolved.add((name, module))
    # THEN each resolves: a missing model module or an unpinned dependency fails here, not in Lambda
    assert unresolved == set()


def test_a_missing_pin_is_an_error_naming_the_package(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("numpy==2.1.0\norjson==3.13.0\n")
    with pytest.raises(BundleError, match="aws-lambda-powertools"):
        bundle.pinned_versions(requirements)


def test_a_missing_wheel_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"numpy==9\.9\.9"):
        bundle.find_wheel(tmp_path, "numpy", "9.9.9")
