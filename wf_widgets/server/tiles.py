"""``GET tiles/<layer id>/<z>/<x>/<y>.png``: XYZ tiles of a stored layer.

The layer (an Image graph and its render options) is read from the home folder's
:class:`~wf_widgets.layers.LayerStore`, evaluated in the web-mercator tile (an AOI in
EPSG:3857 with the tile's bounds, 256 x 256 pixels) and rendered to PNG by
:mod:`wf_widgets.engine.render`. Rendering runs on a small thread pool, never on the
server's event loop.

Answers:

* 200 ``image/png`` with an ``ETag`` (a hash of the bytes) and ``Cache-Control: private,
  max-age=300`` (the map puts the layer's version in the URL, ``?v=``, so a replaced
  layer is fetched again); 304 when ``If-None-Match`` matches;
* 404 (plain text) for an unknown layer or a tile outside the zoom's grid;
* 400 with our own error's text (``"<Name>: <message>"`` of a
  :class:`~wf_widgets.errors.WfError`: an invalid graph, an unknown product, a memory
  estimate over ``max_memory``, ...) when the layer can't be rendered, 403 for a
  PermissionDenied;
* 500 with a generic "Render failed" message for any other failure: its text is never
  sent (it could quote anything the evaluation touched); its type and location are logged.

Either error is also recorded in the store (time, z/x/y, the same message) for the map's log.

Repeated tiles come from an in-process LRU cache (:data:`CACHE_BYTES`) keyed by layer id,
version and z/x/y.

Login: under the Jupyter extension the route is :func:`jupyter_tile_handler`'s handler,
which keeps Jupyter's login (``@web.authenticated``; 403 without it, no redirect to the
login page); standalone and in a kernel thread the
128-bit random layer id is the only key (the route is public, like ``/results``).
"""

from __future__ import annotations

import collections
import hashlib
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import tornado.web
from tornado.ioloop import IOLoop

from .._context import BackendLike
from ..engine.render import check_tile, error_text, log_failure, render_tile
from ..errors import PermissionDenied, ValidationError, WfError
from .app import BaseHandler, public

log = logging.getLogger("wf_widgets.server")

#: Bytes of PNG kept by the in-process tile cache.
CACHE_BYTES = 64 << 20
#: Threads rendering tiles (each evaluates one tile at a time).
RENDER_THREADS = max(8, min(32, 4 * (os.cpu_count() or 2)))
#: ``Cache-Control`` of a rendered tile.
CACHE_CONTROL = "private, max-age=300"


class TileCache:
    """A thread-safe LRU of rendered tiles, bounded in bytes.

    Parameters
    ----------
    max_bytes : int
        Least recently used tiles are dropped beyond this many bytes of PNG.
    """

    def __init__(self, max_bytes: int = CACHE_BYTES):
        self.max_bytes = max_bytes
        self._items: collections.OrderedDict[tuple, tuple[bytes, str]] = collections.OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> tuple[bytes, str] | None:
        """``(png, etag)`` for ``key``, or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item

    def put(self, key: tuple, png: bytes, etag: str) -> None:
        """Keep ``(png, etag)`` under ``key``, dropping the oldest tiles beyond the byte budget."""
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old[0])
            self._items[key] = (png, etag)
            self._bytes += len(png)
            while self._bytes > self.max_bytes and self._items:
                _, (dropped, _) = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    def clear(self) -> None:
        """Forget every tile."""
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)


#: The process's tile cache (shared by every mount in this process).
CACHE = TileCache()
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="wf-tiles")
    return _executor


class TileResponse:
    """What :func:`get_tile` found: ``status`` (200, 400, 403, 404 or 500), ``body`` and, for 200, ``etag``."""

    __slots__ = ("status", "body", "etag")

    def __init__(self, status: int, body: bytes, etag: str | None = None):
        self.status, self.body, self.etag = status, body, etag


def get_tile(backend: BackendLike, layer_id: str, z: int, x: int, y: int, cache: TileCache | None = CACHE) -> TileResponse:
    """Render (or find in ``cache``) tile ``z/x/y`` of layer ``layer_id``; blocking.

    A failed render is recorded in the layer store and answered as the module docstring says.
    """
    try:
        check_tile(z, x, y)
    except ValidationError as exc:
        return TileResponse(404, f"{exc}.".encode())
    store = backend.layers
    row = store.get(layer_id)
    if row is None:
        return TileResponse(404, b"Unknown layer: preview the value on a map again (layers live as long as their map).")
    key = (layer_id, row["version"], z, x, y)
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            return TileResponse(200, hit[0], hit[1])
    options = row["options"]
    try:
        png = render_tile(row["graph"], z, x, y, scales=options.get("scales"), colormap_name=options.get("colormap"),
                          checkerboard=bool(options.get("checkerboard")), backend=backend)
    except Exception as exc:  # any failure of the layer: recorded for the map, answered with a safe message
        message = error_text(exc)
        if isinstance(exc, WfError):
            status = 403 if isinstance(exc, PermissionDenied) else 400
            log.debug("tile %s/%d/%d/%d: %s", layer_id, z, x, y, message)
        else:
            status = 500
            log_failure(log, f"tile {layer_id}/{z}/{x}/{y}", exc)
        try:
            store.record_error(layer_id, row["version"], z, x, y, message)
        except Exception:  # a locked store must not hide the error itself
            log.exception("wf_widgets: could not record a tile error")
        return TileResponse(status, message.encode("utf-8", errors="replace"))
    etag = '"' + hashlib.sha256(png).hexdigest()[:32] + '"'
    if cache is not None:
        cache.put(key, png, etag)
    return TileResponse(200, png, etag)


async def serve_tile(handler: tornado.web.RequestHandler, backend: BackendLike, layer_id: str, z: str, x: str,
                     y: str) -> None:
    """Answer a tile request on ``handler`` (any RequestHandler: plain or Jupyter's)."""
    response = await IOLoop.current().run_in_executor(_pool(), get_tile, backend, layer_id, int(z), int(x), int(y))
    if response.status != 200:
        handler.set_status(response.status)
        handler.set_header("Content-Type", "text/plain; charset=utf-8")
        handler.set_header("Cache-Control", "no-store")
        handler.finish(response.body + b"\n")
        return
    handler.set_header("ETag", response.etag)
    handler.set_header("Cache-Control", CACHE_CONTROL)
    inm = handler.request.headers.get("If-None-Match")
    if inm is not None and response.etag in [t.strip() for t in inm.split(",")]:
        handler.set_status(304)
        handler.finish()
        return
    handler.set_header("Content-Type", "image/png")
    handler.finish(response.body)


class TileHandler(BaseHandler):
    """``GET tiles/<layer id>/<z>/<x>/<y>.png`` standalone and in a kernel thread.

    Public: the 128-bit random layer id is the key (as the signature is for ``/results``).
    """

    @public
    async def get(self, layer_id: str, z: str, x: str, y: str) -> None:
        await serve_tile(self, self.backend, layer_id, z, x, y)

    def _log(self) -> None:
        # A failed tile is the user's graph failing, recorded for the map's log: log it at
        # INFO, so a kernel's thread server never prints it into the notebook.
        request = self.request
        log.info("%d %s %s %.1fms", self.get_status(), request.method, request.path, 1000.0 * request.request_time())


_jupyter_handler: type | None = None


def jupyter_tile_handler() -> type:
    """The tile handler of the Jupyter mount: a ``JupyterHandler`` that needs Jupyter's login.

    Imports jupyter_server (only the Jupyter mount calls this).
    """
    global _jupyter_handler
    if _jupyter_handler is None:
        from jupyter_server.base.handlers import JupyterHandler  # noqa: PLC0415  (optional: only under Jupyter)

        class JupyterTileHandler(JupyterHandler):
            """``GET tiles/...`` under ``<base_url>wf-widgets/``, behind Jupyter's login."""

            def initialize(self, backend: BackendLike, kind: str) -> None:
                self.backend = backend
                self.kind = kind

            def compute_etag(self) -> str | None:
                return None

            def get_login_url(self) -> str:
                # An image request can't log in: answer 403 instead of redirecting to a login page.
                raise tornado.web.HTTPError(403)

            def write_error(self, status_code: int, **kwargs: Any) -> None:
                self.set_header("Content-Type", "text/plain; charset=utf-8")
                self.finish(f"{status_code} {self._reason}: log in to Jupyter to see map tiles\n")

            @tornado.web.authenticated
            async def get(self, layer_id: str, z: str, x: str, y: str) -> None:
                self._transforms = []  # the PNG is sent as it is
                await serve_tile(self, self.backend, layer_id, z, x, y)

        _jupyter_handler = JupyterTileHandler
    return _jupyter_handler


def tile_handler(kind: str) -> type:
    """The handler class of the tiles route for a mount ``kind``."""
    return jupyter_tile_handler() if kind == "jupyter" else TileHandler
