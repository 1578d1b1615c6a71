"""Access logs written as one JSON object a line, read by the template that wrote them.

Servers and gateways that log JSON are told what to write with a template: nginx's ``log_format
name escape=json '{"time":"$time_iso8601","remote_addr":"$remote_addr",...}'``, API Gateway's
access-log format ``{"ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",...}``.
The same template, given as the custom format (``--log-format``), says which key holds which
variable, so a line is read by key wherever its keys come, without a converter:

- a key's template is one variable (``"$remote_addr"``, or bare as in nginx's ``"status": $status``)
  or text around variables (``"$request_method $request_uri"``, read as a format is: ``traffic.logformat``);
- templates nest (``{"request": {"method": "$request_method"}}``), and a list's first element is read
  (``"headers": {"User-Agent": ["$http_user_agent"]}``, as Caddy writes headers), unless the
  template's elements are objects with text of their own: then each is read from the line's first
  element that has that text, in any case (``"headers": [{"name": "User-Agent", "value":
  "$http_user_agent"}, {"name": "Cookie", "value": "$http_cookie"}]``, as AWS WAF writes headers,
  in whatever order and case the client sent them);
- a value may be a string or a number; a key that is missing, null or empty is absent, as ``-`` is
  in a plain log; an object of cookies by name (Cloudflare's ``Cookies``) read as ``$http_cookie``
  is the Cookie header it stands for;
- text before a line's first ``{`` is ignored: CloudWatch Logs' export and container runtimes put
  a timestamp (and a stream name) before each message;
- a line that nginx wrote without ``escape=json`` (a quote in a user agent escaped as ``\\x22``, which
  JSON does not know) is read as nginx meant it.

The values are JSON-decoded, so they need none of a plain log's unescaping.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import orjson

from traffic.exceptions import LogFormatError
from traffic.logformat import DEFAULT_TIME_FORMAT, VARIABLE_RE, CompiledFormat, compile_format, variable_name

# nginx's default escaping: a byte as \xHH (a quote \x22, a backslash \x5C, each byte of a
# non-ASCII character); a run of them is the bytes of UTF-8 text.
_NGINX_ESCAPES_RE = re.compile(r"(?:\\x[0-9A-Fa-f]{2})+")
# The variables that make a line a request: a JSON line without any of them that the template names
# (an application's own message in the same stream) is not one.
REQUEST_VARIABLES = frozenset({"request", "request_uri", "uri", "route_path", "route_key"})


class Match(tuple[tuple[str, str], ...]):
    """A path step into a list: its first object whose keys hold these texts (casefolded)."""


Path = tuple[str | int | Match, ...]


def is_json_template(log_format: str) -> bool:
    """Whether a custom format is a JSON object template (it begins with ``{``)."""
    return log_format.lstrip().startswith("{")


def _quote_bare_variables(template: str) -> str:
    """The template with each variable outside a JSON string quoted (nginx's ``"status": $status``),
    so that it parses as JSON."""
    out: list[str] = []
    index, in_string = 0, False
    while index < len(template):
        char = template[index]
        if in_string:
            out.append(template[index : index + 2] if char == "\\" else char)
            index += 2 if char == "\\" else 1
            in_string = char != '"'
            continue
        if char == "$":
            match = VARIABLE_RE.match(template, index)
            if match is not None:
                out.append(json.dumps(match.group(0)))
                index = match.end()
                continue
        out.append(char)
        in_string = char == '"'
        index += 1
    return "".join(out)


def _leaves(template: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Each string of the template holding a variable, with the keys (and list indexes) to it."""
    if isinstance(template, dict):
        for key, value in template.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(template, list) and template:
        selectors = [_selector(element) for element in template]
        matches = [selector for selector in selectors if selector is not None]
        if len(matches) == len(template):
            for element, selector in zip(template, matches, strict=True):
                yield from _leaves(element, (*path, selector))
        elif matches:
            raise _MixedListError(_key(path))
        else:
            yield from _leaves(template[0], (*path, 0))
    elif isinstance(template, str) and VARIABLE_RE.search(template):
        yield path, template


class _MixedListError(Exception):
    """A template list some of whose objects say which element of the line's list to read, others not."""


def _selector(element: Any) -> Match | None:
    """The texts of a template list's object element that name the line's element to read, if any."""
    if not isinstance(element, dict):
        return None
    texts = sorted(
        (key, value.casefold())
        for key, value in element.items()
        if isinstance(value, str) and not VARIABLE_RE.search(value)
    )
    return Match(texts) if texts else None


class JsonTemplate:
    """A JSON template compiled: for each of its variable-holding values, the keys to it and either
    the variable it is alone or the format the value is read with."""

    def __init__(self, template: str, time_format: str = DEFAULT_TIME_FORMAT) -> None:
        self.template = template
        try:
            parsed = json.loads(_quote_bare_variables(template))
        except json.JSONDecodeError as error:
            raise LogFormatError(template, f"begins with '{{' but is not a JSON template: {error}") from None
        if not isinstance(parsed, dict):
            raise LogFormatError(template, "is not a JSON object template")
        self.fields: list[tuple[Path, str | CompiledFormat]] = []
        try:
            leaves = list(_leaves(parsed))
        except _MixedListError as error:
            raise LogFormatError(
                template,
                f"the list at {error} has objects with a text of their own to find the line's element by "
                '(\'"name": "User-Agent"\') and objects without: give each one',
            ) from None
        for path, value in leaves:
            lone = VARIABLE_RE.fullmatch(value)  # one variable alone: the value is its
            if lone is not None:
                self.fields.append((path, variable_name(lone.group(1) or lone.group(2))))
            else:
                self.fields.append((path, compile_format(value, time_format)))
        if not self.fields:
            raise LogFormatError(template, "has no $variable in any of its values")
        names = [name for _, field in self.fields for name in _names(field)]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise LogFormatError(template, f"reads ${repeated[0]} from two keys; keep one")
        self.variables: tuple[str, ...] = tuple(names)
        self.request_variables = REQUEST_VARIABLES.intersection(names)

    def values(self, line: str) -> dict[str, str]:
        """The variables' values in a line (those of missing or null keys left out); raises
        ``ValueError`` saying why a line is not one the template wrote."""
        if opens_json_array(line):
            raise ValueError(JSON_ARRAY_REASON)
        start = line.find("{")
        if start < 0:
            raise ValueError("not a JSON object (no '{')")
        document = _decoded_object(line[start:])
        values: dict[str, str] = {}
        for path, field in self.fields:
            found = _at(document, path, field)
            if field == "http_cookie" and isinstance(found, dict):
                found = "; ".join(f"{name}={text}" for name, text in found.items() if isinstance(text, str))
            value = _text(found)
            if value is None:
                continue
            if isinstance(field, str):
                values[field] = value
                continue
            parsed = field.parse(value)
            if parsed is None:
                raise ValueError(f"{_key(path)}: {value[:80]!r} does not match {field.format!r}")
            values.update(parsed)
        if self.request_variables and not self.request_variables.intersection(values):
            named = ", ".join(f"${name}" for name in sorted(self.request_variables))
            raise ValueError(f"not a request: none of the template's {named} is in it")
        return values


# Why a line that opens a JSON array is not read, and what to do: the export tools that print an
# array of entries (gcloud logging read --format=json, az monitor's) are read one entry a line.
JSON_ARRAY_REASON = (
    "a JSON array, not one JSON object a line (gcloud logging read --format=json prints one): write one "
    "entry a line, as a Logging sink does, or convert it: jq -c '.[]' FILE > FILE.jsonl"
)


# A line that opens an array of objects ("[", "[{...", "[ {"), not a bracketed prefix ("[2026-11-03] {...}").
_ARRAY_OPENING_RE = re.compile(r"\s*\[\s*(?:\{|$)")


def opens_json_array(line: str) -> bool:
    """Whether a line opens a JSON array of objects (a pretty-printed one's first line, or a whole one)."""
    return _ARRAY_OPENING_RE.match(line) is not None


def _names(field: str | CompiledFormat) -> tuple[str, ...]:
    return (field,) if isinstance(field, str) else field.variables


def _decoded_object(text: str) -> Any:
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        escaped = _NGINX_ESCAPES_RE.sub(_unescaped_bytes, text)
        if escaped == text:
            raise ValueError(f"not JSON: {error}") from None
        try:
            document = orjson.loads(escaped)
        except orjson.JSONDecodeError:
            raise ValueError(f"not JSON: {error}") from None
    return document  # a dict: the text begins with "{"


def _unescaped_bytes(match: re.Match[str]) -> str:
    """A run of nginx's \\xHH escapes as the JSON-escaped text of the UTF-8 bytes they stand for."""
    data = bytes.fromhex(match.group(0).replace("\\x", ""))
    return json.dumps(data.decode("utf-8", errors="replace"))[1:-1]


def _at(document: Any, path: Path, field: str | CompiledFormat = "") -> Any:
    for position, step in enumerate(path):
        if isinstance(step, Match):
            if not isinstance(document, list):
                return None
            matching = [item for item in document if _matches(item, step)]
            if len(matching) > 1:
                # A header sent twice is one, its values joined as HTTP joins them (cookies with "; ")
                texts = [_text(_at(item, path[position + 1 :])) for item in matching]
                return ("; " if field == "http_cookie" else ", ").join(text for text in texts if text is not None)
            document = matching[0] if matching else None
        elif isinstance(step, int):
            if not isinstance(document, list) or not document:
                return None
            document = document[0]
        elif isinstance(document, dict):
            document = document.get(step)
        else:
            return None
    return document


def _text(value: Any) -> str | None:
    """A value as the text a plain log would hold: strings as they are (an empty one is absent, as
    ``-`` is), numbers as written; no value for null, true or false, or objects."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return None


def _matches(item: Any, selector: Match) -> bool:
    return isinstance(item, dict) and all(
        isinstance(item.get(key), str) and item[key].casefold() == text for key, text in selector
    )


def _key(path: Path) -> str:
    return ".".join(
        "[" + ",".join(f"{key}={text}" for key, text in step) + "]" if isinstance(step, Match) else str(step)
        for step in path
    )
