"""One Kinesis batch, start to finish: validate, featurize, score, record, and decide what to retry.

The rules that keep the shard moving without losing or double-counting anything:

- A bad event (not JSON, breaks the contract, or a corrupt aggregate) is written with its reason and
  raw bytes to the bad-events sink and counted as processed: it never blocks the shard.
- A user's events are applied in event-time order, and only as a prefix: once one of a user's events
  fails (endpoint or DynamoDB trouble), that event and the user's later ones are left for the retry,
  so the user's state never runs ahead of an event it has not seen.
- The response names the earliest Kinesis record that holds a failed event, and every record after
  it (Lambda resumes from the lowest); nothing after it is reported as done. If that is the first
  record, nothing was processed and the caller raises, so Lambda's retry and bisect apply.
- Alerts are about entities (users, and sessions where events carry them) when the deployed model
  has an entity stage (``model.entities``): each processed event adds to its entities' episode
  evidence, stored beside the user state, and an entity alerts once per episode. An alert that
  cannot be published holds back its user's events like a failed state write, so the retry
  recomputes the evidence and publishes it. Without an entity stage, a flagged event alerts,
  at most once per user per window.
- Side effects of a batch that is then retried are idempotent: anomalies and alert markers are
  conditional writes keyed by ``event_id``; each user's state remembers the last Kinesis record
  applied to it (``applied_through``), and a retry skips events at or before it.
"""

from __future__ import annotations

import base64
import gc
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

from model.enrichment import AgentLookup, NetworkLookup
from model.entities import EntityAlert, EntityModel, EntityTracker, Evidence, event_evidence
from model.entity_training import entity_key
from model.exceptions import InvalidStateError
from model.features import BatchFeatures, IpState, ResourceVocabulary, UserState, event_time, featurize_batch
from model.login_waves import WAVE_KIND, LoginWaveModel, LoginWaveWatch, LoginWindow
from scorer.endpoint import Endpoint, Score, UnusableLatch, score_in_chunks
from scorer.exceptions import TransientError
from scorer.records import DecodedBatch, UserRecord
from scorer.settings import ScorerSettings
from scorer.stores import (
    IP_PREFIX,
    USER_PREFIX,
    AlertPublisher,
    Anomaly,
    AnomalyStore,
    BadEventSink,
    StateStore,
    StoredState,
    alert_partition,
    evidence_key,
)
from scorer.wire import decode_user_record
from vedette.events import format_timestamp
from vedette.exceptions import InvalidEventError

StateT = TypeVar("StateT", UserState, IpState, Evidence)


@dataclass
class Dependencies:
    states: StateStore
    anomalies: AnomalyStore
    alerts: AlertPublisher
    bad_events: BadEventSink
    endpoint: Endpoint
    # From the deployed model (scorer.model_config): the same inputs the model was trained with.
    network_of: NetworkLookup | None = None
    agent_of: AgentLookup | None = None
    vocabulary: ResourceVocabulary | None = None
    entity_models: Mapping[str, EntityModel] = field(default_factory=dict)
    # The service's failed-login waves (credential stuffing no one account shows); None without.
    login_waves: LoginWaveModel | None = None
    # Whether the endpoint was found to refuse every request, kept across batches (scorer.endpoint).
    endpoint_latch: UnusableLatch = field(default_factory=UnusableLatch)


@dataclass
class BatchOutcome:
    """What happened to one batch; ``failed_sequence_numbers`` is the partial batch response."""

    records: int = 0
    events: int = 0
    scored: int = 0
    bad_events: int = 0
    duplicates: int = 0  # the same event_id twice in the batch (a producer retry)
    replayed: int = 0  # already applied by an earlier attempt of this batch
    anomalies: int = 0
    anomalies_already_recorded: int = 0
    alerts: int = 0  # published: per entity episode, or per flagged event without an entity stage
    endpoint_calls: int = 0
    endpoint_errors: int = 0
    model_rejected: int = 0  # of bad_events: rejected alone by the model's code, parked with the log pointer
    endpoint_latency_ms: list[float] = field(default_factory=list)
    state_reads: int = 0
    state_writes: int = 0
    state_write_failures: int = 0
    state_unreadable: int = 0  # stored states that could not be read and were started afresh
    retried_events: int = 0  # user events in the records handed back for retry
    failed_sequence_numbers: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def nothing_processed(self) -> bool:
        return self.records > 0 and len(self.failed_sequence_numbers) == self.records

    def response(self) -> dict[str, list[dict[str, str]]]:
        return {"batchItemFailures": [{"itemIdentifier": number} for number in self.failed_sequence_numbers]}


class _Valid(NamedTuple):
    record: UserRecord
    wire: dict[str, Any]
    time: float


def _position(shard_id: str, sequence_number: str) -> str:
    return f"{shard_id}:{sequence_number}"


def _applied_limit(through: str | None, shard_id: str) -> int:
    """The highest sequence number of ``shard_id`` a state last advanced ``through`` a position has
    applied (-1 for none)."""
    if not through:
        return -1
    shard, _, number = through.rpartition(":")
    # Sequence numbers grow within a shard; after a reshard the child shard's records are all new.
    return int(number) if shard == shard_id else -1


def _applied(through: str | None, shard_id: str, sequence_number: str) -> bool:
    """Whether a record was already applied to a state last advanced ``through`` a position."""
    return int(sequence_number) <= _applied_limit(through, shard_id)


def collect_garbage_for_batches() -> None:
    """Run the cyclic garbage collector less often, for a process that handles large batches.

    A batch allocates tens of thousands of containers (decoded events, feature rows, states) that
    hold no reference cycles and die together. At CPython's default (a young collection every 700
    allocations, a full one soon after), collections scanning them cost a fifth of the handler's
    time; every 50,000 allocations they cost little. Memory is still reclaimed by reference counting
    as soon as a batch is done. The Lambda handler calls this at cold start.
    """
    gc.set_threshold(50_000, 20, 20)


def process_batch(
    batch: DecodedBatch, deps: Dependencies, settings: ScorerSettings, now: datetime | None = None
) -> BatchOutcome:
    """Process one decoded batch; raises ``TransientError`` only if the state cannot be read at all."""
    now = now or datetime.now(UTC)
    outcome = BatchOutcome(records=len(batch.sequence_numbers), events=len(batch.user_records))
    failed_records: set[int] = set()

    # 1. Validate; park what is bad.
    bad_lines: list[tuple[int, dict[str, Any]]] = []  # (record index, line)
    valid: list[_Valid] = []
    seen_ids: set[str] = set()
    for undecodable in batch.undecodable:
        line = _bad_line(
            batch.shard_id, undecodable.sequence_number, None, undecodable.data, "record", undecodable.reason
        )
        bad_lines.append((undecodable.record_index, line))
    for record in batch.user_records:
        try:
            wire = decode_user_record(record.data)
        except (ValueError, OverflowError, TypeError, RecursionError) as error:
            # InvalidEventError (a ValueError) names the field; anything else the contract missed
            # is parked the same way rather than failing the whole batch.
            field_name = error.field if isinstance(error, InvalidEventError) else "event"
            reason = error.reason if isinstance(error, InvalidEventError) else f"{type(error).__name__}: {error}"
            line = _bad_line(
                batch.shard_id, record.sequence_number, record.sub_sequence_number, record.data, field_name, reason
            )
            bad_lines.append((record.record_index, line))
            continue
        if wire["event_id"] in seen_ids:
            outcome.duplicates += 1
            continue
        seen_ids.add(wire["event_id"])
        valid.append(_Valid(record, wire, event_time(wire)))
    # One object per bad event, named by its position in the shard and dated by its record's arrival:
    # a retried or bisected batch rewrites the same objects instead of adding copies.
    for record_index, line in bad_lines:
        name = f"{batch.shard_id}-{line['sequence_number']}-{line['sub_sequence_number'] or 0}"
        try:
            deps.bad_events.put(name, batch.arrived_at(record_index, now), [line])
        except TransientError as error:
            outcome.errors.append(str(error))
            failed_records.add(record_index)
            continue
        outcome.bad_events += 1

    # 2. Load every user's and IP's state in one parallel round trip (raises if it cannot).
    user_ids = {item.wire["user_id"] for item in valid}
    ips = {item.wire["ip"] for item in valid if item.wire.get("ip")}
    entities = {
        kind: {key for item in valid if (key := entity_key(item.wire, kind)) is not None} for kind in deps.entity_models
    }
    evidence_keys = [evidence_key(kind, key) for kind, keys in entities.items() for key in keys]
    if deps.login_waves is not None:
        evidence_keys.append(evidence_key(WAVE_KIND, batch.shard_id))
    stored = deps.states.load(
        [USER_PREFIX + user for user in user_ids] + [IP_PREFIX + ip for ip in ips] + evidence_keys
    )
    outcome.state_reads = len(user_ids) + len(ips) + len(evidence_keys)
    user_states = _read_states(UserState, USER_PREFIX, user_ids, stored, outcome)
    ip_states = _read_states(IpState, IP_PREFIX, ips, stored, outcome)
    evidence = {
        kind: _read_states(Evidence, evidence_key(kind, ""), keys, stored, outcome) for kind, keys in entities.items()
    }

    # 3. Skip what an earlier attempt already applied; featurize the rest in event-time order.
    fresh: list[_Valid] = []
    record_numbers = [int(number) for number in batch.sequence_numbers]
    applied_limits: dict[str, int] = {}  # per user: records up to this sequence number are applied
    for item in valid:
        user = item.wire["user_id"]
        limit = applied_limits.get(user)
        if limit is None:
            previous = stored.get(USER_PREFIX + user)
            limit = applied_limits[user] = _applied_limit(
                previous.applied_through if previous else None, batch.shard_id
            )
        if record_numbers[item.record.record_index] <= limit:
            outcome.replayed += 1
        else:
            fresh.append(item)
    fresh.sort(key=lambda item: item.time)
    features = _featurize(fresh, user_states, ip_states, deps)

    # 4. Score in as few calls as the payload limit allows.
    def on_call(latency_ms: float, ok: bool) -> None:
        outcome.endpoint_latency_ms.append(latency_ms)
        if not ok:
            outcome.endpoint_errors += 1

    scoring = score_in_chunks(
        deps.endpoint,
        features.rows,
        settings.max_payload_bytes,
        settings.max_rows_per_call,
        on_call,
        deps.endpoint_latch,
    )
    scores, outcome.endpoint_calls = scoring.scores, scoring.calls
    # 4b. Rows the model rejects while it takes the reference row, in a batch Lambda has bisected down
    # to one record: the same rows would fail every retry, so their events are parked with the reason
    # and the endpoint's log pointer, as bad events are, and the shard moves on.
    parked: set[int] = set()  # positions in ``fresh``
    if scoring.rejection is not None and len(batch.sequence_numbers) == 1:
        parked = {position for start, end in scoring.rejected for position in range(start, end)}
        for position in sorted(parked):
            item = fresh[position]
            line = _bad_line(
                batch.shard_id,
                item.record.sequence_number,
                item.record.sub_sequence_number,
                item.record.data,
                "model",
                str(scoring.rejection),
            )
            name = f"{batch.shard_id}-{item.record.sequence_number}-{item.record.sub_sequence_number or 0}"
            try:
                deps.bad_events.put(name, batch.arrived_at(item.record.record_index, now), [line])
            except TransientError as error:
                outcome.errors.append(str(error))
                parked.discard(position)  # left for the retry with the rest of its user's events
                continue
            outcome.model_rejected += 1
            outcome.bad_events += 1  # in the bad-events sink like them, so the accounting adds up
    elif scoring.rejection is not None:
        outcome.errors.append(str(scoring.rejection))

    # 5. Per user, keep the prefix of events scored; record anomalies and alerts in that order.
    failed_users: set[str] = set()
    done: list[_Valid] = []
    left: list[_Valid] = []  # for the retry
    scored_at = format_timestamp(now)
    window = settings.alert_window_seconds
    event_alerts = not deps.entity_models
    for position, (item, score) in enumerate(zip(fresh, scores, strict=True)):
        if position in parked:
            continue
        user = item.wire["user_id"]
        if (
            user in failed_users
            or score is None
            or not _record(item, score, deps, outcome, scored_at, window, settings.alert_min_severity, event_alerts)
        ):
            failed_users.add(user)
            failed_records.add(item.record.record_index)
            left.append(item)
            continue
        done.append(item)
    # A failed user's state may only take the events of records before its first failed record: a
    # retry redelivers that record and every later one, and must not find their events applied.
    first_failed: dict[str, int] = {}
    for item in left:
        user, index = item.wire["user_id"], item.record.record_index
        first_failed[user] = min(first_failed.get(user, index), index)
    if first_failed:
        kept = []
        for item in done:
            cut = first_failed.get(item.wire["user_id"])
            if cut is not None and item.record.record_index >= cut:
                left.append(item)  # scored and recorded already: the retry finds it recorded
            else:
                kept.append(item)
        done = kept

    # 5b. Add the processed events to their entities' episodes; alert once per episode.
    step = EntityStep()
    if deps.entity_models and done:
        step = _alert_on_entities(
            done, fresh, features, scores, evidence, stored, batch.shard_id, deps, settings, outcome
        )
        held_users = step.sharing(step.unpublished)
        if held_users:
            # Held back whole: their states and every episode they touched are left unsaved, so the
            # retry recomputes them from what is stored and publishes the alert.
            held = [item for item in done if item.wire["user_id"] in held_users]
            done = [item for item in done if item.wire["user_id"] not in held_users]
            left.extend(held)
            failed_records.update(item.record.record_index for item in held)
            step.forget(held_users)
    outcome.scored = len(done)

    # 5c. The shard's logins, for failed-login waves across the service.
    if deps.login_waves is not None and done:
        _watch_logins(done, deps.login_waves, stored, batch.shard_id, deps, settings, now, outcome)

    # 6. Save the state each user reached through its processed events, with the last record applied.
    if done:
        # With events left for the retry, states are recomputed over the processed events only, so a
        # user's state never includes an event it has not been credited with (featurization is
        # deterministic, so these are the states the scores saw).
        final = _featurize(done, user_states, ip_states, deps) if left or parked else features
        _save_states(done, final, evidence, step, stored, batch.shard_id, deps, settings, now, outcome, failed_records)

    if failed_records:
        checkpoint = min(failed_records)
        outcome.failed_sequence_numbers = batch.sequence_numbers[checkpoint:]
        outcome.retried_events = sum(1 for record in batch.user_records if record.record_index >= checkpoint)
    return outcome


def _featurize(
    items: list[_Valid], user_states: dict[str, UserState], ip_states: dict[str, IpState], deps: Dependencies
) -> BatchFeatures:
    """Features of ``items`` (in event-time order) with the deployed model's inputs."""
    return featurize_batch(
        [item.wire for item in items],
        user_states,
        ip_states,
        network_of=deps.network_of,
        agent_of=deps.agent_of,
        vocabulary=deps.vocabulary,
        times=[item.time for item in items],
    )


@dataclass
class EntityStep:
    """What the entity stage did to a batch: which episodes took which records and users."""

    # (kind, entity) -> the latest record applied to its episode in this batch, and the users whose
    # events it took
    applied: dict[tuple[str, str], UserRecord] = field(default_factory=dict)
    users_of: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    unpublished: set[str] = field(default_factory=set)  # users with an alert that could not be published

    def sharing(self, users: set[str]) -> set[str]:
        """``users`` and every user who shares an episode with them in this batch (a session id
        used by two users), transitively: held back together, or one's events would be lost."""
        held = set(users)
        while True:
            grown = held.union(*(sharers for sharers in self.users_of.values() if sharers & held))
            if grown == held:
                return held
            held = grown

    def forget(self, users: set[str]) -> None:
        """Leave unsaved every episode these users' events went into."""
        for key in [key for key, sharers in self.users_of.items() if sharers & users]:
            del self.applied[key]
            del self.users_of[key]


def _alert_on_entities(
    done: list[_Valid],
    fresh: list[_Valid],
    features: BatchFeatures,
    scores: list[Score | None],
    evidence: dict[str, dict[str, Evidence]],
    stored: Mapping[str, StoredState],
    shard_id: str,
    deps: Dependencies,
    settings: ScorerSettings,
    outcome: BatchOutcome,
) -> EntityStep:
    """Update each entity's evidence with the processed events (in time order) it has not applied
    yet, and publish the alerts they raise."""
    position = {id(item): index for index, item in enumerate(fresh)}
    indexes = [position[id(item)] for item in done]
    done_rows = features.rows[indexes]
    done_scores = [scores[index] for index in indexes]
    event_scores = [score.score if score is not None else 0.0 for score in done_scores]
    flagged = [score is not None and score.is_anomaly for score in done_scores]
    times = [item.time for item in done]
    inputs = event_evidence(done_rows, [item.wire for item in done])
    step = EntityStep()
    for kind, model in deps.entity_models.items():
        keys: list[str | None] = []
        limits: dict[str, int] = {}
        for item in done:
            key = entity_key(item.wire, kind)
            if key is not None:
                if key not in limits:
                    previous = stored.get(evidence_key(kind, key))
                    limits[key] = _applied_limit(previous.applied_through if previous else None, shard_id)
                # An earlier attempt whose user state was lost may have saved this episode already.
                if int(item.record.sequence_number) <= limits[key]:
                    key = None
                else:
                    last = step.applied.get((kind, key))
                    if last is None or item.record.record_index > last.record_index:
                        step.applied[kind, key] = item.record
                    step.users_of.setdefault((kind, key), set()).add(item.wire["user_id"])
            keys.append(key)
        tracker = EntityTracker(model, kind, settings.alert_min_severity)
        _, alerts = tracker.observe(evidence[kind], keys, times, inputs, event_scores, flagged)
        for alert in alerts:
            if not _publish_entity_alert(alert, deps, outcome):
                step.unpublished |= step.users_of[kind, alert.entity]
    return step


def _publish_entity_alert(alert: EntityAlert, deps: Dependencies, outcome: BatchOutcome) -> bool:
    """Publish an episode's alert once (its marker is keyed by the episode's first event); False on a
    transient failure, with the marker released so the retry publishes it."""
    partition, episode_start = alert_partition(alert.kind, alert.entity), int(alert.first_event_at)
    try:
        if not deps.anomalies.claim_alert(partition, episode_start):
            return True
        try:
            deps.alerts.publish_entity(alert)
        except BaseException:
            deps.anomalies.release_alert(partition, episode_start)
            raise
    except TransientError as error:
        outcome.errors.append(str(error))
        return False
    outcome.alerts += 1
    return True


def _watch_logins(
    done: list[_Valid],
    model: LoginWaveModel,
    stored: Mapping[str, StoredState],
    shard_id: str,
    deps: Dependencies,
    settings: ScorerSettings,
    now: datetime,
    outcome: BatchOutcome,
) -> None:
    """Add the processed logins to the shard's login window, publish a wave's alert, and save the
    window with the last record it applied.

    The window is a count over the shard, not any one user's history, so it is not held back with a
    user whose state failed: a retry skips what the window applied, and at worst a failed user's
    logins go uncounted. An alert that cannot be published leaves the window unsaved, so the next
    batch crosses the threshold again and publishes it.
    """
    key = evidence_key(WAVE_KIND, shard_id)
    previous = stored.get(key)
    window = LoginWindow()
    if previous is not None:
        try:
            window = LoginWindow.from_bytes(previous.state)
        except InvalidStateError as error:
            outcome.state_unreadable += 1
            outcome.errors.append(f"{key}: {error}")
    through = previous.applied_through if previous is not None else None
    fresh = [item for item in done if not _applied(through, shard_id, item.record.sequence_number)]
    if not fresh:
        return
    alerts = LoginWaveWatch(model).observe(window, [item.wire for item in fresh], [item.time for item in fresh])
    if not all([_publish_entity_alert(alert, deps, outcome) for alert in alerts]):
        return
    last = max((item.record for item in fresh), key=lambda record: record.record_index)
    saved = StoredState(window.to_bytes(), _advanced(previous, shard_id, last))
    unsaved = deps.states.save({key: saved}, int(now.timestamp()) + settings.state_ttl_seconds)
    outcome.state_writes += 1 - len(unsaved)
    outcome.state_write_failures += len(unsaved)


def _read_states(
    kind: type[StateT], prefix: str, keys: set[str], stored: Mapping[str, StoredState], outcome: BatchOutcome
) -> dict[str, StateT]:
    """The stored states of ``keys``; one that cannot be read (corrupt, or written by a release with
    other features) starts afresh rather than blocking the shard on every retry, and is counted."""
    states: dict[str, StateT] = {}
    for key in keys:
        item = stored.get(prefix + key)
        if item is None:
            continue
        try:
            states[key] = kind.from_bytes(item.state)
        except InvalidStateError as error:
            outcome.state_unreadable += 1
            outcome.errors.append(f"{prefix}{key}: {error}")
    return states


def _record(
    item: _Valid,
    score: Score,
    deps: Dependencies,
    outcome: BatchOutcome,
    scored_at: str,
    window: int,
    min_severity: float,
    alert: bool = True,
) -> bool:
    """Record one scored event's anomaly (and, if ``alert``, its alert), at most once each; False on
    a transient failure."""
    if not score.is_anomaly:
        return True
    anomaly = Anomaly(item.wire, score.score, score.threshold, score.top_features, scored_at)
    try:
        if deps.anomalies.record(anomaly):
            outcome.anomalies += 1
        else:
            outcome.anomalies_already_recorded += 1
        if alert and anomaly.severity >= min_severity:
            window_start = int(item.time // window * window)
            if deps.anomalies.claim_alert(item.wire["user_id"], window_start):
                try:
                    deps.alerts.publish(anomaly)
                except BaseException:
                    # Free the slot whatever went wrong, or the retry would find it taken and never alert.
                    deps.anomalies.release_alert(item.wire["user_id"], window_start)
                    raise
                outcome.alerts += 1
    except TransientError as error:
        outcome.errors.append(str(error))
        return False
    return True


def _save_states(
    done: list[_Valid],
    final: BatchFeatures,
    evidence: Mapping[str, Mapping[str, Evidence]],
    step: EntityStep,
    stored: Mapping[str, StoredState],
    shard_id: str,
    deps: Dependencies,
    settings: ScorerSettings,
    now: datetime,
    outcome: BatchOutcome,
    failed_records: set[int],
) -> None:
    expires_at = int(now.timestamp()) + settings.state_ttl_seconds
    # Episodes first, each with the last record it applied, so a retry never adds an event twice;
    # a user is saved only once every episode its events went into is, or the retry, finding the
    # user's events applied, would never add them to the episode.
    episode_of = {evidence_key(kind, entity): (kind, entity) for kind, entity in step.applied}
    evidence_items = {
        item_key: StoredState(
            evidence[kind][entity].to_bytes(), _advanced(stored.get(item_key), shard_id, step.applied[kind, entity])
        )
        for item_key, (kind, entity) in episode_of.items()
    }
    unsaved_evidence = deps.states.save(evidence_items, expires_at) if evidence_items else set()
    held = step.sharing({user for key in unsaved_evidence for user in step.users_of[episode_of[key]]})
    # Every event kept in ``done`` sits in a record before its user's first failed one, so the
    # user's state has applied every event of every record up to the highest one here.
    # Records are in sequence order, so the highest record index holds the highest sequence number.
    last_record: dict[str, UserRecord] = {}
    for item in done:
        user, record = item.wire["user_id"], item.record
        last = last_record.get(user)
        if last is None or record.record_index > last.record_index:
            last_record[user] = record
    items: dict[str, StoredState] = {}
    for user, state in final.user_states.items():
        if user in held:
            continue
        last_applied = last_record.get(user)
        previous = stored.get(USER_PREFIX + user)
        position = (
            _advanced(previous, shard_id, last_applied)
            if last_applied is not None
            else (previous.applied_through if previous else None)
        )
        items[USER_PREFIX + user] = StoredState(state.to_bytes(), position)
    for ip, ip_state in final.ip_states.items():
        items[IP_PREFIX + ip] = StoredState(ip_state.to_bytes())
    unsaved = deps.states.save(items, expires_at)
    outcome.state_writes += len(items) + len(evidence_items) - len(unsaved) - len(unsaved_evidence)
    outcome.state_write_failures += len(unsaved) + len(unsaved_evidence)
    # A user whose state was not saved is retried from its first event here; an IP's state is a
    # shared approximation (several shards write it) and is not worth holding the shard for.
    unsaved_users = held | {key[len(USER_PREFIX) :] for key in unsaved if key.startswith(USER_PREFIX)}
    if unsaved_users:
        outcome.errors.append(f"state not saved for {len(unsaved_users)} user(s)")
        for item in done:
            if item.wire["user_id"] in unsaved_users:
                failed_records.add(item.record.record_index)


def _advanced(previous: StoredState | None, shard_id: str, record: UserRecord) -> str | None:
    """The ``applied_through`` of a state that has now applied ``record`` too."""
    position = previous.applied_through if previous is not None else None
    if not _applied(position, shard_id, record.sequence_number):
        position = _position(shard_id, record.sequence_number)
    return position


def _bad_line(
    shard_id: str, sequence_number: str, sub_sequence_number: int | None, data: bytes, field_name: str, reason: str
) -> dict[str, Any]:
    return {
        "shard_id": shard_id,
        "sequence_number": sequence_number,
        "sub_sequence_number": sub_sequence_number,
        "field": field_name,
        "reason": reason,
        "data_base64": base64.b64encode(data).decode(),
    }
