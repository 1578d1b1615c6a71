"""Search-as-you-type calls in an access log, marked as the page's own.

A search box that suggests as the visitor types calls the site once a keystroke or two
(``/api/search/suggest?q=ce``, ``?q=cel``, ``?q=cela``), seconds after its page loaded: too late to
be read as one of the page's own calls by time alone (``model.features.vocabulary``), so each would
count as a page of its own, and a person who typed a word read as a client paging in quick
succession through the same few pages. A call is typed ahead when it follows its session's (or else
its user's) call to the same path within ``TYPING_SECONDS``, with the same parameters, one of whose values grew or
shrank by what was typed or erased (``ce`` -> ``cel``), and a cache-buster that changed its number
(jQuery's ``_=1700000000000``; ``CACHE_BUSTERS``). The first call of a word stays a request of its own:
the search. The importer marks the others ``properties.typed_ahead``, and the entity stage counts
them with the page they were typed on (``model.entities.Evidence.observe``). A script that runs
searches sends whole words, not a word's every prefix; one that does is reading suggestions, and is
still read by its pages; and a session that has had ``MAX_TYPED_RUN`` calls to a path marked in a
row has no more marked there, so a client cannot hide its requests behind the mark.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from urllib.parse import parse_qsl

from model.entities import TYPED_AHEAD
from traffic.simulator import LabeledEvent
from vedette.events import parse_timestamp

TYPING_SECONDS = 10.0
# A keystroke or two, or a word erased or pasted: more than this is another search.
MAX_TYPED_CHARACTERS = 12
# A query longer than this is no search box's (nor worth remembering).
MAX_TYPED_QUERY = 256
# Calls marked in a row, at most: a long word typed a letter at a time, erased and typed again. A
# session that goes on is read by its pages from then on, at that path.
MAX_TYPED_RUN = 40
# The parameters a script adds to defeat caches (jQuery's ``_``), whose number may change as a word is typed.
CACHE_BUSTERS = frozenset({"_", "_t", "t", "ts", "timestamp", "cb", "nocache"})
# Session paths whose last call is remembered: the oldest are forgotten first.
MAX_TYPING_CLIENTS = 20_000


def _typed_after(before: str, after: str) -> bool:
    """Whether the query ``after`` is ``before`` with one value typed on or erased (and a cache-buster
    changed)."""
    old_pairs = parse_qsl(before, keep_blank_values=True)
    new_pairs = parse_qsl(after, keep_blank_values=True)
    if [name for name, _ in old_pairs] != [name for name, _ in new_pairs]:
        return False
    typed = 0
    for (name, old), (_, new) in zip(old_pairs, new_pairs, strict=True):
        if old == new or (name in CACHE_BUSTERS and old.isdigit() and new.isdigit()):
            continue
        shorter, longer = sorted((old.casefold(), new.casefold()), key=len)
        if not shorter or not longer.startswith(shorter) or len(longer) - len(shorter) > MAX_TYPED_CHARACTERS:
            return False
        typed += 1
    return typed == 1


def with_typed_ahead(events: Iterable[LabeledEvent]) -> Iterator[LabeledEvent]:
    """``events`` (in time order), each call typed ahead marked ``properties.typed_ahead``: a GET
    answered without failing (a probe that fails counts as a page), its session's (or else user's)
    previous call to the same path within ``TYPING_SECONDS`` with one value typed on or erased; none
    after ``MAX_TYPED_RUN`` in a row at that path."""
    # (session or user, path) -> the time and query of its last call, and the calls marked in a row
    last_call: OrderedDict[tuple[str, str], tuple[float, str, int]] = OrderedDict()
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
        before = last_call.pop(key, None)
        run = 0
        if before is not None and before[2] >= MAX_TYPED_RUN:
            run = MAX_TYPED_RUN  # (no more at this path)
        elif before is not None and 0.0 <= moment - before[0] <= TYPING_SECONDS and _typed_after(before[1], query):
            properties[TYPED_AHEAD] = True
            run = before[2] + 1
        last_call[key] = (moment, query, run)
        if len(last_call) > MAX_TYPING_CLIENTS:
            last_call.popitem(last=False)
        yield item
