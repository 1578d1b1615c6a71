"""One address shared by many users on every shard: the scorer's shards update it at once and lose
nothing, against a replay of the same events in one process.

Each shard's batches run on a thread of their own, the shards at the same time, through the real
scorer (``process_batch``) and its DynamoDB store over moto's server behind the proxy that
throttles any item past its partition's limits. The baseline, the previous release's write of the
address's state (one item, read and written whole by every shard), runs the same batches to show
what the comparison catches.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from typing import Any

import boto3
import pytest

from emulators import dynamodb_limits_proxy
from emulators.proxying import fetch_stats
from local_pipeline.nat import (
    NAT_ADDRESS,
    LastWriterWinsStates,
    compare_with_replay,
    nat_events,
    scan_states,
    shard_of,
)
from scorer.batch import process_batch
from scorer.clients import build_dependencies
from scorer.records import decode_batch
from scorer.settings import ScorerSettings
from tests.scorer_factories import REGION, SuspiciousResourceEndpoint, create_resources, lambda_event, plain
from vedette.events import encode_event

SHARDS = 4
RECORDS_PER_BATCH = 60
_names = itertools.count()


def shard_batches(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Per shard, its users' events in batches of plain records, in order."""
    batches: list[list[dict[str, Any]]] = []
    for shard in range(SHARDS):
        mine = [event for event in events if shard_of(event["user_id"], SHARDS) == shard]
        shard_id = f"shardId-{shard:012d}"
        batches.append(
            [
                lambda_event(
                    [plain(encode_event(event), event["user_id"]) for event in mine[start : start + RECORDS_PER_BATCH]],
                    shard=shard_id,
                )
                for start in range(0, len(mine), RECORDS_PER_BATCH)
            ]
        )
    return batches


def run_shards(endpoint: str, settings: ScorerSettings, events: list[dict[str, Any]], baseline: bool) -> None:
    """Every shard's batches at once, each shard on its own thread and its own clients."""
    errors: list[BaseException] = []

    def shard(batches: list[dict[str, Any]]) -> None:
        deps = build_dependencies(settings, endpoint)
        deps.endpoint = SuspiciousResourceEndpoint()
        if baseline:
            deps.states = LastWriterWinsStates(deps.states)
        try:
            for batch in batches:
                outcome = process_batch(decode_batch(batch), deps, settings)
                assert not outcome.failed_sequence_numbers, outcome.errors
        except BaseException as error:  # noqa: BLE001 - raised in the test's thread below
            errors.append(error)

    threads = [threading.Thread(target=shard, args=(batches,)) for batches in shard_batches(events)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return nat_events(users=400, minutes=2.5)


@pytest.mark.parametrize(
    "directory_size",
    [8, 2],
    ids=["every-shard-in-its-own-item", "two-shards-listed-two-in-hot-items"],
)
def test_shards_updating_one_address_at_once_lose_nothing(
    aws_endpoint: str, events: list[dict[str, Any]], directory_size: int
) -> None:
    # GIVEN 400 users behind one address, on four shards, and the item limits of DynamoDB
    assert len({shard_of(event["user_id"], SHARDS) for event in events}) == SHARDS
    resources = create_resources(aws_endpoint, f"shared-address-{next(_names)}")
    settings = replace(resources.settings, ip_directory_size=directory_size)
    with dynamodb_limits_proxy(aws_endpoint) as proxy:
        # WHEN the four shards' scorers process their batches at the same time
        run_shards(proxy, settings, events, baseline=False)
        stats = fetch_stats(proxy)
    items = scan_states(boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION), settings.state_table)
    figures = compare_with_replay(events, items, directory_size)
    # THEN the address's stored parts merge to the state one process reaches from every event: no
    # update lost, the same users kept, the same counts and per-IP features
    assert figures["events_at_address"] > 2000
    assert figures["updates_lost"] == 0, figures
    assert figures["state_equal"], figures
    assert figures["features_equal"], figures
    assert figures["features"]["ip_distinct_users_24h"] == 32
    # AND a reader of the address (its home and hot items) sees every part; each user's state is the replay's
    assert figures["reader_sees_every_part"], figures
    assert figures["user_states_equal"]
    # AND each shard wrote its own part in an item of its own, and those the home could not list
    # copied it into a hot item
    own = [key for key in items if key.startswith(f"ip#{NAT_ADDRESS}@")]
    hot = [key for key in items if key.startswith(f"ip#{NAT_ADDRESS}#")]
    assert len(own) == SHARDS
    assert len(items[f"ip#{NAT_ADDRESS}"].shards) == min(SHARDS, directory_size)
    assert sum(len(items[key].parts) for key in hot) == SHARDS - min(SHARDS, directory_size)
    # AND no item went past its partition's limits
    assert stats["throttled_calls"] == 0, stats


def test_the_last_writer_wins_baseline_loses_updates(aws_endpoint: str) -> None:
    # GIVEN twice as many users' events (more batches a shard, so that their writes surely overlap),
    # written as the previous release wrote an address: one item, read and written whole by every shard
    events = nat_events(users=800, minutes=2.5)
    resources = create_resources(aws_endpoint, f"shared-address-{next(_names)}")
    run_shards(aws_endpoint, resources.settings, events, baseline=True)
    items = scan_states(
        boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION), resources.settings.state_table
    )
    # WHEN it is compared with the replay THEN the comparison catches the lost updates
    figures = compare_with_replay(events, items, resources.settings.ip_directory_size)
    assert figures["parts"] == 1
    assert figures["updates_lost"] > 0, figures
    assert not figures["state_equal"]
    # AND the users' own states are unaffected (one shard writes each)
    assert figures["user_states_equal"]
