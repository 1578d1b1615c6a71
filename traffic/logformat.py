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
``$user_id``                user id column of a custom log (``user_id``)
``$session_id``             session id (``session_id``); so is any ``$cookie_NAME``
``$event_type``             explicit event type, instead of inferring it from the request
``$time_local``             time, parsed with the time format (default ``%d/%b/%Y:%H:%M:%S %z``)
``$time_iso8601``           time as ISO 8601 (``2026-11-02T10:00:00+00:00``)
``$msec``                   time as Unix seconds with milliseconds (``1762077600.123``)
``$request``                ``METHOD URI PROTOCOL``
``$request_method``         method; ``$request_uri`` is the URI with its query, or ``$uri`` + ``$args``
``$status``                 HTTP status
``$body_bytes_sent``        ``properties.bytes`` (also ``$bytes_sent``)
``$request_time``           seconds, as ``properties.latency_ms``
``$http_referer``           ``properties.referer``
``$http_user_agent``        ``user_agent``
==========================  ===================================================================

A time format without a UTC offset (no ``%z``) is read as UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from traffic.exceptions import LogFormatError

COMMON = '$remote_addr $remote_ident $remote_user [$time_local] "$request" $status $body_bytes_sent'
COMBINED = COMMON + ' "$http_referer" "$http_user_agent"'
DEFAULT_TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"
TIME_VARIABLES = frozenset({"time_local", "time_iso8601", "msec"})
FREE_TEXT_VARIABLES = frozenset({"http_user_agent", "http_referer", "request"})

_VARIABLE_RE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
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


@dataclass(frozen=True)
class CompiledFormat:
    """A compiled format: the regex and the variable name behind each of its groups."""

    format: str
    regex: re.Pattern[str]
    variables: tuple[str, ...]

    def parse(self, line: str) -> dict[str, str] | None:
        """The variables' raw values in a line, or None if the line does not fit the format."""
        match = self.regex.match(line)
        if match is None:
            return None
        return dict(zip(self.variables, match.groups(), strict=True))


def compile_format(log_format: str, time_format: str = DEFAULT_TIME_FORMAT) -> CompiledFormat:
    """Compile an nginx-style format string; raises ``LogFormatError`` naming what is wrong."""
    parts: list[tuple[str, str]] = []  # ("literal", text) or ("variable", name)
    position = 0
    for match in _VARIABLE_RE.finditer(log_format):
        if match.start() > position:
            parts.append(("literal", log_format[position : match.start()]))
        parts.append(("variable", match.group(1) or match.group(2)))
        position = match.end()
    if position < len(log_format):
        parts.append(("literal", log_format[position:]))
    variables = [value for kind, value in parts if kind == "variable"]
    if not variables:
        hint = ""
        if "%h" in log_format or "%t" in log_format or "%r" in log_format:
            hint = f" (Apache LogFormat? write it in nginx syntax; the combined format is {COMBINED!r})"
        raise LogFormatError(log_format, f"has no $variable{hint}")
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
            # A free-text last column takes the rest of the line; any other is one word.
            pattern.append(r"(.*)" if value in FREE_TEXT_VARIABLES else r"(\S*)")
        elif following[0] == '"':
            pattern.append(r'((?:[^"\\]|\\.)*)')
        elif following[0] == " ":
            pattern.append(r"(\S*)")
        else:
            pattern.append(f"([^{re.escape(following[0])}]*)")
    # After a closing literal, extra columns (a proxy's X-Forwarded-For, a response time) are allowed.
    free_text_last = parts[-1][0] == "variable" and parts[-1][1] in FREE_TEXT_VARIABLES
    tail = "$" if free_text_last else r"(?:\s.*)?$"
    try:
        regex = re.compile("".join(pattern) + tail)
    except re.error as error:
        raise LogFormatError(log_format, f"does not compile: {error}") from None
    return CompiledFormat(log_format, regex, tuple(variables))
