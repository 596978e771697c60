"""Codecs: turn a computed value into the bytes of an output format, and back.

A *computed value* is one of ``None``, ``bool``, ``int``, ``float``, ``str``,
``datetime.datetime``, ``list`` (nested, heterogeneous; tuples are accepted and come
back as lists), ``dict`` (``str`` keys; nested), ``numpy.ndarray`` (any integer,
float, complex or bool dtype, any shape, optionally a ``numpy.ma.MaskedArray``),
:class:`~wf_widgets.outputs.results.ImageResult` and
:class:`~wf_widgets.outputs.results.ImageCollectionResult`. NumPy scalars are accepted
and encoded as the matching Python scalar.

Each codec is a module of this package exposing ``encode(value, options) -> bytes``
and ``decode(data) -> value``; ``options`` is the normalised format dict without its
``"type"`` key (``{"compression": "lz4"}`` for pyarrow, ``{}`` for json and msgpack).
Codec modules are imported lazily, on first use, so that importing
``wf_widgets.outputs`` never pays for pyarrow or rasterio.

The wire formats are specified byte for byte in ``docs/formats.md``.

Examples
--------
>>> from wf_widgets.outputs import codecs
>>> codecs.encode("json", 2)
b'2'
>>> codecs.decode("msgpack", codecs.encode("msgpack", [1, 2.5, "x"]))
[1, 2.5, 'x']
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ...errors import JobSerializationError, ValidationError
from . import geotiff, json_codec, msgpack_codec, pyarrow_codec
from ._common import KINDS, kind_of

__all__ = ["CODECS", "KINDS", "decode", "encode", "get_codec", "kind_of"]

#: Format name -> its codec module (``encode(value, options)``, ``decode(data)``).
CODECS: dict[str, ModuleType] = {
    "pyarrow": pyarrow_codec,
    "json": json_codec,
    "msgpack": msgpack_codec,
    "geotiff": geotiff,
}


def get_codec(format_name: str) -> ModuleType:
    """The codec module of a format.

    Parameters
    ----------
    format_name : str
        ``"pyarrow"``, ``"json"``, ``"msgpack"`` or ``"geotiff"`` (case-insensitive).

    Returns
    -------
    module
        A module with ``encode(value, options)`` and ``decode(data)``.

    Raises
    ------
    ValidationError
        If no codec has that name.
    """
    name = format_name.lower() if isinstance(format_name, str) else format_name
    if name not in CODECS:
        raise ValidationError.bad_value("format", format_name, CODECS, what="format")
    return CODECS[name]


def encode(format_name: str, value: Any, options: dict | None = None) -> bytes:
    """Encode a computed value in a format.

    Parameters
    ----------
    format_name : str
        The format's name (see :data:`CODEC_MODULES`).
    value : object
        A computed value (see the module docstring).
    options : dict, optional
        The normalised format options, without ``"type"``; a ``"type"`` key is ignored.

    Returns
    -------
    bytes
        The encoded value.

    Raises
    ------
    JobSerializationError
        If the format cannot represent the value (a ``set``, an arbitrary object,
        an ``int`` out of range, a non-``str`` dict key, ...).
    ValidationError
        If the format name or an option value is unknown.
    """
    codec = get_codec(format_name)
    opts = {k: v for k, v in (options or {}).items() if k != "type"}
    try:
        return codec.encode(value, opts)
    except (JobSerializationError, ValidationError):
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise JobSerializationError(
            f"Cannot encode a value of type {type(value).__name__} in the {format_name!r} format: {exc}"
        ) from exc


def decode(format_name: str, data: bytes) -> Any:
    """Decode bytes written by :func:`encode` with the same format.

    Parameters
    ----------
    format_name : str
        The format's name.
    data : bytes
        The encoded value (any bytes-like object).

    Returns
    -------
    object
        The value. For json this is the parsed JSON document (datetimes stay ISO
        strings, arrays stay nested lists); for pyarrow and msgpack it equals the
        encoded value.

    Raises
    ------
    JobSerializationError
        If the data is not a valid encoding of a value in that format.
    """
    codec = get_codec(format_name)
    try:
        return codec.decode(data)
    except (JobSerializationError, ValidationError):
        raise
    except Exception as exc:  # corrupt or foreign data: one clear error type
        raise JobSerializationError(f"Cannot decode {format_name!r} data: {type(exc).__name__}: {exc}") from exc


# --------------------------------------------------------------------------------------
# Helpers shared by the codec modules.
# --------------------------------------------------------------------------------------


