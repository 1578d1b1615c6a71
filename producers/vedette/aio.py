"""Use the producer from asyncio code without blocking the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from vedette.events import InteractionEvent
from vedette.exceptions import BufferFullError
from vedette.producer import Producer
from vedette.reports import DeliveryCallback, DeliveryReport

# While the buffer is full, retry put this often instead of blocking a thread.
_BUFFER_FULL_POLL_SECONDS = 0.005


class AsyncProducer:
    """An asyncio face on ``Producer``: the same settings, awaitable put, send, flush and close.

    ``put`` never blocks the loop: when the buffer is full it yields until there is room or
    ``buffer_full_timeout_seconds`` (of this wrapper) passes, then raises ``BufferFullError``.
    """

    def __init__(self, stream_name: str, *, buffer_full_timeout_seconds: float = 0.0, **kwargs: Any) -> None:
        # The wrapped producer must never wait itself: waiting happens here, asynchronously.
        self.producer = Producer(stream_name, buffer_full_timeout_seconds=0.0, **kwargs)
        self.buffer_full_timeout_seconds = buffer_full_timeout_seconds

    async def put(
        self,
        event: Mapping[str, Any] | InteractionEvent,
        *,
        partition_key: str | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> str:
        """Buffer one event; returns its ``event_id``. Delivery happens in the background."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.buffer_full_timeout_seconds
        while True:
            try:
                return self.producer.put(event, partition_key=partition_key, on_delivery=on_delivery)
            except BufferFullError:
                if loop.time() >= deadline:
                    raise
                await asyncio.sleep(_BUFFER_FULL_POLL_SECONDS)

    async def send(
        self, event: Mapping[str, Any] | InteractionEvent, *, partition_key: str | None = None
    ) -> DeliveryReport:
        """Buffer one event and wait for its delivery report (success or the error)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[DeliveryReport] = loop.create_future()

        def settle(report: DeliveryReport) -> None:
            if not future.done():
                future.set_result(report)

        def resolve(report: DeliveryReport) -> None:
            loop.call_soon_threadsafe(settle, report)

        await self.put(event, partition_key=partition_key, on_delivery=resolve)
        return await future

    async def flush(self, timeout: float | None = None) -> int:
        """Send everything buffered; returns how many events are still pending."""
        return await asyncio.to_thread(self.producer.flush, timeout)

    async def close(self, timeout: float | None = None) -> int:
        """Flush and stop; returns the number of events reported failed at close."""
        return await asyncio.to_thread(self.producer.close, timeout)

    @property
    def metrics(self) -> Any:
        return self.producer.metrics

    async def __aenter__(self) -> AsyncProducer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
