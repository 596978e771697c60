"""The ``msgpack`` format: plain MessagePack that any msgpack library can decode.

* ``None``, ``bool``, ``int`` (-2**63 .. 2**64-1), ``float`` (always float 64),
  ``str`` (str family), lists (tuples) and dicts as msgpack nil, bool, int, float64,
  str, array and map;
* datetimes as the msgpack Timestamp extension (type -1), in UTC;
* numpy arrays as the map ``{"__ndarray__": true, "dtype": "<f8", "shape": [...],
  "data": <bin: the values, little-endian, C order>, "mask": <bin: one byte 0/1 per
  value, C order; only for masked arrays>}``;
* ImageResult as ``{"__image__": true, "ndarray": <array map>, "properties": map,
  "bandinfo": map, "geocontext": map}``; ImageCollectionResult the same with the key
  ``"__imagecollection__"`` and ``properties`` an array of maps.

Maps whose ``"__ndarray__"``, ``"__image__"`` or ``"__imagecollection__"`` key is
``true`` are reserved for these values. The full specification is in
``docs/formats.md``.

:func:`encode` refuses what :func:`decode` could not give back, as the other codecs do:
dicts with keys that are not ``str`` (msgpack would write them, but a tuple key comes back
as an unhashable list), dicts of the reserved shape, and ``bytes`` (not a computed value).

Arrays are packed straight from the numpy buffer (no intermediate ``bytes``) and
unpacked with one copy of the values, so that decoded arrays are writeable (a large
top-level array is read straight from the input, skipping the ``bytes`` object
``msgpack.unpackb`` would make of its ``bin``).
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import msgpack
import numpy as np

from ...errors import JobSerializationError, ValidationError
from ..results import ImageCollectionResult, ImageResult
from ._common import UTC, dtype_str, make_array, parse_dtype, prepare_array, to_utc, unsupported

__all__ = ["decode", "encode"]

FORMAT_NAME = "msgpack"
NDARRAY_KEY = "__ndarray__"
IMAGE_KEY = "__image__"
COLLECTION_KEY = "__imagecollection__"
RESERVED_KEYS = (NDARRAY_KEY, IMAGE_KEY, COLLECTION_KEY)


def _array_map(value: np.ndarray) -> dict[str, Any]:
    data, mask = prepare_array(value, FORMAT_NAME)
    out: dict[str, Any] = {
        NDARRAY_KEY: True,
        "dtype": dtype_str(data.dtype),
        "shape": list(data.shape),
        # A 1-D uint8 view: msgpack packs any buffer as bin without copying it first.
        "data": memoryview(data.reshape(-1).view(np.uint8)),
    }
    if mask is not None:
        out["mask"] = memoryview(mask.reshape(-1).view(np.uint8))
    return out


_CONTAINERS = (dict, list, tuple, bytes, bytearray, memoryview)


def _check_tree(value: Any) -> None:
    """Refuse what msgpack would write but :func:`decode` could not give back (see the module doc)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise unsupported(value, FORMAT_NAME, f"dict keys must be str, got {type(key).__name__} key {key!r}")
                if key in RESERVED_KEYS and isinstance(child, (bool, np.bool_)) and child:
                    raise unsupported(value, FORMAT_NAME, f"a dict whose {key!r} is True is reserved for arrays and "
                                                          "images (see docs/formats.md)")
                if isinstance(child, _CONTAINERS):
                    stack.append(child)
        elif isinstance(item, (list, tuple)):
            stack.extend(child for child in item if isinstance(child, _CONTAINERS))
        elif isinstance(item, (bytes, bytearray, memoryview)):
            raise unsupported(item, FORMAT_NAME, "bytes are not a computed value")


def _default(value: Any) -> Any:
    """msgpack's hook for everything it does not pack natively."""
    if isinstance(value, np.ndarray):
        return _array_map(value)
    if isinstance(value, np.generic):
        if isinstance(value, np.datetime64):
            return _default(to_utc(value))
        item = value.item()
        if isinstance(item, (bool, int, float)):
            return item
        raise unsupported(value, FORMAT_NAME, f"numpy scalars of dtype {value.dtype} are not supported")
    if isinstance(value, _dt.datetime):
        # Naive datetimes are taken as UTC; subclasses become plain datetimes.
        d = to_utc(value)
        return _dt.datetime(d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond, tzinfo=UTC)
    if isinstance(value, int):  # only reached when out of msgpack's range
        raise unsupported(value, FORMAT_NAME, f"int {value} is outside msgpack's range -2**63 .. 2**64-1")
    if isinstance(value, (ImageResult, ImageCollectionResult)):
        _check_tree([value.properties, dict(value.bandinfo), value.geocontext])
        return {
            IMAGE_KEY if isinstance(value, ImageResult) else COLLECTION_KEY: True,
            "ndarray": _array_map(np.ma.asarray(value.ndarray)),
            "properties": value.properties,
            "bandinfo": dict(value.bandinfo),
            "geocontext": value.geocontext,
        }
    raise unsupported(value, FORMAT_NAME)


def encode(value: Any, options: dict) -> bytes:
    """Encode a computed value as MessagePack.

    Parameters
    ----------
    value : object
        A computed value.
    options : dict
        Must be empty (the msgpack format has no options).

    Returns
    -------
    bytes
        One msgpack object.
    """
    if options:
        key = next(iter(options))
        raise ValidationError(
            f"Unknown option {key!r} for format 'msgpack'; it has no options", field=f"format.{key}", value=key, allowed=()
        )
    if isinstance(value, np.ndarray):  # fast path for the common large case
        value = _array_map(value)
    else:
        _check_tree(value)
    try:
        return msgpack.packb(value, default=_default, use_bin_type=True, datetime=True)
    except JobSerializationError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise unsupported(value, FORMAT_NAME, str(exc)) from exc


def _decode_array(m: dict) -> np.ndarray:
    dtype = parse_dtype(m["dtype"])
    shape = tuple(int(s) for s in m["shape"])
    n = math.prod(shape)
    raw = m["data"]
    if len(raw) != n * dtype.itemsize:
        raise JobSerializationError(
            f"ndarray data has {len(raw)} bytes; dtype {dtype.str} and shape {list(shape)} need {n * dtype.itemsize}"
        )
    # One copy out of the immutable bin payload, so that the array is writeable.
    data = np.frombuffer(raw, dtype=dtype).copy().reshape(shape)
    mask = None
    if m.get("mask") is not None:
        rawmask = m["mask"]
        if len(rawmask) != n:
            raise JobSerializationError(f"ndarray mask has {len(rawmask)} bytes, expected {n}")
        mask = np.frombuffer(rawmask, dtype=np.uint8).astype(bool).reshape(shape)
    return make_array(data, mask, "mask" in m)


def _object_hook(m: dict) -> Any:
    if m.get(NDARRAY_KEY) is True:
        return _decode_array(m)
    is_image = m.get(IMAGE_KEY) is True
    if is_image or m.get(COLLECTION_KEY) is True:
        cls = ImageResult if is_image else ImageCollectionResult
        return cls(np.ma.asarray(m["ndarray"]), m.get("properties"), m.get("bandinfo"), m.get("geocontext"))
    return m


def _read_uint(buf: memoryview, pos: int, size: int) -> tuple[int, int]:
    return int.from_bytes(buf[pos : pos + size], "big"), pos + size


def _fast_array(buf: memoryview) -> np.ndarray | None:
    """Decode a top-level array map with a single copy of its values, or None.

    ``msgpack.unpackb`` copies a ``bin`` payload into a new ``bytes`` object, and a
    writeable array needs a second copy. This reads the map that :func:`encode`
    writes for a top-level array (a fixmap of fixstr keys with true, a str, an array
    of ints and bins as values) directly, and copies the values once. Anything else
    returns None and goes through ``msgpack.unpackb``.
    """
    end = len(buf)
    if end < 1 or not 0x84 <= buf[0] <= 0x85:
        return None
    pos = 1
    fields: dict[str, Any] = {}
    for _ in range(buf[0] & 0x0F):
        if pos >= end or not 0xA0 <= buf[pos] <= 0xBF:
            return None
        klen = buf[pos] & 0x1F
        key = bytes(buf[pos + 1 : pos + 1 + klen]).decode("utf-8", "replace")
        pos += 1 + klen
        if pos >= end:
            return None
        tag = buf[pos]
        if key == NDARRAY_KEY:
            if tag != 0xC3:
                return None
            fields[key] = True
            pos += 1
        elif key == "dtype":
            if not 0xA0 <= tag <= 0xBF:
                return None
            slen = tag & 0x1F
            fields[key] = bytes(buf[pos + 1 : pos + 1 + slen]).decode("ascii", "replace")
            pos += 1 + slen
        elif key == "shape":
            if 0x90 <= tag <= 0x9F:
                count, pos = tag & 0x0F, pos + 1
            elif tag == 0xDC:
                count, pos = _read_uint(buf, pos + 1, 2)
            else:
                return None
            shape = []
            for _ in range(count):
                if pos >= end:
                    return None
                t = buf[pos]
                if t <= 0x7F:
                    shape.append(t)
                    pos += 1
                elif 0xCC <= t <= 0xCF:
                    v, pos = _read_uint(buf, pos + 1, 1 << (t - 0xCC))
                    shape.append(v)
                else:
                    return None
            fields[key] = shape
        elif key in ("data", "mask"):
            if not 0xC4 <= tag <= 0xC6:
                return None
            blen, pos = _read_uint(buf, pos + 1, 1 << (tag - 0xC4))
            fields[key] = (pos, blen)
            pos += blen
        else:
            return None
    if pos != end or fields.get(NDARRAY_KEY) is not True or not {"dtype", "shape", "data"} <= set(fields):
        return None
    dtype = parse_dtype(fields["dtype"])
    shape = tuple(fields["shape"])
    n = math.prod(shape)
    start, blen = fields["data"]
    if blen != n * dtype.itemsize:
        return None
    data = np.frombuffer(buf, dtype=dtype, count=n, offset=start).reshape(shape).copy()
    mask = None
    if "mask" in fields:
        start, mlen = fields["mask"]
        if mlen != n:
            return None
        mask = np.frombuffer(buf, dtype=np.uint8, count=n, offset=start).astype(bool).reshape(shape)
    return make_array(data, mask, "mask" in fields)


def decode(data: bytes) -> Any:
    """Decode MessagePack written by :func:`encode`.

    Parameters
    ----------
    data : bytes-like
        One msgpack object.

    Returns
    -------
    object
        The value: Python scalars, lists, dicts, aware UTC datetimes, numpy arrays
        (masked when a ``"mask"`` is present), ImageResult, ImageCollectionResult.
    """
    buf = memoryview(data).cast("B")
    if buf.nbytes > 65536:  # worth the fast path: a large top-level array
        arr = _fast_array(buf)
        if arr is not None:
            return arr
    return msgpack.unpackb(data, raw=False, timestamp=3, strict_map_key=False, object_hook=_object_hook)
