"""Helpers of the catalog tests."""

from __future__ import annotations

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


def catalog_files(backend) -> list[str]:
    """Every file under the catalog's files folder (temporary files included), relative."""
    root = backend.catalog.files_root
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
