"""The archive's key layout: the one definition shared by the Pulumi stack, the writers and readers.

Firehose names each S3 object ``<evaluated prefix><suffix>`` where the suffix is
``<stream name>-<stream version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid><file extension>``
(``.gz`` with GZIP compression). The prefix's ``!{timestamp:...}`` expressions and the suffix's
time both use the approximate arrival time of the *oldest* record in the object, in UTC by default.
``!{firehose:error-output-type}`` and ``!{firehose:random-string}`` are the ``firehose`` namespace.
(Firehose documentation: "Configure Amazon S3 object name format" and "Understand custom prefixes
for Amazon S3 objects".)

Two layouts, both read by every reader here:

- **time only** (the default, ``FIREHOSE_PREFIX``): ``events/yyyy/MM/dd/HH/<name>``;
- **time, then the user's hash** (``archiveUserHashBuckets`` > 0, ``USER_HASH_PREFIX``):
  ``events/yyyy/MM/dd/HH/user_hash=<first hash of the bucket>/<name>``, written by Firehose's
  dynamic partitioning with the key the partitioner Lambda returns (``functions/archive_partitioner``).

The hash is training's sampling hash (``model.sampling.user_hash``: CRC-32 of the user id). A
bucket is a range of it cut by its top bits, and the key names the range by its *first* hash as ten
zero-padded digits: keys sort in hash order within an hour, "the buckets below b" are exactly "the
users whose hash is below b", and a reader needs no bucket count to know what a key holds (a bucket
starting at s holds hashes from s up to the next bucket's start). Time stays first so that both
layouts share the hour prefixes: lifecycle rules, the hour listing, Athena's time partitions and the
data written before the switch all keep working, and a sampler lists a window's hours once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from archive.exceptions import PrefixExpressionError

# The prefixes the Pulumi stack configures on the delivery stream. Firehose requires an error
# output prefix whenever the prefix holds a ``!{timestamp:...}`` expression, and the error prefix
# must contain ``!{firehose:error-output-type}``.
FIREHOSE_PREFIX = "events/!{timestamp:yyyy/MM/dd/HH}/"
FIREHOSE_ERROR_OUTPUT_PREFIX = "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/"

# The user-hash level: the partition key the partitioner returns, the folder's name and the Athena column.
USER_HASH_KEY = "user_hash"
USER_HASH_PREFIX = FIREHOSE_PREFIX + USER_HASH_KEY + "=!{partitionKeyFromLambda:" + USER_HASH_KEY + "}/"
# model.sampling's hash (model.features.stable_hash) is a CRC-32.
USER_HASH_BITS = 32
USER_HASH_LIMIT: int = 2**USER_HASH_BITS
USER_HASH_DIGITS = len(str(USER_HASH_LIMIT - 1))
# Buckets are a power of two (the hash's top bits). At most 2,048: an hour's buckets are open in
# Firehose's buffer beside the previous hour's for a buffer interval, so 2 x buckets active
# partitions, and a delivery stream takes at most 5,000 (500 by default: up to 128 buckets without
# a quota increase; Firehose, "Buffer data for dynamic partitioning").
MAX_USER_HASH_BUCKETS = 2048
_USER_HASH_FOLDER_RE = re.compile(rf"{USER_HASH_KEY}=(\d{{{USER_HASH_DIGITS}}})")

# What ``!{firehose:error-output-type}`` evaluates to, depending on the reason of the failure.
ERROR_OUTPUT_TYPES = frozenset(
    {
        "processing-failed",
        "AmazonOpenSearchService-failed",
        "splunk-failed",
        "format-conversion-failed",
        "http-endpoint-failed",
    }
)

GZIP_EXTENSION = ".gz"
DEFAULT_STREAM_NAME = "vedette-archive"
# The delivery stream version starts at 1 and grows by one with every configuration change.
DEFAULT_STREAM_VERSION = 1

# Buffering hints: Firehose delivers an object when either is reached (defaults 5 MiB and 300 s;
# size 1-128 MiB, interval 0-900 s). The size applies to the data before compression.
DEFAULT_BUFFER_BYTES = 5 * 1024 * 1024
DEFAULT_BUFFER_SECONDS = 300.0
MAX_BUFFER_BYTES = 128 * 1024 * 1024
MAX_BUFFER_SECONDS = 900.0

_EXPRESSION_RE = re.compile(r"!\{([^:}]*):([^}]*)\}")
# The object name's suffix, parsed back to the arrival time of the object's oldest record.
OBJECT_NAME_RE = re.compile(
    r"(?P<stream>.+)-(?P<version>\d+)-(?P<time>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)-"
    r"(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?P<extension>(?:\.[A-Za-z0-9]+)*)"
)
# Java DateTimeFormatter letters this code evaluates, as strftime-like renderers.
_FIELDS = {
    "yyyy": lambda moment: f"{moment.year:04d}",
    "uuuu": lambda moment: f"{moment.year:04d}",
    "yy": lambda moment: f"{moment.year % 100:02d}",
    "MM": lambda moment: f"{moment.month:02d}",
    "M": lambda moment: str(moment.month),
    "dd": lambda moment: f"{moment.day:02d}",
    "d": lambda moment: str(moment.day),
    "HH": lambda moment: f"{moment.hour:02d}",
    "H": lambda moment: str(moment.hour),
    "mm": lambda moment: f"{moment.minute:02d}",
    "ss": lambda moment: f"{moment.second:02d}",
    "DDD": lambda moment: f"{moment.timetuple().tm_yday:03d}",
}


def _require_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("arrival time must be timezone-aware (Firehose evaluates times in UTC)")
    return moment.astimezone(timezone.utc)


def format_java_datetime(pattern: str, moment: datetime) -> str:
    """Render ``moment`` with a Java ``DateTimeFormatter`` pattern (the subset prefixes use).

    Letters repeat to form fields (``yyyy``, ``MM``, ``dd``, ``HH``, ``mm``, ``ss``...), text in
    single quotes is literal (``''`` is a quote), other characters are copied.
    """
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "'":
            end = pattern.find("'", index + 1)
            if end == -1:
                raise PrefixExpressionError(pattern, "unterminated quoted literal")
            out.append(pattern[index + 1 : end] if end > index + 1 else "'")
            index = end + 1
        elif char.isalpha():
            end = index
            while end < len(pattern) and pattern[end] == char:
                end += 1
            letters = pattern[index:end]
            render = _FIELDS.get(letters)
            if render is None:
                raise PrefixExpressionError(pattern, f"unsupported DateTimeFormatter field {letters!r}")
            out.append(render(moment))
            index = end
        else:
            out.append(char)
            index += 1
    return "".join(out)


def evaluate_prefix(
    expression: str,
    arrival: datetime,
    *,
    error_output_type: str | None = None,
    random_string: str | None = None,
    partition_keys: Mapping[str, str] | None = None,
) -> str:
    """Evaluate a Firehose prefix expression for a record arriving at ``arrival`` (UTC).

    Every ``!{timestamp:...}`` evaluates to the same instant. ``error_output_type`` is required
    when the expression uses ``!{firehose:error-output-type}``, ``partition_keys`` (the keys a
    Lambda processor returned in ``metadata.partitionKeys``) when it uses
    ``!{partitionKeyFromLambda:name}``.
    """
    moment = _require_utc(arrival)

    def substitute(match: re.Match[str]) -> str:
        namespace, value = match.group(1), match.group(2)
        if namespace == "timestamp":
            return format_java_datetime(value, moment)
        if namespace == "firehose" and value == "error-output-type":
            if error_output_type not in ERROR_OUTPUT_TYPES:
                raise PrefixExpressionError(
                    match.group(0), f"error_output_type must be one of {sorted(ERROR_OUTPUT_TYPES)}"
                )
            return str(error_output_type)
        if namespace == "firehose" and value == "random-string":
            if random_string is None:
                raise PrefixExpressionError(match.group(0), "random_string is required")
            return random_string
        if namespace == "partitionKeyFromLambda":
            if partition_keys is None or value not in partition_keys:
                raise PrefixExpressionError(match.group(0), f"the record has no partition key {value!r}")
            return partition_keys[value]
        raise PrefixExpressionError(match.group(0), "unsupported namespace or value (dynamic partitioning?)")

    return _EXPRESSION_RE.sub(substitute, expression)


def error_output_prefix(error_output_type: str) -> str:
    """``FIREHOSE_ERROR_OUTPUT_PREFIX`` for one kind of failure (the time left to evaluate per object)."""
    if error_output_type not in ERROR_OUTPUT_TYPES:
        raise PrefixExpressionError(error_output_type, f"error_output_type must be one of {sorted(ERROR_OUTPUT_TYPES)}")
    return FIREHOSE_ERROR_OUTPUT_PREFIX.replace("!{firehose:error-output-type}", error_output_type)


def static_prefix(expression: str) -> str:
    """The part of a prefix expression before its first ``!{...}``: where listing starts."""
    match = _EXPRESSION_RE.search(expression)
    return expression if match is None else expression[: match.start()]


def object_name(
    arrival: datetime,
    object_uuid: uuid.UUID | str,
    *,
    stream_name: str = DEFAULT_STREAM_NAME,
    stream_version: int = DEFAULT_STREAM_VERSION,
    extension: str = GZIP_EXTENSION,
) -> str:
    """Firehose's object name (the key's suffix) for an object whose oldest record arrived then."""
    moment = _require_utc(arrival)
    return f"{stream_name}-{stream_version}-{moment:%Y-%m-%d-%H-%M-%S}-{uuid.UUID(str(object_uuid))}{extension}"


def object_key(
    arrival: datetime,
    object_uuid: uuid.UUID | str,
    *,
    prefix: str = FIREHOSE_PREFIX,
    stream_name: str = DEFAULT_STREAM_NAME,
    stream_version: int = DEFAULT_STREAM_VERSION,
    extension: str = GZIP_EXTENSION,
    partition_keys: Mapping[str, str] | None = None,
) -> str:
    """The full key Firehose writes: the prefix evaluated at ``arrival`` in UTC (with the object's
    partition keys under dynamic partitioning), then the name."""
    name = object_name(
        arrival, object_uuid, stream_name=stream_name, stream_version=stream_version, extension=extension
    )
    return evaluate_prefix(prefix, arrival, partition_keys=partition_keys) + name


def arrival_of_key(key: str) -> datetime | None:
    """The arrival time (to the second) that a Firehose object key was named after, or None."""
    name = key.rsplit("/", 1)[-1]
    match = OBJECT_NAME_RE.fullmatch(name)
    if match is None:
        return None
    return datetime.strptime(match.group("time"), "%Y-%m-%d-%H-%M-%S").replace(tzinfo=timezone.utc)


def hour_floor(moment: datetime) -> datetime:
    """The start of the UTC hour holding ``moment``."""
    return _require_utc(moment).replace(minute=0, second=0, microsecond=0)


ONE_HOUR = timedelta(hours=1)


def check_user_hash_buckets(buckets: int) -> int:
    """``buckets`` if it is a layout this code writes: 0 (time only) or a power of two from 2 to
    ``MAX_USER_HASH_BUCKETS``; raises ``ValueError`` saying what is allowed otherwise."""
    if buckets == 0 or (2 <= buckets <= MAX_USER_HASH_BUCKETS and buckets & (buckets - 1) == 0):
        return buckets
    raise ValueError(
        f"must be 0 (time-only layout) or a power of two from 2 to {MAX_USER_HASH_BUCKETS} "
        f"(the top bits of the user's hash), got {buckets}"
    )


def archive_prefix(user_hash_buckets: int) -> str:
    """The delivery stream's prefix for a layout: time only (0), or time then the user's hash."""
    return USER_HASH_PREFIX if check_user_hash_buckets(user_hash_buckets) else FIREHOSE_PREFIX


def user_hash_bucket_start(user_hash: int, buckets: int) -> int:
    """The first hash of the bucket holding ``user_hash`` when the hash range is cut in ``buckets``."""
    if not check_user_hash_buckets(buckets):
        raise ValueError("a time-only layout (0 buckets) has no user-hash buckets")
    if not 0 <= user_hash < USER_HASH_LIMIT:
        raise ValueError(f"user hash {user_hash} is not a {USER_HASH_BITS}-bit value")
    width = USER_HASH_LIMIT // buckets
    return user_hash - user_hash % width


def user_hash_partition_value(bucket_start: int) -> str:
    """The ``user_hash=`` folder's value: the bucket's first hash, zero-padded so keys sort in hash order."""
    return f"{bucket_start:0{USER_HASH_DIGITS}d}"


def user_hash_start_of_key(key: str) -> int | None:
    """The first hash of the bucket a key is under (its ``user_hash=`` folder), or None for a key
    of the time-only layout, which holds every user's events."""
    folders = key.split("/")[:-1]
    if not folders:
        return None
    match = _USER_HASH_FOLDER_RE.fullmatch(folders[-1])
    return None if match is None else int(match.group(1))
