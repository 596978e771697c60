"""Geography: the GeoContext contract, the DLTile grid, AOIs, UTM zones and shape handling.

This package never imports Jupyter packages.
"""

from ._utm import utm_crs, utm_zone
from .aoi import AOI
from .context import GeoContext, as_geocontext, geocontext_from_dict
from .dltile import DLTile
from .exceptions import (
    IncompleteGeoContextError,
    InvalidLatLonError,
    InvalidRowColError,
    InvalidShapeError,
    InvalidShapeTypeError,
    InvalidTileError,
)
from .shapes import geometry_like, normalize_polygons, project_to_utm, split_by_utm_zone, to_shapely

__all__ = [
    "AOI",
    "DLTile",
    "GeoContext",
    "IncompleteGeoContextError",
    "InvalidLatLonError",
    "InvalidRowColError",
    "InvalidShapeError",
    "InvalidShapeTypeError",
    "InvalidTileError",
    "as_geocontext",
    "geocontext_from_dict",
    "geometry_like",
    "normalize_polygons",
    "project_to_utm",
    "split_by_utm_zone",
    "to_shapely",
    "utm_crs",
    "utm_zone",
]
