"""One alert per client a day for one-request episodes, the grouping the scorer and the backtest share.

A client that keeps no cookies (curl, most scripts) gets a new session id from the site with every
request, and each of those one-request sessions can alert on its own: in a trial log, seven
addresses running curl raised 1,012 session alerts in two days. What an analyst acts on is the
client, so the first such alert of a client on a UTC day is sent and the later ones that day are
counted into it (folded), like the alerts a failed-login wave covers (``model.waves``).

A client is its address (an IPv6 address's /64, the network one host's privacy addresses come
from), not its address and user agent: a scanner that changes its agent with every request (Nikto
numbers its tests in it; scrapers draw one from a list) is one client, and on a new-user trial of an
IIS portal's log one Nikto scan, keyed by address and agent, raised 1,946 of the log's 1,982 alerts.

Only alerts on one-request episodes are grouped: people behind one address (an office, a carrier's
NAT) are one client too, and an episode with a history is a person's or a bot's own, so its alert is
its own. The episodes grouped are sessions', and those of users the importer named after their
session or client where the log named none (``PSEUDONYMOUS_USERS``). A user's alert is never
grouped: a user is an account, and an account's alert must reach the analyst even when another
account's came from the same address.

The decision differs by where the markers live: ``fold_into_clients`` keeps them in memory (the
backtest); the scorer keeps them in the anomalies table (``scorer.batch._publish_client_group``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from model.enrichment import NetworkLookup
from model.entities import PSEUDONYMOUS_USERS, AlertClient, EntityAlert

CLIENT_DAY_SECONDS = 86_400  # a client's session alerts are grouped per UTC day
# A client's marker outlives its day by a day: a batch of the day's end may be retried the next.
CLIENT_MARKER_SECONDS = 2 * CLIENT_DAY_SECONDS
# An episode of this many requests (page assets aside) is what a client without cookies makes.
COOKIELESS_PAGES = 1
GROUPED_KIND = "session"
CLIENT_PARTITION_PREFIX = "client:"
IPV6_CLIENT_PREFIX = 64


def client_of(event: Mapping[str, Any]) -> str | None:
    """The client an event came from: its address, or an IPv6 address's /64 network; None without
    an address. An address that does not parse is taken as it is written."""
    ip = event.get("ip")
    if not isinstance(ip, str) or not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)


def with_alert_clients(
    alerts: Sequence[EntityAlert],
    keys: Sequence[str | None],
    events: Sequence[Mapping[str, Any]],
    times: Sequence[float],
    network_of: NetworkLookup | None = None,
) -> list[EntityAlert]:
    """``alerts`` (raised by the batch's ``events``, each of entity ``keys`` at ``times``), each with
    the client of the event that raised it (at ``EntityAlert.last_event_at``): its address and user
    agent, and the address's country and network where ``network_of`` (the model's lookup,
    ``model.network``) knows them."""
    if not alerts:  # (most batches raise none: no need to walk their events)
        return []
    wanted = {(alert.entity, alert.last_event_at) for alert in alerts}
    raised_by: dict[tuple[str, float], Mapping[str, Any]] = {}
    for key, event, moment in zip(keys, events, times, strict=True):
        if key is not None and (key, moment) in wanted:
            raised_by[key, moment] = event
    return [
        replace(alert, client=alert_client(raised_by.get((alert.entity, alert.last_event_at)), network_of))
        for alert in alerts
    ]


def alert_client(event: Mapping[str, Any] | None, network_of: NetworkLookup | None = None) -> AlertClient | None:
    """The client an event came from (``AlertClient``); None without an event."""
    if event is None:
        return None
    address, agent = event.get("ip") or None, event.get("user_agent") or None
    network = network_of(address) if network_of is not None and isinstance(address, str) else None
    if network is None:
        return AlertClient(address, agent)
    return AlertClient(address, agent, network.country, network.label)


def day_start_of(moment: float) -> int:
    """The start of the UTC day holding ``moment`` (Unix seconds)."""
    return int(moment // CLIENT_DAY_SECONDS) * CLIENT_DAY_SECONDS


def client_marker(client: str, moment: float) -> tuple[str, int]:
    """Where a client's marker of the day holding ``moment`` lives: its partition in the anomalies
    table and the start of its UTC day (the scorer writes it, the console reads its count)."""
    return CLIENT_PARTITION_PREFIX + client, day_start_of(moment)


@dataclass
class ClientGroup:
    """Alerts that one client's marker of the day decides: the first is sent unless the client's alert
    of the day was; the rest are folded into it. ``partition`` is None for an alert that is not
    grouped: it is decided alone."""

    partition: str | None
    day_start: int
    alerts: list[EntityAlert] = field(default_factory=list)

    @property
    def expires_at(self) -> int:
        """When the client's marker may go (DynamoDB's TTL)."""
        return self.day_start + CLIENT_MARKER_SECONDS


def is_grouped(kind: str, pages: int, entity: str) -> bool:
    """Whether an alert (on ``entity`` of ``kind``, whose episode has ``pages`` requests) is grouped
    by its client: alerts on one-request sessions, and on one-request users the importer named
    after a session or a client (``PSEUDONYMOUS_USERS``). Accounts' alerts, and episodes of more
    than one request, are decided alone."""
    if pages > COOKIELESS_PAGES:
        return False
    return kind == GROUPED_KIND or entity.startswith(PSEUDONYMOUS_USERS)


def group_by_client(
    alerts: Sequence[EntityAlert],
    keys: Sequence[str | None],
    events: Sequence[Mapping[str, Any]],
    times: Sequence[float],
) -> list[ClientGroup]:
    """``alerts`` (raised by the batch's ``events``, each of entity ``keys`` at ``times``) in groups by
    client and UTC day, in the order of their first alert. An alert's client is that of the event
    that raised it (at ``EntityAlert.last_event_at``), whatever the batch holds after it; an alert
    that is not grouped (``is_grouped``), or whose request has no address, is alone."""
    wanted = {
        (alert.entity, alert.last_event_at) for alert in alerts if is_grouped(alert.kind, alert.pages, alert.entity)
    }
    clients: dict[tuple[str, float], str | None] = {}
    if wanted:
        for key, event, moment in zip(keys, events, times, strict=True):
            if key is not None and (key, moment) in wanted:
                clients[key, moment] = client_of(event)
    groups: dict[tuple[str, int], ClientGroup] = {}
    ordered: list[ClientGroup] = []
    for alert in alerts:
        client = (
            clients.get((alert.entity, alert.last_event_at))
            if is_grouped(alert.kind, alert.pages, alert.entity)
            else None
        )
        if client is None:
            ordered.append(ClientGroup(None, day_start_of(alert.last_event_at), [alert]))
            continue
        partition, day_start = client_marker(client, alert.last_event_at)
        group = groups.get((client, day_start))
        if group is None:
            group = groups[client, day_start] = ClientGroup(partition, day_start)
            ordered.append(group)
        group.alerts.append(alert)
    return ordered


def fold_into_clients(
    groups: Sequence[ClientGroup], sent: set[tuple[str, int]]
) -> tuple[list[EntityAlert], list[EntityAlert]]:
    """The groups' alerts split into those to send and those folded into their client's alert of the
    day, with ``sent`` (the clients' markers: partition and day) kept in memory, as the backtest does."""
    to_send: list[EntityAlert] = []
    folded: list[EntityAlert] = []
    for group in groups:
        if group.partition is None:
            to_send += group.alerts
            continue
        marker = (group.partition, group.day_start)
        if marker in sent:
            folded += group.alerts
            continue
        sent.add(marker)
        to_send.append(group.alerts[0])
        folded += group.alerts[1:]
    return to_send, folded
