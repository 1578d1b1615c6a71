"""Google Cloud's request logs (Cloud Logging's LogEntry with its httpRequest), read with --format gcp."""

from __future__ import annotations

import json
from typing import Any

from traffic.importer import LogImporter, identify_user


def entry(**request: Any) -> str:
    """A LogEntry as an external Application Load Balancer writes it, one a line as a Logging sink does."""
    http_request = {
        "requestMethod": "POST",
        "requestUrl": "https://www.betexample.co.uk/api/payments/deposit?src=app",
        "requestSize": "1372",
        "status": 402,
        "responseSize": "61",
        "userAgent": "okhttp/4.12.0",
        "remoteIp": "81.2.69.160",
        "serverIp": "10.154.1.103",
        "latency": "0.123456s",
        "protocol": "HTTP/2.0",
        **request,
    }
    return json.dumps(
        {
            "insertId": "3a33bff178d1",
            "jsonPayload": {
                "@type": "type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry",
                "statusDetails": "response_sent_by_backend",
                "enforcedSecurityPolicy": {"name": "edge", "outcome": "ACCEPT"},
            },
            "httpRequest": http_request,
            "resource": {"type": "http_load_balancer", "labels": {"project_id": "betexample-prod"}},
            "timestamp": "2026-11-03T10:15:42.864264Z",
            "severity": "INFO",
            "logName": "projects/betexample-prod/logs/requests",
            "receiveTimestamp": "2026-11-03T10:15:44.650964Z",
        }
    )


def test_a_load_balancer_s_log_entry_is_read_by_its_http_request() -> None:
    importer = LogImporter("gcp")
    (event,) = [item.event for item in importer.import_lines([entry()], "requests.json")]
    # THEN the request is the entry's: its time, client, path and query of the whole URL, status, agent
    assert event["occurred_at"] == "2026-11-03T10:15:42.864264Z"
    assert (event["ip"], event["resource"], event["status"], event["user_agent"]) == (
        "81.2.69.160",
        "/api/payments/deposit?src=app",
        402,
        "okhttp/4.12.0",
    )
    # AND its latency, a duration that names its unit, is read in it
    assert event["properties"]["latency_ms"] == 123.456
    # AND a wallet's deposit, declined, is a declined payment (card testers use deposits as checkouts)
    assert event["event_type"] == "purchase"


def test_google_s_health_checks_are_one_client_whatever_address_they_come_from() -> None:
    # GIVEN health checks from Google's pool of addresses, uptime checks from its regions' fixed
    # addresses, and a person from two
    health = [
        entry(userAgent="GoogleHC/1.0", remoteIp=f"35.191.{n}.7", requestUrl="http://10.0.0.1/") for n in (1, 2, 3)
    ]
    uptime_agent = "GoogleStackdriverMonitoring-UptimeChecks(https://cloud.google.com/monitoring)"
    uptime = [entry(userAgent=uptime_agent, remoteIp=ip) for ip in ("35.186.144.50", "35.199.27.30")]
    browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0"
    person = [entry(userAgent=browser, remoteIp=ip) for ip in ("81.2.69.160", "81.2.69.161")]
    events = [item.event for item in LogImporter("gcp").import_lines(health + uptime + person, "requests.json")]
    # THEN the health checks are one client, keeping their addresses on their events
    users = [event["user_id"] for event in events]
    assert len(set(users[:3])) == 1
    assert [event["ip"] for event in events[:3]] == ["35.191.1.7", "35.191.2.7", "35.191.3.7"]
    # AND an uptime check from each region, as the person from each address, is a client of its own
    assert users[3:5] == [identify_user(None, None, ip, uptime_agent) for ip in ("35.186.144.50", "35.199.27.30")]
    assert users[5:] == [identify_user(None, None, ip, browser) for ip in ("81.2.69.160", "81.2.69.161")]
    assert len(set(users[2:])) == 5


def test_a_health_check_s_agent_from_an_address_no_prober_has_is_that_address_s_client() -> None:
    # GIVEN credential stuffing that writes Google's health-check agent, from public addresses
    # outside Google's health-check ranges, and kube-probe from two nodes of a cluster
    forged = [
        entry(userAgent="GoogleHC/1.0", remoteIp=f"203.0.113.{n}", requestUrl="https://x.example/api/login")
        for n in (1, 2, 3)
    ]
    probes = [entry(userAgent="kube-probe/1.29", remoteIp=ip) for ip in ("10.128.0.5", "10.128.0.6")]
    events = [item.event for item in LogImporter("gcp").import_lines(forged + probes, "requests.json")]
    users = [event["user_id"] for event in events]
    # THEN each forged request is its address's client (an agent is anyone's to write), and so is
    # each node's probe (a few addresses, each a routine client)
    assert len(set(users[:3])) == 3
    assert users[3:] == [identify_user(None, None, ip, "kube-probe/1.29") for ip in ("10.128.0.5", "10.128.0.6")]
    assert users[3] != users[4]


def test_a_duration_that_names_its_units_is_read_in_them() -> None:
    durations = {"0.123456s": 123.456, "1.5ms": 1.5, "250us": 0.25, "1m30.5s": 90_500.0, "2h3m": 7_380_000.0}
    lines = [entry(latency=written) for written in durations]
    events = [item.event for item in LogImporter("gcp").import_lines(lines, "requests.json")]
    assert [event["properties"]["latency_ms"] for event in events] == list(durations.values())


def test_a_json_array_of_entries_says_how_to_write_one_a_line() -> None:
    # GIVEN what gcloud logging read --format=json prints: an array, pretty-printed or on one line
    for lines in (["[", "  {", '    "insertId": "x"', "  }", "]"], ["[" + entry() + "," + entry() + "]"]):
        for format in ("gcp", "jsonl"):
            importer = LogImporter(format)
            assert list(importer.import_lines(lines, "logs.json")) == []
            # THEN the import says what it is and how to convert it
            reasons = {reason for _, _, reason, _ in importer.report.unparseable_examples}
            assert any("a JSON array" in reason and "jq -c '.[]'" in reason for reason in reasons), reasons
    # AND a line with a bracketed prefix before its object is still read (it opens no array)
    template = '{"time":"$time_iso8601","request":"$request","status":$status}'
    prefixed = '[web-7] {"time":"2026-11-03T10:15:42Z","request":"GET / HTTP/1.1","status":200}'
    (item,) = LogImporter("custom", log_format=template).import_lines([prefixed], "app.log")
    assert (item.event["resource"], item.event["status"]) == ("/", 200)
