"""The catalog as one user reads it: the store's band-name lookup and CatalogReads, with read checks."""

from __future__ import annotations

import pytest

from wf_widgets.catalog import GenericBand, MaskBand, Product
from wf_widgets.catalog.reads import CatalogReads, Identity
from wf_widgets.errors import NotFound, PermissionDenied, ValidationError

from ._helpers import new_image


@pytest.fixture
def bands(product):
    """alice's private product with bands vv, vh and an alpha band between them, and one image."""
    GenericBand(name="vv", product_id=product.id, data_type="UInt16", band_index=0).save()
    MaskBand(name="alpha", product_id=product.id, is_alpha=True, band_index=1).save()
    GenericBand(name="vh", product_id=product.id, data_type="UInt16", band_index=2).save()
    new_image().save()
    return product


def test_the_store_answers_the_band_rules_as_its_user(cat, bands):
    store = cat.catalog
    assert store.product_bands("org:my_product_id") == ["vv", "vh"]  # the alpha band is the mask
    assert store.image_product("org:my_product_id:my_image") == "org:my_product_id"
    meta = store.reads().product("org:my_product_id")
    assert meta.alpha["name"] == "alpha" and meta.file_index == {"vv": 1, "alpha": 2, "vh": 3}


def test_unknown_ids_list_only_what_the_user_may_read(cat, as_user, bands):
    Product(id="org:public", readers=["group:public"]).save()
    with as_user("user:bob") as bob:
        with pytest.raises(NotFound, match=r"Unknown product id 'org:nope'; products you may read: 'org:public'$"):
            bob.catalog.product_bands("org:nope")
        with pytest.raises(PermissionDenied, match="user:bob may not read product 'org:my_product_id'"):
            bob.catalog.product_bands("org:my_product_id")
        with pytest.raises(PermissionDenied, match="user:bob may not read product 'org:my_product_id'"):
            bob.catalog.image_product("org:my_product_id:my_image")
        with pytest.raises(ValidationError, match="Product 'org:public' has no bands to read"):
            bob.catalog.product_bands("org:public")
    with pytest.raises(NotFound, match="Unknown image id 'org:my_product_id:nope' in product 'org:my_product_id'"):
        cat.catalog.image_product("org:my_product_id:nope")
    with pytest.raises(ValidationError, match="An image id is '<product id>:<name>', got 'nope'"):
        cat.catalog.image_product("nope")


def test_reads_as_another_identity(cat, bands):
    reads = cat.catalog.reads(Identity("user:carol"))
    assert isinstance(reads, CatalogReads)
    with pytest.raises(PermissionDenied, match="user:carol may not read"):
        reads.product_bands("org:my_product_id")
    product = Product.get("org:my_product_id")
    product.readers = ["email:carol@example.org"]
    product.save()
    assert CatalogReads(cat.catalog, Identity("user:carol", "carol@example.org")).product_bands(
        "org:my_product_id") == ["vv", "vh"]
