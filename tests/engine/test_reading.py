"""Reading catalog rasters into a GeoContext: warps, masks, scaling, access, checks before reads."""

from __future__ import annotations

import datetime as dt
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import rasterio.env
from pyproj import Transformer
from rasterio.errors import NotGeoreferencedWarning

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


# -- finding scenes: the catalog's indexes, then the precise test --------------------------------
SCATTERED = "org:scattered"


def _image_row(name: str, crs, geotrans, size=(1000, 1000), acquired=None, files=True) -> dict:
    return {"id": f"{SCATTERED}:{name}", "product_id": SCATTERED, "name": name, "acquired": acquired, "cs_code": crs,
            "geotrans": None if geotrans is None else list(geotrans), "x_pixels": size[0], "y_pixels": size[1],
            "files": [{"href": f"files/org%3Ascattered/{name}.tif", "size": 1}] if files else None}


def _utm_image(name: str, lon: float, lat: float, km: float, acquired, crs=None, **kw) -> dict:
    crs = crs or wf.geo.utm_crs(wf.geo.utm_zone(lon))
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    res = km * 1000 / 1000
    return _image_row(name, crs, (x - km * 500, res, 0.0, y + km * 500, 0.0, -res), acquired=acquired, **kw)


def _scattered_product(store) -> None:
    """Images near the test tile, across the antimeridian, around the north pole, and odd ones."""
    make_product(store, SCATTERED)
    day = [dt.datetime(2020, 1, d, tzinfo=dt.timezone.utc) for d in range(1, 8)]
    rows = [
        _utm_image("tile_a", LON, LAT, 10, day[1]),
        _utm_image("tile_b", LON + 0.02, LAT - 0.02, 8, day[2]),
        _utm_image("tile_zone12", LON - 0.02, LAT, 20, day[3], crs="EPSG:32612"),  # another zone's grid
        _utm_image("tile_undated", LON, LAT, 10, None),
        _utm_image("tile_no_file", LON, LAT, 10, day[1], files=False),
        _image_row("tile_no_geotrans", "EPSG:32613", None, acquired=day[1]),
        _image_row("tile_lonlat", "EPSG:4326", (LON - 0.1, 0.001, 0.0, LAT + 0.1, 0.0, -0.001), (200, 200), day[4]),
        _utm_image("near", LON + 0.12, LAT, 10, day[1]),  # in the z10 web-mercator tile, not the DLTile
        _utm_image("far", LON + 3, LAT + 2, 10, day[2]),
        _utm_image("dateline_east", 179.95, 60.0, 20, day[1], crs="EPSG:32660"),
        _utm_image("dateline_west", -179.95, 60.0, 20, day[2], crs="EPSG:32601"),
        _image_row("dateline_lonlat", "EPSG:4326", (179.0, 0.01, 0.0, 60.5, 0.0, -0.01), (200, 100), day[3]),
        _image_row("pole", "EPSG:3413", (-500000.0, 10000.0, 0.0, 500000.0, 0.0, -10000.0), (100, 100), day[1]),
    ]
    rng = np.random.default_rng(3)
    for i in range(60):  # the rest of the western United States
        rows.append(_utm_image(f"west_{i:02d}", float(rng.uniform(-124, -110)), float(rng.uniform(30, 34)),
                               float(rng.uniform(5, 30)), day[int(rng.integers(7))]))
    with store.transaction():
        for row in rows:
            store.insert_image(row)


def _scenes_by_scanning(store, product_id, start, end, limit, geoctx) -> list[str]:
    """What ``CatalogReader.scenes`` answered before the catalog's indexes: every row tested in turn."""
    def bound(text):
        if not text:
            return None
        value = dt.datetime.fromisoformat(text)
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)

    lo, hi = bound(start), bound(end)
    grid = reading.grid_polygon(geoctx)
    found = []
    for row in store.list_images(product_id):
        acquired = row["acquired"]
        if (lo or hi) and acquired is None or (lo and acquired < lo) or (hi and acquired >= hi):
            continue
        if not row["files"] or None in (row["geotrans"], row["cs_code"], row["x_pixels"]):
            continue
        shape = reading.footprint(row["cs_code"], reading.Affine.from_gdal(*row["geotrans"]), row["x_pixels"],
                                  row["y_pixels"], geoctx.crs)
        if shape is not None and shape.intersection(grid).area > 0:
            found.append((acquired or dt.datetime.max.replace(tzinfo=dt.timezone.utc), row["id"]))
    return [i for _, i in sorted(found)][:limit]


CONTEXTS = {
    "dltile": TILE,
    "webmercator_z10": wf.engine.render.tile_geocontext(10, 210, 403),  # x -106.17..-105.82
    "lonlat_aoi": wf.AOI(bounds=(LON - 0.2, LAT - 0.2, LON + 0.2, LAT + 0.2), crs="EPSG:4326", resolution=0.001),
    "dateline_dltile": wf.DLTile.from_latlon(60.0, 179.99, 60, 512, 0),
    "dateline_aoi": wf.AOI(bounds=(179.5, 59.5, 180.5, 60.5), crs="EPSG:4326", resolution=0.01),
    "north_pole": wf.AOI(bounds=(-200000.0, -200000.0, 200000.0, 200000.0), bounds_crs="EPSG:3413", crs="EPSG:3413",
                         resolution=5000.0),
    "far_away": wf.DLTile.from_latlon(-30.0, 20.0, 10, 256, 0),
}
DATES = [(None, None, None), ("2020-01-02T00:00:00+00:00", "2020-01-04T00:00:00+00:00", None),
         ("2020-01-03T00:00:00+00:00", None, None), (None, "2020-01-03T00:00:00+00:00", 2),
         ("2020-01-02", "2020-01-03", None)]


@pytest.mark.parametrize("context", list(CONTEXTS))
def test_scenes_are_those_a_scan_of_every_image_finds(home_backend, context):
    store = home_backend.catalog
    _scattered_product(store)
    geoctx = CONTEXTS[context]
    reader = reading.CatalogReader.for_backend(home_backend)
    for start, end, limit in DATES:
        expected = _scenes_by_scanning(store, SCATTERED, start, end, limit, geoctx)
        assert [s.id for s in reader.scenes(SCATTERED, start, end, limit, geoctx)] == expected, (start, end)
    everything = [s.id.rsplit(":", 1)[1] for s in reader.scenes(SCATTERED, None, None, None, geoctx)]
    wanted = {
        "dltile": ["tile_a", "tile_b", "tile_zone12", "tile_lonlat", "tile_undated"],
        "dateline_dltile": ["dateline_east", "dateline_west", "dateline_lonlat"],
        "dateline_aoi": ["dateline_east", "dateline_west", "dateline_lonlat"],
        "north_pole": ["pole"],
        "far_away": [],
    }
    if context in wanted:
        assert everything == wanted[context]
    if context in ("webmercator_z10", "lonlat_aoi"):
        assert {"tile_a", "near"} <= set(everything) and "far" not in everything
    assert "tile_no_file" not in everything and "tile_no_geotrans" not in everything


def test_date_bounds_of_scenes_start_included_end_excluded(home_backend):
    store = home_backend.catalog
    _scattered_product(store)
    reader = reading.CatalogReader.for_backend(home_backend)

    def names(start, end):
        return [s.id.rsplit(":", 1)[1] for s in reader.scenes(SCATTERED, start, end, None, TILE)]

    assert names("2020-01-02T00:00:00+00:00", "2020-01-03T00:00:00+00:00") == ["tile_a"]
    assert names("2020-01-02T00:00:00.000001+00:00", "2020-01-04T00:00:00+00:00") == ["tile_b"]
    assert names("2020-01-03T02:00:00+02:00", "2020-01-04T00:00:00+00:00") == ["tile_b"]  # same instant
    assert names("2020-01-03", "2020-01-04") == ["tile_b"]  # naive is UTC
    assert names(None, "2020-01-02T00:00:00+00:00") == []


def test_only_candidates_get_the_precise_test_and_a_file_path(home_backend, monkeypatch):
    """Footprints and file paths cost per candidate of the index, not per image of the product."""
    store = home_backend.catalog
    _scattered_product(store)
    calls = {"footprint": 0, "resolve": 0}
    footprint, resolve = reading.footprint, reading.files.resolve

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(reading, "footprint", counted("footprint", footprint))
    monkeypatch.setattr(reading.files, "resolve", counted("resolve", resolve))
    scenes = reading.CatalogReader.for_backend(home_backend).scenes(SCATTERED, None, None, None, TILE)
    assert len(scenes) == 5 and calls["resolve"] == 5
    # The five only: of the 73 images, the index gives one more ("tile_no_file", dropped unread).
    assert calls["footprint"] == 5, calls


class CountingCatchWarnings(warnings.catch_warnings):
    """``warnings.catch_warnings``, counting how often it is entered."""

    entered = 0

    def __enter__(self):
        type(self).entered += 1
        return super().__enter__()


def test_warps_never_hide_warnings_with_catch_warnings(home_backend, monkeypatch):
    # rasterio wraps a bare array in a dataset opened without georeferencing and hides the
    # NotGeoreferencedWarning that raises with warnings.catch_warnings, which is not
    # thread-safe: reads in parallel threads then showed it. Reads warp dataset to dataset.
    store = home_backend.catalog
    grid = (TILE.geotrans[0] - 200, 7.5, 0, TILE.geotrans[3] + 100, 0, -7.5)
    make_product(store, "test:nodata")
    upload(store, "test:nodata", "img", np.full((1, 300, 300), 7, dtype=np.uint16), TILE.crs, grid)
    make_product(store, "test:alpha", alpha=True)
    arr = np.ones((2, 300, 300), dtype=np.uint16)
    arr[1, :, :150] = 0
    upload(store, "test:alpha", "img", arr, TILE.crs, grid)
    monkeypatch.setattr(warnings, "catch_warnings", CountingCatchWarnings)
    one_warp = wf.Image.from_id("test:nodata:img").compute(TILE).ndarray  # a shared nodata, no alpha band
    general = wf.Image.from_id("test:alpha:img").compute(TILE).ndarray  # the alpha band: data and validity
    assert one_warp.max() == 7 and general.mask.any() and not general.mask.all()
    assert CountingCatchWarnings.entered == 0


def test_parallel_reads_raise_no_georeferencing_warning(demo_backend):
    tiles = [wf.DLTile.from_latlon(LAT + 0.004 * i, LON, 60, 64, 0) for i in range(24)]
    composite = wf.ImageCollection.from_id("sentinel-1:GRD", "2020-01-01", "2020-05-01").mean(axis="images")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ThreadPoolExecutor(max_workers=12) as pool:
            results = list(pool.map(composite.compute, tiles))
    assert len(results) == 24
    assert [str(w.message) for w in caught if issubclass(w.category, NotGeoreferencedWarning)] == []


# -- on every object store: the COGs only in the store, read in place ---------------------------------
@pytest.fixture
def store_backend(tmp_path, storage_url):
    """``user:alice`` on an empty home whose object store is each kind of store, installed as the default."""
    b = Backend(Settings(home=tmp_path / "home", user="user:alice", storage_url=storage_url), sweep=False)
    previous = wf.set_backend(b)
    yield b
    wf.set_backend(previous)
    b.close()


def test_a_composite_reads_the_uploaded_cogs_from_the_store(store_backend):
    store = store_backend.catalog
    make_product(store, "test:stored", physical_range=None)
    xmin, _, _, ymax = TILE.bounds
    for i, value in enumerate((100, 300)):
        arr = np.full((1, 256, 256), value, dtype=np.uint16)
        arr[0, :8] = 0  # nodata
        upload(store, "test:stored", f"img{i}", arr, TILE.crs, (xmin, 10, 0, ymax, 0, -10), acquired=f"2020-0{i + 1}-01")
    keys = store_backend.storage.keys("catalog/files")
    assert len(keys) == 2
    if not store_backend.storage.is_local:  # the COGs are only in the bucket
        assert not list(store_backend.settings.home.rglob("*.tif"))
    composite = wf.ImageCollection.from_id("test:stored", "2020-01-01", "2020-12-31").mean(axis="images")
    result = composite.compute(TILE)
    assert result.ndarray.mask[0, :8].all() and not result.ndarray.mask[0, 8:].any()
    assert np.allclose(result.ndarray[0, 8:], 200.0)
    second = wf.Image.from_id("test:stored:img1").compute(TILE)
    assert np.allclose(second.ndarray[0, 8:], 300.0)
    # The catalog destination uploads the composite to the store too; it reads back the same.
    make_product(store, "test:out", physical_range=None)
    target = wf.catalog.Image(name="composite", product_id="test:out")
    uploaded = composite.compute(TILE, destination={"type": "catalog", "image": target, "change_dtype": True})
    assert store_backend.storage.exists("catalog/" + uploaded.files[0]["href"])
    back = wf.Image.from_id("test:out:composite").compute(TILE)
    assert back.ndarray.mask[0, :8].all() and np.allclose(back.ndarray[0, 8:], 200.0)


def test_a_cog_in_the_bucket_is_read_by_byte_ranges_not_whole(tmp_path, s3_server):
    b = Backend(Settings(home=tmp_path / "home", user="user:alice", storage_url=s3_server.new_url()), sweep=False)
    previous = wf.set_backend(b)
    try:
        make_product(b.catalog, "test:big", physical_range=None)
        xmin, _, _, ymax = TILE.bounds
        rng = np.random.default_rng(0)
        arr = rng.integers(1, 10000, size=(1, 2048, 2048), dtype=np.uint16)  # 8 MiB, uncompressed
        image = wf.catalog.Image(name="big", product_id="test:big", acquired="2020-02-01", cs_code=TILE.crs,
                                 geotrans=(xmin, 10, 0, ymax, 0, -10), store=b.catalog)
        image.upload_ndarray(arr, overviews=False, compression="none")
        key = "catalog/" + image.files[0]["href"]
        size = b.storage.head(key).size
        assert size > 8 << 20
        served_before = len(s3_server.requests_for(key))
        window = wf.DLTile.from_latlon(LAT, LON, 10, 32, 0)  # 32 x 32 pixels inside the image
        result = wf.Image.from_id("test:big:big").compute(window)
        assert not result.ndarray.mask.any()
        reads = [r for r in s3_server.requests_for(key)[served_before:] if r.method == "GET"]
        assert reads and all(r.range for r in reads)  # every read a range request...
        assert sum(r.sent for r in reads) < size / 8  # ...of far less than the object (one 512 KiB tile)
    finally:
        wf.set_backend(previous)
        b.close()


def test_reads_never_build_a_boto3_session_from_the_environment(monkeypatch):
    """AWS variables in the environment (set for the object store) cost no boto3 session per read's Env."""
    from rasterio.session import DummySession

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    with reading.rasterio_env() as env:  # files: an empty session
        assert isinstance(env.session, DummySession)
    options = {"AWS_S3_ENDPOINT": "127.0.0.1:9", "AWS_ACCESS_KEY_ID": "store-id", "AWS_SECRET_ACCESS_KEY": "s"}
    with reading.rasterio_env(options) as env:  # S3: the store's own credentials, handed to GDAL
        assert env.session.get_credential_options() == {"AWS_ACCESS_KEY_ID": "store-id", "AWS_SECRET_ACCESS_KEY": "s"}
        assert rasterio.env.getenv()["AWS_ACCESS_KEY_ID"] == "store-id"
        assert rasterio.env.getenv()["AWS_S3_ENDPOINT"] == "127.0.0.1:9"
