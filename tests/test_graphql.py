"""GraphQL APIs: one path answered 200 whatever happened, each request read by its operation's name."""

from __future__ import annotations

import json
from typing import Any

import pytest

from traffic.graphql import is_graphql_path, operation_event_type, operation_name, operation_words
from traffic.importer import LogImporter

# A storefront's nginx JSON log (escape=json), the operation's name from the header Apollo's clients send.
TEMPLATE = (
    '{"time":"$time_iso8601","remote_addr":"$remote_addr","method":"$request_method","uri":"$request_uri",'
    '"status":$status,"ua":"$http_user_agent","sid":"$cookie_sid","user_id":"$upstream_http_x_user_id",'
    '"op":"$http_x_apollo_operation_name"}'
)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def line(uri: str = "/graphql", op: str = "", method: str = "POST", status: int = 200, **fields: Any) -> str:
    return json.dumps(
        {
            "time": fields.get("time", "2026-11-23T10:00:00+00:00"),
            "remote_addr": "81.2.69.160",
            "method": method,
            "uri": uri,
            "status": status,
            "ua": BROWSER,
            "sid": "d63aa2f6",
            "user_id": fields.get("user_id", ""),
            "op": op,
        }
    )


@pytest.mark.parametrize(
    ("name", "event_type"),
    [
        ("tokenCreate", "login_attempt"),  # Saleor
        ("customerAccessTokenCreate", "login_attempt"),  # Shopify's storefront
        ("generateCustomerToken", "login_attempt"),  # Magento
        ("signIn", "login_attempt"),
        ("tokenRefresh", "api_call"),
        ("tokenVerify", "api_call"),
        ("tokensDeactivateAll", "logout"),
        ("revokeCustomerToken", "logout"),
        ("sign_out", "logout"),
        ("requestPasswordReset", "password_reset"),
        ("customerRecover", "password_reset"),
        ("setPassword", "password_reset"),
        ("accountRegister", "signup"),
        ("customerCreate", "signup"),
        ("createCustomerV2", "signup"),
        ("signUp", "signup"),
        ("accountAddressCreate", "api_call"),
        ("checkoutCreate", "api_call"),
        ("checkoutPaymentCreate", "api_call"),
        ("checkoutComplete", "purchase"),
        ("placeOrder", "purchase"),
        ("draftOrderComplete", "api_call"),
        ("checkoutLinesAdd", "add_to_cart"),
        ("addProductsToCart", "add_to_cart"),
        ("SearchProducts", "search"),
        ("ProductDetails", "api_call"),
    ],
)
def test_an_operation_is_read_by_the_words_of_its_name(name: str, event_type: str) -> None:
    assert operation_event_type(name, 200) == event_type


def test_a_login_operation_failed_only_where_its_status_says_so() -> None:
    # GraphQL answers a failed login with 200 and its errors in the body: its outcome is unknown
    assert operation_event_type("tokenCreate", 200) == "login_attempt"
    assert operation_event_type("tokenCreate", 401) == "login_failed"
    assert operation_event_type("tokenCreate", 200, frozenset({200})) == "login_failed"
    assert operation_event_type("tokenCreate", None) == "login_attempt"


def test_names_split_into_words_as_graphql_writes_them() -> None:
    assert operation_words("customerAccessTokenCreate") == ["customer", "access", "token", "create"]
    assert operation_words("logIn") == ["login"]
    assert operation_words("createCustomerV2") == ["create", "customer", "v", "2"]
    assert operation_words("HTMLPageQuery") == ["html", "page", "query"]


def test_the_operation_comes_from_a_column_or_a_persisted_query_s_parameters() -> None:
    assert operation_name("TokenCreate") == "TokenCreate"
    assert operation_name(None, "operationName=SearchProducts&variables=%7B%7D") == "SearchProducts"
    assert operation_name("not a name; drop table", "") is None
    assert operation_name(None, "q=shoes") is None
    for path in ("/graphql", "/api/2024-10/graphql.json", "/v1/graphql", "/gql/"):
        assert is_graphql_path(path)
    assert not is_graphql_path("/graphql-tutorial/intro")


def test_a_graphql_log_is_read_by_operation_and_its_resources_name_them() -> None:
    # GIVEN a storefront's requests: a login and a checkout by header, a persisted query by its GET
    # parameters, the single-page app's shell, and a request to the API that names no operation
    lines = [
        line(op="TokenCreate"),
        line(op="CheckoutComplete", user_id="VXNlcjo0MTUz"),
        line("/graphql?operationName=SearchProducts&variables=%7B%22q%22%3A%22boots%22%7D", method="GET"),
        line("/", method="GET"),
        line(op="-"),
    ]
    importer = LogImporter("custom", log_format=TEMPLATE)
    events = [item.event for item in importer.import_lines(lines, "access.log")]
    # THEN each is the event its operation names, its resource the operation's, the name kept
    assert [event["event_type"] for event in events] == [
        "login_attempt",
        "purchase",
        "search",
        "page_view",
        "page_view",
    ]
    assert [event["resource"] for event in events] == [
        "/graphql/TokenCreate",
        "/graphql/CheckoutComplete",
        "/graphql/SearchProducts?variables=%7B%22q%22%3A%22boots%22%7D",
        "/",
        "/graphql",
    ]
    assert events[0]["properties"]["graphql_operation"] == "TokenCreate"
    assert "graphql_operation" not in events[3]["properties"]
    # AND the import says how it read them
    assert importer.report.graphql_operations == {"login_attempt": 1, "purchase": 1, "search": 1}
    assert "3 GraphQL request(s) read by their operation's name" in importer.report.summary()


def test_a_graphql_api_whose_requests_name_no_operation_is_told_to_log_it() -> None:
    # GIVEN a log of an API at /graphql whose format has no operation column
    lines = [line(time=f"2026-11-23T10:00:{second:02d}+00:00") for second in range(60)]
    importer = LogImporter("custom", log_format=TEMPLATE.replace(',"op":"$http_x_apollo_operation_name"', ""))
    events = [item.event for item in importer.import_lines(lines, "access.log")]
    # THEN its requests are page views, and the import says what to log
    assert {event["event_type"] for event in events} == {"page_view"}
    (hint,) = [hint for hint in importer.report.hints() if "GraphQL" in hint]
    assert "60 request(s) to the GraphQL API at /graphql named no operation" in hint
    assert "$http_x_apollo_operation_name" in hint
