"""Helpers of the widget tests (state level: no browser, no kernel)."""

from __future__ import annotations

import threading
import time

import pytest


def wait_until(predicate, timeout=30.0, interval=0.02, what="condition"):
    """Poll ``predicate`` until it is true (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    raise AssertionError(f"{what} not met within {timeout} s")


class ManualLoop:
    """Stands in for the kernel's IOLoop: keeps callbacks until the test runs them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._callbacks: list = []
        self.asked_at: list[float] = []  # time.monotonic() of each add_callback

    def add_callback(self, fn, *args):
        with self._lock:
            self._callbacks.append((fn, args))
            self.asked_at.append(time.monotonic())

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._callbacks)

    def run(self) -> int:
        """Run the callbacks asked for so far (on this thread, as the kernel would on its own)."""
        with self._lock:
            callbacks, self._callbacks = self._callbacks, []
        for fn, args in callbacks:
            fn(*args)
        return len(callbacks)


@pytest.fixture
def image_value(backend):
    """An Image value (a composite of a two-band product) and a 256 px DLTile; the product can take it."""
    import wf_widgets as wf

    product = wf.catalog.Product(id="org:widgets", name="widgets")
    product.save()
    for i, name in enumerate(("red", "nir")):
        wf.catalog.SpectralBand(name=name, product_id=product.id, data_type="Float64", nodata=-9999.0,
                                band_index=i).save()
    composite = wf.ImageCollection.from_id(product.id, "2020-01-01", "2020-05-01").mean(axis="images")
    tile = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 256, 0)
    return composite, tile, product
