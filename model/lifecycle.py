"""One retraining cycle: train a candidate, backtest it against the live model, promote or reject.

::

    python -m model.lifecycle --archive ./archive --registry ./models [--days 7] [--labels verdicts.csv]
    python -m model.lifecycle --demo              # one cycle on simulated traffic, in a temporary folder

Steps, the same locally and in the stack's state machine (``stack/retraining.py``, which runs
``train`` in a SageMaker training job and ``gate`` in a processing job):

1. the held-out day is the most recent complete UTC day of the archive (``--held-out-day``); the
   candidate is trained (``model.train.train``, as ``make model`` does) on the ``--days`` days
   before it;
2. the candidate and the live model are replayed over the held-out day by the same backtest
   (``model.backtest.Replay``: the scorer's batches, state carried from the training window, the
   entity stage and its one-alert-per-episode rule), for every entity kind the candidate alerts on;
3. ``decide`` applies the gate (``Gate``): the candidate is promoted only if, for every kind, its
   alert volume is within the budget and its entity-level figures are no worse than the live
   model's, within the tolerances; every check is recorded, passed or not;
4. the candidate's artifact gets a model card (``model_card.json``: training window and counts,
   features version, detector, thresholds and alert budget, the backtest figures and the decision)
   and is stored under ``<registry>/models/<version>/``; a promoted one becomes ``live.json``. The
   decision goes to ``<registry>/decisions/`` and is printed as the last line::

    {"decision": "promoted" | "rejected", "reason": ..., "live": {...}, "candidate": {...}}

The local registry stands for the stack's artifacts bucket: ``live.json`` names what the endpoint
serves (``python -m model.lifecycle promote VERSION`` and ``rollback`` change it by hand).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from model.artifact import DETECTOR_FILE, ENTITIES_FILE, VOCABULARY_FILE, LoadedModel, extract_tarball, load_model
from model.backtest import DEFAULT_BATCH_EVENTS, Replay, entity_label, in_time_order, summarize
from model.entities import DEFAULT_ALERT_BUDGET, DEFAULT_MIN_DAILY_ALERTS, alert_share
from model.entity_training import ENTITY_KINDS
from model.exceptions import TrainingDataError
from model.features import IpState, SiteNow, UserState, event_time
from model.verdicts import JudgedAlert, read_verdicts

logger = logging.getLogger("model.lifecycle")

DEFAULT_TRAINING_DAYS = 7
# ``train`` and ``gate`` are the two halves of a cycle, run by the stack's SageMaker training and
# processing jobs (stack/retraining.py); ``cycle`` runs both on this machine.
ACTIONS = ("cycle", "train", "gate", "promote", "rollback", "status")
DECISION_FILE = "decision.json"
RECORD_FILE = "record.json"
MODEL_CARD_FILE = "model_card.json"
LIVE_FILE = "live.json"
MODELS_DIR = "models"
DECISIONS_DIR = "decisions"
ARTIFACT_NAME = "model.tar.gz"
# Gate tolerances (docs/deploy.md#the-retraining-cycle says why each is what it is).
# Entity ROC-AUC: a candidate may rank the day's entities worse than the live model by at most one
# standard error of the live model's figure (Hanley and McNeil, 1982), and never by less than this
# floor: a smaller drop is within what the day's handful of labelled attackers can resolve (with 40
# attackers among 600 users and an AUC of 0.97 the standard error is 0.019; with 400 among 6,000, 0.006).
AUC_TOLERANCE_FLOOR = 0.005
# Anomalous entities alerted: the candidate may miss at most this share of them more than the live
# model, rounded down: on a day with fewer than 20 labelled attackers, not a single one more.
RECALL_TOLERANCE_SHARE = 0.05
# Alert volume: the budget is a daily mean; a model calibrated exactly at the budget raises a
# Poisson count of alerts a day, and exceeds this quantile of it on only 1 day in 100.
BUDGET_CONFIDENCE = 0.99

# Not datetime.UTC (Python 3.11): the training and processing jobs run the image's Python 3.10.
UTC = timezone.utc


class LifecycleError(Exception):
    """A cycle that cannot run as asked (no events in the window, no model to compare); the message
    says what is missing."""


@dataclass(frozen=True)
class Gate:
    """When a candidate may replace the live model (see the module docstring and ``decide``)."""

    alert_budget: float = DEFAULT_ALERT_BUDGET
    min_daily_alerts: float = DEFAULT_MIN_DAILY_ALERTS  # as training calibrates (model.entities.alert_share)
    auc_tolerance_floor: float = AUC_TOLERANCE_FLOOR
    recall_tolerance_share: float = RECALL_TOLERANCE_SHARE
    budget_confidence: float = BUDGET_CONFIDENCE


@dataclass(frozen=True)
class Check:
    """One comparison of the gate: what was compared, the two values, the limit, and the outcome."""

    kind: str
    name: str
    passed: bool
    candidate: float | None
    live: float | None
    limit: float | None
    note: str = ""


@dataclass(frozen=True)
class Decision:
    promoted: bool
    reason: str
    checks: tuple[Check, ...] = ()

    @property
    def label(self) -> str:
        return "promoted" if self.promoted else "rejected"


def gate_figures(replay: Replay) -> dict[str, Any]:
    """What the gate compares, from a finished backtest replay: the backtest's own summary figures,
    plus the counts the budget and the recall checks need (entity-days, alerted attackers)."""
    summary = summarize(replay)
    labelled = bool(replay.labels)
    normal_days = normal_alerts = normal = anomalous = anomalous_alerted = all_days = 0
    days: set[int] = set()  # the UTC days the counted entity-days fall on
    for record in replay.entities.values():
        all_days += len(record.days)
        if not labelled or entity_label(record) == "normal":
            days |= record.days
        if entity_label(record) == "normal":
            normal += 1
            normal_days += len(record.days)
            normal_alerts += record.alerts
        else:
            anomalous += 1
            anomalous_alerted += int(record.alerted)
    entity_level = summary.get("entity_level") or {}
    return {
        "events": summary["events"],
        "entities": summary["entities"],
        "alerts": summary["alerts"],
        "alerts_per_1000_entities_per_day": summary["alerts_per_1000_entities_per_day"],
        "labelled": labelled,
        # Unlabelled traffic holds attacks too: counting every alert against the budget is the
        # conservative reading of it.
        "budget_alerts": normal_alerts if labelled else summary["alerts"],
        "budget_entity_days": normal_days if labelled else all_days,
        "budget_days": len(days),
        "normal_entities": normal if labelled else 0,
        "anomalous_entities": anomalous if labelled else 0,
        "anomalous_alerted": anomalous_alerted if labelled else 0,
        "roc_auc": entity_level.get("roc_auc"),
        "pr_auc": entity_level.get("pr_auc"),
        "threshold": replay.tracker.model.threshold,
    }


def auc_standard_error(auc: float, positives: int, negatives: int) -> float:
    """The standard error of a ROC-AUC measured on ``positives`` and ``negatives`` (Hanley and
    McNeil, 1982: the AUC's variance from its value and the two counts)."""
    if positives < 1 or negatives < 1:
        return math.inf
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc * auc / (1.0 + auc)
    variance = (auc * (1.0 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (
        positives * negatives
    )
    return math.sqrt(max(variance, 0.0))


def allowed_alerts(entity_days: int, gate: Gate, days: int = 0) -> int:
    """The most alerts a model calibrated at ``gate.alert_budget`` raises on ``entity_days`` (over
    ``days`` UTC days) but on 1 day in 100 (the Poisson quantile at ``gate.budget_confidence``). On
    a site too small for the budget to allow an alert a day, training aims at
    ``gate.min_daily_alerts`` (``model.entities.alert_share``), and so does the limit."""
    from scipy.stats import poisson

    per_day = entity_days / days if days else 0.0
    expected = alert_share(gate.alert_budget, per_day, gate.min_daily_alerts) * entity_days
    return int(poisson.ppf(gate.budget_confidence, expected)) if expected > 0 else 0


def _budget_check(kind: str, figures: Mapping[str, Any], gate: Gate) -> Check:
    entity_days, days = int(figures["budget_entity_days"]), int(figures.get("budget_days", 0))
    limit = allowed_alerts(entity_days, gate, days)
    alerts = int(figures["budget_alerts"])
    whose = "normal " if figures["labelled"] else ""
    share = alert_share(gate.alert_budget, entity_days / days if days else 0.0, gate.min_daily_alerts)
    small_site = f" (a small site: {share:.1%} of them)" if share > gate.alert_budget / 1000.0 else ""
    return Check(
        kind,
        "alert_volume",
        alerts <= limit,
        alerts,
        None,
        limit,
        f"{alerts} alerts on {figures['budget_entity_days']} {whose}{kind}-days; budget "
        f"{gate.alert_budget:g} per 1,000{small_site} allows {limit}",
    )


def _quality_checks(kind: str, candidate: Mapping[str, Any], live: Mapping[str, Any], gate: Gate) -> list[Check]:
    checks = []
    if candidate["roc_auc"] is not None and live["roc_auc"] is not None:
        live_auc = float(live["roc_auc"])
        error = auc_standard_error(live_auc, int(live["anomalous_entities"]), int(live["normal_entities"]))
        tolerance = round(max(gate.auc_tolerance_floor, error), 4)
        limit = round(live_auc - tolerance, 4)
        checks.append(
            Check(
                kind,
                "entity_roc_auc",
                float(candidate["roc_auc"]) >= limit,
                candidate["roc_auc"],
                live["roc_auc"],
                limit,
                f"entity ROC-AUC {candidate['roc_auc']} against the live model's {live_auc} "
                f"(tolerance {tolerance:g}, one standard error)",
            )
        )
    attackers = int(live["anomalous_entities"])
    if attackers:
        allowance = math.floor(gate.recall_tolerance_share * attackers)
        limit_alerted = int(live["anomalous_alerted"]) - allowance
        if int(live["budget_alerts"]) > allowed_alerts(
            int(live["budget_entity_days"]), gate, int(live.get("budget_days", 0))
        ):
            # The live model's catches were bought with alerts beyond the budget: not a bar to meet.
            checks.append(
                Check(
                    kind,
                    "anomalous_alerted",
                    True,
                    candidate["anomalous_alerted"],
                    live["anomalous_alerted"],
                    None,
                    "not compared: the live model is over its alert budget on this day",
                )
            )
        else:
            checks.append(
                Check(
                    kind,
                    "anomalous_alerted",
                    int(candidate["anomalous_alerted"]) >= limit_alerted,
                    candidate["anomalous_alerted"],
                    live["anomalous_alerted"],
                    limit_alerted,
                    f"{candidate['anomalous_alerted']} of {attackers} labelled attackers alerted against the "
                    f"live model's {live['anomalous_alerted']} (allowance {allowance})",
                )
            )
    return checks


def decide(
    candidate: Mapping[str, Mapping[str, Any]], live: Mapping[str, Mapping[str, Any]] | None, gate: Gate
) -> Decision:
    """Promote the candidate only if, for every entity kind it alerts on, its alert volume is within
    the budget and, where the live model has that kind and the day has labels, its entity ROC-AUC
    and its alerted attackers are no worse than the live model's, within the gate's tolerances."""
    if not candidate:
        return Decision(False, "the candidate has no entity stage: nothing to alert with")
    checks: list[Check] = []
    for kind, figures in sorted(candidate.items()):
        checks.append(_budget_check(kind, figures, gate))
        if live is not None and kind in live:
            checks.extend(_quality_checks(kind, figures, live[kind], gate))
    failed = [check for check in checks if not check.passed]
    if failed:
        return Decision(False, "; ".join(f"{check.kind} {check.name}: {check.note}" for check in failed), tuple(checks))
    compared = [check for check in checks if check.name != "alert_volume"]
    if live is None:
        reason = "no live model yet; the candidate is within its alert budget"
    elif not compared:
        reason = "within the alert budget; no labels on the held-out day, so detection was not compared"
    else:
        reason = "within the alert budget and no worse than the live model: " + "; ".join(
            f"{check.kind} {check.name} {check.candidate} (live {check.live})" for check in compared
        )
    return Decision(True, reason, tuple(checks))


@dataclass
class Registry:
    """Versioned artifacts and the pointer to the live one, in a folder (the stack: a bucket)."""

    root: Path

    def artifact(self, version: str) -> Path:
        return self.root / MODELS_DIR / version / ARTIFACT_NAME

    def live(self) -> dict[str, Any] | None:
        path = self.root / LIVE_FILE
        return dict(json.loads(path.read_text())) if path.is_file() else None

    def versions(self) -> list[str]:
        folder = self.root / MODELS_DIR
        if not folder.is_dir():
            return []
        return sorted(path.name for path in folder.iterdir() if (path / ARTIFACT_NAME).is_file())

    def store(self, version: str, model_dir: Path, card: Mapping[str, Any]) -> Path:
        """Write the model card into ``model_dir``, pack it as ``models/<version>/model.tar.gz`` and
        keep the card beside it (readable without unpacking)."""
        from model.artifact import build_tarball

        (model_dir / MODEL_CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True))
        folder = self.root / MODELS_DIR / version
        folder.mkdir(parents=True, exist_ok=True)
        build_tarball(model_dir, folder / ARTIFACT_NAME)
        shutil.copyfile(model_dir / MODEL_CARD_FILE, folder / MODEL_CARD_FILE)
        return folder / ARTIFACT_NAME

    def set_live(self, version: str, reason: str) -> dict[str, Any]:
        """Point ``live.json`` at ``version`` (which must be stored), remembering the one it replaces."""
        if not self.artifact(version).is_file():
            raise LifecycleError(f"no model {version} in {self.root / MODELS_DIR} (stored: {self.versions()})")
        current = self.live()
        pointer = {
            "version": version,
            "artifact": str(self.artifact(version)),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
            "reason": reason,
            "previous": current["version"] if current else None,
        }
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / LIVE_FILE).write_text(json.dumps(pointer, indent=2))
        return pointer

    def record(self, cycle_id: str, decision: Mapping[str, Any]) -> Path:
        folder = self.root / DECISIONS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{cycle_id}.json"
        path.write_text(json.dumps(decision, indent=2, sort_keys=True))
        return path


def model_version(model_dir: Path, trained_at: str) -> str:
    """``<training time>-<content digest>``: sorts by time, and two trainings never share a name."""
    digest = hashlib.sha256()
    for name in (DETECTOR_FILE, VOCABULARY_FILE, ENTITIES_FILE):
        path = model_dir / name
        if path.is_file():
            digest.update(path.read_bytes())
    stamp = datetime.fromisoformat(trained_at).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{digest.hexdigest()[:10]}"


def model_card(
    loaded: LoadedModel, version: str, figures: Mapping[str, Any], decision: Decision, labels: int, held_out: date
) -> dict[str, Any]:
    """What a reviewer needs to trust an artifact without re-running anything."""
    metadata = loaded.metadata
    return {
        "version": version,
        "features_version": metadata.get("features_version"),
        "detector": metadata.get("detector"),
        "event_threshold": loaded.threshold,
        "alert_rate": metadata.get("alert_rate"),
        "training_window": metadata.get("training_window"),
        "training_events": metadata.get("events"),
        "training_users": metadata.get("users"),
        "entity_stages": {
            kind: {
                "threshold": model.threshold,
                "term_threshold": model.term_threshold,
                "alert_budget_per_1000_per_day": model.alert_budget,
                "entity_days": (metadata.get("entities", {}).get(kind) or {}).get("entity_days"),
                # Where training held machine clients: theirs (the figures above are the others').
                "machine_clients": (metadata.get("entities", {}).get(kind) or {}).get("machine_clients"),
            }
            for kind, model in loaded.entity_models.items()
        },
        "backtest": {"held_out_day": held_out.isoformat(), "figures": dict(figures)},
        "verdicts_used": labels,
        "verdicts_learned": {
            key: value for key, value in (metadata.get("verdicts") or {}).items() if key != "suppressions"
        },
        "decision": {"decision": decision.label, "reason": decision.reason},
    }


@dataclass
class CycleInputs:
    """The events of one cycle: the training window's and the held-out day's, with their labels."""

    training: list[dict[str, Any]]
    held_out: list[dict[str, Any]]
    held_out_day: date
    labels: dict[str, str] = field(default_factory=dict)
    # The analysts' verdicts (model.verdicts) the candidate learns its suppressions from.
    verdicts: list[JudgedAlert] | None = None


def training_window(held_out_day: date, days: int) -> tuple[datetime, datetime]:
    """The ``days`` days before ``held_out_day``: start, and end (exclusive: the day's start)."""
    day_start = datetime(held_out_day.year, held_out_day.month, held_out_day.day, tzinfo=UTC)
    return day_start - timedelta(days=days), day_start


def read_window(
    archive: str, held_out_day: date, days: int, endpoint_url: str | None = None, *, held_out: bool = True
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``days`` days before ``held_out_day`` and (unless ``held_out`` is false) that day itself."""
    from archive import iter_events

    start, day_start = training_window(held_out_day, days)
    training = list(iter_events(archive, start, day_start, endpoint_url=endpoint_url))
    if not held_out:
        return training, []
    day = list(iter_events(archive, day_start, day_start + timedelta(days=1), endpoint_url=endpoint_url))
    return training, day


def newest_complete_day(archive: str, now: datetime | None = None, endpoint_url: str | None = None) -> date:
    """The most recent UTC day of the archive that has ended (objects are named by arrival time)."""
    from archive.layout import FIREHOSE_PREFIX, arrival_of_key, static_prefix
    from archive.location import make_s3_client, parse_location
    from archive.reader import list_keys

    location = parse_location(archive)
    s3 = make_s3_client(endpoint_url) if location.is_s3 else None
    moment = now or datetime.now(UTC)
    days = {
        arrival.date()
        for key in list_keys(location, static_prefix(FIREHOSE_PREFIX), None, s3)
        if (arrival := arrival_of_key(key)) is not None
    }
    ended = [day for day in days if datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1) <= moment]
    if not ended:
        raise LifecycleError(f"{archive}: no complete day of events to hold out (objects from {sorted(days)})")
    return max(ended)


@dataclass
class Lookups:
    network_of: Any
    network_record: Any
    agent_of: Any
    agent_record: Any


def resolve_lookups(geo: str) -> Lookups:
    from model import user_agents
    from model.network import resolve_network_lookup

    lookup = resolve_network_lookup(geo)
    return Lookups(lookup.network_of, lookup.record, user_agents.parse_agent, user_agents.describe())


def lookups_of(loaded: LoadedModel) -> tuple[Any, Any]:
    """The network lookup and agent parser a model was trained with (refused if this runtime has
    other data, as the scorer refuses them)."""
    from model import user_agents
    from model.network import lookup_from_record

    return (
        lookup_from_record(loaded.metadata.get("network_lookup")).network_of,
        user_agents.check_parser(loaded.metadata.get("agent_parser")),
    )


def backtest(
    loaded: LoadedModel, history: Iterable[dict[str, Any]], held_out: Sequence[dict[str, Any]], labels: dict[str, str]
) -> tuple[dict[str, dict[str, Any]], int]:
    """The gate's figures per entity kind of ``loaded``: the backtest's replay of ``held_out`` with
    the users' and addresses' state carried through ``history`` (a list, or a stream read once:
    ``Replay.warm_up``); and how many events of history that was."""
    network_of, agent_of = lookups_of(loaded)
    figures: dict[str, dict[str, Any]] = {}
    warmed: tuple[dict[str, UserState], dict[str, IpState], SiteNow] | None = None
    history_events = 0
    for kind in ENTITY_KINDS:
        if kind not in loaded.entity_models:
            continue
        replay = Replay(loaded, kind, network_of, agent_of, labels)
        if warmed is None:
            history_events = replay.warm_up(history)
            # The feature state does not depend on the entity kind: the next kinds start from the
            # state the history left (copied now: this replay's run moves its own on to the day's end).
            warmed = dict(replay.user_states), dict(replay.ip_states), replay.site.copy()
        else:
            replay.user_states.update(warmed[0])
            replay.ip_states.update(warmed[1])
            replay.site = warmed[2].copy()
        replay.run(in_time_order(held_out), DEFAULT_BATCH_EVENTS)
        figures[kind] = gate_figures(replay)
    return figures, history_events


def _compact(figures: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    keys = ("alerts", "alerts_per_1000_entities_per_day", "budget_alerts", "roc_auc", "anomalous_alerted")
    return {kind: {key: values[key] for key in keys} for kind, values in (figures or {}).items()}


@dataclass(frozen=True)
class Judgement:
    """A candidate judged against the live model on the held-out day: its version, the gate's
    decision, both backtests' figures and the model card written into its artifact."""

    version: str
    decision: Decision
    candidate_figures: dict[str, dict[str, Any]]
    live_figures: dict[str, dict[str, Any]] | None
    card: dict[str, Any]
    history_events: int  # the training window's events the backtests carried the state through


def judge(
    candidate_dir: Path,
    live_path: Path | None,
    inputs: CycleInputs,
    gate: Gate,
    workdir: Path,
    history: Iterable[dict[str, Any]] | None = None,
) -> Judgement:
    """Backtest the saved candidate and the live model (a folder or a model.tar.gz, or none) over the
    held-out day with state carried through the training window (``inputs.training``, or
    ``history``: an iterable read again for each model, such as ``ArchiveWindow``), and apply the gate."""
    candidate = load_model(candidate_dir)
    version = model_version(candidate_dir, str(candidate.metadata["trained_at"]))
    history = inputs.training if history is None else history
    candidate_figures, history_events = backtest(candidate, history, inputs.held_out, inputs.labels)
    live_figures = None
    if live_path is not None:
        live_dir = live_path if live_path.is_dir() else extract_tarball(live_path, workdir / "live")
        live_figures, _ = backtest(load_model(live_dir), history, inputs.held_out, inputs.labels)
    decision = decide(candidate_figures, live_figures, gate)
    card = model_card(candidate, version, candidate_figures, decision, len(inputs.labels), inputs.held_out_day)
    return Judgement(version, decision, candidate_figures, live_figures, card, history_events)


@dataclass(frozen=True)
class ArchiveWindow:
    """The archive's events from ``start`` to ``end`` (exclusive), read again each time it is
    iterated, in the archive's order: the gate's training window, which each model's backtest
    carries its state through, is never held in memory."""

    archive: str
    start: datetime
    end: datetime
    endpoint_url: str | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        from archive import iter_events

        return iter(iter_events(self.archive, self.start, self.end, endpoint_url=self.endpoint_url))


def cycle_record(judged: Judgement, inputs: CycleInputs, gate: Gate, live_version: str | None) -> dict[str, Any]:
    """The decision record: outcome, reason, every check, and both backtests' figures."""
    return {
        "decision": judged.decision.label,
        "reason": judged.decision.reason,
        "live": _compact(judged.live_figures),
        "candidate": _compact(judged.candidate_figures),
        "candidate_version": judged.version,
        "live_version": live_version,
        "held_out_day": inputs.held_out_day.isoformat(),
        "training_events": judged.history_events,
        "held_out_events": len(inputs.held_out),
        "checks": [asdict(check) for check in judged.decision.checks],
        "gate": asdict(gate),
        "figures": {"live": judged.live_figures, "candidate": judged.candidate_figures},
    }


Damage = Callable[[Any], None]


def train_candidate(
    training: Iterable[dict[str, Any]],
    gate: Gate,
    geo: str,
    max_events: int | None = None,
    verdicts: Sequence[JudgedAlert] | None = None,
    hash_cutoff: int | None = None,
) -> Any:
    """Train a candidate on ``training`` (streamed: it is sampled as it is read) with
    ``model.train.train`` (what ``make model`` runs), with the analysts' ``verdicts`` where there
    are some; ``hash_cutoff`` is that of a sample split across workers (``model.sampling``)."""
    from model.sampling import DEFAULT_MAX_EVENTS, HASH_LIMIT
    from model.train import train

    lookups = resolve_lookups(geo)
    return train(
        training,
        alert_budget=gate.alert_budget,
        min_daily_alerts=gate.min_daily_alerts,
        network_of=lookups.network_of,
        network_lookup=lookups.network_record,
        agent_of=lookups.agent_of,
        agent_parser=lookups.agent_record,
        max_events=max_events or DEFAULT_MAX_EVENTS,
        verdicts=verdicts,
        hash_cutoff=HASH_LIMIT if hash_cutoff is None else hash_cutoff,
    )


def run_cycle(
    inputs: CycleInputs,
    registry: Registry,
    *,
    gate: Gate | None = None,
    geo: str = "embedded",
    live_artifact: Path | None = None,
    damage: Damage | None = None,
    max_events: int | None = None,
) -> dict[str, Any]:
    """Train, backtest both, decide, store the candidate with its card, and record the decision.

    ``live_artifact`` overrides the registry's live model; ``damage`` alters the trained candidate
    before it is saved (the tests' and ``--demo --damage``'s deliberately worse model).
    """
    from model.train import save

    gate = gate or Gate()
    if not inputs.training:
        raise LifecycleError(f"no events to train on before {inputs.held_out_day}")
    if not inputs.held_out:
        raise LifecycleError(f"no events on the held-out day {inputs.held_out_day}")
    trained = train_candidate(inputs.training, gate, geo, max_events, inputs.verdicts)
    if damage is not None:
        damage(trained)
    live_pointer = registry.live()
    live_path = live_artifact or (Path(live_pointer["artifact"]) if live_pointer else None)
    with tempfile.TemporaryDirectory(prefix="vedette-lifecycle-") as workdir:
        candidate_dir = save(trained, Path(workdir) / "candidate")
        judged = judge(candidate_dir, live_path, inputs, gate, Path(workdir))
        registry.store(judged.version, candidate_dir, judged.card)
    if judged.decision.promoted:
        registry.set_live(judged.version, judged.decision.reason)
    cycle_id = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{judged.version}"
    live_version = live_pointer["version"] if live_pointer and live_artifact is None else None
    record = cycle_record(judged, inputs, gate, live_version)
    registry.record(cycle_id, record)
    return record


def summary_line(record: Mapping[str, Any]) -> str:
    """The last line printed: decision, reason and both backtests' figures."""
    return json.dumps({key: record[key] for key in ("decision", "reason", "live", "candidate")})


# --- the demo: one cycle on simulated traffic -------------------------------------------------

DEMO_USERS = 1000
DEMO_SEED = 11
DEMO_TRAINING_DAYS = 3
DEMO_ATTACK_SHARE = 0.05


def damage_thresholds(trained: Any, factor: float = 0.2) -> None:
    """A miscalibrated model: every entity threshold at ``factor`` of its calibrated value."""
    for stage in trained.entity_models.values():
        for model in (stage, stage.machines) if stage.machines is not None else (stage,):
            model.threshold *= factor
            if model.term_threshold is not None:
                model.term_threshold *= factor


def simulate_demo(folder: Path, users: int = DEMO_USERS, days: int = DEMO_TRAINING_DAYS) -> CycleInputs:
    """An archive of ``days + 1`` attack-free days then a held-out day with labelled attacks, under
    ``folder``; returns the cycle's inputs read back from it, as a real cycle reads the archive."""
    from archive import ArchiveWriter
    from traffic.simulator import DEFAULT_START, Simulator

    archive = folder / "archive"
    labels: dict[str, str] = {}
    quiet = Simulator(seed=DEMO_SEED, users=users, attack_share=0.0)
    attacked_start = DEFAULT_START + timedelta(days=days + 1)
    # The same seed makes the same customers; their sessions differ with the dates.
    attacked = Simulator(seed=DEMO_SEED, users=users, attack_share=DEMO_ATTACK_SHARE, start=attacked_start)
    with ArchiveWriter(archive) as writer:
        for event, _ in quiet.events(duration=timedelta(days=days + 1)):
            writer.put_event(event)
        for event, label in attacked.events(duration=timedelta(days=1)):
            writer.put_event(event)
            if label is not None:
                labels[str(event["event_id"])] = label.scenario
    held_out_day = attacked_start.date()
    training, held_out = read_window(str(archive), held_out_day, days)
    return CycleInputs(training, held_out, held_out_day, labels)


def register_live(
    events: Sequence[dict[str, Any]], registry: Registry, *, geo: str = "synthetic", damage: Damage | None = None
) -> str:
    """Train a model on ``events`` and make it the registry's live one, as an earlier cycle would
    have; returns its version."""
    live = train_previous(events, geo=geo)
    if damage is not None:
        damage(live)
    return register_trained(live, registry)


def train_previous(events: Sequence[dict[str, Any]], *, geo: str = "synthetic") -> Any:
    """The model an earlier cycle would have trained on ``events`` (``register_trained`` makes it live)."""
    from model.train import train

    lookups = resolve_lookups(geo)
    return train(
        events,
        network_of=lookups.network_of,
        network_lookup=lookups.network_record,
        agent_of=lookups.agent_of,
        agent_parser=lookups.agent_record,
    )


def register_trained(live: Any, registry: Registry) -> str:
    """Store a trained model in ``registry`` and make it the live one; returns its version."""
    from model.train import save

    with tempfile.TemporaryDirectory(prefix="vedette-live-") as workdir:
        live_dir = save(live, Path(workdir) / "live")
        version = model_version(live_dir, str(live.metadata["trained_at"]))
        registry.store(version, live_dir, {"version": version, "note": "trained before this cycle"})
    registry.set_live(version, "the starting point")
    return version


def older_days(inputs: CycleInputs, days: int) -> list[dict[str, Any]]:
    """The training events of the first ``days`` days of the window: the previous cycle's."""
    first = min(event_time(event) for event in inputs.training)
    return [event for event in inputs.training if event_time(event) < first + days * 86_400.0]


def run_demo(folder: Path, *, damage: bool = False, users: int = DEMO_USERS) -> dict[str, Any]:
    """Simulate, train the live model on the oldest days (the previous cycle's), then run one cycle."""
    inputs = simulate_demo(folder, users=users)
    registry = Registry(folder / "registry")
    register_live(older_days(inputs, DEMO_TRAINING_DAYS - 1), registry)
    return run_cycle(inputs, registry, geo="synthetic", damage=damage_thresholds if damage else None)


# --- command line -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m model.lifecycle", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", nargs="?", default="cycle", choices=ACTIONS)
    parser.add_argument("version", nargs="?", help="with promote: the stored version to make live")
    parser.add_argument("--demo", action="store_true", help="one cycle on simulated traffic in a temporary folder")
    parser.add_argument("--damage", action="store_true", help="with --demo: a miscalibrated candidate (rejected)")
    parser.add_argument("--demo-users", type=int, default=DEMO_USERS, help="with --demo: simulated customers")
    parser.add_argument("--archive", help="archive folder or s3:// prefix")
    parser.add_argument("--registry", help="folder of versioned models, live.json and decisions/")
    parser.add_argument("--live-model", help="a model.tar.gz to compare against instead of the registry's live one")
    parser.add_argument("--days", type=int, default=DEFAULT_TRAINING_DAYS, help="training days before the held-out one")
    parser.add_argument("--held-out-day", help="YYYY-MM-DD (default: the archive's newest complete day)")
    parser.add_argument("--labels", help="analysts' verdicts: CSV key,label (as model.backtest reads)")
    parser.add_argument(
        "--verdicts",
        default=os.environ.get("SM_CHANNEL_VERDICTS"),
        help="analysts' verdicts as JSON lines (python -m console.verdicts --export-jsonl) for the candidate's "
        "suppressions (model.verdicts)",
    )
    parser.add_argument(
        "--verdicts-table",
        help="train: the console's labels table (the stack output labels_table_name), read for the analysts' "
        "verdicts instead of --verdicts",
    )
    parser.add_argument("--alert-budget", type=float, default=DEFAULT_ALERT_BUDGET)
    parser.add_argument("--geo", default="embedded", choices=("embedded", "synthetic", "none"))
    parser.add_argument("--endpoint-url", help="S3 endpoint for s3:// archives (else AWS_ENDPOINT_URL_S3)")
    parser.add_argument(
        "--as-of",
        help="train, gate: the cycle's start time (ISO 8601); the held-out day is the newest one complete by then",
    )
    parser.add_argument(
        "--model-dir", default=os.environ.get("SM_MODEL_DIR"), help="train: where the candidate goes (SM_MODEL_DIR)"
    )
    parser.add_argument(
        "--sample",
        default=os.environ.get("SM_CHANNEL_SAMPLE"),
        help="train: a folder of the training window's parts sampled by `python -m model.sample` workers, read "
        "instead of the archive (SM_CHANNEL_SAMPLE)",
    )
    parser.add_argument("--candidate", help="gate: the candidate's model.tar.gz or folder")
    parser.add_argument("--output", help="gate: folder for decision.json, record.json and the carded model.tar.gz")
    parser.add_argument(
        "--feature-configs",
        help="gate: folder where the candidate's and the live model's feature configurations are written as "
        "<id>.json, where the scorer finds the one the endpoint's model names",
    )
    arguments = parser.parse_args(argv)
    if arguments.action in {"train", "gate"} and not arguments.archive:
        parser.error(f"{arguments.action} needs --archive")
    if arguments.action == "train" and not arguments.model_dir:
        parser.error("train needs --model-dir (or SM_MODEL_DIR)")
    if arguments.action == "gate" and not (arguments.candidate and arguments.output):
        parser.error("gate needs --candidate and --output")
    if arguments.action == "cycle" and not arguments.demo and not (arguments.archive and arguments.registry):
        parser.error("a cycle needs --archive and --registry (or --demo)")
    if arguments.action in {"promote", "rollback", "status"} and not arguments.registry:
        parser.error(f"{arguments.action} needs --registry")
    if arguments.action == "promote" and not arguments.version:
        parser.error("promote needs a VERSION (python -m model.lifecycle status --registry DIR lists them)")
    if arguments.days < 1:
        parser.error("--days must be at least 1")
    return arguments


def _by_hand(arguments: argparse.Namespace) -> dict[str, Any]:
    registry = Registry(Path(arguments.registry))
    if arguments.action == "status":
        return {"live": registry.live(), "versions": registry.versions()}
    if arguments.action == "promote":
        return registry.set_live(arguments.version, "promoted by hand")
    current = registry.live()
    if not current or not current.get("previous"):
        raise LifecycleError("nothing to roll back to: live.json names no previous model")
    return registry.set_live(str(current["previous"]), f"rolled back by hand from {current['version']}")


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    arguments = parse_args(argv)
    try:
        if arguments.action == "train":
            print(json.dumps(_train_step(arguments)))
            return 0
        if arguments.action == "gate":
            print(json.dumps(_gate_step(arguments)))
            return 0
        if arguments.action != "cycle":
            print(json.dumps(_by_hand(arguments)))
            return 0
        if arguments.demo:
            folder = Path(tempfile.mkdtemp(prefix="vedette-lifecycle-demo-"))
            print(f"simulating {arguments.demo_users} customers into {folder}", file=sys.stderr)
            record = run_demo(folder, damage=arguments.damage, users=arguments.demo_users)
            print(f"registry and decision record: {folder / 'registry'}", file=sys.stderr)
        else:
            record = _cycle_from_archive(arguments)
    except (LifecycleError, TrainingDataError) as error:
        print(f"lifecycle: {error}", file=sys.stderr)
        return 2
    print(summary_line(record), flush=True)
    return 0


def _cycle_from_archive(arguments: argparse.Namespace) -> dict[str, Any]:
    from model.backtest import read_labels

    held_out_day = (
        date.fromisoformat(arguments.held_out_day)
        if arguments.held_out_day
        else newest_complete_day(arguments.archive, endpoint_url=arguments.endpoint_url)
    )
    training, held_out = read_window(arguments.archive, held_out_day, arguments.days, arguments.endpoint_url)
    labels = read_labels(arguments.labels) if arguments.labels else {}
    verdicts = read_verdicts(arguments.verdicts) if arguments.verdicts else None
    return run_cycle(
        CycleInputs(training, held_out, held_out_day, labels, verdicts),
        Registry(Path(arguments.registry)),
        gate=Gate(alert_budget=arguments.alert_budget),
        geo=arguments.geo,
        live_artifact=Path(arguments.live_model) if arguments.live_model else None,
    )


def parse_as_of(text: str | None) -> datetime | None:
    """An ISO 8601 time; Step Functions' ``$$.Execution.StartTime`` ends in ``Z``, which the
    container's Python 3.10 ``fromisoformat`` does not read."""
    if not text:
        return None
    moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _held_out_day(arguments: argparse.Namespace) -> date:
    if arguments.held_out_day:
        return date.fromisoformat(arguments.held_out_day)
    return newest_complete_day(arguments.archive, parse_as_of(arguments.as_of), arguments.endpoint_url)


def _verdicts(arguments: argparse.Namespace) -> list[JudgedAlert] | None:
    """The analysts' verdicts the candidate learns from: the labels table's, or a file's, or none."""
    if arguments.verdicts_table:
        from console.verdicts import read_table_verdicts

        return read_table_verdicts(arguments.verdicts_table)
    return read_verdicts(arguments.verdicts) if arguments.verdicts else None


def _train_step(arguments: argparse.Namespace) -> dict[str, Any]:
    """``train``: the candidate of the cycle started at ``--as-of``, saved to ``--model-dir``."""
    from model.sampling import DEFAULT_MAX_EVENTS, read_parts, sampled_window
    from model.train import save

    held_out_day = _held_out_day(arguments)
    # Streamed into training, which keeps its sample as it reads: memory stays bounded by the sample.
    try:
        sampled = read_parts(arguments.sample) if arguments.sample else None
    except ValueError as error:
        raise LifecycleError(str(error)) from error
    if arguments.sample and sampled is None:
        raise LifecycleError(f"--sample {arguments.sample}: no sampled parts there (python -m model.sample)")
    start, end = training_window(held_out_day, arguments.days)
    if sampled:
        training: Iterable[dict[str, Any]] = sampled.events()
        hash_cutoff = sampled.hash_cutoff
    else:
        # On an archive partitioned by the user's hash, only the buckets the sample needs.
        training, chosen = sampled_window(
            arguments.archive, start, end, DEFAULT_MAX_EVENTS, endpoint_url=arguments.endpoint_url
        )
        hash_cutoff = chosen.hash_cutoff
    verdicts = _verdicts(arguments)
    try:
        trained = train_candidate(
            training,
            Gate(alert_budget=arguments.alert_budget),
            arguments.geo,
            verdicts=verdicts,
            hash_cutoff=hash_cutoff,
        )
    except TrainingDataError as error:
        raise LifecycleError(f"no events to train on before {held_out_day}: {error}") from error
    if sampled:
        trained.metadata["sampling"].update(events_read=sampled.events_read, **sampled.to_json())
    save(trained, Path(arguments.model_dir))
    return {"held_out_day": held_out_day.isoformat(), "training_events": trained.metadata["sampling"]["events_read"]}


def _gate_step(arguments: argparse.Namespace) -> dict[str, Any]:
    """``gate``: judge ``--candidate`` against ``--live-model`` on the held-out day and write
    ``decision.json`` (the decision, reason and compact figures, strict JSON for the state machine),
    ``record.json`` (every check and figure) and the candidate's ``model.tar.gz`` with its card; and
    both models' feature configurations into ``--feature-configs``, so the scorer can follow a
    rollout or a rollback (the live model's too: it may predate this step)."""
    from model.artifact import build_tarball, publish_feature_config
    from model.backtest import read_labels

    held_out_day = _held_out_day(arguments)
    start, day_start = training_window(held_out_day, arguments.days)
    history = ArchiveWindow(arguments.archive, start, day_start, arguments.endpoint_url)
    held_out = list(ArchiveWindow(arguments.archive, day_start, day_start + timedelta(days=1), arguments.endpoint_url))
    if not held_out:
        raise LifecycleError(f"no events on the held-out day {held_out_day}")
    # The training window is streamed from the archive for each backtest (``history``), not held.
    labels = read_labels(arguments.labels) if arguments.labels else {}
    inputs = CycleInputs([], held_out, held_out_day, labels)
    gate = Gate(alert_budget=arguments.alert_budget)
    output = Path(arguments.output)
    output.mkdir(parents=True, exist_ok=True)
    candidate_path = Path(arguments.candidate)
    live_path = Path(arguments.live_model) if arguments.live_model else None
    with tempfile.TemporaryDirectory(prefix="vedette-gate-") as workdir:
        candidate_dir = (
            candidate_path if candidate_path.is_dir() else extract_tarball(candidate_path, Path(workdir) / "candidate")
        )
        judged = judge(candidate_dir, live_path, inputs, gate, Path(workdir), history)
        if arguments.feature_configs:
            for model in (candidate_dir, *([live_path] if live_path else [])):
                publish_feature_config(model, arguments.feature_configs)
        (candidate_dir / MODEL_CARD_FILE).write_text(json.dumps(judged.card, indent=2, sort_keys=True))
        build_tarball(candidate_dir, output / ARTIFACT_NAME)
        shutil.copyfile(candidate_dir / MODEL_CARD_FILE, output / MODEL_CARD_FILE)
    record = cycle_record(judged, inputs, gate, None)
    (output / RECORD_FILE).write_text(json.dumps(_finite(record), indent=2, sort_keys=True, allow_nan=False))
    decision = {key: record[key] for key in ("decision", "reason", "candidate_version", "held_out_day")}
    decision |= {"live": record["live"], "candidate": record["candidate"]}
    (output / DECISION_FILE).write_text(json.dumps(_finite(decision), sort_keys=True, allow_nan=False))
    return decision


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as null: strict JSON, which ``States.StringToJson`` parses."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
