"""What a user agent says about the client: a declared crawler, a headless or automated browser, an
HTTP library or command-line tool, or something no parser recognises.

Parsed by maintained rule sets rather than by patterns of our own: ua-parser (the uap-core regexes,
shipped as ``ua-parser-builtins``; device family "Spider" marks self-declared crawlers) and
crawlerdetect (the CrawlerDetect project's list of bots, tools and libraries). Headless and
automation markers are the one list kept here: neither parser separates a headless browser from a
crawler.

A parse takes tens to hundreds of microseconds, and a user keeps one agent for many events, so
answers are cached per agent string (``parse_agent``). The rule sets change between releases, so
the versions a model was trained with are recorded in its metadata (``describe``) and the scorer
refuses others at cold start (``check_parser``).
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

# Browsers driven by programs: headless engines and automation frameworks that announce themselves.
_HEADLESS_RE = re.compile(
    r"headless|phantomjs|slimerjs|selenium|webdriver|puppeteer|playwright|htmlunit|nightmare|jsdom",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def _crawler_detect() -> Any:
    from crawlerdetect import CrawlerDetect

    return CrawlerDetect()


@lru_cache(maxsize=AGENT_CACHE_SIZE)
def parse_agent(agent: str) -> AgentInfo:
    """The client classes of a user agent string (cached per string)."""
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


def describe() -> dict[str, str]:
    """The parser packages' versions, as the model's metadata records them."""
    return {package: version(package) for package in PARSER_PACKAGES}


def check_parser(recorded: Mapping[str, Any] | None) -> AgentLookup | None:
    """``parse_agent`` if the installed parsers are the ones recorded at training (None if the model
    was trained without one); raises ``AgentParserError`` naming the versions that differ."""
    if not recorded:
        return None
    installed = describe()
    if dict(recorded) != installed:
        differences = sorted(name for name in {*recorded, *installed} if recorded.get(name) != installed.get(name))
        raise AgentParserError(
            f"user-agent parser {', '.join(differences)} differ: the model was trained with {dict(recorded)}, "
            f"this runtime has {installed}; install the versions of requirements.txt or retrain"
        )
    return parse_agent
