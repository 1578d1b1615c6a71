"""The trial logs (trial_logs/): written the same for a seed, and labelled by the keys the import gives."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from model.backtest import LINE_KEY, NORMAL_LABELS, label_keys, labels_by_line, read_source
from model.entities import entity_key
from model.evaluate import TRIALS, TrialLog
from traffic.importer import identify_user, is_google_health_check


def written(trial: TrialLog, folder: Path) -> Path:
    folder.mkdir()
    trial.write(folder)
    return folder


@pytest.mark.parametrize("trial", TRIALS, ids=[trial.name for trial in TRIALS])
def test_a_trial_log_is_labelled_by_the_keys_its_import_gives(trial: TrialLog, tmp_path: Path) -> None:
    # GIVEN a trial log written twice with its default seed
    logs = written(trial, tmp_path / "first")
    again = written(trial, tmp_path / "again")
    # THEN it is the same log
    for name in ("train.log", "test.log", "labels.csv"):
        assert (logs / name).read_bytes() == (again / name).read_bytes(), name
    # AND every entity of its test days, imported as the backtest reads it, has a label, anomalous
    # ones among them
    options = dict(zip(trial.backtest[::2], trial.backtest[1::2], strict=True))
    kind = options["--entity"]
    events = list(
        read_source(
            str(logs / "test.log"),
            format=options["--format"],
            log_format=options.get("--log-format"),
            failed_login_statuses=[int(options["--failed-login-status"])] if "--failed-login-status" in options else (),
            haproxy_headers=options["--haproxy-headers"].split(",") if "--haproxy-headers" in options else (),
        )
    )
    # (a load balancer's health checks are one client whatever their addresses, docs/traffic.md: the
    # generators, written before, label them per address)
    health_checks = {
        identify_user(None, None, None, event["user_agent"])
        for event in events
        if event["ip"] and event["user_agent"] and is_google_health_check(event["ip"], event["user_agent"])
    }
    entities = {entity_key(event, kind) for event in events} - health_checks
    with open(logs / "labels.csv", newline="") as handle:
        labels = {row["key"]: row["label"] for row in csv.DictReader(handle)}
    assert None not in entities
    if all(LINE_KEY.fullmatch(key) for key in labels):
        # (a log labelled by line, its attacks' lines only: every other entity is normal) each key
        # names a line of the log, and the test days' lines are some of them
        rekeyed = labels_by_line(labels, [str(logs / "train.log"), str(logs / "test.log")], options["--format"])
        assert not any(LINE_KEY.fullmatch(key) for key in rekeyed)
        test_ids = {event["event_id"] for event in events}
        assert {label for key, label in rekeyed.items() if key in test_ids} - {"normal"}
        return
    if not any(label.lower() in NORMAL_LABELS for label in labels.values()):
        # (a log labelled by its attacks alone, their sessions and lines: every other entity is
        # normal) every session key names test events, as the backtest matches them, and the lines'
        # keys name lines of the log
        rekeyed = labels_by_line(labels, [str(logs / "train.log"), str(logs / "test.log")], options["--format"])
        assert not any(LINE_KEY.fullmatch(key) for key in rekeyed)
        named = {key for key in labels if not LINE_KEY.fullmatch(key)}
        matched = {key for event in events for key in label_keys(event, entity_key(event, kind), named)}
        assert named
        assert named == matched
        return
    assert entities <= labels.keys()
    assert {labels[entity] for entity in entities} - {"normal"}
