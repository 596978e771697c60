"""Helpers of the engine and image-value tests: small products and uploads."""

from __future__ import annotations

import numpy as np

from wf_widgets import catalog


def make_product(store, product_id: str, bands=("b1",), *, nodata=0, physical_range=None, alpha=False,
                 readers=("group:public",)) -> catalog.Product:
    """A saved product with UInt16 bands (and optionally an alpha band last)."""
    product = catalog.Product(id=product_id, readers=list(readers), store=store).save()
    for i, name in enumerate(bands):
        catalog.GenericBand(name=name, product_id=product_id, data_type="UInt16", nodata=nodata,
                            data_range=(0, 10000), physical_range=physical_range, band_index=i, store=store).save()
    if alpha:
        catalog.MaskBand(name="alpha", product_id=product_id, is_alpha=True, band_index=len(bands), store=store).save()
    return product


def upload(store, product_id: str, name: str, array: np.ndarray, crs: str, geotrans, acquired="2020-02-01"):
    """Upload ``array`` (bands, y, x) as image ``name`` of the product."""
    image = catalog.Image(name=name, product_id=product_id, acquired=acquired, cs_code=crs, geotrans=geotrans,
                          store=store)
    return image.upload_ndarray(array, overviews=False)
