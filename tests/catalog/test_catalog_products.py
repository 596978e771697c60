"""Products: save, get, get_or_create, search, delete, reprs."""

from __future__ import annotations

import datetime as dt

import pytest

from wf_widgets.catalog import Product, SpectralBand
from wf_widgets.errors import NotFound, ValidationError

from ._helpers import catalog_files, masked, new_image
from .conftest import every_store

FIXED = dt.datetime(2020, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def test_save_makes_the_user_an_owner_and_get_reads_it_back(cat):
    p = Product(id="org:my_product_id", name="My product", description="d", readers=["group:public"])
    assert p.state == "unsaved" and p.created is None
    assert p.save() is p
    assert p.owners == ["user:alice"] and p.state == "saved"
    assert isinstance(p.created, dt.datetime) and p.created.tzinfo is not None
    got = Product.get("org:my_product_id")
    assert got == p
    assert (got.name, got.description, got.readers, got.writers) == ("My product", "d", ["group:public"], [])
    assert (cat.settings.home / "catalog" / "catalog.sqlite").is_file()


def test_name_defaults_to_the_last_id_segment(cat):
    assert Product(id="org:sub:thing").save().name == "thing"


def test_get_missing_is_none_and_bad_ids_are_errors(cat):
    assert Product.get("org:nothing") is None
    for bad in ("org:", "org:a/b", ":x", "org:a b", "a b", ""):
        with pytest.raises(ValidationError, match="org:name"):
            Product(id=bad)


def test_saving_a_new_product_with_a_taken_id_is_refused(product):
    with pytest.raises(ValidationError, match="already exists"):
        Product(id=product.id).save()


def test_update_keeps_created_and_moves_modified(cat, product, monkeypatch):
    later = product.created + dt.timedelta(hours=1)
    monkeypatch.setattr(cat.settings, "now", lambda: later)
    product.description = "new"
    assert product.state == "modified"
    product.save()
    again = Product.get(product.id)
    assert again.description == "new" and again.modified == later and again.created < later


def test_get_or_create(cat, product):
    new = Product.get_or_create("org:other", name="Other")
    assert new.state == "unsaved" and new.name == "Other"
    same = Product.get_or_create(product.id, name=product.name)
    assert same.state == "saved"
    changed = Product.get_or_create(product.id, name="Renamed")
    assert changed.state == "modified" and changed.name == "Renamed"
    assert Product.get(product.id).name == "My product"  # nothing saved


def test_unknown_fields_are_type_and_attribute_errors(cat):
    with pytest.raises(TypeError, match="unexpected keyword argument.*colour"):
        Product(id="org:x", colour="red")
    p = Product(id="org:x")
    with pytest.raises(AttributeError, match="no field 'nmae'"):
        p.nmae = "typo"
    with pytest.raises(AttributeError, match="set by the catalog"):
        p.created = FIXED
    with pytest.raises(ValidationError, match="readers entries"):
        p.readers = ["alice"]


def test_saved_id_cannot_change(product):
    with pytest.raises(AttributeError, match="cannot be changed"):
        product.id = "org:else"


def test_search_lists_readable_products(cat, as_user, product):
    Product(id="org:public", readers=["group:public"]).save()
    with as_user("user:bob"):
        Product(id="bob:private").save()
        assert [p.id for p in Product.search()] == ["bob:private", "org:public"]
    assert [p.id for p in Product.search()] == ["org:my_product_id", "org:public"]


@every_store
def test_delete_needs_cascade_when_it_has_children(cat, product):
    SpectralBand(name="b1", product_id=product.id, data_type="Float64").save()
    new_image().upload_ndarray(masked((1, 64, 64)))
    assert catalog_files(cat) == ["org:my_product_id/my_image.tif"]
    with pytest.raises(ValidationError, match=r"1 band\(s\) and 1 image\(s\).*cascade=True"):
        product.delete()
    product.delete(cascade=True)
    assert Product.get(product.id) is None
    assert catalog_files(cat) == [] and not (cat.catalog.files_root / "org:my_product_id").exists()
    assert cat.catalog.list_images(product.id) == [] and cat.catalog.list_bands(product.id) == []
    with pytest.raises(NotFound, match="was deleted; it can't be deleted"):
        product.delete()


def test_repr_like_the_original(cat, monkeypatch):
    monkeypatch.setattr(cat.settings, "now", lambda: FIXED)
    p = Product(id="org:my_product_id", name="My product")
    assert repr(p) == ("Product: My product\n  id: org:my_product_id\n"
                       "* Not up-to-date in the catalog. Call `.save()` to save or update this record.")
    p.save()
    assert repr(p) == "Product: My product\n  id: org:my_product_id\n  created: Wed Jan  1 12:00:00 2020"
    html = Product(id="org:x", name="<b>x</b>")._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html


def test_to_dict_and_from_dict(product):
    d = product.to_dict()
    assert d["id"] == product.id and d["owners"] == ["user:alice"] and isinstance(d["created"], str)
    copy = Product.from_dict(d)
    assert copy.state == "unsaved" and copy.name == product.name and copy.owners == product.owners


@pytest.mark.parametrize("product_id, chars", [("org:" + "p" * 296, 300), ("org:" + "é" * 148, 152)])
def test_a_product_id_too_long_is_refused(cat, product_id, chars):
    with pytest.raises(ValidationError, match=rf"id is too long: 300 bytes in UTF-8 \({chars} characters\); "
                                              r"the limit is 255 bytes") as info:
        Product(id=product_id)
    assert (info.value.field, info.value.value) == ("id", product_id)


def test_looking_up_a_long_id_is_no_error(cat):
    assert Product.get("org:" + "p" * 296) is None  # a product saved by an earlier version could have it
