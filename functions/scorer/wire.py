"""Decoding user records: the event contract's ``decode_event``, under the name the scorer uses.

The contract (``vedette.events``) decodes with msgspec against the same ``WireEvent`` the producer
validates and encodes with, so the scorer reads exactly what producers may write.
"""

from __future__ import annotations

from vedette.events import decode_event

decode_user_record = decode_event

__all__ = ["decode_user_record"]
