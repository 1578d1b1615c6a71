"""The synthetic geography: every simulated address maps back to its country."""

from __future__ import annotations

import random

import pytest

from traffic import geo


@pytest.mark.parametrize("ipv6", [False, True])
def test_random_addresses_map_back_to_their_country_and_kind(ipv6: bool) -> None:
    rng = random.Random(1)
    for country in geo.COUNTRY_CODES:
        for kind in geo.KINDS:
            if country not in geo.countries_with(kind):
                continue
            for _ in range(5):
                ip = geo.random_ip(rng, country, kind, ipv6=ipv6)
                assert geo.lookup(ip) == geo.GeoRecord(country, kind), ip
                assert geo.country_of(ip) == country


def test_addresses_outside_the_synthetic_ranges_are_unknown() -> None:
    for ip in ("8.8.8.8", "198.17.255.1", "198.19.255.7", "2001:db9::1", "hmac:" + "0" * 32, "not an ip", ""):
        assert geo.country_of(ip) is None


def test_distances_are_great_circle_between_capitals() -> None:
    assert geo.distance_km("FR", "FR") == 0
    assert 870 < geo.distance_km("FR", "DE") < 900  # Paris-Berlin is about 880 km
    assert geo.distance_km("US", "JP") == pytest.approx(geo.distance_km("JP", "US"))
