"""``make bundle``: the scorer's Lambda zip, byte-for-byte reproducible.

The zip holds the ``scorer`` package (``functions/scorer``), the archive partitioner
(``functions/archive_partitioner``, with the ``archive`` layout it writes), the producer library's ``vedette`` (the
event contract and KPL deaggregation), the serving side of ``model`` (the one feature definition),
each copied from where Python imports it (``model.build.package_source``: the installed sources the
tests import), the runtime dependencies at the versions requirements.txt pins, as manylinux aarch64
wheels for the Lambda's Python, and ``feature_config.json`` exported from the model artifact the
stack deploys (``scorer.model_config``), with the simulator's geography module if the model's
network lookup starts with it (``--geo synthetic``).
boto3 is left to the Lambda runtime. Every entry has a fixed timestamp and
mode and entries are sorted, so the same sources and wheels always give the same bytes (and
Pulumi sees no change when nothing changed).

Usage: ``python -m stack.bundle --model build/model.tar.gz --output build/scorer.zip``.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from importlib.metadata import packages_distributions
from itertools import chain
from pathlib import Path

from model.build import package_source
from stack.exceptions import BundleError

ROOT = Path(__file__).resolve().parent.parent
# The Lambda's Python and architecture; stack.scorer deploys the function with these.
LAMBDA_PYTHON = "3.13"
LAMBDA_ARCHITECTURE = "arm64"
WHEEL_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
# What the scorer imports at run time beyond the standard library and the runtime's boto3.
RUNTIME_PACKAGES = (
    *("aws-lambda-powertools", "jmespath", "typing_extensions", "orjson", "msgspec", "numpy"),
    # Network and user-agent enrichment (model.network, model.user_agents). geoip2's aiohttp and
    # requests serve its web-service client only, which the scorer never imports.
    *("geoip2fast", "geoip2", "maxminddb", "ua-parser", "ua-parser-builtins", "crawlerdetect"),
    "tzdata",  # where countries are (model.features.travel)
)
# Published as a source distribution only (pure Python): built into a wheel here.
SOURCE_ONLY_PACKAGES = frozenset({"geoip2fast"})
# Files of the wheels the scorer never reads: geoip2fast's country-only and IPv4-only data (the
# embedded lookup reads geoip2fast-asn-ipv6.dat.gz) and its tests; 6.7 MB of already-compressed data.
WHEEL_EXCLUDES = (
    "geoip2fast/geoip2fast.dat.gz",
    "geoip2fast/geoip2fast-ipv6.dat.gz",
    "geoip2fast/geoip2fast-asn.dat.gz",
    "geoip2fast/tests/",
)
# Provided by the Lambda Python runtime, so not bundled.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore"})
# This repository's distributions (pyproject.toml, producers/pyproject.toml): their packages are the
# first-party ones, shipped from source.
REPOSITORY_DISTRIBUTIONS = ("vedette-pipeline", "vedette-producer")
# The first-party packages: (package, its modules or subpackages; empty = all).
FIRST_PARTY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("scorer", ()),
    # The archive partitioner (Firehose's processor when the archive is laid out by user hash): the
    # archive's layout, and model.sampling's user hash beside the model's serving side.
    ("archive_partitioner", ()),
    ("archive", ("__init__.py", "exceptions.py", "layout.py", "location.py", "reader.py", "writer.py")),
    ("vedette", ()),
    # The serving side only: training and the detectors (scikit-learn) stay out of the Lambda; the
    # entity stage (entities.py) scores with ECOD's tail profiles (tails.py, numpy alone); waves.py
    # watches the service's failed-login share, and visits.py settles the visits its visitor waves
    # count; client_alerts.py groups a client's session alerts.
    (
        "model",
        (
            "__init__.py",
            "exceptions.py",
            "features",
            "enrichment.py",
            "network.py",
            "user_agents.py",
            "rows.py",
            "tails.py",
            "entities.py",
            "waves.py",
            "visits.py",
            "client_alerts.py",
            "verdicts.py",
            "sampling.py",
        ),
    ),
)
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FEATURE_CONFIG_NAME = "feature_config.json"  # scorer.model_config.BUNDLED_FEATURE_CONFIG
DEFAULT_OUTPUT = ROOT / "build" / "scorer.zip"
DEFAULT_MODEL = ROOT / "build" / "model.tar.gz"
DEFAULT_WHEELS = ROOT / "build" / "wheels"


def normalize(name: str) -> str:
    """A distribution name as wheels and the package index compare them."""
    return re.sub(r"[-_.]+", "_", name).lower()


def pinned_versions(requirements: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """``name==version`` pins of the runtime packages, read from requirements.txt (one source)."""
    pins: dict[str, str] = {}
    for line in requirements.read_text().splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;#]+)", line)
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    missing = [name for name in RUNTIME_PACKAGES if normalize(name) not in pins]
    if missing:
        raise BundleError(f"requirements.txt pins no version of {', '.join(missing)}")
    return {normalize(name): pins[normalize(name)] for name in RUNTIME_PACKAGES}


def download_wheels(wheels: Path = DEFAULT_WHEELS, pins: dict[str, str] | None = None) -> None:
    """Fetch the pinned wheels for the Lambda's Python on aarch64 (pip reuses what is there)."""
    pins = pinned_versions() if pins is None else pins
    wheels.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    for platform in WHEEL_PLATFORMS:
        command += ["--platform", platform]
    command += ["--python-version", LAMBDA_PYTHON, "--implementation", "cp", "--dest", str(wheels)]
    binary = {name: version for name, version in pins.items() if name not in SOURCE_ONLY_PACKAGES}
    command += [f"{name}=={version}" for name, version in binary.items()]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BundleError(f"pip download failed: {result.stderr.strip()[-2000:]}")
    for name, version in pins.items():
        if name not in SOURCE_ONLY_PACKAGES or any(
            _is_wheel_of(wheel, name, version) for wheel in wheels.glob("*.whl")
        ):
            continue
        build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels)]
        result = subprocess.run([*build, f"{name}=={version}"], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BundleError(f"pip wheel {name}=={version} failed: {result.stderr.strip()[-2000:]}")


def _is_wheel_of(wheel: Path, name: str, version: str) -> bool:
    wheel_name, wheel_version = wheel.name.split("-")[:2]
    return normalize(wheel_name) == name and wheel_version == version


def find_wheel(wheels: Path, name: str, version: str) -> Path:
    """The downloaded wheel of ``name==version``; raises ``BundleError`` when it is missing."""
    for wheel in sorted(wheels.glob("*.whl")):
        if _is_wheel_of(wheel, name, version):
            return wheel
    raise BundleError(f"no wheel of {name}=={version} in {wheels}: run `make bundle` (it downloads them)")


def _first_party_files() -> Iterator[tuple[str, bytes]]:
    for package, modules in FIRST_PARTY:
        source = package_source(package)
        files = [source / module for module in modules] if modules else [source]
        for path in chain.from_iterable(sorted(item.rglob("*.py")) if item.is_dir() else [item] for item in files):
            if "__pycache__" in path.parts:
                continue
            if not path.is_file():
                raise BundleError(f"{path} is missing from the scorer's sources")
            yield f"{package}/{path.relative_to(source).as_posix()}", path.read_bytes()


def first_party_packages() -> frozenset[str]:
    """The top-level packages of this repository's distributions (``REPOSITORY_DISTRIBUTIONS``)."""
    return frozenset(
        package
        for package, distributions in packages_distributions().items()
        if set(distributions) & set(REPOSITORY_DISTRIBUTIONS)
    )


def _module_file(module: str, first_party: frozenset[str]) -> tuple[str, Path] | None:
    """``module``'s name in the zip and its file, when it belongs to a package of this repository."""
    package, *parts = module.split(".")
    if package not in first_party:  # the standard library, or a wheel's
        return None
    source = package_source(package)
    base = source.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return f"{package}/{candidate.relative_to(source).as_posix()}", candidate
    return None


def module_closure(module: str) -> dict[str, Path]:
    """The repository files ``import module`` executes, by name in the zip: the module, its parent
    packages, and the first-party modules they import, transitively (third-party imports are left
    to the wheels)."""
    pending, seen, first_party = [module], dict[str, Path](), first_party_packages()
    while pending:
        name = pending.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            found = _module_file(".".join(parts[:depth]), first_party)
            if found is None or found[0] in seen:
                continue
            member, path = found
            seen[member] = path
            for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
                if isinstance(node, ast.Import):
                    pending += [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    pending += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return dict(sorted(seen.items()))


def feature_config(model_artifact: Path) -> bytes:
    """``feature_config.json`` for the bundle, exported from the artifact the endpoint serves."""
    if not model_artifact.is_file():
        raise BundleError(f"model artifact {model_artifact} not found: run `make model` first")
    from model.artifact import export_feature_config

    with tempfile.TemporaryDirectory() as scratch:
        return export_feature_config(model_artifact, Path(scratch) / FEATURE_CONFIG_NAME).read_bytes()


def _wheel_files(wheel: Path) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            name = info.filename
            # Scripts and headers (.data) and compiled caches are not importable code.
            if info.is_dir() or ".data/" in name or "__pycache__/" in name or name.endswith(".pyc"):
                continue
            if name.startswith(WHEEL_EXCLUDES):
                continue
            yield name, archive.read(info)


def build_bundle(output: Path, model_artifact: Path = DEFAULT_MODEL, wheels: Path = DEFAULT_WHEELS) -> Path:
    """Write the zip at ``output`` from the repository's sources, the pinned wheels and the
    feature configuration of ``model_artifact``."""
    entries: dict[str, bytes] = {FEATURE_CONFIG_NAME: feature_config(model_artifact)}
    for name, version in pinned_versions().items():
        for member, data in _wheel_files(find_wheel(wheels, name, version)):
            entries[member] = data
    for member, data in _first_party_files():
        if member in entries:
            raise BundleError(f"{member} is both a first-party module and in a wheel")
        entries[member] = data
    # The simulator's geography is imported by name at cold start when the model's network lookup
    # starts with it: ship it with what it imports.
    lookup = (json.loads(entries[FEATURE_CONFIG_NAME]).get("network_lookup") or {}).get("synthetic_module")
    if lookup:
        files = module_closure(lookup)
        if not files:
            raise BundleError(f"the model's synthetic geography {lookup!r} is not a module of this repository")
        for member, path in files.items():
            entries.setdefault(member, path.read_bytes())
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for member in sorted(entries):
            info = zipfile.ZipInfo(member, date_time=FIXED_TIME)
            info.create_system = 3  # Unix, so the mode below is honoured
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[member], compresslevel=6)
    partial.replace(output)
    return output


def verify_bundle(bundle: Path, model_artifact: Path) -> None:
    """Refuse a bundle whose feature configuration is not the one of ``model_artifact``: the scorer
    would compute features the deployed model was not trained on."""
    if not bundle.is_file():
        raise BundleError(f"scorer bundle {bundle} not found: run `make bundle`")
    expected = json.loads(feature_config(model_artifact))
    try:
        with zipfile.ZipFile(bundle) as archive:
            bundled = json.loads(archive.read(FEATURE_CONFIG_NAME))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise BundleError(f"scorer bundle {bundle} holds no readable {FEATURE_CONFIG_NAME}: {error}") from None
    if bundled != expected:
        raise BundleError(
            f"scorer bundle {bundle} was built for another model than {model_artifact}: run `make bundle` again"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack.bundle", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the model.tar.gz the stack deploys")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--wheels", type=Path, default=DEFAULT_WHEELS)
    arguments = parser.parse_args(argv)
    download_wheels(arguments.wheels)
    build_bundle(arguments.output, arguments.model, arguments.wheels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
