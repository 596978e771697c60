"""Geography: the GeoContext contract, the DLTile grid, AOIs, UTM zones and shape handling.

This package never imports Jupyter packages.
"""

from ._utm import utm_crs, utm_zone
from .aoi import AOI
from .context import GeoContext, as_geocontext, geocontext_from_dict
from .dltile import DLTile
from .shapes import project_to_utm, split_by_utm_zone, to_shapely

__all__ = [
    "AOI",
    "DLTile",
    "GeoContext",
    "as_geocontext",
    "geocontext_from_dict",
    "project_to_utm",
    "split_by_utm_zone",
    "to_shapely",
    "utm_crs",
    "utm_zone",
]
