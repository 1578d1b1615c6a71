"""The resource and client against what normal traffic used in training: ``ResourceVocabulary``.

The vocabulary is learned once from the training events, shipped in the model artifact, and
passed read-only to ``featurize`` by training and the scorer alike; without one its columns are 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from model.exceptions import InvalidStateError
from model.features.events import event_field, event_time, stable_hash
from model.features.popularity import FOLLOWED_SHARE, NOT_POPULAR, PathPopularity
from model.features.resources import is_page_asset, request_method, resource_template, suspicious_tokens
from model.features.state import FEATURES_VERSION, check_version

VOCABULARY_COLUMNS = (
    "resource_path_rarity",
    "resource_unknown_params",
    "resource_value_class_violations",
    "resource_value_length_excess",
    "agent_family_rarity",
)
NO_VOCABULARY = (0.0,) * len(VOCABULARY_COLUMNS)

# Character classes of parameter values, as bits of a mask.
_CLASS_DIGIT, _CLASS_LETTER, _CLASS_SPACE, _CLASS_PUNCT, _CLASS_SPECIAL, _CLASS_OTHER = 1, 2, 4, 8, 16, 32
_PUNCTUATION = frozenset(".-_@,/:")
MAX_VOCABULARY_PATHS = 20_000
MAX_VOCABULARY_PARAMS = 50_000
MAX_VOCABULARY_AGENTS = 2_000
_AGENT_FAMILY_LENGTH = 32
# The product names browsers' agents start with, whose browser is read from the rest: a family of
# its own per browser. One "mozilla" family for all hid a bot fleet's browser that no person used
# (a public analysis of the web-bot dataset of Iliou et al. reports its first phase's people all on
# Chrome and its bots all on Opera).
_BROWSER_PRODUCTS = frozenset({"mozilla", "opera"})
_BROWSER_SEPARATOR = ":"  # between a browser's product name and its own (``mozilla:chrome``)
_UNNAMED_BROWSER = _BROWSER_SEPARATOR + "other"  # (ua-parser's name for a browser it does not know)
# A named browser of at least this share of training's requests is common: its rarity reads 0, and
# only rarer ones count, by how rare. Browsers differ in share by habit (Firefox's people are no
# stranger than Chrome's), and read apart they set people's episodes apart by their browser, which
# widened the entity stage's training spread (trial 62: 5 of its 50 advanced bots fewer alerted).
# Apps and tools keep their rarity whatever their share, as before browsers were named.
COMMON_AGENT_SHARE = 0.01
_COMMON_AGENT_RARITY = -math.log(COMMON_AGENT_SHARE)
# A browser's page fires its own calls (cart counts, recommendations, reviews, ad slots, consent and
# analytics beacons) as it loads, some of them seconds after it: a path template that the training
# traffic requested this soon after the same client's page, nearly every time, from several clients,
# is part of a page, not a page (``ResourceVocabulary.subrequests``). Clients are sessions, or users
# where events carry no session; the importer's ``anonymous`` (no session, user, address or agent) is
# everyone at once, whose requests interleave.
SUBREQUEST_SECONDS = 5.0
# The window of vocabularies learned before it was shipped with them.
_FIRST_SUBREQUEST_SECONDS = 2.0
# Vocabularies whose rarity the share of visits now lowers (``model.features.popularity``) are
# version 6, and their models were trained reading it; earlier ones read training's alone, as they
# were calibrated. Vocabularies that collapse slugs with their file extension (``.html``, ``.json``) are version 5;
# those of version 4 collapsed slugs without one only and shipped their window first; those of
# features version 3, before, counted slugs one by one. Vocabularies that collapse ids (``_ID_RE``)
# and read the visits now as lasting (``PathPopularity.read``) are version 8; those of version 7 did
# so with any 16 letters and figures an id (``_WORD_ID_RE``). Vocabularies whose pages under a section
# popular now read as common as it (``ResourceVocabulary.read``) are version 9. Each is read
# as written, and earlier releases refuse the later versions (they would read every article as rare).
# Vocabularies that count browsers by name (``agent_family``) are version 10; those whose rare
# browsers read as common as their share of the clients arriving now (``agent_rarity``), 11.
VOCABULARY_VERSION = 11
_BROWSERS_VERSION = 10
_SECTIONS_VERSION = 9
_HEX_IDS_VERSION = 8
_WORD_IDS_VERSION = 7
_POPULAR_NOW_VERSION = 6
_SLUG_EXTENSIONS_VERSION = 5
_PLAIN_SLUGS_VERSION = 4
# How far up a page's template a section popular now may lie (``ResourceVocabulary.read``): a
# development's gallery, its floor plans' page; not a probe four levels under it.
SECTION_LEVELS = 2
SUBREQUEST_SHARE = 0.8
MIN_SUBREQUEST_COUNT = 5
MIN_SUBREQUEST_CLIENTS = 3
_UNIDENTIFIED = frozenset({None, "", "anonymous"})


class ResourceReading(NamedTuple):
    """A resource's vocabulary columns, and whether pages poll it now (``model.features.popularity``)."""

    columns: list[float]
    polled: bool


def agent_family(agent: str, browsers: bool = True) -> str:
    """The product name a user agent starts with (``okhttp``, ``python-requests``...) and, for the
    ``Mozilla/5.0`` every browser starts with, the browser's name as ua-parser reads it
    (``model.user_agents.browser_name``): ``mozilla:chrome``, ``mozilla:opera``, ``mozilla:mobile
    safari`` (``mozilla`` alone where ``browsers`` is False, as vocabularies before version 10
    counted them)."""
    product = agent.split("/", 1)[0].split(" ", 1)[0].strip().lower()[:_AGENT_FAMILY_LENGTH]
    if not browsers or product not in _BROWSER_PRODUCTS:
        return product
    # (imported here: the model artifact ships this module without the parsers, and never reads an agent)
    from model.user_agents import browser_name

    return f"{product}{_BROWSER_SEPARATOR}{browser_name(agent)[:_AGENT_FAMILY_LENGTH]}"


def _char_classes(value: str) -> int:
    mask = 0
    for char in value:
        if char.isdigit():
            mask |= _CLASS_DIGIT
        elif char.isascii() and char.isalpha():
            mask |= _CLASS_LETTER
        elif char in " +":
            mask |= _CLASS_SPACE
        elif char in _PUNCTUATION:
            mask |= _CLASS_PUNCT
        elif char.isascii():
            mask |= _CLASS_SPECIAL
        else:
            mask |= _CLASS_OTHER
    return mask


# A path segment of three or more words: an article's, a product's or a post's slug, and the same
# before a file extension (``storm-closes-the-road.html``, a live blog's ``snow-warning-update.json``).
_SLUG_RE = re.compile(r"(?<=/)[a-z0-9]+(?:[-_][a-z0-9]+){2,}(?=(?:\.[a-z0-9]{1,5})?(?:/|$))")
_PLAIN_SLUG_RE = re.compile(r"(?<=/)[a-z0-9]+(?:[-_][a-z0-9]+){2,}(?=/|$)")  # version 4's: none with an extension
# A path segment of 16 or more hexadecimal digits, figures and letters both: an id a program made, a
# hash or a token (a tab's message-bus client ``6b6f2b00b95f57174a373aeccb98d601``, a database's object
# id, a reset link's token, a file's content hash). Hexadecimal only: a word with a figure in it
# (``html5boilerplate``, ``windows10enterprise``) is a page's name, kept apart. Each id is new to
# training; counted one by one, every tab of a forum left open long-polled a path never seen (a
# new-user trial: 3 of its 6 normal sessions that alerted).
_ID_RE = re.compile(r"(?<=/)(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{16,}(?=(?:\.[a-z0-9]{1,5})?(?:/|$))")
_WORD_ID_RE = re.compile(r"(?<=/)(?=[a-z0-9]*[0-9])(?=[a-z0-9]*[a-z])[a-z0-9]{16,}(?=(?:\.[a-z0-9]{1,5})?(?:/|$))")


def slugless_template(resource: str, extensions: bool = True, ids: re.Pattern[str] | None = _ID_RE) -> str:
    """``resource_template`` with each slug collapsed: ``/news/2024/10/13/mayor-resigns-over-budget/``
    -> ``/news/0/0/0/{slug}/``, ``/live/snow-warning-update.json`` -> ``/live/{slug}.json``, and each
    id (``_ID_RE``): ``/message-bus/6b6f2b00b95f57174a373aeccb98d601/poll`` -> ``/message-bus/{id}/poll``.
    Sites publish new articles and products every day, each under a slug that training never saw;
    counted one by one, today's pages would all read as rare. ``extensions`` False: a slug followed
    by a file extension is left as it is (vocabulary version 4); ``ids``: what an id is (version
    7's ``_WORD_ID_RE``), None for none (vocabularies before version 7)."""
    # (ids before digits collapse: a hash's digit runs collapsed would shorten it below an id's length)
    template = resource_template(ids.sub("{id}", resource.split("?", 1)[0]) if ids is not None else resource)
    return (_SLUG_RE if extensions else _PLAIN_SLUG_RE).sub("{slug}", template)


def _parameters(resource: str, template: Callable[[str], str]) -> tuple[str, list[tuple[str, str]]]:
    """The lower-cased resource's ``template`` and its (name, value) query parameters."""
    text = resource.lower()
    query = text.partition("?")[2]
    pairs = [pair.partition("=") for pair in query.split("&") if pair] if query else []
    return template(text), [(name, value) for name, _, value in pairs]


@dataclass(slots=True)
class ResourceVocabulary:
    """Which resources and clients normal traffic uses: path templates and, per template, each
    parameter's character classes and longest value; user-agent families (``agent_family``).
    Learned once from training events, shipped in the model artifact, and passed read-only to
    ``featurize`` by training and by the scorer alike.

    Bounded: the ``MAX_VOCABULARY_PATHS`` most frequent templates, ``MAX_VOCABULARY_PARAMS`` most
    frequent (template, parameter) pairs and ``MAX_VOCABULARY_AGENTS`` agent families, keyed by
    32-bit hashes. ``subrequests``: the templates that pages fetch as they load rather than pages
    (within ``subrequest_seconds`` of one), which the entity stage counts with the page's assets when
    they come that soon after a page (``model.entities.Evidence.observe``). Templates are
    ``slugless_template``'s, or ``resource_template``'s in a vocabulary learned before slugs were
    collapsed (``slugs`` False: ``VOCABULARY_VERSION``), which keeps reading its own; one learned
    before slugs with a file extension were (``slug_extensions`` False) likewise, and one learned
    before the share of visits now lowered rarity (``popular_now`` False) reads training's alone, and
    one learned before ids were collapsed (``ids`` False) counts each id as it is, and one of
    version 7 (``hex_ids`` False) collapses any 16 letters and figures in a word; those before
    version 9 (``sections`` False) read no page by the section it lies in, and those before version
    10 (``browsers`` False) count every browser as one ``mozilla`` family, and those before version 11
    (``agents_now`` False) read a browser's rarity from training alone.
    """

    total: int = 0
    paths: dict[int, int] = field(default_factory=dict)
    # hash(template ? name) -> [count, character class mask, longest value length]
    params: dict[int, list[int]] = field(default_factory=dict)
    agent_total: int = 0
    agents: dict[int, int] = field(default_factory=dict)
    subrequests: frozenset[int] = frozenset()
    subrequest_seconds: float = SUBREQUEST_SECONDS
    slugs: bool = True
    slug_extensions: bool = True
    popular_now: bool = True
    ids: bool = True
    hex_ids: bool = True
    sections: bool = True
    browsers: bool = True
    agents_now: bool = True
    # The rarity of the median training request for a page (not an asset): a template popular now
    # reads as no commoner.
    typical_rarity: float = 0.0

    def template(self, resource: str) -> str:
        """The template this vocabulary counts ``resource`` (lower-cased) under."""
        if not self.slugs:
            return resource_template(resource)
        ids = (_ID_RE if self.hex_ids else _WORD_ID_RE) if self.ids else None
        return slugless_template(resource, self.slug_extensions, ids)

    @classmethod
    def learn(cls, events: Iterable[Any]) -> ResourceVocabulary:
        """Count the resources of ``events`` (wire dicts or InteractionEvent objects, in time order
        as training replays them)."""
        vocabulary = cls()
        paths = vocabulary.paths
        params = vocabulary.params
        agents = vocabulary.agents
        # Per template, over requests of identified clients: how many, how many came soon after the
        # client's page before, and (up to MIN_SUBREQUEST_CLIENTS) which clients sent those.
        identified: dict[int, int] = {}
        soon_after: dict[int, int] = {}
        soon_clients: dict[int, set[Any]] = {}
        last_page: dict[Any, tuple[float, int]] = {}  # client -> its last non-asset request's time, template
        page_requests: dict[int, int] = {}  # template -> its requests that were not for page assets
        for event in events:
            agent = event_field(event, "user_agent")
            if isinstance(agent, str) and agent:
                vocabulary.agent_total += 1
                family = stable_hash(agent_family(agent, vocabulary.browsers))
                agents[family] = agents.get(family, 0) + 1
            resource = event_field(event, "resource")
            if not isinstance(resource, str) or not resource:
                continue
            vocabulary.total += 1
            template, pairs = _parameters(resource, vocabulary.template)
            key = stable_hash(template)
            paths[key] = paths.get(key, 0) + 1
            asset = is_page_asset(resource, request_method(event))
            if not asset:
                page_requests[key] = page_requests.get(key, 0) + 1
            client = event_field(event, "session_id") or event_field(event, "user_id")
            if client not in _UNIDENTIFIED and not asset:
                identified[key] = identified.get(key, 0) + 1
                moment = event_time(event)
                before = last_page.get(client)
                if before is not None and before[1] != key and 0.0 <= moment - before[0] <= SUBREQUEST_SECONDS:
                    soon_after[key] = soon_after.get(key, 0) + 1
                    senders = soon_clients.setdefault(key, set())
                    if len(senders) < MIN_SUBREQUEST_CLIENTS:
                        senders.add(client)
                else:
                    last_page[client] = (moment, key)
            for name, value in pairs:
                param_key = stable_hash(f"{template}?{name}")
                entry = params.get(param_key)
                if entry is None:
                    params[param_key] = [1, _char_classes(value), len(value)]
                else:
                    entry[0] += 1
                    entry[1] |= _char_classes(value)
                    entry[2] = max(entry[2], len(value))
        vocabulary.subrequests = frozenset(
            key
            for key, count in soon_after.items()
            if identified[key] >= MIN_SUBREQUEST_COUNT
            and count >= SUBREQUEST_SHARE * identified[key]
            and len(soon_clients[key]) >= MIN_SUBREQUEST_CLIENTS
        )
        if len(paths) > MAX_VOCABULARY_PATHS:
            kept = sorted(paths.items(), key=lambda item: (-item[1], item[0]))[:MAX_VOCABULARY_PATHS]
            vocabulary.paths = dict(kept)
        vocabulary.typical_rarity = vocabulary._median_rarity(page_requests)
        if len(params) > MAX_VOCABULARY_PARAMS:
            kept_params = sorted(params.items(), key=lambda item: (-item[1][0], item[0]))[:MAX_VOCABULARY_PARAMS]
            vocabulary.params = dict(kept_params)
        if len(agents) > MAX_VOCABULARY_AGENTS:
            kept_agents = sorted(agents.items(), key=lambda item: (-item[1], item[0]))[:MAX_VOCABULARY_AGENTS]
            vocabulary.agents = dict(kept_agents)
        return vocabulary

    def _median_rarity(self, page_requests: Mapping[int, int]) -> float:
        """The path rarity of the median training request for a page, of those whose template is
        kept (``page_requests``: per template, its requests that were not for page assets)."""
        by_rarity = sorted((self.paths[key], pages) for key, pages in page_requests.items() if key in self.paths)
        half, requests = sum(pages for _, pages in by_rarity) / 2.0, 0
        for count, pages in reversed(by_rarity):
            requests += pages
            if requests >= half:
                return -math.log((count + 1.0) / (self.total + 1.0))
        return 0.0

    def agent_rarity(
        self,
        agent: str | None,
        agents_now: PathPopularity | None = None,
        now: float = 0.0,
        arrival: bool = False,
        ip: str | None = None,
        declared_machine: bool = False,
    ) -> float:
        """How rare the agent's family was in training: -log((count + 1) / (total + 1)); 0 if no
        agent, and 0 for a named browser (``agent_family``) of ``COMMON_AGENT_SHARE`` or more.

        With ``agents_now``, the clients arriving now (an ``arrival`` is a client's first request,
        from ``ip``, not from a hosting network: None counts nothing), a browser rare in training
        that many clients arrive in now, from many networks (``PathPopularity``'s rule for pages),
        reads as rare as its share of them, and as common as any once it is ``COMMON_AGENT_SHARE``
        of them; not one the agent parser declares a bot, headless or a library
        (``declared_machine``: Googlebot's agent names a browser), nor one ua-parser names none of
        (``mozilla:other``, a bare ``Mozilla/5.0``). An in-app browser is rare on most sites until a
        post goes viral: on new-user trial 63 (a shop's day when 3,000 visitors came through
        Instagram's, TikTok's and Facebook's), 3 of them alerted, against 24 read by training
        alone. Apps and tools read training's rarity alone: a fleet's new script is no visit. The
        price: a botnet arriving from about thirteen networks within an hour or two in one rare
        browser makes it as common as its share, for a day; what else is unusual about its requests
        still counts."""
        counting = agents_now is not None and self.agents_now and ip is not None
        if not agent or not self.agent_total:
            if counting and agents_now is not None:  # (an arrival all the same: the share is of every one)
                agents_now.count(0, now, False, arrival, ip)
            return 0.0
        family = agent_family(agent, self.browsers)
        key = stable_hash(family)
        count = self.agents.get(key, 0)
        browser = _BROWSER_SEPARATOR in family
        common = browser and count >= COMMON_AGENT_SHARE * self.agent_total
        rarity = 0.0 if common else -math.log((count + 1.0) / (self.agent_total + 1.0))
        if agents_now is None or not self.agents_now:
            return rarity
        followed = browser and not common and not declared_machine and not family.endswith(_UNNAMED_BROWSER)
        if followed:
            share_now = agents_now.read(key, now).rarity
            if share_now is not None:
                rarity = min(rarity, 0.0 if share_now <= _COMMON_AGENT_RARITY else share_now)
        if counting:
            agents_now.count(key, now, followed, arrival, ip)
        return rarity

    def is_subrequest(self, resource: Any) -> bool:
        """Whether the resource's template is one that pages fetch as they load (``subrequests``)."""
        if not self.subrequests or not isinstance(resource, str) or not resource:
            return False
        return stable_hash(self.template(resource.lower())) in self.subrequests

    def resource_columns(self, resource: str | None) -> list[float]:
        """Path rarity, unknown parameters, character-class violations and value length excess, as
        training saw them (``read``: with the visits now)."""
        return self.read(resource, None).columns

    def read(
        self,
        resource: str | None,
        popularity: PathPopularity | None,
        now: float = 0.0,
        answered: bool = False,
        visit: bool = False,
        ip: str | None = None,
        served: bool = False,
    ) -> ResourceReading:
        """``resource_columns``, with the site's visits now (``popularity``, updated in place), and
        whether pages poll the resource.

        With ``popularity``, the rarity is the lower of training's and the template's share of the
        visits now (``PathPopularity.read``), though no lower than the median training request's
        for a page (``typical_rarity``): a page everyone reaches now is an ordinary page, not the
        commonest one, whose readers would stand out by it. Such a page that training never saw has
        no parameters learned: they are not counted unknown (each would restate that the page is
        new). The request counts toward the visits after it is read when it was ``answered`` (2xx
        or no status, from outside hosting networks), as a client's visit from ``ip``'s network if
        it is the client's first to the template lately (``visit``).

        A page rare in training and not popular itself, ``served`` (2xx or no status, or a
        redirect after a form's POST; not from a hosting network), under a section popular now (its
        template's parent or grandparent, with or without a trailing slash) reads as common as the
        section: a new section's own pages each draw a share of its visitors, too few to be popular
        by themselves. A new-user trial of a listings site's launch of a new development (its page,
        gallery, floor plans and interest form, by e-mail and paid social) alerted 101 of its
        visitors, "pages rarely or never seen", though its page was popular within the hour. Its
        pages' parameters still count as unknown; a probe answered 4xx or redirected, deeper than
        two levels, or carrying attack fragments (``../``, an empty segment) gains nothing.
        """
        if not resource or not self.total:
            return ResourceReading([0.0, 0.0, 0.0, 0.0], False)
        template, pairs = _parameters(resource, self.template)
        key = stable_hash(template)
        count = self.paths.get(key, 0)
        rarity = -math.log((count + 1.0) / (self.total + 1.0))
        now_reading = NOT_POPULAR
        if popularity is not None and self.popular_now:
            # (vocabularies of version 7, ids collapsed, were trained with version 7's visits)
            now_reading = popularity.read(key, now, lasting=self.ids)
            if now_reading.rarity is not None:
                rarity = min(rarity, max(now_reading.rarity, self.typical_rarity))
            elif served and self.sections and count <= FOLLOWED_SHARE * self.total:
                section_rarity = self._section_rarity(resource, template, popularity, now)
                if section_rarity is not None:
                    rarity = min(rarity, max(section_rarity, self.typical_rarity))
            if answered:
                popularity.count(key, now, count <= FOLLOWED_SHARE * self.total, visit, ip, lasting=self.ids)
        unknown = violations = 0
        excess = 0.0
        for name, value in pairs:
            entry = self.params.get(stable_hash(f"{template}?{name}"))
            if entry is None:
                if now_reading.rarity is None or now_reading.established_only or count:
                    unknown += 1
                continue
            if _char_classes(value) & ~entry[1]:
                violations += 1
            excess = max(excess, math.log1p(len(value)) - math.log1p(entry[2]))
        return ResourceReading([rarity, float(unknown), float(violations), excess], now_reading.polled)

    def _section_rarity(self, resource: str, template: str, popularity: PathPopularity, now: float) -> float | None:
        """The share-of-visits rarity of the nearest of ``template``'s ``SECTION_LEVELS`` parents
        popular now, read with and without a trailing slash (None: none is, or the resource
        carries attack fragments). The site's root is no section: every page lies under it."""
        path = template.rstrip("/")
        if not popularity.followed or "//" in path:
            return None
        for _ in range(SECTION_LEVELS):
            path = path.rpartition("/")[0]
            if not path:
                return None
            for section in (path, f"{path}/"):
                reading = popularity.read(stable_hash(section), now, lasting=self.ids)
                if reading.rarity is not None:
                    # (its attack fragments only once a section is popular)
                    return None if suspicious_tokens(resource.lower()) > 0 else reading.rarity
        return None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (hash keys as strings)."""
        return {
            "v": self.version,
            "total": self.total,
            "paths": {str(key): count for key, count in self.paths.items()},
            "params": {str(key): entry for key, entry in self.params.items()},
            "agent_total": self.agent_total,
            "agents": {str(key): count for key, count in self.agents.items()},
            "subrequests": sorted(self.subrequests),
            "subrequest_seconds": self.subrequest_seconds,
            **({"typical_rarity": self.typical_rarity} if self.popular_now else {}),
        }

    @property
    def version(self) -> int:
        """The version it is written as: that of the templates it counts."""
        if not self.slugs:
            return FEATURES_VERSION
        if not self.slug_extensions:
            return _PLAIN_SLUGS_VERSION
        if not self.popular_now:
            return _SLUG_EXTENSIONS_VERSION
        if not self.ids:
            return _POPULAR_NOW_VERSION
        if not self.hex_ids:
            return _WORD_IDS_VERSION
        if not self.sections:
            return _HEX_IDS_VERSION
        if not self.browsers:
            return _SECTIONS_VERSION
        return VOCABULARY_VERSION if self.agents_now else _BROWSERS_VERSION

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResourceVocabulary:
        """Rebuild from ``to_json`` output; raises ``InvalidStateError`` on anything else."""
        versions = frozenset(
            {
                FEATURES_VERSION,
                _PLAIN_SLUGS_VERSION,
                _SLUG_EXTENSIONS_VERSION,
                _POPULAR_NOW_VERSION,
                _WORD_IDS_VERSION,
                _HEX_IDS_VERSION,
                _SECTIONS_VERSION,
                _BROWSERS_VERSION,
                VOCABULARY_VERSION,
            }
        )
        check_version("vocabulary", data, versions)
        current = data["v"] != FEATURES_VERSION
        try:
            return cls(
                total=int(data["total"]),
                paths={int(key): int(count) for key, count in data["paths"].items()},
                params={int(key): [int(item) for item in entry] for key, entry in data["params"].items()},
                agent_total=int(data["agent_total"]),
                agents={int(key): int(count) for key, count in data["agents"].items()},
                # Vocabularies learned before sub-requests were: every request that is not an asset is a page.
                subrequests=frozenset(int(key) for key in data.get("subrequests", ())),
                # Vocabularies learned before version 4: 2 s, and slugs counted one by one.
                subrequest_seconds=float(data["subrequest_seconds"]) if current else _FIRST_SUBREQUEST_SECONDS,
                slugs=current,
                slug_extensions=data["v"] >= _SLUG_EXTENSIONS_VERSION,
                popular_now=data["v"] >= _POPULAR_NOW_VERSION,
                ids=data["v"] >= _WORD_IDS_VERSION,
                hex_ids=data["v"] >= _HEX_IDS_VERSION,
                sections=data["v"] >= _SECTIONS_VERSION,
                browsers=data["v"] >= _BROWSERS_VERSION,
                agents_now=data["v"] >= VOCABULARY_VERSION,
                typical_rarity=float(data["typical_rarity"]) if data["v"] >= _POPULAR_NOW_VERSION else 0.0,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise InvalidStateError("vocabulary", f"malformed: {error!r}") from None
