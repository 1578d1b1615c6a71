"""The durable spool (setting ``spool_dir``): accepted events on disk until Kinesis has them.

Shaped after Fluent Bit's filesystem buffering (chunks of records with a CRC-32, deleted once
delivered, a total size limit) and Vector's disk buffers (append-only data files, acknowledgements
kept apart, a data file deleted once every record in it is acknowledged); the KPL has none.

Layout of the directory::

    lock                        held (flock) by the one producer using the directory; its pid
    00000000000000000000.seg    a segment: the frames of accepted events, appended in order
    00000000000000000000.ack    the indexes, within that segment, of the events no longer owed

Every frame is ``length (u32) | CRC-32 of the payload (u32) | payload``. A segment frame's payload
is ``event_id length (u8) | partition key length (u16) | event_id | partition key | event bytes``;
an ack frame's payload is a run of u32 indexes. Reading stops at the first frame that is cut short
or fails its checksum: a write torn by a crash is dropped, never misread.

``put`` appends the event's frame with one ``write`` before it returns, so a process crash (SIGKILL
included) cannot lose it: the kernel has it. ``fsync`` runs at most every
``spool_fsync_interval_seconds`` in a background thread (group commit), which bounds what a power
loss or kernel crash can lose; 0 syncs every event before ``put`` returns. An event is acknowledged
in the ack file once Kinesis stored it (or it was reported failed for good: expired, or rejected);
a segment whose events are all acknowledged is deleted when the next one is started. The next
producer to open the directory sends again exactly the events not acknowledged, with their
``event_id``. What it sends twice is the in-flight window: events Kinesis stored whose
acknowledgement had not reached the ack file when the process died.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from vedette.exceptions import BufferFullError, VedetteError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger("vedette.spool")

FRAME_HEAD = struct.Struct("<II")  # payload length, CRC-32 of the payload
EVENT_HEAD = struct.Struct("<BH")  # event_id length, partition key length
ACK_INDEX = struct.Struct("<I")
LOCK_FILE = "lock"
SEGMENT_SUFFIX = ".seg"
ACK_SUFFIX = ".ack"
# Directory syncs (new and deleted segments) are rare; acknowledgements are synced this often at
# least, also when events are synced on every put.
ACK_SYNC_SECONDS = 1.0


class SpoolFullError(BufferFullError):
    """The spool directory holds ``spool_max_bytes`` of unacknowledged events; nothing was accepted."""


class SpoolLockedError(VedetteError):
    """Another producer (in this or another process) uses the spool directory."""


@dataclass(frozen=True, slots=True)
class SpooledEvent:
    """An event found unacknowledged in the spool when it was opened."""

    position: int
    event_id: str
    partition_key: str
    data: bytes


def frame(payload: bytes) -> bytes:
    return FRAME_HEAD.pack(len(payload), zlib.crc32(payload)) + payload


def read_frames(data: bytes) -> tuple[list[bytes], int]:
    """The whole, intact frames at the start of ``data``, and how many bytes they span."""
    payloads = []
    offset = 0
    head = FRAME_HEAD.size
    while offset + head <= len(data):
        length, checksum = FRAME_HEAD.unpack_from(data, offset)
        end = offset + head + length
        # Length 0 never occurs (no payload is empty); it is what a zero-filled tail reads as.
        if length == 0 or end > len(data):
            break
        payload = data[offset + head : end]
        if zlib.crc32(payload) != checksum:
            break
        payloads.append(payload)
        offset = end
    return payloads, offset


def encode_event_frame(event_id: str, partition_key: str, data: bytes) -> bytes:
    event_id_bytes = event_id.encode()
    key_bytes = partition_key.encode()
    return frame(EVENT_HEAD.pack(len(event_id_bytes), len(key_bytes)) + event_id_bytes + key_bytes + data)


def decode_event_payload(payload: bytes) -> tuple[str, str, bytes]:
    id_length, key_length = EVENT_HEAD.unpack_from(payload)
    start = EVENT_HEAD.size
    event_id = payload[start : start + id_length].decode()
    key = payload[start + id_length : start + id_length + key_length].decode()
    return event_id, key, payload[start + id_length + key_length :]


class _Segment:
    __slots__ = ("ack_fd", "acked", "base", "count", "fd", "path", "size")

    def __init__(self, path: str, base: int) -> None:
        self.path = path
        self.base = base
        self.count = 0
        self.acked = 0
        self.size = 0
        self.fd = -1  # open for appends while this is the active segment
        self.ack_fd = -1

    @property
    def ack_path(self) -> str:
        return self.path.removesuffix(SEGMENT_SUFFIX) + ACK_SUFFIX


class Spool:
    """The spool directory of one producer. Thread-safe; ``append`` is called under the producer's lock."""

    def __init__(self, directory: str, *, max_bytes: int, segment_bytes: int, fsync_interval: float) -> None:
        if fcntl is None:  # pragma: no cover - not POSIX
            raise OSError("spool_dir needs POSIX advisory file locks (fcntl), which this platform lacks")
        self.directory = directory
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.fsync_interval = fsync_interval
        os.makedirs(directory, exist_ok=True)
        self._lock_fd = self._take_lock()
        self._lock = threading.Lock()
        self._segments: dict[int, _Segment] = {}
        self._bases: list[int] = []
        self.bytes = 0
        self._dirty_segment = False
        self._dirty_acks: set[int] = set()
        self._dirty_directory = False
        self.recovered = self._recover()
        next_position = max((s.base + s.count for s in self._segments.values()), default=0)
        self._active = self._open_segment(next_position)
        self._stop = threading.Event()
        self._syncer = threading.Thread(target=self._sync_loop, name="vedette-spool-sync", daemon=True)
        self._syncer.start()

    # --- opening ------------------------------------------------------------------------------

    def _take_lock(self) -> int:
        path = os.path.join(self.directory, LOCK_FILE)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise SpoolLockedError(
                f"spool directory {self.directory} is in use by another producer (pid {holder}, lock {path}); "
                "give each producer its own spool_dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return fd

    def _recover(self) -> list[SpooledEvent]:
        names = os.listdir(self.directory)
        segment_names = sorted(
            (n for n in names if n.endswith(SEGMENT_SUFFIX) and n.removesuffix(SEGMENT_SUFFIX).isdigit()),
            key=lambda n: int(n.removesuffix(SEGMENT_SUFFIX)),
        )
        for name in names:  # acknowledgements of segments already deleted
            if name.endswith(ACK_SUFFIX) and name.removesuffix(ACK_SUFFIX) + SEGMENT_SUFFIX not in names:
                os.unlink(os.path.join(self.directory, name))
        recovered: list[SpooledEvent] = []
        for name in segment_names:
            segment = _Segment(os.path.join(self.directory, name), int(name.removesuffix(SEGMENT_SUFFIX)))
            with open(segment.path, "rb") as file:
                data = file.read()
            payloads, intact = read_frames(data)
            if intact < len(data):
                logger.warning(
                    "spool segment %s: %d byte(s) after the last intact event dropped (a write torn by a crash)",
                    segment.path,
                    len(data) - intact,
                )
            acked: set[int] = set()
            if os.path.exists(segment.ack_path):
                with open(segment.ack_path, "rb") as file:
                    for payload in read_frames(file.read())[0]:
                        acked.update(index for (index,) in ACK_INDEX.iter_unpack(payload))
            segment.count = len(payloads)
            segment.size = len(data)
            owed = [index for index in range(segment.count) if index not in acked]
            if not owed:
                self._delete(segment)
                continue
            segment.acked = segment.count - len(owed)
            self._add(segment)
            for index in owed:
                event_id, key, event = decode_event_payload(payloads[index])
                recovered.append(SpooledEvent(segment.base + index, event_id, key, event))
        if recovered:
            logger.info("spool %s: %d unacknowledged event(s) to send again", self.directory, len(recovered))
        return recovered

    def _add(self, segment: _Segment) -> None:
        self._segments[segment.base] = segment
        self._bases.append(segment.base)
        self.bytes += segment.size

    def _open_segment(self, base: int) -> _Segment:
        segment = _Segment(os.path.join(self.directory, f"{base:020d}{SEGMENT_SUFFIX}"), base)
        segment.fd = os.open(segment.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        self._add(segment)
        self._dirty_directory = True
        return segment

    # --- put and acknowledgements ---------------------------------------------------------------

    def append(self, event_id: str, partition_key: str, data: bytes) -> int:
        """Write one accepted event; returns its position. Raises ``SpoolFullError`` when full."""
        encoded = encode_event_frame(event_id, partition_key, data)
        with self._lock:
            active = self._active
            if self.bytes + len(encoded) > self.max_bytes:
                if active.count and active.acked == active.count:
                    self._rotate()  # its space is all acknowledged: reclaim it
                    active = self._active
                if self.bytes + len(encoded) > self.max_bytes:
                    raise SpoolFullError(
                        f"spool {self.directory} full: {self.bytes} bytes of events Kinesis has not acknowledged "
                        f"yet, limit {self.max_bytes} (spool_max_bytes); nothing was accepted"
                    )
            try:
                written = os.write(active.fd, encoded)
                if written != len(encoded):
                    raise OSError(f"short write to {active.path} ({written} of {len(encoded)} bytes)")
            except OSError:
                # Leave no partial frame behind: later frames would be unreadable after it.
                os.ftruncate(active.fd, active.size)
                raise
            if self.fsync_interval == 0:
                os.fsync(active.fd)
            position = active.base + active.count
            active.count += 1
            active.size += len(encoded)
            self.bytes += len(encoded)
            self._dirty_segment = True
            if active.size >= self.segment_bytes:
                self._rotate()
            return position

    def release(self, positions: Iterable[int]) -> None:
        """Acknowledge events: Kinesis has them, or they were reported failed for good."""
        by_segment: dict[int, list[int]] = {}
        with self._lock:
            bases = self._bases
            for position in positions:
                base = bases[bisect_right(bases, position) - 1]
                by_segment.setdefault(base, []).append(position - base)
            for base, indexes in by_segment.items():
                segment = self._segments.get(base)
                if segment is None:  # pragma: no cover - released twice: a bug, but nothing is owed
                    logger.error("spool %s: events of a deleted segment released again", self.directory)
                    continue
                if segment.ack_fd < 0:
                    segment.ack_fd = os.open(segment.ack_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                os.write(segment.ack_fd, frame(struct.pack(f"<{len(indexes)}I", *indexes)))
                segment.acked += len(indexes)
                self._dirty_acks.add(base)
                if segment is not self._active and segment.acked >= segment.count:
                    self._remove(segment)

    def _rotate(self) -> None:
        old = self._active
        os.fsync(old.fd)  # mostly synced already by the sync thread
        os.close(old.fd)
        old.fd = -1
        self._dirty_segment = False
        self._active = self._open_segment(old.base + old.count)
        if old.acked >= old.count:
            self._remove(old)

    def _remove(self, segment: _Segment) -> None:
        self._delete(segment)
        del self._segments[segment.base]
        self._bases.remove(segment.base)
        self._dirty_acks.discard(segment.base)
        self.bytes -= segment.size

    def _delete(self, segment: _Segment) -> None:
        # The segment first: an ack file left without its segment is cleaned up at the next open,
        # while a segment without its acknowledgements would be sent again whole.
        for fd in (segment.fd, segment.ack_fd):
            if fd >= 0:
                os.close(fd)
        segment.fd = segment.ack_fd = -1
        os.unlink(segment.path)
        if os.path.exists(segment.ack_path):
            os.unlink(segment.ack_path)
        self._dirty_directory = True

    # --- group commit ---------------------------------------------------------------------------

    def _sync_loop(self) -> None:
        period = self.fsync_interval if self.fsync_interval > 0 else ACK_SYNC_SECONDS
        while not self._stop.wait(period):
            try:
                self.sync()
            except OSError:
                logger.exception("spool %s: fsync failed", self.directory)

    def sync(self) -> None:
        """fsync what was written since the last sync: the active segment, ack files, the directory."""
        with self._lock:
            # Duplicates of the descriptors: a rotation may close the originals during the fsync.
            fds = []
            if self._dirty_segment and self._active.fd >= 0:
                fds.append(os.dup(self._active.fd))
            for base in self._dirty_acks:
                segment = self._segments.get(base)
                if segment is not None and segment.ack_fd >= 0:
                    fds.append(os.dup(segment.ack_fd))
            self._dirty_segment = False
            self._dirty_acks.clear()
            sync_directory = self._dirty_directory
            self._dirty_directory = False
        if sync_directory:
            fds.append(os.open(self.directory, os.O_RDONLY))
        for fd in fds:
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def close(self) -> None:
        """Sync, delete what is all acknowledged, and let the next producer have the directory."""
        self._stop.set()
        self._syncer.join()
        with self._lock:
            active = self._active
            if active.count and active.acked >= active.count:
                self._remove(active)
            self._dirty_segment = active.fd >= 0
        self.sync()
        with self._lock:
            for segment in self._segments.values():
                for fd in (segment.fd, segment.ack_fd):
                    if fd >= 0:
                        os.close(fd)
                segment.fd = segment.ack_fd = -1
            if not active.count and active.base in self._segments:
                self._remove(active)  # an empty segment: nothing to keep
        os.close(self._lock_fd)
