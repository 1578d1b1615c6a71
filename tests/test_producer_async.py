"""The asyncio face of the producer."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.conftest import make_event, read_stream
from vedette.aio import AsyncProducer
from vedette.exceptions import BufferFullError


def test_async_send_returns_the_delivery_report_and_put_does_not_block(kinesis_endpoint, kinesis, make_stream):
    stream = make_stream(2)

    async def service() -> tuple[list[str], object]:
        async with AsyncProducer(stream, endpoint_url=kinesis_endpoint, region_name="us-east-1") as producer:
            ids = [await producer.put(make_event(n)) for n in range(500)]
            report = await producer.send(make_event(999))
            return [*ids, report.event_id], report

    ids, report = asyncio.run(service())
    assert report.ok
    assert report.sequence_number
    stored = {json.loads(record.data)["event_id"] for record in read_stream(kinesis, stream)}
    assert stored == set(ids)


def test_async_put_waits_for_room_without_blocking_the_loop_then_raises(kinesis_endpoint):
    async def service() -> int:
        producer = AsyncProducer(
            "no-such-stream",
            endpoint_url=kinesis_endpoint,
            region_name="us-east-1",
            buffer_max_records=5,
            # Long enough that a machine busy with other tests, which can leave this process without
            # a core for a few hundred milliseconds, still sees the loop tick while put waits.
            buffer_full_timeout_seconds=1.0,
            record_ttl_seconds=5,
        )
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        for n in range(5):
            await producer.put(make_event(n))
        with pytest.raises(BufferFullError):
            await producer.put(make_event(5))
        task.cancel()
        await producer.close(timeout=0.1)
        return ticks

    # The loop kept running while put waited for room (a tick each 10 ms of the second it waited).
    assert asyncio.run(service()) >= 10
