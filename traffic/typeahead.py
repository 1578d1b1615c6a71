"""Search-as-you-type calls in an access log, marked as the page's own.

A search box that suggests as the visitor types calls the site once a keystroke or two
(``/api/search/suggest?q=ce``, ``?q=cel``, ``?q=cela``), seconds after its page loaded: too late to
be read as one of the page's own calls by time alone (``model.features.vocabulary``), so each would
count as a page of its own, and a person who typed a word read as a client paging in quick
succession through the same few pages. A call is typed ahead when it follows its session's (or else
its user's) call to the same path within ``TYPING_SECONDS``, with the same parameters, one of whose values grew or
shrank by what was typed or erased (``ce`` -> ``cel``), and a cache-buster that changed its number
(jQuery's ``_=1700000000000``; ``CACHE_BUSTERS``), within a minute of the word's first call, not a
query the word has sent already. The first call of a word stays a request of its own:
the search. The importer marks the others ``properties.typed_ahead``, and the entity stage counts
them with the page they were typed on (``model.entities.Evidence.observe``). A script that runs
searches sends whole words, not a word's every prefix; one that does is reading suggestions, and is
still read by its pages; and a session has at most ``MAX_TYPED_CALLS`` calls marked at a path, so a
client cannot hide more than that behind the mark.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import NamedTuple
from urllib.parse import parse_qsl

from model.entities import TYPED_AHEAD
from traffic.simulator import LabeledEvent
from vedette.events import parse_timestamp

TYPING_SECONDS = 10.0
# A word is typed within this of its first call: a chain of calls longer than this is another search.
WORD_SECONDS = 60.0
# A keystroke or two, or a word erased or pasted: more than this is another search.
MAX_TYPED_CHARACTERS = 12
# A query longer than this is no search box's (nor worth remembering).
MAX_TYPED_QUERY = 512
# Calls marked per session (or user) and path, at most: a dozen words typed a letter at a time. A
# client that goes on is read by its pages from then on, there.
MAX_TYPED_CALLS = 80
# The parameters scripts add to defeat caches (jQuery's ``_``, Ext JS's ``_dc``), whose number may
# change as a word is typed.
CACHE_BUSTERS = frozenset({"_", "_t", "_dc", "timestamp", "cb", "nocache", "cachebuster", "rnd", "rand"})
_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# Session paths whose last call is remembered: the oldest are forgotten first.
MAX_TYPING_CLIENTS = 20_000


class _Chain(NamedTuple):
    """A session's calls to one path: the last one's time and query, when its word's first call came,
    the calls marked there so far, and the queries (cache-busters left out) of the word so far."""

    moment: float
    query: str
    started: float
    marked: int
    words: frozenset[int]


def _word(pairs: list[tuple[str, str]]) -> int:
    """A query's identity without its cache-busters."""
    return hash(tuple((name, value.casefold()) for name, value in pairs if name not in CACHE_BUSTERS))


def _typed_after(old_pairs: list[tuple[str, str]], new_pairs: list[tuple[str, str]]) -> bool:
    """Whether the query ``new_pairs`` is ``old_pairs`` with one value typed on or erased (and a
    cache-buster's number changed)."""
    if [name for name, _ in old_pairs] != [name for name, _ in new_pairs]:
        return False
    typed = 0
    for (name, old), (_, new) in zip(old_pairs, new_pairs, strict=True):
        if old == new or (name in CACHE_BUSTERS and _NUMBER_RE.fullmatch(old) and _NUMBER_RE.fullmatch(new)):
            continue
        shorter, longer = sorted((old.casefold(), new.casefold()), key=len)
        if not shorter or not longer.startswith(shorter) or len(longer) - len(shorter) > MAX_TYPED_CHARACTERS:
            return False
        typed += 1
    return typed == 1


def with_typed_ahead(events: Iterable[LabeledEvent]) -> Iterator[LabeledEvent]:
    """``events`` (in time order), each call typed ahead marked ``properties.typed_ahead``: a GET
    answered without failing, its session's (or else user's) previous call to the same path within
    ``TYPING_SECONDS`` with one value typed on or erased, within ``WORD_SECONDS`` of its word's first
    call, a query not already sent for that word, and no more than ``MAX_TYPED_CALLS`` there."""
    chains: OrderedDict[tuple[str, str], _Chain] = OrderedDict()
    for item in events:
        event = item.event
        resource = event.get("resource")
        properties = event.get("properties")
        client = event.get("session_id") or event.get("user_id")
        status = event.get("status")
        if (
            not isinstance(resource, str)
            or "?" not in resource
            or not isinstance(properties, dict)
            or not client
            or str(properties.get("method", "GET")).upper() != "GET"
            or (isinstance(status, int) and status >= 400)
        ):
            yield item
            continue
        path, query = resource.split("?", 1)
        if len(query) > MAX_TYPED_QUERY:
            yield item
            continue
        key = (str(client), path)
        moment = parse_timestamp(event["occurred_at"]).timestamp()
        pairs = parse_qsl(query, keep_blank_values=True)
        word = _word(pairs)
        before = chains.pop(key, None)
        if (
            before is not None
            and 0.0 <= moment - before.moment <= TYPING_SECONDS
            and _typed_after(parse_qsl(before.query, keep_blank_values=True), pairs)
        ):
            # The same word typed on or erased: marked unless it took too long, came back to a
            # query sent already (a loop), or the path's calls marked are spent; the word goes on.
            mark = (
                before.marked < MAX_TYPED_CALLS and moment - before.started <= WORD_SECONDS and word not in before.words
            )
            if mark:
                properties[TYPED_AHEAD] = True
            chain = _Chain(moment, query, before.started, before.marked + mark, before.words | {word})
        else:
            chain = _Chain(moment, query, moment, before.marked if before else 0, frozenset({word}))
        chains[key] = chain
        if len(chains) > MAX_TYPING_CLIENTS:
            chains.popitem(last=False)
        yield item
