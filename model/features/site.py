"""What the whole site's traffic says now: ``SiteNow``, the pages its visitors reach
(``model.features.popularity``), the browsers they arrive in (the same counts, by agent family:
``model.features.vocabulary.ResourceVocabulary.agent_rarity``) and whether it is failing them
(``model.features.outages``).

One process counts it over the events it featurizes, in time order: training and the backtest over
the whole log, each shard's scorer over its share (one stored item per shard, ``SiteNow.to_bytes``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from model.exceptions import InvalidStateError
from model.features.outages import Outages
from model.features.popularity import STORED_ALONE_VERSION, PathPopularity

# The stored form: a tag, this version, the lengths of the pages' and the browsers' popularity's
# stored forms, then them, then the outages'. Version 1, stored before browsers were counted, has no
# browsers' length or form. An item that begins with the popularity's version byte of the time
# (``STORED_ALONE_VERSION``) was stored before outages were counted, and holds the popularity alone
# (the tag begins with no version byte it will have).
_TAG = b"\xffsite"
SITE_VERSION = 2
_BEFORE_AGENTS_VERSION = 1
_HEAD = struct.Struct(f"<{len(_TAG)}sBII")
_HEAD_BEFORE_AGENTS = struct.Struct(f"<{len(_TAG)}sBI")
# Browser families followed (past twice as many, the most visited this many are kept): few are
# popular at once, and the item is written once per batch and shard (16 families, 1 KB).
MAX_POPULAR_AGENTS = 8


def _agents_now() -> PathPopularity:
    return PathPopularity(limit=MAX_POPULAR_AGENTS)


@dataclass(slots=True)
class SiteNow:
    """The site's traffic now, as one process has counted it."""

    popularity: PathPopularity = field(default_factory=PathPopularity)
    outages: Outages = field(default_factory=Outages)
    agents: PathPopularity = field(default_factory=_agents_now)  # keyed by agent family

    def copy(self) -> SiteNow:
        return SiteNow(self.popularity.copy(), self.outages.copy(), self.agents.copy())

    def to_bytes(self) -> bytes:
        popularity, agents = self.popularity.to_bytes(), self.agents.to_bytes()
        head = _HEAD.pack(_TAG, SITE_VERSION, len(popularity), len(agents))
        return head + popularity + agents + self.outages.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> SiteNow:
        """Rebuild from ``to_bytes`` (or one stored before browsers were counted, or a popularity
        stored alone, before outages were); raises ``InvalidStateError`` on anything else."""
        if data[:1] == bytes([STORED_ALONE_VERSION]):
            return cls(PathPopularity.from_bytes(data))
        if len(data) < _HEAD_BEFORE_AGENTS.size:
            raise InvalidStateError("site", f"{len(data)} bytes, shorter than its head")
        tag, version, length = _HEAD_BEFORE_AGENTS.unpack_from(data)
        if tag != _TAG:
            raise InvalidStateError("site", f"begins with {tag!r}, not the site's tag or a popularity's version")
        if version not in (SITE_VERSION, _BEFORE_AGENTS_VERSION):
            raise InvalidStateError("site", f"version {version} is not {SITE_VERSION}")
        agents_length = 0
        start = _HEAD_BEFORE_AGENTS.size
        if version == SITE_VERSION:
            if len(data) < _HEAD.size:
                raise InvalidStateError("site", f"{len(data)} bytes, shorter than its head")
            _, _, length, agents_length = _HEAD.unpack_from(data)
            start = _HEAD.size
        end = start + length + agents_length
        if len(data) < end:
            raise InvalidStateError(
                "site", f"{len(data)} bytes, shorter than its {length + agents_length} bytes of popularity"
            )
        popularity = PathPopularity.from_bytes(data[start : start + length])
        agents = _agents_now()
        if agents_length:
            agents = PathPopularity.from_bytes(data[start + length : end], MAX_POPULAR_AGENTS)
        return cls(popularity, Outages.from_bytes(data[end:]), agents)
