"""Waves of failed attempts: the service's share of failed logins (credential stuffing) or of
declined payments (card testing) far above its usual level.

Card testing is the same shape as stuffing: bots submit small payments with stolen cards, one or
two per proxy address, and most are declined; no client shows it, the service's declines do. Each
kind of attempt (``Attempts``: ``LOGINS``, ``PAYMENTS``) has its own model, window and alert; what
follows says "logins" for both. A payment is a submitted ``purchase``, declined when its status is
a 4xx (402 and the like) or a failure outcome; a server error is neither.

Stuffing through residential proxies spends one or two attempts per address, per browser and per
account, so no user, session or address shows it; the service does, as a surge of failed logins.
Each scorer watches the logins of its shard (Kinesis partitions by user, so a shard sees a random
share of the accounts) over two sliding windows of one-minute buckets, the last ``WINDOW_MINUTES``
(a burst) and the last ``LONG_WINDOW_MINUTES`` (a trickle of an attempt every few minutes, which
never fills the short one), and measures how far each window's failures exceed the failure share
learned at training with a one-sided binomial log-likelihood ratio (``surprise``, in nats). It does
not depend on traffic volume the way a count does: a quiet night and a busy afternoon with the usual
share both score near zero.

A wave alerts once, when the surprise of either window first crosses that window's threshold, and
the window holds at least ``MIN_EXCESS_FAILURES`` failures more than the usual share would give,
on at least ``MIN_FAILED_ACCOUNTS`` accounts; it ends when the surprise of the window that raised it
falls below ``WAVE_END_FRACTION`` of its threshold, and the next wave is judged on the logins since.
Each threshold is the larger of ``SURPRISE_FLOOR`` and ``TRAINING_MARGIN`` times the highest
surprise of any window of that length in the training traffic, so a service whose failure share
swings with the hours does not alert on its own swings.

The surprise grows with the number of logins at a given share, so a crowd larger than any training
saw (a ticket on-sale: thousands of people logging in at once, failing twice as often as usual as
they hurry) crosses a threshold that training's smaller crowds did not, though its failure share is
no higher than theirs. So a window holding more logins than any training window of its length did
must also fail significantly more often (``SURPRISE_FLOOR``) than the busy share: the failure
share of training's busiest windows taken together (of each length, those holding at least
``BUSY_FRACTION`` of the busiest one's logins and ``BUSY_WINDOW_ATTEMPTS``), the share people had
when most of them came at once. Pooled, not the highest of them: the highest share of many windows
is their noise. What people did on training's busiest days is the service's own, however many do
it at once; stuffing that drives the share beyond it is a wave. A training without a window of
``BUSY_WINDOW_ATTEMPTS`` logins sets no busy share.

Account farming is a wave too, of sign-ups (``SIGNUPS``): bots register accounts by the dozen, one or
two per proxy address, each a sign-up like anyone's; the service's account traffic shows it, as a
surge of sign-ups among its sign-ups and logins. Its "failures" are the sign-ups and its other
attempts the logins: a share that swings with the site's growth and its campaigns far less than a
count does, and whose training swings set its thresholds as they do the logins'. A launch that
brings many new people at once is a surge too, which the alert reports for what it is.
Where a log does not tell a failed login from one that got in (a WAF's log records no status; a
single-page app's login API answers 200 either way), stuffing leaves no failed login to count; its
logins themselves are the surge (``LOGIN_SURGES``): the share of a service's requests (page assets
aside) that submit a login, far above its usual. It is watched only where training's logins never
visibly failed, or never visibly succeeded (fewer than ``MIN_EXCESS_FAILURES`` of either, and on
a small site fewer than ``MIN_SEEN_SHARE`` of them: a status
given as a failed login's that a successful one gets too): elsewhere the failed-login waves watch
them, and one stuffing would raise two alerts. Payments likewise (``PAYMENT_SURGES``): where a
declined card is answered with 200 (a GraphQL API's checkout, WooCommerce's), card testing is a surge
of payments among the service's requests. SMS pumping likewise (``CODES_SENT``): bots ask an app to
text one-time codes (to numbers whose carriers share the fees) by the hundred, a few per proxy
address; no event type says "a code sent", its path does (``model.features.resources.sends_code``),
and the pumping is a surge of such requests among the service's.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, NamedTuple

import numpy as np

from model.entities import PSEUDONYMOUS_USERS, EntityAlert, Evidence
from model.exceptions import InvalidStateError
from model.features import FEATURE_NAMES
from model.features.clock import BEHIND_RESET, EventClock
from model.features.events import CLIENT_ERROR_CLASS, FAILURE_OUTCOME_CLASS, SERVER_ERROR_CLASS, status_class
from model.features.resources import CODE_SENT_PATTERN, is_page_asset, request_method, sends_code

LOGIN_SUCCEEDED = "login_succeeded"
LOGIN_FAILED = "login_failed"
LOGIN_ATTEMPT = "login_attempt"  # a login submitted whose outcome the log does not say (no status)
PURCHASE = "purchase"
SIGNUP = "signup"  # an account registered (traffic.importer reads it from a sign-up form's submission)
SITE_ERROR_OUTCOME = "error"  # the one failure outcome that is the site's, not the payment's
# The alert's entity: the whole service's logins (as a scorer sees them on its shard).
WAVE_KIND = "logins"
PAYMENT_WAVE_KIND = "payments"
SIGNUP_WAVE_KIND = "signups"
LOGIN_SURGE_KIND = "login_surges"
PAYMENT_SURGE_KIND = "payment_surges"
VISITOR_WAVE_KIND = "visitors"
CODE_SURGE_KIND = "code_surges"
VISIT = "visit_without_assets"  # a settled visit's field (model.visits): whether it read as a crawler's
WAVE_ENTITY = "service"

BUCKET_SECONDS = 60
WINDOW_MINUTES = 10
LONG_WINDOW_MINUTES = 60
# Fewer surplus failures than this in a window is a few people mistyping, whatever the share.
MIN_EXCESS_FAILURES = 10
# Failures on fewer accounts than this are people retrying their own passwords, however often. (An
# access log without user names keys each failure by its session or client, as the importer does.)
MIN_FAILED_ACCOUNTS = 5
# A session's or client's pseudonym is no account: a bot that tries account after account from one
# browser is one key. Its failures in a quick run (each within PSEUDONYM_RUN_SECONDS of the one
# before) count as one more account every PSEUDONYM_RETRIES: a person retrying their password does
# not fail forty times in a row at that pace, and a stale password in a script retried every few
# minutes is no run. On a new-user trial's log that named users only once they were in, two hosting
# addresses failed 2,182 logins in 36 minutes, two keys, and no wave named the 18 accounts they got
# into until normal failures an hour later made up five accounts.
PSEUDONYM_RETRIES = 10
PSEUDONYM_RUN_SECONDS = 60.0
# About a one-in-a-million chance under the usual share (a likelihood-ratio statistic of 2 x 12 nats
# with one degree of freedom): once in two years of one-minute windows on one shard.
SURPRISE_FLOOR = 12.0
TRAINING_MARGIN = 1.5
# Training windows with this many logins or more, and this share of the busiest one's, are busy.
BUSY_WINDOW_ATTEMPTS = 100
BUSY_PAYMENT_ATTEMPTS = 20
BUSY_FRACTION = 0.5
WAVE_END_FRACTION = 0.5
# A wave's alert names at most this many accounts that logged in successfully during it...
MAX_NAMED_ACCOUNTS = 10
# ...and a follow-up, at most every short window while the wave lasts and when it is over, this many
# of those whose attempts went through since (the first, and how many more): a window item stays
# within about 3 KB.
MAX_FOLLOWED_ACCOUNTS = 25
# An account whose attempts went through ROUTINE_DAILY_SUCCESSES times a day or more on ROUTINE_DAYS
# days of training is routine (a monitor's synthetic login every few minutes, an integration that
# logs in for each sync, a reseller's stream of payments): what it does all day, it does during a
# wave too, and naming it in every alert and follow-up hides the accounts to check among it (a
# new-user trial of a betting site's log named its uptime check's login in all 14 follow-ups of a
# night's stuffing). A person logs in a few times a day. Its attempts still count in the window.
ROUTINE_DAYS = 3
ROUTINE_DAILY_SUCCESSES = 12
MAX_ROUTINE_ACCOUNTS = 100  # the model keeps the routine accounts with the most such days
# A success from a device and network its account had used (the user agent among the account's last
# few, its network's too), by an account that had no failed attempt for about three hours (its
# failures decayed over an hour below this), is its owner's as far as the log can tell: counted in the
# wave, not named (``familiar_attempts``). Stuffing gets in with the attacker's browser, new to the
# account; on new-user trials the people who logged in during a night's wave as they always do
# were half the accounts named "to check".
FAMILIAR_DECAYED_FAILURES = 0.05
# The usual share is kept away from 0 and 1 so that one failure in a service that never had any is
# not infinitely surprising.
MIN_USUAL_SHARE = 0.001
MAX_USUAL_SHARE = 0.999
# Training's attempts visibly fail where both outcomes come MIN_EXCESS_FAILURES times, or, on a small
# site, at least MIN_SEEN_OUTCOMES times and MIN_SEEN_SHARE of the attempts each: people mistype
# their passwords, so a site whose logins fail visibly shows a share of failures that a few errors
# of another kind (an expired form's 403 among logins answered 200 either way) do not make. A small
# WooCommerce shop's 51 logins of a week, 6 of them failed, counted as failing invisibly, and its
# surges of logins alerted beside its failed-login waves, twice for each wave of a brute force.
MIN_SEEN_OUTCOMES = 3
MIN_SEEN_SHARE = 0.05
# A log whose visits read as crawlers' this often holds no page assets to speak of (model.visits).
MOST_USUAL_VISITS_WITHOUT_ASSETS = 0.9


def _percent(share: float) -> str:
    """A share in percent, with a figure that is not 0 where it is under 1 % (logins among requests)."""
    return f"{share:.0%}" if share >= 0.01 else f"{share * 100:.1g}%"


def accounts_in(user: str, run: int) -> int:
    """How many accounts a key's failures count as: an account's, one; a session's or client's
    pseudonym's, one more for every ``PSEUDONYM_RETRIES`` failures of its quick ``run``."""
    if not user.startswith(PSEUDONYMOUS_USERS):
        return 1
    return 1 + (run - 1) // PSEUDONYM_RETRIES


def surprise(attempts: int, failures: int, usual_share: float) -> float:
    """How many nats likelier ``failures`` of ``attempts`` are under their own share than under
    ``usual_share`` (the binomial log-likelihood ratio); 0 when the share is at or below usual. The
    usual share is kept within ``MIN_USUAL_SHARE`` and ``MAX_USUAL_SHARE``: a busy share of 0 (a
    sale's busiest training windows without one crawler's visit) divided by zero."""
    usual_share = min(max(usual_share, MIN_USUAL_SHARE), MAX_USUAL_SHARE)
    if attempts <= 0 or failures <= attempts * usual_share:
        return 0.0
    observed = failures / attempts
    ratio = failures * math.log(observed / usual_share)
    if failures < attempts:
        ratio += (attempts - failures) * math.log((1.0 - observed) / (1.0 - usual_share))
    return ratio


@dataclass(frozen=True)
class WaveModel:
    """What training learned: the usual failure share and the surprise that makes a wave, in the
    short window and in the long one (None for a model trained before it had one)."""

    usual_share: float
    threshold: float
    long_threshold: float | None = None
    # The failure share a crowd larger than training's must exceed significantly, and the most logins
    # a training window of each length held (None: no busy share, for a training without a window of
    # BUSY_WINDOW_ATTEMPTS logins, or a model trained before it).
    busy_share: float | None = None
    busiest_attempts: int = 0
    long_busiest_attempts: int = 0
    # Accounts routine in training (ROUTINE_DAYS): named by no alert or follow-up.
    routine: frozenset[str] = frozenset()

    def busiest(self, minutes: int) -> int:
        """The most logins a training window of that length held."""
        return self.long_busiest_attempts if minutes == LONG_WINDOW_MINUTES else self.busiest_attempts

    def windows(self) -> list[tuple[int, float]]:
        """``(minutes, threshold)`` of each window judged, the short one first."""
        judged = [(WINDOW_MINUTES, self.threshold)]
        if self.long_threshold is not None:
            judged.append((LONG_WINDOW_MINUTES, self.long_threshold))
        return judged

    def judged(self, minutes: int) -> tuple[int, float]:
        """``(minutes, threshold)`` of the window of that length, or of the short one where this
        model has none (a window stored under a model with other windows)."""
        return next((judged for judged in self.windows() if judged[0] == minutes), self.windows()[0])

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "usual_share": self.usual_share,
            "threshold": self.threshold,
            "window_minutes": WINDOW_MINUTES,
        }
        if self.long_threshold is not None:
            data |= {"long_threshold": self.long_threshold, "long_window_minutes": LONG_WINDOW_MINUTES}
        if self.busy_share is not None:
            data |= {
                "busy_share": self.busy_share,
                "busiest_attempts": self.busiest_attempts,
                "long_busiest_attempts": self.long_busiest_attempts,
            }
        if self.routine:
            data["routine_accounts"] = sorted(self.routine)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WaveModel:
        try:
            long_threshold = data.get("long_threshold")  # (absent from a model trained before the long window)
            busy_share = data.get("busy_share")  # (absent: trained before the floor, or on no busy window)
            # (absent from a model trained before routine accounts, or with none)
            routine = data.get("routine_accounts", [])
            if not isinstance(routine, list):
                raise TypeError(f"routine_accounts is a {type(routine).__name__}, not a list")
            model = cls(
                float(data["usual_share"]),
                float(data["threshold"]),
                None if long_threshold is None else float(long_threshold),
                None if busy_share is None else float(busy_share),
                int(data.get("busiest_attempts", 0)),
                int(data.get("long_busiest_attempts", 0)),
                frozenset(str(account) for account in routine),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise InvalidStateError("login wave model", f"not one ({error!r})") from None
        thresholds = [threshold for _, threshold in model.windows()]
        busy_share_valid = model.busy_share is None or 0.0 <= model.busy_share <= 1.0
        in_range = MIN_USUAL_SHARE <= model.usual_share <= MAX_USUAL_SHARE and all(value > 0 for value in thresholds)
        if not in_range or not busy_share_valid:
            raise InvalidStateError("login wave model", f"out of range: {dict(data)}")
        return model


class WaveView(NamedTuple):
    """What folding an alert into the wave reads of a window (``folded_into_wave``): whether a wave
    is under way, and the end of the minute of its last attempt."""

    in_wave: bool
    last_attempt_end: float | None


class PendingVisit(NamedTuple):
    """A visit not settled yet (``model.visits``): its start, whether it has requested a page, the
    ``stable_hash`` of its last page's path (0: none yet), and what the caller keeps with it (the
    backtest: its first event's id and entity; the scorer: nothing, which is all a window stores)."""

    started: float
    paged: bool
    last_page: int = 0
    tag: Any = None


def _window_clock() -> EventClock:
    # The window's time is its latest attempt's (however far ahead: logins may be hours apart), and a
    # run of attempts more than the long window behind it sets it back (``model.features.clock``).
    return EventClock(math.inf, LONG_WINDOW_MINUTES * BUCKET_SECONDS)


@dataclass
class AttemptWindow:
    """A scorer's running view of its shard's logins: the long window's buckets, the last accounts
    that failed, and the wave under way."""

    buckets: dict[int, list[int]] = field(default_factory=dict)  # minute -> [attempts, failures]
    waves: int = 0  # waves seen, the alert's episode number
    in_wave: bool = False
    wave_minutes: int = WINDOW_MINUTES  # the length of the window that raised the wave under way
    calm_since: int = 0  # the minute after the last wave ended
    successes: list[tuple[float, str]] = field(default_factory=list)  # (time, user) in the window
    # (time of the last failure, user, failures in its quick run) of the last MIN_FAILED_ACCOUNTS
    # accounts whose login failed: all that telling a wave from one person's retries needs (the run
    # counts for pseudonyms only, ``accounts_in``).
    failed_accounts: list[tuple[float, str, int]] = field(default_factory=list)
    clock: EventClock = field(default_factory=_window_clock)
    # The wave under way since its alert (``alerted_at``): its attempts and failures; and since the
    # alert or the last follow-up (``followed_at``), the first accounts whose attempts went through and
    # how many did (``WaveWatch``).
    alerted_at: float | None = None
    followed_at: float | None = None
    wave_attempts: int = 0
    wave_failures: int = 0
    went_through: int = 0
    wave_successes: list[tuple[float, str]] = field(default_factory=list)
    # ...and how many went through from their accounts' familiar devices, not named (``familiar_attempts``)
    familiar_through: int = 0
    # The scorer's: the first record of the batch the window last applied, and the view it had
    # before that batch, which a retry of the batch folds by (``WaveView``).
    before_batch: tuple[int, WaveView] | None = None
    # A window of visits' (``VISITORS``): those not settled yet, by their user's ``stable_hash``.
    pending: dict[int, PendingVisit] = field(default_factory=dict)

    def view(self) -> WaveView:
        last = (max(self.buckets) + 1) * BUCKET_SECONDS if self.buckets else None
        return WaveView(self.in_wave, float(last) if last is not None else None)

    def _oldest(self, minutes: int) -> int:
        return max(max(self.buckets, default=0) - minutes + 1, self.calm_since)

    def start(self, minutes: int) -> float:
        """When the last ``minutes`` minutes began (the newest bucket's and those before it), or the
        last wave ended if later: a wave's logins do not make the next."""
        return float(self._oldest(minutes) * BUCKET_SECONDS)

    def totals(self, minutes: int = WINDOW_MINUTES) -> tuple[int, int]:
        """Attempts and failures in the last ``minutes`` minutes (from ``start``)."""
        attempts = failures = 0
        oldest = self._oldest(minutes)
        for minute, (bucket_attempts, bucket_failures) in self.buckets.items():
            if minute >= oldest:
                attempts += bucket_attempts
                failures += bucket_failures
        return attempts, failures

    def accounts_failed(self, minutes: int = WINDOW_MINUTES) -> int:
        """How many accounts failed in the last ``minutes`` minutes, up to ``MIN_FAILED_ACCOUNTS``."""
        start = self.start(minutes)
        counted = sum(accounts_in(user, run) for moment, user, run in self.failed_accounts if moment >= start)
        return min(counted, MIN_FAILED_ACCOUNTS)

    def add(self, moment: float, failed: bool, user: str, named: bool = True) -> bool:
        """Count one login (a successful one kept to be named, if ``named``); False (and nothing
        counted) when it is older than the long window. But
        where the window's time rests on fewer than ``BEHIND_RESET`` attempts (a single one stamped a
        month ahead, which had made the window refuse every later one as too old until the month had
        passed), the last of a run of ``BEHIND_RESET`` such attempts sets it back to theirs
        (``clock``), and the window starts again from it. A window of many attempts, a wave's, is not
        set back by a backfill of old ones: they are refused, as they were before."""
        behind = self.clock.time is not None and moment < self.clock.time - self.clock.far
        if behind and sum(attempts for attempts, _ in self.buckets.values()) >= BEHIND_RESET:
            return False
        if self.clock.skips(moment):
            return False
        if self.clock.time is None and self.buckets:  # (set back: what it counted ahead is stale)
            self.buckets, self.successes, self.failed_accounts = {}, [], []
            self.in_wave, self.calm_since = False, 0
        self.clock.advance(moment)
        minute = int(moment // BUCKET_SECONDS)
        newest = max(self.buckets, default=minute)
        oldest_kept = max(newest, minute) - LONG_WINDOW_MINUTES + 1
        if minute < oldest_kept:
            return False
        for stale in [key for key in self.buckets if key < oldest_kept]:
            del self.buckets[stale]
        bucket = self.buckets.setdefault(minute, [0, 0])
        bucket[0] += 1
        bucket[1] += failed
        start = oldest_kept * BUCKET_SECONDS
        self.successes = [item for item in self.successes if item[0] >= start]
        if failed:
            # (an account's latest failure, though a retry delivered late carries an earlier time)
            before = [(stamp, run) for stamp, name, run in self.failed_accounts if name == user]
            latest = max([moment, *(stamp for stamp, _ in before)])
            run = 1
            if before:  # (within a run's pause of the key's latest, it adds to its run; one delivered
                # late, from before the run, leaves it as it is; one after a longer pause starts the next)
                pause = moment - before[0][0]
                run = before[0][1] + 1 if abs(pause) <= PSEUDONYM_RUN_SECONDS else before[0][1] if pause < 0 else 1
            others = [item for item in self.failed_accounts if item[1] != user]
            self.failed_accounts = sorted([*others, (latest, user, run)])[-MIN_FAILED_ACCOUNTS:]
        elif named:
            self.successes = [*self.successes, (moment, user)][-MAX_NAMED_ACCOUNTS:]
        return True

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "b": [[minute, *counts] for minute, counts in sorted(self.buckets.items())],
                "w": self.waves,
                "a": self.in_wave,
                "m": self.wave_minutes,
                "c": self.calm_since,
                "s": [[round(moment, 6), user] for moment, user in self.successes],
                "f": [[round(moment, 6), user, run] for moment, user, run in self.failed_accounts],
                "k": [self.clock.time, self.clock.behind],
                "o": None
                if self.alerted_at is None
                else [
                    self.alerted_at,
                    self.followed_at,
                    self.wave_attempts,
                    self.wave_failures,
                    self.went_through,
                    [[round(moment, 6), user] for moment, user in self.wave_successes],
                    self.familiar_through,
                ],
                "r": None if self.before_batch is None else [str(self.before_batch[0]), *self.before_batch[1]],
                **(
                    {
                        "p": [
                            [key, round(visit.started, 3), int(visit.paged), visit.last_page]
                            for key, visit in self.pending.items()
                        ]
                    }
                    if self.pending
                    else {}
                ),
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> AttemptWindow:
        try:
            raw = json.loads(data)
            buckets = {int(minute): [int(attempts), int(failures)] for minute, attempts, failures in raw["b"]}
            window = cls(
                buckets,
                int(raw["w"]),
                bool(raw["a"]),
                # (a window stored by a release without the long window: its wave was the short one's,
                # and it starts counting the accounts that failed afresh)
                int(raw.get("m", WINDOW_MINUTES)),
                int(raw.get("c", 0)),
                [(float(moment), str(user)) for moment, user in raw["s"]],
                # (a window stored before runs were counted: each account a run of one)
                [(float(moment), str(user), int(run[0]) if run else 1) for moment, user, *run in raw.get("f", [])],
                _stored_clock(raw.get("k"), buckets),
                *_stored_wave(raw.get("o")),
                before_batch=_stored_view(raw.get("r")),
                pending={
                    int(key): PendingVisit(float(started), bool(paged), int(page))
                    for key, started, paged, page in raw.get("p", [])
                },
            )
            if window.in_wave and window.alerted_at is None:
                # (a wave under way in a window stored before follow-ups: followed up from now on)
                window.alerted_at = window.followed_at = window.clock.time
            return window
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise InvalidStateError("login window", f"unreadable ({error!r})") from None


def _stored_clock(stored: Any, buckets: Mapping[int, Any]) -> EventClock:
    """The window's clock as stored; for a window stored before it had one, the start of its latest
    minute (none without a bucket)."""
    clock = _window_clock()
    if stored is not None:
        time, behind = stored
        clock.time, clock.behind = None if time is None else float(time), int(behind)
    elif buckets:
        clock.time = float(max(buckets) * BUCKET_SECONDS)
    return clock


def _stored_wave(stored: Any) -> tuple[float | None, float | None, int, int, int, list[tuple[float, str]], int]:
    """The wave under way as stored (a window stored before it was kept: none since an alert; one
    stored before familiar successes were told apart: none of them since its last follow-up)."""
    if stored is None:
        return None, None, 0, 0, 0, [], 0
    alerted_at, followed_at, attempts, failures, went_through, successes, *familiar = stored
    named = [(float(moment), str(user)) for moment, user in successes]
    familiar_through = int(familiar[0]) if familiar else 0
    counts = int(attempts), int(failures), int(went_through)
    return float(alerted_at), float(followed_at), *counts, named, familiar_through


def _stored_view(stored: Any) -> tuple[int, WaveView] | None:
    if stored is None:
        return None
    first_record, in_wave, last_attempt_end = stored
    return int(first_record), WaveView(bool(in_wave), None if last_attempt_end is None else float(last_attempt_end))


def login_outcome(event: Mapping[str, Any]) -> bool | None:
    """True for a failed login, False for a successful one, None for any other event."""
    event_type = event.get("event_type")
    if event_type == LOGIN_FAILED:
        return True
    if event_type == LOGIN_SUCCEEDED:
        return False
    return None


def signup_outcome(event: Mapping[str, Any]) -> bool | None:
    """True for a sign-up, False for a login (either way, or of an outcome the log does not say:
    ``login_attempt``), None for any other event: of a service's account traffic, the share that
    registers new accounts."""
    event_type = event.get("event_type")
    if event_type == SIGNUP:
        return True
    if event_type in (LOGIN_SUCCEEDED, LOGIN_FAILED, LOGIN_ATTEMPT):
        return False
    return None


def login_share_outcome(event: Mapping[str, Any]) -> bool | None:
    """True for a login submitted (whatever came of it), False for any other request but a page
    asset, None for a page asset: of a service's requests, the share that are logins."""
    if event.get("event_type") in (LOGIN_SUCCEEDED, LOGIN_FAILED, LOGIN_ATTEMPT):
        return True
    if is_page_asset(event.get("resource"), request_method(event)):
        return None
    return False


def payment_share_outcome(event: Mapping[str, Any]) -> bool | None:
    """True for a payment submitted (whatever came of it), False for any other request but a page
    asset, None for a page asset: of a service's requests, the share that are payments."""
    if event.get("event_type") == PURCHASE:
        return True
    if is_page_asset(event.get("resource"), request_method(event)):
        return None
    return False


def code_sent_outcome(event: Mapping[str, Any]) -> bool | None:
    """True for a request that has the service send a one-time code (``sends_code``), False for any
    other request but a page asset, None for a page asset: of a service's requests, the share that
    send codes."""
    resource, method = event.get("resource"), request_method(event)
    if sends_code(resource, method):
        return True
    if is_page_asset(resource, method):
        return None
    return False


def visit_outcome(event: Mapping[str, Any]) -> bool | None:
    """True for a visit that read as a crawler's, False for a browser's (a settled visit,
    ``model.visits.SettledVisit.as_event``), None for anything else (every event: visits are
    settled from them)."""
    value = event.get(VISIT)
    return value if isinstance(value, bool) else None


def payment_outcome(event: Mapping[str, Any]) -> bool | None:
    """True for a declined payment (a ``purchase`` answered 4xx, or with a failure outcome), False
    for one that went through (2xx, a redirect after it, or no status: an application's event), None
    for any other event and for a server error, or an ``error`` outcome (the site's)."""
    if event.get("event_type") != PURCHASE:
        return None
    status = event.get("status")
    kind = status_class(status)
    if kind == SERVER_ERROR_CLASS or (isinstance(status, str) and status.lower() == SITE_ERROR_OUTCOME):
        return None
    return kind in (CLIENT_ERROR_CLASS, FAILURE_OUTCOME_CLASS)


@dataclass(frozen=True)
class Attempts:
    """What a wave watches: which events are its attempts and which failed (``outcome``), the kind
    of its alert and of the shard's item, the words for them, and its key in a model's metadata."""

    kind: str
    outcome: Callable[[Mapping[str, Any]], bool | None]
    failed: str  # "failed logins"
    succeeded: str  # "successful logins"
    metadata_key: str
    alerts_key: str  # the count of its alerts in a backtest's summary and make eval's figures
    event_types: tuple[str, ...]  # the events it counts, which a wave's timeline shows (console.timeline)
    # What the usual share is a share of: "about 3 would fail".
    usual_words: str = "would fail"
    # Whether its alert names the accounts whose attempts went through during the wave, and
    # follow-ups name those after it (the accounts stuffing got into, the cards testing found
    # working). A sign-up wave's other attempts are people's logins, which tell nothing of it.
    names_accounts: bool = True
    # The fewest failures training must hold for a model: a service that logged no sign-up in
    # training has no usual share of them to compare with (any few would be a wave).
    least_trained_failures: int = 0
    # Training windows with this many attempts or more (and BUSY_FRACTION of the busiest's) are busy
    # (``_busy_share``): a site takes fewer payments than logins, and its crowds (an appeal, a sale)
    # decline more often too.
    busy_attempts: int = BUSY_WINDOW_ATTEMPTS
    # What its attempts are, after their number in an alert's reason (" requests").
    of_what: str = ""
    # Watched only where training's attempts of these did not visibly fail, or all did: the surges of
    # logins where the failed-login waves see nothing (``LOGIN_SURGES``), of payments likewise.
    where_unseen: Attempts | None = None
    # Its attempts are visits, settled from the batch's events by ``model.visits`` (``VISITORS``),
    # not events themselves.
    of_visits: bool = False
    # Not watched where training's share of failures is above it: a log whose visits all fetch no
    # page asset holds none (an origin's behind a CDN, an API's), and no surge of them would show.
    most_usual_share: float = MAX_USUAL_SHARE
    # What a report calls them, where not "Waves of <failed>" (docs/model.md names its sections so).
    heading: str = ""
    # Where no event type tells its attempts (``event_types`` empty): their paths, a pattern of
    # Python's re and RE2's syntax both, case aside (the console's timeline of its wave).
    resource_pattern: str = ""

    @property
    def title(self) -> str:
        return self.heading or f"Waves of {self.failed}"


LOGINS = Attempts(
    WAVE_KIND,
    login_outcome,
    "failed logins",
    "successful logins",
    "login_waves",
    "login_wave_alerts",
    (LOGIN_FAILED, LOGIN_SUCCEEDED),
)
# Of a card-testing wave, the payments that went through are the cards the testers found working.
PAYMENTS = Attempts(
    PAYMENT_WAVE_KIND,
    payment_outcome,
    "declined payments",
    "payments that went through",
    "payment_waves",
    "payment_wave_alerts",
    (PURCHASE,),
    busy_attempts=BUSY_PAYMENT_ATTEMPTS,
)
SIGNUPS = Attempts(
    SIGNUP_WAVE_KIND,
    signup_outcome,
    "sign-ups",
    "logins",
    "signup_waves",
    "signup_wave_alerts",
    (SIGNUP, LOGIN_FAILED, LOGIN_SUCCEEDED, LOGIN_ATTEMPT),
    usual_words="would be sign-ups",
    names_accounts=False,
    least_trained_failures=MIN_EXCESS_FAILURES,
)
LOGIN_SURGES = Attempts(
    LOGIN_SURGE_KIND,
    login_share_outcome,
    "logins",
    "other requests",
    "login_surge_waves",
    "login_surge_alerts",
    (LOGIN_SUCCEEDED, LOGIN_FAILED, LOGIN_ATTEMPT),
    usual_words="would be logins",
    names_accounts=False,
    least_trained_failures=MIN_EXCESS_FAILURES,
    of_what=" requests",
    where_unseen=LOGINS,
    heading="Surges of logins",
)
# Card testing where a declined payment is answered 200 (a GraphQL API's checkout, WooCommerce's):
# its payments themselves are the surge, as logins are where they do not visibly fail.
PAYMENT_SURGES = Attempts(
    PAYMENT_SURGE_KIND,
    payment_share_outcome,
    "payments",
    "other requests",
    "payment_surge_waves",
    "payment_surge_alerts",
    (PURCHASE,),
    usual_words="would be payments",
    names_accounts=False,
    least_trained_failures=MIN_EXCESS_FAILURES,
    of_what=" requests",
    where_unseen=PAYMENTS,
    heading="Surges of payments",
)
# A crawl through residential proxies: many visitors reading pages without their assets, following no
# link (model.visits).
VISITORS = Attempts(
    VISITOR_WAVE_KIND,
    visit_outcome,
    "visits like a crawler's (no page asset, no link followed)",
    "browsers' visits",
    "visitor_waves",
    "visitor_wave_alerts",
    ("page_view", "search"),
    usual_words="would be",
    names_accounts=False,
    least_trained_failures=MIN_EXCESS_FAILURES,
    of_what=" visits",
    of_visits=True,
    most_usual_share=MOST_USUAL_VISITS_WITHOUT_ASSETS,
    heading="Waves of crawler-like visits",
)
# SMS pumping: bots have an app text one-time codes by the hundred, through many addresses. Any
# request may be one (no event type says so): the console's timeline of its surge shows the requests
# of every type whose path sends a code.
CODES_SENT = Attempts(
    CODE_SURGE_KIND,
    code_sent_outcome,
    "one-time codes sent",
    "other requests",
    "code_surge_waves",
    "code_surge_alerts",
    (),
    usual_words="would send codes",
    resource_pattern=CODE_SENT_PATTERN,
    names_accounts=False,
    least_trained_failures=MIN_EXCESS_FAILURES,
    of_what=" requests",
    heading="Surges of one-time codes sent",
)
ATTEMPTS = (LOGINS, PAYMENTS, SIGNUPS, LOGIN_SURGES, PAYMENT_SURGES, VISITORS, CODES_SENT)
WAVES_BY_KIND = {attempts.kind: attempts for attempts in ATTEMPTS}  # an alert's entity kind -> its attempts


def folded_into_wave(
    window: WaveView | None, alert: EntityAlert, evidence: Evidence | None, tried: Collection[str]
) -> bool:
    """Whether an entity's alert is part of the wave under way rather than news of its own: raised
    while the shard's logins are in a wave (its last login at most a window before the alert), by
    an episode whose every request failed but the login form fetched right before (``Evidence.
    all_failed``), and whose requests in this batch are all failed logins and their forms
    (``tried``: ``failed_logins_only``; a scan of 404s is not folded). Stuffing that tries thousands
    of accounts once each would otherwise alert on each of them (most are new ids); the wave alerts
    once and names the accounts that got in, whose episodes did not fail throughout and still alert
    on their own. The tried accounts are counted, not listed."""
    if window is None or not window.in_wave or window.last_attempt_end is None or evidence is None:
        return False
    return (
        alert.last_event_at - window.last_attempt_end <= WINDOW_MINUTES * BUCKET_SECONDS
        and alert.entity in tried
        and evidence.episode == alert.episode
        and evidence.all_failed()
    )


_FIRST_EVENT = FEATURE_NAMES.index("first_event")
_NEW_AGENT = FEATURE_NAMES.index("new_user_agent")
_NEW_NETWORK = FEATURE_NAMES.index("new_asn")
_DECAYED_FAILURES = FEATURE_NAMES.index("log_failures_1h")  # log1p of the account's decayed failures


def familiar_attempts(rows: Any, events: Sequence[Mapping[str, Any]]) -> list[bool]:
    """Per event and its feature row: whether it came from a device and network its account had used
    before (``FAMILIAR_DECAYED_FAILURES``), with no failed attempt on the account in the hours before.
    An account's first event is never familiar, and neither is one after a failure: an attacker's
    failed try makes its own agent "used" by the account. Nor is a user the log did not name (a
    session's or client's pseudonym, ``PSEUDONYMOUS_USERS``): its device is what makes it one, and
    a stuffing bot's session that fetched the form before posting it had "used" its own."""
    accounts = np.array([not str(event.get("user_id", "")).startswith(PSEUDONYMOUS_USERS) for event in events])
    familiar = accounts & (
        (rows[:, _FIRST_EVENT] == 0.0)
        & (rows[:, _NEW_AGENT] == 0.0)
        & (rows[:, _NEW_NETWORK] == 0.0)
        & (rows[:, _DECAYED_FAILURES] < math.log1p(FAMILIAR_DECAYED_FAILURES))
    )
    return [bool(value) for value in familiar.tolist()]


def failed_logins_only(keys: Sequence[str | None], events: Sequence[Mapping[str, Any]]) -> set[str]:
    """The entities (``keys``, one per event in time order; None for none) whose every event here
    is a failed login, or a fetch (GET or HEAD, not answered 4xx) of the path their next event
    fails to log in to: the login form, fetched for its anti-forgery token before each attempt, as
    stuffing tools do."""
    failed: set[str] = set()
    other: set[str] = set()
    forms: dict[str, str] = {}  # entity -> the path of its last event here, a fetch awaiting its failed login
    for key, event in zip(keys, events, strict=True):
        if key is None:
            continue
        outcome = login_outcome(event)
        if outcome is True:
            failed.add(key)
            form = forms.pop(key, None)
            if form is not None and form != _path(event):
                other.add(key)  # a fetch of another page before the attempt
        elif outcome is False or key in forms or not _form_fetch(event):
            other.add(key)  # a login that got in, two requests in a row that were not failed logins...
        else:
            forms[key] = _path(event)
    return failed - other - forms.keys()


def _path(event: Mapping[str, Any]) -> str:
    resource = event.get("resource")
    return resource.partition("?")[0] if isinstance(resource, str) else ""


def _form_fetch(event: Mapping[str, Any]) -> bool:
    """A GET or HEAD (or no method logged) not answered 4xx."""
    properties = event.get("properties")
    method = properties.get("method") if isinstance(properties, Mapping) else None
    return method in (None, "GET", "HEAD") and status_class(event.get("status")) != CLIENT_ERROR_CLASS


def fold_into_wave(
    window: WaveView | None,
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


class Raised(NamedTuple):
    """An alert a wave watch raised, with the start of the window it covers; ``names_accounts``: a
    follow-up naming the accounts whose attempts went through during the wave."""

    alert: EntityAlert
    window_start: float
    names_accounts: bool = False


class WaveWatch:
    """The per-batch step the scorer and the backtest share: count attempts, alert once per wave."""

    def __init__(self, model: WaveModel, attempts: Attempts = LOGINS) -> None:
        self.model = model
        self.attempts = attempts

    def names(self, event: Mapping[str, Any], familiar: bool = False) -> bool:
        """Whether the alerts name ``event``'s account where its attempt went through: where they name
        accounts, and it is neither routine (``WaveModel.routine``) nor ``familiar`` (its account's
        own device and network, ``familiar_attempts``)."""
        return self.attempts.names_accounts and not familiar and str(event.get("user_id", "")) not in self.model.routine

    def observe(
        self,
        window: AttemptWindow,
        events: Sequence[Mapping[str, Any]],
        times: Sequence[float],
        familiar: Sequence[bool] | None = None,
    ) -> list[EntityAlert]:
        """Add a batch's events (time order) to ``window`` (updated in place); the alerts raised."""
        return [raised.alert for raised in self.observe_waves(window, events, times, familiar)]

    def observe_waves(
        self,
        window: AttemptWindow,
        events: Sequence[Mapping[str, Any]],
        times: Sequence[float],
        familiar: Sequence[bool] | None = None,
    ) -> list[Raised]:
        """``observe``, each alert with the start of the window it covers. Besides a wave's alert, a
        follow-up names the accounts whose attempts went through after it, at most every short
        window while the wave lasts and when it is over (``_follow_up``): the alert comes as the
        failures surge, before the stuffing's hits (or the card testers' working cards), which it
        could not name. ``familiar``, per event (``familiar_attempts`` of their feature rows): the
        successes from their accounts' own devices, counted and not named."""
        raised: list[Raised] = []
        for position, (event, moment) in enumerate(zip(events, times, strict=True)):
            failed = self.attempts.outcome(event)
            user = str(event.get("user_id", ""))
            owned = familiar is not None and familiar[position]
            named = self.names(event, owned)
            if failed is None or not window.add(moment, failed, user, named):
                continue
            if window.in_wave:
                window.wave_attempts += 1
                window.wave_failures += failed
                if not failed and named:
                    window.went_through += 1
                    if len(window.wave_successes) < MAX_FOLLOWED_ACCOUNTS:
                        window.wave_successes.append((moment, user))
                elif not failed and owned and self.attempts.names_accounts:
                    window.familiar_through += 1
                # Judged by the window that raised it: a burst is over when its ten minutes are, though
                # the hour around it still holds its failures.
                minutes, threshold = self.model.judged(window.wave_minutes)
                window.in_wave = (
                    surprise(*window.totals(minutes), self.model.usual_share) >= threshold * WAVE_END_FRACTION
                )
                if not window.in_wave:
                    window.calm_since = int(moment // BUCKET_SECONDS) + 1
                since = window.followed_at if window.followed_at is not None else moment
                due = not window.in_wave or moment - since >= WINDOW_MINUTES * BUCKET_SECONDS
                if window.went_through and due:
                    raised.append(self._follow_up(window, moment))
                if not window.in_wave:
                    window.alerted_at = window.followed_at = None
                    window.wave_attempts = window.wave_failures = window.familiar_through = 0
                continue
            for minutes, threshold in self.model.windows():
                if self._makes_wave(window, minutes, threshold):
                    window.in_wave = True
                    window.wave_minutes = minutes
                    window.waves += 1
                    window.alerted_at = window.followed_at = moment
                    window.wave_attempts = window.wave_failures = window.went_through = window.familiar_through = 0
                    window.wave_successes = []
                    raised.append(Raised(self._alert(window, moment, minutes, threshold), window.start(minutes)))
                    break
        return raised

    def _follow_up(self, window: AttemptWindow, moment: float) -> Raised:
        """The accounts whose attempts went through since the wave's alert or its last follow-up
        (``followed_at``): the first ``MAX_FOLLOWED_ACCOUNTS``, and how many more. Its episode runs
        from then to now, which keys its marker (the scorer names the shard in its entity: shards
        follow up their own waves, at their own times)."""
        words = self.attempts

        def clock(moment: float) -> str:
            # (timezone.utc, not datetime.UTC: the training jobs run the image's Python 3.10)
            return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

        alerted_at = window.alerted_at if window.alerted_at is not None else moment
        since = window.followed_at if window.followed_at is not None else alerted_at
        named = list(dict.fromkeys(user for _, user in window.wave_successes))
        more = window.went_through - len(window.wave_successes)
        state = "under way" if window.in_wave else "over"
        # (the count is of attempts: an account can go through more than once)
        repeated = more <= 0 and len(named) < len(window.wave_successes)
        by = f", by {len(named)} account{'s' if len(named) > 1 else ''}" if repeated else ""
        familiar = window.familiar_through
        reasons = (
            f"{words.succeeded} since {clock(since)}, to check ({window.went_through}{by}): {', '.join(named)}"
            + (f" and {more} more" if more > 0 else ""),
            f"the wave of {words.failed} alerted at {clock(alerted_at)} is {state}: "
            f"{window.wave_failures} {words.failed} of {window.wave_attempts} since",
            *([f"{familiar} more from their accounts' own devices and networks, not named"] if familiar else []),
        )
        alert = EntityAlert(
            WAVE_ENTITY,
            words.kind,
            surprise(window.wave_attempts, window.wave_failures, self.model.usual_share),
            self.model.threshold,
            window.waves,
            since,  # (a shard's follow-ups are ten minutes apart or more: each its own marker)
            moment,
            window.wave_attempts,
            reasons,
        )
        window.followed_at, window.went_through, window.wave_successes = moment, 0, []
        window.familiar_through = 0
        return Raised(alert, since, names_accounts=True)

    def _makes_wave(self, window: AttemptWindow, minutes: int, threshold: float) -> bool:
        usual = self.model.usual_share
        attempts, failures = window.totals(minutes)
        busy_share = self.model.busy_share
        crowd = busy_share is not None and attempts > self.model.busiest(minutes)
        return (
            surprise(attempts, failures, usual) >= threshold
            and failures - attempts * usual >= MIN_EXCESS_FAILURES
            and window.accounts_failed(minutes) >= MIN_FAILED_ACCOUNTS
            and not (crowd and surprise(attempts, failures, busy_share or 0.0) < SURPRISE_FLOOR)
        )

    def _alert(self, window: AttemptWindow, moment: float, minutes: int, threshold: float) -> EntityAlert:
        usual = self.model.usual_share
        attempts, failures = window.totals(minutes)
        words = self.attempts
        expected = attempts * usual
        # ("about 0 would be payments" read as a slip: below one, it is "fewer than 1")
        about = f"about {expected:.0f}" if expected >= 0.5 else "fewer than 1"
        reasons = [
            f"{failures} {words.failed} of {attempts}{words.of_what} in {minutes} min ({failures / attempts:.0%}; "
            f"at the usual {_percent(usual)}, {about} {words.usual_words})"
        ]
        start = window.start(minutes)
        accounts = ", ".join(dict.fromkeys(user for stamp, user in window.successes if stamp >= start))
        if accounts:
            reasons.append(f"{words.succeeded} during it, to check: {accounts}")
        # Scorers of several shards that see the same wave start it in the same span of the window's
        # length more often than not; the alert's marker is keyed by that span, so they publish it
        # once. A shard's next wave is keyed no earlier than the end of its last, so that two waves
        # in one span are two alerts.
        window_seconds = minutes * BUCKET_SECONDS
        started = max((moment // window_seconds) * window_seconds, float(window.calm_since * BUCKET_SECONDS))
        score = surprise(attempts, failures, usual)
        return EntityAlert(
            WAVE_ENTITY, words.kind, score, threshold, window.waves, started, moment, attempts, tuple(reasons)
        )


def train_wave_model(
    events: Sequence[Mapping[str, Any]], times: Sequence[float], watched: Attempts = LOGINS
) -> tuple[WaveModel | None, dict[str, Any]]:
    """The wave model of the training traffic's ``watched`` attempts (any events, time order), and
    what it was fitted on; no model when the traffic holds no such attempt at all."""
    outcomes = [
        (moment, failed)
        for event, moment in zip(events, times, strict=True)
        if (failed := watched.outcome(event)) is not None
    ]
    if not outcomes:
        if watched.of_visits:  # (a log's page views are there; its visits are what training counts)
            skipped = "no visit by a browser new to the site (after its first day) to count"
        elif watched.event_types:
            skipped = f"no {' or '.join(watched.event_types)} events"
        else:
            skipped = "no request but page assets"
        return None, {"skipped": skipped}
    if watched.where_unseen is not None:
        # (attempts all failed tell no more than none failed: a status that answers both alike)
        seen = Counter(watched.where_unseen.outcome(event) for event in events)
        fewer = min(seen[True], seen[False])
        visible = fewer >= MIN_SEEN_OUTCOMES and fewer >= MIN_SEEN_SHARE * (seen[True] + seen[False])
        if fewer >= MIN_EXCESS_FAILURES or visible:
            unseen = watched.where_unseen
            return None, {"skipped": f"{seen[True]} {unseen.failed}: the {unseen.title.lower()} watch them"}
    attempts = len(outcomes)
    failures = sum(failed for _, failed in outcomes)
    if failures < watched.least_trained_failures:
        return None, {"skipped": f"{failures} {watched.failed}, fewer than {watched.least_trained_failures}"}
    # One pseudo-attempt of each kind keeps the share off 0 and 1 for a service that logs only one.
    usual = min(max((failures + 1) / (attempts + 2), MIN_USUAL_SHARE), MAX_USUAL_SHARE)
    if usual > watched.most_usual_share:
        return None, {
            "skipped": f"{failures} of {attempts} are {watched.failed} ({usual:.0%}): none to tell a surge by"
        }
    window = AttemptWindow()
    highest = {WINDOW_MINUTES: 0.0, LONG_WINDOW_MINUTES: 0.0}
    busiest = {WINDOW_MINUTES: 0, LONG_WINDOW_MINUTES: 0}
    for moment, failed in outcomes:
        if window.add(moment, failed, ""):
            for minutes in highest:
                window_attempts, window_failures = window.totals(minutes)
                highest[minutes] = max(highest[minutes], surprise(window_attempts, window_failures, usual))
                busiest[minutes] = max(busiest[minutes], window_attempts)
    busy_share = _busy_share(outcomes, busiest, watched.busy_attempts)
    model = WaveModel(
        usual,
        max(SURPRISE_FLOOR, TRAINING_MARGIN * highest[WINDOW_MINUTES]),
        max(SURPRISE_FLOOR, TRAINING_MARGIN * highest[LONG_WINDOW_MINUTES]),
        busy_share,
        busiest[WINDOW_MINUTES] if busy_share is not None else 0,
        busiest[LONG_WINDOW_MINUTES] if busy_share is not None else 0,
        _routine_accounts(events, times, watched) if watched.names_accounts else frozenset(),
    )
    metadata = {
        **model.to_json(),
        "attempts": attempts,
        "failures": failures,
        "training_max_surprise": round(highest[WINDOW_MINUTES], 3),
        "training_max_long_surprise": round(highest[LONG_WINDOW_MINUTES], 3),
        "training_busy_share": None if busy_share is None else round(busy_share, 4),
        "min_excess_failures": MIN_EXCESS_FAILURES,
        "min_failed_accounts": MIN_FAILED_ACCOUNTS,
    }
    return model, metadata


def _routine_accounts(events: Sequence[Mapping[str, Any]], times: Sequence[float], watched: Attempts) -> frozenset[str]:
    """The accounts whose ``watched`` attempts went through ``ROUTINE_DAILY_SUCCESSES`` times a day
    (UTC) or more on ``ROUTINE_DAYS`` days or more: the ``MAX_ROUTINE_ACCOUNTS`` with the most."""
    daily: Counter[tuple[str, int]] = Counter()
    for event, moment in zip(events, times, strict=True):
        if watched.outcome(event) is False and (user := event.get("user_id")):
            daily[(str(user), int(moment // 86_400))] += 1
    days = Counter(user for (user, _), successes in daily.items() if successes >= ROUTINE_DAILY_SUCCESSES)
    return frozenset(user for user, count in days.most_common(MAX_ROUTINE_ACCOUNTS) if count >= ROUTINE_DAYS)


def _busy_share(
    outcomes: Sequence[tuple[float, bool]], busiest: Mapping[int, int], at_least: int = BUSY_WINDOW_ATTEMPTS
) -> float | None:
    """The failure share of the busy training windows taken together (each window as it stood at
    each login, as training reads them): those of each length that held ``at_least``
    logins or more and ``BUSY_FRACTION`` of the busiest's. None without any."""
    least = {minutes: max(at_least, BUSY_FRACTION * most) for minutes, most in busiest.items()}
    window = AttemptWindow()
    attempts = failures = 0
    for moment, failed in outcomes:
        if window.add(moment, failed, ""):
            for minutes, busy in least.items():
                window_attempts, window_failures = window.totals(minutes)
                if window_attempts >= busy:
                    attempts += window_attempts
                    failures += window_failures
    return failures / attempts if attempts else None


def wave_models_of(metadata: Mapping[str, Any]) -> dict[str, WaveModel]:
    """The wave model of each kind of attempt (by ``Attempts.kind``) that a model's metadata records."""
    models = {attempts.kind: wave_model_of(metadata, attempts) for attempts in ATTEMPTS}
    return {kind: model for kind, model in models.items() if model is not None}


def watched_waves(models: Mapping[str, WaveModel]) -> list[tuple[Attempts, WaveModel]]:
    """The waves watched with ``models`` (by kind): each kind of attempt with its model, in ``ATTEMPTS``' order."""
    return [(attempts, models[attempts.kind]) for attempts in ATTEMPTS if attempts.kind in models]


def wave_model_of(metadata: Mapping[str, Any], attempts: Attempts = LOGINS) -> WaveModel | None:
    """The wave model of ``attempts`` a model's metadata records; None for one trained without such
    attempts or before."""
    recorded = metadata.get(attempts.metadata_key)
    if not recorded or "threshold" not in recorded:
        return None
    return WaveModel.from_json(recorded)
