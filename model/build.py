"""``make model``: train from an archive and pack ``model.tar.gz`` for the SageMaker container.

Without an archive, a week of attack-free simulated traffic (``traffic.simulator``) is first
archived as Firehose would write it, under ``build/archive``, so the command works on a fresh
machine. The artifact is built by ``model.train`` from the same sources the tests import.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from model import train

SIMULATED_DAYS = 7
SIMULATED_USERS = 2_000
SIMULATION_SEED = 11


def simulate_archive(folder: Path, days: int = SIMULATED_DAYS, users: int = SIMULATED_USERS) -> Path:
    """Write ``days`` of attack-free simulated events into an archive at ``folder``."""
    from archive import ArchiveWriter
    from traffic.simulator import Simulator

    simulator = Simulator(seed=SIMULATION_SEED, users=users, attack_share=0.0)
    with ArchiveWriter(folder) as writer:
        for event, _ in simulator.events(duration=timedelta(days=days)):
            writer.put_event(event)
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    """Build ``--output`` (a model.tar.gz) from ``--archive`` or from simulated traffic."""
    parser = argparse.ArgumentParser(prog="python -m model.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", default="", help="archive folder or s3:// URL (empty: simulate one)")
    parser.add_argument("--output", default="build/model.tar.gz")
    parser.add_argument("--detector", default=train.DEFAULT_DETECTOR)
    arguments = parser.parse_args(argv)
    output = Path(arguments.output)
    archive = arguments.archive
    geo = "none"
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
