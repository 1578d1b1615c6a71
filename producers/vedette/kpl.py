"""The KPL aggregation format: many user records in one Kinesis record.

Layout (amazon-kinesis-producer ``aggregation-format.md``): the 4 magic bytes ``F3 89 9A C2``, a
protobuf ``AggregatedRecord`` (field 1: partition key table, field 2: explicit hash key table,
field 3: records, each with field 1 partition key index, field 2 explicit hash key index, field 3
data), then the MD5 digest of the protobuf bytes.

This is written by hand, not with the protobuf runtime, because the producer's per-event budget
is a few microseconds: ``AggregateBuilder`` appends pre-sized byte chunks and knows the exact
serialized size before adding a record. Its output is byte-identical to aws-kinesis-agg's
``RecordAggregator`` for the same input (``tests/test_kpl.py`` proves it), and ``deaggregate``
reads what aws-kinesis-agg, the KPL and the KCL write.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from vedette.limits import KPL_AGGREGATION_MAX_BYTES

MAGIC = b"\xf3\x89\x9a\xc2"
DIGEST_SIZE = 16
# Bytes every aggregate carries besides its protobuf body.
FRAMING_BYTES = len(MAGIC) + DIGEST_SIZE

_TAG_PARTITION_KEY = b"\x0a"  # AggregatedRecord.partition_key_table, wire type LEN
_TAG_RECORD = b"\x1a"  # AggregatedRecord.records, wire type LEN (the same byte as Record.data)
_TAG_KEY_INDEX = b"\x08"  # Record.partition_key_index, wire type VARINT
_TAG_DATA = b"\x1a"  # Record.data, wire type LEN


def encode_varint(value: int) -> bytes:
    """Protobuf base-128 varint of a non-negative integer."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# Field headers (tag byte plus varint) for values below 16,384, the one- and two-byte varints:
# every index and every user record this package admits (MAX_EVENT_BYTES) is covered by a lookup.
_TABLE_SIZE = 1 << 14
_KEY_INDEX_FIELDS = [_TAG_KEY_INDEX + encode_varint(n) for n in range(_TABLE_SIZE)]
_LENGTH_FIELDS = [_TAG_DATA + encode_varint(n) for n in range(_TABLE_SIZE)]  # tag 0x1a serves data and records
_PARTITION_KEY_FIELDS = [_TAG_PARTITION_KEY + encode_varint(n) for n in range(257)]


def _length_field(value: int) -> bytes:
    return _LENGTH_FIELDS[value] if value < _TABLE_SIZE else _TAG_DATA + encode_varint(value)


class AggregateBuilder:
    """Collects user records into one aggregated Kinesis record of at most ``max_bytes``.

    ``max_bytes`` bounds the Kinesis record as Kinesis counts it: data plus the outer partition
    key (the first user record's, as the KPL does). Not thread-safe; the producer owns one per shard.
    """

    __slots__ = ("_key_index", "_keys", "_records", "count", "max_bytes", "partition_key", "size")

    def __init__(self, max_bytes: int = KPL_AGGREGATION_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.partition_key = ""
        self.size = 0  # exact size of the Kinesis record if built now
        self.count = 0
        self._key_index: dict[str, int] = {}
        self._keys: list[bytes] = []
        self._records: list[bytes] = []

    def try_add(self, partition_key: str, data: bytes) -> bool:
        """Add a user record if it fits; an empty builder always accepts one (it may be sent raw)."""
        index = self._key_index.get(partition_key)
        key_chunk = b""
        if index is None:
            index = len(self._keys)
            encoded_key = partition_key.encode()
            key_length = len(encoded_key)
            key_field = (
                _PARTITION_KEY_FIELDS[key_length]
                if key_length < len(_PARTITION_KEY_FIELDS)
                else _TAG_PARTITION_KEY + encode_varint(key_length)
            )
            key_chunk = key_field + encoded_key
        data_length = len(data)
        # Record { partition_key_index = index; data = data }, framed as AggregatedRecord.records.
        header = (
            _KEY_INDEX_FIELDS[index] if index < _TABLE_SIZE else _TAG_KEY_INDEX + encode_varint(index)
        ) + _length_field(data_length)
        record_header = _length_field(len(header) + data_length) + header
        added = len(key_chunk) + len(record_header) + data_length
        if self.count == 0:
            self.partition_key = partition_key
            self.size = FRAMING_BYTES + len(partition_key.encode())
        elif self.size + added > self.max_bytes:
            return False
        if key_chunk:
            self._key_index[partition_key] = index
            self._keys.append(key_chunk)
        self._records.append(record_header)
        self._records.append(data)
        self.size += added
        self.count += 1
        return True

    def build(self) -> bytes:
        """The aggregated record's data: magic, protobuf body, MD5 digest."""
        body = b"".join([*self._keys, *self._records])
        return b"".join((MAGIC, body, hashlib.md5(body).digest()))


class UserRecord(NamedTuple):
    """One user record read back from a Kinesis record."""

    partition_key: str
    data: bytes
    explicit_hash_key: str | None = None
    # Position inside the aggregate; None for a Kinesis record that was not aggregated.
    sub_sequence_number: int | None = None


class _Reader:
    __slots__ = ("buffer", "end", "position")

    def __init__(self, buffer: memoryview, start: int, end: int) -> None:
        self.buffer = buffer
        self.position = start
        self.end = end

    def varint(self) -> int:
        try:
            value, position = _varint_at(self.buffer, self.position)
        except IndexError:
            raise ValueError("truncated or overlong varint") from None
        if position > self.end:
            raise ValueError("truncated or overlong varint")
        self.position = position
        return value

    def length_delimited(self) -> tuple[int, int]:
        length = self.varint()
        start = self.position
        self.position += length
        if self.position > self.end:
            raise ValueError("length-delimited field runs past its message")
        return start, self.position

    def skip(self, wire_type: int) -> None:
        if wire_type == 0:
            self.varint()
        elif wire_type == 2:
            self.length_delimited()
        elif wire_type == 1:
            self.position += 8
        elif wire_type == 5:
            self.position += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type}")


def is_aggregated(data: bytes) -> bool:
    """True when ``data`` carries the KPL magic and a matching MD5 digest."""
    if len(data) < FRAMING_BYTES or not data.startswith(MAGIC):
        return False
    body = memoryview(data)[len(MAGIC) : -DIGEST_SIZE]
    return hashlib.md5(body).digest() == data[-DIGEST_SIZE:]


# A NamedTuple's own constructor is a Python function; this builds the same tuple in half the time,
# which counts where one is made per event.
_new_tuple = tuple.__new__


def deaggregate(data: bytes, partition_key: str, explicit_hash_key: str | None = None) -> list[UserRecord]:
    """Split one Kinesis record into its user records.

    A record without the magic bytes or with a digest mismatch is a plain record and comes back
    whole, as the KCL treats it. A record with the right framing but an undecodable body raises
    ``ValueError``: it is corrupt, and the caller must park it rather than guess.
    """
    if not is_aggregated(data):
        return [UserRecord(partition_key, data, explicit_hash_key)]
    parsed = _parse_common_layout(data)
    partition_keys, hash_keys, spans = parsed if parsed is not None else _parse_any_layout(data)
    records = []
    for sub_sequence_number, (key_index, hash_index, start, end) in enumerate(spans):
        if key_index >= len(partition_keys) or (hash_index is not None and hash_index >= len(hash_keys)):
            raise ValueError(f"user record {sub_sequence_number} points outside the key tables")
        fields = (
            partition_keys[key_index],
            data[start:end],
            hash_keys[hash_index] if hash_index is not None else None,
            sub_sequence_number,
        )
        records.append(_new_tuple(UserRecord, fields))
    return records


_Spans = tuple[list[str], list[str], list[tuple[int, int | None, int, int]]]


def _varint_at(data: bytes | memoryview, position: int) -> tuple[int, int]:
    """The varint at ``position`` and the position after it; IndexError if it runs off ``data`` or past 64 bits."""
    result = shift = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7
        if shift > 63:
            raise IndexError("overlong varint")


def _parse_common_layout(data: bytes) -> _Spans | None:
    """The layout every KPL writer produces, read without a general protobuf reader (the scorer
    deaggregates every event it scores): the key tables, then records of a one-byte key index, an
    optional one-byte hash key index and the data. None for anything else, which
    ``_parse_any_layout`` then reads (or rejects with the reason)."""
    end = len(data) - DIGEST_SIZE
    position = len(MAGIC)
    partition_keys: list[str] = []
    hash_keys: list[str] = []
    spans: list[tuple[int, int | None, int, int]] = []
    try:
        while position < end:
            tag = data[position]
            length = data[position + 1]
            position += 2
            if length & 0x80:
                length, position = _varint_at(data, position - 1)
            stop = position + length
            if stop > end:
                return None
            if tag == 0x1A:  # a record: Record { key index; [hash key index;] data }
                if data[position] != 0x08 or data[position + 1] & 0x80:
                    return None
                key_index = data[position + 1]
                inner = position + 2
                hash_index = None
                if data[inner] == 0x10:
                    hash_index = data[inner + 1]
                    if hash_index & 0x80:
                        return None
                    inner += 2
                if data[inner] != 0x1A:
                    return None
                data_length, inner = _varint_at(data, inner + 1)
                if inner + data_length != stop:
                    return None
                spans.append((key_index, hash_index, inner, stop))
            elif tag == 0x0A:
                partition_keys.append(data[position:stop].decode())
            elif tag == 0x12:
                hash_keys.append(data[position:stop].decode())
            else:
                return None
            position = stop
    except (IndexError, UnicodeDecodeError):
        return None
    return partition_keys, hash_keys, spans


def _parse_any_layout(data: bytes) -> _Spans:
    """Any valid ``AggregatedRecord`` (fields in any order, unknown fields skipped, wide varints)."""
    view = memoryview(data)
    reader = _Reader(view, len(MAGIC), len(data) - DIGEST_SIZE)
    partition_keys: list[str] = []
    hash_keys: list[str] = []
    spans: list[tuple[int, int | None, int, int]] = []
    while reader.position < reader.end:
        tag = reader.varint()
        number, wire_type = tag >> 3, tag & 7
        if number in (1, 2) and wire_type == 2:
            start, end = reader.length_delimited()
            (partition_keys if number == 1 else hash_keys).append(bytes(view[start:end]).decode())
        elif number == 3 and wire_type == 2:
            spans.append(_read_record(reader))
        else:
            reader.skip(wire_type)
    return partition_keys, hash_keys, spans


def _read_record(reader: _Reader) -> tuple[int, int | None, int, int]:
    start, end = reader.length_delimited()
    inner = _Reader(reader.buffer, start, end)
    key_index: int | None = None
    hash_index: int | None = None
    data_span: tuple[int, int] | None = None
    while inner.position < inner.end:
        tag = inner.varint()
        number, wire_type = tag >> 3, tag & 7
        if number == 1 and wire_type == 0:
            key_index = inner.varint()
        elif number == 2 and wire_type == 0:
            hash_index = inner.varint()
        elif number == 3 and wire_type == 2:
            data_span = inner.length_delimited()
        else:
            inner.skip(wire_type)
    if key_index is None or data_span is None:
        raise ValueError("aggregated user record lacks its partition key index or data")
    return key_index, hash_index, data_span[0], data_span[1]
