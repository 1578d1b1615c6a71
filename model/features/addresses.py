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
    merge_ip_states,
)

ADDRESS_COLUMNS = (
    "ip_distinct_users_24h",
    "log_ip_new_users_1h",
    "log_ip_rate_1m",
    "ip_failure_ratio_1h",
    "ip_hosting",  # a hosting or data-centre network (model.network)
)
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
    elsewhere = others.get(ip) if others else None
    view = ip_state if elsewhere is None else merge_ip_states((ip_state, elsewhere))
    oldest_minute = (now - IP_USERS_WINDOW) // 60
    distinct = len([None for _, minute in view.recent_users if minute >= oldest_minute])
    return (
        float(distinct),
        math.log1p(view.new_users_slow),
        math.log1p(view.rate_fast),
        view.failures_slow / view.rate_slow if view.rate_slow else 0.0,
        hosting,
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
