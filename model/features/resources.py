"""The resource's own shape: length, depth, parameters, character mix, entropy, attack fragments.

These columns need no state and no vocabulary, so ``resource_shapes`` computes them for a whole
batch at once: each distinct resource once, and the character counts of ASCII resources (nearly
all: URLs are percent-encoded) together with numpy.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote_plus

import numpy as np

from model.features.events import WRITE_METHODS

SHAPE_COLUMNS = (
    "resource_missing",
    "log_resource_length",
    "resource_path_depth",
    "resource_param_count",
    "log_resource_max_value_length",
    "resource_digit_ratio",
    "resource_nonalnum_ratio",
    "resource_special_ratio",
    "resource_value_nonalnum_ratio",
    "resource_entropy",
    "resource_suspicious_tokens",
)
_SHAPE_WIDTH = len(SHAPE_COLUMNS)
_COLUMN = {name: index for index, name in enumerate(SHAPE_COLUMNS)}

# Fragments seen in injection, traversal and scripting attacks, matched on the lower-cased resource
# (in this order: where several match at one position, the first listed wins).
_SUSPICIOUS_LITERALS = (
    *("sleep(", "benchmark(", "char(", "concat(", "<script", "script>", "javascript:", "onerror", "onload"),
    *("alert(", "eval(", "document.", "<img", "<iframe", "<svg", "../", "..\\", "/etc/", "passwd", "cmd"),
    *("%00", "\x00"),
)
# "or 1=1": the "or" must start a word, which a lookbehind after its first letter checks (\b before
# a letter: no word character before it).
_SUSPICIOUS_TAUTOLOGY = r"o(?<!\w.)r\b\s*\d+\s*="
_SUSPICIOUS_SYMBOLS = ("--", "/*", "*/", ";", "'", '"', "<", ">", "||", "&&", "${", "{{")
_SUSPICIOUS_RE = re.compile(
    "|".join([*map(re.escape, _SUSPICIOUS_LITERALS), _SUSPICIOUS_TAUTOLOGY, *map(re.escape, _SUSPICIOUS_SYMBOLS)])
)
# An opaque token (a base64url code in an e-mail's confirmation or reset link, a signature, an id):
# a run of letters, digits, "-" and "_" this long is no text, and its fragments are chance. ASP.NET
# Identity's codes hold "--" (an SQL comment) about once in ten, and "cmd" came in one: on a new-user
# trial of an IIS portal's log, 32 people's sessions read "attack-like fragments in requests" for the
# links the portal had mailed them, and one alerted. Attack fragments hold a quote, a bracket, a
# slash or a space, none of which such a run has, so they stay whole.
_OPAQUE_TOKEN_RE = re.compile(r"[a-z0-9_-]{24,}")
# SQL statements, matched on the resource URL-decoded (twice at most, for a double encoding) and then
# lower-cased: a keyword counts only where SQL would follow it ("union select", "drop table",
# "update users set"), after spaces, comments or parentheses. Alone, the words are everyday words of
# paths and queries ("/cart/update", "?updated_since=", a news slug "...-union-library-expansion", a
# search for "zero drop", CSIC's own "modo=insertar"), and a hyphen or an underscore joins words,
# not SQL. A comment is matched so that a run of them splits one way only: a pattern that can split
# it many ways takes exponential time on a crafted resource.
_SQL_GAP = r"(?:\s|/\*[^*]*\*+(?:[^/*][^*]*\*+)*/|[()])+"
_SQL_STATEMENTS = (
    rf"union{_SQL_GAP}(?:(?:all|distinct){_SQL_GAP})?select\b",
    # (a column list between: "select * from", "select name, password from"; not "select from our range")
    rf"select{_SQL_GAP}(?:\*|[\w.`]+(?:\s*,\s*[\w.`]+)*){_SQL_GAP}from\b",
    rf"insert{_SQL_GAP}into\b",
    rf"(?:drop|truncate|alter|create){_SQL_GAP}(?:table|database|schema)\b",
    rf"delete{_SQL_GAP}from\b",
    rf"update{_SQL_GAP}[\w.`]+{_SQL_GAP}set\b",
    # Stored procedures and server-side includes ("exec xp_cmdshell", "<!--#exec cmd=")
    rf"exec(?:ute)?\s*\(|exec{_SQL_GAP}(?:xp_|sp_|master\b|cmd\b)",
    rf"waitfor{_SQL_GAP}delay\b",
)
_SQL_RE = re.compile(r"\b(?:" + "|".join(_SQL_STATEMENTS) + ")")


def _decoded(text: str) -> str:
    """``text`` URL-decoded until it stops changing (twice at most), lower-cased."""
    for _ in range(2):
        decoded = unquote_plus(text)
        if decoded == text:
            break
        text = decoded
    return text.lower()


_SPECIAL_CHARS = frozenset("'\"<>();|`{}$\\*!%[]^~,")
_ASCII_ALNUM_PLUS = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+"
# Files a page or a player fetches by itself: styles, scripts, images, fonts, and the playlists and
# segments of streamed video and audio (HLS, DASH), which a player requests every few seconds (the
# import reads them as ``static_asset``; until 2026-12-06 the features read a player's segments as
# pages, and on a new-user trial of a video-course site's log, apps' players made 35 of 62 people's
# alerts, "machine-regular pauses between pages").
_STATIC_RE = re.compile(
    r"\.(?:css|js|mjs|png|jpe?g|gif|svg|ico|webp|woff2?|ttf|eot|map|m3u8|mpd|ts|m4s|m4v|m4a|mp4|webm|aac|vtt)"
    r"(?:[?#]|$)",
    re.IGNORECASE,
)
# ASP.NET's bundles of scripts and styles have no extension (``/bundles/jquery``, ``/Content/css``):
# their one query parameter, the bundle's SHA-256 as ``UrlTokenEncode`` writes it (``v=``, 43
# base64url characters and the count of padding cut, "1"), says what they are. Read as pages, a
# patient portal's every page was four (a new-user trial).
BUNDLE_QUERY_RE = re.compile(r"v=[A-Za-z0-9_-]{43}1")
# PHP scripts that serve a page's styles, scripts, images and fonts, the file named after them
# (Moodle's ``/theme/styles.php/boost/1700000000/all``, ``/theme/image.php/...``,
# ``/lib/javascript.php/...``, ``/theme/yui_combo.php?...``; WordPress's ``load-scripts.php``): read as
# pages, a new-user trial of a Moodle log counted 190,000 page views and 12,700 assets.
_ASSET_SCRIPT_RE = re.compile(
    r"/(?:styles|javascript|image|font|yui_combo|requirejs|load-styles|load-scripts)\.php(?:/|$)", re.IGNORECASE
)
_DIGITS_RE = re.compile(r"\d+")
# The last segment of a path that has the service send a one-time code (a text message, a call, an
# e-mail) to verify a phone or an address, or as a second factor (``sends_code``), wherever it is.
CODE_SENT_SEGMENTS = (
    r"otps?|send[-_]?otp|request[-_]?otp|resend[-_]?otp|send[-_]?code|request[-_]?code|resend[-_]?code"
    r"|send[-_]?sms"
)
# Those a code's or an account's path must come before (``/auth/sms``, ``/mfa/sms/send``; a
# verification started, Auth0's ``/passwordless/start``): elsewhere they send other things
# (``/orders/123/resend``, an invitation resent, ``/me/notifications/sms``, a campaign's
# ``/sms/campaigns/send``, a login flow started).
_CODE_STEP_SEGMENTS = r"send|resend|sms"
_CODE_CONTEXT_SEGMENTS = (
    r"auth|login|signin|signup|register|otps?|mfa|2fa|verify|verification|verifications|phone|passwordless|codes?"
)
_VERIFICATION_SEGMENTS = r"otps?|verify|verification|verifications|phone|passwordless"
_SCRIPT_EXTENSION = r"(?:\.(?:php|aspx?|jsp|do|action|json))?"
# (the pattern in the syntax of Python's re and RE2's both: the console finds those requests of a surge
# in the archive with DuckDB's regexp_matches)
CODE_SENT_PATTERN = (
    rf"/(?:{CODE_SENT_SEGMENTS}){_SCRIPT_EXTENSION}/?$"
    rf"|/(?:{_CODE_CONTEXT_SEGMENTS})/(?:[^/]+/)?(?:{_CODE_STEP_SEGMENTS}){_SCRIPT_EXTENSION}/?$"
    rf"|/(?:{_VERIFICATION_SEGMENTS})/(?:[^/]+/)?start/?$"
    r"|:sendverificationcode$"
)
_CODE_SENT_RE = re.compile(CODE_SENT_PATTERN, re.IGNORECASE)


# count * log2(count) for the character counts of any resource the event contract admits.
_COUNT_LOG_COUNT = np.array([0.0] + [count * math.log2(count) for count in range(1, 4097)])
# Character classes of the 128 ASCII codes, as the columns of a histogram of codes to add up (in
# integers: a product with weights first made a float copy of the whole histogram, three times).
_ASCII_DIGITS = np.array([code for code in range(128) if chr(code).isdigit()])
_ASCII_ALNUMS = np.array([code for code in range(128) if chr(code).isalnum()])
_ASCII_SPECIALS = np.array([code for code in range(128) if chr(code) in _SPECIAL_CHARS])


def _entropy(text: str) -> float:
    """Shannon entropy of the characters, bits: log2(n) - sum(c * log2(c)) / n over character counts."""
    total = len(text)
    counts = Counter(text).values()
    weighted = sum(count * math.log2(count) for count in counts)
    return max(0.0, math.log2(total) - weighted / total)


def is_page_asset(resource: Any, method: Any = None) -> bool:
    """Whether a request fetches a page asset (style, script, image, font) rather than a page or API:
    not what is written to such a name (``method`` POST and the like: Shopify's cart takes its adds at
    ``POST /cart/add.js``)."""
    if isinstance(method, str) and method.lower() in WRITE_METHODS:
        return False
    if not isinstance(resource, str):
        return False
    path, _, query = resource.partition("?")
    return (
        _STATIC_RE.search(path) is not None
        or _ASSET_SCRIPT_RE.search(path) is not None
        or (query != "" and BUNDLE_QUERY_RE.fullmatch(query) is not None)
    )


def sends_code(resource: Any, method: Any = None) -> bool:
    """Whether a request has the service send a one-time code, what SMS pumping asks for by the
    thousand through many addresses (``model.waves.CODES_SENT``): a POST or PUT (or a request of a
    log without methods) whose path's last segment says so (an app's ``/v1/auth/otp``, ``/send-otp``,
    ``/resend-code``), a send or an SMS under a code's or an account's path (``/auth/sms``, Stytch's
    ``/v1/otps/sms/send``, ``/auth/mfa/sms/send``, Auth0's ``/passwordless/start``), or Firebase's
    ``accounts:sendVerificationCode``. Not the code checked (``/otp/verify``), nor its form fetched
    (a GET), nor an order, an invitation or a campaign resent or sent elsewhere."""
    if isinstance(method, str) and method.upper() not in ("POST", "PUT"):
        return False
    if not isinstance(resource, str):
        return False
    path = resource.partition("?")[0]
    found = _CODE_SENT_RE.search(path)
    # (at the path's very end: Python's $ matches before a last newline too, RE2's does not)
    return found is not None and found.end() == len(path)


def request_method(event: Any) -> Any:
    """The HTTP method a web request's event keeps in its properties (None for other events)."""
    properties = event.get("properties") if isinstance(event, dict) else getattr(event, "properties", None)
    return properties.get("method") if isinstance(properties, dict) else None


def resource_template(resource: str) -> str:
    """The resource's path with digit runs collapsed: ``/items/123?x=1`` -> ``/items/0``."""
    path = resource.split("?", 1)[0]
    return _DIGITS_RE.sub("0", path)


def resource_shape(resource: str | None) -> list[float]:
    """The shape columns of one resource, in ``SHAPE_COLUMNS`` order."""
    return [float(value) for value in resource_shapes([resource])[0]]


def resource_shapes(resources: Sequence[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """``resource_shape`` of many resources at once: an array of ``_SHAPE_WIDTH`` columns per resource.

    Each distinct resource is shaped once, and the character counts and entropies of ASCII resources
    (nearly all: URLs are percent-encoded) are computed together with numpy; a resource's shape
    does not depend on what it is computed with.
    """
    slots = [0] * len(resources)  # 0: missing; n: the n-th distinct resource
    distinct: dict[str, int] = {}
    for position, resource in enumerate(resources):
        if isinstance(resource, str) and resource:
            slot = distinct.get(resource)
            if slot is None:
                slot = distinct[resource] = len(distinct) + 1
            slots[position] = slot
    table = np.zeros((len(distinct) + 1, _SHAPE_WIDTH))
    table[0, _COLUMN["resource_missing"]] = 1.0
    if distinct:
        table[1:] = _text_shapes([resource.lower() for resource in distinct])
    return table[slots]


def _text_shapes(texts: list[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
    lengths = np.fromiter(map(len, texts), dtype=np.float64, count=len(texts))
    parts = np.array([_query_shape(text) for text in texts], dtype=np.float64).reshape(len(texts), 6)
    ascii_rows = [row for row, text in enumerate(texts) if text.isascii()]
    if len(ascii_rows) == len(texts):
        counts = _ascii_char_counts(texts, lengths)
    else:
        counts = np.array([_char_counts(text) for text in texts], dtype=np.float64).reshape(len(texts), 4)
        if ascii_rows:
            counts[ascii_rows] = _ascii_char_counts([texts[row] for row in ascii_rows], lengths[ascii_rows])
    shapes = np.zeros((len(texts), _SHAPE_WIDTH))
    shapes[:, _COLUMN["log_resource_length"]] = parts[:, 0]
    shapes[:, _COLUMN["resource_path_depth"]] = parts[:, 1]
    shapes[:, _COLUMN["resource_param_count"]] = parts[:, 2]
    shapes[:, _COLUMN["log_resource_max_value_length"]] = parts[:, 3]
    shapes[:, _COLUMN["resource_value_nonalnum_ratio"]] = parts[:, 4]
    shapes[:, _COLUMN["resource_suspicious_tokens"]] = parts[:, 5]
    shapes[:, _COLUMN["resource_digit_ratio"]] = counts[:, 0] / lengths
    shapes[:, _COLUMN["resource_nonalnum_ratio"]] = counts[:, 1] / lengths
    shapes[:, _COLUMN["resource_special_ratio"]] = counts[:, 2] / lengths
    shapes[:, _COLUMN["resource_entropy"]] = counts[:, 3]
    return shapes


def suspicious_tokens(text: str) -> int:
    """The ``resource_suspicious_tokens`` of a lower-cased resource: attack fragments (outside opaque
    tokens, ``_OPAQUE_TOKEN_RE``) and SQL statements."""
    fragments = len(_SUSPICIOUS_RE.findall(_OPAQUE_TOKEN_RE.sub("_", text)))
    return fragments + len(_SQL_RE.findall(_decoded(text)))


def _query_shape(text: str) -> tuple[float, int, int, float, float, int]:
    """Log length, path depth, parameter count, log longest value, share of value characters that
    are symbols, and suspicious tokens of a lower-cased resource."""
    path, _, query = text.partition("?")
    log_length = math.log1p(len(text))
    suspicious = suspicious_tokens(text)
    if not query:
        return log_length, path.count("/"), 0, 0.0, 0.0, suspicious
    values = [pair.partition("=")[2] for pair in query.split("&") if pair]
    joined = "".join(values)
    if not joined:
        return log_length, path.count("/"), len(values), 0.0, 0.0, suspicious
    # "+" encodes a space in query values: not a symbol there.
    if joined.isascii():
        symbols = len(joined.encode("ascii").translate(None, _ASCII_ALNUM_PLUS))
    else:
        symbols = len(joined) - sum(map(str.isalnum, joined)) - joined.count("+")
    longest = math.log1p(max(map(len, values)))
    return log_length, path.count("/"), len(values), longest, symbols / len(joined), suspicious


def _char_counts(text: str) -> tuple[int, int, int, float]:
    """Digits, characters that are not alphanumeric, special characters, and entropy of any text."""
    nonalnum = len(text) - sum(map(str.isalnum, text))
    return sum(map(str.isdigit, text)), nonalnum, sum(map(_SPECIAL_CHARS.__contains__, text)), _entropy(text)


def _ascii_char_counts(texts: list[str], lengths: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """``_char_counts`` of ASCII texts, all at once: a histogram of character codes per text."""
    codes = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8)
    owner = np.repeat(np.arange(len(texts)), lengths.astype(np.intp))
    histogram = np.bincount(owner * 128 + codes, minlength=len(texts) * 128).reshape(len(texts), 128)
    counts = np.empty((len(texts), 4))
    counts[:, 0] = histogram[:, _ASCII_DIGITS].sum(axis=1)
    counts[:, 1] = lengths - histogram[:, _ASCII_ALNUMS].sum(axis=1)
    counts[:, 2] = histogram[:, _ASCII_SPECIALS].sum(axis=1)
    weighted = _COUNT_LOG_COUNT[np.minimum(histogram, len(_COUNT_LOG_COUNT) - 1)].sum(axis=1)
    # A character repeated beyond the table needs a text longer than any resource the contract admits.
    for row in np.flatnonzero(lengths >= len(_COUNT_LOG_COUNT)):
        present = histogram[row][histogram[row] > 0]
        weighted[row] = float(np.sum(present * np.log2(present)))
    counts[:, 3] = np.maximum(0.0, np.log2(lengths) - weighted / lengths)
    return counts
