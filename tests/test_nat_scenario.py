"""A carrier-grade NAT through the local pipeline (``local_pipeline.nat``): the real scorer handler,
one process per shard, fed by the local event source mapping from kinesalite, DynamoDB behind the
proxy that throttles an item past its partition's limits. The state table is compared with a replay
of the same events in one process."""

from __future__ import annotations

from local_pipeline.nat import NatOptions, run_nat_scenario


def test_a_carrier_grade_nat_through_the_local_pipeline_loses_no_update() -> None:
    # GIVEN 800 users behind one address, on four shards, whose home lists two of them (the other
    # two keep their parts in the address's hot items), and batches of at most ten aggregated
    # records (on a busy machine the stack's 500 took each shard's events in two batches)
    options = NatOptions(users=800, minutes=3, shards=4, directory_size=2, rate=1000, batch_size=10)

    # WHEN their events go through the pipeline, the shards' scorers running at once
    figures = run_nat_scenario(options)

    # THEN every event is scored, and the stored parts of the address merge to the state one process
    # reaches from the same events: no update lost, the same users, counts and per-IP features
    assert figures["errors"] == []
    assert figures["scored"] == figures["events"]
    assert figures["invocations"] > 2 * options.shards  # several batches a shard: their writes overlapped
    assert figures["events_at_address"] > 5_000
    assert figures["updates_lost"] == 0, figures
    assert figures["state_equal"], figures
    assert figures["features_equal"], figures
    assert figures["reader_sees_every_part"], figures
    # AND every user's state is the replay's, byte for byte
    assert figures["user_states_equal"]
    # AND the proxy that throttles any item past 1,000 write units (3,000 read units) a second
    # throttled nothing
    assert figures["write_units_limit_per_item"] == 1000
    assert figures["throttled_calls"] == 0, figures
