"""Alerts on one-request sessions grouped by client and day (model.client_alerts), as the backtest
keeps the clients' markers in memory."""

from __future__ import annotations

from model.client_alerts import (
    CLIENT_DAY_SECONDS,
    client_of,
    fold_into_clients,
    group_by_client,
    is_grouped,
    with_alert_clients,
)
from model.enrichment import NetworkInfo
from model.entities import AlertClient, EntityAlert

NOON = 20 * CLIENT_DAY_SECONDS + 12 * 3600


def alert(entity: str, kind: str = "session", at: float = NOON, pages: int = 1) -> EntityAlert:
    return EntityAlert(entity, kind, 60.0, 50.0, 1, at - 30, at, pages, ("reason",))


def test_a_client_is_its_address_whatever_its_user_agent() -> None:
    curl = client_of({"ip": "203.0.113.7", "user_agent": "curl/8.5.0"})
    assert curl == "203.0.113.7"
    # a scanner that numbers its tests in its agent is one client
    nikto = "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:{:06d})"
    assert {client_of({"ip": "203.0.113.7", "user_agent": nikto.format(test)}) for test in range(50)} == {curl}
    assert curl == client_of({"ip": "203.0.113.7", "user_agent": "curl/8.5.0", "session_id": "other"})
    assert curl != client_of({"ip": "203.0.113.8", "user_agent": "curl/8.5.0"})
    assert client_of({"ip": None, "user_agent": "curl/8.5.0"}) is None
    # an IPv6 host's privacy addresses are one client: its /64
    assert client_of({"ip": "2001:db8:1:2::1"}) == client_of({"ip": "2001:db8:1:2:a:b:c:d"}) == "2001:db8:1:2::/64"
    assert client_of({"ip": "2001:db8:1:3::1"}) != client_of({"ip": "2001:db8:1:2::1"})
    # an address the log wrote some other way is taken as written
    assert client_of({"ip": "unknown"}) == "unknown"


def test_one_request_sessions_and_users_named_after_them_are_grouped_and_accounts_are_not() -> None:
    assert is_grouped("session", 1, "2b9c")
    assert is_grouped("user", 1, "client:43c890ae024b7c59")
    assert is_grouped("user", 1, "session:2b9c")
    assert not is_grouped("user", 1, "alice@example.com")
    assert not is_grouped("session", 2, "2b9c")
    assert not is_grouped("user", 2, "client:43c890ae024b7c59")


def test_an_alert_takes_the_client_of_the_event_that_raised_it() -> None:
    # GIVEN a session whose address changes within the batch, after the event that raised its alert
    events = [{"ip": "192.0.2.1", "user_agent": "a"}, {"ip": "192.0.2.9", "user_agent": "b"}]
    # WHEN its alert (raised at NOON) is grouped THEN it is under the first address's client
    (group,) = group_by_client([alert("s1", at=NOON)], ["s1", "s1"], events, [NOON, NOON + 5])
    assert group.partition == "client:" + str(client_of(events[0]))


def test_a_clients_first_one_request_session_alert_of_the_day_is_sent_and_later_ones_are_counted_into_it() -> None:
    # GIVEN three one-request sessions of one client, one of another, a user alert, a session of
    # three requests from the first client, and a session without an address; and from the first
    # client's address with other agents, a one-request session and a user the importer named
    # after its client
    first_client, other_client = {"ip": "192.0.2.1", "user_agent": "a"}, {"ip": "192.0.2.2", "user_agent": "a"}
    requests = {"s1": first_client, "s2": first_client, "s3": first_client, "t1": other_client, "long": first_client}
    requests["anonymous"] = {"ip": None, "user_agent": "a"}
    requests["s4"] = {"ip": "192.0.2.1", "user_agent": "b"}
    requests["client:5e1f"] = {"ip": "192.0.2.1", "user_agent": "c"}

    def decide(batch: list[EntityAlert], sent_markers: set[tuple[str, int]]) -> tuple[list[str], list[str]]:
        keys = [item.entity for item in batch]
        events = [requests[item.entity] for item in batch]
        groups = group_by_client(batch, keys, events, [item.last_event_at for item in batch])
        sent, folded = fold_into_clients(groups, sent_markers)
        return [f"{item.kind}:{item.entity}" for item in sent], [item.entity for item in folded]

    markers: set[tuple[str, int]] = set()
    # WHEN a first batch, then one later that day and one the next day are decided
    batch = [alert("s1"), alert("s2"), alert("t1"), alert("s1", kind="user"), alert("long", pages=3)]
    first = decide([*batch, alert("anonymous"), alert("s4"), alert("client:5e1f", kind="user")], markers)
    later = decide([alert("s3", at=NOON + 3600)], markers)
    next_day = decide([alert("s3", at=NOON + CLIENT_DAY_SECONDS)], markers)
    # THEN each client's first alert of each day is sent, whatever the agent; accounts, longer
    # sessions and sessions without an address are never grouped
    assert first == (
        ["session:s1", "session:t1", "user:s1", "session:long", "session:anonymous"],
        ["s2", "s4", "client:5e1f"],
    )
    assert later == ([], ["s3"])
    assert next_day == (["session:s3"], [])


def test_a_clients_marker_outlives_its_day() -> None:
    (group,) = group_by_client([alert("s1", at=NOON)], ["s1"], [{"ip": "192.0.2.1"}], [NOON])
    assert group.day_start == NOON - 12 * 3600
    assert group.expires_at >= group.day_start + CLIENT_DAY_SECONDS + 3600


def test_an_alert_names_the_client_of_the_request_that_raised_it_with_its_country_and_network() -> None:
    # GIVEN a taken-over account's batch: its owner's request, the attacker's login (which raised the
    # alert), then its owner's again
    owner = {"ip": "71.193.60.130", "user_agent": "MyShop/5.3.0 (iPhone; iOS 18.1; Scale/3.00)"}
    attacker = {"ip": "113.161.20.5", "user_agent": "okhttp/4.12.0"}
    events, times = [owner, attacker, owner], [NOON - 60, NOON, NOON + 60]
    raised = alert("victim", "user", at=NOON, pages=3)

    def network_of(ip: str) -> NetworkInfo | None:
        return NetworkInfo("VN", 45899, "VNPT Corp", False) if ip == "113.161.20.5" else None

    # WHEN the alert is given its client
    (named,) = with_alert_clients([raised], ["victim"] * 3, events, times, network_of)
    # THEN it is the attacker's, with the country and network the model's lookup knows
    assert named.client == AlertClient("113.161.20.5", "okhttp/4.12.0", "VN", "AS45899 VNPT Corp")
    assert named.client.describe() == "113.161.20.5 (VN, AS45899 VNPT Corp), okhttp/4.12.0"
    assert named.reasons == raised.reasons
    # AND without a lookup, its address and agent alone
    (bare,) = with_alert_clients([raised], ["victim"] * 3, events, times)
    assert bare.client == AlertClient("113.161.20.5", "okhttp/4.12.0")
    assert bare.client.describe() == "113.161.20.5, okhttp/4.12.0"
