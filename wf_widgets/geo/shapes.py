"""Shape handling: turning user shapes into shapely geometries and splitting them by UTM zone.

Accepted shapes (all in lon/lat, EPSG:4326): a GeoJSON geometry dict, a Feature, a
FeatureCollection (its features' geometries are unioned, or collected by
:func:`geometry_like`), a shapely geometry, any object with ``__geo_interface__``
(geopandas, ipyleaflet-drawn features, ...), any of these as GeoJSON text, or a list of
them. Bad shapes raise :class:`~wf_widgets.geo.exceptions.InvalidShapeError` (a
``ValueError``; its ``...TypeError`` variant for objects that are no shape).
Invalid geometries (self-intersecting rings, ...) are repaired with
:func:`shapely.make_valid`. Antimeridian-crossing shapes are not supported: split
them at 180 degrees first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from ._crs import LONLAT, transform_geometry
from ._utm import utm_crs, utm_zone, zone_lon_range
from .exceptions import InvalidShapeError, InvalidShapeTypeError

__all__ = ["geometry_like", "normalize_polygons", "to_shapely", "split_by_utm_zone", "project_to_utm"]

_ACCEPTED = ("a GeoJSON geometry dict, a Feature, a FeatureCollection, a shapely geometry, an object with "
             "__geo_interface__, GeoJSON text, or a list of these")
_EPS = 1e-9


def _parse_json(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as e:
        raise InvalidShapeError(f"Invalid {field} {_short(text)}: not GeoJSON text ({e})", field=field,
                                value=text) from None


def _combine(geoms: list[BaseGeometry], collect: bool) -> BaseGeometry:
    if collect:
        return shapely.GeometryCollection(geoms)
    return shapely.union_all([shapely.make_valid(g) for g in geoms])


def _from_mapping(obj: Mapping, field: str, collect: bool) -> BaseGeometry:
    kind = obj.get("type")
    if kind == "Feature":
        geom = obj.get("geometry")
        if geom is None:
            raise InvalidShapeError(f"Invalid {field}: the Feature has no geometry", field=field, value=obj)
        return _to_geom(geom, field, collect)
    if kind == "FeatureCollection":
        feats = obj.get("features") or []
        geoms = [_to_geom(f, field, collect) for f in feats]
        if not geoms:
            raise InvalidShapeError(f"Invalid {field}: the FeatureCollection has no features", field=field, value=obj)
        return _combine(geoms, collect)
    try:
        return shapely.geometry.shape(obj)
    except Exception as e:  # shapely raises several kinds for bad GeoJSON
        raise InvalidShapeError(
            f"Invalid {field} {_short(obj)}: not a GeoJSON geometry ({type(e).__name__}: {e})",
            field=field,
            value=obj,
        ) from None


def _short(obj: Any, n: int = 120) -> str:
    s = repr(obj)
    return s if len(s) <= n else s[: n - 3] + "..."


def _to_geom(obj: Any, field: str, collect: bool = False) -> BaseGeometry:
    if isinstance(obj, BaseGeometry):
        return obj
    if isinstance(obj, str):
        return _to_geom(_parse_json(obj, field), field, collect)
    if isinstance(obj, Mapping):
        return _from_mapping(obj, field, collect)
    if isinstance(obj, (list, tuple)) and obj:
        return _combine([_to_geom(item, field, collect) for item in obj], collect)
    gi = getattr(obj, "__geo_interface__", None)
    if isinstance(gi, Mapping):
        return _from_mapping(gi, field, collect)
    raise InvalidShapeTypeError(
        f"Invalid {field} of type {type(obj).__name__}: expected {_ACCEPTED}",
        field=field,
        value=obj,
    )


def to_shapely(shape: Any, field: str = "shape", check_lonlat: bool = True, collect: bool = False) -> BaseGeometry:
    """Turn a user shape into a valid, non-empty shapely geometry.

    Parameters
    ----------
    shape : dict, str, list, shapely geometry or object with ``__geo_interface__``
        A GeoJSON geometry, Feature or FeatureCollection (or its JSON text), a shapely
        geometry, or a non-empty list of these.
    field : str
        The name used in error messages.
    check_lonlat : bool
        Check that the coordinates are lon/lat (within [-180, 180] x [-90, 90]).
    collect : bool
        Keep the geometries of a FeatureCollection (or a list) apart, as one
        GeometryCollection, instead of unioning them.

    Returns
    -------
    shapely.geometry.base.BaseGeometry

    Raises
    ------
    InvalidShapeTypeError
        For an object of an unsupported type (a ``TypeError`` and ``ValueError``).
    InvalidShapeError
        For an empty geometry, bad GeoJSON (or GeoJSON text) or coordinates outside lon/lat range.
    """
    geom = _to_geom(shape, field, collect)
    if geom.is_empty:
        raise InvalidShapeError(f"Invalid {field}: the geometry is empty", field=field, value=shape)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if check_lonlat:
        xmin, ymin, xmax, ymax = geom.bounds
        if not all(np.isfinite([xmin, ymin, xmax, ymax])) or (
            xmin < -180 - _EPS or xmax > 180 + _EPS or ymin < -90 - _EPS or ymax > 90 + _EPS
        ):
            raise InvalidShapeError(
                f"Invalid {field}: its bounds {(xmin, ymin, xmax, ymax)} are outside lon/lat range "
                "[-180, 180] x [-90, 90]; shapes must be in lon/lat (EPSG:4326)",
                field=field,
                value=shape,
            )
    return geom


def geometry_like(shape: Any, field: str = "geometry") -> BaseGeometry:
    """A user shape as the original client kept an AOI's geometry: a FeatureCollection is a GeometryCollection.

    Same input and checks as :func:`to_shapely` (``collect=True``): the features are kept
    apart, not unioned, so ``__geo_interface__`` gives back each feature's geometry.
    """
    return to_shapely(shape, field=field, collect=True)


def normalize_polygons(shape_or_shapes: Any) -> list[BaseGeometry]:
    """The polygons of a shape or shapes, as a list of shapely Polygons and MultiPolygons.

    The original client's shape normaliser, kept for code that calls it: GeoJSON text is
    parsed, a list gives the polygons of each item, a Feature its geometry, a
    FeatureCollection the geometry of each feature (in order), an object with
    ``__geo_interface__`` what that gives. Nothing is unioned, repaired or range-checked.
    (:meth:`DLTile.from_shape <wf_widgets.geo.DLTile.from_shape>` goes through
    :func:`to_shapely`, which also takes points and lines.)

    Raises
    ------
    InvalidShapeError
        A geometry that is not a Polygon or MultiPolygon, or GeoJSON text that does not parse.
    InvalidShapeTypeError
        An object that is no shape.
    """
    obj = shape_or_shapes
    if isinstance(obj, str):
        obj = _parse_json(obj, "shape")
    if isinstance(obj, list):
        return [poly for item in obj for poly in normalize_polygons(item)]
    if isinstance(obj, Mapping):
        if "geometry" in obj:
            geoms = [_geojson_shape(obj["geometry"])]
        elif "features" in obj:
            return [_geojson_shape(feature["geometry"]) for feature in obj["features"]]
        else:
            geoms = [_geojson_shape(obj)]
        return normalize_polygons(geoms[0])
    if isinstance(obj, (shapely.Polygon, shapely.MultiPolygon)):
        return [obj]
    if isinstance(obj, BaseGeometry):
        raise InvalidShapeError(f"Geometries must be Polygon or MultiPolygon, got {obj.geom_type}", field="shape",
                                value=obj)
    if hasattr(obj, "__geo_interface__"):
        return normalize_polygons(obj.__geo_interface__)
    raise InvalidShapeTypeError(f"Could not normalize a shape of type {type(obj).__name__}: expected {_ACCEPTED}",
                                field="shape", value=obj)


def _geojson_shape(obj: Any) -> BaseGeometry:
    try:
        return shapely.geometry.shape(obj)
    except Exception as e:  # shapely raises several kinds for bad GeoJSON
        raise InvalidShapeError(f"Invalid shape {_short(obj)}: not a GeoJSON geometry ({type(e).__name__}: {e})",
                                field="shape", value=obj) from None


def split_by_utm_zone(geom: BaseGeometry) -> Iterator[tuple[int, BaseGeometry]]:
    """Split a lon/lat geometry along UTM zone boundaries, west to east.

    Yields
    ------
    (zone, piece)
        Each non-empty piece of `geom` inside a zone (closed on both sides, so a point
        exactly on a zone boundary appears in both zones).
    """
    xmin, _, xmax, _ = geom.bounds
    z0, z1 = utm_zone(xmin), utm_zone(xmax)
    if z0 == z1:
        yield z0, geom
        return
    shapely.prepare(geom)
    for zone in range(z0, z1 + 1):
        west, east = zone_lon_range(zone)
        piece = shapely.intersection(geom, shapely.box(west, -90.0, east, 90.0))
        if not piece.is_empty:
            yield zone, piece


def project_to_utm(geom: BaseGeometry, zone: int, max_segment_deg: float | None = None) -> BaseGeometry:
    """Project a lon/lat geometry into the north UTM `zone` (no false northing).

    Parameters
    ----------
    geom : shapely geometry
        In lon/lat.
    zone : int
        UTM zone, 1..60.
    max_segment_deg : float, optional
        Densify edges to at most this length (degrees) first, so straight lon/lat
        edges stay faithful once projected.
    """
    if max_segment_deg is not None and geom.geom_type not in ("Point", "MultiPoint"):
        geom = shapely.segmentize(geom, max_segment_deg)
    return transform_geometry(geom, LONLAT, utm_crs(zone))
