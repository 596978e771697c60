"""Render a value as a picture: web-mercator tiles and views, colormaps, PNG.

A small set of verbs around one data model (a masked ``(bands, y, x)`` float array), in the
spirit of rio-tiler:

* :func:`tile_geocontext` / :func:`view_geocontext`: the :class:`~wf_widgets.geo.AOI` of an
  XYZ tile (EPSG:3857, 256 x 256 pixels) or of a lon/lat view;
* :func:`read_image`: evaluate an Image graph in such a context (the masked array);
* :func:`display_bands`, :func:`autoscale`, :func:`to_rgba`: choose the bands shown, find
  their scales, map them to 8-bit RGBA;
* :func:`render_png`: all of it, as PNG bytes (:func:`wf_widgets._cards.encode_png_rgba`).

Decisions:

* Bands shown: one or two bands give one band (the first) through a colormap; three or more
  give RGB from the first three (the rule of the HTML cards' thumbnails). Use
  ``pick_bands`` to choose.
* ``scales`` is one ``(min, max)`` pair per shown band (or one pair for all of them); ``min``
  maps to 0 and ``max`` to 255, linearly, clipped: level ``floor(255 * (v - min) / (max - min))``,
  rio-tiler's (and TiTiler's) ``rescale``, so that a tile equals theirs byte for byte.
  ``min > max`` inverts the band.
* ``colormap`` (one band only) names a 256-entry lookup table: ``"gray"`` (the default),
  ``"viridis"``, ``"magma"``, ``"inferno"``, ``"plasma"``, each also reversed with ``"_r"``.
  The tables are matplotlib's byte for byte (``cmap(range(256), bytes=True)``, as rio-tiler
  bundles them), read once from ``colormaps.txt`` beside this module
  (``scripts/make_colormaps.py`` wrote it); no matplotlib is needed.
* Masked (and non-finite) pixels are transparent, or with ``checkerboard=True`` a grey
  8-pixel checkerboard (aligned across tiles, as every tile is 256 px).
* Only Image graphs render; an ImageCollection is mosaicked by the caller
  (:class:`~wf_widgets.widgets.TileMap` does it when it stores the layer).

Nothing here imports Jupyter packages.
"""

from __future__ import annotations

import base64
import functools
import math
import traceback
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .._cards import encode_png_rgba
from .._context import BackendLike, current
from ..errors import ValidationError, WfError
from ..geo import AOI, GeoContext
from ..values.graph import Node, from_json, parse, validate
from . import memory
from .evaluate import EvalContext, evaluate

#: Pixels per side of a web-mercator tile.
TILE_SIZE = 256
#: Half the width of the web-mercator world in metres.
ORIGIN = 20037508.342789244
#: Highest zoom level served.
MAX_ZOOM = 24
#: Side of the checkerboard squares drawn under masked pixels, in pixels.
CHECKER = 8
_CHECKER_RGBA = ((236, 236, 236, 200), (196, 196, 196, 200))

#: The file of colormap tables (in this package): one line ``<name> <256 RRGGBB entries>``.
COLORMAP_FILE = "colormaps.txt"
DEFAULT_COLORMAP = "gray"

#: zlib level of tile PNGs. Imagery barely deflates (speckle, noise): level 2 makes tiles
#: within ~15% of level 6's size in a sixth of the time (1.7-2 ms against 13 ms for a
#: 256 px tile of the demo composite), and a tile server spends its CPU on many tiles.
PNG_LEVEL = 2


# -- colormaps ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _colormap_tables() -> dict[str, np.ndarray]:
    """Every table of :data:`COLORMAP_FILE`, read once: name -> read-only uint8 ``(256, 3)``."""
    text = Path(__file__).with_name(COLORMAP_FILE).read_text(encoding="ascii")
    tables = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, hexes = line.split()
        table = np.frombuffer(bytes.fromhex(hexes), dtype=np.uint8).reshape(256, 3)
        tables[name] = table  # frombuffer of bytes: read-only already
    return tables


def colormap_names() -> list[str]:
    """Every accepted colormap name (each table and its ``_r`` reverse)."""
    return sorted(_colormap_tables())


def colormap(name: str) -> np.ndarray:
    """The 256-entry lookup table of colormap ``name`` (any case): read-only uint8, shape ``(256, 3)``.

    Raises
    ------
    ValidationError
        An unknown name (the message lists the known ones).
    """
    table = _colormap_tables().get(name.lower()) if isinstance(name, str) else None
    if table is None:
        raise ValidationError.bad_value("colormap", name, colormap_names(), what="colormap")
    return table


# -- geocontexts -------------------------------------------------------------------------------
def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """``(xmin, ymin, xmax, ymax)`` in EPSG:3857 metres of XYZ tile ``z/x/y``."""
    size = 2.0 * ORIGIN / (1 << z)
    xmin = -ORIGIN + x * size
    ymax = ORIGIN - y * size
    return (xmin, ymax - size, xmin + size, ymax)


def check_tile(z: int, x: int, y: int) -> None:
    """Raise ValidationError unless ``z/x/y`` names a tile (``0 <= x, y < 2**z``, ``z <= MAX_ZOOM``)."""
    if not 0 <= z <= MAX_ZOOM:
        raise ValidationError(f"Invalid zoom {z}: must be between 0 and {MAX_ZOOM}", field="z", value=z)
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise ValidationError(f"No tile {z}/{x}/{y}: x and y must be below {n} at zoom {z}", field="tile",
                              value=(z, x, y))


def tile_geocontext(z: int, x: int, y: int, size: int = TILE_SIZE) -> AOI:
    """The AOI of XYZ tile ``z/x/y``: its EPSG:3857 bounds, ``size x size`` pixels."""
    check_tile(z, x, y)
    return AOI.from_grid(tile_bounds(z, x, y), "EPSG:3857", shape=(size, size))


def lonlat_to_mercator(lon: Any, lat: Any) -> tuple[Any, Any]:
    """EPSG:4326 degrees to EPSG:3857 metres (latitudes clipped to +-85.0511)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.clip(np.asarray(lat, dtype=np.float64), -85.05112878, 85.05112878)
    x = lon * (ORIGIN / 180.0)
    y = np.log(np.tan((90.0 + lat) * (math.pi / 360.0))) * (ORIGIN / math.pi)
    return x, y


def view_geocontext(west: float, south: float, east: float, north: float, max_size: int = TILE_SIZE) -> AOI:
    """The AOI of a lon/lat view: EPSG:3857 bounds, at most ``max_size`` pixels on its longer side.

    The pixel grid keeps the view's aspect ratio (square pixels, up to rounding).
    """
    (x0, x1), (y0, y1) = lonlat_to_mercator([west, east], [south, north])
    x0, x1, y0, y1 = float(x0), float(x1), float(y0), float(y1)
    if not (x1 > x0 and y1 > y0):
        raise ValidationError(f"Invalid view ({west}, {south}, {east}, {north}): an empty area",
                              field="bounds", value=(west, south, east, north))
    w, h = x1 - x0, y1 - y0
    scale = max_size / max(w, h)
    shape = (max(1, round(h * scale)), max(1, round(w * scale)))
    return AOI.from_grid((x0, y0, x1, y1), "EPSG:3857", shape=shape)


# -- evaluation --------------------------------------------------------------------------------
def read_image(graph: dict | Node, geoctx: GeoContext, backend: BackendLike | None = None) -> np.ma.MaskedArray:
    """Evaluate an Image graph (its JSON form, or a Node) in ``geoctx``; the masked ``(bands, y, x)`` array.

    The graph is checked first (:func:`wf_widgets.values.graph.from_json`), then its memory
    estimate (:func:`wf_widgets.engine.memory.check`, against the backend's ``max_memory``).

    Raises
    ------
    ValidationError
        The graph is not a valid Image graph, or needs more memory than allowed.
    """
    if backend is None:
        backend = current()
    if isinstance(graph, Node):
        node = validate(graph)
    else:
        graph = parse(graph)
        kind = graph.get("kind")
        if kind != "Image":
            raise ValidationError(f"Only an Image can be rendered, not a {kind}; reduce it to an Image first "
                                  "(an ImageCollection with .mosaic() or .mean(axis='images'))",
                                  field="value", value=kind)
        node = from_json(graph, verify=False)
    ctx = EvalContext.for_backend(backend, geoctx)
    memory.check(node, ctx, backend.settings.max_memory)
    result = evaluate(node, ctx)
    arr = getattr(result, "ndarray", None)
    if arr is None or getattr(arr, "ndim", 0) != 3:
        raise ValidationError(f"The value evaluated to {type(result).__name__}, not an Image", field="value",
                              value=type(result).__name__)
    return arr


def error_text(exc: BaseException) -> str:
    """What a failed render may tell the client and the map's log.

    ``"<ExceptionName>: <message>"`` for our own errors (:class:`~wf_widgets.errors.WfError`:
    validation, not found, permission), whose messages say what is wrong; for anything
    else only a generic message naming the exception's type, never its text (which could
    quote anything the evaluation touched). Log those server-side with
    :func:`log_failure`.
    """
    if isinstance(exc, WfError):
        return f"{type(exc).__name__}: {exc}"
    return f"Render failed: an unexpected {type(exc).__name__} (the server log has where it happened)"


def log_failure(logger: Any, what: str, exc: BaseException) -> None:
    """Log an unexpected render failure: its type and where it was raised (file, line, function), never its text.

    At INFO, as every tile failure: a kernel's thread server must not print into the notebook.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    where = "; ".join(f"{f.filename}:{f.lineno} in {f.name}" for f in frames[-5:])
    logger.info("%s failed with %s at %s", what, type(exc).__name__, where or "(no traceback)")


# -- pixels to colours -------------------------------------------------------------------------
def display_bands(arr: np.ma.MaskedArray) -> np.ma.MaskedArray:
    """The bands shown: the first of one or two bands, the first three of three or more."""
    arr = np.ma.asanyarray(arr)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.ndim != 3 or arr.shape[0] == 0:
        raise ValidationError(f"Need a (bands, y, x) array with at least one band, got shape {arr.shape}",
                              field="value", value=arr.shape)
    return arr[:3] if arr.shape[0] >= 3 else arr[:1]


def _valid(arr: np.ma.MaskedArray) -> tuple[np.ndarray, np.ndarray]:
    data = np.asarray(np.ma.getdata(arr), dtype=np.float64)
    return data, ~np.ma.getmaskarray(arr) & np.isfinite(data)


def autoscale(arr: np.ma.MaskedArray, percentiles: tuple[float, float] = (2.0, 98.0)) -> list[list[float]] | None:
    """Per shown band, the ``percentiles`` of its unmasked finite values; None if no pixel is valid.

    A band whose two percentiles are equal (a constant band) gets ``(v - 0.5, v + 0.5)``,
    so it shows in the middle of the colormap.
    """
    data, valid = _valid(display_bands(arr))
    out = []
    for i in range(data.shape[0]):
        values = data[i][valid[i]]
        if values.size == 0:
            return None
        lo, hi = (float(v) for v in np.percentile(values, percentiles))
        out.append([lo, hi] if hi > lo else [lo - 0.5, lo + 0.5])
    return out


def normalize_scales(scales: Any, nbands: int | None) -> list[list[float]] | None:
    """``scales`` as one ``[min, max]`` per shown band (None stays None).

    Accepts one pair (for every band) or ``nbands`` pairs; with ``nbands`` None (the band
    count is not known yet) one pair stays one pair, to be repeated when rendering.

    Raises
    ------
    ValidationError
        Anything else, naming the field ``scales``.
    """
    if scales is None:
        return None
    bad = ValidationError(f"Invalid scales {scales!r}: expected (min, max) or one (min, max) per band",
                          field="scales", value=scales)
    if isinstance(scales, (str, bytes)) or not hasattr(scales, "__len__"):
        raise bad
    items = list(scales)
    try:
        if len(items) == 2 and not any(hasattr(v, "__len__") for v in items):
            pairs = [[float(items[0]), float(items[1])]]
        else:
            pairs = []
            for pair in items:
                if isinstance(pair, (str, bytes)) or len(pair) != 2:
                    raise ValueError
                pairs.append([float(pair[0]), float(pair[1])])
    except (TypeError, ValueError):
        raise bad from None
    if not pairs:
        raise bad
    if len(pairs) == 1 and nbands is not None:
        pairs = pairs * nbands
    if nbands is not None and len(pairs) != nbands:
        raise ValidationError(f"Invalid scales {scales!r}: {len(pairs)} (min, max) pairs for {nbands} shown band(s)",
                              field="scales", value=scales)
    for lo, hi in pairs:
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo == hi:
            raise ValidationError(f"Invalid scales {scales!r}: each (min, max) needs two different finite numbers",
                                  field="scales", value=scales)
    return pairs


def _checkerboard(height: int, width: int) -> np.ndarray:
    yy, xx = np.ogrid[0:height, 0:width]
    odd = ((yy // CHECKER) + (xx // CHECKER)) % 2 == 1
    out = np.empty((height, width, 4), dtype=np.uint8)
    out[...] = _CHECKER_RGBA[0]
    out[odd] = _CHECKER_RGBA[1]
    return out


def to_rgba(arr: np.ma.MaskedArray, scales: Any = None, colormap_name: str | None = None,
            checkerboard: bool = False) -> np.ndarray:
    """8-bit RGBA ``(y, x, 4)`` of a masked ``(bands, y, x)`` array.

    Parameters
    ----------
    arr : numpy.ma.MaskedArray
        The image; see :func:`display_bands` for which bands are shown.
    scales : sequence, optional
        ``(min, max)`` per shown band, or one pair; default :func:`autoscale` of ``arr``.
    colormap_name : str, optional
        For one band (default ``"gray"``); an error with three.
    checkerboard : bool
        Draw masked pixels as a grey checkerboard instead of transparent.
    """
    shown = display_bands(arr)
    nb, height, width = shown.shape
    if colormap_name is not None and nb == 3:
        raise ValidationError(f"colormap {colormap_name!r} applies to one band, but 3 bands are shown as RGB; "
                              "pick one band with pick_bands", field="colormap", value=colormap_name)
    pairs = normalize_scales(scales, nb) if scales is not None else autoscale(shown)
    data, valid = _valid(shown)
    if pairs is None:
        pairs = [[0.0, 1.0]] * nb
    visible = valid.all(axis=0) if nb > 1 else valid[0]
    levels = np.empty((nb, height, width), dtype=np.uint8)
    for i, (lo, hi) in enumerate(pairs):
        # rio-tiler's linear_rescale, in its order of operations (so the floats, and their
        # floor, are the same): (v - min) / (max - min) * 255, then truncated to 8 bits.
        band = data[i] - lo
        band /= hi - lo
        band *= 255.0
        np.nan_to_num(band, copy=False, nan=0.0, posinf=255.0, neginf=0.0)
        np.clip(band, 0.0, 255.0, out=band)
        np.floor(band, out=band)
        levels[i] = band
    rgba = _checkerboard(height, width) if checkerboard else np.zeros((height, width, 4), dtype=np.uint8)
    if nb == 1:
        rgb = colormap(colormap_name or DEFAULT_COLORMAP)[levels[0]]
    else:
        rgb = np.moveaxis(levels, 0, -1)
    rgba[visible, :3] = rgb[visible]
    rgba[visible, 3] = 255
    return rgba


def render_png(arr: np.ma.MaskedArray, scales: Any = None, colormap_name: str | None = None,
               checkerboard: bool = False) -> bytes:
    """PNG bytes of :func:`to_rgba` (an 8-bit RGBA PNG)."""
    return encode_png_rgba(to_rgba(arr, scales, colormap_name, checkerboard), PNG_LEVEL)


def render_tile(graph: dict | Node, z: int, x: int, y: int, scales: Any = None, colormap_name: str | None = None,
                checkerboard: bool = False, backend: BackendLike | None = None) -> bytes:
    """The 256 x 256 PNG of an Image graph in XYZ tile ``z/x/y`` (see :func:`to_rgba`)."""
    arr = read_image(graph, tile_geocontext(z, x, y), backend)
    return render_png(arr, scales, colormap_name, checkerboard)


def data_url(png: bytes) -> str:
    """``data:image/png;base64,...`` of PNG bytes."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def shown_band_names(names: Sequence[str] | None) -> list[str] | None:
    """The names of the bands :func:`display_bands` shows, given all band names (None if unknown)."""
    if names is None:
        return None
    names = list(names)
    return names[:3] if len(names) >= 3 else names[:1]
