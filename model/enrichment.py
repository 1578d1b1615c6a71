"""What the enrichment lookups answer, and nothing that needs their libraries.

The feature module (``model.features``) takes the lookups as arguments and reads these records; the
lookups themselves (``model.network``, ``model.user_agents``) need geoip2, geoip2fast, ua-parser and
crawlerdetect, which the SageMaker serving container does not have. This module needs only the
standard library, so it ships with the artifact's code and the features import it there too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    """What a source knows about a public address; fields it does not know are None."""

    country: str | None  # ISO 3166 alpha-2
    asn: int | None
    as_org: str | None
    hosting: bool  # a cloud, hosting or data-centre operator's network

    @property
    def network_key(self) -> str | None:
        """What identifies the network for novelty: its number, else its organisation's name."""
        if self.asn is not None:
            return f"AS{self.asn}"
        return self.as_org

    @property
    def label(self) -> str | None:
        """The network as people name it: ``AS16509 Amazon.com, Inc.``, or what of it is known."""
        number = f"AS{self.asn}" if self.asn is not None else None
        return " ".join(part for part in (number, self.as_org) if part) or None


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """The client classes a user agent shows; at most one of the first three is set."""

    known_bot: bool  # a self-declared crawler or spider (Googlebot, Scrapy...)
    headless: bool  # a headless or automated browser (HeadlessChrome, PhantomJS, Selenium...)
    http_library: bool  # an HTTP library or command-line tool (python-requests, curl, okhttp, an app's CFNetwork...)
    unrecognised: bool  # no browser or client family the parser knows


NetworkLookup = Callable[[str], "NetworkInfo | None"]
AgentLookup = Callable[[str], AgentInfo]
