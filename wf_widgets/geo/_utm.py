"""UTM zone math for the DLTile grid.

DLTile uses the *north* UTM zones everywhere, also south of the equator, with no
false northing: northings south of the equator are negative. Zone ``z`` covers the
longitudes ``[-180 + 6 (z - 1), -180 + 6 z)``; longitude 180 belongs to zone 60.
"""

from __future__ import annotations

import math

import numpy as np

from ._crs import LONLAT, transformer

#: Easting of every zone's central meridian.
FALSE_EASTING = 500_000.0
#: Number of UTM zones.
N_ZONES = 60
#: Width of a zone in degrees of longitude.
ZONE_WIDTH = 6.0


def utm_zone(lon: float) -> int:
    """The UTM zone number (1..60) of a longitude in degrees.

    ``max(1, 1 + floor((lon + 180) / 6))``, clamped to 60 for ``lon == 180``.
    """
    return min(N_ZONES, max(1, 1 + math.floor((lon + 180.0) / ZONE_WIDTH)))


def utm_crs(zone: int) -> str:
    """The CRS string of a north UTM zone on WGS84, e.g. ``"EPSG:32613"`` for zone 13."""
    return f"EPSG:326{int(zone):02d}"


def zone_lon_range(zone: int) -> tuple[float, float]:
    """The (west, east) longitudes of a zone."""
    west = -180.0 + ZONE_WIDTH * (zone - 1)
    return west, west + ZONE_WIDTH


def lonlat_to_utm(zone: int, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Project lon/lat (scalars or arrays) into the north UTM `zone`; returns (easting, northing)."""
    return transformer(LONLAT, utm_crs(zone)).transform(lon, lat)


def utm_to_lonlat(zone: int, x, y) -> tuple[np.ndarray, np.ndarray]:
    """Unproject easting/northing of the north UTM `zone`; returns (lon, lat)."""
    return transformer(utm_crs(zone), LONLAT).transform(x, y)
