"""Every transformation of the catalog destination, in the spec's order, and the data-loss guard."""

from __future__ import annotations

import datetime as _dt
import re
import time
from types import SimpleNamespace

import numpy as np
import pytest
import rasterio

import wf_widgets as wf
from wf_widgets.catalog.datatypes import DataType
from wf_widgets.delivery.catalog_target import BandPlan, Target
from wf_widgets.delivery.catalog_transforms import DataLoss, acquired, guard, transform
from wf_widgets.errors import JobDestination

UTC = _dt.timezone.utc


@pytest.fixture
def tile():
    return wf.DLTile.from_latlon(35.6870, -105.9378, 60, 64, 0)


def upload(value, tile, name="img", **options):
    """Compute ``value`` into org:my_product_id:<name>; returns (saved Image, the file's pixels, its metadata)."""
    image = wf.catalog.Image(name=name, product_id="org:my_product_id")
    saved = value.compute(tile, destination={"type": "catalog", "image": image, **options})
    with rasterio.open(saved.file_path) as src:
        meta = SimpleNamespace(descriptions=src.descriptions, dtypes=src.dtypes, nodata=src.nodata, count=src.count,
                               valid=src.dataset_mask() != 0)
        return saved, src.read(), meta


def nothing_uploaded(backend):
    store = backend.catalog
    assert store.list_images("org:my_product_id") == []
    assert not list((store.files_root).glob("org*/*")) and not list(store.files_root.glob("org*/.*"))


# -- 1. acquired ------------------------------------------------------------------------------------
def test_acquired_from_the_catalog_image_then_the_date_property_then_now(make_demo_catalog, make_product, tile,
                                                                         composite):
    then = _dt.datetime(2019, 6, 1, 8, 30, tzinfo=UTC)
    backend = make_demo_catalog(now_offset_s=then.timestamp() - time.time())
    make_product(data_type="Float64")
    scene = backend.catalog.list_images("sentinel-1:GRD")[3]
    one = wf.Image.from_id(scene["id"])

    own = wf.catalog.Image(name="own", product_id="org:my_product_id", acquired="2018-02-03T04:05:06Z")
    assert one.compute(tile, destination=own).acquired == _dt.datetime(2018, 2, 3, 4, 5, 6, tzinfo=UTC)
    from_date = one.compute(tile, destination=wf.catalog.Image(name="date", product_id="org:my_product_id"))
    assert from_date.acquired == scene["acquired"]
    moved = one.with_properties(date="2021-05-05")
    assert moved.compute(tile, destination=wf.catalog.Image(name="prop", product_id="org:my_product_id")).acquired \
        == _dt.datetime(2021, 5, 5, tzinfo=UTC)
    now = composite.compute(tile, destination=wf.catalog.Image(name="now", product_id="org:my_product_id"))
    assert abs((now.acquired - then).total_seconds()) < 120  # the composite has no date: the backend's clock


def test_acquired_unit():
    now = _dt.datetime(2020, 1, 1, tzinfo=UTC)
    assert acquired({}, {}, now) is now
    assert acquired({}, {"date": "not a date"}, now) is now
    assert acquired({}, {"date": _dt.datetime(2020, 3, 1)}, now) == _dt.datetime(2020, 3, 1, tzinfo=UTC)
    assert acquired({"acquired": "2020-02-01"}, {"date": "2020-03-01"}, now) == _dt.datetime(2020, 2, 1, tzinfo=UTC)


# -- 2. band reorder ----------------------------------------------------------------------------------
def test_bands_are_reordered_by_name(make_product, composite, tile):
    make_product(names=("vh", "vv"), data_type="Float64", band_class=wf.catalog.GenericBand)
    computed = composite.compute(tile)
    _, stored, src = upload(composite, tile)
    assert src.descriptions == ("vh", "vv")
    assert np.array_equal(stored[0], computed.ndarray[1]) and np.array_equal(stored[1], computed.ndarray[0])


def test_bands_keep_their_order_when_names_differ(make_product, composite, tile):
    make_product(names=("vh", "vv"), data_type="Float64", band_class=wf.catalog.GenericBand)
    value = composite.rename_bands("a", "b")
    computed = value.compute(tile)
    _, stored, src = upload(value, tile)
    assert src.descriptions == ("vh", "vv")
    assert np.array_equal(stored, computed.ndarray.data)


# -- 3. rescale ---------------------------------------------------------------------------------------
def test_rescale_maps_physical_range_to_data_range_only_where_set_and_asked(demo_catalog, composite, tile):
    product = wf.catalog.Product(id="org:my_product_id").save()
    wf.catalog.MicrowaveBand(name="vv", product_id=product.id, data_type="Float64", nodata=-9999,
                             data_range=(0, 10000), physical_range=(-50, 10)).save()
    wf.catalog.MicrowaveBand(name="vh", product_id=product.id, data_type="Float64", nodata=-9999,
                             data_range=(0, 10000)).save()
    computed = composite.compute(tile).ndarray
    _, stored, _ = upload(composite, tile, "scaled", rescale=True)
    assert np.allclose(stored[0], (computed[0] + 50) * 10000 / 60)
    assert np.array_equal(stored[1], computed[1])  # no physical_range: unchanged
    _, plain, _ = upload(composite, tile, "plain")
    assert np.array_equal(plain, computed.data)  # rescale=False: unchanged


# -- 4. data type -------------------------------------------------------------------------------------
def test_change_dtype_rounds_to_the_product_type(make_product, composite, tile):
    make_product(data_type="UInt16", nodata=0, data_range=(0, 10000), physical_range=(-50.0, 10.0))
    computed = composite.compute(tile).ndarray
    _, stored, src = upload(composite, tile, rescale=True, change_dtype=True)
    assert src.dtypes == ("uint16", "uint16")
    scale = 10000 / 60  # data_range span / physical_range span; offset: 0 - (-50) * scale
    assert np.array_equal(stored, np.rint(computed.data * scale + 50 * scale))


def test_float32_product_takes_float_values_without_change_dtype(make_product, composite, tile):
    make_product(data_type="Float32", nodata=-9999)
    computed = composite.compute(tile).ndarray
    _, stored, src = upload(composite, tile)
    assert src.dtypes == ("float32", "float32")
    assert np.array_equal(stored, computed.data.astype(np.float32))


def test_whole_numbers_fit_an_integer_product_without_change_dtype():
    target = Target("org:p", ({"name": "b", "data_type": "Int16", "nodata": -1, "attrs": {}},), None)
    arr = np.ma.masked_array([[[3.0, -7.0], [np.nan, 12.0]]], mask=[[[False, False], [True, False]]])
    out = transform(arr, ["b"], target, BandPlan((0,), True), rescale_values=False, change_dtype=False)
    assert out.dtype == np.int16 and out.data.tolist() == [[[3, -7], [-1, 12]]]


# -- 5. nodata ----------------------------------------------------------------------------------------
def test_masked_pixels_get_each_bands_nodata(demo_catalog, composite, tile):
    product = wf.catalog.Product(id="org:my_product_id").save()
    wf.catalog.GenericBand(name="vv", product_id=product.id, data_type="Float64", nodata=-1000).save()
    wf.catalog.GenericBand(name="vh", product_id=product.id, data_type="Float64", nodata=-2000).save()
    value = composite.mask(composite > -12.0)
    computed = value.compute(tile).ndarray
    _, stored, src = upload(value, tile)
    mask = np.ma.getmaskarray(computed)
    assert mask[0].any() and not np.array_equal(mask[0], mask[1])
    assert (stored[0][mask[0]] == -1000).all() and (stored[1][mask[1]] == -2000).all()
    assert np.array_equal(stored[0][~mask[0]], computed[0].compressed())
    # one nodata cannot describe both bands in a GeoTIFF: the file also has a mask (masked in any band)
    assert src.nodata is None
    assert np.array_equal(~src.valid, mask.any(axis=0))


# -- 6. alpha -----------------------------------------------------------------------------------------
def test_alpha_band_is_generated_from_the_mask(make_product, composite, tile):
    make_product(data_type="UInt16", nodata=None, alpha=True, data_range=(0, 10000), physical_range=(-50.0, 10.0))
    value = composite.mask(composite > -12.0)
    computed = value.compute(tile).ndarray
    _, stored, src = upload(value, tile, rescale=True, change_dtype=True)
    assert src.descriptions == ("vv", "vh", "alpha") and src.count == 3
    invalid = np.ma.getmaskarray(computed).any(axis=0)
    assert np.array_equal(stored[2], (~invalid).astype(np.uint16))
    assert (stored[:2][np.ma.getmaskarray(computed)] == 0).all()  # no nodata: masked pixels hold 0
    back = wf.ImageCollection.from_id("org:my_product_id").mosaic().compute(tile).ndarray
    assert np.array_equal(np.ma.getmaskarray(back), np.broadcast_to(invalid, back.shape))
    assert np.ma.abs(back - computed).max() <= 0.003 + 1e-9


def test_alpha_band_given_by_the_image_is_not_generated(make_product, composite, tile):
    make_product(data_type="Float64", nodata=None, alpha=True, band_class=wf.catalog.GenericBand)
    value = composite.concat_bands((composite.pick_bands("vv") * 0 + 1).rename_bands("alpha"))
    computed = value.compute(tile).ndarray
    _, stored, _ = upload(value, tile)
    assert np.array_equal(stored, computed.data)


# -- the data-loss guard ------------------------------------------------------------------------------
def failed(value, tile, **options):
    job = value.compute(tile, destination={"type": "catalog", "image": wf.catalog.Image(
        name="lossy", product_id="org:my_product_id"), **options}, block=False)
    with pytest.raises(JobDestination):
        job.wait(60)
    assert job.stage == "FAILED" and job._row["error_code"] == "DESTINATION"
    with pytest.raises(JobDestination) as info:
        job.result()
    return str(info.value)


def test_guard_refuses_floats_0_to_1_into_uint16(demo_catalog, make_product, composite, tile):
    make_product(data_type="UInt16", nodata=0)
    fraction = (composite + 50) / 60  # 0.0-1.0
    message = failed(fraction, tile, change_dtype=True)
    assert re.search(r"band 'vv' has values from 0\.\d+ to 0\.\d+, and converting them to the product's data "
                     r"type UInt16 would change them by 0\.\d+ on average", message), message
    assert "on average, more than 1% of their range" in message
    assert "rescale=True" in message and "scale_values" in message and "Nothing was uploaded" in message
    nothing_uploaded(demo_catalog)


def test_guard_refuses_values_the_type_would_clip(demo_catalog, make_product, composite, tile):
    make_product(data_type="UInt16", nodata=0, data_range=(0, 10000), physical_range=(-50.0, 10.0))
    message = failed(composite, tile, change_dtype=True)  # dB, negative, no rescale
    assert "band 'vv' has values from -2" in message
    assert "outside the range of the product's data type UInt16 (0 to 65535): converting would clip them" in message
    assert "rescale=True" in message
    nothing_uploaded(demo_catalog)


def test_without_change_dtype_floats_need_change_dtype(demo_catalog, make_product, composite, tile):
    make_product(data_type="UInt16", nodata=0, data_range=(0, 10000), physical_range=(-50.0, 10.0))
    message = failed(composite, tile, rescale=True)
    assert "not whole numbers" in message and "UInt16" in message and "Pass change_dtype=True" in message
    nothing_uploaded(demo_catalog)


@pytest.mark.parametrize("values, dtype, change, match", [
    (np.array([0.0, 0.5, 1.0]), "UInt16", True, r"would change them by .* on average"),
    (np.array([1.0, 70000.0]), "UInt16", True, r"outside the range .* UInt16 \(0 to 65535\)"),
    (np.array([-1.0, 3.0]), "Byte", True, r"outside the range"),
    (np.array([1.0, np.nan]), "Int32", True, r"NaN or infinite"),
    (np.array([1.5, 2.0]), "Int32", False, r"change_dtype is False"),
    (np.array([0.4, 0.4]), "Byte", True, r"on average"),
    (np.array([1e39, 1.0]), "Float32", False, r"outside the range .* Float32"),
    (np.array([1e6 + 0.001, 1e6 + 0.002, 1e6 + 0.003]), "Float32", True, r"on average"),
])
def test_guard_refuses(values, dtype, change, match):
    with pytest.raises(DataLoss, match=match):
        guard(values, DataType(dtype), change, "'b'")


@pytest.mark.parametrize("values, dtype, change", [
    (np.linspace(0.0, 10000.0, 101), "UInt16", True),  # rounding changes 0.25 on average, 0.0025 % of the range
    (np.array([3.0, 3.0]), "Byte", False),
    (np.array([0.0, 0.0]), "Byte", True),
    (np.array([1000.4, 1000.4]), "UInt16", True),  # 0.04 % of the magnitude
    (np.array([0.1, np.nan, np.inf]), "Float32", False),  # floats hold NaN and infinities
    (np.array([]), "Byte", True),
    (np.linspace(0.0, 1.0, 11), "Float64", False),
])
def test_guard_accepts(values, dtype, change):
    guard(values, DataType(dtype), change, "'b'")
