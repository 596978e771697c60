"""Images: uploads (atomic, COG), reads, metadata, deletion, names, reprs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import rasterio
from affine import Affine

from wf_widgets.catalog import GenericBand, Image, MaskBand, Product, SpectralBand
from wf_widgets.catalog.files import NAME_MAX
from wf_widgets.catalog.store import CatalogStore
from wf_widgets.errors import NotFound, ValidationError
from wf_widgets.outputs import cog, normalize

from ._helpers import CRS, GEOTRANS, catalog_files, masked, new_image
from .conftest import every_store

FIXED = dt.datetime(2020, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


@every_store
def test_upload_ndarray_then_read_back(cat, product):
    arr = masked((3, 128, 96), "float32")
    image = new_image(acquired="2020-05-01T10:00:00Z", extra_properties={"cloud": 0.1})
    assert image.upload_ndarray(arr) is image
    assert image.state == "saved" and (image.x_pixels, image.y_pixels) == (96, 128)
    (stored,) = image.files
    assert stored["size"] == cat.storage.head("catalog/" + stored["href"]).size
    assert catalog_files(cat) == ["org:my_product_id/my_image.tif"]
    if cat.storage.is_local:
        assert stored["href"] == "files/org:my_product_id/my_image.tif" and image.file_location == str(image.file_path)
    else:  # only in the bucket, read by GDAL in place
        assert image.file_path is None and image.file_location == cat.storage.gdal_path("catalog/" + stored["href"])
        assert not list((cat.settings.home / "catalog" / "files").rglob("*.tif"))
    got = Image.get("org:my_product_id:my_image")
    assert got == image and got.acquired == dt.datetime(2020, 5, 1, 10, tzinfo=dt.timezone.utc)
    back = got.ndarray()
    assert back.dtype == np.float32 and back.shape == (3, 128, 96)
    np.testing.assert_array_equal(np.ma.getmaskarray(back), np.ma.getmaskarray(arr))
    np.testing.assert_array_equal(back.compressed(), arr.compressed())
    assert got.read(max_size=32).shape == (3, 32, 24)


@every_store
def test_two_dimensional_integer_array_round_trips_exactly(cat, product):
    arr = np.arange(64 * 80, dtype=np.uint16).reshape(64, 80)
    new_image().upload_ndarray(arr)
    back = Image.get("org:my_product_id:my_image").ndarray()
    assert back.shape == (1, 64, 80) and back.dtype == np.uint16 and not back.mask.any()
    np.testing.assert_array_equal(back[0], arr)


def test_stored_file_is_a_cog_with_the_images_georeferencing_and_band_names(cat, product):
    SpectralBand(name="red", product_id=product.id, data_type="Byte", nodata=0).save()
    SpectralBand(name="nir", product_id=product.id, data_type="Byte", nodata=0).save()
    arr = np.ma.masked_array(np.full((2, 1024, 600), 7, np.uint8))
    arr[:, 0, 0] = np.ma.masked
    image = new_image()
    image.upload_ndarray(arr, overview_resampler="average", compression="deflate")
    assert cog.validate_cog(image.file_path, expect_overviews=True) == []
    with rasterio.open(image.file_path) as src:
        assert src.crs.to_string() == CRS and src.transform == Affine.from_gdal(*GEOTRANS)
        assert src.descriptions == ("red", "nir") and src.nodata == 0  # the bands' shared nodata
        assert src.overviews(1) == [2] and src.block_shapes[0] == (512, 512)
        assert src.compression.value == "DEFLATE"
        assert src.read(1)[0, 0] == 0
    assert image.ndarray().mask[:, 0, 0].all() and image.ndarray().mask.sum() == 2


def test_overviews_false(cat, product):
    image = new_image()
    image.upload_ndarray(np.zeros((1, 1024, 1024), np.uint8), overviews=False)
    assert cog.validate_cog(image.file_path, expect_overviews=False) == []


def test_checks_before_anything_is_written(cat, product):
    with pytest.raises(ValidationError, match="Set geotrans and cs_code"):
        Image(name="x", product_id=product.id).upload_ndarray(masked())
    with pytest.raises(NotFound, match="Product 'org:nope' does not exist"):
        new_image(product_id="org:nope").upload_ndarray(masked())
    with pytest.raises(ValidationError, match=r"shape \(bands, y, x\)"):
        new_image().upload_ndarray(np.zeros((1, 2, 3, 4)))
    with pytest.raises(ValidationError, match="'jpeg' needs 8-bit.*float64"):
        new_image().upload_ndarray(masked(), compression="jpeg")
    GenericBand(name="only", product_id=product.id, data_type="Float64").save()
    with pytest.raises(ValidationError, match=r"has 2 band\(s\) but product 'org:my_product_id' has 1 \(only\)"):
        new_image().upload_ndarray(masked())
    assert catalog_files(cat) == [] and product.images() == []


def test_bad_write_options_are_refused_before_the_products_folder_is_made(cat, product):
    for options, message in [({"compression": "lzma"}, "Unknown value 'lzma' for 'format.compression'"),
                             ({"overview_resampler": "lanczos"}, "Unknown value 'lanczos'")]:
        with pytest.raises(ValidationError, match=message):
            new_image().upload_ndarray(masked(), **options)
    assert not (cat.catalog.files_root / "org:my_product_id").exists() and product.images() == []


@every_store
def test_overwrite(cat, product):
    new_image().upload_ndarray(np.zeros((1, 64, 64), np.uint8))
    with pytest.raises(ValidationError, match="already exists; pass overwrite=True"):
        new_image().upload_ndarray(np.ones((1, 64, 64), np.uint8))
    assert Image.get("org:my_product_id:my_image").ndarray().max() == 0
    new_image().upload_ndarray(np.ones((1, 32, 32), np.uint8), overwrite=True)
    got = Image.get("org:my_product_id:my_image")
    assert got.ndarray().min() == 1 and got.x_pixels == 32
    assert catalog_files(cat) == ["org:my_product_id/my_image.tif"]  # no temporary or replaced files left


@every_store
def test_failure_while_storing_the_record_leaves_no_record_and_no_file(cat, product, monkeypatch):
    def broken(self, row, replace=False):
        raise RuntimeError("disk full")

    monkeypatch.setattr(CatalogStore, "insert_image", broken)
    image = new_image()
    with pytest.raises(RuntimeError, match="disk full"):
        image.upload_ndarray(masked())
    monkeypatch.undo()
    assert image.state == "unsaved" and image.files is None
    assert Image.get("org:my_product_id:my_image") is None and catalog_files(cat) == []


@every_store
def test_failure_while_writing_the_file_leaves_nothing(cat, product, monkeypatch):
    def half_written(dst, array, profile):
        with open(dst, "wb") as f:
            f.write(b"II*\x00 partial")
        raise OSError("killed mid-write")

    monkeypatch.setattr(cog, "write_cog", half_written)
    with pytest.raises(OSError, match="killed mid-write"):
        new_image().upload_ndarray(masked())
    assert Image.get("org:my_product_id:my_image") is None and catalog_files(cat) == []


@every_store
def test_failed_overwrite_keeps_the_old_image(cat, product, monkeypatch):
    new_image().upload_ndarray(np.full((1, 64, 64), 5, np.uint8))
    before = Image.get("org:my_product_id:my_image")
    monkeypatch.setattr(CatalogStore, "insert_image", lambda self, row, replace=False: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        new_image().upload_ndarray(np.full((1, 64, 64), 9, np.uint8), overwrite=True)
    monkeypatch.undo()
    after = Image.get("org:my_product_id:my_image")
    assert after == before and after.ndarray().max() == 5
    assert catalog_files(cat) == ["org:my_product_id/my_image.tif"]


def test_upload_of_an_existing_geotiff(cat, product, tmp_path):
    path = tmp_path / "plain.tif"
    data = np.arange(100 * 120, dtype=np.int16).reshape(1, 100, 120)
    data[0, :3] = -9999
    transform = Affine(30.0, 0, 300000.0, 0, -30.0, 5000000.0)
    with rasterio.open(path, "w", driver="GTiff", width=120, height=100, count=1, dtype="int16",
                       crs="EPSG:32612", transform=transform, nodata=-9999) as dst:
        dst.write(data)
        dst.set_band_description(1, "elevation")
    image = Image(name="from_file", product_id=product.id).upload(path)
    assert image.cs_code == "EPSG:32612" and image.geotrans == transform.to_gdal()
    assert (image.x_pixels, image.y_pixels) == (120, 100)
    assert cog.validate_cog(image.file_path) == []
    with rasterio.open(image.file_path) as src:
        assert src.nodata == -9999 and src.descriptions == ("elevation",)
    back = image.ndarray()
    assert back.mask[0, :3].all() and not back.mask[0, 3:].any()
    np.testing.assert_array_equal(back.data[0, 3:], data[0, 3:])


@every_store
def test_metadata_only_save_get_and_delete(cat, product):
    image = new_image(acquired=dt.date(2021, 2, 3), extra_properties={"a": [1, 2]})
    image.save()
    got = Image.get(image.id)
    assert got.acquired == dt.datetime(2021, 2, 3, tzinfo=dt.timezone.utc) and got.extra_properties == {"a": [1, 2]}
    assert got.files is None and got.file_path is None
    with pytest.raises(NotFound, match="has no raster"):
        got.ndarray()
    with pytest.raises(ValidationError, match="already exists"):
        new_image().save()
    got.upload_ndarray(masked(), overwrite=True)
    assert catalog_files(cat) == ["org:my_product_id/my_image.tif"]
    got.delete()
    assert Image.get(image.id) is None and catalog_files(cat) == [] and got.state == "deleted"


def test_names_cannot_escape_the_product_folder(cat, product):
    for bad in ("../evil", "a/b", "a\\b", "..", ".", "x:y", ""):
        with pytest.raises(ValidationError, match="name must be"):
            new_image(name=bad)
    odd = new_image(name="..%2F weird name")
    odd.upload_ndarray(masked())
    assert odd.file_path.parent == cat.catalog.files_root / "org:my_product_id"
    assert catalog_files(cat) == ["org:my_product_id/%2E.%252F%20weird%20name.tif"]


#: 100 characters, 300 bytes in UTF-8.
LONG_NAME = "名" * 100
TOO_LONG = r"name is too long: 300 bytes in UTF-8 \(100 characters\); the limit is 255 bytes"


def test_a_name_too_long_is_refused_when_the_image_is_made(cat, product):
    with pytest.raises(ValidationError, match=TOO_LONG) as info:
        new_image(name=LONG_NAME)
    assert (info.value.field, info.value.value) == ("name", LONG_NAME)
    image = new_image()
    with pytest.raises(ValidationError, match=TOO_LONG):
        image.name = LONG_NAME
    with pytest.raises(ValidationError, match=TOO_LONG):
        Image.from_dict({"name": LONG_NAME, "product_id": product.id})
    assert image.name == "my_image" and catalog_files(cat) == []


def test_a_product_id_too_long_is_refused_when_the_image_is_made(cat):
    for product_id, chars in (("org:" + "p" * 296, 300), ("org:" + "é" * 148, 152)):
        with pytest.raises(ValidationError, match=rf"product_id is too long: 300 bytes in UTF-8 \({chars} characters\); "
                                                  r"the limit is 255 bytes") as info:
            new_image(product_id=product_id)
        assert (info.value.field, info.value.value) == ("product_id", product_id)


def test_the_longest_names_get_files_that_fit(cat):
    product_id = "." + "o" * 251 + ":pp"  # 255 bytes; escaped (leading "%2E") it no longer fits a folder name
    Product(id=product_id).save()
    names = ["é" * 127, "é" * 126 + "a", "é" * 126 + "b", "n" * 200, ".." + "x" * 198, "short"]
    assert max(len(n.encode()) for n in names) == 254
    images = [new_image(name=name, product_id=product_id).upload_ndarray(masked(seed=i)) for i, name in enumerate(names)]
    files = catalog_files(cat)
    assert len(files) == len(names) and all(len(part) <= NAME_MAX for f in files for part in f.split("/"))
    folder = files[0].split("/")[0]
    assert folder.startswith("%2Eooo") and "+" in folder  # shortened, with a hash
    for i, image in enumerate(images):
        got = Image.get(image.id)
        np.testing.assert_array_equal(got.ndarray().filled(-1), masked(seed=i).filled(-1))
    images[0].upload_ndarray(masked(seed=9), overwrite=True)  # replaces its file, leaves no hidden one behind
    assert catalog_files(cat) == files
    np.testing.assert_array_equal(Image.get(images[0].id).ndarray().filled(-1), masked(seed=9).filled(-1))
    for image in images:
        image.delete()
    assert catalog_files(cat) == []


def test_images_stored_with_longer_names_by_earlier_versions_still_load(cat, product):
    legacy = new_image()
    legacy._values["name"] = LONG_NAME  # as a version without the byte limit stored it
    legacy.save()
    got = Image.get(f"{product.id}:{LONG_NAME}")
    assert got.name == LONG_NAME and got.state == "saved"
    got.upload_ndarray(masked(), overwrite=True)
    np.testing.assert_array_equal(Image.get(got.id).ndarray().filled(-1), masked().filled(-1))
    with pytest.raises(ValidationError, match=TOO_LONG):  # but it is no new upload target
        normalize(got, "geotiff", "Image")


def test_geometry_is_the_lonlat_footprint(cat, product):
    image = new_image()
    assert image.geometry is None
    image.upload_ndarray(masked((1, 100, 100)))
    minx, miny, maxx, maxy = image.geometry.bounds
    assert minx == pytest.approx(-105.0) and maxy == pytest.approx(36.1447, abs=1e-3)
    assert maxx - minx == pytest.approx(1000 / 88_000, rel=0.05)  # 1 km at 36 N


def test_repr_and_html(cat, product, monkeypatch):
    monkeypatch.setattr(cat.settings, "now", lambda: FIXED)
    image = new_image()
    assert repr(image) == ("Image: my_image\n  id: org:my_product_id:my_image\n  product: org:my_product_id\n"
                           "* Not up-to-date in the catalog. Call `.save()` to save or update this record.")
    assert "<img" not in image._repr_html_()
    image.upload_ndarray(masked())
    assert repr(image) == (
        "Image: my_image\n  id: org:my_product_id:my_image\n  product: org:my_product_id\n"
        "  created: Wed Jan  1 12:00:00 2020"
    )
    html = image._repr_html_()
    assert 'src="data:image/png;base64,' in html and "org:my_product_id:my_image" in html


def test_crs_alias_and_field_checks(cat):
    image = Image(name="a", product_id="org:p", crs=32613)
    assert image.cs_code == "EPSG:32613" == image.crs
    with pytest.raises(ValidationError, match="not a coordinate reference system"):
        image.crs = "EPSG:999999"
    with pytest.raises(ValidationError, match="geotrans must be 6 finite numbers"):
        image.geotrans = (1, 2, 3)
    for bad in ((0, float("nan"), 0, 0, 0, -1), (0, 1, 0, float("inf"), 0, -1), (0, 10**400, 0, 0, 0, -1)):
        with pytest.raises(ValidationError, match="geotrans must be 6 finite numbers"):
            image.geotrans = bad
    with pytest.raises(ValidationError, match=r"extra_properties must be JSON-able .*: extra_properties\['a'\]\[1\] "
                                              r"is a set"):
        image.extra_properties = {"a": [1, {2}]}
    with pytest.raises(ValidationError, match=r"extra_properties has the key 1, a int, not a str"):
        image.extra_properties = {1: "x"}
    image.extra_properties = {"when": dt.date(2020, 1, 2), "n": np.float32(0.5), "v": np.arange(2)}
    assert image.to_dict()["extra_properties"] == {"when": "2020-01-02", "n": 0.5, "v": [0, 1]}
    image.geotrans = Affine(10, 0, 5, 0, -10, 7)
    assert image.geotrans == (5.0, 10.0, 0.0, 7.0, 0.0, -10.0)
    with pytest.raises(ValidationError, match="acquired must be an ISO 8601"):
        image.acquired = "yesterday"
    assert Image.from_dict(image.to_dict()).to_dict() == image.to_dict()


def test_alpha_and_nodata_free_product_uses_internal_mask(cat, product):
    GenericBand(name="v", product_id=product.id, data_type="Float64").save()
    MaskBand(name="alpha", product_id=product.id, is_alpha=True).save()
    image = new_image()
    image.upload_ndarray(masked((2, 64, 64)))
    with rasterio.open(image.file_path) as src:
        assert src.nodata is None and src.descriptions == ("v", "alpha")
        assert all(rasterio.enums.MaskFlags.per_dataset in flags for flags in src.mask_flag_enums)


def test_image_get_or_create(cat, product):
    new = Image.get_or_create(name="scene", product_id=product.id, crs="EPSG:32613")
    assert new.state == "unsaved" and new.cs_code == "EPSG:32613"
    new.save()
    again = Image.get_or_create(f"{product.id}:scene", crs="EPSG:32613")
    assert again.state == "saved" and again == Image.get(new.id)
    changed = Image.get_or_create(name="scene", product_id=product.id, cs_code="EPSG:32614")
    assert changed.state == "modified"


@pytest.mark.parametrize("store_kind", ["s3"], indirect=True)
def test_objects_of_uploads_killed_before_their_record_are_swept_once_old(cat, product):
    image = new_image()
    image.upload_ndarray(np.ones((1, 64, 64), np.uint8))
    leftover = "catalog/files/org:my_product_id/killed." + "0" * 32 + ".tif"  # uploaded, never recorded
    cat.storage.put(leftover, b"II*\x00")
    assert cat.sweep()["leftovers"] == 0  # young: its record may be on its way
    cat.settings.now_offset_s = 2 * 3600
    assert cat.sweep()["leftovers"] == 1
    assert cat.storage.keys("catalog/files") == ["catalog/" + image.files[0]["href"]]
    assert Image.get(image.id).ndarray().min() == 1
