"""The event contract's names and limits, defined once.

``vedette.events`` builds the contract's msgspec types from these; the model's features import
``CORE_EVENT_TYPES`` from here. This module needs nothing beyond the standard library and runs on
the SageMaker scikit-learn container's Python (3.10), so the model artifact ships it as it is
(``model.artifact``) rather than a copy of the vocabulary.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

# The documented core vocabulary, in the fixed order of the model's one-hot columns; other
# snake_case event types are allowed (open vocabulary).
CORE_EVENT_TYPES = (
    "login_succeeded",
    "login_failed",
    "logout",
    "page_view",
    "search",
    "click",
    "add_to_cart",
    "purchase",
    "password_reset",
    "api_call",
)

# The wire's fields, in the order every event is written.
FIELDS = (
    "schema_version",
    "event_id",
    "occurred_at",
    "event_type",
    "user_id",
    "session_id",
    "ip",
    "user_agent",
    "resource",
    "status",
    "properties",
)

MAX_EVENT_BYTES = 16 * 1024
MAX_PROPERTIES_BYTES = 4 * 1024
MAX_PROPERTIES = 64
MAX_PROPERTY_KEY_LENGTH = 64
# user_id is the partition key, and Kinesis partition keys are at most 256 characters.
MAX_ID_LENGTH = 256
MAX_RESOURCE_LENGTH = 2048
MAX_USER_AGENT_LENGTH = 1024
MAX_OUTCOME_LENGTH = 64
MAX_EVENT_TYPE_LENGTH = 64
MIN_STATUS_CODE = 100
MAX_STATUS_CODE = 599
# JSON numbers beyond 64 bits lose precision in most consumers: signed or unsigned 64-bit integers.
MIN_INTEGER = -(2**63)
MAX_INTEGER = 2**64 - 1

PSEUDONYM_PREFIX = "hmac:"
PSEUDONYM_HEX_CHARS = 32

EVENT_TYPE_PATTERN = rf"[a-z][a-z0-9_]{{0,{MAX_EVENT_TYPE_LENGTH - 1}}}"
# The shapes the producer writes; other accepted forms are normalized to them. Each is a layout:
# every "0" stands for one character of the class (a lowercase hex digit in the UUID; in the time an
# ASCII digit, not any script's), every other character for itself.
CANONICAL_UUID_LAYOUT = "00000000-0000-0000-0000-000000000000"
CANONICAL_UUID_CHARACTERS = "0123456789abcdef"
CANONICAL_TIMESTAMP_LAYOUT = "0000-00-00T00:00:00.000000Z"
CANONICAL_TIMESTAMP_CHARACTERS = "0123456789"
PSEUDONYM_PATTERN = rf"{PSEUDONYM_PREFIX}[0-9a-f]{{{PSEUDONYM_HEX_CHARS}}}"
