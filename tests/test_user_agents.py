"""User agents parsed by ua-parser and crawlerdetect: bots, headless browsers and HTTP tools are
told apart from ordinary browsers and apps."""

from __future__ import annotations

import pytest

from model.enrichment import AgentInfo
from model.exceptions import AgentParserError
from model.user_agents import check_parser, describe, parse_agent, parse_agent_without_app_stacks

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 "
    "Safari/605.1.15",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile "
    "Safari/537.36",
]
NOTHING = AgentInfo(known_bot=False, headless=False, http_library=False, unrecognised=False)


@pytest.mark.parametrize("agent", BROWSERS)
def test_ordinary_browsers_are_not_flagged(agent: str) -> None:
    assert parse_agent(agent) == NOTHING


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Selenium",
    ],
)
def test_headless_and_automated_browsers_are_flagged_headless(agent: str) -> None:
    info = parse_agent(agent)
    assert info.headless
    assert not info.known_bot
    assert not info.http_library


@pytest.mark.parametrize(
    "agent",
    ["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Scrapy/2.11.0 (+https://scrapy.org)"],
)
def test_declared_crawlers_are_known_bots(agent: str) -> None:
    assert parse_agent(agent) == AgentInfo(known_bot=True, headless=False, http_library=False, unrecognised=False)


@pytest.mark.parametrize("agent", ["python-requests/2.31.0", "curl/8.4.0", "Go-http-client/1.1", "okhttp/4.12.0"])
def test_http_libraries_and_tools_are_flagged(agent: str) -> None:
    assert parse_agent(agent) == AgentInfo(known_bot=False, headless=False, http_library=True, unrecognised=False)


NATIVE_APPS = [
    "Tixorama/6.4.1 (com.tixorama.app; build:6410; iOS 18.2.1) CFNetwork/1568.300.101 Darwin/24.2.0",
    "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/AP2A.240805.005)",
    "Shop/3.1.0 (com.example.shop; build:310; iOS 17.5.0) Alamofire/5.8.0",
    "Ktor client",
    "Ktor http-client",
]


@pytest.mark.parametrize("agent", NATIVE_APPS)
def test_native_apps_http_stacks_are_http_libraries_and_were_not_before_the_rules_said_so(agent: str) -> None:
    # An app's code calling an API is no browser: judged with the machine clients, not as a person
    assert parse_agent(agent) == AgentInfo(known_bot=False, headless=False, http_library=True, unrecognised=False)
    # (the rules before them, which models trained then are served with, read it as a browser or unknown)
    assert not parse_agent_without_app_stacks(agent).http_library


def test_an_in_app_browser_is_a_browser() -> None:
    webview = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148 Instagram 334.0.4.32.98"
    )
    assert not parse_agent(webview).http_library


def test_an_agent_no_parser_knows_is_unrecognised() -> None:
    assert parse_agent("zq7-client") == AgentInfo(
        known_bot=False, headless=False, http_library=False, unrecognised=True
    )


def test_a_model_trained_with_other_parser_versions_is_refused() -> None:
    # GIVEN the versions recorded at training, one of them different from the installed one
    recorded = {**describe(), "ua-parser-builtins": "201001"}
    # THEN the scorer's check refuses them, naming the package; the installed versions pass
    with pytest.raises(AgentParserError, match="ua-parser-builtins"):
        check_parser(recorded)
    assert check_parser(describe()) is parse_agent
    assert check_parser(None) is None


def test_a_model_trained_before_the_app_stacks_is_served_with_its_rules_and_a_newer_one_refused() -> None:
    # GIVEN the parser record of a model trained before the rules had a version: its packages only
    packages = {name: value for name, value in describe().items() if name != "agent_rules"}
    # THEN it is served with the rules it learned from, under which an iOS app was no HTTP library
    lookup = check_parser(packages)
    assert lookup is parse_agent_without_app_stacks
    assert lookup is not None
    assert not lookup(NATIVE_APPS[0]).http_library
    # AND a model of rules this code does not know is refused, naming them
    with pytest.raises(AgentParserError, match="user-agent rules 9"):
        check_parser({**describe(), "agent_rules": "9"})
