"""Import raster files into a catalog product (``Product.import_files``, ``wf-widgets catalog import``).

Each file becomes one image, named after the file (its name without ``.tif``/``.tiff``), so
an import run twice finds its images again: an image whose record would not change is left
as it is (``unchanged``), one whose file changed is replaced (``updated``).

* **Bands** come from the first file that opens, when the product has none yet: one
  :class:`~wf_widgets.catalog.GenericBand` per band, named after the band descriptions when
  every band has a distinct valid one (else ``band_1``, ``band_2``, ...), with the file's data
  type, nodata and description; a scale/offset other than 1/0 becomes a ``physical_range``
  (reads apply ``value * scale + offset``). Later files must have as many bands, of the same
  data types.
* **acquired**: by default the ``TIFFTAG_DATETIME`` tag (none: no date); ``"tag"`` requires it;
  a file name pattern (``"S1_{date:%Y%m%d}_*.tif"``: ``*`` and ``?`` as in globs, each
  ``{name:format}`` a :func:`~datetime.datetime.strptime` format); a dict (file path, file
  name or image name -> date); a callable (path -> date); or one date for every file.
* **In place or copied**: a Cloud Optimized GeoTIFF (:func:`is_cloud_optimized`) is
  referenced where it is (a local path, an ``http(s)://`` or ``s3://`` URL read through GDAL's
  ``/vsicurl/`` and ``/vsis3/``); other files, and every file with ``copy=True``, are rewritten
  as COGs into the catalog's storage (:meth:`~wf_widgets.catalog.Image.upload`). The catalog
  never deletes a file it references in place.
* **Errors** are per file: a file that can't be imported is reported by name in the summary
  and the others go on, unless ``on_error="raise"``.

Every imported image records where it came from in its ``extra_properties`` (``source``, and
the STAC ``processing:*`` fields; see docs/catalog.md).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import glob
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, TextIO

import rasterio

from .._version import __version__
from ..errors import ValidationError, WfError
from ..outputs import cog
from ._common import check_name, default_store, to_datetime
from .bands import GenericBand
from .datatypes import DataType
from .files import ImageFiles, is_remote, referenced_gdal_path
from .image import Image
from .store import CatalogStore

#: Suffixes of the files a folder import picks up (any case).
SUFFIXES = (".tif", ".tiff")
#: What ``on_error`` takes.
ON_ERROR = ("continue", "raise")
#: Block size at or under which an untiled image still counts as cloud optimized (one tile).
_ONE_TILE = 512
#: The ``processing:software`` entry of what wf_widgets makes.
SOFTWARE = {"wf-widgets": __version__}

_STRPTIME = {"Y": r"\d{4}", "m": r"\d{1,2}", "d": r"\d{1,2}", "H": r"\d{1,2}", "M": r"\d{1,2}", "S": r"\d{1,2}",
             "y": r"\d{2}", "j": r"\d{1,3}", "f": r"\d{1,6}", "b": r"[A-Za-z]{3}", "B": r"[A-Za-z]+",
             "z": r"[+-]\d{4}", "%": "%"}


@dataclasses.dataclass
class ImportSummary:
    """What an import did.

    Attributes
    ----------
    product_id : str
    added, updated, unchanged : list of str
        Image ids.
    referenced, converted : list of str
        Image ids of the added or updated images, by how they are stored (in place, or
        rewritten as a COG in the catalog's storage).
    failed : dict
        File (as given) -> why it was not imported.
    """

    product_id: str
    added: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)
    unchanged: list[str] = dataclasses.field(default_factory=list)
    referenced: list[str] = dataclasses.field(default_factory=list)
    converted: list[str] = dataclasses.field(default_factory=list)
    failed: dict[str, str] = dataclasses.field(default_factory=dict)
    #: What was imported, as the summary names it ("file" or "STAC item").
    kind: str = "file"

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return not self.failed

    @property
    def images(self) -> list[str]:
        """Every image id the import added, updated or found unchanged."""
        return self.added + self.updated + self.unchanged

    def __str__(self) -> str:
        total = len(self.images) + len(self.failed)
        lines = [f"{total} {self.kind}(s) into {self.product_id}: {len(self.added)} added, {len(self.updated)} updated, "
                 f"{len(self.unchanged)} unchanged, {len(self.failed)} failed "
                 f"({len(self.referenced)} referenced in place, {len(self.converted)} converted to COG)"]
        lines += [f"  failed: {name}: {why}" for name, why in self.failed.items()]
        return "\n".join(lines)

    __repr__ = __str__


class Progress:
    """A one-line text progress bar (``[#####     ] 3/6 name``) on ``stream``; silent when ``enabled`` is False."""

    WIDTH = 20

    def __init__(self, total: int, enabled: bool = True, stream: TextIO | None = None, label: str = "importing"):
        self.total, self.enabled, self.label = total, enabled and total > 0, label
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0

    def step(self, name: str) -> None:
        """One more item done (``name``: the item's name, shown)."""
        self.done += 1
        if self.enabled:
            bar = "#" * int(self.WIDTH * self.done / self.total)
            self.stream.write(f"\r{self.label} [{bar:<{self.WIDTH}}] {self.done}/{self.total} {name[-40:]:<40}")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()

    def summary(self, summary: ImportSummary) -> None:
        """Write ``summary`` after the bar."""
        if self.enabled:
            self.stream.write(f"{summary}\n")
            self.stream.flush()


# -- files ---------------------------------------------------------------------------------------
def expand_paths(paths_or_glob: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    """The files named by ``paths_or_glob``: paths, URLs, glob patterns and folders (their ``*.tif`` files).

    Raises
    ------
    ValidationError
        A glob pattern that matches nothing, a folder without GeoTIFFs, or nothing at all.
    """
    items = [paths_or_glob] if isinstance(paths_or_glob, (str, os.PathLike)) else list(paths_or_glob)
    out: list[str] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise ValidationError(f"paths must be paths, URLs or glob patterns, got {item!r}", field="paths",
                                  value=item)
        text = os.fspath(item)
        if is_remote(text):
            out.append(text)
        elif glob.has_magic(text):
            found = sorted(p for p in glob.glob(os.path.expanduser(text), recursive=True) if os.path.isfile(p))
            if not found:
                raise ValidationError(f"No file matches {text!r}", field="paths", value=text)
            out += found
        elif os.path.isdir(text):
            found = sorted(str(p) for p in Path(text).iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not found:
                raise ValidationError(f"Folder {text!r} holds no GeoTIFF ({', '.join(SUFFIXES)})", field="paths",
                                      value=text)
            out += found
        else:
            out.append(text)
    if not out:
        raise ValidationError("No file to import", field="paths", value=paths_or_glob)
    return list(dict.fromkeys(out))


def file_name(href: str) -> str:
    """The last part of a path or URL (query and fragment left out)."""
    return href.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def image_name(href: str) -> str:
    """The image name of a file: its name without a ``.tif``/``.tiff`` suffix."""
    name = file_name(href)
    stem, dot, suffix = name.rpartition(".")
    return stem if dot and f".{suffix.lower()}" in SUFFIXES else name


def normal_href(text: str) -> str:
    """How the catalog names a file read in place: a URL as given, a local path absolute."""
    return text if is_remote(text) else str(Path(referenced_gdal_path(text)).expanduser().resolve())


def is_cloud_optimized(ds: Any) -> bool:
    """Whether an open GeoTIFF is good to read in place: GDAL says ``LAYOUT=COG``, or it is tiled
    with overviews (or fits in one tile)."""
    if ds.driver != "GTiff":
        return False
    if ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT", "").upper() == "COG":
        return True
    block_h, block_w = ds.block_shapes[0]
    tiled = block_w < ds.width or (block_h == block_w and block_h > 1)
    return tiled and (bool(ds.overviews(1)) or max(ds.width, ds.height) <= _ONE_TILE)


@dataclasses.dataclass(frozen=True)
class FileInfo:
    """What an import reads of a raster file's header."""

    href: str
    count: int
    width: int
    height: int
    crs: str | None
    geotrans: tuple[float, ...]
    dtypes: tuple[str, ...]
    nodata: float | None
    descriptions: tuple[str | None, ...]
    scales: tuple[float, ...]
    offsets: tuple[float, ...]
    tags: dict
    cloud_optimized: bool
    size: int | None
    mtime: float | None


def read_file_info(href: str) -> FileInfo:
    """The header of the raster at ``href`` (a path or URL), without its pixels."""
    with rasterio.open(referenced_gdal_path(href)) as ds:
        stat = None if is_remote(href) else os.stat(referenced_gdal_path(href))
        return FileInfo(
            href=href, count=ds.count, width=ds.width, height=ds.height,
            crs=ds.crs.to_string() if ds.crs else None, geotrans=tuple(ds.transform.to_gdal()),
            dtypes=tuple(ds.dtypes), nodata=ds.nodata, descriptions=tuple(ds.descriptions),
            scales=tuple(ds.scales), offsets=tuple(ds.offsets), tags=ds.tags(),
            cloud_optimized=is_cloud_optimized(ds), size=stat.st_size if stat else None,
            mtime=stat.st_mtime if stat else None,
        )


# -- bands -----------------------------------------------------------------------------------
def band_names(descriptions: Sequence[str | None], count: int, prefix: str = "band") -> list[str]:
    """Band names from descriptions when each band has a distinct valid one, else ``band_1``, ``band_2``, ..."""
    names = [d.strip() if isinstance(d, str) else "" for d in descriptions]
    try:
        if len(names) == count and len(set(names)) == count and all(check_name(n) for n in names):
            return names
    except ValidationError:
        pass
    return [f"{prefix}_{i + 1}" for i in range(count)]


def scaled_ranges(data_type: DataType, scale: float | None, offset: float | None) -> dict[str, Any]:
    """``data_range`` and ``physical_range`` that make reads apply ``value * scale + offset`` (none for 1/0).

    Integer types map their whole range; float types map (0, 1), whose ends stay exact.
    """
    scale = 1.0 if scale is None else float(scale)
    offset = 0.0 if offset is None else float(offset)
    if (scale, offset) == (1.0, 0.0) or scale == 0:
        return {}
    lo, hi = data_type.range if data_type.dtype.kind in "ui" else (0.0, 1.0)
    ends = sorted((lo * scale + offset, hi * scale + offset))
    if scale < 0:  # a physical range is low to high: a negative scale can't be stated with ranges
        raise ValidationError(f"A negative scale ({scale}) is not supported", field="scale", value=scale)
    return {"data_range": (lo, hi), "physical_range": tuple(ends)}


def create_bands(store: CatalogStore, product_id: str, specs: Sequence[Mapping[str, Any]]) -> None:
    """Save one band per spec (GenericBand, or the spec's ``cls``) in order, as band_index 0, 1, ..."""
    for index, spec in enumerate(specs):
        spec = dict(spec)
        cls = spec.pop("cls", GenericBand)
        cls(product_id=product_id, band_index=index, store=store, **spec).save()


def file_band_specs(info: FileInfo) -> list[dict[str, Any]]:
    """Band specs (:func:`create_bands`) of a file's bands."""
    names = band_names(info.descriptions, info.count)
    specs = []
    for i, name in enumerate(names):
        data_type = DataType.coerce(info.dtypes[i], "data_type")
        nodata = info.nodata
        if nodata is not None and data_type.dtype.kind in "ui" and float(nodata).is_integer():
            nodata = int(nodata)
        spec: dict[str, Any] = {"name": name, "data_type": data_type, "nodata": nodata,
                                "description": info.descriptions[i] or None,
                                "resolution": abs(info.geotrans[1])}
        spec.update(scaled_ranges(data_type, info.scales[i], info.offsets[i]))
        specs.append(spec)
    return specs


# -- acquired ---------------------------------------------------------------------------------
def _pattern_regex(pattern: str) -> tuple[re.Pattern, list[str]]:
    """A regex of a file name pattern and the strptime formats of its ``{name:format}`` fields, in order."""
    out, formats, pos = [], [], 0
    for m in re.finditer(r"\{(\w*)(?::([^}]*))?\}|\*|\?", pattern):
        out.append(re.escape(pattern[pos:m.start()]))
        pos = m.end()
        if m.group(0) == "*":
            out.append(".*")
        elif m.group(0) == "?":
            out.append(".")
        else:
            fmt = m.group(2) or "%Y-%m-%d"
            parts = re.split(r"(%.)", fmt)
            out.append("(" + "".join(_STRPTIME.get(p[1], ".+?") if p.startswith("%") else re.escape(p)
                                     for p in parts) + ")")
            formats.append(fmt)
    out.append(re.escape(pattern[pos:]))
    if not formats:
        raise ValidationError(f"acquired pattern {pattern!r} has no date field like {{date:%Y%m%d}}",
                              field="acquired", value=pattern)
    return re.compile("".join(out) + r"\Z"), formats


def acquired_resolver(acquired: Any) -> Callable[[str, FileInfo], _dt.datetime | None]:
    """A function ``(href, info) -> acquired`` for the ``acquired`` argument of an import (see the module doc).

    Raises
    ------
    ValidationError
        An ``acquired`` of another kind, or a pattern without a date field.
    """
    if acquired is None or acquired == "tag":
        required = acquired == "tag"

        def from_tag(href: str, info: FileInfo) -> _dt.datetime | None:
            text = info.tags.get("TIFFTAG_DATETIME")
            if not text:
                if required:
                    raise ValidationError("the file has no TIFFTAG_DATETIME tag", field="acquired", value="tag")
                return None
            try:
                return _dt.datetime.strptime(text.strip(), "%Y:%m:%d %H:%M:%S").replace(tzinfo=_dt.timezone.utc)
            except ValueError:
                return to_datetime(text.strip(), "TIFFTAG_DATETIME")
        return from_tag
    if isinstance(acquired, str) and ("{" in acquired or glob.has_magic(acquired)):
        regex, formats = _pattern_regex(acquired)

        def from_name(href: str, info: FileInfo) -> _dt.datetime:
            name = file_name(href)
            m = regex.match(name)
            if m is None:
                raise ValidationError(f"the file name {name!r} does not match the acquired pattern {acquired!r}",
                                      field="acquired", value=acquired)
            try:
                value = _dt.datetime.strptime(" ".join(m.groups()), " ".join(formats))
            except ValueError as exc:
                raise ValidationError(f"no date in {name!r} with pattern {acquired!r}: {exc}", field="acquired",
                                      value=acquired) from None
            return to_datetime(value, "acquired")
        return from_name
    if isinstance(acquired, Mapping):
        table = {str(k): v for k, v in acquired.items()}

        def from_mapping(href: str, info: FileInfo) -> _dt.datetime:
            for key in (href, file_name(href), image_name(href)):
                if key in table:
                    return to_datetime(table[key], "acquired")
            raise ValidationError(f"acquired has no date for {file_name(href)!r} (keys: path, file name or image "
                                  "name)", field="acquired", value=file_name(href))
        return from_mapping
    if callable(acquired):
        return lambda href, info: to_datetime(acquired(href), "acquired")
    if isinstance(acquired, (str, _dt.date)):
        when = to_datetime(acquired, "acquired")
        return lambda href, info: when
    raise ValidationError(
        f"acquired must be None, 'tag', a file name pattern like 'S1_{{date:%Y%m%d}}_*.tif', a dict, a callable "
        f"or a date, got {acquired!r}", field="acquired", value=acquired)


# -- the import --------------------------------------------------------------------------------
def check_on_error(on_error: Any) -> str:
    if on_error not in ON_ERROR:
        raise ValidationError.bad_value("on_error", on_error, ON_ERROR)
    return on_error


def ensure_product(product_cls: Any, product_id: str, store: CatalogStore, fields: Mapping[str, Any] | None) -> Any:
    """The saved product ``product_id``, made (with ``fields``) if it does not exist."""
    product = product_cls.get(product_id, store=store)
    if product is None:
        product = product_cls(id=product_id, store=store, **dict(fields or {})).save()
    return product


def provenance(lineage: str, now: _dt.datetime | None = None, **more: Any) -> dict[str, Any]:
    """STAC ``processing`` extension fields of an image wf_widgets made or imported at ``now`` (default: now),
    plus ``more``."""
    when = now if now is not None else _dt.datetime.now(_dt.timezone.utc)
    return {"processing:lineage": lineage, "processing:software": dict(SOFTWARE),
            "processing:datetime": when.isoformat(), **more}


def _same(row: dict[str, Any] | None, image: Image, files: list[dict[str, Any]] | None) -> bool:
    """Whether the stored ``row`` already says what ``image`` (and ``files``) would store."""
    if row is None:
        return False
    keep = ("source", "source_size", "source_mtime")
    stored = {k: (row.get("extra_properties") or {}).get(k) for k in keep}
    wanted = {k: (image.extra_properties or {}).get(k) for k in keep}
    same = (stored == wanted and row.get("acquired") == image.acquired and row.get("cs_code") == image.cs_code
            and tuple(row.get("geotrans") or ()) == tuple(image.geotrans or ()))
    if files is not None:
        same = same and [f["href"] for f in row.get("files") or ()] == [f["href"] for f in files]
    return same and bool(row.get("files"))


def import_files(product_cls: Any, product_id: str, paths_or_glob: Any, *, acquired: Any = None,
                 copy: bool = False, on_error: str = "continue", progress: bool = True,
                 product_fields: Mapping[str, Any] | None = None, store: CatalogStore | None = None,
                 stream: TextIO | None = None) -> ImportSummary:
    """See :meth:`wf_widgets.catalog.Product.import_files`."""
    check_on_error(on_error)
    resolve_acquired = acquired_resolver(acquired)
    hrefs = expand_paths(paths_or_glob)
    store = store or default_store()
    product = ensure_product(product_cls, product_id, store, product_fields)
    image_files = ImageFiles.of(store.settings)
    summary = ImportSummary(product.id)
    bar = Progress(len(hrefs), progress, stream)
    seen: dict[str, str] = {}
    with cog.gdal_env(image_files.gdal_options()):
        for given in hrefs:
            try:
                name = image_name(given)
                check_name(name, "image name")
                if name in seen:
                    raise ValidationError(f"another file of this import, {seen[name]!r}, makes image {name!r} too",
                                          field="paths", value=given)
                seen[name] = given
                _import_one(store, product.id, normal_href(given), name, resolve_acquired, copy, summary)
            except (WfError, OSError, ValueError, rasterio.errors.RasterioError) as exc:
                if on_error == "raise":
                    raise ValidationError(f"Could not import {given!r}: {exc}", field="paths", value=given) from exc
                summary.failed[given] = f"{type(exc).__name__}: {exc}" if not isinstance(exc, WfError) else str(exc)
            finally:
                bar.step(file_name(given))
    return summary


def _import_one(store: CatalogStore, product_id: str, href: str, name: str, resolve_acquired: Any, copy: bool,
                summary: ImportSummary) -> None:
    info = read_file_info(href)
    if info.crs is None:
        raise ValidationError("the file has no coordinate reference system", field="paths", value=href)
    bands = store.list_bands(product_id)
    if not bands:
        create_bands(store, product_id, file_band_specs(info))
        bands = store.list_bands(product_id)
    if len(bands) != info.count:
        raise ValidationError(f"the file has {info.count} band(s) but product {product_id!r} has {len(bands)} "
                              f"({', '.join(b['name'] for b in bands)})", field="paths", value=href)
    wanted = [b["data_type"] for b in bands]
    got = [DataType.coerce(d).value for d in info.dtypes]
    if got != wanted:
        raise ValidationError(f"the file's data types {got} differ from the product's {wanted}", field="paths",
                              value=href)
    in_place = info.cloud_optimized and not copy
    how = "referenced in place" if in_place else "converted to a COG in the catalog's storage"
    extra = provenance(f"Imported from {href} ({how})", source=href, source_size=info.size,
                       source_mtime=info.mtime)
    image = Image(name=name, product_id=product_id, acquired=resolve_acquired(href, info), cs_code=info.crs,
                  geotrans=info.geotrans, x_pixels=info.width, y_pixels=info.height, extra_properties=extra,
                  store=store)
    existing = store.get_image(image.id)
    parts = [{"href": href, "size": info.size}] if in_place else None
    if _same(existing, image, parts) and (in_place or not any(
            f["href"] == href for f in existing.get("files") or ())):
        summary.unchanged.append(image.id)
        return
    if in_place:
        image.reference(parts, overwrite=existing is not None)
        summary.referenced.append(image.id)
    else:
        image.upload(referenced_gdal_path(href), overwrite=existing is not None)
        summary.converted.append(image.id)
    (summary.updated if existing is not None else summary.added).append(image.id)


__all__ = ["FileInfo", "ImportSummary", "Progress", "acquired_resolver", "band_names", "expand_paths",
           "import_files", "is_cloud_optimized", "provenance", "read_file_info", "scaled_ranges"]
