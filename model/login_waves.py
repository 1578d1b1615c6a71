"""Credential-stuffing waves: the service's share of failed logins far above its usual level.

Stuffing through residential proxies spends one or two attempts per address, per browser and per
account, so no user, session or address shows it; the service does, as a surge of failed logins.
Each scorer watches the logins of its shard (Kinesis partitions by user, so a shard sees a random
share of the accounts) over a sliding window of ``WINDOW_MINUTES`` one-minute buckets, and measures
how far the window's failures exceed the failure share learned at training with a one-sided
binomial log-likelihood ratio (``surprise``, in nats). It does not depend on traffic volume the way a
count does: a quiet night and a busy afternoon with the usual share both score near zero.

A wave alerts once, when the surprise first crosses the threshold and the window holds at least
``MIN_EXCESS_FAILURES`` failures more than the usual share would give; it ends when the surprise
falls below ``WAVE_END_FRACTION`` of the threshold. The threshold is the larger of
``SURPRISE_FLOOR`` and ``TRAINING_MARGIN`` times the highest surprise of any window of the training
traffic, so a service whose failure share swings with the hours does not alert on its own swings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from model.entities import EntityAlert, Evidence
from model.exceptions import InvalidStateError

LOGIN_SUCCEEDED = "login_succeeded"
LOGIN_FAILED = "login_failed"
# The alert's entity: the whole service's logins (as a scorer sees them on its shard).
WAVE_KIND = "logins"
WAVE_ENTITY = "service"

BUCKET_SECONDS = 60
WINDOW_MINUTES = 10
# Fewer surplus failures than this in a window is a few people mistyping, whatever the share.
MIN_EXCESS_FAILURES = 20
# About a one-in-a-million chance under the usual share (a likelihood-ratio statistic of 2 x 12 nats
# with one degree of freedom): once in two years of one-minute windows on one shard.
SURPRISE_FLOOR = 12.0
TRAINING_MARGIN = 1.5
WAVE_END_FRACTION = 0.5
# A wave's alert names at most this many accounts that logged in successfully during it.
MAX_NAMED_ACCOUNTS = 10
# The usual share is kept away from 0 and 1 so that one failure in a service that never had any is
# not infinitely surprising.
MIN_USUAL_SHARE = 0.001
MAX_USUAL_SHARE = 0.999


def surprise(attempts: int, failures: int, usual_share: float) -> float:
    """How many nats likelier ``failures`` of ``attempts`` are under their own share than under
    ``usual_share`` (the binomial log-likelihood ratio); 0 when the share is at or below usual."""
    if attempts <= 0 or failures <= attempts * usual_share:
        return 0.0
    observed = failures / attempts
    ratio = failures * math.log(observed / usual_share)
    if failures < attempts:
        ratio += (attempts - failures) * math.log((1.0 - observed) / (1.0 - usual_share))
    return ratio


@dataclass(frozen=True)
class LoginWaveModel:
    """What training learned: the usual failure share and the surprise that makes a wave."""

    usual_share: float
    threshold: float

    def to_json(self) -> dict[str, Any]:
        return {"usual_share": self.usual_share, "threshold": self.threshold, "window_minutes": WINDOW_MINUTES}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LoginWaveModel:
        try:
            model = cls(float(data["usual_share"]), float(data["threshold"]))
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidStateError("login wave model", f"not one ({error!r})") from None
        if not MIN_USUAL_SHARE <= model.usual_share <= MAX_USUAL_SHARE or not model.threshold > 0:
            raise InvalidStateError("login wave model", f"out of range: {dict(data)}")
        return model


@dataclass
class LoginWindow:
    """A scorer's running view of its shard's logins: the window's buckets and the wave under way."""

    buckets: dict[int, list[int]] = field(default_factory=dict)  # minute -> [attempts, failures]
    waves: int = 0  # waves seen, the alert's episode number
    in_wave: bool = False
    successes: list[tuple[float, str]] = field(default_factory=list)  # (time, user) in the window

    def totals(self) -> tuple[int, int]:
        attempts = failures = 0
        for bucket_attempts, bucket_failures in self.buckets.values():
            attempts += bucket_attempts
            failures += bucket_failures
        return attempts, failures

    def add(self, moment: float, failed: bool, user: str) -> bool:
        """Count one login; False (and nothing counted) when it is older than the window."""
        minute = int(moment // BUCKET_SECONDS)
        newest = max(self.buckets, default=minute)
        oldest_kept = max(newest, minute) - WINDOW_MINUTES + 1
        if minute < oldest_kept:
            return False
        for stale in [key for key in self.buckets if key < oldest_kept]:
            del self.buckets[stale]
        bucket = self.buckets.setdefault(minute, [0, 0])
        bucket[0] += 1
        bucket[1] += failed
        start = oldest_kept * BUCKET_SECONDS
        self.successes = [item for item in self.successes if item[0] >= start]
        if not failed:
            self.successes = [*self.successes, (moment, user)][-MAX_NAMED_ACCOUNTS:]
        return True

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "b": [[minute, *counts] for minute, counts in sorted(self.buckets.items())],
                "w": self.waves,
                "a": self.in_wave,
                "s": [[round(moment, 6), user] for moment, user in self.successes],
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> LoginWindow:
        try:
            raw = json.loads(data)
            return cls(
                {int(minute): [int(attempts), int(failures)] for minute, attempts, failures in raw["b"]},
                int(raw["w"]),
                bool(raw["a"]),
                [(float(moment), str(user)) for moment, user in raw["s"]],
            )
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidStateError("login window", f"unreadable ({error!r})") from None


def login_outcome(event: Mapping[str, Any]) -> bool | None:
    """True for a failed login, False for a successful one, None for any other event."""
    event_type = event.get("event_type")
    if event_type == LOGIN_FAILED:
        return True
    if event_type == LOGIN_SUCCEEDED:
        return False
    return None


def folded_into_wave(
    window: LoginWindow | None, alert: EntityAlert, evidence: Evidence | None, tried: Collection[str]
) -> bool:
    """Whether an entity's alert is part of the wave under way rather than news of its own: raised
    while the shard's logins are in a wave (its last login at most a window before the alert), by
    an episode whose every request failed, and whose requests in this batch are all failed logins
    (``tried``: the entities whose are; a scan of 404s is not folded). Stuffing that tries thousands
    of accounts once each would otherwise alert on each of them (most are new ids); the wave alerts
    once and names the accounts that got in, whose episodes did not fail throughout and still alert
    on their own. The tried accounts are counted, not listed."""
    if window is None or not window.in_wave or not window.buckets or evidence is None:
        return False
    last_login = (max(window.buckets) + 1) * BUCKET_SECONDS
    return (
        alert.last_event_at - last_login <= WINDOW_MINUTES * BUCKET_SECONDS
        and alert.entity in tried
        and evidence.episode == alert.episode
        and evidence.all_failed()
    )


def failed_logins_only(keys: Sequence[str | None], events: Sequence[Mapping[str, Any]]) -> set[str]:
    """The entities (``keys``, one per event; None for none) whose every event here is a failed login."""
    failed: set[str] = set()
    other: set[str] = set()
    for key, event in zip(keys, events, strict=True):
        if key is not None:
            (failed if login_outcome(event) is True else other).add(key)
    return failed - other


def fold_into_wave(
    window: LoginWindow | None,
    alerts: Sequence[EntityAlert],
    evidence: Mapping[str, Evidence],
    tried: Collection[str],
) -> tuple[list[EntityAlert], list[EntityAlert]]:
    """``alerts`` split into those to send and those the wave covers (``folded_into_wave``; the
    entities' ``evidence`` by key). A folded episode is left open, not marked alerted: if it goes on
    to anything but failed logins (the stuffing got in), or fails on after the wave, it alerts on
    its own; while it does not, each batch that finds it over the threshold folds it again."""
    sent: list[EntityAlert] = []
    folded: list[EntityAlert] = []
    for alert in alerts:
        episode = evidence.get(alert.entity)
        if folded_into_wave(window, alert, episode, tried):
            assert episode is not None  # folded_into_wave checked
            episode.alerted = False
            folded.append(alert)
        else:
            sent.append(alert)
    return sent, folded


class LoginWaveWatch:
    """The per-batch step the scorer and the backtest share: count logins, alert once per wave."""

    def __init__(self, model: LoginWaveModel) -> None:
        self.model = model

    def observe(
        self, window: LoginWindow, events: Sequence[Mapping[str, Any]], times: Sequence[float]
    ) -> list[EntityAlert]:
        """Add a batch's events (time order) to ``window`` (updated in place); the alerts raised."""
        model = self.model
        alerts: list[EntityAlert] = []
        for event, moment in zip(events, times, strict=True):
            failed = login_outcome(event)
            if failed is None or not window.add(moment, failed, str(event.get("user_id", ""))):
                continue
            attempts, failures = window.totals()
            score = surprise(attempts, failures, model.usual_share)
            if window.in_wave:
                window.in_wave = score >= model.threshold * WAVE_END_FRACTION
                continue
            excess = failures - attempts * model.usual_share
            if score < model.threshold or excess < MIN_EXCESS_FAILURES:
                continue
            window.in_wave = True
            window.waves += 1
            alerts.append(self._alert(window, moment, attempts, failures, score))
        return alerts

    def _alert(self, window: LoginWindow, moment: float, attempts: int, failures: int, score: float) -> EntityAlert:
        usual = self.model.usual_share
        reasons = [
            f"{failures} failed logins of {attempts} in {WINDOW_MINUTES} min ({failures / attempts:.0%}; "
            f"usually {usual:.0%}, so about {attempts * usual:.0f})"
        ]
        if window.successes:
            accounts = ", ".join(dict.fromkeys(user for _, user in window.successes))
            reasons.append(f"successful logins during it, to check: {accounts}")
        # Scorers of several shards that see the same wave start it in the same window more often
        # than not; the alert's marker is keyed by that window, so they publish it once.
        window_seconds = WINDOW_MINUTES * BUCKET_SECONDS
        started = (moment // window_seconds) * window_seconds
        return EntityAlert(
            WAVE_ENTITY, WAVE_KIND, score, self.model.threshold, window.waves, started, moment, attempts, tuple(reasons)
        )


def train_login_wave_model(
    events: Sequence[Mapping[str, Any]], times: Sequence[float]
) -> tuple[LoginWaveModel | None, dict[str, Any]]:
    """The wave model of the training traffic (any events, time order), and what it was fitted on;
    no model when the traffic holds no login at all."""
    outcomes = [
        (moment, failed)
        for event, moment in zip(events, times, strict=True)
        if (failed := login_outcome(event)) is not None
    ]
    if not outcomes:
        return None, {"skipped": "no login_succeeded or login_failed events"}
    attempts = len(outcomes)
    failures = sum(failed for _, failed in outcomes)
    # One pseudo-attempt of each kind keeps the share off 0 and 1 for a service that logs only one.
    usual = min(max((failures + 1) / (attempts + 2), MIN_USUAL_SHARE), MAX_USUAL_SHARE)
    window = LoginWindow()
    highest = 0.0
    for moment, failed in outcomes:
        if window.add(moment, failed, ""):
            highest = max(highest, surprise(*window.totals(), usual))
    model = LoginWaveModel(usual, max(SURPRISE_FLOOR, TRAINING_MARGIN * highest))
    metadata = {
        **model.to_json(),
        "attempts": attempts,
        "failures": failures,
        "training_max_surprise": round(highest, 3),
        "min_excess_failures": MIN_EXCESS_FAILURES,
    }
    return model, metadata


def login_wave_model_of(metadata: Mapping[str, Any]) -> LoginWaveModel | None:
    """The wave model a model's metadata records; None for one trained without logins or before."""
    recorded = metadata.get("login_waves")
    if not recorded or "threshold" not in recorded:
        return None
    return LoginWaveModel.from_json(recorded)
