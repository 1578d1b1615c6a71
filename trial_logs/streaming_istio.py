#!/usr/bin/env python3
"""Synthetic Istio ingress-gateway (Envoy) access logs for a video-streaming service.

Deterministic (seeded). Writes, into OUT:
  train.log, test.log   --variant ext (default): Istio's default TEXT access-log format with
                        "%REQ(COOKIE)%" "%REQ(X-USER-ID)%" appended; --variant stock: Istio's default alone
  labels.csv            key,label  with key = test.log:LINE (every attack line)
  labels_entities.csv   session ids / user ids of the attacks (ext variant)
  truth_test.jsonl      per test line: start, client ip, path, status, ua, sid, user, label
"""

import argparse
import csv
import hashlib
import json
import math
import os
import random
import uuid
from datetime import datetime, timedelta, timezone

SEED = 38
T0 = datetime(2026, 11, 2, tzinfo=timezone.utc)  # Monday
TRAIN_DAYS = 14
TEST_DAYS = 7
N_USERS = 700

rng = random.Random(SEED)

# ----------------------------------------------------------------------------- geography
COUNTRIES = {  # weight, utc offset, residential /16s, mobile CGNAT /16s
    "US": (0.55, -5, ["73.12", "73.45", "24.5", "68.40", "68.52", "98.210"], ["172.56", "174.205", "107.77"]),
    "CA": (0.08, -5, ["99.230", "174.115"], ["174.115"]),
    "GB": (0.10, 0, ["86.150", "2.24", "81.2", "176.24"], ["31.94", "92.40"]),
    "DE": (0.07, 1, ["79.200", "91.10", "84.150"], ["80.187"]),
    "MX": (0.08, -6, ["187.190", "187.188"], ["189.203"]),
    "BR": (0.07, -3, ["177.80", "191.250", "186.200"], ["179.240"]),
    "IN": (0.05, 5.5, ["117.200"], ["49.36"]),
}
CC = list(COUNTRIES)
FAR = {
    "NG": ["41.190", "105.112"],
    "VN": ["14.232", "113.160"],
    "RU": ["95.24", "178.140"],
    "ID": ["110.138", "36.72"],
    "PH": ["112.198", "175.176"],
    "AR": ["201.212", "190.30"],
}
HOSTING = ["3.80", "52.20", "167.99", "159.65", "88.198", "95.216", "51.38"]
ALB_NODES = ["10.0.1.17", "10.0.2.91", "10.0.3.44"]
K8S_NODES = ["10.128.0.5", "10.128.0.6", "10.128.0.9"]
GATEWAY_PODS = ["10.44.1.23", "10.44.2.31"]
UPSTREAMS = {
    "api": ("outbound|8080||api.prod.svc.cluster.local", ["10.44.1.27", "10.44.2.12", "10.44.3.8"]),
    "auth": ("outbound|8080||auth.prod.svc.cluster.local", ["10.44.1.30", "10.44.3.19"]),
    "media": ("outbound|8080||media-origin.prod.svc.cluster.local", ["10.44.2.40", "10.44.3.41"]),
    "web": ("outbound|80||web.prod.svc.cluster.local", ["10.44.1.50", "10.44.2.51"]),
    "billing": ("outbound|8080||billing.prod.svc.cluster.local", ["10.44.3.60"]),
}


def ip_in(prefix16):
    return f"{prefix16}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


# carrier CGNAT pools: few addresses, many users each
CGNAT = {cc: [ip_in(p) for p in COUNTRIES[cc][3] for _ in range(12)] for cc in CC}
OFFICES = [
    ("US", "12.34.56.10"),
    ("US", "12.200.17.5"),
    ("US", "12.161.8.99"),
    ("GB", "5.151.20.4"),
    ("DE", "84.150.77.1"),
]

# ----------------------------------------------------------------------------- user agents
CHROME = ["130.0.0.0", "131.0.0.0", "129.0.0.0"]
WEB_UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{c} Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{c} Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{c} Safari/537.36 Edg/{c}",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{c} Safari/537.36",
]
IOS_VERS = [
    ("17_5_1", "17.5.1", "21F90", "1496.0.7", "23.5.0"),
    ("18_1", "18.1", "22B83", "1568.200.51", "24.1.0"),
    ("17_6_1", "17.6.1", "21G93", "1498.700.2", "23.6.0"),
]
ANDROID = [
    ("14", "SM-S918B", "UP1A.231005.007"),
    ("13", "SM-A536B", "TP1A.220624.014"),
    ("14", "Pixel 8", "AP2A.240905.003"),
    ("12", "moto g(60)", "S2RI32.32-20-9"),
    ("13", "M2101K6G", "TKQ1.221013.002"),
]
APP_VER = ["5.14.0", "5.14.1", "5.13.2"]
TV_UAS = [
    ("Roku/DVP-12.5 (12.5.0.4178-C4)", "Roku/DVP-12.5 (12.5.0.4178-C4)"),
    (
        "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.5) AppleWebKit/537.36 (KHTML, like Gecko) 85.0.4183.93/6.5 TV Safari/537.36",
        None,
    ),
    (
        "Streamly/5.14.0 (AppleTV; tvOS 18.1) CFNetwork/1568.200.51 Darwin/24.1.0",
        "AppleCoreMedia/1.0.0.22J580 (Apple TV; U; CPU OS 18_1 like Mac OS X; en_us)",
    ),
    (
        "Streamly/5.14.0 (Linux; Android 11; BRAVIA 4K VH2 Build/RTM6.230109.175)",
        "Streamly/5.14.0 (Linux;Android 11) ExoPlayerLib/2.19.1",
    ),
]


def make_device(kind):
    if kind == "web":
        ua = rng.choice(WEB_UAS).format(c=rng.choice(CHROME))
        return {"kind": "web", "api_ua": ua, "player_ua": ua, "proto": "HTTP/2"}
    if kind == "ios":
        o, ov, build, cfn, dar = rng.choice(IOS_VERS)
        v = rng.choice(APP_VER)
        return {
            "kind": "ios",
            "api_ua": f"Streamly/{v} (com.streamly.ios; build:{v.replace('.', '')}; iOS {ov}) CFNetwork/{cfn} Darwin/{dar}",
            "player_ua": f"AppleCoreMedia/1.0.0.{build} (iPhone; U; CPU OS {o} like Mac OS X; en_us)",
            "proto": "HTTP/2",
        }
    if kind == "android":
        av, model, build = rng.choice(ANDROID)
        v = rng.choice(APP_VER)
        return {
            "kind": "android",
            "api_ua": "okhttp/4.12.0",
            "aux_ua": f"Dalvik/2.1.0 (Linux; U; Android {av}; {model} Build/{build})",
            "player_ua": f"Streamly/{v} (Linux;Android {av}) ExoPlayerLib/2.19.1",
            "proto": "HTTP/2",
        }
    ua, pua = rng.choice(TV_UAS)
    return {"kind": "tv", "api_ua": ua, "player_ua": pua or ua, "proto": "HTTP/1.1"}


# ----------------------------------------------------------------------------- users
class User:
    pass


def new_user(uid, joined=None):
    u = User()
    u.id = uid
    u.cc = rng.choices(CC, [COUNTRIES[c][0] for c in CC])[0]
    u.home_ip = ip_in(rng.choice(COUNTRIES[u.cc][2]))
    u.office = rng.choice([o for o in OFFICES if o[0] == u.cc] or [None]) if rng.random() < 0.15 else None
    kinds = rng.choices(["web", "ios", "android", "tv"], [0.30, 0.22, 0.26, 0.22], k=rng.choice([1, 1, 2, 2, 3]))
    u.devices = [make_device(k) for k in dict.fromkeys(kinds)]
    u.activity = min(6.0, rng.paretovariate(1.6) * 0.22)  # sessions/day
    u.joined = joined
    u.email_hash = hashlib.sha1(uid.encode()).hexdigest()[:8]
    return u


USERS = [new_user(f"usr_{100000 + i}") for i in range(N_USERS)]
CATALOG = 12000
POPULAR = [rng.randint(1000, 1000 + CATALOG) for _ in range(600)]


def title_id():
    if rng.random() < 0.8:
        return POPULAR[min(int(rng.paretovariate(1.1)) - 1, len(POPULAR) - 1)]
    return rng.randint(1000, 1000 + CATALOG)


# ----------------------------------------------------------------------------- records
RECORDS = []  # (end_us, seq, rec)
_seq = [0]


def rid():
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def emit(
    t,
    method,
    path,
    status,
    *,
    ip,
    ua,
    host="www.streamly.example",
    svc="api",
    proto="HTTP/2",
    cookie=None,
    user=None,
    sid=None,
    label=None,
    dur=None,
    bytes_sent=None,
    bytes_recv=0,
    flags="-",
    details=None,
    xff_extra=None,
    direct=False,
):
    if dur is None:
        dur = max(1, int(rng.lognormvariate(math.log(35), 0.6)))
    if bytes_sent is None:
        bytes_sent = rng.randint(200, 9000)
    cluster, hosts = UPSTREAMS[svc]
    gw = rng.choice(GATEWAY_PODS)
    if direct:  # kube-probe / LB health check straight to the gateway pod
        xff = "-"
        remote = ip
        up_host, cluster_s, up_local = "-", "-", "-"
        down_local = f"{gw}:15021"
        sni = "-"
    else:
        alb = rng.choice(ALB_NODES)
        chain = ([xff_extra] if xff_extra else []) + [ip, alb]
        xff = ",".join(chain) if rng.random() < 0.5 else ", ".join(chain)
        remote = alb
        up_host = f"{rng.choice(hosts)}:{8080 if svc != 'web' else 80}"
        cluster_s = cluster
        up_local = f"{gw}:{rng.randint(32768, 60999)}"
        down_local = f"{gw}:8443"
        sni = host
    if details is None:
        details = "downstream_remote_disconnect" if status == 0 else "via_upstream"
    ust = "-" if direct or status == 0 else str(max(0, dur - rng.randint(0, 3)))
    rec = dict(
        start=t,
        method=method,
        path=path,
        proto=proto,
        status=status,
        flags=flags,
        details=details,
        brecv=bytes_recv,
        bsent=bytes_sent,
        dur=dur,
        ust=ust,
        xff=xff,
        ua=ua,
        reqid=rid(),
        authority=host,
        up_host=up_host,
        cluster=cluster_s,
        up_local=up_local,
        down_local=down_local,
        remote=f"{remote}:{rng.randint(1024, 65535)}",
        sni=sni,
        route="-",
        cookie=cookie or "-",
        xuser=user or "-",
        client_ip=ip,
        sid=sid,
        label=label,
    )
    end_us = int(t.timestamp() * 1e6) + dur * 1000
    _seq[0] += 1
    RECORDS.append((end_us, _seq[0], rec))
    return t + timedelta(milliseconds=dur)


def think(t, median=6.0, sigma=0.9):
    return t + timedelta(seconds=rng.lognormvariate(math.log(median), sigma))


def new_sid():
    return "%032x" % rng.getrandbits(128)


# ----------------------------------------------------------------------------- normal sessions
def client_ip(u, dev):
    if dev["kind"] in ("ios", "android") and rng.random() < 0.55:
        return rng.choice(CGNAT[u.cc]), None
    if dev["kind"] == "web" and u.office and rng.random() < 0.5:
        return u.office[1], (f"10.20.{rng.randint(0, 40)}.{rng.randint(2, 250)}" if rng.random() < 0.5 else None)
    return u.home_ip, None


class Ctx:
    """One visit: its client, cookie jar and who is logged in."""

    def __init__(self, u, dev, t, label=None, ip=None, logged_in=True, xff_extra=None):
        self.u, self.dev, self.label = u, dev, label
        if ip is None:
            ip, xff_extra = client_ip(u, dev)
        self.ip, self.xff_extra = ip, xff_extra
        self.web = dev["kind"] == "web"
        self.sid = None
        self.ga = f"GA1.1.{rng.randint(10**8, 10**9)}.{rng.randint(1.7e9, 1.8e9)}"
        self.logged_in = logged_in
        self.t = t

    def cookie(self):
        if not self.web:
            return None
        parts = []
        if self.sid:
            parts.append(f"sid={self.sid}")
        parts += ["consent=1", f"_ga={self.ga}"]
        return "; ".join(parts)

    def req(self, method, path, status=200, *, svc="api", player=False, aux=False, user_known=None, **kw):
        ua = self.dev["player_ua"] if player else (self.dev.get("aux_ua") if aux else self.dev["api_ua"])
        host = "www.streamly.example" if self.web else "api.streamly.example"
        if player and not self.web:
            host = "media.streamly.example"
        if user_known is None:
            user_known = self.logged_in and not (player and not self.web)
        self.t = emit(
            self.t,
            method,
            path,
            status,
            ip=self.ip,
            ua=ua,
            host=host,
            svc=svc,
            proto=self.dev["proto"],
            cookie=self.cookie(),
            user=self.u.id if user_known else None,
            sid=self.sid,
            label=self.label,
            xff_extra=self.xff_extra,
            **kw,
        )
        if self.web and self.sid is None:
            self.sid = new_sid()  # Set-Cookie on the first response
        return self.t

    def wait(self, median=6.0, sigma=0.9):
        self.t = think(self.t, median, sigma)


def login(c, fail_first=0.05):
    path = "/api/v1/auth/login"
    if c.web:
        c.req("GET", "/login", svc="web", user_known=False)
        c.wait(8)
    while rng.random() < fail_first:
        c.req("POST", path, 401, svc="auth", user_known=False, bytes_recv=rng.randint(90, 140), bytes_sent=87)
        c.wait(7)
        fail_first = 0.2
    c.req("POST", path, 200, svc="auth", user_known=False, bytes_recv=rng.randint(90, 140), bytes_sent=612)
    c.logged_in = True


def browse(c, n_titles):
    c.req("GET", "/api/v1/home/rows?profile=1", bytes_sent=rng.randint(20000, 60000))
    tid = title_id()  # "continue watching" row
    for _ in range(n_titles):
        c.wait(9)
        r = rng.random()
        if r < 0.15:
            q = rng.choice(["stranger", "office", "dune", "love", "bake off", "nba", "anime", "crime doc", "kids"])
            c.req("GET", f"/api/v1/search?q={q.replace(' ', '+')}")
            c.wait(4)
        tid = title_id()
        c.req("GET", f"/api/v1/titles/{tid}", 200 if rng.random() > 0.004 else 404)
        if rng.random() < 0.3:
            c.req("GET", f"/api/v1/titles/{tid}/episodes?season=1")
    return tid


def watch(c, tid):
    c.req("POST", "/api/v1/playback/start", 200, bytes_recv=180)
    hls = c.dev["kind"] in ("ios",) or "AppleCoreMedia" in c.dev["player_ua"] or "Roku" in c.dev["player_ua"]
    ext, man = (".ts", "master.m3u8") if hls else (".m4s", "manifest.mpd")
    base = f"/video/t{tid}/"
    c.req(
        "GET",
        base + man + f"?token={rng.getrandbits(64):016x}",
        svc="media",
        player=True,
        bytes_sent=rng.randint(1500, 4000),
    )
    n_seg = max(3, min(50, int(rng.lognormvariate(math.log(8), 0.8))))
    rend = rng.choice(["1080p", "720p", "480p"])
    hb_every = 60.0
    last_hb = c.t
    start_seg = rng.choice([1, 1, 1, rng.randint(2, 300)])
    for i in range(n_seg):
        seg_t = c.t
        ahead = i < 4
        c.req(
            "GET",
            f"{base}{rend}/segment-{start_seg + i}{ext}",
            200,
            svc="media",
            player=True,
            bytes_sent=rng.randint(300_000, 1_800_000),
            dur=rng.randint(40, 900),
        )
        if rng.random() < 0.004:
            # the viewer skipped away: Envoy logs the aborted fetch with status 0
            c.req(
                "GET",
                f"{base}{rend}/segment-{start_seg + i + 1}{ext}",
                0,
                svc="media",
                player=True,
                bytes_sent=rng.randint(10_000, 200_000),
                dur=rng.randint(100, 2000),
                flags="DC",
            )
        c.t = seg_t + timedelta(seconds=(0.3 if ahead else rng.uniform(9.0, 10.5)))
        if (c.t - last_hb).total_seconds() >= hb_every:
            c.req("POST", "/api/v1/playback/heartbeat", 204, bytes_recv=220, bytes_sent=0, dur=rng.randint(5, 25))
            last_hb = c.t
    c.req("POST", "/api/v1/playback/stop", 204, bytes_recv=200, bytes_sent=0)


def normal_session(u, t, label=None):
    dev = rng.choice(u.devices)
    c = Ctx(u, dev, t, label=label, logged_in=True)
    if c.web:
        c.logged_in = rng.random() < 0.8
        c.req("GET", "/", svc="web", bytes_sent=rng.randint(30000, 60000), user_known=False)
        if rng.random() < 0.35:
            for a in ["/static/js/main.8f3a1c.js", "/static/css/app.41d2e.css", "/static/img/logo.svg"][
                : rng.randint(1, 3)
            ]:
                c.req("GET", a, svc="web", bytes_sent=rng.randint(5000, 400000), dur=rng.randint(3, 30))
        c.req("GET", "/api/v1/config")
        if not c.logged_in or rng.random() < 0.08:
            if rng.random() < 0.02:  # forgot password
                c.req("GET", "/password-reset", svc="web", user_known=False)
                c.wait(10)
                c.req("POST", "/api/v1/auth/password-reset", 202, svc="auth", user_known=False)
                c.wait(90, 0.6)
                c.req("POST", "/api/v1/auth/password-reset/confirm", 200, svc="auth", user_known=False)
                c.wait(5)
            login(c)
        c.req("GET", "/api/v1/me")
    else:
        if rng.random() < 0.02:
            c.req("GET", "/api/v1/config", aux=dev["kind"] == "android")
            c.req("POST", "/api/v1/auth/refresh", 200, svc="auth")
        else:
            c.req("GET", "/api/v1/config", aux=dev["kind"] == "android")
        if rng.random() < 0.015:
            c.logged_in = False
            login(c)
        c.req("GET", "/api/v1/me")
    tid = browse(c, rng.choice([0, 1, 1, 2, 2, 3, 4, 6]))
    if rng.random() < 0.015:
        c.wait(10)
        c.req("GET", "/api/v1/account")
        c.req(
            "POST", "/api/v1/subscriptions/checkout", 201 if rng.random() > 0.04 else 402, svc="billing", bytes_recv=400
        )
    if rng.random() < 0.72:
        c.wait(5)
        watch(c, tid)
        if rng.random() < 0.25:  # next episode
            c.wait(8)
            watch(c, tid)


def signup_session(u, t, label=None):
    dev = u.devices[0]
    c = Ctx(u, dev, t, label=label, logged_in=False)
    if c.web:
        c.req("GET", "/", svc="web", user_known=False, bytes_sent=rng.randint(30000, 60000))
        for a in ["/static/js/main.8f3a1c.js", "/static/css/app.41d2e.css"]:
            c.req("GET", a, svc="web", bytes_sent=rng.randint(5000, 400000), dur=rng.randint(3, 30))
        c.req("GET", "/signup", svc="web", user_known=False)
    else:
        c.req("GET", "/api/v1/config", user_known=False)
    c.wait(40, 0.5)
    c.req(
        "POST", "/api/v1/auth/signup", 201 if rng.random() > 0.05 else 409, svc="auth", user_known=False, bytes_recv=300
    )
    c.logged_in = True
    c.wait(60, 0.7)
    c.req("POST", "/api/v1/auth/verify-email", 200, svc="auth")
    c.wait(20)
    c.req("GET", "/api/v1/plans")
    c.wait(45, 0.6)
    c.req("POST", "/api/v1/subscriptions/checkout", 201 if rng.random() > 0.06 else 402, svc="billing", bytes_recv=450)
    tid = browse(c, rng.randint(1, 4))
    if rng.random() < 0.7:
        watch(c, tid)


def local_weight(hour_local):
    h = hour_local % 24
    if 1 <= h < 7:
        return 0.15
    if 18 <= h < 23:
        return 1.8
    if 7 <= h < 12:
        return 0.6
    return 1.0


def normal_traffic(day0, days, start_index):
    """Sessions and sign-ups for `days` days from day0."""
    signup_counter = 0
    for d in range(days):
        day = day0 + timedelta(days=d)
        weekend = day.weekday() >= 5
        for u in list(USERS):
            if u.joined and u.joined > day:
                continue
            lam = u.activity * (1.15 if weekend else 1.0)
            n = poisson(lam)
            for _ in range(n):
                while True:
                    h = rng.random() * 24
                    if rng.random() < local_weight(h + COUNTRIES[u.cc][1]) / 1.8:
                        break
                normal_session(u, day + timedelta(hours=h))
        # new users sign up every day
        for _ in range(poisson(12)):
            signup_counter += 1
            uid = f"usr_{day:%y%m%d}{signup_counter:04d}"
            while True:
                h = rng.random() * 24
                u = new_user(uid, joined=day)
                if rng.random() < local_weight(h + COUNTRIES[u.cc][1]) / 1.8:
                    break
            u.activity = min(3.0, rng.paretovariate(1.6) * 0.22)
            USERS.append(u)
            signup_session(u, day + timedelta(hours=h))
        # health checks: kube-probe on each gateway pod, ALB target health checks
        t = day
        while t < day + timedelta(days=1):
            emit(
                t + timedelta(milliseconds=rng.randint(0, 900)),
                "GET",
                "/healthz/ready",
                200,
                ip=rng.choice(K8S_NODES),
                ua="kube-probe/1.29",
                host=f"{rng.choice(GATEWAY_PODS)}:15021",
                proto="HTTP/1.1",
                direct=True,
                dur=0,
                bytes_sent=0,
            )
            if rng.random() < 0.5:
                emit(
                    t + timedelta(seconds=rng.uniform(0, 60)),
                    "GET",
                    "/healthz/ready",
                    200,
                    ip=rng.choice(ALB_NODES),
                    ua="ELB-HealthChecker/2.0",
                    host=f"{rng.choice(GATEWAY_PODS)}:15021",
                    proto="HTTP/1.1",
                    direct=True,
                    dur=0,
                    bytes_sent=0,
                )
            t += timedelta(seconds=120)
        # synthetic monitoring
        t = day
        while t < day + timedelta(days=1):
            emit(
                t + timedelta(seconds=rng.uniform(0, 5)),
                "GET",
                "/api/v1/health",
                200,
                ip="34.201.17.88",
                ua="Datadog/Synthetics",
                host="api.streamly.example",
                proto="HTTP/1.1",
                dur=rng.randint(3, 12),
            )
            t += timedelta(minutes=5)


def poisson(lam):
    L, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p < L:
            return k
        k += 1


# ----------------------------------------------------------------------------- attacks (test week)
def residential_ip(cc=None):
    if cc is None:
        cc = rng.choice(CC + list(FAR))
    pool = COUNTRIES[cc][2] if cc in COUNTRIES else FAR[cc]
    return ip_in(rng.choice(pool))


def attack_credential_stuffing(start, n, label="credential_stuffing"):
    t = start
    real = [u for u in USERS if not u.joined]
    for i in range(n):
        ip = residential_ip()
        ua = rng.choice(
            [WEB_UAS[0].format(c="124.0.0.0"), WEB_UAS[1].format(c="123.0.0.0"), "okhttp/4.9.2", WEB_UAS[4]]
        )
        for _ in range(rng.choice([1, 1, 2])):
            ok = rng.random() < 0.012
            victim = rng.choice(real) if ok else None
            tt = emit(
                t,
                "POST",
                "/api/v1/auth/login",
                200 if ok else 401,
                ip=ip,
                ua=ua,
                host="api.streamly.example",
                svc="auth",
                proto="HTTP/1.1",
                bytes_recv=rng.randint(90, 140),
                bytes_sent=612 if ok else 87,
                label=label,
            )
            if ok:
                emit(
                    tt + timedelta(milliseconds=300),
                    "GET",
                    "/api/v1/me",
                    200,
                    ip=ip,
                    ua=ua,
                    host="api.streamly.example",
                    proto="HTTP/1.1",
                    user=victim.id,
                    label=label,
                )
                emit(
                    tt + timedelta(milliseconds=900),
                    "GET",
                    "/api/v1/account/payment-methods",
                    200,
                    ip=ip,
                    ua=ua,
                    host="api.streamly.example",
                    proto="HTTP/1.1",
                    user=victim.id,
                    label=label,
                )
            t += timedelta(seconds=rng.expovariate(1 / 4.0))


def attack_account_farming(start, n, label="account_farming"):
    uas = [
        "python-requests/2.31.0",
        "okhttp/4.9.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/122.0.6261.94 Safari/537.36",
    ]
    pool = [ip_in(rng.choice(HOSTING)) for _ in range(40)] + [residential_ip() for _ in range(60)]
    t = start
    for i in range(n):
        ip = rng.choice(pool)
        ua = rng.choice(uas)
        uid = f"usr_{t:%y%m%d}9{i:03d}"
        tt = emit(
            t, "GET", "/api/v1/config", 200, ip=ip, ua=ua, host="api.streamly.example", proto="HTTP/1.1", label=label
        )
        tt = emit(
            tt + timedelta(seconds=rng.uniform(0.5, 1.5)),
            "POST",
            "/api/v1/auth/signup",
            201,
            ip=ip,
            ua=ua,
            host="api.streamly.example",
            svc="auth",
            proto="HTTP/1.1",
            bytes_recv=280,
            label=label,
        )
        tt = emit(
            tt + timedelta(seconds=rng.uniform(2, 6)),
            "POST",
            "/api/v1/auth/verify-email",
            200,
            ip=ip,
            ua=ua,
            host="api.streamly.example",
            svc="auth",
            proto="HTTP/1.1",
            user=uid,
            label=label,
        )
        tt = emit(
            tt + timedelta(seconds=rng.uniform(0.5, 2)),
            "POST",
            "/api/v1/subscriptions/trial",
            201,
            ip=ip,
            ua=ua,
            host="api.streamly.example",
            svc="billing",
            proto="HTTP/1.1",
            user=uid,
            label=label,
        )
        if rng.random() < 0.5:
            emit(
                tt + timedelta(seconds=rng.uniform(0.5, 2)),
                "POST",
                "/api/v1/profiles",
                201,
                ip=ip,
                ua=ua,
                host="api.streamly.example",
                proto="HTTP/1.1",
                user=uid,
                label=label,
            )
        t += timedelta(seconds=rng.expovariate(1 / 12.0))


def attack_scraper(start, hours, label="catalog_scraper"):
    ip = ip_in("167.99")
    ua = WEB_UAS[0].format(c="131.0.0.0")
    sid = new_sid()
    cookie = f"sid={sid}; consent=1"
    t = start
    tid = 1000
    end = start + timedelta(hours=hours)
    emit(t, "GET", "/", 200, ip=ip, ua=ua, svc="web", cookie="consent=1", label=label, sid=None)
    while t < end:
        t += timedelta(seconds=rng.uniform(7, 14))
        st = 200 if rng.random() > 0.07 else 404
        emit(t, "GET", f"/api/v1/titles/{tid}", st, ip=ip, ua=ua, cookie=cookie, sid=sid, label=label)
        if st == 200 and rng.random() < 0.3:
            emit(
                t + timedelta(seconds=1.2),
                "GET",
                f"/api/v1/titles/{tid}/episodes?season=1",
                200,
                ip=ip,
                ua=ua,
                cookie=cookie,
                sid=sid,
                label=label,
            )
        tid += 1


def attack_takeover(start, victim, label="account_takeover"):
    cc = rng.choice(list(FAR))
    ip = residential_ip(cc)
    dev = make_device(rng.choice(["web", "android"]))
    c = Ctx(victim, dev, start, label=label, ip=ip, logged_in=False)
    if c.web:
        c.req("GET", "/", svc="web", user_known=False)
        c.req("GET", "/api/v1/config")
    login(c, fail_first=0.3)
    c.req("GET", "/api/v1/me")
    c.wait(8)
    c.req("GET", "/api/v1/account")
    c.wait(15)
    c.req("POST", "/api/v1/account/email", 200, bytes_recv=120)
    c.wait(10)
    c.req("POST", "/api/v1/account/password", 200, bytes_recv=160)
    c.wait(6)
    c.req("GET", "/api/v1/devices")
    c.req("POST", "/api/v1/devices/signout-all", 204)
    c.wait(20)
    tid = browse(c, 2)
    watch(c, tid)


def attack_promo(start, n, label="promo_enumeration"):
    u = rng.choice([x for x in USERS if not x.joined and x.cc == "US"]) if False else None
    uid = "usr_2611179001"  # a throwaway account made the day before (unseen in training)
    ips = [ip_in(rng.choice(HOSTING)) for _ in range(3)]
    ua = "okhttp/4.12.0"
    t = start
    emit(
        t,
        "POST",
        "/api/v1/auth/login",
        200,
        ip=ips[0],
        ua=ua,
        host="api.streamly.example",
        svc="auth",
        bytes_recv=120,
        bytes_sent=612,
        label=label,
    )
    for i in range(n):
        t += timedelta(seconds=rng.uniform(1.5, 6))
        r = rng.random()
        st = 404 if r < 0.85 else (400 if r < 0.95 else (429 if r < 0.985 else 200))
        emit(
            t,
            "POST",
            "/api/v1/redeem",
            st,
            ip=rng.choice(ips),
            ua=ua,
            host="api.streamly.example",
            svc="billing",
            bytes_recv=rng.randint(60, 80),
            bytes_sent=rng.randint(60, 140),
            user=uid,
            label=label,
            flags="-",
        )


# ----------------------------------------------------------------------------- output
STOCK = (
    '[{ts}] "{method} {path} {proto}" {status} {flags} {details} - "-" {brecv} {bsent} {dur} {ust} '
    '"{xff}" "{ua}" "{reqid}" "{authority}" "{up_host}" {cluster} {up_local} {down_local} {remote} {sni} {route}'
)


def fmt(rec, ext):
    ts = rec["start"].strftime("%Y-%m-%dT%H:%M:%S.") + f"{rec['start'].microsecond // 1000:03d}Z"
    line = STOCK.format(ts=ts, **{k: v for k, v in rec.items() if k != "start"})
    if ext:
        line += f' "{rec["cookie"]}" "{rec["xuser"]}"'
    return line


def write(records, out, name, ext, truth=None):
    records.sort(key=lambda r: (r[0], r[1]))
    labels = []
    with open(os.path.join(out, name), "w") as f:
        for n, (_, _, rec) in enumerate(records, 1):
            f.write(fmt(rec, ext) + "\n")
            if rec["label"]:
                labels.append((f"{name}:{n}", rec["label"]))
            if truth is not None:
                truth.write(
                    json.dumps(
                        {
                            "line": n,
                            "start": rec["start"].isoformat(),
                            "ip": rec["client_ip"],
                            "path": rec["path"],
                            "status": rec["status"],
                            "ua": rec["ua"],
                            "sid": rec["sid"],
                            "user": rec["xuser"],
                            "label": rec["label"],
                        }
                    )
                    + "\n"
                )
    return labels


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=".")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--variant", choices=("ext", "stock"), default="ext")
    a = ap.parse_args()
    rng.seed(a.seed)
    ext = a.variant == "ext"
    # training: two weeks, normal only
    normal_traffic(T0, TRAIN_DAYS, 0)
    train = [r for r in RECORDS if r[2]["start"] < T0 + timedelta(days=TRAIN_DAYS)]
    spill = [r for r in RECORDS if r[2]["start"] >= T0 + timedelta(days=TRAIN_DAYS)]
    RECORDS.clear()
    RECORDS.extend(spill)
    write(train, a.out, "train.log", ext)
    # test week: normal traffic + attacks
    t1 = T0 + timedelta(days=TRAIN_DAYS)
    normal_traffic(t1, TEST_DAYS, 0)
    old = [u for u in USERS if not u.joined]
    attack_credential_stuffing(t1 + timedelta(days=1, hours=2, minutes=13), 700)
    attack_account_farming(t1 + timedelta(days=2, hours=14, minutes=40), 150)
    attack_scraper(t1 + timedelta(days=3, hours=9, minutes=5), 6)
    for k, (d, h) in enumerate([(1, 20.5), (3, 3.2), (4, 16.7), (5, 22.1)]):
        attack_takeover(t1 + timedelta(days=d, hours=h), rng.choice(old))
    attack_promo(t1 + timedelta(days=5, hours=11, minutes=20), 450)
    test = [r for r in RECORDS if r[2]["start"] < t1 + timedelta(days=TEST_DAYS)]
    with open(os.path.join(a.out, "truth_test.jsonl"), "w") as truth:
        labels = write(test, a.out, "test.log", ext, truth)
    with open(os.path.join(a.out, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label"])
        w.writerows(labels)
    # entity labels for the ext variant: session ids and user ids the attacks used
    ents = {}
    for _, _, r in test:
        if r["label"]:
            if r["sid"]:
                ents[r["sid"]] = r["label"]
            if r["xuser"] != "-":
                ents[r["xuser"]] = r["label"]
    with open(os.path.join(a.out, "labels_entities.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label"])
        w.writerows(sorted(ents.items()))
    from collections import Counter

    print(
        f"train lines {len(train)}, test lines {len(test)}, labelled test lines {len(labels)}",
        dict(Counter(l for _, l in labels)),
    )


if __name__ == "__main__":
    main()
