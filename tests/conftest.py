"""Shared fixtures: moto's server on loopback, streams, and reading a stream back."""

from __future__ import annotations

import base64
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_kinesis_agg.deaggregator import iter_deaggregate_records

from emulators import (
    CONTAINER_STACK,
    DUMMY_CREDENTIALS,
    PROJECT_STACK,
    LocalEndpoint,
    kinesalite,
    kinesis_limits_proxy,
    local_endpoint,
    moto_server,
    serving_stack,
)
from emulators.kinesis_limits import LIMIT_ALGORITHMS
from emulators.proxying import fetch_stats

# Nothing in the tests may reach AWS: dummy credentials, no profile files, and every client
# built by a test gets the loopback endpoint explicitly.
os.environ.update(DUMMY_CREDENTIALS)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def kinesis_endpoint() -> Iterator[str]:
    """Kinesis on kinesalite: moto's Kinesis is not safe for concurrent writes to one shard (two
    PutRecords can get the same sequence number and one record is silently replaced)."""
    with kinesalite() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def kinesis(kinesis_endpoint: str) -> Any:
    return boto3.client("kinesis", endpoint_url=kinesis_endpoint, region_name="us-east-1")


@dataclass(frozen=True)
class LimitedKinesis:
    """Kinesis with its per-shard write limits: ``emulators.kinesis_limits`` in front of kinesalite."""

    endpoint: str
    limit_algo: str

    def stream_stats(self, stream_name: str) -> dict[str, Any]:
        """What the proxy admitted and throttled for one stream, per shard, in total and per second."""
        streams: dict[str, Any] = fetch_stats(self.endpoint)["streams"]
        return streams.get(stream_name) or {"shards": {}, "totals": {}, "timeline": []}


@pytest.fixture(params=LIMIT_ALGORITHMS)
def limited_kinesis(request: pytest.FixtureRequest, kinesis_endpoint: str) -> Iterator[LimitedKinesis]:
    """The session's kinesalite behind a limit-enforcing proxy, once with each meter AWS might use
    (a sliding window, a token bucket); the proxy stops after the test. Streams made with
    ``make_stream`` are reachable through both."""
    with kinesis_limits_proxy(kinesis_endpoint, request.param) as endpoint:
        yield LimitedKinesis(endpoint, request.param)


@pytest.fixture(scope="session")
def served_tarball(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A small artifact trained as ``make model`` trains one, for the endpoint tests of the session."""
    from model import train
    from model.artifact import build_tarball
    from tests.model_factories import normal_traffic

    work = tmp_path_factory.mktemp("served-model")
    folder = train.save(train.train(normal_traffic(30, 5), alert_rate=0.01), work / "model")
    return build_tarball(folder, work / "model.tar.gz")


@pytest.fixture(scope="session")
def container_endpoint(served_tarball: Any) -> Iterator[LocalEndpoint]:
    """The artifact on the real serving stack of the scikit-learn container (once per session)."""
    stack = serving_stack()
    if stack.name != CONTAINER_STACK:
        pytest.skip(f"the container's serving stack is not used: {stack.reason}")
    with local_endpoint(served_tarball, stack) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def project_endpoint(served_tarball: Any) -> Iterator[LocalEndpoint]:
    """The same artifact on the project's own server (model/server.py)."""
    with local_endpoint(served_tarball, serving_stack(PROJECT_STACK)) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def served_endpoint(request: pytest.FixtureRequest) -> LocalEndpoint:
    """The artifact on the stack this run serves with: the real one when installed, else the project's."""
    name = "container_endpoint" if serving_stack().name == CONTAINER_STACK else "project_endpoint"
    endpoint: LocalEndpoint = request.getfixturevalue(name)
    return endpoint


def pytest_report_header() -> str:
    """Which server plays the SageMaker container in this run (see emulators.serving_stack)."""
    return f"model endpoint: {serving_stack().reason}"


_stream_numbers = itertools.count()


def _stream_factory(kinesis: Any, request: pytest.FixtureRequest) -> Iterator[Callable[[int], str]]:
    created: list[str] = []

    def create(shard_count: int = 1) -> str:
        name = f"test-{request.node.name[:40].replace('[', '-').replace(']', '')}-{next(_stream_numbers)}"
        kinesis.create_stream(StreamName=name, ShardCount=shard_count)
        kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1})
        created.append(name)
        return name

    yield create
    for name in created:
        kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)


@pytest.fixture
def make_stream(kinesis: Any, request: pytest.FixtureRequest) -> Iterator[Callable[[int], str]]:
    """Create a stream on kinesalite with a unique name and the given shard count; deleted after the test."""
    yield from _stream_factory(kinesis, request)


@pytest.fixture(scope="session")
def moto_kinesis(aws_endpoint: str) -> Any:
    """Kinesis on moto, for what kinesalite lacks (UpdateShardCount); write to it from one thread."""
    return boto3.client("kinesis", endpoint_url=aws_endpoint, region_name="us-east-1")


@pytest.fixture
def make_moto_stream(moto_kinesis: Any, request: pytest.FixtureRequest) -> Iterator[Callable[[int], str]]:
    yield from _stream_factory(moto_kinesis, request)


@dataclass(frozen=True)
class StoredUserRecord:
    shard_id: str
    sequence_number: str
    partition_key: str
    explicit_hash_key: str | None
    data: bytes
    aggregated: bool


def read_stream(kinesis: Any, stream_name: str) -> list[StoredUserRecord]:
    """Every user record in the stream, from every shard (closed ones too), deaggregated with
    aws-kinesis-agg, the reference implementation."""
    stored: list[StoredUserRecord] = []
    shards = kinesis.list_shards(StreamName=stream_name)["Shards"]
    for shard in shards:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream_name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            for user_record in iter_deaggregate_records(page["Records"], data_format="Boto3"):
                body = user_record["kinesis"]
                aggregated = bool(body.get("aggregated"))
                # aws-kinesis-agg hands back user records base64-encoded, plain boto3 records raw.
                data = base64.b64decode(body["data"]) if aggregated else body["data"]
                stored.append(
                    StoredUserRecord(
                        shard["ShardId"],
                        body["sequenceNumber"],
                        body["partitionKey"],
                        body.get("explicitHashKey"),
                        data,
                        aggregated,
                    )
                )
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return stored


def shard_ranges(kinesis: Any, stream_name: str) -> dict[str, tuple[int, int]]:
    shards = kinesis.list_shards(StreamName=stream_name)["Shards"]
    return {
        shard["ShardId"]: (int(shard["HashKeyRange"]["StartingHashKey"]), int(shard["HashKeyRange"]["EndingHashKey"]))
        for shard in shards
    }


CHROME_ON_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def make_event(number: int, **overrides: Any) -> dict[str, Any]:
    """A realistic, valid event; ``number`` varies the user, session and resource."""
    event: dict[str, Any] = {
        "event_type": "page_view",
        "user_id": f"user-{number % 997:04d}",
        "session_id": f"s-{number % 4099:05d}",
        "ip": f"198.51.100.{number % 250}",
        "user_agent": CHROME_ON_LINUX,
        "resource": f"/catalog/items/{number % 5000}?ref=search&page={number % 7}",
        "status": 200,
        "properties": {"method": "GET", "latency_ms": number % 300, "sequence": number},
    }
    event.update(overrides)
    return event
