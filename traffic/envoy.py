"""Envoy's access-log format strings, and Istio's (which are Envoy's), read as nginx ones.

Envoy writes each request with command operators (``%START_TIME%``, ``%REQ(USER-AGENT)%``,
``%RESPONSE_CODE%``...: Envoy's "Access logging" reference). ``from_envoy`` turns a format string,
as text or as a JSON format's dictionary, into the nginx variables that hold the same, so that the
custom format reads it: ``%REQ(:METHOD)%`` is ``$request_method``, ``%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%``
``$request_uri``, ``%DOWNSTREAM_REMOTE_ADDRESS%`` (``address:port``) ``$remote_addr``, a request
header ``%REQ(NAME)%`` ``$http_name``... An operator that says nothing of the client's behaviour (the
upstream cluster, the route, Envoy's response flags) is kept as a property under its own name.
Envoy's status ``0`` (the client hung up before the response, flag ``DC``) is read as no status.

``ENVOY_FORMAT`` is Envoy's default; ``ISTIO_FORMAT`` Istio's for its text encoding and
``ISTIO_JSON_FORMAT`` for its JSON one (``meshConfig.accessLogEncoding: JSON``).
"""

from __future__ import annotations

import re

from traffic.exceptions import LogFormatError
from traffic.logformat import VARIABLE_RE, variable_name

ENVOY_FORMAT = (
    '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% '
    "%RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "
    '"%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"'
)
ISTIO_FORMAT = (
    '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% '
    "%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "
    '"%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% '
    '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" '
    '"%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% '
    "%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%"
)
ISTIO_JSON_FORMAT = (
    '{"start_time":"%START_TIME%","route_name":"%ROUTE_NAME%","method":"%REQ(:METHOD)%",'
    '"path":"%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%","protocol":"%PROTOCOL%","response_code":"%RESPONSE_CODE%",'
    '"response_flags":"%RESPONSE_FLAGS%","response_code_details":"%RESPONSE_CODE_DETAILS%",'
    '"connection_termination_details":"%CONNECTION_TERMINATION_DETAILS%","bytes_received":"%BYTES_RECEIVED%",'
    '"bytes_sent":"%BYTES_SENT%","duration":"%DURATION%",'
    '"upstream_service_time":"%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%","x_forwarded_for":"%REQ(X-FORWARDED-FOR)%",'
    '"user_agent":"%REQ(USER-AGENT)%","request_id":"%REQ(X-REQUEST-ID)%","authority":"%REQ(:AUTHORITY)%",'
    '"upstream_host":"%UPSTREAM_HOST%","upstream_cluster":"%UPSTREAM_CLUSTER_RAW%",'
    '"upstream_local_address":"%UPSTREAM_LOCAL_ADDRESS%","downstream_local_address":"%DOWNSTREAM_LOCAL_ADDRESS%",'
    '"downstream_remote_address":"%DOWNSTREAM_REMOTE_ADDRESS%","requested_server_name":"%REQUESTED_SERVER_NAME%",'
    '"upstream_transport_failure_reason":"%UPSTREAM_TRANSPORT_FAILURE_REASON%"}'
)
# The formats named after the proxy that writes them (--format envoy, istio, istio-json).
ENVOY_FORMATS = {"envoy": ENVOY_FORMAT, "istio": ISTIO_FORMAT, "istio-json": ISTIO_JSON_FORMAT}

# A command operator: its name, an optional (argument) and an optional :length (the most characters kept).
# (Names of two letters or more: Apache's one-letter directives run into each other, %U%q.)
_OPERATOR_RE = re.compile(r"%([A-Z][A-Z0-9_]+)(?:\(([^)]*)\))?(?::\d+)?%")
# Operators whose value is one an nginx variable holds.
_VARIABLES = {
    "PROTOCOL": "server_protocol",
    "RESPONSE_CODE": "status",
    "BYTES_RECEIVED": "request_length",
    "BYTES_SENT": "body_bytes_sent",
    "DURATION": "request_time_ms",
    # The client as Envoy saw it (address:port, the port left out at import), or as the
    # X-Forwarded-For it trusts (xff_num_trusted_hops) made it; the direct peer's is kept apart.
    "DOWNSTREAM_REMOTE_ADDRESS": "remote_addr",
    "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": "remote_addr",
    "UPSTREAM_HOST": "upstream_addr",
}
# The operators of a request's headers, by the prefix of their variables.
_HEADER_OPERATORS = {"REQ": "http_", "REQ_WITHOUT_QUERY": "http_", "RESP": "sent_http_", "TRAILER": "trailer_"}
# The operators of a request's time, line and status, one of which any access log has.
_LOG_OPERATORS = frozenset({"START_TIME", "REQ", "RESPONSE_CODE", "PROTOCOL", "DURATION"})
# Pseudo-headers of HTTP/2 (and Envoy's names for HTTP/1's parts) by the variable that holds them.
_PSEUDO_HEADERS = {":method": "request_method", ":path": "request_uri", ":authority": "host", ":scheme": "scheme"}
# Envoy's own name for the path before its rewrites: the path the client sent, as $request_uri is.
_ORIGINAL_PATH = "x-envoy-original-path"
# Headers a mesh's authentication sets to the signed-in user (oauth2-proxy's, Istio's
# outputClaimToHeaders as its examples name it, a gateway's own): the user, as $user_id is. Another
# header is given that meaning by writing $user_id in its place.
_USER_HEADERS = frozenset(
    {"x-user-id", "x-user", "x-forwarded-user", "x-auth-request-user", "x-remote-user", "x-jwt-claim-sub"}
)


def is_envoy_format(log_format: str) -> bool:
    """Whether a format string is Envoy's (``%START_TIME%``, ``%REQ(USER-AGENT)%``) rather than
    nginx's or Apache's: it has one of the operators every access log of Envoy's has (its
    ``$variables``, if any, are the ones a user wrote in place of operators, to give them a meaning)."""
    return any(match.group(1) in _LOG_OPERATORS for match in _OPERATOR_RE.finditer(log_format))


def _header_variable(argument: str, prefix: str) -> str:
    """The variable of ``%REQ(NAME?ALTERNATIVE)%``: the first name's (a path's for Envoy's original
    path, whose alternative is the path itself)."""
    name = argument.split("?", 1)[0].strip().lower()
    if name == _ORIGINAL_PATH:
        return "request_uri"
    if prefix == "http_" and name in _USER_HEADERS:
        return "user_id"
    if prefix == "http_" and name in _PSEUDO_HEADERS:
        return _PSEUDO_HEADERS[name]
    return prefix + re.sub(r"[^a-z0-9_]", "_", name.lstrip(":"))


def _start_time(argument: str | None, log_format: str) -> tuple[str, str | None]:
    """The variable of ``%START_TIME(FORMAT)%``, and the time format it sets (None where the variable
    reads the time itself). Envoy's ``%s`` is the epoch's seconds (``%s.%3f`` with milliseconds,
    ``%s%3f`` in milliseconds), ``%E3S`` the seconds with three decimals and ``%f`` (``%3f``, ``%6f``,
    ``%9f``) a fraction of the second; an ISO 8601 layout reads as ``$time_iso8601`` whatever its
    decimals, another through strptime (to the microsecond)."""
    if not argument:
        return "time_iso8601", None
    epoch = re.fullmatch(r"%s(\.?)(?:%([369]?)f)?", argument)
    if epoch is not None:
        digits = epoch.group(2) or "9"
        if epoch.group(1) or epoch.group(0) == "%s":
            return "msec", None
        return {"3": "time_epoch_ms", "6": "time_epoch_us", "9": "time_epoch_ns"}[digits], None
    layout = re.sub(r"%E\d?S", "%S.%f", argument)
    layout = re.sub(r"%\d?f", "%f", layout)
    if re.fullmatch(r"%Y-%m-%d[T ]%H:%M:%S(?:\.%f)?(?:Z|%z)?", layout):
        return "time_iso8601", None
    if re.search(r"%(?:E[7-9]S|[7-9]f|f)", argument):  # (Envoy's %f alone is nine digits)
        raise LogFormatError(
            log_format,
            f"%START_TIME({argument})% writes more decimals of the second than can be read (nine); write at most "
            "six (%6f, %E6S), or the ISO 8601 layout %Y-%m-%dT%H:%M:%S.%9fZ",
        )
    return "time_local", layout


def from_envoy(log_format: str) -> tuple[str, str | None]:
    """An Envoy format string in nginx syntax, and the time format its ``%START_TIME(FORMAT)%`` sets
    (None for ``%START_TIME%``, Envoy's ISO 8601 in UTC with milliseconds, and for a format that a
    variable reads itself: ``_start_time``). Raises ``LogFormatError`` naming what cannot be read."""
    out: list[str] = []
    time_format: str | None = None
    used = {variable_name(match.group(1) or match.group(2)) for match in VARIABLE_RE.finditer(log_format)}
    position = 0
    for match in _OPERATOR_RE.finditer(log_format):
        out.append(log_format[position : match.start()])
        position = match.end()
        name, argument = match.group(1), match.group(2)
        if name == "START_TIME":
            variable, time_format = _start_time(argument, log_format)
        elif name in _HEADER_OPERATORS:
            if not argument:
                raise LogFormatError(log_format, f"{match.group(0)} names no header")
            variable = _header_variable(argument, _HEADER_OPERATORS[name])
            if name == "REQ_WITHOUT_QUERY" and variable == "request_uri":
                variable = "uri"  # (the path without its query: nginx's $uri)
        else:
            variable = _VARIABLES.get(name, name.lower())
        if variable in used:
            # A second operator with the same meaning (the path twice, two user headers): kept apart
            # under a name of its own, made of the operator and its argument.
            own = re.sub(r"[^a-z0-9]+", "_", f"envoy_{name}_{argument or ''}".lower()).rstrip("_")
            candidates = (own, *(f"{own}_{number}" for number in range(2, 100)))
            variable = next(candidate for candidate in candidates if candidate not in used)
        used.add(variable)
        out.append(f"${variable}")
    out.append(log_format[position:])
    return "".join(out), time_format
