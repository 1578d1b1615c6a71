"""User agents: the browsers and apps real customers use, and the clients abuse comes from."""

from __future__ import annotations

import random

DESKTOP = "desktop"
MOBILE = "mobile"
APP = "app"

_CHROME_VERSIONS = ("128.0.0.0", "129.0.0.0", "130.0.0.0", "131.0.0.0")
_FIREFOX_VERSIONS = ("131.0", "132.0", "133.0")
_SAFARI_VERSIONS = ("17.6", "18.0", "18.1")
_IOS_VERSIONS = ("17_6", "18_0", "18_1")
_ANDROID_DEVICES = ("Pixel 8", "Pixel 7a", "SM-S918B", "SM-A546B", "moto g84 5G")
_APP_VERSIONS = ("5.3.2", "5.4.0", "5.4.1")


def desktop_agent(rng: random.Random) -> str:
    """A desktop browser user agent (Chrome, Edge, Firefox or Safari)."""
    pick = rng.random()
    chrome = rng.choice(_CHROME_VERSIONS)
    if pick < 0.45:
        return (
            f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{chrome} Safari/537.36"
        )
    if pick < 0.6:
        return (
            f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{chrome} Safari/537.36 Edg/{chrome}"
        )
    if pick < 0.75:
        firefox = rng.choice(_FIREFOX_VERSIONS)
        system = rng.choice(("Windows NT 10.0; Win64; x64", "X11; Linux x86_64", "X11; Ubuntu; Linux x86_64"))
        return f"Mozilla/5.0 ({system}; rv:{firefox}) Gecko/20100101 Firefox/{firefox}"
    if pick < 0.9:
        safari = rng.choice(_SAFARI_VERSIONS)
        return (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            f"Version/{safari} Safari/605.1.15"
        )
    return (
        f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{chrome} Safari/537.36"
    )


def mobile_agent(rng: random.Random) -> str:
    """A mobile browser user agent (Safari on iPhone or Chrome on Android)."""
    if rng.random() < 0.5:
        ios = rng.choice(_IOS_VERSIONS)
        return (
            f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            f"Version/{ios.replace('_', '.')} Mobile/15E148 Safari/604.1"
        )
    return (
        f"Mozilla/5.0 (Linux; Android 14; {rng.choice(_ANDROID_DEVICES)}) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{rng.choice(_CHROME_VERSIONS)} Mobile Safari/537.36"
    )


def app_agent(rng: random.Random) -> str:
    """The shop's own mobile app."""
    version = rng.choice(_APP_VERSIONS)
    if rng.random() < 0.5:
        return f"VedetteShop/{version} (iPhone; iOS {rng.choice(_IOS_VERSIONS).replace('_', '.')}; Scale/3.00)"
    return f"VedetteShop/{version} (Android 14; {rng.choice(_ANDROID_DEVICES)})"


def device_agent(rng: random.Random, kind: str) -> str:
    """A user agent for a device of ``kind`` (``DESKTOP``, ``MOBILE`` or ``APP``)."""
    if kind == DESKTOP:
        return desktop_agent(rng)
    if kind == MOBILE:
        return mobile_agent(rng)
    return app_agent(rng)


# Clients that automated abuse tends to show, honestly or not.
SCRIPT_AGENTS = (
    "python-requests/2.32.3",
    "python-httpx/0.27.2",
    "curl/8.5.0",
    "Go-http-client/1.1",
    "Java/17.0.12",
    "okhttp/4.12.0",
    "axios/1.7.7",
    "Scrapy/2.11.2 (+https://scrapy.org)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0",
    "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)",
)


def script_agent(rng: random.Random) -> str:
    """A user agent typical of scripts, headless browsers or stale spoofing."""
    return SCRIPT_AGENTS[rng.randrange(len(SCRIPT_AGENTS))]
