"""GeoContext: where and at which resolution a computation runs.

A GeoContext is one pixel grid: a CRS, an affine transform and a size in pixels.
The rest of the package relies on this contract only:

``crs``
    str, e.g. ``"EPSG:32613"``.
``transform``
    :class:`affine.Affine` of the pixel grid (top-left origin, north up).
``width``, ``height``
    int, pixels; ``shape`` is ``(height, width)``.
``geotrans``
    GDAL geotransform ``(xmin, xres, 0, ymax, 0, -yres)``.
``to_dict()``, ``check_complete()``
    see below; ``check_complete()`` raises unless the context makes a pixel grid (an AOI
    may be built incomplete, as the original's; :func:`as_geocontext` calls it).

and, with the original client's meanings:

``bounds``, ``bounds_crs``
    ``(xmin, ymin, xmax, ymax)`` in ``bounds_crs`` (a DLTile's are in its ``crs``; an
    AOI's are as given, EPSG:4326 by default, and its grid is reprojected from them).
``resolution``
    float, pixel size in ``crs`` units.
``geometry``
    shapely geometry in lon/lat (EPSG:4326): a DLTile's outline; an AOI's geometry as
    given, or None.
``__geo_interface__``
    GeoJSON (lon/lat) of ``geometry``, or of the bounds' outline.
``to_dict()``
    JSON-serialisable dict with a ``"type"`` key (``"dltile"`` or ``"aoi"``) from which
    :func:`geocontext_from_dict` rebuilds an equal GeoContext. Equality and hashing
    go through ``to_dict()``.

GeoContexts are immutable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cached_property
from typing import Any, ClassVar

import affine
import shapely
import shapely.geometry

from ..errors import ValidationError, ValidationTypeError
from ._crs import bounds_to_lonlat_polygon

__all__ = ["GeoContext", "geocontext_from_dict", "as_geocontext"]

#: ``"type"`` of the dict form -> GeoContext subclass, filled as each subclass is defined. The
#: package (``wf_widgets.geo``, imported before any of its modules) imports both, AOI and DLTile.
_REGISTRY: dict[str, type["GeoContext"]] = {}


class GeoContext:
    """Base class of every GeoContext (:class:`~wf_widgets.geo.DLTile`, :class:`~wf_widgets.geo.AOI`).

    Subclasses set ``_kind`` (the ``"type"`` of their dict form) and implement
    ``crs``, ``transform``, ``width``, ``height``, ``bounds``, ``resolution``,
    ``to_dict`` and the classmethod ``_from_dict``.
    """

    _kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls._kind:
            _REGISTRY[cls._kind] = cls

    # --- the contract ----------------------------------------------------------------
    @property
    def crs(self) -> str:
        """CRS of the pixel grid, e.g. ``"EPSG:32613"``."""
        raise NotImplementedError

    @property
    def transform(self) -> affine.Affine:
        """Affine transform of the pixel grid (pixel -> ``crs`` coordinates)."""
        raise NotImplementedError

    @property
    def width(self) -> int:
        """Width in pixels."""
        raise NotImplementedError

    @property
    def height(self) -> int:
        """Height in pixels."""
        raise NotImplementedError

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` in ``crs``."""
        raise NotImplementedError

    @property
    def resolution(self) -> float:
        """Pixel size in ``crs`` units."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict with a ``"type"`` key, enough to rebuild this context."""
        raise NotImplementedError

    @classmethod
    def _from_dict(cls, d: Mapping[str, Any]) -> "GeoContext":
        raise NotImplementedError

    # --- derived -----------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` in pixels."""
        return (self.height, self.width)

    @property
    def geotrans(self) -> tuple[float, float, float, float, float, float]:
        """GDAL geotransform ``(xmin, xres, 0, ymax, 0, -yres)``."""
        t = self.transform
        return (t.c, t.a, t.b, t.f, t.d, t.e)

    @cached_property
    def geometry(self) -> shapely.Polygon:
        """Polygon of ``bounds`` in lon/lat (EPSG:4326), its sides densified."""
        return bounds_to_lonlat_polygon(self.bounds, self.crs)

    @property
    def __geo_interface__(self) -> dict[str, Any]:
        return shapely.geometry.mapping(self.geometry)

    def check_complete(self) -> None:
        """Raise :class:`~wf_widgets.geo.exceptions.IncompleteGeoContextError` unless this makes a pixel grid."""

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "GeoContext":
        """Same as :func:`geocontext_from_dict`."""
        return geocontext_from_dict(d)

    def _json_key(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GeoContext):
            return NotImplemented
        return self._json_key() == other._json_key()

    def __hash__(self) -> int:
        return hash(self._json_key())


def geocontext_from_dict(d: Mapping[str, Any]) -> GeoContext:
    """Rebuild a GeoContext from its :meth:`GeoContext.to_dict` form.

    Parameters
    ----------
    d : Mapping
        With ``"type"`` ``"dltile"`` (and ``"key"``) or ``"aoi"``.

    Returns
    -------
    GeoContext

    Raises
    ------
    ValidationError
        Unknown ``"type"`` or bad fields.
    """
    if not isinstance(d, Mapping):
        raise ValidationTypeError(
            f"Invalid geoctx of type {type(d).__name__}: expected a dict with a 'type' key",
            field="geoctx",
            value=d,
        )
    kind = d.get("type")
    cls = _REGISTRY.get(kind.lower()) if isinstance(kind, str) else None
    if cls is None:
        raise ValidationError.bad_value("geoctx.type", kind, sorted(_REGISTRY), what="geocontext type")
    return cls._from_dict(d)


def as_geocontext(obj: Any) -> GeoContext | None:
    """Coerce `obj` into a GeoContext.

    Parameters
    ----------
    obj : None, GeoContext or dict
        ``None`` passes through; a dict is read with :func:`geocontext_from_dict`.

    Returns
    -------
    GeoContext or None

    Raises
    ------
    ValidationTypeError
        (a ``TypeError`` and ``ValueError``) for any other type, with ``field="geoctx"``.
    IncompleteGeoContextError
        An AOI without bounds, or without a resolution or shape (``check_complete()``).
    """
    if obj is None:
        return obj
    if isinstance(obj, GeoContext):
        obj.check_complete()
        return obj
    if isinstance(obj, Mapping):
        ctx = geocontext_from_dict(obj)
        ctx.check_complete()
        return ctx
    raise ValidationTypeError(
        f"Invalid geoctx of type {type(obj).__name__}: expected a GeoContext (DLTile, AOI), "
        "its dict form (GeoContext.to_dict()) or None",
        field="geoctx",
        value=obj,
        allowed=("DLTile", "AOI", "dict", "None"),
    )
