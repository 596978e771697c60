"""GeoTIFF benchmark: our ``encode`` of an Image result against rasterio written directly.

``geotiff_encode``: a 2-band float64 2048 x 2048 masked ImageResult (smooth fields plus
noise, 300 masked rows) encoded with the geotiff codec's defaults (LZW, nearest
overviews), against writing the same array with rasterio directly into a MemoryFile: a
tiled GTiff with the same creation options (512 px tiles, LZW, pixel interleave,
BIGTIFF=IF_SAFER, NUM_THREADS=ALL_CPUS), the same mask handling (an internal
per-dataset mask), band descriptions, then ``build_overviews`` with the same factors,
and the bytes read back. The reference file is not a valid COG (its IFDs follow the
data); ours is. Target: ratio <= 1.15. File sizes are printed as text.
"""

from __future__ import annotations

try:
    from _common import paired_medians, ratio_record
except ImportError:  # imported as benchmarks.geotiff_encode
    from benchmarks._common import paired_medians, ratio_record

import numpy as np

from wf_widgets.outputs import cog
from wf_widgets.outputs.codecs import geotiff
from wf_widgets.outputs.results import ImageResult

SIZE = 2048
TARGET = 1.15
REPEAT = 5
OPTIONS = {"overviews": True, "compression": "lzw", "overview_resampler": "nearest"}
CRS = "EPSG:32613"
TRANSFORM = (10.0, 0.0, 400000.0, 0.0, -10.0, 4000000.0)


def make_result(size: int = SIZE) -> ImageResult:
    """The benchmark's Image result: 2 float64 bands, the first 300 rows masked."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size]
    data = np.stack([np.sin(xx / 100.0) * np.cos(yy / 77.0) * 1000.0, (xx + yy) / 4.0])
    data += np.round(rng.normal(0.0, 1.0, data.shape), 2)
    mask = np.zeros(data.shape, dtype=bool)
    mask[:, :300, :] = True
    return ImageResult(
        np.ma.masked_array(data, mask=mask),
        properties={"date": "2020-01-01T00:00:00+00:00", "product": "bench"},
        bandinfo={"vv": {}, "vh": {}},
        geocontext={"crs": CRS, "transform": TRANSFORM, "width": size, "height": size},
    )


def reference_encode(result: ImageResult) -> bytes:
    """The same array written with rasterio directly, same creation options and mask."""
    import rasterio
    from affine import Affine
    from rasterio.enums import Resampling
    from rasterio.io import MemoryFile

    arr = result.ndarray
    bands, height, width = arr.shape
    valid = ~np.ma.getmaskarray(arr).any(axis=0)
    factors = cog.overview_factors(width, height)
    # CPL_LOG: GDAL's threaded mask writer logs a harmless "ExtraSamples" error here.
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True, CPL_LOG="/dev/null"):
        with MemoryFile() as memfile:
            with memfile.open(
                driver="GTiff", width=width, height=height, count=bands, dtype=arr.dtype.name,
                crs=CRS, transform=Affine(*TRANSFORM), tiled=True, blockxsize=cog.BLOCKSIZE,
                blockysize=cog.BLOCKSIZE, compress="lzw", interleave="pixel", bigtiff="IF_SAFER",
                num_threads="ALL_CPUS",
            ) as dst:
                dst.write(np.ma.getdata(arr))
                dst.write_mask(valid)
                dst.descriptions = tuple(result.bandinfo)
                dst.update_tags(**{k: str(v) for k, v in result.properties.items()})
                dst.build_overviews(factors, Resampling.nearest)
            return memfile.read()


def run() -> list[dict]:
    """Time ``encode`` against the direct rasterio write (medians of 5, alternating)."""
    result = make_result()
    ours_bytes = geotiff.encode(result, OPTIONS)
    problems = cog.validate_cog(ours_bytes)
    if problems:
        raise AssertionError(f"encode wrote an invalid COG: {problems}")
    reference_bytes = reference_encode(result)
    ours_s, reference_s = paired_medians(
        lambda: geotiff.encode(result, OPTIONS), lambda: reference_encode(result), repeat=REPEAT
    )
    return [
        ratio_record("geotiff_encode", ours_s, reference_s, TARGET),
        {"text": f"geotiff_encode: ours {len(ours_bytes) / 1e6:.1f} MB (valid COG), "
                 f"reference {len(reference_bytes) / 1e6:.1f} MB (plain tiled GTiff)"},
    ]


if __name__ == "__main__":
    import json

    for record in run():
        print(json.dumps(record))
