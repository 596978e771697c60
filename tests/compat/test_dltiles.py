"""Port of the original client's ``common/dltile/tests/test_dltiles.py`` (v1.12.1).

The original tests its grid classes ``Tile`` and ``Grid``; the public face of both is
``DLTile``, so each test runs through it: ``Grid(**p).tile_from_lonlat(lon, lat)`` is
``DLTile.from_latlon(lat, lon, **p)``, ``Grid(**p).tiles_from_shape(s)`` is
``DLTile.iter_from_shape(s, **p)``, ``Tile.subtile(n, new_resolution=, new_pad=)`` is
``DLTile.subtile(n, resolution=, pad=)`` and ``Tile.rowcol_to_lonlat`` /
``lonlat_to_rowcol`` are ``DLTile.rowcol_to_latlon`` / ``latlon_to_rowcol``. The expected
values are the original's. What is skipped or left out, and why: docs/compat.md.
"""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from wf_widgets.geo import (
    DLTile,
    InvalidLatLonError,
    InvalidRowColError,
    InvalidShapeError,
    InvalidTileError,
)


def _grid_tile(lon, lat, resolution, tilesize, pad):
    """``Grid(resolution, tilesize, pad).tile_from_lonlat(lon, lat)`` of the original."""
    return DLTile.from_latlon(lat, lon, resolution, tilesize, pad)


def _tiles_from_shape(shape, resolution, tilesize, pad):
    """``Grid(resolution, tilesize, pad).tiles_from_shape(shape)`` of the original (a generator)."""
    return DLTile.iter_from_shape(shape, resolution, tilesize, pad)


def lonlat_to_utm(points, ref_lon):
    """The original's ``utm.lonlat_to_utm(points, ref_lon=...)``: (easting, northing) in the north UTM zone of ref_lon."""
    zone = max(1, 1 + int(np.floor((ref_lon + 180.0) / 6.0)))
    tr = pyproj.Transformer.from_crs("EPSG:4326", f"EPSG:326{zone:02d}", always_xy=True)
    return [tr.transform(lon, lat) for lon, lat in points]


class TestTile:
    """Tests Tile class"""

    def test_from_key_1(self):
        key = "2048:16:30.2:15:3:80"
        tile = DLTile.from_key(key)
        assert tile.key == key
        assert tile.zone == 15
        assert tile.resolution == 30.2
        assert tile.tilesize == 2048
        assert tile.path == 3
        assert tile.row == 80

    def test_from_key_2(self):
        key = "2048:16:30:15:-5:15"  # no decimal in key
        tile = DLTile.from_key(key)
        assert tile.key == "2048:16:30.0:15:-5:15"  # decimal included
        assert tile.resolution == 30
        assert tile.path == -5
        assert tile.row == 15

    def test_get_invalid_dlkey_1(self):
        invalid_key = "2048:16:30.0:0:3:80"  # tilesize must be greater than zero
        with pytest.raises(InvalidTileError):
            DLTile.from_key(invalid_key)

    def test_get_invalid_dlkey_2(self):
        invalid_key = "blah:16:30.0:1:3:80"  # invalid type
        with pytest.raises(InvalidTileError):
            DLTile.from_key(invalid_key)

    def test_get_invalid_dlkey_3(self):
        invalid_key = "2048:16.4:30.0:15:3:80"  # pad must be int
        with pytest.raises(InvalidTileError):
            DLTile.from_key(invalid_key)

    def test_dlkeys_subtile(self):
        params = {
            "resolution": 1,
            "tilesize": 1024,
            "pad": 0,
        }
        sub = 8
        lat, lon = 35.691544, -105.944183

        tile = _grid_tile(lon, lat, **params)
        tiles = [t for t in tile.subtile(sub)]
        assert len(tiles) == sub * sub
        for t in tiles:
            assert t.tilesize == params["tilesize"] // sub

    def test_dlkeys_subtile_with_params(self):
        params = {
            "resolution": 1,
            "tilesize": 1024,
            "pad": 0,
        }
        new_resolution = 2
        new_pad = 13
        sub = 4
        lat, lon = 35.691544, -105.944183

        tile = _grid_tile(lon, lat, **params)
        tiles = [t for t in tile.subtile(sub, resolution=new_resolution, pad=new_pad)]
        assert len(tiles) == sub * sub
        for t in tiles:
            assert np.allclose(
                t.tilesize * new_resolution * sub,
                params["tilesize"] * params["resolution"],
            )
            assert t.pad == new_pad
            assert t.resolution == new_resolution

    def test_dlkeys_subtile_error_1(self):
        params = {
            "resolution": 1,
            "tilesize": 1024,
            "pad": 0,
        }
        sub = 11  # does not evenly divide tilesize
        lat, lon = 35.691544, -105.944183

        tile = _grid_tile(lon, lat, **params)
        with pytest.raises(InvalidTileError):
            [t for t in tile.subtile(sub)]

    def test_dlkeys_subtile_error_2(self):
        params = {
            "resolution": 1,
            "tilesize": 1024,
            "pad": 0,
        }
        sub = 8
        lat, lon = 35.691544, -105.944183

        tile = _grid_tile(lon, lat, **params)
        with pytest.raises(InvalidTileError):
            [t for t in tile.subtile(sub, resolution=13)]  # does not divide

    def test_rowcol_conversions(self):
        # get a polar tile
        tile = _grid_tile(lon=0.0, lat=90.0, tilesize=1000, resolution=1000, pad=0)
        x, y = 567, 133
        (lat,), (lon,) = tile.rowcol_to_latlon(x, y)
        (row,), (col,) = tile.latlon_to_rowcol(lat, lon)
        assert row == x
        assert col == y

    def test_invalid_rowcol(self):
        tile = _grid_tile(lon=0.0, lat=90.0, tilesize=1000, resolution=1000, pad=0)
        x, y = [1, 1, 2, 3, 5], [42]
        with pytest.raises(InvalidRowColError):
            lon, lat = tile.rowcol_to_latlon(x, y)

    @pytest.mark.skip(reason="Tile.assign(resolution=, tilesize=) is of the original's internal grid class; its public "
                             "DLTile.assign takes pad only, as ours (docs/compat.md)")
    def test_assign(self):
        pass

    @pytest.mark.skip(reason="Tile.assign(resolution=, tilesize=) is of the original's internal grid class; its public "
                             "DLTile.assign takes pad only, as ours (docs/compat.md)")
    def test_bad_assign(self):
        pass


class TestGrid:
    """Tests Grid class"""

    def test_make_invalid_grid(self):
        with pytest.raises(InvalidTileError):
            _grid_tile(0.0, 0.0, tilesize=0, resolution=1000, pad=0)

    def test_from_latlon(self):
        params = {"tilesize": 1, "resolution": 1.5, "pad": 99}
        lat, lon = (61.91, 5.26)
        tile = _grid_tile(lon, lat, **params)
        assert tile.tilesize == params["tilesize"]
        assert tile.pad == params["pad"]
        assert tile.tile_extent == params["tilesize"] + 2 * params["pad"]
        assert np.allclose(
            [
                tile.geometry.centroid.xy[0][0],
                tile.geometry.centroid.xy[1][0],
            ],
            [lon, lat],
        )

    def test_dlkeys_from_invalid_latlon(self):
        lat, lon = -97.635, 212.723
        params = {"resolution": 60.0, "tilesize": 512, "pad": 0}
        with pytest.raises(InvalidLatLonError):
            _grid_tile(0, lat, **params)
        with pytest.raises(InvalidLatLonError):
            _grid_tile(lon, 0, **params)

    def test_tiles_from_shape_1(self):
        params = {
            "resolution": 10,
            "tilesize": 2048,
            "pad": 16,
        }
        shape = """{"coordinates":
                [[[-90.1897158, 44.2267595],
                [-87.9570052, 43.8067829],
                [-88.5766841, 42.1269533],
                [-90.7457357, 42.5435965],
                [-90.1897158, 44.2267595]]],
                "type": "Polygon"}"""

        gen = _tiles_from_shape(shape, **params)
        tiles = [tile for tile in gen]
        assert len(tiles) == len(set(tiles))
        assert len(tiles) == 116

    def test_tiles_from_shape_2(self):
        params = {
            "resolution": 1,
            "tilesize": 128,
            "pad": 8,
        }
        shape = {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [-122.51140471760839, 37.77130087547876],
                        [-122.45475646845254, 37.77475476721895],
                        [-122.45303985468301, 37.76657207194229],
                        [-122.51057242081689, 37.763446782666094],
                        [-122.51140471760839, 37.77130087547876],
                    ]
                ],
            },
            "properties": None,
        }

        gen = _tiles_from_shape(shape, **params)
        tiles = [tile for tile in gen]
        assert len(tiles) == len(set(tiles))
        assert len(tiles) == 325

    def test_tiles_from_shape_3(self):
        params = {
            "resolution": 1,
            "tilesize": 128,
            "pad": 8,
        }
        feature = {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [-122.51140471760839, 37.77130087547876],
                        [-122.45475646845254, 37.77475476721895],
                        [-122.45303985468301, 37.76657207194229],
                        [-122.51057242081689, 37.763446782666094],
                        [-122.51140471760839, 37.77130087547876],
                    ]
                ],
            },
            "properties": None,
        }

        # Any object with a __geo_interface__ property
        # e.g. wf.map.geocontext()
        class MockWfContext(object):
            @property
            def __geo_interface__(self):
                return feature

        mock_context = MockWfContext()

        gen = _tiles_from_shape(mock_context, **params)
        tiles = [tile for tile in gen]
        assert len(tiles) == len(set(tiles))
        assert len(tiles) == 325

    @pytest.mark.skip(reason="deliberate difference: DLTile.from_shape takes points and lines (the tiles they touch; "
                             "a marker or a line drawn on the TileMap selects them) where the original raised "
                             "InvalidShapeError; normalize_polygons still refuses them (docs/compat.md)")
    def test_dlkeys_from_invalid_shape(self):
        params = {
            "resolution": 30,
            "tilesize": 2048,
            "pad": 16,
        }
        shape = {"type": "Point", "coordinates": [-105.01621, 39.57422]}
        with pytest.raises(InvalidShapeError):
            for t in _tiles_from_shape(shape, **params):
                pass

    def test_dltiles_utm_buffering(self):
        params = {
            "resolution": 10.0,
            "tilesize": 4096,
            "pad": 0,
        }

        # extremely long and narrow strip which should cover
        # most of the the known world
        y_min, y_max = -66, 66
        x_min, x_max = -98, -90

        feature = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [
                                [x_min, y_min],
                                [x_max, y_min],
                                [x_max, y_max],
                                [x_min, y_max],
                                [x_min, y_min],
                            ]
                        ],
                    },
                    "properties": {},
                }
            ],
        }

        gen = _tiles_from_shape(feature, **params)

        counter = 0
        for tile in gen:
            counter += 1
            # simple check that all the tiles are in bounds
            tx_min, ty_min, tx_max, ty_max = tile.geometry.bounds

            if tx_max < x_min or tx_min > x_max or ty_min > y_max or ty_max < y_min:
                raise InvalidLatLonError("tile outside bounds")

        # simple check that coverage is greater than 100%
        p = lonlat_to_utm([(x_min, y_min), (x_max, y_max)], ref_lon=x_min)
        tile_area = (params["resolution"] * params["tilesize"]) ** 2
        est_total_area = (p[1][0] - p[0][0]) * (p[1][1] - p[0][1])
        ratio = (counter * tile_area) / est_total_area
        assert ratio > 1


def test_the_dltile_docstring_examples_of_the_original():
    """The examples of the original's DLTile docstrings (values to the projection's precision)."""
    tile = DLTile.from_key("2048:0:30.0:15:3:80")
    lat, lon = tile.rowcol_to_latlon(row=56, col=1111)
    assert lat == pytest.approx((44.894653081367544,), abs=1e-7)
    assert lon == pytest.approx((-90.24334206726267,), abs=1e-7)
    assert tile.latlon_to_rowcol(lat=44.8, lon=-90.2) == [(403,), (1237,)]
    assert DLTile.from_latlon(lat=30.0131, lon=31.2089, resolution=10, tilesize=2, pad=49).key == \
        "2:49:10.0:36:-8637:166079"
    assert [t.tilesize for t in DLTile.from_key("2048:0:30.0:15:3:80").subtile(8)][:1] == [256]
    assert DLTile.from_key("2048:16:30.0:15:3:80").assign(123).pad == 123
