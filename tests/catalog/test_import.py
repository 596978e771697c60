"""Product.import_files and `wf-widgets catalog import`: folders of GeoTIFFs, COGs in place, others converted."""

from __future__ import annotations

import datetime as _dt
import os

import numpy as np
import pytest
import rasterio
from affine import Affine

import wf_widgets as wf
from wf_widgets import cli
from wf_widgets.catalog import Image, Product
from wf_widgets.catalog.imports import expand_paths, is_cloud_optimized
from wf_widgets.errors import ValidationError
from wf_widgets.outputs import cog

from .conftest import every_store

TILE = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 64, 0)
UTC = _dt.timezone.utc


def _plain(path, array, nodata=0, transform=None, tags=None, descriptions=None, scale=None):
    """A striped (not cloud optimized) GeoTIFF on TILE's grid."""
    with rasterio.open(path, "w", driver="GTiff", width=array.shape[2], height=array.shape[1], count=array.shape[0],
                       dtype=array.dtype, crs=TILE.crs, transform=transform or Affine.from_gdal(*TILE.geotrans),
                       nodata=nodata) as ds:
        ds.write(array)
        if tags:
            ds.update_tags(**tags)
        if descriptions:
            ds.descriptions = descriptions
        if scale:
            ds.scales = [scale[0]] * array.shape[0]
            ds.offsets = [scale[1]] * array.shape[0]


def _cog(path, array, nodata=0):
    cog.write_cog(path, array, cog.CogProfile(crs=TILE.crs, transform=Affine.from_gdal(*TILE.geotrans),
                                              nodata=nodata, band_names=["vv", "vh"]))


@pytest.fixture
def folder(tmp_path):
    """S1_<date>_x.tif files: two plain GeoTIFFs, one COG, and a broken file; the arrays by image name."""
    rng = np.random.default_rng(3)
    src = tmp_path / "src"
    src.mkdir()
    arrays = {}
    for day in (1, 2, 3):
        arr = rng.integers(1, 500, (2, 64, 64)).astype("uint16")
        arr[:, :5 * day] = 0
        name = f"S1_2024010{day}_x"
        arrays[name] = arr
        if day == 3:
            _cog(src / f"{name}.tif", arr)
        else:
            _plain(src / f"{name}.tif", arr, descriptions=("vv", "vh"),
                   tags={"TIFFTAG_DATETIME": f"2024:02:0{day} 10:30:00"})
    (src / "S1_20240104_x.tif").write_bytes(b"not a tiff")
    (src / "notes.txt").write_text("not imported: not a .tif")
    return src, arrays


def test_a_folder_imported_twice_with_a_broken_file(cat, folder):
    src, arrays = folder
    first = Product.import_files("org:s1", src, acquired="S1_{date:%Y%m%d}_*.tif", progress=False)
    assert first.added == ["org:s1:S1_20240101_x", "org:s1:S1_20240102_x", "org:s1:S1_20240103_x"]
    assert first.referenced == ["org:s1:S1_20240103_x"]  # the COG, in place
    assert first.converted == ["org:s1:S1_20240101_x", "org:s1:S1_20240102_x"]
    broken = str(src / "S1_20240104_x.tif")
    assert list(first.failed) == [broken] and "S1_20240104_x.tif" in first.failed[broken]
    assert "not recognized as being in a supported file format" in first.failed[broken]
    assert "4 file(s) into org:s1: 3 added, 0 updated, 0 unchanged, 1 failed" in str(first)

    product = Product.get("org:s1")
    assert [(b.name, str(b.data_type), b.nodata) for b in product.bands()] == [("vv", "UInt16", 0),
                                                                               ("vh", "UInt16", 0)]
    images = {i.name: i for i in product.images()}
    assert images["S1_20240102_x"].acquired == _dt.datetime(2024, 1, 2, tzinfo=UTC)
    assert images["S1_20240103_x"].files[0]["href"] == str(src / "S1_20240103_x.tif")
    assert images["S1_20240101_x"].files[0]["href"] == "files/org:s1/S1_20240101_x.tif"
    for name, image in images.items():
        got = image.ndarray()
        assert np.array_equal(got.filled(0), arrays[name]) and np.array_equal(got.mask, arrays[name] == 0)
    assert images["S1_20240101_x"].extra_properties["source"] == str(src / "S1_20240101_x.tif")
    assert images["S1_20240101_x"].extra_properties["processing:software"] == {"wf-widgets": wf.__version__}

    second = Product.import_files("org:s1", src, acquired="S1_{date:%Y%m%d}_*.tif", progress=False)
    assert second.unchanged == first.added and not second.added and not second.updated
    assert list(second.failed) == [broken]
    assert sorted(i.id for i in product.images()) == first.added

    # The composite reads the in-place COG and the converted files alike.
    result = wf.ImageCollection.from_id("org:s1").mean(axis="images").compute(TILE)
    want = np.ma.stack([np.ma.masked_equal(a, 0).astype(float) for a in arrays.values()]).mean(axis=0)
    assert np.array_equal(result.ndarray.mask, want.mask) and np.ma.allclose(result.ndarray, want)


def test_acquired_from_the_tag_a_mapping_and_changed_files_updated(cat, folder):
    src, arrays = folder
    plain = [src / "S1_20240101_x.tif", src / "S1_20240102_x.tif"]
    summary = Product.import_files("org:s1", plain, progress=False)
    assert Image.get("org:s1:S1_20240102_x").acquired == _dt.datetime(2024, 2, 2, 10, 30, tzinfo=UTC)
    with pytest.raises(ValidationError, match=r"Could not import '.*S1_20240103_x.tif': the file has no "
                                              "TIFFTAG_DATETIME tag"):
        Product.import_files("org:s1", src / "S1_20240103_x.tif", acquired="tag", on_error="raise", progress=False)
    summary = Product.import_files("org:s1", plain, acquired={"S1_20240101_x": "2023-12-31"}, progress=False)
    assert summary.updated == ["org:s1:S1_20240101_x"]
    assert list(summary.failed) == [str(plain[1])]
    assert "acquired has no date for 'S1_20240102_x.tif'" in summary.failed[str(plain[1])]
    assert Image.get("org:s1:S1_20240101_x").acquired == _dt.datetime(2023, 12, 31, tzinfo=UTC)
    # A file rewritten since is converted again (same image id).
    new = (arrays["S1_20240101_x"] + 1).astype("uint16")
    _plain(plain[0], new, tags={"TIFFTAG_DATETIME": "2024:02:01 10:30:00"})
    os.utime(plain[0], (1e9, 1e9))
    summary = Product.import_files("org:s1", plain[0], progress=False)
    assert summary.updated == ["org:s1:S1_20240101_x"]
    assert np.array_equal(Image.get("org:s1:S1_20240101_x").ndarray().data, new)


def test_copy_converts_cogs_too_and_progress_is_drawn(cat, folder, capsys):
    src, arrays = folder
    summary = Product.import_files("org:s1", src / "S1_20240103_x.tif", copy=True)
    assert summary.converted == ["org:s1:S1_20240103_x"]
    assert Image.get("org:s1:S1_20240103_x").files[0]["href"] == "files/org:s1/S1_20240103_x.tif"
    err = capsys.readouterr().err
    assert "importing [####################] 1/1 S1_20240103_x.tif" in err
    assert repr(summary) == str(summary) == ("1 file(s) into org:s1: 1 added, 0 updated, 0 unchanged, 0 failed "
                                             "(0 referenced in place, 1 converted to COG)")


def test_bands_from_descriptions_scale_and_offset(cat, tmp_path):
    arr = np.full((1, 64, 64), 100, "int16")
    _plain(tmp_path / "dem.tif", arr, nodata=-1, descriptions=("height",), scale=(0.5, 10.0))
    Product.import_files("org:dem", tmp_path / "dem.tif", progress=False)
    (band,) = Product.get("org:dem").bands()
    assert band.name == "height" and band.physical_range == (-16374.0, 16393.5) and band.nodata == -1
    got = wf.Image.from_id("org:dem:dem").compute(TILE).ndarray
    assert np.allclose(got, 100 * 0.5 + 10.0)


def test_later_files_must_fit_the_product(cat, tmp_path):
    _plain(tmp_path / "a.tif", np.ones((2, 64, 64), "uint16"))
    _plain(tmp_path / "b.tif", np.ones((1, 64, 64), "uint16"))
    _plain(tmp_path / "c.tif", np.ones((2, 64, 64), "float32"))
    summary = Product.import_files("org:p", tmp_path, progress=False)
    assert summary.added == ["org:p:a"]
    assert summary.failed == {
        str(tmp_path / "b.tif"): "the file has 1 band(s) but product 'org:p' has 2 (band_1, band_2)",
        str(tmp_path / "c.tif"): "the file's data types ['Float32', 'Float32'] differ from the product's "
                                 "['UInt16', 'UInt16']",
    }


def test_arguments_checked_before_anything_is_imported(cat, tmp_path):
    with pytest.raises(ValidationError, match=r"No file matches '.*/\*.tif'"):
        Product.import_files("org:p", str(tmp_path / "*.tif"))
    with pytest.raises(ValidationError, match="holds no GeoTIFF"):
        Product.import_files("org:p", tmp_path)
    with pytest.raises(ValidationError, match=r"acquired pattern 'x_\*.tif' has no date field"):
        Product.import_files("org:p", tmp_path, acquired="x_*.tif")
    with pytest.raises(ValidationError, match="Unknown value 'stop' for 'on_error'"):
        Product.import_files("org:p", tmp_path, on_error="stop")
    with pytest.raises(ValidationError, match="acquired must be None, 'tag', a file name pattern"):
        Product.import_files("org:p", tmp_path, acquired=3.5)
    assert Product.get("org:p") is None


def test_file_name_patterns_with_two_fields_and_globs(cat, tmp_path):
    for name in ("T1_2024-03-09_1230_a.tif", "T1_2024-03-10_0815_b.tif"):
        _plain(tmp_path / name, np.ones((1, 64, 64), "uint8"))
    summary = Product.import_files("org:t", str(tmp_path / "T1_*.tif"), acquired="T1_{date:%Y-%m-%d}_{time:%H%M}_?.tif",
                                   progress=False)
    assert summary.ok
    assert Image.get("org:t:T1_2024-03-10_0815_b").acquired == _dt.datetime(2024, 3, 10, 8, 15, tzinfo=UTC)
    bad = Product.import_files("org:t", tmp_path, acquired="S1_{date:%Y%m%d}.tif", progress=False)
    assert "the file name 'T1_2024-03-09_1230_a.tif' does not match the acquired pattern" in \
        bad.failed[str(tmp_path / "T1_2024-03-09_1230_a.tif")]
    assert expand_paths([tmp_path / "T1_2024-03-09_1230_a.tif", str(tmp_path / "T1_*")]) == [
        str(tmp_path / "T1_2024-03-09_1230_a.tif"), str(tmp_path / "T1_2024-03-10_0815_b.tif")]


def test_what_counts_as_cloud_optimized(tmp_path):
    arr = np.ones((2, 64, 64), "uint16")
    _plain(tmp_path / "striped.tif", arr)
    _cog(tmp_path / "cog.tif", arr)
    with rasterio.open(tmp_path / "striped.tif") as a, rasterio.open(tmp_path / "cog.tif") as b:
        assert not is_cloud_optimized(a) and is_cloud_optimized(b)


@every_store
def test_referenced_files_survive_delete_and_sweep(cat, tmp_path):
    arr = np.arange(2 * 64 * 64, dtype="uint16").reshape(2, 64, 64) + 1
    _cog(tmp_path / "in_place.tif", arr)
    _plain(tmp_path / "copied.tif", arr)
    summary = Product.import_files("org:p", tmp_path, progress=False)
    assert summary.referenced == ["org:p:in_place"] and summary.converted == ["org:p:copied"]
    assert np.array_equal(Image.get("org:p:in_place").ndarray().data, arr)
    Image.get("org:p:in_place").delete()
    Product.import_files("org:p", tmp_path / "in_place.tif", progress=False)
    Product.get("org:p").delete(cascade=True)
    cat.sweep()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".tif") == ["copied.tif", "in_place.tif"]
    assert not [k for k in cat.storage.keys("catalog/files")]  # the converted copy went with its image


def test_cli_import(cat, folder, capsys, monkeypatch):
    src, _ = folder
    monkeypatch.setenv("WF_WIDGETS_HOME", str(cat.settings.home))
    monkeypatch.setenv("WF_WIDGETS_USER", "user:alice")
    code = cli.main(["catalog", "import", "org:cli", str(src / "S1_20240101_x.tif"), str(src / "S1_20240103_x.tif"),
                     "--acquired", "S1_{date:%Y%m%d}_*.tif", "--reader", "group:public"])
    out = capsys.readouterr()
    assert code == 0 and "2 file(s) into org:cli: 2 added" in out.out
    assert Product.get("org:cli").readers == ["group:public"]
    assert cli.main(["catalog"]) == 0
    listing = capsys.readouterr().out
    assert "S1_20240103_x  acquired 2024-01-03T00:00:00Z  64x64 px  EPSG:32613  file read in place" in listing
    assert "S1_20240101_x  acquired 2024-01-01T00:00:00Z  64x64 px  EPSG:32613  file\n" in listing
    code = cli.main(["catalog", "import", "org:cli", str(src)])
    out = capsys.readouterr()
    assert code == 1 and "1 failed" in out.out and "S1_20240104_x.tif" in out.out
    code = cli.main(["catalog", "import", "org:cli", str(src), "--on-error", "raise"])
    assert code == 1 and "Could not import" in capsys.readouterr().err


def test_cogs_over_http_are_read_in_place_other_files_converted(cat, folder):
    from ._servers import serve_files

    src, arrays = folder
    with serve_files(src) as url:
        urls = [f"{url}/files/S1_20240103_x.tif", f"{url}/files/S1_20240101_x.tif"]
        summary = Product.import_files("org:web", urls, acquired="S1_{date:%Y%m%d}_*.tif", progress=False)
        assert summary.referenced == ["org:web:S1_20240103_x"] and summary.converted == ["org:web:S1_20240101_x"]
        assert Image.get("org:web:S1_20240103_x").files[0]["href"] == urls[0]
        result = wf.ImageCollection.from_id("org:web").mean(axis="images").compute(TILE)
        names = ("S1_20240101_x", "S1_20240103_x")
        want = np.ma.stack([np.ma.masked_equal(arrays[n], 0).astype(float) for n in names]).mean(axis=0)
        assert np.array_equal(result.ndarray.mask, want.mask) and np.ma.allclose(result.ndarray, want)
        again = Product.import_files("org:web", urls, acquired="S1_{date:%Y%m%d}_*.tif", progress=False)
        assert again.unchanged == ["org:web:S1_20240103_x", "org:web:S1_20240101_x"]
    # the converted copy is the catalog's own: readable with the server gone
    assert np.array_equal(Image.get("org:web:S1_20240101_x").ndarray().filled(0), arrays["S1_20240101_x"])


@pytest.mark.parametrize("store_kind", ["s3"], indirect=True)
def test_cogs_in_s3_are_read_in_place(cat, tmp_path):
    arr = np.arange(2 * 64 * 64, dtype="uint16").reshape(2, 64, 64) + 1
    _cog(tmp_path / "scene.tif", arr)
    cat.storage.put_file("incoming/scene.tif", tmp_path / "scene.tif")
    url = cat.storage.location("incoming/scene.tif")
    assert url.startswith("s3://")
    summary = Product.import_files("org:s3", url, progress=False)
    assert summary.referenced == ["org:s3:scene"]
    image = Image.get("org:s3:scene")
    assert image.files[0]["href"] == url and image.file_location == "/vsis3/" + url[len("s3://"):]
    assert np.array_equal(image.ndarray().data, arr)
    got = wf.Image.from_id("org:s3:scene").compute(TILE).ndarray
    assert np.array_equal(got.data, arr)
    Product.get("org:s3").delete(cascade=True)
    assert cat.storage.exists("incoming/scene.tif")


def test_the_image_card_tells_where_an_imported_image_came_from(cat, folder):
    src, _ = folder
    Product.import_files("org:s1", [src / "S1_20240103_x.tif", src / "S1_20240101_x.tif"], progress=False)
    in_place = Image.get("org:s1:S1_20240103_x")._repr_html_()
    assert "(read in place)" in in_place and str(src / "S1_20240103_x.tif") in in_place
    assert "referenced in place" in in_place and "wf-widgets=" + wf.__version__ in in_place
    assert "<img" in in_place  # a thumbnail read from the file in place
    converted = Image.get("org:s1:S1_20240101_x")._repr_html_()
    assert "converted to a COG" in converted and "(read in place)" not in converted
