"""The ``pyarrow`` format: one Arrow IPC *stream* per value.

Any Arrow implementation can read the bytes (``pyarrow.ipc.open_stream``, arrow-rs
``StreamReader``, ``apache-arrow`` ``RecordBatchStreamReader`` in JavaScript,
``arrow::ipc::RecordBatchStreamReader`` in C++, ...). Nothing is pickled.

Layout (version 1; the full specification is ``docs/formats.md``):

* schema metadata ``wf_widgets.kind`` (``Null``, ``Bool``, ``Int``, ``Float``,
  ``Str``, ``Datetime``, ``List``, ``Dict``, ``Array``, ``Image``,
  ``ImageCollection``) and ``wf_widgets.version`` (``"1"``);
* scalars: one record batch with one row and one column ``value`` of type null,
  bool, int64, float64, utf8 or timestamp[us, tz=UTC];
* List and Dict: a *node table*, one row per node of the tree in depth-first
  pre-order, with columns ``parent`` (int64, row of the parent, -1 for the root),
  ``key`` (utf8, the key in a parent dict, else null), ``kind`` (utf8) and one typed
  value column per scalar kind (``bool``, ``int``, ``float``, ``str``,
  ``datetime``) plus ``blob`` (large_binary: an embedded stream of this format, for
  arrays and image results inside containers);
* Array, Image, ImageCollection: one column ``data`` holding the C-order flattened
  values (Arrow's own type for bool/int/float dtypes, fixed_size_binary for complex),
  with a validity bitmap where the numpy mask is set, and schema metadata
  ``wf_widgets.dtype``, ``wf_widgets.shape``, ``wf_widgets.masked`` (and for images
  ``wf_widgets.properties``, ``wf_widgets.bandinfo``, ``wf_widgets.geocontext`` as
  tagged JSON).

Arrays are written and read without copying the values: the writer wraps the numpy
buffer, and the reader views the decompressed Arrow buffer with ``np.frombuffer``
(the decompressed buffers belong to the result, so the arrays are writeable).
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import math
from typing import Any

import numpy as np
import pyarrow as pa

from ...errors import JobSerializationError, ValidationError
from ..results import ImageCollectionResult, ImageResult
from ._common import (
    INT64_MAX,
    INT64_MIN,
    datetime_to_us,
    dtype_str,
    iso_utc,
    kind_of,
    make_array,
    parse_dtype,
    parse_iso,
    prepare_array,
    scalar,
    unsupported,
    us_to_datetime,
)

__all__ = ["COMPRESSIONS", "FORMAT_VERSION", "decode", "encode", "tjson_dumps", "tjson_loads"]

FORMAT_NAME = "pyarrow"
#: Value of the ``wf_widgets.version`` schema metadata key.
FORMAT_VERSION = "1"
#: Allowed values of the ``compression`` option (the first is the default).
COMPRESSIONS = ("lz4", "zstd")

KIND_KEY = b"wf_widgets.kind"
VERSION_KEY = b"wf_widgets.version"
DTYPE_KEY = b"wf_widgets.dtype"
SHAPE_KEY = b"wf_widgets.shape"
MASKED_KEY = b"wf_widgets.masked"
PROPERTIES_KEY = b"wf_widgets.properties"
BANDINFO_KEY = b"wf_widgets.bandinfo"
GEOCONTEXT_KEY = b"wf_widgets.geocontext"

TIMESTAMP = pa.timestamp("us", tz="UTC")

#: Arrow type of the one-row ``value`` column of each scalar kind.
SCALAR_TYPES: dict[str, pa.DataType] = {
    "Null": pa.null(),
    "Bool": pa.bool_(),
    "Int": pa.int64(),
    "Float": pa.float64(),
    "Str": pa.utf8(),
    "Datetime": TIMESTAMP,
}

#: The node table of List and Dict values: column name -> Arrow type.
NODE_COLUMNS: dict[str, pa.DataType] = {
    "parent": pa.int64(),
    "key": pa.utf8(),
    "kind": pa.utf8(),
    "bool": pa.bool_(),
    "int": pa.int64(),
    "float": pa.float64(),
    "str": pa.utf8(),
    "datetime": TIMESTAMP,
    "blob": pa.large_binary(),
}
#: Node kind -> the value column that holds it (None: no value, or a container).
NODE_VALUE_COLUMN = {
    "Null": None,
    "Bool": "bool",
    "Int": "int",
    "Float": "float",
    "Str": "str",
    "Datetime": "datetime",
    "List": None,
    "Dict": None,
    "Array": "blob",
    "Image": "blob",
    "ImageCollection": "blob",
}

_ARROW_NUMERIC = {
    "i1": pa.int8(),
    "i2": pa.int16(),
    "i4": pa.int32(),
    "i8": pa.int64(),
    "u1": pa.uint8(),
    "u2": pa.uint16(),
    "u4": pa.uint32(),
    "u8": pa.uint64(),
    "f2": pa.float16(),
    "f4": pa.float32(),
    "f8": pa.float64(),
}


# --------------------------------------------------------------------------------------
# Tagged JSON, for metadata (image properties, bandinfo, geocontext).
# --------------------------------------------------------------------------------------

_TAG_FLOAT = "$float"
_TAG_DATETIME = "$datetime"
_TAG_DICT = "$dict"
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _tjson_value(value: Any) -> Any:
    value = scalar(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {_TAG_FLOAT: "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, _dt.datetime):
        return {_TAG_DATETIME: iso_utc(value)}
    if isinstance(value, (list, tuple)):
        return [_tjson_value(v) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise unsupported(value, FORMAT_NAME, f"dict keys must be str, got {type(k).__name__} key {k!r}")
            out[k] = _tjson_value(v)
        if any(k.startswith("$") for k in out):
            return {_TAG_DICT: out}
        return out
    raise unsupported(
        value, FORMAT_NAME, "image metadata (properties, bandinfo, geocontext) may hold only JSON-like values and datetimes"
    )


def tjson_dumps(value: Any) -> str:
    """Tagged JSON of a JSON-like value that may hold datetimes and non-finite floats.

    Plain JSON, except: a non-finite float is ``{"$float": "NaN" | "Infinity" |
    "-Infinity"}``, a datetime is ``{"$datetime": "<ISO 8601, UTC, Z suffix>"}``, and an
    object with a key starting with ``$`` is wrapped as ``{"$dict": {...}}`` (its keys
    are then taken literally). Ints are written without a fraction or exponent, finite
    floats always with one (Python ``repr``).
    """
    return json.dumps(_tjson_value(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _untag(value: Any) -> Any:
    if isinstance(value, list):
        return [_untag(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((k, v),) = value.items()
            if k == _TAG_FLOAT:
                return _NONFINITE[v]
            if k == _TAG_DATETIME:
                return parse_iso(v)
            if k == _TAG_DICT:
                return {ik: _untag(iv) for ik, iv in v.items()}
        return {k: _untag(v) for k, v in value.items()}
    return value


def tjson_loads(text: str | bytes) -> Any:
    """Parse :func:`tjson_dumps` output back to the value (datetimes aware UTC)."""
    return _untag(json.loads(text))


# --------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------


def _write_options(options: dict) -> pa.ipc.IpcWriteOptions:
    unknown = sorted(set(options) - {"compression"})
    if unknown:
        raise ValidationError(
            f"Unknown option {unknown[0]!r} for format 'pyarrow'; allowed: 'compression'",
            field=f"format.{unknown[0]}",
            value=unknown[0],
            allowed=("compression",),
        )
    compression = options.get("compression", COMPRESSIONS[0])
    name = compression.lower() if isinstance(compression, str) else compression
    if name not in COMPRESSIONS:
        raise ValidationError.bad_value("format.compression", compression, COMPRESSIONS)
    return pa.ipc.IpcWriteOptions(compression=name)


def _stream(batch: pa.RecordBatch, write_options: pa.ipc.IpcWriteOptions) -> bytes:
    # Writing into a BytesIO makes ``getvalue()`` the only bytes object: one copy of the
    # data in all, as many as writing into an Arrow buffer.
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, batch.schema, options=write_options) as writer:
        writer.write_batch(batch)
    return sink.getvalue()


def _metadata(kind: str, **extra: str) -> dict[bytes, bytes]:
    meta = {KIND_KEY: kind.encode(), VERSION_KEY: FORMAT_VERSION.encode()}
    for key, text in extra.items():
        meta[f"wf_widgets.{key}".encode()] = text.encode("utf-8")
    return meta


def _check_int(value: int, container: Any = None) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise unsupported(
            container if container is not None else value,
            FORMAT_NAME,
            f"int {value} is out of the int64 range (use the json format for larger integers)",
        )
    return value


def _encode_scalar(kind: str, value: Any) -> pa.Array:
    # Built from buffers: converting a Python object (pa.array, pa.scalar) makes pyarrow
    # import pandas first, a second or two on a session's first compute().
    value = scalar(value)
    if kind == "Null":
        return pa.Array.from_buffers(pa.null(), 1, [None], null_count=1)
    if kind == "Str":
        data = value.encode("utf-8")
        offsets = np.array([0, len(data)], dtype=np.int32)
        return pa.Array.from_buffers(pa.utf8(), 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    if kind == "Bool":
        values = np.packbits(np.array([bool(value)]), bitorder="little")
    elif kind == "Int":
        values = np.array([_check_int(value)], dtype=np.int64)
    elif kind == "Float":
        values = np.array([value], dtype=np.float64)
    else:  # Datetime
        values = np.array([datetime_to_us(value)], dtype=np.int64)
    return pa.Array.from_buffers(SCALAR_TYPES[kind], 1, [None, pa.py_buffer(values)])


def _data_column(value: np.ndarray) -> tuple[pa.Array, dict[str, str]]:
    """The ``data`` column and the array metadata of a plain or masked array."""
    data, mask = prepare_array(value, FORMAT_NAME)
    flat = data.reshape(-1)
    n = flat.size
    validity = None
    null_count = 0
    if mask is not None:
        flat_mask = mask.reshape(-1)
        null_count = int(np.count_nonzero(flat_mask))
        if null_count:
            validity = pa.py_buffer(np.packbits(~flat_mask, bitorder="little"))
    dt = data.dtype
    if dt.kind == "b":
        arrow_type = pa.bool_()
        values = pa.py_buffer(np.packbits(flat, bitorder="little"))
    elif dt.kind == "c":
        arrow_type = pa.binary(dt.itemsize)
        values = pa.py_buffer(flat.view(np.uint8))
    else:
        arrow_type = _ARROW_NUMERIC[dt.str[1:]]
        values = pa.py_buffer(flat)
    column = pa.Array.from_buffers(arrow_type, n, [validity, values], null_count=null_count)
    meta = {
        "dtype": dtype_str(dt),
        "shape": json.dumps(list(data.shape), separators=(",", ":")),
        "masked": "true" if mask is not None else "false",
    }
    return column, meta


def _encode_nodes(value: Any, write_options: pa.ipc.IpcWriteOptions) -> pa.RecordBatch:
    cols: dict[str, list] = {name: [] for name in NODE_COLUMNS}
    # Iterative pre-order walk: (value, parent row, key)
    stack: list[tuple[Any, int, str | None]] = [(value, -1, None)]
    while stack:
        item, parent, key = stack.pop()
        row = len(cols["parent"])
        kind = kind_of(item, FORMAT_NAME)
        cols["parent"].append(parent)
        cols["key"].append(key)
        cols["kind"].append(kind)
        target = NODE_VALUE_COLUMN[kind]
        for name in ("bool", "int", "float", "str", "datetime", "blob"):
            if name != target:
                cols[name].append(None)
        if target is None:
            if kind == "List":
                stack.extend((child, row, None) for child in reversed(item))
            elif kind == "Dict":
                children = []
                for k, v in item.items():
                    if not isinstance(k, str):
                        raise unsupported(value, FORMAT_NAME, f"dict keys must be str, got {type(k).__name__} key {k!r}")
                    children.append((v, row, k))
                stack.extend(reversed(children))
            continue
        item = scalar(item)
        if kind == "Int":
            cols["int"].append(_check_int(item, value))
        elif kind == "Datetime":
            cols["datetime"].append(datetime_to_us(item))
        elif target == "blob":
            cols["blob"].append(_encode_value(item, write_options))
        else:
            cols[target].append(item)
    arrays = []
    for name, typ in NODE_COLUMNS.items():
        if typ == TIMESTAMP:
            arrays.append(pa.array(cols[name], type=pa.int64()).cast(TIMESTAMP))
        else:
            arrays.append(pa.array(cols[name], type=typ))
    schema = pa.schema([pa.field(n, t) for n, t in NODE_COLUMNS.items()], metadata=_metadata(kind_of(value, FORMAT_NAME)))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _encode_value(value: Any, write_options: pa.ipc.IpcWriteOptions) -> bytes:
    kind = kind_of(value, FORMAT_NAME)
    if kind in SCALAR_TYPES:
        column = _encode_scalar(kind, value)
        schema = pa.schema([pa.field("value", SCALAR_TYPES[kind])], metadata=_metadata(kind))
        batch = pa.RecordBatch.from_arrays([column], schema=schema)
    elif kind in ("List", "Dict"):
        batch = _encode_nodes(value, write_options)
    else:
        if kind == "Array":
            column, meta = _data_column(value)
        else:
            column, meta = _data_column(np.ma.asarray(value.ndarray))
            meta["masked"] = "true"
            meta["properties"] = tjson_dumps(value.properties)
            meta["bandinfo"] = tjson_dumps(dict(value.bandinfo))
            meta["geocontext"] = tjson_dumps(value.geocontext)
        schema = pa.schema([pa.field("data", column.type)], metadata=_metadata(kind, **meta))
        batch = pa.RecordBatch.from_arrays([column], schema=schema)
    return _stream(batch, write_options)


def encode(value: Any, options: dict) -> bytes:
    """Encode a computed value as an Arrow IPC stream.

    Parameters
    ----------
    value : object
        A computed value.
    options : dict
        ``{"compression": "lz4" | "zstd"}`` (default lz4); Arrow's IPC buffer
        compression (LZ4 frame or Zstandard).

    Returns
    -------
    bytes
        The stream: schema message, one record batch, end-of-stream marker.

    Raises
    ------
    JobSerializationError
        For values outside the computed-value types, ints outside int64, non-str
        dict keys, arrays of unsupported dtypes.
    """
    return _encode_value(value, _write_options(options))


# --------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------


def _single_chunk(column: pa.ChunkedArray) -> pa.Array:
    if column.num_chunks == 1:
        return column.chunk(0)
    return column.combine_chunks()


def _decode_data(column: pa.Array, meta: dict[bytes, bytes]) -> np.ndarray:
    dtype = parse_dtype(meta[DTYPE_KEY].decode())
    shape = tuple(int(s) for s in json.loads(meta[SHAPE_KEY]))
    masked = meta.get(MASKED_KEY, b"false") == b"true"
    n = len(column)
    if n != math.prod(shape):
        raise JobSerializationError(f"Array data has {n} values, shape {list(shape)} needs {math.prod(shape)}")
    offset = column.offset
    buffers = column.buffers()
    if dtype.kind == "b":
        if column.type != pa.bool_():
            raise JobSerializationError(f"Array data of dtype {dtype.str} must be bool, got {column.type}")
        bits = np.frombuffer(buffers[1], dtype=np.uint8) if n else np.zeros(0, np.uint8)
        data = np.unpackbits(bits, count=offset + n, bitorder="little")[offset:].view(bool)
    else:
        expected = pa.binary(dtype.itemsize) if dtype.kind == "c" else _ARROW_NUMERIC[dtype.str[1:]]
        if column.type != expected:
            raise JobSerializationError(f"Array data of dtype {dtype.str} must be {expected}, got {column.type}")
        if n:
            data = np.frombuffer(buffers[1], dtype=dtype, count=n, offset=offset * dtype.itemsize)
            if not data.flags.writeable:  # a buffer of the input bytes (uncompressed stream)
                data = data.copy()
        else:
            data = np.zeros(0, dtype=dtype)
    data = data.reshape(shape)
    mask = None
    if masked:
        if buffers[0] is not None and column.null_count:
            valid = np.unpackbits(np.frombuffer(buffers[0], dtype=np.uint8), count=offset + n, bitorder="little")
            mask = (valid[offset:] == 0).reshape(shape)
    elif column.null_count:
        raise JobSerializationError("Array data has nulls but wf_widgets.masked is not 'true'")
    return make_array(data, mask, masked)


def _decode_nodes(table: pa.Table) -> Any:
    cols = {name: table.column(name) for name in NODE_COLUMNS if name in table.column_names}
    for name in ("parent", "key", "kind"):
        if name not in cols:
            raise JobSerializationError(f"Node table has no {name!r} column")
    parents = cols["parent"].to_pylist()
    keys = cols["key"].to_pylist()
    kinds = cols["kind"].to_pylist()
    if not parents:
        raise JobSerializationError("Node table is empty")
    values: dict[str, list] = {}
    for name in ("bool", "int", "float", "str", "blob"):
        if name in cols:
            values[name] = cols[name].to_pylist()
    if "datetime" in cols:
        values["datetime"] = cols["datetime"].cast(pa.int64()).to_pylist()
    nodes: list[Any] = []
    for row, (parent, key, kind) in enumerate(zip(parents, keys, kinds)):
        if kind not in NODE_VALUE_COLUMN:
            raise JobSerializationError(f"Unknown node kind {kind!r} in row {row}")
        if kind == "List":
            item: Any = []
        elif kind == "Dict":
            item = {}
        elif kind == "Null":
            item = None
        else:
            raw = values[NODE_VALUE_COLUMN[kind]][row]
            if kind == "Datetime":
                item = us_to_datetime(raw)
            elif kind in ("Array", "Image", "ImageCollection"):
                item = decode(raw)
            else:
                item = raw
        nodes.append(item)
        if row == 0:
            if parent != -1:
                raise JobSerializationError("The first row of a node table must be the root (parent -1)")
            continue
        if not 0 <= parent < row:
            raise JobSerializationError(f"Row {row} has parent {parent}; parents must precede their children")
        container = nodes[parent]
        if isinstance(container, list):
            container.append(item)
        elif isinstance(container, dict):
            container[key] = item
        else:
            raise JobSerializationError(f"Row {row} has a parent of kind {kinds[parent]}, not List or Dict")
    return nodes[0]


def decode(data: bytes) -> Any:
    """Decode a stream written by :func:`encode`.

    Parameters
    ----------
    data : bytes-like
        The Arrow IPC stream.

    Returns
    -------
    object
        The value: Python scalars, lists, dicts, aware UTC datetimes, numpy arrays
        (masked arrays when written masked), ImageResult or ImageCollectionResult.
    """
    reader = pa.ipc.open_stream(data)
    table = reader.read_all()
    meta = table.schema.metadata or {}
    if KIND_KEY not in meta:
        raise JobSerializationError("Not a wf_widgets pyarrow stream: no 'wf_widgets.kind' schema metadata")
    version = meta.get(VERSION_KEY, b"").decode()
    if version != FORMAT_VERSION:
        raise JobSerializationError(f"Unsupported wf_widgets pyarrow layout version {version!r}")
    kind = meta[KIND_KEY].decode()
    if kind in SCALAR_TYPES:
        if table.num_rows != 1:
            raise JobSerializationError(f"A {kind} stream must have one row, got {table.num_rows}")
        column = table.column("value")
        if kind == "Null":
            return None
        if kind == "Datetime":
            return us_to_datetime(column.cast(pa.int64())[0].as_py())
        return column[0].as_py()
    if kind in ("List", "Dict"):
        return _decode_nodes(table)
    if kind not in ("Array", "Image", "ImageCollection"):
        raise JobSerializationError(f"Unknown wf_widgets.kind {kind!r}")
    arr = _decode_data(_single_chunk(table.column("data")), meta)
    if kind == "Array":
        return arr
    properties = tjson_loads(meta.get(PROPERTIES_KEY, b"null"))
    bandinfo = tjson_loads(meta.get(BANDINFO_KEY, b"null"))
    geocontext = tjson_loads(meta.get(GEOCONTEXT_KEY, b"null"))
    cls = ImageResult if kind == "Image" else ImageCollectionResult
    return cls(np.ma.asarray(arr), properties=properties, bandinfo=bandinfo, geocontext=geocontext)
