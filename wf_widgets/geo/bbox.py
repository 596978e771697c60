"""Lon/lat boxes of pixel grids: what the catalog's spatial index stores, and what it is asked.

A box is ``(west, south, east, north)`` in degrees of EPSG:4326, ``west <= east``, inside
:data:`WORLD`. The catalog stores one box per image (:func:`lonlat_bbox`) and a query asks
for the images whose box meets one of the boxes of a GeoContext's grid
(:func:`lonlat_boxes`); the engine then tests the candidates precisely (their outline,
:data:`SAMPLES` points a side, projected into the context's CRS). The boxes are a coarse
filter and must never lose an image the precise test keeps, so they are conservative:

* the box of the outline's points, each side widened by :data:`MARGIN` of the box's larger
  side plus :data:`MARGIN_DEG` (straight edges between the points in another CRS bend a
  little in lon/lat);
* antimeridian: a grid crossing it is stored with every longitude (one box per image), and
  asked about as two boxes, one each side of it;
* poles: a grid whose outline winds around a pole reaches that pole, with every longitude;
* an outline that can't be projected to lon/lat (non-finite points, an unknown CRS, a bad
  transform) gives :data:`WORLD`: that grid may be anywhere, the precise test decides.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import numpy as np
from affine import Affine
from pyproj.exceptions import ProjError

from ._crs import LONLAT, transformer

#: ``(west, south, east, north)`` of the whole world.
WORLD = (-180.0, -90.0, 180.0, 90.0)
#: Margin added on each side, as a fraction of the box's larger side (in degrees).
MARGIN = 0.02
#: Margin added on each side, in degrees, on top of :data:`MARGIN`.
MARGIN_DEG = 1e-6
#: Points of a grid's outline per side (the engine's precise footprint uses as many).
SAMPLES = 16

Box = tuple[float, float, float, float]


def grid_outline(transform: Any, width: float, height: float, n: int = SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """The outline of a pixel grid in its CRS, ``n`` points a side (``4 n`` points, not closed).

    Parameters
    ----------
    transform : affine.Affine
        Pixel to CRS coordinates.
    width, height : float
        The grid's size in pixels.
    n : int, default :data:`SAMPLES`
        Points per side.
    """
    cols, rows = _unit_outline(n)
    cols, rows = cols * float(width), rows * float(height)
    a, b, c, d, e, f = transform[:6]
    return cols * a + rows * b + c, cols * d + rows * e + f  # as ``transform @ (cols, rows)`` does it


@functools.lru_cache(maxsize=8)
def _unit_outline(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The outline of the unit square, ``n`` points a side (read-only arrays)."""
    t = np.linspace(0.0, 1.0, n + 1)[:-1]
    cols = np.concatenate([t, np.ones(n), 1 - t, np.zeros(n)])
    rows = np.concatenate([np.zeros(n), t, np.ones(n), 1 - t])
    cols.flags.writeable = rows.flags.writeable = False
    return cols, rows


def _contains_pole(crs: str, transform: Any, width: float, height: float, lat: float) -> bool:
    """Whether the pole at ``lat`` (90 or -90) projects inside the grid."""
    x, y = transformer(LONLAT, crs).transform(0.0, lat)
    if not (math.isfinite(x) and math.isfinite(y)):
        return False
    col, row = ~transform @ (x, y)
    return 0.0 <= col <= width and 0.0 <= row <= height


def _boxes(crs: str, transform: Any, width: float, height: float) -> list[Box]:
    """The boxes of a grid (one, or two when it crosses the antimeridian); see the module doc."""
    xs, ys = grid_outline(transform, width, height)
    lons, lats = transformer(crs, LONLAT).transform(xs, ys)
    lons, lats = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    if not (np.all(np.isfinite(lons)) and np.all(np.isfinite(lats))):
        return [WORLD]
    lats = np.clip(lats, -90.0, 90.0)
    south, north = float(lats.min()), float(lats.max())
    ring = np.unwrap(np.append(lons, lons[0]), period=360.0)  # continuous along the outline
    if abs(ring[-1] - ring[0]) > 180.0:  # the outline winds around a pole
        north_pole = _contains_pole(crs, transform, width, height, 90.0)
        south_pole = _contains_pole(crs, transform, width, height, -90.0)
        if not (north_pole or south_pole):  # can't tell which: both
            north_pole = south_pole = True
        pad = MARGIN * (north - south) + MARGIN_DEG
        south = -90.0 if south_pole else max(-90.0, south - pad)
        north = 90.0 if north_pole else min(90.0, north + pad)
        return [(-180.0, south, 180.0, north)]
    west, east = float(ring[:-1].min()), float(ring[:-1].max())
    pad = MARGIN * max(east - west, north - south) + MARGIN_DEG
    west, east = west - pad, east + pad
    south, north = max(-90.0, south - pad), min(90.0, north + pad)
    if east - west >= 360.0:
        return [(-180.0, south, 180.0, north)]
    shift = 360.0 * math.floor((west + 180.0) / 360.0)  # west into [-180, 180)
    west, east = west - shift, east - shift
    if east <= 180.0:
        return [(west, south, east, north)]
    return [(west, south, 180.0, north), (-180.0, south, east - 360.0, north)]


def _grid_boxes(crs: Any, geotrans: Sequence[float], width: Any, height: Any) -> list[Box]:
    try:
        transform = Affine.from_gdal(*(float(v) for v in geotrans))
        width, height = float(width), float(height)
        if not (transform.determinant != 0 and width > 0 and height > 0):
            return [WORLD]
        return _boxes(str(crs), transform, width, height)
    except (ValueError, TypeError, ArithmeticError, ProjError):
        return [WORLD]


def lonlat_bbox(crs: Any, geotrans: Sequence[float], width: Any, height: Any) -> Box:
    """The one box a grid is stored with (every longitude if it crosses the antimeridian).

    Parameters
    ----------
    crs : str
        The grid's CRS (anything pyproj reads).
    geotrans : sequence of 6 float
        GDAL geotransform of the grid.
    width, height : int
        Size in pixels.

    Returns
    -------
    tuple of float
        ``(west, south, east, north)``; :data:`WORLD` when the grid can't be placed.
    """
    boxes = _grid_boxes(crs, geotrans, width, height)
    if len(boxes) == 1:
        return boxes[0]
    return (-180.0, min(b[1] for b in boxes), 180.0, max(b[3] for b in boxes))


def lonlat_boxes(crs: Any, geotrans: Sequence[float], width: Any, height: Any) -> list[Box]:
    """The boxes a query for a grid asks about: one, or two when it crosses the antimeridian.

    Same parameters as :func:`lonlat_bbox`; returns a list of ``(west, south, east, north)``.
    """
    return _grid_boxes(crs, geotrans, width, height)


__all__ = ["MARGIN", "MARGIN_DEG", "SAMPLES", "WORLD", "grid_outline", "lonlat_bbox", "lonlat_boxes"]
