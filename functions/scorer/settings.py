"""The scorer's settings: environment variables only, set by the stack, checked at cold start.

The names below are the one list the Pulumi stack and the local pipeline set; a missing or malformed
value raises ``MissingSettingError`` naming the variable before the first batch is read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from model.rows import MAX_REQUEST_BYTES, MAX_ROWS_PER_REQUEST
from scorer.exceptions import MissingSettingError
from scorer.ip_slices import DEFAULT_DIRECTORY_SIZE

ENDPOINT_NAME = "VEDETTE_ENDPOINT_NAME"
STATE_TABLE = "VEDETTE_STATE_TABLE"
ANOMALIES_TABLE = "VEDETTE_ANOMALIES_TABLE"
ALERTS_TOPIC_ARN = "VEDETTE_ALERTS_TOPIC_ARN"
BAD_EVENTS_BUCKET = "VEDETTE_BAD_EVENTS_BUCKET"
BAD_EVENTS_PREFIX = "VEDETTE_BAD_EVENTS_PREFIX"
ALERT_MIN_SEVERITY = "VEDETTE_ALERT_MIN_SEVERITY"
ALERT_WINDOW_SECONDS = "VEDETTE_ALERT_WINDOW_SECONDS"
STATE_TTL_SECONDS = "VEDETTE_STATE_TTL_SECONDS"
MAX_PAYLOAD_BYTES = "VEDETTE_MAX_PAYLOAD_BYTES"
MAX_ROWS_PER_CALL = "VEDETTE_MAX_ROWS_PER_CALL"
ENDPOINT_TIMEOUT_SECONDS = "VEDETTE_ENDPOINT_TIMEOUT_SECONDS"
ENDPOINT_MAX_ATTEMPTS = "VEDETTE_ENDPOINT_MAX_ATTEMPTS"
# Optional: where the model's feature configuration is (default: the file inside the bundle).
FEATURE_CONFIG = "VEDETTE_FEATURE_CONFIG"
# Optional: where the feature configurations of other models are published (s3://bucket/prefix/,
# ``<id>.json`` each), for when the endpoint serves another model than the bundle was built with.
FEATURE_CONFIGS_URI = "VEDETTE_FEATURE_CONFIGS_URI"
# Optional: how many shards keep their part of an address's state in an item of their own before
# the others go to its hot items (scorer.ip_slices).
IP_DIRECTORY_SIZE = "VEDETTE_IP_DIRECTORY_SIZE"
MAX_IP_DIRECTORY_SIZE = 64  # a full home item holds 64 tags of 8 bytes: 512 B, one write unit

# Serverless endpoints take at most 4 MB per request (real-time ones InvokeEndpoint's 6 MiB, the limit
# model.rows names for both sides); the default keeps a margin under the serverless limit. Chunks are
# measured whole (NPY header included), so none crosses it.
SERVERLESS_MAX_PAYLOAD_BYTES = 4_000_000
REAL_TIME_MAX_PAYLOAD_BYTES = MAX_REQUEST_BYTES

T = TypeVar("T", int, float)


@dataclass(frozen=True, slots=True)
class ScorerSettings:
    endpoint_name: str
    state_table: str
    anomalies_table: str
    alerts_topic_arn: str
    bad_events_bucket: str
    bad_events_prefix: str = "bad-events/"
    # An anomaly alerts when its score is at least this multiple of the model's threshold.
    alert_min_severity: float = 1.0
    # At most one alert per user per window; every anomaly is still recorded.
    alert_window_seconds: int = 3600
    state_ttl_seconds: int = 30 * 86400
    max_payload_bytes: int = SERVERLESS_MAX_PAYLOAD_BYTES - 100_000
    # At most the rows the artifact takes in one request (model.rows): more would fail every call.
    max_rows_per_call: int = MAX_ROWS_PER_REQUEST
    endpoint_timeout_seconds: float = 10.0
    endpoint_max_attempts: int = 3
    feature_config_path: str | None = None
    feature_configs_uri: str | None = None
    ip_directory_size: int = DEFAULT_DIRECTORY_SIZE

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> ScorerSettings:
        """Read and check every setting; raises ``MissingSettingError`` naming the first bad one."""
        env = os.environ if environ is None else environ
        defaults = cls.__dataclass_fields__

        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise MissingSettingError(name, "required and not set (the stack sets it on the function)")
            return value

        def number(name: str, field: str, parse: Callable[[str], T], low: T, high: T) -> T:
            default: T = defaults[field].default  # type: ignore[assignment]
            text = env.get(name, "").strip()
            if not text:
                return default
            try:
                value = parse(text)
            except ValueError:
                raise MissingSettingError(name, f"must be a number, got {text!r}") from None
            if not low <= value <= high:
                raise MissingSettingError(name, f"must be within {low}-{high}, got {value}")
            return value

        prefix = env.get(BAD_EVENTS_PREFIX, "").strip() or str(defaults["bad_events_prefix"].default)
        configs_uri = env.get(FEATURE_CONFIGS_URI, "").strip() or None
        if configs_uri is not None and not (configs_uri.startswith("s3://") and len(configs_uri) > len("s3://")):
            raise MissingSettingError(FEATURE_CONFIGS_URI, f"must be an s3://bucket/prefix/ URI, got {configs_uri!r}")
        return cls(
            endpoint_name=required(ENDPOINT_NAME),
            state_table=required(STATE_TABLE),
            anomalies_table=required(ANOMALIES_TABLE),
            alerts_topic_arn=required(ALERTS_TOPIC_ARN),
            bad_events_bucket=required(BAD_EVENTS_BUCKET),
            bad_events_prefix=prefix if prefix.endswith("/") else prefix + "/",
            alert_min_severity=number(ALERT_MIN_SEVERITY, "alert_min_severity", float, 0.0, 1e6),
            alert_window_seconds=number(ALERT_WINDOW_SECONDS, "alert_window_seconds", int, 1, 7 * 86400),
            state_ttl_seconds=number(STATE_TTL_SECONDS, "state_ttl_seconds", int, 3600, 366 * 86400),
            max_payload_bytes=number(MAX_PAYLOAD_BYTES, "max_payload_bytes", int, 1024, REAL_TIME_MAX_PAYLOAD_BYTES),
            max_rows_per_call=number(MAX_ROWS_PER_CALL, "max_rows_per_call", int, 1, MAX_ROWS_PER_REQUEST),
            endpoint_timeout_seconds=number(ENDPOINT_TIMEOUT_SECONDS, "endpoint_timeout_seconds", float, 0.1, 60.0),
            endpoint_max_attempts=number(ENDPOINT_MAX_ATTEMPTS, "endpoint_max_attempts", int, 1, 10),
            feature_config_path=env.get(FEATURE_CONFIG, "").strip() or None,
            feature_configs_uri=configs_uri if configs_uri is None or configs_uri.endswith("/") else configs_uri + "/",
            ip_directory_size=number(IP_DIRECTORY_SIZE, "ip_directory_size", int, 1, MAX_IP_DIRECTORY_SIZE),
        )
