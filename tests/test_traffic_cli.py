"""``python -m traffic`` as a user runs it: in a subprocess, from the repository root."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from archive import iter_events
from archive.layout import FIREHOSE_PREFIX, arrival_of_key, evaluate_prefix
from tests.conftest import read_stream
from tests.test_importer import COMBINED_SAMPLE
from vedette.events import parse_timestamp

ROOT = Path(__file__).resolve().parent.parent


def traffic(*args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "traffic", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_help_describes_both_commands() -> None:
    assert "simulate" in traffic("--help").stdout
    simulate = traffic("simulate", "--help").stdout
    for option in ("--events", "--seed", "--attack-share", "--labels", "--episodes", "--archive", "--stream", "--rate"):
        assert option in simulate
    importer = traffic("import", "--help").stdout
    for option in ("--format", "--log-format", "--time-format", "--archive", "--report"):
        assert option in importer


def test_simulate_writes_events_labels_and_episodes_deterministically(tmp_path: Path) -> None:
    # GIVEN two runs with the same seed
    for run in ("a", "b"):
        traffic(
            "simulate",
            "--events=3000",
            "--seed=9",
            "--users=300",
            "--attack-share=0.04",
            f"--output={tmp_path / run}.jsonl",
            f"--labels={tmp_path / run}.labels",
            f"--episodes={tmp_path / run}.episodes",
        )
    # THEN the files are identical
    for suffix in ("jsonl", "labels", "episodes"):
        assert (tmp_path / f"a.{suffix}").read_bytes() == (tmp_path / f"b.{suffix}").read_bytes()
    events = read_jsonl(tmp_path / "a.jsonl")
    labels = read_jsonl(tmp_path / "a.labels")
    episodes = read_jsonl(tmp_path / "a.episodes")
    assert len(events) == 3000
    # AND labels point at events, with the episode they belong to, and nothing else
    ids = {event["event_id"] for event in events}
    assert labels
    assert all(set(label) == {"event_id", "scenario", "episode_id"} and label["event_id"] in ids for label in labels)
    assert {label["episode_id"] for label in labels} <= {episode["episode_id"] for episode in episodes}
    assert 0.02 < len(labels) / len(events) < 0.06


def test_simulate_into_the_archive_reads_back_the_same_events(tmp_path: Path) -> None:
    traffic("simulate", "--events=2000", "--seed=4", f"--output={tmp_path / 'events.jsonl'}")
    traffic("simulate", "--events=2000", "--seed=4", f"--archive={tmp_path / 'archive'}")
    assert list(iter_events(tmp_path / "archive")) == read_jsonl(tmp_path / "events.jsonl")


def test_simulate_pushes_through_the_producer_to_a_stream(
    kinesis_endpoint: str, kinesis: Any, make_stream: Callable[[int], str]
) -> None:
    stream = make_stream(2)
    result = traffic("simulate", "--events=400", "--seed=2", f"--stream={stream}", f"--endpoint-url={kinesis_endpoint}")
    assert "400 event(s)" in result.stderr
    expected = traffic("simulate", "--events=400", "--seed=2").stdout.splitlines()
    stored = sorted(record.data.decode() for record in read_stream(kinesis, stream))
    assert stored == sorted(expected)


def test_missing_stream_and_bucket_fail_fast_with_one_line(aws_endpoint: str, kinesis_endpoint: str) -> None:
    stream = traffic(
        "simulate", "--events=50", "--stream=no-such-stream", f"--endpoint-url={kinesis_endpoint}", check=False
    )
    assert stream.returncode == 1
    assert "simulate: stream 'no-such-stream'" in stream.stderr
    assert "ResourceNotFoundException" in stream.stderr
    bucket = traffic(
        "simulate", "--events=50", "--archive=s3://no-such-bucket", f"--endpoint-url={aws_endpoint}", check=False
    )
    assert bucket.returncode == 1
    assert "bucket not reachable" in bucket.stderr
    assert "Traceback" not in stream.stderr + bucket.stderr


def test_rate_paces_the_output() -> None:
    started = time.monotonic()
    result = traffic("simulate", "--events=60", "--rate=200")
    assert len(result.stdout.splitlines()) == 60
    assert time.monotonic() - started >= 60 / 200 * 0.9


def test_speed_paces_on_the_simulated_clock() -> None:
    # 10 simulated minutes at 600 simulated seconds per second take at least a second.
    started = time.monotonic()
    result = traffic("simulate", "--duration=10m", "--users=3000", "--speed=600")
    assert result.stdout.splitlines()
    assert time.monotonic() - started >= 0.9 * (
        (
            parse_timestamp(json.loads(result.stdout.splitlines()[-1])["occurred_at"])
            - parse_timestamp(json.loads(result.stdout.splitlines()[0])["occurred_at"])
        ).total_seconds()
        / 600
    )


def test_import_writes_exactly_what_firehose_would(tmp_path: Path) -> None:
    # GIVEN a combined log spanning two hours, with odd lines
    log = tmp_path / "access.log"
    shifted = [line.replace("02/Nov/2026:10:00:09", "02/Nov/2026:11:30:09") for line in COMBINED_SAMPLE]
    log.write_text("\n".join(shifted) + "\n")
    # WHEN it is imported as JSON lines and into the archive layout
    lines = traffic("import", str(log), "--format=combined", f"--output={tmp_path / 'events.jsonl'}")
    traffic("import", str(log), f"--archive={tmp_path / 'archive'}", f"--report={tmp_path / 'report.json'}")
    # THEN the summary reports the broken lines with examples, without failing
    assert "12 line(s): 9 event(s), 2 unparseable, 0 invalid, 1 blank" in lines.stderr
    assert "unparseable access.log:8: does not match the format" in lines.stderr
    assert json.loads((tmp_path / "report.json").read_text())["unparseable"] == 2
    # AND the archive holds, under Firehose keys, the same bytes as the JSON lines output
    objects = sorted(path for path in (tmp_path / "archive").rglob("*.gz"))
    keys = [str(path.relative_to(tmp_path / "archive")) for path in objects]
    assert len(keys) == 2  # the 11:30 event comes more than 300 s after the others
    body = b"".join(gzip.decompress(path.read_bytes()) for path in objects)
    assert body == (tmp_path / "events.jsonl").read_bytes()
    for key, path in zip(keys, objects, strict=True):
        records = gzip.decompress(path.read_bytes()).splitlines()
        oldest = min(parse_timestamp(json.loads(record)["occurred_at"]) for record in records)
        assert key.startswith(evaluate_prefix(FIREHOSE_PREFIX, oldest))
        assert arrival_of_key(key) == oldest.replace(microsecond=0)


def test_import_behind_a_cdn_reads_the_client_from_the_hops_it_is_told_to_believe() -> None:
    line = (
        '198.51.100.20 - - [02/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 '
        '"203.0.113.1, 192.0.2.44, 198.51.100.20"\n'
    )
    result = traffic(
        "import",
        "-",
        "--format=custom",
        '--log-format=%h %l %u %t \\"%r\\" %>s %b \\"%{X-Forwarded-For}i\\"',
        "--real-ip-from=198.51.100.0/24",
        stdin=line,
    )
    assert json.loads(result.stdout)["ip"] == "192.0.2.44"
    # AND the format string alone names the custom format
    given_alone = traffic(
        "import",
        "-",
        '--log-format=%h %l %u %t \\"%r\\" %>s %b \\"%{X-Forwarded-For}i\\"',
        "--real-ip-from=198.51.100.0/24",
        stdin=line,
    )
    assert given_alone.stdout == result.stdout


def test_import_reads_standard_input() -> None:
    result = traffic(
        "import", "-", "--format=jsonl", stdin='{"occurred_at":"2026-11-02T10:00:00Z","event_type":"x","user_id":"u"}\n'
    )
    assert json.loads(result.stdout)["user_id"] == "u"


def test_import_errors_are_clear() -> None:
    missing = traffic("import", "/no/such/file.log", check=False)
    assert missing.returncode == 2
    assert "/no/such/file.log: no such file or folder" in missing.stderr
    wrong = traffic("import", "-", "--format=common", stdin="{}\n", check=False)
    assert wrong.returncode == 1
    assert "is --format common right?" in wrong.stderr
    bad = traffic("import", "-", "--format=custom", "--log-format=$a$b", stdin="", check=False)
    assert bad.returncode == 2
    assert "followed directly by another variable" in bad.stderr
    proxy = traffic("import", "-", "--real-ip-from=10.0.0.0/33", stdin="", check=False)
    assert proxy.returncode == 2
    assert "--real-ip-from: '10.0.0.0/33' is not an address or a network (CIDR)" in proxy.stderr
    share = traffic("simulate", "--attack-share=0.9", check=False)
    assert share.returncode == 2
    assert "attack_share: must be within 0-0.5" in share.stderr


def test_a_guessed_format_name_is_refused_with_the_way_to_read_that_log() -> None:
    # WHEN a user names the log's source rather than one of the formats
    guessed = traffic("import", "-", "--format=apigateway", stdin="", check=False)
    # THEN the refusal says how that log is read, and lists the formats
    assert guessed.returncode == 2
    assert "unknown format 'apigateway': API Gateway access logs are read with --format custom" in guessed.stderr
    assert "Formats: jsonl, common, combined, custom" in guessed.stderr
    # AND the Common Log Format's abbreviation names its format
    assert (
        "unknown format 'clf': the Common Log Format is 'common'"
        in traffic("import", "-", "--format=clf", check=False).stderr
    )
    # AND a name that says nothing known points at the custom format
    assert (
        "any other layout: --format custom --log-format" in traffic("import", "-", "--format=xyz", check=False).stderr
    )
    # AND a format's name in another case is that format
    line = '{"occurred_at":"2026-11-02T10:00:00Z","event_type":"x","user_id":"u"}\n'
    assert json.loads(traffic("import", "-", "--format=JSONL", stdin=line).stdout)["user_id"] == "u"


def test_simulate_for_a_duration() -> None:
    result = traffic("simulate", "--duration=30m", "--users=2000")
    times = [json.loads(line)["occurred_at"] for line in result.stdout.splitlines()]
    assert times
    assert times[-1] < "2026-11-02T00:30:00"


def test_attack_start_leaves_the_first_stretch_clean(tmp_path: Path) -> None:
    traffic(
        "simulate",
        "--duration=2d",
        "--users=300",
        "--attack-share=0.05",
        "--attack-start=2026-11-03T00:00:00Z",
        f"--output={tmp_path / 'events.jsonl'}",
        f"--labels={tmp_path / 'labels.jsonl'}",
    )
    when = {event["event_id"]: event["occurred_at"] for event in read_jsonl(tmp_path / "events.jsonl")}
    labels = read_jsonl(tmp_path / "labels.jsonl")
    assert labels
    assert min(when[label["event_id"]] for label in labels) >= "2026-11-03T00:00:00"
