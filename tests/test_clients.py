"""Session alerts grouped by client and day (model.clients), as the backtest keeps them in memory."""

from __future__ import annotations

from model.clients import CLIENT_DAY_SECONDS, client_of, clients_by_entity, fold_into_clients, group_by_client
from model.entities import EntityAlert

NOON = 20 * CLIENT_DAY_SECONDS + 12 * 3600


def alert(entity: str, kind: str = "session", at: float = NOON) -> EntityAlert:
    return EntityAlert(entity, kind, 60.0, 50.0, 1, at - 30, at, 3, ("reason",))


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
    assert len(client_of({"ip": "2001:db8::1", "user_agent": "x" * 4000}) or "") < 64


def test_each_session_takes_the_client_of_its_latest_event_in_the_batch() -> None:
    events = [
        {"ip": "192.0.2.1", "user_agent": "a"},
        {"ip": "192.0.2.9", "user_agent": "b"},
        {"ip": "192.0.2.2", "user_agent": "a"},
    ]
    clients = clients_by_entity(["s1", None, "s1"], events)
    assert clients == {"s1": client_of(events[2])}


def test_a_clients_first_session_alert_of_the_day_is_sent_and_later_ones_are_counted_into_it() -> None:
    # GIVEN three sessions of one client, one of another, a user alert, and a session without a client
    clients = {"s1": "c1", "s2": "c1", "s3": "c1", "t1": "c2", "anonymous": None}
    batch = [alert("s1"), alert("s2"), alert("t1"), alert("s1", kind="user"), alert("anonymous")]
    sent_markers: set[tuple[str, int]] = set()
    # WHEN a first batch, then one later that day and one the next day are decided
    first = fold_into_clients(group_by_client(batch, clients), sent_markers)
    later = fold_into_clients(group_by_client([alert("s3", at=NOON + 3600)], clients), sent_markers)
    next_day = fold_into_clients(group_by_client([alert("s3", at=NOON + CLIENT_DAY_SECONDS)], clients), sent_markers)
    # THEN each client's first alert of each day is sent; users and sessions without a client are never grouped
    sent, folded = first
    assert [(item.kind, item.entity) for item in sent] == [
        ("session", "s1"),
        ("session", "t1"),
        ("user", "s1"),
        ("session", "anonymous"),
    ]
    assert [item.entity for item in folded] == ["s2"]
    assert (later[0], [item.entity for item in later[1]]) == ([], ["s3"])
    assert ([item.entity for item in next_day[0]], next_day[1]) == (["s3"], [])
