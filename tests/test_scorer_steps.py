"""The scorer's steps (``scorer.batch``) called one by one: what each returns and counts for given records.

``tests/test_scorer_batch.py`` proves the whole batch against real wire protocols; these tests pin down
the decisions inside it (which events are kept, parked, skipped, held back, handed back), with fakes
behind the stores' protocols where a step's answer to a failure is the point.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from model.entities import EpisodeSoFar
from scorer.batch import (
    BatchOutcome,
    Dependencies,
    EntityStep,
    LoadedStates,
    Scored,
    answer,
    featurize_events,
    load_states,
    park_bad_events,
    park_rejected_rows,
    process_batch,
    processed_events,
    record_events,
    records_to_retry,
    save_states,
    score_events,
    skip_applied,
    validate_records,
)
from scorer.batch import _Groups as Groups
from scorer.clients import build_dependencies
from scorer.endpoint import Score
from scorer.exceptions import TransientError
from scorer.records import DecodedBatch, decode_batch
from scorer.stores import Anomaly, StoredState
from tests.scorer_factories import (
    SHARD,
    START,
    SuspiciousResourceEndpoint,
    aggregate,
    create_resources,
    lambda_event,
    plain,
    sequence_numbers,
    wire_event,
)
from tests.test_scorer_model_errors import RejectingEndpoint
from vedette.events import encode_event

NOW = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
FLAGGED = Score(2.0, True, 1.0, [])
NORMAL = Score(0.1, False, 1.0, [])

_names = itertools.count()


class RecordingSink:
    """The bad-events sink: keeps what it is given, and refuses the objects named in ``refuse``."""

    def __init__(self, refuse: Sequence[str] = ()) -> None:
        self.refuse = set(refuse)
        self.objects: dict[str, tuple[datetime, list[Mapping[str, Any]]]] = {}

    def put(self, name: str, arrived_at: datetime, lines: Sequence[Mapping[str, Any]]) -> None:
        if name in self.refuse:
            raise TransientError("s3", "SlowDown: injected")
        self.objects[name] = (arrived_at, list(lines))


class FailingAnomalies:
    """An anomaly store that cannot write the anomalies of ``users``, and records the others."""

    def __init__(self, users: set[str]) -> None:
        self.users = users
        self.recorded: list[str] = []

    def record(self, anomaly: Anomaly) -> bool:
        if anomaly.event["user_id"] in self.users:
            raise TransientError("dynamodb", "ProvisionedThroughputExceededException: injected")
        self.recorded.append(anomaly.event["event_id"])
        return True

    def claim_alert(self, user_id: str, window_start: int, expires_at: int | None = None) -> str | None:
        return None

    def alert_sent(self, user_id: str, window_start: int) -> None:
        pass

    def alert_folded(self, user_id: str, window_start: int, into: str, expires_at: int) -> bool:
        return True

    def count_folded(self, user_id: str, window_start: int, count: int) -> None:
        pass

    def episode_went_on(self, so_far: EpisodeSoFar) -> None:
        pass


class Discard:
    def publish(self, *args: Any) -> None:
        pass

    def publish_entity(self, *args: Any) -> None:
        pass


class RefusingUsers:
    """The state store, but the items of ``users`` are never written (as a throttled write ends)."""

    def __init__(self, inner: Any, users: set[str]) -> None:
        self.inner = inner
        self.refused = {f"user#{user}" for user in users}

    def save(self, items: Mapping[str, StoredState], expires_at: int) -> set[str]:
        kept = {key: item for key, item in items.items() if key not in self.refused}
        unsaved = self.inner.save(kept, expires_at) if kept else set()
        return unsaved | (items.keys() & self.refused)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def deps_and_settings(aws_endpoint: str) -> tuple[Dependencies, Any]:
    resources = create_resources(aws_endpoint, f"steps-{next(_names)}")
    deps = build_dependencies(resources.settings, aws_endpoint)
    deps.endpoint = SuspiciousResourceEndpoint()
    return deps, resources.settings


def batch_of(events: Sequence[dict[str, Any]]) -> DecodedBatch:
    """One plain record per event, in the order given."""
    return decode_batch(lambda_event([plain(encode_event(event), event["user_id"]) for event in events]))


def ids(items: Sequence[Any]) -> list[str]:
    return [item.wire["event_id"] for item in items]


def corrupt_aggregate() -> tuple[bytes, str]:
    """A well-signed aggregate whose protobuf is broken."""
    blob, key = aggregate([wire_event(90), wire_event(91)])
    body = bytearray(blob[4:-16])
    body[3] ^= 0xFF
    return blob[:4] + bytes(body) + hashlib.md5(bytes(body)).digest(), key


def fresh_events(batch: DecodedBatch, deps: Dependencies, settings: Any) -> tuple[list[Any], BatchOutcome]:
    """The steps up to the events still to apply, as ``process_batch`` runs them."""
    fresh, _, outcome = loaded_events(batch, deps, settings)
    return fresh, outcome


def loaded_events(
    batch: DecodedBatch, deps: Dependencies, settings: Any
) -> tuple[list[Any], LoadedStates, BatchOutcome]:
    """The events still to apply, the states they start from, and what the steps counted."""
    outcome = BatchOutcome()
    valid, _ = validate_records(batch, outcome)
    loaded = load_states(batch, valid, deps, settings, outcome)
    return skip_applied(batch, valid, loaded, outcome), loaded, outcome


def scored_events(batch: DecodedBatch, deps: Dependencies, settings: Any) -> tuple[list[Any], Scored, BatchOutcome]:
    """The steps up to the endpoint's scores of the events still to apply."""
    fresh, loaded, outcome = loaded_events(batch, deps, settings)
    return fresh, score_events(fresh, featurize_events(fresh, loaded, deps), deps, settings, outcome), outcome


def test_validation_keeps_each_event_id_once_and_names_the_field_of_each_bad_event():
    # GIVEN a plain event; an aggregate holding a second event, one breaking the contract and a
    # producer's retry of the first; a record that is not JSON; and a corrupt aggregate
    first, second = wire_event(1), wire_event(2)
    broken = {**wire_event(3), "status": 1000}
    event = lambda_event(
        [
            plain(encode_event(first), first["user_id"]),
            aggregate([second, json.dumps(broken).encode(), first]),
            plain(b"{not json", "user-1"),
            corrupt_aggregate(),
        ]
    )
    outcome = BatchOutcome()

    # WHEN the batch is validated
    valid, bad = validate_records(decode_batch(event), outcome)

    # THEN the two events are kept once each, in batch order, and the retry is counted as a duplicate
    assert ids(valid) == [first["event_id"], second["event_id"]]
    assert outcome.duplicates == 1
    # AND each bad record or event gets a line naming its record, its position and what is wrong with it
    numbers = sequence_numbers(event)
    assert [(index, line["sequence_number"], line["sub_sequence_number"], line["field"]) for index, line in bad] == [
        (3, numbers[3], None, "record"),
        (1, numbers[1], 1, "status"),
        (2, numbers[2], None, "event"),
    ]
    assert bad[0][1]["reason"].startswith("corrupt aggregate")
    assert "100-599" in bad[1][1]["reason"]
    assert "not UTF-8 JSON" in bad[2][1]["reason"]


def test_bad_events_the_sink_refuses_are_left_for_the_retry(deps_and_settings):
    # GIVEN a batch with two records that are not JSON, and a sink refusing the second one's object
    deps, _ = deps_and_settings
    event = lambda_event(
        [plain(b"{not json", "user-1"), plain(encode_event(wire_event(2)), "user-2"), plain(b"[", "x")]
    )
    numbers = sequence_numbers(event)
    deps.bad_events = RecordingSink(refuse=[f"{SHARD}-{numbers[2]}-0"])
    batch = decode_batch(event)
    outcome = BatchOutcome()
    _, bad = validate_records(batch, outcome)

    # WHEN the bad events are parked
    failed = park_bad_events(batch, bad, deps, NOW, outcome)

    # THEN the first is in the sink, named by its position and dated by its record's arrival, and
    # counted; the refused one's record is handed back for the retry, with the sink's error
    assert failed == {2}
    assert outcome.bad_events == 1
    assert list(deps.bad_events.objects) == [f"{SHARD}-{numbers[0]}-0"]
    arrived_at, [line] = deps.bad_events.objects[f"{SHARD}-{numbers[0]}-0"]
    assert arrived_at == datetime.fromtimestamp(START.timestamp() + 0.5, UTC)
    assert line["sequence_number"] == numbers[0]
    assert outcome.errors == ["s3: SlowDown: injected"]


def test_a_redelivered_batch_is_skipped_and_a_producers_duplicate_from_an_earlier_batch_dropped(deps_and_settings):
    # GIVEN a batch of user-a's first two events, processed
    deps, settings = deps_and_settings
    events = [wire_event(n, "user-a") for n in range(4)]
    first = batch_of(events[:2])
    assert process_batch(first, deps, settings).scored == 2

    # WHEN Lambda delivers it again
    fresh, outcome = fresh_events(first, deps, settings)
    # THEN nothing is left to apply: both events are counted as replayed
    assert fresh == []
    assert (outcome.replayed, outcome.duplicates) == (2, 0)

    # WHEN the next batch holds the last event, the producer's retry of the second, and the third
    fresh, outcome = fresh_events(batch_of([events[3], events[1], events[2]]), deps, settings)
    # THEN the retry is dropped as a duplicate, and the new events are applied in event-time order
    assert ids(fresh) == [events[2]["event_id"], events[3]["event_id"]]
    assert (outcome.replayed, outcome.duplicates, outcome.resumed) == (0, 1, 0)


def test_events_their_ip_applied_are_resumed_for_their_user_and_not_scored_again(deps_and_settings):
    # GIVEN a batch whose IP parts were saved by an earlier attempt but whose user-b item was not
    deps, settings = deps_and_settings
    events = [wire_event(0, "user-a"), wire_event(1, "user-b"), wire_event(2, "user-b")]
    event = lambda_event([plain(encode_event(item), item["user_id"]) for item in events])
    store = deps.states
    deps.states = RefusingUsers(store, {"user-b"})
    first = process_batch(decode_batch(event), deps, settings)
    assert first.failed_sequence_numbers == sequence_numbers(event)[1:]
    deps.states = store
    deps.endpoint = endpoint = SuspiciousResourceEndpoint()

    # WHEN Lambda redelivers from the checkpoint, and the events are scored
    fresh, scored, outcome = scored_events(decode_batch({"Records": event["Records"][1:]}), deps, settings)

    # THEN user-b's events are still to apply, marked as applied by their IPs, and not sent to the
    # endpoint again
    assert (outcome.replayed, outcome.resumed) == (0, 2)
    assert [(item.wire["user_id"], item.ip_applied) for item in fresh] == [("user-b", True), ("user-b", True)]
    assert (endpoint.calls, outcome.endpoint_calls) == ([], 0)
    assert scored.scores == [None, None]


def test_state_reads_are_counted_and_an_unreadable_state_starts_afresh(deps_and_settings):
    # GIVEN two users on two addresses, one user's stored state unreadable
    deps, settings = deps_and_settings
    expires_at = int(NOW.timestamp()) + 3600
    assert deps.states.save({"user#user-g": StoredState(b"\x07garbage", b"")}, expires_at) == set()
    batch = batch_of([wire_event(1, "user-g"), wire_event(2, "user-h"), wire_event(3, "user-g", ip="198.51.100.1")])
    outcome = BatchOutcome()
    valid, _ = validate_records(batch, outcome)

    # WHEN their states are loaded
    loaded = load_states(batch, valid, deps, settings, outcome)

    # THEN every user, each address's two items (this shard's part and its home) and the shard's
    # visits to the site's pages are read once, the unreadable state is counted and named, and the
    # user starts afresh
    assert outcome.state_reads == 2 + 2 * 2 + 1
    assert (outcome.state_unreadable, len(outcome.errors)) == (1, 1)
    assert outcome.errors[0].startswith("user#user-g")
    assert loaded.user_states == {}


def test_rows_the_model_rejects_are_parked_only_when_the_batch_is_their_one_record(deps_and_settings):
    # GIVEN an endpoint whose model rejects an attack's row
    deps, settings = deps_and_settings
    deps.endpoint = RejectingEndpoint()
    deps.bad_events = RecordingSink()
    attack = wire_event(1, "user-p", suspicious=True)

    def rejected_in(batch: DecodedBatch) -> tuple[set[int], BatchOutcome, list[Any]]:
        fresh, scored, outcome = scored_events(batch, deps, settings)
        return park_rejected_rows(batch, fresh, scored, deps, NOW, outcome), outcome, fresh

    # WHEN the attack comes in a batch of two records
    parked, outcome, _ = rejected_in(batch_of([wire_event(0, "user-q"), attack]))
    # THEN nothing is parked: the rejection is noted and the event is left unscored for the retry
    assert parked == set()
    assert (outcome.model_rejected, outcome.bad_events, deps.bad_events.objects) == (0, 0, {})
    assert "arn:aws:logs:us-east-1:1:log-group:/x" in outcome.errors[-1]

    # WHEN Lambda has bisected the batch down to the attack's record
    batch = batch_of([attack])
    parked, outcome, fresh = rejected_in(batch)
    # THEN the event is parked as a bad event with the model's reason and the endpoint's log pointer
    assert [fresh[position].wire["event_id"] for position in parked] == [attack["event_id"]]
    assert (outcome.model_rejected, outcome.bad_events) == (1, 1)
    [(_, [line])] = deps.bad_events.objects.values()
    assert (line["field"], line["sequence_number"]) == ("model", batch.sequence_numbers[0])
    assert "arn:aws:logs:us-east-1:1:log-group:/x" in line["reason"]


def test_a_rejected_row_the_sink_refuses_is_left_for_the_retry(deps_and_settings):
    # GIVEN a one-record batch whose attack the model rejects, and a sink refusing its object
    deps, settings = deps_and_settings
    deps.endpoint = RejectingEndpoint()
    batch = batch_of([wire_event(1, "user-p", suspicious=True)])
    deps.bad_events = RecordingSink(refuse=[f"{SHARD}-{batch.sequence_numbers[0]}-0"])
    fresh, scored, outcome = scored_events(batch, deps, settings)

    # WHEN its rows are parked
    parked = park_rejected_rows(batch, fresh, scored, deps, NOW, outcome)

    # THEN none is: the event stays unscored, and its record is handed back
    assert parked == set()
    assert (outcome.model_rejected, outcome.bad_events) == (0, 0)
    cut = record_events(fresh, scored.scores, parked, Groups(fresh, {}), deps, settings, NOW, outcome)
    assert records_to_retry(fresh, set(), cut, Groups(fresh, {})) == {0}


def recorded(
    events: Sequence[dict[str, Any]], flagged: set[int], failing: set[str], deps: Dependencies, settings: Any
) -> tuple[list[Any], dict[str, int], Groups, BatchOutcome]:
    """Record a batch of one plain record per event, in time order, whose ``flagged`` events (by
    ``n``) are anomalies and whose ``failing`` users' anomalies cannot be written."""
    deps.anomalies = FailingAnomalies(failing)
    deps.alerts = Discard()
    fresh = sorted(validate_records(batch_of(events), BatchOutcome()).valid, key=lambda item: item.time)
    scores = [FLAGGED if int(item.wire["event_id"][-12:]) in flagged else NORMAL for item in fresh]
    groups = Groups(fresh, {})
    outcome = BatchOutcome()
    cut = record_events(fresh, scores, set(), groups, deps, settings, NOW, outcome)
    return fresh, cut, groups, outcome


def test_a_user_whose_anomaly_cannot_be_recorded_is_cut_at_that_record(deps_and_settings):
    # GIVEN user-a in records 0, 2 and 4, user-b (on other addresses) in 1 and 3, and user-a's
    # anomaly in record 2 failing to be written
    deps, settings = deps_and_settings
    events = [wire_event(n, "user-a" if n % 2 == 0 else "user-b") for n in range(5)]

    # WHEN the batch's anomalies are recorded
    fresh, cut, groups, outcome = recorded(events, {2}, {"user-a"}, deps, settings)

    # THEN user-a's group is cut at record 2: its event there and after it are left for the retry,
    # user-b's events and user-a's earlier one are processed
    assert cut == {groups.of_user("user-a"): 2}
    assert ids(processed_events(fresh, set(), cut, groups)) == [events[n]["event_id"] for n in (0, 1, 3)]
    assert records_to_retry(fresh, set(), cut, groups) == {2, 4}
    assert "injected" in outcome.errors[0]


def test_a_group_whose_kept_events_would_not_come_first_in_time_is_held_back_whole(deps_and_settings):
    # GIVEN user-a and user-c on one address: user-c's event in record 0 happened after user-a's in
    # record 1, whose anomaly cannot be written; user-b elsewhere in record 2
    deps, settings = deps_and_settings
    address = "203.0.113.9"
    events = [
        wire_event(5, "user-c", ip=address),
        wire_event(2, "user-a", ip=address),
        wire_event(3, "user-b"),
    ]

    # WHEN the batch's anomalies are recorded
    fresh, cut, groups, _ = recorded(events, {2}, {"user-a"}, deps, settings)

    # THEN keeping user-c's event would apply it to the address before user-a's earlier one: the
    # group is held back from its first record, and only user-b's event is processed
    assert groups.of_user("user-a") == groups.of_user("user-c")
    assert cut == {groups.of_user("user-a"): 0}
    assert ids(processed_events(fresh, set(), cut, groups)) == [events[2]["event_id"]]
    assert records_to_retry(fresh, set(), cut, groups) == {0, 1}


def test_parked_events_and_normal_scores_are_not_recorded(deps_and_settings):
    # GIVEN two flagged events, the first parked (its row rejected), and a normal one
    deps, settings = deps_and_settings
    deps.anomalies = anomalies = FailingAnomalies(set())
    deps.alerts = Discard()
    events = [wire_event(n, f"user-{n}") for n in range(3)]
    fresh = validate_records(batch_of(events), BatchOutcome()).valid
    outcome = BatchOutcome()

    # WHEN they are recorded
    cut = record_events(fresh, [None, FLAGGED, NORMAL], {0}, Groups(fresh, {}), deps, settings, NOW, outcome)

    # THEN only the flagged, unparked event's anomaly is written, and nothing is held back
    assert (cut, anomalies.recorded, outcome.anomalies) == ({}, [events[1]["event_id"]], 1)
    assert ids(processed_events(fresh, {0}, cut, Groups(fresh, {}))) == ids(fresh[1:])


def test_events_of_a_user_whose_state_is_not_saved_are_not_counted_and_handed_back(deps_and_settings):
    # GIVEN user-x in records 1 and 2, user-y in record 0, and user-x's item refusing every write
    deps, settings = deps_and_settings
    batch = batch_of([wire_event(0, "user-y"), wire_event(1, "user-x"), wire_event(2, "user-x")])
    deps.states = RefusingUsers(deps.states, {"user-x"})
    fresh, loaded, outcome = loaded_events(batch, deps, settings)
    features = featurize_events(fresh, loaded, deps)
    groups = Groups(fresh, {})

    # WHEN the states are saved
    unsaved = save_states(fresh, fresh, features, EntityStep(), groups, loaded, deps, settings, NOW, outcome)

    # THEN user-x is named unsaved, only user-y's event counts as scored, and user-x's records are
    # handed back
    assert unsaved == {"user-x"}
    assert outcome.scored == 1
    assert outcome.errors == ["state not saved for 1 user(s)"]
    assert records_to_retry(fresh, unsaved, {}, groups) == {1, 2}


def test_the_answer_hands_back_from_the_earliest_failed_record():
    # GIVEN a batch of a plain record, an aggregate of three events, and two plain records
    event = lambda_event(
        [plain(encode_event(wire_event(0)), "k"), aggregate([wire_event(n) for n in (1, 2, 3)])]
        + [plain(encode_event(wire_event(n)), "k") for n in (4, 5)]
    )
    batch = decode_batch(event)

    # WHEN records 3 and 1 failed
    outcome = BatchOutcome(records=4)
    answer(batch, {3, 1}, outcome)
    # THEN the response names record 1 and every record after it, holding five events
    assert outcome.response() == {"batchItemFailures": [{"itemIdentifier": n} for n in sequence_numbers(event)[1:]]}
    assert (outcome.retried_events, outcome.nothing_processed) == (5, False)

    # WHEN the first record failed, THEN nothing was processed
    outcome = BatchOutcome(records=4)
    answer(batch, {0}, outcome)
    assert (outcome.retried_events, outcome.nothing_processed) == (6, True)

    # WHEN nothing failed, THEN nothing is handed back
    outcome = BatchOutcome(records=4)
    answer(batch, set(), outcome)
    assert (outcome.response(), outcome.retried_events) == ({"batchItemFailures": []}, 0)
