"""Training's user sample: bounded memory, whole users, the same users in every run."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from archive import ArchivePart, ArchiveWriter
from model import sample, train
from model.features import stable_hash
from model.sampling import HASH_LIMIT, read_parts, sample_users
from tests.model_factories import normal_traffic


def test_a_cap_keeps_whole_users_and_bounds_the_events() -> None:
    # GIVEN 200 users' traffic, and a cap at about a quarter of it
    events = normal_traffic(users=200, days=5)
    per_user = Counter(event["user_id"] for event in events)
    cap = len(events) // 4
    # WHEN it is sampled from a stream
    sample = sample_users(iter(events), cap)
    # THEN no more than the cap is kept, every kept user whole, in time order
    kept = Counter(event["user_id"] for _, _, event in sample.ordered)
    assert 0 < len(sample.ordered) <= cap
    assert all(count == per_user[user] for user, count in kept.items())
    assert [moment for moment, _, _ in sample.ordered] == sorted(moment for moment, _, _ in sample.ordered)
    assert sample.events_read == len(events)
    assert sample.users_kept == len(kept)
    assert 0.1 < sample.to_json(cap)["user_share"] < 0.3
    # AND the same users in another run over the same stream
    assert {event["user_id"] for _, _, event in sample_users(iter(events), cap).ordered} == set(kept)


def test_without_reaching_the_cap_every_event_is_kept() -> None:
    events = normal_traffic(users=20, days=2)
    sample = sample_users(events, len(events))
    assert len(sample.ordered) == len(events)
    assert sample.to_json(len(events))["user_share"] == 1.0
    with pytest.raises(ValueError, match="max_events"):
        sample_users(events, 0)


def test_memory_is_bounded_by_the_users_kept_not_the_users_read() -> None:
    import tracemalloc

    def one_event_users(count: int):  # type: ignore[no-untyped-def]
        for number in range(count):
            yield {"user_id": f"visitor-{number:07d}", "occurred_at": "2026-11-02T00:00:00.000000Z"}

    # GIVEN ten and a hundred times more one-event users than the cap
    peaks = []
    for count in (10_000, 100_000):
        tracemalloc.start()
        sample = sample_users(one_event_users(count), 1_000)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert len(sample.ordered) <= 1_000
    # THEN reading ten times more users costs well under ten times the memory
    assert peaks[1] < 3 * peaks[0]


def write_archive(folder: Path, events: list[dict[str, Any]]) -> None:
    """The archive as Firehose lays it out: objects of a minute of arrivals each."""
    with ArchiveWriter(folder, buffer_seconds=60) as writer:
        for event in sorted(events, key=lambda item: item["occurred_at"]):
            writer.put_event(event)


def test_archive_parts_are_disjoint_and_together_hold_every_object() -> None:
    keys = [f"events/2026/11/02/{hour:02d}/vedette-archive-1-{n}.gz" for hour in range(24) for n in range(20)]
    owners = [[str(part) for part in map(ArchivePart.parse, ("0/3", "1/3", "2/3")) if part.holds(key)] for key in keys]
    assert all(len(owner) == 1 for owner in owners)
    assert {owner[0] for owner in owners} == {"0/3", "1/3", "2/3"}
    for bad in ("3/3", "1", "a/2", "0/0", "-1/2"):
        with pytest.raises(ValueError, match="part"):
            ArchivePart.parse(bad)


def test_workers_sampling_parts_of_the_archive_merge_into_one_whole_user_sample(tmp_path: Path) -> None:
    # GIVEN an archive of 150 users over four days, in many objects
    events = normal_traffic(users=150, days=4)
    write_archive(tmp_path / "archive", events)
    user_hash = {user: stable_hash(user) for user in {event["user_id"] for event in events}}
    cap = len(events) // 5
    # WHEN three workers each sample their part with the training cap (each over it: each shrinks)
    for index in range(3):
        assert sample.main(["--archive", str(tmp_path / "archive"), "--out", str(tmp_path / "parts"),
                            "--part", f"{index}/3", "--max-events", str(cap)]) == 0  # fmt: skip
    parts = read_parts(tmp_path / "parts")
    assert parts is not None
    assert parts.events_read == len(events)
    assert all(manifest["hash_cutoff"] < HASH_LIMIT for manifest in parts.manifests)
    # AND training samples their merge from the lowest cutoff
    merged = sample_users(parts.events(), cap, parts.hash_cutoff)
    # THEN it is exactly every event of the users below the final cutoff, as one machine keeps them
    expected = sorted(event["event_id"] for event in events if user_hash[event["user_id"]] < merged.hash_cutoff)
    assert sorted(event["event_id"] for _, _, event in merged.ordered) == expected
    assert 0 < len(expected) <= cap
    assert merged.hash_cutoff <= parts.hash_cutoff
    one_machine = sample_users(events, cap)
    # AND both are the users below a cutoff, so the smaller sample is within the larger
    ours = {event["user_id"] for _, _, event in merged.ordered}
    theirs = {event["user_id"] for _, _, event in one_machine.ordered}
    assert ours <= theirs or theirs <= ours
    assert abs(len(ours) - len(theirs)) <= 0.5 * len(theirs)


def test_under_the_cap_parts_give_the_same_sample_as_one_machine(tmp_path: Path) -> None:
    events = normal_traffic(users=30, days=2)
    write_archive(tmp_path / "archive", events)
    for index in range(2):
        sample.main(["--archive", str(tmp_path / "archive"), "--out", str(tmp_path / "parts"), "--part", f"{index}/2"])
    parts = read_parts(tmp_path / "parts")
    assert parts is not None
    merged = sample_users(parts.events(), len(events), parts.hash_cutoff)
    single = sample_users(events, len(events))
    assert [event["event_id"] for _, _, event in merged.ordered] == [
        event["event_id"] for _, _, event in single.ordered
    ]


def test_training_on_parts_refuses_an_incomplete_set_and_records_the_split(tmp_path: Path, capsys) -> None:
    # GIVEN two of three parts
    events = normal_traffic(users=40, days=3)
    write_archive(tmp_path / "archive", events)
    for index in (0, 2):
        sample.main(["--archive", str(tmp_path / "archive"), "--out", str(tmp_path / "parts"), "--part", f"{index}/3"])
    # WHEN training reads them THEN it refuses, naming the missing part
    assert train.main(["--train", str(tmp_path / "parts"), "--model-dir", str(tmp_path / "model")]) == 2
    assert "3 parts expected, part(s) [1] missing" in capsys.readouterr().err
    # AND with the third it trains, on the archive's events, and records how they were read
    sample.main(["--archive", str(tmp_path / "archive"), "--out", str(tmp_path / "parts"), "--part", "1/3"])
    assert train.main(["--train", str(tmp_path / "parts"), "--model-dir", str(tmp_path / "model")]) == 0
    metadata = json.loads((tmp_path / "model" / "metadata.json").read_text())
    assert metadata["sampling"]["parts"] == 3
    assert metadata["sampling"]["events_read"] == len(events)
    assert metadata["sampling"]["events_kept"] == len(events)


def test_a_worker_in_a_processing_job_takes_its_place_among_the_hosts(tmp_path: Path) -> None:
    config = tmp_path / "resourceconfig.json"
    config.write_text(json.dumps({"current_host": "algo-3", "hosts": ["algo-2", "algo-1", "algo-3"]}))
    assert str(sample.part_of_this_host(config)) == "2/3"
    assert str(sample.part_of_this_host(tmp_path / "absent.json")) == "0/1"


def write_partitioned_archive(folder: str | Path, events: list[dict[str, Any]], buckets: int, **options: Any) -> None:
    """The archive as Firehose lays it out with dynamic partitioning: each event in the bucket the
    partitioner gives it, objects of a minute of arrivals per bucket."""
    from archive import USER_HASH_PREFIX
    from archive_partitioner.handler import partition_keys_of

    with ArchiveWriter(folder, prefix=USER_HASH_PREFIX, buffer_seconds=60, **options) as writer:
        for event in sorted(events, key=lambda item: item["occurred_at"]):
            writer.put_event(event, partition_keys=partition_keys_of(event, buckets))


def upload_folder(s3: Any, folder: Path, bucket: str, prefix: str) -> None:
    """Every file under ``folder`` to ``s3://bucket/prefix`` at the same relative key, several at once
    (the archive of one-minute objects is a thousand small files: one at a time, the test's slowest step)."""
    from concurrent.futures import ThreadPoolExecutor

    files = [path for path in folder.rglob("*") if path.is_file()]
    with ThreadPoolExecutor(max_workers=8) as pool:
        uploads = [
            pool.submit(
                s3.put_object, Bucket=bucket, Key=prefix + path.relative_to(folder).as_posix(), Body=path.read_bytes()
            )
            for path in files
        ]
        for upload in uploads:
            upload.result()


def all_objects(location: str | Path, **options: Any) -> int:
    from archive import list_window

    return sum(1 for _ in list_window(location, **options))


def sample_with_workers(archive: str, out: Path, parts: int, cap: int, *extra: str) -> list[dict[str, Any]]:
    """``python -m model.sample`` as ``parts`` workers; their printed summaries."""
    import contextlib
    import io

    summaries = []
    for index in range(parts):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert sample.main(["--archive", archive, "--out", str(out), "--part", f"{index}/{parts}",
                                "--max-events", str(cap), *extra]) == 0  # fmt: skip
        summaries.append(json.loads(printed.getvalue().splitlines()[-1]))
    return summaries


def test_on_a_hash_partitioned_archive_workers_read_only_the_low_buckets_and_the_sample_stays_exact(
    tmp_path: Path,
) -> None:
    # GIVEN 400 users over five days, archived by user hash in 64 buckets
    events = normal_traffic(users=400, days=5)
    write_partitioned_archive(tmp_path / "archive", events, 64)
    user_hash = {user: stable_hash(user) for user in {event["user_id"] for event in events}}
    listed = all_objects(tmp_path / "archive")
    cap = len(events) // 40
    # WHEN two workers sample it for a small cap
    summaries = sample_with_workers(str(tmp_path / "archive"), tmp_path / "parts", 2, cap)
    parts = read_parts(tmp_path / "parts")
    assert parts is not None
    merged = sample_users(parts.events(), cap, parts.hash_cutoff)
    # THEN the sample is exactly every archived event of the users below its cutoff
    expected = sorted(event["event_id"] for event in events if user_hash[event["user_id"]] < merged.hash_cutoff)
    assert sorted(event["event_id"] for _, _, event in merged.ordered) == expected
    assert 0 < len(expected) <= cap
    # AND both workers chose the same buckets, whose upper boundary bounds the cutoff
    chosen = {(summary["objects_chosen"], summary["bucket_cutoff_share"]) for summary in summaries}
    assert len(chosen) == 1
    ((objects_chosen, cutoff_share),) = chosen
    assert merged.hash_cutoff <= cutoff_share * HASH_LIMIT < HASH_LIMIT
    # AND between them they read each chosen object once: far fewer than the archive holds
    assert sum(summary["objects"] for summary in summaries) == objects_chosen
    assert summaries[0]["objects_listed"] == listed
    assert objects_chosen < listed / 4
    assert parts.events_read < len(events) / 4


def test_a_sample_needing_every_bucket_reads_them_all_and_equals_the_time_only_sample(tmp_path: Path) -> None:
    # GIVEN the same events archived in both layouts
    events = normal_traffic(users=60, days=3)
    write_archive(tmp_path / "time-only", events)
    write_partitioned_archive(tmp_path / "by-hash", events, 8)
    # WHEN each is sampled with a cap above the archive
    for layout in ("time-only", "by-hash"):
        sample_with_workers(str(tmp_path / layout), tmp_path / f"parts-{layout}", 1, 10 * len(events))
    samples = {layout: read_parts(tmp_path / f"parts-{layout}") for layout in ("time-only", "by-hash")}
    # THEN both hold every event, below the whole hash range
    for parts in samples.values():
        assert parts is not None
        assert parts.hash_cutoff == HASH_LIMIT
        assert sorted(event["event_id"] for event in parts.events()) == sorted(event["event_id"] for event in events)


def test_an_archive_switched_to_hash_partitions_mid_window_still_samples_exactly(tmp_path: Path) -> None:
    # GIVEN four days archived time-only, then three days by hash in 32 buckets
    events = normal_traffic(users=300, days=7)
    switch = "2026-11-06T00:00:00.000000Z"
    write_archive(tmp_path / "archive", [event for event in events if event["occurred_at"] < switch])
    write_partitioned_archive(tmp_path / "archive", [event for event in events if event["occurred_at"] >= switch], 32)
    user_hash = {user: stable_hash(user) for user in {event["user_id"] for event in events}}
    cap = len(events) // 30
    # WHEN it is sampled, THEN every time-only object is read, and the sample is exact
    (summary,) = sample_with_workers(str(tmp_path / "archive"), tmp_path / "parts", 1, cap)
    parts = read_parts(tmp_path / "parts")
    assert parts is not None
    kept = sorted(event["event_id"] for event in parts.events())
    assert kept == sorted(event["event_id"] for event in events if user_hash[event["user_id"]] < parts.hash_cutoff)
    time_only = sum(1 for key in (tmp_path / "archive").rglob("*.gz") if "user_hash=" not in str(key))
    assert time_only < summary["objects"] < summary["objects_listed"]


def test_buckets_of_small_objects_are_read_far_enough_for_a_full_sample(tmp_path: Path) -> None:
    # GIVEN a low-volume archive in 1,024 buckets: objects of an event or two, each costing GZIP's
    # overhead on top of its events (about 200 B an event instead of the 57.4 B of large objects)
    events = normal_traffic(users=400, days=5)
    write_partitioned_archive(tmp_path / "archive", events, 1024)
    cap = len(events) // 20
    # WHEN a worker samples it for that cap
    (summary,) = sample_with_workers(str(tmp_path / "archive"), tmp_path / "parts", 1, cap)
    parts = read_parts(tmp_path / "parts")
    assert parts is not None
    # THEN the buckets it chose held more than the cap, so the cap (not the buckets read) set the
    # sample's cutoff: a choice by bytes at 57.4 B an event read 323 events and kept them all
    assert summary["events_read"] > cap
    assert parts.hash_cutoff < summary["bucket_cutoff_share"] * HASH_LIMIT
    # AND it still read only part of the archive, and the sample is exact
    assert summary["objects"] < summary["objects_listed"] / 2
    user_hash = {user: stable_hash(user) for user in {event["user_id"] for event in events}}
    kept = sorted(event["event_id"] for event in parts.events())
    assert kept == sorted(event["event_id"] for event in events if user_hash[event["user_id"]] < parts.hash_cutoff)


def test_on_moto_s3_a_partitioned_archive_is_sampled_from_its_low_buckets(aws_endpoint: str, tmp_path: Path) -> None:
    import boto3

    # GIVEN a hash-partitioned archive in a bucket on moto's S3 server
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="sampling-by-hash")
    events = normal_traffic(users=300, days=1)
    write_partitioned_archive(tmp_path / "staged", events, 32)
    upload_folder(s3, tmp_path / "staged", "sampling-by-hash", "history/")
    user_hash = {user: stable_hash(user) for user in {event["user_id"] for event in events}}
    cap = len(events) // 30
    # WHEN a worker samples it through S3 (the listing's sizes choose the buckets)
    (summary,) = sample_with_workers("s3://sampling-by-hash/history", tmp_path / "parts", 1, cap,
                                     "--endpoint-url", aws_endpoint)  # fmt: skip
    parts = read_parts(tmp_path / "parts")
    assert parts is not None
    # THEN it read a few buckets' objects, and kept exactly the users below its cutoff
    assert summary["objects"] < summary["objects_listed"] / 4
    assert summary["objects_listed"] == all_objects("s3://sampling-by-hash/history", s3_client=s3)
    kept = sorted(event["event_id"] for event in parts.events())
    assert kept
    assert kept == sorted(event["event_id"] for event in events if user_hash[event["user_id"]] < parts.hash_cutoff)


def test_training_reads_a_partitioned_archive_from_its_low_buckets_too(tmp_path: Path) -> None:
    # GIVEN a hash-partitioned archive
    events = normal_traffic(users=400, days=5)
    write_partitioned_archive(tmp_path / "archive", events, 64)
    listed = all_objects(tmp_path / "archive")
    # WHEN the training job reads it itself (no sampling instances) with a small cap
    cap = len(events) // 40
    assert train.main(["--train", str(tmp_path / "archive"), "--model-dir", str(tmp_path / "model"),
                       "--max-events", str(cap), "--geo", "synthetic", "--agents", "none"]) == 0  # fmt: skip
    # THEN it opened a few buckets' objects, and recorded what it chose
    archive = json.loads((tmp_path / "model" / "metadata.json").read_text())["archive"]
    assert archive["objects"] == archive["objects_chosen"] < listed / 4
    assert archive["objects_listed"] == listed


def test_choosing_buckets_in_passes_never_raises_the_cutoff_above_buckets_it_forgot(monkeypatch) -> None:
    # GIVEN one hour of 128 user-hash buckets, one object each, listed in key order, and a sample
    # whose margin the first five buckets' estimated events hold exactly
    from archive.layout import user_hash_bucket_start, user_hash_partition_value
    from archive.reader import ArchiveObject
    from model import sampling

    width = HASH_LIMIT // 128
    size = 900 + 100 * 57.4  # about 100 events an object, by estimated_events
    listing = [
        ArchiveObject(
            f"events/2026/11/02/09/user_hash={user_hash_partition_value(user_hash_bucket_start(n * width, 128))}/"
            f"vedette-archive-1-2026-11-02-09-58-30-00000000-0000-0000-0000-{n:012d}.gz",
            int(size),
        )
        for n in range(128)
    ]
    per_object = sampling.estimated_events(int(size))
    max_events = int(5 * per_object / sampling.READ_MARGIN)

    # WHEN the choice is made in one pass, and in passes that forget the buckets above each cutoff
    whole = sampling.choose_objects(listing, max_events)
    monkeypatch.setattr(sampling, "_PRUNE_EVERY", 50)
    in_passes = sampling.choose_objects(listing, max_events)

    # THEN both read the same low buckets and sample below the same cutoff, the first bucket left out
    # (before the fix, the later pass found no bucket left to reach the target and gave HASH_LIMIT)
    assert whole.hash_cutoff == 5 * width
    assert in_passes.hash_cutoff == whole.hash_cutoff
    assert (
        [item.key for item in in_passes.objects]
        == [item.key for item in whole.objects]
        == [item.key for item in listing[:5]]
    )
