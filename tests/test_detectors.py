"""Detectors behind one interface; threshold calibration; the ranking metrics used by evaluation."""

from __future__ import annotations

import copy
import itertools
import math
import pickle
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from model.detectors import (
    DETECTORS,
    ECODDetector,
    average_precision,
    calibrate_threshold,
    make_detector,
    roc_auc,
    top_features,
)
from model.exceptions import DetectorNotFittedError, TrainingDataError
from model.features import COUNTED_ONCE, featurize_batch
from model.tails import ECOD_DIRECTIONS
from model.train import train
from tests.model_factories import START, event


def gaussian_rows(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(count, 4))
    rows[:, 3] = (rng.random(count) < 0.05).astype(float)  # a rare binary flag
    return rows


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_detector_scores_outliers_higher_and_explains_them(name: str) -> None:
    # GIVEN a detector fitted on ordinary rows
    detector = make_detector(name).fit(gaussian_rows(2_000))
    ordinary = gaussian_rows(200, seed=1)
    outlier = np.array([[9.0, 12.0, 9.0, 1.0]])
    # WHEN scoring
    scores = detector.score(np.vstack([ordinary, outlier]))
    # THEN the outlier outranks every ordinary row, and its top feature is the one furthest off
    assert scores[-1] > scores[:-1].max()
    explanation = top_features(detector.contributions(outlier), ("a", "b", "c", "flag"), 2, detector.distances(outlier))
    assert explanation[0][0][0] == "b"
    # AND a pickled copy (as in the artifact) scores identically
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(detector)).score(ordinary), scores[:-1])


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_detector_refuses_misuse(name: str) -> None:
    with pytest.raises(DetectorNotFittedError):
        make_detector(name).score(gaussian_rows(5))
    with pytest.raises(TrainingDataError, match="at least"):
        make_detector(name).fit(gaussian_rows(3))
    fitted = make_detector(name).fit(gaussian_rows(100))
    with pytest.raises(ValueError, match="3 features, the detector was fitted on 4"):
        fitted.score(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        fitted.score(np.full((1, 4), np.nan))


def test_threshold_flags_the_target_share() -> None:
    scores = np.random.default_rng(3).exponential(size=100_000)
    threshold = calibrate_threshold(scores, 0.01)
    assert (scores > threshold).mean() == pytest.approx(0.01, abs=0.001)
    with pytest.raises(ValueError, match="alert_rate"):
        calibrate_threshold(scores, 1.5)


def test_one_user_does_not_set_the_threshold_it_fills_the_tail_of() -> None:
    # GIVEN 20,000 calibration scores of 2,000 people, ten requests each, and a bot's 600 requests,
    # every one scoring above any person's
    rng = np.random.default_rng(5)
    people = rng.exponential(size=20_000)
    scores = np.concatenate([people, people.max() + 1.0 + rng.exponential(size=600)])
    owners = [f"person-{index // 10}" for index in range(20_000)] + ["bot"] * 600
    # WHEN the threshold is calibrated for 1 %, knowing each score's user, and not knowing them
    by_user = calibrate_threshold(scores, 0.01, owners)
    plain = calibrate_threshold(scores, 0.01)
    # THEN knowing them, the bot fills a twentieth of the tail and the people the rest: the people's
    # unusual requests are flagged near the rate, and every one of the bot's as well
    assert (people > by_user).mean() == pytest.approx(0.0095, abs=0.001)
    assert (scores[20_000:] > by_user).all()
    # AND not knowing them, the bot filled the tail alone: no person's request was flagged
    assert (people > plain).mean() == 0.0
    # AND where the users are too few to fill the tail a few events each (one user's 1,000 requests),
    # the plain quantile
    alone = rng.exponential(size=1_000)
    assert calibrate_threshold(alone, 0.01, ["a"] * 1_000) == calibrate_threshold(alone, 0.01)


def test_ranking_metrics_rank_anomalous_above_normal_with_ties_counting_half() -> None:
    # GIVEN normal scores 0 and 1, anomalous scores 1 and 2 (one tie across the classes)
    normal, anomalous = np.array([0.0, 1.0]), np.array([1.0, 2.0])
    # THEN ROC-AUC counts the pairs an anomalous row wins (3) and the tie as half, of 4 pairs
    assert roc_auc(normal, anomalous) == pytest.approx(3.5 / 4)
    # AND average precision steps at each distinct score: recall 1/2 at precision 1, then 1 at 2/3
    assert average_precision(normal, anomalous) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    # AND swapping the classes is not the same question
    assert roc_auc(anomalous, normal) == pytest.approx(0.5 / 4)


def test_first_events_are_judged_against_other_first_events() -> None:
    # GIVEN training rows where one in fifty is an entity's first event, shaped unlike the rest
    rng = np.random.default_rng(4)
    rows = rng.normal(0.0, 1.0, size=(5_000, 3))
    first = np.arange(5_000) % 50 == 0
    rows[first, 0] = 1.0  # the cohort column
    rows[~first, 0] = 0.0
    rows[first, 1] += 6.0  # a first event has, say, no gap since a previous one
    ordinary_first = np.array([[1.0, 6.0, 0.0]])
    plain = ECODDetector().fit(rows)
    cohorts = ECODDetector(cohort_column=0).fit(rows)
    # THEN against everyone a typical first event is an outlier; against its cohort it is not
    assert plain.score(ordinary_first)[0] > np.quantile(plain.score(rows[~first]), 0.99)
    assert cohorts.score(ordinary_first)[0] < np.quantile(cohorts.score(rows[first]), 0.9)
    # AND other rows score as without cohorts, and contributions follow the same profiles
    later = rows[~first][:100]
    assert cohorts.score(later).tolist() == plain.score(later).tolist()
    assert cohorts.contributions(ordinary_first).max() < plain.contributions(ordinary_first).max()


def test_ecod_counts_a_row_unusual_in_both_directions_in_full() -> None:
    # GIVEN ordinary rows of five independent right-skewed features (rates, pauses), and two
    # suspects: one far out (1 in 3,000) in one feature, one unusual (1 in 500) in two, one high (a
    # rate too high) and one low (a pause too short): about 1 in 250,000 together
    rows = np.exp(np.random.default_rng(5).normal(size=(20_000, 5)))
    suspects = np.exp(np.array([[3.4, 0.0, 0.0, 0.0, 0.0], [2.9, -2.9, 0.0, 0.0, 0.0]]))
    further = ECODDetector().fit(rows)
    directions = ECODDetector(aggregation=ECOD_DIRECTIONS).fit(rows)
    # THEN each feature's further tail, softly truncated and summed, ranks the second suspect higher
    one_way, both_ways = further.score(suspects)
    assert both_ways > one_way + 1.5
    # AND ECOD's largest direction sum sees half of the second one, and ranks it lower
    one_way, both_ways = directions.score(suspects)
    assert both_ways < one_way - 1.0
    # AND another aggregation is refused by name
    with pytest.raises(ValueError, match="aggregation: 'mean'"):
        ECODDetector(aggregation="mean")


def test_ecod_score_is_each_further_tail_softly_truncated_at_two() -> None:
    # GIVEN ten training rows: a feature 0..9 and a constant one
    detector = ECODDetector().fit(np.column_stack([np.arange(10.0), np.zeros(10)]))
    # WHEN a row beyond every training value of the first (right tail 1/11) and ordinary in the second
    (score,) = detector.score(np.array([[9.5, 0.0]]))
    # THEN each term, log(1 + exp(term - 2)), is added: ln 11 for the first, 0 for the second
    assert score == pytest.approx(math.log1p(math.exp(math.log(11.0) - 2.0)) + math.log1p(math.exp(-2.0)))


def test_columns_that_read_one_thing_count_once() -> None:
    # GIVEN training rows whose first three columns read one thing (an address's crowd: its users,
    # its new users, its rate) and whose last two are independent of it and of each other
    rng = np.random.default_rng(6)
    crowd = rng.normal(size=20_000)
    rows = np.column_stack([*(crowd + rng.normal(0, 0.1, 20_000) for _ in range(3)), rng.normal(size=(20_000, 2))])
    crowded = np.array([[3.1, 3.1, 3.1, 0.0, 0.0]])  # about 1 in 1,000: one unusual thing
    two_things = np.array([[0.0, 0.0, 0.0, 3.1, 3.1]])  # 1 in 1,000 twice: about 1 in a million
    summed = ECODDetector().fit(rows)
    grouped = ECODDetector(counted_once=[(0, 1, 2)]).fit(rows)
    # THEN summed, the crowd counts three times and outranks two independent unusual things
    assert summed.score(crowded)[0] > summed.score(two_things)[0] + 2.0
    # AND counted once, it ranks below them, by about one term
    assert grouped.score(two_things)[0] > grouped.score(crowded)[0] + 2.0
    # AND a row unusual in one column of the group scores about as it would summed
    one_column = np.array([[3.1, 0.0, 0.0, 0.0, 0.0]])
    assert grouped.score(one_column)[0] == pytest.approx(summed.score(one_column)[0], abs=0.5)
    # AND the explanation still names each column's own term
    assert grouped.contributions(crowded).tolist() == summed.contributions(crowded).tolist()


def browsing(users: int, days: int, address_of: Callable[[int], str], prefix: str, seed: int) -> list[dict[str, Any]]:
    """``users`` people a day browsing a catalogue for 5 to 30 minutes, one in twenty of their
    requests a failed login, each from ``address_of`` their number."""
    rng = random.Random(seed)
    events = []
    for day, number in itertools.product(range(days), range(users)):
        moment = START + timedelta(days=day, hours=rng.uniform(8, 16))
        leaves = moment + timedelta(minutes=rng.uniform(5, 30))
        while moment < leaves:
            failed = rng.random() < 0.05
            resource = "/login" if failed else f"/catalog/items/{rng.randrange(100)}"
            fields = {"ip": address_of(number), "resource": resource, "status": 401 if failed else 200}
            events.append(event(moment, f"{prefix}-{number}", "login_failed" if failed else "page_view", **fields))
            moment += timedelta(seconds=rng.uniform(5, 60))
    return sorted(events, key=lambda item: (item["occurred_at"], item["user_id"]))


def test_a_crowd_behind_one_new_address_is_not_flagged_for_being_one() -> None:
    # GIVEN a model trained on people browsing from their homes, two to an address
    trained = train(browsing(200, 6, lambda number: f"198.18.{number // 2}.1", "member", seed=1), alert_rate=0.01)
    assert trained.detector.counted_once == COUNTED_ONCE
    # WHEN as many new people browse alike from one new address (an office, an on-sale's crowd)
    crowd = featurize_batch(
        browsing(200, 1, lambda number: "203.0.113.200", "fan", seed=2), vocabulary=trained.vocabulary
    )
    # THEN few of their requests are flagged: the address's users, new users and rate are one crowd
    flagged = trained.detector.score(crowd.rows) > trained.threshold
    assert flagged.mean() < 0.1
    # AND counted three times, as before, the crowd alone flagged nearly every request
    summed = copy.deepcopy(trained.detector)
    summed.counted_once = ()
    assert (summed.score(crowd.rows) > trained.threshold).mean() > 0.5


def test_groups_counted_once_are_checked_when_made_and_fitted() -> None:
    for groups in ([(0, 0, 1)], [(0, 1), (1, 2)], [(0,)], [()]):
        with pytest.raises(ValueError, match="counted_once"):
            ECODDetector(counted_once=groups)
    with pytest.raises(ValueError, match="adds every column"):
        ECODDetector(aggregation=ECOD_DIRECTIONS, counted_once=[(0, 1)])
    with pytest.raises(ValueError, match="beyond the 4 fitted"):
        ECODDetector(counted_once=[(3, 4)]).fit(gaussian_rows(100))


def test_a_detector_pickled_before_the_groups_existed_counts_every_column() -> None:
    rows = gaussian_rows(2_000)
    detector = ECODDetector(counted_once=[(0, 1)]).fit(rows)
    del detector.__dict__["counted_once"]  # as an artifact written before it unpickles
    old = pickle.loads(pickle.dumps(detector))
    assert old.score(rows[:100]).tolist() == ECODDetector().fit(rows).score(rows[:100]).tolist()


def test_a_detector_pickled_before_the_aggregation_existed_scores_as_it_was_calibrated() -> None:
    rows = gaussian_rows(2_000)
    detector = ECODDetector().fit(rows)
    del detector.__dict__["aggregation"]  # as an artifact written before it unpickles
    old = pickle.loads(pickle.dumps(detector))
    expected = ECODDetector(aggregation=ECOD_DIRECTIONS).fit(rows).score(rows[:100])
    assert old.score(rows[:100]).tolist() == expected.tolist()
