"""Empirical tail profiles: ECOD's per-feature building block, in numpy alone.

The event detector (``model.detectors``) and the entity stage (``model.entities``) both score rows by
how far into their training sample's tails each feature sits. This module holds that part and
nothing that imports scikit-learn, so the scorer's Lambda can ship it for the entity stage.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Matrix = np.ndarray[Any, np.dtype[np.float64]]
Vector = np.ndarray[Any, np.dtype[np.float64]]

# Rows kept per feature for the empirical distributions: bounds the artifact's size (8 bytes each)
# and the scoring cost (a binary search per feature), at a tail resolution of 1 / 20,001.
MAX_PROFILE_ROWS = 20_000
DEFAULT_SEED = 20_101


def as_matrix(rows: Any, width: int | None = None) -> Matrix:
    matrix = np.asarray(rows, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"rows must be a 2-D array, got {matrix.ndim} dimension(s)")
    if width is not None and matrix.shape[1] != width:
        raise ValueError(f"rows have {matrix.shape[1]} features, the detector was fitted on {width}")
    if not np.isfinite(matrix).all():
        raise ValueError("rows contain NaN or infinite values")
    return matrix


class TailProfile:
    """Per-feature empirical distributions of a training sample, and tail scores against them."""

    def __init__(self, training: Matrix, *, seed: int = DEFAULT_SEED) -> None:
        if training.shape[0] > MAX_PROFILE_ROWS:
            picked = np.random.default_rng(seed).choice(training.shape[0], MAX_PROFILE_ROWS, replace=False)
            training = training[np.sort(picked)]
        self._describe(np.sort(training, axis=0))

    @classmethod
    def from_sorted(cls, sorted_columns: Matrix) -> TailProfile:
        """The profile of a sample given as its columns, each sorted (as ``sorted_columns`` holds it)."""
        profile = cls.__new__(cls)
        profile._describe(sorted_columns)
        return profile

    def _describe(self, sorted_columns: Matrix) -> None:
        # Every statistic here is per column, so the columns sorted independently give the same.
        self.sorted_columns = sorted_columns
        self.rows = int(sorted_columns.shape[0])
        # Skewness picks ECOD's "automatic" tail per feature: the long one.
        centered = sorted_columns - sorted_columns.mean(axis=0)
        spread = sorted_columns.std(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            skew = np.where(spread > 0, (centered**3).mean(axis=0) / spread**3, 0.0)
        self.right_skewed = skew >= 0
        quartiles = np.quantile(sorted_columns, [0.25, 0.5, 0.75], axis=0)
        self.medians = quartiles[1]
        self.scales = np.maximum(quartiles[2] - quartiles[0], spread) + 1e-9

    def tails(self, rows: Matrix) -> tuple[Matrix, Matrix]:
        """Negative log left and right tail probabilities, each of shape ``rows.shape``."""
        count = self.rows
        left = np.empty_like(rows)
        right = np.empty_like(rows)
        for column in range(rows.shape[1]):
            values = self.sorted_columns[:, column]
            at_most = np.searchsorted(values, rows[:, column], side="right")
            at_least = count - np.searchsorted(values, rows[:, column], side="left")
            left[:, column] = at_most
            right[:, column] = at_least
        # Smoothing by one pseudo-row keeps every probability above zero.
        left = -np.log((left + 1.0) / (count + 1.0))
        right = -np.log((right + 1.0) / (count + 1.0))
        return left, right

    def distances(self, rows: Matrix) -> Matrix:
        """Each value's distance from its feature's training median, in interquartile ranges: it
        orders features whose tail probabilities tie (all beyond every training value)."""
        distances: Matrix = np.abs(rows - self.medians) / self.scales
        return distances

    def contributions(self, rows: Matrix) -> Matrix:
        """How far into its training tail each feature of each row sits (0 = not in a tail)."""
        left, right = self.tails(rows)
        return np.maximum(left, right)


def ecod(profile: TailProfile, matrix: Matrix) -> tuple[Vector, Matrix]:
    """ECOD's score (the largest of the left, right and skew-chosen tail sums) and per-feature terms."""
    left, right = profile.tails(matrix)
    automatic = np.where(profile.right_skewed, right, left)
    scores: Vector = np.maximum.reduce([left.sum(axis=1), right.sum(axis=1), automatic.sum(axis=1)])
    return scores, np.maximum(left, right)
