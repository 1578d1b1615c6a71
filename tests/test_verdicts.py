"""Analysts' verdicts in training: a pattern judged benign for an entity is not alerted on again."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from console.labels import AlertKey, Verdict
from console.verdicts import write_training_verdicts
from model.artifact import export_feature_config, load_model
from model.backtest import Replay
from model.features import event_time
from model.train import TrainedModel, save, train
from model.verdicts import (
    BENIGN,
    MAX_SUPPRESSIONS,
    TRUE_POSITIVE,
    JudgedAlert,
    Suppressions,
    VerdictsError,
    learn_suppressions,
    read_verdicts,
    reason_feature,
)
from scorer.model_config import load_feature_config
from tests.model_factories import START, normal_traffic, scraper_session


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train(normal_traffic(users=120, days=10))


def scraped(trained: TrainedModel, folder: Path, user: str = "scraper-1") -> Replay:
    """The backtest's replay of a day of people with a scraper among them, through ``trained``."""
    people = [
        item
        for item in normal_traffic(users=30, days=11, seed=42)
        if event_time(item) >= (START + timedelta(days=10)).timestamp()
    ]
    scraper = scraper_session(START + timedelta(days=10, hours=12), requests=90, user=user)
    replay = Replay(load_model(save(trained, folder)), "user")
    replay.run(((event_time(item), item) for item in sorted(people + scraper, key=event_time)), 100)
    return replay


def judged(
    alert_reasons: tuple[str, ...], verdict: str, entity: str = "scraper-1", at: str = "2026-11-12T12:00:00Z"
) -> JudgedAlert:
    return JudgedAlert("user", entity, verdict, alert_reasons, at)


def test_the_feature_of_each_reason_the_entity_stage_writes_is_read_back(trained: TrainedModel, tmp_path: Path) -> None:
    replay = scraped(trained, tmp_path)
    reasons = [reason for alert in replay.alerts for reason in alert.reasons]
    assert reasons
    for reason in reasons:
        feature = reason_feature(reason)
        assert feature is not None
        assert f"({feature} " in reason
    assert reason_feature("a reason in words that names no feature") is None


def test_a_benign_verdict_suppresses_that_entitys_pattern_and_nothing_else(
    trained: TrainedModel, tmp_path: Path
) -> None:
    # GIVEN the scraper's alert, judged benign by an analyst (it is the company's own crawler)
    first = scraped(trained, tmp_path / "first")
    (alert,) = [alert for alert in first.alerts if alert.entity == "scraper-1"]
    retrained = train(normal_traffic(users=120, days=10), verdicts=[judged(alert.reasons, BENIGN)])
    # WHEN the same traffic is replayed through the model trained with the verdict, and a second
    # scraper with the same pattern appears
    again = scraped(retrained, tmp_path / "again")
    other = scraped(retrained, tmp_path / "other", user="scraper-2")
    # THEN the judged pattern of that entity is suppressed, counted, and nobody else's is
    assert [alert.entity for alert in again.alerts if alert.entity == "scraper-1"] == []
    assert again.suppressed_alerts == 1
    assert [alert.entity for alert in other.alerts if alert.entity == "scraper-2"] == ["scraper-2"]
    # AND the model's metadata keeps the counts and the pattern
    verdicts = retrained.metadata["verdicts"]
    assert (verdicts["benign"], verdicts["true_positive"], verdicts["suppressed_patterns"]) == (1, 0, 1)
    assert verdicts["suppressions"] == [["user", "scraper-1", reason_feature(alert.reasons[0])]]


def test_a_confirmed_attack_is_left_out_of_retraining(tmp_path: Path) -> None:
    # GIVEN ten days of people, among them scrapers on five days that alerted, each alert judged a
    # true positive (users), and a benign verdict on a person (who stays in training)
    people = normal_traffic(users=120, days=10)
    scrapers = [
        item
        for day in range(1, 10, 2)
        for item in scraper_session(START + timedelta(days=day, hours=12), requests=90, user=f"scraper-day-{day}")
    ]
    reasons = ("pages in quick succession (page_gap_mean 1.10, usually 3.20)",)
    verdicts = [judged(reasons, TRUE_POSITIVE, f"scraper-day-{day}") for day in range(1, 10, 2)]
    verdicts.append(judged(reasons, BENIGN, "user-0003"))
    # WHEN the model is retrained with the verdicts, and without them
    retrained = train(people + scrapers, verdicts=verdicts)
    learned_as_normal = train(people + scrapers)
    # THEN the confirmed users' events were left out, counted, and nobody else's
    assert retrained.metadata["events"]["total"] == len(people)
    assert learned_as_normal.metadata["events"]["total"] == len(people) + len(scrapers)
    assert retrained.metadata["verdicts"]["left_out_events"] == len(scrapers)
    # AND the next scraper stands out further from a model that did not learn them as normal
    peaks = [
        scraped(model, tmp_path / name).entities["scraper-1"].peak_score
        for name, model in (("retrained", retrained), ("learned", learned_as_normal))
    ]
    assert peaks[0] > peaks[1]


def test_the_newest_verdict_on_a_pattern_wins_and_the_suppressions_are_bounded() -> None:
    reasons = ("pages in quick succession (page_gap_mean 1.10, usually 3.20)",)
    flipped = [
        judged(reasons, BENIGN, at="2026-11-01T00:00:00Z"),
        judged(reasons, TRUE_POSITIVE, at="2026-11-02T00:00:00Z"),
    ]
    suppressions, metadata = learn_suppressions(flipped)
    assert len(suppressions) == 0
    assert (metadata["benign"], metadata["true_positive"]) == (1, 1)
    many = [
        judged(reasons, BENIGN, entity=f"user-{number}", at=f"2026-11-01T00:00:{number % 60:02d}.{number:06d}Z")
        for number in range(MAX_SUPPRESSIONS + 3)
    ]
    suppressions, metadata = learn_suppressions(many)
    assert len(suppressions) == MAX_SUPPRESSIONS
    assert metadata["suppressions_dropped"] == 3


def test_verdicts_travel_from_the_console_to_the_scorer(trained: TrainedModel, tmp_path: Path) -> None:
    # GIVEN two verdicts as the console stores them, exported for training
    reason = "many pages new to this entity (new_path_mean 0.90, usually 0.20)"
    stored = [
        Verdict(
            AlertKey("crawler", 1),
            BENIGN,
            "our crawler",
            "ana",
            "2026-11-12T13:00:00Z",
            "user",
            "crawler",
            (reason,),
            2.0,
            "2026-11-12T12:00:00Z",
        ),
        Verdict(
            AlertKey("session:s-1", 2),
            TRUE_POSITIVE,
            "",
            "ana",
            "2026-11-12T13:00:00Z",
            "session",
            "s-1",
            (reason,),
            3.0,
            "2026-11-12T12:30:00Z",
        ),
    ]
    out = io.StringIO()
    assert write_training_verdicts(stored, out) == 2
    path = tmp_path / "verdicts.jsonl"
    path.write_text(out.getvalue())
    # WHEN a model is trained with them and the scorer's configuration exported from it
    model = train(normal_traffic(users=120, days=10), verdicts=read_verdicts(path))
    folder = save(model, tmp_path / "model")
    config = load_feature_config(export_feature_config(folder, tmp_path / "feature_config.json"))
    # THEN the scorer suppresses the benign pattern of that entity only
    assert config.suppressions == Suppressions(frozenset({("user", "crawler", "new_path_mean")}))
    assert config.suppressions.suppresses("user", "crawler", (reason,))
    assert not config.suppressions.suppresses("session", "s-1", (reason,))
    assert load_model(folder).suppressions == config.suppressions


def test_a_malformed_verdicts_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "verdicts.jsonl"
    good = {"kind": "user", "entity": "u", "verdict": BENIGN, "reasons": [], "last_event_at": ""}
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "verdict": "maybe"}) + "\n")
    with pytest.raises(VerdictsError, match=r"verdicts.jsonl:2: verdict must be"):
        read_verdicts(path)
    path.write_text("not json\n")
    with pytest.raises(VerdictsError, match=r"verdicts.jsonl:1: not a verdict"):
        read_verdicts(path)
