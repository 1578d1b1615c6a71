"""Feature rows from events: each group's columns, assembled in ``FEATURE_NAMES`` order.

Every group lives in its own module, declares its column names beside the function that computes
them, and returns them in that order; ``FEATURE_NAMES`` is the groups' names in the order below,
which is the order of the columns a model was trained with (``FEATURES_VERSION``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from model.enrichment import AgentInfo, AgentLookup, NetworkLookup
from model.exceptions import InvalidFeatureEventError
from model.features.addresses import ADDRESS_COLUMNS, CROWD_COLUMNS, CountryLookup, address_columns, network_lookup
from model.features.events import (
    ANSWERED_CLASS,
    FAILURE_CLASSES,
    SERVER_ERROR_CLASS,
    WRITE_METHODS,
    event_field,
    event_fields,
    event_time,
    stable_hash,
    status_class,
)
from model.features.request import REQUEST_COLUMNS, request_columns
from model.features.resources import SHAPE_COLUMNS, request_method, resource_shapes, suspicious_tokens
from model.features.site import SiteNow
from model.features.state import IpState, UserState, holds
from model.features.user_activity import USER_COLUMNS, user_columns
from model.features.vocabulary import NO_VOCABULARY, VOCABULARY_COLUMNS, ResourceVocabulary

FEATURE_NAMES: tuple[str, ...] = (
    *USER_COLUMNS,
    *ADDRESS_COLUMNS,
    *SHAPE_COLUMNS,
    *VOCABULARY_COLUMNS,
    *REQUEST_COLUMNS,
)
FEATURE_COUNT = len(FEATURE_NAMES)
# Non-zero on a user's first event: detectors judge those rows against other first events.
FIRST_EVENT_COLUMN = FEATURE_NAMES.index("first_event")
# Groups of columns that read one thing several ways: a detector counts each group once (by its
# most unusual column), or one unusual thing counts as several (model.tails.soft_truncated_sum).
COUNTED_ONCE: tuple[tuple[int, ...], ...] = (tuple(FEATURE_NAMES.index(name) for name in CROWD_COLUMNS),)
# Feature values are rounded to this many decimals, so that values equal up to float noise tie.
ROW_DECIMALS = 6
# The shape columns are computed for a whole batch at once (``resource_shapes``) and put in place
# last; ``_featurize_one`` returns the other groups' columns.
_SHAPE_START = FEATURE_NAMES.index(SHAPE_COLUMNS[0])
_SHAPE_END = _SHAPE_START + len(SHAPE_COLUMNS)
_FIRST_IN_USER = USER_COLUMNS.index("first_event")
_NEW_PATH_IN_USER = USER_COLUMNS.index("new_resource_path")
_ANSWERED = frozenset({0, ANSWERED_CLASS})  # status classes (events.status_class) of requests that count as visits
_REDIRECT_CLASS = 3


class Featurized(NamedTuple):
    """Rows for one user's events, the user's new state, and the new state of every IP they used."""

    rows: list[list[float]]
    state: UserState
    ip_states: dict[str, IpState]


class BatchFeatures(NamedTuple):
    """Rows for many users' events in input order, the new state of every user and IP touched, and
    the site's traffic now with these events counted (``featurize_batch``)."""

    rows: np.ndarray[Any, np.dtype[np.float64]]
    user_states: dict[str, UserState]
    ip_states: dict[str, IpState]
    site: SiteNow
    polled: list[bool]  # per row: a call pages poll while open, by the visits now
    site_errors: list[bool]  # per row: a server error read as the site's (model.features.outages)


def _featurize_one(
    state: UserState,
    event: Any,
    now: float,
    ip_states: dict[str, IpState],
    copied_ips: set[str],
    network_of: NetworkLookup | None,
    agent_of: AgentLookup | None,
    user_hash: int,
    vocabulary: ResourceVocabulary | None,
    ip_others: Mapping[str, IpState] | None = None,
    site: SiteNow | None = None,
    polled: list[bool] | None = None,
    site_errors: list[bool] | None = None,
    site_error: bool | None = None,
) -> list[float]:
    """Update ``state`` (a private copy), ``ip_states`` and ``site`` (a private copy) with one event;
    its row without the shape (and whether pages poll its resource, appended to ``polled``, and
    whether it is a server error read as the site's, to ``site_errors``; ``site_error``, when given,
    says so instead of the site's count)."""
    event_type, status, ip, agent, resource, properties = event_fields(event)
    if not isinstance(event_type, str):
        raise InvalidFeatureEventError("event_type", f"must be a string, got {type(event_type).__name__}")
    status_kind = status // 100 if type(status) is int else status_class(status)
    network = network_of(ip) if (network_of is not None and ip) else None
    hosting = network is not None and network.hosting
    # What the client got, as its features read it: a server error while the site is failing its
    # visitors (model.features.outages) is the site's, and the request reads as answered.
    outcome_kind = status_kind
    if site is not None and ANSWERED_CLASS <= status_kind <= SERVER_ERROR_CLASS:
        server_error = status_kind == SERVER_ERROR_CLASS
        text_ip = ip if isinstance(ip, str) else None
        if not hosting:
            site.outages.count(now, server_error, text_ip)
        if site_error is None:
            site_error = server_error and site.outages.failing(now, text_ip) and not _suspicious(resource)
    if site_error and status_kind == SERVER_ERROR_CLASS:
        outcome_kind = ANSWERED_CLASS
    if site_errors is not None:
        site_errors.append(outcome_kind != status_kind)
    failure = event_type == "login_failed" or outcome_kind in FAILURE_CLASSES
    text_resource = resource if isinstance(resource, str) else None
    text_agent = agent if isinstance(agent, str) else None
    agent_info = agent_of(text_agent) if agent_of is not None and text_agent else None  # (parsed once)
    ip_hash = stable_hash(ip) if ip else None
    # A user new to the address by the user's own recent addresses (read before this event updates
    # them): the same in every shard's scorer, so the address's parts merge exactly.
    new_user = ip_hash is not None and not holds(state.recent_ips, ip_hash)
    user = user_columns(state, now, failure, ip_hash, agent, resource, network)
    if vocabulary is None:
        resource_vocabulary = NO_VOCABULARY
        if polled is not None:
            polled.append(False)
    else:
        # Requests to the site's pages now (model.features.popularity): answered 2xx (or with no
        # status), not from a hosting network, and a visit when the template is new to the client
        # (its first event's, too).
        answered = status_kind in _ANSWERED and not failure and not hosting
        visit = user[_FIRST_IN_USER] > 0.0 or user[_NEW_PATH_IN_USER] > 0.0
        popularity = site.popularity if site is not None else None
        # (a redirect serves a form's POST; to a GET it is a scanner's usual answer: a login wall, HTTPS)
        served = (
            (status_kind in _ANSWERED or (status_kind == _REDIRECT_CLASS and _writes(event)))
            and not failure
            and not hosting
        )
        reading = vocabulary.read(
            text_resource, popularity, now, answered, visit, ip if isinstance(ip, str) else None, served
        )
        # (the clients arriving now, from outside hosting networks: model.features.vocabulary.agent_rarity)
        arriving_from = ip if isinstance(ip, str) and not hosting else None
        agents_now = site.agents if site is not None else None
        machine = agent_info is not None and _declared_machine(agent_info)
        agent_rarity = vocabulary.agent_rarity(
            text_agent, agents_now, now, user[_FIRST_IN_USER] > 0.0, arriving_from, machine
        )
        resource_vocabulary = (*reading.columns, agent_rarity)
        if polled is not None:
            polled.append(reading.polled)
    return [
        *user,
        *address_columns(ip_states, copied_ips, ip, user_hash, now, failure, new_user, network, ip_others),
        *resource_vocabulary,
        *request_columns(event_type, status, outcome_kind, failure, agent_info, properties),
    ]


def _declared_machine(agent: AgentInfo) -> bool:
    return agent.known_bot or agent.headless or agent.http_library


def _writes(event: Any) -> bool:
    method = request_method(event)
    return isinstance(method, str) and method.lower() in WRITE_METHODS


def _suspicious(resource: Any) -> bool:
    """Whether the resource carries attack fragments (``resource_suspicious_tokens``): a request that
    broke the page it asked for."""
    # (its one shape column alone: the whole shape, through numpy, cost more than the rest of the row)
    return isinstance(resource, str) and suspicious_tokens(resource.lower()) > 0


def featurize(
    state: UserState | None,
    events: Iterable[Any],
    ip_states: Mapping[str, IpState] | None = None,
    *,
    network_of: NetworkLookup | None = None,
    agent_of: AgentLookup | None = None,
    country_of: CountryLookup | None = None,
    vocabulary: ResourceVocabulary | None = None,
) -> Featurized:
    """Feature rows for one user's events (in time order), given that user's state before them.

    ``events`` are wire dicts (as archived) or ``InteractionEvent`` objects. ``ip_states`` holds the
    known state of the IPs these events may use; the result carries the new state of each IP
    touched. ``network_of`` maps an IP to its country and network (``model.network``; None: the
    country and network features are 0), or ``country_of`` to a country code alone; ``agent_of``
    parses a user agent (``model.user_agents.parse_agent``; None: the client columns are 0);
    ``vocabulary`` is the one shipped with the model (None: the vocabulary features are 0); one
    user's events say nothing of the site's traffic now, so its path rarity is training's alone and
    its server errors are its own (``featurize_batch`` reads the site). Nothing passed in is mutated.
    """
    network_of = network_lookup(network_of, country_of)
    events = events if isinstance(events, Sequence) else list(events)
    new_state = state.copy() if state is not None else UserState()
    touched: dict[str, IpState] = dict(ip_states) if ip_states else {}
    copied: set[str] = set()
    rows: list[list[float]] = []
    user_hash: int | None = None
    for event in events:
        if user_hash is None:
            user_hash = stable_hash(str(event_field(event, "user_id")))
        now = event_time(event)
        rows.append(_featurize_one(new_state, event, now, touched, copied, network_of, agent_of, user_hash, vocabulary))
    return Featurized(_with_shapes(rows, events).tolist(), new_state, {ip: touched[ip] for ip in copied})


def featurize_batch(
    events: Iterable[Any],
    user_states: Mapping[str, UserState] | None = None,
    ip_states: Mapping[str, IpState] | None = None,
    *,
    network_of: NetworkLookup | None = None,
    agent_of: AgentLookup | None = None,
    country_of: CountryLookup | None = None,
    vocabulary: ResourceVocabulary | None = None,
    times: Sequence[float] | None = None,
    ip_others: Mapping[str, IpState] | None = None,
    site: SiteNow | None = None,
    site_errors: Sequence[bool] | None = None,
) -> BatchFeatures:
    """Feature rows for many users' events, in the order given (which must be time order).

    Processing follows the input order across users, so per-IP features see other users' earlier
    events exactly as a replay of the archive does. Returns a float64 array of shape
    ``(len(events), FEATURE_COUNT)`` and the new state of every user and IP touched. ``times``, if
    given, are the events' ``event_time`` (a caller that sorted by it need not parse it again).
    The lookups are those of ``featurize``. ``ip_others``: per address, the merged parts of its state
    that other processes keep (the scorer's other shards); the per-IP columns read them with
    ``ip_states`` merged in, and the IP states returned are this process's parts only.
    ``site``: the site's traffic now as this process has counted it before these events
    (``model.features.site``; None: none counted yet), which lowers the rarity of pages many clients
    reach now and reads a server error while the site fails many clients as the site's; the result
    carries it with these events counted. ``site_errors``, when given, says for each event whether
    its server error is the site's (``BatchFeatures.site_errors`` of a featurization of these events
    among others: the scorer recomputing the states of the events it processed, without those it
    left for a retry, reads them as their scores did).
    """
    network_of = network_lookup(network_of, country_of)
    users: dict[str, UserState] = {}
    known_users = user_states or {}
    touched_ips: dict[str, IpState] = dict(ip_states) if ip_states else {}
    copied_ips: set[str] = set()
    hashes: dict[str, int] = {}
    rows: list[list[float]] = []
    polled: list[bool] = []
    errors_of_site: list[bool] = []
    site = site.copy() if site is not None else SiteNow()
    events = events if isinstance(events, Sequence) else list(events)
    if times is not None and len(times) != len(events):
        raise ValueError(f"{len(times)} times for {len(events)} events")
    if site_errors is not None and len(site_errors) != len(events):
        raise ValueError(f"{len(site_errors)} site errors for {len(events)} events")
    for position, event in enumerate(events):
        user_id = event_field(event, "user_id")
        if not isinstance(user_id, str) or not user_id:
            raise InvalidFeatureEventError("user_id", "required string is missing")
        state = users.get(user_id)
        if state is None:
            known = known_users.get(user_id)
            state = known.copy() if known is not None else UserState()
            users[user_id] = state
            hashes[user_id] = stable_hash(user_id)
        now = event_time(event) if times is None else times[position]
        rows.append(
            _featurize_one(
                state,
                event,
                now,
                touched_ips,
                copied_ips,
                network_of,
                agent_of,
                hashes[user_id],
                vocabulary,
                ip_others,
                site,
                polled,
                errors_of_site,
                None if site_errors is None else site_errors[position],
            )
        )
    ips = {ip: touched_ips[ip] for ip in copied_ips}
    return BatchFeatures(_with_shapes(rows, events), users, ips, site, polled, errors_of_site)


def _with_shapes(rows: list[list[float]], events: Sequence[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The feature matrix: each row from ``_featurize_one`` with its resource's shape put in place."""
    width = FEATURE_COUNT - len(SHAPE_COLUMNS)
    partial = np.array(rows, dtype=np.float64).reshape(len(rows), width)
    matrix = np.empty((len(rows), FEATURE_COUNT))
    matrix[:, :_SHAPE_START] = partial[:, :_SHAPE_START]
    matrix[:, _SHAPE_START:_SHAPE_END] = resource_shapes([event_field(event, "resource") for event in events])
    matrix[:, _SHAPE_END:] = partial[:, _SHAPE_START:]
    # Values equal up to float noise must tie: ECOD ranks each feature (its tail probabilities are
    # empirical distribution functions), so noise in the tenth decimal would become signal. Without
    # this rounding, impossible-travel ROC-AUC fell from 0.83 to 0.71 in `make eval`.
    return np.round(matrix, ROW_DECIMALS, out=matrix)
