"""Event factories for the model tests: a small population of regular users and obvious attacks."""

from __future__ import annotations

import random
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
BROWSERS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
)
PAGES = ("/", "/catalog", "/catalog/items/{n}", "/search?q=shoes&page={p}", "/cart", "/account")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def event(moment: datetime, user: str, event_type: str, **fields: Any) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "schema_version": 1,
        "event_id": f"00000000-0000-4000-8000-{zlib.crc32(f'{moment}{user}{event_type}'.encode()):012d}",
        "occurred_at": stamp(moment),
        "event_type": event_type,
        "user_id": user,
        "session_id": None,
        "ip": None,
        "user_agent": None,
        "resource": None,
        "status": None,
        "properties": {},
    }
    wire.update(fields)
    return wire


def normal_traffic(users: int, days: int, seed: int = 7) -> list[dict[str, Any]]:
    """Regular users: one home IP and browser each, daytime sessions of logins and page views."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    for number in range(users):
        user = f"user-{number:04d}"
        ip = f"198.51.100.{number % 250}"
        agent = BROWSERS[number % len(BROWSERS)]
        habit_hour = 8 + number % 10
        for day in range(days):
            if rng.random() < 0.2:
                continue
            moment = START + timedelta(days=day, hours=habit_hour, minutes=rng.randrange(60))
            common = {"ip": ip, "user_agent": agent, "session_id": f"{user}-{day}"}
            events.append(event(moment, user, "login_succeeded", resource="/login", status=200, **common))
            for _ in range(rng.randrange(3, 9)):
                moment += timedelta(seconds=rng.uniform(5, 120))
                page = rng.choice(PAGES).format(n=rng.randrange(500), p=rng.randrange(1, 5))
                events.append(event(moment, user, "page_view", resource=page, status=200, **common))
            if rng.random() < 0.3:
                moment += timedelta(seconds=rng.uniform(5, 60))
                events.append(
                    event(
                        moment,
                        user,
                        "purchase",
                        resource="/checkout",
                        status=200,
                        properties={"method": "POST"},
                        **common,
                    )
                )
    events.sort(key=lambda item: item["occurred_at"])
    return events


def credential_stuffing(moment: datetime, attempts: int, ip: str = "203.0.113.66") -> list[dict[str, Any]]:
    """One IP trying many accounts in quick succession, nearly every attempt failing, at night."""
    events = []
    for number in range(attempts):
        events.append(
            event(
                moment + timedelta(seconds=number * 0.5),
                f"victim-{number:05d}",
                "login_failed",
                ip=ip,
                user_agent="python-requests/2.32",
                resource="/login",
                status=401,
                properties={"method": "POST"},
            )
        )
    return events


def injection_probe(moment: datetime, user: str) -> dict[str, Any]:
    """A request carrying SQL injection in a query parameter."""
    return event(
        moment,
        user,
        "api_call",
        ip="203.0.113.99",
        user_agent="sqlmap/1.8",
        resource="/search?q=shoes' union select password,1,2 from users where '1'='1' --&page=1",
        status=500,
    )


def scraper_session(moment: datetime, requests: int, user: str = "scraper-1") -> list[dict[str, Any]]:
    """A script walking the catalogue: one request every two seconds exactly, no assets, no writes."""
    return [
        event(
            moment + timedelta(seconds=2 * number),
            user,
            "page_view",
            ip="203.0.113.7",
            user_agent="python-requests/2.32",
            resource=f"/catalog/items/{number}?sort=id",
            status=200,
            session_id=f"{user}-session",
        )
        for number in range(requests)
    ]


def shared_address_traffic(
    users: int, minutes: int, address: str = "100.64.0.1", seed: int = 3
) -> list[dict[str, Any]]:
    """Many users behind one address (a carrier-grade NAT), in time order: each sends an event every
    20 s or so, now and then from their own home address instead (so some arrive at the NAT's address
    new), and one in ten of their logins fails."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    for number in range(users):
        user = f"nat-user-{number:05d}"
        home = f"198.18.{number // 250}.{number % 250}"
        moment = START + timedelta(seconds=rng.uniform(0, 20))
        while moment < START + timedelta(minutes=minutes):
            failed = rng.random() < 0.1
            events.append(
                event(
                    moment,
                    user,
                    "login_failed" if failed else "page_view",
                    ip=home if rng.random() < 0.15 else address,
                    resource="/login" if failed else f"/catalog/items/{rng.randrange(100)}",
                    status=401 if failed else 200,
                )
            )
            moment += timedelta(seconds=rng.uniform(5, 35))
    events.sort(key=lambda item: (item["occurred_at"], item["user_id"]))
    return events


def sessions_with_page_calls(visitors: int, start: datetime = START, pages: int = 6) -> list[dict[str, Any]]:
    """Browsing sessions (one per visitor) whose every page fires two calls within half a second, a
    cart count and recommendations, as a shop's pages do; pages 15 to 50 seconds apart."""
    events = []
    for visitor in range(visitors):
        moment = start + timedelta(hours=visitor)
        for page in range(pages):
            for offset, resource in ((0.0, f"/product/{100 + page}"), (0.3, "/api/cart/count"), (0.5, "/api/recs?p=1")):
                events.append(
                    event(moment + timedelta(seconds=offset), f"u{visitor}", "page_view", resource=resource)
                    | {"session_id": f"s{visitor}"}
                )
            moment += timedelta(seconds=15 + 7 * page)
    return events


def catalogue_walk(moment: datetime, user: str, session: str, agent: str, ip: str) -> list[dict[str, Any]]:
    """A client reading 60 catalogue items through the API, half a second apart, in one session."""
    return [
        event(
            moment + timedelta(seconds=0.5 * item),
            user,
            "api_call",
            resource=f"/catalog/items/{item + 1}",
            status=200,
            user_agent=agent,
            ip=ip,
            session_id=session,
        )
        for item in range(60)
    ]


def nightly_syncs(
    nights: int, start: datetime, prefix: str, hours: tuple[int, ...] = (1, 2, 3)
) -> list[dict[str, Any]]:
    """Customers' integrations (python-requests, each from its own address) reading the catalogue
    every night, one at each of ``hours`` (a.m.)."""
    return [
        item
        for night in range(nights)
        for hour in hours
        for item in catalogue_walk(
            start + timedelta(days=night, hours=hour),
            f"integration-{hour}",
            f"{prefix}-{hour}-{night}",
            "python-requests/2.32.3",
            f"203.0.113.{40 + hour}",
        )
    ]


def version_3_record(evidence: Any) -> bytes:
    """``evidence`` (a ``model.entities.Evidence`` that has not switched to an unfamiliar client)
    stored as the release before the unfamiliar client stored it: entity features version 3, one
    client mean fewer."""
    from model.entities import CLIENT_MEANS, PAGE_MEANS, Evidence

    fields = list(Evidence._LAYOUT.unpack(evidence.to_bytes()))
    unfamiliar = 13 + len(PAGE_MEANS) + CLIENT_MEANS.index("unfamiliar")
    assert fields[unfamiliar] == 0.0, "a record of version 3 has no unfamiliar client"
    del fields[unfamiliar]
    fields[0], fields[2] = 3, len(CLIENT_MEANS) - 1
    return Evidence._BEFORE_UNFAMILIAR_LAYOUT.pack(*fields)


def readers(start: datetime, minutes: int, per_minute: int = 6, seed: int = 5) -> list[dict[str, Any]]:
    """Readers: each opens an article and its assets, and reads another a minute later; one in ten
    comes back with the assets cached (no asset at all)."""
    rng = random.Random(seed)
    events = []
    for minute in range(minutes):
        for number in range(per_minute):
            moment = start + timedelta(minutes=minute, seconds=rng.uniform(0, 59))
            person = f"session:{seed}-{minute}-{number}"
            fields = {
                "ip": f"198.51.{rng.randrange(100)}.{rng.randrange(250)}",
                "user_agent": BROWSERS[0],
                "status": 200,
            }
            events.append(event(moment, person, "page_view", resource=f"/news/{rng.randrange(5000)}", **fields))
            if rng.random() >= 0.1:
                for offset, asset in enumerate(("/static/site.css", "/static/app.js", "/img/lead.jpg")):
                    events.append(
                        event(moment + timedelta(seconds=1 + offset), person, "page_view", resource=asset, **fields)
                    )
            later = moment + timedelta(seconds=rng.uniform(40, 90))
            events.append(event(later, person, "page_view", resource=f"/news/{rng.randrange(5000)}", **fields))
    return sorted(events, key=lambda item: item["occurred_at"])


def proxy_crawl(start: datetime, visits: int, every_seconds: float) -> list[dict[str, Any]]:
    """Residential proxies, one address and cookie each, reading an article or two without assets."""
    events = []
    for number in range(visits):
        moment = start + timedelta(seconds=number * every_seconds)
        fields = {"ip": f"100.64.{number // 250}.{number % 250}", "user_agent": BROWSERS[0], "status": 200}
        visitor = f"session:proxy-{number}"
        events.append(event(moment, visitor, "page_view", resource=f"/news/{number}", **fields))
        if number % 2:
            events.append(
                event(moment + timedelta(seconds=3), visitor, "page_view", resource=f"/news/{number + 1}", **fields)
            )
    return sorted(events, key=lambda item: item["occurred_at"])
