"""Labeled attack scenarios. Each episode is a generator of events in time order.

Every scenario emits exactly the number of labeled events it is asked for (its planned size), so
the simulator can hold the attack share to its setting. Signatures, as the model can see them:

``credential_stuffing``
    A few hosting-provider IPs and script-like user agents try many user ids at a steady,
    fast pace (1.5-6 attempts/s): almost all ``login_failed`` (``reason`` ``unknown_user`` for ids
    that do not exist, ``bad_password`` otherwise), rare successes on real accounts.
``account_takeover``
    A real customer logs in from a country far from home and a device they never used, resets the
    password, looks at payment methods and buys gift cards for a large amount.
``scraping_bot``
    A throwaway account reads product or category pages one after the other at a very regular
    interval (0.3-1.5 s, 2 % jitter), at least 60 of them, with script user agents or a different browser agent on every
    request, from one address or a small pool; some 404 (enumerated SKUs) and 429 answers.
``card_testing``
    A throwaway account makes bursts of small purchases (0.50-5.00) a few seconds apart, each with
    another card, mostly declined (status 402), from a few residential proxies; minutes between bursts.
``impossible_travel``
    A customer browses from home, then within 3-30 minutes the same account logs in and browses
    from a country more than 6,000 km away. Only the distant events are labeled: the home events are
    the customer's own, ordinary traffic.

The evasive scenarios look like customers in everything but one respect:

``low_and_slow_scraping``
    A few residential addresses and the browsers customers use (3-6 of them, rotated), a fresh
    visitor id and session every 10-40 pages, 2-5 pages a minute for hours: only page views, walking
    every product in SKU order or every page of every category, which no customer does.
``residential_proxy_stuffing``
    Credential stuffing through home and mobile connections in any country: a new address (and
    browser agent, and session) for every one or two attempts, 0.2-2 attempts/s over the pool,
    half of the ids real; almost all ``login_failed``, rare successes.
``human_like_bot``
    One account, one browser, one residential address, pauses drawn from the customers' own think
    times; it logs in and repeats one task (view, add to cart and buy one of 1-3 products, or the
    same 1-2 searches and a click on the same products), logging in again every 5-30 tasks, never
    fetching a static file.
``session_replay_bot``
    A customer's real session (emitted unlabeled: it is them), then replayed again and again with
    the customer's user agent from 1-4 hosting addresses, a fresh visitor id per replay, at a fixed
    pace (0.5-5 s, 2 % jitter); logins, resets, purchases and logouts are left out (a replay cannot
    reuse a password or a payment).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from traffic import agents, catalog, geo
from traffic.normal import normal_session
from traffic.world import MICROS, Context, Emission, UserProfile


@dataclass(frozen=True, slots=True)
class Label:
    """Which attack an event belongs to; travels beside the event, never inside it."""

    scenario: str
    episode_id: str


@dataclass
class Episode:
    """One attack: its scenario, when it ran, whom it targeted and where it came from."""

    scenario: str
    episode_id: str
    planned_events: int
    start_micros: int = -1
    end_micros: int = -1
    events: int = 0
    # Ordered sets: insertion order keeps the metadata deterministic.
    user_ids: dict[str, None] = field(default_factory=dict)
    source_ips: dict[str, None] = field(default_factory=dict)

    @property
    def label(self) -> Label:
        return Label(self.scenario, self.episode_id)

    @property
    def start(self) -> datetime | None:
        return None if self.start_micros < 0 else datetime.fromtimestamp(self.start_micros / MICROS, timezone.utc)

    @property
    def end(self) -> datetime | None:
        return None if self.end_micros < 0 else datetime.fromtimestamp(self.end_micros / MICROS, timezone.utc)

    def record(self, micros: int) -> None:
        """Count one labeled event emitted at ``micros``."""
        if self.start_micros < 0:
            self.start_micros = micros
        self.end_micros = micros
        self.events += 1

    def to_json(self) -> dict[str, Any]:
        start, end = self.start, self.end
        return {
            "episode_id": self.episode_id,
            "scenario": self.scenario,
            "start": None if start is None else start.isoformat().replace("+00:00", "Z"),
            "end": None if end is None else end.isoformat().replace("+00:00", "Z"),
            "events": self.events,
            "user_ids": list(self.user_ids),
            "source_ips": list(self.source_ips),
        }


Scenario = Callable[[Context, Episode, int, int], Iterator[Emission]]


def _seconds(rng: random.Random, low: float, high: float) -> int:
    return int(rng.uniform(low, high) * MICROS)


def _far_country(rng: random.Random, home: str, minimum_km: float) -> str:
    candidates = [code for code in geo.COUNTRY_CODES if geo.distance_km(home, code) >= minimum_km]
    return candidates[rng.randrange(len(candidates))]


def credential_stuffing(ctx: Context, episode: Episode, t: int, size: int) -> Iterator[Emission]:
    rng, make, label = ctx.rng, ctx.factory.make, episode.label
    countries = geo.countries_with(geo.HOSTING)
    ips = [geo.random_ip(rng, rng.choice(countries), geo.HOSTING) for _ in range(rng.randint(2, 5))]
    user_agents = [agents.script_agent(rng) if rng.random() < 0.6 else agents.desktop_agent(rng)]
    if rng.random() < 0.5:
        user_agents.append(agents.script_agent(rng))
    rate = rng.uniform(1.5, 6.0)
    emitted = 0
    while emitted < size:
        t += int(rng.expovariate(rate) * MICROS) + 1
        ip, agent = rng.choice(ips), rng.choice(user_agents)
        episode.source_ips[ip] = None
        real = rng.random() < 0.3
        uid = ctx.random_user().user_id if real else ctx.unknown_user_id()
        episode.user_ids[uid] = None
        if real and rng.random() < 0.03:
            props = {"method": "POST", "latency_ms": ctx.latency_ms()}
            yield t, make(t, "login_succeeded", uid, None, ip, agent, catalog.LOGIN, 200, props), label
            emitted += 1
            if emitted < size:
                t += _seconds(rng, 0.5, 3)
                props = {"method": "GET", "latency_ms": ctx.latency_ms()}
                yield t, make(t, "page_view", uid, None, ip, agent, catalog.ACCOUNT, 200, props), label
                emitted += 1
        else:
            reason = "bad_password" if real else "unknown_user"
            props = {"method": "POST", "latency_ms": ctx.latency_ms(), "reason": reason}
            yield t, make(t, "login_failed", uid, None, ip, agent, catalog.LOGIN, 401, props), label
            emitted += 1


def _takeover_steps(count: int) -> list[str]:
    """The attacker's actions on one account, ``count`` of them, in a plausible order."""
    steps = ["login_succeeded", "password_reset", "add_to_cart", "purchase"]
    optional = ["view_security", "login_failed", "view_payment", "logout"]
    extra = max(0, count - len(steps))
    chosen = optional[: min(extra, len(optional))]
    purchases = max(0, extra - len(optional))
    order = ["login_failed", "login_succeeded", "view_security", "password_reset", "view_payment"]
    ordered = [step for step in order if step in steps or step in chosen]
    ordered += ["add_to_cart", "purchase"]
    for number in range(purchases):
        ordered.append("add_to_cart" if number % 2 == 0 else "purchase")
    if "logout" in chosen:
        ordered.append("logout")
    return ordered[:count]


def account_takeover(ctx: Context, episode: Episode, t: int, size: int) -> Iterator[Emission]:
    rng, make, label = ctx.rng, ctx.factory.make, episode.label
    victims = max(1, min(size // 4, round(size / 8)))
    shares = [size // victims + (1 if number < size % victims else 0) for number in range(victims)]
    for share in shares:
        victim: UserProfile = ctx.random_user()
        episode.user_ids[victim.user_id] = None
        country = _far_country(rng, victim.country, 3000.0)
        ip = geo.random_ip(rng, country, geo.RESIDENTIAL if rng.random() < 0.6 else geo.HOSTING)
        episode.source_ips[ip] = None
        known = {agent for _, agent in victim.devices}
        agent = agents.desktop_agent(rng)
        while agent in known:
            agent = agents.desktop_agent(rng)
        session = ctx.session_id()
        uid = victim.user_id
        for step in _takeover_steps(share):
            props: dict[str, Any] = {"method": "POST", "latency_ms": ctx.latency_ms()}
            if step == "login_failed":
                props["reason"] = "bad_password"
                event = make(t, "login_failed", uid, session, ip, agent, catalog.LOGIN, 401, props)
            elif step == "login_succeeded":
                event = make(t, "login_succeeded", uid, session, ip, agent, catalog.LOGIN, 200, props)
            elif step == "view_security":
                props["method"] = "GET"
                event = make(t, "page_view", uid, session, ip, agent, catalog.ACCOUNT_SECURITY, 200, props)
            elif step == "password_reset":
                props["initiated_by"] = "session"
                event = make(t, "password_reset", uid, session, ip, agent, catalog.PASSWORD_RESET, 200, props)
            elif step == "view_payment":
                props["method"] = "GET"
                event = make(t, "page_view", uid, session, ip, agent, catalog.ACCOUNT_PAYMENT, 200, props)
            elif step == "add_to_cart":
                props.update({"sku": catalog.GIFT_CARD_SKU, "price": 500.0})
                resource = catalog.cart_add_path(catalog.GIFT_CARD_SKU, rng.randint(1, 2))
                event = make(t, "add_to_cart", uid, session, ip, agent, resource, 200, props)
            elif step == "purchase":
                props.update(
                    {
                        "amount": float(rng.choice((250, 500, 750, 1000))),
                        "currency": victim.currency,
                        "items": rng.randint(1, 2),
                        "payment": "approved",
                        "card_last4": victim.card_last4,
                    }
                )
                event = make(t, "purchase", uid, session, ip, agent, catalog.CHECKOUT, 200, props)
            else:
                event = make(t, "logout", uid, session, ip, agent, catalog.LOGOUT, 200, props)
            yield t, event, label
            t += _seconds(rng, 5, 90)
        t += _seconds(rng, 120, 1800)


def scraping_bot(ctx: Context, episode: Episode, t: int, size: int) -> Iterator[Emission]:
    rng, make, label = ctx.rng, ctx.factory.make, episode.label
    uid = ctx.fresh_account_id()
    episode.user_ids[uid] = None
    country = rng.choice(geo.countries_with(geo.HOSTING))
    ips = [geo.random_ip(rng, country, geo.HOSTING) for _ in range(1 if rng.random() < 0.5 else rng.randint(4, 12))]
    rotating = rng.random() < 0.4
    fixed_agent = agents.script_agent(rng)
    session = ctx.session_id() if rng.random() < 0.5 else None
    period = rng.uniform(0.3, 1.5)
    by_category = rng.random() < 0.3
    product = rng.randrange(catalog.PRODUCTS)
    category = catalog.CATEGORIES[rng.randrange(len(catalog.CATEGORIES))]
    for number in range(size):
        t += int(period * rng.uniform(0.98, 1.02) * MICROS)
        ip = ips[number % len(ips)]
        episode.source_ips[ip] = None
        agent = agents.desktop_agent(rng) if rotating else fixed_agent
        if by_category:
            resource = catalog.category_path(category, number + 1)
            status = 200 if number < 40 else 404
        else:
            resource = catalog.product_path(product + number)
            status = 200 if product + number < catalog.PRODUCTS else 404
        if period < 0.6 and rng.random() < 0.05:
            status = 429
        props = {"method": "GET", "latency_ms": ctx.latency_ms()}
        yield t, make(t, "page_view", uid, session, ip, agent, resource, status, props), label


def card_testing(ctx: Context, episode: Episode, t: int, size: int) -> Iterator[Emission]:
    rng, make, label = ctx.rng, ctx.factory.make, episode.label
    uid = ctx.fresh_account_id()
    episode.user_ids[uid] = None
    ips = [
        geo.random_ip(rng, geo.COUNTRY_CODES[rng.randrange(len(geo.COUNTRY_CODES))], geo.RESIDENTIAL)
        for _ in range(rng.randint(1, 3))
    ]
    agent = agents.desktop_agent(rng)
    session = ctx.session_id()
    currency = rng.choice(("USD", "EUR", "GBP"))
    emitted = 0
    while emitted < size:
        ip = rng.choice(ips)
        episode.source_ips[ip] = None
        item = rng.randrange(catalog.PRODUCTS)
        props: dict[str, Any] = {"method": "POST", "latency_ms": ctx.latency_ms(), "sku": catalog.sku(item)}
        props["price"] = 1.0
        yield (
            t,
            make(t, "add_to_cart", uid, session, ip, agent, catalog.cart_add_path(catalog.sku(item), 1), 200, props),
            label,
        )
        emitted += 1
        for _ in range(rng.randint(5, 15)):
            if emitted >= size:
                break
            t += _seconds(rng, 2, 8)
            declined = rng.random() < 0.8
            props = {
                "method": "POST",
                "latency_ms": ctx.latency_ms() + 300,
                "amount": rng.choice((0.5, 1.0, 1.0, 2.0, 5.0)),
                "currency": currency,
                "items": 1,
                "payment": "declined" if declined else "approved",
                "card_last4": f"{rng.randrange(10_000):04d}",
            }
            status = 402 if declined else 200
            yield t, make(t, "purchase", uid, session, ip, agent, catalog.CHECKOUT, status, props), label
            emitted += 1
        t += _seconds(rng, 120, 600)


def impossible_travel(ctx: Context, episode: Episode, t: int, size: int) -> Iterator[Emission]:
    rng, make, label = ctx.rng, ctx.factory.make, episode.label
    victims = max(1, size // 5)
    shares = [size // victims + (1 if number < size % victims else 0) for number in range(victims)]
    for share in shares:
        victim = ctx.random_user()
        episode.user_ids[victim.user_id] = None
        kind, home_agent = victim.devices[0]
        home_ip = victim.home_ips[0]
        home_session = ctx.session_id()
        for _ in range(rng.randint(1, 3)):  # the customer's own browsing: unlabeled
            props = {"method": "GET", "latency_ms": ctx.latency_ms()}
            resource = catalog.product_path(rng.randrange(catalog.PRODUCTS))
            yield t, make(t, "page_view", victim.user_id, home_session, home_ip, home_agent, resource, 200, props), None
            t += _seconds(rng, 5, 60)
        t += _seconds(rng, 180, 1800)
        country = _far_country(rng, victim.country, 6000.0)
        ip = geo.random_ip(rng, country, geo.RESIDENTIAL)
        episode.source_ips[ip] = None
        agent = home_agent if rng.random() < 0.5 else agents.device_agent(rng, kind)
        session = ctx.session_id()
        for number in range(share):
            props = {"method": "POST" if number == 0 else "GET", "latency_ms": ctx.latency_ms()}
            if number == 0:
                event = make(t, "login_succeeded", victim.user_id, session, ip, agent, catalog.LOGIN, 200, props)
            else:
                resource = catalog.product_path(rng.randrange(catalog.PRODUCTS))
                event = make(t, "page_view", victim.user_id, session, ip, agent, resource, 200, props)
            yield t, event, label
            t += _seconds(rng, 5, 60)
        t += _seconds(rng, 600, 3600)


def _browser_agents(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct browser user agents of the kinds customers have (desktop and mobile)."""
    pool: list[str] = []
    while len(pool) < count:
        agent = agents.desktop_agent(rng) if rng.random() < 0.7 else agents.mobile_agent(rng)
        if agent not in pool:
            pool.append(agent)
    return pool


def low_and_slow_scraping(ctx: Context, episode: Episode, t: int, size: int) -> Iterator[Emission]:
    rng, make, label = ctx.rng, ctx.factory.make, episode.label
    # A few residential proxies and the browsers customers use: nothing about the client stands out.
    country = geo.COUNTRY_CODES[rng.randrange(len(geo.COUNTRY_CODES))]
    ips = [geo.random_ip(rng, country, geo.RESIDENTIAL) for _ in range(rng.randint(2, 6))]
    browsers = _browser_agents(rng, rng.randint(3, 6))
    # A customer's pace (a few pages a minute), so rate limits and rate features see nothing.
    period = rng.uniform(12.0, 30.0)
    by_category = rng.random() < 0.3
    product = rng.randrange(catalog.PRODUCTS)
    category = rng.randrange(len(catalog.CATEGORIES))
    page = 1
    emitted = 0
    while emitted < size:
        # Each visit clears its cookies and takes another address and browser, so no visitor id,
        # session or address carries more than a few dozen pages of the walk.
        uid = ctx.fresh_account_id()
        episode.user_ids[uid] = None
        ip, agent, session = rng.choice(ips), rng.choice(browsers), ctx.session_id()
        episode.source_ips[ip] = None
        for _ in range(min(size - emitted, rng.randint(10, 40))):
            t += int(period * rng.uniform(0.5, 1.5) * MICROS)
            # The walk itself is the tell: every product in catalogue order, or every page of every
            # category, which no customer's browsing does.
            if by_category:
                resource = catalog.category_path(catalog.CATEGORIES[category], page)
                status = 200
                page += 1
                if page > 40:
                    category, page = (category + 1) % len(catalog.CATEGORIES), 1
            else:
                resource = catalog.product_path(product % catalog.PRODUCTS)
                status = 200
                product += 1
            props = {"method": "GET", "latency_ms": ctx.latency_ms()}
            yield t, make(t, "page_view", uid, session, ip, agent, resource, status, props), label
            emitted += 1
        t += _seconds(rng, 60, 900)


def _proxy_exit(ctx: Context, episode: Episode, other_kind: str, desktop_share: float) -> tuple[str, str]:
    """An address of a proxy pool, in any country (a home connection seven times in ten, else one of
    ``other_kind``), recorded as the episode's, and a browser's agent for it."""
    rng = ctx.rng
    country = geo.COUNTRY_CODES[rng.randrange(len(geo.COUNTRY_CODES))]
    ip = geo.random_ip(rng, country, geo.RESIDENTIAL if rng.random() < 0.7 else other_kind)
    episode.source_ips[ip] = None
    agent = agents.desktop_agent(rng) if rng.random() < desktop_share else agents.mobile_agent(rng)
    return ip, agent


def residential_proxy_stuffing(ctx: Context, episode: Episode, t: int, size: int) -> Iterator[Emission]:
    rng, make, label = ctx.rng, ctx.factory.make, episode.label
    # A botnet of home and phone connections: each address, in any country, is used for one or two
    # attempts, so no address or per-address rate stands out and blocklists of hosting ranges miss it.
    rate = rng.uniform(0.2, 2.0)  # attempts per second over the whole pool
    emitted = 0
    while emitted < size:
        ip, agent = _proxy_exit(ctx, episode, geo.MOBILE, desktop_share=0.6)
        session = ctx.session_id()  # a browser engine keeps cookies, unlike a script
        for _ in range(1 if rng.random() < 0.7 else 2):
            if emitted >= size:
                break
            t += int(rng.expovariate(rate) * MICROS) + 1
            # Leaked credentials: about half the ids exist; a few passwords were reused.
            real = rng.random() < 0.5
            uid = ctx.random_user().user_id if real else ctx.unknown_user_id()
            episode.user_ids[uid] = None
            if real and rng.random() < 0.04:
                props = {"method": "POST", "latency_ms": ctx.latency_ms()}
                yield t, make(t, "login_succeeded", uid, session, ip, agent, catalog.LOGIN, 200, props), label
            else:
                reason = "bad_password" if real else "unknown_user"
                props = {"method": "POST", "latency_ms": ctx.latency_ms(), "reason": reason}
                yield t, make(t, "login_failed", uid, session, ip, agent, catalog.LOGIN, 401, props), label
            emitted += 1


def human_like_bot(ctx: Context, episode: Episode, t: int, size: int) -> Iterator[Emission]:
    rng, make, label = ctx.rng, ctx.factory.make, episode.label
    # One account, one browser, one home-like address: the identity looks like a customer's, and
    # the pauses are drawn from the customers' own think times.
    uid = ctx.fresh_account_id()
    episode.user_ids[uid] = None
    ip = geo.random_ip(rng, geo.COUNTRY_CODES[rng.randrange(len(geo.COUNTRY_CODES))], geo.RESIDENTIAL)
    episode.source_ips[ip] = None
    agent = agents.desktop_agent(rng)
    currency = rng.choice(("USD", "EUR", "GBP"))
    card = f"{rng.randrange(10_000):04d}"
    # The task is what gives it away: the same few pages over and over, and no static files
    # (the bot's client does not render pages).
    buying = rng.random() < 0.5
    targets = [rng.randrange(catalog.PRODUCTS) for _ in range(rng.randint(1, 3))]
    terms = [catalog.SEARCH_TERMS[rng.randrange(len(catalog.SEARCH_TERMS))] for _ in range(rng.randint(1, 2))]
    session = ""
    tasks_left = 0
    emitted = 0
    while emitted < size:
        if tasks_left == 0:  # log in again now and then, as a session expires
            session, tasks_left = ctx.session_id(), rng.randint(5, 30)
            props = {"method": "POST", "latency_ms": ctx.latency_ms()}
            yield t, make(t, "login_succeeded", uid, session, ip, agent, catalog.LOGIN, 200, props), label
            emitted += 1
            t += ctx.think_micros()
        tasks_left -= 1
        item = rng.choice(targets)
        if buying:  # a scalper: the product page, add it to the cart, buy
            price = catalog.price_of(item)
            steps: list[tuple[str, str, dict[str, Any]]] = [
                ("page_view", catalog.product_path(item), {"method": "GET"}),
                (
                    "add_to_cart",
                    catalog.cart_add_path(catalog.sku(item), 1),
                    {"method": "POST", "sku": catalog.sku(item), "price": price},
                ),
                (
                    "purchase",
                    catalog.CHECKOUT,
                    {
                        "method": "POST",
                        "amount": price,
                        "currency": currency,
                        "items": 1,
                        "payment": "approved",
                        "card_last4": card,
                    },
                ),
            ]
        else:  # a price or stock watcher: the same searches, then the same product
            term = rng.choice(terms)
            steps = [
                ("search", catalog.search_path(term), {"method": "GET", "results": 24}),
                ("click", catalog.product_path(item) + "?ref=search", {"method": "GET"}),
            ]
        for event_type, resource, props in steps:
            if emitted >= size:
                break
            props["latency_ms"] = ctx.latency_ms()
            yield t, make(t, event_type, uid, session, ip, agent, resource, 200, props), label
            emitted += 1
            t += ctx.think_micros()


def account_farming(ctx: Context, episode: Episode, t: int, size: int) -> Iterator[Emission]:
    rng, make, label = ctx.rng, ctx.factory.make, episode.label
    # Accounts registered by the dozen (for sign-up bonuses, referral credit, spam later), each from
    # a proxy address of its own with a browser's agent, each a new customer's first visit in
    # miniature: sign up, logged in by the site, a page or two, gone. No account, address or session
    # stands out; the service's share of sign-ups among its account traffic does (model.waves.SIGNUPS).
    rate = 1 / rng.uniform(10.0, 60.0)  # accounts per second over the whole pool
    emitted = 0
    while emitted < size:
        ip, agent = _proxy_exit(ctx, episode, geo.HOSTING, desktop_share=0.7)
        uid, session = ctx.fresh_account_id(), ctx.session_id()
        episode.user_ids[uid] = None
        t += int(rng.expovariate(rate) * MICROS) + 1
        steps = [("signup", catalog.SIGNUP, 201), ("login_succeeded", catalog.LOGIN, 200)]
        steps += [("page_view", rng.choice((catalog.HOME, catalog.ACCOUNT)), 200)] * rng.randint(0, 2)
        for event_type, resource, status in steps[: size - emitted]:
            props = {"method": "GET" if event_type == "page_view" else "POST", "latency_ms": ctx.latency_ms()}
            yield t, make(t, event_type, uid, session, ip, agent, resource, status, props), label
            emitted += 1
            t += int(rng.uniform(0.5, 4.0) * MICROS)


# A replay skips what a recording cannot reuse: a password, a payment.
NOT_REPLAYED = frozenset({"login_succeeded", "login_failed", "password_reset", "purchase", "logout", "signup"})


def session_replay_bot(ctx: Context, episode: Episode, t: int, size: int) -> Iterator[Emission]:
    rng, make, label = ctx.rng, ctx.factory.make, episode.label
    # The recording: a customer's real session, emitted unlabeled (it is them), long enough to be
    # worth replaying.
    while True:
        recorded = list(normal_session(ctx, ctx.random_user(), t))
        steps = [
            (event["event_type"], event["resource"], event["status"], event["properties"]) for _, event, _ in recorded
        ]
        steps = [step for step in steps if step[0] not in NOT_REPLAYED]
        if len(steps) >= 4:
            break
    yield from recorded
    agent = recorded[0][1]["user_agent"]
    t = recorded[-1][0] + _seconds(rng, 600, 7200)
    # The replays: the same requests with the recorded user agent, from a few data-centre addresses,
    # at one fixed pace (a replay tool compresses human pauses to a constant), again and again.
    country = rng.choice(geo.countries_with(geo.HOSTING))
    ips = [geo.random_ip(rng, country, geo.HOSTING) for _ in range(rng.randint(1, 4))]
    period = rng.uniform(0.5, 5.0)
    emitted = 0
    while emitted < size:
        uid, session, ip = ctx.fresh_account_id(), ctx.session_id(), rng.choice(ips)
        episode.user_ids[uid] = None
        episode.source_ips[ip] = None
        for event_type, resource, status, properties in steps[: size - emitted]:
            props = {**properties, "latency_ms": ctx.latency_ms()}
            yield t, make(t, event_type, uid, session, ip, agent, resource, status, props), label
            emitted += 1
            t += int(period * rng.uniform(0.98, 1.02) * MICROS)
        t += int(period * 10 * rng.uniform(0.98, 1.02) * MICROS)


@dataclass(frozen=True)
class ScenarioSpec:
    """A scenario and the size of its episodes in labeled events: the natural range, and the least
    an episode keeps when a short run's attack budget scales episodes down (a scraper that reads a
    dozen pages is not a scraper)."""

    run: Scenario
    min_events: int
    max_events: int
    least_events: int


SCENARIOS: dict[str, ScenarioSpec] = {
    "credential_stuffing": ScenarioSpec(credential_stuffing, 150, 600, 30),
    "account_takeover": ScenarioSpec(account_takeover, 8, 24, 4),
    "scraping_bot": ScenarioSpec(scraping_bot, 200, 800, 60),
    "card_testing": ScenarioSpec(card_testing, 20, 60, 5),
    "impossible_travel": ScenarioSpec(impossible_travel, 3, 10, 2),
    "low_and_slow_scraping": ScenarioSpec(low_and_slow_scraping, 200, 900, 30),
    "residential_proxy_stuffing": ScenarioSpec(residential_proxy_stuffing, 100, 500, 20),
    "human_like_bot": ScenarioSpec(human_like_bot, 40, 200, 15),
    "session_replay_bot": ScenarioSpec(session_replay_bot, 40, 300, 12),
    "account_farming": ScenarioSpec(account_farming, 60, 300, 45),
}
SCENARIO_NAMES = tuple(SCENARIOS)
# Attacks that announce themselves (script agents, hosting addresses, bursts, far countries): what
# a short demo can promise to catch. The evasive ones copy customers' clients, addresses and pace and
# are there to measure a detector against (``model/evaluate.py`` runs them all).
BLATANT_SCENARIOS = ("credential_stuffing", "account_takeover", "scraping_bot", "card_testing", "impossible_travel")
EVASIVE_SCENARIOS = (
    "low_and_slow_scraping",
    "residential_proxy_stuffing",
    "human_like_bot",
    "session_replay_bot",
    "account_farming",
)
