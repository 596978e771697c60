"""Shape handling: turning user shapes into shapely geometries and splitting them by UTM zone.

Accepted shapes (all in lon/lat, EPSG:4326): a GeoJSON geometry dict, a Feature, a
FeatureCollection (its features' geometries are unioned), a shapely geometry, or any
object with ``__geo_interface__`` (geopandas, ipyleaflet-drawn features, ...).
Invalid geometries (self-intersecting rings, ...) are repaired with
:func:`shapely.make_valid`. Antimeridian-crossing shapes are not supported: split
them at 180 degrees first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from ..errors import ValidationError, ValidationTypeError
from ._crs import LONLAT, transform_geometry
from ._utm import utm_crs, utm_zone, zone_lon_range

__all__ = ["to_shapely", "split_by_utm_zone", "project_to_utm"]

_ACCEPTED = "a GeoJSON geometry dict, a Feature, a FeatureCollection, a shapely geometry or an object with __geo_interface__"
_EPS = 1e-9


def _from_mapping(obj: Mapping, field: str) -> BaseGeometry:
    kind = obj.get("type")
    if kind == "Feature":
        geom = obj.get("geometry")
        if geom is None:
            raise ValidationError(f"Invalid {field}: the Feature has no geometry", field=field, value=obj)
        return _to_geom(geom, field)
    if kind == "FeatureCollection":
        feats = obj.get("features") or []
        geoms = [_to_geom(f, field) for f in feats]
        if not geoms:
            raise ValidationError(f"Invalid {field}: the FeatureCollection has no features", field=field, value=obj)
        return shapely.union_all([shapely.make_valid(g) for g in geoms])
    try:
        return shapely.geometry.shape(obj)
    except Exception as e:  # shapely raises several kinds for bad GeoJSON
        raise ValidationError(
            f"Invalid {field} {_short(obj)}: not a GeoJSON geometry ({type(e).__name__}: {e})",
            field=field,
            value=obj,
        ) from None


def _short(obj: Any, n: int = 120) -> str:
    s = repr(obj)
    return s if len(s) <= n else s[: n - 3] + "..."


def _to_geom(obj: Any, field: str) -> BaseGeometry:
    if isinstance(obj, BaseGeometry):
        return obj
    if isinstance(obj, Mapping):
        return _from_mapping(obj, field)
    gi = getattr(obj, "__geo_interface__", None)
    if isinstance(gi, Mapping):
        return _from_mapping(gi, field)
    raise ValidationTypeError(
        f"Invalid {field} of type {type(obj).__name__}: expected {_ACCEPTED}",
        field=field,
        value=obj,
    )


def to_shapely(shape: Any, field: str = "shape", check_lonlat: bool = True) -> BaseGeometry:
    """Turn a user shape into a valid, non-empty shapely geometry.

    Parameters
    ----------
    shape : dict, shapely geometry or object with ``__geo_interface__``
        A GeoJSON geometry, Feature or FeatureCollection, or a shapely geometry.
    field : str
        The name used in error messages.
    check_lonlat : bool
        Check that the coordinates are lon/lat (within [-180, 180] x [-90, 90]).

    Returns
    -------
    shapely.geometry.base.BaseGeometry

    Raises
    ------
    ValidationTypeError
        For an object of an unsupported type.
    ValidationError
        For an empty geometry, bad GeoJSON or coordinates outside lon/lat range.
    """
    geom = _to_geom(shape, field)
    if geom.is_empty:
        raise ValidationError(f"Invalid {field}: the geometry is empty", field=field, value=shape)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if check_lonlat:
        xmin, ymin, xmax, ymax = geom.bounds
        if not all(np.isfinite([xmin, ymin, xmax, ymax])) or (
            xmin < -180 - _EPS or xmax > 180 + _EPS or ymin < -90 - _EPS or ymax > 90 + _EPS
        ):
            raise ValidationError(
                f"Invalid {field}: its bounds {(xmin, ymin, xmax, ymax)} are outside lon/lat range "
                "[-180, 180] x [-90, 90]; shapes must be in lon/lat (EPSG:4326)",
                field=field,
                value=shape,
            )
    return geom


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
