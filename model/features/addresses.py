"""This address across users, and its network: the columns read from (and written to) ``IpState``.

Per-IP features see other users' earlier events, so ``featurize_batch`` follows the input order
across users, as a replay of the archive does.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from model.enrichment import NetworkInfo, NetworkLookup
from model.features.state import FAST_TAU, MAX_DECAYED_COUNT, MAX_IP_USERS, SLOW_TAU, IpState, decay_factor, touch_timed

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
    network: NetworkInfo | None,
) -> tuple[float, ...]:
    """Update the state of ``ip`` in ``ip_states`` with one event and return its ``ADDRESS_COLUMNS``.

    ``copied_ips`` names the states of ``ip_states`` that are private copies already: a state passed
    in by the caller is copied before its first change, so nothing passed in is mutated.
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
    _update(ip_state, user_hash, now, failure)
    oldest_minute = (now - IP_USERS_WINDOW) // 60
    distinct = len([None for _, minute in ip_state.recent_users if minute >= oldest_minute])
    return (
        float(distinct),
        math.log1p(ip_state.new_users_slow),
        math.log1p(ip_state.rate_fast),
        ip_state.failures_slow / ip_state.rate_slow if ip_state.rate_slow else 0.0,
        hosting,
    )


def _update(ip_state: IpState, user_hash: int, now: float, failure: bool) -> None:
    last_seen = ip_state.last_seen
    elapsed = max(0.0, now - last_seen) if last_seen is not None else 0.0
    new_user = touch_timed(ip_state.recent_users, user_hash, int(now // 60), MAX_IP_USERS)
    fast = decay_factor(elapsed, FAST_TAU)
    slow = decay_factor(elapsed, SLOW_TAU)
    ip_state.rate_fast = min(ip_state.rate_fast * fast + 1.0, MAX_DECAYED_COUNT)
    ip_state.rate_slow = min(ip_state.rate_slow * slow + 1.0, MAX_DECAYED_COUNT)
    ip_state.failures_slow = min(ip_state.failures_slow * slow + (1.0 if failure else 0.0), MAX_DECAYED_COUNT)
    ip_state.new_users_slow = min(ip_state.new_users_slow * slow + (1.0 if new_user else 0.0), MAX_DECAYED_COUNT)
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
