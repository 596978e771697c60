"""The catalog in STAC: products as Collections, images as Items, searched through the store's indexes.

What the STAC API of the server (:mod:`wf_widgets.server.stac`) and the static export
(:mod:`wf_widgets.catalog.stac_export`) share: the documents, the parsing of search parameters
(each bad one a :class:`~wf_widgets.errors.ValidationError` naming it, its value and what is
allowed) and the search itself.

* A product is a Collection (``id`` = the product id); an image an Item (``id`` = the image's
  name, unique in its product). An item's one asset ``image`` is the image's COG, with every
  band of the file, in file order, as ``raster:bands`` (data type, nodata, the scale and offset
  from ``data_range`` to ``physical_range``, resolution) and ``eo:bands`` (names,
  descriptions); the grid is the ``proj`` fields (``proj:epsg``, or ``proj:wkt2`` for a CRS
  without an EPSG code, ``proj:shape``, ``proj:transform``).
* ``geometry`` is the grid's outline in lon/lat (:data:`~wf_widgets.geo.bbox.SAMPLES` points a
  side), ``bbox`` its bounds; an image without a grid has neither. ``datetime`` is
  ``acquired`` (an image without one: its ``created``, and date searches never find it).
  ``extra_properties`` are copied into ``properties`` (ours win on a clash).
* Search: the spatial index finds candidates by their stored boxes, the dates index by
  ``acquired``, the name index pages (:meth:`~wf_widgets.catalog.store.CatalogStore.page_images`);
  each candidate's outline is then tested against the query box. Items come by collection id,
  then name; the paging token is the last one returned. So a search costs what its page and
  candidates cost, not what the product holds.
* Who reads: an :class:`~wf_widgets.catalog.reads.Identity`; products it may not read are never
  listed nor searched, and asking for one by id is the same error as asking for an unknown one.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as _dt
import json
import math
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import shapely.geometry
from pyproj.exceptions import ProjError

from .._context import CatalogStoreLike
from ..errors import ValidationError
from ..geo._crs import LONLAT, transformer
from ..geo.bbox import Box, grid_outline
from . import access
from .datatypes import DataType
from .reads import Identity, range_scaling

STAC_VERSION = "1.1.0"
PROJ_EXT = "https://stac-extensions.github.io/projection/v1.1.0/schema.json"
RASTER_EXT = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"
EO_EXT = "https://stac-extensions.github.io/eo/v1.1.0/schema.json"
#: Media type of an item's asset.
COG_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
#: The key of an item's one asset.
ASSET = "image"
#: Items per page when ``limit`` is not given, and the most a page may hold.
DEFAULT_LIMIT = 10
MAX_LIMIT = 10000
#: Parameters of ``/search`` and of ``/collections/{id}/items``.
SEARCH_PARAMS = ("bbox", "datetime", "collections", "ids", "limit", "token")
ITEMS_PARAMS = ("bbox", "datetime", "limit", "token")
#: Candidates fetched at a time while filling a page (their outlines are tested one by one).
_BATCH = 200

#: Who reads on a server without a login: anyone, so only public-read products.
PUBLIC_READER = Identity(access.PUBLIC)


def iso(value: _dt.datetime) -> str:
    """RFC 3339 UTC text (``2020-01-03T13:25:00Z``)."""
    text = value.astimezone(_dt.timezone.utc).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# -- documents ------------------------------------------------------------------------------
def _epsg(cs_code: str) -> int | None:
    kind, _, code = cs_code.partition(":")
    return int(code) if kind.upper() == "EPSG" and code.isdigit() else None


def footprint(row: Mapping[str, Any]) -> shapely.geometry.Polygon | None:
    """An image row's outline in lon/lat, or None without a grid (or one that can't be projected)."""
    if None in (row.get("geotrans"), row.get("cs_code"), row.get("x_pixels"), row.get("y_pixels")):
        return None
    x0, a, b, y0, d, e = row["geotrans"]
    xs, ys = grid_outline((a, b, x0, d, e, y0), row["x_pixels"], row["y_pixels"])
    try:
        lons, lats = transformer(row["cs_code"], LONLAT).transform(xs, ys)
    except ProjError:
        return None
    if not (np.all(np.isfinite(lons)) and np.all(np.isfinite(lats))):
        return None
    return shapely.geometry.Polygon(list(zip(lons.tolist(), lats.tolist())))


def raster_bands(bands: list[dict]) -> list[dict]:
    """``raster:bands`` of a product's file, every band in file (band_index) order."""
    out = []
    for band in bands:
        entry: dict[str, Any] = {}
        if band.get("data_type"):
            entry["data_type"] = DataType(band["data_type"]).dtype.name
        if band.get("nodata") is not None:
            entry["nodata"] = band["nodata"]
        scaling = range_scaling(band)
        if scaling is not None:
            entry["scale"], entry["offset"] = scaling
        resolution = band.get("resolution")
        if isinstance(resolution, dict) and resolution.get("unit") == "meters":
            entry["spatial_resolution"] = resolution["value"]
        elif isinstance(resolution, (int, float)):
            entry["spatial_resolution"] = resolution
        out.append(entry)
    return out


def eo_bands(bands: list[dict]) -> list[dict]:
    """``eo:bands`` of a product's file: names and descriptions, in file order."""
    return [{"name": b["name"], **({"description": b["description"]} if b.get("description") else {})}
            for b in bands]


def item(product: Mapping[str, Any], bands: list[dict], row: Mapping[str, Any], href: str | None,
         links: list[dict], geometry: shapely.geometry.Polygon | None = None) -> dict[str, Any]:
    """The STAC Item of an image row.

    Parameters
    ----------
    product : mapping
        The product's row.
    bands : list of dict
        The product's band rows, in band_index order (the file's bands).
    row : mapping
        The image's row.
    href : str or None
        Where the asset is (None: the item has no asset, the image has no file).
    links : list of dict
    geometry : Polygon, optional
        The footprint if already computed (:func:`footprint`).
    """
    geometry = footprint(row) if geometry is None else geometry
    acquired = row.get("acquired")
    properties: dict[str, Any] = dict(row.get("extra_properties") or {})
    properties.update({
        "datetime": iso(acquired if acquired is not None else row["created"]),
        "created": iso(row["created"]),
        "updated": iso(row["modified"]),
    })
    if row.get("cs_code") and row.get("geotrans") is not None:
        epsg = _epsg(row["cs_code"])
        properties["proj:epsg"] = epsg
        if epsg is None:
            properties["proj:wkt2"] = transformer(row["cs_code"], LONLAT).source_crs.to_wkt()
        x0, a, b, y0, d, e = row["geotrans"]
        properties["proj:shape"] = [row["y_pixels"], row["x_pixels"]]
        properties["proj:transform"] = [a, b, x0, d, e, y0]
    doc: dict[str, Any] = {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": [PROJ_EXT, RASTER_EXT, EO_EXT],
        "id": row["name"],
        "collection": product["id"],
        "geometry": None if geometry is None else {
            "type": "Polygon", "coordinates": [[[x, y] for x, y in geometry.exterior.coords]]},
        "properties": properties,
        "links": links,
        "assets": {},
    }
    if geometry is not None:
        doc["bbox"] = list(geometry.bounds)
    if href is not None:
        doc["assets"][ASSET] = {"href": href, "type": COG_TYPE, "title": f"{row['name']} ({len(bands)} bands)",
                                "roles": ["data"], "raster:bands": raster_bands(bands), "eo:bands": eo_bands(bands)}
    return doc


def collection(product: Mapping[str, Any], bands: list[dict], extent: Mapping[str, Any],
               links: list[dict]) -> dict[str, Any]:
    """The STAC Collection of a product (``extent`` from :meth:`CatalogStore.product_extent`)."""
    box = extent.get("box")
    first, last = extent.get("first"), extent.get("last")
    return {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "stac_extensions": [RASTER_EXT, EO_EXT],
        "id": product["id"],
        "title": product.get("name") or product["id"],
        "description": product.get("description") or product.get("name") or product["id"],
        "license": "other",
        "extent": {
            "spatial": {"bbox": [list(box) if box is not None else [-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [[iso(first) if first else None, iso(last) if last else None]]},
        },
        "summaries": {"eo:bands": eo_bands(bands), "raster:bands": raster_bands(bands)},
        "item_assets": {ASSET: {"type": COG_TYPE, "roles": ["data"]}},
        "links": links,
    }


# -- search parameters ----------------------------------------------------------------------------
@dataclasses.dataclass
class Query:
    """Parsed search parameters (see :func:`parse_query`).

    Attributes
    ----------
    boxes : list of Box or None
        The query box (two across the antimeridian); None: anywhere.
    start, end : datetime or None
        Bounds of ``acquired``, both included.
    collections, ids : list of str or None
    limit : int
    after : tuple of (collection id, item id) or None
        Where the previous page ended.
    """

    boxes: list[Box] | None = None
    start: _dt.datetime | None = None
    end: _dt.datetime | None = None
    collections: list[str] | None = None
    ids: list[str] | None = None
    limit: int = DEFAULT_LIMIT
    after: tuple[str, str] | None = None


def _strings(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        parts = [p.strip() for p in value]
    else:
        raise ValidationError(f"{name} must be a comma-separated list (GET) or a JSON list of strings (POST), "
                              f"got {value!r}", field=name, value=value, allowed=["a list of strings"])
    if not parts or not all(parts):
        raise ValidationError(f"{name} must not hold an empty string, got {value!r}", field=name, value=value,
                              allowed=["a list of non-empty strings"])
    return parts


def parse_bbox(value: Any) -> list[Box]:
    """The boxes of a STAC ``bbox``: ``"w,s,e,n"`` or a list of 4 (or 6, 3D) numbers; west > east crosses the antimeridian."""
    allowed = "west,south,east,north in degrees (-180 <= lon <= 180, -90 <= south <= north <= 90)"
    if isinstance(value, str):
        try:
            numbers = [float(p) for p in value.split(",")]
        except ValueError:
            raise ValidationError(f"bbox must be 4 comma-separated numbers, got {value!r}", field="bbox",
                                  value=value, allowed=[allowed]) from None
    elif isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        numbers = [float(v) for v in value]
    else:
        raise ValidationError(f"bbox must be a list of 4 numbers, got {value!r}", field="bbox", value=value,
                              allowed=[allowed])
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise ValidationError(f"bbox must have 4 (or 6) numbers, got {len(numbers)}: {value!r}", field="bbox",
                              value=value, allowed=[allowed])
    west, south, east, north = numbers
    if not all(math.isfinite(v) for v in numbers) or not (-180 <= west <= 180 and -180 <= east <= 180) \
            or not (-90 <= south <= north <= 90):
        raise ValidationError(f"bbox {value!r} is not a lon/lat box", field="bbox", value=value, allowed=[allowed])
    if west <= east:
        return [(west, south, east, north)]
    return [(west, south, 180.0, north), (-180.0, south, east, north)]


def _instant(text: str, value: Any) -> _dt.datetime:
    try:
        when = _dt.datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"datetime {value!r} is not an RFC 3339 date-time or interval", field="datetime",
                              value=value, allowed=[_DATETIME_ALLOWED]) from None
    return when.replace(tzinfo=_dt.timezone.utc) if when.tzinfo is None else when.astimezone(_dt.timezone.utc)


_DATETIME_ALLOWED = ("a date-time (2020-01-03T13:25:00Z), a closed interval (start/end) or an open one "
                     "(../end, start/..)")


def parse_datetime(value: Any) -> tuple[_dt.datetime | None, _dt.datetime | None]:
    """``(start, end)``, both included, of a STAC ``datetime``: one instant, ``a/b``, ``../b``, ``a/..``."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"datetime must be a string, got {value!r}", field="datetime", value=value,
                              allowed=[_DATETIME_ALLOWED])
    if "/" not in value:
        when = _instant(value, value)
        return when, when
    parts = value.split("/")
    if len(parts) != 2:
        raise ValidationError(f"datetime {value!r} has more than one '/'", field="datetime", value=value,
                              allowed=[_DATETIME_ALLOWED])
    start, end = (None if p.strip() in ("", "..") else _instant(p, value) for p in parts)
    if start is None and end is None:
        raise ValidationError(f"datetime {value!r} is open at both ends", field="datetime", value=value,
                              allowed=[_DATETIME_ALLOWED])
    if start is not None and end is not None and start > end:
        raise ValidationError(f"datetime {value!r} starts after it ends", field="datetime", value=value,
                              allowed=[_DATETIME_ALLOWED])
    return start, end


def parse_limit(value: Any) -> int:
    """A page size from 1 to :data:`MAX_LIMIT`."""
    allowed = f"an integer from 1 to {MAX_LIMIT}"
    try:
        limit = int(value) if not isinstance(value, (bool, float)) else None
    except (TypeError, ValueError):
        limit = None
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be {allowed}, got {value!r}", field="limit", value=value, allowed=[allowed])
    return limit


def encode_token(collection_id: str, item_id: str) -> str:
    """The paging token of the page after item ``item_id`` of ``collection_id``."""
    return base64.urlsafe_b64encode(json.dumps([collection_id, item_id]).encode()).decode().rstrip("=")


def decode_token(value: Any) -> tuple[str, str]:
    """The ``(collection id, item id)`` a token of :func:`encode_token` holds."""
    try:
        pair = json.loads(base64.urlsafe_b64decode(str(value) + "=" * (-len(str(value)) % 4)))
        if isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair):
            return pair[0], pair[1]
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    raise ValidationError(f"token {value!r} is not a paging token of this server", field="token", value=value,
                          allowed=["the token of a 'next' link"])


def parse_query(params: Mapping[str, Any], allowed: Iterable[str] = SEARCH_PARAMS) -> Query:
    """A :class:`Query` from GET arguments (strings) or a POST body (JSON values).

    Raises
    ------
    ValidationError
        An unknown parameter, or a bad value (naming the parameter, the value and what is allowed).
    """
    allowed = tuple(allowed)
    for name in params:
        if name not in allowed:
            raise ValidationError(f"Unknown search parameter {name!r}; the parameters are {', '.join(allowed)}",
                                  field=name, value=params[name], allowed=list(allowed))
    query = Query()
    given = {k: v for k, v in params.items() if v is not None}
    if "bbox" in given:
        query.boxes = parse_bbox(given["bbox"])
    if "datetime" in given:
        query.start, query.end = parse_datetime(given["datetime"])
    if "collections" in given:
        query.collections = _strings("collections", given["collections"])
    if "ids" in given:
        query.ids = _strings("ids", given["ids"])
    if "limit" in given:
        query.limit = parse_limit(given["limit"])
    if "token" in given:
        query.after = decode_token(given["token"])
    return query


# -- reading ------------------------------------------------------------------------------------
def readable_products(store: CatalogStoreLike, reader: Identity) -> list[dict]:
    """The product rows ``reader`` may read, by id."""
    return [p for p in store.list_products() if access.has_right(reader, p, "read")]


def readable_product(store: CatalogStoreLike, reader: Identity, product_id: str) -> dict | None:
    """The row of product ``product_id`` if ``reader`` may read it, else None (unknown or not readable alike)."""
    row = store.get_product(product_id)
    return row if row is not None and access.has_right(reader, row, "read") else None


def _meets(geometry: shapely.geometry.Polygon | None, boxes: list[Box]) -> bool:
    return geometry is not None and any(geometry.intersects(shapely.geometry.box(*b)) for b in boxes)


def search(store: CatalogStoreLike, reader: Identity, query: Query,
           product_ids: list[str] | None = None) -> tuple[list[tuple[dict, dict, shapely.geometry.Polygon | None]],
                                                          tuple[str, str] | None]:
    """One page of the images ``query`` finds among the products ``reader`` may read.

    Parameters
    ----------
    store : CatalogStoreLike
    reader : Identity
    query : Query
    product_ids : list of str, optional
        Search only these (``/collections/{id}/items``; checked by the caller).
        Default: ``query.collections``, else every readable product.

    Returns
    -------
    (list of (product row, image row, footprint), (collection id, item id) or None)
        The page, and where the next page starts (None: this is the last).

    Raises
    ------
    ValidationError
        ``collections`` names a product that is unknown or not readable (the same message
        for both; it lists the readable ones).
    """
    readable = {p["id"]: p for p in readable_products(store, reader)}
    wanted = product_ids if product_ids is not None else query.collections
    if wanted is None:
        wanted = sorted(readable)
    else:
        missing = [c for c in wanted if c not in readable]
        if missing:
            raise ValidationError(f"Unknown collection {missing[0]!r}; the collections are "
                                  f"{', '.join(map(repr, sorted(readable))) or '(none)'}",
                                  field="collections", value=missing[0], allowed=sorted(readable))
        wanted = sorted(set(wanted))
    found: list[tuple[dict, dict, Any]] = []
    for product_id in wanted:
        if query.after is not None and product_id < query.after[0]:
            continue
        after = query.after[1] if query.after is not None and product_id == query.after[0] else None
        while len(found) <= query.limit:
            want = query.limit + 1 - len(found)
            batch = store.page_images(product_id, boxes=query.boxes, start=query.start, end=query.end,
                                      names=query.ids, after=after,
                                      limit=want if query.boxes is None else max(want, _BATCH))
            for row in batch:
                geometry = footprint(row)
                if query.boxes is None or _meets(geometry, query.boxes):
                    found.append((readable[product_id], row, geometry))
                    if len(found) > query.limit:
                        break
            if len(batch) < (want if query.boxes is None else max(want, _BATCH)):
                break
            after = batch[-1]["name"]
        if len(found) > query.limit:
            break
    if len(found) > query.limit:
        found = found[:query.limit]
        last_product, last_row, _ = found[-1]
        return found, (last_product["id"], last_row["name"])
    return found, None


def asset_file(row: Mapping[str, Any]) -> str | None:
    """The href (relative to the catalog folder) of an image row's file, or None."""
    stored = row.get("files") or ()
    return stored[0]["href"] if stored else None


HrefFor = Callable[[Mapping[str, Any]], "str | None"]

__all__ = ["ASSET", "COG_TYPE", "DEFAULT_LIMIT", "MAX_LIMIT", "PUBLIC_READER", "Query", "STAC_VERSION", "asset_file",
           "collection", "decode_token", "encode_token", "footprint", "item", "parse_bbox", "parse_datetime",
           "parse_limit", "parse_query", "readable_product", "readable_products", "search"]
