#!/usr/bin/env python3
"""Synthetic AWS API Gateway (REST API) JSON access log of a mobile shopping app ("MyShop").

9 days from 2026-11-02 00:00 UTC: train.log = days 1-7, test.log = days 8-9.
Attacks only in the test days, labelled by line (test.log:N) in labels.csv.
Also writes episodes.json (ground truth: scenario, start, end, lines, users, ips).

Stage access-log format (the one given to --log-format):
{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",
 "httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","path":"$context.path",
 "status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength",
 "userAgent":"$context.identity.userAgent","sub":"$context.authorizer.claims.sub"}

API Gateway writes "-" for a variable with no value (sub on unauthenticated routes).
REST API $context.path includes the stage ("/prod/v1/...").

Usage: mobile_app_api_gateway.py --out FOLDER [--seed 66] [--scale 1.0] (--scale: the share of the
4,000 users and 75 sign-ups a day; the attacks keep their size).
"""

import argparse
import json
import math
import random
import sys
import uuid
from datetime import datetime, timedelta, timezone

R = random.Random(66)  # seeded again by --seed before anything is drawn

START = datetime(2026, 11, 2, tzinfo=timezone.utc)
DAYS = 9
TRAIN_DAYS = 7
T0 = int(START.timestamp())
DAY = 86400
N_USERS = 4000
SIGNUPS_PER_DAY = 75
STAGE = "/prod"

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def clf(ts):
    d = datetime.fromtimestamp(ts, timezone.utc)
    return f"{d.day:02d}/{MONTHS[d.month - 1]}/{d.year}:{d.hour:02d}:{d.minute:02d}:{d.second:02d} +0000"


def uid():
    return str(uuid.UUID(int=R.getrandbits(128), version=4))


# ---------------------------------------------------------------- networks
def pool(prefixes, n):
    out = set()
    while len(out) < n:
        p = R.choice(prefixes)
        parts = p.split(".")
        while len(parts) < 4:
            parts.append(str(R.randint(1, 254)))
        out.add(".".join(parts))
    return sorted(out)


# carrier-grade NAT public pools (few addresses, many users); drawn by build_networks()
CARRIERS = {}
CARRIER_W = [("tmobile", 0.34), ("verizon", 0.38), ("att", 0.28)]
# /16s checked with `python -m model.network` to read as US, not hosting (random /8s landed in AWS/Alibaba/Canada)
RESI_PREFIXES = [
    "73.0",
    "73.8",
    "73.16",
    "73.24",
    "73.32",
    "73.40",
    "73.48",
    "73.56",
    "73.64",
    "73.72",
    "73.80",
    "73.88",
    "73.96",
    "73.104",
    "73.112",
    "73.120",
    "73.128",
    "73.136",
    "73.144",
    "73.152",
    "73.160",
    "73.168",
    "73.176",
    "73.184",
    "73.192",
    "73.200",
    "73.208",
    "73.216",
    "73.224",
    "73.232",
    "73.240",
    "73.248",
    "71.56",
    "71.57",
    "71.58",
    "71.59",
    "71.60",
    "71.193",
    "71.194",
    "71.195",
    "71.196",
    "71.197",
    "71.198",
    "71.199",
    "71.200",
    "71.201",
    "71.202",
    "71.203",
    "71.204",
    "24.1",
    "24.2",
    "24.3",
    "24.4",
    "24.5",
    "24.6",
    "24.7",
    "24.8",
    "24.9",
    "24.10",
    "24.11",
    "24.12",
    "24.13",
    "24.14",
    "24.15",
    "24.16",
    "24.17",
    "24.18",
    "24.20",
    "24.21",
    "24.22",
    "24.23",
    "98.192",
    "98.196",
    "98.200",
    "98.204",
    "98.208",
    "98.212",
    "98.216",
    "98.220",
    "98.224",
    "98.228",
    "98.232",
    "98.236",
    "98.240",
    "98.244",
    "98.248",
    "98.252",
    "76.16",
    "76.24",
    "76.32",
    "76.80",
    "76.88",
    "76.96",
    "76.104",
    "76.112",
    "76.120",
    "68.32",
    "68.36",
    "68.40",
    "68.44",
    "68.48",
    "68.52",
    "68.56",
    "68.60",
    "99.0",
    "99.8",
    "99.16",
    "99.24",
    "99.32",
    "99.40",
    "99.48",
    "99.56",
    "99.64",
    "99.72",
    "99.88",
    "99.96",
    "99.104",
    "99.112",
    "99.120",
    "108.4",
    "108.16",
    "108.20",
    "108.24",
    "108.28",
    "108.36",
    "108.44",
    "108.48",
    "108.52",
    "108.56",
    "70.112",
    "70.120",
    "70.128",
    "70.136",
    "70.160",
    "70.168",
    "70.176",
    "70.184",
    "75.64",
    "75.72",
    "75.80",
    "75.88",
    "75.112",
    "75.120",
    "67.160",
    "67.164",
    "67.168",
    "67.176",
    "67.180",
    "67.184",
    "67.188",
]
OFFICE_POOL = []  # offices: web users at work


def build_networks():
    CARRIERS.update(
        tmobile=pool(["172.58", "172.56", "172.57"], 110),
        verizon=pool(["174.205", "174.210", "174.212"], 140),
        att=pool(["166.205", "107.77", "166.199"], 100),
    )
    OFFICE_POOL[:] = pool(
        [
            "12.0",
            "12.16",
            "12.32",
            "12.48",
            "12.64",
            "12.80",
            "12.96",
            "12.112",
            "12.128",
            "12.144",
            "63.0",
            "63.16",
            "63.48",
            "63.64",
            "63.80",
            "63.96",
            "63.112",
            "63.128",
        ],
        40,
    )


def resi_ip():
    return f"{R.choice(RESI_PREFIXES)}.{R.randint(0, 255)}.{R.randint(1, 254)}"


def wchoice(pairs):
    x = R.random() * sum(w for _, w in pairs)
    for v, w in pairs:
        x -= w
        if x <= 0:
            return v
    return pairs[-1][0]


# ---------------------------------------------------------------- clients
IOS_VERSIONS = [("17.4", 0.12), ("17.5", 0.15), ("17.6.1", 0.2), ("18.0.1", 0.18), ("18.1", 0.35)]
ANDROID_OKHTTP_OLD = "okhttp/4.11.0"  # app 5.2.x
ANDROID_OKHTTP_NEW = "okhttp/4.12.0"  # app 5.3.0
WEB_UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{c}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{c}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
]
APP_530_RELEASE = T0 + 3 * DAY + 17 * 3600  # Thursday 17:00 UTC: 5.3.0 rollout begins
CHROME_131 = T0 + 4 * DAY + 18 * 3600


class User:
    __slots__ = (
        "sub",
        "platform",
        "ios",
        "scale",
        "update_at",
        "chrome_at",
        "web_ua",
        "home",
        "carrier",
        "tz",
        "rate",
        "push",
        "twofa",
        "created",
        "token_until",
        "signed_in",
        "bg",
    )

    def __init__(self, created):
        self.sub = uid()
        self.platform = wchoice([("ios", 0.52), ("android", 0.36), ("web", 0.12)])
        self.ios = wchoice(IOS_VERSIONS)
        self.scale = R.choice(["3.00", "3.00", "2.00"])
        self.update_at = APP_530_RELEASE + R.expovariate(1 / (1.8 * DAY)) if R.random() < 0.9 else 1e18
        self.chrome_at = CHROME_131 + R.expovariate(1 / (1.0 * DAY))
        self.web_ua = R.choice(WEB_UAS)
        self.home = resi_ip()
        self.carrier = wchoice(CARRIER_W)
        self.tz = wchoice([(-5, 0.47), (-6, 0.29), (-7, 0.07), (-8, 0.17)])
        self.rate = min(8.0, R.paretovariate(1.6) * 0.45)  # sessions/day, heavy tailed
        self.push = R.random() < 0.6
        self.twofa = R.random() < 0.1
        self.created = created
        self.token_until = 0
        self.signed_in = True
        self.bg = R.random() < 0.7 and self.platform != "web"

    def ua(self, ts):
        new = ts >= self.update_at
        if self.platform == "ios":
            ver = "5.3.0" if new else "5.2.1"
            return f"MyShop/{ver} (iPhone; iOS {self.ios}; Scale/{self.scale})"
        if self.platform == "android":
            return ANDROID_OKHTTP_NEW if new else ANDROID_OKHTTP_OLD
        return self.web_ua.format(c=131 if ts >= self.chrome_at else 130)

    def net(self, mobile_share=0.55):
        if self.platform == "web":
            return self.home if R.random() < 0.7 else R.choice(OFFICE_POOL)
        if R.random() < mobile_share:
            return R.choice(CARRIERS[self.carrier])
        return self.home


# ---------------------------------------------------------------- log
EVENTS = []  # (ts, seq, record, label)
SEQ = [0]

RESOURCES = {}


def emit(ts, method, resource, path, status, ua, ip, sub=None, label=None, length=None):
    if length is None:
        length = 0 if method == "DELETE" else int(R.lognormvariate(6.5, 1.0)) if status < 300 else R.randint(40, 140)
    rec = {
        "requestId": uid(),
        "ip": ip,
        "requestTime": clf(ts),
        "httpMethod": method,
        "resourcePath": resource,
        "path": STAGE + path,
        "status": str(status),
        "protocol": "HTTP/1.1",
        "responseLength": str(length),
        "userAgent": ua,
        "sub": sub or "-",
    }
    SEQ[0] += 1
    EVENTS.append((ts, SEQ[0], rec, label))


def product_id():
    # popularity: a head of popular products, a long tail
    if R.random() < 0.6:
        return 10000 + min(19999, int((R.paretovariate(1.1) - 1) * 40))
    return R.randint(10000, 29999)


def think():
    return max(0.8, R.lognormvariate(math.log(11), 0.9))


def app_session(u, t, ip=None, push=False):
    """An app (or web) session; returns end time."""
    ip = ip or u.net()
    ua = u.ua(t)
    s = u.sub
    # public config on open
    if u.platform != "web" or R.random() < 0.5:
        emit(t, "GET", "/v1/config", "/v1/config", 200, ua, ip)
        t += R.uniform(0.05, 0.4)
    # a login now and then (new phone, signed out, refresh token expired)
    if not u.signed_in or R.random() < (0.02 if u.platform != "web" else 0.12):
        if R.random() < 0.08:
            emit(t, "POST", "/v1/auth/login", "/v1/auth/login", 401, ua, ip)
            t += R.uniform(4, 20)
            if R.random() < 0.15:
                emit(t, "POST", "/v1/auth/login", "/v1/auth/login", 401, ua, ip)
                t += R.uniform(4, 25)
        emit(t, "POST", "/v1/auth/login", "/v1/auth/login", 200, ua, ip)
        t += R.uniform(0.3, 2)
        if u.twofa:
            emit(t, "POST", "/v1/auth/otp", "/v1/auth/otp", 200, ua, ip)
            t += R.uniform(8, 40)
            if R.random() < 0.07:  # mistyped code
                emit(t, "POST", "/v1/auth/otp/verify", "/v1/auth/otp/verify", 400, ua, ip)
                t += R.uniform(5, 20)
            emit(t, "POST", "/v1/auth/otp/verify", "/v1/auth/otp/verify", 200, ua, ip)
            t += R.uniform(0.3, 1)
        u.signed_in = True
        u.token_until = t + 900
    elif t > u.token_until:
        emit(t, "POST", "/v1/auth/refresh", "/v1/auth/refresh", 200, ua, ip)
        u.token_until = t + 900
        t += R.uniform(0.1, 0.5)
    emit(t, "GET", "/v1/me", "/v1/me", 200, ua, ip, s)
    t += R.uniform(0.05, 0.3)
    emit(t, "GET", "/v1/home", "/v1/home", 200, ua, ip, s)
    t += R.uniform(0.05, 0.3)
    emit(t, "GET", "/v1/notifications/unread-count", "/v1/notifications/unread-count", 200, ua, ip, s)
    if R.random() < 0.04:
        t += R.uniform(0.1, 0.5)
        emit(t, "POST", "/v1/devices/push-token", "/v1/devices/push-token", 204, ua, ip, s)
    n = 1 + int(R.expovariate(1 / (5 if push else 8)))
    cart = 0
    for _ in range(n):
        t += think()
        if t > u.token_until:
            emit(t, "POST", "/v1/auth/refresh", "/v1/auth/refresh", 200, ua, ip)
            u.token_until = t + 900
            t += R.uniform(0.1, 0.5)
        a = R.random()
        if a < 0.42:
            pid = product_id()
            emit(t, "GET", "/v1/products/{id}", f"/v1/products/{pid}", 200 if R.random() > 0.003 else 404, ua, ip, s)
            if R.random() < 0.35:
                t += R.uniform(0.1, 0.6)
                emit(t, "GET", "/v1/products/{id}/reviews", f"/v1/products/{pid}/reviews", 200, ua, ip, s)
            if R.random() < 0.25:
                t += R.uniform(0.1, 0.6)
                emit(
                    t, "GET", "/v1/products/{id}/recommendations", f"/v1/products/{pid}/recommendations", 200, ua, ip, s
                )
        elif a < 0.60:
            cid = R.randint(1, 60)
            emit(t, "GET", "/v1/categories/{id}/products", f"/v1/categories/{cid}/products", 200, ua, ip, s)
        elif a < 0.73:
            emit(t, "GET", "/v1/search", "/v1/search", 200, ua, ip, s)
        elif a < 0.82:
            emit(t, "POST", "/v1/cart/items", "/v1/cart/items", 201, ua, ip, s)
            cart += 1
        elif a < 0.87:
            emit(t, "GET", "/v1/cart", "/v1/cart", 200, ua, ip, s)
        elif a < 0.91:
            emit(t, "POST", "/v1/wishlist/items", "/v1/wishlist/items", 201, ua, ip, s)
        elif a < 0.95:
            emit(t, "GET", "/v1/orders", "/v1/orders", 200, ua, ip, s)
        else:
            oid = R.randint(100000, 999999)
            emit(t, "GET", "/v1/orders/{id}", f"/v1/orders/{oid}", 200, ua, ip, s)
        if a < 0.05 and R.random() < 0.5:
            t += R.uniform(0.5, 3)
            emit(t, "GET", "/v1/products/{id}", f"/v1/products/{R.randint(10000, 29999)}", 500, ua, ip, s)
    if cart and R.random() < 0.35:
        t += think()
        emit(t, "GET", "/v1/cart", "/v1/cart", 200, ua, ip, s)
        t += think()
        emit(t, "GET", "/v1/payments/methods", "/v1/payments/methods", 200, ua, ip, s)
        if R.random() < 0.07:  # a customer adds a new card; sometimes declined
            t += R.uniform(20, 60)
            ok = R.random() > 0.12
            emit(t, "POST", "/v1/payments/methods", "/v1/payments/methods", 201 if ok else 402, ua, ip, s)
            if not ok:
                t += R.uniform(20, 60)
                emit(t, "POST", "/v1/payments/methods", "/v1/payments/methods", 201, ua, ip, s)
        t += R.uniform(3, 20)
        declined = R.random() < 0.025
        emit(t, "POST", "/v1/orders", "/v1/orders", 402 if declined else 201, ua, ip, s)
        if declined:
            t += R.uniform(15, 60)
            emit(t, "POST", "/v1/orders", "/v1/orders", 201, ua, ip, s)
    if u.platform == "web" and R.random() < 0.05:
        t += think()
        emit(t, "POST", "/v1/auth/logout", "/v1/auth/logout", 204, ua, ip, s)
        u.signed_in = False
    return t


def background_sync(u, t):
    ip = u.net(mobile_share=0.35)
    ua = u.ua(t)
    if t > u.token_until:
        emit(t, "POST", "/v1/auth/refresh", "/v1/auth/refresh", 200, ua, ip)
        u.token_until = t + 900
        t += R.uniform(0.1, 0.4)
    emit(t, "GET", "/v1/sync", "/v1/sync", 200, ua, ip, u.sub)
    if R.random() < 0.3:
        emit(
            t + R.uniform(0.1, 0.5),
            "GET",
            "/v1/notifications/unread-count",
            "/v1/notifications/unread-count",
            200,
            ua,
            ip,
            u.sub,
        )


def signup(u, t, label=None, ip=None, ua=None, then_browse=True):
    ip = ip or u.net()
    ua = ua or u.ua(t)
    emit(t, "GET", "/v1/config", "/v1/config", 200, ua, ip, label=label)
    t += R.uniform(20, 120)
    emit(t, "POST", "/v1/auth/signup", "/v1/auth/signup", 201, ua, ip, label=label)
    t += R.uniform(0.5, 3)
    emit(t, "POST", "/v1/auth/otp", "/v1/auth/otp", 200, ua, ip, label=label)
    t += R.uniform(10, 45) if label is None else R.uniform(2, 6)
    if label is None and R.random() < 0.07:  # mistyped code
        emit(t, "POST", "/v1/auth/otp/verify", "/v1/auth/otp/verify", 400, ua, ip)
        t += R.uniform(5, 20)
    emit(t, "POST", "/v1/auth/otp/verify", "/v1/auth/otp/verify", 200, ua, ip, label=label)
    u.token_until = t + 900
    t += R.uniform(0.3, 1)
    emit(t, "GET", "/v1/me", "/v1/me", 200, ua, ip, u.sub, label=label)
    if then_browse:
        t = app_session(u, t + think(), ip=ip)
    return t


# local-hour activity curve (quiet 1-6, peak 19-21)
HOURLY = [
    0.25,
    0.12,
    0.07,
    0.05,
    0.05,
    0.08,
    0.3,
    0.6,
    0.8,
    0.85,
    0.9,
    0.95,
    1.1,
    1.0,
    0.9,
    0.9,
    0.95,
    1.1,
    1.3,
    1.5,
    1.55,
    1.4,
    1.0,
    0.55,
]
HW = sum(HOURLY)


def local_time_of_day():
    x = R.random() * HW
    for h, w in enumerate(HOURLY):
        x -= w
        if x <= 0:
            return h * 3600 + R.random() * 3600
    return 23 * 3600


def simulate_normal():
    users = [User(T0 - R.randint(30, 700) * DAY) for _ in range(N_USERS)]
    for day in range(-1, DAYS):  # day -1 so that the first UTC hours are not empty; clipped at write
        day0 = T0 + day * DAY
        dow = (START + timedelta(days=day)).weekday()
        wk = 0.85 if dow >= 5 else 1.0
        # newcomers
        for _ in range(int(R.gauss(SIGNUPS_PER_DAY, 8))):
            u = User(0)
            t = day0 + local_time_of_day() - u.tz * 3600
            u.created = t
            signup(u, t)
            users.append(u)
        for u in users:
            if u.created > day0 + DAY:
                continue
            n = R.random()
            k = 0
            lam = u.rate * wk
            # Poisson draw
            L, p = math.exp(-lam), 1.0
            while True:
                p *= R.random()
                if p <= L:
                    break
                k += 1
            starts = sorted(day0 + local_time_of_day() - u.tz * 3600 for _ in range(k))
            last_end = 0
            for t in starts:
                if t < u.created + 60 or t < last_end + 60:
                    continue
                last_end = app_session(u, t)
            if u.bg:
                for _ in range(R.choice([1, 1, 2, 2, 3])):
                    t = day0 + R.random() * DAY
                    if t > u.created:
                        background_sync(u, t)
        # 18:00 Eastern push campaign (23:00 UTC): many opens in the same minute
        push_t = day0 + 23 * 3600
        for u in users:
            if u.platform == "web" or not u.push or u.created > push_t:
                continue
            if R.random() < 0.16:
                d = R.expovariate(1 / 45) if R.random() < 0.6 else R.expovariate(1 / 600)
                app_session(u, push_t + R.uniform(2, 8) + d, push=True)
    return users


# ---------------------------------------------------------------- attacks (test days only)
EPISODES = []


def episode(name, start):
    EPISODES.append({"scenario": name, "start": start})
    return name


def credential_stuffing(users):
    name = episode("credential_stuffing", T0 + 7 * DAY + 2 * 3600 + 600)  # Mon 9 Nov 02:10 UTC
    t = EPISODES[-1]["start"]
    countries = ["81.", "82.", "86.", "90.", "92.", "2.", "5.", "151.", "177.", "187.", "189.", "201.", "41.", "105."]
    ips_used = set()
    cur_ip, left = None, 0
    for i in range(2400):
        t += R.expovariate(0.27)
        if left <= 0:
            cur_ip = (
                resi_ip()
                if R.random() < 0.7
                else f"{R.choice(countries)}{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}".replace(
                    "..", "."
                )
            )
            left = R.choice([1, 1, 1, 2, 2, 3])
            ua = f"MyShop/{R.choice(['5.2.1', '5.3.0'])} (iPhone; iOS {wchoice(IOS_VERSIONS)}; Scale/3.00)"
        left -= 1
        ips_used.add(cur_ip)
        if R.random() < 0.035:
            emit(t, "POST", "/v1/auth/login", "/v1/auth/login", 200, ua, cur_ip, label=name)
            victim = R.choice(users[:N_USERS])
            emit(t + R.uniform(0.4, 1.5), "GET", "/v1/me", "/v1/me", 200, ua, cur_ip, victim.sub, label=name)
            emit(
                t + R.uniform(1.6, 3),
                "GET",
                "/v1/payments/methods",
                "/v1/payments/methods",
                200,
                ua,
                cur_ip,
                victim.sub,
                label=name,
            )
        else:
            emit(t, "POST", "/v1/auth/login", "/v1/auth/login", 401, ua, cur_ip, label=name)
    EPISODES[-1].update(end=t, ips=len(ips_used))


def account_takeover(users):
    name = episode("account_takeover", T0 + 7 * DAY + 14 * 3600 + 1200)
    t = EPISODES[-1]["start"]
    victim = next(u for u in users[:N_USERS] if u.platform == "ios" and u.rate > 1.5)
    ip = "113.161.20.5"  # VNPT, Vietnam
    ua = ANDROID_OKHTTP_NEW
    emit(t, "GET", "/v1/config", "/v1/config", 200, ua, ip, label=name)
    t += 2
    emit(t, "POST", "/v1/auth/login", "/v1/auth/login", 200, ua, ip, label=name)
    steps = [
        ("GET", "/v1/me", "/v1/me", 200),
        ("GET", "/v1/orders", "/v1/orders", 200),
        ("GET", "/v1/payments/methods", "/v1/payments/methods", 200),
        ("PATCH", "/v1/me/email", "/v1/me/email", 200),
        ("POST", "/v1/auth/otp", "/v1/auth/otp", 200),
        ("POST", "/v1/me/email/verify", "/v1/me/email/verify", 200),
        ("POST", "/v1/payments/methods", "/v1/payments/methods", 201),
        ("GET", "/v1/products/{id}", "/v1/products/29001", 200),
        ("POST", "/v1/cart/items", "/v1/cart/items", 201),
        ("POST", "/v1/orders", "/v1/orders", 201),
        ("POST", "/v1/orders", "/v1/orders", 201),
    ]
    for m, res, p, st in steps:
        t += R.uniform(6, 40)
        sub = None if res == "/v1/auth/otp" else victim.sub
        emit(t, m, res, p, st, ua, ip, sub, label=name)
    EPISODES[-1].update(end=t, users=[victim.sub], ips=[ip])


def scraping():
    name = episode("api_scraping", T0 + 7 * DAY + 20 * 3600)
    t = EPISODES[-1]["start"]
    bot = User(t)
    ip = "167.99.10.20"  # DigitalOcean
    ua = "MyShop/5.3.0 (iPhone; iOS 18.1; Scale/3.00)"
    t = signup(bot, t - 600, label=name, ip=ip, ua=ua, then_browse=False)
    period = 2.5
    pid = 10000
    end = EPISODES[-1]["start"] + 8 * 3600
    while t < end:
        t += period * R.uniform(0.98, 1.02)
        if t > bot.token_until:
            emit(t, "POST", "/v1/auth/refresh", "/v1/auth/refresh", 200, ua, ip, label=name)
            bot.token_until = t + 900
            t += 0.2
        emit(
            t,
            "GET",
            "/v1/products/{id}",
            f"/v1/products/{pid}",
            200 if R.random() > 0.08 else 404,
            ua,
            ip,
            bot.sub,
            label=name,
        )
        pid += 1
    EPISODES[-1].update(end=t, users=[bot.sub], ips=[ip])


def card_testing():
    name = episode("card_testing", T0 + 8 * DAY + 3 * 3600)
    t = EPISODES[-1]["start"]
    bot = User(t)
    ips = ["45.76.77.249", "45.76.12.9", "45.77.130.4"]  # Vultr
    ua = "okhttp/4.12.0"
    t = signup(bot, t - 420, label=name, ip=ips[0], ua=ua, then_browse=False)
    for i in range(260):
        t += R.uniform(6, 16)
        ip = ips[(i // 40) % 3]
        if t > bot.token_until:
            emit(t, "POST", "/v1/auth/refresh", "/v1/auth/refresh", 200, ua, ip, label=name)
            bot.token_until = t + 900
            t += 0.2
        ok = R.random() < 0.08
        emit(
            t,
            "POST",
            "/v1/payments/methods",
            "/v1/payments/methods",
            201 if ok else 402,
            ua,
            ip,
            bot.sub,
            label=name,
            length=R.randint(60, 120),
        )
        if ok:
            t += R.uniform(1, 3)
            emit(
                t,
                "DELETE",
                "/v1/payments/methods/{id}",
                f"/v1/payments/methods/pm_{R.getrandbits(40):x}",
                204,
                ua,
                ip,
                bot.sub,
                label=name,
            )
    EPISODES[-1].update(end=t, users=[bot.sub], ips=ips)


def sms_pumping():
    name = episode("sms_pumping", T0 + 8 * DAY + 9 * 3600)
    t = EPISODES[-1]["start"]
    ips = [
        f"{R.choice(['102.89', '197.210', '36.68', '113.161', '89.187', '185.220'])}.{R.randint(0, 255)}.{R.randint(1, 254)}"
        for _ in range(380)
    ]
    for i in range(900):
        t += R.expovariate(900 / (3 * 3600))
        ip = R.choice(ips)
        ua = ANDROID_OKHTTP_NEW if R.random() < 0.7 else "MyShop/5.3.0 (iPhone; iOS 18.1; Scale/3.00)"
        emit(t, "POST", "/v1/auth/otp", "/v1/auth/otp", 200 if R.random() > 0.06 else 429, ua, ip, label=name)
    EPISODES[-1].update(end=t, ips=len(set(ips)))


def signup_farm():
    name = episode("signup_bot_farm", T0 + 8 * DAY + 15 * 3600)
    t = EPISODES[-1]["start"]
    ips = [f"{R.choice(['167.99', '45.76', '89.187'])}.{R.randint(0, 255)}.{R.randint(1, 254)}" for _ in range(12)] + [
        resi_ip() for _ in range(13)
    ]
    subs = []
    for i in range(150):
        t += R.uniform(20, 70)
        bot = User(t)
        ip = R.choice(ips)
        ua = f"MyShop/5.3.0 (iPhone; iOS {R.choice(['18.0.1', '18.1'])}; Scale/3.00)"
        tt = signup(bot, t, label=name, ip=ip, ua=ua, then_browse=False)
        emit(
            tt + R.uniform(1, 4),
            "POST",
            "/v1/promotions/redeem",
            "/v1/promotions/redeem",
            200,
            ua,
            ip,
            bot.sub,
            label=name,
        )
        subs.append(bot.sub)
    EPISODES[-1].update(end=t, users=len(subs), ips=len(ips))


def main():
    global N_USERS, SIGNUPS_PER_DAY, OUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="an existing folder")
    parser.add_argument("--seed", type=int, default=66)
    parser.add_argument("--scale", type=float, default=1.0, help="the share of users and sign-ups (default 1)")
    args = parser.parse_args()
    OUT = args.out
    R.seed(args.seed)
    N_USERS = max(100, int(N_USERS * args.scale))
    SIGNUPS_PER_DAY = max(5, int(SIGNUPS_PER_DAY * args.scale))
    build_networks()
    users = simulate_normal()
    credential_stuffing(users)
    account_takeover(users)
    scraping()
    card_testing()
    sms_pumping()
    signup_farm()
    EVENTS.sort(key=lambda e: (e[0], e[1]))
    split = T0 + TRAIN_DAYS * DAY
    n_train = n_test = 0
    lab_lines = {}
    with open(f"{OUT}/train.log", "w") as tr, open(f"{OUT}/test.log", "w") as te, open(f"{OUT}/labels.csv", "w") as lab:
        lab.write("key,label\n")
        for ts, _, rec, label in EVENTS:
            if ts < T0 or ts >= T0 + DAYS * DAY:
                continue
            line = json.dumps(rec, separators=(",", ":")) + "\n"
            if ts < split:
                assert label is None
                tr.write(line)
                n_train += 1
            else:
                te.write(line)
                n_test += 1
                if label:
                    lab.write(f"test.log:{n_test},{label}\n")
                    lab_lines.setdefault(label, []).append(n_test)
    for ep in EPISODES:
        ls = lab_lines.get(ep["scenario"], [])
        ep["lines"] = len(ls)
        ep["first_line"] = ls[0] if ls else None
        ep["start"] = datetime.fromtimestamp(ep["start"], timezone.utc).isoformat()
        ep["end"] = datetime.fromtimestamp(ep["end"], timezone.utc).isoformat()
    subs_train = len({e[2]["sub"] for e in EVENTS if e[0] < split} - {"-"})
    with open(f"{OUT}/episodes.json", "w") as f:
        json.dump(
            {
                "train_lines": n_train,
                "test_lines": n_test,
                "users_total": len(users),
                "signed_in_users_in_train": subs_train,
                "episodes": EPISODES,
            },
            f,
            indent=1,
        )
    print(json.dumps({"train_lines": n_train, "test_lines": n_test, "users": len(users)}), file=sys.stderr)


if __name__ == "__main__":
    main()
