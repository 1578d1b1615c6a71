"""What one request says about itself: its client, its method, its outcome and its type.

The event types are the contract's own (``vedette.schema``: standard library only, which the model
artifact ships beside this package).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model.enrichment import AgentInfo
from model.features.events import WRITE_METHODS
from vedette.schema import CORE_EVENT_TYPES

REQUEST_COLUMNS = (
    # The client, as maintained user-agent parsers see it (model.user_agents; all 0 without one)
    "agent_known_bot",
    "agent_headless",
    "agent_http_library",
    "agent_unrecognised",
    "write_method",
    # Outcome
    "failure",
    "status_missing",
    "status_2xx",
    "status_3xx",
    "status_4xx",
    "status_5xx",
    # Event type one-hot over the core vocabulary, then everything else
    *(f"event_{name}" for name in CORE_EVENT_TYPES),
    "event_other",
)
_NO_AGENT = (0.0, 0.0, 0.0, 0.0)
_TYPE_ONEHOT = {
    name: tuple(1.0 if index == position else 0.0 for index in range(len(CORE_EVENT_TYPES) + 1))
    for position, name in enumerate(CORE_EVENT_TYPES)
}
_OTHER_TYPE_ONEHOT = (*(0.0 for _ in CORE_EVENT_TYPES), 1.0)


def request_columns(
    event_type: str,
    status: Any,
    status_class: int,
    failure: bool,
    info: AgentInfo | None,
    properties: Any,
) -> tuple[float, ...]:
    """The ``REQUEST_COLUMNS`` of one event (``status_class`` and ``failure`` as ``model.features.events``;
    ``info``: its agent as the agent lookup reads it, None without an agent or a lookup)."""
    if info is not None:
        client = (
            1.0 if info.known_bot else 0.0,
            1.0 if info.headless else 0.0,
            1.0 if info.http_library else 0.0,
            1.0 if info.unrecognised else 0.0,
        )
    else:
        client = _NO_AGENT
    method = properties.get("method") if isinstance(properties, Mapping) else None
    return (
        *client,
        1.0 if isinstance(method, str) and method.lower() in WRITE_METHODS else 0.0,
        1.0 if failure else 0.0,
        1.0 if status is None else 0.0,
        1.0 if status_class == 2 else 0.0,
        1.0 if status_class == 3 else 0.0,
        1.0 if status_class == 4 else 0.0,
        1.0 if status_class == 5 else 0.0,
        *_TYPE_ONEHOT.get(event_type, _OTHER_TYPE_ONEHOT),
    )
