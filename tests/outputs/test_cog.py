"""The COG module: writing (one profile, to a path, a file or bytes), reading, validating."""

from __future__ import annotations

import contextlib
import dataclasses
import io
from typing import Iterator

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.enums import MaskFlags
from rasterio.io import MemoryFile

from wf_widgets.errors import ValidationError
from wf_widgets.outputs import cog
from wf_widgets.outputs.cog import CogProfile, read_cog, read_info, validate_cog, write_cog

CRS = "EPSG:32613"
TRANSFORM = (10.0, 0.0, 500000.0, 0.0, -10.0, 4000000.0)
PROFILE = CogProfile(crs=CRS, transform=TRANSFORM)


@contextlib.contextmanager
def opened(data: bytes) -> Iterator[rasterio.io.DatasetReader]:
    """The dataset of GeoTIFF bytes (its MemoryFile stays alive while it is open)."""
    with MemoryFile(data) as memfile, memfile.open() as src:
        yield src


def profile(**fields) -> CogProfile:
    return dataclasses.replace(PROFILE, **fields)


def test_cog_layout_tiles_and_overviews(tmp_path):
    path = tmp_path / "big.tif"
    assert write_cog(path, np.zeros((1, 2048, 1300), np.uint8), PROFILE) is None
    assert validate_cog(path, expect_overviews=True) == []
    with rasterio.open(path) as src:
        assert src.block_shapes == [(512, 512)] and src.overviews(1) == [2, 4]
    write_cog(path, np.zeros((1, 2048, 1300), np.uint8), profile(overviews=False))
    assert validate_cog(path, expect_overviews=False) == []
    small = tmp_path / "small.tif"
    write_cog(small, np.zeros((64, 64), np.uint8), PROFILE)
    assert validate_cog(small, expect_overviews=False) == []  # one tile needs no overviews
    assert cog.overview_factors(2048, 2048) == [2, 4] and cog.overview_factors(513, 10) == [2]


def test_path_file_and_bytes_targets_get_the_same_file(tmp_path):
    arr = np.ma.masked_array(np.arange(2 * 600 * 700, dtype=np.float32).reshape(2, 600, 700))
    arr[:, :3] = np.ma.masked
    prof = profile(band_names=("a", "b"), tags={"when": "now"}, compression="DEFLATE")
    data = write_cog(None, arr, prof)
    buf = io.BytesIO()
    assert write_cog(buf, arr, prof) is None
    write_cog(str(tmp_path / "x.tif"), arr, prof)
    assert buf.getvalue() == data == (tmp_path / "x.tif").read_bytes()
    assert validate_cog(data, expect_overviews=True) == []


def test_profile_normalises_its_fields_and_has_the_formats_defaults():
    prof = CogProfile(crs="epsg:32613", transform=list(TRANSFORM), dtype=bool, band_names=["x"],
                      tags={"n": 1.5, 2: "two"}, compression="ZSTD", overview_resampler="Average")
    assert prof.crs == rasterio.crs.CRS.from_epsg(32613) and prof.transform == Affine(*TRANSFORM)
    assert prof.dtype == np.uint8 and prof.band_names == ("x",) and prof.tags == {"n": "1.5", "2": "two"}
    assert (prof.compression, prof.overview_resampler, prof.mask_mode) == ("zstd", "average", "auto")
    assert (PROFILE.overviews, PROFILE.compression, PROFILE.overview_resampler) == (True, "lzw", "nearest")
    assert dataclasses.replace(prof, nodata=0) == CogProfile(**{**dataclasses.asdict(prof), "nodata": 0})
    with pytest.raises(dataclasses.FrozenInstanceError):
        prof.nodata = 1


def test_validator_rejects_plain_geotiffs():
    with MemoryFile() as memfile:
        with memfile.open(driver="GTiff", tiled=True, width=1024, height=1024, count=1, dtype="uint8",
                          crs=CRS, transform=Affine(*TRANSFORM)) as dst:
            dst.write(np.ones((1, 1024, 1024), np.uint8))
            dst.build_overviews([2])
        problems = validate_cog(memfile.read())
    assert "an IFD comes after image data (IFDs must all be at the start of the file)" in problems
    assert "GDAL does not report LAYOUT=COG" in problems


def test_jpeg_needs_uint8_and_nothing_is_written(tmp_path):
    path = tmp_path / "never.tif"
    with pytest.raises(ValidationError, match=r"'jpeg' needs 8-bit \(uint8\) data, but the data type is float32") as e:
        write_cog(path, np.zeros((1, 8, 8), np.float32), profile(compression="jpeg"))
    assert e.value.field == "format.compression" and e.value.value == "jpeg"
    assert not path.exists()
    buf = io.BytesIO()
    with pytest.raises(ValidationError, match="float64"):
        write_cog(buf, np.zeros((1, 8, 8)), profile(compression="jpeg"))
    with pytest.raises(ValidationError, match="float32"):
        write_cog(buf, np.zeros((1, 8, 8), np.uint8), profile(compression="jpeg", dtype="float32"))
    assert buf.getvalue() == b""
    assert write_cog(None, np.zeros((1, 8, 8)), profile(compression="jpeg", dtype="uint8"))[:4] == b"II*\x00"


def test_nodata_fills_masked_pixels_instead_of_a_mask():
    arr = np.ma.masked_array(np.ones((2, 32, 32), np.int16), mask=False)
    arr[1, 5, 5] = np.ma.masked
    buf = io.BytesIO()
    write_cog(buf, arr, profile(nodata=-1, band_names=["a", "b"], tags={"k": 1}))
    with opened(buf.getvalue()) as src:
        assert src.nodata == -1 and src.mask_flag_enums[0] == [MaskFlags.nodata]
        assert src.read(2)[5, 5] == -1 and src.read(1)[5, 5] == 1 and src.tags()["k"] == "1"


def test_mask_modes_and_dtype():
    arr = np.ma.masked_array(np.ones((1, 16, 16)), mask=False)
    buf = io.BytesIO()
    write_cog(buf, arr, profile(mask_mode="internal", dtype="uint16"))
    with opened(buf.getvalue()) as src:
        assert src.mask_flag_enums[0] == [MaskFlags.per_dataset] and src.dtypes[0] == "uint16"
    arr[0, 0, 0] = np.ma.masked
    buf = io.BytesIO()
    write_cog(buf, arr, profile(mask_mode="none"))
    with opened(buf.getvalue()) as src:
        assert src.mask_flag_enums[0] == [MaskFlags.all_valid]
    with pytest.raises(ValidationError, match="needs a nodata value"):
        profile(mask_mode="nodata")


def test_bad_fields_are_validation_errors_naming_the_field():
    cases = [
        ({"compression": "lzma"}, "format.compression", "Unknown value 'lzma' for 'format.compression'"),
        ({"overview_resampler": "lanczos"}, "format.overview_resampler",
         "Unknown value 'lanczos' for 'format.overview_resampler'"),
        ({"mask_mode": "alpha"}, "mask_mode", "Unknown value 'alpha' for 'mask_mode'"),
        ({"dtype": "complex64"}, "dtype", "Unknown data type 'complex64'"),
        ({"crs": "EPSG:0"}, "crs", "Not a coordinate reference system"),
        ({"transform": (1, 2)}, "transform", "transform must be"),
    ]
    for fields, field, message in cases:
        with pytest.raises(ValidationError, match=message) as e:
            profile(**fields)
        assert e.value.field == field
    arr = np.zeros((1, 8, 8))
    with pytest.raises(ValidationError, match="band_names has 2 names but the array has 1 bands"):
        write_cog(io.BytesIO(), arr, profile(band_names=["a", "b"]))
    with pytest.raises(ValidationError, match="non-empty array"):
        write_cog(io.BytesIO(), np.zeros((8,)), PROFILE)


def test_read_cog_and_read_info(tmp_path):
    arr = np.ma.masked_array(np.arange(3 * 1000 * 800, dtype=np.uint16).reshape(3, 1000, 800))
    arr[1, 10, 20] = np.ma.masked
    path = tmp_path / "r.tif"
    write_cog(path, arr, profile(band_names=("a", "", "c"), tags={"x": [1]}))
    info = read_info(path)
    assert (info.count, info.width, info.height, info.crs, info.nodata) == (3, 800, 1000, CRS, None)
    assert info.transform == Affine(*TRANSFORM) and info.descriptions == ("a", None, "c")
    assert info.tags["x"] == "[1]"
    full = read_cog(path)
    assert full.array.dtype == np.uint16 and full.array.mask[:, 10, 20].all() and full.array.mask.sum() == 3
    np.testing.assert_array_equal(full.array.data, arr.data)
    assert read_cog(path.read_bytes()).tags == info.tags == read_cog(io.BytesIO(path.read_bytes())).tags
    small = read_cog(path, max_size=250)  # decimated from the overviews: a grid 4 times coarser
    assert small.array.shape == (3, 250, 200) and (small.width, small.height) == (200, 250)
    assert small.transform == Affine(40.0, 0.0, 500000.0, 0.0, -40.0, 4000000.0)
