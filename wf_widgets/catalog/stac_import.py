"""Import a STAC collection (or items, or a search) as a catalog product (``Product.from_stac``).

Each STAC item becomes one image named after the item's id, whose files are the item's
chosen assets, referenced in place (never copied, never deleted by the catalog): one file per
asset, each holding its own bands, possibly at its own resolution; reads warp each file
on its own (:class:`wf_widgets.engine.reading.Scene`).

* **What is read**: ``pystac`` objects (a Catalog or Collection with its items, an Item, an
  ItemCollection or any iterable of items), a ``pystac_client`` ``ItemSearch`` (or anything
  with ``items_as_dicts()``), item dicts, or the path or URL of a static catalog, collection,
  item or item collection (JSON; ``child`` and ``item`` links are followed, relative hrefs
  resolved). Objects are read by their ``to_dict()``/``items_as_dicts()``: wf_widgets itself
  does not need pystac (the ``stac`` extra installs it for the objects).
* **Bands** come from the assets' ``raster`` and ``eo`` extension fields (STAC 1.0
  ``raster:bands`` and ``eo:bands``, or STAC 1.1 ``bands`` with asset-level ``data_type``,
  ``nodata``, ``raster:scale``, ``raster:offset``), or the collection's ``item_assets``; the
  first item's file header fills in what they don't say. A single-band asset's band is named
  after the asset key; the bands of a multi-band asset after their ``eo`` names (or
  ``<key>_1``, ...). A band with a centre wavelength is a SpectralBand, others GenericBands;
  scale/offset become a physical range (see :func:`~wf_widgets.catalog.imports.scaled_ranges`).
* **Images**: ``acquired`` from ``datetime`` (or ``start_datetime``); the grid (the finest of
  the assets) from the ``proj`` extension (``proj:code``/``proj:epsg``, ``proj:transform``,
  ``proj:shape``, on the asset or the item), else from the file's header; the item's other
  properties in ``extra_properties``, with ``stac:item_id``, ``stac:collection`` and the
  ``processing:*`` provenance fields.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence, TextIO
from urllib.parse import urljoin

import rasterio

from ..errors import ValidationError, WfError
from ..outputs import cog
from ._common import PRODUCT_ID, check_name, check_product_id, default_store, to_datetime
from .bands import GenericBand, SpectralBand
from .datatypes import DataType
from .files import ImageFiles, is_remote, referenced_gdal_path
from .image import Image
from .imports import ImportSummary, Progress, check_on_error, create_bands, ensure_product, provenance, scaled_ranges
from .store import CatalogStore

#: Media types of the assets picked when ``assets`` is not given (any GeoTIFF).
GEOTIFF_TYPES = ("image/tiff", "image/geotiff", "image/vnd.stac.geotiff")
#: How deep static catalogs are followed (catalog -> collection -> ... -> item).
MAX_DEPTH = 16
#: Seconds a URL of a static catalog may take to answer.
TIMEOUT_S = 60.0


# -- reading STAC documents ------------------------------------------------------------------------
def _read_json(href: str) -> dict:
    if href.startswith(("http://", "https://")):
        with urllib.request.urlopen(href, timeout=TIMEOUT_S) as response:  # noqa: S310 (a URL the user gave)
            return json.loads(response.read().decode("utf-8"))
    return json.loads(Path(href).expanduser().read_text(encoding="utf-8"))


def _join(base: str | None, href: str) -> str:
    """``href`` made absolute against the document at ``base``."""
    if base is None or is_remote(href) or os.path.isabs(href) or re.match(r"^[a-z][a-z0-9+.-]*://", href):
        return href
    if is_remote(base):
        return urljoin(base, href)
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(base)), href))


def _absolute_assets(item: dict, base: str | None) -> dict:
    item = dict(item)
    self_href = next((link.get("href") for link in item.get("links") or () if link.get("rel") == "self"), None)
    base = _join(base, self_href) if self_href else base
    item["assets"] = {k: {**a, "href": _join(base, a["href"])} for k, a in (item.get("assets") or {}).items()}
    return item


def _walk(doc: dict, href: str | None, items: list[dict], collections: list[dict], depth: int = 0) -> None:
    """Collect the items (and the collections) of a STAC document and of what its links lead to."""
    if depth > MAX_DEPTH:
        raise ValidationError(f"STAC catalog nested more than {MAX_DEPTH} deep at {href!r}", field="source",
                              value=href)
    kind = doc.get("type")
    if kind == "Feature":
        items.append(_absolute_assets(doc, href))
        return
    if kind == "FeatureCollection":
        items.extend(_absolute_assets(f, href) for f in doc.get("features") or ())
        return
    if kind not in ("Collection", "Catalog"):
        raise ValidationError(f"Not a STAC catalog, collection, item or item collection: {href or 'the dict'} has "
                              f"type {kind!r}", field="source", value=href)
    if kind == "Collection":
        collections.append(doc)
    for link in doc.get("links") or ():
        if link.get("rel") in ("child", "item") and link.get("href"):
            child = _join(href, link["href"])
            _walk(_read_json(child), child, items, collections, depth + 1)


def _pystac_item(item: Any) -> dict:
    """A pystac Item as a dict with absolute asset hrefs."""
    d = item.to_dict(include_self_link=False, transform_hrefs=False)
    for key, asset in item.assets.items():
        d["assets"][key]["href"] = asset.get_absolute_href() or asset.href
    return d


def stac_items(source: Any) -> tuple[list[dict], dict | None]:
    """The item dicts (asset hrefs absolute) of ``source`` and its collection dict (or None). See the module doc."""
    items: list[dict] = []
    collections: list[dict] = []
    if isinstance(source, (str, os.PathLike)):
        href = os.fspath(source)
        try:
            doc = _read_json(href)
        except (OSError, ValueError) as exc:
            raise ValidationError(f"Could not read the STAC document {href!r}: {exc}", field="source",
                                  value=href) from exc
        _walk(doc, href, items, collections)
    elif isinstance(source, Mapping):
        _walk(dict(source), None, items, collections)
    elif hasattr(source, "items_as_dicts"):  # pystac_client.ItemSearch
        items.extend(dict(d) for d in source.items_as_dicts())
    elif hasattr(source, "get_items") and hasattr(source, "to_dict"):  # pystac Catalog / Collection
        try:
            found = source.get_items(recursive=True)
        except TypeError:  # pystac < 1.8
            found = source.get_all_items()
        items.extend(_pystac_item(i) for i in found)
        if getattr(source, "extent", None) is not None:
            collections.append(source.to_dict(include_self_link=False, transform_hrefs=False))
    elif hasattr(source, "assets") and hasattr(source, "to_dict"):  # pystac Item
        items.append(_pystac_item(source))
    elif isinstance(source, Iterable):
        for element in source:
            more, collection = stac_items(element)
            items.extend(more)
            if collection is not None:
                collections.append(collection)
    else:
        raise ValidationError(f"from_stac takes pystac objects, a pystac_client search, item dicts, or a path or URL "
                              f"of a STAC catalog, got {type(source).__name__}", field="source", value=source)
    return items, (collections[0] if collections else None)


# -- bands --------------------------------------------------------------------------------------
def _sanitize(name: str) -> str:
    return re.sub(r"[:/\\\x00-\x1f\x7f]", "_", name)[:200] or "_"


def _pick_assets(items: Sequence[dict], assets: Sequence[str] | None) -> list[str]:
    if assets is not None:
        if isinstance(assets, str):
            assets = [assets]
        if not assets:
            raise ValidationError("assets must name at least one asset", field="assets", value=assets)
        return list(assets)
    found: dict[str, None] = {}
    for item in items:
        for key, asset in (item.get("assets") or {}).items():
            media = (asset.get("type") or "").split(";")[0].strip().lower()
            roles = asset.get("roles") or ["data"]
            if (media in GEOTIFF_TYPES or "geotiff" in (asset.get("type") or "").lower()) and "data" in roles:
                found[key] = None
    if not found:
        raise ValidationError("No GeoTIFF data asset in the items; name the assets to import with assets=[...]",
                              field="assets", value=None)
    return list(found)


def _asset_bands(asset: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The bands an asset (or item_assets entry) describes: one dict per band with the fields both extensions give."""
    raster = list(asset.get("raster:bands") or ())
    eo = list(asset.get("eo:bands") or ())
    common = list(asset.get("bands") or ())  # STAC 1.1
    count = max(len(raster), len(eo), len(common))
    shared = {k: asset[k] for k in ("data_type", "nodata", "raster:scale", "raster:offset",
                                    "raster:spatial_resolution", "eo:center_wavelength",
                                    "eo:full_width_half_max", "eo:common_name") if k in asset}
    if count == 0:
        return [shared] if shared else []
    out = []
    for i in range(count):
        band: dict[str, Any] = dict(shared)
        for source in (common, raster, eo):
            if i < len(source):
                band.update({k.split(":", 1)[-1] if k.startswith(("raster:", "eo:")) else k: v
                             for k, v in source[i].items()})
        band.update({k.split(":", 1)[-1]: v for k, v in shared.items() if k.split(":", 1)[-1] not in band})
        out.append(band)
    return out


def _file_bands(href: str) -> list[dict[str, Any]]:
    """What a file's header says of its bands (``data_type``, ``nodata``, ``scale``, ``offset``)."""
    with rasterio.open(referenced_gdal_path(href)) as ds:
        return [{"data_type": ds.dtypes[i], "nodata": ds.nodata, "scale": ds.scales[i], "offset": ds.offsets[i]}
                for i in range(ds.count)]


def _band_specs(key: str, asset: Mapping[str, Any], template: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Band specs (:func:`~wf_widgets.catalog.imports.create_bands`) of one asset; ``template`` is its item_assets."""
    described = _asset_bands(asset) or _asset_bands(template or {})
    if not described or any("data_type" not in b for b in described):
        from_file = _file_bands(asset["href"])
        if not described:
            described = [{} for _ in from_file]
        if len(described) != len(from_file):
            raise ValidationError(f"asset {key!r} describes {len(described)} band(s) but its file {asset['href']!r} "
                                  f"has {len(from_file)}", field="assets", value=key)
        described = [{**f, **{k: v for k, v in d.items() if v is not None}} for d, f in zip(described, from_file)]
    if len(described) == 1:
        names = [_sanitize(key)]
    else:
        eo_names = [b.get("name") for b in described]
        names = ([_sanitize(n) for n in eo_names] if all(eo_names) and len(set(eo_names)) == len(eo_names)
                 else [_sanitize(f"{key}_{i + 1}") for i in range(len(described))])
    specs = []
    for name, band in zip(names, described):
        try:
            data_type = DataType.coerce(band["data_type"], "data_type")
        except ValidationError:
            raise ValidationError(
                f"band {name!r} of asset {key!r} has data type {band['data_type']!r}, which the catalog can't hold; "
                f"allowed: {', '.join(m.value for m in DataType)} (or the numpy names)",
                field="assets", value=band["data_type"], allowed=[m.value for m in DataType]) from None
        nodata = band.get("nodata")
        if isinstance(nodata, str):  # "nan", "inf", "-inf" in the raster extension
            nodata = float(nodata)
        spec: dict[str, Any] = {"name": check_name(name, "band name"), "data_type": data_type, "nodata": nodata,
                                "description": band.get("description") or band.get("common_name")
                                or asset.get("title")}
        resolution = band.get("spatial_resolution")
        if isinstance(resolution, (int, float)) and resolution > 0:
            spec["resolution"] = resolution
        spec.update(scaled_ranges(data_type, band.get("scale"), band.get("offset")))
        center = band.get("center_wavelength")
        if isinstance(center, (int, float)) and center > 0:
            spec["cls"] = SpectralBand
            spec["wavelength_nm_center"] = center * 1000.0
            fwhm = band.get("full_width_half_max")
            if isinstance(fwhm, (int, float)) and fwhm > 0:
                spec["wavelength_nm_fwhm"] = fwhm * 1000.0
        else:
            spec["cls"] = GenericBand
        specs.append(spec)
    return specs


# -- grids --------------------------------------------------------------------------------------
def _proj_crs(*sources: Mapping[str, Any]) -> str | None:
    for source in sources:
        if source.get("proj:code"):
            return str(source["proj:code"])
        if source.get("proj:epsg"):
            return f"EPSG:{int(source['proj:epsg'])}"
        if source.get("proj:wkt2"):
            return str(source["proj:wkt2"])
        if source.get("proj:projjson"):
            return json.dumps(source["proj:projjson"])
    return None


def _asset_grid(asset: Mapping[str, Any], properties: Mapping[str, Any]) -> tuple[str, tuple, int, int]:
    """``(crs, gdal geotrans, width, height)`` of an asset: its ``proj`` fields (else the item's), else its file."""
    crs = _proj_crs(asset, properties)
    transform = asset.get("proj:transform") or properties.get("proj:transform")
    shape = asset.get("proj:shape") or properties.get("proj:shape")
    if crs and transform and shape and len(transform) >= 6 and len(shape) == 2:
        a, b, c, d, e, f = (float(v) for v in transform[:6])
        return crs, (c, a, b, f, d, e), int(shape[1]), int(shape[0])
    with rasterio.open(referenced_gdal_path(asset["href"])) as ds:
        if ds.crs is None:
            raise ValidationError(f"asset file {asset['href']!r} has no coordinate reference system", field="assets",
                                  value=asset["href"])
        return ds.crs.to_string(), tuple(ds.transform.to_gdal()), ds.width, ds.height


# -- the import --------------------------------------------------------------------------------
def default_product_id(collection: Mapping[str, Any] | None, items: Sequence[dict]) -> str:
    """``stac:<collection id>`` (characters a product id can't hold become ``-``)."""
    cid = (collection or {}).get("id") or next((i.get("collection") for i in items if i.get("collection")), None)
    if not cid:
        raise ValidationError("The items belong to no collection: give product_id='org:name'", field="product_id",
                              value=None)
    candidate = "stac:" + re.sub(r"[^A-Za-z0-9_.-]", "-", str(cid))
    return candidate if PRODUCT_ID.match(candidate) else check_product_id(candidate)


def from_stac(product_cls: Any, source: Any, *, assets: Sequence[str] | None = None, product_id: str | None = None,
              on_error: str = "continue", progress: bool = True, product_fields: Mapping[str, Any] | None = None,
              store: CatalogStore | None = None, stream: TextIO | None = None) -> Any:
    """See :meth:`wf_widgets.catalog.Product.from_stac`; returns ``(product, summary)``."""
    check_on_error(on_error)
    items, collection = stac_items(source)
    if not items:
        raise ValidationError("The STAC source holds no item", field="source", value=source)
    product_id = check_product_id(product_id) if product_id is not None else default_product_id(collection, items)
    keys = _pick_assets(items, assets)
    store = store or default_store()
    fields = {}
    if collection is not None:
        fields = {"name": collection.get("title") or collection.get("id"), "description": collection.get("description")}
    fields.update(product_fields or {})
    product = ensure_product(product_cls, product_id, store, {k: v for k, v in fields.items() if v is not None})
    templates = (collection or {}).get("item_assets") or {}
    image_files = ImageFiles.of(store.settings)
    summary = ImportSummary(product.id, kind="STAC item")
    bar = Progress(len(items), progress, stream, label="importing STAC items")
    with cog.gdal_env(image_files.gdal_options()):
        for item in items:
            label = str(item.get("id"))
            try:
                _import_item(store, product.id, item, keys, templates, summary)
            except (WfError, OSError, ValueError, KeyError, rasterio.errors.RasterioError) as exc:
                if on_error == "raise":
                    raise ValidationError(f"Could not import STAC item {label!r}: {exc}", field="source",
                                          value=label) from exc
                summary.failed[label] = str(exc) if isinstance(exc, WfError) else f"{type(exc).__name__}: {exc}"
            finally:
                bar.step(label)
    bar.summary(summary)
    return product, summary


def _import_item(store: CatalogStore, product_id: str, item: dict, keys: Sequence[str],
                 templates: Mapping[str, Any], summary: ImportSummary) -> None:
    item_assets = item.get("assets") or {}
    missing = [k for k in keys if k not in item_assets]
    if missing:
        raise ValidationError(f"the item has no asset {', '.join(map(repr, missing))}; it has "
                              f"{', '.join(map(repr, item_assets)) or 'none'}", field="assets", value=missing,
                              allowed=list(item_assets))
    bands = store.list_bands(product_id)
    specs = {k: _band_specs(k, item_assets[k], templates.get(k)) for k in keys} if not bands else None
    if not bands:
        create_bands(store, product_id, [s for k in keys for s in specs[k]])
        bands = store.list_bands(product_id)
    names = [b["name"] for b in bands]
    parts = []
    for key in keys:
        held = [s["name"] for s in specs[key]] if specs is not None else _held(key, item_assets[key], names)
        parts.append({"href": item_assets[key]["href"], "bands": held, "asset": key})
    properties = dict(item.get("properties") or {})
    grids = [_asset_grid(item_assets[k], properties) for k in keys]
    crs, geotrans, width, height = min(grids, key=lambda g: abs(g[1][1] * g[1][5]))
    when = properties.pop("datetime", None) or properties.get("start_datetime")
    extra = {k: v for k, v in properties.items() if not k.startswith("proj:")}
    extra.update(provenance(f"Imported from STAC item {item.get('id')!r} (assets {', '.join(keys)}, referenced "
                            "in place)", **{"stac:item_id": item.get("id"), "stac:collection": item.get("collection")}))
    image = Image(name=check_name(_sanitize(str(item.get("id"))), "image name"), product_id=product_id,
                  acquired=to_datetime(when, "datetime"), cs_code=crs, geotrans=geotrans, x_pixels=width,
                  y_pixels=height, extra_properties=extra, store=store)
    existing = store.get_image(image.id)
    if existing is not None and existing.get("files") == parts and existing.get("acquired") == image.acquired \
            and tuple(existing.get("geotrans") or ()) == image.geotrans and existing.get("cs_code") == crs:
        summary.unchanged.append(image.id)
        return
    image.reference(parts, overwrite=existing is not None)
    summary.referenced.append(image.id)
    (summary.updated if existing is not None else summary.added).append(image.id)


def _held(key: str, asset: Mapping[str, Any], names: Sequence[str]) -> list[str]:
    """The product bands asset ``key`` holds, for a product made by an earlier import."""
    if key in names:
        return [key]
    prefixed = [n for n in names if n.startswith(f"{key}_")]
    eo = [_sanitize(str(b.get("name"))) for b in _asset_bands(asset) if b.get("name")]
    for candidate in (eo, prefixed):
        if candidate and all(n in names for n in candidate):
            return candidate
    raise ValidationError(f"asset {key!r} matches no band of the product ({', '.join(names)})", field="assets",
                          value=key, allowed=list(names))


__all__ = ["default_product_id", "from_stac", "stac_items"]
