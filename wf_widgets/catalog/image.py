"""Catalog images and their raster files."""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import rasterio
import shapely.geometry
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from .._cards import image_card
from ..errors import NotFound, ValidationError, WfError
from ..geo import AOI, to_shapely
from ..outputs import cog  # imports rasterio now, not first in an upload thread (PROJ data path)
from . import access, files
from ._common import ctime, to_datetime
from ._object import DeletedObjectError, ProductChild, deletes
from .attributes import check_extra_properties
from .store import CatalogStore

_VALID_CRS: set[str] = set()
#: The numpy data types of arrays ``upload_ndarray`` stores (those of :class:`DataType`).
UPLOAD_DTYPES = ("uint8", "int16", "uint16", "int32", "uint32", "float32", "float64")


def _crs_error(text: str) -> str | None:
    """Why ``text`` is not a CRS, or None (valid ones are remembered, errors never are)."""
    if text in _VALID_CRS:
        return None
    try:
        CRS.from_user_input(text)
    except Exception as exc:  # rasterio raises CRSError, pyproj others
        return str(exc)
    _VALID_CRS.add(text)
    return None


def _shared_nodata(bands: Sequence[dict[str, Any]]) -> float | int | None:
    """The nodata value of the product's bands when they all have the same one."""
    values = {repr(b.get("nodata")) for b in bands}
    return bands[0]["nodata"] if bands and len(values) == 1 else None


#: Provenance fields shown in the Image card, with their labels.
PROVENANCE_FIELDS = (("processing:lineage", "lineage"), ("wf:job_id", "job"), ("wf:graph_hash", "graph hash"),
                     ("wf:source_products", "sources"), ("wf:format", "format"),
                     ("processing:software", "software"), ("processing:datetime", "processed"),
                     ("source", "source"))


def provenance_rows(properties: dict[str, Any]) -> list[tuple[str, str]]:
    """Card rows of the provenance fields in ``properties`` (lists joined, dicts as ``key=value``)."""
    rows = []
    for key, label in PROVENANCE_FIELDS:
        value = properties.get(key)
        if value is None or value == []:
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            value = ", ".join(map(str, value))
        rows.append((label, str(value)))
    return rows


class Image(ProductChild):
    """A catalog image: metadata, and a Cloud Optimized GeoTIFF once uploaded.

    Parameters
    ----------
    name : str
        Unique in the product; no ``:``, ``/``, ``\\`` or control characters.
    product_id : str
        The product's id (``"org:name"``).
    acquired : datetime, date or ISO 8601 str, optional
        When the data was acquired (stored as UTC).
    cs_code : str, optional
        Coordinate reference system, e.g. ``"EPSG:32613"``; ``crs=`` is an alias.
    geotrans : sequence of 6 numbers, optional
        GDAL geotransform ``(x_min, x_res, 0, y_max, 0, -y_res)`` (an ``affine.Affine`` works too).
    x_pixels, y_pixels : int, optional
        Size in pixels; set by the uploads.
    extra_properties : dict, optional
        Any JSON-able properties.
    store : CatalogStore, optional
        Default: the current backend's catalog.

    Attributes
    ----------
    id : str
        ``"<product_id>:<name>"``.
    files : list of dict or None
        The stored raster: ``[{"href": "files/<product>/<name>.tif", "size": bytes}]``.
    created, modified : datetime.datetime or None
    state : str
        ``"unsaved"``, ``"saved"`` or ``"modified"``.
    """

    _kind = "image"

    _fields = ("name", "product_id", "acquired", "cs_code", "geotrans", "x_pixels", "y_pixels", "extra_properties",
               "geometry")
    #: Fields stored in the "attrs" JSON column (schema version 3).
    _attrs = ("geometry",)
    _derived = ("created", "modified", "files")
    _defaults = {"extra_properties": {}}
    _aliases = {"crs": "cs_code"}

    # -- identity ----------------------------------------------------------------------
    @property
    def crs(self) -> str | None:
        """Alias of ``cs_code``."""
        return self.cs_code

    @crs.setter
    def crs(self, value: Any) -> None:
        self.cs_code = value

    # -- field checks ------------------------------------------------------------------
    def _check_acquired(self, value: Any):
        return to_datetime(value, "acquired")

    def _check_cs_code(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = f"EPSG:{value}"
        elif not isinstance(value, str):
            value = value.to_string() if hasattr(value, "to_string") else str(value)
        error = _crs_error(value)
        if error is not None:
            raise ValidationError(f"cs_code is not a coordinate reference system: {value!r} ({error})",
                                  field="cs_code", value=value)
        return value

    def _check_geotrans(self, value: Any) -> tuple[float, ...] | None:
        if value is None:
            return None
        if hasattr(value, "to_gdal"):
            value = value.to_gdal()
        try:
            numbers = tuple(float(v) for v in value)
        except (TypeError, ValueError, OverflowError):
            numbers = ()
        if len(numbers) != 6 or numbers[1] == 0 or numbers[5] == 0 or not all(map(math.isfinite, numbers)):
            raise ValidationError(
                "geotrans must be 6 finite numbers (x_min, x_res, 0, y_max, 0, -y_res) with non-zero pixel sizes, "
                f"got {value!r}",
                field="geotrans", value=value,
            )
        return numbers

    def _check_x_pixels(self, value: Any) -> int | None:
        return self._pixels(value, "x_pixels")

    def _check_y_pixels(self, value: Any) -> int | None:
        return self._pixels(value, "y_pixels")

    @staticmethod
    def _pixels(value: Any, field: str) -> int | None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise ValidationError(f"{field} must be a positive integer, got {value!r}", field=field, value=value)
        return None if value is None else int(value)

    def _check_extra_properties(self, value: Any) -> dict[str, Any]:
        return self._tracked("extra_properties", check_extra_properties(value), check_extra_properties)

    def _check_geometry(self, value: Any) -> BaseGeometry | None:
        if value is None:
            return None
        try:
            return to_shapely(value, field="geometry")
        except (ValueError, TypeError) as exc:
            raise ValidationError(f"geometry must be a GeoJSON geometry or a shapely geometry in lon/lat: {exc}",
                                  field="geometry", value=value) from None

    def _row(self) -> dict[str, Any]:
        row = {name: self._values[name] for name in self._fields if name not in self._attrs}
        geometry = self._values["geometry"]
        row.update(id=self.id, files=self._values["files"],
                   attrs={"geometry": None if geometry is None else shapely.geometry.mapping(geometry)})
        return row

    def _apply_row(self, row: dict[str, Any], store: CatalogStore) -> None:
        if "attrs" in row:  # a store row: the attrs column holds the fields without a column
            row = {**{k: v for k, v in row.items() if k != "attrs"}, **(row["attrs"] or {})}
        super()._apply_row(row, store)

    # -- writing ---------------------------------------------------------------------
    def _writable_product(self, store: CatalogStore, action: str) -> dict[str, Any]:
        if self.name is None or self.product_id is None:
            raise ValidationError("An image needs a name and a product_id", field="name", value=self.name)
        if not self._saved:
            self._namespace(store)
        product = store.get_product(self.product_id)
        if product is None:
            raise NotFound(f"Product {self.product_id!r} does not exist; create and save it first",
                           field="product_id", value=self.product_id)
        access.require(store.settings, product, "write", f"{action} image {self.name!r} in")
        return product

    def save(self) -> "Image":
        """Store the image's metadata (writers and owners of the product).

        Raises
        ------
        ValidationError
            If a new image's name is taken in the product.
        NotFound, PermissionDenied
            If the product does not exist, or the user may not write to it.
        """
        self._check_not_deleted("be saved")
        store = self._catalog()
        with store.transaction():
            self._writable_product(store, "save")
            existing = store.get_image(self.id)
            if not self._saved:
                if existing is not None:
                    raise ValidationError(
                        f"Image {self.id!r} already exists; use Image.get({self.id!r}) to change it",
                        field="name", value=self.name,
                    )
                stored = store.insert_image(self._row())
            else:
                if existing is None:
                    self._mark_deleted()
                    raise DeletedObjectError(f"Image {self.id!r} was deleted", field="id", value=self.id)
                stored = store.update_image(self._row())
        self._apply_row(stored, store)
        return self

    @deletes
    def delete(self) -> None:
        """Delete the image and its file (writers and owners of the product); ``Image.delete(id)`` the image ``id``.

        Raises
        ------
        UnsavedObjectError, DeletedObjectError
            If the image was never saved, or was deleted.
        """
        self._require_saved("be deleted")
        store = self._catalog()
        with store.transaction() as txn:
            self._writable_product(store, "delete")
            row = store.get_image(self.id)
            if row is None:
                self._mark_deleted()
                raise DeletedObjectError(f"Image {self.id!r} does not exist", field="id", value=self.id)
            store.delete_image(self.id)
            image_files = files.ImageFiles.of(store.settings)
            for item in row.get("files") or ():
                image_files.take_out(txn, item["href"])
        self._mark_deleted()

    def _check_upload(self, store: CatalogStore, overwrite: bool, bands: int,
                      check_bands: bool = True) -> list[dict[str, Any]]:
        """Everything an upload needs, checked before anything is written; returns the product's bands."""
        self._writable_product(store, "upload")
        if not overwrite and store.get_image(self.id) is not None:
            raise ValidationError(
                f"Image {self.id!r} already exists; pass overwrite=True to replace it",
                field="overwrite", value=False,
            )
        product_bands = store.list_bands(self.product_id)
        if check_bands and product_bands and len(product_bands) != bands:
            names = ", ".join(b["name"] for b in product_bands)
            raise ValidationError(
                f"The array has {bands} band(s) but product {self.product_id!r} has {len(product_bands)} ({names})",
                field="ndarray", value=bands,
            )
        return product_bands

    def upload_ndarray(
        self,
        ndarray: np.ndarray,
        overviews: bool | None = None,
        overview_resampler: str | None = None,
        overwrite: bool = False,
        *,
        compression: str | None = None,
    ) -> "Image":
        """Store an array as this image's raster (a Cloud Optimized GeoTIFF) and save the image.

        ``geotrans`` and ``cs_code`` (or ``crs``) must be set. The file is written to a
        temporary name first, then moved into place in the same database transaction that
        stores the record: a failure leaves neither a record nor a file.

        Parameters
        ----------
        ndarray : numpy.ndarray or numpy.ma.MaskedArray
            Shape ``(bands, y, x)`` or ``(y, x)``, of a data type in :data:`UPLOAD_DTYPES`; as
            many bands as the product has (if it has any), in the product's band order. Masked
            pixels become the bands' nodata value when all bands share one, else an internal mask.
        overviews : bool, optional
            Build overviews (default: the geotiff format's default, True).
        overview_resampler : str, optional
            ``nearest`` (default), ``average``, ``bilinear``, ``cubic`` or ``mode``.
        overwrite : bool
            Replace an existing image of the same name.
        compression : str, optional
            ``lzw`` (default), ``deflate``, ``zstd``, ``jpeg`` (uint8 only) or ``none``.

        Unlike the original client, ``overviews`` is a bool, not a list of factors: the
        factors are always 2, 4, 8, ... until the smallest overview fits in one 512 px tile.

        Returns
        -------
        Image
            This image, saved, with ``x_pixels``, ``y_pixels`` and ``files`` set.

        Raises
        ------
        ValidationError
            Missing georeferencing, wrong band count, bad options, or an existing image
            without ``overwrite=True``.
        NotFound, PermissionDenied
            If the product does not exist, or the user may not write to it.
        """
        arr = np.ma.asanyarray(ndarray)
        if arr.ndim == 2:
            arr = arr[np.newaxis]
        if arr.ndim != 3 or 0 in arr.shape:
            raise ValidationError(f"ndarray must have shape (bands, y, x) or (y, x), got {arr.shape}",
                                  field="ndarray", value=arr.shape)
        if arr.dtype.name not in UPLOAD_DTYPES:
            raise ValidationError(f"ndarray has the data type {arr.dtype.name}, which the catalog doesn't store; "
                                  f"convert it to one of {', '.join(UPLOAD_DTYPES)} (ndarray.astype(...))",
                                  field="ndarray.dtype", value=arr.dtype.name, allowed=UPLOAD_DTYPES)
        missing = [f for f in ("geotrans", "cs_code") if getattr(self, f) is None]
        if missing:
            raise ValidationError(
                f"Set {' and '.join(missing)} on the image before uploading (geotrans is GDAL order "
                "(x_min, x_res, 0, y_max, 0, -y_res); cs_code like 'EPSG:32613', or crs=)",
                field=missing[0], value=None,
            )
        given = {"overviews": overviews, "overview_resampler": overview_resampler, "compression": compression}
        return self._store_raster(
            arr, cs_code=self.cs_code, geotrans=self.geotrans, nodata=None, band_names=None, overwrite=overwrite,
            write_options={k: v for k, v in given.items() if v is not None},
        )

    def upload(self, path: str | os.PathLike, overwrite: bool = False) -> "Image":
        """Store an existing GeoTIFF (rewritten as a COG) as this image's raster and save the image.

        The CRS, geotransform, size, nodata, mask and band descriptions come from the file.

        Parameters
        ----------
        path : str or os.PathLike
            The GeoTIFF.
        overwrite : bool
            Replace an existing image of the same name.

        Returns
        -------
        Image
            This image, saved.
        """
        info = cog.read_info(path)
        if info.crs is None:
            raise ValidationError(f"{os.fspath(path)!r} has no CRS", field="path", value=os.fspath(path))
        self._check_upload(self._catalog(), overwrite, info.count)  # before reading the pixels
        raster = cog.read_cog(path)
        names = list(raster.descriptions) if all(raster.descriptions) else None
        return self._store_raster(
            raster.array, cs_code=raster.crs, geotrans=raster.transform.to_gdal(), nodata=raster.nodata,
            band_names=names, overwrite=overwrite, write_options={},
        )

    def _store_raster(self, arr, *, cs_code, geotrans, nodata, band_names, overwrite, write_options) -> "Image":
        store = self._catalog()
        product_bands = self._check_upload(store, overwrite, arr.shape[0])
        if product_bands:
            band_names = [b["name"] for b in product_bands]
            if nodata is None:
                nodata = _shared_nodata(product_bands)
        row = {**self._row(), "cs_code": self._check_cs_code(cs_code), "geotrans": self._check_geotrans(geotrans),
               "x_pixels": arr.shape[2], "y_pixels": arr.shape[1]}
        profile = cog.CogProfile(crs=row["cs_code"], transform=Affine.from_gdal(*row["geotrans"]), nodata=nodata,
                                 band_names=band_names, **write_options)
        image_files = files.ImageFiles.of(store.settings)
        if image_files.root is None:
            stored = self._publish_object(store, image_files, arr, row, profile, overwrite)
        else:
            href = files.image_href(self.product_id, self.name)
            final = image_files.path(href)
            temp = files.temp_path(final)
            try:
                cog.write_cog(temp, arr, profile)
                files.fsync(temp)
                row["files"] = [{"href": href, "size": temp.stat().st_size}]
                with store.transaction() as txn:
                    self._check_upload(store, overwrite, arr.shape[0])  # again, under the write lock
                    files.swap_in(txn, temp, final)
                    stored = store.insert_image(row, replace=overwrite)
            finally:
                files.remove(temp)  # gone already unless something failed
        self._apply_row(stored, store)
        return self

    def _publish_object(self, store: CatalogStore, image_files: files.ImageFiles, arr, row: dict[str, Any],
                        profile: Any, overwrite: bool) -> dict[str, Any]:
        """Upload to an object store (see :mod:`~wf_widgets.catalog.files`): the object first, under a key
        of its own, then the record; the replaced image's objects go when it commits. Returns the stored row."""
        href = files.unique_href(self.product_id, self.name)
        key = image_files.key(href)
        fd, name = tempfile.mkstemp(prefix="wf-widgets-upload-", suffix=files.SUFFIX)
        os.close(fd)
        temp = Path(name)
        published = False
        try:
            cog.write_cog(temp, arr, profile)
            row["files"] = [{"href": href, "size": temp.stat().st_size}]
            image_files.storage.put_file(key, temp)  # streamed from disk; atomic for readers
            with store.transaction() as txn:
                self._check_upload(store, overwrite, arr.shape[0])  # again, under the write lock
                old = store.get_image(self.id)
                stored = store.insert_image(row, replace=overwrite)
                for item in (old or {}).get("files") or ():
                    if item["href"] != href:
                        image_files.take_out(txn, item["href"])
            published = True
        finally:
            files.remove(temp)
            if not published:
                image_files.storage.delete(key)
        return stored

    def reference(self, parts: Sequence[dict[str, Any]], overwrite: bool = False) -> "Image":
        """Point this image at raster files read where they are (not copied), and save it.

        ``geotrans``, ``cs_code``, ``x_pixels`` and ``y_pixels`` must be set (the image's grid:
        its footprint; each file is read on its own grid). The catalog never deletes these
        files: deleting the image or its product only forgets them.

        Parameters
        ----------
        parts : sequence of dict
            One ``{"href": ..., "bands": [...]}`` per file: ``href`` an absolute local path, an
            ``http(s)://`` or an ``s3://`` URL; ``bands`` (optional with a single file) the
            product band names the file holds, in its band order. Extra keys (``"size"``) are kept.
        overwrite : bool
            Replace an existing image of the same name.

        Returns
        -------
        Image
            This image, saved.

        Raises
        ------
        ValidationError
            Missing georeferencing, an href that is not absolute, unknown band names, bands no
            file holds, or an existing image without ``overwrite=True``.
        """
        missing = [f for f in ("geotrans", "cs_code", "x_pixels", "y_pixels") if getattr(self, f) is None]
        if missing:
            raise ValidationError(f"Set {', '.join(missing)} on the image before referencing files",
                                  field=missing[0], value=None)
        items = [dict(part) for part in parts]
        if not items:
            raise ValidationError("reference() needs at least one file", field="parts", value=parts)
        for item in items:
            href = item.get("href")
            if not isinstance(href, str) or not (files.is_remote(href) or href.startswith("file://")
                                                 or os.path.isabs(href)):
                raise ValidationError(f"A referenced file's href must be an absolute path or an http(s):// or "
                                      f"s3:// URL, got {href!r}", field="parts.href", value=href)
            if item.get("bands") is not None:
                item["bands"] = [str(b) for b in item["bands"]]
        store = self._catalog()
        with store.transaction() as txn:
            self._check_upload(store, overwrite, 0, check_bands=False)
            names = [b["name"] for b in store.list_bands(self.product_id)]
            held = [b for item in items for b in (item.get("bands") or names)]
            unknown = [b for b in held if b not in names]
            absent = [b for b in names if b not in held]
            if unknown or absent:
                raise ValidationError(
                    f"The files of image {self.id!r} must hold the bands of product {self.product_id!r} "
                    f"({', '.join(names) or 'none yet: add bands first'})"
                    + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                    + (f"; missing: {', '.join(absent)}" if absent else ""),
                    field="parts.bands", value=held, allowed=names,
                )
            old = store.get_image(self.id)
            stored = store.insert_image({**self._row(), "files": items}, replace=overwrite)
            image_files = files.ImageFiles.of(store.settings)
            hrefs = {item["href"] for item in items}
            for item in (old or {}).get("files") or ():
                if item["href"] not in hrefs:
                    image_files.take_out(txn, item["href"])
        self._apply_row(stored, store)
        return self

    @property
    def referenced(self) -> bool:
        """Whether the image's raster is read in place from files the catalog does not own."""
        return bool(self.files) and any(files.is_referenced(f["href"]) for f in self.files)

    # -- reading ---------------------------------------------------------------------
    @property
    def file_path(self) -> Path | None:
        """Absolute path of the stored raster on a ``file://`` store, or None (before an upload, or on S3)."""
        if not self.files:
            return None
        return files.ImageFiles.of(self._catalog().settings).path(self.files[0]["href"])

    @property
    def file_location(self) -> str | None:
        """What GDAL opens to read the stored raster in place (a path, or ``/vsis3/...``), or None before an upload."""
        if not self.files:
            return None
        return files.ImageFiles.of(self._catalog().settings).gdal_path(self.files[0]["href"])

    def ndarray(self, max_size: int | None = None) -> np.ma.MaskedArray:
        """The stored raster as a masked array ``(bands, y, x)``.

        Parameters
        ----------
        max_size : int, optional
            Read a decimated copy (from the overviews) whose larger side is at most this.

        Raises
        ------
        PermissionDenied
            If the current user may not read the product.
        NotFound
            If the image has no raster.
        """
        store = self._catalog()
        product = store.get_product(self.product_id)
        if product is None:
            raise NotFound(f"Product {self.product_id!r} does not exist", field="product_id", value=self.product_id)
        access.require(store.settings, product, "read", f"read image {self.name!r} of")
        image_files = files.ImageFiles.of(store.settings)
        if not self.files or not image_files.exists(self.files[0]["href"]):
            raise NotFound(f"Image {self.id!r} has no raster; upload one first", field="id", value=self.id)
        with cog.gdal_env(image_files.gdal_options()):  # range reads of the object, in place
            if len(self.files) == 1 and not self.files[0].get("bands"):
                return cog.read_cog(image_files.gdal_path(self.files[0]["href"]), max_size=max_size).array
            return self._read_parts(image_files, [b["name"] for b in store.list_bands(self.product_id)], max_size)

    def _read_parts(self, image_files: files.ImageFiles, names: list[str], max_size: int | None) -> np.ma.MaskedArray:
        """An image of several files (one per band, each on its own grid), warped onto the image's grid."""
        width, height = self.x_pixels, self.y_pixels
        transform = Affine.from_gdal(*self.geotrans)
        if max_size is not None and max(width, height) > max_size:
            factor = max(width, height) / max_size
            new_w, new_h = max(1, round(width / factor)), max(1, round(height / factor))
            transform = transform @ Affine.scale(width / new_w, height / new_h)
            width, height = new_w, new_h
        layers: dict[str, np.ma.MaskedArray] = {}
        for part in self.files:
            held = part.get("bands") or names
            with rasterio.open(image_files.gdal_path(part["href"])) as src, \
                    WarpedVRT(src, crs=self.cs_code, transform=transform, width=width, height=height,
                              resampling=Resampling.nearest) as vrt:
                data = vrt.read(masked=True)
            for i, name in enumerate(held[: data.shape[0]]):
                layers[name] = data[i]
        dtype = np.result_type(*(layer.dtype for layer in layers.values()))
        return np.ma.stack([layers[n].astype(dtype) for n in names if n in layers])

    read = ndarray

    @property
    def geometry(self) -> BaseGeometry | None:
        """Footprint as a shapely geometry in lon/lat (EPSG:4326), or None.

        The geometry set (``image.geometry = geojson_or_shapely``, or ``geometry=``), else the
        outline of the image's grid (16 points a side), else None without georeferencing.
        """
        if self._values.get("geometry") is not None:
            return self._values["geometry"]
        if None in (self.geotrans, self.cs_code, self.x_pixels, self.y_pixels):
            return None
        x0, a, b, y0, d, e = self.geotrans
        steps = np.linspace(0.0, 1.0, 17)[:-1]
        w, h = self.x_pixels, self.y_pixels
        cols = np.concatenate([steps * w, np.full(16, w), (1 - steps) * w, np.zeros(16)])
        rows = np.concatenate([np.zeros(16), steps * h, np.full(16, h), (1 - steps) * h])
        xs, ys = x0 + a * cols + b * rows, y0 + d * cols + e * rows
        to_lonlat = Transformer.from_crs(self.cs_code, "EPSG:4326", always_xy=True)
        lons, lats = to_lonlat.transform(xs, ys)
        return Polygon(zip(lons, lats))

    @property
    def __geo_interface__(self) -> dict[str, Any]:
        """The :attr:`geometry` as GeoJSON.

        Raises
        ------
        AttributeError
            Without a geometry.
        """
        geometry = self.geometry
        if geometry is None:
            raise AttributeError(f"Image {self.id!r} has no geometry (set geometry, or geotrans, cs_code and size)")
        return shapely.geometry.mapping(geometry)

    def coverage(self, geom: Any) -> float:
        """The fraction of the area of ``geom`` (GeoJSON or shapely, lon/lat) that the image's geometry covers.

        Raises
        ------
        ValidationError
            A bad ``geom``, or an image without a geometry.
        """
        shape = to_shapely(geom, field="geom")
        if self.geometry is None:
            raise ValidationError(f"Image {self.id!r} has no geometry to compare with", field="geometry", value=None)
        return shape.intersection(self.geometry).area / shape.area

    @property
    def geocontext(self) -> AOI:
        """An AOI of the image's own grid: its CRS, bounds and resolution (its original pixels).

        A grid rotated within its CRS gives a north-up AOI around it (with a warning: the
        pixels are resampled); non-square pixels give the AOI the image's shape instead of a
        resolution.

        Raises
        ------
        ValidationError
            Without ``cs_code``, ``geotrans``, ``x_pixels`` and ``y_pixels``.
        """
        missing = [f for f in ("cs_code", "geotrans", "x_pixels", "y_pixels") if getattr(self, f) is None]
        if missing:
            raise ValidationError(f"Image {self.id!r} needs {', '.join(missing)} for a geocontext of its grid",
                                  field=missing[0], value=None)
        transform = Affine.from_gdal(*self.geotrans)
        if not transform.is_rectilinear:
            warnings.warn(f"Image {self.id!r} is rotated in its CRS: its geocontext is north-up, so the pixels read "
                          "through it are resampled, not the image's original data", UserWarning, stacklevel=2)
        corners = [transform @ c for c in ((0, 0), (self.x_pixels, 0), (0, self.y_pixels),
                                           (self.x_pixels, self.y_pixels))]
        xs, ys = zip(*corners)
        bounds = (min(xs), min(ys), max(xs), max(ys))
        sx, sy = transform._scaling
        if math.isclose(sx, sy, rel_tol=1e-9):
            return AOI(bounds=bounds, bounds_crs=self.cs_code, crs=self.cs_code, resolution=sx)
        return AOI(bounds=bounds, bounds_crs=self.cs_code, crs=self.cs_code, shape=(self.y_pixels, self.x_pixels))

    # -- display ---------------------------------------------------------------------
    def __repr__(self) -> str:
        lines = [f"Image: {self.name}", f"  id: {self.id}", f"  product: {self.product_id}"]
        if self.created is not None:
            lines.append(f"  created: {ctime(self.created)}")
        return "\n".join(lines + self._status_line())

    def _repr_html_(self) -> str:
        rows = [("id", self.id or ""), ("product", self.product_id or "")]
        if self.acquired is not None:
            rows.append(("acquired", self.acquired.isoformat()))
        if self.x_pixels is not None:
            rows.append(("size", f"{self.x_pixels} x {self.y_pixels} px"))
        if self.cs_code:
            rows.append(("crs", self.cs_code))
        rows.append(("created", ctime(self.created)))
        rows += provenance_rows(self.extra_properties or {})
        if self.referenced:
            rows.append(("files", ", ".join(f["href"] for f in self.files) + " (read in place)"))
        thumbnail = None
        if self._saved and self.files:
            try:
                thumbnail = self.ndarray(max_size=256)
            except (WfError, PermissionError, OSError, ValueError):
                thumbnail = None  # no rights or no file: a card without a picture
        return image_card(f"Image: {self.name}", rows, thumbnail)
