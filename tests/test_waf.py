"""AWS WAF's web ACL traffic log, read with --format waf: headers by name, and the status WAF answered."""

from __future__ import annotations

import json
from typing import Any

import pytest

from model.waves import payment_outcome
from traffic.exceptions import LogFormatError
from traffic.importer import LogImporter
from traffic.jsonlog import JsonTemplate


def record(action: str = "ALLOW", uri: str = "/jobs/1", method: str = "GET", **fields: Any) -> str:
    """A web ACL's log record as Firehose delivers it (one a line), its headers as the client sent them."""
    headers = fields.pop(
        "headers",
        [
            {"name": "host", "value": "www.jobs.example"},
            {"name": "cookie", "value": "_ga=GA1.1; jb_sid=aaaa1111"},
            {"name": "user-agent", "value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0"},
            {"name": "accept-language", "value": "en-GB"},
        ],
    )
    return json.dumps(
        {
            "timestamp": 1794787208157,
            "formatVersion": 1,
            "webaclId": "arn:aws:wafv2:us-east-1:111122223333:global/webacl/jobs/1",
            "terminatingRuleId": "Default_Action" if action == "ALLOW" else "rate-limit-logins",
            "terminatingRuleType": "REGULAR" if action == "ALLOW" else "RATE_BASED",
            "action": action,
            "terminatingRuleMatchDetails": [],
            "httpSourceName": "CF",
            "httpSourceId": "E2K7Q9XJ4TB1LM",
            "ruleGroupList": [],
            "rateBasedRuleList": [],
            "nonTerminatingMatchingRules": [],
            "requestHeadersInserted": None,
            "responseCodeSent": fields.pop("responseCodeSent", None),
            "httpRequest": {
                "clientIp": "86.150.3.4",
                "country": "GB",
                "headers": headers,
                "uri": uri,
                "args": fields.pop("args", ""),
                "httpVersion": "HTTP/2.0",
                "httpMethod": method,
                "requestId": "rid-1",
            },
        }
    )


def test_a_waf_record_reads_its_headers_by_name_whatever_their_order_and_case() -> None:
    # GIVEN a record whose headers HTTP/2 lowercased, the Host first, and one of HTTP/1.1 in its own order
    http1 = [
        {"name": "User-Agent", "value": "curl/8.5.0"},
        {"name": "Referer", "value": "https://www.jobs.example/"},
        {"name": "Host", "value": "www.jobs.example"},
    ]
    lines = [record(args="q=nurse&page=2"), record(headers=http1)]
    # WHEN they are imported as a WAF log
    first, second = (item.event for item in LogImporter("waf").import_lines(lines, "waf.log"))
    # THEN each header is read as its name says, the cookie's session found, the query kept
    assert first["user_agent"] == "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0"
    assert (first["session_id"], first["resource"], first["ip"]) == ("aaaa1111", "/jobs/1?q=nurse&page=2", "86.150.3.4")
    assert first["occurred_at"] == "2026-11-16T00:00:08.157000Z"
    assert (second["user_agent"], second["properties"]["referer"]) == ("curl/8.5.0", "https://www.jobs.example/")
    assert first["properties"]["referer"] == ""  # (a header WAF did not log was not sent: no referer)
    assert second["session_id"].startswith("client:")  # (no cookie: the client's own session)


def test_a_waf_record_has_the_status_waf_answered_and_none_for_what_it_let_through() -> None:
    # GIVEN logins that WAF let through, blocked, challenged with a CAPTCHA, and refused with a rule's
    # custom response
    lines = [
        record("ALLOW", "/login", "POST"),
        record("BLOCK", "/login", "POST"),
        record("CAPTCHA", "/login", "POST"),
        record("BLOCK", "/login", "POST", responseCodeSent=429),
        record("CHALLENGE", "/login", "POST"),
        record("BLOCK", "/login", "POST", responseCodeSent=200),
        record("CHALLENGE", "/checkout", "POST"),
        record("ALLOW", "/checkout", "POST"),
        record("CHALLENGE", "/jobs/3"),
    ]
    importer = LogImporter("waf")
    events = [item.event for item in importer.import_lines(lines, "waf.log")]
    # THEN a request WAF let through has no status (its answer is not WAF's to log), and one it
    # stopped has its action's status, or the custom response's, and is refused whatever that was
    # (a challenge's 202, a custom 200: kept as waf_status)
    assert [event["status"] for event in events] == [None, 403, 405, 429, 403, 403, 403, None, 202]
    assert [event["properties"].get("waf_status") for event in events] == [None] * 4 + [202, 200, 202, None, None]
    assert [event["event_type"] for event in events] == [
        *["login_attempt"] + ["login_failed"] * 5,
        "purchase",
        "purchase",
        "page_view",  # (a page challenged, which a browser passes by itself: its 202 as it is)
    ]
    assert events[1]["properties"]["waf_action"] == "BLOCK"
    # AND a payment WAF stopped is a declined one, one it let through one that went through
    assert [payment_outcome(event) for event in events[-3:-1]] == [True, False]


def test_a_log_whose_requests_mostly_have_no_status_says_what_cannot_be_seen() -> None:
    # GIVEN a WAF log of logins and pages that WAF let through, a few blocked
    lines = [
        record("ALLOW", "/login" if n % 3 == 0 else f"/jobs/{n}", "POST" if n % 3 == 0 else "GET") for n in range(30)
    ]
    lines += [record("BLOCK", "/login", "POST") for _ in range(3)]
    importer = LogImporter("waf")
    list(importer.import_lines(lines, "waf.log"))
    # THEN the import says that failed logins and declined payments cannot be told
    hint = importer.report.status_hint() or ""
    assert hint.startswith("30 of 33 requests have no status, 10 login(s) among them: whether a login failed")
    assert hint in importer.report.hints()


def test_a_template_list_of_objects_with_texts_of_their_own_selects_elements_by_them() -> None:
    # GIVEN a JSON template naming two headers of a name-value list, and one whose list is read by place
    by_name = JsonTemplate(
        '{"headers":[{"name":"User-Agent","value":"$http_user_agent"},{"name":"Cookie","value":"$http_cookie"}]}'
    )
    by_place = JsonTemplate('{"headers":{"User-Agent":["$http_user_agent"]}}')
    # THEN a line's element with the same text, in any case, is read; one missing is absent
    line = '{"headers":[{"name":"host","value":"h"},{"name":"USER-AGENT","value":"curl/8"}]}'
    assert by_name.values(line) == {"http_user_agent": "curl/8"}
    # AND a header sent twice (HTTP/2's cookies, one a header) is one, joined as HTTP joins it
    split = (
        '{"headers":[{"name":"cookie","value":"_ga=1"},{"name":"user-agent","value":"Fx"},'
        '{"name":"cookie","value":"sid=9"}]}'
    )
    assert by_name.values(split) == {"http_user_agent": "Fx", "http_cookie": "_ga=1; sid=9"}
    assert by_place.values('{"headers":{"User-Agent":["Fx","second"]}}') == {"http_user_agent": "Fx"}
    # AND a list some of whose objects say which element to read and some not is refused
    with pytest.raises(LogFormatError, match="the list at headers has objects with a text of their own"):
        JsonTemplate('{"headers":[{"name":"User-Agent","value":"$http_user_agent"},{"value":"$http_cookie"}]}')
