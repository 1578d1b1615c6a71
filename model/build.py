"""``make model``: train from an archive and pack ``model.tar.gz`` for the SageMaker container.

Without an archive, a week of attack-free simulated traffic (``traffic.simulator``) is first
archived as Firehose would write it, under ``build/archive``, so the command works on a fresh
machine. The artifact is built by ``model.train`` from the same sources the tests import.

``write_training_source`` lays out the source directory of a SageMaker training job (script mode):
``train.py`` at its root (SageMaker runs ``python train.py --hyper-parameter value`` there) and the
packages it imports, copied from where Python imports them (``package_source``), plus a
``requirements.txt`` the scikit-learn training image installs first.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from model import train

SIMULATED_DAYS = 7
SIMULATED_USERS = 2_000
SIMULATION_SEED = 11

REPOSITORY = Path(__file__).resolve().parent.parent
# The packages the training job imports, shipped whole beside train.py (of the console, only its
# labels table's reader, for the analysts' verdicts).
TRAINING_PACKAGES = ("model", "archive", "vedette", "traffic", "console")
# What the scikit-learn training image lacks: the archive reader decodes events with msgspec (the
# event contract) and orjson; the network and user-agent enrichment (model.network,
# model.user_agents) reads its data with these.
TRAINING_REQUIREMENTS = (
    "msgspec",
    "orjson",
    "geoip2fast",
    "geoip2",
    "maxminddb",
    "ua-parser",
    "ua-parser-builtins",
    "crawlerdetect",
    "tzdata",  # the travel column's country places (model.features.travel)
)
TRAINING_ENTRY_POINT = '''"""SageMaker training entry point (script mode) of the Vedette anomaly model.

Hyper-parameters arrive as ``--name value`` (``python train.py --help``); the archive channel is
``SM_CHANNEL_TRAIN`` and the artifact goes to ``SM_MODEL_DIR``, which SageMaker packs as model.tar.gz.
"""

import sys

from model.train import main

if __name__ == "__main__":
    sys.exit(main())
'''


# The retraining cycle's training job (stack/retraining.py) runs the ``train`` half of
# ``python -m model.lifecycle`` in script mode: hyper-parameters arrive as ``--archive``, ``--days``...
LIFECYCLE_ENTRY_POINT_NAME = "lifecycle_train.py"
LIFECYCLE_ENTRY_POINT = '''"""SageMaker training entry point (script mode) of a cycle: ``model.lifecycle train``.

The candidate goes to ``SM_MODEL_DIR``, which SageMaker packs as model.tar.gz.
"""

import sys

from model.lifecycle import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
'''


def simulate_archive(folder: Path, days: int = SIMULATED_DAYS, users: int = SIMULATED_USERS) -> Path:
    """Write ``days`` of attack-free simulated events into an archive at ``folder``."""
    from archive import ArchiveWriter
    from traffic.simulator import Simulator

    simulator = Simulator(seed=SIMULATION_SEED, users=users, attack_share=0.0)
    with ArchiveWriter(folder) as writer:
        for event, _ in simulator.events(duration=timedelta(days=days)):
            writer.put_event(event)
    return folder


def package_source(package: str) -> Path:
    """The folder Python imports ``package`` from, without importing it: with ``make install``, this
    checkout's sources (the editable installs of pyproject.toml and producers/pyproject.toml), the
    very files the tests import. What the training job and the Lambda bundle ship is copied from it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"no package {package} to ship: run `make install`", name=package)
    return Path(next(iter(spec.submodule_search_locations)))


def write_training_source(destination: str | Path) -> Path:
    """Lay out a SageMaker training job's source directory (see the module docstring)."""
    target = Path(destination)
    target.mkdir(parents=True, exist_ok=True)
    for package in TRAINING_PACKAGES:
        shutil.copytree(
            package_source(package),
            target / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            dirs_exist_ok=True,
        )
    (target / "train.py").write_text(TRAINING_ENTRY_POINT)
    (target / LIFECYCLE_ENTRY_POINT_NAME).write_text(LIFECYCLE_ENTRY_POINT)
    pins = [
        line.strip()
        for line in (REPOSITORY / "requirements.txt").read_text().splitlines()
        if line.split("==")[0].strip() in TRAINING_REQUIREMENTS
    ]
    (target / "requirements.txt").write_text("\n".join(pins) + "\n")
    return target


def main(argv: Sequence[str] | None = None) -> int:
    """Build ``--output`` (a model.tar.gz) from ``--archive`` or from simulated traffic."""
    parser = argparse.ArgumentParser(prog="python -m model.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", default="", help="archive folder or s3:// URL (empty: simulate one)")
    parser.add_argument("--output", default="build/model.tar.gz")
    parser.add_argument("--detector", default=train.DEFAULT_DETECTOR)
    parser.add_argument("--training-source", default=None, help="only write a training job's source dir here")
    arguments = parser.parse_args(argv)
    if arguments.training_source:
        print(write_training_source(arguments.training_source))
        return 0
    output = Path(arguments.output)
    archive = arguments.archive
    geo = train.DEFAULT_GEO
    if not archive:
        geo = "synthetic"  # simulated addresses are in the synthetic geography's ranges
        archive_folder = output.parent / "archive"
        if not archive_folder.is_dir():
            print(f"simulating {SIMULATED_DAYS} days of traffic into {archive_folder}", file=sys.stderr)
            simulate_archive(archive_folder)
        archive = str(archive_folder)
    return train.main(
        [
            "--train",
            archive,
            "--model-dir",
            str(output.parent / "model"),
            "--tarball",
            str(output),
            "--detector",
            arguments.detector,
            "--geo",
            geo,
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
