"""Helpers of the catalog tests."""

from __future__ import annotations

import re

import numpy as np

from wf_widgets.catalog import Image

#: GDAL geotransform of a 10 m UTM zone 13 grid whose top-left corner is at lon -105.
GEOTRANS = (500000.0, 10.0, 0.0, 4000000.0, 0.0, -10.0)
CRS = "EPSG:32613"


def new_image(name: str = "my_image", product_id: str = "org:my_product_id", **kw) -> Image:
    return Image(name=name, product_id=product_id, cs_code=CRS, geotrans=GEOTRANS, **kw)


def masked(shape=(2, 64, 64), dtype="float64", seed=0) -> np.ma.MaskedArray:
    rng = np.random.default_rng(seed)
    data = (rng.random(shape) * 200).astype(dtype)
    arr = np.ma.masked_array(data, mask=np.zeros(shape, bool))
    arr[:, :4, :] = np.ma.masked
    return arr


#: What an upload to an object store adds to a file's name (catalog/files.py:unique_href).
_UNIQUE = re.compile(r"\.[0-9a-f]{32}(?=\.tif$)")


def catalog_files(backend) -> list[str]:
    """Every object under the catalog's files folder (temporary files included), relative.

    On an object store the key of each upload's own is given without its 32 hex digits, so a
    test expects the same names on every store.
    """
    start = len("catalog/files/")
    keys = [key[start:] for key in backend.storage.keys("catalog/files")]
    return sorted(keys if backend.storage.is_local else (_UNIQUE.sub("", key) for key in keys))
