"""The original client's catalog API: ids without an org, id=/product=, states, exists/get_many/update, tracked dicts."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
import sqlite3

import numpy as np
import pytest
import shapely.geometry
from pyproj import Transformer

from wf_widgets import _sqlite
from wf_widgets.backend import Backend
from wf_widgets.catalog import (
    DataType,
    DeletedObjectError,
    DerivedParamsAttribute,
    DocumentState,
    Image,
    MaskBand,
    ProcessingStepAttribute,
    Product,
    Resolution,
    SpectralBand,
    UnsavedObjectError,
)
from wf_widgets.catalog.store import MIGRATIONS, CatalogStore
from wf_widgets.config import Settings
from wf_widgets.errors import NotFound, ValidationError
from wf_widgets.outputs.normalize import normalize

from ._helpers import new_image


@pytest.mark.parametrize("user, org, expected", [
    ("user:alice", None, "alice:p"), ("email:a@b.org", None, "a_b.org:p"), ("user:alice", "acme", "acme:p")])
def test_a_product_id_without_org_gets_one_on_save(tmp_path, user, org, expected):
    backend = Backend(Settings(home=tmp_path / "home", user=user, org=org), sweep=False)
    try:
        p = Product(id="p", store=backend.catalog)
        assert p.id == "p" and p.save().id == expected
        assert Product.get("p", store=backend.catalog) == p == Product.get(expected, store=backend.catalog)
        assert Product.exists("p", store=backend.catalog) and not Product.exists("q", store=backend.catalog)
    finally:
        backend.close()


def test_the_org_setting_is_checked_and_read_from_the_environment(tmp_path):
    with pytest.raises(ValidationError, match=r"WF_WIDGETS_ORG must be letters.*got 'a:b'"):
        Settings(home=tmp_path, org="a:b")
    settings = Settings.from_env({"WF_WIDGETS_HOME": str(tmp_path), "WF_WIDGETS_ORG": "acme"})
    assert settings.organization == "acme" and Settings.from_dict(settings.to_dict()).org == "acme"


def test_bands_and_images_of_a_product_named_without_its_org(cat):
    Product(id="p").save()
    band = SpectralBand(id="p:red", data_type="UInt16").save()
    assert band.id == "alice:p:red" and band.product_id == "alice:p"
    image = new_image(product_id="p").save()
    assert image.id == "alice:p:my_image"
    assert SpectralBand.get("p:red") == band and Image.get("p:my_image") == image


def test_id_and_product_keywords(cat, product):
    band = SpectralBand(product=product, name="b")
    assert band.id == "org:my_product_id:b"
    band.id = "org:other:c"
    assert (band.product_id, band.name) == ("org:other", "c")
    with pytest.raises(ValidationError, match="product_id 'org:x' disagrees with the product's id"):
        SpectralBand(product=product, product_id="org:x", name="b")
    with pytest.raises(ValidationError, match="name 'x' disagrees with the id 'org:p:b'"):
        Image(id="org:p:b", name="x")
    with pytest.raises(ValidationError, match="image id must be '<product id>:<name>'"):
        Image(id="b")


def test_band_classes_get_only_their_own_type(cat, product):
    SpectralBand(name="red", product_id=product.id, data_type="UInt16").save()
    MaskBand(name="alpha", product_id=product.id, is_alpha=True).save()
    ids = [product.named_id("red"), product.named_id("alpha")]
    assert MaskBand.get(ids[0]) is None and type(SpectralBand.get(ids[0])) is SpectralBand
    assert [b.name for b in MaskBand.get_many(ids)] == ["alpha"]
    with pytest.raises(NotFound, match=r"No band\(s\) 'org:my_product_id:nope'; pass ignore_missing=True"):
        MaskBand.get_many([*ids, product.named_id("nope")])
    assert len(MaskBand.get_many([*ids, product.named_id("nope")], ignore_missing=True)) == 1
    assert [p.id for p in Product.get_many([product.id, "org:gone"], ignore_missing=True)] == [product.id]
    with pytest.raises(NotFound, match="org:gone"):
        Product.get_many([product.id, "org:gone"])


def test_states_through_delete_and_save_again(cat):
    p = Product(id="org:p", tags=["a"], start_datetime="2020-01-02")
    assert p.state is DocumentState.UNSAVED and p.state == "unsaved"
    p.save()
    p.delete()
    assert p.state is DocumentState.DELETED and p.created is None
    assert repr(p).endswith("* Deleted from the catalog.")
    for call in (p.delete, p.save, p.reload, lambda: p.update(tags=["b"])):
        with pytest.raises(DeletedObjectError, match="'org:p' was deleted; it can't"):
            call()
    assert Product.get("org:p") is None and p.tags == ["a"]
    again = Product(id="org:p", tags=["a"], start_datetime="2020-01-02").save()  # a new object stores it again
    assert again.start_datetime == dt.datetime(2020, 1, 2, tzinfo=dt.timezone.utc)


def test_delete_by_id_and_of_unsaved_or_vanished_objects(cat, product):
    SpectralBand(product=product, name="red", data_type="UInt16").save()
    assert MaskBand.delete(product.named_id("red")) is False  # a band of another type: nothing deleted
    assert SpectralBand.delete(product.named_id("red")) is True and SpectralBand.get(product.named_id("red")) is None
    assert Image.delete(product.named_id("nope")) is False
    with pytest.raises(UnsavedObjectError, match="was never saved; it can't be deleted"):
        Product(id=product.id).delete()
    assert Product.get(product.id) is not None
    stale = Product.get(product.id)
    stale.description = "changed"
    assert Product.delete(product.id, cascade=True) is True
    with pytest.raises(DeletedObjectError, match="was deleted"):
        stale.save()
    assert stale.state == "deleted"


def test_assigning_the_value_a_field_has_is_no_change(cat, product):
    product.name = product.name
    product.extra_properties = {}
    assert product.state == "saved"
    product.tags = ("a",)
    assert product.state == "modified" and product.tags == ["a"]
    assert Product.get(product.id) != product  # equal objects have equal states too
    product.save()
    assert Product.get(product.id) == product


def test_update_sets_all_fields_or_none(cat, product):
    product.update(description="d", tags=["x"])
    assert product.state == "modified" and (product.description, product.tags) == ("d", ["x"])
    with pytest.raises(ValidationError, match="tags must be a list of strings"):
        product.update(description="changed", tags="notalist")
    assert (product.description, product.tags) == ("d", ["x"])
    product.update(ignore_errors=True, description="e", nope=1)
    assert product.description == "e"


def test_extra_properties_items_are_checked_and_tracked(cat):
    image = new_image(extra_properties={"a": 1})
    image._modified.clear()
    props = image.extra_properties
    props.update(b=2)
    assert image.is_modified and image.extra_properties == {"a": 1, "b": 2}
    with pytest.raises(ValidationError, match=r"extra_properties\['c'\] is a set"):
        props["c"] = {1}
    assert "c" not in props
    assert type(copy.deepcopy(props)) is dict and type(pickle.loads(pickle.dumps(props))) is dict


def test_a_catalog_of_version_2_opens_and_its_products_read(tmp_path):
    root = tmp_path / "home" / "catalog"
    root.mkdir(parents=True)
    conn = sqlite3.connect(root / "catalog.sqlite", isolation_level=None)
    _sqlite.migrate(conn, MIGRATIONS[:2])
    now = "2020-01-01T00:00:00+00:00"
    conn.execute("INSERT INTO products (id, owners, readers, writers, created, modified) VALUES (?, ?, ?, ?, ?, ?)",
                 ("org:old", '["user:alice"]', "[]", "[]", now, now))
    conn.close()
    store = CatalogStore(Settings(home=tmp_path / "home", user="user:alice"))
    try:
        old = Product.get("org:old", store=store)
        assert (old.tags, old.extra_properties, old.start_datetime) == (None, {}, None)
        old.extra_properties["k"] = "v"
        old.save()
        assert Product.get("org:old", store=store).extra_properties == {"k": "v"}
    finally:
        store.close()


def test_band_fields_of_the_original_are_stored(cat, product):
    band = SpectralBand(product=product, name="red", data_type="UInt16", vendor_band_name="B4", tags=["t"],
                        extra_properties={"k": 1},
                        processing_levels={"default": "toa", "toa": [{"function": "f", "parameter": "p", "index": 3}]},
                        derived_params={"function": "ndvi", "bands": ["red", "nir"], "source_type": "UInt16"}).save()
    got = SpectralBand.get(band.id)
    assert got == band and got.vendor_band_name == "B4" and got.tags == ["t"] and got.extra_properties == {"k": 1}
    assert got.processing_levels["toa"][0] == ProcessingStepAttribute(function="f", parameter="p", index=3)
    assert got.derived_params.source_type is DataType.UInt16 and got.derived_params.bands == ["red", "nir"]
    assert band.to_dict()["derived_params"] == {"function": "ndvi", "bands": ["red", "nir"], "source_type": "UInt16"}


def test_nested_values_are_checked_and_mark_the_band_modified(cat, product):
    band = SpectralBand(product=product, name="red", data_type="UInt16",
                        derived_params={"function": "f", "bands": ["a"]}).save()
    bands = band.derived_params.bands
    with pytest.raises(ValidationError, match=r"derived_params.bands must be a list of strings, got \['a', 1\]"):
        bands.append(1)
    assert bands == ["a"] and band.state == "saved"
    bands.sort(reverse=True, key=str)
    assert band.state == "modified"
    with pytest.raises(AttributeError, match="DerivedParamsAttribute has no field 'fn'"):
        band.derived_params.fn = "x"
    with pytest.raises(ValidationError, match="derived_params needs 'bands'"):
        DerivedParamsAttribute(function="f")
    with pytest.raises(ValidationError, match=r"processing_levels\['toa'\] must be a level name"):
        band.processing_levels = {"toa": 1}
    band.processing_levels = {"toa": []}
    band.save()
    band.processing_levels["toa"] += [ProcessingStepAttribute(function="f")]
    assert band.is_modified and repr(band.processing_levels["toa"][0]) == "ProcessingStepAttribute(function='f')"
    assert type(copy.deepcopy(band.processing_levels["toa"])) is list


def test_reload(cat, product):
    band = SpectralBand(product=product, name="red", data_type="UInt16").save()
    other = SpectralBand.get(band.id)
    other.description = "changed elsewhere"
    other.save()
    band.reload()
    assert band.description == "changed elsewhere"
    band.description = "mine"
    with pytest.raises(ValidationError, match="is modified: only a saved, unmodified object reloads"):
        band.reload()
    again = SpectralBand.get(band.id)
    other.delete()
    with pytest.raises(DeletedObjectError, match="was deleted"):
        again.reload()
    assert again.state == "deleted"


SQUARE = {"type": "Polygon", "coordinates": [[[-105, 35], [-104, 35], [-104, 36], [-105, 36], [-105, 35]]]}


def test_an_image_geometry_is_stored_and_wins_over_the_grid(cat, product):
    image = new_image(geometry=SQUARE)
    assert image.geometry.equals(shapely.geometry.shape(SQUARE))
    image.upload_ndarray(np.zeros((1, 32, 32), np.uint8))
    got = Image.get(image.id)
    assert got.geometry.equals(shapely.geometry.shape(SQUARE)) and got.to_dict()["geometry"]["type"] == "Polygon"
    got.geometry = None  # back to the grid's outline
    got.save()
    assert Image.get(image.id).geometry.bounds == pytest.approx(image_footprint_bounds(got), abs=1e-6)
    with pytest.raises(AttributeError, match="no attribute '__geo_interface__'"):  # hasattr() is False
        Image(name="x", product_id=product.id).__geo_interface__
    with pytest.raises(ValidationError, match="has no geometry to compare with"):
        Image(name="x", product_id=product.id).coverage(SQUARE)


def image_footprint_bounds(image) -> tuple:
    xs, ys = Transformer.from_crs(image.cs_code, "EPSG:4326", always_xy=True).transform(
        [500000.0, 500320.0], [4000000.0, 3999680.0])
    return (min(xs), min(ys), max(xs), max(ys))


def test_an_image_geocontext_is_its_grid(cat, product):
    aoi = new_image(x_pixels=30, y_pixels=20).geocontext
    # As the original's AOI: a resolution, or a shape, not both.
    assert (aoi.crs, aoi.resolution, aoi.bounds, aoi.shape) == ("EPSG:32613", 10.0, (500000, 3999800, 500300, 4000000),
                                                               None)
    assert aoi.bounds_crs == "EPSG:32613"
    wide = Image(name="w", product_id=product.id, cs_code="EPSG:4326", geotrans=(10, 2, 0, 20, 0, -1),
                 x_pixels=3, y_pixels=4).geocontext
    assert wide.shape == (4, 3) and wide.bounds == (10, 16, 16, 20)
    with pytest.warns(UserWarning, match="is rotated in its CRS"):
        rotated = Image(name="r", product_id=product.id, cs_code="EPSG:4326", x_pixels=1, y_pixels=1,
                        geotrans=(0.0, np.sqrt(2), np.sqrt(2), 0.0, np.sqrt(2), -np.sqrt(2))).geocontext
    assert rotated.resolution == pytest.approx(2) and rotated.bounds == pytest.approx((0, -np.sqrt(2), 2 * np.sqrt(2),
                                                                                      np.sqrt(2)))
    with pytest.raises(ValidationError, match="needs x_pixels, y_pixels for a geocontext of its grid"):
        new_image().geocontext


def test_upload_ndarray_refuses_data_types_the_catalog_does_not_store(cat, product):
    with pytest.raises(ValidationError, match=r"data type int64, which the catalog doesn't store; convert it to one "
                                              r"of uint8, int16, uint16, int32, uint32, float32, float64") as info:
        new_image().upload_ndarray(np.zeros((1, 8, 8), np.int64))
    assert info.value.field == "ndarray.dtype" and Image.get(product.named_id("my_image")) is None


def test_an_id_without_org_agrees_with_the_product_of_the_org(cat, product):
    Product(id="mine").save()
    image = Image(id="mine:i", product=Product.get("mine"))
    assert image.product_id == "alice:mine"
    with pytest.raises(ValidationError, match="disagrees"):
        Image(id="other:i", product=Product.get("mine"))


def test_fields_given_to_the_constructor_count_as_modified_and_unknown_ones_are_both_errors(cat):
    assert Product(id="org:p").is_modified and not Product().is_modified
    with pytest.raises(TypeError, match="unexpected keyword argument") as info:
        Product(id="org:p", colour="red")
    assert isinstance(info.value, AttributeError)
    p = Product(id="org:p", tags=["a"]).save()
    p.tags.append("b")
    assert p.state == "modified"
    with pytest.raises(ValidationError, match=r"tags must be a list of strings, got \['a', 'b', 1\]"):
        p.tags.append(1)
    p.save()
    assert Product.get("org:p").tags == ["a", "b"]


def test_a_catalog_destination_may_name_its_product_without_the_org(cat):
    dest, _ = normalize({"type": "catalog", "image": Image(name="x", product_id="mine")}, "geotiff", "Image")
    assert (dest["image"]["id"], dest["image"]["product_id"]) == ("alice:mine:x", "alice:mine")
    dest, _ = normalize({"type": "catalog", "image": {"id": "mine:x", "name": "x", "product_id": "mine"}},
                        "geotiff", "Image")
    assert dest["image"]["id"] == "alice:mine:x"
    with pytest.raises(ValidationError, match=r"image\.id must be '<product_id>:<name>' \('alice:mine:x'\)"):
        normalize({"type": "catalog", "image": {"id": "other:x", "name": "x", "product_id": "mine"}}, "geotiff",
                  "Image")


def test_product_resolutions_come_from_its_bands(cat, product):
    assert (product.resolution_min, product.resolution_max) == (None, None)
    SpectralBand(product=product, name="a", data_type="UInt16", resolution=30).save()
    SpectralBand(product=product, name="b", data_type="UInt16", resolution={"value": 10, "unit": "meters"}).save()
    SpectralBand(product=product, name="c", data_type="UInt16", resolution={"value": 0.1, "unit": "degrees"}).save()
    assert (product.resolution_min, product.resolution_max) == (Resolution("10m"), Resolution(value=30, unit="meters"))
    assert product.resolution_min < 20 and not product.resolution_min > Resolution("20 m.")
    assert Resolution("0.1°") != 0.1  # a plain number is in meters
    with pytest.raises(ValidationError, match="resolution_min comes from the product's bands") as info:
        product.resolution_min = 5
    assert isinstance(info.value, AttributeError)
    with pytest.raises(ValidationError, match=r"The resolution '60' can't be read"):
        Resolution("60")
    with pytest.raises(AttributeError, match="resolution has no field"):
        Resolution(value=2, bar="foo")
