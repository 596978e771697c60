"""The spec's bulk pattern (one upload job per DLTile) and concurrent uploads to one product."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from shapely.geometry import box

import wf_widgets as dl
import wf_widgets as wf

PRODUCT = "org:my_product_id"


@pytest.fixture
def product(make_product):
    return make_product(data_type="UInt16", nodata=0, data_range=(0, 10000), physical_range=(-50.0, 10.0))


def catalog_files(backend) -> list[str]:
    folder = backend.catalog.files_root / PRODUCT
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_bulk_pattern_one_job_per_tile(demo_catalog, product, composite):
    center = dl.DLTile.from_latlon(35.6870, -105.9378, 10, 1024, 0).geometry.centroid
    aoi_geometry = box(center.x - 0.12, center.y - 0.12, center.x + 0.12, center.y + 0.12)  # the demo area and around

    tiles = dl.scenes.DLTile.from_shape(aoi_geometry, 60, 64, 0)
    images = [dl.catalog.Image(name=tile.key.replace(":", "_"), product_id=PRODUCT) for tile in tiles]
    jobs = [composite.compute(tile, destination={"type": "catalog", "image": image, "rescale": True,
                                                 "change_dtype": True}, block=False)
            for tile, image in zip(tiles, images)]

    assert len(tiles) >= 50
    for job in jobs:
        job.wait(120)
    assert {(job.stage, job._row["error_code"], job._row["error_message"]) for job in jobs} == \
        {("SUCCEEDED", "NONE", None)}
    saved = {image.name: image for image in product.images()}
    assert sorted(saved) == sorted(image.name for image in images)
    for tile, image in zip(tiles, images):
        stored = saved[image.name]
        assert tuple(stored.geotrans) == tuple(tile.geotrans) and stored.cs_code == tile.crs
        assert (stored.x_pixels, stored.y_pixels) == (64, 64)
    assert catalog_files(demo_catalog) == sorted(f"{image.name}.tif" for image in images)
    assert [job.result().id for job in jobs[:3]] == [image.id for image in images[:3]]


def test_concurrent_uploads_to_one_product_from_threads(demo_catalog, product, composite):
    tiles = [wf.DLTile.from_latlon(35.6870 + 0.01 * i, -105.9378, 60, 64, 0) for i in range(12)]
    same = wf.DLTile.from_latlon(35.6870, -105.9378, 60, 64, 0)

    def upload(i: int):
        if i < len(tiles):  # distinct images
            image = wf.catalog.Image(name=f"t{i}", product_id=PRODUCT)
            return composite.compute(tiles[i], destination={"type": "catalog", "image": image, "rescale": True,
                                                            "change_dtype": True})
        image = wf.catalog.Image(name="shared", product_id=PRODUCT)  # the same image, replaced again and again
        return (composite - (i % 3)).compute(same, destination={"type": "catalog", "image": image, "overwrite": True,
                                                                "rescale": True, "change_dtype": True})

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(upload, range(len(tiles) + 8)))
    assert all(isinstance(r, wf.catalog.Image) and r.created is not None for r in results)
    names = sorted(image.name for image in product.images())
    assert names == sorted([f"t{i}" for i in range(len(tiles))] + ["shared"])
    assert catalog_files(demo_catalog) == sorted(f"{n}.tif" for n in names)  # no temporary or set-aside file left
    assert all(job["stage"] == "SUCCEEDED" for job in demo_catalog.jobs.list(limit=100))
    shared = wf.catalog.Image.get(f"{PRODUCT}:shared")
    assert shared.ndarray().shape == (2, 64, 64)
