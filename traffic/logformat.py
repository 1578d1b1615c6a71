"""Access-log format strings, in nginx's ``log_format`` syntax, compiled to line parsers.

A format is literal text with ``$variable`` (or ``${variable}``) placeholders, as in nginx. Each
variable matches up to the next literal character (inside quotes, escaped quotes ``\\"`` are
allowed). A format's last variable is one word, or the rest of the line for free text
(``$http_user_agent``, ``$http_referer``, ``$request``); other text after the format's end
(extra columns appended by a proxy) is ignored. The presets are the classic formats:

- ``COMMON``: ``$remote_addr $remote_ident $remote_user [$time_local] "$request" $status $body_bytes_sent``
- ``COMBINED``: ``COMMON`` plus `` "$http_referer" "$http_user_agent"``

Variables with a meaning (anything else lands in ``properties`` under its own name):

==========================  ===================================================================
``$remote_addr``            client IP (``ip``); not an IP (``-``, ``unknown``) means none
``$remote_user``            authenticated user (``user_id``); ``-`` means none
``$user_id``                user id column of a custom log (``user_id``); so are an X-User-Id response
                           header (``$upstream_http_x_user_id``, ``$sent_http_x_user_id``)
``$session_id``             session id (``session_id``); so is any ``$cookie_NAME``
``$event_type``             explicit event type, instead of inferring it from the request
``$time_local``             time, parsed with the time format (default ``%d/%b/%Y:%H:%M:%S %z``)
``$time_iso8601``           time as ISO 8601 (``2026-11-02T10:00:00+00:00``)
``$msec``                   time as Unix seconds with milliseconds (``1762077600.123``); ``$time_epoch_ms``,
                            ``$time_epoch_us``, ``$time_epoch_ns`` in other units
``$request``                ``METHOD URI PROTOCOL``
``$request_method``         method; ``$request_uri`` is the URI with its query, or ``$uri`` + ``$args``
``$status``                 HTTP status
``$body_bytes_sent``        ``properties.bytes`` (also ``$bytes_sent``)
``$request_time``           seconds, as ``properties.latency_ms``
``$http_referer``           ``properties.referer``
``$http_user_agent``        ``user_agent``
==========================  ===================================================================

A time format without a UTC offset (no ``%z``) is read as UTC.

Apache's ``LogFormat`` strings are read too (``from_apache``): ``%h %l %u %t \"%r\" %>s %b
\"%{Referer}i\" \"%{User-Agent}i\" %{sid}C`` is translated to the nginx variables above
(``%{NAME}C`` is the cookie ``$cookie_NAME``, ``%{Header}i`` is ``$http_header``, ``%{FORMAT}t``
sets the time format). As a dataset's README may write its format, a bare session word
(``SESSIONID``) is the session column it names, and ``%{Referer}`` or ``%{User-Agent}`` without
their letter are the request headers.

Amazon API Gateway's access-log variables (``$context.identity.sourceIp``, ``$context.requestTime``...)
are read as the nginx variables that hold the same (``API_GATEWAY_VARIABLES``). A format that is a
JSON object template (nginx's ``escape=json`` formats, API Gateway's JSON) is read by key:
``traffic.jsonlog``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from traffic.exceptions import LogFormatError

COMMON = '$remote_addr $remote_ident $remote_user [$time_local] "$request" $status $body_bytes_sent'
COMBINED = COMMON + ' "$http_referer" "$http_user_agent"'
DEFAULT_TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"
# Characters of a line that does not fit its format shown where it stops fitting (``CompiledFormat.mismatch``).
MISMATCH_EXCERPT = 24
TIME_VARIABLES = frozenset({"time_local", "time_iso8601", "msec", "time_epoch_ms", "time_epoch_us", "time_epoch_ns"})
FREE_TEXT_VARIABLES = frozenset({"http_user_agent", "http_referer", "request"})
# nginx's $upstream_* variables of the servers a request was passed to list each of them, when a
# retry or an internal redirect took it to more than one: "10.0.0.1:80, 10.0.0.2:80" (", " between servers of
# a group, " : " between groups), and so their statuses and times ("502, 200"). Such a value is
# read whole, not as one word and the start of the next column.
UPSTREAM_LIST_VARIABLES = frozenset(
    {
        "upstream_addr",
        "upstream_status",
        "upstream_response_time",
        "upstream_connect_time",
        "upstream_header_time",
        "upstream_response_length",
        "upstream_bytes_received",
        "upstream_bytes_sent",
    }
)
_UPSTREAM_LIST_PATTERN = r"([^\s,]*(?:(?:, | : )[^\s,]+)*)"
# Addresses a format may join to their port with a colon (an AWS load balancer's client:port). An
# IPv6 address holds colons of its own (2a00:23c5::8b4:24158), so such an address runs to the last
# colon of its word, not the first.
ADDRESS_VARIABLES = frozenset({"remote_addr", "server_addr", "realip_remote_addr"})
# The variables that name the authenticated user (of several in a line, the last one set is read).
# The user: also the id an application returns in an X-User-Id response header (nginx's
# $upstream_http_ and $sent_http_ variables): the application sets it, where a request's header
# ($http_x_user_id) is the client's to write, and is not read as the user.
USER_VARIABLES = frozenset(
    {
        "remote_user",
        "user_id",
        "authorizer_principal_id",
        "authorizer_claims_sub",
        "upstream_http_x_user_id",
        "sent_http_x_user_id",
    }
)

# A variable: ``$name`` or ``${name}``, or one of API Gateway's ``$context.a.b`` (dots are part of its name).
VARIABLE_RE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_.]*)\}|(context(?:\.[A-Za-z0-9_]+)+|[A-Za-z_][A-Za-z0-9_]*))")
# Amazon API Gateway's access-log variables (REST and HTTP APIs), as the nginx variables that hold
# the same. ``$context.requestTime`` is in the common log format's time, as ``$time_local`` is;
# ``$context.path`` is the request's path (a REST API's begins with its stage), where
# ``$context.resourcePath`` and ``$context.routeKey`` are the route it matched (``/pets/{id}``, ``GET
# /pets/{id}``), read only where the log has no path. Its other variables (account, API, stage and
# request ids, integration and authorizer details) say nothing about the client: they are left out.
API_GATEWAY_VARIABLES = {
    "context.identity.sourceIp": "remote_addr",
    "context.identity.userAgent": "http_user_agent",
    "context.identity.user": "remote_user",
    "context.authorizer.principalId": "authorizer_principal_id",
    "context.authorizer.claims.sub": "authorizer_claims_sub",
    "context.requestTime": "time_local",
    "context.requestTimeEpoch": "time_epoch_ms",
    "context.httpMethod": "request_method",
    "context.path": "uri",
    "context.resourcePath": "route_path",
    "context.routeKey": "route_key",
    "context.protocol": "server_protocol",
    "context.status": "status",
    "context.responseLength": "body_bytes_sent",
    "context.responseLatency": "request_time_ms",
}
API_GATEWAY_UNUSED_PREFIX = "context_"  # the name of a variable left out: context_<its name>
# The route key of an HTTP API's default route: it matched no route, and names no path.
API_GATEWAY_DEFAULT_ROUTES = frozenset({"$default"})
# A log_format directive as nginx.conf writes it: "log_format NAME [escape=...] 'piece' 'piece' ...;".
_LOG_FORMAT_DIRECTIVE_RE = re.compile(r"\s*log_format\s+\S+\s+(?:escape=\S+\s+)?")
_QUOTED_PIECE_RE = re.compile(r"""\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")""", re.DOTALL)
_NGINX_ESCAPE_RE = re.compile(r"""\\(["'\\])""")
_STRFTIME_PATTERNS = {
    "Y": r"\d{4}",
    "y": r"\d{2}",
    "m": r"\d{1,2}",
    "d": r"\d{1,2}",
    "H": r"\d{1,2}",
    "I": r"\d{1,2}",
    "M": r"\d{2}",
    "S": r"\d{2}",
    "f": r"\d{1,6}",
    "z": r"(?:Z|[+-]\d{2}:?\d{2})",
    "Z": r"[A-Za-z]{1,5}",
    "b": r"[A-Za-z]{3}",
    "B": r"[A-Za-z]+",
    "a": r"[A-Za-z]{3}",
    "A": r"[A-Za-z]+",
    "p": r"(?:AM|PM|am|pm)",
    "j": r"\d{3}",
    "%": "%",
}


def time_format_pattern(time_format: str) -> str:
    """A regular expression matching what ``strptime(text, time_format)`` accepts."""
    out: list[str] = []
    index = 0
    while index < len(time_format):
        char = time_format[index]
        if char == "%":
            if index + 1 >= len(time_format):
                raise LogFormatError(time_format, "ends with a lone '%'")
            directive = time_format[index + 1]
            if directive == "T":
                out.append(r"\d{1,2}:\d{2}:\d{2}")
            elif directive in _STRFTIME_PATTERNS:
                out.append(_STRFTIME_PATTERNS[directive])
            else:
                raise LogFormatError(time_format, f"unsupported time directive %{directive}")
            index += 2
        else:
            out.append(re.escape(char))
            index += 1
    return "".join(out)


def nginx_format_string(text: str) -> str:
    """The format string of a format as nginx.conf writes it: a whole ``log_format`` directive
    (``log_format main escape=json '...' '...';``, whatever follows its ``;``: a comment, the
    ``access_log`` line), or its quoted strings on lines of their own, which nginx joins (a long
    format is written over several lines, a piece each), or one quoted string. Each piece is
    unescaped as nginx does (``\\"``, ``\\'``, ``\\\\``). Any other text is the format itself;
    raises ``LogFormatError`` for a directive whose format is not quoted strings."""
    directive = _LOG_FORMAT_DIRECTIVE_RE.match(text)
    if directive is None:
        stripped = text.strip()
        # (single quotes only: a format written for this tool quotes its columns with double ones)
        if not stripped.startswith("'"):
            return text
        pieces, rest = _quoted_pieces(stripped)
        # Pieces on one line ('$remote_addr' '$status') may be a format whose columns are quoted.
        if pieces and rest.strip() in ("", ";") and (len(pieces) == 1 or "\n" in stripped):
            return "".join(pieces)
        return text
    pieces, rest = _quoted_pieces(text[directive.end() :])
    if not pieces or not (rest.strip() == "" or rest.lstrip().startswith(";")):
        raise LogFormatError(text, "reads as an nginx log_format directive, but its format is not quoted strings")
    return "".join(pieces)


def _quoted_pieces(text: str) -> tuple[list[str], str]:
    """The quoted strings at the start of ``text``, unescaped as nginx does, and the text after them."""
    pieces: list[str] = []
    position = 0
    while (piece := _QUOTED_PIECE_RE.match(text, position)) is not None:
        pieces.append(_NGINX_ESCAPE_RE.sub(r"\1", piece.group(1) if piece.group(1) is not None else piece.group(2)))
        position = piece.end()
    return pieces, text[position:]


def variable_name(written: str) -> str:
    """The variable a format's ``$written`` is read as: API Gateway's as the nginx one that holds the
    same (``context.identity.sourceIp``: ``remote_addr``), others as written."""
    if not written.startswith("context."):
        return written
    return API_GATEWAY_VARIABLES.get(written) or API_GATEWAY_UNUSED_PREFIX + _name(written.removeprefix("context."))


@dataclass(frozen=True)
class CompiledFormat:
    """A compiled format: the regex and the variable name behind each of its groups."""

    format: str
    regex: re.Pattern[str]
    variables: tuple[str, ...]
    # The regex's pieces in order, each with what it reads (``$status``, or a literal's text), from
    # which ``mismatch`` says where a line stops fitting.
    pieces: tuple[tuple[str, str], ...]

    def parse(self, line: str) -> dict[str, str] | None:
        """The variables' raw values in a line, or None if the line does not fit the format."""
        read = self.read(line)
        return None if read is None else read[0]

    def read(self, line: str) -> tuple[dict[str, str], str] | None:
        """The variables' raw values in a line and the text after the format's end (columns it does
        not name: "" for none), or None if the line does not fit the format."""
        match = self.regex.match(line)
        if match is None:
            return None
        values = dict(zip(self.variables, match.groups()[: len(self.variables)], strict=True))
        return values, match.groupdict().get("extra") or ""

    def mismatch(self, line: str) -> str:
        """Where a line that does not fit the format stops fitting: the first piece of the format
        that the line, read that far, cannot continue with, and what the line holds there (a format
        with a column too many or too few shows it at once, where "does not match" alone does not)."""
        fitted = 0  # characters of the line that the pieces before the failing one read
        for count, (_, reads) in enumerate(self.pieces, start=1):
            match = re.match("".join(piece for piece, _ in self.pieces[:count]), line)
            if match is None:
                held = line[fitted : fitted + MISMATCH_EXCERPT]
                return f"at character {fitted + 1}, where the format has {reads}, the line has {held!r}"
            fitted = match.end()
        rest = line[fitted : fitted + MISMATCH_EXCERPT]
        return f"after character {fitted}, where the format ends, the line goes on: {rest!r}"


def compile_format(log_format: str, time_format: str = DEFAULT_TIME_FORMAT) -> CompiledFormat:
    """Compile an nginx-style format string; raises ``LogFormatError`` naming what is wrong."""
    parts: list[tuple[str, str]] = []  # ("literal", text) or ("variable", name)
    position = 0
    for match in VARIABLE_RE.finditer(log_format):
        if match.start() > position:
            parts.append(("literal", log_format[position : match.start()]))
        parts.append(("variable", variable_name(match.group(1) or match.group(2))))
        position = match.end()
    if position < len(log_format):
        parts.append(("literal", log_format[position:]))
    variables = [value for kind, value in parts if kind == "variable"]
    if not variables:
        raise LogFormatError(log_format, "has no $variable (nor Apache %directive)")
    if len(set(variables)) != len(variables):
        raise LogFormatError(log_format, "uses a variable twice")
    if "$" in "".join(value for kind, value in parts if kind == "literal"):
        raise LogFormatError(log_format, "has a '$' that does not start a variable name")
    pattern: list[str] = []
    for index, (kind, value) in enumerate(parts):
        if kind == "literal":
            pattern.append(re.escape(value))
            continue
        following = parts[index + 1][1] if index + 1 < len(parts) else ""
        if index + 1 < len(parts) and parts[index + 1][0] == "variable":
            raise LogFormatError(log_format, f"${value} is followed directly by another variable: add a separator")
        if value == "time_local":
            pattern.append(f"({time_format_pattern(time_format)})")
        elif not following:
            # A free-text last column takes the rest of the line; any other is one word (or a list).
            if value in FREE_TEXT_VARIABLES:
                pattern.append(r"(.*)")
            else:
                pattern.append(_UPSTREAM_LIST_PATTERN if value in UPSTREAM_LIST_VARIABLES else r"(\S*)")
        elif following[0] == '"':
            pattern.append(r'((?:[^"\\]|\\.)*)')
        elif following[0] == " ":
            pattern.append(_UPSTREAM_LIST_PATTERN if value in UPSTREAM_LIST_VARIABLES else r"(\S*)")
        elif following[0] == ":" and value in ADDRESS_VARIABLES:
            pattern.append(r"(\S*)")  # (greedy: up to the word's last colon)
        else:
            pattern.append(f"([^{re.escape(following[0])}]*)")
    # After a closing literal, extra columns (a proxy's X-Forwarded-For, a response time) are allowed.
    free_text_last = parts[-1][0] == "variable" and parts[-1][1] in FREE_TEXT_VARIABLES
    tail = "$" if free_text_last else r"(?:\s(?P<extra>.*))?$"
    try:
        regex = re.compile("".join(pattern) + tail)
    except re.error as error:
        raise LogFormatError(log_format, f"does not compile: {error}") from None
    reads = [f"${value}" if kind == "variable" else repr(value) for kind, value in parts]
    return CompiledFormat(log_format, regex, tuple(variables), tuple(zip(pattern, reads, strict=True)))


# Apache's mod_log_config directives: ``%``, an optional status condition (``400,501`` or ``!200``),
# an optional ``<`` or ``>`` (original or final request), an optional ``{parameter}``, the letter.
_APACHE_DIRECTIVE_RE = re.compile(r"%(?:!?\d{3}(?:,\d{3})*)?[<>]?(?:\{([^}]*)\})?(\^t[io]|[a-zA-Z%])")
# Letters whose meaning needs no parameter, as the nginx variable that holds the same.
_APACHE_VARIABLES = {
    "a": "remote_addr",
    "h": "remote_addr",
    "A": "server_addr",
    "b": "body_bytes_sent",
    "B": "body_bytes_sent",
    "D": "request_time_us",
    "f": "request_filename",
    "H": "server_protocol",
    "I": "request_length",
    "k": "connection_requests",
    "l": "remote_ident",
    "L": "request_log_id",
    "m": "request_method",
    "O": "bytes_sent",
    "p": "server_port",
    "P": "pid",
    "q": "query_string",
    "r": "request",
    "R": "handler",
    "s": "status",
    "S": "bytes_transferred",
    "T": "request_time",
    "u": "remote_user",
    "U": "uri",
    "v": "server_name",
    "V": "host",
    "X": "connection_status",
}
# ``%{...}i``-style letters with a name: the nginx variable's prefix.
# Directives only HAProxy's log-format has: the client's address and port, the request's times.
_HAPROXY_FORMAT_RE = re.compile(r"%ci\b|%cp\b|%tr\b|%ST\b|%TR\b|%Ta\b|%\{\+Q\}r|%hrl?\b|%ft\b")
_APACHE_NAMED = {"i": "http_", "o": "sent_http_", "C": "cookie_", "e": "env_", "n": "note_"}
_APACHE_EPOCH_TIMES = {"sec": "msec", "msec": "time_epoch_ms", "usec": "time_epoch_us"}


# Columns that hold a session id under another name than ``$session_id``, as a format written by hand
# for a dataset's column names it (not nginx's ``$ssl_session_id``: a TLS session's).
SESSION_VARIABLES = (
    "session_id",
    "sessionid",
    "session",
    "sessid",
    "sess_id",
    "session_key",
    "sid",
    "phpsessid",
    "jsessionid",
)
# One of them written as a bare word in an Apache format, as a dataset's README writes its session
# column ("... %b \"%{Referer}i\" SESSIONID \"%{User-Agent}i\""): Apache would log the word itself,
# and no line holds it there; the column it names is what the author meant.
_BARE_SESSION_WORD_RE = re.compile(rf'(?<![^\s"\[\]])(?:{"|".join(SESSION_VARIABLES)})(?![^\s"\[\]])', re.IGNORECASE)

# Apache directives that no nginx format holds: written beside nginx variables, the format mixes the two.
_APACHE_ONLY_RE = re.compile(r"%(?:>s|[hlutrb]\b|\{[^}]*\}[ioCn])")


def mixed_syntax(log_format: str) -> str | None:
    """The first Apache directive of a format that also has nginx variables (``... %D $user_id``),
    which is read as nginx's with the directive as literal text: no line would match."""
    if VARIABLE_RE.search(log_format) is None:
        return None
    found = _APACHE_ONLY_RE.search(log_format)
    return found.group(0) if found else None


def is_apache_format(log_format: str) -> bool:
    """Whether a format string is Apache's (``%h``, ``%t``, ...) rather than nginx's (``$variable``)."""
    return VARIABLE_RE.search(log_format) is None and any(
        match.group(2) != "%" for match in _APACHE_DIRECTIVE_RE.finditer(log_format)
    )


def _name(text: str) -> str:
    """A header's, cookie's or note's name as part of a variable name (``User-Agent``: ``user_agent``)."""
    return re.sub(r"[^a-z0-9_]", "_", text.lower())


# A request header written without the letter that says it is one (``%{Referer}`` for
# ``%{Referer}i``), as a dataset's README may shorten its format: Apache would refuse the directive,
# so no server logged with it, and these headers are what its author meant. Other names stay
# refused: a cookie, a note or a response header are as likely.
_REQUEST_HEADER_WITHOUT_LETTER_RE = re.compile(
    r"%\{(referr?er|user-agent|host|x-forwarded-for|accept-language|origin)\}(?![a-zA-Z])", re.IGNORECASE
)


def _bare_session_words(literal: str) -> str:
    """Apache literal text with each bare session word (``SESSIONID``) as the variable of that name."""
    return _BARE_SESSION_WORD_RE.sub(lambda word: "$" + word.group(0), literal)


def from_apache(log_format: str) -> tuple[str, str | None]:
    """An Apache ``LogFormat`` string in nginx syntax, and the time format its ``%{FORMAT}t`` sets
    (None for ``%t``, whose time is nginx's ``[$time_local]``). Quotes escaped as in Apache's
    configuration (``\\"``) are read as quotes. Raises ``LogFormatError`` naming the directive."""
    text = log_format.replace('\\"', '"').replace("%U%q", "%{request_uri}x")
    text = _REQUEST_HEADER_WITHOUT_LETTER_RE.sub(lambda header: header.group(0) + "i", text)
    out: list[str] = []
    time_format: str | None = None
    times = 0
    position = 0
    for match in _APACHE_DIRECTIVE_RE.finditer(text):
        out.append(_bare_session_words(text[position : match.start()]))
        position = match.end()
        parameter, letter = match.group(1), match.group(2)
        if letter == "%":
            out.append("%")
            continue
        if letter == "t":
            times += 1
            if parameter is None:
                # %t writes its own brackets; a format written "[%t]" (as a dataset's README may put
                # it) means the same, not a second pair
                bracketed = text[match.start() - 1 : match.start()] == "[" and text[position : position + 1] == "]"
                out.append("$time_local" if bracketed else "[$time_local]")
                continue
            parameter = parameter.removeprefix("begin:").removeprefix("end:")
            if parameter in ("msec_frac", "usec_frac"):
                out.append("$time_fraction")  # kept as a property: the time is read to the second
                times -= 1
            elif parameter in _APACHE_EPOCH_TIMES:
                out.append("$" + _APACHE_EPOCH_TIMES[parameter])
            else:
                out.append("$time_local")
                time_format = parameter
            continue
        if letter == "x" and parameter == "request_uri":  # %U%q, joined above: the URI with its query
            out.append("$request_uri")
        elif letter == "n" and parameter and "user" in parameter.lower():
            # A note the application sets for the log, not the client: its user (Moodle's
            # ``apacheloguser`` setting writes it to %{MOODLEUSER}n).
            out.append("$user_id")
        elif letter in _APACHE_NAMED and parameter:
            out.append("$" + _APACHE_NAMED[letter] + _name(parameter))
        elif letter == "T" and parameter in ("ms", "us"):
            out.append(f"$request_time_{parameter}")
        elif letter in _APACHE_VARIABLES:
            out.append("$" + _APACHE_VARIABLES[letter])
        else:
            haproxy = ""
            if _HAPROXY_FORMAT_RE.search(log_format):
                haproxy = (
                    "; this looks like HAProxy's log-format, whose default (option httplog) reads with --format "
                    "haproxy, and any other with its fields as nginx variables (docs/traffic.md, HAProxy)"
                )
            raise LogFormatError(log_format, f"unsupported Apache directive {match.group(0)!r}{haproxy}")
    out.append(_bare_session_words(text[position:]))
    if times > 1:
        raise LogFormatError(log_format, "has more than one time directive (%t); keep one")
    unfinished = re.search(r"%\{([^}]*)\}", "".join(out))
    if unfinished:
        raise LogFormatError(
            log_format,
            f"{unfinished.group(0)} has no letter after it to say what it is: %{{{unfinished.group(1)}}}i for a "
            f"request header, o for a response header, C for a cookie",
        )
    return "".join(out), time_format
