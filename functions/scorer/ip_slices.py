"""An address's state kept as one part per shard, so that no shard's update replaces another's.

Kinesis partitions events by user, so one address's users (behind a carrier-grade NAT, a corporate
proxy) are spread over every shard, each shard's scorer seeing its own of them. The address's state
is the merge of what each shard built from its own events (``model.features.merge_ip_states``:
decayed counts added at a common time, event counts added, users the greatest of the union). Each
shard reads the other shards' parts, computes the per-IP features from the merge, and writes back
its own part alone: a write never carries another shard's part, so none is lost, and no item is
written by more than one shard except through ``UpdateItem`` of that shard's own attribute.

Items of the state table, per address:

- ``ip#<address>``, the address's **home**: ``shards``, a binary set of the tags (8 bytes,
  ``scorer.progress.shard_tag``) of the shards whose part is an item of its own, at most
  ``directory_size`` of them, and ``expires_at``. Written only by ``UpdateItem`` ``ADD`` (a set
  union: two shards announcing themselves at once are both kept), conditioned on the set having
  room, once per shard and address (and again when its expiry is half way). Items of the releases
  before this one held the address's whole state here (``state``, with ``applied`` of up to
  twelve shards): it is still read, as one more part that no longer changes, and its positions
  still mark what it applied.
- ``ip#<address>@<tag>``, a shard's own part: written whole by that shard alone, with ``applied``
  its position, in the same ``BatchWriteItem`` round as before. It is what the shard reads its part
  from (strongly consistent, like its users' items), so the part and its position are never
  older than its last write. Most addresses have one user and one such item, written as the one
  item of earlier releases was; the other shards read it when the home lists it.
- ``ip#<address>#<n>``, ``n`` < ``HOT_ADDRESS_ITEMS``, once the home is full (a hot key: an address
  many shards share): a shard the home does not list also copies its part into item ``tag mod
  HOT_ADDRESS_ITEMS``, as the attribute ``s_<tag>`` (its position, then the state), set by
  ``UpdateItem`` alone: the other shards' attributes in the item are left as they are. Each item
  takes the writes of one sixteenth of those shards, with their parts only (the users no other part
  ranks above: ``keep_users_within``), so neither its size nor its write rate grows with the
  address's users, and a reader reads sixteen items instead of one per shard.

A batch reads its own parts strongly consistent with the users' items, and the homes eventually
consistent in the same round (half a read unit: what the home says about other shards may be a
second old, which only delays what the features see of them); then, only for addresses other shards
use, the listed shards' items and, where the home is full, the hot items (a second round, eventually
consistent). A home read late can at worst make a shard announce itself again (a set union) or copy
its part once more: its own part is always its own item. The parts' positions make retries exact
as for any item (``scorer.progress``): a part has one writer, so one position.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from model.exceptions import InvalidStateError
from model.features import IpState, merge_ip_states
from scorer.progress import SHARD_TAG_BYTES, parse_positions
from scorer.stores import IP_PREFIX, PART_ATTRIBUTE_PREFIX, StoredState

# The items an address's hot parts are spread over: each takes one sixteenth of the shards' writes.
# At 550 shards (1 million events/s, docs/capacity.md) that is 34 parts of about 110 bytes: 4 write
# units per write, 34 writes a second, 136 write units a second per item against the partition's
# 1,000; and 16 reads per batch that holds the address.
HOT_ADDRESS_ITEMS = 16
# The shards that keep their part in an item of their own (the home lists them): below it, a reader
# reads at most this many items; above, the hot items take the other shards.
DEFAULT_DIRECTORY_SIZE = 8


def home_key(ip: str) -> str:
    return IP_PREFIX + ip


def own_key(ip: str, tag: bytes) -> str:
    """The item of a listed shard's part."""
    return f"{IP_PREFIX}{ip}@{tag.hex()}"


def hot_key(ip: str, tag: bytes) -> str:
    """The hot item that holds a shard's part once the address's home is full."""
    return f"{IP_PREFIX}{ip}#{int.from_bytes(tag, 'big') % HOT_ADDRESS_ITEMS}"


def part_attribute(tag: bytes) -> str:
    return PART_ATTRIBUTE_PREFIX + tag.hex()


def encode_part(applied: bytes, state: bytes) -> bytes:
    """A hot item's attribute: the shard's position (one ``scorer.progress`` entry), then its state."""
    return applied + state


def decode_part(value: bytes) -> tuple[bytes, bytes]:
    """(position entry, state) of a hot item's attribute."""
    end = SHARD_TAG_BYTES + 1 + value[SHARD_TAG_BYTES] if len(value) > SHARD_TAG_BYTES else len(value)
    return value[:end], value[end:]


@dataclass
class AddressView:
    """What one shard knows of one address in a batch: its own part and the merge of the others'."""

    own: IpState | None = None
    own_applied: bytes = b""  # the own part's position (one entry), b"" for none
    legacy_applied: bytes = b""  # the positions of an earlier release's whole state, if any
    others: IpState | None = None
    listed: bool = False  # the home lists this shard: its part is an item of its own
    hot: bool = False  # the home is full without it: its part is an attribute of a hot item
    home_expires_at: int = 0
    unreadable: list[str] = field(default_factory=list)

    def applied_through(self, tag: bytes) -> int:
        """The last sequence number of the shard ``tag`` whose events this address has applied."""
        return max(
            parse_positions(self.own_applied).get(tag, -1) if self.own_applied else -1,
            parse_positions(self.legacy_applied).get(tag, -1) if self.legacy_applied else -1,
        )


def own_keys(ips: Iterable[str], tag: bytes) -> list[str]:
    """This shard's own part of each address: read strongly consistent with the users' items."""
    return [own_key(ip, tag) for ip in ips]


def home_keys(ips: Iterable[str]) -> list[str]:
    """Each address's home: read eventually consistent in the same round."""
    return [home_key(ip) for ip in ips]


def second_round_keys(
    stored: Mapping[str, StoredState], ips: Iterable[str], tag: bytes, directory_size: int
) -> list[str]:
    """The other listed shards' items and, where the home is full, the hot items."""
    keys: list[str] = []
    for ip in ips:
        home = stored.get(home_key(ip))
        if home is None:
            continue
        keys += [own_key(ip, shard) for shard in sorted(home.shards) if shard != tag]
        if len(home.shards) >= directory_size:
            keys += [f"{IP_PREFIX}{ip}#{number}" for number in range(HOT_ADDRESS_ITEMS)]
    return keys


def address_views(
    stored: Mapping[str, StoredState], ips: Collection[str], tag: bytes, directory_size: int
) -> dict[str, AddressView]:
    """Per address, this shard's part (its own item) and the merge of every other part read (the
    other listed shards' items, the other shards' hot attributes and an earlier release's whole
    state). A part that cannot be read is left out and named in ``unreadable``."""
    views: dict[str, AddressView] = {}
    attribute = part_attribute(tag)
    for ip in ips:
        view = views[ip] = AddressView()
        home = stored.get(home_key(ip))
        others: list[IpState] = []
        own = stored.get(own_key(ip, tag))
        if own is not None:
            parts: list[IpState] = []
            _read_part(own.state, own_key(ip, tag), parts, view)
            if parts:
                view.own, view.own_applied = parts[0], own.applied
        if home is not None:
            view.listed = tag in home.shards
            view.hot = len(home.shards) >= directory_size and not view.listed
            view.home_expires_at = home.expires_at
            if home.state:
                view.legacy_applied = home.applied
                _read_part(home.state, home_key(ip), others, view)
            for shard in sorted(home.shards - {tag}):
                item = stored.get(own_key(ip, shard))
                if item is not None:
                    _read_part(item.state, own_key(ip, shard), others, view)
            if len(home.shards) >= directory_size:
                for number in range(HOT_ADDRESS_ITEMS):
                    key = f"{IP_PREFIX}{ip}#{number}"
                    item = stored.get(key)
                    for name, value in (item.parts if item is not None else {}).items():
                        # This shard's part is its own item; a listed shard's too (not a copy it
                        # may have left here before it was listed).
                        if name != attribute and bytes.fromhex(name[len(PART_ATTRIBUTE_PREFIX) :]) not in home.shards:
                            _read_part(decode_part(value)[1], f"{key}.{name}", others, view)
        if others:
            view.others = merge_ip_states(others)
    return views


def _read_part(data: bytes, where: str, into: list[IpState], view: AddressView) -> None:
    try:
        into.append(IpState.from_bytes(data))
    except InvalidStateError as error:
        view.unreadable.append(f"{where}: {error}")
