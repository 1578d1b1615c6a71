#!/usr/bin/env python3
"""Synthetic Traefik (v2/v3) JSON access logs for an outdoor-gear shop, with labelled attacks.

Traefik static configuration this imitates:

    accessLog:
      filePath: /var/log/traefik/access.log
      format: json
      fields:
        defaultMode: keep
        headers:
          defaultMode: drop
          names:
            User-Agent: keep
            Referer: keep
            Cookie: keep

So each line is logrus' JSON (keys sorted, Go's json escaping of < > &), with the header fields
request_User-Agent / request_Referer / request_Cookie present only when the request carried them.
Lines are written when the response finishes (so StartUTC is not strictly monotonic).

Writes, into --out, train.log (7 days), test.log (3 days, day 2 a sale with 3x traffic),
labels.csv (FILE:LINE for every attack line: every other line is normal), labels_sessions.csv
(key = session id the importer derives: the shop_session cookie value, or
client:<sha256(ip + "\\x1f" + ua)[:16]> for cookieless clients) and truth.json (episodes).

    python3 trial_logs/traefik_shop.py --out /tmp/traefik
    python -m model.backtest --train /tmp/traefik/train.log --test /tmp/traefik/test.log --format traefik \
        --failed-login-status 200 --entity session --labels /tmp/traefik/labels.csv --out /tmp/traefik/backtest
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import random
from datetime import datetime, timedelta, timezone

SEED = 34
HOST = "www.ridgeline-outfitters.com"
TRAIN_START = datetime(2026, 3, 2, tzinfo=timezone.utc)  # a Monday
TEST_START = TRAIN_START + timedelta(days=7)
SALE_DAY = 1  # test day index with 3x traffic
VISITS_PER_DAY = 1100

R = random.Random(SEED)

# ---------------------------------------------------------------- catalogue
CATEGORIES = {
    "tents": ["tent", "shelter", "tarp", "bivy"],
    "sleeping-bags": ["sleeping-bag", "quilt", "liner"],
    "sleeping-pads": ["sleeping-pad", "air-mattress", "foam-pad"],
    "backpacks": ["backpack", "daypack", "hydration-pack", "duffel"],
    "jackets": ["rain-jacket", "down-jacket", "softshell", "fleece", "insulated-vest"],
    "footwear": ["hiking-boot", "trail-runner", "approach-shoe", "camp-sandal"],
    "climbing": ["harness", "carabiner", "belay-device", "chalk-bag", "climbing-rope", "helmet"],
    "camp-kitchen": ["stove", "cookset", "mug", "water-filter", "fuel-canister", "spork"],
    "headlamps": ["headlamp", "lantern"],
    "accessories": ["trekking-poles", "gaiters", "beanie", "gloves", "socks", "map-case"],
}
BRANDS = ["ridgeline", "summit-peak", "alpenglow", "cascade", "northfork", "timberline", "granite", "basecamp"]
ADJ = ["ultralight", "trail", "alpine", "expedition", "classic", "pro", "lite", "storm", "trek", "venture"]
PRODUCTS: list[tuple[str, str]] = []  # (slug, category)
_seen = set()
for cat, kinds in CATEGORIES.items():
    n = 70 if cat not in ("headlamps",) else 30
    while sum(1 for _, c in PRODUCTS if c == cat) < n:
        slug = f"{R.choice(BRANDS)}-{R.choice(ADJ)}-{R.choice(kinds)}"
        if R.random() < 0.5:
            slug += f"-{R.choice(['2p', '3p', '20f', '35l', '50l', '65l', 'mens', 'womens', 'x2', 'ii', 'gtx'])}"
        if slug in _seen:
            continue
        _seen.add(slug)
        PRODUCTS.append((slug, cat))
GIFT_CARDS = ["gift-card-50", "gift-card-100", "gift-card-250", "gift-card-500"]
PRODUCTS += [(g, "gift-cards") for g in GIFT_CARDS]  # customers buy gift cards too
CHEAP = [s for s, c in PRODUCTS if "carabiner" in s or "spork" in s or "socks" in s or "beanie" in s] or [
    PRODUCTS[0][0]
]
# product popularity: Zipf
PROD_W = [1 / (i + 1) ** 0.9 for i in range(len(PRODUCTS))]
R.shuffle(PROD_W)
SEARCHES = [
    "rain jacket",
    "2 person tent",
    "sleeping bag 20 degree",
    "hiking boots women",
    "headlamp",
    "water filter",
    "backpack 65l",
    "down jacket",
    "trekking poles",
    "camp stove",
    "ultralight tent",
    "merino socks",
    "climbing harness",
    "gift card",
    "sleeping pad",
    "trail runners",
    "gore-tex",
    "kids jacket",
    "sale",
    "duffel",
    "bivy",
    "cookset",
    "fleece",
    "gaiters",
    "mens rain pants",
    "helmet",
]
ASSETS_COLD = [
    "/assets/app.4f9c2b1e.css",
    "/assets/app.8e1d4a77.js",
    "/assets/vendor.c02f9a31.js",
    "/assets/fonts/inter-var.woff2",
    "/assets/logo.svg",
    "/favicon.ico",
]
ASSETS_PAGE = {"product": "/assets/product.91ab3c0d.js", "checkout": "/assets/checkout.5d7e2f10.js"}

# ---------------------------------------------------------------- user agents
DESKTOP_UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
]
MOBILE_UAS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/122.0.6261.89 Mobile/15E148 Safari/604.1",
]
OFFICE_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
HEADLESS_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/122.0.6261.94 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GOOGLEBOT_M = (
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.6261.94 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
UPTIME_UA = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
STRIPE_UA = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"

# ---------------------------------------------------------------- addresses
RESIDENTIAL_V4 = [
    "73.{}.{}.{}",
    "24.{}.{}.{}",
    "98.{}.{}.{}",
    "71.{}.{}.{}",
    "108.{}.{}.{}",
    "99.{}.{}.{}",
    "76.{}.{}.{}",
    "67.{}.{}.{}",
    "68.{}.{}.{}",
    "174.{}.{}.{}",
]
RES_FIRST = {
    "73": (0, 255),
    "24": (0, 255),
    "98": (0, 255),
    "71": (0, 255),
    "108": (0, 255),
    "99": (0, 255),
    "76": (0, 255),
    "67": (160, 191),
    "68": (32, 63),
    "174": (48, 63),
}
CARRIER_V4 = [f"172.58.{R.randint(0, 255)}.{R.randint(1, 254)}" for _ in range(18)] + [
    f"174.{R.randint(200, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}" for _ in range(14)
]
OFFICE_IPS = ["50.226.14.130", "50.226.14.131"]
GOOGLE_IPS = [
    f"66.249.{R.choice([64, 65, 66, 68, 69, 70, 72, 73, 74, 75, 76, 77, 79])}.{R.randint(1, 254)}" for _ in range(25)
]
BING_IPS = [f"157.55.39.{R.randint(1, 254)}" for _ in range(6)] + [f"207.46.13.{R.randint(1, 254)}" for _ in range(6)]
UPTIME_IPS = ["216.144.250.150", "69.162.124.235", "63.143.42.250", "216.245.221.83", "208.115.199.18"]
STRIPE_IPS = [
    "3.18.12.63",
    "3.130.192.231",
    "13.235.14.237",
    "13.235.122.149",
    "18.211.135.69",
    "35.154.171.200",
    "52.15.183.38",
    "54.88.130.119",
    "54.88.130.237",
    "54.187.174.169",
    "54.187.205.235",
    "54.187.216.72",
]
HOSTING = [
    "159.203.{}.{}",
    "167.99.{}.{}",
    "138.197.{}.{}",
    "95.216.{}.{}",
    "65.108.{}.{}",
    "51.75.{}.{}",
    "45.{}.{}.{}",
    "104.248.{}.{}",
    "5.161.{}.{}",
]
FOREIGN_RES = [
    "113.{}.{}.{}",
    "27.{}.{}.{}",
    "41.{}.{}.{}",
    "102.{}.{}.{}",
    "186.{}.{}.{}",
    "177.{}.{}.{}",
    "78.{}.{}.{}",
    "88.{}.{}.{}",
    "91.{}.{}.{}",
    "119.{}.{}.{}",
    "36.{}.{}.{}",
    "14.{}.{}.{}",
]


def residential_ip(rng=R) -> str:
    if rng.random() < 0.12:  # IPv6 home connection (Comcast)
        return "2601:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}".format(*(rng.randint(0, 0xFFFF) for _ in range(7)))
    tpl = rng.choice(RESIDENTIAL_V4)
    first = tpl.split(".")[0]
    lo, hi = RES_FIRST[first]
    return f"{first}.{rng.randint(lo, hi)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def carrier_ip(rng=R) -> str:
    if rng.random() < 0.35:  # T-Mobile IPv6, a /64 per device
        return "2607:fb90:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}".format(*(rng.randint(0, 0xFFFF) for _ in range(6)))
    return rng.choice(CARRIER_V4)  # CGNAT: many people on few addresses


def hosting_ip(rng=R) -> str:
    tpl = rng.choice(HOSTING)
    return tpl.format(*(rng.randint(1, 254) for _ in range(tpl.count("{}"))))


def foreign_ip(rng=R) -> str:
    tpl = rng.choice(FOREIGN_RES)
    return tpl.format(*(rng.randint(1, 254) for _ in range(3)))


def hexid(n=32, rng=R) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def client_key(ip: str, ua: str) -> str:
    return "client:" + hashlib.sha256((ip + "\x1f" + ua).encode()).hexdigest()[:16]


# ---------------------------------------------------------------- request records
class Req:
    __slots__ = (
        "t",
        "ip",
        "method",
        "path",
        "status",
        "size",
        "dur",
        "ua",
        "ref",
        "cookie",
        "label",
        "skey",
        "proto",
        "service",
        "reqsize",
    )

    def __init__(
        self, t, ip, method, path, status, size, dur, ua, ref, cookie, label, skey, proto, service="shop", reqsize=0
    ):
        self.t, self.ip, self.method, self.path, self.status, self.size = t, ip, method, path, status, size
        self.dur, self.ua, self.ref, self.cookie, self.label, self.skey = dur, ua, ref, cookie, label, skey
        self.proto, self.service, self.reqsize = proto, service, reqsize


# key (session id / client key) -> label
SESSION_LABELS: dict[str, str] = {}
TRUTH: list[dict] = []


def lognorm(median, sigma, rng=R):
    return median * math.exp(rng.gauss(0, sigma))


def page_dur(kind, rng=R):
    base = {"page": 0.09, "api": 0.025, "asset": 0.003, "post": 0.16, "pay": 0.9, "webhook": 0.05}[kind]
    return lognorm(base, 0.5, rng)


def url(base):
    return "https://" + HOST + base


class Browser:
    """A visitor's browser: address, agent, cookies."""

    def __init__(self, ip, ua, ga=None, consent=True, proto=None):
        self.ip, self.ua = ip, ua
        self.ga = ga
        self.consent = consent
        self.sid = None
        self.proto = proto or ("HTTP/2.0" if R.random() < 0.85 else "HTTP/1.1")

    def cookie(self):
        parts = []
        if self.sid:
            parts.append(f"shop_session={self.sid}")
        if self.ga:
            parts.append(f"_ga={self.ga}")
            parts.append(
                f"_ga_R7X2KQ9Z1P=GS1.1.{R.randint(1709000000, 1710500000)}.{R.randint(1, 40)}.1.{R.randint(1709000000, 1710500000)}.0.0.0"
            )
        if self.consent:
            parts.append("cookie_consent=accepted")
        return "; ".join(parts) if parts else None


class Visit:
    """Builds the requests of one browser visit."""

    def __init__(self, out, browser: Browser, t, label="normal", assets=True, cold=True, api=True):
        self.out, self.b, self.t = out, browser, t
        self.label, self.assets, self.cold, self.api = label, assets, cold, api
        self.last_page = None
        self.keys = []  # session ids this visit used

    def _emit(self, method, path, status, size, kind, ref=None, service="shop", reqsize=0, dt=0.0):
        t = self.t + dt
        dur = page_dur(kind)
        key = self.b.sid if self.b.sid else client_key(self.b.ip, self.b.ua)
        self.out.append(
            Req(
                t,
                self.b.ip,
                method,
                path,
                status,
                size,
                dur,
                self.b.ua,
                ref,
                self.b.cookie(),
                self.label,
                key,
                self.b.proto,
                service,
                reqsize,
            )
        )
        return dur

    def _new_session(self):
        self.b.sid = hexid()
        self.keys.append(self.b.sid)
        SESSION_LABELS[self.b.sid] = self.label

    def page(
        self, path, status=200, size=None, ref=None, method="GET", kind="page", reqsize=0, page_type=None, rotate=False
    ):
        if ref is None and self.last_page is not None:
            ref = url(self.last_page)
        had = self.b.sid is not None
        d = self._emit(method, path, status, size or R.randint(18000, 95000), kind, ref, reqsize=reqsize)
        if not had:
            self._new_session()  # Set-Cookie on this response
        if rotate:
            self._new_session()  # the session id rotates at login
        if method == "GET" and status == 200 and kind == "page":
            self.last_page = path
            t = d + 0.02
            if self.assets:
                if self.cold:
                    for a in ASSETS_COLD:
                        t += R.uniform(0.005, 0.06)
                        self._emit("GET", a, 200, R.randint(2000, 240000), "asset", url(path), "assets", dt=t)
                    self.cold = False
                elif R.random() < 0.25:  # revalidation
                    for a in ASSETS_COLD[:3]:
                        t += R.uniform(0.005, 0.05)
                        self._emit("GET", a, 304, 0, "asset", url(path), "assets", dt=t)
                if page_type in ASSETS_PAGE and R.random() < 0.5:
                    t += 0.03
                    self._emit(
                        "GET", ASSETS_PAGE[page_type], 200, R.randint(9000, 40000), "asset", url(path), "assets", dt=t
                    )
            if self.api and R.random() < 0.5:
                t += R.uniform(0.1, 0.6)
                self._emit("GET", "/api/cart/count", 200, R.randint(20, 40), "api", url(path), dt=t)
            if self.api and page_type == "product" and R.random() < 0.6:
                slug = path.rsplit("/", 1)[-1]
                t += R.uniform(0.05, 0.4)
                self._emit(
                    "GET",
                    f"/api/recommendations?product={slug}&limit=8",
                    200,
                    R.randint(2000, 6000),
                    "api",
                    url(path),
                    dt=t,
                )
                if R.random() < 0.3:
                    self._emit(
                        "GET",
                        f"/api/inventory/{slug}?store=online",
                        200,
                        R.randint(80, 300),
                        "api",
                        url(path),
                        dt=t + R.uniform(0.01, 0.2),
                    )
        return d

    def think(self, median=14.0, sigma=1.0):
        self.t += max(1.5, lognorm(median, sigma)) + 0.2


def pick_product(rng=R):
    return rng.choices(PRODUCTS, weights=PROD_W)[0]


def normal_visit(out, browser, t, *, login=None, buyer=False, sale=False, cold=True, label="normal", office=False):
    """A customer's visit. login: None, 'ok', 'typo' (one or two failures first), 'reset'."""
    v = Visit(out, browser, t, label, cold=cold)
    r = R.random()
    ref_land = None
    if r < 0.38:
        ref_land = "https://www.google.com/"
    elif r < 0.45:
        ref_land = "https://www.bing.com/"
    elif r < 0.52:
        ref_land = "https://l.facebook.com/"
    elif r < 0.55:
        ref_land = "https://duckduckgo.com/"
    # landing
    lr = R.random()
    utm = "?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale" if sale and R.random() < 0.35 else ""
    if lr < 0.35:
        v.page("/" + utm, ref=ref_land or "")
    elif lr < 0.6:
        cat = R.choice(list(CATEGORIES))
        v.page(f"/c/{cat}{utm}", ref=ref_land or "")
    else:
        slug, _ = pick_product()
        v.page(f"/p/{slug}{utm}", ref=ref_land or "", page_type="product")
    bounce = R.random() < (0.30 if not login and not buyer else 0.0)
    if bounce:
        return v
    n_pages = max(1, int(R.paretovariate(2.0) * 2.2)) if not office else R.randint(2, 8)
    n_pages = min(n_pages, 40)
    if login:
        v.think(8)
        v.page("/account/login")
        v.think(9, 0.5)
        fails = 0
        if login == "typo":
            fails = 1 if R.random() < 0.8 else 2
        for _ in range(fails):
            v.page(
                "/account/login",
                status=200,
                method="POST",
                kind="post",
                size=R.randint(14000, 16000),
                reqsize=R.randint(120, 180),
            )  # the form again, with an error
            v.think(7, 0.5)
        if login == "reset":
            v.page(
                "/account/login",
                status=200,
                method="POST",
                kind="post",
                size=R.randint(14000, 16000),
                reqsize=R.randint(120, 180),
            )
            v.think(6, 0.5)
            v.page("/account/password/forgot")
            v.think(10, 0.5)
            v.page("/account/password/forgot", status=303, method="POST", kind="post", size=0, reqsize=60)
            v.think(60, 0.6)
            v.page(f"/account/password/reset?token={hexid(40)}", ref="")
            v.think(15, 0.5)
            v.page("/account/password/reset", status=303, method="POST", kind="post", size=0, reqsize=140)
            v.think(5, 0.5)
        v.page(
            "/account/login", status=303, method="POST", kind="post", size=0, reqsize=R.randint(120, 180), rotate=True
        )
        v.t += 0.3
        v.page("/account", ref=url("/account/login"))
        if R.random() < 0.3:
            v.think(10)
            v.page("/account/orders")
        x = R.random()
        if x < 0.06:  # customers update their addresses, cards and passwords too
            v.think(8)
            v.page("/account/addresses")
            if R.random() < 0.5:
                v.think(30, 0.5)
                v.page("/account/addresses", status=303, method="POST", kind="post", size=0, reqsize=420)
                v.t += 0.2
                v.page("/account/addresses")
        elif x < 0.09:
            v.think(8)
            v.page("/account/payment-methods")
        elif x < 0.105:
            v.think(8)
            v.page("/account/password/change")
            v.think(20, 0.5)
            v.page("/account/password/change", status=303, method="POST", kind="post", size=0, reqsize=180)
    cart = 0
    for i in range(n_pages):
        v.think(16 if not sale else 12)
        x = R.random()
        if x < 0.20:
            q = R.choice(SEARCHES)
            if v.api and R.random() < 0.7:
                for k in range(3, min(len(q), 9), 2):
                    v.out.append(
                        Req(
                            v.t - 2 + k * 0.25,
                            v.b.ip,
                            "GET",
                            f"/api/search/suggest?q={q[:k].replace(' ', '+')}",
                            200,
                            R.randint(200, 900),
                            page_dur("api"),
                            v.b.ua,
                            url(v.last_page or "/"),
                            v.b.cookie(),
                            label,
                            v.b.sid,
                            v.b.proto,
                        )
                    )
            v.page(f"/search?q={q.replace(' ', '+')}" + ("&page=2" if R.random() < 0.1 else ""))
        elif x < 0.42:
            cat = R.choice(list(CATEGORIES))
            qs = R.choice(["", "", "", "?sort=price_asc", "?page=2", "?sort=rating", "?brand=" + R.choice(BRANDS)])
            v.page(f"/c/{cat}{qs}")
        elif x < 0.9:
            slug, _ = pick_product()
            st = 404 if R.random() < 0.004 else 200
            v.page(f"/p/{slug}", status=st, page_type="product")
        else:
            v.page("/")
        if (
            (buyer or R.random() < 0.05)
            and v.last_page
            and v.last_page.startswith("/p/")
            and cart < 3
            and R.random() < 0.5
        ):
            v.think(6, 0.5)
            slug = v.last_page.rsplit("/", 1)[-1]
            v.page("/cart/add", status=303, method="POST", kind="post", size=0, reqsize=R.randint(60, 90))
            v.t += 0.2
            v.page("/cart")
            cart += 1
    if buyer:
        if cart == 0:
            slug, _ = pick_product()
            v.think(10)
            v.page(f"/p/{slug}", page_type="product")
            v.think(6)
            v.page("/cart/add", status=303, method="POST", kind="post", size=0, reqsize=70)
            v.t += 0.2
            v.page("/cart")
        v.think(8)
        v.page("/checkout", page_type="checkout")
        v.think(40, 0.5)
        v.page("/checkout/shipping", status=303, method="POST", kind="post", size=0, reqsize=R.randint(300, 500))
        v.t += 0.2
        v.page("/checkout/payment", page_type="checkout")
        v.think(35, 0.5)
        declined = R.random() < 0.03
        d = v.page(
            "/checkout/payment",
            status=402 if declined else 303,
            method="POST",
            kind="pay",
            size=R.randint(3000, 5000) if declined else 0,
            reqsize=R.randint(400, 700),
        )
        webhook(out, v.t + d + R.uniform(1, 4), ok=not declined)
        if declined:
            v.think(25, 0.5)
            d = v.page("/checkout/payment", status=303, method="POST", kind="pay", size=0, reqsize=R.randint(400, 700))
            webhook(out, v.t + d + R.uniform(1, 4), ok=True)
        v.t += d + 0.1
        v.page(f"/checkout/confirmation?order=RO-{R.randint(100000, 999999)}", page_type="checkout")
    if login and R.random() < 0.15:
        v.think(10)
        v.page("/account/logout", status=303, method="POST", kind="post", size=0)
    return v


def webhook(out, t, ok=True, n=None):
    ip = R.choice(STRIPE_IPS)
    for k in range(n or (2 if ok else 1)):
        out.append(
            Req(
                t + k * R.uniform(0.1, 1.5),
                ip,
                "POST",
                "/webhooks/stripe",
                200,
                2,
                page_dur("webhook"),
                STRIPE_UA,
                None,
                None,
                "normal",
                client_key(ip, STRIPE_UA),
                "HTTP/1.1",
                "shop",
                R.randint(2500, 6000),
            )
        )
        SESSION_LABELS.setdefault(client_key(ip, STRIPE_UA), "normal")


# ---------------------------------------------------------------- population
HOURLY = [
    0.9,
    0.6,
    0.35,
    0.2,
    0.15,
    0.15,
    0.3,
    0.6,
    0.9,
    1.1,
    1.2,
    1.3,
    1.45,
    1.35,
    1.25,
    1.2,
    1.25,
    1.4,
    1.7,
    2.0,
    2.1,
    1.9,
    1.5,
    1.2,
]  # local hour weights
TZ = [(-5, 0.45), (-6, 0.2), (-7, 0.1), (-8, 0.25)]


class Customer:
    def __init__(self, i):
        self.id = i
        self.mobile = R.random() < 0.45
        self.ua = R.choice(MOBILE_UAS if self.mobile else DESKTOP_UAS)
        self.home = residential_ip()
        self.tz = R.choices([z for z, _ in TZ], weights=[w for _, w in TZ])[0]
        self.ga = f"GA1.1.{R.randint(10**8, 10**9)}.{R.randint(1690000000, 1709000000)}"
        self.weight = min(R.paretovariate(1.3), 25.0)  # a loyal customer visits a few times a day at most
        self.last_visit = None
        self.office = False


CUSTOMERS = [Customer(i) for i in range(9000)]
for c in CUSTOMERS[:40]:  # staff of a company behind one office NAT, one managed browser build
    c.office, c.mobile, c.ua, c.tz = True, False, OFFICE_UA, -7
CUST_W = [c.weight for c in CUSTOMERS]


def visit_start(day_start, tz, rng=R):
    while True:
        h = rng.random() * 24
        local = (h + tz) % 24
        if rng.random() < HOURLY[int(local)] / 2.1:
            return day_start + h * 3600


def gen_normal_day(out, day_start: float, mult: float, sale: bool):
    n = int(VISITS_PER_DAY * mult * R.uniform(0.92, 1.08))
    weekday = datetime.fromtimestamp(day_start, timezone.utc).weekday()
    if weekday >= 5:
        n = int(n * 0.9)
    for _ in range(n):
        if R.random() < 0.55:
            c = R.choices(CUSTOMERS, weights=CUST_W)[0]
            if c.office:
                if weekday >= 5:
                    continue
                t = day_start + (R.uniform(15.5, 23.5)) * 3600  # 8:30-16:30 MST
                ip = R.choice(OFFICE_IPS)
            else:
                t = visit_start(day_start, c.tz)
                ip = (
                    carrier_ip()
                    if c.mobile and R.random() < 0.6
                    else (c.home if R.random() < 0.93 else residential_ip())
                )
            cold = c.last_visit is None or t - c.last_visit > 5 * 86400 or R.random() < 0.3
            c.last_visit = t
            b = Browser(ip, c.ua, ga=c.ga, consent=True)
            lr = R.random()
            login = None
            if lr < 0.38:
                login = "ok"
                if R.random() < 0.09:
                    login = "typo"
                elif R.random() < 0.015:
                    login = "reset"
            buyer = R.random() < (0.12 if not sale else 0.2)
            normal_visit(out, b, t, login=login, buyer=buyer, sale=sale, cold=cold, office=c.office)
        else:  # a new, anonymous visitor
            mobile = R.random() < 0.5
            ua = R.choice(MOBILE_UAS if mobile else DESKTOP_UAS)
            ip = carrier_ip() if mobile and R.random() < 0.6 else residential_ip()
            t = visit_start(day_start, R.choices([z for z, _ in TZ], weights=[w for _, w in TZ])[0])
            b = Browser(ip, ua, ga=None, consent=R.random() < 0.5)
            buyer = R.random() < (0.02 if not sale else 0.06)
            # a new visitor who buys registers
            normal_visit(out, b, t, buyer=buyer, sale=sale, cold=True)


def gen_crawlers_day(out, day_start: float, crawl_mult=1.0):
    # Googlebot: ~1,300 fetches a day, no cookies, no assets (renders later, from other IPs)
    for ua, ips, count in ((GOOGLEBOT, GOOGLE_IPS, 900), (GOOGLEBOT_M, GOOGLE_IPS, 500), (BINGBOT, BING_IPS, 450)):
        t = day_start
        for _ in range(int(count * crawl_mult)):
            t += R.expovariate(count / 86400)
            ip = R.choice(ips)
            x = R.random()
            if x < 0.02:
                path = "/robots.txt"
            elif x < 0.05:
                path = "/sitemap.xml" if R.random() < 0.5 else f"/sitemaps/products-{R.randint(1, 3)}.xml"
            elif x < 0.3:
                path = f"/c/{R.choice(list(CATEGORIES))}" + (f"?page={R.randint(2, 6)}" if R.random() < 0.4 else "")
            else:
                path = f"/p/{R.choice(PRODUCTS)[0]}"
            st = 404 if R.random() < 0.01 else (304 if R.random() < 0.15 else 200)
            out.append(
                Req(
                    t,
                    ip,
                    "GET",
                    path,
                    st,
                    0 if st == 304 else R.randint(15000, 90000),
                    page_dur("page"),
                    ua,
                    None,
                    None,
                    "normal",
                    client_key(ip, ua),
                    "HTTP/1.1",
                )
            )
            SESSION_LABELS.setdefault(client_key(ip, ua), "normal")
    # uptime monitor: GET / once a minute, from rotating probe locations; a GET /api/health every 5 min
    for m in range(1440):
        ip = UPTIME_IPS[m % len(UPTIME_IPS)]
        t = day_start + m * 60 + R.uniform(0, 2)
        out.append(
            Req(
                t,
                ip,
                "GET",
                "/",
                200,
                R.randint(38000, 42000),
                page_dur("page"),
                UPTIME_UA,
                None,
                None,
                "normal",
                client_key(ip, UPTIME_UA),
                "HTTP/1.1",
            )
        )
        SESSION_LABELS.setdefault(client_key(ip, UPTIME_UA), "normal")
        if m % 5 == 0:
            out.append(
                Req(
                    t + 0.5,
                    ip,
                    "GET",
                    "/api/health",
                    200,
                    15,
                    page_dur("api"),
                    UPTIME_UA,
                    None,
                    None,
                    "normal",
                    client_key(ip, UPTIME_UA),
                    "HTTP/1.1",
                )
            )


# ---------------------------------------------------------------- attacks
def episode(name, label, keys, start, end, n):
    TRUTH.append(
        {
            "episode": name,
            "label": label,
            "start": iso(start),
            "end": iso(end),
            "requests": n,
            "keys": sorted(set(keys))[:20],
            "n_keys": len(set(keys)),
        }
    )


def price_scraper(out, t0, pages, label="scraping_bot", name="price-scraper"):
    """Headless Chrome from a cloud server: every category listing page, then every product, fast, no assets."""
    b = Browser(hosting_ip(), HEADLESS_UA, consent=False, proto="HTTP/1.1")
    v = Visit(out, b, t0, label, assets=False, api=False)
    n0 = len(out)
    v.page("/")
    order = []
    for cat in CATEGORIES:
        for p in range(1, 4):
            order.append(f"/c/{cat}?page={p}&sort=price_asc")
        order += [f"/p/{s}" for s, c in PRODUCTS if c == cat]
    for path in order[:pages]:
        v.t += R.uniform(0.6, 1.6)
        v.page(path, ref="")
        if path.startswith("/p/") and R.random() < 0.8:  # reads the live price
            slug = path[3:]
            v._emit("GET", f"/api/inventory/{slug}?store=online", 200, 150, "api", url(path), dt=0.3)
    episode(name, label, v.keys, t0, v.t, len(out) - n0)


def slow_scraper(out, t0, hours, label="low_and_slow_scraping", name="slow-scraper"):
    """Rotating residential proxies with ordinary browser agents, a fresh cookie every 10-40 pages, no assets."""
    n0 = len(out)
    keys = []
    t = t0
    prods = [s for s, _ in PRODUCTS]
    i = 0
    end = t0 + hours * 3600
    while t < end:
        b = Browser(residential_ip(), R.choice(DESKTOP_UAS + MOBILE_UAS[:3]), consent=True)
        v = Visit(out, b, t, label, assets=False, api=False)
        for _ in range(R.randint(10, 40)):
            v.page(f"/p/{prods[i % len(prods)]}", ref="https://www.google.com/" if R.random() < 0.3 else "")
            i += 1
            v.t += R.uniform(12, 35)
        keys += v.keys
        t = v.t + R.uniform(5, 60)
    episode(name, label, keys, t0, t, len(out) - n0)


def credential_stuffing(out, t0, attempts, label="credential_stuffing", name="stuffing", success_rate=0.015):
    """Through a proxy pool (data-centre and residential), GET the form for its CSRF token and POST it,
    1-3 tries per address; a failure shows the form again (200), a success redirects (303)."""
    n0 = len(out)
    keys = []
    t = t0
    uas = DESKTOP_UAS[:3]
    done = 0
    hits = []
    while done < attempts:
        ip = hosting_ip() if R.random() < 0.5 else (residential_ip() if R.random() < 0.5 else foreign_ip())
        b = Browser(ip, R.choice(uas), consent=False, proto="HTTP/1.1")
        v = Visit(out, b, t, label, assets=False, api=False)
        v.page("/account/login", ref="")
        for _ in range(R.randint(1, 3)):
            v.t += R.uniform(0.4, 1.2)
            if R.random() < success_rate:
                v.page("/account/login", status=303, method="POST", kind="post", size=0, reqsize=150, rotate=True)
                v.t += 0.3
                v.page("/account", ref=url("/account/login"))
                hits.append(t)
                done += 1
                break
            v.page(
                "/account/login",
                status=200,
                method="POST",
                kind="post",
                size=R.randint(14000, 16000),
                reqsize=R.randint(130, 190),
            )
            done += 1
        keys += v.keys
        t += R.expovariate(1 / 1.4)  # a new proxy every 1.4 s on average
    episode(name, label, keys, t0, t, len(out) - n0)
    return hits


def card_testing(out, t0, bursts, label="card_testing", name="card-testing"):
    """One session adds a cheap item, then bursts of small payments, ~85 % declined (402)."""
    n0 = len(out)
    b = Browser(hosting_ip(), DESKTOP_UAS[0], consent=True, proto="HTTP/1.1")
    v = Visit(out, b, t0, label, assets=True, api=True)
    v.page(f"/p/{CHEAP[0]}", page_type="product", ref="")
    v.t += 5
    v.page("/cart/add", status=303, method="POST", kind="post", size=0, reqsize=70)
    v.t += 0.3
    v.page("/checkout", page_type="checkout")
    v.t += 8
    v.page("/checkout/shipping", status=303, method="POST", kind="post", size=0, reqsize=350)
    v.t += 0.3
    v.page("/checkout/payment", page_type="checkout")
    for _ in range(bursts):
        for _ in range(R.randint(5, 15)):
            v.t += R.uniform(2, 6)
            ok = R.random() < 0.15
            d = v.page(
                "/checkout/payment",
                status=303 if ok else 402,
                method="POST",
                kind="pay",
                size=0 if ok else R.randint(3000, 5000),
                reqsize=R.randint(400, 700),
            )
            webhook(out, v.t + d + R.uniform(1, 4), ok=ok, n=1)
        v.t += R.uniform(120, 600)
    episode(name, label, v.keys, t0, v.t, len(out) - n0)


def card_testing_proxies(out, t0, attempts, label="card_testing", name="card-testing-proxies"):
    """The same through a proxy pool: each address a fresh session, cart, one or two cards."""
    n0 = len(out)
    keys = []
    t = t0
    for _ in range(attempts):
        b = Browser(
            residential_ip() if R.random() < 0.6 else hosting_ip(),
            R.choice(DESKTOP_UAS + MOBILE_UAS[:2]),
            consent=False,
            proto="HTTP/1.1",
        )
        v = Visit(out, b, t, label, assets=False, api=False)
        v.page(f"/p/{R.choice(CHEAP)}", ref="")
        v.t += R.uniform(1, 3)
        v.page("/cart/add", status=303, method="POST", kind="post", size=0, reqsize=70)
        v.t += R.uniform(1, 3)
        v.page("/checkout/shipping", status=303, method="POST", kind="post", size=0, reqsize=350)
        for _ in range(R.randint(1, 2)):
            v.t += R.uniform(2, 5)
            ok = R.random() < 0.12
            d = v.page(
                "/checkout/payment",
                status=303 if ok else 402,
                method="POST",
                kind="pay",
                size=0 if ok else 3500,
                reqsize=500,
            )
            webhook(out, v.t + d + R.uniform(1, 4), ok=ok, n=1)
        keys += v.keys
        t += R.expovariate(1 / 20)
    episode(name, label, keys, t0, t, len(out) - n0)


def account_takeover(out, t0, label="account_takeover", name="ato"):
    """A customer's stolen password used from abroad on a new device: login first try, change the
    address, the password, buy gift cards."""
    n0 = len(out)
    ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0"
    b = Browser(foreign_ip() if R.random() < 0.6 else hosting_ip(), ua, consent=False)
    v = Visit(out, b, t0, label, assets=True, api=True)
    v.page("/account/login", ref="")
    v.think(6, 0.3)
    v.page("/account/login", status=303, method="POST", kind="post", size=0, reqsize=150, rotate=True)
    v.t += 0.3
    v.page("/account", ref=url("/account/login"))
    v.think(5, 0.3)
    v.page("/account/addresses")
    v.think(20, 0.3)
    v.page("/account/addresses", status=303, method="POST", kind="post", size=0, reqsize=420)
    v.t += 0.2
    v.page("/account/addresses")
    v.think(5, 0.3)
    v.page("/account/password/change")
    v.think(12, 0.3)
    v.page("/account/password/change", status=303, method="POST", kind="post", size=0, reqsize=180)
    v.think(4, 0.3)
    v.page("/account/payment-methods")
    for g in R.sample(GIFT_CARDS[1:], 2):
        v.think(5, 0.3)
        v.page(f"/p/{g}", page_type="product")
        v.think(3, 0.3)
        v.page("/cart/add", status=303, method="POST", kind="post", size=0, reqsize=80)
    v.t += 0.3
    v.page("/checkout", page_type="checkout")
    v.think(8, 0.3)
    v.page("/checkout/shipping", status=303, method="POST", kind="post", size=0, reqsize=400)
    v.t += 0.2
    v.page("/checkout/payment", page_type="checkout")
    v.think(10, 0.3)
    d = v.page("/checkout/payment", status=303, method="POST", kind="pay", size=0, reqsize=600)
    webhook(out, v.t + d + 2, ok=True)
    v.t += d + 0.1
    v.page(f"/checkout/confirmation?order=RO-{R.randint(100000, 999999)}", page_type="checkout")
    episode(name, label, v.keys, t0, v.t, len(out) - n0)


# ---------------------------------------------------------------- Traefik JSON
def rfc3339nano(ns: int) -> str:
    sec, frac = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(sec, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        base += "." + f"{frac:09d}".rstrip("0")
    return base + "Z"


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


SERVICES = {
    "shop": ("shop@docker", ["172.18.0.11:3000", "172.18.0.12:3000", "172.18.0.13:3000"]),
    "assets": ("assets@docker", ["172.18.0.21:80"]),
}


def go_json(obj) -> str:
    url_obj = obj.pop("ServiceURL")
    s = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    u = json.dumps(url_obj, separators=(",", ":"))  # a Go struct: fields in declaration order
    s = s.replace(',"StartLocal"', ',"ServiceURL":' + u + ',"StartLocal"', 1)
    # Go's encoding/json (logrus) escapes these in strings
    return s.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def traefik_line(r: Req, count: int) -> str:
    start_ns = int(r.t * 1e9) + R.randint(0, 999)
    dur_ns = max(150_000, int(r.dur * 1e9))
    overhead = R.randint(40_000, 250_000)
    router, addrs = SERVICES[r.service]
    addr = R.choice(addrs)
    port = R.randint(20000, 65000)
    client_addr = f"[{r.ip}]:{port}" if ":" in r.ip else f"{r.ip}:{port}"
    d = {
        "ClientAddr": client_addr,
        "ClientHost": r.ip,
        "ClientPort": str(port),
        "ClientUsername": "-",
        "DownstreamContentSize": r.size,
        "DownstreamStatus": r.status,
        "Duration": dur_ns,
        "OriginContentSize": r.size,
        "OriginDuration": dur_ns - overhead,
        "OriginStatus": r.status,
        "Overhead": overhead,
        "RequestAddr": HOST,
        "RequestContentSize": r.reqsize,
        "RequestCount": count,
        "RequestHost": HOST,
        "RequestMethod": r.method,
        "RequestPath": r.path,
        "RequestPort": "-",
        "RequestProtocol": r.proto,
        "RequestScheme": "https",
        "RetryAttempts": 0,
        "RouterName": router.replace("@", "-websecure@") if False else router,
        "ServiceAddr": addr,
        "ServiceName": router,
        "ServiceURL": {
            "Scheme": "http",
            "Opaque": "",
            "User": None,
            "Host": addr,
            "Path": "",
            "RawPath": "",
            "OmitHost": False,
            "ForceQuery": False,
            "RawQuery": "",
            "Fragment": "",
            "RawFragment": "",
        },
        "StartLocal": rfc3339nano(start_ns),
        "StartUTC": rfc3339nano(start_ns),
        "TLSCipher": "TLS_AES_128_GCM_SHA256" if r.proto == "HTTP/2.0" else "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLSVersion": "1.3" if r.proto == "HTTP/2.0" else "1.2",
        "entryPointName": "websecure",
        "level": "info",
        "msg": "",
        "time": iso(r.t + r.dur),
    }
    if r.ua:
        d["request_User-Agent"] = r.ua
    if r.ref:
        d["request_Referer"] = r.ref
    if r.cookie:
        d["request_Cookie"] = r.cookie
    return go_json(d)


def write_log(path, reqs, counter_start):
    reqs.sort(key=lambda r: r.t + r.dur)  # written when the response finishes
    by_start = sorted(range(len(reqs)), key=lambda i: reqs[i].t)
    counts = [0] * len(reqs)
    for n, i in enumerate(by_start):
        counts[i] = counter_start + n + 1
    line_labels = []
    with open(path, "w") as f:
        for n, r in enumerate(reqs, 1):
            f.write(traefik_line(r, counts[n - 1]) + "\n")
            if r.label != "normal":
                line_labels.append((f"{os.path.basename(path)}:{n}", r.label))
    return line_labels


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="an existing folder to write the logs and labels into")
    OUT = parser.parse_args().out
    train, test = [], []
    t0 = TRAIN_START.timestamp()
    for d in range(7):
        gen_normal_day(train, t0 + d * 86400, 1.0, False)
        gen_crawlers_day(train, t0 + d * 86400)
    # a little labelled abuse in training
    price_scraper(train, t0 + 4 * 86400 + 9.2 * 3600, 180, name="train-price-scraper")
    credential_stuffing(train, t0 + 5 * 86400 + 8.5 * 3600, 150, name="train-stuffing", success_rate=0.0)
    s0 = TEST_START.timestamp()
    for d in range(3):
        sale = d == SALE_DAY
        gen_normal_day(test, s0 + d * 86400, 3.0 if sale else 1.0, sale)
        gen_crawlers_day(test, s0 + d * 86400, 1.3 if sale else 1.0)
    price_scraper(test, s0 + 0 * 86400 + 9.5 * 3600, 800)  # 02:30 MST
    slow_scraper(test, s0 + 1 * 86400 + 14 * 3600, 9)
    hits = credential_stuffing(test, s0 + 2 * 86400 + 7 * 3600, 2500)
    card_testing(test, s0 + 0 * 86400 + 12 * 3600, 8)
    card_testing_proxies(test, s0 + 2 * 86400 + 15 * 3600, 90)
    account_takeover(test, s0 + 1 * 86400 + 19.3 * 3600, name="ato-1")
    account_takeover(test, s0 + 2 * 86400 + 10.1 * 3600, name="ato-2")
    if hits:
        account_takeover(test, hits[0] + 3600 * 2.5, name="ato-after-stuffing")
    n_train = len(train)
    ll = write_log(os.path.join(OUT, "train.log"), train, 3_000_000)
    ll += write_log(os.path.join(OUT, "test.log"), test, 3_000_000 + n_train)
    with open(os.path.join(OUT, "labels_sessions.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label"])
        for k, lab in SESSION_LABELS.items():
            w.writerow([k, lab])
    with open(os.path.join(OUT, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label"])
        w.writerows(ll)
    with open(os.path.join(OUT, "truth.json"), "w") as f:
        json.dump(TRUTH, f, indent=1)
    print(
        f"train {len(train)} lines, test {len(test)} lines, {len(SESSION_LABELS)} session labels, "
        f"{len(ll)} attack lines"
    )


if __name__ == "__main__":
    main()
