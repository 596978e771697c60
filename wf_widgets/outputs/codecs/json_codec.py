"""The ``json`` format: compact UTF-8 JSON (RFC 8259).

The encoding is ``json.dumps(value, separators=(",", ":"), ensure_ascii=False,
allow_nan=False)`` after mapping the value onto JSON (see ``docs/formats.md``):

* ``None``, ``bool``, ``int``, ``str``, lists (tuples) and dicts (``str`` keys) as
  themselves; ``2`` encodes to exactly ``b'2'``;
* finite floats as JSON numbers (Python ``repr``: ``2.0``, ``1e+20``, ``-0.0``);
  NaN and +/-infinity as ``null``;
* datetimes as ISO 8601 strings in UTC with a ``Z`` suffix
  (``"2020-01-01T00:00:00Z"``, ``"2020-01-01T00:00:00.250000Z"``);
* numpy arrays as nested lists in C order (a 0-d array as its scalar), masked and
  non-finite elements as ``null``; complex arrays are not representable;
* ImageResult as ``{"ndarray": ..., "properties": ..., "bandinfo": ..., "geocontext":
  ...}``; ImageCollectionResult the same with ``properties`` a list.

The format is one-way: :func:`decode` returns the parsed JSON document, which is what a
user gets from a download (datetimes stay strings, arrays stay lists, results stay
dicts), not the computed value.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from typing import Any

import numpy as np

from ...errors import ValidationError
from ..results import ImageCollectionResult, ImageResult
from ._common import iso_utc, prepare_array, scalar, unsupported

__all__ = ["decode", "encode"]

FORMAT_NAME = "json"


def _array(value: np.ndarray) -> Any:
    data, mask = prepare_array(value, FORMAT_NAME)
    if data.dtype.kind == "c":
        raise unsupported(value, FORMAT_NAME, "complex arrays have no JSON representation")
    nulls = None
    if data.dtype.kind == "f":
        nonfinite = ~np.isfinite(data)
        if nonfinite.any():
            nulls = nonfinite
    if mask is not None and mask.any():
        nulls = mask if nulls is None else (nulls | mask)
    if nulls is None:
        return data.tolist()
    obj = data.astype(object)
    obj[nulls] = None
    return obj.tolist()


def _jsonable(value: Any) -> Any:
    value = scalar(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, _dt.datetime):
        return iso_utc(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise unsupported(value, FORMAT_NAME, f"dict keys must be str, got {type(k).__name__} key {k!r}")
            out[k] = _jsonable(v)
        return out
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, (ImageResult, ImageCollectionResult)):
        return {
            "ndarray": _array(np.ma.asarray(value.ndarray)),
            "properties": _jsonable(value.properties),
            "bandinfo": _jsonable(dict(value.bandinfo)),
            "geocontext": _jsonable(value.geocontext),
        }
    raise unsupported(value, FORMAT_NAME)


def encode(value: Any, options: dict) -> bytes:
    """Encode a computed value as compact UTF-8 JSON.

    Parameters
    ----------
    value : object
        A computed value.
    options : dict
        Must be empty (the json format has no options).

    Returns
    -------
    bytes
        UTF-8 JSON without insignificant whitespace (``2`` -> ``b'2'``).
    """
    if options:
        key = next(iter(options))
        raise ValidationError(
            f"Unknown option {key!r} for format 'json'; it has no options", field=f"format.{key}", value=key, allowed=()
        )
    return json.dumps(_jsonable(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def decode(data: bytes) -> Any:
    """Parse JSON bytes (what a user would get from a download).

    Parameters
    ----------
    data : bytes-like
        UTF-8 JSON.

    Returns
    -------
    object
        The JSON document as Python (``dict``, ``list``, ``str``, ``int``, ``float``,
        ``bool``, ``None``). Datetimes come back as their ISO strings, arrays and
        images as nested lists and dicts.
    """
    if not isinstance(data, (bytes, bytearray, str)):
        data = bytes(data)
    return json.loads(data)
