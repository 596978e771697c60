"""Product.from_stac: a STAC collection written with pystac around GeoTIFFs made here, read in place."""

from __future__ import annotations

import datetime as _dt
import json

import numpy as np
import pystac
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from pystac.extensions.eo import Band as EOBand
from pystac.extensions.eo import EOExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import DataType as RasterType
from pystac.extensions.raster import RasterBand, RasterExtension

import wf_widgets as wf
from wf_widgets.catalog import GenericBand, Image, Product, SpectralBand
from wf_widgets.errors import ValidationError

#: A 64 x 64 tile of 10 m pixels in UTM zone 13N (EPSG:32613).
TILE = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 64, 0)
DATES = [_dt.datetime(2024, 5, 1, 17, tzinfo=_dt.timezone.utc), _dt.datetime(2024, 5, 11, 17, tzinfo=_dt.timezone.utc)]
#: The 20 m band's scale and offset (raster extension): reads give value * SCALE + OFFSET.
SCALE, OFFSET = 0.5, 1.0


def _write(path, array, transform, nodata):
    with rasterio.open(path, "w", driver="GTiff", width=array.shape[1], height=array.shape[0], count=1,
                       dtype=array.dtype, crs=TILE.crs, transform=transform, nodata=nodata, tiled=True,
                       blockxsize=16, blockysize=16) as ds:
        ds.write(array, 1)


def _lonlat_bbox():
    x0, y0, x1, y1 = TILE.bounds
    lons, lats = Transformer.from_crs(TILE.crs, "EPSG:4326", always_xy=True).transform(
        [x0, x1, x1, x0], [y0, y0, y1, y1])
    return [min(lons), min(lats), max(lons), max(lats)]


@pytest.fixture
def stac_collection(tmp_path):
    """A self-contained static collection on disk: 2 items, each a 10 m asset (``b10``, uint16, nodata 0) and
    a 20 m asset (``b20``, uint16, scale/offset); the arrays written, by item id."""
    rng = np.random.default_rng(7)
    fine = Affine.from_gdal(*TILE.geotrans)
    coarse = fine @ Affine.scale(2)
    west, south, east, north = _lonlat_bbox()
    geometry = {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north], [west, north],
                                                    [west, south]]]}
    collection = pystac.Collection(
        id="my-sensor", description="Two bands at two resolutions", title="My sensor",
        extent=pystac.Extent(pystac.SpatialExtent([[west, south, east, north]]),
                             pystac.TemporalExtent([[DATES[0], DATES[-1]]])))
    data = {}
    (tmp_path / "files").mkdir()
    for n, date in enumerate(DATES):
        item_id = f"scene-{n}"
        b10 = rng.integers(1, 1000, (64, 64)).astype("uint16")
        b10[: 8 + 4 * n] = 0  # nodata rows, more in the second scene
        b20 = rng.integers(1, 1000, (32, 32)).astype("uint16")
        _write(tmp_path / "files" / f"{item_id}_b10.tif", b10, fine, 0)
        _write(tmp_path / "files" / f"{item_id}_b20.tif", b20, coarse, None)
        data[item_id] = (b10, b20)
        item = pystac.Item(item_id, geometry, [west, south, east, north], date, {})
        for key, res, shape, transform in (("b10", 10, (64, 64), fine), ("b20", 20, (32, 32), coarse)):
            asset = pystac.Asset(str(tmp_path / "files" / f"{item_id}_{key}.tif"), media_type=pystac.MediaType.GEOTIFF,
                                 roles=["data"])
            item.add_asset(key, asset)
            band = RasterBand.create(data_type=RasterType.UINT16, spatial_resolution=res,
                                     nodata=0 if key == "b10" else None,
                                     scale=SCALE if key == "b20" else None, offset=OFFSET if key == "b20" else None)
            RasterExtension.ext(asset, add_if_missing=True).bands = [band]
            EOExtension.ext(asset, add_if_missing=True).bands = [
                EOBand.create(name=key, center_wavelength=0.665 if key == "b10" else None)]
            if key == "b10":  # b20 has no proj fields: its grid comes from its file
                proj = ProjectionExtension.ext(asset, add_if_missing=True)
                proj.epsg = int(TILE.crs.split(":")[1])
                proj.transform = list(transform)[:6]
                proj.shape = list(shape)
        collection.add_item(item)
    collection.normalize_hrefs(str(tmp_path / "stac"))
    collection.make_all_asset_hrefs_relative()
    collection.save(pystac.CatalogType.SELF_CONTAINED)
    return tmp_path / "stac" / "collection.json", data


def _expected_mean(data):
    """The mean over the scenes, as numpy computes it on the same pixels (20 m pixels repeated onto the 10 m grid)."""
    b10 = np.ma.stack([np.ma.masked_equal(d[0], 0).astype(float) for d in data.values()])
    b20 = np.ma.stack([np.repeat(np.repeat(d[1], 2, 0), 2, 1).astype(float) * SCALE + OFFSET
                       for d in data.values()])
    return np.ma.stack([b10.mean(axis=0), b20.mean(axis=0)])


def test_collection_path_imported_and_composited_like_numpy(cat, stac_collection, capsys):
    path, data = stac_collection
    assert json.loads(path.read_text())["links"]  # a static collection with relative links
    product = Product.from_stac(str(path), product_id="org:sensor")

    summary = product.import_summary
    assert summary.added == ["org:sensor:scene-0", "org:sensor:scene-1"] and summary.ok
    assert product.name == "My sensor" and product.description == "Two bands at two resolutions"
    bands = product.bands()
    assert [b.name for b in bands] == ["b10", "b20"]
    assert isinstance(bands[0], SpectralBand) and bands[0].wavelength_nm_center == pytest.approx(665)
    assert isinstance(bands[1], GenericBand) and bands[1].nodata is None
    assert bands[0].nodata == 0 and str(bands[0].data_type) == "UInt16" and bands[1].resolution == 20
    image = Image.get("org:sensor:scene-1")
    assert image.acquired == DATES[1] and image.cs_code == TILE.crs and (image.x_pixels, image.y_pixels) == (64, 64)
    assert [f["bands"] for f in image.files] == [["b10"], ["b20"]]
    assert image.files[0]["href"] == str(path.parent.parent / "files" / "scene-1_b10.tif")  # absolute, in place
    assert image.extra_properties["stac:item_id"] == "scene-1"
    assert "scene-1  acquired 2024-05-11T17:00:00Z  64x64 px  EPSG:32613  2 file(s) read in place" in \
        wf.catalog.catalog_listing(cat)
    assert "STAC item 'scene-1'" in image.extra_properties["processing:lineage"]
    assert "2 STAC item(s) into org:sensor: 2 added" in capsys.readouterr().err

    result = wf.ImageCollection.from_id("org:sensor").mean(axis="images").compute(TILE)
    want = _expected_mean(data)
    assert list(result.bandinfo) == ["b10", "b20"]
    assert np.array_equal(np.ma.getmaskarray(result.ndarray), np.ma.getmaskarray(want))
    assert np.ma.allclose(result.ndarray, want)

    # The image's own read assembles its two files on its grid.
    arr = image.ndarray()
    assert arr.shape == (2, 64, 64)
    assert np.array_equal(arr[1].filled(0), np.repeat(np.repeat(data["scene-1"][1], 2, 0), 2, 1))
    assert np.array_equal(arr[0].mask, data["scene-1"][0] == 0)


def test_pystac_objects_and_rerun_are_idempotent(cat, stac_collection):
    path, data = stac_collection
    collection = pystac.Collection.from_file(str(path))
    first = Product.from_stac(collection, assets=["b10", "b20"], progress=False)
    assert first.id == "stac:my-sensor" and len(first.import_summary.added) == 2
    again = Product.from_stac(collection, assets=["b10", "b20"], progress=False)
    assert again.import_summary.unchanged == ["stac:my-sensor:scene-0", "stac:my-sensor:scene-1"]
    assert not again.import_summary.added and not again.import_summary.updated
    # One item alone, and an ItemCollection, go to the same product.
    items = list(collection.get_items(recursive=True))
    one = Product.from_stac(items[0], product_id="stac:my-sensor", progress=False)
    assert one.import_summary.unchanged == ["stac:my-sensor:scene-0"]
    many = Product.from_stac(pystac.ItemCollection(items), product_id="stac:my-sensor", progress=False)
    assert len(many.import_summary.unchanged) == 2


def test_deleting_never_deletes_files_read_in_place(cat, stac_collection):
    path, _ = stac_collection
    product = Product.from_stac(str(path), product_id="org:sensor", progress=False)
    files_dir = path.parent.parent / "files"
    before = sorted(p.name for p in files_dir.iterdir())
    Image.get("org:sensor:scene-0").delete()
    product.delete(cascade=True)
    cat.sweep()
    assert sorted(p.name for p in files_dir.iterdir()) == before == [
        "scene-0_b10.tif", "scene-0_b20.tif", "scene-1_b10.tif", "scene-1_b20.tif"]


def test_per_item_errors_and_bad_arguments(cat, stac_collection):
    path, _ = stac_collection
    collection = pystac.Collection.from_file(str(path))
    items = []
    for item in collection.get_items(recursive=True):
        d = item.to_dict()
        for key, asset in item.assets.items():
            d["assets"][key]["href"] = asset.get_absolute_href()
        items.append(d)
    del items[1]["assets"]["b20"]
    product = Product.from_stac(items, product_id="org:sensor", progress=False, assets=["b10", "b20"])
    assert product.import_summary.added == ["org:sensor:scene-0"]
    assert product.import_summary.failed == {
        "scene-1": "the item has no asset 'b20'; it has 'b10'"}
    with pytest.raises(ValidationError, match="Could not import STAC item 'scene-1': the item has no asset 'b20'"):
        Product.from_stac(items, product_id="org:sensor", progress=False, assets=["b10", "b20"], on_error="raise")
    with pytest.raises(ValidationError, match="Unknown value 'skip' for 'on_error'; allowed: 'continue', 'raise'"):
        Product.from_stac(items, product_id="org:sensor", on_error="skip")
    with pytest.raises(ValidationError, match="belong to no collection: give product_id"):
        Product.from_stac([{k: v for k, v in i.items() if k != "collection"} for i in items], progress=False)
    with pytest.raises(ValidationError, match="Could not read the STAC document"):
        Product.from_stac(str(path.parent / "missing.json"))
    with pytest.raises(ValidationError, match="from_stac takes pystac objects"):
        Product.from_stac(42)


def test_int8_assets_are_refused_naming_the_band(cat, stac_collection):
    path, _ = stac_collection
    doc = json.loads((path.parent / "scene-0" / "scene-0.json").read_text())
    doc["assets"]["b10"]["raster:bands"][0]["data_type"] = "int8"
    doc["assets"]["b10"]["href"] = str((path.parent / "scene-0" / doc["assets"]["b10"]["href"]).resolve())
    doc["assets"]["b20"]["href"] = str((path.parent / "scene-0" / doc["assets"]["b20"]["href"]).resolve())
    with pytest.raises(ValidationError, match="band 'b10' of asset 'b10' has data type 'int8'"):
        Product.from_stac(doc, product_id="org:sensor", on_error="raise", progress=False)


def test_a_pystac_client_search(cat, stac_collection):
    from pystac_client import Client

    from ._servers import StacApi, serve

    path, data = stac_collection
    collection = pystac.Collection.from_file(str(path))
    items = []
    for item in collection.get_items(recursive=True):
        d = item.to_dict(include_self_link=False)
        for key, asset in item.assets.items():
            d["assets"][key]["href"] = asset.get_absolute_href()  # what an API serves: absolute hrefs
        items.append(d)
    api = StacApi(items)
    with serve(api.handlers()) as url:
        search = Client.open(url).search(collections=["my-sensor"], max_items=10)
        product = Product.from_stac(search, product_id="org:searched", progress=False)
    assert api.searches and api.searches[0] == ["my-sensor"]
    assert product.import_summary.added == ["org:searched:scene-0", "org:searched:scene-1"]
    result = wf.ImageCollection.from_id("org:searched").mean(axis="images").compute(TILE)
    assert np.ma.allclose(result.ndarray, _expected_mean(data))


def test_assets_over_http_are_read_in_place(cat, stac_collection):
    from ._servers import serve_files

    path, data = stac_collection
    with serve_files(path.parent.parent / "files") as url:
        doc = json.loads((path.parent / "scene-0" / "scene-0.json").read_text())
        for key in ("b10", "b20"):
            doc["assets"][key]["href"] = f"{url}/files/scene-0_{key}.tif"
        product = Product.from_stac(doc, product_id="org:remote", progress=False)
        assert product.import_summary.added == ["org:remote:scene-0"]
        image = Image.get("org:remote:scene-0")
        assert image.files[0]["href"] == f"{url}/files/scene-0_b10.tif" and image.referenced
        arr = wf.Image.from_id("org:remote:scene-0").compute(TILE).ndarray
    b10, b20 = data["scene-0"]
    assert np.array_equal(arr[0].mask, b10 == 0) and np.array_equal(arr[0].compressed(), b10[b10 != 0])
    assert np.allclose(arr[1], np.repeat(np.repeat(b20, 2, 0), 2, 1) * SCALE + OFFSET)
