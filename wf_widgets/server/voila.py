"""Voila with the wf_widgets handlers: ``wf-widgets voila NOTEBOOK [VOILA OPTIONS]``.

Standalone ``voila`` builds a tornado application of its own and loads no Jupyter server
extension, so a dashboard's kernel would serve tiles and download links from a server
inside itself on 127.0.0.1 (:mod:`wf_widgets.server.thread`): a visitor on another
machine reaches neither, and the map falls back to static images. This launcher is
Voila itself (the same options, the same safety: kernels run the notebook and nothing
else) with the handlers of the Jupyter mount added under ``<base_url>wf-widgets/``, the
sweeper started, and the server registered (kind ``"jupyter"``) in ``<home>/servers/``.
The kernels Voila starts find it there by their ``JPY_PARENT_PID``: the map asks the
page's own origin for tiles (``/wf-widgets/tiles/...``), whatever address the visitor used.

Download links carry the URL registered here, which only the host itself can read right
(behind a proxy, or on ``--Voila.ip=0.0.0.0``): set ``WF_WIDGETS_PUBLIC_URL`` to the address
visitors use (``https://dash.example.org/wf-widgets``).

Voila as a Jupyter server extension (``jupyter server`` with ``/voila/render/...``) needs no
launcher: the server loads this package's extension too (see :mod:`wf_widgets.server.jupyter`).
Voila is not a dependency of the package: ``pip install voila``.
"""

from __future__ import annotations

import atexit
import socket
from typing import Any, Sequence

from .. import _context
from . import registry
from .jupyter import PREFIX
from .routes import handlers
from .sweeper import start_sweeper


def _link_host(ip: str) -> str:
    """The host of the registered URL: the address Voila listens on (this host's name for "all")."""
    if ip in ("", "0.0.0.0", "::"):
        return socket.gethostname()
    return f"[{ip}]" if ":" in ip else ip


def voila_app_class() -> type:
    """The Voila application class with the wf_widgets handlers (imports voila, an optional package).

    Raises
    ------
    ImportError
        Voila is not installed (the message says how to install it).
    """
    try:
        from voila.app import Voila  # noqa: PLC0415  (optional package: imported when a dashboard starts)
    except ImportError as exc:
        raise ImportError("`wf-widgets voila` needs Voila: pip install voila") from exc

    class WfVoila(Voila):
        """Voila serving the wf_widgets handlers beside the dashboard."""

        name = "wf-widgets-voila"

        def init_handlers(self) -> list:
            backend = _context.current()
            base_path = self.base_url.rstrip("/") + f"/{PREFIX}/"
            # first: Voila's own routes end in catch-alls
            return handlers(backend, base_path, kind="jupyter") + super().init_handlers()

        def start(self) -> None:
            from tornado.ioloop import IOLoop  # noqa: PLC0415  (with voila's own imports)

            IOLoop.current().add_callback(self._wf_widgets_started)  # runs once listening: the port is final
            super().start()

        def _wf_widgets_started(self) -> None:
            backend = _context.current()
            self.wf_widgets_sweeper = start_sweeper(backend)
            url = f"http://{_link_host(self.ip)}:{self.port}{self.base_url.rstrip('/')}/{PREFIX}"
            path = registry.register(backend.settings, url, "jupyter")
            atexit.register(registry.unregister, path)
            self.log.info("wf_widgets: serving tiles and download links under %s/ (home %s)", url,
                          backend.settings.home)

    return WfVoila


def main(argv: Sequence[str] | None = None) -> Any:
    """Run Voila with the wf_widgets handlers; ``argv`` as for ``voila`` (a notebook, ``--Voila.*`` options)."""
    return voila_app_class().launch_instance(argv=list(argv) if argv is not None else None)


if __name__ == "__main__":  # pragma: no cover
    main()
