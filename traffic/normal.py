"""Normal traffic: a customer's session from their home, on one of their devices.

A session may start with a login (sometimes after a mistyped password, rarely through a password
reset), then browses with log-normal think times: category and product pages, searches,
recommendation clicks, adding to the cart and buying, and sometimes ends with a logout. Customers
on the mobile app make API calls instead of page views; mobile devices often change address on
the carrier's network, and a few sessions happen while travelling abroad (no sooner than a flight
could have taken the customer there). A browser whose cache is cold fetches the shop's static
files with its first page. A newcomer's first session starts with the sign-up (which logs them in)
and then browses like anyone else.
"""

from __future__ import annotations

from collections.abc import Iterator

from traffic import agents, catalog, geo
from traffic.world import MICROS, Context, Emission, UserProfile

# Local-hour activity (max 1.0): quiet at night, a peak in the evening.
DIURNAL = (
    0.25,
    0.15,
    0.10,
    0.07,
    0.06,
    0.08,
    0.15,
    0.30,
    0.50,
    0.65,
    0.70,
    0.75,
    0.80,
    0.75,
    0.70,
    0.70,
    0.75,
    0.80,
    0.90,
    1.00,
    1.00,
    0.90,
    0.70,
    0.45,
)
# Monday..Sunday: weekends are a little quieter.
WEEKLY = (1.0, 0.97, 0.97, 0.98, 0.95, 0.85, 0.9)
MEAN_ACTIVITY = sum(DIURNAL) / 24 * sum(WEEKLY) / 7

MEAN_PAGES_PER_SESSION = 7.0
MEAN_EVENTS_PER_SESSION = 9.0  # pages plus logins, carts, purchases and static files; used to size episodes
COLD_CACHE_SHARE = 0.4  # browser sessions that fetch the static files (the rest have them cached)


def activity(user: UserProfile, micros: int) -> float:
    """How likely ``user`` is to start a session at that moment (0-1), from their local time."""
    local_hours = (micros + user.utc_offset_micros) // (3600 * MICROS)
    # 1970-01-01 was a Thursday (index 3 with Monday = 0).
    weekday = (local_hours // 24 + 3) % 7
    return DIURNAL[local_hours % 24] * WEEKLY[weekday]


def _pick_device(ctx: Context, user: UserProfile) -> tuple[str, str]:
    rng = ctx.rng
    kind, agent = user.devices[0] if rng.random() < 0.7 else user.devices[rng.randrange(len(user.devices))]
    if rng.random() < 0.004:  # a browser update or a new phone
        agent = agents.device_agent(rng, kind)
    return kind, agent


def _pick_ip(ctx: Context, user: UserProfile, kind: str, micros: int) -> str:
    rng = ctx.rng
    draw = rng.random()
    if draw < 0.003:  # travelling: same device, another country, if a flight could be there by now
        country = geo.COUNTRY_CODES[rng.randrange(len(geo.COUNTRY_CODES))]
        # Drawn before knowing whether the trip can be taken, as when trips needed no flight: a
        # session that stays home draws the numbers it drew then.
        ip = geo.random_ip(rng, country, geo.RESIDENTIAL)
        if ctx.can_be_in(user, country, micros):
            ctx.arrive(user, country, micros)
            return ip
    if not ctx.can_be_in(user, user.country, micros):  # still abroad: no flight home yet
        abroad = ctx.where(user)
        ctx.arrive(user, abroad, micros)
        return geo.random_ip(rng, abroad, geo.RESIDENTIAL)
    ctx.arrive(user, user.country, micros)
    if kind != agents.DESKTOP and draw < 0.4:
        return geo.random_ip(rng, user.country, geo.MOBILE)
    return user.home_ips[0] if len(user.home_ips) == 1 or draw < 0.75 else user.home_ips[1]


def normal_session(ctx: Context, user: UserProfile, micros: int, *, first_visit: bool = False) -> Iterator[Emission]:
    """The events of one session of ``user`` starting at ``micros``, in time order, unlabeled.

    ``first_visit``: the customer's first session ever, which begins by signing up.
    """
    rng = ctx.rng
    make = ctx.factory.make
    latency = ctx.latency_ms
    random = rng.random
    kind, agent = _pick_device(ctx, user)
    ip = _pick_ip(ctx, user, kind, micros)
    session = ctx.session_id()
    uid = user.user_id
    view = "api_call" if kind == agents.APP else "page_view"
    t = micros
    cold_cache = kind != agents.APP and (first_visit or rng.random() < COLD_CACHE_SHARE)

    if first_visit:
        props = {"method": "POST", "latency_ms": latency()}
        yield t, make(t, "signup", uid, session, ip, agent, catalog.SIGNUP, 201, props), None
        t += int(rng.uniform(0.5, 3) * MICROS)  # the shop logs the new account in
        props = {"method": "POST", "latency_ms": latency()}
        yield t, make(t, "login_succeeded", uid, session, ip, agent, catalog.LOGIN, 200, props), None
    elif rng.random() < 0.35:
        if rng.random() < 0.06:
            for _ in range(1 + (rng.random() < 0.3)):
                props = {"method": "POST", "latency_ms": latency(), "reason": "bad_password"}
                yield t, make(t, "login_failed", uid, session, ip, agent, catalog.LOGIN, 401, props), None
                t += int(rng.uniform(3, 25) * MICROS)
            if rng.random() < 0.25:
                props = {"method": "POST", "latency_ms": latency()}
                yield t, make(t, "password_reset", uid, session, ip, agent, catalog.PASSWORD_RESET, 200, props), None
                t += int(rng.uniform(60, 600) * MICROS)  # the e-mail round trip
        props = {"method": "POST", "latency_ms": latency()}
        yield t, make(t, "login_succeeded", uid, session, ip, agent, catalog.LOGIN, 200, props), None

    pages = min(80, 1 + int(rng.expovariate(1 / MEAN_PAGES_PER_SESSION)))
    product = -1
    cart_items = 0
    cart_total = 0.0
    for _ in range(pages):
        t += ctx.think_micros()
        draw = random()
        if product >= 0 and draw < 0.10:
            quantity = 1 + (rng.random() < 0.2)
            price = catalog.price_of(product)
            cart_items += quantity
            cart_total += price * quantity
            resource = catalog.cart_add_path(catalog.sku(product), quantity)
            props = {"method": "POST", "latency_ms": latency(), "sku": catalog.sku(product), "price": price}
            yield t, make(t, "add_to_cart", uid, session, ip, agent, resource, 200, props), None
        elif cart_items and draw < 0.16:
            declined = rng.random() < 0.02
            props = {
                "method": "POST",
                "latency_ms": latency() + 200,
                "amount": round(cart_total, 2),
                "currency": user.currency,
                "items": cart_items,
                "payment": "declined" if declined else "approved",
                "card_last4": user.card_last4,
            }
            yield (
                t,
                make(t, "purchase", uid, session, ip, agent, catalog.CHECKOUT, 402 if declined else 200, props),
                None,
            )
            if not declined:
                cart_items = 0
                cart_total = 0.0
        elif draw < 0.30:
            term = catalog.SEARCH_TERMS[int(random() * len(catalog.SEARCH_TERMS))]
            page = 1 if rng.random() < 0.85 else 2
            props = {"method": "GET", "latency_ms": latency(), "results": int(random() * 120)}
            yield t, make(t, "search", uid, session, ip, agent, catalog.search_path(term, page), 200, props), None
        elif draw < 0.42:
            product = int(random() * catalog.PRODUCTS)
            resource = catalog.product_path(product) + "?ref=reco"
            props = {"method": "GET", "latency_ms": latency()}
            yield t, make(t, "click", uid, session, ip, agent, resource, 200, props), None
        else:
            where = random()
            if where < 0.6:
                product = int(random() * catalog.PRODUCTS)
                resource = catalog.product_path(product)
            elif where < 0.9:
                category = catalog.CATEGORIES[int(random() * len(catalog.CATEGORIES))]
                resource = catalog.category_path(category, 1 if rng.random() < 0.8 else rng.randrange(2, 6))
            else:
                resource = catalog.HOME
            if kind == agents.APP:
                resource = "/api/v2" + resource
            failure = random()
            status = 404 if failure < 0.008 else 500 if failure < 0.009 else 200
            props = {"method": "GET", "latency_ms": latency()}
            yield t, make(t, view, uid, session, ip, agent, resource, status, props), None
        if cold_cache:  # the first page pulls the bundle, within a fraction of a second
            cold_cache = False
            assets = t
            for asset in catalog.STATIC_ASSETS[: rng.randint(2, len(catalog.STATIC_ASSETS))]:
                assets += int(rng.uniform(0.01, 0.08) * MICROS)
                props = {"method": "GET", "latency_ms": latency() // 4}
                yield assets, make(assets, "static_asset", uid, session, ip, agent, asset, 200, props), None
            t = assets  # the next page comes after the reader has seen this one

    if rng.random() < 0.15:
        t += int(rng.uniform(2, 60) * MICROS)
        props = {"method": "POST", "latency_ms": latency()}
        yield t, make(t, "logout", uid, session, ip, agent, catalog.LOGOUT, 200, props), None
