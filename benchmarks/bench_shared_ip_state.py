"""shared_ip_state: one address shared by thousands of users on every shard, through the local pipeline.

``local_pipeline.nat``: 3,000 users behind a carrier-grade NAT, four shards, the real scorer handler
in one process per shard, DynamoDB behind ``emulators.dynamodb_limits`` (any item past 1,000 write
units or 3,000 read units a second is throttled). The address's home lists two shards, so the other
two keep their parts in its hot items: both of the design's paths are measured. Figures: the
updates lost against a replay of the same events in one process (goal 0), whether the state and
the per-IP features are the replay's, the calls throttled, and the hottest item's write units in
any one second against its limit. Baseline in the same run: the previous release's write (one item
per address, read and written whole by every shard: last writer wins), on the same events.

The local run's shards are far fewer than a large deployment's, so the hottest item at 1 million
events/s (550 shards) is computed beside it by ``loadtest.plan`` (its hot key: each hot item takes
the parts of one in ``HOT_ADDRESS_ITEMS`` of the unlisted shards, one write per batch each) with
the largest hot part measured here.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from loadtest.inputs import measured
from loadtest.plan import Deployment, plan
from local_pipeline.nat import NatOptions, announcements_per_event, run_nat_scenario
from scorer.settings import MAX_IP_DIRECTORY_SIZE

OPTIONS = NatOptions(users=3000, minutes=5, shards=4, directory_size=2, rate=1500)
SCALE = 1_000_000  # events/s: 550 shards (docs/capacity.md)


def at_scale(part_bytes: int, directory_size: int) -> dict[str, Any]:
    """The shared address's items at ``SCALE`` (``loadtest.plan``'s hot key, with the part size
    measured here): the hottest item's write and read units a second against the partition's."""
    deployment = Deployment(ip_directory_size=directory_size)
    hot = plan(SCALE, inputs=replace(measured(), ip_part_bytes=float(part_bytes)), deployment=deployment).needs
    figures = dict(hot["hot_key"])
    figures["shards"] = hot["stream"]["shards"]
    figures["write_share_of_limit"] = round(figures["ip_item_write_units_per_second"] / 1000, 3)
    figures["read_share_of_limit"] = round(figures["ip_item_read_units_per_second"] / 3000, 3)
    return figures


def simulated_announcements() -> float:
    """New (address, shard) pairs per event in ``make demo``'s simulated traffic (600 users, its
    training days, two shards): the announcements the scorer makes in steady traffic."""
    from datetime import timedelta

    from traffic.simulator import Simulator

    events = (event for event, _ in Simulator(seed=7, users=600, attack_share=0.0).events(duration=timedelta(days=4)))
    return round(announcements_per_event(events, 2), 4)


def main() -> None:
    ours = run_nat_scenario(OPTIONS)
    baseline = run_nat_scenario(replace(OPTIONS, last_writer_wins=True))
    limit = ours["write_units_limit_per_item"]

    def figures(run: dict[str, Any]) -> dict[str, Any]:
        return {
            "updates_lost": run["updates_lost"],
            "share_lost": round(run["updates_lost"] / max(1, run["events_at_address"]), 4),
            "state_equal": run["state_equal"],
            "features_equal": run["features_equal"],
            "user_states_equal": run["user_states_equal"],
            "throttled_calls": run["throttled_calls"],
            "hottest_item": run["hottest_item"],
            "hottest_item_write_units_per_second": run["hottest_item_write_units_per_second"],
            "hottest_item_share_of_limit": round(run["hottest_item_write_units_per_second"] / limit, 4),
            "hottest_item_read_units_per_second": run["hottest_read_units_per_second"],
            "seconds": run["seconds"],
            "errors": run["errors"],
        }

    part = int(ours["hot_part_bytes_without_users"] or 0)
    print(
        json.dumps(
            {
                "bench": "shared_ip_state",
                "users": OPTIONS.users,
                "shards": OPTIONS.shards,
                "directory_size": OPTIONS.directory_size,
                "events": ours["events"],
                "events_at_address": ours["events_at_address"],
                "goal_updates_lost": 0,
                **figures(ours),
                "write_units_limit_per_item": limit,
                "hot_part_bytes_without_users": part,
                "announcements_per_event_in_simulated_traffic": simulated_announcements(),
                "at_one_million_events_per_second": at_scale(part, Deployment().ip_directory_size),
                "at_one_million_events_per_second_widest_home": at_scale(part, MAX_IP_DIRECTORY_SIZE),
                "baseline": {"name": "last writer wins (the previous release's write)", **figures(baseline)},
            }
        )
    )


if __name__ == "__main__":
    main()
