"""Decoding user records in compiled code: the event contract's checks restated for msgspec.

``vedette.events.decode_event`` is the contract, and the scorer's answer for every record is
always what it returns or raises. It costs about 4.5 µs per event (JSON parsing, then the checks
in Python), a tenth of the scorer's whole budget. Records as producers write them (every field
present, ``event_id`` and ``occurred_at`` in canonical form) are decoded here instead, by msgspec
with the contract's limits as constraints, in about 3.5 µs; the few checks msgspec cannot express
(a real calendar date, an IP address) follow in Python. Anything this
decoder does not accept, well-formed or not, goes to ``decode_event``, which accepts it the
general way or names the defect. tests/test_scorer_wire.py checks that both agree, on valid events
and on mutations of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from vedette import events
from vedette.events import (
    MAX_EVENT_BYTES,
    MAX_ID_LENGTH,
    MAX_OUTCOME_LENGTH,
    MAX_PROPERTIES,
    MAX_PROPERTY_KEY_LENGTH,
    MAX_RESOURCE_LENGTH,
    MAX_STATUS_CODE,
    MAX_USER_AGENT_LENGTH,
    MIN_STATUS_CODE,
    SCHEMA_VERSION,
    decode_event,
)


def _whole(pattern: str) -> msgspec.Meta:
    # msgspec searches; anchoring both ends makes that the contract's fullmatch (\Z, unlike $,
    # does not let a trailing newline through).
    return msgspec.Meta(pattern=rf"\A(?:{pattern})\Z")


def _text(max_length: int) -> msgspec.Meta:
    return msgspec.Meta(min_length=1, max_length=max_length)


_SchemaVersion = Literal[SCHEMA_VERSION]  # type: ignore[valid-type]  # (the contract's constant, not a literal)
_Id = Annotated[str, _text(MAX_ID_LENGTH)]
_UserAgent = Annotated[str, _text(MAX_USER_AGENT_LENGTH)]
_Resource = Annotated[str, _text(MAX_RESOURCE_LENGTH)]
_Code = Annotated[int, msgspec.Meta(ge=MIN_STATUS_CODE, le=MAX_STATUS_CODE)]
_Outcome = Annotated[str, _text(MAX_OUTCOME_LENGTH)]
_PropertyKey = Annotated[str, _text(MAX_PROPERTY_KEY_LENGTH)]
# JSON integers beyond 64 bits become floats when orjson (decode_event) reads them, where msgspec
# keeps them exact: they are left to decode_event, as are integers from 2**63 to 2**64 - 1 (the
# contract admits them; msgspec bounds stop at int64). Numbers beyond the double range are refused
# by both readers; the float bounds only keep the decoded value finite.
_Integer = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
_Finite = Annotated[float, msgspec.Meta(ge=-1.7976931348623157e308, le=1.7976931348623157e308)]
_Properties = Annotated[
    dict[_PropertyKey, str | _Integer | _Finite | bool | None], msgspec.Meta(max_length=MAX_PROPERTIES)
]


class _CanonicalEvent(msgspec.Struct, forbid_unknown_fields=True):
    # The fields in the contract's order (events.FIELDS; a test checks it), none optional.
    schema_version: _SchemaVersion
    event_id: Annotated[str, _whole(events.CANONICAL_UUID_PATTERN)]
    occurred_at: Annotated[str, _whole(events.CANONICAL_TIMESTAMP_PATTERN)]
    event_type: Annotated[str, _whole(events.EVENT_TYPE_PATTERN)]
    user_id: _Id
    session_id: _Id | None
    ip: str | None  # checked below: msgspec has no IP address type
    user_agent: _UserAgent | None
    resource: _Resource | None
    status: _Code | _Outcome | None
    properties: _Properties


_decode_canonical = msgspec.json.Decoder(_CanonicalEvent).decode
_as_dict = msgspec.structs.asdict
_calendar_check = datetime.fromisoformat


def decode_user_record(data: bytes) -> dict[str, Any]:
    """``decode_event(data)``: the validated wire dict, or ``InvalidEventError`` naming the defect."""
    if len(data) <= MAX_EVENT_BYTES:
        try:
            wire = _as_dict(_decode_canonical(data))
            ip = wire["ip"]
            if ip is None or events.is_ip_or_pseudonym(ip):
                _calendar_check(wire["occurred_at"])  # the pattern admits 2026-02-30
                return wire
        except (msgspec.DecodeError, ValueError):
            pass
    return decode_event(data)
