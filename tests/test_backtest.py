"""``python -m model.backtest``: the command users run on their own logs."""

from __future__ import annotations

import csv
import gzip
import json
import logging
import subprocess
import sys
import tarfile
from collections import Counter
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from model.artifact import load_model
from model.backtest import (
    BacktestError,
    EntityRecord,
    Replay,
    _below_chance_note,
    _over_budget_note,
    _warn_missing_keys,
    in_time_order,
    label_key,
    labels_by_line,
    normalized_label,
    read_labels,
    read_source,
    summarize,
    with_landing_keys,
    write_outputs,
)
from model.enrichment import NetworkInfo
from model.features import event_time
from model.train import save, train
from tests.model_factories import BROWSERS, START, catalogue_walk, nightly_syncs, normal_traffic, scraper_session
from vedette.events import parse_timestamp

ROOT = Path(__file__).resolve().parents[1]


def write_jsonl(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in events))
    return path


def run_backtest(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "model.backtest", "--quiet", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def backtest_sessions(logs: Path, labels: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """The documented session backtest: train on the logs' training days, replay the test days."""
    return run_backtest(
        "--train",
        str(logs / "train.jsonl"),
        "--test",
        str(logs / "test.jsonl"),
        "--labels",
        str(labels),
        "--entity",
        "session",
        "--out",
        str(out),
    )


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten days of people to train on; two later days of new people, two scrapers, and one client that
    keeps no cookies (three requests, each its own session, and each with its own agent, as a scanner
    numbers its tests in it) to test."""
    folder = tmp_path_factory.mktemp("logs")
    history = normal_traffic(users=120, days=12, seed=5)
    cut = (START + timedelta(days=10)).timestamp()
    train = [item for item in history if event_time(item) < cut]
    later = [item for item in history if event_time(item) >= cut]
    bots = scraper_session(START + timedelta(days=10, hours=3), 120, "bot-a") + scraper_session(
        START + timedelta(days=11, hours=15), 90, "bot-b"
    )
    bots += [
        {
            **item,
            "user_agent": f"Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:{run:06d})",
            "ip": "198.51.100.23",  # (not the scrapers' address, whose first request alerted that day)
            "session_id": f"cookieless-{run}-session",
        }
        for run in range(3)
        for item in scraper_session(START + timedelta(days=11, hours=16 + run), 1, "cookieless")
    ]
    write_jsonl(folder / "train.jsonl", train)
    write_jsonl(folder / "test.jsonl", sorted(later + bots, key=event_time))
    sessions = {item["session_id"] for item in later}
    lines = ["key,label", *(f"{session},normal" for session in sorted(sessions))]
    lines += ["bot-a-session,scraper", "bot-b-session,scraper"]
    lines += [f"cookieless-{run}-session,cookieless" for run in range(3)]
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_a_backtest_trains_replays_and_reports_session_alerts(logs: Path, tmp_path: Path) -> None:
    # WHEN a user backtests sessions with labels
    out = tmp_path / "report"
    result = backtest_sessions(logs, logs / "labels.csv", out)
    # THEN the last line is the summary, with entity- and event-level figures
    assert result.returncode == 0, result.stderr
    assert "label keys match" not in result.stderr  # every label names a test session
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["backtest"] == "summary"
    assert summary["entity"] == "session"
    assert summary["events"] == len((logs / "test.jsonl").read_bytes().splitlines())
    moments = [parse_timestamp(json.loads(line)["occurred_at"]).timestamp() for line in (logs / "test.jsonl").open()]
    assert summary["days"] == round((max(moments) - min(moments)) / 86_400, 2)  # the span, not dates touched
    scraper = summary["per_label"]["scraper"]
    assert (scraper["entities"], scraper["alerted"], scraper["alerted_share"]) == (2, 2, 1.0)
    assert scraper["median_seconds_to_first_alert"] < 240
    # (each kind of anomaly ranked against the normal entities alone, beside the overall ROC-AUC)
    assert scraper["roc_auc_against_normal"] >= 0.99
    assert "roc_auc_against_normal" not in summary["per_label"]["normal"]
    assert scraper["events_flagged_share"] > summary["per_label"]["normal"]["events_flagged_share"]
    assert summary["normal_alerts_per_1000_entities_per_day"] <= 50
    assert summary["entity_level"]["alerted_share"]["anomalous"] == 1.0
    assert summary["entity_level"]["alerted_share"]["normal"] <= 0.05
    assert summary["entity_level"]["roc_auc"] >= 0.9
    assert set(summary["event_level"]) == {"roc_auc", "pr_auc"}
    # AND the client without cookies alerted once: its later sessions were counted into that alert
    assert (summary["per_label"]["cookieless"]["alerted"], summary["folded_into_clients"]) == (3, 2)
    cookieless = summary["per_label"]["cookieless"]
    assert (cookieless["alerted_on_their_own"], cookieless["alerted_through_their_client"]) == (1, 2)
    # AND the report, the plots, the per-entity scores and the trained model are in --out
    for name in ("report.md", "scores.png", "alerts_per_day.png", "time_to_first_alert.png", "entities.csv"):
        assert (out / name).stat().st_size > 0, name
    # (the report says which waves the model does not watch, and why: these people never sign up)
    report = (out / "report.md").read_text()
    assert "- Waves of sign-ups: not trained (0 sign-ups, fewer than 10)." in report
    assert "## Surges of logins (the whole service)" in report  # (as docs/model.md names them)
    assert "not trained (no visit by a browser new to the site (after its first day) to count)." in report
    rows = (out / "entities.csv").read_text().splitlines()
    assert rows[0].startswith("entity,label,events")
    assert rows[0].split(",")[5:8] == ["alerts", "folded_into_waves", "folded_into_clients"]
    by_entity = {row.split(",")[0]: row.split(",") for row in rows[1:]}
    assert sorted(by_entity[f"cookieless-{run}-session"][7] for run in range(3)) == ["0", "1", "1"]
    # (the two scrapers, one client on two days, alerted on each day)
    bots = [row for entity, row in by_entity.items() if entity.startswith(("bot-", "cookieless-"))]
    assert sum(int(row[5]) for row in bots) == 3
    peaks = [float(row.split(",")[4]) for row in rows[1:]]
    assert peaks == sorted(peaks, reverse=True)  # sorted by score, highest first
    assert rows[1].split(",")[1] in ("scraper", "cookieless")
    assert "scraper" in (out / "report.md").read_text()
    # AND each entity's row names the address and user agent of its latest request, as the report's
    # first alerts do: what an analyst blocks or looks up
    latest: dict[str, dict[str, Any]] = {}
    for line in (logs / "test.jsonl").open():
        event = json.loads(line)
        key = event.get("session_id")
        if key and event["occurred_at"] >= latest.get(key, {}).get("occurred_at", ""):
            latest[key] = event
    with open(out / "entities.csv", newline="") as handle:
        clients = {row["entity"]: (row["last_address"], row["last_user_agent"]) for row in csv.DictReader(handle)}
    assert clients == {key: (event.get("ip") or "", event.get("user_agent") or "") for key, event in latest.items()}
    first_alert = (out / "report.md").read_text().split("## First alerts")[1].splitlines()[2]
    alerted = first_alert.split("`")[1]
    assert f"(from {latest[alerted]['ip']}, " in first_alert
    # AND the report lists the normal sessions that alerted, with their reasons, as entities.csv counts them
    false_alarms = [row for row in rows[1:] if row.split(",")[1] == "normal" and int(row.split(",")[5]) > 0]
    report = (out / "report.md").read_text()
    listed = report.split("## Normal (labelled so, or not labelled), alerted on their own (")[1].split("\n## ")[0]
    assert listed.startswith(f"{len(false_alarms)}; the highest first)")
    assert len([line for line in listed.splitlines() if line.startswith("- `")]) == min(len(false_alarms), 20)
    # AND the model it trained can be reused with --model (without the training log's history, every
    # user starts afresh, so the figures differ a little): the scrapers still alert
    again = run_backtest(
        "--model",
        str(out / "model.tar.gz"),
        "--test",
        str(logs / "test.jsonl"),
        "--labels",
        str(logs / "labels.csv"),
        "--entity",
        "session",
        "--out",
        str(tmp_path / "again"),
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1])["per_label"]["scraper"]["alerted"] == 2


def test_a_user_backtest_of_a_log_without_users_says_its_users_are_its_sessions(
    logs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN an access log's events without a user column: each user is its session, or its client
    events = [
        {"session_id": "s-1", "user_id": "session:s-1"},
        {"session_id": None, "user_id": "client:0123456789abcdef"},
    ]
    # WHEN a user backtest checks them
    with caplog.at_level("WARNING", logger="model.backtest"):
        _warn_missing_keys(events, "user", "access.log")
    # THEN it says --entity user gives the session figures
    (warning,) = [record.getMessage() for record in caplog.records]
    assert "access.log: no event names its user" in warning
    assert "--entity user judges the entities --entity session judges" in warning
    # AND a log whose events name their users (the test log here) says nothing
    caplog.clear()
    named = [json.loads(line) for line in (logs / "test.jsonl").read_text().splitlines()]
    with caplog.at_level("WARNING", logger="model.backtest"):
        _warn_missing_keys(named, "user", "test.jsonl")
    assert caplog.records == []


def test_a_session_backtest_warns_when_the_log_has_no_session_ids(logs: Path, tmp_path: Path) -> None:
    # GIVEN a log whose events carry no session id
    bare = [
        {**item, "session_id": None}
        for item in orjson.loads(b"[" + b",".join((logs / "test.jsonl").read_bytes().splitlines()) + b"]")
    ]
    write_jsonl(tmp_path / "bare.jsonl", bare)
    result = run_backtest(
        "--train",
        str(logs / "train.jsonl"),
        "--test",
        str(tmp_path / "bare.jsonl"),
        "--entity",
        "session",
        "--out",
        str(tmp_path / "out"),
    )
    # THEN it says so, naming the field and how to map it
    assert result.returncode == 0, result.stderr
    assert "carry the session id" in result.stderr


def test_a_session_backtest_trained_without_session_ids_says_why_it_has_no_session_stage(
    logs: Path, tmp_path: Path
) -> None:
    # GIVEN a training log whose events carry no session id
    bare = [
        {**item, "session_id": None}
        for item in orjson.loads(b"[" + b",".join((logs / "train.jsonl").read_bytes().splitlines()) + b"]")
    ]
    write_jsonl(tmp_path / "bare.jsonl", bare)
    # AND the model a user backtest trained on it (refused at once for sessions: none to train on)
    users = ["--test", str(logs / "test.jsonl"), "--entity", "user", "--out", str(tmp_path / "users")]
    assert run_backtest("--train", str(tmp_path / "bare.jsonl"), *users).returncode == 0
    # WHEN that model is backtested for sessions
    arguments = ["--test", str(logs / "test.jsonl"), "--entity", "session", "--out", str(tmp_path / "out")]
    result = run_backtest("--model", str(tmp_path / "users" / "model.tar.gz"), *arguments)
    # THEN it stops, saying that training left the stage out and why (not to train, which it did)
    assert result.returncode != 0
    assert "the model has no session stage (it has: user); training left it out: no event carries a session id" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("nights", "judged"),
    [(14, "machine clients are judged against theirs"), (3, "machine clients are judged against everyone's (too few")],
)
def test_a_backtest_says_how_it_judged_the_machine_clients_it_trained_on(
    tmp_path: Path, nights: int, judged: str
) -> None:
    # GIVEN two weeks of people and three integrations syncing every night (or the first three
    # nights) to train on, then a script walking the catalogue as fast behind a browser's user agent
    training = sorted(normal_traffic(users=30, days=14) + nightly_syncs(nights, START, "sync"), key=event_time)
    day = START + timedelta(days=14)
    scraper = catalogue_walk(day + timedelta(hours=11), "user-0007", "stolen-cookie", BROWSERS[0], "198.51.100.7")
    write_jsonl(tmp_path / "train.jsonl", training)
    write_jsonl(tmp_path / "test.jsonl", scraper)
    (tmp_path / "labels.csv").write_text("key,label\nstolen-cookie,scraper\n")
    # WHEN the sessions are backtested
    result = backtest_sessions(tmp_path, tmp_path / "labels.csv", tmp_path / "out")
    # THEN the script alerts, and the report says the people were judged apart from the integrations,
    # and what judged the integrations: their own episodes, or everyone's where they were too few
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["per_label"]["scraper"]["alerted"] == 1
    report = " ".join((tmp_path / "out" / "report.md").read_text().split())
    assert f"Training held {3 * nights} episodes of machine clients" in report
    assert judged in report


def test_the_report_says_when_machine_clients_were_too_few_clients_to_calibrate_on() -> None:
    from model.backtest import _machines_fitted_on

    judged = _machines_fitted_on(
        {"fitted_on": "everyone's episodes", "calibrated_on": "everyone's days", "episodes": 1}
    )
    assert judged.startswith("everyone's (theirs are fewer than 3 clients'")
    assert judged.endswith("calibrated on everyone's days)")
    # (a model trained before the field was calibrated on their days)
    earlier = _machines_fitted_on({"fitted_on": "everyone's episodes", "episodes": 9})
    assert earlier.endswith("calibrated on their days)")


def test_the_report_says_that_habitual_entities_alert_only_beyond_their_training_level() -> None:
    from types import SimpleNamespace

    from model.backtest import _calibration_note, _habitual_list

    # GIVEN a user stage that found two users over its threshold on three days or more of training
    stage = {"threshold": 58.0, "entity_days": 6582, "calibration": {"method": "quantile"}, "habitual_entities": 2}
    replay = SimpleNamespace(kind="user", model=SimpleNamespace(metadata={"entities": {"user": stage}}))
    # THEN the report says why they may score above it without an alert
    note = _calibration_note(replay)  # type: ignore[arg-type]
    assert "2 users crossed it on 3 or more days of training" in note
    assert "each alerts only beyond 1.25 times its highest score there" in note
    # AND it lists them, each with what it alerts beyond and its client where the test saw it
    office = EntityRecord(address="212.219.33.13", user_agent="Mozilla/5.0 (Windows NT 10.0) Edg/131.0")
    habits = {"client:43c890ae024b7c59": 40.0, "partner": 60.0}
    stages = {"user": SimpleNamespace(habitual=habits, alert_level=lambda key: habits[key] * 1.25)}
    listed = _habitual_list(
        SimpleNamespace(
            kind="user", model=SimpleNamespace(entity_models=stages), entities={"client:43c890ae024b7c59": office}
        )
    )  # type: ignore[arg-type]
    assert listed == [
        "The habitual users:",
        "",
        "- `client:43c890ae024b7c59` (from 212.219.33.13, Mozilla/5.0 (Windows NT 10.0) Edg/131.0): alerts beyond "
        "50.00 (its training level 40.00)",
        "- `partner` (not in the test): alerts beyond 75.00 (its training level 60.00)",
        "",
    ]
    # AND says nothing of them where there are none
    assert "habitual" not in _calibration_note(
        SimpleNamespace(
            kind="user", model=SimpleNamespace(metadata={"entities": {"user": {**stage, "habitual_entities": 0}}})
        )
    )  # type: ignore[arg-type]


def test_the_report_says_how_far_the_threshold_s_alert_rate_may_stray_from_the_budget_s() -> None:
    from types import SimpleNamespace

    from model.backtest import _calibration_note

    def note(share_range: list[float] | None, alert_share: float = 0.025) -> str:
        calibration = {
            "method": "exponential tail",
            "alert_share": alert_share,
            "sum_share": 0.025,
            "share_range": share_range,
        }
        stage = {"threshold": 29.7, "entity_days": 15, "alert_budget": 1000 * alert_share, "calibration": calibration}
        replay = SimpleNamespace(kind="session", model=SimpleNamespace(metadata={"entities": {"session": stage}}))
        return _calibration_note(replay)  # type: ignore[arg-type]

    # GIVEN a threshold set on 15 session-days, whose range of shares beyond it is wide
    # THEN the report gives the range, and says what narrows it
    wide = note([0.0033, 0.131])
    assert (
        "Set on that many days, it would be exceeded on 0.33% to 13% of session-days like training's (90% range; "
        "aimed at 2.5%); more days of training narrow the range."
    ) in wide
    # AND on a narrow range it gives the range alone
    narrow = note([0.0195, 0.031])
    assert "exceeded on 1.9% to 3.1% of session-days like training's (90% range; aimed at 2.5%)." in narrow
    assert "narrow the range" not in narrow
    # AND where the largest-term rule takes half the budget, it says the sum's share is part of it
    assert "(90% range; aimed at 2.5%, the sum's part of 5%)." in note([0.0195, 0.031], alert_share=0.05)
    # AND a model trained before the range was recorded says nothing of it
    assert "range;" not in note(None)


def test_exactly_one_model_source_is_required(tmp_path: Path) -> None:
    result = run_backtest("--test", "x.jsonl", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "exactly one of --train" in result.stderr


def test_labels_are_read_from_csv_and_from_simulator_lines(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("\ufeffkey,label\ns-1,bot\ns-2,0\n")  # with a spreadsheet's BOM
    assert read_labels(str(tmp_path / "a.csv")) == {"s-1": "bot", "s-2": "0"}
    (tmp_path / "b.jsonl").write_text('{"event_id": "e-1", "scenario": "card_testing", "episode_id": "x"}\n')
    assert read_labels(str(tmp_path / "b.jsonl")) == {"e-1": "card_testing"}
    (tmp_path / "c.csv").write_text("session_id,label\n")
    with pytest.raises(Exception, match="key and label"):
        read_labels(str(tmp_path / "c.csv"))


def test_labels_without_a_header_are_read_as_key_and_label_per_line(tmp_path: Path) -> None:
    # As a dataset publishes its annotations: "<session id> <label>", no header.
    (tmp_path / "test.txt").write_text("4f1c9a0e human\n\n77ab01 moderate_bot\n9e3d\tadvanced_bot\n")
    assert read_labels(str(tmp_path / "test.txt")) == {
        "4f1c9a0e": "human",
        "77ab01": "moderate_bot",
        "9e3d": "advanced_bot",
    }
    (tmp_path / "pairs.csv").write_text("s-1,bot\ns-2,normal\n")
    assert read_labels(str(tmp_path / "pairs.csv")) == {"s-1": "bot", "s-2": "normal"}
    (tmp_path / "ragged.txt").write_text("4f1c9a0e human\n77ab01 moderate bot\n")
    with pytest.raises(Exception, match=r"ragged.txt:2: expected a key and a label"):
        read_labels(str(tmp_path / "ragged.txt"))


def test_labels_that_mean_no_attack_are_normal_and_others_keep_their_name() -> None:
    assert [normalized_label(value) for value in ("normal", "0", "Human", " benign", "")] == ["normal"] * 5
    assert [normalized_label(value) for value in ("bot", " moderate_bot ", "1")] == ["bot", "moderate_bot", "1"]


def test_events_slightly_out_of_order_are_replayed_in_order() -> None:
    events = [{"occurred_at": f"2026-11-02T00:00:{second:02d}.000000Z", "n": second} for second in (5, 1, 9, 3, 7)]
    assert [item["n"] for _, item in in_time_order(events)] == [1, 3, 5, 7, 9]


def test_a_log_is_read_with_the_time_format_it_is_given(tmp_path: Path) -> None:
    # GIVEN a log whose times are day.month.year
    log = tmp_path / "app.log"
    log.write_text('02.11.2026 10:00:05 203.0.113.9 "GET /cart HTTP/1.1" 200 s-1\n')
    # WHEN the backtest reads it with --log-format and --time-format
    (event,) = read_source(
        str(log),
        format="custom",
        log_format='$time_local $remote_addr "$request" $status $cookie_sid',
        time_format="%d.%m.%Y %H:%M:%S",
    )
    # THEN the time, the request and the session are read
    assert event["occurred_at"] == "2026-11-02T10:00:05.000000Z"
    assert (event["resource"], event["session_id"]) == ("/cart", "s-1")


def test_a_log_written_behind_a_proxy_is_read_with_the_clients_addresses(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN 25 requests through a CDN (198.51.100.20) in front of a load balancer (10.0.0.17)
    log = tmp_path / "access.log"
    log.write_text(
        "".join(
            f'10.0.0.17 [02/Nov/2026:10:00:{n:02d} +0000] "GET / HTTP/1.1" 200 "192.0.2.{n}, 198.51.100.20"\n'
            for n in range(25)
        )
    )
    fmt = '$remote_addr [$time_local] "$request" $status "$http_x_forwarded_for"'
    # WHEN the backtest reads it naming the CDN, and without naming it
    told = list(read_source(str(log), format="custom", log_format=fmt, real_ip_from=[ip_network("198.51.100.0/24")]))
    untold = list(read_source(str(log), format="custom", log_format=fmt))
    # THEN the clients are found behind both proxies only when the CDN is named
    assert [event["ip"] for event in told] == [f"192.0.2.{n}" for n in range(25)]
    assert {event["ip"] for event in untold} == {"198.51.100.20"}
    # AND reading the load balancer's own address is warned about, with what to add
    caplog.clear()
    list(read_source(str(log), format="custom", log_format='$remote_addr [$time_local] "$request" $status'))
    assert any("private-network addresses (10.0.0.17)" in record.getMessage() for record in caplog.records)


def test_entities_that_labels_naming_people_too_leave_out_are_in_no_figure(logs: Path, tmp_path: Path) -> None:
    # GIVEN labels that name every session of the people and the scrapers, but not the scanner's
    # (as a dataset's labels miss requests that came without its session column)
    rows = (logs / "labels.csv").read_text().splitlines()
    labels = tmp_path / "labels.csv"
    labels.write_text("\n".join(row for row in rows if ",cookieless" not in row) + "\n")
    # WHEN the backtest runs with them
    result = backtest_sessions(logs, labels, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    # THEN the scanner's three sessions, which alerted, are counted apart: not as people alerted
    assert summary["unlabelled"] == {"entities": 3, "alerted": 3}
    people = sum(1 for row in rows[1:] if row.endswith(",normal"))
    assert summary["per_label"]["normal"]["entities"] == people
    assert set(summary["per_label"]) == {"normal", "scraper"}
    assert summary["entity_level"]["alerted_share"]["normal"] <= 0.05
    # AND the report shows them, saying why they are in no figure
    report = (tmp_path / "out" / "report.md").read_text()
    assert "| not labelled (in no figure: the labels name normal sessions too) | 3 | 3 | 100.0% |" in report
    assert "`cookieless-0-session` (not labelled)" in report

    # WHEN the labels name only the attacks
    labels.write_text("\n".join(row for row in rows if not row.endswith(",normal")) + "\n")
    result = backtest_sessions(logs, labels, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    # THEN everything they do not name is normal, as before
    assert "unlabelled" not in summary
    assert summary["per_label"]["normal"]["entities"] == people


def test_labels_that_name_nothing_in_the_test_log_are_warned_about(logs: Path, tmp_path: Path) -> None:
    # GIVEN labels that name the sessions in another form (upper case: a spreadsheet's doing)
    labels = tmp_path / "labels.csv"
    rows = (logs / "labels.csv").read_text().splitlines()
    labels.write_text("\n".join([rows[0], *(row.upper().replace(",NORMAL", ",normal") for row in rows[1:])]) + "\n")
    # WHEN the backtest runs with them
    result = backtest_sessions(logs, labels, tmp_path / "out")
    # THEN it says that none matched, showing a label key and a session id of the log side by side
    assert result.returncode == 0, result.stderr
    assert f"only 0 of {len(rows) - 1} label keys match" in result.stderr
    assert "match an event id, session id or user id of the training or test events (unmatched: 'USER-" in result.stderr
    assert "the test's session ids look like '" in result.stderr
    # AND labels of which a few name nothing are noted, the few named (and not a session whose every
    # line is labelled by its event id too: its key names its events as well)
    tested = [json.loads(line) for line in (logs / "test.jsonl").read_text().splitlines()]
    by_line = [f"{item['event_id']},scraper" for item in tested if item["session_id"] == "bot-b-session"]
    unmatched = ["client:b3e53e3c4bcb247e,scanner", "client:0123456789abcdef,scanner"]
    labels.write_text("\n".join([*rows, *by_line, *unmatched]) + "\n")
    result = backtest_sessions(logs, labels, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "label keys match" not in result.stderr
    assert (
        f"2 of the {len(rows) - 1 + len(by_line) + len(unmatched)} label keys name no training or test event "
        "('client:b3e53e3c4bcb247e', 'client:0123456789abcdef')"
    ) in result.stderr


def test_what_the_labels_call_an_attack_is_not_learned_as_normal(tmp_path: Path) -> None:
    # GIVEN two weeks of people with a scraper walking the catalogue behind a browser's user agent on
    # six of the days, labelled, and the same scraper on the day after to test
    training = normal_traffic(users=30, days=14)
    scrapers = [
        item
        for day in range(2, 14, 2)
        for item in catalogue_walk(
            START + timedelta(days=day, hours=11), f"walker-{day}", f"walk-{day}", BROWSERS[0], "198.51.100.7"
        )
    ]
    training = sorted(training + scrapers, key=event_time)
    test = catalogue_walk(START + timedelta(days=14, hours=11), "walker-14", "walk-14", BROWSERS[0], "198.51.100.7")
    write_jsonl(tmp_path / "train.jsonl", training)
    write_jsonl(tmp_path / "test.jsonl", test)
    # (the labels name the training's people too, normal, and one of them the scraper's user: the
    # session's label comes first, for the training's events as for the test's)
    people = sorted({item["session_id"] for item in training if not item["session_id"].startswith("walk-")})
    lines = [f"walk-{day},scraper" for day in range(2, 16, 2)] + [f"{session},normal" for session in people]
    (tmp_path / "labels.csv").write_text("\n".join(["key,label", *lines, "walker-4,normal"]) + "\n")
    # WHEN the sessions are backtested as documented, and again with --train-on-labelled
    results = {}
    for option in ((), ("--train-on-labelled",)):
        out = tmp_path / f"out{len(option)}"
        result = run_backtest(
            "--train",
            str(tmp_path / "train.jsonl"),
            "--test",
            str(tmp_path / "test.jsonl"),
            "--labels",
            str(tmp_path / "labels.csv"),
            "--entity",
            "session",
            *option,
            "--out",
            str(out),
        )
        assert result.returncode == 0, result.stderr
        assert "label keys match" not in result.stderr  # the training's sessions are matched too
        with tarfile.open(out / "model.tar.gz") as artifact:
            metadata = json.load(artifact.extractfile("metadata.json"))  # type: ignore[arg-type]
        results[option] = (json.loads(result.stdout.strip().splitlines()[-1]), metadata["events"]["total"], out)
    # THEN by default the model learned from everything but the labelled scrapers, and the report says so
    summary, learned, out = results[()]
    assert (summary["left_out_of_training"], learned) == (len(scrapers), len(training) - len(scrapers))
    assert f"{len(scrapers):,} training events were labelled anomalous" in (out / "report.md").read_text()
    # AND the scraper alerts; learned from as normal traffic, it scores lower (or alerts no more)
    kept, learned_all, _ = results[("--train-on-labelled",)]
    assert (kept["left_out_of_training"], learned_all) == (0, len(training))
    assert summary["per_label"]["scraper"]["alerted"] == 1
    peaks = [float(row.split(",")[4]) for row in (out / "entities.csv").read_text().splitlines()[1:]]
    peaks_kept = [float(row.split(",")[4]) for row in (tmp_path / "out1" / "entities.csv").read_text().splitlines()[1:]]
    assert max(peaks) > max(peaks_kept)


@pytest.mark.parametrize("log_format", ["combined", "common", "istio", "alb"])
def test_a_session_backtest_of_a_format_without_sessions_is_refused_before_training(
    log_format: str, tmp_path: Path
) -> None:
    # WHEN a user asks for session alerts on a combined (or common, Istio or ALB) log, which has no session column
    result = run_backtest(
        "--train",
        "train.log",
        "--test",
        "test.log",
        "--format",
        log_format,
        "--entity",
        "session",
        "--out",
        str(tmp_path),
    )
    # THEN it stops at once (before reading or training on anything), saying why and what to do instead
    assert result.returncode == 2
    assert f"the {log_format} format has no session column" in result.stderr
    assert "--entity user" in result.stderr
    assert not any(tmp_path.iterdir())


def test_normal_alerts_far_over_the_budget_are_named_by_their_agents() -> None:
    # GIVEN a backtest whose normal sessions alerted: two crawler visits and a person, and a bot
    def record(label: str, agent: str, alerts: int = 1) -> EntityRecord:
        return EntityRecord(alerts=alerts, labels=Counter({label: 1}), user_agent=agent)

    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    entities = {
        "s1": record("normal", googlebot),
        "s2": record("normal", googlebot),
        "s3": record("normal", "Firefox/132.0"),
        "s4": record("normal", "Safari/605.1", alerts=0),
        "s5": record("scraper", "curl/8.5.0"),
    }
    replay = SimpleNamespace(
        kind="session",
        entities=entities,
        tracker=SimpleNamespace(model=SimpleNamespace(alert_budget=5.0)),
        model=SimpleNamespace(metadata={}),  # (a model trained before the share range was recorded)
    )
    # WHEN normal sessions alerted 175 per 1,000 a day
    (note, _) = _over_budget_note(replay, {"normal_alerts_per_1000_entities_per_day": 175.0})  # type: ignore[arg-type]
    # THEN the report says how far over the budget, and which agents the normal alerted ones had
    assert note.startswith("Normal sessions alerted 35 times the budget (175.0 per 1,000 a day against 5).")
    assert f"2 `{googlebot}`; 1 `Firefox/132.0`" in note
    assert "curl" not in note
    assert "Safari" not in note
    # AND within twice the budget, or without labels, it says nothing
    assert _over_budget_note(replay, {"normal_alerts_per_1000_entities_per_day": 9.0}) == []  # type: ignore[arg-type]
    assert _over_budget_note(replay, {}) == []  # type: ignore[arg-type]


def test_normal_alerts_over_the_budget_are_set_against_what_training_s_days_allow() -> None:
    # GIVEN a session threshold set for 0.5 % of session-days, half of it the sum's and half the
    # largest-term rule's, each of which may leave 0.15 % to 0.33 % beyond it (the ticketing trial's)
    calibration = {
        "alert_share": 0.005,
        "sum_share": 0.0025,
        "share_range": [0.0015, 0.0033],
        "largest_term_share_range": [0.0015, 0.0033],
    }
    replay = SimpleNamespace(
        kind="session",
        entities={"s1": EntityRecord(alerts=1, labels=Counter({"normal": 1}), user_agent="Firefox/132.0")},
        tracker=SimpleNamespace(model=SimpleNamespace(alert_budget=5.0)),
        model=SimpleNamespace(metadata={"entities": {"session": {"calibration": calibration}}}),
    )
    # WHEN normal sessions alerted 21.7 per 1,000 a day (an on-sale day training did not hold)
    (busy, _) = _over_budget_note(replay, {"normal_alerts_per_1000_entities_per_day": 21.7})  # type: ignore[arg-type]
    # THEN the report says that is beyond what training's days allow: the test's traffic differs
    assert "(21.7 per 1,000 a day against 5), beyond the top of the 90% range that training's days give" in busy
    assert "(about 6.6): the test days hold traffic unlike training's." in busy
    # AND where a small training set's threshold could give as much, it says so
    small = {"alert_share": 0.025, "sum_share": 0.025, "share_range": [0.0033, 0.131], "largest_term_share_range": None}
    replay.model.metadata["entities"]["session"]["calibration"] = small
    (noisy, _) = _over_budget_note(replay, {"normal_alerts_per_1000_entities_per_day": 66.7})  # type: ignore[arg-type]
    assert "within the 90% range that training's days give (up to about 131): a threshold set on few days may" in noisy
    assert "may give as much." in noisy


def test_a_visits_first_request_before_its_cookie_takes_the_label_of_the_visit_it_began() -> None:
    # GIVEN events imported from a log without addresses whose visits' first requests carry no
    # session cookie yet, so the import keyed them by their client (a crowded agent's: "client:"):
    # a bot's (its assets follow in the same second, with the cookie), a person's whose next request
    # came a minute later, and one the labels name by line
    def request(second: int, session: str, agent: str) -> dict[str, Any]:
        moment = (START + timedelta(seconds=second)).isoformat().replace("+00:00", "Z")
        return {"occurred_at": moment, "session_id": session, "user_id": session, "ip": None, "user_agent": agent}

    chrome, firefox, client = "Chrome/72.0", "Firefox/65.0", "client:4734f8e032d97979"
    events = [
        request(0, client, chrome),
        request(1, "bot1", chrome),
        request(4, client, firefox),
        request(64, "person1", firefox),
        request(99, client, chrome),
        request(100, "bot2", chrome),
    ]
    keys = [None, "bot1", None, None, "access_1.log:5", None]
    # WHEN training's label keys are completed
    given = with_landing_keys(events, keys)
    # THEN the bot's landing takes its visit's key; the person's, a minute before its next request,
    # and the one labelled by line keep theirs
    assert given == ["bot1", "bot1", None, None, "access_1.log:5", None]
    # AND events none of which has a session of its own are left as they are
    assert with_landing_keys(events[:1], [None]) == [None]


def test_an_entity_s_row_names_the_client_that_raised_its_alert_beside_its_latest(tmp_path: Path) -> None:
    # GIVEN a model of people, and an account walked by a script from a hosting address, then used
    # again by its owner from home (a takeover's attacker, then the victim)
    trained = train(normal_traffic(users=120, days=10))
    moment = START + timedelta(days=10, hours=12)
    script = scraper_session(moment, requests=90, user="user-0042")
    owner = {**script[-1], "ip": "198.51.100.42", "user_agent": BROWSERS[0], "resource": "/account"}
    owner["event_id"] = "22222222-0000-4000-8000-000000000001"
    owner["occurred_at"] = (moment + timedelta(hours=1)).isoformat().replace("+00:00", "Z")

    def network_of(ip: str) -> NetworkInfo | None:
        return NetworkInfo("NL", 64501, "Example Cloud", True) if ip == "203.0.113.7" else None

    # WHEN the backtest replays them, with a lookup that knows the script's address
    replay = Replay(load_model(save(trained, tmp_path / "model")), "user", network_of=network_of)
    replay.run(((event_time(item), item) for item in [*script, owner]), 100)
    write_outputs(replay, summarize(replay), tmp_path / "out")
    # THEN its row names the script's client, which raised the alert, with its country and network,
    # and its owner's, the latest
    with open(tmp_path / "out" / "entities.csv", newline="") as handle:
        (row,) = [row for row in csv.DictReader(handle) if row["entity"] == "user-0042"]
    assert int(row["alerts"]) >= 1
    assert (row["alert_address"], row["alert_user_agent"]) == ("203.0.113.7", "python-requests/2.32")
    assert (row["alert_country"], row["alert_network"]) == ("NL", "AS64501 Example Cloud")
    assert (row["last_address"], row["last_user_agent"]) == ("198.51.100.42", BROWSERS[0])
    # AND the report's first alerts name the client that raised them
    report = (tmp_path / "out" / "report.md").read_text()
    assert "- `user-0042` (from 203.0.113.7 (NL, AS64501 Example Cloud), python-requests/2.32)" in report


def test_normal_alerts_are_counted_apart_for_named_users_and_for_clients(tmp_path: Path) -> None:
    # GIVEN a model of people; a later day of people, and of clients whose calls named no user (an
    # app's token refreshes before it signs in), each keyed by its address and agent
    trained = train(normal_traffic(users=120, days=10))
    later = (START + timedelta(days=10)).timestamp()
    people = [item for item in normal_traffic(users=40, days=11, seed=3) if event_time(item) >= later]
    refreshes = [
        {
            **{key: value for key, value in item.items() if key != "session_id"},
            "event_id": f"11111111-0000-4000-8000-{number:012x}",
            "user_id": f"client:{number:016x}",
            "event_type": "api_call",
            "resource": "/v1/auth/refresh",
        }
        for number, item in enumerate(people[:: max(len(people) // 60, 1)])
    ]
    # WHEN the backtest replays them, with labels
    labels = {item["user_id"]: "normal" for item in people + refreshes}
    replay = Replay(load_model(save(trained, tmp_path / "model")), "user", labels=labels)
    replay.run(((event_time(item), item) for item in sorted(people + refreshes, key=event_time)), 100)
    summary = summarize(replay)
    # THEN the normal alerts' rate is given over both, and over each apart, with the clients' share
    split = summary["normal_alerts_per_1000_by_entity"]
    clients = {item["user_id"] for item in refreshes}
    users = {item["user_id"] for item in people}
    assert split["unnamed_share"] == round(len(clients) / len(clients | users), 4)

    def rate(names: set[str]) -> float:
        records = [replay.entities[name] for name in names]
        return round(1000.0 * sum(record.alerts for record in records) / sum(len(record.days) for record in records), 3)

    assert (split["named_users"], split["unnamed_users"]) == (rate(users), rate(clients))
    assert rate(users) != rate(clients)  # (swapped, the figures would differ)
    assert summary["normal_alerts_per_1000_entities_per_day"] == rate(users | clients)
    # AND the report says so
    write_outputs(replay, summary, tmp_path / "out")
    assert (
        f"the users the log named raised {rate(users)} alerts per 1,000 a day"
        in (tmp_path / "out" / "report.md").read_text()
    )


def test_a_format_string_alone_reads_the_logs_in_it(logs: Path, tmp_path: Path) -> None:
    # GIVEN the logs written as a web-bot dataset publishes its access logs: no address, the session
    # id in a column of its own
    dataset_format = '%h %l [%t] "%r" %>s %b "%{Referer}" SESSIONID "%{User-Agent}"'

    def access_log(name: str) -> Path:
        lines = []
        for line in (logs / f"{name}.jsonl").read_bytes().splitlines():
            item = json.loads(line)
            moment = parse_timestamp(item["occurred_at"]).strftime("%d/%b/%Y:%H:%M:%S +0000")
            request = f"GET {item.get('resource') or '/'} HTTP/1.1"
            lines.append(f'- - [{moment}] "{request}" 200 512 "-" {item["session_id"]} "{item["user_agent"]}"\n')
        path = tmp_path / f"{name}.log"
        path.write_text("".join(lines))
        return path

    train, test = access_log("train"), access_log("test")
    # WHEN a user gives the format string and no --format
    result = run_backtest(
        *("--train", str(train), "--test", str(test), "--labels", str(logs / "labels.csv"), "--entity", "session"),
        *("--log-format", dataset_format, "--out", str(tmp_path / "out")),
    )
    # THEN the logs are read in it, every line, and the scrapers alert
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["events"] == len(test.read_text().splitlines())
    assert summary["per_label"]["scraper"]["alerted"] == 2


def test_a_guessed_format_name_is_refused_with_the_way_to_read_that_log(tmp_path: Path) -> None:
    # WHEN a user gives the name of the server rather than its log's format
    result = run_backtest("--model", "m", "--test", "x.log", "--format", "nginx", "--out", str(tmp_path))
    # THEN the refusal names the format of its default log and the custom format for the others
    assert result.returncode == 2
    assert "unknown format 'nginx': nginx's default log format is 'combined'" in result.stderr
    assert "Formats: auto, archive, jsonl" in result.stderr


def test_a_log_format_that_cannot_be_read_is_refused_in_a_sentence(tmp_path: Path) -> None:
    # WHEN the format mixes Apache's directives with nginx's variables
    line = '- - [14/Oct/2019:11:13:23 +0300] "GET / HTTP/1.1" 200 5 "-" s1 "Mozilla/5.0"\n'
    (tmp_path / "train.log").write_text(line)
    result = run_backtest(
        "--train",
        str(tmp_path / "train.log"),
        "--test",
        str(tmp_path / "train.log"),
        "--format",
        "custom",
        "--log-format",
        '%h %l [%t] "%r" %>s %b "%{Referer}i" $session_id "%{User-Agent}i"',
        "--out",
        str(tmp_path / "out"),
    )
    # THEN it exits with a usage error naming the directive, not a traceback
    assert result.returncode == 2, result.stderr
    assert "backtest: log format" in result.stderr
    assert "mixes Apache's directives (%h)" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_session_backtest_of_events_without_session_ids_is_refused_before_training(
    logs: Path, tmp_path: Path
) -> None:
    # GIVEN event JSON lines without session ids (an API gateway's log converted: it has none)
    for name in ("train.jsonl", "test.jsonl"):
        lines = [json.loads(line) for line in (logs / name).read_text().splitlines()]
        (tmp_path / name).write_text("".join(json.dumps({**line, "session_id": None}) + "\n" for line in lines))
    # WHEN session alerts are asked for
    result = run_backtest(
        "--train",
        str(tmp_path / "train.jsonl"),
        "--test",
        str(tmp_path / "test.jsonl"),
        "--entity",
        "session",
        "--out",
        str(tmp_path / "out"),
    )
    # THEN it stops before training, saying what the events lack and what to do instead
    assert result.returncode == 2
    assert "none of the" in result.stderr
    assert "carries a session id" in result.stderr
    assert "give the events a session_id, or backtest --entity user" in result.stderr
    assert "model.train" not in result.stderr  # (training logs under model.train: it never started)


def test_the_report_explains_what_it_missed(logs: Path, tmp_path: Path) -> None:
    # GIVEN labels that call a scraper and an ordinary person's session anomalous
    person = json.loads((logs / "test.jsonl").read_text().splitlines()[-1])["session_id"]
    (tmp_path / "labels.csv").write_text(f"key,label\nbot-a-session,scraper\n{person},insider\n")
    # WHEN the sessions are backtested
    result = backtest_sessions(logs, tmp_path / "labels.csv", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["per_label"]["insider"]["alerted"] == 0
    # THEN the report lists the labelled session it did not alert on, with its highest score and
    # what stood out then; the scraper, alerted, is not listed
    report = (tmp_path / "out" / "report.md").read_text()
    missed = report.split("## Labelled anomalous, not alerted (1; the highest first)")[1].split("\n## ")[0]
    (line,) = [line for line in missed.splitlines() if line.startswith("- ")]
    assert line.startswith(f"- `{person}` (insider), ")
    assert "bot-a-session" not in missed
    # AND entities.csv has every entity's reasons at its peak, alerted or not, beside its alert's
    with open(tmp_path / "out" / "entities.csv", newline="") as handle:
        rows = {row["entity"]: row for row in csv.DictReader(handle)}
    assert rows["bot-a-session"]["reasons"]
    assert rows["bot-a-session"]["peak_reasons"]
    assert not rows[person]["reasons"]
    assert line.endswith(rows[person]["peak_reasons"].replace(" | ", "; ") or "nothing beyond the usual")


def test_a_label_is_found_by_event_then_entity_then_session_then_user() -> None:
    event = {"event_id": "e-1", "session_id": "s-1", "user_id": "u-1"}
    assert label_key(event, "u-1", {"u-1", "s-1", "e-1"}) == "e-1"
    assert label_key(event, "u-1", {"u-1", "s-1"}) == "u-1"  # the entity before the session
    assert label_key(event, "s-1", {"u-1", "s-1"}) == "s-1"
    assert label_key(event, None, {"u-1"}) == "u-1"
    assert label_key(event, "u-1", {"x"}) is None


def test_learning_from_labelled_events_needs_training() -> None:
    result = run_backtest("--model", "model.tar.gz", "--test", "t.jsonl", "--train-on-labelled", "--out", "out")
    assert result.returncode == 2
    assert "--train-on-labelled is about training: it needs --train" in result.stderr


EVENT = {"event_type": "page_view", "user_id": "u-1", "schema_version": 1}


def test_labels_kept_per_line_of_a_log_find_their_events(tmp_path: Path) -> None:
    # GIVEN a combined log (and a gzipped copy) and labels naming two of its lines, a line past its
    # end and a user, in a spreadsheet a labeller kept beside the log
    lines = [
        f'198.51.100.{n} - - [02/Nov/2026:10:00:{n:02d} +0000] "GET /page/{n} HTTP/1.1" 200 512 "-" "curl/8.5.0"\n'
        for n in range(5)
    ]
    (tmp_path / "test.log").write_text("".join(lines[:3]) + "\n" + "".join(lines[3:]))  # line 4 blank
    with gzip.open(tmp_path / "zipped.log.gz", "wt") as handle:
        handle.write("".join(lines))
    labels = {"test.log:2": "bot", "test.log:5": "bot", "test.log:99": "bot", "session:7": "normal"}
    labels |= {"zipped.log:1": "probe", "zipped.log.gz:2": "probe"}
    # WHEN the keys are matched with the logs the backtest reads (the same file given twice is one)
    sources = [str(tmp_path / "zipped.log.gz"), str(tmp_path / "test.log"), str(tmp_path / "test.log"), None]
    rekeyed = labels_by_line(labels, sources, "combined")
    # THEN each labelled line's key is the id of the event the import makes of it
    events = list(read_source(str(tmp_path / "test.log"), format="combined"))
    zipped = list(read_source(str(tmp_path / "zipped.log.gz"), format="combined"))
    assert rekeyed == {
        events[1]["event_id"]: "bot",  # line 2
        events[3]["event_id"]: "bot",  # line 5, after the blank line
        zipped[0]["event_id"]: "probe",
        zipped[1]["event_id"]: "probe",  # (the name on disk, .gz and all, names it too)
        "test.log:99": "bot",  # no such line: left as it is (the backtest warns of keys that match nothing)
        "session:7": "normal",
    }
    assert events[1]["resource"] == "/page/1"
    # AND a file name that two sources share is refused: its lines would be ambiguous
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "test.log").write_text(lines[0])
    with pytest.raises(BacktestError, match=r"labels name lines of test\.log, the name of both .* rename or copy"):
        labels_by_line(labels, [str(tmp_path / "other" / "test.log"), str(tmp_path / "test.log")], "combined")


def test_a_folder_of_a_load_balancer_s_files_is_read_as_one_log_and_labelled_by_its_lines(tmp_path: Path) -> None:
    # GIVEN a folder as a load balancer writes its logs to S3: a day folder each, gzipped files
    # whose base names repeat from day to day, a hidden file beside them
    def line(day: int, n: int) -> str:
        stamp = f"0{day}/Nov/2026:10:00:{n:02d} +0000"
        return f'198.51.100.{n} - - [{stamp}] "GET /page/{n} HTTP/1.1" 200 5 "-" "curl/8.5.0"\n'

    for day in (2, 3):
        folder = tmp_path / "AWSLogs" / "2026" / "11" / f"0{day}"
        folder.mkdir(parents=True)
        with gzip.open(folder / "node-a.log.gz", "wt") as handle:
            handle.write(line(day, 1) + line(day, 2))
    (tmp_path / "AWSLogs" / ".hidden.log").write_text(line(1, 9))  # (a hidden file, read it would be first)
    (tmp_path / "AWSLogs" / "2026" / "latest.log.gz").symlink_to(folder / "node-a.log.gz")  # (read once)
    # WHEN the backtest reads the folder as a log
    events = list(read_source(str(tmp_path / "AWSLogs"), format="combined"))
    # THEN its files are one log, in the order of their paths, the hidden one and the link left out
    assert [(event["occurred_at"][:10], event["resource"]) for event in events] == [
        ("2026-11-02", "/page/1"),
        ("2026-11-02", "/page/2"),
        ("2026-11-03", "/page/1"),
        ("2026-11-03", "/page/2"),
    ]
    # AND a label names a line of one of them by its path under the folder (a base name two share
    # is refused, as for two sources)
    labels = {"2026/11/03/node-a.log:2": "bot", "2026/11/02/node-a.log.gz:1": "probe"}
    rekeyed = labels_by_line(labels, [str(tmp_path / "AWSLogs")], "combined")
    assert rekeyed == {events[3]["event_id"]: "bot", events[0]["event_id"]: "probe"}
    with pytest.raises(BacktestError, match=r"labels name lines of node-a\.log, the name of both"):
        labels_by_line({"node-a.log:1": "bot"}, [str(tmp_path / "AWSLogs")], "combined")
    # AND so is a path two folder sources both hold (a training week's and a test week's)
    (tmp_path / "week2" / "2026" / "11" / "03").mkdir(parents=True)
    (tmp_path / "week2" / "2026" / "11" / "03" / "node-a.log").write_text(line(3, 1))
    with pytest.raises(BacktestError, match=r"labels name lines of 2026/11/03/node-a\.log, the name of both"):
        labels_by_line(labels, [str(tmp_path / "AWSLogs"), str(tmp_path / "week2")], "combined")


def test_labels_in_many_files_of_a_folder_are_reported_as_one_sum(tmp_path: Path, caplog) -> None:
    # GIVEN a load balancer's folder of five-minute files, a labelled line in each of twelve, and
    # labels in two files of another log
    folder = tmp_path / "AWSLogs"
    folder.mkdir()
    for number in range(12):
        stamp = f"02/Nov/2026:10:{number:02d}:00 +0000"
        (folder / f"node-{number:02d}.log").write_text(f'198.51.100.7 - - [{stamp}] "GET /p HTTP/1.1" 200 5 "-" "x"\n')
    labels = {f"node-{number:02d}.log:1": "bot" for number in range(12)}
    # WHEN the labels are matched to their lines
    with caplog.at_level(logging.INFO, logger="model.backtest"):
        rekeyed = labels_by_line({**labels, "node-00.log:2": "bot"}, [str(folder)], "combined")
    # THEN one line reports them all (a line a file, for hundreds of files, buried the rest)
    assert len(rekeyed) == 13
    found = [record.getMessage() for record in caplog.records if "labelled lines found" in record.getMessage()]
    assert found == ["12 files: 12 of 13 labelled lines found"]
    # AND a few files are reported one by one
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="model.backtest"):
        labels_by_line({"node-00.log:1": "bot", "node-01.log:1": "bot"}, [str(folder)], "combined")
    found = [record.getMessage() for record in caplog.records if "labelled lines found" in record.getMessage()]
    assert len(found) == 2
    assert all(message.endswith(": 1 of 1 labelled lines found") for message in found)


def test_a_labelled_line_of_event_json_lines_is_its_own_event_id(tmp_path: Path) -> None:
    # GIVEN JSON lines of events, the first with its own id and the second without
    first = {"event_id": "00000000-0000-4000-8000-000000000001", "occurred_at": "2026-11-02T10:00:00Z"}
    second = {"occurred_at": "2026-11-02T10:00:01Z"}
    events_file = tmp_path / "events.jsonl"
    events_file.write_text(f"{json.dumps({**first, **EVENT})}\n{json.dumps({**second, **EVENT})}\n")
    # WHEN labels name both lines (the file read by default, as JSON lines)
    rekeyed = labels_by_line({"events.jsonl:1": "bot", "events.jsonl:2": "bot"}, [str(events_file)])
    # THEN each is keyed by the id the import gives its event: its own, or one derived from the line
    assert sorted(rekeyed) == sorted(event["event_id"] for event in read_source(str(events_file)))
    assert first["event_id"] in rekeyed


def test_a_ranking_below_chance_that_the_alerts_set_right_is_explained() -> None:
    # GIVEN a log whose stuffing sessions, caught by their wave, rank below the people by their scores
    (note, _) = _below_chance_note({"roc_auc": 0.3996, "alerted_roc_auc": 0.9897})
    # THEN the report says why, and where the alerted rank them
    assert "rank below the normal ones (0.3996)" in note
    assert "the alerted first, they rank at 0.9897" in note
    # AND says nothing of a ranking above chance, or one the alerts do not set right
    assert _below_chance_note({"roc_auc": 0.62, "alerted_roc_auc": 0.99}) == []
    assert _below_chance_note({"roc_auc": 0.45, "alerted_roc_auc": 0.45}) == []
    assert _below_chance_note({}) == []


def test_time_to_first_alert_runs_from_the_first_event_labelled_anomalous() -> None:
    # GIVEN an account with a day of its owner's requests before the attack its labels name by event id
    taken_over = EntityRecord(first_seen=1_000.0, first_anomalous=90_000.0, first_alert_at=90_040.0)
    # THEN the delay runs from the attack's start, not from the owner's first request
    assert taken_over.seconds_to_first_alert == 40.0
    # AND an alert before the attack (on what led to it) counts as no delay; an entity without
    # anomalous events, or not alerted, measures from its first event, or not at all
    assert EntityRecord(first_seen=0.0, first_anomalous=500.0, first_alert_at=100.0).seconds_to_first_alert == 0.0
    assert EntityRecord(first_seen=10.0, first_alert_at=70.0).seconds_to_first_alert == 60.0
    assert EntityRecord(first_seen=10.0).seconds_to_first_alert is None
