"""``model.lifecycle``: the gate's rules, and one cycle on simulated traffic that promotes a better
candidate and rejects a deliberately damaged one."""

from __future__ import annotations

import copy
import json
import tarfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from console.labels import AlertKey, DynamoLabels, Verdict
from emulators import DUMMY_CREDENTIALS
from local_pipeline.resources import labels_table_definition
from model import backtest as backtest_module
from model import sample
from model.artifact import build_tarball, export_feature_config, extract_tarball, load_model
from model.backtest import DEFAULT_BATCH_EVENTS, Replay, in_time_order
from model.features import FEATURES_VERSION, event_time
from model.lifecycle import (
    DECISION_FILE,
    MODEL_CARD_FILE,
    RECORD_FILE,
    CycleInputs,
    Gate,
    Registry,
    allowed_alerts,
    auc_standard_error,
    backtest,
    damage_thresholds,
    decide,
    gate_figures,
    lookups_of,
    main,
    older_days,
    parse_as_of,
    register_live,
    register_trained,
    run_cycle,
    simulate_demo,
    train_previous,
)
from model.verdicts import BENIGN, JudgedAlert

# Enough simulated customers for the entity stages to calibrate within their budget on 3 days
# (600 do, and train in about half the time of the 1,000 these tests used before).
USERS = 600
TRAINING_DAYS = 3


def figures(**overrides: Any) -> dict[str, Any]:
    """One entity kind's gate figures: 2,000 normal entity-days, 50 labelled attackers."""
    base: dict[str, Any] = {
        "labelled": True,
        "budget_alerts": 8,
        "budget_entity_days": 2000,
        "normal_entities": 2000,
        "anomalous_entities": 50,
        "anomalous_alerted": 40,
        "roc_auc": 0.95,
    }
    return {**base, **overrides}


# --- the gate ----------------------------------------------------------------------------------


def test_the_budget_allows_the_daily_poisson_spread_of_a_model_calibrated_at_it() -> None:
    # GIVEN a budget of 5 per 1,000 on 2,000 entity-days: 10 alerts expected
    limit = allowed_alerts(2000, Gate())
    # THEN the limit is the 99th percentile of Poisson(10), 18, not the mean
    assert limit == 18
    assert decide({"user": figures(budget_alerts=18)}, None, Gate()).promoted
    rejected = decide({"user": figures(budget_alerts=19)}, None, Gate())
    assert not rejected.promoted
    assert rejected.reason.startswith("user alert_volume: 19 alerts on 2000 normal user-days")


def test_on_a_site_too_small_for_the_budget_the_limit_follows_the_daily_alerts_training_aims_at() -> None:
    # GIVEN 500 normal entity-days over 10 days: 50 entities a day, where 5 per 1,000 is 0.25 a day
    # and training aims at one alert a day, 2 % of them (model.entities.alert_share)
    small = figures(budget_entity_days=500, budget_days=10, normal_entities=400)
    # THEN the limit is the 99th percentile of Poisson(10), 18, where the budget alone allows 7
    assert allowed_alerts(500, Gate(), days=10) == 18
    assert allowed_alerts(500, Gate(min_daily_alerts=0), days=10) == allowed_alerts(500, Gate()) == 7
    assert decide({"session": {**small, "budget_alerts": 18}}, None, Gate()).promoted
    rejected = decide({"session": {**small, "budget_alerts": 19}}, None, Gate())
    assert not rejected.promoted
    assert "budget 5 per 1,000 (a small site: 2.0% of them) allows 18" in rejected.reason


def test_auc_tolerance_is_one_standard_error_of_the_live_figure() -> None:
    error = auc_standard_error(0.95, 50, 2000)
    assert round(error, 4) == 0.0215  # Hanley and McNeil: A = 0.95, 50 positives, 2,000 negatives
    live = {"user": figures(roc_auc=0.95)}
    just_within = round(0.95 - round(error, 4), 4)
    assert decide({"user": figures(roc_auc=just_within)}, live, Gate()).promoted
    worse = decide({"user": figures(roc_auc=round(just_within - 0.001, 4))}, live, Gate())
    assert not worse.promoted
    assert "user entity_roc_auc" in worse.reason
    # AND with many attackers the floor applies
    assert auc_standard_error(0.999, 5000, 100000) < Gate().auc_tolerance_floor


def test_a_candidate_may_miss_five_percent_of_the_attackers_the_live_model_caught_rounded_down() -> None:
    live = {"user": figures(anomalous_alerted=40)}  # 50 attackers: allowance 2
    assert decide({"user": figures(anomalous_alerted=38)}, live, Gate()).promoted
    missed = decide({"user": figures(anomalous_alerted=37)}, live, Gate())
    assert not missed.promoted
    assert "37 of 50 labelled attackers alerted against the live model's 40 (allowance 2)" in missed.reason
    # AND with fewer than 20 attackers, not one more may be missed
    few = {"user": figures(anomalous_entities=19, anomalous_alerted=10)}
    assert not decide({"user": figures(anomalous_entities=19, anomalous_alerted=9)}, few, Gate()).promoted


def test_recall_is_not_a_bar_when_the_live_model_bought_it_with_alerts_over_the_budget() -> None:
    live = {"user": figures(anomalous_alerted=50, budget_alerts=200)}
    decision = decide({"user": figures(anomalous_alerted=30)}, live, Gate())
    assert decision.promoted
    recall = next(check for check in decision.checks if check.name == "anomalous_alerted")
    assert recall.note.startswith("not compared")


def test_without_labels_only_the_budget_is_checked_and_the_reason_says_so() -> None:
    unlabelled = figures(labelled=False, anomalous_entities=0, anomalous_alerted=0, roc_auc=None)
    decision = decide({"user": unlabelled}, {"user": unlabelled}, Gate())
    assert decision.promoted
    assert "no labels" in decision.reason
    assert [check.name for check in decision.checks] == ["alert_volume"]


def test_every_kind_the_candidate_alerts_on_must_pass() -> None:
    decision = decide({"user": figures(), "session": figures(budget_alerts=100)}, None, Gate())
    assert not decision.promoted
    assert decision.reason.startswith("session alert_volume")
    assert not decide({}, None, Gate()).promoted


# --- one cycle on simulated traffic -----------------------------------------------------------


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def cycle_inputs(demo_folder: Path) -> CycleInputs:
    return simulate_demo(demo_folder, users=USERS, days=TRAINING_DAYS)


@pytest.fixture(scope="module")
def window_model(cycle_inputs: CycleInputs, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A model trained on the whole window, loaded from its registered artifact as the gate loads one."""
    folder = tmp_path_factory.mktemp("window-model")
    registry = Registry(folder / "registry")
    return load_model(extract_tarball(registry.artifact(register_live(cycle_inputs.training, registry)), folder / "m"))


@pytest.fixture(scope="module")
def previous_models(cycle_inputs: CycleInputs) -> dict[str, Any]:
    """The live model an earlier cycle left, trained once on the window's older days: as trained
    (``calibrated``) and with its entity thresholds at a fifth (``damaged``)."""
    calibrated = train_previous(older_days(cycle_inputs, TRAINING_DAYS - 1))
    damaged = copy.deepcopy(calibrated)
    damage_thresholds(damaged)
    return {"calibrated": calibrated, "damaged": damaged}


def test_every_entity_kind_is_backtested_from_the_state_the_history_left(
    cycle_inputs: CycleInputs, window_model: Any
) -> None:
    # GIVEN a model trained on the window, with a user and a session stage
    loaded = window_model
    assert set(loaded.entity_models) == {"user", "session"}
    # WHEN the gate backtests it on the held-out day
    figures, history_events = backtest(loaded, cycle_inputs.training, cycle_inputs.held_out, cycle_inputs.labels)
    assert history_events == len(cycle_inputs.training)
    # THEN each kind's figures are those of its own replay warmed on the history alone: the session
    # replay must not start from the state the user replay reached at the end of the day
    network_of, agent_of = lookups_of(loaded)
    for kind in ("user", "session"):
        alone = Replay(loaded, kind, network_of, agent_of, cycle_inputs.labels)
        alone.warm_up(cycle_inputs.training)
        alone.run(in_time_order(cycle_inputs.held_out), DEFAULT_BATCH_EVENTS)
        assert figures[kind] == gate_figures(alone), kind


def test_the_history_streamed_in_chunks_leaves_the_state_one_pass_leaves(
    cycle_inputs: CycleInputs, window_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a model, and the training window as a list (taken whole, in time order)
    loaded = window_model
    network_of, agent_of = lookups_of(loaded)
    whole = Replay(loaded, "user", network_of, agent_of, {})
    monkeypatch.setattr(backtest_module, "WARM_UP_EVENTS", 10**9)
    assert whole.warm_up(cycle_inputs.training) == len(cycle_inputs.training)
    # WHEN the same events come as a stream (the archive, read in time order), a few hundred at a time
    monkeypatch.setattr(backtest_module, "WARM_UP_EVENTS", 301)
    streamed = Replay(loaded, "user", network_of, agent_of, {})
    assert streamed.warm_up(iter(sorted(cycle_inputs.training, key=event_time))) == len(cycle_inputs.training)
    # THEN every user's and address's state is the same, byte for byte
    for name in ("user_states", "ip_states"):
        one_pass, chunked = getattr(whole, name), getattr(streamed, name)
        assert {key: state.to_bytes() for key, state in one_pass.items()} == {
            key: state.to_bytes() for key, state in chunked.items()
        }


def card_in(artifact: Path) -> dict[str, Any]:
    with tarfile.open(artifact, "r:gz") as archive:
        member = archive.extractfile(MODEL_CARD_FILE)
        assert member is not None
        card: dict[str, Any] = json.loads(member.read())
    return card


def test_a_candidate_better_than_a_miscalibrated_live_model_is_promoted_and_can_be_rolled_back(
    cycle_inputs: CycleInputs, previous_models: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a live model whose entity thresholds are a fifth of their calibrated values
    registry = Registry(tmp_path / "registry")
    live_version = register_trained(previous_models["damaged"], registry)
    # WHEN a cycle trains and backtests a candidate on the same archive, with an analyst's verdict
    reasons = ("many pages new to this entity (new_path_mean 0.90, usually 0.20)",)
    benign = JudgedAlert("user", "u-1", BENIGN, reasons, "2026-11-01T00:00:00Z")
    record = run_cycle(replace(cycle_inputs, verdicts=[benign]), registry, geo="synthetic")
    # THEN the candidate is promoted: within the budget, where the live model is not
    assert record["decision"] == "promoted", record["reason"]
    for kind in ("user", "session"):
        budget = {check["kind"]: check for check in record["checks"] if check["name"] == "alert_volume"}
        assert budget[kind]["passed"]
    assert record["live"]["session"]["budget_alerts"] > record["candidate"]["session"]["budget_alerts"]
    # AND it is live, with the model it replaced remembered
    live = registry.live()
    assert live is not None
    assert (live["version"], live["previous"]) == (record["candidate_version"], live_version)
    # AND its artifact carries the model card it was promoted on
    card = card_in(registry.artifact(record["candidate_version"]))
    assert card["decision"] == {"decision": "promoted", "reason": record["reason"]}
    assert card["backtest"]["held_out_day"] == cycle_inputs.held_out_day.isoformat()
    assert card["backtest"]["figures"]["user"]["roc_auc"] == record["candidate"]["user"]["roc_auc"]
    assert card["training_events"]["total"] == len(cycle_inputs.training)
    assert card["entity_stages"]["user"]["alert_budget_per_1000_per_day"] == 5.0
    assert card["verdicts_used"] == len(cycle_inputs.labels) > 0
    assert card["verdicts_learned"]["benign"] == card["verdicts_learned"]["suppressed_patterns"] == 1
    unpacked = extract_tarball(registry.artifact(record["candidate_version"]), tmp_path / "candidate")
    assert load_model(unpacked).suppressions.suppresses("user", "u-1", benign.reasons)
    assert card["features_version"] == FEATURES_VERSION
    assert card["detector"] == "ecod"
    # AND the decision is recorded
    decisions = list((registry.root / "decisions").glob("*.json"))
    assert len(decisions) == 1
    assert json.loads(decisions[0].read_text())["candidate_version"] == record["candidate_version"]
    # WHEN an operator rolls back by hand THEN the previous model is live again
    assert main(["rollback", "--registry", str(registry.root)]) == 0
    rolled = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rolled["version"] == live_version
    assert rolled["reason"] == f"rolled back by hand from {record['candidate_version']}"


def test_a_damaged_candidate_is_rejected_and_the_live_model_stays(
    cycle_inputs: CycleInputs, previous_models: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN a well calibrated live model
    registry = Registry(tmp_path / "registry")
    live_version = register_trained(previous_models["calibrated"], registry)
    # WHEN the cycle's candidate is damaged (entity thresholds at a fifth of their value)
    record = run_cycle(cycle_inputs, registry, geo="synthetic", damage=damage_thresholds)
    # THEN it is rejected for its alert volume, and says so
    assert record["decision"] == "rejected"
    assert "alert_volume" in record["reason"]
    assert record["candidate"]["user"]["alerts"] > record["live"]["user"]["alerts"]
    # AND the live model is unchanged, the candidate kept with a card that says why
    live = registry.live()
    assert live is not None
    assert live["version"] == live_version
    card = card_in(registry.artifact(record["candidate_version"]))
    assert card["decision"]["decision"] == "rejected"
    assert card["decision"]["reason"] == record["reason"]


def test_promote_by_hand_refuses_a_version_that_is_not_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["promote", "nope", "--registry", str(tmp_path)]) == 2
    assert "no model nope" in capsys.readouterr().err


# --- the two halves the stack's jobs run --------------------------------------------------------


def strict_json(text: str) -> Any:
    """JSON as States.StringToJson reads it: NaN or Infinity is an error."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_the_train_and_gate_steps_judge_the_candidate_on_the_day_the_cycle_started_after(
    cycle_inputs: CycleInputs,
    previous_models: dict[str, Any],
    demo_folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN the archive, a miscalibrated live model, and a cycle started the morning after the held-out day
    archive = str(demo_folder / "archive")
    registry = Registry(tmp_path / "registry")
    live_version = register_trained(previous_models["damaged"], registry)
    as_of = f"{cycle_inputs.held_out_day + timedelta(days=1)}T03:00:00.123Z"  # $$.Execution.StartTime's form
    window = ["--archive", archive, "--as-of", as_of, "--days", str(TRAINING_DAYS)]
    # WHEN the training job's half runs
    assert main(["train", *window, "--model-dir", str(tmp_path / "model"), "--geo", "synthetic"]) == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # THEN it trained on the days before the held-out day, and nothing of that day
    assert trained == {
        "held_out_day": cycle_inputs.held_out_day.isoformat(),
        "training_events": len(cycle_inputs.training),
    }
    assert (tmp_path / "model" / "metadata.json").is_file()
    # WHEN the processing job's half judges it against the live model's artifact
    candidate = tmp_path / "candidate.tar.gz"
    build_tarball(tmp_path / "model", candidate)
    output = tmp_path / "output"
    gate = [
        "--candidate",
        str(candidate),
        "--live-model",
        str(registry.artifact(live_version)),
        "--output",
        str(output),
        "--feature-configs",
        str(tmp_path / "feature-configs"),
    ]
    labels = tmp_path / "labels.jsonl"  # the held-out day's attacks, as the simulator writes them
    labels.write_text(
        "".join(json.dumps({"event_id": key, "scenario": label}) + "\n" for key, label in cycle_inputs.labels.items())
    )
    assert main(["gate", *window, *gate, "--labels", str(labels)]) == 0
    # THEN decision.json is strict JSON the state machine's Choice reads, and promotes the candidate
    decision = strict_json((output / DECISION_FILE).read_text())
    assert decision["decision"] == "promoted", decision["reason"]
    assert decision["held_out_day"] == cycle_inputs.held_out_day.isoformat()
    assert decision["live"]["session"]["budget_alerts"] > decision["candidate"]["session"]["budget_alerts"]
    # AND the carded artifact and the full record sit beside it
    card = card_in(output / "model.tar.gz")
    assert card["decision"] == {"decision": "promoted", "reason": decision["reason"]}
    assert card["version"] == decision["candidate_version"]
    record = strict_json((output / RECORD_FILE).read_text())
    assert {check["name"] for check in record["checks"]} >= {"alert_volume", "entity_roc_auc"}
    # AND both models' feature configurations are published by id, as the scorer looks them up
    published = {path.name: json.loads(path.read_text()) for path in (tmp_path / "feature-configs").iterdir()}
    ids = {
        json.loads(export_feature_config(model, tmp_path / "exported.json").read_text())["feature_config_id"]
        for model in (candidate, registry.artifact(live_version))
    }
    assert set(published) == {f"{config_id}.json" for config_id in ids}
    assert all(config["feature_config_id"] + ".json" == name for name, config in published.items())


def test_the_train_step_trains_on_the_window_sampled_by_parallel_workers(
    cycle_inputs: CycleInputs, demo_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the cycle's training window sampled by three workers (the stack's sampling job; a window
    # of one day: how the parts are read does not depend on its length)
    archive = str(demo_folder / "archive")
    as_of = f"{cycle_inputs.held_out_day + timedelta(days=1)}T03:00:00.123Z"
    window = ["--archive", archive, "--as-of", as_of, "--days", "1"]
    day_before = datetime.combine(cycle_inputs.held_out_day, datetime.min.time(), UTC) - timedelta(days=1)
    window_events = [event for event in cycle_inputs.training if event_time(event) >= day_before.timestamp()]
    assert 0 < len(window_events) < len(cycle_inputs.training)
    for index in range(3):
        assert sample.main([*window, "--out", str(tmp_path / "sample"), "--part", f"{index}/3"]) == 0
    capsys.readouterr()
    # WHEN the training job's half runs on the sample instead of the archive
    assert main(["train", *window, "--sample", str(tmp_path / "sample"), "--model-dir", str(tmp_path / "model"),
                 "--geo", "synthetic"]) == 0  # fmt: skip
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # THEN it trained on the same window's events as from the archive, read by the workers
    assert trained == {"held_out_day": cycle_inputs.held_out_day.isoformat(), "training_events": len(window_events)}
    sampling = json.loads((tmp_path / "model" / "metadata.json").read_text())["sampling"]
    assert sampling["parts"] == 3
    assert sampling["events_kept"] == sampling["events_read"] == len(window_events)
    # AND a folder without parts is an error that says so
    assert main(["train", *window, "--sample", str(tmp_path), "--model-dir", str(tmp_path / "m2")]) == 2
    assert "no sampled parts there" in capsys.readouterr().err


def test_the_train_step_learns_from_the_verdicts_in_the_consoles_labels_table(
    cycle_inputs: CycleInputs,
    demo_folder: Path,
    aws_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN the console's labels table (on the emulator) holding an analyst's benign verdict
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", aws_endpoint)
    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(**labels_table_definition("lifecycle-labels"))
    reasons = ("many pages new to this entity (new_path_mean 0.90, usually 0.20)",)
    verdict = Verdict(AlertKey("user#u-1", 1_700_000_000), BENIGN, "", "ana", "", "user", "u-1", reasons, 2.0, "")
    DynamoLabels(dynamodb, "lifecycle-labels").put(verdict)
    as_of = f"{cycle_inputs.held_out_day + timedelta(days=1)}T03:00:00.000Z"
    window = ["--archive", str(demo_folder / "archive"), "--as-of", as_of, "--days", "1"]
    # WHEN the training job's half runs with the table, as the state machine passes it (on one day:
    # what is learned from the verdict does not depend on the window's length)
    model_dir = tmp_path / "model"
    assert main(["train", *window, "--model-dir", str(model_dir), "--geo", "synthetic",
                 "--verdicts-table", "lifecycle-labels"]) == 0  # fmt: skip
    capsys.readouterr()
    # THEN the candidate learned it: that pattern on that user no longer alerts
    assert load_model(model_dir).suppressions.suppresses("user", "u-1", reasons)


def test_the_gate_step_refuses_to_run_without_a_candidate(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["gate", "--archive", "x", "--output", "y"])
    assert "gate needs --candidate and --output" in capsys.readouterr().err


def test_the_cycle_start_time_is_read_with_its_z_suffix() -> None:
    assert parse_as_of("2026-11-30T03:00:00.123Z") == datetime(2026, 11, 30, 3, 0, 0, 123000, tzinfo=UTC)
    assert parse_as_of(None) is None
