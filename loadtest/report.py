"""Summaries, warnings, the capacity and cost estimate, the text report and the PNG plot of a load test run.

Rates are over the measured window's whole seconds. The close flush (what the producers still
delivered or lost after the run stopped putting) is reported on its own. When the stream throttled
or ran near its shards' capacity, the run measured those shards, not the load: the report says so,
and sizes the stream for the load that was offered (the target rate, or with ``--rate 0`` what
``put`` accepted, a lower bound).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loadtest import timeline as t
from loadtest.pricing import Load, monthly_cost
from loadtest.runner import Run
from vedette.limits import MIB, SHARD_WRITE_BYTES_PER_SECOND, SHARD_WRITE_RECORDS_PER_SECOND

# A run that used this share of its shards' write capacity in the measured window was bound by it.
CAPACITY_BOUND_SHARE = 0.9
# A run whose puts reached less than this share of the target rate was held back (put blocked).
KEPT_UP_SHARE = 0.95


def _percentile(ordered: list[float], share: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)], 1)


def capacity_share(kinesis_bytes: float, kinesis_records: float, shards: int) -> float:
    """The share of ``shards``' write capacity one second of this many bytes and records uses (the binding limit)."""
    return max(
        kinesis_bytes / (shards * SHARD_WRITE_BYTES_PER_SECOND),
        kinesis_records / (shards * SHARD_WRITE_RECORDS_PER_SECOND),
    )


def _limits(shards: int) -> str:
    return (
        f"{shards * SHARD_WRITE_BYTES_PER_SECOND / MIB:g} MiB/s, {shards * SHARD_WRITE_RECORDS_PER_SECOND:,} records/s"
    )


def summarize(run: Run, shards: int | None, target_rate: float, headroom: float) -> dict[str, Any]:
    """Totals, the measured window's rates, the close flush, warnings, the estimate and the timeline.

    ``shards`` is the stream's open shard count (None if unknown); ``target_rate`` the events/s asked
    for over all processes (0: unlimited)."""
    timeline, schedule = run.timeline, run.schedule
    measured = schedule.measured
    seconds = max(1, len(measured))

    def rate(name: str) -> float:
        return timeline.total(name, measured) / seconds

    delivered_rate = rate(t.DELIVERED)
    put_rate = rate(t.PUT) + rate(t.REFUSED)
    load = Load(rate(t.KINESIS_RECORDS), rate(t.KINESIS_BYTES), rate(t.PUT_PAYLOAD_UNITS))
    records = timeline.total(t.KINESIS_RECORDS)
    mean_record = timeline.total(t.KINESIS_BYTES) / records if records else 0.0
    accepted = timeline.total(t.PUT)
    lost = {name: timeline.total(name) for name in t.LOST}
    throttled = timeline.total(t.THROTTLED)
    entries_sent = records + throttled + timeline.total(t.ENTRY_ERRORS)
    used = capacity_share(load.bytes_per_second, load.records_per_second, shards) if shards else None
    latencies = sorted(timeline.latency_samples(measured))

    # The load to size the stream for: what was asked, or with no target what put accepted.
    offered = target_rate if target_rate > 0 else put_rate
    scale = offered / delivered_rate if delivered_rate else 0.0
    offered_load = Load(
        load.records_per_second * scale, load.bytes_per_second * scale, load.payload_units_per_second * scale
    )

    warnings = []
    if throttled:
        warnings.append(
            f"throttled: the stream refused {throttled:,} of {entries_sent:,} entries for throughput "
            f"({throttled / entries_sent:.1%}); events/s is what the shards admitted, not the load offered"
        )
    if shards and used is not None and used >= CAPACITY_BOUND_SHARE:
        warnings.append(
            f"capacity-bound: the measured window used {used:.0%} of the {shards} shard(s)' write capacity "
            f"({_limits(shards)})"
        )
    if target_rate > 0 and put_rate < KEPT_UP_SHARE * target_rate:
        warnings.append(
            f"behind: put took {put_rate:,.0f} events/s of the {target_rate:,.0f} asked (the producer pushed back "
            "or the processes ran out of CPU)"
        )
    if target_rate <= 0:
        warnings.append(
            f"--rate 0: the offered load is what put accepted ({put_rate:,.0f} events/s), so the shards and cost "
            "below are a lower bound; pass --rate to size a given load"
        )
    lost_total = sum(lost.values())
    if lost_total:
        warnings.append(
            f"lost: {lost_total:,} of {accepted:,} accepted events were not stored ({lost_total / accepted:.1%}: "
            f"{lost[t.EXPIRED]:,} expired, {lost[t.CLOSED]:,} still pending at close, {lost[t.FAILED]:,} failed)"
        )
    close_seconds = [second for second in timeline.span() if schedule.phase(second) == "close"]
    return {
        "started": schedule.started,
        "warmup_seconds": schedule.warmup,
        "measured_seconds": seconds,
        "shards": shards,
        "events_put": accepted,
        "refused_at_put": timeline.total(t.REFUSED),
        "delivered": timeline.total(t.DELIVERED),
        "failed": lost_total,
        "lost": lost,
        "lost_share_of_accepted": round(lost_total / accepted, 4) if accepted else 0.0,
        "events_per_second": round(delivered_rate),
        "put_events_per_second": round(put_rate),
        "target_events_per_second": target_rate or None,
        "kinesis_records_per_second": round(load.records_per_second, 1),
        "kinesis_mib_per_second": round(load.bytes_per_second / MIB, 3),
        "put_payload_units_per_second": round(load.payload_units_per_second, 1),
        "capacity_used": None if used is None else round(used, 3),
        "throttles": throttled,
        "entry_errors": timeline.total(t.ENTRY_ERRORS),
        "put_calls": timeline.total(t.PUT_CALLS),
        "put_latency_ms_p50": _percentile(latencies, 0.50),
        "put_latency_ms_p95": _percentile(latencies, 0.95),
        "put_latency_ms_p99": _percentile(latencies, 0.99),
        "close": {
            "seconds": round(max(0.0, (run.closed_at or schedule.ends) - schedule.ends), 1),
            "delivered": timeline.total(t.DELIVERED, close_seconds),
            "throttles": timeline.total(t.THROTTLED, close_seconds),
            "lost": sum(timeline.total(name, close_seconds) for name in t.LOST),
        },
        "warnings": warnings,
        "capacity": {
            "offered_events_per_second": round(offered),
            "basis": "target rate" if target_rate > 0 else "put rate (a lower bound)",
            **monthly_cost(offered_load, mean_record, headroom),
        },
        "timeline": [_row(run, second, shards) for second in timeline.span()],
    }


def _row(run: Run, second: int, shards: int | None) -> dict[str, Any]:
    cell: Mapping[str, int] = run.timeline.seconds.get(second, {})
    records, size = cell.get(t.KINESIS_RECORDS, 0), cell.get(t.KINESIS_BYTES, 0)
    return {
        "t": second,
        "second": second - run.schedule.started,
        "phase": run.schedule.phase(second),
        "put": cell.get(t.PUT, 0),
        "events": cell.get(t.DELIVERED, 0),
        "failed": sum(cell.get(name, 0) for name in t.LOST),
        "kinesis_records": records,
        "kinesis_bytes": size,
        "throttled": cell.get(t.THROTTLED, 0),
        "capacity_used": round(capacity_share(size, records, shards), 3) if shards else None,
        "put_latency_ms_p50": _percentile(sorted(run.timeline.latencies.get(second, [])), 0.5),
    }


RUN_LABELS = {"vedette": "Vedette producer", "baseline": "boto3 put_records, no aggregation"}


def render(results: dict[str, Any]) -> str:
    lines = [""]
    for name, label in RUN_LABELS.items():
        run = results.get(name)
        if run is None:
            continue
        capacity, close = run["capacity"], run["close"]
        lines += [
            label,
            f"  {run['events_per_second']:,} events/s stored over {run['measured_seconds']} s "
            f"(put {run['put_events_per_second']:,} events/s); accepted {run['events_put']:,}, "
            f"stored {run['delivered']:,}, lost {run['failed']:,}",
            f"  Kinesis: {run['kinesis_records_per_second']:,} records/s, {run['kinesis_mib_per_second']} MiB/s, "
            f"{run['put_payload_units_per_second']:,} PUT payload units/s"
            + (f", {run['capacity_used']:.0%} of {run['shards']} shard(s)" if run["capacity_used"] is not None else "")
            + f"; throttled entries {run['throttles']:,}, other entry errors {run['entry_errors']:,}",
            f"  put latency p50 {run['put_latency_ms_p50']} ms, p95 {run['put_latency_ms_p95']} ms, "
            f"p99 {run['put_latency_ms_p99']} ms",
            f"  close flush: {close['seconds']} s after the run, stored {close['delivered']:,}, "
            f"lost {close['lost']:,}, throttled entries {close['throttles']:,}",
            *(
                [
                    f"  produce-to-scored (probes): p50 {run['e2e']['produce_to_scored_ms_p50']} ms, "
                    f"p99 {run['e2e']['produce_to_scored_ms_p99']} ms; {run['e2e']['probes_scored']} of "
                    f"{run['e2e']['probes']} probes scored"
                ]
                if "e2e" in run
                else []
            ),
            *(f"  WARNING {warning}" for warning in run["warnings"]),
            f"  {capacity['offered_events_per_second']:,} events/s offered ({capacity['basis']}) needs "
            f"{capacity['shards']} shard(s) with {capacity['headroom']:.0%} headroom; per month: "
            f"provisioned ${capacity['provisioned_usd_per_month']:,}, "
            f"on-demand ${capacity['on_demand_usd_per_month']:,}",
            "",
        ]
    if results.get("ratio_to_baseline") is not None:
        ours, baseline = results["vedette"], results["baseline"]
        lines.append(
            f"ratio to the baseline: {results['ratio_to_baseline']}x events/s stored; not stored: Vedette "
            f"{ours['failed']:,} of {ours['events_put']:,} accepted ({ours['lost_share_of_accepted']:.1%}), "
            f"the baseline {baseline['failed']:,} of {baseline['events_put']:,} generated "
            f"({baseline['lost_share_of_accepted']:.1%})"
        )
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> None:
    """Per second, for each run: events stored and failed, the share of the shards' capacity used
    (with the capacity line), throttled entries and median put latency; the warm-up and the close
    flush shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(4, 1, figsize=(10, 10), sharex=True)
    events, capacity, throttles, latency = axes
    colors = {"vedette": "tab:blue", "baseline": "tab:orange"}
    shown = [name for name in RUN_LABELS if results.get(name) is not None]
    for name in shown:
        run, color, label = results[name], colors[name], RUN_LABELS[name]
        rows = run["timeline"]
        seconds = [row["second"] for row in rows]
        events.plot(seconds, [row["events"] for row in rows], color=color, label=f"{label}: stored")
        events.plot(seconds, [row["failed"] for row in rows], color=color, linestyle=":", label=f"{label}: lost")
        capacity.plot(
            seconds,
            [100 * row["capacity_used"] if row["capacity_used"] is not None else math.nan for row in rows],
            color=color,
            label=label,
        )
        throttles.plot(seconds, [row["throttled"] for row in rows], color=color, label=label)
        latency.plot(
            seconds,
            [row["put_latency_ms_p50"] if row["put_latency_ms_p50"] is not None else math.nan for row in rows],
            color=color,
            label=label,
        )
    if shown:
        first = results[shown[0]]
        if first["shards"]:
            label = f"{first['shards']} shard(s)' capacity ({_limits(first['shards'])})"
            capacity.axhline(100, color="black", linestyle="--", label=label)
        warmup, measured = first["warmup_seconds"], first["measured_seconds"]
        for axis in axes:
            axis.axvspan(0, warmup, color="grey", alpha=0.15, label="warm-up" if axis is events else None)
            axis.axvspan(
                warmup + measured,
                max(row["second"] for name in shown for row in results[name]["timeline"]) + 1,
                color="gold",
                alpha=0.15,
                label="close flush" if axis is events else None,
            )
            axis.grid(alpha=0.3)
    events.set_ylabel("events/s")
    events.legend(fontsize="small")
    capacity.set_ylabel("% of shard capacity")
    capacity.legend(fontsize="small")
    throttles.set_ylabel("throttled entries/s")
    latency.set_ylabel("put latency p50 (ms)")
    latency.set_xlabel("seconds since the run started (each run its own start)")
    figure.suptitle("Vedette load test, per second (calls counted when sent)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
