"""AOI with the original client's signature and rules, and what wf_widgets adds to it."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import shapely
import shapely.geometry

import wf_widgets as wf
from wf_widgets.errors import WfWarning
from wf_widgets.geo import AOI, DLTile, IncompleteGeoContextError, InvalidShapeError, as_geocontext, geocontext_from_dict
from wf_widgets.geo._crs import transformer

BOX = shapely.box(-106.0, 35.0, -105.5, 35.4)


def test_positional_arguments_are_the_originals():
    aoi = AOI(BOX, 0.001, "EPSG:4326", False, (-106.0, 35.0, -105.0, 36.0), "EPSG:4326", None)
    assert (aoi.resolution, aoi.crs, aoi.align_pixels, aoi.bounds, aoi.bounds_crs) == (
        0.001, "EPSG:4326", False, (-106.0, 35.0, -105.0, 36.0), "EPSG:4326")
    assert aoi.geometry.equals(BOX) and aoi.shape is None


def test_align_pixels_snaps_the_grid_to_the_resolution():
    aligned = AOI(bounds=(0.05, 0.05, 0.95, 0.93), resolution=0.1)
    assert aligned.align_pixels is True  # the default with a resolution
    assert aligned.transform.c == 0.0 and aligned.transform.f == pytest.approx(1.0)
    assert (aligned.width, aligned.height) == (10, 10)
    loose = aligned.assign(align_pixels=False)
    assert loose.transform.c == 0.05 and (loose.width, loose.height) == (9, 9)
    assert AOI(bounds=(0, 0, 1, 1), shape=(4, 4)).align_pixels is False


def test_the_grid_is_in_crs_and_the_bounds_in_bounds_crs():
    aoi = AOI(geometry=BOX, crs="EPSG:32613", resolution=100)
    assert aoi.bounds == BOX.bounds and aoi.bounds_crs == "EPSG:4326"
    x0, y0 = aoi.transform.c, aoi.transform.f - aoi.height * 100
    assert x0 % 100 == 0 and y0 % 100 == 0  # aligned
    grid = shapely.box(x0, y0, x0 + aoi.width * 100, aoi.transform.f)
    tr = transformer("EPSG:4326", "EPSG:32613")
    utm_box = shapely.transform(shapely.segmentize(BOX, 0.01), lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    assert grid.contains(utm_box)


def test_a_feature_collection_is_kept_as_a_geometry_collection():
    feature = {"type": "Feature", "geometry": shapely.geometry.mapping(BOX), "properties": {}}
    aoi = AOI({"type": "FeatureCollection", "features": [feature, feature]}, resolution=0.01)
    assert aoi.geometry.geom_type == "GeometryCollection" and len(aoi.geometry.geoms) == 2
    again = geocontext_from_dict(json.loads(json.dumps(aoi.to_dict())))
    assert again == aoi and again.geometry.geom_type == "GeometryCollection"


def test_geojson_text_is_a_geometry_and_a_shape():
    text = json.dumps(shapely.geometry.mapping(BOX))
    assert AOI(text, resolution=0.01).geometry.equals(BOX)
    assert DLTile.from_shape(text, 10, 1024, 0, keys_only=True) == DLTile.from_shape(BOX, 10, 1024, 0, keys_only=True)
    assert DLTile.from_shape([BOX, text], 10, 1024, 0, keys_only=True) == DLTile.from_shape(BOX, 10, 1024, 0,
                                                                                         keys_only=True)
    with pytest.raises(InvalidShapeError, match="not GeoJSON text"):
        DLTile.from_shape("{not json", 10, 1024, 0)
    with pytest.raises(InvalidShapeError, match="outside lon/lat"):
        list(DLTile.iter_from_shape(shapely.box(170, 0, 190, 10), 10, 1024, 0))
    with pytest.raises(TypeError, match="int"):
        DLTile.from_shape([BOX, 3], 10, 1024, 0)


def test_from_grid_and_stored_dicts_take_no_heuristics():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tile = AOI.from_grid((0.0, 0.0, 80.0, 80.0), "EPSG:3857", shape=(256, 256))  # near null island
    assert tile.bounds_crs == tile.crs == "EPSG:3857" and tile.transform.a == pytest.approx(80 / 256)
    with pytest.warns(WfWarning, match="wrong `bounds_crs`"):
        AOI(bounds=(0.0, 0.0, 80.0, 80.0), bounds_crs="EPSG:3857", crs="EPSG:3857", shape=(256, 256))


def test_a_dict_of_an_earlier_version_still_loads():
    """Job rows of homes made before bounds_crs: bounds in crs, the grid from the bounds' corner."""
    old = {"type": "aoi", "geometry": None, "bounds": [400000.0, 3900000.0, 410005.0, 3905000.0],
           "crs": "EPSG:32613", "resolution": 10.0, "shape": None}
    aoi = geocontext_from_dict(old)
    assert aoi.bounds_crs == aoi.crs == "EPSG:32613"
    assert (aoi.transform.c, aoi.transform.f, aoi.width, aoi.height) == (400000.0, 3905000.0, 1001, 500)
    lonlat = geocontext_from_dict({"type": "aoi", "geometry": shapely.geometry.mapping(BOX), "bounds": None,
                                   "crs": "EPSG:4326", "resolution": 0.01, "shape": None})
    assert lonlat.bounds == BOX.bounds and lonlat.geometry.equals(BOX)


def test_an_incomplete_aoi_is_refused_before_a_job_exists(backend):
    with pytest.raises(IncompleteGeoContextError, match="needs a resolution or a shape"):
        (wf.Int(1) + 1).compute(AOI(BOX))
    assert backend.jobs.list() == []
    with pytest.raises(ValueError, match="resolution must be given in decimal degrees"):
        as_geocontext(AOI(BOX, resolution=40))  # metres meant, but the grid is in lon/lat


def test_the_originals_dltile_dict_constructor():
    tile = DLTile.from_key("128:16:960.0:15:-1:37")
    feature = {"type": "Feature", "geometry": shapely.geometry.mapping(tile.geometry),
               "properties": {"key": tile.key, "cs_code": tile.crs}}
    assert DLTile(feature) == tile
    with pytest.raises(ValueError, match="dltile_dict"):
        DLTile({"type": "Feature", "properties": {}})
