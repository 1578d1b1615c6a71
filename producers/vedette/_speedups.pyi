from collections.abc import Callable
from typing import Any

def encode_canonical_event(raw: object, /) -> bytes | None: ...
def configure_events(
    fields: tuple[str, ...],
    schema_version: int,
    is_ip_or_pseudonym: Callable[[str], bool],
    *,
    new_event_id: Callable[[], str],
    now: Callable[[], str],
    max_event_bytes: int,
    max_properties_bytes: int,
    max_properties: int,
    max_property_key_length: int,
    max_id_length: int,
    max_user_agent_length: int,
    max_resource_length: int,
    max_outcome_length: int,
    max_event_type_length: int,
    min_status_code: int,
    max_status_code: int,
) -> None: ...

class AggregateBuilder:
    max_bytes: int
    size: int
    count: int
    partition_key: str
    def __init__(self, max_bytes: int = ...) -> None: ...
    def try_add(self, partition_key: str, data: bytes, /) -> bool: ...
    def build(self) -> bytes: ...

class PendingRecord:
    data: bytes
    partition_key: str
    hash_key: int
    event_id: str
    callback: Callable[..., None] | None
    enqueued_at: float
    deadline: float
    attempts: int
    last_error: str
    def __init__(
        self,
        data: bytes,
        partition_key: str,
        hash_key: int,
        event_id: str,
        callback: Callable[..., None] | None,
        enqueued_at: float,
        deadline: float,
    ) -> None: ...

class CallbackPendingRecord:  # the same fields as PendingRecord; a sibling type, not a subclass
    data: bytes
    partition_key: str
    hash_key: int
    event_id: str
    callback: Callable[..., None] | None
    enqueued_at: float
    deadline: float
    attempts: int
    last_error: str

def configure_records(
    hash_key_memo: dict[str, int],
    *,
    cached_hash_key: Callable[[str], int],
    prepare_record_in_python: Callable[..., Any],
    max_partition_key_length: int,
) -> None: ...
def prepare_record(
    event: object,
    partition_key: str | None,
    on_delivery: Callable[..., None] | None,
    pseudonymizer: object,
    now: float,
    ttl_seconds: float,
    /,
) -> Any: ...
def prepare_canonical_record(
    event: object,
    partition_key: str | None,
    on_delivery: Callable[..., None] | None,
    enqueued_at: float,
    deadline: float,
    /,
) -> PendingRecord | None: ...
