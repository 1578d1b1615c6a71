"""capacity_plan: the whole pipeline's monthly cost and first quota hit at 1,000 to 1,000,000 events/s,
with the archive's layout and the training read's sampling job at each.

``loadtest.plan`` on the measured inputs (``loadtest/inputs.py``). Baseline in the same run: the
load test's cost model for the stream alone (``loadtest.pricing.monthly_cost``) at the same loads,
so the ratio says how much of the pipeline's cost the stream-only estimate leaves out.
"""

from __future__ import annotations

import json
import time

from loadtest.inputs import measured
from loadtest.plan import SCALES, plan
from loadtest.pricing import Load, monthly_cost
from vedette.limits import put_payload_units


def stream_only(events_per_second: float) -> float:
    """The load test's estimate: the cheaper of the stream's two capacity modes."""
    inputs = measured()
    records = events_per_second * inputs.event_bytes / inputs.aggregate_record_bytes
    units = records * put_payload_units(int(inputs.aggregate_record_bytes))
    cost = monthly_cost(Load(records, events_per_second * inputs.event_bytes, units), inputs.aggregate_record_bytes)
    return min(cost["provisioned_usd_per_month"], cost["on_demand_usd_per_month"])


def main() -> None:
    started = time.perf_counter()
    rows = []
    for scale in SCALES:
        result = plan(scale)
        limit = result.first_limit or result.next_limit
        rows.append(
            {
                "events_per_second": scale,
                "usd_per_month": result.monthly_usd,
                "shards": result.needs["stream"]["shards"],
                "first_limit": None if result.first_limit is None else result.first_limit.quota.key,
                "limit_reached_at_events_per_second": None
                if limit is None or limit.reached_at_events_per_second is None
                else round(limit.reached_at_events_per_second),
                "largest_line": max(result.cost, key=lambda name: result.cost[name]),
                "user_hash_buckets": result.needs["archive"]["user_hash_buckets"],
                "sampling_instances": result.needs["training"]["sampling_instances"],
                "sampling_hours_per_instance": result.needs["training"]["hours_per_instance"],
            }
        )
    seconds = time.perf_counter() - started
    baseline = [{"events_per_second": scale, "usd_per_month": round(stream_only(scale), 2)} for scale in SCALES]
    print(
        json.dumps(
            {
                "bench": "capacity_plan",
                "rows": rows,
                "plan_seconds": round(seconds, 3),
                "baseline": {"name": "loadtest.pricing.monthly_cost, the stream alone", "rows": baseline},
                "ratio_at_scales": [
                    round(row["usd_per_month"] / base["usd_per_month"], 1)
                    for row, base in zip(rows, baseline, strict=True)
                ],
            }
        )
    )


if __name__ == "__main__":
    main()
