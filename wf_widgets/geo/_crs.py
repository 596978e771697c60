"""CRS helpers: normalising CRS names, cached transformers, reprojecting geometries.

Private module; the public names live in :mod:`wf_widgets.geo`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from ..errors import ValidationError

LONLAT = "EPSG:4326"


@lru_cache(maxsize=256)
def _normalize_crs_cached(crs: Any) -> str:
    c = pyproj.CRS.from_user_input(crs)
    auth = c.to_authority()
    if auth is not None:
        return f"{auth[0]}:{auth[1]}"
    return c.to_wkt()


def normalize_crs(crs: Any, field: str = "crs") -> str:
    """Return the canonical string of a CRS (``"EPSG:32613"`` when it has an authority code).

    Raises
    ------
    ValidationError
        If pyproj cannot understand `crs`.
    """
    try:
        return _normalize_crs_cached(crs)
    except (pyproj.exceptions.CRSError, TypeError) as e:
        raise ValidationError(
            f"Invalid {field} {crs!r}: not a coordinate reference system pyproj understands ({e})",
            field=field,
            value=crs,
        ) from None


def is_lonlat(crs: str) -> bool:
    """Whether `crs` (normalised) is plain lon/lat WGS84."""
    return crs in (LONLAT, "OGC:CRS84")


@lru_cache(maxsize=256)
def transformer(src: str, dst: str) -> pyproj.Transformer:
    """A cached ``always_xy`` transformer from `src` to `dst` (pyproj transformers are thread-safe)."""
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def transform_geometry(geom: BaseGeometry, src: str, dst: str) -> BaseGeometry:
    """Reproject every coordinate of a shapely geometry (no densification)."""
    if src == dst:
        return geom
    tr = transformer(src, dst)

    def _f(coords: np.ndarray) -> np.ndarray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, _f)


def unwrap_lons(lons: np.ndarray, ref: float) -> np.ndarray:
    """Keep a ring that crosses the antimeridian continuous around longitude `ref`.

    Longitudes may then pass +-180 (e.g. 180.01 for a tile of zone 60).
    """
    lons = np.asarray(lons, dtype=float)
    if lons.size and lons.max() - lons.min() > 180.0:
        lons = ref + ((lons - ref + 180.0) % 360.0) - 180.0
    return lons


def bounds_ring(bounds: tuple[float, float, float, float], nseg: int) -> tuple[np.ndarray, np.ndarray]:
    """The ring (counter-clockwise, closed) of a rectangle with `nseg` segments per side."""
    xmin, ymin, xmax, ymax = bounds
    t = np.linspace(0.0, 1.0, nseg + 1)[:-1]
    xs = np.concatenate([xmin + (xmax - xmin) * t, np.full(nseg, xmax), xmax - (xmax - xmin) * t, np.full(nseg, xmin)])
    ys = np.concatenate([np.full(nseg, ymin), ymin + (ymax - ymin) * t, np.full(nseg, ymax), ymax - (ymax - ymin) * t])
    return np.append(xs, xs[0]), np.append(ys, ys[0])


def bounds_to_lonlat_polygon(
    bounds: tuple[float, float, float, float], crs: str, nseg: int = 16, ref_lon: float | None = None
) -> shapely.Polygon:
    """The lon/lat polygon of a rectangle given in `crs`, each side split into `nseg` segments.

    A ring crossing the antimeridian is kept continuous around `ref_lon` (default: the
    longitude of the rectangle's centre).
    """
    if is_lonlat(crs):
        return shapely.box(*bounds)
    xs, ys = bounds_ring(bounds, nseg)
    tr = transformer(crs, LONLAT)
    lons, lats = tr.transform(xs, ys)
    if ref_lon is None:
        ref_lon, _ = tr.transform((bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0)
    lons = unwrap_lons(lons, ref_lon)
    return shapely.Polygon(np.column_stack([lons, lats]))


@lru_cache(maxsize=256)
def is_geographic(crs: str) -> bool:
    """Whether `crs` (normalised) has coordinates in degrees of longitude and latitude."""
    return bool(pyproj.CRS.from_user_input(crs).is_geographic)


def transform_bounds(bounds: tuple[float, float, float, float], src: str, dst: str) -> tuple[float, float, float, float]:
    """The bounds, in `dst`, of a rectangle given in `src` (its sides densified with 21 points, as GDAL does)."""
    if src == dst:
        return tuple(bounds)  # type: ignore[return-value]
    return tuple(float(b) for b in transformer(src, dst).transform_bounds(*bounds, densify_pts=21))  # type: ignore[return-value]
