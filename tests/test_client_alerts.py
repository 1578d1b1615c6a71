"""Alerts on one-request sessions grouped by client and day (model.client_alerts), as the backtest
keeps the clients' markers in memory."""

from __future__ import annotations

from model.client_alerts import (
    CLIENT_DAY_SECONDS,
    client_of,
    fold_into_clients,
    group_by_client,
)
from model.entities import EntityAlert

NOON = 20 * CLIENT_DAY_SECONDS + 12 * 3600


def alert(entity: str, kind: str = "session", at: float = NOON, pages: int = 1) -> EntityAlert:
    return EntityAlert(entity, kind, 60.0, 50.0, 1, at - 30, at, pages, ("reason",))


def test_a_client_is_its_address_and_user_agent() -> None:
    curl = client_of({"ip": "203.0.113.7", "user_agent": "curl/8.5.0"})
    assert curl is not None
    assert curl.startswith("203.0.113.7 ")
    assert curl == client_of({"ip": "203.0.113.7", "user_agent": "curl/8.5.0", "session_id": "other"})
    assert curl != client_of({"ip": "203.0.113.7", "user_agent": "Wget/1.21"})
    assert curl != client_of({"ip": "203.0.113.8", "user_agent": "curl/8.5.0"})
    assert client_of({"ip": "203.0.113.7", "user_agent": None}) == client_of({"ip": "203.0.113.7"})
    assert client_of({"ip": None, "user_agent": "curl/8.5.0"}) is None
    # a long user agent gives a short key
    long_agent = client_of({"ip": "2001:db8::1", "user_agent": "x" * 4000})
    assert long_agent is not None
    assert len(long_agent) < 64


def test_an_alert_takes_the_client_of_the_event_that_raised_it() -> None:
    # GIVEN a session whose address changes within the batch, after the event that raised its alert
    events = [{"ip": "192.0.2.1", "user_agent": "a"}, {"ip": "192.0.2.9", "user_agent": "b"}]
    # WHEN its alert (raised at NOON) is grouped THEN it is under the first address's client
    (group,) = group_by_client([alert("s1", at=NOON)], ["s1", "s1"], events, [NOON, NOON + 5])
    assert group.partition == "client:" + str(client_of(events[0]))


def test_a_clients_first_one_request_session_alert_of_the_day_is_sent_and_later_ones_are_counted_into_it() -> None:
    # GIVEN three one-request sessions of one client, one of another, a user alert, a session of
    # three requests from the first client, and a session without an address
    first_client, other_client = {"ip": "192.0.2.1", "user_agent": "a"}, {"ip": "192.0.2.2", "user_agent": "a"}
    requests = {"s1": first_client, "s2": first_client, "s3": first_client, "t1": other_client, "long": first_client}
    requests["anonymous"] = {"ip": None, "user_agent": "a"}

    def decide(batch: list[EntityAlert], sent_markers: set[tuple[str, int]]) -> tuple[list[str], list[str]]:
        keys = [item.entity for item in batch]
        events = [requests[item.entity] for item in batch]
        groups = group_by_client(batch, keys, events, [item.last_event_at for item in batch])
        sent, folded = fold_into_clients(groups, sent_markers)
        return [f"{item.kind}:{item.entity}" for item in sent], [item.entity for item in folded]

    markers: set[tuple[str, int]] = set()
    # WHEN a first batch, then one later that day and one the next day are decided
    batch = [alert("s1"), alert("s2"), alert("t1"), alert("s1", kind="user"), alert("long", pages=3)]
    first = decide([*batch, alert("anonymous")], markers)
    later = decide([alert("s3", at=NOON + 3600)], markers)
    next_day = decide([alert("s3", at=NOON + CLIENT_DAY_SECONDS)], markers)
    # THEN each client's first alert of each day is sent; users, longer sessions and sessions
    # without an address are never grouped
    assert first == (
        ["session:s1", "session:t1", "user:s1", "session:long", "session:anonymous"],
        ["s2"],
    )
    assert later == ([], ["s3"])
    assert next_day == (["session:s3"], [])


def test_a_clients_marker_outlives_its_day() -> None:
    (group,) = group_by_client([alert("s1", at=NOON)], ["s1"], [{"ip": "192.0.2.1"}], [NOON])
    assert group.day_start == NOON - 12 * 3600
    assert group.expires_at >= group.day_start + CLIENT_DAY_SECONDS + 3600
