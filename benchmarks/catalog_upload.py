"""Catalog upload benchmark: our catalog destination's deliver path against rasterio plus one SQLite insert.

``catalog_upload``: a 2-band 1024 x 1024 composite (float64 dB values, 40 masked rows, the
ImageResult computed once) uploaded into a UInt16 product (vv/vh, nodata 0, data_range
0-10000, physical_range -50-10 dB) with ``rescale=True`` and ``change_dtype=True``:
:func:`wf_widgets.delivery.catalog.deliver` runs the requirement checks, the
transformations with the data-loss guard, the COG write (LZW, nearest overviews) to a
temporary file, its fsync, and the catalog transaction that moves it into place and stores
the record. The reference gets the already transformed UInt16 array and writes it with
rasterio's own ``COG`` driver (same tile size, compression, overview resampling, nodata),
then inserts one row into an SQLite table (WAL, autocommit). Each call writes a new image.
Medians of :data:`REPEAT` alternating runs; target: ratio <= 1.3. A second, plain-text
figure times a tiled GTiff plus ``build_overviews`` (not a valid COG) for context.
"""

from __future__ import annotations

try:
    from _common import paired_medians, ratio_record, temp_home, timeit_median
except ImportError:  # imported as benchmarks.catalog_upload
    from benchmarks._common import paired_medians, ratio_record, temp_home, timeit_median

import itertools
import shutil
import sqlite3
import tempfile
from pathlib import Path

import numpy as np

SIZE = 1024
TARGET = 1.3
REPEAT = 7
CRS = "EPSG:32613"
TRANSFORM = (10.0, 0.0, 400000.0, 0.0, -10.0, 4000000.0)
PRODUCT = "org:bench_upload"
FORMAT = {"type": "geotiff", "overviews": True, "compression": "lzw", "overview_resampler": "nearest"}


def make_result(size: int = SIZE):
    """The computed composite: 2 float64 bands of dB values (-30 to -5, 4 decimals), the first 40 rows masked."""
    from wf_widgets.outputs.results import ImageResult

    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:size, 0:size]
    base = -17.5 + 6.0 * np.sin(xx / 90.0) * np.cos(yy / 70.0)
    data = np.round(np.stack([base, base - 7.0]) + rng.normal(0.0, 2.0, (2, size, size)), 4).clip(-30, -5)
    mask = np.zeros(data.shape, dtype=bool)
    mask[:, :40, :] = True
    return ImageResult(np.ma.masked_array(data, mask=mask), properties={"product": "bench"},
                       bandinfo={"vv": {}, "vh": {}},
                       geocontext={"crs": CRS, "transform": list(TRANSFORM), "width": size, "height": size})


def _product(backend) -> None:
    from wf_widgets import catalog

    catalog.Product(id=PRODUCT, store=backend.catalog).save()
    for i, name in enumerate(("vv", "vh")):
        catalog.MicrowaveBand(name=name, product_id=PRODUCT, data_type="UInt16", nodata=0, data_range=(0, 10000),
                              physical_range=(-50.0, 10.0), band_index=i, store=backend.catalog).save()


def _job(name: str) -> dict:
    return {"id": "0" * 48, "format": FORMAT,
            "destination": {"type": "catalog", "image": {"id": f"{PRODUCT}:{name}", "name": name, "product_id": PRODUCT},
                            "overwrite": False, "rescale": True, "change_dtype": True}}


def _reference_array(result) -> np.ndarray:
    """What the reference writes: the same transformed UInt16 pixels (nodata filled)."""
    scale = 10000 / 60.0  # data_range span / physical_range span; offset 0 - (-50) * scale
    scaled = np.rint(np.ma.getdata(result.ndarray) * scale + 50.0 * scale)
    scaled[np.ma.getmaskarray(result.ndarray)] = 0
    return scaled.astype(np.uint16)


class Reference:
    """rasterio's COG driver plus one SQLite insert per upload."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.db = sqlite3.connect(folder / "reference.sqlite", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE images (id TEXT PRIMARY KEY, product_id TEXT, name TEXT, cs_code TEXT,"
                        " geotrans TEXT, x_pixels INTEGER, y_pixels INTEGER, files TEXT, created TEXT)")
        self.names = (f"ref{i}" for i in itertools.count())

    def upload(self, array: np.ndarray) -> None:
        import rasterio
        from affine import Affine

        name = next(self.names)
        path = self.folder / f"{name}.tif"
        with rasterio.open(path, "w", driver="COG", width=array.shape[2], height=array.shape[1],
                           count=array.shape[0], dtype=array.dtype.name, crs=CRS, transform=Affine(*TRANSFORM),
                           nodata=0, compress="LZW", blocksize=512, overview_resampling="nearest",
                           bigtiff="IF_SAFER", num_threads="ALL_CPUS") as dst:
            dst.write(array)
            dst.descriptions = ("vv", "vh")
        self.db.execute("INSERT INTO images VALUES (?, ?, ?, ?, ?, ?, ?, ?, datetime('now'))",
                        (f"{PRODUCT}:{name}", PRODUCT, name, CRS, str(Affine(*TRANSFORM).to_gdal()),
                         array.shape[2], array.shape[1], f'[{{"href": "{path.name}"}}]'))

    def upload_gtiff(self, array: np.ndarray) -> None:
        """A tiled GTiff with overviews built afterwards (not a valid COG), for context."""
        import rasterio
        from affine import Affine
        from rasterio.enums import Resampling

        path = self.folder / f"{next(self.names)}.tif"
        with rasterio.open(path, "w", driver="GTiff", width=array.shape[2], height=array.shape[1],
                           count=array.shape[0], dtype=array.dtype.name, crs=CRS, transform=Affine(*TRANSFORM),
                           nodata=0, tiled=True, blockxsize=512, blockysize=512, compress="lzw",
                           interleave="pixel", num_threads="ALL_CPUS") as dst:
            dst.write(array)
            dst.build_overviews([2], Resampling.nearest)

    def close(self) -> None:
        self.db.close()


def run() -> list[dict]:
    """Time our deliver path against rasterio's COG driver plus an insert (medians, alternating)."""
    with temp_home():
        return _run()


def _run() -> list[dict]:
    from wf_widgets.backend import Backend
    from wf_widgets.config import Settings
    from wf_widgets.delivery.catalog import CatalogHandler

    catalog_destination = CatalogHandler()

    folder = Path(tempfile.mkdtemp(prefix="wf-bench-catalog-"))
    backend = Backend(Settings(home=folder / "home", user="user:bench"), sweep=False)
    reference = Reference(folder)
    try:
        _product(backend)
        result = make_result()
        array = _reference_array(result)
        names = (f"ours{i}" for i in itertools.count())
        first = catalog_destination.result(backend, _job("check") | catalog_destination.deliver(
            backend, _job("check"), result))
        if not np.array_equal(first.ndarray().filled(0), array):
            raise AssertionError("the uploaded pixels differ from the reference's")
        ours_s, reference_s = paired_medians(
            lambda: catalog_destination.deliver(backend, _job(next(names)), result),
            lambda: reference.upload(array), repeat=REPEAT,
        )
        gtiff_s = timeit_median(lambda: reference.upload_gtiff(array), repeat=REPEAT)
        return [
            ratio_record("catalog_upload", ours_s, reference_s, TARGET),
            {"text": f"catalog_upload: ours {ours_s * 1000:.0f} ms, rasterio COG driver + insert "
                     f"{reference_s * 1000:.0f} ms, tiled GTiff + build_overviews (not a COG) {gtiff_s * 1000:.0f} ms"},
        ]
    finally:
        reference.close()
        backend.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    import json

    for record in run():
        print(json.dumps(record))
