#!/usr/bin/env python3
"""Labelled Amazon API Gateway (REST API, Cognito authorizer) access log of a fintech API,
as exported from CloudWatch Logs: `<ISO timestamp> <JSON message>` per line, in the stage's
access-log format of format.json.  Standard library only, deterministic for --seed.

Writes into --out: train.log (7 days), test.log (3 days), labels.csv (key,label; key = the
entity the backtest keys: the Cognito sub, else `client:` + sha256(ip \\x1f user agent)[:16]),
groups.csv (key,group,label,events_train,events_test) for analysis.
"""

import argparse
import base64
import csv
import hashlib
import json
import math
import os
import random
import uuid
from datetime import UTC, datetime, timedelta

STAGE = "prod"
START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
TRAIN_DAYS, TEST_DAYS = 7, 3
DAY = 86400.0

FORMAT = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "requestTime": "$context.requestTime",
    "requestTimeEpoch": "$context.requestTimeEpoch",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "sub": "$context.authorizer.claims.sub",
    "errorMessage": "$context.error.message",
    "wafStatus": "$context.waf.status",
}

# ---------------------------------------------------------------- addresses
UK_HOME = [
    "86.150",
    "86.151",
    "86.160",
    "86.170",
    "81.96",
    "81.97",
    "86.12",
    "86.17",
    "90.200",
    "90.210",
    "2.98",
    "2.99",
]
DE_HOME = ["79.193", "79.195", "79.198", "79.199"]
CARRIERS = {  # CGNAT public addresses: a few dozen per carrier, shared by thousands
    "ee": ["213.205.194", "213.205.206", "213.205.224"],
    "o2": ["82.132.201", "82.132.220", "82.132.250"],
    "three": ["92.40.116", "92.40.176", "92.40.190"],
    "vodafone": ["148.252.137", "148.252.186", "148.252.128"],
    "de_telekom": ["80.187.64", "80.187.100"],  # German users' mobile data
}
OFFICES = ["195.224.49", "195.224.120", "195.224.176", "195.224.194"]
PROXY_RESI = [
    "73.15",
    "73.36",
    "73.92",
    "73.130",
    "177.32",
    "177.34",
    "49.36",
    "113.160",
    "113.166",
    "112.198",
    "36.73",
    "187.194",
    "187.199",
    "86.150",
    "81.96",
    "2.98",
    "79.198",
    "90.23",
]

UA_IOS = [
    "Finvo/6142 CFNetwork/1496.0.7 Darwin/23.6.0",
    "Finvo/6142 CFNetwork/1568.100.1 Darwin/24.0.0",
    "Finvo/6142 CFNetwork/1568.200.51 Darwin/24.1.0",
    "Finvo/6139 CFNetwork/1496.0.7 Darwin/23.6.0",
    "Finvo/6139 CFNetwork/1410.1 Darwin/22.6.0",
]
UA_ANDROID = ["okhttp/4.12.0"] * 8 + ["okhttp/4.11.0", "okhttp/4.9.3"]
UA_WEB = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
]
UA_PARTNER_A = "python-requests/2.31.0"
UA_PARTNER_B = "Apache-HttpClient/4.5.14 (Java/17.0.9)"
UA_MONITOR = "CloudWatchSynthetics/arn:aws:synthetics:eu-west-2:123456789012:canary:prod-api-smoke"


def client_key(ip, ua):
    return "client:" + hashlib.sha256((ip + "\x1f" + ua).encode("utf-8")).hexdigest()[:16]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.events = []  # (t_seconds_from_START, record dict, group, label)
        self.preflighted = {}

    # --- helpers
    def ip_in(self, prefix):
        parts = prefix.split(".")
        while len(parts) < 3:
            parts.append(str(self.r.randint(0, 255)))
        return ".".join(parts + [str(self.r.randint(1, 254))])

    def uid(self):
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def emit(self, t, method, resource, path, status, ip, ua, sub, group, label, length=None):
        r = self.r
        base = {"GET": 40, "POST": 90, "OPTIONS": 8}[method]
        if status >= 500:
            lat = r.randint(29000, 29050) if r.random() < 0.3 else r.randint(20, 200)
        else:
            lat = int(base * math.exp(r.gauss(0, 0.6)))
        if length is None:
            length = {200: r.randint(300, 6000), 201: r.randint(120, 400), 204: 0}.get(status, r.randint(40, 160))
        authz = status == 401 and sub == "-" and resource not in ("/auth/login", "/auth/refresh")
        rec = {
            "method": method,
            "resource": resource,
            "path": path,
            "status": status,
            "ip": ip,
            "ua": ua,
            "sub": sub,
            "lat": lat,
            "ilat": "-" if authz else max(1, lat - r.randint(3, 15)),
            "len": length,
            "err": "Unauthorized" if authz else ("-" if status < 400 else ("Forbidden" if status == 403 else "-")),
        }
        self.events.append((t, rec, group, label))
        # a browser calling the API cross-origin with an Authorization header sends a CORS
        # preflight first (cached per URL for Access-Control-Max-Age, 600 s, within a visit)
        if group == "web" and method != "OPTIONS":
            seen = self.preflighted.setdefault((ip, ua), {})
            if seen.get(path, -1e9) < t - 600:
                seen[path] = t
                pre = t - r.uniform(0.02, 0.08)
                self.events.append(
                    (
                        pre,
                        {
                            "method": "OPTIONS",
                            "resource": resource,
                            "path": path,
                            "status": 200,
                            "ip": ip,
                            "ua": ua,
                            "sub": "-",
                            "lat": r.randint(2, 12),
                            "ilat": r.randint(1, 3),
                            "len": 0,
                            "err": "-",
                        },
                        group,
                        label,
                    )
                )

    # --------------------------------------------------------------- people
    def make_users(self, n, first_day=None):
        users = []
        for _ in range(n):
            u = self.user(first_day)
            users.append(u)
        return users

    def user(self, signup_day=None):
        r = self.r
        p = r.random()
        plat = "ios" if p < 0.52 else ("android" if p < 0.88 else "web")
        de = r.random() < 0.06
        u = {
            "sub": self.uid(),
            "plat": plat,
            "ua": r.choice(UA_IOS if plat == "ios" else UA_ANDROID if plat == "android" else UA_WEB),
            "home": self.ip_in(r.choice(DE_HOME if de else UK_HOME)),
            "carrier": "de_telekom" if de else r.choice(["ee", "o2", "three", "vodafone"]),
            "office": self.ip_in(r.choice(OFFICES)) if plat == "web" and r.random() < 0.4 else None,
            "wifi": r.random() * 0.8 + 0.1,
            "rate": min(6.0, 0.12 * (r.paretovariate(1.6))),  # sessions a day
            "accounts": [r.randint(10000000, 10999999) for _ in range(r.choice([1, 1, 2, 2, 3]))],
            "cards": ["crd_" + "%012x" % r.getrandbits(48) for _ in range(r.choice([1, 1, 2]))],
            "signup": signup_day,
            "tz": 1.0 if de else 0.0,
            "second_web": r.random() < 0.12 and plat != "web",
            "web_ua": r.choice(UA_WEB),
        }
        return u

    def carrier_ip(self, carrier):
        # a CGNAT pool: 12 addresses per /24 used
        pre = self.r.choice(CARRIERS[carrier])
        return pre + "." + str(self.r.choice([11, 23, 37, 45, 58, 66, 79, 90, 102, 131, 166, 201]))

    def session(self, u, t, first=False, group=None, label="normal", ip=None, ua=None, plat=None):
        r = self.r
        plat = plat or u["plat"]
        ua = ua or u["ua"]
        if ip is None:
            if plat == "web":
                ip = u["office"] if (u["office"] and r.random() < 0.6) else u["home"]
            else:
                ip = u["home"] if r.random() < u["wifi"] else self.carrier_ip(u["carrier"])
        group = group or plat
        sub = u["sub"]
        P = "/" + STAGE

        def think(med=9.0):
            return max(0.4, med * math.exp(r.gauss(0, 1.0)))

        # authentication
        if first:
            self.emit(t, "POST", "/auth/signup", P + "/auth/signup", 201, ip, ua, "-", group, label)
            t += think(40)
            self.emit(t, "POST", "/auth/login", P + "/auth/login", 200, ip, ua, "-", group, label)
        else:
            full_login = r.random() < (0.45 if plat == "web" else 0.12)
            if full_login:
                if r.random() < 0.07:
                    for _ in range(r.choice([1, 1, 2])):
                        self.emit(t, "POST", "/auth/login", P + "/auth/login", 401, ip, ua, "-", group, label)
                        t += think(8)
                self.emit(t, "POST", "/auth/login", P + "/auth/login", 200, ip, ua, "-", group, label)
            else:
                if r.random() < 0.03:  # expired token first
                    self.emit(t, "GET", "/accounts", P + "/accounts", 401, ip, ua, "-", group, label)
                    t += r.uniform(0.1, 0.5)
                self.emit(t, "POST", "/auth/refresh", P + "/auth/refresh", 200, ip, ua, "-", group, label)
        t += r.uniform(0.15, 0.8)
        # home screen: accounts + transactions of the first account (parallel calls)
        self.emit(t, "GET", "/accounts", P + "/accounts", 200, ip, ua, sub, group, label)
        acc = u["accounts"][0]
        t2 = t + r.uniform(0.05, 0.4)
        self.emit(
            t2,
            "GET",
            "/accounts/{id}/transactions",
            P + "/accounts/%d/transactions" % acc,
            200,
            ip,
            ua,
            sub,
            group,
            label,
        )
        if r.random() < 0.3:  # public, no authorizer: no sub even for a logged-in user
            self.emit(t + r.uniform(0.05, 0.4), "GET", "/fx/rates", P + "/fx/rates", 200, ip, ua, "-", group, label)
        t = t2
        n = max(0, int(r.expovariate(1 / 3.0)))
        for _ in range(n):
            t += think()
            x = r.random()
            if x < 0.40:
                a = r.choice(u["accounts"])
                self.emit(
                    t,
                    "GET",
                    "/accounts/{id}/transactions",
                    P + "/accounts/%d/transactions" % a,
                    200,
                    ip,
                    ua,
                    sub,
                    group,
                    label,
                )
            elif x < 0.52:
                a = r.choice(u["accounts"])
                self.emit(t, "GET", "/accounts/{id}", P + "/accounts/%d" % a, 200, ip, ua, sub, group, label)
            elif x < 0.62:
                self.emit(t, "GET", "/accounts", P + "/accounts", 200, ip, ua, sub, group, label)
            elif x < 0.74:
                self.emit(t, "GET", "/fx/rates", P + "/fx/rates", 200, ip, ua, "-", group, label)
            elif x < 0.86:
                self.emit(t, "GET", "/payees", P + "/payees", 200, ip, ua, sub, group, label)
                if r.random() < 0.5:
                    t += think(12)
                    self.emit(
                        t,
                        "POST",
                        "/transfers",
                        P + "/transfers",
                        r.choice([201] * 19 + [422]),
                        ip,
                        ua,
                        sub,
                        group,
                        label,
                    )
            elif x < 0.91:
                self.emit(t, "GET", "/payees", P + "/payees", 200, ip, ua, sub, group, label)
                t += think(30)
                self.emit(t, "POST", "/payees", P + "/payees", r.choice([201] * 9 + [400]), ip, ua, sub, group, label)
                t += think(10)
                self.emit(t, "POST", "/transfers", P + "/transfers", 201, ip, ua, sub, group, label)
            elif x < 0.93:
                c = r.choice(u["cards"])
                self.emit(
                    t,
                    "POST",
                    "/cards/{id}/verify",
                    P + "/cards/%s/verify" % c,
                    r.choice([200] * 12 + [402]),
                    ip,
                    ua,
                    sub,
                    group,
                    label,
                )
            elif x < 0.995:
                self.emit(
                    t,
                    "GET",
                    "/accounts/{id}/transactions",
                    P + "/accounts/%d/transactions" % acc,
                    200,
                    ip,
                    ua,
                    sub,
                    group,
                    label,
                )
            else:
                self.emit(
                    t,
                    "GET",
                    "/accounts/{id}/transactions",
                    P + "/accounts/%d/transactions" % acc,
                    502,
                    ip,
                    ua,
                    sub,
                    group,
                    label,
                )
        return t

    def diurnal(self, hour):
        # UK local, quiet 1-6, peaks at lunch and evening
        return [
            0.25,
            0.12,
            0.07,
            0.05,
            0.05,
            0.08,
            0.25,
            0.6,
            0.9,
            0.85,
            0.8,
            0.85,
            1.0,
            0.95,
            0.8,
            0.75,
            0.8,
            0.9,
            1.0,
            1.05,
            1.0,
            0.9,
            0.7,
            0.45,
        ][int(hour) % 24]

    def people(self, n_users, days, signups_per_day):
        r = self.r
        users = self.make_users(n_users)
        for d in range(days):
            # newcomers
            for _ in range(int(r.gauss(signups_per_day, signups_per_day**0.5))):
                u = self.user(d)
                while True:
                    t = d * DAY + r.uniform(0, DAY)
                    if r.random() < self.diurnal((t % DAY) / 3600):
                        break
                self.session(u, t, first=True)
                users.append(u)
            for u in users:
                if u["signup"] == d:
                    continue
                wk = 0.85 if (START + timedelta(days=d)).weekday() >= 5 else 1.0
                k = self.poisson(u["rate"] * wk)
                for _ in range(k):
                    while True:
                        t = d * DAY + r.uniform(0, DAY)
                        if r.random() < self.diurnal((t % DAY) / 3600 + u["tz"]):
                            break
                    if u["second_web"] and r.random() < 0.25:
                        self.session(u, t, ip=u["home"], ua=u["web_ua"], plat="web", group="web")
                    else:
                        self.session(u, t)
        return users

    def poisson(self, lam):
        L, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.r.random()
            if p <= L:
                return k
            k += 1

    # ----------------------------------------------------- machine clients
    def partners(self, days):
        r = self.r
        P = "/" + STAGE
        # partner A: accounting integration, python-requests, every 30 min syncs linked accounts
        subA = "5t2n8k0q4m1r7v3c9x6b2z4w8p"
        ipA = ["18.130.68.44", "18.130.85.234"]
        linked = [r.randint(10000000, 10999999) for _ in range(14)]
        t = 37.0
        while t < days * DAY:
            ip = r.choice(ipA)
            self.emit(t, "GET", "/accounts", P + "/accounts", 200, ip, UA_PARTNER_A, subA, "partner_a", "normal")
            tt = t
            for a in linked:
                tt += r.uniform(0.15, 0.4)
                self.emit(
                    tt,
                    "GET",
                    "/accounts/{id}/transactions",
                    P + "/accounts/%d/transactions" % a,
                    200 if r.random() > 0.003 else 504,
                    ip,
                    UA_PARTNER_A,
                    subA,
                    "partner_a",
                    "normal",
                )
            t += 1800 + r.uniform(-3, 3)
        # partner B: payroll provider, Java; fx every 10 min, payroll batch at 02:00 UTC weekdays
        subB = "7d1f3h5j7l9n1p3r5t7v9x1z3b"
        ipB = "34.89.58.75"
        t = 120.0
        while t < days * DAY:
            self.emit(t, "GET", "/fx/rates", P + "/fx/rates", 200, ipB, UA_PARTNER_B, "-", "partner_b", "normal")
            t += 600 + r.uniform(-1, 1)
        for d in range(days):
            if (START + timedelta(days=d)).weekday() >= 5:
                continue
            t = d * DAY + 2 * 3600 + r.uniform(0, 20)
            self.emit(t, "GET", "/payees", P + "/payees", 200, ipB, UA_PARTNER_B, subB, "partner_b", "normal")
            for _ in range(r.randint(30, 60)):
                t += r.uniform(0.3, 0.9)
                self.emit(
                    t, "POST", "/transfers", P + "/transfers", 201, ipB, UA_PARTNER_B, subB, "partner_b", "normal"
                )

    def monitor(self, days):
        r = self.r
        P = "/" + STAGE
        sub = "0b9e6c1a-4f0e-4d2b-9a51-7c3e2f8d1a60"  # the canary's test user
        ip = "18.130.109.69"
        t = 15.0
        while t < days * DAY:
            self.emit(t, "POST", "/auth/login", P + "/auth/login", 200, ip, UA_MONITOR, "-", "monitor", "normal")
            self.emit(
                t + r.uniform(0.3, 0.6),
                "GET",
                "/accounts",
                P + "/accounts",
                200,
                ip,
                UA_MONITOR,
                sub,
                "monitor",
                "normal",
            )
            self.emit(
                t + r.uniform(0.7, 1.0),
                "GET",
                "/fx/rates",
                P + "/fx/rates",
                200,
                ip,
                UA_MONITOR,
                "-",
                "monitor",
                "normal",
            )
            t += 300 + r.uniform(-0.5, 0.5)

    # ------------------------------------------------------------- attacks
    def stuffing(self, t, attempts, users, ato=0):
        """Residential proxies, a new address and agent every 1-2 attempts; `ato` successes
        turned into account takeovers."""
        r = self.r
        P = "/" + STAGE
        taken = []
        i = 0
        victims = r.sample([u for u in users if u["signup"] is None], ato) if ato else []
        success_at = sorted(r.sample(range(attempts // 4, attempts), ato)) if ato else []
        while i < attempts:
            ip = self.ip_in(r.choice(PROXY_RESI))
            ua = r.choice(UA_WEB + UA_ANDROID[:1] + UA_IOS[:2])
            for _ in range(r.choice([1, 1, 2])):
                if i >= attempts:
                    break
                if success_at and i == success_at[0]:
                    success_at.pop(0)
                    v = victims.pop(0)
                    self.emit(
                        t,
                        "POST",
                        "/auth/login",
                        P + "/auth/login",
                        200,
                        ip,
                        ua,
                        "-",
                        "credential_stuffing",
                        "credential_stuffing",
                    )
                    taken.append((t, v))
                else:
                    self.emit(
                        t,
                        "POST",
                        "/auth/login",
                        P + "/auth/login",
                        401,
                        ip,
                        ua,
                        "-",
                        "credential_stuffing",
                        "credential_stuffing",
                    )
                i += 1
                t += r.expovariate(1 / 4.0)  # about 15 attempts a minute over the pool
        for ts, v in taken:
            self.takeover(ts + r.uniform(1800, 6 * 3600), v)
        return t

    def takeover(self, t, v):
        """The attacker, from a new device in another country, logs in and drains the account."""
        r = self.r
        P = "/" + STAGE
        ip = self.ip_in(r.choice(["105.112", "112.198", "95.216", "167.99"]))
        ua = "okhttp/4.9.3" if v["plat"] != "android" else UA_IOS[4]
        sub, g, L = v["sub"], "account_takeover", "account_takeover"
        self.emit(t, "POST", "/auth/login", P + "/auth/login", 200, ip, ua, "-", g, L)
        t += r.uniform(0.3, 1)
        self.emit(t, "GET", "/accounts", P + "/accounts", 200, ip, ua, sub, g, L)
        for a in v["accounts"]:
            t += r.uniform(1, 4)
            self.emit(t, "GET", "/accounts/{id}", P + "/accounts/%d" % a, 200, ip, ua, sub, g, L)
        t += r.uniform(5, 20)
        self.emit(t, "GET", "/payees", P + "/payees", 200, ip, ua, sub, g, L)
        t += r.uniform(10, 40)
        self.emit(t, "POST", "/payees", P + "/payees", 201, ip, ua, sub, g, L)
        for _ in range(r.choice([1, 2, 3])):
            t += r.uniform(5, 30)
            self.emit(t, "POST", "/transfers", P + "/transfers", r.choice([201, 201, 422]), ip, ua, sub, g, L)

    def fx_scraper(self, t, hours, ua, ips):
        r = self.r
        P = "/" + STAGE
        end = t + hours * 3600
        period = r.uniform(2.0, 4.0)
        while t < end:
            ip = r.choice(ips)
            st = 200 if r.random() > 0.02 else 429
            self.emit(t, "GET", "/fx/rates", P + "/fx/rates", st, ip, ua, "-", "fx_scraper", "fx_scraper")
            t += period * r.uniform(0.97, 1.03)

    def card_testing(self, t, n):
        r = self.r
        P = "/" + STAGE
        u = self.user(None)
        u["plat"] = "android"
        ip = self.ip_in(r.choice(["167.99", "95.216"]))
        ua = "okhttp/4.12.0"
        sub = u["sub"]
        self.emit(t, "POST", "/auth/signup", P + "/auth/signup", 201, ip, ua, "-", "card_testing", "card_testing")
        t += r.uniform(5, 20)
        self.emit(t, "POST", "/auth/login", P + "/auth/login", 200, ip, ua, "-", "card_testing", "card_testing")
        t += 1
        self.emit(t, "GET", "/accounts", P + "/accounts", 200, ip, ua, sub, "card_testing", "card_testing")
        done = 0
        while done < n:
            for _ in range(r.randint(5, 15)):
                t += r.uniform(1.5, 5)
                card = "crd_" + "%012x" % r.getrandbits(48)
                st = 402 if r.random() < 0.85 else 200
                self.emit(
                    t,
                    "POST",
                    "/cards/{id}/verify",
                    P + "/cards/%s/verify" % card,
                    st,
                    ip,
                    ua,
                    sub,
                    "card_testing",
                    "card_testing",
                )
                done += 1
            t += r.uniform(120, 900)
        return sub, ip, ua

    def enumeration(self, t, n, ua, ip):
        r = self.r
        P = "/" + STAGE
        u = self.user(None)
        sub = u["sub"]
        self.emit(t, "POST", "/auth/login", P + "/auth/login", 200, ip, ua, "-", "enumeration", "enumeration")
        t += 1
        self.emit(t, "GET", "/accounts", P + "/accounts", 200, ip, ua, sub, "enumeration", "enumeration")
        acc = r.randint(10000000, 10990000)
        for _ in range(n):
            t += r.uniform(0.6, 1.4)
            acc += 1
            st = 403 if r.random() < 0.35 else 404
            self.emit(
                t, "GET", "/accounts/{id}", P + "/accounts/%d" % acc, st, ip, ua, sub, "enumeration", "enumeration"
            )
        return sub


def fmt_time(t):
    dt = START + timedelta(seconds=t)
    return dt.strftime("%d/%b/%Y:%H:%M:%S +0000")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=29)
    ap.add_argument("--out", required=True)
    ap.add_argument("--users", type=int, default=7000)
    ap.add_argument("--signups", type=float, default=120.0, help="new users a day")
    a = ap.parse_args()
    g = Gen(a.seed)
    r = g.r
    days = TRAIN_DAYS + TEST_DAYS
    users = g.people(a.users, days, a.signups)
    g.partners(days)
    g.monitor(days)
    D = DAY
    # training week: a few labelled bots
    g.fx_scraper(2 * D + 10 * 3600, 3, "python-requests/2.28.1", [g.ip_in("167.99")])
    g.card_testing(4 * D + 21 * 3600, 60)
    g.enumeration(5 * D + 3 * 3600, 250, "python-requests/2.31.0", g.ip_in("95.216"))
    g.stuffing(3 * D + 1 * 3600, 150, users)
    # test days
    T0 = TRAIN_DAYS * D
    g.stuffing(T0 + 2 * 3600, 1400, users, ato=4)
    g.stuffing(T0 + D + 13 * 3600, 700, users, ato=2)
    g.fx_scraper(T0 + 9 * 3600, 6, "python-requests/2.31.0", [g.ip_in("167.99"), g.ip_in("167.99")])
    g.fx_scraper(T0 + 2 * D + 14 * 3600, 4, UA_ANDROID[0], [g.ip_in("95.216")])  # spoofs the app
    g.fx_scraper(T0 + D + 1 * 3600, 8, UA_WEB[0], [g.ip_in(p) for p in ("73.15", "177.32", "49.36")])
    for k in range(3):
        g.card_testing(T0 + k * D + r.uniform(3, 20) * 3600, r.randint(40, 120))
    g.enumeration(T0 + 0.6 * D, 400, "python-requests/2.31.0", g.ip_in("167.99"))
    g.enumeration(T0 + 1.8 * D, 300, UA_IOS[0], g.ip_in("95.216"))  # spoofs the iOS app

    os.makedirs(a.out, exist_ok=True)
    # entity keys and labels
    ent = {}  # key -> {group counts, label, train, test}
    lines = {"train": [], "test": []}
    for t, rec, group, label in g.events:
        key = rec["sub"] if rec["sub"] != "-" else client_key(rec["ip"], rec["ua"])
        part = "train" if t < T0 else "test"
        e = ent.setdefault(key, {"groups": {}, "label": "normal", "train": 0, "test": 0})
        e["groups"][group] = e["groups"].get(group, 0) + 1
        e[part] += 1
        if label != "normal":
            e["label"] = label if e["label"] == "normal" else e["label"]
        done = t + rec["lat"] / 1000.0
        ingest = done + r.uniform(0.05, 1.5)
        epoch_ms = int(round((START.timestamp() + t) * 1000))
        req_id = str(uuid.UUID(int=r.getrandbits(128), version=4))
        ext = base64.b64encode(r.getrandbits(96).to_bytes(12, "big")).decode()[:14] + "="
        msg = {
            "requestId": req_id,
            "extendedRequestId": ext,
            "ip": rec["ip"],
            "userAgent": rec["ua"],
            "requestTime": fmt_time(t),
            "requestTimeEpoch": str(epoch_ms),
            "httpMethod": rec["method"],
            "resourcePath": rec["resource"],
            "path": rec["path"],
            "status": str(rec["status"]),
            "protocol": "HTTP/1.1" if rec["ua"].startswith(("python", "Apache")) else "HTTP/2.0",
            "responseLength": str(rec["len"]),
            "responseLatency": str(rec["lat"]),
            "integrationLatency": str(rec["ilat"]),
            "sub": rec["sub"],
            "errorMessage": rec["err"],
            "wafStatus": "-",
        }
        stamp = (START + timedelta(seconds=ingest)).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % int((ingest % 1) * 1000)
        lines[part].append((ingest, stamp + " " + json.dumps(msg, separators=(",", ":"))))
    for part in ("train", "test"):
        lines[part].sort()
        with open(os.path.join(a.out, part + ".log"), "w") as f:
            for _, line in lines[part]:
                f.write(line + "\n")
    keys = sorted(ent)
    with open(os.path.join(a.out, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label"])
        for k in keys:
            w.writerow([k, ent[k]["label"]])
    with open(os.path.join(a.out, "groups.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "group", "label", "events_train", "events_test", "groups"])
        for k in keys:
            e = ent[k]
            top = max(e["groups"].items(), key=lambda kv: (kv[1], kv[0]))[0]
            if e["label"] != "normal":
                top = e["label"]
            w.writerow(
                [
                    k,
                    top,
                    e["label"],
                    e["train"],
                    e["test"],
                    ";".join("%s=%d" % kv for kv in sorted(e["groups"].items())),
                ]
            )
    n_tr, n_te = len(lines["train"]), len(lines["test"])
    print(
        json.dumps(
            {
                "train_lines": n_tr,
                "test_lines": n_te,
                "entities": len(ent),
                "anomalous_entities": sum(1 for e in ent.values() if e["label"] != "normal"),
            }
        )
    )


if __name__ == "__main__":
    main()
