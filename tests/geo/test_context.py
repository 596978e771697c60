"""GeoContext contract, dict round-trips, as_geocontext and AOI."""

from __future__ import annotations

import json
import math

import affine
import pytest
import rasterio.crs
import shapely

from wf_widgets.errors import ValidationError, ValidationTypeError
from wf_widgets.geo import AOI, DLTile, GeoContext, as_geocontext, geocontext_from_dict

TILE = DLTile.from_latlon(35.6870, -105.9378, 10, 256, 8)
LONLAT_BOX = shapely.box(-106.0, 35.0, -105.5, 35.4)


def _contexts():
    return [
        TILE,
        AOI(bounds=(-106.0, 35.0, -105.5, 35.4), resolution=0.001),
        AOI(geometry=LONLAT_BOX, crs="EPSG:32613", resolution=60),
        AOI(bounds=(400000, 3900000, 410000, 3905000), bounds_crs="EPSG:32613", crs="EPSG:32613", shape=(50, 100)),
    ]


@pytest.mark.parametrize("ctx", _contexts(), ids=repr)
def test_contract(ctx):
    assert isinstance(ctx, GeoContext)
    assert isinstance(ctx.crs, str) and rasterio.crs.CRS.from_user_input(ctx.crs)
    assert isinstance(ctx.transform, affine.Affine)
    assert isinstance(ctx.width, int) and isinstance(ctx.height, int)
    assert isinstance(ctx.resolution, float)
    assert ctx.geotrans == ctx.transform.to_gdal()
    xmin, ymin, xmax, ymax = ctx.bounds
    if ctx.bounds_crs == ctx.crs:
        assert ctx.geotrans[0] <= xmin and ctx.geotrans[3] >= ymax  # an aligned grid may reach a little past
    # The original's meanings: a DLTile's shape is its size and its geometry its outline; an
    # AOI's shape and geometry are what it was given (or None).
    if isinstance(ctx, DLTile):
        assert ctx.shape == (ctx.height, ctx.width)
        assert isinstance(ctx.geometry, shapely.Polygon)
    else:
        assert ctx.shape in (None, (ctx.height, ctx.width))
        assert ctx.geometry is None or isinstance(ctx.geometry, shapely.Polygon)
    gx0, gy0, gx1, gy1 = shapely.geometry.shape(ctx.__geo_interface__).bounds
    assert -180 <= gx0 < gx1 <= 180 and -90 <= gy0 < gy1 <= 90
    assert ctx.__geo_interface__["type"] == "Polygon"


@pytest.mark.parametrize("ctx", _contexts(), ids=repr)
def test_to_dict_round_trip(ctx):
    d = ctx.to_dict()
    assert d["type"] in ("dltile", "aoi")
    assert json.loads(json.dumps(d)) == d
    again = geocontext_from_dict(json.loads(json.dumps(d)))
    assert type(again) is type(ctx)
    assert again == ctx and hash(again) == hash(ctx)
    assert again.to_dict() == d
    assert again.transform == ctx.transform and again.shape == ctx.shape
    assert GeoContext.from_dict(d) == ctx


def test_equality_and_hash():
    a = DLTile.from_key(TILE.key)
    assert a == TILE and len({a, TILE}) == 1
    assert TILE != DLTile.from_latlon(35.6870, -105.9378, 10, 256, 0)
    assert AOI(bounds=(0, 0, 1, 1), resolution=0.5) == AOI(bounds=(0, 0, 1, 1), resolution=0.5)
    assert AOI(bounds=(0, 0, 1, 1), resolution=0.5) != AOI(bounds=(0, 0, 1, 1), resolution=0.25)
    assert TILE != "x"


def test_dltile_dict_without_key():
    d = TILE.to_dict()
    del d["key"]
    assert geocontext_from_dict(d) == TILE


def test_as_geocontext():
    assert as_geocontext(None) is None
    assert as_geocontext(TILE) is TILE
    assert as_geocontext(TILE.to_dict()) == TILE
    aoi = AOI(bounds=(0, 0, 1, 1), resolution=0.5)
    assert as_geocontext(aoi.to_dict()) == aoi


@pytest.mark.parametrize("bad", [42, "1024:0:10.0:13:1:2", [1, 2, 3, 4], LONLAT_BOX])
def test_as_geocontext_rejects_other_types(bad):
    with pytest.raises(TypeError, match=r"geoctx.*GeoContext.*dict.*None") as info:
        as_geocontext(bad)
    assert isinstance(info.value, ValidationTypeError) and isinstance(info.value, ValueError)
    assert info.value.field == "geoctx"


def test_geocontext_from_dict_unknown_type():
    with pytest.raises(ValueError, match=r"'tile'.*'aoi', 'dltile'") as info:
        geocontext_from_dict({"type": "tile"})
    assert info.value.field == "geoctx.type"
    assert geocontext_from_dict({"type": "DLTile", "key": TILE.key}) == TILE


# --- AOI -------------------------------------------------------------------------------


def test_aoi_resolution_gives_ceil_pixels():
    aoi = AOI(bounds=(0.0, 0.0, 1000.0, 505.0), bounds_crs="EPSG:32613", crs="EPSG:32613", resolution=10,
              align_pixels=False)
    assert (aoi.width, aoi.height) == (100, 51)
    assert aoi.shape is None  # the original's meaning: the shape given (the grid is width x height)
    assert aoi.transform == affine.Affine(10, 0, 0, 0, -10, 505)
    exact = AOI(bounds=(0.0, 0.0, 0.7, 0.3), resolution=0.1)
    assert (exact.width, exact.height) == (7, 3)


def test_aoi_shape_gives_pixel_size():
    aoi = AOI(bounds=(0.0, 0.0, 1000.0, 500.0), bounds_crs="EPSG:32613", crs="EPSG:32613", shape=(100, 200))
    assert (aoi.height, aoi.width) == (100, 200)
    assert aoi.pixel_size == (5.0, 5.0) and aoi.resolution == 5.0
    assert aoi.geotrans == (0.0, 5.0, 0.0, 500.0, 0.0, -5.0)


def test_aoi_bounds_from_geometry():
    aoi = AOI(geometry=shapely.geometry.mapping(LONLAT_BOX), resolution=0.01)
    assert aoi.bounds == LONLAT_BOX.bounds and aoi.crs == "EPSG:4326"
    assert aoi.geometry.equals(LONLAT_BOX)
    assert aoi.input_geometry.equals(LONLAT_BOX)
    utm = AOI(geometry=LONLAT_BOX, crs="epsg:32613", resolution=100)
    assert utm.crs == "EPSG:32613"
    # The bounds stay the geometry's (lon/lat, bounds_crs); the grid is in the crs.
    assert utm.bounds == LONLAT_BOX.bounds and utm.bounds_crs == "EPSG:4326"
    assert 300000 < utm.transform.c < utm.transform.c + utm.width * 100 < 700000
    assert utm.geometry.buffer(1e-5).contains(LONLAT_BOX)  # within ~1 m (tangent edges)


def test_aoi_bounds_win_over_geometry():
    aoi = AOI(geometry=LONLAT_BOX, bounds=(-107, 34, -105, 36), resolution=0.5)
    assert aoi.bounds == (-107.0, 34.0, -105.0, 36.0)
    assert aoi.input_geometry.equals(LONLAT_BOX)


@pytest.mark.parametrize(
    "kwargs, pattern, field",
    [
        ({"bounds": (0, 0, 1, 1), "resolution": 0.1, "shape": (10, 10)}, r"exactly one.*both", "resolution"),
        ({"bounds": (0, 0, 1), "resolution": 0.1}, r"bounds \(0, 0, 1\)", "bounds"),
        ({"bounds": (1, 0, 0, 1), "resolution": 0.1}, r"bounds \(1, 0, 0, 1\).*xmin < xmax", "bounds"),
        ({"bounds": (0, 0, 1, 1), "resolution": -2}, r"resolution -2", "resolution"),
        ({"bounds": (0, 0, 1, 1), "shape": (10,)}, r"shape \(10,\)", "shape"),
        ({"bounds": (0, 0, 1, 1), "shape": (0, 10)}, r"shape height 0", "shape height"),
        ({"bounds": (0, 0, 1, 1), "resolution": 1, "crs": "EPSG:999999"}, r"crs 'EPSG:999999'", "crs"),
        ({"geometry": shapely.Polygon(), "resolution": 1}, r"geometry.*empty", "geometry"),
    ],
)
def test_aoi_validation(kwargs, pattern, field):
    with pytest.raises(ValueError, match=pattern) as info:
        AOI(**kwargs)
    assert isinstance(info.value, ValidationError)
    assert info.value.field == field


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"bounds": (0, 0, 1, 1)}, r"needs a resolution or a shape"),
        ({"resolution": 10}, r"needs bounds \(or a geometry\)"),
    ],
)
def test_an_incomplete_aoi_is_refused_where_it_is_used_as_a_grid(kwargs, pattern):
    aoi = AOI(**kwargs)  # the original's AOIs may be incomplete until assigned
    with pytest.raises(ValueError, match=pattern) as info:
        as_geocontext(aoi)
    assert isinstance(info.value, ValidationError) and info.value.field == "geoctx"
    with pytest.raises(ValueError, match=pattern):
        aoi.width


def test_aoi_repr():
    assert "EPSG:4326" in repr(AOI(bounds=(0, 0, 1, 1), resolution=0.5))
    assert math.isclose(AOI(bounds=(0, 0, 1, 1), shape=(2, 4)).pixel_size[1], 0.5)
