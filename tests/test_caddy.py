"""Caddy's JSON access log, read with --format caddy: its client, its headers' lists, and a Cookie
header Caddy redacted."""

from __future__ import annotations

import json
from typing import Any

from traffic.importer import LogImporter

FORUM_AGENT = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Safari/605.1"


def caddy_line(uri: str = "/t/welcome-to-the-forum/12?page=2", **fields: Any) -> str:
    """One line of Caddy 2.7's default JSON access log (http.log.access), as its json encoder writes it."""
    headers = fields.pop(
        "headers",
        {
            "User-Agent": [FORUM_AGENT],
            "Referer": ["https://forum.example.org/latest"],
            "Cookie": ["_ga=GA1.2.3; _forum_session=f0rum5e55i0n; _t=token-value"],
            "Accept-Encoding": ["gzip, br"],
        },
    )
    return json.dumps(
        {
            "level": "info",
            "ts": 1794787396.923945,
            "logger": "http.log.access.log0",
            "msg": "handled request",
            "request": {
                "remote_ip": fields.pop("remote_ip", "10.0.3.7"),
                "remote_port": "46316",
                "client_ip": fields.pop("client_ip", "86.15.255.55"),
                "proto": "HTTP/2.0",
                "method": fields.pop("method", "GET"),
                "host": "forum.example.org",
                "uri": uri,
                "headers": headers,
                "tls": {"resumed": False, "version": 772, "cipher_suite": 4865, "proto": "h2"},
            },
            "bytes_read": 0,
            "user_id": fields.pop("user_id", ""),
            "duration": 0.012345,
            "size": 5120,
            "status": fields.pop("status", 200),
            "resp_headers": {"Content-Type": ["text/html; charset=utf-8"], "Server": ["Caddy"]},
        }
    )


def without_client_ip(line: str) -> str:
    """The line as Caddy before 2.7 writes it: its peer (``remote_ip``) and no ``client_ip``."""
    record = json.loads(line)
    del record["request"]["client_ip"]
    return json.dumps(record)


def test_a_caddy_line_reads_its_client_its_headers_and_its_session_cookie() -> None:
    # GIVEN a request a trusted proxy passed on (client_ip is the client, remote_ip the proxy), and one
    # of a member signed in with basic auth, without a referer
    signed_in = caddy_line(
        "/admin/dashboard", user_id="moderator", headers={"User-Agent": ["curl/8.5.0"]}, client_ip="2.27.248.30"
    )
    importer = LogImporter("caddy")
    first, second = (item.event for item in importer.import_lines([caddy_line(), signed_in], "access.log"))
    # THEN the client, the time, the request, the session cookie and the header lists' values are read
    assert (first["ip"], first["occurred_at"]) == ("86.15.255.55", "2026-11-16T00:03:16.923945Z")
    assert (first["resource"], first["status"], first["session_id"]) == (
        "/t/welcome-to-the-forum/12?page=2",
        200,
        "f0rum5e55i0n",
    )
    assert (first["user_agent"], first["properties"]["referer"]) == (FORUM_AGENT, "https://forum.example.org/latest")
    assert (first["properties"]["latency_ms"], first["properties"]["host"]) == (12.345, "forum.example.org")
    assert "token-value" not in json.dumps(first)  # (other cookies are not kept: they may hold credentials)
    # AND the signed-in member is the user, its request without a cookie its client's own session
    assert (second["user_id"], second["ip"], second["user_agent"]) == ("moderator", "2.27.248.30", "curl/8.5.0")
    assert second["session_id"].startswith("client:")


def test_a_line_of_caddy_before_2_7_is_its_peer_s() -> None:
    # GIVEN a line of Caddy 2.6, which logs the peer's address (remote_ip) and no client_ip
    (item,) = LogImporter("caddy").import_lines([without_client_ip(caddy_line(remote_ip="81.2.69.160"))], "a.log")
    # THEN its client is that address, and a line of 2.7 is its client_ip's, the peer kept nowhere
    assert item.event["ip"] == "81.2.69.160"
    (later,) = LogImporter("caddy").import_lines([caddy_line()], "a.log")
    assert later.event["ip"] == "86.15.255.55"
    assert "10.0.3.7" not in json.dumps(later.event)


def test_a_cookie_header_caddy_redacted_says_how_to_log_it() -> None:
    # GIVEN Caddy's default log, which writes the Cookie header as ["REDACTED"] unless log_credentials is on
    lines = [
        caddy_line(f"/t/topic-{n}/{n}", headers={"User-Agent": [FORUM_AGENT], "Cookie": ["REDACTED"]})
        for n in range(300)
    ]
    importer = LogImporter("caddy")
    events = [item.event for item in importer.import_lines(lines, "access.log")]
    # THEN every request is its client's session, and the import says why and what to turn on
    assert {event["session_id"] for event in events} == {events[0]["session_id"]}
    (hint,) = [hint for hint in importer.report.hints() if "REDACTED" in hint]
    assert "logged as 'REDACTED' on 300 requests" in hint
    assert "log_credentials" in hint
    assert "request>headers>Authorization" in hint  # (log_credentials logs it too: the advice says to drop it)
