"""The capacity plan's unit costs: this project's own measurements, each with where it comes from.

Re-measure after a change that moves them (``make bench BENCH=scorer_handler`` and
``BENCH=producer_packing``, the gzip line below) and update the value and its source together. A
value marked *assumed* was not measured here; the plan prints it as such. Prices are in
``loadtest.pricing``, quotas in ``loadtest.quotas``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Inputs:
    """Per-event and per-call unit costs of the pipeline (see ``SOURCES`` for each one's origin)."""

    # Producer and stream.
    event_bytes: float  # one encoded event with its partition key, as the producer aggregates it
    aggregate_record_bytes: float  # a Kinesis record of aggregated events at a sustained load
    archive_bytes_per_event: float  # GZIP JSON line in the archive
    archive_read_seconds_per_event: float  # one sampling worker: list, fetch, decompress, validate, hash
    partitioner_cpu_seconds_per_event: float  # the archive partitioner's handler, one core
    # Scorer.
    scorer_cpu_seconds_per_event: float  # one core, the whole batch path, endpoint call client side
    state_item_bytes: Mapping[str, float]  # mean written item size by kind, as DynamoDB counts it
    ip_announcements_per_event: float  # a shard meeting an address it has no place in yet (scorer.ip_slices)
    ip_part_bytes: float  # one shard's part of a shared address in a hot item, without its users
    hot_address_items: int  # the hot items an address's parts are spread over (scorer.ip_slices)
    # Endpoint.
    model_seconds_per_row: float  # one core in the container: input_fn -> predict_fn -> output_fn
    endpoint_call_overhead_seconds: float  # per InvokeEndpoint call beyond the rows (assumed)
    request_bytes_per_row: float  # NPY row the scorer sends
    response_bytes_per_row: float  # the compact answer per row the scorer asks for
    max_rows_per_call: int
    max_request_bytes: int  # the scorer's serverless payload bound
    # Small outputs.
    anomaly_share: float  # anomalies recorded per scored event (assumed)
    anomaly_item_bytes: float
    state_round_trips_per_invocation: int  # load, save evidence, save IPs, save users
    dynamodb_round_trip_seconds: float  # assumed
    log_bytes_per_invocation: float  # Lambda START/END/REPORT lines plus one EMF document (assumed)
    sources: Mapping[str, str] = field(default_factory=dict)


SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "event_bytes": "make bench BENCH=producer_packing (2026-12): 43,198,123 user-record bytes for 100,000 "
        "realistic events (benchmarks/workload.py) = 432 B",
        "aggregate_record_bytes": "make bench BENCH=producer_packing (2026-12): the same bytes in 868 Kinesis "
        "records = 49,767 B (the producer's 51,200-byte aggregates, 2.8 % over the optimum)",
        "archive_bytes_per_event": "gzip level 6 (archive/writer.py) of the same 100,000 events as JSON lines "
        "in 5 MiB objects: 423 B -> 57.4 B per event (7.4:1); model.sampling.ARCHIVE_BYTES_PER_EVENT",
        "archive_read_seconds_per_event": "make bench BENCH=model_sample_parts (2026-12, this machine): one "
        "sampling worker read a 1-million-event archive at 33,300 events/s (docs/capacity.md, training)",
        "partitioner_cpu_seconds_per_event": "make bench BENCH=model_sample_hash_layout (2026-12, this machine, one "
        "core): partitioner_us_per_event, 300,000 simulated events in Firehose's ~1 MiB processor batches; 14.2 "
        "and 22.4 us in two runs, the higher taken",
        "scorer_cpu_seconds_per_event": "make bench BENCH=scorer_handler (2026-12, this machine, one core): "
        "events_per_second with the entity stage, less the in-process fake endpoint's share of the time",
        "state_item_bytes": "make bench BENCH=scorer_handler (2026-12): state_items.mean_item_bytes, the items "
        "the scorer saves (key, state, expires_at, applied, seen) sized as DynamoDB bills them",
        "ip_announcements_per_event": "make bench BENCH=shared_ip_state (2026-12): new (address, shard) pairs "
        "per event in make demo's simulated traffic (600 users, 4 days, 2 shards) = 0.0411; each is one "
        "UpdateItem of the address's home (under 100 B: one write unit)",
        "ip_part_bytes": "make bench BENCH=shared_ip_state (2026-12): the largest hot-item attribute (name, "
        "position, state) without the users it keeps (12 B each) = 103 B",
        "hot_address_items": "functions/scorer/ip_slices.py HOT_ADDRESS_ITEMS",
        "model_seconds_per_row": "make bench BENCH=model_score (docs/model.md, 2026-12): 181,000 rows per CPU "
        "second, the median of 5 runs of the scorer's path (1,000-row NPY requests, compact answer) with ECOD "
        "and 1 % of the rows flagged and explained (210,400 with none; the assumed anomaly share lies between)",
        "endpoint_call_overhead_seconds": "assumed: 20 ms per InvokeEndpoint call (network, SigV4, the "
        "container's HTTP stack) on top of the rows; not measured here",
        "request_bytes_per_row": "model/rows.py: one float64 per feature (FEATURE_NAMES) in the NPY body",
        "response_bytes_per_row": "make bench BENCH=model_score: compact_response_bytes_per_row 10.0 (every "
        "row's score; a flagged row's reasons add 185 B, 0.2 B per row at the assumed anomaly share)",
        "max_rows_per_call": "model/rows.py MAX_ROWS_PER_REQUEST",
        "max_request_bytes": "functions/scorer/settings.py default max_payload_bytes (serverless 4 MB less margin)",
        "anomaly_share": "assumed: 0.1 % of events recorded as anomalies (docs/deploy.md's cost table)",
        "anomaly_item_bytes": "functions/scorer/stores.py DynamoAnomalyStore.record: the event's JSON plus "
        "score fields, about 1 KB",
        "state_round_trips_per_invocation": "functions/scorer/batch.py: BatchGetItem of every key, then "
        "BatchWriteItem of the evidence, then of the IP states, then of the user states (each a parallel round); "
        "a second read round only for addresses other shards use (functions/scorer/ip_slices.py)",
        "dynamodb_round_trip_seconds": "assumed: 10 ms per parallel DynamoDB round in the Region",
        "log_bytes_per_invocation": "assumed: 1.5 KB (Lambda's START/END/REPORT lines and one EMF document)",
    }
)


def _feature_count() -> int:
    from model.features import FEATURE_NAMES

    return len(FEATURE_NAMES)


def measured() -> Inputs:
    """The inputs as last measured (``SOURCES`` says how)."""
    from model.rows import MAX_ROWS_PER_REQUEST
    from model.sampling import ARCHIVE_BYTES_PER_EVENT

    return Inputs(
        event_bytes=432.0,
        aggregate_record_bytes=49_767.0,
        archive_bytes_per_event=ARCHIVE_BYTES_PER_EVENT,
        archive_read_seconds_per_event=1 / 33_300,
        partitioner_cpu_seconds_per_event=22.4e-6,
        scorer_cpu_seconds_per_event=SCORER_CPU_SECONDS_PER_EVENT,
        state_item_bytes=MappingProxyType(dict(STATE_ITEM_BYTES)),
        ip_announcements_per_event=0.0411,
        ip_part_bytes=103.0,
        hot_address_items=16,
        model_seconds_per_row=1 / 181_000,
        endpoint_call_overhead_seconds=0.020,
        request_bytes_per_row=8.0 * _feature_count(),
        response_bytes_per_row=10.0,
        max_rows_per_call=MAX_ROWS_PER_REQUEST,
        max_request_bytes=3_900_000,
        anomaly_share=0.001,
        anomaly_item_bytes=1_000.0,
        state_round_trips_per_invocation=4,
        dynamodb_round_trip_seconds=0.010,
        log_bytes_per_invocation=1_500.0,
        sources=SOURCES,
    )


# make bench BENCH=scorer_handler on this machine (2026-12): see SOURCES.
# events_per_second 6,193 (best of 5; median 5,381), fake_endpoint_share_of_time 0.004: (1 - 0.004) / 6,193
# (2026-12-04; 9,083 on 2026-12-02, before the episodes' page trail and the machine clients' model).
SCORER_CPU_SECONDS_PER_EVENT = (1 - 0.004) / 6_193
# state_items.mean_item_bytes; each kind was read and written by 0.66-0.84 of the events at the
# bench's 9,000-event batches from 20,000 skewed users (the plan models that share from --users).
# "ip" is a shard's part of an address (158 B since the parts, 2026-12; 133 B as one item before):
# one write unit either way. The episodes grew from 276 and 281 B with their page trail (2026-12:
# the last two pages and 48 sequence fingerprints), one write unit still; 399 and 404 B with the unfamiliar
# client's sum and the counts in 32 bits (2026-12-06). The address's home (48 B)
# is read beside it; the plan counts that read and the announcements apart (ip_announcements_per_event).
STATE_ITEM_BYTES: Mapping[str, float] = MappingProxyType(
    {"user": 392, "ip": 158, "entity#user": 399, "entity#session": 404}
)
