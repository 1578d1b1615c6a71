#!/usr/bin/env python3
"""Labelled access log of a ticketing site (concerts, sports), as ingress-nginx writes it.

Standard library only, deterministic for --seed. Writes into --out (created if missing):

  train.log   seven days (Mon 2 Feb 2026 .. Sun 8 Feb 2026, US Eastern, -0500), a small on-sale
              on Thu 5 Feb at 10:00, a few labelled bots
  test.log    three days (Mon 9 .. Wed 11 Feb 2026), the big on-sale on Tue 10 Feb at 10:00, bots
  labels.csv  key,label  (key = tsid, or client:<16 hex> for requests that carried no cookie)
  groups.csv  key,label,group,detail  (finer groups for analysis: onsale fan, office, cgnat, app...)
  summary.json counts

Log format (ingress-nginx default + session cookie):
  $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"
  "$http_user_agent" $request_length $request_time [$proxy_upstream_name]
  [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length
  $upstream_response_time $upstream_status $req_id $cookie_tsid

Conventions of the site:
  * tsid is the session cookie, set by the first response of a visit (the request that received
    it logs "-"), rotated on a successful login (session fixation protection): the POST /login
    carries the old id, the next request the new one.
  * failed logins are answered 401 (the form again, with an error); a successful one 302.
  * payments: POST /checkout 200 (paid) or 402 (declined).
  * the mobile apps (Android okhttp, iOS CFNetwork) authenticate with a bearer token and send
    no cookie: their requests log tsid "-".
  * labels: a session with a cookie is keyed by its tsid (both ids when a login rotated it).
    Requests without a cookie are keyed as the docs say the backtest keys them: client: + the
    first 16 hex digits of sha256(address + "\\x1f" + user agent). Bots that keep no cookies
    (curl, python-requests, API stuffing) are labelled by those keys; crawlers, the monitor and
    the app are labelled normal by theirs (unlabelled keys count as normal anyway).
"""

import argparse
import csv
import hashlib
import ipaddress
import json
import math
import os
import random
from datetime import datetime, timedelta, timezone

TZ = timezone(timedelta(hours=-5))
START = datetime(2026, 2, 2, 0, 0, 0, tzinfo=TZ)
DAYS = 10
TRAIN_DAYS = 7
SMALL_ONSALE_DAY = 3  # Thu 5 Feb
BIG_ONSALE_DAY = 8  # Tue 10 Feb
HOST = "https://www.tixorama.com"

RESIDENTIAL = [
    "73.0.0.0/8",
    "98.192.0.0/10",
    "76.80.0.0/13",
    "99.0.0.0/10",
    "108.0.0.0/14",
    "71.160.0.0/11",
    "68.0.0.0/13",
    "24.0.0.0/12",
    "67.160.0.0/11",
    "47.128.0.0/10",
]
PROXY_FOREIGN = ["177.0.0.0/10", "49.36.0.0/14", "186.0.0.0/10", "41.0.0.0/10", "93.0.0.0/10"]
HOSTING = [
    "3.80.0.0/12",
    "54.144.0.0/12",
    "18.204.0.0/14",
    "159.203.0.0/16",
    "167.99.0.0/16",
    "138.197.0.0/16",
    "51.75.0.0/16",
    "95.216.0.0/16",
]
VPN = ["185.156.172.0/22", "89.187.160.0/19", "212.102.32.0/19"]
TMOBILE4, TMOBILE6, VZW, ATTM = "172.56.0.0/14", "2607:fb90::/32", "174.192.0.0/10", "107.77.192.0/18"
OFFICE_NETS = ["12.0.0.0/8", "38.0.0.0/8", "64.0.0.0/10", "63.64.0.0/10"]
GOOGLEBOT = ["66.249.66.%d" % i for i in range(1, 100)] + ["66.249.64.%d" % i for i in range(1, 40)]
BINGBOT = ["157.55.39.%d" % i for i in range(1, 60)] + ["40.77.167.%d" % i for i in range(1, 60)]
UPTIME_IPS = ["216.144.250.150", "69.162.124.226", "69.162.124.235", "63.143.42.242", "63.143.42.250"]

UA_DESKTOP = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36",
        30,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        10,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36",
        14,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15",
        10,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36 Edg/132.0.0.0",
        10,
    ),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:134.0) Gecko/20100101 Firefox/134.0", 6),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:134.0) Gecko/20100101 Firefox/134.0", 2),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36", 2),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36",
        2,
    ),
]
UA_PHONE = [
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1",
        22,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Mobile/15E148 Safari/604.1",
        12,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1",
        6,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/132.0.6834.100 Mobile/15E148 Safari/604.1",
        4,
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Mobile Safari/537.36",
        30,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921U) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36",
        6,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/22C152 Instagram 364.0.0.35.86 (iPhone15,3; iOS 18_2; en_US; en; scale=3.00; 1290x2796; 650165476)",
        3,
    ),
]
UA_OFFICE = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
]
UA_ANDROID_APP = ["okhttp/4.12.0", "okhttp/4.12.0", "okhttp/4.11.0"]
UA_IOS_APP = [
    "Tixorama/6.4.1 (com.tixorama.app; build:6410; iOS 18.2.1) CFNetwork/1568.300.101 Darwin/24.2.0",
    "Tixorama/6.4.1 (com.tixorama.app; build:6410; iOS 18.3.0) CFNetwork/1568.300.101 Darwin/24.3.0",
]
UA_GOOGLEBOT = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.6834.110 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
]
UA_BINGBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/131.0.0.0 Safari/537.36"
UA_UPTIME = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
UA_HEADLESS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/132.0.0.0 Safari/537.36"

CATEGORIES = ["concerts", "sports", "theater", "comedy", "family"]
CITIES = ["new-york", "chicago", "boston", "philadelphia", "atlanta", "miami", "washington-dc", "detroit"]
SEARCHES = [
    "taylor",
    "knicks",
    "hamilton",
    "coldplay",
    "yankees",
    "bruins",
    "sabrina carpenter",
    "disney on ice",
    "kendrick lamar",
    "celtics",
    "post malone",
    "wicked",
    "nba",
    "jazz",
    "morgan wallen",
    "billie eilish",
    "rangers",
    "ufc",
    "wwe",
    "comedy cellar",
]
STATIC = [
    "/static/css/main.7f3a91c2.css",
    "/static/js/runtime.2b81e0d4.js",
    "/static/js/vendor.c94f10ab.js",
    "/static/js/app.5d1e77f0.js",
    "/static/fonts/inter-var.4e2c.woff2",
    "/static/img/logo.svg",
]

UPSTREAM = {
    "web": (
        "tix-prod-web-frontend-3000",
        ["10.244.1.%d:3000" % i for i in (14, 27, 31)] + ["10.244.3.%d:3000" % i for i in (9, 52)],
    ),
    "api": ("tix-prod-api-gateway-8080", ["10.244.2.%d:8080" % i for i in (11, 40, 66)] + ["10.244.4.17:8080"]),
    "static": ("tix-prod-static-80", ["10.244.1.88:80", "10.244.2.90:80"]),
}


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.lines = []  # (t, seq, text)
        self.seq = 0
        self.labels = {}  # key -> label
        self.groups = {}  # key -> (group, detail)
        self.conflicts = 0
        self.used_normal_ips = set()
        self.onsale_load = lambda t: 0.0
        self.order_no = 700000

    # ---------- small helpers
    def pick(self, weighted):
        tot = sum(w for _, w in weighted)
        x = self.r.random() * tot
        for v, w in weighted:
            x -= w
            if x <= 0:
                return v
        return weighted[-1][0]

    def ip_in(self, cidr):
        net = ipaddress.ip_network(cidr)
        if net.version == 6:
            # a /64 per device, random interface id
            prefix = int(net.network_address) + (self.r.getrandbits(32) << 64)
            return str(ipaddress.IPv6Address(prefix + self.r.getrandbits(64)))
        n = net.num_addresses
        while True:
            a = net[self.r.randrange(1, n - 1)]
            if str(a).split(".")[-1] not in ("0", "255"):
                return str(a)

    def bot_ip(self, nets):
        while True:
            ip = self.ip_in(self.r.choice(nets))
            if ip not in self.used_normal_ips:
                return ip

    def new_tsid(self):
        return "%032x" % self.r.getrandbits(128)

    @staticmethod
    def client_key(ip, ua):
        return "client:" + hashlib.sha256((ip + "\x1f" + ua).encode()).hexdigest()[:16]

    def set_label(self, key, label, group, detail=""):
        old = self.labels.get(key)
        if old is not None and old != label:
            self.conflicts += 1
            if label == "normal":
                return  # keep the bot label
        self.labels[key] = label
        self.groups[key] = (group, detail)

    # ---------- one log line
    def emit(self, c, t, method, path, status, size, ref="-", kind="web", rt=None):
        """c: client dict. Returns nothing; updates c's cookie."""
        r = self.r
        cookie = c["tsid"] if c["tsid"] else "-"
        if cookie == "-":
            # (any request without a cookie is its client's when the client started several sessions,
            # docs/traffic.md: its client's key is labelled, a bot's label kept where they share it)
            self.set_label(self.client_key(c["ip"], c["ua"]), c["label"], c["group"], c.get("detail", ""))
        ups_name, pods = UPSTREAM[kind]
        load = self.onsale_load(t)
        if rt is None:
            base = 0.004 if kind == "static" else (0.045 if kind == "api" else 0.09)
            rt = base * math.exp(r.gauss(0, 0.6)) * (1 + 6 * load)
        req_len = (
            (380 if method == "GET" else 900)
            + len(path)
            + (len(ref) if ref != "-" else 0)
            + len(c["ua"])
            + (45 if cookie != "-" else 0)
            + r.randrange(0, 160)
        )
        if status == 503 and r.random() < 0.5:  # refused by the ingress's limit, no upstream
            ups_addr, ups_len, ups_rt, ups_st = "-", "-", "-", "-"
            rt = 0.0
            size = 190
        elif r.random() < (0.002 + 0.03 * load) and kind != "static":
            # first upstream failed, ingress retried on another pod
            a, b = r.sample(pods, 2)
            t1 = r.uniform(0.001, 0.02)
            ups_addr = "%s, %s" % (a, b)
            ups_len = "0, %d" % size
            ups_rt = "%.3f, %.3f" % (t1, rt)
            ups_st = "502, %d" % status
            rt = rt + t1
        else:
            ups_addr, ups_len, ups_rt, ups_st = r.choice(pods), str(size), "%.3f" % rt, str(status)
        ts = datetime.fromtimestamp(t, TZ).strftime("%d/%b/%Y:%H:%M:%S %z")
        line = '%s - - [%s] "%s %s HTTP/%s" %d %d "%s" "%s" %d %.3f [%s] [] %s %s %s %s %032x %s' % (
            c["ip"],
            ts,
            method,
            path,
            c["proto"],
            status,
            size,
            ref,
            c["ua"],
            req_len,
            rt + 0.0005,
            ups_name,
            ups_addr,
            ups_len,
            ups_rt,
            ups_st,
            r.getrandbits(128),
            cookie,
        )
        self.lines.append((t, self.seq, line))
        self.seq += 1
        if c["keeps_cookies"] and c["tsid"] is None and kind in ("web", "api"):
            c["tsid"] = self.new_tsid()
            self.set_label(c["tsid"], c["label"], c["group"], c.get("detail", ""))

    def rotate(self, c):
        if c["keeps_cookies"]:
            c["tsid"] = self.new_tsid()
            self.set_label(c["tsid"], c["label"], c["group"], c.get("detail", ""))

    def client(
        self, ip, ua, label="normal", group="visitor", keeps_cookies=True, proto="2.0", detail="", cookieless_label=None
    ):
        return {
            "ip": ip,
            "ua": ua,
            "label": label,
            "group": group,
            "detail": detail,
            "keeps_cookies": keeps_cookies,
            "tsid": None,
            "proto": proto,
            "label_cookieless": cookieless_label if cookieless_label is not None else (not keeps_cookies),
            "cache": set(),
        }

    def think(self, median=12.0, sigma=0.9):
        return min(600.0, median * math.exp(self.r.gauss(0, sigma)))

    # ---------- page pieces
    def assets(self, c, t, page_url, images=()):
        """static files a browser fetches after a page; returns time after them"""
        r = self.r
        t2 = t
        need = [s for s in STATIC if s not in c["cache"]]
        for s in need:
            t2 = t + r.uniform(0.05, 0.9)
            size = {"css": 48211, "js": 183455, "woff2": 61822, "svg": 3390}[s.rsplit(".", 1)[1]]
            self.emit(
                c,
                t2,
                "GET",
                s,
                200,
                size + r.randrange(-30, 30) if s.endswith("js") else size,
                HOST + "/static/css/main.7f3a91c2.css" if s.endswith("woff2") else page_url,
                "static",
            )
            c["cache"].add(s)
        for im in images:
            if im in c["cache"]:
                continue
            t2 = t + r.uniform(0.2, 2.5)
            self.emit(c, t2, "GET", im, 200, r.randrange(14000, 95000), page_url, "static")
            c["cache"].add(im)
        if "favicon" not in c["cache"] and r.random() < 0.6:
            self.emit(c, t + r.uniform(0.3, 1.5), "GET", "/favicon.ico", 200, 15086, page_url, "static")
            c["cache"].add("favicon")
        if "Mobile/" in c["ua"] and "iPhone" in c["ua"] and "touch" not in c["cache"] and r.random() < 0.3:
            self.emit(c, t + r.uniform(0.3, 1.5), "GET", "/apple-touch-icon.png", 404, 548, "-", "static")
            c["cache"].add("touch")
        return t2

    def page(self, c, t, path, ref, status=200, size=None, images=(), xhr=()):
        """an HTML page, its assets and its own XHR calls; returns (t_end, url)"""
        r = self.r
        if size is None:
            size = r.randrange(18000, 64000)
        if self.onsale_load(t) > 0.3 and r.random() < 0.004:
            status, size = 503, 592
        self.emit(c, t, "GET", path, status, size, ref, "web")
        url = HOST + path
        t_end = t
        if status < 400 and c.get("browser", True):
            t_end = self.assets(c, t, url, images)
            for x in xhr:
                t_end = max(t_end, t + r.uniform(0.15, 1.2))
                self.emit(c, t_end, "GET", x, 200, r.randrange(2000, 40000), url, "web")
        return t_end, url

    def event_images(self, ids):
        return ["/img/events/%d/thumb.webp" % i for i in ids]

    # ---------- normal web visit
    def web_visit(self, c, t, ev, logged_in=False, intent=0.08, account=None, max_pages=None):
        r = self.r
        entry = self.pick([("home", 35), ("event", 28), ("list", 17), ("search", 8), ("account", 7), ("cart", 5)])
        ref = self.pick(
            [
                ("https://www.google.com/", 45),
                ("-", 30),
                ("https://www.facebook.com/", 6),
                ("https://t.co/", 3),
                ("https://www.bing.com/", 4),
                ("https://duckduckgo.com/", 2),
                ("android-app://com.google.android.gm/", 4),
                ("https://www.instagram.com/", 6),
            ]
        )
        n_pages = max_pages or max(1, min(40, int(r.paretovariate(1.6) * 2.5)))
        state = {"cart": False, "logged": logged_in}
        cur_event = r.choice(ev["catalogue"])
        for i in range(n_pages):
            if i == 0:
                kind = entry
            else:
                kind = self.pick(
                    [
                        ("event", 34),
                        ("list", 20),
                        ("search", 8),
                        ("home", 6),
                        ("seats", 12),
                        ("cart_add", 6 * (1 + 4 * intent)),
                        ("account", 3 if state["logged"] else 1),
                    ]
                )
            if kind == "home":
                ids = r.sample(ev["catalogue"], 8)
                t, ref = self.page(c, t, "/", ref, images=self.event_images(ids[:6]))
            elif kind == "list":
                p = (
                    "/events?category=%s" % r.choice(CATEGORIES)
                    if r.random() < 0.7
                    else "/events?city=%s" % r.choice(CITIES)
                )
                if r.random() < 0.25:
                    p += "&page=%d" % r.randint(2, 5)
                t, ref = self.page(c, t, p, ref, images=self.event_images(r.sample(ev["catalogue"], 6)))
            elif kind == "search":
                q = r.choice(SEARCHES).replace(" ", "+")
                t, ref = self.page(
                    c, t, "/search?q=%s" % q, ref, images=self.event_images(r.sample(ev["catalogue"], 4))
                )
            elif kind == "event":
                cur_event = r.choice(ev["popular"]) if r.random() < 0.5 else r.choice(ev["catalogue"])
                st = 200
                if r.random() < 0.01:
                    st = 404
                t, ref = self.page(
                    c,
                    t,
                    "/event/%d" % cur_event,
                    ref,
                    status=st,
                    images=["/img/events/%d/hero.webp" % cur_event],
                    xhr=["/event/%d/seats" % cur_event] if st == 200 else (),
                )
            elif kind == "seats":
                # picking sections on the seat map of the current event
                for _ in range(r.randint(1, 4)):
                    t += r.uniform(2, 15)
                    self.emit(
                        c,
                        t,
                        "GET",
                        "/event/%d/seats?section=%d" % (cur_event, r.randint(101, 330)),
                        200,
                        r.randrange(3000, 30000),
                        HOST + "/event/%d" % cur_event,
                        "web",
                    )
                continue
            elif kind == "account":
                if not state["logged"]:
                    t = self.login(c, t, ref)
                    state["logged"] = True
                p = r.choice(
                    ["/account", "/account/tickets", "/account/tickets", "/account/orders", "/account/settings"]
                )
                t, ref = self.page(c, t, p, ref)
            elif kind in ("cart", "cart_add"):
                if kind == "cart_add":
                    t += r.uniform(3, 20)
                    st = 200 if r.random() < 0.93 else 409
                    self.emit(c, t, "POST", "/cart", st, r.randrange(300, 1200), HOST + "/event/%d" % cur_event, "web")
                    state["cart"] = st == 200
                    t += r.uniform(0.3, 1.5)
                t, ref = self.page(c, t, "/cart", ref if kind == "cart" else HOST + "/event/%d" % cur_event)
                if state["cart"] and r.random() < 0.55:
                    t = self.checkout(c, t + self.think(8), state)
                    break
            t += self.think()
        if state["logged"] and r.random() < 0.08:
            self.page(c, t, "/logout", ref, status=302, size=0)
        return t

    def login(self, c, t, ref, fail_p=0.1, max_fail=3):
        """GET /login, then POST /login until success; a failure is 401 (form again)."""
        r = self.r
        t, url = self.page(c, t, "/login", ref)
        fails = 0
        while True:
            t += self.think(9, 0.5)
            if fails < max_fail and r.random() < fail_p * (1.6 if fails else 1.0):
                self.emit(c, t, "POST", "/login", 401, r.randrange(17000, 19000), HOST + "/login", "web")
                fails += 1
                if fails >= 2 and r.random() < 0.35:
                    t, url = self.page(c, t + self.think(4), "/password/forgot", HOST + "/login")
                    t += self.think(20)
                    self.emit(
                        c, t, "POST", "/password/forgot", 200, r.randrange(4000, 5000), HOST + "/password/forgot", "web"
                    )
                    t += r.uniform(60, 240)  # reads the e-mail
                    t, url = self.page(c, t, "/password/reset?token=%032x" % r.getrandbits(128), "-")
                    t += self.think(25)
                    self.emit(c, t, "POST", "/password/reset", 302, 0, url, "web")
                    t += r.uniform(0.2, 0.6)
                    t, _ = self.page(c, t, "/login?reset=1", url)
                    t += self.think(9, 0.5)
                    self.emit(c, t, "POST", "/login", 302, 0, HOST + "/login?reset=1", "web")
                    self.rotate(c)
                    return t + r.uniform(0.1, 0.4)
                continue
            self.emit(c, t, "POST", "/login", 302, 0, HOST + "/login", "web")
            self.rotate(c)
            t, _ = self.page(c, t + r.uniform(0.1, 0.4), "/account", HOST + "/login")
            return t

    def checkout(self, c, t, state, decline_p=0.05, retries=2):
        r = self.r
        if not state["logged"]:
            t = self.login(c, t, HOST + "/cart")
            state["logged"] = True
        t, url = self.page(c, t, "/checkout", HOST + "/cart")
        for attempt in range(retries + 1):
            t += self.think(35, 0.5)
            if r.random() < decline_p:
                self.emit(c, t, "POST", "/checkout", 402, r.randrange(2000, 2600), url, "web")
                if r.random() < 0.6:
                    continue
                return t
            self.emit(c, t, "POST", "/checkout", 200, r.randrange(600, 900), url, "web")
            self.order_no += r.randint(1, 9)
            t, _ = self.page(c, t + r.uniform(0.3, 1.2), "/order/%d/confirmation" % self.order_no, url)
            return t
        return t

    # ---------- the apps (no cookie)
    def app_session(self, c, t, ev, onsale_event=None):
        r = self.r
        self.emit(c, t, "GET", "/api/v2/config", 200, 2311, "-", "api")
        self.emit(c, t + r.uniform(0.1, 0.5), "GET", "/api/v2/me", 200, r.randrange(800, 1400), "-", "api")
        if r.random() < 0.15:
            self.emit(c, t + r.uniform(0.5, 0.9), "POST", "/api/v2/auth/refresh", 200, 1120, "-", "api")
        t += r.uniform(0.6, 1.5)
        self.emit(c, t, "GET", "/api/v2/home", 200, r.randrange(20000, 40000), "-", "api")
        for _ in range(max(1, int(r.paretovariate(1.5) * 3))):
            t += self.think(10)
            k = self.pick([("list", 3), ("event", 5), ("seats", 3), ("tickets", 2), ("search", 1)])
            e = r.choice(ev["popular"]) if r.random() < 0.5 else r.choice(ev["catalogue"])
            if k == "list":
                self.emit(
                    c,
                    t,
                    "GET",
                    "/api/v2/events?category=%s&page=%d" % (r.choice(CATEGORIES), r.randint(1, 3)),
                    200,
                    r.randrange(15000, 40000),
                    "-",
                    "api",
                )
            elif k == "event":
                self.emit(c, t, "GET", "/api/v2/events/%d" % e, 200, r.randrange(5000, 12000), "-", "api")
                self.emit(
                    c,
                    t + r.uniform(0.2, 0.8),
                    "GET",
                    "/api/v2/events/%d/seats" % e,
                    200,
                    r.randrange(8000, 30000),
                    "-",
                    "api",
                )
            elif k == "seats":
                self.emit(
                    c,
                    t,
                    "GET",
                    "/api/v2/events/%d/seats?section=%d" % (e, r.randint(101, 330)),
                    200,
                    r.randrange(3000, 20000),
                    "-",
                    "api",
                )
            elif k == "tickets":
                self.emit(c, t, "GET", "/api/v2/me/tickets", 200, r.randrange(2000, 9000), "-", "api")
            else:
                self.emit(
                    c,
                    t,
                    "GET",
                    "/api/v2/search?q=%s" % r.choice(SEARCHES).replace(" ", "%20"),
                    200,
                    r.randrange(4000, 20000),
                    "-",
                    "api",
                )
        if r.random() < 0.05:
            t += self.think(10)
            self.emit(c, t, "POST", "/api/v2/cart", 200, 640, "-", "api")
            t += self.think(30)
            self.emit(c, t, "POST", "/api/v2/checkout", 200 if r.random() < 0.93 else 402, 700, "-", "api")
        return t


def day_weight(hour):
    # US Eastern visitors: night trough, lunch bump, evening peak
    w = [
        0.25,
        0.15,
        0.08,
        0.05,
        0.05,
        0.08,
        0.2,
        0.4,
        0.6,
        0.75,
        0.85,
        0.9,
        1.0,
        0.95,
        0.85,
        0.85,
        0.9,
        1.0,
        1.15,
        1.3,
        1.35,
        1.2,
        0.9,
        0.5,
    ]
    return w[hour]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=28)
    ap.add_argument("--out", required=True)
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the number of visits")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    g = Gen(args.seed)
    r = g.r
    t0 = START.timestamp()

    catalogue = r.sample(range(40000, 49999), 420)
    ev = {"catalogue": catalogue, "popular": catalogue[:40]}
    SMALL_EVENT, BIG_EVENT = catalogue[0], catalogue[1]

    # ---- populations
    offices = []
    for i in range(14):
        ip = g.ip_in(r.choice(OFFICE_NETS))
        g.used_normal_ips.add(ip)
        offices.append({"ip": ip, "ua": r.choice(UA_OFFICE), "staff": r.randint(8, 60)})
    cgnat = {
        "tmo": [g.ip_in(TMOBILE4) for _ in range(40)],
        "vzw": [g.ip_in(VZW) for _ in range(50)],
        "att": [g.ip_in(ATTM) for _ in range(30)],
    }
    for v in cgnat.values():
        g.used_normal_ips.update(v)

    def person(kind=None, group="visitor"):
        """a person's browser on some connection"""
        kind = kind or g.pick([("home", 52), ("phone", 38), ("office", 10)])
        if kind == "office":
            o = r.choice(offices)
            ua = o["ua"] if r.random() < 0.85 else g.pick(UA_DESKTOP)
            return {"ip": o["ip"], "ua": ua, "where": "office", "proto": "2.0"}
        if kind == "phone":
            ua = g.pick(UA_PHONE)
            carrier = g.pick([("tmo", 35), ("vzw", 35), ("att", 25), ("wifi", 25)])
            if carrier == "wifi":
                ip = g.ip_in(r.choice(RESIDENTIAL))
                g.used_normal_ips.add(ip)
                return {"ip": ip, "ua": ua, "where": "home", "proto": "2.0"}
            if carrier == "tmo" and r.random() < 0.5:
                return {"ip": g.ip_in(TMOBILE6), "ua": ua, "where": "mobile-v6", "proto": "2.0"}
            return {"ip": r.choice(cgnat[carrier]), "ua": ua, "where": "cgnat", "proto": "2.0"}
        ip = g.ip_in(r.choice(RESIDENTIAL))
        g.used_normal_ips.add(ip)
        return {
            "ip": ip,
            "ua": g.pick(UA_DESKTOP) if r.random() < 0.75 else g.pick(UA_PHONE),
            "where": "home",
            "proto": "2.0" if r.random() < 0.9 else "1.1",
        }

    customers = [person() for _ in range(2500)]  # returning customers with accounts

    def visit_time(day):
        while True:
            h = r.random() * 24
            if r.random() < day_weight(int(h)) / 1.35:
                return t0 + day * 86400 + h * 3600

    def run_visit(day, p, returning, group, t=None, **kw):
        t = t if t is not None else visit_time(day)
        c = g.client(p["ip"], p["ua"], "normal", group, proto=p["proto"], detail=p["where"])
        if returning and r.random() < 0.5:
            c["cache"].update(STATIC)
        g.web_visit(c, t, ev, **kw)

    def app_user():
        ua = r.choice(UA_ANDROID_APP) if r.random() < 0.6 else r.choice(UA_IOS_APP)
        carrier = g.pick([("tmo", 35), ("vzw", 35), ("att", 25), ("wifi", 25)])
        if carrier == "wifi":
            ip = g.ip_in(r.choice(RESIDENTIAL))
            g.used_normal_ips.add(ip)
        elif carrier == "tmo" and r.random() < 0.5:
            ip = g.ip_in(TMOBILE6)
        else:
            ip = r.choice(cgnat[carrier])
        return ip, ua

    for day in range(DAYS):
        weekend = (START + timedelta(days=day)).weekday() >= 5
        n_new = int((380 if not weekend else 330) * args.scale)
        n_ret = int((200 if not weekend else 170) * args.scale)
        for _ in range(n_new):
            p = person()
            grp = "office" if p["where"] == "office" else ("cgnat" if p["where"] == "cgnat" else "visitor")
            run_visit(day, p, False, grp)
        for _ in range(n_ret):
            p = r.choice(customers)
            grp = "office" if p["where"] == "office" else ("cgnat" if p["where"] == "cgnat" else "customer")
            run_visit(day, p, True, grp, logged_in=False, intent=0.25, max_pages=None)
        # office lunch-time browsing: several colleagues behind one address, same browser build
        for o in offices:
            for _ in range(r.randint(0, max(1, o["staff"] // 6)) if not weekend else 0):
                t = t0 + day * 86400 + r.uniform(11.5, 14) * 3600
                c = g.client(o["ip"], o["ua"], "normal", "office", detail="office")
                g.web_visit(c, t, ev)
        # app sessions (no cookie)
        for _ in range(int(150 * args.scale)):
            ip, ua = app_user()
            c = g.client(ip, ua, "normal", "app", keeps_cookies=False, detail="app")
            g.app_session(c, visit_time(day), ev)
        # crawlers: Googlebot and bingbot, no cookies, one request every few seconds in bursts
        for bot, ips, uas, n in (("googlebot", GOOGLEBOT, UA_GOOGLEBOT, 700), ("bingbot", BINGBOT, [UA_BINGBOT], 350)):
            t = t0 + day * 86400 + r.uniform(0, 600)
            end = t0 + (day + 1) * 86400
            while t < end:
                burst = r.randint(5, 40)
                ip = r.choice(ips[:20]) if r.random() < 0.8 else r.choice(ips)
                ua = uas[0] if len(uas) == 1 or r.random() < 0.4 else uas[1]
                c = g.client(ip, ua, "normal", "crawler", keeps_cookies=False, detail=bot)
                c["browser"] = False
                c["proto"] = "1.1"
                for _ in range(burst):
                    k = r.random()
                    e = r.choice(catalogue)
                    if k < 0.6:
                        path = "/event/%d" % e
                    elif k < 0.8:
                        path = "/events?category=%s&page=%d" % (r.choice(CATEGORIES), r.randint(1, 12))
                    elif k < 0.9:
                        path = "/events?city=%s" % r.choice(CITIES)
                    elif k < 0.95:
                        path = "/robots.txt"
                    else:
                        path = "/sitemap-events-%d.xml" % r.randint(1, 4)
                    st = 200 if r.random() < 0.97 else 404
                    g.emit(c, t, "GET", path, st, r.randrange(20000, 60000), "-", "web")
                    t += r.uniform(1, 12)
                t += r.expovariate(n / 86400.0 / 20) if n else 3600
        # uptime monitor: the home page and /healthz every minute, from rotating locations
        t = t0 + day * 86400 + 17
        while t < t0 + (day + 1) * 86400:
            c = g.client(
                r.choice(UPTIME_IPS), UA_UPTIME, "normal", "monitor", keeps_cookies=False, detail="uptimerobot"
            )
            c["proto"] = "1.1"
            head = r.random() < 0.5
            g.emit(c, t + r.uniform(0, 2), "HEAD" if head else "GET", "/", 200, 0 if head else 41022, "-", "web")
            t += 60

    # ---- on-sales: flash crowds of real fans
    def onsale(day, event, n_web, n_app, label_group):
        open_t = t0 + day * 86400 + 10 * 3600
        drain = 30 * 60 if n_web > 1000 else 20 * 60
        sold_out = open_t + drain * 0.9
        load_prev = g.onsale_load

        def load(t, prev=load_prev):
            if open_t - 1200 <= t <= open_t + drain:
                return max(prev(t), 0.6 if t >= open_t else 0.3)
            return prev(t)

        g.onsale_load = load
        q_path = "/queue?event=%d" % event
        fans = []
        for i in range(n_web):
            arrive = open_t + min(30 * 60, max(-25 * 60, r.gauss(-2 * 60, 6 * 60)))
            fans.append(arrive)
        fans.sort()
        # queue positions: those before opening are randomised, then first come first served
        early = [a for a in fans if a < open_t]
        late = [a for a in fans if a >= open_t]
        r.shuffle(early)
        order = early + late
        for pos, arrive in enumerate(order):
            admit = max(arrive + r.uniform(5, 30), open_t + drain * (pos / len(order)) + r.uniform(0, 40))
            kind = g.pick([("home", 40), ("phone", 42), ("office", 18)])
            p = person(kind)
            c = g.client(p["ip"], p["ua"], "normal", label_group, proto=p["proto"], detail=p["where"])
            if r.random() < 0.4:
                c["cache"].update(STATIC)
            logged = False
            t = arrive - r.uniform(60, 600) if r.random() < 0.45 else arrive
            ref = g.pick(
                [
                    ("-", 40),
                    ("https://t.co/", 12),
                    ("android-app://com.google.android.gm/", 10),
                    ("https://www.google.com/", 20),
                    ("https://www.instagram.com/", 10),
                    ("https://www.facebook.com/", 8),
                ]
            )
            if t < arrive:  # logs in first (and some forgot the password)
                t, url = g.page(c, t, "/", ref, images=g.event_images(catalogue[:6]))
                t = g.login(c, t + g.think(5), url, fail_p=0.3, max_fail=4)
                logged = True
                t = max(t + 2, arrive)
                ref = HOST + "/account"
            # the event page sends them to the queue until admitted
            if t < admit:
                g.emit(c, t, "GET", "/event/%d" % event, 302, 0, ref, "web")
                t += r.uniform(0.05, 0.3)
                t, qurl = g.page(c, t, q_path, ref)
                tabs = 1 if r.random() < 0.75 else r.randint(2, 3)
                impatient = r.random() < 0.3
                # the queue page reloads itself every 45-60 s; impatient fans press F5 in bursts
                next_refresh = [t + r.uniform(30, 60) for _ in range(tabs)]
                burst = 0
                while True:
                    k = min(range(tabs), key=lambda j: next_refresh[j])
                    tt = next_refresh[k]
                    if tt >= admit:
                        break
                    g.emit(c, tt, "GET", q_path, 200, r.randrange(9000, 9800), HOST + q_path, "web")
                    if impatient and burst == 0 and r.random() < 0.15:
                        burst = r.randint(3, 7)
                    if burst:
                        burst -= 1
                        next_refresh[k] = tt + r.uniform(3, 15)
                    else:
                        next_refresh[k] = tt + r.uniform(45, 60)
                t = admit
                ref = HOST + q_path
            # admitted: the seat map, again and again
            t, url = g.page(
                c,
                t,
                "/event/%d" % event,
                ref,
                images=["/img/events/%d/hero.webp" % event],
                xhr=["/event/%d/seats" % event],
            )
            got = False
            for attempt in range(r.randint(1, 4)):
                for _ in range(r.randint(3, 14)):
                    t += r.uniform(1.5, 9)
                    qs = (
                        "section=%d" % r.randint(101, 330)
                        if r.random() < 0.7
                        else "best=1&qty=%d" % r.choice([2, 2, 4, 1, 3])
                    )
                    g.emit(c, t, "GET", "/event/%d/seats?%s" % (event, qs), 200, r.randrange(2000, 30000), url, "web")
                t += r.uniform(2, 10)
                ok = t < sold_out and r.random() < 0.65
                g.emit(c, t, "POST", "/cart", 200 if ok else 409, r.randrange(300, 900), url, "web")
                if ok:
                    got = True
                    break
            if got:
                t, _ = g.page(c, t + r.uniform(0.3, 1.2), "/cart", url)
                g.checkout(
                    c, t + g.think(5), {"logged": logged, "cart": True}, decline_p=0.14, retries=2
                ) if logged else None
                if not logged:
                    t = g.login(c, t + g.think(4), HOST + "/cart", fail_p=0.3, max_fail=4)
                    g.checkout(c, t, {"logged": True, "cart": True}, decline_p=0.14, retries=2)
            else:
                if r.random() < 0.4:
                    g.page(
                        c,
                        t + g.think(6),
                        "/events?category=concerts",
                        url,
                        images=g.event_images(r.sample(catalogue, 6)),
                    )
        # fans in the app
        for i in range(n_app):
            ip, ua = app_user()
            c = g.client(ip, ua, "normal", label_group + "_app", keeps_cookies=False, detail="app")
            arrive = open_t + min(30 * 60, max(-25 * 60, r.gauss(-2 * 60, 6 * 60)))
            admit = max(arrive + 10, open_t + r.uniform(0, drain))
            g.emit(c, arrive, "GET", "/api/v2/config", 200, 2311, "-", "api")
            g.emit(c, arrive + 0.3, "GET", "/api/v2/events/%d" % event, 200, 7000, "-", "api")
            t = arrive + 1
            while t < admit:
                g.emit(c, t, "GET", "/api/v2/queue?event=%d" % event, 200, 410, "-", "api")
                t += r.uniform(20, 30)
            for _ in range(r.randint(3, 12)):
                t += r.uniform(1.5, 8)
                g.emit(
                    c,
                    t,
                    "GET",
                    "/api/v2/events/%d/seats?section=%d" % (event, r.randint(101, 330)),
                    200,
                    r.randrange(2000, 20000),
                    "-",
                    "api",
                )
            t += r.uniform(2, 6)
            ok = t < sold_out and r.random() < 0.6
            g.emit(c, t, "POST", "/api/v2/cart", 200 if ok else 409, 600, "-", "api")
            if ok:
                t += g.think(25, 0.5)
                if r.random() < 0.12:
                    g.emit(c, t, "POST", "/api/v2/checkout", 402, 700, "-", "api")
                    t += g.think(30, 0.5)
                g.emit(c, t, "POST", "/api/v2/checkout", 200, 700, "-", "api")
        return open_t

    small_open = onsale(SMALL_ONSALE_DAY, SMALL_EVENT, int(350 * args.scale), int(70 * args.scale), "onsale_fan_small")
    big_open = onsale(BIG_ONSALE_DAY, BIG_EVENT, int(1500 * args.scale), int(300 * args.scale), "onsale_fan_big")

    # ---------------- bots
    def scalper(open_t, event, n_fast, n_paced, tag):
        q_path = "/queue?event=%d" % event
        for i in range(n_fast + n_paced):
            paced = i >= n_fast
            ua = UA_HEADLESS if (not paced and r.random() < 0.15) else g.pick(UA_DESKTOP[:5])
            c = g.client(
                g.bot_ip(RESIDENTIAL), ua, "scalper_bot", "scalper_paced" if paced else "scalper_fast", detail=tag
            )
            if not paced:
                c["cache"].update(s for s in STATIC if not s.endswith(("js", "css")))  # images/fonts blocked
            gap = (lambda: g.think(6, 0.5)) if paced else (lambda: r.uniform(0.2, 1.5))
            t = open_t - r.uniform(30, 900)
            # logs into one of its many accounts first
            t, url = g.page(c, t, "/login", "-")
            t += gap()
            g.emit(c, t, "POST", "/login", 302, 0, HOST + "/login", "web")
            g.rotate(c)
            t += gap()
            g.emit(c, t, "GET", "/event/%d" % event, 302, 0, HOST + "/account", "web")
            t, _ = g.page(c, t + 0.1, q_path, HOST + "/login")
            admit = open_t + r.uniform(0, 300) if r.random() < 0.7 else open_t + r.uniform(300, 1800)
            while t < admit:
                t += r.uniform(6, 12) if not paced else r.uniform(40, 60)
                g.emit(c, min(t, admit - 0.5), "GET", q_path, 200, r.randrange(9000, 9800), HOST + q_path, "web")
            t, url = g.page(c, admit, "/event/%d" % event, HOST + q_path, xhr=["/event/%d/seats" % event])
            for attempt in range(r.randint(1, 6)):
                for _ in range(r.randint(1, 3) if not paced else r.randint(2, 6)):
                    t += gap()
                    g.emit(
                        c,
                        t,
                        "GET",
                        "/event/%d/seats?best=1&qty=%d" % (event, r.choice([4, 6, 8])),
                        200,
                        r.randrange(2000, 9000),
                        url,
                        "web",
                    )
                t += gap()
                ok = r.random() < 0.55
                g.emit(c, t, "POST", "/cart", 200 if ok else 409, 500, url, "web")
                if ok:
                    t, _ = g.page(c, t + gap(), "/checkout", url)
                    t += gap() if not paced else g.think(15, 0.4)
                    g.emit(c, t, "POST", "/checkout", 200 if r.random() < 0.9 else 402, 700, HOST + "/checkout", "web")
                    break

    def scraper_requests(day, n, ua, nets, label_detail, keeps=False, pace=(0.5, 2.0), seats=True, start_h=None):
        ip = g.bot_ip(nets)
        c = g.client(ip, ua, "seatmap_scraper", label_detail, keeps_cookies=keeps, proto="1.1", detail=label_detail)
        c["browser"] = False
        t = t0 + day * 86400 + (start_h if start_h is not None else r.uniform(0, 20)) * 3600
        ids = list(catalogue)
        r.shuffle(ids)
        k = 0
        for e in ids:
            if k >= n:
                break
            g.emit(c, t, "GET", "/event/%d" % e, 200, r.randrange(20000, 60000), "-", "web")
            k += 1
            if seats:
                t += r.uniform(*pace)
                g.emit(c, t, "GET", "/event/%d/seats" % e, 200, r.randrange(8000, 40000), "-", "web")
                k += 1
            t += r.uniform(*pace)
            if keeps and r.random() < 0.03:  # the scraper restarts with a fresh cookie jar
                c["tsid"] = None

    def browser_scraper(day, n_pages, rotate_every):
        """Chrome user agent, python behind it; a pool of residential proxies; no assets"""
        ua = g.pick(UA_DESKTOP[:3])
        pool = [g.bot_ip(RESIDENTIAL) for _ in range(5)]
        c = g.client(pool[0], ua, "seatmap_scraper", "scraper_browser_ua", detail="browser_ua")
        c["browser"] = False
        t = t0 + day * 86400 + r.uniform(1, 20) * 3600
        for i in range(n_pages):
            if i and i % rotate_every == 0:
                c["tsid"] = None
                c["ip"] = r.choice(pool)
            cat = r.choice(CATEGORIES)
            if i % 10 == 0:
                g.emit(
                    c,
                    t,
                    "GET",
                    "/events?category=%s&page=%d" % (cat, i // 10 % 8 + 1),
                    200,
                    r.randrange(30000, 60000),
                    HOST + "/",
                    "web",
                )
            else:
                e = r.choice(catalogue)
                g.emit(
                    c,
                    t,
                    "GET",
                    "/event/%d" % e,
                    200,
                    r.randrange(20000, 60000),
                    HOST + "/events?category=%s" % cat,
                    "web",
                )
                t += r.uniform(0.3, 0.9)
                g.emit(c, t, "GET", "/event/%d/seats" % e, 200, r.randrange(8000, 40000), HOST + "/event/%d" % e, "web")
            t += r.uniform(1.5, 4.0)

    def cred_stuffing_web(day, start_h, n, hours):
        t = t0 + day * 86400 + start_h * 3600
        for i in range(n):
            ua = g.pick(UA_DESKTOP + UA_PHONE)
            nets = RESIDENTIAL if r.random() < 0.7 else PROXY_FOREIGN
            c = g.client(g.bot_ip(nets), ua, "credential_stuffing", "stuffing_web", detail="web")
            c["browser"] = False
            tt = t + r.uniform(0, hours * 3600)
            g.emit(c, tt, "GET", "/login", 200, r.randrange(17000, 18000), "-", "web")
            for a in range(1 if r.random() < 0.6 else 2):
                tt += r.uniform(0.8, 3)
                ok = r.random() < 0.025
                g.emit(
                    c,
                    tt,
                    "POST",
                    "/login",
                    302 if ok else 401,
                    0 if ok else r.randrange(17000, 19000),
                    HOST + "/login",
                    "web",
                )
                if ok:
                    g.rotate(c)
                    g.emit(c, tt + r.uniform(0.3, 1), "GET", "/account", 200, 21000, HOST + "/login", "web")
                    break

    def cred_stuffing_api(day, start_h, n, hours):
        t = t0 + day * 86400 + start_h * 3600
        for i in range(n):
            ua = r.choice(UA_ANDROID_APP)
            c = g.client(
                g.bot_ip(RESIDENTIAL + PROXY_FOREIGN),
                ua,
                "credential_stuffing",
                "stuffing_api",
                keeps_cookies=False,
                detail="api",
            )
            tt = t + r.uniform(0, hours * 3600)
            for a in range(1 if r.random() < 0.5 else 2):
                ok = r.random() < 0.02
                g.emit(c, tt, "POST", "/api/v2/auth/login", 200 if ok else 401, 900 if ok else 160, "-", "api")
                tt += r.uniform(0.5, 2)

    def card_testing(day, start_h, n_sessions, per_session):
        nets = HOSTING + VPN
        ua = g.pick(UA_DESKTOP[:5])
        t = t0 + day * 86400 + start_h * 3600
        cheap = catalogue[-1]
        for s in range(n_sessions):
            c = g.client(g.bot_ip(nets), ua, "card_testing", "card_testing", detail="checkout")
            c["browser"] = s % 2 == 0
            t, url = g.page(c, t, "/login", "-")
            t += r.uniform(2, 5)
            g.emit(c, t, "POST", "/login", 302, 0, HOST + "/login", "web")
            g.rotate(c)
            t += r.uniform(1, 3)
            t, url = g.page(c, t, "/event/%d" % cheap, HOST + "/account", xhr=["/event/%d/seats" % cheap])
            t += r.uniform(2, 5)
            g.emit(c, t, "POST", "/cart", 200, 520, url, "web")
            t, url = g.page(c, t + r.uniform(1, 3), "/checkout", HOST + "/cart")
            for k in range(per_session):
                t += r.uniform(3, 12)
                g.emit(c, t, "POST", "/checkout", 402 if r.random() < 0.88 else 200, 2300, url, "web")
            t += r.uniform(60, 400)

    def inventory_bot(day, start_h, hours, events, keeps=True, ua=None, nets=HOSTING, period=(3, 7)):
        ua = ua or UA_DESKTOP[0][0]
        c = g.client(
            g.bot_ip(nets),
            ua,
            "inventory_bot",
            "inventory_bot",
            keeps_cookies=keeps,
            proto="1.1",
            detail="cookie" if keeps else "cookieless",
        )
        c["browser"] = False
        t = t0 + day * 86400 + start_h * 3600
        end = t + hours * 3600
        while t < end:
            e = r.choice(events)
            g.emit(
                c,
                t,
                "GET",
                "/event/%d/seats" % e,
                200,
                r.randrange(8000, 40000),
                HOST + "/event/%d" % e if keeps else "-",
                "web",
            )
            t += r.uniform(*period)

    # training bots (labelled)
    scalper(small_open, SMALL_EVENT, 12, 4, "train")
    scraper_requests(1, 500, "python-requests/2.31.0", HOSTING, "scraper_requests")
    scraper_requests(4, 300, "python-requests/2.32.3", HOSTING, "scraper_requests")
    browser_scraper(5, 200, 60)
    inventory_bot(2, 13, 2, catalogue[2:4])
    card_testing(6, 3, 2, 12)
    # test bots
    scalper(big_open, BIG_EVENT, 160, 40, "test")
    scalper(t0 + 9 * 86400 + 10 * 3600, catalogue[5], 25, 10, "test_wed")  # a lesser on-sale on Wed
    for day in (7, 8, 9):
        scraper_requests(day, 700, "python-requests/2.31.0", HOSTING, "scraper_requests")
        scraper_requests(day, 120, "curl/8.5.0", HOSTING, "scraper_curl", seats=True, pace=(0.2, 0.6))
        browser_scraper(day, 400, 40)
        inventory_bot(day, 8, 8, [BIG_EVENT, catalogue[2], catalogue[3]])
    inventory_bot(8, 9.5, 2, [BIG_EVENT], keeps=False, ua="python-requests/2.31.0", period=(8, 12))
    scraper_requests(7, 200, UA_DESKTOP[0][0], HOSTING, "scraper_browser_ua_hosting", keeps=True, pace=(1.0, 3.0))
    cred_stuffing_web(7, 20, 500, 2.5)
    cred_stuffing_web(9, 1, 300, 3)
    cred_stuffing_api(9, 14, 250, 1.5)
    card_testing(8, 2, 6, 14)
    card_testing(9, 23, 3, 10)

    # ---- write
    g.lines.sort()
    split = t0 + TRAIN_DAYS * 86400
    n_train = n_test = 0
    with open(os.path.join(args.out, "train.log"), "w") as ftr, open(os.path.join(args.out, "test.log"), "w") as fte:
        for t, _, line in g.lines:
            if t < split:
                ftr.write(line + "\n")
                n_train += 1
            else:
                fte.write(line + "\n")
                n_test += 1
    with open(os.path.join(args.out, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label"])
        for k in sorted(g.labels):
            w.writerow([k, g.labels[k]])
    with open(os.path.join(args.out, "groups.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label", "group", "detail"])
        for k in sorted(g.labels):
            grp, det = g.groups[k]
            w.writerow([k, g.labels[k], grp, det])
    counts = {}
    for k, lab in g.labels.items():
        counts[g.groups[k][0]] = counts.get(g.groups[k][0], 0) + 1
    summary = {
        "train_lines": n_train,
        "test_lines": n_test,
        "keys": len(g.labels),
        "label_conflicts": g.conflicts,
        "keys_per_group": counts,
        "small_onsale": datetime.fromtimestamp(small_open, TZ).isoformat(),
        "big_onsale": datetime.fromtimestamp(big_open, TZ).isoformat(),
        "small_event": SMALL_EVENT,
        "big_event": BIG_EVENT,
    }
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
