"""Vedette: user interaction events into Kinesis, for near-real-time anomaly detection."""

from vedette.aio import AsyncProducer
from vedette.events import (
    CORE_EVENT_TYPES,
    SCHEMA_VERSION,
    InteractionEvent,
    Pseudonymizer,
    WireEvent,
    decode_event,
    encode_event,
    normalize_event,
    parse_event,
    validate_event,
)
from vedette.exceptions import (
    BufferFullError,
    DeliveryFailedError,
    EventTooLargeError,
    InvalidEventError,
    ProducerClosedError,
    RecordExpiredError,
    ShardBacklogFullError,
    VedetteError,
)
from vedette.metrics import InMemoryMetrics, ProducerMetrics
from vedette.producer import Producer, ProducerConfig
from vedette.reports import DeliveryReport
from vedette.signals import flush_on_sigterm
from vedette.spool import SpoolFullError, SpoolLockedError

__version__ = "0.1.0"

__all__ = [
    "CORE_EVENT_TYPES",
    "SCHEMA_VERSION",
    "AsyncProducer",
    "BufferFullError",
    "DeliveryFailedError",
    "DeliveryReport",
    "EventTooLargeError",
    "InMemoryMetrics",
    "InteractionEvent",
    "InvalidEventError",
    "Producer",
    "ProducerClosedError",
    "ProducerConfig",
    "ProducerMetrics",
    "Pseudonymizer",
    "RecordExpiredError",
    "ShardBacklogFullError",
    "SpoolFullError",
    "SpoolLockedError",
    "VedetteError",
    "WireEvent",
    "decode_event",
    "encode_event",
    "flush_on_sigterm",
    "normalize_event",
    "parse_event",
    "validate_event",
]
