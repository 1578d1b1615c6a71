"""Search-as-you-type calls in an access log, marked as the page's own.

A search box that suggests as the visitor types calls the site once a keystroke or two
(``/api/search/suggest?q=ce``, ``?q=cel``, ``?q=cela``), seconds after its page loaded: too late to
be read as one of the page's own calls by time alone (``model.features.vocabulary``), so each would
count as a page of its own, and a person who typed a word read as a client paging in quick
succession through the same few pages. A call is typed ahead when it follows the same client's call
to the same path within ``TYPING_SECONDS``, with the same parameters, one of whose values grew or
shrank by what was typed or erased (``ce`` -> ``cel``), and any other that changed a number (a
cache-buster: jQuery's ``_=1700000000000``). The first call of a word stays a request of its own:
the search. The importer marks the others ``properties.typed_ahead``, and the entity stage counts
them with the page they were typed on (``model.entities.Evidence.observe``). A script that runs
searches sends whole words, not a word's every prefix; one that does is reading suggestions, and is
still read by its pages.
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
# Clients whose last call is remembered: the oldest are forgotten first.
MAX_TYPING_CLIENTS = 50_000


def _typed_after(before: list[tuple[str, str]], after: list[tuple[str, str]]) -> bool:
    """Whether the query ``after`` is ``before`` with one value typed on or erased (and numbers changed)."""
    if len(before) != len(after) or [name for name, _ in before] != [name for name, _ in after]:
        return False
    typed = 0
    for (_, old), (_, new) in zip(before, after, strict=True):
        if old == new:
            continue
        if old.isdigit() and new.isdigit():
            continue
        shorter, longer = sorted((old.casefold(), new.casefold()), key=len)
        if not shorter or not longer.startswith(shorter) or len(longer) - len(shorter) > MAX_TYPED_CHARACTERS:
            return False
        typed += 1
    return typed == 1


def with_typed_ahead(events: Iterable[LabeledEvent]) -> Iterator[LabeledEvent]:
    """``events`` (in the log's order), each call typed ahead marked ``properties.typed_ahead``."""
    last_call: OrderedDict[tuple[str, str], tuple[float, list[tuple[str, str]]]] = OrderedDict()
    for item in events:
        event = item.event
        resource = event.get("resource")
        properties = event.get("properties")
        client = event.get("session_id") or event.get("user_id")
        if not isinstance(resource, str) or "?" not in resource or not isinstance(properties, dict) or not client:
            yield item
            continue
        if str(properties.get("method", "GET")).upper() != "GET":
            yield item
            continue
        path, query = resource.split("?", 1)
        key = (str(client), path)
        moment = parse_timestamp(event["occurred_at"]).timestamp()
        pairs = parse_qsl(query, keep_blank_values=True)
        before = last_call.pop(key, None)
        if before is not None and 0.0 <= moment - before[0] <= TYPING_SECONDS and _typed_after(before[1], pairs):
            properties[TYPED_AHEAD] = True
        last_call[key] = (moment, pairs)
        if len(last_call) > MAX_TYPING_CLIENTS:
            last_call.popitem(last=False)
        yield item
