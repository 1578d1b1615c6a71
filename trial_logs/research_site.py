#!/usr/bin/env python3
"""Generate a labelled web-bot detection dataset in the style of Iliou et al. (2021).

Standard library only, deterministic for a seed.

A small research-lab website (home, about/team/contact, five sections with articles,
a paginated news list, publications, a photo gallery, a search page, images and static
assets) served by nginx with a session-id column:

    $remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $session_id

Three kinds of sessions, labelled per session id:

  human         volunteers browsing with their own desktop browsers (mouse users: no mobiles),
                log-normal reading times, back button (no request: bfcache), tabs, reloads,
                searches, image views; returning volunteers have a warm cache.
  moderate_bot  Selenium (Chrome/Firefox, headful) or Puppeteer (headless Chrome, default
                HeadlessChrome agent, no favicon) scripts: fixed sleep per script plus page-load
                jitter; random link clicks, a URL list with driver.get (no referer), or a BFS crawl.
                Fresh browser profile per session (cold cache: every asset fetched).
  advanced_bot  Puppeteer + stealth: ordinary desktop browser agents, residential proxy addresses,
                the same navigation model as humans (back button, searches, image views),
                log-normal pauses around a slightly shorter median with a narrower spread; one in
                five replays a recorded training-period human's clickstream with its pauses
                jittered +-20 %. Fresh profile per session (cold cache).

Periods: training = humans only; test (later) = other human sessions + bot runs.

Usage:
    python3 gen_webbot_logs.py --variant large --out data/large
    python3 gen_webbot_logs.py --variant small --out data/small
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

HOST = "https://www.mmlab-research.gr"
TZ = timezone(timedelta(hours=3))  # EEST (Greece, October 2019)

VARIANTS = {
    # train humans, test humans, moderate runs x sessions, advanced runs x sessions, days
    "large": dict(
        train_humans=50,
        test_humans=50,
        moderate_runs=(5, 10),
        advanced_runs=(10, 5),
        train_start=datetime(2019, 10, 1, tzinfo=TZ),
        train_days=10,
        test_start=datetime(2019, 10, 14, tzinfo=TZ),
        test_days=10,
        volunteers=36,
    ),
    "small": dict(
        train_humans=15,
        test_humans=15,
        moderate_runs=(3, 5),
        advanced_runs=(3, 5),
        train_start=datetime(2019, 10, 1, tzinfo=TZ),
        train_days=4,
        test_start=datetime(2019, 10, 14, tzinfo=TZ),
        test_days=4,
        volunteers=14,
    ),
}

# ---------------------------------------------------------------------------------------------
# The site
# ---------------------------------------------------------------------------------------------

COMMON_ASSETS = [  # (path, bytes, kind) fetched by every page (cached after the first)
    ("/static/css/bootstrap.min.css", 155758, "css"),
    ("/static/css/style.css", 18342, "css"),
    ("/static/js/jquery-3.4.1.min.js", 88145, "js"),
    ("/static/js/bootstrap.bundle.min.js", 80727, "js"),
    ("/static/js/main.js", 6231, "js"),
    ("/static/js/mouse-tracker.js", 4410, "js"),
    ("/static/img/logo.png", 12904, "img"),
]
FONT_ASSETS = [
    ("/static/fonts/roboto-v20-latin-regular.woff2", 15344),
    ("/static/fonts/roboto-v20-latin-700.woff2", 15420),
]
FAVICON = ("/favicon.ico", 5430)

SECTIONS = {
    "news": [
        "new-horizon-2020-project-on-multimodal-analytics",
        "best-paper-award-at-mmm-2019",
        "lab-hosts-summer-school-on-deep-learning",
        "new-dataset-for-web-bot-detection-released",
        "open-positions-for-phd-researchers",
        "keynote-talk-on-trustworthy-ai",
        "collaboration-with-regional-hospitals",
        "workshop-on-disinformation-detection",
        "demo-at-ict-conference-in-vienna",
        "annual-report-2018-published",
        "visit-from-the-european-commission",
        "student-hackathon-results",
        "new-partnership-on-smart-cities",
        "open-day-for-high-school-students",
    ],
    "projects": [
        "beaware-emergency-management",
        "connexions-forensic-search",
        "mover-social-media-monitoring",
        "xr4all-extended-reality",
        "infinity-law-enforcement-analytics",
        "perceptive-urban-sensing",
        "ai4media-centre-of-excellence",
        "eosc-synergy-open-science",
    ],
    "publications": [
        "detecting-web-bots-with-mouse-dynamics",
        "multimodal-retrieval-of-news-videos",
        "graph-neural-networks-for-event-detection",
        "privacy-preserving-video-analytics",
        "a-survey-of-fake-news-detection",
        "semantic-enrichment-of-satellite-images",
    ],
    "events": [
        "icmr-2019-tutorial",
        "info-day-on-cybersecurity",
        "seminar-on-explainable-ai",
        "mklab-open-day-2019",
        "hackathon-on-open-data",
    ],
    "software": [
        "video-shot-segmentation-tool",
        "twitter-stream-collector",
        "image-verification-assistant",
    ],
}
DEAD_LINK = "/news/workshop-registration-2017/"  # linked from an events page; removed -> 404
GALLERY = [f"/images/gallery/photo-{i:02d}.jpg" for i in range(1, 13)]
SEARCH_QUERIES = [
    "deep learning",
    "web bot",
    "bot detection",
    "projects",
    "phd",
    "summer school",
    "video",
    "fake news",
    "satellite",
    "positions",
    "dataset",
    "mouse",
    "smart cities",
    "cybersecurity",
    "horizon 2020",
    "publications 2019",
    "team",
    "contact",
]


def article_url(section: str, slug: str) -> str:
    return f"/{section}/{slug}/"


@dataclass
class Page:
    url: str
    kind: str  # home, section, article, search, gallery, static, image
    size: int
    images: list[tuple[str, int]]
    links: list[str]


def build_site(rng: random.Random) -> dict[str, Page]:
    pages: dict[str, Page] = {}

    def img(path: str) -> tuple[str, int]:
        return (path, rng.randint(18000, 160000))

    latest = [article_url("news", s) for s in SECTIONS["news"][:4]]
    nav = ["/", "/news/", "/projects/", "/publications/", "/events/", "/software/", "/gallery/", "/about/"]
    footer = ["/about/", "/team/", "/contact/"]
    thumbs = {}
    for sec, slugs in SECTIONS.items():
        for slug in slugs:
            thumbs[article_url(sec, slug)] = img(f"/images/thumbs/{slug}.jpg")
    hero = {}
    for sec, slugs in SECTIONS.items():
        for slug in slugs:
            hero[article_url(sec, slug)] = img(f"/images/{sec}/{slug}.jpg")

    pages["/"] = Page(
        "/",
        "home",
        rng.randint(30000, 36000),
        [img("/images/banner/slide-1.jpg"), img("/images/banner/slide-2.jpg"), img("/images/banner/slide-3.jpg")]
        + [thumbs[u] for u in latest],
        nav + latest + [article_url("projects", s) for s in SECTIONS["projects"][:3]] + footer,
    )
    for u in ["/about/", "/team/", "/contact/"]:
        ims = [img("/images/team/group-photo.jpg")] if u != "/contact/" else [img("/images/map.png")]
        pages[u] = Page(u, "static", rng.randint(14000, 26000), ims, nav + footer)
    for sec, slugs in SECTIONS.items():
        arts = [article_url(sec, s) for s in slugs]
        if sec == "news":
            pages["/news/"] = Page(
                "/news/",
                "section",
                rng.randint(24000, 30000),
                [thumbs[a] for a in arts[:8]],
                nav + arts[:8] + ["/news/?page=2"] + footer,
            )
            pages["/news/?page=2"] = Page(
                "/news/?page=2",
                "section",
                rng.randint(20000, 26000),
                [thumbs[a] for a in arts[8:]],
                nav + arts[8:] + ["/news/"] + footer,
            )
        else:
            pages[f"/{sec}/"] = Page(
                f"/{sec}/", "section", rng.randint(18000, 28000), [thumbs[a] for a in arts], nav + arts + footer
            )
        for i, a in enumerate(arts):
            related = [arts[(i + k) % len(arts)] for k in (1, 2, 3) if arts[(i + k) % len(arts)] != a]
            links = nav + [f"/{sec}/"] + related + latest + footer
            if a == article_url("events", "info-day-on-cybersecurity"):
                links.append(DEAD_LINK)
            pages[a] = Page(a, "article", rng.randint(26000, 48000), [hero[a]], links)
    pages["/gallery/"] = Page(
        "/gallery/",
        "gallery",
        rng.randint(16000, 20000),
        [(g.replace("/gallery/", "/gallery/thumbs/"), rng.randint(9000, 16000)) for g in GALLERY],
        nav + GALLERY + footer,
    )
    for g in GALLERY:
        pages[g] = Page(g, "image", rng.randint(250000, 900000), [], [])
    for a in list(pages):
        if pages[a].kind == "article":
            large = hero[a][0].replace(".jpg", "-large.jpg")
            pages[a].links.append(large)
            pages[large] = Page(large, "image", rng.randint(300000, 1200000), [], [])
    pages[DEAD_LINK] = Page(DEAD_LINK, "notfound", 3120, [], nav)
    return pages


def search_page(q: str, rng: random.Random, site: dict[str, Page]) -> Page:
    words = q.split()
    arts = [u for u, p in site.items() if p.kind == "article" and any(w[:4] in u for w in words)]
    if not arts:
        arts = rng.sample([u for u, p in site.items() if p.kind == "article"], 3)
    arts = arts[:8]
    url = "/search/?q=" + "+".join(words)
    thumbs = [(f"/images/thumbs/{a.strip('/').split('/')[-1]}.jpg", 20000 + 137 * len(a)) for a in arts]
    return Page(url, "search", 12000 + 2100 * len(arts), thumbs, ["/", "/news/", "/projects/", "/about/"] + arts)


# ---------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------

UA_DESKTOP = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/77.0.3865.120 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/77.0.3865.90 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:69.0) Gecko/20100101 Firefox/69.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:70.0) Gecko/20100101 Firefox/70.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/77.0.3865.120 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.2 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.18362",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:69.0) Gecko/20100101 Firefox/69.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/77.0.3865.90 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/77.0.3865.120 Safari/537.36",
]
UA_WEIGHTS = [22, 10, 10, 5, 8, 6, 6, 5, 6, 4]

UA_SELENIUM_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/77.0.3865.90 Safari/537.36"
)
UA_SELENIUM_FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:69.0) Gecko/20100101 Firefox/69.0"
UA_PUPPETEER_HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/78.0.3882.0 Safari/537.36"
)

# Residential Greek ISP blocks (OTE, Vodafone, Nova/Wind), checked as GR in a GeoLite2 copy.
RESIDENTIAL_BLOCKS = [
    "94.66",
    "94.67",
    "2.84",
    "2.85",
    "2.86",
    "2.87",
    "85.72",
    "85.73",
    "85.74",
    "79.103",
    "46.176",
    "46.177",
    "178.59",
    "62.74",
    "212.205",
    "188.4",
    "5.55",
    "80.106",
    "80.107",
    "109.242",
    "37.6",
]
ABROAD_BLOCKS = ["87.123", "93.109"]  # two volunteers abroad (DE, CY)
UNIVERSITY_NAT = ["155.207.19.4", "160.40.200.17"]  # department / institute NAT addresses
MODERATE_BOT_IPS = ["160.40.203.21", "160.40.203.22", "167.99.10.84"]  # lab workstations, a DO VM


def residential_ip(rng: random.Random, blocks=RESIDENTIAL_BLOCKS) -> str:
    return f"{rng.choice(blocks)}.{rng.randint(1, 254)}.{rng.randint(2, 254)}"


@dataclass
class Volunteer:
    vid: int
    ip: str
    ua: str
    sessions_done: int = 0


def make_volunteers(rng: random.Random, n: int) -> list[Volunteer]:
    vols = []
    for i in range(n):
        r = rng.random()
        if r < 0.25:
            ip = rng.choice(UNIVERSITY_NAT)
        elif r < 0.31:
            ip = residential_ip(rng, ABROAD_BLOCKS)
        else:
            ip = residential_ip(rng)
        ua = rng.choices(UA_DESKTOP, UA_WEIGHTS)[0]
        vols.append(Volunteer(i, ip, ua))
    return vols


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


@dataclass
class Req:
    t: float  # unix seconds
    ip: str
    method: str
    path: str
    status: int
    size: int
    referer: str
    ua: str
    sid: str


@dataclass
class Browser:
    """One browser session: fetches pages and the assets they need, with a cache."""

    rng: random.Random
    site: dict[str, Page]
    ip: str
    ua: str
    sid: str
    warm: bool = False  # common assets already cached from an earlier visit
    favicon: bool = True
    out: list[Req] = field(default_factory=list)
    cache: set = field(default_factory=set)
    pages: list[tuple[str, float, str]] = field(default_factory=list)  # (url, t, referer)

    def __post_init__(self):
        if self.warm:
            self.cache.update(p for p, _, _ in COMMON_ASSETS)
            self.cache.update(p for p, _ in FONT_ASSETS)
            self.cache.add(FAVICON[0])

    def emit(self, t, path, status, size, referer, method="GET"):
        self.out.append(Req(t, self.ip, method, path, status, size, referer, self.ua, self.sid))

    def load(self, t: float, page: Page, referer: str | None, reload: bool = False) -> float:
        """Request a page and its assets at time t; return when it finished loading."""
        ref = "-" if not referer else (referer if referer.startswith("http") else HOST + referer)
        status = 404 if page.kind == "notfound" else 200
        size = page.size + (self.rng.randint(-300, 300) if page.kind not in ("image", "notfound") else 0)
        self.emit(t, page.url, status, size, ref)
        self.pages.append((page.url, t, ref))
        if page.kind in ("image", "notfound"):
            return t + self.rng.uniform(0.2, 0.9)
        page_ref = HOST + page.url
        tt = t + self.rng.uniform(0.08, 0.35)
        for path, sz, kind in COMMON_ASSETS:
            if path not in self.cache:
                self.emit(tt + self.rng.uniform(0, 0.4), path, 200, sz, page_ref)
                self.cache.add(path)
            elif reload and kind in ("css", "js"):
                self.emit(tt + self.rng.uniform(0, 0.4), path, 304, 0, page_ref)
        for path, sz in FONT_ASSETS:
            if path not in self.cache:
                self.emit(tt + self.rng.uniform(0.3, 0.8), path, 200, sz, HOST + "/static/css/style.css")
                self.cache.add(path)
        for path, sz in page.images:
            if path not in self.cache:
                self.emit(tt + self.rng.uniform(0.2, 1.6), path, 200, sz, page_ref)
                self.cache.add(path)
            elif reload:
                self.emit(tt + self.rng.uniform(0.2, 1.6), path, 304, 0, page_ref)
        if self.favicon and FAVICON[0] not in self.cache:
            self.emit(tt + self.rng.uniform(0.5, 1.8), FAVICON[0], 200, FAVICON[1], "-")
            self.cache.add(FAVICON[0])
        return tt + self.rng.uniform(0.6, 2.2)


def new_sid(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuv0123456789") for _ in range(26))


# ---------------------------------------------------------------------------------------------
# Navigation model (humans; advanced bots imitate it)
# ---------------------------------------------------------------------------------------------

DWELL_MEDIAN = {
    "home": 9.0,
    "section": 8.0,
    "article": 32.0,
    "search": 7.0,
    "gallery": 10.0,
    "static": 14.0,
    "image": 6.0,
    "notfound": 4.0,
}


def choose_next(rng: random.Random, site: dict[str, Page], page: Page) -> tuple[str, str]:
    """(action, url): action in click, back, search."""
    links = page.links
    arts = [u for u in links if site.get(u) and site[u].kind == "article"]
    secs = [u for u in links if site.get(u) and site[u].kind in ("section", "gallery")]
    k = page.kind
    if k == "image" or k == "notfound":
        return "back", ""
    if k == "home":
        w = {"section": 0.42, "article": 0.32, "search": 0.1, "static": 0.1, "gallery": 0.06}
    elif k == "section":
        w = {"article": 0.66, "section": 0.14, "search": 0.06, "home": 0.08, "back": 0.06}
    elif k == "article":
        w = {
            "article": 0.28,
            "back": 0.22,
            "section": 0.16,
            "home": 0.08,
            "image": 0.1,
            "search": 0.1,
            "static": 0.03,
            "dead": 0.03,
        }
    elif k == "search":
        w = {"article": 0.7, "search": 0.18, "home": 0.06, "back": 0.06}
    elif k == "gallery":
        w = {"image": 0.7, "section": 0.15, "home": 0.15}
    else:  # about/team/contact
        w = {"home": 0.35, "section": 0.35, "static": 0.2, "search": 0.1}
    choice = rng.choices(list(w), list(w.values()))[0]
    if choice == "back":
        return "back", ""
    if choice == "search":
        return "search", rng.choice(SEARCH_QUERIES)
    if choice == "home":
        return "click", "/"
    if choice == "article" and arts:
        return "click", rng.choice(arts)
    if choice == "section" and secs:
        return "click", rng.choice(secs)
    if choice == "image":
        ims = [u for u in links if site.get(u) and site[u].kind == "image"]
        if ims:
            return "click", rng.choice(ims)
    if choice == "static":
        return "click", rng.choice(["/about/", "/team/", "/contact/"])
    if choice == "dead" and DEAD_LINK in links:
        return "click", DEAD_LINK
    return "click", rng.choice([u for u in links if u in site and site[u].kind != "image"])


def entry_page(rng: random.Random, site: dict[str, Page]) -> tuple[str, str | None]:
    r = rng.random()
    if r < 0.55:
        return "/", None
    if r < 0.8:
        arts = [u for u, p in site.items() if p.kind == "article"]
        return rng.choice(arts), "https://www.google.com/"
    if r < 0.9:
        return rng.choice(["/news/", "/projects/", "/publications/"]), None
    return rng.choice(["/about/", "/team/"]), "https://www.google.gr/"


def browse(br: Browser, t: float, n_pages: int, dwell, tabs_p: float, reload_p: float, back_refetch_p: float) -> float:
    """Browse like a person (or like a bot imitating one) for about n_pages page views."""
    rng, site = br.rng, br.site
    url, ref = entry_page(rng, site)
    history: list[str] = []
    cur = site[url]
    t = br.load(t, cur, ref)
    views = 1
    first_ref = {}  # url -> the referer it was first loaded with (reloads and back refetches)

    def remember():
        for u, _, r in br.pages:
            first_ref.setdefault(u, None if r == "-" else r)

    remember()
    while views < n_pages:
        remember()
        t += dwell(cur.kind)
        if rng.random() < reload_p and cur.kind not in ("image", "notfound"):
            t = br.load(t, cur, first_ref.get(cur.url), reload=True)
            views += 1
            continue
        action, target = choose_next(rng, site, cur)
        if action == "back":
            if not history:
                action, target = "click", "/"
            else:
                prev = history.pop()
                if rng.random() < back_refetch_p:  # not in the bfcache: fetched again, same referer
                    t = br.load(t, site[prev], first_ref.get(prev))
                    views += 1
                cur = site[prev]
                t += rng.uniform(0.5, 2.0)
                continue
        if action == "search":
            t += rng.uniform(2.0, 6.0)  # typing
            page = search_page(target, rng, site)
            site[page.url] = page
            history.append(cur.url)
            t = br.load(t, page, cur.url)
            cur = page
            views += 1
            continue
        page = site[target]
        if cur.kind in ("section", "search") and page.kind == "article" and rng.random() < tabs_p:
            # open two or three articles in new tabs, then read them one after the other
            arts = [u for u in cur.links if site.get(u) and site[u].kind == "article"]
            picks = rng.sample(arts, min(len(arts), rng.randint(2, 3)))
            for u in picks:
                br.load(t, site[u], cur.url)
                t += rng.uniform(0.8, 3.0)
                views += 1
            for _ in picks[1:]:
                t += dwell("article")
            history.append(cur.url)
            cur = site[picks[-1]]
            continue
        history.append(cur.url)
        t = br.load(t, page, cur.url)
        cur = page
        views += 1
    return t


def human_dwell(rng: random.Random):
    def d(kind: str) -> float:
        return min(600.0, rng.lognormvariate(math.log(DWELL_MEDIAN[kind]), 0.95))

    return d


def human_session(rng, site, vol: Volunteer, t0: float, sid: str) -> tuple[list[Req], list, dict]:
    warm = vol.sessions_done > 0 and rng.random() < 0.7
    br = Browser(rng, site, vol.ip, vol.ua, sid, warm=warm, favicon="Version/13" not in vol.ua or rng.random() < 0.5)
    if rng.random() < 0.04:
        n = 1
    else:
        n = max(2, min(40, round(rng.lognormvariate(math.log(7), 0.7))))
    browse(br, t0, n, human_dwell(rng), tabs_p=0.18, reload_p=0.03, back_refetch_p=0.12)
    vol.sessions_done += 1
    return br.out, br.pages, {"volunteer": vol.vid, "warm_cache": warm, "target_pages": n}


# ---------------------------------------------------------------------------------------------
# Bots
# ---------------------------------------------------------------------------------------------

SITEMAP = [
    "/",
    "/news/",
    "/news/?page=2",
    "/projects/",
    "/publications/",
    "/events/",
    "/software/",
    "/gallery/",
    "/about/",
    "/team/",
    "/contact/",
] + [article_url(s, slug) for s, slugs in SECTIONS.items() for slug in slugs]


def moderate_session(rng, site, script: dict, t0: float, sid: str) -> tuple[list[Req], list, dict]:
    kind = script["kind"]
    br = Browser(rng, site, script["ip"], script["ua"], sid, warm=False, favicon=kind != "puppeteer_bfs")
    n = rng.randint(10, 30)
    sleep = script["sleep"]

    def gap() -> float:  # time.sleep(sleep) + page load / WebDriver round trips
        return sleep + abs(rng.gauss(0.6, 0.15))

    t = t0
    if kind == "selenium_random_walk":
        cur = site["/"]
        t = br.load(t, cur, None)
        for _ in range(n - 1):
            t += gap()
            cands = [u for u in cur.links if u in site]
            nxt = site[rng.choice(cands)]
            if nxt.kind in ("image", "notfound"):
                t = br.load(t, nxt, cur.url)
                t += gap()
                # driver.back(): served from cache, no request
                continue
            t = br.load(t, nxt, cur.url)
            cur = nxt
    elif kind == "selenium_url_list":
        start = rng.randrange(len(SITEMAP))
        urls = [SITEMAP[(start + i) % len(SITEMAP)] for i in range(n)]
        for u in urls:
            t = br.load(t, site[u], None)  # driver.get(url): no referer
            t += gap()
    else:  # puppeteer_bfs: breadth-first crawl with page.goto (no referer), DOM link order
        seen, queue, done = {"/"}, ["/"], 0
        while queue and done < n:
            u = queue.pop(0)
            p = site[u]
            t = br.load(t, p, None)
            t += gap()
            done += 1
            for link in p.links:
                if link not in seen and link in site and site[link].kind not in ("image",):
                    seen.add(link)
                    queue.append(link)
    return br.out, br.pages, {"script": kind, "sleep_s": round(sleep, 2), "target_pages": n}


def advanced_session(rng, site, t0: float, sid: str, recorded: list) -> tuple[list[Req], list, dict]:
    ip = residential_ip(rng)
    ua = rng.choices(UA_DESKTOP[:6], [22, 10, 10, 5, 8, 6])[0]
    br = Browser(rng, site, ip, ua, sid, warm=False, favicon=True)
    scale = rng.uniform(0.6, 1.0)

    def dwell(kind: str) -> float:
        return min(300.0, rng.lognormvariate(math.log(DWELL_MEDIAN[kind] * scale), 0.5))

    meta = {"ip": ip}
    if recorded and rng.random() < 0.2:
        # replay a recorded human clickstream (pages only), pauses jittered +-20 %
        path = rng.choice(recorded)
        t = t0
        prev_t = path[0][1]
        for url, pt, ref in path:
            t += max(1.0, (pt - prev_t) * rng.uniform(0.8, 1.2))
            prev_t = pt
            page = site.get(url)
            if page is None:
                continue
            ref_path = None if ref == "-" else ref
            br.load(t, page, ref_path)
        meta.update(mode="replay", target_pages=len(path))
    else:
        n = rng.randint(5, 20)
        browse(br, t0, n, dwell, tabs_p=0.05, reload_p=0.0, back_refetch_p=0.0)
        meta.update(mode="imitate", target_pages=n, dwell_scale=round(scale, 2))
    return br.out, br.pages, meta


# ---------------------------------------------------------------------------------------------
# Schedules and output
# ---------------------------------------------------------------------------------------------


def human_start(rng: random.Random, start: datetime, days: int) -> float:
    day = start + timedelta(days=rng.randrange(days))
    hour = rng.choices(range(8, 24), [2, 4, 6, 6, 5, 5, 5, 5, 5, 5, 5, 6, 7, 7, 5, 3])[0]
    return (day + timedelta(hours=hour, seconds=rng.uniform(0, 3600))).timestamp()


def fmt_line(r: Req) -> str:
    ts = datetime.fromtimestamp(int(r.t), TZ).strftime("%d/%b/%Y:%H:%M:%S %z")
    return f'{r.ip} - - [{ts}] "{r.method} {r.path} HTTP/1.1" {r.status} {r.size} "{r.referer}" "{r.ua}" {r.sid}'


def write_log(path: str, reqs: list[Req]) -> int:
    reqs = sorted(reqs, key=lambda r: (int(r.t), r.t))
    with open(path, "w", encoding="utf-8") as f:
        for r in reqs:
            f.write(fmt_line(r) + "\n")
    return len(reqs)


def generate(variant: str, seed: int, out: str) -> None:
    cfg = VARIANTS[variant]
    rng = random.Random(seed)
    site = build_site(rng)
    vols = make_volunteers(rng, cfg["volunteers"])
    # training volunteers: the first two thirds; the test period has returning and new ones
    n_train_vols = max(2, round(len(vols) * 2 / 3))
    train_vols = vols[:n_train_vols]
    test_vols = vols[n_train_vols // 2 :]

    sessions = []  # dicts: sid, period, label, ...
    train_reqs, test_reqs = [], []
    recorded_paths = []
    used = set()

    def sid() -> str:
        while True:
            s = new_sid(rng)
            if s not in used:
                used.add(s)
                return s

    for _ in range(cfg["train_humans"]):
        v = rng.choice(train_vols)
        s = sid()
        reqs, pages, meta = human_session(rng, site, v, human_start(rng, cfg["train_start"], cfg["train_days"]), s)
        train_reqs += reqs
        if len(pages) >= 4:
            recorded_paths.append(pages)
        sessions.append(
            dict(
                session_id=s,
                period="train",
                label="human",
                ip=v.ip,
                ua=v.ua,
                requests=len(reqs),
                pages=len(pages),
                **meta,
            )
        )

    for _ in range(cfg["test_humans"]):
        v = rng.choice(test_vols)
        s = sid()
        reqs, pages, meta = human_session(rng, site, v, human_start(rng, cfg["test_start"], cfg["test_days"]), s)
        test_reqs += reqs
        sessions.append(
            dict(
                session_id=s,
                period="test",
                label="human",
                ip=v.ip,
                ua=v.ua,
                requests=len(reqs),
                pages=len(pages),
                **meta,
            )
        )

    runs, per_run = cfg["moderate_runs"]
    scripts = ["selenium_random_walk", "selenium_url_list", "puppeteer_bfs"]
    for r in range(runs):
        kind = scripts[r % 3]
        ua = {
            "selenium_random_walk": UA_SELENIUM_CHROME,
            "selenium_url_list": UA_SELENIUM_FIREFOX,
            "puppeteer_bfs": UA_PUPPETEER_HEADLESS,
        }[kind]
        script = dict(
            kind=kind,
            ua=ua,
            ip=MODERATE_BOT_IPS[r % len(MODERATE_BOT_IPS)],
            sleep=rng.choice([2.0, 3.0, 5.0]) if kind != "puppeteer_bfs" else rng.uniform(1.0, 2.0),
        )
        day = cfg["test_start"] + timedelta(days=rng.randrange(cfg["test_days"]))
        t = (day + timedelta(hours=rng.uniform(10, 18))).timestamp()
        for _ in range(per_run):
            s = sid()
            reqs, pages, meta = moderate_session(rng, site, script, t, s)
            test_reqs += reqs
            sessions.append(
                dict(
                    session_id=s,
                    period="test",
                    label="moderate_bot",
                    ip=script["ip"],
                    ua=script["ua"],
                    requests=len(reqs),
                    pages=len(pages),
                    run=r,
                    **meta,
                )
            )
            t = max(q.t for q in reqs) + rng.uniform(3, 30)

    runs, per_run = cfg["advanced_runs"]
    for r in range(runs):
        day = cfg["test_start"] + timedelta(days=rng.randrange(cfg["test_days"]))
        t = (day + timedelta(hours=rng.uniform(9, 21))).timestamp()
        for _ in range(per_run):
            s = sid()
            reqs, pages, meta = advanced_session(rng, site, t, s, recorded_paths)
            test_reqs += reqs
            ip = meta.pop("ip")
            sessions.append(
                dict(
                    session_id=s,
                    period="test",
                    label="advanced_bot",
                    ip=ip,
                    ua=reqs[0].ua,
                    requests=len(reqs),
                    pages=len(pages),
                    run=r,
                    **meta,
                )
            )
            t = max(q.t for q in reqs) + rng.uniform(60, 900)

    os.makedirs(out, exist_ok=True)
    n_train = write_log(os.path.join(out, "train.log"), train_reqs)
    n_test = write_log(os.path.join(out, "test.log"), test_reqs)
    with open(os.path.join(out, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label"])  # the backtest requires this header (refuses a headerless file)
        for s in sessions:
            w.writerow([s["session_id"], s["label"]])
    keys = [
        "session_id",
        "period",
        "label",
        "requests",
        "pages",
        "ip",
        "ua",
        "volunteer",
        "warm_cache",
        "run",
        "script",
        "sleep_s",
        "mode",
        "dwell_scale",
        "target_pages",
    ]
    with open(os.path.join(out, "sessions.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, keys)
        w.writeheader()
        for s in sessions:
            w.writerow({k: s.get(k, "") for k in keys})
    by = {}
    for s in sessions:
        k = (s["period"], s["label"])
        by.setdefault(k, []).append(s)
    print(f"{variant}: seed {seed}; train.log {n_train} lines, test.log {n_test} lines")
    for (period, label), ss in sorted(by.items()):
        pages = sorted(x["pages"] for x in ss)
        reqs = sorted(x["requests"] for x in ss)
        print(
            f"  {period:5} {label:13} sessions {len(ss):3}  pages median {pages[len(pages) // 2]:3} "
            f"(min {pages[0]}, max {pages[-1]})  requests median {reqs[len(reqs) // 2]:3}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="large")
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    generate(a.variant, a.seed, a.out)


if __name__ == "__main__":
    main()
