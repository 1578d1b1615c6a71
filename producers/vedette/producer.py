"""The producer: validated events into a Kinesis stream, aggregated, batched, retried, rate limited.

``put`` validates and serializes in the caller's thread (errors are synchronous and name the
field), then appends to a bounded buffer and returns. A sender thread routes records to shards,
aggregates them in the KPL format and collects PutRecords calls; a small pool of worker threads
makes the calls. Every accepted record ends in exactly one delivery report: success with its shard
and sequence number, or the error that made it fail (expired TTL, a non-retryable rejection, or
close giving up). Nothing is dropped silently.
"""

from __future__ import annotations

import atexit
import heapq
import itertools
import logging
import math
import random
import threading
import time
import warnings
import weakref
from bisect import bisect_right
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from queue import SimpleQueue
from typing import Any

from vedette import metrics as m
from vedette.collector import Collector, KinesisRecord, PendingRecord
from vedette.deadletter import DeadLetterFile
from vedette.events import InteractionEvent, Pseudonymizer, WireEvent, encode_event, surrogate_reason, validate_event
from vedette.exceptions import (
    BufferFullError,
    DeliveryFailedError,
    InvalidEventError,
    ProducerClosedError,
    RecordExpiredError,
    ShardBacklogFullError,
)
from vedette.limits import (
    KPL_AGGREGATION_MAX_BYTES,
    KPL_RECORD_MAX_BUFFERED_SECONDS,
    KPL_RECORD_TTL_SECONDS,
    MAX_BYTES_PER_PUT,
    MAX_PARTITION_KEY_LENGTH,
    MAX_RECORD_BYTES,
    MAX_RECORDS_PER_PUT,
    MIB,
    put_payload_units,
)
from vedette.pacing import ShardBacklog
from vedette.reports import DeliveryCallback, DeliveryReport
from vedette.shards import ShardMap, cached_hash_key, fetch_shard_map
from vedette.spool import Spool

logger = logging.getLogger("vedette.producer")

# Error codes that a later attempt can succeed after (per entry or for the whole call).
RETRYABLE_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "InternalFailure",
        "InternalFailureException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ThrottlingException",
        "LimitExceededException",
        "KMSThrottlingException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
THROTTLING_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "LimitExceededException",
        "KMSThrottlingException",
    }
)


# The whole limit: the pacing's margin is measured, not guessed (each entry counts against its shard
# from its hand-off until a second after its call's answer, vedette.pacing). Holding back 2 % more
# lost 4.7 points of the stream's byte capacity on loopback (0.878 against 0.925, five paired runs,
# no throttles either way): 21 of the usual 49.7 KB aggregates fit a shard's second, 20 at 98 %.
DEFAULT_RATE_LIMIT_PERCENT = 100.0
# The share of the time to live a shard's backlog may take to drain by default.
DEFAULT_BACKLOG_SHARE_OF_TTL = 1 / 3
# Without answers, shards' drain rates change only as their shares recover (once a second): no
# need to recompute them on every turn of the sender's loop.
BACKLOG_RATES_INTERVAL_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class ProducerConfig:
    """Producer settings; defaults follow the KPL's and Kinesis's limits."""

    stream_name: str
    aggregation: bool = True
    aggregation_max_bytes: int = KPL_AGGREGATION_MAX_BYTES
    linger_seconds: float = KPL_RECORD_MAX_BUFFERED_SECONDS
    max_records_per_put: int = MAX_RECORDS_PER_PUT
    max_bytes_per_put: int = MAX_BYTES_PER_PUT
    # Per-shard cap as a share of 1 MiB/s and 1,000 records/s, as the shard counts them: in any
    # one-second window of arrivals (vedette.pacing, whose accounting of the calls' latency is the
    # margin). Lower it to leave room for another writer that does not adapt.
    rate_limit_percent: float = DEFAULT_RATE_LIMIT_PERCENT
    record_ttl_seconds: float = KPL_RECORD_TTL_SECONDS
    retry_base_delay_seconds: float = 0.1
    retry_max_delay_seconds: float = 5.0
    buffer_max_records: int = 100_000
    buffer_max_bytes: int = 64 * MIB
    # How long one shard's accepted events may take to drain at its current pace before put refuses
    # more for that shard (ShardBacklogFullError): events it cannot send within their time to live
    # are refused at put, not accepted to expire. None: a third of record_ttl_seconds, leaving the
    # rest for retries. math.inf turns the per-shard bound off (only buffer_max_* remain).
    shard_backlog_max_seconds: float | None = None
    # 0 raises BufferFullError (or ShardBacklogFullError) at once when the buffer or the event's
    # shard is full; above 0, put waits that long for room first.
    buffer_full_timeout_seconds: float = 0.0
    max_concurrent_puts: int = 4
    request_timeout_seconds: float = 10.0
    close_timeout_seconds: float = 30.0
    # Where events Kinesis never took are parked as JSON lines (see vedette.deadletter); None keeps
    # them only in the delivery reports.
    dead_letter_path: str | None = None
    # The durable spool (vedette.spool): accepted events on disk until Kinesis acknowledges them,
    # sent again by the next producer that opens the directory. None keeps them in memory only.
    spool_dir: str | None = None
    spool_max_bytes: int = 256 * MIB
    spool_segment_bytes: int = 8 * MIB
    # Group commit: fsync at most this often (0: every event, before put returns). A process crash
    # loses nothing either way; this bounds what a power loss or kernel crash can.
    spool_fsync_interval_seconds: float = 0.1

    def __post_init__(self) -> None:
        def require(condition: bool, name: str, reason: str) -> None:
            if not condition:
                raise ValueError(f"{name}: {reason}")

        require(bool(self.stream_name), "stream_name", "required")
        require(
            1 <= self.aggregation_max_bytes <= MAX_RECORD_BYTES,
            "aggregation_max_bytes",
            f"must be within 1-{MAX_RECORD_BYTES}",
        )
        require(
            1 <= self.max_records_per_put <= MAX_RECORDS_PER_PUT,
            "max_records_per_put",
            f"must be within 1-{MAX_RECORDS_PER_PUT}",
        )
        require(
            self.aggregation_max_bytes <= self.max_bytes_per_put <= MAX_BYTES_PER_PUT,
            "max_bytes_per_put",
            f"must be within aggregation_max_bytes-{MAX_BYTES_PER_PUT}",
        )
        require(self.linger_seconds >= 0, "linger_seconds", "must not be negative")
        require(self.rate_limit_percent > 0, "rate_limit_percent", "must be positive")
        require(self.record_ttl_seconds > 0, "record_ttl_seconds", "must be positive")
        require(
            self.shard_backlog_max_seconds is None or self.shard_backlog_max_seconds > 0,
            "shard_backlog_max_seconds",
            "must be positive (or None)",
        )
        require(self.buffer_max_records > 0, "buffer_max_records", "must be positive")
        require(self.buffer_max_bytes > 0, "buffer_max_bytes", "must be positive")
        require(self.buffer_full_timeout_seconds >= 0, "buffer_full_timeout_seconds", "must not be negative")
        require(self.max_concurrent_puts >= 1, "max_concurrent_puts", "must be at least 1")
        require(self.spool_max_bytes > 0, "spool_max_bytes", "must be positive")
        require(self.spool_segment_bytes > 0, "spool_segment_bytes", "must be positive")
        require(self.spool_fsync_interval_seconds >= 0, "spool_fsync_interval_seconds", "must not be negative")

    @property
    def backlog_max_seconds(self) -> float:
        """``shard_backlog_max_seconds``, with its default resolved."""
        if self.shard_backlog_max_seconds is None:
            return self.record_ttl_seconds * DEFAULT_BACKLOG_SHARE_OF_TTL
        return self.shard_backlog_max_seconds


def make_kinesis_client(config: ProducerConfig, *, endpoint_url: str | None, region_name: str | None) -> Any:
    """A Kinesis client whose own retries are off: the producer retries per record, up to the TTL."""
    import boto3
    from botocore.config import Config

    client_config = Config(
        retries={"total_max_attempts": 1},
        connect_timeout=config.request_timeout_seconds,
        read_timeout=config.request_timeout_seconds,
        max_pool_connections=config.max_concurrent_puts + 2,
    )
    return boto3.session.Session().client(
        "kinesis", endpoint_url=endpoint_url, region_name=region_name, config=client_config
    )


def _is_service_answer(error: BaseException) -> bool:
    """Whether a failed call was answered by the service (as opposed to lost on the way)."""
    from botocore.exceptions import ClientError

    return isinstance(error, ClientError)


def _classify(error: BaseException) -> tuple[str, bool]:
    """The error code of a failed call, and whether retrying it can help."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotocoreConnectionError

    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "ClientError")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code, code in RETRYABLE_ERROR_CODES or status >= 500
    # botocore has two families of transport errors, neither a subclass of the other:
    # ConnectionError (EndpointConnectionError when the connection is refused, ConnectTimeoutError,
    # ProxyConnectionError, SSLError) and HTTPClientError (ConnectionClosedError, ReadTimeoutError,
    # a reset mid-call). Each can clear on a later attempt, like a throttle; one that lasts (a bad
    # certificate) ends as RecordExpiredError carrying it as the last error.
    if isinstance(error, (BotocoreConnectionError, HTTPClientError)):
        return type(error).__name__, True
    return type(error).__name__, False


@dataclass(slots=True)
class _ShardOutcome:
    """What one PutRecords call carried for one shard, and what the shard made of it."""

    sent_bytes: int = 0
    sent_records: int = 0
    stored_bytes: int = 0
    stored_records: int = 0
    throttled: bool = False


@dataclass(frozen=True, slots=True)
class _Answer:
    """A PutRecords call's answer, as the sender's pacers need it."""

    handed_at: float
    answered_at: float
    shards: dict[str, _ShardOutcome]


class _Engine:
    """Everything that runs behind a Producer; the sender thread references this, not the Producer."""

    def __init__(
        self,
        config: ProducerConfig,
        client: Any,
        on_delivery: DeliveryCallback | None,
        metrics: m.ProducerMetrics,
        pseudonymizer: Pseudonymizer | None,
        spool: Spool | None = None,
    ) -> None:
        self.config = config
        self.spool = spool
        self.client = client
        self.on_delivery = on_delivery or _log_failures
        self.dead_letters = DeadLetterFile(config.dead_letter_path) if config.dead_letter_path else None
        self.metrics = metrics
        self.pseudonymizer = pseudonymizer
        self.lock = threading.Lock()
        self.work = threading.Condition(self.lock)  # the sender waits here
        self.space = threading.Condition(self.lock)  # put waits here when the buffer or a shard is full
        self.space_waiters = 0
        self.drained = threading.Condition(self.lock)  # flush waits here
        self.incoming: deque[PendingRecord] = deque()
        self.retries: list[tuple[float, int, KinesisRecord | PendingRecord]] = []
        self.retry_sequence = itertools.count()
        self.buffered_records = 0
        self.buffered_bytes = 0
        self.in_flight = 0
        self.flush_waiters = 0
        self.sender_idle = False
        self.closing = False
        self.stopped = False
        self.shard_map_stale = True
        self.next_shard_map_attempt = 0.0
        self.last_shard_map_error = "shard map not fetched yet"
        self.collector: Collector | None = None
        # Per-shard backlogs, in the order of the shard map's hash key ranges, for put to route to
        # (set by the sender under the lock; empty until the first shard map).
        self.backlog_starts: list[int] = []
        self.backlogs: list[ShardBacklog] = []
        self.backlog_by_shard: dict[str, ShardBacklog] = {}
        self.backlog_max_seconds = config.backlog_max_seconds
        self.backlog_rates_due = 0.0
        # Answers of PutRecords calls, for the sender's pacers (appended by the workers).
        self.answers: list[_Answer] = []
        # Records that arrived while no shard map was available (owned by the sender thread).
        self.held: list[PendingRecord] = []
        # Plain daemon threads, not a ThreadPoolExecutor: executors refuse work once interpreter
        # shutdown starts, and the exit hook still has to flush through these workers.
        self.batches: SimpleQueue[tuple[list[KinesisRecord], float] | None] = SimpleQueue()
        self.workers = [
            threading.Thread(target=self._work_loop, name=f"vedette-put-{index}", daemon=True)
            for index in range(config.max_concurrent_puts)
        ]
        self.sender = threading.Thread(target=self.run, name="vedette-sender", daemon=True)
        for thread in [*self.workers, self.sender]:
            thread.start()

    # --- called from user threads -------------------------------------------------------------

    def enqueue(self, record: PendingRecord) -> None:
        size = len(record.data)
        # What the event adds to its shard's throughput (Kinesis counts the partition key too).
        shard_size = size + len(record.partition_key)
        with self.lock:
            if self.closing:
                raise ProducerClosedError("put after close")
            backlog = self._backlog_of(record)
            refusal = self._refusal(size, shard_size, backlog)
            if refusal is not None:
                backlog = self._wait_for_room(record, size, shard_size, refusal)
            if self.spool is not None:
                # On disk before put returns; under the lock so that a full buffer rejects first.
                record.spool_position = self.spool.append(record.event_id, record.partition_key, record.data)
            if backlog is not None:
                backlog.bytes += shard_size
                backlog.events += 1
                record.backlog_shard = backlog.shard_id
            self.incoming.append(record)
            self.buffered_records += 1
            self.buffered_bytes += size
            # Wake the sender only when it sleeps with nothing scheduled, or the backlog grows.
            if self.sender_idle or len(self.incoming) & 4095 == 0:
                self.sender_idle = False
                self.work.notify()

    def restore(self, records: list[PendingRecord]) -> None:
        """Queue events recovered from the spool: already accepted, so past the buffer's bounds."""
        with self.lock:
            self.incoming.extend(records)
            self.buffered_records += len(records)
            self.buffered_bytes += sum(len(record.data) for record in records)
            self.work.notify()

    def _backlog_of(self, record: PendingRecord) -> ShardBacklog | None:
        """The backlog of the shard the record routes to; None before the first shard map."""
        if not self.backlogs:
            return None
        return self.backlogs[bisect_right(self.backlog_starts, record.hash_key) - 1]

    def _refusal(self, size: int, shard_size: int, backlog: ShardBacklog | None) -> BufferFullError | None:
        """Why an event cannot be accepted now, or None."""
        config = self.config
        if self.buffered_records >= config.buffer_max_records or self.buffered_bytes + size > config.buffer_max_bytes:
            return BufferFullError(
                f"producer buffer full ({self.buffered_records} records, {self.buffered_bytes} bytes; "
                f"limits {config.buffer_max_records} records, {config.buffer_max_bytes} bytes)"
            )
        if backlog is not None and not backlog.has_room(shard_size, self.backlog_max_seconds):
            return ShardBacklogFullError(
                backlog.shard_id, backlog.seconds_to_drain(shard_size), self.backlog_max_seconds
            )
        return None

    def _wait_for_room(
        self, record: PendingRecord, size: int, shard_size: int, refusal: BufferFullError
    ) -> ShardBacklog | None:
        """Wait up to ``buffer_full_timeout_seconds`` for room, then raise why there is none.

        Waiting releases the lock: puts for other shards go on meanwhile. Returns the backlog the
        record routes to once there is room (the shard map may have changed)."""
        deadline = time.monotonic() + self.config.buffer_full_timeout_seconds
        self.space_waiters += 1
        try:
            while True:
                remaining = deadline - time.monotonic()
                if self.closing:
                    raise ProducerClosedError("put after close")
                if remaining <= 0:
                    raise refusal
                self.space.wait(remaining)
                backlog = self._backlog_of(record)
                next_refusal = self._refusal(size, shard_size, backlog)
                if next_refusal is None:
                    break
                refusal = next_refusal
        finally:
            self.space_waiters -= 1
        # The time to live starts once the event is accepted, not while put waited for room.
        record.enqueued_at = time.monotonic()
        record.deadline = record.enqueued_at + self.config.record_ttl_seconds
        return backlog

    def flush(self, timeout: float | None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.lock:
            self.flush_waiters += 1
            self.work.notify()
            try:
                while self.buffered_records:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        break
                    self.drained.wait(remaining)
                return self.buffered_records
            finally:
                self.flush_waiters -= 1

    def close(self, timeout: float | None) -> int:
        with self.lock:
            if self.stopped:
                return 0
            self.closing = True
            self.space.notify_all()
        self.flush(timeout)
        with self.lock:
            self.stopped = True
            self.work.notify()
        self.sender.join()
        for _ in self.workers:
            self.batches.put(None)
        for worker in self.workers:
            worker.join()
        # Whatever the flush could not deliver in time is reported, not dropped.
        leftovers = [*self.held, *self.incoming]
        self.held.clear()
        self.incoming.clear()
        leftovers.extend(record for _, _, item in self.retries for record in _members(item))
        self.retries.clear()
        if self.collector is not None:
            leftovers.extend(self.collector.drain())
        if leftovers:
            logger.error("producer closed with %d undelivered record(s); reporting them failed", len(leftovers))
        message = "producer closed before the record was delivered"
        if self.spool is not None:
            message += f"; it stays in the spool {self.spool.directory} for the next producer that opens it"
        for record in leftovers:
            self._fail(record, ProducerClosedError(message))
        if self.spool is not None:
            self.spool.close()
        return len(leftovers)

    # --- the sender thread --------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._loop()
        except Exception:  # pragma: no cover - a bug; make it loud rather than hang flush forever
            logger.exception("vedette sender thread crashed")
            raise

    def _loop(self) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                timeout = self._sleep_time(now)
                if timeout > 0 and not self.stopped:
                    self.sender_idle = timeout >= self.config.linger_seconds
                    self.work.wait(None if timeout == float("inf") else timeout)
                    self.sender_idle = False
                if self.stopped:
                    return
                incoming = self.incoming
                self.incoming = deque()
                now = time.monotonic()
                due = []
                while self.retries and self.retries[0][0] <= now:
                    due.append(heapq.heappop(self.retries)[2])
                force = self.flush_waiters > 0 or self.closing
                answers = self.answers
                self.answers = []
            if incoming:
                self.metrics.count(m.EVENTS, len(incoming))
                self.metrics.count(m.EVENT_BYTES, sum(len(record.data) for record in incoming))
            if self.shard_map_stale and now >= self.next_shard_map_attempt:
                self._refresh_shard_map(now)
            collector = self.collector
            if collector is not None and answers:
                self._apply_answers(collector, answers)
            if collector is None or self.shard_map_stale:
                self._hold(itertools.chain(self.held, incoming, (r for item in due for r in _members(item))), now)
                continue
            if answers or now >= self.backlog_rates_due:
                self._update_backlog_rates(collector, now)
                self.backlog_rates_due = now + BACKLOG_RATES_INTERVAL_SECONDS
            if self.held:
                for record in self.held:
                    collector.add(record)
                self.held = []
            for record in incoming:
                collector.add(record)
            for item in due:
                self._resume(collector, item, now)
            collector.close_due(now, force)
            self._submit_ready(collector, now, force)

    def _sleep_time(self, now: float) -> float:
        forced = bool(self.flush_waiters or self.closing)
        if self.collector is None or self.shard_map_stale:
            # Poll gently until the shard map can be fetched; held records may expire meanwhile.
            waiting = self.incoming or self.held or self.retries or forced
            return max(0.0, self.next_shard_map_attempt - now) if waiting else float("inf")
        if self.incoming and forced:
            return 0.0
        candidates = [float("inf")]
        if self.incoming:
            candidates.append(self.config.linger_seconds / 4)
        if self.retries:
            candidates.append(self.retries[0][0] - now)
        if self.in_flight < self.config.max_concurrent_puts:
            deadline = self.collector.next_deadline(now, forced)
            if deadline is not None:
                candidates.append(deadline - now)
        return max(0.0, min(candidates))

    def _refresh_shard_map(self, now: float) -> None:
        try:
            shard_map = fetch_shard_map(self.client, self.config.stream_name)
        except Exception as error:  # noqa: BLE001 - any failure means: keep records, try later
            code, _ = _classify(error)
            logger.warning("cannot list shards of %s (%s); records stay buffered", self.config.stream_name, code)
            self.last_shard_map_error = f"{code}: {error}"
            self.next_shard_map_attempt = now + self.config.retry_max_delay_seconds / 10
            return
        config = self.config
        if self.collector is not None:
            self.held.extend(self.collector.drain())
        self.collector = Collector(
            shard_map,
            aggregate=config.aggregation,
            aggregation_max_bytes=config.aggregation_max_bytes,
            max_records_per_put=config.max_records_per_put,
            max_bytes_per_put=config.max_bytes_per_put,
            linger_seconds=config.linger_seconds,
            rate_limit_percent=config.rate_limit_percent,
            now=now,
        )
        self._route_puts(shard_map)
        self.shard_map_stale = False
        logger.info("stream %s: %d open shard(s)", config.stream_name, len(shard_map.shards))

    def _route_puts(self, shard_map: ShardMap) -> None:
        """Give put the new map's shard backlogs; a shard that stays open keeps its count."""
        with self.lock:
            backlogs = [
                self.backlog_by_shard.get(shard.shard_id) or ShardBacklog(shard.shard_id) for shard in shard_map.shards
            ]
            # Closed shards' backlogs stay until their events are reported.
            self.backlog_by_shard.update((backlog.shard_id, backlog) for backlog in backlogs)
            self.backlog_starts = [shard.starting_hash_key for shard in shard_map.shards]
            self.backlogs = backlogs

    def _apply_answers(self, collector: Collector, answers: list[_Answer]) -> None:
        for answer in answers:
            for shard_id, outcome in answer.shards.items():
                pacer = collector.pacers.get(shard_id)
                if pacer is not None:  # else a shard of a map replaced since the call
                    pacer.answered(
                        outcome.sent_bytes,
                        outcome.sent_records,
                        outcome.stored_bytes,
                        outcome.stored_records,
                        outcome.throttled,
                        answer.handed_at,
                        answer.answered_at,
                    )

    def _update_backlog_rates(self, collector: Collector, now: float) -> None:
        """Tell put how fast each shard drains now (its pace, adapted to throttles and latency)."""
        aggregated = self.config.aggregation
        grew = False
        for backlog in self.backlogs:
            pacer = collector.pacers.get(backlog.shard_id)
            if pacer is None:
                continue
            pacer.advance(now)
            bytes_per_second = pacer.drain_bytes_per_second()
            # Aggregated, a shard's events fill 50 KiB records: its byte limit binds long before
            # its record limit. One event a record, both bind.
            events_per_second = math.inf if aggregated else pacer.drain_records_per_second()
            grew |= bytes_per_second > backlog.bytes_per_second or events_per_second > backlog.events_per_second
            backlog.bytes_per_second = bytes_per_second
            backlog.events_per_second = events_per_second
        if grew and self.space_waiters:
            with self.lock:
                self.space.notify_all()

    def _hold(self, records: Iterable[PendingRecord], now: float) -> None:
        """No usable shard map: report what is past its TTL, keep the rest for the next attempt."""
        keep = []
        for record in records:
            if record.deadline <= now:
                self._fail(record, RecordExpiredError(record.attempts, record.last_error or self.last_shard_map_error))
            else:
                keep.append(record)
        self.held = keep

    def _resume(self, collector: Collector, item: KinesisRecord | PendingRecord, now: float) -> None:
        """Bring back a record whose retry is due: as is, or re-routed if its members changed."""
        members = _members(item)
        live = []
        for record in members:
            if record.deadline <= now:
                self._fail(record, RecordExpiredError(record.attempts, record.last_error))
            else:
                live.append(record)
        if isinstance(item, KinesisRecord) and len(live) == len(members) and collector.knows(item.shard):
            collector.requeue(item)
        else:
            for record in live:
                collector.add(record)

    def _submit_ready(self, collector: Collector, now: float, force: bool) -> None:
        while self.in_flight < self.config.max_concurrent_puts and collector.should_send(now, force):
            batch = collector.take_batch(now)
            if not batch:
                return  # every shard with ready records is out of budget for now
            with self.lock:
                self.in_flight += 1
            self.batches.put((batch, now))

    # --- worker threads -----------------------------------------------------------------------

    def _work_loop(self) -> None:
        while (work := self.batches.get()) is not None:
            self._put_records(*work)

    def _put_records(self, batch: list[KinesisRecord], handed_at: float) -> None:
        started = time.monotonic()
        outcomes: dict[str, _ShardOutcome] = {}
        for record in batch:
            outcome = outcomes.get(record.shard.shard_id)
            if outcome is None:
                outcome = outcomes[record.shard.shard_id] = _ShardOutcome()
            outcome.sent_bytes += record.size
            outcome.sent_records += 1
        answered_at = 0.0
        try:
            response = self.client.put_records(
                StreamName=self.config.stream_name, Records=[record.entry() for record in batch]
            )
        except Exception as error:  # noqa: BLE001 - classified below; nothing escapes unreported
            answered_at = time.monotonic()
            code, retryable = _classify(error)
            self.metrics.count(m.PUT_CALLS)
            throttled = code in THROTTLING_ERROR_CODES
            if throttled:
                self.metrics.count(m.THROTTLES, len(batch))
            # An answer from Kinesis means it stored nothing; without one (a connection lost, a
            # timeout), the records may have arrived, and are counted as arrived.
            answered = _is_service_answer(error)
            for outcome in outcomes.values():
                outcome.throttled = throttled
                if not answered:
                    outcome.stored_bytes, outcome.stored_records = outcome.sent_bytes, outcome.sent_records
            for record in batch:
                self._after_failure(record, code, str(error), retryable)
        else:
            # Nothing arrives after its answer: the pacer need not count the time spent on results.
            answered_at = time.monotonic()
            self.metrics.count(m.PUT_CALLS)
            self.metrics.observe(m.PUT_LATENCY_MS, (answered_at - started) * 1000)
            results = response.get("Records", [])
            if len(results) != len(batch):
                for record in batch:
                    self._after_failure(record, "MalformedResponse", f"{len(results)} results for {len(batch)}", True)
            else:
                for record, result in zip(batch, results, strict=True):
                    outcome = outcomes[record.shard.shard_id]
                    code = result.get("ErrorCode")
                    if not code:
                        outcome.stored_bytes += record.size
                        outcome.stored_records += 1
                    elif code in THROTTLING_ERROR_CODES:
                        outcome.throttled = True
                    self._handle_result(record, result)
        finally:
            answer = _Answer(handed_at, answered_at or time.monotonic(), outcomes)
            with self.lock:
                self.answers.append(answer)
                self.in_flight -= 1
                self.work.notify()

    def _handle_result(self, record: KinesisRecord, result: Mapping[str, Any]) -> None:
        code = result.get("ErrorCode")
        if code:
            if code in THROTTLING_ERROR_CODES:
                self.metrics.count(m.THROTTLES)
            self._after_failure(record, code, result.get("ErrorMessage", ""), code in RETRYABLE_ERROR_CODES)
            return
        shard_id = result["ShardId"]
        if record.aggregated and shard_id != record.shard.shard_id:
            # The stream was resharded: this aggregate's user records may belong to another shard,
            # where the KCL would drop them. Refresh the map and send them again (the KPL does too);
            # event_id lets consumers drop the duplicates.
            self.metrics.count(m.WRONG_SHARD)
            self.shard_map_stale = True
            for member in record.members:
                member.attempts += 1
                member.last_error = f"landed on {shard_id}, predicted {record.shard.shard_id}"
            self._schedule_retry(list(record.members), 0.0)
            return
        sequence_number = result["SequenceNumber"]
        self.metrics.count(m.KINESIS_RECORDS)
        self.metrics.count(m.KINESIS_BYTES, record.size)
        self.metrics.count(m.PUT_PAYLOAD_UNITS, put_payload_units(record.size))
        self.metrics.count(m.DELIVERED, len(record.members))
        if self.spool is not None:
            self._release(self.spool, [member.spool_position for member in record.members])
        aggregated = record.aggregated
        for index, member in enumerate(record.members):
            self._report(
                member,
                DeliveryReport(
                    member.event_id,
                    member.partition_key,
                    None,
                    shard_id,
                    sequence_number,
                    index if aggregated else None,
                    member.attempts + 1,
                    member.data,
                ),
            )
        self._forget(record.members)

    def _after_failure(self, record: KinesisRecord, code: str, message: str, retryable: bool) -> None:
        if not retryable:
            for member in record.members:
                member.attempts += 1
                self._fail(member, DeliveryFailedError(code, message))
            return
        attempts = 0
        for member in record.members:
            member.attempts += 1
            member.last_error = f"{code}: {message}"
            attempts = max(attempts, member.attempts)
        config = self.config
        # Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter").
        ceiling = min(config.retry_max_delay_seconds, config.retry_base_delay_seconds * 2 ** (attempts - 1))
        self.metrics.count(m.RETRIES)
        self._schedule_retry(record, random.uniform(0, ceiling))

    def _schedule_retry(self, item: KinesisRecord | list[PendingRecord], delay: float) -> None:
        due_at = time.monotonic() + delay
        with self.lock:
            if isinstance(item, list):
                for record in item:
                    heapq.heappush(self.retries, (due_at, next(self.retry_sequence), record))
            else:
                heapq.heappush(self.retries, (due_at, next(self.retry_sequence), item))
            self.work.notify()

    # --- outcomes -----------------------------------------------------------------------------

    def _fail(self, record: PendingRecord, error: Exception) -> None:
        self.metrics.count(m.FAILED)
        report = DeliveryReport(
            record.event_id, record.partition_key, error, attempts=record.attempts, data=record.data
        )
        # Closed with the event undelivered: a spool keeps it for the next producer, so it is not
        # parked (a replay would send it a second time). Any other failure is final: parked, then
        # released from the spool.
        spooled = self.spool is not None and isinstance(error, ProducerClosedError)
        if self.dead_letters is not None and not spooled:
            try:
                self.dead_letters.write(report)
            except OSError:
                logger.exception("could not park event %s in %s", record.event_id, self.dead_letters.path)
        self._report(record, report)
        self._forget([record])
        if self.spool is not None and not spooled:
            self._release(self.spool, [record.spool_position])

    @staticmethod
    def _release(spool: Spool, positions: list[int]) -> None:
        try:
            spool.release(positions)
        except OSError:
            # Kinesis has the events; the next producer to open the spool sends them again.
            logger.exception("could not acknowledge %d event(s) in the spool %s", len(positions), spool.directory)

    def _report(self, record: PendingRecord, report: DeliveryReport) -> None:
        callback = record.callback or self.on_delivery
        try:
            callback(report)
        except Exception:
            logger.exception("delivery callback raised for event %s", record.event_id)

    def _forget(self, records: list[PendingRecord]) -> None:
        """Reported records leave the buffer and their shard's backlog (one lock for an aggregate)."""
        with self.lock:
            for record in records:
                self.buffered_records -= 1
                self.buffered_bytes -= len(record.data)
                if record.backlog_shard:
                    backlog = self.backlog_by_shard[record.backlog_shard]
                    backlog.bytes -= len(record.data) + len(record.partition_key)
                    backlog.events -= 1
            if self.space_waiters:
                self.space.notify_all()
            if not self.buffered_records:
                self.drained.notify_all()


def _members(item: KinesisRecord | PendingRecord) -> list[PendingRecord]:
    return item.members if isinstance(item, KinesisRecord) else [item]


def _log_failures(report: DeliveryReport) -> None:
    if report.error is not None:
        logger.error("event %s (key %s) not delivered: %s", report.event_id, report.partition_key, report.error)


_LIVE_ENGINES: weakref.WeakSet[_Engine] = weakref.WeakSet()


@atexit.register
def _close_live_engines() -> None:
    # At interpreter exit, a producer nobody closed still gets its flush; what cannot be delivered
    # within its close timeout is reported failed, never lost without a word.
    for engine in list(_LIVE_ENGINES):
        engine.close(engine.config.close_timeout_seconds)


def close_all_producers(timeout: float) -> int:
    """Close every producer of this process at once, all within ``timeout`` seconds.

    Returns how many events were not delivered in time (each reported ``ProducerClosedError``).
    Used by ``vedette.signals.flush_on_sigterm``.
    """
    engines = list(_LIVE_ENGINES)
    undelivered = [0] * len(engines)

    def close(index: int, engine: _Engine) -> None:
        undelivered[index] = engine.close(timeout)
        _LIVE_ENGINES.discard(engine)

    threads = [
        threading.Thread(target=close, args=(index, engine), name="vedette-close")
        for index, engine in enumerate(engines)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(undelivered)


def prepare_record(
    event: Mapping[str, Any] | InteractionEvent,
    partition_key: str | None,
    on_delivery: DeliveryCallback | None,
    pseudonymizer: Pseudonymizer | None,
    now: float,
    ttl_seconds: float,
) -> PendingRecord:
    """Everything ``put`` does before buffering: validate, pseudonymize, serialize, hash the key."""
    wire: WireEvent = validate_event(event.to_wire() if isinstance(event, InteractionEvent) else event)
    if pseudonymizer is not None:
        pseudonymizer.apply(wire)
    data = encode_event(wire)
    if partition_key is None:
        key = wire.user_id  # valid as a key: the contract's limits on user_id are the partition key's
    elif type(partition_key) is str and 1 <= len(partition_key) <= MAX_PARTITION_KEY_LENGTH:
        key = partition_key
    else:
        raise InvalidEventError("partition_key", f"must be a string of 1-{MAX_PARTITION_KEY_LENGTH} characters")
    try:
        hash_key = cached_hash_key(key)
    except UnicodeEncodeError as error:
        raise InvalidEventError("partition_key", surrogate_reason(error)) from None
    return PendingRecord(data, key, hash_key, wire.event_id, on_delivery, now, now + ttl_seconds)  # type: ignore[arg-type]


class Producer:
    """Puts interaction events into a Kinesis stream.

    ::

        producer = Producer("vedette-events")
        producer.put({"user_id": "u-42", "event_type": "login_failed", "ip": "203.0.113.9"})
        producer.close()

    Thread-safe. ``put`` costs microseconds and never does I/O; delivery happens in the
    background and ends in one ``DeliveryReport`` per event, passed to ``on_delivery`` (the
    per-put callback, else the producer's; by default failures are logged at ERROR).

    Settings are the fields of ``ProducerConfig``. Pass ``client`` to use your own Kinesis client
    (its own retries should be off), or ``endpoint_url``/``region_name`` for the one made here.
    """

    def __init__(
        self,
        stream_name: str,
        *,
        client: Any = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        on_delivery: DeliveryCallback | None = None,
        metrics: m.ProducerMetrics | None = None,
        pseudonymizer: Pseudonymizer | None = None,
        **settings: Any,
    ) -> None:
        known = {item.name for item in fields(ProducerConfig)}
        unknown = set(settings) - known
        if unknown:
            raise TypeError(f"unknown producer setting(s) {sorted(unknown)}; see ProducerConfig")
        self.config = ProducerConfig(stream_name=stream_name, **settings)
        self.metrics = metrics if metrics is not None else m.InMemoryMetrics()
        if client is None:
            client = make_kinesis_client(self.config, endpoint_url=endpoint_url, region_name=region_name)
        self._pseudonymizer = pseudonymizer
        self._ttl = self.config.record_ttl_seconds
        config = self.config
        spool = None
        if config.spool_dir is not None:
            spool = Spool(
                config.spool_dir,
                max_bytes=config.spool_max_bytes,
                segment_bytes=config.spool_segment_bytes,
                fsync_interval=config.spool_fsync_interval_seconds,
            )
        self._engine = _Engine(config, client, on_delivery, self.metrics, pseudonymizer, spool)
        _LIVE_ENGINES.add(self._engine)
        self._closed = False
        if spool is not None and spool.recovered:
            now = time.monotonic()
            self._engine.restore(
                [
                    PendingRecord(
                        event.data,
                        event.partition_key,
                        cached_hash_key(event.partition_key),
                        event.event_id,
                        None,
                        now,
                        now + self._ttl,
                        spool_position=event.position,
                    )
                    for event in spool.recovered
                ]
            )
            spool.recovered = []

    def put(
        self,
        event: Mapping[str, Any] | InteractionEvent,
        *,
        partition_key: str | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> str:
        """Validate, serialize and buffer one event; returns its ``event_id``.

        Raises ``InvalidEventError`` (nothing buffered) for an event that breaks the contract,
        ``BufferFullError`` when the buffer stays full past ``buffer_full_timeout_seconds``,
        ``ShardBacklogFullError`` (a ``BufferFullError``) when the event's shard could not send it
        in time (its backlog would take over ``shard_backlog_max_seconds`` to drain) for as long,
        ``SpoolFullError`` (a ``BufferFullError``) when the spool holds ``spool_max_bytes``, and
        ``ProducerClosedError`` after ``close``. With ``spool_dir``, the event is written to the
        spool before this returns.
        """
        record = prepare_record(event, partition_key, on_delivery, self._pseudonymizer, time.monotonic(), self._ttl)
        self._engine.enqueue(record)
        return record.event_id

    def flush(self, timeout: float | None = None) -> int:
        """Send everything buffered now and wait; returns how many events are still pending."""
        return self._engine.flush(timeout)

    def close(self, timeout: float | None = None) -> int:
        """Flush, stop the background threads, and report anything still pending as failed.

        Returns the number of events that were not delivered within ``timeout`` (default:
        ``close_timeout_seconds``); each of them got a ``ProducerClosedError`` report.
        """
        self._closed = True
        _LIVE_ENGINES.discard(self._engine)
        return self._engine.close(self.config.close_timeout_seconds if timeout is None else timeout)

    @property
    def pending(self) -> int:
        """Events accepted and not yet delivered or failed."""
        return self._engine.buffered_records

    def __enter__(self) -> Producer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_closed", True) or self._engine.stopped:
            return
        warnings.warn(
            f"Producer for {self.config.stream_name!r} was garbage-collected unclosed with "
            f"{self._engine.buffered_records} event(s) pending; call close() or use 'with'",
            ResourceWarning,
            stacklevel=2,
        )
        # The engine stays registered, so the exit hook still flushes and reports what it holds.
