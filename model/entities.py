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
import struct
import zlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from model.exceptions import InvalidStateError
from model.features import FEATURE_NAMES, SUBREQUEST_SECONDS, ResourceVocabulary, is_page_asset, request_method
from model.features.events import event_field
from model.tails import ORDINARY_TERM, Matrix, TailProfile, Vector, soft_truncated_sum

ENTITY_FEATURES_VERSION = 4
# Evidence of versions 3 (no unfamiliar client) and 2 (no page trail, no repeated-sequence sum either)
# is still read: an upgrade keeps every episode under way, and whether it has alerted.
_BEFORE_UNFAMILIAR_VERSION = 3
_PREVIOUS_FEATURES_VERSION = 2
# A pause longer than this ends an episode (the usual web-analytics session timeout).
EPISODE_IDLE_SECONDS = 30 * 60.0
# An episode that goes on after its alert is reported as it doubles its pages, and at least once in
# this long of it (``EpisodeSoFar``): a scraper's alert raised at its third page then says how far it
# went, in a few writes a day however long it runs.
EPISODE_REPORT_SECONDS = 10 * 60.0
# A call pages poll while open (``model.features.popularity``) counts with its page when it comes at
# least this long after the episode's request before it: browsers' polls come every 10 s or more,
# and a client hammering the call faster is read like any other.
POLL_MIN_SECONDS = 10.0
# A page that does not fail followed by a failure this soon is a login form fetched for the attempt
# (a tool fetches it for its anti-forgery token; a person types for some seconds).
FORM_SECONDS = 60.0
# Up to this many failures in an episode that read a page besides the login form are its person's
# mistyped password, and count as none (``Evidence.counts``); and once a login gets in, so do up to
# this many before it (``Evidence.observe``); from the account's own address and browser they count
# as none from the first (``mistyped_logins``). A failed login was one piece of evidence of an episode
# that is otherwise a customer's, and half a bookstore's buyers who mistyped theirs once alerted on
# a new-user trial (21 of 41, none of the 485 who did not). A tool that tries more keeps them all; one
# that fetches the form and posts it (a stuffing's session) keeps its one; an attacker's login from a
# device new to the account shows as such, and stuffing as a wave.
MISTYPED_FAILURES = 2
# A person who mistyped reads the error, types the password again and sends it more than this many
# seconds after the request before (a tool retries at once). Where the log names no user, such a
# failed login from the session's or the client's own address and browser, after the episode's first
# failure and up to the RETYPED_FAILURES'th in about an hour, is the person's (``retyped_logins``):
# on the ticketing trial's big on-sale, fans who failed three or four times as they hurried (7 to 30
# seconds apart, after the home page and the login form) alerted for "3 failed requests or logins",
# 35 of the 75 people alerted on their own.
RETYPE_SECONDS = 5.0
RETYPED_FAILURES = 4
# The user ids ``traffic.importer`` gives the lines of a log that names no user: their session's, or
# else their client's (address and user agent). Such a user is no account.
SESSION_USER_PREFIX = "session:"
CLIENT_USER_PREFIX = "client:"
PSEUDONYMOUS_USERS = (SESSION_USER_PREFIX, CLIENT_USER_PREFIX)
# Pseudo-events of the population's value blended into every share and mean.
PRIOR_EVENTS = 5.0
DEFAULT_ALERT_BUDGET = 5.0  # alerts per 1,000 active entities per day
# An analyst can look at one alert a day whatever the site's size. Below 200 active entities a day
# the budget allows less than one, and a threshold set for it sits so far out that bots plainly
# unlike the site's people go unreported for weeks: training then aims at this many alerts a day
# instead, on no more than MAX_ALERTED_SHARE of the entities (``alert_share``). On logs of small
# sites (15 to 70 human sessions to train on, 4 to 14 a day) a cap of 2.5 % left 15 % of the
# scripted browsers unreported; 4 % caught 665 of 736 instead of 626, for 27 of 921 people alerted
# instead of 19, no set's people above 10 % (5 %: 676, 30, and one set's people at 12.5 %;
# docs/model.md, "Alert budget").
DEFAULT_MIN_DAILY_ALERTS = 1.0
MAX_ALERTED_SHARE = 0.04
ENTITY_DECIMALS = 6
# An entity whose episodes crossed the threshold on at least this many days of training, fitted on
# them (a partner's hourly integration, a monitor, a feed reader), is habitual: it alerts only beyond
# its own training level times HABIT_MARGIN. Else each of its runs is an alert, every day, on the same
# behaviour the model learned; a new entity doing the same still alerts.
HABIT_MIN_DAYS = 3
HABIT_MARGIN = 1.25
MAX_HABITUAL = 200  # the model keeps the habitual entities with the most such days
# Beyond the training range a feature's evidence grows linearly (an exponential tail), up to this
# many times what the empirical tail gives at its end.
EXTRAPOLATION_CAP = 3.0
MIN_TAIL_SCALE = 0.05
# How an episode's score combines its features' terms (``EntityModel.score``). A model records the
# way its threshold was calibrated on and keeps scoring that way: models trained before the soft
# truncation (no record) still add the terms as they are, so a live model, its rollback target and
# the gate's backtest of it all keep working until retraining replaces them.
PLAIN_TAIL_SUM = "tail-sum"
SOFT_TRUNCATED_TAIL_SUM = "soft-truncated-tail-sum"
# The soft-truncated sum, or the largest single term against its own threshold (``term_threshold``):
# an episode alerts when either crosses. Measured in docs/model.md.
SUM_OR_LARGEST_TERM = "soft-truncated-tail-sum-or-largest-term"
ENTITY_SCORING = SUM_OR_LARGEST_TERM  # what training calibrates new models on
_SCORINGS = (PLAIN_TAIL_SUM, SOFT_TRUNCATED_TAIL_SUM, SUM_OR_LARGEST_TERM)

_NO_REFERER = frozenset({"", "-"})

# Means over an episode's pages (requests that are not part of a page: ``Evidence.observe``), from
# each event's feature row by name; the event's own score and flag come first. A browser fetches a
# page's assets and fires its calls within a second of it, so paces, rarity and writes are read over
# pages: the rest would drown them (a cart count after every page makes steady paging look erratic).
_PAGE_COLUMNS = {
    "path_rarity": "resource_path_rarity",
    "new_path": "new_resource_path",
    "write": "write_method",
    "failure": "failure",
    "client_error": "status_4xx",
    "suspicious": "resource_suspicious_tokens",
}
# ``repeated_sequence``: the page and the two different pages before it were walked in that order
# earlier in the episode. A script that loops (a recorded visit replayed, products watched in turn, a
# checkout walked card after card) walks the same path again; people reload a page and step back,
# which walk two pages, not three.
PAGE_MEANS = ("event_score", "flagged", *_PAGE_COLUMNS, "repeated_sequence")
_REPEATED_SUM = PAGE_MEANS.index("repeated_sequence")
_FLAGGED_SUM = PAGE_MEANS.index("flagged")
# The page sequences an episode remembers (16-bit fingerprints, oldest forgotten first): a loop
# longer than this many pages is not seen to repeat. Bounded by the episode item's write unit.
SEQUENCE_MEMORY = 48
_FAILURE_SUM = PAGE_MEANS.index("failure")
_CLIENT_ERROR_VALUE = list(_PAGE_COLUMNS).index("client_error")  # places in evidence_values
_WRITE_VALUE = list(_PAGE_COLUMNS).index("write")
# Means over every request: what the client and its network are.
_CLIENT_COLUMNS = {
    "agent_rarity": "agent_family_rarity",
    "headless": "agent_headless",
    "known_bot": "agent_known_bot",
    "http_library": "agent_http_library",
    "hosting": "ip_hosting",
    "travel": "travel_beyond_flight",
    # An account's episode from a device and a place both new to it: a request whose user agent and
    # country the user had not used lately, and every request after it in the episode (the switch is
    # the evidence, and who switched goes on in the same episode). Either alone is everyday: a browser
    # updates itself, a phone is replaced, people travel (193 and 223 of the fintech log's 11,640
    # training episodes); both at once, none of them, and 5 of its 6 account takeovers. Picked as
    # ``new_user_agent`` and made so by ``evidence_values`` and ``Evidence.observe``.
    "unfamiliar": "new_user_agent",
}
CLIENT_MEANS = tuple(_CLIENT_COLUMNS)
# The feature columns evidence keeps, page columns first: ``evidence_values`` picks them per event.
EVIDENCE_COLUMNS = (*_PAGE_COLUMNS.values(), *_CLIENT_COLUMNS.values())
_EVIDENCE_INDEX = [FEATURE_NAMES.index(column) for column in EVIDENCE_COLUMNS]
_PAGE_VALUES = len(_PAGE_COLUMNS)
_UNFAMILIAR_VALUE = EVIDENCE_COLUMNS.index("new_user_agent")
_UNFAMILIAR_SUM = CLIENT_MEANS.index("unfamiliar")
_MAX_COUNT = 2**32 - 1  # (``Evidence``'s stored counts)

ENTITY_FEATURE_NAMES: tuple[str, ...] = (
    "log_pages",
    "log_duration",
    "page_gap_mean",  # mean log1p of the seconds between pages
    "page_gap_spread",  # their standard deviation: scripts are regular, people are not
    "asset_share",  # a browser fetches styles, scripts, images and the page's own calls; most scripts do not
    "no_referer_share",  # pages requested without a referer, where the log records referers
    *(f"{name}_mean" for name in PAGE_MEANS),
    *(f"{name}_mean" for name in CLIENT_MEANS),
)
# Features whose both tails are evidence (too few pages or too many; too regular or too erratic;
# only new pages or the same few again). For the others only a high value is: an episode with no
# failures or no flagged request is not unusual because most episodes have a few.
TWO_SIDED = frozenset(
    {
        "log_pages",
        "log_duration",
        "page_gap_mean",
        "page_gap_spread",
        "asset_share",
        "new_path_mean",
        "path_rarity_mean",
    }
)
_TWO_SIDED_MASK = np.array([name in TWO_SIDED for name in ENTITY_FEATURE_NAMES])
# The features the largest-term rule reads: all but the event detector's own verdicts. An event's
# score already sums its sixty features, so a high mean of them is several unusual things at once,
# the sum's case; and training reads them from detectors fitted without each fold while the scorer
# reads the whole model's, so their tails drift apart first.
_TERM_RULE_FEATURES = np.array([name not in ("event_score_mean", "flagged_mean") for name in ENTITY_FEATURE_NAMES])
# Features read from what training learned: the vocabulary's shares (a page's, an agent family's) and
# the event detector's scores. Training reads them from the cross-fitting folds' vocabularies and
# detectors, the scorer from the shipped model's, and the two differ by estimation noise: five folds
# gave a crawler's product page five rarities within 0.001 of each other, each held by hundreds of
# training episodes, and the shipped vocabulary a sixth a hair below them all. Read exactly, that
# value lay beyond every episode like it, at the furthest tail the profile has: a trial's crawlers,
# one request each and as ordinary as training's thousands, all alerted. A value within this much of
# a training value counts as that value (a twentieth of a nat is a share 5 % apart).
LEARNED_VALUE_RESOLUTION = 0.05
_LEARNED_VALUES = np.array(
    [name in ("path_rarity_mean", "agent_rarity_mean", "event_score_mean") for name in ENTITY_FEATURE_NAMES]
)
# A machine client seen on at least HABIT_MIN_DAYS days of training that never became habitual (a
# payment provider's webhooks, a partner's sync, a monitor) is routine: its episodes are judged
# against its own training (``EntityModel.as_routine``), where a feature's own value is its
# training's pooled mean (its pace, its writes, its agent, its paths, its failures), and for the
# episode's length and duration ROUTINE_LENGTH times its longest training episode's (webhooks come
# as the site's orders do: a sale's day brings several times the usual). A value between the usual
# episode's and its own, or up to ROUTINE_SLACK beyond its own (a quarter of the span between them,
# and 0.02 more; for the length and duration, ROUTINE_LENGTH alone), is no evidence; one on the other
# side of the usual value counts as any client's (a webhook that pauses for hours, in a burst). A
# sale's webhooks are then no alert for being more of what the client always sends; an episode far
# longer than any it had, or a request of a kind it never made, still is. Only where the machine
# clients' model judges its episode: its own row is of its episodes as a machine client's.
ROUTINE_SLACK = (0.25, 0.02)
ROUTINE_LENGTH = 4.0
MAX_ROUTINE = 200  # the model keeps the routine clients seen on the most days
_ROUTINE_LENGTHS = np.array([name in ("log_pages", "log_duration") for name in ENTITY_FEATURE_NAMES])
_ROUTINE_LENGTH_MARGIN = np.where(_ROUTINE_LENGTHS, math.log(ROUTINE_LENGTH), 0.0)
_ROUTINE_SLACK_SHARE = np.where(_ROUTINE_LENGTHS, 0.0, 1.0)  # (the length's margin is ROUTINE_LENGTH alone)
# The features of the models this code scores: its own, and those of models trained by earlier
# releases (scored on their features alone), so that a live model, its rollback target and the gate's
# backtest of it keep working across an upgrade until retraining replaces them.
_READABLE_FEATURES = {
    ENTITY_FEATURES_VERSION: ENTITY_FEATURE_NAMES,
    _BEFORE_UNFAMILIAR_VERSION: tuple(name for name in ENTITY_FEATURE_NAMES if name != "unfamiliar_mean"),
    _PREVIOUS_FEATURES_VERSION: tuple(
        name for name in ENTITY_FEATURE_NAMES if name not in ("unfamiliar_mean", "repeated_sequence_mean")
    ),
}

# Why an entity stood out, in words: (template for a high value, template for a low value).
_REASONS = {
    "log_pages": ("many pages in one episode ({pages})", "very few pages ({pages})"),
    "log_duration": ("a long episode ({minutes:.0f} min)", "a very short episode ({minutes:.1f} min)"),
    "page_gap_mean": ("long pauses between pages", "pages in quick succession (typical pause {pace:.1f} s)"),
    "page_gap_spread": ("erratic pauses between pages", "machine-regular pauses between pages"),
    # (a page's calls: an app's polls read "mostly page assets" in a log that held no asset at all)
    "asset_share": (
        "mostly page assets or a page's own calls (its polls, its API calls)",
        "few or no page assets (images, scripts, styles, a page's calls) fetched",
    ),
    "no_referer_share": ("pages requested without a referer", ""),
    "event_score_mean": ("requests that look unusual on their own", ""),
    "flagged_mean": ("{flagged:.0f} requests flagged as anomalous", ""),
    "path_rarity_mean": ("pages rarely or never seen in normal traffic", "only the commonest pages"),
    # A page is its template (``model.features.resources``: /doctor/123 and /doctor/456 are one), so a
    # crawl of many items of one kind reads as this entity's few kinds of page, not as few pages.
    "new_path_mean": ("many kinds of page new to this entity", "the same few kinds of page again and again"),
    "write_mean": ("many writes (POST/PUT/DELETE)", ""),
    "failure_mean": ("{failures:.0f} failed requests or logins", ""),
    "client_error_mean": ("many client errors (4xx)", ""),
    "suspicious_mean": ("attack-like fragments in requests", ""),
    "repeated_sequence_mean": ("{repeats:.0f} pages retracing a path walked earlier in the episode", ""),
    "agent_rarity_mean": ("an unusual client (user agent)", ""),
    "headless_mean": ("a headless or automated browser", ""),
    "known_bot_mean": ("a self-declared bot or crawler", ""),
    "http_library_mean": ("an HTTP library or command-line tool as client", ""),
    "hosting_mean": ("addresses in hosting or data-centre networks", ""),
    "travel_mean": ("countries too far apart for the time between them (impossible travel)", ""),
    "unfamiliar_mean": ("a device (user agent) and a country both new to this user", ""),
}


def entity_key(event: Any, kind: str) -> str | None:
    """The entity an event belongs to: its user, or its session (None when it has none)."""
    name = "session_id" if kind == "session" else "user_id"
    value = event.get(name) if isinstance(event, dict) else getattr(event, name, None)
    return value if isinstance(value, str) and value else None


def mistyped_logins(rows: Matrix, events: Sequence[Any]) -> list[bool]:
    """Per feature row, whether its event is an account's owner mistyping the password: a failed
    login of a named user (not a session's or a client's pseudonym, ``PSEUDONYMOUS_USERS``) from an
    address and a user agent both among the user's recent ones, the user's ``MISTYPED_FAILURES``th
    failure in about an hour or an earlier one.

    ``Evidence`` forgives failures once the episode reads a page or gets in; these it never counts
    as failures, refusals or flags (they stay pages, their pauses a person's): an episode that
    began with them alerted before it could be forgiven (a trial's app users who mistyped twice on
    their own laptop at home, 6 of its 60 normal alerts). Whoever else tries the account comes from
    an address the user has not used (its first try counts; the next reads from an address the
    account has just used), a tool tries more (on the owner's own device, counted from its fifth
    try: two mistyped, two more forgiven as an episode's with pages), and stuffing shows as a
    wave, which counts failed logins whoever made them."""
    matrix = np.asarray(rows)
    own_device = _failed_on_known_client(matrix) & (matrix[:, _LOG_FAILURES_1H] <= _MISTYPED_LOG_FAILURES)
    mistyped = [False] * len(events)
    for position in np.flatnonzero(own_device).tolist():
        user, address = entity_key(events[position], "user"), event_field(events[position], "ip")
        # (an event without an address is new to no address: its agent alone is no device)
        mistyped[position] = bool(address) and user is not None and not user.startswith(PSEUDONYMOUS_USERS)
    return mistyped


def retyped_logins(rows: Matrix, events: Sequence[Any]) -> list[bool]:
    """Per feature row, whether its event may be a person typing their password again, where the log
    names no user (a session's or a client's pseudonym, ``PSEUDONYMOUS_USERS``): a failed login, not
    the user's first request, from an address and a user agent both among the user's recent ones (or,
    without an address, in the session its cookie keeps), sent more than ``RETYPE_SECONDS`` after the
    user's request before it, with at most ``RETYPED_FAILURES`` failed requests in about an hour (the
    user's decayed count, its pages not found too: a tool that retries every 18 minutes or more
    slowly stays below it, and the failed-login waves count its tries whatever the entity stage
    forgives). ``Evidence.observe`` takes it as mistyped once its episode has counted a failure (a
    server error's too): the first try counts, as a stuffing session's one try does (forgiven when
    the visit reads another page), and a tool retries at once."""
    matrix = np.asarray(rows)
    candidates = (
        _failed_on_known_client(matrix)
        & (matrix[:, _LOG_SECONDS_SINCE_PREVIOUS] > _RETYPE_LOG_SECONDS)
        & (matrix[:, _LOG_FAILURES_1H] <= _RETYPED_LOG_FAILURES)
    )
    retyped = [False] * len(events)
    for position in np.flatnonzero(candidates).tolist():
        event = events[position]
        user = entity_key(event, "user")
        if user is None or not user.startswith(PSEUDONYMOUS_USERS):
            continue
        # (a session's pseudonym is its cookie, one browser; a client's is its address and agent)
        retyped[position] = bool(event_field(event, "ip")) or user == SESSION_USER_PREFIX + str(
            event_field(event, "session_id")
        )
    return retyped


def _failed_on_known_client(matrix: np.ndarray[Any, np.dtype[np.float64]]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Per feature row: a failed login, not the user's first request, from an address and a user
    agent both among the user's recent ones (``mistyped_logins``, ``retyped_logins``)."""
    failed: np.ndarray[Any, np.dtype[np.bool_]] = (
        (matrix[:, _LOGIN_FAILED] > 0)
        & (matrix[:, _FIRST_EVENT] == 0)
        & (matrix[:, _NEW_IP] == 0)
        & (matrix[:, _NEW_AGENT] == 0)
    )
    return failed


def evidence_values(rows: Matrix) -> list[list[float]]:
    """Each event's values of ``EVIDENCE_COLUMNS``, from its feature row (as plain floats: the
    per-event additions are cheaper on them than on numpy scalars).

    A client error (4xx) counts as a failure only when it is a failed login: a page not found is
    one piece of evidence, a client error, not two. Counted twice, one stale link made a person's
    visit stand out as much as a probe; a failed login is both, an attempt that failed and a
    request refused."""
    matrix = np.asarray(rows)
    values = matrix[:, _EVIDENCE_INDEX]
    refused_only = (matrix[:, _STATUS_4XX] > 0) & (matrix[:, _LOGIN_FAILED] == 0)
    values[refused_only, _FAILURE_VALUE] = 0.0
    # A new agent from a new country; through a hosting network (a VPN's, a cloud proxy's) from a new
    # network too: such a country is never recorded as the user's (``user_columns``), so it reads new
    # on every request, and a VPN user's browser update would read as a switch.
    hosted = matrix[:, _IP_HOSTING] > 0
    values[:, _UNFAMILIAR_VALUE] *= matrix[:, _NEW_COUNTRY] * np.where(hosted, matrix[:, _NEW_ASN], 1.0)
    listed: list[list[float]] = values.tolist()
    return listed


_STATUS_4XX = FEATURE_NAMES.index("status_4xx")
_FIRST_EVENT = FEATURE_NAMES.index("first_event")
_NEW_IP = FEATURE_NAMES.index("new_ip")
_NEW_AGENT = FEATURE_NAMES.index("new_user_agent")
_LOG_FAILURES_1H = FEATURE_NAMES.index("log_failures_1h")  # (the event's own failure counted)
_MISTYPED_LOG_FAILURES = math.log1p(MISTYPED_FAILURES) + 1e-9
_RETYPED_LOG_FAILURES = math.log1p(RETYPED_FAILURES) + 1e-9
_LOG_SECONDS_SINCE_PREVIOUS = FEATURE_NAMES.index("log_seconds_since_previous")
_RETYPE_LOG_SECONDS = math.log1p(RETYPE_SECONDS)
_LOGIN_FAILED = FEATURE_NAMES.index("event_login_failed")
_LOGIN_SUCCEEDED = FEATURE_NAMES.index("event_login_succeeded")
_FAILURE_VALUE = EVIDENCE_COLUMNS.index("failure")
_NEW_COUNTRY = FEATURE_NAMES.index("new_country")
_NEW_ASN = FEATURE_NAMES.index("new_asn")
_IP_HOSTING = FEATURE_NAMES.index("ip_hosting")


def alert_share(
    alert_budget: float, entities_per_day: float, min_daily_alerts: float = DEFAULT_MIN_DAILY_ALERTS
) -> float:
    """The share of normal entity-days that may alert: the budget's (``alert_budget`` per 1,000), or
    ``min_daily_alerts`` a day among ``entities_per_day`` where the budget allows fewer, at most
    ``MAX_ALERTED_SHARE``; 0 ``min_daily_alerts`` leaves the budget alone."""
    share = alert_budget / 1000.0
    if entities_per_day > 0 and min_daily_alerts > 0:
        share = max(share, min(MAX_ALERTED_SHARE, min_daily_alerts / entities_per_day))
    return share


def missing_referer(event: Any) -> bool | None:
    """Whether a web request came without a referer; None where the source records no referers."""
    properties = event_field(event, "properties")
    if not isinstance(properties, Mapping) or "referer" not in properties:
        return None
    referer = properties["referer"]
    return not isinstance(referer, str) or referer.strip() in _NO_REFERER


# The importer's mark on a call a search box made as its visitor typed (``traffic.typeahead``).
TYPED_AHEAD = "typed_ahead"


def typed_ahead(event: Any) -> bool:
    """Whether a request is a search box's call as its visitor typed, after the first of the word."""
    properties = event_field(event, "properties")
    return isinstance(properties, Mapping) and properties.get(TYPED_AHEAD) is True


@dataclass(slots=True)
class Evidence:
    """One entity's current episode: counts and sums, fixed size whatever its length."""

    first_seen: float = 0.0
    last_seen: float = 0.0  # the episode's latest request, a page's poll included: it keeps the episode going
    last_active: float = 0.0  # its latest request but for polls: where its duration ends
    last_page_seen: float | None = None
    events: int = 0
    pages: int = 0
    gaps: int = 0
    gap_sum: float = 0.0
    gap_squares: float = 0.0
    referers_known: int = 0
    referers_missing: int = 0
    page_sums: list[float] = field(default_factory=lambda: [0.0] * len(PAGE_MEANS))
    client_sums: list[float] = field(default_factory=lambda: [0.0] * len(CLIENT_MEANS))
    episode: int = 0  # episodes seen, so an alert can name the one it belongs to
    alerted: bool = False  # this episode has alerted already
    trail: tuple[int, int] = (0, 0)  # ``page_identity`` of the last two pages (0: none yet)
    sequences: list[int] = field(default_factory=list)  # fingerprints of the episode's page sequences
    page_opened: bool = False  # a page that is not a polled call has counted in this episode
    form_waiting: bool = False  # the last page did not fail: a failure next would make it a form fetched
    forms_fetched: int = 0  # pages that did not fail, each followed within FORM_SECONDS by a failure

    # Counts in 32 bits (held at their largest, four billion requests: no episode comes near it),
    # which keeps the longest session id's item within one write unit.
    _LAYOUT = struct.Struct(
        f"<BBB ddd IIIdd II {len(PAGE_MEANS)}d {len(CLIENT_MEANS)}d I? II B{SEQUENCE_MEMORY}H ??I d"
    )
    # The layouts of this version's release before the unfamiliar client (version 3, a client mean
    # fewer), each with those before polls counted nowhere (``last_active``) and before polled calls
    # (``page_opened``); and version 2's, before the page trail.
    _BEFORE_UNFAMILIAR_LAYOUT = struct.Struct(
        f"<BBB ddd QQQdd QQ {len(PAGE_MEANS)}d {len(CLIENT_MEANS) - 1}d I? II B{SEQUENCE_MEMORY}H ??I d"
    )
    _PREVIOUS_LAYOUT = struct.Struct(f"<BBB ddd QQQdd QQ {len(PAGE_MEANS) - 1}d {len(CLIENT_MEANS) - 1}d I?")

    def observe(
        self,
        now: float,
        values: Sequence[float],
        score: float,
        flagged: bool,
        asset: bool,
        referer_missing: bool | None = None,
        subrequest: bool = False,
        page: int = 0,
        subrequest_seconds: float = SUBREQUEST_SECONDS,
        polled: bool = False,
        typed: bool = False,
        logged_in: bool = False,
        mistyped: bool = False,
        retyped: bool = False,
    ) -> bool:
        """Add one event (in time order; ``values`` from ``evidence_values``); returns True if it
        starts a new episode. An ``asset`` counts as a request of the page before it, and so does a
        ``subrequest`` (a call pages make as they load: ``ResourceVocabulary.subrequests``) that
        comes within ``subrequest_seconds`` of a page (the vocabulary's), its flag counted with the
        page's; later, or without a page, it is a page: a client that calls it on its own, many
        times, is read like any other. A ``polled`` call (one pages poll while open, as the
        visits now say) that comes ``POLL_MIN_SECONDS`` or more after the episode's request before
        it, once the episode has opened a page, counts nowhere: it keeps the episode going, and
        adds no request, asset, page or minute to it, nor its flag; unless it failed or was refused
        (4xx), which counts as a page (a probe of it). A live blog
        left open an hour polls its updates sixty times: counted as pages they read as sixty
        machine-regular ones, as assets as a client fetching little else, and their hour as the
        reader's. A ``typed`` call (``typed_ahead``) that does not fail and is not refused counts with
        the page it was typed on, however long after it, as a subrequest does. ``page``: the event's
        ``page_identity`` (0, unknown, keeps no trail). ``logged_in``: a successful login, after which
        the episode's failures count no more where they were ``MISTYPED_FAILURES`` or fewer. A
        ``mistyped`` login (``mistyped_logins``) counts as a page without its failure, its refusal
        (4xx) or its flag; so does a ``retyped`` one (``retyped_logins``) once the episode has counted
        a failure."""
        # An event far behind the episode's latest also starts a new one: a single event dated in
        # the future must not hold every later one in an episode that has alerted already.
        new_episode = self.events == 0 or abs(now - self.last_seen) > EPISODE_IDLE_SECONDS
        if retyped and not new_episode and self.page_sums[_FAILURE_SUM] > 0.0:
            mistyped = True
        if mistyped:
            # (a page of the visit, its pause a person's: no failure, no refusal, no flag)
            values = [*values]
            values[_FAILURE_SUM - 2] = values[_CLIENT_ERROR_VALUE] = 0.0
            flagged = False
        page_poll = polled and not new_episode and now - self.last_seen >= POLL_MIN_SECONDS
        if new_episode:
            self._start_episode(now)
        elif now > self.last_seen:
            self.last_seen = now
        # (flagged or not: a call that appeared since training is flagged as often as it is polled)
        quiet = values[_FAILURE_SUM - 2] == 0.0 and values[_CLIENT_ERROR_VALUE] == 0.0
        if page_poll and self.page_opened and quiet and values[_UNFAMILIAR_VALUE] == 0.0:
            return new_episode
        self.events += 1
        if now > self.last_active:
            self.last_active = now
        client = self.client_sums
        for position in range(len(client)):
            client[position] += values[_PAGE_VALUES + position]
        if client[_UNFAMILIAR_SUM] > 0.0 and values[_UNFAMILIAR_VALUE] == 0.0:
            client[_UNFAMILIAR_SUM] += 1.0  # (a request after the episode's switch to a new client)
        if logged_in and 0.0 < self.page_sums[_FAILURE_SUM] <= MISTYPED_FAILURES:
            self.page_sums[_FAILURE_SUM] = 0.0  # (a password mistyped, then typed right)
        last_page = self.last_page_seen
        if asset or (
            last_page is not None
            and (
                (subrequest and 0.0 <= now - last_page <= subrequest_seconds) or (typed and quiet and now >= last_page)
            )
        ):
            # A flag still counts: what a client sends through a page's own calls (an injection, a
            # probe) is flagged with the page it came with, and the pace stays the pages'.
            self.page_sums[_FLAGGED_SUM] += 1.0 if flagged and not asset else 0.0
            return new_episode
        if last_page is not None:
            gap = math.log1p(now - last_page if now > last_page else 0.0)
            self.gaps += 1
            self.gap_sum += gap
            self.gap_squares += gap * gap
        if last_page is None or now > last_page:
            self.last_page_seen = now
        self.pages += 1
        self.page_opened = self.page_opened or not polled
        failed_page = values[_FAILURE_SUM - 2] > 0.0
        if failed_page and self.form_waiting and last_page is not None and now - last_page <= FORM_SECONDS:
            self.forms_fetched += 1
        # (a page not found or refused is no login form, and neither is a write: a login that got in)
        self.form_waiting = not failed_page and values[_CLIENT_ERROR_VALUE] == 0.0 and values[_WRITE_VALUE] == 0.0
        if referer_missing is not None:
            self.referers_known += 1
            self.referers_missing += 1 if referer_missing else 0
        sums = self.page_sums
        sums[0] += score
        sums[_FLAGGED_SUM] += 1.0 if flagged else 0.0
        for position in range(_PAGE_VALUES):
            sums[position + 2] += values[position]
        if page:
            sums[_REPEATED_SUM] += 1.0 if self._walked_before(page) else 0.0
        return new_episode

    def observe_event(self, now: float, inputs: EventEvidence, position: int, score: float, flagged: bool) -> bool:
        """``observe`` the event at ``position`` of a batch read by ``event_evidence``: the one way
        the scorer's entity stage and training's replay (``episode_snapshots``) add an event."""
        return self.observe(
            now,
            inputs.values[position],
            score,
            flagged,
            inputs.assets[position],
            inputs.missing_referers[position],
            inputs.subrequests[position],
            inputs.pages[position],
            inputs.subrequest_seconds,
            inputs.polled[position],
            inputs.typed[position],
            inputs.logins[position],
            inputs.mistyped[position],
            inputs.retyped[position],
        )

    def _walked_before(self, page: int) -> bool:
        """Whether ``page`` and the two pages before it, three different pages, came in this order
        earlier in the episode."""
        before_last, last = self.trail
        self.trail = (last, page)
        # Three different pages: a reload (the same page again) or a step back (list, article, list)
        # is what people do; a path of distinct pages walked again in the same order is a loop.
        if not before_last or len({before_last, last, page}) < 3:
            return False
        fingerprint = zlib.crc32(struct.pack("<III", before_last, last, page)) & 0xFFFF or 1
        if fingerprint in self.sequences:
            return True
        if len(self.sequences) == SEQUENCE_MEMORY:
            del self.sequences[0]
        self.sequences.append(fingerprint)
        return False

    def all_failed(self) -> bool:
        """Every request of the episode failed (a failed login, a 5xx or a failure outcome, not a
        page not found: ``evidence_values``) but for a page fetched right before a failure (the
        login form, which a tool fetches for its anti-forgery token), and none fetched a page
        asset: what an account tried by credential stuffing shows."""
        failed = self.page_sums[_FAILURE_SUM]
        return 0 < self.pages == self.events and failed > 0 and failed + self.forms_fetched >= self.pages

    def _start_episode(self, now: float) -> None:
        self.first_seen = self.last_seen = self.last_active = now
        self.last_page_seen = None
        self.events = self.pages = self.gaps = self.referers_known = self.referers_missing = 0
        self.gap_sum = self.gap_squares = 0.0
        self.page_sums = [0.0] * len(PAGE_MEANS)
        self.client_sums = [0.0] * len(CLIENT_MEANS)
        self.episode += 1
        self.alerted = False
        self.trail = (0, 0)
        self.sequences = []
        self.page_opened = False
        self.form_waiting = False
        self.forms_fetched = 0

    def counts(self) -> tuple[float, ...]:
        """The episode's raw figures, in the order ``evidence_rows`` reads them: its failures as none
        while they are a person's mistyped password (``MISTYPED_FAILURES``)."""
        page_sums = self.page_sums
        failures = page_sums[_FAILURE_SUM]
        if 0.0 < failures <= MISTYPED_FAILURES and self.pages - failures - self.forms_fetched >= 1.0:
            page_sums = [*page_sums]
            page_sums[_FAILURE_SUM] = 0.0
        return (
            self.pages,
            self.events,
            self.last_active - self.first_seen,
            self.gaps,
            self.gap_sum,
            self.gap_squares,
            self.referers_known,
            self.referers_missing,
            *page_sums,
            *self.client_sums,
        )

    def to_bytes(self) -> bytes:
        """A fixed binary layout (``_LAYOUT.size`` bytes) for the scorer's state table."""
        return self._LAYOUT.pack(
            ENTITY_FEATURES_VERSION,
            len(PAGE_MEANS),
            len(CLIENT_MEANS),
            self.first_seen,
            self.last_seen,
            math.nan if self.last_page_seen is None else self.last_page_seen,
            min(self.events, _MAX_COUNT),
            min(self.pages, _MAX_COUNT),
            min(self.gaps, _MAX_COUNT),
            self.gap_sum,
            self.gap_squares,
            min(self.referers_known, _MAX_COUNT),
            min(self.referers_missing, _MAX_COUNT),
            *self.page_sums,
            *self.client_sums,
            self.episode,
            self.alerted,
            *self.trail,
            len(self.sequences),
            *self.sequences,
            *[0] * (SEQUENCE_MEMORY - len(self.sequences)),
            self.page_opened,
            self.form_waiting,
            min(self.forms_fetched, _MAX_COUNT),
            self.last_active,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Evidence:
        page_means, client_means = len(PAGE_MEANS), len(CLIENT_MEANS)
        header = tuple(data[:3])
        clients_end = 13 + page_means + client_means
        if header == (ENTITY_FEATURES_VERSION, page_means, client_means) and len(data) == cls._LAYOUT.size:
            values = cls._LAYOUT.unpack(data)
        elif header == (_BEFORE_UNFAMILIAR_VERSION, page_means, client_means - 1):
            # Stored before the unfamiliar client: its episode goes on as one that has not switched.
            before = _read_version_3(data)
            values = (*before[: clients_end - 1], 0.0, *before[clients_end - 1 :])
        elif len(data) == cls._PREVIOUS_LAYOUT.size and header == (
            _PREVIOUS_FEATURES_VERSION,
            page_means - 1,
            client_means - 1,
        ):
            # The release before kept no trail: its episodes go on with none repeated so far.
            previous = cls._PREVIOUS_LAYOUT.unpack(data)
            page_end = 13 + page_means - 1
            values = (
                *previous[:page_end],
                0.0,
                *previous[page_end:-2],
                0.0,
                *previous[-2:],
                0,
                0,
                0,
                *[0] * SEQUENCE_MEMORY,
                previous[7] > 0,
                False,
                0,
                previous[4],
            )
        else:
            raise InvalidStateError("entity evidence", f"not a version {ENTITY_FEATURES_VERSION} record")
        first, last, last_page, events, pages, gaps, gap_sum, gap_squares, known, missing = values[3:13]
        pages_end = 13 + page_means
        episode, alerted, before_last, last_seen_page, remembered = values[clients_end : clients_end + 5]
        if remembered > SEQUENCE_MEMORY:
            raise InvalidStateError("entity evidence", f"{remembered} page sequences, at most {SEQUENCE_MEMORY}")
        sequences = list(values[clients_end + 5 : clients_end + 5 + remembered])
        return cls(
            first,
            last,
            values[-1],
            None if math.isnan(last_page) else last_page,
            events,
            pages,
            gaps,
            gap_sum,
            gap_squares,
            known,
            missing,
            list(values[13:pages_end]),
            list(values[pages_end:clients_end]),
            episode,
            alerted,
            (before_last, last_seen_page),
            sequences,
            bool(values[-4]),
            bool(values[-3]),
            values[-2],
        )


def _read_version_3(data: bytes) -> tuple[Any, ...]:
    """An evidence record of version 3, or of its releases before polls counted nowhere
    (``last_active``) or before polled calls (``page_opened``), in version 3's whole layout."""
    if len(data) == _VERSION_3.size:
        return _VERSION_3.unpack(data)
    if len(data) == _VERSION_3_BEFORE_ACTIVE.size:
        # Stored while polls still counted: its every request was active.
        before = _VERSION_3_BEFORE_ACTIVE.unpack(data)
        return (*before, before[4])
    if len(data) == _VERSION_3_BEFORE_POLLS.size:
        # Stored before polled calls and login forms: any page it counted was opened, none a form.
        before = _VERSION_3_BEFORE_POLLS.unpack(data)
        return (*before, before[7] > 0, False, 0, before[4])
    raise InvalidStateError("entity evidence", f"a version 3 record of {len(data)} bytes")


_VERSION_3 = Evidence._BEFORE_UNFAMILIAR_LAYOUT
_VERSION_3_BEFORE_ACTIVE = struct.Struct(_VERSION_3.format.removesuffix(" d"))
_VERSION_3_BEFORE_POLLS = struct.Struct(_VERSION_3.format.removesuffix(" ??I d"))


def page_identity(event: Any) -> int:
    """A page's identity for ``Evidence``'s page trail: a 32-bit hash of its event type and resource
    (query included: a search run again with the same words is the same page), never 0."""
    if isinstance(event, Mapping):
        event_type, resource = event.get("event_type"), event.get("resource")
    else:
        event_type, resource = getattr(event, "event_type", None), getattr(event, "resource", None)
    text = f"{event_type} {resource}".encode("utf-8", "surrogatepass")
    return zlib.crc32(text) or 1


# The shares a reason tells in words as the episode's own count: (its place in ``Evidence.counts``,
# the place of what it is a share of, their name): of its requests (what the client and its network
# are), of its pages, of its pages whose referer the log records. (Not the means of values other
# than 0 and 1: rarity, attack-like fragments, travel.)
_SHARE_OF = {
    **{
        f"{name}_mean": (8 + len(PAGE_MEANS) + CLIENT_MEANS.index(name), 1, "requests")
        for name in ("headless", "known_bot", "http_library", "hosting", "unfamiliar")
    },
    **{f"{name}_mean": (8 + PAGE_MEANS.index(name), 0, "pages") for name in ("write", "client_error", "new_path")},
    "no_referer_share": (7, 6, "pages"),  # (of those whose referer the log records)
}
# The means a reason gives as a count of the episode's own (``EntityModel.reasons``' details).
_COUNTED_AS = {"flagged_mean": "flagged", "failure_mean": "failures", "repeated_sequence_mean": "repeats"}
_FIRST_PAGE_MEAN = ENTITY_FEATURE_NAMES.index("event_score_mean")
_FIRST_CLIENT_MEAN = _FIRST_PAGE_MEAN + len(PAGE_MEANS)


def evidence_rows(counts: Matrix, priors: Sequence[float]) -> Matrix:
    """Entity feature rows (``ENTITY_FEATURE_NAMES``) of episodes given by their ``Evidence.counts``,
    every mean shrunk toward ``priors`` by ``PRIOR_EVENTS`` pseudo-pages; all at once, in numpy."""
    figures = np.asarray(counts, dtype=np.float64).reshape(-1, _COUNT_WIDTH)
    pages, events, duration, gaps, gap_sum, gap_squares, known, missing = figures[:, :8].T
    weight = PRIOR_EVENTS
    prior = np.asarray(priors, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw_variance = np.where(gaps > 0, gap_squares / gaps - (gap_sum / gaps) ** 2, 0.0)
    variance = (np.maximum(raw_variance, 0.0) * gaps + prior[3] ** 2 * weight) / (gaps + weight)
    page_sums = figures[:, 8 : 8 + len(PAGE_MEANS)]
    client_sums = figures[:, 8 + len(PAGE_MEANS) :]
    page_priors = prior[_FIRST_PAGE_MEAN:_FIRST_CLIENT_MEAN]
    client_priors = prior[_FIRST_CLIENT_MEAN:]
    rows: Matrix = np.column_stack(
        [
            # At least one page: an episode of page assets alone so far (a page logged after its
            # styles, pre-login requests whose page was cached) has its page somewhere. Read as 0
            # pages, fewer than nearly any training episode, a single font file alerted ("very few
            # pages (0)").
            np.log1p(np.maximum(pages, 1.0)),
            np.log1p(np.maximum(duration, 0.0)),
            (gap_sum + prior[2] * weight) / (gaps + weight),
            np.sqrt(variance),
            (events - pages + prior[4] * weight) / (events + weight),
            (missing + prior[5] * weight) / (known + weight),
            (page_sums + page_priors * weight) / (pages[:, None] + weight),
            (client_sums + client_priors * weight) / (events[:, None] + weight),
        ]
    )
    return rows


_COUNT_WIDTH = 8 + len(PAGE_MEANS) + len(CLIENT_MEANS)


def evidence_row(evidence: Evidence, priors: Sequence[float]) -> list[float]:
    """``evidence_rows`` of one episode."""
    row: list[float] = evidence_rows(np.asarray([evidence.counts()]), priors)[0].tolist()
    return row


def population_priors(totals: Sequence[float]) -> list[float]:
    """The values ``evidence_rows`` shrinks toward, from ``totals``: the ``Evidence.counts`` of every
    training episode summed (so the gap prior is the mean and spread of every gap between pages)."""
    figures = np.asarray(totals, dtype=np.float64)
    pages, events, _, gaps, gap_sum, gap_squares, known, missing = figures[:8].tolist()
    gap_mean = gap_sum / gaps if gaps else 0.0
    priors = [
        0.0,  # pages and duration are not shrunk
        0.0,
        gap_mean,
        math.sqrt(max(gap_squares / gaps - gap_mean**2, 0.0)) if gaps else 0.0,
        (events - pages) / max(events, 1.0),
        missing / max(known, 1.0),
    ]
    priors += (figures[8 : 8 + len(PAGE_MEANS)] / max(pages, 1.0)).tolist()
    priors += (figures[8 + len(PAGE_MEANS) :] / max(events, 1.0)).tolist()
    return priors


# An episode most of whose requests came from a declared machine (an HTTP library or tool, a
# self-declared bot, a headless browser) is a machine client's: an integration's nightly sync, a
# monitor, a search engine's crawler. Where training holds any, the other episodes are judged by a
# model of theirs alone: fitted with the machines' episodes, the profile takes their pace and their
# lack of page assets for normal, and a scraper behind a browser's user agent that walks the same
# API does not stand out among the people it claims to be. Machine clients are then judged by a
# model of their own (``EntityModel.machines``), or of everyone's episodes where theirs are too few.
MACHINE_CLIENT_SHARE = 0.5
_MACHINE_SUMS = [8 + len(PAGE_MEANS) + CLIENT_MEANS.index(name) for name in ("headless", "known_bot", "http_library")]


def machine_clients(counts: Matrix) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Whether each episode (``Evidence.counts``) is a machine client's: at least
    ``MACHINE_CLIENT_SHARE`` of its requests from a declared machine."""
    figures = np.asarray(counts, dtype=np.float64).reshape(-1, _COUNT_WIDTH)
    declared = figures[:, _MACHINE_SUMS].sum(axis=1)
    machines: np.ndarray[Any, np.dtype[np.bool_]] = declared >= MACHINE_CLIENT_SHARE * np.maximum(figures[:, 1], 1.0)
    return machines


def term_cap(rows: int) -> float:
    """The largest term a profile of ``rows`` rows gives: ``EXTRAPOLATION_CAP`` times its empirical
    tail's end."""
    return math.log(rows + 1.0) * EXTRAPOLATION_CAP


def _tail_scales(sorted_columns: Matrix) -> tuple[Vector, Vector]:
    """Per feature, the mean excess of the sample's outer tenth beyond its 10th and 90th
    percentiles: the scale of the exponential tail beyond the sample. A feature that never varied
    in training gets the scale of a share's smallest step, so any value beyond it is strong evidence."""
    rows = sorted_columns.shape[0]
    # At least two values, so that a sample under 20 rows has one excess to measure instead of none.
    tenth = min(rows, max(2, rows // 10))
    low_edge, high_edge = sorted_columns[tenth - 1], sorted_columns[rows - tenth]
    low = (low_edge - sorted_columns[:tenth]).mean(axis=0)
    high = (sorted_columns[rows - tenth :] - high_edge).mean(axis=0)
    return np.maximum(low, MIN_TAIL_SCALE), np.maximum(high, MIN_TAIL_SCALE)


class AlertClient(NamedTuple):
    """The client of the request that raised an alert: what an analyst looks up or blocks first (a
    takeover's reason says "a device and a country both new to this user"; this names them)."""

    address: str | None
    user_agent: str | None
    country: str | None = None  # ISO 3166 alpha-2, where the model's network lookup knows it
    network: str | None = None  # the address's network: its number and organisation

    def describe(self, agent_length: int = 80) -> str:
        """``113.161.20.5 (VN, AS45899 VNPT Corp), okhttp/4.12.0``, the agent cut at ``agent_length``."""
        where = ", ".join(part for part in (self.country, self.network) if part)
        address = (self.address or "no address") + (f" ({where})" if where else "")
        agent = self.user_agent or "no user agent"
        return f"{address}, {agent[:agent_length]}{'...' if len(agent) > agent_length else ''}"


@dataclass(frozen=True)
class EntityAlert:
    """An entity crossed its threshold: the episode so far and the reasons, in words, and the client
    of the request that raised it (None for a wave's, the service's)."""

    entity: str
    kind: str  # "user" or "session"
    score: float
    threshold: float
    episode: int
    first_event_at: float
    last_event_at: float
    pages: int  # requests other than page assets
    reasons: tuple[str, ...]
    client: AlertClient | None = None

    @property
    def severity(self) -> float:
        return self.score / self.threshold if self.threshold > 0 else math.inf


class EpisodeSoFar(NamedTuple):
    """How far an alerted episode has gone since its alert: its latest request (a page's poll aside)
    and its pages (``EntityTracker.observe``)."""

    kind: str
    entity: str
    first_event_at: float
    last_event_at: float
    pages: int


def went_far(pages_before: int, active_before: float, evidence: Evidence) -> bool:
    """Whether an episode of ``pages_before`` pages, last active at ``active_before``, has since
    doubled its pages or entered another ``EPISODE_REPORT_SECONDS`` of time (``evidence``: as it is now)."""
    doubled = evidence.pages.bit_length() > pages_before.bit_length()
    later = int(evidence.last_active // EPISODE_REPORT_SECONDS) > int(active_before // EPISODE_REPORT_SECONDS)
    return doubled or later


class EntityModel:
    """ECOD over episode rows, the population priors, and the threshold the alert budget sets."""

    def __init__(
        self,
        priors: Sequence[float],
        sorted_columns: Matrix,
        threshold: float,
        alert_budget: float,
        scoring: str = SOFT_TRUNCATED_TAIL_SUM,
        term_threshold: float | None = None,
        capped_as_rows: int | None = None,
        features_version: int = ENTITY_FEATURES_VERSION,
        machines: EntityModel | None = None,
        usual: Sequence[float] | None = None,
        habitual: Mapping[str, float] | None = None,
        routine: Mapping[str, Sequence[float]] | None = None,
        resolution: float = LEARNED_VALUE_RESOLUTION,
    ) -> None:
        """``capped_as_rows``: cap extrapolated terms as a profile of that many rows would (a
        cross-fitting fold stands in for the whole training's profile, whose cap is higher).
        ``features_version``: that of the features ``sorted_columns`` holds, this code's or an
        earlier one's (``_READABLE_FEATURES``); ``priors`` are always in this code's layout, as
        ``evidence_rows`` reads them. ``machines``: where training held machine clients
        (``machine_clients``), the model that judges their episodes, fitted on theirs (or on
        everyone's, where theirs were too few) and calibrated on their days (on everyone's, where they
        were one or two clients'); this one is then fitted
        and calibrated on the others alone, and judges them. Without it, this one judges every
        episode. ``usual``: each of the model's features' median over the training's finished
        episodes, what a reason calls usual (a model without it names the profile's median, over
        the episodes' snapshots at 1, 2, 4, 8... events, where a typical episode has one page).
        ``habitual``: entities that crossed on ``HABIT_MIN_DAYS`` days of training, each with its
        highest score there (on this model's scale): it alerts only beyond ``HABIT_MARGIN`` times it.
        ``routine``: machine clients seen on ``HABIT_MIN_DAYS`` days of training, each with its
        pooled row over them (``ENTITY_FEATURE_NAMES``): ``as_routine`` reads their episodes.
        ``resolution``: ``LEARNED_VALUE_RESOLUTION``, or 0 for a model calibrated before it, which
        reads learned values exactly, as it was calibrated."""
        if scoring not in _SCORINGS:
            raise InvalidStateError("entity model", f"scoring {scoring!r} is not one this code knows")
        if (scoring == SUM_OR_LARGEST_TERM) != (term_threshold is not None and term_threshold > 0):
            raise InvalidStateError("entity model", f"scoring {scoring!r} with term threshold {term_threshold!r}")
        if features_version not in _READABLE_FEATURES:
            raise InvalidStateError("entity model", f"entity features version {features_version!r} is unknown here")
        self.feature_names = _READABLE_FEATURES[features_version]
        self.features_version = features_version
        # Where the model's features sit in this code's rows.
        self._columns = np.array([ENTITY_FEATURE_NAMES.index(name) for name in self.feature_names])
        self._two_sided = _TWO_SIDED_MASK[self._columns]
        self._term_rule_features = _TERM_RULE_FEATURES[self._columns]
        self.resolution = float(resolution)
        self._resolution = np.where(_LEARNED_VALUES[self._columns], self.resolution, 0.0)
        self.priors = [float(value) for value in priors]
        self.threshold = float(threshold)
        self.term_threshold = None if term_threshold is None else float(term_threshold)
        self.alert_budget = float(alert_budget)
        self.scoring = scoring
        # Six decimals keep entities.json well below its size at full precision (the rows are
        # logs and shares; rounding is monotone, so the columns stay sorted).
        rounded = np.asarray(np.round(np.asarray(sorted_columns), ENTITY_DECIMALS), dtype=np.float64)
        self._profile = TailProfile.from_sorted(rounded)
        self._low_scale, self._high_scale = _tail_scales(rounded)
        self._term_cap = term_cap(capped_as_rows or self._profile.rows)
        self.machines = machines
        if usual is not None and len(usual) != len(self.feature_names):
            raise InvalidStateError("entity model", f"{len(usual)} usual values for {len(self.feature_names)} features")
        self.usual = None if usual is None else [float(value) for value in usual]
        self.habitual = {str(key): float(level) for key, level in (habitual or {}).items()}
        self.routine = {str(key): np.asarray(own, dtype=np.float64) for key, own in (routine or {}).items()}
        if any(own.shape != (len(ENTITY_FEATURE_NAMES),) for own in self.routine.values()):
            raise InvalidStateError("entity model", f"routine rows are not of {len(ENTITY_FEATURE_NAMES)} features")

    def alert_level(self, key: str, min_severity: float = 1.0) -> float:
        """The score an episode of ``key`` alerts beyond: the threshold (times ``min_severity``), or
        for a habitual entity its own level in training times ``HABIT_MARGIN``, if higher."""
        crossing = self.threshold * min_severity
        level = self.habitual.get(key)
        return crossing if level is None else max(crossing, level * HABIT_MARGIN)

    def usual_row(self) -> Vector:
        """What a reason calls usual, in ``ENTITY_FEATURE_NAMES``' layout (0 where the model has no
        such feature: none of its terms reads it)."""
        row = np.zeros(len(ENTITY_FEATURE_NAMES))
        row[self._columns] = self.usual if self.usual is not None else self._profile.medians
        return row

    def as_routine(self, rows: Matrix, keys: Sequence[str], judge: EntityModel) -> None:
        """Read the episodes (``rows``, updated in place) of routine clients against their own
        training: a value from the usual episode's of ``judge`` (the model that judges them) toward
        the client's own, up to ``ROUTINE_SLACK`` beyond its own (its length and duration up to
        ``ROUTINE_LENGTH`` times its longest), is set to the usual episode's, where it adds no
        evidence; a value on the other side of the usual one is judged as any client's. ``keys``:
        each row's entity."""
        share, floor = ROUTINE_SLACK
        usual = judge.usual_row()
        for index, key in enumerate(keys):
            own = self.routine.get(key)
            if own is None:
                continue
            own = own + _ROUTINE_LENGTH_MARGIN
            toward_own = np.where(own >= usual, 1.0, -1.0)
            span = np.abs(own - usual)
            row = rows[index]
            along = (row - usual) * toward_own  # how far from the usual value toward the client's own
            its_own = (along >= 0.0) & (along <= span + _ROUTINE_SLACK_SHARE * share * span + floor)
            row[its_own] = usual[its_own]

    def judge(self, counts: Matrix, keys: Sequence[str]) -> tuple[Matrix, Vector, list[EntityModel]]:
        """Each episode's row (``Evidence.counts`` of entity ``keys``, shrunk toward its judge's
        priors and read as its routine where it has one), its score on this model's scale, and the
        model that judged it (``by_client``)."""
        matrix = np.empty((len(counts), len(ENTITY_FEATURE_NAMES)))
        scores = np.empty(len(counts))
        judges: list[EntityModel] = [self] * len(counts)
        for model, judged in self.by_client(counts):
            if not len(judged):
                continue
            rows = evidence_rows(counts[judged], model.priors)
            # (a routine client's own row is of its episodes as a machine client's)
            if self.routine and model is (self.machines or self):
                routine = [place for place, index in enumerate(judged.tolist()) if keys[index] in self.routine]
                if routine:
                    own_rows = rows[routine]
                    self.as_routine(own_rows, [keys[judged[place]] for place in routine], model)
                    rows[routine] = own_rows
            matrix[judged] = rows
            scores[judged] = model.score(rows)
            if model is not self:
                # On this model's scale (its threshold), so that one threshold, one ranking and one
                # plot hold for every episode: the same severity against its own model's.
                scores[judged] *= self.threshold / model.threshold
                for index in judged.tolist():
                    judges[index] = model
        return matrix, scores, judges

    def by_client(self, counts: Matrix) -> list[tuple[EntityModel, np.ndarray[Any, np.dtype[np.intp]]]]:
        """The model that judges each episode (``Evidence.counts``), with the positions it judges.
        ``EntityTracker`` puts the machines model's scores on this one's scale (its threshold)."""
        if self.machines is None:
            return [(self, np.arange(len(counts)))]
        machines = machine_clients(counts)
        return [(self, np.flatnonzero(~machines)), (self.machines, np.flatnonzero(machines))]

    def _terms(self, rows: Matrix) -> tuple[Matrix, Matrix, Matrix]:
        """Each feature's evidence (negative log tail probability), and the two tails it came from.

        Beyond the training sample's range an empirical tail stops at 1 / (n + 1): a session ten
        times faster than any seen would count no more than one just past the fastest, and a small
        training log would cap every feature low. There the tail continues as an exponential fitted
        to the sample's own outer tenth (peaks over threshold, as ``tail_threshold`` does), capped
        at ``EXTRAPOLATION_CAP`` times the empirical maximum so that no single feature decides.
        """
        # Rounded as the profile's columns are: else a value the profile holds many times over (the
        # prior, which every episode without pages shows) falls a hair beyond all its copies, into
        # a tail that excludes them.
        matrix: Matrix = np.asarray(rows, dtype=np.float64)[:, self._columns].round(ENTITY_DECIMALS)
        # A learned value's tails are read at the edge of its resolution nearer the profile's middle
        # (rounded again: 0.4 - 0.05 is a hair above 0.35).
        left = self._profile.tails((matrix + self._resolution).round(ENTITY_DECIMALS))[0]
        right = self._profile.tails((matrix - self._resolution).round(ENTITY_DECIMALS))[1]
        columns = self._profile.sorted_columns
        ceiling = self._term_cap
        below = np.clip((columns[0] - self._resolution - matrix) / self._low_scale, 0.0, None)
        above = np.clip((matrix - self._resolution - columns[-1]) / self._high_scale, 0.0, None)
        left = np.minimum(left + below, ceiling)
        right = np.minimum(right + above, ceiling)
        terms: Matrix = np.where(self._two_sided, np.maximum(left, right), right)
        return terms, left, right

    def score(self, rows: Matrix) -> Vector:
        """How far into their training tails the episode's features sit, together: ECOD's terms,
        each feature's tails chosen by meaning rather than by skewness, added by
        ``model.tails.soft_truncated_sum``. Summed as they are, the ordinary terms of twenty
        features hide a bot that is moderately unusual in five ways at once: a spoofed browser on a
        home address, whose pace, regularity, length and exploring are each unusual and none
        extreme. Under ``SUM_OR_LARGEST_TERM`` the score also crosses the threshold when one
        feature alone is beyond ``term_threshold`` (``score_from``): a browser as regular as a clock
        and otherwise ordinary. Measured in docs/model.md. A model calibrated before the soft
        truncation (``PLAIN_TAIL_SUM``) adds the terms as they are."""
        if self.scoring == PLAIN_TAIL_SUM:
            plain: Vector = self._terms(rows)[0].sum(axis=1)
            return plain
        return self.score_from(*self.sum_and_largest_term(rows))

    def score_from(self, total: Vector, largest_term: Vector) -> Vector:
        """The score of episodes whose soft-truncated sum is ``total`` and largest term ``largest_term``."""
        if self.term_threshold is None:
            return total
        # The largest term on the sum's scale: ``threshold`` where it reaches its own threshold, so
        # that the score crosses when either does. Below that, the ratio of its tail probability to
        # the threshold's (a term is a negative log probability): far below, it is small beside the
        # sum, which keeps ordering the ordinary episodes; beyond, it grows a unit a nat, as the sum does.
        beyond = largest_term - self.term_threshold
        largest: Vector = self.threshold * np.exp(np.minimum(beyond, 0.0)) + np.maximum(beyond, 0.0)
        return np.maximum(total, largest)

    def sum_and_largest_term(self, rows: Matrix) -> tuple[Vector, Vector]:
        """Each row's soft-truncated sum and largest term (of the features the term rule reads),
        the two statistics that training calibrates a threshold for."""
        terms = self._terms(rows)[0]
        return soft_truncated_sum(terms), terms[:, self._term_rule_features].max(axis=1)

    def reasons(
        self, rows: Matrix, top: int = 3, counts: Sequence[Sequence[float] | None] | None = None
    ) -> list[tuple[str, ...]]:
        """For each row, the ``top`` features furthest in their training tails, as sentences naming
        the episode's figures (read back from its row, so an alert describes the episode as it stood);
        with the episodes' ``Evidence.counts``, a share also as the episode's own count of its
        requests or pages (``_SHARE_OF``)."""
        matrix = np.asarray(rows, dtype=np.float64).reshape(-1, len(ENTITY_FEATURE_NAMES))
        episode_counts = list(counts) if counts is not None else [None] * len(matrix)
        terms, left, right = self._terms(matrix)
        # An ordinary value is no reason: under the soft truncation it adds next to nothing.
        floor = 0.0 if self.scoring == PLAIN_TAIL_SUM else ORDINARY_TERM
        order = np.argsort(-terms, axis=1, kind="stable").tolist()
        medians = self.usual if self.usual is not None else self._profile.medians.tolist()
        explained = []
        for row, strongest, row_terms, row_left, row_right, figures in zip(
            matrix.tolist(), order, terms.tolist(), left.tolist(), right.tolist(), episode_counts, strict=True
        ):
            pages = math.expm1(row[0])

            def own_count(name: str, row: list[float] = row, pages: float = pages) -> float:
                # The shrunk mean undone: the episode's own number of such pages.
                column = ENTITY_FEATURE_NAMES.index(name)
                return max(0.0, row[column] * (pages + PRIOR_EVENTS) - self.priors[column] * PRIOR_EVENTS)

            def own_mean(name: str, count: float, row: list[float] = row) -> float:
                # The shrunk mean undone: the episode's own mean over its ``count`` values.
                column = ENTITY_FEATURE_NAMES.index(name)
                if count < 1.0:
                    return row[column]
                return (row[column] * (count + PRIOR_EVENTS) - self.priors[column] * PRIOR_EVENTS) / count

            details = {
                "pages": round(pages),
                "minutes": math.expm1(row[1]) / 60.0,
                "pace": math.expm1(max(0.0, own_mean("page_gap_mean", round(pages) - 1.0))),
                "flagged": own_count("flagged_mean"),
                "failures": own_count("failure_mean"),
                "repeats": own_count("repeated_sequence_mean"),
            }

            candidates: list[tuple[str, bool]] = []  # (the reason in words, its value beyond a usual episode's)
            priors_only: list[str] = []  # (shares and counts it has none of: said only where nothing else is)
            for column in strongest:
                if row_terms[column] <= floor:
                    break
                name = self.feature_names[column]
                high = name not in TWO_SIDED or row_right[column] >= row_left[column]
                value, usual = row[self._columns[column]], medians[column]
                beyond = round(value, 2) > round(usual, 2) if high else round(value, 2) < round(usual, 2)
                said = _REASONS[name][0 if high else 1].format(**details)
                figure = f" ({name} {value:.2f}, usually {usual:.2f})"
                share = _SHARE_OF.get(name) if high and figures is not None else None
                counted = _COUNTED_AS.get(name) if high else None
                own = figures[share[0]] if share is not None else details[counted] if counted is not None else None
                if own is not None and round(own) == 0:
                    # None of its own: the mean is the prior's alone, early in an episode (a new-user
                    # trial's replayed sessions read "many client errors (4xx)" with no 4xx at all, and
                    # "0 requests flagged as anomalous").
                    priors_only.append(said + figure)
                    continue
                if share is not None and figures is not None and figures[share[1]] >= 1:
                    # The episode's own share in words: its mean is shrunk toward the usual
                    # episode's, and a client that names itself a bot in its two requests reads 0.29.
                    part, whole, unit = share
                    said += f": {round(figures[part]):,} of {round(figures[whole]):,} {unit}"
                candidates.append((said + figure, beyond))
            # A value no further out than a usual finished episode's says little to the reader ("the
            # same few pages again (0.41, usually 0.30)": its tail is the profile's, whose snapshots
            # are mostly of episodes under way); the strongest is named all the same if none is beyond.
            words = (
                [text for text, beyond in candidates if beyond or self.usual is None][:top]
                or [text for text, _ in candidates[:1]]
                or priors_only[:1]
            )
            explained.append(tuple(words))
        return explained

    def to_json(self) -> dict[str, Any]:
        return {
            "entity_features_version": self.features_version,
            "scoring": self.scoring,
            "feature_names": list(self.feature_names),
            "priors": [self.priors[column] for column in self._columns.tolist()],
            "threshold": self.threshold,
            "term_threshold": self.term_threshold,
            "alert_budget": self.alert_budget,
            "learned_value_resolution": self.resolution,
            "sorted_columns": self._profile.sorted_columns.tolist(),
            **({"usual": self.usual} if self.usual is not None else {}),
            **({"machines": self.machines.to_json()} if self.machines is not None else {}),
            **({"habitual": self.habitual} if self.habitual else {}),
            **(
                {"routine": {key: np.round(own[self._columns], 4).tolist() for key, own in self.routine.items()}}
                if self.routine
                else {}
            ),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EntityModel:
        version = data.get("entity_features_version")
        names = _READABLE_FEATURES.get(version) if isinstance(version, int) else None
        if not isinstance(version, int) or names is None or tuple(data.get("feature_names", ())) != names:
            raise InvalidStateError(
                "entity model",
                f"built for entity features {data.get('feature_names')!r} version {version!r}; this code "
                f"has version {ENTITY_FEATURES_VERSION} and reads {sorted(_READABLE_FEATURES)}",
            )
        # The priors in this code's layout: a feature the model does not have is shrunk toward 0
        # (its column is read by no term).
        own = dict(zip(names, data["priors"], strict=True))
        return cls(
            [own.get(name, 0.0) for name in ENTITY_FEATURE_NAMES],
            np.asarray(data["sorted_columns"]),
            data["threshold"],
            data["alert_budget"],
            data.get("scoring", PLAIN_TAIL_SUM),
            data.get("term_threshold"),
            features_version=version,
            # Models trained before machine clients had their own judge every episode.
            machines=cls.from_json(data["machines"]) if data.get("machines") is not None else None,
            usual=data.get("usual"),  # (absent from a model trained before it named them)
            habitual=data.get("habitual"),  # (absent where training had none, and before habits)
            # (absent where training had none, and before routines; in the model's features, as the priors)
            routine={
                key: [dict(zip(names, own, strict=True)).get(name, 0.0) for name in ENTITY_FEATURE_NAMES]
                for key, own in (data.get("routine") or {}).items()
            },
            # (absent from a model calibrated before learned values were read to a resolution)
            resolution=data.get("learned_value_resolution", 0.0),
        )


class EventEvidence(NamedTuple):
    """What the entity stage reads of each event of a batch, computed once for every entity kind."""

    values: list[list[float]]  # evidence_values of the feature rows
    assets: list[bool]
    subrequests: list[bool]  # a call the model's site makes from its pages (ResourceVocabulary.subrequests)
    missing_referers: list[bool | None]
    pages: list[int]  # page_identity
    subrequest_seconds: float  # the vocabulary's: how soon after a page its calls come
    polled: list[bool]  # a call pages poll while open, by the visits now (BatchFeatures.polled)
    typed: list[bool]  # a search box's call as its visitor typed (typed_ahead)
    logins: list[bool]  # a successful login (``logged_in``)
    mistyped: list[bool]  # the account's owner mistyping the password (``mistyped_logins``)
    retyped: list[bool]  # a failed login sent again at a person's pace, where no user is named (``retyped_logins``)


def event_evidence(
    rows: Matrix,
    events: Sequence[Any],
    vocabulary: ResourceVocabulary | None = None,
    polled: Sequence[bool] | None = None,
) -> EventEvidence:
    """``EventEvidence`` of a batch's feature rows and their events (wire dicts or ``InteractionEvent``
    objects; ``vocabulary``: the model's, which knows the calls its site's pages make; ``polled``:
    ``BatchFeatures.polled`` of the rows). The scorer, the backtest and training's replay
    (``model.entity_training.episode_snapshots``) all read their events through it."""
    resources = [event_field(event, "resource") for event in events]
    return EventEvidence(
        evidence_values(rows),
        [is_page_asset(resource, request_method(event)) for resource, event in zip(resources, events, strict=True)],
        [vocabulary is not None and vocabulary.is_subrequest(resource) for resource in resources],
        [missing_referer(event) for event in events],
        [page_identity(event) for event in events],
        vocabulary.subrequest_seconds if vocabulary is not None else SUBREQUEST_SECONDS,
        list(polled) if polled is not None else [False] * len(events),
        [typed_ahead(event) for event in events],
        logins_of(rows),
        mistyped_logins(rows, events),
        retyped_logins(rows, events),
    )


def logins_of(rows: Matrix) -> list[bool]:
    """Per feature row, whether its event is a successful login (``Evidence.observe``)."""
    succeeded: list[bool] = (np.asarray(rows)[:, _LOGIN_SUCCEEDED] > 0).tolist()
    return succeeded


class Peak(NamedTuple):
    """An entity's highest score so far, with its episode's row and the model that judged it."""

    score: float
    row: Vector
    judge: EntityModel
    counts: tuple[float, ...] = ()  # the episode's Evidence.counts then


def explain_peaks(peaks: Mapping[str, Peak]) -> dict[str, tuple[str, ...]]:
    """Each entity's reasons at its peak, in words: the rows of each judging model read at once."""
    by_judge: dict[int, list[str]] = defaultdict(list)
    for key, peak in peaks.items():
        by_judge[id(peak.judge)].append(key)
    explained: dict[str, tuple[str, ...]] = {}
    for keys in by_judge.values():
        judge = peaks[keys[0]].judge
        rows, counts = np.stack([peaks[key].row for key in keys]), [peaks[key].counts or None for key in keys]
        explained.update(zip(keys, judge.reasons(rows, counts=counts), strict=True))
    return explained


class EntityTracker:
    """The per-batch step the scorer and the backtest share: update evidence, score, decide alerts."""

    def __init__(self, model: EntityModel, kind: str, min_severity: float = 1.0) -> None:
        self.model = model
        self.kind = kind
        # An episode alerts when its score first reaches this multiple of the model's threshold.
        self.min_severity = min_severity

    def observe(
        self,
        states: dict[str, Evidence],
        keys: Sequence[str | None],
        times: Sequence[float],
        inputs: EventEvidence,
        event_scores: Sequence[float],
        flagged: Sequence[bool],
        peaks: dict[str, Peak] | None = None,
        went_on: list[EpisodeSoFar] | None = None,
    ) -> tuple[Vector, list[EntityAlert]]:
        """Add a batch of events (time order) to ``states`` (updated in place; keys absent are new
        entities); returns each event's entity score (NaN without a key) and the alerts raised.
        ``peaks``, when given, keeps each entity's highest score with its episode as it stood then
        (``Peak``: what the backtest explains for an entity that did not alert). ``went_on``, when
        given, receives each episode that had alerted before the batch and has gone far since
        (``went_far``), as it stands at the batch's end."""
        counts: list[tuple[float, ...]] = []
        owners: list[int] = []
        episodes: list[tuple[int, float]] = []  # (episode number, its first event's time)
        # An episode under way when the batch starts may have alerted in an earlier batch.
        alerted_before = {
            key: (states[key].episode, states[key].pages, states[key].last_active)
            for key in set(keys)
            if key in states and states[key].alerted
        }
        alerted = {(key, episode) for key, (episode, _, _) in alerted_before.items()}
        for position, key in enumerate(keys):
            if key is None:
                continue
            evidence = states.get(key)
            if evidence is None:
                evidence = states[key] = Evidence()
            evidence.observe_event(times[position], inputs, position, event_scores[position], flagged[position])
            counts.append(evidence.counts())
            owners.append(position)
            episodes.append((evidence.episode, evidence.first_seen))
        entity_scores = np.full(len(keys), np.nan)
        if not counts:
            return entity_scores, []
        matrix, scores, judges = self.model.judge(np.asarray(counts), [str(keys[position]) for position in owners])
        entity_scores[owners] = scores
        if peaks is not None:
            for index, (position, score) in enumerate(zip(owners, scores.tolist(), strict=True)):
                key = keys[position]
                assert key is not None  # owners holds only events with a key
                peak = peaks.get(key)
                if peak is None or score > peak.score:
                    peaks[key] = Peak(score, matrix[index].copy(), judges[index], counts[index])
        crossings: list[int] = []  # indexes into owners of the events that crossed
        crossing = self.model.threshold * self.min_severity
        for index, (position, (episode, _), score) in enumerate(zip(owners, episodes, scores.tolist(), strict=True)):
            key = keys[position]
            assert key is not None  # owners holds only events with a key
            # (the common case first: a habitual entity's own level only lies above the threshold)
            if score <= crossing or score <= self.model.alert_level(key, self.min_severity):
                continue
            if (key, episode) not in alerted:
                alerted.add((key, episode))
                crossings.append(index)
        alerts = [
            EntityAlert(
                str(keys[owners[index]]),  # a key: owners holds only events with one
                self.kind,
                float(scores[index]),
                self.model.threshold,
                episodes[index][0],
                episodes[index][1],
                times[owners[index]],
                int(counts[index][0]),
                judges[index].reasons(matrix[[index]], counts=[counts[index]])[0],
            )
            for index in crossings
        ]
        for key in {key for key in keys if key is not None}:
            evidence = states[key]
            evidence.alerted = (key, evidence.episode) in alerted
        if went_on is not None:
            for key, (episode_then, pages_then, active_then) in alerted_before.items():
                evidence = states[key]
                if evidence.episode == episode_then and went_far(pages_then, active_then, evidence):
                    went_on.append(
                        EpisodeSoFar(self.kind, key, evidence.first_seen, evidence.last_active, evidence.pages)
                    )
        return entity_scores, alerts
