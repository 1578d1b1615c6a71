"""The service-wide failed-login wave: credential stuffing that no single account or address shows."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from scipy.stats import binom

from model.entities import EVIDENCE_COLUMNS, EntityAlert, Evidence
from model.exceptions import InvalidStateError
from model.features import event_time
from model.login_waves import (
    MAX_NAMED_ACCOUNTS,
    MIN_EXCESS_FAILURES,
    SURPRISE_FLOOR,
    TRAINING_MARGIN,
    WAVE_ENTITY,
    WAVE_KIND,
    LoginWaveModel,
    LoginWaveWatch,
    LoginWindow,
    failed_logins_only,
    fold_into_wave,
    folded_into_wave,
    login_wave_model_of,
    surprise,
    train_login_wave_model,
)
from tests.model_factories import START, event


def logins(start: datetime, minutes: int, per_minute: int, failure_share: float, seed: int = 3) -> list[dict[str, Any]]:
    """Customers' logins: ``per_minute`` a minute, each failing with ``failure_share``."""
    rng = random.Random(seed)
    events = []
    for minute in range(minutes):
        for _number in range(per_minute):
            moment = start + timedelta(minutes=minute, seconds=rng.uniform(0, 59))
            user = f"user-{rng.randrange(5_000)}"
            failed = rng.random() < failure_share
            events.append(event(moment, user, "login_failed" if failed else "login_succeeded", resource="/login"))
    return sorted(events, key=event_time)


def stuffing(start: datetime, attempts: int, per_second: float, successes: int = 2) -> list[dict[str, Any]]:
    """One attempt per account, nearly all failing; the first ``successes`` get in."""
    return [
        event(
            start + timedelta(seconds=number / per_second),
            f"victim-{number}",
            "login_succeeded" if number < successes else "login_failed",
            resource="/login",
            ip=f"100.64.{number // 250}.{number % 250}",
        )
        for number in range(attempts)
    ]


def watch(model: LoginWaveModel, events: list[dict[str, Any]], window: LoginWindow | None = None) -> list[Any]:
    """Feed ``events`` to a watch in batches of 100, as the scorer does; every alert raised."""
    window = window if window is not None else LoginWindow()
    watcher = LoginWaveWatch(model)
    alerts = []
    for start in range(0, len(events), 100):
        chunk = events[start : start + 100]
        alerts += watcher.observe(window, chunk, [event_time(item) for item in chunk])
    return alerts


def test_surprise_is_the_binomial_log_likelihood_ratio_and_zero_at_or_below_the_usual_share() -> None:
    for attempts, failures, usual in ((40, 30, 0.05), (1_000, 130, 0.1), (7, 7, 0.01)):
        expected = binom.logpmf(failures, attempts, failures / attempts) - binom.logpmf(failures, attempts, usual)
        assert surprise(attempts, failures, usual) == pytest.approx(expected, rel=1e-9)
    assert surprise(100, 5, 0.05) == 0.0
    assert surprise(100, 2, 0.05) == 0.0
    assert surprise(0, 0, 0.05) == 0.0


def test_training_learns_the_usual_share_and_sets_the_threshold_above_its_own_swings() -> None:
    # GIVEN two days of customers' logins whose failure share swings between 5 % and 20 %
    quiet = logins(START, minutes=120, per_minute=100, failure_share=0.05)
    busy = logins(START + timedelta(days=1), minutes=120, per_minute=100, failure_share=0.2, seed=4)
    events = quiet + busy
    # WHEN the wave model is trained on them
    model, metadata = train_login_wave_model(events, [event_time(item) for item in events])
    # THEN the usual share is the overall one, and the threshold clears the busiest window by the margin
    assert model is not None
    assert model.usual_share == pytest.approx((metadata["failures"] + 1) / (metadata["attempts"] + 2))
    assert metadata["attempts"] == len(events)
    assert metadata["training_max_surprise"] > SURPRISE_FLOOR / TRAINING_MARGIN
    assert model.threshold == pytest.approx(TRAINING_MARGIN * metadata["training_max_surprise"], rel=1e-3)
    # AND the training traffic itself raises no alert
    assert watch(model, events) == []


def test_traffic_without_logins_trains_no_wave_model_and_says_why() -> None:
    pages = [event(START + timedelta(seconds=number), "someone", "page_view", resource="/") for number in range(50)]
    model, metadata = train_login_wave_model(pages, [event_time(item) for item in pages])
    assert model is None
    assert "no login_succeeded or login_failed" in metadata["skipped"]
    assert login_wave_model_of({"login_waves": metadata}) is None


def test_stuffing_spread_over_accounts_and_addresses_alerts_once_naming_the_accounts_that_got_in() -> None:
    # GIVEN a model of a service whose logins fail 6 % of the time
    model = LoginWaveModel(usual_share=0.06, threshold=SURPRISE_FLOOR)
    before = logins(START, minutes=60, per_minute=2, failure_share=0.06)
    # WHEN 300 accounts are tried once each from 300 addresses over five minutes, two of them successfully
    attack = stuffing(START + timedelta(minutes=60), attempts=300, per_second=1.0)
    alerts = watch(model, sorted(before + attack, key=event_time))
    # THEN the service alerts once, while the wave is under way, with its figures and the two accounts
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.kind, alert.entity, alert.episode) == (WAVE_KIND, WAVE_ENTITY, 1)
    assert event_time(attack[0]) < alert.last_event_at < event_time(attack[-1])
    assert alert.score >= model.threshold
    in_window = [item for item in before + attack if _in_window(item, alert)]
    failed = sum(1 for item in in_window if item["event_type"] == "login_failed")
    assert alert.reasons[0].startswith(f"{failed} failed logins of {len(in_window)} in 10 min")
    assert "victim-0" in alert.reasons[1]
    assert "victim-1" in alert.reasons[1]


def _in_window(item: dict[str, Any], alert: Any) -> bool:
    """Whether a login is in the alert's window: its minute and the nine before it, up to the alert."""
    moment = event_time(item)
    return (alert.last_event_at // 60 - 9) * 60 <= moment <= alert.last_event_at


def test_a_few_failures_at_a_quiet_hour_are_not_a_wave_however_high_their_share() -> None:
    # GIVEN a quiet service where one person mistypes a password a few times in a row
    model = LoginWaveModel(usual_share=0.02, threshold=SURPRISE_FLOOR)
    typos = [
        event(START + timedelta(seconds=20 * number), "user-1", "login_failed", resource="/login")
        for number in range(MIN_EXCESS_FAILURES - 1)
    ]
    # THEN nothing alerts, though the share is 100 % and the surprise is far beyond the threshold
    assert surprise(len(typos), len(typos), model.usual_share) > model.threshold
    assert watch(model, typos) == []


def test_a_wave_ends_when_the_share_falls_back_and_the_next_one_alerts_again() -> None:
    model = LoginWaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR)
    first = stuffing(START, attempts=120, per_second=1.0, successes=0)
    calm = logins(START + timedelta(minutes=3), minutes=30, per_minute=3, failure_share=0.05)
    second = stuffing(START + timedelta(minutes=40), attempts=120, per_second=1.0, successes=0)
    alerts = watch(model, sorted(first + calm + second, key=event_time))
    assert [alert.episode for alert in alerts] == [1, 2]


def episode(*requests: tuple[str, bool]) -> Evidence:
    """An entity's episode of ``(kind, failed)`` requests a second apart: ``page`` or ``asset``."""
    evidence = Evidence()
    failure = EVIDENCE_COLUMNS.index("failure")
    for second, (kind, failed) in enumerate(requests):
        values = [0.0] * len(EVIDENCE_COLUMNS)
        values[failure] = 1.0 if failed else 0.0
        evidence.observe(1_000.0 + second, values, 0.0, False, kind == "asset")
    return evidence


def test_an_entity_alert_is_folded_into_the_wave_under_way_only_if_its_every_request_failed() -> None:
    # (a window whose last logins were in the minute of the alert, 1,000 s)
    in_wave = LoginWindow({16: [30, 29]}, waves=1, in_wave=True)
    calm = LoginWindow({16: [30, 1]}, waves=1)
    tried = episode(("page", True))
    alert = EntityAlert("victim-9", "user", 9.0, 1.0, tried.episode, 1_000.0, 1_000.0, 1, ("1 failed login",))
    logins = {"victim-9"}  # its requests in the batch are failed logins
    # An account tried once by the stuffing, while the wave is under way: the wave covers it
    assert folded_into_wave(in_wave, alert, tried, logins)
    # Not when the logins are calm, nor without a window (no wave model, or none stored yet), nor
    # once the wave's last login is more than a window behind (no login has ended it since)
    assert not folded_into_wave(calm, alert, tried, logins)
    assert not folded_into_wave(None, alert, tried, logins)
    assert not folded_into_wave(in_wave, replace(alert, last_event_at=1_000.0 + 11 * 60), tried, logins)
    # Not an account that got in, nor a browser that fetched a page's assets, nor a later episode,
    # nor failures that are not failed logins (a scan of 404s)
    assert not folded_into_wave(in_wave, alert, episode(("page", True), ("page", False)), logins)
    assert not folded_into_wave(in_wave, alert, episode(("page", True), ("asset", True)), logins)
    later = episode(("page", True))
    later.episode += 1
    assert not folded_into_wave(in_wave, alert, later, logins)
    assert not folded_into_wave(in_wave, alert, tried, set())
    scan = [event(START, "u-2", "page_view", status=404), event(START, "u-3", "login_failed", status=401)]
    assert failed_logins_only(["u-2", "u-3"], scan) == {"u-3"}
    # AND a folded episode is left open, so that what it does next can still alert on its own
    tried.alerted = True
    other = EntityAlert("u-1", "user", 9.0, 1.0, 1, 1_000.0, 1_000.0, 1, ())
    evidence = {"victim-9": tried, "u-1": episode(("page", False))}
    assert fold_into_wave(in_wave, [alert, other], evidence, logins) == ([other], [alert])
    assert not tried.alerted


def test_the_window_round_trips_and_stays_bounded() -> None:
    # GIVEN a window that has counted a long stuffing run with many successes
    window = LoginWindow()
    model = LoginWaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR)
    watch(model, stuffing(START, attempts=900, per_second=1.0, successes=800), window)
    # THEN it keeps ten one-minute buckets and the last few successful accounts, and reads back the same
    assert len(window.buckets) == 10
    assert len(window.successes) == MAX_NAMED_ACCOUNTS
    assert LoginWindow.from_bytes(window.to_bytes()) == window
    assert len(window.to_bytes()) < 1_024


def test_an_unreadable_window_or_model_is_refused_with_a_named_error() -> None:
    with pytest.raises(InvalidStateError, match="login window"):
        LoginWindow.from_bytes(b'{"b": "nonsense"}')
    with pytest.raises(InvalidStateError, match="login wave model"):
        LoginWaveModel.from_json({"usual_share": 2.0, "threshold": 12.0})


def test_the_backtest_counts_the_accounts_a_wave_tried_as_alerted_by_it_as_the_scorer_does(tmp_path) -> None:
    from model.artifact import load_model
    from model.backtest import Replay, summarize
    from model.train import save, train
    from tests.model_factories import normal_traffic

    # GIVEN a model with a wave model, and a day of new people among whom 240 new accounts are tried
    # once each over four minutes, as the scorer's test has them (each an entity alert on its own)
    loaded = load_model(save(train(normal_traffic(users=120, days=10)), tmp_path / "model"))
    loaded = replace(loaded, login_waves=LoginWaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR))
    day = (START + timedelta(days=10)).timestamp()
    people = [
        {**item, "user_id": "new-" + item["user_id"], "session_id": "new-" + str(item["session_id"])}
        for item in normal_traffic(users=30, days=11, seed=42)
        if event_time(item) >= day
    ]
    attack = [
        {**item, "session_id": f"attempt-{index}", "status": 200 if index < 2 else 401}
        for index, item in enumerate(stuffing(START + timedelta(days=10, hours=15), 240, 1.0))
    ]
    labels = {item["user_id"]: "credential_stuffing" for item in attack}
    # WHEN the backtest replays it in the scorer's batches
    replay = Replay(loaded, "user", labels=labels)
    replay.run(((event_time(item), item) for item in sorted(people + attack, key=event_time)), 50)
    # THEN one wave alert; the accounts tried after the batch that raised it are folded into it, not sent
    assert len(replay.wave_alerts) == 1
    sent = [alert for alert in replay.alerts if alert.entity.startswith("victim-")]
    assert replay.folded_alerts > len(sent) > 0
    crossed = replay.wave_alerts[0][0].last_event_at
    assert all(alert.first_event_at <= crossed + 60 for alert in sent)  # within the batch that crossed
    # AND they count as alerted by the wave: the summary's recall is that of every alert, sent or folded
    summary = summarize(replay)
    assert summary["folded_into_waves"] == replay.folded_alerts
    victims = [record for name, record in replay.entities.items() if name.startswith("victim-")]
    assert sum(record.folded for record in victims) == replay.folded_alerts
    alerted = sum(1 for record in victims if record.alerted)
    assert summary["per_label"]["credential_stuffing"]["alerted"] == alerted > len(sent)
