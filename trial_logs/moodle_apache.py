#!/usr/bin/env python3
"""Deterministic generator of a university Moodle access log (Apache 2.4, mod_remoteip behind a
campus reverse proxy, so %h is the client).

LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %{MoodleSession}C %D"

Seven training days (normal only) and three test days with labelled bots.
Writes train.log, test.log, labels.csv (key,label), truth_sessions.csv, truth_test_lines.csv.
Standard library only.
"""

import argparse
import csv
import datetime as dt
import os
import random

HOST = "https://moodle.kingsbridge.ac.uk"
START = dt.datetime(2026, 11, 2, 0, 0, 0)  # Monday, term week 6; GMT (+0000)
TRAIN_DAYS = 7
TEST_DAYS = 3
REV = "1730791524"
TESTSESSION = True  # --no-testsession: counterfactual, success redirects straight to /my/ (not what Moodle does)
PER_DEVICE_COOKIES = False  # --per-device-cookies: a stale MoodleSession comes back only from its own browser
FAIL_ANSWER = 303  # --failed-login-answer: 303 to ?errorcode=3 (Moodle 4.x) or 200 (the form again)


def fail_post(c, t, rng, ref, follow=True, style="person"):
    """A failed POST /login/index.php: 303 to the form with ?errorcode=3 (followed by a browser) or 200 with the form."""
    if FAIL_ANSWER == 200:
        return c.hit(t, "POST", "/login/index.php", 200, rng.randint(21500, 23500), ref)
    t = c.hit(t, "POST", "/login/index.php", 303, 0, ref)
    if not follow:
        return t
    if style == "person":
        t += rng.uniform(0.05, 0.4)
        t = c.hit(t, "GET", "/login/index.php?errorcode=3", 200, rng.randint(21500, 23500), HOST + "/login/index.php")
        c.last = HOST + "/login/index.php?errorcode=3"
    elif style == "new":
        t = c.hit(t + 0.2, "GET", "/login/index.php?errorcode=3", 200, 22500, HOST + "/login/index.php")
    else:
        t = c.hit(
            t + rng.uniform(0.05, 0.4), "GET", "/login/index.php?errorcode=3", 200, 22500, HOST + "/login/index.php"
        )
    return t


CAMPUS_NAT = ["144.82.250.%d" % i for i in (1, 2, 3, 4)]  # eduroam / campus wifi NAT
HALLS_NAT = ["144.82.251.10", "144.82.251.11"]  # halls of residence NAT
MONITOR_IP = "144.82.1.20"

UK_HOME = [  # (prefix, prob) residential broadband
    ("86.%d.%d.%d", (128, 191)),
    ("81.%d.%d.%d", (96, 111)),
    ("82.%d.%d.%d", (0, 47)),
    ("90.%d.%d.%d", (192, 223)),
    ("2.%d.%d.%d", (96, 127)),
    ("109.%d.%d.%d", (144, 159)),
]
UK_MOBILE = ["31.94.%d.%d", "92.40.%d.%d", "92.41.%d.%d", "148.252.%d.%d", "82.132.%d.%d"]
ABROAD = ["49.36.%d.%d", "120.229.%d.%d", "105.112.%d.%d", "175.139.%d.%d", "5.%d.%d.%d"]

STUDENT_IDS = range(100, 2900)
STAFF_IDS = range(5000, 5180)

CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"
)
EDGE_WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.0.0"
CHROME_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"
SAFARI_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{s} Safari/605.1.15"
FIREFOX_WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{f}.0) Gecko/20100101 Firefox/{f}.0"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS {i} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{s} Mobile/15E148 Safari/604.1"
ANDROID = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Mobile Safari/537.36"
)
CHROMEBOOK = (
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"
)
APP_ANDROID = "Mozilla/5.0 (Linux; Android {a}; {m} Build/{b}; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/{v}.0.6099.144 Mobile Safari/537.36 MoodleMobile 4.3.0 (43000)"
APP_IOS = "Mozilla/5.0 (iPhone; CPU iPhone OS {i} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MoodleMobile 4.3.0 (43000)"

HOUR_W = [
    0.3,
    0.15,
    0.08,
    0.04,
    0.03,
    0.04,
    0.1,
    0.3,
    0.7,
    1.0,
    1.2,
    1.2,
    0.9,
    1.0,
    1.2,
    1.1,
    0.9,
    0.7,
    0.7,
    0.9,
    1.0,
    1.0,
    0.8,
    0.5,
]
STAFF_HOUR_W = [
    0.02,
    0.01,
    0,
    0,
    0,
    0.02,
    0.1,
    0.5,
    1.2,
    1.5,
    1.5,
    1.4,
    1.0,
    1.3,
    1.4,
    1.3,
    1.1,
    0.7,
    0.4,
    0.4,
    0.5,
    0.5,
    0.3,
    0.1,
]


def rand_ip(rng, pat):
    if isinstance(pat, tuple):
        pat, (lo, hi) = pat
        return pat % (rng.randint(lo, hi), rng.randint(0, 255), rng.randint(1, 254))
    n = pat.count("%d")
    return pat % tuple([rng.randint(0, 255) for _ in range(n - 1)] + [rng.randint(1, 254)])


def browser_ua(rng, mobile=False):
    if mobile:
        if rng.random() < 0.6:
            return IPHONE.format(
                i=rng.choice(["17_1_2", "17_0_3", "16_6_1", "17_1_1"]), s=rng.choice(["17.1", "17.0", "16.6"])
            )
        return ANDROID.format(v=rng.choice([118, 119, 119, 120]))
    r = rng.random()
    v = rng.choice([118, 119, 119, 119, 120])
    if r < 0.40:
        return CHROME_WIN.format(v=v)
    if r < 0.52:
        return EDGE_WIN.format(v=v)
    if r < 0.68:
        return CHROME_MAC.format(v=v)
    if r < 0.80:
        return SAFARI_MAC.format(s=rng.choice(["17.1", "17.0", "16.6"]))
    if r < 0.92:
        return FIREFOX_WIN.format(f=rng.choice([118, 119, 120]))
    return CHROMEBOOK.format(v=v)


def app_ua(rng):
    if rng.random() < 0.5:
        return APP_IOS.format(i=rng.choice(["17_1_2", "17_0_3", "16_6_1"]))
    m, b = rng.choice(
        [
            ("SM-A536B", "UP1A.231005.007"),
            ("SM-S911B", "UP1A.231005.007"),
            ("Pixel 7", "UQ1A.231205.015"),
            ("M2101K6G", "SKQ1.210908.001"),
            ("CPH2219", "RKQ1.211119.001"),
            ("SM-G991B", "TP1A.220624.014"),
        ]
    )
    return APP_ANDROID.format(a=rng.choice([12, 13, 14]), m=m, b=b, v=rng.choice([119, 120]))


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.events = []  # (t, seq, line, label, persona, pid, sid)
        self.seq = 0
        self.sessions = {}  # sid -> (label, persona, pid)
        self.attempt = 183000
        self.sid_chars = "abcdefghijklmnopqrstuvwxyz0123456789"

    def new_sid(self, label, persona, pid):
        while True:
            s = "".join(self.rng.choice(self.sid_chars) for _ in range(26))
            if s not in self.sessions:
                self.sessions[s] = (label, persona, pid)
                return s

    def emit(self, t, ip, method, path, status, size, ref, ua, sid, dur, label, persona, pid):
        ts = (START + dt.timedelta(seconds=t)).strftime("%d/%b/%Y:%H:%M:%S +0000")
        line = '%s - - [%s] "%s %s HTTP/1.1" %d %s "%s" "%s" %s %d' % (
            ip,
            ts,
            method,
            path,
            status,
            "-" if not size else str(size),
            ref or "-",
            ua or "-",
            sid or "-",
            dur,
        )
        self.seq += 1
        self.events.append((t, self.seq, line, label, persona, pid, sid))


class Client:
    """A browser (or tool) with a cookie jar holding at most the MoodleSession."""

    def __init__(self, g, ip, ua, label="normal", persona="student", pid="-", cookies=True, sid=None):
        self.g, self.ip, self.ua = g, ip, ua
        self.label, self.persona, self.pid = label, persona, pid
        self.cookies = cookies
        self.sid = sid
        self.last = None
        self.sesskey = self.mk_sesskey()

    def mk_sesskey(self):
        return "".join(
            self.g.rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(10)
        )

    def hit(
        self, t, method, path, status=200, size=None, ref=None, dur=None, php=True, new_session=False, set_last=True
    ):
        rng = self.g.rng
        if dur is None:
            dur = rng.randint(60000, 450000) if php else rng.randint(400, 4000)
        if size is None:
            size = rng.randint(18000, 90000) if status == 200 else 0
        if ref is None:
            ref = self.last
        self.g.emit(
            t, self.ip, method, path, status, size, ref, self.ua, self.sid, dur, self.label, self.persona, self.pid
        )
        if self.cookies and php and (self.sid is None or new_session):
            self.sid = self.g.new_sid(self.label, self.persona, self.pid)
            self.sesskey = self.mk_sesskey()
        if set_last and status == 200 and php and method == "GET":
            self.last = HOST + path
        return t + dur / 1e6

    def assets(self, t, cold):
        if not cold:
            return t
        rng = self.g.rng
        ref = self.last
        for p, sz in (
            ("/theme/styles.php/boost/%s_1/all" % REV, 412331),
            ("/lib/javascript.php/%s/lib/babel-polyfill/polyfill.min.js" % REV, 60245),
            ("/lib/javascript.php/%s/lib/polyfills/polyfill.js" % REV, 3411),
            ("/lib/requirejs.php/%s/core/first.js" % REV, 389120),
            ("/lib/javascript.php/%s/lib/javascript-static.js" % REV, 13655),
            ("/theme/font.php/boost/core/%s/fontawesome-webfont.woff2" % REV, 77160),
            ("/theme/image.php/boost/theme/%s/favicon" % REV, 1150),
            ("/theme/image.php/boost/core/%s/u/f2" % REV, 2334),
        ):
            t += rng.uniform(0.005, 0.08)
            self.hit(t, "GET", p, 200, sz, ref, php=False, set_last=False)
        return t

    def ajax(self, t, infos, size=None):
        return self.hit(
            t,
            "POST",
            "/lib/ajax/service.php?sesskey=%s&info=%s" % (self.sesskey, infos),
            200,
            size or self.g.rng.randint(150, 6000),
            self.last,
            dur=self.g.rng.randint(40000, 300000),
            set_last=False,
        )


# ---------------------------------------------------------------- site content
class Site:
    def __init__(self, rng):
        self.courses = list(range(2, 420))
        self.cms = {}
        self.files = {}
        for c in self.courses:
            n = rng.randint(8, 30)
            res = [c * 100 + k for k in range(n)]
            self.cms[c] = {
                "resource": res,
                "forum": [c * 100 + 50, c * 100 + 51],
                "assign": [c * 100 + 60 + k for k in range(rng.randint(1, 4))],
                "quiz": [c * 100 + 70 + k for k in range(rng.randint(0, 4))],
                "page": [c * 100 + 80 + k for k in range(rng.randint(0, 5))],
            }
            for cm in res:
                kind = rng.choice(["Lecture", "Slides", "Handout", "Reading", "Worksheet", "Lab"])
                ext = rng.choice(["pdf", "pdf", "pdf", "pptx", "docx", "pdf", "zip", "mp4"])
                self.files[cm] = (
                    cm + 9000,
                    "Week%d_%s%s.%s" % (cm % 12 + 1, kind, "" if cm % 3 else "_v2", ext),
                    rng.randint(80000, 9000000) if ext != "mp4" else rng.randint(20e6, 200e6),
                )
        self.public_courses = rng.sample(self.courses, 40)
        self.discussions = {c: [c * 37 + k for k in range(rng.randint(3, 40))] for c in self.courses}


# ---------------------------------------------------------------- people
class Person:
    def __init__(self, rng, site, uid, staff=False, new_day=None):
        self.uid = uid
        self.staff = staff
        self.new_day = new_day  # day the student first arrives (None: already active)
        self.courses = rng.sample(site.courses, rng.randint(4, 7) if not staff else rng.randint(2, 5))
        self.laptop = browser_ua(rng)
        self.phone = browser_ua(rng, mobile=True)
        self.app = app_ua(rng) if rng.random() < (0.30 if not staff else 0.1) else None
        self.app_token = "%032x" % rng.getrandbits(128) if self.app else None
        self.abroad = (not staff) and rng.random() < 0.03
        if self.abroad:
            self.home_pat = rng.choice(ABROAD)
        else:
            self.home_pat = rng.choice(UK_HOME)
        self.home_ip = rand_ip(rng, self.home_pat)
        self.halls = (not staff) and rng.random() < 0.3
        self.mobile_pat = rng.choice(UK_MOBILE)
        self.office_ip = "144.82.%d.%d" % (rng.randint(10, 60), rng.randint(2, 250)) if staff else None
        self.activity = rng.uniform(0.35, 0.85) if not staff else rng.uniform(0.6, 0.95)
        self.stale_sid = None
        self.stale_by_ua = {}
        self.fail_prone = rng.random() < 0.08

    def place(self, rng, day, hour):
        weekday = (START + dt.timedelta(days=day)).weekday() < 5
        if self.staff:
            if weekday and 8 <= hour < 18 and rng.random() < 0.85:
                return self.office_ip
            if rng.random() < 0.03:
                self.home_ip = rand_ip(rng, self.home_pat)
            return self.home_ip
        if self.abroad:
            return self.home_ip
        if weekday and 9 <= hour < 18 and rng.random() < 0.55:
            return rng.choice(CAMPUS_NAT)
        if self.halls:
            return rng.choice(HALLS_NAT)
        if rng.random() < 0.15:
            return rand_ip(rng, self.mobile_pat)
        if rng.random() < 0.02:
            self.home_ip = rand_ip(rng, self.home_pat)
        return self.home_ip


def pick_hour(rng, weights):
    return rng.choices(range(24), weights)[0]


def web_login(c, t, rng, uid, fails=0, wants="/my/", cold=True, from_link=None):
    """Moodle login: GET form, POST; failure 303 -> ?errorcode=3; success 303 -> ?testsession=uid -> 303 wants."""
    if from_link:
        t = c.hit(t, "GET", from_link, 303, 0, "-")  # require_login redirects to the form
        t += rng.uniform(0.05, 0.3)
        t = c.hit(t, "GET", "/login/index.php", 200, rng.randint(21000, 23000), c.last if c.last else "-")
    else:
        t = c.hit(t, "GET", "/login/index.php", 200, rng.randint(21000, 23000), "-" if c.last is None else c.last)
    c.last = HOST + "/login/index.php"
    t = c.assets(t, cold)
    for _ in range(fails):
        t += rng.uniform(6, 35)
        t = fail_post(c, t, rng, HOST + "/login/index.php")
    t += rng.uniform(4, 25)
    t = c.hit(t, "POST", "/login/index.php", 303, 0, c.last, new_session=True)
    t += rng.uniform(0.05, 0.3)
    if TESTSESSION:
        t = c.hit(t, "GET", "/login/index.php?testsession=%d" % uid, 303, 0, c.last)
    t += rng.uniform(0.05, 0.3)
    t = c.hit(t, "GET", wants, 200, rng.randint(40000, 95000), c.last)
    return t


def dashboard_ajax(c, t, rng):
    t += rng.uniform(0.3, 1.2)
    t = c.ajax(t, "core_course_get_enrolled_courses_by_timeline_classification")
    t = c.ajax(t + rng.uniform(0.01, 0.2), "core_calendar_get_action_events_by_timesort")
    t = c.ajax(t + rng.uniform(0.01, 0.2), "core_course_get_recent_courses")
    t = c.ajax(t + rng.uniform(0.01, 0.2), "message_popup_get_popup_notifications")
    return t


def do_quiz(c, g, site, rng, t, course, cm, late=False):
    t = c.hit(t, "GET", "/mod/quiz/view.php?id=%d" % cm, 200)
    t += rng.uniform(5, 40)
    g.attempt += rng.randint(1, 3)
    a = g.attempt
    t = c.hit(t, "POST", "/mod/quiz/startattempt.php", 303, 0)
    t += rng.uniform(0.05, 0.3)
    t = c.hit(t, "GET", "/mod/quiz/attempt.php?attempt=%d&cmid=%d" % (a, cm), 200)
    pages = rng.randint(3, 10)
    for p in range(pages):
        think = rng.uniform(30, 240)
        nsave = int(think // 60)
        for k in range(nsave):
            c.hit(
                t + (k + 1) * 60 + rng.uniform(-2, 2),
                "POST",
                "/mod/quiz/autosave.ajax.php",
                200,
                rng.randint(60, 90),
                set_last=False,
            )
        t += think
        t = c.hit(t, "POST", "/mod/quiz/processattempt.php?cmid=%d" % cm, 303, 0)
        t += rng.uniform(0.05, 0.3)
        if p < pages - 1:
            t = c.hit(t, "GET", "/mod/quiz/attempt.php?attempt=%d&cmid=%d&page=%d" % (a, cm, p + 1), 200)
        else:
            t = c.hit(t, "GET", "/mod/quiz/summary.php?attempt=%d&cmid=%d" % (a, cm), 200)
    t += rng.uniform(3, 20)
    t = c.hit(t, "POST", "/mod/quiz/processattempt.php?cmid=%d" % cm, 303, 0)
    t += rng.uniform(0.05, 0.3)
    t = c.hit(t, "GET", "/mod/quiz/review.php?attempt=%d&cmid=%d" % (a, cm), 200, rng.randint(60000, 200000))
    return t


def browse(c, g, site, p, rng, t, n_actions, deadline_quiz=None, poll_tail=True):
    """Actions of a logged-in person within one visit."""
    t = dashboard_ajax(c, t, rng)
    last_poll = t
    if deadline_quiz:
        course, cm = deadline_quiz
        t += rng.uniform(3, 20)
        t = c.hit(t, "GET", "/course/view.php?id=%d" % course, 200)
        t = do_quiz(c, g, site, rng, t + rng.uniform(3, 30), course, cm)
        n_actions = max(1, n_actions // 3)
    for _ in range(n_actions):
        think = rng.expovariate(1 / 70.0) + 3
        while t + think - last_poll > 300:  # dashboard tab still polls
            last_poll += rng.uniform(280, 320)
            c.ajax(last_poll, "message_popup_get_popup_notifications", rng.randint(120, 900))
        t += think
        course = rng.choice(p.courses)
        cms = site.cms[course]
        r = rng.random()
        if r < 0.30:
            t = c.hit(t, "GET", "/course/view.php?id=%d" % course, 200, rng.randint(60000, 180000))
            t = c.ajax(t + rng.uniform(0.2, 1), "core_courseformat_get_state")
        elif r < 0.55:
            cm = rng.choice(cms["resource"])
            ctx, fn, sz = site.files[cm]
            t = c.hit(t, "GET", "/mod/resource/view.php?id=%d" % cm, 303, 0)
            t += rng.uniform(0.05, 0.3)
            t = c.hit(
                t,
                "GET",
                "/pluginfile.php/%d/mod_resource/content/1/%s" % (ctx, fn),
                200,
                int(sz),
                dur=rng.randint(20000, 900000),
                set_last=False,
            )
        elif r < 0.63:
            t = c.hit(t, "GET", "/mod/forum/view.php?id=%d" % cms["forum"][0], 200)
        elif r < 0.72:
            d = rng.choice(site.discussions[course])
            t = c.hit(t, "GET", "/mod/forum/discuss.php?d=%d" % d, 200)
            if rng.random() < 0.06:
                t += rng.uniform(60, 400)
                t = c.hit(t, "POST", "/mod/forum/post.php", 303, 0)
                t = c.hit(t + 0.2, "GET", "/mod/forum/discuss.php?d=%d" % d, 200)
        elif r < 0.79:
            cm = rng.choice(cms["assign"])
            t = c.hit(t, "GET", "/mod/assign/view.php?id=%d" % cm, 200)
            if p.staff and rng.random() < 0.5:
                t = c.hit(t + rng.uniform(5, 30), "GET", "/mod/assign/view.php?id=%d&action=grading" % cm, 200)
        elif r < 0.83 and cms["quiz"] and not p.staff and rng.random() < 0.3:
            t = do_quiz(c, g, site, rng, t, course, rng.choice(cms["quiz"]))
        elif r < 0.86:
            t = c.hit(t, "GET", "/grade/report/user/index.php?id=%d" % course, 200)
        elif r < 0.89:
            t = c.hit(t, "GET", "/calendar/view.php?view=month", 200)
        elif r < 0.92:
            t = c.hit(t, "GET", "/my/", 200)
            t = dashboard_ajax(c, t, rng)
        elif r < 0.94:
            t = c.hit(t, "GET", "/user/profile.php?id=%d" % rng.choice([p.uid, rng.randint(100, 2900)]), 200)
        elif r < 0.96:
            t = c.hit(t, "GET", "/message/index.php", 200)
        elif cms["page"]:
            t = c.hit(t, "GET", "/mod/page/view.php?id=%d" % rng.choice(cms["page"]), 200)
        else:
            t = c.hit(t, "GET", "/course/view.php?id=%d" % course, 200)
        if rng.random() < 0.4:
            t = c.ajax(t + rng.uniform(0.2, 1.5), "core_fetch_notifications")
    if poll_tail and rng.random() < 0.5:  # tab left open
        end = t + rng.uniform(300, 3600)
        while last_poll + 300 < end:
            last_poll = max(last_poll + rng.uniform(280, 320), t)
            c.ajax(last_poll, "message_popup_get_popup_notifications", rng.randint(120, 900))
        t = max(t, last_poll)
    if rng.random() < 0.2:
        t += rng.uniform(5, 60)
        t = c.hit(t, "GET", "/login/logout.php?sesskey=%s" % c.sesskey, 303, 0, new_session=False)
        c.sid = g.new_sid(c.label, c.persona, c.pid)  # logout destroys and restarts the session
        t += rng.uniform(0.05, 0.3)
        t = c.hit(t, "GET", "/", 200, rng.randint(25000, 30000))
    return t


def person_visit(g, site, p, rng, t, day, deadline=None, first=False):
    hour = int((t % 86400) // 3600)
    ip = p.place(rng, day, hour)
    mobile = rng.random() < 0.25
    ua = p.phone if mobile else p.laptop
    if PER_DEVICE_COOKIES:
        old = p.stale_by_ua.get(ua)
        stale = old if (old and rng.random() < 0.3) else None
    else:  # run 1: the last session's cookie whatever the device (a generator flaw)
        stale = p.stale_sid if (p.stale_sid and rng.random() < 0.3) else None
    c = Client(g, ip, ua, "normal", "staff" if p.staff else ("new_student" if first else "student"), p.uid, sid=stale)
    fails = 0
    if first:
        r = rng.random()
        if r < 0.3:
            fails = rng.randint(1, 4)
        if r < 0.25:
            # forgot password flow
            t = c.hit(t, "GET", "/login/index.php", 200, 22000, "-")
            t = c.assets(t, True)
            for _ in range(fails):
                t += rng.uniform(8, 40)
                t = fail_post(c, t, rng, HOST + "/login/index.php", style="new")
            t += rng.uniform(5, 20)
            t = c.hit(t, "GET", "/login/forgot_password.php", 200, 19000)
            t += rng.uniform(10, 40)
            t = c.hit(t, "POST", "/login/forgot_password.php", 200, 17500)
            t += rng.uniform(60, 900)
            tok = "%032x" % rng.getrandbits(128)
            t = c.hit(t, "GET", "/login/forgot_password.php?token=%s" % tok, 200, 18000, "-")
            t += rng.uniform(20, 60)
            t = c.hit(t, "POST", "/login/forgot_password.php", 303, 0, new_session=True)
            t = c.hit(t + 0.2, "GET", "/my/", 200, 60000)
            fails = -1
    elif p.fail_prone and rng.random() < 0.3:
        fails = rng.randint(1, 2)
    elif rng.random() < 0.03:
        fails = 1
    if fails >= 0:
        link = None
        if rng.random() < 0.25:
            link = "/course/view.php?id=%d" % rng.choice(p.courses)
        t = web_login(c, t, rng, p.uid, fails, link or "/my/", cold=rng.random() < 0.5, from_link=link)
    n = max(1, int(rng.lognormvariate(2.0, 0.7)))
    dq = None
    if deadline and not p.staff and deadline[0] in p.courses:
        dq = deadline
    t = browse(c, g, site, p, rng, t, n, deadline_quiz=dq)
    p.stale_sid = c.sid
    p.stale_by_ua[ua] = c.sid
    return t


def app_visit(g, site, p, rng, t, day, login=False):
    hour = int((t % 86400) // 3600)
    ip = p.place(rng, day, hour) if rng.random() < 0.5 else rand_ip(rng, p.mobile_pat)
    c = Client(g, ip, p.app, "normal", "app_user", p.uid, cookies=False)
    if login:
        if rng.random() < 0.1:
            t = c.hit(t, "POST", "/login/token.php", 200, 87, "-", dur=rng.randint(80000, 200000))
            t += rng.uniform(5, 30)
        t = c.hit(t, "POST", "/login/token.php", 200, rng.randint(118, 124), "-", dur=rng.randint(80000, 250000))
        p.app_token = "%032x" % rng.getrandbits(128)
    base = "/webservice/rest/server.php?wstoken=%s&moodlewsrestformat=json&wsfunction=" % p.app_token
    for f in (
        "core_webservice_get_site_info",
        "tool_mobile_get_config",
        "core_enrol_get_users_courses",
        "message_popup_get_popup_notifications",
        "core_message_get_unread_conversation_counts",
    ):
        t = c.hit(
            t + rng.uniform(0.05, 0.5),
            "POST",
            base + f,
            200,
            rng.randint(300, 9000),
            "-",
            dur=rng.randint(30000, 200000),
        )
    for _ in range(rng.randint(1, 8)):
        t += rng.expovariate(1 / 40.0) + 2
        course = rng.choice(p.courses)
        r = rng.random()
        if r < 0.45:
            t = c.hit(
                t,
                "POST",
                base + "core_course_get_contents",
                200,
                rng.randint(5000, 60000),
                "-",
                dur=rng.randint(50000, 400000),
            )
        elif r < 0.75:
            cm = rng.choice(site.cms[course]["resource"])
            ctx, fn, sz = site.files[cm]
            t = c.hit(
                t,
                "GET",
                "/webservice/pluginfile.php/%d/mod_resource/content/1/%s?token=%s&offline=1" % (ctx, fn, p.app_token),
                200,
                int(sz),
                "-",
                dur=rng.randint(30000, 900000),
            )
        elif r < 0.9:
            t = c.hit(t, "POST", base + "mod_forum_get_forum_discussions", 200, rng.randint(2000, 30000), "-")
        else:
            t = c.hit(t, "POST", base + "core_calendar_get_action_events_by_timesort", 200, rng.randint(500, 5000), "-")
    return t


# ---------------------------------------------------------------- automation
def automation(g, site, rng, day):
    d0 = day * 86400
    mon = Client(
        g, MONITOR_IP, "check_http/v2.3.3 (monitoring-plugins 2.3.3)", "normal", "monitor", "monitor", cookies=False
    )
    for m in range(1440):
        mon.hit(
            d0 + m * 60 + rng.uniform(0, 0.5),
            "GET",
            "/login/index.php",
            200,
            rng.randint(21000, 23000),
            "-",
            set_last=False,
        )
    # search engines: public course pages, no cookies kept
    for name, ua, ips, n in (
        (
            "googlebot",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            ["66.249.66.%d" % i for i in (1, 12, 35, 70, 71, 160)],
            rng.randint(900, 1300),
        ),
        (
            "bingbot",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            ["40.77.167.%d" % i for i in (3, 18, 44, 129)],
            rng.randint(400, 700),
        ),
    ):
        for _ in range(n):
            c = Client(g, rng.choice(ips), ua, "normal", name, name, cookies=False)
            t = d0 + rng.uniform(0, 86400)
            r = rng.random()
            if r < 0.02:
                c.hit(t, "GET", "/robots.txt", 200, 412, "-", php=False)
            elif r < 0.3:
                c.hit(
                    t,
                    "GET",
                    "/course/index.php?categoryid=%d" % rng.randint(1, 40),
                    200,
                    rng.randint(30000, 60000),
                    "-",
                )
            elif r < 0.55:
                c.hit(
                    t,
                    "GET",
                    "/course/info.php?id=%d" % rng.choice(site.public_courses),
                    200,
                    rng.randint(25000, 40000),
                    "-",
                )
            elif r < 0.85:
                cid = rng.choice(site.courses)
                if cid in site.public_courses:
                    c.hit(t, "GET", "/course/view.php?id=%d" % cid, 200, rng.randint(60000, 120000), "-")
                else:
                    c.hit(t, "GET", "/course/view.php?id=%d" % cid, 303, 0, "-")
            elif r < 0.95:
                c.hit(t, "GET", "/", 200, rng.randint(25000, 30000), "-")
            else:
                c.hit(t, "GET", "/login/index.php", 200, 22000, "-")
    # plagiarism integration: fixed token, every 5 minutes
    tok = "7f3c2a9e51d04b8c9a6e0f1d2b3c4a5e"
    pl = Client(
        g,
        "52.209.%d.%d" % (44, 17),
        "Ouriginal-Moodle-Integration/3.2 python-requests/2.31.0",
        "normal",
        "plagiarism_integration",
        "plagiarism",
        cookies=False,
    )
    base = "/webservice/rest/server.php?wstoken=%s&moodlewsrestformat=json&wsfunction=" % tok
    for m in range(0, 1440, 5):
        t = d0 + m * 60 + rng.uniform(0, 20)
        t = pl.hit(t, "POST", base + "mod_assign_get_assignments", 200, rng.randint(20000, 40000), "-", set_last=False)
        t = pl.hit(
            t + 0.2, "POST", base + "mod_assign_get_submissions", 200, rng.randint(5000, 80000), "-", set_last=False
        )
        for _ in range(rng.choice([0, 0, 0, 1, 2, 4])):
            t = pl.hit(
                t + 0.3,
                "GET",
                "/webservice/pluginfile.php/%d/assignsubmission_file/submission_files/%d/essay.docx?token=%s"
                % (rng.randint(30000, 60000), rng.randint(100000, 200000), tok),
                200,
                rng.randint(20000, 900000),
                "-",
                php=True,
                set_last=False,
            )


# ---------------------------------------------------------------- bots (test only)
RESI = [
    ("73.%d.%d.%d", (0, 255)),
    ("24.%d.%d.%d", (0, 255)),
    ("177.%d.%d.%d", (0, 255)),
    ("189.%d.%d.%d", (0, 255)),
    ("113.%d.%d.%d", (160, 191)),
    ("49.%d.%d.%d", (36, 47)),
    ("86.%d.%d.%d", (128, 191)),
    ("2.%d.%d.%d", (96, 127)),
    ("186.%d.%d.%d", (0, 255)),
    ("181.%d.%d.%d", (0, 255)),
    ("41.%d.%d.%d", (0, 255)),
    ("105.%d.%d.%d", (112, 127)),
]


def bots(g, site, rng, people):
    test0 = TRAIN_DAYS * 86400
    # 1. credential stuffing on the web form through residential proxies (test day 2, 01:00-05:30)
    t0 = test0 + 86400 + 3600
    for i in range(1400):
        t = t0 + rng.uniform(0, 4.5 * 3600)
        ip = rand_ip(rng, rng.choice(RESI))
        c = Client(g, ip, browser_ua(rng), "credential_stuffing", "stuffer_web", "-")
        follow = rng.random() < 0.7
        for k in range(rng.choice([1, 1, 2])):
            t = c.hit(t, "GET", "/login/index.php", 200, rng.randint(21000, 23000), "-")
            t += rng.uniform(0.3, 2.5)
            ok = rng.random() < 0.015
            if ok:
                uid = rng.randint(100, 2900)
                t = c.hit(t, "POST", "/login/index.php", 303, 0, HOST + "/login/index.php", new_session=True)
                if TESTSESSION:
                    t = c.hit(t + 0.2, "GET", "/login/index.php?testsession=%d" % uid, 303, 0)
                t = c.hit(t + 0.2, "GET", "/my/", 200, 60000)
                break
            t = fail_post(c, t, rng, HOST + "/login/index.php", follow, style="bot")
            t += rng.uniform(1, 6)
    # 2. credential stuffing on the mobile token endpoint from a few cloud addresses (test day 1, 14:00-17:00)
    ips = [
        "3.8.%d.%d" % (rng.randint(0, 255), rng.randint(1, 254)),
        "51.75.%d.%d" % (rng.randint(0, 255), rng.randint(1, 254)),
        "165.227.%d.%d" % (rng.randint(0, 255), rng.randint(1, 254)),
        "134.209.%d.%d" % (rng.randint(0, 255), rng.randint(1, 254)),
    ]
    uas = ["python-requests/2.31.0", APP_ANDROID.format(a=13, m="SM-A536B", b="UP1A.231005.007", v=120)]
    t0 = test0 + 14 * 3600
    for ip in ips:
        c = Client(g, ip, rng.choice(uas), "token_stuffing", "stuffer_token", "-", cookies=False)
        t = t0 + rng.uniform(0, 600)
        while t < t0 + 3 * 3600:
            ok = rng.random() < 0.01
            t = c.hit(
                t,
                "POST",
                "/login/token.php",
                200,
                rng.randint(118, 124) if ok else 87,
                "-",
                dur=rng.randint(90000, 260000),
            )
            t += rng.uniform(3, 12)
    # 3. quiz answer harvester: compromised student, fast walk of quiz review pages (test day 2 evening)
    victim = rng.choice([p for p in people if not p.staff and p.new_day is None])
    c = Client(g, rand_ip(rng, UK_HOME[0]), CHROME_WIN.format(v=120), "quiz_harvester", "quiz_harvester", victim.uid)
    t = test0 + 86400 + 20 * 3600 + 1200
    t = web_login(c, t, rng, victim.uid, 0, "/my/", cold=True)
    t = dashboard_ajax(c, t, rng)
    cms = [cm for co in site.courses for cm in site.cms[co]["quiz"]]
    a = 150000
    for cm in rng.sample(cms, 30):
        t = c.hit(
            t + rng.uniform(1, 3), "GET", "/mod/quiz/report.php?id=%d&mode=overview" % cm, 200, rng.randint(9000, 12000)
        )
        for _ in range(rng.randint(15, 35)):
            a += rng.randint(1, 40)
            ok = rng.random() < 0.8
            t = c.hit(
                t + rng.uniform(0.8, 3.0),
                "GET",
                "/mod/quiz/review.php?attempt=%d&cmid=%d" % (a, cm),
                200,
                rng.randint(60000, 220000) if ok else rng.randint(9000, 11000),
            )
    # 4. course material scraper from a hosting address, slow, all three test days
    victim2 = rng.choice([p for p in people if not p.staff and p.new_day is None and p is not victim])
    ip = "88.198.%d.%d" % (rng.randint(0, 255), rng.randint(1, 254))
    ua = CHROME_WIN.format(v=119)
    allcourses = rng.sample(site.courses, 200)
    ci = 0
    for day in range(TEST_DAYS):
        c = Client(g, ip, ua, "material_scraper", "scraper", victim2.uid)
        t = test0 + day * 86400 + rng.uniform(0, 1800)
        t = web_login(c, t, rng, victim2.uid, 0, "/my/", cold=True)
        end = test0 + (day + 1) * 86400 - 600
        while t < end and ci < len(allcourses):
            course = allcourses[ci]
            ci += 1
            t = c.hit(
                t + rng.uniform(20, 90), "GET", "/course/view.php?id=%d" % course, 200, rng.randint(60000, 180000)
            )
            for cm in site.cms[course]["resource"]:
                if t >= end:
                    break
                ctx, fn, sz = site.files[cm]
                t = c.hit(t + rng.uniform(25, 95), "GET", "/mod/resource/view.php?id=%d" % cm, 303, 0)
                t = c.hit(
                    t + rng.uniform(0.1, 0.5),
                    "GET",
                    "/pluginfile.php/%d/mod_resource/content/1/%s" % (ctx, fn),
                    200,
                    int(sz),
                    dur=rng.randint(20000, 900000),
                    set_last=False,
                )
    # 5. account takeover: two students logged into from a new country and device
    for k, (cc, ipat, ua) in enumerate(
        (
            ("NG", ("102.89.%d.%d"), "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"),
            (
                "VN",
                ("113.%d.%d.%d", (160, 191)),
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
            ),
        )
    ):
        v = rng.choice(
            [p for p in people if not p.staff and not p.abroad and p.new_day is None and p not in (victim, victim2)]
        )
        c = Client(g, rand_ip(rng, ipat), ua, "account_takeover", "ato", v.uid)
        t = test0 + (2 if k == 0 else 1) * 86400 + (3 if k == 0 else 11) * 3600 + rng.uniform(0, 3600)
        t = web_login(c, t, rng, v.uid, 0, "/my/", cold=True)
        t = dashboard_ajax(c, t, rng)
        t = c.hit(t + rng.uniform(10, 30), "GET", "/user/profile.php?id=%d" % v.uid, 200)
        t = c.hit(t + rng.uniform(5, 20), "GET", "/user/edit.php?id=%d&returnto=profile" % v.uid, 200)
        t = c.hit(t + rng.uniform(20, 60), "POST", "/user/edit.php", 303, 0)
        t = c.hit(t + 0.2, "GET", "/user/profile.php?id=%d" % v.uid, 200)
        t = c.hit(t + rng.uniform(5, 20), "GET", "/message/index.php", 200)
        for course in v.courses:
            t = c.hit(t + rng.uniform(4, 15), "GET", "/course/view.php?id=%d" % course, 200)
            for cm in site.cms[course]["resource"][: rng.randint(5, 12)]:
                ctx, fn, sz = site.files[cm]
                t = c.hit(t + rng.uniform(2, 8), "GET", "/mod/resource/view.php?id=%d" % cm, 303, 0)
                t = c.hit(
                    t + 0.2,
                    "GET",
                    "/pluginfile.php/%d/mod_resource/content/1/%s" % (ctx, fn),
                    200,
                    int(sz),
                    set_last=False,
                )
    # 6. vulnerability scanner (test day 3, 09:40)
    ip = "45.148.10.%d" % rng.randint(2, 250)
    c = Client(
        g,
        ip,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.169 Safari/537.36",
        "vuln_scanner",
        "scanner",
        "-",
        cookies=False,
    )
    t = test0 + 2 * 86400 + 9 * 3600 + 2400
    probes = [
        "/.env",
        "/.git/config",
        "/config.php",
        "/config.php.bak",
        "/config.php~",
        "/phpinfo.php",
        "/admin/",
        "/admin/index.php",
        "/admin/tool/installaddon/index.php",
        "/wp-login.php",
        "/wp-admin/",
        "/server-status",
        "/backup.zip",
        "/moodledata/",
        "/lib/editor/tinymce/plugins/moodlemedia/",
        "/install.php",
        "/admin/cli/install.php",
        "/repository/repository_ajax.php?action=../../../../etc/passwd",
        "/lib/ajax/service-nologin.php?info=core_get_string&args=[]",
        "/webservice/rest/server.php?wstoken=' OR 1=1--",
        "/mod/lti/auth.php?lti_message_hint=<script>alert(1)</script>",
        "/course/search.php?search=%27%20UNION%20SELECT",
        "/user/profile.php?id=1%27",
        "/login/index.php?username=admin%27--",
        "/cgi-bin/luci",
        "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
        "/theme/yui_combo.php?../../../../../etc/passwd",
        "/blocks/rss_client/viewfeed.php?url=file:///etc/passwd",
    ]
    for i in range(2200):
        p = (
            rng.choice(probes)
            if rng.random() < 0.5
            else "/%s%s"
            % (
                rng.choice(["admin", "backup", "old", "test", "dev", "db", "sql", "moodle", "site", "www"]),
                rng.choice([".zip", ".tar.gz", ".sql", ".bak", "/", ".php", ".old"]),
            )
        )
        st = rng.choice([404, 404, 404, 403, 200, 303]) if ("php" in p) else 404
        t = c.hit(
            t + rng.uniform(0.05, 0.6),
            rng.choice(["GET", "GET", "GET", "POST", "HEAD"]),
            p,
            st,
            rng.randint(200, 600) if st != 200 else rng.randint(3000, 20000),
            "-",
            php=("php" in p),
            set_last=False,
        )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=".")
    ap.add_argument("--students", type=int, default=2200)
    ap.add_argument(
        "--failed-login-answer",
        type=int,
        choices=(303, 200),
        default=303,
        help="how Moodle answers a failed POST /login/index.php (default 303 to ?errorcode=3)",
    )
    ap.add_argument(
        "--per-device-cookies",
        action="store_true",
        help="a stale session cookie is sent again only by the browser that held it (fixes run 1's flaw)",
    )
    ap.add_argument(
        "--no-testsession",
        action="store_true",
        help="counterfactual: a successful login is redirected straight to /my/ without Moodle's "
        "/login/index.php?testsession=UID step",
    )
    args = ap.parse_args()
    global FAIL_ANSWER, PER_DEVICE_COOKIES, TESTSESSION
    TESTSESSION = not args.no_testsession
    PER_DEVICE_COOKIES = args.per_device_cookies
    FAIL_ANSWER = args.failed_login_answer
    os.makedirs(args.out, exist_ok=True)
    g = Gen(args.seed)
    rng = g.rng
    site = Site(rng)
    people = [Person(rng, site, uid) for uid in range(100, 100 + args.students)]
    people += [Person(rng, site, uid, staff=True) for uid in STAFF_IDS]
    nid = 100 + args.students
    # new students arriving each day (late enrolments)
    for day in range(TRAIN_DAYS + TEST_DAYS):
        for _ in range(rng.randint(15, 35)):
            people.append(Person(rng, site, nid, new_day=day))
            nid += 1
    deadlines = {3: None, 8: None}  # Thursday (train) and Tuesday (test) 23:59 quiz deadlines
    for d in deadlines:
        course = rng.choice(site.courses)
        while not site.cms[course]["quiz"]:
            course = rng.choice(site.courses)
        deadlines[d] = (course, site.cms[course]["quiz"][0])
    # make the deadline courses big first-year modules
    for d, (course, cm) in deadlines.items():
        for p in rng.sample([p for p in people if not p.staff], 450):
            if course not in p.courses:
                p.courses.append(course)

    for day in range(TRAIN_DAYS + TEST_DAYS):
        weekday = (START + dt.timedelta(days=day)).weekday()
        we = weekday >= 5
        automation(g, site, rng, day)
        for p in people:
            if p.new_day is not None and p.new_day > day:
                continue
            first = p.new_day == day
            prob = p.activity * (0.45 if we else 1.0) * (0.75 if not p.staff else 1.0)
            if p.staff and we:
                prob *= 0.4
            if not first and rng.random() > prob:
                continue
            nvis = 1 + (rng.random() < 0.35) + (rng.random() < 0.1)
            dl = deadlines.get(day)
            for v in range(nvis):
                h = pick_hour(rng, STAFF_HOUR_W if p.staff else HOUR_W)
                t = day * 86400 + h * 3600 + rng.uniform(0, 3600)
                dq = None
                if dl and not p.staff and dl[0] in p.courses and v == 0 and rng.random() < 0.8:
                    # deadline night: most do it in the last hours
                    t = day * 86400 + rng.choice([19, 20, 21, 22, 22, 23, 23, 23]) * 3600 + rng.uniform(0, 3000)
                    dq = dl
                if p.app and rng.random() < 0.6 and not dq:
                    app_visit(g, site, p, rng, t, day, login=first or rng.random() < 0.03)
                    continue
                person_visit(g, site, p, rng, t, day, deadline=dq, first=first and v == 0)
    bots(g, site, rng, people)

    g.events.sort(key=lambda e: (e[0], e[1]))
    cut = TRAIN_DAYS * 86400
    end = (TRAIN_DAYS + TEST_DAYS) * 86400
    train = [e for e in g.events if e[0] < cut]
    test = [e for e in g.events if cut <= e[0] < end]
    with open(os.path.join(args.out, "train.log"), "w") as f:
        for e in train:
            f.write(e[2] + "\n")
    test_sids = {}
    labels_lines = []
    with (
        open(os.path.join(args.out, "test.log"), "w") as f,
        open(os.path.join(args.out, "truth_test_lines.csv"), "w", newline="") as tf,
    ):
        tw = csv.writer(tf)
        tw.writerow(["line", "label", "persona", "person", "session"])
        for i, e in enumerate(test, 1):
            f.write(e[2] + "\n")
            tw.writerow([i, e[3], e[4], e[5], e[6] or "-"])
            if e[6]:
                lab = g.sessions[e[6]][0]
                test_sids.setdefault(e[6], lab)
            elif e[3] != "normal":
                labels_lines.append(("test.log:%d" % i, e[3]))
    with open(os.path.join(args.out, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label"])
        for s, lab in sorted(test_sids.items()):
            w.writerow([s, lab])
        for k, lab in labels_lines:
            w.writerow([k, lab])
    with open(os.path.join(args.out, "truth_sessions.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["session", "label", "persona", "person"])
        for s, (lab, per, pid) in sorted(g.sessions.items()):
            w.writerow([s, lab, per, pid])
    print(
        "train lines %d, test lines %d, sessions %d, test sessions %d, sessionless bot lines %d"
        % (len(train), len(test), len(g.sessions), len(test_sids), len(labels_lines))
    )


if __name__ == "__main__":
    main()
