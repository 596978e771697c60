"""DLTile grid: keys, bounds, geotransform, zones, from_shape, errors."""

from __future__ import annotations

import itertools
import math
import pickle
import time
import types
import warnings

import numpy as np
import pyproj
import pytest
import shapely
import shapely.geometry

from wf_widgets.errors import ValidationError, WfWarning
from wf_widgets.geo import DLTile, utm_crs, utm_zone
from wf_widgets.geo import dltile as dltile_mod

SANTA_FE = (35.6870, -105.9378)


def _utm(zone, lon, lat):
    tr = pyproj.Transformer.from_crs("EPSG:4326", f"EPSG:326{zone:02d}", always_xy=True)
    return tr.transform(lon, lat)


# --- from_latlon and the grid formulas ------------------------------------------------


def test_santa_fe_tile_matches_grid_formulas():
    lat, lon = SANTA_FE
    tile = DLTile.from_latlon(lat, lon, 10, 1024, 0)
    assert tile.zone == 13
    assert tile.crs == tile.bounds_crs == "EPSG:32613"
    e, n = _utm(13, lon, lat)
    T = 1024 * 10.0
    path, row = math.floor((e - 500000) / T), math.floor(n / T)
    assert (tile.path, tile.row) == (path, row)
    xmin, ymin = 500000 + path * T, row * T
    assert tile.bounds == (xmin, ymin, xmin + T, ymin + T)
    assert tile.geotrans == (xmin, 10.0, 0.0, ymin + T, 0.0, -10.0)
    assert tile.transform.to_gdal() == tile.geotrans
    assert tile.shape == (1024, 1024) and tile.width == tile.height == 1024
    assert (tile.resolution, tile.tilesize, tile.pad) == (10.0, 1024, 0)
    assert tile.key == f"1024:0:10.0:13:{path}:{row}"
    assert "1024:0:10.0:13" in repr(tile)


@pytest.mark.parametrize(
    "lon, zone",
    [(-180, 1), (-179.9, 1), (-102.0001, 13), (-102, 14), (0, 31), (-0.0001, 30), (179.9, 60), (180, 60)],
)
def test_zone_formula(lon, zone):
    assert utm_zone(lon) == zone
    assert DLTile.from_latlon(10, lon, 30, 256, 0).zone == zone


def test_utm_crs_is_zero_padded():
    assert utm_crs(5) == "EPSG:32605"
    assert DLTile.from_latlon(0, -153, 10, 256, 0).crs == "EPSG:32605"


def test_south_of_equator_uses_north_zone_and_negative_rows():
    lat, lon = -33.9249, 18.4241  # Cape Town
    tile = DLTile.from_latlon(lat, lon, 10, 256, 0)
    assert tile.crs == "EPSG:32634"
    e, n = _utm(34, lon, lat)
    assert n < 0
    assert tile.row == math.floor(n / 2560.0) < 0
    assert tile.bounds[1] == tile.row * 2560.0 < 0
    assert tile.geometry.contains(shapely.Point(lon, lat))


def test_padding_grows_bounds_by_pad_times_resolution():
    lat, lon = SANTA_FE
    plain = DLTile.from_latlon(lat, lon, 10, 256, 0)
    padded = DLTile.from_latlon(lat, lon, 10, 256, 16)
    assert (padded.path, padded.row) == (plain.path, plain.row)
    assert padded.unpadded_bounds == plain.bounds
    assert np.allclose(np.subtract(padded.bounds, plain.bounds), [-160, -160, 160, 160])
    assert padded.shape == (288, 288)
    assert padded.geotrans[0] == plain.bounds[0] - 160 and padded.geotrans[3] == plain.bounds[3] + 160
    assert padded.key.startswith("256:16:10.0:")


@pytest.mark.parametrize(
    "lat, lon", [SANTA_FE, (-33.9249, 18.4241), (0.01, 0.01), (64.1, -21.9), (-54.8, -68.3), (10, 179.99), (10, -179.99)]
)
def test_tile_geometry_contains_point(lat, lon):
    tile = DLTile.from_latlon(lat, lon, 10, 256, 0)
    geom = tile.geometry
    assert isinstance(geom, shapely.Polygon) and geom.is_valid
    assert geom.contains(shapely.Point(lon, lat))
    assert tile.__geo_interface__["type"] == "Polygon"


# --- keys --------------------------------------------------------------------------------


def test_key_round_trip():
    tile = DLTile.from_latlon(*SANTA_FE, 10, 1024, 0)
    again = DLTile.from_key(tile.key)
    assert again.key == tile.key and again == tile and hash(again) == hash(tile)
    assert again.bounds == tile.bounds


@pytest.mark.parametrize(
    "key, normal",
    [
        ("1024:0:30:13:-9:385", "1024:0:30.0:13:-9:385"),
        ("1024:0:30.0:13:-9:385", "1024:0:30.0:13:-9:385"),
        ("512:8:30.5:14:3:-12", "512:8:30.5:14:3:-12"),
        ("256:0:0.5:1:0:0", "256:0:0.5:1:0:0"),
    ],
)
def test_from_key_normalises_resolution(key, normal):
    tile = DLTile.from_key(key)
    assert tile.key == normal
    assert DLTile.from_key(tile.key).key == normal


def test_from_key_fields():
    tile = DLTile.from_key("512:8:30.5:14:3:-12")
    assert (tile.tilesize, tile.pad, tile.resolution, tile.zone, tile.path, tile.row) == (512, 8, 30.5, 14, 3, -12)
    T = 512 * 30.5
    assert tile.unpadded_bounds == (500000 + 3 * T, -12 * T, 500000 + 4 * T, -11 * T)


# --- subtile -------------------------------------------------------------------------


def test_subtile():
    tile = DLTile.from_latlon(*SANTA_FE, 10, 1024, 4)
    subs = tile.subtile(4)
    assert len(subs) == 16
    assert all(s.tilesize == 256 and s.pad == 4 and s.resolution == 10 for s in subs)
    union = shapely.union_all([shapely.box(*s.unpadded_bounds) for s in subs])
    assert union.equals(shapely.box(*tile.unpadded_bounds))
    assert len({s.key for s in subs}) == 16
    # reading order: first is the north-west corner
    assert subs[0].unpadded_bounds[0] == tile.unpadded_bounds[0]
    assert subs[0].unpadded_bounds[3] == tile.unpadded_bounds[3]


def test_subtile_not_divisible():
    tile = DLTile.from_latlon(*SANTA_FE, 10, 1024, 0)
    with pytest.raises(ValueError, match=r"subdivide 3.*1024"):
        tile.subtile(3)


# --- from_shape ------------------------------------------------------------------------

CROSS = shapely.box(-103.0, 35.0, -101.5, 35.3)  # crosses the 13/14 boundary at -102


def _zone_piece_utm(shape, zone):
    west = -180 + 6 * (zone - 1)
    piece = shape.intersection(shapely.box(west, -90, west + 6, 90))
    tr = pyproj.Transformer.from_crs("EPSG:4326", utm_crs(zone), always_xy=True)
    return shapely.transform(shapely.segmentize(piece, 0.01), lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))


def test_from_shape_across_zone_boundary():

    tiles = DLTile.from_shape(CROSS, 10, 1024, 0)
    keys = [t.key for t in tiles]
    assert len(keys) == len(set(keys))
    assert {t.zone for t in tiles} == {13, 14}
    zones = [t.zone for t in tiles]
    assert zones == sorted(zones)  # west to east
    pieces = {z: _zone_piece_utm(CROSS, z) for z in (13, 14)}
    for t in tiles:
        assert pieces[t.zone].intersects(shapely.box(*t.unpadded_bounds)), t.key
        assert t.geometry.intersects(CROSS)
    # completeness: the tile of every sample point inside the shape is returned
    expected = set()
    for lon in np.linspace(-103, -101.5, 40):
        for lat in np.linspace(35, 35.3, 12):
            expected.add(DLTile.from_latlon(lat, lon, 10, 1024, 0).key)
    assert expected <= set(keys)


def test_from_shape_order_is_reading_order_within_zone():
    tiles = DLTile.from_shape(CROSS, 10, 1024, 0)
    assert [t.key for t in tiles] == [t.key for t in DLTile.from_shape(CROSS, 10, 1024, 0)]
    for zone in (13, 14):
        zt = [(t.row, t.path) for t in tiles if t.zone == zone]
        assert zt == sorted(zt, key=lambda rp: (-rp[0], rp[1]))


def test_from_shape_pad_does_not_change_selection():
    a = DLTile.from_shape(CROSS, 10, 1024, 0, keys_only=True)
    b = DLTile.from_shape(CROSS, 10, 1024, 32, keys_only=True)
    assert [k.replace(":32:", ":0:", 1) for k in b] == a


class _HasGeoInterface:
    def __init__(self, geom):
        self.__geo_interface__ = shapely.geometry.mapping(geom)


@pytest.mark.parametrize(
    "wrap",
    [
        lambda g: g,
        lambda g: shapely.geometry.mapping(g),
        lambda g: {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(g)},
        lambda g: {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(g)}],
        },
        _HasGeoInterface,
    ],
    ids=["shapely", "geojson", "feature", "featurecollection", "geo_interface"],
)
def test_from_shape_accepts_shape_kinds(wrap):
    expected = DLTile.from_shape(CROSS, 10, 1024, 0, keys_only=True)
    assert DLTile.from_shape(wrap(CROSS), 10, 1024, 0, keys_only=True) == expected


def test_from_shape_point_and_line():
    lat, lon = SANTA_FE
    assert DLTile.from_shape(shapely.Point(lon, lat), 10, 256, 0) == [DLTile.from_latlon(lat, lon, 10, 256, 0)]
    line = shapely.LineString([(-106.0, 35.5), (-105.9, 35.5)])
    tiles = DLTile.from_shape(line, 10, 256, 0)
    assert tiles and all(t.geometry.intersects(line) for t in tiles)


def test_keys_only():
    tiles = DLTile.from_shape(CROSS, 10, 1024, 0)
    keys = DLTile.from_shape(CROSS, 10, 1024, 0, keys_only=True)
    assert keys == [t.key for t in tiles]
    assert all(isinstance(k, str) for k in keys)


def test_iter_from_shape_is_a_generator_equal_to_from_shape():
    it = DLTile.iter_from_shape(CROSS, 10, 1024, 0)
    assert isinstance(it, types.GeneratorType)
    assert list(it) == DLTile.from_shape(CROSS, 10, 1024, 0)
    assert list(DLTile.iter_from_shape(CROSS, 10, 1024, 0, keys_only=True)) == DLTile.from_shape(
        CROSS, 10, 1024, 0, keys_only=True
    )


def test_iter_from_shape_checks_arguments_eagerly():
    with pytest.raises(ValueError, match="tilesize"):
        DLTile.iter_from_shape(CROSS, 10, 0, 0)


def test_from_shape_warns_over_threshold(monkeypatch):
    monkeypatch.setattr(dltile_mod, "WARN_TILE_COUNT", 10)
    with pytest.warns(WfWarning, match="iter_from_shape"):
        tiles = DLTile.from_shape(CROSS, 10, 256, 0, keys_only=True)
    assert len(tiles) > 10


def test_from_shape_warns_over_50000_tiles():
    # ~60,000 tiles of 256 px at 10 m, keys only: stays well under a second
    big = shapely.box(-106.0, 30.0, -100.0, 36.5)
    with pytest.warns(WfWarning, match=r"iter_from_shape"):
        keys = DLTile.from_shape(big, 10, 256, 0, keys_only=True)
    assert len(keys) > 50_000
    assert len(set(keys)) == len(keys)


def test_from_shape_no_warning_under_threshold():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DLTile.from_shape(CROSS, 10, 256, 0)


def test_from_shape_about_1000_tiles_all_intersect():
    shape = shapely.box(-106.0, 35.0, -105.25, 35.7)
    tiles = DLTile.from_shape(shape, 10, 256, 0)
    assert 800 < len(tiles) < 1500
    assert all(t.geometry.intersects(shape) for t in tiles)


def test_geometries_batch_matches_geometry():
    tiles = DLTile.from_shape(CROSS, 10, 1024, 8)
    batch = DLTile.geometries(tiles)
    fresh = [DLTile.from_key(t.key).geometry for t in tiles]
    assert all(a.equals_exact(b, 1e-9) for a, b in zip(batch, fresh))


def test_pickle():
    tile = DLTile.from_latlon(*SANTA_FE, 10, 256, 2)
    tile.geometry
    again = pickle.loads(pickle.dumps(tile))
    assert again == tile and again.geometry.equals(tile.geometry)


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, field, pattern",
    [
        ((91, -105, 10, 256, 0), "lat", r"lat 91"),
        ((-90.5, -105, 10, 256, 0), "lat", r"lat -90.5"),
        ((35, -181, 10, 256, 0), "lon", r"lon -181"),
        ((35, 180.5, 10, 256, 0), "lon", r"lon 180.5"),
        ((35, -105, 0, 256, 0), "resolution", r"resolution 0"),
        ((35, -105, -10, 256, 0), "resolution", r"resolution -10"),
        ((35, -105, 10, 0, 0), "tilesize", r"tilesize 0"),
        ((35, -105, 10, -256, 0), "tilesize", r"tilesize -256"),
        ((35, -105, 10, 256.5, 0), "tilesize", r"tilesize 256.5"),
        ((35, -105, 10, 256, -1), "pad", r"pad -1"),
        ((float("nan"), -105, 10, 256, 0), "lat", r"lat nan"),
    ],
)
def test_from_latlon_bad_input(args, field, pattern):
    with pytest.raises(ValueError, match=pattern) as info:
        DLTile.from_latlon(*args)
    assert isinstance(info.value, ValidationError)
    assert info.value.field == field


def test_from_latlon_wrong_type():
    with pytest.raises(TypeError, match=r"lat '35'"):
        DLTile.from_latlon("35", -105, 10, 256, 0)


@pytest.mark.parametrize(
    "key",
    ["1024:0:10.0:13:1", "1024:0:10.0:13:1:2:3", "abc:0:10.0:13:1:2", "1024:0:ten:13:1:2",
     "1024:0:10.0:61:1:2", "1024:0:10.0:0:1:2", "0:0:10.0:13:1:2", "1024:-1:10.0:13:1:2",
     "1024:0:-10.0:13:1:2", ""],
)
def test_from_key_malformed(key):
    with pytest.raises(ValueError, match=f"key {key!r}".replace("(", r"\(").replace(".", r"\.")) as info:
        DLTile.from_key(key)
    assert info.value.field == "key"


def test_from_key_not_a_string():
    with pytest.raises(TypeError, match="key 1024"):
        DLTile.from_key(1024)


def test_from_shape_bad_shapes():
    with pytest.raises(ValueError, match=r"lon/lat"):
        DLTile.from_shape(shapely.box(400000, 3900000, 410000, 3910000), 10, 256, 0)  # UTM, not lon/lat
    with pytest.raises(ValueError, match="empty"):
        DLTile.from_shape(shapely.Polygon(), 10, 256, 0)
    with pytest.raises(TypeError, match="int"):
        DLTile.from_shape(42, 10, 256, 0)
    with pytest.raises(ValueError, match="resolution -1"):
        DLTile.from_shape(CROSS, -1, 256, 0)


# --- max_tiles ------------------------------------------------------------------------------
WORLD = shapely.box(-180.0, -90.0, 180.0, 90.0)


def test_the_whole_world_at_10m_fails_fast_before_building_tiles(monkeypatch):
    def no_tiles(*args, **kwargs):
        raise AssertionError("a tile was built")

    monkeypatch.setattr(DLTile, "_make", no_tiles)
    start = time.perf_counter()
    with pytest.raises(ValidationError, match=r"DLTile.from_shape would build at least 4,[0-9]{3},[0-9]{3} tiles, more "
                                              r"than max_tiles=1,000,000; iterate over them with "
                                              r"DLTile.iter_from_shape\(\.\.\.\)") as info:
        DLTile.from_shape(WORLD, 10, 1024, 0)
    assert time.perf_counter() - start < 0.5
    assert info.value.field == "max_tiles" and info.value.value > 4_000_000


def test_max_tiles_argument_and_setting(monkeypatch):
    n = len(DLTile.from_shape(CROSS, 10, 1024, 0, keys_only=True))
    assert len(DLTile.from_shape(CROSS, 10, 1024, 0, keys_only=True, max_tiles=n)) == n
    with pytest.raises(ValidationError, match=rf"would build (at least )?{n:,} tiles, more than max_tiles={n - 1:,}"):
        DLTile.from_shape(CROSS, 10, 1024, 0, max_tiles=n - 1)
    monkeypatch.setenv("WF_WIDGETS_MAX_TILES", str(n - 1))
    with pytest.raises(ValidationError, match=rf"more than max_tiles={n - 1};.*WF_WIDGETS_MAX_TILES"):
        DLTile.from_shape(CROSS, 10, 1024, 0)
    with pytest.raises(ValueError, match="max_tiles"):
        DLTile.from_shape(CROSS, 10, 1024, 0, max_tiles=0)


def test_a_thin_shape_with_many_candidates_is_counted_exactly():
    """A long diagonal line: millions of candidate tiles in its bounds, few of them hit."""
    line = shapely.LineString([(-120.0, 30.0), (-114.5, 45.0)])
    lower, upper = DLTile._count_bounds(line, 2560.0)
    assert lower == 0 and upper > 50_000
    keys = DLTile.from_shape(line, 10, 256, 0, keys_only=True, max_tiles=50_000)
    assert 0 < len(keys) < 50_000


def test_iter_from_shape_streams_the_whole_world():
    start = time.perf_counter()
    it = DLTile.iter_from_shape(WORLD, 10, 1024, 0)
    first = list(itertools.islice(it, 1000))
    assert len(first) == 1000 and all(t.zone == 1 for t in first)
    assert time.perf_counter() - start < 2


def test_very_wide_rows_are_tested_in_chunks(monkeypatch):
    monkeypatch.setattr(dltile_mod, "_CHUNK", 7)
    blocks = list(DLTile._blocks(0, 19, 5, 6))
    assert all(len(rows) * len(paths) <= 7 for rows, paths in blocks)
    cells = [(r, p) for rows, paths in blocks for r in rows.tolist() for p in paths.tolist()]
    assert cells == [(r, p) for r in (6, 5) for p in range(20)]
    a = DLTile.from_shape(CROSS, 10, 1024, 0, keys_only=True)
    monkeypatch.setattr(dltile_mod, "_CHUNK", 3)
    assert DLTile.from_shape(CROSS, 10, 1024, 0, keys_only=True) == a
