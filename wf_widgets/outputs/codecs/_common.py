"""What the codecs share: the kinds of values, the "can't encode" error, datetimes, arrays."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

from ...errors import JobSerializationError
from ..results import ImageCollectionResult, ImageResult

#: Every kind :func:`kind_of` can answer, in the spelling used on the wire.
KINDS: tuple[str, ...] = (
    "Null",
    "Bool",
    "Int",
    "Float",
    "Str",
    "Datetime",
    "List",
    "Dict",
    "Array",
    "Image",
    "ImageCollection",
)

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UTC = _dt.timezone.utc
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)


def kind_of(value: Any, fmt: str | None = None) -> str:
    """The kind of a computed value, as written on the wire.

    Parameters
    ----------
    value : object
        A computed value.
    fmt : str, optional
        The format being written, named in the error.

    Returns
    -------
    str
        One of :data:`KINDS`.

    Raises
    ------
    JobSerializationError
        If the value is not a computed value.
    """
    if value is None:
        return "Null"
    if isinstance(value, (bool, np.bool_)):
        return "Bool"
    if isinstance(value, (int, np.integer)):
        return "Int"
    if isinstance(value, (float, np.floating)):
        return "Float"
    if isinstance(value, str):
        return "Str"
    if isinstance(value, (_dt.datetime, np.datetime64)):
        return "Datetime"
    if isinstance(value, (list, tuple)):
        return "List"
    if isinstance(value, dict):
        return "Dict"
    if isinstance(value, np.ndarray):
        return "Array"
    if isinstance(value, ImageResult):
        return "Image"
    if isinstance(value, ImageCollectionResult):
        return "ImageCollection"
    raise unsupported(value, fmt)


def unsupported(value: Any, fmt: str | None = None, why: str | None = None) -> JobSerializationError:
    """The error for a value a codec cannot encode.

    Parameters
    ----------
    value : object
        The offending value.
    fmt : str, optional
        The format's name.
    why : str, optional
        A more precise reason.
    """
    where = f" in the {fmt} format" if fmt else ""
    reason = why or (
        "supported values are None, bool, int, float, str, datetime, list, dict, numpy arrays, "
        "ImageResult and ImageCollectionResult"
    )
    return JobSerializationError(f"Cannot encode a value of type {type(value).__name__}{where}: {reason}")


def to_utc(value: _dt.datetime | np.datetime64) -> _dt.datetime:
    """An aware UTC datetime. Naive datetimes are taken to be in UTC already."""
    if isinstance(value, np.datetime64):
        us = int(value.astype("datetime64[us]").astype(np.int64))
        return _EPOCH + _dt.timedelta(microseconds=us)
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def datetime_to_us(value: _dt.datetime) -> int:
    """Microseconds since 1970-01-01T00:00:00Z of an aware UTC datetime (exact)."""
    delta = value - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def us_to_datetime(us: int) -> _dt.datetime:
    """The aware UTC datetime ``us`` microseconds after the Unix epoch (exact)."""
    return _EPOCH + _dt.timedelta(microseconds=int(us))


def iso_utc(value: _dt.datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix, microseconds only when non-zero."""
    return value.isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> _dt.datetime:
    """Parse what :func:`iso_utc` writes (and any ISO 8601 with an offset) to aware UTC."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return to_utc(_dt.datetime.fromisoformat(text))


def scalar(value: Any) -> Any:
    """NumPy scalars as Python scalars; datetimes as aware UTC; anything else unchanged."""
    if isinstance(value, np.generic):
        if isinstance(value, np.datetime64):
            return to_utc(value)
        return value.item()
    if isinstance(value, _dt.datetime):
        return to_utc(value)
    return value


#: numpy dtype kinds an Array may have: bool, signed, unsigned, float, complex.
ARRAY_DTYPE_KINDS = "biufc"


def prepare_array(value: np.ndarray, fmt: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Split an array into C-contiguous little-endian data and an optional mask.

    Parameters
    ----------
    value : numpy.ndarray
        A plain or masked array.
    fmt : str
        The format's name, for error messages.

    Returns
    -------
    data : numpy.ndarray
        C-contiguous, little-endian (or byte-order-free) data, same shape. No copy
        when the input already is.
    mask : numpy.ndarray or None
        A C-contiguous bool array of the same shape (True = masked) when ``value``
        is a masked array, else None.
    """
    if value.dtype.kind not in ARRAY_DTYPE_KINDS or value.dtype.itemsize > (16 if value.dtype.kind == "c" else 8):
        raise unsupported(
            value,
            fmt,
            "arrays must have a bool, integer, float (up to 64-bit) or complex (up to 128-bit) dtype, "
            f"not {value.dtype}",
        )
    mask = None
    if isinstance(value, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(value)
        if not mask.flags.c_contiguous:
            mask = mask.copy(order="C")
        data = value.data
    else:
        data = value
    if data.dtype.byteorder == ">":
        data = data.astype(data.dtype.newbyteorder("<"))
    if not data.flags.c_contiguous:
        data = data.copy(order="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)
    return data, mask


def dtype_str(dtype: np.dtype) -> str:
    """The wire dtype string: numpy's ``dtype.str`` with little-endian byte order."""
    return dtype.newbyteorder("<").str if dtype.byteorder == ">" else dtype.str


def parse_dtype(text: str) -> np.dtype:
    """The numpy dtype of a wire dtype string, checked against the allowed kinds."""
    dtype = np.dtype(text)
    if (
        dtype.kind not in ARRAY_DTYPE_KINDS
        or dtype.byteorder == ">"
        or dtype.itemsize > (16 if dtype.kind == "c" else 8)
    ):
        raise JobSerializationError(f"Unsupported array dtype {text!r} in encoded data")
    return dtype


def make_array(data: np.ndarray, mask: np.ndarray | None, masked: bool) -> np.ndarray:
    """A plain or masked array from decoded data and mask."""
    if not masked:
        return data
    if mask is None:
        mask = np.zeros(data.shape, dtype=bool)
    return np.ma.MaskedArray(data, mask=mask, copy=False)
