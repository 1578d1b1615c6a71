"""Envoy's and Istio's access logs, read by their own format strings (traffic.envoy)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from traffic.envoy import ISTIO_FORMAT, from_envoy
from traffic.exceptions import LogFormatError
from traffic.importer import LogImporter

AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0"


def read(format: str, *lines: str, log_format: str | None = None) -> list[dict[str, Any]]:
    importer = LogImporter(format, log_format=log_format)
    events = [item.event for item in importer.import_lines(list(lines), "access.log")]
    assert importer.report.unparseable == 0, importer.report.unparseable_examples
    return events


def test_istio_s_default_text_log_is_read_by_its_name() -> None:
    # GIVEN a line of an Istio ingress gateway's log in Istio's default format, behind a cloud load
    # balancer (10.0.1.17) that added the client to X-Forwarded-For
    line = (
        '[2026-11-16T00:00:01.517Z] "GET /video/t1182/720p/segment-22.m4s?t=3 HTTP/2" 200 - via_upstream - "-" 0 '
        f'1145692 276 273 "24.5.97.52,10.0.1.17" "{AGENT}" "7906eb60-cd5e" "www.streamly.example" '
        '"10.44.2.40:8080" outbound|8080||media-origin.prod.svc.cluster.local 10.44.1.23:44749 10.44.1.23:8443 '
        "10.0.1.17:53227 www.streamly.example -"
    )
    # WHEN it is imported with --format istio
    (event,) = read("istio", line)
    # THEN each field is what Envoy wrote: the client behind the balancer, the path as sent, the status
    assert event["occurred_at"] == "2026-11-16T00:00:01.517000Z"
    assert (event["ip"], event["properties"]["remote_addr"]) == ("24.5.97.52", "10.0.1.17")
    assert (event["resource"], event["status"], event["user_agent"]) == (
        "/video/t1182/720p/segment-22.m4s?t=3",
        200,
        AGENT,
    )
    assert (event["properties"]["method"], event["properties"]["latency_ms"], event["properties"]["bytes"]) == (
        "GET",
        276.0,
        1145692,
    )
    # AND a video segment is a file the player fetched by itself, and the mesh's fields are kept aside
    assert event["event_type"] == "static_asset"
    assert event["properties"]["upstream_cluster_raw"] == "outbound|8080||media-origin.prod.svc.cluster.local"


def test_envoy_s_default_log_reads_the_client_from_x_forwarded_for_and_a_hang_up_as_no_status() -> None:
    # GIVEN Envoy's default format, which logs no peer address: a failed login from an app, and a
    # player that hung up on a segment before the response (status 0, flag DC)
    login = (
        '[2026-11-03T10:15:42.123Z] "POST /api/v1/auth/login HTTP/2" 401 - 52 17 12 11 "198.51.100.23" '
        '"okhttp/4.12.0" "9f0c-1" "api.example.com" "10.1.2.3:8080"'
    )
    hung_up = (
        '[2026-11-03T10:15:43.123Z] "GET /video/x/seg-1.m4s HTTP/2" 0 DC 0 0 3 - "198.51.100.23,10.0.0.5" '
        '"ExoPlayer" "9f0c-2" "api.example.com" "-"'
    )
    # WHEN imported with --format envoy
    first, second = read("envoy", login, hung_up)
    # THEN the client is X-Forwarded-For's, the login failed, and the hung-up request has no status
    assert (first["ip"], first["event_type"], first["status"]) == ("198.51.100.23", "login_failed", 401)
    assert (second["ip"], second["status"], second["properties"]["viewer_closed"]) == ("198.51.100.23", None, "true")
    assert second["properties"]["response_flags"] == "DC"


def test_istio_s_json_log_is_read_by_its_keys_whatever_types_envoy_wrote() -> None:
    # GIVEN a line of Istio's JSON encoding (numbers as numbers, unset fields as null)
    line = json.dumps(
        {
            "start_time": "2026-11-03T10:15:42.123Z",
            "method": "POST",
            "path": "/api/v1/redeem",
            "protocol": "HTTP/1.1",
            "response_code": 404,
            "response_flags": "-",
            "bytes_received": 38,
            "bytes_sent": 61,
            "duration": 14,
            "x_forwarded_for": "203.0.113.7",
            "user_agent": "python-requests/2.32.3",
            "request_id": "abc",
            "authority": "www.example.com",
            "upstream_host": "10.44.2.40:8080",
            "downstream_remote_address": "10.0.1.17:53227",
            "connection_termination_details": None,
        }
    )
    # WHEN imported with --format istio-json
    (event,) = read("istio-json", line)
    # THEN it is the same request the text encoding gives
    assert (event["ip"], event["resource"], event["status"], event["user_agent"]) == (
        "203.0.113.7",
        "/api/v1/redeem",
        404,
        "python-requests/2.32.3",
    )
    assert (event["occurred_at"], event["properties"]["method"]) == ("2026-11-03T10:15:42.123000Z", "POST")


def test_an_envoy_format_given_as_a_custom_one_reads_its_cookie_and_user_headers() -> None:
    # GIVEN Istio's format with the Cookie header and the user header its authentication sets, given
    # to --format custom as it is in the mesh's configuration
    log_format = ISTIO_FORMAT + ' "%REQ(COOKIE)%" "%REQ(X-USER-ID)%"'
    line = (
        '[2026-11-16T09:00:00.000Z] "GET /api/v1/titles/42 HTTP/2" 200 - via_upstream - "-" 0 512 20 19 '
        f'"24.5.97.52,10.0.1.17" "{AGENT}" "r-1" "www.streamly.example" "10.44.3.8:8080" outbound|8080||api '
        '10.44.1.23:59472 10.44.1.23:8443 10.0.1.17:53227 www.streamly.example - "consent=yes; sid=s-77" "usr_1001"'
    )
    (event,) = read("custom", line, log_format=log_format)
    # THEN the session is the cookie's and the user the header's
    assert (event["session_id"], event["user_id"]) == ("s-77", "usr_1001")
    # AND where most requests came from apps that send no cookie, the import says that the log's user
    # ids key them
    app = line.replace('"consent=yes; sid=s-77"', '"-"').replace(AGENT, "okhttp/4.12.0")
    importer = LogImporter("custom", log_format=log_format)
    list(importer.import_lines([app.replace("24.5.97.52", f"24.5.97.{n}") for n in range(25)], "app.log"))
    assert "backtest --entity user, which keys them by the log's user ids" in (importer.report.session_hint() or "")
    # AND a variable written in place of an operator gives it that meaning
    (tenant,) = read(
        "custom",
        '[2026-11-16 09:00:00+0000] usr_7 "GET / HTTP/1.1" 200',
        log_format=(
            '[%START_TIME(%Y-%m-%d %H:%M:%S%z)%] $user_id "%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL%" %RESPONSE_CODE%'
        ),
    )
    assert (tenant["user_id"], tenant["resource"]) == ("usr_7", "/")
    assert tenant["occurred_at"] == "2026-11-16T09:00:00.000000Z"


def test_envoy_operators_translate_to_the_nginx_variables_that_hold_the_same() -> None:
    text, time_format = from_envoy(
        "%START_TIME(%s)% %REQ(:AUTHORITY)% %REQ(REFERER)% %RESP(CONTENT-TYPE)% "
        "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %DOWNSTREAM_REMOTE_ADDRESS% %REQ(USER-AGENT):64%"
    )
    assert text == (
        "$msec $host $http_referer $sent_http_content_type $remote_addr $envoy_downstream_remote_address "
        "$http_user_agent"
    )
    assert time_format is None
    with pytest.raises(LogFormatError, match="names no header"):
        from_envoy("%START_TIME% %REQ()%")
    # AND the path without its query is nginx's $uri, and a second operator of the same meaning keeps
    # a name of its own
    paths_and_users = "%REQ_WITHOUT_QUERY(X-ENVOY-ORIGINAL-PATH?:PATH)% %REQ(:PATH)% %REQ(X-USER-ID)% %REQ(X-USER)%"
    assert from_envoy(paths_and_users) == ("$uri $request_uri $user_id $envoy_req_x_user", None)


@pytest.mark.parametrize(
    ("start_time", "written", "read"),
    [
        ("%START_TIME(%s.%3f)%", "1793700942.123", "2026-11-03T10:15:42.123000Z"),
        ("%START_TIME(%s%3f)%", "1793700942123", "2026-11-03T10:15:42.123000Z"),
        ("%START_TIME(%s)%", "1793700942", "2026-11-03T10:15:42.000000Z"),
        ("%START_TIME(%Y-%m-%dT%H:%M:%S.%9fZ)%", "2026-11-03T10:15:42.123456789Z", "2026-11-03T10:15:42.123456Z"),
        ("%START_TIME(%Y-%m-%dT%H:%M:%E3SZ)%", "2026-11-03T10:15:42.123Z", "2026-11-03T10:15:42.123000Z"),
        ("%START_TIME(%d/%b/%Y:%H:%M:%S.%3f %z)%", "03/Nov/2026:11:15:42.123 +0100", "2026-11-03T10:15:42.123000Z"),
    ],
)
def test_envoy_s_time_specifiers_are_read_as_envoy_writes_them(start_time: str, written: str, read: str) -> None:
    line = f'[{written}] "GET / HTTP/1.1" 200'
    (event,) = LogImporter(
        "custom", log_format=f'[{start_time}] "%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL%" %RESPONSE_CODE%'
    ).import_lines([line], "a.log")
    assert event.event["occurred_at"] == read


def test_a_time_with_more_decimals_than_strptime_reads_is_refused_saying_what_to_write() -> None:
    with pytest.raises(LogFormatError, match=r"write at most six \(%6f, %E6S\)"):
        from_envoy("[%START_TIME(%d/%b/%Y:%H:%M:%S.%9f)%] %RESPONSE_CODE%")
