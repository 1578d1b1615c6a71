"""Import existing logs as events in the contract.

Formats (``FORMATS``):

``jsonl``
    One JSON object per line, already in the event contract. ``occurred_at`` is required;
    a missing ``event_id`` is derived from the line (see below).
``common`` / ``combined``
    Web server access logs in the Common and Combined Log Formats.
``alb``
    An AWS Application Load Balancer's access log (``ALB``, the custom format of its first fields).
``custom``
    Any layout given as an nginx-style format string (``traffic.logformat``), with an optional
    time format: an extra session-id column, another time format, no IP at all...
``cloudfront`` / ``iis``
    W3C extended logs (``traffic.w3c``): Amazon CloudFront's standard logs (tab-separated,
    URL-encoded) and Microsoft IIS's (space-separated), fields named by the ``#Fields`` directive.
``csic2010``
    The parsed CSIC 2010 HTTP dataset (``method url`` per line, no time, user or address): each
    line becomes one request at a synthetic time (``start`` plus one ``interval`` per line), and
    lines of ``anomalous.txt`` are labeled ``csic2010_anomalous``. The files may be
    gzip-compressed (``anomalous.txt.gz``), as ``data/csic2010`` stores them.

How users are identified when the log has no user id (``identify_user``): the session id when
there is one (``session:<id>``, and ``session_id`` keeps it); otherwise the client, a hash of
the IP and user agent (``client:<16 hex>``); otherwise ``anonymous``. The session id is the
``$session_id`` column, else a ``$cookie_NAME`` column (``session_column``: of several, the first
whose name says session, such as ``sid``, ``sessionid`` or ``PHPSESSID``), else the session cookie
in a whole Cookie header (``$http_cookie``; ``session_cookie``). Other cookies are not kept: they
may hold credentials.

Where the log has a session column, a request without a session id (``-``) gets one
(``with_cookieless_sessions``): a browser's first request carries no cookie yet (the response sets
it), so it joins the session that its client (address and user agent) starts within
``LANDING_SECONDS`` after it, or started within ``COOKIELESS_JOIN_SECONDS`` before it was logged; a
client that keeps no cookies at all (a crawler, a script: a later request, more than
``COOKIELESS_JOIN_SECONDS`` after, comes without one too) is its own session, ``client:<16 hex>``
as its user is, as web-bot research datasets sessionize such clients. Those requests come out of
the import up to ``LANDING_SECONDS`` after the lines that follow them.

A site that rotates its session cookie at login (against session fixation; at an e-mail address
verified, a privilege gained, too) answers with a new id and a redirect: the request carries the
old id, the client's next request the new one. One visit is one session across it
(``with_rotated_sessions``): a client's first request with an id not seen before, within
``ROTATION_SECONDS`` after its successful login or a redirect in another session, continues that
session, as do its later requests (``session_id`` is the visit's first id; ``properties.rotated_session_id``
keeps the one the request carried).

A submitted login (a POST to a login path) failed when its status is 400 or more (401, 403), or
one of ``failed_login_statuses``: an application that answers a failed login with 200 (the form
shown again) and a successful one with a redirect is read right with ``failed_login_statuses={200}``.
A status may hold for one path alone, ``("/accounts/login/", 200)``: a site whose form fails with 200
beside an app's token call that fails with 401 and succeeds with 200.

Event ids are derived from the source name, line number and line text (a version 4 UUID built
from their SHA-256), so importing the same file twice yields the same ids and downstream
de-duplication by ``event_id`` works. Event types are inferred from the request
(``infer_event_type``) unless the log has an ``$event_type`` column.

Lines that do not fit the format are counted as unparseable, lines that parse into an event the
contract rejects are counted as invalid; both keep a few examples (``ImportReport``) and never
stop the import. Blank lines are counted and skipped.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import heapq
import ipaddress
import math
import os
import re
import sys
import uuid
from collections import Counter, OrderedDict, deque
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

import orjson

from model.entities import CLIENT_USER_PREFIX, SESSION_USER_PREFIX
from model.features.resources import CODE_SENT_SEGMENTS, is_page_asset, request_method
from model.ordering import in_time_order as ordered_by_time
from model.ordering import sorted_by_time
from traffic.envoy import ENVOY_FORMATS, from_envoy, is_envoy_format
from traffic.exceptions import LogFormatError
from traffic.forwarded import FORWARDED_VARIABLES, ClientAddress, IPNetwork, canonical, hop_address
from traffic.graphql import (
    OPERATION_COLUMNS,
    OPERATION_PROPERTY,
    is_graphql_path,
    operation_event_type,
    operation_name,
    operation_resource,
)
from traffic.haproxy import TIME_FORMAT as HAPROXY_TIME_FORMAT
from traffic.haproxy import HttpLog
from traffic.jsonlog import JSON_ARRAY_REASON, JsonTemplate, is_json_template, opens_json_array
from traffic.logformat import (
    API_GATEWAY_DEFAULT_ROUTES,
    API_GATEWAY_UNUSED_PREFIX,
    COMBINED,
    COMMON,
    DEFAULT_TIME_FORMAT,
    SESSION_VARIABLES,
    TIME_VARIABLES,
    USER_VARIABLES,
    CompiledFormat,
    compile_format,
    from_apache,
    is_apache_format,
    mixed_syntax,
    nginx_format_string,
)
from traffic.scenarios import Label
from traffic.simulator import LabeledEvent
from traffic.typeahead import with_typed_ahead
from traffic.w3c import COOKIE_FIELD, DIALECTS, FORWARDED_FIELD, W3CLayout
from vedette.events import (
    MAX_RESOURCE_LENGTH,
    MAX_USER_AGENT_LENGTH,
    format_timestamp,
    normalize_event,
    parse_timestamp,
)
from vedette.exceptions import InvalidEventError

FORMATS = (
    "jsonl",
    "common",
    "combined",
    "custom",
    "cloudfront",
    "iis",
    "csic2010",
    "traefik",
    "haproxy",
    "cloudflare",
    "gcp",
    "waf",
    "caddy",
    "alb",
    *ENVOY_FORMATS,
)
# Format names a user may guess for logs this import reads under another name or with a format
# string, by the name squeezed (lower case, no '-', '_', '.' or space): what to give instead.
_APIGATEWAY = (
    "API Gateway access logs are read with --format custom and --log-format set to the stage's $context "
    "access-log format (docs/traffic.md, 'Amazon API Gateway access logs')"
)
_NGINX = "nginx's default log format is 'combined'; another log_format: --format custom --log-format '<its string>'"
_APACHE = "Apache's combined LogFormat is 'combined'; another LogFormat: --format custom --log-format '<its string>'"
_JSON = "events in the contract are 'jsonl'; other JSON lines: --format custom --log-format '<a JSON template>'"
FORMAT_ADVICE = {
    **dict.fromkeys(("apigateway", "apigw", "awsapigateway", "httpapi", "restapi"), _APIGATEWAY),
    **dict.fromkeys(("nginx", "nginxcombined", "nginxjson"), _NGINX),
    **dict.fromkeys(("apache", "httpd", "apache2"), _APACHE),
    **dict.fromkeys(
        ("clf", "commonlog", "ncsa"), "the Common Log Format is 'common' (with referer and agent: 'combined')"
    ),
    **dict.fromkeys(("json", "ndjson", "jsonlines"), _JSON),
    **dict.fromkeys(
        ("elb", "awselb", "loadbalancer", "applicationloadbalancer"),
        "an AWS Application Load Balancer's log is 'alb'; another load balancer's: --format custom --log-format "
        "'<its fields>'",
    ),
    **dict.fromkeys(("w3c", "w3cextended"), "W3C extended logs are 'cloudfront' (Amazon CloudFront's) or 'iis'"),
    **dict.fromkeys(
        ("ingressnginx", "kubernetes", "k8s"),
        "Kubernetes ingress-nginx logs are read with --format "
        "custom and the controller's log-format-upstream (docs/traffic.md, 'Kubernetes ingress-nginx')",
    ),
    **dict.fromkeys(
        ("frontdoor", "azure", "azurefrontdoor"),
        "Azure Front Door's access log is read with --format "
        "custom and the JSON template of docs/traffic.md, 'Azure Front Door'",
    ),
    **dict.fromkeys(("logpush",), "Cloudflare Logpush's http_requests are 'cloudflare'"),
    **dict.fromkeys(("stackdriver", "cloudlogging", "googlecloud"), "Google Cloud's request logs are 'gcp'"),
}


def format_name(value: str, others: Collection[str] = ()) -> str:
    """``value`` as a format's name (``FORMATS``, or ``others`` a command reads besides), in any case;
    an unknown name is refused with what to give instead where the name says what the log is
    (``FORMAT_ADVICE``), and the names there are (an ``argparse`` type)."""
    name = value.strip().lower()
    if name in FORMATS or name in others:
        return name
    advice = FORMAT_ADVICE.get(re.sub(r"[-_. ]", "", name))
    known = ", ".join([*others, *FORMATS])
    where = f"{advice}. " if advice else "any other layout: --format custom --log-format '<its format string>'. "
    raise argparse.ArgumentTypeError(f"unknown format {value!r}: {where}Formats: {known}")


# Traefik's JSON access log (accessLog.format: json) with the request headers kept that identify a client
# (accessLog.fields.headers.names: User-Agent, Referer, Cookie, X-Forwarded-For: keep): its keys, read
# as the JSON template of the custom format. Duration is nanoseconds; RequestPath holds the query.
TRAEFIK_TEMPLATE = (
    '{"ClientHost":"$remote_addr","ClientUsername":"$remote_user","StartUTC":"$time_iso8601",'
    '"RequestMethod":"$request_method","RequestPath":"$request_uri","RequestProtocol":"$server_protocol",'
    '"RequestHost":"$host","DownstreamStatus":$status,"DownstreamContentSize":$body_bytes_sent,'
    '"Duration":$request_time_ns,"request_User-Agent":"$http_user_agent","request_Referer":"$http_referer",'
    '"request_Cookie":"$http_cookie","request_X-Forwarded-For":"$http_x_forwarded_for"}'
)
# Cloudflare Logpush's http_requests dataset (NDJSON), with Logpush's default timestamps (unixnano) and
# the Cookies custom field (the zone's custom fields name the cookies it logs), read as the custom
# format of this JSON template. OriginResponseDurationMs is the origin's time, in milliseconds.
CLOUDFLARE_TEMPLATE = (
    '{"ClientIP":"$remote_addr","ClientRequestHost":"$host","ClientRequestMethod":"$request_method",'
    '"ClientRequestURI":"$request_uri","ClientRequestProtocol":"$server_protocol",'
    '"ClientRequestUserAgent":"$http_user_agent","ClientRequestReferer":"$http_referer",'
    '"EdgeStartTimestamp":$time_epoch_ns,"EdgeResponseStatus":$status,"EdgeResponseBytes":$body_bytes_sent,'
    '"OriginResponseDurationMs":$request_time_ms,"Cookies":"$http_cookie"}'
)
# Google Cloud's request logs (an external Application Load Balancer's, Cloud Run's, App Engine's): Cloud
# Logging's LogEntry, one a line as a Logging sink writes them, its httpRequest read as this JSON
# template. requestUrl is the whole URL (its path and query are read), latency a duration ("0.25s").
GCP_TEMPLATE = (
    '{"httpRequest":{"requestMethod":"$request_method","requestUrl":"$request_uri","status":$status,'
    '"responseSize":"$body_bytes_sent","userAgent":"$http_user_agent","remoteIp":"$remote_addr",'
    '"referer":"$http_referer","latency":"$request_time","protocol":"$server_protocol"},"timestamp":"$time_iso8601"}'
)
# AWS WAF's web ACL traffic log (one JSON object a line, as Firehose, CloudWatch Logs or S3 logging
# deliver it), read as this JSON template: the headers are a list of name and value, read by name
# (the client's case). It holds no status: only what WAF itself answered, its action's (WAF_STATUSES)
# or the custom response a rule sent (responseCodeSent); a request it let through has none.
WAF_TEMPLATE = (
    '{"timestamp":$time_epoch_ms,"action":"$waf_action","responseCodeSent":$status,'
    '"httpRequest":{"clientIp":"$remote_addr","country":"$waf_country","uri":"$uri","args":"$args",'
    '"httpVersion":"$server_protocol","httpMethod":"$request_method","requestId":"$request_id",'
    '"headers":[{"name":"User-Agent","value":"$http_user_agent"},{"name":"Referer","value":"$http_referer"},'
    '{"name":"Cookie","value":"$http_cookie"},{"name":"Host","value":"$host"},'
    '{"name":"X-Forwarded-For","value":"$http_x_forwarded_for"}]}}'
)
# Caddy's JSON access log, read as this JSON template: the client is ``client_ip`` (2.7 and later: the
# client its trusted proxies name, else the peer), else ``remote_ip`` (the peer, which Caddy before 2.7
# logs alone); ``ts`` is Unix seconds, ``duration`` seconds, the headers lists of values. Caddy writes
# the Cookie header as ["REDACTED"] unless its servers' ``log_credentials`` is on.
CADDY_TEMPLATE = (
    '{"ts":$msec,"request":{"client_ip":"$remote_addr","remote_ip":"$realip_remote_addr",'
    '"proto":"$server_protocol","method":"$request_method",'
    '"host":"$host","uri":"$request_uri","headers":{"User-Agent":["$http_user_agent"],'
    '"Referer":["$http_referer"],"Cookie":["$http_cookie"]}},"user_id":"$remote_user",'
    '"duration":$request_time,"size":$body_bytes_sent,"status":$status}'
)
# What a proxy writes for a Cookie header it keeps out of its log (Caddy's, without log_credentials).
REDACTED_COOKIE = "REDACTED"
# What WAF answers a request its action stopped: Block's default 403, CAPTCHA's 405 and Challenge's 202
# (its interstitial); Allow and Count pass the request on, whose answer WAF does not log.
WAF_STATUSES = {"BLOCK": 403, "CAPTCHA": 405, "CHALLENGE": 202}
WAF_PASSED = frozenset({"ALLOW", "COUNT"})
# A form WAF stopped (a write: a login, a payment) never reached the site, and failed whatever WAF
# answered: one answered below 400 (a challenge's 202, a rule's custom 200) reads as refused with this
# status, what WAF sent kept as ``waf_status``. (A page it challenged, which a browser passes by
# itself, keeps its 202.)
WAF_REFUSED_STATUS = 403
# The formats read as the custom format of a JSON template of their own.
TEMPLATE_FORMATS = {
    "traefik": TRAEFIK_TEMPLATE,
    "cloudflare": CLOUDFLARE_TEMPLATE,
    "gcp": GCP_TEMPLATE,
    "waf": WAF_TEMPLATE,
    "caddy": CADDY_TEMPLATE,
}
# An AWS Application Load Balancer's access log, its first fifteen fields named (the load balancer's
# ``type`` as the scheme; the client's ``address:port``, an IPv6 address unbracketed); those after the
# user agent (TLS, target group, trace, rule, classification...) name no client and are ignored.
ALB = (
    "$scheme $time_iso8601 $elb $remote_addr:$remote_port $upstream_addr $request_processing_time "
    "$request_time $response_processing_time $status $upstream_status $request_length $body_bytes_sent "
    '"$request" "$http_user_agent"'
)
PRESET_FORMATS = {"common": COMMON, "combined": COMBINED, "alb": ALB}
CSIC_ANOMALOUS_LABEL = Label("csic2010_anomalous", "csic2010-anomalous")
CSIC_DEFAULT_START = datetime(2026, 11, 2, tzinfo=timezone.utc)
DEFAULT_MAX_EXAMPLES = 5
# Submitted logins enough to say that none failing is odd (a site's logins fail a few percent of the time),
# and the share failing below which the failures read are likely another endpoint's (an app's token
# call answering 401 beside a form that answers a failed login with 200).
MIN_LOGINS_FOR_HINT = 20
MAX_EXAMPLE_LENGTH = 64  # an example a hint quotes from the log, at most
LOGIN_FAILURE_HINT_SHARE = 0.01
# The share of a path's logins failing above which people's logins likely read as failed: on a
# new-user trial of a Moodle log, whose good logins are redirected to the form's cookie check, 94 %
# of a normal week's logins read as failed, and nothing said so.
MOSTLY_FAILED_SHARE = 0.8  # (of those read as failed by the form fetched again: the import's own reading)
# A client's logins that got in beyond this many are a monitor's or an integration's routine, left out
# of that share: a synthetic check logging in every five minutes made 2,016 of an app's 2,228 logins,
# and the hint told a new user that the people's 8.5 % of failures (401s, read right) were next to none.
ROUTINE_CLIENT_LOGINS = 20
MAX_LOGIN_PATHS = 100  # login paths whose logins the import counts for its hints (the first seen)
# A REST collection of accounts, whose POST an API may register its users with (``signup_hint``):
# not read as a sign-up by itself, as an admin's API creates users there too.
_ACCOUNT_COLLECTION_RE = re.compile(r"/(?:users|accounts|customers|members)/?$")
MIN_CREATES_FOR_HINT = 10
# Requests from private-network addresses, of those with an address, that say a proxy wrote the log.
PROXY_HINT_SHARE = 0.5
MIN_REQUESTS_FOR_HINT = 20
# Requests without a session id, in a log with a session column, that say the column may be wrong.
SESSIONLESS_HINT_SHARE = 0.5
# Lines with columns after the format's end, below this share of the log, that say the format may
# not fit them: a log whose every line has them (a format naming the first fields of many) does.
EXTRA_COLUMNS_HINT_SHARE = 0.5
# Requests named by their API Gateway route alone, above this share, that say the format lacks paths.
ROUTE_HINT_SHARE = 0.5
# The time (and a space) that CloudWatch Logs' export and container runtimes write before each
# message: a line that does not fit the format is read again without it.
_EXPORT_PREFIX_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}) ")
# An epoch time before this is a wrong unit (seconds read as milliseconds), not a request's.
_EARLIEST_EPOCH_YEAR = 2000
_EXAMPLE_CHARACTERS = 200
# A browser's requests after its first carry the cookie the first response set: a client's request
# without one, this long after another, says it keeps none (a crawler, a script); and one logged
# this close to its client's session's first request is that session's landing page.
COOKIELESS_JOIN_SECONDS = 10.0
# A site whose sessions began right after their client's login sent without a cookie this often, of
# at least this many, sets its session cookie at login only (Django, ASP.NET Identity): its visitors'
# requests before they log in carry none, whatever the browser, and are their visit's.
COOKIE_AT_LOGIN_SHARE = 0.5
COOKIE_AT_LOGIN_SESSIONS = 20
# A browser that has the landing page's assets in its cache sends nothing more until its next click,
# which carries the cookie: a request without one waits this long for its client's session to start
# (within the backtest's reordering, which replays events up to five minutes apart in order).
LANDING_SECONDS = 300.0
# A login without a user belongs to the user that its session, or else its client (address and
# user agent), names in a request this soon after it: an
# app calls the API with the token its login returned within a second or two, and a site's pages
# name the user from the login's redirect on. Short, as people behind one address with the same
# app are one client; within the backtest's reordering, as the import holds them this long.
ATTRIBUTION_SECONDS = 60.0
# A session seen this recently is under way, not starting (the entity stage's episode timeout).
SESSION_MEMORY_SECONDS = 30 * 60.0
# A client (address and user agent) that started this many sessions within SESSION_MEMORY_SECONDS is
# several people: an office, a school or a carrier's gateway with one browser build. Which of them
# sent a request without a cookie the log cannot tell, so it joins no session: it is the client's
# own. Joined to the session that started next (or had just started), a new customer's staff
# signing up behind one address made sessions of nine people's sign-ups each, alerting for "pages
# in quick succession". (One person's visit starts one session, or two where the site rotates its
# cookie at login: three cannot be one visit.)
CROWDED_CLIENT_SESSIONS = 3
# A browser follows a redirect at once: a client's first request with a new session id this soon
# after its successful login or a redirect in another is that session's, its id rotated.
ROTATION_SECONDS = 10.0
# A site whose successful logins kept their session id this often, of at least this many whose fate
# was seen, keeps its cookie at login (ASP.NET): no new id after a login is read as rotated.
KEPT_COOKIE_SHARE = 0.9
KEPT_COOKIE_LOGINS = 20
# Requests out of time order by more than LANDING_SECONDS, of all, from which the import says to sort the log.
ORDER_HINT_SHARE = 0.01
# A line this far ahead of the line before it, the lines after it back in the old time, is a clock
# that was wrong (a server's, or a year written for another): sorting would not mend it.
CLOCK_JUMP_SECONDS = 86_400.0
# ...when the lines after it carry on from the time before it, within this: files joined out of order
# go back further, or start later (a quiet site's last request of a day is no clock gone wrong).
CLOCK_CARRY_ON_SECONDS = 3_600.0
ANONYMOUS = "anonymous"  # the user of a line without user, session, address or agent
# The status a proxy logs when the client hung up before the response (CloudFront's ``000``, Envoy's
# and Istio's ``0`` with the DC flag, nginx's ``499``, an AWS load balancer's ``460``): the request is
# read without a status, marked viewer_closed. Read as a status, a phone that lost its signal while
# its login was answered failed a login (``460`` on a new-user trial of an app's ALB log).
CLOSED_STATUSES = frozenset({"0", "000", "460", "499"})
# What the user ids of lines without a user begin with (``identify_user``).
DERIVED_USERS = (SESSION_USER_PREFIX, CLIENT_USER_PREFIX, ANONYMOUS)
_LOGIN_EVENTS = frozenset({"login_succeeded", "login_failed"})
_LOGIN_TRIES = frozenset({"login_succeeded", "login_failed", "login_attempt"})
_REQUEST_RE = re.compile(r"([A-Za-z]+) (\S+)(?: (HTTP/\d(?:\.\d)?))?")
_ORIGIN_RE = re.compile(r"https?://[^/:?#]+(?::\d+)?")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Google Cloud's health checks: their agent, and the ranges they come from (its load balancers'
# documented ones), thousands of addresses that probe every backend. Other health checks (a cluster's
# nodes' kube-probe, a load balancer's ELB-HealthChecker) and monitoring services' uptime checks come
# from a few addresses each and stay a client per address (merged, three nodes' kube-probe made a
# client unlike any of training's, and the streaming trial's people alerted more, 17 of 3,654 against
# 13; Google's six regional uptime checkers as one lowered the load balancer trial's entity ROC-AUC
# from 0.932 to 0.880).
GOOGLE_HEALTH_CHECK_AGENT = "GoogleHC/"
GOOGLE_HEALTH_CHECK_NETWORKS = (ipaddress.ip_network("35.191.0.0/16"), ipaddress.ip_network("130.211.0.0/22"))
# A cookie whose name says it holds the session: sid, sessionid, PHPSESSID, JSESSIONID, _app_session...
_SESSION_COOKIE_RE = re.compile(r"sess|(?:^|[_.-])sid$", re.IGNORECASE)
# Cookies that analytics, payment and chat scripts set on every site, some named like sessions
# (Hotjar's _hjSession_*, Stripe's __stripe_sid): never the site's own session in a whole header.
_THIRD_PARTY_COOKIE_RE = re.compile(
    r"^(?:_hj|__stripe|_ga|_gid|_gcl|_fbp|_fbc|__utm|_pk_|_clck|_clsk|ajs_|amplitude|mp_|__hs|hubspot|_uet|intercom)",
    re.IGNORECASE,
)
# The variable of a whole Cookie header (nginx's; Apache's %{Cookie}i and CloudFront's cs(Cookie) read as it).
COOKIE_HEADER = "http_cookie"
# The cookie names a session hint lists: those the most requests carried.
HINTED_COOKIES = 5
# A login or logout page, with a page extension or not (/login, /Login.aspx, /login.php, autenticar.jsp).
_PAGE_EXTENSION = r"(?:\.(?:php|aspx?|jsp|html?|do|action|cgi|pl))?"
# ASP.NET Identity's second factor's last step is a login too: ``/Account/VerifyCode`` (MVC 5's
# template), ``/Account/LoginWith2fa`` and ``/Account/LoginWithRecoveryCode`` (ASP.NET Core's); its
# logout is ``/Account/LogOff`` (MVC 5's).
_LOGIN_RE = re.compile(
    r"/(?:login|signin|sign-in|log-in|session|sessions|auth|authenticate|autenticar|account/verifycode|loginwith2fa"
    rf"|loginwithrecoverycode){_PAGE_EXTENSION}(?:/|$)"
)
_LOGOUT_RE = re.compile(rf"/(?:logout|signout|sign-out|log-out|logoff|salir){_PAGE_EXTENSION}(?:/|$)")
# WordPress's login page does each of an account's steps, named by its ``action`` parameter (none, or
# ``login``: a login). It answers a failed login with its form again (200) and one that got in with
# a redirect (302), on every WordPress site, so no --failed-login-status is needed for it. Where the
# site answers it 404 (405, 410), the site is no WordPress, and a POST there is a scanner's probe.
_WORDPRESS_LOGIN_RE = re.compile(r"/wp-login\.php$")
# WooCommerce's customers log in on its account page, whose form posts to the page itself and is
# answered as WordPress's: the form again (200) when the login failed, a redirect (302) when it got
# in. (Its registration form, where the shop shows one, posts there too, answered alike.) The page's
# own steps (``/my-account/edit-account/``, ``/my-account/lost-password/``) are paths of their own,
# and an API's ``PUT /api/v1/my-account`` is no WordPress page.
_WOOCOMMERCE_ACCOUNT_RE = re.compile(r"/my-account/$")
_WORDPRESS_ACTION_RE = re.compile(r"(?:^|&)action=([a-z_-]*)")
_WORDPRESS_STEPS = {
    "logout": "logout",
    "lostpassword": "password_reset",
    "retrievepassword": "password_reset",
    "rp": "password_reset",
    "resetpass": "password_reset",
    "register": "signup",
}
_NO_SUCH_PAGE = frozenset({404, 405, 410})
# A login answered so is a probe of a page the site does not have (``login_probe``). Not 405, which a
# web firewall's CAPTCHA answers with (AWS WAF's): a login it challenged is refused, a failed one.
_NO_LOGIN_PAGE = frozenset({404, 410})
_RESET_RE = re.compile(r"(?:password|forgot|reset)")
# A password reset is its form submitted, or the link it sent followed (its token in the query); the
# form fetched is a page: read as a reset, everyone who reset theirs did it twice, and a visit to the
# form was one. (A log without methods cannot tell them apart: any such request is a reset there.)
_RESET_LINK_RE = re.compile(r"(?:^|&)(?:token|key|code|reset_token|t)=")
# The last segment of a path that registers an account (``_SIGNUP_RE``): under a login path too,
# no login.
_SIGNUP_SEGMENTS = r"sign[-_]?up|register|registration|registrations|create[-_]?account|new[-_]?account"
# Calls under a login path that are not a login: a token refreshed, an account registered, a
# password forgotten or reset (``/auth/password-reset``; ``/login/password`` is a login's step), an
# e-mail address or phone number verified (``/auth/verify-email``, ``/auth/email-verification``), a
# second factor set up (any step of it: ``/auth/mfa/setup/confirm``), turned off, or its code or push
# sent (the path's last segment, ``CODE_SENT_SEGMENTS``, ``/send``, ``/resend`` or ``/sms``:
# ``/auth/mfa/sms/send``, an app's ``/v1/auth/otp``, whose sends read as logins made SMS pumping a
# wave of "successful logins to check" on a new-user trial of an app's ALB log; verifying the code,
# ``/auth/mfa/verify``, ``/auth/mfa/push/verify`` or ``/auth/mfa/phone/verify``, is the login's last
# step, and its failure a failed login).
_NOT_LOGIN_RE = re.compile(
    rf"/(?:refresh|{_SIGNUP_SEGMENTS}|setup|enrol|enroll|enrollment){_PAGE_EXTENSION}(?:\.json)?(?:/|$)"
    r"|forgot|reset"
    r"|(?:verify|confirm)[-_]?(?:email|e-mail|phone|account)|(?:email|phone)[-_]verification"
    rf"|/(?:push|push-notification|send|resend|sms|recovery-codes|disable|{CODE_SENT_SEGMENTS}){_PAGE_EXTENSION}"
    r"(?:\.json)?/?$"
)
# A sign-up form submitted: a path whose last segment registers an account (``/signup``,
# ``/api/auth/register``, Magento's ``/customer/account/createpost``, Keycloak's ``/registration``,
# Firebase's ``/v1/accounts:signUp``), what account farming leaves (``model.waves.SIGNUPS``); not a
# step after it (``/signup/verify``), nor what an existing user registers (a device, a push token, a
# passkey or a second factor: ``/api/devices/register``, ``/auth/webauthn/register``), nor a
# webhook, a key, a domain, or a place at an event, a course or a webinar, nor a newsletter. (Rails'
# Devise posts its sign-up to ``/users``, which is not read as one: any API creates its users there.)
_SIGNUP_RE = re.compile(rf"[/:](?:{_SIGNUP_SEGMENTS}|account/createpost)(?:{_PAGE_EXTENSION}|\.json)/?$")
_NOT_SIGNUP_RE = re.compile(
    r"/(?:devices?|push|tokens?|webauthn|passkeys?|fido2?|u2f|mfa|2fa|totp|webhooks?|callbacks?|notifications?"
    r"|keys?|domains?|events?|courses?|webinars?|products?|newsletters?)/"
)
_SEARCH_RE = re.compile(r"/(?:search|buscar)")
_CART_RE = re.compile(r"/(?:carts?|baskets?)(?=[/._-]|$)|anadir\.jsp")
# Adding to a cart: a form submitted to the cart (``POST /cart/add``, Shopify's ``/cart/add.js``,
# Magento's ``/checkout/cart/add``), a link that adds (``GET /cart/add?sku=1``, CSIC 2010's
# ``anadir.jsp?id=2``), WooCommerce's ``?add-to-cart=12`` on any page and its AJAX add
# (``POST /?wc-ajax=add_to_cart``). The cart viewed (``GET /cart``,
# its ``?remove=1`` links) or changed (``POST /cart/change.js``, ``/cart/update``, ``/cart/remove``)
# is a page like any other: read as adds, a shopper looking at the cart before paying, or pressing
# its + and -, looked like a bot filling one.
_CART_ADD_RE = re.compile(r"/(?:carts?|baskets?)(?=[/._-]).*\badd\b|anadir\.jsp")
_CART_CHANGE_RE = re.compile(r"/(?:carts?|baskets?)(?=[/._-]).*\b(?:change|update|updatepost|remove|delete|clear)\b")
_CART_ADD_QUERY_RE = re.compile(r"(?:^|&)(?:add-to-cart=|wc-ajax=add_to_cart(?:&|$))")
# Payments: a path whose last segment is a checkout, an order, a donation, a charge, a wallet's
# deposit or top-up (a betting site's, a game's: card testers use them as they use checkouts), or its
# confirmation (``/checkout/confirm``, ``/checkout/place-order``; Magento's
# ``payment-information``; an API's ``.json``): ``purchase`` when submitted, and a declined one is
# what card testing leaves (``model.waves.PAYMENTS``); not another step (``/orders/7/cancel``,
# ``/donations/intent``), nor a provider's callback to the site, nor a staff page
# (``/admin/menus/order``: reordering a menu).
_PURCHASE_RE = re.compile(
    r"/(?:checkout|purchases?|orders?|pay|payments?|payment-information|charges?|donate|donations?|give|pagar"
    rf"|place-?order|deposits?|top-?ups?|add-?funds)(?:{_PAGE_EXTENSION}|\.json)"
    r"(?:/(?:confirm|submit|complete|process|place-?order))?/?$"
)
# WooCommerce's checkout posts to its AJAX endpoint, named in the query: ``/?wc-ajax=checkout``.
# A card saved for later payments, posted (``POST /billing/payment-methods``, an app's REST
# ``/v1/payments/methods`` or ``/wallet/cards``): card testers use it as they use checkouts (a new-user
# trial's app answered 239 of 260 such adds 402, read as page views: no wave of declines could rise).
# Not a method chosen within a checkout (its payment is the checkout's), nor a default method changed
# (PUT), nor the setup intent a billing page creates as it loads, nor a board's cards.
_SAVED_CARD_RE = re.compile(
    r"/(?:payment[-_]methods?|payment[-_]sources?|(?:payments?|billing|wallet)/(?:methods?|cards?|sources?))"
    r"(?:\.json)?/?$"
)
_PURCHASE_QUERY_RE = re.compile(r"(?:^|&)wc-ajax=checkout(?:&|$)")
_STAFF_RE = re.compile(r"/(?:admin|wp-admin)(?:/|$)")
_CALLBACK_RE = re.compile(r"/(?:webhooks?|callbacks?|ipn|notify|notifications?)(?:/|$)")


class LineError(Exception):
    """A line that does not fit its format (the reason is the message)."""


@dataclass
class LoginPathCounts:
    """The logins submitted to one login path: by status, how many read as failed, and of those how
    many by a status given for every path."""

    statuses: Counter[int] = field(default_factory=Counter)
    failed: int = 0
    failed_by_site_status: int = 0
    failed_by_redirect: int = 0  # read as failed by the form fetched again after it (``with_login_redirects_followed``)
    # The statuses --failed-login-status gave for this path (with those for every path): a failed login's.
    given: frozenset[int] = frozenset()
    # Logins that got in, by client (``identify_user``'s key of its address and agent).
    successes_by_client: Counter[str] = field(default_factory=Counter)

    def routine(self) -> tuple[int, int]:
        """The logins that got in beyond ``ROUTINE_CLIENT_LOGINS`` of each client, and those clients."""
        beyond = [count - ROUTINE_CLIENT_LOGINS for count in self.successes_by_client.values()]
        return sum(count for count in beyond if count > 0), sum(count > 0 for count in beyond)


@dataclass
class ImportReport:
    """Counts of what an import went through, with a few examples of each problem."""

    lines: int = 0
    events: int = 0
    blank: int = 0
    directives: int = 0  # W3C logs' "#Version", "#Fields"... lines
    unparseable: int = 0
    invalid: int = 0
    max_examples: int = DEFAULT_MAX_EXAMPLES
    # (source, line number, reason, start of the line)
    unparseable_examples: list[tuple[str, int, str, str]] = field(default_factory=list)
    invalid_examples: list[tuple[str, int, str, str]] = field(default_factory=list)
    # Submitted logins by login path (at most MAX_LOGIN_PATHS): their statuses, and how many read as
    # failed, of those by a status that --failed-login-status gave for every path.
    login_paths: dict[str, LoginPathCounts] = field(default_factory=dict)
    # Logins submitted to a path answered as one the site does not have (``login_probe``), by path
    # (at most MAX_LOGIN_PATHS): a scanner's probes, or a login API that answers an unknown account so.
    login_probes: Counter[str] = field(default_factory=Counter)
    # The login paths --failed-login-status named (as ``login_path_key`` reads them).
    failed_login_paths_given: tuple[str, ...] = ()
    addressed: int = 0  # events with a client address
    # Requests whose address column held something that is not an IP (kept in properties.remote_addr),
    # and the first such value.
    unreadable_addresses: int = 0
    unreadable_address_example: str = ""
    # Requests whose X-Forwarded-For held an entry that is not an address where it was read, so that
    # the client taken was a proxy's address; the first such header, and the proxies' addresses.
    unplaced_clients: int = 0
    unplaced_header_example: str = ""
    unplaced_proxies: Counter[str] = field(default_factory=Counter)
    with_agent: int = 0  # events with a user agent
    with_status: int = 0  # events with a response status
    # A folder's files that it also holds uncompressed (x.log.gz beside x.log): both are read.
    both_compressed: list[str] = field(default_factory=list)
    statuses_expected: bool = True  # a log of responses (not CSIC 2010's requests, nor events)
    login_attempts: int = 0  # logins submitted without a status: their outcome unknown
    agents_expected: bool = False  # whether the format has a user-agent column
    # A format of columns with neither a user agent nor a session: its clients are their addresses
    # alone unless its lines name users.
    sessionless_without_agents: bool = False
    users_expected: bool = False  # whether it has a user column ($user_id, $remote_user...)
    named_users: int = 0  # events whose user column named a user
    timed: int = 0  # events with a duration...
    timed_over_an_hour: int = 0  # ...and those whose duration read as more than an hour
    # Lines read as event JSON lines that were JSON objects without the contract's time, and the keys of
    # the first: an access log's JSON read as events.
    foreign_json: int = 0
    foreign_json_keys: tuple[str, ...] = ()
    addresses_expected: bool = True  # whether the format can carry one (CSIC 2010's cannot)
    internal_addresses: Counter[str] = field(default_factory=Counter)  # of them, in private networks
    reads_forwarded: bool = False  # whether the format has an X-Forwarded-For (or X-Real-IP) column
    w3c: bool = False  # a W3C extended log (CloudFront, IIS), whose fields its #Fields lines name
    # Requests without a session id in a log with a session column (``with_cookieless_sessions``):
    # joined to the session their client started, or their client's own.
    joined_sessions: int = 0
    client_sessions: int = 0
    sessions_begun: int = 0  # (where requests came without a session id: ``with_cookieless_sessions``)
    sessions_begun_at_login: int = 0  # of them, right after their client's login sent without a cookie
    # Session ids that continued the session their client logged in with (``with_rotated_sessions``),
    # and the requests that carried them.
    rotated_sessions: int = 0
    rotated_requests: int = 0
    # Of a Cookie header column: requests carrying each cookie name (names only: values may be
    # credentials), and the session cookie asked for (``--session-cookie``), if one was.
    cookie_names: Counter[str] = field(default_factory=Counter)
    # Requests whose Cookie header held cookies, none of them the session's (the rest of those without
    # a session sent no Cookie header at all: an app, a player or a script that keeps none).
    cookies_without_session: int = 0
    redacted_cookies: int = 0  # Cookie headers the proxy logged as REDACTED_COOKIE
    # The format's variables named like a user that are not read as one (``user_column_hint``).
    user_like_columns: tuple[str, ...] = ()
    session_cookie: str | None = None
    reads_cookie_header: bool = False  # the session comes from a whole Cookie header column
    # How to get the Cookie header into this kind of log, where it was empty on every request.
    cookie_advice: str = "check that the proxy logs the Cookie header"
    # Logins without a user that the user their client or session named next was given
    # (``with_logins_attributed``): a login answered before the token or cookie names its user.
    attributed_to_users: int = 0
    # Windows authentication's challenges folded into the request repeated with credentials
    # (``with_auth_challenges_folded``): lines read, and no events of their own.
    auth_challenges: int = 0
    shared_logins: int = 0  # logins left unattributed: their session or client named several users
    # requests without a user after their session named one (``with_logins_attributed``)
    session_requests_attributed: int = 0
    signups: int = 0  # requests read as sign-ups
    # GraphQL requests read by their operation's name, by the event type it gave (``traffic.graphql``),
    # and those to a GraphQL path that named none, with the path of the first.
    graphql_operations: Counter[str] = field(default_factory=Counter)
    graphql_unnamed: int = 0
    graphql_path: str = ""
    # Answered POSTs (2xx) to a collection of accounts (``_ACCOUNT_COLLECTION_RE``), by path.
    account_creates: Counter[str] = field(default_factory=Counter)
    # Logins answered with a redirect back to their form or to a lockout page, read as failed
    # (``with_login_redirects_followed``).
    logins_redirected_back: int = 0
    # Requests whose resource is the API Gateway route they matched (a template: /pets/{id}), the
    # log having no path.
    route_only: int = 0
    # Lines with text after the format's last column (columns the format does not name).
    extra_columns: int = 0
    extra_column_examples: list[tuple[str, int, str, str]] = field(default_factory=list)
    # Requests more than LANDING_SECONDS older than a line read before them in their file (the first's
    # place), and the most: a log out of time order, as files concatenated as they are.
    late_events: int = 0
    most_late_seconds: float = 0.0
    late_example: tuple[str, int] | None = None
    # The line the most late request came before, its time, and how far it was ahead of the line
    # before it (a clock jump when more than CLOCK_JUMP_SECONDS).
    latest_line: tuple[str, int, float, float] | None = None
    earliest_late: float = math.inf  # the earliest time of a late request
    sorted: bool = False  # whether the import put the whole log in time order (``time_sorted``)
    redacted_credentials: int = 0  # requests whose query's credentials were not kept (``without_credentials``)
    # HAProxy's lines whose captured request headers were not named (--haproxy-headers), or not as
    # many as named, and the first such block.
    haproxy_unnamed_headers: int = 0
    haproxy_misnamed_headers: int = 0
    haproxy_headers_example: str = ""

    def count_login(
        self,
        path: str,
        status: int,
        failed: bool,
        by_site_status: bool,
        given: frozenset[int] = frozenset(),
        client: str = ANONYMOUS,
    ) -> None:
        """Count a submitted login to ``path`` from ``client`` (``by_site_status``: read as failed by a
        status given for every path; ``given``: the statuses given for it)."""
        counts = self.login_paths.get(path)
        if counts is None:
            if len(self.login_paths) >= MAX_LOGIN_PATHS:
                return
            counts = self.login_paths[path] = LoginPathCounts(given=given)
        counts.statuses[status] += 1
        counts.failed += failed
        counts.failed_by_site_status += by_site_status
        if not failed:
            counts.successes_by_client[client] += 1

    def count_redirected_back(self, path: str, client: str) -> None:
        """Count a login to ``path`` counted as got in (``count_login``) as failed after all: its
        client's next page was its form again or a lockout page (``with_login_redirects_followed``)."""
        self.logins_redirected_back += 1
        counts = self.login_paths.get(path)
        if counts is not None:
            counts.failed += 1
            counts.failed_by_redirect += 1
            counts.successes_by_client[client] -= 1

    def count_login_probe(self, path: str) -> None:
        """Count a login submitted to ``path`` read as a probe (``login_probe``)."""
        if path in self.login_probes or len(self.login_probes) < MAX_LOGIN_PATHS:
            self.login_probes[path] += 1

    def login_probe_hints(self) -> list[str]:
        """What to check where a path answered logins, and also many as a page it does not have: a
        login API that answers an account it does not know with 404 fails those logins so."""
        hints = []
        for path, probes in self.login_probes.items():
            counts = self.login_paths.get(path)
            logins = counts.statuses.total() if counts is not None else 0
            if probes < MIN_LOGINS_FOR_HINT or logins < MIN_LOGINS_FOR_HINT:
                continue
            hints.append(
                f"{probes} login(s) submitted to {path} were answered 404 or 410 and read as probes of a page the site "
                f"does not have, though {logins} other(s) there were answered as logins: if it answers an "
                f"account it does not know so, pass --failed-login-status {path}=404, else those failed logins "
                "(a credential stuffing's, mostly) are not seen"
            )
        return hints

    def login_hints(self) -> list[str]:
        """What to check, per login path, when many logins were submitted to it and none, or next to
        none, read as failed (a site that answers a failed login below 400, the form again with 200,
        must say so); or every one of them did, some by a status given for
        every path and some by a 4xx of its own (an app's token call, failing with 401 and succeeding
        with 200, beside a form that fails with 200)."""
        hints = []
        submitted_to = {login_path_key(path) for path in self.login_paths}
        for given in self.failed_login_paths_given:
            if given not in submitted_to and len(self.login_paths) < MAX_LOGIN_PATHS:
                seen = ", ".join(
                    f"{path} ({counts.statuses.total()})"
                    for path, counts in sorted(self.login_paths.items(), key=lambda item: -item[1].statuses.total())[:3]
                )
                hints.append(
                    f"--failed-login-status names {given}, where no login was submitted: "
                    + (f"logins were submitted to {seen}" if seen else "no login was submitted to any path")
                    + "; check the path (without its query), or whether the log reads its requests as logins "
                    "(python -m traffic import shows each event's type; docs/traffic.md lists the login paths read)"
                )
        several = len(self.login_paths) > 1
        for path, counts in self.login_paths.items():
            submitted = counts.statuses.total()
            routine, routine_clients = counts.routine()
            if submitted - routine < MIN_LOGINS_FOR_HINT:
                continue
            statuses = ", ".join(f"{status} ({count})" for status, count in counts.statuses.most_common(3))
            if counts.failed == 0 and counts.given:
                # The option was passed, and no login there was answered with its status: telling the
                # user to pass it again would send them in a circle.
                given = ", ".join(str(status) for status in sorted(counts.given))
                hints.append(
                    f"{submitted} login(s) submitted to {path} and none read as failed: --failed-login-status gives it "
                    f"{given}, and none was answered so (statuses: {statuses}); check what the site answers a failed "
                    "login there with, and where it answers both alike (a redirect either way) drop the option for "
                    "it: no failed login can be seen there, and the surges of logins watch them (docs/model.md)"
                )
            elif counts.failed < LOGIN_FAILURE_HINT_SHARE * (submitted - routine):
                failed = f"only {counts.failed}" if counts.failed else "none"
                if routine:
                    failed += (
                        f" of the {submitted - routine} left when the {routine} logins beyond "
                        f"{ROUTINE_CLIENT_LOGINS} of {routine_clients} client(s) that logged in more often are left out"
                    )
                option = f"--failed-login-status {path}=STATUS" if several else "--failed-login-status STATUS"
                hints.append(
                    f"{submitted} login(s) submitted to {path} and {failed} read as failed (statuses: {statuses}); "
                    "if it answers a failed login with one of these (the form again with 200; a redirect back to the "
                    "form that its client follows is read as failed without it) and a successful one otherwise, pass "
                    f"{option}, else no failed login or failed-login wave "
                    "can be seen there (where it answers both alike, an app's login API, leave it: the surges of "
                    "logins watch them, docs/model.md)"
                )
            elif (
                counts.failed == submitted
                and all(status < 400 for status in counts.statuses)
                and (counts.given or counts.failed_by_site_status)  # (by the option: not WordPress's form)
            ):
                hints.append(
                    f"every one of the {submitted} login(s) submitted to {path} read as failed by "
                    f"--failed-login-status (statuses: {statuses}): if the site answers a successful login with that "
                    "status too (an app's login API answering 200 either way), drop the option; the surges of logins "
                    "watch logins whose outcome the log does not tell (docs/model.md)"
                )
            elif counts.failed == submitted and 0 < counts.failed_by_site_status < submitted:
                hints.append(
                    f"every one of the {submitted} login(s) submitted to {path} read as failed (statuses: {statuses}), "
                    f"{counts.failed_by_site_status} by a --failed-login-status given for every path: {path} fails "
                    "logins with 4xx too, and likely answers a successful one with that status (an app's token call); "
                    "give the status for the form's path alone (--failed-login-status PATH=STATUS)"
                )
            elif counts.failed_by_redirect >= MOSTLY_FAILED_SHARE * submitted:
                hints.append(
                    f"{counts.failed_by_redirect} of the {submitted} login(s) submitted to {path} "
                    f"({counts.failed_by_redirect / submitted:.0%}; statuses: {statuses}) read as failed because their "
                    "client fetched the form again after the redirect: where people's logins there mostly get in, "
                    "check what the site shows after one that does (python -m traffic import shows each event's type; "
                    "docs/traffic.md says how logins are read), as the failed-login waves judge the share that fails; "
                    "a credential-stuffing attack through the form explains it too"
                )
        return hints

    def proxy_hint(self) -> str | None:
        """What to check when most requests come from private networks: the log was likely written
        behind a load balancer or reverse proxy, whose address hides every client's."""
        internal = sum(self.internal_addresses.values())
        if self.addressed < MIN_REQUESTS_FOR_HINT or internal < self.addressed * PROXY_HINT_SHARE:
            return None
        seen = ", ".join(address for address, _ in self.internal_addresses.most_common(3))
        share = f"{internal} of {self.addressed} requests come from private-network addresses ({seen})"
        if self.reads_forwarded:
            return (
                f"{share} even after X-Forwarded-For; if the proxies in front of the site have public addresses "
                "(a CDN), name their networks with --real-ip-from CIDR"
            )
        how = (
            "log the X-Forwarded-For request header (IIS: a custom field named X-Forwarded-For, source type "
            "Request Header)"
            if self.w3c
            else 'add the client\'s address ("$http_x_forwarded_for"; Apache: "%{X-Forwarded-For}i") to the format'
        )
        return (
            f"{share}: if the log is written behind a load balancer or reverse proxy, {how}, else every client has "
            "the proxy's address, network and country"
        )

    def address_hint(self) -> str | None:
        """What a log without client addresses cannot show: where a request came from."""
        if self.events < MIN_REQUESTS_FOR_HINT or self.addressed or not self.addresses_expected:
            return None
        return (
            f"none of {self.events} requests has a client address (the format has no $remote_addr, or the column "
            "is empty): the features of addresses, networks and countries read nothing, and a request without a "
            "session id is keyed by its user agent alone; if the log has the address, add it to the format"
        )

    def unreadable_address_hint(self) -> str | None:
        """What an address column that holds something other than IPs costs: the client's key."""
        if self.unreadable_addresses < MIN_REQUESTS_FOR_HINT:
            return None
        return (
            f"{self.unreadable_addresses} request(s) have an address that is not an IP (the first: "
            f"{self.unreadable_address_example!r}), kept in properties.remote_addr: a request without a session id "
            "is then keyed by its user agent alone, with every other such request of that browser build (a new-user "
            "trial's malformed IPv6 addresses made eleven such clients of thousands of people); check the column"
        )

    def unplaced_client_hint(self) -> str | None:
        """What an X-Forwarded-For holding something other than addresses costs: its client."""
        if self.unplaced_clients < MIN_REQUESTS_FOR_HINT:
            return None
        proxies = ", ".join(address for address, _ in self.unplaced_proxies.most_common(3))
        return (
            f"{self.unplaced_clients} request(s) have an X-Forwarded-For entry that is not an address (the first "
            f"header: {self.unplaced_header_example!r}): the hops beyond it cannot be placed, and their client is "
            f"taken as the proxy that wrote it ({proxies}), so that clients without a cookie behind one proxy are one "
            "(a new-user trial's malformed IPv6 addresses made 303 people's clients the load balancer's); check what "
            "writes the header"
        )

    def agent_hint(self) -> str | None:
        """What a log whose user-agent column is always empty cannot show: which client a request
        came from (a format without the column says nothing: common, CSIC 2010)."""
        if self.events < MIN_REQUESTS_FOR_HINT or self.with_agent or not self.agents_expected:
            return None
        return (
            f"none of {self.events} requests has a user agent (its column is empty on every line; Traefik logs no "
            "request header unless accessLog.fields.headers.names keeps User-Agent): the "
            "features of clients read nothing, and a request without a session id is keyed by its address alone"
        )

    def address_alone_hint(self) -> str | None:
        """What a log whose format has no user agent nor session, and whose lines name no user, cannot
        tell apart: the people behind one address (a new-user trial's API Gateway stage, logging its
        console's preset, keyed a mobile carrier's NAT address's users as one client)."""
        if self.events < MIN_REQUESTS_FOR_HINT or not self.sessionless_without_agents or self.named_users:
            return None
        return (
            f"the format has no user agent nor session, and none of {self.events} requests names a user: each client "
            "is its address alone, and the people behind one address (a mobile carrier's NAT, an office) are one; "
            "add the user agent ($http_user_agent; Apache's %{User-Agent}i, API Gateway's "
            "$context.identity.userAgent) and, where the log can have them, the session or the user ($user_id; API "
            "Gateway's $context.authorizer.claims.sub)"
        )

    def compressed_copies_hint(self) -> str | None:
        """What to check when a folder holds a file both compressed and not: likely one file twice."""
        if not self.both_compressed:
            return None
        named = ", ".join(self.both_compressed[:3])
        return (
            f"{len(self.both_compressed)} file(s) of the folder are there uncompressed too ({named}): both copies were "
            "read, and if they are one log its requests are counted twice; keep one of each"
        )

    def status_hint(self) -> str | None:
        """What is lost when most requests have no status (a firewall's log records only what it
        answered itself; a template without ``$status``)."""
        if not self.statuses_expected or self.events < MIN_REQUESTS_FOR_HINT or self.with_status * 2 >= self.events:
            return None
        logins = f", {self.login_attempts} login(s) among them" if self.login_attempts else ""
        return (
            f"{self.events - self.with_status} of {self.events} requests have no status{logins}: whether a login "
            "failed or a payment was declined is unknown for them, so the failed-login and declined-payment waves see "
            "only the failures the log does record, and credential stuffing and card testing show mostly in their "
            "clients' own pace; give the "
            "column with the response's status if the log has one (a web firewall's log, AWS WAF's, records only "
            "what the firewall itself answered: the site's or its load balancer's log has the rest)"
        )

    def duration_hint(self) -> str | None:
        """What to check when most durations read as more than an hour: the unit of the variable."""
        if self.timed < MIN_REQUESTS_FOR_HINT or self.timed_over_an_hour * 2 < self.timed:
            return None
        units = ", ".join(f"${name}" for name in _DURATION_UNITS)
        return (
            f"{self.timed_over_an_hour} of {self.timed} requests took more than an hour by their duration column: "
            f"is it in another unit? ({units}: seconds, milliseconds, microseconds, nanoseconds; Traefik's "
            "Duration is nanoseconds)"
        )

    def foreign_json_hint(self) -> str | None:
        """What to use when event JSON lines turn out to be a JSON access log."""
        if self.foreign_json < max(MIN_REQUESTS_FOR_HINT, self.lines // 2) and not (
            self.events == 0 and self.foreign_json
        ):
            return None
        keys = ", ".join(self.foreign_json_keys)
        return (
            f"{self.foreign_json} line(s) are JSON objects without the event contract's occurred_at (keys: {keys}): "
            "a JSON access log is read with --format custom --log-format and the JSON template that wrote it "
            "(docs/traffic.md, JSON access logs), or --format traefik for Traefik's, --format cloudflare for "
            "Cloudflare Logpush's"
        )

    def signup_hint(self) -> str | None:
        """What to name when no request read as a sign-up and an API's collection of accounts took
        POSTs: the sign-up waves (account farming) see nothing without them. On a new-user trial of a
        delivery app's ALB log, 1,189 ``POST /v1/users`` were page views and the waves were off
        without a word."""
        if self.signups or not self.account_creates:
            return None
        path, count = self.account_creates.most_common(1)[0]
        if count < MIN_CREATES_FOR_HINT:
            return None
        return (
            f"no request read as a sign-up, and {count} POST(s) to {path} were answered 2xx: if that registers "
            f"accounts, pass --signup-path {path}, else account farming can be seen nowhere (the sign-up waves, "
            "docs/model.md); the paths read as sign-ups are in docs/traffic.md"
        )

    def route_hint(self) -> str | None:
        """What to add when the resources are API Gateway's route templates: the paths themselves."""
        if self.route_only < max(self.events * ROUTE_HINT_SHARE, 1):
            return None
        return (
            f"{self.route_only} of {self.events} requests name only the API Gateway route they matched "
            "($context.resourcePath or $context.routeKey: a template such as /pets/{id}), not their path: the "
            "features of paths read the route, and a walk over ids reads as one page; add $context.path to the "
            "stage's access-log format"
        )

    def extra_columns_hint(self) -> str | None:
        """What to check when some lines, not most, have columns after the format's end: where the
        rest end with the format, a value with a space in it shifted the columns after it, and those
        lines' fields were read from the wrong columns (a session id from a response time)."""
        if not self.extra_columns or self.extra_columns >= self.events * EXTRA_COLUMNS_HINT_SHARE:
            return None
        source, number, extra, _ = self.extra_column_examples[0]
        return (
            f"{self.extra_columns} of {self.events} lines had more columns than the format names, the rest none: "
            "a value with a space in one of them may have shifted the columns after it, so that they were read "
            f"from the wrong ones; check the format against {source}:{number}, which ended with {extra!r} "
            "after the format's last column"
        )

    def order_hint(self) -> str | None:
        """What to do with a log out of time order: the import joins sessions and logins, and the
        backtest replays, in the log's order but for a few minutes."""
        if self.late_example is None or self.late_events < self.events * ORDER_HINT_SHARE:
            return None
        source, number = self.late_example
        # A clock jump: the lines after the one ahead carry on from the time before it.
        ahead = self.latest_line
        if (
            ahead is not None
            and ahead[3] > CLOCK_JUMP_SECONDS
            and -LANDING_SECONDS <= self.earliest_late - (ahead[2] - ahead[3]) <= CLOCK_CARRY_ON_SECONDS
        ):
            ahead_source, ahead_number, moment, jump = ahead
            dated = datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
            return (
                f"{self.late_events} of {self.events} requests came before {ahead_source}:{ahead_number}, which is "
                f"dated {dated}, {jump / 86_400:,.0f} days after the line before it: a clock that was wrong (its "
                "server's, or a year or time zone written for another) rather than files out of order; drop or "
                "correct such lines (sorted, they come last, where they still stretch the days the backtest counts)"
            )
        if self.sorted:
            return None  # (the summary says it was put in order)
        return (
            f"{self.late_events} of {self.events} requests came more than {LANDING_SECONDS / 60:g} min before a line "
            f"read earlier (up to {self.most_late_seconds / 60:.0f} min; the first at {source}:{number}): the log is "
            "out of time order, as files concatenated as they are (CloudFront writes several an hour, each in its own "
            f"order); requests are joined to sessions and logins to users, and the backtest replays them, in the "
            f"log's order but for {LANDING_SECONDS / 60:g} min: sort it by time first (docs/traffic.md)"
        )

    def hints(self) -> list[str]:
        """Every hint that applies: what to check or change to read the log right."""
        found = (
            self.order_hint(),
            *self.login_hints(),
            *self.login_probe_hints(),
            self.proxy_hint(),
            self.address_hint(),
            self.unreadable_address_hint(),
            self.unplaced_client_hint(),
            self.agent_hint(),
            self.address_alone_hint(),
            self.duration_hint(),
            self.status_hint(),
            self.compressed_copies_hint(),
            self.foreign_json_hint(),
            self.session_hint(),
            self.user_column_hint(),
            self.extra_columns_hint(),
            self.signup_hint(),
            self.route_hint(),
            self.haproxy_headers_hint(),
            self.graphql_hint(),
        )
        return [hint for hint in found if hint]

    def graphql_hint(self) -> str | None:
        """What to log when most requests to a GraphQL API named no operation: one path, answered 200
        whatever happened, where a login, a payment and a search look alike."""
        if self.graphql_unnamed < MIN_REQUESTS_FOR_HINT or self.graphql_unnamed < self.graphql_operations.total():
            return None
        return (
            f"{self.graphql_unnamed} request(s) to the GraphQL API at {self.graphql_path} named no operation: its "
            "logins, payments and searches look alike there, and none is read as what it is; log the operation's name "
            "(a header the client sends, such as $http_x_apollo_operation_name; docs/traffic.md, GraphQL APIs)"
        )

    def haproxy_headers_hint(self) -> str | None:
        """What to name when HAProxy's lines carry captured request headers that were not read."""
        if not self.haproxy_unnamed_headers and not self.haproxy_misnamed_headers:
            return None
        if self.haproxy_unnamed_headers:
            problem = f"{self.haproxy_unnamed_headers} line(s) carry captured request headers that were not read"
        else:
            problem = (
                f"{self.haproxy_misnamed_headers} line(s) carry a different number of captured request headers than "
                "--haproxy-headers names, and theirs were not read"
            )
        return (
            f"{problem} ({{{self.haproxy_headers_example}}}): name them, in the order of the frontend's "
            "'capture request header' lines, with --haproxy-headers (such as User-Agent,Referer,Cookie); the user "
            "agent, the referer and the session cookie are read from them (a frontend that captures response "
            "headers alone writes one block too: read its log apart)"
        )

    def user_column_hint(self) -> str | None:
        """What to name a column that looks like the user's, where the format names none that is, or
        where the one it names held no user in any line (Apache's %u beside the application's header)."""
        if (self.users_expected and self.named_users) or not self.user_like_columns or self.events == 0:
            return None
        named = ", ".join(f"${name}" for name in self.user_like_columns)
        empty = "; the user column the format names held none in any line" if self.users_expected else ""
        return (
            f"{named} is not read as the user{empty}: the user is $remote_user (Apache's %u), $user_id or the "
            "X-User-Id response header ($upstream_http_x_user_id, Apache's %{X-User-Id}o); if it holds the user's id "
            "as the application names it, name it $user_id in the format (without a user, each user is its session "
            "or its client)"
        )

    def session_hint(self) -> str | None:
        """What to check when most requests of a log with a session column carried no session id:
        the column may not hold the session (each client then is one)."""
        if self.events < MIN_REQUESTS_FOR_HINT or self.client_sessions < self.events * SESSIONLESS_HINT_SHARE:
            return None
        share = (
            f"{self.client_sessions} of {self.events} requests carried no session id and are keyed by their client "
            f"({self._client_kind()}) as its session"
        )
        by_user = (
            "backtest --entity user, which keys them by the log's user ids"
            if self.users_expected
            else "log the user id (or the app's own session header) for them, and backtest --entity user"
        )
        if self.reads_cookie_header and not self.cookie_names and self.redacted_cookies:
            return (
                f"{share}: the Cookie header was logged as {REDACTED_COOKIE!r} on {self.redacted_cookies} requests "
                f"(Caddy writes it so unless its servers' log_credentials option is on); {self.cookie_advice} or log "
                f"the session id; or, if the requests come from apps that keep no cookie, {by_user}"
            )
        if self.reads_cookie_header and not self.cookie_names:
            return (
                f"{share}: the Cookie header column was empty on every request; {self.cookie_advice} or log the "
                f"session id; or, if the requests come from apps that keep no cookie, {by_user}"
            )
        if self.reads_cookie_header and self.cookies_without_session < self.client_sessions * SESSIONLESS_HINT_SHARE:
            return (
                f"{share}: most of them sent no Cookie header at all (an app, a video player or a script keeps "
                f"none; {self.cookies_without_session} sent cookies without a session's), so no cookie can name "
                f"their session: {by_user}"
            )
        if self.cookie_names or self.session_cookie is not None:
            asked = f"no cookie {self.session_cookie!r}" if self.session_cookie else "no cookie named like a session"
            seen = ", ".join(f"{name} ({count})" for name, count in self.cookie_names.most_common(HINTED_COOKIES))
            return (
                f"{share}: their Cookie header had {asked}; name the session cookie with --session-cookie NAME "
                f"(cookies the most requests carried: {seen or 'none'})"
            )
        return (
            f"{share}; if the log's session column is not the session's, name the right one in the format "
            "($session_id, or $cookie_NAME)"
        )

    def _client_kind(self) -> str:
        return "address and user agent" if self.addressed else "user agent alone: the log has no addresses"

    def _example(self, into: list[tuple[str, int, str, str]], source: str, number: int, reason: str, line: str) -> None:
        if len(into) < self.max_examples:
            into.append((source, number, reason, line[:_EXAMPLE_CHARACTERS]))

    def summary(self) -> str:
        """A few human-readable lines for the end of an import."""
        lines = [
            f"{self.lines} line(s): {self.events} event(s), {self.unparseable} unparseable, "
            f"{self.invalid} invalid, {self.blank} blank"
            + (f", {self.directives} header line(s)" if self.directives else "")
        ]
        if self.joined_sessions or self.client_sessions:
            lines.append(
                f"  {self.joined_sessions + self.client_sessions} request(s) without a session id: "
                f"{self.joined_sessions} joined the session their client started within "
                f"{LANDING_SECONDS / 60:g} min, {self.client_sessions} keyed by their client ({self._client_kind()})"
                + (
                    f"; {self.sessions_begun_at_login} of {self.sessions_begun} sessions began right after their "
                    "client's login without one: the site sets its session cookie at login, and a client's requests "
                    "without one before it are its visit's"
                    if cookie_set_at_login(self.sessions_begun_at_login, self.sessions_begun)
                    else ""
                )
            )
        if self.redacted_credentials:
            lines.append(
                f"  {self.redacted_credentials} request(s) carried a credential in their query (a token, a key, a "
                f"signature, a session id): its value is not kept ({REDACTED_VALUE})"
            )
        if self.sorted and self.late_events:
            source, number = self.late_example or ("?", 0)
            lines.append(
                f"  {self.late_events} request(s) came more than {LANDING_SECONDS / 60:g} min before a line read "
                f"earlier (up to {self.most_late_seconds / 60:.0f} min; the first at {source}:{number}): put in time "
                "order"
            )
        if self.rotated_sessions:
            lines.append(
                f"  {self.rotated_sessions} session id(s) came within {ROTATION_SECONDS:g} s after their client's "
                f"login or a redirect in another session: read as its session, the id rotated ({self.rotated_requests} "
                "request(s))"
            )
        if self.attributed_to_users or self.shared_logins:
            lines.append(
                f"  {self.attributed_to_users} login(s) without a user are the user's their session or client "
                f"named within {ATTRIBUTION_SECONDS:g} s after them; {self.shared_logins} stay their session's "
                f"or client's, which named several users within {SESSION_MEMORY_SECONDS / 60:g} min"
            )
        if self.session_requests_attributed:
            lines.append(
                f"  {self.session_requests_attributed} other request(s) without a user are the user's their session "
                f"named within {SESSION_MEMORY_SECONDS / 60:g} min before them or {ATTRIBUTION_SECONDS:g} s after "
                "(files the proxy serves itself, calls the application does not name the user on)"
            )
        if self.graphql_operations:
            read = ", ".join(f"{kind} {count}" for kind, count in self.graphql_operations.most_common())
            read_by_name = f"{self.graphql_operations.total()} GraphQL request(s) read by their operation's name"
            lines.append(f"  {read_by_name}: {read}")
        if self.logins_redirected_back:
            lines.append(
                f"  {self.logins_redirected_back} login(s) answered with a redirect were followed within "
                f"{LOGIN_REDIRECT_SECONDS:g} s by their form again or a lockout page: read as failed"
            )
        if self.auth_challenges:
            lines.append(
                f"  {self.auth_challenges} request(s) were Windows authentication's challenges (IIS 401.1 and 401.2) "
                f"that their client repeated with its credentials within {AUTH_CHALLENGE_SECONDS:g} s: read as part "
                "of that request, not as events of their own"
            )
        for title, examples in (("unparseable", self.unparseable_examples), ("invalid", self.invalid_examples)):
            for source, number, reason, text in examples:
                lines.append(f"  {title} {source}:{number}: {reason}: {text!r}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "events": self.events,
            "unparseable": self.unparseable,
            "invalid": self.invalid,
            "blank": self.blank,
            "directives": self.directives,
            "joined_sessions": self.joined_sessions,
            "client_sessions": self.client_sessions,
            "sessions_begun_at_login": self.sessions_begun_at_login,
            "attributed_to_users": self.attributed_to_users,
            "auth_challenges": self.auth_challenges,
            "shared_logins": self.shared_logins,
            "session_requests_attributed": self.session_requests_attributed,
            "logins_redirected_back": self.logins_redirected_back,
            "extra_columns": self.extra_columns,
            "route_only": self.route_only,
            "graphql_operations": dict(self.graphql_operations),
            "graphql_unnamed": self.graphql_unnamed,
            "unparseable_examples": [list(example) for example in self.unparseable_examples],
            "invalid_examples": [list(example) for example in self.invalid_examples],
        }


def session_column(variables: Sequence[str], cookie: str | None = None) -> str | None:
    """The format's variable that holds the session id: ``session_id`` (or another of
    ``SESSION_VARIABLES``, in any case), else the ``cookie_`` variable of the cookie named ``cookie``,
    else the one ``cookie_`` variable, else the first cookie whose name says session, else the first
    cookie, else a whole Cookie header (``COOKIE_HEADER``)."""
    by_name = {variable.lower(): variable for variable in variables}
    column = next((by_name[name] for name in SESSION_VARIABLES if name in by_name), None)
    if column is not None:
        return column
    cookies = [name for name in variables if name.startswith("cookie_")]
    if cookie is not None and f"cookie_{cookie}" in cookies:
        return f"cookie_{cookie}"
    if cookie is not None and COOKIE_HEADER in variables:
        return COOKIE_HEADER  # the named cookie is in the header, not in a column of its own
    named = [name for name in cookies if _SESSION_COOKIE_RE.search(name.removeprefix("cookie_"))]
    header = [COOKIE_HEADER] if COOKIE_HEADER in variables else []
    return next(iter(named or cookies or header), None)


def session_cookie(header: str, name: str | None = None) -> tuple[str | None, list[str]]:
    """The session id a Cookie header (``consent=yes; sid=a1b2``) carries: the cookie called ``name``,
    or without a name the first whose name says session (``sid``, ``PHPSESSID``, ``_app_session``...)
    and is not an analytics or payment script's (``_hjSession_*``, ``__stripe_sid``); with the names
    of all its cookies. Surrounding quotes are not part of a value (RFC 6265)."""
    found: str | None = None
    names = []
    for pair in header.split(";"):
        cookie, separator, value = pair.strip().partition("=")
        if not separator or not cookie:
            continue
        names.append(cookie)
        named = _SESSION_COOKIE_RE.search(cookie) and not _THIRD_PARTY_COOKIE_RE.search(cookie)
        if found is None and (cookie == name if name is not None else named):
            found = value.strip().strip('"') or None
    return found, names


# An IIS request answered 401 by Windows authentication's handshake, which the browser repeats at
# once with its credentials: substatus 2 (it sent none: Kerberos's and NTLM's first leg) or 1 with
# no Win32 error or SEC_E_NO_CREDENTIALS (NTLM's challenge, as Microsoft's examples log it either
# way). A 401.1 with SEC_E_LOGON_DENIED (2148074252) is a logon refused.
AUTH_CHALLENGE_PROPERTY = "auth_challenge"
_CHALLENGE_WIN32_STATUSES = (None, "0", "2148074254")
# The folded challenges a request carries, and how long after one its request may come.
AUTH_CHALLENGES_PROPERTY = "auth_challenges"
AUTH_CHALLENGE_SECONDS = 5.0


class _HeldByKey:
    """Requests held back per key (a client, a session), each with its time: what the import holds
    while it waits to learn whose a request is (``with_cookieless_sessions``,
    ``with_logins_attributed``)."""

    def __init__(self) -> None:
        self.queues: dict[str, list[tuple[float, int, LabeledEvent]]] = {}  # key -> heap of (time, arrival, request)
        self.waiting: list[tuple[float, int, str]] = []  # heap of (time, arrival, key) of held requests

    def __contains__(self, key: str) -> bool:
        return key in self.queues

    def hold(self, key: str, moment: float, arrival: int, labeled: LabeledEvent) -> None:
        heapq.heappush(self.queues.setdefault(key, []), (moment, arrival, labeled))
        heapq.heappush(self.waiting, (moment, arrival, key))

    def take(self, key: str, before: float = math.inf) -> Iterator[LabeledEvent]:
        """The key's held requests older than ``before``, oldest first (each taken off its heap: a
        crawler holding thousands costs no copies)."""
        queue = self.queues.get(key)
        while queue and queue[0][0] < before:
            yield heapq.heappop(queue)[2]
        if not queue:
            self.queues.pop(key, None)

    def expired(self, cutoff: float) -> Iterator[str]:
        """The keys of requests held since before ``cutoff``, one for each such request."""
        while self.waiting and self.waiting[0][0] < cutoff:
            yield heapq.heappop(self.waiting)[2]

    def keys_held(self) -> list[str]:
        """Every key with a request held (a copy: taking them all empties it)."""
        return list(self.queues)


def cookie_set_at_login(begun_at_login: int, begun: int) -> bool:
    """Whether a site whose ``begun`` sessions (of clients that sent requests without one) began
    ``begun_at_login`` times right after their client's login sets its session cookie at login only."""
    return begun_at_login >= COOKIE_AT_LOGIN_SESSIONS and begun_at_login >= COOKIE_AT_LOGIN_SHARE * begun


def with_cookieless_sessions(events: Iterable[LabeledEvent], report: ImportReport) -> Iterator[LabeledEvent]:
    """``events`` (in the log's order) with a session id for each that has none: the session its
    client (address and user agent) started within ``COOKIELESS_JOIN_SECONDS`` of it (a landing
    page logged after its styles), else the one the client starts within ``LANDING_SECONDS`` after
    it, unless the client sent another request without one more than ``COOKIELESS_JOIN_SECONDS``
    after it (it keeps no cookies), else the client's own (``client:<16 hex>``). Counted in
    ``report``. But where the site sets its session cookie at login only (``cookie_set_at_login``:
    its sessions begin right after their client's login, which carried none), a browser sends none
    until it logs in: a later request without one does not say the client keeps none, and its
    requests of the last ``LANDING_SECONDS`` before its login join the session the login began (on a
    new-user trial of a Django site's log, the login's form and its failed tries were a visit apart
    from the session that got in).

    A session "starts" at the first request that carries it (one not seen in the last
    ``SESSION_MEMORY_SECONDS``): people behind one address with the same browser build are one
    client, and a neighbour's first request must not join a session already under way; nor, once
    the client has started ``CROWDED_CLIENT_SESSIONS`` sessions in that time, any: the client is
    several people, and its requests without a cookie are its own. Time is the
    newest seen so far, so a log whose time steps back (files concatenated out of order) releases
    what it holds rather than holding it to the end."""
    held = _HeldByKey()  # by client
    sessions_seen: OrderedDict[str, float] = OrderedDict()  # session id -> last seen, oldest first
    newest = -math.inf

    # client -> (session, when) of the sessions started in the last COOKIELESS_JOIN_SECONDS, oldest first
    just_started: OrderedDict[str, tuple[str, float]] = OrderedDict()
    # client -> when its last CROWDED_CLIENT_SESSIONS sessions started (``crowded`` counts those within
    # SESSION_MEMORY_SECONDS), the client that started one longest ago first
    starts: OrderedDict[str, list[float]] = OrderedDict()
    # client -> when it last submitted a login without a cookie (of the last ROTATION_SECONDS)
    logins: OrderedDict[str, float] = OrderedDict()

    def assigned(labeled: LabeledEvent, client: str, session: str | None) -> LabeledEvent:
        """The request in the given session, or in its client's own."""
        event = labeled.event
        if session is None:
            event["session_id"] = client
            report.client_sessions += 1
        else:
            event["session_id"] = session
            if event["user_id"] == client:  # (a user of the log's own is kept)
                event["user_id"] = identify_user(None, session, None, None)
            report.joined_sessions += 1
        return labeled

    def crowded(client: str) -> bool:
        """Whether the client started ``CROWDED_CLIENT_SESSIONS`` sessions in the last
        ``SESSION_MEMORY_SECONDS``: it is several people."""
        since = newest - SESSION_MEMORY_SECONDS
        return sum(start >= since for start in starts.get(client, ())) >= CROWDED_CLIENT_SESSIONS

    def release(client: str, session: str | None, before: float = math.inf) -> Iterator[LabeledEvent]:
        """The client's held requests older than ``before``, oldest first, in the given session or
        their client's (where the client is several people, whatever the session)."""
        for labeled in held.take(client, before):
            yield assigned(labeled, client, None if crowded(client) else session)

    for arrival, labeled in enumerate(events):
        event = labeled.event
        moment = parse_timestamp(event["occurred_at"]).timestamp()
        newest = max(newest, moment)
        cutoff = newest - LANDING_SECONDS
        for client in held.expired(cutoff):
            yield from release(client, None, cutoff)
        while sessions_seen and next(iter(sessions_seen.values())) < newest - SESSION_MEMORY_SECONDS:
            sessions_seen.popitem(last=False)
        while just_started and next(iter(just_started.values()))[1] < newest - COOKIELESS_JOIN_SECONDS:
            just_started.popitem(last=False)
        while starts and next(iter(starts.values()))[-1] < newest - SESSION_MEMORY_SECONDS:
            starts.popitem(last=False)
        while logins and next(iter(logins.values())) < newest - ROTATION_SECONDS:
            logins.popitem(last=False)
        client = identify_user(None, None, event.get("ip"), event.get("user_agent"))
        session = event.get("session_id")
        if session is None and client != ANONYMOUS and event.get("event_type") in _LOGIN_TRIES:
            logins.pop(client, None)
            logins[client] = moment
        if session is None:
            if client == ANONYMOUS:  # (no address, no agent: no client to tell apart)
                yield labeled
                continue
            if crowded(client):
                yield assigned(labeled, client, None)
                continue
            started = just_started.get(client)
            if started is not None and abs(moment - started[1]) <= COOKIELESS_JOIN_SECONDS:
                # A landing page logged after its session's first request (a server writes a line as
                # its response finishes, and a page's styles can finish first): it began that session.
                yield assigned(labeled, client, started[0])
                continue
            at_login = cookie_set_at_login(report.sessions_begun_at_login, report.sessions_begun)
            if client in held and not at_login:  # (what it sent well before this kept no cookie: its own session)
                yield from release(client, None, moment - COOKIELESS_JOIN_SECONDS)
            held.hold(client, moment, arrival, labeled)
            continue
        if session not in sessions_seen and client != ANONYMOUS:
            starts[client] = [*starts.pop(client, []), moment][-CROWDED_CLIENT_SESSIONS:]
            if client in held or client in logins:
                report.sessions_begun += 1
                report.sessions_begun_at_login += client in logins
            yield from release(client, session)
            just_started[client] = (session, moment)
            just_started.move_to_end(client)
        sessions_seen[session] = newest
        sessions_seen.move_to_end(session)
        yield labeled
    for client in held.keys_held():
        yield from release(client, None)


class _Rotation(NamedTuple):
    """A new session id that may be one rotated at a login or redirect, its requests held until that is known."""

    continues: str  # the session it would continue
    handover_id: str  # the id the login or redirect carried (the session's, or its own rotated one)
    until: float  # when it is taken to continue it, that id not having been seen again
    held: list[LabeledEvent]


def with_rotated_sessions(events: Iterable[LabeledEvent], report: ImportReport) -> Iterator[LabeledEvent]:
    """``events`` (in the log's order, each with its session) with a session id rotated at login (or
    at another redirect: an e-mail address verified) read as the session it continues (counted in
    ``report``).

    A client's (address and user agent) first request with an id not seen in the last
    ``SESSION_MEMORY_SECONDS``, within ``ROTATION_SECONDS`` after the client's successful login (or
    one of unknown outcome) or a redirect (3xx, not of an asset) in another session, is that session
    with its id rotated, or a
    neighbour behind the same address arriving. Its requests are held until the id the login or
    redirect carried is seen again (a neighbour's: the browser before it still sends that id) or for
    ``ROTATION_SECONDS`` without it (rotated: the browser replaced the cookie); the id's later
    requests follow. A handover whose id comes again before any new id was no rotation (the site
    keeps its cookie at login), and hands nothing over; where ``KEPT_COOKIE_SHARE`` of the logins
    whose fate was seen (``KEPT_COOKIE_LOGINS`` at least) kept their id, none hands over. A
    client that started
    ``CROWDED_CLIENT_SESSIONS`` sessions in that time is several people: its new ids are their own.
    Every request comes out once, held ones up to ``ROTATION_SECONDS`` (of the newest time read)
    late."""
    continued: OrderedDict[str, tuple[str, float]] = OrderedDict()  # rotated id -> (its session, last seen)
    sessions_seen: OrderedDict[str, float] = OrderedDict()  # id carried -> last seen, oldest first
    # client -> (session, id carried, time) of its last successful login or redirect
    handovers: OrderedDict[str, tuple[str, str, float]] = OrderedDict()
    handover_clients: OrderedDict[str, tuple[str, float]] = OrderedDict()  # id a handover carried -> (client, time)
    # The ids successful logins carried, until their fate is known: the browser sent the id again
    # (the site kept its cookie) or a new id took it over (rotated). Where the logins read so far
    # kept theirs (``KEPT_COOKIE_SHARE`` of at least ``KEPT_COOKIE_LOGINS``), the site does not rotate
    # its cookie, and a new id after a login is a neighbour's visit whatever follows.
    login_ids: OrderedDict[str, float] = OrderedDict()
    fates = {"kept": 0, "rotated": 0}
    client_starts: OrderedDict[str, list[float]] = OrderedDict()  # client -> its latest sessions' starts
    pending: OrderedDict[str, _Rotation] = OrderedDict()  # new id -> the session it may continue, its requests
    awaited: dict[str, str] = {}  # the id a handover carried -> the new id that may continue its session
    newest = -math.inf

    def client_of(event: dict[str, Any]) -> str:
        return identify_user(None, None, event.get("ip"), event.get("user_agent"))

    def keeps_cookie() -> bool:
        decided = fates["kept"] + fates["rotated"]
        return decided >= KEPT_COOKIE_LOGINS and fates["kept"] >= KEPT_COOKIE_SHARE * decided

    def started(client: str, moment: float) -> None:
        """Count a session the client started (``CROWDED_CLIENT_SESSIONS``)."""
        recent = [start for start in client_starts.pop(client, []) if start >= newest - SESSION_MEMORY_SECONDS]
        client_starts[client] = [*recent, moment][-CROWDED_CLIENT_SESSIONS:]

    def seen(labeled: LabeledEvent, carried: str) -> None:
        """Note the id the request carried as seen, and a login or redirect in its session (a handover).
        A later request but for page assets carrying the id a handover carried voids it: that browser
        kept its cookie across the login or redirect (ASP.NET keeps its session cookie at login), so
        the next new id behind its address is a neighbour's visit, not this one's id rotated (on a
        new-user trial of an IIS portal's log, a hospital's staff behind one address and browser build
        were merged). A page asset does not: the form's page may still be loading as the login is
        posted (a ticketing trial's fast scalpers, whose visits were split at their logins)."""
        event = labeled.event
        sessions_seen[carried] = newest
        sessions_seen.move_to_end(carried)
        status = event.get("status")
        handed_over = isinstance(status, int) and 300 <= status < 400 and event.get("event_type") != "static_asset"
        # (a login whose outcome the log does not say, a web firewall's: a new id after it is how one
        # that got in shows, and a failed one's form comes back with the old id, which voids it; on a
        # new-user trial of a bank's WAF log, every visit was split at its login)
        if event.get("event_type") in ("login_succeeded", "login_attempt") or handed_over:
            client = client_of(event)
            if client != ANONYMOUS:
                moment = parse_timestamp(event["occurred_at"]).timestamp()
                handovers[client] = (event["session_id"], carried, moment)
                handovers.move_to_end(client)
                handover_clients[carried] = (client, moment)
                handover_clients.move_to_end(carried)
                if event.get("event_type") == "login_succeeded":
                    login_ids[carried] = moment
                    login_ids.move_to_end(carried)
        elif carried in handover_clients and event.get("event_type") != "static_asset":
            # (not an asset: the form's page may still be loading its images as the login is posted)
            client = handover_clients.pop(carried)[0]
            if client in handovers and handovers[client][1] == carried:
                del handovers[client]
            if login_ids.pop(carried, None) is not None:
                fates["kept"] += 1

    def continuing(labeled: LabeledEvent, carried: str, session: str) -> None:
        """Read the request that carried rotated id ``carried`` as ``session``'s."""
        event = labeled.event
        report.rotated_requests += 1
        event["session_id"] = session
        event["properties"]["rotated_session_id"] = carried
        if event["user_id"] == identify_user(None, carried, None, None):
            event["user_id"] = identify_user(None, session, None, None)

    def settle(carried: str, rotated: bool) -> Iterator[LabeledEvent]:
        """The held requests of new id ``carried``: the handover's session's if ``rotated``, else its own."""
        continues, handover_id, _, held = pending.pop(carried)
        awaited.pop(handover_id, None)
        if login_ids.pop(handover_id, None) is not None:
            fates["rotated" if rotated else "kept"] += 1
        if rotated:
            report.rotated_sessions += 1
            continued[carried] = (continues, newest)
        else:
            first = held[0].event
            started(client_of(first), parse_timestamp(first["occurred_at"]).timestamp())
        for labeled in held:
            if rotated:
                continuing(labeled, carried, continues)
            seen(labeled, carried)
            yield labeled

    for labeled in events:
        event = labeled.event
        moment = parse_timestamp(event["occurred_at"]).timestamp()
        newest = max(newest, moment)
        while pending and next(iter(pending.values())).until < newest:
            yield from settle(next(iter(pending)), rotated=True)
        for memory in (continued, sessions_seen, handovers, handover_clients, login_ids, client_starts):
            _forget(memory, newest - SESSION_MEMORY_SECONDS)
        carried = event.get("session_id")
        if carried is None:
            yield labeled
            continue
        if carried in pending:
            pending[carried].held.append(labeled)
            continue
        if carried in awaited:  # the handover's browser still sends its id: the new one is another visit
            yield from settle(awaited[carried], rotated=False)
        if carried in continued:
            session = continued.pop(carried)[0]
            continued[carried] = (session, newest)
            continuing(labeled, carried, session)
        elif carried not in sessions_seen:
            client = client_of(event)
            handover = handovers.pop(client, None) if client != ANONYMOUS else None
            recent = sum(start >= newest - SESSION_MEMORY_SECONDS for start in client_starts.get(client, ()))
            if (
                handover is not None
                and 0.0 <= moment - handover[2] <= ROTATION_SECONDS
                and recent < CROWDED_CLIENT_SESSIONS
                and handover[1] not in awaited
                and not keeps_cookie()
            ):
                pending[carried] = _Rotation(handover[0], handover[1], moment + ROTATION_SECONDS, [labeled])
                awaited[handover[1]] = carried
                continue
            if client != ANONYMOUS:
                started(client, moment)
        seen(labeled, carried)
        yield labeled
    while pending:
        yield from settle(next(iter(pending)), rotated=True)


def _forget(memory: OrderedDict[str, Any], cutoff: float) -> None:
    """Drop the entries of ``memory`` (oldest first) last seen before ``cutoff``: a time, a pair's
    second, a list's last."""
    while memory:
        entry = next(iter(memory.values()))
        last = entry if isinstance(entry, float) else entry[-1] if entry else -math.inf
        if last >= cutoff:
            return
        memory.popitem(last=False)


def with_logins_attributed(events: Iterable[LabeledEvent], report: ImportReport) -> Iterator[LabeledEvent]:
    """``events`` (in the log's order), each login without a user of the log's own given the user
    that its session, or its client without one, names next within ``ATTRIBUTION_SECONDS`` after it
    (counted in ``report``); the others as they are. An API's login is answered before the token
    that names the user exists, and a site's login before its pages name the user: keyed by their
    client, the account never saw its own logins, and a takeover's login from a new device read as
    a one-request stranger. Failed logins that nothing follows (stuffing through proxies) stay their
    client's, and so do those of a session or client that named several users within
    ``SESSION_MEMORY_SECONDS``: it is several people (counted in ``report``). Logins are held at
    most ``ATTRIBUTION_SECONDS`` of the log's time (a client's other requests are not held: a
    log's anonymous pages would fill memory).

    Any other request without a user, in a session (its cookie's: not a client's own) that named one
    user within ``SESSION_MEMORY_SECONDS`` before it, or names one first within
    ``ATTRIBUTION_SECONDS`` after it, is that user's: the files a proxy serves itself (styles, a
    player's video segments, a single-page app's shell) and the calls the application does not name
    the user on carry no user header, and read as the session's they were a second entity beside the
    account (on a new-user trial of a video-course site's Caddy log, 21 such sessions alerted as
    users; on a GraphQL shop's, every signed-in visit's first request, the app's shell, was an entity
    of its own: 4,880 of the test days' 20,902). A session's requests are held until it names a
    user or ``ATTRIBUTION_SECONDS`` have passed."""
    held = _HeldByKey()  # by session, or client
    newest = -math.inf
    # Nothing is held until a request names a user: a log whose user column is always empty (the
    # combined format's $remote_user, without HTTP authentication) comes out in its own order.
    users_named = False
    # key -> (the user it named last, when), the key named longest ago first; and the keys that named
    # another user within SESSION_MEMORY_SECONDS of one, until when: several people (an office's
    # staff with one browser build and no cookie before login), whose logins the next user named is
    # no more likely to have made than any other of them. Attributed to that one, a new customer's
    # staff signing in made each other's mistyped passwords, five accounts' failures: a wave.
    named: OrderedDict[str, tuple[str, float]] = OrderedDict()
    shared_until: OrderedDict[str, float] = OrderedDict()

    def release(key: str, user: str | None, before: float = math.inf) -> Iterator[LabeledEvent]:
        for labeled in held.take(key, before):
            login = labeled.event.get("event_type") in _LOGIN_EVENTS
            if user is not None:
                labeled.event["user_id"] = user
                if login:
                    report.attributed_to_users += 1
                else:
                    report.session_requests_attributed += 1
            elif key in shared_until and login:
                report.shared_logins += 1
            yield labeled

    def note_named(key: str, user: str, moment: float) -> None:
        """``key`` named ``user`` at ``moment``: shared when it named another lately."""
        last = named.pop(key, None)
        if last is not None and last[0] != user and moment - last[1] <= SESSION_MEMORY_SECONDS:
            shared_until.pop(key, None)
            shared_until[key] = moment + SESSION_MEMORY_SECONDS
        named[key] = (user, moment)

    for arrival, labeled in enumerate(events):
        event = labeled.event
        moment = parse_timestamp(event["occurred_at"]).timestamp()
        newest = max(newest, moment)
        cutoff = newest - ATTRIBUTION_SECONDS
        for key in held.expired(cutoff):
            yield from release(key, None, cutoff)
        while named and next(iter(named.values()))[1] < newest - SESSION_MEMORY_SECONDS:
            named.popitem(last=False)
        while shared_until and next(iter(shared_until.values())) < newest:
            shared_until.popitem(last=False)
        session = event.get("session_id")
        user = str(event.get("user_id", ""))
        derived = user.startswith(DERIVED_USERS)
        if derived and not (users_named and event.get("event_type") in _LOGIN_EVENTS):
            cookie = session if isinstance(session, str) and not session.startswith(CLIENT_USER_PREFIX) else None
            owner = named.get(cookie) if cookie is not None else None
            if cookie is not None and owner is not None and cookie not in shared_until:
                event["user_id"] = owner[0]
                report.session_requests_attributed += 1
                named[cookie] = named.pop(cookie)[0], moment  # (a video watched for an hour is the user's)
            elif users_named and cookie is not None and owner is None and cookie not in shared_until:
                # (a session that names no user yet may name one next: a single-page app's shell, which
                # the proxy serves itself, comes a second before the app's first call names its user)
                held.hold(cookie, moment, arrival, labeled)
                continue
            yield labeled
            continue
        client = identify_user(None, None, event.get("ip"), event.get("user_agent"))
        if derived:
            # Held by its session where it has one (a neighbour behind the same address and browser
            # build is another session), else by its client.
            key = session or client
            if key == ANONYMOUS:
                yield labeled
                continue
            if key in shared_until:
                report.shared_logins += 1
                yield labeled
                continue
            held.hold(key, moment, arrival, labeled)
            continue
        users_named = True
        # A user's request: its session's earlier logins are the user's, and so are its client's
        # that had no session (a site whose session cookie is set at login holds none before it).
        for holder in dict.fromkeys((session, client)):
            if holder is not None and holder != ANONYMOUS:
                note_named(holder, user, moment)
                shared = holder in shared_until
                yield from release(holder, None if shared else user, moment + ATTRIBUTION_SECONDS)
        yield labeled
    for key in held.keys_held():
        yield from release(key, None)


def with_auth_challenges_folded(events: Iterable[LabeledEvent], report: ImportReport) -> Iterator[LabeledEvent]:
    """``events`` (in the log's order, kept) with each of Windows authentication's challenges (an IIS
    401.1 or 401.2 that ``AUTH_CHALLENGE_PROPERTY`` marks) folded into the request its client repeated
    with its credentials within ``AUTH_CHALLENGE_SECONDS`` (the same address, user agent and path):
    that request carries their number (``AUTH_CHALLENGES_PROPERTY``), counted in ``report``. A
    challenge that nothing answers (a scanner without credentials, a person who cancelled the
    prompt) is a request of its own, as logged. Read apart, every page behind Windows
    authentication was a client error and the request again: a hospital portal's staff alerted
    for "many client errors (4xx)" on every visit to its administration pages (a new-user trial).

    The requests after a challenge wait with it until it is answered or its time is up, so that
    the order stays the log's: at most ``AUTH_CHALLENGE_SECONDS`` of the log are held."""
    # The requests not yet given out, in order: [time, request, whether folded into a later one];
    # and the challenges waiting for their answer, by client and path.
    waiting: deque[list[Any]] = deque()
    challenges: dict[str, list[list[Any]]] = {}
    newest = -math.inf

    def challenge_key(event: dict[str, Any]) -> str:
        # (by path: the browser repeats the request, and a log's challenge may lack its query)
        path = str(event.get("resource") or "").partition("?")[0]
        return f"{event.get('ip')}\n{event.get('user_agent') or ''}\n{path}"

    def give_out(cutoff: float) -> Iterator[LabeledEvent]:
        while waiting:
            entry = waiting[0]
            moment, labeled, folded = entry
            pending = not folded and bool(labeled.event.get("properties", {}).get(AUTH_CHALLENGE_PROPERTY))
            if pending and moment >= cutoff:
                return  # (a challenge still waiting for its answer holds the requests after it)
            waiting.popleft()
            if pending:  # (unanswered: a request of its own, no longer waiting)
                key = challenge_key(labeled.event)
                left = [other for other in challenges.get(key, ()) if other is not entry]
                if left:
                    challenges[key] = left
                else:
                    challenges.pop(key, None)
            if not folded:
                yield labeled

    for labeled in events:
        event = labeled.event
        moment = parse_timestamp(event["occurred_at"]).timestamp()
        newest = max(newest, moment)
        properties = event.get("properties") or {}
        if event.get("ip"):  # (no client to tell who repeated it: nothing folds)
            key = challenge_key(event)
            if properties.get(AUTH_CHALLENGE_PROPERTY):
                entry = [moment, labeled, False]
                challenges.setdefault(key, []).append(entry)
                waiting.append(entry)
                yield from give_out(newest - AUTH_CHALLENGE_SECONDS)
                continue
            answered = [entry for entry in challenges.pop(key, []) if entry[0] >= moment - AUTH_CHALLENGE_SECONDS]
            for entry in answered:
                entry[2] = True
            if answered:
                properties[AUTH_CHALLENGES_PROPERTY] = properties.get(AUTH_CHALLENGES_PROPERTY, 0) + len(answered)
                event["properties"] = properties
                report.auth_challenges += len(answered)
                report.events -= len(answered)
        if waiting:
            waiting.append([moment, labeled, False])
            yield from give_out(newest - AUTH_CHALLENGE_SECONDS)
        else:
            yield labeled
    yield from give_out(math.inf)


# A login redirected (3xx) is read as failed when its client's next page, this soon after it, is the
# form it was posted from again or a lockout page (``with_login_redirects_followed``).
LOGIN_REDIRECT_SECONDS = 10.0
# Where a site sends an account locked after too many failures: ASP.NET Identity's
# ``/Account/Lockout``, and the like.
_LOCKOUT_RE = re.compile(r"lock(?:ed)?[-_]?out|/locked(?:[-_/.]|$)")
# What a login redirected back to its form was read as, in its properties: the page it was sent to.
REDIRECTED_TO_PROPERTY = "login_redirected_to"


def with_login_redirects_followed(events: Iterable[LabeledEvent], report: ImportReport) -> Iterator[LabeledEvent]:
    """``events`` (in the log's order, kept) with each login answered by a redirect read as failed
    where its client's (address and user agent) next request but for page assets, within
    ``LOGIN_REDIRECT_SECONDS``, fetches the form it was posted from again (``POST /login`` then
    ``GET /login?error``) or a lockout page (``_LOCKOUT_RE``); counted in ``report``, the page named
    in its properties (``REDIRECTED_TO_PROPERTY``).

    Laravel, Spring Security, Symfony and Express's Passport answer a failed login as they answer
    one that got in, with a redirect: back to the form, where it shows the error. Read by status, a
    stuffing's failures through such a form all got in. ASP.NET Identity answers the failure that
    locks an account with a redirect to its lockout page: on a new-user trial of an IIS portal's log,
    locked-out people read as getting in after their failures, and a brute force's lockout would be
    one of its "successful logins" to check. A redirect elsewhere (the account's page, the page the
    visitor came from, a second factor's form) is a login that got in, as before.

    The requests after such a login wait with it until its client's next request decides it or its
    time is up, so that the order stays the log's: at most ``LOGIN_REDIRECT_SECONDS`` of the log
    are held, and only while a redirected login waits."""
    waiting: deque[tuple[float, LabeledEvent]] = deque()  # (its time, the request), in the log's order
    undecided: dict[str, tuple[LabeledEvent, str, float]] = {}  # client -> (its redirected login, its path, time)
    newest = -math.inf

    def client_of(event: dict[str, Any]) -> str:
        return f"{event.get('ip') or ''}\n{event.get('user_agent') or ''}"

    def give_out(cutoff: float) -> Iterator[LabeledEvent]:
        while waiting:
            moment, labeled = waiting[0]
            client = client_of(labeled.event)
            pending = undecided.get(client)
            if pending is not None and pending[0] is labeled:
                if moment >= cutoff:
                    return  # (a login still waiting for its client's next page holds the requests after it)
                del undecided[client]  # (nothing followed it in time: a login that got in)
            waiting.popleft()
            yield labeled

    for labeled in events:
        event = labeled.event
        moment = parse_timestamp(event["occurred_at"]).timestamp()
        newest = max(newest, moment)
        event_type = event.get("event_type")
        client = client_of(event)
        if undecided and event_type != "static_asset" and client in undecided:
            login, login_path, login_moment = undecided.pop(client)
            path = _path_of(event.get("resource"))
            method = str(request_method(event) or "GET").upper()
            followed = moment - login_moment <= LOGIN_REDIRECT_SECONDS
            if (
                followed
                and method in ("GET", "HEAD")
                and (path == login_path or _LOCKOUT_RE.search(path))
                and not _passed_through(login.event, event)
            ):
                login_event = login.event
                login_event["event_type"] = "login_failed"
                login_event.setdefault("properties", {})[REDIRECTED_TO_PROPERTY] = path
                report.count_redirected_back(
                    str(login_event.get("resource") or "").partition("?")[0],
                    identify_user(None, None, login_event.get("ip"), login_event.get("user_agent")),
                )
        status = event.get("status")
        redirected = event_type == "login_succeeded" and isinstance(status, int) and 300 <= status < 400
        if redirected and event.get("ip") and not _answered_as_wordpress(event.get("resource")):
            undecided[client] = (labeled, _path_of(event.get("resource")), moment)
        if waiting or client in undecided:
            waiting.append((moment, labeled))
            yield from give_out(newest - LOGIN_REDIRECT_SECONDS)
        else:
            yield labeled
    yield from give_out(math.inf)


def _answered_as_wordpress(resource: Any) -> bool:
    """Whether a login was posted to WordPress's login page or WooCommerce's account page, which
    fail a login with the form again (200) and redirect only one that got in: WooCommerce's back to
    the account page, its dashboard now. Read as a form fetched again, every customer's login of a
    new-user trial's WooCommerce shop read as failed (50 of 51 in its week of training), and no wave
    of a brute force's failures could rise above that."""
    path = str(resource or "").partition("?")[0].lower()
    return bool(_WORDPRESS_LOGIN_RE.search(path) or _WOOCOMMERCE_ACCOUNT_RE.search(path))


def _passed_through(login: dict[str, Any], form: dict[str, Any]) -> bool:
    """Whether the form a redirected ``login`` led to was passed through, not shown again: itself
    answered with a redirect onward, or in a session the login began (an id other than the one it
    was posted with; sites issue a new one at a login that gets in, against session fixation).
    Moodle answers a good login by redirecting to its own form, ``/login/index.php?testsession=``
    (answered 303 to the dashboard, with the new session's cookie): on a new-user trial of a
    university's Moodle log, all 4,293 of its people's logins read as failed, and no wave of the
    stuffing's failures could rise above theirs."""
    status = form.get("status")
    if isinstance(status, int) and 300 <= status < 400:
        return True
    posted_with, shown_in = login.get("session_id"), form.get("session_id")
    return posted_with is not None and shown_in is not None and posted_with != shown_in


def _path_of(resource: Any) -> str:
    """A resource's path without its query, as login paths are compared (``login_path_key``)."""
    return login_path_key(str(resource or "").partition("?")[0])


@lru_cache(maxsize=4096)
def is_google_health_check(ip: str, user_agent: str) -> bool:
    """Whether a request is Google Cloud's health check: its agent, from its ranges. An agent is
    anyone's to write: from any other address the request is that address's client."""
    if not user_agent.startswith(GOOGLE_HEALTH_CHECK_AGENT):
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in GOOGLE_HEALTH_CHECK_NETWORKS)


def identify_user(user: str | None, session: str | None, ip: str | None, user_agent: str | None) -> str:
    """The ``user_id`` of an event whose log may lack one; see the module docstring. Google Cloud's
    health checks (``is_google_health_check``) are one client whatever their address: from thousands
    of addresses, each a one-request client, they had made a crowd of machine clients out of the
    infrastructure, which lowered their threshold. (From any address, a forged agent had merged a
    credential stuffing's 160 addresses into one client, and no wave saw it.)"""
    if user:
        return user
    if session:
        return f"{SESSION_USER_PREFIX}{session}"
    if user_agent and ip and is_google_health_check(ip, user_agent):
        ip = None
    if ip or user_agent:
        digest = hashlib.sha256(f"{ip or ''}\x1f{user_agent or ''}".encode()).hexdigest()
        return f"{CLIENT_USER_PREFIX}{digest[:16]}"
    return ANONYMOUS


def _wordpress_search(lowered_path: str, query: str) -> bool:
    """WordPress's search: ``s`` on the site's root or a listing's page (``/?s=boots``,
    ``/page/2/?s=boots``), a folder's path, where other sites' ``s`` (a sort, a size) is rarer."""
    return lowered_path.endswith("/") and (query.startswith("s=") or "&s=" in query)


def _wordpress_step(submitted: bool, status: int | None, query: str, failed_statuses: Collection[int]) -> str:
    """The event type of a request to WordPress's ``/wp-login.php`` (``_WORDPRESS_LOGIN_RE``)."""
    action = _WORDPRESS_ACTION_RE.search(query.lower())
    step = (
        _WORDPRESS_STEPS.get(action.group(1), "page_view")
        if action and action.group(1) not in ("", "login")
        else "login"
    )
    if status in _NO_SUCH_PAGE:
        return "page_view"
    if step == "login":
        if not submitted:
            return "page_view"
        if status is None or (status >= 500 and status not in failed_statuses):
            return "login_attempt"
        got_in = 300 <= status < 400 and status not in failed_statuses
        return "login_succeeded" if got_in else "login_failed"
    if step == "password_reset" and not (submitted or _RESET_LINK_RE.search(query.lower())):
        return "page_view"  # (the form fetched)
    if step == "signup" and not submitted:
        return "page_view"
    return step


def derived_event_id(source: str, line_number: int, line: str) -> str:
    """A stable event id for a line: the same file imported twice gives the same ids."""
    digest = hashlib.sha256(f"{source}\x1f{line_number}\x1f{line}".encode("utf-8", "surrogatepass")).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _submitted(method: str | None, query: str) -> bool:
    """Whether a request submits a form: a POST or PUT, or credentials in the query."""
    return (method or "").upper() in {"POST", "PUT"} or "pwd=" in query or "password=" in query


def _login_submitted(lowered_path: str, submitted: bool) -> bool:
    """Whether a request submits a login (``infer_event_type``): a login path's, submitted, that
    neither logs out nor does another of an account's steps under it."""
    return (
        submitted
        and _LOGIN_RE.search(lowered_path) is not None
        and not _LOGOUT_RE.search(lowered_path)
        and not _NOT_LOGIN_RE.search(lowered_path)
    )


def login_probe(status: int | None, failed_statuses: Collection[int]) -> bool:
    """Whether a login submitted with this answer is a page the site does not have (404 or 410,
    ``_NO_LOGIN_PAGE``, unless ``failed_statuses`` say it fails logins so): a scanner's probe (``POST
    /console/login/LoginForm.jsp``), read as a request like any other. Read as failed logins, a
    scanner's probes raised a wave of failed logins on a new-user trial's portal, which named its
    people's logins to check; a login API that answers an unknown account 404 is told with
    ``--failed-login-status PATH=404``, which the import suggests (``ImportReport.login_probe_hints``)."""
    return status in _NO_LOGIN_PAGE and status not in failed_statuses


def infer_event_type(
    method: str | None, path: str | None, status: int | None, query: str = "", failed_statuses: Collection[int] = ()
) -> str:
    """An event type for a web request, from its method, path and status.

    Static files are ``static_asset``; login paths are ``login_succeeded`` or ``login_failed`` by
    status when submitted (POST, or credentials in the query: failed at 400 to 499, or at one of
    ``failed_statuses``; WordPress's ``/wp-login.php`` and WooCommerce's account page as WordPress
    answers them, ``_wordpress_step``; answered 404 or 410, a probe of a page the site does not
    have, ``login_probe``, read as any other request)
    and ``login_attempt`` when the status is unknown or a server error (an outage of the login
    service is no wave of failed logins), unless they log out,
    refresh a token, register an account or reset a password (``/auth/logout``,
    ``/auth/password-reset``); then logout, password reset, a submitted sign-up form (``signup``), a
    submitted payment (``purchase``: a
    checkout, order, donation or charge, under ``/api/`` too), ``/api/`` (``api_call``), search,
    an item added to a cart (``add_to_cart``: not the cart viewed), and ``page_view`` for everything else.
    """
    if not path:
        return "bad_request"
    lowered = path.lower()
    submitted = _submitted(method, query)
    # (a page's or a player's own files; not what is written to such a name: model.features.resources)
    if is_page_asset(f"{path}?{query}" if query else path, method):
        return "static_asset"
    woocommerce_login = (method or "").upper() == "POST" and _WOOCOMMERCE_ACCOUNT_RE.search(lowered)
    if _WORDPRESS_LOGIN_RE.search(lowered) or (woocommerce_login and "/api/" not in lowered):
        return _wordpress_step(submitted, status, query, failed_statuses)
    if _login_submitted(lowered, submitted) and not login_probe(status, failed_statuses):
        if status is None or (status >= 500 and status not in failed_statuses):
            return "login_attempt"  # (a server error says nothing of the credentials)
        return "login_failed" if status >= 400 or status in failed_statuses else "login_succeeded"
    if _LOGOUT_RE.search(lowered):
        return "logout"
    if _RESET_RE.search(lowered) and (method is None or submitted or _RESET_LINK_RE.search(query.lower())):
        return "password_reset"
    if submitted and _SIGNUP_RE.search(lowered) and not _NOT_SIGNUP_RE.search(lowered):
        return "signup"
    saved_card = (method or "").upper() == "POST" and _SAVED_CARD_RE.search(lowered) and "/checkout" not in lowered
    payment = _PURCHASE_RE.search(lowered) or _PURCHASE_QUERY_RE.search(query.lower()) or saved_card
    if submitted and payment and not _CALLBACK_RE.search(lowered) and not _STAFF_RE.search(lowered):
        return "purchase"
    if "/api/" in lowered:
        return "api_call"
    if _SEARCH_RE.search(lowered) or query.startswith("q=") or "&q=" in query or _wordpress_search(lowered, query):
        return "search"
    cart = _CART_RE.search(lowered) and not _CART_CHANGE_RE.search(lowered)
    if (cart and (submitted or _CART_ADD_RE.search(lowered))) or _CART_ADD_QUERY_RE.search(query.lower()):
        return "add_to_cart"
    return "page_view"


_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_CLF_TIME_RE = re.compile(r"(\d{2})/([A-Z][a-z]{2})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})")


def _parse_clf_time(text: str) -> datetime | None:
    """The access-log default (``02/Nov/2026:10:00:00 +0100``) at a fifth of strptime's cost."""
    match = _CLF_TIME_RE.fullmatch(text)
    if match is None or match.group(2) not in _MONTHS:
        return None
    day, month, year = int(match.group(1)), _MONTHS[match.group(2)], int(match.group(3))
    offset = timedelta(hours=int(match.group(8)), minutes=int(match.group(9)))
    zone = timezone(-offset if match.group(7) == "-" else offset)
    try:
        return datetime(year, month, day, int(match.group(4)), int(match.group(5)), int(match.group(6)), tzinfo=zone)
    except ValueError:
        return None  # let strptime produce the error message


# Times given as a count since the epoch, and their units per second.
_EPOCH_UNITS = {"msec": 1, "time_epoch_ms": 1_000, "time_epoch_us": 1_000_000, "time_epoch_ns": 1_000_000_000}
_EPOCH_UNIT_NAMES = {
    "msec": "seconds",
    "time_epoch_ms": "milliseconds",
    "time_epoch_us": "microseconds",
    "time_epoch_ns": "nanoseconds",
}
# The latest time an epoch number may be read as: the contract's (and datetime's) last year.
_LATEST_EPOCH_SECONDS = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp()
_EPOCH_VARIABLES = "$msec for seconds, $time_epoch_ms, $time_epoch_us, $time_epoch_ns"
# Request durations, and their units per millisecond (``$request_time`` is nginx's seconds).
_DURATION_UNITS = {"request_time": 0.001, "request_time_ms": 1, "request_time_us": 1_000, "request_time_ns": 1_000_000}
# A request that took longer than this (an hour) says its duration was read in the wrong unit.
_LONGEST_LATENCY_MS = 3_600_000.0
# A duration written with its units (Google Cloud's LogEntry writes "0.123456s"; Go's "1.5ms", "1m30.2s",
# "2h3m"), read in them.
_DURATION_PART = r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)"
_DURATION_RE = re.compile(rf"(?:{_DURATION_PART})+")
_DURATION_PART_RE = re.compile(_DURATION_PART)
_MILLISECONDS_PER = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@lru_cache(maxsize=4096)
def _parse_time(text: str, variable: str, time_format: str) -> str:
    if variable in _EPOCH_UNITS:
        unit, name = _EPOCH_UNITS[variable], _EPOCH_UNIT_NAMES[variable]
        try:
            # (whole numbers exactly, by integer division: a float has no room for nanoseconds)
            whole, part = divmod(int(text), unit) if text.isascii() and text.isdigit() else divmod(float(text), unit)
        except ValueError:
            raise ValueError(
                f"{text[:32]!r} is not a number of {name} after 1970 (an ISO 8601 time is read by $time_iso8601)"
            ) from None
        if not 0.0 <= whole <= _LATEST_EPOCH_SECONDS:  # (NaN is neither)
            raise ValueError(
                f"{text[:32]} {name} after 1970 is not a time between 1970 and the year 9999: is the time in another "
                f"unit? ({_EPOCH_VARIABLES})"
            )
        # (to the microsecond: cut, as an ISO 8601 time's nanoseconds are, from a whole number)
        micro = part * 1_000_000 // unit if isinstance(part, int) else round(part * 1_000_000 / unit)
        moment = datetime.fromtimestamp(int(whole), timezone.utc) + timedelta(microseconds=micro)
        if moment.year < _EARLIEST_EPOCH_YEAR:
            raise ValueError(
                f"{text} {_EPOCH_UNIT_NAMES[variable]} after 1970 is {moment:%Y-%m-%d}: is the time in another unit?"
            )
    elif variable == "time_iso8601":
        if text.isdigit():  # (fromisoformat reads ISO 8601's basic form: a nanosecond count as a date)
            raise ValueError(
                f"{text[:24]} is a number, not an ISO 8601 time: an epoch time is read by {_EPOCH_VARIABLES}"
            )
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    else:
        fast = _parse_clf_time(text) if time_format == DEFAULT_TIME_FORMAT else None
        moment = fast if fast is not None else datetime.strptime(text, time_format)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # documented: a time without offset is UTC
    return format_timestamp(moment)


@lru_cache(maxsize=65_536)
def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _without_port(text: str) -> str | None:
    """The address of ``address:port`` (``203.0.113.9:51234``, ``[2001:db8::1]:443``, as Envoy's
    ``%DOWNSTREAM_REMOTE_ADDRESS%`` writes it); None if ``text`` is not one."""
    host, colon, port = text.rpartition(":")
    if not colon or not port.isascii() or not port.isdigit():
        return None
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return host if _valid_ip(host) else None


def _unescape(value: str) -> str:
    return value.replace('\\"', '"').replace("\\\\", "\\") if "\\" in value else value


def failed_login_status(text: str) -> int | tuple[str, int]:
    """A ``--failed-login-status``: ``STATUS`` for every login path, or ``PATH=STATUS`` for one."""
    path, _, status = text.rpartition("=")
    if path and not path.startswith("/"):
        raise argparse.ArgumentTypeError(f"{text!r}: the path before '=' must start with '/' (/accounts/login/=200)")
    if not status.isdigit() or not 100 <= int(status) <= 599:
        raise argparse.ArgumentTypeError(f"{text!r}: the status must be an HTTP status (100 to 599)")
    return (path, int(status)) if path else int(status)


def login_path_key(path: str) -> str:
    """A login path as ``--failed-login-status PATH=STATUS`` names it: in any case, with or without
    its trailing slash (``/Accounts/Login/`` is ``/accounts/login``), as login paths are read."""
    return path.lower().rstrip("/") or "/"


def add_failed_login_status(parser: argparse.ArgumentParser) -> None:
    """``--failed-login-status``, which the importer and the backtest share."""
    parser.add_argument(
        "--failed-login-status",
        type=failed_login_status,
        action="append",
        default=[],
        metavar="[PATH=]STATUS",
        help="a status that also means a failed login, besides 400 and above (repeatable): 200 where a failed "
        "login shows the form again and a successful one redirects; PATH=STATUS for that login path alone (without "
        "its query; in any case, with or without a trailing slash), where another answers successful logins with "
        "it (an app's token call)",
    )


def signup_path(text: str) -> str:
    """A ``--signup-path``: a path (without its query) whose POST or PUT registers an account."""
    if not text.startswith("/") or "?" in text:
        raise argparse.ArgumentTypeError(f"{text!r}: a sign-up path starts with '/' and has no query (/v1/users)")
    return text


def add_signup_path(parser: argparse.ArgumentParser) -> None:
    """``--signup-path``, which the importer and the backtest share."""
    parser.add_argument(
        "--signup-path",
        type=signup_path,
        action="append",
        default=[],
        metavar="PATH",
        help="a path whose POST or PUT registers an account, besides those read as sign-ups (repeatable; without "
        "its query, in any case, with or without a trailing slash): an API's POST /v1/users",
    )


def add_haproxy_headers(parser: argparse.ArgumentParser) -> None:
    """``--haproxy-headers``, which the importer and the backtest share."""
    parser.add_argument(
        "--haproxy-headers",
        metavar="NAMES",
        type=lambda text: [name.strip() for name in text.split(",")],
        default=[],
        help="with --format haproxy: the request headers its frontend captures, comma-separated in the order of "
        "its 'capture request header' lines (such as User-Agent,Referer,Cookie): the log's {...|...} values",
    )


def add_session_cookie(parser: argparse.ArgumentParser) -> None:
    """``--session-cookie``, which the importer and the backtest share."""
    parser.add_argument(
        "--session-cookie",
        metavar="NAME",
        help="the cookie that holds the session, in a Cookie header column ($http_cookie, Apache's %%{Cookie}i, "
        "CloudFront's cs(Cookie)) or of several $cookie_NAME columns (default: the first named like a session: "
        "sid, sessionid, PHPSESSID, JSESSIONID...)",
    )


# Query parameters that carry a credential: an API or web-service token (Moodle's ``wstoken``), a
# password reset's, a signed URL's signature, a session id in the URL, a CSRF key. Their values are
# not kept, as cookies are not: the resource reaches the archive and the console.
_CREDENTIAL_PARAMETER_RE = re.compile(
    r"(?:^|[_.-])(?:[a-z]*token|api_?key|password|passwd|pwd|secret|sesskey|signature|sig|credential|"
    r"session_?id|sid|phpsessid|jsessionid)$",
    re.IGNORECASE,
)
REDACTED_VALUE = "REDACTED"


def without_credentials(uri: str) -> tuple[str, int]:
    """``uri`` with the values of its credential parameters (``_CREDENTIAL_PARAMETER_RE``) replaced
    by ``REDACTED_VALUE``, and how many were."""
    path, separator, query = uri.partition("?")
    if not separator:
        return uri, 0
    redacted = 0
    pairs = query.split("&")
    for position, pair in enumerate(pairs):
        name, equals, value = pair.partition("=")
        if equals and value and _CREDENTIAL_PARAMETER_RE.search(unquote(name)):
            pairs[position] = f"{name}={REDACTED_VALUE}"
            redacted += 1
    return (f"{path}?{'&'.join(pairs)}", redacted) if redacted else (uri, 0)


def _clip(value: str | None, limit: int, name: str, properties: dict[str, Any]) -> str | None:
    if value is not None and len(value) > limit:
        properties[f"{name}_truncated"] = True
        return value[:limit]
    return value


class LogImporter:
    """Turns lines of one format into labeled events (label None except for CSIC anomalies)."""

    def __init__(
        self,
        format: str = "combined",
        *,
        log_format: str | None = None,
        time_format: str = DEFAULT_TIME_FORMAT,
        start: datetime = CSIC_DEFAULT_START,
        interval: timedelta = timedelta(seconds=1),
        max_examples: int = DEFAULT_MAX_EXAMPLES,
        failed_login_statuses: Collection[int | tuple[str, int]] = (),
        real_ip_from: Sequence[IPNetwork] = (),
        session_cookie: str | None = None,
        haproxy_headers: Sequence[str] = (),
        signup_paths: Collection[str] = (),
    ) -> None:
        """``session_cookie``: the name of the cookie that holds the session, where the format has
        several cookies or a whole Cookie header (default: the first named like a session).
        ``haproxy_headers``: HAProxy's captured request headers, in their order (``traffic.haproxy``).
        ``signup_paths``: paths whose POST or PUT registers an account (``--signup-path``)."""
        if format not in FORMATS:
            raise LogFormatError(format, f"unknown format; choose one of {list(FORMATS)}")
        if format == "custom" and not log_format:
            raise LogFormatError("", "the custom format needs a format string (--log-format)")
        if format != "custom" and log_format:
            raise LogFormatError(log_format, f"a format string only goes with the custom format, not {format!r}")
        if format in TEMPLATE_FORMATS:  # (read as the custom format of its JSON template)
            log_format = TEMPLATE_FORMATS[format]
        if format in ENVOY_FORMATS:  # (read as the custom format of the proxy's default format string)
            log_format = ENVOY_FORMATS[format]
        if haproxy_headers and format != "haproxy":
            raise LogFormatError(format, "--haproxy-headers only goes with --format haproxy")
        self.haproxy = HttpLog(haproxy_headers) if format == "haproxy" else None
        if self.haproxy is not None and time_format == DEFAULT_TIME_FORMAT:
            time_format = HAPROXY_TIME_FORMAT
        if log_format:  # (the custom format's, or Traefik's template: any other refused above)
            log_format = nginx_format_string(log_format)
        given_time_format: str | None = None
        mixed = mixed_syntax(log_format) if log_format and not is_json_template(log_format) else None
        if log_format and mixed is not None:
            raise LogFormatError(
                log_format,
                f"mixes Apache's directives ({mixed}) with nginx's $variables: write it all in one syntax (Apache's "
                "%{NAME}n reads an application's note, %{NAME}C a cookie, %{Header}i a request header)",
            )
        if log_format and is_envoy_format(log_format):
            log_format, given_time_format = from_envoy(log_format)
        elif log_format and is_apache_format(log_format):
            log_format, given_time_format = from_apache(log_format)
        if given_time_format is not None:
            if time_format not in (DEFAULT_TIME_FORMAT, given_time_format):
                raise LogFormatError(time_format, f"differs from the format string's time format {given_time_format!r}")
            time_format = given_time_format
        self.format = format
        self.time_format = time_format
        self.compiled: CompiledFormat | None = None
        if format in PRESET_FORMATS:
            self.compiled = compile_format(PRESET_FORMATS[format], time_format)
        self.json_template: JsonTemplate | None = None
        if log_format and is_json_template(log_format):
            self.json_template = JsonTemplate(log_format, time_format)
        elif log_format:
            self.compiled = compile_format(log_format, time_format)
        self.w3c = W3CLayout(DIALECTS[format]) if format in DIALECTS else None
        variables: Sequence[str] = ()
        if self.compiled is not None:
            variables = self.compiled.variables
        elif self.json_template is not None:
            variables = self.json_template.variables
        elif self.haproxy is not None:
            variables = self.haproxy.variables
        elif self.w3c is not None:
            # Any #Fields directive may add the Cookie field (its session cookie is the session then) and
            # the X-Forwarded-For one (the client's address behind a load balancer).
            variables = self.w3c.variables_of((*self.w3c.fields, COOKIE_FIELD, FORWARDED_FIELD))
        self.session_cookie_name = session_cookie
        self.session_column = session_column(variables, session_cookie) if variables else None
        # Statuses that also mean a failed login: on every path, and on each path given its own.
        self.failed_login_statuses = frozenset(status for status in failed_login_statuses if isinstance(status, int))
        self.failed_login_paths: dict[str, frozenset[int]] = {}
        for given in failed_login_statuses:
            if isinstance(given, tuple):
                path, status = given
                known = self.failed_login_paths.get(login_path_key(path), self.failed_login_statuses)
                self.failed_login_paths[login_path_key(path)] = known | {status}
        self.signup_paths = frozenset(login_path_key(path) for path in signup_paths)
        self.has_peer_column = "remote_addr" in variables
        self.w3c_fields_read = False  # whether a W3C log's #Fields directive has named its fields
        self.has_user_column = not USER_VARIABLES.isdisjoint(variables)
        self.forwarded_column = next((name for name in FORWARDED_VARIABLES if name in variables), None)
        self.client_address = ClientAddress(real_ip_from)
        self.internal_address = ClientAddress().is_trusted
        self.start = start
        self.interval = interval
        self.report = ImportReport(
            max_examples=max_examples,
            reads_forwarded=self.w3c.reads_forwarded() if self.w3c is not None else self.forwarded_column is not None,
            w3c=self.w3c is not None,
            addresses_expected=format != "csic2010",
            # (CSIC 2010 holds requests alone; event JSON lines say their outcomes in their types)
            statuses_expected=format not in ("csic2010", "jsonl"),
            agents_expected="http_user_agent" in variables,
            sessionless_without_agents=bool(variables)
            and "http_user_agent" not in variables
            and self.session_column is None,
            users_expected=any(variable in USER_VARIABLES for variable in variables),
            user_like_columns=tuple(
                name for name in variables if "user" in name and "agent" not in name and name not in USER_VARIABLES
            ),
            session_cookie=session_cookie if self.session_column == COOKIE_HEADER else None,
            reads_cookie_header=self.session_column == COOKIE_HEADER,
            failed_login_paths_given=tuple(self.failed_login_paths),
        )
        if format == "cloudfront":
            self.report.cookie_advice = "turn on cookie logging (include cookies in CloudFront's standard logs)"
        if format == "cloudflare":
            self.report.cookie_advice = (
                "log it (the Cookies custom field: a rule in the zone's http_log_custom_fields phase naming the "
                "session cookie, and Cookies in the Logpush job's fields)"
            )
        if format == "caddy":
            self.report.cookie_advice = (
                "log it (log_credentials in the servers block of Caddy's global options, which logs the "
                "Authorization header and every cookie too: pair it with the log's format filter, deleting "
                "request>headers>Authorization and, with its cookie filter, every cookie but the session's)"
            )
        if self.haproxy is not None:
            self.report.cookie_advice = (
                "capture it (capture request header Cookie len 512, named in --haproxy-headers, or capture cookie "
                "NAME len 64 for the session cookie alone)"
            )
        self._synthetic_index = 0

    def import_lines(self, lines: Iterable[str], source: str = "-") -> Iterator[LabeledEvent]:
        """Events from ``lines`` (as read from ``source``), updating ``self.report``."""
        return self._import_numbered((source, number, line) for number, line in enumerate(lines, 1))

    def _import_numbered(self, lines: Iterable[tuple[str, int, str]], whole: bool = False) -> Iterator[LabeledEvent]:
        """Events from ``(source, line number, line)``, one stream whatever its sources; a log of
        requests in time order (``whole``: a file or folder read to its end before the first event, as
        ``time_sorted``; else but for ``LANDING_SECONDS``, ``in_time_order``), event JSON lines as
        they come."""
        events = self._events(lines)
        # Event JSON lines are a service's events, which say what they are (its suggestions, if it
        # emits them, marked by itself); CSIC 2010's requests are in order with no sessions.
        requests = self.format not in ("jsonl", "csic2010")
        if requests:  # (a log of requests, as its servers wrote them)
            events = time_sorted(events, self.report) if whole else in_time_order(events)
        if self.format == "iis":
            events = with_auth_challenges_folded(events, self.report)
        if requests:
            events = with_login_redirects_followed(events, self.report)
        if self.session_column is not None:
            events = with_rotated_sessions(with_cookieless_sessions(events, self.report), self.report)
        if self.has_user_column:
            events = with_logins_attributed(events, self.report)
        yield from with_typed_ahead(events) if requests else events

    def _events(self, lines: Iterable[tuple[str, int, str]]) -> Iterator[LabeledEvent]:
        report = self.report
        # (a folder's files are one stream, in name order; files given one by one are read apart)
        newest = -math.inf
        newest_line: tuple[str, int, float, float] | None = None  # the line dated newest (latest_line)
        for source, number, raw in lines:
            label = CSIC_ANOMALOUS_LABEL if self.format == "csic2010" and _is_csic_anomalous(source) else None
            line = raw.rstrip("\r\n")
            report.lines += 1
            if not line.strip():
                report.blank += 1
                continue
            if self.w3c is not None and line.startswith("#"):
                unusable = self.w3c.directive(line)
                if unusable is None:
                    report.directives += 1
                    # (the X-Forwarded-For advice holds only if every file's fields had it)
                    first = not self.w3c_fields_read
                    report.reads_forwarded = self.w3c.reads_forwarded() and (first or report.reads_forwarded)
                    self.w3c_fields_read = True
                    self.has_peer_column = self.w3c.reads_peer()
                else:
                    report.unparseable += 1
                    report._example(report.unparseable_examples, source, number, unusable, line)
                continue
            try:
                candidate = self.parse_line(line, source, number)
            except LineError as error:
                report.unparseable += 1
                report._example(report.unparseable_examples, source, number, str(error), line)
                continue
            try:
                event = normalize_event(candidate)
            except InvalidEventError as error:
                report.invalid += 1
                report._example(report.invalid_examples, source, number, str(error), line)
                continue
            report.events += 1
            if event.get("ip"):
                report.addressed += 1
            if event.get("user_agent"):
                report.with_agent += 1
            if event.get("status") is not None:
                report.with_status += 1
            elif event.get("event_type") == "login_attempt":
                report.login_attempts += 1
            latency = event["properties"].get("latency_ms") if isinstance(event.get("properties"), dict) else None
            if isinstance(latency, float):
                report.timed += 1
                report.timed_over_an_hour += latency > _LONGEST_LATENCY_MS
            moment = parse_timestamp(event["occurred_at"]).timestamp()
            if moment < newest - LANDING_SECONDS:
                report.late_events += 1
                if newest - moment > report.most_late_seconds:
                    report.most_late_seconds = newest - moment
                    report.latest_line = newest_line
                report.late_example = report.late_example or (source, number)
                report.earliest_late = min(report.earliest_late, moment)
            if moment > newest:
                newest_line = (source, number, moment, moment - newest if newest_line is not None else 0.0)
                newest = moment
            yield LabeledEvent(event, label)

    def import_file(self, path: str) -> Iterator[LabeledEvent]:
        """Events from a file (``-`` for standard input), or from every file under a folder (for
        CSIC 2010, its two files).

        A file whose name ends in ``.gz`` is read through gzip; its events are those of the
        uncompressed file (event ids derive from the name without ``.gz``). A folder's files (as a
        load balancer or a delivery stream writes them: ``AWSLogs/.../2026/11/27/...log.gz``) are
        read as one log, in the order of their paths, each named by its path under the folder
        (``folder_files``).
        """
        if self.format == "csic2010" and os.path.isdir(path):
            for name in ("normal.txt", "anomalous.txt"):
                plain = os.path.join(path, name)
                yield from self.import_file(plain if os.path.exists(plain) else plain + ".gz")
            return
        if path == "-":
            yield from self.import_lines(_decoded(sys.stdin.buffer), "-")
            return
        if os.path.isdir(path):
            files = folder_files(path)
            if not files:
                raise FileNotFoundError(f"{path}: a folder without a file to read")
            self.report.both_compressed += [name for name in files if name.endswith(".gz")]
            yield from self._import_numbered(
                ((name, number, line) for name, file in files.items() for number, line in _numbered_lines(file)),
                whole=True,
            )
            return
        name = source_name(path)
        yield from self._import_numbered(((name, number, line) for number, line in _numbered_lines(path)), whole=True)

    def parse_line(self, line: str, source: str, number: int) -> dict[str, Any]:
        """One line as a raw event dict (not yet validated); raises ``LineError``."""
        if self.format == "jsonl":
            return self._parse_json(line, source, number)
        if self.format == "csic2010":
            return self._parse_csic(line, source, number)
        if self.w3c is not None:
            values = self.w3c.values(line)
            if values is None:
                fields, separator = len(self.w3c.fields), self.w3c.dialect.separator_name
                raise LineError(f"not the {fields} {separator}-separated fields of the #Fields directive")
            return self._request_event(values, line, source, number)
        if self.json_template is not None:
            try:
                values = self.json_template.values(line)
            except ValueError as error:
                raise LineError(str(error)) from None
            return self._request_event(values, line, source, number)
        if self.haproxy is not None:
            return self._parse_haproxy(line, source, number)
        return self._parse_access(line, source, number)

    def _parse_haproxy(self, line: str, source: str, number: int) -> dict[str, Any]:
        assert self.haproxy is not None
        haproxy, report = self.haproxy, self.report
        values = haproxy.values(line)
        if values is None:
            raise LineError(
                "not HAProxy's HTTP log format (option httplog: address:port [time] frontend backend/server timers "
                'status bytes cookies state connections queues {headers} "request")'
            )
        report.haproxy_unnamed_headers = haproxy.unnamed_headers
        report.haproxy_misnamed_headers = haproxy.misnamed_headers
        report.haproxy_headers_example = haproxy.captured_example
        return self._request_event(values, line, source, number)

    def _parse_json(self, line: str, source: str, number: int) -> dict[str, Any]:
        try:
            raw = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            if opens_json_array(line):
                raise LineError(JSON_ARRAY_REASON) from None
            raise LineError(f"not JSON: {error}") from None
        if isinstance(raw, list):
            raise LineError(JSON_ARRAY_REASON)
        if not isinstance(raw, dict):
            raise LineError(f"not a JSON object but {type(raw).__name__}")
        if raw.get("occurred_at") is None:
            self.report.foreign_json += 1
            self.report.foreign_json_keys = self.report.foreign_json_keys or tuple(raw)[:8]
            raise LineError("occurred_at: required field is missing (history needs its time)")
        if raw.get("event_id") is None:
            raw["event_id"] = derived_event_id(source, number, line)
        return raw

    def _parse_csic(self, line: str, source: str, number: int) -> dict[str, Any]:
        method, _, url = line.partition(" ")
        if not method.isalpha() or not url:
            raise LineError("expected 'method url'")
        # Strip scheme and host by hand: anomalies such as "http://localhost:8080.old" append to the
        # host what the server received as the path.
        origin = _ORIGIN_RE.match(url)
        resource = url[origin.end() :] if origin else url
        if not resource.startswith("/"):
            resource = "/" + resource
        path, _, query = resource.partition("?")
        properties: dict[str, Any] = {"method": method.upper()}
        occurred = self.start + self.interval * self._synthetic_index
        self._synthetic_index += 1
        return {
            "event_id": derived_event_id(source, number, line),
            "occurred_at": occurred,
            "event_type": infer_event_type(method, path, None, query),
            "user_id": identify_user(None, None, None, None),
            "resource": _clip(resource, MAX_RESOURCE_LENGTH, "resource", properties),
            "properties": properties,
        }

    def _parse_access(self, line: str, source: str, number: int) -> dict[str, Any]:
        try:
            return self._parse_access_line(line, source, number)
        except LineError as error:
            # The time (and a space) an export put before the line: read again without it.
            prefix = _EXPORT_PREFIX_RE.match(line)
            if prefix is None:
                raise
            try:
                return self._parse_access_line(line[prefix.end() :], source, number, line)
            except LineError:
                raise error from None

    def _parse_access_line(self, text: str, source: str, number: int, line: str | None = None) -> dict[str, Any]:
        """``text`` (``line``, or the part of it after an export's timestamp) as the format's event."""
        line = text if line is None else line
        compiled = self.compiled
        if compiled is None:  # pragma: no cover - the constructor always sets it for these formats
            raise LineError("no format")
        read = compiled.read(text)
        if read is None:
            raise LineError(f"does not match the format {compiled.mismatch(text)}")
        values, extra = read
        event = self._request_event({name: _unescape(value) for name, value in values.items()}, line, source, number)
        if extra:
            self.report.extra_columns += 1
            self.report._example(self.report.extra_column_examples, source, number, extra[:_EXAMPLE_CHARACTERS], line)
        return event

    @staticmethod
    def _waf_status(status: int | None, properties: dict[str, Any], method: str | None) -> int | None:
        """A WAF record's status: none for a request WAF let through (the site's answer is not WAF's
        to log), else what WAF answered (a rule's custom response, or its action's); a form it
        stopped (a login, a payment) read as refused (``WAF_REFUSED_STATUS``) where that was not a
        4xx or 5xx. (A page it challenged, which a browser passes by itself, keeps its 202.)"""
        action = str(properties.get("waf_action", "")).upper()
        if not action or action in WAF_PASSED:
            return status
        sent = status if status is not None else WAF_STATUSES.get(action, WAF_REFUSED_STATUS)
        if sent < 400 and (method or "").upper() in _WRITE_METHODS:
            properties["waf_status"] = sent
            return WAF_REFUSED_STATUS
        return sent

    def _request_event(self, values: dict[str, str], line: str, source: str, number: int) -> dict[str, Any]:
        """The event of a web request line, from its values by nginx variable (unescaped)."""
        properties: dict[str, Any] = {}
        occurred_at: str | None = None
        user = session = ip = agent = method = uri = path = event_type = forwarded = route = None
        # The request's URI as each variable gives it: $request's target (in uri), $request_uri
        # (path and query), $uri (the path alone) with $args; a format may log all of them.
        request_uri = path_only = args = None
        substatus = win32_status = None  # (IIS's)
        operation: str | None = None  # a GraphQL operation's name, as a header gave it (traffic.graphql)
        unreadable_address: str | None = None  # an address column's text that is no IP
        query = ""
        status: int | None = None
        for name, value in values.items():
            if value in ("-", ""):
                if name == "http_referer":
                    # A log that records referers says "none" with "-": kept as "", so that a
                    # request without one is told from a log without the column.
                    properties["referer"] = ""
                continue
            if name in TIME_VARIABLES:
                try:
                    occurred_at = _parse_time(value, name, self.time_format)
                except (ValueError, OverflowError, OSError, InvalidEventError) as error:
                    raise LineError(f"${name}: {error}") from None
            elif name == "remote_addr":
                address = value if _valid_ip(value) else _without_port(value)
                if address is not None:
                    ip = address
                else:
                    properties["remote_addr"] = unreadable_address = value[:64]
            elif name in USER_VARIABLES:
                user = value
                self.report.named_users += 1
            elif name == self.session_column == COOKIE_HEADER:
                session, names = session_cookie(value, self.session_cookie_name)
                self.report.cookie_names.update(set(names))
                self.report.cookies_without_session += session is None
                self.report.redacted_cookies += value == REDACTED_COOKIE
            elif name == self.session_column:
                session = value
            elif name.startswith("cookie_") or name == COOKIE_HEADER:
                continue  # another cookie: it may hold credentials, and the archive keeps what it is given
            elif name == "event_type":
                event_type = value
            elif name in OPERATION_COLUMNS:
                operation = value
            elif name == "request":
                match = _REQUEST_RE.fullmatch(value)
                if match is None:
                    properties["raw_request"] = value[:256]
                else:
                    method, uri = match.group(1).upper(), match.group(2)
                    if match.group(3):
                        properties["protocol"] = match.group(3)
            elif name == "request_method":
                method = value.upper()
            elif name in ("route_path", "route_key"):
                route = value  # API Gateway's route (a template), read below where there is no path
            elif name == "request_uri":
                request_uri = value
            elif name == "uri":
                path_only = value
            elif name == "args":
                args = value
            elif name == "status":
                if value in CLOSED_STATUSES:
                    properties["viewer_closed"] = "true"
                    continue
                if not (value.isascii() and value.isdigit() and len(value) == 3) or not 100 <= int(value) <= 599:
                    raise LineError(f"$status: not an HTTP status: {value[:16]!r}")
                status = int(value)
            elif name == "substatus":
                substatus = value
            elif name == "win32_status":
                win32_status = value
            elif name in ("body_bytes_sent", "bytes_sent"):
                if value.isascii() and value.isdigit() and len(value) <= 18:
                    properties["bytes"] = int(value)
            elif name in _DURATION_UNITS:
                written = _DURATION_RE.fullmatch(value)  # a duration that names its units: "0.25s", "1m30s"
                try:
                    if written is not None:
                        terms = _DURATION_PART_RE.findall(value)
                        latency = sum(float(number) * _MILLISECONDS_PER[unit] for number, unit in terms)
                    else:
                        latency = float(value) / _DURATION_UNITS[name]
                except ValueError:
                    latency = math.nan
                # (a negative one is none: ALB's -1 where the target never answered, a 502's or a redirect's)
                if math.isfinite(latency) and latency >= 0.0:
                    properties["latency_ms"] = round(latency, 3)
                else:
                    properties[name] = value[:64]
            elif name == "http_referer":
                properties["referer"] = value[:512]
            elif name == "http_user_agent":
                agent = value
            elif name == self.forwarded_column:
                forwarded = value
                properties[name] = value[:256]
            elif name != "remote_ident" and not name.startswith(API_GATEWAY_UNUSED_PREFIX):
                properties[name[:64]] = value[:256]
        if occurred_at is None:
            raise LineError("no time ($time_local, $time_iso8601, $msec or $time_epoch_ms, _us, _ns)")
        if status == 401 and (substatus == "2" or (substatus == "1" and win32_status in _CHALLENGE_WIN32_STATUSES)):
            properties[AUTH_CHALLENGE_PROPERTY] = True
        if self.format == "caddy":
            # The address the request came from, where the line names no client (Caddy before 2.7
            # logs its remote_ip alone: CADDY_TEMPLATE)
            peer = properties.pop("realip_remote_addr", None)
            if ip is None and peer is not None:
                ip = peer if _valid_ip(peer) else _without_port(peer)
        if self.forwarded_column is not None:
            ip = self._client(ip, forwarded, properties)
        if ip is None and unreadable_address is not None:  # (an X-Forwarded-For may have named the client)
            if not self.report.unreadable_addresses:
                self.report.unreadable_address_example = unreadable_address
            self.report.unreadable_addresses += 1
        if ip is not None and self.internal_address(ip):
            self.report.internal_addresses[ip] += 1
        # $request_uri is the URI the client sent, and so is $request's; $uri is nginx's after its
        # rewrites, normalised and without the query (/index.php behind a front controller).
        if request_uri is not None:
            uri = request_uri
        elif uri is None and path_only is not None:
            uri = path_only + (f"?{args}" if args else "")
        if uri is None and route is not None and route not in API_GATEWAY_DEFAULT_ROUTES:
            self.report.route_only += 1
            match = _REQUEST_RE.fullmatch(route)  # a route key: "GET /pets/{id}"
            if match is not None:
                method, uri = method or match.group(1).upper(), match.group(2)
            elif route.startswith("/"):
                uri = route
        if self.format == "waf":
            status = self._waf_status(status, properties, method)
            properties.setdefault("referer", "")  # (a header it did not log was not sent)
        if method is not None:
            properties["method"] = method
        if uri is not None:
            parts = urlsplit(uri) if uri.startswith(("http://", "https://")) else None
            if parts is not None:
                uri = parts.path + (f"?{parts.query}" if parts.query else "")
            path, _, query = uri.partition("?")
        path_key = login_path_key(path) if path else None
        failed_statuses = self.failed_login_paths.get(path_key, self.failed_login_statuses) if path_key else frozenset()
        if path is not None and (operation is not None or is_graphql_path(path)):
            # (a GraphQL request is read by its operation: one path, and 200 for nearly every answer)
            operation = operation_name(operation, query)
            if operation is None:
                self.report.graphql_unnamed += 1
                self.report.graphql_path = self.report.graphql_path or path
            else:
                properties[OPERATION_PROPERTY] = operation
                uri = operation_resource(path, query, operation)
                event_type = event_type or operation_event_type(operation, status, failed_statuses)
                self.report.graphql_operations[event_type] += 1
        if uri is not None:
            uri, redacted = without_credentials(uri)
            self.report.redacted_credentials += redacted > 0
        resource = _clip(uri, MAX_RESOURCE_LENGTH, "resource", properties)
        agent = _clip(agent, MAX_USER_AGENT_LENGTH, "user_agent", properties)
        if not event_type and path_key in self.signup_paths and (method or "").upper() in ("POST", "PUT"):
            event_type = "signup"
        event_type = event_type or infer_event_type(method, path, status, query, failed_statuses)
        if event_type == "signup":
            self.report.signups += 1
        elif (
            path
            and status is not None
            and 200 <= status < 300
            and (method or "").upper() == "POST"
            and _ACCOUNT_COLLECTION_RE.search(path.lower())
        ):
            creates, collection = self.report.account_creates, path.rstrip("/") or "/"
            if collection in creates or len(creates) < MAX_LOGIN_PATHS:
                creates[collection] += 1
        if event_type in _LOGIN_EVENTS and status is not None and path:
            failed = event_type == "login_failed"
            # (failed by a status given for every path: not by one of its own, nor by WordPress's form)
            by_site_status = (
                failed
                and status < 400
                and status in self.failed_login_statuses
                and path_key not in self.failed_login_paths
            )
            given = failed_statuses if path_key in self.failed_login_paths else frozenset()
            client = identify_user(None, None, ip, agent)
            self.report.count_login(path, status, failed, by_site_status, given, client)
        elif (
            path and login_probe(status, failed_statuses) and _login_submitted(path.lower(), _submitted(method, query))
        ):
            self.report.count_login_probe(path)
        return {
            "event_id": derived_event_id(source, number, line),
            "occurred_at": occurred_at,
            "event_type": event_type,
            "user_id": identify_user(user, session, ip, agent),
            "session_id": session,
            "ip": ip,
            "user_agent": agent,
            "resource": resource,
            "status": status,
            "properties": properties,
        }

    def _client(self, peer: str | None, forwarded: str | None, properties: dict[str, Any]) -> str | None:
        """The client's address (``traffic.forwarded``); the proxy's stays in ``properties.remote_addr``."""
        if self.has_peer_column and peer is None:
            # The peer's address is not one ("-"): nothing says which hops to believe, and a header
            # read from its right end could have been written by the client.
            return None
        one_hop = self.forwarded_column == "http_x_real_ip"
        client = self.client_address.of(peer, forwarded, one_hop=one_hop)
        if peer is not None and client != canonical(peer):
            properties["remote_addr"] = peer
        # (a header of "-" is none: the request came straight to the proxy, a health check)
        if forwarded and forwarded.strip() != "-" and client is not None and self.client_address.is_trusted(client):
            hops = [forwarded] if one_hop else forwarded.split(",")
            if any(hop.strip() and hop_address(hop) is None for hop in hops):
                if not self.report.unplaced_clients:
                    self.report.unplaced_header_example = forwarded[:MAX_EXAMPLE_LENGTH]
                self.report.unplaced_clients += 1
                self.report.unplaced_proxies[client] += 1
        return client


def source_name(path: str) -> str:
    """The name a file's events are derived from (``derived_event_id``): its base name, without ``.gz``."""
    return os.path.basename(path).removesuffix(".gz")


# The requests the import holds back to put them in time order, at most (about 1.4 KB each): a log
# busier than this in LANDING_SECONDS (330 requests a second) is put in order over a shorter time.
MAX_HELD_REQUESTS = 100_000


def in_time_order(events: Iterable[LabeledEvent], slack: float = LANDING_SECONDS) -> Iterator[LabeledEvent]:
    """``events`` in time order, holding back only ``slack`` seconds of them (the backtest's
    reordering, ``model.ordering``): sessions are joined and logins attributed in it.
    Firehose delivers a web firewall's records up to a minute or two apart from their order, and a
    load balancer's nodes write a file each: a session's first request, without its cookie, logged
    after its second, had started a session of its own. An event more than ``slack`` behind the
    newest comes out as it arrives (the import says to sort such a log)."""
    for _, item in ordered_by_time(events, _occurred, slack, MAX_HELD_REQUESTS):
        yield item


def time_sorted(events: Iterable[LabeledEvent], report: ImportReport) -> Iterator[LabeledEvent]:
    """``events`` in time order, whatever the log's (ties in its order; ``MAX_HELD_REQUESTS`` at a
    time in memory, the rest in temporary files), noted in ``report`` (``sorted``):
    files concatenated as they are (CloudFront's several an hour, a dataset's people's and bots'
    logs one after the other) are read as one log in time order. On a web-bot dataset's log of
    people's visits after its bots', days earlier, the import had joined landing pages in the
    log's order and the backtest replayed it so: ROC-AUC 0.676 where sorted 0.737."""
    report.sorted = True
    for _, item in sorted_by_time(events, _occurred, MAX_HELD_REQUESTS):
        yield item


def _occurred(item: LabeledEvent) -> float:
    return parse_timestamp(item.event["occurred_at"]).timestamp()


# Files a log folder holds that are no log: the test file a load balancer writes when its logging
# is turned on.
NOT_LOGS = frozenset({"ELBAccessLogTestFile"})


def folder_files(folder: str) -> dict[str, str]:
    """The files under ``folder`` (at any depth; hidden ones and ``NOT_LOGS`` left out, and a file reached twice
    through a link read once, at its own path), in the order of their paths: each's name (its path
    under the folder, without ``.gz``: the day folders of a load balancer's logs repeat their files'
    base names; with it where the folder also holds the file uncompressed) -> its path."""
    reached: dict[str, str] = {}  # real path -> the path it is read at
    for directory, subdirectories, names in os.walk(folder):
        subdirectories[:] = sorted(name for name in subdirectories if not name.startswith("."))
        for name in sorted(names):
            path = os.path.join(directory, name)
            real = os.path.realpath(path)
            if name.startswith(".") or name in NOT_LOGS or not os.path.isfile(path):
                continue
            if real not in reached or (os.path.islink(reached[real]) and not os.path.islink(path)):
                reached[real] = path
    found: dict[str, str] = {}
    for path in sorted(reached.values(), key=lambda path: os.path.relpath(path, folder)):
        relative = os.path.relpath(path, folder).replace(os.sep, "/")
        found[relative if relative.removesuffix(".gz") in found else relative.removesuffix(".gz")] = path
    return dict(sorted(found.items()))


def _numbered_lines(path: str) -> Iterator[tuple[int, str]]:
    """The lines of the file at ``path`` (through gzip when its name ends in ``.gz``), numbered from 1."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        yield from enumerate(_decoded(handle), 1)


def line_event_ids(path: str, numbers: Collection[int], format: str, name: str | None = None) -> dict[int, str]:
    """The event ids ``import_file`` gives the lines numbered ``numbers`` (from 1) of the file at
    ``path`` read as ``format``: labels kept per line of a log find their events by them. A JSON
    line's own ``event_id`` is its id, as the import keeps it. A number past the end, or of a blank
    line, has none. ``name``: the file's name in a folder read whole (``folder_files``), else its own."""
    wanted = set(numbers)
    found: dict[int, str] = {}
    name = name or source_name(path)
    # Other formats derive every id from the line; JSON lines are read as the import reads them.
    json_lines = LogImporter("jsonl") if format == "jsonl" else None
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        for number, raw in enumerate(_decoded(handle), 1):
            if number not in wanted:
                continue
            line = raw.rstrip("\r\n")
            if not line.strip():
                wanted.discard(number)
            elif json_lines is None:
                found[number] = derived_event_id(name, number, line)
            else:
                try:
                    found[number] = str(json_lines.parse_line(line, name, number)["event_id"])
                except LineError:  # not imported: no event to label
                    wanted.discard(number)
            if len(found) == len(wanted):
                break
    return found


def _decoded(lines: Iterable[bytes]) -> Iterator[str]:
    # Lines end at "\n" only: a stray "\r" inside a line (CRLF injection attempts in CSIC 2010)
    # stays in it. Undecodable bytes (latin-1, binary junk) become U+FFFD.
    for line in lines:
        yield line.decode("utf-8", errors="replace")


def _is_csic_anomalous(source: str) -> bool:
    return "anomalous" in os.path.basename(source).lower()
