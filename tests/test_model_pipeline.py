"""Archive -> training -> model.tar.gz -> inference.py -> local endpoint over HTTP with boto3."""

from __future__ import annotations

import ast
import importlib
import io
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest

from archive import ArchiveWriter
from emulators import PROJECT_SERVER, model_server
from model import rows as rows_format
from model import serving, train
from model.artifact import SHIPPED_MODULES, extract_tarball, load_model
from model.build import TRAINING_PACKAGES, write_training_source
from model.container import CONTAINER_PYTHON, CONTAINER_SKLEARN_VERSION, SKLEARN_IMAGE_TAG
from model.exceptions import ArtifactError, RequestError, TrainingDataError, UnsupportedContentTypeError
from model.features import COUNTED_ONCE, FEATURE_COUNT, FEATURE_NAMES, ResourceVocabulary, featurize_batch
from model.rows import MAX_ROWS_PER_REQUEST, NPY_CONTENT_TYPE, ROW_DTYPE, encode_npy
from tests.model_factories import START, credential_stuffing, injection_probe, normal_traffic

REPO = Path(__file__).resolve().parent.parent
DAYS = 6
# Prepended to code run as SageMaker runs the artifact's or the training job's: this venv's packages
# without the finders of the repository's editable installs, which would provide any module the
# code forgot to ship (model/server.py drops them the same way).
WITHOUT_EDITABLE_INSTALLS = f"import runpy\nrunpy.run_path({PROJECT_SERVER!r})['without_editable_installs']()\n"


@pytest.fixture(scope="module")
def normal_events() -> list[dict[str, Any]]:
    return normal_traffic(40, DAYS)


@pytest.fixture(scope="module")
def archive_dir(tmp_path_factory: pytest.TempPathFactory, normal_events: list[dict[str, Any]]) -> Path:
    """A tiny archive written as Firehose writes it (GZIP JSON lines under hourly prefixes)."""
    folder = tmp_path_factory.mktemp("archive")
    with ArchiveWriter(folder, buffer_seconds=300) as writer:
        for event in normal_events:
            writer.put_event(event)
    return folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, archive_dir: Path) -> dict[str, Path]:
    """Run the training entry point as SageMaker would: channel and model dir from the environment."""
    work = tmp_path_factory.mktemp("training")
    model_dir, tarball = work / "model", work / "model.tar.gz"
    environment = {"SM_CHANNEL_TRAIN": str(archive_dir), "SM_MODEL_DIR": str(model_dir)}
    previous = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        assert train.main(["--tarball", str(tarball), "--alert-rate", "0.02"]) == 0
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return {"model_dir": model_dir, "tarball": tarball}


@pytest.fixture(scope="module")
def endpoint(trained: dict[str, Path]) -> Iterator[str]:
    """The local model server on loopback, importing only the artifact's own code (as the container)."""
    with model_server(trained["tarball"]) as url:
        yield url


def post(url: str, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def scoring_rows(model_dir: Path, normal_events: list[dict[str, Any]]) -> tuple[np.ndarray, list[str]]:
    """Rows as the scorer computes them: the artifact's vocabulary, state carried from history."""
    vocabulary = ResourceVocabulary.from_json(json.loads((model_dir / "vocabulary.json").read_text()))
    history = featurize_batch(normal_events, vocabulary=vocabulary)
    later = START + timedelta(days=DAYS, hours=3)
    fresh = normal_traffic(40, 1, seed=99)
    shifted = [event | {"occurred_at": event["occurred_at"].replace("2026-11-02", "2026-11-08")} for event in fresh]
    attack = [*credential_stuffing(later, 60), injection_probe(later + timedelta(minutes=2), "user-0001")]
    batch = featurize_batch([*shifted, *attack], history.user_states, history.ip_states, vocabulary=vocabulary)
    labels = ["normal"] * len(shifted) + ["stuffing"] * 60 + ["injection"]
    return batch.rows, labels


def test_training_writes_metadata_for_the_pinned_container(trained: dict[str, Path]) -> None:
    metadata = json.loads((trained["model_dir"] / "metadata.json").read_text())
    assert metadata["feature_names"] == list(FEATURE_NAMES)
    assert metadata["versions"]["scikit_learn"] == CONTAINER_SKLEARN_VERSION
    assert metadata["container_image_tag"] == SKLEARN_IMAGE_TAG
    assert metadata["detector"] == "ecod"
    assert metadata["events"]["total"] == metadata["events"]["fit"] + metadata["events"]["calibration"] > 0
    assert metadata["training_window"]["first_event"].startswith("2026-11-02")
    assert metadata["archive"]["objects"] > DAYS
    # The threshold flags about the target share of the held-out calibration events.
    assert 0.0 < metadata["calibration_scores"]["flagged_share"] <= 0.02


def test_artifact_ships_the_tested_code(trained: dict[str, Path], tmp_path: Path) -> None:
    unpacked = extract_tarball(trained["tarball"], tmp_path / "opt-ml-model")
    assert (unpacked / "code" / "inference.py").read_bytes() == (REPO / "model" / "inference.py").read_bytes()
    shipped = unpacked / "code" / "model"
    for name in SHIPPED_MODULES:
        source = REPO / "model" / name
        files = sorted(source.rglob("*.py")) if source.is_dir() else [source]
        for path in files:
            relative = path.relative_to(REPO / "model")
            assert (shipped / relative).read_bytes() == path.read_bytes(), relative
    assert {"detector.joblib", "metadata.json", "vocabulary.json"} <= {path.name for path in unpacked.iterdir()}
    # AND the event contract's vocabulary is the producer library's module itself, not a copy
    contract = (REPO / "producers" / "vedette" / "schema.py").read_bytes()
    assert (unpacked / "code" / "vedette" / "schema.py").read_bytes() == contract


def test_artifact_code_imports_without_the_producers_dependencies(trained: dict[str, Path], tmp_path: Path) -> None:
    # GIVEN the unpacked artifact, and a Python where the producer's own dependencies cannot be imported
    # (nor the repository's installed packages)
    unpacked = extract_tarball(trained["tarball"], tmp_path / "opt-ml-model")
    script = WITHOUT_EDITABLE_INSTALLS + (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('msgspec', 'orjson', 'boto3'):\n"
        "            raise ImportError(f'{name} is not in the container')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import model.features, vedette\n"
        "print(vedette.__file__)\n"
        "print(','.join(model.features.CORE_EVENT_TYPES))\n"
    )
    # WHEN the features module is imported from code/, as SageMaker puts it first on the path
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=unpacked / "code",
        env={**os.environ, "PYTHONPATH": str(unpacked / "code")},
        capture_output=True,
        text=True,
        check=False,
    )
    # THEN it imports, with the contract's vocabulary from the shipped module
    assert result.returncode == 0, result.stderr
    shipped_init, vocabulary = result.stdout.split()
    assert Path(shipped_init).resolve() == (unpacked / "code" / "vedette" / "__init__.py").resolve()
    assert vocabulary.split(",")[:2] == ["login_succeeded", "login_failed"]


@pytest.mark.parametrize("missing", ["model/tails.py", "vedette/schema.py"])
def test_the_local_server_refuses_an_artifact_missing_a_module(
    trained: dict[str, Path], tmp_path: Path, missing: str
) -> None:
    # GIVEN the artifact without one module inference.py imports, in this venv, where the repository's
    # packages are installed editable (their finder, after sys.path's, would find it in the checkout)
    unpacked = extract_tarball(trained["tarball"], tmp_path / "opt-ml-model")
    (unpacked / "code" / missing).unlink()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    # WHEN model/server.py loads it as local_endpoint starts it: from a scratch folder, no PYTHONPATH
    result = subprocess.run(
        [sys.executable, PROJECT_SERVER, "--model-dir", str(unpacked), "--port", "0"],
        cwd=scratch,
        env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    # THEN it stops on the import, as the container would, instead of serving the checkout's module
    assert result.returncode != 0
    module = missing.removesuffix(".py").replace("/", ".")
    assert f"ModuleNotFoundError: No module named '{module}'" in result.stderr


def test_inference_functions_score_and_explain(trained: dict[str, Path], normal_events: list[dict[str, Any]]) -> None:
    # GIVEN the artifact loaded through the container's functions
    model = serving.model_fn(str(trained["model_dir"]))
    rows, labels = scoring_rows(trained["model_dir"], normal_events)
    # WHEN a batch of rows is decoded, scored and encoded
    body = json.dumps({"rows": rows.tolist(), "feature_names": list(FEATURE_NAMES)})
    payload, content_type = serving.output_fn(
        serving.predict_fn(serving.input_fn(body, "application/json"), model), "application/json"
    )
    results = json.loads(payload)["results"]
    # THEN every row has a score, a flag and three named contributions
    assert content_type == "application/json"
    assert len(results) == len(labels)
    assert all(len(result["top_features"]) == 3 for result in results)
    assert {item["feature"] for result in results for item in result["top_features"]} <= set(FEATURE_NAMES)
    # AND the obvious attacks are flagged, while most normal events are not
    flagged = {
        label: [r["anomaly"] for r, lab in zip(results, labels, strict=True) if lab == label] for label in labels
    }
    assert all(flagged["injection"])
    # AND the explanations point at what is abnormal: the request's content, the IP's many users
    assert "resource_suspicious_tokens" in {item["feature"] for item in results[-1]["top_features"]}
    assert "ip_distinct_users_24h" in {item["feature"] for item in results[-2]["top_features"]}
    assert np.mean(flagged["stuffing"][10:]) > 0.9
    assert np.mean(flagged["normal"]) < 0.2


def test_input_fn_names_what_is_wrong() -> None:
    with pytest.raises(UnsupportedContentTypeError, match="text/csv"):
        serving.input_fn("1,2,3", "text/csv")
    with pytest.raises(RequestError, match=r"rows\[1\]: expected a list of \d+ numbers, got 2"):
        serving.input_fn(json.dumps({"rows": [[0.0] * FEATURE_COUNT, [1, 2]]}), "application/json")
    bad_row = [0.0] * FEATURE_COUNT
    bad_row[4] = "x"
    with pytest.raises(RequestError, match=rf"rows\[0\]\[4\] \({FEATURE_NAMES[4]}\)"):
        serving.input_fn(json.dumps({"rows": [bad_row]}), "application/json")
    huge_row: list[float | int] = [0.0] * FEATURE_COUNT
    huge_row[0] = 10**400
    with pytest.raises(RequestError, match=r"rows\[0\]\[0\] \(first_event\): must be a finite number"):
        serving.input_fn(json.dumps({"rows": [huge_row]}), "application/json")
    with pytest.raises(RequestError, match="feature_names"):
        serving.input_fn(json.dumps({"rows": [[0.0] * FEATURE_COUNT], "feature_names": ["a"]}), "application/json")


def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def test_npy_rows_decode_exactly_as_json_rows(trained: dict[str, Path], normal_events: list[dict[str, Any]]) -> None:
    rows, _ = scoring_rows(trained["model_dir"], normal_events)
    from_npy = serving.input_fn(encode_npy(rows), NPY_CONTENT_TYPE).matrix
    from_json = serving.input_fn(json.dumps({"rows": rows.tolist()}), "application/json").matrix
    # every double arrives bit for bit (JSON's shortest repr round-trips too)
    assert from_npy.dtype == np.float64
    assert from_npy.tobytes() == rows.tobytes() == from_json.tobytes()
    # a plain (n, FEATURE_COUNT) float array, as the SageMaker SDK's NumpySerializer sends, is accepted
    assert serving.input_fn(npy_bytes(rows.astype(np.float32)), NPY_CONTENT_TYPE).matrix.shape == rows.shape


def test_npy_input_names_what_is_wrong() -> None:
    row = np.zeros((2, FEATURE_COUNT))
    renamed = np.dtype([("renamed" if name == FEATURE_NAMES[2] else name, "<f8") for name in FEATURE_NAMES])
    difference = rf"first difference at #2: 'renamed', expected '{FEATURE_NAMES[2]}'"
    with pytest.raises(RequestError, match=rf"feature_names: do not match .* {difference}"):
        serving.input_fn(npy_bytes(row.view(renamed).reshape(2)), NPY_CONTENT_TYPE)
    with pytest.raises(RequestError, match=rf"expected rows of {FEATURE_COUNT} floats, got <f8 \(2, 3\)"):
        serving.input_fn(npy_bytes(np.zeros((2, 3))), NPY_CONTENT_TYPE)
    with pytest.raises(RequestError, match="expected rows of"):
        serving.input_fn(npy_bytes(np.zeros((2, FEATURE_COUNT), dtype=np.int64)), NPY_CONTENT_TYPE)
    bad = row.copy()
    bad[1, 4] = np.nan
    with pytest.raises(RequestError, match=rf"rows\[1\]\[4\] \({FEATURE_NAMES[4]}\): must be a finite number, got nan"):
        serving.input_fn(encode_npy(bad), NPY_CONTENT_TYPE)
    with pytest.raises(RequestError, match="non-empty"):
        serving.input_fn(encode_npy(row[:0]), NPY_CONTENT_TYPE)
    with pytest.raises(RequestError, match="at most 10000 per request"):
        serving.input_fn(encode_npy(np.zeros((MAX_ROWS_PER_REQUEST + 1, FEATURE_COUNT))), NPY_CONTENT_TYPE)
    with pytest.raises(RequestError, match="body: not an NPY array"):
        serving.input_fn(b"\x93NUMPY garbage", NPY_CONTENT_TYPE)
    # an object array would need unpickling, which could run code: refused, never loaded
    pickled = npy_bytes(np.array([[object()] * FEATURE_COUNT], dtype=object), allow_pickle=True)
    with pytest.raises(RequestError, match=r"expected rows of \d+ floats, got \|O"):
        serving.input_fn(pickled, NPY_CONTENT_TYPE)
    with pytest.raises(RequestError, match="as bytes"):
        serving.input_fn("\x93NUMPY", NPY_CONTENT_TYPE)
    # a zip archive (NPZ), or anything else without the NPY magic
    with pytest.raises(RequestError, match="no NPY magic"):
        serving.input_fn(b"PK\x03\x04garbage", NPY_CONTENT_TYPE)
    # bytes after the rows the header declares, or fewer than it declares
    declared = row.size * 8  # float64 values
    with pytest.raises(RequestError, match=f"declares {declared} bytes of data, the body holds {declared + 8}"):
        serving.input_fn(encode_npy(row) + b"trailing", NPY_CONTENT_TYPE)
    with pytest.raises(RequestError, match=f"declares {declared} bytes of data, the body holds {declared - 1}"):
        serving.input_fn(encode_npy(row)[:-1], NPY_CONTENT_TYPE)


def numpy_header(body: bytes) -> tuple[Any, ...]:
    """The header as numpy's own reader reads it, and where the data begins."""
    stream = io.BytesIO(body)
    version = np.lib.format.read_magic(stream)
    return (*np.lib.format._read_array_header(stream, version), stream.tell())


@pytest.mark.parametrize(
    "count", [1, 9, 10, 99, 100, 999, 1_000, 4_321, MAX_ROWS_PER_REQUEST, MAX_ROWS_PER_REQUEST + 1]
)
def test_the_header_encode_npy_writes_is_read_as_numpy_reads_it(count: int) -> None:
    # GIVEN the scorer's body for a row count (its header padded to a 64-byte boundary by np.save)
    body = encode_npy(np.zeros((count, FEATURE_COUNT)))
    # THEN its header is recognised without numpy's literal parse, with numpy's reading
    assert rows_format._ROW_HEADER.fullmatch(body, 0, 10 + int.from_bytes(body[8:10], "little"))
    assert rows_format._read_header(body) == numpy_header(body)


def test_any_other_header_is_left_to_numpys_reader() -> None:
    # GIVEN headers np.save writes for other arrays: plain float rows, a renamed field, Fortran order
    renamed = np.dtype([("renamed" if name == FEATURE_NAMES[2] else name, "<f8") for name in FEATURE_NAMES])
    plain = np.zeros((3, FEATURE_COUNT))
    bodies = [npy_bytes(plain), npy_bytes(plain.view(renamed).reshape(3)), npy_bytes(np.asfortranarray(plain))]
    # AND the scorer's header with its row count written with a leading zero, which numpy refuses
    scorer_body = encode_npy(plain)
    padded = scorer_body.replace(b"(3,), }", b"(03,),}", 1)
    for body in bodies:
        # THEN none is taken for the scorer's header, and each is read as numpy reads it
        assert rows_format._ROW_HEADER.fullmatch(body, 0, 10 + int.from_bytes(body[8:10], "little")) is None
        assert rows_format._read_header(body) == numpy_header(body)
    with pytest.raises(ValueError, match="not an NPY array"):
        rows_format._read_header(padded)


def test_npy_header_claiming_huge_rows_is_refused_before_anything_is_allocated() -> None:
    # GIVEN headers declaring terabytes, with no data behind them
    bodies = []
    for descr, shape in (("<f8", (10**10, FEATURE_COUNT)), (np.lib.format.dtype_to_descr(ROW_DTYPE), (10**10,))):
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": shape})
        bodies.append(header.getvalue())
    for body in bodies:
        # THEN the row cap refuses them (np.load would first try to allocate 3.9 TiB)
        with pytest.raises(RequestError, match="rows: at most 10000 per request, got 10000000000"):
            serving.input_fn(body, NPY_CONTENT_TYPE)


def test_artifact_for_other_features_refuses_to_load(trained: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(trained["model_dir"], copy)
    metadata = json.loads((copy / "metadata.json").read_text())
    metadata["feature_names"][2] = "renamed_feature"
    (copy / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ArtifactError, match="renamed_feature"):
        load_model(copy)


def test_artifact_whose_detector_adds_its_terms_otherwise_than_calibrated_refuses_to_load(
    trained: dict[str, Path], tmp_path: Path
) -> None:
    copy = tmp_path / "model"
    shutil.copytree(trained["model_dir"], copy)
    metadata = json.loads((copy / "metadata.json").read_text())
    assert metadata["detector_aggregation"] == "soft_truncated_tails"
    assert load_model(copy).detector.aggregation == "soft_truncated_tails"
    metadata["detector_aggregation"] = "ecod_directions"
    (copy / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ArtifactError, match="calibrated for 'ecod_directions'"):
        load_model(copy)


def test_artifact_whose_detector_counts_other_columns_once_than_calibrated_refuses_to_load(
    trained: dict[str, Path], tmp_path: Path
) -> None:
    copy = tmp_path / "model"
    shutil.copytree(trained["model_dir"], copy)
    metadata = json.loads((copy / "metadata.json").read_text())
    assert metadata["detector_counted_once"] == [["ip_distinct_users_24h", "log_ip_new_users_1h", "log_ip_rate_1m"]]
    metadata["detector_counted_once"] = []  # as if calibrated adding every column's term
    (copy / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ArtifactError, match=r"calibrated counting \[\] once each"):
        load_model(copy)
    # AND an artifact written before the record loads, counting as its pickled detector does
    del metadata["detector_counted_once"]
    (copy / "metadata.json").write_text(json.dumps(metadata))
    assert load_model(copy).detector.counted_once == COUNTED_ONCE


def test_training_without_events_says_so(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="no events"):
        train.train([])
    assert train.main(["--train", str(tmp_path), "--model-dir", str(tmp_path / "model")]) == 2


def test_boto3_sagemaker_runtime_invokes_the_local_endpoint(
    endpoint: str, trained: dict[str, Path], normal_events: list[dict[str, Any]]
) -> None:
    # GIVEN boto3's sagemaker-runtime client pointed at the local server, dummy credentials
    client = boto3.client("sagemaker-runtime", endpoint_url=endpoint, region_name="us-east-1")
    rows, labels = scoring_rows(trained["model_dir"], normal_events)
    # WHEN the scorer's call is made
    response = client.invoke_endpoint(
        EndpointName="vedette-anomaly",
        ContentType="application/json",
        Accept="application/json",
        Body=json.dumps({"rows": rows.tolist()}),
    )
    # THEN the answer is the model's, row for row, and equals the in-process inference functions'
    body = json.loads(response["Body"].read())
    assert response["ContentType"] == "application/json"
    assert len(body["results"]) == len(labels)
    assert body["results"][-1]["anomaly"] is True  # the injection probe
    model = serving.model_fn(str(trained["model_dir"]))
    expected = json.loads(serving.output_fn(serving.predict_fn(rows, model), "application/json")[0])
    assert body == expected
    # AND the scorer's NPY body gets the same answer
    response = client.invoke_endpoint(
        EndpointName="vedette-anomaly", ContentType=NPY_CONTENT_TYPE, Accept="application/json", Body=encode_npy(rows)
    )
    assert json.loads(response["Body"].read()) == body


def test_training_reads_the_archive_from_s3(
    aws_endpoint: str, archive_dir: Path, normal_events: list[dict[str, Any]], tmp_path: Path
) -> None:
    # GIVEN the same archive objects in an S3 bucket (moto on loopback), keys unchanged
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="vedette-archive-train")
    files = [path for path in sorted(archive_dir.rglob("*")) if path.is_file()]
    for path in files:
        key = "events/" + path.relative_to(archive_dir).as_posix()
        s3.put_object(Bucket="vedette-archive-train", Key=key, Body=path.read_bytes())
    # WHEN training reads s3:// with the endpoint taken from the environment
    os.environ["AWS_ENDPOINT_URL_S3"] = aws_endpoint
    try:
        code = train.main(["--train", "s3://vedette-archive-train/events", "--model-dir", str(tmp_path / "model")])
    finally:
        del os.environ["AWS_ENDPOINT_URL_S3"]
    # THEN it trained on every object
    assert code == 0
    metadata = json.loads((tmp_path / "model" / "metadata.json").read_text())
    assert metadata["archive"]["objects"] == len(files)
    assert metadata["events"]["total"] == len(normal_events)


def test_sagemaker_training_job_layout_runs_train_py_from_its_source_dir(
    archive_dir: Path, normal_events: list[dict[str, Any]], tmp_path: Path
) -> None:
    # GIVEN the training job's source directory, run as SageMaker script mode runs it:
    # `python train.py --hyper-parameter value` in that folder, channel and model dir in the environment
    # (and none of the repository's installed packages)
    source = write_training_source(tmp_path / "source")
    model_dir = tmp_path / "opt-ml-model"
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment.update({"SM_CHANNEL_TRAIN": str(archive_dir), "SM_MODEL_DIR": str(model_dir)})
    train_py = WITHOUT_EDITABLE_INSTALLS + "runpy.run_path('train.py', run_name='__main__')\n"
    result = subprocess.run(
        [sys.executable, "-c", train_py, "--alert-rate", "0.05", "--geo", "synthetic"],
        cwd=source,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # THEN it writes the artifact into SM_MODEL_DIR, with the packages copied beside train.py
    assert result.returncode == 0, result.stderr
    metadata = json.loads((model_dir / "metadata.json").read_text())
    assert metadata["alert_rate"] == 0.05
    assert metadata["network_lookup"]["name"] == "synthetic"
    assert metadata["network_lookup"]["source"] == "embedded"
    assert metadata["agent_parser"]["ua-parser"] == "1.0.2"
    assert metadata["events"]["total"] == len(normal_events)
    assert (model_dir / "code" / "inference.py").is_file()
    assert (source / "requirements.txt").read_text().startswith("msgspec==")


def test_training_source_ships_the_packages_the_tests_import(tmp_path: Path) -> None:
    # GIVEN the training job's source directory
    source = write_training_source(tmp_path / "source")
    # THEN each shipped package holds, byte for byte, the files of the package this test imports
    for package in TRAINING_PACKAGES:
        imported = Path(importlib.import_module(package).__file__ or "").parent
        shipped = sorted(path.relative_to(source / package) for path in (source / package).rglob("*.py"))
        assert shipped == sorted(path.relative_to(imported) for path in imported.rglob("*.py")), package
        for relative in shipped:
            assert (source / package / relative).read_bytes() == (imported / relative).read_bytes(), relative


# The training job's environment on the container's Python, when this machine has that Python:
# `make unit` builds it (see the Makefile's PYTHON310).
TRAINING_PYTHON = REPO / ".venv-training" / "bin" / "python"


@pytest.mark.skipif(
    not TRAINING_PYTHON.is_file(),
    reason=f"no Python {CONTAINER_PYTHON} training environment (.venv-training): `make unit` builds it when a "
    f"Python {CONTAINER_PYTHON} is on PATH or installed with pyenv",
)
def test_the_training_job_runs_on_the_containers_python(
    archive_dir: Path, normal_events: list[dict[str, Any]], tmp_path: Path
) -> None:
    # GIVEN the training job's source directory and the scikit-learn container's Python version,
    # with the container's packages and the source dir's requirements.txt installed
    source = write_training_source(tmp_path / "source")
    model_dir = tmp_path / "opt-ml-model"
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment.update({"SM_CHANNEL_TRAIN": str(archive_dir), "SM_MODEL_DIR": str(model_dir)})
    # WHEN SageMaker's script mode runs train.py there
    result = subprocess.run(
        [str(TRAINING_PYTHON), "train.py", "--geo", "synthetic"],
        cwd=source,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    # THEN every shipped module it imports loads, and it trains on every archived event
    assert result.returncode == 0, result.stderr
    metadata = json.loads((model_dir / "metadata.json").read_text())
    assert metadata["versions"]["python"].rsplit(".", 1)[0] == CONTAINER_PYTHON
    assert metadata["events"]["total"] == len(normal_events)


def run_on_container_python(source: Path, script: str) -> subprocess.CompletedProcess[str]:
    """``script`` run by the training image's Python from the jobs' source directory, as the jobs run
    (without this environment's PYTHONPATH)."""
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        [str(TRAINING_PYTHON), "-c", script], cwd=source, env=environment, capture_output=True, text=True, timeout=120
    )


@pytest.mark.skipif(not TRAINING_PYTHON.is_file(), reason="no Python 3.10 training environment (.venv-training)")
def test_the_retraining_jobs_modules_import_on_the_containers_python(tmp_path: Path) -> None:
    # GIVEN the source directory the stack's training, sampling and gate jobs run from
    source = write_training_source(tmp_path / "source")
    # WHEN the container's Python imports what their commands run (the lifecycle's train and gate,
    # the sampler, the verdicts reader) and parses a command line
    modules = (
        "import model.lifecycle, model.sample, model.backtest, console.verdicts; "
        "model.lifecycle.parse_args(['status', '--registry', 'r'])"
    )
    result = run_on_container_python(source, modules)
    # THEN they load: nothing newer than the image's Python 3.10 (datetime.UTC once broke this)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not TRAINING_PYTHON.is_file(), reason="no Python 3.10 training environment (.venv-training)")
def test_the_importer_gives_sessions_to_cookieless_requests_on_the_containers_python(tmp_path: Path) -> None:
    # GIVEN the source directory the retraining jobs run from, and an access log with a session
    # cookie column whose landing page carries none yet
    source = write_training_source(tmp_path / "source")
    script = (
        "from traffic.importer import LogImporter\n"
        'importer = LogImporter(\'custom\', log_format=\'%h %t "%r" %>s "%{User-Agent}i" "%{sid}C"\')\n'
        'lines = [\'198.51.100.7 [02/Nov/2026:10:00:00 +0000] "GET / HTTP/2.0" 200 "Firefox" "-"\',\n'
        '         \'198.51.100.7 [02/Nov/2026:10:00:01 +0000] "GET /a HTTP/2.0" 200 "Firefox" "s-1"\']\n'
        "print(' '.join(item.event['session_id'] for item in importer.import_lines(lines, 'x')))\n"
    )
    # WHEN the container's Python imports it (its datetime reads no "Z", which the contract writes)
    result = run_on_container_python(source, script)
    # THEN the landing page joins the session it began
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["s-1", "s-1"]


# What the prebuilt scikit-learn container provides besides the standard library and the artifact.
CONTAINER_PACKAGES = {"numpy", "sklearn", "scipy", "joblib"}


def test_artifact_code_imports_only_what_the_container_has(trained: dict[str, Path], tmp_path: Path) -> None:
    # GIVEN the code shipped in model.tar.gz (the local server cannot show this: the venv has more)
    code = extract_tarball(trained["tarball"], tmp_path / "unpacked") / "code"
    shipped = {path.stem for path in code.glob("*.py")} | {path.name for path in code.iterdir() if path.is_dir()}
    # WHEN its imports are read
    imported: set[str] = set()
    for source in code.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    # THEN each is the standard library, the container's packages, or the artifact's own code
    foreign = imported - set(sys.stdlib_module_names) - CONTAINER_PACKAGES - shipped
    assert foreign == set(), f"the container cannot import {sorted(foreign)}"
