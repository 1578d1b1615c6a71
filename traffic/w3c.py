"""W3C extended logs: Amazon CloudFront's standard logs and Microsoft IIS's logs.

Both begin with directives (``#Version``, ``#Fields: date time ...``, IIS's ``#Software`` and
``#Date`` too), then one request a line, fields in the order ``#Fields`` names them, ``-`` for an
empty one, date and time in UTC. They differ in how a line is split and values encoded
(``Dialect``): CloudFront separates fields with tabs and URL-encodes every value; IIS separates them
with spaces and writes a space inside a value (a user agent's, a cookie's) as ``+``, its
``time-taken`` in milliseconds where CloudFront's is in seconds, and its ``cs-username`` is the
authenticated user.

**CloudFront.** Each file starts with two directives, ``#Version: 1.0`` and ``#Fields: date time x-edge-location
...``, then one request a line, its fields separated by tabs, ``-`` for an empty one, and every value
URL-encoded (a space in a user agent is ``%20``, a ``%`` in the URL ``%25``). The ``#Fields`` line
names the columns, so a file with CloudFront's newer fields, or fewer, is read by name; until a file
names its own, the 33 fields of the standard log (``STANDARD_FIELDS``) are assumed. Files joined
together (``zcat *.gz``) repeat the directives, which are read again wherever they come.

The fields are read as the nginx variables that hold the same (``VARIABLES``), so a CloudFront
request becomes the event an nginx line would: ``date`` and ``time`` (UTC) are the time,
``c-ip`` the client, ``cs-uri-stem`` and ``cs-uri-query`` the resource, ``cs(Cookie)`` the Cookie
header (its session cookie is the session, ``traffic.importer.session_cookie``), ``x-forwarded-for``
the header a proxy in front of CloudFront added (believed only from a trusted proxy, as nginx's realip
module would). A status of ``000`` (the viewer closed the connection before the response) is no
status, and ``properties.viewer_closed`` says so (``traffic.importer.CLOSED_STATUSES``). The edge's
result type (``Hit``, ``Miss``, ``Error``, ``LimitExceeded``...) is kept in
``properties.edge_result_type``; the other fields (TLS cipher, edge location and request id...) are
not about the client's behaviour and are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

# The fields of a CloudFront standard log, in CloudFront's order (the AWS CloudFront Developer Guide, "Standard
# logging reference": 33 fields).
STANDARD_FIELDS = (
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
)
# IIS's default selection (W3C logging, "Select Fields" left as installed).
IIS_FIELDS = (
    "date",
    "time",
    "s-ip",
    "cs-method",
    "cs-uri-stem",
    "cs-uri-query",
    "s-port",
    "cs-username",
    "c-ip",
    "cs(User-Agent)",
    "cs(Referer)",
    "sc-status",
    "sc-substatus",
    "sc-win32-status",
    "time-taken",
)
# Each field read, as the nginx variable that holds the same (``traffic.logformat``); field names are
# matched whatever their case (IIS's custom fields are named as their administrator typed them).
VARIABLES = {
    "c-ip": "remote_addr",
    "cs-method": "request_method",
    "cs-uri-stem": "uri",
    "cs-uri-query": "args",
    "sc-status": "status",
    "sc-bytes": "bytes_sent",
    "cs(Referer)": "http_referer",
    "cs(User-Agent)": "http_user_agent",
    "cs(Cookie)": "http_cookie",
    "cs-username": "remote_user",
    "x-forwarded-for": "http_x_forwarded_for",
    "cs(x-forwarded-for)": "http_x_forwarded_for",
    "cs-protocol-version": "protocol",
    "sc-substatus": "substatus",  # (IIS's: with the next, what tells Windows authentication's challenges)
    "sc-win32-status": "win32_status",
    "x-edge-result-type": "edge_result_type",
}
COOKIE_FIELD = "cs(Cookie)"
# The client's address behind a load balancer: CloudFront's own field, and the custom field an IIS
# administrator adds for the request header (IIS 8.5 and later: "X-Forwarded-For" by Microsoft's
# example, as ``#Fields`` names it).
FORWARDED_FIELD = "x-forwarded-for"
# The time is two fields, read together as one ISO 8601 time.
DATE_FIELD, TIME_FIELD = "date", "time"
TIME_VARIABLE = "time_iso8601"
FIELDS_DIRECTIVE = "#Fields:"


def _plus_as_space(value: str) -> str:
    return value.replace("+", " ")


@dataclass(frozen=True)
class Dialect:
    """How one server writes W3C extended logs."""

    separator: str
    separator_name: str
    default_fields: tuple[str, ...]
    decode: Callable[[str], str]  # a value as the server encoded it, decoded
    duration_variable: str  # what ``time-taken`` is: ``request_time`` (seconds) or ``request_time_ms``


DIALECTS = {
    "cloudfront": Dialect("\t", "tab", STANDARD_FIELDS, unquote, "request_time"),
    "iis": Dialect(" ", "space", IIS_FIELDS, _plus_as_space, "request_time_ms"),
}


class W3CLayout:
    """The fields of the lines being read: the dialect's default until a ``#Fields`` directive names others."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.names = {name.lower(): variable for name, variable in VARIABLES.items()}
        self.names["time-taken"] = dialect.duration_variable
        self._set_fields(dialect.default_fields)

    def _set_fields(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self._variables = tuple(self.names.get(name.lower()) for name in fields)
        dated = DATE_FIELD in fields and TIME_FIELD in fields
        self._date_time = (fields.index(DATE_FIELD), fields.index(TIME_FIELD)) if dated else None

    def variables_of(self, fields: Sequence[str]) -> list[str]:
        """The nginx variables lines with these fields give (their time included if they have one)."""
        variables = [self.names[name.lower()] for name in fields if name.lower() in self.names]
        return [TIME_VARIABLE, *variables] if DATE_FIELD in fields and TIME_FIELD in fields else variables

    def reads_forwarded(self) -> bool:
        """Whether the lines name the client's address behind a proxy (X-Forwarded-For)."""
        return "http_x_forwarded_for" in self._variables

    def reads_peer(self) -> bool:
        """Whether the lines name the address the server saw (``c-ip``)."""
        return "remote_addr" in self._variables

    def directive(self, line: str) -> str | None:
        """Read a ``#`` line: a ``#Fields`` directive sets the fields (None), any other is ignored;
        returns why a ``#Fields`` line cannot be used, if it cannot."""
        if not line.startswith(FIELDS_DIRECTIVE):
            return None
        fields = tuple(line[len(FIELDS_DIRECTIVE) :].split())
        if DATE_FIELD not in fields or TIME_FIELD not in fields:
            return "a #Fields directive without date and time: its requests have no time"
        self._set_fields(fields)
        return None

    def values(self, line: str) -> dict[str, str] | None:
        """A request line's values by nginx variable, decoded once (as the server encoded them), or
        None when its fields are not as many as the layout's."""
        raw = line.split(self.dialect.separator)
        if len(raw) != len(self.fields):
            return None
        decode = self.dialect.decode
        pairs = zip(self._variables, raw, strict=True)
        values = {variable: decode(value) for variable, value in pairs if variable is not None}
        if self._date_time is not None:
            date, time = self._date_time
            values[TIME_VARIABLE] = f"{raw[date]}T{raw[time]}+00:00"
        return values
