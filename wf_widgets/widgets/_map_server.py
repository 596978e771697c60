"""Where the map's browser fetches tiles: the base of tile URLs, resolved from the kernel.

Order (as for download links, with one difference for Jupyter):

1. ``WF_WIDGETS_PUBLIC_URL``, absolute, as given;
2. the Jupyter server extension of the server that started this kernel (its pid is the
   kernel's ``JPY_PARENT_PID``; or the only live one when that variable is not set): the
   URL's *path* only (``/<base_url>wf-widgets``), so the browser asks the page's own origin
   and sends Jupyter's login cookie, behind any proxy (JupyterHub, Binder);
3. a live standalone server (``wf-widgets serve``), absolute;
4. this kernel's thread server (started on demand), absolute; it works only while the
   kernel runs and only where the browser can reach 127.0.0.1.

Whether the browser really reaches the base is for the browser to say: see
:class:`~wf_widgets.widgets._map_probe.HealthProbe`.
"""

from __future__ import annotations

import dataclasses
import os
import urllib.parse

from .._context import BackendLike
from ..server import registry
from ..server.thread import ensure_thread_server

#: What the map's status line says about each kind of server.
DESCRIPTIONS = {
    "public_url": "the server at WF_WIDGETS_PUBLIC_URL",
    "jupyter": "the Jupyter server extension",
    "standalone": "the wf-widgets server",
    "thread": "a server inside this kernel (tiles stop when the kernel stops)",
}


@dataclasses.dataclass(frozen=True)
class TileServer:
    """A resolved tile server.

    Attributes
    ----------
    base : str
        Base of tile URLs, without a trailing slash (a path for the Jupyter extension).
    kind : str
        ``"public_url"``, ``"jupyter"``, ``"standalone"`` or ``"thread"``.
    """

    base: str
    kind: str

    def tile_url(self, layer_id: str, version: int) -> str:
        """The XYZ template of a layer: ``<base>/tiles/<id>/{z}/{x}/{y}.png?v=<version>``."""
        return f"{self.base}/tiles/{layer_id}/{{z}}/{{x}}/{{y}}.png?v={version}"

    @property
    def health_url(self) -> str:
        """``<base>/health``, what the probe fetches."""
        return f"{self.base}/health"

    @property
    def description(self) -> str:
        return DESCRIPTIONS.get(self.kind, self.kind)


def _jupyter_path(url: str) -> str:
    return urllib.parse.urlsplit(url).path.rstrip("/")


def resolve_tile_server(backend: BackendLike) -> TileServer:
    """The :class:`TileServer` this kernel's maps use (see the module doc for the order)."""
    public = backend.settings.public_url
    if public:
        return TileServer(public.rstrip("/"), "public_url")
    live = registry.live_servers(backend.settings)
    jupyters = [s for s in live if s["kind"] == "jupyter"]
    parent = os.environ.get("JPY_PARENT_PID", "")
    mine = [s for s in jupyters if str(s["pid"]) == parent]
    if mine:
        return TileServer(_jupyter_path(mine[0]["url"]), "jupyter")
    if not parent and len(jupyters) == 1:
        return TileServer(_jupyter_path(jupyters[0]["url"]), "jupyter")
    for info in live:
        if info["kind"] == "standalone":
            return TileServer(info["url"].rstrip("/"), "standalone")
    return TileServer(ensure_thread_server(backend).rstrip("/"), "thread")
