"""The log importer: every format, odd lines counted not fatal, stable ids, user identification."""

from __future__ import annotations

import argparse
import gzip
import json
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from pathlib import Path

import pytest

from model.backtest import REORDER_SECONDS, label_key, parse_args, read_source
from model.ordering import sorted_by_time
from model.waves import payment_outcome, signup_outcome
from traffic import Simulator
from traffic.exceptions import LogFormatError
from traffic.importer import (
    ATTRIBUTION_SECONDS,
    CLOUDFLARE_TEMPLATE,
    CSIC_ANOMALOUS_LABEL,
    LANDING_SECONDS,
    REDIRECTED_TO_PROPERTY,
    TRAEFIK_TEMPLATE,
    LogImporter,
    add_signup_path,
    derived_event_id,
    failed_login_status,
    identify_user,
    infer_event_type,
    session_column,
)
from traffic.logformat import compile_format, nginx_format_string
from vedette.events import encode_event, normalize_event, parse_timestamp

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
LONG_PATH = "/search?q=" + "a" * 3000
COMBINED_SAMPLE = [
    f'203.0.113.9 - - [02/Nov/2026:10:00:00 +0100] "GET /products/SKU-00042?ref=reco HTTP/1.1" 200 5120 '
    f'"https://shop.example/" "{FIREFOX}"',
    '2001:db8::7 - alice [02/Nov/2026:10:00:01 +0100] "POST /login HTTP/2.0" 302 0 "-" "okhttp/4.12.0"',
    '198.51.100.7 - - [02/Nov/2026:10:00:02 +0100] "-" 408 0 "-" "-"',
    '198.51.100.8 - - [02/Nov/2026:10:00:03 +0100] "\\x16\\x03\\x01\\x00\\xca\\x01" 400 157 "-" "-"',
    '198.51.100.9 - - [02/Nov/2026:10:00:04 +0100] "GET / HTTP/1.1" 200 10 "-" "Mozilla \\"quoted\\" 1.0"',
    'unknown - - [02/Nov/2026:10:00:05 +0100] "GET /catalog/toys HTTP/1.1" 200 10 "-" "curl/8.5.0"',
    '198.51.100.10 - - [02/Nov/2026:10:00:06 +0100] "GET /cart/add?sku=1 HTTP/1.1" 200 10 "-" "curl/8.5.0" "10.0.0.1"',
    "198.51.100.11 - - [02/Nov/2026:10:00:0",
    "",
    '198.51.100.12 - - [02/Foo/2026:10:00:07 +0100] "GET / HTTP/1.1" 200 10 "-" "curl/8.5.0"',
    f'198.51.100.13 - - [02/Nov/2026:10:00:08 +0100] "GET {LONG_PATH} HTTP/1.1" 200 10 "-" "curl/8.5.0"',
    '198.51.100.14 - bob [02/Nov/2026:10:00:09 +0100] "POST /login HTTP/1.1" 401 20 "-" "curl/8.5.0"',
]


def test_combined_log_round_trips_with_odd_lines_counted() -> None:
    # GIVEN a combined log with odd but real-world lines and three broken ones
    importer = LogImporter("combined")
    # WHEN it is imported
    items = list(importer.import_lines(COMBINED_SAMPLE, "access.log"))
    events = [item.event for item in items]
    # THEN the good lines become unlabeled events in the contract, unchanged by normalization
    assert all(normalize_event(event) == event for event in events)
    assert all(item.label is None for item in items)
    first = events[0]
    assert first == {
        "schema_version": 1,
        "event_id": derived_event_id("access.log", 1, COMBINED_SAMPLE[0]),
        "occurred_at": "2026-11-02T09:00:00.000000Z",
        "event_type": "page_view",
        "user_id": identify_user(None, None, "203.0.113.9", FIREFOX),
        "session_id": None,
        "ip": "203.0.113.9",
        "user_agent": FIREFOX,
        "resource": "/products/SKU-00042?ref=reco",
        "status": 200,
        "properties": {"bytes": 5120, "referer": "https://shop.example/", "protocol": "HTTP/1.1", "method": "GET"},
    }
    by_second = {event["occurred_at"][17:19]: event for event in events}
    login = by_second["01"]
    assert (login["event_type"], login["user_id"], login["ip"]) == ("login_succeeded", "alice", "2001:db8::7")
    assert (by_second["02"]["event_type"], by_second["02"]["resource"], by_second["02"]["user_agent"]) == (
        "bad_request",
        None,
        None,
    )
    assert by_second["03"]["properties"]["raw_request"] == "\\x16\\x03\\x01\\x00\\xca\\x01"
    assert by_second["04"]["user_agent"] == 'Mozilla "quoted" 1.0'
    # A "-" referer is recorded as none (""), told apart from a log without the column
    assert by_second["01"]["properties"]["referer"] == ""
    assert by_second["05"]["ip"] is None
    assert by_second["05"]["properties"]["remote_addr"] == "unknown"
    assert by_second["06"]["event_type"] == "add_to_cart"  # the trailing extra column is ignored
    assert len(by_second["08"]["resource"]) == 2048
    assert by_second["08"]["properties"]["resource_truncated"] is True
    assert (by_second["09"]["event_type"], by_second["09"]["user_id"]) == ("login_failed", "bob")
    # AND the report counts every line, with examples of what went wrong
    report = importer.report
    assert (report.lines, report.events, report.unparseable, report.invalid, report.blank) == (12, 9, 2, 0, 1)
    assert [(number, reason) for _, number, reason, _ in report.unparseable_examples] == [
        (
            8,
            "does not match the format at character 20, where the format has $time_local, "
            "the line has '02/Nov/2026:10:00:0'",
        ),
        (10, "$time_local: time data '02/Foo/2026:10:00:07 +0100' does not match format '%d/%b/%Y:%H:%M:%S %z'"),
    ]
    assert "12 line(s): 9 event(s), 2 unparseable, 0 invalid, 1 blank" in report.summary()


@pytest.mark.parametrize("given", ["--format alb", "the documented custom format"])
def test_an_application_load_balancer_log_reads_as_alb_or_with_the_documented_format(given: str) -> None:
    # GIVEN a line of an AWS Application Load Balancer's access log (AWS's documented example's shape)
    line = (
        "https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 "
        '0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/shop/item?id=3 HTTP/1.1" '
        '"curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
        "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "
        '"Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "-" 1 2018-07-02T22:22:48.364000Z '
        '"forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234'
    )
    documented = (
        "$scheme $time_iso8601 $elb $remote_addr:$remote_port $upstream_addr $request_processing_time "
        "$request_time $response_processing_time $status $upstream_status $request_length $body_bytes_sent "
        '"$request" "$http_user_agent"'
    )
    assert documented in (Path(__file__).parents[1] / "docs" / "traffic.md").read_text()

    def importer() -> LogImporter:
        return LogImporter("alb") if given == "--format alb" else LogImporter("custom", log_format=documented)

    # WHEN it is imported as alb, or with the format docs/traffic.md gives
    (item,) = importer().import_lines([line], "alb.log")
    # THEN the request, the client and the time are the event's
    event = item.event
    assert (event["resource"], event["status"], event["ip"]) == ("/shop/item?id=3", 200, "192.168.131.39")
    assert (event["user_agent"], event["occurred_at"]) == ("curl/7.46.0", "2018-07-02T22:23:00.186641Z")
    assert event["properties"]["method"] == "GET"
    # AND a client on IPv6, which the load balancer writes with its port after the address's own
    # colons, is read as its address and port
    ipv6 = line.replace("192.168.131.39:2817", "2a00:23c5:e21a:8b01:5d3e:8f2:b1c4:8b4:24158")
    (item,) = importer().import_lines([ipv6], "alb.log")
    assert item.event["ip"] == "2a00:23c5:e21a:8b01:5d3e:8f2:b1c4:8b4"
    assert item.event["properties"]["remote_port"] == "24158"
    # AND a login the phone hung up on before the answer (the load balancer's 460, as nginx's 499)
    # is no failed login: it has no status, marked so
    hung_up = line.replace(" 200 200 0 57 ", " 460 - 0 57 ").replace(
        "GET https://www.example.com:443/shop/item?id=3", "POST https://www.example.com:443/v1/auth/login"
    )
    (item,) = importer().import_lines([hung_up], "alb.log")
    assert (item.event["status"], item.event["event_type"]) == (None, "login_attempt")
    assert item.event["properties"]["viewer_closed"] == "true"
    # AND a 502, whose target never answered (its processing times -1), has no latency, not -1 s
    unanswered = line.replace("0.086 0.048 0.037 200 200", "0.001 -1 -1 502 -")
    (item,) = importer().import_lines([unanswered], "alb.log")
    assert item.event["status"] == 502
    assert "latency_ms" not in item.event["properties"]
    assert item.event["properties"]["request_time"] == "-1"


def test_an_azure_front_door_record_reads_with_the_documented_template() -> None:
    # GIVEN Front Door's access log record (as a diagnostic setting archives it), and one whose
    # client wrote an address of its choosing in X-Forwarded-For
    template = (
        '{"time":"$time_iso8601","properties":{"httpMethod":"$request_method","requestUri":"$request_uri",'
        '"userAgent":"$http_user_agent","socketIp":"$remote_addr","clientIp":"$http_x_forwarded_for",'
        '"httpStatusCode":"$status","responseBytes":"$body_bytes_sent","timeTaken":"$request_time",'
        '"referer":"$http_referer"}}'
    )
    assert template in (Path(__file__).parents[1] / "docs" / "traffic.md").read_text()
    properties = {
        "trackingReference": "0zxV+XAAAAAB",
        "httpMethod": "POST",
        "httpVersion": "2.0.0",
        "requestUri": "https://www.healthshop.example:443/account/login?next=%2Fcart",
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0",
        "clientIp": "81.2.69.160",
        "socketIp": "81.2.69.160",
        "timeTaken": "0.105",
        "httpStatusCode": "401",
        "referer": "https://www.healthshop.example/account/login",
        "pop": "LHR",
        "cacheStatus": "CONFIG_NOCACHE",
    }
    record = {"time": "2026-11-27T14:05:11.1234567Z", "category": "FrontDoorAccessLog", "properties": properties}
    spoofed = {**record, "properties": {**properties, "clientIp": "198.51.100.99"}}
    # WHEN they are imported with the template docs/traffic.md gives
    importer = LogImporter("custom", log_format=template)
    read, forged = (
        item.event for item in importer.import_lines([json.dumps(record), json.dumps(spoofed)], "PT1H.json")
    )
    # THEN the request, its status, time and client are the event's, a failed login among them
    assert (read["resource"], read["status"], read["event_type"]) == (
        "/account/login?next=%2Fcart",
        401,
        "login_failed",
    )
    assert (read["ip"], read["occurred_at"], read["properties"]["latency_ms"]) == (
        "81.2.69.160",
        "2026-11-27T14:05:11.123456Z",
        105.0,
    )
    # AND an address the client wrote itself is not believed from a client's own connection
    assert forged["ip"] == "81.2.69.160"


INGRESS_NGINX_FORMAT = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
    '"$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] '
    "$upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id $cookie_tsid"
)


def test_an_ingress_nginx_line_whose_request_was_retried_reads_its_upstream_lists_whole() -> None:
    # GIVEN Kubernetes ingress-nginx's default format with the session cookie (as docs/traffic.md
    # gives it), a line passed to one pod, and one retried on another pod after a 502, whose
    # $upstream_* columns hold a list each
    assert INGRESS_NGINX_FORMAT in (Path(__file__).parents[1] / "docs" / "traffic.md").read_text()
    prefix = (
        '67.162.198.205 - - [09/Feb/2026:07:00:37 -0500] "GET /event/48536/seats HTTP/2.0" 200 28243 '
        f'"https://tickets.example/event/48536" "{FIREFOX}" 699 0.173 [tix-web-3000] [] '
    )
    lines = [
        prefix + "10.244.3.52:3000 28243 0.166 200 25ae54d3e6512d79 7f2202bd5cbb6acf",
        prefix + "10.244.3.52:3000, 10.244.3.9:3000 0, 28243 0.006, 0.166 502, 200 25ae54d3e6512d7a 7f2202bd5cbb6acf",
        prefix + "10.244.3.52:3000, 10.244.3.9:3000 : 10.244.7.1:8080 0, 0, 28243 0.006, 0.1, 0.166 502, 502, 200 "
        "25ae54d3e6512d7b 7f2202bd5cbb6acf",
    ]
    importer = LogImporter("custom", log_format=INGRESS_NGINX_FORMAT)
    # WHEN they are imported
    single, retried, redirected = (item.event for item in importer.import_lines(lines, "ingress.log"))
    # THEN the retried line's lists are read whole, and the columns after them are their own
    assert single["session_id"] == retried["session_id"] == redirected["session_id"] == "7f2202bd5cbb6acf"
    assert retried["properties"]["upstream_status"] == "502, 200"
    assert retried["properties"]["upstream_addr"] == "10.244.3.52:3000, 10.244.3.9:3000"
    assert redirected["properties"]["upstream_addr"] == "10.244.3.52:3000, 10.244.3.9:3000 : 10.244.7.1:8080"
    assert redirected["properties"]["req_id"] == "25ae54d3e6512d7b"
    assert importer.report.extra_columns == 0


def test_lines_with_more_columns_than_the_rest_say_the_format_may_not_fit_them() -> None:
    # GIVEN a format whose $queue column is one word, and a log where a few lines hold two there: the
    # columns after it shift, and the session id is read from the wrong one
    log_format = "[$time_local] $remote_addr $request_method $request_uri $status $queue $session_id"
    lines = [f"[02/Nov/2026:10:00:{second:02d} +0000] 203.0.113.9 GET /a 200 q1 s-{second}" for second in range(40)]
    lines += ["[02/Nov/2026:10:01:00 +0000] 203.0.113.9 GET /a 200 q1 q2 s-99"]
    importer = LogImporter("custom", log_format=log_format)
    # WHEN the log is imported
    events = [item.event for item in importer.import_lines(lines, "app.log")]
    # THEN every line is an event, but the import counts the one with more columns and says why it matters
    assert len(events) == 41
    assert importer.report.extra_columns == 1
    (hint,) = [hint for hint in importer.report.hints() if "more columns" in hint]
    assert "1 of 41 lines had more columns than the format names" in hint
    assert "app.log:41, which ended with 's-99' after the format's last column" in hint
    # AND a format that names the first columns of every line (the rest ignored) says nothing
    importer = LogImporter("custom", log_format="[$time_local] $remote_addr $request_method $request_uri")
    list(importer.import_lines(lines, "app.log"))
    assert (importer.report.extra_columns, importer.report.extra_columns_hint()) == (41, None)


def test_a_line_that_does_not_fit_its_format_says_where_it_stops_fitting() -> None:
    # GIVEN a log without addresses whose lines start "- - -", read with a format of one column fewer
    line = (
        '- - - [02/Jun/2020:03:01:07 +0100] "GET /books HTTP/2.0" 200 6340 "-" '
        'db26mzjlofzclua387kc1oq72m "Mozilla/5.0 (X11; Linux x86_64) Firefox/77.0"'
    )
    one_fewer = (
        '$remote_addr $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" $session_id '
        '"$http_user_agent"'
    )
    importer = LogImporter("custom", log_format=one_fewer)
    assert list(importer.import_lines([line], "access.log")) == []
    # THEN the reason names where: the format's " [" where the line has its third column
    ((_, number, reason, _),) = importer.report.unparseable_examples
    assert (number, reason) == (
        1,
        "does not match the format at character 4, where the format has ' [', the line has ' - [02/Jun/2020:03:01:07'",
    )
    # AND the format with the column reads the line
    importer = LogImporter("custom", log_format=one_fewer.replace("$remote_user", "- $remote_user"))
    (item,) = importer.import_lines([line], "access.log")
    assert item.event["session_id"] == "db26mzjlofzclua387kc1oq72m"
    # AND a line that goes on where the format ends without a space says so
    ended = compile_format('$remote_addr [$time_local] "$request"')
    went_on = '10.0.0.1 [02/Jun/2020:03:01:07 +0100] "GET / HTTP/1.1"x'
    assert ended.read(went_on) is None
    assert ended.mismatch(went_on) == "after character 54, where the format ends, the line goes on: 'x'"


# nginx's log_format for JSON lines, as nginx's documentation and most guides write it (escape=json,
# numbers unquoted), with the session cookie.
NGINX_JSON_TEMPLATE = (
    '{"time":"$time_iso8601","remote_addr":"$remote_addr","request":"$request","status":$status,'
    '"body_bytes_sent":$body_bytes_sent,"request_time":$request_time,"http_referer":"$http_referer",'
    '"http_user_agent":"$http_user_agent","sid":"$cookie_sid"}'
)


def test_an_nginx_json_log_reads_by_its_template_wherever_its_keys_come() -> None:
    # GIVEN lines nginx wrote with a JSON log_format: keys in another order than the template's, a
    # quote and an accent JSON-escaped, an empty referer, a key missing, a line CloudWatch Logs'
    # export prefixed with its time, one written without escape=json (a quote as \x22), one cut off,
    # and another log's line
    lines = [
        '{"remote_addr":"203.0.113.9","time":"2026-11-02T10:00:00+00:00","request":"GET /search?q=tent HTTP/2.0",'
        '"status":200,"body_bytes_sent":5120,"request_time":0.012,"http_referer":"",'
        '"http_user_agent":"Mozilla \\"Caf\\u00e9\\"","sid":"s-1"}',
        '{"time":"2026-11-02T10:00:01+00:00","remote_addr":"203.0.113.9","request":"POST /login HTTP/2.0",'
        '"status":401,"http_user_agent":"curl/8.5.0"}',
        '2026-11-02T10:00:02.000Z {"time":"2026-11-02T10:00:02+00:00","remote_addr":"198.51.100.7",'
        '"request":"GET /cart HTTP/1.1","status":200,"http_user_agent":"Mozilla \\x22quoted\\x22","sid":"s-2"}',
        '{"time":"2026-11-02T10:00:03+00:00","remote_addr":"198.51.100.7","request":"GET / HTTP/1.1","status":"OK"}',
        '{"time":"2026-11-02T10:00:04+00:00","remote_addr":"198.51.100.7","requ',  # cut off as the log rotated
        "nginx: [warn] could not build optimal types_hash",  # not the access log's
    ]
    importer = LogImporter("custom", log_format=NGINX_JSON_TEMPLATE)
    # WHEN they are imported with the template as the custom format
    events = {item.event["resource"]: item.event for item in importer.import_lines(lines, "access.json")}
    # THEN each key is read as its variable, as the same line in a plain log would be
    first, login, cart = events["/search?q=tent"], events["/login"], events["/cart"]
    assert (first["session_id"], first["event_type"], first["status"]) == ("s-1", "search", 200)
    assert first["user_agent"] == 'Mozilla "Café"'
    assert first["properties"] == {
        "protocol": "HTTP/2.0",
        "bytes": 5120,
        "latency_ms": 12.0,
        "referer": "",
        "method": "GET",
    }
    assert (login["event_type"], login["properties"].get("referer")) == ("login_failed", None)
    assert (cart["occurred_at"], cart["ip"]) == ("2026-11-02T10:00:02.000000Z", "198.51.100.7")
    assert cart["user_agent"] == 'Mozilla "quoted"'
    # AND the lines that are not the template's are counted with the reason
    report = importer.report
    assert (report.events, report.unparseable) == (3, 3)
    reasons = [example[2] for example in report.unparseable_examples]
    assert reasons[0] == "$status: not an HTTP status: 'OK'"
    assert reasons[1].startswith("not JSON: ")
    assert reasons[2] == "not a JSON object (no '{')"


def test_an_api_gateway_access_log_reads_with_its_own_format() -> None:
    # GIVEN a REST API's access log in JSON, its format as API Gateway's console suggests it, with the
    # Cognito user's id; the same API's log in the common log format API Gateway offers; and an HTTP
    # API's, which names the route and the time in milliseconds
    rest_json = (
        '{ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", "caller":"$context.identity.caller", '
        '"user":"$context.identity.user","requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod",'
        '"resourcePath":"$context.resourcePath", "path":"$context.path", "status":"$context.status",'
        '"protocol":"$context.protocol", "responseLength":"$context.responseLength", '
        '"sub":"$context.authorizer.claims.sub", "agent":"$context.identity.userAgent", "apiId":"$context.apiId" }'
    )
    rest_line = (
        '{ "requestId":"9c5e0a1f", "ip": "203.0.113.9", "caller":"-", "user":"-",'
        '"requestTime":"02/Nov/2026:10:00:00 +0000", "httpMethod":"GET","resourcePath":"/pets/{id}", '
        '"path":"/prod/pets/42", "status":"200","protocol":"HTTP/1.1", '
        '"responseLength":"120", "sub":"6f1c-user", "agent":"okhttp/4.12.0", "apiId":"a1b2c3" }'
    )
    clf = (
        "$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] "
        '"$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength '
        "$context.requestId"
    )
    clf_line = '203.0.113.9 - - [02/Nov/2026:10:00:00 +0000] "POST /login HTTP/1.1" 401 12 9c5e0a20'
    http_api = (
        '{"ip":"$context.identity.sourceIp","time":"$context.requestTimeEpoch","route":"$context.routeKey",'
        '"status":"$context.status"}'
    )
    http_line = '{"ip":"203.0.113.9","time":"1762077600250","route":"GET /pets/{id}","status":"200"}'
    # WHEN each is imported with its format as the custom format
    (rest,) = LogImporter("custom", log_format=rest_json).import_lines([rest_line], "api.log")
    (login,) = LogImporter("custom", log_format=clf).import_lines([clf_line], "api.log")
    (http,) = LogImporter("custom", log_format=http_api).import_lines([http_line], "api.log")
    # THEN the client, the user, the time and the request are read by their $context variables
    event = rest.event
    assert (event["ip"], event["user_id"], event["user_agent"]) == ("203.0.113.9", "6f1c-user", "okhttp/4.12.0")
    assert (event["resource"], event["status"]) == ("/prod/pets/42", 200)
    assert event["occurred_at"] == "2026-11-02T10:00:00.000000Z"
    # AND the ids and details that say nothing about the client are left out
    assert event["properties"] == {"server_protocol": "HTTP/1.1", "bytes": 120, "method": "GET"}
    # AND the route stands for the path where the log has none
    assert (login.event["event_type"], login.event["resource"]) == ("login_failed", "/login")
    assert (http.event["resource"], http.event["properties"]["method"]) == ("/pets/{id}", "GET")
    assert http.event["occurred_at"] == "2025-11-02T10:00:00.250000Z"


def test_a_json_template_nests_and_reads_a_list_s_first_element() -> None:
    # GIVEN Caddy's access log, whose request is an object and whose headers are lists, read with a
    # template of the keys it needs (the line holds more)
    template = (
        '{"ts":$msec,"request":{"remote_ip":"$remote_addr","method":"$request_method","uri":"$request_uri",'
        '"headers":{"User-Agent":["$http_user_agent"],"Cookie":["$http_cookie"]}},"status":$status,'
        '"duration":$request_time,"size":$body_bytes_sent}'
    )
    line = (
        '{"level":"info","ts":1793613600.5,"logger":"http.log.access","msg":"handled request",'
        '"request":{"remote_ip":"203.0.113.9","remote_port":"55012","proto":"HTTP/2.0","method":"GET",'
        '"host":"shop.example","uri":"/products/42",'
        '"headers":{"User-Agent":["Mozilla/5.0"],"Cookie":["_ga=GA1.1; sessionid=abc; token=secret"]}},'
        '"duration":0.0012,"size":5120,"status":200}'
    )
    # WHEN it is imported
    (item,) = LogImporter("custom", log_format=template).import_lines([line], "caddy.log")
    # THEN the nested keys are read, and of the Cookie header only the session cookie is kept
    event = item.event
    assert (event["ip"], event["resource"], event["user_agent"], event["session_id"]) == (
        "203.0.113.9",
        "/products/42",
        "Mozilla/5.0",
        "abc",
    )
    assert event["occurred_at"] == "2026-11-02T10:00:00.500000Z"
    assert "secret" not in json.dumps(event)


CLOUDFRONT_HEADER = [
    "#Version: 1.0",
    "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) "
    "cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol "
    "cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version "
    "fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type "
    "sc-content-len sc-range-start sc-range-end",
]


def cloudfront_line(
    *,
    time: str,
    ip: str,
    method: str,
    stem: str,
    status: int,
    agent: str,
    query: str = "-",
    cookie: str = "-",
    referer: str = "-",
    result: str = "Miss",
) -> str:
    """A standard-log line as CloudFront writes it: 33 tab-separated fields, values URL-encoded."""
    return "\t".join(
        [
            "2026-11-09",
            time,
            "LAX50-P3",
            "2541",
            ip,
            method,
            "d111111abcdef8.cloudfront.net",
            stem,
            str(status),
            referer,
            agent,
            query,
            cookie,
            result,
            "aUGMrkaQpf6TdsA0bN0vz_HYn0vN0eU4xPUVa1k6Q6BTBdnOrzIX9A==",
            "www.example.com",
            "https",
            "421",
            "0.144",
            "-",
            "TLSv1.3",
            "TLS_AES_128_GCM_SHA256",
            result,
            "HTTP/2.0",
            "-",
            "-",
            "61052",
            "0.144",
            result,
            "text/html",
            "2039",
            "-",
            "-",
        ]
    )


def test_a_cloudfront_standard_log_reads_by_its_fields_directive() -> None:
    # GIVEN a CloudFront standard log: its directives, then requests with URL-encoded values and the
    # Cookie header holding the session cookie among others
    chrome = "Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)"
    lines = [
        *CLOUDFRONT_HEADER,
        cloudfront_line(
            time="14:02:11",
            ip="203.0.113.9",
            method="GET",
            stem="/news/2026/11/city-council",
            status=200,
            agent=chrome,
            query="utm_source=feed&page=2",
            cookie="consent=yes;%20PHPSESSID=a1b2c3;%20auth=SECRET",
            referer="https://www.example.com/",
            result="Hit",
        ),
        cloudfront_line(
            time="14:02:15",
            ip="2001:db8::7",
            method="POST",
            stem="/account/login",
            status=401,
            agent="python-requests/2.32.3",
        ),
        "2026-11-09\t14:02:16\tnot enough fields",
    ]
    importer = LogImporter("cloudfront")
    page, login = (item.event for item in importer.import_lines(lines, "E2EXAMPLE.2026-11-09-14.abcd1234"))
    # THEN each request is the event an nginx line would give: UTC time, client, resource with its
    # query, decoded agent, and the session cookie as the session; the other cookies are not kept
    assert (page["occurred_at"], page["ip"], page["status"]) == ("2026-11-09T14:02:11.000000Z", "203.0.113.9", 200)
    assert page["resource"] == "/news/2026/11/city-council?utm_source=feed&page=2"
    assert page["user_agent"] == chrome.replace("%20", " ")
    assert (page["session_id"], page["user_id"], page["event_type"]) == ("a1b2c3", "session:a1b2c3", "page_view")
    assert "SECRET" not in json.dumps(page)
    properties = page["properties"]
    assert (properties["method"], properties["referer"], properties["edge_result_type"]) == (
        "GET",
        "https://www.example.com/",
        "Hit",
    )
    assert (properties["latency_ms"], properties["bytes"], properties["protocol"]) == (144.0, 2541, "HTTP/2.0")
    assert (login["event_type"], login["ip"], login["user_agent"]) == (
        "login_failed",
        "2001:db8::7",
        "python-requests/2.32.3",
    )
    # AND the directives are header lines, not unparseable; a line of other fields is, with the reason
    report = importer.report
    assert (report.lines, report.events, report.directives, report.unparseable) == (5, 2, 2, 1)
    assert "33 tab-separated fields" in report.unparseable_examples[0][2]


def test_a_cloudfront_log_with_other_fields_or_files_joined_reads_each_by_its_own_directive() -> None:
    # GIVEN two files joined (zcat *.gz): the standard layout, then one that logs fewer fields in another order
    first = cloudfront_line(time="09:00:00", ip="198.51.100.7", method="GET", stem="/", status=200, agent="curl/8.5.0")
    second = "\t".join(["404", "/wp-login.php", "2026-11-10", "09:30:00", "198.51.100.8", "GET", "Wget/1.21"])
    lines = [
        *CLOUDFRONT_HEADER,
        first,
        "#Version: 1.0",
        "#Fields: sc-status cs-uri-stem date time c-ip cs-method cs(User-Agent)",
        second,
        "#Fields: c-ip cs-method",  # no time: its requests could not be placed
    ]
    importer = LogImporter("cloudfront")
    events = [item.event for item in importer.import_lines(lines, "joined.log")]
    # THEN each line is read by the directive before it
    assert [(event["resource"], event["status"], event["occurred_at"]) for event in events] == [
        ("/", 200, "2026-11-09T09:00:00.000000Z"),
        ("/wp-login.php", 404, "2026-11-10T09:30:00.000000Z"),
    ]
    assert events[1]["user_agent"] == "Wget/1.21"
    # AND a #Fields without a time is refused, saying why
    assert importer.report.unparseable == 1
    assert "without date and time" in importer.report.unparseable_examples[0][2]


def test_the_backtest_reads_a_gzipped_cloudfront_log_with_the_session_cookie_named(tmp_path: Path) -> None:
    # GIVEN a CloudFront log as delivered (gzipped), its session cookie not named like one
    path = tmp_path / "E2EXAMPLE.2026-11-09-14.abcd1234.gz"
    line = cloudfront_line(
        time="14:02:11",
        ip="203.0.113.9",
        method="GET",
        stem="/",
        status=200,
        agent="curl/8.5.0",
        cookie="consent=yes;%20nsid=n-7",
    )
    path.write_bytes(gzip.compress("\n".join([*CLOUDFRONT_HEADER, line, ""]).encode()))
    # WHEN the backtest's options name the format and the cookie
    arguments = parse_args(
        ["--train", str(path), "--test", str(path), "--format", "cloudfront", "--session-cookie", "nsid", "--out", "x"]
    )
    (event,) = read_source(str(path), format=arguments.format, session_cookie=arguments.session_cookie)
    # THEN the request is read, in the session its cookie names
    assert (event["resource"], event["session_id"]) == ("/", "n-7")


def test_an_iis_log_reads_by_its_fields_with_spaces_as_plus_and_milliseconds() -> None:
    # GIVEN an IIS log (W3C, space-separated, IIS's default fields, then a selection with the cookie)
    lines = [
        "#Software: Microsoft Internet Information Services 10.0",
        "#Version: 1.0",
        "#Date: 2026-11-09 14:00:00",
        "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
        "cs(Referer) sc-status sc-substatus sc-win32-status time-taken",
        "2026-11-09 14:02:11 10.0.0.4 GET /Products/Detail.aspx id=42 443 - 203.0.113.9 "
        "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) https://shop.example/ 200 0 0 187",
        "2026-11-09 14:02:15 10.0.0.4 POST /Account/Login.aspx - 443 CONTOSO\\alice 2001:db8::7 "
        "python-requests/2.32.3 - 401 1 2148074254 31",
        "#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(Cookie)",
        "2026-11-09 14:03:00 198.51.100.7 GET /Cart.aspx 200 _ga=GA1.1.9;+ASP.NET_SessionId=q1w2e3",
    ]
    importer = LogImporter("iis")
    # (requests without a session cookie are held a while for the session their client may start)
    by_resource = {item.event["resource"].split("?")[0]: item.event for item in importer.import_lines(lines, "a.log")}
    page, login, cart = (by_resource[path] for path in ("/Products/Detail.aspx", "/Account/Login.aspx", "/Cart.aspx"))
    # THEN each request is read by its directive: the agent's pluses are spaces, time-taken is milliseconds
    assert (page["occurred_at"], page["ip"], page["resource"]) == (
        "2026-11-09T14:02:11.000000Z",
        "203.0.113.9",
        "/Products/Detail.aspx?id=42",
    )
    assert page["user_agent"] == "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
    assert (page["properties"]["latency_ms"], page["properties"]["referer"]) == (187.0, "https://shop.example/")
    # AND the authenticated user is the user; a failed login reads as one
    assert (login["user_id"], login["event_type"]) == ("CONTOSO\\alice", "login_failed")
    # AND ASP.NET's session cookie is the session
    assert (cart["session_id"], cart["user_id"]) == ("q1w2e3", "session:q1w2e3")
    assert (importer.report.directives, importer.report.unparseable) == (5, 0)


def test_windows_authentications_challenges_are_read_as_part_of_the_request_they_challenged() -> None:
    # GIVEN an IIS log of pages behind Windows authentication: a browser's request answered 401.2 (it
    # sent no credentials) and 401.1 (NTLM's challenge, as Microsoft's examples log it), then the same request with
    # its credentials answered 200; a scanner's request challenged and never repeated; and a logon
    # refused (401.1 with SEC_E_LOGON_DENIED)
    agent = "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+Edg/130.0"
    lines = [
        "#Fields: date time cs-method cs-uri-stem cs-uri-query cs-username c-ip cs(User-Agent) "
        "sc-status sc-substatus sc-win32-status time-taken",
        f"2026-11-09 13:06:06 GET /Admin/Queue - - 10.40.4.22 {agent} 401 2 5 1",
        f"2026-11-09 13:06:06 GET /Admin/Queue - - 10.40.4.22 {agent} 401 1 2148074254 1",
        f"2026-11-09 13:06:07 GET /Admin/Queue - MERIDIAN\\mgarcia 10.40.4.22 {agent} 200 0 0 47",
        "2026-11-09 13:06:08 GET /Admin/Backup.zip - - 198.51.100.9 sqlmap/1.8 401 2 2148074254 1",
        f"2026-11-09 13:06:20 GET /Admin/Queue - - 10.40.4.30 {agent} 401 1 2148074252 2",
        f"2026-11-09 13:06:30 GET /Admin/Reports - MERIDIAN\\mgarcia 10.40.4.22 {agent} 200 0 0 52",
        # (challenged, then repeated too late to be its answer; challenged, and another browser's request)
        f"2026-11-09 13:07:00 GET /Admin/Audit - - 10.40.4.23 {agent} 401 2 5 1",
        f"2026-11-09 13:07:06 GET /Admin/Audit - MERIDIAN\\jdoe 10.40.4.23 {agent} 200 0 0 40",
        f"2026-11-09 13:08:00 GET /Admin/Audit - - 10.40.4.24 {agent} 401 2 5 1",
        "2026-11-09 13:08:01 GET /Admin/Audit - MERIDIAN\\jdoe 10.40.4.24 Mozilla/5.0+Firefox/131.0 200 0 0 40",
    ]
    importer = LogImporter("iis")
    events = [item.event for item in importer.import_lines(lines, "u_ex261109.log")]
    # THEN the browser's challenged request is one event, the 200 with its credentials, carrying the
    # two challenges; its next page, unchallenged, carries none
    admin = [event for event in events if event["ip"] == "10.40.4.22"]
    assert [(event["resource"], event["status"]) for event in admin] == [("/Admin/Queue", 200), ("/Admin/Reports", 200)]
    assert admin[0]["properties"]["auth_challenges"] == 2
    assert "auth_challenges" not in admin[1]["properties"]
    # AND the challenge nothing answered is a request of its own, marked; the logon refused is one, unmarked
    (scanner,) = [event for event in events if event["ip"] == "198.51.100.9"]
    assert (scanner["status"], scanner["properties"]["auth_challenge"]) == (401, True)
    # AND a challenge repeated too late, or by another browser, is a request of its own too
    for address in ("10.40.4.23", "10.40.4.24"):
        client = [event for event in events if event["ip"] == address]
        marks = [(event["status"], event["properties"].get("auth_challenge")) for event in client]
        assert marks == [(401, True), (200, None)]
    (refused,) = [event for event in events if event["ip"] == "10.40.4.30"]
    assert refused["status"] == 401
    assert "auth_challenge" not in refused["properties"]
    # AND the import says how many it read so, and that they are no events of their own
    assert (importer.report.auth_challenges, importer.report.events) == (2, len(events)) == (2, 8)
    assert "2 request(s) were Windows authentication's challenges" in importer.report.summary()
    assert importer.report.to_json()["auth_challenges"] == 2


@pytest.mark.parametrize("field", ["X-Forwarded-For", "x-forwarded-for", "cs(X-Forwarded-For)"])
def test_an_iis_log_behind_a_load_balancer_reads_the_client_from_its_forwarded_field(field: str) -> None:
    # GIVEN IIS behind a load balancer: c-ip is the balancer's, and a custom field logs the
    # X-Forwarded-For request header (named as its administrator typed it)
    header = f"#Fields: date time cs-method cs-uri-stem c-ip cs(User-Agent) sc-status {field}"
    lines = [
        "#Software: Microsoft Internet Information Services 10.0",
        header,
        *(
            f"2026-11-27 08:00:{second:02d} GET /Products.aspx 10.20.1.5 Mozilla/5.0 200 198.51.100.{second}"
            for second in range(30)
        ),
        "2026-11-27 08:01:00 GET /Cart.aspx 10.20.1.5 Mozilla/5.0 200 203.0.113.7,+10.99.0.1",
    ]
    importer = LogImporter("iis")
    events = [item.event for item in importer.import_lines(lines, "u_ex261127_x.log")]
    # THEN each request is its client's, the balancer's address kept aside; a trusted internal hop at
    # the header's right end is passed over, as nginx's realip module would
    assert [event["ip"] for event in events[:3]] == ["198.51.100.0", "198.51.100.1", "198.51.100.2"]
    assert events[0]["properties"]["remote_addr"] == "10.20.1.5"
    assert events[-1]["ip"] == "203.0.113.7"
    assert importer.report.proxy_hint() is None


def test_iis_files_with_and_without_the_forwarded_field_are_each_read_by_their_own_fields() -> None:
    # GIVEN two IIS files joined: the first logs X-Forwarded-For and no c-ip, the second only c-ip
    # (the balancer's)
    lines = [
        "#Fields: date time cs-method cs-uri-stem cs(User-Agent) sc-status X-Forwarded-For",
        "2026-11-27 08:00:00 GET /Products.aspx Mozilla/5.0 200 198.51.100.7",
        "#Fields: date time cs-method cs-uri-stem c-ip cs(User-Agent) sc-status",
        *(f"2026-11-27 08:01:{second:02d} GET /Products.aspx 10.20.1.5 Mozilla/5.0 200" for second in range(30)),
    ]
    importer = LogImporter("iis")
    events = [item.event for item in importer.import_lines(lines, "u_ex261127.log")]
    # THEN the first file's client is its header's, and the advice is to log the header (the second
    # file's lines have none), not to trust more proxies
    first = next(event for event in events if event["occurred_at"] == "2026-11-27T08:00:00.000000Z")
    assert first["ip"] == "198.51.100.7"
    assert "custom field named X-Forwarded-For" in (importer.report.proxy_hint() or "")


def test_an_iis_log_behind_a_load_balancer_without_the_field_says_how_to_log_it() -> None:
    # GIVEN IIS behind a load balancer logging no X-Forwarded-For field: every c-ip is the balancer's
    lines = [
        "#Fields: date time cs-method cs-uri-stem c-ip cs(User-Agent) sc-status",
        *(f"2026-11-27 08:00:{second:02d} GET /Products.aspx 10.20.1.5 Mozilla/5.0 200" for second in range(30)),
    ]
    importer = LogImporter("iis")
    list(importer.import_lines(lines, "u_ex261127.log"))
    # THEN the import says to log the header as IIS does it, not as nginx's format would
    hint = importer.report.proxy_hint() or ""
    assert "custom field named X-Forwarded-For" in hint
    assert "$http_x_forwarded_for" not in hint


def test_a_cookie_header_gives_its_session_cookie_and_keeps_no_other() -> None:
    # GIVEN an nginx log with the whole Cookie header ($http_cookie), a session cookie named like one
    log_format = '$remote_addr [$time_local] "$request" $status "$http_cookie"'
    cookies = 'theme=dark; JSESSIONID=\\"j-42\\"; token=SECRET'
    line = f'198.51.100.7 [02/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 "{cookies}"'
    (item,) = LogImporter("custom", log_format=log_format).import_lines([line], "a.log")
    # THEN the session is JSESSIONID's value, and the header is kept nowhere (it holds credentials)
    assert (item.event["session_id"], item.event["user_id"]) == ("j-42", "session:j-42")
    assert "SECRET" not in json.dumps(item.event)
    # AND a cookie not named like a session is named with session_cookie (--session-cookie)
    other = '198.51.100.7 [02/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 "nsid=n-7; consent=yes"'
    (named,) = LogImporter("custom", log_format=log_format, session_cookie="nsid").import_lines([other], "b.log")
    assert named.event["session_id"] == "n-7"
    # AND without the name, the import says which cookies the requests carried
    importer = LogImporter("custom", log_format=log_format)
    events = list(importer.import_lines([other] * 30, "c.log"))
    assert all(event.event["session_id"].startswith("client:") for event in events)
    (hint,) = importer.report.hints()
    assert "--session-cookie NAME" in hint
    assert "nsid (30)" in hint
    assert "consent (30)" in hint
    # AND where most requests without a session sent no Cookie header at all (an app, a player), the
    # import says so rather than ask for a cookie that cannot be there
    apps = LogImporter("custom", log_format=log_format)
    app_line = '198.51.100.{} [02/Nov/2026:10:00:00 +0000] "GET /api/v1/titles HTTP/1.1" 200 "-"'
    list(apps.import_lines([other] * 5 + [app_line.format(number) for number in range(25)], "e.log"))
    (hint,) = apps.report.hints()
    assert "most of them sent no Cookie header at all" in hint
    assert "5 sent cookies without a session's" in hint
    assert "--session-cookie" not in hint
    # AND an Apache %{Cookie}i is the same header
    apache = LogImporter("custom", log_format='%h %t \\"%r\\" %>s \\"%{Cookie}i\\"', session_cookie="nsid")
    apache_line = '198.51.100.7 [02/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 "nsid=n-7; consent=yes"'
    (read,) = apache.import_lines([apache_line], "d.log")
    assert read.event["session_id"] == "n-7"


def test_common_log_format_reads_common_lines_and_tolerates_combined_ones() -> None:
    lines = [
        '192.0.2.1 - - [02/Nov/2026:23:59:59 -0500] "GET /search?q=tent HTTP/1.0" 200 2326',
        COMBINED_SAMPLE[0],
        '192.0.2.1 - - [02/Nov/2026:23:59:59 -0500] "GET /a HTTP/1.0" 200 -',
    ]
    importer = LogImporter("common")
    events = {item.event["resource"]: item.event for item in importer.import_lines(lines, "common.log")}
    assert [event["event_type"] for event in events.values()] == ["page_view", "search", "page_view"]  # (time order)
    assert events["/search?q=tent"]["occurred_at"] == "2026-11-03T04:59:59.000000Z"
    assert all(event["user_agent"] is None for event in events.values())  # common format: no user agent column
    assert "bytes" not in events["/a"]["properties"]
    assert "referer" not in events["/search?q=tent"]["properties"]  # the common format has no referer column
    assert importer.report.events == 3


def test_custom_format_with_session_column_and_iso_time() -> None:
    importer = LogImporter(
        "custom", log_format='$time_iso8601 $remote_addr $session_id "$request" $status "$http_user_agent"'
    )
    lines = [
        '2026-11-02T10:00:00+00:00 198.51.100.7 sess-42 "GET /search?q=tent HTTP/2.0" 200 "Mozilla/5.0"',
        '2026-11-02T10:00:01Z 198.51.100.7 - "GET /x HTTP/2.0" 200 "curl/8.5.0"',
    ]
    events = [item.event for item in importer.import_lines(lines, "app.log")]
    assert events[0]["session_id"] == "sess-42"
    assert events[0]["user_id"] == "session:sess-42"
    assert events[0]["event_type"] == "search"
    # (a client without the session cookie, curl, is its own session)
    client = identify_user(None, None, "198.51.100.7", "curl/8.5.0")
    assert (events[1]["session_id"], events[1]["user_id"]) == (client, client)


def test_a_request_without_the_session_cookie_joins_the_session_its_client_starts_or_is_its_own() -> None:
    # GIVEN an Apache log whose session column is the cookie each request carried ("-" on a
    # browser's first request, whose response sets it; always for a crawler)
    importer = LogImporter("custom", log_format='%h %t "%r" %>s "%{User-Agent}i" "%{forum_sid}C"')
    browser, crawler = "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0", "Googlebot/2.1"

    def line(second: int, address: str, agent: str, path: str, cookie: str) -> str:
        stamp = f"02/Nov/2026:10:{second // 60:02d}:{second % 60:02d} +0000"
        return f'{address} [{stamp}] "GET {path} HTTP/2.0" 200 "{agent}" "{cookie}"'

    lines = [
        line(0, "198.51.100.7", browser, "/", "-"),  # the landing page: no cookie yet
        line(1, "198.51.100.7", browser, "/style.css", "s-1"),
        line(2, "203.0.113.66", crawler, "/t/1", "-"),
        line(3, "198.51.100.7", browser, "/t/9", "s-1"),
        line(5, "203.0.113.66", crawler, "/t/2", "-"),
        line(20, "198.51.100.9", browser, "/t/3", "-"),  # a landing page whose assets were cached...
        line(80, "198.51.100.9", browser, "/t/4", "s-2"),  # ...and the next click, with the cookie
        line(90, "198.51.100.11", browser, "/t/5", "-"),  # a visitor who leaves after one page
        line(400, "198.51.100.11", browser, "/t/6", "s-3"),  # and comes back more than 5 min later
    ]
    # WHEN it imports them
    events = [item.event for item in importer.import_lines(lines, "forum.log")]
    by_path = {event["resource"]: event for event in events}
    # THEN the landing page is in the session its next request carries, and so is its user
    assert (by_path["/"]["session_id"], by_path["/"]["user_id"]) == ("s-1", "session:s-1")
    # AND the crawler's requests are one session, its client's, as its user is
    crawler_client = identify_user(None, None, "203.0.113.66", crawler)
    assert {by_path[path]["session_id"] for path in ("/t/1", "/t/2")} == {crawler_client}
    assert by_path["/t/1"]["user_id"] == crawler_client
    # AND a landing page joins the session its client starts within LANDING_SECONDS, not later
    assert by_path["/t/3"]["session_id"] == by_path["/t/4"]["session_id"] == "s-2"
    assert by_path["/t/5"]["session_id"] == identify_user(None, None, "198.51.100.11", browser)
    assert by_path["/t/6"]["session_id"] == "s-3"
    # AND every line came out once, a request held until its client's session began or the first line
    # more than that many seconds after it, and the report says so
    assert [event["resource"] for event in events] == [
        *("/", "/style.css", "/t/9", "/t/3", "/t/4", "/t/1", "/t/2", "/t/5", "/t/6"),
    ]
    assert (importer.report.joined_sessions, importer.report.client_sessions) == (2, 3)
    assert "5 request(s) without a session id: 2 joined the session their client started within 5 min" in (
        importer.report.summary()
    )
    assert importer.report.session_hint() is None  # (too few requests to say)
    # AND a log whose session column is empty on most requests says to check it
    empty = LogImporter("custom", log_format='%h %t "%r" %>s "%{User-Agent}i" "%{forum_sid}C"')
    list(empty.import_lines([line(second, f"198.51.100.{second}", browser, "/", "-") for second in range(30)], "x"))
    assert "30 of 30 requests carried no session id" in (empty.report.session_hint() or "")


def test_a_log_without_client_addresses_says_what_that_costs() -> None:
    # GIVEN a log shared with its addresses removed, a session cookie column before the user agent
    log_format = (
        '[$time_local] "$request" $status $body_bytes_sent "$http_referer" $cookie_PHPSESSID "$http_user_agent"'
    )
    agent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
    lines = [
        f'[02/Mar/2026:10:00:{second:02d} +0000] "GET /p/{second} HTTP/1.1" 200 512 "-" '
        f'{"-" if second in (0, 15, 27) else "a1b2c3"} "{agent}"'
        for second in range(30)
    ]
    importer = LogImporter("custom", log_format=log_format)
    events = [labeled.event for labeled in importer.import_lines(lines, "x")]
    # THEN every line is read, its sessions keyed by the cookie, and the import warns what is missing
    assert len(events) == 30
    sessions = {event["resource"]: event["session_id"] for event in events}
    assert sessions["/p/0"] == sessions["/p/1"] == "a1b2c3"  # the landing page joined the session it began
    assert sessions["/p/15"] == sessions["/p/27"] == identify_user(None, None, None, agent)
    hints = importer.report.hints()
    assert len(hints) == 1
    assert "none of 30 requests has a client address" in hints[0]
    assert "keyed by its user agent alone" in hints[0]
    # AND the summary says what a request without a session id was keyed by
    assert "keyed by their client (user agent alone: the log has no addresses)" in importer.report.summary()
    # AND when most requests carry no session id, the hint on that says the same of their client
    sessionless = LogImporter("custom", log_format=log_format)
    list(sessionless.import_lines([text.replace(" a1b2c3 ", " - ") for text in lines], "x"))
    assert "keyed by their client (user agent alone: the log has no addresses)" in " ".join(sessionless.report.hints())
    # AND a log with addresses has no such hint, nor events with theirs, nor CSIC 2010, which has none
    addressed = LogImporter("custom", log_format="$remote_addr " + log_format)
    list(addressed.import_lines([f"198.51.100.7 {text}" for text in lines], "x"))
    assert addressed.report.hints() == []
    wire = LogImporter("jsonl")
    list(wire.import_lines([json.dumps(event | {"ip": "198.51.100.7"}) for event in events], "x"))
    assert (wire.report.events, wire.report.hints()) == (30, [])


def test_addresses_that_are_not_ips_are_kept_and_the_import_says_what_they_cost() -> None:
    # GIVEN a combined log whose address column holds malformed IPv6 addresses on 25 lines, a proxy's
    # "unknown" on one, and IPs on the rest
    def line(address: str, second: int) -> str:
        time = f"02/Mar/2026:10:{second // 60:02d}:{second % 60:02d} +0000"
        return f'{address} - - [{time}] "GET /q/{second} HTTP/1.1" 200 5 "-" "Fx"'

    lines = [line(f"2a01:cb1ab:{number:x}::1", number) for number in range(25)]
    lines += [line("unknown", 30), *(line(f"198.51.100.{number}", 40 + number) for number in range(30))]
    importer = LogImporter("combined")
    events = [labeled.event for labeled in importer.import_lines(lines, "access.log")]
    # THEN every line is an event, the text kept beside no address
    assert len(events) == 56
    unreadable = [event for event in events if event["ip"] is None]
    assert len(unreadable) == 26
    assert unreadable[0]["properties"]["remote_addr"] == "2a01:cb1ab:0::1"
    # AND the import says how many, the first, and what keying them by their agent alone does
    (hint,) = [hint for hint in importer.report.hints() if "not an IP" in hint]
    assert hint.startswith("26 request(s) have an address that is not an IP (the first: '2a01:cb1ab:0::1')")
    assert "keyed by its user agent alone" in hint
    # AND a handful (a proxy's odd "unknown") is not worth a word
    few = LogImporter("combined")
    list(few.import_lines(lines[20:], "access.log"))
    assert not [hint for hint in few.report.hints() if "not an IP" in hint]


def test_a_site_that_sets_its_session_cookie_at_login_keeps_a_visit_whole_across_it() -> None:
    # GIVEN a Django site's log, whose session cookie is set at login only: each of 30 visitors
    # fetches the login form, fails once 20 s later and gets in 20 s after that, all without a
    # cookie, and browses on with the session the login began; and a crawler that never has one
    importer = LogImporter("custom", log_format='%h %t "%r" %>s "%{User-Agent}i" "%{sessionid}C"')
    browser, crawler = "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0", "Googlebot/2.1"

    def line(second: int, address: str, agent: str, request: str, status: int, cookie: str) -> str:
        moment = datetime(2026, 11, 2, 10, tzinfo=UTC) + timedelta(seconds=second)
        return f'{address} [{moment:%d/%b/%Y:%H:%M:%S +0000}] "{request} HTTP/2.0" {status} "{agent}" "{cookie}"'

    lines = []
    for visitor in range(30):
        address, start = f"198.51.100.{visitor + 1}", 120 * visitor
        lines += [
            line(start, address, browser, "GET /accounts/login/", 200, "-"),
            line(start + 20, address, browser, "POST /accounts/login/", 200, "-"),
            line(start + 40, address, browser, "POST /accounts/login/", 302, "-"),
            line(start + 41, address, browser, "GET /dashboard/", 200, f"s-{visitor}"),
            line(start + 30, "203.0.113.66", crawler, f"GET /courses/{visitor}/", 200, "-"),
        ]
    lines.sort(key=lambda text: text.split("[", 1)[1])
    # WHEN it imports them
    events = [item.event for item in importer.import_lines(lines, "learnly.log")]
    sessions: dict[str, set[str]] = {}
    for event in events:
        if event["ip"] != "203.0.113.66":
            sessions.setdefault(event["ip"], set()).add(event["session_id"])
    # THEN the first visitors' form and failed try are read as clients keeping no cookies, until 20
    # sessions have begun right after their logins: from then on, each visit is its session, whole
    assert len(sessions["198.51.100.1"]) == 2
    assert all(sessions[f"198.51.100.{visitor + 1}"] == {f"s-{visitor}"} for visitor in range(21, 30))
    # AND the crawler's requests stay its own, and the summary says what the site does
    assert {event["session_id"] for event in events if event["ip"] == "203.0.113.66"} == {
        identify_user(None, None, "203.0.113.66", crawler)
    }
    assert "sessions began right after their client's login without one: the site sets its session cookie at login" in (
        importer.report.summary()
    )


def test_a_cookieless_request_joins_only_a_session_that_starts_and_only_while_it_is_recent() -> None:
    importer = LogImporter("custom", log_format='%h %u %t "%r" %>s "%{User-Agent}i" "%{sid}C"')
    agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0"

    def line(second: int, path: str, cookie: str, user: str = "-") -> str:
        stamp = f"02/Nov/2026:10:{second // 60:02d}:{second % 60:02d} +0000"
        return f'198.51.100.7 {user} [{stamp}] "GET {path} HTTP/2.0" 200 "{agent}" "{cookie}"'

    lines = [
        line(0, "/a/1", "s-A"),  # a person's session under way behind an office address
        line(30, "/b/landing", "-"),  # a colleague with the same browser build arrives...
        line(31, "/a/2", "s-A"),  # ...while the first goes on
        line(32, "/b/1", "s-B"),  # and the colleague's session starts
        line(1900, "/c/landing", "-", "carol"),  # later, a user the log names itself
        line(1915, "/c/favicon.ico", "-", "carol"),
        line(1917, "/c/1", "s-C", "carol"),
        line(2000, "/d/style.css", "s-D"),  # a page's styles, finished and logged before the page...
        line(2001, "/d/landing", "-"),  # ...whose response set the cookie they carry
        line(2100, "/e/1", "s-E"),  # and another session of the client starting soon after
    ]
    events = {item.event["resource"]: item.event for item in importer.import_lines(lines, "office.log")}
    # THEN the landing page joins the session that starts after it, not the one under way
    assert events["/b/landing"]["session_id"] == "s-B"
    # AND a client's request without a cookie more than COOKIELESS_JOIN_SECONDS after another says the
    # other kept none: that one is the client's own, the later joins the session that starts; the
    # log's own user is kept
    client = identify_user(None, None, "198.51.100.7", agent)
    assert events["/c/landing"]["session_id"] == client
    assert (events["/c/favicon.ico"]["session_id"], events["/c/favicon.ico"]["user_id"]) == ("s-C", "carol")
    # AND a landing page logged just after its session's first request began that session
    assert events["/d/landing"]["session_id"] == "s-D"


OFFICE_FORMAT = '%h %t "%r" %>s "%{User-Agent}i" "%{sid}C"'
OFFICE_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0"
OFFICE_CLIENT = identify_user(None, None, "198.51.100.7", OFFICE_AGENT)


def office_line(second: int, path: str, cookie: str) -> str:
    """A request of an office's one address and browser build, ``second`` s after 10:00."""
    stamp = f"02/Nov/2026:{10 + second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d} +0000"
    return f'198.51.100.7 [{stamp}] "GET {path} HTTP/2.0" 200 "{OFFICE_AGENT}" "{cookie}"'


def test_a_client_that_starts_many_sessions_is_several_people_whose_cookieless_requests_stay_its_own() -> None:
    # GIVEN a new customer's staff behind one office address with one browser build, each signing
    # up (pages without a cookie) before their session starts
    importer = LogImporter("custom", log_format=OFFICE_FORMAT)
    line = office_line
    lines = [
        line(0, "/a/invite", "-"),
        line(20, "/a/home", "s-A"),  # the first colleague's session starts
        line(100, "/b/invite", "-"),
        line(130, "/b/home", "s-B"),  # the second's
        line(200, "/c/invite", "-"),
        line(205, "/d/invite", "-"),  # a fourth arrives while the third signs up
        line(230, "/c/home", "s-C"),  # the third session in half an hour: the client is a crowd
        line(300, "/e/invite", "-"),
        line(305, "/e/home", "s-E"),  # even just before a session's first request
        line(308, "/e/style.css", "-"),  # or just after it
    ]
    events = {item.event["resource"]: item.event for item in importer.import_lines(lines, "office.log")}
    # THEN the first two colleagues' sign-ups join their sessions, as one person's would
    assert (events["/a/invite"]["session_id"], events["/b/invite"]["session_id"]) == ("s-A", "s-B")
    # AND once the client has started three sessions, what comes without a cookie stays the client's
    # own: whose it was, of the people behind it, the log cannot tell
    client = OFFICE_CLIENT
    for path in ("/c/invite", "/d/invite", "/e/invite", "/e/style.css"):
        assert events[path]["session_id"] == events[path]["user_id"] == client, path
    assert (importer.report.joined_sessions, importer.report.client_sessions) == (2, 4)


def test_a_client_is_several_people_only_while_its_sessions_are_recent() -> None:
    # GIVEN a client that starts three sessions in a few minutes, then none for half an hour
    importer = LogImporter("custom", log_format=OFFICE_FORMAT)
    line = office_line
    lines = [
        line(0, "/1", "s-1"),
        line(100, "/2", "s-2"),
        line(200, "/3", "s-3"),
        line(300, "/crowd/landing", "-"),  # three starts in the last 30 minutes: several people
        line(2050, "/later/landing", "-"),  # the starts are more than 30 minutes old
        line(2060, "/later/1", "s-4"),
        line(2100, "/5", "s-5"),
        line(2110, "/6", "s-6"),  # three starts in the window again
        line(2120, "/again/landing", "-"),
        line(4000, "/7", "s-7"),
        line(4040, "/8", "s-8"),
        line(5700, "/9", "s-9"),  # three starts, but the first two more than 30 minutes before...
        line(5850, "/last/landing", "-"),
        line(5855, "/last/1", "s-10"),  # ...this one, the second in the window
    ]
    events = {item.event["resource"]: item.event for item in importer.import_lines(lines, "office.log")}
    client = OFFICE_CLIENT
    # THEN the landing page while three starts are recent is the client's own, the one after they
    # left the window joins its session, and the client is several people again when it starts three
    assert events["/crowd/landing"]["session_id"] == client
    assert events["/later/landing"]["session_id"] == "s-4"
    assert events["/again/landing"]["session_id"] == client
    assert events["/last/landing"]["session_id"] == "s-10"


def test_a_client_that_named_two_users_has_its_logins_attributed_again_half_an_hour_later() -> None:
    gateway = "100.64.7.1"
    lines = [
        api_line(0, gateway, "GET", "/accounts", 200, sub="user-a"),
        api_line(30, gateway, "GET", "/accounts", 200, sub="user-b"),  # several people until 31:00
        api_line(60, gateway, "POST", "/auth/login", 401),
        api_line(62, gateway, "GET", "/accounts", 200, sub="user-c"),
        api_line(1_900, gateway, "POST", "/auth/login", 401),  # 31:40: one person's again, as far as is known
        api_line(1_902, gateway, "GET", "/accounts", 200, sub="user-c"),
    ]
    importer = LogImporter("custom", log_format=API_LOG_TEMPLATE)
    events = [item.event for item in importer.import_lines(lines, "api.json")]
    logins = [event["user_id"] for event in events if event["event_type"] == "login_failed"]
    assert logins == [identify_user(None, None, gateway, "okhttp/4.12.0"), "user-c"]


def test_the_import_holds_requests_no_longer_than_the_backtest_reorders() -> None:
    # (a landing page held for its session comes out up to LANDING_SECONDS after later lines, and a
    # login held for its user ATTRIBUTION_SECONDS: the backtest still replays them in order)
    assert max(LANDING_SECONDS, ATTRIBUTION_SECONDS) <= REORDER_SECONDS


API_LOG_TEMPLATE = (
    '{"ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod",'
    '"path":"$context.path","status":"$context.status","agent":"$context.identity.userAgent",'
    '"sub":"$context.authorizer.claims.sub"}'
)


def api_line(
    second: int, ip: str, method: str, path: str, status: int, sub: str = "-", agent: str = "okhttp/4.12.0"
) -> str:
    return (
        f'{{"ip":"{ip}","requestTime":"02/Nov/2026:10:{second // 60:02d}:{second % 60:02d} +0000",'
        f'"httpMethod":"{method}","path":"{path}","status":"{status}","agent":"{agent}","sub":"{sub}"}}'
    )


def test_a_login_before_the_token_names_its_user_is_that_user_s() -> None:
    # GIVEN an API's log, whose login is answered before the token that names the user exists: a
    # customer who mistypes once, logs in and reads their accounts; a stuffing attempt nothing
    # follows; and a client whose next call with a user comes two minutes after its login
    lines = [
        api_line(0, "203.0.113.9", "GET", "/accounts", 200, sub="user-a"),  # (the log names users)
        api_line(10, "198.51.100.7", "POST", "/auth/login", 401),
        api_line(12, "198.51.100.7", "POST", "/auth/login", 200),
        api_line(13, "198.51.100.7", "GET", "/accounts", 200, sub="user-b"),
        api_line(14, "192.0.2.44", "POST", "/auth/login", 401, agent="python-requests/2.31.0"),
        api_line(20, "192.0.2.80", "POST", "/auth/login", 200),
        api_line(140, "192.0.2.80", "GET", "/accounts", 200, sub="user-c"),
    ]
    importer = LogImporter("custom", log_format=API_LOG_TEMPLATE)
    # WHEN it is imported
    events = [item.event for item in importer.import_lines(lines, "api.json")]
    # THEN the customer's two logins are their account's, in the log's order
    by_second = {event["occurred_at"][14:19]: event for event in events}
    assert (by_second["00:10"]["user_id"], by_second["00:10"]["event_type"]) == ("user-b", "login_failed")
    assert (by_second["00:12"]["user_id"], by_second["00:12"]["event_type"]) == ("user-b", "login_succeeded")
    assert [event["occurred_at"] for event in events] == sorted(event["occurred_at"] for event in events)
    # AND the stuffing attempt, and the login too long before its client's next call, stay their client's
    assert by_second["00:14"]["user_id"] == identify_user(None, None, "192.0.2.44", "python-requests/2.31.0")
    assert by_second["00:20"]["user_id"] == identify_user(None, None, "192.0.2.80", "okhttp/4.12.0")
    assert importer.report.attributed_to_users == 2
    assert "2 login(s) without a user are the user's their session or client named within 60 s" in (
        importer.report.summary()
    )


# A site's log whose application names the user in a response header, its session by a cookie.
SESSION_USER_FORMAT = (
    '$remote_addr [$time_local] "$request" $status "$http_user_agent" $cookie_sid $upstream_http_x_user_id'
)


def session_line(second: int, path: str, sid: str, user: str = "-", ip: str = "203.0.113.9") -> str:
    """A GET of ``path`` in ``SESSION_USER_FORMAT``, ``second`` seconds after 09:00."""
    moment = datetime(2026, 11, 2, 9, tzinfo=UTC) + timedelta(seconds=second)
    return f'{ip} [{moment:%d/%b/%Y:%H:%M:%S +0000}] "GET {path} HTTP/1.1" 200 "{FIREFOX}" {sid} {user}'


def test_a_session_s_requests_without_a_user_are_the_user_it_named_before_them() -> None:
    # GIVEN a site whose application names the user in a response header, and whose proxy serves the
    # styles and a player's video segments itself (no header): a learner's session names them, then
    # watches a video for forty minutes; another session names no one; and a cookieless client names
    # a user, then fetches a file (a client may be several people)
    lines = [
        session_line(0, "/courses/7/", "s-1", "learner-1"),
        session_line(1, "/static/app.css", "s-1"),
        *(session_line(6 + 60 * minute, f"/video/7/seg_{minute:05d}.ts", "s-1") for minute in range(40)),
        session_line(2500, "/static/app.css", "s-2", ip="198.51.100.7"),
        session_line(2600, "/courses/", "-", "learner-3", ip="192.0.2.44"),
        session_line(2601, "/static/app.css", "-", ip="192.0.2.44"),
    ]
    importer = LogImporter("custom", log_format=SESSION_USER_FORMAT)
    # WHEN it is imported
    events = [item.event for item in importer.import_lines(lines, "learnly.log")]
    by_ip: dict[str, list[str]] = {}
    for event in events:
        by_ip.setdefault(event["ip"], []).append(event["user_id"])
    # THEN the learner's session's every request is theirs, the video's last segment too, forty minutes on
    assert set(by_ip["203.0.113.9"]) == {"learner-1"}
    # AND the session that named no one, and the cookieless client's file, stay their own
    assert by_ip["198.51.100.7"] == ["session:s-2"]
    assert by_ip["192.0.2.44"][1] == identify_user(None, None, "192.0.2.44", FIREFOX)
    assert importer.report.session_requests_attributed == 41
    assert "41 other request(s) without a user are the user's their session named within 30 min before them" in (
        importer.report.summary()
    )


def test_a_session_s_requests_in_the_minute_before_it_names_a_user_are_that_user_s() -> None:
    # GIVEN a single-page app whose proxy serves its shell itself (no user header) a second before the
    # app's first call names the user; a session that browsed two minutes before its user's login;
    # and a session that never names anyone
    lines = [
        session_line(0, "/", "s-0", "someone-else", ip="192.0.2.1"),  # (the log names users)
        session_line(10, "/", "s-1"),
        session_line(11, "/graphql/Me", "s-1", "shopper-1"),
        session_line(20, "/books/1", "s-2", ip="198.51.100.7"),
        session_line(150, "/books/2", "s-2", ip="198.51.100.7"),
        session_line(160, "/account", "s-2", "shopper-2", ip="198.51.100.7"),
        session_line(30, "/books/3", "s-3", ip="192.0.2.44"),
    ]
    importer = LogImporter("custom", log_format=SESSION_USER_FORMAT)
    events = sorted(
        (event["session_id"], event["resource"], event["user_id"])
        for event in (item.event for item in importer.import_lines(lines, "a.log"))
    )
    # THEN the shell is its shopper's, and so is the page the second session read ten seconds before
    # naming its user; its page of two minutes before stays the session's, as does the anonymous one
    assert events == [
        ("s-0", "/", "someone-else"),
        ("s-1", "/", "shopper-1"),
        ("s-1", "/graphql/Me", "shopper-1"),
        ("s-2", "/account", "shopper-2"),
        ("s-2", "/books/1", "session:s-2"),
        ("s-2", "/books/2", "shopper-2"),
        ("s-3", "/books/3", "session:s-3"),
    ]
    assert importer.report.session_requests_attributed == 2


def test_a_login_stays_its_client_s_when_the_client_named_several_users() -> None:
    # GIVEN an API's log where one address and app build is a carrier's gateway: two customers'
    # calls in a minute, then a failed login and a third customer's call after it
    gateway = "100.64.7.1"
    lines = [
        api_line(0, gateway, "GET", "/accounts", 200, sub="user-a"),
        api_line(30, gateway, "GET", "/accounts", 200, sub="user-b"),
        api_line(60, gateway, "POST", "/auth/login", 401),
        api_line(62, gateway, "GET", "/accounts", 200, sub="user-c"),
        api_line(70, "198.51.100.7", "POST", "/auth/login", 401),  # one customer's own phone
        api_line(72, "198.51.100.7", "GET", "/accounts", 200, sub="user-d"),
    ]
    importer = LogImporter("custom", log_format=API_LOG_TEMPLATE)
    events = {
        event["occurred_at"][14:19]: event
        for event in (item.event for item in importer.import_lines(lines, "api.json"))
    }
    # THEN the gateway's failed login is no customer's (which of them mistyped, the log cannot
    # tell), and the customer on their own phone's is theirs
    assert events["01:00"]["user_id"] == identify_user(None, None, gateway, "okhttp/4.12.0")
    assert events["01:10"]["user_id"] == "user-d"
    assert (importer.report.attributed_to_users, importer.report.shared_logins) == (1, 1)
    assert "1 stay their session's or client's, which named several users within 30 min" in (importer.report.summary())


def test_a_site_s_login_is_the_user_its_session_names_after_it() -> None:
    # GIVEN a site whose log names the user only on the pages after the login, and a neighbour behind
    # the same address with the same browser, in another session, who logs in at the same time
    log_format = '$remote_addr $remote_user [$time_local] "$request" $status "$http_user_agent" $cookie_sid'
    lines = [
        f'203.0.113.9 alice [02/Nov/2026:09:00:00 +0000] "GET /account HTTP/1.1" 200 "{FIREFOX}" s-0',
        f'203.0.113.9 - [02/Nov/2026:10:00:00 +0000] "POST /login HTTP/1.1" 302 "{FIREFOX}" s-1',
        f'203.0.113.9 - [02/Nov/2026:10:00:01 +0000] "POST /login HTTP/1.1" 401 "{FIREFOX}" s-2',
        f'203.0.113.9 bob [02/Nov/2026:10:00:02 +0000] "GET /account HTTP/1.1" 200 "{FIREFOX}" s-1',
    ]
    # WHEN it is imported
    events = [item.event for item in LogImporter("custom", log_format=log_format).import_lines(lines, "site.log")]
    # THEN the login is bob's, and the neighbour's failed one stays their session's
    logins = {event["session_id"]: event["user_id"] for event in events if event["event_type"].startswith("login")}
    assert logins == {"s-1": "bob", "s-2": "session:s-2"}


def test_a_log_out_of_time_order_is_told_to_be_sorted() -> None:
    # GIVEN two hours' files concatenated as they are, the second's first lines an hour before the
    # first's last (as CloudFront's several files an hour), and the same lines sorted
    def line(minute: int) -> str:
        stamp = f"02/Nov/2026:{10 + minute // 60:02d}:{minute % 60:02d}:00 +0000"
        return f'203.0.113.5 - - [{stamp}] "GET /p HTTP/1.1" 200 1 "-" "curl/8.5.0"'

    concatenated = [line(minute) for minute in (*range(60, 120), *range(0, 60))]
    importer = LogImporter("combined")
    list(importer.import_lines(concatenated, "cloudfront.log"))
    in_order = LogImporter("combined")
    list(in_order.import_lines([line(minute) for minute in range(120)], "sorted.log"))
    # THEN the import counts the lines that step back and says to sort it, naming the first
    hint = importer.report.order_hint() or ""
    assert "60 of 120 requests came more than 5 min before a line read earlier (up to 119 min" in hint
    assert "the first at cloudfront.log:61" in hint
    assert hint in importer.report.hints()
    # AND the sorted log says nothing
    assert in_order.report.order_hint() is None


def test_a_log_file_out_of_time_order_is_read_in_time_order(tmp_path: Path) -> None:
    # GIVEN a dataset's two logs concatenated as they are: its people's visits a day after its bot's,
    # each visit's landing page without the cookie its response set
    agent = "Mozilla/5.0 (X11; Linux x86_64; rv:69.0) Gecko/20100101 Firefox/69.0"

    def line(day: int, second: int, path: str, session: str) -> str:
        stamp = f"{day:02d}/Oct/2019:10:{second // 60:02d}:{second % 60:02d} +0000"
        return f'[{stamp}] "GET {path} HTTP/1.1" 200 {session} "{agent}"\n'

    bots = [line(15, 0, "/", "-"), line(15, 1, "/a", "bot-1"), line(15, 30, "/b", "bot-1")]
    people = [line(14, 0, "/", "-"), line(14, 1, "/c", "person-1"), line(16, 0, "/d", "person-1")]
    log = tmp_path / "access.log"
    log.write_text("".join(bots + people))
    importer = LogImporter("custom", log_format='[$time_local] "$request" $status $session_id "$http_user_agent"')
    # WHEN the file is imported
    events = [item.event for item in importer.import_file(str(log))]
    # THEN its events come in time order, each landing page in its own visit
    times = [event["occurred_at"] for event in events]
    assert times == sorted(times)
    assert [(event["resource"], event["session_id"]) for event in events] == [
        ("/", "person-1"),
        ("/c", "person-1"),
        ("/", "bot-1"),
        ("/a", "bot-1"),
        ("/b", "bot-1"),
        ("/d", "person-1"),
    ]
    # AND the summary says it was put in order, with nothing left to do
    summary = importer.report.summary()
    assert (
        "2 request(s) came more than 5 min before a line read earlier (up to 1440 min; the first at access.log:4)"
        in (summary)
    )
    assert importer.report.order_hint() is None


def test_sorting_by_time_through_temporary_files_keeps_ties_in_their_order() -> None:
    # GIVEN items out of order, with ties, more than a run holds
    items = [(second % 7, position) for position, second in enumerate(range(50, 0, -3))]
    # WHEN they are sorted a run of four at a time
    result = [item for _, item in sorted_by_time(items, lambda item: float(item[0]), run_size=4)]
    # THEN they come out as a stable sort puts them
    assert result == sorted(items, key=lambda item: item[0])


def test_a_line_dated_years_ahead_is_told_as_a_clock_error_not_as_files_to_sort() -> None:
    # GIVEN a log in order but for one line a server wrote with its clock three years ahead
    def line(stamp: str) -> str:
        return f'203.0.113.5 - - [{stamp}] "GET /p HTTP/1.1" 200 1 "-" "curl/8.5.0"'

    stamps = [f"02/Nov/2026:10:{minute:02d}:00 +0000" for minute in range(60)]
    stamps.insert(30, "02/Nov/2029:10:30:00 +0000")
    importer = LogImporter("combined")
    events = list(importer.import_lines([line(stamp) for stamp in stamps], "access.log"))
    # THEN every line is read, and the hint names the line ahead, its date and its jump
    assert len(events) == 61
    hint = importer.report.order_hint() or ""
    assert "30 of 61 requests came before access.log:31, which is dated 2029-11-02 10:30:00 UTC, 1,096 days" in hint
    assert "a clock that was wrong" in hint
    assert "sort it by time first" not in hint
    # AND two files of a quiet site joined out of order, the first's last request two days after its
    # one before, the second's a day after that one, are told to be sorted
    quiet = [line(f"0{day}/Nov/2026:10:{minute:02d}:00 +0000") for day, minute in ((2, 0), (4, 0))]
    quiet += [line(f"03/Nov/2026:10:{minute:02d}:00 +0000") for minute in range(30)]
    joined = LogImporter("combined")
    list(joined.import_lines(quiet, "access.log"))
    assert "sort it by time first" in (joined.report.order_hint() or "")


def test_a_session_s_first_request_logged_after_its_second_is_still_the_session_s() -> None:
    # GIVEN a visitor's landing page (no cookie yet) and next two pages, the landing page logged half
    # a minute after the page that followed it (as Firehose delivers a web firewall's records)
    def line(second: int, path: str, cookie: str) -> str:
        stamp = f"16/Nov/2026:00:{second // 60:02d}:{second % 60:02d} +0000"
        return f'86.150.3.4 [{stamp}] "GET {path} HTTP/2.0" 200 "Fx" "{cookie}"'

    logged = [line(30, "/jobs/2", "jb_sid=aaaa1111"), line(0, "/jobs/1", "-"), line(60, "/jobs/3", "jb_sid=aaaa1111")]
    importer = LogImporter("custom", log_format='%h %t "%r" %>s "%{User-Agent}i" "%{Cookie}i"', session_cookie="jb_sid")
    # WHEN it is imported
    events = [item.event for item in importer.import_lines(logged, "waf.log")]
    # THEN the requests come out in time order, the landing page in the session it started
    assert [(event["resource"], event["session_id"]) for event in events] == [
        ("/jobs/1", "aaaa1111"),
        ("/jobs/2", "aaaa1111"),
        ("/jobs/3", "aaaa1111"),
    ]


def test_a_log_whose_time_steps_back_does_not_hold_cookieless_requests_to_its_end() -> None:
    # GIVEN a crawler's cookieless requests after a line an hour later (files concatenated out of order)
    importer = LogImporter("custom", log_format='%h %t "%r" %>s "%{User-Agent}i" "%{sid}C"')
    lines = ['203.0.113.5 [02/Nov/2026:11:00:00 +0000] "GET /later HTTP/2.0" 200 "curl/8.5.0" "-"']
    lines += [
        f'203.0.113.66 [02/Nov/2026:10:{minute:02d}:00 +0000] "GET /t/{minute} HTTP/2.0" 200 "Googlebot/2.1" "-"'
        for minute in range(30)
    ]
    read: list[int] = []

    def counted() -> Iterator[str]:
        for number, text in enumerate(lines, 1):
            read.append(number)
            yield text

    # WHEN it imports them, noting how many lines it had read when each event came out
    came_out = [(item.event["resource"], len(read)) for item in importer.import_lines(counted(), "x")]
    # THEN each older request came out with the next line read (time is the newest seen), and only
    # what the last line left held waited for the end (the hour later request, in time order)
    assert [resource for resource, _ in came_out] == [*(f"/t/{minute}" for minute in range(30)), "/later"]
    assert [at_line for _, at_line in came_out] == [*range(3, 32), 31, 31]


def test_custom_format_without_ip_and_with_another_time_format() -> None:
    importer = LogImporter(
        "custom",
        log_format="[$time_local] $cookie_sid $request_method $request_uri $status $request_time",
        time_format="%Y-%m-%d %H:%M:%S.%f",
    )
    lines = [
        "[2026-11-02 10:00:00.250] abc123 POST /checkout/confirm 200 0.125",
        "[2026-11-02 10:00:01.000] - GET /products/SKU-00001 404 0.002",
        "[2026-11-02 10:00:02] abc123 GET / 200 0.1",
    ]
    events = [item.event for item in importer.import_lines(lines, "custom.log")]
    assert events[0]["occurred_at"] == "2026-11-02T10:00:00.250000Z"  # no offset in the format: UTC
    assert (events[0]["event_type"], events[0]["user_id"], events[0]["ip"]) == ("purchase", "session:abc123", None)
    assert events[0]["properties"] == {"latency_ms": 125.0, "method": "POST"}
    assert events[1]["user_id"] == "anonymous"
    assert events[1]["status"] == 404
    assert importer.report.unparseable == 1  # the third line has no fraction of a second


def test_of_several_cookie_columns_the_session_is_the_one_named_for_it() -> None:
    # GIVEN a log with the session's cookie, then the cart's
    importer = LogImporter("custom", log_format="$remote_addr [$time_local] $cookie_PHPSESSID $cookie_cart $request")
    (item,) = importer.import_lines(['198.51.100.7 [02/Nov/2026:10:00:00 +0000] s-1 c-9 "GET / HTTP/1.1"'], "a.log")
    # THEN the session is PHPSESSID's, and the cart's cookie is not kept (cookies may hold credentials)
    assert (item.event["session_id"], item.event["user_id"]) == ("s-1", "session:s-1")
    assert "cookie_cart" not in item.event["properties"]
    # AND $session_id, where the log has it, comes before any cookie
    assert session_column(("cookie_sid", "session_id")) == "session_id"
    assert session_column(("cookie_cart", "cookie_theme")) == "cookie_cart"
    assert session_column(("cookie_sidebar", "cookie_app_sid")) == "cookie_app_sid"  # not a name merely holding "sid"
    assert session_column(("remote_addr",)) is None


def test_a_site_that_shows_the_form_again_on_a_failed_login_names_that_status(tmp_path: Path) -> None:
    from model.backtest import parse_args, read_source

    # GIVEN a site that answers a failed login with 200 (the form again) and a successful one with 302
    lines = [
        f'198.51.100.7 - - [02/Nov/2026:10:00:0{second} +0000] "POST /account/login HTTP/1.1" {status} 5 "-" "Firefox"'
        for second, status in enumerate((200, 302, 401))
    ]
    log = tmp_path / "access.log"
    log.write_text("\n".join(lines) + "\n")
    # THEN by default its failed login reads as a success; with --failed-login-status 200, as a failure
    read = [event["event_type"] for event in read_source(str(log), format="combined")]
    assert read == ["login_succeeded", "login_succeeded", "login_failed"]
    arguments = parse_args(["--model", "m", "--test", str(log), "--out", str(tmp_path), "--failed-login-status", "200"])
    told = read_source(str(log), format="combined", failed_login_statuses=arguments.failed_login_status)
    assert [event["event_type"] for event in told] == ["login_failed", "login_succeeded", "login_failed"]
    assert infer_event_type("POST", "/login", 200, failed_statuses={200}) == "login_failed"


def test_an_import_whose_submitted_logins_never_fail_says_which_option_to_check() -> None:
    # GIVEN a site that redirects every submitted login, failed or not (25 of them), and one that
    # answers some with 401
    def logins(statuses: list[int]) -> list[str]:
        return [
            f'198.51.100.{number} - - [02/Nov/2026:10:00:{number:02d} +0000] "POST /login HTTP/1.1" {status} 5 "-" "Fx"'
            for number, status in enumerate(statuses)
        ]

    redirects, mixed, told, told_alike = (
        LogImporter("combined"),
        LogImporter("combined"),
        LogImporter("combined", failed_login_statuses=[200]),
        LogImporter("combined", failed_login_statuses=[302]),
    )
    for importer, lines in (
        (redirects, logins([302] * 25)),
        (mixed, logins([302] * 24 + [401])),
        (told, logins([200] * 5 + [302] * 20)),
        (told_alike, logins([302] * 25)),
    ):
        list(importer.import_lines(lines, "access.log"))
    # THEN the first says none read as failed, names the path, the statuses and the option, and that
    # an app answering both alike is the surges' to watch; the next two say nothing
    (hint,) = redirects.report.login_hints()
    assert "25 login(s) submitted to /login and none read as failed (statuses: 302 (25))" in hint
    assert "pass --failed-login-status STATUS," in hint
    assert "the surges of logins watch them" in hint
    assert mixed.report.login_hints() == []
    assert told.report.login_hints() == []
    # AND where the option made every login failed (one status for them all), it says to drop it if
    # the site answers a successful login alike (a login API answering 200 either way)
    (alike,) = told_alike.report.login_hints()
    assert "every one of the 25 login(s) submitted to /login read as failed by --failed-login-status" in alike
    assert "drop the option" in alike
    # AND one failure beside a hundred and fifty logins read as succeeded (an app's token call that
    # answered 401 beside a form that answers 200) does not silence it
    app_and_form = LogImporter("combined")
    form_and_app = [
        f'198.51.100.{number} - - [02/Nov/2026:10:{number // 60:02d}:{number % 60:02d} +0000] "POST /login HTTP/1.1" '
        f'{401 if number == 150 else 200} 5 "-" "Fx"'
        for number in range(151)
    ]
    list(app_and_form.import_lines(form_and_app, "access.log"))
    (hint,) = app_and_form.report.login_hints()
    assert "151 login(s) submitted to /login and only 1 read as failed" in hint

    # AND a monitor's synthetic login every five minutes is left out of the share: beside people
    # failing one login in twelve (401s, read right), it says nothing; without them, it says what
    # it left out
    def monitored(people: list[int]) -> list[str]:
        monitor = [
            f'192.0.2.9 - - [02/Nov/2026:{number // 12:02d}:{number % 12 * 5:02d}:00 +0000] "POST /login HTTP/1.1" '
            '200 5 "-" "Datadog/Synthetics"'
            for number in range(288)
        ]
        persons = [
            f'203.0.113.{number} - - [02/Nov/2026:12:{number % 60:02d}:30 +0000] "POST /login HTTP/1.1" '
            f'{status} 5 "-" "Fx"'
            for number, status in enumerate(people)
        ]
        return sorted(monitor + persons, key=lambda line: line.split("[")[1])

    with_people, alone = LogImporter("combined"), LogImporter("combined")
    list(with_people.import_lines(monitored([200] * 22 + [401] * 2), "access.log"))
    list(alone.import_lines(monitored([200] * 30), "access.log"))
    assert with_people.report.login_hints() == []
    (hint,) = alone.report.login_hints()
    assert (
        "318 login(s) submitted to /login and none of the 50 left when the 268 logins beyond 20 of 1 client(s) "
        "that logged in more often are left out"
    ) in hint
    # AND where the option gave a status that no login there was answered with (a second factor's step
    # that redirects either way), it says so rather than to pass the option again
    given_in_vain = LogImporter("combined", failed_login_statuses=[("/login", 200)])
    list(given_in_vain.import_lines(logins([302] * 25), "access.log"))
    (hint,) = given_in_vain.report.login_hints()
    assert "25 login(s) submitted to /login and none read as failed: --failed-login-status gives it 200" in hint
    assert "drop the option for it" in hint
    assert "pass --failed-login-status" not in hint
    # (a status given for every path is not this path's: the usual advice, to give it one of its own)
    everywhere = LogImporter("combined", failed_login_statuses=[200])
    list(everywhere.import_lines(logins([302] * 25), "access.log"))
    (hint,) = everywhere.report.login_hints()
    assert "gives it" not in hint
    assert "pass --failed-login-status STATUS" in hint

    # AND where most logins read as failed because their clients fetched the form again after the
    # redirect (the import's own reading: a site's good logins misread), it says to check what the site
    # shows after one that gets in, and that an attack explains it too
    def redirected(number: int, then: str) -> list[str]:
        stamp = f"02/Nov/2026:10:{number:02d}:0"
        return [
            f'198.51.100.{number} - - [{stamp}0 +0000] "POST /login HTTP/1.1" 302 5 "-" "Fx"',
            f'198.51.100.{number} - - [{stamp}1 +0000] "GET {then} HTTP/1.1" 200 5 "-" "Fx"',
        ]

    mostly = LogImporter("combined")
    back = [line for number in range(25) for line in redirected(number, "/login" if number < 21 else "/home")]
    list(mostly.import_lines(back, "access.log"))
    (hint,) = mostly.report.login_hints()
    assert "21 of the 25 login(s) submitted to /login (84%; statuses: 302 (25)) read as failed because" in hint
    assert "a credential-stuffing attack through the form explains it too" in hint
    # AND a handful of logins is too few to say anything
    few = LogImporter("combined")
    list(few.import_lines(logins([302] * 5), "access.log"))
    assert few.report.login_hints() == []


def test_a_failed_login_status_for_a_path_no_login_was_submitted_to_is_named() -> None:
    # GIVEN logins submitted to /login, and an option naming a path that saw none (a mistyped path, or
    # one the import does not read as a login)
    lines = [
        f'198.51.100.{number} - - [02/Nov/2026:10:00:{number:02d} +0000] "POST /login HTTP/1.1" 302 5 "-" "Fx"'
        for number in range(3)
    ]
    importer = LogImporter("combined", failed_login_statuses=[("/signin.php", 200), ("/Login/", 200)])
    list(importer.import_lines(lines, "access.log"))
    # THEN the import names the path, and where the logins went, rather than take it silently
    (hint,) = importer.report.login_hints()
    assert hint.startswith("--failed-login-status names /signin.php, where no login was submitted")
    assert "logins were submitted to /login (3)" in hint
    # AND a log without any login says so
    empty = LogImporter("combined", failed_login_statuses=[("/signin.php", 200)])
    list(empty.import_lines(lines[:0], "access.log"))
    (hint,) = empty.report.login_hints()
    assert "no login was submitted to any path" in hint


def test_wordpress_brute_force_reads_as_failed_logins_without_an_option() -> None:
    # GIVEN a WordPress site's log: a botnet posting to wp-login.php (the form again, 200) and its
    # owner logging in (a redirect to wp-admin)
    lines = [
        f'203.0.113.{number} - - [02/Nov/2026:10:00:{number:02d} +0000] "POST /wp-login.php HTTP/1.1" 200 4 "-" "Fx"'
        for number in range(30)
    ] + ['198.51.100.9 - - [02/Nov/2026:10:01:00 +0000] "POST /wp-login.php HTTP/1.1" 302 0 "-" "Fx"']
    importer = LogImporter("combined")
    types = [labeled.event["event_type"] for labeled in importer.import_lines(lines, "access.log")]
    # THEN the botnet's attempts are failed logins and the owner's got in, with nothing to warn of
    assert types == ["login_failed"] * 30 + ["login_succeeded"]
    assert importer.report.login_hints() == []
    # AND a log holding the brute force alone, every login failed with the form again, is not told to
    # drop an option it was never given
    alone = LogImporter("combined")
    list(alone.import_lines(lines[:30], "access.log"))
    assert alone.report.login_hints() == []


def test_a_form_that_fails_with_200_beside_an_app_that_succeeds_with_200_is_read_per_path(tmp_path: Path) -> None:
    # GIVEN a Django form that fails with 200 (the form again) and succeeds with 302, and an app's
    # token call that fails with 401 and succeeds with 200; 40 logins to each, a quarter failing
    def line(number: int, path: str, status: int) -> str:
        return (
            f"198.51.100.{number % 200} - - [02/Nov/2026:10:{number // 60:02d}:{number % 60:02d} +0000] "
            f'"POST {path} HTTP/1.1" {status} 5 "-" "Fx"'
        )

    form = [line(number, "/accounts/login/", 200 if number % 4 == 0 else 302) for number in range(40)]
    app = [line(40 + number, "/v1/auth/token", 401 if number % 4 == 0 else 200) for number in range(40)]
    log = tmp_path / "access.log"
    log.write_text("\n".join(form + app) + "\n")

    def read(*options: str) -> tuple[list[str], list[str]]:
        arguments = parse_args(["--model", "m", "--test", str(log), "--out", str(tmp_path), *options])
        importer = LogImporter("combined", failed_login_statuses=arguments.failed_login_status)
        events = [item.event["event_type"] for item in importer.import_lines(log.read_text().splitlines(), "a.log")]
        told = read_source(str(log), format="combined", failed_login_statuses=arguments.failed_login_status)
        assert [event["event_type"] for event in told] == events  # the backtest reads it the same
        return events, importer.report.login_hints()

    # WHEN it is read as it is, with 200 for every path, and with 200 for the form's path alone
    plain, plain_hints = read()
    everywhere, everywhere_hints = read("--failed-login-status", "200")
    scoped, scoped_hints = read("--failed-login-status", "/accounts/login/=200")
    # THEN read as it is, the form's failures read as successes, and the hint names its path
    assert plain.count("login_failed") == 10
    (hint,) = plain_hints
    assert "40 login(s) submitted to /accounts/login/ and none read as failed" in hint
    assert "--failed-login-status /accounts/login/=STATUS" in hint
    # AND with 200 everywhere, every app login reads as failed, and the hint says to scope the status
    assert everywhere[40:] == ["login_failed"] * 40
    (hint,) = everywhere_hints
    assert "every one of the 40 login(s) submitted to /v1/auth/token read as failed" in hint
    assert "--failed-login-status PATH=STATUS" in hint
    # AND with 200 for the form alone, each path's logins read right, and nothing is left to say
    assert scoped[:40] == ["login_failed" if number % 4 == 0 else "login_succeeded" for number in range(40)]
    assert scoped[40:] == ["login_failed" if number % 4 == 0 else "login_succeeded" for number in range(40)]
    assert scoped_hints == []
    # AND the path may be given in another case or without its trailing slash, as login paths are read
    assert read("--failed-login-status", "/Accounts/Login=200") == (scoped, [])
    # AND a malformed value is refused with the reason
    for bad, reason in (("accounts/login=200", "must start with '/'"), ("/login=ok", "HTTP status")):
        with pytest.raises(SystemExit):
            parse_args(["--model", "m", "--test", str(log), "--out", str(tmp_path), "--failed-login-status", bad])
        with pytest.raises(argparse.ArgumentTypeError, match=reason):
            failed_login_status(bad)


def test_an_apache_logformat_reads_the_same_events_as_its_nginx_equivalent() -> None:
    # GIVEN the combined lines, and Apache's combined LogFormat as a user pastes it from httpd.conf
    apache = LogImporter("custom", log_format='%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\"')
    nginx = LogImporter("combined")
    # WHEN both read them THEN the events are the same, odd lines included
    lines = COMBINED_SAMPLE
    assert [item.event for item in apache.import_lines(lines, "x")] == [
        item.event for item in nginx.import_lines(lines, "x")
    ]
    assert apache.report.events == nginx.report.events > 5
    assert apache.report.unparseable == nginx.report.unparseable


# A line of the web-bot datasets of Iliou et al. (2021): addresses anonymised to "-", the session id
# between the referer and the user agent, "-" on a visit's first request (the cookie is set after it).
WEB_BOT_DATASET_LINE = (
    '- - [14/Oct/2019:11:13:25 +0300] "GET /team/ HTTP/1.1" 200 21155 "https://www.google.gr/" '
    '7dkirqtnnkqn6evu9terns10p3 "Mozilla/5.0 (X11; Linux x86_64; rv:69.0) Gecko/20100101 Firefox/69.0"'
)


def test_credentials_in_a_query_are_not_kept() -> None:
    # GIVEN a Moodle app's web-service call with its token, a password reset's link, a signed URL,
    # an AJAX call with its CSRF key, and a search
    requests = [
        "/webservice/rest/server.php?wstoken=5f1c0a9e3b7d4c2a&wsfunction=core_webservice_get_site_info",
        "/login/forgot_password.php?token=Zx81kq0wP2",
        "/files/report.pdf?X-Amz-Credential=AKIA%2F20261106&X-Amz-Signature=9b2e",
        "/lib/ajax/service.php?sesskey=E0aIYCukAM&info=core_fetch_notifications",
        "/search?q=token+ring&design=1",
    ]
    lines = [
        f'203.0.113.9 - - [06/Nov/2026:10:00:0{n} +0000] "GET {path} HTTP/1.1" 200 1 "-" "curl/8.5.0"'
        for n, path in enumerate(requests)
    ]
    importer = LogImporter("combined")
    # WHEN they are imported
    resources = [item.event["resource"] for item in importer.import_lines(lines, "access.log")]
    # THEN each credential's value is replaced, its name and the other parameters kept
    assert resources == [
        "/webservice/rest/server.php?wstoken=REDACTED&wsfunction=core_webservice_get_site_info",
        "/login/forgot_password.php?token=REDACTED",
        "/files/report.pdf?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED",
        "/lib/ajax/service.php?sesskey=REDACTED&info=core_fetch_notifications",
        "/search?q=token+ring&design=1",
    ]
    # AND the summary counts the requests that carried one
    assert "4 request(s) carried a credential in their query" in importer.report.summary()


def test_a_format_written_as_a_dataset_describes_its_columns_reads_them() -> None:
    # GIVEN the format as a dataset's README may put it: Apache's %t in brackets of its own, or nginx
    # variables with the session column named as the dataset names it
    formats = [
        '%h %l [%t] "%r" %>s %b "%{Referer}i" %{SESSIONID}C "%{User-Agent}i"',
        # (as the web-bot dataset's README writes it: headers without their letter, the session
        # column by its bare name)
        '%h %l [%t] "%r" %>s %b "%{Referer}" SESSIONID "%{User-Agent}"',
        '%h %l [%t] "%r" %>s %b "%{Referer}i" sessionid "%{User-Agent}i"',
        '$remote_addr $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" $sessionid '
        '"$http_user_agent"',
        '$remote_addr $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" $SESSION '
        '"$http_user_agent"',
    ]
    for log_format in formats:
        importer = LogImporter("custom", log_format=log_format)
        # WHEN it reads a line of the dataset
        (event,) = [item.event for item in importer.import_lines([WEB_BOT_DATASET_LINE], "access_1.log")]
        # THEN the time, the request, the referer and the session are read, the session as the user
        assert event["occurred_at"] == "2019-10-14T08:13:25.000000Z", log_format
        assert (event["resource"], event["status"]) == ("/team/", 200)
        assert (event["session_id"], event["user_id"]) == (
            "7dkirqtnnkqn6evu9terns10p3",
            "session:7dkirqtnnkqn6evu9terns10p3",
        ), log_format
        assert event.get("ip") is None
    # AND nginx's TLS session id is no visit's
    assert session_column(("ssl_session_id", "remote_addr")) is None
    # AND a name without its kind's letter that need not be a request header is refused by name
    with pytest.raises(LogFormatError, match=r"%\{X-Trace\} has no letter after it .* %\{X-Trace\}i for a request"):
        LogImporter("custom", log_format='%h %l [%t] "%r" %>s %b "%{Referer}" %{X-Trace} "%{User-Agent}"')


def test_an_apache_logformat_with_a_session_cookie_its_own_time_and_durations() -> None:
    # GIVEN an Apache format with a strftime time, the URI and query apart, a session cookie and %D
    importer = LogImporter(
        "custom", log_format='%{%Y-%m-%d %H:%M:%S}t %a %m %U%q %>s %D "%{User-agent}i" %{JSESSIONID}C'
    )
    line = '2026-11-02 10:00:00 203.0.113.9 GET /search?q=toys 200 51234 "curl/8.5.0" 8f14e45fceea167a5a36dedd4bea2543'
    # WHEN it reads a line
    (event,) = [item.event for item in importer.import_lines([line], "x")]
    # THEN each directive landed where its nginx variable does
    assert event["occurred_at"] == "2026-11-02T10:00:00.000000Z"
    assert (event["ip"], event["user_agent"], event["status"]) == ("203.0.113.9", "curl/8.5.0", 200)
    assert event["resource"] == "/search?q=toys"
    assert event["session_id"] == "8f14e45fceea167a5a36dedd4bea2543"
    assert event["properties"]["method"] == "GET"
    assert event["properties"]["latency_ms"] == 51.234
    # AND epoch times in seconds or milliseconds read alike
    seconds = LogImporter("custom", log_format="%{sec}t %h %>s")
    millis = LogImporter("custom", log_format="%{msec}t %h %>s")
    (at_second,) = seconds.import_lines(["1762077600 203.0.113.9 200"], "x")
    (at_milli,) = millis.import_lines(["1762077600000 203.0.113.9 200"], "x")
    assert at_second.event["occurred_at"] == at_milli.event["occurred_at"] == "2025-11-02T10:00:00.000000Z"
    # AND a note the application sets with its user (Moodle's apacheloguser, %{MOODLEUSER}n) is the user
    moodle = LogImporter("custom", log_format='%h %{MOODLEUSER}n %t "%r" %>s %{MoodleSession}C')
    (logged_in,) = moodle.import_lines(
        ['203.0.113.9 1411 [09/Nov/2026:00:03:44 +0000] "GET /my/ HTTP/1.1" 200 s-7'], "x"
    )
    assert (logged_in.event["user_id"], logged_in.event["session_id"]) == ("1411", "s-7")


def test_custom_format_with_user_id_event_type_and_epoch_time() -> None:
    importer = LogImporter("custom", log_format="$msec $user_id $event_type $request_uri $tenant")
    (item,) = importer.import_lines(["1793613600.5 u-1 coupon_redeemed /api/coupons acme"], "app.log")
    assert item.event["occurred_at"] == "2026-11-02T10:00:00.500000Z"
    assert (item.event["user_id"], item.event["event_type"]) == ("u-1", "coupon_redeemed")
    assert item.event["properties"] == {"tenant": "acme"}


def test_json_lines_keep_their_ids_and_derive_missing_ones_stably() -> None:
    lines = [
        '{"event_id":"0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9","occurred_at":"2026-11-02T10:00:00Z",'
        '"event_type":"login_failed","user_id":"u-1","ip":"198.51.100.7"}',
        '{"occurred_at":"2026-11-02T10:00:01+01:00","event_type":"page_view","user_id":"u-2"}',
        '{"event_type":"page_view","user_id":"u-3"}',
        '{"occurred_at":"2026-11-02T10:00:02Z","event_type":"page_view","user_id":"u-4","colour":"red"}',
        "[1, 2]",
        "{not json",
    ]
    importer = LogImporter("jsonl")
    events = [item.event for item in importer.import_lines(lines, "events.jsonl")]
    assert events[0]["event_id"] == "0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9"
    assert events[1]["event_id"] == derived_event_id("events.jsonl", 2, lines[1])
    assert events[1]["occurred_at"] == "2026-11-02T09:00:01.000000Z"
    again = [item.event for item in LogImporter("jsonl").import_lines(lines, "events.jsonl")]
    assert again == events
    report = importer.report
    assert (report.events, report.unparseable, report.invalid) == (2, 3, 1)
    assert report.invalid_examples[0][2] == "colour: unknown field; put extra data in 'properties'"
    assert report.unparseable_examples[0][2].startswith("occurred_at: required field is missing")


def test_csic2010_lines_get_synthetic_times_and_anomalies_are_labeled(tmp_path: Path) -> None:
    (tmp_path / "normal.txt").write_bytes(
        b"get http://localhost:8080/tienda1/index.jsp\n"
        b"post http://localhost:8080/tienda1/publico/autenticar.jsp?modo=entrar&login=choong&pwd=d1se3ci\xf3n\n"
    )
    (tmp_path / "anomalous.txt").write_bytes(
        b"get http://localhost:8080.old\r\n"
        b"get http://localhost:8080/tienda1/publico/anadir.jsp?id=2&cantidad=';+drop+table+usuarios\rx\r\n"
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    importer = LogImporter("csic2010", start=start)
    items = list(importer.import_file(str(tmp_path)))
    assert [item.label for item in items] == [None, None, CSIC_ANOMALOUS_LABEL, CSIC_ANOMALOUS_LABEL]
    assert [item.event["occurred_at"][11:19] for item in items] == ["00:00:00", "00:00:01", "00:00:02", "00:00:03"]
    assert [item.event["event_type"] for item in items] == ["page_view", "login_attempt", "page_view", "add_to_cart"]
    assert items[1].event["resource"].endswith("pwd=d1se3ci\ufffdn")
    assert items[2].event["resource"] == "/.old"
    assert items[3].event["resource"].endswith("usuarios\rx")  # a CR inside a line stays in it
    assert {item.event["user_id"] for item in items} == {"anonymous"}
    assert items[1].event["properties"] == {"method": "POST"}


def test_a_gzip_compressed_log_imports_the_same_events_as_the_plain_one(tmp_path: Path) -> None:
    # GIVEN the same CSIC 2010 lines in a plain folder and, gzip-compressed, in another
    lines = b"get http://localhost:8080/tienda1/index.jsp\nget http://localhost:8080/tienda1/x.jsp?id=';--\n"
    for folder in ("plain", "packed"):
        (tmp_path / folder).mkdir()
    (tmp_path / "plain" / "normal.txt").write_bytes(lines[:44])
    (tmp_path / "plain" / "anomalous.txt").write_bytes(lines[44:])
    (tmp_path / "packed" / "normal.txt.gz").write_bytes(gzip.compress(lines[:44]))
    (tmp_path / "packed" / "anomalous.txt.gz").write_bytes(gzip.compress(lines[44:]))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # WHEN both folders are imported
    plain = list(LogImporter("csic2010", start=start).import_file(str(tmp_path / "plain")))
    packed = list(LogImporter("csic2010", start=start).import_file(str(tmp_path / "packed")))
    # THEN the events are identical, event ids (derived from the file name without .gz) included
    assert [item.label for item in packed] == [None, CSIC_ANOMALOUS_LABEL]
    assert packed == plain


CSIC_FOLDER = str(Path(__file__).resolve().parents[1] / "data/csic2010")


@pytest.mark.skipif(not os.path.isdir(CSIC_FOLDER), reason="the CSIC 2010 data set is not on this machine")
def test_the_whole_csic2010_data_set_imports_one_event_per_line() -> None:
    importer = LogImporter("csic2010")
    labels = [item.label for item in importer.import_file(CSIC_FOLDER)]
    assert importer.report.unparseable == 0
    assert importer.report.invalid == 0
    assert labels.count(None) == 36_000
    assert labels.count(CSIC_ANOMALOUS_LABEL) == 25_065
    assert importer.report.hints() == []  # (no address to add: the data set has none)


def test_user_identification_order() -> None:
    assert identify_user("u-1", "s-1", "192.0.2.1", "ua") == "u-1"
    assert identify_user(None, "s-1", "192.0.2.1", "ua") == "session:s-1"
    assert identify_user(None, None, "192.0.2.1", "ua").startswith("client:")
    assert identify_user(None, None, "192.0.2.1", "ua") != identify_user(None, None, "192.0.2.1", "other")
    assert identify_user(None, None, None, None) == "anonymous"


def test_event_type_inference() -> None:
    assert infer_event_type("GET", "/static/app.js", 200) == "static_asset"
    assert infer_event_type("GET", "/login", 200) == "page_view"
    assert infer_event_type("POST", "/login", 302) == "login_succeeded"
    assert infer_event_type("POST", "/api/v1/sessions", 401) == "login_failed"
    assert infer_event_type("POST", "/v1/auth/token", 401) == "login_failed"
    # (a server error says nothing of the credentials: the outcome is unknown)
    assert infer_event_type("POST", "/v1/auth/token", 503) == "login_attempt"
    assert infer_event_type("POST", "/wp-login.php", 502) == "login_attempt"
    assert infer_event_type("POST", "/login", 500, failed_statuses={500}) == "login_failed"
    # (an app's one-time code sent by SMS is no login; the code verified is)
    assert infer_event_type("POST", "/v1/auth/otp", 200) == "page_view"
    assert infer_event_type("POST", "/api/auth/otp/send", 200) == "api_call"
    assert infer_event_type("POST", "/v1/auth/otp/verify", 401) == "login_failed"
    # (an API's other calls under its login path are no logins)
    assert infer_event_type("POST", "/v1/auth/logout", 200) == "logout"
    assert infer_event_type("POST", "/v1/auth/refresh", 200) == "page_view"
    # (a second factor's push or set-up is no login; verifying its code is the login's last step)
    assert infer_event_type("POST", "/api/auth/mfa/push", 200) == "api_call"
    assert infer_event_type("POST", "/auth/mfa/setup/confirm", 200) == "page_view"
    assert infer_event_type("POST", "/api/auth/mfa/verify", 401) == "login_failed"
    assert infer_event_type("POST", "/auth/mfa/push/verify", 401) == "login_failed"
    assert infer_event_type("POST", "/auth/mfa/sms/send", 200) == "page_view"
    assert infer_event_type("POST", "/auth/mfa/setup.json", 200) == "page_view"
    assert infer_event_type("POST", "/push/login", 401) == "login_failed"
    assert infer_event_type("POST", "/v1/auth/password-reset", 202) == "password_reset"
    # (and a login's own steps stay logins: a password step, a second factor)
    assert infer_event_type("POST", "/u/login/password", 401) == "login_failed"
    assert infer_event_type("POST", "/login/verify", 302) == "login_succeeded"
    # (and a login page's own name with its extension: PHP's, ASP.NET's, JSP's)
    assert infer_event_type("POST", "/login.php", 200, failed_statuses={200}) == "login_failed"
    # (a login page the site does not have is a scanner's probe, unless the site fails logins so)
    assert infer_event_type("POST", "/console/login/LoginForm.jsp", 404) == "page_view"
    assert infer_event_type("POST", "/owa/auth/logon.aspx", 410) == "page_view"
    assert infer_event_type("POST", "/login", 405) == "login_failed"  # (AWS WAF's CAPTCHA: a login refused)
    assert infer_event_type("POST", "/api/login", 404, failed_statuses={404}) == "login_failed"
    assert infer_event_type("POST", "/oauth/token/login", 400) == "login_failed"  # (OAuth's invalid_grant)
    assert infer_event_type("POST", "/api/login", 404) == "api_call"  # (read as the rest of the API is)
    assert infer_event_type("POST", "/account/login.aspx", 302) == "login_succeeded"
    assert infer_event_type("GET", "/logout.php", 302) == "logout"
    # (WordPress's login page, as WordPress answers it: the form again when it failed, a redirect when in)
    assert infer_event_type("POST", "/wp-login.php", 200) == "login_failed"
    assert infer_event_type("POST", "/wp-login.php", 302) == "login_succeeded"
    assert infer_event_type("POST", "/blog/wp-login.php", 302, "action=login") == "login_succeeded"
    assert infer_event_type("POST", "/wp-login.php", 403) == "login_failed"  # (a security plugin's block)
    assert infer_event_type("POST", "/wp-login.php", None) == "login_attempt"
    assert infer_event_type("GET", "/wp-login.php", 200) == "page_view"
    assert infer_event_type("POST", "/wp-login.php", 404) == "page_view"  # (no WordPress: a scanner's probe)
    assert infer_event_type("GET", "/wp-login.php", 302, "action=logout&_wpnonce=3f1a") == "logout"
    assert infer_event_type("POST", "/wp-login.php", 302, "action=lostpassword") == "password_reset"
    assert infer_event_type("GET", "/wp-login.php", 200, "action=lostpassword") == "page_view"
    assert infer_event_type("GET", "/wp-login.php", 200, "action=rp&key=Zx81&login=ann") == "password_reset"
    assert infer_event_type("POST", "/wp-login.php", 302, "action=register") == "signup"
    assert infer_event_type("POST", "/wp-login.php", 302, "action=postpass") == "page_view"
    # (and WooCommerce's customers' login, on its account page, answered as WordPress answers it)
    assert infer_event_type("POST", "/my-account/", 200) == "login_failed"
    assert infer_event_type("POST", "/shop/my-account/", 302) == "login_succeeded"
    assert infer_event_type("GET", "/my-account/", 200) == "page_view"
    assert infer_event_type("POST", "/my-account/edit-account/", 302) == "page_view"
    assert infer_event_type("POST", "/my-account/", 404) == "page_view"
    assert infer_event_type("PUT", "/my-account/", 200) == "page_view"  # (no WordPress form: a PUT)
    assert infer_event_type("POST", "/api/v1/my-account/", 200) == "api_call"
    assert infer_event_type("POST", "/settings/my-account", 200) == "page_view"
    # (and WordPress's search, on a folder's path)
    assert infer_event_type("GET", "/", 200, "s=hiking+boots") == "search"
    assert infer_event_type("GET", "/page/2/", 200, "post_type=product&s=boots") == "search"
    assert infer_event_type("GET", "/products.php", 200, "s=price") == "page_view"
    assert infer_event_type("POST", "/account/password-reset", 302) == "password_reset"
    # (the form fetched is a page; the link the reset sent, its token in the query, is the reset)
    assert infer_event_type("GET", "/account/password-reset", 200) == "page_view"
    assert infer_event_type("GET", "/account/password-reset", 200, "token=8f2c") == "password_reset"
    assert infer_event_type(None, "/account/password-reset", 200) == "password_reset"  # (no method logged)
    # (ASP.NET's own: its bundles of scripts and styles, the second factor's code verified, MVC 5's logout)
    bundle_hash = "v=FVs3ACwOLIVInrAl5sdzR2jrCDmVOWFbZMY6g6Q0ulE1"
    assert infer_event_type("GET", "/bundles/jquery", 200, bundle_hash) == "static_asset"
    assert infer_event_type("GET", "/Content/css", 200, bundle_hash) == "static_asset"
    assert infer_event_type("GET", "/bundles/summer-pack", 200) == "page_view"
    assert infer_event_type("POST", "/Account/VerifyCode", 200, failed_statuses={200}) == "login_failed"
    assert infer_event_type("POST", "/Account/VerifyCode", 302, failed_statuses={200}) == "login_succeeded"
    assert infer_event_type("GET", "/Account/VerifyCode", 200, "provider=Phone") == "page_view"
    assert infer_event_type("POST", "/Identity/Account/LoginWith2fa", 302) == "login_succeeded"
    assert infer_event_type("POST", "/Identity/Account/LoginWithRecoveryCode", 302) == "login_succeeded"
    assert infer_event_type("POST", "/Account/SendCode", 302) == "page_view"
    assert infer_event_type("POST", "/api/sms/verifyCode", 400) == "api_call"  # (an SMS's, a captcha's: no login)
    assert infer_event_type("POST", "/captcha/verifycode", 200) == "page_view"
    assert infer_event_type("POST", "/Account/LogOff", 302) == "logout"
    assert infer_event_type("POST", "/checkout", 200) == "purchase"
    assert infer_event_type("GET", "/api/v2/orders/1", 200) == "api_call"
    assert infer_event_type(None, None, 400) == "bad_request"


def test_bad_formats_are_rejected_with_the_reason() -> None:
    with pytest.raises(LogFormatError, match="followed directly by another variable"):
        compile_format("$remote_addr$status")
    with pytest.raises(LogFormatError, match="unsupported time directive %Q"):
        compile_format("[$time_local] $status", "%Q")
    with pytest.raises(LogFormatError, match="has no \\$variable"):
        compile_format("plain text")
    with pytest.raises(LogFormatError, match="unsupported Apache directive '%Z'"):
        LogImporter("custom", log_format="%h %t %Z")
    # (Apache's directives beside an nginx variable: read as nginx's, no line would match)
    with pytest.raises(LogFormatError, match=r"mixes Apache's directives \(%h\) with nginx's \$variables"):
        LogImporter("custom", log_format='%h %l %u %t "%r" %>s %b %D $user_id')
    with pytest.raises(LogFormatError, match="more than one time directive"):
        LogImporter("custom", log_format="%{%Y-%m-%d}t %h %{%H:%M:%S}t")
    with pytest.raises(LogFormatError, match="differs from the format string's"):
        LogImporter("custom", log_format="%{%Y-%m-%d %H:%M:%S}t %h", time_format="%d.%m.%Y %H:%M")
    with pytest.raises(LogFormatError, match="unknown format"):
        LogImporter("syslog")
    with pytest.raises(LogFormatError, match="needs a format string"):
        LogImporter("custom")
    with pytest.raises(LogFormatError, match=r"begins with '\{' but is not a JSON template"):
        LogImporter("custom", log_format='{"ip": "$remote_addr",')
    with pytest.raises(LogFormatError, match="reads \\$remote_addr from two keys"):
        LogImporter("custom", log_format='{"ip": "$remote_addr", "client": {"ip": "$remote_addr"}}')
    with pytest.raises(LogFormatError, match="has no \\$variable in any of its values"):
        LogImporter("custom", log_format='{"ip": "remote_addr"}')
    importer = LogImporter("custom", log_format="$remote_addr $status")
    assert list(importer.import_lines(["192.0.2.1 200"], "x")) == []
    assert importer.report.unparseable_examples[0][2].startswith("no time")


def test_simulated_events_round_trip_through_json_lines_unchanged() -> None:
    # GIVEN simulated events written as the simulate command writes them
    events = [item.event for item in Simulator(seed=21, users=100).events(count=500)]
    lines = [encode_event(event).decode() for event in events]
    # WHEN they are imported back as JSON lines
    imported = [item.event for item in LogImporter("jsonl").import_lines(lines, "sim.jsonl")]
    # THEN nothing changed
    assert imported == events


def test_simulated_events_round_trip_through_a_combined_access_log() -> None:
    # GIVEN simulated events rendered as combined log lines (seconds, no user id, no session)
    events = [item.event for item in Simulator(seed=22, users=100).events(count=500)]
    lines = []
    for event in events:
        moment = parse_timestamp(event["occurred_at"])
        agent = event["user_agent"].replace('"', '\\"')
        method = event["properties"]["method"]
        lines.append(
            f'{event["ip"]} - - [{moment:%d/%b/%Y:%H:%M:%S +0000}] "{method} {event["resource"]} HTTP/1.1" '
            f'{event["status"]} 123 "-" "{agent}"'
        )
    # WHEN the log is imported
    imported = [item.event for item in LogImporter("combined").import_lines(lines, "sim.log")]
    # THEN every request comes back with its address, agent, resource, status and second
    assert len(imported) == len(events)
    for original, back in zip(events, imported, strict=True):
        assert (back["ip"], back["user_agent"], back["resource"], back["status"]) == (
            original["ip"],
            original["user_agent"],
            original["resource"],
            original["status"],
        )
        assert back["occurred_at"][:19] == original["occurred_at"][:19]
        assert back["user_id"] == identify_user(None, None, original["ip"], original["user_agent"])
    # AND the inferred types are the simulator's, except clicks, which a log cannot tell from page views
    for original, back in zip(events, imported, strict=True):
        expected = "page_view" if original["event_type"] == "click" else original["event_type"]
        assert back["event_type"] == expected


BEHIND_PROXY = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
    '"$http_user_agent" "$http_x_forwarded_for"'
)


def _proxied(peer: str, forwarded: str, second: int = 0) -> str:
    return f'{peer} - - [02/Nov/2026:10:00:{second:02d} +0000] "GET / HTTP/1.1" 200 5 "-" "Fx" "{forwarded}"'


def test_behind_a_load_balancer_the_client_is_the_first_forwarded_hop_not_a_trusted_proxy() -> None:
    importer = LogImporter("custom", log_format=BEHIND_PROXY)
    cases = [
        # (peer, X-Forwarded-For, client): the load balancer (private) appended the client
        ("10.0.1.17", "198.51.100.7", "198.51.100.7"),
        # the client wrote a header of its own: only the hop the load balancer added is believed
        ("10.0.1.17", "203.0.113.9, 198.51.100.7", "198.51.100.7"),
        # two proxies of the site (an ingress behind the load balancer), a port, IPv6 in brackets
        ("127.0.0.1", "198.51.100.7:51234, 10.0.3.3", "198.51.100.7"),
        ("fd00::5", "[2001:db8::1]:443", "2001:db8::1"),
        # a public peer is the client, whatever header it sent (a bot cannot choose its address)
        ("192.0.2.44", "198.51.100.7", "192.0.2.44"),
        # a garbage hop stops the walk at the last address that could be placed
        ("10.0.1.17", "198.51.100.7, unknown", "10.0.1.17"),
        # no header: the request came straight to the proxy (a health check)
        ("10.0.1.17", "-", "10.0.1.17"),
        # every default proxy network: shared address space, link-local, IPv6 link-local
        ("100.64.3.9", "198.51.100.7", "198.51.100.7"),
        ("169.254.0.9", "198.51.100.7", "198.51.100.7"),
        ("fe80::1", "198.51.100.7", "198.51.100.7"),
        # a dual-stack listener's IPv4-mapped peer is the IPv4 balancer; mapped hops read as IPv4
        ("::ffff:10.0.1.17", "::ffff:198.51.100.7", "198.51.100.7"),
        # empty entries and spaces are no hops; a port that is not a number makes no address
        ("10.0.1.17", "198.51.100.7 ,, 10.0.3.3 ,", "198.51.100.7"),
        ("10.0.1.17", "198.51.100.7:http", "10.0.1.17"),
        # a peer that is not an address ("-"): nothing says which hops were added by proxies
        ("-", "198.51.100.7", None),
    ]
    events = [
        labeled.event
        for labeled in importer.import_lines([_proxied(peer, forwarded) for peer, forwarded, _ in cases], "access.log")
    ]
    assert [event["ip"] for event in events] == [client for _, _, client in cases]
    # AND the proxy's address is kept beside the header when the client was found behind it
    assert events[1]["properties"]["remote_addr"] == "10.0.1.17"
    assert events[1]["properties"]["http_x_forwarded_for"] == "203.0.113.9, 198.51.100.7"
    assert "remote_addr" not in events[4]["properties"]
    assert events[10]["properties"]["remote_addr"] == "::ffff:10.0.1.17"
    # AND clients behind one load balancer are told apart (users keyed by address and agent)
    assert events[0]["user_id"] == events[1]["user_id"] != events[4]["user_id"]


def test_a_forwarded_header_that_names_no_address_is_said_so_with_the_proxy_taken_for_its_clients() -> None:
    # GIVEN requests through a load balancer, most with the client's address in X-Forwarded-For and
    # 24 with an IPv6 address of seven groups (written wrong by whatever set the header)
    lines = [_proxied("10.20.0.5", f"198.51.100.{n}", n % 60) for n in range(30)]
    lines += [_proxied(f"10.20.0.{5 + n % 2}", f"2001:db8:{n}:1:2:3:4", n % 60) for n in range(24)]
    importer = LogImporter("custom", log_format=BEHIND_PROXY)
    events = [labeled.event for labeled in importer.import_lines(lines, "access.log")]
    # THEN those requests' client is the balancer, as the walk from the header's right end must stop
    malformed = [event for event in events if event["properties"]["http_x_forwarded_for"].startswith("2001:")]
    assert len(malformed) == 24
    assert {event["ip"] for event in malformed} == {"10.20.0.5", "10.20.0.6"}
    # AND the import says so, with the first such header and the proxies taken for the clients
    hint = importer.report.unplaced_client_hint()
    assert hint is not None
    assert hint.startswith("24 request(s) have an X-Forwarded-For entry that is not an address")
    assert "'2001:db8:0:1:2:3:4'" in hint
    assert "(10.20.0.5, 10.20.0.6)" in hint
    assert hint in importer.report.hints()
    # (a header of addresses alone, or none, says nothing; nor does "unknown" from a client the
    # balancer could not see, in a few requests)
    plain = LogImporter("custom", log_format=BEHIND_PROXY)
    list(plain.import_lines([*lines[:30], _proxied("10.20.0.5", "-"), _proxied("10.20.0.5", "unknown")], "a.log"))
    assert plain.report.unplaced_client_hint() is None
    assert plain.report.unplaced_clients == 1
    # (a "-" among the hops stops the walk as any entry that is not an address does, and is counted)
    dashed = LogImporter("custom", log_format=BEHIND_PROXY)
    list(dashed.import_lines([_proxied("10.20.0.5", "198.51.100.7, -", n) for n in range(25)], "a.log"))
    assert dashed.report.unplaced_clients == 25


def test_logins_answered_as_a_missing_page_are_probes_unless_the_path_answers_logins_too() -> None:
    # GIVEN a scanner posting to a login page the site does not have, and a login API that answers
    # logins with 200 and 401, and an account it does not know with 404
    def line(second: int, path: str, status: int) -> str:
        moment = f"02/Nov/2026:10:{second // 60:02d}:{second % 60:02d} +0000"
        return f'198.51.100.{second} - - [{moment}] "POST {path} HTTP/1.1" {status} 5 "-" "Fx"'

    lines = [line(n, "/console/login/LoginForm.jsp", 404) for n in range(25)]
    lines += [line(100 + n, "/api/login", 200 if n % 2 else 401) for n in range(30)]
    lines += [line(200 + n, "/api/login", 404) for n in range(25)]
    importer = LogImporter("combined")
    types = Counter(labeled.event["event_type"] for labeled in importer.import_lines(lines, "access.log"))
    # THEN no 404 is a failed login (the scanner raises no wave), and the import says where 404 may be one
    assert types == Counter({"login_failed": 15, "login_succeeded": 15, "api_call": 25, "page_view": 25})
    (hint,) = importer.report.login_probe_hints()
    assert hint.startswith("25 login(s) submitted to /api/login were answered 404 or 410")
    assert "though 30 other(s) there were answered as logins" in hint
    assert "--failed-login-status /api/login=404" in hint
    assert hint in importer.report.hints()


def test_a_cdn_in_front_is_believed_only_when_named() -> None:
    line = _proxied("198.51.100.20", "192.0.2.44, 198.51.100.20", 1)
    plain = LogImporter("custom", log_format=BEHIND_PROXY)
    told = LogImporter("custom", log_format=BEHIND_PROXY, real_ip_from=[ip_network("198.51.100.0/24")])
    assert next(plain.import_lines([line], "a.log")).event["ip"] == "198.51.100.20"
    assert next(told.import_lines([line], "a.log")).event["ip"] == "192.0.2.44"


def test_x_real_ip_is_one_address_set_by_the_proxy() -> None:
    importer = LogImporter("custom", log_format=BEHIND_PROXY.replace("x_forwarded_for", "x_real_ip"))
    lines = [_proxied("10.0.1.17", "198.51.100.7"), _proxied("10.0.1.17", "203.0.113.9, 198.51.100.7")]
    assert [labeled.event["ip"] for labeled in importer.import_lines(lines, "a.log")] == ["198.51.100.7", "10.0.1.17"]


def test_a_log_with_only_the_forwarded_header_reads_it_from_its_right_end() -> None:
    importer = LogImporter(
        "custom", log_format='"$http_x_forwarded_for" [$time_local] "$request" $status $body_bytes_sent'
    )
    line = '"203.0.113.9, 198.51.100.7, 10.0.3.3" [02/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5'
    assert next(importer.import_lines([line], "a.log")).event["ip"] == "198.51.100.7"


def test_an_import_from_private_addresses_says_to_read_the_forwarded_header() -> None:
    # GIVEN 25 requests through a load balancer, logged without and with the client's header
    lines = [_proxied(f"10.0.{n % 2}.17", f"198.51.100.{n}", n) for n in range(25)]
    without = LogImporter("combined")
    with_header = LogImporter("custom", log_format=BEHIND_PROXY)
    list(without.import_lines(lines, "access.log"))
    list(with_header.import_lines(lines, "access.log"))
    # THEN the first says where the client's address is; the second has it and says nothing
    hint = without.report.proxy_hint()
    assert hint is not None
    assert "25 of 25 requests come from private-network addresses (10.0.0.17, 10.0.1.17)" in hint
    assert "$http_x_forwarded_for" in hint
    assert with_header.report.proxy_hint() is None
    # AND a header that never leaves the private network points at --real-ip-from
    internal = LogImporter("custom", log_format=BEHIND_PROXY)
    list(internal.import_lines([_proxied("10.0.0.17", "10.9.0.1", n) for n in range(25)], "access.log"))
    assert "--real-ip-from" in (internal.report.proxy_hint() or "")
    # AND a few private requests among public ones say nothing
    mixed = LogImporter("combined")
    list(mixed.import_lines(lines[:5] + [_proxied("198.51.100.1", "-", n) for n in range(20)], "access.log"))
    assert mixed.report.proxy_hint() is None


def test_a_cookie_header_s_session_is_the_site_s_not_an_analytics_script_s() -> None:
    # GIVEN Cookie headers where analytics and payment scripts' cookies, named like sessions, come first
    from traffic.importer import session_cookie

    hotjar = "_hjSessionUser_3051=eyJpZCI6; _hjSession_3051=eyJpZCI6MX0; PHPSESSID=abc"
    stripe = "__stripe_mid=m1; __stripe_sid=s1; connect.sid=real"
    # THEN the session is the site's own cookie
    assert session_cookie(hotjar)[0] == "abc"
    assert session_cookie(stripe)[0] == "real"
    # AND --session-cookie names a cookie of the header even beside a $cookie_ column named like a session
    assert session_column(("cookie_sid", "http_cookie"), "nsid") == "http_cookie"
    assert session_column(("cookie_sid", "http_cookie")) == "cookie_sid"


def test_cloudfront_lines_of_a_viewer_that_hung_up_and_logs_without_cookies_say_so() -> None:
    # GIVEN a CloudFront log with cookie logging off, and a request whose viewer closed the connection (000)
    lines = [
        *CLOUDFRONT_HEADER,
        *[
            cloudfront_line(time=f"10:00:{n:02d}", ip="198.51.100.7", method="GET", stem="/", status=200, agent="x")
            for n in range(30)
        ],
        cloudfront_line(time="10:01:00", ip="198.51.100.8", method="GET", stem="/.env", status=0, agent="zgrab/0.x"),
    ]
    lines[-1] = lines[-1].replace("\t0\t", "\t000\t", 1)
    importer = LogImporter("cloudfront")
    events = [item.event for item in importer.import_lines(lines, "cf.log")]
    # THEN the hung-up request is read, without a status, and marked so
    assert (events[-1]["resource"], events[-1]["status"]) == ("/.env", None)
    assert events[-1]["properties"]["viewer_closed"] == "true"
    # AND the import says the Cookie column was empty, and what to turn on
    (hint,) = importer.report.hints()
    assert "Cookie header column was empty" in hint
    assert "include cookies" in hint
    # AND a #Fields line it cannot use is unparseable, not a header line too
    refused = LogImporter("cloudfront")
    list(refused.import_lines(["#Fields: c-ip cs-method"], "x.log"))
    assert (refused.report.directives, refused.report.unparseable, refused.report.lines) == (0, 1, 1)


def test_an_apache_logformat_writing_json_reads_as_its_json_template() -> None:
    # GIVEN Apache's LogFormat for JSON lines, as httpd.conf writes it (quotes escaped) and not
    written = (
        '{ \\"time\\":\\"%t\\", \\"remoteIP\\":\\"%a\\", \\"request\\":\\"%r\\", '
        '\\"status\\":\\"%>s\\", \\"agent\\":\\"%{User-agent}i\\" }'
    )
    line = (
        '{ "time":"[02/Nov/2026:10:00:00 +0000]", "remoteIP":"203.0.113.9", "request":"POST /login HTTP/1.1", '
        '"status":"401", "agent":"curl/8.5.0" }'
    )
    unescaped = written.replace('\\"', '"')
    assert unescaped != written
    for log_format in (written, unescaped):
        # WHEN a line is imported with it
        (item,) = LogImporter("custom", log_format=log_format).import_lines([line], "apache.json")
        # THEN it is read by key, each directive as its variable
        event = item.event
        assert (event["event_type"], event["resource"], event["ip"]) == ("login_failed", "/login", "203.0.113.9")
        assert event["occurred_at"] == "2026-11-02T10:00:00.000000Z"


def test_an_nginx_log_format_reads_as_pasted_from_nginx_conf() -> None:
    # GIVEN the same format as nginx.conf writes it: a whole directive over several lines of quoted
    # pieces, with escape=json; its string in quotes; and a plain format's directive
    pieces = """log_format json_analytics escape=json '{'
        '"time": "$time_iso8601", '
        '"remote_addr": "$remote_addr", '
        '"request": "$request", "status": $status, '
        '"http_user_agent": "$http_user_agent"'
    '}';"""
    quoted = (
        '\'{"time": "$time_iso8601", "remote_addr": "$remote_addr", "request": "$request", '
        '"status": $status, "http_user_agent": "$http_user_agent"}\''
    )
    json_line = (
        '{"time": "2026-11-02T10:00:00+00:00", "remote_addr": "203.0.113.9", "request": "GET /cart HTTP/2.0", '
        '"status": 200, "http_user_agent": "curl/8.5.0"}'
    )
    plain = """log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                    '$status $body_bytes_sent "$http_referer" "$http_user_agent"';"""
    plain_line = '203.0.113.9 - - [02/Nov/2026:10:00:00 +0000] "GET /cart HTTP/2.0" 200 512 "-" "curl/8.5.0"'
    for log_format, line in ((pieces, json_line), (quoted, json_line), (plain, plain_line)):
        # WHEN a line is imported with each
        importer = LogImporter("custom", log_format=log_format)
        events = [item.event for item in importer.import_lines([line], "access.log")]
        # THEN it is read as with the format's string alone
        assert [(event["resource"], event["status"], event["ip"]) for event in events] == [
            ("/cart", 200, "203.0.113.9")
        ], log_format


def test_a_request_logged_by_several_uri_variables_is_read_once() -> None:
    # GIVEN a format that logs $request, $request_uri, $uri and $args, as JSON analytics formats do
    importer = LogImporter(
        "custom",
        log_format='{"time":"$time_iso8601","request":"$request","request_uri":"$request_uri","uri":"$uri","args":"$args","status":$status}',
    )
    line = (
        '{"time":"2026-11-02T10:00:00Z","request":"POST /login?next=/cart HTTP/2.0","request_uri":"/login?next=/cart",'
        '"uri":"/login","args":"next=/cart","status":302}'
    )
    # WHEN a line is imported
    (item,) = importer.import_lines([line], "access.json")
    # THEN the resource is the request's, not the variables joined
    assert item.event["resource"] == "/login?next=/cart"
    # AND $uri with $args alone are joined by the query's "?"
    plain = LogImporter("custom", log_format="[$time_local] $uri $args $status")
    (item,) = plain.import_lines(["[02/Nov/2026:10:00:00 +0000] /search q=tent 200"], "access.log")
    assert item.event["resource"] == "/search?q=tent"


def test_json_lines_that_are_not_requests_or_not_in_the_unit_are_refused_with_the_reason() -> None:
    # GIVEN an nginx JSON log with an application's own messages in the same stream, a template
    # holding a constant with a dollar sign, and an HTTP API's time in seconds where the format says
    # milliseconds
    template = (
        '{"time":"$time_iso8601","remote_addr":"$remote_addr","request":"$request","status":$status,'
        '"currency":"US$","ua":"$http_user_agent"}'
    )
    lines = [
        '{"time":"2026-11-02T10:00:00Z","remote_addr":"203.0.113.9","request":"GET / HTTP/1.1","status":200,'
        '"ua":"Caf\\xC3\\xA9 \\x22bot\\x22"}',
        '2026-11-02T10:00:05.1Z stdout F {"time":"2026-11-02T10:00:05Z","level":"info","msg":"worker started"}',
    ]
    importer = LogImporter("custom", log_format=template)
    # WHEN they are imported
    (item,) = importer.import_lines(lines, "access.json")
    # THEN the request is an event, its escaped UTF-8 read as text, and the message is not one
    assert item.event["user_agent"] == 'Café "bot"'
    assert importer.report.unparseable_examples[0][2] == "not a request: none of the template's $request is in it"
    # AND a time in seconds read as milliseconds is refused, saying so
    epoch = LogImporter("custom", log_format='{"t":"$context.requestTimeEpoch","route":"$context.routeKey"}')
    assert list(epoch.import_lines(['{"t":"1793613600","route":"GET /pets"}'], "api.json")) == []
    reason = epoch.report.unparseable_examples[0][2]
    assert reason.startswith("$time_epoch_ms: 1793613600 milliseconds after 1970 is 1970-01-21")


def test_an_api_gateway_log_without_paths_says_to_add_them() -> None:
    # GIVEN an HTTP API's log in the console's default format: the route key, no path; most requests
    # matched a route, a few the default route
    template = (
        '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",'
        '"routeKey":"$context.routeKey","status":"$context.status"}'
    )
    lines = [
        f'{{"requestId":"r{n}","ip":"203.0.113.9","requestTime":"02/Nov/2026:10:00:{n:02d} +0000",'
        f'"routeKey":"{"$default" if n % 10 == 0 else "GET /pets/{id}"}","status":"200"}}'
        for n in range(40)
    ]
    importer = LogImporter("custom", log_format=template)
    # WHEN it is imported
    events = [item.event for item in importer.import_lines(lines, "api.json")]
    # THEN a route stands for the path, the default route for none, and the import says to log paths
    assert {event["resource"] for event in events} == {"/pets/{id}", None}
    (hint,) = [hint for hint in importer.report.hints() if "route" in hint]
    assert hint.startswith("36 of 40 requests name only the API Gateway route they matched")
    assert "add $context.path" in hint


def test_a_cloudwatch_export_of_a_plain_format_reads_past_its_timestamp() -> None:
    # GIVEN API Gateway's common-log-format access log as CloudWatch Logs exports it, time first
    clf = (
        "$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] "
        '"$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength '
        "$context.requestId"
    )
    line = '2026-11-02T10:00:00.000Z 203.0.113.9 - - [02/Nov/2026:10:00:00 +0000] "POST /login HTTP/1.1" 401 12 9c5e'
    # WHEN it is imported
    (item,) = LogImporter("custom", log_format=clf).import_lines([line], "api.log")
    # THEN the line after the export's timestamp is read
    assert (item.event["event_type"], item.event["ip"]) == ("login_failed", "203.0.113.9")


def test_nginx_directives_as_written_in_any_quotes_and_with_what_follows_them() -> None:
    expected = '$remote_addr "$request" $status'
    # double quotes with nginx's escapes, a comment after the directive, the access_log line after it
    assert nginx_format_string('log_format main "$remote_addr \\"$request\\" $status";') == expected
    assert nginx_format_string("log_format main '$remote_addr \"$request\" $status'; # the main one") == expected
    assert (
        nginx_format_string(
            "log_format main '$remote_addr \"$request\" '\n '$status';\naccess_log /var/log/a.log main;"
        )
        == expected
    )
    # a format whose columns are quoted, on one line, is a format, not pieces to join; and so is one
    # whose only column is in double quotes, as this tool's formats quote columns
    assert nginx_format_string("'$remote_addr' '$status'") == "'$remote_addr' '$status'"
    assert nginx_format_string('"$request"') == '"$request"'
    # a directive whose format is not quoted is refused, saying so
    with pytest.raises(LogFormatError, match="not quoted strings"):
        LogImporter("custom", log_format="log_format main $remote_addr $status;")


def test_a_request_rewritten_by_nginx_is_read_as_the_client_sent_it() -> None:
    # GIVEN a front-controller site logging $request and $uri (nginx's URI after its rewrite)
    importer = LogImporter("custom", log_format='[$time_local] "$request" $uri $status')
    line = '[02/Nov/2026:10:00:00 +0000] "GET /shop/item/42?ref=mail HTTP/1.1" /index.php 200'
    # WHEN a line is imported
    (item,) = importer.import_lines([line], "access.log")
    # THEN the resource is the request's, not the script that served it
    assert item.event["resource"] == "/shop/item/42?ref=mail"


def test_an_export_timestamp_before_a_format_that_starts_with_a_word_is_skipped() -> None:
    # GIVEN lines exported with their time first, of formats whose own first column is one word
    for log_format, line in (
        ("$time_iso8601 $remote_addr $request_method $request_uri $status", "2026-11-02T10:00:00+00:00"),
        ("$msec $remote_addr $request_method $request_uri $status", "1793613600.000"),
    ):
        exported = f"2026-11-02T10:00:00.123Z {line} 203.0.113.9 GET /a?x=1 200"
        # WHEN each is imported
        (item,) = LogImporter("custom", log_format=log_format).import_lines([exported], "export.log")
        # THEN the line after the export's time is read
        assert (item.event["resource"], item.event["status"]) == ("/a?x=1", 200), log_format


def test_only_nginx_s_list_valued_upstream_variables_read_lists() -> None:
    # GIVEN an upstream's header with a comma and no space, and an upstream address list after it
    importer = LogImporter("custom", log_format="[$time_local] $request_uri $upstream_http_vary $upstream_addr $status")
    line = "[02/Nov/2026:10:00:00 +0000] /a Accept-Encoding,Cookie 10.0.0.1:80, 10.0.0.2:80 200"
    # WHEN it is imported
    (item,) = importer.import_lines([line], "access.log")
    # THEN the header is one word and the addresses one list
    assert item.event["properties"]["upstream_http_vary"] == "Accept-Encoding,Cookie"
    assert item.event["properties"]["upstream_addr"] == "10.0.0.1:80, 10.0.0.2:80"
    assert item.event["status"] == 200


def test_a_submitted_payment_is_a_purchase_under_api_too_and_a_viewed_one_is_not() -> None:
    # GIVEN a donation posted to an API, a checkout, a charge and a page that merely shows the form
    read = {
        ("POST", "/api/donations/"): "purchase",
        ("POST", "/v1/donations"): "purchase",
        ("PUT", "/api/v2/orders/77/pay"): "purchase",
        ("POST", "/cart/checkout"): "purchase",
        ("POST", "/billing/charges"): "purchase",
        ("POST", "/donate.php"): "purchase",
        ("POST", "/checkout/confirm"): "purchase",
        ("GET", "/api/donations/"): "api_call",
        ("GET", "/donate/storm-relief/"): "page_view",
        ("POST", "/api/paypal-webhook"): "api_call",  # (a segment of its own, not a word in one)
        ("POST", "/webhooks/payment"): "page_view",  # (a provider's callback to the site)
        ("POST", "/api/orders/123/cancel"): "api_call",  # (a step after the payment, not one)
        ("POST", "/api/donations/intent/"): "api_call",
        ("POST", "/rest/default/V1/guest-carts/a1b2/payment-information"): "purchase",  # (Magento 2)
        ("POST", "/checkout/place-order"): "purchase",
        ("POST", "/orders.json"): "purchase",
        ("POST", "/give/"): "purchase",
        ("POST", "/api/payments/deposit"): "purchase",  # (a wallet's deposit: a betting site's, a game's)
        ("POST", "/api/wallet/top-up"): "purchase",
        ("POST", "/deposit/history"): "page_view",
        ("POST", "/admin/menus/order"): "page_view",  # (staff reordering a menu)
    }
    # THEN each reads as a payment only when submitted to a payment path
    assert {key: infer_event_type(*key, 201) for key in read} == read
    # AND a card saved for later payments is one (card testers use it too), but not a method chosen
    # in a checkout, a default changed, or the setup intent a billing page creates as it loads
    saved = {
        ("POST", "/api/v1/billing/payment-methods"): "purchase",
        ("POST", "/prod/v1/payments/methods"): "purchase",  # (an app's REST API behind API Gateway)
        ("POST", "/v1/wallet/cards"): "purchase",
        ("POST", "/account/payment_sources.json"): "purchase",
        ("POST", "/boards/7/cards"): "page_view",  # (a board's cards)
        ("GET", "/v1/payments/methods"): "page_view",  # (the saved cards listed)
        ("PUT", "/billing/payment-methods"): "page_view",
        ("POST", "/checkout/payment-method"): "page_view",
        ("POST", "/billing/setup-intent"): "page_view",
    }
    assert {key: infer_event_type(*key, 402) for key in saved} == saved
    # AND WooCommerce's checkout, posted to its AJAX endpoint, is one too
    assert infer_event_type("POST", "/", 402, "wc-ajax=checkout") == "purchase"
    assert infer_event_type("POST", "/", 200, "wc-ajax=update_order_review") == "page_view"
    # AND imported, a 402 is a declined payment, which the payment waves count
    line = '198.51.100.7 - - [02/Nov/2026:10:00:00 +0000] "POST /api/donations/ HTTP/1.1" 402 5 "-" "Fx"'
    (item,) = LogImporter("combined").import_lines([line], "access.log")
    assert (item.event["event_type"], payment_outcome(item.event)) == ("purchase", True)


def test_an_item_added_to_a_cart_is_an_add_and_the_cart_viewed_is_a_page() -> None:
    # GIVEN adds posted or linked in the ways shops write them, and the cart viewed or changed
    read = {
        ("POST", "/cart/add", ""): "add_to_cart",
        ("POST", "/cart/add.js", ""): "add_to_cart",  # (Shopify)
        ("POST", "/checkout/cart/add/uenc/aHR0cA,,/product/12/", ""): "add_to_cart",  # (Magento)
        ("GET", "/cart/add", "sku=1"): "add_to_cart",
        ("GET", "/tienda1/publico/anadir.jsp", "id=2&cantidad=1"): "add_to_cart",  # (CSIC 2010)
        ("GET", "/product/ash-mug/", "add-to-cart=12"): "add_to_cart",  # (WooCommerce)
        ("POST", "/", "wc-ajax=add_to_cart"): "add_to_cart",  # (WooCommerce's AJAX add)
        ("POST", "/", "wc-ajax=get_refreshed_fragments"): "page_view",
        ("POST", "/basket", ""): "add_to_cart",
        ("GET", "/cart", ""): "page_view",
        ("GET", "/cart", "remove=1"): "page_view",
        ("GET", "/checkout/cart/", ""): "page_view",
        ("GET", "/cart/address", ""): "page_view",  # (a word that merely starts with "add")
        ("POST", "/cart/change.js", ""): "page_view",  # (Shopify's + and -)
        ("POST", "/cart/update", ""): "page_view",
        ("POST", "/basket/remove/3", ""): "page_view",
        ("POST", "/carte/menu", ""): "page_view",  # (a menu, in French)
        ("POST", "/checkout/cart/updatepost/", ""): "page_view",  # (Magento's cart updated)
        ("POST", "/api/carts/12/items", ""): "api_call",  # (an API's: its calls are calls)
        ("POST", "/carts/12/items", ""): "add_to_cart",
        ("POST", "/cart_items", ""): "add_to_cart",
        ("GET", "/cart-add", "sku=4"): "add_to_cart",
    }
    # THEN each is read as an add only when it adds
    assert {key: infer_event_type(key[0], key[1], 200, key[2]) for key in read} == read


def test_only_a_word_typed_or_erased_a_few_letters_at_a_time_is_marked_typed_ahead() -> None:
    # GIVEN one client's calls to a search box's suggestions, and a script's searches of whole words
    def line(second: int, path: str, method: str = "GET", sid: str = "s-1") -> str:
        stamp = f"06/Nov/2026:10:{second // 60:02d}:{second % 60:02d} +0000"
        return f'203.0.113.9 - - [{stamp}] "{method} {path} HTTP/1.1" 200 5 "-" "Fx" {sid}'

    lines = [
        line(0, "/suggest?q=mu"),
        line(1, "/suggest?q=mug"),  # typed
        line(2, "/suggest?q=mugs"),  # typed on
        line(2, "/suggest?q=mug"),  # erased, back to what the word sent: a page (no looping through queries)
        line(3, "/suggest?q=bowl"),  # another word
        line(4, "/suggest?q=bowl&lang=fr"),  # another parameter
        line(30, "/suggest?q=bowls"),  # typed half a minute later: another search
        line(31, "/suggest?q=bowls+blue", "POST"),  # a form posted, not a suggestion fetched
        line(32, "/suggest?q=bowls+b", sid="s-2"),  # another visitor
        line(40, "/search?q=vase"),
        line(41, "/search?q=plate"),
        line(42, "/search?q=plates"),  # (a next word that happens to extend the last reads as typed)
    ]
    importer = LogImporter("custom", log_format='%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i" %{sid}C')
    # WHEN they are imported
    marked = [item.event["properties"].get("typed_ahead", False) for item in importer.import_lines(lines, "a.log")]
    # THEN a call is marked when its word grew or shrank from the same client's call just before
    assert marked == [False, True, True, False, False, False, False, False, False, False, False, True]


def test_a_folder_holding_a_file_twice_says_so_and_an_empty_one_is_refused(tmp_path: Path) -> None:
    # GIVEN a folder holding a log and its gzipped copy, and an empty folder
    line = '198.51.100.7 - - [02/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.5.0"\n'
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "access.log").write_text(line)
    with gzip.open(tmp_path / "logs" / "access.log.gz", "wt") as handle:
        handle.write(line)
    (tmp_path / "empty").mkdir()
    # WHEN each is imported
    importer = LogImporter("combined")
    events = list(importer.import_file(str(tmp_path / "logs")))
    # THEN both copies are read (nothing is dropped) and the import says they may be one log
    assert len(events) == 2
    assert (importer.report.compressed_copies_hint() or "").startswith(
        "1 file(s) of the folder are there uncompressed too (access.log.gz): both copies were read"
    )
    # AND an empty folder is an error that names it, not a crash
    with pytest.raises(FileNotFoundError, match="a folder without a file to read"):
        list(LogImporter("combined").import_file(str(tmp_path / "empty")))


def test_a_client_cannot_hide_its_requests_behind_the_typed_ahead_mark() -> None:
    # GIVEN scripts that shape their calls as typing: one looping through two queries, one extending
    # its word for minutes, one starting word after word at a path, each a call a second
    def line(second: int, query: str) -> str:
        stamp = f"06/Nov/2026:{10 + second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d} +0000"
        return f'203.0.113.9 - - [{stamp}] "GET /p?{query} HTTP/1.1" 200 5 "-" "Fx" s-1'

    def marked(lines: list[str]) -> int:
        importer = LogImporter("custom", log_format='%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i" %{sid}C')
        return sum(bool(item.event["properties"].get("typed_ahead")) for item in importer.import_lines(lines, "a.log"))

    looping = [line(second, "id=1" if second % 2 == 0 else "id=1x") for second in range(100)]
    growing = [line(second, "q=" + "a" * (second + 1)) for second in range(200)]
    words = [line(second, f"q=w{second // 5}" + "x" * (second % 5)) for second in range(1000)]
    # THEN the loop has one call marked, a word at most a minute of them, and a session at most 80 at a path
    assert marked(looping) == 1
    assert marked(growing) == 60
    assert marked(words) == 80


TRAEFIK_LINE = (
    '{"ClientAddr":"174.54.6.38:25132","ClientHost":"174.54.6.38","ClientPort":"25132","ClientUsername":"-",'
    '"DownstreamContentSize":1443,"DownstreamStatus":200,"Duration":107318712,"OriginDuration":107092290,'
    '"RequestAddr":"shop.example","RequestHost":"shop.example","RequestMethod":"GET",'
    '"RequestPath":"/search?q=tent\\u0026page=2","RequestProtocol":"HTTP/2.0","RequestScheme":"https",'
    '"ServiceURL":{"Scheme":"http","Host":"172.18.0.21:80"},"StartUTC":"2026-03-09T00:00:16.354839314Z",'
    '"level":"info","msg":"","request_Cookie":"shop_session=017ac1ed; _ga=GA1.1.2",'
    '"request_Referer":"https://shop.example/p/vest","request_User-Agent":"Mozilla/5.0 (X11) Firefox/123.0",'
    '"time":"2026-03-09T00:00:16Z"}'
)


def test_traefik_s_json_access_log_reads_with_its_own_format() -> None:
    # GIVEN a line of Traefik's JSON access log, with the headers that identify a client kept
    importer = LogImporter("traefik")
    (item,) = importer.import_lines([TRAEFIK_LINE], "access.log")
    event = item.event
    # THEN its request, client, session and duration read as the template names them
    assert (event["ip"], event["user_agent"], event["session_id"]) == (
        "174.54.6.38",
        "Mozilla/5.0 (X11) Firefox/123.0",
        "017ac1ed",
    )
    assert (event["resource"], event["status"], event["event_type"]) == ("/search?q=tent&page=2", 200, "search")
    assert event["occurred_at"] == "2026-03-09T00:00:16.354839Z"
    assert event["properties"]["latency_ms"] == pytest.approx(107.319, abs=0.001)  # (nanoseconds)
    assert event["properties"]["referer"] == "https://shop.example/p/vest"
    assert importer.report.hints() == []


def test_a_json_access_log_read_as_events_says_how_to_read_it() -> None:
    # GIVEN Traefik's log read as event JSON lines (the backtest's default for a file)
    importer = LogImporter("jsonl")
    assert list(importer.import_lines([TRAEFIK_LINE] * 30, "access.log")) == []
    # THEN the hint names what the lines hold and the format that reads them
    (hint,) = importer.report.hints()
    assert "30 line(s) are JSON objects without the event contract's occurred_at (keys: ClientAddr" in hint
    assert "--format traefik" in hint


def test_a_log_without_user_agents_or_with_durations_in_another_unit_says_so() -> None:
    # GIVEN Traefik's log without its headers kept (its default), and one whose Duration a template
    # read as seconds
    bare = LogImporter("traefik")
    line = json.loads(TRAEFIK_LINE)
    headless = {key: value for key, value in line.items() if not key.startswith("request_")}
    list(bare.import_lines([json.dumps(headless)] * 30, "access.log"))
    seconds = LogImporter("custom", log_format=TRAEFIK_TEMPLATE.replace("$request_time_ns", "$request_time"))
    list(seconds.import_lines([TRAEFIK_LINE] * 30, "access.log"))
    # THEN each says what is missing or what to check
    assert any("none of 30 requests has a user agent" in hint for hint in bare.report.hints())
    (hint,) = seconds.report.hints()
    assert "30 of 30 requests took more than an hour by their duration column: is it in another unit?" in hint


def test_a_format_without_user_agents_sessions_or_users_says_its_clients_are_addresses_alone() -> None:
    # GIVEN an API Gateway stage logging its console's JSON preset (no user agent; its IAM user column
    # empty on an app's calls), the same with the user agent and the Cognito user added, and a common
    # log whose user column names users
    preset = (
        '{ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", "user":"$context.identity.user",'
        '"requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod", "path":"$context.path",'
        '"status":"$context.status" }'
    )
    line = (
        '{ "requestId":"9c5e0a1f", "ip": "203.0.113.9", "user":"-", "requestTime":"02/Nov/2026:10:00:00 +0000",'
        '"httpMethod":"GET", "path":"/prod/v1/products/42", "status":"200", "agent":"okhttp/4.12.0", "sub":"6f1c" }'
    )
    bare = LogImporter("custom", log_format=preset)
    list(bare.import_lines([line] * 30, "api.log"))
    identified = LogImporter(
        "custom",
        log_format=preset.replace(
            " }", ', "agent":"$context.identity.userAgent", "sub":"$context.authorizer.claims.sub" }'
        ),
    )
    list(identified.import_lines([line] * 30, "api.log"))
    named = LogImporter("common")
    list(named.import_lines(['203.0.113.9 - ada [02/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5'] * 30, "a.log"))
    # THEN the first says that each client is its address alone, and what to add
    (hint,) = [hint for hint in bare.report.hints() if "address alone" in hint]
    assert hint.startswith("the format has no user agent nor session, and none of 30 requests names a user")
    assert "$context.identity.userAgent" in hint
    assert "$context.authorizer.claims.sub" in hint
    # AND the others, whose clients are told apart, do not
    assert not [hint for hint in identified.report.hints() + named.report.hints() if "address alone" in hint]


# HAProxy's HTTP log (option httplog) as rsyslog writes it, a single-digit day padded; the frontend
# captures User-Agent, Referer and Cookie, in that order, and HAProxy writes a '|' in a value as #7C.
HAPROXY_LINE = (
    "Dec  1 09:15:02 lb1 haproxy[30412]: 203.0.113.7:51234 [01/Dec/2026:09:15:02.381] fe_https~ be_web/web2 "
    "0/0/1/43/45 200 5120 - - ---- 12/12/3/1/0 0/0 "
    "{Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0|https://shop.example/c/tents?f=a#7Cb|consent=yes; mkt_sid=9f2c1a} "
    '{} "GET /l/4710479-tent?ref=home HTTP/1.1"'
)


def test_haproxy_s_http_log_reads_with_its_own_format_whatever_writes_the_line() -> None:
    # GIVEN the line as rsyslog writes it, as journald does, and bare (a container's stdout)
    importer = LogImporter("haproxy", haproxy_headers=["User-Agent", "Referer", "Cookie"])
    message = HAPROXY_LINE.split(": ", 1)[1]
    lines = [HAPROXY_LINE, "Dec 01 09:15:02 lb1 haproxy[30412]: " + message, message]
    events = [item.event for item in importer.import_lines(lines, "haproxy.log")]
    # THEN each reads the same request: the client, its time to the millisecond, the captured
    # headers by the names given (decoded), the session from the Cookie header, the active time
    assert len(events) == 3
    for event in events:
        assert (event["ip"], event["occurred_at"]) == ("203.0.113.7", "2026-12-01T09:15:02.381000Z")
        assert event["user_agent"] == "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0"
        assert event["session_id"] == "9f2c1a"
        assert (event["resource"], event["status"], event["event_type"]) == (
            "/l/4710479-tent?ref=home",
            200,
            "page_view",
        )
        properties = event["properties"]
        assert properties["referer"] == "https://shop.example/c/tents?f=a|b"
        assert (properties["latency_ms"], properties["bytes"]) == (45.0, 5120)
        assert (properties["backend_name"], properties["server_name"]) == ("be_web", "web2")
        assert "http_cookie" not in properties  # (cookies may hold credentials: only the session is kept)
    assert importer.report.unparseable == 0
    assert importer.report.hints() == []
    # AND the request line's escapes are undone as the headers' are (an HTTP/2 request names its
    # URL whole), and a line that syslog cut short is read as far as it goes
    escaped = HAPROXY_LINE.replace(
        "/l/4710479-tent?ref=home HTTP/1.1", "https://shop.example/caf#C3#A9?q=#22OR#221 HTTP/2.0"
    )
    cut = HAPROXY_LINE[: HAPROXY_LINE.index("?ref=home")] + "?ref=ho"
    decoded, short = [item.event for item in importer.import_lines([escaped, cut], "haproxy.log")]
    assert decoded["resource"] == '/café?q="OR"1'
    assert short["resource"] == "/l/4710479-tent?ref=ho"


def test_haproxy_s_captured_cookie_gives_the_session_where_no_header_is_captured() -> None:
    # GIVEN a frontend that captures no header but the session cookie ("capture cookie mkt_sid len 32"),
    # and a request that never became a full one (its status -1: the client went away)
    importer = LogImporter("haproxy")
    plain = (
        "203.0.113.7:51234 [01/Dec/2026:09:15:02.381] fe_https~ be_web/web2 0/0/1/43/45 302 0 mkt_sid=9f2c1a - "
        '---- 12/12/3/1/0 0/0 "POST /login HTTP/1.1"'
    )
    aborted = (
        "203.0.113.8:4410 [01/Dec/2026:09:15:03.001] fe_https~ fe_https/<NOSRV> -1/-1/-1/-1/+30001 -1 0 - - CR-- "
        '1/1/0/0/0 0/0 "<BADREQ>"'
    )
    login, broken = [item.event for item in importer.import_lines([plain, aborted], "haproxy.log")]
    # THEN the login carries its session, and the broken request is kept without a status
    assert (login["session_id"], login["event_type"], login["status"]) == ("9f2c1a", "login_succeeded", 302)
    assert broken["status"] is None
    assert broken["properties"]["raw_request"] == "<BADREQ>"
    assert broken["properties"]["termination_state"] == "CR--"


def test_haproxy_s_captured_headers_unnamed_or_miscounted_say_how_to_name_them() -> None:
    # GIVEN the line read without naming its captured headers, and with two names for its three
    unnamed = LogImporter("haproxy")
    (event,) = [item.event for item in unnamed.import_lines([HAPROXY_LINE], "haproxy.log")]
    miscounted = LogImporter("haproxy", haproxy_headers=["User-Agent", "Cookie"])
    list(miscounted.import_lines([HAPROXY_LINE], "haproxy.log"))
    # THEN the request is read without them, and each import says what to pass
    assert event["user_agent"] is None
    assert any(
        "1 line(s) carry captured request headers that were not read ({Mozilla/5.0" in hint
        and "--haproxy-headers" in hint
        for hint in unnamed.report.hints()
    )
    assert any(
        "a different number of captured request headers than --haproxy-headers names" in hint
        for hint in miscounted.report.hints()
    )
    # AND a line of another format is refused as not HAProxy's, and the option as not another format's
    assert (
        list(unnamed.import_lines(['203.0.113.7 - - [01/Dec/2026:09:15:02 +0000] "GET / HTTP/1.1" 200 5'], "x.log"))
        == []
    )
    assert "not HAProxy's HTTP log format" in unnamed.report.unparseable_examples[0][2]
    with pytest.raises(LogFormatError, match="--haproxy-headers only goes with --format haproxy"):
        LogImporter("combined", haproxy_headers=["User-Agent"])


def test_the_backtest_reads_haproxy_s_log_with_its_headers_named(tmp_path: Path) -> None:
    # GIVEN a file of HAProxy's lines and the backtest's options for it
    log = tmp_path / "haproxy.log"
    log.write_text(HAPROXY_LINE + "\n")
    arguments = parse_args(
        [
            "--test",
            str(log),
            "--model",
            "m.tar.gz",
            "--format",
            "haproxy",
            "--haproxy-headers",
            "User-Agent,Referer,Cookie",
            "--out",
            str(tmp_path),
        ]
    )
    # THEN the source reads the request with its client and session
    (event,) = read_source(str(log), format=arguments.format, haproxy_headers=arguments.haproxy_headers)
    assert (event["session_id"], event["user_agent"]) == ("9f2c1a", "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0")


def test_haproxy_s_log_format_given_as_a_custom_format_says_which_format_reads_it() -> None:
    with pytest.raises(LogFormatError, match=r"looks like HAProxy's log-format, whose default .* --format haproxy"):
        LogImporter("custom", log_format="%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %{+Q}r")


# A log of the session cookie each request carried, and a line of it ``second`` s after 10:00.
SID_LOG_FORMAT = '$remote_addr - [$time_local] "$request" $status "$http_user_agent" $cookie_sid'


def sid_line(second: int, request: str, status: int, sid: str, ip: str = "203.0.113.9") -> str:
    moment = f"02/Nov/2026:10:{second // 60:02d}:{second % 60:02d} +0000"
    return f'{ip} - [{moment}] "{request} HTTP/1.1" {status} "{FIREFOX}" {sid}'


def test_a_session_id_rotated_at_login_continues_the_session_it_logged_in_with() -> None:
    # GIVEN a site that rotates its session cookie at login: the login carries the old id, the
    # redirect's page the new one; and later a neighbour behind the same address and browser whose
    # visit starts just after another login, while that login's browser still sends its own id
    log_format, line = SID_LOG_FORMAT, sid_line

    lines = [
        line(0, "GET /login", 200, "old"),
        line(20, "POST /login", 302, "old"),
        line(21, "GET /account", 200, "new"),
        line(40, "GET /orders", 200, "new"),
        line(300, "POST /login", 302, "mine"),
        line(301, "GET /", 200, "neighbour"),
        line(302, "GET /account", 200, "mine"),
    ]
    importer = LogImporter("custom", log_format=log_format)
    events = [item.event for item in importer.import_lines(lines, "site.log")]
    by_path = {(event["resource"], event["properties"].get("rotated_session_id")): event for event in events}
    # THEN the visit across the login is one session, its first id's, each request keeping the id it carried
    assert [event["session_id"] for event in events[:4]] == ["old"] * 4
    assert by_path[("/orders", "new")]["user_id"] == "session:old"
    # AND the neighbour's visit, which the other browser's old id outlived, is its own
    assert by_path[("/", None)]["session_id"] == "neighbour"
    assert by_path[("/account", None)]["session_id"] == "mine"
    assert (importer.report.rotated_sessions, importer.report.rotated_requests) == (1, 2)
    assert (
        "1 session id(s) came within 10 s after their client's login or a redirect in another session"
        in importer.report.summary()
    )
    # AND once rotated, a second login in the visit (its browser sending the new id) is told from a
    # neighbour's arrival the same way, and a line without address or agent that carried the
    # rotated id is the visit's too
    later = [
        line(60, "POST /login", 302, "new"),
        line(61, "GET /", 200, "arrival"),
        line(62, "GET /account", 200, "new"),
        '- - [02/Nov/2026:10:01:03 +0000] "GET /orders HTTP/1.1" 200 "-" new',
    ]
    importer = LogImporter("custom", log_format=log_format)
    events = [item.event for item in importer.import_lines(lines[:4] + later, "site.log")]
    assert [(event["resource"], event["session_id"]) for event in events[4:]] == [
        ("/login", "old"),
        ("/", "arrival"),
        ("/account", "old"),
        ("/orders", "old"),
    ]
    # AND so is one rotated at another redirect (an e-mail address verified), while a page answered
    # 200 just before a neighbour's arrival hands nothing over
    verified = [
        line(600, "GET /verify?token=abc", 302, "signup"),
        line(601, "GET /welcome", 200, "verified"),
        line(700, "GET /listing/7", 200, "verified"),
        line(701, "GET /", 200, "visitor"),
    ]
    importer = LogImporter("custom", log_format=log_format)
    assert [item.event["session_id"] for item in importer.import_lines(verified, "site.log")] == [
        "signup",
        "signup",
        "signup",
        "visitor",
    ]
    # AND so is one whose form's page was still loading an image, with the old id, as the login was posted
    loading = [
        line(0, "GET /login", 200, "old"),
        line(2, "POST /login", 302, "old"),
        line(2, "GET /img/logo.png", 200, "old"),
        line(3, "GET /account", 200, "new"),
    ]
    importer = LogImporter("custom", log_format=log_format)
    assert [item.event["session_id"] for item in importer.import_lines(loading, "site.log")] == ["old"] * 4
    # AND a label naming the rotated id labels the requests that carried it
    assert label_key(by_path[("/orders", "new")], "old", {"new": "account_takeover"}) == "new"


def test_a_session_id_rotated_after_a_login_of_unknown_outcome_continues_its_session() -> None:
    # GIVEN a log without statuses (a web firewall's) of a site that rotates its cookie at login: a
    # login that got in, its next page with a new id; and one that failed, its form again with the
    # old id, then a neighbour behind the same address and browser arriving
    log_format = '$remote_addr - [$time_local] "$request" "$http_user_agent" $cookie_sid'

    def line(second: int, request: str, sid: str) -> str:
        moment = f"02/Nov/2026:10:{second // 60:02d}:{second % 60:02d} +0000"
        return f'203.0.113.9 - [{moment}] "{request} HTTP/1.1" "{FIREFOX}" {sid}'

    lines = [
        line(0, "GET /login", "old"),
        line(20, "POST /login", "old"),
        line(21, "GET /account", "new"),
        line(300, "POST /login", "typo"),
        line(301, "GET /login", "typo"),
        line(302, "GET /", "neighbour"),
    ]
    importer = LogImporter("custom", log_format=log_format)
    events = [item.event for item in importer.import_lines(lines, "waf.log")]
    # THEN the logins are of unknown outcome, and the visit that got in is one session across it
    assert [event["event_type"] for event in events if event["resource"] == "/login"] == [
        "page_view",
        "login_attempt",
        "login_attempt",
        "page_view",
    ]
    assert [event["session_id"] for event in events] == ["old", "old", "old", "typo", "typo", "neighbour"]
    assert events[2]["properties"]["rotated_session_id"] == "new"
    assert importer.report.rotated_sessions == 1


def test_a_login_redirected_back_to_its_form_or_to_a_lockout_page_failed() -> None:
    # GIVEN a Laravel site, which answers every login with a redirect (back to the form when it
    # failed), and an ASP.NET one, which sends the failure that locks an account to its lockout page
    log_format = SID_LOG_FORMAT

    def line(second: int, request: str, status: int, ip: str = "198.51.100.7") -> str:
        return sid_line(second, request, status, f"s-{ip}", ip)

    lines = [
        line(0, "POST /login", 302),
        line(1, "GET /css/app.css", 200),
        line(1, "GET / ", 200, ip="203.0.113.5"),  # (another client's request, in the middle)
        line(2, "GET /login?error=1", 200),
        line(30, "POST /login", 302),
        line(31, "GET /dashboard", 200),
        line(60, "POST /Account/Login", 302, ip="192.0.2.44"),
        line(61, "GET /Account/Lockout", 200, ip="192.0.2.44"),
        line(90, "POST /login", 302, ip="192.0.2.45"),  # (nothing follows it: it got in)
        line(200, "GET /login", 200, ip="192.0.2.45"),
    ]
    importer = LogImporter("custom", log_format=log_format)
    events = [item.event for item in importer.import_lines(lines, "site.log")]
    # THEN the logins followed by their form again or a lockout page failed, the others got in
    logins = [(event["resource"], event["event_type"]) for event in events if event["event_type"].startswith("login")]
    assert logins == [
        ("/login", "login_failed"),
        ("/login", "login_succeeded"),
        ("/Account/Login", "login_failed"),
        ("/login", "login_succeeded"),
    ]
    assert events[0]["properties"][REDIRECTED_TO_PROPERTY] == "/login"
    # AND the order is the log's, every request given out once, and the summary counts them
    assert [event["occurred_at"] for event in events] == sorted(event["occurred_at"] for event in events)
    assert len(events) == len(lines)
    assert importer.report.logins_redirected_back == 2
    assert importer.report.login_paths["/login"].failed == 1
    assert "2 login(s) answered with a redirect were followed within 10 s by their form again" in (
        importer.report.summary()
    )


def test_a_woocommerce_login_redirected_to_the_account_page_got_in() -> None:
    # GIVEN a WooCommerce customer's login, posted on the account page and redirected back to it (its
    # dashboard now), and one that failed (the form again, 200)
    lines = [
        '198.51.100.7 - - [02/Nov/2026:10:00:00 +0000] "POST /my-account/ HTTP/1.1" 302 0 "-" "Fx"',
        '198.51.100.7 - - [02/Nov/2026:10:00:01 +0000] "GET /my-account/ HTTP/1.1" 200 48000 "-" "Fx"',
        '198.51.100.8 - - [02/Nov/2026:10:00:05 +0000] "POST /my-account/ HTTP/1.1" 200 54000 "-" "Fx"',
    ]
    importer = LogImporter("combined")
    types = [item.event["event_type"] for item in importer.import_lines(lines, "shop.log")]
    # THEN the first got in, as WooCommerce answers it (read as a form fetched again, every customer's
    # login of a new-user trial's shop failed), and the second failed
    assert types == ["login_succeeded", "page_view", "login_failed"]
    assert importer.report.logins_redirected_back == 0


def test_a_login_redirected_to_its_form_that_passes_it_on_in_a_new_session_got_in() -> None:
    # GIVEN Moodle's logins: one that gets in is redirected to the form's cookie check
    # (/login/index.php?testsession=ID), itself redirected to the dashboard, in the session the login
    # began; one that fails is redirected to the form again, shown with its error, in the same session
    def line(second: int, request: str, status: int, sid: str, ip: str = "198.51.100.7") -> str:
        return sid_line(second, request, status, sid, ip)

    lines = [
        line(0, "POST /login/index.php", 303, "old-1"),
        line(1, "GET /login/index.php?testsession=2511", 303, "new-1"),
        line(1, "GET /my/", 200, "new-1"),
        line(60, "POST /login/index.php", 303, "s-2", ip="192.0.2.44"),
        line(61, "GET /login/index.php?errorcode=3", 200, "s-2", ip="192.0.2.44"),
        # (a site that keeps its cookie at login, and passes its form on to the account's page)
        line(90, "POST /login/index.php", 303, "s-3", ip="192.0.2.45"),
        line(91, "GET /login/index.php?testsession=77", 303, "s-3", ip="192.0.2.45"),
        # (and a log without the session column's value for the form: its status decides)
        line(120, "POST /login/index.php", 303, "s-4", ip="192.0.2.46"),
        line(121, "GET /login/index.php", 200, "-", ip="192.0.2.46"),
    ]
    importer = LogImporter("custom", log_format=SID_LOG_FORMAT)
    events = [item.event for item in importer.import_lines(lines, "moodle.log")]
    # THEN the logins whose form was passed on, or came in a new session, got in; the others failed
    logins = [event["event_type"] for event in events if event["event_type"].startswith("login")]
    assert logins == ["login_succeeded", "login_failed", "login_succeeded", "login_failed"]
    # AND the session the good login began continues the one it was posted in
    assert {event["session_id"] for event in events[:3]} == {"old-1"}


def test_a_site_that_keeps_its_session_cookie_at_login_hands_no_session_to_a_neighbour() -> None:
    # GIVEN an ASP.NET site, which keeps its session cookie at login: a person behind a hospital's
    # address logs in and goes on with the same id, and a colleague with the same browser build
    # arrives seconds later, while the first reads the page
    log_format = SID_LOG_FORMAT

    def line(second: int, request: str, status: int, sid: str) -> str:
        return sid_line(second, request, status, sid, ip="212.219.33.13")

    lines = [
        line(0, "GET /Account/Login", 200, "helen"),
        line(20, "POST /Account/Login", 302, "helen"),
        line(21, "GET /Manage", 200, "helen"),
        line(24, "GET /", 200, "colleague"),
        line(25, "GET /Account/Login", 200, "colleague"),
        line(90, "GET /Manage/Benefits", 200, "helen"),
    ]
    importer = LogImporter("custom", log_format=log_format)
    events = [item.event for item in importer.import_lines(lines, "u_ex261109.log")]
    # THEN each visit is its own session
    assert [(event["resource"], event["session_id"]) for event in events] == [
        ("/Account/Login", "helen"),
        ("/Account/Login", "helen"),
        ("/Manage", "helen"),
        ("/", "colleague"),
        ("/Account/Login", "colleague"),
        ("/Manage/Benefits", "helen"),
    ]
    assert importer.report.rotated_sessions == 0
    # AND where the site's logins have kept their ids, a colleague arriving after a login whose
    # browser then stays quiet for a while is a visit of its own, as the log showed what the site does
    staff = [line(100 + 10 * number, "POST /Account/Login", 302, f"staff-{number}") for number in range(20)] + [
        line(101 + 10 * number, "GET /Manage", 200, f"staff-{number}") for number in range(20)
    ]
    quiet = [
        line(400, "POST /Account/Login", 302, "nurse"),
        line(402, "GET /", 200, "porter"),
        line(460, "GET /Manage", 200, "nurse"),
    ]
    learned = LogImporter("custom", log_format=log_format)
    events = [
        item.event for item in learned.import_lines(sorted(staff, key=lambda text: text.split("[")[1]) + quiet, "u.log")
    ]
    assert [event["session_id"] for event in events[-3:]] == ["nurse", "porter", "nurse"]
    assert learned.report.rotated_sessions == 0
    # (where nothing showed what the site does, the same arrival reads as the id rotated)
    unlearned = LogImporter("custom", log_format=log_format)
    events = [item.event for item in unlearned.import_lines(quiet, "u.log")]
    assert [event["session_id"] for event in events] == ["nurse", "nurse", "nurse"]


# Cloudflare Logpush's http_requests, keys in Logpush's order, with its default timestamps
# (nanoseconds) and the zone's Cookies custom field.
CLOUDFLARE_LINE = (
    '{"ClientIP":"198.51.100.23","ClientRequestHost":"app.example.com","ClientRequestMethod":"POST",'
    '"ClientRequestProtocol":"HTTP/2","ClientRequestReferer":"https://app.example.com/login",'
    '"ClientRequestURI":"/api/auth/mfa/verify?attempt=2",'
    '"ClientRequestUserAgent":"Mozilla/5.0 (Macintosh) Safari/605.1",'
    '"Cookies":{"__Host-session":"c9f1e2","_ga":"GA1.2.3"},"EdgeResponseBytes":512,"EdgeResponseStatus":401,'
    '"EdgeStartTimestamp":1764579600123456789,"OriginResponseDurationMs":38,"RayID":"8e1f2a3b4c5d6e7f"}'
)


def test_cloudflare_logpush_s_log_reads_with_its_own_format() -> None:
    importer = LogImporter("cloudflare")
    (item,) = importer.import_lines([CLOUDFLARE_LINE], "logpush.log")
    event = item.event
    # THEN its client, its time to the microsecond, its session (the Cookies field's session cookie)
    # and its request read as Logpush names them
    assert (event["ip"], event["user_agent"]) == ("198.51.100.23", "Mozilla/5.0 (Macintosh) Safari/605.1")
    assert event["occurred_at"] == "2025-12-01T09:00:00.123456Z"
    assert event["session_id"] == "c9f1e2"
    assert (event["resource"], event["status"], event["event_type"]) == (
        "/api/auth/mfa/verify?attempt=2",
        401,
        "login_failed",
    )
    assert (event["properties"]["latency_ms"], event["properties"]["referer"]) == (
        38.0,
        "https://app.example.com/login",
    )
    assert importer.report.hints() == []


def test_an_epoch_time_in_the_wrong_unit_or_read_as_iso_8601_is_an_unparseable_line_that_says_so() -> None:
    # GIVEN Logpush's nanoseconds read as seconds and as an ISO 8601 time, and an ISO time as nanoseconds
    line = json.loads(CLOUDFLARE_LINE)
    as_seconds = CLOUDFLARE_TEMPLATE.replace("$time_epoch_ns", "$msec")
    as_iso = CLOUDFLARE_TEMPLATE.replace("$time_epoch_ns", '"$time_iso8601"')
    iso_line = json.dumps({**line, "EdgeStartTimestamp": "2025-12-01T09:00:00Z"})
    readings = [
        (LogImporter("custom", log_format=as_seconds), CLOUDFLARE_LINE),
        (LogImporter("custom", log_format=as_iso), CLOUDFLARE_LINE),
        (LogImporter("cloudflare"), iso_line),
    ]
    # THEN each line is refused alone (the import goes on), saying what to use
    reasons = []
    for importer, text in readings:
        assert list(importer.import_lines([text, text], "logpush.log")) == []
        assert importer.report.unparseable == 2
        reasons.append(importer.report.unparseable_examples[0][2])
    assert "seconds after 1970 is not a time between 1970 and the year 9999: is the time in another unit?" in reasons[0]
    assert "$time_epoch_ns" in reasons[0]
    assert "is a number, not an ISO 8601 time" in reasons[1]
    assert "'2025-12-01T09:00:00Z' is not a number of nanoseconds after 1970" in reasons[2]
    # AND nanoseconds are read exactly to the microsecond, a number that is no status refuses its line,
    # and one too long for a byte count or a duration that is no number is left in properties
    odd = [
        json.dumps({**line, "EdgeStartTimestamp": 1764579600999999999}),
        json.dumps({**line, "EdgeResponseStatus": "\u00b2\u2070\u2070"}),
        json.dumps({**line, "EdgeResponseBytes": "9" * 5000, "OriginResponseDurationMs": "NaN"}),
    ]
    importer = LogImporter("cloudflare")
    long, exact = [item.event for item in importer.import_lines(odd, "logpush.log")]  # (in time order)
    assert exact["occurred_at"] == "2025-12-01T09:00:00.999999Z"  # (a float gives 09:00:01.000000)
    assert "bytes" not in long["properties"]
    assert long["properties"]["request_time_ms"] == "NaN"
    assert importer.report.unparseable == 1
    assert "$status: not an HTTP status" in importer.report.unparseable_examples[0][2]


def test_an_api_s_collection_of_users_is_a_sign_up_where_told_and_the_import_says_to_tell_it() -> None:
    # GIVEN an app's API that registers its users with POST /v1/users (and reads one with GET)
    def lines() -> list[str]:
        return [
            f'198.51.100.{number} - - [02/Nov/2026:10:00:{number:02d} +0000] "{method} {path} HTTP/1.1" 201 5 "-" '
            '"Delivery/5.12.1 (iPhone; iOS 17.4; Scale/3.00)"'
            for number in range(12)
            for method, path in (("POST", "/v1/users"), ("GET", f"/v1/users/{number}"))
        ]

    untold, told = LogImporter("combined"), LogImporter("combined", signup_paths=["/V1/Users/"])
    untold_events = [item.event for item in untold.import_lines(lines(), "access.log")]
    told_events = [item.event for item in told.import_lines(lines(), "access.log")]
    # THEN untold, none is a sign-up, and the import names the path and the option
    assert "signup" not in {event["event_type"] for event in untold_events}
    (hint,) = untold.report.hints()
    assert "no request read as a sign-up, and 12 POST(s) to /v1/users were answered 2xx" in hint
    assert "pass --signup-path /v1/users" in hint
    # AND told (in any case, with a trailing slash), each POST is a sign-up, a GET is not, and it says nothing
    assert [event["event_type"] for event in told_events if event["resource"] == "/v1/users"] == ["signup"] * 12
    assert {event["event_type"] for event in told_events if event["resource"] != "/v1/users"} == {"page_view"}
    assert told.report.hints() == []
    # AND the option is refused with a query or without its leading slash
    parser = argparse.ArgumentParser()
    add_signup_path(parser)
    assert parser.parse_args(["--signup-path", "/v1/users"]).signup_path == ["/v1/users"]
    for wrong in ("v1/users", "/v1/users?x=1"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--signup-path", wrong])


def test_a_submitted_sign_up_form_is_a_signup_and_a_device_registered_is_not() -> None:
    # GIVEN sign-up forms as web frameworks and identity services name them, submitted, and paths
    # that register something other than an account, or show the form, or follow the sign-up
    read = {
        ("POST", "/signup"): "signup",
        ("POST", "/api/auth/signup"): "signup",
        ("POST", "/auth/register"): "signup",
        ("POST", "/register.php"): "signup",
        ("POST", "/auth/registration"): "signup",  # (under a login path: no login)
        ("POST", "/api/auth/sign_up"): "signup",
        ("POST", "/app/signup"): "signup",
        ("POST", "/customer/account/createpost/"): "signup",  # (Magento)
        ("POST", "/realms/shop/login-actions/registration"): "signup",  # (Keycloak)
        ("POST", "/v1/accounts:signUp"): "signup",  # (Firebase)
        ("PUT", "/api/v2/registrations"): "signup",
        ("GET", "/signup"): "page_view",
        ("POST", "/signup/verify"): "page_view",
        ("POST", "/api/v1/devices/register"): "api_call",
        ("POST", "/push/register"): "page_view",
        ("POST", "/events/42/register"): "page_view",
        ("POST", "/auth/webauthn/register"): "page_view",  # (a passkey, an existing user's)
        ("POST", "/auth/mfa/totp/register"): "page_view",
        ("POST", "/newsletter/sign-up"): "page_view",
        ("POST", "/forum/createpost"): "page_view",  # (a post, not Magento's account)
    }
    # THEN each reads as a sign-up only when an account's form is submitted
    assert {key: infer_event_type(*key, 201) for key in read} == read
    # AND imported, the sign-up waves count it among the logins
    line = '198.51.100.7 - - [02/Nov/2026:10:00:00 +0000] "POST /auth/register HTTP/1.1" 302 5 "-" "Fx"'
    (item,) = LogImporter("combined").import_lines([line], "access.log")
    assert (item.event["event_type"], signup_outcome(item.event)) == ("signup", True)


def test_a_streaming_service_s_log_reads_hung_up_requests_segments_and_verifications() -> None:
    # GIVEN Envoy's log of a streaming service (read as a custom format): a player abandoning a video
    # segment (status 0, flag DC), segments and playlists, and an e-mail verified under /auth/
    log_format = '[$time_iso8601] "$request" $status $response_flags $remote_addr "$http_user_agent"'
    player = "ExoPlayerLib/2.19.1"
    lines = [
        f'[2026-11-03T10:15:42.123Z] "GET /video/t9/seg-{n}.m4s HTTP/1.1" {status} {flags} 203.0.113.9 "{player}"'
        for n, (status, flags) in enumerate(((200, "-"), (200, "-"), (0, "DC")))
    ]
    lines += [
        '[2026-11-03T10:15:43.000Z] "GET /video/t9/master.m3u8 HTTP/1.1" 200 - 203.0.113.9 "okhttp/4.12.0"',
        '[2026-11-03T10:15:44.000Z] "POST /api/v1/auth/verify-email HTTP/1.1" 200 - 203.0.113.9 "okhttp/4.12.0"',
        '[2026-11-03T10:15:45.000Z] "POST /api/v1/auth/mfa/verify HTTP/1.1" 401 - 203.0.113.9 "okhttp/4.12.0"',
    ]
    importer = LogImporter("custom", log_format=log_format)
    events = [item.event for item in importer.import_lines(lines, "envoy.log")]
    # THEN every line is read: the hung-up request without a status, marked so
    assert importer.report.unparseable == 0
    assert (events[2]["status"], events[2]["properties"]["viewer_closed"]) == (None, "true")
    # AND segments and playlists are files a player fetches by itself, as a page's assets are
    assert [event["event_type"] for event in events[:4]] == ["static_asset"] * 4
    # AND verifying an e-mail address is no login, while a second factor's code still is one, sent
    # by text message or e-mail as well
    assert [event["event_type"] for event in events[4:]] == ["api_call", "login_failed"]
    assert infer_event_type("POST", "/auth/mfa/phone/verify", 401) == "login_failed"
    assert infer_event_type("POST", "/auth/mfa/email/verify", 401) == "login_failed"
    assert infer_event_type("POST", "/auth/email-verification", 200) == "page_view"


def test_an_x_user_id_response_header_is_the_user_and_a_column_named_like_one_says_how_to_name_it() -> None:
    # GIVEN an nginx JSON log whose user is the X-User-Id header the application returned, and the
    # same log with that column under a name of the format's own
    line = json.dumps(
        {
            "t": "2026-11-02T10:00:00+00:00",
            "ip": "198.51.100.7",
            "r": "GET /tickets HTTP/1.1",
            "s": 200,
            "u": "agent-17",
        }
    )
    template = '{"t":"$time_iso8601","ip":"$remote_addr","r":"$request","s":$status,"u":"$%s"}'
    read = LogImporter("custom", log_format=template % "upstream_http_x_user_id")
    (item,) = read.import_lines([line] * 1, "app.log")
    own = LogImporter("custom", log_format=template % "app_user_ref")
    list(own.import_lines([line] * 30, "app.log"))
    # THEN the response header is the user; the other is not, and the import says to name it $user_id
    assert item.event["user_id"] == "agent-17"
    assert [hint for hint in read.report.hints() if "not read as the user" in hint] == []
    (hint,) = [hint for hint in own.report.hints() if "not read as the user" in hint]
    assert hint.startswith("$app_user_ref is not read as the user")
    assert "name it $user_id" in hint


def test_apache_s_remote_user_empty_beside_the_application_s_user_header_says_how_to_name_it() -> None:
    # GIVEN Apache's combined format with %u (no HTTP authentication: "-" in every line) and the
    # user the application names in a response header of its own, and the same with %u naming one
    apache = '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %{X-Remote-User}o'
    line = '198.51.100.7 - - [02/Nov/2026:10:00:00 +0000] "GET /inbox HTTP/1.1" 200 512 "-" "Mozilla/5.0" maria'
    read = LogImporter("custom", log_format=apache)
    items = list(read.import_lines([line] * 30, "mail.log"))
    authenticated = LogImporter("custom", log_format=apache)
    list(authenticated.import_lines([line.replace(" - - [", " - maria [")] * 30, "mail.log"))
    # THEN the header is not the user, and the import names it and says how to read it
    assert not any(item.event["user_id"] == "maria" for item in items)
    (hint,) = [hint for hint in read.report.hints() if "not read as the user" in hint]
    assert hint.startswith("$sent_http_x_remote_user is not read as the user; the user column the format names held")
    assert "%{X-User-Id}o" in hint
    # AND where %u names the user, nothing is said
    assert [hint for hint in authenticated.report.hints() if "not read as the user" in hint] == []
