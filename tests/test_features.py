"""The feature module: determinism, purity, state round trips and bounded state size."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import random
import re
import struct
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import numpy as np
import pytest

from model.enrichment import NetworkInfo
from model.exceptions import InvalidFeatureEventError, InvalidStateError
from model.features import (
    CORE_EVENT_TYPES,
    FEATURE_COUNT,
    FEATURE_NAMES,
    IP_STATE_FORMAT,
    MAX_IP_STATE_BYTES,
    MAX_IP_USERS,
    MAX_RECENT_IPS,
    MAX_RECENT_NETWORKS,
    MAX_USER_STATE_BYTES,
    ROW_DECIMALS,
    STATE_FORMAT,
    IpState,
    PathPopularity,
    ResourceVocabulary,
    SiteNow,
    UserState,
    event_time,
    featurize,
    featurize_batch,
    merge_ip_states,
    resource_shape,
    resource_shapes,
    stable_hash,
    travel,
)
from model.features.resources import _SQL_RE, _SUSPICIOUS_RE, SHAPE_COLUMNS
from model.features.site import MAX_POPULAR_AGENTS
from model.features.user_activity import HABITUAL_HOUR_RARITY
from model.network import embedded_network_of
from model.user_agents import parse_agent
from tests.model_factories import (
    BROWSERS,
    START,
    credential_stuffing,
    event,
    injection_probe,
    normal_traffic,
    shared_address_traffic,
)
from vedette import events as contract

REPO = Path(__file__).resolve().parent.parent
_IP_HEAD_COUNT_OFFSET = 3 + 5 * 8 + 8  # format, version, flags, five doubles, the event count, then the user count


def column(rows: np.ndarray | list[list[float]], name: str) -> list[float]:
    index = FEATURE_NAMES.index(name)
    return [row[index] for row in rows]


def test_core_event_types_match_the_event_contract() -> None:
    assert CORE_EVENT_TYPES is contract.CORE_EVENT_TYPES  # imported, not copied
    assert len(set(FEATURE_NAMES)) == FEATURE_COUNT


def test_same_events_give_same_features_and_inputs_are_not_mutated() -> None:
    # GIVEN a day of traffic and a user state from an earlier day
    history = [item for item in normal_traffic(20, 2) if item["user_id"] == "user-0003"]
    before = featurize(None, history[: len(history) // 2])
    events = history[len(history) // 2 :]
    frozen_events = copy.deepcopy(events)
    frozen_state = before.state.to_bytes()
    frozen_ips = {ip: state.to_bytes() for ip, state in before.ip_states.items()}
    # WHEN the same events are featurized twice from the same state
    first = featurize(before.state, events, before.ip_states)
    second = featurize(before.state, events, before.ip_states)
    # THEN the rows and new states are equal, and nothing passed in changed
    assert first.rows == second.rows
    assert first.state == second.state
    assert events == frozen_events
    assert before.state.to_bytes() == frozen_state
    assert {ip: state.to_bytes() for ip, state in before.ip_states.items()} == frozen_ips


def test_state_round_trips_through_bytes_without_changing_features() -> None:
    # GIVEN a user part way through their history
    history = [item for item in normal_traffic(20, 5) if item["user_id"] == "user-0007"]
    middle = len(history) // 2
    head = featurize(None, history[:middle])
    # WHEN the state is stored as bytes and read back (as the scorer does between batches)
    restored_user = UserState.from_bytes(head.state.to_bytes())
    restored_ips = {ip: IpState.from_bytes(state.to_bytes()) for ip, state in head.ip_states.items()}
    # THEN continuing from the restored state gives exactly the rows of one uninterrupted replay
    continued = featurize(restored_user, history[middle:], restored_ips)
    uninterrupted = featurize(None, history)
    assert continued.rows == uninterrupted.rows[middle:]
    assert continued.state == uninterrupted.state


def test_batch_helper_matches_per_user_featurization() -> None:
    # GIVEN several users whose IPs are all distinct (so IP state is per user)
    events = normal_traffic(5, 3)
    batch = featurize_batch(events)
    # THEN each user's rows equal featurize() on that user's events alone
    for user in {item["user_id"] for item in events}:
        positions = [index for index, item in enumerate(events) if item["user_id"] == user]
        alone = featurize(None, [events[index] for index in positions])
        np.testing.assert_array_equal(batch.rows[positions], np.asarray(alone.rows))
        assert batch.user_states[user] == alone.state
    assert batch.rows.shape == (len(events), FEATURE_COUNT)


def test_user_state_size_is_bounded_under_adversarial_input() -> None:
    # GIVEN one user seen from thousands of distinct IPs, agents, countries and long resources
    events = [
        event(
            START + timedelta(seconds=number * 7.123457),
            "u" * 256,
            f"custom_{number % 50}",
            ip=f"2001:db8::{number:x}",
            user_agent=f"agent-{number}-" + "x" * 900,
            resource=f"/{number}/" + "a/" * 900,
            status=number % 500 + 100,
        )
        for number in range(3000)
    ]
    result = featurize(None, events, network_of=lambda ip: NetworkInfo(ip[-4:], stable_hash(ip), None, False))
    # THEN the state stays within the documented bound, its sets capped
    assert len(result.state.recent_ips) == MAX_RECENT_IPS
    assert len(result.state.recent_networks) == MAX_RECENT_NETWORKS
    assert len(result.state.to_bytes()) <= MAX_USER_STATE_BYTES
    # AND a burst of events at one instant (counters at their cap) stays within it too
    burst = [event(START, "burst", "login_failed", ip="198.18.0.1", status=401) for _ in range(2000)]
    assert len(featurize(result.state, burst).state.to_bytes()) <= MAX_USER_STATE_BYTES


def test_ip_state_counts_distinct_users_and_stays_bounded() -> None:
    # GIVEN one IP used by thousands of different users (credential stuffing)
    attack = credential_stuffing(START, 3000)
    batch = featurize_batch(attack)
    ip_state = batch.ip_states["203.0.113.66"]
    # THEN the distinct-users feature grows to its cap and the IP state stays within its bound
    distinct = column(batch.rows, "ip_distinct_users_24h")
    assert distinct[0] == 1.0
    assert distinct[-1] == 32.0
    assert len(ip_state.to_bytes()) <= MAX_IP_STATE_BYTES
    # AND a regular user alone on their IP shows one user
    regular = featurize_batch(normal_traffic(3, 2))
    assert set(column(regular.rows, "ip_distinct_users_24h")) == {1.0}


NAT = "100.64.0.1"
SHARDS = 4


def shard_of(event: dict) -> int:
    """The shard Kinesis puts a user's events on (MD5 of the partition key in even ranges)."""
    return int.from_bytes(hashlib.md5(event["user_id"].encode()).digest(), "big") * SHARDS >> 128


def test_an_address_split_between_shards_merges_to_the_state_one_process_reaches() -> None:
    # GIVEN 300 users behind one address, their events split between four shards by user, as
    # Kinesis splits them
    events = shared_address_traffic(users=300, minutes=20)
    assert len({shard_of(item) for item in events}) == SHARDS
    # WHEN each shard builds its part of the address's state from its own users' events alone
    parts = [featurize_batch([item for item in events if shard_of(item) == shard]).ip_states[NAT] for shard in range(4)]
    whole = featurize_batch(events).ip_states[NAT]
    merged = merge_ip_states(parts)
    # THEN the parts merge to the state one process reaches from every event: no event lost, the
    # same users kept (more users than it keeps), the same decayed counts
    assert merged.events == whole.events == sum(1 for item in events if item["ip"] == NAT)
    assert len(whole.recent_users) == MAX_IP_USERS
    assert merged.recent_users == whole.recent_users
    assert merged.last_seen == whole.last_seen
    for name in ("rate_fast", "rate_slow", "failures_slow", "new_users_slow"):
        assert getattr(merged, name) == pytest.approx(getattr(whole, name), rel=1e-12), name
    assert 0 < whole.new_users_slow < whole.rate_slow
    # AND the merge does not depend on the order of its parts
    assert merge_ip_states(parts[::-1]) == merged


def test_shards_reading_each_others_parts_compute_the_features_one_process_computes() -> None:
    # GIVEN the same users, and four shards that each keep their own part of the address's state
    events = shared_address_traffic(users=120, minutes=10)
    expected = featurize_batch(events).rows
    parts: list[dict[str, IpState]] = [{} for _ in range(SHARDS)]
    users: list[dict[str, UserState]] = [{} for _ in range(SHARDS)]
    rows = []
    # WHEN each event is featurized by its shard, reading the other shards' parts as they are then
    for item in events:
        shard = shard_of(item)
        others = {
            ip: merge_ip_states(part[ip] for other, part in enumerate(parts) if other != shard and ip in part)
            for ip in {item["ip"]}
        }
        batch = featurize_batch([item], users[shard], parts[shard], ip_others=others)
        rows.append(batch.rows[0])
        users[shard].update(batch.user_states)
        parts[shard].update(batch.ip_states)
    # THEN every row is the one a single process computes (up to float rounding in the last decimal)
    np.testing.assert_allclose(np.array(rows), expected, rtol=0, atol=2 * 10.0**-ROW_DECIMALS)
    distinct = column(rows, "ip_distinct_users_24h")
    assert max(distinct) == MAX_IP_USERS


def test_novelty_features_flag_a_new_ip_agent_and_country_for_a_known_user() -> None:
    # GIVEN a user with a stable history, then a login from elsewhere
    history = [item for item in normal_traffic(10, 5) if item["user_id"] == "user-0002"]
    takeover = event(
        START + timedelta(days=6, hours=3),
        "user-0002",
        "login_succeeded",
        ip="198.18.5.5",
        user_agent="curl/8.5",
        resource="/login",
        status=200,
    )
    countries = {"198.51.100.2": "FR", "198.18.5.5": "KP"}
    result = featurize(None, [*history, takeover], country_of=countries.get)
    last = result.rows[-1]
    # THEN the last row is new on all three, and earlier rows (after the first) are not
    for name in ("new_ip", "new_user_agent", "new_country"):
        assert last[FEATURE_NAMES.index(name)] == 1.0
        assert set(column(result.rows[1:-1], name)) == {0.0}
    # AND its hour is rarer for this user than the habitual hour
    assert last[FEATURE_NAMES.index("hour_rarity")] > max(column(result.rows[-5:-1], "hour_rarity"))


def test_an_hour_habitual_for_weeks_is_no_rarer_or_commoner_than_one_habitual_for_days() -> None:
    # GIVEN a job that sends forty requests at 2 a.m. every night for sixty nights
    nights = [
        event(START + timedelta(days=night, hours=2, seconds=20 * number), "sync", "api_call", resource="/api/items")
        for night in range(60)
        for number in range(40)
    ]
    rarity = column(featurize(None, nights).rows, "hour_rarity")
    # THEN its hour's rarity falls from that of a user without history to the habitual floor within
    # the first nights, and stays there: a later night is never further in its tail than the nights
    # training saw (before the floor it fell every night, and the integration alerted every night)
    assert rarity[0] == pytest.approx(math.log(24.0), rel=0.05)
    assert rarity[40 * 3 :] == [pytest.approx(HABITUAL_HOUR_RARITY, abs=10**-ROW_DECIMALS)] * (40 * 57)
    # AND an hour it has never used reads as rare
    late = event(START + timedelta(days=60, hours=14), "sync", "api_call", resource="/api/items")
    assert column(featurize(None, [*nights, late]).rows, "hour_rarity")[-1] > 5.0


DYNAMODB_WRITE_UNIT_BYTES = 1024


def test_real_addresses_give_country_network_hosting_and_client_columns() -> None:
    # GIVEN a user's history from a British home ISP in a browser, then a login from a Google data
    # centre in the US by a headless browser
    history = [item for item in normal_traffic(10, 5) if item["user_id"] == "user-0002"]
    for item in history:
        item["ip"] = "81.2.69.142"
    takeover = event(
        START + timedelta(days=6, hours=3),
        "user-0002",
        "login_succeeded",
        ip="8.8.8.8",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0",
        resource="/login",
        status=200,
    )
    # WHEN featurized with the embedded network data and the user-agent parser
    result = featurize(None, [*history, takeover], network_of=embedded_network_of, agent_of=parse_agent)
    last = result.rows[-1]
    # THEN the last row is a new country and a new network, on a hosting network, from a headless browser
    for name in ("new_country", "new_asn", "ip_hosting", "agent_headless"):
        assert last[FEATURE_NAMES.index(name)] == 1.0, name
        assert set(column(result.rows[:-1], name)) == {0.0}, name
    # AND a data centre's country is not a place the user has been: no travel, and not one of their
    # countries of the hour
    assert last[FEATURE_NAMES.index("travel_beyond_flight")] == 0.0
    assert last[FEATURE_NAMES.index("countries_1h")] == 0.0
    # AND without the lookups those columns stay 0, as they did before
    plain = featurize(None, [*history, takeover])
    for name in ("new_country", "new_asn", "ip_hosting", "agent_headless"):
        assert set(column(plain.rows, name)) == {0.0}, name


def test_resource_shape_features_separate_an_injection() -> None:
    normal = event(START, "u1", "search", resource="/search?q=red+shoes&page=2")
    attack = injection_probe(START, "u2")
    rows = featurize_batch([normal, attack]).rows
    for name in ("resource_suspicious_tokens", "resource_special_ratio", "resource_value_nonalnum_ratio"):
        assert column(rows, name)[1] > column(rows, name)[0], name


def _twice_decoded(text: str) -> str:
    return unquote_plus(unquote_plus(text)).lower()


def _shape_by_definition(resource: object) -> list[float]:
    """The resource shape columns written out plainly, one character at a time."""
    if not isinstance(resource, str) or not resource:
        return [1.0] + [0.0] * 10
    text = resource.lower()
    path, _, query = text.partition("?")
    values = [pair.partition("=")[2] for pair in query.split("&") if pair] if query else []
    value_chars = sum(len(value) for value in values)
    value_symbols = sum(1 for value in values for char in value if not char.isalnum() and char != "+")
    counts = Counter(text)
    entropy = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    return [
        0.0,
        math.log1p(len(text)),
        float(path.count("/")),
        float(len(values)),
        math.log1p(max((len(value) for value in values), default=0)),
        sum(char.isdigit() for char in text) / len(text),
        sum(not char.isalnum() for char in text) / len(text),
        sum(char in "'\"<>();|`{}$\\*!%[]^~," for char in text) / len(text),
        value_symbols / value_chars if value_chars else 0.0,
        entropy,
        float(len(re.findall(_SUSPICIOUS_RE, text)) + len(re.findall(_SQL_RE, _twice_decoded(text)))),
    ]


def test_resource_shapes_match_their_definition_whatever_they_are_computed_with() -> None:
    # GIVEN resources of every kind: plain, with queries, non-ASCII, repeated, empty, missing, not a
    # string, and one whose single character repeats beyond the entropy table
    corpus = [item["resource"] for item in normal_traffic(30, 2)] + [
        injection_probe(START, "u")["resource"],
        "/search?q=red+shoes&page=2",
        "/ünïcode/ä?x=é&y=1",
        "/ß?ß=ß",
        "/😀?😀=😀",
        "/a?b",
        "/x?=&&=",
        "/UPPER/Case?Q=AbC",
        "/" * 5000,
        "/x?y=" + "9" * 500,
        "",
        None,
        42,
        "/search?q=red+shoes&page=2",
    ]
    together = resource_shapes(corpus)
    for resource, row in zip(corpus, together, strict=True):
        # THEN each shape is the one its definition gives, and the same computed alone
        assert row.tolist() == pytest.approx(_shape_by_definition(resource), rel=1e-12, abs=1e-12), resource
        assert resource_shapes([resource])[0].tolist() == row.tolist(), resource
        assert resource_shape(resource) == row.tolist()  # type: ignore[arg-type]


# The suspicious-token pattern written out by hand, as documented.
_PLAIN_SUSPICIOUS_RE = re.compile(
    r"sleep\(|benchmark\(|char\(|concat\("
    r"|<script|script>|javascript:|onerror|onload|alert\(|eval\(|document\.|<img|<iframe|<svg"
    r"|\.\./|\.\.\\|/etc/|passwd|cmd|%00|\x00|\bor\b\s*\d+\s*=|--|/\*|\*/|;|'|\"|<|>|\|\||&&|\$\{|\{\{"
)


def test_suspicious_tokens_are_found_exactly_as_by_the_plain_alternation() -> None:
    # GIVEN strings stitched from the fragments, their parts and other characters
    rng = random.Random(11)
    pieces = [
        *("select", "sel", "union", "drop", "sleep(", "<script", "script>", "onerror", "on", "or", " or 1=1"),
        *("or 12 =", "xor 1=", "door 1=", "../", "..\\", "/etc/", "%00", "\x00", "--", "-", "/*", "*/", ";"),
        *("'", '"', "<", ">", "||", "|", "&&", "${", "{{", "{", "a", "9", "/", "?", "=", "&", "é", " "),
    ]
    corpus = ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12))) for _ in range(5000)]
    corpus += [injection_probe(START, "u")["resource"].lower()]
    # THEN the pattern built from the fragment lists finds the same tokens as the one written out
    for text in corpus:
        assert _SUSPICIOUS_RE.findall(text) == _PLAIN_SUSPICIOUS_RE.findall(text), text


@pytest.mark.parametrize(
    ("resource", "statements"),
    [
        # Everyday words of paths, slugs, parameters and searches
        ("/cart/update", 0),
        ("/api/v2/invoices?page=1&updated_since=12h", 0),
        ("/news/2024/10/13/plant-opens-hiker-bridge-detour-union-4114694/", 0),
        ("/search?q=zero+drop", 0),
        ("/t/247-klipper-update-grounding-garbage-issue", 0),
        ("/tienda1/publico/pagar.jsp?modo=insertar&precio=183", 0),
        ("/search?q=select+a+size+from+the+list", 0),
        ("/search?q=how+to+execute+a+plan", 0),
        ("/drop-table-lamp", 0),
        # SQL and server-side includes, plain, encoded or broken up by comments
        ("/anadir.jsp?cantidad=';+drop+table+usuarios;+select+*+from+datos+where+nombre+like+'%", 2),
        ("/pagar.jsp?precio=183','0','0');waitfor+delay+'0:0:15';--", 1),
        ('/entrar.jsp?errormsg="><!--#exec+cmd="dir+"--><', 1),
        ("/item?id=1%27%20UNION%20SELECT%20password%20FROM%20users--", 1),
        ("/item?id=1/**/union/**/select/**/1,2", 1),
        ("/x?q=1;update users set admin=1", 1),
        ("/x?q=1; insert into t values(1)", 1),
        ("/x?q=1;delete from users", 1),
        ("/x?id=1;exec xp_cmdshell('dir')", 1),
        ("/x?id=(select(password)from(users))", 1),
        ("/x?id=1 union distinct select 1,2", 1),
        ("/x?id=%2527%2520union%2520select%25201--", 1),  # encoded twice
        ("/x?id=1%20%55NION%20%53ELECT%201", 1),  # letters encoded
        ("/x?id=1 union/*\n*/select 1", 1),
    ],
)
def test_sql_counts_where_a_statement_follows_its_keyword_not_where_the_word_is_a_word(
    resource: str, statements: int
) -> None:
    # (the column counts the other fragments too: those alone are the plain alternation's)
    others = len(_PLAIN_SUSPICIOUS_RE.findall(resource.lower()))
    assert resource_shape(resource)[SHAPE_COLUMNS.index("resource_suspicious_tokens")] == others + statements


@pytest.mark.parametrize(
    ("resource", "fragments"),
    [
        # Codes mailed in confirmation and reset links (ASP.NET Identity's base64url), an id, a slug
        ("/Account/ConfirmEmail?userId=e2fkodrz&code=LkMlipJVq--9e0tmvrp60nq1rc5q-5m3267rx1mzk4xsmqhcdop3g", 0),
        ("/Account/ResetPassword?userId=idwo&code=qmq0nl2tc7hrj5qjo6zwm34thbtip9d3rl3nm25wlyx1jjcmdptoaymut7", 0),
        ("/files/3f2a--9c1d0e8b7a6f5e4d3c2b1a0f", 0),
        ("/blog/how-to-open-cmd-as-administrator-in-windows", 0),
        # Attack fragments beside or around such runs stay whole
        ("/login?user=admin'--", 2),
        ("/item?id=1--", 1),
        ("/x?q=1;cmd.exe", 2),
        ("/x?next=../../etc/passwd&sig=c4wqmg-gec6xnutymd2kwiirib2xitpedbisot2t2mmdqv6wpck", 3),
    ],
)
def test_an_opaque_token_s_chance_fragments_are_no_attack(resource: str, fragments: int) -> None:
    assert resource_shape(resource)[SHAPE_COLUMNS.index("resource_suspicious_tokens")] == fragments


def test_a_crafted_run_of_sql_comments_takes_no_longer_than_any_resource() -> None:
    # A pattern that could split a run of comments many ways took seconds on 120 characters and
    # did not finish on 4,000 (it runs on every request the scorer sees)
    crafted = ("/x?q=union" + "/**/" * 30 + "x", "/x?q=union" + "%2F%2A%2A%2F" * 330, "/x?q=" + "select/**/" * 400)
    for resource in crafted:
        started = time.perf_counter()
        resource_shape(resource)
        assert time.perf_counter() - started < 1.0, resource[:40]


def test_failure_ratio_and_rate_follow_the_events() -> None:
    failing = [event(START + timedelta(seconds=i), "u", "login_failed", status=401) for i in range(20)]
    rows = featurize(None, failing).rows
    assert column(rows, "failure_ratio_1h")[-1] == pytest.approx(1.0)
    assert column(rows, "log_rate_1m")[-1] > column(rows, "log_rate_1m")[0]
    assert column(rows, "log_seconds_since_previous")[1] == pytest.approx(np.log1p(1.0))


def test_bad_event_and_bad_state_are_rejected_with_the_field_named() -> None:
    with pytest.raises(InvalidFeatureEventError) as caught:
        featurize(None, [event(START, "u", "login_failed") | {"occurred_at": "yesterday"}])
    assert caught.value.field == "occurred_at"
    with pytest.raises(InvalidFeatureEventError) as caught:
        featurize_batch([event(START, "u", "page_view") | {"user_id": None}])
    assert caught.value.field == "user_id"
    with pytest.raises(InvalidStateError, match="features version"):
        UserState.from_bytes(b'{"v":999}')
    with pytest.raises(InvalidStateError, match="unknown stored form"):
        IpState.from_bytes(b"\xff")


def test_vocabulary_flags_unknown_paths_parameters_and_value_classes() -> None:
    # GIVEN a vocabulary learned from normal searches and product pages
    browser = "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0"
    searches = [f"/search?q=shoes{n}&page={n % 5}" for n in range(50)]
    normal = [event(START, "u", "search", resource=path, user_agent=browser) for path in searches] + [
        event(START, "u", "page_view", resource=f"/catalog/items/{n}") for n in range(50)
    ]
    vocabulary = ResourceVocabulary.learn(normal)
    restored = ResourceVocabulary.from_json(json.loads(json.dumps(vocabulary.to_json())))
    probes = [
        event(START, "v", "search", resource="/search?q=boots&page=2"),
        event(START, "v", "search", resource="/search?q=boots&debug=1"),
        event(START, "v", "search", resource="/search?q=boots'--&page=2"),
        event(START, "v", "page_view", resource="/catalog/items/7.bak", user_agent="okhttp/4.12.0"),
    ]
    rows = featurize_batch(probes, vocabulary=restored).rows
    # THEN only the deviating part of each probe is counted
    assert column(rows, "resource_unknown_params") == [0.0, 1.0, 0.0, 0.0]
    assert column(rows, "resource_value_class_violations") == [0.0, 0.0, 1.0, 0.0]
    rarity = column(rows, "resource_path_rarity")
    assert rarity[3] > rarity[0]
    # AND an agent family never seen in training is rare; no agent scores 0
    assert column(rows, "agent_family_rarity") == [0.0, 0.0, 0.0, pytest.approx(np.log(51.0))]
    # AND without a vocabulary the columns are zero
    assert set(column(featurize_batch(probes).rows, "resource_unknown_params")) == {0.0}


def test_browsers_are_told_apart_by_name_and_a_vocabulary_before_version_10_reads_them_as_one() -> None:
    # GIVEN a site whose people browse with Chrome of two versions, three requests of 200 with
    # Firefox (1.5 %) and one with Safari (0.5 %)
    chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{} Safari/537.36"
    opera = chrome.format("76.0.3809.132") + " OPR/63.0.3368.94"
    firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:65.0) Gecko/20100101 Firefox/65.0"
    safari = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.0.3 "
        "Safari/605.1.15"
    )
    agents = [chrome.format(f"7{n % 2}.0.3626.121") for n in range(196)] + [firefox] * 3 + [safari]
    normal = [event(START, f"u{n}", "page_view", resource="/", user_agent=agent) for n, agent in enumerate(agents)]
    vocabulary = ResourceVocabulary.learn(normal)
    restored = ResourceVocabulary.from_json(json.loads(json.dumps(vocabulary.to_json())))
    probes = [
        event(START, "v", "page_view", resource="/", user_agent=agent)
        for agent in (chrome.format("73.0.3683.86"), firefox, safari, opera)
    ]
    # THEN Chrome of a version training did not see, and Firefox, are common; Safari is rare, and
    # Opera (its agent all but Chrome's) a family never seen
    assert column(featurize_batch(probes, vocabulary=restored).rows, "agent_family_rarity") == [
        0.0,
        0.0,
        pytest.approx(np.log(201.0 / 2.0)),
        pytest.approx(np.log(201.0)),
    ]
    # AND a vocabulary written before browsers were named (version 9, its agents counted as
    # "mozilla") reads all as that family
    vocabulary.browsers = False
    vocabulary.agents = {stable_hash("mozilla"): 200}
    assert vocabulary.to_json()["v"] == 9
    before = ResourceVocabulary.from_json(json.loads(json.dumps(vocabulary.to_json())))
    assert not before.browsers
    assert column(featurize_batch(probes, vocabulary=before).rows, "agent_family_rarity") == [0.0] * 4


INSTAGRAM_IN_APP = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
    "Instagram 334.0.4.32.98 (iPhone15,2; iOS 18_3; en_US; en; scale=3.00; 1179x2556; 601420827)"
)


def shop_vocabulary() -> ResourceVocabulary:
    """A shop's training: 998 page views in Chrome, 2 in Instagram's in-app browser (0.2 %)."""
    chrome = BROWSERS[0]
    agents = [chrome] * 998 + [INSTAGRAM_IN_APP] * 2
    normal = [event(START, f"u{n}", "page_view", resource="/", user_agent=agent) for n, agent in enumerate(agents)]
    return ResourceVocabulary.from_json(json.loads(json.dumps(ResourceVocabulary.learn(normal).to_json())))


def arrivals(count: int, agent: str, networks: int, start: datetime = START) -> list[dict[str, Any]]:
    """``count`` new visitors 20 s apart in ``agent``, from ``networks`` networks in turn."""
    return [
        event(
            start + timedelta(seconds=20 * n),
            f"visitor-{start.timestamp():.0f}-{n}",
            "page_view",
            resource="/",
            user_agent=agent,
            ip=f"10.{n % networks}.0.{n // networks % 250 + 1}",
        )
        for n in range(count)
    ]


def test_a_browser_rare_in_training_that_many_arrive_in_now_reads_as_common() -> None:
    # GIVEN a shop whose training saw Instagram's in-app browser on 0.2 % of its requests
    vocabulary = shop_vocabulary()
    assert vocabulary.to_json()["v"] == 11
    rare = math.log(1001.0 / 3.0)
    # WHEN a post goes viral: 60 visitors arrive in it from 40 networks in 20 minutes, among 60 in Chrome
    viral = sorted(arrivals(60, INSTAGRAM_IN_APP, 40) + arrivals(60, BROWSERS[0], 40), key=event_time)
    in_app = [index for index, item in enumerate(viral) if item["user_agent"] == INSTAGRAM_IN_APP]
    rarity = column(featurize_batch(viral, vocabulary=vocabulary).rows, "agent_family_rarity")
    # THEN the first read it as training did; once enough came from enough networks, it reads as common
    assert rarity[in_app[0]] == pytest.approx(rare)
    assert rarity[in_app[-1]] == 0.0
    assert all(later <= earlier for earlier, later in itertools.pairwise([rarity[index] for index in in_app]))
    # AND Chrome stays common throughout
    assert {rarity[index] for index in range(len(viral)) if index not in in_app} == {0.0}


ARRIVING_AGENTS = {
    "one network": INSTAGRAM_IN_APP,
    "hosting": INSTAGRAM_IN_APP,
    "a tool": "python-requests/2.32.3",
    "a crawler": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "a headless browser": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36"
    ),
    "no browser named": "Mozilla/5.0",
}


@pytest.mark.parametrize("who", sorted(ARRIVING_AGENTS))
def test_one_network_a_cloud_fleet_a_tool_or_a_declared_machine_does_not_make_its_agent_common(who: str) -> None:
    # GIVEN the shop, and 60 new clients in 20 minutes: from one network rotating its cookies, from a
    # hosting network's 40 /24s, or from 40 networks in a tool's, a crawler's, a headless browser's
    # agent or one that names no browser
    vocabulary = shop_vocabulary()
    lookup = (lambda ip: NetworkInfo("US", 16509, "AMAZON-02", True)) if who == "hosting" else None
    events = arrivals(60, ARRIVING_AGENTS[who], 1 if who == "one network" else 40)
    features = featurize_batch(events, vocabulary=vocabulary, network_of=lookup, agent_of=parse_agent)
    rarity = column(features.rows, "agent_family_rarity")
    # THEN the agent reads as rare as training says, to the last
    assert rarity[-1] == rarity[0] > 5.0


def test_the_browsers_arriving_now_are_stored_with_the_site_and_a_site_stored_before_reads_none() -> None:
    # GIVEN the viral visitors counted, with a few server errors among them
    viral = arrivals(60, INSTAGRAM_IN_APP, 40)
    for item in viral[::10]:
        item["status"] = 503
    site = featurize_batch(viral, vocabulary=shop_vocabulary()).site
    assert site.agents.followed
    assert site.popularity.total > 0.0
    stored = site.to_bytes()
    # THEN the site reads back exactly, and a batch after it reads the browser as common at once
    assert SiteNow.from_bytes(stored) == site
    later = arrivals(1, INSTAGRAM_IN_APP, 1, START + timedelta(minutes=21))
    after = featurize_batch(later, vocabulary=shop_vocabulary(), site=SiteNow.from_bytes(stored))
    assert column(after.rows, "agent_family_rarity") == [0.0]
    # AND a site stored by the release before (version 1: pages and outages) reads with no browsers counted
    pages, outages = site.popularity.to_bytes(), site.outages.to_bytes()
    version_1 = struct.pack("<5sBI", b"\xffsite", 1, len(pages)) + pages + outages
    assert SiteNow.from_bytes(version_1) == replace(site, agents=PathPopularity(limit=MAX_POPULAR_AGENTS))
    # AND a site cut short, or of a version to come, is refused by name
    for broken in (stored[:12], stored[: len(stored) - len(outages) - 1], stored[:5] + bytes([3]) + stored[6:]):
        with pytest.raises(InvalidStateError, match="site"):
            SiteNow.from_bytes(broken)


def test_a_vocabulary_before_version_11_reads_a_browser_s_rarity_from_training_alone() -> None:
    # GIVEN the shop's vocabulary written by the release before (version 10)
    vocabulary = shop_vocabulary()
    vocabulary.agents_now = False
    assert vocabulary.to_json()["v"] == 10
    before = ResourceVocabulary.from_json(json.loads(json.dumps(vocabulary.to_json())))
    assert before.browsers
    assert not before.agents_now
    # WHEN the viral visitors arrive; THEN the in-app browser stays as rare as its model was calibrated on
    rarity = column(featurize_batch(arrivals(60, INSTAGRAM_IN_APP, 40), vocabulary=before).rows, "agent_family_rarity")
    assert set(np.round(rarity, 6)) == {round(math.log(1001.0 / 3.0), 6)}


def test_a_new_article_reads_as_common_as_its_section_and_an_unknown_path_stays_rare() -> None:
    # GIVEN a news site's training traffic: a hundred articles read twice each, under dated slugs
    articles = [f"/news/2026/11/{10 + n % 20}/council-votes-on-budget-item-{n}/" for n in range(100)]
    normal = [event(START, "u", "page_view", resource=path) for path in articles * 2]
    normal += [event(START, "u", "page_view", resource="/account/sign-in") for _ in range(20)]
    vocabulary = ResourceVocabulary.from_json(json.loads(json.dumps(ResourceVocabulary.learn(normal).to_json())))
    probes = [
        event(START, "v", "page_view", resource="/news/2026/12/04/storm-closes-the-coast-road/"),
        event(START, "v", "page_view", resource="/news/2026/11/10/council-votes-on-budget-item-0/"),
        event(START, "v", "page_view", resource="/account/sign-in"),
        event(START, "v", "page_view", resource="/wp-admin/setup-config.php"),
        event(START, "v", "page_view", resource="/account/sign-up"),
    ]
    rarity = column(featurize_batch(probes, vocabulary=vocabulary).rows, "resource_path_rarity")
    # THEN today's article is as common as the articles training saw (one template of slugs)
    assert rarity[0] == rarity[1] == pytest.approx(-np.log(201.0 / 221.0), abs=1e-6)
    # AND a page of two words is its own template, and a path no one requested is as rare as can be
    assert rarity[2] == pytest.approx(-np.log(21.0 / 221.0), abs=1e-6)
    assert rarity[3] == rarity[4] == pytest.approx(np.log(221.0), abs=1e-6)


def test_a_vocabulary_of_an_earlier_release_reads_slugs_one_by_one_and_its_calls_within_two_seconds() -> None:
    # GIVEN a vocabulary that the release before slugs wrote (e6b2c77, features version 3): ten
    # articles read once each and one of them ten times more, each page with a comment count 1.5 s on
    earlier = json.loads((Path(__file__).parent / "data" / "vocabulary-features-v3.json").read_text())
    vocabulary = ResourceVocabulary.from_json(earlier)
    # THEN it reads as that release read it: each article its own template, calls within 2 s
    assert (vocabulary.subrequest_seconds, vocabulary.slugs) == (2.0, False)
    rarity = [
        vocabulary.resource_columns(f"/news/2026/{path}/")[0]
        for path in ("11/10/alpha-council-votes", "11/10/bravo-council-votes", "12/04/storm-closes-the-coast-road")
    ]
    # (the values that release computed: seen 11 times, once, never, of 40 requests)
    assert rarity == pytest.approx([1.2286654169163076, 3.0204248861443626, 3.713572066704308])
    assert vocabulary.is_subrequest("/api/comments/count")
    # AND written again it stays what it was, which that release can read
    assert vocabulary.to_json()["v"] == 3
    again = ResourceVocabulary.from_json(vocabulary.to_json())
    assert again.resource_columns("/news/2026/11/10/bravo-council-votes/")[0] == pytest.approx(3.0204248861443626)
    # AND one learned now is version 11 (which that release's version check refuses rather than
    # misreads) and carries its window: without it, this code refuses it as malformed
    learned = ResourceVocabulary.learn([event(START, "u", "page_view", resource="/news/a-b-c/")]).to_json()
    assert (learned["v"], learned["subrequest_seconds"]) == (11, 5.0)
    with pytest.raises(InvalidStateError, match="vocabulary"):
        ResourceVocabulary.from_json({key: value for key, value in learned.items() if key != "subrequest_seconds"})


def test_a_slug_with_a_file_extension_is_one_template_and_a_version_4_vocabulary_keeps_its_own() -> None:
    # GIVEN a news site whose articles and live blogs end in .html and .json, learned now
    training = [f"/2026/11/{10 + n % 20}/council-votes-on-budget-item-{n}.html" for n in range(50)]
    training += [f"/api/live/storm-warning-day-{n}.json" for n in range(50)]
    learned = ResourceVocabulary.learn([event(START, "u", "page_view", resource=path) for path in training])
    vocabulary = ResourceVocabulary.from_json(json.loads(json.dumps(learned.to_json())))
    # THEN today's article and today's live blog, never seen, read as common as their kind
    common = -np.log(51.0 / 101.0)
    assert vocabulary.resource_columns("/2026/12/04/storm-closes-the-coast-road.html")[0] == pytest.approx(common)
    assert vocabulary.resource_columns("/api/live/lake-effect-snow-warning.json")[0] == pytest.approx(common)
    assert vocabulary.template("/api/live/lake-effect-snow-warning.json") == "/api/live/{slug}.json"
    # AND a page of two words with an extension is its own template
    assert vocabulary.template("/wp-admin/setup-config.php") == "/wp-admin/setup-config.php"
    # AND a vocabulary written by the release before (version 4) reads such slugs one by one, as it
    # counted them, and is written again as version 4
    before = ResourceVocabulary.learn([event(START, "u", "page_view", resource=path) for path in training])
    before.slug_extensions = False
    assert before.to_json()["v"] == 4
    again = ResourceVocabulary.from_json(json.loads(json.dumps(before.to_json())))
    assert (again.slugs, again.slug_extensions) == (True, False)
    assert again.template("/api/live/lake-effect-snow-warning.json") == "/api/live/lake-effect-snow-warning.json"
    assert again.template("/news/2026/11/10/storm-closes-the-road/") == "/news/0/0/0/{slug}/"


def test_an_id_in_a_path_is_one_template_and_a_version_6_vocabulary_keeps_its_own() -> None:
    # GIVEN a forum whose every open tab long-polls its message bus under a client id of its own,
    # and whose password-reset links carry a token, learned now
    def hex_id(number: int) -> str:
        return hashlib.md5(str(number).encode()).hexdigest()

    training = [f"/message-bus/{hex_id(n)}/poll" for n in range(50)]
    training += [f"/u/password-reset/{hex_id(7)[:20]}", "/latest.json", "/t/12.json"]
    learned = ResourceVocabulary.learn([event(START, "u", "page_view", resource=path) for path in training])
    vocabulary = ResourceVocabulary.from_json(json.loads(json.dumps(learned.to_json())))
    # THEN a new tab's poll reads as common as the others: one template of ids
    assert vocabulary.template(f"/message-bus/{hex_id(999)}/poll") == "/message-bus/{id}/poll"
    assert vocabulary.resource_columns(f"/message-bus/{hex_id(999)}/poll")[0] == pytest.approx(-np.log(51.0 / 54.0))
    assert vocabulary.template("/u/password-reset/9f86d081884c7d659a2f.json") == "/u/password-reset/{id}.json"
    # AND a word or a number of that length, a word with figures in it, or a short code, is no id
    names = ("/docs/internationalization", "/orders/12345678901234567890", "/p/ab12cd34ef", "/docs/html5boilerplate")
    for path in (*names, "/products/iphone15promaxcase", "/user/john2000smithsonian/settings"):
        assert "{id}" not in vocabulary.template(path)
    # AND one of version 7 collapses any 16 letters and figures in a word, as it learned them
    learned.hex_ids = False
    assert learned.to_json()["v"] == 7
    word_ids = ResourceVocabulary.from_json(json.loads(json.dumps(learned.to_json())))
    assert word_ids.template("/docs/html5boilerplateguide") == "/docs/{id}"
    assert word_ids.template(f"/message-bus/{hex_id(1)}/poll") == "/message-bus/{id}/poll"
    # AND a vocabulary written by the release before (version 6) reads ids one by one, as it counted
    # them, and is written again as version 6
    learned.ids = False
    assert learned.to_json()["v"] == 6
    before = ResourceVocabulary.from_json(json.loads(json.dumps(learned.to_json())))
    assert (before.ids, before.popular_now) == (False, True)
    assert before.template(f"/message-bus/{hex_id(1)}/poll") == "/message-bus/c0ca0a0b0dcc0a0f0b/poll"


def test_widest_possible_states_fit_the_documented_bounds() -> None:
    # GIVEN states whose every set is full and every number as wide as the update rules allow
    widest_hash, widest_minute = 2**32 - 1, 10**9  # minutes up to year 3870
    widest_count = 999_999.999999  # counters are capped at MAX_DECAYED_COUNT (the width is the stored double's)
    user = UserState(
        last_seen=-1.2345678901234567e18,
        rate_fast=widest_count,
        rate_slow=widest_count,
        failures_slow=widest_count,
        gap_mean=widest_count,
        gap_deviation=widest_count,
        new_agents=widest_count,
        total_events=2**53,
        hour_histogram=[999_999.9999] * 24,
        recent_ips=[(widest_hash, widest_minute)] * MAX_RECENT_IPS,
        recent_agents=[widest_hash] * 4,
        recent_countries=[(widest_hash, widest_minute)] * 4,
        recent_paths=[widest_hash] * 16,
        recent_networks=[widest_hash] * MAX_RECENT_NETWORKS,
    )
    ip = IpState(
        last_seen=-1.2345678901234567e18,
        rate_fast=widest_count,
        rate_slow=widest_count,
        failures_slow=widest_count,
        new_users_slow=widest_count,
        recent_users=[(widest_hash, widest_minute)] * 32,
    )
    # THEN they serialize within the bounds (the user's within one DynamoDB write unit) and round-trip exactly
    assert len(user.to_bytes()) <= MAX_USER_STATE_BYTES <= DYNAMODB_WRITE_UNIT_BYTES
    assert len(ip.to_bytes()) <= MAX_IP_STATE_BYTES
    assert UserState.from_bytes(user.to_bytes()) == user
    assert IpState.from_bytes(ip.to_bytes()) == ip


def test_states_stored_as_json_by_earlier_releases_are_still_read() -> None:
    # GIVEN states in the JSON form earlier releases stored
    result = featurize(None, normal_traffic(users=1, days=2))
    user, [ip_state, *_] = result.state, list(result.ip_states.values())
    user_json = json.dumps(user.to_json(), separators=(",", ":")).encode()
    ip_json = json.dumps(ip_state.to_json(), separators=(",", ":")).encode()
    # THEN they read back to the same states, which are now stored in the binary form
    assert UserState.from_bytes(user_json) == user
    assert IpState.from_bytes(ip_json) == ip_state
    assert user.to_bytes()[0] == STATE_FORMAT
    assert ip_state.to_bytes()[0] == IP_STATE_FORMAT


def test_states_of_features_version_2_are_read_on_upgrade_and_older_ones_refused() -> None:
    # GIVEN a user's and an address's states as version 2 stored them (the same layout)
    events = [item for item in normal_traffic(3, 2) if item["user_id"] == "user-0001"]
    result = featurize(None, events, network_of=lambda ip: NetworkInfo("FR", 1, None, False))
    user, address = result.state, next(iter(result.ip_states.values()))
    assert user.recent_countries
    assert address.recent_users
    for state, kind in ((user, UserState), (address, IpState)):
        stored = state.to_bytes()
        version_2 = stored[:1] + bytes([2]) + stored[2:]
        # THEN they are read as they are, and written back as the current version
        assert kind.from_bytes(version_2) == state
        assert kind.from_bytes(version_2).to_bytes() == stored
        # AND a version before 2 is refused
        with pytest.raises(InvalidStateError, match="features version 1; this code is 3"):
            kind.from_bytes(stored[:1] + bytes([1]) + stored[2:])
    assert UserState.from_json({**user.to_json(), "v": 2}) == user


def test_ip_states_stored_by_the_release_before_mergeable_ones_are_still_read() -> None:
    # GIVEN an IP state in the binary form of the previous release: no event count, and its users
    # most recently seen first (here a user seen in minute 7 after one seen in minute 9, a late event)
    users = [(11, 7), (12, 9), (13, 5)]
    pairs = [value for pair in users for value in pair]
    legacy = struct.pack(f"<BBB 5d B {'Iq' * len(users)}", STATE_FORMAT, 2, 1, 600.0, 1.5, 2.5, 0.5, 1.0, 3, *pairs)
    # WHEN it is read
    state = IpState.from_bytes(legacy)
    # THEN its counts are kept, its event count is unknown (0), and its users are in the order a
    # mergeable state keeps (greatest minute, then hash, first); it is written back in the new form
    assert (state.last_seen, state.rate_fast, state.rate_slow, state.failures_slow, state.new_users_slow) == (
        600.0,
        1.5,
        2.5,
        0.5,
        1.0,
    )
    assert state.events == 0
    assert state.recent_users == [(12, 9), (11, 7), (13, 5)]
    assert IpState.from_bytes(state.to_bytes()) == state


@pytest.mark.parametrize(
    "legacy",
    [
        {"n": 1e999},  # not an integer
        {"n": -1},  # a negative count
        {"ua": [2**40]},  # not a 32-bit hash
        {"ip": [[1, 2**70]]},  # a minute beyond 64 bits
    ],
)
def test_legacy_json_states_the_stored_form_cannot_hold_are_rejected(legacy) -> None:
    data = json.dumps({**UserState().to_json(), **legacy}).encode()
    with pytest.raises(InvalidStateError):
        UserState.from_bytes(data)


def test_deeply_nested_json_state_is_rejected_not_a_recursion_error() -> None:
    with pytest.raises(InvalidStateError, match="not JSON"):
        IpState.from_bytes(b'{"v":' + b"[" * 100_000 + b"]" * 100_000 + b"}")


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda data: data[:-1], "bytes where its sets need"),
        (lambda data: data + b"\x00", "bytes where its sets need"),
        (lambda data: data[:10], "truncated"),
        (lambda data: data[:1] + b"\x63" + data[2:], "features version 99"),
        (lambda data: data[:-4] + b"\x63\x00\x00\x00", None),  # a hash changed: still a valid state
    ],
)
def test_mangled_binary_states_are_rejected_with_the_reason(mangle, reason) -> None:
    data = featurize(None, normal_traffic(users=1, days=2)).state.to_bytes()
    if reason is None:
        UserState.from_bytes(mangle(data))
        return
    with pytest.raises(InvalidStateError, match=reason):
        UserState.from_bytes(mangle(data))


def test_a_state_claiming_more_members_than_its_sets_hold_is_rejected() -> None:
    ip_state = IpState(last_seen=1.0, recent_users=[(1, 2)] * 3)
    data = bytearray(ip_state.to_bytes())
    data[_IP_HEAD_COUNT_OFFSET] = MAX_IP_USERS + 1
    with pytest.raises(InvalidStateError, match="more than"):
        IpState.from_bytes(bytes(data))


def test_feature_module_stays_light_for_the_lambda_bundle() -> None:
    # The scorer's bundle carries model.features (and model.artifact for the vocabulary): importing
    # them must not pull in scikit-learn, scipy or pandas.
    code = (
        "import sys, model.features, model.artifact, model.serving; "
        "heavy = sorted(m for m in ('sklearn', 'scipy', 'pandas', 'joblib') if m in sys.modules); "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert result.stdout.strip() == ""


def test_event_times_in_the_wire_form_read_as_datetime_does() -> None:
    # GIVEN canonical wire timestamps, many sharing a second (the cached path) and some not,
    # across a leap day, the epoch, and far past and future years
    rng = random.Random(5)
    seconds = [0, 951_782_400, 1_709_164_800, 1_767_225_599, -62_135_596_800, 253_402_300_799]
    seconds += [rng.randrange(-62_135_596_800, 253_402_300_800) for _ in range(200)]
    stamps = [
        contract.format_timestamp(datetime.fromtimestamp(second, UTC) + timedelta(microseconds=micro))
        for second in seconds
        for micro in (0, 1, 499_999, 999_999, rng.randrange(1_000_000))
    ]
    for _ in range(2):  # the second pass reads every second from the cache
        for stamp in stamps:
            expected = contract.parse_timestamp(stamp).timestamp()
            assert event_time({"occurred_at": stamp}) == expected, stamp
    # AND a cached second does not let a malformed fraction through (Arabic-Indic digits included)
    for fraction in ("12a456", "\u0661\u0662\u0663\u0664\u0665\u0666", "-12345"):
        bad = stamps[0][:20] + fraction + "Z"
        with pytest.raises(InvalidFeatureEventError, match="occurred_at"):
            event_time({"occurred_at": bad})


def test_values_equal_up_to_float_noise_give_equal_features() -> None:
    # GIVEN two users whose decayed rates differ only by float noise (one exactly 0, one 1e-12)
    quiet = UserState(last_seen=START.timestamp() - 3600)
    noisy = UserState(last_seen=START.timestamp() - 3600, rate_fast=1e-12, rate_slow=1e-12)
    login = event(START, "u", "login_succeeded", status=200)
    # THEN they get the same rows: a rank-based detector must not order the noise
    assert featurize(quiet, [login]).rows == featurize(noisy, [login]).rows
    # AND rows are on the grid of ROW_DECIMALS decimals
    rows = np.asarray(featurize_batch(normal_traffic(5, 1)).rows)
    assert np.array_equal(rows, np.round(rows, ROW_DECIMALS))


def _travel(steps: list[tuple[float, str, bool]], failed: frozenset[int] = frozenset()) -> list[float]:
    """The travel column of one user's events: (minutes after START, country, from a hosting network);
    the events numbered in ``failed`` are failed logins."""
    places = {
        f"203.0.113.{number}": NetworkInfo(country, 64500 + number, None, hosting)
        for number, (_, country, hosting) in enumerate(steps)
    }
    events = [
        event(
            START + timedelta(minutes=minutes),
            "traveller",
            "login_failed" if number in failed else "page_view",
            ip=f"203.0.113.{number}",
        )
        for number, (minutes, _, _) in enumerate(steps)
    ]
    rows = featurize(None, events, network_of=places.get).rows
    return column(rows, "travel_beyond_flight")


def _beyond_flight(country: str, other: str, minutes: float) -> float:
    distance = travel.country_distance_km(stable_hash(country), stable_hash(other))
    assert distance is not None
    return math.log1p(distance / (minutes / 60) / travel.FLIGHT_KMH - 1)


def test_travel_beyond_a_flight_is_measured_from_the_users_recent_countries() -> None:
    # GIVEN a page view in Paris, then a login from Japan 15 minutes later, a page there a minute
    # after, and France again five hours later
    values = _travel([(0, "FR", False), (15, "JP", False), (16, "JP", False), (300, "FR", False)])
    # THEN a first event has nowhere to come from
    assert values[0] == 0.0
    # AND Japan is 9,718 km from France (the nearest places the tz database gives them), covered in
    # 15 minutes: 39,000 km/h, 38 times an airliner; a minute later it is still measured from France
    assert values[1] == pytest.approx(_beyond_flight("FR", "JP", 15), abs=1e-6)
    assert values[1] > 3.6
    assert values[2] == pytest.approx(_beyond_flight("FR", "JP", 16), abs=1e-6)
    # AND back in France 284 minutes after Japan: 2,050 km/h, faster than a flight still
    assert values[3] == pytest.approx(_beyond_flight("JP", "FR", 284), abs=1e-6)
    assert 0 < values[3] < 1


def test_travel_a_flight_allows_is_no_evidence() -> None:
    # across a border in half an hour (175 km), and from Belgium to the US a day later
    assert _travel([(0, "NL", False), (30, "BE", False), (24 * 60, "US", False)]) == [0.0, 0.0, 0.0]


def test_hosting_networks_and_failed_logins_are_not_places_a_user_has_been() -> None:
    # GIVEN a user in France who switches a VPN exit in Japan on and off within minutes
    assert _travel([(0, "FR", False), (2, "JP", True), (4, "FR", False), (6, "JP", True)]) == [0.0] * 4
    # AND a user in France whose name someone tries from Japan, between two of their page views
    values = _travel([(0, "FR", False), (2, "JP", False), (4, "FR", False)], failed=frozenset({1}))
    # THEN the attempt itself reads as travel, and the user's next page from home does not
    assert values[1] > 3
    assert values[2] == 0.0


def test_a_late_event_is_measured_against_where_the_user_was_after_it() -> None:
    # GIVEN a user seen in Japan at minute 30, then an event dated minute 10 from France arriving late
    japan, france, minute = stable_hash("JP"), stable_hash("FR"), int(START.timestamp() // 60)
    late = travel.travel_speed_kmh([(japan, minute + 30)], france, START.timestamp() + 10 * 60)
    # THEN the speed is the distance over the most time there can be between them: 21 minutes
    assert late == pytest.approx(travel.country_distance_km(france, japan) / (21 / 60))  # type: ignore[operator]


def test_travel_ignores_countries_the_tz_database_does_not_know() -> None:
    assert _travel([(0, "FR", False), (5, "EU", False), (6, "FR", False)]) == [0.0, 0.0, 0.0]


def test_country_places_come_from_the_tz_database_and_name_every_country_by_its_hash() -> None:
    table = travel.places_by_hash()
    assert len(table) >= 240
    assert stable_hash("FR") in table
    assert stable_hash("JP") in table
    # the nearest places of two countries: the US's Aleutian zone (Adak) is nearer Tokyo than New York is
    assert travel.country_distance_km(stable_hash("US"), stable_hash("JP")) == pytest.approx(3_862, abs=1)
    parsed = travel.parse_zone_table("# comment\nFR\t+4852+00220\tEurope/Paris\nXX\t-123456+0123456\tX/Y\n")
    assert parsed["FR"] == ((math.radians(48 + 52 / 60), math.radians(2 + 20 / 60)),)
    assert parsed["XX"][0][0] == pytest.approx(math.radians(-(12 + 34 / 60 + 56 / 3600)))
    with pytest.raises(ValueError, match="cannot read the coordinates '48N' of FR"):
        travel.parse_zone_table("FR\t48N\tEurope/Paris\n")
