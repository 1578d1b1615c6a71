"""How fast a user would have had to travel to send this event: the ``travel_beyond_flight`` column.

A country is placed where the tz database puts the principal cities of its time zones (``zone.tab``,
read from the ``tzdata`` package, which the Python core developers publish from IANA's releases): a
country with several zones has several places, and two countries are as far apart as their nearest
places. The speed from a country the user was seen in lately to this event's country is that
distance over the longest time there can be between this event and the minute the user was last
seen there (before it, or after it for an event that arrives late). Both are rounded toward the
traveller, so the speed is a lower bound: an address that geolocation puts in
the wrong one of two neighbours, or a trip across the border, reads slow; a login in Tokyo a
quarter of an hour after a page view in Paris reads faster than any airliner.

Only what the user state already holds is read: its recent countries are kept as CRC32 hashes of
their ISO codes with the minute last seen, and the codes of the tz database hash to distinct
values (checked when the table is built), so the hash names the country.
"""

from __future__ import annotations

import math
import re
from functools import cache
from importlib import resources

from model.features.events import stable_hash

EARTH_RADIUS_KM = 6371.0
# Faster than any airliner (they cruise at 850 to 950 km/h): travel below this is possible, so it is
# no evidence at all, however far.
FLIGHT_KMH = 1000.0
# Speeds are measured over a minute at least: the state keeps the minute a country was last seen.
MIN_TRAVEL_SECONDS = 60.0
_COORDINATE = re.compile(r"^([+-])(\d{2})(\d{2})(\d{2})?([+-])(\d{3})(\d{2})(\d{2})?$")

# (latitude, longitude) in radians of a country's places.
Places = tuple[tuple[float, float], ...]


def _degrees(sign: str, degrees: str, minutes: str, seconds: str | None) -> float:
    value = int(degrees) + int(minutes) / 60 + (int(seconds) / 3600 if seconds else 0.0)
    return math.radians(-value if sign == "-" else value)


def parse_zone_table(text: str) -> dict[str, Places]:
    """Each country code's places from the text of a tz database ``zone.tab``
    (``code<TAB>±DDMM[SS]±DDDMM[SS]<TAB>zone...`` lines, ``#`` comments)."""
    places: dict[str, list[tuple[float, float]]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        code, coordinates = line.split("\t")[:2]
        match = _COORDINATE.match(coordinates)
        if match is None:
            raise ValueError(f"zone.tab: cannot read the coordinates {coordinates!r} of {code}")
        lat_sign, lat_degrees, lat_minutes, lat_seconds, lon_sign, lon_degrees, lon_minutes, lon_seconds = (
            match.groups()
        )
        places.setdefault(code, []).append(
            (
                _degrees(lat_sign, lat_degrees, lat_minutes, lat_seconds),
                _degrees(lon_sign, lon_degrees, lon_minutes, lon_seconds),
            )
        )
    return {code: tuple(points) for code, points in places.items()}


@cache
def places_by_hash() -> dict[int, Places]:
    """Every country's places, keyed by ``stable_hash`` of its ISO code as the user state keeps it."""
    table = parse_zone_table(resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8"))
    by_hash = {stable_hash(code): points for code, points in table.items()}
    if len(by_hash) != len(table):
        raise RuntimeError("two country codes of zone.tab share a hash: the travel column cannot name them")
    return by_hash


def _haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = a, b
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@cache
def country_distance_km(country_hash: int, other_hash: int) -> float | None:
    """The distance between the nearest places of two countries (by hash); None if either is not in
    the tz database (a code such as ``EU`` or an anonymous-proxy marker)."""
    table = places_by_hash()
    here, there = table.get(country_hash), table.get(other_hash)
    if here is None or there is None:
        return None
    return min(_haversine_km(a, b) for a in here for b in there)


def travel_speed_kmh(recent_countries: list[tuple[int, int]], country_hash: int, now: float) -> float:
    """The fastest a user must have moved to reach ``country_hash`` at ``now`` from any country of
    ``recent_countries`` ((hash, minute last seen) pairs, read before this event updates them)."""
    fastest = 0.0
    for other, minute in recent_countries:
        if other == country_hash:
            continue
        distance = country_distance_km(country_hash, other)
        if distance is None:
            continue
        # The sighting was within that minute: the longest it can be from ``now``, either way (a
        # late event is judged against where the user was after it, as much as before).
        start = minute * 60.0
        elapsed = max(now - start, start + 60.0 - now, MIN_TRAVEL_SECONDS)
        fastest = max(fastest, distance / (elapsed / 3600.0))
    return fastest


def beyond_flight(speed_kmh: float) -> float:
    """The travel column: 0 for any speed a flight allows, then log1p of the excess in flights' speeds
    (a login in Tokyo 15 minutes after Paris, at 39,000 km/h, gives 3.6)."""
    return math.log1p(max(0.0, speed_kmh / FLIGHT_KMH - 1.0))
