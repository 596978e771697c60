"""Round trips and wire-level checks of the pyarrow, json and msgpack codecs."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
from collections import OrderedDict

import msgpack
import numpy as np
import pyarrow as pa
import pytest

import wf_widgets as wf
from wf_widgets.errors import JobSerializationError, ValidationError
from wf_widgets.outputs import codecs
from wf_widgets.outputs.codecs import msgpack_codec
from wf_widgets.outputs.results import ImageCollectionResult, ImageResult

UTC = dt.timezone.utc


def _image(dtype: str = "float64", masked: bool = True) -> ImageResult:
    data = np.arange(2 * 3 * 4, dtype=dtype).reshape(2, 3, 4)
    mask = np.zeros(data.shape, dtype=bool)
    if masked:
        mask[0, 0, :2] = True
        mask[1, 2, 3] = True
    return ImageResult(
        np.ma.MaskedArray(data, mask=mask),
        properties={
            "date": dt.datetime(2020, 3, 1, 12, 30, 15, 250000, tzinfo=UTC),
            "product": "sentinel-1:GRD",
            "cloud_fraction": 0.25,
            "count": 3,
            "flags": [True, None, "x"],
        },
        bandinfo=OrderedDict([("vv", {"data_range": [0.0, 1.0], "nodata": None}), ("vh", {"unit": "dB"})]),
        geocontext={"crs": "EPSG:32613", "resolution": 10.0, "shape": [3, 4], "transform": [1.0, 0.0, -0.0]},
    )


def _collection() -> ImageCollectionResult:
    data = np.linspace(-1, 1, 2 * 2 * 3 * 3, dtype="float32").reshape(2, 2, 3, 3)
    mask = data > 0.8
    return ImageCollectionResult(
        np.ma.MaskedArray(data, mask=mask),
        properties=[
            {"date": dt.datetime(2020, 1, 1, tzinfo=UTC), "id": "a"},
            {"date": dt.datetime(2020, 1, 13, tzinfo=UTC), "id": "b", "$odd key": {"$datetime": "literal"}},
        ],
        bandinfo=OrderedDict([("red", {}), ("nir", {"wavelength": 842})]),
        geocontext={"crs": "EPSG:4326"},
    )


#: id -> value; every kind, and the edge cases of each.
VALUES = {
    "none": None,
    "true": True,
    "false": False,
    "int": 2,
    "zero": 0,
    "int64_max": 2**63 - 1,
    "int64_min": -(2**63),
    "float": 2.5,
    "float_whole": 2.0,
    "negative_zero": -0.0,
    "nan": math.nan,
    "inf": -math.inf,
    "str": "hello",
    "str_empty": "",
    "str_unicode": "Zürich — 東京 🛰️",
    "datetime": dt.datetime(2020, 5, 1, 13, 45, 7, 123456, tzinfo=UTC),
    "datetime_pre_epoch": dt.datetime(1901, 12, 13, 20, 45, 52, tzinfo=UTC),
    "list_empty": [],
    "dict_empty": {},
    "list_bool_vs_int": [True, 1, 0, False, 1.0],
    "list_nested_heterogeneous": [1, [2.0, ["x", None, [True, []]], {}], {"a": [1, {"b": -0.0}]}, "s"],
    "dict_nested": {
        "i": 1,
        "f": 1.5,
        "b": False,
        "n": None,
        "s": "ü",
        "t": dt.datetime(2021, 1, 1, tzinfo=UTC),
        "l": [1, "two", 3.0, [], {}],
        "d": {"deeper": {"deepest": [None]}},
        "": "empty key",
        "$dollar": 1,
    },
    "array_float64": np.linspace(0, 1, 12).reshape(3, 4),
    "array_int8": np.array([-128, -1, 0, 1, 127], dtype="int8"),
    "array_uint16": np.arange(24, dtype="uint16").reshape(2, 3, 4) * 2700,
    "array_float32": np.array([[1.5, -0.0], [np.nan, np.inf]], dtype="float32"),
    "array_bool": np.array([[True, False, True], [False, False, True]]),
    "array_int64": np.array([2**63 - 1, -(2**63), 0]),
    "array_uint64": np.array([2**64 - 1, 0], dtype="uint64"),
    "array_float16": np.array([0.5, 65504.0], dtype="float16"),
    "array_complex128": np.array([1 + 2j, -3.5j]),
    "array_0d": np.array(7.25),
    "array_empty": np.zeros((0, 3), dtype="int32"),
    "masked_float64": np.ma.MaskedArray(np.arange(6.0).reshape(2, 3), mask=[[1, 0, 0], [0, 0, 1]]),
    "masked_uint16_nothing_masked": np.ma.MaskedArray(np.arange(4, dtype="uint16"), mask=False),
    "masked_bool": np.ma.MaskedArray([True, False, True], mask=[0, 1, 0]),
    "masked_all": np.ma.MaskedArray(np.ones(3, dtype="int8"), mask=True),
    "image": _image(),
    "image_uint16_unmasked": _image("uint16", masked=False),
    "image_collection": _collection(),
    "list_of_arrays_and_images": [np.arange(3), {"img": _image()}, np.ma.MaskedArray([1.0, 2.0], mask=[0, 1])],
}

#: (format name, options)
ROUND_TRIP_CODECS = [
    pytest.param("pyarrow", {"compression": "lz4"}, id="pyarrow-lz4"),
    pytest.param("pyarrow", {"compression": "zstd"}, id="pyarrow-zstd"),
    pytest.param("msgpack", {}, id="msgpack"),
]


def assert_same(got, expected, path="value"):
    """Equality that also checks Python types, -0.0, NaN, dtypes, shapes and masks."""
    if isinstance(expected, tuple):
        expected = list(expected)
    if isinstance(expected, (ImageResult, ImageCollectionResult)):
        assert type(got) is type(expected), path
        assert_same(got.ndarray, expected.ndarray, path + ".ndarray")
        assert_same(got.properties, expected.properties, path + ".properties")
        assert isinstance(got.bandinfo, OrderedDict), path
        assert_same(dict(got.bandinfo), dict(expected.bandinfo), path + ".bandinfo")
        assert list(got.bandinfo) == list(expected.bandinfo), path
        assert_same(got.geocontext, expected.geocontext, path + ".geocontext")
        return
    if isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray), path
        assert isinstance(got, np.ma.MaskedArray) == isinstance(expected, np.ma.MaskedArray), path
        assert got.dtype == expected.dtype, path
        assert got.shape == expected.shape, path
        np.testing.assert_array_equal(np.ma.getdata(got), np.ma.getdata(expected), err_msg=path)
        if isinstance(expected, np.ma.MaskedArray):
            np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(expected), err_msg=path)
        if got.dtype.kind == "f":
            np.testing.assert_array_equal(np.signbit(np.ma.getdata(got)), np.signbit(np.ma.getdata(expected)))
        return
    assert type(got) is type(expected), f"{path}: {type(got).__name__} != {type(expected).__name__}"
    if isinstance(expected, float):
        if math.isnan(expected):
            assert math.isnan(got), path
        else:
            assert got == expected and math.copysign(1, got) == math.copysign(1, expected), path
    elif isinstance(expected, list):
        assert len(got) == len(expected), path
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_same(g, e, f"{path}[{i}]")
    elif isinstance(expected, dict):
        assert list(got) == list(expected), path
        for k in expected:
            assert_same(got[k], expected[k], f"{path}[{k!r}]")
    elif isinstance(expected, dt.datetime):
        assert got == expected and got.utcoffset() == dt.timedelta(0), path
    else:
        assert got == expected, path


# ---------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, options", ROUND_TRIP_CODECS)
@pytest.mark.parametrize("value", list(VALUES.values()), ids=list(VALUES))
def test_round_trip(fmt, options, value):
    data = codecs.encode(fmt, value, options)
    assert isinstance(data, bytes)
    assert_same(codecs.decode(fmt, data), value)


@pytest.mark.parametrize("fmt, options", ROUND_TRIP_CODECS)
def test_normalised_inputs(fmt, options):
    value = (
        np.int64(3),
        np.bool_(True),
        np.float32(0.5),
        (1, (2,)),
        dt.datetime(2020, 1, 1, 12),  # naive: taken as UTC
        dt.datetime(2020, 1, 1, 14, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        np.datetime64("2020-01-01T12:00:00"),
    )
    noon = dt.datetime(2020, 1, 1, 12, tzinfo=UTC)
    assert_same(codecs.decode(fmt, codecs.encode(fmt, value, options)), [3, True, 0.5, [1, [2]], noon, noon, noon])


@pytest.mark.parametrize("fmt, options", ROUND_TRIP_CODECS)
def test_unusual_array_layouts(fmt, options):
    base = np.arange(24, dtype=">i4").reshape(4, 6)  # big-endian
    for arr in (base, base.T, base[::2, 1::3], np.asfortranarray(base)):
        got = codecs.decode(fmt, codecs.encode(fmt, arr, options))
        assert got.dtype == np.dtype("<i4")
        np.testing.assert_array_equal(got, arr)
    masked = np.ma.MaskedArray(base.astype("f8"), mask=base % 5 == 0).T
    got = codecs.decode(fmt, codecs.encode(fmt, masked, options))
    np.testing.assert_array_equal(got.mask, masked.mask)
    np.testing.assert_array_equal(got.data, masked.data)


@pytest.mark.parametrize("fmt, options", ROUND_TRIP_CODECS)
def test_large_arrays_are_writeable(fmt, options):
    arr = np.random.default_rng(1).random(200_000)
    masked = np.ma.MaskedArray(arr.reshape(400, 500).astype("f4"), mask=arr.reshape(400, 500) > 0.7)
    for value in (arr, masked, [arr]):
        got = codecs.decode(fmt, codecs.encode(fmt, value, options))
        got = got[0] if isinstance(got, list) else got
        assert got.flags.writeable
        got[0] += 1  # no "assignment destination is read-only"
    out = codecs.decode(fmt, codecs.encode(fmt, masked, options))
    assert_same(out, masked)


def test_image_properties_keep_datetimes():
    image = _image()
    for fmt in ("pyarrow", "msgpack"):
        got = codecs.decode(fmt, codecs.encode(fmt, image))
        assert got.properties["date"] == dt.datetime(2020, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)
        assert got == image


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------

ALL_FORMATS = ["pyarrow", "json", "msgpack"]


@pytest.mark.parametrize("fmt", ALL_FORMATS)
@pytest.mark.parametrize(
    "value, type_name",
    [({1, 2}, "set"), (object(), "object"), ([1, {"a": frozenset()}], "frozenset"), (dt.date(2020, 1, 1), "date")],
    ids=["set", "object", "nested_frozenset", "date"],
)
def test_unencodable_values(fmt, value, type_name):
    with pytest.raises(JobSerializationError, match=f"Cannot encode a value of type {type_name} in the {fmt} format"):
        codecs.encode(fmt, value)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_unsupported_array_dtype(fmt):
    with pytest.raises(JobSerializationError, match="arrays must have a bool, integer, float"):
        codecs.encode(fmt, np.array(["a", "b"]))
    with pytest.raises(JobSerializationError, match="object"):
        codecs.encode(fmt, np.array([1, None], dtype=object))


def test_format_specific_limits():
    with pytest.raises(JobSerializationError, match="out of the int64 range"):
        codecs.encode("pyarrow", 2**63)
    with pytest.raises(JobSerializationError, match="out of the int64 range"):
        codecs.encode("pyarrow", [1, [2**70]])
    assert codecs.decode("msgpack", codecs.encode("msgpack", 2**64 - 1)) == 2**64 - 1
    with pytest.raises(JobSerializationError, match=r"outside msgpack's range"):
        codecs.encode("msgpack", 2**64)
    assert codecs.encode("json", 2**70) == b"1180591620717411303424"
    with pytest.raises(JobSerializationError, match="complex arrays have no JSON representation"):
        codecs.encode("json", np.array([1j]))
    for fmt in ("pyarrow", "json"):
        with pytest.raises(JobSerializationError, match="dict keys must be str, got int key 1"):
            codecs.encode(fmt, {"a": {1: "x"}})
    with pytest.raises(JobSerializationError, match="image metadata"):
        codecs.encode("pyarrow", ImageResult(np.zeros((1, 1, 1)), properties={"a": {1, 2}}))


def test_unknown_format_and_options():
    with pytest.raises(ValidationError, match="Unknown format 'xml' for 'format'"):
        codecs.encode("xml", 1)
    with pytest.raises(ValidationError, match="Unknown value 'gzip' for 'format.compression'; allowed: 'lz4', 'zstd'"):
        codecs.encode("pyarrow", 1, {"compression": "gzip"})
    with pytest.raises(ValidationError, match="Unknown option 'level' for format 'pyarrow'"):
        codecs.encode("pyarrow", 1, {"compression": "lz4", "level": 3})
    with pytest.raises(ValidationError, match="Unknown option 'indent' for format 'json'"):
        codecs.encode("json", 1, {"indent": 2})
    # names and enum values are case-insensitive; a "type" key is ignored
    assert codecs.decode("PyArrow", codecs.encode("PYARROW", 1, {"type": "pyarrow", "compression": "ZSTD"})) == 1
    assert codecs.get_codec("json").__name__.endswith(".json_codec")
    assert codecs.CODECS["geotiff"] is codecs.geotiff and set(codecs.CODECS) == set(wf.FORMATS)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_garbage_does_not_decode(fmt):
    with pytest.raises(JobSerializationError, match=f"Cannot decode '{fmt}' data"):
        codecs.decode(fmt, b"\xc1\x00garbage{")


def test_foreign_arrow_stream_is_rejected():
    sink = pa.BufferOutputStream()
    table = pa.table({"x": [1, 2]})
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    with pytest.raises(JobSerializationError, match="no 'wf_widgets.kind' schema metadata"):
        codecs.decode("pyarrow", sink.getvalue().to_pybytes())


# ---------------------------------------------------------------------------------------
# json: what a download holds
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (2, b"2"),
        (2.0, b"2.0"),
        (-0.0, b"-0.0"),
        (True, b"true"),
        (None, b"null"),
        (math.nan, b"null"),
        ("Zürich", '"Zürich"'.encode()),
        ([], b"[]"),
        ({}, b"{}"),
        ((1, [2.5, "a"], {"k": None}), b'[1,[2.5,"a"],{"k":null}]'),
        ([math.inf, -math.inf], b"[null,null]"),
        (dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC), b'"2020-01-02T03:04:05Z"'),
        (dt.datetime(2020, 1, 2, 3, 4, 5, 600, tzinfo=UTC), b'"2020-01-02T03:04:05.000600Z"'),
        (np.array([[1, 2], [3, 4]], dtype="uint8"), b"[[1,2],[3,4]]"),
        (np.array([True, False]), b"[true,false]"),
        (np.array([0.5, np.nan, np.inf]), b"[0.5,null,null]"),
        (np.ma.MaskedArray([1.5, 2.5, 3.5], mask=[0, 1, 0]), b"[1.5,null,3.5]"),
        (np.array(3), b"3"),
    ],
    ids=lambda v: None,
)
def test_json_bytes(value, expected):
    assert codecs.encode("json", value) == expected
    json.loads(expected)  # valid JSON


def test_json_decode_is_the_parsed_document():
    assert codecs.decode("json", b"2") == 2
    when = dt.datetime(2020, 1, 2, tzinfo=UTC)
    assert codecs.decode("json", codecs.encode("json", {"t": when})) == {"t": "2020-01-02T00:00:00Z"}
    doc = codecs.decode("json", codecs.encode("json", _image()))
    assert list(doc) == ["ndarray", "properties", "bandinfo", "geocontext"]
    assert doc["ndarray"][0][0] == [None, None, 2.0, 3.0]
    assert doc["ndarray"][1][2] == [20.0, 21.0, 22.0, None]
    assert doc["properties"]["date"] == "2020-03-01T12:30:15.250000Z"
    assert list(doc["bandinfo"]) == ["vv", "vh"]
    assert doc["geocontext"]["crs"] == "EPSG:32613"
    coll = codecs.decode("json", codecs.encode("json", _collection()))
    assert [p["id"] for p in coll["properties"]] == ["a", "b"]
    assert np.array(coll["ndarray"], dtype=float).shape == (2, 2, 3, 3)


# ---------------------------------------------------------------------------------------
# msgpack: what any msgpack library sees
# ---------------------------------------------------------------------------------------


def test_msgpack_plain_scalars_and_containers():
    assert codecs.encode("msgpack", 2) == bytes.fromhex("02")
    assert msgpack.unpackb(codecs.encode("msgpack", 2)) == 2
    assert codecs.encode("msgpack", 2.0) == bytes.fromhex("cb4000000000000000")
    value = {"a": [1, 2.5, "x", None, True], "b": {}}
    assert msgpack.unpackb(codecs.encode("msgpack", value)) == value


def test_msgpack_datetime_is_the_timestamp_extension():
    when = dt.datetime(2020, 1, 1, tzinfo=UTC)
    data = codecs.encode("msgpack", when)
    assert data == bytes.fromhex("d6ff5e0be100")  # fixext 4, type -1, seconds 1577836800
    assert msgpack.unpackb(data) == msgpack.Timestamp(1577836800, 0)


def test_msgpack_ndarray_map_as_plain_msgpack_sees_it():
    arr = np.array([[1, 2, 3], [4, 5, 6]], dtype="uint16")
    seen = msgpack.unpackb(codecs.encode("msgpack", arr))
    assert seen == {"__ndarray__": True, "dtype": "<u2", "shape": [2, 3], "data": arr.astype("<u2").tobytes()}
    masked = np.ma.MaskedArray([1.0, 2.0], mask=[0, 1])
    seen = msgpack.unpackb(codecs.encode("msgpack", masked))
    assert seen["dtype"] == "<f8" and seen["shape"] == [2]
    assert seen["data"] == np.array([1.0, 2.0], "<f8").tobytes()
    assert seen["mask"] == b"\x00\x01"
    assert msgpack.unpackb(codecs.encode("msgpack", np.array([True])))["dtype"] == "|b1"


def test_msgpack_image_map_as_plain_msgpack_sees_it():
    seen = msgpack.unpackb(codecs.encode("msgpack", _image()), timestamp=3)
    assert list(seen) == ["__image__", "ndarray", "properties", "bandinfo", "geocontext"]
    assert seen["__image__"] is True
    assert seen["ndarray"]["shape"] == [2, 3, 4] and len(seen["ndarray"]["mask"]) == 24
    assert seen["properties"]["date"] == dt.datetime(2020, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)
    seen = msgpack.unpackb(codecs.encode("msgpack", _collection()))
    assert seen["__imagecollection__"] is True and len(seen["properties"]) == 2


def test_msgpack_fast_path_agrees_with_general_path():
    arr = np.ma.MaskedArray(np.arange(100_000, dtype="<i8").reshape(100, 1000), mask=np.arange(100_000).reshape(100, 1000) % 7 == 0)
    data = codecs.encode("msgpack", arr)
    fast = msgpack_codec._fast_array(memoryview(data))
    general = msgpack.unpackb(data, object_hook=msgpack_codec._object_hook)
    assert fast is not None
    assert_same(fast, arr)
    assert_same(general, arr)
    # a map of another shape falls back to the general path
    assert msgpack_codec._fast_array(memoryview(codecs.encode("msgpack", {"x": arr}))) is None


# ---------------------------------------------------------------------------------------
# pyarrow: what any Arrow reader sees
# ---------------------------------------------------------------------------------------


def _open(value, compression="lz4") -> pa.Table:
    return pa.ipc.open_stream(codecs.encode("pyarrow", value, {"compression": compression})).read_all()


@pytest.mark.parametrize(
    "value, kind, arrow_type",
    [
        (None, "Null", pa.null()),
        (True, "Bool", pa.bool_()),
        (2, "Int", pa.int64()),
        (2.5, "Float", pa.float64()),
        ("x", "Str", pa.utf8()),
        (dt.datetime(2020, 1, 1, tzinfo=UTC), "Datetime", pa.timestamp("us", tz="UTC")),
    ],
)
def test_pyarrow_scalars(value, kind, arrow_type):
    table = _open(value)
    assert table.schema.metadata[b"wf_widgets.kind"] == kind.encode()
    assert table.schema.metadata[b"wf_widgets.version"] == b"1"
    assert table.column_names == ["value"]
    assert table.schema.field("value").type == arrow_type
    assert table.num_rows == 1
    if kind != "Datetime":
        assert table.column("value")[0].as_py() == value
    else:
        assert table.column("value").cast(pa.int64())[0].as_py() == 1577836800 * 10**6


def test_pyarrow_array_column_and_metadata():
    masked = np.ma.MaskedArray(np.array([[1.0, 2.0], [3.0, 4.0]]), mask=[[0, 1], [0, 0]])
    table = _open(masked, "zstd")
    meta = table.schema.metadata
    assert meta[b"wf_widgets.kind"] == b"Array"
    assert meta[b"wf_widgets.dtype"] == b"<f8"
    assert json.loads(meta[b"wf_widgets.shape"]) == [2, 2]
    assert meta[b"wf_widgets.masked"] == b"true"
    assert table.column_names == ["data"]
    assert table.schema.field("data").type == pa.float64()
    assert table.column("data").to_pylist() == [1.0, None, 3.0, 4.0]
    table = _open(np.arange(3, dtype="int8"))
    assert table.schema.field("data").type == pa.int8()
    assert table.schema.metadata[b"wf_widgets.masked"] == b"false"
    assert table.schema.metadata[b"wf_widgets.dtype"] == b"|i1"
    assert _open(np.array([1j])).schema.field("data").type == pa.binary(16)


def test_pyarrow_node_table():
    table = _open([1, {"a": 2.5, "b": [None, "x"]}, True])
    assert table.schema.metadata[b"wf_widgets.kind"] == b"List"
    assert table.column_names == ["parent", "key", "kind", "bool", "int", "float", "str", "datetime", "blob"]
    rows = table.select(["parent", "key", "kind"]).to_pylist()
    assert [(r["parent"], r["key"], r["kind"]) for r in rows] == [
        (-1, None, "List"),
        (0, None, "Int"),
        (0, None, "Dict"),
        (2, "a", "Float"),
        (2, "b", "List"),
        (4, None, "Null"),
        (4, None, "Str"),
        (0, None, "Bool"),
    ]
    assert table.column("int").to_pylist()[1] == 1
    assert table.column("float").to_pylist()[3] == 2.5
    assert table.column("str").to_pylist()[6] == "x"
    assert table.column("bool").to_pylist()[7] is True


def test_pyarrow_image_metadata():
    table = _open(_image())
    meta = table.schema.metadata
    assert meta[b"wf_widgets.kind"] == b"Image"
    assert json.loads(meta[b"wf_widgets.shape"]) == [2, 3, 4]
    props = json.loads(meta[b"wf_widgets.properties"])
    assert props["date"] == {"$datetime": "2020-03-01T12:30:15.250000Z"}
    assert list(json.loads(meta[b"wf_widgets.bandinfo"])) == ["vv", "vh"]
    assert json.loads(meta[b"wf_widgets.geocontext"])["crs"] == "EPSG:32613"
    assert table.column("data").null_count == 3
    coll = _open(_collection())
    assert coll.schema.metadata[b"wf_widgets.kind"] == b"ImageCollection"
    props = json.loads(coll.schema.metadata[b"wf_widgets.properties"])
    assert props[1]["$dict"]["$odd key"] == {"$dict": {"$datetime": "literal"}}


def test_a_sessions_first_scalar_results_do_not_import_pandas(tmp_path):
    """pyarrow imports pandas (seconds) to convert any Python object; scalars are built from buffers."""
    code = ("import sys, datetime, wf_widgets as wf\n"
            f"wf.set_backend(wf.Backend(wf.Settings(home={str(tmp_path)!r})))\n"
            "assert (wf.Int(1) + 1).compute() == 2 and (wf.Float(1.5) * 2).compute() == 3.0\n"
            "assert wf.Str('é').compute() == 'é' and wf.Bool(True).compute() is True\n"
            "assert wf.Datetime('2020-01-02').compute() == datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone.utc)\n"
            "print('pandas' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
