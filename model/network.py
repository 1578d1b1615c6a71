"""Where an IP address is and whose network it belongs to: country, ASN, and whether it is hosting.

Three sources, all answering ``NetworkInfo`` (or None: private and reserved addresses, unknown ones):

- ``MaxMindNetworks``: MaxMind-format databases read with ``geoip2`` (GeoLite2 / GeoIP2 Country or
  City plus ASN, or DB-IP's free Lite databases), from a path or an ``s3://`` URL.
- ``embedded_network_of``: the data that ships inside the ``geoip2fast`` package from PyPI (GeoLite2
  country and ASN names, no licence key, nothing downloaded), the default so that training, tests and
  the demo work offline. No PyPI package ships a maintained country + ASN ``.mmdb``; geoip2fast's own
  format carries the ASN's name but not its number (``NetworkInfo.asn`` is None from it).
- ``traffic.geo.network_of``: the simulator's synthetic table, which owns only the reserved
  benchmarking and documentation ranges; ``resolve_network_lookup("synthetic")`` puts it before a
  database (``chain``).

Lookups run once per event in training and in the scorer, so each source caches its answers per IP.
The lookup a model was trained with is recorded in its metadata (``describe``) and rebuilt by the
scorer from that record at cold start, which refuses other data (``NetworkLookupError``).

``python -m model.network ADDRESS...`` prints what the features see of each address (``main``).
"""

from __future__ import annotations

import ipaddress
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from model.enrichment import NetworkInfo, NetworkLookup
from model.exceptions import NetworkLookupError

# Distinct IPs kept per cache: a busy scorer sees tens of thousands per batch window; each entry is a
# few hundred bytes.
LOOKUP_CACHE_SIZE = 65_536
# geoip2fast's country + ASN data for IPv4 and IPv6 (the package also ships country-only files).
EMBEDDED_DATA_FILE = "geoip2fast-asn-ipv6.dat.gz"

# Networks of cloud, hosting and data-centre operators, where people do not browse from but
# scripts run: well-known ASNs (used when the source gives numbers: MaxMind, DB-IP), and words of
# their organisation names (for the embedded data, which gives names only). Maintained here: no
# maintained list on PyPI maps ASNs to hosting.
#
# Rules 2 (``HOSTING_RULES``) leave out the content-delivery networks that relay people: iCloud
# Private Relay's egress runs on Akamai's, Cloudflare's and Fastly's networks (Apple publishes its
# ranges so that sites do not treat them as proxies), Cloudflare's WARP on Cloudflare's; a person
# behind them browses as anyone does. Akamai's cloud (Linode) stays hosting ("Akamai Connected
# Cloud"). Nor are residential and office networks of operators that also run clouds: Google
# Fiber's homes, Microsoft's corporate offices (AS3598, not Azure's AS8075). A model trained with
# rules 1 (recorded before rules had a number) is served with them, as its features were computed.
HOSTING_RULES = "2"
_RULES_KEY = "hosting_rules"
HOSTING_ASNS = frozenset(
    {
        16509,  # Amazon (AWS)
        14618,  # Amazon (AWS)
        15169,  # Google
        396982,  # Google Cloud
        8075,  # Microsoft (Azure)
        14061,  # DigitalOcean
        63949,  # Akamai Connected Cloud (Linode)
        16276,  # OVH
        24940,  # Hetzner
        20473,  # The Constant Company (Vultr)
        31898,  # Oracle Cloud
        45102,  # Alibaba Cloud
        132203,  # Tencent Cloud
        51167,  # Contabo
        60781,  # Leaseweb
        12876,  # Scaleway
        9009,  # M247
    }
)
_HOSTING_NAME_RE = re.compile(
    r"\b(?:amazon|aws|google|microsoft|azure|digitalocean|linode|ovh|hetzner|vultr|choopa|"
    r"constant company|oracle|alibaba|aliyun|tencent|contabo|leaseweb|scaleway|online s\.a\.s|m247|"
    r"hosting|hostinger|host europe|datacamp|data ?cent(?:er|re)|colocation|servers?|vps|cloud(?!flare))",
    re.IGNORECASE,
)
# Networks of people whose names hold a hosting word.
_PEOPLE_NAME_RE = re.compile(r"google[- ]?fiber|^microsoft-corp-as$", re.IGNORECASE)
# Rules 1: the content-delivery networks were hosting, and the names above too.
_RULES_1_ASNS = HOSTING_ASNS | {13335, 54113}  # Cloudflare, Fastly
_RULES_1_NAME_RE = re.compile(rf"{_HOSTING_NAME_RE.pattern}|\b(?:akamai|cloudflare|fastly)", re.IGNORECASE)


def is_hosting(asn: int | None, as_org: str | None, rules: str = HOSTING_RULES) -> bool:
    """Whether the network is a cloud, hosting or data-centre operator's (``HOSTING_ASNS``, or a
    hosting word in the organisation's name), by ``rules`` (``HOSTING_RULES``, or "1")."""
    if rules == "1":
        if asn is not None and asn in _RULES_1_ASNS:
            return True
        return bool(as_org) and _RULES_1_NAME_RE.search(as_org or "") is not None
    if asn is not None and asn in HOSTING_ASNS:
        return True
    if not as_org or _PEOPLE_NAME_RE.search(as_org) is not None:
        return False
    return _HOSTING_NAME_RE.search(as_org) is not None


def public_address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address if it is globally routable; None for private, reserved and malformed ones."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return address if address.is_global else None


def _country(code: Any) -> str | None:
    return code if isinstance(code, str) and len(code) == 2 and code.isalpha() and code.isupper() else None


# --- MaxMind-format databases (geoip2) -------------------------------------------------------------


def fetch_database(location: str, cache_dir: str | Path | None = None) -> Path:
    """A local path for ``location``: the path itself, or an ``s3://`` object downloaded once into
    ``cache_dir`` (a Lambda's /tmp by default). Raises ``NetworkLookupError`` when it is missing."""
    if not location.startswith("s3://"):
        path = Path(location)
        if not path.is_file():
            raise NetworkLookupError(location, "no such database file")
        return path
    bucket, _, key = location.removeprefix("s3://").partition("/")
    if not bucket or not key:
        raise NetworkLookupError(location, "an s3:// URL needs a bucket and a key")
    target = Path(cache_dir or tempfile.gettempdir()) / "vedette-geo" / bucket / key
    if not target.is_file():
        import boto3  # only for s3:// databases: the scorer's runtime provides it

        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        boto3.client("s3").download_file(bucket, key, str(partial))
        partial.replace(target)
    return target


class MaxMindNetworks:
    """Country and ASN from MaxMind-format databases: one Country (or City) database and one ASN
    database, in any order (GeoLite2 and DB-IP publish them as separate files)."""

    def __init__(
        self, locations: Sequence[str], cache_dir: str | Path | None = None, hosting_rules: str = HOSTING_RULES
    ) -> None:
        import geoip2.database

        self.locations = tuple(locations)
        self.hosting_rules = hosting_rules
        self._country_reader: Any = None
        self._asn_reader: Any = None
        self._sources: list[dict[str, Any]] = []
        for location in self.locations:
            reader = geoip2.database.Reader(str(fetch_database(location, cache_dir)))
            database_type = reader.metadata().database_type
            if "ASN" in database_type:
                self._asn_reader = reader
            elif "Country" in database_type or "City" in database_type:
                self._country_reader = reader
            else:
                reader.close()
                raise NetworkLookupError(location, f"database type {database_type!r} is neither country nor ASN")
            self._sources.append(
                {"location": location, "database_type": database_type, "build_epoch": reader.metadata().build_epoch}
            )
        if self._country_reader is None and self._asn_reader is None:
            raise NetworkLookupError(",".join(self.locations) or "(none)", "no MaxMind-format database given")
        self._cached = lru_cache(maxsize=LOOKUP_CACHE_SIZE)(self._lookup)

    def __call__(self, ip: str) -> NetworkInfo | None:
        return self._cached(ip)

    def _lookup(self, ip: str) -> NetworkInfo | None:
        import geoip2.errors

        address = public_address(ip)
        if address is None:
            return None
        country = asn = as_org = None
        if self._country_reader is not None:
            try:
                answer = self._country_reader.country(address)
            except geoip2.errors.AddressNotFoundError:
                answer = None
            if answer is not None:
                # Where the address is used, else where its block is registered (anycast ranges).
                country = _country(answer.country.iso_code or answer.registered_country.iso_code)
        if self._asn_reader is not None:
            try:
                network = self._asn_reader.asn(address)
            except geoip2.errors.AddressNotFoundError:
                network = None
            if network is not None:
                asn, as_org = network.autonomous_system_number, network.autonomous_system_organization
        if country is None and asn is None and as_org is None:
            return None
        return NetworkInfo(country, asn, as_org, is_hosting(asn, as_org, self.hosting_rules))

    def describe(self) -> dict[str, Any]:
        """What the metadata records: each database's location, type and build time."""
        return {"source": "maxmind", "databases": list(self._sources)}

    def close(self) -> None:
        """Close the database files."""
        for reader in (self._country_reader, self._asn_reader):
            if reader is not None:
                reader.close()


# --- The embedded default (geoip2fast's data from PyPI) ---------------------------------------------


@lru_cache(maxsize=1)
def _embedded_reader() -> Any:
    # Loaded on first use, not at import: about 0.5 s and 110 MB for IPv4 and IPv6 with ASN names.
    from geoip2fast import GeoIP2Fast

    return GeoIP2Fast(geoip2fast_data_file=EMBEDDED_DATA_FILE, verbose=False)


@lru_cache(maxsize=LOOKUP_CACHE_SIZE)
def embedded_network_of(ip: str) -> NetworkInfo | None:
    """Country and ASN name of a public address from the data shipped in the geoip2fast package."""
    place = _embedded_place(ip)
    return None if place is None else NetworkInfo(*place, is_hosting(None, place[2]))


@lru_cache(maxsize=LOOKUP_CACHE_SIZE)
def embedded_network_of_hosting_rules_1(ip: str) -> NetworkInfo | None:
    """``embedded_network_of`` by the hosting rules 1, for models trained with them."""
    place = _embedded_place(ip)
    return None if place is None else NetworkInfo(*place, is_hosting(None, place[2], "1"))


def _embedded_place(ip: str) -> tuple[str | None, None, str | None] | None:
    address = public_address(ip)
    if address is None:
        return None
    result = _embedded_reader().lookup(str(address))
    country = _country(result.country_code)
    as_org = result.asn_name or None
    # For an address in no block of its ASN data, geoip2fast answers the block before it (seen:
    # 91.198.174.192 answered with 91.198.173.0/24's owner; 17% of 18,411 random public IPv4
    # addresses): an ASN whose block does not hold the address is dropped rather than trusted.
    if as_org is not None:
        try:
            if address not in ipaddress.ip_network(result.asn_cidr, strict=False):
                as_org = None
        except ValueError:
            as_org = None
    if country is None and as_org is None:
        return None
    return country, None, as_org


def describe_embedded() -> dict[str, Any]:
    """The embedded data's package version and file (the version pins the data: each release ships one)."""
    return {"source": "embedded", "package": "geoip2fast", "version": version("geoip2fast"), "file": EMBEDDED_DATA_FILE}


_EMBEDDED_BY_RULES: dict[str, NetworkLookup] = {
    "1": embedded_network_of_hosting_rules_1,
    HOSTING_RULES: embedded_network_of,
}


# --- Chains and the lookups by name -----------------------------------------------------------------


def chain(*lookups: NetworkLookup) -> NetworkLookup:
    """The first answer of ``lookups``, tried in order."""

    def network_of(ip: str) -> NetworkInfo | None:
        for lookup in lookups:
            info = lookup(ip)
            if info is not None:
                return info
        return None

    return network_of


# --geo choices of model.train: the simulator's ranges first for "synthetic", then a database.
NETWORK_LOOKUPS = ("embedded", "synthetic", "maxmind", "none")
SYNTHETIC_MODULE = "traffic.geo"


@dataclass(frozen=True)
class ResolvedLookup:
    """A lookup built from its name, with the record of it the model's metadata keeps."""

    network_of: NetworkLookup | None
    record: Mapping[str, Any] | None


def resolve_network_lookup(
    name: str, databases: Sequence[str] = (), cache_dir: str | Path | None = None, hosting_rules: str = HOSTING_RULES
) -> ResolvedLookup:
    """The lookup called ``name`` (``NETWORK_LOOKUPS``): ``databases`` are the MaxMind-format files
    (paths or s3:// URLs) for "maxmind", and for "synthetic" instead of the embedded data; hosting
    networks by ``hosting_rules`` (``HOSTING_RULES``, or "1" for models trained before them)."""
    import importlib

    if name == "none":
        return ResolvedLookup(None, None)
    if name not in NETWORK_LOOKUPS:
        raise NetworkLookupError(name, f"unknown network lookup; choose one of {', '.join(NETWORK_LOOKUPS)}")
    if name == "maxmind" and not databases:
        raise NetworkLookupError(name, "needs the MaxMind-format databases (--geo-database)")
    if hosting_rules not in _EMBEDDED_BY_RULES:
        raise NetworkLookupError(
            name,
            f"the model was trained with hosting rules {hosting_rules}; this runtime has "
            f"{sorted(_EMBEDDED_BY_RULES)}: upgrade the scorer or retrain",
        )
    database: NetworkLookup
    if databases and name != "embedded":
        maxmind = MaxMindNetworks(databases, cache_dir, hosting_rules)
        database, described = maxmind, maxmind.describe()
    else:
        database, described = _EMBEDDED_BY_RULES[hosting_rules], describe_embedded()
    # The record of a lookup by the first rules keeps their form: no number.
    rules = {_RULES_KEY: hosting_rules} if hosting_rules != "1" else {}
    if name != "synthetic":
        return ResolvedLookup(database, {"name": name, **described, **rules})
    synthetic: NetworkLookup = importlib.import_module(SYNTHETIC_MODULE).network_of
    record = {"name": name, "synthetic_module": SYNTHETIC_MODULE, **described, **rules}
    return ResolvedLookup(chain(synthetic, database), record)


def lookup_from_record(record: Mapping[str, Any] | None, cache_dir: str | Path | None = None) -> ResolvedLookup:
    """Rebuild the lookup a model's metadata records, refusing other data than it was trained with
    (``NetworkLookupError`` naming what differs)."""
    if not record:
        return ResolvedLookup(None, None)
    databases = [source["location"] for source in record.get("databases", ())]
    hosting_rules = str(record.get(_RULES_KEY, "1"))  # (not recorded before there was a version 2)
    resolved = resolve_network_lookup(str(record.get("name")), databases, cache_dir, hosting_rules)
    if resolved.record != record:
        differences = sorted(
            key for key in {*record, *(resolved.record or {})} if record.get(key) != (resolved.record or {}).get(key)
        )
        raise NetworkLookupError(
            str(record.get("name")),
            f"the model was trained with other network data ({', '.join(differences)} differ): "
            f"trained with {dict(record)}, this runtime has {dict(resolved.record or {})}",
        )
    return resolved


# --- What the lookup says of an address: python -m model.network ADDRESS... ------------------------


def describe_address(network_of: NetworkLookup, address: str) -> dict[str, Any]:
    """What the features see of ``address``: its country, network and whether it is hosting (all
    None for a private, reserved or unknown address)."""
    info = network_of(address)
    if info is None:
        return {"address": address, "country": None, "asn": None, "as_org": None, "hosting": None}
    return {
        "address": address,
        "country": info.country,
        "asn": info.asn,
        "as_org": info.as_org,
        "hosting": info.hosting,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Print one JSON line per address, as the model's features see it."""
    import argparse
    import json

    parser = argparse.ArgumentParser(
        prog="python -m model.network", description="The country, network and hosting flag of IP addresses."
    )
    parser.add_argument("addresses", nargs="+", metavar="ADDRESS")
    parser.add_argument("--geo", default="embedded", choices=NETWORK_LOOKUPS[:-1], help="as model.train's --geo")
    parser.add_argument("--geo-database", action="append", default=[], help="as model.train's --geo-database")
    arguments = parser.parse_args(argv)
    try:
        lookup = resolve_network_lookup(arguments.geo, arguments.geo_database).network_of
    except NetworkLookupError as error:
        parser.exit(2, f"{parser.prog}: {error}\n")
    assert lookup is not None  # every choice but "none" has one
    for address in arguments.addresses:
        print(json.dumps(describe_address(lookup, address)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
