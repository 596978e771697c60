"""Properties of the pyarrow, json and msgpack codecs: what they accept round-trips, the rest is a clear error."""

from __future__ import annotations

import datetime as dt
import math
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from wf_widgets.errors import JobSerializationError
from wf_widgets.outputs import codecs
from wf_widgets.outputs.codecs import _common
from wf_widgets.outputs.results import ImageCollectionResult, ImageResult

from .test_codecs import assert_same

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UTC = dt.timezone.utc
CODECS = [pytest.param("pyarrow", {"compression": "lz4"}, id="pyarrow-lz4"),
          pytest.param("pyarrow", {"compression": "zstd"}, id="pyarrow-zstd"),
          pytest.param("msgpack", {}, id="msgpack"),
          pytest.param("json", {}, id="json")]

#: Every dtype an Array may have, in both byte orders where that means something.
DTYPES = [np.dtype(f"{order}{code}") for code in ("i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8",
                                                  "c8", "c16") for order in "<>"] + [np.dtype(bool)]
#: Keys a codec gives a meaning to, besides any text.
SPECIAL_KEYS = ["__ndarray__", "__image__", "__imagecollection__", "$float", "$datetime", "$dict", "", "dtype"]

texts = st.text(alphabet=st.characters(codec=None, categories=None), max_size=12)  # any code point, surrogates too
keys = texts | st.sampled_from(SPECIAL_KEYS)
datetimes = (st.datetimes(timezones=st.none() | st.timezones() | st.just(UTC))
             | st.datetimes().map(np.datetime64) | st.just(np.datetime64("NaT")))
numpy_scalars = st.sampled_from(DTYPES).flatmap(lambda d: hnp.from_dtype(d.newbyteorder("="))).map(
    lambda x: x[()] if isinstance(x, np.ndarray) else x)
scalars = (st.none() | st.booleans() | st.integers() | st.integers(-(2**64), 2**65) | st.floats() | texts
           | datetimes | numpy_scalars)


@st.composite
def arrays(draw, max_side: int = 4):
    """Plain and masked arrays of every supported dtype and shape (0-d and empty too), some not contiguous."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=max_side))
    arr = draw(hnp.arrays(dtype, shape))
    if arr.ndim >= 2 and draw(st.booleans()):
        arr = arr.T  # not C-contiguous
    if draw(st.booleans()):
        arr = np.ma.MaskedArray(arr, mask=draw(hnp.arrays(bool, arr.shape)) if draw(st.booleans()) else False)
    return arr


#: A few arrays big enough for msgpack's fast path (over 64 KiB).
big_arrays = st.sampled_from(["<f8", ">i4", "|u1", "<c16", "|b1"]).flatmap(
    lambda d: st.tuples(st.just(d), st.integers(0, 1), st.booleans())).map(
    lambda t: (np.ma.MaskedArray(np.arange(70_000).astype(t[0]), mask=np.arange(70_000) % 3 == 0) if t[2]
               else np.arange(70_000).astype(t[0]))[t[1]:])


#: Keys of dicts: mostly text, sometimes what no codec may accept (non-str keys).
any_keys = keys | keys | keys | st.integers(0, 3) | st.tuples(st.integers(0, 2)) | st.none()
RESERVED = ["__ndarray__", "__image__", "__imagecollection__"]


def containers(inner):
    return (st.lists(inner, max_size=4) | st.lists(inner, max_size=3).map(tuple)
            | st.dictionaries(any_keys, inner, max_size=4)
            | st.dictionaries(st.sampled_from(RESERVED), st.just(True) | inner, min_size=1, max_size=2))


values = st.recursive(scalars | arrays(), containers, max_leaves=10)
#: Metadata of image results: JSON-like values and datetimes.
metadata = st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | texts
                        | st.datetimes(timezones=st.just(UTC)),
                        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
                        max_leaves=6)


@st.composite
def image_results(draw):
    arr = draw(arrays(max_side=3).filter(lambda a: a.ndim == 3))
    names = draw(st.lists(st.text(max_size=4), min_size=arr.shape[0], max_size=arr.shape[0], unique=True))
    bandinfo = OrderedDict((n, draw(st.dictionaries(keys, metadata, max_size=2))) for n in names)
    properties = draw(st.dictionaries(keys, metadata, max_size=3))
    geocontext = draw(st.dictionaries(keys, metadata, max_size=2))
    if draw(st.booleans()):
        return ImageResult(arr, properties, bandinfo, geocontext)
    collection = np.ma.asarray(arr)[None].repeat(2, axis=0)
    return ImageCollectionResult(collection, [properties, {}], bandinfo, geocontext)


# -- what each codec should give back -----------------------------------------------------------------------
def _utc(value) -> dt.datetime:
    if isinstance(value, np.datetime64):
        return _common.to_utc(value)
    return value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)


def expected_value(value):
    """What pyarrow and msgpack decode: the value with tuples as lists, numpy scalars as Python ones,
    datetimes as aware UTC and arrays little-endian."""
    if isinstance(value, (dt.datetime, np.datetime64)):
        return _utc(value)
    if isinstance(value, np.ndarray):
        if value.dtype.byteorder == ">":
            return value.astype(value.dtype.newbyteorder("<"))
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [expected_value(v) for v in value]
    if isinstance(value, dict):
        return {k: expected_value(v) for k, v in value.items()}
    if isinstance(value, (ImageResult, ImageCollectionResult)):
        return type(value)(expected_value(value.ndarray), expected_value(value.properties), OrderedDict(
            (k, expected_value(v)) for k, v in value.bandinfo.items()), expected_value(value.geocontext))
    return value


def _json_array(value: np.ndarray):
    data = np.ma.getdata(value)
    nulls = np.ma.getmaskarray(value) | (~np.isfinite(data) if data.dtype.kind == "f" else False)
    obj = data.astype(object)
    obj[nulls] = None
    return obj.tolist()


def expected_json(value):
    """The JSON document of ``docs/formats.md`` (what ``json`` decodes)."""
    if isinstance(value, (dt.datetime, np.datetime64)):
        return _utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, np.generic):
        return expected_json(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return _json_array(value)
    if isinstance(value, (list, tuple)):
        return [expected_json(v) for v in value]
    if isinstance(value, dict):
        return {k: expected_json(v) for k, v in value.items()}
    if isinstance(value, (ImageResult, ImageCollectionResult)):
        return {"ndarray": _json_array(value.ndarray), "properties": expected_json(value.properties),
                "bandinfo": expected_json(dict(value.bandinfo)), "geocontext": expected_json(value.geocontext)}
    return value


def _round_trip(fmt: str, options: dict, value) -> str:
    """Encode and decode ``value``; returns ``"refused"`` or ``"round trip"``."""
    try:
        data = codecs.encode(fmt, value, options)
    except JobSerializationError as exc:  # refused: say so clearly, and name the format
        assert str(exc).startswith("Cannot encode") and fmt in str(exc)
        return "refused"
    assert isinstance(data, bytes)
    got = codecs.decode(fmt, data)
    if fmt == "json":
        assert_same(got, expected_json(value))
    else:
        assert_same(got, expected_value(value))
    return "round trip"


@pytest.mark.parametrize("fmt, options", CODECS)
@SETTINGS
@given(value=values)
def test_what_a_codec_accepts_round_trips(fmt, options, value):
    event(_round_trip(fmt, options, value))


@pytest.mark.parametrize("fmt, options", CODECS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(value=image_results() | big_arrays | st.lists(big_arrays, min_size=1, max_size=2))
def test_image_results_and_big_arrays_round_trip(fmt, options, value):
    event(_round_trip(fmt, options, value))


# -- what each codec must refuse ------------------------------------------------------------------------------
class Opaque:
    pass


#: (value, formats that must refuse it)
UNENCODABLE = [
    ({1, 2}, "pyarrow json msgpack"),
    (b"bytes", "pyarrow json msgpack"),
    (Opaque(), "pyarrow json msgpack"),
    (1 + 2j, "pyarrow json msgpack"),
    ({1: "int key"}, "pyarrow json msgpack"),
    ([{"a": {(1, 2): "tuple key"}}], "pyarrow json msgpack"),
    (2**63, "pyarrow"),
    (-(2**63) - 1, "pyarrow msgpack"),
    (2**64, "pyarrow msgpack"),
    ([1, [2**70]], "pyarrow msgpack"),
    ("lone \ud800 surrogate", "pyarrow json msgpack"),
    ({"k\udfff": 1}, "pyarrow json msgpack"),
    (np.datetime64("NaT"), "pyarrow json msgpack"),
    (np.array(["a", "b"]), "pyarrow json msgpack"),
    (np.array([1, None], dtype=object), "pyarrow json msgpack"),
    (np.array(["2020-01-01"], dtype="datetime64[D]"), "pyarrow json msgpack"),
    (np.zeros(2, dtype=[("a", "i4")]), "pyarrow json msgpack"),
    (np.zeros(2, dtype="f16") if hasattr(np, "float128") else np.zeros(2, dtype=object), "pyarrow json msgpack"),
    (np.array([1 + 1j]), "json"),
    (np.str_("numpy str"), ""),  # a str: accepted
    ({"__ndarray__": True, "dtype": "<f8"}, "msgpack"),  # reserved for arrays
    ({"x": {"__image__": True}}, "msgpack"),
]


@pytest.mark.parametrize("fmt, options", CODECS)
@pytest.mark.parametrize("value, refused_by", UNENCODABLE, ids=[repr(v)[:30] for v, _ in UNENCODABLE])
def test_what_a_codec_cannot_encode_is_a_clear_error(fmt, options, value, refused_by):
    if fmt in refused_by.split():
        with pytest.raises(JobSerializationError, match=rf"^Cannot encode a value of type \w+ in the '?{fmt}'? format: "):
            codecs.encode(fmt, value, options)
    else:
        assert _round_trip(fmt, options, value) == "round trip"


@pytest.mark.parametrize("fmt, options", CODECS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_damaged_data_is_a_clear_error(fmt, options, data):
    """Decoding truncated or altered bytes returns a value or raises JobSerializationError, nothing else."""
    encoded = codecs.encode(fmt, data.draw(values.filter(lambda v: _encodable(fmt, options, v))), options)
    cut = data.draw(st.integers(0, len(encoded)))
    damaged = bytearray(encoded[:cut] + data.draw(st.binary(max_size=4)) + encoded[cut + data.draw(st.integers(0, 4)):])
    assume(bytes(damaged) != encoded)
    try:
        codecs.decode(fmt, bytes(damaged))
    except JobSerializationError as exc:  # the codec's own message, or "Cannot decode ..." with the cause
        assert str(exc)


def _encodable(fmt, options, value) -> bool:
    try:
        codecs.encode(fmt, value, options)
    except JobSerializationError:
        return False
    return True
