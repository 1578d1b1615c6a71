#!/usr/bin/env python3
"""Synthetic, labelled nginx access log of a small independent bookshop
("Foxglove Books", https://www.foxglovebooks.co.uk) for testing bot detection.

  python3 bookshop_small.py --seed N --out DIR [--sessions-per-day K] [--train-days D] [--test-days T]

Writes DIR/train.log (human sessions only), DIR/test.log (humans + bots) and
DIR/labels.csv (key,label for every test-period session).  Standard library
only; output is a pure function of the arguments.
Line format:
  - - - [$time_local] "$request" $status $body_bytes_sent "$http_referer" $session_id "$http_user_agent"
"""

import argparse
import calendar
import datetime as dt
import hashlib
import math
import os
import random
import string
from urllib.parse import quote_plus, unquote_plus

HOST = "https://www.foxglovebooks.co.uk"
V = "?v=4.2.1"
CSS, VJS, AJS = "/static/css/site.css" + V, "/static/js/vendor.min.js" + V, "/static/js/app.js" + V
FONTS = ["/static/fonts/lora-regular.woff2", "/static/fonts/lora-italic.woff2", "/static/fonts/inter-var.woff2"]
SPRITE, LOGO, FAV = "/static/img/icons.svg", "/static/img/logo.svg", "/favicon.ico"
CHECKOUT_JS = "/static/js/checkout.js" + V
CATS = ["fiction", "crime", "history", "children", "poetry", "science", "travel", "cookery"]
FOOT = ["/about", "/contact", "/delivery", "/returns", "/privacy", "/gift-cards"]
ALNUM = string.ascii_lowercase + string.digits
UTC = dt.timezone.utc
MON = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
W1 = "Silent Winter Hidden Paper Salt Northern Last Glass Quiet Burning Little Wild Lost Golden Iron Secret Drowned Long Bright Small".split()
W2 = (
    "Garden River Orchard Lighthouse Kingdom Harbour Letters Island Station Weather Library House "
    "Crossing Sea Moor Empire Kitchen Atlas Bridge Hours Fox Marsh Comet Tide"
).split()
FN = "Hilary Kazuo Sarah Maggie Ali Robert Anne Tessa Colm Jon Elif Richard Zadie Ian Rachel Douglas Nina Helen Ruth Abdulrazak".split()
LN = (
    "Mantel Ishiguro Moss O'Farrell Smith Macfarlane Cleeves Hadley Toibin McGregor Shafak Osman Lively Rankin "
    "Joyce Stuart Stibbe Macdonald Ozeki Gurnah"
).split()
POSTS = [
    "staff-picks-autumn",
    "our-favourite-debuts",
    "in-conversation-with-sarah-moss",
    "ten-books-for-a-rainy-weekend",
    "why-we-love-poetry-pamphlets",
    "crime-fiction-book-club-notes",
    "the-shop-turns-ten",
    "summer-reading-for-children",
    "walking-books-and-where-to-read-them",
    "christmas-gift-guide",
    "cookbooks-we-actually-cook-from",
    "history-books-of-the-year",
    "meet-the-team-ruth",
    "translated-fiction-month",
    "a-guide-to-signed-editions",
    "indie-bookshop-week",
    "science-writing-for-the-curious",
    "our-year-in-books",
]
EVENTS = ["author-evening-elif-shafak", "childrens-storytime-saturdays", "poetry-open-mic", "crime-book-club"]
GENERIC = [
    "gift card",
    "signed",
    "book club",
    "opening times",
    "childrens books",
    "tote bag",
    "bookmarks",
    "christmas",
    "poetry",
    "maps",
    "cook book",
    "paperback",
]
STOP = {"the", "and", "for", "books", "book", "of", "a", "in"}
MED = dict(
    home=10,
    list=14,
    product=28,
    search=9,
    post=70,
    static=20,
    cart=16,
    account=12,
    login=10,
    checkout=40,
    events=22,
    err=6,
    raw=3,
)
HOURS = [1, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.5, 3.5, 4, 4.2, 4.5, 4.3, 4, 3.8, 3.6, 3.5, 4, 4.8, 5.2, 4.5, 3, 1.8]
BASEW = dict(
    book=3,
    list=1.5,
    page=1.1,
    cat=0.6,
    nav=0.45,
    foot=0.06,
    post=1,
    cart=0.12,
    acct=0.05,
    search=0.3,
    event=0.5,
    checkout=1,
)
INTENTW = dict(
    browse=dict(book=1.3, page=1.3),
    blog=dict(post=6, book=0.6, event=2),
    buyer=dict(book=1.5, cart=2),
    search=dict(book=1.3),
    account=dict(acct=12, nav=0.5),
)


def hfrac(s):
    return int(hashlib.md5(s.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def hsize(s, lo, hi):
    return int(lo + (hi - lo) * hfrac(s))


def slug(s):
    return "".join(c if c.isalnum() else "-" for c in s.lower().replace("'", "")).strip("-").replace("--", "-")


def toks(s):
    return [w for w in "".join(c if c.isalnum() or c == "'" else " " for c in s.lower()).split()]


class Site:
    """Fixed site map (does not depend on --seed)."""

    def __init__(self):
        r = random.Random(2024)
        self.books, seen = [], set()
        while len(self.books) < 120:
            a, b, c = r.choice(W1), r.choice(W2), r.choice(W2)
            title = r.choice([f"The {a} {b}", f"{a} {b}", f"{b} for {r.choice(FN)}", f"{b} and {c}", f"The {b} {c}"])
            if title in seen or b == c:
                continue
            seen.add(title)
            self.books.append(
                dict(
                    title=title,
                    author=f"{r.choice(FN)} {r.choice(LN)}",
                    slug=slug(title),
                    cat=r.choices(CATS, [30, 18, 12, 12, 5, 8, 7, 8])[0],
                    isbn="978" + "".join(r.choice(string.digits) for _ in range(10)),
                )
            )
        self.by_slug = {b["slug"]: b for b in self.books}
        self.P, self.scache = {}, {}
        nav = (
            [
                ("/", "nav"),
                ("/books", "nav"),
                ("/blog", "nav"),
                ("/events", "nav"),
                ("/cart", "cart"),
                ("/account", "acct"),
            ]
            + [(f"/books/category/{c}", "cat") for c in CATS]
            + [(u, "foot") for u in FOOT]
        )
        self.nav = nav
        B = self.books
        thumb = lambda b: f"/static/img/covers/{b['isbn']}-s.jpg"
        feat = r.sample(B, 8)
        self.add(
            "/",
            "home",
            [(f"/book/{b['slug']}", "book") for b in feat]
            + [(f"/blog/{p}", "post") for p in POSTS[:3]]
            + [("/books", "list"), ("/events", "event")],
            ["/static/img/banner-shopfront.jpg"] + [thumb(b) for b in feat],
            lazy=[f"/static/img/blog/{p}.jpg" for p in POSTS[:3]],
        )
        self.listing("/books", B, 12, thumb)
        for srt in ("price-asc", "newest"):
            self.listing(f"/books?sort={srt}", sorted(B, key=lambda b: hfrac(srt + b["isbn"])), 12, thumb, maxp=2)
        for c in CATS:
            self.listing(f"/books/category/{c}", [b for b in B if b["cat"] == c], 12, thumb)
        for i, b in enumerate(B):
            recs = [B[(i + k * 7) % len(B)] for k in (1, 2, 3, 4)]
            post = POSTS[i % len(POSTS)]
            self.add(
                f"/book/{b['slug']}",
                "product",
                [
                    (f"/books/category/{b['cat']}", "cat"),
                    (f"/search?q={quote_plus(b['author'])}", "search"),
                    (f"/blog/{post}", "post"),
                ]
                + [(f"/book/{x['slug']}", "book") for x in recs],
                [f"/static/img/covers/{b['isbn']}-m.jpg"],
                lazy=[thumb(x) for x in recs],
                xhr=[f"/api/stock?isbn={b['isbn']}", f"/api/recommendations?isbn={b['isbn']}"],
            )
        for pg in (1, 2):
            ps = POSTS[(pg - 1) * 9 : pg * 9]
            self.add(
                "/blog" + ("" if pg == 1 else f"?page={pg}"),
                "list",
                [(f"/blog/{p}", "post") for p in ps] + [("/blog?page=2" if pg == 1 else "/blog", "page")],
                [f"/static/img/blog/{p}.jpg" for p in ps],
            )
        for i, p in enumerate(POSTS):
            men = [B[(i * 5 + k) % len(B)] for k in range(3)]
            self.add(
                f"/blog/{p}",
                "post",
                [(f"/book/{b['slug']}", "book") for b in men]
                + [
                    (f"/blog/{POSTS[(i + 1) % len(POSTS)]}", "post"),
                    (f"/blog/{POSTS[i - 1]}", "post"),
                    ("/blog", "list"),
                ],
                [f"/static/img/blog/{p}.jpg"],
                lazy=[thumb(b) for b in men],
            )
        self.add(
            "/events",
            "events",
            [(f"/events/{e}", "event") for e in EVENTS],
            [f"/static/img/events/{e}.jpg" for e in EVENTS],
        )
        for i, e in enumerate(EVENTS):
            self.add(
                f"/events/{e}",
                "events",
                [("/events", "event"), (f"/book/{B[i * 11]['slug']}", "book")],
                [f"/static/img/events/{e}.jpg"],
            )
        for u in FOOT:
            self.add(
                u,
                "static",
                [],
                ["/static/img/shop-interior.jpg"]
                if u == "/about"
                else (["/static/img/map-static.png"] if u == "/contact" else []),
            )
        self.add("/cart", "cart", [("/checkout", "checkout"), ("/books", "list")], [])
        self.add("/account/login", "login", [("/account/register", "acct"), ("/account/forgot-password", "acct")], [])
        self.add("/account/register", "login", [("/account/login", "acct")], [])
        self.add("/account/forgot-password", "login", [("/account/login", "acct")], [])
        self.add("/account", "account", [("/account/orders", "acct"), ("/account/logout", "acct")], [])
        self.add(
            "/account/orders", "account", [("/account", "acct")] + [(f"/book/{b['slug']}", "book") for b in B[:2]], []
        )
        for u in ("/checkout", "/checkout/payment", "/checkout/complete"):
            self.add(u, "checkout", [("/books", "list")] if u.endswith("complete") else [], [], js=[CHECKOUT_JS])

    def add(self, url, t, links, imgs, lazy=(), xhr=(), js=()):
        self.P[url] = dict(
            t=t,
            links=links + ([] if t == "checkout" else self.nav),
            imgs=imgs,
            lazy=list(lazy),
            xhr=list(xhr),
            js=list(js),
            size=hsize(url, 5200, 11800),
        )

    def listing(self, base, items, per, thumb, maxp=99):
        n = max(1, min(maxp, math.ceil(len(items) / per)))
        sep = "&" if "?" in base else "?"
        for pg in range(1, n + 1):
            url = base if pg == 1 else f"{base}{sep}page={pg}"
            its = items[(pg - 1) * per : pg * per]
            pages = [(base if q == 1 else f"{base}{sep}page={q}", "page") for q in range(1, n + 1) if q != pg]
            self.add(url, "list", [(f"/book/{b['slug']}", "book") for b in its] + pages, [thumb(b) for b in its])

    def search(self, q):
        if q not in self.scache:
            qt = [w for w in toks(q) if len(w) >= 3 and w not in STOP]
            self.scache[q] = [
                b for b in self.books if qt and set(qt) & set(toks(b["title"] + " " + b["author"] + " " + b["cat"]))
            ]
        return self.scache[q]

    def info(self, url, S=None):
        path, _, qs = url.partition("?")
        if "utm_" in qs:
            url = path
        if url in ("/account", "/account/orders") and not (S and S.logged):
            return dict(t="redir", st=302, loc="/account/login?next=" + quote_plus(url, safe=""))
        if url == "/account/logout":
            return dict(t="redir", st=302, loc="/")
        if url == "/checkout" and not (S and S.cart):
            return dict(t="redir", st=302, loc="/cart")
        if path == "/shop" or path == "/books/":
            return dict(t="redir", st=301, loc="/books")
        if path.startswith("/product/"):
            return dict(t="redir", st=301, loc="/book/" + path[9:])
        if path.startswith("/account/login"):
            url = "/account/login"
        if url in self.P:
            return dict(self.P[url], st=200)
        if path == "/search":
            q, pg = "", 1
            for kv in qs.split("&"):
                k, _, v = kv.partition("=")
                if k == "q":
                    q = unquote_plus(v)
                elif k == "page" and v.isdigit():
                    pg = int(v)
            res = self.search(q)
            its = res[(pg - 1) * 12 : pg * 12]
            more = [(f"/search?q={quote_plus(q)}&page={pg + 1}", "page")] if len(res) > pg * 12 else []
            return dict(
                t="search",
                st=200,
                links=[(f"/book/{b['slug']}", "book") for b in its] + more + self.nav,
                imgs=[f"/static/img/covers/{b['isbn']}-s.jpg" for b in its],
                lazy=[],
                xhr=[],
                js=[],
                size=4300 + 610 * len(its),
            )
        if path in ("/robots.txt", "/sitemap.xml"):
            return dict(t="raw", st=200, size=260 if path == "/robots.txt" else 21800)
        if path.startswith("/api/"):
            return dict(t="raw", st=200, size=hsize(url, 60, 2400))
        return dict(t="err", st=404, links=self.nav, imgs=[], lazy=[], xhr=[], js=[], size=3120)


def asset_size(u):
    p = u.split("?")[0]
    rng = {
        ".css": (23000, 26000),
        ".js": (14000, 91000),
        ".woff2": (28000, 46000),
        ".svg": (2100, 9800),
        ".ico": (5430, 5431),
        ".png": (48000, 120000),
    }
    for ext, (lo, hi) in rng.items():
        if p.endswith(ext):
            return hsize(p, lo, hi)
    if p.endswith("-s.jpg"):
        return hsize(p, 5200, 14800)
    if p.endswith("-m.jpg"):
        return hsize(p, 24000, 61000)
    if p.endswith("-l.jpg"):
        return hsize(p, 120000, 350000)
    return hsize(p, 40000, 160000)


# ---------------------------------------------------------------- user agents
def months(d):
    return (d.year - 2019) * 12 + d.month - 8 + d.day / 30.0


def chrome_v(d):
    m = months(d)
    return int(76 + 0.72 * m) if m < 25 else int(94 + 0.98 * (m - 25))


def ff_v(d):
    m = months(d)
    return int(68 + 0.85 * m) if m < 5 else int(72 + 1.03 * (m - 5))


def chrome_full(v, r):
    v += v == 82  # Chrome 82 was never released
    b = 3809 + 45 * (v - 76) if v <= 100 else 4896 + 60 * (v - 100)
    return f"{v}.0.{b + r.randint(0, 40)}.{r.randint(40, 220)}"


def lag(r):
    return r.choices([0, 1, 2, 3, r.randint(4, 18)], [45, 28, 12, 7, 8])[0]


def safari(d, r):
    m = months(d) - 1.6 - (12 if r.random() < 0.15 else 0) - (2 * r.randint(0, 2) if r.random() < 0.4 else 0)
    if m < 0:
        return 12, 1
    return 13 + int(m // 12), min(6, int((m % 12) / 2))


def android(d, r):
    m = max(0, months(d))
    av = max(9, min(15, int(9 + m / 12) - r.choice([0, 0, 1, 1, 2, 3])))
    models = [
        "SM-G960F",
        "SM-G973F",
        "SM-A505FN",
        "Pixel 3a",
        "SM-A515F",
        "Pixel 4a",
        "SM-G991B",
        "moto g(8) power",
        "SM-A525F",
        "Pixel 6",
        "SM-S901B",
        "Redmi Note 10 Pro",
        "SM-A536B",
        "Pixel 7",
        "SM-S911B",
        "Pixel 8",
    ]
    return av, r.choice(models[: min(len(models), 4 + int(m / 5))])


def make_ua(kind, d, r, lg=None):
    """kind: platform/browser key. Returns (ua, family, mobile)."""
    lg = lag(r) if lg is None else lg
    cv, fv = max(70, chrome_v(d) - lg), max(60, ff_v(d) - lg)
    cv += cv == 82
    cfull = f"{cv}.0.0.0" if cv >= 110 else chrome_full(cv, r)
    win = "Windows NT 6.1; Win64; x64" if months(d) < 36 and r.random() < 0.1 else "Windows NT 10.0; Win64; x64"
    mac = "10_15_7" if months(d) > 14 else r.choice(["10_14_6", "10_15_1", "10_13_6"])
    wk = "AppleWebKit/537.36 (KHTML, like Gecko)"
    if kind in ("chrome-win", "chrome-mac", "chrome-linux", "edge"):
        plat = {"chrome-mac": f"Macintosh; Intel Mac OS X {mac}", "chrome-linux": "X11; Linux x86_64"}.get(kind, win)
        ua = f"Mozilla/5.0 ({plat}) {wk} Chrome/{cfull} Safari/537.36"
        if kind == "edge":
            ua += f" Edg/{cv}.0.{max(300, 309 + (cv - 79) * 48) + r.randint(0, 30)}.{r.randint(30, 120)}"
        return ua, "edge" if kind == "edge" else "chrome", False
    if kind.startswith("firefox-") and kind != "firefox-android":
        plat = {
            "firefox-win": win.replace("6.1", "10.0") if r.random() < 0.5 else win,
            "firefox-mac": "Macintosh; Intel Mac OS X 10.15",
            "firefox-linux": r.choice(["X11; Ubuntu; Linux x86_64", "X11; Linux x86_64"]),
        }[kind]
        return f"Mozilla/5.0 ({plat}; rv:{fv}.0) Gecko/20100101 Firefox/{fv}.0", "firefox", False
    if kind in ("safari-mac", "ipad"):
        ma, mi = safari(d, r)
        return (
            (
                f"Mozilla/5.0 (Macintosh; Intel Mac OS X {mac}) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                f"Version/{ma}.{mi}{r.choice(['', '', '.1'])} Safari/605.1.15"
            ),
            "safari",
            kind == "ipad",
        )
    if kind in ("iphone", "crios"):
        ma, mi = safari(d, r)
        ios = f"{ma}_{mi}" + r.choice(["", "", "_1", "_2"])
        if kind == "crios":
            return (
                (
                    f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                    f"CriOS/{chrome_full(cv, r)} Mobile/15E148 Safari/604.1"
                ),
                "chrome",
                True,
            )
        return (
            (
                f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                f"Version/{ma}.{mi} Mobile/15E148 Safari/604.1"
            ),
            "safari",
            True,
        )
    av, model = android(d, r)
    dev = "Android 10; K" if cv >= 110 else f"Android {av}; {model}"
    if kind == "samsung":
        sv = max(9, int(10 + 0.26 * months(d)) - min(lg, 3))
        c2 = f"{cv - 10}.0.0.0" if sv >= 21 else chrome_full(cv - 10, r)
        dev = "Android 10; K" if sv >= 21 else f"Android {av}; {model}"
        return f"Mozilla/5.0 (Linux; {dev}) {wk} SamsungBrowser/{sv}.0 Chrome/{c2} Mobile Safari/537.36", "chrome", True
    if kind == "firefox-android":
        return f"Mozilla/5.0 (Android {av}; Mobile; rv:{fv}.0) Gecko/{fv}.0 Firefox/{fv}.0", "firefox", True
    return f"Mozilla/5.0 (Linux; {dev}) {wk} Chrome/{cfull} Mobile Safari/537.36", "chrome", True


DESKTOP = dict(
    zip(
        [
            "chrome-win",
            "chrome-mac",
            "edge",
            "firefox-win",
            "firefox-mac",
            "firefox-linux",
            "safari-mac",
            "chrome-linux",
        ],
        [38, 12, 14, 8, 3, 3, 17, 2],
    )
)
MOBILE = dict(zip(["iphone", "chrome-android", "samsung", "crios", "firefox-android", "ipad"], [46, 28, 12, 5, 2, 7]))


def rand_browser(d, r, mobile=None):
    mobile = r.random() < 0.47 if mobile is None else mobile
    pool = MOBILE if mobile else DESKTOP
    return make_ua(r.choices(list(pool), list(pool.values()))[0], d, r)


# ------------------------------------------------------------------ time
def uk_offset(ts):
    y = dt.datetime.fromtimestamp(ts, UTC).year

    def last_sun(m):
        d = dt.datetime(y, m, calendar.monthrange(y, m)[1], 1, tzinfo=UTC)
        return (d - dt.timedelta(days=(d.weekday() + 1) % 7)).timestamp()

    return 3600 if last_sun(3) <= ts < last_sun(10) else 0


def tlocal(ts):
    off = uk_offset(ts)
    d = dt.datetime.fromtimestamp(int(math.floor(ts)) + off, UTC)
    return f"{d.day:02d}/{MON[d.month - 1]}/{d.year}:{d:%H:%M:%S} {'+0100' if off else '+0000'}"


# ------------------------------------------------------------------ sessions
class Visitor:
    def __init__(self, ua, fam, mobile, account):
        self.ua, self.fam, self.mobile, self.account, self.cache = ua, fam, mobile, account, set()


class Sess:
    def __init__(self, g, vis, label, proto="HTTP/2.0", js=True, timing="human"):
        r = g.r
        self.sid = "".join(r.choice(ALNUM) for _ in range(26))
        self.vis, self.ua, self.fam, self.mobile, self.cache = vis, vis.ua, vis.fam, vis.mobile, vis.cache
        self.label, self.proto, self.js, self.timing = label, proto, js, timing
        self.seen, self.recs, self.path, self.lazy = set(), [], [], []
        self.logged, self.cart, self.favicon = False, 0, True
        self.scroll = r.uniform(0.55, 0.9)
        self.lat = r.uniform(1.3, 2.6) if vis.mobile else r.uniform(0.6, 1.3)
        self.speed = math.exp(r.gauss(0, 0.35))
        self.nfail = r.choices([0, 1, 2], [65, 25, 10])[0]

    def emit(self, t, m, url, st, size, ref):
        if ref != "-" and ref.startswith("/"):
            ref = HOST + ref
        self.recs.append((t, m, url, st, size, ref))


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.site = Site()
        self.pool, self.paths, self.train, self.test = [], [], [], []

    def ln(self, med, sig):
        return math.exp(math.log(med) + self.r.gauss(0, sig))

    def wchoice(self, d):
        return self.r.choices(list(d), list(d.values()))[0]

    # ---- requests
    def asset(self, S, t, url, ref, force=False):
        if url in S.seen and not force:
            return
        S.seen.add(url)
        if url in S.cache:
            p = 1 if force else (0.06 if ("?v=" in url or "fonts" in url) else 0.3)
            if self.r.random() < p:
                S.emit(t, "GET", url, 304, 0, ref)
            return
        S.cache.add(url)
        S.emit(t, "GET", url, 200, asset_size(url), ref)

    def load(self, S, t, url, ref, method="GET", st=None, loc=None, assets=True, reload=False):
        """Request a document (and, for a browser, its sub-resources). Returns (t_ready, final_url)."""
        r, info = self.r, self.site.info(url, S)
        st = st or info["st"]
        loc = loc or info.get("loc")
        size = (
            0
            if st in (302, 304) or method == "HEAD"
            else 169
            if st == 301
            else int(info["size"] * r.uniform(0.985, 1.015))
            if info["t"] not in ("raw", "redir")
            else info.get("size", 0)
        )
        S.emit(t, method, url, st, size, ref)
        if st in (301, 302):
            return self.load(S, t + r.uniform(0.05, 0.3) * S.lat, loc, ref, assets=assets)
        if st == 429 or info["t"] in ("raw", "redir") or not assets:
            return t + r.uniform(0.05, 0.4), url
        L = S.lat
        tc = t + r.uniform(0.08, 0.35) * L
        for a in [CSS, LOGO] + info["imgs"][: 4 if S.mobile else 8]:
            self.asset(S, tc + r.uniform(0, 0.5) * L, a, url, force=reload and S.fam == "firefox")
        tf = tc + r.uniform(0.05, 0.25) * L
        for f in FONTS + [SPRITE]:
            self.asset(S, tf + r.uniform(0, 0.15) * L, f, CSS, force=reload and S.fam == "firefox")
        tj = tc + r.uniform(0, 0.2) * L
        for a in [VJS, AJS] + info["js"]:
            self.asset(S, tj + r.uniform(0, 0.1), a, url, force=reload and S.fam == "firefox")
        S.lazy = [(a, url) for a in info["imgs"][4 if S.mobile else 8 :] + info["lazy"]]
        tx = tj + r.uniform(0.2, 0.6) * L
        if S.js:
            for x in ["/api/cart/count"] + info["xhr"]:
                S.emit(
                    tx + r.uniform(0, 0.15),
                    "GET",
                    x,
                    200,
                    hsize(x, 60, 2400) if x != "/api/cart/count" else 17 + (S.cart > 9),
                    url,
                )
        if S.favicon and FAV not in S.seen:
            self.asset(S, tx + r.uniform(0.1, 1.2), FAV, url)
        return tx + r.uniform(0.1, 0.5) * L, url

    def go(self, S, t, url, ref, **kw):
        S.path.append((url, ref, t))
        return self.load(S, t, url, ref, **kw)

    def read(self, S, t, d):
        """Reading a page for d seconds: scrolling triggers lazy images."""
        if S.lazy and self.r.random() < S.scroll:
            k = max(1, math.ceil(len(S.lazy) * self.r.uniform(0.3, 1)))
            for i, (a, ref) in enumerate(S.lazy[:k]):
                self.asset(S, t + d * min(0.95, (i + 1) / (k + 1) + self.r.uniform(0, 0.05)), a, ref)
        S.lazy = []

    def dwell(self, S, pt):
        med = MED.get(pt, 15) * S.speed
        if S.timing == "adv":
            return min(240, max(1.5, self.ln(med * 0.55, 0.45)))
        d = self.ln(med, 1.0)
        if self.r.random() < 0.04:
            d += self.ln(240, 0.8)
        return min(1800, max(1.0, d))

    def typing(self, S, t, q, cur):
        tp = 0
        per = self.r.uniform(0.15, 0.3) * (1.6 if S.mobile else 1) * (0.7 if S.timing == "adv" else 1)
        nxt = self.r.randint(3, 4)
        for i in range(1, len(q) + 1):
            tp += per * self.r.uniform(0.5, 1.8)
            if i >= nxt and S.js:
                S.emit(
                    t + tp + 0.3, "GET", "/api/search/suggest?q=" + quote_plus(q[:i]), 200, hsize(q[:i], 40, 900), cur
                )
                nxt = i + self.r.randint(2, 5)
        return t + tp + self.r.uniform(0.3, 1.5)

    def query(self):
        r, b = self.r, self.r.choice(self.site.books)
        x = r.random()
        if x < 0.35:
            q = b["author"] if r.random() < 0.5 else b["author"].split()[-1]
        elif x < 0.75:
            w = [w for w in b["title"].split() if w not in ("The", "A", "and", "for")]
            q = " ".join(w[: r.randint(1, len(w))])
        elif x < 0.83:
            q = r.choice(CATS)
        else:
            q = r.choice(GENERIC)
        return q.lower() if r.random() < 0.7 else q

    def typo(self, q):
        r, i = self.r, self.r.randrange(len(q))
        k = r.randrange(4)
        if k == 0:
            return q[:i] + q[i + 1 :] or q
        if k == 1 and i < len(q) - 1:
            return q[:i] + q[i + 1] + q[i] + q[i + 2 :]
        if k == 2:
            return q[:i] + q[i] + q[i:]
        return q[:i] + r.choice("qwertyuiopasdfghjklzxcvbnm") + q[i + 1 :]

    def search(self, S, t, cur, typos=True):
        q = self.query()
        typed = self.typo(q) if typos and self.r.random() < 0.22 else q
        t = self.typing(S, t, typed, cur)
        t, url = self.go(S, t, "/search?q=" + quote_plus(typed), cur)
        if typed != q and not self.site.search(typed) and self.r.random() < 0.85:
            t += self.ln(5, 0.5)
            t = self.typing(S, t, q, url)
            t, url = self.go(S, t, "/search?q=" + quote_plus(q), url)
        return t, url

    def pick_link(self, S, cur, intent, uniform=False):
        info = self.site.info(cur, S)
        links = [(u, k) for u, k in info.get("links") or self.site.nav if u != cur]
        if uniform:
            return self.r.choice(links)[0]
        w, nb = [], 0
        for u, k in links:
            x = BASEW[k] * INTENTW.get(intent, {}).get(k, 1) * (4 if k == "cart" and S.cart else 1)
            if k == "book":
                x /= 1 + 0.15 * nb
                nb += 1
            w.append(x)
        return self.r.choices(links, w)[0][0]

    def login(self, S, t, cur):
        r = self.r
        if not cur.startswith("/account/login"):
            t, cur = self.go(S, t, "/account/login", cur)
        for tries in range(3):
            t += self.ln(11 if tries == 0 else 7, 0.5)
            if tries < S.nfail:
                t, _ = self.load(S, t, cur, cur, method="POST", st=200)
                if tries == 1 and r.random() < 0.35:
                    t += self.ln(4, 0.5)
                    t, fp = self.go(S, t, "/account/forgot-password", cur)
                    t += self.ln(15, 0.5)
                    return self.load(S, t, fp, fp, method="POST", st=302, loc="/account/forgot-password?sent=1")
                continue
            S.logged = True
            nxt = unquote_plus(cur.split("next=")[1]) if "next=" in cur else "/account"
            return self.load(S, t, cur, cur, method="POST", st=302, loc=nxt)
        return t, cur

    def checkout(self, S, t, cur):
        r = self.r
        t, c = self.go(S, t, "/checkout", cur) if cur != "/checkout" else (t, cur)
        if S.logged or r.random() < 0.5:
            S.emit(
                t + self.ln(20, 0.6),
                "GET",
                f"/api/postcode?pc={r.choice(['BS1', 'BS6', 'BA1', 'GL5', 'SN1'])}"
                f"+{r.randint(1, 9)}{r.choice('ABDEFGHJLNPQRSTUWXYZ')}{r.choice('ABDEFGHJLNPQRSTUWXYZ')}",
                200,
                312,
                c,
            )
        t += self.ln(60 if not S.logged else 25, 0.6)
        t, c = self.load(S, t, c, c, method="POST", st=302, loc="/checkout/payment")
        t += self.ln(45, 0.5)
        if r.random() < 0.1:
            t, c = self.load(S, t, c, c, method="POST", st=200)
            t += self.ln(35, 0.5)
        S.cart = 0
        return self.load(S, t, c, c, method="POST", st=302, loc="/checkout/complete")

    def landing(self, S, intent, returning):
        r, B = self.r, self.site.books
        src = self.wchoice(
            dict(
                direct=30 + 25 * returning,
                google=34,
                bing=6,
                ddg=4,
                facebook=6,
                instagram=4,
                news=2 + 8 * returning,
                other=3,
            )
        )
        ref = {
            "google": r.choice(["https://www.google.com/", "https://www.google.co.uk/"]),
            "bing": "https://www.bing.com/",
            "ddg": "https://duckduckgo.com/",
            "facebook": r.choice(["https://l.facebook.com/", "https://m.facebook.com/"]),
            "instagram": "https://l.instagram.com/",
            "other": r.choice(
                [
                    "https://www.thebookseller.com/",
                    "https://www.visitbristol.co.uk/",
                    "https://www.reddit.com/",
                    "https://uk.bookshop.org/",
                ]
            ),
        }.get(src, "-")
        prod = "/book/" + r.choice(B)["slug"]
        if intent == "account":
            return (r.choice(["/account/login", "/", "/account"]) if src == "direct" else "/"), ref
        if src == "news":
            if S.mobile and S.fam == "chrome" and r.random() < 0.5:
                ref = "android-app://com.google.android.gm/"
            return r.choice(
                ["/blog/" + r.choice(POSTS), "/events", prod]
            ) + "?utm_source=newsletter&utm_medium=email", ref
        if src in ("facebook", "instagram"):
            return r.choice(["/blog/" + r.choice(POSTS), "/events/" + r.choice(EVENTS), prod, "/"]), ref
        if src == "direct":
            return self.wchoice({"/": 70, prod: 12, "/books": 8, "/blog": 5, "/cart": 5}), ref
        x = r.random()
        if x < 0.015:
            return r.choice(["/blog/2018/summer-reading-list", "/book/" + r.choice(B)["slug"] + "-hardback"]), ref
        if x < 0.06:
            return prod.replace("/book/", "/product/"), ref
        land = self.wchoice(
            {
                prod: 48,
                "/": 20,
                "/blog/" + r.choice(POSTS): 12,
                "/books/category/" + r.choice(CATS): 10,
                r.choice(["/contact", "/delivery", "/events", "/gift-cards"]): 8,
                "/books": 2,
            }
        )
        return land, ref

    def browse(self, S, t, intent, npages, land, ref, mode="human"):
        r = self.r
        t, cur = self.go(S, t, land, ref)
        if S.fam == "safari" and S.mobile and r.random() < 0.12:
            for u in ("/apple-touch-icon-precomposed.png", "/apple-touch-icon.png"):
                S.emit(t + r.uniform(0.5, 2), "GET", u, 404, 3120, "-")
        hist, refs, n = [], {cur: ref}, 1
        while n < npages:
            info = self.site.info(cur, S)
            pt = info["t"]
            d = self.dwell(S, pt)
            self.read(S, t, d)
            t += d
            A = {"click": 1.0, "search": 0.6 if intent == "search" else 0.05}
            if hist:
                A["back"] = 0.2
            if mode == "human":
                A["reload"] = 0.02
                if pt in ("list", "home", "search"):
                    A["tabs"] = 0.05 if S.mobile else 0.22
                if S.vis.account and not S.logged:
                    A["login"] = 0.6 if intent == "account" else 0.025
            if pt == "product":
                A["image"] = 0.2
                A["cart"] = 0.4 if intent == "buyer" else 0.035
            if pt == "cart" and S.cart and mode == "human":
                A["checkout"] = 0.8 if intent == "buyer" else 0.2
            a = self.wchoice(A)
            if a == "click":
                nxt = self.pick_link(S, cur, intent)
                hist.append(cur)
                t, new = self.go(S, t, nxt, cur)
                refs[new], cur, n = cur, new, n + 1
            elif a == "search":
                hist.append(cur)
                t, cur = self.search(S, t, cur, typos=mode == "human")
                n += 1
            elif a == "back":
                prev = hist.pop()
                t += r.uniform(0.3, 1.5)
                if r.random() < 0.35:
                    t, _ = self.load(S, t, prev, refs.get(prev, "-"))
                cur = prev
            elif a == "reload":
                t, _ = self.load(S, t + r.uniform(0.2, 1), cur, refs.get(cur, "-"), reload=True)
            elif a == "image":
                isbn = info["imgs"][0].split("/")[-1][:13]
                self.asset(S, t, f"/static/img/covers/{isbn}-l.jpg", cur)
                t += self.ln(6, 0.6)
            elif a == "cart":
                S.cart += 1
                hist.append(cur)
                t, new = self.load(S, t + r.uniform(0.3, 2), "/cart/add", cur, method="POST", st=302, loc="/cart")
                S.path.append(("/cart", cur, t))
                refs[new], cur, n = cur, new, n + 1
            elif a == "login":
                hist.append(cur)
                t, cur = self.login(S, t, cur)
                n += 2
            elif a == "checkout":
                if S.vis.account and not S.logged and r.random() < 0.6:
                    t, cur = self.go(S, t + r.uniform(1, 4), "/account/login?next=%2Fcheckout", cur)
                    t, cur = self.login(S, t, cur)
                t, cur = self.checkout(S, t, cur)
                n += 3
                if r.random() < 0.7:
                    break
            elif a == "tabs":
                books = [u for u, k in info["links"] if k == "book"]
                picks = r.sample(books, min(len(books), r.randint(2, 5)))
                for u in picks:
                    t += r.uniform(0.6, 3.5)
                    self.go(S, t, u, cur)
                    S.lazy = []
                for u in picks:
                    t += r.uniform(0.3, 1.2)
                    dd = self.dwell(S, "product")
                    self.read(S, t, dd)
                    t += dd + r.uniform(0.3, 1)
                n += len(picks)
        return t

    # ---- humans
    def human(self, day0, returning_p, period):
        r = self.r
        h = r.choices(range(24), HOURS)[0]
        t = day0 + h * 3600 + r.uniform(0, 3600)
        t -= uk_offset(t)
        d = dt.datetime.fromtimestamp(t, UTC)
        if self.pool and r.random() < returning_p:
            vis = r.choice(self.pool)
        else:
            ua, fam, mob = rand_browser(d, r)
            vis = Visitor(ua, fam, mob, r.random() < 0.35)
            self.pool.append(vis)
        S = Sess(self, vis, "normal")
        intent = self.wchoice(dict(browse=45, search=18, blog=14, buyer=13, account=14 if vis.account else 0))
        n = 1 if r.random() < 0.28 else max(2, min(90, round(self.ln(6, 1.05))))
        if intent in ("buyer", "account"):
            n = max(n, 4)
        land, ref = self.landing(S, intent, vis.cache != set())
        self.browse(S, t, intent, n, land, ref)
        period.append(S)
        if len(S.path) >= 3 and period is self.train:
            self.paths.append(S.path)

    # ---- bots
    def bot_run(self, kind, t, nsess, d):
        r = self.r
        c = dict(kind=kind)
        if kind == "moderate_bot":
            c["sub"] = r.choice(["clicker", "urllist", "bfs"])
            c["brow"] = r.choice(["chrome", "firefox", "headless"])
            if c["brow"] == "headless":
                plat = r.choice(["X11; Linux x86_64", "Windows NT 10.0; Win64; x64"])
                c["ua"] = (
                    f"Mozilla/5.0 ({plat}) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/"
                    f"{chrome_full(chrome_v(d) - r.randint(0, 6), r)} Safari/537.36",
                    "chrome",
                    False,
                )
            else:
                c["ua"] = make_ua(
                    r.choice(["chrome-linux", "chrome-win", "chrome-mac"])
                    if c["brow"] == "chrome"
                    else r.choice(["firefox-linux", "firefox-win"]),
                    d,
                    r,
                    r.randint(0, 8),
                )
            c["sleep"], c["jit"] = r.choice([1, 2, 3, 5, 8, 10]), r.uniform(0, 3)
            c["scroll"] = r.random() < 0.25
            c["n"] = r.randint(6, 35)
            c["urls"] = r.sample(sorted(self.site.P), r.randint(5, 25))
            c["start"] = r.choice(["/", "/books", "/book/" + r.choice(self.site.books)["slug"]])
        elif kind == "advanced_bot":
            c["mode"] = "replay" if self.paths and r.random() < 0.4 else "mimic"
            c["path"] = r.choice(self.paths) if self.paths else None
            c["mobile"] = r.random() < 0.2
            c["rotate"] = r.random() < 0.5
            c["ua"] = rand_browser(d, r, c["mobile"])
        elif kind == "scraper":
            tool = r.choice(["requests", "curl", "scrapy", "go", "aiohttp", "spoof"])
            m = max(0, months(d))
            c["ua"] = {
                "requests": f"python-requests/2.{min(32, 22 + int(m / 6))}.0",
                "curl": f"curl/{'7.' + str(66 + int(m / 2.2)) + '.0' if m < 48 else '8.' + str(int((m - 48) / 2)) + '.0'}",
                "scrapy": f"Scrapy/2.{min(11, 1 + int(m / 6))}.0 (+https://scrapy.org)",
                "go": "Go-http-client/1.1",
                "aiohttp": f"Python/3.{8 + int(m / 14)} aiohttp/3.{6 + int(m / 16)}.2",
                "spoof": make_ua("chrome-win", d, r)[0],
            }[tool]
            c["proto"] = "HTTP/2.0" if tool in ("curl", "spoof") else "HTTP/1.1"
            c["target"] = (
                "sitemap" if tool == "scrapy" else r.choice(["catalogue", "category", "search", "api", "products"])
            )
            c["lo"] = r.uniform(0, 0.4)
            c["hi"] = c["lo"] + r.uniform(0.1, 1.5)
            c["n"] = r.randint(10, 60)
            c["refs"] = tool == "spoof" and r.random() < 0.6
            c["cat"] = r.choice(CATS)
        else:
            c["ua"] = make_ua("chrome-win", d, r, r.randint(0, 10))
            c["uamode"] = r.choice(["fixed", "fixed", "rotate", "requests"])
            c["book"] = "/book/" + r.choice(self.site.books)["slug"]
            c["lo"], c["hi"] = (0.3, 3) if kind == "credential_stuffing" else (2, 9)
        for i in range(nsess):
            S = self.bot_sess(c, d)
            t = getattr(self, kind)(S, t, c, i)
            self.test.append(S)
            t += {
                "moderate_bot": r.uniform(3, 150),
                "advanced_bot": r.uniform(60, 1800),
                "scraper": r.uniform(1, 90),
            }.get(kind, r.uniform(2, 40))

    def bot_sess(self, c, d):
        r, kind = self.r, c["kind"]
        ua = c["ua"]
        if kind == "advanced_bot" and c["rotate"]:
            ua = rand_browser(d, r, c["mobile"])
        if kind in ("credential_stuffing", "card_testing"):
            ua = {
                "fixed": ua,
                "rotate": rand_browser(d, r, False),
                "requests": (f"python-requests/2.{min(32, 22 + int(max(0, months(d)) / 6))}.0", "", False),
            }[c["uamode"]]
        if kind == "scraper":
            ua = (ua, "", False)
        proto = "HTTP/1.1" if ua[0].startswith("python") else c.get("proto", "HTTP/2.0")
        S = Sess(
            self,
            Visitor(ua[0], ua[1], ua[2], False),
            kind,
            proto=proto,
            js=kind in ("moderate_bot", "advanced_bot"),
            timing="adv" if kind == "advanced_bot" else "bot",
        )
        if kind == "moderate_bot":
            S.favicon, S.scroll, S.lat = c["brow"] != "headless", 1.0 if c["scroll"] else 0, r.uniform(0.4, 0.8)
        if kind == "advanced_bot":
            S.speed, S.scroll = math.exp(r.gauss(0, 0.15)), r.uniform(0.8, 1)
            S.nfail = 0
        return S

    def moderate_bot(self, S, t, c, i):
        r = self.r

        def visit(t, u, ref):
            t, u = self.load(S, t, u, ref)
            d = c["sleep"] + r.uniform(0, c["jit"])
            self.read(S, t, min(d, 1.0))
            return t + d, u

        if c["sub"] == "urllist":
            urls = list(c["urls"])
            if r.random() < 0.3:
                r.shuffle(urls)
            for u in urls:
                t, _ = visit(t, u, "-")
        elif c["sub"] == "clicker":
            t, cur = visit(t, c["start"], "-")
            for _ in range(c["n"] + r.randint(-3, 3)):
                t, cur = visit(t, self.pick_link(S, cur, "browse", uniform=True), cur)
        else:
            queue, seen, k = [("/", "-")], {"/"}, 0
            while queue and k < c["n"]:
                u, ref = queue.pop(0)
                t, cur = visit(t, u, ref)
                k += 1
                for v, _ in self.site.info(cur, S).get("links", []):
                    if v not in seen:
                        seen.add(v)
                        queue.append((v, cur))
        return t

    def advanced_bot(self, S, t, c, i):
        r = self.r
        if c["mode"] == "replay":
            path = c["path"]
            for k, (u, ref, t0) in enumerate(path):
                t, _ = self.load(S, t, u, ref)
                if k + 1 < len(path):
                    d = max(1.0, (path[k + 1][2] - t0) * self.ln(0.8, 0.2))
                    self.read(S, t, d)
                    t += d
            return t + self.ln(10, 0.5)
        intent = r.choice(["browse", "browse", "search", "blog", "buyer"])
        land, ref = self.landing(S, intent, False)
        return self.browse(S, t, intent, max(3, round(self.ln(9, 0.45))), land, ref, mode="adv")

    def scraper(self, S, t, c, i):
        r, B = self.r, self.site.books
        tg, n = c["target"], c["n"]
        off = i * n
        if tg == "catalogue":
            seq = []
            for p in range(1, 11):
                seq.append("/books" + ("" if p == 1 else f"?page={p}"))
                seq += ["/book/" + b["slug"] for b in B[(p - 1) * 12 : p * 12]]
        elif tg == "category":
            seq = [u for u in self.site.P if u.startswith("/books/category/" + c["cat"])]
            seq += ["/book/" + b["slug"] for b in B if b["cat"] == c["cat"]]
            off = 0
        elif tg == "search":
            words = sorted({w for b in B for w in toks(b["author"])})
            seq = ["/search?q=" + quote_plus(w) for w in words]
        elif tg == "api":
            seq = [f"/api/stock?isbn={b['isbn']}" for b in B]
        elif tg == "sitemap":
            seq = (
                ["/robots.txt", "/sitemap.xml"]
                + ["/book/" + b["slug"] for b in B[off % 120 :]]
                + ["/book/" + b["slug"] for b in B]
            )
            off = 0
        else:
            seq = ["/book/" + b["slug"] for b in B] + ["/product/" + B[k]["slug"] for k in range(0, 120, 17)]
        seq = (seq * 3)[off % len(seq) : off % len(seq) + n] if tg != "sitemap" else seq[: n + 2]
        prev = "-"
        for u in seq:
            t, u2 = self.load(S, t, u, prev if c["refs"] else "-", assets=False)
            prev = u2
            t += r.uniform(c["lo"], c["hi"])
        return t

    def credential_stuffing(self, S, t, c, i):
        r = self.r
        t, _ = self.load(S, t, "/account/login", "-", assets=False)
        lim = r.randint(8, 14)
        for k in range(r.randint(4, 20)):
            t += r.uniform(c["lo"], c["hi"])
            ref = "/account/login" if c["uamode"] != "requests" else "-"
            if k >= lim:
                S.emit(t, "POST", "/account/login", 429, 0, ref)
            elif r.random() < 0.02:
                S.logged = True
                t, _ = self.load(S, t, "/account/login", ref, method="POST", st=302, loc="/account", assets=False)
                S.logged = False
            else:
                S.emit(t, "POST", "/account/login", 200, hsize("login", 5200, 11800) + r.randint(-40, 40), ref)
        return t

    def card_testing(self, S, t, c, i):
        r = self.r
        t, cur = self.load(S, t, c["book"], "-", assets=False)
        S.cart = 1
        t, cur = self.load(
            S, t + r.uniform(0.5, 2), "/cart/add", c["book"], method="POST", st=302, loc="/cart", assets=False
        )
        t, cur = self.load(S, t + r.uniform(0.5, 2), "/checkout", cur, assets=False)
        t, cur = self.load(
            S, t + r.uniform(1, 4), "/checkout", cur, method="POST", st=302, loc="/checkout/payment", assets=False
        )
        for k in range(r.randint(3, 15)):
            t += r.uniform(c["lo"], c["hi"])
            if r.random() < 0.06:
                return self.load(S, t, cur, cur, method="POST", st=302, loc="/checkout/complete", assets=False)[0]
            S.emit(t, "POST", cur, 200, hsize(cur, 5200, 11800) + r.randint(-60, 60), cur)
        return t


def write(path, sessions):
    rows = []
    for S in sessions:
        for t, m, url, st, size, ref in S.recs:
            rows.append(
                (t, len(rows), f'- - - [{tlocal(t)}] "{m} {url} {S.proto}" {st} {size} "{ref}" {S.sid} "{S.ua}"')
            )
    rows.sort()
    with open(path, "w") as f:
        f.write("".join(x[2] + "\n" for x in rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sessions-per-day", type=int, default=12)
    ap.add_argument("--train-days", type=int, default=5)
    ap.add_argument("--test-days", type=int, default=3)
    a = ap.parse_args()
    g = Gen(a.seed)
    r = g.r
    span = (dt.date(2025, 2, 1) - dt.date(2019, 9, 1)).days
    start = dt.datetime.combine(dt.date(2019, 9, 1) + dt.timedelta(days=r.randrange(span)), dt.time(), UTC)

    def days(first, n, period, ret_p):
        for k in range(n):
            day = start + dt.timedelta(days=first + k)
            mult = 1.2 if day.weekday() >= 5 else 1.0
            for _ in range(max(1, round(a.sessions_per_day * mult * r.uniform(0.7, 1.3)))):
                g.human(day.timestamp(), ret_p(k), period)

    days(0, a.train_days, g.train, lambda k: 0.15 if k else 0)
    test0 = a.train_days + r.randint(2, 4)
    days(test0, a.test_days, g.test, lambda k: 0.3)
    nh = len(g.test)
    target = max(2, round(nh * r.uniform(0.85, 1.15)))
    kinds = ["moderate_bot", "advanced_bot", "scraper", r.choice(["credential_stuffing", "card_testing"])]
    r.shuffle(kinds)
    nb, runs = 0, []
    while nb < target:
        k = (
            kinds[len(runs)]
            if len(runs) < 4
            else r.choices(
                ["moderate_bot", "advanced_bot", "scraper", "credential_stuffing", "card_testing"], [32, 30, 23, 8, 7]
            )[0]
        )
        m = min(r.randint(2, 6), max(2, target - nb - 2 * max(0, 3 - len(runs))))
        runs.append((k, m))
        nb += m
    t_lo = (start + dt.timedelta(days=test0)).timestamp()
    for k, m in runs:
        t0 = t_lo + r.uniform(0, a.test_days * 86400 - 3600)
        g.bot_run(k, t0, m, dt.datetime.fromtimestamp(t0, UTC))
    os.makedirs(a.out, exist_ok=True)
    write(os.path.join(a.out, "train.log"), g.train)
    write(os.path.join(a.out, "test.log"), g.test)
    with open(os.path.join(a.out, "labels.csv"), "w") as f:
        f.write("key,label\n")
        for S in sorted(g.test, key=lambda S: min(x[0] for x in S.recs)):
            f.write(f"{S.sid},{S.label}\n")


if __name__ == "__main__":
    main()
