"""`python -m console.verdicts`: what analysts' verdicts say about the model, for the backtest.

From the labels table it prints the precision of alerts over time (per ISO week of the alert's last
event: true positives over judged alerts) as one JSON object per line, and with ``--labels-csv``
writes the verdicts as the ``key,label`` CSV ``python -m model.backtest --labels`` reads (key: the
alerted user or session id; label: ``attack`` for a true positive, ``benign``, which the backtest
reads as normal); with ``--export-jsonl`` it writes them as the JSON lines ``python -m model.train
--verdicts`` learns from (``model.verdicts``). A verdict names an entity, so the backtest labels
all of that entity's events in the replayed log with it: replay the stretch the verdicts were given
on.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from console.labels import BENIGN, TRUE_POSITIVE, DynamoLabels, Verdict
from model.verdicts import JudgedAlert

ATTACK_LABEL = "attack"


def _week(timestamp: str) -> str:
    year, week, _ = datetime.fromisoformat(timestamp.replace("Z", "+00:00")).isocalendar()
    return f"{year}-W{week:02d}"


def precision_by_week(verdicts: Iterable[Verdict]) -> list[dict[str, Any]]:
    """Per ISO week of the alerts' last events, in order: judged alerts, true positives, benign, precision."""
    weeks: dict[str, dict[str, int]] = defaultdict(lambda: {TRUE_POSITIVE: 0, BENIGN: 0})
    for verdict in verdicts:
        if verdict.last_event_at and verdict.verdict in (TRUE_POSITIVE, BENIGN):
            weeks[_week(verdict.last_event_at)][verdict.verdict] += 1
    rows = []
    for week, counts in sorted(weeks.items()):
        judged = counts[TRUE_POSITIVE] + counts[BENIGN]
        rows.append(
            {
                "week": week,
                "judged": judged,
                "true_positives": counts[TRUE_POSITIVE],
                "benign": counts[BENIGN],
                "precision": round(counts[TRUE_POSITIVE] / judged, 4),
            }
        )
    return rows


def write_backtest_labels(verdicts: Iterable[Verdict], out: TextIO) -> int:
    """The ``key,label`` CSV of ``model.backtest``; an entity judged both ways counts as an attack.
    Returns the rows written."""
    labels: dict[str, str] = {}
    for verdict in verdicts:
        if verdict.verdict == TRUE_POSITIVE:
            labels[verdict.entity] = ATTACK_LABEL
        elif verdict.verdict == BENIGN:
            labels.setdefault(verdict.entity, BENIGN)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["key", "label"])
    writer.writerows(sorted(labels.items()))
    return len(labels)


def write_training_verdicts(verdicts: Iterable[Verdict], out: TextIO) -> int:
    """The verdicts as the JSON lines ``python -m model.train --verdicts`` reads (``model.verdicts``);
    returns the lines written."""
    judged = training_verdicts(verdicts)
    for verdict in judged:
        record = {
            "kind": verdict.kind,
            "entity": verdict.entity,
            "verdict": verdict.verdict,
            "reasons": list(verdict.reasons),
            "last_event_at": verdict.last_event_at,
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(judged)


def training_verdicts(verdicts: Iterable[Verdict]) -> list[JudgedAlert]:
    """The verdicts training learns from (``model.verdicts``): true positives and benign ones."""
    return [
        JudgedAlert(verdict.kind, verdict.entity, verdict.verdict, tuple(verdict.reasons), verdict.last_event_at)
        for verdict in verdicts
        if verdict.verdict in (TRUE_POSITIVE, BENIGN)
    ]


def read_table_verdicts(table: str, region: str | None = None, endpoint_url: str | None = None) -> list[JudgedAlert]:
    """The training verdicts of the labels table ``table`` (a scan: one item per judged alert)."""
    import boto3

    client = boto3.session.Session(region_name=region).client("dynamodb", endpoint_url=endpoint_url)
    return training_verdicts(DynamoLabels(client, table).all())


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.verdicts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels-table", required=True, help="the stack output labels_table_name")
    parser.add_argument("--endpoint-url", help="DynamoDB endpoint (a local pipeline)")
    parser.add_argument("--region", help="AWS region (default: boto3's configuration)")
    parser.add_argument("--labels-csv", type=Path, help="write the verdicts as model.backtest --labels reads them")
    parser.add_argument(
        "--export-jsonl", type=Path, help="write the verdicts as JSON lines for python -m model.train --verdicts"
    )
    args = parser.parse_args(argv)
    stream = out if out is not None else sys.stdout
    import boto3

    client = boto3.session.Session(region_name=args.region).client("dynamodb", endpoint_url=args.endpoint_url)
    verdicts = DynamoLabels(client, args.labels_table).all()
    for row in precision_by_week(verdicts):
        stream.write(json.dumps(row) + "\n")
    if args.labels_csv is not None:
        with args.labels_csv.open("w", newline="") as handle:
            written = write_backtest_labels(verdicts, handle)
        stream.write(json.dumps({"labels_csv": str(args.labels_csv), "entities": written}) + "\n")
    if args.export_jsonl is not None:
        with args.export_jsonl.open("w", encoding="utf-8") as handle:
            exported = write_training_verdicts(verdicts, handle)
        stream.write(json.dumps({"verdicts_jsonl": str(args.export_jsonl), "verdicts": exported}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
