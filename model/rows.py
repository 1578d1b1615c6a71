"""Feature rows on the wire between the scorer and the endpoint, as NPY (``application/x-npy``).

NPY is the format the SageMaker containers already know for arrays (``application/x-npy``). The rows
travel as a one-dimensional structured array with one ``<f8`` field per feature, named as in
``FEATURE_NAMES``: the header then carries the feature names, so the endpoint can refuse rows
computed for other features, as it does for JSON's ``feature_names``. Against JSON, every double
arrives exactly and the endpoint reads a batch in one copy instead of parsing half a million numbers
(about 3 µs per row with orjson; the container has only the standard library's json). The price:
a row is always 432 bytes, where JSON rows of mostly zeros and ones average about 370.

Both sides use this module: the scorer's bundle and the model artifact's code ship it.
"""

from __future__ import annotations

import io
import re
from typing import Any, TypeGuard

import numpy as np

from model.features import FEATURE_COUNT, FEATURE_NAMES

NPY_CONTENT_TYPE = "application/x-npy"
JSON_CONTENT_TYPE = "application/json"  # the other request format, and the response every artifact gives
# The compact response (``model.serving``): every row's score, explanations for the flagged rows only.
SCORES_CONTENT_TYPE = "application/vnd.vedette.scores+json"
# The media-type parameter naming the feature configuration the rows were computed with
# (``application/x-npy; feature-config=<id>``): a model trained with another one refuses them. A
# parameter, because the scikit-learn container hands ``input_fn`` the request's Content-Type header
# as sent (sagemaker_containers' ``Request.content_type``) and nothing else of the request.
FEATURE_CONFIG_PARAMETER = "feature-config"
# The configuration's id: its key in the artifact's metadata.json, the exported configuration and
# every answer of the endpoint (model.artifact.feature_config_id).
FEATURE_CONFIG_ID = "feature_config_id"
_FEATURE_CONFIG_ID = re.compile(r"[0-9a-f]{16,64}")
_MAGIC_PREFIX = b"\x93NUMPY"
ROW_DTYPE = np.dtype([(name, "<f8") for name in FEATURE_NAMES])
# The limits of one request, named once for both sides: the artifact refuses more rows, the scorer's
# settings cannot ask for more, and it checks every body against both before sending it.
# 10,000 NPY rows are about 4.3 MB, within the byte limit.
MAX_ROWS_PER_REQUEST = 10_000
# InvokeEndpoint's Body: at most 6 MiB (botocore's service model, sagemaker-runtime, max 6291456).
MAX_REQUEST_BYTES = 6 * 1024 * 1024


def encode_npy(rows: np.ndarray[Any, Any]) -> bytes:
    """NPY bytes of a ``(n, FEATURE_COUNT)`` float matrix, as the structured array ``ROW_DTYPE``."""
    matrix = np.ascontiguousarray(rows, dtype="<f8")
    if matrix.ndim != 2 or matrix.shape[1] != FEATURE_COUNT:
        raise ValueError(f"rows must have shape (n, {FEATURE_COUNT}), got {matrix.shape}")
    buffer = io.BytesIO()
    np.save(buffer, matrix.view(ROW_DTYPE).reshape(len(matrix)), allow_pickle=False)
    return buffer.getvalue()


def decode_npy(body: bytes, max_rows: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The float matrix in an NPY body; raises ``ValueError`` naming what is wrong.

    Accepted: the structured array ``encode_npy`` writes (field names must be ``FEATURE_NAMES``), or
    a plain two-dimensional float array of ``FEATURE_COUNT`` columns (names not given, as JSON rows
    without ``feature_names``), of at most ``max_rows`` rows. The header is checked before anything
    is allocated, the body must hold exactly the rows it declares, and nothing is ever unpickled.
    """
    if not body.startswith(_MAGIC_PREFIX):
        raise ValueError("not an NPY array (no NPY magic string)")
    shape, fortran_order, dtype, offset = _read_header(body)
    names = dtype.names
    structured = names is not None
    if names is not None and names != FEATURE_NAMES:
        raise ValueError(
            f"feature_names: do not match the model's {FEATURE_COUNT} features; "
            f"first difference at {first_difference(list(names))}"
        )
    if structured and (dtype != ROW_DTYPE or len(shape) != 1):
        raise ValueError(f"expected a 1-D array of {FEATURE_COUNT} little-endian float64 fields, got shape {shape}")
    if not structured and (dtype.kind != "f" or len(shape) != 2 or shape[1] != FEATURE_COUNT):
        raise ValueError(f"expected rows of {FEATURE_COUNT} floats, got {dtype.str} {shape}")
    if not shape[0]:
        raise ValueError("rows: must be a non-empty list of feature rows")
    if shape[0] > max_rows:
        raise ValueError(f"rows: at most {max_rows} per request, got {shape[0]}")
    items = int(np.prod(shape))
    if len(body) - offset != items * dtype.itemsize:
        raise ValueError(
            f"the header declares {items * dtype.itemsize} bytes of data, the body holds {len(body) - offset}"
        )
    array = np.frombuffer(body, dtype=dtype, count=items, offset=offset)
    if structured:
        return array.view("<f8").reshape(shape[0], FEATURE_COUNT).copy()
    with np.errstate(over="ignore"):  # a long double beyond float64 becomes inf, refused as not finite
        return array.reshape(shape, order="F" if fortran_order else "C").astype(np.float64)


def _read_header(body: bytes) -> tuple[tuple[int, ...], bool, np.dtype[Any], int]:
    """The shape, Fortran order and dtype an NPY body declares, and where its data begins."""
    written = _ROW_HEADER.fullmatch(body, 0, 10 + int.from_bytes(body[8:10], "little"))
    if written is not None:
        return (int(written[1]),), False, ROW_DTYPE, written.end()
    stream = io.BytesIO(body)
    try:
        version = np.lib.format.read_magic(stream)  # type: ignore[no-untyped-call]
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)  # type: ignore[no-untyped-call]
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)  # type: ignore[no-untyped-call]
        else:
            raise ValueError(f"NPY format version {version} is not read here; write version 1.0 or 2.0")
    except (ValueError, OSError, EOFError, SyntaxError) as error:
        raise ValueError(f"not an NPY array: {error}") from None
    return shape, fortran_order, dtype, stream.tell()


def _row_header_pattern() -> re.Pattern[bytes]:
    """The header ``encode_npy`` writes, any row count: magic, version 1.0, the header's length, then
    the dictionary as ``np.save`` spells it for ``ROW_DTYPE``, padded with spaces to a newline."""
    empty = encode_npy(np.empty((0, FEATURE_COUNT)))
    dictionary = empty[10:].rstrip(b" \n")
    before, after = dictionary.split(b"(0,)")
    return re.compile(
        re.escape(empty[:8])
        + rb"[\x00-\xff]{2}"
        + re.escape(before)
        + rb"\((0|[1-9][0-9]{0,8}),\)"
        + re.escape(after)
        + rb" *\n"
    )


# The scorer's headers are read by matching the one encode_npy writes, the row count aside; any other
# goes through numpy's reader, which parses the dictionary as a Python literal: 0.4 ms (2.8 million
# instructions, 14 %) of a 1,000-row request in make bench's model_score.
_ROW_HEADER = _row_header_pattern()


def first_difference(names: Any) -> str:
    """Where ``names`` first differ from ``FEATURE_NAMES``, for an error message."""
    if not isinstance(names, list):
        return f"the value itself (a {type(names).__name__}, expected a list)"
    for index, (given, expected) in enumerate(zip(names, FEATURE_NAMES, strict=False)):
        if given != expected:
            return f"#{index}: {given!r}, expected {expected!r}"
    return f"the count: {len(names)} given, {FEATURE_COUNT} expected"


def with_feature_config(content_type: str, feature_config_id: str | None) -> str:
    """``content_type`` naming the feature configuration its rows were computed with, if known."""
    return f"{content_type}; {FEATURE_CONFIG_PARAMETER}={feature_config_id}" if feature_config_id else content_type


def feature_config_of(content_type: str | None) -> str | None:
    """The feature configuration a request's content type names (``with_feature_config``), if any;
    raises ``ValueError`` for a value that is not an id (hex digits, as ``feature_config_id`` makes)."""
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == FEATURE_CONFIG_PARAMETER:
            value = value.strip().strip('"')
            if not is_feature_config_id(value):
                raise ValueError(f"{FEATURE_CONFIG_PARAMETER}: 16 to 64 lowercase hex digits, not {value[:80]!r}")
            return value
    return None


def is_feature_config_id(value: object) -> TypeGuard[str]:
    """Whether ``value`` can be a feature configuration's id (it also names an S3 object: no path)."""
    return isinstance(value, str) and _FEATURE_CONFIG_ID.fullmatch(value) is not None
