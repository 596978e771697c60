"""The text listing behind ``wf-widgets catalog``."""

from __future__ import annotations

import numpy as np

from wf_widgets.catalog import MaskBand, Product, SpectralBand, catalog_listing

from ._helpers import new_image


def test_listing_shows_readable_products_bands_and_images(cat, as_user, product):
    product.description = "Sentinel-1 composites"
    product.readers = ["group:public"]
    product.save()
    SpectralBand(name="vv", product_id=product.id, data_type="Float64", nodata=0).save()
    MaskBand(name="alpha", product_id=product.id, is_alpha=True).save()
    new_image(acquired="2020-01-02T03:04:05Z").upload_ndarray(np.zeros((2, 64, 32)))
    new_image("meta_only").save()
    with as_user("user:bob"):
        Product(id="bob:secret").save()
    text = catalog_listing(cat)
    assert text.startswith(f"Catalog {cat.catalog.root} (as user:alice): 1 product(s)\n")
    assert "bob:secret" not in text
    for line in (
        "org:my_product_id  My product",
        "  Sentinel-1 composites",
        "  owners: user:alice",
        "  readers: group:public",
        "  bands (2):",
        "    0: vv (spectral, Float64, nodata=0)",
        "    1: alpha (mask, Byte, alpha)",
        "  images (2):",
        "    meta_only  EPSG:32613  no file",
        "    my_image  acquired 2020-01-02T03:04:05Z  32x64 px  EPSG:32613  file",
    ):
        assert line in text.splitlines(), line


def test_empty_catalog(cat):
    assert catalog_listing(cat) == f"Catalog {cat.catalog.root} (as user:alice): 0 product(s)\n"
