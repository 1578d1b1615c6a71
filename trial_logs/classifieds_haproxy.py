#!/usr/bin/env python3
"""Labelled HAProxy (via rsyslog) access log of a classifieds marketplace, "Bazaarly".

Standard library only, deterministic for --seed.

HAProxy config assumed:
  log-format "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq {%hrl} {%hsl} %{+Q}r"
  capture request header User-Agent len 200
  capture request header Referer len 200
  capture request header Cookie len 200
  (no response header captured -> "{}")
rsyslog prepends "Mon dd HH:MM:SS lb1 haproxy[pid]: ".

Conventions of the site:
  * session cookie mkt_sid, set on the first response, rotated at login (and at sign-up verification);
    logged-in users with "remember me" keep a persistent mkt_sid for weeks.
  * POST /login: success 302 (to ?next= or /account); failure 200 with the form again.
  * POST /signup: 302 to /signup/check-email; validation error 200.
  * Email verification: GET /verify?token=... -> 302 /welcome (new mkt_sid).
  * Password reset: POST /password/forgot 200; GET /password/reset?token= 200; POST 302 /login.
  * Messages to sellers: POST /l/<id>/message -> 302 /messages/<thread>; 429 when rate limited.

Outputs (in --out): train.log (7 days), test.log (3 days), labels.csv (key,label with FILE:LINE keys,
attack lines only), groups.csv (ground truth per entity key for analysis: mkt_sid values and
client:<hash> for cookieless requests, with the actor group, normal or attack).
"""

import argparse
import hashlib
import math
import os
import random
from datetime import datetime, timedelta, timezone

HOST = "https://www.bazaarly.example"
START = datetime(2026, 11, 23, tzinfo=timezone.utc)  # Monday
TRAIN_DAYS = 7
TEST_DAYS = 3
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()

CATEGORIES = [
    "cars",
    "bikes",
    "electronics",
    "phones",
    "furniture",
    "home-garden",
    "fashion",
    "kids-baby",
    "sports",
    "jobs",
    "property-rent",
    "pets",
    "music-instruments",
    "books",
    "services",
    "free-stuff",
]
QUERIES = [
    "iphone 13",
    "sofa",
    "bike",
    "road bike",
    "pram",
    "ikea desk",
    "ps5",
    "macbook",
    "washing machine",
    "golf clubs",
    "wardrobe",
    "guitar",
    "lego",
    "dining table",
    "tv",
    "car seat",
    "garden furniture",
    "kitten",
    "flat to rent",
    "vw golf",
    "treadmill",
    "fridge freezer",
    "dyson",
    "nintendo switch",
    "office chair",
    "bed frame",
    "samsung galaxy",
    "mountain bike",
    "camera",
    "bookcase",
]
WORDS = [
    "great",
    "condition",
    "used",
    "new",
    "vintage",
    "cheap",
    "large",
    "small",
    "black",
    "white",
    "oak",
    "leather",
    "electric",
    "kids",
    "pro",
    "max",
    "mini",
    "set",
    "bundle",
    "boxed",
]

DESKTOP_UA = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:132.0) Gecko/20100101 Firefox/132.0",
]
MOBILE_UA = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
]
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GOOGLEBOT_SP = (
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
UPTIME_UA = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
PARTNER_UA = "ClassifiedHub-FeedFetcher/3.2 (+https://partners.classifiedhub.example/bot)"

# address pools: residential ISPs, mobile carriers (CGNAT: few addresses, many people), hosting
RESIDENTIAL_PREFIXES = [
    "86.150",
    "86.160",
    "81.106",
    "82.132",
    "90.210",
    "92.233",
    "94.1",
    "109.154",
    "176.250",
    "2.97",
    "31.48",
    "5.65",
    "78.146",
    "80.43",
    "88.104",
    "151.224",
    "217.42",
    "213.205",
]
MOBILE_GATEWAYS = (
    ["92.40.172.%d" % i for i in (11, 14, 19, 23, 41, 56)]
    + ["148.252.128.%d" % i for i in (3, 7, 12, 30)]
    + ["31.94.4.%d" % i for i in (5, 9, 17)]
)
OFFICES = {
    "office_accounting_firm": "195.171.43.10",
    "office_city_council": "194.72.15.200",
    "office_logistics_co": "81.145.209.34",
}
CAMPUS = ["163.1.240.17", "163.1.240.18"]
HOSTING_PREFIXES = ["167.99", "159.65", "45.77", "45.76", "51.75", "95.216", "3.250", "18.130", "34.89", "138.68"]


class Log:
    def __init__(self):
        self.recs = []  # (emit_time, line, label, session_key_for_groups)

    def add(self, rec):
        self.recs.append(rec)


def sid_new(rng):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(26))


def client_key(ip, ua):
    return "client:" + hashlib.sha256((ip + "\x1f" + ua).encode()).hexdigest()[:16]


def slug(rng):
    return "-".join(rng.choice(WORDS) for _ in range(rng.randint(2, 4)))


class Site:
    def __init__(self, rng):
        self.rng = rng
        self.next_listing = 4_810_000
        self.listings = list(range(4_700_000, 4_810_000, 7))  # active listing ids
        self.users = list(range(100_000, 160_000, 3))
        self.pid = 2817
        self.conn = 40

    def listing(self):
        # recent listings are looked at more
        i = len(self.listings) - 1 - int(self.rng.expovariate(1 / 2500.0)) % len(self.listings)
        return self.listings[i]


class Writer:
    """formats one request into a HAProxy line"""

    def __init__(self, rng, site, log):
        self.rng = rng
        self.site = site
        self.log = log

    def req(
        self,
        t,
        ip,
        ua,
        method,
        uri,
        status,
        nbytes,
        ref="",
        cookie="",
        label=None,
        group=None,
        key=None,
        backend="be_web",
        proto=None,
        slow=1.0,
    ):
        rng = self.rng
        if backend == "be_static":
            server = "static%d" % rng.randint(1, 2)
            tr = rng.randint(0, 3)
        elif backend == "be_api":
            server = "api%d" % rng.randint(1, 3)
            tr = int(rng.lognormvariate(math.log(25), 0.5))
        else:
            server = "web%d" % rng.randint(1, 4)
            tr = int(rng.lognormvariate(math.log(70 * slow), 0.5))
        tc = rng.choice([0, 0, 0, 1])
        TR = rng.choice([0, 0, 0, 1, 2])
        ta = TR + tc + tr + rng.randint(0, 2)
        self.site.conn = max(5, min(400, self.site.conn + rng.randint(-3, 3)))
        ac = self.site.conn
        fc = ac - rng.randint(0, 2)
        bc = max(1, fc // 3)
        sc = max(1, bc // 3)
        if proto is None:
            proto = "HTTP/2.0" if "Chrome" in ua or "Safari" in ua or "Firefox" in ua else "HTTP/1.1"
        tdt = t
        emit = t + timedelta(milliseconds=ta)
        tr_s = "%02d/%s/%04d:%02d:%02d:%02d.%03d" % (
            tdt.day,
            MONTHS[tdt.month - 1],
            tdt.year,
            tdt.hour,
            tdt.minute,
            tdt.second,
            tdt.microsecond // 1000,
        )
        sys_s = "%s %2d %02d:%02d:%02d" % (MONTHS[emit.month - 1], emit.day, emit.hour, emit.minute, emit.second)
        port = rng.randint(1024, 65535)
        hdr = "{%s|%s|%s}" % (ua[:200], ref[:200], cookie[:200])
        tsc = "----"
        line = (
            '%s lb1 haproxy[%d]: %s:%d [%s] fe_https~ %s/%s %d/0/%d/%d/%d %d %d - - %s %d/%d/%d/%d/0 0/0 %s {} "%s %s %s"'
            % (
                sys_s,
                self.site.pid,
                ip,
                port,
                tr_s,
                backend,
                server,
                TR,
                tc,
                tr,
                ta,
                status,
                nbytes,
                tsc,
                ac,
                fc,
                bc,
                sc,
                hdr,
                method,
                uri,
                proto,
            )
        )
        if key is None:
            key = client_key(ip, ua)
        self.log.add((emit, line, label, key, group))
        return emit


class Browser:
    """one browser (person or bot driving a browser)"""

    def __init__(self, w, ip, ua, group, label=None, sid=None, extra_cookies="", assets=True, cache_warm=False):
        self.w = w
        self.rng = w.rng
        self.ip = ip
        self.ua = ua
        self.group = group
        self.label = label
        self.sid = sid
        self.extra = extra_cookies
        self.assets = assets
        self.cache_warm = cache_warm
        self.last_url = ""
        self.logged_in = sid is not None and False

    def cookie(self):
        parts = []
        if self.extra:
            parts.append(self.extra)
        if self.sid:
            parts.append("mkt_sid=" + self.sid)
        return "; ".join(parts)

    def key(self):
        return self.sid if self.sid else client_key(self.ip, self.ua)

    def hit(self, t, method, uri, status, nbytes, ref=None, backend="be_web", set_sid=True):
        ref = self.last_url if ref is None else ref
        had = self.sid is not None
        key = self.key()
        e = self.w.req(
            t,
            self.ip,
            self.ua,
            method,
            uri,
            status,
            nbytes,
            ref=ref,
            cookie=self.cookie(),
            label=self.label,
            group=self.group,
            key=key,
            backend=backend,
        )
        if not had and set_sid and self.sid is None:
            self.sid = sid_new(self.rng)
            # the landing page (carried no cookie) belongs to the session it starts
            self.w.log.recs[-1] = self.w.log.recs[-1][:3] + (self.sid, self.group)
        return e

    def page(self, t, uri, status=200, nbytes=None, ref=None, photos=0, method="GET", logged_in=False):
        rng = self.rng
        if nbytes is None:
            nbytes = rng.randint(18000, 65000) if status == 200 else rng.randint(200, 900)
        e = self.hit(t, method, uri, status, nbytes, ref=ref)
        url = HOST + uri
        if status in (301, 302, 303):
            return e
        tt = t + timedelta(milliseconds=rng.randint(80, 300))
        if self.assets:
            if not self.cache_warm:
                for a in [
                    "/static/css/app.8f3c2a.css",
                    "/static/js/vendor.41b9e0.js",
                    "/static/js/app.c7d215.js",
                    "/static/fonts/inter-var.woff2",
                    "/static/img/logo.svg",
                ]:
                    tt += timedelta(milliseconds=rng.randint(5, 60))
                    self.w.req(
                        tt,
                        self.ip,
                        self.ua,
                        "GET",
                        a,
                        200,
                        rng.randint(3000, 180000),
                        ref=url,
                        cookie=self.cookie(),
                        label=self.label,
                        group=self.group,
                        key=self.key(),
                        backend="be_static",
                    )
                self.cache_warm = True
            for _ in range(photos):
                tt += timedelta(milliseconds=rng.randint(10, 250))
                lid = self.w.site.listing()
                self.w.req(
                    tt,
                    self.ip,
                    self.ua,
                    "GET",
                    "/photos/%d/%d_%s.jpg" % (lid, rng.randint(1, 6), rng.choice(["thumb", "800"])),
                    200,
                    rng.randint(8000, 160000),
                    ref=url,
                    cookie=self.cookie(),
                    label=self.label,
                    group=self.group,
                    key=self.key(),
                    backend="be_static",
                )
            if logged_in:
                tt += timedelta(milliseconds=rng.randint(100, 600))
                self.w.req(
                    tt,
                    self.ip,
                    self.ua,
                    "GET",
                    "/api/notifications/count",
                    200,
                    rng.randint(20, 60),
                    ref=url,
                    cookie=self.cookie(),
                    label=self.label,
                    group=self.group,
                    key=self.key(),
                    backend="be_api",
                )
        self.last_url = url
        return e


def think(rng, median=18.0, sigma=0.9):
    return timedelta(seconds=min(900, rng.lognormvariate(math.log(median), sigma)))


# ----------------------------------------------------------------------------------------------- people
class Person:
    def __init__(self, rng, idx, site, day_joined=None):
        self.idx = idx
        r = rng.random()
        if r < 0.45:
            self.net = "home"
        elif r < 0.80:
            self.net = "mobile"
        elif r < 0.92:
            self.net = "office"
        else:
            self.net = "campus"
        self.mobile = self.net == "mobile" or (self.net == "home" and rng.random() < 0.35)
        self.ua = rng.choice(MOBILE_UA if self.mobile else DESKTOP_UA)
        self.home_ip = "%s.%d.%d" % (rng.choice(RESIDENTIAL_PREFIXES), rng.randint(0, 255), rng.randint(1, 254))
        self.office = rng.choice(list(OFFICES))
        self.has_account = day_joined is not None or rng.random() < 0.65
        self.user_id = rng.choice(site.users)
        self.remember = self.has_account and rng.random() < 0.55
        self.persistent_sid = None
        self.ga = "GA1.2.%d.%d" % (rng.randint(10**8, 10**9), rng.randint(1_690_000_000, 1_732_000_000))
        self.consent = rng.random() < 0.8
        self.seller = rng.random() < 0.25
        self.activity = rng.paretovariate(1.6)
        self.new = day_joined is not None

    def ip(self, rng):
        if self.net == "home":
            return self.home_ip
        if self.net == "mobile":
            return rng.choice(MOBILE_GATEWAYS)
        if self.net == "office":
            return OFFICES[self.office]
        return rng.choice(CAMPUS)

    def group(self):
        return (
            "normal_"
            + {"home": "home", "mobile": "mobile_carrier", "office": self.office, "campus": "campus"}[self.net]
        )


def browse(b, rng, t, n, logged_in=False):
    site = b.w.site
    for _ in range(n):
        r = rng.random()
        if r < 0.30:
            q = rng.choice(QUERIES)
            uri = "/search?q=%s" % q.replace(" ", "+")
            if rng.random() < 0.3:
                uri += "&c=%s" % rng.choice(CATEGORIES)
            if rng.random() < 0.25:
                uri += "&page=%d" % rng.randint(2, 4)
            if rng.random() < 0.2:
                uri += "&sort=%s" % rng.choice(["newest", "price_asc", "price_desc", "distance"])
            t = b.page(t, uri, photos=rng.randint(4, 10), logged_in=logged_in) + think(rng, 12)
        elif r < 0.45:
            uri = "/c/%s" % rng.choice(CATEGORIES)
            if rng.random() < 0.2:
                uri += "?page=%d" % rng.randint(2, 3)
            t = b.page(t, uri, photos=rng.randint(4, 10), logged_in=logged_in) + think(rng, 10)
        elif r < 0.85:
            lid = site.listing()
            st = 200 if rng.random() > 0.02 else 410  # expired listing
            t = b.page(
                t,
                "/l/%d-%s" % (lid, slug(rng)),
                status=st,
                photos=rng.randint(3, 8) if st == 200 else 0,
                logged_in=logged_in,
            ) + think(rng, 25)
            if st == 200 and rng.random() < 0.12:
                # favourite (a write) or phone reveal
                if logged_in and rng.random() < 0.6:
                    b.hit(t, "POST", "/api/favorites", 201, 40, backend="be_api")
                else:
                    b.hit(t, "GET", "/api/listings/%d/phone" % lid, 200 if logged_in else 401, 90, backend="be_api")
                t += think(rng, 8)
        elif r < 0.93:
            t = b.page(t, "/u/%d" % rng.choice(site.users), photos=rng.randint(2, 6), logged_in=logged_in) + think(
                rng, 15
            )
        else:
            t = b.page(t, "/", photos=rng.randint(6, 12), logged_in=logged_in) + think(rng, 8)
    return t


def do_login(b, rng, t, person, nxt="/account", fail_first=None):
    t = b.page(t, "/login?next=%s" % nxt.replace("/", "%2F")) + think(rng, 9, 0.5)
    if fail_first is None:
        fail_first = rng.random() < 0.08
    if fail_first:
        t = b.page(t, "/login", status=200, method="POST", ref=HOST + "/login") + think(rng, 10, 0.5)
        if rng.random() < 0.3:
            t = b.page(t, "/login", status=200, method="POST", ref=HOST + "/login") + think(rng, 12, 0.5)
    b.hit(t, "POST", "/login", 302, 0, ref=HOST + "/login")
    # rotate session cookie at login
    b.sid = sid_new(rng)
    if person is not None and person.remember:
        person.persistent_sid = b.sid
    t += timedelta(milliseconds=rng.randint(150, 600))
    t = b.page(t, nxt, ref=HOST + "/login", logged_in=True) + think(rng, 10)
    return t


def human_visit(w, rng, t, person, intent):
    site = w.site
    ip = person.ip(rng)
    extra = []
    if person.consent:
        extra.append("consent=1")
        extra.append("_ga=" + person.ga)
    sid = person.persistent_sid if (person.remember and person.persistent_sid) else None
    logged_in = sid is not None
    b = Browser(
        w, ip, person.ua, person.group(), sid=sid, extra_cookies="; ".join(extra), cache_warm=rng.random() < 0.4
    )
    # landing
    r = rng.random()
    if r < 0.35:
        lid = site.listing()
        t = b.page(
            t,
            "/l/%d-%s" % (lid, slug(rng)),
            ref="https://www.google.com/",
            photos=rng.randint(3, 8),
            logged_in=logged_in,
        ) + think(rng, 25)
    elif r < 0.45:
        t = b.page(
            t,
            "/c/%s?utm_source=facebook&utm_medium=social" % rng.choice(CATEGORIES),
            ref="https://m.facebook.com/",
            photos=6,
            logged_in=logged_in,
        ) + think(rng)
    else:
        t = b.page(t, "/", ref="", photos=rng.randint(6, 12), logged_in=logged_in) + think(rng, 10)
    if intent == "browse":
        t = browse(b, rng, t, rng.randint(1, 14), logged_in)
    elif intent == "contact":
        t = browse(b, rng, t, rng.randint(1, 8), logged_in)
        lid = site.listing()
        t = b.page(t, "/l/%d-%s" % (lid, slug(rng)), photos=rng.randint(3, 8), logged_in=logged_in) + think(rng, 30)
        if not logged_in:
            if not person.has_account:
                return t
            t = do_login(b, rng, t, person, nxt="/l/%d/contact" % lid)
            logged_in = True
        else:
            t = b.page(t, "/l/%d/contact" % lid, logged_in=True) + think(rng, 45, 0.6)
        thread = rng.randint(9_000_000, 9_999_999)
        b.hit(t, "POST", "/l/%d/message" % lid, 302, 0)
        t += timedelta(milliseconds=rng.randint(200, 500))
        t = b.page(t, "/messages/%d" % thread, logged_in=True) + think(rng, 20)
        t = browse(b, rng, t, rng.randint(0, 5), True)
    elif intent == "messages":
        if not logged_in:
            t = do_login(b, rng, t, person, nxt="/messages")
        else:
            t = b.page(t, "/messages", logged_in=True) + think(rng, 8)
        for _ in range(rng.randint(1, 4)):
            thread = rng.randint(9_000_000, 9_999_999)
            t = b.page(t, "/messages/%d" % thread, logged_in=True) + think(rng, 30)
            if rng.random() < 0.6:
                b.hit(t, "POST", "/messages/%d/reply" % thread, 302, 0)
                t += timedelta(milliseconds=300)
                t = b.page(t, "/messages/%d" % thread, logged_in=True) + think(rng, 15)
        if rng.random() < 0.5:
            t = browse(b, rng, t, rng.randint(1, 5), True)
    elif intent == "sell":
        if not logged_in:
            t = do_login(b, rng, t, person, nxt="/my/listings")
        else:
            t = b.page(t, "/my/listings", photos=rng.randint(1, 5), logged_in=True) + think(rng, 10)
        t = b.page(t, "/post", logged_in=True) + think(rng, 30)
        t = b.page(t, "/post/category?c=%s" % rng.choice(CATEGORIES), logged_in=True) + think(rng, 60, 0.6)
        for _ in range(rng.randint(1, 8)):
            b.hit(t, "POST", "/api/uploads", 201, 120, backend="be_api")
            t += timedelta(seconds=rng.uniform(2, 12))
        t += think(rng, 90, 0.6)
        if rng.random() < 0.07:  # validation error
            t = b.page(t, "/post", status=200, method="POST", logged_in=True) + think(rng, 40)
        b.hit(t, "POST", "/post", 302, 0)
        site.next_listing += 1
        lid = site.next_listing
        site.listings.append(lid)
        t += timedelta(milliseconds=rng.randint(300, 900))
        t = b.page(t, "/l/%d-%s?created=1" % (lid, slug(rng)), photos=rng.randint(1, 6), logged_in=True) + think(
            rng, 20
        )
        if rng.random() < 0.3:
            t = b.page(t, "/my/listings", photos=3, logged_in=True) + think(rng, 15)
    elif intent == "reset":
        t = b.page(t, "/login") + think(rng, 12)
        for _ in range(rng.randint(1, 3)):
            t = b.page(t, "/login", status=200, method="POST", ref=HOST + "/login") + think(rng, 12)
        t = b.page(t, "/password/forgot") + think(rng, 15)
        t = b.page(t, "/password/forgot", status=200, method="POST", nbytes=9000) + think(rng, 90, 0.7)
        # the mail's link, same browser (webmail) mostly
        tok = "%032x" % rng.getrandbits(128)
        t = b.page(t, "/password/reset?token=%s" % tok, ref="") + think(rng, 25)
        b.hit(t, "POST", "/password/reset", 302, 0)
        t += timedelta(milliseconds=400)
        t = b.page(t, "/login?reset=1") + think(rng, 10, 0.4)
        b.hit(t, "POST", "/login", 302, 0, ref=HOST + "/login?reset=1")
        b.sid = sid_new(rng)
        t += timedelta(milliseconds=300)
        t = b.page(t, "/account", logged_in=True) + think(rng)
        t = browse(b, rng, t, rng.randint(0, 4), True)
    return t


def signup_visit(w, rng, t, person):
    """a new user's first visit: browse, sign up, verify from the mail, maybe post"""
    ip = person.ip(rng)
    b = Browser(w, ip, person.ua, person.group() + "_newuser", extra_cookies="consent=1" if person.consent else "")
    t = b.page(t, "/", ref=rng.choice(["", "https://www.google.com/"]), photos=8) + think(rng, 10)
    t = browse(b, rng, t, rng.randint(0, 5))
    t = b.page(t, "/signup") + think(rng, 50, 0.5)
    if rng.random() < 0.1:  # email already used / weak password
        t = b.page(t, "/signup", status=200, method="POST", ref=HOST + "/signup") + think(rng, 30, 0.5)
    b.hit(t, "POST", "/signup", 302, 0, ref=HOST + "/signup")
    t += timedelta(milliseconds=rng.randint(200, 600))
    t = b.page(t, "/signup/check-email", ref=HOST + "/signup") + think(rng, 120, 1.0)
    # verification link opened on the phone (often) or in the same browser
    if rng.random() < 0.4 and not person.mobile:
        b2 = Browser(w, rng.choice(MOBILE_GATEWAYS), rng.choice(MOBILE_UA), person.group() + "_newuser")
    else:
        b2 = b
    tok = "%040x" % rng.getrandbits(160)
    b2.hit(t, "GET", "/verify?token=%s" % tok, 302, 0, ref="")
    b2.sid = sid_new(rng)  # rotated at verification
    t += timedelta(milliseconds=rng.randint(200, 500))
    t = b2.page(t, "/welcome", ref="", logged_in=True) + think(rng, 20)
    if person.remember:
        person.persistent_sid = b2.sid if b2 is b else None
    r = rng.random()
    if r < 0.35:
        t = b2.page(t, "/post", logged_in=True) + think(rng, 40)
        for _ in range(rng.randint(1, 5)):
            b2.hit(t, "POST", "/api/uploads", 201, 120, backend="be_api")
            t += timedelta(seconds=rng.uniform(3, 15))
        b2.hit(t, "POST", "/post", 302, 0)
        w.site.next_listing += 1
        w.site.listings.append(w.site.next_listing)
        t += timedelta(milliseconds=500)
        t = b2.page(t, "/l/%d-%s?created=1" % (w.site.next_listing, slug(rng)), photos=3, logged_in=True)
    else:
        t = browse(b2, rng, t, rng.randint(1, 6), True)
    return t


def hour_weight(h):
    # quiet 1-6, peaks lunch and evening
    base = [
        0.25,
        0.12,
        0.07,
        0.05,
        0.05,
        0.08,
        0.25,
        0.55,
        0.8,
        0.9,
        0.95,
        1.0,
        1.2,
        1.15,
        1.0,
        0.95,
        0.95,
        1.0,
        1.15,
        1.4,
        1.55,
        1.45,
        1.05,
        0.6,
    ]
    return base[h]


def sample_time(rng, day0):
    while True:
        h = rng.randrange(24)
        if rng.random() < hour_weight(h) / 1.55:
            return day0 + timedelta(hours=h, seconds=rng.uniform(0, 3600))


def gen_people_traffic(w, rng, people, day0, n_visits, n_signups, group_suffix=""):
    weights = [p.activity for p in people]
    chosen = rng.choices(people, weights=weights, k=n_visits)
    visits = []
    for p in chosen:
        t = sample_time(rng, day0)
        if p.net == "office" and not (8 <= t.hour < 18):
            t = day0 + timedelta(hours=rng.uniform(9, 17.5))
        r = rng.random()
        if r < 0.58:
            intent = "browse"
        elif r < 0.74:
            intent = "contact"
        elif r < 0.86:
            intent = "messages" if p.has_account else "browse"
        elif r < 0.98:
            intent = "sell" if p.has_account else "browse"
        else:
            intent = "reset" if p.has_account else "browse"
        visits.append((t, p, intent))
    visits.sort(key=lambda v: v[0])
    for t, p, intent in visits:
        human_visit(w, rng, t, p, intent)
    new = []
    for i in range(n_signups):
        p = Person(rng, 10_000_000 + len(people) + i, w.site, day_joined=day0)
        t = sample_time(rng, day0)
        signup_visit(w, rng, t, p)
        new.append(p)
    people.extend(new)


# ---------------------------------------------------------------------------------------- automation
def gen_automation(w, rng, t0, t1):
    site = w.site
    # Googlebot: a steady crawl, cookieless
    gips = ["66.249.66.%d" % i for i in (1, 15, 38, 72, 160, 201)]
    t = t0
    while t < t1:
        ua = GOOGLEBOT if rng.random() < 0.35 else GOOGLEBOT_SP
        ip = rng.choice(gips)
        r = rng.random()
        if r < 0.01:
            uri = "/robots.txt"
        elif r < 0.04:
            uri = "/sitemaps/listings-%d.xml.gz" % rng.randint(1, 40)
        elif r < 0.15:
            uri = "/c/%s?page=%d" % (rng.choice(CATEGORIES), rng.randint(1, 30))
        elif r < 0.2:
            uri = "/u/%d" % rng.choice(site.users)
        else:
            lid = rng.choice(site.listings)
            uri = "/l/%d-%s" % (lid, slug(rng))
        st = 200 if rng.random() > 0.06 else 410
        w.req(
            t,
            ip,
            ua,
            "GET",
            uri,
            st,
            rng.randint(15000, 60000) if st == 200 else 600,
            group="normal_googlebot",
            proto="HTTP/1.1",
        )
        t += timedelta(seconds=rng.expovariate(1 / 35.0))
    # Bingbot
    bips = ["157.55.39.%d" % i for i in (12, 50, 88)] + ["40.77.167.%d" % i for i in (3, 44)]
    t = t0
    while t < t1:
        ip = rng.choice(bips)
        if rng.random() < 0.02:
            uri = "/robots.txt"
        else:
            uri = "/l/%d-%s" % (rng.choice(site.listings), slug(rng))
        w.req(t, ip, BINGBOT, "GET", uri, 200, rng.randint(15000, 60000), group="normal_bingbot", proto="HTTP/1.1")
        t += timedelta(seconds=rng.expovariate(1 / 120.0))
    # uptime monitor: /healthz every minute from rotating probes, home page every 5 min
    uips = ["69.162.124.226", "63.143.42.244", "216.144.250.150", "208.115.199.18"]
    t = t0 + timedelta(seconds=7)
    k = 0
    while t < t1:
        ip = uips[k % len(uips)]
        uri = "/" if k % 5 == 0 else "/healthz"
        w.req(
            t,
            ip,
            UPTIME_UA,
            "HEAD" if uri == "/" else "GET",
            uri,
            200,
            0 if uri == "/" else 15,
            group="normal_uptime_monitor",
            proto="HTTP/1.1",
        )
        k += 1
        t += timedelta(seconds=60, milliseconds=rng.randint(-300, 300))
    # partner feed every 15 minutes
    t = t0 + timedelta(seconds=113)
    while t < t1:
        since = (t - timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:00Z")
        ip = "52.17.88.%d" % rng.choice([40, 41])
        w.req(
            t,
            ip,
            PARTNER_UA,
            "GET",
            "/partner/v1/feed/listings.xml?key=cfh_4f9a21&since=%s" % since,
            200,
            rng.randint(40000, 400000),
            group="normal_partner_feed",
            backend="be_api",
            proto="HTTP/1.1",
        )
        if rng.random() < 0.3:
            w.req(
                t + timedelta(seconds=2),
                ip,
                PARTNER_UA,
                "GET",
                "/partner/v1/feed/listings.xml?key=cfh_4f9a21&since=%s&page=2" % since,
                200,
                rng.randint(40000, 400000),
                group="normal_partner_feed",
                backend="be_api",
                proto="HTTP/1.1",
            )
        t += timedelta(minutes=15, seconds=rng.uniform(-5, 5))


# -------------------------------------------------------------------------------------------- attacks
def res_proxy_ip(rng):
    # residential proxies: home addresses from many ISPs and countries
    pref = rng.choice(
        RESIDENTIAL_PREFIXES
        + [
            "73.%d" % rng.randint(0, 255),
            "24.%d" % rng.randint(0, 255),
            "187.%d" % rng.randint(0, 255),
            "177.%d" % rng.randint(0, 255),
            "41.%d" % rng.randint(100, 255),
            "103.%d" % rng.randint(0, 255),
        ]
    )
    return "%s.%d.%d" % (pref, rng.randint(0, 255), rng.randint(1, 254))


def hosting_ip(rng):
    return "%s.%d.%d" % (rng.choice(HOSTING_PREFIXES), rng.randint(0, 255), rng.randint(1, 254))


def atk_signup_spam(w, rng, t, n, label="signup_spam", accounts=None):
    uas = DESKTOP_UA[:3]
    for i in range(n):
        ip = hosting_ip(rng) if rng.random() < 0.5 else res_proxy_ip(rng)
        headless = rng.random() < 0.5
        b = Browser(w, ip, rng.choice(uas), "attack_" + label, label=label, assets=headless)
        tt = t
        tt = b.page(tt, "/signup", ref="") + timedelta(seconds=rng.uniform(2, 6))
        b.hit(tt, "POST", "/signup", 302, 0, ref=HOST + "/signup")
        tt += timedelta(milliseconds=rng.randint(150, 400))
        tt = b.page(tt, "/signup/check-email", ref=HOST + "/signup") + timedelta(seconds=rng.uniform(8, 40))
        tok = "%040x" % rng.getrandbits(160)
        b.hit(tt, "GET", "/verify?token=%s" % tok, 302, 0, ref="")
        b.sid = sid_new(rng)
        tt += timedelta(milliseconds=300)
        b.page(tt, "/welcome", ref="", logged_in=headless)
        if accounts is not None:
            accounts.append(rng.choice(w.site.users))
        t += timedelta(seconds=rng.expovariate(1 / 45.0))
    return t


def atk_message_spam(w, rng, t, n_msgs):
    ip = res_proxy_ip(rng)
    b = Browser(w, ip, rng.choice(DESKTOP_UA[:3]), "attack_message_spam", label="message_spam", assets=False)
    t = b.page(t, "/login", ref="") + timedelta(seconds=rng.uniform(2, 5))
    b.hit(t, "POST", "/login", 302, 0, ref=HOST + "/login")
    b.sid = sid_new(rng)
    t += timedelta(milliseconds=400)
    t = b.page(t, "/account", ref=HOST + "/login") + timedelta(seconds=3)
    cat = rng.choice(["electronics", "phones", "cars", "furniture"])
    t = b.page(t, "/c/%s?sort=newest" % cat) + timedelta(seconds=rng.uniform(2, 5))
    sent = 0
    for i in range(n_msgs):
        lid = w.site.listing()
        t = b.page(t, "/l/%d-%s" % (lid, slug(rng)), ref=HOST + "/c/%s?sort=newest" % cat) + timedelta(
            seconds=rng.uniform(2, 6)
        )
        t = b.page(t, "/l/%d/contact" % lid) + timedelta(seconds=rng.uniform(3, 8))
        if sent >= 20 and rng.random() < 0.5:
            b.hit(t, "POST", "/l/%d/message" % lid, 429, 300)
        else:
            b.hit(t, "POST", "/l/%d/message" % lid, 302, 0)
            sent += 1
            t += timedelta(milliseconds=300)
            t = b.page(t, "/messages/%d" % rng.randint(9_000_000, 9_999_999))
        t += timedelta(seconds=rng.uniform(3, 10))
    return t


def atk_scraper_fast(w, rng, t, n, label="scraper_fast", keep_cookie=True, ua=None, ip=None):
    ip = ip or hosting_ip(rng)
    ua = ua or DESKTOP_UA[1]
    b = Browser(w, ip, ua, "attack_" + label, label=label, assets=False)
    cat = rng.choice(CATEGORIES)
    page = 1
    for i in range(n):
        if i % 25 == 0:
            uri = "/c/%s?page=%d" % (cat, page)
            page += 1
        else:
            uri = "/l/%d-%s" % (w.site.listing(), slug(rng))
        if not keep_cookie:
            b.sid = None
        b.hit(t, "GET", uri, 200, rng.randint(18000, 60000), ref="", set_sid=keep_cookie)
        t += timedelta(seconds=rng.uniform(0.4, 1.2))
    return t


def atk_scraper_slow(w, rng, t0, t1):
    """residential proxies, sticky 5-10 min sessions, a browser UA each, listing pages in id order"""
    lid = 4_790_000
    t = t0
    while t < t1:
        ip = res_proxy_ip(rng)
        ua = rng.choice(DESKTOP_UA + MOBILE_UA)
        b = Browser(w, ip, ua, "attack_scraper_slow", label="scraper_slow", assets=False, extra_cookies="consent=1")
        tt = t
        ref = HOST + "/c/%s" % rng.choice(CATEGORIES)
        for _ in range(rng.randint(4, 9)):
            lid += rng.choice([7, 7, 7, 14])
            b.hit(tt, "GET", "/l/%d-%s" % (lid, slug(rng)), 200, rng.randint(18000, 60000), ref=ref)
            tt += timedelta(seconds=rng.uniform(20, 70))
        t += timedelta(seconds=rng.uniform(400, 900))


def atk_cred_stuffing(w, rng, t, n_attempts):
    done = 0
    while done < n_attempts:
        ip = res_proxy_ip(rng)
        ua = rng.choice(DESKTOP_UA + MOBILE_UA[:4])
        b = Browser(w, ip, ua, "attack_credential_stuffing", label="credential_stuffing", assets=False)
        tt = b.page(t, "/login", ref="") + timedelta(seconds=rng.uniform(0.8, 3))
        for _ in range(rng.choice([1, 1, 2, 3])):
            done += 1
            if rng.random() < 0.015:
                b.hit(tt, "POST", "/login", 302, 0, ref=HOST + "/login")
                b.sid = sid_new(rng)
                tt += timedelta(milliseconds=300)
                tt = b.page(tt, "/account", ref=HOST + "/login") + timedelta(seconds=2)
                b.page(tt, "/account/settings")
                break
            b.page(tt, "/login", status=200, method="POST", ref=HOST + "/login")
            tt += timedelta(seconds=rng.uniform(1, 4))
        t += timedelta(seconds=rng.expovariate(1 / 6.0))
    return t


def atk_phone_harvest(w, rng, t, n):
    ip = res_proxy_ip(rng)
    b = Browser(w, ip, MOBILE_UA[3], "attack_phone_harvest", label="phone_harvest", assets=False)
    t = b.page(t, "/login", ref="") + timedelta(seconds=4)
    b.hit(t, "POST", "/login", 302, 0, ref=HOST + "/login")
    b.sid = sid_new(rng)
    t += timedelta(seconds=1)
    for i in range(n):
        lid = w.site.listing()
        t = b.page(t, "/l/%d-%s" % (lid, slug(rng)), ref=HOST + "/c/cars") + timedelta(seconds=rng.uniform(1.5, 4))
        st = 200 if i < 150 else 429
        b.hit(t, "GET", "/api/listings/%d/phone" % lid, st, 90, backend="be_api")
        t += timedelta(seconds=rng.uniform(4, 12))
    return t


# ----------------------------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=36)
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--visits-per-day", type=int, default=330)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    site = Site(rng)
    log = Log()
    w = Writer(rng, site, log)
    people = [Person(rng, i, site) for i in range(2600)]
    test_start = START + timedelta(days=TRAIN_DAYS)
    for d in range(TRAIN_DAYS + TEST_DAYS):
        day0 = START + timedelta(days=d)
        if d == 3:
            site.pid = 30412  # haproxy reload
        mult = 1.0
        if day0.weekday() >= 5:
            mult = 1.25
        if d == TRAIN_DAYS + 1:
            mult = 1.9  # busy day: TV campaign
        n = int(args.visits_per_day * mult * rng.uniform(0.92, 1.08))
        signups = int(n * (0.05 if d != TRAIN_DAYS + 1 else 0.09))
        gen_people_traffic(w, rng, people, day0, n, signups)
        # a few new listings appear every day regardless
        for _ in range(150):
            site.next_listing += 1
            site.listings.append(site.next_listing)
    gen_automation(w, rng, START, START + timedelta(days=TRAIN_DAYS + TEST_DAYS))

    # training attacks (labelled)
    atk_scraper_fast(w, rng, START + timedelta(days=4, hours=3, minutes=12), 900, label="scraper_fast")
    atk_signup_spam(w, rng, START + timedelta(days=2, hours=2, minutes=40), 20)
    # test attacks
    T = test_start
    accounts = []
    atk_signup_spam(w, rng, T + timedelta(hours=2, minutes=5), 90, accounts=accounts)
    atk_signup_spam(w, rng, T + timedelta(days=2, hours=1, minutes=30), 60, accounts=accounts)
    for i in range(14):
        atk_message_spam(w, rng, T + timedelta(hours=5 + i * 4.5, minutes=rng.randint(0, 50)), rng.randint(25, 45))
    atk_scraper_fast(w, rng, T + timedelta(days=1, hours=10, minutes=5), 2400)
    atk_scraper_fast(
        w, rng, T + timedelta(days=2, hours=22, minutes=40), 600, keep_cookie=False, ua="python-requests/2.31.0"
    )
    atk_scraper_slow(w, rng, T + timedelta(hours=1), T + timedelta(days=3))
    atk_cred_stuffing(w, rng, T + timedelta(days=1, hours=14, minutes=3), 700)
    atk_phone_harvest(w, rng, T + timedelta(days=2, hours=9, minutes=20), 220)
    atk_phone_harvest(w, rng, T + timedelta(days=2, hours=15, minutes=2), 180)

    end = START + timedelta(days=TRAIN_DAYS + TEST_DAYS)
    recs = [r for r in log.recs if r[0] < end]
    recs.sort(key=lambda r: r[0])
    labels = []
    groups = {}
    for name, lo, hi in (("train.log", START, test_start), ("test.log", test_start, end)):
        with open(os.path.join(args.out, name), "w") as f:
            n = 0
            for emit, line, label, key, group in recs:
                if not (lo <= emit < hi):
                    continue
                n += 1
                f.write(line + "\n")
                if label:
                    labels.append(("%s:%d" % (name, n), label))
                g = groups.setdefault((name, key), [group, 0])
                g[1] += 1
    with open(os.path.join(args.out, "labels.csv"), "w") as f:
        f.write("key,label\n")
        for k, l in labels:
            f.write("%s,%s\n" % (k, l))
    with open(os.path.join(args.out, "groups.csv"), "w") as f:
        f.write("file,key,group,requests\n")
        for (name, key), (g, c) in sorted(groups.items()):
            f.write("%s,%s,%s,%d\n" % (name, key, g, c))


if __name__ == "__main__":
    main()
