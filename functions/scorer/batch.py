"""One Kinesis batch, start to finish: validate, featurize, score, record, and decide what to retry.

The rules that keep the shard moving without losing or double-counting anything, under any one
failing AWS call (including one that succeeded but whose answer was lost):

- A bad event (not JSON, breaks the contract, or a corrupt aggregate) is written with its reason and
  raw bytes to the bad-events sink and counted as processed: it never blocks the shard.
- A user's events are applied in event-time order. Users whose events meet in a state (an IP's, or
  an entity episode's) in a batch form a group: once one of a group's events cannot be scored or
  its anomaly or alert recorded, the group's events from that Kinesis record on are left for the
  retry, and its earlier ones are kept only if they all come first in time (else the whole group is
  held back). So every state holds a time prefix of its events, and the retry featurizes the held
  events from exactly the states a clean run had.
- Every state item records what it has applied (``scorer.progress``: per shard, the last record),
  and a retry applies to each item only what it has not. Items are written on their own (no
  transaction), in three rounds: episodes (and the announcements that give this shard a place in an
  address's home), then IPs (this shard's part of each address's state alone: ``scorer.ip_slices``),
  then users, each round only for the groups whose earlier rounds were all written. So an event its
  user's item has applied is applied everywhere (skipped whole on a retry), and an event its IP's
  part has applied had its anomaly and alert recorded and its episodes updated: the retry only
  applies it to its user.
- The response names the earliest Kinesis record that holds an event not applied to its user, and
  every record after it (Lambda resumes from the lowest); nothing after it is reported as done. If
  that is the first record, nothing was processed and the caller raises, so Lambda's retry and
  bisect apply.
- Rows are scored only by a model trained with the feature configuration they were computed with.
  When the endpoint's model reads another one (``scorer.model_config``), the rows not yet scored
  are featurized again with it, from the same loaded states, and sent again; the batch's entity
  stage and the states it saves are then those of the configuration it ended on.
- Alerts are about entities (users, and sessions where events carry them) when the deployed model
  has an entity stage (``model.entities``): each processed event adds to its entities' episode
  evidence, stored beside the user state, and an entity alerts once per episode. An alert that
  cannot be published holds back its group like a failed recording, so the retry recomputes the
  evidence and publishes it. Without an entity stage, a flagged event alerts, at most once per user
  per window.
- Anomalies are conditional writes keyed by ``event_id``. An alert's marker is its outbox entry,
  written pending before the Publish and set sent after; the Publish carries the slot's
  deduplication id, so a retry that finds it pending publishes again and SNS delivers it once
  (``scorer.stores``). A user's item keeps the hashes of its last event ids, so a producer's
  duplicate in a later batch is dropped.
"""

from __future__ import annotations

import base64
import gc
import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, NamedTuple, TypeVar

import numpy as np

from model.client_alerts import ClientGroup, group_by_client, with_alert_clients
from model.enrichment import AgentLookup, NetworkLookup
from model.entities import (
    EntityAlert,
    EntityModel,
    EntityTracker,
    EpisodeSoFar,
    Evidence,
    entity_key,
    event_evidence,
)
from model.exceptions import InvalidStateError
from model.features import (
    BatchFeatures,
    IpState,
    ResourceVocabulary,
    SiteNow,
    UserState,
    event_time,
    featurize_batch,
    keep_users_within,
    merge_ip_states,
)
from model.tails import Matrix
from model.verdicts import Suppressions
from model.visits import settle_visits, visit_starts
from model.waves import (
    LOGINS,
    WAVE_ENTITY,
    WAVE_KIND,
    Attempts,
    AttemptWindow,
    WaveModel,
    WaveView,
    WaveWatch,
    failed_logins_only,
    familiar_attempts,
    fold_into_wave,
    watched_waves,
)
from scorer.endpoint import Endpoint, Score, Scoring, UnusableLatch, score_in_chunks
from scorer.exceptions import ModelRejectedError, TransientError
from scorer.ip_slices import (
    AddressView,
    address_views,
    encode_part,
    home_key,
    home_keys,
    hot_key,
    own_key,
    own_keys,
    part_attribute,
    second_round_keys,
)
from scorer.model_config import FeatureConfig, FeatureConfigs
from scorer.progress import (
    MAX_IP_SHARD_POSITIONS,
    MAX_USER_SHARD_POSITIONS,
    advanced,
    event_id_hash,
    parse_positions,
    remember_seen,
    seen_hashes,
    shard_tag,
)
from scorer.records import DecodedBatch, UserRecord
from scorer.settings import ScorerSettings
from scorer.stores import (
    ALERT_FOLDED,
    ALERT_PENDING,
    ALERT_PREFIX,
    ALERT_SENT,
    IP_PREFIX,
    SITE_PREFIX,
    USER_PREFIX,
    AlertPublisher,
    Announced,
    Anomaly,
    AnomalyStore,
    BadEventSink,
    StateStore,
    StoredState,
    alert_partition,
    alert_slot,
    evidence_key,
)
from scorer.wire import decode_user_record
from vedette.events import format_timestamp
from vedette.exceptions import InvalidEventError

StateT = TypeVar("StateT", UserState, Evidence)
# How many times one batch follows the endpoint to another feature configuration. During a guarded
# rollout each call reaches either model, so a batch's chunks may meet both; past this many
# switches, the rows still unscored are retried with the batch.
MAX_CONFIG_SWITCHES = 8
ItemT = TypeVar("ItemT")
AnswerT = TypeVar("AnswerT")

# Anomalies and alerts are written one request each (conditional puts, which BatchWriteItem does not
# take; an alert's marker, record, message and sent mark), each independent of the others: a batch's
# are sent this many at a time. One after another, they took over half of the demo's invocations,
# where a batch with an attack holds dozens of anomalies and alerts.
CONCURRENT_WRITES = 8
_writes = ThreadPoolExecutor(max_workers=CONCURRENT_WRITES, thread_name_prefix="writes")


def _each_concurrently(function: Callable[[ItemT], AnswerT], items: Sequence[ItemT]) -> list[AnswerT]:
    """``[function(item) for item in items]``, the items dealt into ``CONCURRENT_WRITES`` runs that go
    at once, each run one task (a task per item cost more than an in-memory store's write)."""
    if len(items) < 2:
        return [function(item) for item in items]
    runs = [items[start::CONCURRENT_WRITES] for start in range(min(CONCURRENT_WRITES, len(items)))]
    answers = list(_writes.map(lambda run: [function(item) for item in run], runs))
    # Item i was dealt into run i % len(runs), at position i // len(runs).
    return [answers[index % len(runs)][index // len(runs)] for index in range(len(items))]


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
    # The service's waves by Attempts.kind (model.waves): failed logins (credential stuffing no one
    # account shows), declined payments (card testing no one client shows), sign-ups (account farming).
    wave_models: Mapping[str, WaveModel] = field(default_factory=dict)
    # Patterns analysts judged benign (an entity and its strongest reason): not alerted on again.
    suppressions: Suppressions = field(default_factory=Suppressions)
    # Whether the endpoint was found to refuse every request, kept across batches (scorer.endpoint).
    endpoint_latch: UnusableLatch = field(default_factory=UnusableLatch)
    # The feature configuration the fields above came from (its id is sent with the rows), and
    # where the endpoint's others come from when it serves another model.
    feature_config_id: str | None = None
    feature_configs: FeatureConfigs = field(default_factory=FeatureConfigs)

    def use(self, config: FeatureConfig) -> None:
        """Compute features and act on scores with ``config`` from now on."""
        self.network_of, self.agent_of, self.vocabulary = config.network_of, config.agent_of, config.vocabulary
        self.entity_models, self.wave_models = config.entity_models, config.wave_models
        self.suppressions, self.feature_config_id = config.suppressions, config.config_id

    def waves(self) -> list[tuple[Attempts, WaveModel]]:
        """The waves watched: each kind of attempt with its model."""
        return watched_waves(self.wave_models)


@dataclass
class BatchOutcome:
    """What happened to one batch; ``failed_sequence_numbers`` is the partial batch response."""

    records: int = 0
    events: int = 0
    scored: int = 0
    bad_events: int = 0
    duplicates: int = 0  # an event_id seen in the batch, or among its user's last ones (a producer retry)
    replayed: int = 0  # already applied by an earlier attempt of this batch
    resumed: int = 0  # recorded by an earlier attempt that saved their IP, not their user: applied to it now
    anomalies: int = 0
    anomalies_already_recorded: int = 0
    alerts: int = 0  # published: per entity episode, or per flagged event without an entity stage
    suppressed_alerts: int = 0  # entity alerts repeating a pattern analysts judged benign (model.verdicts)
    folded_alerts: int = 0  # entity alerts the failed-login wave under way covers (model.waves)
    client_folded_alerts: int = 0  # session alerts counted into their client's of the day (model.client_alerts)
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
    # Milliseconds spent in each step of ``process_batch``, by step name, in the order they ran: where
    # a slow batch's time went (the handler logs them; the local pipeline's report adds them up).
    step_ms: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timing(self, step: str) -> Iterator[None]:
        """Add the time spent in the ``with`` block to ``step_ms[step]``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.step_ms[step] = round(self.step_ms.get(step, 0.0) + elapsed, 3)

    @property
    def nothing_processed(self) -> bool:
        return self.records > 0 and len(self.failed_sequence_numbers) == self.records

    def response(self) -> dict[str, list[dict[str, str]]]:
        return {"batchItemFailures": [{"itemIdentifier": number} for number in self.failed_sequence_numbers]}


class _Valid(NamedTuple):
    record: UserRecord
    wire: dict[str, Any]
    time: float
    # Its IP's item has applied it (an earlier attempt saved the IP, not the user): its anomaly and
    # alert are recorded and its episodes updated; only its user still needs it.
    ip_applied: bool = False
    # The shard's count of the site's traffic now has applied it (model.features.site).
    site_applied: bool = False


def collect_garbage_for_batches() -> None:
    """Run the cyclic garbage collector less often, for a process that handles large batches.

    A batch allocates tens of thousands of containers (decoded events, feature rows, states) that
    hold no reference cycles and die together. At CPython's default (a young collection every 700
    allocations, a full one soon after), collections scanning them cost a fifth of the handler's
    time; every 50,000 allocations they cost little. Memory is still reclaimed by reference counting
    as soon as a batch is done. The Lambda handler calls this at cold start.
    """
    gc.set_threshold(50_000, 20, 20)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch is processed.

    Everything a batch allocates (decoded events, feature rows, states, evidence) stays alive until
    the batch is done, so a collection during it frees nothing, yet scans every container made
    since the last one: even every 50,000 allocations (``collect_garbage_for_batches``), the
    collections took a tenth of the scorer's time on a 9,000-event batch. Reference counting still
    frees what dies on the way; the first collection after the batch, once its containers are gone,
    takes whatever cycles it left.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Validated(NamedTuple):
    """The events of a batch that keep the contract, each once, and what to park of the rest."""

    valid: list[_Valid]  # in batch order
    bad: list[tuple[int, dict[str, Any]]]  # (record index, bad-events line): undecodable records first


class LoadedStates(NamedTuple):
    """The stored states a batch's events reach, read, and what each stored item has applied."""

    progress: _Progress  # the items as stored, and what each has applied from this batch's shard
    user_states: dict[str, UserState]
    addresses: dict[str, AddressView]  # every address of the batch, whether stored or not
    ip_states: dict[str, IpState]  # this shard's part of each stored address
    ip_others: dict[str, IpState]  # the other shards' parts of an address, merged
    evidence: dict[str, dict[str, Evidence]]  # entity kind -> entity -> its episode's evidence
    site: SiteNow  # the shard's count of the site's traffic now, as stored
    site_key: str  # its item


class Scored(NamedTuple):
    """The endpoint's answers, by position in the batch's fresh events."""

    # None for an event not sent (its IP has applied it) or not scored (a failed or rejected call)
    scores: list[Score | None]
    rejection: ModelRejectedError | None  # the model's rejection of particular rows, if any
    rejected: list[int]  # the positions whose rows the model rejected, ascending
    refused_by: str | None = None  # the feature configuration of a model that refused the rows


def process_batch(
    batch: DecodedBatch, deps: Dependencies, settings: ScorerSettings, now: datetime | None = None
) -> BatchOutcome:
    """Process one decoded batch; raises ``TransientError`` only if the state cannot be read at all,
    and what ``score_events`` raises when no call to the endpoint can succeed.

    The steps run in the order the rules of the module docstring need: an event's anomaly and alert
    are recorded before any state that has applied it is saved, episodes before IPs before users.
    """
    with _collector_paused():
        return _process_batch(batch, deps, settings, now)


def _process_batch(
    batch: DecodedBatch, deps: Dependencies, settings: ScorerSettings, now: datetime | None
) -> BatchOutcome:
    now = now or datetime.now(UTC)
    outcome = BatchOutcome(records=len(batch.sequence_numbers), events=len(batch.user_records))
    timing = outcome.timing
    with timing("validate"):
        valid, bad = validate_records(batch, outcome)
        failed_records = park_bad_events(batch, bad, deps, now, outcome)
    with timing("load_states"):
        loaded = load_states(batch, valid, deps, settings, outcome)
        fresh = skip_applied(batch, valid, loaded, outcome)
    with timing("featurize_and_score"):
        features, scored = featurize_and_score(fresh, loaded, deps, settings, outcome)
    groups = _Groups(fresh, deps.entity_models)
    with timing("record_events"):
        parked = park_rejected_rows(batch, fresh, scored, deps, now, outcome)
        cut = record_events(fresh, scored.scores, parked, groups, deps, settings, now, outcome)
        done = processed_events(fresh, parked, cut, groups)
    with timing("alert_on_entities"):
        step, done = alert_on_entities(
            done, fresh, features, scored.scores, parked, cut, groups, loaded, batch.shard_id, deps, settings, outcome
        )
    with timing("watch_waves"):
        positions = [position for position in range(len(fresh)) if position not in parked]
        attempted = [fresh[position] for position in positions]
        waves_recorded = watch_waves(batch, attempted, features.rows[positions], loaded, deps, settings, now, outcome)
    with timing("save_states"):
        if waves_recorded:
            unsaved_users = save_states(done, fresh, features, step, groups, loaded, deps, settings, now, outcome)
        else:
            # (a wave's alert or window not recorded: no state is saved, and the retry sees it all again)
            outcome.errors.append("a wave's alert or window not recorded: the batch is left for the retry")
            unsaved_users = {item.wire["user_id"] for item in fresh}
    answer(batch, failed_records | records_to_retry(fresh, unsaved_users, cut, groups), outcome)
    return outcome


def validate_records(batch: DecodedBatch, outcome: BatchOutcome) -> Validated:
    """Decode each user record against the event contract. Returns the valid events, each
    ``event_id`` once (a producer's retry in the same batch counts in ``duplicates``), and a
    bad-events line, with the field and the reason, for every record or event that cannot be used."""
    bad: list[tuple[int, dict[str, Any]]] = []
    valid: list[_Valid] = []
    seen_ids: set[str] = set()
    for undecodable in batch.undecodable:
        line = _bad_line(
            batch.shard_id, undecodable.sequence_number, None, undecodable.data, "record", undecodable.reason
        )
        bad.append((undecodable.record_index, line))
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
            bad.append((record.record_index, line))
            continue
        if wire["event_id"] in seen_ids:
            outcome.duplicates += 1
            continue
        seen_ids.add(wire["event_id"])
        valid.append(_Valid(record, wire, event_time(wire)))
    return Validated(valid, bad)


def park_bad_events(
    batch: DecodedBatch, bad: list[tuple[int, dict[str, Any]]], deps: Dependencies, now: datetime, outcome: BatchOutcome
) -> set[int]:
    """Write each bad event to the bad-events sink, where it counts as processed: a bad event never
    blocks the shard. Returns the records whose bad events could not be written: they are left for
    the retry, so none is lost."""
    failed: set[int] = set()
    for record_index, line in bad:
        if _park(batch, record_index, line, deps, now, outcome):
            outcome.bad_events += 1
        else:
            failed.add(record_index)
    return failed


def load_states(
    batch: DecodedBatch, valid: list[_Valid], deps: Dependencies, settings: ScorerSettings, outcome: BatchOutcome
) -> LoadedStates:
    """Read every user's, IP's and episode's state the events reach (and the shard's login window)
    in one parallel round trip, and the other shards' parts of the addresses they share in a second.

    Raises ``TransientError`` if it cannot: nothing is processed, and Lambda retries the batch. A
    state that cannot be read starts afresh (``_read_states``).
    """
    tag = shard_tag(batch.shard_id)
    user_ids = {item.wire["user_id"] for item in valid}
    ips = {item.wire["ip"] for item in valid if item.wire.get("ip")}
    entities = {
        kind: {key for item in valid if (key := entity_key(item.wire, kind)) is not None} for kind in deps.entity_models
    }
    evidence_keys = [evidence_key(kind, key) for kind, keys in entities.items() for key in keys]
    evidence_keys += [evidence_key(attempts.kind, batch.shard_id) for attempts, _ in deps.waves()]
    # (read whatever the vocabulary: the endpoint may switch the batch to one that reads it)
    site_key = SITE_PREFIX + batch.shard_id
    evidence_keys.append(site_key)
    stored = deps.states.load(
        [USER_PREFIX + user for user in user_ids] + own_keys(ips, tag) + evidence_keys, eventually=home_keys(ips)
    )
    shared = second_round_keys(stored, ips, tag, settings.ip_directory_size)
    if shared:
        stored = {**stored, **deps.states.load((), eventually=shared)}
    outcome.state_reads = len(user_ids) + 2 * len(ips) + len(evidence_keys) + len(shared)
    user_states = _read_states(UserState, USER_PREFIX, user_ids, stored, outcome)
    addresses = address_views(stored, ips, tag, settings.ip_directory_size)
    ip_states = {ip: view.own for ip, view in addresses.items() if view.own is not None}
    ip_others = {ip: view.others for ip, view in addresses.items() if view.others is not None}
    for view in addresses.values():
        outcome.state_unreadable += len(view.unreadable)
        outcome.errors += view.unreadable
    evidence = {
        kind: _read_states(Evidence, evidence_key(kind, ""), keys, stored, outcome) for kind, keys in entities.items()
    }
    site = _stored_site(site_key, stored, outcome)
    return LoadedStates(_Progress(stored, tag), user_states, addresses, ip_states, ip_others, evidence, site, site_key)


def skip_applied(batch: DecodedBatch, valid: list[_Valid], loaded: LoadedStates, outcome: BatchOutcome) -> list[_Valid]:
    """The events still to apply, in event-time order (the order a user's events are applied in).

    Skips what an earlier attempt applied to the user (``replayed``) and a producer's duplicates of
    events the user took in earlier batches (``duplicates``); marks ``ip_applied`` the events an
    earlier attempt applied to their IP only (``resumed``): they still need their user.
    """
    progress, tag = loaded.progress, loaded.progress.tag
    record_numbers = [int(number) for number in batch.sequence_numbers]
    fresh: list[_Valid] = []
    for item in valid:
        user, number = item.wire["user_id"], record_numbers[item.record.record_index]
        if number <= progress.applied_through(USER_PREFIX + user):
            outcome.replayed += 1
            continue
        seen = progress.seen(user)
        if seen and event_id_hash(item.wire["event_id"]) in seen:
            outcome.duplicates += 1
            continue
        ip = item.wire.get("ip")
        if ip and number <= loaded.addresses[ip].applied_through(tag):
            item = item._replace(ip_applied=True)
            outcome.resumed += 1
        if number <= progress.applied_through(loaded.site_key):
            item = item._replace(site_applied=True)
        fresh.append(item)
    fresh.sort(key=lambda item: item.time)
    return fresh


def featurize_events(
    items: list[_Valid], loaded: LoadedStates, deps: Dependencies, site_errors: Sequence[bool] | None = None
) -> BatchFeatures:
    """The feature rows of ``items`` (in event-time order) from the loaded states, and the states
    they reach (``_featurize``; ``site_errors`` as ``featurize_batch``'s)."""
    return _featurize(items, loaded.user_states, loaded.ip_states, loaded.ip_others, loaded.site, deps, site_errors)


def featurize_and_score(
    fresh: list[_Valid], loaded: LoadedStates, deps: Dependencies, settings: ScorerSettings, outcome: BatchOutcome
) -> tuple[BatchFeatures, Scored]:
    """Featurize and score ``fresh``, following the endpoint to the feature configuration its model
    reads: the rows it refused are featurized again with that one (from the same loaded states) and
    sent again, at most ``MAX_CONFIG_SWITCHES`` times; rows still refused then are left unscored, to
    be retried with the batch. Raises what ``score_events`` raises, what ``FeatureConfigs.get``
    raises when that configuration cannot be had, and ``TransientError`` when it has other entity
    stages than the ones whose states were loaded (the retry loads them)."""
    features = featurize_events(fresh, loaded, deps)
    scored = score_events(fresh, features, deps, settings, outcome)
    for _ in range(MAX_CONFIG_SWITCHES):
        if scored.refused_by is None:
            break
        config = deps.feature_configs.get(scored.refused_by)
        stages = (deps.entity_models.keys(), deps.wave_models.keys())
        deps.use(config)
        if (config.entity_models.keys(), config.wave_models.keys()) != stages:
            raise TransientError("feature configuration", f"switched to {config.config_id}, whose entity stages differ")
        features = featurize_events(fresh, loaded, deps)
        scored = score_events(fresh, features, deps, settings, outcome, scored)
    return features, scored


def score_events(
    fresh: list[_Valid],
    features: BatchFeatures,
    deps: Dependencies,
    settings: ScorerSettings,
    outcome: BatchOutcome,
    earlier: Scored | None = None,
) -> Scored:
    """Score the events their IP has not applied yet, in as few calls as the payload limit allows
    (none for a batch with nothing new: a redelivery, or only bad records; a call with zero rows
    would be refused by the model), or only those ``earlier`` did not score or reject. Raises what
    ``score_in_chunks`` raises when no call can succeed.
    """

    def on_call(latency_ms: float, ok: bool) -> None:
        outcome.endpoint_latency_ms.append(latency_ms)
        if not ok:
            outcome.endpoint_errors += 1

    scores: list[Score | None] = [None] * len(fresh) if earlier is None else list(earlier.scores)
    rejected = set() if earlier is None else set(earlier.rejected)
    to_score = [
        position
        for position, item in enumerate(fresh)
        if not item.ip_applied and scores[position] is None and position not in rejected
    ]
    if to_score:
        rows = features.rows if len(to_score) == len(fresh) else features.rows[to_score]
        scoring = score_in_chunks(
            deps.endpoint,
            rows,
            settings.max_payload_bytes,
            settings.max_rows_per_call,
            on_call,
            deps.endpoint_latch,
            deps.feature_config_id,
        )
    else:
        scoring = Scoring([], 0, None, [])
    outcome.endpoint_calls += scoring.calls
    for position, score in zip(to_score, scoring.scores, strict=True):
        scores[position] = score
    rejected |= {to_score[row] for start, end in scoring.rejected for row in range(start, end)}
    rejection = earlier.rejection if earlier is not None and earlier.rejection is not None else scoring.rejection
    return Scored(scores, rejection, sorted(rejected), scoring.refused_by)


def park_rejected_rows(
    batch: DecodedBatch, fresh: list[_Valid], scored: Scored, deps: Dependencies, now: datetime, outcome: BatchOutcome
) -> set[int]:
    """Park the events whose rows the model rejects (while it takes the reference row), once Lambda
    has bisected the batch down to their one record: the same rows would fail every retry, so they
    go to the bad-events sink with the reason and the endpoint's log pointer, and the shard moves on.
    In a larger batch the rejection is only noted in ``errors``: those events are unscored, so they
    are left for the retry. Returns the positions in ``fresh`` parked; an event the sink refused is
    not, and is left for the retry with the rest of its user's events."""
    if scored.rejection is None:
        return set()
    if len(batch.sequence_numbers) != 1:
        outcome.errors.append(str(scored.rejection))
        return set()
    parked: set[int] = set()
    for position in scored.rejected:
        record = fresh[position].record
        line = _bad_line(
            batch.shard_id,
            record.sequence_number,
            record.sub_sequence_number,
            record.data,
            "model",
            str(scored.rejection),
        )
        if _park(batch, record.record_index, line, deps, now, outcome):
            parked.add(position)
            outcome.model_rejected += 1
            outcome.bad_events += 1  # in the bad-events sink like them, so the accounting adds up
    return parked


def record_events(
    fresh: list[_Valid],
    scores: list[Score | None],
    parked: set[int],
    groups: _Groups,
    deps: Dependencies,
    settings: ScorerSettings,
    now: datetime,
    outcome: BatchOutcome,
) -> dict[str, int]:
    """Record the anomalies of the scored events, and their alerts when the model has no entity
    stage, in time order, skipping the parked ones.

    Once a user's event cannot be scored or recorded, it and the user's later events are left for
    the retry, with the events of its group from the same Kinesis record on (the retry redelivers
    that record and every later one), or from the group's first record if its earlier events do not
    all come first in time. Returns that cut: group -> the first record whose events it leaves for
    the retry; empty when nothing failed.

    The anomalies are written first, all at once (``_write_anomalies``); the events are then taken
    in time order with what their writes answered. A user's anomaly after one that failed is written
    too: the retry recomputes it from the same states and finds it recorded, as it finds those of a
    group's other users held back with it.
    """
    failed_users: set[str] = set()
    cut: dict[str, int] = {}
    written = _write_anomalies(fresh, scores, parked, deps, format_timestamp(now))
    window, min_severity = settings.alert_window_seconds, settings.alert_min_severity
    event_alerts = not deps.entity_models
    for position, (item, score) in enumerate(zip(fresh, scores, strict=True)):
        if position in parked:
            continue
        user = item.wire["user_id"]
        if user not in failed_users and (
            item.ip_applied
            or (
                score is not None
                and _record(item, written.get(position), deps, outcome, window, min_severity, event_alerts)
            )
        ):
            continue
        failed_users.add(user)
        group, index = groups.of_user(user), item.record.record_index
        cut[group] = min(cut.get(group, index), index)
    groups.keep_time_prefixes(cut, fresh)
    return cut


def processed_events(fresh: list[_Valid], parked: set[int], cut: dict[str, int], groups: _Groups) -> list[_Valid]:
    """The events of ``fresh`` this attempt processes, in time order: those neither parked nor left
    for the retry by their group's cut (``fresh`` itself when nothing is left out)."""
    if not cut and not parked:
        return fresh
    return [item for position, item in enumerate(fresh) if position not in parked and _before_cut(item, cut, groups)]


def alert_on_entities(
    done: list[_Valid],
    fresh: list[_Valid],
    features: BatchFeatures,
    scores: list[Score | None],
    parked: set[int],
    cut: dict[str, int],
    groups: _Groups,
    loaded: LoadedStates,
    shard_id: str,
    deps: Dependencies,
    settings: ScorerSettings,
    outcome: BatchOutcome,
) -> tuple[EntityStep, list[_Valid]]:
    """Add the processed events to their entities' episodes and alert once per episode
    (``_alert_on_entities``); nothing without an entity stage. Returns what the stage applied, and
    the events still processed. While the shard's logins are in a failed-login wave (as the batch
    found them stored), an alert the wave covers is counted, not sent (``folded_into_wave``).

    A group with an alert that could not be published is held back whole (``cut`` is extended):
    its states and every episode it touched are left unsaved, so the retry recomputes them from
    what is stored and publishes the alert.
    """
    if not deps.entity_models or not done:
        return EntityStep(), done
    wave = None
    window = _stored_login_window(shard_id, loaded.progress) if LOGINS.kind in deps.wave_models else None
    if window is not None:
        # A retry whose first attempt saved the window finds this batch's own logins in it: it folds
        # by the view the first attempt had, before them, so that it decides every alert as the first
        # did (one folded stays folded; one claimed before the wave was known is published). A window
        # stored without that view folds nothing on a retry.
        through = loaded.progress.applied_through(evidence_key(WAVE_KIND, shard_id))
        sequences = [int(item.record.sequence_number) for item in done]
        if all(sequence > through for sequence in sequences):
            wave = window.view()
        elif window.before_batch is not None and all(sequence >= window.before_batch[0] for sequence in sequences):
            wave = window.before_batch[1]
    step = _alert_on_entities(
        done, fresh, features, scores, loaded.evidence, loaded.progress, wave, deps, settings, outcome
    )
    if step.unpublished:
        groups.hold_whole(step.unpublished, cut)
        step.forget(groups.users_sharing(step.unpublished))
        done = processed_events(fresh, parked, cut, groups)
    return step, done


def save_states(
    done: list[_Valid],
    fresh: list[_Valid],
    features: BatchFeatures,
    step: EntityStep,
    groups: _Groups,
    loaded: LoadedStates,
    deps: Dependencies,
    settings: ScorerSettings,
    now: datetime,
    outcome: BatchOutcome,
) -> set[str]:
    """Save the states the processed events reached, episodes, then IPs, then users
    (``_save_states``), and count as ``scored`` the processed events whose users were saved. Returns
    the users whose items were not written: their events here are left for the retry.

    With events held back or parked, the states are recomputed over the processed events only
    (featurization is deterministic, and groups share no state, so these are the states the scores
    saw; each server error is read as the site's or its client's as its score read it). The site's
    count is not: it counts every fresh event once (``_save_site``), and if it cannot be saved, no
    state is, and every fresh event is left for the retry to count.
    """
    if not _save_site(fresh, features.site, loaded, deps, settings, now, outcome):
        outcome.errors.append("the shard's count of the site's traffic not saved")
        return {item.wire["user_id"] for item in fresh}
    unsaved_users: set[str] = set()
    if done:
        processed = {id(item) for item in done}
        site_errors = [error for item, error in zip(fresh, features.site_errors, strict=True) if id(item) in processed]
        final = features if len(done) == len(fresh) else featurize_events(done, loaded, deps, site_errors)
        unsaved_users = _save_states(
            done, final, loaded.evidence, step, loaded.progress, loaded.addresses, groups, deps, settings, now, outcome
        )
    outcome.scored = sum(1 for item in done if item.wire["user_id"] not in unsaved_users)
    return unsaved_users


def watch_waves(
    batch: DecodedBatch,
    attempted: list[_Valid],
    rows: Matrix,
    loaded: LoadedStates,
    deps: Dependencies,
    settings: ScorerSettings,
    now: datetime,
    outcome: BatchOutcome,
) -> bool:
    """Count the fresh logins and payments (``attempted``: those held back for a retry too, not the
    parked; ``rows``, their feature rows) toward waves of failed ones across the service, and the
    visits they begin and settle toward waves of visits like a crawler's (``_watch_waves``), before
    the states are saved: returns whether every wave's alert and window were recorded (nothing
    without a wave model). If not, no state is saved, and the retry counts the batch again and
    raises the wave's alert again."""
    recorded = [
        _watch_waves(attempted, rows, model, attempts, loaded.progress, batch.shard_id, deps, settings, now, outcome)
        for attempts, model in (deps.waves() if attempted else ())
    ]
    return all(recorded)


def records_to_retry(fresh: list[_Valid], unsaved_users: set[str], cut: dict[str, int], groups: _Groups) -> set[int]:
    """The records holding a fresh event this attempt leaves for the retry: its user's item was not
    written, or its group was cut at or before its record."""
    return {
        item.record.record_index
        for item in fresh
        if item.wire["user_id"] in unsaved_users or (cut and not _before_cut(item, cut, groups))
    }


def answer(batch: DecodedBatch, failed_records: set[int], outcome: BatchOutcome) -> None:
    """Hand back the earliest failed record and every record after it (``failed_sequence_numbers``,
    the partial batch response), and count the events they hold. Lambda resumes from the lowest
    record named, so nothing after it can be reported done."""
    if failed_records:
        checkpoint = min(failed_records)
        outcome.failed_sequence_numbers = batch.sequence_numbers[checkpoint:]
        outcome.retried_events = sum(1 for record in batch.user_records if record.record_index >= checkpoint)


def _park(
    batch: DecodedBatch,
    record_index: int,
    line: dict[str, Any],
    deps: Dependencies,
    now: datetime,
    outcome: BatchOutcome,
) -> bool:
    """Put one bad event in the bad-events sink; False on a transient failure (noted in ``errors``).

    One object per bad event, named by its position in the shard and dated by its record's arrival:
    a retried or bisected batch rewrites the same objects instead of adding copies.
    """
    name = f"{batch.shard_id}-{line['sequence_number']}-{line['sub_sequence_number'] or 0}"
    try:
        deps.bad_events.put(name, batch.arrived_at(record_index, now), [line])
    except TransientError as error:
        outcome.errors.append(str(error))
        return False
    return True


def _before_cut(item: _Valid, cut: Mapping[str, int], groups: _Groups) -> bool:
    """Whether ``item``'s record comes before its group's cut (every record does in a group not cut)."""
    group = groups.of_user(item.wire["user_id"])
    return group not in cut or item.record.record_index < cut[group]


class _Progress:
    """What each stored item has applied from this batch's shard, read once per item."""

    def __init__(self, stored: Mapping[str, StoredState], tag: bytes) -> None:
        self.stored = stored
        self.tag = tag
        self._through: dict[str, int] = {}
        self._seen: dict[str, set[bytes]] = {}
        self._entries: dict[str, bytes] = {}  # a record's sequence number -> its position alone

    def applied_through(self, key: str) -> int:
        """The last sequence number of this shard the item ``key`` has applied (-1 for none)."""
        number = self._through.get(key)
        if number is None:
            item = self.stored.get(key)
            number = parse_positions(item.applied).get(self.tag, -1) if item is not None and item.applied else -1
            self._through[key] = number
        return number

    def seen(self, user: str) -> set[bytes]:
        """The hashes of the user's last event ids."""
        hashes = self._seen.get(user)
        if hashes is None:
            item = self.stored.get(USER_PREFIX + user)
            hashes = self._seen[user] = seen_hashes(item.seen) if item is not None and item.seen else set()
        return hashes

    def advanced(self, key: str, record: UserRecord, keep: int) -> bytes:
        """The item's ``applied`` once it has applied ``record`` too."""
        item = self.stored.get(key)
        if item is not None and item.applied:
            return advanced(item.applied, self.tag, int(record.sequence_number), keep)
        # Most items a batch writes are new (episodes, users): each takes its record's position
        # alone, made once per record for all of them.
        entry = self._entries.get(record.sequence_number)
        if entry is None:
            entry = self._entries[record.sequence_number] = advanced(b"", self.tag, int(record.sequence_number), keep)
        return entry


class _Groups:
    """The users of a batch linked by the states their events share: an IP's, or an entity episode's.
    Such users are held back together, and a group's rounds of writes stop at its first failure.
    Built only when something failed: a clean batch never asks."""

    def __init__(self, items: list[_Valid], entity_kinds: Mapping[str, object]) -> None:
        self.items = items
        self.entity_kinds = entity_kinds
        self.parent: dict[str, str] = {}

    @cached_property
    def user_group(self) -> dict[str, str]:
        links: set[tuple[str, str]] = set()  # (user, state key): a user's events repeat them
        users: set[str] = set()
        for item in self.items:
            user = item.wire["user_id"]
            users.add(user)
            ip = item.wire.get("ip")
            if ip:
                links.add((user, IP_PREFIX + ip))
            for kind in self.entity_kinds:
                key = entity_key(item.wire, kind)
                if key is not None:
                    links.add((user, evidence_key(kind, key)))
        for user in users:
            self._find(USER_PREFIX + user)
        for user, key in links:
            self._union(USER_PREFIX + user, key)
        return {user: self._find(USER_PREFIX + user) for user in users}

    @cached_property
    def first_record(self) -> dict[str, int]:
        """Group -> the first record holding one of its events."""
        first: dict[str, int] = {}
        for item in self.items:
            group = self.user_group[item.wire["user_id"]]
            index = item.record.record_index
            if index < first.get(group, index + 1):
                first[group] = index
        return first

    def _find(self, node: str) -> str:
        parent = self.parent.setdefault(node, node)
        while parent != node:
            grandparent = self.parent[parent]
            self.parent[node] = grandparent
            node, parent = parent, grandparent
        return node

    def _union(self, a: str, b: str) -> None:
        root_a, root_b = self._find(a), self._find(b)
        if root_a != root_b:
            self.parent[root_b] = root_a

    def group_of(self, key: str) -> str:
        """The group of a state key (``user#``, ``ip#`` or ``entity#``)."""
        self.user_group  # noqa: B018 (links every key first)
        return self._find(key)

    def of_user(self, user: str) -> str:
        return self.user_group[user]

    def hold_whole(self, users: set[str], cut: dict[str, int]) -> None:
        """Leave every event of these users' groups for the retry, from each group's first record."""
        for user in users:
            group = self.of_user(user)
            cut[group] = self.first_record[group]

    def keep_time_prefixes(self, cut: dict[str, int], items: list[_Valid]) -> None:
        """Hold a group back whole where the events it would keep (records before its cut) do not all
        come before the ones it holds in ``items``' (time) order."""
        if not cut:
            return
        last_kept: dict[str, int] = {}
        first_held: dict[str, int] = {}
        for position, item in enumerate(items):
            group = self.of_user(item.wire["user_id"])
            if group not in cut:
                continue
            if item.record.record_index < cut[group]:
                last_kept[group] = position
            else:
                first_held.setdefault(group, position)
        for group, position in last_kept.items():
            if position > first_held.get(group, position):
                cut[group] = self.first_record[group]

    def users_sharing(self, users: set[str]) -> set[str]:
        """``users`` and every user in their groups."""
        if not users:
            return set()
        groups = {self.user_group[user] for user in users if user in self.user_group}
        return {user for user, group in self.user_group.items() if group in groups} | users


def _featurize(
    items: list[_Valid],
    user_states: dict[str, UserState],
    ip_states: dict[str, IpState],
    ip_others: dict[str, IpState],
    site: SiteNow,
    deps: Dependencies,
    site_errors: Sequence[bool] | None = None,
) -> BatchFeatures:
    """Features of ``items`` (in event-time order) with the deployed model's inputs, and the states
    they reach: the users', this shard's parts of the addresses' (``ip_others``: the other shards'
    parts, merged, which the per-IP columns read too) and the shard's count of the site's traffic.
    An event its IP has applied already updates its user's state only, and one the site's count has
    applied does not count again: such events are featurized run by run, the states carried from run
    to run (a user's state does not depend on an IP's, nor an IP's on a user's; both read the site's
    count, which each run carries on), and the IP states or site counts of those runs dropped. Their
    rows are not used. ``site_errors``: as ``featurize_batch``'s."""
    if not any(item.ip_applied or item.site_applied for item in items):
        return _featurize_run(items, user_states, ip_states, ip_others, site, deps, site_errors)
    users, ips = dict(user_states), dict(ip_states)
    parts: list[np.ndarray[Any, np.dtype[np.float64]]] = []
    polled: list[bool] = []
    errors_of_site: list[bool] = []
    touched_users: set[str] = set()
    touched_ips: set[str] = set()
    start = 0
    for (ip_applied, site_applied), grouped in itertools.groupby(
        items, key=lambda item: (item.ip_applied, item.site_applied)
    ):
        run = list(grouped)
        given = None if site_errors is None else site_errors[start : start + len(run)]
        start += len(run)
        part = _featurize_run(run, users, ips, ip_others, site, deps, given)
        parts.append(part.rows)
        polled.extend(part.polled)
        errors_of_site.extend(part.site_errors)
        users.update(part.user_states)
        touched_users.update(part.user_states)
        if not ip_applied:
            ips.update(part.ip_states)
            touched_ips.update(part.ip_states)
        if not site_applied:
            site = part.site
    return BatchFeatures(
        np.concatenate(parts),
        {user: users[user] for user in touched_users},
        {ip: ips[ip] for ip in touched_ips},
        site,
        polled,
        errors_of_site,
    )


def _featurize_run(
    items: list[_Valid],
    user_states: dict[str, UserState],
    ip_states: dict[str, IpState],
    ip_others: dict[str, IpState],
    site: SiteNow,
    deps: Dependencies,
    site_errors: Sequence[bool] | None = None,
) -> BatchFeatures:
    return featurize_batch(
        [item.wire for item in items],
        user_states,
        ip_states,
        network_of=deps.network_of,
        agent_of=deps.agent_of,
        vocabulary=deps.vocabulary,
        times=[item.time for item in items],
        ip_others=ip_others,
        site=site,
        site_errors=site_errors,
    )


@dataclass
class EntityStep:
    """What the entity stage did to a batch: which episodes took which records and users."""

    # (kind, entity) -> the latest record applied to its episode in this batch, and the users whose
    # events it took
    applied: dict[tuple[str, str], UserRecord] = field(default_factory=dict)
    users_of: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # users with an alert that could not be published, or an alerted episode's progress not recorded
    unpublished: set[str] = field(default_factory=set)

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
    progress: _Progress,
    wave: WaveView | None,
    deps: Dependencies,
    settings: ScorerSettings,
    outcome: BatchOutcome,
) -> EntityStep:
    """Update each entity's evidence with the processed events (in time order) it has not applied
    yet, and publish the alerts they raise. Events their IP has applied are in their episodes already
    (episodes are written before IPs)."""
    position = {id(item): index for index, item in enumerate(fresh)}
    new = [item for item in done if not item.ip_applied]
    indexes = [position[id(item)] for item in new]
    new_rows = features.rows[indexes]
    new_scores = [scores[index] for index in indexes]
    event_scores = [score.score if score is not None else 0.0 for score in new_scores]
    flagged = [score is not None and score.is_anomaly for score in new_scores]
    times = [item.time for item in new]
    wires = [item.wire for item in new]
    inputs = event_evidence(new_rows, wires, deps.vocabulary, [features.polled[index] for index in indexes])
    step = EntityStep()
    numbers = [int(item.record.sequence_number) for item in new]  # parsed once for every kind
    for kind, model in deps.entity_models.items():
        keys: list[str | None] = [entity_key(item.wire, kind) for item in new]
        # An earlier attempt whose IP or user states were not saved may have saved these episodes:
        # the last record each has applied, read once per episode.
        applied = {key: progress.applied_through(evidence_key(kind, key)) for key in set(keys) if key is not None}
        for index, (item, key) in enumerate(zip(new, keys, strict=True)):
            if key is None:
                continue
            if numbers[index] <= applied[key]:
                keys[index] = None
                continue
            last = step.applied.get((kind, key))
            if last is None or item.record.record_index > last.record_index:
                step.applied[kind, key] = item.record
            step.users_of.setdefault((kind, key), set()).add(item.wire["user_id"])
        tracker = EntityTracker(model, kind, settings.alert_min_severity)
        went_on: list[EpisodeSoFar] = []
        _, raised = tracker.observe(evidence[kind], keys, times, inputs, event_scores, flagged, went_on=went_on)
        alerts = with_alert_clients(raised, keys, wires, times, deps.network_of)
        unsuppressed = []
        for alert in alerts:
            if deps.suppressions.suppresses(alert.kind, alert.entity, alert.reasons):
                outcome.suppressed_alerts += 1  # its episode counts as alerted: judged benign before
            else:
                unsuppressed.append(alert)
        # (which entities only tried to log in is read only where a wave under way may fold an alert)
        may_fold = bool(unsuppressed) and wave is not None and wave.in_wave
        tried = failed_logins_only(keys, wires) if may_fold else set()
        unsuppressed, folded = fold_into_wave(wave, unsuppressed, evidence[kind], tried)
        outcome.folded_alerts += len(folded)  # the wave's alert covers them
        groups = group_by_client(unsuppressed, keys, wires, times)
        unpublished, folded_by_client = _publish_client_groups(groups, deps, outcome)
        for alert in folded_by_client:
            # Left open, as a wave's folded episodes are: if the session goes on to a history and
            # crosses again, it is no longer a one-request session, and alerts on its own.
            evidence[kind][alert.entity].alerted = False
        for alert in unpublished:
            step.unpublished |= step.users_of[kind, alert.entity]
        for so_far in _report_episodes(went_on, deps, outcome):
            step.unpublished |= step.users_of[kind, so_far.entity]
    return step


def _report_episodes(went_on: list[EpisodeSoFar], deps: Dependencies, outcome: BatchOutcome) -> list[EpisodeSoFar]:
    """Record how far each alerted episode has gone (``AnomalyStore.episode_went_on``),
    ``CONCURRENT_WRITES`` at a time; returns those a transient failure kept from being recorded:
    their events are left for the retry, which reports them again."""

    def report(so_far: EpisodeSoFar) -> TransientError | None:
        try:
            deps.anomalies.episode_went_on(so_far)
        except TransientError as error:
            return error
        return None

    unreported = []
    for so_far, error in zip(went_on, _each_concurrently(report, went_on), strict=True):
        if error is not None:
            outcome.errors.append(str(error))
            unreported.append(so_far)
    return unreported


def _publish_client_groups(
    groups: list[ClientGroup], deps: Dependencies, outcome: BatchOutcome
) -> tuple[list[EntityAlert], list[EntityAlert]]:
    """Decide each group's alerts (``_publish_client_group``), ``CONCURRENT_WRITES`` groups at a time;
    returns the alerts a transient failure left undecided (every alert of such a group), and those
    folded into their client's."""
    answers = _each_concurrently(lambda group: _publish_client_group(group, deps), groups)
    unpublished: list[EntityAlert] = []
    folded: list[EntityAlert] = []
    for group, answer in zip(groups, answers, strict=True):
        outcome.alerts += answer.published
        outcome.client_folded_alerts += answer.folded
        folded += answer.folded_alerts
        if answer.error is not None:
            outcome.errors.append(str(answer.error))
            unpublished += group.alerts
    return unpublished, folded


class GroupAnswer(NamedTuple):
    """What deciding a group of alerts did: alerts published, alerts folded, the failure that stopped it."""

    published: int = 0
    folded: int = 0
    error: TransientError | None = None
    folded_alerts: tuple[EntityAlert, ...] = ()


def _publish_client_group(group: ClientGroup, deps: Dependencies) -> GroupAnswer:
    """Publish the group's first alert once (``_publish_entity_alert``) unless its client's alert of
    the day was sent, and fold the rest into the client's (``_fold_into_client``).

    The client's marker (partition and day) is claimed before the alert is published and marked sent
    after: an alert is folded only into one that was sent. After a failure the whole group is held
    back (the caller), so the retry decides it again: it finds the client's marker pending and
    publishes (the first alert's own marker keeps it from being sent twice), or finds it sent and
    folds."""
    if group.partition is None:
        alone, error = _publish_entity_alert(group.alerts[0], deps)
        return GroupAnswer(int(alone), 0, error)
    published = folded = 0
    folded_alerts: tuple[EntityAlert, ...] = ()
    try:
        to_fold = group.alerts
        if deps.anomalies.claim_alert(group.partition, group.day_start, group.expires_at) != ALERT_SENT:
            sent, error = _publish_entity_alert(group.alerts[0], deps)
            published += sent
            if error is not None:
                return GroupAnswer(published, folded, error, folded_alerts)
            deps.anomalies.alert_sent(group.partition, group.day_start)
            to_fold = group.alerts[1:]
        for alert in to_fold:
            answer = _fold_into_client(alert, group, deps)
            published, folded = published + answer.published, folded + answer.folded
            folded_alerts += answer.folded_alerts
        if folded:
            # The count the console shows: folds a failure stopped before this line go uncounted
            # (their markers are folded; the retry does not count them again).
            deps.anomalies.count_folded(group.partition, group.day_start, folded)
    except TransientError as error:
        return GroupAnswer(published, folded, error, folded_alerts)
    return GroupAnswer(published, folded, None, folded_alerts)


def _fold_into_client(alert: EntityAlert, group: ClientGroup, deps: Dependencies) -> GroupAnswer:
    """Count an alert into its client's alert of the day: its own marker, claimed, is marked folded
    (naming the client's, and expiring with it). A marker an earlier attempt left as a bare claim is
    folded the same way; one whose alert an earlier attempt recorded (the sweeper would send it days
    later) is published now instead; one sent before is left as it is, and one folded before stays
    folded (not counted again). Raises ``TransientError``."""
    partition, episode_start = alert_partition(alert.kind, alert.entity), int(alert.first_event_at)
    status = deps.anomalies.claim_alert(partition, episode_start, group.expires_at)
    if status == ALERT_FOLDED:
        return GroupAnswer(folded_alerts=(alert,))  # folded before: its episode stays open
    if status not in (None, ALERT_PENDING):
        return GroupAnswer()
    into = f"{group.partition} {ALERT_PREFIX}{group.day_start}"
    if deps.anomalies.alert_folded(partition, episode_start, into, group.expires_at):
        return GroupAnswer(folded=1, folded_alerts=(alert,))
    published, error = _publish_entity_alert(alert, deps)
    if error is not None:
        raise error
    return GroupAnswer(published=int(published))


def _publish_entity_alerts(alerts: list[EntityAlert], deps: Dependencies, outcome: BatchOutcome) -> list[EntityAlert]:
    """Publish each episode's alert once (``_publish_entity_alert``), ``CONCURRENT_WRITES`` episodes
    at a time; returns the alerts a transient failure kept from being published."""
    answers = _each_concurrently(lambda alert: _publish_entity_alert(alert, deps), alerts)
    unpublished = []
    for alert, (published, error) in zip(alerts, answers, strict=True):
        outcome.alerts += published
        if error is not None:
            outcome.errors.append(str(error))
            unpublished.append(alert)
    return unpublished


def _publish_entity_alert(alert: EntityAlert, deps: Dependencies) -> tuple[bool, TransientError | None]:
    """Publish an episode's alert once (its marker is keyed by the episode's first event): whether
    this call published it, and the transient failure that stopped it, if one did; the marker is then
    left pending, so the retry publishes it."""
    partition, episode_start = alert_partition(alert.kind, alert.entity), int(alert.first_event_at)
    published = False
    try:
        # A folded alert's episode stays open: when it crosses again with a history, it is sent.
        if deps.anomalies.claim_alert(partition, episode_start) != ALERT_SENT:
            deps.alerts.publish_entity(alert, alert_slot(partition, episode_start))
            published = True
            deps.anomalies.alert_sent(partition, episode_start)
    except TransientError as error:
        return published, error
    return published, None


def _stored_site(key: str, stored: Mapping[str, StoredState], outcome: BatchOutcome) -> SiteNow:
    """The shard's count of the site's traffic as stored; none counted yet if there is no item, or
    it cannot be read (counted: the rarity of pages popular now reads as training's, and every
    server error as its client's, until they are counted again)."""
    item = stored.get(key)
    if item is None:
        return SiteNow()
    try:
        return SiteNow.from_bytes(item.state)
    except InvalidStateError as error:
        outcome.state_unreadable += 1
        outcome.errors.append(f"{key}: {error}")
        return SiteNow()


def _save_site(
    fresh: list[_Valid],
    site: SiteNow,
    loaded: LoadedStates,
    deps: Dependencies,
    settings: ScorerSettings,
    now: datetime,
    outcome: BatchOutcome,
) -> bool:
    """Save the shard's count of the site's traffic with the last record it applied.

    A count over the shard, not any one user's history, so it takes every fresh event of the batch,
    those held back for a retry too: the retry finds them applied (``skip_applied``) and counts them
    no more, and the events it skips as their users' replays were counted here. Each event counts
    once (tested under every fault), though an event retried reads the count with the batch it came
    in. Returns whether it was saved, or had nothing to save: a count the batch left as it was
    (events with no HTTP status, a vocabulary that does not read the visits) is not written.
    """
    counted = [item for item in fresh if not item.site_applied]
    state = site.to_bytes()
    if not counted or state == loaded.site.to_bytes():
        return True
    return _save_shard_item(loaded.site_key, state, counted, loaded.progress, deps, settings, now, outcome)


def _save_shard_item(
    key: str,
    state: bytes,
    applied: list[_Valid],
    progress: _Progress,
    deps: Dependencies,
    settings: ScorerSettings,
    now: datetime,
    outcome: BatchOutcome,
) -> bool:
    """Save one of the shard's own items (its login window, the site's count) with the last of the
    batch's records it ``applied``; returns whether it was saved."""
    last = max((item.record for item in applied), key=lambda record: record.record_index)
    saved = StoredState(state, progress.advanced(key, last, MAX_USER_SHARD_POSITIONS))
    unsaved = deps.states.save({key: saved}, int(now.timestamp()) + settings.state_ttl_seconds)
    outcome.state_writes += 1 - len(unsaved)
    outcome.state_write_failures += len(unsaved)
    return not unsaved


def _stored_login_window(shard_id: str, progress: _Progress) -> AttemptWindow | None:
    """The shard's login window as stored when the batch started; None if there is none or it is
    unreadable (``_watch_waves`` counts that)."""
    stored = progress.stored.get(evidence_key(WAVE_KIND, shard_id))
    if stored is None:
        return None
    try:
        return AttemptWindow.from_bytes(stored.state)
    except InvalidStateError:
        return None


def _watch_waves(
    attempted: list[_Valid],
    rows: Matrix,
    model: WaveModel,
    attempts: Attempts,
    progress: _Progress,
    shard_id: str,
    deps: Dependencies,
    settings: ScorerSettings,
    now: datetime,
    outcome: BatchOutcome,
) -> bool:
    """Add the batch's ``attempts`` (logins, payments...; for the visitor waves, the visits its
    events settle, their feature ``rows`` telling those that begin one) to the shard's window of
    them, publish a wave's alert, and save the window with the last record it applied; returns
    whether both were done (or there was nothing to do). The rows tell too which successes came from
    their accounts' own devices (``familiar_attempts``), which the alerts do not name. A visitor
    window is saved with every batch of fresh events: the visits waiting in it change with each.

    The window is a count over the shard, not any one user's history, so it takes every fresh
    attempt of the batch, those held back for a retry with their user too: a retry skips what the
    window applied, and counted only the processed ones, it lost the others. An alert that cannot
    be published leaves the window unsaved, and so does a batch without any such attempt (it would
    change nothing); the caller then saves no state, and the retry counts the batch again. The
    window keeps the view it had before the batch, for a retry to fold by (``alert_on_entities``).
    """
    key = evidence_key(attempts.kind, shard_id)
    previous = progress.stored.get(key)
    window = AttemptWindow()
    if previous is not None:
        try:
            window = AttemptWindow.from_bytes(previous.state)
        except InvalidStateError as error:
            outcome.state_unreadable += 1
            outcome.errors.append(f"{key}: {error}")
    through = progress.applied_through(key)
    unapplied = [int(item.record.sequence_number) > through for item in attempted]
    fresh = [item for item, new in zip(attempted, unapplied, strict=True) if new]
    fresh_rows = rows[np.flatnonzero(unapplied)]
    events: list[Mapping[str, Any]] = [item.wire for item in fresh]
    times = [item.time for item in fresh]
    familiar = None
    if attempts.of_visits:
        # (the visits waiting are the window's: each batch settles some, and all of them wait with it)
        visits = settle_visits(window.pending, events, times, visit_starts(fresh_rows) if fresh else [])
        events, times = [visit.as_event() for visit in visits], [visit.started for visit in visits]
        if not fresh:
            return True
    elif not any(attempts.outcome(event) is not None for event in events):
        return True
    elif attempts.names_accounts:
        familiar = familiar_attempts(fresh_rows, events)
    window.before_batch = (min(int(item.record.sequence_number) for item in fresh), window.view())
    raised = WaveWatch(model, attempts).observe_waves(window, events, times, familiar)
    # (a follow-up names this shard's accounts since its own last one: its marker is the shard's)
    alerts = [
        replace(item.alert, entity=f"{WAVE_ENTITY} ({shard_id})") if item.names_accounts else item.alert
        for item in raised
    ]
    if _publish_entity_alerts(alerts, deps, outcome):
        return False
    return _save_shard_item(key, window.to_bytes(), fresh, progress, deps, settings, now, outcome)


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


def _write_anomalies(
    fresh: list[_Valid], scores: list[Score | None], parked: set[int], deps: Dependencies, scored_at: str
) -> dict[int, tuple[Anomaly, bool | TransientError]]:
    """Write the anomaly of every scored, flagged event not parked and not applied by its IP already,
    ``CONCURRENT_WRITES`` at a time. Per position in ``fresh``: the anomaly, and whether it was new
    (``AnomalyStore.record``'s answer) or the ``TransientError`` that kept it out."""
    anomalies = {
        position: Anomaly(item.wire, score.score, score.threshold, score.top_features, scored_at)
        for position, (item, score) in enumerate(zip(fresh, scores, strict=True))
        if score is not None and score.is_anomaly and not item.ip_applied and position not in parked
    }

    def write(anomaly: Anomaly) -> bool | TransientError:
        try:
            return deps.anomalies.record(anomaly)
        except TransientError as error:
            return error

    answers = _each_concurrently(write, list(anomalies.values()))
    return {position: (anomaly, answer) for (position, anomaly), answer in zip(anomalies.items(), answers, strict=True)}


def _record(
    item: _Valid,
    written: tuple[Anomaly, bool | TransientError] | None,
    deps: Dependencies,
    outcome: BatchOutcome,
    window: int,
    min_severity: float,
    alert: bool = True,
) -> bool:
    """Count one scored event's anomaly, as ``_write_anomalies`` wrote it (None: not an anomaly),
    and, if ``alert``, publish its alert at most once; False when the anomaly or the alert could not
    be written (a transient failure)."""
    if written is None:
        return True
    anomaly, answer = written
    if isinstance(answer, TransientError):
        outcome.errors.append(str(answer))
        return False
    if answer:
        outcome.anomalies += 1
    else:
        outcome.anomalies_already_recorded += 1
    if not alert or anomaly.severity < min_severity:
        return True
    try:
        # The slot is marked pending before the Publish and sent after it: a failure in between
        # leaves it pending, and the retry publishes again under the same deduplication id.
        user, window_start = item.wire["user_id"], int(item.time // window * window)
        if deps.anomalies.claim_alert(user, window_start) != ALERT_SENT:
            deps.alerts.publish(anomaly, alert_slot(user, window_start), window_start)
            outcome.alerts += 1
            deps.anomalies.alert_sent(user, window_start)
    except TransientError as error:
        outcome.errors.append(str(error))
        return False
    return True


def _save_states(
    done: list[_Valid],
    final: BatchFeatures,
    evidence: Mapping[str, Mapping[str, Evidence]],
    step: EntityStep,
    progress: _Progress,
    addresses: Mapping[str, AddressView],
    groups: _Groups,
    deps: Dependencies,
    settings: ScorerSettings,
    now: datetime,
    outcome: BatchOutcome,
) -> set[str]:
    """Write the states in three rounds, episodes (with this shard's announcements to the homes of
    addresses it has no place in yet), IPs (this shard's parts), users, each with what it has now
    applied; a group whose items of one round were not all written gets none of the next. Returns
    the users whose items were not written: their events here are left for the retry."""
    expires_at = int(now.timestamp()) + settings.state_ttl_seconds
    tag = progress.tag
    # Per user and per IP, the last record applied here (records are in sequence order), and each
    # user's new event ids, oldest first.
    last_of_user: dict[str, UserRecord] = {}
    last_of_ip: dict[str, UserRecord] = {}
    new_ids: dict[str, list[str]] = {}
    for item in done:
        user, record = item.wire["user_id"], item.record
        last = last_of_user.get(user)
        if last is None or record.record_index > last.record_index:
            last_of_user[user] = record
        new_ids.setdefault(user, []).append(item.wire["event_id"])
        ip = item.wire.get("ip")
        if ip and not item.ip_applied:
            last = last_of_ip.get(ip)
            if last is None or record.record_index > last.record_index:
                last_of_ip[ip] = record

    failed_groups: set[str] = set()
    written = failures = 0
    # An address's items (its home, this shard's own item or hot item) are in the group of its key.
    address_of: dict[str, str] = {}

    def group_of(key: str) -> str:
        return groups.group_of(address_of.get(key, key))

    def unfailed(keys: Iterable[str]) -> list[str]:
        return [key for key in keys if not failed_groups or group_of(key) not in failed_groups]

    def count(attempted: int, unsaved: set[str]) -> set[str]:
        nonlocal written, failures
        written += attempted - len(unsaved)
        failures += len(unsaved)
        failed_groups.update(group_of(key) for key in unsaved)
        return unsaved

    def save(items: dict[str, StoredState]) -> set[str]:
        """Write ``items``, unless their group failed in an earlier round; the keys not written."""
        items = {key: items[key] for key in unfailed(items)}
        return count(len(items), deps.states.save(items, expires_at) if items else set())

    save(
        {
            key: StoredState(evidence[kind][entity].to_bytes(), progress.advanced(key, record, MAX_IP_SHARD_POSITIONS))
            for (kind, entity), record in step.applied.items()
            for key in [evidence_key(kind, entity)]
        }
    )
    # A place in the home of each address this shard has none in yet (its own item, while the home
    # has room; else its attribute of a hot item), and the home's expiry pushed back half way.
    homes: dict[str, bytes | None] = {}
    for ip in last_of_ip:
        view, key = addresses[ip], home_key(ip)
        address_of[key] = IP_PREFIX + ip
        if not view.listed and not view.hot:
            homes[key] = tag
        elif view.home_expires_at < expires_at - settings.state_ttl_seconds // 2:
            homes[key] = tag if view.listed else None
    announced = Announced()
    if homes:
        asked = {key: homes[key] for key in unfailed(homes)}
        announced = deps.states.announce(asked, settings.ip_directory_size, expires_at) if asked else announced
        count(len(asked), announced.failed)
    own_items: dict[str, StoredState] = {}
    hot_items: dict[str, tuple[str, bytes]] = {}
    for ip, record in last_of_ip.items():
        view, state = addresses[ip], final.ip_states[ip]
        if view.others is not None:
            state = keep_users_within(state, merge_ip_states((state, view.others)))
        applied = advanced(view.own_applied, tag, int(record.sequence_number), 1)
        key = own_key(ip, tag)
        own_items[key] = StoredState(state.to_bytes(), applied)
        address_of[key] = IP_PREFIX + ip
        if not view.listed and (view.hot or home_key(ip) in announced.full):
            # Not listed in a full home: other shards read the part from the address's hot item.
            key = hot_key(ip, tag)
            hot_items[key] = (part_attribute(tag), encode_part(applied, state.to_bytes()))
            address_of[key] = IP_PREFIX + ip
    # The hot copy first: if it is written and the own part is not, the retry rebuilds the same part
    # from the own item and sets the copy again; the other way round the copy could stay behind.
    if hot_items:
        parts = {key: hot_items[key] for key in unfailed(hot_items)}
        count(len(parts), deps.states.save_parts(parts, expires_at) if parts else set())
    save(own_items)
    user_items: dict[str, StoredState] = {}
    for user, record in last_of_user.items():
        key = USER_PREFIX + user
        previous = progress.stored.get(key)
        user_items[key] = StoredState(
            final.user_states[user].to_bytes(),
            progress.advanced(key, record, MAX_USER_SHARD_POSITIONS),
            remember_seen(previous.seen if previous is not None else b"", new_ids[user]),
        )
    # Users of groups that failed an earlier round are not written at all.
    unsaved = {key for key in user_items if failed_groups and group_of(key) in failed_groups}
    unsaved |= save(user_items)
    outcome.state_writes += written
    outcome.state_write_failures += failures
    if not unsaved:
        return set()
    outcome.errors.append(f"state not saved for {len(unsaved)} user(s)")
    return {key[len(USER_PREFIX) :] for key in unsaved}


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
