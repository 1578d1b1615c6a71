#!/usr/bin/env python3
"""Synthetic nginx access log of an airline / travel booking site, with labelled bot sessions.

nginx configuration the log pretends to come from:

    log_format booking '$remote_addr - $remote_user [$time_local] "$request" $status '
                       '$body_bytes_sent "$http_referer" "$http_user_agent" $cookie_SESSION $request_time';

SESSION is the site's (Spring Session style) session cookie: base64 of a UUID, set on the first
response of a visit, expired server side after 30 minutes idle.  The log holds the cookie the
request *carried*, so a browser's first request logs '-', and clients that keep no cookies log '-'
on every request.

Writes train.log (7 days), test.log (3 days), labels.csv (key,label for every session of both
periods) and truth.csv (key,period,kind,family,lines,...) for the analysis.  Deterministic for --seed.

Session keys in labels.csv: the SESSION cookie value, or for clients that never send the cookie
'client:' + first 16 hex of sha256(ip + '\\x1f' + user_agent), which is how docs/traffic.md says the
importer keys such requests.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import ipaddress
import math
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

TZ = timezone(timedelta(hours=1))  # CET, February
HOST = "https://www.skyvia-travel.example"
TRAIN_START = datetime(2026, 2, 2, tzinfo=TZ)  # Monday
TEST_START = datetime(2026, 2, 9, tzinfo=TZ)
TEST_END = datetime(2026, 2, 12, tzinfo=TZ)
T0 = TRAIN_START.timestamp()
T_SPLIT = TEST_START.timestamp()
T_END = TEST_END.timestamp()
DAY = 86400.0

# ----------------------------------------------------------------------------- networks
RESIDENTIAL = {
    "DE": [
        "79.192.0.0/10",
        "91.32.0.0/12",
        "217.80.0.0/14",
        "84.56.0.0/13",
        "188.192.0.0/17",
        "178.24.0.0/14",
        "78.34.0.0/16",
    ],
    "GB": ["86.136.0.0/13", "109.144.0.0/12", "82.8.0.0/13", "62.252.0.0/15", "5.64.0.0/13", "2.96.0.0/14"],
    "FR": ["90.12.0.0/18", "82.64.0.0/14", "176.128.0.0/11"],
    "ES": ["83.44.0.0/14", "88.0.0.0/11"],
    "IT": ["79.0.0.0/11", "87.0.0.0/11"],
    "NL": ["86.80.0.0/13", "77.160.0.0/15"],
    "CH": ["178.192.0.0/13", "62.202.0.0/15"],
    "BE": ["81.164.0.0/15", "94.104.0.0/13"],
    "US": ["73.0.0.0/8", "76.100.0.0/15", "24.5.0.0/19", "71.176.0.0/12", "98.160.0.0/16"],
}
MOBILE = {  # carrier-grade NAT: a small pool of shared addresses per carrier
    "DE": ["80.187.0.0/17", "176.0.0.0/13", "89.204.128.0/19", "109.40.2.0/23"],
    "GB": ["92.40.0.0/15", "31.64.0.0/10", "85.255.224.0/20"],
    "FR": ["37.171.0.0/16", "80.214.0.0/15"],
    "ES": ["88.0.0.0/11"],
    "IT": ["151.32.0.0/13"],
    "NL": ["77.160.0.0/15"],
    "CH": ["178.192.0.0/13"],
    "BE": ["94.104.0.0/13"],
    "US": ["172.58.0.0/16", "174.192.0.0/12"],
}
HOSTING = [
    "88.198.0.0/17",
    "159.203.0.0/18",
    "167.99.0.0/20",
    "139.59.0.0/18",
    "3.248.0.0/13",
    "18.184.0.0/15",
    "35.180.0.0/15",
    "89.187.162.0/23",
    "185.107.56.0/24",
    "51.75.5.0/25",
]
COUNTRY_W = {"DE": 34, "GB": 19, "FR": 10, "ES": 8, "IT": 7, "NL": 6, "CH": 4, "BE": 3, "US": 9}
LOCALE = {
    "DE": "de-DE",
    "GB": "en-GB",
    "FR": "fr-FR",
    "ES": "es-ES",
    "IT": "it-IT",
    "NL": "nl-NL",
    "CH": "de-CH",
    "BE": "fr-BE",
    "US": "en-US",
}
TZ_SHIFT = {"US": -6, "GB": -1}  # hours relative to CET


def rand_ip(rng, cidr):
    net = ipaddress.ip_network(cidr)
    n = net.num_addresses
    while True:
        a = net.network_address + rng.randrange(1, n - 1)
        last = int(a) & 0xFF
        if 1 <= last <= 254:
            return str(a)


# ----------------------------------------------------------------------------- user agents
def chrome_win(v):
    return f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"


DESKTOP_UAS = [  # (weight, ua)
    (16, chrome_win(144)),
    (9, chrome_win(143)),
    (3, chrome_win(142)),
    (
        7,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/144.0.0.0 Safari/537.36",
    ),
    (
        2,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36",
    ),
    (
        7,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/144.0.0.0 Safari/537.36 Edg/144.0.3719.82",
    ),
    (
        2,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.3650.96",
    ),
    (5, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:147.0) Gecko/20100101 Firefox/147.0"),
    (1, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0"),
    (1, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:147.0) Gecko/20100101 Firefox/147.0"),
    (1, "Mozilla/5.0 (X11; Linux x86_64; rv:147.0) Gecko/20100101 Firefox/147.0"),
    (1, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/144.0.0.0 Safari/537.36"),
    (
        5,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.2 Safari/605.1.15",
    ),
    (
        2,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Safari/605.1.15",
    ),
    (
        1,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 OPR/127.0.0.0",
    ),
]
MOBILE_UAS = [
    (
        12,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.2 Mobile/15E148 Safari/604.1",
    ),
    (
        5,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.7 Mobile/15E148 Safari/604.1",
    ),
    (
        2,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1",
    ),
    (
        3,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/144.0.7559.85 Mobile/15E148 Safari/604.1",
    ),
    (
        14,
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/144.0.0.0 Mobile Safari/537.36",
    ),
    (
        4,
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36",
    ),
    (
        4,
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/29.0 Chrome/136.0.0.0 Mobile Safari/537.36",
    ),
    (1, "Mozilla/5.0 (Android 15; Mobile; rv:147.0) Gecko/147.0 Firefox/147.0"),
    (
        2,
        "Mozilla/5.0 (iPad; CPU OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.2 Mobile/15E148 Safari/604.1",
    ),
    (
        1,
        "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/144.0.0.0 Safari/537.36",
    ),
    (
        1,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 410.0.0.27.70 (iPhone15,3; iOS 18_6; de_DE; de; scale=3.00; 1179x2556; 755432843)",
    ),
    (
        1,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/540.0.0.41.91;FBBV/781234567;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/18.6;FBSS/3;FBCR/;FBID/phone;FBLC/en_GB;FBOP/5]",
    ),
]
# What scrapers copy from user-agent lists: older or full-version Chrome strings
SCRAPER_UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.6167.85 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    chrome_win(144),
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
]
PARTNER_UA = "Apache-HttpClient/4.5.14 (Java/17.0.10)"
UPTIME_UA = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
GOOGLEBOT_UAS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/144.0.7559.96 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
]
BINGBOT_UA = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36"


def wchoice(rng, pairs):
    total = sum(w for w, _ in pairs)
    x = rng.random() * total
    for w, v in pairs:
        x -= w
        if x <= 0:
            return v
    return pairs[-1][1]


# ----------------------------------------------------------------------------- catalogue
HOME_AIRPORTS = {
    "DE": ["FRA", "MUC", "BER", "DUS", "HAM"],
    "GB": ["LHR", "LGW", "MAN", "EDI"],
    "FR": ["CDG", "ORY", "NCE", "LYS"],
    "ES": ["MAD", "BCN", "PMI"],
    "IT": ["FCO", "MXP"],
    "NL": ["AMS"],
    "CH": ["ZRH", "GVA"],
    "BE": ["BRU"],
    "US": ["JFK", "EWR", "BOS", "ORD", "SFO"],
}
DESTS = [
    (10, "LIS"),
    (9, "BCN"),
    (8, "JFK"),
    (7, "PMI"),
    (6, "AMS"),
    (6, "FCO"),
    (5, "ATH"),
    (5, "DXB"),
    (5, "LHR"),
    (4, "CDG"),
    (4, "VIE"),
    (4, "CPH"),
    (4, "IST"),
    (3, "BKK"),
    (3, "SIN"),
    (3, "MLE"),
    (3, "TFS"),
    (3, "LPA"),
    (3, "FAO"),
    (3, "OPO"),
    (2, "MIA"),
    (2, "LAX"),
    (2, "YYZ"),
    (2, "NCE"),
    (2, "PRG"),
    (2, "BUD"),
    (2, "KEF"),
    (2, "HND"),
    (2, "CUN"),
    (2, "MAD"),
    (2, "MUC"),
    (2, "ZRH"),
]
CITY = {
    "FRA": "frankfurt",
    "MUC": "munich",
    "BER": "berlin",
    "DUS": "duesseldorf",
    "HAM": "hamburg",
    "LHR": "london",
    "LGW": "london",
    "MAN": "manchester",
    "EDI": "edinburgh",
    "CDG": "paris",
    "ORY": "paris",
    "NCE": "nice",
    "LYS": "lyon",
    "MAD": "madrid",
    "BCN": "barcelona",
    "PMI": "palma-de-mallorca",
    "FCO": "rome",
    "MXP": "milan",
    "AMS": "amsterdam",
    "ZRH": "zurich",
    "GVA": "geneva",
    "BRU": "brussels",
    "JFK": "new-york",
    "EWR": "new-york",
    "BOS": "boston",
    "ORD": "chicago",
    "SFO": "san-francisco",
    "LIS": "lisbon",
    "ATH": "athens",
    "DXB": "dubai",
    "VIE": "vienna",
    "CPH": "copenhagen",
    "IST": "istanbul",
    "BKK": "bangkok",
    "SIN": "singapore",
    "MLE": "male",
    "TFS": "tenerife",
    "LPA": "gran-canaria",
    "FAO": "faro",
    "OPO": "porto",
    "MIA": "miami",
    "LAX": "los-angeles",
    "YYZ": "toronto",
    "PRG": "prague",
    "BUD": "budapest",
    "KEF": "reykjavik",
    "HND": "tokyo",
    "CUN": "cancun",
}
AIRLINES = [
    "LH",
    "BA",
    "AF",
    "KL",
    "IB",
    "TP",
    "LX",
    "OS",
    "SN",
    "EK",
    "TK",
    "UA",
    "DL",
    "AZ",
    "SK",
    "FR",
    "U2",
    "VY",
    "EW",
    "DE",
]
DEST_PAGES = [
    "lisbon",
    "barcelona",
    "new-york",
    "palma-de-mallorca",
    "rome",
    "athens",
    "dubai",
    "vienna",
    "copenhagen",
    "istanbul",
    "bangkok",
    "tenerife",
    "faro",
    "porto",
    "miami",
    "prague",
    "reykjavik",
    "tokyo",
]

CORE_ASSETS = [
    ("/static/css/main.7c1e4a2f.css", 91_204),
    ("/static/js/runtime.2b9f11c0.js", 4_812),
    ("/static/js/vendor.91ac3e5d.js", 312_660),
    ("/static/js/app.e4d21b77.js", 188_431),
    ("/static/fonts/inter-var.3a8c.woff2", 71_112),
    ("/static/img/logo.svg", 6_204),
]
PAGE_ASSETS = {
    "home": [("/static/img/hero/winter-26.webp", 144_300), ("/static/js/chunk-home.5f2a.js", 22_108)],
    "landing": [("/static/img/hero/winter-26.webp", 144_300), ("/static/js/chunk-landing.77b0.js", 18_455)],
    "results": [("/static/js/chunk-results.c93d.js", 41_700), ("/static/img/icons/sprite.8d1e.svg", 12_980)],
    "offer": [("/static/js/chunk-offer.0e44.js", 27_650)],
    "passengers": [("/static/js/chunk-booking.a1b8.js", 53_001)],
    "seats": [("/static/js/seatmap.5a1f0c.js", 64_211), ("/static/img/seatmap/a320.svg", 31_877)],
    "payment": [
        ("/static/js/chunk-payment.3c9d.js", 38_420),
        ("/static/img/cards/visa.svg", 1_820),
        ("/static/img/cards/mastercard.svg", 2_010),
    ],
    "confirmation": [("/static/img/icons/check.svg", 700)],
    "manage": [("/static/js/chunk-manage.b2f6.js", 31_122)],
    "login": [("/static/js/chunk-account.9e07.js", 19_808)],
    "account": [("/static/js/chunk-account.9e07.js", 19_808)],
    "status": [("/static/js/chunk-status.45aa.js", 12_410)],
    "dest": [("/static/js/chunk-landing.77b0.js", 18_455)],
    "other": [],
}


def hexid(rng, n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def pnr(rng):
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))


def session_cookie(rng):
    u = uuid.UUID(int=rng.getrandbits(128), version=4)
    return base64.b64encode(str(u).encode()).decode()


def client_key(ip, ua):
    return "client:" + hashlib.sha256((ip + "\x1f" + ua).encode("utf-8")).hexdigest()[:16]


def fmt_time(t):
    return datetime.fromtimestamp(t, TZ).strftime("%d/%b/%Y:%H:%M:%S %z")


def ymd(t):
    return datetime.fromtimestamp(t, TZ).strftime("%Y-%m-%d")


# ----------------------------------------------------------------------------- the log
@dataclass
class Rec:
    t: float
    line: str
    key: str  # truth: which session this request belongs to


class Log:
    def __init__(self):
        self.recs: list[Rec] = []
        self.truth: dict[str, dict] = {}

    def add(self, t, ip, method, path, status, size, ref, ua, cookie, rt, key, proto="HTTP/2.0"):
        if not (T0 <= t < T_END):
            return
        line = (
            f'{ip} - - [{fmt_time(t)}] "{method} {path} {proto}" {status} {size} '
            f'"{ref or "-"}" "{ua}" {cookie or "-"} {rt:.3f}'
        )
        self.recs.append(Rec(t, line, key))
        self.truth[key]["lines"] += 1
        self.truth[key]["first"] = min(self.truth[key]["first"], t)
        self.truth[key]["last"] = max(self.truth[key]["last"], t)

    def register(self, key, kind, family, ip, ua, note=""):
        if key not in self.truth:
            self.truth[key] = dict(
                kind=kind, family=family, ip=ip, ua=ua, note=note, lines=0, first=float("inf"), last=0.0
            )


LOG = Log()
ROT_RNG = random.Random(0)
ROTATE_ON_LOGIN = False  # --rotate-on-login: the server issues a new SESSION id at login (session-fixation defence)


class Browser:
    """One client's visit. Tracks the SESSION cookie as the server sets it and the browser sends it."""

    def __init__(self, rng, ip, ua, kind, family, *, keeps_cookies=True, cache=None, proto="HTTP/2.0", note=""):
        self.rng = rng
        self.ip, self.ua = ip, ua
        self.kind, self.family, self.note = kind, family, note
        self.keeps_cookies = keeps_cookies
        self.sid = None  # cookie the browser holds
        self.last = None
        self.cache = cache if cache is not None else set()
        self.proto = proto
        self.keys = []
        self.ckey = client_key(ip, ua)
        if not keeps_cookies:
            LOG.register(self.ckey, kind, family, ip, ua, note)
            self.keys.append(self.ckey)

    def req(self, t, method, path, status=200, size=None, ref=None, rt=None, asset=False):
        rng = self.rng
        if size is None:
            size = rng.randint(800, 9000)
        if rt is None:
            rt = 0.0 if asset else rng.uniform(0.004, 0.08)
        if not self.keeps_cookies:
            LOG.add(t, self.ip, method, path, status, size, ref, self.ua, None, rt, self.ckey, self.proto)
            self.last = t
            return
        carried = self.sid
        if self.sid is None or (self.last is not None and t - self.last > 1800):
            # no cookie yet, or the server's session expired: the response sets a new SESSION
            self.sid = session_cookie(rng)
            LOG.register(self.sid, self.kind, self.family, self.ip, self.ua, self.note)
            self.keys.append(self.sid)
        key = carried if carried is not None else self.sid
        LOG.add(t, self.ip, method, path, status, size, ref, self.ua, carried, rt, key, self.proto)
        self.last = t

    def rotate(self):
        """A successful login: the response sets a new SESSION id (only with --rotate-on-login)."""
        if ROTATE_ON_LOGIN and self.keeps_cookies and self.sid is not None:
            self.sid = session_cookie(ROT_RNG)  # own generator: the variant differs only in these ids
            LOG.register(self.sid, self.kind, self.family, self.ip, self.ua, self.note)
            self.keys.append(self.sid)

    def assets(self, t, page_url, kind, fetch_assets=True):
        """Static files a page needs, after its HTML; cached ones are not requested again."""
        if not fetch_assets:
            return t
        rng = self.rng
        todo = [a for a in CORE_ASSETS + PAGE_ASSETS.get(kind, []) if a[0] not in self.cache]
        tt = t + rng.uniform(0.05, 0.35)
        for path, size in todo:
            tt += rng.uniform(0.002, 0.06)
            self.req(tt, "GET", path, 200, size, page_url, rng.uniform(0.0, 0.004), asset=True)
            self.cache.add(path)
        if "/favicon.ico" not in self.cache and rng.random() < 0.7:
            self.req(tt + rng.uniform(0.05, 0.4), "GET", "/favicon.ico", 200, 15_086, page_url, 0.0, asset=True)
            self.cache.add("/favicon.ico")
        elif todo == [] and rng.random() < 0.08:  # an occasional revalidation
            p, _ = rng.choice(CORE_ASSETS)
            self.req(tt, "GET", p, 304, 0, page_url, 0.0, asset=True)
        return tt


# ----------------------------------------------------------------------------- pages of the site
def search_params(rng, origin, dest, t, *, depart_days=None, trip=None, adults=None, cabin=None):
    if depart_days is None:
        depart_days = int(min(300, 2 + rng.expovariate(1 / 40)))
    dep = t + depart_days * DAY
    q = f"from={origin}&to={dest}&depart={ymd(dep)}"
    if trip is None:
        trip = "rt" if rng.random() < 0.72 else "ow"
    if trip == "rt":
        q += f"&return={ymd(dep + rng.choice([2, 3, 4, 5, 7, 7, 7, 10, 14, 14, 21]) * DAY)}"
    if adults is None:
        adults = wchoice(rng, [(45, 1), (35, 2), (8, 3), (9, 4), (3, 5)])
    q += f"&adults={adults}"
    if rng.random() < 0.12:
        q += f"&children={rng.randint(1, 3)}"
    q += f"&cabin={cabin or wchoice(rng, [(90, 'economy'), (5, 'premium'), (5, 'business')])}"
    return q


def page(b: Browser, t, path, ref, kind, *, assets=True, xhr=(), status=200, size=None):
    """A page: HTML, its static files, the session check and the page's own XHR calls.
    Returns the time the page finished loading."""
    rng = b.rng
    url = HOST + path
    b.req(t, "GET", path, status, size or rng.randint(14_000, 62_000), ref, rng.uniform(0.03, 0.35))
    tt = b.assets(t, url, kind, assets)
    tt = max(tt, t + rng.uniform(0.15, 0.6))
    b.req(tt, "GET", "/api/v1/session", 200, rng.randint(180, 420), url, rng.uniform(0.004, 0.03))
    for call in xhr:
        if isinstance(call, tuple):
            p, rt, sz = call
        else:
            p, rt, sz = call, rng.uniform(0.02, 0.25), rng.randint(600, 12_000)
        tt += rng.uniform(0.02, 0.4)
        b.req(tt, "GET", p, 200, sz, url, rt)
    return tt + rng.uniform(0.2, 1.0)


def xhr(b: Browser, t, method, path, ref_path, status=200, size=None, rt=None):
    b.req(t, method, path, status, size, HOST + ref_path, rt)


def think(rng, median=13.0, sigma=1.05):
    x = rng.lognormvariate(math.log(median), sigma)
    if rng.random() < 0.04:  # away from the tab: heavy tail
        x += 60 * rng.paretovariate(1.3)
    return max(1.2, min(x, 3 * 3600))


def typeahead(b, t, text, ref_path):
    """Airport suggestions while typing, debounced."""
    rng = b.rng
    n = rng.randint(1, 3)
    for i in range(n):
        t += rng.uniform(0.25, 0.9)
        q = text[: min(len(text), 2 + i)].lower()
        xhr(
            b,
            t,
            "GET",
            f"/api/v1/airports/suggest?q={q}&locale=en",
            ref_path,
            200,
            rng.randint(400, 2500),
            rng.uniform(0.01, 0.06),
        )
    return t + rng.uniform(0.3, 1.5)


def results_page(b, t, q, ref, assets=True):
    rng = b.rng
    path = f"/flights/search?{q}"
    orig = q.split("from=")[1][:3]
    dest = q.split("to=")[1][:3]
    month = q.split("depart=")[1][:7]
    search_rt = rng.uniform(0.6, 3.2)
    end = page(
        b,
        t,
        path,
        ref,
        "results",
        assets=assets,
        xhr=[
            (f"/api/v1/flights/search?{q}", search_rt, rng.randint(20_000, 160_000)),
            (
                f"/api/v1/fares/calendar?from={orig}&to={dest}&month={month}",
                rng.uniform(0.05, 0.4),
                rng.randint(1500, 4000),
            ),
        ],
    )
    # airline logos of the results
    for code in rng.sample(AIRLINES, rng.randint(2, 6)):
        p = f"/static/img/airlines/{code}.svg"
        if assets and p not in b.cache:
            b.req(end, "GET", p, 200, rng.randint(900, 4000), HOST + path, 0.0, asset=True)
            b.cache.add(p)
    return path, end + search_rt


def offer_page(b, t, ref, assets=True, offer=None):
    rng = b.rng
    offer = offer or "OF" + hexid(rng, 12).upper()
    path = f"/flights/offer/{offer}"
    end = page(
        b,
        t,
        path,
        ref,
        "offer",
        assets=assets,
        xhr=[f"/api/v1/offers/{offer}", f"/api/v1/offers/{offer}/fare-rules", f"/api/v1/ancillaries?offer={offer}"],
    )
    return path, offer, end


# ----------------------------------------------------------------------------- people
@dataclass
class Device:
    ua: str
    mobile: bool
    cache: set = field(default_factory=set)
    last_visit: float = -1e12


@dataclass
class Person:
    pid: int
    country: str
    devices: list
    home_ip: str
    carrier: str | None
    rate: float  # sessions a day
    account: bool
    office: str | None = None  # corporate NAT address, if any
    business_hours: bool = False


def make_people(rng, n=3400, daily_sessions=215.0):
    people = []
    countries = [(w, c) for c, w in COUNTRY_W.items()]
    # mobile carrier NAT pools: a few dozen public addresses per carrier, shared by everyone on it
    cgnat = {}
    for c, nets in MOBILE.items():
        for net in nets:
            cgnat[net] = [rand_ip(rng, net) for _ in range(rng.randint(18, 40))]
    raw = []
    for i in range(n):
        c = wchoice(rng, countries)
        devs = []
        for _ in range(1 if rng.random() < 0.6 else 2):
            mob = rng.random() < 0.55
            devs.append(Device(wchoice(rng, MOBILE_UAS if mob else DESKTOP_UAS), mob))
        home = rand_ip(rng, rng.choice(RESIDENTIAL[c]))
        carrier = rng.choice(MOBILE[c])
        raw.append(min(rng.paretovariate(1.4), 60.0))
        people.append(Person(i, c, devs, home, carrier, 0.0, rng.random() < 0.35))
    # two offices behind corporate NAT: a travel desk (managed Edge build) and a small agency
    offices = [
        (
            "217.110.12.34",
            "DE",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.3650.96",
            14,
        ),
        ("81.2.69.160", "GB", chrome_win(144), 6),
    ]
    for ip, c, ua, k in offices:
        for _ in range(k):
            devs = [Device(ua if rng.random() < 0.85 else wchoice(rng, DESKTOP_UAS), False)]
            raw.append(rng.uniform(3, 8))
            people.append(Person(len(people), c, devs, ip, None, 0.0, True, office=ip, business_hours=True))
    total = sum(raw)
    for p, r in zip(people, raw):
        p.rate = r / total * daily_sessions
    return people, cgnat


HOUR_W = [
    0.16,
    0.09,
    0.05,
    0.04,
    0.05,
    0.12,
    0.33,
    0.58,
    0.82,
    0.95,
    1.0,
    1.0,
    1.05,
    1.0,
    0.95,
    0.95,
    1.0,
    1.05,
    1.12,
    1.28,
    1.38,
    1.25,
    0.88,
    0.45,
]
DOW_W = [1.05, 1.0, 1.0, 0.97, 0.9, 0.82, 1.02]


def intensity(t, country, business=False):
    dt = datetime.fromtimestamp(t, TZ)
    if business:
        if dt.weekday() >= 5 or not (8 <= dt.hour < 18):
            return 0.0
        return 2.2
    h = (dt.hour + TZ_SHIFT.get(country, 0)) % 24
    return HOUR_W[h] * DOW_W[dt.weekday()] / 0.82


def session_starts(rng, p):
    """Poisson process thinned by the local hour and the day of week."""
    out = []
    lam_max = p.rate * 2.3 / DAY
    t = T0 - 3600
    while True:
        t += rng.expovariate(lam_max)
        if t >= T_END:
            return out
        if rng.random() < intensity(max(t, T0), p.country, p.business_hours) / 2.3:
            out.append(t)


def human_session(rng, p: Person, t, cgnat):
    dev = rng.choice(p.devices)
    if p.office:
        ip = p.office
    elif dev.mobile and rng.random() < 0.75:
        ip = rng.choice(cgnat[p.carrier])
    else:
        ip = p.home_ip
        if rng.random() < 0.03:  # the ISP gave the router a new address
            p.home_ip = ip = rand_ip(rng, rng.choice(RESIDENTIAL[p.country]))
    # browser cache: warm if the device came within the week, unless cleared / private window
    if t - dev.last_visit > 7 * DAY or rng.random() < 0.15:
        dev.cache = set()
    dev.last_visit = t
    b = Browser(
        rng,
        ip,
        dev.ua,
        "human",
        "normal",
        cache=dev.cache,
        note=("office" if p.office else ("mobile" if dev.mobile else "desktop")),
    )
    home = rng.choice(HOME_AIRPORTS[p.country])
    dest = wchoice(rng, DESTS)
    if dest == home:
        dest = "LIS"
    flow = wchoice(
        rng,
        [
            (30, "browse"),
            (13, "bounce"),
            (9, "book"),
            (11, "abandon"),
            (9, "manage"),
            (9, "account"),
            (5, "status"),
            (6, "meta"),
            (8, "landing"),
        ],
    )
    if p.business_hours:
        flow = wchoice(rng, [(35, "browse"), (25, "book"), (15, "abandon"), (15, "manage"), (10, "account")])
    ext_ref = wchoice(
        rng,
        [
            (40, None),
            (30, "https://www.google.com/"),
            (8, "https://www.google.de/"),
            (4, "https://www.bing.com/"),
            (4, "https://duckduckgo.com/"),
            (3, "https://www.facebook.com/"),
            (2, "https://mail.google.com/"),
        ],
    )
    ref = ext_ref

    def home_page(t, ref):
        path = "/"
        end = page(
            b,
            t,
            path,
            ref,
            "home",
            xhr=[f"/api/v1/deals?market={p.country.lower()}", "/api/v1/i18n/" + LOCALE[p.country]],
        )
        return path, end

    def search_from(t, cur_path, dest, **kw):
        t = typeahead(b, t, CITY.get(home, home), cur_path)
        t = typeahead(b, t + rng.uniform(0.5, 2), CITY.get(dest, dest), cur_path)
        q = search_params(rng, home, dest, t, **kw)
        return results_page(b, t + rng.uniform(1, 6), q, HOST + cur_path), q

    def browse_results(t, path, q, n_filters):
        # filters and sorting are XHR on the results page, after reading it
        sid = hexid(rng, 16)
        for _ in range(n_filters):
            t += think(rng, 8)
            f = rng.choice(
                [
                    "sort=price",
                    "sort=duration",
                    "stops=0",
                    "stops=0&sort=price",
                    "airlines=" + rng.choice(AIRLINES),
                    "depart_time=morning",
                    "bags=1",
                    "page=2",
                ]
            )
            xhr(
                b,
                t,
                "GET",
                f"/api/v1/flights/results/{sid}?{f}",
                path,
                200,
                rng.randint(8_000, 90_000),
                rng.uniform(0.05, 0.6),
            )
        return t

    def login(t, cur_path):
        path = "/login"
        end = page(b, t, path, HOST + cur_path, "login")
        t = end + think(rng, 14, 0.6)
        fails = 0
        r = rng.random()
        if r < 0.08:
            fails = 1
        elif r < 0.10:
            fails = rng.randint(2, 3)
        for _ in range(fails):
            xhr(b, t, "POST", "/api/v1/auth/login", path, 401, rng.randint(90, 140), rng.uniform(0.15, 0.4))
            t += think(rng, 9, 0.6)
        if fails >= 2 and rng.random() < 0.6:
            t = page(b, t, "/forgot-password", HOST + path, "login") + think(rng, 20, 0.5)
            xhr(b, t, "POST", "/api/v1/auth/password-reset", "/forgot-password", 202, 60, rng.uniform(0.1, 0.5))
            return None, t + think(rng)
        xhr(b, t, "POST", "/api/v1/auth/login", path, 200, rng.randint(400, 900), rng.uniform(0.15, 0.5))
        b.rotate()
        t += rng.uniform(0.3, 0.9)
        end = page(
            b, t, "/account/trips", HOST + path, "account", xhr=["/api/v1/account/trips", "/api/v1/account/profile"]
        )
        return "/account/trips", end

    def booking(t, offer_path, offer, stop_at=None):
        rng_ = rng
        xhr(b, t, "POST", "/api/v1/booking", offer_path, 201, rng_.randint(300, 600), rng_.uniform(0.2, 0.8))
        cart = "c_" + hexid(rng_, 12)
        t += rng_.uniform(0.3, 0.8)
        p1 = f"/booking/{cart}/passengers"
        t = page(b, t, p1, HOST + offer_path, "passengers", xhr=[f"/api/v1/booking/{cart}", "/api/v1/countries"])
        if stop_at == "passengers":
            return t
        t += think(rng_, 70, 0.6)  # typing names, passport data
        xhr(b, t, "POST", f"/api/v1/booking/{cart}/passengers", p1, 200, rng_.randint(200, 500), rng_.uniform(0.1, 0.4))
        t += rng_.uniform(0.3, 0.9)
        p2 = f"/booking/{cart}/seats"
        t = page(
            b,
            t,
            p2,
            HOST + p1,
            "seats",
            xhr=[(f"/api/v1/booking/{cart}/seatmap", rng_.uniform(0.2, 0.9), rng_.randint(30_000, 70_000))],
        )
        if stop_at == "seats":
            return t
        t += think(rng_, 25, 0.7)
        if rng_.random() < 0.55:
            xhr(b, t, "POST", f"/api/v1/booking/{cart}/seats", p2, 200, rng_.randint(200, 700), rng_.uniform(0.1, 0.5))
            t += think(rng_, 5, 0.5)
        p3 = f"/booking/{cart}/payment"
        t = page(b, t, p3, HOST + p2, "payment", xhr=[f"/api/v1/booking/{cart}/price", "/api/v1/payment/methods"])
        if stop_at == "payment":
            return t
        t += think(rng_, 45, 0.6)
        if rng_.random() < 0.05:  # declined, then another card
            xhr(
                b, t, "POST", f"/api/v1/booking/{cart}/payment", p3, 402, rng_.randint(150, 300), rng_.uniform(0.8, 3.5)
            )
            t += think(rng_, 40, 0.5)
            if rng_.random() < 0.35:
                return t  # gives up
        xhr(b, t, "POST", f"/api/v1/booking/{cart}/payment", p3, 200, rng_.randint(300, 700), rng_.uniform(1.0, 4.5))
        t += rng_.uniform(0.5, 2.0)
        page(b, t, f"/booking/{cart}/confirmation", HOST + p3, "confirmation")
        return t

    if flow == "bounce":
        if rng.random() < 0.5:
            home_page(t, ref)
        else:
            page(
                b,
                t,
                f"/destinations/{rng.choice(DEST_PAGES)}",
                ref or "https://www.google.com/",
                "dest",
                xhr=[f"/api/v1/fares/lowest?from={home}&to={dest}"],
            )
        return b
    if flow == "status":
        path = "/flight-status"
        end = page(b, t, path, ref, "status")
        t = end + think(rng, 10)
        fl = rng.choice(AIRLINES[:10]) + str(rng.randint(10, 1999))
        xhr(b, t, "GET", f"/api/v1/flight-status?flight={fl}&date={ymd(t)}", path, 200, rng.randint(800, 3000))
        if rng.random() < 0.3:
            xhr(
                b,
                t + think(rng, 20),
                "GET",
                f"/api/v1/flight-status?flight={fl}&date={ymd(t)}",
                path,
                200,
                rng.randint(800, 3000),
            )
        return b
    if flow == "manage":
        path = "/manage-booking"
        end = page(b, t, path, ref, "manage")
        t = end + think(rng, 18, 0.6)
        code = pnr(rng)
        if rng.random() < 0.12:  # a typo in the booking code
            xhr(b, t, "POST", "/api/v1/manage/lookup", path, 404, 90, rng.uniform(0.1, 0.3))
            t += think(rng, 10, 0.5)
        xhr(b, t, "POST", "/api/v1/manage/lookup", path, 200, rng.randint(300, 600), rng.uniform(0.1, 0.4))
        t += rng.uniform(0.3, 1.0)
        p2 = f"/manage-booking/{code}"
        t = page(b, t, p2, HOST + path, "manage", xhr=[f"/api/v1/manage/{code}"])
        nxt = rng.random()
        if nxt < 0.35:
            t += think(rng)
            p3 = f"/check-in/{code}"
            t = page(b, t, p3, HOST + p2, "manage", xhr=[f"/api/v1/checkin/{code}"])
            t += think(rng, 40, 0.6)
            xhr(b, t, "POST", f"/api/v1/checkin/{code}", p3, 200, rng.randint(200, 500), rng.uniform(0.3, 1.2))
            t += rng.uniform(0.5, 1.5)
            page(
                b,
                t,
                f"/check-in/{code}/boarding-pass",
                HOST + p3,
                "manage",
                xhr=[f"/api/v1/checkin/{code}/boarding-pass"],
            )
        elif nxt < 0.6:
            t += think(rng)
            p3 = f"/manage-booking/{code}/extras"
            t = page(b, t, p3, HOST + p2, "manage", xhr=[f"/api/v1/manage/{code}/ancillaries"])
            if rng.random() < 0.5:
                t += think(rng, 30, 0.6)
                st = 402 if rng.random() < 0.06 else 200
                xhr(
                    b,
                    t,
                    "POST",
                    f"/api/v1/manage/{code}/ancillaries/payment",
                    p3,
                    st,
                    rng.randint(150, 500),
                    rng.uniform(1.0, 3.5),
                )
        return b
    if flow == "account":
        start_path, t = home_page(t, ref)
        t += think(rng, 6)
        cur, t = login(t, start_path)
        if cur and rng.random() < 0.5:
            t += think(rng)
            code = pnr(rng)
            page(b, t, f"/manage-booking/{code}", HOST + cur, "manage", xhr=[f"/api/v1/manage/{code}"])
            if rng.random() < 0.3:
                b.req(t + think(rng), "GET", "/logout", 302, 0, HOST + f"/manage-booking/{code}", 0.01)
        return b
    if flow == "meta":  # deep link from a metasearch site straight to an offer
        ref = wchoice(
            rng,
            [
                (3, "https://www.skyscanner.de/"),
                (2, "https://www.kayak.com/"),
                (2, "https://www.google.com/travel/flights"),
                (1, "https://www.momondo.de/"),
            ],
        )
        opath, offer, t = offer_page(b, t, ref)
        t += think(rng, 25)
        if rng.random() < 0.4:
            booking(
                t, opath, offer, stop_at=None if rng.random() < 0.5 else rng.choice(["passengers", "seats", "payment"])
            )
        return b
    if flow == "landing":
        lp = f"/flights/{CITY.get(home, 'frankfurt')}-to-{CITY.get(dest, 'lisbon')}"
        t = page(
            b,
            t,
            lp,
            ref or "https://www.google.com/",
            "landing",
            xhr=[
                f"/api/v1/fares/lowest?from={home}&to={dest}",
                f"/api/v1/fares/calendar?from={home}&to={dest}&month={ymd(t + 30 * DAY)[:7]}",
            ],
        )
        if rng.random() < 0.5:
            return b
        t += think(rng)
        q = search_params(rng, home, dest, t)
        path, t = results_page(b, t, q, HOST + lp)
        t = browse_results(t, path, q, rng.randint(0, 2))
        return b

    # browse / book / abandon: home, search(es), results, offers
    cur, t = home_page(t, ref)
    if rng.random() < 0.15 and p.account:
        t += think(rng, 5)
        c2, t = login(t, cur)
        cur = c2 or cur
    t += think(rng, 9)
    n_searches = 1 + min(int(rng.paretovariate(1.6)) - 1, 8)
    last_offer = None
    for i in range(n_searches):
        if i == 0:
            (path, t), q = search_from(t, cur, dest)
        else:
            # refine: other dates, or another destination
            if rng.random() < 0.6:
                q = search_params(rng, home, dest, t)  # other dates from the calendar strip
            else:
                dest = wchoice(rng, DESTS)
                t = typeahead(b, t, CITY.get(dest, dest), path)
                q = search_params(rng, home, dest, t)
            path, t = results_page(b, t, q, HOST + path)
        t = browse_results(t, path, q, rng.choice([0, 0, 1, 1, 2, 3]))
        t += think(rng, 12)
        # offers, sometimes several opened in tabs
        k = wchoice(rng, [(30, 0), (40, 1), (18, 2), (12, 3)])
        tabs = k > 1 and rng.random() < 0.5
        for j in range(k):
            opath, offer, end = offer_page(b, t, HOST + path)
            last_offer = (opath, offer)
            t = (t + rng.uniform(0.8, 3.0)) if tabs else end + think(rng, 20)
        if tabs:
            t += think(rng, 40)
        if rng.random() < 0.04:  # a stale link
            b.req(t, "GET", f"/flights/offer/OF{hexid(rng, 12).upper()}", 404, 4_200, HOST + path, 0.02)
            t += think(rng, 6)
    if flow in ("book", "abandon"):
        if last_offer is None:
            opath, offer, t = offer_page(b, t, HOST + path)
            t += think(rng, 20)
        else:
            opath, offer = last_offer
        if flow == "book":
            booking(t, opath, offer)
        else:
            booking(t, opath, offer, stop_at=wchoice(rng, [(4, "passengers"), (3, "seats"), (3, "payment")]))
    return b


# ----------------------------------------------------------------------------- normal automation
def partner(rng):
    """A price-monitoring partner polling the public fares API every hour from two AWS addresses."""
    ips = ["3.249.17.201", "3.250.88.14"]
    routes = (
        [("FRA", d) for d in ["JFK", "LIS", "BCN", "DXB", "BKK"]]
        + [("MUC", d) for d in ["LIS", "PMI", "ATH"]]
        + [("LHR", d) for d in ["JFK", "DXB", "BCN"]]
        + [("AMS", "LIS"), ("CDG", "JFK"), ("ZRH", "BKK")]
    )
    t = T0 + rng.uniform(60, 600)
    for ip in ips:
        LOG.register(client_key(ip, PARTNER_UA), "partner_api", "normal", ip, PARTNER_UA)
    while t < T_END:
        ip = rng.choice(ips)
        key = client_key(ip, PARTNER_UA)
        tt = t
        for o, d in routes:
            for dd in (7, 14, 30):
                tt += rng.uniform(0.15, 0.6)
                LOG.add(
                    tt,
                    ip,
                    "GET",
                    f"/api/public/v1/fares?origin={o}&destination={d}&date={ymd(t + dd * DAY)}&pax=1",
                    200,
                    rng.randint(2_000, 14_000),
                    None,
                    PARTNER_UA,
                    None,
                    rng.uniform(0.08, 0.9),
                    key,
                    "HTTP/1.1",
                )
        if rng.random() < 0.01:
            LOG.add(
                tt + 0.5,
                ip,
                "GET",
                "/api/public/v1/fares?origin=FRA&destination=JFK&date=" + ymd(t),
                503,
                180,
                None,
                PARTNER_UA,
                None,
                5.0,
                key,
                "HTTP/1.1",
            )
        t += 3600 + rng.uniform(-20, 20)


def uptime(rng):
    ips = ["69.162.124.227", "63.143.42.246", "216.245.221.83", "69.162.124.235"]
    for ip in ips:
        LOG.register(client_key(ip, UPTIME_UA), "uptime_monitor", "normal", ip, UPTIME_UA)
    t = T0 + 17
    while t < T_END:
        ip = rng.choice(ips)
        LOG.add(
            t,
            ip,
            "HEAD",
            "/",
            200,
            0,
            "https://www.skyvia-travel.example",
            UPTIME_UA,
            None,
            rng.uniform(0.01, 0.06),
            client_key(ip, UPTIME_UA),
            "HTTP/1.1",
        )
        t += 300 + rng.uniform(-2, 2)


def crawlers(rng):
    pages = (
        ["/", "/robots.txt", "/sitemap.xml", "/flight-status", "/manage-booking", "/login"]
        + [f"/destinations/{d}" for d in DEST_PAGES]
        + [
            f"/flights/{CITY[o]}-to-{CITY[d]}"
            for o in ["FRA", "MUC", "BER", "LHR", "CDG", "MAD", "AMS", "ZRH"]
            for d in ["LIS", "BCN", "JFK", "PMI", "FCO", "ATH", "DXB", "VIE", "BKK", "TFS", "FAO", "PRG"]
        ]
    )
    gips = [
        f"66.249.{a}.{b}" for a, b in [(66, 1), (66, 3), (66, 68), (68, 33), (68, 37), (79, 12), (79, 100), (72, 142)]
    ]
    for ip in gips:
        for ua in GOOGLEBOT_UAS:
            LOG.register(client_key(ip, ua), "googlebot", "normal", ip, ua)
    t = T0
    while t < T_END:
        t += rng.expovariate(1 / 310)  # ~280 a day
        ip, ua = rng.choice(gips), (GOOGLEBOT_UAS[1] if rng.random() < 0.7 else GOOGLEBOT_UAS[0])
        pth = rng.choice(pages)
        st = 200 if rng.random() > 0.02 else 301
        LOG.add(
            t,
            ip,
            "GET",
            pth,
            st,
            rng.randint(9_000, 60_000) if pth not in ("/robots.txt",) else 412,
            None,
            ua,
            None,
            rng.uniform(0.02, 0.3),
            client_key(ip, ua),
            "HTTP/1.1",
        )
        if rng.random() < 0.12:  # rendering: a script or style
            a, s = rng.choice(CORE_ASSETS)
            LOG.add(t + rng.uniform(1, 40), ip, "GET", a, 200, s, None, ua, None, 0.001, client_key(ip, ua), "HTTP/1.1")
    bips = ["157.55.39.1", "157.55.39.58", "207.46.13.91"]
    for ip in bips:
        LOG.register(client_key(ip, BINGBOT_UA), "bingbot", "normal", ip, BINGBOT_UA)
    t = T0
    while t < T_END:
        t += rng.expovariate(1 / 1500)
        ip = rng.choice(bips)
        LOG.add(
            t,
            ip,
            "GET",
            rng.choice(pages),
            200,
            rng.randint(9_000, 60_000),
            None,
            BINGBOT_UA,
            None,
            rng.uniform(0.02, 0.3),
            client_key(ip, BINGBOT_UA),
            "HTTP/1.1",
        )


# ----------------------------------------------------------------------------- bots
def route_grid(rng, n_routes):
    origins = ["FRA", "MUC", "LHR", "CDG", "AMS", "ZRH", "MAD"]
    dests = [d for _, d in DESTS]
    return [(rng.choice(origins), d) for d in rng.sample(dests, n_routes)]


def fare_scraper(rng, t, keeps_cookies):
    ip = (
        rand_ip(rng, rng.choice(HOSTING))
        if rng.random() < 0.7
        else rand_ip(rng, rng.choice(RESIDENTIAL[rng.choice(["DE", "GB", "US"])]))
    )
    ua = rng.choice(SCRAPER_UAS)
    b = Browser(rng, ip, ua, "bot", "fare_scraper", keeps_cookies=keeps_cookies, proto="HTTP/1.1")
    grid = route_grid(rng, rng.randint(4, 10))
    days = list(range(rng.choice([1, 3, 7]), rng.choice([30, 45, 60, 90])))
    n = rng.randint(60, 320)
    html = rng.random() < 0.5  # some fetch the results pages, others go straight to the JSON
    i = 0
    for o, d in grid:
        for dd in days:
            if i >= n:
                return b
            q = f"from={o}&to={d}&depart={ymd(t + dd * DAY)}&adults=1&cabin=economy"
            if html:
                b.req(t, "GET", f"/flights/search?{q}", 200, rng.randint(14_000, 40_000), None, rng.uniform(0.03, 0.2))
                t += rng.uniform(0.1, 0.6)
            b.req(
                t,
                "GET",
                f"/api/v1/flights/search?{q}",
                200 if rng.random() > 0.01 else 500,
                rng.randint(20_000, 160_000),
                HOST + f"/flights/search?{q}" if html else None,
                rng.uniform(0.6, 3.0),
            )
            t += rng.uniform(0.4, 2.5)
            i += 1
    return b


def advanced_bot(rng, t):
    """Headless Chrome with a spoofed desktop Chrome agent on a residential proxy: loads every page
    with its assets and calls, types into the search form, waits 2-8 s with jitter, but walks a
    grid of routes and dates."""
    c = rng.choice(["DE", "GB", "NL", "FR"])
    ip = rand_ip(rng, rng.choice(RESIDENTIAL[c]))
    b = Browser(rng, ip, chrome_win(144), "bot", "advanced_bot")
    cur = "/"
    t = page(b, t, cur, None, "home", xhr=[f"/api/v1/deals?market={c.lower()}", "/api/v1/i18n/" + LOCALE[c]])
    origin = rng.choice(HOME_AIRPORTS[c])
    dests = rng.sample([d for _, d in DESTS if d != origin], rng.randint(3, 6))
    start = rng.choice([7, 14, 21])
    span = rng.randint(10, 25)
    n_target = rng.randint(40, 110)
    i = 0
    for d in dests:
        for k in range(span):
            if i >= n_target:
                return b
            t += rng.uniform(2.0, 8.0) + rng.gauss(0, 0.3)
            if k == 0 or rng.random() < 0.3:
                t = typeahead(b, t, CITY.get(d, d), cur)
            q = search_params(rng, origin, d, t, depart_days=start + k, trip="ow", adults=1, cabin="economy")
            cur, t = results_page(b, t, q, HOST + cur)
            i += 1
            if rng.random() < 0.1:
                t += rng.uniform(2.0, 8.0)
                opath, _, t = offer_page(b, t, HOST + cur)
                t += rng.uniform(2.0, 8.0)
                # back to the results
                cur, t = results_page(b, t, q, HOST + opath)
    return b


def seat_spinner(rng, t):
    """Holds seats: starts a booking for 9 passengers on the same flights, fills passengers and seats,
    reaches payment and abandons, again and again as the holds expire."""
    if rng.random() < 0.6:
        ip = rand_ip(rng, rng.choice(HOSTING))
    else:
        ip = rand_ip(rng, rng.choice(RESIDENTIAL[rng.choice(["DE", "ES", "IT"])]))
    ua = rng.choice([u for _, u in MOBILE_UAS[:6]] + [chrome_win(143), chrome_win(144)])
    b = Browser(rng, ip, ua, "bot", "seat_spinner", proto="HTTP/1.1")
    offers = ["OF" + hexid(rng, 12).upper() for _ in range(rng.randint(1, 3))]
    cycles = rng.randint(8, 24)
    for _ in range(cycles):
        offer = rng.choice(offers)
        op = f"/flights/offer/{offer}"
        b.req(t, "GET", op, 200, rng.randint(20_000, 40_000), None, rng.uniform(0.05, 0.3))
        t += rng.uniform(0.3, 1.2)
        b.req(t, "GET", f"/api/v1/offers/{offer}", 200, rng.randint(3000, 9000), HOST + op, rng.uniform(0.05, 0.2))
        t += rng.uniform(0.2, 0.8)
        b.req(t, "POST", "/api/v1/booking", 201, rng.randint(300, 600), HOST + op, rng.uniform(0.2, 0.8))
        cart = "c_" + hexid(rng, 12)
        t += rng.uniform(0.3, 1.0)
        p1 = f"/booking/{cart}/passengers"
        b.req(t, "GET", p1, 200, rng.randint(20_000, 40_000), HOST + op, rng.uniform(0.05, 0.3))
        t += rng.uniform(1.0, 4.0)
        b.req(
            t,
            "POST",
            f"/api/v1/booking/{cart}/passengers",
            200,
            rng.randint(200, 500),
            HOST + p1,
            rng.uniform(0.1, 0.4),
        )
        t += rng.uniform(0.3, 1.5)
        p2 = f"/booking/{cart}/seats"
        b.req(t, "GET", p2, 200, rng.randint(20_000, 40_000), HOST + p1, rng.uniform(0.05, 0.3))
        t += rng.uniform(0.2, 0.8)
        b.req(
            t,
            "GET",
            f"/api/v1/booking/{cart}/seatmap",
            200,
            rng.randint(30_000, 70_000),
            HOST + p2,
            rng.uniform(0.2, 0.9),
        )
        t += rng.uniform(0.5, 2.0)
        b.req(
            t,
            "POST",
            f"/api/v1/booking/{cart}/seats",
            200 if rng.random() > 0.15 else 409,
            rng.randint(200, 700),
            HOST + p2,
            rng.uniform(0.1, 0.5),
        )
        t += rng.uniform(0.3, 1.5)
        b.req(t, "GET", f"/booking/{cart}/payment", 200, rng.randint(20_000, 40_000), HOST + p2, rng.uniform(0.05, 0.3))
        t += rng.uniform(0.2, 0.6)
        b.req(
            t,
            "GET",
            f"/api/v1/booking/{cart}/price",
            200,
            rng.randint(800, 2000),
            HOST + f"/booking/{cart}/payment",
            rng.uniform(0.05, 0.3),
        )
        t += rng.uniform(60, 600)  # wait for the hold to run down, then hold again
    return b


def credential_stuffing_wave(rng, t, n_ips, duration, keeps_cookies, get_login_page):
    browsers = []
    pool = list(RESIDENTIAL.keys()) + ["US", "US", "BR", "VN", "IN"]
    extra = {"BR": ["177.0.0.0/10"], "VN": ["113.160.0.0/11"], "IN": ["117.192.0.0/10"]}
    starts = sorted(t + rng.uniform(0, duration) for _ in range(n_ips))
    for t0 in starts:
        c = rng.choice(pool)
        ip = rand_ip(rng, rng.choice(RESIDENTIAL.get(c) or extra[c]))
        ua = wchoice(rng, DESKTOP_UAS + MOBILE_UAS)
        b = Browser(rng, ip, ua, "bot", "credential_stuffing", keeps_cookies=keeps_cookies, proto="HTTP/1.1")
        tt = t0
        if get_login_page:
            b.req(tt, "GET", "/login", 200, rng.randint(14_000, 20_000), None, rng.uniform(0.03, 0.2))
            tt += rng.uniform(0.5, 2.0)
        for k in range(wchoice(rng, [(45, 1), (30, 2), (15, 3), (10, 4)])):
            ok = rng.random() < 0.015
            b.req(
                tt,
                "POST",
                "/api/v1/auth/login",
                200 if ok else 401,
                rng.randint(400, 900) if ok else rng.randint(90, 140),
                HOST + "/login" if get_login_page else None,
                rng.uniform(0.15, 0.5),
            )
            tt += rng.uniform(1.0, 6.0)
            if ok:  # got in: look at the account
                b.rotate()
                b.req(tt, "GET", "/api/v1/account/profile", 200, rng.randint(800, 2000), HOST + "/login", 0.05)
                b.req(tt + 0.4, "GET", "/api/v1/account/trips", 200, rng.randint(800, 6000), HOST + "/login", 0.08)
                b.req(
                    tt + 1.0,
                    "GET",
                    "/api/v1/account/payment-methods",
                    200,
                    rng.randint(300, 900),
                    HOST + "/login",
                    0.05,
                )
                break
        browsers.append(b)
    return browsers


def card_tester(rng, t):
    ip = (
        rand_ip(rng, rng.choice(HOSTING))
        if rng.random() < 0.5
        else rand_ip(rng, rng.choice(RESIDENTIAL[rng.choice(["US", "GB", "FR"])]))
    )
    ua = rng.choice([chrome_win(144), chrome_win(143), MOBILE_UAS[0][1], MOBILE_UAS[4][1]])
    b = Browser(rng, ip, ua, "bot", "card_testing", proto="HTTP/1.1")
    code = pnr(rng)
    b.req(t, "GET", "/manage-booking", 200, rng.randint(14_000, 20_000), None, 0.05)
    t += rng.uniform(2, 6)
    b.req(t, "POST", "/api/v1/manage/lookup", 200, rng.randint(300, 600), HOST + "/manage-booking", 0.2)
    t += rng.uniform(0.5, 1.5)
    p = f"/manage-booking/{code}/extras"
    b.req(t, "GET", p, 200, rng.randint(20_000, 30_000), HOST + f"/manage-booking/{code}", 0.1)
    t += rng.uniform(0.3, 1.0)
    b.req(t, "GET", f"/api/v1/manage/{code}/ancillaries", 200, rng.randint(2000, 5000), HOST + p, 0.1)
    t += rng.uniform(3, 8)
    for _ in range(rng.randint(20, 70)):
        st = 402 if rng.random() < 0.86 else 200
        b.req(
            t,
            "POST",
            f"/api/v1/manage/{code}/ancillaries/payment",
            st,
            rng.randint(150, 500),
            HOST + p,
            rng.uniform(0.9, 3.0),
        )
        t += rng.uniform(3, 14) if rng.random() > 0.1 else rng.uniform(30, 180)
    return b


# ----------------------------------------------------------------------------- main
def rand_time(rng, day0, day1, hour_lo=0, hour_hi=24):
    d = rng.randrange(day0, day1)
    return T0 + d * DAY + rng.uniform(hour_lo, hour_hi) * 3600


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=2424)
    ap.add_argument("--out", default=".")
    ap.add_argument(
        "--rotate-on-login",
        action="store_true",
        help="variant: the server rotates the SESSION id at a successful login",
    )
    args = ap.parse_args()
    global ROTATE_ON_LOGIN
    ROTATE_ON_LOGIN = args.rotate_on_login
    ROT_RNG.seed(args.seed + 1_000_003)
    rng = random.Random(args.seed)

    people, cgnat = make_people(rng)
    starts = []
    for p in people:
        for t in session_starts(rng, p):
            starts.append((t, p.pid))
    starts.sort()
    for t, pid in starts:
        human_session(rng, people[pid], t, cgnat)

    partner(rng)
    uptime(rng)
    crawlers(rng)

    # training period (days 0-6): a few labelled fare scrapers and seat spinners
    for _ in range(3):
        fare_scraper(rng, rand_time(rng, 0, 7), keeps_cookies=rng.random() < 0.5)
    for _ in range(2):
        seat_spinner(rng, rand_time(rng, 0, 7, 8, 20))
    # test period (days 7-9)
    for i in range(10):
        fare_scraper(rng, rand_time(rng, 7, 10), keeps_cookies=(i % 2 == 0))
    for _ in range(8):
        advanced_bot(rng, rand_time(rng, 7, 10, 7, 23))
    for _ in range(7):
        seat_spinner(rng, rand_time(rng, 7, 10, 6, 22))
    # stuffing: a burst at night keeping cookies (GET /login first), a slow afternoon trickle without
    credential_stuffing_wave(rng, T0 + 8 * DAY + 2.2 * 3600, 150, 80 * 60, keeps_cookies=True, get_login_page=True)
    credential_stuffing_wave(rng, T0 + 9 * DAY + 14 * 3600, 80, 4 * 3600, keeps_cookies=False, get_login_page=False)
    for _ in range(5):
        card_tester(rng, rand_time(rng, 7, 10))

    LOG.recs.sort(key=lambda r: r.t)
    periods = defaultdict(set)
    with open(f"{args.out}/train.log", "w") as ftr, open(f"{args.out}/test.log", "w") as fte:
        for r in LOG.recs:
            if r.t < T_SPLIT:
                ftr.write(r.line + "\n")
                periods[r.key].add("train")
            else:
                fte.write(r.line + "\n")
                periods[r.key].add("test")
    with open(f"{args.out}/labels.csv", "w", newline="") as fl, open(f"{args.out}/truth.csv", "w", newline="") as ft:
        wl, wt = csv.writer(fl), csv.writer(ft)
        wl.writerow(["key", "label"])
        wt.writerow(["key", "period", "kind", "family", "note", "lines", "first", "last", "ip", "ua"])
        for k, v in LOG.truth.items():
            if v["lines"] == 0:
                continue
            per = "+".join(sorted(periods[k]))
            wl.writerow([k, v["family"]])
            wt.writerow(
                [
                    k,
                    per,
                    v["kind"],
                    v["family"],
                    v["note"],
                    v["lines"],
                    datetime.fromtimestamp(v["first"], TZ).isoformat(),
                    datetime.fromtimestamp(v["last"], TZ).isoformat(),
                    v["ip"],
                    v["ua"],
                ]
            )
    n_tr = sum(1 for r in LOG.recs if r.t < T_SPLIT)
    print(f"lines: train {n_tr}, test {len(LOG.recs) - n_tr}, total {len(LOG.recs)}")
    fam = defaultdict(lambda: [0, 0])
    for k, v in LOG.truth.items():
        if v["lines"]:
            for per in periods[k]:
                fam[(per, v["kind"] if v["family"] == "normal" else v["family"])][0] += 1
    for (per, f), (n, _) in sorted(fam.items()):
        print(f"  {per:5s} {f:22s} {n} session keys")


if __name__ == "__main__":
    main()
