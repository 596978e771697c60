"""``stac/...``: the catalog as a STAC API (core, collections, item search), and its signed COG links.

=================================================  ===========================================
route (under the mount's base path)                what
=================================================  ===========================================
``GET stac/``                                      landing page (links to everything below)
``GET stac/conformance``                           the conformance classes
``GET stac/collections``                           the products the reader may read
``GET stac/collections/{id}``                      one of them
``GET stac/collections/{id}/items``                its images, a page at a time (``bbox``,
                                                   ``datetime``, ``limit``, ``token``)
``GET stac/collections/{id}/items/{item}``         one image
``GET|POST stac/search``                           ``bbox``, ``datetime``, ``collections``,
                                                   ``ids``, ``limit``, ``token``
``GET|HEAD stac/assets/{id}/{item}.tif?...``       the image's COG (signed link, Range requests)
=================================================  ===========================================

The documents are :mod:`wf_widgets.catalog.stac`'s. Who reads: the standalone server and the
kernel-thread server have no login, so they answer as anyone (:data:`~wf_widgets.catalog.stac.PUBLIC_READER`:
products with public read only); under the Jupyter extension the routes need Jupyter's login
(a ``JupyterHandler``, 403 without it) and the configured user's rights apply. A product
the reader may not read is never listed nor searched; asked for by id it is a 404, as an
unknown one.

An item's asset ``href`` is a signed, expiring link to this server
(``stac/assets/<collection>/<item>.tif?expires=&signature=``, signed as download links are,
:mod:`wf_widgets.delivery.links`, valid :data:`ASSET_LINK_S` seconds): the signature is the
authorisation, so the route needs no login, and it answers Range requests (what GDAL, rasterio
and odc-stac read COGs with). When the catalog's files are in an object store the asset also
names the object (``alternate.s3.href``). Links point at ``WF_WIDGETS_PUBLIC_URL`` when it is
set, else at the address the request came to.

Errors are JSON (``{"code", "description", "parameter", "value", "allowed"}``): 400 for a bad
parameter (naming it, the bad value and what is allowed), 404 for an unknown collection or item.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any
from urllib.parse import quote, urlencode

import tornado.web

from .._context import BackendLike
from ..catalog import stac
from ..catalog.files import ImageFiles
from ..catalog.reads import Identity
from ..delivery.results import Served
from ..errors import ValidationError
from .app import BaseHandler, ResultHandler, public

#: Seconds an asset link of an item stays valid.
ASSET_LINK_S = 24 * 3600
#: Conformance classes declared on the landing page and ``conformance``.
CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
_JSON, _GEOJSON = "application/json", "application/geo+json"
#: The message an asset link's signature signs (with its expiry): never a job id (48 hex digits).
_ASSET_KEY = "stac-asset:{collection}:{item}"


def reader_of(backend: BackendLike, kind: str) -> Identity:
    """Who reads through a mount: the configured user under Jupyter (behind its login), else anyone."""
    return Identity.of(backend.settings) if kind == "jupyter" else stac.PUBLIC_READER


def _q(text: str) -> str:
    return quote(text, safe=":")


def _link(rel: str, href: str, type: str = _JSON, **extra: Any) -> dict[str, Any]:
    return {"rel": rel, "href": href, "type": type, **extra}


class StacApi:
    """The answers of the ``stac/`` routes for one request: ``(status, document)``.

    Parameters
    ----------
    backend : BackendLike
    reader : Identity
        Whose read rights apply.
    root : str
        The absolute URL of ``stac`` (no trailing slash).
    """

    def __init__(self, backend: BackendLike, reader: Identity, root: str):
        self.backend, self.reader, self.root = backend, reader, root
        self.store = backend.catalog

    # -- links ---------------------------------------------------------------------------
    def _collection_url(self, collection_id: str) -> str:
        return f"{self.root}/collections/{_q(collection_id)}"

    def _item_url(self, collection_id: str, item_id: str) -> str:
        return f"{self._collection_url(collection_id)}/items/{_q(item_id)}"

    def asset_href(self, product_id: str, row: dict) -> dict[str, Any] | None:
        """The asset's ``href`` (a signed link) and, on an object store, its ``alternate``; None without a file."""
        href = stac.asset_file(row)
        if href is None:
            return None
        expires = self.backend.settings.time() + ASSET_LINK_S
        query = self.backend.signer.query(_ASSET_KEY.format(collection=product_id, item=row["name"]), expires)
        out: dict[str, Any] = {"href": f"{self.root}/assets/{_q(product_id)}/{_q(row['name'])}.tif?{query}"}
        files = ImageFiles(self.backend.storage)
        if files.root is None:
            out["alternate"] = {"s3": {"href": self.backend.storage.location(files.key(href))}}
        return out

    def _item(self, product: dict, bands: list[dict], row: dict, geometry: Any = None) -> dict[str, Any]:
        cid, iid = product["id"], row["name"]
        links = [_link("self", self._item_url(cid, iid), _GEOJSON), _link("parent", self._collection_url(cid)),
                 _link("collection", self._collection_url(cid)), _link("root", f"{self.root}/")]
        asset = self.asset_href(cid, row)
        doc = stac.item(product, bands, row, asset["href"] if asset else None, links, geometry)
        if asset and "alternate" in asset:
            doc["assets"][stac.ASSET]["alternate"] = asset["alternate"]
        return doc

    # -- routes --------------------------------------------------------------------------
    def landing(self) -> tuple[int, dict]:
        links = [
            _link("self", f"{self.root}/"), _link("root", f"{self.root}/"),
            _link("conformance", f"{self.root}/conformance"),
            _link("data", f"{self.root}/collections"),
            _link("search", f"{self.root}/search", _GEOJSON, method="GET"),
            _link("search", f"{self.root}/search", _GEOJSON, method="POST"),
        ]
        links += [_link("child", self._collection_url(p["id"]), title=p.get("name") or p["id"])
                  for p in stac.readable_products(self.store, self.reader)]
        return 200, {"type": "Catalog", "stac_version": stac.STAC_VERSION, "id": "wf-widgets",
                     "title": "wf_widgets catalog", "description": "The products of this wf_widgets catalog.",
                     "conformsTo": CONFORMANCE, "links": links}

    def conformance(self) -> tuple[int, dict]:
        return 200, {"conformsTo": CONFORMANCE}

    def _collection(self, product: dict) -> dict:
        cid = product["id"]
        links = [_link("self", self._collection_url(cid)), _link("root", f"{self.root}/"),
                 _link("parent", f"{self.root}/"), _link("items", f"{self._collection_url(cid)}/items", _GEOJSON)]
        return stac.collection(product, self.store.list_bands(cid), self.store.product_extent(cid), links)

    def collections(self) -> tuple[int, dict]:
        docs = [self._collection(p) for p in stac.readable_products(self.store, self.reader)]
        return 200, {"collections": docs, "links": [_link("self", f"{self.root}/collections"),
                                                    _link("root", f"{self.root}/")]}

    def _product(self, collection_id: str) -> dict:
        product = stac.readable_product(self.store, self.reader, collection_id)
        if product is None:
            raise LookupError(f"No collection {collection_id!r}")
        return product

    def one_collection(self, collection_id: str) -> tuple[int, dict]:
        return 200, self._collection(self._product(collection_id))

    def one_item(self, collection_id: str, item_id: str) -> tuple[int, dict]:
        product = self._product(collection_id)
        rows = self.store.page_images(collection_id, names=[item_id], limit=1)
        if not rows:
            raise LookupError(f"No item {item_id!r} in collection {collection_id!r}")
        return 200, self._item(product, self.store.list_bands(collection_id), rows[0])

    def items(self, params: dict, url: str, collection_id: str | None = None,
              body: dict | None = None) -> tuple[int, dict]:
        """A page of ``search`` (``collection_id``: of ``collections/{id}/items``); ``url``: this request's."""
        if collection_id is not None:
            self._product(collection_id)
            if params.get("collections") is not None:  # what pystac-client sends with a collection's items
                if stac.parse_query({"collections": params["collections"]}).collections != [collection_id]:
                    raise ValidationError(f"collections of the items of collection {collection_id!r} can only be "
                                          f"{collection_id!r}, got {params['collections']!r}", field="collections",
                                          value=params["collections"], allowed=[collection_id])
                params = {k: v for k, v in params.items() if k != "collections"}
        query = stac.parse_query(params, stac.ITEMS_PARAMS if collection_id is not None else stac.SEARCH_PARAMS)
        found, after = stac.search(self.store, self.reader, query,
                                   [collection_id] if collection_id is not None else None)
        bands: dict[str, list[dict]] = {}
        features = []
        for product, row, geometry in found:
            if product["id"] not in bands:
                bands[product["id"]] = self.store.list_bands(product["id"])
            features.append(self._item(product, bands[product["id"]], row, geometry))
        links = [_link("root", f"{self.root}/")]
        if after is not None:
            token = stac.encode_token(*after)
            if body is not None:
                links.append(_link("next", url, _GEOJSON, method="POST", body={**body, "token": token}, merge=False))
            else:
                args = {k: v for k, v in params.items() if k != "token"}
                links.append(_link("next", f"{url}?{urlencode({**args, 'token': token})}", _GEOJSON, method="GET"))
        return 200, {"type": "FeatureCollection", "features": features, "links": links,
                     "numberReturned": len(features)}


def _error_body(exc: ValidationError) -> dict[str, Any]:
    allowed = list(exc.allowed) if exc.allowed is not None else None
    return {"code": "InvalidParameterValue", "description": str(exc), "parameter": exc.field,
            "value": exc.value, "allowed": allowed}


class _StacMixin:
    """What the plain and the Jupyter handlers of the JSON routes share."""

    backend: BackendLike
    kind: str
    route: str

    def initialize(self, backend: BackendLike, kind: str, route: str, base_path: str) -> None:  # type: ignore[override]
        self.backend, self.kind, self.route, self.base_path = backend, kind, route, base_path

    def _root(self) -> str:
        """The absolute URL of ``stac``: under ``WF_WIDGETS_PUBLIC_URL`` (which stands for the mount), else this request's."""
        public_url = self.backend.settings.public_url
        if public_url:
            return public_url.rstrip("/") + "/stac"
        return f"{self.request.protocol}://{self.request.host}{self.base_path}stac"

    def _send_json(self, status: int, doc: Any, type: str = _JSON) -> None:
        self.set_status(status)
        self.set_header("Content-Type", type)
        self.set_header("Access-Control-Allow-Origin", "*")
        self.finish(json.dumps(doc, default=str))

    def _answer(self, method: str, args: tuple[str, ...]) -> None:
        api = StacApi(self.backend, reader_of(self.backend, self.kind), self._root())
        try:
            if self.route == "search" and method == "POST":
                try:
                    body = json.loads(self.request.body or b"{}")
                except ValueError:
                    raise ValidationError("The body of a POST search must be a JSON object", field="body",
                                          value=self.request.body[:100].decode("utf-8", "replace"),
                                          allowed=["a JSON object"]) from None
                if not isinstance(body, dict):
                    raise ValidationError("The body of a POST search must be a JSON object", field="body",
                                          value=body, allowed=["a JSON object"])
                status, doc = api.items(body, f"{api.root}/search", body=body)
            else:
                params = {k: self.get_query_argument(k) for k in self.request.query_arguments}
                if self.route == "landing":
                    status, doc = api.landing()
                elif self.route == "conformance":
                    status, doc = api.conformance()
                elif self.route == "collections":
                    status, doc = api.collections()
                elif self.route == "collection":
                    status, doc = api.one_collection(*args)
                elif self.route == "items":
                    status, doc = api.items(params, f"{api._collection_url(args[0])}/items", collection_id=args[0])
                elif self.route == "item":
                    status, doc = api.one_item(*args)
                else:
                    status, doc = api.items(params, f"{api.root}/search")
        except ValidationError as exc:
            return self._send_json(400, _error_body(exc))
        except LookupError as exc:
            return self._send_json(404, {"code": "NotFound", "description": str(exc).strip("'\"")})
        geo = self.route in ("items", "item", "search")
        self._send_json(status, doc, _GEOJSON if geo else _JSON)


class StacHandler(_StacMixin, BaseHandler):
    """The JSON routes on the mounts without a login (standalone, kernel thread): public products only."""

    @public
    def get(self, *args: str) -> None:
        self._answer("GET", args)

    @public
    def post(self, *args: str) -> None:
        if self.route != "search":
            return self._send_json(405, {"code": "MethodNotAllowed", "description": "Only search takes POST"})
        self._answer("POST", args)

    def check_xsrf_cookie(self) -> None:  # a JSON API: no cookies, no forms
        pass


_jupyter_handler: type | None = None


def jupyter_stac_handler() -> type:
    """The JSON routes' handler under the Jupyter mount: a ``JupyterHandler`` that needs Jupyter's login."""
    global _jupyter_handler
    if _jupyter_handler is None:
        from jupyter_server.base.handlers import JupyterHandler  # noqa: PLC0415  (optional: only under Jupyter)

        class JupyterStacHandler(_StacMixin, JupyterHandler):
            """``stac/...`` under ``<base_url>wf-widgets/``, behind Jupyter's login, with the configured user's rights."""

            def compute_etag(self) -> str | None:
                return None

            def get_login_url(self) -> str:
                raise tornado.web.HTTPError(403)  # an API client can't log in: no redirect

            def write_error(self, status_code: int, **kwargs: Any) -> None:
                self.set_header("Content-Type", _JSON)
                self.finish(json.dumps({"code": str(status_code), "description": f"{status_code} {self._reason}: "
                                                                                  "log in to Jupyter to use its STAC API"}))

            @tornado.web.authenticated
            def get(self, *args: str) -> None:
                self._answer("GET", args)

            @tornado.web.authenticated
            def post(self, *args: str) -> None:
                if self.route != "search":
                    return self._send_json(405, {"code": "MethodNotAllowed", "description": "Only search takes POST"})
                self._answer("POST", args)

        _jupyter_handler = JupyterStacHandler
    return _jupyter_handler


class AssetHandler(ResultHandler):
    """``GET|HEAD stac/assets/<collection>/<item>.tif?expires=&signature=``: an item's COG, by ranges."""

    @public
    async def get(self, collection_id: str, item_id: str) -> None:  # type: ignore[override]
        await self._asset(collection_id, item_id, send_body=True)

    @public
    async def head(self, collection_id: str, item_id: str) -> None:  # type: ignore[override]
        await self._asset(collection_id, item_id, send_body=False)

    async def _asset(self, collection_id: str, item_id: str, send_body: bool) -> None:
        expires = self.get_query_argument("expires", None)
        signature = self.get_query_argument("signature", None)
        kid = self.get_query_argument("kid", None)
        key = _ASSET_KEY.format(collection=collection_id, item=item_id)
        if expires is None or signature is None or not self.backend.signer.verify(key, expires, signature, kid):
            return self.fail(403, "This link is not valid: its signature does not match. "
                                  "Use the exact link of the item's asset.")
        if int(expires) <= self.backend.settings.time():
            return self.fail(410, "This link expired; fetch the item again for a new one.")
        row = self.backend.catalog.get_image(f"{collection_id}:{item_id}")
        href = stac.asset_file(row) if row is not None else None
        if href is None:
            return self.fail(404, "Not found.")
        files = ImageFiles(self.backend.storage)
        name = f"{item_id}.tif"
        try:
            path = files.path(href)
            if path is not None:
                f = open(path, "rb")
                st = os.fstat(f.fileno())
                served = Served(name, st.st_size, f'"{st.st_size}-{st.st_mtime_ns}"', file=f)
            else:
                key_ = files.key(href)
                head_async = getattr(self.backend.storage, "head_async", None)
                info = await head_async(key_) if head_async is not None else self.backend.storage.head(key_)
                served = Served(name, info.size, f'"{info.size}-{str(info.etag).strip(chr(34))}"',
                                storage=self.backend.storage, key=key_)
        except FileNotFoundError:
            return self.fail(404, "Not found: the image's file is gone.")
        try:
            await self._send(served, stac.COG_TYPE, send_body)
        finally:
            served.close()


def stac_handlers(base_path: str, opts: dict[str, Any], kind: str) -> list[tuple]:
    """The ``stac/`` rules under ``base_path`` (normalised: one leading and trailing slash;
    see :func:`wf_widgets.server.routes.handlers`)."""
    base = re.escape(base_path)
    json_handler = jupyter_stac_handler() if kind == "jupyter" else StacHandler
    seg = r"([^/]+)"
    routes = [
        (r"stac/?", "landing"), (r"stac/conformance", "conformance"), (r"stac/collections", "collections"),
        (rf"stac/collections/{seg}", "collection"), (rf"stac/collections/{seg}/items", "items"),
        (rf"stac/collections/{seg}/items/{seg}", "item"), (r"stac/search", "search"),
    ]
    rules: list[tuple] = [(base + pattern, json_handler, {**opts, "route": route, "base_path": base_path}) for pattern, route in routes]
    rules.append((base + rf"stac/assets/{seg}/([^/]+)\.tif", AssetHandler, opts))
    return rules
