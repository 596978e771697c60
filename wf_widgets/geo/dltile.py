"""DLTile: a square tile of the global Descartes Labs UTM tiling grid.

The grid (facts kept from the original client):

* north UTM zones everywhere, also south of the equator, with no false northing, so
  rows are negative in the south; ``zone = max(1, 1 + floor((lon + 180) / 6))``
  (60 for ``lon == 180``); CRS ``EPSG:326zz``;
* ``T = tilesize * resolution`` metres; from a point ``path = floor((E - 500000) / T)``,
  ``row = floor(N / T)``;
* unpadded bounds ``xmin = 500000 + path * T``, ``ymin = row * T``, ``xmax = xmin + T``,
  ``ymax = ymin + T``; the tile is padded by ``pad * resolution`` on every side, so it
  has ``tilesize + 2 * pad`` pixels per side;
* key ``"tilesize:pad:resolution:zone:path:row"`` with the resolution printed with at
  least one decimal (``10 -> "10.0"``).

Decisions:

* :meth:`DLTile.from_shape` builds at most ``max_tiles`` tiles (default: the
  ``max_tiles`` setting, ``WF_WIDGETS_MAX_TILES``, 1,000,000): it counts them first,
  arithmetically per zone from the projected bounds and area of the shape (a coarse
  projection, milliseconds even for the whole world), and refuses with a ValidationError
  pointing to :meth:`DLTile.iter_from_shape` (which streams) before building any. Only when
  those bounds can't decide does it count the tiles exactly (keys, no objects) first.
* :meth:`DLTile.iter_from_shape` streams: it tests at most ``_CHUNK`` candidate tiles at a
  time and never holds the whole list (nor the whole row of candidates of a zone).
* :meth:`DLTile.from_shape` selects tiles whose *unpadded* square intersects the shape
  (padding never adds tiles). Intersection is tested with closed sets in the UTM space
  of the tile's zone against the zone's piece of the shape (densified, then projected),
  so a tile touching the shape only along an edge counts.
* Tiles come zone by zone from west to east, and within a zone in reading order:
  north to south (row descending), then west to east (path ascending).
  :meth:`DLTile.subtile` uses the same reading order.
* ``geometry`` is the lon/lat polygon of the *padded* bounds with each side split in
  4 segments (UTM straight lines are slightly curved in lon/lat).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import affine
import numpy as np
import shapely

from ..config import Settings
from ..errors import ValidationError, ValidationTypeError, WfWarning
from . import _validate as v
from ._crs import bounds_to_lonlat_polygon, unwrap_lons
from ._utm import FALSE_EASTING, N_ZONES, lonlat_to_utm, utm_crs, utm_to_lonlat, utm_zone
from .context import GeoContext
from .exceptions import InvalidLatLonError, InvalidRowColError, InvalidTileError
from .shapes import project_to_utm, split_by_utm_zone, to_shapely

__all__ = ["DLTile", "WARN_TILE_COUNT"]

#: :meth:`DLTile.from_shape` warns when it returns more tiles than this.
WARN_TILE_COUNT = 50_000
#: How many candidate tiles are tested at once by :meth:`DLTile.iter_from_shape`.
_CHUNK = 65_536
_METRES_PER_DEGREE = 111_320.0
#: Segment length (degrees) of the coarse projection :meth:`DLTile.from_shape` counts tiles with.
_COUNT_SEGMENT_DEG = 0.5
#: Metres the coarse projection may be off the fine one by (far less in UTM: ~100 m at 0.5 degree segments).
_COUNT_PAD_M = 1000.0


def format_resolution(resolution: float) -> str:
    """The resolution as printed in a key: shortest repr, at least one decimal (10 -> "10.0")."""
    return np.format_float_positional(float(resolution), trim="0")


def _as(error: type[ValidationError], check: Callable[..., Any], *args: Any) -> Any:
    """``check(*args)``, its ValidationError raised as ``error`` (a type error stays a ValidationTypeError)."""
    try:
        return check(*args)
    except ValidationTypeError:
        raise
    except ValidationError as e:
        raise error(str(e), field=e.field, value=e.value) from None


def _check_grid(resolution: Any, tilesize: Any, pad: Any) -> tuple[float, int, int]:
    return (
        _as(InvalidTileError, v.positive, resolution, "resolution"),
        _as(InvalidTileError, v.positive_int, tilesize, "tilesize"),
        _as(InvalidTileError, v.non_negative_int, pad, "pad"),
    )


def _is_sequence(x: Any) -> bool:
    return isinstance(x, (Sequence, np.ndarray)) and not isinstance(x, (str, bytes))


def _pair(a: Any, b: Any, name_a: str, name_b: str,
          error: type[ValidationError]) -> tuple[np.ndarray, np.ndarray, bool]:
    """Two numbers, or two sequences of numbers of one length, as float arrays (and whether they were numbers)."""
    seq_a, seq_b = _is_sequence(a), _is_sequence(b)
    if seq_a != seq_b:
        raise error(f"{name_a} and {name_b} should have compatible types: both numbers or both sequences, got "
                    f"{type(a).__name__} and {type(b).__name__}", field=name_b, value=b)
    try:
        arr_a, arr_b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        raise error(f"{name_a} and {name_b} must be numbers or sequences of numbers, got {a!r} and {b!r}",
                    field=name_a, value=a) from None
    if seq_a and (arr_a.ndim != 1 or arr_b.ndim != 1 or len(arr_a) != len(arr_b)):
        raise error(f"{name_a} and {name_b} must be the same length, got {len(a)} and {len(b)}",
                    field=name_b, value=b)
    return np.atleast_1d(arr_a), np.atleast_1d(arr_b), not seq_a


#: OGC WKT (version 1) of the WGS 84 / UTM zone N CRS, as the original client wrote it.
_UTM_WKT = (
    'PROJCS["WGS 84 / UTM zone {zone}N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],'
    'UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]],'
    'PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",{meridian}],'
    'PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],'
    'UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],'
    'AUTHORITY["EPSG","326{zone:02d}"]]'
)


class DLTile(GeoContext):
    """A tile of the DLTile grid (a :class:`GeoContext`).

    Build one with :meth:`from_latlon`, :meth:`from_key` or :meth:`from_shape` rather
    than calling the constructor.

    Parameters
    ----------
    resolution : float
        Pixel size in metres (> 0).
    tilesize : int
        Pixels per side, without padding (> 0).
    pad : int
        Pixels of padding added on every side (>= 0).
    zone : int
        UTM zone, 1..60.
    path, row : int
        Column and row of the tile in the zone's grid (``row`` is negative south of the
        equator).

    Attributes
    ----------
    key : str
        ``"tilesize:pad:resolution:zone:path:row"``.
    resolution : float
    tilesize : int
    pad : int
    zone : int
    path : int
    row : int
    crs, bounds_crs : str
        ``"EPSG:326zz"``.
    bounds : tuple of float
        Padded ``(xmin, ymin, xmax, ymax)`` in UTM metres.
    unpadded_bounds : tuple of float
        The grid cell without padding.
    geotrans : tuple
        ``(xmin, resolution, 0, ymax, 0, -resolution)``.
    transform : affine.Affine
    width, height : int
        ``tilesize + 2 * pad``.
    shape : tuple of int
        ``(height, width)``, pixels.
    geometry : shapely.Polygon
        The padded bounds in lon/lat.
    """

    _kind = "dltile"

    def __init__(self, resolution: Any, tilesize: int | None = None, pad: int | None = None, zone: int | None = None,
                 path: int | None = None, row: int | None = None):
        if isinstance(resolution, Mapping) and tilesize is None:
            # The original's DLTile(dltile_dict): a GeoJSON Feature whose properties hold the key.
            props = resolution.get("properties", resolution)
            key = props.get("key") if isinstance(props, Mapping) else None
            if not isinstance(key, str):
                raise InvalidTileError("Invalid dltile_dict: expected a GeoJSON Feature whose properties hold the "
                                       "DLTile 'key'", field="dltile_dict", value=resolution)
            other = self.from_key(key)
            resolution, tilesize, pad, zone, path, row = (other.resolution, other.tilesize, other.pad, other.zone,
                                                          other.path, other.row)
        self._resolution, self._tilesize, self._pad = _check_grid(resolution, tilesize, pad)
        zone = v.integer(zone, "zone")
        if not 1 <= zone <= N_ZONES:
            raise InvalidTileError(f"Invalid zone {zone!r}: must be between 1 and {N_ZONES}", field="zone", value=zone)
        self._zone = zone
        self._path = v.integer(path, "path")
        self._row = v.integer(row, "row")

    @classmethod
    def _make(cls, resolution: float, tilesize: int, pad: int, zone: int, path: int, row: int) -> "DLTile":
        # Unchecked fast path for already-validated values (from_shape builds many).
        self = cls.__new__(cls)
        self._resolution, self._tilesize, self._pad = resolution, tilesize, pad
        self._zone, self._path, self._row = zone, path, row
        return self

    # --- constructors ----------------------------------------------------------------
    @classmethod
    def from_latlon(cls, lat: float, lon: float, resolution: float, tilesize: int, pad: int = 0) -> "DLTile":
        """The tile containing a point.

        Parameters
        ----------
        lat : float
            Latitude in degrees, -90..90.
        lon : float
            Longitude in degrees, -180..180.
        resolution : float
            Pixel size in metres.
        tilesize : int
            Pixels per side without padding.
        pad : int, default 0
            Pixels of padding on every side.

        Returns
        -------
        DLTile

        Raises
        ------
        InvalidLatLonError
            A latitude or longitude out of range (a ``ValueError`` naming the field and value).
        InvalidTileError
            A bad resolution, tilesize or pad.
        """
        lat = _as(InvalidLatLonError, v.in_range, lat, "lat", -90.0, 90.0)
        lon = _as(InvalidLatLonError, v.in_range, lon, "lon", -180.0, 180.0)
        resolution, tilesize, pad = _check_grid(resolution, tilesize, pad)
        zone = utm_zone(lon)
        e, n = lonlat_to_utm(zone, lon, lat)
        size = tilesize * resolution
        path = math.floor((e - FALSE_EASTING) / size)
        row = math.floor(n / size)
        return cls._make(resolution, tilesize, pad, zone, path, row)

    @classmethod
    def from_key(cls, key: str) -> "DLTile":
        """The tile of a key ``"tilesize:pad:resolution:zone:path:row"``.

        The resolution may be written without decimals (``"30"``); the key of the
        result is normalised (``"30.0"``).

        Raises
        ------
        InvalidTileError
            For a malformed key (field ``"key"``; a ``ValueError``).
        """
        if not isinstance(key, str):
            raise ValidationTypeError(
                f"Invalid key {key!r}: expected a str 'tilesize:pad:resolution:zone:path:row'", field="key", value=key
            )
        parts = key.strip().split(":")
        if len(parts) != 6:
            raise InvalidTileError(
                f"Invalid key {key!r}: expected 6 fields 'tilesize:pad:resolution:zone:path:row', got {len(parts)}",
                field="key",
                value=key,
            )
        names = ("tilesize", "pad", "resolution", "zone", "path", "row")
        vals: list[Any] = []
        for name, part in zip(names, parts):
            try:
                vals.append(float(part) if name == "resolution" else int(part))
            except ValueError:
                raise InvalidTileError(
                    f"Invalid key {key!r}: {name} {part!r} is not {'a number' if name == 'resolution' else 'an integer'}",
                    field="key",
                    value=key,
                ) from None
        tilesize, pad, resolution, zone, path, row = vals
        try:
            return cls(resolution, tilesize, pad, zone, path, row)
        except ValidationError as e:
            raise InvalidTileError(f"Invalid key {key!r}: {e}", field="key", value=key) from None

    @classmethod
    def iter_from_shape(
        cls, shape: Any, resolution: float, tilesize: int, pad: int = 0, keys_only: bool = False
    ) -> Iterator["DLTile"] | Iterator[str]:
        """Iterate over the tiles intersecting a shape, without building a list.

        Same arguments and order as :meth:`from_shape`. The arguments are checked
        when this is called, the tiles are computed as you iterate.

        Returns
        -------
        generator of DLTile, or of str when `keys_only`
        """
        resolution, tilesize, pad = _check_grid(resolution, tilesize, pad)
        geom = to_shapely(shape, field="shape")
        return cls._iter_tiles(geom, resolution, tilesize, pad, bool(keys_only))

    @classmethod
    def from_shape(
        cls, shape: Any, resolution: float, tilesize: int, pad: int = 0, keys_only: bool = False,
        max_tiles: int | None = None,
    ) -> list["DLTile"] | list[str]:
        """Every tile whose (unpadded) square intersects a shape, each once.

        Parameters
        ----------
        shape : dict, str, list, shapely geometry or object with ``__geo_interface__``
            In lon/lat: a GeoJSON geometry, Feature or FeatureCollection (or its JSON
            text), a shapely geometry, anything with ``__geo_interface__``, or a list of
            these. Points and lines are taken too (the tiles they touch). It is split
            along UTM zone boundaries and each piece is covered by the tiles of its zone.
        resolution : float
            Pixel size in metres.
        tilesize : int
            Pixels per side without padding.
        pad : int, default 0
            Pixels of padding on every side (does not change which tiles are chosen).
        keys_only : bool, default False
            Return key strings instead of DLTile objects.
        max_tiles : int, optional
            Refuse to build a list of more tiles than this (default: the ``max_tiles``
            setting, environment variable ``WF_WIDGETS_MAX_TILES``, 1,000,000).

        Returns
        -------
        list of DLTile, or of str
            Zones west to east; within a zone north to south, then west to east.

        Raises
        ------
        InvalidShapeError
            A bad shape (see :func:`~wf_widgets.geo.to_shapely`); ``InvalidShapeTypeError``
            (also a ``TypeError``) for an object that is no shape.
        ValidationError
            More than ``max_tiles`` tiles, found before any is built; use
            :meth:`iter_from_shape` to go through them one at a time.

        Warns
        -----
        WfWarning
            When more than ``WARN_TILE_COUNT`` (50,000) tiles are returned; use
            :meth:`iter_from_shape` to go through them one at a time.
        """
        resolution, tilesize, pad = _check_grid(resolution, tilesize, pad)
        limit = Settings.from_env().max_tiles if max_tiles is None else v.positive_int(max_tiles, "max_tiles")
        geom = to_shapely(shape, field="shape")
        lower, upper = cls._count_bounds(geom, tilesize * resolution)
        if upper > limit:
            count = lower if lower > limit else cls._count(geom, resolution, tilesize, limit)
            if count > limit:
                raise ValidationError(
                    f"DLTile.from_shape would build {'at least ' if count < upper else ''}{count:,} tiles, more than "
                    f"max_tiles={limit:,}; iterate over them with DLTile.iter_from_shape(...) and the same arguments "
                    "(it streams the tiles instead of building a list), or pass a larger max_tiles= (default: the "
                    "setting max_tiles, environment variable WF_WIDGETS_MAX_TILES)",
                    field="max_tiles", value=count,
                )
        tiles = list(cls._iter_tiles(geom, resolution, tilesize, pad, bool(keys_only)))
        if len(tiles) > WARN_TILE_COUNT:
            warnings.warn(
                f"DLTile.from_shape built a list of {len(tiles):,} tiles (more than {WARN_TILE_COUNT:,}); "
                "use DLTile.iter_from_shape(...) with the same arguments to iterate over them "
                "without building the whole list",
                WfWarning,
                stacklevel=2,
            )
        return tiles

    @staticmethod
    def _count_bounds(geom: Any, size: float) -> tuple[int, int]:
        """``(lower, upper)`` bounds of the number of tiles of ``size`` metres intersecting ``geom``, per zone.

        Upper: the candidates in the zone piece's projected bounds (widened by
        :data:`_COUNT_PAD_M`); lower: its projected area (shrunk by its perimeter times the
        same margin) over a tile's area, as the selected tiles cover the piece.
        """
        lower = upper = 0
        for zone, piece in split_by_utm_zone(geom):
            utm = project_to_utm(piece, zone, _COUNT_SEGMENT_DEG)
            minx, miny, maxx, maxy = utm.bounds
            m = _COUNT_PAD_M
            paths = math.floor((maxx + m - FALSE_EASTING) / size) - math.floor((minx - m - FALSE_EASTING) / size) + 1
            rows = math.floor((maxy + m) / size) - math.floor((miny - m) / size) + 1
            upper += paths * rows
            area = utm.area - utm.length * m
            if area > 0:
                lower += math.ceil(area / (size * size))
        return lower, upper

    @classmethod
    def _count(cls, geom: Any, resolution: float, tilesize: int, limit: int) -> int:
        """The number of tiles intersecting ``geom``, counted without building them; stops past ``limit``."""
        count = 0
        for _ in cls._iter_tiles(geom, resolution, tilesize, 0, True):
            count += 1
            if count > limit:
                break
        return count

    @staticmethod
    def _blocks(p0: int, p1: int, r0: int, r1: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Candidate ``(rows, paths)`` blocks of at most ``_CHUNK`` tiles, in reading order."""
        npaths = p1 - p0 + 1
        if npaths <= _CHUNK:
            paths = np.arange(p0, p1 + 1, dtype=np.int64)
            per = max(1, _CHUNK // npaths)
            top = r1
            while top >= r0:
                low = max(r0, top - per + 1)
                yield np.arange(top, low - 1, -1, dtype=np.int64), paths
                top = low - 1
            return
        for row in range(r1, r0 - 1, -1):  # a very wide zone: each row in pieces
            rows = np.array([row], dtype=np.int64)
            for start in range(p0, p1 + 1, _CHUNK):
                yield rows, np.arange(start, min(p1, start + _CHUNK - 1) + 1, dtype=np.int64)

    @classmethod
    def _iter_tiles(
        cls, geom: Any, resolution: float, tilesize: int, pad: int, keys_only: bool
    ) -> Iterator[Any]:
        size = tilesize * resolution
        max_seg = min(0.05, max(0.001, size / _METRES_PER_DEGREE / 4.0))
        res_s = format_resolution(resolution)
        for zone, piece in split_by_utm_zone(geom):
            utm = project_to_utm(piece, zone, max_seg)
            shapely.prepare(utm)
            minx, miny, maxx, maxy = utm.bounds
            p0 = math.floor((minx - FALSE_EASTING) / size)
            p1 = math.floor((maxx - FALSE_EASTING) / size)
            r0 = math.floor(miny / size)
            r1 = math.floor(maxy / size)
            prefix = f"{tilesize}:{pad}:{res_s}:{zone}:"
            for rows, paths in cls._blocks(p0, p1, r0, r1):
                rr, pp = np.meshgrid(rows, paths, indexing="ij")
                rr, pp = rr.ravel(), pp.ravel()
                xmin = FALSE_EASTING + pp * size
                ymin = rr * size
                boxes = shapely.box(xmin, ymin, xmin + size, ymin + size)
                hit = shapely.intersects(utm, boxes)
                for p, r in zip(pp[hit].tolist(), rr[hit].tolist()):
                    if keys_only:
                        yield f"{prefix}{p}:{r}"
                    else:
                        yield cls._make(resolution, tilesize, pad, zone, p, r)

    # --- attributes ------------------------------------------------------------------
    @property
    def resolution(self) -> float:
        """Pixel size in metres."""
        return self._resolution

    @property
    def tilesize(self) -> int:
        """Pixels per side without padding."""
        return self._tilesize

    @property
    def pad(self) -> int:
        """Pixels of padding on every side."""
        return self._pad

    @property
    def zone(self) -> int:
        """UTM zone (1..60)."""
        return self._zone

    @property
    def path(self) -> int:
        """Column of the tile in its zone's grid."""
        return self._path

    @property
    def row(self) -> int:
        """Row of the tile in its zone's grid (negative south of the equator)."""
        return self._row

    @property
    def ti(self) -> int:
        """The original client's name of :attr:`path` (the column of the tile in its zone's grid)."""
        return self._path

    @property
    def tj(self) -> int:
        """The original client's name of :attr:`row` (the row of the tile in its zone's grid)."""
        return self._row

    @property
    def tile_extent(self) -> int:
        """Pixels per side, padding included: ``tilesize + 2 * pad``."""
        return self._tilesize + 2 * self._pad

    @property
    def proj4(self) -> str:
        """PROJ.4 definition of the tile's CRS, as the original wrote it (with its trailing space)."""
        return f"+proj=utm +zone={self._zone} +datum=WGS84 +units=m +no_defs "

    @property
    def wkt(self) -> str:
        """OGC Well-Known Text (version 1) of the tile's CRS, as the original wrote it."""
        return _UTM_WKT.format(zone=self._zone, meridian=6 * self._zone - 183)

    @property
    def raster_params(self) -> dict[str, Any]:
        """``{"dltile": key, "align_pixels": False}``: the tile as the original's raster calls took it."""
        return {"dltile": self.key, "align_pixels": False}

    @property
    def key(self) -> str:
        """``"tilesize:pad:resolution:zone:path:row"``."""
        return f"{self._tilesize}:{self._pad}:{format_resolution(self._resolution)}:{self._zone}:{self._path}:{self._row}"

    @property
    def crs(self) -> str:
        """``"EPSG:326zz"``."""
        return utm_crs(self._zone)

    @property
    def bounds_crs(self) -> str:
        """CRS of :attr:`bounds`, ``"EPSG:326zz"``."""
        return self.crs

    @property
    def unpadded_bounds(self) -> tuple[float, float, float, float]:
        """The grid cell ``(xmin, ymin, xmax, ymax)`` without padding, UTM metres."""
        size = self._tilesize * self._resolution
        xmin = FALSE_EASTING + self._path * size
        ymin = self._row * size
        return (xmin, ymin, xmin + size, ymin + size)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Padded ``(xmin, ymin, xmax, ymax)`` in UTM metres."""
        xmin, ymin, xmax, ymax = self.unpadded_bounds
        p = self._pad * self._resolution
        return (xmin - p, ymin - p, xmax + p, ymax + p)

    @property
    def width(self) -> int:
        """``tilesize + 2 * pad`` pixels."""
        return self._tilesize + 2 * self._pad

    @property
    def height(self) -> int:
        """``tilesize + 2 * pad`` pixels."""
        return self._tilesize + 2 * self._pad

    @property
    def geotrans(self) -> tuple[float, float, float, float, float, float]:
        """``(xmin, resolution, 0, ymax, 0, -resolution)`` of the padded tile."""
        xmin, _, _, ymax = self.bounds
        return (xmin, self._resolution, 0.0, ymax, 0.0, -self._resolution)

    @property
    def transform(self) -> affine.Affine:
        """Affine transform of the padded tile."""
        return affine.Affine.from_gdal(*self.geotrans)

    @property
    def geometry(self) -> shapely.Polygon:
        """The padded bounds as a lon/lat polygon (EPSG:4326), 4 segments per side."""
        g = self.__dict__.get("_geometry")
        if g is None:
            g = self.__dict__["_geometry"] = bounds_to_lonlat_polygon(
                self.bounds, self.crs, nseg=4, ref_lon=-183.0 + 6.0 * self._zone
            )
        return g

    @staticmethod
    def geometries(tiles: "list[DLTile]") -> list[shapely.Polygon]:
        """The :attr:`geometry` of many tiles at once (one reprojection per zone; ~10x faster).

        The polygons are also cached on the tiles.
        """
        tiles = list(tiles)
        out: list[Any] = [None] * len(tiles)
        by_zone: dict[int, list[int]] = {}
        for i, t in enumerate(tiles):
            g = t.__dict__.get("_geometry")
            if g is None:
                by_zone.setdefault(t.zone, []).append(i)
            else:
                out[i] = g
        nseg = 4
        frac = np.linspace(0.0, 1.0, nseg + 1)[:-1]
        for zone, idx in by_zone.items():
            b = np.array([tiles[i].bounds for i in idx])  # (n, 4)
            x0, y0, x1, y1 = (b[:, k : k + 1] for k in range(4))
            ones = np.ones((1, nseg))
            xs = np.hstack([x0 + (x1 - x0) * frac, x1 * ones, x1 - (x1 - x0) * frac, x0 * ones, x0])
            ys = np.hstack([y0 * ones, y0 + (y1 - y0) * frac, y1 * ones, y1 - (y1 - y0) * frac, y0])
            central = -183.0 + 6.0 * zone
            lons, lats = utm_to_lonlat(zone, xs.ravel(), ys.ravel())
            lons = np.asarray(lons).reshape(xs.shape)
            lats = np.asarray(lats).reshape(xs.shape)
            for row in range(len(idx)):
                lons[row] = unwrap_lons(lons[row], central)
            polys = shapely.polygons(np.stack([lons, lats], axis=-1))
            for i, poly in zip(idx, polys):
                tiles[i].__dict__["_geometry"] = poly
                out[i] = poly
        return out

    # --- operations ------------------------------------------------------------------
    def assign(self, pad: Any = "unchanged") -> "DLTile":
        """The same tile with another padding (the grid cell, so the key's path and row, stays).

        Raises
        ------
        InvalidTileError
            A negative or non-integral ``pad``.
        """
        if isinstance(pad, str) and pad == "unchanged":
            return self
        _, _, pad = _check_grid(self._resolution, self._tilesize, pad)
        return self._make(self._resolution, self._tilesize, pad, self._zone, self._path, self._row)

    def subtile(self, subdivide: int, resolution: float | None = None, pad: int | None = None,
                keys_only: bool = False) -> list["DLTile"] | list[str]:
        """Split into ``subdivide x subdivide`` tiles covering exactly this tile's unpadded square.

        Parameters
        ----------
        subdivide : int
            Sub-tiles per side; must divide ``tilesize``.
        resolution : float, optional
            Resolution of the sub-tiles (this tile's by default); ``tilesize * resolution /
            (subdivide * resolution_new)``, their tilesize, must be a whole number.
        pad : int, optional
            Padding of the sub-tiles (this tile's by default).
        keys_only : bool, default False
            Return the keys instead of DLTiles.

        Returns
        -------
        list of DLTile, or of str
            In reading order (north to south, then west to east).

        Raises
        ------
        InvalidTileError
            A ``ValueError`` when `subdivide` is not a positive divisor of ``tilesize``, or
            the sub-tiles' tilesize would not be a whole number.
        """
        n = _as(InvalidTileError, v.positive_int, subdivide, "subdivide")
        if self._tilesize % n:
            raise InvalidTileError(
                f"Invalid subdivide {subdivide!r}: tilesize {self._tilesize} is not divisible by it",
                field="subdivide",
                value=subdivide,
            )
        res, _, pad = _check_grid(self._resolution if resolution is None else resolution, 1,
                                  self._pad if pad is None else pad)
        exact = self._tilesize * self._resolution / (n * res)
        ts = round(exact)
        if ts < 1 or abs(exact - ts) > 1e-9 * exact:
            raise InvalidTileError(
                f"Invalid resolution {resolution!r} for subtile({n}): the sub-tiles' tilesize would be "
                f"{self._tilesize} * {self._resolution:g} / ({n} * {res:g}) = {exact:g}, not a whole number",
                field="resolution",
                value=resolution,
            )
        res_s = format_resolution(res)
        cells = [(self._path * n + i, self._row * n + j) for j in range(n - 1, -1, -1) for i in range(n)]
        if keys_only:
            return [f"{ts}:{pad}:{res_s}:{self._zone}:{p}:{r}" for p, r in cells]
        return [self._make(res, ts, pad, self._zone, p, r) for p, r in cells]

    def rowcol_to_latlon(self, row: Any, col: Any) -> list[tuple[float, ...]]:
        """The lat/lon of the centres of pixels ``(row, col)`` of this (padded) tile.

        Parameters
        ----------
        row, col : int or sequence of int
            Pixel rows and columns, counted from the top-left corner of the padded tile;
            both numbers or both sequences of one length.

        Returns
        -------
        list of two tuples
            ``[(lat, ...), (lon, ...)]``.

        Raises
        ------
        InvalidRowColError
            ``row`` and ``col`` that don't pair up.
        """
        rows, cols, single = _pair(row, col, "row", "col", InvalidRowColError)
        xmin, _, _, ymax = self.bounds
        x = xmin + (cols + 0.5) * self._resolution
        y = ymax - (rows + 0.5) * self._resolution
        lon, lat = utm_to_lonlat(self._zone, x, y)
        lon = (np.asarray(lon, dtype=float) + 180.0) % 360.0 - 180.0
        return [tuple(np.atleast_1d(lat).tolist()), tuple(np.atleast_1d(lon).tolist())]

    def latlon_to_rowcol(self, lat: Any, lon: Any) -> list[tuple[int, ...]]:
        """The pixels ``(row, col)`` of this (padded) tile holding lat/lon points.

        Parameters
        ----------
        lat, lon : float or sequence of float
            Both numbers or both sequences of one length. Points outside the tile give
            rows and columns outside ``0 .. tile_extent - 1``.

        Returns
        -------
        list of two tuples
            ``[(row, ...), (col, ...)]``.

        Raises
        ------
        InvalidLatLonError
            ``lat`` and ``lon`` that don't pair up.
        """
        lats, lons, single = _pair(lat, lon, "lat", "lon", InvalidLatLonError)
        x, y = lonlat_to_utm(self._zone, lons, lats)
        xmin, _, _, ymax = self.bounds
        rows = np.floor((ymax - np.asarray(y)) / self._resolution).astype(int)
        cols = np.floor((np.asarray(x) - xmin) / self._resolution).astype(int)
        return [tuple(np.atleast_1d(rows).tolist()), tuple(np.atleast_1d(cols).tolist())]

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "dltile", "key": ..., "resolution", "tilesize", "pad", "zone", "path", "row", "crs", "bounds", "geotrans"}``."""
        return {
            "type": "dltile",
            "key": self.key,
            "resolution": self._resolution,
            "tilesize": self._tilesize,
            "pad": self._pad,
            "zone": self._zone,
            "path": self._path,
            "row": self._row,
            "crs": self.crs,
            "bounds": list(self.bounds),
            "geotrans": list(self.geotrans),
        }

    @classmethod
    def _from_dict(cls, d: Mapping[str, Any]) -> "DLTile":
        if "key" in d:
            return cls.from_key(d["key"])
        try:
            return cls(d["resolution"], d["tilesize"], d["pad"], d["zone"], d["path"], d["row"])
        except KeyError as e:
            raise ValidationError(
                f"Invalid geoctx: a dltile dict needs 'key' (or resolution, tilesize, pad, zone, path, row); missing {e}",
                field="geoctx",
                value=dict(d),
            ) from None

    def _json_key(self) -> str:
        # to_dict() is a function of the key alone; compare and hash by it (cheaper).
        return "dltile:" + self.key

    def __repr__(self) -> str:
        return f"DLTile.from_key({self.key!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {k: val for k, val in self.__dict__.items() if k != "_geometry"}
