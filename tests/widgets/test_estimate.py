"""The one size estimate of the widgets: bytes in words, bands from the static rules."""

from __future__ import annotations

import pytest

import wf_widgets as wf
from wf_widgets.widgets import _estimate
from wf_widgets.widgets._estimate import BYTES_PER_SAMPLE, human_bytes, size_estimate, size_text


@pytest.mark.parametrize("n, text", [
    (0, "0 bytes"), (1023, "1,023 bytes"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (2 * 1024 ** 2, "2.0 MiB"),
    (1024 ** 3, "1.0 GiB"), (3 * 1024 ** 4, "3.0 TiB"), (2048 * 1024 ** 4, "2,048.0 TiB"),
])
def test_human_bytes(n, text):
    assert human_bytes(n) == text


def test_an_image_counts_its_static_bands(image_value):
    composite, _tile, _product = image_value
    est = size_estimate(composite, 65_536)
    assert est == {"pixels": 65_536, "bands": 2, "band_names": ["red", "nir"],
                   "bytes": 65_536 * 2 * BYTES_PER_SAMPLE, "per_image": False}
    assert size_text(est) == "about 1.0 MiB as float64 (2 bands)"
    one = size_estimate(composite.pick_bands("nir"), 65_536)
    assert size_text(one) == "about 512.0 KiB as float64 (1 band)"


def test_a_collection_is_per_image(image_value):
    _composite, _tile, product = image_value
    collection = wf.ImageCollection.from_id(product.id, "2020-01-01", "2020-05-01")
    est = size_estimate(collection, 65_536)
    assert est["per_image"] and est["bands"] == 2
    assert size_text(est) == "about 1.0 MiB per image as float64 (2 bands)"


def test_unknown_bands_give_the_size_of_one_band(image_value, monkeypatch):
    composite, _tile, _product = image_value

    def unknown(value, backend=None):
        raise ValueError("the catalog can't say")

    monkeypatch.setattr(_estimate, "static_bands", unknown)
    est = size_estimate(composite, 131_072)
    assert est["bands"] is None and est["band_names"] is None and est["bytes"] is None
    assert size_text(est) == "about 1.0 MiB per band as float64"
    assert size_estimate(wf.Int(1), 10)["bands"] is None  # not imagery: no bands either
