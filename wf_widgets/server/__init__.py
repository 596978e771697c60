"""The delivery service: signed result downloads, map tiles of stored layers, and health.

One set of tornado handlers (:func:`~wf_widgets.server.routes.handlers`) mounted three ways:

- standalone, ``wf-widgets serve`` (:mod:`wf_widgets.server.standalone`);
- a Jupyter server extension under ``<base_url>wf-widgets/`` (:mod:`wf_widgets.server.jupyter`);
- a server in a kernel thread on 127.0.0.1 (:mod:`wf_widgets.server.thread`).

Nothing here imports Jupyter at import time; only the Jupyter mount needs jupyter_server.
"""

from __future__ import annotations

from .routes import handlers, make_app
from .thread import ensure_thread_server, stop_thread_server

__all__ = ["ensure_thread_server", "handlers", "make_app", "stop_thread_server"]
