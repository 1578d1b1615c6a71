"""The serving path against the one it replaced, which this file keeps as the reference.

Until the tail table, the endpoint counted each value's place in the sorted training column row by
row. That lookup is written out below as it was (``reference_tails``); the table must give the same
tails bit for bit.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

from model import serving
from model.artifact import LoadedModel
from model.detectors import ECODDetector
from model.tails import TailProfile
from model.train import save, train
from tests.model_factories import normal_traffic

DAYS = 6


def reference_tails(profile: TailProfile, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The row-by-row lookup: each value's count at or below it and at or above it in the sorted column."""
    count = profile.rows
    left = np.empty_like(rows)
    right = np.empty_like(rows)
    for column in range(rows.shape[1]):
        values = profile.sorted_columns[:, column]
        left[:, column] = np.searchsorted(values, rows[:, column], side="right")
        right[:, column] = count - np.searchsorted(values, rows[:, column], side="left")
    left = -np.log((left + 1.0) / (count + 1.0))
    right = -np.log((right + 1.0) / (count + 1.0))
    return left, right


def bits(matrix: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(matrix).view(np.int64)


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return normal_traffic(40, DAYS)


@pytest.fixture(scope="module")
def ecod_model(tmp_path_factory: pytest.TempPathFactory, events: list[dict[str, Any]]) -> LoadedModel:
    """The shipped detector, through the artifact as the container loads it."""
    folder = save(train(events, alert_rate=0.02), tmp_path_factory.mktemp("ecod") / "model")
    return serving.model_fn(str(folder))


def edge_values(profile: TailProfile) -> np.ndarray:
    """Every training value, the doubles either side of each, midpoints, and beyond both ends."""
    values = np.unique(profile.sorted_columns)
    extremes = [values[0] - 1.0, values[-1] + 1.0, -np.inf, np.inf, -0.0, 0.0, 1e300, -1e300]
    return np.concatenate(
        [
            values,
            np.nextafter(values, np.inf),
            np.nextafter(values, -np.inf),
            (values[1:] + values[:-1]) / 2,
            extremes,
        ]
    )


def test_the_tail_table_gives_the_row_by_row_tails_bit_for_bit(ecod_model: LoadedModel) -> None:
    # GIVEN the shipped detector's profiles, and a small one of repeated values with both zeros
    detector = ecod_model.detector
    assert isinstance(detector, ECODDetector)
    repeated = np.array([[-0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [2.5, 1.0], [2.5, 3.0], [7.0, 3.0]])
    profiles = [detector._profile, detector._cohort_profile, TailProfile.from_sorted(repeated)]
    for profile in profiles:
        assert profile is not None
        width = profile.sorted_columns.shape[1]
        # WHEN each column is asked about every edge value of every column
        probes = np.repeat(edge_values(profile)[:, None], width, axis=1)
        # THEN both tails are the row-by-row lookup's doubles, bit for bit
        for new, old in zip(profile.tails(probes), reference_tails(profile, probes), strict=True):
            assert np.array_equal(bits(new), bits(old))


def test_the_table_is_built_from_the_pickled_columns_and_not_pickled(ecod_model: LoadedModel) -> None:
    # GIVEN a profile whose table was built by scoring
    profile = ecod_model.detector._profile
    probes = profile.sorted_columns[::97]
    before = profile.tails(probes)
    assert "table" in vars(profile)
    # WHEN it is pickled, as the artifact's detector is, and loaded
    loaded = pickle.loads(pickle.dumps(profile))
    # THEN the pickle carries the sorted columns only, and the loaded profile builds the same table
    assert "table" not in vars(loaded)
    for new, old in zip(loaded.tails(probes), before, strict=True):
        assert np.array_equal(bits(new), bits(old))
