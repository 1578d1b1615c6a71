"""Fit the entity stage (``model.entities``) on training traffic and calibrate it to an alert budget.

The entity stage must be calibrated on the event scores it will see in service: scores of traffic
the event model was not fitted on. Scored in-sample, a small training set looks more ordinary than
tomorrow's traffic will (every path in the vocabulary, every row inside its own tails), and a
threshold set on it would alert on ordinary people. So users are split in ``SCORING_FOLDS`` folds
by a hash of their id; each fold is featurized and scored by a vocabulary and detector learned on
the other folds only (80% of the users, as the shipped model learns from 80% of the events: with
halves, the calibrated threshold sat well above held-out normal traffic's), its events replayed
with everyone else's so that an address it shares with other folds counts all its users. Those
out-of-sample rows feed the episode evidence, whose rows are then cross-fitted too
(``CROSS_FIT_FOLDS`` folds by entity, or one for each of a few entities: ``folds_of``): every
entity-day's highest score comes from a profile that never saw that entity, and the threshold is the
score that ``alert_budget`` per 1,000 of those entity-days exceed (``tail_threshold``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from model.detectors import calibrate_threshold, make_detector
from model.enrichment import AgentLookup, NetworkLookup
from model.entities import (
    DEFAULT_MIN_DAILY_ALERTS,
    ENTITY_DECIMALS,
    ENTITY_FEATURE_NAMES,
    ENTITY_SCORING,
    HABIT_MIN_DAYS,
    MAX_HABITUAL,
    MAX_ROUTINE,
    SOFT_TRUNCATED_TAIL_SUM,
    EntityModel,
    Evidence,
    alert_share,
    entity_key,
    event_evidence,
    evidence_rows,
    machine_clients,
    population_priors,
    term_cap,
)
from model.exceptions import TrainingDataError
from model.features import (
    COUNTED_ONCE,
    FEATURE_COUNT,
    FIRST_EVENT_COLUMN,
    ResourceVocabulary,
    featurize_batch,
    stable_hash,
)
from model.tails import TailProfile, Vector

logger = logging.getLogger(__name__)

ENTITY_KINDS = ("user", "session")
MIN_TRAINING_EPISODES = 5
# Machine clients (``model.entities.machine_clients``) get a model of their own from this many
# training episodes; with fewer, a model of everyone's episodes judges them.
MIN_MACHINE_EPISODES = 10
# Machine clients' days set their threshold where they are this many clients' or more.
MIN_MACHINE_CLIENTS = 3
CROSS_FIT_FOLDS = 5
# Up to this many entities, each is a fold of its own in the entity stage's cross-fit (leave one out),
# where the cost stays under LEAVE_ONE_OUT_WORK (entities times episode rows): a profile fitted on
# four fifths of a few dozen entities finds each held-out one stranger than the shipped profile,
# fitted on them all, finds tomorrow's. (Of 35 people's sessions of a week, the two highest scored
# 37 and 28 held out by fifths, 28 and 20 held out alone; the threshold extrapolated from them fell
# from 26.5 to 22.7, and 9 of 25 bots that the model ranked above every person lay between.)
LEAVE_ONE_OUT_ENTITIES = 100
LEAVE_ONE_OUT_WORK = 2_000_000
# The share of the alert budget the largest-term rule may spend (``SUM_OR_LARGEST_TERM``); the
# soft-truncated sum spends the rest.
TERM_RULE_SHARE = 0.5
# The rule is used only where the held-out days expect at least this many of them beyond its
# threshold: with fewer, the threshold is all extrapolation, and the days that happen to put it low
# are the ones that turn the rule on (40 to 60 training episodes alerted up to 13 % at 2.5 %).
MIN_TERM_RULE_EXCEEDANCES = 1.0
# Below this many expected exceedances in the calibration sample, the threshold is extrapolated
# from the sample's upper tail rather than read as an order statistic that the next day's traffic
# would often beat; the tail is the top tenth of the sample, or more of a small one.
MIN_EXCEEDANCES_FOR_QUANTILE = 20
# From this many expected exceedances the sample can say that its tail is heavier than the
# exponential's (a cluster of alike short sessions just past the extrapolated threshold): the
# threshold is then never below the sample's own quantile, which would alert more than the budget.
MIN_EXCEEDANCES_TO_BOUND = 5
TAIL_QUANTILE = 0.9
MIN_TAIL_SAMPLES = 20
MAX_TAIL_SHARE = 0.5
SCORING_FOLDS = 5


def folds_of(keys: Sequence[str], folds: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Each key's fold among ``folds`` by a hash of it, or a fold of its own where the keys are few
    (``LEAVE_ONE_OUT_ENTITIES``) and leaving each out is cheap (``LEAVE_ONE_OUT_WORK``)."""
    distinct = sorted(set(keys))
    if len(distinct) <= LEAVE_ONE_OUT_ENTITIES and len(distinct) * len(keys) <= LEAVE_ONE_OUT_WORK:
        position = {key: index for index, key in enumerate(distinct)}
        return np.array([position[key] for key in keys], dtype=np.int64)
    return np.array([stable_hash(key) % folds for key in keys], dtype=np.int64)


@dataclass
class OutOfSample:
    """Every training event's feature row and score from the fold's model that never saw its user."""

    rows: np.ndarray[Any, np.dtype[np.float64]]
    scores: Vector
    flagged: np.ndarray[Any, np.dtype[np.bool_]]
    polled: np.ndarray[Any, np.dtype[np.bool_]]  # BatchFeatures.polled, with the fold's vocabulary


def out_of_sample(
    events: Sequence[Any],
    *,
    detector: str,
    alert_rate: float,
    network_of: NetworkLookup | None,
    agent_of: AgentLookup | None,
) -> OutOfSample:
    """Score each user's events with a vocabulary and detector learned on the other folds' users."""
    users = [str(entity_key(event, "user")) for event in events]
    fold_of = np.array([stable_hash(user) % SCORING_FOLDS for user in users])
    rows = np.zeros((len(events), FEATURE_COUNT))
    scores = np.zeros(len(events))
    flagged = np.zeros(len(events), dtype=bool)
    polled = np.zeros(len(events), dtype=bool)
    for fold in range(SCORING_FOLDS):
        inside = np.flatnonzero(fold_of == fold)
        outside = np.flatnonzero(fold_of != fold)
        if len(inside) == 0:
            continue
        if len(outside) < 2 * MIN_TRAINING_EPISODES:
            raise TrainingDataError(f"too few users to score out of sample: {len(outside)} events outside one fold")
        vocabulary = ResourceVocabulary.learn([events[index] for index in outside])
        # Every user's events are featurized together, as the scorer sees them: the per-address
        # columns (users sharing an address, arrivals of users new to it) count all the site's users.
        # Featurized apart, a fold's users would share their addresses with a fifth of the others.
        featurized = featurize_batch(events, network_of=network_of, agent_of=agent_of, vocabulary=vocabulary)
        every_row = featurized.rows
        other_rows = every_row[outside]
        fitted = make_detector(detector, cohort_column=FIRST_EVENT_COLUMN, counted_once=COUNTED_ONCE).fit(other_rows)
        threshold = calibrate_threshold(fitted.score(other_rows), alert_rate, [users[index] for index in outside])
        own = every_row[inside]
        rows[inside] = own
        scores[inside] = fitted.score(own)
        flagged[inside] = scores[inside] > threshold
        polled[inside] = np.asarray(featurized.polled)[inside]
    return OutOfSample(rows, scores, flagged, polled)


@dataclass
class Snapshots:
    """Every event's episode row, with what calibration needs to group them."""

    rows: np.ndarray[Any, np.dtype[np.float64]]
    priors: list[float]  # what the rows are shrunk toward: the training episodes' own means
    entity_day: np.ndarray[Any, np.dtype[np.int64]]  # index of (entity, UTC day)
    fold: np.ndarray[Any, np.dtype[np.int64]]
    for_fitting: np.ndarray[Any, np.dtype[np.bool_]]  # at 1, 2, 4, 8... events and each episode's last
    episodes: int
    entity_days: int
    days: int  # UTC days with any activity: entity_days / days entities are active on a day
    counts: np.ndarray[Any, np.dtype[np.float64]]  # each row's Evidence.counts, before shrinking
    last: np.ndarray[Any, np.dtype[np.bool_]]  # the row is its episode's last
    day_of: np.ndarray[Any, np.dtype[np.int64]]  # each entity-day's UTC day
    episode: np.ndarray[Any, np.dtype[np.int64]]  # each row's episode (an index over all of training's)
    entity_of: list[str]  # each entity-day's entity

    @property
    def entity_days_named(self) -> list[tuple[str, int]]:
        """Each entity-day as (entity, UTC day): the same in any subset."""
        return list(zip(self.entity_of, self.day_of.tolist(), strict=True))

    @property
    def episode_day(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Each row's episode's first entity-day among these rows: an episode alerts once, so the
        days it goes on into (a monitor polling all week is one episode) have no alert of their own
        to calibrate. (An entity's days are numbered in time order, so its first is its smallest.)"""
        first = np.full(int(self.episode.max(initial=-1)) + 1, np.iinfo(np.int64).max)
        np.minimum.at(first, self.episode, self.entity_day)
        days: np.ndarray[Any, np.dtype[np.int64]] = first[self.episode]
        return days

    def subset(self, rows: np.ndarray[Any, np.dtype[np.bool_]]) -> Snapshots:
        """The snapshots of ``rows`` alone, shrunk toward their own episodes' means."""
        counts, last = self.counts[rows], self.last[rows]
        priors = population_priors(counts[last].sum(axis=0))
        kept, entity_day = np.unique(self.entity_day[rows], return_inverse=True)
        entities = [self.entity_of[index] for index in kept.tolist()]
        return Snapshots(
            evidence_rows(counts, priors),
            priors,
            entity_day.astype(np.int64),
            # (folded again: a few machine clients among many people are each a fold of their own)
            folds_of([entities[day] for day in entity_day.tolist()], CROSS_FIT_FOLDS),
            self.for_fitting[rows],
            int(last.sum()),
            len(kept),
            len(np.unique(self.day_of[kept])),
            counts,
            last,
            self.day_of[kept],
            self.episode[rows],
            entities,
        )


def episode_snapshots(
    events: Sequence[Any],
    times: Sequence[float],
    kind: str,
    sample: OutOfSample,
    vocabulary: ResourceVocabulary | None = None,
) -> Snapshots | None:
    """Replay the evidence as the scorer would and keep the episode row after every event; None when
    no event carries this kind of entity. ``vocabulary``: the shipped model's, which tells the scorer
    the calls pages make from pages."""
    states: dict[str, Evidence] = {}
    counts: list[tuple[float, ...]] = []
    # What the scorer's entity stage reads of each event, read the same way.
    inputs = event_evidence(sample.rows, events, vocabulary, sample.polled.tolist())
    entity_days: dict[tuple[str, int], int] = {}
    day_index: list[int] = []
    keys: list[str] = []
    for_fitting: list[bool] = []
    episode_of: list[tuple[str, int]] = []
    episode_index: dict[tuple[str, int], int] = {}
    episodes: list[int] = []
    counted_rows: list[bool] = []  # the event counted in its episode (a page's poll does not)
    for position, event in enumerate(events):
        key = entity_key(event, kind)
        if key is None:
            continue
        evidence = states.setdefault(key, Evidence())
        counted_before = evidence.events
        new_episode = evidence.observe_event(
            times[position], inputs, position, float(sample.scores[position]), bool(sample.flagged[position])
        )
        counts.append(evidence.counts())
        day = entity_days.setdefault((key, int(times[position] // 86400)), len(entity_days))
        day_index.append(day)
        keys.append(key)
        count = evidence.events
        # (a page's poll counts nowhere: the episode as it was, already fitted once)
        counted = new_episode or count > counted_before
        counted_rows.append(counted)
        for_fitting.append(counted and count & (count - 1) == 0)
        episode_of.append((key, evidence.episode))
        episodes.append(episode_index.setdefault((key, evidence.episode), len(episode_index)))
    if not counts:
        return None
    # Each episode's last row is kept for fitting too, so whole episodes of every length are seen;
    # its counts are the episode's totals, and all of them summed give the population's means.
    last_of_episode: dict[tuple[str, int], int] = {}
    for index, (episode, counted) in enumerate(zip(episode_of, counted_rows, strict=True)):
        if counted:
            last_of_episode[episode] = index
    last = np.zeros(len(counts), dtype=bool)
    last[list(last_of_episode.values())] = True
    for_fitting = [fitting or is_last for fitting, is_last in zip(for_fitting, last.tolist(), strict=True)]
    raw = np.asarray(counts, dtype=np.float64)
    priors = population_priors(raw[last].sum(axis=0))
    return Snapshots(
        evidence_rows(raw, priors),
        priors,
        np.asarray(day_index, dtype=np.int64),
        folds_of(keys, CROSS_FIT_FOLDS),
        np.asarray(for_fitting, dtype=bool),
        len(last_of_episode),
        len(entity_days),
        len({day for _, day in entity_days}),
        raw,
        last,
        np.asarray([day for _, day in entity_days], dtype=np.int64),
        np.asarray(episodes, dtype=np.int64),
        [key for key, _ in entity_days],
    )


# How ``tail_calibration`` set a threshold (``calibration.method`` in the model's metadata).
QUANTILE = "quantile"
BOUNDED_TAIL = "exponential tail, at least the quantile"
EXPONENTIAL_TAIL = "exponential tail"
TIED_BASE = "the tail's base, where alike days tie"


# The chance with which ``TailCalibration.share_range`` brackets the share of days beyond a threshold.
SHARE_RANGE_LEVEL = 0.9


class TailCalibration(NamedTuple):
    """``tail_calibration``'s threshold, how it was set, and between which shares of entity-days like
    the sample's it lies beyond (``share_range``, ``SHARE_RANGE_LEVEL`` of the time)."""

    threshold: float
    method: str
    share_range: tuple[float, float]


def tail_calibration(samples: Vector, rate: float) -> TailCalibration:
    """The score that a share ``rate`` of samples like these would exceed, how it was set, and how
    far the share beyond it may stray from ``rate`` on new entity-days drawn like the sample's.

    With enough samples beyond it, that is an order statistic (``QUANTILE``). Otherwise (a small
    training set, a strict budget) the threshold is extrapolated from the upper tail: the excesses
    over a high quantile fitted by an exponential (peaks over threshold with shape 0;
    ``EXPONENTIAL_TAIL``), which also keeps one unusual training day from setting the threshold
    alone. The tail holds the top tenth of the samples, or more of them on a small sample (at least
    ``MIN_TAIL_SAMPLES``, at most half): a scale estimated from two or three excesses swings with
    whichever days happened to be seen. Where the sample holds a few exceedances
    (``MIN_EXCEEDANCES_TO_BOUND``), a tail heavier than the exponential would put the extrapolation
    below them: the sample's quantile is the floor (``BOUNDED_TAIL``). Where alike samples tie at the
    tail's base and leave no more than ``rate`` beyond it, the base is the threshold (``TIED_BASE``):
    extrapolated from so few excesses, it would fall below the tie.

    The range (``share_range``) is what the sample's size allows: the share beyond an order
    statistic with ``m`` samples above it is Beta(m + 1, n - m) distributed, whatever the scores'
    distribution; the share beyond the extrapolation is the base's share (itself Beta-distributed)
    times ``(rate / the base's share in the sample) ** (fitted scale / true scale)``, the ratio
    Gamma(k, 1 / k) distributed for ``k`` excesses (``_extrapolated_share_range``); beyond the
    larger of the two, no more than either's. On samples drawn from exponential, gamma and lognormal
    scores (15 to 400 of them, at 2.5 %), the 90 % range held the share beyond the threshold 86 to
    93 % of the time. At 15 samples and 2.5 %, it runs from about 0.3 % to 13 %: few training days
    set a threshold that may alert on far more, or far fewer, days than the budget's share.
    """
    values = np.sort(np.asarray(samples, dtype=np.float64))
    if len(values) == 0:
        raise TrainingDataError("no entity scores to calibrate on")
    if len(values) * rate >= MIN_EXCEEDANCES_FOR_QUANTILE:
        return _calibrated(values, float(np.quantile(values, 1.0 - rate, method="higher")), QUANTILE)
    tail_share = min(MAX_TAIL_SHARE, max(1.0 - TAIL_QUANTILE, MIN_TAIL_SAMPLES / len(values)))
    base = float(np.quantile(values, 1.0 - tail_share))
    excesses = values[values > base] - base
    share_above = len(excesses) / len(values)
    if share_above <= rate:
        # Alike episodes scored alike tie at the base, leaving no more than the rate beyond it (a
        # night's syncs, 55 days of 56 at one score): the base keeps the budget, and extrapolated
        # from so few excesses the threshold would fall below it, where every day alerts.
        return _calibrated(values, base, TIED_BASE)
    extrapolated = base + float(excesses.mean()) * math.log(share_above / rate)
    fitted = _extrapolated_share_range(len(excesses), len(values), rate)
    if len(values) * rate >= MIN_EXCEEDANCES_TO_BOUND:
        quantile = _calibrated(values, float(np.quantile(values, 1.0 - rate, method="higher")), BOUNDED_TAIL)
        # (beyond the larger of two thresholds lies no more than beyond either: the top holds; the
        # bottom is a union bound, below which up to twice the outer share may fall)
        low, high = quantile.share_range
        threshold = max(extrapolated, quantile.threshold)
        return TailCalibration(threshold, BOUNDED_TAIL, (min(fitted[0], low), min(fitted[1], high)))
    return TailCalibration(extrapolated, EXPONENTIAL_TAIL, fitted)


def _calibrated(values: Vector, threshold: float, method: str) -> TailCalibration:
    """``threshold`` read from the sorted ``values`` themselves, with the range of the share beyond it."""
    from scipy.stats import beta

    above, count = int((values > threshold).sum()), len(values)
    outer = (1.0 - SHARE_RANGE_LEVEL) / 2.0
    low, high = beta.ppf([outer, 1.0 - outer], above + 1, count - above)
    return TailCalibration(threshold, method, (float(low), float(high)))


# Points of each distribution's quantile function that ``_extrapolated_share_range`` combines.
_RANGE_GRID = 400


def _extrapolated_share_range(excesses: int, count: int, rate: float) -> tuple[float, float]:
    """The range of the share beyond an exponential tail's extrapolation to ``rate`` from
    ``excesses`` of ``count`` samples over its base: the share beyond the base times
    ``(rate / its share in the sample) ** (fitted scale / true scale)``. The base's own share is
    Beta(excesses + 1, count - excesses), the ratio Gamma(excesses, 1 / excesses), independent of
    it (an exponential's excesses do not depend on where its base falls); their product's range is
    read off every product of a grid of each one's quantiles (no random draws: the same sample
    gives the same range). Taken as exact, the base's share left more of the true shares above the
    range's top: on 600 samples each of exponential, gamma and lognormal scores (15 to 60 days at
    2.5 %), the range held 86 to 91 % of them, and 86 to 93 % with it (15 to 400 days)."""
    from scipy.stats import beta, gamma

    grid = (np.arange(_RANGE_GRID) + 0.5) / _RANGE_GRID
    base_shares = beta.ppf(grid, excesses + 1, count - excesses)
    ratios = gamma.ppf(grid, excesses, scale=1.0 / excesses)
    shares = np.outer(base_shares, (rate * count / excesses) ** ratios)
    outer = (1.0 - SHARE_RANGE_LEVEL) / 2.0
    low, high = np.quantile(shares, [outer, 1.0 - outer])
    return float(low), float(high)


def tail_threshold(samples: Vector, rate: float) -> float:
    """``tail_calibration``'s threshold."""
    return tail_calibration(samples, rate).threshold


def cross_fitted_maxima(snapshots: Snapshots) -> tuple[Vector, Vector]:
    """Each entity-day's highest soft-truncated sum and highest single term
    (``EntityModel.sum_and_largest_term``) among the episodes that started on it, from profiles
    fitted without that entity; 0 on a day whose only episode started before it.

    An episode alerts once, on the day it first crosses: one running for days (a monitor polling
    every minute, a crawler that never pauses half an hour) is one chance to alert, credited to the
    day it started. Counted on each of its days, a week-long episode weighed as seven of the
    entity-days the budget allows to alert, and set the threshold of a few machine clients alone
    (133, where the scripts walking the site scored 66 to 97)."""
    sums = np.full(snapshots.entity_days, -np.inf)
    terms = np.full(snapshots.entity_days, -np.inf)
    episode_day = snapshots.episode_day
    for fold in np.unique(snapshots.fold).tolist():
        held_out = snapshots.fold == fold
        fitting = snapshots.for_fitting & ~held_out
        if fitting.sum() < MIN_TRAINING_EPISODES:
            raise TrainingDataError(f"too few episodes to cross-fit the entity stage ({snapshots.episodes})")
        model = EntityModel(
            [0.0] * len(ENTITY_FEATURE_NAMES),
            np.sort(snapshots.rows[fitting], axis=0),
            0.0,
            0.0,
            capped_as_rows=int(snapshots.for_fitting.sum()),
        )
        total, largest = model.sum_and_largest_term(snapshots.rows[held_out])
        np.maximum.at(sums, episode_day[held_out], total)
        np.maximum.at(terms, episode_day[held_out], largest)
    started_none = np.isneginf(sums)
    sums[started_none] = terms[started_none] = 0.0
    return sums, terms


class Calibrated(NamedTuple):
    """``calibrated_model``'s model, each judged entity-day's cross-fitted highest score under it, and
    how its sum's threshold was set (``tail_calibration``)."""

    model: EntityModel
    maxima: Vector
    calibration: TailCalibration
    term_calibration: TailCalibration | None  # the largest-term rule's, where the model uses it


def calibrated_model(
    snapshots: Snapshots,
    rate: float,
    alert_budget: float,
    judged_days: np.ndarray[Any, np.dtype[np.bool_]] | None = None,
    excused: Container[str] = (),
) -> Calibrated:
    """The entity model fitted on ``snapshots`` with thresholds for a share ``rate`` of entity-days,
    each entity-day's cross-fitted highest score under it, and how the sum's threshold was set.
    ``judged_days``: the entity-days the model will judge, where it is fitted on more (by default,
    all of them): the thresholds are set for ``rate`` of those, and their scores are returned.
    ``excused``: entities judged against their own level (``habitual_entities``), whose days are
    scored but spend none of the rate.

    The two rules (``SUM_OR_LARGEST_TERM``) share the rate, so that together they stay within it.
    On too few entity-days to expect ``MIN_TERM_RULE_EXCEEDANCES`` beyond the term threshold, or
    where the held-out days put it at or beyond the largest term the profile can give (a small
    training set, whose extrapolated tails are rough), no single feature can be trusted to alert
    alone: the sum then has the whole rate to itself."""
    sums, largest_terms = cross_fitted_maxima(snapshots)
    judged = np.ones(snapshots.entity_days, dtype=bool) if judged_days is None else judged_days
    sums, largest_terms = sums[judged], largest_terms[judged]
    judged_entities = [snapshots.entity_of[day] for day in np.flatnonzero(judged).tolist()]
    spending = spending_days(judged_entities, excused)
    profile = TailProfile(snapshots.rows[snapshots.for_fitting])
    # What a reason calls usual: the finished episodes' medians (the snapshots are mostly early ones).
    usual = np.round(np.median(snapshots.rows[snapshots.last], axis=0), ENTITY_DECIMALS).tolist()
    term_calibration = tail_calibration(largest_terms[spending], rate * TERM_RULE_SHARE)
    enough_days = int(spending.sum()) * rate * TERM_RULE_SHARE >= MIN_TERM_RULE_EXCEEDANCES
    if enough_days and term_calibration.threshold < term_cap(profile.rows):
        calibration = tail_calibration(sums[spending], rate * (1.0 - TERM_RULE_SHARE))
        model = EntityModel(
            snapshots.priors,
            profile.sorted_columns,
            calibration.threshold,
            alert_budget,
            ENTITY_SCORING,
            term_calibration.threshold,
            usual=usual,
        )
    else:
        calibration = tail_calibration(sums[spending], rate)
        model = EntityModel(
            snapshots.priors,
            profile.sorted_columns,
            calibration.threshold,
            alert_budget,
            SOFT_TRUNCATED_TAIL_SUM,
            usual=usual,
        )
    term_rule = term_calibration if model.term_threshold is not None else None
    return Calibrated(model, model.score_from(sums, largest_terms), calibration, term_rule)


class ClientClassFit(NamedTuple):
    """``_fitted_by_client_class``'s entity model and what it was calibrated on."""

    model: EntityModel
    maxima: Vector  # the people's entity-days' cross-fitted highest scores (everyone's, without machines)
    calibration: TailCalibration  # how the model's threshold was set
    term_calibration: TailCalibration | None  # the largest-term rule's, where the model uses it
    snapshots: Snapshots  # the snapshots the model was fitted on
    machine_metadata: dict[str, Any] | None
    # Per judging model, each entity-day's cross-fitted highest score on the stage's scale, and its
    # (entity, UTC day).
    days: list[tuple[Vector, list[tuple[str, int]]]]


def _fitted_by_client_class(
    snapshots: Snapshots, rate: float, alert_budget: float, excused: Container[str] = ()
) -> ClientClassFit:
    """The entity model of ``snapshots``, its cross-fitted maxima, the snapshots it was fitted on,
    and the machine clients' metadata.

    Where training holds machine clients (``machine_clients``), people (and whoever claims a
    browser) are judged by a model of their episodes alone, and machine clients by one of theirs
    (``EntityModel.machines``) where there are at least ``MIN_MACHINE_EPISODES`` of them, of at
    least ``MIN_MACHINE_CLIENTS`` clients, to fit it on, else by a model fitted on everyone's
    episodes (the one model that judged every episode before machine clients were told apart). Each
    model is calibrated to ``rate`` of the entity-days it judges, so that together they keep the
    budget: everyone's model to ``rate`` of the machine clients' days, which in training were its
    most extreme (calibrated on all days, it would spend the budget on them a second time), unless
    they are fewer than ``MIN_MACHINE_CLIENTS`` clients' days, too few to say where a machine
    client's usual day ends: then to ``rate`` of all days. Where the
    people cannot be cross-fitted alone, every episode is judged by one model."""
    machines = machine_clients(snapshots.counts)
    machine_episodes = int((machines & snapshots.last).sum())
    if machine_episodes:
        people = snapshots.subset(~machines)
        try:
            model, maxima, calibration, term_calibration = calibrated_model(people, rate, alert_budget, excused=excused)
        except TrainingDataError as error:
            logger.info("people judged with machine clients: %s", error)
        else:
            apart = None
            machine_days = np.zeros(snapshots.entity_days, dtype=bool)
            machine_days[snapshots.entity_day[machines]] = True
            named = snapshots.entity_days_named
            machine_entities = [named[day] for day in np.flatnonzero(machine_days).tolist()]
            # Their days say where a machine client's day ends where they are several clients'; one or
            # two clients' days say where theirs does (a WordPress site's own cron, one episode
            # through two weeks of a new-user trial's training, set the threshold at 574 against the
            # people's 58, and no declared crawler or tool could alert).
            several = len({entity for entity, _ in machine_entities}) >= MIN_MACHINE_CLIENTS
            if machine_episodes >= MIN_MACHINE_EPISODES and several:
                machine_snapshots = snapshots.subset(machines)
                try:
                    apart = calibrated_model(machine_snapshots, rate, alert_budget, excused=excused)
                except TrainingDataError as error:  # (one integration is one entity, in one fold)
                    logger.info("machine clients judged with everyone: %s", error)
            if apart is not None:
                judge, judge_maxima, judge_calibration, _ = apart
                machine_entities = machine_snapshots.entity_days_named
            else:
                # Calibrated on the machine clients' days where they are several clients', else on
                # everyone's: the client itself, over the threshold on most of its days, is habitual
                # (``habitual_entities``).
                judge, judge_maxima, judge_calibration, _ = calibrated_model(
                    snapshots, rate, alert_budget, judged_days=machine_days if several else None, excused=excused
                )
                judge_maxima = judge_maxima if several else judge_maxima[machine_days]
            model.machines = judge
            on_stage_scale = judge_maxima * (model.threshold / judge.threshold)
            return ClientClassFit(
                model,
                maxima,
                calibration,
                term_calibration,
                people,
                {
                    "episodes": machine_episodes,
                    "fitted_on": "their own episodes" if apart is not None else "everyone's episodes",
                    "calibrated_on": "their days" if apart is not None or several else "everyone's days",
                    "entity_days": len(judge_maxima),
                    "threshold": judge.threshold,
                    "term_threshold": judge.term_threshold,
                    "method": judge_calibration.method,
                    "share_range": list(judge_calibration.share_range),
                    "cross_fitted_alerts_per_1000_entities_per_day": cross_fitted_alerts(
                        judge_maxima, judge.threshold, machine_entities, excused
                    ),
                },
                [(maxima, people.entity_days_named), (on_stage_scale, machine_entities)],
            )
    model, maxima, calibration, term_calibration = calibrated_model(snapshots, rate, alert_budget, excused=excused)
    return ClientClassFit(
        model, maxima, calibration, term_calibration, snapshots, None, [(maxima, snapshots.entity_days_named)]
    )


def spending_days(entities: Sequence[str], excused: Container[str]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Which of the entity-days (each one's entity) spend the alert budget: all but the ``excused``
    (habitual) entities', or all where every one is excused."""
    spending = np.array([entity not in excused for entity in entities], dtype=bool)
    if not spending.any():
        spending[:] = True
    return spending


def cross_fitted_alerts(
    maxima: Vector, threshold: float, entity_days: Sequence[tuple[str, int]], excused: Container[str]
) -> float:
    """Alerts per 1,000 entity-days of training held out from the model that judged them: the days
    beyond ``threshold`` of those that spent the budget (``spending_days``)."""
    spending = spending_days([entity for entity, _ in entity_days], excused)
    return round(float((maxima[spending] > threshold).mean()) * 1000, 3)


def habitual_entities(days: Sequence[tuple[Vector, Sequence[tuple[str, int]]]], threshold: float) -> dict[str, float]:
    """The entities that crossed ``threshold`` on at least ``HABIT_MIN_DAYS`` of their training days,
    each with its highest score: the ``MAX_HABITUAL`` with the most such days. ``days``: per model,
    each entity-day's cross-fitted highest score on the stage's scale, and its (entity, UTC day); a
    day judged by both models (a browser's episodes and a script's) counts once. Cross-fitted,
    an entity is judged by a profile without its own episodes, as a new entity doing the same would
    be: its level is what the same behaviour scores when new, above what the fitted model gives it."""
    days_over: dict[str, set[int]] = {}
    level: dict[str, float] = {}
    for scores, entity_days in days:
        for (entity, day), score in zip(entity_days, scores.tolist(), strict=True):
            if score > threshold:
                days_over.setdefault(entity, set()).add(day)
                level[entity] = max(level.get(entity, 0.0), score)
    habitual = [(len(over), entity) for entity, over in days_over.items() if len(over) >= HABIT_MIN_DAYS]
    return {entity: round(level[entity], 3) for _, entity in sorted(habitual, reverse=True)[:MAX_HABITUAL]}


def highest_scores(
    days: Sequence[tuple[Vector, Sequence[tuple[str, int]]]], entities: Container[str]
) -> dict[str, float]:
    """Each of ``entities``' highest score over ``days`` (``habitual_entities``' form)."""
    highest: dict[str, float] = {}
    for scores, entity_days in days:
        for (entity, _), score in zip(entity_days, scores.tolist(), strict=True):
            if entity in entities:
                highest[entity] = max(highest.get(entity, -math.inf), score)
    return {entity: round(score, 3) for entity, score in highest.items()}


_EPISODE_LENGTH = [ENTITY_FEATURE_NAMES.index("log_pages"), ENTITY_FEATURE_NAMES.index("log_duration")]


def routine_clients(snapshots: Snapshots, excluded: Container[str] = ()) -> dict[str, list[float]]:
    """The machine clients (``machine_clients``, over all their training) seen on at least
    ``HABIT_MIN_DAYS`` days, but for the ``excluded``, each with its own row
    (``EntityModel.as_routine``): its episodes' counts added up and shrunk as one episode's, with the
    length and duration of its longest episode. The ``MAX_ROUTINE`` seen on the most days, then with
    the most pages, are kept."""
    episodes = np.flatnonzero(snapshots.last)
    entity_of_row = np.asarray(snapshots.entity_of, dtype=object)[snapshots.entity_day[episodes]]
    days: dict[str, set[int]] = {}
    totals: dict[str, np.ndarray[Any, np.dtype[np.float64]]] = {}
    longest: dict[str, np.ndarray[Any, np.dtype[np.float64]]] = {}
    for entity, day in snapshots.entity_days_named:
        days.setdefault(entity, set()).add(day)
    lengths = snapshots.rows[episodes][:, _EPISODE_LENGTH]
    for entity, counts, length in zip(entity_of_row.tolist(), snapshots.counts[episodes], lengths, strict=True):
        total = totals.get(entity)
        totals[entity] = counts.copy() if total is None else total + counts
        longest[entity] = length if entity not in longest else np.maximum(longest[entity], length)
    recurring = [
        entity
        for entity, seen in days.items()
        if len(seen) >= HABIT_MIN_DAYS and entity in totals and entity not in excluded
    ]
    if not recurring:
        return {}
    pooled = np.stack([totals[entity] for entity in recurring])
    machines = machine_clients(pooled)
    kept = sorted(
        (entity for entity, machine in zip(recurring, machines.tolist(), strict=True) if machine),
        key=lambda entity: (-len(days[entity]), -float(totals[entity][0]), entity),
    )[:MAX_ROUTINE]
    if not kept:
        return {}
    rows = evidence_rows(np.stack([totals[entity] for entity in kept]), snapshots.priors)
    rows[:, _EPISODE_LENGTH] = np.stack([longest[entity] for entity in kept])
    return {entity: np.round(row, 4).tolist() for entity, row in zip(kept, rows, strict=True)}


def train_entity_model(
    events: Sequence[Any],
    times: Sequence[float],
    kind: str,
    sample: OutOfSample,
    alert_budget: float,
    vocabulary: ResourceVocabulary | None = None,
    min_daily_alerts: float = DEFAULT_MIN_DAILY_ALERTS,
    user_share: float = 1.0,
) -> tuple[EntityModel, dict[str, Any]] | None:
    """The entity model for ``kind`` and its metadata; None when the events carry no such entity.
    The threshold is calibrated to ``alert_share`` of the training's entity-days: the budget, or
    ``min_daily_alerts`` a day on a site too small for the budget to allow one. ``user_share``: the
    share of the site's users the events were sampled from (``model.sampling``), so that a large
    site trained on a sample is not taken for a small one."""
    if not 0.0 < alert_budget < 1000.0:
        raise ValueError(f"alert_budget: must be within (0, 1000) alerts per 1,000 entities a day, got {alert_budget}")
    snapshots = episode_snapshots(events, times, kind, sample, vocabulary)
    if snapshots is None:
        return None
    if snapshots.episodes < MIN_TRAINING_EPISODES:
        raise TrainingDataError(
            f"{snapshots.episodes} {kind} episodes are too few to fit the entity stage (need {MIN_TRAINING_EPISODES})"
        )
    entities_per_day = snapshots.entity_days / max(snapshots.days, 1) / user_share
    rate = alert_share(alert_budget, entities_per_day, min_daily_alerts)
    everyone = snapshots
    fit = _fitted_by_client_class(snapshots, rate, alert_budget)
    habitual = habitual_entities(fit.days, fit.model.threshold)
    excused: dict[str, float] = {}  # the entities whose days the thresholds were set without
    if habitual:
        # Judged against their own level, habitual entities spend none of the budget: the thresholds
        # are set again for the others' days. Left in, a partner's hourly export (7 days of 1,057
        # machine clients', each crossing) spent the machine clients' whole budget and set their
        # threshold at 63, where a new client running the same export scored 50. The levels are read
        # again on the new scale (the machine clients' scores are put on the stage's by the ratio of
        # the thresholds), and whoever now crosses on HABIT_MIN_DAYS days is habitual too.
        excused = habitual
        fit = _fitted_by_client_class(snapshots, rate, alert_budget, excused=excused)
        crossing = habitual_entities(fit.days, fit.model.threshold)
        kept = [*habitual, *(entity for entity in crossing if entity not in habitual)][:MAX_HABITUAL]
        habitual = highest_scores(fit.days, set(kept))
    model, maxima, snapshots, machine_metadata = fit.model, fit.maxima, fit.snapshots, fit.machine_metadata
    model.habitual = habitual
    # A habitual entity's level was scored with its own writes and agent as evidence: read as its
    # routine too, it would alert only beyond that level with the evidence taken away, twice excused.
    routine = routine_clients(everyone, excluded=model.habitual)
    model.routine = {entity: np.asarray(row) for entity, row in routine.items()}
    # Each rule's share of the alert share: the sum's all of it when the largest-term rule is off.
    term_rule_share = rate * TERM_RULE_SHARE if model.term_threshold is not None else None
    sum_share = rate - (term_rule_share or 0.0)
    metadata = {
        "kind": kind,
        "episodes": snapshots.episodes,
        "entity_days": snapshots.entity_days,
        "snapshots_fitted": int(snapshots.for_fitting.sum()),
        "threshold": model.threshold,
        "term_threshold": model.term_threshold,
        "alert_budget": alert_budget,
        "min_daily_alerts": min_daily_alerts,
        "entities_per_day": round(entities_per_day, 1),
        "calibration": {
            "alert_share": rate,
            "sum_share": sum_share,
            "largest_term_share": term_rule_share,
            "method": fit.calibration.method,
            # Between which shares of entity-days like training's the sum's threshold lies beyond
            # (the SHARE_RANGE_LEVEL range, ``tail_calibration``): aimed at sum_share; and the
            # largest-term rule's, aimed at largest_term_share, where the model uses it.
            "share_range": list(fit.calibration.share_range),
            "largest_term_share_range": (
                list(fit.term_calibration.share_range) if fit.term_calibration is not None else None
            ),
            "cross_fitted_alerts_per_1000_entities_per_day": cross_fitted_alerts(
                maxima, model.threshold, snapshots.entity_days_named, excused
            ),
            "entity_day_score_quantiles": {
                f"q{quantile:g}": float(np.quantile(maxima, quantile)) for quantile in (0.5, 0.9, 0.99)
            },
        },
        # The model that judges machine clients (EntityModel.machines), where training held any;
        # the figures above are then the other episodes' and their model's.
        "machine_clients": machine_metadata,
        # Entities that crossed on HABIT_MIN_DAYS days of training: alerted only beyond their own level.
        "habitual_entities": len(model.habitual),
        # Machine clients seen on HABIT_MIN_DAYS days: what they do is judged against their own training.
        "routine_clients": len(model.routine),
    }
    return model, metadata
