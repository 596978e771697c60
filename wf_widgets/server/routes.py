"""The routes of the delivery service, and the tornado Application every mount serves.

=============================================  ===============================================
route (under the mount's base path)            what
=============================================  ===============================================
``GET|HEAD results/<job id>?expires=&signature=``  the stored result (:mod:`~wf_widgets.server.app`)
``GET health``                                 ``{"ok": true, "kind": ..., "pid": ...}``
``GET tiles/<layer id>/<z>/<x>/<y>.png``       a map tile of a stored layer (:mod:`~wf_widgets.server.tiles`)
``GET|POST stac/...``                          the catalog as a STAC API (:mod:`~wf_widgets.server.stac`)
=============================================  ===============================================
"""

from __future__ import annotations

import re
from typing import Any

import tornado.web

from .._context import BackendLike
from .app import HealthHandler, NotFoundHandler, ResultHandler, log_request, normalize_base_path
from .stac import stac_handlers
from .tiles import tile_handler


def handlers(backend: BackendLike, base_path: str = "/", kind: str = "standalone") -> list[tuple]:
    """The routes of the delivery service, under ``base_path``.

    Parameters
    ----------
    backend : Backend
        Whose job store, result store and signer answer the requests.
    base_path : str
        URL path the routes live under (``"/"``, or ``"<base_url>wf-widgets/"`` in Jupyter).
    kind : str
        The mount (``"standalone"``, ``"jupyter"`` or ``"thread"``), reported by ``health``.

    Returns
    -------
    list of tuple
        ``(pattern, handler class, init kwargs)`` rules for tornado.
    """
    base = re.escape(normalize_base_path(base_path))
    opts = {"backend": backend, "kind": kind}
    return [
        (base + r"results/([^/]*)", ResultHandler, opts),
        (base + r"health", HealthHandler, opts),
        # Tiles: under the Jupyter extension they need Jupyter's login (a JupyterHandler);
        # elsewhere the 128-bit random layer id is the only key (see server/tiles.py).
        (base + r"tiles/([0-9a-f]{32})/(\d{1,2})/(\d{1,9})/(\d{1,9})\.png", tile_handler(kind), opts),
        *stac_handlers(normalize_base_path(base_path), opts, kind),
    ]


def make_app(backend: BackendLike, base_path: str = "/", kind: str = "standalone", **settings: Any) -> tornado.web.Application:
    """A tornado Application serving :func:`handlers` (plain-text 404 for anything else).

    Parameters
    ----------
    backend : Backend
    base_path : str
        URL path of the routes.
    kind : str
        The mount's name, reported by ``health``.
    **settings
        Extra tornado Application settings.
    """
    opts = {"backend": backend, "kind": kind}
    return tornado.web.Application(
        handlers(backend, base_path, kind),
        default_handler_class=NotFoundHandler, default_handler_args=opts,
        log_function=log_request, **settings,
    )
