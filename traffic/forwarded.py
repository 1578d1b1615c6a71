"""The client's address in a log written behind load balancers and reverse proxies.

Behind a proxy, ``$remote_addr`` is the proxy's address and the client's is in the
``X-Forwarded-For`` header (``$http_x_forwarded_for``; Apache's ``%{X-Forwarded-For}i``), which each
proxy extends on the right with the address it received the request from. A client can write the
header itself, so only the hops added by proxies one trusts are believed: as nginx's realip module
does with ``real_ip_recursive on``, the client is found by starting at the peer address and, while
that address is a trusted proxy, stepping one hop left in the header. Addresses left of the first
untrusted hop were written by the client (or its own proxies) and are never taken.

Trusted by default (nginx's ``set_real_ip_from``, Apache's ``RemoteIPInternalProxy``): private
networks, loopback, link-local and shared address space, where load balancers and reverse proxies
of a site sit. Proxies with public addresses (a CDN) are named with ``--real-ip-from``.
``X-Real-IP`` (``$http_x_real_ip``), which a proxy sets to the one address it saw, is read as a
header of one hop.
"""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Sequence
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# The header variables that carry the client's address, in the order they are preferred.
FORWARDED_VARIABLES = ("http_x_forwarded_for", "http_x_real_ip")
INTERNAL_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(network)
    for network in (
        "10.0.0.0/8",  # RFC 1918
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",  # shared address space (RFC 6598): some clouds' load balancers
        "127.0.0.0/8",
        "169.254.0.0/16",
        "::1/128",
        "fc00::/7",  # unique local
        "fe80::/10",
    )
)


def network(text: str) -> IPNetwork:
    """A network from ``198.51.100.0/24`` or a single address (argparse's ``type``)."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an address or a network (CIDR)") from None


def add_real_ip_from(parser: argparse.ArgumentParser) -> None:
    """``--real-ip-from``, which the importer and the backtest share."""
    parser.add_argument(
        "--real-ip-from",
        action="append",
        type=network,
        default=[],
        metavar="CIDR",
        help="a proxy network whose X-Forwarded-For hops are believed, besides private networks (repeatable): "
        "a CDN's ranges where the log's $remote_addr is the CDN",
    )


class ClientAddress:
    """Finds the client's address from the peer address and the forwarding header (see the module)."""

    def __init__(self, trusted: Sequence[IPNetwork] = ()) -> None:
        self.trusted = (*INTERNAL_NETWORKS, *trusted)
        self.is_trusted = lru_cache(maxsize=65_536)(self._is_trusted)

    def _is_trusted(self, address: str) -> bool:
        parsed = ipaddress.ip_address(canonical(address) or address)
        return any(parsed in network for network in self.trusted if network.version == parsed.version)

    def of(self, peer: str | None, forwarded: str | None, *, one_hop: bool = False) -> str | None:
        """The client's address, written canonically (``canonical``). ``peer`` is ``$remote_addr`` (a
        valid address) or None where the log has no such column, in which case the header's proxies
        are the site's own and it is read from its right end. ``one_hop``: the header holds one
        address (X-Real-IP), not a list. None when neither gives an address."""
        client = canonical(peer) if peer is not None else None
        if forwarded is None or (client is not None and not self.is_trusted(client)):
            return client
        for hop in reversed([forwarded] if one_hop else forwarded.split(",")):
            if not hop.strip():
                continue  # "a, , b" or a trailing comma: no hop there, as nginx reads it
            address = hop_address(hop)
            if address is None:
                break  # "unknown" or garbage: what is left of it cannot be placed
            client = address
            if not self.is_trusted(address):
                break
        return client


@lru_cache(maxsize=65_536)
def canonical(text: str) -> str | None:
    """An address as one string per address: lower-case IPv6 without a zone (``%eth0``), and an
    IPv4-mapped IPv6 address (``::ffff:10.0.0.1``, from a dual-stack listener) as its IPv4 address.
    None if ``text`` is not an address."""
    try:
        parsed = ipaddress.ip_address(text.strip().split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(parsed)


@lru_cache(maxsize=65_536)
def hop_address(hop: str) -> str | None:
    """The address in one X-Forwarded-For entry (``203.0.113.7``, ``203.0.113.7:51234``,
    ``[2001:db8::1]:443``, ``2001:db8::1``), canonical; None if it holds none."""
    text = hop.strip()
    if text.startswith("["):
        address, bracket, port = text[1:].partition("]")
        if not bracket or (port and not (port.startswith(":") and port[1:].isdigit())):
            return None
        return canonical(address)
    if text.count(":") == 1:  # IPv4 with a port
        address, _, port = text.partition(":")
        return canonical(address) if port.isdigit() else None
    return canonical(text)
