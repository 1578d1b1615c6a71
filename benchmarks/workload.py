"""Realistic interaction events for the producer benchmarks.

Sizes and variety follow what services emit: real browser user agents, paths with query
strings, a few properties, ids and timestamps already set (as the simulator and importers set
them). Deterministic for a seed.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "okhttp/4.12.0",
    "python-requests/2.32.3",
]
EVENT_TYPES = [
    ("page_view", 55),
    ("click", 15),
    ("search", 10),
    ("api_call", 8),
    ("add_to_cart", 5),
    ("login_succeeded", 3),
    ("purchase", 1.5),
    ("login_failed", 1),
    ("logout", 1),
    ("password_reset", 0.5),
]
COUNTRIES = ["US", "DE", "FR", "GB", "BR", "IN", "JP", "ES"]


def realistic_events(count: int, seed: int = 42, users: int = 20_000) -> list[dict[str, Any]]:
    """``count`` events from ``users`` users with skewed activity, in time order."""
    rng = random.Random(seed)
    types, weights = zip(*EVENT_TYPES, strict=True)
    start = datetime(2026, 11, 2, 8, tzinfo=UTC)
    events = []
    for number in range(count):
        user = int(users * rng.random() ** 2.5)  # a few very active users, a long tail
        event_type = rng.choices(types, weights)[0]
        resource = {
            "search": f"/search?q=item+{rng.randrange(5000)}&page={rng.randrange(1, 6)}&sort=relevance",
            "api_call": f"/api/v2/orders/{rng.randrange(10**7)}/status",
            "purchase": "/checkout/confirm",
            "add_to_cart": f"/cart/add?sku=SKU-{rng.randrange(10**5):05d}&qty={rng.randrange(1, 4)}",
        }.get(event_type, f"/catalog/{rng.choice(['shoes', 'books', 'garden', 'toys'])}/{rng.randrange(10**5)}")
        events.append(
            {
                "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "occurred_at": (start + timedelta(milliseconds=number * 7)).isoformat(timespec="microseconds")[:-6]
                + "Z",
                "event_type": event_type,
                "user_id": f"u-{user:08d}",
                "session_id": f"s-{user:08d}-{number // 5000}",
                "ip": f"{rng.choice([81, 92, 176, 203])}.{user % 251}.{(user // 251) % 251}.{user % 199 + 1}",
                "user_agent": USER_AGENTS[user % len(USER_AGENTS)],
                "resource": resource,
                "status": 200 if rng.random() > 0.03 else rng.choice([401, 403, 404, 500]),
                "properties": {
                    "method": "POST" if event_type in {"purchase", "add_to_cart", "login_failed"} else "GET",
                    "latency_ms": rng.randrange(5, 900),
                    "country": COUNTRIES[user % len(COUNTRIES)],
                },
            }
        )
    return events
