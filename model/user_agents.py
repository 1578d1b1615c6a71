"""What a user agent says about the client: a declared crawler, a headless or automated browser, an
HTTP library or command-line tool, or something no parser recognises.

Parsed by maintained rule sets rather than by patterns of our own: ua-parser (the uap-core regexes,
shipped as ``ua-parser-builtins``; device family "Spider" marks self-declared crawlers) and
crawlerdetect (the CrawlerDetect project's list of bots, tools and libraries). Two short lists are
kept here: headless and automation markers (neither parser separates a headless browser from a
crawler), and the HTTP stacks of native mobile apps (``_APP_HTTP_STACK_RE``: iOS's CFNetwork,
Android's Dalvik, Alamofire, Ktor), which ua-parser reads as a device and crawlerdetect does not
list, though a client that names one is an app's code calling an API, no browser: Android's okhttp
and Flutter's Dart are in crawlerdetect's list already, and the app behind an iOS agent was judged
as a person browsing pages, its polling "machine-regular pauses between pages".

A parse takes tens to hundreds of microseconds, and a user keeps one agent for many events, so
answers are cached per agent string (``parse_agent``). The rule sets change between releases, so
the versions a model was trained with are recorded in its metadata (``describe``) and the scorer
refuses others at cold start (``check_parser``). So is the version of the lists kept here
(``AGENT_RULES``): a model trained before the app stacks (rules 1) is served with the rules it
learned from, as its features were computed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from importlib.metadata import version
from typing import Any

from model.enrichment import AgentInfo, AgentLookup
from model.exceptions import AgentParserError

AGENT_CACHE_SIZE = 16_384
# Longer agents are cut before parsing: the rules match near the start, and a crafted
# multi-kilobyte agent would otherwise cost each regex its full length.
MAX_PARSED_AGENT_LENGTH = 512
PARSER_PACKAGES = ("ua-parser", "ua-parser-builtins", "crawlerdetect")
# The version of this module's own rules, recorded beside the packages': 1 without the app stacks.
AGENT_RULES = "2"
_RULES_KEY = "agent_rules"

# Browsers driven by programs: headless engines and automation frameworks that announce themselves.
_HEADLESS_RE = re.compile(
    r"headless|phantomjs|slimerjs|selenium|webdriver|puppeteer|playwright|htmlunit|nightmare|jsdom",
    re.IGNORECASE,
)
# Native apps' HTTP stacks: "MyApp/6.4 (iPhone; iOS 18.2) CFNetwork/1568.300.101 Darwin/24.2.0",
# "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8)", "MyApp/3.1 Alamofire/5.8.0", Ktor's "Ktor client"
# (its engines' default) and "Ktor http-client" (its UserAgent plugin's).
_APP_HTTP_STACK_RE = re.compile(r"\b(?:CFNetwork/|Dalvik/|Alamofire/|ktor[ -](?:http-)?client)", re.IGNORECASE)


@lru_cache(maxsize=1)
def _crawler_detect() -> Any:
    from crawlerdetect import CrawlerDetect

    return CrawlerDetect()


@lru_cache(maxsize=AGENT_CACHE_SIZE)
def parse_agent(agent: str) -> AgentInfo:
    """The client classes of a user agent string (cached per string)."""
    info = parse_agent_without_app_stacks(agent)
    if info.http_library or info.known_bot or info.headless:
        return info
    if _APP_HTTP_STACK_RE.search(agent[:MAX_PARSED_AGENT_LENGTH]) is None:
        return info
    return AgentInfo(known_bot=False, headless=False, http_library=True, unrecognised=False)


@lru_cache(maxsize=AGENT_CACHE_SIZE)
def parse_agent_without_app_stacks(agent: str) -> AgentInfo:
    """``parse_agent`` by the rules before the app stacks (``AGENT_RULES`` 1), for models trained then."""
    import ua_parser

    text = agent[:MAX_PARSED_AGENT_LENGTH]
    parsed = ua_parser.parse(text)
    family = parsed.user_agent.family if parsed.user_agent else "Other"
    spider = parsed.device is not None and parsed.device.family == "Spider"
    headless = not spider and _HEADLESS_RE.search(text) is not None
    # crawlerdetect lists bots and HTTP tools together: what is left once crawlers and headless
    # browsers are set apart is the libraries and tools.
    crawler = _crawler_detect().is_crawler(text)
    return AgentInfo(
        known_bot=spider,
        headless=headless,
        http_library=crawler and not spider and not headless,
        unrecognised=family == "Other" and not (spider or headless or crawler),
    )


@lru_cache(maxsize=AGENT_CACHE_SIZE)
def browser_name(agent: str) -> str:
    """The browser a user agent names, as ua-parser reads it, lower-cased: ``chrome``, ``opera``,
    ``mobile safari`` (``other`` where it knows none)."""
    import ua_parser

    parsed = ua_parser.parse(agent[:MAX_PARSED_AGENT_LENGTH]).user_agent
    return (parsed.family if parsed else "Other").lower()


def describe() -> dict[str, str]:
    """The parser packages' versions and this module's rules' (``AGENT_RULES``), as the model's
    metadata records them."""
    return {**{package: version(package) for package in PARSER_PACKAGES}, _RULES_KEY: AGENT_RULES}


_LOOKUP_BY_RULES: dict[str, AgentLookup] = {"1": parse_agent_without_app_stacks, AGENT_RULES: parse_agent}


def check_parser(recorded: Mapping[str, Any] | None) -> AgentLookup | None:
    """``parse_agent`` (or the earlier rules a model was trained with) if the installed parsers are
    the ones recorded at training (None if the model was trained without one); raises
    ``AgentParserError`` naming the versions that differ, or rules newer than this code's."""
    if not recorded:
        return None
    rules = str(recorded.get(_RULES_KEY, "1"))  # (not recorded before there was a version 2)
    if rules not in _LOOKUP_BY_RULES:
        raise AgentParserError(
            f"the model was trained with user-agent rules {rules}; this runtime has {sorted(_LOOKUP_BY_RULES)}: "
            "upgrade the scorer or retrain"
        )
    recorded = {name: value for name, value in recorded.items() if name != _RULES_KEY}
    installed = {name: value for name, value in describe().items() if name != _RULES_KEY}
    if dict(recorded) != installed:
        differences = sorted(name for name in {*recorded, *installed} if recorded.get(name) != installed.get(name))
        raise AgentParserError(
            f"user-agent parser {', '.join(differences)} differ: the model was trained with {dict(recorded)}, "
            f"this runtime has {installed}; install the versions of requirements.txt or retrain"
        )
    return _LOOKUP_BY_RULES[rules]
