"""AOI: a GeoContext given by a geometry and/or bounds, a CRS, and a resolution or a pixel shape.

The original client's AOI, with its signature, attributes and validation rules:

* ``bounds`` are in ``bounds_crs`` (default ``"EPSG:4326"``); without bounds, a
  ``geometry`` gives its own (lon/lat) bounds. ``geometry`` is kept as given (a
  FeatureCollection as a GeometryCollection of its features' geometries).
* An AOI may be incomplete (no bounds, or no resolution or shape) and completed with
  :meth:`AOI.assign`; using an incomplete AOI as a pixel grid (computing in it) raises
  :class:`~wf_widgets.geo.exceptions.IncompleteGeoContextError` before any job exists.
* The pixel grid is in ``crs``: the bounds are reprojected there (each side densified
  with 21 points, as GDAL does) when ``bounds_crs`` differs. With a ``resolution`` the
  pixels are square; with ``align_pixels`` (the default when a resolution is given) the
  grid's edges are snapped outwards to whole multiples of the resolution (GDAL's
  ``-tap``), so AOIs of one resolution share pixel edges; otherwise the grid starts at the
  top-left corner and ``width = ceil((xmax - xmin) / resolution)``. With a ``shape``
  ``(rows, columns)`` the pixels fit the bounds exactly (``align_pixels`` has no effect).

Decisions where the original was silent or is extended (see docs/compat.md):

* ``crs=None`` means the CRS of the bounds: ``AOI(bounds=lonlat_box, resolution=0.001)``
  is a lon/lat grid. ``crs`` reports that CRS.
* ``resolution`` of an AOI given a ``shape`` is the x pixel size of its grid (the original
  gave None); :attr:`AOI.pixel_size` gives both sizes.
* Lon/lat bounds may reach past 180 degrees of longitude (up to 360), for boxes across
  the antimeridian.
* ``__geo_interface__`` of an AOI without a geometry and with projected bounds is the
  lon/lat outline of those bounds (the original raised).
* :meth:`AOI.from_grid` builds an AOI from bounds in its own CRS without the lat/lon
  heuristics (the web-map tiles of the engine use it).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from typing import Any

import affine
import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from ..errors import ValidationError, ValidationTypeError, WfWarning
from . import _validate as v
from ._crs import LONLAT, bounds_to_lonlat_polygon, is_geographic, is_lonlat, normalize_crs, transform_bounds
from .context import GeoContext
from .exceptions import IncompleteGeoContextError
from .shapes import geometry_like

__all__ = ["AOI"]

#: The sentinel of :meth:`AOI.assign` for "keep this attribute".
UNCHANGED = "unchanged"
_FIELDS = ("geometry", "resolution", "crs", "align_pixels", "bounds", "bounds_crs", "shape")
_TOL = 1e-9


def _unchanged(x: Any) -> bool:
    return isinstance(x, str) and x == UNCHANGED


def _pixels(extent: float, resolution: float) -> int:
    n = extent / resolution
    r = round(n)
    if abs(n - r) <= _TOL * max(1.0, n):
        return max(1, int(r))
    return max(1, math.ceil(n))


def _snap(x: float, res: float, up: bool) -> float:
    k = x / res
    r = round(k)
    if abs(k - r) <= _TOL * max(1.0, abs(k)):
        return r * res
    return (math.ceil(k) if up else math.floor(k)) * res


def _looks_lonlat(b: tuple[float, ...]) -> bool:
    return -180 <= b[0] <= 180 and -90 <= b[1] <= 90 and -180 <= b[2] <= 180 and -90 <= b[3] <= 90


def _lonlat_ok(b: tuple[float, ...]) -> bool:
    """Lon/lat bounds, allowing longitudes up to 360 past the antimeridian (a box drawn across it)."""
    return -360 <= b[0] <= 360 and -360 <= b[2] <= 360 and b[2] - b[0] <= 360 and -90 <= b[1] and b[3] <= 90


class AOI(GeoContext):
    """An area of interest: a geometry and/or bounds, and the pixel grid to compute in.

    Parameters
    ----------
    geometry : dict, str, shapely geometry or object with ``__geo_interface__``, optional
        A shape in lon/lat (WGS84), kept as :attr:`geometry`. Without `bounds`, its
        bounds become the AOI's (in ``"EPSG:4326"``).
    resolution : float, optional
        Pixel size in units of the grid's CRS. At most one of `resolution` and `shape`.
    crs : str, optional
        CRS of the pixel grid: an EPSG code, a PROJ.4 string or WKT (anything pyproj
        understands; normalised to ``"AUTHORITY:CODE"`` when it has one). None: the CRS of
        the bounds (`bounds_crs`).
    align_pixels : bool, optional
        Snap the grid's edges outwards to whole multiples of `resolution`, so that pixel
        ``(i, j)`` of two AOIs of one resolution cover the same ground. None: True when a
        `resolution` is given, else False. No effect with a `shape`.
    bounds : tuple of 4 float, optional
        ``(xmin, ymin, xmax, ymax)`` in `bounds_crs`.
    bounds_crs : str, default "EPSG:4326"
        CRS of `bounds`. Lon/lat bounds must lie in [-180, 180] x [-90, 90] (longitudes up
        to 360 for a box across the antimeridian); projected bounds that look like lon/lat
        draw a warning.
    shape : tuple of 2 int, optional
        ``(rows, columns)`` of the grid, in pixels.

    Raises
    ------
    ValidationError
        A ``ValueError`` naming the bad field and value; ``ValidationTypeError`` (also a
        ``TypeError``) for a resolution or shape of the wrong type, as the original's.

    Warns
    -----
    WfWarning
        Bounds that look like lon/lat degrees with a projected `bounds_crs`.

    Examples
    --------
    >>> aoi = AOI(my_geometry, resolution=40, crs="EPSG:32615")      # doctest: +SKIP
    >>> aoi.assign(geometry=None)                                      # doctest: +SKIP
    >>> AOI(resolution=15, bounds=(-40, 35, -39, 36), crs="EPSG:32624")  # doctest: +SKIP
    """

    _kind = "aoi"

    def __init__(
        self,
        geometry: Any = None,
        resolution: float | None = None,
        crs: str | None = None,
        align_pixels: bool | None = None,
        bounds: tuple[float, float, float, float] | None = None,
        bounds_crs: str | None = LONLAT,
        shape: tuple[int, int] | None = None,
    ):
        for name in _FIELDS:
            setattr(self, "_" + name, None)
        if bounds is None and geometry is not None:
            bounds = "update"
        self._assign(geometry, resolution, crs, align_pixels, bounds, bounds_crs, shape)
        self._validate(warn=True)

    # --- constructors ------------------------------------------------------------------
    @classmethod
    def from_grid(cls, bounds: tuple[float, float, float, float], crs: str, resolution: float | None = None,
                  shape: tuple[int, int] | None = None) -> "AOI":
        """The AOI of a pixel grid whose bounds are given in its own CRS (no lat/lon heuristics, no alignment).

        Parameters
        ----------
        bounds : tuple of 4 float
            ``(xmin, ymin, xmax, ymax)`` in `crs`.
        crs : str
        resolution : float, optional
        shape : tuple of 2 int, optional
            One of `resolution` and `shape`.
        """
        return cls._build(dict(bounds=bounds, bounds_crs=crs, crs=crs, resolution=resolution, shape=shape,
                               align_pixels=False), warn=False)

    @classmethod
    def _build(cls, fields: Mapping[str, Any], warn: bool) -> "AOI":
        self = cls.__new__(cls)
        for name in _FIELDS:
            setattr(self, "_" + name, None)
        self._assign(*(fields.get(name) for name in _FIELDS))
        self._validate(warn=warn)
        return self

    def assign(
        self,
        geometry: Any = UNCHANGED,
        resolution: Any = UNCHANGED,
        crs: Any = UNCHANGED,
        align_pixels: Any = UNCHANGED,
        bounds: Any = UNCHANGED,
        bounds_crs: Any = UNCHANGED,
        shape: Any = UNCHANGED,
    ) -> "AOI":
        """A copy of the AOI with the given attributes changed (the others ``"unchanged"``).

        A new `geometry` does not change the bounds unless ``bounds="update"``, which sets
        them to the geometry's bounds and `bounds_crs` to ``"EPSG:4326"``. None unsets an
        attribute.

        Raises
        ------
        ValidationError
            As the constructor; ``bounds="update"`` without a new geometry, or with a
            `bounds_crs` other than EPSG:4326; a geometry that does not meet the bounds.
        """
        new = type(self).__new__(type(self))
        for name in _FIELDS:
            setattr(new, "_" + name, getattr(self, "_" + name))
        new._assign(geometry, resolution, crs, align_pixels, bounds, bounds_crs, shape)
        new._validate(warn=True)
        return new

    def _assign(self, geometry: Any, resolution: Any, crs: Any, align_pixels: Any, bounds: Any, bounds_crs: Any,
                shape: Any) -> None:
        if geometry is not None and not _unchanged(geometry):
            geometry = geometry_like(geometry, field="geometry")
        if isinstance(bounds, str) and bounds == "update":
            if bounds_crs is not None and not _unchanged(bounds_crs) and normalize_crs(bounds_crs, "bounds_crs") != LONLAT:
                raise ValidationError(
                    "Can't compute bounds from a geometry while also explicitly setting a `bounds_crs` "
                    f"({bounds_crs!r}): the bounds of a geometry are in its own CRS, lon/lat 'EPSG:4326'. Don't set "
                    "`bounds_crs` (it is set to 'EPSG:4326' for you), or give `bounds` in that CRS.",
                    field="bounds_crs", value=bounds_crs, allowed=(LONLAT,))
            if geometry is None or _unchanged(geometry):
                raise ValidationError("A geometry must be given with which to update the bounds "
                                      "(bounds='update' takes the bounds of the geometry given with it)",
                                      field="bounds", value=bounds)
            bounds, bounds_crs = geometry.bounds, LONLAT
        elif bounds is not None and not _unchanged(bounds):
            bounds = self._check_bounds(bounds)
        values = dict(geometry=geometry, resolution=resolution, crs=crs, align_pixels=align_pixels, bounds=bounds,
                      bounds_crs=bounds_crs, shape=shape)
        for name, value in values.items():
            if _unchanged(value):
                continue
            if value is not None and name in ("crs", "bounds_crs"):
                value = normalize_crs(value, name)
            setattr(self, "_" + name, value)
        self.__dict__.pop("_grid_cache", None)

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

    def _validate(self, warn: bool) -> None:
        """The original's rules, in its order (see the class docstring)."""
        bounds, bounds_crs = self._bounds, self._bounds_crs
        if bounds is not None and bounds_crs is not None:
            if is_geographic(bounds_crs):
                if not _lonlat_ok(bounds):
                    raise ValidationError(
                        f"Bounds must be in lat-lon coordinates, but the given bounds {bounds} are outside [-90, 90] "
                        f"for y or [-180, 180] for x (bounds_crs is {bounds_crs!r}, in degrees); give the "
                        "bounds' own CRS as bounds_crs", field="bounds", value=bounds)
            elif warn and _looks_lonlat(bounds):
                warnings.warn(
                    "You might have the wrong `bounds_crs` set.\n"
                    f"Bounds {bounds} appear to be in lat-lon decimal degrees, but the `bounds_crs` {bounds_crs!r} "
                    "is not a geographic coordinate reference system (its units are not degrees).\n"
                    "If this is unexpected, set `bounds_crs='EPSG:4326'`.",
                    WfWarning, stacklevel=4)
        if self._shape is not None:
            shape = self._shape
            if not isinstance(shape, (list, tuple)) or len(shape) != 2:
                raise ValidationTypeError(
                    f"Invalid shape {shape!r}: Shape must be a tuple of (rows, columns) in pixels",
                    field="shape", value=shape)
            self._shape = (v.positive_int(shape[0], "shape height"), v.positive_int(shape[1], "shape width"))
        if self._resolution is not None:
            self._resolution = v.positive(self._resolution, "resolution")
        if self._resolution is not None and self._shape is not None:
            raise ValidationError(
                "Cannot set both resolution and shape: an AOI takes exactly one of them (got both: resolution "
                f"{self._resolution!r}, shape {self._shape!r})", field="resolution",
                value=(self._resolution, self._shape))
        if self._align_pixels is not None and not isinstance(self._align_pixels, bool):
            raise ValidationTypeError(f"Invalid align_pixels {self._align_pixels!r}: expected True, False or None",
                                      field="align_pixels", value=self._align_pixels, allowed=(True, False, None))
        if self._geometry is not None and bounds is not None and bounds_crs is not None and is_lonlat(bounds_crs):
            if not shapely.box(*bounds).intersects(self._geometry):
                raise ValidationError(
                    "Geometry and bounds do not intersect. This would result in all data being masked. If you're "
                    "assigning new geometry, assign new bounds as well (use `bounds='update'` to use the bounds of "
                    "the new geometry).", field="bounds", value=bounds)
        if self._crs is not None and self._crs == bounds_crs:
            self._check_pixel_size()

    def _check_pixel_size(self) -> None:
        """Refuse bounds less than one pixel wide or tall (compared in one CRS only)."""
        if self._resolution is None or self._bounds is None:
            return
        crs = self.crs
        width, height = self._bounds[2] - self._bounds[0], self._bounds[3] - self._bounds[1]
        for dim, length, adj in (("width", width, "wide"), ("height", height, "tall")):
            if length < self._resolution:
                msg = (f"Output raster's {dim} ({length:.4f}) is smaller than its resolution ({self._resolution:.4f}), "
                       f"meaning it would be less than one pixel {adj}.\nRemember that resolution is specified in "
                       f"units of the output CRS ({crs}), which are not necessarily meters.")
                if crs is not None and is_geographic(crs):
                    msg += "\nSince your CRS is in lat-lon coordinates, resolution must be given in decimal degrees."
                raise ValidationError(msg, field="resolution", value=self._resolution)

    # --- the original's attributes -----------------------------------------------------
    @property
    def geometry(self) -> BaseGeometry | None:  # type: ignore[override]
        """The geometry (lon/lat) given, or None; a FeatureCollection is a GeometryCollection."""
        return self._geometry

    @property
    def input_geometry(self) -> BaseGeometry | None:
        """Same as :attr:`geometry` (its name in earlier versions of wf_widgets)."""
        return self._geometry

    @property
    def crs(self) -> str | None:
        """CRS of the pixel grid: the one given, else :attr:`bounds_crs`."""
        return self._crs if self._crs is not None else self._bounds_crs

    @property
    def bounds_crs(self) -> str | None:
        """CRS of :attr:`bounds`."""
        return self._bounds_crs

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:  # type: ignore[override]
        """``(xmin, ymin, xmax, ymax)`` in :attr:`bounds_crs`, or None."""
        return self._bounds

    @property
    def align_pixels(self) -> bool:
        """Whether the grid's edges are snapped to whole multiples of the resolution."""
        if self._align_pixels is None:
            return self._resolution is not None
        return self._align_pixels

    @property
    def shape(self) -> tuple[int, int] | None:  # type: ignore[override]
        """``(rows, columns)`` as given, or None (see :attr:`height` and :attr:`width` for the grid's size)."""
        return self._shape

    @property
    def resolution(self) -> float | None:  # type: ignore[override]
        """The resolution given; with a shape, the x pixel size of the grid (None while incomplete)."""
        if self._resolution is not None:
            return self._resolution
        if self._shape is not None and self._bounds is not None and self.crs is not None:
            return self._grid()[1]
        return None

    @property
    def raster_params(self) -> dict[str, Any]:
        """The AOI as the original's raster calls took it.

        ``{"cutline", "resolution", "srs", "bounds_srs", "align_pixels", "bounds",
        "dimensions"}`` (``dimensions`` is ``(columns, rows)`` of a given shape, or None).

        Raises
        ------
        IncompleteGeoContextError
            No bounds, or neither resolution nor shape.
        """
        if self._bounds is None:
            raise IncompleteGeoContextError("AOI must have bounds specified", field="bounds", value=None)
        if self._resolution is None and self._shape is None:
            raise IncompleteGeoContextError("AOI must have one of resolution or shape specified", field="resolution",
                                            value=None)
        return {
            "cutline": self._geometry.__geo_interface__ if self._geometry is not None else None,
            "resolution": self._resolution,
            "srs": self.crs,
            "bounds_srs": self._bounds_crs,
            "align_pixels": self.align_pixels,
            "bounds": self._bounds,
            "dimensions": (self._shape[1], self._shape[0]) if self._shape is not None else None,
        }

    @property
    def __geo_interface__(self) -> dict[str, Any]:
        """The geometry's GeoJSON; without one, the polygon of the bounds (in lon/lat).

        Raises
        ------
        IncompleteGeoContextError
            Neither geometry nor bounds.
        """
        if self._geometry is not None:
            return self._geometry.__geo_interface__
        if self._bounds is not None and self._bounds_crs is not None:
            if is_lonlat(self._bounds_crs):
                x0, y0, x1, y1 = self._bounds
                ring = ((x1, y0), (x1, y1), (x0, y1), (x0, y0), (x1, y0))
                return {"type": "Polygon", "coordinates": (ring,)}
            return shapely.geometry.mapping(bounds_to_lonlat_polygon(self._bounds, self._bounds_crs))
        raise IncompleteGeoContextError(
            "AOI GeoContext must have a geometry set, or bounds set, to have a __geo_interface__",
            field="geometry", value=None)

    # --- the pixel grid (the GeoContext contract) --------------------------------------
    def check_complete(self) -> None:
        """Raise unless the AOI makes a pixel grid (bounds, a CRS, and a resolution or a shape)."""
        missing = []
        if self._bounds is None:
            missing.append("bounds (or a geometry)")
        if self._resolution is None and self._shape is None:
            missing.append("a resolution or a shape")
        if self.crs is None:
            missing.append("a crs")
        if missing:
            raise IncompleteGeoContextError(
                f"This AOI can't be computed in: it needs {' and '.join(missing)}; complete it with "
                f"aoi.assign(...) (got {self!r})", field="geoctx", value=self.to_dict())
        if self._crs is None:
            self._check_pixel_size()

    def _grid(self) -> tuple[tuple[float, float, float, float], float, float, int, int]:
        """``(grid bounds in crs, xres, yres, width, height)``, computed once."""
        cached = self.__dict__.get("_grid_cache")
        if cached is not None:
            return cached
        self.check_complete()
        crs, bounds_crs = self.crs, self._bounds_crs
        xmin, ymin, xmax, ymax = transform_bounds(self._bounds, bounds_crs, crs)
        if self._shape is not None:
            height, width = self._shape
            xres, yres = (xmax - xmin) / width, (ymax - ymin) / height
        else:
            res = xres = yres = self._resolution
            if self.align_pixels:
                xmin, ymin = _snap(xmin, res, up=False), _snap(ymin, res, up=False)
                xmax, ymax = _snap(xmax, res, up=True), _snap(ymax, res, up=True)
            width, height = _pixels(xmax - xmin, res), _pixels(ymax - ymin, res)
        grid = ((xmin, ymin, xmax, ymax), xres, yres, width, height)
        self.__dict__["_grid_cache"] = grid
        return grid

    @property
    def pixel_size(self) -> tuple[float, float]:
        """``(xres, yres)`` of the grid, positive."""
        _, xres, yres, _, _ = self._grid()
        return (xres, yres)

    @property
    def width(self) -> int:
        """Columns of the grid."""
        return self._grid()[3]

    @property
    def height(self) -> int:
        """Rows of the grid."""
        return self._grid()[4]

    @property
    def transform(self) -> affine.Affine:
        """Top-left origin at the grid's ``(xmin, ymax)`` in :attr:`crs`, north up."""
        (xmin, _, _, ymax), xres, yres, _, _ = self._grid()
        return affine.Affine(xres, 0.0, xmin, 0.0, -yres, ymax)

    # --- dict form ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """``{"type": "aoi", "geometry", "bounds", "bounds_crs", "crs", "resolution", "shape", "align_pixels"}``."""
        geom = None
        if self._geometry is not None:
            geom = json.loads(json.dumps(shapely.geometry.mapping(self._geometry)))
        return {
            "type": "aoi",
            "geometry": geom,
            "bounds": list(self._bounds) if self._bounds is not None else None,
            "bounds_crs": self._bounds_crs,
            "crs": self._crs,
            "resolution": self._resolution,
            "shape": list(self._shape) if self._shape is not None else None,
            "align_pixels": self._align_pixels,
        }

    @classmethod
    def _from_dict(cls, d: Mapping[str, Any]) -> "AOI":
        unknown = set(d) - {"type", *_FIELDS}
        if unknown:
            raise ValidationError(
                f"Invalid geoctx: unknown aoi field(s) {sorted(unknown)}", field="geoctx", value=dict(d)
            )
        fields = {name: d.get(name) for name in _FIELDS}
        if fields["shape"] is not None and isinstance(fields["shape"], list):
            fields["shape"] = tuple(fields["shape"])
        if "bounds_crs" not in d:
            # A dict of wf_widgets before 0.2 (job rows of older homes): bounds in crs (default
            # lon/lat), a grid starting at the bounds' corner.
            fields["crs"] = d.get("crs") or LONLAT
            fields["bounds_crs"] = fields["crs"]
            fields["align_pixels"] = False
            if fields["bounds"] is None and fields["geometry"] is not None:
                fields["bounds"], fields["bounds_crs"] = "update", LONLAT
        return cls._build(fields, warn=False)

    def __repr__(self) -> str:
        geom = None if self._geometry is None else f"<{self._geometry.geom_type}>"
        return (f"AOI(geometry={geom}, resolution={self._resolution!r}, crs={self._crs!r}, "
                f"align_pixels={self._align_pixels!r}, bounds={self._bounds!r}, bounds_crs={self._bounds_crs!r}, "
                f"shape={self._shape!r})")
