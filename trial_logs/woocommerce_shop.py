#!/usr/bin/env python3
"""Labelled Apache `combined` access log of a small WordPress + WooCommerce shop.

Harbour & Hide (leather goods, UK), www.harbourandhide.co.uk, on a shared/managed host.
Seven training days (normal traffic only, the site's own automation included) and three
test days (the second one is Black Friday: three times the traffic, a newsletter blast).

Writes train.log, test.log and labels.csv (key,label) where key is the client id the
docs describe for a log without sessions:
    "client:" + sha256(ip + "\\x1f" + user_agent).hexdigest()[:16]   (agent "-" -> "")

Standard library only, deterministic for --seed.
"""

import argparse
import datetime as dt
import hashlib
import random
import string

HOST = "www.harbourandhide.co.uk"
SITE = "https://" + HOST
SERVER_IP = "185.151.30.142"  # the shop's own host (loopback cron, Action Scheduler)
WP_UA = "WordPress/6.4.2; " + SITE
TZ = "+0000"

TRAIN_START = dt.datetime(2026, 11, 19)  # Thu .. Wed
TEST_START = dt.datetime(2026, 11, 26)  # Thu, Fri (Black Friday), Sat
BLACK_FRIDAY = dt.datetime(2026, 11, 27)

# --------------------------------------------------------------------------- catalogue
PRODUCTS = [
    "classic-leather-wallet",
    "slim-card-holder",
    "bifold-wallet-tan",
    "bifold-wallet-black",
    "coin-purse",
    "key-fob-brass",
    "leather-belt-35mm",
    "leather-belt-30mm",
    "braided-belt",
    "weekender-bag",
    "messenger-bag",
    "laptop-sleeve-13",
    "laptop-sleeve-15",
    "tote-bag-natural",
    "crossbody-bag",
    "passport-cover",
    "travel-wallet",
    "luggage-tag",
    "watch-strap-20mm",
    "watch-strap-22mm",
    "notebook-cover-a5",
    "notebook-cover-a6",
    "pen-roll",
    "glasses-case",
    "dog-collar-small",
    "dog-collar-medium",
    "dog-lead",
    "camera-strap",
    "guitar-strap",
    "apron-leather",
    "tool-roll",
    "journal-refill-a5",
    "leather-care-balm",
    "gift-card",
    "bookmark-set",
    "coaster-set",
    "desk-mat",
    "cable-tidy-set",
    "airpods-case",
    "phone-sleeve",
    "money-clip",
    "zip-wallet",
    "ladies-purse-red",
    "ladies-purse-navy",
    "backpack-roll-top",
    "bucket-bag",
    "belt-bag",
    "cardholder-monogram",
    "wallet-monogram",
    "gift-box",
]
PRODUCT_IDS = {p: 1200 + 17 * i for i, p in enumerate(PRODUCTS)}
CATEGORIES = ["wallets", "belts", "bags", "accessories", "gifts", "pets", "sale"]
POSTS = [
    ("2025/03", "how-to-care-for-leather"),
    ("2025/04", "vegetable-tanned-vs-chrome-tanned"),
    ("2025/05", "our-workshop-in-cornwall"),
    ("2025/06", "fathers-day-gift-guide"),
    ("2025/07", "choosing-the-right-belt-size"),
    ("2025/08", "behind-the-stitch"),
    ("2025/09", "autumn-collection"),
    ("2025/10", "meet-the-makers"),
    ("2025/11", "christmas-gift-guide-2025"),
    ("2026/01", "new-year-new-wallet"),
    ("2026/02", "valentines-gift-ideas"),
    ("2026/04", "patina-explained"),
    ("2026/06", "summer-travel-essentials"),
    ("2026/09", "back-to-school-satchels"),
    ("2026/10", "black-friday-sneak-peek"),
    ("2026/11", "christmas-gift-guide-2026"),
]
STATIC_CSS = [
    "/wp-content/cache/autoptimize/css/autoptimize_5f1e2d9a7c.css",
    "/wp-includes/css/dist/block-library/style.min.css?ver=6.4.2",
    "/wp-content/plugins/woocommerce/assets/css/woocommerce.css?ver=8.3.1",
    "/wp-content/themes/storefront/style.css?ver=4.5.3",
]
STATIC_JS = [
    "/wp-includes/js/jquery/jquery.min.js?ver=3.7.1",
    "/wp-includes/js/jquery/jquery-migrate.min.js?ver=3.4.1",
    "/wp-content/plugins/woocommerce/assets/js/frontend/cart-fragments.min.js?ver=8.3.1",
    "/wp-content/plugins/woocommerce/assets/js/frontend/add-to-cart.min.js?ver=8.3.1",
    "/wp-content/plugins/woocommerce/assets/js/js-cookie/js.cookie.min.js?ver=2.1.4-wc.8.3.1",
    "/wp-content/cache/autoptimize/js/autoptimize_b81c3e0f44.js",
]
FONTS = [
    "/wp-content/themes/storefront/assets/fonts/source-sans-pro-v21-latin-regular.woff2",
    "/wp-content/themes/storefront/assets/fonts/source-sans-pro-v21-latin-700.woff2",
]
CHECKOUT_JS = [
    "/wp-content/plugins/woocommerce/assets/js/frontend/checkout.min.js?ver=8.3.1",
    "/wp-content/plugins/woocommerce-gateway-stripe/assets/js/stripe.min.js?ver=7.7.0",
    "/wp-content/plugins/woocommerce/assets/js/selectWoo/selectWoo.full.min.js?ver=1.0.9-wc.8.3.1",
]
SEARCH_WORDS = [
    "wallet",
    "belt",
    "card holder",
    "gift",
    "bag",
    "monogram",
    "dog collar",
    "strap",
    "brown wallet",
    "mens belt",
    "passport",
    "gift card",
    "laptop",
    "keyring",
]


def img(rng, prod=None):
    p = prod or rng.choice(PRODUCTS)
    m = rng.choice(["2025/08", "2025/09", "2025/10", "2026/03", "2026/09"])
    size = rng.choice(["-300x300", "-600x600", "-100x100", "", "-416x416"])
    return "/wp-content/uploads/%s/%s%s.jpg" % (m, p, size)


# --------------------------------------------------------------------------- user agents
IOS = ["16_6_1", "16_7_2", "17_0_3", "17_1_1", "17_1_2", "17_2", "15_8", "17_1"]
CHROME = [
    "118.0.5993.117",
    "119.0.6045.105",
    "119.0.6045.159",
    "119.0.6045.199",
    "120.0.6099.62",
    "117.0.5938.149",
    "116.0.5845.187",
    "119.0.0.0",
    "120.0.0.0",
    "118.0.0.0",
]
ANDROID_MODELS = [
    "K",
    "SM-S911B",
    "SM-A536B",
    "Pixel 7",
    "SM-G991B",
    "M2101K6G",
    "moto g(30)",
    "SM-A145R",
    "Pixel 6a",
    "CPH2219",
]
FIREFOX = ["119.0", "120.0", "115.0", "118.0"]
SAMSUNG = ["23.0", "22.0", "21.0"]


def ua_iphone(rng):
    v = rng.choice(IOS)
    short = v.replace("_", ".")
    if short.count(".") == 2:
        short = short
    return (
        "Mozilla/5.0 (iPhone; CPU iPhone OS %s like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/%s Mobile/15E148 Safari/604.1" % (v, ".".join(v.split("_")[:2]))
    )


def ua_ipad(rng):
    v = rng.choice(["16_6", "17_1", "17_0"])
    return (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/%s Safari/605.1.15" % v.replace("_", ".")
    )


def ua_android_chrome(rng):
    return (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%s "
        "Mobile Safari/537.36" % rng.choice(["119.0.0.0", "118.0.0.0", "120.0.0.0", "117.0.0.0"])
    )


def ua_samsung(rng):
    v = rng.choice(SAMSUNG)
    return (
        "Mozilla/5.0 (Linux; Android 13; SAMSUNG %s) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/%s Chrome/115.0.0.0 Mobile Safari/537.36" % (rng.choice(ANDROID_MODELS[1:5]), v)
    )


def ua_win_chrome(rng):
    return (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/%s Safari/537.36" % rng.choice(["119.0.0.0", "118.0.0.0", "120.0.0.0"])
    )


def ua_edge(rng):
    v = rng.choice(["119.0.0.0", "118.0.0.0"])
    return (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/%s Safari/537.36 Edg/%s" % (v, v.replace(".0.0.0", ".0.2151.58"))
    )


def ua_mac_safari(rng):
    v = rng.choice(["17.1", "16.6", "17.0", "17.1.2"])
    return (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/%s Safari/605.1.15" % v
    )


def ua_mac_chrome(rng):
    return (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/%s Safari/537.36" % rng.choice(["119.0.0.0", "120.0.0.0"])
    )


def ua_firefox(rng):
    v = rng.choice(FIREFOX)
    os_ = rng.choice(["Windows NT 10.0; Win64; x64", "X11; Ubuntu; Linux x86_64", "Macintosh; Intel Mac OS X 10.15"])
    return "Mozilla/5.0 (%s; rv:%s) Gecko/20100101 Firefox/%s" % (os_, v, v)


def ua_fb_ios(rng):
    v = rng.choice(IOS[2:])
    return (
        "Mozilla/5.0 (iPhone; CPU iPhone OS %s like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148 [FBAN/FBIOS;FBAV/%d.0.0.%d.%d;FBBV/%d;FBDV/iPhone14,%d;FBMD/iPhone;FBSN/iOS;"
        "FBSV/%s;FBSS/3;FBID/phone;FBLC/en_GB;FBOP/5;FBRV/0]"
        % (
            v,
            rng.randint(438, 442),
            rng.randint(30, 60),
            rng.randint(100, 119),
            rng.randint(530000000, 539999999),
            rng.randint(2, 7),
            v.replace("_", "."),
        )
    )


def ua_fb_android(rng):
    return (
        "Mozilla/5.0 (Linux; Android 13; %s Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Version/4.0 Chrome/119.0.6045.66 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/%d.0.0.%d.%d;]"
        % (rng.choice(ANDROID_MODELS[1:]), rng.randint(438, 442), rng.randint(10, 40), rng.randint(70, 120))
    )


def ua_instagram(rng):
    v = rng.choice(IOS[2:])
    return (
        "Mozilla/5.0 (iPhone; CPU iPhone OS %s like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148 Instagram %d.0.0.%d.%d (iPhone13,%d; iOS %s; en_GB; en-GB; scale=3.00; 1170x2532; %d)"
        % (
            v,
            rng.randint(305, 309),
            rng.randint(10, 30),
            rng.randint(100, 120),
            rng.randint(2, 4),
            v,
            rng.randint(530000000, 539999999),
        )
    )


DEVICE_MIX = [  # (weight, factory, mobile?)
    (33, ua_iphone, True),
    (4, ua_ipad, False),
    (20, ua_android_chrome, True),
    (7, ua_samsung, True),
    (15, ua_win_chrome, False),
    (5, ua_edge, False),
    (6, ua_mac_safari, False),
    (4, ua_mac_chrome, False),
    (3, ua_firefox, False),
]

# --------------------------------------------------------------------------- addresses
BROADBAND = [
    "86.%d.%d.%d",
    "81.%d.%d.%d",
    "82.%d.%d.%d",
    "90.%d.%d.%d",
    "92.%d.%d.%d",
    "109.%d.%d.%d",
    "151.%d.%d.%d",
    "2.%d.%d.%d",
    "94.%d.%d.%d",
    "87.%d.%d.%d",
]
BROADBAND_SECOND = {
    "86": (128, 191),
    "81": (96, 111),
    "82": (0, 47),
    "90": (192, 255),
    "92": (0, 31),
    "109": (144, 159),
    "151": (224, 231),
    "2": (96, 127),
    "94": (0, 15),
    "87": (112, 127),
}
V6_PREFIX = ["2a00:23c5", "2a00:23c7", "2a02:c7c", "2a01:4b00", "2a02:8010", "2a0a:ef40"]
# carrier-grade NAT: few public addresses carry many phones
CGNAT = {
    "EE": ["31.94.%d.%d" % (a, b) for a in range(0, 4) for b in (7, 33, 64, 90, 121)],
    "Vodafone": ["92.40.%d.%d" % (a, b) for a in (170, 171, 172, 190) for b in (12, 44, 201)],
    "Three": ["188.28.%d.%d" % (a, b) for a in (100, 101, 140) for b in (3, 77, 150, 222)],
    "O2": ["82.132.%d.%d" % (a, b) for a in (184, 185, 186, 230) for b in (10, 99, 160)],
}
CGNAT_V6 = ["2a01:4c8", "2a00:1028"]  # EE, Three mobile v6


def ip_broadband(rng):
    tmpl = rng.choice(BROADBAND)
    first = tmpl.split(".")[0]
    lo, hi = BROADBAND_SECOND[first]
    return "%s.%d.%d.%d" % (first, rng.randint(lo, hi), rng.randint(0, 255), rng.randint(1, 254))


def ip_v6(rng, prefix=None):
    p = prefix or rng.choice(V6_PREFIX)
    return "%s:%x:%x:%x:%x:%x:%x" % (
        p,
        rng.randint(0, 0xFFFF),
        rng.randint(0, 0xFFFF),
        rng.randint(0, 0xFFFF),
        rng.randint(0, 0xFFFF),
        rng.randint(0, 0xFFFF),
        rng.randint(0, 0xFFFF),
    )


def ip_mobile(rng):
    r = rng.random()
    if r < 0.15:
        return ip_v6(rng, rng.choice(CGNAT_V6))
    return rng.choice(CGNAT[rng.choice(list(CGNAT))])


def ip_residential_proxy(rng):
    """Residential proxy exits: home broadband all over the world."""
    a = rng.choice(
        [
            (24, 0, 255),
            (73, 0, 255),
            (98, 0, 255),
            (174, 0, 255),
            (186, 0, 255),
            (177, 0, 255),
            (41, 0, 255),
            (105, 0, 255),
            (112, 0, 255),
            (49, 0, 255),
            (79, 100, 180),
            (95, 24, 31),
            (37, 0, 255),
            (188, 0, 255),
            (201, 0, 255),
            (122, 0, 255),
            (103, 0, 255),
            (5, 0, 255),
        ]
    )
    return "%d.%d.%d.%d" % (a[0], rng.randint(a[1], a[2]), rng.randint(0, 255), rng.randint(1, 254))


HOSTING = [
    "134.209.%d.%d",
    "159.65.%d.%d",
    "167.99.%d.%d",
    "45.55.%d.%d",  # DigitalOcean
    "51.38.%d.%d",
    "54.36.%d.%d",
    "137.74.%d.%d",  # OVH
    "95.216.%d.%d",
    "65.108.%d.%d",
    "49.12.%d.%d",  # Hetzner
    "45.142.%d.%d",
    "193.42.%d.%d",
    "185.220.%d.%d",
    "104.248.%d.%d",
]


def ip_hosting(rng):
    return rng.choice(HOSTING) % (rng.randint(0, 255), rng.randint(1, 254))


# --------------------------------------------------------------------------- log writing
def key_of(ip, ua):
    u = "" if ua == "-" else ua
    return "client:" + hashlib.sha256((ip + "\x1f" + u).encode("utf-8")).hexdigest()[:16]


class Log:
    def __init__(self):
        self.lines = []  # (ts, seq, text)
        self.labels = {}  # client key -> label
        self.conflicts = 0
        self.seq = 0
        self.counts = {}

    def req(self, t, ip, method, path, status, size, ref, ua, label):
        ts = dt.datetime.utcfromtimestamp(t) if False else EPOCH + dt.timedelta(seconds=t)
        stamp = ts.strftime("%d/%b/%Y:%H:%M:%S ") + TZ
        b = "-" if (size == 0 or status == 304) else str(size)
        self.lines.append(
            (
                t,
                self.seq,
                '%s - - [%s] "%s %s HTTP/1.1" %d %s "%s" "%s"'
                % (ip, stamp, method, path, status, b, esc(ref or "-"), esc(ua or "-")),
            )
        )
        self.seq += 1
        k = key_of(ip, ua or "-")
        old = self.labels.get(k)
        if old is None:
            self.labels[k] = label
        elif old != label:
            self.conflicts += 1
            if old == "normal":  # a bot sharing a person's client: the bot's label wins
                self.labels[k] = label
        self.counts[label] = self.counts.get(label, 0) + 1

    def write(self, path):
        self.lines.sort()
        with open(path, "w") as f:
            for _, _, text in self.lines:
                f.write(text + "\n")
        return len(self.lines)


EPOCH = dt.datetime(2026, 11, 1)


def esc(v):
    """Apache escapes quotes and backslashes in logged header values."""
    return v.replace("\\", "\\\\").replace('"', '\\"')


UNIX0 = (EPOCH - dt.datetime(1970, 1, 1)).total_seconds()


def secs(d):
    return (d - EPOCH).total_seconds()


HOUR_W = [2, 1.2, 0.8, 0.6, 0.5, 0.7, 1.5, 3, 4.5, 5, 5.5, 6, 7, 7, 6, 5.5, 5.5, 6, 7, 8.5, 9, 8, 6, 3.5]


def pick_time(rng, day, weights=HOUR_W):
    h = rng.choices(range(24), weights=weights)[0]
    return secs(day) + h * 3600 + rng.random() * 3600


# --------------------------------------------------------------------------- people
class Person:
    __slots__ = ("ua", "ip", "mobile", "returning", "customer", "office", "mobile_ip")

    def __init__(self, rng, offices):
        w = [d[0] for d in DEVICE_MIX]
        _, fac, mob = rng.choices(DEVICE_MIX, weights=w)[0]
        self.ua = fac(rng)
        self.mobile = mob
        self.office = None
        r = rng.random()
        if mob and r < 0.55:
            self.ip = None  # on mobile data: address drawn per visit (CGNAT)
        elif not mob and r < 0.08 and offices:
            self.office = rng.choice(offices)
            self.ip = self.office[0]
            self.ua = self.office[1] if rng.random() < 0.7 else self.ua
        elif r < 0.75:
            self.ip = ip_broadband(rng)
        else:
            self.ip = ip_v6(rng)
        self.customer = rng.random() < 0.3

    def address(self, rng):
        if self.ip is None:
            return ip_mobile(rng)
        if self.mobile and rng.random() < 0.3:
            return ip_mobile(rng)
        return self.ip


def page_assets(rng, log, t, ip, ua, page_url, first, cached, label, extra_js=(), products_on_page=()):
    """What a browser fetches after the HTML. Returns the time when done."""
    ref = SITE + page_url
    reqs = []
    if first:
        if cached:
            # revalidation of a few, most straight from the cache
            for p in rng.sample(STATIC_CSS, 2) + rng.sample(STATIC_JS, 2):
                if rng.random() < 0.5:
                    reqs.append((p, 304, 0))
        else:
            for p in STATIC_CSS:
                reqs.append((p, 200, rng.randint(3000, 90000)))
            for p in STATIC_JS:
                reqs.append((p, 200, rng.randint(1500, 95000)))
            for p in FONTS:
                reqs.append((p, 200, rng.randint(15000, 30000)))
            reqs.append(("/wp-content/uploads/2024/01/cropped-hh-icon-32x32.png", 200, 1421))
            reqs.append(("/wp-content/uploads/2024/01/hh-logo.svg", 200, 6310))
    for p in extra_js:
        reqs.append((p, 304 if cached else 200, 0 if cached else rng.randint(4000, 60000)))
    n_img = len(products_on_page) if products_on_page else rng.randint(2, 6)
    for prod in (products_on_page or [None] * n_img)[:8]:
        if cached and rng.random() < 0.6:
            continue
        if rng.random() < 0.85:
            reqs.append((img(rng, prod), 200, rng.randint(8000, 120000)))
    tt = t + rng.uniform(0.1, 0.5)
    for p, st, sz in reqs:
        tt += rng.expovariate(1 / 0.08)
        log.req(tt, ip, "GET", p, st, sz, ref, ua, label)
    # cart fragments on every page
    tt += rng.uniform(0.2, 1.2)
    log.req(tt, ip, "POST", "/?wc-ajax=get_refreshed_fragments", 200, rng.randint(400, 1600), ref, ua, label)
    return tt


def visit(rng, log, t, ip, ua, cached, source, label="normal", intent=None, in_app=False):
    """One visit: a chain of pages, each with what the browser fetches for it."""
    landing_ref = "-"
    q = ""
    if source == "google":
        landing_ref = "https://www.google.com/"
    elif source == "google_shopping":
        landing_ref = "https://www.google.com/"
        q = "?srsltid=AfmBOo" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(40))
    elif source == "bing":
        landing_ref = "https://www.bing.com/"
    elif source == "facebook":
        landing_ref = "http://m.facebook.com/"
        q = "?fbclid=IwAR" + "".join(rng.choice(string.ascii_letters + string.digits + "_-") for _ in range(55))
    elif source == "instagram":
        landing_ref = "https://l.instagram.com/"
        q = "?utm_source=ig&utm_medium=paid&utm_campaign=bf_leather_gifts&utm_content=carousel&fbclid=PAAa" + "".join(
            rng.choice(string.ascii_letters + string.digits + "_-") for _ in range(50)
        )
    elif source == "newsletter":
        landing_ref = "-"
        q = (
            "?utm_source=newsletter&utm_medium=email&utm_campaign=black_friday_2026&utm_content=hero&mc_cid=4e1a9c2b7f&mc_eid="
            + "".join(rng.choice("0123456789abcdef") for _ in range(10))
        )
    elif source == "pinterest":
        landing_ref = "https://uk.pinterest.com/"

    # landing page
    r = rng.random()
    if source == "newsletter":
        landing = rng.choice(["/", "/product-category/sale/", "/product-category/gifts/"])
    elif source in ("facebook", "instagram", "google_shopping"):
        landing = "/product/%s/" % rng.choice(PRODUCTS)
    elif r < 0.35:
        landing = "/"
    elif r < 0.7:
        landing = "/product/%s/" % rng.choice(PRODUCTS)
    elif r < 0.85:
        landing = "/product-category/%s/" % rng.choice(CATEGORIES)
    else:
        m, s = rng.choice(POSTS)
        landing = "/%s/%s/" % (m, s)
    n_pages = 1 + min(int(rng.expovariate(1 / 3.2)), 25)
    if in_app:
        n_pages = 1 + min(int(rng.expovariate(1 / 1.5)), 8)
    wants_buy = intent if intent is not None else (rng.random() < 0.06)
    page = landing + q
    ref = landing_ref
    first = True
    cart = 0
    for i in range(n_pages):
        status = 200
        size = rng.randint(28000, 95000)
        if rng.random() < 0.01:
            page = "/product/%s/" % rng.choice(["vintage-satchel", "hip-flask-cover", "card-wallet-old"])
            status, size = 404, 31220
        log.req(t, ip, "GET", page, status, size, ref, ua, label)
        prods = []
        base = page.split("?")[0]
        if base.startswith("/product-category/") or base in ("/", "/shop/"):
            prods = rng.sample(PRODUCTS, 8)
        elif base.startswith("/product/"):
            prods = [base.split("/")[2]] * 3 + rng.sample(PRODUCTS, 3)
        tt = page_assets(rng, log, t, ip, ua, base, first, cached, label, products_on_page=prods)
        if first and ua.startswith("Mozilla/5.0 (iPhone") and rng.random() < 0.08:
            log.req(tt + 0.3, ip, "GET", "/apple-touch-icon-precomposed.png", 404, 31220, "-", ua, label)
            log.req(tt + 0.4, ip, "GET", "/apple-touch-icon.png", 404, 31220, "-", ua, label)
        first = False
        ref = SITE + base
        t = tt + rng.lognormvariate(3.0, 1.0)  # reading
        # next page
        if base.startswith("/product/") and (wants_buy or rng.random() < 0.04) and cart < 2:
            pid = PRODUCT_IDS.get(base.split("/")[2], 1200)
            if rng.random() < 0.5:
                log.req(t, ip, "POST", "/?wc-ajax=add_to_cart", 200, rng.randint(900, 2500), SITE + base, ua, label)
                t += rng.uniform(0.3, 1)
            else:
                log.req(
                    t, ip, "GET", base + "?add-to-cart=%d" % pid, 200, rng.randint(30000, 90000), SITE + base, ua, label
                )
                t = page_assets(rng, log, t, ip, ua, base, False, True, label) + rng.uniform(3, 20)
            cart += 1
            if wants_buy and (cart >= 1 and rng.random() < 0.6):
                t = checkout(rng, log, t + rng.uniform(5, 40), ip, ua, label)
                return t
            continue
        r = rng.random()
        if r < 0.45:
            page = "/product/%s/" % rng.choice(PRODUCTS)
        elif r < 0.65:
            page = "/product-category/%s/" % rng.choice(CATEGORIES)
            if rng.random() < 0.2:
                page += "page/%d/" % rng.randint(2, 3)
        elif r < 0.72:
            page = "/?s=%s&post_type=product" % rng.choice(SEARCH_WORDS).replace(" ", "+")
        elif r < 0.78:
            page = "/cart/"
        elif r < 0.84:
            page = "/shop/"
            if rng.random() < 0.3:
                page += "?orderby=" + rng.choice(["price", "price-desc", "popularity", "date"])
        elif r < 0.88:
            page = "/my-account/"
        elif r < 0.93:
            m, s = rng.choice(POSTS)
            page = "/%s/%s/" % (m, s)
        elif r < 0.96:
            page = rng.choice(["/delivery-returns/", "/about-us/", "/contact/", "/faq/", "/size-guide/"])
        else:
            page = "/"
    return t


def checkout(rng, log, t, ip, ua, label, pay=True):
    ref = SITE + "/cart/"
    log.req(t, ip, "GET", "/cart/", 200, rng.randint(40000, 70000), SITE + "/shop/", ua, label)
    t = page_assets(rng, log, t, ip, ua, "/cart/", False, True, label) + rng.uniform(5, 40)
    log.req(t, ip, "GET", "/checkout/", 200, rng.randint(60000, 90000), ref, ua, label)
    t = page_assets(rng, log, t, ip, ua, "/checkout/", False, True, label, extra_js=CHECKOUT_JS)
    for _ in range(rng.randint(2, 4)):
        t += rng.uniform(3, 40)
        log.req(
            t, ip, "POST", "/?wc-ajax=update_order_review", 200, rng.randint(5000, 9000), SITE + "/checkout/", ua, label
        )
    t += rng.uniform(20, 120)
    if not pay or rng.random() < 0.25:  # abandoned at the payment form
        return t
    log.req(t, ip, "POST", "/?wc-ajax=checkout", 200, rng.randint(150, 400), SITE + "/checkout/", ua, label)
    order = rng.randint(10400, 11999)
    if rng.random() < 0.1:  # customer's own card declined, tries again
        t += rng.uniform(15, 60)
        log.req(t, ip, "POST", "/?wc-ajax=checkout", 200, rng.randint(150, 400), SITE + "/checkout/", ua, label)
    t += rng.uniform(2, 8)
    key = "wc_order_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(13))
    log.req(
        t,
        ip,
        "GET",
        "/checkout/order-received/%d/?key=%s" % (order, key),
        200,
        rng.randint(50000, 70000),
        SITE + "/checkout/",
        ua,
        label,
    )
    t = page_assets(rng, log, t, ip, ua, "/checkout/order-received/%d/" % order, False, True, label)
    payment_callbacks(rng, log, t, ok=True)
    return t


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
STRIPE_UA = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
PAYPAL_IPS = ["173.0.81.1", "173.0.81.33", "173.0.81.65", "64.4.240.65", "64.4.240.129"]
PAYPAL_UA = "PayPal IPN ( https://www.paypal.com/ipn )"


def payment_callbacks(rng, log, t, ok=True):
    if rng.random() < 0.85:
        n = 3 if ok else 1  # payment_intent.succeeded, charge.succeeded, (charge.updated) | payment_failed
        for _ in range(n):
            t += rng.uniform(0.5, 6)
            log.req(t, rng.choice(STRIPE_IPS), "POST", "/?wc-api=wc_stripe", 200, 0, "-", STRIPE_UA, "normal")
    elif ok:
        t += rng.uniform(2, 30)
        log.req(t, rng.choice(PAYPAL_IPS), "POST", "/?wc-api=WC_Gateway_Paypal", 200, 0, "-", PAYPAL_UA, "normal")


# --------------------------------------------------------------------------- the site's own machines
def site_automation(rng, log, day, busy_times):
    d0 = secs(day)
    # WP-cron spawned by page loads (at most once a minute, when events are due)
    last = -1e9
    for t in sorted(busy_times):
        if t - last > 60 and rng.random() < 0.35:
            log.req(
                t + 0.05,
                SERVER_IP,
                "POST",
                "/wp-cron.php?doing_wp_cron=%.10f" % (t + 0.05 + UNIX0),
                200,
                0,
                "-",
                WP_UA,
                "normal",
            )
            last = t
            if rng.random() < 0.5:  # Action Scheduler's async queue runner
                log.req(
                    t + rng.uniform(0.5, 2),
                    SERVER_IP,
                    "POST",
                    "/wp-admin/admin-ajax.php?action=as_async_request_queue_runner&nonce=%s"
                    % "".join(rng.choice("0123456789abcdef") for _ in range(10)),
                    200,
                    0,
                    "-",
                    WP_UA,
                    "normal",
                )
    # host's system cron: wget every 15 minutes
    for k in range(96):
        t = d0 + k * 900 + rng.uniform(0, 3)
        log.req(t, SERVER_IP, "GET", "/wp-cron.php?doing_wp_cron", 200, 0, "-", "Wget/1.21.2", "normal")
    # Site Health loopback tests, twice a day
    for h in (3, 15):
        t = d0 + h * 3600 + rng.uniform(0, 600)
        log.req(
            t,
            SERVER_IP,
            "GET",
            "/wp-json/wp-site-health/v1/tests/loopback-requests?_locale=user",
            200,
            180,
            "-",
            WP_UA,
            "normal",
        )
        log.req(
            t + 1,
            SERVER_IP,
            "GET",
            "/wp-admin/admin-ajax.php?action=health-check-site-status-result",
            200,
            3,
            "-",
            WP_UA,
            "normal",
        )
    # uptime monitor: every 5 minutes, rotating probe locations
    ur_ua = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
    ur_ips = ["69.162.124.226", "63.143.42.244", "216.245.221.83", "208.115.199.18", "216.144.250.150"]
    for k in range(288):
        t = d0 + k * 300 + rng.uniform(0, 4)
        log.req(t, ur_ips[k % len(ur_ips)], "HEAD", "/", 200, 0, SITE, ur_ua, "normal")
    # RSS readers
    for ua, ip, period in [
        ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 6 subscribers; )", "52.207.114.208", 3600),
        ("Mozilla/5.0 (compatible; inoreader.com; 2 subscribers)", "5.9.85.142", 1800),
        (
            'NewsBlur Feed Fetcher - 1 subscriber - https://www.newsblur.com/site/58201/harbour-hide ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Safari/605.1.15")',
            "64.225.11.190",
            7200,
        ),
        ("Tiny Tiny RSS/23.11 (Unsupported) (https://tt-rss.org/)", ip_broadband(random.Random(7)), 900),
    ]:
        t = d0 + rng.uniform(0, period)
        while t < d0 + 86400:
            st = 304 if rng.random() < 0.9 else 200
            log.req(t, ip, "GET", "/feed/", st, 0 if st == 304 else 41230, "-", ua, "normal")
            t += period * rng.uniform(0.9, 1.1)


GOOGLEBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/119.0.6045.159 Safari/537.36"
GOOGLEBOT_M = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.159 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GOOGLE_IMG = "Googlebot-Image/1.0"
BINGBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36"
APPLEBOT = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)"
AHREFS = "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"
SEMRUSH = "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)"
FBHIT = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; GPTBot/1.0; +https://openai.com/gptbot"


def any_page(rng):
    r = rng.random()
    if r < 0.5:
        return "/product/%s/" % rng.choice(PRODUCTS)
    if r < 0.65:
        return "/product-category/%s/" % rng.choice(CATEGORIES)
    if r < 0.8:
        m, s = rng.choice(POSTS)
        return "/%s/%s/" % (m, s)
    if r < 0.85:
        return "/tag/%s/" % rng.choice(["leather", "gifts", "care", "workshop", "travel"])
    if r < 0.9:
        return "/?add-to-cart=%d" % rng.choice(list(PRODUCT_IDS.values()))  # links crawled from the shop grid
    return rng.choice(["/", "/shop/", "/about-us/", "/delivery-returns/", "/contact/", "/faq/"])


def crawlers(rng, log, day):
    d0 = secs(day)

    def crawl(ua, ips, n, assets=0.0, sitemap=True):
        for _ in range(n):
            t = d0 + rng.uniform(0, 86400)
            ip = rng.choice(ips)
            r = rng.random()
            if sitemap and r < 0.04:
                p = rng.choice(
                    [
                        "/robots.txt",
                        "/sitemap_index.xml",
                        "/product-sitemap.xml",
                        "/post-sitemap.xml",
                        "/product_cat-sitemap.xml",
                        "/page-sitemap.xml",
                    ]
                )
                log.req(t, ip, "GET", p, 200, rng.randint(400, 20000), "-", ua, "normal")
                continue
            if r < 0.04 + assets:
                p = rng.choice([img(rng), rng.choice(STATIC_CSS), rng.choice(STATIC_JS)])
                log.req(t, ip, "GET", p, 200, rng.randint(2000, 90000), "-", ua, "normal")
                continue
            p = any_page(rng)
            st = 200 if rng.random() > 0.02 else 404
            if st == 200 and rng.random() < 0.15 and ua != AHREFS:
                st = 304
            log.req(
                t,
                ip,
                "GET",
                p,
                st,
                rng.randint(28000, 90000) if st == 200 else (31220 if st == 404 else 0),
                "-",
                ua,
                "normal",
            )

    g_ips = (
        ["66.249.66.%d" % i for i in (1, 2, 3, 7, 9, 11, 13, 15, 66, 67, 68, 69, 70, 71, 72)]
        + ["66.249.68.%d" % i for i in (33, 34, 35, 36)]
        + ["66.249.79.%d" % i for i in (101, 102, 103, 104)]
    )
    crawl(GOOGLEBOT_M, g_ips, rng.randint(250, 420), assets=0.3)
    crawl(GOOGLEBOT, g_ips, rng.randint(40, 90), assets=0.2)
    crawl(GOOGLE_IMG, g_ips[:6], rng.randint(30, 80), assets=0.95, sitemap=False)
    crawl(
        BINGBOT,
        ["40.77.167.%d" % i for i in (2, 13, 38, 51, 70, 120)]
        + ["157.55.39.%d" % i for i in (10, 55, 201)]
        + ["207.46.13.%d" % i for i in (9, 84, 155)],
        rng.randint(120, 220),
        assets=0.1,
    )
    crawl(
        APPLEBOT,
        ["17.241.%d.%d" % (a, b) for a in (75, 219, 227) for b in (12, 98, 140)],
        rng.randint(20, 50),
        assets=0.2,
    )
    crawl(
        AHREFS,
        ["54.36.148.%d" % i for i in (2, 18, 57, 92, 133, 201)] + ["5.39.1.%d" % i for i in (224, 226)],
        rng.randint(150, 300),
    )
    crawl(SEMRUSH, ["185.191.171.%d" % i for i in (1, 4, 6, 9, 13, 17, 19)], rng.randint(100, 220))
    crawl(GPTBOT, ["20.171.207.%d" % i for i in (6, 17, 52, 130, 171)], rng.randint(20, 80))
    crawl(
        FBHIT,
        ["69.171.249.%d" % i for i in (3, 11, 116)] + ["173.252.83.%d" % i for i in (5, 118)],
        rng.randint(10, 40),
        assets=0.4,
        sitemap=False,
    )


# --------------------------------------------------------------------------- the shop's people
def admin_day(rng, log, day, owner, staff, editor_day, do_login):
    d0 = secs(day)
    ip, ua = owner
    # owner's laptop tab on the orders screen, heartbeat 60 s (in background) / 15 s (focused)
    sessions = [(rng.uniform(7.5, 9.5), rng.uniform(2.5, 4.5)), (rng.uniform(19.5, 21), rng.uniform(1, 2.5))]
    if day.weekday() >= 5:
        sessions = [(rng.uniform(9, 11), rng.uniform(1, 2))]
    for n, (start_h, dur_h) in enumerate(sessions):
        t = d0 + start_h * 3600
        end = t + dur_h * 3600
        if do_login and n == 0:
            log.req(t, ip, "GET", "/wp-login.php?redirect_to=%2Fwp-admin%2F&reauth=1", 200, 7430, "-", ua, "normal")
            page_assets(rng, log, t, ip, ua, "/wp-login.php", False, True, "normal")
            t += rng.uniform(6, 20)
            if rng.random() < 0.4:  # password typed wrong first
                log.req(t, ip, "POST", "/wp-login.php", 200, 7780, SITE + "/wp-login.php", ua, "normal")
                t += rng.uniform(8, 25)
            log.req(t, ip, "POST", "/wp-login.php", 302, 0, SITE + "/wp-login.php", ua, "normal")
            t += 1
        screens = [
            "/wp-admin/",
            "/wp-admin/edit.php?post_type=shop_order",
            "/wp-admin/admin.php?page=wc-admin",
            "/wp-admin/edit.php?post_type=product",
            "/wp-admin/admin.php?page=wc-orders",
            "/wp-admin/admin.php?page=wc-settings&tab=shipping",
            "/wp-admin/upload.php",
            "/wp-admin/edit-comments.php",
        ]
        screen = screens[0]
        while t < end:
            if rng.random() < 0.12:
                screen = rng.choice(screens)
                if rng.random() < 0.3:
                    screen = "/wp-admin/post.php?post=%d&action=edit" % rng.randint(10400, 11999)
                log.req(t, ip, "GET", screen, 200, rng.randint(60000, 180000), SITE + "/wp-admin/", ua, "normal")
                tt = t
                for p in [
                    "/wp-admin/load-styles.php?c=0&dir=ltr&load%5Bchunk_0%5D=dashicons,admin-bar,common,forms&ver=6.4.2",
                    "/wp-admin/load-scripts.php?c=0&load%5Bchunk_0%5D=jquery-core,jquery-migrate,utils&ver=6.4.2",
                ]:
                    tt += 0.1
                    log.req(tt, ip, "GET", p, 304, 0, SITE + screen, ua, "normal")
                if "wc-admin" in screen:
                    for api in [
                        "/wp-json/wc-admin/options?options=woocommerce_task_list_hidden&_locale=user",
                        "/wp-json/wc-analytics/reports/revenue/stats?interval=day&order=asc&per_page=100&after=%s&before=%s&_locale=user"
                        % (
                            (day - dt.timedelta(days=7)).strftime("%Y-%m-%dT00%%3A00%%3A00"),
                            day.strftime("%Y-%m-%dT23%%3A59%%3A59"),
                        ),
                        "/wp-json/wc-analytics/reports/orders/stats?interval=day&_locale=user",
                        "/wp-json/wc-analytics/reports/products/stats?interval=day&_locale=user",
                        "/wp-json/wc-admin/notes?page=1&per_page=25&type=error%2Cupdate&status=unactioned&_locale=user",
                        "/wp-json/wc/v3/orders?status=processing&per_page=1&_locale=user",
                        "/wp-json/wc-admin/onboarding/tasks?_locale=user",
                    ]:
                        tt += rng.uniform(0.05, 0.6)
                        log.req(tt, ip, "GET", api, 200, rng.randint(300, 9000), SITE + screen, ua, "normal")
                if screen.startswith("/wp-admin/post.php") and rng.random() < 0.5:  # order status changed
                    tt += rng.uniform(20, 90)
                    log.req(tt, ip, "POST", "/wp-admin/post.php", 302, 0, SITE + screen, ua, "normal")
                    log.req(
                        tt + 0.6,
                        ip,
                        "GET",
                        screen + "&message=1",
                        200,
                        rng.randint(60000, 150000),
                        SITE + screen,
                        ua,
                        "normal",
                    )
                t = tt
            focused = rng.random() < 0.3
            t += rng.uniform(14, 16) if focused else rng.uniform(58, 62)
            log.req(t, ip, "POST", "/wp-admin/admin-ajax.php", 200, rng.randint(80, 160), SITE + screen, ua, "normal")
    # block editor: writing a blog post
    if editor_day:
        t = d0 + rng.uniform(13, 15) * 3600
        post = 2231
        scr = "/wp-admin/post.php?post=%d&action=edit" % post
        log.req(t, ip, "GET", scr, 200, 210000, SITE + "/wp-admin/edit.php", ua, "normal")
        for api in [
            "/wp-json/wp/v2/types?context=edit&_locale=user",
            "/wp-json/wp/v2/users/me?context=edit&_locale=user",
            "/wp-json/wp/v2/posts/%d?context=edit&_locale=user" % post,
            "/wp-json/wp/v2/taxonomies?context=edit&_locale=user",
            "/wp-json/wp/v2/categories?context=view&per_page=100&_fields=id%2Cname%2Cparent&_locale=user",
            "/wp-json/wp/v2/block-patterns/patterns?_locale=user",
            "/wp-json/wp/v2/settings?_locale=user",
            "/wp-json/wp/v2/templates/lookup?slug=single-post&_locale=user",
            "/wp-json/?_fields=description%2Cgmt_offset%2Chome%2Cname&_locale=user",
            "/wp-json/wp/v2/media?context=edit&per_page=20&_locale=user",
            "/wp-json/wp/v2/block-renderer/core/latest-posts?context=edit&_locale=user",
        ]:
            t += rng.uniform(0.05, 0.5)
            log.req(t, ip, "GET", api, 200, rng.randint(500, 40000), SITE + scr, ua, "normal")
        end = t + rng.uniform(40, 80) * 60
        while t < end:
            t += rng.uniform(14, 16)
            log.req(t, ip, "POST", "/wp-admin/admin-ajax.php", 200, 120, SITE + scr, ua, "normal")
            if rng.random() < 0.25:
                log.req(
                    t + 1,
                    ip,
                    "POST",
                    "/wp-json/wp/v2/posts/%d/autosaves?_locale=user" % post,
                    200,
                    2400,
                    SITE + scr,
                    ua,
                    "normal",
                )
            if rng.random() < 0.05:
                log.req(t + 2, ip, "POST", "/wp-json/wp/v2/media?_locale=user", 201, 3100, SITE + scr, ua, "normal")
            if rng.random() < 0.08:
                log.req(
                    t + 2,
                    ip,
                    "GET",
                    "/wp-json/wp/v2/search?search=%s&per_page=20&type=post&_locale=user"
                    % rng.choice(["wallet", "belt", "gift"]),
                    200,
                    1800,
                    SITE + scr,
                    ua,
                    "normal",
                )
        log.req(t + 5, ip, "POST", "/wp-json/wp/v2/posts/%d?_locale=user" % post, 200, 5200, SITE + scr, ua, "normal")
    # owner's phone: WooCommerce iOS app checking orders a few times a day
    app_ua = "WooCommerce-iOS/16.3 (iPhone; iOS 17.1.2; Scale/3.00)"
    for _ in range(rng.randint(2, 6)):
        t = d0 + rng.uniform(8, 22) * 3600
        aip = ip_mobile(rng)
        for api in [
            "/wp-json/wc/v3/orders?per_page=25&status=any",
            "/wp-json/wc/v3/reports/orders/totals",
            "/wp-json/wc-analytics/reports/revenue/stats?interval=day",
            "/wp-json/wc/v3/products?per_page=25",
        ]:
            t += rng.uniform(0.2, 3)
            log.req(t, aip, "GET", api, 200, rng.randint(900, 30000), "-", app_ua, "normal")
    # staff (packing) in the workshop on weekdays: orders screen, a few order updates
    if day.weekday() < 5:
        sip, sua = staff
        t = d0 + rng.uniform(9.5, 10.5) * 3600
        end = t + rng.uniform(1.5, 3) * 3600
        log.req(t, sip, "GET", "/wp-admin/edit.php?post_type=shop_order", 200, 140000, "-", sua, "normal")
        while t < end:
            t += rng.uniform(58, 62)
            log.req(
                t,
                sip,
                "POST",
                "/wp-admin/admin-ajax.php",
                200,
                110,
                SITE + "/wp-admin/edit.php?post_type=shop_order",
                sua,
                "normal",
            )
            if rng.random() < 0.06:
                oid = rng.randint(10400, 11999)
                scr = "/wp-admin/post.php?post=%d&action=edit" % oid
                log.req(
                    t + 2, sip, "GET", scr, 200, 120000, SITE + "/wp-admin/edit.php?post_type=shop_order", sua, "normal"
                )
                log.req(t + 30, sip, "POST", "/wp-admin/post.php", 302, 0, SITE + scr, sua, "normal")
                log.req(t + 31, sip, "GET", scr + "&message=1", 200, 120000, SITE + scr, sua, "normal")


def customer_login(rng, log, t, ip, ua):
    log.req(t, ip, "GET", "/my-account/", 200, 52000, SITE + "/", ua, "normal")
    t = page_assets(rng, log, t, ip, ua, "/my-account/", False, True, "normal") + rng.uniform(8, 30)
    if rng.random() < 0.15:
        log.req(t, ip, "POST", "/my-account/", 200, 54000, SITE + "/my-account/", ua, "normal")
        t += rng.uniform(10, 30)
    log.req(t, ip, "POST", "/my-account/", 302, 0, SITE + "/my-account/", ua, "normal")
    log.req(t + 0.5, ip, "GET", "/my-account/", 200, 48000, SITE + "/my-account/", ua, "normal")
    t = page_assets(rng, log, t + 0.5, ip, ua, "/my-account/", False, True, "normal") + rng.uniform(5, 30)
    log.req(t, ip, "GET", "/my-account/orders/", 200, 47000, SITE + "/my-account/", ua, "normal")
    return page_assets(rng, log, t, ip, ua, "/my-account/orders/", False, True, "normal")


def normal_day(rng, log, day, people, offices, owner, staff, sale=False, login=False, editor=False):
    wd = day.weekday()
    base = {0: 480, 1: 460, 2: 450, 3: 470, 4: 440, 5: 380, 6: 430}[wd]
    n = int(base * rng.uniform(0.9, 1.1))
    weights = list(HOUR_W)
    if sale:
        n *= 3
        weights = [w * (3.5 if h in (7, 8) else 2 if h in (19, 20) else 1) for h, w in enumerate(weights)]
    busy = []
    for _ in range(n):
        t = pick_time(rng, day, weights)
        returning = rng.random() < 0.35
        if returning:
            p = rng.choice(people)
        else:
            p = Person(rng, offices)
        ip = p.address(rng)
        r = rng.random()
        in_app = False
        ua = p.ua
        if sale and r < 0.4:
            source = "newsletter"
        elif r < 0.1 and p.mobile:
            source = "facebook"
            in_app = True
            ua = ua_fb_ios(rng) if "iPhone" in p.ua else ua_fb_android(rng)
        elif r < 0.16 and p.mobile:
            source = "instagram"
            in_app = True
            ua = ua_instagram(rng)
        else:
            source = rng.choices(
                ["google", "google_shopping", "direct", "bing", "pinterest"], weights=[45, 12, 30, 8, 5]
            )[0]
        intent = rng.random() < (0.09 if sale else 0.045) * (2 if p.customer else 1)
        busy.append(t)
        if returning and p.customer and rng.random() < 0.15:
            t = customer_login(rng, log, t, ip, ua) + rng.uniform(5, 30)
        end = visit(rng, log, t, ip, ua, cached=returning and not in_app, source=source, intent=intent, in_app=in_app)
        busy.append(end)
    site_automation(rng, log, day, busy)
    crawlers(rng, log, day)
    admin_day(rng, log, day, owner, staff, editor, login)


# --------------------------------------------------------------------------- the bots
def random_browser_ua(rng):
    return rng.choice([ua_win_chrome, ua_mac_safari, ua_iphone, ua_android_chrome, ua_firefox, ua_edge])(rng)


BRUTE_UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.110 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.149 Safari/537.36",
]


def wp_login_bruteforce(rng, log, day):
    lab = "wp_login_bruteforce"
    d0 = secs(day)
    # distributed: residential proxies, one or two tries each, over ~5 hours in the night
    start = d0 + 1.5 * 3600
    for _ in range(700):
        ip = ip_residential_proxy(rng)
        ua = rng.choice(BRUTE_UAS)
        t = start + rng.uniform(0, 5 * 3600)
        if rng.random() < 0.3:
            log.req(t, ip, "GET", "/wp-login.php", 200, 7430, "-", ua, lab)
            t += rng.uniform(0.5, 3)
        for _ in range(rng.choice([1, 1, 1, 2])):
            log.req(t, ip, "POST", "/wp-login.php", 200, 7780, SITE + "/wp-login.php", ua, lab)
            t += rng.uniform(2, 20)
    # a few hosting machines hammering through the day
    for _ in range(3):
        ip = ip_hosting(rng)
        ua = rng.choice(BRUTE_UAS + ["-"])
        t = d0 + rng.uniform(0, 18 * 3600)
        for _ in range(rng.randint(150, 400)):
            log.req(t, ip, "POST", "/wp-login.php", 200, 7780, SITE + "/wp-login.php", ua, lab)
            t += rng.uniform(1, 12)


def xmlrpc_bruteforce(rng, log, day):
    lab = "xmlrpc_bruteforce"
    d0 = secs(day)
    start = d0 + 10 * 3600
    for _ in range(550):
        ip = ip_residential_proxy(rng)
        ua = rng.choice(
            [
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.124 Safari/537.36",
                "-",
                "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)",
            ]
        )
        t = start + rng.uniform(0, 6 * 3600)
        for _ in range(rng.choice([1, 1, 2])):
            log.req(t, ip, "POST", "/xmlrpc.php", 200, rng.randint(3000, 9000), "-", ua, lab)
            t += rng.uniform(3, 30)
    for _ in range(2):
        ip = ip_hosting(rng)
        ua = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:62.0) Gecko/20100101 Firefox/62.0"
        t = d0 + rng.uniform(2, 20) * 3600
        log.req(t, ip, "GET", "/xmlrpc.php", 405, 42, "-", ua, lab)
        for _ in range(rng.randint(200, 350)):
            t += rng.uniform(0.5, 4)
            log.req(t, ip, "POST", "/xmlrpc.php", 200, rng.randint(20000, 60000), "-", ua, lab)


VULN_PATHS = [
    "/wp-content/plugins/revslider/temp/update_extract/revslider/index.php",
    "/wp-admin/admin-ajax.php?action=revslider_show_image&img=../wp-config.php",
    "/wp-content/plugins/wp-file-manager/lib/php/connector.minimal.php",
    "/wp-content/plugins/wp-file-manager/readme.txt",
    "/wp-content/plugins/elementor/readme.txt",
    "/wp-content/plugins/contact-form-7/readme.txt",
    "/wp-content/plugins/duplicator/installer.php",
    "/wp-content/plugins/wpdiscuz/readme.txt",
    "/wp-content/plugins/ultimate-member/readme.txt",
    "/wp-content/plugins/essential-addons-for-elementor-lite/readme.txt",
    "/wp-content/plugins/formidable/readme.txt",
    "/wp-content/plugins/wp-automatic/inc/csv.php",
    "/wp-content/plugins/backup-backup/includes/backup-heart.php",
    "/wp-content/plugins/royal-elementor-addons/readme.txt",
    "/wp-content/plugins/woocommerce-payments/readme.txt",
    "/wp-content/plugins/mstore-api/readme.txt",
    "/wp-content/plugins/litespeed-cache/readme.txt",
    "/wp-content/plugins/wp-fastest-cache/readme.txt",
    "/wp-content/themes/twentytwenty/style.css",
    "/wp-content/uploads/wpo-plugins-tables-list.json",
    "/.env",
    "/.env.bak",
    "/.git/config",
    "/.git/HEAD",
    "/wp-config.php.bak",
    "/wp-config.php~",
    "/wp-config.php.save",
    "/wp-config.bak",
    "/wp-config.old",
    "/.wp-config.php.swp",
    "/backup.zip",
    "/backup.sql",
    "/wordpress.zip",
    "/wp-admin/install.php",
    "/wp-admin/setup-config.php",
    "/phpmyadmin/",
    "/pma/",
    "/adminer.php",
    "/wp-includes/wlwmanifest.xml",
    "/xmlrpc.php?rsd",
    "/readme.html",
    "/license.txt",
    "/wp-json/",
    "/wp-content/debug.log",
    "/debug.log",
    "/.DS_Store",
    "/server-status",
    "/info.php",
    "/phpinfo.php",
    "/wp-content/uploads/",
    "/wp-includes/",
    "/.aws/credentials",
    "/config.json",
    "/.vscode/sftp.json",
    "/wp-admin/css/",
    "/cgi-bin/",
    "/wp-content/plugins/",
    "/alfa.php",
    "/wso.php",
    "/shell.php",
    "/wp-22.php",
    "/wp-content/plugins/hellopress/wp_filemanager.php",
    "/about.php",
    "/xleet.php",
    "/wp-admin/includes/",
]


def vuln_scanners(rng, log, day, k):
    lab = "vuln_scanner"
    d0 = secs(day)
    for _ in range(k):
        ip = ip_hosting(rng) if rng.random() < 0.8 else ip_residential_proxy(rng)
        ua = rng.choice(
            [
                "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.129 Safari/537.36",
                "Go-http-client/1.1",
                "python-requests/2.31.0",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
                "Mozlila/5.0 (Linux; Android 7.0; SM-G892A Bulid/NRD90M; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/60.0.3112.107 Moblie Safari/537.36",
            ]
        )
        t = d0 + rng.uniform(0, 86000)
        paths = rng.sample(VULN_PATHS, rng.randint(12, len(VULN_PATHS)))
        if rng.random() < 0.5:
            paths = ["/"] + paths
        for p in paths:
            if p in ("/", "/wp-json/"):
                st, sz = 200, 60000
            elif p in (
                "/readme.html",
                "/license.txt",
                "/wp-includes/wlwmanifest.xml",
                "/xmlrpc.php?rsd",
                "/wp-content/plugins/contact-form-7/readme.txt",
                "/wp-content/plugins/woocommerce-payments/readme.txt",
            ):
                st, sz = 200, 4000
            elif p.endswith("/") and p.startswith("/wp-"):
                st, sz = 403, 199
            elif p == "/wp-admin/install.php":
                st, sz = 200, 2800
            else:
                st, sz = 404, 31220
            log.req(t, ip, "GET", p, st, sz, "-", ua, lab)
            t += rng.uniform(0.1, 1.5)


def user_enumeration(rng, log, day, k):
    lab = "user_enumeration"
    d0 = secs(day)
    for _ in range(k):
        ip = ip_hosting(rng)
        ua = rng.choice(
            [
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.0.0 Safari/537.36",
                "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
                "curl/8.4.0",
            ]
        )
        t = d0 + rng.uniform(0, 86000)
        log.req(t, ip, "GET", "/wp-json/wp/v2/users", 200, 1450, "-", ua, lab)
        t += rng.uniform(0.2, 2)
        log.req(t, ip, "GET", "/wp-json/wp/v2/users?per_page=100&page=1", 200, 1450, "-", ua, lab)
        for a in range(1, 21):
            t += rng.uniform(0.2, 2)
            if a <= 3:
                log.req(t, ip, "GET", "/?author=%d" % a, 301, 0, "-", ua, lab)
                log.req(
                    t + 0.2,
                    ip,
                    "GET",
                    "/author/%s/" % ["sophie", "tom", "shopmanager"][a - 1],
                    200,
                    40000,
                    "-",
                    ua,
                    lab,
                )
            else:
                log.req(t, ip, "GET", "/?author=%d" % a, 404, 31220, "-", ua, lab)
        t += 1
        log.req(t, ip, "GET", "/author-sitemap.xml", 200, 600, "-", ua, lab)
        log.req(t + 1, ip, "GET", "/wp-json/oembed/1.0/embed?url=" + SITE + "/", 200, 900, "-", ua, lab)


def card_testing(rng, log, day):
    lab = "card_testing"
    d0 = secs(day)
    start = d0 + 0.8 * 3600
    cheap = "bookmark-set"
    pid = PRODUCT_IDS[cheap]

    def one(ip, ua, t, n):
        log.req(t, ip, "GET", "/?add-to-cart=%d" % pid, 200, 61000, "-", ua, lab)
        t += rng.uniform(0.5, 2)
        log.req(t, ip, "GET", "/checkout/", 200, 78000, "-", ua, lab)
        t += rng.uniform(0.5, 2)
        log.req(t, ip, "POST", "/?wc-ajax=update_order_review", 200, 7200, SITE + "/checkout/", ua, lab)
        for _ in range(n):
            t += rng.uniform(1, 6)
            log.req(t, ip, "POST", "/?wc-ajax=checkout", 200, rng.randint(180, 260), SITE + "/checkout/", ua, lab)
            payment_callbacks(rng, log, t, ok=False)
        return t

    for _ in range(260):
        ip = ip_residential_proxy(rng)
        ua = random_browser_ua(rng)
        one(ip, ua, start + rng.uniform(0, 3 * 3600), rng.choice([1, 1, 2, 3]))
    for _ in range(2):
        ip = ip_hosting(rng)
        ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/117.0.0.0 Safari/537.36"
        t = start + rng.uniform(0, 2 * 3600)
        for _ in range(rng.randint(15, 25)):
            t = one(ip, ua, t, rng.randint(2, 5)) + rng.uniform(5, 30)


def comment_spam(rng, log, day, k):
    lab = "comment_spam"
    d0 = secs(day)
    for _ in range(k):
        ip = ip_residential_proxy(rng)
        ua = random_browser_ua(rng)
        m, s = rng.choice(POSTS)
        post = "/%s/%s/" % (m, s)
        t = d0 + rng.uniform(0, 86000)
        if rng.random() < 0.6:
            log.req(t, ip, "GET", post, 200, 52000, "-", ua, lab)
            t += rng.uniform(2, 15)
        for _ in range(rng.choice([1, 1, 2, 3])):
            log.req(t, ip, "POST", "/wp-comments-post.php", 302, 0, SITE + post, ua, lab)
            t += rng.uniform(5, 60)


def price_scraper_slow(rng, log, day):
    lab = "price_scraper"
    d0 = secs(day)
    ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36"
    t = d0 + rng.uniform(2, 4) * 3600
    todo = ["/product/%s/" % p for p in PRODUCTS] + ["/product-category/%s/" % c for c in CATEGORIES]
    rng.shuffle(todo)
    while todo:
        ip = ip_residential_proxy(rng)
        for _ in range(rng.randint(4, 12)):
            if not todo:
                break
            p = todo.pop()
            log.req(t, ip, "GET", p, 200, rng.randint(40000, 90000), "-", ua, lab)
            t += rng.uniform(25, 110)
        t += rng.uniform(30, 300)


def fast_scraper(rng, log, day):
    lab = "fast_scraper"
    d0 = secs(day)
    for ua in [
        "python-requests/2.31.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/119.0.6045.105 Safari/537.36",
    ]:
        ip = ip_hosting(rng)
        t = d0 + rng.uniform(6, 20) * 3600
        pages = ["/shop/"] + ["/shop/page/%d/" % i for i in range(2, 6)]
        for c in CATEGORIES:
            pages += ["/product-category/%s/" % c] + ["/product-category/%s/page/%d/" % (c, i) for i in range(2, 4)]
        pages += ["/product/%s/" % p for p in PRODUCTS]
        pages += ["/?s=%s&post_type=product" % w.replace(" ", "+") for w in SEARCH_WORDS]
        pages += ["/wp-json/wc/store/v1/products?per_page=100&page=%d" % i for i in range(1, 3)]
        for rep in range(2):
            for p in pages:
                st = 200 if "page/4" not in p and "page/5" not in p else 404
                log.req(t, ip, "GET", p, st, rng.randint(30000, 90000), "-", ua, lab)
                t += rng.uniform(0.2, 0.8)


# --------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=65)
    ap.add_argument("--out", default=".")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    offices = [("81.144.213.%d" % i, ua_win_chrome(rng)) for i in (36, 90)] + [
        ("212.58.%d.%d" % (rng.randint(0, 255), rng.randint(1, 254)), ua_edge(rng))
    ]
    people = [Person(rng, offices) for _ in range(1500)]
    owner = (
        "86.153.44.201",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
    )
    staff = (
        "81.144.210.77",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 Edg/119.0.0.0",
    )

    train = Log()
    for i in range(7):
        day = TRAIN_START + dt.timedelta(days=i)
        normal_day(rng, train, day, people, offices, owner, staff, login=(i == 1), editor=(i in (2, 5)))
    test = Log()
    for i in range(3):
        day = TEST_START + dt.timedelta(days=i)
        normal_day(
            rng, test, day, people, offices, owner, staff, sale=(day == BLACK_FRIDAY), login=(i == 0), editor=(i == 2)
        )
        vuln_scanners(rng, test, day, 4)
        user_enumeration(rng, test, day, 2)
        comment_spam(rng, test, day, 25)
        price_scraper_slow(rng, test, day)
        if i == 0:
            wp_login_bruteforce(rng, test, day)
        if i == 1:
            xmlrpc_bruteforce(rng, test, day)
            fast_scraper(rng, test, day)
        if i == 2:
            card_testing(rng, test, day)
    n1 = train.write(a.out + "/train.log")
    n2 = test.write(a.out + "/test.log")
    labels = dict(train.labels)
    for k, v in test.labels.items():
        if labels.get(k, "normal") != "normal" and v == "normal":
            continue
        labels[k] = v
    with open(a.out + "/labels.csv", "w") as f:
        f.write("key,label\n")
        for k in sorted(labels):
            f.write("%s,%s\n" % (k, labels[k]))
    fam = {}
    for k, v in test.labels.items():
        fam[v] = fam.get(v, 0) + 1
    print("train lines", n1, "test lines", n2, "label conflicts", train.conflicts, test.conflicts)
    print("test clients per label", dict(sorted(fam.items())))
    print("test requests per label", dict(sorted(test.counts.items())))
    print("train clients", len(train.labels))


if __name__ == "__main__":
    main()
