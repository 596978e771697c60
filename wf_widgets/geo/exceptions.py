"""The geography errors of the original client, under its names.

Each is a :class:`~wf_widgets.errors.ValidationError` (so a ``ValueError``, as the
original's were, with ``.field`` and ``.value``). Where a bad argument is of the wrong
Python type, the ``...TypeError`` variant is raised: it is also a ``TypeError``.
"""

from __future__ import annotations

from ..errors import ValidationError, ValidationTypeError

__all__ = [
    "IncompleteGeoContextError",
    "InvalidLatLonError",
    "InvalidRowColError",
    "InvalidShapeError",
    "InvalidShapeTypeError",
    "InvalidTileError",
]


class InvalidTileError(ValidationError):
    """Bad DLTile parameters: a malformed key, a tilesize, pad, resolution or zone out of range, a bad subdivision."""


class InvalidLatLonError(ValidationError):
    """A latitude or longitude out of range, or latitudes and longitudes that don't pair up."""


class InvalidRowColError(ValidationError):
    """Pixel rows and columns that don't pair up."""


class InvalidShapeError(ValidationError):
    """A shape that can't be used: not GeoJSON, empty, or outside the lon/lat range."""


class InvalidShapeTypeError(InvalidShapeError, ValidationTypeError):
    """An object that is no shape at all (also a ``TypeError``)."""


class IncompleteGeoContextError(ValidationError, RuntimeError):
    """An AOI used as a pixel grid (computed in, or asked for its size) before it has what that needs.

    An AOI may be built without bounds, or without a resolution or shape, and completed
    later with :meth:`AOI.assign <wf_widgets.geo.AOI.assign>`; using it before then raises
    this (a ``ValueError``, and a ``RuntimeError`` as the original's ``__geo_interface__`` raised).
    """
