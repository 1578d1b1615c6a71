"""SQL over the archive with DuckDB (archive.sql): the table, partition pruning, formats, errors, S3."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from archive import ArchiveWriter, iter_records, sql
from archive.table import EVENT_COLUMNS, PARTITION_COLUMNS, projection_properties, storage_location_template
from traffic.simulator import Simulator
from vedette.events import FIELDS

START = datetime(2026, 11, 2, tzinfo=UTC)
OBJECT_NAME = "vedette-archive-1-2026-11-02-05-00-00-00000000-0000-0000-0000-000000000001.gz"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """Six simulated hours archived as Firehose lays them out; returns the root and the events written."""
    root = tmp_path_factory.mktemp("archive")
    written = 0
    with ArchiveWriter(root, buffer_seconds=300) as writer:
        for event, _label in Simulator(seed=3, users=1000, start=START).events(duration=timedelta(hours=6)):
            writer.put_event(event)
            written += 1
    return root, written


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = sql.main(list(argv), out=out)
    return status, out.getvalue()


def test_count_is_the_number_of_events_written(simulated: tuple[Path, int]) -> None:
    # GIVEN a simulated archive WHEN the CLI counts the events as CSV
    root, written = simulated
    status, output = run("--archive", str(root), "--format", "csv", "SELECT count(*) AS events FROM events")
    # THEN it answers with every event written
    assert status == 0
    assert list(csv.reader(io.StringIO(output))) == [["events"], [str(written)]]
    assert written > 1000


def test_events_has_the_contract_columns_then_the_time_partitions(simulated: tuple[Path, int]) -> None:
    connection = sql.connect(simulated[0])
    try:
        described = sql.query(connection, "DESCRIBE events").rows
    finally:
        connection.close()
    assert [row[0] for row in described] == [*FIELDS, "year", "month", "day", "hour"]
    assert [row[1] for row in described] == [c.duckdb_type for c in (*EVENT_COLUMNS, *PARTITION_COLUMNS)]


def test_a_filter_on_one_hour_opens_only_that_hours_objects(simulated: tuple[Path, int]) -> None:
    # GIVEN the archive's objects of 02:00-03:00 UTC, read with the project's Python reader
    root, _ = simulated
    hour_start = START + timedelta(hours=2)
    expected = sum(1 for _ in iter_records(root, hour_start, hour_start + timedelta(hours=1)))
    stats = sql.ScanStats()
    connection = sql.connect(root, stats=stats)
    # WHEN a query filters on that hour's partitions
    try:
        (row,) = sql.query(
            connection, "SELECT count(*) FROM events WHERE year = 2026 AND month = 11 AND day = 2 AND hour = 2"
        ).rows
    finally:
        connection.close()
    # THEN only that hour's objects were opened, of every object listed, and all their records counted
    assert row == (expected,)
    hour_objects = sorted(path.relative_to(root).as_posix() for path in (root / "events/2026/11/02/02").iterdir())
    assert sorted(stats.opened) == hour_objects
    assert stats.objects_listed > len(hour_objects) > 0


def test_partition_values_are_the_hour_in_each_objects_key(simulated: tuple[Path, int]) -> None:
    connection = sql.connect(simulated[0])
    try:
        rows = sql.query(
            connection, "SELECT DISTINCT year, month, day, hour, substr(occurred_at, 1, 13) FROM events ORDER BY hour"
        ).rows
    finally:
        connection.close()
    # An object is filed under its oldest record's arrival hour (the writer's arrival is occurred_at),
    # and a buffer started before the hour's end holds events of the next hour too.
    assert sorted({row[:4] for row in rows}) == [(2026, 11, 2, hour) for hour in range(6)]
    for year, month, day, hour, occurred_hour in rows:
        partition = datetime(year, month, day, hour, tzinfo=UTC)
        occurred = datetime.fromisoformat(occurred_hour + ":00:00+00:00")
        assert occurred in (partition, partition + timedelta(hours=1))


def test_json_format_prints_one_object_per_row_with_properties_as_an_object(simulated: tuple[Path, int]) -> None:
    status, output = run(
        "--archive",
        str(simulated[0]),
        "--format",
        "json",
        "SELECT event_type, status, properties FROM events WHERE properties['method'] = 'POST' LIMIT 3",
    )
    rows = [json.loads(line) for line in output.splitlines()]
    assert status == 0
    assert len(rows) == 3
    assert all(row["properties"]["method"] == "POST" and isinstance(row["status"], str) for row in rows)


def test_table_format_is_a_terminal_table_with_the_answer(simulated: tuple[Path, int]) -> None:
    root, written = simulated
    status, output = run("--archive", str(root), "SELECT count(*) AS events FROM events")
    assert status == 0
    assert "events" in output
    assert str(written) in output
    assert output.count("\n") >= 4  # box rules, header, type, value


def test_a_line_that_is_not_json_is_a_row_of_nulls_not_a_failure(tmp_path: Path) -> None:
    # GIVEN one object holding two events and a line a legacy writer broke
    key = tmp_path / "events/2026/11/02/05" / OBJECT_NAME
    key.parent.mkdir(parents=True)
    good = b'{"schema_version":1,"event_id":"e1","occurred_at":"2026-11-02T05:00:00.000000Z","event_type":"x"}'
    key.write_bytes(gzip.compress(good + b"\nnot json\n" + good.replace(b"e1", b"e2") + b"\n"))
    # WHEN the archive is queried THEN every record is counted and the broken one has no event_id
    status, output = run(
        "--archive", str(tmp_path), "--format", "csv", "SELECT count(*), count(event_id), max(hour) FROM events"
    )
    assert status == 0
    assert output.splitlines()[1] == "3,2,5"


def test_an_empty_archive_is_an_empty_table(tmp_path: Path) -> None:
    status, output = run("--archive", str(tmp_path), "--format", "csv", "SELECT count(*) AS n FROM events")
    assert (status, output) == (0, "n\n0\n")


def test_a_failing_query_or_location_is_one_line_naming_the_reason(
    simulated: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("--archive", str(simulated[0]), "SELECT nope FROM events")[0] == 2
    assert '"nope" not found' in capsys.readouterr().err
    assert run("--archive", "ftp://host/x", "SELECT 1")[0] == 2
    assert "only local folders and s3:// URLs" in capsys.readouterr().err


def test_keys_outside_the_layout_are_skipped_and_counted(tmp_path: Path) -> None:
    (tmp_path / "events/2026/11/02/05").mkdir(parents=True)
    (tmp_path / "events/2026/11/02/05/notes.txt").write_text("x")
    stats = sql.ScanStats()
    sql.connect(tmp_path, stats=stats).close()
    assert (stats.objects_listed, stats.skipped_keys) == (0, 1)


def test_glue_projection_and_the_local_hive_paths_name_the_same_key_prefix() -> None:
    # GIVEN the partition values DuckDB reads from a key's Hive-style path
    hive = sql.hive_path(f"events/2026/11/02/05/{OBJECT_NAME}")
    assert hive == f"events/year=2026/month=11/day=02/hour=05/{OBJECT_NAME}"
    values = dict(folder.split("=") for folder in hive.split("/")[1:5])
    # WHEN Athena fills its storage location template with them
    template = storage_location_template("s3://bucket/")
    for name, value in values.items():
        template = template.replace(f"${{{name}}}", value)
    # THEN it lists the same prefix Firehose wrote, zero-padded as the projection says
    assert template == "s3://bucket/events/2026/11/02/05/"
    properties = projection_properties("s3://bucket/")
    assert [properties[f"projection.{name}.digits"] for name in values] == ["4", "2", "2", "2"]
    assert sql.hive_path(f"errors/processing-failed/2026/11/02/05/{OBJECT_NAME}") is None


@pytest.fixture
def s3_archive(aws_endpoint: str, simulated: tuple[Path, int]) -> tuple[str, Any]:
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="sql-archive")
    root = simulated[0]
    for path in sorted(root.rglob("*.gz")):
        s3.put_object(Bucket="sql-archive", Key="raw/" + path.relative_to(root).as_posix(), Body=path.read_bytes())
    return "s3://sql-archive/raw", s3


def test_an_s3_archive_answers_like_the_folder(
    s3_archive: tuple[str, Any], simulated: tuple[Path, int], aws_endpoint: str
) -> None:
    # GIVEN the same objects in a bucket on moto's S3 over HTTP
    url, _ = s3_archive
    question = "SELECT event_type, count(*) AS n FROM events WHERE hour BETWEEN 1 AND 2 GROUP BY 1 ORDER BY 1"
    # WHEN the CLI queries the bucket and the folder
    status, from_s3 = run("--archive", url, "--endpoint-url", aws_endpoint, "--format", "csv", question)
    _, from_folder = run("--archive", str(simulated[0]), "--format", "csv", question)
    # THEN the answers are the same
    assert status == 0
    assert from_s3 == from_folder
    assert len(from_s3.splitlines()) > 2


def test_the_events_table_reads_both_layouts_and_athena_projects_the_user_hash_buckets(tmp_path: Path) -> None:
    # GIVEN an hour archived time-only and the next by user hash
    from archive import USER_HASH_PREFIX
    from archive.table import USER_HASH_TABLE_NAME
    from tests.conftest import make_event
    from vedette.events import normalize_event

    events = [normalize_event(make_event(n, occurred_at=f"2026-11-02T0{5 + n % 2}:00:{n:02d}.000000Z"))
              for n in range(20)]  # fmt: skip
    with ArchiveWriter(tmp_path) as time_only, ArchiveWriter(tmp_path, prefix=USER_HASH_PREFIX) as by_hash:
        for n, event in enumerate(events):
            if n % 2:
                by_hash.put_event(event, partition_keys={"user_hash": f"{(n % 4) * 2**30:010d}"})
            else:
                time_only.put_event(event)
    # WHEN DuckDB counts each hour
    connection = sql.connect(tmp_path)
    rows = sql.query(connection, "SELECT hour, count(*) FROM events GROUP BY 1 ORDER BY 1").rows
    # THEN both hours are read, the hash-partitioned one under its hour
    assert rows == [(5, 10), (6, 10)]
    assert sql.hive_path(f"events/2026/11/02/06/user_hash=1073741824/{OBJECT_NAME}") == (
        f"events/year=2026/month=11/day=02/hour=06/{OBJECT_NAME}"
    )
    # AND Athena's table by user hash lists each bucket's folder, projected from the bucket count
    properties = projection_properties("s3://bucket/", 4)
    assert properties["storage.location.template"] == (
        "s3://bucket/events/${year}/${month}/${day}/${hour}/user_hash=${user_hash}/"
    )
    assert (properties["projection.user_hash.range"], properties["projection.user_hash.interval"]) == (
        f"0,{3 * 2**30}", str(2**30),
    )  # fmt: skip
    assert properties["projection.user_hash.digits"] == "10"
    assert USER_HASH_TABLE_NAME != "events"
    with pytest.raises(ValueError, match="power of two"):
        projection_properties("s3://bucket/", 3)
