"""Uploads are atomic: a failure leaves no record and no file; overwrite replaces only a complete image."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

import wf_widgets as wf
from wf_widgets.catalog.store import CatalogStore
from wf_widgets.errors import JobDestination
from wf_widgets.outputs import cog

PRODUCT = "org:my_product_id"


@pytest.fixture
def tile():
    return wf.DLTile.from_latlon(35.6870, -105.9378, 60, 64, 0)


@pytest.fixture
def product(make_product):
    return make_product(data_type="UInt16", nodata=0, data_range=(0, 10000), physical_range=(-50.0, 10.0))


def files(backend) -> list[str]:
    """Every file of the target product's folder, hidden temporary and set-aside files included."""
    folder = backend.catalog.files_root / PRODUCT
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def destination(name="my_image", **options):
    options.setdefault("rescale", True)
    options.setdefault("change_dtype", True)
    return {"type": "catalog", "image": wf.catalog.Image(name=name, product_id=PRODUCT), **options}


def snapshot(image) -> tuple:
    return image.to_dict(), image.file_path.read_bytes()


def failed_job(value, tile, **options):
    job = value.compute(tile, destination=destination(**options), block=False)
    with pytest.raises(JobDestination):
        job.wait(60)
    assert (job.stage, job._row["error_code"]) == ("FAILED", "DESTINATION"), job._row["error_message"]
    with pytest.raises(JobDestination) as info:
        job.result()
    return str(info.value)


def test_overwrite_replaces_the_image_once_the_new_one_is_complete(demo_catalog, product, composite, tile):
    old = composite.compute(tile, destination=destination())
    old_pixels = old.ndarray()
    new = (composite - 1.0).compute(tile, destination=destination(overwrite=True))
    assert new.created >= old.created and files(demo_catalog) == ["my_image.tif"]
    assert [i.id for i in product.images()] == [f"{PRODUCT}:my_image"]
    # 1 dB less is 166.67 counts less
    assert np.allclose(old_pixels.astype(float) - new.ndarray().astype(float), 10000 / 60, atol=1)


def test_overwrite_keeps_the_old_image_when_the_data_loss_guard_refuses(demo_catalog, product, composite, tile):
    old = composite.compute(tile, destination=destination())
    before = snapshot(old)
    message = failed_job((composite + 50) / 60, tile, overwrite=True, rescale=False)
    assert "would change them by" in message
    assert snapshot(wf.catalog.Image.get(old.id)) == before and files(demo_catalog) == ["my_image.tif"]


def test_failure_storing_the_record_keeps_the_old_image_and_file(demo_catalog, product, composite, tile, monkeypatch):
    old = composite.compute(tile, destination=destination())
    before = snapshot(old)

    def broken(self, row, replace=False):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(CatalogStore, "insert_image", broken)
    message = failed_job(composite - 1.0, tile, overwrite=True)
    assert message == (f"Could not upload image '{PRODUCT}:my_image' to the catalog: OperationalError: disk I/O error. "
                       "Nothing was uploaded (an image it would replace is unchanged).")
    monkeypatch.undo()
    assert snapshot(wf.catalog.Image.get(old.id)) == before
    assert files(demo_catalog) == ["my_image.tif"]  # the new file was moved back out, the old one back in

    monkeypatch.setattr(CatalogStore, "insert_image", broken)
    failed_job(composite, tile, name="new_image")
    monkeypatch.undo()
    assert wf.catalog.Image.get(f"{PRODUCT}:new_image") is None and files(demo_catalog) == ["my_image.tif"]


def test_failure_writing_the_file_leaves_nothing(demo_catalog, product, composite, tile, monkeypatch):
    def half_written(dst, array, profile):
        with open(dst, "wb") as f:
            f.write(b"II*\x00 half a tiff")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cog, "write_cog", half_written)
    message = failed_job(composite, tile)
    assert "OSError: [Errno 28] No space left on device. Nothing was uploaded" in message
    assert wf.catalog.Image.get(f"{PRODUCT}:my_image") is None and files(demo_catalog) == []
