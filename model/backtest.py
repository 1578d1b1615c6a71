"""Backtest: what Vedette would have alerted on in your own logs, before you trust it.

::

    python -m model.backtest --train old.log --test new.log --format custom \\
        --log-format '$remote_addr [$time_local] "$request" $status "$http_user_agent" $session_id' \\
        --labels sessions.csv --entity session --out backtest/

A SOURCE is a log file the importer reads (``--format``, ``--log-format``; see ``traffic.importer``),
an archive folder or ``s3://`` prefix as Firehose writes it, or event JSON lines. ``--train`` trains a
model first with the code ``make model`` runs; ``--model`` uses a ``model.tar.gz`` instead.

The test events are replayed in event-time order, in batches as the scorer receives them, through
the scorer's own steps: the same features with state carried between batches, the same detector
and threshold, the entity stage's evidence, alert rule and one-alert-per-episode de-duplication
(``model.entities.EntityTracker``). Memory grows with the entities' state, not with the log.

Labels (optional): CSV with a ``key,label`` header, ``key`` an event_id, user_id or session_id, or
``FILE:LINE`` for a line of a log SOURCE (``labels_by_line``);
``normal`` or ``0`` (or ``benign``, ``human``) is normal, anything else anomalous and reported by
its name. The JSON lines that ``python -m traffic simulate --labels`` writes are read too. It
writes ``report.md``, PNG plots and ``entities.csv`` to ``--out`` and prints one JSON object as its
last line.
"""

from __future__ import annotations

import argparse
import csv
import functools
import itertools
import json
import logging
import math
import re
import sys
import tempfile
from collections import Counter, defaultdict, deque
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from model.artifact import LoadedModel, extract_tarball, load_model
from model.client_alerts import fold_into_clients, group_by_client, with_alert_clients
from model.entities import (
    CLIENT_USER_PREFIX,
    DEFAULT_ALERT_BUDGET,
    DEFAULT_MIN_DAILY_ALERTS,
    HABIT_MARGIN,
    HABIT_MIN_DAYS,
    PSEUDONYMOUS_USERS,
    AlertClient,
    EntityAlert,
    EntityTracker,
    Evidence,
    Peak,
    entity_key,
    event_evidence,
    explain_peaks,
)
from model.entity_training import (
    ENTITY_KINDS,
    MIN_MACHINE_CLIENTS,
    MIN_MACHINE_EPISODES,
    SHARE_RANGE_LEVEL,
    TIED_BASE,
)
from model.exceptions import TrainingDataError
from model.features import IpState, SiteNow, UserState, event_time, featurize_batch
from model.ordering import in_time_order as ordered_by_time
from model.visits import settle_visits, visit_starts
from model.waves import (
    ATTEMPTS,
    LOGIN_SURGES,
    LOGINS,
    LONG_WINDOW_MINUTES,
    MAX_FOLLOWED_ACCOUNTS,
    PAYMENT_SURGES,
    PAYMENTS,
    Attempts,
    AttemptWindow,
    WaveWatch,
    failed_logins_only,
    familiar_attempts,
    fold_into_wave,
    watched_waves,
)
from traffic.exceptions import LogFormatError

logger = logging.getLogger("model.backtest")

# Labels that mean "not an attack", in any case; every other label is anomalous, reported by name.
NORMAL_LABELS = frozenset({"normal", "0", "", "benign", "human"})
# The label of an event no label key names, where the labels name normal entities too: they list
# what their author knew, and what they do not name is not known to be normal. On a log whose
# sessions' first requests carry no cookie yet, a bot client's first requests, too many to join
# sessions, were an entity of their own that no session's label named, and alerted as a person.
UNLABELLED = "unlabelled"
DEFAULT_BATCH_EVENTS = 500
# A scorer's batch is what its shard received since the event source mapping last read it, about a
# second before (the stack's batching window is 0): a replayed batch spans no more, however few
# events it holds. What the scorer reads as of a batch's start is then as fresh as the scorer's: the
# wave under way, which covers the alerts of the attempts it counts. Replayed 500 events at a time, a
# small shop's batches spanned half an hour, and a wave raised within one covered none of its
# alerts: a new-user trial's brute force through 700 proxies alerted 591 times instead of 20.
DEFAULT_BATCH_SECONDS = 1.0
PROGRESS_EVENTS = 1_000  # the progress line is redrawn every this many events scored
# The training log is carried through the states this many events at a time (``Replay.warm_up``).
WARM_UP_EVENTS = 50_000
# Events may arrive out of order by this much and still be replayed in order.
REORDER_SECONDS = 300.0
# Warn when fewer than this share of events carry the entity's id.
MIN_KEYED_SHARE = 0.5
# How soon after a visit's first request (sent before the site set its session cookie) the same
# client's next request, with the cookie, shows whose visit it began (``with_landing_keys``).
LANDING_SECONDS = 5.0
# Label keys that match some test event, below which the labels likely name something else (another
# column, another form of the id). A file may also label other days, so most may miss legitimately.
MIN_MATCHED_LABEL_SHARE = 0.1
# What a SOURCE may be besides the importer's formats (traffic.importer.FORMATS).
SOURCE_KINDS = ("auto", "archive")
# Their fixed layouts log no session cookie (traffic.importer.PRESET_FORMATS, traffic.envoy.ENVOY_FORMATS).
NO_SESSION_FORMATS = ("common", "combined", "alb", "envoy", "istio", "istio-json")


class BacktestError(Exception):
    """A backtest that cannot run as asked (the message says why and what to change)."""


def read_source(
    source: str,
    *,
    format: str = "auto",
    log_format: str | None = None,
    time_format: str | None = None,
    endpoint_url: str | None = None,
    failed_login_statuses: Collection[int | tuple[str, int]] = (),
    real_ip_from: Sequence[Any] = (),
    session_cookie: str | None = None,
    haproxy_headers: Sequence[str] = (),
    signup_paths: Sequence[str] = (),
) -> Iterator[dict[str, Any]]:
    """Events from a log file, an archive (folder or s3:// prefix) or event JSON lines
    (``time_format``, ``failed_login_statuses``, ``real_ip_from``, ``session_cookie``,
    ``haproxy_headers`` and ``signup_paths`` as ``traffic.importer.LogImporter`` reads them)."""
    from traffic.importer import LogImporter
    from traffic.logformat import DEFAULT_TIME_FORMAT

    kind = format
    if kind == "auto":
        path = Path(source)
        kind = "archive" if source.startswith("s3://") or path.is_dir() else "jsonl"
    if kind == "archive":
        from archive import iter_events

        yield from iter_events(source, None, None, endpoint_url=endpoint_url)
        return
    importer = LogImporter(
        kind,
        log_format=log_format,
        time_format=time_format or DEFAULT_TIME_FORMAT,
        failed_login_statuses=failed_login_statuses,
        real_ip_from=real_ip_from,
        session_cookie=session_cookie,
        haproxy_headers=haproxy_headers,
        signup_paths=signup_paths,
    )
    for labeled in importer.import_file(source):
        yield labeled.event
    report = importer.report
    logger.info("%s: %s", source, report.summary())
    for hint in report.hints():
        logger.warning("%s: %s", source, hint)
    if report.events == 0:
        raise BacktestError(f"{source}: no event could be read as {kind!r} ({report.summary()})")


def _read_source_as_asked(arguments: argparse.Namespace, source: str) -> Iterator[dict[str, Any]]:
    """``read_source`` with the command line's reading options (the same for --train and --test)."""
    return read_source(
        source,
        format=arguments.format,
        log_format=arguments.log_format,
        time_format=arguments.time_format,
        endpoint_url=arguments.endpoint_url,
        failed_login_statuses=arguments.failed_login_status,
        real_ip_from=arguments.real_ip_from,
        session_cookie=arguments.session_cookie,
        haproxy_headers=arguments.haproxy_headers,
        signup_paths=arguments.signup_path,
    )


def normalized_label(value: str) -> str:
    """``normal`` for the labels that mean no attack (``NORMAL_LABELS``), else the label itself."""
    label = value.strip()
    return "normal" if label.lower() in NORMAL_LABELS else label


def _key_and_label(line: str) -> list[str]:
    """The fields of a headerless labels line: comma-separated, else separated by spaces or tabs."""
    return [field.strip() for field in (next(csv.reader([line])) if "," in line else line.split())]


def read_labels(path: str) -> dict[str, str]:
    """``key -> label`` from a ``key,label`` CSV, the simulator's JSON lines labels, or lines of
    just ``KEY LABEL`` (as datasets publish their annotations: ``<session id> human``)."""
    labels: dict[str, str] = {}
    with open(path, encoding="utf-8-sig") as handle:  # -sig: a spreadsheet's byte-order mark
        first = handle.readline()
        if first.lstrip().startswith("{"):
            for line in [first, *handle]:
                if line.strip():
                    record = json.loads(line)
                    labels[str(record["event_id"])] = str(record["scenario"])
            return labels
        header = [name.strip().lower() for name in next(csv.reader([first]), [])]
        if "key" not in header or "label" not in header:
            if len(_key_and_label(first)) != 2 or "label" in header:
                raise BacktestError(
                    f"{path}: the labels need a header with key and label (a CSV), or two fields on "
                    f"every line (KEY LABEL, no header); line 1 is {first.strip()!r}"
                )
            for number, line in enumerate([first, *handle], start=1):
                if not line.strip():
                    continue
                fields = _key_and_label(line)
                if len(fields) != 2:
                    raise BacktestError(f"{path}:{number}: expected a key and a label, got {line.strip()!r}")
                labels[fields[0]] = fields[1]
            return labels
        key_at, label_at = header.index("key"), header.index("label")
        for number, row in enumerate(csv.reader(handle), start=2):
            if not row:
                continue
            if len(row) <= max(key_at, label_at):
                raise BacktestError(f"{path}:{number}: expected {len(header)} columns, got {len(row)}")
            labels[row[key_at].strip()] = row[label_at].strip()
    return labels


LINE_KEY = re.compile(r"(?P<name>.+):(?P<number>[1-9][0-9]*)")
# Files whose labelled lines are reported one by one; more are reported as one sum.
MAX_FILES_REPORTED = 10


def labels_by_line(labels: dict[str, str], sources: Iterable[str | None], format: str = "auto") -> dict[str, str]:
    """``labels`` with each key ``FILE:LINE`` that names a line of one of the ``sources`` log files
    or of a file under a source folder (by base name, as the importer names them, or as on disk with
    ``.gz``; a folder's by their path under it too; lines from 1) keyed
    instead by the event id the importer gives that line, read as ``format``: labels kept per line of
    a log need no ids computed. Raises ``BacktestError`` when such a key's file name is that of two
    sources."""
    from traffic.importer import folder_files, line_event_ids, source_name

    files: dict[str, set[str]] = defaultdict(set)  # a file's names -> the files named so
    named: dict[str, str] = {}  # a file in a folder read whole -> its name there (the import's)
    # A folder's files by their paths under it, which name them before any file's base name does
    # (two sources that hold the same path stay ambiguous)
    by_path: dict[str, set[str]] = defaultdict(set)
    if not any(LINE_KEY.fullmatch(key) for key in labels):
        return dict(labels)
    for source in sources:
        if source and Path(source).is_file():
            for name in {source_name(source), Path(source).name}:
                files[name].add(str(Path(source).resolve()))
        elif source and Path(source).is_dir() and format not in SOURCE_KINDS:  # (an archive has no lines)
            for name, file in folder_files(source).items():
                path = str(Path(file).resolve())
                named[path] = name
                on_disk = Path(file).relative_to(source).as_posix()
                by_path[name].add(path)
                by_path[on_disk].add(path)
                for alias in {source_name(file), Path(file).name}:
                    files[alias].add(path)
    files.update(by_path)
    wanted: dict[str, dict[int, str]] = defaultdict(dict)  # file name -> line number -> label key
    for key in labels:
        match = LINE_KEY.fullmatch(key)
        if match and match["name"] in files:
            wanted[match["name"]][int(match["number"])] = key
    rekeyed = dict(labels)
    kind = "jsonl" if format == "auto" else format  # a file given as auto is read as JSON lines
    found = sought = 0
    for name, keys in wanted.items():
        if len(files[name]) > 1:
            raise BacktestError(
                f"labels name lines of {name}, the name of both {' and '.join(sorted(files[name]))}: rename or "
                "copy one of them, or label by event, session or user id"
            )
        (path,) = files[name]
        event_ids = line_event_ids(path, keys, kind, named.get(path))
        for number, key in keys.items():
            if number in event_ids:
                rekeyed[event_ids[number]] = rekeyed.pop(key)
        # (one line per file where labels name a few files; a folder of an S3 delivery holds hundreds)
        if len(wanted) <= MAX_FILES_REPORTED:
            logger.info("%s: %d of %d labelled lines found", path, len(event_ids), len(keys))
        found, sought = found + len(event_ids), sought + len(keys)
    if len(wanted) > MAX_FILES_REPORTED:
        logger.info("%d files: %d of %d labelled lines found", len(wanted), found, sought)
    return rekeyed


def in_time_order(
    events: Iterable[dict[str, Any]], slack: float = REORDER_SECONDS
) -> Iterator[tuple[float, dict[str, Any]]]:
    """Events as ``(time, event)`` in time order, holding back only ``slack`` seconds of them.

    Logs are written in about the order requests finish; an event later than ``slack`` behind the
    newest seen comes out when it arrives, and the features treat it as simultaneous with the last.
    """
    return ordered_by_time(events, event_time, slack)


@dataclass
class WaveReplay:
    """One kind of attempt's waves over the replay (``model.waves``): the scorer's watch and window,
    each wave's alert with the event ids of the failed attempts in its window when it fired, and the
    failures of the last hour (time, event id, entity)."""

    watch: WaveWatch
    window: AttemptWindow = field(default_factory=AttemptWindow)
    alerts: list[tuple[EntityAlert, list[str]]] = field(default_factory=list)
    recent: deque[tuple[float, str, str | None]] = field(default_factory=deque)
    # The follow-ups naming the accounts whose attempts went through during a wave, and the entities of
    # the first of those since the last follow-up (``WaveWatch.observe_waves``).
    follow_ups: list[EntityAlert] = field(default_factory=list)
    went_through: list[str | None] = field(default_factory=list)
    # The attempts that went through in the last hour (time, account, entity): a wave's alert names
    # those of its window ("... during it, to check").
    succeeded: deque[tuple[float, str, str | None]] = field(default_factory=deque)


@dataclass
class EntityRecord:
    """What the backtest learned about one entity."""

    events: int = 0
    first_seen: float = math.inf
    first_anomalous: float = math.inf  # its first event labelled anomalous: the attack's start
    last_seen: float = -math.inf
    days: set[int] = field(default_factory=set)  # UTC days with an event: the budget's entity-days
    peak_score: float = -math.inf
    alerts: int = 0
    folded: int = 0  # alerts the failed-login wave under way covered (model.waves.fold_into_wave)
    # Whether a login of its failed in a failed-login wave: in the window that raised the wave's
    # alert, or while the wave lasted. That alert stands for the attempts it counted.
    tried_in_wave: bool = False
    client_folded: int = 0  # alerts counted into their client's alert of the day (model.client_alerts)
    first_alert_at: float | None = None
    reasons: tuple[str, ...] = ()
    labels: Counter[str] = field(default_factory=Counter)
    # The address and user agent of its latest request: what an analyst blocks or looks up, where
    # the entity is a client's hash (``client:<16 hex>``) or an account used from several.
    address: str | None = None
    user_agent: str | None = None
    # The client of the request that raised its first alert: a taken-over account's alert is the
    # attacker's login, where its latest request may be its owner's again.
    alert_client: AlertClient | None = None

    @property
    def seconds_to_first_alert(self) -> float | None:
        """From the attack's start (its first event labelled anomalous; where the labels name only
        some of its events, such as by event id, the ones before are not the attack) to its first
        alert, 0 if that came before; from its first event where none is labelled anomalous."""
        if self.first_alert_at is None:
            return None
        start = self.first_anomalous if math.isfinite(self.first_anomalous) else self.first_seen
        return max(0.0, self.first_alert_at - start)

    @property
    def alerted(self) -> bool:
        """Alerted on its own, or as part of a failed-login wave's or its client's alert."""
        return self.alerts > 0 or self.folded > 0 or self.client_folded > 0 or self.tried_in_wave

    def note_alert(self, alert: EntityAlert, covered_by: str | None = None) -> None:
        """Keep the first alert's moment, reasons and client (of the request that raised it; a wave's
        alert has none: the entity's latest request's), ``covered_by``: the alert that stood for it,
        if it was not sent."""
        if self.first_alert_at is None:
            self.first_alert_at = alert.last_event_at
            self.reasons = alert.reasons if covered_by is None else (covered_by, *alert.reasons)
            self.alert_client = alert.client or AlertClient(self.address, self.user_agent)


@dataclass
class Replay:
    """The scorer's per-batch steps over a stream of events, with every figure the report needs."""

    model: LoadedModel
    kind: str
    network_of: Any = None  # the model's lookups (model.network, model.user_agents), as the scorer's
    agent_of: Any = None
    labels: dict[str, str] = field(default_factory=dict)
    matched_labels: set[str] = field(default_factory=set)  # the label keys some test event carried
    user_states: dict[str, UserState] = field(default_factory=dict)
    ip_states: dict[str, IpState] = field(default_factory=dict)
    site: SiteNow = field(default_factory=SiteNow)  # the site's traffic now, as one shard's
    evidence: dict[str, Evidence] = field(default_factory=dict)
    entities: dict[str, EntityRecord] = field(default_factory=lambda: defaultdict(EntityRecord))
    event_scores: list[float] = field(default_factory=list)
    event_labels: list[str] = field(default_factory=list)
    alerts_per_day: Counter[str] = field(default_factory=Counter)
    events: int = 0
    first_event_at: float = math.inf
    last_event_at: float = -math.inf
    keyed: int = 0
    duplicates: int = 0
    flagged: int = 0
    left_out_of_training: int = 0  # training events labelled anomalous, not learned from (main)
    peaks: dict[str, Peak] = field(default_factory=dict)  # each entity's highest score, to explain it
    alerts: list[EntityAlert] = field(default_factory=list)
    events_by_label: Counter[str] = field(default_factory=Counter)  # by the event's entity's label
    suppressed_alerts: int = 0  # alerts repeating a pattern analysts judged benign (model.verdicts)
    folded_alerts: int = 0  # alerts the failed-login wave under way covered, as the scorer counts them
    client_folded_alerts: list[EntityAlert] = field(default_factory=list)  # counted into their client's of the day
    client_days: set[tuple[str, int]] = field(default_factory=set)  # the clients' alerts sent, by day
    flagged_by_label: Counter[str] = field(default_factory=Counter)
    # The service's waves of failed logins and of declined payments (model.waves), beside the entity
    # alerts, by the kind of their alerts.
    waves: dict[str, WaveReplay] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.labels = {key: normalized_label(value) for key, value in self.labels.items()}
        self.unnamed_label = UNLABELLED if "normal" in self.labels.values() else "normal"
        entity_model = self.model.entity_models.get(self.kind)
        if entity_model is None:
            trained = ", ".join(sorted(self.model.entity_models)) or "none"
            # Training says why it left the stage out (no event carried the id, too few episodes);
            # a model trained before the entity stage says nothing.
            why = _stage_metadata(self.model, self.kind).get("skipped")
            advice = f"training left it out: {why}" if why else "train it with --train"
            raise BacktestError(f"the model has no {self.kind} stage (it has: {trained}); {advice}")
        self.tracker = EntityTracker(entity_model, self.kind)
        for attempts, model in watched_waves(self.model.wave_models):
            self.waves[attempts.kind] = WaveReplay(WaveWatch(model, attempts))

    @property
    def login_window(self) -> AttemptWindow | None:
        """The failed-login waves' window, which folds the alerts a wave covers (None without)."""
        logins = self.waves.get(LOGINS.kind)
        return logins.window if logins is not None else None

    @property
    def wave_alerts(self) -> list[tuple[EntityAlert, list[str]]]:
        """The failed-login waves' alerts, each with the event ids of the failed logins in its window
        when it fired (which the evaluation reads)."""
        logins = self.waves.get(LOGINS.kind)
        return logins.alerts if logins is not None else []

    def warm_up(self, events: Iterable[dict[str, Any]]) -> int:
        """Carry the users' and addresses' state, and the episodes under way, through ``events`` (the
        training log), as a scorer that has been running since then would have them; returns how
        many events that was. Nothing of it is reported: no scores, no alerts (an episode that would
        have alerted then is marked so, and does not alert again as it goes on into the test log).

        A list is put in time order first. Any other iterable (an archive read in its arrival order,
        ``archive.iter_events``) is taken as it comes, ``WARM_UP_EVENTS`` at a time, each chunk in
        time order, as the scorer takes its batches: memory holds one chunk, not the training log."""
        ordered = iter(sorted(events, key=event_time) if isinstance(events, Sequence) else events)
        warmed = 0
        # islice, not itertools.batched: the gate runs on the training image's Python 3.10.
        while chunk := list(itertools.islice(ordered, WARM_UP_EVENTS)):
            chunk.sort(key=event_time)
            times = [event_time(event) for event in chunk]
            features = featurize_batch(
                chunk,
                self.user_states,
                self.ip_states,
                network_of=self.network_of,
                agent_of=self.agent_of,
                vocabulary=self.model.vocabulary,
                times=times,
                site=self.site,
            )
            self.user_states.update(features.user_states)
            self.ip_states.update(features.ip_states)
            self.site = features.site
            # The episodes under way: an integration that never pauses half an hour is one episode
            # from training on, not a new one at the test log's first line.
            scores = self.model.detector.score(features.rows)
            self.tracker.observe(
                self.evidence,
                [entity_key(event, self.kind) for event in chunk],
                times,
                event_evidence(features.rows, chunk, self.model.vocabulary, features.polled),
                scores.tolist(),
                (scores > self.model.threshold).tolist(),
            )
            warmed += len(chunk)
        return warmed

    def run(
        self,
        ordered: Iterable[tuple[float, dict[str, Any]]],
        batch_events: int,
        progress: Any = None,
        batch_seconds: float = DEFAULT_BATCH_SECONDS,
    ) -> None:
        """Score ``ordered`` in the scorer's batches: at most ``batch_events`` events, spanning less
        than ``batch_seconds``. ``progress(events, final=False)``, if given, is told the events scored
        after each batch, and ``final`` after the last."""
        batch: list[tuple[float, dict[str, Any]]] = []
        for item in ordered:
            if batch and (len(batch) >= batch_events or item[0] - batch[0][0] >= batch_seconds):
                self.score_batch(batch)
                batch = []
                if progress is not None:
                    progress(self.events)
            batch.append(item)
        if batch:
            self.score_batch(batch)
        if progress is not None:
            progress(self.events, final=True)

    def score_batch(self, batch: Sequence[tuple[float, dict[str, Any]]]) -> None:
        """One Kinesis batch: de-duplicate, featurize with carried state, score, update entities."""
        seen: set[str] = set()
        unique = []
        for moment, event in batch:
            event_id = str(event.get("event_id"))
            if event_id in seen:
                self.duplicates += 1
                continue
            seen.add(event_id)
            unique.append((moment, event))
        times = [moment for moment, _ in unique]
        events = [event for _, event in unique]
        if times:
            self.first_event_at = min(self.first_event_at, min(times))
            self.last_event_at = max(self.last_event_at, max(times))
        features = featurize_batch(
            events,
            self.user_states,
            self.ip_states,
            network_of=self.network_of,
            agent_of=self.agent_of,
            vocabulary=self.model.vocabulary,
            times=times,
            site=self.site,
        )
        self.user_states.update(features.user_states)
        self.ip_states.update(features.ip_states)
        self.site = features.site
        scores = self.model.detector.score(features.rows)
        flagged = scores > self.model.threshold
        keys = [entity_key(event, self.kind) for event in events]
        inputs = event_evidence(features.rows, events, self.model.vocabulary, features.polled)
        entity_scores, raised = self.tracker.observe(
            self.evidence, keys, times, inputs, scores.tolist(), flagged.tolist(), self.peaks
        )
        alerts = with_alert_clients(raised, keys, events, times, self.network_of)
        suppressions = self.model.suppressions
        if suppressions:
            sent = [alert for alert in alerts if not suppressions.suppresses(alert.kind, alert.entity, alert.reasons)]
            self.suppressed_alerts += len(alerts) - len(sent)
            alerts = sent
        # The login window as the batch found it, as the scorer reads it stored (watched below).
        tried = failed_logins_only(keys, events)
        window = self.login_window
        alerts, folded = fold_into_wave(window.view() if window else None, alerts, self.evidence, tried)
        self.folded_alerts += len(folded)
        groups = group_by_client(alerts, keys, events, times)
        alerts, by_client = fold_into_clients(groups, self.client_days)
        self.client_folded_alerts.extend(by_client)
        for alert in by_client:
            self.evidence[alert.entity].alerted = False  # open: with a history, it alerts on its own
        self.events += len(events)
        self.flagged += int(flagged.sum())
        for event, key, moment, score, is_flagged, entity_score in zip(
            events, keys, times, scores.tolist(), flagged.tolist(), entity_scores.tolist(), strict=True
        ):
            label = self._label(event, key)
            self.event_scores.append(score)
            self.event_labels.append(label)
            self.events_by_label[label] += 1
            self.flagged_by_label[label] += is_flagged
            if key is None:
                continue
            self.keyed += 1
            record = self.entities[key]
            record.events += 1
            record.first_seen = min(record.first_seen, moment)
            if label not in ("normal", UNLABELLED):
                record.first_anomalous = min(record.first_anomalous, moment)
            if moment >= record.last_seen:
                record.address = event.get("ip") or record.address
                record.user_agent = event.get("user_agent") or record.user_agent
            record.last_seen = max(record.last_seen, moment)
            record.days.add(int(moment // 86400))
            record.peak_score = max(record.peak_score, entity_score)
            record.labels[label] += 1
        for alert in alerts:
            self.entities[alert.entity].alerts += 1
            self.entities[alert.entity].note_alert(alert)
            self.alerts_per_day[_day(alert.last_event_at)] += 1
        for alert in folded:
            self.entities[alert.entity].folded += 1
            self.entities[alert.entity].note_alert(alert, "part of a failed-login wave")
        for alert in by_client:
            self.entities[alert.entity].client_folded += 1
            self.entities[alert.entity].note_alert(alert, "counted into its client's alert of the day")
        self.alerts.extend(alerts)
        starts = (
            visit_starts(features.rows) if any(wave.watch.attempts.of_visits for wave in self.waves.values()) else []
        )
        for wave in self.waves.values():
            if wave.watch.attempts.of_visits:
                tags = [(str(event.get("event_id")), key) for event, key in zip(events, keys, strict=True)]
                visits = settle_visits(wave.window.pending, events, times, starts, tags)
                visit_events = [{**visit.as_event(), "event_id": visit.tag[0]} for visit in visits]
                self._watch_waves(
                    wave, visit_events, [visit.started for visit in visits], [visit.tag[1] for visit in visits]
                )
            else:
                familiar = familiar_attempts(features.rows, events) if wave.watch.attempts.names_accounts else None
                self._watch_waves(wave, events, times, keys, familiar)

    def _watch_waves(
        self,
        wave: WaveReplay,
        events: Sequence[dict[str, Any]],
        times: Sequence[float],
        keys: Sequence[str | None],
        familiar: Sequence[bool] | None = None,
    ) -> None:
        """The scorer's wave watch over the batch, an attempt at a time, so that the entities whose
        attempts failed in a wave (in the window that raised its alert, or while it lasted) count as
        tried in it, and those whose attempts went through during it as named by its follow-up, when
        that names them (``familiar``: per event, whether it came from its account's own device)."""
        recent, attempts = wave.recent, wave.watch.attempts
        for position, (event, moment, key) in enumerate(zip(events, times, keys, strict=True)):
            failed = attempts.outcome(event)
            if failed is None:
                continue
            owned = familiar is not None and familiar[position]
            if failed:
                recent.append((moment, str(event.get("event_id")), key))
            elif wave.watch.names(event, owned):
                wave.succeeded.append((moment, str(event.get("user_id", "")), key))
            in_wave, counted_before = wave.window.in_wave, wave.window.went_through
            raised = wave.watch.observe_waves(wave.window, [event], [moment], [owned])
            # (a success the window counted in the wave: it raised a follow-up, or is awaiting one; a
            # routine account's or a familiar one's is counted in none)
            counted = wave.watch.names(event, owned) and (
                wave.window.went_through > counted_before or any(item.names_accounts for item in raised)
            )
            if in_wave and not failed and counted and len(wave.went_through) < MAX_FOLLOWED_ACCOUNTS:
                wave.went_through.append(key)  # (the first, as the follow-up names them)
            for alert, start, names_accounts in raised:
                if names_accounts:
                    wave.follow_ups.append(alert)
                    for entity in wave.went_through:
                        self._tried_in_wave(entity, alert, moment, attempts, f"named by a wave of {attempts.failed}")
                    wave.went_through = []
                    continue
                wave.went_through = []  # (a new wave: followed up afresh, as the window is)
                in_window = [(event_id, entity) for stamp, event_id, entity in recent if start <= stamp <= moment]
                wave.alerts.append((alert, [event_id for event_id, _ in in_window]))
                for _, entity in in_window:
                    self._tried_in_wave(entity, alert, moment, attempts)
                # (the accounts it names: those whose attempts went through in its window, before it)
                named = {user for stamp, user in wave.window.successes if stamp >= start}
                for stamp, user, entity in wave.succeeded:
                    if stamp >= start and user in named:
                        self._tried_in_wave(entity, alert, moment, attempts, f"named by a wave of {attempts.failed}")
            wave_raised = any(not item.names_accounts for item in raised)  # (its window's attempts counted above)
            if failed and wave.window.in_wave and not wave_raised and wave.alerts:
                self._tried_in_wave(key, wave.alerts[-1][0], moment, attempts)
        while recent and recent[0][0] < recent[-1][0] - LONG_WINDOW_MINUTES * 60:
            recent.popleft()
        succeeded = wave.succeeded
        while succeeded and succeeded[0][0] < succeeded[-1][0] - LONG_WINDOW_MINUTES * 60:
            succeeded.popleft()

    def _tried_in_wave(
        self, key: str | None, alert: EntityAlert, moment: float, attempts: Attempts, how: str | None = None
    ) -> None:
        """Count ``key``'s entity as alerted by the wave of ``alert``, from ``moment`` on (``how``:
        the words for it, tried by default)."""
        if key is None:
            return
        record = self.entities[key]
        record.tried_in_wave = True
        record.note_alert(replace(alert, last_event_at=moment), how or f"tried in a wave of {attempts.failed}")

    def _label(self, event: dict[str, Any], key: str | None) -> str:
        if not self.labels:
            return "normal"
        # (every key that names it is matched, the first labels it: a trial's labels keyed each line
        # and its session both, and the sessions' keys were reported as matching nothing)
        matched = label_keys(event, key, self.labels)
        if not matched:
            return self.unnamed_label
        self.matched_labels.update(matched)
        return self.labels[matched[0]]

    def unmatched_labels_note(self) -> str | None:
        """The label keys that matched no training or test event, where some did not: a trial's
        labels keyed by hand (a ``client:`` key computed for an agent logged as ``-``, which the
        importer reads as none) missed two scanners of 72 without a word, and they counted as
        people alerted."""
        unmatched = [key for key in self.labels if key not in self.matched_labels]
        if not unmatched:
            return None
        return (
            f"{len(unmatched)} of the {len(self.labels)} label keys name no training or test event "
            f"({', '.join(map(repr, unmatched[:5]))}{', ...' if len(unmatched) > 5 else ''}): labels of other "
            "days miss legitimately; a key of yours may differ from the importer's (entities.csv lists the "
            "test's keys; docs/traffic.md says how a client: key is made)"
        )

    def labels_hint(self) -> str | None:
        """What to check when fewer than ``MIN_MATCHED_LABEL_SHARE`` of the label keys matched a
        training or test event: every entity they miss counts as normal, so the figures would
        measure little."""
        if not self.labels or len(self.matched_labels) >= len(self.labels) * MIN_MATCHED_LABEL_SHARE:
            return None
        unmatched = list(itertools.islice((key for key in self.labels if key not in self.matched_labels), 3))
        seen = list(itertools.islice(self.entities, 3))
        *first, last = dict.fromkeys(("event id", f"{self.kind} id", "session id", "user id"))
        fields = f"{', '.join(first)} or {last}"
        return (
            f"only {len(self.matched_labels)} of {len(self.labels)} label keys match an {fields} of the training "
            f"or test events (unmatched: {', '.join(map(repr, unmatched))}; the test's "
            f"{self.kind} ids look like {', '.join(map(repr, seen)) or 'nothing'}): the entities they miss count "
            "as normal (labels of other days miss legitimately)"
        )


def _day(seconds: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, timezone.utc).date().isoformat()


def entity_label(record: EntityRecord) -> str:
    """An entity is anomalous if any of its events is, named by its commonest anomalous label; else
    normal if any is, else ``UNLABELLED`` if its events are."""
    anomalous = [(count, name) for name, count in record.labels.items() if name not in ("normal", UNLABELLED)]
    if anomalous:
        return max(anomalous)[1]
    return UNLABELLED if record.labels[UNLABELLED] and not record.labels["normal"] else "normal"


def detection_figures(scores: Sequence[float], labels: Sequence[str]) -> dict[str, float] | None:
    """ROC-AUC and PR-AUC (average precision) of scores against normal/anomalous labels."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    truth = np.array([label != "normal" for label in labels])
    if truth.all() or not truth.any():
        return None
    values = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=-1e9, neginf=-1e9)
    return {
        "roc_auc": round(float(roc_auc_score(truth, values)), 4),
        "pr_auc": round(float(average_precision_score(truth, values)), 4),
    }


def alert_ranking(records: Sequence[EntityRecord]) -> list[float]:
    """The entities as the alerts judged them (``alerted_roc_auc``): those alerted (on their own,
    through a wave, or through their client's alert, as ``alerted_share`` counts them) above the
    others, each group by its peak score. A wave's alert stands for the attempts and visits it
    counted, whose own scores it does not raise: by their scores alone, a crawl caught whole by its
    wave (2,800 of 2,800 on a new-user trial, with 42 of 2,894 people) ranks as a ROC-AUC of 0.53."""
    from scipy.stats import rankdata

    scores = np.array([record.peak_score for record in records], dtype=np.float64)
    peaks = np.nan_to_num(scores, nan=-1e9, neginf=-1e9)
    within = rankdata(peaks) / (len(records) + 1.0) if records else peaks
    return [float(record.alerted) + float(share) for record, share in zip(records, within, strict=True)]


def summarize(replay: Replay) -> dict[str, Any]:
    """The figures of a finished replay, as the summary line prints them."""
    records = replay.entities
    every_label = {name: entity_label(record) for name, record in records.items()}
    # (the entities the labels do not name are in no figure of detection, but counted beside them)
    unlabelled = [records[name] for name, label in every_label.items() if label == UNLABELLED]
    names = [name for name, label in every_label.items() if label != UNLABELLED]
    labels = [every_label[name] for name in names]
    # The replayed span, first event to last: a two-day log in local time touches three or four UTC
    # dates, which a count of dates would report.
    span = max(replay.last_event_at - replay.first_event_at, 0.0)
    entity_days = sum(_days_active(record) for record in records.values())
    summary: dict[str, Any] = {
        "backtest": "summary",
        "entity": replay.kind,
        "events": replay.events,
        "entities": len(records),
        "days": round(span / 86_400.0, 2),
        "alerts": len(replay.alerts),
        "alerts_per_1000_entities_per_day": round(1000.0 * len(replay.alerts) / max(entity_days, 1), 3),
        "events_flagged_share": round(replay.flagged / max(replay.events, 1), 5),
        **{
            attempts.alerts_key: len(replay.waves[attempts.kind].alerts) if attempts.kind in replay.waves else 0
            for attempts in ATTEMPTS
        },
        "suppressed_alerts": replay.suppressed_alerts,
        "folded_into_waves": replay.folded_alerts,
        # (of any kind: a login failed in a failed-login wave, a payment declined in a payment one, or a
        # sign-up in a sign-up one)
        "tried_in_waves": sum(1 for record in records.values() if record.tried_in_wave),
        "folded_into_clients": len(replay.client_folded_alerts),
        "left_out_of_training": replay.left_out_of_training,
    }
    if replay.labels:
        normal = {name: records[name] for name, label in zip(names, labels, strict=True) if label == "normal"}
        summary["normal_alerts_per_1000_entities_per_day"] = _alerts_per_1000(normal.values())
        unnamed = [record for name, record in normal.items() if name.startswith(PSEUDONYMOUS_USERS)]
        if replay.kind == "user" and unnamed and len(unnamed) < len(normal):
            # (requests that named no user, such as an app's calls before it signs in, are users keyed
            # by their session or client: a new-user trial's token refreshes made 7,000 of its 11,000
            # normal users, and the figure over them all sat under the budget while signed-in users
            # alerted over it)
            named = [record for name, record in normal.items() if not name.startswith(PSEUDONYMOUS_USERS)]
            summary["normal_alerts_per_1000_by_entity"] = {
                "named_users": _alerts_per_1000(named),
                "unnamed_users": _alerts_per_1000(unnamed),
                "unnamed_share": round(len(unnamed) / len(normal), 4),
            }
    if unlabelled:
        summary["unlabelled"] = {
            "entities": len(unlabelled),
            "alerted": sum(1 for record in unlabelled if record.alerted),
        }
    labelled = [at for at, label in enumerate(replay.event_labels) if label != UNLABELLED]
    event_labels = [replay.event_labels[at] for at in labelled]
    if any(label != "normal" for label in labels) or any(label != "normal" for label in event_labels):
        summary["event_level"] = detection_figures([replay.event_scores[at] for at in labelled], event_labels)
        entity_level: dict[str, Any] = dict(
            detection_figures([records[name].peak_score for name in names], labels) or {}
        )
        as_alerted = detection_figures(alert_ranking([records[name] for name in names]), labels)
        if as_alerted:
            entity_level["alerted_roc_auc"] = as_alerted["roc_auc"]
            entity_level["alerted_pr_auc"] = as_alerted["pr_auc"]
        shares: dict[str, float] = {}
        for group in ("normal", "anomalous"):
            members = [
                records[name]
                for name, label in zip(names, labels, strict=True)
                if (label == "normal") == (group == "normal")
            ]
            if members:
                shares[group] = round(sum(1 for record in members if record.alerted) / len(members), 4)
        entity_level["alerted_share"] = shares
        summary["entity_level"] = entity_level
        per_label: dict[str, Any] = {}
        normal_peaks = [records[key].peak_score for key, label in zip(names, labels, strict=True) if label == "normal"]
        for name in sorted(set(labels)):
            members = [records[key] for key, label in zip(names, labels, strict=True) if label == name]
            delays = [delay for record in members if (delay := record.seconds_to_first_alert) is not None]
            per_label[name] = {
                "entities": len(members),
                "alerted": sum(1 for record in members if record.alerted),
                "alerted_share": round(sum(1 for record in members if record.alerted) / len(members), 4),
                # Of them, those that alerted on their own, those a failed-login wave stood for (a
                # stuffing session is caught by the wave; a person who failed a login in a false one
                # is counted with it too), and those their client's alert of the day stood for.
                "alerted_on_their_own": sum(1 for record in members if record.alerts > 0),
                "alerted_through_a_wave": sum(
                    1 for record in members if record.alerts == 0 and (record.folded > 0 or record.tried_in_wave)
                ),
                "alerted_through_their_client": sum(
                    1
                    for record in members
                    if record.alerts == 0 and not (record.folded > 0 or record.tried_in_wave) and record.client_folded
                ),
                "median_seconds_to_first_alert": round(float(np.median(delays)), 1) if delays else None,
                "events_flagged_share": round(replay.flagged_by_label[name] / max(replay.events_by_label[name], 1), 4),
            }
            if name != "normal":
                # This label's entities ranked against the normal ones alone: one kind of bot can be
                # missed entirely under an overall ROC-AUC that the others hold up.
                against_normal = detection_figures(
                    [*normal_peaks, *(record.peak_score for record in members)],
                    ["normal"] * len(normal_peaks) + [name] * len(members),
                )
                per_label[name]["roc_auc_against_normal"] = against_normal["roc_auc"] if against_normal else None
        summary["per_label"] = per_label
    return summary


def write_outputs(replay: Replay, summary: dict[str, Any], out: Path) -> None:
    """``entities.csv``, ``report.md`` and the plots."""
    out.mkdir(parents=True, exist_ok=True)
    peak_reasons = explain_peaks(replay.peaks)
    with open(out / "entities.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "entity",
                "label",
                "events",
                "first_seen",
                "peak_score",
                "alerts",
                "folded_into_waves",
                "folded_into_clients",
                "tried_in_wave",
                "seconds_to_first_alert",
                "reasons",
                "peak_reasons",
                "last_address",
                "last_user_agent",
                "alert_address",
                "alert_user_agent",
                "alert_country",
                "alert_network",
            ]
        )
        for name, record in sorted(replay.entities.items(), key=lambda item: -item[1].peak_score):
            delay = "" if record.seconds_to_first_alert is None else round(record.seconds_to_first_alert, 1)
            writer.writerow(
                [
                    name,
                    entity_label(record),
                    record.events,
                    _iso(record.first_seen),
                    round(record.peak_score, 4),
                    record.alerts,
                    record.folded,
                    record.client_folded,
                    int(record.tried_in_wave),
                    delay,
                    " | ".join(record.reasons),
                    " | ".join(peak_reasons.get(name, ())),
                    record.address or "",
                    record.user_agent or "",
                    *(field or "" for field in record.alert_client or AlertClient(None, None)),
                ]
            )
    plots = _plots(replay, out)
    (out / "report.md").write_text(_report(replay, summary, plots, peak_reasons), encoding="utf-8")


def _iso(seconds: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _plots(replay: Replay, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = replay.entities
    by_label: dict[str, list[float]] = defaultdict(list)
    delays: dict[str, list[float]] = defaultdict(list)
    for record in records.values():
        label = entity_label(record)
        by_label[label].append(record.peak_score)
        if record.seconds_to_first_alert is not None:
            delays[label].append(record.seconds_to_first_alert / 60.0)
    threshold = replay.tracker.model.threshold
    written = []
    figure, axes = plt.subplots(figsize=(8, 4.5))
    finite = [value for values in by_label.values() for value in values if math.isfinite(value)]
    bins = np.linspace(min([*finite, threshold]), max([*finite, threshold]), 40).tolist()
    for label, values in sorted(by_label.items()):
        axes.hist(
            [value for value in values if math.isfinite(value)], bins=bins, alpha=0.55, label=f"{label} ({len(values)})"
        )
    axes.axvline(threshold, color="black", linestyle="--", label="alert threshold")
    axes.set_xlabel(f"peak {replay.kind} score")
    axes.set_ylabel(f"{replay.kind}s")
    axes.legend()
    figure.tight_layout()
    figure.savefig(out / "scores.png", dpi=100)
    plt.close(figure)
    written.append("scores.png")

    figure, axes = plt.subplots(figsize=(8, 3.5))
    days = sorted(replay.alerts_per_day)
    axes.bar(days, [replay.alerts_per_day[day] for day in days])
    axes.set_ylabel("alerts")
    axes.set_title("alerts per day")
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(out / "alerts_per_day.png", dpi=100)
    plt.close(figure)
    written.append("alerts_per_day.png")

    figure, axes = plt.subplots(figsize=(8, 3.5))
    for label, values in sorted(delays.items()):
        axes.hist(values, bins=30, alpha=0.55, label=f"{label} ({len(values)} alerted)")
    axes.set_xlabel("minutes from the entity's first event to its first alert")
    axes.set_ylabel(f"{replay.kind}s")
    if delays:
        axes.legend()
    figure.tight_layout()
    figure.savefig(out / "time_to_first_alert.png", dpi=100)
    plt.close(figure)
    written.append("time_to_first_alert.png")
    return written


def _alerts_per_1000(records: Iterable[EntityRecord]) -> float:
    """Alerts per 1,000 of ``records``' entity-days."""
    listed = list(records)
    return round(1000.0 * sum(record.alerts for record in listed) / max(sum(map(_days_active, listed)), 1), 3)


def _days_active(record: EntityRecord) -> int:
    """UTC days on which the entity had an event, as training counts entity-days."""
    return len(record.days)


def _habitual_list(replay: Replay) -> list[str]:
    """The habitual entities (``EntityModel.habitual``), most days over the threshold first, each with
    the level it alerts beyond and its client where the test saw it: a new-user trial read "5 users
    crossed it on 3 or more days" and had to find them by hand (a hospital's shared addresses, a
    contact centre), whose excuse an attacker behind those addresses would inherit."""
    stage = replay.model.entity_models.get(replay.kind)
    if stage is None or not stage.habitual:
        return []
    lines = [f"The habitual {replay.kind}s{_shown(len(stage.habitual))}:", ""]
    for key, level in list(stage.habitual.items())[:REPORT_LIST_LENGTH]:
        seen = replay.entities.get(key)
        where = _client_of(seen) if seen is not None else " (not in the test)"
        lines.append(f"- `{key}`{where}: alerts beyond {stage.alert_level(key):.2f} (its training level {level:.2f})")
    return [*lines, ""]


# A share range whose top is this many times its bottom is worth narrowing (at 2.5 %, under about 120 days).
WIDE_SHARE_RANGE = 4.0


def _stage_metadata(model: LoadedModel, kind: str) -> dict[str, Any]:
    """What training recorded of the model's ``kind`` entity stage (``metadata.json``'s
    ``entities``), or nothing: a model trained before the entity stage recorded none."""
    stage = (model.metadata.get("entities") or {}).get(kind)
    return stage if isinstance(stage, dict) else {}


def _calibration_note(replay: Replay) -> str:
    stage = _stage_metadata(replay.model, replay.kind)
    if "threshold" not in stage:
        return ""
    calibration = stage.get("calibration", {})
    method = calibration.get("method", "method not recorded")
    if method == "quantile":
        how = "the score the budget's share of them exceeded"
    elif method.startswith("exponential tail"):
        how = "too few of them lay beyond it to read it off, so it is extrapolated from their upper tail"
    elif method == TIED_BASE:
        how = "many of them scored alike, with no more than the budget's share above them, so it is their score"
    else:
        how = "by a model trained before the method was recorded"
    note = (
        f"The {replay.kind} threshold ({stage['threshold']:.2f}) was calibrated on {stage.get('entity_days', '?'):,} "
        f"{replay.kind}-days of training traffic ({method}: {how})."
    )
    share_range, aimed = calibration.get("share_range"), calibration.get("sum_share")
    if share_range is not None and aimed is not None:  # (absent from a model trained before it was recorded)
        low, high = share_range
        share = calibration.get("alert_share")
        # (where the largest-term rule takes its part of the budget, the sum is aimed at the rest)
        whole = f", the sum's part of {100.0 * share:.2g}%" if share is not None and share > aimed else ""
        note += (
            f" Set on that many days, it would be exceeded on {100.0 * low:.2g}% to {100.0 * high:.2g}% of "
            f"{replay.kind}-days like training's ({SHARE_RANGE_LEVEL:.0%} range; aimed at {100.0 * aimed:.2g}%{whole})"
        )
        # (the range's width is the sample's size: a threshold read off a few days may alert on
        # several times the share aimed at, or miss what lies just beyond the days seen)
        note += "; more days of training narrow the range." if high > WIDE_SHARE_RANGE * low else "."
    note += " A larger `--alert-budget` trades more alerts on normal traffic for more caught."
    if stage.get("term_threshold") is not None:
        note += (
            " An episode also alerts when one feature alone lies beyond the term threshold "
            f"({stage['term_threshold']:.2f}, a negative log tail probability); the two rules share the budget."
        )
    share = calibration.get("alert_share")
    if share is not None and share > stage.get("alert_budget", 0.0) / 1000.0:
        note += (
            f" With {stage['entities_per_day']:g} {replay.kind}s a day in training, the budget allows less than "
            f"one alert a day: the threshold is set for {share * stage['entities_per_day']:.2g} a day ({share:.1%} "
            f"of {replay.kind}s; `--min-daily-alerts`)."
        )
    machines = stage.get("machine_clients")
    if machines:
        note += (
            f" Training held {machines['episodes']:,} episodes of machine clients (HTTP libraries, declared bots, "
            f"headless browsers): the threshold above judges the others, against their episodes alone, and machine "
            f"clients are judged against {_machines_fitted_on(machines)}, with a threshold of "
            f"{machines['threshold']:.2f} (their scores are reported on the others' scale)."
        )
    habitual = stage.get("habitual_entities")
    if habitual:
        note += (
            f" {habitual:,} {replay.kind}{'s' if habitual > 1 else ''} crossed it on {HABIT_MIN_DAYS} or more days of "
            f"training (a monitor, an integration, an office behind one address): habitual, each alerts only beyond "
            f"{HABIT_MARGIN:g} times its highest score there, so a score above the threshold without an alert may be "
            'one of theirs (docs/model.md, "Habitual entities").'
        )
    return note


def _machines_fitted_on(machines: dict[str, Any]) -> str:
    # A model trained before the field judged machine clients only against their own episodes.
    if machines.get("fitted_on", "their own episodes") == "their own episodes":
        return "theirs"
    if machines.get("calibrated_on") == "everyone's days":
        return (
            f"everyone's (theirs are fewer than {MIN_MACHINE_CLIENTS} clients': too few for a model of their own, "
            "or to say where a machine client's usual day ends; calibrated on everyone's days)"
        )
    if machines["episodes"] < MIN_MACHINE_EPISODES:
        why = f"too few of theirs, under {MIN_MACHINE_EPISODES}, for a model of their own"
    else:
        why = "theirs could not be cross-fitted: too few clients"
    return f"everyone's ({why}; calibrated on their days)"


REPORT_LIST_LENGTH = 20  # entities listed in each of the report's sections; entities.csv has all


def _shown(count: int) -> str:
    return f", the first {REPORT_LIST_LENGTH} shown: entities.csv has all" if count > REPORT_LIST_LENGTH else ""


def _client_of(record: EntityRecord | None, alert: EntityAlert | None = None) -> str:
    """`` (from ADDRESS (COUNTRY, NETWORK), USER AGENT)``: the client of the request that raised
    ``alert``, else of the entity's latest request, for the report."""
    client = alert.client if alert is not None else None
    if client is None and record is not None:
        client = AlertClient(record.address, record.user_agent)
    if client is None or not (client.address or client.user_agent):
        return ""
    return f" (from {client.describe()})"


# The waves whose failures a log may never show: what their attempts are, how a site hides their
# failures, and the surges that watch them there.
_UNSEEN_FAILURES = {
    LOGINS.kind: ("logins", "a failed login with a status below 400 (a GraphQL API's 200)", LOGIN_SURGES),
    PAYMENTS.kind: (
        "payments",
        "a declined payment with 200 (a GraphQL API's checkout, WooCommerce's)",
        PAYMENT_SURGES,
    ),
}


def _calm_wave_line(replay: Replay, attempts: Attempts) -> str:
    """What a report says of a wave that never rose: its share stayed usual; or, where training saw
    none of its failures at all, that the log may show none (a failed login or a declined payment
    answered with 200), and which surges watch them then."""
    recorded = replay.model.metadata.get(attempts.metadata_key)
    trained = recorded if isinstance(recorded, dict) else {}
    unseen = _UNSEEN_FAILURES.get(attempts.kind)
    if unseen is not None and trained.get("attempts") and trained.get("failures") == 0:
        tried, answered, surges = unseen
        return (
            f"None, and maybe none could rise: none of training's {trained['attempts']} {tried} was one of its "
            f"{attempts.failed}. Where the site answers {answered}, the log shows none; the "
            f"{surges.title.lower()} watch them there (docs/model.md)."
        )
    return f"None: the share of {attempts.failed} stayed within its usual range."


def _unwatched_waves(replay: Replay) -> list[str]:
    """A line for each kind of wave the model does not watch, with training's reason: a new-user
    trial of an app's log learned only from the model's metadata that no sign-up had been read,
    and that account farming could not alert."""
    from model.waves import ATTEMPTS

    lines = []
    for attempts in ATTEMPTS:
        if attempts.kind in replay.waves:
            continue
        recorded = replay.model.metadata.get(attempts.metadata_key)
        why = recorded.get("skipped") if isinstance(recorded, dict) else None
        if why:
            lines.append(f"- {attempts.title}: not trained ({why}).")
    return lines


def _below_chance_note(entity_level: Mapping[str, Any]) -> list[str]:
    """What an entity ROC-AUC below chance means where the alerts rank the entities far better: a
    new-user trial's 1,400 stuffing sessions of two requests each, caught by their wave, ranked
    below the people by their own scores (0.40; alerted first 0.99), and nothing said why."""
    by_score, alerted_first = entity_level.get("roc_auc"), entity_level.get("alerted_roc_auc")
    if by_score is None or alerted_first is None or by_score >= 0.5 or alerted_first <= by_score:
        return []
    return [
        f"By their own peak scores the anomalous entities rank below the normal ones ({by_score}): those caught "
        "through a wave (of failed logins, payments, sign-ups, codes sent or crawlers' visits) are each a request "
        "or two that look like nothing alone, and the wave's alert stands for them; the alerted first, they rank at "
        f'{alerted_first} (docs/model.md, "Reading the figures").',
        "",
    ]


# Normal entities alerting this many times the budget are named in the report by their agents:
# most such excesses are one kind of client (trial 63: its declared crawlers, 1,088 of the 1,131
# normal sessions alerted, which the report counted with the people and nothing said).
OVER_BUDGET_FACTOR = 2.0
_OVER_BUDGET_AGENTS = 3


def _over_budget_note(replay: Replay, summary: Mapping[str, Any]) -> list[str]:
    """Where normal entities alerted over ``OVER_BUDGET_FACTOR`` times the budget: how much, and the
    user agents most of them had."""
    rate, budget = summary.get("normal_alerts_per_1000_entities_per_day"), replay.tracker.model.alert_budget
    if rate is None or rate <= OVER_BUDGET_FACTOR * budget:
        return []
    agents = Counter(
        record.user_agent or "(none)"
        for record in replay.entities.values()
        if record.alerted and entity_label(record) == "normal"
    )
    commonest = "; ".join(f"{count:,} `{agent}`" for agent, count in agents.most_common(_OVER_BUDGET_AGENTS))
    return [
        f"Normal {replay.kind}s alerted {rate / budget:.0f} times the budget ({rate} per 1,000 a day against "
        f"{budget:g}){_against_share_range(replay, rate)}. The alerted ones' commonest user agents: {commonest} "
        '(`entities.csv` lists each, with its reasons; docs/model.md, "Known limits").',
        "",
    ]


def _against_share_range(replay: Replay, rate: float) -> str:
    """Whether normal alerts at ``rate`` per 1,000 entity-days lie beyond the top of what the
    thresholds' share ranges allow (the sum's, and the largest-term rule's where the model uses it):
    the test holds traffic unlike training's, rather than a threshold set on few days."""
    calibration = _stage_metadata(replay.model, replay.kind).get("calibration", {})
    share_range = calibration.get("share_range")
    if share_range is None:  # (a model trained before it was recorded)
        return ""
    term_range = calibration.get("largest_term_share_range") or [0.0, 0.0]
    most = 1000.0 * (share_range[1] + term_range[1])
    if rate > most:
        return (
            f", beyond the top of the {SHARE_RANGE_LEVEL:.0%} range that training's days give (about {most:.3g}): "
            "the test days hold traffic unlike training's"
        )
    return (
        f", within the {SHARE_RANGE_LEVEL:.0%} range that training's days give (up to about {most:.3g}): "
        "a threshold set on few days may give as much"
    )


def _unnamed_users_note(summary: Mapping[str, Any]) -> list[str]:
    """The normal alerts' rate among the users the log named and among those keyed by their session
    or client."""
    split = summary.get("normal_alerts_per_1000_by_entity")
    if split is None:
        return []
    return [
        f"{split['unnamed_share']:.0%} of the normal users are requests that named no user, keyed by their session "
        "or client (`session:`, `client:`; such as an app's calls before it signs in): the users the log named "
        f"raised {split['named_users']} alerts per 1,000 a day, the others {split['unnamed_users']}; the budget is "
        "kept over both together.",
        "",
    ]


def _report(
    replay: Replay, summary: dict[str, Any], plots: list[str], peak_reasons: Mapping[str, tuple[str, ...]]
) -> str:
    lines = [
        f"# Backtest: {replay.kind} alerts",
        "",
        f"{summary['events']:,} events, {summary['entities']:,} {replay.kind}s over {summary['days']} days "
        "(first event to last); "
        f"{summary['alerts']:,} alerts ({summary['alerts_per_1000_entities_per_day']} per 1,000 active "
        f"{replay.kind}s a day, counted per {replay.kind}-day; the model's budget is "
        f"{replay.tracker.model.alert_budget:g}"
        + (
            f", and normal {replay.kind}s raised {summary['normal_alerts_per_1000_entities_per_day']}"
            if "normal_alerts_per_1000_entities_per_day" in summary
            else ""
        )
        + f"). {summary['events_flagged_share']:.2%} of events scored above the event threshold.",
        "",
        *_unnamed_users_note(summary),
        *(
            [
                f"{replay.left_out_of_training:,} training events were labelled anomalous: the model did not learn "
                "from them (`--train-on-labelled` keeps them), though the users' state was carried through them.",
                "",
            ]
            if replay.left_out_of_training
            else []
        ),
        _calibration_note(replay),
        "",
        *_habitual_list(replay),
    ]
    if "per_label" in summary:
        lines += [
            "| label | entities | alerted | share | on their own | through a wave | "
            "through their client's alert | median time to first alert |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, figures in summary["per_label"].items():
            delay = figures["median_seconds_to_first_alert"]
            lines.append(
                f"| {name} | {figures['entities']} | {figures['alerted']} | {figures['alerted_share']:.1%} | "
                f"{figures['alerted_on_their_own']} | {figures['alerted_through_a_wave']} | "
                f"{figures['alerted_through_their_client']} | "
                f"{'' if delay is None else f'{delay / 60:.1f} min'} |"
            )
        if "unlabelled" in summary:
            figures = summary["unlabelled"]
            lines.append(
                f"| not labelled (in no figure: the labels name normal {replay.kind}s too) | {figures['entities']} | "
                f"{figures['alerted']} | {figures['alerted'] / figures['entities']:.1%} | | | | |"
            )
        entity_level = summary.get("entity_level", {})
        event_level = summary.get("event_level") or {}
        lines += [
            "",
            f"Entity level (by peak score): ROC-AUC {entity_level.get('roc_auc')}, "
            f"PR-AUC {entity_level.get('pr_auc')}; the alerted first (through waves too): ROC-AUC "
            f"{entity_level.get('alerted_roc_auc')}, PR-AUC {entity_level.get('alerted_pr_auc')}. "
            f"Event level: ROC-AUC {event_level.get('roc_auc')}, PR-AUC {event_level.get('pr_auc')}.",
            "",
            *_below_chance_note(entity_level),
            *_over_budget_note(replay, summary),
        ]
    lines += ["## First alerts", ""]
    for alert in replay.alerts[:20]:
        lines.append(
            f"- `{alert.entity}`{_client_of(replay.entities.get(alert.entity), alert)} at {_iso(alert.last_event_at)} "
            f"after {alert.pages} page{'s' * (alert.pages != 1)}: {'; '.join(alert.reasons)}"
        )
    missed = [
        (name, record)
        for name, record in replay.entities.items()
        if entity_label(record) not in ("normal", UNLABELLED)
        and not record.alerted
        and math.isfinite(record.peak_score)
    ]
    if missed:
        missed.sort(key=lambda item: -item[1].peak_score)
        lines += [
            "",
            f"## Labelled anomalous, not alerted ({len(missed)}; the highest first{_shown(len(missed))})",
            "",
            "What stood out when each scored highest (`peak_reasons` in entities.csv has every entity's):",
            "",
        ]
        threshold = replay.tracker.model.threshold
        lines += [
            f"- `{name}` ({entity_label(record)}), {record.peak_score:.2f} against {threshold:.2f}: "
            f"{'; '.join(peak_reasons.get(name, ())) or 'nothing beyond the usual'}"
            for name, record in missed[:REPORT_LIST_LENGTH]
        ]
    if replay.labels:
        # (where the labels name normal entities too, those they do not name are listed with these,
        # though in no figure: what an analyst would see of them)
        normal = [
            (name, record) for name, record in replay.entities.items() if entity_label(record) in ("normal", UNLABELLED)
        ]
        false_alarms = sorted(
            ((name, record) for name, record in normal if record.alerts), key=lambda i: -i[1].peak_score
        )
        covered = sum(1 for _, record in normal if record.alerted and not record.alerts)
        lines += [
            "",
            f"## Normal (labelled so, or not labelled), alerted on their own ({len(false_alarms)}; the highest "
            f"first{_shown(len(false_alarms))})",
            "",
        ]
        if covered:
            lines += [f"{covered} more counted as alerted by a failed-login wave or their client's alert.", ""]
        lines += [
            f"- `{name}`{' (not labelled)' * (entity_label(record) == UNLABELLED)}, {record.peak_score:.2f}: "
            f"{'; '.join(record.reasons)}"
            for name, record in false_alarms[:REPORT_LIST_LENGTH]
        ] or ["None."]
    for wave in replay.waves.values():
        lines += ["", f"## {wave.watch.attempts.title} (the whole service)", ""]
        for alert, _ in wave.alerts[:20]:
            lines.append(f"- {_iso(alert.last_event_at)}: {'; '.join(alert.reasons)}")
            # (its follow-ups: the accounts whose attempts went through while it lasted)
            follow_ups = [item for item in wave.follow_ups if item.episode == alert.episode]
            lines += [f"  - {_iso(item.last_event_at)}: {'; '.join(item.reasons)}" for item in follow_ups[:20]]
        if not wave.alerts:
            lines.append(_calm_wave_line(replay, wave.watch.attempts))
    unwatched = _unwatched_waves(replay)
    if unwatched:
        lines += ["", "## Waves not watched", "", *unwatched]
    if replay.waves:
        if replay.folded_alerts:
            lines += [
                "",
                f"{replay.folded_alerts} {replay.kind} alert(s) came from episodes of failed requests only during a "
                "wave: counted as alerted by the wave, not sent on their own.",
            ]
        tried = sum(1 for record in replay.entities.values() if record.tried_in_wave)
        if tried:
            lines += [
                "",
                f"{tried} {replay.kind}(s) had a login or payment fail, signed up, submitted a login or a payment "
                "in a surge of them, or visited as a crawler does, in a wave (in the window that raised its alert, or "
                "while it lasted), or had a login or payment go through while it lasted: counted as alerted by the "
                "wave, whose alert counts those attempts without naming them, and whose follow-ups name the logins "
                "and payments that went through.",
            ]
    if replay.client_folded_alerts:
        lines += [
            "",
            f"{len(replay.client_folded_alerts)} alert(s) on one-request episodes came from a client (an address) "
            "whose one-request episode had alerted that day: counted into that alert, not sent (a client without "
            "cookies starts a session with every request; a scanner may change its user agent with every request).",
        ]
    lines += ["", *(f"![{name}]({name})" for name in plots), ""]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    from traffic.importer import FORMATS, format_name

    parser = argparse.ArgumentParser(prog="python -m model.backtest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", help="SOURCE to train a model on first (as make model does)")
    parser.add_argument("--model", help="a model.tar.gz (or its folder) to use instead of --train")
    parser.add_argument("--test", required=True, help="SOURCE to replay")
    parser.add_argument(
        "--labels", help="CSV key,label (key: event_id, user_id, session_id, or FILE:LINE, a line of a log SOURCE)"
    )
    parser.add_argument(
        "--train-on-labelled",
        action="store_true",
        help="with --train: learn from the events --labels names anomalous too (default: left out of training)",
    )
    parser.add_argument("--entity", choices=ENTITY_KINDS, default="user", help="what alerts are about (default user)")
    parser.add_argument(
        "--format",
        type=functools.partial(format_name, others=SOURCE_KINDS),
        choices=(*SOURCE_KINDS, *FORMATS),
        default="auto",
        help="how to read SOURCEs (default: archive folder or JSON lines, or custom where --log-format is given)",
    )
    parser.add_argument(
        "--log-format",
        help="format string for --format custom: nginx's log_format (the directive as in nginx.conf, or its string), "
        "Apache's LogFormat, Envoy's format string (%%START_TIME%%, %%REQ(USER-AGENT)%%...), or a JSON template for "
        "JSON lines (nginx's escape=json, API Gateway's $context format)",
    )
    parser.add_argument(
        "--time-format",
        help="strptime format of $time_local in --log-format (default %%d/%%b/%%Y:%%H:%%M:%%S %%z; no %%z: UTC)",
    )
    from traffic.forwarded import add_real_ip_from
    from traffic.importer import add_failed_login_status, add_haproxy_headers, add_session_cookie, add_signup_path

    add_failed_login_status(parser)
    add_signup_path(parser)
    add_real_ip_from(parser)
    add_session_cookie(parser)
    add_haproxy_headers(parser)
    parser.add_argument(
        "--alert-budget", type=float, default=DEFAULT_ALERT_BUDGET, help="with --train: alerts per 1,000 entities a day"
    )
    parser.add_argument(
        "--min-daily-alerts",
        type=float,
        default=DEFAULT_MIN_DAILY_ALERTS,
        help="with --train: alerts a day where the budget allows fewer (a small site; 0: the budget alone)",
    )
    parser.add_argument("--batch-events", type=int, default=DEFAULT_BATCH_EVENTS, help="events per scorer batch")
    parser.add_argument(
        "--batch-seconds",
        type=_positive_seconds,
        default=DEFAULT_BATCH_SECONDS,
        help="the longest span of a scorer batch, in event time (default %(default)s)",
    )
    parser.add_argument(
        "--geo",
        default="embedded",
        choices=("embedded", "synthetic", "none"),
        help="with --train: IP to country and network lookup (see python -m model.train --help)",
    )
    parser.add_argument("--endpoint-url", help="S3 endpoint for s3:// sources (else AWS_ENDPOINT_URL_S3)")
    parser.add_argument("--out", required=True, help="folder for report.md, plots and entities.csv")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    arguments = parser.parse_args(argv)
    if bool(arguments.train) == bool(arguments.model):
        parser.error("give exactly one of --train SOURCE and --model model.tar.gz")
    if arguments.train_on_labelled and not arguments.train:
        parser.error("--train-on-labelled is about training: it needs --train")
    if arguments.format == "auto" and arguments.log_format:  # (a format string names the custom format)
        arguments.format = "custom"
    if arguments.format == "custom" and not arguments.log_format:
        parser.error("--format custom needs --log-format")
    if arguments.entity == "session" and arguments.format in NO_SESSION_FORMATS:
        parser.error(
            f"--entity session: the {arguments.format} format has no session column, so no request has a session "
            "id. Backtest --entity user (where the log names no user, each client, address and user agent, is "
            "one), or log the session cookie and read it with --format custom (docs/traffic.md)"
        )
    return arguments


def label_keys(event: dict[str, Any], key: str | None, labels: Collection[str]) -> list[str]:
    """The keys of ``labels`` that name ``event``, in the order they count: its event id, its
    entity's ``key``, its session id, the session id it carried before the import read it as the
    session its id was rotated from (``traffic.importer.with_rotated_sessions``), its user id."""
    properties = event.get("properties")
    rotated = properties.get("rotated_session_id") if isinstance(properties, dict) else None
    candidates = (event.get("event_id"), key, event.get("session_id"), rotated, event.get("user_id"))
    named = (str(candidate) for candidate in candidates if candidate is not None and candidate in labels)
    return list(dict.fromkeys(named))


def label_key(event: dict[str, Any], key: str | None, labels: Collection[str]) -> str | None:
    """The key of ``labels`` that labels ``event`` (the first of ``label_keys``); None if none does."""
    keys = label_keys(event, key, labels)
    return keys[0] if keys else None


def with_landing_keys(events: Sequence[dict[str, Any]], keys: Sequence[str | None]) -> list[str | None]:
    """``keys`` (the label key of each of ``events``, in time order) with each event that has neither
    a key nor a session id of its own (only ``client:``, the import's for its client) given the key
    of the next request from its client (address and agent) that has one, where that came within
    ``LANDING_SECONDS``: a visit's first request.

    The site sets its session cookie in the answer to a visit's first request, so that request
    carries none, and labels kept per session cannot name it; the page's assets follow within a
    second or two, with the cookie, from the same client. Without its session's label, training
    learned a labelled bot's landing requests as its client's normal traffic (trial 62: a headless
    bot's, keyed by its agent alone, became "1 episode of machine clients", and fewer bots alerted).
    Where clients share an agent and no address is logged, a landing may be given another visit's
    key: training then leaves out one person's first request, or keeps one bot's, as before."""
    own_session = [_has_own_session(event) for event in events]
    if not any(own_session):
        return list(keys)
    given = list(keys)
    following: dict[tuple[Any, Any], tuple[float, str | None]] = {}  # client -> its next sessioned request
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        client, moment = (event.get("ip"), event.get("user_agent")), event_time(event)
        if own_session[index]:
            following[client] = (moment, keys[index])
        elif keys[index] is None and (after := following.get(client)) and after[0] - moment <= LANDING_SECONDS:
            given[index] = after[1]
    return given


def _has_own_session(event: Mapping[str, Any]) -> bool:
    """Whether an event carries a session id of its own (not the client's the import gave it)."""
    session = event.get("session_id")
    return bool(session) and not str(session).startswith(CLIENT_USER_PREFIX)


class Prepared(NamedTuple):
    """What the replay starts from: the model, its lookups, and the training log it was trained on."""

    model: LoadedModel
    network_of: Any
    agent_of: Any
    history: list[dict[str, Any]]  # the training events (none with --model)
    left_out: int = 0  # of them, labelled anomalous and not learned from
    matched_labels: frozenset[str] = frozenset()  # the label keys some training event carried


def _load_or_train(arguments: argparse.Namespace, workdir: Path, labels: dict[str, str]) -> Prepared:
    """The model, its network lookup and agent parser, and the training events (none with ``--model``).

    The events ``labels`` name anomalous are left out of what the model learns from, unless
    ``--train-on-labelled``: a model learns normal traffic, and what the labels call an attack would
    raise the thresholds that should catch it (retraining likewise leaves out the users and sessions
    analysts confirmed attacked, ``model.verdicts``). The users' state is still carried through them (``warm_up``),
    as a scorer running since then would have seen them."""
    from model import user_agents
    from model.network import lookup_from_record, resolve_network_lookup
    from model.train import save, train

    if arguments.model:
        path = Path(arguments.model)
        folder = path if path.is_dir() else extract_tarball(path, workdir / "model")
        loaded = load_model(folder)
        # The lookups the model was trained with, refused if this runtime has other data (as the scorer does).
        network_of = lookup_from_record(loaded.metadata.get("network_lookup")).network_of
        agent_of = user_agents.check_parser(loaded.metadata.get("agent_parser"))
        return Prepared(loaded, network_of, agent_of, [])
    source = arguments.train
    events = list(_read_source_as_asked(arguments, source))
    _warn_missing_keys(events, arguments.entity, source, arguments.format)
    learned = events
    matched: set[str] = set()
    if labels:
        anomalous = {key for key, value in labels.items() if normalized_label(value) != "normal"}
        keys = [label_keys(event, entity_key(event, arguments.entity), labels) for event in events]
        keyed = with_landing_keys(events, [event_keys[0] if event_keys else None for event_keys in keys])
        matched = {key for event_keys in keys for key in event_keys}
        if not arguments.train_on_labelled:
            learned = [event for event, key in zip(events, keyed, strict=True) if key not in anomalous]
        if len(learned) < len(events):
            logger.info(
                "%s: %d of %d events are labelled anomalous and left out of training (--train-on-labelled keeps them)",
                source,
                len(events) - len(learned),
                len(events),
            )
        if not learned:
            raise BacktestError(f"{source}: --labels call every training event anomalous: nothing normal to learn from")
    lookup = resolve_network_lookup(arguments.geo)
    trained = train(
        learned,
        alert_budget=arguments.alert_budget,
        min_daily_alerts=arguments.min_daily_alerts,
        network_of=lookup.network_of,
        network_lookup=lookup.record,
        agent_of=user_agents.parse_agent,
        agent_parser=user_agents.describe(),
    )
    folder = save(trained, workdir / "model", Path(arguments.out) / "model.tar.gz")
    return Prepared(
        load_model(folder),
        lookup.network_of,
        user_agents.parse_agent,
        events,
        len(events) - len(learned),
        frozenset(matched),
    )


# Where a session id comes from, by the training source's format: what to do when no event has one.
_SESSION_ADVICE = {
    "custom": "name the column $session_id (or $cookie_NAME, or $http_cookie with --session-cookie NAME) in "
    "--log-format",
    "cloudfront": "turn on cookie logging and name the session cookie with --session-cookie NAME",
    "iis": "add the Cookie field, cs(Cookie), to the logged fields (--session-cookie NAME if its name does not say "
    "session)",
    "jsonl": "give the events a session_id",
    "auto": "give the events a session_id",
    "archive": "give the events a session_id",
}


def _warn_missing_keys(events: Sequence[dict[str, Any]], kind: str, source: str, format: str = "auto") -> None:
    """Warn when most training events lack the entity's id; refuse, before training, when none has
    it (the stage for it could not be trained)."""
    keyed = sum(1 for event in events if entity_key(event, kind) is not None)
    if events and not keyed:
        advice = _SESSION_ADVICE.get(format, "log a session id") if kind == "session" else "give the events a user_id"
        raise BacktestError(
            f"--entity {kind}: none of the {len(events)} events of {source} carries a {kind} id, so no {kind} stage "
            f"can be trained; {advice}, or backtest --entity user"
        )
    if kind == "user" and events and any(event.get("session_id") for event in events):
        from traffic.importer import DERIVED_USERS

        if all(str(event.get("user_id", "")).startswith(DERIVED_USERS) for event in events):
            logger.warning(
                "%s: no event names its user (the log has no user column): each user is its session "
                "(session:<id>), or its client without one, so --entity user judges the entities --entity session "
                "judges (with a threshold calibrated apart: the figures differ a little); add the user column "
                "($remote_user, $user_id) to compare users with sessions",
                source,
            )
    if events and keyed / len(events) < MIN_KEYED_SHARE:
        field_name = "session_id" if kind == "session" else "user_id"
        logger.warning(
            "%s: only %d of %d events carry a %s; with --format custom, name the column $session_id "
            "(or $cookie_NAME) in --log-format",
            source,
            keyed,
            len(events),
            field_name,
        )


def _positive_seconds(text: str) -> float:
    """``--batch-seconds``: a positive number of seconds."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0.0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return seconds


def _progress(quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return None

    shown = [-PROGRESS_EVENTS]

    def show(events: int, final: bool = False) -> None:
        # (a batch of a quiet minute holds an event or two: a line for each would be most of the work)
        if final or events - shown[0] >= PROGRESS_EVENTS:
            shown[0] = events
            print(f"\rbacktest: {events:,} events scored", end="", file=sys.stderr, flush=True)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    arguments = parse_args(argv)
    out = Path(arguments.out)
    try:
        with tempfile.TemporaryDirectory(prefix="vedette-backtest-") as workdir:
            labels = read_labels(arguments.labels) if arguments.labels else {}
            labels = labels_by_line(labels, [arguments.train, arguments.test], arguments.format)
            prepared = _load_or_train(arguments, Path(workdir), labels)
            replay = Replay(prepared.model, arguments.entity, prepared.network_of, prepared.agent_of, labels)
            replay.left_out_of_training = prepared.left_out
            replay.matched_labels |= prepared.matched_labels  # labels of training's entities match too
            replay.warm_up(prepared.history)
            del prepared
            test_events = _read_source_as_asked(arguments, arguments.test)
            replay.run(
                in_time_order(test_events), arguments.batch_events, _progress(arguments.quiet), arguments.batch_seconds
            )
    # (OSError: a SOURCE not found, unreadable; LogFormatError: a --log-format that cannot be read)
    except (BacktestError, TrainingDataError, LogFormatError, OSError) as error:
        print(f"backtest: {error}", file=sys.stderr)
        return 2
    if replay.events and replay.keyed / replay.events < MIN_KEYED_SHARE:
        logger.warning(
            "%s: only %d of %d test events carry the %s id",
            arguments.test,
            replay.keyed,
            replay.events,
            arguments.entity,
        )
    if hint := replay.labels_hint():
        logger.warning("%s: %s", arguments.labels, hint)
    elif note := replay.unmatched_labels_note():
        logger.info("%s: %s", arguments.labels, note)
    summary = summarize(replay)
    write_outputs(replay, summary, out)
    if sys.stderr.isatty() and not arguments.quiet:
        print(file=sys.stderr)
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
