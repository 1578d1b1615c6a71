"""emulators.dynamodb_limits: DynamoDB's per-partition limits, item by item, in front of moto's server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulators import dynamodb_limits_proxy
from emulators.dynamodb_limits import THROTTLED, item_bytes
from emulators.proxying import fetch_stats

_tables = itertools.count()
WRITE_UNITS = 10  # per item per second: small, so a test reaches it in a few calls
READ_UNITS = 6


@pytest.fixture(scope="module")
def proxy(aws_endpoint: str) -> Iterator[str]:
    with dynamodb_limits_proxy(aws_endpoint, write_units=WRITE_UNITS, read_units=READ_UNITS) as endpoint:
        yield endpoint


@pytest.fixture
def table(aws_endpoint: str) -> str:
    name = f"limits-{next(_tables)}"
    boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name="us-east-1").create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def client(endpoint: str) -> Any:
    # One attempt: the test sees each refusal instead of botocore's retries.
    config = Config(retries={"mode": "standard", "total_max_attempts": 1})
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", config=config)


def hottest(stats: dict[str, Any], table: str) -> dict[str, Any]:
    return next(row for row in stats["hottest_by_writes"] if row["item"].startswith(f"{table}/"))


def test_item_sizes_are_counted_as_dynamodb_counts_them() -> None:
    # Names plus values: a string's UTF-8 bytes, binary's raw bytes (base64 in the JSON), a number
    # one byte per two significant digits plus one, a set its members.
    item = {"key": {"S": "ip#é"}, "state": {"B": "AAEC"}, "n": {"N": "12345"}, "shards": {"BS": ["AAAAAAAAAAA="]}}
    assert item_bytes(item) == (3 + 5) + (5 + 3) + (1 + 4) + (6 + 8)


def test_writes_to_one_item_past_its_units_per_second_are_throttled(proxy: str, table: str) -> None:
    # GIVEN an item of about 3 KB (3 write units a write)
    dynamodb = client(proxy)
    big = {"key": {"S": "hot"}, "state": {"B": b"x" * 3000}}
    # WHEN it is written four times within a second
    results = []
    for _ in range(4):
        try:
            dynamodb.put_item(TableName=table, Item=big)
            results.append("ok")
        except ClientError as error:
            results.append(error.response["Error"]["Code"])
    # THEN the fourth write (12 units) is refused as DynamoDB refuses it; another item is not
    assert results == ["ok", "ok", "ok", THROTTLED]
    dynamodb.put_item(TableName=table, Item={**big, "key": {"S": "cold"}})
    row = hottest(fetch_stats(proxy), table)
    assert row["peak_write_units_per_second"] == 9
    assert row["throttled_writes"] == 1


def test_an_update_costs_the_whole_item_not_the_attribute_it_sets(proxy: str, table: str) -> None:
    # GIVEN an item of about 3 KB
    dynamodb = client(proxy)
    dynamodb.put_item(TableName=table, Item={"key": {"S": "wide"}, "state": {"B": b"x" * 3000}})
    # WHEN a one-byte attribute is set on it twice
    for value in (b"a", b"b"):
        dynamodb.update_item(
            TableName=table,
            Key={"key": {"S": "wide"}},
            UpdateExpression="SET small = :v",
            ExpressionAttributeValues={":v": {"B": value}},
        )
    # THEN each update took the item's 3 units: 9 in the second, and the next one is refused
    with pytest.raises(ClientError) as refused:
        dynamodb.update_item(
            TableName=table,
            Key={"key": {"S": "wide"}},
            UpdateExpression="SET small = :v",
            ExpressionAttributeValues={":v": {"B": b"c"}},
        )
    assert refused.value.response["Error"]["Code"] == THROTTLED
    assert hottest(fetch_stats(proxy), table)["peak_write_units_per_second"] == 9


def test_a_batch_leaves_the_items_past_their_limit_unprocessed(proxy: str, table: str) -> None:
    # GIVEN an item already at its limit this second
    dynamodb = client(proxy)
    for _ in range(WRITE_UNITS):
        dynamodb.put_item(TableName=table, Item={"key": {"S": "busy"}})
    # WHEN a batch writes it and two others
    items = [{"key": {"S": key}} for key in ("busy", "a", "b")]
    answer = dynamodb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item}} for item in items]})
    # THEN the two others are written and the busy one comes back unprocessed
    assert answer["UnprocessedItems"] == {table: [{"PutRequest": {"Item": {"key": {"S": "busy"}}}}]}
    got = dynamodb.batch_get_item(RequestItems={table: {"Keys": [{"key": {"S": "a"}}, {"key": {"S": "b"}}]}})
    assert len(got["Responses"][table]) == 2


def test_reads_of_one_item_past_its_read_units_are_left_unprocessed(proxy: str, table: str) -> None:
    # GIVEN an item of 5 KB (2 read units strongly consistent) and a small one
    dynamodb = client(proxy)
    dynamodb.put_item(TableName=table, Item={"key": {"S": "read-hot"}, "state": {"B": b"x" * 5000}})
    dynamodb.put_item(TableName=table, Item={"key": {"S": "small"}})
    keys = {"Keys": [{"key": {"S": "read-hot"}}, {"key": {"S": "small"}}], "ConsistentRead": True}
    # WHEN both are read strongly consistent four times within a second
    answers = [dynamodb.batch_get_item(RequestItems={table: keys}) for _ in range(4)]
    # THEN the fourth read of the large one (8 units past 6) is handed back unprocessed, the small
    # one is read every time
    assert [len(answer["Responses"].get(table, [])) for answer in answers] == [2, 2, 2, 1]
    assert answers[3]["UnprocessedKeys"][table]["Keys"] == [{"key": {"S": "read-hot"}}]
    # AND a read of it alone is refused outright, as DynamoDB refuses a batch of which nothing went through
    with pytest.raises(ClientError) as refused:
        dynamodb.batch_get_item(RequestItems={table: {**keys, "Keys": keys["Keys"][:1]}})
    assert refused.value.response["Error"]["Code"] == THROTTLED
