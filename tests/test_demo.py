"""`make demo` in small: every produced event is archived and accounted for, and every attack is caught."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators import serving_stack
from local_pipeline.demo import DemoOptions, alert_target, run_demo, write_report
from local_pipeline.latency import STAGES
from traffic.scenarios import BLATANT_SCENARIOS


def test_a_small_demo_accounts_for_every_event_and_catches_every_attack_scenario(tmp_path: Path):
    # GIVEN a small population, a short training stretch and live traffic with a high attack share
    options = DemoOptions(
        users=150, training_days=1.0, live_days=0.5, attack_share=0.15, rate=0, report=tmp_path / "r.md", quiet=True
    )

    # WHEN the whole pipeline runs
    figures = run_demo(options)

    # THEN nothing is lost: every event is archived, and scored, parked or dead-lettered
    assert figures["errors"] == []
    assert figures["archived"] == figures["produced"]
    assert figures["scored"] + figures["bad"] + figures["dead_lettered"] == figures["produced"]
    assert figures["bad"] == 3  # the legacy writer's three malformed records, parked with their reason
    assert figures["scorer_emf"]["EventsScored"] == figures["scored"]
    # AND the example SQL over the archive counts every archived record (the legacy ones too)
    answer = figures["archive_sql"]
    assert answer["columns"] == ["event_type", "events", "users"]
    assert sum(row[1] for row in answer["rows"]) == figures["archived"]
    # AND every attack scenario the demo runs (the blatant ones, by default) ran and was caught at least once
    assert options.scenarios == BLATANT_SCENARIOS
    assert set(figures["scenarios"]) == set(BLATANT_SCENARIOS)
    for name, row in figures["scenarios"].items():
        assert row["caught"] >= 1, f"{name} was never caught: {row}"
    # AND the analyst console ran on the pipeline's tables and archive: the alerts sent are listed
    # (the first page holds 25), and the newest one's timeline came from the archive
    console = figures["console"]
    assert console["url"].startswith("http://127.0.0.1:")
    assert console["alerts_on_first_page"] == min(25, figures["alerts"]) >= 1
    assert console["newest_alert_events"] >= 1
    # AND the alerts are told apart by whom they are about, the attacks' users and sessions among them
    assert sum(figures["alerts_by_target"].values()) == figures["alerts"]
    assert figures["alerts_by_target"]["attack"] >= 1
    # AND those on normal traffic are put against the budget's unit: users' and sessions' active days
    # (an active user brings a user-day and a session-day at least)
    assert figures["entity_days"] > options.users
    normal = figures["alerts_by_target"].get("normal", 0)
    assert figures["normal_alerts_per_1000_entity_days"] == round(1000 * normal / figures["entity_days"], 2)
    # AND the model was served by the stack this machine has (the container's, where installed)
    assert figures["model_server"] == serving_stack().name
    # AND the live events' latency is reported with where it went: the stages' means add up to the
    # mean latency and their shares to the whole (values are not asserted: they depend on the machine)
    p50, p95, p99 = (figures[f"produce_to_scored_ms_p{n}"] for n in (50, 95, 99))
    assert 0 < p50 <= p95 <= p99
    stages = figures["latency_stages"]
    assert list(stages) == [stage.name for stage in STAGES]
    for name, row in stages.items():
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"], name
    assert sum(row["mean_ms"] for row in stages.values()) == pytest.approx(figures["produce_to_scored_ms_mean"], abs=1)
    assert sum(row["share"] for row in stages.values()) == pytest.approx(1.0, abs=0.003)
    assert sum(row["tail_share"] for row in stages.values()) == pytest.approx(1.0, abs=0.003)
    # AND the live stretch's pace is reported: put and scored rates, the latency's first and last quarters
    pace = figures["live_keeping_up"]
    for figure in ("put_per_second", "scored_per_second", "first_quarter_p50_ms", "last_quarter_p50_ms"):
        assert pace[figure] > 0, figure
    # AND the function stage is split by the scorer's steps, as its log lines reported them
    steps = figures["function_steps"]
    assert list(steps)[:4] == ["decode", "validate", "load_states", "featurize_and_score"]
    assert "save_states" in steps
    assert sum(row["share"] for row in steps.values()) == pytest.approx(1.0, abs=0.01)
    # AND the report shows a row per stage, and the steps
    write_report(figures, options.report)
    report = options.report.read_text()
    assert all(f"\n  {stage.name} " in report for stage in STAGES)
    assert "function by step (mean per invocation): decode " in report
    assert "live events put at " in report
    assert "per 1,000 user- and session-days" in report


def test_a_small_demo_archived_by_user_hash_accounts_for_every_record(tmp_path: Path):
    # GIVEN the same small pipeline with the archive laid out by user hash (archiveUserHashBuckets),
    # so Firehose's local stand-in sends every record through the partitioner function
    options = DemoOptions(
        users=150,
        training_days=1.0,
        live_days=0.5,
        attack_share=0.15,
        rate=0,
        archive_user_hash_buckets=16,
        report=tmp_path / "r.md",
        quiet=True,
    )

    # WHEN the whole pipeline runs (the model is trained from that archive)
    figures = run_demo(options)

    # THEN every record reached the bucket: the legacy writer's three malformed records, which the
    # partitioner fails, under errors/ and every event under events/, where SQL reads them
    assert figures["errors"] == []
    assert figures["archived"] == figures["produced"]
    assert figures["archived_as_errors"] == 3
    answer = figures["archive_sql"]
    assert sum(row[1] for row in answer["rows"]) == figures["archived"] - 3
    assert None not in {row[0] for row in answer["rows"]}
    # AND scoring is unchanged by the archive's layout: every event scored, parked or dead-lettered
    assert figures["scored"] + figures["bad"] + figures["dead_lettered"] == figures["produced"]
    write_report(figures, options.report)
    assert "3 records the partitioner failed" in options.report.read_text()


def test_an_alert_is_about_an_attack_when_its_user_or_session_sent_attack_events() -> None:
    attackers = {("user", "mallory"), ("session", "s-9")}
    assert alert_target({"entity": {"kind": "session", "id": "s-9"}}, attackers) == "attack"
    assert alert_target({"entity": {"kind": "session", "id": "s-1"}}, attackers) == "normal"
    assert alert_target({"entity": {"kind": "user", "id": "mallory"}}, attackers) == "attack"
    assert alert_target({"entity": {"kind": "logins", "id": "service"}}, attackers) == "service"
    assert alert_target({"user_id": "mallory", "event_id": "e-1"}, attackers) == "attack"  # a per-event alert
