"""The analyst console's routes over real wire protocols: DynamoDB and S3 on moto's server, the
archive read through DuckDB, verdicts written to the labels table."""

from __future__ import annotations

import html
import io
import json
import re
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from flask.testing import FlaskClient
from markupsafe import escape

from archive.writer import ArchiveWriter
from console import verdicts
from console.app import create_app
from console.labels import BENIGN, TRUE_POSITIVE
from console.timeline import ArrivalRange, AthenaArchive, DuckDbArchive, entity_events_query
from model.backtest import normalized_label, read_labels
from model.client_alerts import client_of
from model.entities import EntityAlert, EpisodeSoFar
from model.waves import CODES_SENT, SIGNUPS, VISITORS, WAVE_ENTITY, WAVE_KIND
from scorer.stores import DynamoAnomalyStore, alert_partition
from tests.console_factories import (
    ARRIVED_AT,
    AWAY_IP,
    HOSTILE,
    IMG_RESOURCE,
    REGION,
    SCRAPER,
    SCRIPT_AGENT,
    ConsoleWorld,
    build_world,
)
from vedette.events import format_timestamp, normalize_event

EXTRA_ALERTS = 6


@pytest.fixture(scope="module")
def world(aws_endpoint: str) -> ConsoleWorld:
    return build_world(aws_endpoint, extra_alerts=EXTRA_ALERTS)


@pytest.fixture
def client(world: ConsoleWorld) -> FlaskClient:
    return create_app(world.services(page_size=3)).test_client()


def entities_listed(page: str) -> list[str]:
    return [html.unescape(entity) for entity in re.findall(r'<span class="entity">(.*?)</span>', page)]


def alert_links(page: str) -> list[str]:
    return [html.unescape(link) for link in re.findall(r'<a class="open-alert" href="([^"]+)"', page)]


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the verdict form carries no CSRF token"
    return match.group(1)


def text(response: Any) -> str:
    body: str = response.get_data(as_text=True)
    return body


def test_alerts_are_listed_newest_first_in_pages(client: FlaskClient, world: ConsoleWorld) -> None:
    # GIVEN eight alerts, and pages of three
    newest_first = [alert.entity for alert in sorted(world.alerts, key=lambda a: a.last_event_at, reverse=True)]
    # WHEN the analyst opens the list and follows "Older alerts" to the end
    seen: list[str] = []
    response = client.get("/")
    pages = 0
    while True:
        assert response.status_code == 200
        page = text(response)
        seen += entities_listed(page)
        pages += 1
        older = re.search(r'<a class="older" href="([^"]+)"', page)
        if not older:
            break
        response = client.get(html.unescape(older.group(1)))
    # THEN every alert is shown once, newest first, three to a page
    assert seen == newest_first
    assert pages == 3
    assert len(seen) == 2 + EXTRA_ALERTS


def test_filters_by_time_severity_and_reason(client: FlaskClient) -> None:
    # WHEN the list is filtered to one day, to a severity, and to a reason
    on_the_day = entities_listed(text(client.get("/?since=2026-11-05&until=2026-11-05")))
    severe = entities_listed(text(client.get("/?severity=2")))
    http_library = entities_listed(text(client.get("/?reason=http_library_mean")))
    # THEN only the alerts matching each are shown
    assert on_the_day == [HOSTILE, SCRAPER]
    assert severe == [SCRAPER]  # 40 / 10; the others are 1.1 to 1.5
    assert http_library == [SCRAPER]
    assert client.get("/?reason=not_a_feature").status_code == 400
    assert client.get("/?since=yesterday").status_code == 400


def test_an_alert_shows_the_timeline_from_the_archive_with_flagged_events_and_charts(
    client: FlaskClient, world: ConsoleWorld
) -> None:
    # GIVEN the scraper's alert in the list
    link = next(link for link in alert_links(text(client.get("/?reason=http_library_mean"))))
    # WHEN the analyst opens it
    response = client.get(link)
    page = text(response)
    # THEN the reasons are in words, the 40 episode events come from the archive (the visit the day
    # before is outside the window), the flagged ones highlighted with their severity
    assert response.status_code == 200
    assert "pages in quick succession (typical pause 2.0 s)" in page
    rows = re.findall(r'<tr class="(flagged )?\s*(episode|context)">', page)
    assert len(rows) == 40
    assert sum(1 for flagged, _ in rows if flagged) == len(world.flagged_event_ids) == 7
    assert AWAY_IP in page
    assert "python-requests/2.32" in page
    assert "40 events, 7 flagged" in page
    # AND the client of the request that raised it, with its country and network
    assert re.search(
        rf'Raised by a request from <span class="address">{AWAY_IP}</span> \(FR, AS64500 Example Hosting\), '
        r'<span class="agent">python-requests/2.32</span>',
        page,
    )
    # AND two inline SVG charts: the event rate with the episode shaded, and the flagged events' severity
    assert page.count("<svg ") == 2
    assert 'class="band"' in page
    assert page.count('<circle class="dot"') == 7
    assert 'class="bar marked"' in page


def test_an_alert_shows_how_far_its_episode_went_after_it(aws_endpoint: str) -> None:
    # GIVEN the scraper's alert raised at its third page, four seconds in (its 40 pages in the archive)
    world = build_world(aws_endpoint)
    store = DynamoAnomalyStore(world.client("dynamodb"), world.anomalies_table, ttl_seconds=3600)
    scraper = world.alerts[0]
    raised = replace(scraper, last_event_at=scraper.first_event_at + 4, pages=3)
    store.describe_alert(raised, ARRIVED_AT + timedelta(minutes=2))
    client = create_app(world.services()).test_client()
    link = f"/alert?entity={SCRAPER}&start={int(scraper.first_event_at)}"

    def episode_rows() -> tuple[int, str]:
        page = text(client.get(link))
        return len(re.findall(r'<tr class="(?:flagged )?\s*episode">', page)), page

    # THEN its timeline marks the three pages of the episode as it was then
    assert episode_rows()[0] == 3
    # WHEN the scorer reports the episode went on to 32 pages, then (a report come late) to 16
    went_on = EpisodeSoFar("user", SCRAPER, scraper.first_event_at, scraper.first_event_at + 62, 32)
    store.episode_went_on(went_on)
    store.episode_went_on(went_on._replace(last_event_at=scraper.first_event_at + 30, pages=16))
    # THEN the page says how far it went, and marks the 32 pages in the episode
    rows, page = episode_rows()
    assert rows == 32
    assert "It went on after the alert: 32 pages until 2026-11-05 14:01:02 UTC" in page
    # AND a report of an episode whose alert has no record (folded into another's) writes nothing
    store.episode_went_on(went_on._replace(entity="u-never-alerted"))
    key = {"user_id": {"S": "u-never-alerted"}, "sk": {"S": f"alert#{int(scraper.first_event_at)}"}}
    assert "Item" not in world.client("dynamodb").get_item(TableName=world.anomalies_table, Key=key)


def test_a_verdict_is_stored_in_the_labels_table_and_shown(client: FlaskClient, world: ConsoleWorld) -> None:
    # GIVEN the hostile user's alert page
    link = next(
        link for link in alert_links(text(client.get("/?since=2026-11-05&until=2026-11-05"))) if "hostile" in link
    )
    page = text(client.get(link))
    form = {"entity": HOSTILE, "start": str(int(world.alerts[1].first_event_at)), "note": "a pentest <b>we ran</b>"}
    # WHEN a verdict is posted without the form's CSRF token
    refused = client.post("/alert/verdict", data={**form, "verdict": BENIGN})
    # THEN it is refused and nothing is stored
    assert refused.status_code == 400
    assert world.stored_labels() == []
    # WHEN it is posted from the form
    response = client.post("/alert/verdict", data={**form, "verdict": BENIGN, "csrf_token": csrf_token(page)})
    # THEN the labels table holds it under the alert's key, with the alert's reasons and the analyst
    assert response.status_code == 303
    (item,) = world.stored_labels()
    assert item["entity"]["S"] == HOSTILE
    assert item["alert"]["S"] == f"alert#{int(world.alerts[1].first_event_at)}"
    assert item["verdict"]["S"] == BENIGN
    assert item["note"]["S"] == "a pentest <b>we ran</b>"
    assert item["analyst"]["S"] == "tester"
    assert item["kind"]["S"] == "user"
    assert len(item["reasons"]["L"]) == 1
    # AND the alert page and the list show it; the verdict filter finds it
    shown = text(client.get(response.headers["Location"]))
    assert "Verdict recorded: benign." in shown
    assert "a pentest &lt;b&gt;we ran&lt;/b&gt;" in shown
    assert entities_listed(text(client.get("/?verdict=benign"))) == [HOSTILE]
    assert HOSTILE not in entities_listed(text(client.get("/?verdict=none&severity=1.4")))
    assert entities_listed(text(client.get(f"/?verdict={TRUE_POSITIVE}"))) == []
    # AND a verdict the console does not know is refused
    bad = client.post("/alert/verdict", data={**form, "verdict": "maybe", "csrf_token": csrf_token(page)})
    assert bad.status_code == 400


def test_attacker_controlled_values_render_inert(client: FlaskClient, world: ConsoleWorld) -> None:
    # GIVEN a user whose id, agent, resource and alert reason carry markup
    start = int(world.alerts[1].first_event_at)
    # WHEN the list, the alert and the user page are rendered
    pages = [
        text(client.get("/?since=2026-11-05")),
        text(client.get("/alert", query_string={"entity": HOSTILE, "start": start})),
        text(client.get("/user", query_string={"id": HOSTILE})),
    ]
    # THEN none of it is markup: every value is escaped, and no script may run anyway
    for page in pages:
        assert "<script>" not in page
        assert "<img" not in page
        assert "<b>hostile</b>" not in page
        assert str(escape(HOSTILE)) in page
    assert str(escape(SCRIPT_AGENT)) in pages[1]
    assert str(escape(IMG_RESOURCE)) in pages[1]
    headers = client.get("/").headers
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "script-src" not in headers["Content-Security-Policy"]


def test_the_user_page_has_every_alert_and_verdict_and_what_is_usual(client: FlaskClient, world: ConsoleWorld) -> None:
    # GIVEN a verdict on the scraper's alert
    start = int(world.alerts[0].first_event_at)
    page = text(client.get("/alert", query_string={"entity": SCRAPER, "start": start}))
    data = {
        "entity": SCRAPER,
        "start": str(start),
        "verdict": TRUE_POSITIVE,
        "note": "scraper",
        "csrf_token": csrf_token(page),
    }
    assert client.post("/alert/verdict", data=data).status_code == 303
    # WHEN the analyst opens the scraper's user page
    page = text(client.get("/user", query_string={"id": SCRAPER}))
    # THEN it lists the alert with its verdict, and their countries, clients and hours from the archive
    assert page.count('<span class="verdict true_positive">true positive</span>') == 1
    assert "50 events in 1 session in the archive" in page
    countries = re.findall(r"<ol class=\"countries\">(.*?)</ol>", page, re.S)[0]
    # (40 requests from the French address, 10 from home in the US)
    assert re.findall(r'<li>(\w+) <span class="muted">(\d+)</span>', countries) == [("FR", "40"), ("US", "10")]
    assert "python-requests/2.32" in page
    assert page.count("<svg ") == 1


def test_the_user_page_lists_the_alerts_on_the_users_sessions(aws_endpoint: str) -> None:
    # GIVEN an alert on the scraper's session (recorded under the session, not the user) and a verdict on it
    world = build_world(aws_endpoint)
    client = create_app(world.services()).test_client()
    store = DynamoAnomalyStore(world.client("dynamodb"), world.anomalies_table, ttl_seconds=3600)
    scrape = world.alerts[0]
    session_alert = EntityAlert(
        f"s-{SCRAPER}",
        "session",
        33.0,
        10.0,
        1,
        scrape.first_event_at + 4,
        scrape.last_event_at,
        38,
        ("pages in quick succession (typical pause 2.0 s) (page_gap_mean 1.10, usually 3.20)",),
    )
    store.claim_alert(alert_partition("session", session_alert.entity), int(session_alert.first_event_at))
    store.describe_alert(session_alert, ARRIVED_AT + timedelta(minutes=3))
    start = int(session_alert.first_event_at)
    partition = alert_partition("session", session_alert.entity)
    page = text(client.get("/alert", query_string={"entity": partition, "start": start}))
    data = {"entity": partition, "start": str(start), "verdict": BENIGN, "csrf_token": csrf_token(page)}
    assert client.post("/alert/verdict", data=data).status_code == 303
    # WHEN the analyst opens the scraper's user page
    page = text(client.get("/user", query_string={"id": SCRAPER}))
    # THEN both the user's alert and the session's are listed, the session's with its verdict and link
    rows = re.findall(r"<tr>(.*?)</tr>", page.split("<tbody>")[1].split("</tbody>")[0], re.S)
    assert len(rows) == 2
    assert sum("the user" in row and "not judged" in row for row in rows) == 1
    session_row = next(row for row in rows if "session" in row)
    assert f"s-{SCRAPER}" in session_row
    assert '<span class="verdict benign">' in session_row
    assert re.search(rf'href="/alert\?entity=session(:|%3A)s-{SCRAPER}&amp;start={start}"', session_row)
    # and a user with no sessions in the archive still gets their page
    assert client.get("/user", query_string={"id": "u-nobody"}).status_code == 200


def test_a_clients_first_one_request_session_alert_says_how_many_were_counted_into_it(aws_endpoint: str) -> None:
    # GIVEN a curl request, its one-request session's alert, and its client's marker with three folded
    # into it, as the scorer leaves them (model.client_alerts)
    world = build_world(aws_endpoint)
    console = create_app(world.services()).test_client()
    at = datetime(2026, 11, 5, 18, 0, tzinfo=UTC)
    request = normalize_event(
        {
            "event_id": "00000000-0000-4000-8000-000000000900",
            "occurred_at": format_timestamp(at),
            "event_type": "page_view",
            "user_id": "visitor",
            "session_id": "cookieless-0",
            "ip": "198.18.0.77",
            "user_agent": "curl/8.5.0",
            "resource": "/catalog/items/1",
            "status": 200,
        }
    )
    with ArchiveWriter(f"s3://{world.bucket}/", s3_client=world.client("s3"), buffer_seconds=60) as writer:
        writer.put_event(request, arrival=ARRIVED_AT + timedelta(hours=1))
    store = DynamoAnomalyStore(world.client("dynamodb"), world.anomalies_table, ttl_seconds=3600)
    alert = EntityAlert("cookieless-0", "session", 60.0, 50.0, 1, at.timestamp(), at.timestamp(), 1, ("curl",))
    partition = alert_partition("session", alert.entity)
    store.claim_alert(partition, int(alert.first_event_at))
    store.describe_alert(alert, ARRIVED_AT + timedelta(hours=1))
    client_partition, day_start = "client:" + str(client_of(request)), int(at.timestamp()) // 86_400 * 86_400
    store.claim_alert(client_partition, day_start, day_start + 2 * 86_400)
    store.alert_sent(client_partition, day_start)
    store.count_folded(client_partition, day_start, 3)
    # WHEN the analyst opens the alert
    page = text(console.get("/alert", query_string={"entity": partition, "start": int(alert.first_event_at)}))
    # THEN it says how many of the client's later one-request visits it stands for
    assert "3 later one-request visits from the same address were counted into it" in page
    # AND without its client's marker (gone a day after its day) the page says nothing of it
    world.client("dynamodb").delete_item(
        TableName=world.anomalies_table, Key={"user_id": {"S": client_partition}, "sk": {"S": f"alert#{day_start}"}}
    )
    page = text(console.get("/alert", query_string={"entity": partition, "start": int(alert.first_event_at)}))
    assert "counted into it" not in page
    # AND an alert on a session with a history says nothing of the kind
    scrape = world.alerts[0]
    page = text(console.get("/alert", query_string={"entity": scrape.entity, "start": int(scrape.first_event_at)}))
    assert "counted into it" not in page


def test_an_unknown_alert_is_not_found(client: FlaskClient) -> None:
    assert client.get("/alert", query_string={"entity": "nobody", "start": 1}).status_code == 404
    assert client.get("/alert", query_string={"entity": "nobody", "start": "x"}).status_code == 400


def test_verdicts_give_precision_over_time_and_the_backtests_labels(aws_endpoint: str, tmp_path: Path) -> None:
    # GIVEN verdicts recorded through the console on alerts of two weeks
    world = build_world(aws_endpoint, extra_alerts=2)
    client = create_app(world.services()).test_client()
    scraper, quiet_w45, quiet_w44 = world.alerts[0], world.alerts[2], world.alerts[3]
    for record, verdict in ((scraper, TRUE_POSITIVE), (quiet_w45, BENIGN), (quiet_w44, BENIGN)):
        start = int(record.first_event_at)
        page = text(client.get("/alert", query_string={"entity": record.entity, "start": start}))
        data = {"entity": record.entity, "start": str(start), "verdict": verdict, "csrf_token": csrf_token(page)}
        assert client.post("/alert/verdict", data=data).status_code == 303
    # WHEN the verdicts are summarized from the labels table
    out = io.StringIO()
    labels_csv = tmp_path / "verdicts.csv"
    status = verdicts.main(
        ["--labels-table", world.labels_table, "--endpoint-url", world.endpoint_url, "--labels-csv", str(labels_csv)],
        out=out,
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    # THEN precision is given per ISO week of the alerts' last events (2 and 5 November; 30 October)
    assert status == 0
    assert lines[:2] == [
        {"week": "2026-W44", "judged": 1, "true_positives": 0, "benign": 1, "precision": 0.0},
        {"week": "2026-W45", "judged": 2, "true_positives": 1, "benign": 1, "precision": 0.5},
    ]
    # AND the backtest reads the CSV as labels: the scraper an attack, the judged-benign users normal
    labels = read_labels(str(labels_csv))
    assert labels == {SCRAPER: "attack", quiet_w45.entity: "benign", quiet_w44.entity: "benign"}
    assert normalized_label(labels[quiet_w44.entity]) == "normal"
    assert lines[2] == {"labels_csv": str(labels_csv), "entities": 3}


@pytest.mark.parametrize(
    ("kind", "shown"),
    [
        (WAVE_KIND, {"login_failed", "login_succeeded"}),
        (SIGNUPS.kind, {"login_failed", "login_succeeded", "signup"}),
        (VISITORS.kind, {"page_view"}),
    ],
)
def test_a_wave_shows_the_services_attempts_of_its_kind_in_its_window(
    tmp_path: Path, kind: str, shown: set[str]
) -> None:
    # GIVEN an archive with logins and sign-ups of several accounts and other events, inside and
    # outside a wave
    start = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)
    events = [
        normalize_event(
            {
                "event_id": f"00000000-0000-4000-8000-{number:012d}",
                "occurred_at": format_timestamp(start + timedelta(seconds=30 * number)),
                "event_type": ("login_failed", "login_succeeded", "page_view", "signup")[number % 4],
                "user_id": f"account-{number}",
                "resource": "/login",
            }
        )
        for number in range(60)
    ]
    with ArchiveWriter(tmp_path, buffer_seconds=60) as writer:
        for event in events:
            writer.put_event(event, arrival=start + timedelta(minutes=1))
    # WHEN the timeline of a wave alert's window (its first ten minutes) is read as the console reads it
    end = start + timedelta(minutes=10)
    query = entity_events_query(kind, WAVE_ENTITY, start, end, [ArrivalRange.around(start, end)])
    rows = DuckDbArchive(str(tmp_path), refresh_seconds=0).run(query)
    # THEN it holds every account's attempts of the wave's kind in the window, and nothing else (a
    # failed-login wave its logins; a sign-up wave its sign-ups and logins; a visitor wave its pages)
    expected = [
        event["event_id"]
        for event in events
        if event["event_type"] in shown and event["occurred_at"] <= format_timestamp(end)
    ]
    assert [row["event_id"] for row in rows] == expected
    assert {row["event_type"] for row in rows} == shown
    assert len({row["user_id"] for row in rows}) == len(expected) == {1: 5, 2: 11, 3: 16}[len(shown)]


def test_a_surge_of_codes_sent_shows_the_requests_that_sent_them(tmp_path: Path) -> None:
    # GIVEN an archive of an app's requests: codes asked for (a path in any case, with a query; posted,
    # put, or of a log without methods), the codes checked, other calls, and the code's form fetched
    start = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)
    paths = ("/v1/auth/otp", "/v1/auth/otp/verify", "/v1/feed", "/V1/Auth/OTP?channel=sms", "/v1/auth/otp")
    methods = ("POST", "POST", "GET", "put", "GET")
    events = [
        normalize_event(
            {
                "event_id": f"00000000-0000-4000-8000-{number:012d}",
                "occurred_at": format_timestamp(start + timedelta(seconds=30 * number)),
                "event_type": "page_view",
                "user_id": f"client:{number}",
                "resource": paths[number % 5],
                # (every tenth without its method, as a log without methods has them)
                **({} if number % 10 == 0 else {"properties": {"method": methods[number % 5]}}),
            }
        )
        for number in range(40)
    ]
    with ArchiveWriter(tmp_path, buffer_seconds=60) as writer:
        for event in events:
            writer.put_event(event, arrival=start + timedelta(minutes=1))
    # WHEN the timeline of the surge's window is read as the console reads it
    end = start + timedelta(minutes=10)
    query = entity_events_query(CODES_SENT.kind, WAVE_ENTITY, start, end, [ArrivalRange.around(start, end)])
    rows = DuckDbArchive(str(tmp_path), refresh_seconds=0).run(query)
    # THEN it holds the requests that asked for a code, and nothing else: not the form's GETs
    asked = [number for number in range(21) if number % 5 in (0, 3)]
    assert [row["event_id"] for row in rows] == [events[number]["event_id"] for number in asked]
    assert asked == [0, 3, 5, 8, 10, 13, 15, 18, 20]  # (the form's, fetched at 4, 9, 14 and 19, left out)


def test_on_aws_the_timeline_runs_through_athena_with_quoted_parameters(aws_endpoint: str) -> None:
    # GIVEN Athena (moto's server) with the stack's workgroup and an answer queued for the next query
    athena = boto3.client("athena", endpoint_url=aws_endpoint, region_name=REGION)
    athena.create_work_group(Name="vedette-queries", Configuration={})
    answer = {
        "rows": [
            {"Data": [{"VarCharValue": "event_id"}, {"VarCharValue": "status"}, {"VarCharValue": "ip"}]},
            {"Data": [{"VarCharValue": "e-1"}, {"VarCharValue": "200"}, {}]},
            {"Data": [{"VarCharValue": "e-2"}, {"VarCharValue": "404"}, {"VarCharValue": "203.0.113.9"}]},
        ],
        "column_info": [
            {"Name": "event_id", "Type": "varchar"},
            {"Name": "status", "Type": "integer"},
            {"Name": "ip", "Type": "varchar"},
        ],
    }
    queue = urllib.request.Request(
        f"{aws_endpoint}/moto-api/static/athena/query-results",
        data=json.dumps({"account_id": "123456789012", "region": REGION, "results": [answer]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(queue, timeout=10) as queued:
        assert queued.status == 201
    # WHEN the console reads the timeline of a user whose id carries a quote, as an attacker may choose
    start = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)
    end = start + timedelta(minutes=10)
    query = entity_events_query("user", "o'hara' OR 1=1 --", start, end, [ArrivalRange.around(start, end)])
    rows = AthenaArchive(athena, "vedette-queries", "vedette_events", poll_seconds=0.01).run(query)
    # THEN the rows come back typed, nulls as None
    assert rows == [
        {"event_id": "e-1", "status": 200, "ip": None},
        {"event_id": "e-2", "status": 404, "ip": "203.0.113.9"},
    ]
    # AND Athena got the console's SQL in the workgroup and database, each value a quoted literal
    (execution_id,) = athena.list_query_executions(WorkGroup="vedette-queries")["QueryExecutionIds"]
    execution = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    assert execution["Query"] == query.sql
    assert execution["QueryExecutionContext"]["Database"] == "vedette_events"
    assert execution["ExecutionParameters"] == [
        "'o''hara'' OR 1=1 --'",
        "'2026-11-05T10:00:00.000000Z'",
        "'2026-11-05T10:10:00.000000Z'",
    ]
