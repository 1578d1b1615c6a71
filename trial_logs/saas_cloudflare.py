#!/usr/bin/env python3
"""Labelled Cloudflare Logpush (http_requests dataset) log of a SaaS: marketing site, docs, blog,
app with login + MFA, password reset, SPA dashboard calling a JSON API, billing with card updates,
and a public API for customers' integrations.

Standard library only, deterministic for --seed.

Output (in --out):
  train.log   7 days, normal traffic only
  test.log    3 days, normal traffic + attacks (and a product-launch day)
  labels.csv  key,label  with key = test.log:LINE for every attack request (docs: FILE:LINE labels)
  truth.csv   file,line,group,session,client_key  (ground truth of every line, for analysis)

Format: newline-delimited JSON, one object per request, keys in alphabetical order as Logpush
writes them; custom fields RequestHeaders / Cookies as Logpush's custom-fields rule adds them.
EdgeStartTimestamp / EdgeEndTimestamp: --timestamp-format unixnano (Logpush's default
`timestamp_format`) or rfc3339 (second precision, as Logpush writes it).
"""

import argparse
import csv
import hashlib
import json
import math
import os
import random
from datetime import datetime, timedelta, timezone

START = datetime(2026, 3, 2, tzinfo=timezone.utc)  # a Monday
DAY = 86400.0
TRAIN_DAYS, TEST_DAYS = 7, 3
LAUNCH_DAY = 8  # test day 2: product launch

ZONE = "acmeflow.io"
WWW, APP, API = "www.acmeflow.io", "app.acmeflow.io", "api.acmeflow.io"

# (asn, country, prefix builder, kind)
RESIDENTIAL = [
    (7922, "us", "73.{}.{}.{}"),
    (7922, "us", "24.{}.{}.{}"),
    (701, "us", "108.{}.{}.{}"),
    (7018, "us", "99.{}.{}.{}"),
    (20115, "us", "71.{}.{}.{}"),
    (2856, "gb", "86.{}.{}.{}"),
    (5089, "gb", "82.{}.{}.{}"),
    (3320, "de", "87.{}.{}.{}"),
    (3320, "de", "91.{}.{}.{}"),
    (3215, "fr", "90.{}.{}.{}"),
    (1136, "nl", "77.{}.{}.{}"),
    (812, "ca", "99.{}.{}.{}"),
    (1221, "au", "124.{}.{}.{}"),
    (24560, "in", "122.{}.{}.{}"),
    (26599, "br", "177.{}.{}.{}"),
    (3352, "es", "83.{}.{}.{}"),
    (8151, "mx", "187.{}.{}.{}"),
    (4766, "kr", "211.{}.{}.{}"),
]
MOBILE = [
    (21928, "us", "172.56.{}.{}"),
    (21928, "us", "172.58.{}.{}"),
    (22394, "us", "174.{}.{}.{}"),
    (12576, "gb", "31.94.{}.{}"),
    (3209, "de", "109.40.{}.{}"),
    (51207, "fr", "37.171.{}.{}"),
]
CLOUD = [
    (16509, "us", "3.{}.{}.{}"),
    (16509, "us", "54.{}.{}.{}"),
    (16509, "de", "18.{}.{}.{}"),
    (396982, "us", "34.{}.{}.{}"),
    (396982, "us", "35.{}.{}.{}"),
    (14061, "us", "159.89.{}.{}"),
    (14061, "de", "167.99.{}.{}"),
    (14061, "nl", "134.209.{}.{}"),
    (16276, "fr", "51.75.{}.{}"),
    (24940, "de", "95.216.{}.{}"),
    (8075, "us", "20.{}.{}.{}"),
]
COLO = {
    "us": ["IAD", "ORD", "DFW", "SJC", "EWR", "ATL"],
    "gb": ["LHR", "MAN"],
    "de": ["FRA", "DUS"],
    "fr": ["CDG", "MRS"],
    "nl": ["AMS"],
    "ca": ["YYZ"],
    "au": ["SYD"],
    "in": ["BOM"],
    "br": ["GRU"],
    "es": ["MAD"],
    "mx": ["QRO"],
    "kr": ["ICN"],
    "ng": ["LOS"],
    "vn": ["SGN"],
    "id": ["CGK"],
}
LANG = {
    "us": "en-US,en;q=0.9",
    "gb": "en-GB,en;q=0.9",
    "de": "de-DE,de;q=0.9,en;q=0.8",
    "fr": "fr-FR,fr;q=0.9,en;q=0.8",
    "nl": "nl-NL,nl;q=0.9,en;q=0.8",
    "ca": "en-CA,en;q=0.9",
    "au": "en-AU,en;q=0.9",
    "in": "en-IN,en;q=0.9",
    "br": "pt-BR,pt;q=0.9,en;q=0.8",
    "es": "es-ES,es;q=0.9",
    "mx": "es-MX,es;q=0.9",
    "kr": "ko-KR,ko;q=0.9,en;q=0.8",
}
TZ = {"us": -6, "gb": 0, "de": 1, "fr": 1, "nl": 1, "ca": -5, "au": 10, "in": 5, "br": -3, "es": 1, "mx": -6, "kr": 9}

DESKTOP_UA = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:123.0) Gecko/20100101 Firefox/123.0",
]
MOBILE_UA = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.64 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.6167.178 Mobile Safari/537.36",
]
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36"
OAISEARCH = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; OAI-SearchBot/1.0; +https://openai.com/searchbot"
)
UPTIME = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
STATUSCHK = "Better Uptime Bot Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/98.0.4758.102 Safari/537.36"
SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
SDK_UA = [
    "acmeflow-python/2.4.1 python-requests/2.31.0",
    "acmeflow-node/3.1.0 axios/1.6.7",
    "Zapier",
    "Go-http-client/2.0",
    "acmeflow-ruby/1.9.0 Faraday v2.9.0",
    "Make/production",
]

MKT_PAGES = [
    "/",
    "/pricing",
    "/features/automation",
    "/features/reporting",
    "/features/integrations",
    "/customers",
    "/security",
    "/about",
    "/contact-sales",
    "/changelog",
    "/integrations/slack",
    "/integrations/github",
    "/compare/asana",
    "/templates",
]
BLOG = [
    "/blog/" + s
    for s in [
        "how-we-cut-reporting-time",
        "okrs-that-work",
        "remote-standups",
        "q4-planning-template",
        "automation-recipes",
        "sprint-retros",
        "customer-story-northwind",
        "soc2-journey",
        "api-v2-is-here",
        "kanban-vs-scrum",
        "weekly-digest-email",
        "time-tracking-tips",
    ]
]
DOCS = ["/docs"] + [
    "/docs/" + s
    for s in [
        "getting-started",
        "getting-started/invite-your-team",
        "projects/create",
        "projects/templates",
        "tasks/automation-rules",
        "reports/dashboards",
        "reports/export",
        "billing/plans",
        "billing/invoices",
        "security/sso",
        "security/mfa",
        "api/authentication",
        "api/rate-limits",
        "api/tasks",
        "api/projects",
        "api/webhooks",
        "api/pagination",
        "api/errors",
        "integrations/slack",
        "integrations/zapier",
        "integrations/github",
        "admin/roles",
        "admin/audit-log",
        "faq",
    ]
]
WWW_ASSETS = [
    "/_next/static/chunks/main-8f2c1a.js",
    "/_next/static/chunks/pages/_app-41bd.js",
    "/_next/static/css/7a1e9c.css",
    "/fonts/inter-var.woff2",
    "/images/hero.webp",
    "/favicon.ico",
]
APP_ASSETS = [
    "/assets/app.4f9e21c.js",
    "/assets/vendor.91ab3d2.js",
    "/assets/app.2c7d11.css",
    "/assets/inter-var.woff2",
    "/favicon.ico",
]
SEARCH_REF = [
    "https://www.google.com/",
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://www.linkedin.com/",
    "https://t.co/",
    "",
    "",
    "",
]


class Gen:
    def __init__(self, seed, tsfmt):
        self.r = random.Random(seed)
        self.tsfmt = tsfmt
        self.rows = []  # (ts, seq, obj, group, label, session, client_key)
        self.seq = 0
        self.used_ips = set()

    # ---------- helpers ----------
    def ip(self, pool, sticky=None):
        r = self.r
        asn, cc, pat = r.choice(pool) if sticky is None else sticky
        n = pat.count("{}")
        while True:
            parts = [r.randint(1, 254) for _ in range(n)]
            a = pat.format(*parts)
            if a not in self.used_ips:
                self.used_ips.add(a)
                return a, asn, cc

    def token(self, n=32):
        return "".join(
            self.r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for _ in range(n)
        )

    def client(self, ip, asn, cc, ua, device=None):
        return {
            "ip": ip,
            "asn": asn,
            "cc": cc,
            "ua": ua,
            "device": device or ("mobile" if ("Mobile" in ua or "Android" in ua) else "desktop"),
            "colo": self.r.choice(COLO.get(cc, ["IAD"])),
            "lang": LANG.get(cc, "en-US,en;q=0.9"),
            "proto": self.r.choice(["HTTP/2", "HTTP/2", "HTTP/3", "HTTP/1.1"])
            if "Mozilla" in ua and "compatible" not in ua
            else "HTTP/1.1",
        }

    def emit(
        self,
        ts,
        c,
        host,
        method,
        uri,
        status,
        group,
        label=None,
        session=None,
        ref="",
        ga=None,
        ctype=None,
        cache=None,
        origin=None,
        nbytes=None,
        dur=None,
        action="",
        extra_headers=None,
    ):
        r = self.r
        path = uri.split("?")[0]
        is_asset = path.startswith(("/_next/", "/assets/", "/fonts/", "/images/")) or path.endswith(
            (".ico", ".webp", ".woff2", ".css", ".js")
        )
        if ctype is None:
            ctype = (
                "application/javascript"
                if path.endswith(".js")
                else "text/css"
                if path.endswith(".css")
                else "font/woff2"
                if path.endswith(".woff2")
                else "image/webp"
                if path.endswith(".webp")
                else "image/x-icon"
                if path.endswith(".ico")
                else "application/xml"
                if path.endswith(".xml")
                else "text/plain"
                if path.endswith(".txt")
                else "application/json"
                if (path.startswith("/api/") or host == API)
                else "text/html"
            )
        if cache is None:
            if is_asset:
                cache = "hit" if r.random() < 0.93 else "miss"
            elif host == WWW and method == "GET" and status == 200:
                cache = r.choice(["hit", "hit", "hit", "expired", "revalidated", "miss"])
            else:
                cache = "dynamic"
        if origin is None:
            origin = 0 if cache in ("hit", "revalidated") else status
        if nbytes is None:
            if status in (301, 302, 304):
                nbytes = r.randint(180, 420)
            elif ctype == "text/html":
                nbytes = r.randint(9000, 68000)
            elif ctype == "application/json":
                nbytes = r.randint(90, 400) if status >= 400 else r.randint(300, 24000)
            else:
                nbytes = r.randint(2000, 260000)
        if dur is None:
            dur = 0 if origin == 0 else max(3, int(r.lognormvariate(math.log(85 if host != WWW else 40), 0.6)))
        cookies = {}
        if ga:
            cookies["_ga"] = ga
        if session:
            cookies["__Host-session"] = session
        hdrs = {"accept-language": c["lang"]}
        if extra_headers:
            hdrs.update(extra_headers)
        start_ns = int(ts * 1e9) + int(START.timestamp() * 1e9)
        end_ns = start_ns + (dur + r.randint(1, 25)) * 1_000_000
        obj = {
            "CacheCacheStatus": cache,
            "CacheResponseBytes": nbytes if cache != "dynamic" else 0,
            "ClientASN": c["asn"],
            "ClientCountry": c["cc"],
            "ClientDeviceType": c["device"],
            "ClientIP": c["ip"],
            "ClientRequestBytes": r.randint(700, 2600) if method == "GET" else r.randint(1200, 4200),
            "ClientRequestHost": host,
            "ClientRequestMethod": method,
            "ClientRequestPath": path,
            "ClientRequestProtocol": c["proto"],
            "ClientRequestReferer": ref,
            "ClientRequestScheme": "https",
            "ClientRequestURI": uri,
            "ClientRequestUserAgent": c["ua"],
            "ClientSrcPort": r.randint(1024, 65535),
            "Cookies": cookies,
            "EdgeColoCode": c["colo"],
            "EdgeEndTimestamp": self.fmt(end_ns),
            "EdgeResponseBytes": nbytes + r.randint(300, 700),
            "EdgeResponseContentType": ctype,
            "EdgeResponseStatus": status,
            "EdgeStartTimestamp": self.fmt(start_ns),
            "OriginResponseDurationMs": dur,
            "OriginResponseStatus": origin,
            "RayID": "%016x" % r.getrandbits(64),
            "RequestHeaders": hdrs,
            "SecurityAction": action,
            "ZoneName": ZONE,
        }
        ck = hashlib.sha256((c["ip"] + "\x1f" + c["ua"]).encode()).hexdigest()[:16]
        self.rows.append((ts, self.seq, obj, group, label, session or "", "client:" + ck))
        self.seq += 1

    def fmt(self, ns):
        if self.tsfmt == "unixnano":
            return ns
        return datetime.fromtimestamp(ns // 1_000_000_000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def think(self, median=18, sigma=0.9):
        return min(600, self.r.lognormvariate(math.log(median), sigma))

    def assets(self, t, c, host, group, label, session, ref, ga=None, k=None):
        r = self.r
        lst = WWW_ASSETS if host == WWW else APP_ASSETS
        k = k if k is not None else r.randint(3, len(lst))
        for a in r.sample(lst, k):
            t += r.uniform(0.02, 0.35)
            self.emit(t, c, host, "GET", a, 200, group, label, session, ref=ref, ga=ga)
        return t

    # ---------- normal actors ----------
    def build_population(self):
        r = self.r
        self.companies = []
        for i in range(45):
            cc = r.choice(["us"] * 6 + ["gb", "gb", "de", "de", "fr", "nl", "ca", "au", "in", "br", "es"])
            pool = [p for p in RESIDENTIAL if p[1] == cc] or RESIDENTIAL
            # office egress: business broadband, one NAT address (sometimes two)
            offs = [self.ip(pool) for _ in range(1 if r.random() < 0.8 else 2)]
            size = max(2, int(r.paretovariate(1.3) * 4))
            size = min(size, 90)
            self.companies.append(
                {"cc": cc, "offices": offs, "size": size, "users": [], "remote": r.random() < 0.35, "token_clients": []}
            )
        self.users = []
        for comp in self.companies:
            for _ in range(comp["size"]):
                self.add_user(comp, signup_day=-1)
        # carrier CGNAT pools shared by many mobile users
        self.cgnat = {cc: [self.ip([p]) for _ in range(25)] for p in MOBILE for cc in [p[1]]}

    def add_user(self, comp, signup_day):
        r = self.r
        cc = comp["cc"]
        pool = [p for p in RESIDENTIAL if p[1] == cc] or RESIDENTIAL
        u = {
            "comp": comp,
            "cc": cc,
            "ua": r.choice(DESKTOP_UA),
            "mua": r.choice(MOBILE_UA),
            "home": self.ip(pool),
            "mfa": r.random() < 0.65,
            "trusted": r.random() < 0.5,
            "admin": len(comp["users"]) == 0 or r.random() < 0.08,
            "activity": min(1.0, r.paretovariate(2.0) * 0.35),
            "mobile_share": r.random() * 0.3,
            "signup_day": signup_day,
            "session": None,
            "ga": "GA1.1.%d.%d" % (r.randint(10**8, 10**9), r.randint(1.6e9, 1.7e9)),
            "pid": r.randint(1000, 99999),
        }
        comp["users"].append(u)
        self.users.append(u)
        return u

    def user_client(self, u, day):
        r = self.r
        comp = u["comp"]
        if r.random() < u["mobile_share"]:
            cc = u["cc"] if u["cc"] in self.cgnat else "us"
            ip, asn, ccc = r.choice(self.cgnat[cc])
            return self.client(ip, asn, ccc, u["mua"])
        if comp["remote"] or r.random() < 0.2:
            ip, asn, cc = u["home"]
        else:
            ip, asn, cc = comp["offices"][0] if len(comp["offices"]) == 1 or r.random() < 0.6 else comp["offices"][1]
        return self.client(ip, asn, cc, u["ua"])

    def login(self, t, c, u, group, label=None, sess=None):
        """GET /login -> POST /api/auth/login -> (MFA) -> rotated session. Returns t, new session."""
        r = self.r
        s0 = self.token()
        self.emit(t, c, APP, "GET", "/login", 200, group, label, sess, ref=r.choice(["", "https://www.acmeflow.io/"]))
        if r.random() < 0.45:
            t = self.assets(t, c, APP, group, label, None, "https://app.acmeflow.io/login")
        t += self.think(9, 0.5)
        if r.random() < 0.06:  # mistyped password
            self.emit(t, c, APP, "POST", "/api/auth/login", 401, group, label, s0, ref="https://app.acmeflow.io/login")
            t += self.think(7, 0.5)
        mfa = u["mfa"] and not (u["trusted"] and r.random() < 0.8)
        self.emit(t, c, APP, "POST", "/api/auth/login", 200, group, label, s0, ref="https://app.acmeflow.io/login")
        if mfa:
            t += r.uniform(0.2, 0.8)
            self.emit(t, c, APP, "GET", "/login/mfa", 200, group, label, s0, ref="https://app.acmeflow.io/login")
            t += self.think(14, 0.5)
            if r.random() < 0.04:
                self.emit(
                    t,
                    c,
                    APP,
                    "POST",
                    "/api/auth/mfa/verify",
                    401,
                    group,
                    label,
                    s0,
                    ref="https://app.acmeflow.io/login/mfa",
                )
                t += self.think(10, 0.4)
            self.emit(
                t,
                c,
                APP,
                "POST",
                "/api/auth/mfa/verify",
                200,
                group,
                label,
                s0,
                ref="https://app.acmeflow.io/login/mfa",
            )
        s1 = self.token()  # session id rotated after authentication
        return t + r.uniform(0.2, 0.6), s1

    def dashboard(self, t, c, u, s, group, label=None, n_actions=None, cold=True):
        r = self.r
        pid = u["pid"]
        page = r.choice(["/dashboard", "/dashboard", "/projects/%d" % pid, "/inbox"])
        self.emit(t, c, APP, "GET", page, 200, group, label, s, ref="https://app.acmeflow.io/login")
        if cold:
            t = self.assets(t, c, APP, group, label, s, "https://app.acmeflow.io" + page)
        for call in ["/api/v1/me", "/api/v1/projects?limit=50", "/api/v1/notifications?unread=true"]:
            t += r.uniform(0.05, 0.4)
            self.emit(t, c, APP, "GET", call, 200, group, label, s, ref="https://app.acmeflow.io" + page)
        n = n_actions if n_actions is not None else max(1, int(r.lognormvariate(math.log(8), 0.8)))
        last_poll = t
        cur = page
        for _ in range(n):
            dt = self.think(20, 1.0)
            # notification poll every 60 s while the tab is open
            while last_poll + 60 < t + dt:
                last_poll += 60 + r.uniform(-1, 1)
                self.emit(
                    last_poll,
                    c,
                    APP,
                    "GET",
                    "/api/v1/notifications/poll",
                    200,
                    group,
                    label,
                    s,
                    ref="https://app.acmeflow.io" + cur,
                )
            t += dt
            tid = r.randint(10000, 999999)
            a = r.random()
            if a < 0.35:
                p2 = r.randint(1000, 99999) if r.random() < 0.3 else pid
                calls = [
                    ("GET", "/api/v1/projects/%d" % p2),
                    ("GET", "/api/v1/projects/%d/tasks?status=open&page=1" % p2),
                ]
                cur = "/projects/%d" % p2
            elif a < 0.55:
                calls = [("GET", "/api/v1/tasks/%d" % tid), ("GET", "/api/v1/tasks/%d/comments" % tid)]
                cur = "/tasks/%d" % tid
            elif a < 0.7:
                calls = [("PATCH", "/api/v1/tasks/%d" % tid)]
            elif a < 0.78:
                calls = [("POST", "/api/v1/tasks/%d/comments" % tid)]
            elif a < 0.86:
                calls = [
                    ("GET", "/api/v1/reports/summary?range=%s" % r.choice(["7d", "30d", "90d"])),
                    ("GET", "/api/v1/reports/velocity"),
                ]
                cur = "/reports"
            elif a < 0.92:
                calls = [
                    (
                        "GET",
                        "/api/v1/search?q=%s" % r.choice(["launch", "bug", "design", "q2", "invoice", "onboarding"]),
                    )
                ]
            elif a < 0.96:
                calls = [("GET", "/api/v1/team/members")]
                cur = "/settings/team"
            else:
                calls = [("POST", "/api/v1/tasks")]
            for m, uri in calls:
                t += r.uniform(0.05, 0.3)
                st = 201 if (m == "POST" and uri == "/api/v1/tasks") else 200
                if r.random() < 0.004:
                    st = 500
                elif m == "GET" and r.random() < 0.004:
                    st = 404
                self.emit(t, c, APP, m, uri, st, group, label, s, ref="https://app.acmeflow.io" + cur)
        if u["admin"] and r.random() < 0.06:
            t = self.billing(t, c, s, group, label, cards=1 if r.random() < 0.4 else 0)
        if r.random() < 0.2:
            t += self.think(10)
            self.emit(t, c, APP, "POST", "/api/auth/logout", 204, group, label, s, ref="https://app.acmeflow.io" + cur)
        return t

    def billing(self, t, c, s, group, label, cards, decline=0.1, pace=None, rotate=None):
        r = self.r
        t += self.think(8)
        self.emit(t, c, APP, "GET", "/settings/billing", 200, group, label, s, ref="https://app.acmeflow.io/dashboard")
        for call in [
            "/api/v1/billing/subscription",
            "/api/v1/billing/invoices?limit=12",
            "/api/v1/billing/payment-methods",
        ]:
            t += r.uniform(0.05, 0.3)
            self.emit(t, c, APP, "GET", call, 200, group, label, s, ref="https://app.acmeflow.io/settings/billing")
        for i in range(cards):
            if rotate:
                c = rotate()
            t += pace() if pace else self.think(35, 0.5)
            self.emit(
                t,
                c,
                APP,
                "POST",
                "/api/v1/billing/setup-intent",
                200,
                group,
                label,
                s,
                ref="https://app.acmeflow.io/settings/billing",
            )
            t += r.uniform(1.5, 4.0)  # card confirmed with the processor in the browser
            st = 402 if r.random() < decline else 200
            self.emit(
                t,
                c,
                APP,
                "POST",
                "/api/v1/billing/payment-methods",
                st,
                group,
                label,
                s,
                ref="https://app.acmeflow.io/settings/billing",
            )
        return t

    def marketing_visit(self, t, c, group, label=None, signup=False, ref=None, launch=False):
        r = self.r
        ref = ref if ref is not None else r.choice(SEARCH_REF)
        first = r.choice(["/", "/", "/pricing"] + MKT_PAGES + BLOG + DOCS[:6])
        if launch and r.random() < 0.6:
            first = r.choice(["/blog/introducing-acmeflow-3", "/", "/launch"])
        ga = None
        self.emit(t, c, WWW, "GET", first, 200, group, label, ref=ref)
        t = self.assets(t, c, WWW, group, label, None, "https://www.acmeflow.io" + first)
        ga = "GA1.1.%d.%d" % (r.randint(10**8, 10**9), int(START.timestamp() + t))
        prev = first
        for _ in range(r.choice([0, 0, 1, 1, 2, 3, 4, 6])):
            t += self.think(22)
            nxt = r.choice(MKT_PAGES + BLOG + DOCS + ["/pricing"] * 4)
            self.emit(t, c, WWW, "GET", nxt, 200, group, label, ref="https://www.acmeflow.io" + prev, ga=ga)
            if r.random() < 0.3:
                t = self.assets(t, c, WWW, group, label, None, "https://www.acmeflow.io" + nxt, ga=ga, k=1)
            prev = nxt
        if signup:
            t += self.think(15)
            return self.signup(t, c, group, label, ref="https://www.acmeflow.io" + prev)
        return t, None

    def signup(self, t, c, group, label=None, ref="https://www.acmeflow.io/pricing", quick=False):
        r = self.r
        self.emit(
            t, c, APP, "GET", "/signup?plan=%s" % r.choice(["trial", "team", "business"]), 200, group, label, ref=ref
        )
        if not quick:
            t = self.assets(t, c, APP, group, label, None, "https://app.acmeflow.io/signup")
        s = self.token()
        t += self.think(45, 0.4) if not quick else r.uniform(2, 5)
        if r.random() < 0.05 and not quick:
            self.emit(t, c, APP, "POST", "/api/auth/signup", 422, group, label, s, ref="https://app.acmeflow.io/signup")
            t += self.think(15)
        self.emit(t, c, APP, "POST", "/api/auth/signup", 201, group, label, s, ref="https://app.acmeflow.io/signup")
        t += r.uniform(0.3, 1)
        self.emit(t, c, APP, "GET", "/onboarding", 200, group, label, s, ref="https://app.acmeflow.io/signup")
        if quick:
            return t, s
        t += self.think(30)
        self.emit(
            t, c, APP, "POST", "/api/v1/workspaces", 201, group, label, s, ref="https://app.acmeflow.io/onboarding"
        )
        t += self.think(25)
        self.emit(t, c, APP, "POST", "/api/v1/projects", 201, group, label, s, ref="https://app.acmeflow.io/onboarding")
        if r.random() < 0.5:
            t += self.think(40)
            self.emit(
                t,
                c,
                APP,
                "POST",
                "/api/v1/team/invitations",
                201,
                group,
                label,
                s,
                ref="https://app.acmeflow.io/onboarding",
            )
        t += self.think(90, 0.6)  # email verification link, opened in the same browser
        self.emit(t, c, APP, "GET", "/verify-email?token=%s" % self.token(40), 302, group, label, s, ref="")
        if r.random() < 0.35:
            t += self.think(20)
            self.emit(
                t,
                c,
                APP,
                "POST",
                "/api/auth/mfa/setup",
                200,
                group,
                label,
                s,
                ref="https://app.acmeflow.io/settings/security",
            )
            t += self.think(20)
            self.emit(
                t,
                c,
                APP,
                "POST",
                "/api/auth/mfa/setup/confirm",
                200,
                group,
                label,
                s,
                ref="https://app.acmeflow.io/settings/security",
            )
        return t, s

    def password_reset_flow(self, t, c, u, group):
        r = self.r
        self.emit(t, c, APP, "GET", "/login", 200, group, None, ref="")
        t += self.think(10)
        self.emit(t, c, APP, "GET", "/forgot-password", 200, group, None, ref="https://app.acmeflow.io/login")
        s0 = None
        t += self.think(15)
        self.emit(
            t,
            c,
            APP,
            "POST",
            "/api/auth/password/forgot",
            200,
            group,
            None,
            s0,
            ref="https://app.acmeflow.io/forgot-password",
        )
        t += self.think(60, 0.6)
        self.emit(t, c, APP, "GET", "/reset-password?token=%s" % self.token(43), 200, group, None, ref="")
        t += self.think(25)
        self.emit(
            t,
            c,
            APP,
            "POST",
            "/api/auth/password/reset",
            200,
            group,
            None,
            ref="https://app.acmeflow.io/reset-password",
        )
        t += self.think(5)
        return t

    def people_day(self, day):
        r = self.r
        base = day * DAY
        weekday = (START + timedelta(days=day)).weekday() < 5
        launch = day == LAUNCH_DAY
        for u in list(self.users):
            if u["signup_day"] >= day:
                continue
            p = u["activity"] * (1.0 if weekday else 0.12)
            if r.random() > p:
                continue
            n = 1 + (r.random() < 0.5) + (r.random() < 0.2)
            tz = TZ.get(u["cc"], 0)
            starts = sorted((9 + r.random() * 9.5 - tz) * 3600 + r.gauss(0, 1800) for _ in range(n))
            s = None
            for k, st in enumerate(starts):
                t = base + st
                c = self.user_client(u, day)
                grp = (
                    "person_mobile"
                    if c["device"] == "mobile"
                    else ("person_office" if c["ip"] in [o[0] for o in u["comp"]["offices"]] else "person_home")
                )
                if r.random() < 0.006:
                    t = self.password_reset_flow(t, c, u, "person_password_reset")
                    grp = "person_password_reset"
                if k == 0 or s is None or r.random() < 0.25:
                    t, s = self.login(t, c, u, grp)
                    cold = True
                else:
                    cold = r.random() < 0.3
                if r.random() < 0.08:  # reads the docs first
                    self.emit(
                        t,
                        c,
                        WWW,
                        "GET",
                        r.choice(DOCS),
                        200,
                        "person_docs",
                        None,
                        ref="https://app.acmeflow.io/dashboard",
                        ga=u["ga"],
                    )
                    t += self.think(40)
                self.dashboard(t, c, u, s, grp, cold=cold)

    def visitors_day(self, day):
        r = self.r
        base = day * DAY
        weekday = (START + timedelta(days=day)).weekday() < 5
        launch = day == LAUNCH_DAY
        n_vis = int((230 if weekday else 120) * (4.0 if launch else 1.0))
        n_sign = int((9 if weekday else 4) * (7 if launch else 1))
        for i in range(n_vis + n_sign):
            cc = r.choice(["us"] * 5 + ["gb", "de", "fr", "nl", "ca", "au", "in", "br", "es", "mx", "kr"])
            if r.random() < 0.35:
                ip, asn, ccc = r.choice(self.cgnat.get(cc, self.cgnat["us"]))
                ua = r.choice(MOBILE_UA)
            else:
                ip, asn, ccc = self.ip([p for p in RESIDENTIAL if p[1] == cc] or RESIDENTIAL)
                ua = r.choice(DESKTOP_UA)
            c = self.client(ip, asn, ccc, ua)
            tz = TZ.get(cc, 0)
            if launch and r.random() < 0.7:
                st = (14.5 + r.expovariate(1 / 3.0)) * 3600  # HN / Product Hunt wave from 14:30 UTC
                ref = r.choice(
                    [
                        "https://news.ycombinator.com/",
                        "https://www.producthunt.com/",
                        "https://t.co/",
                        "https://www.linkedin.com/",
                    ]
                )
            else:
                st = (r.uniform(7, 23) - tz) * 3600
                ref = None
            t = base + st % DAY
            signup = i >= n_vis
            grp = "signup" if signup else ("visitor_launch" if launch else "visitor")
            t, s = self.marketing_visit(t, c, grp, signup=signup, ref=ref, launch=launch)
            if signup:
                comp = {
                    "cc": ccc,
                    "offices": [(ip, asn, ccc)],
                    "size": 1,
                    "users": [],
                    "remote": True,
                    "token_clients": [],
                }
                u = self.add_user(comp, signup_day=day)
                u["home"] = (ip, asn, ccc) if c["device"] == "desktop" else u["home"]
                u["mfa"] = False
                self.dashboard(t + self.think(10), c, u, s, "signup", n_actions=r.randint(2, 10), cold=False)
            # Slack link unfurl of an app link shared in a customer's workspace
        for _ in range(r.randint(10, 25)):
            ip, asn, cc = self.ip([CLOUD[0]])
            c = self.client(ip, asn, cc, SLACKBOT)
            self.emit(
                base + r.uniform(8, 22) * 3600,
                c,
                APP,
                "GET",
                "/projects/%d" % r.randint(1000, 99999),
                302,
                "slack_unfurl",
            )

    def automation(self, days):
        r = self.r
        # uptime monitor: www / and app /login every 5 minutes from a few probe locations
        probes = [
            self.client(ip, 46475, cc, UPTIME)
            for ip, cc in [
                ("69.162.124.226", "us"),
                ("63.143.42.244", "us"),
                ("216.144.250.150", "us"),
                ("46.137.190.132", "ie"),
            ]
        ]
        t = 0.0
        while t < days * DAY:
            c = r.choice(probes)
            self.emit(t, c, WWW, "HEAD", "/", 200, "uptime_monitor", cache="hit")
            self.emit(t + 0.5, c, APP, "HEAD", "/login", 200, "uptime_monitor")
            t += 300 + r.uniform(-2, 2)
        # status page checker: api health every 2 minutes from one AWS address
        c = self.client("3.228.141.27", 14618, "us", STATUSCHK)
        t = 7.0
        while t < days * DAY:
            self.emit(t, c, API, "GET", "/v1/health", 200, "status_checker", dur=r.randint(4, 15))
            t += 120 + r.uniform(-0.5, 0.5)
        # search crawlers
        for ua, n, pool, asn, grp in [
            (GOOGLEBOT, 260, "66.249.{}.{}", 15169, "crawler_google"),
            (BINGBOT, 140, "157.55.{}.{}", 8075, "crawler_bing"),
            (OAISEARCH, 35, "20.{}.{}.{}", 8075, "crawler_oai_search"),
        ]:
            ips = [self.ip([(asn, "us", pool)]) for _ in range(8)]
            for d in range(days):
                for _ in range(int(n * r.uniform(0.7, 1.3))):
                    ip, a, cc = r.choice(ips)
                    c = self.client(ip, a, cc, ua)
                    uri = r.choice(MKT_PAGES + BLOG + DOCS + ["/robots.txt", "/sitemap.xml"])
                    self.emit(d * DAY + r.uniform(0, DAY), c, WWW, "GET", uri, 200 if r.random() > 0.02 else 404, grp)
        # customers' API integrations with tokens (no cookies)
        for k in range(10):
            ip, asn, cc = self.ip(CLOUD)
            ua = r.choice(SDK_UA)
            c = self.client(ip, asn, cc, ua)
            period = [60, 300, 300, 300, 900, 900, 900, 3600, 3600, 600][k]
            pid = r.randint(1000, 99999)
            t = r.uniform(0, period)
            grp = "api_integration"
            business_only = r.random() < 0.3
            while t < days * DAY:
                hour = (t % DAY) / 3600
                wd = (START + timedelta(seconds=t)).weekday() < 5
                if not business_only or (wd and 8 <= hour < 19):
                    st = 200 if r.random() > 0.003 else r.choice([500, 502, 429])
                    self.emit(
                        t,
                        c,
                        API,
                        "GET",
                        "/v1/tasks?project_id=%d&updated_since=%d" % (pid, int(START.timestamp() + t - period)),
                        st,
                        grp,
                    )
                    if r.random() < 0.15:
                        for j in range(r.randint(1, 6)):
                            self.emit(
                                t + 0.3 + j * r.uniform(0.1, 0.5),
                                c,
                                API,
                                r.choice(["POST", "PATCH"]),
                                "/v1/tasks" if r.random() < 0.5 else "/v1/tasks/%d" % r.randint(10000, 999999),
                                201 if r.random() < 0.5 else 200,
                                grp,
                            )
                t += period + r.uniform(-1, 1) * (period * 0.02)

    # ---------- attacks (test days) ----------
    def attacks(self):
        r = self.r
        D0 = TRAIN_DAYS * DAY
        existing = [u for u in self.users if u["signup_day"] < 0]

        # 1. credential stuffing through residential proxies: every attempt a new address, agent, cookie
        t = D0 + 2.2 * 3600
        for i in range(1100):
            ip, asn, cc = self.ip(RESIDENTIAL + MOBILE)
            c = self.client(ip, asn, cc, r.choice(DESKTOP_UA + MOBILE_UA))
            lab = "cred_stuffing_residential"
            self.emit(t, c, APP, "GET", "/login", 200, lab, lab)
            s0 = self.token()
            t2 = t + r.uniform(1.5, 4)
            ok = r.random() < 0.012
            self.emit(
                t2,
                c,
                APP,
                "POST",
                "/api/auth/login",
                200 if ok else 401,
                lab,
                lab,
                s0,
                ref="https://app.acmeflow.io/login",
            )
            if ok:
                self.emit(t2 + 0.5, c, APP, "GET", "/login/mfa", 200, lab, lab, s0, ref="https://app.acmeflow.io/login")
            t += r.expovariate(1 / 6.5)

        # 2. credential stuffing from a few cloud hosts, straight at the login API
        t = D0 + DAY + 13.1 * 3600
        hosts = [
            self.client(*self.ip([CLOUD[5]]), "python-requests/2.31.0"),
            self.client(*self.ip([CLOUD[8]]), DESKTOP_UA[0]),
            self.client(*self.ip([CLOUD[9]]), DESKTOP_UA[0]),
        ]
        counts = [0, 0, 0]
        for i in range(900):
            k = i % 3
            c = hosts[k]
            counts[k] += 1
            lab = "cred_stuffing_cloud"
            if counts[k] > 150 and counts[k] % 10 != 0:  # Cloudflare rate-limiting rule kicks in
                self.emit(
                    t,
                    c,
                    APP,
                    "POST",
                    "/api/auth/login",
                    429,
                    lab,
                    lab,
                    origin=0,
                    cache="unknown",
                    action="block",
                    dur=0,
                    ctype="text/html",
                )
            else:
                self.emit(t, c, APP, "POST", "/api/auth/login", 200 if r.random() < 0.01 else 401, lab, lab)
            t += r.uniform(0.4, 1.4)

        # 3. MFA fatigue: valid passwords, push spam until a victim approves, then takeover
        victims = r.sample(existing, 4)
        for j, u in enumerate(victims):
            lab = "mfa_fatigue"
            t = D0 + DAY + (2 + j * 1.5) * 3600
            ip, asn, cc = self.ip([CLOUD[10], RESIDENTIAL[-4]])
            c = self.client(ip, asn, cc, DESKTOP_UA[0])
            s0 = self.token()
            self.emit(t, c, APP, "GET", "/login", 200, lab, lab)
            t += r.uniform(3, 6)
            self.emit(t, c, APP, "POST", "/api/auth/login", 200, lab, lab, s0, ref="https://app.acmeflow.io/login")
            self.emit(t + 0.5, c, APP, "GET", "/login/mfa", 200, lab, lab, s0, ref="https://app.acmeflow.io/login")
            approved = j == 0
            for k in range(r.randint(15, 40)):
                t += r.uniform(20, 90)
                self.emit(
                    t, c, APP, "POST", "/api/auth/mfa/push", 202, lab, lab, s0, ref="https://app.acmeflow.io/login/mfa"
                )
                for q in range(r.randint(3, 8)):
                    t += 3 + r.uniform(-0.1, 0.1)
                    self.emit(
                        t,
                        c,
                        APP,
                        "GET",
                        "/api/auth/mfa/push/status",
                        200,
                        lab,
                        lab,
                        s0,
                        ref="https://app.acmeflow.io/login/mfa",
                    )
            if approved:
                s1 = self.token()
                t += 2
                self.emit(t, c, APP, "GET", "/dashboard", 200, lab, lab, s1, ref="https://app.acmeflow.io/login/mfa")
                for uri, m, st in [
                    ("/api/v1/me", "GET", 200),
                    ("/api/v1/team/members", "GET", 200),
                    ("/settings/security", "GET", 200),
                    ("/api/v1/api-keys", "POST", 201),
                    ("/api/auth/mfa/devices", "POST", 201),
                    ("/api/v1/export?format=csv&scope=all", "GET", 200),
                    ("/api/v1/billing/invoices?limit=100", "GET", 200),
                ]:
                    t += r.uniform(2, 9)
                    self.emit(t, c, APP, m, uri, st, lab, lab, s1, ref="https://app.acmeflow.io/dashboard")
        # MFA bypass: TOTP brute force on one account
        u = r.choice(existing)
        lab = "mfa_bruteforce"
        ip, asn, cc = self.ip([CLOUD[6]])
        c = self.client(ip, asn, cc, DESKTOP_UA[4])
        t = D0 + 2 * DAY + 3.4 * 3600
        s0 = self.token()
        self.emit(t, c, APP, "GET", "/login", 200, lab, lab)
        t += 4
        self.emit(t, c, APP, "POST", "/api/auth/login", 200, lab, lab, s0, ref="https://app.acmeflow.io/login")
        for k in range(260):
            t += r.uniform(0.6, 1.6)
            st = 401 if k < 120 else (429 if k % 5 else 401)
            self.emit(
                t,
                c,
                APP,
                "POST",
                "/api/auth/mfa/verify",
                st,
                lab,
                lab,
                s0,
                ref="https://app.acmeflow.io/login/mfa",
                origin=0 if st == 429 else None,
                action="block" if st == 429 else "",
            )

        # 4. password-reset abuse: email enumeration from hosting addresses, and reset bombing of one victim
        lab = "reset_enumeration"
        hosts = [
            self.client(
                *self.ip(CLOUD),
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/121.0.6167.85 Safari/537.36",
            )
            for _ in range(5)
        ]
        t = D0 + 2 * DAY + 1.0 * 3600
        for i in range(700):
            c = hosts[i % 5]
            s = None
            self.emit(
                t,
                c,
                APP,
                "POST",
                "/api/auth/password/forgot",
                200 if r.random() < 0.15 else 404,
                lab,
                lab,
                s,
                ref="https://app.acmeflow.io/forgot-password",
            )
            t += r.uniform(0.8, 3.5)
        lab = "reset_bombing"
        ip, asn, cc = self.ip(RESIDENTIAL)
        c = self.client(ip, asn, cc, DESKTOP_UA[2])
        t = D0 + 17.3 * 3600
        self.emit(t, c, APP, "GET", "/forgot-password", 200, lab, lab)
        for i in range(45):
            t += r.uniform(8, 25)
            self.emit(
                t,
                c,
                APP,
                "POST",
                "/api/auth/password/forgot",
                200 if i < 20 else 429,
                lab,
                lab,
                ref="https://app.acmeflow.io/forgot-password",
                origin=0 if i >= 20 else None,
                action="block" if i >= 20 else "",
            )

        # 5. card testing: one trial account, rotating proxies, many cards; and many throwaway accounts
        lab = "card_testing"

        def rot():
            ip, asn, cc = self.ip(RESIDENTIAL)
            return self.client(ip, asn, cc, DESKTOP_UA[1])

        c = rot()
        t = D0 + 2 * DAY + 19.5 * 3600
        t, s = self.signup(t, c, lab, lab, quick=True)
        self.billing(t, c, s, lab, lab, cards=130, decline=0.85, pace=lambda: r.uniform(4, 15), rotate=rot)
        lab = "card_testing_distributed"
        t = D0 + 1 * DAY + 21 * 3600
        for k in range(25):
            c = rot()
            t0, s = self.signup(t, c, lab, lab, quick=True)
            self.billing(t0, c, s, lab, lab, cards=4, decline=0.85, pace=lambda: r.uniform(3, 8))
            t += r.uniform(60, 400)

        # 6. AI crawlers scraping docs / pricing / blog
        lab = "ai_scraper_bytespider"
        ua = "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)"
        ips = [self.ip([(396986, "us", "47.128.{}.{}")]) for _ in range(20)]
        pages = (
            DOCS
            + BLOG
            + MKT_PAGES
            + ["/docs/api/tasks?version=%d" % v for v in range(1, 4)]
            + ["/blog?page=%d" % p for p in range(1, 30)]
            + ["/changelog?page=%d" % p for p in range(1, 60)]
        )
        for d in range(3):
            t = D0 + d * DAY + r.uniform(0, 6) * 3600
            for i in range(900):
                ip, asn, cc = r.choice(ips)
                self.emit(
                    t,
                    self.client(ip, asn, cc, ua),
                    WWW,
                    "GET",
                    r.choice(pages),
                    200 if r.random() > 0.05 else 404,
                    lab,
                    lab,
                )
                t += r.expovariate(1 / 1.2)
        lab = "ai_scraper_stealth"
        ips = [self.ip([CLOUD[3], CLOUD[4]]) for _ in range(6)]
        t = D0 + DAY + 9 * 3600
        uris = sorted(
            set(
                DOCS
                + ["/pricing", "/pricing?billing=annual", "/pricing?billing=monthly", "/compare/asana", "/security"]
                + BLOG
            )
        )
        for rep in range(6):
            for uri in uris:
                ip, asn, cc = r.choice(ips)
                c = self.client(ip, asn, cc, DESKTOP_UA[0])
                self.emit(t, c, WWW, "GET", uri, 200, lab, lab, ref="")
                t += r.uniform(1.0, 3.0)
            t += r.uniform(600, 1800)

        # 7. vulnerability scanner
        lab = "vuln_scanner"
        c = self.client(
            *self.ip([CLOUD[7]]),
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36",
        )
        probes = [
            "/.env",
            "/.git/config",
            "/wp-login.php",
            "/wp-admin/",
            "/phpmyadmin/",
            "/server-status",
            "/actuator/env",
            "/api/v1/../../etc/passwd",
            "/.aws/credentials",
            "/config.json",
            "/backup.zip",
            "/admin",
            "/graphql",
            "/api/v1/users?id=1%27%20OR%201=1--",
            "/.DS_Store",
            "/debug/pprof/",
            "/login?next=//evil.example",
            "/api/v1/swagger.json",
            "/v2/api-docs",
            "/console",
            "/xmlrpc.php",
            "/.svn/entries",
            "/cgi-bin/luci",
            "/solr/admin",
        ]
        t = D0 + 5.5 * 3600
        for i in range(380):
            host = r.choice([WWW, APP, API])
            uri = r.choice(probes)
            waf = "%27" in uri or "etc/passwd" in uri or r.random() < 0.1
            self.emit(
                t,
                c,
                host,
                "GET",
                uri,
                403 if waf else 404,
                lab,
                lab,
                action="block" if waf else "",
                origin=0 if waf else None,
            )
            t += r.uniform(0.1, 0.6)

        # 8. leaked integration token used from elsewhere: bulk export by paging
        lab = "leaked_token_export"
        c = self.client(*self.ip([CLOUD[9]]), "python-requests/2.31.0")
        t = D0 + 2 * DAY + 22.6 * 3600
        for pid in r.sample(range(1000, 99999), 40):
            for page in range(1, r.randint(10, 60)):
                self.emit(t, c, API, "GET", "/v1/projects/%d/tasks?page=%d&per_page=100" % (pid, page), 200, lab, lab)
                t += r.uniform(0.15, 0.5)

        # 9. fake sign-ups (trial abuse) from a proxy pool
        lab = "fake_signups"
        t = D0 + 0.9 * DAY
        for k in range(40):
            ip, asn, cc = self.ip(RESIDENTIAL)
            c = self.client(ip, asn, cc, DESKTOP_UA[k % 2])
            self.signup(t, c, lab, lab, ref="", quick=True)
            t += r.uniform(30, 120)

    def run(self, out):
        self.build_population()
        for d in range(TRAIN_DAYS + TEST_DAYS):
            self.people_day(d)
            self.visitors_day(d)
        self.automation(TRAIN_DAYS + TEST_DAYS)
        self.attacks()
        self.rows.sort(key=lambda x: (x[0], x[1]))
        cut = TRAIN_DAYS * DAY
        files = {"train.log": [x for x in self.rows if x[0] < cut], "test.log": [x for x in self.rows if x[0] >= cut]}
        os.makedirs(out, exist_ok=True)
        with (
            open(os.path.join(out, "labels.csv"), "w", newline="") as lf,
            open(os.path.join(out, "truth.csv"), "w", newline="") as tf,
        ):
            lw, tw = csv.writer(lf), csv.writer(tf)
            lw.writerow(["key", "label"])
            tw.writerow(["file", "line", "group", "label", "session", "client_key", "ip", "ua"])
            for name, rows in files.items():
                with open(os.path.join(out, name), "w") as f:
                    for n, (ts, _, obj, grp, lab, sess, ck) in enumerate(rows, 1):
                        f.write(json.dumps(obj, separators=(",", ":")) + "\n")
                        if lab:
                            lw.writerow(["%s:%d" % (name, n), lab])
                        tw.writerow(
                            [name, n, grp, lab or "normal", sess, ck, obj["ClientIP"], obj["ClientRequestUserAgent"]]
                        )
        return {k: len(v) for k, v in files.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=37)
    ap.add_argument("--out", default=".")
    ap.add_argument("--timestamp-format", choices=["unixnano", "rfc3339"], default="unixnano")
    a = ap.parse_args()
    print(Gen(a.seed, a.timestamp_format).run(a.out))


if __name__ == "__main__":
    main()
