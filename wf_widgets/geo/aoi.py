"""AOI: a GeoContext given by bounds (or a shape), a CRS and a resolution or a pixel shape.

Decisions:

* The pixel grid starts at the top-left corner ``(xmin, ymax)`` of ``bounds``. With a
  `resolution`, ``width = ceil((xmax - xmin) / resolution)`` (and likewise ``height``),
  so the grid may reach up to one pixel past ``xmax`` / below ``ymin``; ``bounds``
  stays what was given. With a `shape`, the pixels fit ``bounds`` exactly and may be
  non-square: ``resolution`` is then the x pixel size, :attr:`AOI.pixel_size` gives both.
* ``geometry`` is, per the GeoContext contract, the lon/lat polygon of ``bounds``;
  the shape passed as `geometry` is kept as :attr:`AOI.input_geometry`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import affine
import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from ..errors import ValidationError, ValidationTypeError
from . import _validate as v
from ._crs import LONLAT, is_lonlat, normalize_crs, transform_geometry
from .context import GeoContext
from .shapes import to_shapely

__all__ = ["AOI"]


def _pixels(extent: float, resolution: float) -> int:
    n = extent / resolution
    r = round(n)
    if abs(n - r) <= 1e-9 * max(1.0, n):
        return max(1, int(r))
    return max(1, math.ceil(n))


class AOI(GeoContext):
    """An area of interest: a rectangle in a CRS and a pixel grid over it.

    Parameters
    ----------
    geometry : dict, shapely geometry or object with ``__geo_interface__``, optional
        A shape in lon/lat. When `bounds` is not given, the bounds are the shape's
        bounds, reprojected into `crs` when `crs` is not lon/lat.
    bounds : tuple of 4 float, optional
        ``(xmin, ymin, xmax, ymax)`` in `crs`. One of `geometry` or `bounds` is required.
    crs : str, default "EPSG:4326"
        Anything pyproj understands; normalised to ``"AUTHORITY:CODE"`` when possible.
    resolution : float, optional
        Pixel size in `crs` units.
    shape : tuple of 2 int, optional
        ``(height, width)`` in pixels. Exactly one of `resolution` or `shape` is required.

    Attributes
    ----------
    crs : str
    bounds : tuple of float
    resolution : float
    pixel_size : tuple of float
        ``(xres, yres)``.
    width, height : int
    shape : tuple of int
        ``(height, width)``.
    transform : affine.Affine
    geotrans : tuple
    geometry : shapely.Polygon
        ``bounds`` in lon/lat.
    input_geometry : shapely geometry or None
        The `geometry` argument, in lon/lat.

    Raises
    ------
    ValidationError
        A ``ValueError`` naming the bad field and value.
    """

    _kind = "aoi"

    def __init__(
        self,
        geometry: Any = None,
        bounds: tuple[float, float, float, float] | None = None,
        crs: str = LONLAT,
        resolution: float | None = None,
        shape: tuple[int, int] | None = None,
    ):
        self._crs = normalize_crs(crs, "crs")
        self._input_geometry: BaseGeometry | None = (
            None if geometry is None else to_shapely(geometry, field="geometry")
        )
        if bounds is None:
            if self._input_geometry is None:
                raise ValidationError(
                    "AOI needs geometry or bounds: got neither", field="bounds", value=None
                )
            g = self._input_geometry
            if not is_lonlat(self._crs):
                g = transform_geometry(shapely.segmentize(g, 0.01) if g.geom_type not in ("Point", "MultiPoint") else g, LONLAT, self._crs)
            bounds = g.bounds
        self._bounds = self._check_bounds(bounds)
        xmin, ymin, xmax, ymax = self._bounds

        if (resolution is None) == (shape is None):
            raise ValidationError(
                "AOI needs exactly one of resolution or shape (height, width): got "
                + ("both" if resolution is not None else "neither"),
                field="resolution",
                value=(resolution, shape),
            )
        if resolution is not None:
            res = v.positive(resolution, "resolution")
            self._given_resolution: float | None = res
            self._given_shape: tuple[int, int] | None = None
            self._xres = self._yres = res
            self._width = _pixels(xmax - xmin, res)
            self._height = _pixels(ymax - ymin, res)
        else:
            if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or len(shape) != 2:
                raise ValidationError(
                    f"Invalid shape {shape!r}: expected (height, width) in pixels", field="shape", value=shape
                )
            h = v.positive_int(shape[0], "shape height")
            w = v.positive_int(shape[1], "shape width")
            self._given_resolution = None
            self._given_shape = (h, w)
            self._height, self._width = h, w
            self._xres = (xmax - xmin) / w
            self._yres = (ymax - ymin) / h

    @staticmethod
    def _check_bounds(bounds: Any) -> tuple[float, float, float, float]:
        if isinstance(bounds, (str, bytes, Mapping)) or not hasattr(bounds, "__len__") or len(bounds) != 4:
            raise ValidationError(
                f"Invalid bounds {bounds!r}: expected (xmin, ymin, xmax, ymax)", field="bounds", value=bounds
            )
        try:
            b = tuple(v.number(x, "bounds") for x in bounds)
        except ValidationTypeError:
            raise ValidationTypeError(
                f"Invalid bounds {bounds!r}: expected 4 numbers (xmin, ymin, xmax, ymax)", field="bounds", value=bounds
            ) from None
        if not (b[0] < b[2] and b[1] < b[3]):
            raise ValidationError(
                f"Invalid bounds {bounds!r}: need xmin < xmax and ymin < ymax", field="bounds", value=bounds
            )
        return b  # type: ignore[return-value]

    @property
    def crs(self) -> str:
        """CRS of ``bounds`` and of the pixel grid."""
        return self._crs

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` in ``crs``."""
        return self._bounds

    @property
    def resolution(self) -> float:
        """Pixel size (x pixel size when the AOI was given a shape)."""
        return self._xres

    @property
    def pixel_size(self) -> tuple[float, float]:
        """``(xres, yres)``, positive."""
        return (self._xres, self._yres)

    @property
    def width(self) -> int:
        """Width in pixels."""
        return self._width

    @property
    def height(self) -> int:
        """Height in pixels."""
        return self._height

    @property
    def transform(self) -> affine.Affine:
        """Top-left origin at ``(xmin, ymax)``, north up."""
        xmin, _, _, ymax = self._bounds
        return affine.Affine(self._xres, 0.0, xmin, 0.0, -self._yres, ymax)

    @property
    def input_geometry(self) -> BaseGeometry | None:
        """The `geometry` given to the constructor (lon/lat), or None."""
        return self._input_geometry

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "aoi", "geometry", "bounds", "crs", "resolution", "shape"}`` (one of the last two is None)."""
        geom = None
        if self._input_geometry is not None:
            geom = json.loads(json.dumps(shapely.geometry.mapping(self._input_geometry)))
        return {
            "type": "aoi",
            "geometry": geom,
            "bounds": list(self._bounds),
            "crs": self._crs,
            "resolution": self._given_resolution,
            "shape": list(self._given_shape) if self._given_shape else None,
        }

    @classmethod
    def _from_dict(cls, d: Mapping[str, Any]) -> "AOI":
        unknown = set(d) - {"type", "geometry", "bounds", "crs", "resolution", "shape"}
        if unknown:
            raise ValidationError(
                f"Invalid geoctx: unknown aoi field(s) {sorted(unknown)}", field="geoctx", value=dict(d)
            )
        shape = d.get("shape")
        return cls(
            geometry=d.get("geometry"),
            bounds=d.get("bounds"),
            crs=d.get("crs", LONLAT),
            resolution=d.get("resolution"),
            shape=tuple(shape) if shape is not None else None,
        )

    def __repr__(self) -> str:
        extra = f"resolution={self._given_resolution!r}" if self._given_resolution is not None else f"shape={self._given_shape!r}"
        return f"AOI(bounds={self._bounds!r}, crs={self._crs!r}, {extra})"
