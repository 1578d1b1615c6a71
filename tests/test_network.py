"""Network enrichment: country, ASN and hosting of real addresses, from the embedded data and from
MaxMind-format databases read with geoip2; the simulator's ranges first for synthetic traffic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mmdb_writer import MmdbU32, MMDBWriter
from netaddr import IPSet

from model.enrichment import NetworkInfo
from model.exceptions import NetworkLookupError
from model.network import (
    MaxMindNetworks,
    embedded_network_of,
    is_hosting,
    lookup_from_record,
    main,
    resolve_network_lookup,
)
from traffic import geo

RESERVED = ["10.0.0.1", "192.168.1.1", "172.16.5.4", "127.0.0.1", "100.64.0.1", "169.254.1.1", "::1", "fe80::1"]
RESERVED += ["2001:db8::1", "198.18.0.5", "0.0.0.0", "not-an-ip", ""]


@pytest.mark.parametrize(
    ("ip", "country", "as_org", "hosting"),
    [
        ("8.8.8.8", "US", "GOOGLE", True),
        ("2001:4860:4860::8888", "US", "GOOGLE", True),
        ("1.1.1.1", "AU", "CLOUDFLARENET", False),  # GeoLite2 places the APNIC research block in AU
        ("54.239.28.85", "US", "AMAZON-02", True),
        ("5.9.0.1", "DE", "Hetzner Online GmbH", True),
        ("81.2.69.142", "GB", "Andrews & Arnold Ltd", False),  # a British consumer ISP
    ],
)
def test_public_addresses_resolve_from_the_embedded_data(ip: str, country: str, as_org: str, hosting: bool) -> None:
    # WHEN a well-known public address is looked up in the data shipped with geoip2fast
    info = embedded_network_of(ip)
    # THEN its country and network are the registry's, and only data-centre networks are hosting
    assert info == NetworkInfo(country, None, as_org, hosting)


@pytest.mark.parametrize(
    ("asn", "as_org", "label"),
    [
        (16509, "AMAZON-02", "AS16509 AMAZON-02"),
        (None, "GOOGLE", "GOOGLE"),
        (64500, None, "AS64500"),
        (None, None, None),
    ],
)
def test_a_network_is_labelled_with_what_is_known_of_it(asn: int | None, as_org: str | None, label: str | None) -> None:
    # The embedded data knows organisations without numbers, a MaxMind ASN database both
    assert NetworkInfo("US", asn, as_org, False).label == label


@pytest.mark.parametrize("ip", RESERVED)
def test_private_and_reserved_addresses_resolve_to_none(ip: str) -> None:
    assert embedded_network_of(ip) is None


def test_an_asn_whose_block_does_not_hold_the_address_is_dropped() -> None:
    # GIVEN an address in no block of the ASN data, where geoip2fast answers the block before it
    # (91.198.173.0/24's owner)
    info = embedded_network_of("91.198.174.192")
    # THEN the country stays, the wrong owner does not
    assert info is not None
    assert info.as_org is None
    assert info.country is not None


def test_hosting_is_read_from_well_known_asns_and_organisation_names() -> None:
    assert is_hosting(16509, None)  # AWS by number
    assert is_hosting(None, "DIGITALOCEAN-ASN")
    assert is_hosting(None, "Hetzner Online GmbH")
    assert not is_hosting(3320, "Deutsche Telekom AG")
    assert not is_hosting(None, "Comcast Cable Communications, LLC")
    assert not is_hosting(None, None)


@pytest.mark.parametrize(
    ("ip", "as_org"),
    [
        ("172.224.226.1", "AKAMAI-AS"),  # iCloud Private Relay's egress on Akamai
        ("104.28.40.1", "CLOUDFLARENET"),  # ... on Cloudflare (and Cloudflare WARP)
        ("146.75.160.1", "FASTLY"),  # ... on Fastly
        ("136.32.1.1", "GOOGLE-FIBER"),  # homes
        ("131.107.1.1", "MICROSOFT-CORP-AS"),  # Microsoft's offices
    ],
)
def test_networks_that_relay_or_connect_people_are_not_hosting(ip: str, as_org: str) -> None:
    # WHEN an address of a privacy relay, or of an operator's homes or offices, is looked up
    info = embedded_network_of(ip)
    # THEN it is the network of people it is, though its name holds a cloud operator's
    assert info is not None
    assert info.as_org == as_org
    assert not info.hosting
    # AND a model trained by the first rules, which read them as hosting, is served by those
    first_rules = lookup_from_record(
        {
            key: value
            for key, value in (resolve_network_lookup("embedded").record or {}).items()
            if key != "hosting_rules"
        }
    )
    assert first_rules.network_of is not None
    assert first_rules.network_of(ip) == NetworkInfo(info.country, None, as_org, True)


@pytest.mark.parametrize(
    ("ip", "as_org"),
    [("139.162.1.1", "Akamai Connected Cloud"), ("20.1.1.1", "MICROSOFT-CORP-MSN-AS-BLOCK"), ("35.190.1.1", "GOOGLE")],
)
def test_the_clouds_of_operators_that_also_relay_or_connect_people_stay_hosting(ip: str, as_org: str) -> None:
    info = embedded_network_of(ip)
    assert info is not None
    assert (info.as_org, info.hosting) == (as_org, True)


def test_hosting_by_number_leaves_out_the_content_delivery_networks_from_rules_2() -> None:
    assert not is_hosting(13335, "Cloudflare, Inc.")
    assert not is_hosting(54113, "Fastly, Inc.")
    assert is_hosting(13335, "Cloudflare, Inc.", "1")
    assert is_hosting(63949, "Akamai Connected Cloud")


def test_a_record_of_hosting_rules_newer_than_the_runtime_is_refused() -> None:
    record = {**(resolve_network_lookup("embedded").record or {}), "hosting_rules": "9"}
    with pytest.raises(NetworkLookupError, match="hosting rules 9"):
        lookup_from_record(record)


@pytest.fixture(scope="module")
def maxmind_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A Country and an ASN database in MaxMind's format, as GeoLite2 publishes them (two files)."""
    folder = tmp_path_factory.mktemp("mmdb")
    country = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    country.insert_network(IPSet(["8.8.8.0/24"]), {"country": {"iso_code": "US"}})
    country.insert_network(IPSet(["81.2.64.0/18"]), {"country": {"iso_code": "GB"}})
    # an anycast block with no country of use: its registered country answers
    country.insert_network(IPSet(["1.1.1.0/24"]), {"registered_country": {"iso_code": "AU"}})
    country.to_db_file(str(folder / "GeoLite2-Country.mmdb"))
    asn = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN")
    for network, number, name in (
        ("8.8.8.0/24", 15169, "GOOGLE"),
        ("81.2.64.0/18", 20712, "Andrews & Arnold Ltd"),
        ("1.1.1.0/24", 13335, "CLOUDFLARENET"),
    ):
        record = {"autonomous_system_number": MmdbU32(number), "autonomous_system_organization": name}
        asn.insert_network(IPSet([network]), record)
    asn.to_db_file(str(folder / "GeoLite2-ASN.mmdb"))
    return folder / "GeoLite2-Country.mmdb", folder / "GeoLite2-ASN.mmdb"


def test_maxmind_databases_give_country_asn_number_and_organisation(maxmind_files: tuple[Path, Path]) -> None:
    # GIVEN GeoLite2-format Country and ASN databases, read with geoip2
    lookup = MaxMindNetworks([str(path) for path in maxmind_files])
    # THEN public addresses resolve to their country, ASN number and organisation
    assert lookup("8.8.8.8") == NetworkInfo("US", 15169, "GOOGLE", True)
    assert lookup("81.2.69.142") == NetworkInfo("GB", 20712, "Andrews & Arnold Ltd", False)
    assert lookup("1.1.1.1") == NetworkInfo("AU", 13335, "CLOUDFLARENET", False)  # relays people (rules 2)
    # AND addresses the databases do not hold, or that are not public, resolve to None
    assert lookup("9.9.9.9") is None
    assert lookup("10.1.2.3") is None
    # AND the record the metadata keeps names each database's type and build
    described = lookup.describe()
    assert [source["database_type"] for source in described["databases"]] == ["GeoLite2-Country", "GeoLite2-ASN"]
    lookup.close()
    # AND a model trained by the first hosting rules is served by them
    first_rules = MaxMindNetworks([str(path) for path in maxmind_files], hosting_rules="1")
    assert first_rules("1.1.1.1") == NetworkInfo("AU", 13335, "CLOUDFLARENET", True)
    first_rules.close()


def test_maxmind_lookup_refuses_missing_files_and_databases_of_another_kind(tmp_path: Path) -> None:
    with pytest.raises(NetworkLookupError, match="no such database file"):
        MaxMindNetworks([str(tmp_path / "missing.mmdb")])
    other = MMDBWriter(ip_version=4, database_type="Vendor-Proxy")
    other.insert_network(IPSet(["8.8.8.0/24"]), {"proxy": True})
    other.to_db_file(str(tmp_path / "proxy.mmdb"))
    with pytest.raises(NetworkLookupError, match="neither country nor ASN"):
        MaxMindNetworks([str(tmp_path / "proxy.mmdb")])
    with pytest.raises(NetworkLookupError, match="needs the MaxMind-format databases"):
        resolve_network_lookup("maxmind")


def test_synthetic_lookup_answers_simulator_ranges_first_then_the_database() -> None:
    # GIVEN the lookup `--geo synthetic` trains with
    lookup = resolve_network_lookup("synthetic")
    assert lookup.network_of is not None
    # WHEN a simulated hosting address and a real one are looked up
    hosting_ip = geo.random_ip(__import__("random").Random(1), "DE", geo.HOSTING)
    simulated = lookup.network_of(hosting_ip)
    real = lookup.network_of("8.8.8.8")
    # THEN the simulated one has its synthetic country, a private-use ASN and the hosting flag
    assert simulated is not None
    assert simulated.country == "DE"
    assert simulated.hosting
    assert simulated.asn is not None
    assert simulated.asn >= geo.SYNTHETIC_ASN_BASE
    # AND the real one comes from the embedded data
    assert real == embedded_network_of("8.8.8.8")


def test_a_record_of_other_network_data_is_refused_at_rebuild() -> None:
    # GIVEN the record a model trained with the embedded data keeps
    record = dict(resolve_network_lookup("embedded").record or {})
    assert lookup_from_record(record).network_of is embedded_network_of
    # WHEN the runtime's data differs from it (another geoip2fast release)
    record["version"] = "0.0.1"
    # THEN the lookup is refused, naming what differs
    with pytest.raises(NetworkLookupError, match="version differ"):
        lookup_from_record(record)


def test_the_scorer_refuses_at_cold_start_a_model_trained_on_other_network_data(tmp_path: Path) -> None:
    from model.artifact import export_feature_config
    from scorer.model_config import FeatureConfigError, load_feature_config
    from tests.stack_harness import write_model_artifact

    # GIVEN the feature configuration of a model trained with the embedded data and parsed agents
    config = export_feature_config(
        write_model_artifact(tmp_path / "model.tar.gz", "embedded", parsed_agents=True),
        tmp_path / "feature_config.json",
    )
    loaded = load_feature_config(config)
    assert loaded.network_of is embedded_network_of
    assert loaded.agent_of is not None
    # WHEN the data it records is not the runtime's
    data = json.loads(config.read_text())
    data["network_lookup"]["version"] = "0.0.1"
    config.write_text(json.dumps(data))
    # THEN the scorer refuses to start rather than compute other features than the model learned
    with pytest.raises(FeatureConfigError, match="other network data"):
        load_feature_config(config)


def test_the_command_prints_what_the_features_see_of_each_address(capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN a user asks what Vedette sees of a relay's, a server's and a private address
    assert main(["172.224.226.1", "45.76.77.249", "10.0.0.1"]) == 0
    # THEN each is one JSON line: its country, network and hosting flag, or nothing for a private one
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == [
        {"address": "172.224.226.1", "country": "GB", "asn": None, "as_org": "AKAMAI-AS", "hosting": False},
        {"address": "45.76.77.249", "country": "US", "asn": None, "as_org": "AS-CHOOPA", "hosting": True},
        {"address": "10.0.0.1", "country": None, "asn": None, "as_org": None, "hosting": None},
    ]


def test_the_command_names_what_a_lookup_lacks(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--geo", "maxmind", "1.1.1.1"])
    assert exited.value.code == 2
    assert "needs the MaxMind-format databases (--geo-database)" in capsys.readouterr().err
