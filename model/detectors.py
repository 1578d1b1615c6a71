"""Unsupervised detectors behind one interface: fit, score (higher = more anomalous), explain.

``ECODDetector`` is ECOD (Li et al., 2022, "ECOD: Unsupervised Outlier Detection Using Empirical
Cumulative Distribution Functions") in numpy: each feature's left and right tail probabilities
under the training data's empirical distribution, the further of the two as a negative log, and
these terms softly truncated and summed over the features (where ECOD adds them as they are and
keeps the largest of its three direction sums; ``model.tails.ecod`` says why). It is deterministic,
has no hyper-parameter fitted to the data, and its terms are its explanation.

``IsolationForestDetector`` wraps scikit-learn's ``IsolationForest`` (imported when fitted, so this
module loads without scikit-learn). Its explanations come from the same per-feature tail
profile (which features of the row sit furthest in their training tails), since a forest has no
per-feature decomposition of its score.

``calibrate_threshold`` turns a score sample into the threshold that flags a target share of it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any, Protocol

import numpy as np

from model.exceptions import DetectorNotFittedError, TrainingDataError

# TailProfile stays importable from here: detectors pickled before model.tails name it so.
from model.tails import (
    DEFAULT_SEED,
    ECOD_DIRECTIONS,
    SOFT_TRUNCATED_TAILS,
    Matrix,
    TailProfile,
    Vector,
    as_matrix,
    ecod,
)

MIN_TRAINING_ROWS = 10
# The share of the alert rate's tail of calibration scores that one user may fill (calibrate_threshold),
# and the events it may fill whatever the share: on a small training set's tail of a few events, one
# each would set the threshold at the tenth user's most unusual request, and flag far more than the rate.
MAX_TAIL_SHARE_PER_USER = 0.05
MIN_TAIL_EVENTS_PER_USER = 5


class Detector(Protocol):
    """What training, the artifact and ``inference.py`` need from a detector."""

    name: str
    n_features: int

    def fit(self, rows: Matrix) -> Detector: ...

    def score(self, rows: Matrix) -> Vector: ...

    def contributions(self, rows: Matrix) -> Matrix: ...

    def distances(self, rows: Matrix) -> Matrix: ...

    def score_and_contributions(self, rows: Matrix) -> tuple[Vector, Matrix]: ...


class ECODDetector:
    """ECOD: the sum of per-feature negative log tail probabilities (see the module docstring)."""

    name = "ecod"

    def __init__(
        self,
        *,
        seed: int = DEFAULT_SEED,
        cohort_column: int | None = None,
        aggregation: str = SOFT_TRUNCATED_TAILS,
        counted_once: Sequence[Sequence[int]] = (),
    ) -> None:
        if aggregation not in (SOFT_TRUNCATED_TAILS, ECOD_DIRECTIONS):
            raise ValueError(f"aggregation: {aggregation!r} is not one this code knows")
        self.seed = seed
        self.aggregation = aggregation  # model.tails.ecod's
        # Groups of columns that read one thing several ways, each counted by its largest term
        # (model.features.COUNTED_ONCE; model.tails.soft_truncated_sum says why).
        self.counted_once = tuple(tuple(int(column) for column in group) for group in counted_once)
        grouped = [column for group in self.counted_once for column in group]
        if any(len(group) < 2 for group in self.counted_once) or len(grouped) != len(set(grouped)):
            raise ValueError(f"counted_once: {counted_once!r} must be groups of two columns or more, none twice")
        if self.counted_once and aggregation != SOFT_TRUNCATED_TAILS:
            raise ValueError(f"counted_once: the {aggregation!r} aggregation adds every column")
        self.n_features = 0
        self._profile: TailProfile | None = None
        # Cold start: rows with a non-zero ``cohort_column`` (an entity's first event) are judged
        # against the training rows of that cohort only. A first event has no gap, no habit and no
        # history, so against everyone's rows it is an outlier by construction; against other first
        # events it is not, unless it is unusual for a first event.
        self.cohort_column = cohort_column
        self._cohort_profile: TailProfile | None = None

    def fit(self, rows: Matrix) -> ECODDetector:
        """Learn each feature's empirical distribution from (up to MAX_PROFILE_ROWS) ``rows``."""
        matrix = _check_training(rows)
        if any(not 0 <= column < matrix.shape[1] for group in self.counted_once for column in group):
            raise ValueError(f"counted_once: {self.counted_once!r} names a column beyond the {matrix.shape[1]} fitted")
        self._profile = TailProfile(matrix, seed=self.seed)
        self._cohort_profile = None
        if self.cohort_column is not None:
            cohort = matrix[matrix[:, self.cohort_column] != 0]
            if len(cohort) >= MIN_TRAINING_ROWS:
                self._cohort_profile = TailProfile(cohort, seed=self.seed)
        self.n_features = matrix.shape[1]
        return self

    def _fitted(self) -> TailProfile:
        if self._profile is None:
            raise DetectorNotFittedError("ECODDetector: call fit() before score()")
        return self._profile

    def score(self, rows: Matrix) -> Vector:
        """Each row's per-feature tail terms, combined (``model.tails.ecod``)."""
        return self.score_and_contributions(rows)[0]

    def score_and_contributions(self, rows: Matrix) -> tuple[Vector, Matrix]:
        """``score`` and ``contributions`` from one pass over the tails."""
        matrix, judges = self._judges(rows)
        scores = np.empty(len(matrix))
        contributions = np.empty_like(matrix)
        # Detectors pickled before the choice existed keep the aggregation they were calibrated with.
        aggregation = getattr(self, "aggregation", ECOD_DIRECTIONS)
        # ... and those pickled before the groups counted every column (the same threshold).
        counted_once = getattr(self, "counted_once", ())
        for selected, profile in judges:
            scores[selected], contributions[selected] = ecod(profile, matrix[selected], aggregation, counted_once)
        return scores, contributions

    def _judges(self, rows: Matrix) -> tuple[Matrix, list[tuple[Any, TailProfile]]]:
        """The rows as a checked matrix, and which profile judges which of them: (selector, profile)."""
        profile = self._fitted()
        matrix = as_matrix(rows, self.n_features)
        cohort_profile = getattr(self, "_cohort_profile", None)  # None in detectors pickled before it
        if cohort_profile is None or self.cohort_column is None:
            return matrix, [(slice(None), profile)]
        in_cohort = matrix[:, self.cohort_column] != 0
        judges = [(~in_cohort, profile), (in_cohort, cohort_profile)]
        return matrix, [(selected, chosen) for selected, chosen in judges if selected.any()]

    def contributions(self, rows: Matrix) -> Matrix:
        """Per-feature tail scores (the terms ECOD sums)."""
        return self.score_and_contributions(rows)[1]

    def distances(self, rows: Matrix) -> Matrix:
        """Tie-breaker for explanations (``TailProfile.distances``)."""
        return self._fitted().distances(as_matrix(rows, self.n_features))


class IsolationForestDetector:
    """scikit-learn's IsolationForest; score is the negated ``score_samples`` (higher = more anomalous)."""

    name = "isolation_forest"

    def __init__(self, *, n_estimators: int = 200, max_samples: int | str = 512, seed: int = DEFAULT_SEED) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.seed = seed
        self.n_features = 0
        self._forest: Any = None
        self._profile: TailProfile | None = None

    def fit(self, rows: Matrix) -> IsolationForestDetector:
        """Fit the forest on ``rows`` and the tail profile used for explanations."""
        from sklearn.ensemble import IsolationForest

        matrix = _check_training(rows)
        max_samples = self.max_samples
        if isinstance(max_samples, int):
            max_samples = min(max_samples, matrix.shape[0])
        self._forest = IsolationForest(
            n_estimators=self.n_estimators, max_samples=max_samples, random_state=self.seed, n_jobs=1
        ).fit(matrix)
        self._profile = TailProfile(matrix, seed=self.seed)
        self.n_features = matrix.shape[1]
        return self

    def score(self, rows: Matrix) -> Vector:
        """The forest's anomaly score: short average isolation paths score high."""
        if self._forest is None:
            raise DetectorNotFittedError("IsolationForestDetector: call fit() before score()")
        scores: Vector = -self._forest.score_samples(as_matrix(rows, self.n_features))
        return scores

    def contributions(self, rows: Matrix) -> Matrix:
        """Per-feature tail scores from the training profile (see the module docstring)."""
        if self._profile is None:
            raise DetectorNotFittedError("IsolationForestDetector: call fit() before contributions()")
        return self._profile.contributions(as_matrix(rows, self.n_features))

    def score_and_contributions(self, rows: Matrix) -> tuple[Vector, Matrix]:
        """``score`` and ``contributions``."""
        return self.score(rows), self.contributions(rows)

    def distances(self, rows: Matrix) -> Matrix:
        """Tie-breaker for explanations (``TailProfile.distances``)."""
        if self._profile is None:
            raise DetectorNotFittedError("IsolationForestDetector: call fit() before distances()")
        return self._profile.distances(as_matrix(rows, self.n_features))


DETECTORS: dict[str, type[ECODDetector] | type[IsolationForestDetector]] = {
    ECODDetector.name: ECODDetector,
    IsolationForestDetector.name: IsolationForestDetector,
}


def make_detector(
    name: str, *, cohort_column: int | None = None, counted_once: Sequence[Sequence[int]] = ()
) -> ECODDetector | IsolationForestDetector:
    """A new detector by name (``DETECTORS`` lists them); ``cohort_column`` and ``counted_once`` as
    ECOD's (ECOD only)."""
    if name == ECODDetector.name:
        return ECODDetector(cohort_column=cohort_column, counted_once=counted_once)
    try:
        return DETECTORS[name]()
    except KeyError:
        raise ValueError(f"detector: unknown {name!r}; known: {', '.join(sorted(DETECTORS))}") from None


def _check_training(rows: Any) -> Matrix:
    matrix = as_matrix(rows)
    if matrix.shape[0] < MIN_TRAINING_ROWS:
        raise TrainingDataError(f"need at least {MIN_TRAINING_ROWS} rows to fit a detector, got {matrix.shape[0]}")
    return matrix


def calibrate_threshold(scores: Vector, alert_rate: float, owners: Sequence[Hashable] | None = None) -> float:
    """The score above which ``alert_rate`` of ``scores`` lie (flag when score > threshold).

    With ``owners`` (each score's user), no one user fills more than ``MAX_TAIL_SHARE_PER_USER`` of
    that tail: a bot's hundreds of requests in the calibration window would otherwise fill it and set
    the threshold at the bot's level, above every person's unusual request. Its excess lies above the
    threshold all the same. Where the users are too few to fill the tail so, the plain quantile."""
    if not 0.0 < alert_rate < 1.0:
        raise ValueError(f"alert_rate: must be within (0, 1), got {alert_rate}")
    if len(scores) == 0:
        raise TrainingDataError("no scores to calibrate a threshold on")
    values = np.asarray(scores, dtype=np.float64)
    plain = float(np.quantile(values, 1.0 - alert_rate, method="higher"))
    if owners is None:
        return plain
    tail = max(1, math.ceil(alert_rate * len(values)))
    per_user = max(MIN_TAIL_EVENTS_PER_USER, math.ceil(MAX_TAIL_SHARE_PER_USER * tail))
    taken: Counter[Hashable] = Counter()
    filled = 0
    for index in np.argsort(-values, kind="stable").tolist():
        owner = owners[index]
        if taken[owner] < per_user:
            taken[owner] += 1
            filled += 1
            if filled == tail:
                return min(plain, float(values[index]))
    return plain


def top_features(
    contributions: Matrix, names: tuple[str, ...], count: int, tiebreak: Matrix | None = None
) -> list[list[tuple[str, float]]]:
    """The ``count`` largest contributions of each row as (feature name, contribution), largest first;
    equal contributions are ordered by ``tiebreak`` (larger first), then by feature order."""
    count = min(count, contributions.shape[1])
    # The tie-breaker, squashed into [0, 1e-6), only reorders contributions that are equal to 1e-6.
    key = contributions if tiebreak is None else contributions + 1e-6 * tiebreak / (1.0 + tiebreak)
    candidates = np.argpartition(-key, count - 1, axis=1)[:, :count]
    order = np.take_along_axis(candidates, np.argsort(-np.take_along_axis(key, candidates, axis=1), axis=1), axis=1)
    values = np.round(np.take_along_axis(contributions, order, axis=1), 4).tolist()
    return [
        [(names[column], value) for column, value in zip(columns, row_values, strict=True)]
        for columns, row_values in zip(order.tolist(), values, strict=True)
    ]


def _labeled(normal_scores: Vector, anomalous_scores: Vector) -> tuple[Vector, Vector]:
    scores = np.concatenate([normal_scores, anomalous_scores])
    labels = np.concatenate([np.zeros(len(normal_scores)), np.ones(len(anomalous_scores))])
    return labels, scores


def roc_auc(normal_scores: Vector, anomalous_scores: Vector) -> float:
    """Probability that an anomalous row outscores a normal one (ties count half): scikit-learn's ROC-AUC."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(*_labeled(normal_scores, anomalous_scores)))


def average_precision(normal_scores: Vector, anomalous_scores: Vector) -> float:
    """Area under the precision-recall curve: scikit-learn's average precision."""
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(*_labeled(normal_scores, anomalous_scores)))
