"""The geotiff codec: Image results to COG bytes and back (options, masks, tags, exact round trip)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import OrderedDict
from typing import Iterator

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.enums import MaskFlags
from rasterio.io import MemoryFile

from wf_widgets.errors import ValidationError
from wf_widgets.outputs.codecs.geotiff import decode, encode
from wf_widgets.outputs.cog import validate_cog
from wf_widgets.outputs.results import ImageResult

CRS = "EPSG:32613"
TRANSFORM = (10.0, 0.0, 500000.0, 0.0, -10.0, 4000000.0)
DEFAULTS = {"overviews": True, "compression": "lzw", "overview_resampler": "nearest"}


def image_result(shape=(2, 256, 256), dtype="float64") -> ImageResult:
    rng = np.random.default_rng(0)
    arr = np.ma.masked_array((rng.random(shape) * 100).astype(dtype), mask=np.zeros(shape, bool))
    arr[:, :10, :] = np.ma.masked
    return ImageResult(
        arr,
        properties={"date": dt.datetime(2020, 1, 1, 12, tzinfo=dt.timezone.utc), "product": "sentinel-1:GRD",
                    "count": 3, "text_number": "123", "nested": {"a": [1, 2]}, "odd key": True},
        bandinfo=OrderedDict([("vv", {"unit": "dB"}), ("vh", {})]),
        geocontext={"crs": CRS, "transform": TRANSFORM, "width": shape[2], "height": shape[1], "key": "k"},
    )


@contextlib.contextmanager
def opened(data: bytes) -> Iterator[rasterio.io.DatasetReader]:
    """The dataset of GeoTIFF bytes (its MemoryFile stays alive while it is open)."""
    with MemoryFile(data) as memfile, memfile.open() as src:
        yield src


def test_encode_decode_round_trip():
    value = image_result()
    data = encode(value, DEFAULTS)
    assert data[:4] == b"II*\x00" and validate_cog(data) == []
    back = decode(data)
    assert back == value  # ndarray, mask, properties (datetimes too), band names, geocontext
    assert back.properties["text_number"] == "123" and back.bandinfo["vv"] == {"unit": "dB"}
    assert back.ndarray.dtype == np.float64


def test_encoded_file_for_other_tools():
    with opened(encode(image_result(), {"type": "geotiff", **DEFAULTS})) as src:
        assert src.crs.to_string() == CRS and src.transform == Affine(*TRANSFORM)
        assert src.descriptions == ("vv", "vh") and src.dtypes == ("float64", "float64")
        assert src.mask_flag_enums == ([MaskFlags.per_dataset], [MaskFlags.per_dataset])
        tags = src.tags()
        assert tags["date"] == "2020-01-01T12:00:00+00:00" and tags["product"] == "sentinel-1:GRD"
        assert tags["count"] == "3" and tags["nested"] == '{"a": [1, 2]}' and "odd key" not in tags
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.read_masks(1)[:10].max() == 0 and src.read_masks(1)[10:].min() == 255


def test_decode_of_a_foreign_geotiff():
    with MemoryFile() as memfile:
        with memfile.open(driver="GTiff", width=8, height=4, count=1, dtype="uint8", crs="EPSG:4326",
                          transform=Affine(0.5, 0, 10, 0, -0.5, 50), nodata=0) as dst:
            dst.write(np.arange(32, dtype=np.uint8).reshape(1, 4, 8))
            dst.update_tags(cloud="0.5", name="x")
        back = decode(memfile.read())
    assert list(back.bandinfo) == ["b0"] and back.properties == {"cloud": 0.5, "name": "x"}
    assert back.geocontext == {"crs": "EPSG:4326", "transform": (0.5, 0.0, 10.0, 0.0, -0.5, 50.0),
                               "width": 8, "height": 4}
    assert back.ndarray.mask[0, 0, 0] and back.ndarray.mask.sum() == 1


@pytest.mark.parametrize("compression", ["lzw", "deflate", "zstd", "none", "JPEG"])
def test_compressions(compression):
    arr = np.ma.masked_array((np.arange(3 * 64 * 64) % 251).astype(np.uint8).reshape(3, 64, 64))
    data = encode(ImageResult(arr, geocontext={"crs": CRS, "transform": TRANSFORM}), {"compression": compression})
    with opened(data) as src:
        assert src.tags(ns="IMAGE_STRUCTURE").get("COMPRESSION", "NONE").startswith(compression.upper()[:4])
    assert validate_cog(data) == []
    if compression != "JPEG":
        np.testing.assert_array_equal(decode(data).ndarray.data, arr.data)


def test_overview_resampler_is_used():
    checker = np.indices((1024, 1024)).sum(axis=0) % 2 * 2  # 0/2 checkerboard
    out = {}
    for resampler in ("nearest", "average"):
        value = ImageResult(checker[np.newaxis].astype(np.float32), geocontext={"crs": CRS, "transform": TRANSFORM})
        data = encode(value, {"overview_resampler": resampler})
        with opened(data) as src:
            out[resampler] = src.read(1, out_shape=(512, 512))
    assert set(np.unique(out["nearest"])) <= {0, 2} and np.allclose(out["average"], 1)


def test_encode_needs_an_image_result_and_known_options():
    with pytest.raises(ValidationError, match="GeoTIFF needs an Image result, got int"):
        encode(2, DEFAULTS)
    with pytest.raises(ValidationError, match="Unknown option 'tiles' for 'format'"):
        encode(image_result(), {"tiles": 256})
    with pytest.raises(ValidationError, match="format.overviews must be True or False"):
        encode(image_result(), {"overviews": "yes"})
    no_geo = ImageResult(np.zeros((1, 4, 4)))
    with pytest.raises(ValidationError, match="needs the geocontext's crs and transform"):
        encode(no_geo, {})


def test_encode_keeps_uint8_so_jpeg_works():
    arr = np.ma.masked_array(np.full((3, 64, 64), 100, np.uint8))
    arr[:, 0, :] = np.ma.masked
    data = encode(ImageResult(arr, geocontext={"crs": CRS, "transform": TRANSFORM}), {"compression": "jpeg"})
    back = decode(data)
    assert back.ndarray.dtype == np.uint8 and back.ndarray.mask[:, 0, :].all() and not back.ndarray.mask[:, 1:].any()
    assert abs(int(back.ndarray[:, 1:].mean()) - 100) <= 1
