"""Reading catalog rasters into a GeoContext: warps, masks, scaling, access, checks before reads."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

import wf_widgets as wf
from wf_widgets.backend import Backend
from wf_widgets.config import Settings
from wf_widgets.engine import reading
from wf_widgets.engine.evaluate import EvalContext, evaluate, plan
from wf_widgets.errors import NotFound, PermissionDenied, ValidationError
from wf_widgets.outputs.results import ImageResult

from ._helpers import make_product, upload

LAT, LON = 35.6870, -105.9378
TILE = wf.DLTile.from_latlon(LAT, LON, 10, 256, 0)


def _pixel(tile, lon: float, lat: float) -> tuple[int, int]:
    x, y = Transformer.from_crs("EPSG:4326", tile.crs, always_xy=True).transform(lon, lat)
    col, row = ~tile.transform @ (x, y)
    return int(row), int(col)


def test_lonlat_image_reads_into_utm_tile_at_the_right_place(home_backend):
    store = home_backend.catalog
    make_product(store, "test:lonlat", physical_range=None)
    west, south, east, north = TILE.geometry.bounds
    res = 0.0001
    # The image covers the tile's west part only (and beyond it west, north and south).
    x0, y1 = west - 0.005, north + 0.005
    x1 = west + 0.6 * (east - west)
    width, height = int(round((x1 - x0) / res)), int(round((y1 - (south - 0.005)) / res))
    arr = np.full((1, height, width), 100, dtype=np.uint16)
    # A 0.0005 degree square of 500 around a known point P.
    plon, plat = west + 0.3 * (east - west), south + 0.5 * (north - south)
    c, r = int((plon - x0) / res), int((y1 - plat) / res)
    arr[0, r - 2:r + 3, c - 2:c + 3] = 500
    upload(store, "test:lonlat", "img", arr, "EPSG:4326", (x0, res, 0, y1, 0, -res))

    result = wf.Image.from_id("test:lonlat:img").compute(TILE)

    assert isinstance(result, ImageResult)
    assert result.ndarray.shape == (1, 256, 256) and result.ndarray.dtype == np.float64
    row, col = _pixel(TILE, plon, plat)
    assert result.ndarray[0, row, col] == 500
    assert result.ndarray[0, row, col - 20] == 100
    assert result.ndarray.mask[0, :, -10:].all()  # east of the footprint
    assert not result.ndarray.mask[0, :, :100].any()
    assert result.properties["id"] == "test:lonlat:img"
    assert result.properties["date"].isoformat() == "2020-02-01T00:00:00+00:00"
    gc = result.geocontext
    assert gc["crs"] == TILE.crs and gc["width"] == gc["height"] == 256
    assert gc["transform"] == list(TILE.transform)[:6] and gc["key"] == TILE.key


def test_physical_range_scaling_and_nodata_mask(home_backend):
    store = home_backend.catalog
    make_product(store, "test:scaled", physical_range=(-1.0, 1.0))
    xmin, _, _, ymax = TILE.bounds
    arr = np.full((1, 256, 256), 5000, dtype=np.uint16)
    arr[0, :10] = 0  # nodata
    arr[0, 20, 30] = 10000
    upload(store, "test:scaled", "img", arr, TILE.crs, (xmin, 10, 0, ymax, 0, -10))

    result = wf.Image.from_id("test:scaled:img").compute(TILE)

    assert result.ndarray.mask[0, :10].all() and not result.ndarray.mask[0, 10:].any()
    assert result.ndarray[0, 100, 100] == pytest.approx(0.0)
    assert result.ndarray[0, 20, 30] == pytest.approx(1.0)
    assert result.bandinfo["b1"]["physical_range"] == [-1.0, 1.0]
    assert result.bandinfo["b1"]["data_range"] == [0, 10000]


def test_alpha_band_masks_and_bilinear_resampling(home_backend):
    store = home_backend.catalog
    make_product(store, "test:alpha", bands=("b1",), nodata=None, alpha=True)
    xmin, _, _, ymax = TILE.bounds
    arr = np.zeros((2, 128, 128), dtype=np.uint16)
    arr[0] = 40
    arr[1] = 1
    arr[1, :, :64] = 0  # west half not valid
    upload(store, "test:alpha", "img", arr, TILE.crs, (xmin, 20, 0, ymax, 0, -20))

    for resampler in ("near", "bilinear"):
        result = wf.Image.from_id("test:alpha:img", resampler=resampler).compute(TILE)
        assert list(result.bandinfo) == ["b1"]  # the alpha band becomes the mask
        assert result.ndarray.mask[0, :, :120].all()
        assert not result.ndarray.mask[0, :, 136:].any()
        assert np.allclose(result.ndarray[0, :, 136:], 40)


def test_image_outside_the_context_is_fully_masked(home_backend):
    store = home_backend.catalog
    make_product(store, "test:far")
    upload(store, "test:far", "img", np.ones((1, 8, 8), np.uint16), "EPSG:4326", (10, 0.01, 0, 10, 0, -0.01))
    result = wf.Image.from_id("test:far:img").compute(TILE)
    assert result.ndarray.mask.all()
    assert wf.ImageCollection.from_id("test:far").length().compute(TILE) == 0


def test_private_product_of_another_user_is_permission_denied(home_backend):
    home = home_backend.settings.home
    bob = Backend(Settings(home=home, user="user:bob"), sweep=False)
    try:
        make_product(bob.catalog, "bob:private", readers=())
    finally:
        bob.close()
    with pytest.raises(PermissionDenied, match="user:alice may not read product 'bob:private'"):
        wf.ImageCollection.from_id("bob:private").compute(TILE)
    # A graph built elsewhere fails before any job exists too.
    node = wf.values.Node("ic_from_id", ("bob:private", None, None, None, "near"))
    graph = wf.values.to_json(node, "ImageCollection")
    with pytest.raises(PermissionDenied, match="may not read"):
        wf.compute(wf.Value.from_json(graph), TILE, block=False)
    assert home_backend.jobs.list() == []
    # And the evaluation's planning checks it again, before reading.
    with pytest.raises(PermissionDenied, match="may not read"):
        _planned(node)


@pytest.fixture
def no_reads(monkeypatch):
    """Fail the test if any scene is read."""
    def read_scene(*args, **kwargs):
        raise AssertionError("a scene was read")

    monkeypatch.setattr(reading, "read_scene", read_scene)
    import wf_widgets.engine.raster as raster

    monkeypatch.setattr(raster, "read_scene", read_scene)


def _planned(node):
    ctx = EvalContext(TILE)
    plan(node, ctx)
    return evaluate(node, ctx)


def test_unknown_product_is_not_found_before_any_read(demo_backend, no_reads):
    with pytest.raises(NotFound, match=r"Unknown product id 'nope:nothing'; products you may read: 'sentinel-1:GRD'"):
        wf.ImageCollection.from_id("nope:nothing").compute(TILE)
    node = wf.values.Node("ic_from_id", ("nope:nothing", None, None, None, "near"))
    with pytest.raises(ValueError, match="Unknown product id 'nope:nothing'"):
        _planned(node)


def test_empty_date_range_before_any_read(demo_backend, no_reads):
    with pytest.raises(ValidationError, match="Empty date range"):
        wf.ImageCollection.from_id("sentinel-1:GRD", "2020-05-01", "2020-01-01")
    with pytest.raises(ValueError, match="Empty date range"):
        wf.ImageCollection.from_id("sentinel-1:GRD", "2020-05-01", "2020-05-01")
    node = wf.values.Node("ic_from_id", ("sentinel-1:GRD", "2020-05-01T00:00:00+00:00",
                                         "2020-01-01T00:00:00+00:00", None, "near"))
    with pytest.raises(ValueError, match="Empty date range"):
        _planned(node)


def test_unknown_band_name_before_any_read(demo_backend, no_reads):
    ic = wf.ImageCollection.from_id("sentinel-1:GRD")
    with pytest.raises(ValueError, match=r"Unknown band name\(s\) 'hh'; allowed band names: 'vv', 'vh'"):
        ic.pick_bands("vv hh")
    node = wf.values.Node("pick_bands", (ic.node, ["hh"]))
    with pytest.raises(ValidationError, match="allowed band names: 'vv', 'vh'") as info:
        _planned(node)
    assert info.value.allowed == ("vv", "vh")


def test_band_count_mismatch_before_any_read(demo_backend, no_reads):
    ic = wf.ImageCollection.from_id("sentinel-1:GRD")
    two = ic.mean(axis="images")
    three = two.concat_bands(two.pick_bands("vv"))
    with pytest.raises(ValueError, match=r"Band count mismatch for 'add': 2 band\(s\) \(vv, vh\) and 3"):
        two + three
    node = wf.values.Node("add", (two.node, three.node))
    with pytest.raises(ValueError, match="Band count mismatch"):
        _planned(node)


def test_missing_geoctx_is_a_validation_error(demo_backend):
    with pytest.raises(ValueError, match="needs a geoctx"):
        wf.ImageCollection.from_id("sentinel-1:GRD").mean(axis="images").compute()
    # An Int computed from imagery needs one too: refused before a job row exists.
    before = len(demo_backend.jobs.list(limit=10_000))
    with pytest.raises(ValueError, match=r"this value \(it reads imagery\) needs a geoctx"):
        wf.ImageCollection.from_id("sentinel-1:GRD").length().compute()
    assert len(demo_backend.jobs.list(limit=10_000)) == before


def test_catalog_reader_lists_scenes_in_date_order(demo_backend):
    reader = reading.CatalogReader.for_backend(demo_backend)
    scenes = reader.scenes("sentinel-1:GRD", "2020-02-01T00:00:00+00:00", "2020-03-01T00:00:00+00:00", None, TILE)
    dates = [s.acquired for s in scenes]
    assert dates == sorted(dates) and len(dates) == 5
    assert all(d.month == 2 for d in dates)
    assert len(reader.scenes("sentinel-1:GRD", None, None, 3, TILE)) == 3
    assert reader.product_bands("sentinel-1:GRD") == ["vv", "vh"]
    with pytest.raises(NotFound):
        reader.image_row("sentinel-1:GRD:nope")
