"""Many threads uploading to one product at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from wf_widgets.catalog import Image, Product

from ._helpers import catalog_files, new_image

THREADS = 16


def test_sixteen_threads_upload_to_one_product(cat, product):
    start = threading.Barrier(THREADS, timeout=60)

    def upload(i: int) -> str:
        image = new_image(f"tile_{i:02d}")
        start.wait()
        image.upload_ndarray(np.full((1, 64, 64), i, np.uint8))
        return image.id

    with ThreadPoolExecutor(THREADS) as pool:
        ids = list(pool.map(upload, range(THREADS)))
    assert len(ids) == THREADS
    names = [i.name for i in Product.get(product.id).images()]
    assert names == [f"tile_{i:02d}" for i in range(THREADS)]
    assert catalog_files(cat) == [f"org:my_product_id/tile_{i:02d}.tif" for i in range(THREADS)]
    values = [int(Image.get(f"org:my_product_id:tile_{i:02d}").ndarray().max()) for i in range(THREADS)]
    assert values == list(range(THREADS))


def test_concurrent_overwrites_of_one_image_leave_one_consistent_image(cat, product):
    start = threading.Barrier(8, timeout=60)

    def upload(i: int) -> None:
        image = new_image("same")
        start.wait()
        image.upload_ndarray(np.full((1, 64, 64), i, np.uint8), overwrite=True)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(upload, range(8)))
    image = Image.get("org:my_product_id:same")
    assert catalog_files(cat) == ["org:my_product_id/same.tif"]
    assert image.files[0]["size"] == image.file_path.stat().st_size
    assert 0 <= int(image.ndarray().max()) < 8
