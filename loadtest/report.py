"""Summaries, the capacity and cost estimate, the text report and the PNG plot of a load test run."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from loadtest.pricing import Load, monthly_cost
from vedette.limits import MIB


def _percentile(ordered: list[float], share: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)], 1)


def summarize(intervals: list[dict[str, Any]], started: float, warmup: float, headroom: float) -> dict[str, Any]:
    """Totals over the measured window (after the warm-up), a per-second timeline, and the estimate."""
    measured = [item for item in intervals if item["ended_at"] > started + warmup and not item["done"]]
    if measured:
        first = min(item["ended_at"] for item in measured) - 1.0
        last = max(item["ended_at"] for item in measured)
        seconds = max(1.0, last - first)
    else:
        seconds = 1.0

    def total(name: str, items: list[dict[str, Any]] = measured) -> int:
        return sum(int(item[name]) for item in items)

    latencies = sorted(value for item in measured for value in item["latencies_ms"])
    load = Load(total("kinesis_records") / seconds, total("kinesis_bytes") / seconds, total("payload_units") / seconds)
    mean_record = total("kinesis_bytes") / total("kinesis_records") if total("kinesis_records") else 0.0
    mean_event = total("event_bytes") / total("events_put") if total("events_put") else 0.0
    timeline: dict[int, dict[str, Any]] = defaultdict(lambda: {"delivered": 0, "latencies": []})
    for item in intervals:
        if item["done"]:
            continue  # the final flush at close spans several seconds: in the totals, not the timeline
        second = int(item["ended_at"] - started)
        timeline[second]["delivered"] += item["delivered"]
        timeline[second]["latencies"] += item["latencies_ms"]
    return {
        "measured_seconds": round(seconds, 1),
        "events_put": total("events_put", intervals),
        "delivered": total("delivered", intervals),
        "failed": total("failed", intervals),
        "events_per_second": round(total("delivered") / seconds),
        # Event bytes are counted when put; scaled to what was delivered, since puts can run ahead.
        "event_mib_per_second": round(total("delivered") / seconds * mean_event / MIB, 3),
        "kinesis_records_per_second": round(load.records_per_second, 1),
        "kinesis_mib_per_second": round(load.bytes_per_second / MIB, 3),
        "put_payload_units_per_second": round(load.payload_units_per_second, 1),
        "throttles": total("throttles", intervals),
        "retries": total("retries", intervals),
        "put_latency_ms_p50": _percentile(latencies, 0.50),
        "put_latency_ms_p95": _percentile(latencies, 0.95),
        "put_latency_ms_p99": _percentile(latencies, 0.99),
        "capacity": monthly_cost(load, mean_record, headroom),
        "timeline": [
            {
                "second": second,
                "events": slot["delivered"],
                "put_latency_ms_p50": _percentile(sorted(slot["latencies"]), 0.5),
            }
            for second, slot in sorted(timeline.items())
        ],
    }


def render(results: dict[str, Any]) -> str:
    lines = [""]
    for name in ("vedette", "baseline"):
        run = results.get(name)
        if run is None:
            continue
        capacity = run["capacity"]
        lines += [
            f"{'Vedette producer' if name == 'vedette' else 'boto3 put_records, no aggregation'}",
            f"  {run['events_per_second']:,} events/s ({run['event_mib_per_second']} MiB/s of events) over "
            f"{run['measured_seconds']} s; delivered {run['delivered']:,}, failed {run['failed']:,}",
            f"  Kinesis: {run['kinesis_records_per_second']:,} records/s, {run['kinesis_mib_per_second']} MiB/s, "
            f"{run['put_payload_units_per_second']:,} PUT payload units/s; throttles {run['throttles']:,}, "
            f"retries {run['retries']:,}",
            f"  put latency p50 {run['put_latency_ms_p50']} ms, p95 {run['put_latency_ms_p95']} ms, "
            f"p99 {run['put_latency_ms_p99']} ms",
            *(
                [
                    f"  produce-to-scored (probes): p50 {run['e2e']['produce_to_scored_ms_p50']} ms, "
                    f"p99 {run['e2e']['produce_to_scored_ms_p99']} ms; {run['e2e']['probes_scored']} of "
                    f"{run['e2e']['probes']} probes scored"
                ]
                if "e2e" in run
                else []
            ),
            f"  needs {capacity['shards']} shard(s) with {capacity['headroom']:.0%} headroom; per month: "
            f"provisioned ${capacity['provisioned_usd_per_month']:,}, "
            f"on-demand ${capacity['on_demand_usd_per_month']:,}",
            "",
        ]
    if results.get("ratio_to_baseline") is not None:
        lines.append(f"ratio to the baseline: {results['ratio_to_baseline']}x events/s")
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> None:
    """Events/s and median put latency per second, for each run, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (throughput, latency) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for name, label in (("vedette", "Vedette producer"), ("baseline", "boto3, no aggregation")):
        run = results.get(name)
        if run is None:
            continue
        seconds = [point["second"] for point in run["timeline"]]
        throughput.plot(seconds, [point["events"] for point in run["timeline"]], label=label)
        latency.plot(
            seconds,
            [
                point["put_latency_ms_p50"] if point["put_latency_ms_p50"] is not None else float("nan")
                for point in run["timeline"]
            ],
            label=label,
        )
    throughput.set_ylabel("events/s")
    throughput.legend()
    throughput.grid(alpha=0.3)
    latency.set_ylabel("put latency p50 (ms)")
    latency.set_xlabel("seconds since start")
    latency.grid(alpha=0.3)
    figure.suptitle("Vedette load test")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
