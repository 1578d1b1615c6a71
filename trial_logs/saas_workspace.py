#!/usr/bin/env python3
"""Labelled access log of a B2B SaaS web app (project management / CRM), "Taskly".

Standard library only; deterministic for --seed.

    python trial_logs/saas_workspace.py --out DIR   (--seed 30 by default)

writes DIR/train.log (7 days, Mon 2026-05-04 .. Sun 2026-05-10, UTC), DIR/test.log (3 days,
Mon 2026-05-11 .. Wed 2026-05-13), DIR/labels.csv (key,label: the attack lines as FILE:LINE),
and DIR/meta.json (who is who, for analysis; not needed by the backtest).

The log is nginx behind an AWS ALB, JSON access log (log_format ... escape=json):

    log_format taskly escape=json '{"time":"$time_iso8601","remote_addr":"$remote_addr",'
        '"x_forwarded_for":"$http_x_forwarded_for","user_id":"$user_id","sid":"$cookie_sid",'
        '"method":"$request_method","uri":"$request_uri","status":$status,'
        '"bytes":$body_bytes_sent,"request_time":$request_time,"referer":"$http_referer",'
        '"user_agent":"$http_user_agent"}';

with `map $upstream_http_x_user_id $user_id { default $upstream_http_x_user_id; }`: the
application names the authenticated user (or the API token's service user) in a response
header. Unset variables are written as "" (as nginx's escape=json does).

The site:
  * a single-page app under /app/...: a browser loads the HTML shell (and, with a cold cache, the
    hashed bundles under /static/), then every view is XHR/fetch calls to /api/v2/...; an open tab
    polls /api/v2/notifications/unread-count every 30-60 s.
  * login: SSO (/auth/sso/start -> IdP -> /auth/sso/callback) or password
    (POST /api/v2/auth/login, 401 on failure, then optional MFA). The `sid` cookie is set by the
    login's response (so the login request itself carries no sid).
  * public help centre /help/... and template gallery /templates/... (crawled by search engines).
  * machine clients: uptime monitor, customers' API-token integrations, Zapier, Slack,
    Google Calendar feeds, Microsoft Defender Safe Links prefetching e-mailed links.

Normal people: ~300 customer companies, a few thousand users; big customers behind one or a few
corporate NAT / Zscaler egress addresses, others at home on residential and mobile carriers.
On the 2nd test day a new large customer (Northwind Logistics) onboards 180 users from a new
office address in a training session.

Attacks (labels): credential_stuffing (residential proxies), credential_stuffing_office (slow,
from a Zscaler egress address shared with a real customer, with that customer's browser),
insider_exfiltration, scraper (public pages), account_takeover, api_token_abuse.
"""

import argparse
import csv
import ipaddress
import json
import math
import os
import random
import string
import zlib
from datetime import datetime, timedelta, timezone

UTC = timezone.utc
START = datetime(2026, 5, 4, tzinfo=UTC)  # Monday
TRAIN_DAYS = 7
TEST_DAYS = 3
T0 = START.timestamp()
T_SPLIT = T0 + TRAIN_DAYS * 86400
T_END = T_SPLIT + TEST_DAYS * 86400
HOST = "https://app.taskly.io"
ALB_NODES = ["10.0.1.27", "10.0.2.113", "10.0.3.54"]

# --------------------------------------------------------------------------- address pools
# Prefixes checked against a GeoLite2 country + ASN database (country, network name).
POOLS = {
    "US": {
        "resi": ["73.0.0.0/12", "76.100.0.0/15", "47.150.0.0/16", "108.20.0.0/15"],
        "mobile": ["172.56.0.0/14", "174.192.0.0/11", "166.170.0.0/20"],
        "biz": ["12.100.0.0/15", "4.0.0.0/12", "38.100.0.0/21", "50.200.0.0/22"],
        "zscaler": ["136.226.0.0/17", "136.226.200.0/21"],
    },
    "GB": {
        "resi": ["86.128.0.0/14", "81.96.0.0/13", "90.192.0.0/11", "2.100.0.0/16"],
        "mobile": ["92.40.0.0/16", "188.28.0.0/14", "82.132.200.0/21"],
        "biz": ["195.10.0.0/18"],
        "zscaler": ["165.225.80.0/23"],
    },
    "DE": {
        "resi": ["79.192.0.0/10", "88.64.0.0/12"],
        "mobile": ["80.187.0.0/16", "109.40.0.0/13", "176.0.0.0/13"],
        "biz": ["217.0.0.0/13"],
        "zscaler": ["165.225.72.0/21"],
    },
    "FR": {
        "resi": ["90.8.0.0/14", "78.192.0.0/12", "92.144.0.0/12"],
        "mobile": ["176.176.0.0/12"],
        "biz": ["86.192.0.0/11"],
    },
    "NL": {
        "resi": ["77.164.0.0/14", "84.24.0.0/13", "62.45.0.0/16"],
        "mobile": ["31.20.0.0/15"],
        "biz": ["62.25.0.0/18"],
        "zscaler": ["165.225.24.0/21", "185.46.212.0/22"],
    },
    "IN": {
        "resi": ["122.160.0.0/18", "117.192.0.0/12"],
        "mobile": ["49.32.0.0/13"],
        "biz": ["182.64.0.0/23"],
    },
    "AU": {
        "resi": ["121.44.0.0/19", "58.160.0.0/12"],
        "mobile": ["1.120.0.0/13", "110.140.0.0/14"],
        "biz": ["203.0.1.0/24"],
    },
    "BR": {
        "resi": ["187.10.0.0/15", "201.80.0.0/14", "177.100.0.0/20"],
        "mobile": ["189.40.0.0/16", "179.200.0.0/13"],
        "biz": ["201.80.0.0/14"],
    },
    "JP": {
        "resi": ["153.192.0.0/11", "60.64.0.0/10"],
        "mobile": ["126.0.0.0/12"],
        "biz": ["153.192.0.0/11"],
    },
    "SG": {
        "resi": ["118.200.0.0/17", "58.182.0.0/16"],
        "mobile": ["119.56.0.0/22"],
        "biz": ["116.88.0.0/16"],
    },
}
HOSTING = {
    "aws_us": ["3.80.0.0/12", "54.80.0.0/13"],
    "aws_de": ["3.120.0.0/13"],
    "azure": ["20.48.0.0/12", "40.80.0.0/12"],
    "google": ["66.249.64.0/19"],
    "bing": ["157.55.0.0/16"],
    "msft_safelinks": ["40.80.0.0/12", "52.96.0.0/12"],
    "do": ["159.89.0.0/19", "167.99.0.0/16", "64.225.0.0/17"],
    "hetzner": ["95.216.0.0/15"],
    "uptime": ["69.162.64.0/18", "216.144.240.0/20"],
    "datacamp": ["138.199.0.0/22"],
}
# (tz offset in hours, country) for company locations; May 2026 (DST in US/EU)
LOCATIONS = [
    ("US", -4.0, 22),
    ("US", -5.0, 10),
    ("US", -7.0, 10),
    ("GB", 1.0, 12),
    ("DE", 2.0, 11),
    ("FR", 2.0, 5),
    ("NL", 2.0, 5),
    ("IN", 5.5, 8),
    ("AU", 10.0, 5),
    ("BR", -3.0, 5),
    ("JP", 9.0, 3),
    ("SG", 8.0, 4),
]


# --------------------------------------------------------------------------- user agents
def ua_chrome_win(v):
    return f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"


def ua_edge_win(v):
    b = {124: "124.0.2478.97", 125: "125.0.2535.51"}[v]
    return f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36 Edg/{b}"


def ua_chrome_mac(v):
    return f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"


def ua_safari_mac(v):
    return "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15"


def ua_firefox_win(v):
    fv = v + 1  # Firefox 125 / 126
    return f"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{fv}.0) Gecko/20100101 Firefox/{fv}.0"


def ua_iphone(v):
    return "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"


def ua_android(v):
    return f"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Mobile Safari/537.36"


UA_FAMILIES = {
    "chrome_win": ua_chrome_win,
    "edge_win": ua_edge_win,
    "chrome_mac": ua_chrome_mac,
    "safari_mac": ua_safari_mac,
    "firefox_win": ua_firefox_win,
    "iphone": ua_iphone,
    "android": ua_android,
}
AUTO_UPDATING = {"chrome_win", "edge_win", "chrome_mac", "firefox_win", "android"}
DESKTOP_MIX = [
    ("chrome_win", 40),
    ("edge_win", 18),
    ("chrome_mac", 22),
    ("safari_mac", 8),
    ("firefox_win", 7),
    ("chrome_win", 5),
]
PHONE_MIX = [("iphone", 60), ("android", 40)]

ATTACK_UAS = [
    ua_chrome_win(124),
    ua_chrome_win(123),
    ua_chrome_win(122),
    ua_chrome_mac(124),
    ua_chrome_mac(123),
    ua_edge_win(124),
    ua_firefox_win(124),
    ua_firefox_win(123),
    ua_safari_mac(0),
    ua_iphone(0),
    ua_android(124),
    ua_android(123),
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
]

WORDS = (
    "acme invoice roadmap q2 budget onboarding renewal migration launch hiring audit "
    "security review vendor contract pipeline forecast marketing website redesign "
    "sprint backlog bug release customer churn pricing proposal meeting notes "
    "smith johnson mueller garcia tanaka kumar schmidt dupont wilson brown"
).split()
HELP_SLUGS = [
    f"{a}-{b}-{c}"
    for a in (
        "how-to",
        "getting-started-with",
        "troubleshooting",
        "setting-up",
        "using",
    )
    for b in (
        "kanban",
        "gantt",
        "sso",
        "saml",
        "reports",
        "exports",
        "contacts",
        "deals",
        "pipelines",
        "automations",
        "webhooks",
        "api-tokens",
        "mfa",
        "permissions",
        "custom-fields",
        "time-tracking",
        "zapier",
        "slack",
        "calendar-sync",
        "imports",
    )
    for c in ("boards", "in-taskly", "for-admins", "step-by-step", "faq")
]
TEMPLATE_SLUGS = [
    (cat, f"{a}-{b}")
    for cat in ("marketing", "sales", "engineering", "hr", "operations", "design")
    for a in (
        "weekly",
        "quarterly",
        "product",
        "content",
        "event",
        "client",
        "employee",
        "bug",
    )
    for b in ("planner", "tracker", "calendar", "roadmap", "checklist", "pipeline")
]


class Prefix:
    def __init__(self, cidr):
        n = ipaddress.ip_network(cidr)
        self.base = int(n.network_address)
        self.size = n.num_addresses

    def sample(self, rng):
        while True:
            off = rng.randrange(1, self.size - 1) if self.size > 2 else 0
            ip = ipaddress.ip_address(self.base + off)
            if str(ip).split(".")[-1] not in ("0", "255"):
                return str(ip)


_PREFIX_CACHE = {}


def ip_from(rng, cidrs):
    cidr = rng.choice(cidrs)
    if cidr not in _PREFIX_CACHE:
        _PREFIX_CACHE[cidr] = Prefix(cidr)
    return _PREFIX_CACHE[cidr].sample(rng)


def weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for v, w in pairs:
        x -= w
        if x <= 0:
            return v
    return pairs[-1][0]


def hexid(rng, n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def token(rng, n):
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def uuid4ish(rng):
    h = hexid(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


# --------------------------------------------------------------------------- the log writer
class Log:
    def __init__(self):
        self.rows = []  # (t, seq, record, label)
        self.seq = 0

    def add(
        self,
        t,
        ip,
        xff_extra,
        user,
        sid,
        method,
        uri,
        status,
        nbytes,
        rt,
        referer,
        ua,
        label=None,
    ):
        if t < T0 or t >= T_END:
            return
        self.seq += 1
        xff = f"{xff_extra}, {ip}" if xff_extra else ip
        self.rows.append(
            (
                t + rt,
                self.seq,
                (
                    ip,
                    xff,
                    user or "",
                    sid or "",
                    method,
                    uri,
                    status,
                    nbytes,
                    rt,
                    referer or "",
                    ua or "",
                    t,
                ),
                label,
            )
        )


def fmt_line(rec, alb):
    ip, xff, user, sid, method, uri, status, nbytes, rt, referer, ua, t = rec
    ts = datetime.fromtimestamp(int(t + rt), UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    j = lambda s: json.dumps(s, ensure_ascii=False)
    return (
        '{"time":"%s","remote_addr":"%s","x_forwarded_for":%s,"user_id":%s,"sid":%s,'
        '"method":"%s","uri":%s,"status":%d,"bytes":%d,"request_time":%.3f,"referer":%s,'
        '"user_agent":%s}'
        % (
            ts,
            alb,
            j(xff),
            j(user),
            j(sid),
            method,
            j(uri),
            status,
            nbytes,
            rt,
            j(referer),
            j(ua),
        )
    )


# --------------------------------------------------------------------------- world
class Company:
    pass


class User:
    pass


def local_to_utc(day_index, local_hours, tz):
    return T0 + day_index * 86400 + (local_hours - tz) * 3600


def build_world(rng):
    companies = []
    n_companies = 160
    uid_counter = [10000]
    users = []
    for ci in range(n_companies):
        c = Company()
        c.id = ci
        c.slug = f"co{ci:03d}"
        country, tz, _ = weighted(
            rng,
            [((a, b, w), w) for a, b, w in LOCATIONS if ci >= 4 or "zscaler" in POOLS[a]],
        )
        c.country, c.tz = country, tz
        if ci < 4:
            size = rng.randint(90, 180)
            c.klass = "large"
        elif ci < 24:
            size = rng.randint(15, 40)
            c.klass = "medium"
        else:
            size = max(1, int(rng.paretovariate(1.6) * 2.5))
            size = min(size, 20)
            c.klass = "small"
        c.sso = rng.random() < {"large": 0.9, "medium": 0.5, "small": 0.15}[c.klass]
        pools = POOLS[country]
        c.office_ips = []
        c.zscaler = False
        if c.klass == "large":
            if "zscaler" in pools and (ci in (0, 3) or rng.random() < 0.4):
                c.zscaler = True
                c.office_ips = [ip_from(rng, pools["zscaler"]) for _ in range(rng.randint(2, 3))]
            else:
                c.office_ips = [ip_from(rng, pools["biz"]) for _ in range(rng.randint(1, 2))]
            c.office_share = rng.uniform(0.7, 0.85)
        elif c.klass == "medium":
            if rng.random() < 0.85:
                c.office_ips = [ip_from(rng, pools["biz"])]
            c.office_share = rng.uniform(0.5, 0.7)
        else:
            if size >= 4 and rng.random() < 0.45:
                c.office_ips = [ip_from(rng, pools["biz"])]
            c.office_share = rng.uniform(0.4, 0.9)
        c.vpn = bool(c.office_ips) and c.klass != "small" and rng.random() < 0.5  # remote staff via VPN
        c.managed_ua = "chrome_win" if rng.random() < 0.6 else "edge_win"
        c.managed_share = {"large": 0.85, "medium": 0.6, "small": 0.0}[c.klass]
        # managed fleets update to version 125 on one day (index), some after the window
        c.fleet_update_day = rng.choice([4, 5, 6, 7, 8, 9, 9, 11, 12])
        c.projects = [ci * 1000 + 100 + k for k in range(max(3, size // 2 + rng.randint(0, 6)))]
        c.contacts_base = 500000 + ci * 20000
        c.n_contacts = min(19000, max(150, size * rng.randint(40, 120)))
        c.deals_base = 900000 + ci * 3000
        c.n_deals = min(2900, max(20, size * rng.randint(5, 15)))
        c.users = []
        companies.append(c)
        for k in range(size):
            users.append(make_user(rng, c, uid_counter, joined_day=None))
    return companies, users


def make_user(rng, c, uid_counter, joined_day, onboarding=False):
    u = User()
    uid_counter[0] += rng.randint(1, 7)
    u.id = f"u{uid_counter[0]}"
    u.company = c
    u.joined_day = joined_day
    u.onboarding = onboarding
    u.cls = weighted(rng, [("power", 15), ("regular", 40), ("light", 45)])
    if c.office_ips and rng.random() < c.office_share:
        u.loc = weighted(rng, [("office", 60), ("hybrid", 40)])
    else:
        u.loc = "remote"
    pools = POOLS[c.country]
    u.home_pool = pools["resi"]
    u.home_ip = ip_from(rng, u.home_pool)
    u.mobile_pool = pools["mobile"]
    u.internal_ip = f"10.{rng.randint(16, 60)}.{rng.randint(0, 255)}.{rng.randint(2, 250)}"
    if rng.random() < c.managed_share:
        u.ua_family, u.managed = c.managed_ua, True
    else:
        u.ua_family, u.managed = weighted(rng, DESKTOP_MIX), False
    u.update_day = c.fleet_update_day if u.managed else 3 + rng.expovariate(1 / 2.5)
    u.phone = weighted(rng, PHONE_MIX) if rng.random() < 0.15 else None
    u.mfa = (not c.sso) and rng.random() < 0.35
    u.fav_projects = rng.sample(c.projects, min(len(c.projects), rng.randint(2, 6)))
    u.fav_contacts = [c.contacts_base + rng.randrange(c.n_contacts) for _ in range(rng.randint(5, 40))]
    u.fav_deals = [c.deals_base + rng.randrange(c.n_deals) for _ in range(rng.randint(2, 15))]
    u.vacation = set()
    if rng.random() < 0.07:
        d0 = rng.randint(0, 9)
        u.vacation = set(range(d0, d0 + rng.randint(2, 5)))
    u.sid = {}  # device -> (sid, expiry)
    u.cache_warm = {}  # device -> deploy version cached
    c.users.append(u)
    return u


def ua_of(u, device, t):
    day = (t - T0) / 86400
    fam = u.ua_family if device == "desktop" else u.phone
    v = 125 if (fam in AUTO_UPDATING and day >= u.update_day) else 124
    return UA_FAMILIES[fam](v)


# deploys: asset hashes change (index of day, UTC hour)
DEPLOYS = [(0, 0), (1, 20), (3, 21), (7, 20), (8, 21)]


def deploy_version(t):
    v = 0
    for i, (d, h) in enumerate(DEPLOYS):
        if t >= T0 + d * 86400 + h * 3600:
            v = i
    return v


def asset_paths(version):
    r = random.Random(1000 + version)
    return [
        f"/static/js/runtime.{hexid(r, 8)}.js",
        f"/static/js/vendor.{hexid(r, 8)}.js",
        f"/static/js/main.{hexid(r, 8)}.js",
        f"/static/css/main.{hexid(r, 8)}.css",
        f"/static/media/inter-var.{hexid(r, 8)}.woff2",
    ]


# --------------------------------------------------------------------------- simulation of people
class Ctx:
    """One browser tab's context: who, where from, which session."""

    def __init__(self, log, rng, u, device, ip, xff_extra, label=None):
        self.log, self.rng, self.u, self.device = log, rng, u, device
        self.ip, self.xff_extra, self.label = ip, xff_extra, label
        self.sid = None
        self.route = "/app/home"
        self.views_since_telemetry = 0

    def ua(self, t):
        return ua_of(self.u, self.device, t)

    def req(
        self,
        t,
        method,
        uri,
        status=200,
        nbytes=None,
        rt=None,
        user=True,
        sid=True,
        referer=None,
        ua=None,
    ):
        rng = self.rng
        if nbytes is None:
            nbytes = int(rng.lognormvariate(7.5, 1.0)) if method == "GET" else rng.randint(20, 400)
        if rt is None:
            rt = round(rng.lognormvariate(-3.0, 0.8), 3)
        ref = referer if referer is not None else HOST + self.route
        self.log.add(
            t,
            self.ip,
            self.xff_extra,
            self.u.id if user else None,
            self.sid if sid else None,
            method,
            uri,
            status,
            nbytes,
            rt,
            ref,
            ua or self.ua(t),
            self.label,
        )


def shell_load(ctx, t, route, cold=None, referer=""):
    """A full page load of the SPA shell + bundles + bootstrap calls. Returns time after."""
    rng = ctx.rng
    ctx.route = route.split("?")[0]
    ctx.req(
        t,
        "GET",
        route,
        200,
        rng.randint(1900, 2300),
        round(rng.uniform(0.01, 0.05), 3),
        referer=referer,
    )
    t += rng.uniform(0.05, 0.3)
    ver = deploy_version(t)
    key = ctx.device
    if cold is None:
        cold = ctx.u.cache_warm.get(key) != ver or rng.random() < 0.08
    if cold:
        for p in asset_paths(ver):
            ctx.req(
                t,
                "GET",
                p,
                200,
                rng.randint(20000, 900000),
                round(rng.uniform(0.01, 0.2), 3),
            )
            t += rng.uniform(0.01, 0.15)
        ctx.req(t, "GET", "/favicon.ico", 200, 15086, 0.001)
        ctx.u.cache_warm[key] = ver
    t += rng.uniform(0.3, 1.2)
    ctx.req(t, "GET", "/api/v2/me")
    ctx.req(t + 0.05, "GET", "/api/v2/features", 200, rng.randint(800, 1200))
    ctx.req(t + 0.1, "GET", "/api/v2/notifications/unread-count", 200, rng.randint(18, 30))
    return t + rng.uniform(0.3, 0.8)


def search_term(rng):
    n = rng.choice([1, 1, 2, 2, 3])
    return " ".join(rng.choice(WORDS) for _ in range(n))


def qenc(s):
    from urllib.parse import quote_plus

    return quote_plus(s)


def do_view(ctx, t, kind=None):
    """One in-app view (client-side route change): its API calls. Returns time after."""
    rng, u, c = ctx.rng, ctx.u, ctx.u.company
    if kind is None:
        kind = weighted(
            rng,
            [
                ("dashboard", 10),
                ("project", 12),
                ("board", 8),
                ("task", 18),
                ("task_edit", 7),
                ("comment", 5),
                ("task_new", 3),
                ("contacts", 6),
                ("contact", 9),
                ("contact_edit", 3),
                ("deals", 4),
                ("deal", 5),
                ("deal_edit", 2),
                ("search", 6),
                ("upload", 1),
                ("download", 1.5),
                ("export", 0.7),
                ("reports", 2),
                ("notif", 3),
                ("settings", 0.7),
                ("help", 0.6),
            ],
        )
    G = lambda dt, uri, st=200, nb=None: ctx.req(t + dt, "GET", uri, st, nb)
    W = lambda dt, m, uri, st=200: ctx.req(t + dt, m, uri, st)
    pid = rng.choice(u.fav_projects) if rng.random() < 0.85 else rng.choice(c.projects)
    tid = pid * 1000 + rng.randint(1, 400)
    cid = rng.choice(u.fav_contacts) if rng.random() < 0.7 else c.contacts_base + rng.randrange(c.n_contacts)
    did = rng.choice(u.fav_deals) if rng.random() < 0.7 else c.deals_base + rng.randrange(c.n_deals)
    miss = rng.random() < 0.01  # a stale link: 404
    if kind == "dashboard":
        ctx.route = "/app/home"
        G(0, "/api/v2/dashboard/widgets")
        G(0.1, "/api/v2/dashboard/activity?limit=50")
        G(0.15, "/api/v2/tasks?assignee=me&status=open&per_page=25")
    elif kind == "project":
        ctx.route = f"/app/projects/{pid}"
        G(0, f"/api/v2/projects/{pid}", 404 if miss else 200)
        if not miss:
            G(0.1, f"/api/v2/projects/{pid}/tasks?status=open&per_page=100")
            if rng.random() < 0.3:
                G(0.12, f"/api/v2/projects/{pid}/members")
    elif kind == "board":
        ctx.route = f"/app/projects/{pid}/board"
        G(0, f"/api/v2/projects/{pid}/board")
        G(0.08, f"/api/v2/projects/{pid}/columns")
    elif kind in ("task", "task_edit", "comment"):
        ctx.route = f"/app/tasks/{tid}"
        G(
            0,
            f"/api/v2/tasks/{tid}",
            404 if miss else (403 if rng.random() < 0.005 else 200),
        )
        if not miss:
            G(0.1, f"/api/v2/tasks/{tid}/comments")
            if rng.random() < 0.5:
                G(0.12, f"/api/v2/tasks/{tid}/activity")
            if kind == "task_edit":
                dt = rng.lognormvariate(2.5, 0.8)
                W(
                    dt,
                    "PATCH",
                    f"/api/v2/tasks/{tid}",
                    409 if rng.random() < 0.01 else 200,
                )
                G(dt + 0.2, f"/api/v2/tasks/{tid}/activity")
                t += dt
            elif kind == "comment":
                dt = rng.lognormvariate(3.2, 0.7)
                W(dt, "POST", f"/api/v2/tasks/{tid}/comments", 201)
                t += dt
    elif kind == "task_new":
        ctx.route = f"/app/projects/{pid}/board"
        dt = rng.lognormvariate(3.0, 0.7)
        W(dt, "POST", "/api/v2/tasks", 201)
        t += dt
    elif kind == "contacts":
        ctx.route = "/app/contacts"
        page = 1 if rng.random() < 0.7 else rng.randint(2, 6)
        G(0, f"/api/v2/contacts?page={page}&per_page=50&sort=-updated_at")
    elif kind in ("contact", "contact_edit"):
        ctx.route = f"/app/contacts/{cid}"
        G(0, f"/api/v2/contacts/{cid}", 404 if miss else 200)
        if not miss:
            G(0.1, f"/api/v2/contacts/{cid}/activities")
            G(0.12, f"/api/v2/contacts/{cid}/deals")
            if kind == "contact_edit":
                dt = rng.lognormvariate(2.8, 0.8)
                W(dt, "PUT", f"/api/v2/contacts/{cid}")
                t += dt
    elif kind == "deals":
        ctx.route = "/app/deals"
        G(
            0,
            f"/api/v2/deals?stage={rng.choice(['lead', 'qualified', 'proposal', 'negotiation', 'won'])}&per_page=50",
        )
        G(0.1, "/api/v2/pipeline/summary")
    elif kind in ("deal", "deal_edit"):
        ctx.route = f"/app/deals/{did}"
        G(0, f"/api/v2/deals/{did}")
        G(0.1, f"/api/v2/deals/{did}/notes")
        if kind == "deal_edit":
            dt = rng.lognormvariate(2.8, 0.8)
            W(dt, "PATCH", f"/api/v2/deals/{did}")
            t += dt
    elif kind == "search":
        term = search_term(rng)
        ctx.route = "/app/search"
        dt = 0.0
        for k in range(3, len(term) + 1, rng.choice([3, 4, 5])):
            G(dt, f"/api/v2/search/suggest?q={qenc(term[:k])}")
            dt += rng.uniform(0.25, 0.7)
        G(dt + 0.3, f"/api/v2/search?q={qenc(term)}&type=all")
        t += dt
    elif kind == "upload":
        W(0, "POST", "/api/v2/files", 201)
        W(rng.uniform(1, 6), "POST", f"/api/v2/tasks/{tid}/attachments", 201)
    elif kind == "download":
        G(0, f"/api/v2/files/{rng.randint(100000, 999999)}/download", 302, 0)
    elif kind == "export":
        rep = rng.choice(["tasks-by-assignee", "pipeline", "time-tracking", "contacts", "activity"])
        ctx.route = f"/app/reports/{rep}"
        eid = uuid4ish(rng)
        W(
            0,
            "POST",
            f"/api/v2/reports/{rep}/export?format={rng.choice(['csv', 'xlsx'])}",
            202,
        )
        dt = 0.0
        for _ in range(rng.randint(1, 3)):
            dt += rng.uniform(1.8, 2.4)
            G(dt, f"/api/v2/exports/{eid}")
        G(dt + 0.3, f"/api/v2/exports/{eid}/download", 200, rng.randint(20000, 2000000))
        t += dt
    elif kind == "reports":
        rep = rng.choice(["tasks-by-assignee", "pipeline", "time-tracking", "activity", "burndown"])
        ctx.route = f"/app/reports/{rep}"
        G(0, "/api/v2/reports")
        G(0.1, f"/api/v2/reports/{rep}?range={rng.choice(['7d', '30d', '90d'])}")
    elif kind == "notif":
        G(0, "/api/v2/notifications?limit=20")
        if rng.random() < 0.5:
            W(rng.uniform(2, 10), "POST", "/api/v2/notifications/mark-read", 204)
    elif kind == "settings":
        ctx.route = "/app/settings/profile"
        G(0, "/api/v2/me/preferences")
        if rng.random() < 0.4:
            W(rng.uniform(5, 30), "PUT", "/api/v2/me/preferences")
    elif kind == "help":
        slug = rng.choice(HELP_SLUGS)
        ctx.req(
            t,
            "GET",
            f"/help/articles/{slug}",
            200,
            rng.randint(9000, 30000),
            referer=HOST + ctx.route,
        )
        ctx.req(t + 0.2, "GET", "/help/assets/help.css", 200, 4100)
    ctx.views_since_telemetry += 1
    if ctx.views_since_telemetry >= rng.randint(3, 6):
        ctx.req(t + rng.uniform(1, 4), "POST", "/api/v2/telemetry/batch", 204, 0)
        ctx.views_since_telemetry = 0
    return t + rng.uniform(0.3, 0.9)


def poll(ctx, t):
    ctx.req(
        t,
        "GET",
        "/api/v2/notifications/unread-count",
        200,
        ctx.rng.randint(18, 30),
        round(ctx.rng.uniform(0.004, 0.02), 3),
    )


def login(ctx, t, fail_p=0.06, max_fail=3):
    """Login flow; sets ctx.sid. Returns time after."""
    rng, u = ctx.rng, ctx.u
    ctx.sid = None
    ctx.route = "/login"
    ctx.req(t, "GET", "/login", 200, 2050, 0.01, user=False, referer="")
    t += rng.uniform(0.5, 1.5)
    if u.company.sso and ctx.device == "desktop":
        ctx.req(
            t,
            "GET",
            f"/auth/sso/start?org={u.company.slug}",
            302,
            0,
            user=False,
            referer=HOST + "/login",
        )
        t += rng.uniform(2, 15) if rng.random() < 0.8 else rng.uniform(15, 60)  # at the IdP
        ok = rng.random() > 0.01
        ctx.req(
            t,
            "GET",
            f"/auth/sso/callback?code={token(rng, 40)}&state={token(rng, 24)}",
            302 if ok else 400,
            0,
            user=ok,
            referer="",
        )
        if not ok:  # expired state: start again
            t += rng.uniform(3, 10)
            ctx.req(
                t,
                "GET",
                f"/auth/sso/start?org={u.company.slug}",
                302,
                0,
                user=False,
                referer=HOST + "/login",
            )
            t += rng.uniform(2, 10)
            ctx.req(
                t,
                "GET",
                f"/auth/sso/callback?code={token(rng, 40)}&state={token(rng, 24)}",
                302,
                0,
                referer="",
            )
    else:
        t += rng.uniform(3, 12)  # typing
        fails = 0
        while rng.random() < (fail_p if fails == 0 else 0.35) and fails < max_fail:
            ctx.req(
                t,
                "POST",
                "/api/v2/auth/login",
                401,
                62,
                round(rng.uniform(0.2, 0.4), 3),
                user=False,
                referer=HOST + "/login",
            )
            fails += 1
            t += rng.uniform(4, 20)
        if fails >= max_fail:  # reset the password
            ctx.req(
                t,
                "POST",
                "/api/v2/auth/password/forgot",
                202,
                40,
                user=False,
                referer=HOST + "/login",
            )
            t += rng.uniform(60, 300)
            rtok = token(rng, 32)
            ctx.req(
                t,
                "GET",
                f"/reset-password?token={rtok}",
                200,
                2050,
                referer="",
                user=False,
            )
            t += rng.uniform(10, 40)
            ctx.req(
                t,
                "POST",
                "/api/v2/auth/password/reset",
                200,
                40,
                user=False,
                referer=HOST + "/reset-password",
            )
            t += rng.uniform(5, 15)
        ctx.req(
            t,
            "POST",
            "/api/v2/auth/login",
            200,
            310,
            round(rng.uniform(0.2, 0.4), 3),
            referer=HOST + "/login",
        )
        if u.mfa:
            t += rng.uniform(5, 25)
            ctx.sid = "pre" + hexid(rng, 23)
            ctx.req(
                t,
                "POST",
                "/api/v2/auth/mfa/verify",
                200,
                40,
                referer=HOST + "/login/mfa",
            )
    ctx.sid = hexid(rng, 26)
    return t + rng.uniform(0.3, 1.0)


def visit(ctx, t, t_end, first_route=None, polls=True, view_median=45.0, max_views=None):
    """A tab open from t to about t_end: shell load, views, polls. Returns end time."""
    rng = ctx.rng
    route = first_route or rng.choice(["/app/home"] * 5 + ["/app/inbox", "/app/projects"])
    t = shell_load(ctx, t, route, referer="" if rng.random() < 0.8 else "https://mail.google.com/")
    poll_iv = rng.uniform(45, 60)
    next_poll = t + poll_iv
    views = 0
    while t < t_end:
        gap = min(rng.lognormvariate(math.log(view_median), 1.0), 1800)
        nt = t + gap
        if polls:
            while next_poll < min(nt, t_end):
                poll(ctx, next_poll)
                next_poll += poll_iv + rng.uniform(-1, 1)
        if nt >= t_end:
            break
        t = do_view(ctx, nt)
        views += 1
        if max_views and views >= max_views:
            break
    return max(t, min(t_end, next_poll))


def where(rng, u, day, device):
    """(ip, xff_extra) for a user on a day."""
    c = u.company
    if device == "phone":
        return ip_from(rng, u.mobile_pool), None
    weekday = (START + timedelta(days=day)).weekday()
    in_office = u.loc == "office" or (u.loc == "hybrid" and weekday in (1, 2, 3))
    if in_office or (c.vpn and u.loc != "remote" and rng.random() < 0.7) or (c.vpn and rng.random() < 0.3):
        ip = c.office_ips[zlib.crc32(f"{u.id}/{day}".encode()) % len(c.office_ips)] if c.office_ips else u.home_ip
        return ip, (u.internal_ip if c.zscaler else None)
    # home: DHCP lease changes now and then, some days tethered to a phone
    if rng.random() < 0.04:
        u.home_ip = ip_from(rng, u.home_pool)
    if rng.random() < 0.05:
        return ip_from(rng, u.mobile_pool), None
    return u.home_ip, None


def session_for(ctx, t):
    """Use or renew the device's session cookie: returns time after (login if needed)."""
    u, rng = ctx.u, ctx.rng
    sid, exp = u.sid.get(ctx.device, (None, 0))
    if sid and t < exp:
        ctx.sid = sid
        return t
    t = login(ctx, t)
    life = 10 * 3600 if u.company.sso else 14 * 86400
    u.sid[ctx.device] = (ctx.sid, t + life)
    return t


def simulate_user_day(log, rng, u, day):
    c = u.company
    if day in u.vacation:
        return
    if u.joined_day is not None and day < u.joined_day:
        return
    weekday = (START + timedelta(days=day)).weekday()
    weekend = weekday >= 5
    p = {"power": 0.75, "regular": 0.38, "light": 0.18}[u.cls]
    if weekend:
        p = {"power": 0.12, "regular": 0.04, "light": 0.01}[u.cls]
    if rng.random() > p:
        return
    tz = c.tz
    arrive = rng.gauss(8.8, 0.6) if not weekend else rng.uniform(9, 20)
    leave = arrive + rng.gauss(8.7, 0.8) if not weekend else arrive + rng.uniform(0.3, 1.5)
    ip, xff_extra = where(rng, u, day, "desktop")
    ctx = Ctx(log, rng, u, "desktop", ip, xff_extra)
    first_visit = True
    all_day = (not weekend) and u.cls == "power" and rng.random() < 0.06
    if all_day:
        t = local_to_utc(day, arrive, tz)
        t = session_for(ctx, t)
        t_end = local_to_utc(day, leave, tz)
        t = shell_load(ctx, t, "/app/home", referer="")
        poll_iv = rng.uniform(45, 60)
        next_poll = t + poll_iv
        # bursts of work through the day
        while t < t_end:
            burst_start = t + rng.expovariate(1 / 1500)
            n = rng.randint(3, 14)
            tt = burst_start
            for _ in range(n):
                tt += rng.lognormvariate(math.log(30), 0.9)
                while next_poll < min(tt, t_end):
                    poll(ctx, next_poll)
                    next_poll += poll_iv + rng.uniform(-1, 1)
                if tt >= t_end:
                    break
                tt = do_view(ctx, tt)
            t = tt
        while next_poll < t_end:
            poll(ctx, next_poll)
            next_poll += poll_iv + rng.uniform(-1, 1)
    else:
        nvis = {"power": rng.randint(1, 3), "regular": rng.randint(1, 2), "light": 1}[u.cls]
        if weekend:
            nvis = 1
        starts = sorted(rng.uniform(arrive, max(arrive + 0.2, leave - 0.3)) for _ in range(nvis))
        last_end = 0
        for s in starts:
            t = local_to_utc(day, s, tz)
            if t < last_end + 60:
                t = last_end + rng.uniform(300, 1200)
            dur = rng.lognormvariate(math.log({"power": 7, "regular": 3.5, "light": 2}[u.cls] * 60), 0.7)
            if weekend:
                dur = min(dur, 900)
            t = session_for(ctx, t)
            route = None
            if rng.random() < 0.2:  # e-mailed link to a task
                route = f"/app/tasks/{rng.choice(u.fav_projects) * 1000 + rng.randint(1, 400)}?utm_source=email"
            last_end = visit(ctx, t, t + dur, first_route=route)
            if rng.random() < 0.03:
                log.add(
                    last_end + 1,
                    ctx.ip,
                    ctx.xff_extra,
                    u.id,
                    ctx.sid,
                    "POST",
                    "/api/v2/auth/logout",
                    204,
                    0,
                    0.02,
                    HOST + ctx.route,
                    ctx.ua(last_end),
                )
                u.sid.pop("desktop", None)
            first_visit = False
    # an occasional phone check in the evening or commute
    if u.phone and rng.random() < 0.35:
        pip, _ = where(rng, u, day, "phone")
        pctx = Ctx(log, rng, u, "phone", pip, None)
        t = local_to_utc(day, rng.choice([rng.uniform(7, 8.5), rng.uniform(18, 22)]), tz)
        t = session_for(pctx, t)
        visit(pctx, t, t + rng.uniform(60, 400), polls=True, view_median=20)


def simulate_invite(log, rng, u, t, ip, xff_extra, onboarding_script=None):
    """A new user accepts an invitation, sets a password, signs in, does the onboarding."""
    ctx = Ctx(log, rng, u, "desktop", ip, xff_extra)
    tok = token(rng, 32)
    ctx.req(
        t,
        "GET",
        f"/invite/accept?token={tok}",
        200,
        2050,
        0.02,
        user=False,
        sid=False,
        referer="",
    )
    t += rng.uniform(0.3, 1.0)
    for p in asset_paths(deploy_version(t)):
        ctx.req(t, "GET", p, 200, rng.randint(20000, 900000), 0.05, user=False)
        t += rng.uniform(0.01, 0.15)
    u.cache_warm["desktop"] = deploy_version(t)
    ctx.req(
        t + 0.5,
        "GET",
        f"/api/v2/invites/{tok}",
        200,
        400,
        user=False,
        referer=HOST + "/invite/accept",
    )
    t += rng.uniform(20, 90)
    ctx.req(
        t,
        "POST",
        f"/api/v2/invites/{tok}/accept",
        201,
        120,
        user=False,
        referer=HOST + "/invite/accept",
    )
    t += rng.uniform(1, 3)
    if u.company.sso:
        t = login(ctx, t)
    else:
        t = login(ctx, t, fail_p=0.22 if u.onboarding else 0.1, max_fail=3)
    u.sid["desktop"] = (ctx.sid, t + (10 * 3600 if u.company.sso else 14 * 86400))
    t = shell_load(ctx, t, "/app/onboarding/welcome", cold=False)
    script = onboarding_script or default_onboarding(rng)
    poll_iv = rng.uniform(30, 60)
    next_poll = t + poll_iv
    t_base = t
    for offset, step in script:
        tt = max(
            t + rng.uniform(1, 5),
            (offset + rng.gauss(0, 25)) if onboarding_script else t_base + offset,
        )
        while next_poll < tt:
            poll(ctx, next_poll)
            next_poll += poll_iv
        t = onboarding_step(ctx, tt, step)
    return ctx, t, next_poll, poll_iv


def default_onboarding(rng):
    steps = [
        "checklist",
        "profile",
        "avatar",
        "tour1",
        "tour2",
        "tour3",
        "template",
        "sample_task",
        "comment",
    ]
    out, dt = [], 0.0
    for s in steps:
        dt += rng.lognormvariate(math.log(30), 0.6)
        out.append((dt, s))
    return out


def onboarding_step(ctx, t, step):
    rng, u, c = ctx.rng, ctx.u, ctx.u.company
    if step == "checklist":
        ctx.route = "/app/onboarding/welcome"
        ctx.req(t, "GET", "/api/v2/onboarding/checklist")
    elif step == "profile":
        ctx.route = "/app/onboarding/profile"
        ctx.req(t, "PATCH", "/api/v2/me", 200)
        ctx.req(t + 0.2, "POST", "/api/v2/onboarding/steps/profile/complete", 204, 0)
    elif step == "avatar":
        ctx.req(t, "POST", "/api/v2/files", 201)
        ctx.req(t + 0.5, "PATCH", "/api/v2/me", 200)
        ctx.req(t + 0.7, "POST", "/api/v2/onboarding/steps/avatar/complete", 204, 0)
    elif step.startswith("tour"):
        n = step[4:]
        ctx.route = f"/app/onboarding/tour/{n}"
        ctx.req(t, "GET", f"/api/v2/onboarding/tour/steps/{n}")
    elif step == "template":
        ctx.route = "/app/templates"
        ctx.req(t, "GET", "/api/v2/templates?category=onboarding")
        pid = c.projects[0] + 500 + rng.randint(0, 400)
        ctx.req(t + rng.uniform(5, 20), "POST", "/api/v2/projects/from-template", 201)
        u.fav_projects = [pid] + u.fav_projects
        ctx.route = f"/app/projects/{pid}/board"
        ctx.req(t + rng.uniform(21, 24), "GET", f"/api/v2/projects/{pid}/board")
        ctx.req(t + 24.1, "GET", f"/api/v2/projects/{pid}/columns")
        t += 24
    elif step == "sample_task":
        pid = u.fav_projects[0]
        tid = pid * 1000 + rng.randint(1, 5)
        ctx.route = f"/app/tasks/{tid}"
        ctx.req(t, "GET", f"/api/v2/tasks/{tid}")
        ctx.req(t + 0.1, "GET", f"/api/v2/tasks/{tid}/comments")
        ctx.req(t + 0.12, "GET", f"/api/v2/tasks/{tid}/activity")
        ctx.req(t + rng.uniform(8, 30), "PATCH", f"/api/v2/tasks/{tid}")
    elif step == "comment":
        pid = u.fav_projects[0]
        tid = pid * 1000 + rng.randint(1, 5)
        ctx.req(t, "POST", f"/api/v2/tasks/{tid}/comments", 201)
        ctx.req(t + 0.3, "POST", "/api/v2/onboarding/steps/first-comment/complete", 204, 0)
    elif step == "invite_list":
        ctx.req(t, "GET", "/api/v2/team/members?per_page=100")
    elif step == "help":
        ctx.req(
            t,
            "GET",
            f"/help/articles/{rng.choice(HELP_SLUGS[:25])}",
            200,
            15000,
            referer=HOST + ctx.route,
        )
    return t + rng.uniform(0.3, 1.0)


# --------------------------------------------------------------------------- machine clients (normal)
def machine_clients(log, rng, companies, meta):
    # uptime monitor: /healthz every 60 s from rotating locations, 24/7
    up_ips = [ip_from(rng, HOSTING["uptime"]) for _ in range(3)]
    up_ua = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
    t = T0 + 13.0
    k = 0
    while t < T_END:
        log.add(
            t,
            up_ips[k % 3],
            None,
            None,
            None,
            "GET",
            "/healthz",
            200,
            2,
            0.003,
            "",
            up_ua,
        )
        k += 1
        t += 60 + rng.uniform(-0.3, 0.3)
    meta["machines"]["uptime"] = {"ips": up_ips, "ua": up_ua}

    # integration A: a customer's CRM sync every 15 min with an API token (service user)
    big = companies[1]
    svc = f"u9{big.id:02d}01"
    a_ip = ip_from(rng, HOSTING["aws_us"])
    a_ua = "python-requests/2.31.0"
    meta["machines"]["integration_sync"] = {
        "user": svc,
        "ips": [a_ip],
        "ua": a_ua,
        "company": big.slug,
    }
    t = T0 + 120
    while t < T_END:
        since = datetime.fromtimestamp(t - 900, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        tt = t
        pages = 1 + (rng.random() < 0.3)
        for p in range(1, pages + 1):
            log.add(
                tt,
                a_ip,
                None,
                svc,
                None,
                "GET",
                f"/api/v2/contacts?updated_since={qenc(since)}&page={p}&per_page=100",
                200,
                rng.randint(3000, 60000),
                round(rng.uniform(0.05, 0.4), 3),
                "",
                a_ua,
            )
            tt += rng.uniform(0.3, 0.8)
        for _ in range(rng.choice([0, 0, 1, 2, 3, 5])):
            cid = big.contacts_base + rng.randrange(big.n_contacts)
            log.add(
                tt,
                a_ip,
                None,
                svc,
                None,
                "PUT",
                f"/api/v2/contacts/{cid}",
                200,
                900,
                0.08,
                "",
                a_ua,
            )
            tt += rng.uniform(0.2, 0.6)
        log.add(
            tt,
            a_ip,
            None,
            svc,
            None,
            "GET",
            f"/api/v2/deals?updated_since={qenc(since)}&per_page=100",
            200,
            rng.randint(500, 9000),
            0.1,
            "",
            a_ua,
        )
        t += 900 + rng.uniform(-5, 5)

    # integration B: nightly full export of another customer (Go client), 02:00 local
    cb = companies[2]
    svcb = f"u9{cb.id:02d}02"
    b_ip = ip_from(rng, HOSTING["azure"])
    b_ua = "Go-http-client/1.1"
    meta["machines"]["integration_nightly"] = {
        "user": svcb,
        "ips": [b_ip],
        "ua": b_ua,
        "company": cb.slug,
    }
    for day in range(-1, TRAIN_DAYS + TEST_DAYS + 1):
        t = local_to_utc(day, 2.0, cb.tz) + rng.uniform(0, 60)
        for p in range(1, cb.n_contacts // 200 + 2):
            log.add(
                t,
                b_ip,
                None,
                svcb,
                None,
                "GET",
                f"/api/v2/contacts?page={p}&per_page=200",
                200,
                rng.randint(90000, 160000),
                round(rng.uniform(0.2, 0.9), 3),
                "",
                b_ua,
            )
            t += rng.uniform(0.4, 1.2)
        for p in range(1, cb.n_deals // 200 + 2):
            log.add(
                t,
                b_ip,
                None,
                svcb,
                None,
                "GET",
                f"/api/v2/deals?page={p}&per_page=200",
                200,
                rng.randint(50000, 90000),
                round(rng.uniform(0.2, 0.9), 3),
                "",
                b_ua,
            )
            t += rng.uniform(0.4, 1.2)

    # Zapier: several customers' zaps polling triggers every 15 min, from a few AWS addresses
    z_ips = [ip_from(rng, HOSTING["aws_us"]) for _ in range(6)]
    zaps = []
    for c in rng.sample(companies[4:120], 10):
        zaps.append(
            (
                c,
                f"u9{c.id:03d}03",
                rng.choice(["new-deal", "new-contact", "task-completed", "new-comment"]),
            )
        )
    meta["machines"]["zapier"] = {
        "users": [z[1] for z in zaps],
        "ips": z_ips,
        "ua": "Zapier",
    }
    for c, zu, trig in zaps:
        t = T0 + rng.uniform(0, 900)
        while t < T_END:
            log.add(
                t,
                rng.choice(z_ips),
                None,
                zu,
                None,
                "GET",
                f"/api/v2/hooks/poll/{trig}?limit=50",
                200,
                rng.randint(30, 5000),
                round(rng.uniform(0.03, 0.2), 3),
                "",
                "Zapier",
            )
            t += 900 + rng.uniform(-20, 20)

    # Google Calendar subscriptions to task-deadline feeds (.ics), every few hours
    g_ips = [ip_from(rng, HOSTING["google"]) for _ in range(8)]
    feeds = [token(rng, 24) for _ in range(40)]
    for f in feeds:
        t = T0 + rng.uniform(0, 20000)
        while t < T_END:
            log.add(
                t,
                rng.choice(g_ips),
                None,
                None,
                None,
                "GET",
                f"/ical/{f}.ics",
                200,
                rng.randint(2000, 40000),
                0.05,
                "",
                "Google-Calendar-Importer",
            )
            t += rng.uniform(3 * 3600, 8 * 3600)
    meta["machines"]["gcal"] = {"ips": g_ips, "ua": "Google-Calendar-Importer"}

    # search engines crawling the help centre and template gallery
    gb_ua = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    bb_ua = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
    for ua, pool, per_day in ((gb_ua, "google", 90), (bb_ua, "bing", 50)):
        ips = [ip_from(rng, HOSTING[pool]) for _ in range(5)]
        n = per_day * (TRAIN_DAYS + TEST_DAYS)
        for _ in range(n):
            t = rng.uniform(T0, T_END)
            if rng.random() < 0.6:
                uri = f"/help/articles/{rng.choice(HELP_SLUGS)}"
            else:
                cat, s = rng.choice(TEMPLATE_SLUGS)
                uri = f"/templates/{cat}/{s}"
            if rng.random() < 0.05:
                uri = "/robots.txt"
            log.add(
                t,
                rng.choice(ips),
                None,
                None,
                None,
                "GET",
                uri,
                200,
                rng.randint(8000, 30000),
                0.05,
                "",
                ua,
            )
    meta["machines"]["crawlers"] = {"ua": [gb_ua, bb_ua]}


def link_scanners_and_slack(log, rng, users, meta):
    """Microsoft Defender Safe Links prefetches e-mailed links for M365 customers; Slack unfurls."""
    ms_ips = [ip_from(rng, HOSTING["msft_safelinks"]) for _ in range(20)]
    ms_uas = [
        ua_chrome_win(124),
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/117.0.0.0 Safari/537.36 Edg/117.0.2045.60",
    ]
    slack_ips = [ip_from(rng, HOSTING["aws_us"]) for _ in range(4)]
    m365 = [u for u in users if u.company.klass in ("large", "medium") and zlib.crc32(u.company.slug.encode()) % 2 == 0]
    for day in range(TRAIN_DAYS + TEST_DAYS):
        weekday = (START + timedelta(days=day)).weekday()
        n = 250 if weekday < 5 else 20
        for _ in range(n):
            u = rng.choice(m365)
            t = local_to_utc(day, rng.uniform(7, 19), u.company.tz)
            tid = rng.choice(u.fav_projects) * 1000 + rng.randint(1, 400)
            log.add(
                t,
                rng.choice(ms_ips),
                None,
                None,
                None,
                "GET",
                f"/app/tasks/{tid}?utm_source=email",
                200,
                2100,
                0.02,
                "",
                rng.choice(ms_uas),
            )
        for _ in range(n // 2):
            u = rng.choice(users)
            t = local_to_utc(day, rng.uniform(8, 18), u.company.tz)
            tid = rng.choice(u.fav_projects) * 1000 + rng.randint(1, 400)
            log.add(
                t,
                rng.choice(slack_ips),
                None,
                None,
                None,
                "GET",
                f"/app/tasks/{tid}",
                200,
                2100,
                0.02,
                "",
                "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            )
    meta["machines"]["safelinks"] = {"ips": ms_ips}
    meta["machines"]["slack"] = {"ips": slack_ips}


# --------------------------------------------------------------------------- attacks
def existed(u, t):
    """The account existed (and had been used) at least a day before t."""
    return u.joined_day is None or T0 + (u.joined_day + 1) * 86400 < t


def attack_stuffing_resi(log, rng, users, t_start, minutes, n_attempts, label, meta):
    real = [u for u in users if not u.company.sso]
    ips_used = []
    for k in range(n_attempts):
        t = t_start + rng.uniform(0, minutes * 60)
        country = rng.choice(["US", "US", "BR", "IN", "GB", "DE", "FR", "JP", "SG", "AU", "NL"])
        pool = POOLS[country]["resi" if rng.random() < 0.7 else "mobile"]
        ip = ip_from(rng, pool)
        ips_used.append(ip)
        ua = rng.choice(ATTACK_UAS)
        if rng.random() < 0.5:
            log.add(t, ip, None, None, None, "GET", "/login", 200, 2050, 0.01, "", ua, label)
            t += rng.uniform(0.5, 2)
        success = rng.random() < 0.015
        if success:
            u = rng.choice([x for x in real if existed(x, t)])
            sid = hexid(rng, 26)
            log.add(
                t,
                ip,
                None,
                u.id,
                None,
                "POST",
                "/api/v2/auth/login",
                200,
                310,
                0.3,
                HOST + "/login",
                ua,
                label,
            )
            log.add(
                t + 1.2,
                ip,
                None,
                u.id,
                sid,
                "GET",
                "/api/v2/me",
                200,
                1800,
                0.02,
                HOST + "/app/home",
                ua,
                label,
            )
            log.add(
                t + 2.0,
                ip,
                None,
                u.id,
                sid,
                "GET",
                "/api/v2/contacts?page=1&per_page=50&sort=-updated_at",
                200,
                30000,
                0.05,
                HOST + "/app/contacts",
                ua,
                label,
            )
            meta["attacks"][label]["users"].append(u.id)
            meta["attacks"][label]["sids"].append(sid)
        else:
            log.add(
                t,
                ip,
                None,
                None,
                None,
                "POST",
                "/api/v2/auth/login",
                401,
                62,
                round(rng.uniform(0.2, 0.4), 3),
                HOST + "/login",
                ua,
                label,
            )
            if rng.random() < 0.15:  # a second password for the same account
                log.add(
                    t + rng.uniform(1, 4),
                    ip,
                    None,
                    None,
                    None,
                    "POST",
                    "/api/v2/auth/login",
                    401,
                    62,
                    0.3,
                    HOST + "/login",
                    ua,
                    label,
                )
    meta["attacks"][label]["ips"].extend(ips_used)


def attack_stuffing_office(log, rng, companies, users, meta):
    """Slow stuffing from a Zscaler egress address that a large customer's staff also use."""
    label = "credential_stuffing_office"
    zc = [c for c in companies if c.zscaler]
    c = zc[0]
    ip = c.office_ips[0]
    ua = UA_FAMILIES[c.managed_ua](124)
    meta["attacks"][label] = {
        "ips": [ip],
        "ua": ua,
        "company_sharing_ip": c.slug,
        "users": [],
        "sids": [],
    }
    day = TRAIN_DAYS  # Monday of the test
    t = local_to_utc(day, 10.0, c.tz)
    end = t + 4 * 3600
    real = [u for u in users if not u.company.sso]
    while t < end:
        xff_extra = f"10.{rng.randint(16, 60)}.{rng.randint(0, 255)}.{rng.randint(2, 250)}"
        if rng.random() < 0.02:
            u = rng.choice([x for x in real if existed(x, t)])
            sid = hexid(rng, 26)
            log.add(
                t,
                ip,
                xff_extra,
                u.id,
                None,
                "POST",
                "/api/v2/auth/login",
                200,
                310,
                0.3,
                HOST + "/login",
                ua,
                label,
            )
            log.add(
                t + 1.5,
                ip,
                xff_extra,
                u.id,
                sid,
                "GET",
                "/api/v2/me",
                200,
                1800,
                0.02,
                HOST + "/app/home",
                ua,
                label,
            )
            meta["attacks"][label]["users"].append(u.id)
            meta["attacks"][label]["sids"].append(sid)
        else:
            log.add(
                t,
                ip,
                xff_extra,
                None,
                None,
                "POST",
                "/api/v2/auth/login",
                401,
                62,
                round(rng.uniform(0.2, 0.4), 3),
                HOST + "/login",
                ua,
                label,
            )
        t += rng.uniform(25, 70)


def attack_insider(log, rng, companies, meta):
    label = "insider_exfiltration"
    cands = [c for c in companies if c.klass == "medium" and c.office_ips and c.tz > -6]
    c = max(cands, key=lambda x: x.n_contacts)
    u = [x for x in c.users if x.loc == "office" and x.cls in ("regular", "power") and not x.vacation][0]
    day = TRAIN_DAYS + 1  # Tuesday of the test
    ip, xff_extra = c.office_ips[0], (u.internal_ip if c.zscaler else None)
    # the insider's ordinary morning (unlabelled)
    ctx = Ctx(log, rng, u, "desktop", ip, xff_extra)
    t = local_to_utc(day, 8.7, c.tz)
    t = session_for(ctx, t)
    t = visit(ctx, t, t + 3 * 3600)
    # the walk: a script in the browser's console, with the session's cookie
    ctx.label = label
    t = local_to_utc(day, 13.2, c.tz)
    ctx.route = "/app/contacts"
    for p in range(1, c.n_contacts // 100 + 2):
        ctx.req(
            t,
            "GET",
            f"/api/v2/contacts?page={p}&per_page=100&sort=id",
            200,
            rng.randint(40000, 70000),
        )
        t += rng.uniform(1.5, 3.5)
    ids = list(range(c.contacts_base, c.contacts_base + c.n_contacts))
    rng.shuffle(ids)
    n = 0
    next_poll = t + 45
    for cid in ids[:2500]:
        ctx.req(t, "GET", f"/api/v2/contacts/{cid}", 200, rng.randint(1500, 4000))
        if rng.random() < 0.3:
            ctx.req(
                t + 0.2,
                "GET",
                f"/api/v2/contacts/{cid}/activities",
                200,
                rng.randint(500, 8000),
            )
        t += rng.uniform(0.4, 1.6)
        n += 1
        if t > next_poll:
            ctx.label = None
            poll(ctx, next_poll)  # the open tab keeps polling (the person's, unlabelled)
            ctx.label = label
            next_poll += 45
    for rep in [
        "contacts",
        "pipeline",
        "activity",
        "tasks-by-assignee",
        "time-tracking",
        "deals-won",
    ]:
        eid = uuid4ish(rng)
        ctx.req(t, "POST", f"/api/v2/reports/{rep}/export?format=csv", 202)
        ctx.req(t + 2.2, "GET", f"/api/v2/exports/{eid}")
        ctx.req(
            t + 4.5,
            "GET",
            f"/api/v2/exports/{eid}/download",
            200,
            rng.randint(500000, 9000000),
        )
        t += rng.uniform(20, 60)
    meta["attacks"][label] = {
        "users": [u.id],
        "sids": [ctx.sid],
        "ips": [ip],
        "company": c.slug,
    }


def attack_scraper(log, rng, t_start, hours, n_pages, n_ips, label_suffix, meta):
    label = "scraper"
    ips = [ip_from(rng, HOSTING[rng.choice(["do", "hetzner"])]) for _ in range(n_ips)]
    t = t_start
    pages = [f"/help/articles/{s}" for s in HELP_SLUGS] + [f"/templates/{c}/{s}" for c, s in TEMPLATE_SLUGS]
    pages += [f"/templates/{c}" for c in ("marketing", "sales", "engineering", "hr", "operations", "design")]
    rng.shuffle(pages)
    gap = hours * 3600 / n_pages
    for k in range(n_pages):
        uri = pages[k % len(pages)]
        if k >= len(pages):
            uri += f"?page={k // len(pages) + 1}"
        log.add(
            t,
            ips[k % n_ips],
            None,
            None,
            None,
            "GET",
            uri,
            200,
            rng.randint(9000, 30000),
            round(rng.uniform(0.03, 0.2), 3),
            "",
            rng.choice(ATTACK_UAS[:8]),
            label,
        )
        t += gap * rng.uniform(0.6, 1.4)
    meta["attacks"].setdefault(label, {"ips": [], "users": [], "sids": []})["ips"].extend(ips)


def attack_ato(log, rng, victim, t, attacker_ip, ua, meta, note):
    label = "account_takeover"
    ctx = Ctx(log, rng, victim, "attacker", attacker_ip, None, label)
    ctx.ua = lambda _t: ua
    ctx.req(t, "GET", "/login", 200, 2050, 0.01, user=False, referer="")
    t += rng.uniform(8, 20)
    ctx.req(t, "POST", "/api/v2/auth/login", 200, 310, 0.3, referer=HOST + "/login")
    t += rng.uniform(10, 30)
    ctx.sid = "pre" + hexid(rng, 23)
    ctx.req(t, "POST", "/api/v2/auth/mfa/verify", 200, 40, referer=HOST + "/login/mfa")
    ctx.sid = hexid(rng, 26)
    t = shell_load(ctx, t + 1, "/app/home", cold=True)
    steps = [
        ("GET", "/api/v2/dashboard/widgets", 200),
        ("GET", "/api/v2/me/security", 200),
        ("PUT", "/api/v2/me/email", 200),
        ("GET", "/api/v2/me/mfa/devices", 200),
        ("DELETE", f"/api/v2/me/mfa/devices/{rng.randint(1000, 9999)}", 204),
        ("POST", "/api/v2/me/mfa/devices", 201),
        ("POST", "/api/v2/me/mfa/devices/verify", 200),
        ("GET", "/api/v2/contacts?page=1&per_page=50&sort=-updated_at", 200),
        ("GET", "/api/v2/deals?stage=negotiation&per_page=50", 200),
    ]
    for m, uri, st in steps:
        t += rng.lognormvariate(math.log(12), 0.6)
        ctx.route = "/app/settings/security" if "/me" in uri else "/app/contacts"
        ctx.req(t, m, uri, st)
    for p in range(2, 12):
        t += rng.uniform(3, 9)
        ctx.req(t, "GET", f"/api/v2/contacts?page={p}&per_page=50&sort=-updated_at")
    for rep in ("contacts", "pipeline"):
        eid = uuid4ish(rng)
        t += rng.uniform(10, 30)
        ctx.route = f"/app/reports/{rep}"
        ctx.req(t, "POST", f"/api/v2/reports/{rep}/export?format=csv", 202)
        for _ in range(3):
            t += 2.1
            ctx.req(t, "GET", f"/api/v2/exports/{eid}")
        ctx.req(t + 0.4, "GET", f"/api/v2/exports/{eid}/download", 200, 4000000)
    t += rng.uniform(20, 60)
    ctx.route = "/app/settings/integrations"
    ctx.req(t, "POST", "/api/v2/integrations/webhooks", 201)
    ctx.req(t + 30, "POST", "/api/v2/auth/logout", 204, 0)
    meta["attacks"].setdefault(label, {"users": [], "sids": [], "ips": [], "notes": []})
    meta["attacks"][label]["users"].append(victim.id)
    meta["attacks"][label]["sids"].append(ctx.sid)
    meta["attacks"][label]["ips"].append(attacker_ip)
    meta["attacks"][label]["notes"].append(note)


def attack_token_abuse(log, rng, companies, meta):
    label = "api_token_abuse"
    info = meta["machines"]["integration_sync"]
    svc, big = info["user"], companies[1]
    ip = ip_from(rng, HOSTING["hetzner"])
    ua = "python-requests/2.31.0"
    t = local_to_utc(TRAIN_DAYS + 2, 3.0, 2.0)  # Wednesday, 01:00 UTC
    end = t + 35 * 60
    p = 1
    while t < end:
        if rng.random() < 0.25:
            log.add(
                t,
                ip,
                None,
                svc,
                None,
                "GET",
                f"/api/v2/contacts?page={p}&per_page=100",
                200,
                rng.randint(40000, 70000),
                round(rng.uniform(0.1, 0.4), 3),
                "",
                ua,
                label,
            )
            p += 1
        else:
            did = big.deals_base + rng.randrange(big.n_deals)
            log.add(
                t,
                ip,
                None,
                svc,
                None,
                "GET",
                f"/api/v2/deals/{did}",
                200,
                rng.randint(1500, 3000),
                round(rng.uniform(0.02, 0.1), 3),
                "",
                ua,
                label,
            )
        t += rng.uniform(0.15, 0.45)
    meta["attacks"][label] = {"users": [svc], "ips": [ip], "sids": [], "ua": ua}


# --------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=30)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    log = Log()
    meta = {"machines": {}, "attacks": {}, "users": {}, "companies": {}}
    companies, users = build_world(rng)
    uid_counter = [int(users[-1].id[1:]) + 10]

    # new users of existing companies, every weekday
    for day in range(TRAIN_DAYS + TEST_DAYS):
        if (START + timedelta(days=day)).weekday() >= 5:
            continue
        for _ in range(rng.randint(6, 14)):
            c = rng.choice(companies)
            u = make_user(rng, c, uid_counter, joined_day=day)
            u.invite_time = local_to_utc(day, rng.uniform(9, 16), c.tz)
            users.append(u)

    # the new large customer (test day 2): one new office address, a training session
    nw = Company()
    nw.id, nw.slug, nw.country, nw.tz, nw.klass = (
        300,
        "northwind",
        "US",
        -5.0,
        "onboarding",
    )
    nw.sso, nw.zscaler, nw.vpn = False, False, False
    nw.office_ips = ["12.101.%d.%d" % (rng.randint(0, 255), rng.randint(2, 250))]
    nw.office_share = 1.0
    nw.managed_ua, nw.managed_share, nw.fleet_update_day = "chrome_win", 1.0, 12
    nw.projects = [300 * 1000 + 100 + k for k in range(20)]
    nw.contacts_base, nw.n_contacts = 500000 + 300 * 20000, 300
    nw.deals_base, nw.n_deals = 900000 + 300 * 3000, 50
    nw.users = []
    companies.append(nw)
    nw_day = TRAIN_DAYS + 1
    admin = make_user(rng, nw, uid_counter, joined_day=TRAIN_DAYS, onboarding=True)
    admin.loc, admin.cls = "office", "power"
    admin.invite_time = local_to_utc(TRAIN_DAYS, 15.0, nw.tz)
    users.append(admin)
    nw_users = []
    for _ in range(180):
        u = make_user(rng, nw, uid_counter, joined_day=nw_day, onboarding=True)
        u.loc = "office"
        u.ua_family, u.managed = "chrome_win", True
        u.phone = None
        u.vacation = set()
        nw_users.append(u)
        users.append(u)

    for c in companies:
        meta["companies"][c.slug] = {
            "klass": c.klass,
            "country": c.country,
            "tz": c.tz,
            "sso": c.sso,
            "office_ips": c.office_ips,
            "zscaler": c.zscaler,
            "users": len(c.users),
        }

    # ---- normal people, day by day
    for day in range(-1, TRAIN_DAYS + TEST_DAYS + 1):
        for u in users:
            if u.company is nw and day == nw_day and u is not admin:
                continue
            if u.joined_day is not None and day == u.joined_day and u.company is not nw:
                ip, xff = where(rng, u, day, "desktop")
                ctx, t, np_, piv = simulate_invite(log, rng, u, u.invite_time, ip, xff)
                visit(ctx, t + 60, t + rng.uniform(300, 1800), first_route="/app/home")
                continue
            if u is admin and day == TRAIN_DAYS:
                ip = nw.office_ips[0]
                ctx, t, np_, piv = simulate_invite(log, rng, u, u.invite_time, ip, None)
                for _ in range(60):  # the admin sets the account up
                    t = do_view(
                        ctx,
                        t + rng.lognormvariate(math.log(25), 0.8),
                        kind=rng.choice(
                            [
                                "settings",
                                "project",
                                "board",
                                "task_new",
                                "contacts",
                                "help",
                            ]
                        ),
                    )
                continue
            simulate_user_day(log, rng, u, day)

    # ---- the onboarding session (normal)
    t_session = local_to_utc(nw_day, 10.0, nw.tz)
    script = []
    off = t_session + 15 * 60
    for step in [
        "checklist",
        "profile",
        "avatar",
        "tour1",
        "tour2",
        "tour3",
        "help",
        "template",
        "sample_task",
        "comment",
        "invite_list",
        "tour4",
    ]:
        script.append((off, step))
        off += rng.uniform(120, 240)
    for u in nw_users:
        t = t_session + rng.gauss(0, 6 * 60) - 10 * 60
        ctx, t, next_poll, poll_iv = simulate_invite(log, rng, u, t, nw.office_ips[0], None, onboarding_script=script)
        # the tab stays open to noon, a few views after the session
        t_end = local_to_utc(nw_day, rng.uniform(11.0, 11.4), nw.tz)
        while t < t_end:
            t2 = t + rng.lognormvariate(math.log(90), 1.0)
            while next_poll < min(t2, t_end):
                poll(ctx, next_poll)
                next_poll += poll_iv
            if t2 >= t_end:
                break
            t = do_view(
                ctx,
                t2,
                kind=rng.choice(["dashboard", "board", "task", "project", "task_edit"]),
            )
        # afternoon: a visit or two
        if rng.random() < 0.7:
            t = local_to_utc(nw_day, rng.uniform(13.5, 16.5), nw.tz)
            t = session_for(ctx, t)
            visit(ctx, t, t + rng.lognormvariate(math.log(600), 0.7))

    meta["onboarding"] = {
        "company": "northwind",
        "users": [u.id for u in nw_users] + [admin.id],
        "ip": nw.office_ips[0],
        "day": (START + timedelta(days=nw_day)).date().isoformat(),
        "session_utc": datetime.fromtimestamp(t_session, UTC).isoformat(),
    }

    # ---- machines
    machine_clients(log, rng, companies, meta)
    link_scanners_and_slack(log, rng, users, meta)

    # ---- attacks: training (labelled) and test
    meta["attacks"]["credential_stuffing"] = {"ips": [], "users": [], "sids": []}
    attack_scraper(log, rng, T0 + 3 * 86400 + 9 * 3600, 3, 500, 2, "train", meta)
    attack_stuffing_resi(
        log,
        rng,
        users,
        T0 + 4 * 86400 + 14 * 3600,
        60,
        150,
        "credential_stuffing",
        meta,
    )
    attack_scraper(log, rng, T_SPLIT + 8 * 3600, 6, 1500, 4, "test", meta)
    attack_stuffing_office(log, rng, companies, users, meta)
    attack_insider(log, rng, companies, meta)
    # ATO 1: US victim, attacker on a foreign VPS at the victim's night
    us_users = [u for u in users if u.company.country == "US" and not u.company.sso and u.mfa and u.joined_day is None]
    v1 = us_users[3]
    attack_ato(
        log,
        rng,
        v1,
        T_SPLIT + 86400 + 6 * 3600,
        ip_from(rng, HOSTING["datacamp"]),
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        meta,
        "foreign VPS (Datacamp, CZ), Firefox on Linux, victim's night",
    )
    # ATO 2: GB victim, attacker on a residential proxy in the victim's country, in working hours
    gb_users = [
        u
        for u in users
        if u.company.country == "GB" and not u.company.sso and u.joined_day is None and u.ua_family != "chrome_mac"
    ]
    v2 = gb_users[2]
    attack_ato(
        log,
        rng,
        v2,
        local_to_utc(TRAIN_DAYS + 2, 10.5, 1.0),
        ip_from(rng, POOLS["GB"]["resi"]),
        ua_chrome_mac(124),
        meta,
        "residential proxy in the victim's country, Chrome on Mac, working hours",
    )
    attack_stuffing_resi(
        log,
        rng,
        users,
        local_to_utc(TRAIN_DAYS + 2, 13.0, 0.0),
        90,
        700,
        "credential_stuffing",
        meta,
    )
    attack_token_abuse(log, rng, companies, meta)

    for u in users:
        meta["users"][u.id] = {
            "company": u.company.slug,
            "klass": u.company.klass,
            "loc": u.loc,
            "cls": u.cls,
            "onboarding": u.onboarding,
            "joined_day": u.joined_day,
            "office_ips": u.company.office_ips,
            "managed": u.managed,
        }

    # ---- write
    log.rows.sort(key=lambda r: (int(r[0]), r[0], r[1]))
    alb_rng = random.Random(args.seed + 1)
    counts = {"train.log": 0, "test.log": 0}
    labels = []
    with (
        open(os.path.join(args.out, "train.log"), "w") as ftr,
        open(os.path.join(args.out, "test.log"), "w") as fte,
    ):
        for t, _, rec, label in log.rows:
            name, f = ("train.log", ftr) if t < T_SPLIT else ("test.log", fte)
            f.write(fmt_line(rec, alb_rng.choice(ALB_NODES)) + "\n")
            counts[name] += 1
            if label:
                labels.append((f"{name}:{counts[name]}", label))
    with open(os.path.join(args.out, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label"])
        w.writerows(labels)
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    by = {}
    for _, lab in labels:
        by[lab] = by.get(lab, 0) + 1
    print(
        json.dumps(
            {
                "train_lines": counts["train.log"],
                "test_lines": counts["test.log"],
                "users": len(users),
                "companies": len(companies),
                "labelled_lines": by,
            }
        )
    )


if __name__ == "__main__":
    main()
