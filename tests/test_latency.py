"""The demo's latency breakdown: each event's produce-to-scored time split into stages that add up."""

from __future__ import annotations

import pytest

from local_pipeline.latency import STAGES, EventTimes, FunctionSteps, breakdown, keeping_up

T0 = 1_800_000_000.0


def timed(producer: float, polling: float, function: float, invoke: float, start: float = T0) -> EventTimes:
    """An event whose stages took these seconds, put at ``start``."""
    arrived = start + producer
    invoked = arrived + polling
    return EventTimes(
        put=start, arrived=arrived, invoked=invoked, function_seconds=function, scored=invoked + function + invoke
    )


def test_one_event_is_split_at_arrival_invoke_and_the_functions_end():
    # GIVEN an event put at T0, stored by the stream 0.1 s later, invoked 0.9 s after that, in an
    # invocation that ran 0.5 s inside the function and was checkpointed 0.1 s after the function ended
    event = EventTimes(put=T0, arrived=T0 + 0.1, invoked=T0 + 1.0, function_seconds=0.5, scored=T0 + 1.6)

    # WHEN it is broken down
    figures = breakdown([event])

    # THEN each stage has its part, in milliseconds, and the whole 1.6 s is accounted for
    means = {name: row["mean_ms"] for name, row in figures["stages"].items()}
    assert means == {"producer": 100.0, "polling": 900.0, "function": 500.0, "invoke": 100.0}
    assert (figures["events"], figures["p50_ms"], figures["p99_ms"], figures["mean_ms"]) == (1, 1600.0, 1600.0, 1600.0)
    assert [stage.name for stage in STAGES] == list(figures["stages"])


def test_shares_are_of_all_the_time_and_tail_shares_of_the_slowest_events():
    # GIVEN nineteen events of 1 s and one of 5 s that waited 3.9 s for its invocation
    events = [timed(0.1, 0.4, 0.4, 0.1, start=T0 + n) for n in range(19)]
    events.append(timed(0.1, 3.9, 0.9, 0.1, start=T0 + 19))

    # WHEN they are broken down
    figures = breakdown(events)

    # THEN the percentiles are those of the totals (the slowest 1 in 20 is the p95 and p99)
    assert (figures["p50_ms"], figures["p95_ms"], figures["p99_ms"], figures["mean_ms"]) == (
        1000.0,
        5000.0,
        5000.0,
        1200.0,
    )
    stages = figures["stages"]
    assert (stages["polling"]["p50_ms"], stages["polling"]["p95_ms"]) == (400.0, 3900.0)
    # AND a stage's share is its part of the 24 s all events took, its tail share its part of the slowest
    assert {name: row["share"] for name, row in stages.items()} == {
        "producer": round(2.0 / 24, 3),
        "polling": round(11.5 / 24, 3),
        "function": round(8.5 / 24, 3),
        "invoke": round(2.0 / 24, 3),
    }
    assert {name: row["tail_share"] for name, row in stages.items()} == {
        "producer": 0.02,
        "polling": 0.78,
        "function": 0.18,
        "invoke": 0.02,
    }


def test_stage_means_add_up_to_the_mean_latency():
    # GIVEN events of uneven stages
    events = [timed(0.01 * n, 0.05 * (n % 7), 0.2 + 0.01 * (n % 3), 0.003 * n, start=T0 + n) for n in range(1, 200)]

    # WHEN they are broken down
    figures = breakdown(events)

    # THEN every event's stages add up to its latency, and so do the means and the shares
    for event in events:
        assert sum(event.stages()) == pytest.approx(event.total, abs=1e-6)
    stages = figures["stages"].values()
    assert sum(row["mean_ms"] for row in stages) == pytest.approx(figures["mean_ms"], abs=0.5)
    assert sum(row["share"] for row in stages) == pytest.approx(1.0, abs=0.003)
    assert sum(row["tail_share"] for row in stages) == pytest.approx(1.0, abs=0.003)


def test_a_function_duration_longer_than_its_invocation_leaves_no_negative_stage():
    # GIVEN an invocation whose reported duration exceeds the time between invoke and checkpoint
    # (two clocks: the function's own and the mapping's)
    event = EventTimes(put=T0, arrived=T0 + 0.1, invoked=T0 + 0.2, function_seconds=0.35, scored=T0 + 0.5)

    # THEN the function gets that whole time and the invoke stage none of it
    assert event.stages() == pytest.approx((0.1, 0.1, 0.3, 0.0), abs=1e-6)


def test_no_events_no_figures():
    assert breakdown([]) == {}


def test_function_steps_are_averaged_per_invocation_and_shared_out_of_their_sum():
    # GIVEN two invocations' step timings, the second without the last step
    steps = FunctionSteps()
    steps.add({"validate": 10.0, "load_states": 30.0, "save_states": 60.0})
    steps.add({"validate": 20.0, "load_states": 90.0})

    # WHEN they are summed up
    figures = steps.figures()

    # THEN each step has its mean per invocation and its share of the 210 ms, in the order first run
    assert list(figures) == ["validate", "load_states", "save_states"]
    assert figures["validate"] == {"mean_ms": 15.0, "share": round(30 / 210, 3)}
    assert figures["load_states"] == {"mean_ms": 60.0, "share": round(120 / 210, 3)}
    assert figures["save_states"] == {"mean_ms": 30.0, "share": round(60 / 210, 3)}
    assert FunctionSteps().figures() == {}


def test_a_pipeline_that_falls_behind_shows_latency_growing_and_a_lower_scored_rate():
    # GIVEN 100 events put over 9.9 s, the first scored 1 s after their put, each later one 0.1 s
    # later still: the pipeline scores 1 event per 0.2 s while they come every 0.1 s
    behind = [timed(0.1, 0.4 + 0.1 * n, 0.4, 0.1, start=T0 + 0.1 * n) for n in range(100)]
    # AND the same events scored 1 s after each put: it keeps up
    steady = [timed(0.1, 0.4, 0.4, 0.1, start=T0 + 0.1 * n) for n in range(100)]

    # WHEN each run is checked
    late, kept = keeping_up(behind), keeping_up(steady)

    # THEN both were put at about 10 events/s; only the run that fell behind scored them slower, and
    # its latency grew from the first quarter to the last
    assert late["put_per_second"] == kept["put_per_second"] == round(100 / 9.9, 1)
    assert kept["scored_per_second"] == round(100 / 10.9, 1)
    assert late["scored_per_second"] == round(100 / (9.9 + 1.0 + 9.9), 1)
    assert kept["first_quarter_p50_ms"] == kept["last_quarter_p50_ms"] == 1000.0
    assert late["first_quarter_p50_ms"] < 3000.0 < 8000.0 < late["last_quarter_p50_ms"]
    assert keeping_up(steady[:3]) == {}
