"""The Jupyter mount: a jupyter_server extension serving under ``<base_url>wf-widgets/``.

Enabled on install by ``etc/jupyter/jupyter_server_config.d/wf_widgets.json``
(``{"ServerApp": {"jpserver_extensions": {"wf_widgets": true}}}``), or by hand with
``--ServerApp.jpserver_extensions="{'wf_widgets.server.jupyter': True}"``. Binder and
JupyterHub then need nothing extra: links go through the notebook server's own address.

The handlers are the plain tornado ones of :mod:`wf_widgets.server.app`; ``results`` and
``health`` are marked public (the signature is the authorisation). The tiles route keeps
Jupyter's login: for this mount ``handlers(..., kind="jupyter")`` gives it a
``jupyter_server.base.handlers.JupyterHandler`` with ``tornado.web.authenticated``
(:func:`wf_widgets.server.tiles.jupyter_tile_handler`).

The server process serves the home folder of its ``WF_WIDGETS_HOME``; kernels it starts
inherit that variable, find this server's file in ``<home>/servers/`` and put its URL
(``ServerApp.connection_url`` + ``wf-widgets``) in their links. Behind a proxy (JupyterHub)
that URL is the internal one: set ``WF_WIDGETS_PUBLIC_URL`` to the public address
(``https://hub.example.org/user/<name>/wf-widgets``) for links that work outside.
"""

from __future__ import annotations

import atexit
from typing import Any

from .. import _context
from . import registry
from .routes import handlers
from .sweeper import start_sweeper

#: URL path segment of the mount, under the server's base_url.
PREFIX = "wf-widgets"


def _jupyter_server_extension_points() -> list[dict]:
    """Entry point jupyter_server looks for when the extension is enabled by module name."""
    return [{"module": "wf_widgets.server.jupyter"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Add the delivery handlers to the Jupyter server, start the sweeper and register it.

    Parameters
    ----------
    serverapp : jupyter_server.serverapp.ServerApp
    """
    backend = _context.current()
    base_url = serverapp.web_app.settings.get("base_url", "/")
    base_path = base_url.rstrip("/") + f"/{PREFIX}/"
    serverapp.web_app.add_handlers(".*$", handlers(backend, base_path, kind="jupyter"))

    def started() -> None:
        # Runs once the loop runs: the port is final (port 0 or a busy port moves it).
        serverapp.wf_widgets_sweeper = start_sweeper(backend)
        if getattr(serverapp, "sock", ""):  # a unix socket: kernels can't put it in a link
            return
        url = serverapp.connection_url.rstrip("/") + f"/{PREFIX}"
        path = registry.register(backend.settings, url, "jupyter")
        atexit.register(registry.unregister, path)

    serverapp.io_loop.add_callback(started)
    serverapp.log.info("wf_widgets: serving download links under %s (home %s)", base_path, backend.settings.home)
