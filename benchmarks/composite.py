"""Composite benchmark: the spec's temporal mean over one 1024 x 1024 DLTile.

``composite``: ``wf.ImageCollection.from_id("sentinel-1:GRD", "2020-01-01", "2020-05-01")
.mean(axis="images")`` over ``DLTile.from_latlon(35.6870, -105.9378, 10, 1024, 0)`` on the
demo product (20 scenes of 1200 x 1200 px, 2 UInt16 bands), evaluated as a job's worker
does it (``plan`` + ``evaluate``: catalog query, access checks, static checks, reads,
warps, scaling, masked mean, the ImageResult), against a hand-written rasterio + numpy
script doing the same work: the same files (their list is given to it, untimed), the
same warp per scene (``rasterio.warp.reproject`` with nearest resampling and nodata 0
into the tile's grid, inside one ``rasterio.Env``), the same scaling to dB and a masked
mean accumulated scene by scene. Target: ratio <= 1.3.

The time of the whole ``compute(tile)`` round trip (job store, pyarrow encoding and
decoding) is printed as a plain-text figure.
"""

from __future__ import annotations

import time

import numpy as np

try:
    from _common import paired_medians, ratio_record, temp_home
except ImportError:  # imported as benchmarks.composite
    from benchmarks._common import paired_medians, ratio_record, temp_home

TARGET = 1.3
REPEAT = 5


def _reference(paths: list[str], tile, scale: float, offset: float) -> np.ma.MaskedArray:
    """Hand-written: warp each scene into the tile, scale to dB, masked mean over the scenes."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    shape = (2, tile.height, tile.width)
    total = np.zeros(shape)
    count = np.zeros(shape, dtype=np.int32)
    raw = np.empty(shape, dtype=np.uint16)
    with rasterio.Env():
        for path in paths:
            with rasterio.open(path) as src:
                reproject(rasterio.band(src, [1, 2]), raw, src_transform=src.transform, src_crs=src.crs,
                          dst_transform=tile.transform, dst_crs=tile.crs, src_nodata=0, dst_nodata=0,
                          init_dest_nodata=True, resampling=Resampling.nearest)
            valid = raw != 0
            total += np.where(valid, raw * scale + offset, 0.0)
            count += valid
    return np.ma.MaskedArray(total / np.maximum(count, 1), mask=count == 0)


def run() -> list[dict]:
    """Time our composite against the hand-written one; see the module docstring."""
    with temp_home("wf-widgets-composite-"):
        return _run()


def _run() -> list[dict]:
    import wf_widgets as wf
    from wf_widgets.backend import Backend
    from wf_widgets.config import Settings
    from wf_widgets.demo_data import DATA_RANGE, PHYSICAL_RANGE, PRODUCT_ID, demo_tile, make_demo_data
    from wf_widgets.engine.evaluate import EvalContext, evaluate, plan
    from wf_widgets.engine.reading import CatalogReader

    backend = Backend(Settings.from_env(), sweep=False)
    previous = wf.set_backend(backend)
    try:
        start = time.perf_counter()
        make_demo_data(backend)
        demo_s = time.perf_counter() - start
        tile = demo_tile()
        composite = wf.ImageCollection.from_id(PRODUCT_ID, "2020-01-01", "2020-05-01").mean(axis="images")
        node = composite.node

        def ours():
            ctx = EvalContext.for_backend(backend, tile)
            plan(node, ctx)
            return evaluate(node, ctx)

        scenes = CatalogReader.for_backend(backend).scenes(PRODUCT_ID, "2020-01-01T00:00:00+00:00",
                                               "2020-05-01T00:00:00+00:00", None, tile)
        paths = [s.path for s in scenes]
        scale = (PHYSICAL_RANGE[1] - PHYSICAL_RANGE[0]) / (DATA_RANGE[1] - DATA_RANGE[0])
        offset = PHYSICAL_RANGE[0] - DATA_RANGE[0] * scale

        def reference():
            return _reference(paths, tile, scale, offset)

        got, want = ours().ndarray, reference()
        assert np.array_equal(got.mask, want.mask) and np.ma.allclose(got, want)
        ours_s, reference_s = paired_medians(ours, reference, repeat=REPEAT)

        start = time.perf_counter()
        composite.compute(tile)
        compute_s = time.perf_counter() - start
    finally:
        wf.set_backend(previous)
        backend.close()
    return [
        ratio_record("composite", ours_s, reference_s, TARGET),
        {"text": f"composite: {len(paths)} scenes into a {tile.width} x {tile.height} tile; "
                 f"compute() round trip {compute_s:.3f} s; demo data {demo_s:.1f} s"},
    ]


if __name__ == "__main__":
    import json

    for record in run():
        print(json.dumps(record) if "ratio" in record else record["text"], flush=True)
