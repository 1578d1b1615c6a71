"""producer_packing: Kinesis records and 25 KiB PUT payload units for 100,000 realistic events.

Compared against the optimum for the same byte total (every unit full: ceil(bytes / 25 KiB);
every record a full 51,200-byte aggregate) and, in the same run, against no aggregation and
aws-kinesis-agg's single stream-wide aggregator.
"""

from __future__ import annotations

import json
import math

from benchmarks.bench_producer_encode import EVENTS, aws_kinesis_agg, ours
from benchmarks.workload import realistic_events
from vedette.events import encode_event, normalize_event
from vedette.limits import KPL_AGGREGATION_MAX_BYTES, PUT_PAYLOAD_UNIT_BYTES, put_payload_units


def usage(calls: list[list[dict]]) -> tuple[int, int]:
    entries = [entry for call in calls for entry in call]
    units = sum(put_payload_units(len(entry["Data"]) + len(entry["PartitionKey"].encode())) for entry in entries)
    return len(entries), units


def main() -> None:
    events = realistic_events(EVENTS)
    wires = [normalize_event(event) for event in events]
    serialized = [(wire["user_id"], encode_event(wire), wire["event_id"]) for wire in wires]
    total_bytes = sum(len(data) + len(key.encode()) for key, data, _ in serialized)
    optimum_units = math.ceil(total_bytes / PUT_PAYLOAD_UNIT_BYTES)
    optimum_records = math.ceil(total_bytes / KPL_AGGREGATION_MAX_BYTES)

    records, units = usage(ours(events))
    reference_records, reference_units = usage(aws_kinesis_agg(serialized))
    print(
        json.dumps(
            {
                "bench": "producer_packing",
                "events": EVENTS,
                "user_record_bytes": total_bytes,
                "kinesis_records": records,
                "put_payload_units": units,
                "optimum": {"kinesis_records": optimum_records, "put_payload_units": optimum_units},
                "units_over_optimum": round(units / optimum_units - 1, 4),
                "records_over_optimum": round(records / optimum_records - 1, 4),
                "baseline": {"name": "no aggregation", "kinesis_records": EVENTS, "put_payload_units": EVENTS},
                "aws_kinesis_agg": {"kinesis_records": reference_records, "put_payload_units": reference_units},
            }
        )
    )


if __name__ == "__main__":
    main()
