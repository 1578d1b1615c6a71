"""One session alert per client a day: the rule the scorer and the backtest share.

A client that keeps no cookies (curl, most scripts) gets a new session id from the site with every
request, and each of those one-request sessions can alert on its own: in a trial log, one address
running curl raised 1,012 session alerts in two days. What an analyst acts on is the client (its
address and user agent), so the first session alert of a client on a UTC day is sent and the later
ones that day are counted into it (``folded``), like the alerts a failed-login wave covers
(``model.login_waves``). Their episodes are alerted all the same: they do not alert again.

Only session alerts are grouped. A user is an account, and an account's alert (a takeover, a stuffed
password) must reach the analyst even when another account's came from the same address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from model.entities import EntityAlert

CLIENT_DAY_SECONDS = 86_400  # a client's session alerts are grouped per UTC day
GROUPED_KIND = "session"
CLIENT_PARTITION_PREFIX = "client:"


def client_of(event: Mapping[str, Any]) -> str | None:
    """The client an event came from: its address and a digest of its user agent (a user agent can be
    long; the digest keeps the marker's key short), or None without an address."""
    ip = event.get("ip")
    if not isinstance(ip, str) or not ip:
        return None
    agent = event.get("user_agent")
    digest = hashlib.sha256((agent if isinstance(agent, str) else "").encode()).hexdigest()[:16]
    return f"{ip} {digest}"


@dataclass
class ClientGroup:
    """Alerts that one marker decides: the first is sent unless the client already had its alert that
    day; the rest are folded into it. ``partition`` is None for an alert that is not grouped."""

    partition: str | None
    day_start: int
    alerts: list[EntityAlert] = field(default_factory=list)


def group_by_client(alerts: Sequence[EntityAlert], clients: Mapping[str, str | None]) -> list[ClientGroup]:
    """``alerts`` in groups by client and UTC day of the alert (``clients``: each session's client, as
    its latest event gives it), in the order of their first alert; an alert of another kind, or of a
    session without a client, is a group of its own."""
    groups: dict[tuple[str, int], ClientGroup] = {}
    ordered: list[ClientGroup] = []
    for alert in alerts:
        client = clients.get(alert.entity) if alert.kind == GROUPED_KIND else None
        day_start = int(alert.last_event_at // CLIENT_DAY_SECONDS) * CLIENT_DAY_SECONDS
        if client is None:
            ordered.append(ClientGroup(None, day_start, [alert]))
            continue
        group = groups.get((client, day_start))
        if group is None:
            group = groups[client, day_start] = ClientGroup(CLIENT_PARTITION_PREFIX + client, day_start)
            ordered.append(group)
        group.alerts.append(alert)
    return ordered


def clients_by_entity(keys: Sequence[str | None], events: Sequence[Mapping[str, Any]]) -> dict[str, str | None]:
    """Each entity's client, as its latest event in the batch (time order) gives it."""
    return {key: client_of(event) for key, event in zip(keys, events, strict=True) if key is not None}


def fold_into_clients(
    groups: Sequence[ClientGroup], sent: set[tuple[str, int]]
) -> tuple[list[EntityAlert], list[EntityAlert]]:
    """The groups' alerts split into those to send and those folded into their client's alert of the
    day, with ``sent`` (the clients' markers: partition and day) kept in memory, as the backtest does;
    the scorer keeps them in the anomalies table (``scorer.batch``)."""
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
