"""Reading catalog rasters into a GeoContext's pixel grid.

:class:`CatalogReader` answers what the static rules ask (a product's band names, with
access checks: :class:`~wf_widgets.catalog.reads.CatalogReads`), finds the scenes of a
product that intersect a GeoContext within a date range, and warps each scene's file into
the context's grid.

How a scene is read
-------------------
* Only the part of the COG covering the context is read: GDAL's warper reads the source
  blocks each destination chunk needs, straight from the dataset (no full-file read, no
  intermediate copy of the window).
* Values become float64, scaled linearly from ``data_range`` to ``physical_range`` for
  bands that have a physical range (as the original did); other bands keep their values.
* Masks: a pixel is masked where the band's ``nodata`` is, where the product's alpha band
  (a MaskBand with ``is_alpha``) is 0, where the file's own mask says so, and outside the
  scene's footprint. When every read band shares one nodata value and the product has no
  alpha band (the common case), one warp with ``src_nodata``/``dst_nodata`` does it all;
  otherwise the covering window is read with its masks and the validity is warped beside
  the data with nearest-neighbour resampling.
* Warps go dataset to dataset, never to or from a bare array: ``reproject`` wraps an array
  in a GDAL MEM dataset opened *without* georeferencing (rasterio's ``MemoryDataset``), sets
  the transform afterwards and hides the ``NotGeoreferencedWarning`` that opening raises
  with ``warnings.catch_warnings``, which is not thread-safe: with reads in parallel
  threads, one thread's restore of the warning filters un-hid another's warning. So each
  warp reads from the scene's dataset (or an in-memory one made *with* its grid,
  :func:`grid_dataset`) into an in-memory dataset made with the context's grid; no dataset
  is ever opened without its transform, and nothing needs hiding.
* All scenes of one collection read inside one ``rasterio.Env``; on an ``s3://`` store the
  scenes are ``/vsis3/`` paths read in place with range requests, and the Env carries the
  store's endpoint, region and credentials (:func:`rasterio_env`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import math
from collections import OrderedDict
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.enums import MaskFlags, Resampling
from rasterio.warp import reproject, transform_bounds
from rasterio.windows import Window, from_bounds
from shapely.geometry import Polygon

from .._context import BackendLike
from ..catalog import files
from ..catalog.reads import CatalogReads, Identity, ProductMeta
from ..errors import NotFound
from ..geo import GeoContext
from ..geo.bbox import SAMPLES, grid_outline, lonlat_boxes
from ..outputs import cog
from ..values import imagery_rules as rules

#: GDAL options of the Env every read runs in: no directory listing on open (the files
#: have no side-car files), so opening a scene costs one file open.
ENV_OPTIONS = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}


def rasterio_env(options: Mapping[str, str] | None = None):
    """The ``rasterio.Env`` reads run in, with the object store's ``options`` (:meth:`CatalogReader.gdal_options`:
    none on ``file://``; the endpoint, region and credentials of ``/vsis3/`` reads on S3)."""
    return cog.gdal_env({**ENV_OPTIONS, **(options or {})})


def grid_dataset(count: int, height: int, width: int, dtype: Any, crs: Any, transform: Any,
                 data: np.ndarray | None = None):
    """An in-memory GDAL dataset created with its georeferencing (and holding ``data``, if given).

    A warp's source or destination in place of a bare array: see the module's doc for why.
    Use it as a context manager; read its pixels with ``.read()``.
    """
    ds = rasterio.open("", "w+", driver="MEM", width=width, height=height, count=count, dtype=dtype, crs=crs,
                       transform=transform)
    if data is not None:
        ds.write(data)
    return ds


@dataclasses.dataclass(frozen=True)
class Scene:
    """One catalog image to read.

    ``path`` is its (first) file; ``parts`` lists every file with the product band names it
    holds in its order (None: every band of the product, in band_index order). An image
    imported from STAC has one file per band, each on its own grid: each is warped on its own.
    """

    id: str
    path: str
    crs: str
    transform: Any  # affine.Affine
    width: int
    height: int
    properties: dict
    parts: tuple = ()

    def sources(self, product: ProductMeta, names: Sequence[str]) -> list[tuple[str, list[int], list[int], int | None]]:
        """Where bands ``names`` are: ``(path, 1-based indexes in the file, positions in names, alpha index or None)``
        per file read, in file order."""
        if not self.parts or (len(self.parts) == 1 and self.parts[0][1] is None):
            alpha = product.file_index[product.alpha["name"]] if product.alpha is not None else None
            return [(self.path, [product.file_index[n] for n in names], list(range(len(names))), alpha)]
        out = []
        for path, held in self.parts:
            held = list(held) if held is not None else [b["name"] for b in product.bands]
            positions = [i for i, n in enumerate(names) if n in held]
            if positions:
                alpha = held.index(product.alpha["name"]) + 1 if product.alpha and product.alpha["name"] in held \
                    else None
                out.append((path, [held.index(names[i]) + 1 for i in positions], positions, alpha))
        missing = set(range(len(names))) - {i for _, _, positions, _ in out for i in positions}
        if missing:
            raise NotFound(f"Image {self.id!r} has no file holding band(s) "
                           f"{', '.join(repr(names[i]) for i in sorted(missing))}", field="bands",
                           value=[names[i] for i in sorted(missing)])
        return out

    @property
    def acquired(self) -> _dt.datetime | None:
        return self.properties.get("date")


@functools.lru_cache(maxsize=64)
def _transformer(src: str, dst: str):
    return Transformer.from_crs(src, dst, always_xy=True)


def _outline(transform: Any, width: int, height: int, n: int = SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """Densified outline of a pixel grid, in its CRS (the points the catalog's boxes are made of)."""
    return grid_outline(transform, width, height, n)


def grid_polygon(geoctx: GeoContext):
    """The context's pixel grid as a shapely Polygon in its CRS."""
    xs, ys = _outline(geoctx.transform, geoctx.width, geoctx.height, n=1)
    return Polygon(zip(xs, ys))


def footprint(crs: str, transform: Any, width: int, height: int, to_crs: str):
    """An image's footprint as a shapely Polygon in ``to_crs`` (None if it can't be projected there)."""
    xs, ys = _outline(transform, width, height)
    if crs != to_crs:
        xs, ys = _transformer(crs, to_crs).transform(xs, ys)
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        return None
    poly = Polygon(zip(xs, ys))
    return poly if poly.is_valid else poly.buffer(0)


def _readable(row: dict) -> bool:
    """Whether an image row has a raster and the georeferencing a read needs."""
    return bool(row.get("files")) and None not in (row.get("geotrans"), row.get("cs_code"), row.get("x_pixels"))


def _utc(text: str | None) -> _dt.datetime | None:
    """A ``from_id`` date bound as an aware datetime (naive is UTC), or None."""
    if not text:
        return None
    value = _dt.datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=_dt.timezone.utc)


def geocontext_dict(geoctx: GeoContext) -> dict:
    """``geoctx.to_dict()`` plus ``crs``, ``transform`` (a, b, c, d, e, f), ``width``, ``height``."""
    d = dict(geoctx.to_dict())
    t = geoctx.transform
    d.update(crs=geoctx.crs, transform=[t.a, t.b, t.c, t.d, t.e, t.f], width=geoctx.width, height=geoctx.height)
    return d


class CatalogReader(CatalogReads):
    """Catalog reads of one evaluation, with the user's read checks, and the scenes to read.

    What an evaluation may see of the catalog: products, bands and images the user may
    read, and the paths of their rasters (nothing else of the backend or its settings).

    Parameters
    ----------
    store : CatalogStoreLike
        The catalog store read.
    identity : Identity
        The user whose read rights are checked.
    """

    @classmethod
    def for_backend(cls, backend: BackendLike) -> "CatalogReader":
        """A reader of ``backend``'s catalog as its user (the reader keeps neither the backend nor its settings)."""
        return cls(backend.catalog, Identity.of(backend.settings))

    @functools.cached_property
    def image_files(self) -> files.ImageFiles:
        """The catalog's raster files in its object store (GDAL reads them in place)."""
        return files.ImageFiles.of(self.store.settings)

    @property
    def gdal_options(self) -> dict[str, str]:
        """GDAL options of :func:`rasterio_env` for reading this catalog's files."""
        return self.image_files.gdal_options()

    # -- scenes ----------------------------------------------------------------------------
    def _scene(self, row: dict) -> Scene | None:
        if not _readable(row):
            return None
        properties = dict(row.get("extra_properties") or {})
        properties.update(id=row["id"], product=row["product_id"], date=row.get("acquired"), crs=row["cs_code"],
                          geotrans=list(row["geotrans"]))
        parts = tuple((self.image_files.gdal_path(f["href"]), tuple(f["bands"]) if f.get("bands") else None)
                      for f in row["files"])
        return Scene(row["id"], parts[0][0], row["cs_code"], Affine.from_gdal(*row["geotrans"]), row["x_pixels"],
                     row["y_pixels"], properties, parts)

    def scenes(self, product_id: str, start: str | None, end: str | None, limit: int | None,
               geoctx: GeoContext) -> list[Scene]:
        """Images of the product intersecting ``geoctx``, acquired in ``[start, end)``, oldest first.

        Images without a raster are left out; ``limit`` keeps the first ones. The store
        returns the candidates (lon/lat boxes meeting the context's, dates in range, through
        its indexes); only those get the precise footprint test and their file path.
        """
        self.product(product_id)
        lo, hi = _utc(start), _utc(end)
        boxes = lonlat_boxes(geoctx.crs, geoctx.geotrans, geoctx.width, geoctx.height)
        grid = grid_polygon(geoctx)
        found = []
        for row in self.store.find_images(product_id, boxes, lo, hi):
            if not _readable(row):
                continue
            shape = footprint(row["cs_code"], Affine.from_gdal(*row["geotrans"]), row["x_pixels"], row["y_pixels"],
                              geoctx.crs)
            if shape is None or shape.intersection(grid).area <= 0:
                continue
            found.append(self._scene(row))
        far = _dt.datetime.max.replace(tzinfo=_dt.timezone.utc)
        found.sort(key=lambda s: (s.acquired or far, s.id))
        return found[:limit] if limit is not None else found

    def image_scene(self, image_id: str) -> Scene:
        """The one scene of ``Image.from_id`` (read even if it misses the context: then all masked)."""
        scene = self._scene(self.image_row(image_id))
        if scene is None:
            raise NotFound(f"Image {image_id!r} has no raster to read", field="image_id", value=image_id)
        return scene


def read_scene(scene: Scene, product: ProductMeta, names: Sequence[str], geoctx: GeoContext, resampler: str,
               out: np.ndarray, mask: np.ndarray) -> None:
    """Warp bands ``names`` of ``scene`` into the context's grid, into ``out`` and ``mask``.

    Parameters
    ----------
    scene : Scene
    product : ProductMeta
    names : sequence of str
        Product band names to read, in output order.
    geoctx : GeoContext
    resampler : str
        A :data:`~wf_widgets.engine.rules.RESAMPLERS` name.
    out : ndarray
        float64, ``(len(names), height, width)``: scaled values (masked pixels hold junk).
    mask : ndarray
        bool, same shape: True where masked.

    Must run inside :func:`rasterio_env`.
    """
    resampling = Resampling[rules.RESAMPLERS[resampler]]
    sources = scene.sources(product, names)
    for path, indexes, positions, alpha in sources:
        whole = len(sources) == 1
        part_out = out if whole else np.empty((len(positions), geoctx.height, geoctx.width), np.float64)
        part_mask = mask if whole else np.empty(part_out.shape, bool)
        _read_file(path, product, [names[i] for i in positions], indexes, alpha, resampling, geoctx, part_out,
                   part_mask)
        if not whole:
            out[positions] = part_out
            mask[positions] = part_mask
    for i, name in enumerate(names):
        scaling = product.scaling(name)
        if scaling is not None:
            out[i] *= scaling[0]
            out[i] += scaling[1]


def _read_file(path: str, product: ProductMeta, names: Sequence[str], indexes: list[int], alpha: int | None,
               resampling: Resampling, geoctx: GeoContext, out: np.ndarray, mask: np.ndarray) -> None:
    """Warp bands ``indexes`` of the file ``path`` (product bands ``names``) into ``out`` and ``mask`` (unscaled)."""
    nodatas = {product.band(n).get("nodata") for n in names}
    bands = list(range(1, len(names) + 1))
    with rasterio.open(path) as src:
        nodata = nodatas.pop() if len(nodatas) == 1 else None
        if alpha is None and nodata is not None and not _has_internal_mask(src, indexes):
            with grid_dataset(len(names), geoctx.height, geoctx.width, src.dtypes[indexes[0] - 1], geoctx.crs,
                              geoctx.transform) as warped:
                reproject(rasterio.band(src, indexes), rasterio.band(warped, bands), src_nodata=nodata,
                          dst_nodata=nodata, init_dest_nodata=True, resampling=resampling)
                raw = warped.read()
            if isinstance(nodata, float) and math.isnan(nodata):
                np.isnan(raw, out=mask)
            else:
                np.equal(raw, nodata, out=mask)
            out[...] = raw
        else:
            _read_general(src, alpha, indexes, resampling, out, mask, geoctx)


def _has_internal_mask(src: Any, indexes: Iterable[int]) -> bool:
    return any(MaskFlags.per_dataset in src.mask_flag_enums[i - 1] or MaskFlags.alpha in src.mask_flag_enums[i - 1]
               for i in indexes)


def _read_general(src, alpha_index, indexes, resampling, out, mask, geoctx) -> None:
    """Read the covering window with its masks, then warp data and validity."""
    out[...] = 0
    mask[...] = True
    try:
        bounds = transform_bounds(geoctx.crs, src.crs, *_grid_bounds(geoctx), densify_pts=21)
        win = from_bounds(*bounds, transform=src.transform)
    except Exception:  # the context can't be projected into the scene's CRS: nothing to read
        return
    col0, row0 = max(0, math.floor(win.col_off) - 2), max(0, math.floor(win.row_off) - 2)
    col1 = min(src.width, math.ceil(win.col_off + win.width) + 2)
    row1 = min(src.height, math.ceil(win.row_off + win.height) + 2)
    if col1 <= col0 or row1 <= row0:
        return
    window = Window(col0, row0, col1 - col0, row1 - row0)
    data = src.read(indexes, window=window, masked=True)
    valid = ~np.ma.getmaskarray(data)
    if alpha_index is not None:
        alpha = src.read(alpha_index, window=window)
        valid &= (alpha != 0)[np.newaxis]
    src_transform = src.transform @ Affine.translation(col0, row0)
    count, height, width = data.shape
    bands = list(range(1, count + 1))
    grid = (geoctx.height, geoctx.width, np.float64, geoctx.crs, geoctx.transform)
    filled = data.filled(0).astype(np.float64, copy=False)
    with grid_dataset(count, height, width, np.float64, src.crs, src_transform, filled) as window_ds, \
            grid_dataset(count, *grid) as warped:
        reproject(rasterio.band(window_ds, bands), rasterio.band(warped, bands), resampling=resampling)
        warped.read(out=out)
    with grid_dataset(count, height, width, np.uint8, src.crs, src_transform, valid.astype(np.uint8)) as valid_ds, \
            grid_dataset(count, *grid[:2], np.uint8, *grid[3:]) as validity:
        reproject(rasterio.band(valid_ds, bands), rasterio.band(validity, bands), src_nodata=0, dst_nodata=0,
                  init_dest_nodata=True, resampling=_nearest())
        np.equal(validity.read(), 0, out=mask)


def _nearest():
    return Resampling.nearest



def _grid_bounds(geoctx: GeoContext) -> tuple[float, float, float, float]:
    xs, ys = _outline(geoctx.transform, geoctx.width, geoctx.height, n=1)
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def scene_bandinfo(product: ProductMeta, keys: Sequence[str], names: Sequence[str]) -> OrderedDict:
    """``bandinfo`` of a read: output name -> the product band's information (name updated)."""
    info = OrderedDict()
    for key, name in zip(keys, names):
        d = product.bandinfo(key)
        d["name"] = name
        info[name] = d
    return info
