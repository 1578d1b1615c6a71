"""``make bundle``: the scorer's Lambda zip, byte-for-byte reproducible.

The zip holds ``functions/scorer`` (as ``scorer``), the producer library's ``vedette`` (the event
contract and KPL deaggregation), the serving side of ``model`` (the one feature definition), and
the runtime dependencies at the versions requirements.txt pins, as manylinux aarch64 wheels for
the Lambda's Python. boto3 is left to the Lambda runtime. Every entry has a fixed timestamp and
mode and entries are sorted, so the same sources and wheels always give the same bytes (and
Pulumi sees no change when nothing changed).

Usage: ``python -m stack.bundle --output build/scorer.zip [--wheels build/wheels]``.
"""

from __future__ import annotations

import argparse
import re
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from stack.exceptions import BundleError

ROOT = Path(__file__).resolve().parent.parent
# The Lambda's Python and architecture; stack.scorer deploys the function with these.
LAMBDA_PYTHON = "3.13"
LAMBDA_ARCHITECTURE = "arm64"
WHEEL_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
# What the scorer imports at run time beyond the standard library and the runtime's boto3.
RUNTIME_PACKAGES = ("aws-lambda-powertools", "jmespath", "typing_extensions", "orjson", "numpy")
# Provided by the Lambda Python runtime, so not bundled.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore"})
# The first-party packages: (folder in the repository, name in the zip, modules; empty = all).
FIRST_PARTY: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("functions/scorer", "scorer", ()),
    ("producers/vedette", "vedette", ()),
    # The serving side only: training and the detectors (scikit-learn) stay out of the Lambda.
    ("model", "model", ("__init__.py", "exceptions.py", "features.py")),
)
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
DEFAULT_OUTPUT = ROOT / "build" / "scorer.zip"
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
    command += [f"{name}=={version}" for name, version in pins.items()]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BundleError(f"pip download failed: {result.stderr.strip()[-2000:]}")


def find_wheel(wheels: Path, name: str, version: str) -> Path:
    """The downloaded wheel of ``name==version``; raises ``BundleError`` when it is missing."""
    for wheel in sorted(wheels.glob("*.whl")):
        wheel_name, wheel_version = wheel.name.split("-")[:2]
        if normalize(wheel_name) == name and wheel_version == version:
            return wheel
    raise BundleError(f"no wheel of {name}=={version} in {wheels}: run `make bundle` (it downloads them)")


def _first_party_files(root: Path) -> Iterator[tuple[str, bytes]]:
    for folder, package, modules in FIRST_PARTY:
        source = root / folder
        files = [source / module for module in modules] if modules else sorted(source.rglob("*.py"))
        for path in files:
            if "__pycache__" in path.parts:
                continue
            if not path.is_file():
                raise BundleError(f"{path} is missing from the scorer's sources")
            yield f"{package}/{path.relative_to(source).as_posix()}", path.read_bytes()


def _wheel_files(wheel: Path) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            name = info.filename
            # Scripts and headers (.data) and compiled caches are not importable code.
            if info.is_dir() or ".data/" in name or "__pycache__/" in name or name.endswith(".pyc"):
                continue
            yield name, archive.read(info)


def build_bundle(output: Path, wheels: Path = DEFAULT_WHEELS, root: Path = ROOT) -> Path:
    """Write the zip at ``output`` from the repository's sources and the pinned wheels."""
    entries: dict[str, bytes] = {}
    for name, version in pinned_versions(root / "requirements.txt").items():
        for member, data in _wheel_files(find_wheel(wheels, name, version)):
            entries[member] = data
    for member, data in _first_party_files(root):
        if member in entries:
            raise BundleError(f"{member} is both a first-party module and in a wheel")
        entries[member] = data
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack.bundle", description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--wheels", type=Path, default=DEFAULT_WHEELS)
    arguments = parser.parse_args(argv)
    download_wheels(arguments.wheels)
    build_bundle(arguments.output, arguments.wheels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
