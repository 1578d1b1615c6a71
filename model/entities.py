"""Alerts on entities (users or sessions), not on single events: evidence, its detector, its budget.

One event rarely tells a bot from a person; the visit as a whole does: how regular the gaps between
requests are, how rare the paths, how much of it is writes, failures or page assets, and how
anomalous its events scored. So each entity carries an ``Evidence`` accumulator over its current
episode (a run of activity with no pause longer than ``EPISODE_IDLE_SECONDS``), updated with every
event's feature row and score; ``EntityModel`` turns the accumulator into a row of
``ENTITY_FEATURE_NAMES`` and scores it with ECOD fitted on the training traffic's episodes. An
entity alerts once per episode, when its score first crosses a threshold calibrated so that normal
traffic raises about ``alert_budget`` alerts per 1,000 active entities per day.

Short episodes say little, so every share and mean is shrunk toward the training population's value
by ``PRIOR_EVENTS`` pseudo-events: a new entity's first events look like the population's, and
evidence has to accumulate before an episode can stand out. Having no history is not an anomaly.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.exceptions import InvalidStateError
from model.features import FEATURE_NAMES
from model.tails import Matrix, TailProfile, Vector

ENTITY_FEATURES_VERSION = 1
# A pause longer than this ends an episode (the usual web-analytics session timeout).
EPISODE_IDLE_SECONDS = 30 * 60.0
# Pseudo-events of the population's value blended into every share and mean.
PRIOR_EVENTS = 5.0
DEFAULT_ALERT_BUDGET = 5.0  # alerts per 1,000 active entities per day
MIN_TRAINING_EPISODES = 5
# Below this many expected exceedances in the calibration sample, the threshold is extrapolated
# from the sample's upper tail (an exponential fitted to the excesses over its 90th percentile)
# rather than read as an order statistic that the next day's traffic would often beat.
MIN_EXCEEDANCES_FOR_QUANTILE = 20
TAIL_QUANTILE = 0.9
CROSS_FIT_FOLDS = 5
ENTITY_DECIMALS = 6

_STATIC_RE = re.compile(r"\.(?:css|js|mjs|png|jpe?g|gif|svg|ico|webp|woff2?|ttf|eot|map)(?:[?#]|$)", re.IGNORECASE)

# Per-event columns taken from the event's feature row by name, averaged over the episode.
_ROW_COLUMNS = {
    "path_rarity": "resource_path_rarity",
    "new_path": "new_resource_path",
    "write": "write_method",
    "failure": "failure",
    "client_error": "status_4xx",
    "agent_rarity": "agent_family_rarity",
    "suspicious": "resource_suspicious_tokens",
}
_ROW_INDEX = {name: FEATURE_NAMES.index(column) for name, column in _ROW_COLUMNS.items()}
# The means an episode keeps: the event score, whether it was flagged, page assets, then the row columns.
MEANS = ("event_score", "flagged", "asset", *_ROW_COLUMNS)

ENTITY_FEATURE_NAMES: tuple[str, ...] = (
    "log_events",
    "log_duration",
    "gap_mean",  # mean log1p of the seconds between requests
    "gap_spread",  # their standard deviation: scripts are regular, people are not
    *(f"{name}_mean" for name in MEANS),
)

# Why an entity stood out, in words: (feature, template for a high value, template for a low value).
_REASONS = {
    "log_events": ("many requests in one episode ({events})", "very few requests ({events})"),
    "log_duration": ("a long episode ({minutes:.0f} min)", "a very short episode ({minutes:.1f} min)"),
    "gap_mean": ("long pauses between requests", "requests in quick succession (median pace {pace:.1f} s)"),
    "gap_spread": ("irregular pauses between requests", "machine-regular pauses between requests"),
    "event_score_mean": ("requests that look unusual on their own", "requests that look ordinary"),
    "flagged_mean": ("{flagged:.0f} requests flagged as anomalous", "no flagged requests"),
    "asset_mean": ("mostly page assets", "no page assets (images, scripts, styles) fetched"),
    "path_rarity_mean": ("paths rarely or never seen in normal traffic", "only the commonest paths"),
    "new_path_mean": ("many pages new to this entity", "no new pages"),
    "write_mean": ("many writes (POST/PUT/DELETE)", "no writes"),
    "failure_mean": ("{failures:.0f} failed requests or logins", "no failures"),
    "client_error_mean": ("many client errors (4xx)", "no client errors"),
    "agent_rarity_mean": ("an unusual client (user agent)", "the commonest client"),
    "suspicious_mean": ("attack-like fragments in requests", "no attack-like fragments"),
}


def is_page_asset(resource: Any) -> bool:
    """Whether a request fetches a page asset (style, script, image, font) rather than a page or API."""
    return isinstance(resource, str) and _STATIC_RE.search(resource.split("?", 1)[0]) is not None


@dataclass(slots=True)
class Evidence:
    """One entity's current episode: counts and sums, fixed size whatever its length."""

    first_seen: float = 0.0
    last_seen: float = 0.0
    events: int = 0
    gaps: int = 0
    gap_sum: float = 0.0
    gap_squares: float = 0.0
    sums: list[float] = field(default_factory=lambda: [0.0] * len(MEANS))
    episode: int = 0  # episodes seen, so an alert can name the one it belongs to
    alerted: bool = False  # this episode has alerted already
    peak_score: float = -math.inf  # highest entity score in this episode

    _LAYOUT = struct.Struct(f"<BB ddQQdd {len(MEANS)}d I?d")

    def copy(self) -> Evidence:
        return Evidence(
            self.first_seen,
            self.last_seen,
            self.events,
            self.gaps,
            self.gap_sum,
            self.gap_squares,
            list(self.sums),
            self.episode,
            self.alerted,
            self.peak_score,
        )

    def observe(self, now: float, row: Sequence[float], score: float, flagged: bool, asset: bool) -> bool:
        """Add one event (in time order); returns True if it starts a new episode."""
        new_episode = self.events == 0 or now - self.last_seen > EPISODE_IDLE_SECONDS
        if new_episode:
            episode = self.episode + 1
            self.__init__()  # type: ignore[misc]
            self.episode = episode
            self.first_seen = self.last_seen = now
        else:
            gap = math.log1p(max(0.0, now - self.last_seen))
            self.gaps += 1
            self.gap_sum += gap
            self.gap_squares += gap * gap
            self.last_seen = max(self.last_seen, now)
        self.events += 1
        sums = self.sums
        sums[0] += score
        sums[1] += 1.0 if flagged else 0.0
        sums[2] += 1.0 if asset else 0.0
        for position, index in enumerate(_ROW_INDEX.values(), start=3):
            sums[position] += row[index]
        return new_episode

    def to_bytes(self) -> bytes:
        """A fixed binary layout (``_LAYOUT.size`` bytes) for the scorer's state table."""
        return self._LAYOUT.pack(
            ENTITY_FEATURES_VERSION,
            len(MEANS),
            self.first_seen,
            self.last_seen,
            self.events,
            self.gaps,
            self.gap_sum,
            self.gap_squares,
            *self.sums,
            self.episode,
            self.alerted,
            self.peak_score,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Evidence:
        if len(data) != cls._LAYOUT.size or data[0] != ENTITY_FEATURES_VERSION or data[1] != len(MEANS):
            raise InvalidStateError("entity evidence", f"not a version {ENTITY_FEATURES_VERSION} record")
        values = cls._LAYOUT.unpack(data)
        sums_end = 8 + len(MEANS)
        first, last, events, gaps, gap_sum, gap_squares = values[2:8]
        episode, alerted, peak = values[sums_end:]
        return cls(first, last, events, gaps, gap_sum, gap_squares, list(values[8:sums_end]), episode, alerted, peak)


def evidence_row(evidence: Evidence, priors: Sequence[float]) -> list[float]:
    """The entity feature row (``ENTITY_FEATURE_NAMES``) of an episode, shrunk toward ``priors``."""
    weight = PRIOR_EVENTS
    gap_prior_mean, gap_prior_spread = priors[2], priors[3]
    gap_mean = (evidence.gap_sum + gap_prior_mean * weight) / (evidence.gaps + weight)
    raw_variance = (
        (evidence.gap_squares / evidence.gaps - (evidence.gap_sum / evidence.gaps) ** 2) if evidence.gaps else 0.0
    )
    variance = (max(raw_variance, 0.0) * evidence.gaps + gap_prior_spread**2 * weight) / (evidence.gaps + weight)
    row = [
        math.log1p(evidence.events),
        math.log1p(max(0.0, evidence.last_seen - evidence.first_seen)),
        gap_mean,
        math.sqrt(variance),
    ]
    for position, total in enumerate(evidence.sums):
        row.append((total + priors[4 + position] * weight) / (evidence.events + weight))
    return row


@dataclass(frozen=True)
class EntityAlert:
    """An entity crossed its threshold: the episode so far and the reasons, in words."""

    entity: str
    kind: str  # "user" or "session"
    score: float
    threshold: float
    episode: int
    first_event_at: float
    last_event_at: float
    events: int
    reasons: tuple[str, ...]

    @property
    def severity(self) -> float:
        return self.score / self.threshold if self.threshold > 0 else math.inf


class EntityModel:
    """ECOD over episode rows, the population priors, and the threshold the alert budget sets."""

    def __init__(self, priors: Sequence[float], sorted_columns: Matrix, threshold: float, alert_budget: float) -> None:
        self.priors = [float(value) for value in priors]
        self.threshold = float(threshold)
        self.alert_budget = float(alert_budget)
        # Six decimals keep entities.json well below its size at full precision (the rows are
        # logs and shares; rounding is monotone, so the columns stay sorted).
        rounded = np.asarray(np.round(np.asarray(sorted_columns), ENTITY_DECIMALS), dtype=np.float64)
        self._profile = TailProfile.from_sorted(rounded)

    def score(self, rows: Matrix) -> Vector:
        """ECOD: the largest of the left, right and skew-chosen tail sums."""
        left, right = self._profile.tails(np.asarray(rows, dtype=np.float64))
        automatic = np.where(self._profile.right_skewed, right, left)
        scores: Vector = np.maximum.reduce([left.sum(axis=1), right.sum(axis=1), automatic.sum(axis=1)])
        return scores

    def reasons(self, row: Sequence[float], top: int = 3) -> tuple[str, ...]:
        """The ``top`` features furthest in their training tails, as sentences naming the episode's
        figures (read back from its row, so an alert describes the episode as it stood)."""
        left, right = self._profile.tails(np.asarray([row], dtype=np.float64))
        strength = np.maximum(left, right)[0]
        events = math.expm1(row[0])

        def own_count(name: str) -> float:
            # The shrunk mean undone: the episode's own number of such events.
            column = ENTITY_FEATURE_NAMES.index(name)
            return max(0.0, row[column] * (events + PRIOR_EVENTS) - self.priors[column] * PRIOR_EVENTS)

        details = {
            "events": round(events),
            "minutes": math.expm1(row[1]) / 60.0,
            "pace": math.expm1(row[2]),
            "flagged": own_count("flagged_mean"),
            "failures": own_count("failure_mean"),
        }
        words = []
        for column in np.argsort(-strength, kind="stable")[:top].tolist():
            name = ENTITY_FEATURE_NAMES[column]
            high = bool(right[0, column] >= left[0, column])
            template = _REASONS[name][0 if high else 1]
            usual = float(self._profile.medians[column])
            words.append(f"{template.format(**details)} ({name} {row[column]:.2f}, usually {usual:.2f})")
        return tuple(words)

    def to_json(self) -> dict[str, Any]:
        return {
            "entity_features_version": ENTITY_FEATURES_VERSION,
            "feature_names": list(ENTITY_FEATURE_NAMES),
            "priors": self.priors,
            "threshold": self.threshold,
            "alert_budget": self.alert_budget,
            "sorted_columns": self._profile.sorted_columns.tolist(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EntityModel:
        if (
            data.get("entity_features_version") != ENTITY_FEATURES_VERSION
            or tuple(data.get("feature_names", ())) != ENTITY_FEATURE_NAMES
        ):
            raise InvalidStateError(
                "entity model",
                f"built for entity features {data.get('feature_names')!r} version "
                f"{data.get('entity_features_version')!r}; this code has version {ENTITY_FEATURES_VERSION}",
            )
        return cls(data["priors"], np.asarray(data["sorted_columns"]), data["threshold"], data["alert_budget"])


class EntityTracker:
    """The per-batch step the scorer and the backtest share: update evidence, score, decide alerts."""

    def __init__(self, model: EntityModel, kind: str) -> None:
        self.model = model
        self.kind = kind

    def observe(
        self,
        states: dict[str, Evidence],
        keys: Sequence[str | None],
        times: Sequence[float],
        rows: Matrix,
        event_scores: Sequence[float],
        flagged: Sequence[bool],
        resources: Sequence[Any],
    ) -> tuple[Vector, list[EntityAlert]]:
        """Add a batch of events (time order) to ``states`` (updated in place; keys absent are new
        entities); returns each event's entity score (NaN without a key) and the alerts raised."""
        snapshots: list[list[float]] = []
        owners: list[int] = []
        episodes: list[int] = []
        # An episode under way when the batch starts may have alerted in an earlier batch.
        alerted = {(key, states[key].episode) for key in set(keys) if key in states and states[key].alerted}
        for position, key in enumerate(keys):
            if key is None:
                continue
            evidence = states.get(key)
            if evidence is None:
                evidence = states[key] = Evidence()
            resource = resources[position]
            evidence.observe(
                times[position], rows[position], event_scores[position], flagged[position], is_page_asset(resource)
            )
            snapshots.append(evidence_row(evidence, self.model.priors))
            owners.append(position)
            episodes.append(evidence.episode)
        entity_scores = np.full(len(keys), np.nan)
        if not snapshots:
            return entity_scores, []
        matrix = np.asarray(snapshots)
        scores = self.model.score(matrix)
        entity_scores[owners] = scores
        alerts: list[EntityAlert] = []
        peaks: dict[tuple[str, int], float] = {}
        for snapshot, position, episode, score in zip(matrix.tolist(), owners, episodes, scores.tolist(), strict=True):
            key = keys[position]
            assert key is not None  # owners holds only events with a key
            peaks[key, episode] = max(peaks.get((key, episode), -math.inf), score)
            if score > self.model.threshold and (key, episode) not in alerted:
                alerted.add((key, episode))
                events = round(math.expm1(snapshot[0]))
                first_event_at = times[position] - math.expm1(snapshot[1])
                alerts.append(
                    EntityAlert(
                        key,
                        self.kind,
                        score,
                        self.model.threshold,
                        episode,
                        first_event_at,
                        times[position],
                        events,
                        self.model.reasons(snapshot),
                    )
                )
        for key in {key for key in keys if key is not None}:
            evidence = states[key]
            evidence.alerted = (key, evidence.episode) in alerted
            peak = peaks.get((key, evidence.episode))
            if peak is not None:
                evidence.peak_score = max(evidence.peak_score, peak)
        return entity_scores, alerts
