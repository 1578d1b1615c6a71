"""What the whole site's traffic says now: ``SiteNow``, the pages its visitors reach
(``model.features.popularity``) and whether it is failing them (``model.features.outages``).

One process counts it over the events it featurizes, in time order: training and the backtest over
the whole log, each shard's scorer over its share (one stored item per shard, ``SiteNow.to_bytes``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from model.exceptions import InvalidStateError
from model.features.outages import Outages
from model.features.popularity import STORED_ALONE_VERSION, PathPopularity

# The stored form: a tag, this version and the length of the popularity's stored form, then it, then
# the outages'. An item that begins with the popularity's version byte of the time
# (``STORED_ALONE_VERSION``) was stored before outages were counted, and holds the popularity alone
# (the tag begins with no version byte it will have).
_TAG = b"\xffsite"
SITE_VERSION = 1
_HEAD = struct.Struct(f"<{len(_TAG)}sBI")


@dataclass(slots=True)
class SiteNow:
    """The site's traffic now, as one process has counted it."""

    popularity: PathPopularity = field(default_factory=PathPopularity)
    outages: Outages = field(default_factory=Outages)

    def copy(self) -> SiteNow:
        return SiteNow(self.popularity.copy(), self.outages.copy())

    def to_bytes(self) -> bytes:
        popularity = self.popularity.to_bytes()
        return _HEAD.pack(_TAG, SITE_VERSION, len(popularity)) + popularity + self.outages.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> SiteNow:
        """Rebuild from ``to_bytes`` (or a popularity stored alone, before outages were counted);
        raises ``InvalidStateError`` on anything else."""
        if data[:1] == bytes([STORED_ALONE_VERSION]):
            return cls(PathPopularity.from_bytes(data))
        if len(data) < _HEAD.size:
            raise InvalidStateError("site", f"{len(data)} bytes, shorter than its head")
        tag, version, length = _HEAD.unpack_from(data)
        if tag != _TAG:
            raise InvalidStateError("site", f"begins with {tag!r}, not the site's tag or a popularity's version")
        if version != SITE_VERSION:
            raise InvalidStateError("site", f"version {version} is not {SITE_VERSION}")
        end = _HEAD.size + length
        if len(data) < end:
            raise InvalidStateError("site", f"{len(data)} bytes, shorter than its {length} bytes of popularity")
        return cls(PathPopularity.from_bytes(data[_HEAD.size : end]), Outages.from_bytes(data[end:]))
