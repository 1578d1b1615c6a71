"""A small synthetic IP geography inside the documentation and benchmarking ranges.

Every simulated address comes from ``198.18.0.0/15`` (IPv4 reserved for benchmarking, RFC 2544)
or ``2001:db8::/32`` (IPv6 documentation, RFC 3849), so simulated traffic can never be mistaken
for real people. The ranges are cut into blocks, each owned by one country and of one kind
(residential, mobile or hosting): ``country_of(ip)`` answers for any address in them with no
external database, which is what the model's "new country" features need. Addresses outside
these ranges (real logs) get ``None``. ``network_of`` answers the same addresses as the model's
network lookups do (``model.network``), with one private-use ASN per country and kind, so that the
hosting and network-novelty features see simulated traffic as they would see real traffic.

Layout: IPv4 block ``i`` is ``198.18.0.0 + i * 256`` (a /24); IPv6 block ``i`` is
``2001:db8:<i in hex>::/48``. Blocks are allocated in ``COUNTRIES`` order.
"""

from __future__ import annotations

import ipaddress
import math
import random
from dataclasses import dataclass
from functools import lru_cache

from model.enrichment import NetworkInfo

IPV4_RANGE = ipaddress.IPv4Network("198.18.0.0/15")
IPV6_RANGE = ipaddress.IPv6Network("2001:db8::/32")
_IPV4_BASE = int(IPV4_RANGE.network_address)
_IPV4_BLOCKS = IPV4_RANGE.num_addresses // 256
_IPV6_BASE = int(IPV6_RANGE.network_address)

RESIDENTIAL = "residential"
MOBILE = "mobile"
HOSTING = "hosting"
KINDS = (RESIDENTIAL, MOBILE, HOSTING)


@dataclass(frozen=True, slots=True)
class Country:
    """A country of the synthetic table: where it is, its UTC offset, and its share of users."""

    code: str
    latitude: float
    longitude: float
    utc_offset_hours: float
    user_weight: float
    residential_blocks: int
    mobile_blocks: int
    hosting_blocks: int


# Capital coordinates and standard-time offsets (no daylight saving: a simplification).
COUNTRIES: tuple[Country, ...] = (
    Country("US", 38.9, -77.0, -5, 30, 48, 16, 24),
    Country("CA", 45.4, -75.7, -5, 4, 10, 4, 3),
    Country("MX", 19.4, -99.1, -6, 3, 8, 4, 0),
    Country("BR", -15.8, -47.9, -3, 6, 14, 8, 2),
    Country("AR", -34.6, -58.4, -3, 2, 6, 2, 0),
    Country("GB", 51.5, -0.1, 0, 7, 16, 8, 6),
    Country("IE", 53.3, -6.3, 0, 1, 3, 1, 8),
    Country("FR", 48.9, 2.4, 1, 6, 18, 7, 4),
    Country("DE", 52.5, 13.4, 1, 7, 16, 8, 12),
    Country("NL", 52.4, 4.9, 1, 2, 6, 2, 12),
    Country("ES", 40.4, -3.7, 1, 4, 12, 5, 0),
    Country("IT", 41.9, 12.5, 1, 4, 12, 5, 0),
    Country("PL", 52.2, 21.0, 1, 3, 8, 3, 0),
    Country("SE", 59.3, 18.1, 1, 1, 4, 2, 0),
    Country("RU", 55.8, 37.6, 3, 1, 10, 4, 6),
    Country("UA", 50.5, 30.5, 2, 1, 4, 2, 2),
    Country("NG", 9.1, 7.4, 1, 1, 6, 4, 0),
    Country("ZA", -25.7, 28.2, 2, 1, 5, 2, 0),
    Country("IN", 28.6, 77.2, 5.5, 6, 18, 10, 4),
    Country("SG", 1.35, 103.8, 8, 1, 3, 1, 10),
    Country("CN", 39.9, 116.4, 8, 1, 10, 4, 6),
    Country("JP", 35.7, 139.7, 9, 4, 14, 6, 4),
    Country("KR", 37.6, 127.0, 9, 2, 8, 3, 0),
    Country("VN", 21.0, 105.8, 7, 1, 6, 3, 2),
    Country("ID", -6.2, 106.8, 7, 2, 8, 4, 0),
    Country("AU", -35.3, 149.1, 10, 3, 8, 3, 4),
)
COUNTRY_BY_CODE = {country.code: country for country in COUNTRIES}
COUNTRY_CODES = tuple(country.code for country in COUNTRIES)


@dataclass(frozen=True, slots=True)
class GeoRecord:
    """What the table knows about an address."""

    country: str
    kind: str


def _allocate() -> tuple[list[GeoRecord], dict[tuple[str, str], list[int]]]:
    owners: list[GeoRecord] = []
    blocks: dict[tuple[str, str], list[int]] = {}
    for country in COUNTRIES:
        for kind, count in (
            (RESIDENTIAL, country.residential_blocks),
            (MOBILE, country.mobile_blocks),
            (HOSTING, country.hosting_blocks),
        ):
            for _ in range(count):
                blocks.setdefault((country.code, kind), []).append(len(owners))
                owners.append(GeoRecord(country.code, kind))
    if len(owners) > _IPV4_BLOCKS:
        raise RuntimeError(f"geo table needs {len(owners)} /24 blocks; 198.18.0.0/15 has {_IPV4_BLOCKS}")
    return owners, blocks


_OWNERS, _BLOCKS = _allocate()


@lru_cache(maxsize=65_536)
def lookup(ip: str) -> GeoRecord | None:
    """The country and kind of a simulated address; None for anything outside the table."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    value = int(address)
    if address.version == 4:
        index = (value - _IPV4_BASE) >> 8
        if not 0 <= index < _IPV4_BLOCKS:
            return None
    else:
        if value >> 96 != _IPV6_BASE >> 96:
            return None
        index = (value >> 80) & 0xFFFF
    return _OWNERS[index] if index < len(_OWNERS) else None


def country_of(ip: str) -> str | None:
    """The ISO 3166 alpha-2 code of a simulated address's country, or None if unknown."""
    record = lookup(ip)
    return None if record is None else record.country


# Private-use 32-bit ASNs (RFC 6996) for the synthetic networks: one per (country, kind).
SYNTHETIC_ASN_BASE = 4_200_000_000
_SYNTHETIC_NETWORKS = {key: position for position, key in enumerate(_BLOCKS)}


@lru_cache(maxsize=65_536)
def network_of(ip: str) -> NetworkInfo | None:
    """Country, synthetic ASN and hosting flag of a simulated address; None outside the table."""
    record = lookup(ip)
    if record is None:
        return None
    asn = SYNTHETIC_ASN_BASE + _SYNTHETIC_NETWORKS[(record.country, record.kind)]
    return NetworkInfo(record.country, asn, f"SYNTHETIC-{record.country}-{record.kind}", record.kind == HOSTING)


def random_ip(rng: random.Random, country: str, kind: str = RESIDENTIAL, *, ipv6: bool = False) -> str:
    """A random address of ``kind`` in ``country`` (falls back to residential if it has no such block)."""
    candidates = _BLOCKS.get((country, kind)) or _BLOCKS[(country, RESIDENTIAL)]
    index = candidates[rng.randrange(len(candidates))]
    if ipv6:
        value = _IPV6_BASE | (index << 80) | rng.getrandbits(64)
        return str(ipaddress.IPv6Address(value))
    value = _IPV4_BASE + (index << 8) + rng.randrange(1, 255)
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def countries_with(kind: str) -> tuple[str, ...]:
    """The countries that own at least one block of ``kind``."""
    return tuple(code for code in COUNTRY_CODES if _BLOCKS.get((code, kind)))


def distance_km(country_a: str, country_b: str) -> float:
    """Great-circle distance between two countries' capitals (haversine, Earth radius 6,371 km)."""
    a, b = COUNTRY_BY_CODE[country_a], COUNTRY_BY_CODE[country_b]
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))
