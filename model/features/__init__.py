"""The one feature definition: training, the Lambda scorer and the endpoint all import this package.

``featurize(user_state, events)`` turns one user's events (in time order) into feature rows, given
the compact state the scorer kept for that user, and returns the new state; ``featurize_batch``
does the same for many users' events in time order. Both are pure: inputs are never mutated, the
same inputs give the same rows, and a state that went through ``to_bytes``/``from_bytes`` gives
exactly the same rows as the original.

One module per group of columns, each declaring its column names beside the code that computes
them (``featurize`` assembles them in ``FEATURE_NAMES`` order):

- ``user_activity``: this user's pace, habits and novelty (``UserState``);
- ``addresses``: this address across users, and its network (``IpState``);
- ``resources``: the resource's own shape;
- ``vocabulary``: the resource and client against normal traffic (``ResourceVocabulary``), and
  ``popularity``: against the site's visits now (``PathPopularity``);
- ``request``: the client, method, outcome and type of the request itself, its server error read
  as the site's while ``outages`` says the site is failing many clients (``Outages``).

``site`` holds what the whole site's traffic says now (``SiteNow``: popularity and outages).

``events`` reads an event's fields and time; ``state`` holds the states and their stored form.
This package needs only the standard library and numpy, so the scorer's Lambda bundle and the
model artifact carry it. It runs once per event in training and in the scorer; ``make bench
BENCH=scorer`` measures it.
"""

from model.features.events import event_time, is_failure, stable_hash
from model.features.featurize import (
    COUNTED_ONCE,
    FEATURE_COUNT,
    FEATURE_NAMES,
    FIRST_EVENT_COLUMN,
    ROW_DECIMALS,
    BatchFeatures,
    Featurized,
    featurize,
    featurize_batch,
)
from model.features.outages import Outages
from model.features.popularity import PathPopularity
from model.features.resources import (
    is_page_asset,
    request_method,
    resource_shape,
    resource_shapes,
    resource_template,
)
from model.features.site import SiteNow
from model.features.state import (
    FEATURES_VERSION,
    IP_STATE_FORMAT,
    MAX_IP_STATE_BYTES,
    MAX_IP_USERS,
    MAX_RECENT_IPS,
    MAX_RECENT_NETWORKS,
    MAX_USER_STATE_BYTES,
    STATE_FORMAT,
    IpState,
    UserState,
    keep_users_within,
    merge_ip_states,
)
from model.features.vocabulary import SUBREQUEST_SECONDS, ResourceVocabulary, agent_family
from vedette.schema import CORE_EVENT_TYPES

__all__ = [
    "CORE_EVENT_TYPES",
    "COUNTED_ONCE",
    "FEATURES_VERSION",
    "FEATURE_COUNT",
    "FEATURE_NAMES",
    "FIRST_EVENT_COLUMN",
    "IP_STATE_FORMAT",
    "MAX_IP_STATE_BYTES",
    "MAX_IP_USERS",
    "MAX_RECENT_IPS",
    "MAX_RECENT_NETWORKS",
    "MAX_USER_STATE_BYTES",
    "ROW_DECIMALS",
    "STATE_FORMAT",
    "SUBREQUEST_SECONDS",
    "BatchFeatures",
    "Featurized",
    "IpState",
    "Outages",
    "PathPopularity",
    "ResourceVocabulary",
    "SiteNow",
    "UserState",
    "agent_family",
    "event_time",
    "featurize",
    "featurize_batch",
    "is_failure",
    "is_page_asset",
    "keep_users_within",
    "merge_ip_states",
    "request_method",
    "resource_shape",
    "resource_shapes",
    "resource_template",
    "stable_hash",
]
