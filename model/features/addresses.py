"""This address across users, and its network: the columns read from (and written to) ``IpState``.

Per-IP features see other users' earlier events, so ``featurize_batch`` follows the input order
across users, as a replay of the archive does. Where other processes hold parts of an address's
state (the scorer's other shards: ``merge_ip_states``), the columns are read from this process's
part merged with theirs, and only this process's part is updated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from model.enrichment import NetworkInfo, NetworkLookup
from model.features.state import (
    FAST_TAU,
    MAX_DECAYED_COUNT,
    MAX_IP_USERS,
    SLOW_TAU,
    IpState,
    add_user,
    decay_factor,
)

ADDRESS_COLUMNS = (
    "ip_distinct_users_24h",
    "log_ip_new_users_1h",
    "log_ip_rate_1m",
    "ip_failure_ratio_1h",
    "ip_hosting",  # a hosting or data-centre network (model.network)
)
# How crowded the address is, read three ways that rise together when many people share it (an
# office, a carrier's gateway, a crowd at an on-sale): detectors count them as one
# (``model.features.COUNTED_ONCE``).
CROWD_COLUMNS = ("ip_distinct_users_24h", "log_ip_new_users_1h", "log_ip_rate_1m")
IP_USERS_WINDOW = 86400.0
_NO_IP = (0.0, 0.0, 0.0, 0.0)

CountryLookup = Callable[[str], "str | None"]


def address_columns(
    ip_states: dict[str, IpState],
    copied_ips: set[str],
    ip: str | None,
    user_hash: int,
    now: float,
    failure: bool,
    new_user: bool,
    network: NetworkInfo | None,
    others: Mapping[str, IpState] | None = None,
) -> tuple[float, ...]:
    """Update the state of ``ip`` in ``ip_states`` with one event and return its ``ADDRESS_COLUMNS``.

    ``new_user``: the address was not among the user's recent ones before this event. ``copied_ips``
    names the states of ``ip_states`` that are private copies already: a state passed in by the
    caller is copied before its first change, so nothing passed in is mutated. ``others`` holds, per
    address, the merged parts of its state kept elsewhere: the columns read the merge of both.
    """
    hosting = 1.0 if network is not None and network.hosting else 0.0
    if not ip:
        return (*_NO_IP, hosting)
    ip_state = ip_states.get(ip)
    if ip_state is None:
        ip_state = ip_states[ip] = IpState()
        copied_ips.add(ip)
    elif ip not in copied_ips:
        ip_state = ip_states[ip] = ip_state.copy()
        copied_ips.add(ip)
    _update(ip_state, user_hash, now, failure, new_user)
    oldest_minute = (now - IP_USERS_WINDOW) // 60
    elsewhere = others.get(ip) if others else None
    if elsewhere is not None and elsewhere.last_seen is not None:
        own_seen = ip_state.last_seen if ip_state.last_seen is not None else now
        return (*_merged_columns(ip_state, own_seen, elsewhere, elsewhere.last_seen, oldest_minute), hosting)
    distinct = len([None for _, minute in ip_state.recent_users if minute >= oldest_minute])
    return (
        float(distinct),
        math.log1p(ip_state.new_users_slow),
        math.log1p(ip_state.rate_fast),
        ip_state.failures_slow / ip_state.rate_slow if ip_state.rate_slow else 0.0,
        hosting,
    )


def _merged_columns(
    own: IpState, own_seen: float, other: IpState, other_seen: float, oldest_minute: float
) -> tuple[float, float, float, float]:
    """The columns of ``merge_ip_states((own, other))``, without building it (this runs per event at
    a shared address): the same sums, and the users it would keep in the window, which are all of
    them up to ``MAX_IP_USERS`` (it keeps the latest)."""
    latest = max(own_seen, other_seen)
    own_fast, own_slow = decay_factor(latest - own_seen, FAST_TAU), decay_factor(latest - own_seen, SLOW_TAU)
    fast, slow = decay_factor(latest - other_seen, FAST_TAU), decay_factor(latest - other_seen, SLOW_TAU)
    rate_fast = min(own.rate_fast * own_fast + other.rate_fast * fast, MAX_DECAYED_COUNT)
    rate_slow = min(own.rate_slow * own_slow + other.rate_slow * slow, MAX_DECAYED_COUNT)
    failures = min(own.failures_slow * own_slow + other.failures_slow * slow, MAX_DECAYED_COUNT)
    new_users = min(own.new_users_slow * own_slow + other.new_users_slow * slow, MAX_DECAYED_COUNT)
    recent = {user for user, minute in own.recent_users if minute >= oldest_minute}
    recent.update(user for user, minute in other.recent_users if minute >= oldest_minute)
    return (
        float(min(len(recent), MAX_IP_USERS)),
        math.log1p(new_users),
        math.log1p(rate_fast),
        failures / rate_slow if rate_slow else 0.0,
    )


def _update(ip_state: IpState, user_hash: int, now: float, failure: bool, new_user: bool) -> None:
    last_seen = ip_state.last_seen
    elapsed = max(0.0, now - last_seen) if last_seen is not None else 0.0
    add_user(ip_state.recent_users, user_hash, int(now // 60), MAX_IP_USERS)
    fast = decay_factor(elapsed, FAST_TAU)
    slow = decay_factor(elapsed, SLOW_TAU)
    ip_state.rate_fast = min(ip_state.rate_fast * fast + 1.0, MAX_DECAYED_COUNT)
    ip_state.rate_slow = min(ip_state.rate_slow * slow + 1.0, MAX_DECAYED_COUNT)
    ip_state.failures_slow = min(ip_state.failures_slow * slow + (1.0 if failure else 0.0), MAX_DECAYED_COUNT)
    ip_state.new_users_slow = min(ip_state.new_users_slow * slow + (1.0 if new_user else 0.0), MAX_DECAYED_COUNT)
    ip_state.events += 1
    if last_seen is None or now > last_seen:
        ip_state.last_seen = now


def network_lookup(network_of: NetworkLookup | None, country_of: CountryLookup | None) -> NetworkLookup | None:
    """The one lookup ``featurize`` uses: ``network_of``, or one built from a country-only lookup."""
    if network_of is not None and country_of is not None:
        raise ValueError("pass network_of or country_of, not both")
    if country_of is None:
        return network_of

    def country_only(ip: str) -> NetworkInfo | None:
        country = country_of(ip)
        return NetworkInfo(country, None, None, False) if country else None

    return country_only
