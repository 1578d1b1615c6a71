"""HAProxy's HTTP log (``option httplog``), as syslog, journald or a container runtime writes it.

HAProxy's default HTTP format (``HTTPLOG_FORMAT``) is read by position::

    Feb  6 12:14:14 lb1 haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in \\
      static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu|Mozilla/5.0 ...} {} \\
      "GET /index.html HTTP/1.1"

Whatever comes before the client's ``address:port [time]`` is the writer's prefix (syslog's date,
host and tag; journald's; a timestamp) and is skipped. The captured request headers (``{...}``, one
value per ``capture request header`` line, in their order, joined by ``|``) are named by the caller
(``--haproxy-headers User-Agent,Referer,Cookie``); without names they are not read, as the log does
not say which is which (nor whether a lone block is the request's or the response's: a frontend
that captures response headers alone writes one block, which reads as request headers by the
names given). HAProxy writes the characters it must not (``"``, ``#``, ``{``, ``|``, ``}``,
controls and bytes beyond ASCII) as ``#XX``, in the headers and the request line; they are decoded,
each run of bytes as UTF-8. A line that syslog's length limit cut short (its request's closing
quote lost) is read as far as it goes. The captured request cookie (``%CC``,
``capture cookie NAME len N``: ``NAME=value``) is read as a Cookie header of one cookie where no
Cookie header is captured. ``%tr`` is HAProxy's local time without an offset, read as UTC.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from traffic.exceptions import LogFormatError

HTTPLOG_FORMAT = (
    "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r"
)
TIME_FORMAT = "%d/%b/%Y:%H:%M:%S.%f"
# The fields of HAProxy's HTTP format after the writer's prefix. The timers are TR/Tw/Tc/Tr/Ta
# (HAProxy 1.4 to 1.9 logged Tq/Tw/Tc/Tr/Tt: the same shape); -1 is a step not reached, and a "+"
# before the last timer and the bytes says "option logasap" logged them before the end.
_HTTPLOG_RE = re.compile(
    r"(?:^|\s)(?P<address>\S+):(?P<port>\d+) \[(?P<time>\d{1,2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2}\.\d+)\] "
    r"(?P<frontend>\S+) (?P<backend>[^/\s]+)/(?P<server>\S+) "
    r"-?\d+/-?\d+/-?\d+/-?\d+/\+?(?P<active>-?\d+) (?P<status>-?\d+) \+?(?P<bytes>\d+) "
    r"(?P<request_cookie>\S+) \S+ (?P<termination>\S{4}) \d+/\d+/\d+/\d+/\+?\d+ \d+/\d+"
    r"(?: \{(?P<request_headers>[^}]*)\})?(?: \{[^}]*\})? \"(?P<request>[^\"]*)\"?\s*$"
)
_ENCODED_RE = re.compile(r"(?:#[0-9A-Fa-f]{2})+")


def header_variable(name: str) -> str:
    """The nginx variable of a request header (``User-Agent`` is ``http_user_agent``)."""
    return "http_" + name.strip().lower().replace("-", "_")


def _decoded(value: str) -> str:
    """``value`` with HAProxy's ``#XX`` escapes undone, each run of them read as UTF-8 bytes."""
    if "#" not in value:
        return value
    return _ENCODED_RE.sub(lambda run: bytes.fromhex(run.group(0).replace("#", "")).decode("utf-8", "replace"), value)


class HttpLog:
    """Reads lines of HAProxy's HTTP format into values by nginx variable (``variables``)."""

    def __init__(self, headers: Sequence[str] = ()) -> None:
        """``headers``: the captured request headers' names, in the order of their ``capture
        request header`` lines."""
        names = [name.strip() for name in headers]
        if any(not name for name in names):
            raise LogFormatError(",".join(headers), "--haproxy-headers names an empty header")
        self.header_variables = [header_variable(name) for name in names]
        # The captured request cookie stands for the Cookie header where that is not captured.
        self._cookie_from_capture = "http_cookie" not in self.header_variables
        self.variables: tuple[str, ...] = (
            "remote_addr",
            "time_local",
            "request",
            "status",
            "body_bytes_sent",
            "request_time_ms",
            "frontend_name",
            "backend_name",
            "server_name",
            "termination_state",
            *self.header_variables,
            *(("http_cookie",) if self._cookie_from_capture else ()),
        )
        self.unnamed_headers = 0  # lines whose captured request headers were not named
        self.misnamed_headers = 0  # lines whose captured request headers were not as many as named
        self.captured_example = ""

    def values(self, line: str) -> dict[str, str] | None:
        """The line's values by variable (``-`` for none), or None if it is not HAProxy's HTTP format."""
        match = _HTTPLOG_RE.search(line)
        if match is None:
            return None
        status = match["status"]
        values = {
            "remote_addr": match["address"],
            "time_local": match["time"],
            # (a request that never reached a full line: <BADREQ>, a timeout before it)
            "request": _decoded(match["request"]),
            "status": "-" if status.startswith("-") else status,
            "body_bytes_sent": match["bytes"],
            "request_time_ms": "-" if match["active"].startswith("-") else match["active"],
            "frontend_name": match["frontend"],
            "backend_name": match["backend"],
            "server_name": match["server"],
            "termination_state": match["termination"],
        }
        captured = match["request_headers"]
        if captured is not None:
            fields = captured.split("|")
            if not self.header_variables:
                self.unnamed_headers += 1
                self.captured_example = self.captured_example or captured[:200]
            elif len(fields) != len(self.header_variables):
                self.misnamed_headers += 1
                self.captured_example = self.captured_example or captured[:200]
            else:
                values.update(zip(self.header_variables, (_decoded(field) for field in fields), strict=True))
        if self._cookie_from_capture:
            cookie = match["request_cookie"]
            values["http_cookie"] = cookie if "=" in cookie else "-"
        return values
