"""The DLTile side of the map: views, tiles in a view, their GeoJSON, selection estimates.

Plain functions over lon/lat boxes and DLTile keys; no widget here.
"""

from __future__ import annotations

import html
import math
from collections import OrderedDict
from itertools import islice
from typing import Any, Iterable, Sequence

import shapely

from ..geo import DLTile
from ._estimate import size_estimate, size_short, size_text

#: Styles of the grid's tiles (Leaflet path options).
TILE_STYLE = {"color": "#3388ff", "weight": 1, "opacity": 0.7, "fillColor": "#3388ff", "fillOpacity": 0.03}
SELECTED_STYLE = {"color": "#e8590c", "weight": 2, "opacity": 0.95, "fillColor": "#e8590c", "fillOpacity": 0.25}
HOVER_STYLE = {"weight": 3, "fillOpacity": 0.35}
#: Pixels of a map view before the browser has reported its size (ipyleaflet's default height).
DEFAULT_VIEW_PX = (960, 400)
MAX_LAT = 85.0511
_ORIGIN = 20037508.342789244

Box = tuple[float, float, float, float]  # west, south, east, north


def clip_box(box: Box) -> Box | None:
    """``box`` clipped to the web-mercator world (lon -180..180, lat +-85.05); None if empty."""
    w, s, e, n = box
    w, e = max(-180.0, w), min(180.0, e)
    s, n = max(-MAX_LAT, s), min(MAX_LAT, n)
    return (w, s, e, n) if e > w and n > s else None


def view_from_center(center: Sequence[float], zoom: float, size_px: tuple[int, int] = DEFAULT_VIEW_PX) -> Box:
    """The lon/lat box a Leaflet map of ``size_px`` (width, height) shows at ``center`` (lat, lon) and ``zoom``."""
    lat, lon = float(center[0]), float(center[1])
    metres_per_px = 2.0 * _ORIGIN / (256.0 * 2.0 ** float(zoom))
    cx = lon * _ORIGIN / 180.0
    cy = math.log(math.tan((90.0 + max(-MAX_LAT, min(MAX_LAT, lat))) * math.pi / 360.0)) * _ORIGIN / math.pi
    hw, hh = size_px[0] / 2.0 * metres_per_px, size_px[1] / 2.0 * metres_per_px

    def lat_of(y: float) -> float:
        return math.degrees(2.0 * math.atan(math.exp(y * math.pi / _ORIGIN)) - math.pi / 2.0)

    return ((cx - hw) * 180.0 / _ORIGIN, lat_of(cy - hh), (cx + hw) * 180.0 / _ORIGIN, lat_of(cy + hh))


def keys_in_box(box: Box, resolution: float, tilesize: int, pad: int, limit: int | None = None) -> tuple[list[str], bool]:
    """Keys of the DLTiles intersecting a lon/lat box: ``(keys, more)``.

    At most ``limit`` keys are returned; ``more`` says whether there were more.
    """
    clipped = clip_box(box)
    if clipped is None:
        return [], False
    it = DLTile.iter_from_shape(shapely.box(*clipped), resolution, tilesize, pad, keys_only=True)
    if limit is None:
        return list(it), False
    keys = list(islice(it, limit + 1))
    return keys[:limit], len(keys) > limit


def keys_in_shape(shape: Any, resolution: float, tilesize: int, pad: int, limit: int) -> tuple[list[str], bool]:
    """Keys of the DLTiles intersecting a shape (``DLTile.iter_from_shape``), at most ``limit``: ``(keys, more)``."""
    it = DLTile.iter_from_shape(shape, resolution, tilesize, pad, keys_only=True)
    keys = list(islice(it, limit + 1))
    return keys[:limit], len(keys) > limit


class GeometryCache:
    """Lon/lat outlines of DLTiles by key (rounded GeoJSON rings), least recently used dropped."""

    def __init__(self, size: int = 20_000):
        self.size = size
        self._rings: OrderedDict[str, list] = OrderedDict()

    def rings(self, keys: Sequence[str]) -> list[list]:
        """The exterior ring of each key's tile, ``[[lon, lat], ...]`` rounded to 1e-6 degrees."""
        missing = [k for k in keys if k not in self._rings]
        if missing:
            tiles = [DLTile.from_key(k) for k in missing]
            for key, poly in zip(missing, DLTile.geometries(tiles)):
                coords = shapely.get_coordinates(poly.exterior).round(6).tolist()
                self._rings[key] = coords
        out = []
        for k in keys:
            self._rings.move_to_end(k)
            out.append(self._rings[k])
        while len(self._rings) > self.size:
            self._rings.popitem(last=False)
        return out

    def boxes(self, keys: Sequence[str]) -> list[Box]:
        """The lon/lat bounding box of each key's tile."""
        out = []
        for ring in self.rings(keys):
            lons = [p[0] for p in ring]
            lats = [p[1] for p in ring]
            out.append((min(lons), min(lats), max(lons), max(lats)))
        return out


def feature_collection(keys: Sequence[str], selected: Iterable[str], cache: GeometryCache) -> dict:
    """A GeoJSON FeatureCollection of the tiles ``keys``; each feature carries its ``key`` and style."""
    chosen = set(selected)
    features = []
    for key, ring in zip(keys, cache.rings(keys)):
        on = key in chosen
        features.append({
            "type": "Feature",
            "id": key,
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"key": key, "selected": on, "style": SELECTED_STYLE if on else TILE_STYLE},
        })
    return {"type": "FeatureCollection", "features": features}


def intersecting(keys: Sequence[str], box: Box, cache: GeometryCache) -> list[str]:
    """The keys whose tile's bounding box meets the lon/lat ``box``."""
    w, s, e, n = box
    return [k for k, (bw, bs, be, bn) in zip(keys, cache.boxes(keys)) if bw <= e and be >= w and bs <= n and bn >= s]


def pixels_of(keys: Iterable[str]) -> int:
    """Pixels of all the tiles (``(tilesize + 2 * pad) ** 2`` each), from their keys alone."""
    total = 0
    for key in keys:
        tilesize, pad = key.split(":", 2)[:2]
        side = int(tilesize) + 2 * int(pad)
        total += side * side
    return total


def selection_html(keys: Sequence[str], value: Any) -> str:
    """The map's selection line: how many tiles, their pixels, and the size of ``value`` over them.

    The size is :func:`~wf_widgets.widgets._estimate.size_text`, the words the
    ExportForm shows for the same value and tiles.
    """
    if not keys:
        return "No tile selected: click tiles, draw a shape, or use the viewport."
    est = size_estimate(value, pixels_of(keys))
    return (f"<b>{n_tiles(len(keys))} selected</b>: "
            f"{est['pixels']:,} pixels, {html.escape(size_text(est))}")


def n_tiles(n: int) -> str:
    """``"1 tile"``, ``"2 tiles"``, ``"1,024 tiles"``."""
    return f"{n:,} tile{'s' if n != 1 else ''}"


def selection_summary(keys: Sequence[str], value: Any) -> str:
    """The selection in one short line (the collapsed panel): ``"2 tiles selected · 4.0 MiB"``.

    The size is :func:`~wf_widgets.widgets._estimate.size_short` of the estimate
    :func:`selection_html` shows.
    """
    if not keys:
        return "No tile selected"
    return f"{n_tiles(len(keys))} selected · {size_short(size_estimate(value, pixels_of(keys)))}"
