"""The service-wide waves of failed logins and declined payments: credential stuffing and card testing that
no single account or address shows."""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scipy.stats import binom

from model.artifact import feature_config_document
from model.enrichment import NetworkInfo
from model.entities import EVIDENCE_COLUMNS, FORM_SECONDS, EntityAlert, Evidence
from model.exceptions import InvalidStateError
from model.features import event_time, featurize_batch
from model.features.resources import CODE_SENT_PATTERN, sends_code
from model.waves import (
    BUSY_WINDOW_ATTEMPTS,
    CODE_SURGE_KIND,
    CODES_SENT,
    LOGIN_SURGE_KIND,
    LOGIN_SURGES,
    LOGINS,
    LONG_WINDOW_MINUTES,
    MAX_FOLLOWED_ACCOUNTS,
    MAX_NAMED_ACCOUNTS,
    MIN_EXCESS_FAILURES,
    MIN_FAILED_ACCOUNTS,
    PAYMENT_SURGE_KIND,
    PAYMENT_SURGES,
    PAYMENT_WAVE_KIND,
    PAYMENTS,
    PSEUDONYM_RETRIES,
    SIGNUP_WAVE_KIND,
    SIGNUPS,
    SURPRISE_FLOOR,
    TRAINING_MARGIN,
    WAVE_ENTITY,
    WAVE_KIND,
    AttemptWindow,
    WaveModel,
    WaveView,
    WaveWatch,
    code_sent_outcome,
    failed_logins_only,
    familiar_attempts,
    fold_into_wave,
    folded_into_wave,
    login_share_outcome,
    payment_outcome,
    payment_share_outcome,
    signup_outcome,
    surprise,
    train_wave_model,
    wave_model_of,
    wave_models_of,
)
from tests.model_factories import BROWSERS, START, event, stamp


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


def watch(
    model: WaveModel, events: list[dict[str, Any]], window: AttemptWindow | None = None, follow_ups: bool = False
) -> list[Any]:
    """Feed ``events`` to a watch in batches of 100, as the scorer does; every wave's alert raised
    (``follow_ups``: the follow-ups naming the accounts that got in, instead)."""
    window = window if window is not None else AttemptWindow()
    watcher = WaveWatch(model)
    alerts = []
    for start in range(0, len(events), 100):
        chunk = events[start : start + 100]
        raised = watcher.observe_waves(window, chunk, [event_time(item) for item in chunk])
        alerts += [item.alert for item in raised if item.names_accounts == follow_ups]
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
    model, metadata = train_wave_model(events, [event_time(item) for item in events])
    # THEN the usual share is the overall one, and the threshold clears the busiest window by the margin
    assert model is not None
    assert model.usual_share == pytest.approx((metadata["failures"] + 1) / (metadata["attempts"] + 2))
    assert metadata["attempts"] == len(events)
    assert metadata["training_max_surprise"] > SURPRISE_FLOOR / TRAINING_MARGIN
    assert model.threshold == pytest.approx(TRAINING_MARGIN * metadata["training_max_surprise"], rel=1e-3)
    # AND so is the long window's, each from the busiest window of its own length
    assert metadata["training_max_long_surprise"] > metadata["training_max_surprise"]
    assert model.long_threshold == pytest.approx(TRAINING_MARGIN * metadata["training_max_long_surprise"], rel=1e-3)
    assert WaveModel.from_json(model.to_json()) == model
    # AND the training traffic itself raises no alert
    assert watch(model, events) == []


def test_a_crowd_larger_than_training_s_failing_as_often_as_its_busiest_is_not_a_wave() -> None:
    # GIVEN training logins: quiet days at 8 % failures, and an on-sale where 40 people a minute log
    # in for ten minutes and one in five fails (people in a hurry mistype, or forgot)
    quiet = logins(START, minutes=240, per_minute=3, failure_share=0.08)
    on_sale = logins(START + timedelta(days=1), minutes=10, per_minute=40, failure_share=0.2, seed=4)
    events = quiet + on_sale
    model, metadata = train_wave_model(events, [event_time(item) for item in events])
    # THEN the model holds the share its busiest windows surely reached, and how many logins they held
    assert model is not None
    assert model.busy_share == pytest.approx(metadata["training_busy_share"], abs=1e-4)
    assert 0.17 < metadata["training_busy_share"] < 0.23  # (the on-sale's 20 %, not the quiet days' 8 %)
    assert model.busiest_attempts >= 400
    assert WaveModel.from_json(model.to_json()) == model
    # WHEN a later on-sale draws five times the crowd, failing as often
    sale_day = START + timedelta(days=3)
    big_sale = logins(sale_day, minutes=10, per_minute=200, failure_share=0.2, seed=6)
    # THEN it is no wave, where the surprise alone, grown with the crowd, made one
    assert watch(model, big_sale) == []
    assert len(watch(replace(model, busy_share=None), big_sale)) == 1
    # AND stuffing during it, which drives the share beyond the busy share, is one
    stuffed = sorted(big_sale + stuffing(sale_day + timedelta(minutes=2), attempts=400, per_second=1), key=event_time)
    assert len(watch(model, stuffed)) == 1
    # AND a training without a window of BUSY_WINDOW_ATTEMPTS logins sets no busy share
    few = logins(START, minutes=20, per_minute=2, failure_share=0.08)
    small_model, small_metadata = train_wave_model(few, [event_time(item) for item in few])
    assert small_model is not None
    assert len(few) < BUSY_WINDOW_ATTEMPTS
    assert (small_model.busy_share, small_metadata["training_busy_share"]) == (None, None)


def test_stuffing_in_a_crowd_larger_than_training_s_is_a_wave_when_it_lifts_the_share() -> None:
    # GIVEN ten days of a small service's logins, two a minute, 15 % failing: its busiest windows are
    # an hour's hundred-odd logins, whose shares swing by chance
    quiet = logins(START, minutes=10 * 1440, per_minute=2, failure_share=0.15)
    model, _ = train_wave_model(quiet, [event_time(item) for item in quiet])
    assert model is not None
    # THEN the busy share is near the usual one, not the highest share chance gave a window
    assert model.busy_share is not None
    assert model.busy_share < 0.2
    # WHEN ten minutes bring 2,000 logins at the usual share and 200 stuffing attempts
    day = START + timedelta(days=11)
    crowd = logins(day, minutes=10, per_minute=200, failure_share=0.15, seed=8)
    stuffed = sorted(crowd + stuffing(day + timedelta(minutes=1), attempts=200, per_second=0.5), key=event_time)
    # THEN the wave alerts, and the crowd alone does not
    assert len(watch(model, stuffed)) == 1
    assert watch(model, crowd) == []


def test_a_model_trained_before_the_long_window_judges_the_short_one_only() -> None:
    recorded = {"usual_share": 0.05, "threshold": 20.0, "window_minutes": 10}
    model = WaveModel.from_json(recorded)
    assert model.windows() == [(10, 20.0)]
    assert model.to_json() == recorded
    # (and a window stored before it counted the accounts that failed reads, counting them afresh)
    stored = b'{"b":[[29892960,3,1]],"w":2,"a":true,"s":[[1793578499.0,"user-1"]]}'
    window = AttemptWindow({29892960: [3, 1]}, 2, True, successes=[(1793578499.0, "user-1")])
    window.clock.time = 29892960 * 60.0  # (its time, the start of its latest minute)
    window.alerted_at = window.followed_at = window.clock.time  # (its wave, followed up from then on)
    assert AttemptWindow.from_bytes(stored) == window
    assert window.wave_minutes == 10
    # (and a wave the long window raised, read by a model without one, ends with the short window)
    minute = int(START.timestamp() // 60)
    window = AttemptWindow({minute: [40, 40]}, 1, True, wave_minutes=60)
    later = event(START + timedelta(minutes=30), "user-2", "login_succeeded", resource="/login")
    assert watch(model, [later], window) == []
    assert not window.in_wave


def test_traffic_without_logins_trains_no_wave_model_and_says_why() -> None:
    pages = [event(START + timedelta(seconds=number), "someone", "page_view", resource="/") for number in range(50)]
    model, metadata = train_wave_model(pages, [event_time(item) for item in pages])
    assert model is None
    assert "no login_failed or login_succeeded events" in metadata["skipped"]
    assert wave_model_of({"login_waves": metadata}) is None


def test_stuffing_spread_over_accounts_and_addresses_alerts_once_naming_the_accounts_that_got_in() -> None:
    # GIVEN a model of a service whose logins fail 6 % of the time
    model = WaveModel(usual_share=0.06, threshold=SURPRISE_FLOOR)
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
    # GIVEN a quiet service where a few people mistype their passwords a few times each
    model = WaveModel(usual_share=0.02, threshold=SURPRISE_FLOOR, long_threshold=SURPRISE_FLOOR)
    typos = [
        event(START + timedelta(seconds=20 * number), f"user-{number % 6}", "login_failed", resource="/login")
        for number in range(MIN_EXCESS_FAILURES - 1)
    ]
    # THEN nothing alerts, though the share is 100 % and the surprise is far beyond the threshold
    assert surprise(len(typos), len(typos), model.usual_share) > model.threshold
    assert watch(model, typos) == []


def test_one_account_failing_however_often_is_not_a_wave() -> None:
    # GIVEN one person who tries forty passwords on their own account in ten minutes (or a script
    # guessing one account's password: the account's own episode shows that)
    model = WaveModel(usual_share=0.02, threshold=SURPRISE_FLOOR, long_threshold=SURPRISE_FLOOR)
    retries = [
        event(
            START + timedelta(seconds=15 * number), "user-1", "login_failed", resource="/login", ip=f"10.0.0.{number}"
        )
        for number in range(4 * MIN_EXCESS_FAILURES)
    ]
    # THEN it is no wave; the same failures on MIN_FAILED_ACCOUNTS accounts are one
    assert watch(model, retries) == []
    spread = [{**item, "user_id": f"user-{number % MIN_FAILED_ACCOUNTS}"} for number, item in enumerate(retries)]
    assert len(watch(model, spread)) == 1
    fewer = [{**item, "user_id": f"user-{number % (MIN_FAILED_ACCOUNTS - 1)}"} for number, item in enumerate(retries)]
    assert watch(model, fewer) == []


def _client_failures(client: str, start: datetime, attempts: int, every: float) -> list[dict[str, Any]]:
    """A log without user names: ``attempts`` failed logins from one client, keyed by its pseudonym."""
    return [
        event(start + timedelta(seconds=every * number), f"client:{client}", "login_failed", resource="/login")
        for number in range(attempts)
    ]


def test_a_client_trying_account_after_account_in_a_log_without_users_is_a_wave() -> None:
    # GIVEN a log that names users only once they are in: two hosting addresses' bots failing a login
    # every two seconds each, every failure keyed by its client's pseudonym
    model = WaveModel(usual_share=0.02, threshold=SURPRISE_FLOOR, long_threshold=SURPRISE_FLOOR)
    bots = sorted(
        _client_failures("bot-a", START, 300, every=2.0)
        + _client_failures("bot-b", START + timedelta(seconds=1), 300, every=2.0),
        key=event_time,
    )
    # THEN it is a wave within its first minutes: each pseudonym's quick run counts as an account
    # every PSEUDONYM_RETRIES failures, as two keys alone never would
    alerts = watch(model, bots)
    assert len(alerts) == 1
    assert alerts[0].last_event_at - event_time(bots[0]) < 120
    named = [{**item, "user_id": "account-a" if item["user_id"] == "client:bot-a" else "account-b"} for item in bots]
    assert watch(model, named) == []


def test_a_client_retrying_one_password_slowly_is_no_wave() -> None:
    # GIVEN a script with a stale password retrying every two minutes all night, and a person who
    # fails nine times in a row, both in a log without user names
    model = WaveModel(usual_share=0.02, threshold=SURPRISE_FLOOR, long_threshold=SURPRISE_FLOOR)
    stale = _client_failures("cron", START, 240, every=120.0)
    person = _client_failures("person", START + timedelta(hours=1), PSEUDONYM_RETRIES - 1, every=20.0)
    # THEN neither is a wave: the script's failures are no quick run, the person's run is one account
    assert watch(model, sorted(stale + person, key=event_time)) == []
    # AND a run is counted from its key's last failure: the same script at a failure every 30 s is one
    fast = _client_failures("cron", START, 240, every=30.0)
    assert len(watch(model, fast)) == 1


def test_a_trickle_of_stuffing_over_hours_alerts_through_the_long_window() -> None:
    # GIVEN a small service, about two logins a minute failing 5 % of the time, and a model trained on it
    usual = logins(START, minutes=24 * 60, per_minute=2, failure_share=0.05)
    model, _ = train_wave_model(usual, [event_time(item) for item in usual])
    assert model is not None
    assert model.long_threshold is not None
    # WHEN, on the next day, an account is tried from a fresh address every three minutes for two hours
    day = START + timedelta(days=1)
    calm = logins(day, minutes=240, per_minute=2, failure_share=0.05, seed=5)
    trickle = stuffing(day + timedelta(minutes=60), attempts=40, per_second=1 / 180, successes=0)
    alerts = watch(model, sorted(calm + trickle, key=event_time))
    # THEN it alerts once, by the long window: no ten minutes of it hold enough failures
    assert len(alerts) == 1
    assert alerts[0].reasons[0].split(" in ")[1].startswith("60 min")
    assert alerts[0].threshold == model.long_threshold
    assert event_time(trickle[MIN_EXCESS_FAILURES]) <= alerts[0].last_event_at < event_time(trickle[-1])
    # AND a model without the long window misses it
    assert watch(WaveModel(model.usual_share, model.threshold), sorted(calm + trickle, key=event_time)) == []


def test_the_accounts_that_got_in_after_a_wave_s_alert_are_named_by_its_follow_ups() -> None:
    # GIVEN stuffing at one attempt a second for four minutes, five of whose accounts get in after
    # the wave has alerted, and people logging in every 30 s from a minute in, for half an hour
    model = WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR)
    start = START + timedelta(hours=15)
    attack = stuffing(start, attempts=240, per_second=1.0, successes=0)
    for number in range(100, 105):
        attack[number] = {**attack[number], "event_type": "login_succeeded"}
    attack[101]["user_id"] = "victim-100"  # (one account got in twice)
    people = [
        event(
            start + timedelta(minutes=1, seconds=30 * number), f"person-{number}", "login_succeeded", resource="/login"
        )
        for number in range(60)
    ]
    # WHEN the watch reads them in the scorer's batches
    window, raised = AttemptWindow(), []
    events = sorted(attack + people, key=event_time)
    for first in range(0, len(events), 100):
        chunk = events[first : first + 100]
        raised += WaveWatch(model).observe_waves(window, chunk, [event_time(item) for item in chunk])
    (wave,) = [item.alert for item in raised if not item.names_accounts]
    follow_ups = [item.alert for item in raised if item.names_accounts]
    # THEN the wave alerted before the five got in, and could not name them
    assert wave.last_event_at < event_time(attack[100])
    assert "victim-100" not in " ".join(wave.reasons)
    # AND its follow-ups name them, and the people who logged in meanwhile, at most one per ten
    # minutes while the wave lasts and one when it is over
    named = " ".join(alert.reasons[0] for alert in follow_ups)
    assert all(f"victim-{number}" in named for number in (100, 102, 103, 104))
    # (counting the logins that went through, and saying by how many accounts where that differs)
    (first,) = [alert.reasons[0] for alert in follow_ups if "victim-100" in alert.reasons[0]]
    listed = first.split(": ", 1)[1].split(", ")
    assert f", to check ({len(listed) + 1}, by {len(listed)} accounts): " in first
    assert listed.count("victim-100") == 1
    assert "is over" in follow_ups[-1].reasons[1]
    while_under_way = [alert.last_event_at for alert in follow_ups[:-1]]
    assert all(later - earlier >= 600 for earlier, later in itertools.pairwise([wave.last_event_at, *while_under_way]))
    # AND each is a marker of its own (keyed by its first account's time), the wave's episode
    assert len({int(alert.first_event_at) for alert in [wave, *follow_ups]}) == 1 + len(follow_ups)
    assert {alert.episode for alert in follow_ups} == {wave.episode}
    assert not window.in_wave


def network_of(address: str) -> NetworkInfo:
    """Two home networks: 198.51.100.0/24 is one ISP's, every other address another's."""
    return NetworkInfo("GB", 64500 if address.startswith("198.51.100.") else 64501, None, hosting=False)


def test_a_success_is_familiar_from_its_account_s_own_device_and_network_with_no_failure_hours_before() -> None:
    # GIVEN accounts each seen browsing from home an hour before a login: one logs in from the same
    # browser and network, one from another browser, one from another network; one fails a login
    # (as an attacker's try would) then gets in from the same browser; one fails the day before;
    # an account never seen logs in; and so does a session of a log that names no user (its pseudonym)
    home, login_at = START + timedelta(hours=8), START + timedelta(hours=9)
    at_home = {"ip": "198.51.100.7", "user_agent": BROWSERS[0]}
    events = [
        event(home, user, "page_view", resource="/account", **at_home)
        for user in ("same", "other-browser", "other-network", "retried", "failed-yesterday", "session:abc")
    ]
    events.append(event(home - timedelta(days=1), "failed-yesterday", "login_failed", resource="/login", **at_home))
    events.append(event(login_at - timedelta(minutes=5), "retried", "login_failed", resource="/login", **at_home))
    logins = [
        event(login_at, "same", "login_succeeded", resource="/login", **at_home),
        event(
            login_at, "other-browser", "login_succeeded", resource="/login", **{**at_home, "user_agent": BROWSERS[1]}
        ),
        event(login_at, "other-network", "login_succeeded", resource="/login", **{**at_home, "ip": "203.0.113.9"}),
        event(login_at, "retried", "login_succeeded", resource="/login", **at_home),
        event(login_at, "failed-yesterday", "login_succeeded", resource="/login", **at_home),
        event(login_at, "never-seen", "login_succeeded", resource="/login", **at_home),
        event(login_at, "session:abc", "login_succeeded", resource="/login", **at_home),
    ]
    ordered = sorted(events, key=event_time) + logins
    # WHEN their feature rows are read
    rows = featurize_batch(ordered, network_of=network_of).rows[-len(logins) :]
    # THEN only the login from the account's own browser and network, and the one a day after a
    # failure, are familiar
    assert dict(zip([item["user_id"] for item in logins], familiar_attempts(rows, logins), strict=True)) == {
        "same": True,
        "other-browser": False,
        "other-network": False,
        "retried": False,
        "failed-yesterday": True,
        "never-seen": False,
        "session:abc": False,
    }


def test_a_wave_s_alerts_do_not_name_the_successes_from_their_accounts_own_devices_but_count_them() -> None:
    # GIVEN stuffing at one attempt a second for four minutes, one of whose accounts gets in after the
    # alert, one customer logging in meanwhile from a new device, and customers logging in every 30 s
    # from their own devices (familiar) for half an hour
    model = WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR)
    start = START + timedelta(hours=15)
    attack = stuffing(start, attempts=240, per_second=1.0, successes=0)
    attack[100] = {**attack[100], "event_type": "login_succeeded"}
    customers = [
        event(start + timedelta(seconds=30 * number + 5), f"customer-{number}", "login_succeeded", resource="/login")
        for number in range(60)
    ]
    events = sorted(attack + customers, key=event_time)
    familiar = [item["user_id"].startswith("customer-") and item["user_id"] != "customer-7" for item in events]

    def follow_ups(flags: list[bool] | None) -> tuple[EntityAlert, list[EntityAlert]]:
        window, raised = AttemptWindow(), []
        for first in range(0, len(events), 100):
            chunk = events[first : first + 100]
            times = [event_time(item) for item in chunk]
            raised += WaveWatch(model).observe_waves(window, chunk, times, flags and flags[first : first + 100])
        (wave,) = [item.alert for item in raised if not item.names_accounts]
        return wave, [item.alert for item in raised if item.names_accounts]

    # WHEN the watch reads them, told which came from their accounts' own devices
    wave, told = follow_ups(familiar)
    # THEN its follow-ups name the stuffing's catch and the customer on a new device, not the others
    named = [name for alert in told for name in alert.reasons[0].split(": ", 1)[1].split(", ")]
    assert sorted(named) == ["customer-7", "victim-100"]
    # AND say how many went through from their own devices meanwhile
    counted = [int(alert.reasons[2].split()[0]) for alert in told if len(alert.reasons) > 2]
    assert all(
        alert.reasons[2].endswith(" more from their accounts' own devices and networks, not named")
        for alert in told
        if len(alert.reasons) > 2
    )
    owned = [
        item
        for item, flag in zip(events, familiar, strict=True)
        if flag and wave.last_event_at < event_time(item) <= told[-1].last_event_at
    ]
    assert sum(counted) == len(owned) > 0
    # AND without the flags (a caller that has no feature rows) it names them all, as before
    _, untold = follow_ups(None)
    named = [name for alert in untold for name in alert.reasons[0].split(": ", 1)[1].split(", ")]
    assert {"customer-7", "victim-100", *(item["user_id"] for item in owned)} <= set(named)
    assert all(len(alert.reasons) == 2 for alert in untold)


def synthetic_logins(start: datetime, hours: float, every_minutes: float = 10.0) -> list[dict[str, Any]]:
    """A monitor's synthetic login check: one account, a successful login every few minutes."""
    return [
        event(
            start + timedelta(minutes=every_minutes * number),
            "uptime-check",
            "login_succeeded",
            resource="/login",
            ip="203.0.113.40",
        )
        for number in range(int(hours * 60 / every_minutes))
    ]


def test_an_account_that_logs_in_all_day_in_training_is_named_by_no_wave() -> None:
    # GIVEN four days of training: customers' logins for two hours a day, a monitor's login check
    # every ten minutes all day, and one customer who logs in five times a day
    days = [START + timedelta(days=day) for day in range(4)]
    keen = [
        event(day + timedelta(hours=9, minutes=7 * number), "keen-customer", "login_succeeded", resource="/login")
        for day in days
        for number in range(5)
    ]
    training = sorted(
        [item for day in days for item in logins(day + timedelta(hours=9), 120, 20, 0.05, seed=day.day)]
        + [item for day in days for item in synthetic_logins(day, hours=24)]
        + keen,
        key=event_time,
    )
    # WHEN the wave model is trained on them
    model, metadata = train_wave_model(training, [event_time(item) for item in training])
    assert model is not None
    # THEN the monitor's account is routine, the customer's not, and the model keeps it
    assert model.routine == frozenset({"uptime-check"})
    assert metadata["routine_accounts"] == ["uptime-check"]
    assert WaveModel.from_json(model.to_json()) == model
    # AND stuffing at night, with the monitor's logins and one account that got in during it,
    # names that account in its alert and follow-ups, never the monitor's
    night = START + timedelta(days=5, hours=2)
    attack = stuffing(night, attempts=600, per_second=0.5, successes=0)
    attack[450] = {**attack[450], "event_type": "login_succeeded"}
    events = sorted(attack + synthetic_logins(night - timedelta(minutes=30), hours=2), key=event_time)
    alerts = watch(model, events)
    follow_ups = watch(model, events, follow_ups=True)
    assert alerts
    assert follow_ups
    named = " ".join(reason for alert in [*alerts, *follow_ups] for reason in alert.reasons)
    assert "victim-450" in named
    assert "uptime-check" not in named
    # AND without the model's routine accounts (as a model trained before them) it names both
    earlier = replace(model, routine=frozenset())
    named_before = " ".join(reason for alert in watch(earlier, events, follow_ups=True) for reason in alert.reasons)
    assert "uptime-check" in named_before
    assert "victim-450" in named_before


def test_a_wave_counts_the_accounts_and_names_the_logins_of_its_own_window_only() -> None:
    model = WaveModel(usual_share=0.02, threshold=SURPRISE_FLOOR)
    # GIVEN four accounts that failed, and one that got in, half an hour before one person fails
    # fifteen times on their own account
    earlier = [
        event(START + timedelta(seconds=number), f"user-{number}", "login_failed", resource="/login")
        for number in range(MIN_FAILED_ACCOUNTS - 1)
    ]
    earlier.append(event(START + timedelta(seconds=30), "early-bird", "login_succeeded", resource="/login"))
    retries = [
        event(START + timedelta(minutes=30, seconds=20 * number), "user-x", "login_failed", resource="/login")
        for number in range(15)
    ]
    # THEN no wave: the ten minutes hold one account
    assert watch(model, earlier + retries) == []
    # AND stuffing at that moment is one, naming no login from before its window
    attack = stuffing(START + timedelta(minutes=30), attempts=40, per_second=1.0, successes=1)
    alerts = watch(model, sorted(earlier + attack, key=event_time))
    assert len(alerts) == 1
    assert "early-bird" not in " ".join(alerts[0].reasons)
    assert "victim-0" in alerts[0].reasons[1]


def test_an_account_retried_late_counts_at_its_latest_failure() -> None:
    window = AttemptWindow()
    window.add(1_000.0, True, "a")
    window.add(2_000.0, True, "b")
    window.add(1_900.0, True, "a")
    window.add(1_100.0, True, "a")  # a retry of a's delivered late, older than its latest
    assert window.failed_accounts == [(1_900.0, "a", 1), (2_000.0, "b", 1)]


def test_a_window_stored_before_runs_were_counted_reads_each_failed_account_as_a_run_of_one() -> None:
    stored = AttemptWindow()
    stored.add(1_000.0, True, "client:a")
    document = json.loads(stored.to_bytes())
    document["f"] = [[moment, user] for moment, user, _ in document["f"]]
    assert AttemptWindow.from_bytes(json.dumps(document).encode()).failed_accounts == [(1_000.0, "client:a", 1)]


def test_two_waves_in_one_hour_are_two_alerts() -> None:
    # GIVEN a burst raised by the short window, its end, and a trickle in the same clock hour
    model = WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR, long_threshold=SURPRISE_FLOOR)
    burst = stuffing(START + timedelta(minutes=1), attempts=12, per_second=1.0, successes=0)
    calm = logins(START, minutes=60, per_minute=2, failure_share=0.05, seed=6)
    trickle = [
        {**item, "user_id": f"trickled-{number}"}
        for number, item in enumerate(stuffing(START + timedelta(minutes=20), 20, 1 / 100, successes=0))
    ]
    alerts = watch(model, sorted(burst + calm + trickle, key=event_time))
    # THEN two alerts, whose markers (the alert's first_event_at, keying its publication) differ
    assert [alert.episode for alert in alerts] == [1, 2]
    assert " in 60 min " in alerts[1].reasons[0]
    assert alerts[0].first_event_at < alerts[1].first_event_at <= alerts[1].last_event_at


def test_a_wave_ends_when_the_share_falls_back_and_the_next_one_alerts_again() -> None:
    first = stuffing(START, attempts=120, per_second=1.0, successes=0)
    calm = logins(START + timedelta(minutes=3), minutes=30, per_minute=3, failure_share=0.05)
    second = stuffing(START + timedelta(minutes=40), attempts=120, per_second=1.0, successes=0)
    traffic = sorted(first + calm + second, key=event_time)
    for long_threshold in (None, SURPRISE_FLOOR):
        model = WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR, long_threshold=long_threshold)
        window = AttemptWindow()
        alerts = watch(model, traffic, window)
        # (a burst's wave ends with its ten minutes, though the hour around it still holds its failures)
        assert [alert.episode for alert in alerts] == [1, 2]
        assert all(" in 10 min " in alert.reasons[0] for alert in alerts)
        assert window.wave_minutes == 10
        assert sum(failures for _, failures in window.buckets.values()) >= len(first) + len(second)


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
    in_wave = AttemptWindow({16: [30, 29]}, waves=1, in_wave=True).view()
    calm = AttemptWindow({16: [30, 1]}, waves=1).view()
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


def test_an_attempt_that_fetched_the_login_form_first_is_folded_into_the_wave() -> None:
    # GIVEN a wave under way, and stuffing attempts that each fetch the login form (for its
    # anti-forgery token) a second before posting to it, as tools against such forms must
    in_wave = AttemptWindow({16: [30, 29]}, waves=1, in_wave=True).view()
    tried = episode(("page", False), ("page", True))
    alert = EntityAlert("attempt-1", "session", 9.0, 1.0, tried.episode, 1_000.0, 1_001.0, 2, ("1 failed login",))
    form = event(START, "attempt-1", "page_view", resource="/Account/Login", status=200)
    post = event(START + timedelta(seconds=1), "attempt-1", "login_failed", resource="/Account/Login", status=200)
    # THEN the form and the failed login are an attempt, in the episode and in the batch: folded
    assert failed_logins_only(["attempt-1"] * 2, [form, post]) == {"attempt-1"}
    assert folded_into_wave(in_wave, alert, tried, {"attempt-1"})
    # AND so are several attempts of one session, each with its form
    again = episode(("page", False), ("page", True), ("page", False), ("page", True))
    assert again.all_failed()
    assert failed_logins_only(["attempt-1"] * 4, [form, post, form, post]) == {"attempt-1"}
    # BUT not a page left without an attempt after it, two pages in a row, or a login that succeeded
    assert failed_logins_only(["attempt-1"] * 2, [post, form]) == set()
    assert failed_logins_only(["attempt-1"] * 3, [form, form, post]) == set()
    success = event(START, "attempt-1", "login_succeeded", resource="/Account/Login", status=302)
    assert failed_logins_only(["attempt-1"] * 2, [success, post]) == set()
    # (nor a probe of another page before each failed login, nor a page written to)
    probe = event(START, "attempt-1", "page_view", resource="/api/orders/7", status=200)
    assert failed_logins_only(["attempt-1"] * 2, [probe, post]) == set()
    written = form | {"properties": {"method": "POST"}}
    assert failed_logins_only(["attempt-1"] * 2, [written, post]) == set()
    # (and in the episode, a login that got in, a write, is no form for the failure after it: an
    # account the stuffing got into, then tried again, alerts on its own)
    got_in = Evidence()
    write = EVIDENCE_COLUMNS.index("write_method")
    got_in.observe(
        1_000.0, [1.0 if column == write else 0.0 for column in range(len(EVIDENCE_COLUMNS))], 0.0, False, False
    )
    got_in.observe(
        1_020.0,
        [1.0 if column == EVIDENCE_COLUMNS.index("failure") else 0.0 for column in range(len(EVIDENCE_COLUMNS))],
        0.0,
        False,
        False,
    )
    assert not got_in.all_failed()
    assert not episode(("page", False), ("page", False), ("page", True)).all_failed()
    # AND not a page a failure followed only after a minute (a person reading, then mistyping), nor
    # one with the page's assets (a browser)
    slow = Evidence()
    failure = EVIDENCE_COLUMNS.index("failure")
    failed_values = [1.0 if column == failure else 0.0 for column in range(len(EVIDENCE_COLUMNS))]
    slow.observe(1_000.0, [0.0] * len(EVIDENCE_COLUMNS), 0.0, False, False)
    slow.observe(1_000.0 + FORM_SECONDS + 1, failed_values, 0.0, False, False)
    assert not slow.all_failed()
    assert not episode(("page", False), ("asset", False), ("page", True)).all_failed()
    # AND what the episode counted is stored
    assert Evidence.from_bytes(again.to_bytes()) == again


def test_an_attempt_stamped_a_month_ahead_blinds_the_window_for_a_few_attempts_only() -> None:
    # GIVEN a shard's window whose last login was stamped 30 days ahead (a device's wrong clock),
    # then stuffing in real time
    model = WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR)
    window = AttemptWindow()
    watch(model, [event(START + timedelta(days=30), "skewed", "login_succeeded", resource="/login")], window)
    alerts = watch(model, stuffing(START, attempts=240, per_second=1.0), window)
    # THEN after a run of attempts the window refused as too old, it starts again from them, and
    # the stuffing raises its wave (before, the window refused every attempt for the month)
    assert len(alerts) == 1
    assert window.clock.time is not None
    assert window.clock.time < START.timestamp() + 3600
    assert max(window.buckets) * 60 < START.timestamp() + 3600


def test_a_backfill_of_old_logins_does_not_set_back_a_window_of_many() -> None:
    # GIVEN stuffing under way, then twelve logins stamped two hours before (a producer's spool
    # replayed), then the stuffing again
    model = WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR)
    window = AttemptWindow()
    attack = stuffing(START, attempts=240, per_second=1.0)
    old = [
        event(START - timedelta(hours=2), f"early-{number}", "login_succeeded", resource="/login")
        for number in range(12)
    ]
    alerts = watch(model, attack[:120], window) + watch(model, old, window) + watch(model, attack[120:], window)
    # THEN the old logins are refused, and the wave goes on: one alert, the window at the stuffing's time
    assert len(alerts) == 1
    assert window.in_wave
    assert window.clock.time == event_time(attack[-1])


def test_the_window_round_trips_and_stays_bounded() -> None:
    # GIVEN a window that has counted a stuffing run of an hour and a half with many successes
    window = AttemptWindow()
    model = WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR, long_threshold=SURPRISE_FLOOR)
    watch(model, stuffing(START, attempts=5_400, per_second=1.0, successes=4_000), window)
    # THEN it keeps the long window's one-minute buckets, the last few successful accounts and the
    # last few that failed, and reads back the same
    assert len(window.buckets) == LONG_WINDOW_MINUTES
    assert len(window.successes) == MAX_NAMED_ACCOUNTS
    assert [user for _, user, _ in window.failed_accounts] == [f"victim-{number}" for number in range(5_395, 5_400)]
    assert AttemptWindow.from_bytes(window.to_bytes()) == window
    window.before_batch = (49_650_000_000_000_000_000_000_000_000_000_000_000_000_001, WaveView(True, 1_000.0))
    assert AttemptWindow.from_bytes(window.to_bytes()) == window
    # (one item per shard, written once per batch: two write units at most)
    assert len(window.to_bytes()) < 2_048
    # (and during a wave, with the accounts a follow-up will name as the producer pseudonymizes them,
    # 3 KB more at most)
    pseudonyms = [(START.timestamp() + number, "u-" + f"{number:035x}") for number in range(MAX_FOLLOWED_ACCOUNTS)]
    waiting = replace(
        window,
        alerted_at=START.timestamp(),
        followed_at=START.timestamp(),
        wave_successes=pseudonyms,
        familiar_through=7,
    )
    assert AttemptWindow.from_bytes(waiting.to_bytes()) == waiting
    assert len(waiting.to_bytes()) - len(window.to_bytes()) < 3_072
    # (a wave stored before the familiar successes were counted reads as none of them since)
    stored = json.loads(waiting.to_bytes())
    stored["o"] = stored["o"][:6]
    assert AttemptWindow.from_bytes(json.dumps(stored).encode()) == replace(waiting, familiar_through=0)


def test_an_unreadable_window_or_model_is_refused_with_a_named_error() -> None:
    with pytest.raises(InvalidStateError, match="login window"):
        AttemptWindow.from_bytes(b'{"b": "nonsense"}')
    with pytest.raises(InvalidStateError, match="login wave model"):
        WaveModel.from_json({"usual_share": 2.0, "threshold": 12.0})
    with pytest.raises(InvalidStateError, match="login wave model"):
        WaveModel.from_json(["not", "a", "mapping"])  # type: ignore[arg-type]
    with pytest.raises(InvalidStateError, match="login wave model"):
        WaveModel.from_json({"usual_share": 0.1, "threshold": 12.0, "long_threshold": -1.0})
    with pytest.raises(InvalidStateError, match="out of range"):
        WaveModel.from_json({"usual_share": 0.1, "threshold": 12.0, "busy_share": 1.5})
    with pytest.raises(InvalidStateError, match="login wave model"):
        WaveModel.from_json({"usual_share": 0.1, "threshold": 12.0, "routine_accounts": "uptime-check"})


def with_waves_and_new_people(tmp_path: Any, waves: WaveModel) -> tuple[Any, list[dict[str, Any]]]:
    """A model trained on ten days of 120 people, its failed-login wave model replaced by ``waves``,
    and the eleventh day of 30 people new to it: the backtests' replays below."""
    from model.artifact import load_model
    from model.train import save, train
    from tests.model_factories import normal_traffic

    loaded = load_model(save(train(normal_traffic(users=120, days=10)), tmp_path / "model"))
    loaded = replace(loaded, wave_models={**loaded.wave_models, LOGINS.kind: waves})
    day = (START + timedelta(days=10)).timestamp()
    people = [
        {**item, "user_id": "new-" + item["user_id"], "session_id": "new-" + str(item["session_id"])}
        for item in normal_traffic(users=30, days=11, seed=42)
        if event_time(item) >= day
    ]
    return loaded, people


def test_the_backtest_counts_the_accounts_a_wave_tried_as_alerted_by_it_as_the_scorer_does(tmp_path) -> None:
    from model.backtest import Replay, summarize

    # GIVEN a model with a wave model, and a day of new people among whom 240 new accounts are tried
    # once each over four minutes, as the scorer's test has them (each an entity alert on its own)
    loaded, people = with_waves_and_new_people(tmp_path, WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR))
    attack = [
        {**item, "session_id": f"attempt-{index}", "status": 200 if index < 2 else 401}
        for index, item in enumerate(stuffing(START + timedelta(days=10, hours=15), 240, 1.0))
    ]
    labels = {item["user_id"]: "credential_stuffing" for item in attack}
    # (and two people who mistyped a password just inside and just outside the ten minutes that
    # raise the wave: the minute of its first attempt and the nine before)
    begins = event_time(attack[0])
    for name, seconds in (("typo-inside", 9 * 60 - 5), ("typo-outside", 9 * 60 + 5)):
        typo = event(START + timedelta(seconds=begins - seconds - START.timestamp()), name, "login_failed")
        people.append({**typo, "resource": "/login", "status": 401, "session_id": f"{name}-session"})
    # (and a customer who browsed an hour before, and logs in during it from the same browser and address)
    wave_start = datetime.fromtimestamp(begins, UTC)
    regular = {"ip": "198.51.100.77", "user_agent": BROWSERS[0], "session_id": "regular-session"}
    people.append(event(wave_start - timedelta(hours=1), "regular", "page_view", resource="/account", **regular))
    people.append(
        event(
            wave_start + timedelta(seconds=90), "regular", "login_succeeded", resource="/login", status=200, **regular
        )
    )
    people.sort(key=event_time)
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
    # (split into the accounts that alerted on their own and those the wave stood for)
    own = sum(1 for record in victims if record.alerts > 0)
    figures = summary["per_label"]["credential_stuffing"]
    assert (figures["alerted_on_their_own"], figures["alerted_through_a_wave"]) == (own, alerted - own)
    assert 0 < own < alerted
    # AND so does a person whose login failed in the window that raised it, not one just before it
    assert replay.entities["typo-inside"].tried_in_wave
    assert not replay.entities["typo-outside"].tried_in_wave
    # AND the two accounts that got in before the wave's alert, which names them to check, count as
    # alerted by it (they are the stuffing's catch)
    assert "victim-0, victim-1" in replay.wave_alerts[0][0].reasons[1]
    for name in ("victim-0", "victim-1"):
        assert replay.entities[name].tried_in_wave
        # (the first wave to count it is kept: the surge of logins the same attempts make, the model's
        # other wave, crosses a batch of a second before the failures do)
        assert replay.entities[name].reasons[0] == "tried in a wave of logins"
    # AND the customer who logged in from their own browser is named by none of its alerts, and not
    # counted as alerted by it (its login counts in the model's surge of logins, another wave)
    stuffing_wave = replay.waves[LOGINS.kind]
    alerts = [alert for alert, _ in stuffing_wave.alerts] + stuffing_wave.follow_ups
    assert not [reason for alert in alerts for reason in alert.reasons if "regular" in reason]
    assert "failed logins" not in " ".join(replay.entities["regular"].reasons)


def test_the_backtest_s_batches_span_a_second_as_the_scorer_s_so_that_a_wave_covers_a_slow_stuffing(tmp_path) -> None:
    from model.backtest import DEFAULT_BATCH_EVENTS, DEFAULT_BATCH_SECONDS, Replay

    # GIVEN a small site (30 people a day) and stuffing through proxies, an account every 20 s for
    # two hours, each attempt an entity alert on its own
    loaded, people = with_waves_and_new_people(tmp_path, WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR))
    attack = stuffing(START + timedelta(days=10, hours=15), 360, 1 / 20)
    ordered = sorted(people + attack, key=event_time)

    def sent_alerts(batch_seconds: float) -> tuple[Any, list[EntityAlert]]:
        replay = Replay(loaded, "user")
        replay.run(((event_time(item), item) for item in ordered), DEFAULT_BATCH_EVENTS, batch_seconds=batch_seconds)
        return replay, [alert for alert in replay.alerts if alert.entity.startswith("victim-")]

    # WHEN the backtest replays it as documented
    replay, sent = sent_alerts(DEFAULT_BATCH_SECONDS)
    # THEN one wave alerts, and only the attempts before it alert on their own: the wave covers the rest
    assert len(replay.wave_alerts) == 1
    crossed = replay.wave_alerts[0][0].last_event_at
    assert sent
    assert all(alert.last_event_at <= crossed + DEFAULT_BATCH_SECONDS for alert in sent)
    assert replay.folded_alerts > 10 * len(sent)
    # (replayed 500 events at a time, a batch here spans hours: the wave raised within one covered
    # none of that batch's alerts, and nearly every attempt alerted on its own)
    _, unbounded = sent_alerts(math.inf)
    assert len(unbounded) > 5 * len(sent)


def test_the_backtest_counts_the_sessions_that_failed_in_a_trickle_wave_as_alerted_by_it(tmp_path) -> None:
    from model.backtest import Replay, summarize

    # GIVEN a model whose wave model judges the long window, and a day of new people among whom one
    # new session every three minutes, for two hours, tries one account and leaves
    waves = WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR, long_threshold=SURPRISE_FLOOR)
    loaded, people = with_waves_and_new_people(tmp_path, waves)
    attack = [  # (40)
        {**item, "session_id": f"attempt-{index}", "status": 401}
        for index, item in enumerate(stuffing(START + timedelta(days=10, hours=15), 40, 1 / 180, successes=0))
    ]
    # (each opening the login page first, as a browser would)
    attack += [
        event(
            datetime.fromtimestamp(event_time(item) - 5.0, tz=START.tzinfo),
            item["user_id"],
            "page_view",
            resource="/login",
            status=200,
            ip=item["ip"],
            session_id=item["session_id"],
        )
        for item in attack
    ]
    # (and one person who mistyped a password that morning, long before it)
    typo = event(START + timedelta(days=10, hours=8), "new-typo", "login_failed", resource="/login", status=401)
    typo["session_id"] = "new-typo-session"
    labels = {item["session_id"]: "credential_stuffing" for item in attack}
    # WHEN the backtest replays it by session, with an entity stage that alerts on no session (new
    # sessions' failed logins stand out among these people, who never fail one)
    loaded.entity_models["session"].threshold = math.inf
    replay = Replay(loaded, "session", labels=labels)
    replay.run(((event_time(item), item) for item in sorted([*people, *attack, typo], key=event_time)), 50)
    assert not replay.alerts
    # THEN one wave alert, by the long window, and every attempt from the window that raised it to the
    # last counts as alerted by the wave (those that did not alert on their own: from its alert on)
    assert len(replay.wave_alerts) == 1
    alert, failures = replay.wave_alerts[0]
    assert " in 60 min " in alert.reasons[0]
    assert {item["event_id"] for item in attack} >= set(failures)
    attempts = [replay.entities[f"attempt-{index}"] for index in range(40)]
    tried = [record for record in attempts if record.tried_in_wave]
    assert tried == attempts  # (the first in the hour before the alert, the others while the wave lasted)
    assert all(record.first_alert_at and record.first_alert_at >= alert.last_event_at for record in tried)
    assert not replay.entities["new-typo-session"].tried_in_wave
    # AND the people whose logins went through while it lasted are named by its follow-ups, and count
    # as alerted by it too: an analyst checks them
    follow_ups = replay.waves[WAVE_KIND].follow_ups
    assert follow_ups
    assert all(alert.reasons[0].startswith("successful logins since ") for alert in follow_ups)
    named = [key for key, record in replay.entities.items() if record.tried_in_wave and record not in attempts]
    assert named
    assert all(key.startswith("new-") for key in named)  # (the people's sessions: the follow-ups name their users)
    summary = summarize(replay)
    assert summary["tried_in_waves"] == len(tried) + len(named)
    assert summary["per_label"]["credential_stuffing"]["alerted"] == len(tried)


def donations(
    start: datetime, minutes: int, per_minute: int, decline_share: float, seed: int = 5
) -> list[dict[str, Any]]:
    """Donors' payments: ``per_minute`` a minute, each declined (402) with ``decline_share``."""
    rng = random.Random(seed)
    events = []
    for minute in range(minutes):
        for _number in range(per_minute):
            moment = start + timedelta(minutes=minute, seconds=rng.uniform(0, 59))
            declined = rng.random() < decline_share
            status = 402 if declined else 201
            events.append(
                event(moment, f"donor-{rng.randrange(5_000)}", "purchase", resource="/api/donations/", status=status)
            )
    return sorted(events, key=event_time)


def card_testing(start: datetime, attempts: int, per_second: float, working: int = 2) -> list[dict[str, Any]]:
    """Bots trying a stolen card each through a proxy address of its own; ``working`` go through."""
    return [
        event(
            start + timedelta(seconds=number / per_second),
            f"client:tester-{number}",
            "purchase",
            resource="/api/donations/",
            status=201 if number < working else 402,
            ip=f"100.64.{number // 250}.{number % 250}",
        )
        for number in range(attempts)
    ]


def test_payments_are_read_declined_or_not_and_a_server_error_is_neither() -> None:
    def outcome(event_type: str, status: Any) -> bool | None:
        return payment_outcome(event(START, "u", event_type, status=status))

    assert [outcome("purchase", status) for status in (402, 400, "declined", 201, 302, None)] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    assert outcome("purchase", 503) is None
    assert outcome("purchase", "Error") is None
    assert outcome("login_failed", 401) is None


def test_card_testing_across_clients_alerts_once_as_declined_payments_naming_the_cards_that_worked() -> None:
    # GIVEN a model learned from donations declined 3 % of the time, beside logins
    training = sorted(
        donations(START, minutes=600, per_minute=2, decline_share=0.03)
        + logins(START, minutes=600, per_minute=2, failure_share=0.06),
        key=event_time,
    )
    model, metadata = train_wave_model(training, [event_time(item) for item in training], PAYMENTS)
    assert model is not None
    assert metadata["attempts"] == 1200
    assert wave_model_of({"payment_waves": metadata}, PAYMENTS) == model
    assert wave_model_of({"payment_waves": metadata}) is None  # (the login waves' model is its own)
    # WHEN 300 cards are tried once each from 300 addresses over five minutes, two going through
    before = donations(START + timedelta(days=1), minutes=60, per_minute=2, decline_share=0.03)
    attack = card_testing(START + timedelta(days=1, minutes=60), attempts=300, per_second=1.0)
    window = AttemptWindow()
    ordered = sorted(before + attack, key=event_time)
    alerts = WaveWatch(model, PAYMENTS).observe(window, ordered, [event_time(item) for item in ordered])
    # THEN the service alerts once, in words of payments, naming the two clients whose cards worked
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.kind, alert.entity) == (PAYMENT_WAVE_KIND, WAVE_ENTITY)
    assert event_time(attack[0]) < alert.last_event_at < event_time(attack[-1])
    assert " declined payments of " in alert.reasons[0]
    assert alert.reasons[1].startswith("payments that went through during it, to check: ")
    assert "client:tester-0" in alert.reasons[1]
    assert "client:tester-1" in alert.reasons[1]
    # AND the same traffic's logins raise no payment wave, nor its payments a login wave
    assert WaveWatch(model, PAYMENTS).observe(AttemptWindow(), logins(START, 60, 20, 0.9), [0.0] * 1200) == []
    login_model = WaveModel(usual_share=0.06, threshold=SURPRISE_FLOOR)
    assert WaveWatch(login_model).observe(AttemptWindow(), ordered, [event_time(item) for item in ordered]) == []
    # AND traffic without payments trains no payment model, saying why
    assert train_wave_model(before[:0] + logins(START, 10, 1, 0.0), [0.0] * 10, PAYMENTS) == (
        None,
        {"skipped": "no purchase events"},
    )


def people_giving(
    share: float, status: Callable[[], int], rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Ten days of 120 people, and gifts to the site: ``share`` of their page views become a donation
    answered ``status()``."""
    from tests.model_factories import normal_traffic

    people = normal_traffic(users=120, days=10)
    gifts = [
        {
            **item,
            "event_id": f"00000000-0000-4000-9000-{index:012d}",
            "event_type": "purchase",
            "resource": "/api/donations/",
            "status": status(),
        }
        for index, item in enumerate(people)
        if item["event_type"] == "page_view" and rng.random() < share
    ]
    return people, gifts


def test_training_learns_a_payment_wave_model_that_the_backtest_replays_as_the_scorer_does(tmp_path) -> None:
    from model.artifact import load_model
    from model.backtest import Replay, summarize
    from model.train import save, train
    from tests.model_factories import normal_traffic

    # GIVEN ten days of people, who give to the site now and then (3 % of their payments declined)
    rng = random.Random(11)
    people, gifts = people_giving(0.2, lambda: 402 if rng.random() < 0.03 else 201, rng)
    # WHEN a model is trained on them, saved and loaded
    loaded = load_model(save(train(sorted(people + gifts, key=event_time)), tmp_path / "model"))
    # THEN it has a payment wave model beside its login one, fitted on the payments alone
    assert PAYMENTS.kind in loaded.wave_models
    payments = sum(1 for item in people + gifts if item["event_type"] == "purchase")
    assert loaded.metadata["payment_waves"]["attempts"] == payments
    assert LOGINS.kind in loaded.wave_models
    assert loaded.wave_models[LOGINS.kind] != loaded.wave_models[PAYMENTS.kind]
    # AND replaying a day on which 240 cards are tried once each, the backtest raises one payment
    # wave and counts the testers whose cards were declined in it as alerted by it
    day = (START + timedelta(days=10)).timestamp()
    later = [item for item in normal_traffic(users=30, days=11, seed=42) if event_time(item) >= day]
    attack = [
        {**item, "session_id": f"card-{index}"}
        for index, item in enumerate(card_testing(START + timedelta(days=10, hours=15), 240, 1.0))
    ]
    labels = {item["user_id"]: "card_testing" for item in attack}
    replay = Replay(loaded, "user", labels=labels)
    replay.run(((event_time(item), item) for item in sorted(later + attack, key=event_time)), 50)
    summary = summarize(replay)
    assert (summary["payment_wave_alerts"], summary["login_wave_alerts"]) == (1, 0)
    testers = [record for name, record in replay.entities.items() if name.startswith("client:tester-")]
    assert sum(1 for record in testers if record.tried_in_wave) > 200


def test_where_no_payment_visibly_declines_the_backtest_watches_the_surges_of_payments(tmp_path) -> None:
    from model.artifact import load_model
    from model.backtest import Replay, summarize, write_outputs
    from model.train import save, train
    from tests.model_factories import normal_traffic

    # GIVEN ten days of people who give to the site now and then, every gift answered 200 (an API that
    # answers a declined card with 200 and an error in its body)
    people, gifts = people_giving(0.05, lambda: 200, random.Random(11))
    loaded = load_model(save(train(sorted(people + gifts, key=event_time)), tmp_path / "model"))
    assert {PAYMENTS.kind, PAYMENT_SURGES.kind} <= set(loaded.wave_models)
    # WHEN a day on which 240 cards are tried once each, answered 200 too, is replayed
    day = (START + timedelta(days=10)).timestamp()
    later = [item for item in normal_traffic(users=30, days=11, seed=42) if event_time(item) >= day]
    attack = [{**item, "status": 200} for item in card_testing(START + timedelta(days=10, hours=15), 240, 1.0)]
    replay = Replay(loaded, "user", labels={item["user_id"]: "card_testing" for item in attack})
    replay.run(((event_time(item), item) for item in sorted(later + attack, key=event_time)), 50)
    summary = summarize(replay)
    # THEN the surge of payments alerts (no payment wave can: none is declined), counting the testers
    assert (summary["payment_surge_alerts"], summary["payment_wave_alerts"]) == (1, 0)
    testers = [record for name, record in replay.entities.items() if name.startswith("client:tester-")]
    assert sum(1 for record in testers if record.tried_in_wave) > 200
    # AND the report says why the payment waves stayed quiet, and where to look instead
    write_outputs(replay, summary, tmp_path / "out")
    report = " ".join((tmp_path / "out" / "report.md").read_text().split())
    assert "## Surges of payments (the whole service)" in report
    trained = loaded.metadata["payment_waves"]["attempts"]
    assert f"None, and maybe none could rise: none of training's {trained} payments was one of its declined" in report
    assert "the surges of payments watch them there" in report


def test_an_appeal_larger_than_training_s_declining_as_its_appeal_did_is_no_payment_wave() -> None:
    # GIVEN two weeks of a small charity's donations (about nine an hour, 4 % declined) with one
    # appeal in them (90 donations in half an hour, 10 % declined: new donors' cards fail more often)
    quiet = donations(START, minutes=14 * 24 * 60 // 7, per_minute=1, decline_share=0.04, seed=8)
    quiet = [{**item, "occurred_at": stamp(START + timedelta(minutes=7 * index))} for index, item in enumerate(quiet)]
    appeal = donations(START + timedelta(days=3, hours=12), minutes=30, per_minute=3, decline_share=0.10, seed=9)
    training = sorted(quiet + appeal, key=event_time)
    model, metadata = train_wave_model(training, [event_time(item) for item in training], PAYMENTS)
    assert model is not None
    # THEN the appeal's windows are the busy ones, though they held fewer than a hundred attempts
    assert model.busy_share is not None
    assert metadata["training_busy_share"] > 0.05
    # AND a later appeal of 400 donors in ten minutes declining as often raises no wave
    later = donations(START + timedelta(days=20), minutes=10, per_minute=40, decline_share=0.10, seed=10)
    assert WaveWatch(model, PAYMENTS).observe(AttemptWindow(), later, [event_time(item) for item in later]) == []
    # AND card testing in it still does
    testing = card_testing(START + timedelta(days=20, minutes=2), attempts=150, per_second=0.5)
    mixed = sorted(later + testing, key=event_time)
    assert len(WaveWatch(model, PAYMENTS).observe(AttemptWindow(), mixed, [event_time(item) for item in mixed])) == 1


def signups(start: datetime, count: int, every_seconds: float, prefix: str = "farm") -> list[dict[str, Any]]:
    """Accounts registered one each from addresses of their own, ``every_seconds`` apart."""
    return [
        event(
            start + timedelta(seconds=number * every_seconds),
            f"session:{prefix}-{number}",
            "signup",
            resource="/api/auth/signup",
            status=201,
            ip=f"100.64.{number // 250}.{number % 250}",
        )
        for number in range(count)
    ]


def people_signing_up(start: datetime, days: int, per_hour: float, seed: int = 5) -> list[dict[str, Any]]:
    """People registering at random moments, about ``per_hour`` an hour."""
    rng = random.Random(seed)
    count = int(days * 24 * per_hour)
    moments = sorted(rng.uniform(0, days * 86_400) for _ in range(count))
    return [
        {**item, "occurred_at": stamp(start + timedelta(seconds=moment))}
        for item, moment in zip(signups(start, count, 1.0, prefix="person"), moments, strict=True)
    ]


def test_sign_ups_are_counted_among_logins_and_nothing_else_is() -> None:
    def outcome(event_type: str) -> bool | None:
        return signup_outcome(event(START, "u", event_type))

    assert [outcome(kind) for kind in ("signup", "login_failed", "login_succeeded")] == [True, False, False]
    assert outcome("login_attempt") is False  # (a login of a log without statuses: a login all the same)
    assert [outcome(kind) for kind in ("page_view", "purchase", "password_reset", "api_call")] == [None] * 4


def test_account_farming_alerts_once_as_a_sign_up_wave_and_names_no_logins() -> None:
    # GIVEN two weeks of a service's logins (two a minute) and of people signing up (about three an hour)
    days = 14
    training = sorted(
        logins(START, minutes=days * 24 * 60, per_minute=2, failure_share=0.05)
        + people_signing_up(START, days, per_hour=3.0),
        key=event_time,
    )
    model, metadata = train_wave_model(training, [event_time(item) for item in training], SIGNUPS)
    assert model is not None
    assert 0.01 < model.usual_share < 0.04
    assert wave_model_of({"signup_waves": metadata}, SIGNUPS) == model
    # WHEN, on a later day, 60 accounts are registered from 60 addresses over an hour, among the logins
    later = START + timedelta(days=days + 1)
    usual = logins(later, minutes=180, per_minute=2, failure_share=0.05, seed=9)
    farming = signups(later + timedelta(minutes=60), count=60, every_seconds=60.0)
    ordered = sorted(usual + farming, key=event_time)
    alerts = WaveWatch(model, SIGNUPS).observe(AttemptWindow(), ordered, [event_time(item) for item in ordered])
    # THEN the service alerts once, in words of sign-ups, while the farming goes on
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.kind, alert.entity) == (SIGNUP_WAVE_KIND, WAVE_ENTITY)
    assert event_time(farming[0]) < alert.last_event_at < event_time(farming[-1])
    assert " sign-ups of " in alert.reasons[0]
    assert "would be sign-ups)" in alert.reasons[0]
    # AND names none of the people's logins as accounts to check: they tell nothing of the farming
    assert alert.reasons == alert.reasons[:1]
    # AND the same hours without the farming raise no wave, nor do the farm's sign-ups a login wave
    assert WaveWatch(model, SIGNUPS).observe(AttemptWindow(), usual, [event_time(item) for item in usual]) == []
    login_model = WaveModel(usual_share=0.05, threshold=SURPRISE_FLOOR)
    assert WaveWatch(login_model).observe(AttemptWindow(), ordered, [event_time(item) for item in ordered]) == []


def test_a_service_that_logged_few_sign_ups_in_training_watches_none() -> None:
    # GIVEN logins and only three sign-ups in training
    training = sorted(logins(START, 600, 2, 0.05) + signups(START, 3, 3600.0), key=event_time)
    # THEN no sign-up wave model is trained (any few sign-ups later would look like a wave), and it says why
    assert train_wave_model(training, [event_time(item) for item in training], SIGNUPS) == (
        None,
        {"skipped": f"3 sign-ups, fewer than {MIN_EXCESS_FAILURES}"},
    )


def test_training_learns_a_sign_up_wave_model_that_the_backtest_credits_the_farm_s_sessions_to(tmp_path) -> None:
    from model.artifact import load_model
    from model.backtest import Replay, summarize
    from model.train import save, train
    from tests.model_factories import normal_traffic

    # GIVEN ten days of people, a few of them new each day (their first event a sign-up)
    people = normal_traffic(users=120, days=10)
    newcomers = people_signing_up(START, 10, per_hour=1.0)
    # WHEN a model is trained on them, saved and loaded
    loaded = load_model(save(train(sorted(people + newcomers, key=event_time)), tmp_path / "model"))
    # THEN it watches sign-ups beside logins
    assert SIGNUPS.kind in loaded.wave_models
    assert loaded.metadata["signup_waves"]["failures"] == len(newcomers)
    # AND replaying a day on which 80 accounts are registered in 40 minutes, the backtest raises one
    # sign-up wave and counts the farm's sessions as alerted by it
    day = (START + timedelta(days=10)).timestamp()
    later = [item for item in normal_traffic(users=30, days=11, seed=42) if event_time(item) >= day]
    farming = signups(START + timedelta(days=10, hours=15), count=80, every_seconds=30.0)
    replay = Replay(loaded, "user", labels={item["user_id"]: "account_farming" for item in farming})
    replay.run(((event_time(item), item) for item in sorted(later + farming, key=event_time)), 50)
    summary = summarize(replay)
    assert summary["signup_wave_alerts"] == 1
    farm = [record for name, record in replay.entities.items() if name.startswith("session:farm-")]
    assert sum(1 for record in farm if record.tried_in_wave) > 60
    assert summary["per_label"]["account_farming"]["alerted_share"] > 0.75


def browsing_with_logins(start: datetime, minutes: int, seed: int = 11) -> list[dict[str, Any]]:
    """A WAF-logged site (no statuses): people's pages, ten a minute, each page's styles, and a
    login of unknown outcome about every two minutes, each from a session of its own."""
    rng = random.Random(seed)
    events = []
    for minute in range(minutes):
        for number in range(10):
            moment = start + timedelta(minutes=minute, seconds=rng.uniform(0, 59))
            person = f"person-{minute}-{number}"
            events.append(event(moment, person, "page_view", resource=f"/jobs/{rng.randrange(900)}"))
            events.append(event(moment + timedelta(seconds=1), person, "page_view", resource="/static/site.css"))
        if rng.random() < 0.5:
            moment = start + timedelta(minutes=minute, seconds=rng.uniform(0, 59))
            events.append(event(moment, f"person-{minute}-login", "login_attempt", resource="/login"))
    return sorted(events, key=event_time)


def stuffing_without_outcomes(start: datetime, attempts: int, every_seconds: float) -> list[dict[str, Any]]:
    """Logins whose outcome the log does not say, one a session from addresses of their own."""
    return [
        event(
            start + timedelta(seconds=number * every_seconds),
            f"session:proxy-{number}",
            "login_attempt",
            resource="/login",
            ip=f"100.64.{number // 250}.{number % 250}",
        )
        for number in range(attempts)
    ]


def test_logins_are_counted_among_requests_and_page_assets_are_not() -> None:
    def outcome(event_type: str, resource: str = "/jobs/7") -> bool | None:
        return login_share_outcome(event(START, "u", event_type, resource=resource))

    assert [outcome(kind) for kind in ("login_attempt", "login_succeeded", "login_failed")] == [True] * 3
    assert [outcome(kind) for kind in ("page_view", "signup", "purchase", "api_call")] == [False] * 4
    assert outcome("page_view", "/static/site.css") is None


def test_stuffing_on_a_log_without_outcomes_alerts_once_as_a_surge_of_logins() -> None:
    # GIVEN a week of a site whose log says no login's outcome (a WAF's), trained on
    training = browsing_with_logins(START, minutes=7 * 24 * 60)
    model, metadata = train_wave_model(training, [event_time(item) for item in training], LOGIN_SURGES)
    assert model is not None
    assert 0.03 < model.usual_share < 0.07  # (a login about every two minutes among ten pages a minute)
    assert wave_model_of({"login_surge_waves": metadata}, LOGIN_SURGES) == model
    # (and the scorer reads it from the model's feature configuration: until 2026-12-06 it was left out)
    document = feature_config_document(
        {"features_version": 3, "feature_names": [], "login_surge_waves": metadata}, {}, {}
    )
    assert wave_models_of(document) == {LOGIN_SURGE_KIND: model}
    # WHEN, on a later day, 200 logins come from 200 sessions and addresses over 40 minutes
    later = START + timedelta(days=8)
    usual = browsing_with_logins(later, minutes=180, seed=12)
    attack = stuffing_without_outcomes(later + timedelta(minutes=60), attempts=200, every_seconds=12.0)
    ordered = sorted(usual + attack, key=event_time)
    alerts = WaveWatch(model, LOGIN_SURGES).observe(AttemptWindow(), ordered, [event_time(item) for item in ordered])
    # THEN the service alerts once, in words of logins among requests, while the stuffing goes on
    assert len(alerts) == 1
    (alert,) = alerts
    assert (alert.kind, alert.entity) == (LOGIN_SURGE_KIND, WAVE_ENTITY)
    assert event_time(attack[0]) < alert.last_event_at < event_time(attack[-1])
    assert " logins of " in alert.reasons[0]
    assert " requests in " in alert.reasons[0]
    assert "would be logins)" in alert.reasons[0]
    assert "at the usual 5%" in alert.reasons[0] or "at the usual 4%" in alert.reasons[0]
    assert alert.reasons == alert.reasons[:1]  # (it names no account: whose login got in, the log does not say)
    # AND the same hours without the stuffing raise none
    assert WaveWatch(model, LOGIN_SURGES).observe(AttemptWindow(), usual, [event_time(item) for item in usual]) == []


def test_a_log_whose_logins_fail_visibly_watches_no_surge_of_logins() -> None:
    # GIVEN a week of logins of which some failed visibly (the failed-login waves watch those)
    training = sorted(
        browsing_with_logins(START, minutes=7 * 24 * 60) + logins(START, minutes=600, per_minute=1, failure_share=0.1),
        key=event_time,
    )
    failed = sum(1 for item in training if item["event_type"] == "login_failed")
    # THEN no surge model is trained, and training says why
    assert train_wave_model(training, [event_time(item) for item in training], LOGIN_SURGES) == (
        None,
        {"skipped": f"{failed} failed logins: the waves of failed logins watch them"},
    )


def test_a_small_site_whose_few_logins_fail_visibly_watches_no_surge_of_logins() -> None:
    # GIVEN a small shop's week: 51 logins, 6 of them failed (people mistyping), on a site's browsing
    browsing = [item for item in browsing_with_logins(START, minutes=7 * 24 * 60) if item["event_type"] == "page_view"]
    customers = [
        event(
            START + timedelta(hours=3 * number),
            f"customer-{number}",
            "login_failed" if number % 8 == 0 else "login_succeeded",
            resource="/my-account/",
        )
        for number in range(51)
    ]
    training = sorted(browsing + customers, key=event_time)
    assert sum(1 for item in customers if item["event_type"] == "login_failed") == 7
    # THEN its logins fail visibly: the failed-login waves watch them, and no surge model is trained
    model, metadata = train_wave_model(training, [event_time(item) for item in training], LOGIN_SURGES)
    assert model is None
    assert metadata == {"skipped": "7 failed logins: the waves of failed logins watch them"}
    # AND where the few failures are a sliver of many logins (an expired form's 403), the surges are watched
    many = [
        event(
            START + timedelta(minutes=10 * number),
            f"customer-{number}",
            "login_failed" if number < 5 else "login_succeeded",
            resource="/login",
        )
        for number in range(500)
    ]
    training = sorted(browsing + many, key=event_time)
    assert train_wave_model(training, [event_time(item) for item in training], LOGIN_SURGES)[0] is not None


def test_a_log_whose_logins_all_read_as_failed_watches_the_surges_of_logins() -> None:
    # GIVEN a week whose every login read as failed (a status given as a failed login's that a
    # successful one gets too: a login API answering 200 either way)
    training = [
        {**item, "event_type": "login_failed"} if item["event_type"] == "login_attempt" else item
        for item in browsing_with_logins(START, minutes=7 * 24 * 60)
    ]
    # THEN the surges of logins are watched: the failures tell nothing the logins do not
    model, _ = train_wave_model(training, [event_time(item) for item in training], LOGIN_SURGES)
    assert model is not None


def test_a_busy_share_of_zero_holds_a_crowd_to_the_floor_without_dividing_by_zero() -> None:
    # GIVEN a model whose training's busy windows held no failure at all (busy share 0), and a crowd
    # larger than training's busiest window, a few of whom fail
    model = WaveModel(usual_share=0.01, threshold=SURPRISE_FLOOR, busy_share=0.0, busiest_attempts=20)
    crowd = logins(START, minutes=5, per_minute=60, failure_share=0.2)
    # THEN the surprise is finite, and the crowd is judged: a wave, its share far above the busy share
    assert math.isfinite(surprise(300, 60, 0.0))
    assert math.isfinite(surprise(300, 299, 1.0))
    alerts = WaveWatch(model).observe(AttemptWindow(), crowd, [event_time(item) for item in crowd])
    assert len(alerts) == 1


def shopping_with_payments(start: datetime, minutes: int, seed: int = 13) -> list[dict[str, Any]]:
    """A GraphQL shop's requests (no payment declines visibly): ten a minute, and an order placed about
    every four minutes, answered 200 whatever the card did."""
    rng = random.Random(seed)
    events = []
    for minute in range(minutes):
        for number in range(10):
            moment = start + timedelta(minutes=minute, seconds=rng.uniform(0, 59))
            events.append(event(moment, f"shopper-{minute}-{number}", "api_call", resource="/graphql/ProductDetails"))
        if rng.random() < 0.25:
            moment = start + timedelta(minutes=minute, seconds=rng.uniform(0, 59))
            events.append(event(moment, f"buyer-{minute}", "purchase", resource="/graphql/CheckoutComplete"))
    return sorted(events, key=event_time)


def test_payments_are_counted_among_requests_and_page_assets_are_not() -> None:
    def outcome(event_type: str, resource: str = "/graphql/Me") -> bool | None:
        return payment_share_outcome(event(START, "u", event_type, resource=resource))

    assert outcome("purchase", "/graphql/CheckoutComplete") is True
    assert [outcome(kind) for kind in ("page_view", "login_attempt", "add_to_cart", "api_call")] == [False] * 4
    assert outcome("page_view", "/static/site.css") is None


def test_card_testing_where_declines_are_answered_200_alerts_once_as_a_surge_of_payments() -> None:
    # GIVEN a week of a shop whose log shows no declined payment (its API answers 200 either way)
    training = shopping_with_payments(START, minutes=7 * 24 * 60)
    model, metadata = train_wave_model(training, [event_time(item) for item in training], PAYMENT_SURGES)
    assert model is not None
    assert wave_model_of({"payment_surge_waves": metadata}, PAYMENT_SURGES) == model
    # (and the payment waves, trained too, could never rise there: training saw no decline)
    payments, payment_metadata = train_wave_model(training, [event_time(item) for item in training], PAYMENTS)
    assert payments is not None
    assert payment_metadata["failures"] == 0
    # WHEN, on a later day, card testers place 120 orders from 40 guest checkouts over half an hour
    later = START + timedelta(days=8)
    usual = shopping_with_payments(later, minutes=180, seed=14)
    testing = [
        event(
            later + timedelta(minutes=60, seconds=15 * number),
            f"session:guest-{number % 40}",
            "purchase",
            resource="/graphql/CheckoutComplete",
            ip=f"100.64.0.{number % 40}",
        )
        for number in range(120)
    ]
    ordered = sorted(usual + testing, key=event_time)
    watch = WaveWatch(model, PAYMENT_SURGES)
    alerts = watch.observe(AttemptWindow(), ordered, [event_time(item) for item in ordered])
    # THEN the service alerts once, in words of payments among requests, while the testing goes on
    assert len(alerts) == 1
    (alert,) = alerts
    assert (alert.kind, alert.entity) == (PAYMENT_SURGE_KIND, WAVE_ENTITY)
    assert event_time(testing[0]) < alert.last_event_at < event_time(testing[-1])
    assert " payments of " in alert.reasons[0]
    assert "would be payments)" in alert.reasons[0]
    # (and what a usual share would give that rounds to none is said so: it read "about 0")
    rare = WaveWatch(replace(model, usual_share=0.0005), PAYMENT_SURGES)
    (alert,) = rare.observe(AttemptWindow(), ordered, [event_time(item) for item in ordered])
    assert ", fewer than 1 would be payments)" in alert.reasons[0]
    # AND the same hours without it raise none
    assert WaveWatch(model, PAYMENT_SURGES).observe(AttemptWindow(), usual, [event_time(item) for item in usual]) == []


def test_a_request_that_sends_a_one_time_code_is_told_by_its_path() -> None:
    # THEN a code asked for is a POST to a path whose end says so, as apps and identity services name it
    for path in (
        "/v1/auth/otp",
        "/api/send-otp",
        "/auth/resend-code",
        "/v1/otps/sms/send",
        "/auth/mfa/sms/send",
        "/passwordless/start",
        "/v1/accounts:sendVerificationCode?key=abc",
        "/verify/phone/start",
        "/auth/sms/",
        "/login/send_otp.php",
        "/signup/resend",
    ):
        assert sends_code(path, "POST"), path
    # AND a log without methods counts such a path too
    assert sends_code("/v1/auth/otp")
    # AND the code checked, its form fetched, a message sent, a page about codes, a login are not
    for path, method in (
        ("/v1/auth/otp/verify", "POST"),
        ("/v1/auth/otp", "GET"),
        ("/messages/send", "POST"),
        ("/blog/otp-explained", "POST"),
        ("/v1/auth/login", "POST"),
        ("/sms/inbox", "POST"),
        # (what resends or texts other things than a code: an order, an invitation, a campaign, a
        # preference, an incoming text's webhook, a login flow started)
        ("/orders/123/resend", "POST"),
        ("/api/v1/invitations/42/resend", "POST"),
        ("/sms/campaigns/send", "POST"),
        ("/me/notifications/sms", "PUT"),
        ("/webhooks/twilio/sms", "POST"),
        ("/auth/login/start", "POST"),
        ("/v1/auth/otp\n", "POST"),
    ):
        assert not sends_code(path, method), path
    # AND the archive's SQL (DuckDB, as the console queries it) reads the pattern alike
    import duckdb

    connection = duckdb.connect()
    for path in ("/V1/AUTH/OTP", "/v1/otps/sms/send", "/signup/resend", "/orders/123/resend", "/v1/auth/otp\n"):
        (found,) = connection.execute("SELECT regexp_matches(?, ?)", [path, f"(?i){CODE_SENT_PATTERN}"]).fetchone()
        assert found == sends_code(path), path


def test_codes_sent_are_counted_among_requests_and_page_assets_are_not() -> None:
    def outcome(resource: str, method: str = "POST") -> bool | None:
        return code_sent_outcome(event(START, "u", "page_view", resource=resource, properties={"method": method}))

    assert outcome("/v1/auth/otp") is True
    assert [outcome(path) for path in ("/v1/auth/otp/verify", "/v1/cart", "/v1/auth/login")] == [False] * 3
    assert outcome("/static/app.js", "GET") is None


def app_with_codes(start: datetime, minutes: int, seed: int = 15) -> list[dict[str, Any]]:
    """An app's API calls, twelve a minute, and a one-time code asked for (a sign-in by text message)
    about every ten minutes."""
    rng = random.Random(seed)
    events = []
    for minute in range(minutes):
        for number in range(12):
            moment = start + timedelta(minutes=minute, seconds=rng.uniform(0, 59))
            events.append(
                event(moment, f"user-{minute}-{number}", "page_view", resource="/v1/feed", properties={"method": "GET"})
            )
        if rng.random() < 0.1:
            moment = start + timedelta(minutes=minute, seconds=rng.uniform(0, 59))
            events.append(
                event(moment, f"client:{minute}", "page_view", resource="/v1/auth/otp", properties={"method": "POST"})
            )
    return sorted(events, key=event_time)


def test_sms_pumping_alerts_once_as_a_surge_of_codes_sent() -> None:
    # GIVEN a week of an app whose people sign in with a code by text message now and then
    training = app_with_codes(START, minutes=7 * 24 * 60)
    model, metadata = train_wave_model(training, [event_time(item) for item in training], CODES_SENT)
    assert model is not None
    assert wave_model_of({"code_surge_waves": metadata}, CODES_SENT) == model
    # WHEN, on a later day, bots ask for 150 codes through 50 addresses over half an hour
    later = START + timedelta(days=8)
    usual = app_with_codes(later, minutes=180, seed=16)
    pumping = [
        event(
            later + timedelta(minutes=60, seconds=12 * number),
            f"client:pump-{number % 50}",
            "page_view",
            resource="/v1/auth/otp",
            ip=f"100.64.0.{number % 50}",
            properties={"method": "POST"},
        )
        for number in range(150)
    ]
    ordered = sorted(usual + pumping, key=event_time)
    alerts = WaveWatch(model, CODES_SENT).observe(AttemptWindow(), ordered, [event_time(item) for item in ordered])
    # THEN the service alerts once, in words of codes among requests, while the pumping goes on
    assert len(alerts) == 1
    (alert,) = alerts
    assert (alert.kind, alert.entity) == (CODE_SURGE_KIND, WAVE_ENTITY)
    assert event_time(pumping[0]) < alert.last_event_at < event_time(pumping[-1])
    assert " one-time codes sent of " in alert.reasons[0]
    assert "would send codes)" in alert.reasons[0]
    # AND the same hours without it raise none
    assert WaveWatch(model, CODES_SENT).observe(AttemptWindow(), usual, [event_time(item) for item in usual]) == []


def test_the_backtest_replays_a_surge_of_codes_sent_and_counts_the_pumping_clients(tmp_path) -> None:
    from model.artifact import load_model
    from model.backtest import Replay, summarize, write_outputs
    from model.train import save, train
    from tests.model_factories import normal_traffic

    # GIVEN ten days of people, some of whom ask for a code by text message now and then
    people = normal_traffic(users=120, days=10)
    rng = random.Random(5)
    codes = [
        {
            **item,
            "event_id": f"00000000-0000-4000-9000-{index:012d}",
            "resource": "/api/auth/otp",
            "properties": {"method": "POST"},
        }
        for index, item in enumerate(people)
        if item["event_type"] == "page_view" and rng.random() < 0.01
    ]
    loaded = load_model(save(train(sorted(people + codes, key=event_time)), tmp_path / "model"))
    assert CODES_SENT.kind in loaded.wave_models
    # WHEN a day on which bots ask for 200 codes through 100 addresses within an hour is replayed
    day = START + timedelta(days=10)
    later = [item for item in normal_traffic(users=30, days=11, seed=42) if event_time(item) >= day.timestamp()]
    pumping = [
        event(
            day + timedelta(hours=15, seconds=18 * number),
            f"client:pump-{number % 100}",
            "page_view",
            resource="/api/auth/otp",
            ip=f"100.64.1.{number % 100}",
            status=200,
            properties={"method": "POST"},
        )
        for number in range(200)
    ]
    replay = Replay(loaded, "user", labels={item["user_id"]: "sms_pumping" for item in pumping})
    replay.run(((event_time(item), item) for item in sorted(later + pumping, key=event_time)), 50)
    summary = summarize(replay)
    # THEN one surge of codes sent alerts, and counts the pumping clients that asked during it
    assert summary["code_surge_alerts"] == 1
    pumps = [record for name, record in replay.entities.items() if name.startswith("client:pump-")]
    assert sum(1 for record in pumps if record.tried_in_wave) >= 90
    # AND the report has its section
    write_outputs(replay, summary, tmp_path / "out")
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Surges of one-time codes sent (the whole service)" in report
    assert " one-time codes sent of " in report


def test_an_app_that_sent_few_codes_in_training_watches_no_surge_of_them() -> None:
    # GIVEN a day with 3 codes asked for among its requests
    training = [item for item in app_with_codes(START, minutes=24 * 60) if item["resource"] != "/v1/auth/otp"]
    training += [
        event(START + timedelta(hours=hour), f"client:{hour}", "page_view", resource="/v1/auth/otp")
        for hour in (1, 5, 9)
    ]
    training.sort(key=event_time)
    # THEN no surge model is trained, and training says why
    assert train_wave_model(training, [event_time(item) for item in training], CODES_SENT) == (
        None,
        {"skipped": f"3 one-time codes sent, fewer than {MIN_EXCESS_FAILURES}"},
    )


def test_a_shop_whose_payments_decline_visibly_watches_no_surge_of_payments() -> None:
    # GIVEN a week whose payments were declined with 402 now and then (the payment waves watch those)
    training = [
        {**item, "status": 402} if item["event_type"] == "purchase" and number % 10 == 0 else item
        for number, item in enumerate(shopping_with_payments(START, minutes=7 * 24 * 60))
    ]
    declined = sum(1 for item in training if item.get("status") == 402)
    # THEN no surge model is trained, and training says why
    assert train_wave_model(training, [event_time(item) for item in training], PAYMENT_SURGES) == (
        None,
        {"skipped": f"{declined} declined payments: the waves of declined payments watch them"},
    )
