"""The kernel-thread mount: a server inside this process, started on demand.

When neither ``WF_WIDGETS_PUBLIC_URL``, a Jupyter extension nor a standalone server is
there, :func:`~wf_widgets.server.links.base_url` starts one of these: its own asyncio
loop in its own daemon thread, on 127.0.0.1 at a free port, serving the same handlers as
the other mounts (kind ``"thread"``). It lives as long as the process (the kernel), so
links it hands out say so (:data:`NOTE`, shown where a link is: the jobs board, an email,
and on stderr the first time ``Job.url`` gives one). Starting it prints nothing: a server
without a link to show is nothing to warn about.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from .._context import BackendLike
from . import registry
from .routes import make_app
from .sweeper import start_sweeper

HOST = "127.0.0.1"
#: Pending connections the listening socket queues (many concurrent downloads).
BACKLOG = 1024

NOTE = ("This download link is served by the Python process that made it (in Jupyter: the kernel) and works "
        "only while that process runs. For links that outlive it, run `wf-widgets serve`, enable the Jupyter "
        "server extension, or set WF_WIDGETS_PUBLIC_URL.")


class ThreadServer:
    """The delivery service on its own event loop in a daemon thread.

    Parameters
    ----------
    backend : Backend
        Answers the requests.
    port : int
        0 (default) picks a free port.
    register : bool
        Write ``<home>/servers/<pid>.json`` (kind ``"thread"``) while running.
    base_path, kind : str
        Where the handlers are mounted and which mount they act as (see
        :func:`~wf_widgets.server.routes.make_app`); tests serve the other mounts' variants so.

    Attributes
    ----------
    url : str
        ``http://127.0.0.1:<port>``.
    """

    def __init__(self, backend: BackendLike, port: int = 0, register: bool = True, base_path: str = "/",
                 kind: str = "thread"):
        self.backend = backend
        self._base_path, self._kind = base_path, kind
        self.pid = os.getpid()
        self._sockets = bind_sockets(port, HOST, backlog=BACKLOG)
        self.port = self._sockets[0].getsockname()[1]
        self.url = f"http://{HOST}:{self.port}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"wf-widgets-server-{self.port}", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        self._file = registry.register(backend.settings, self.url, "thread") if register else None

    @property
    def alive(self) -> bool:
        """True while the server's thread runs in this process."""
        return self.pid == os.getpid() and self._thread.is_alive()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
        finally:
            loop.close()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        server = HTTPServer(make_app(self.backend, self._base_path, kind=self._kind))
        server.add_sockets(self._sockets)
        sweeper = start_sweeper(self.backend)
        self._ready.set()
        try:
            await self._stop_event.wait()
        finally:
            sweeper.stop()
            server.stop()
            await server.close_all_connections()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, end the thread and remove the server file."""
        registry.unregister(self._file)
        self._file = None
        if self._loop is not None and self._thread.is_alive():
            try:
                self._loop.call_soon_threadsafe(self._stop_event.set)
            except RuntimeError:  # the loop closed already
                pass
            self._thread.join(timeout)


_servers: dict[str, ThreadServer] = {}
_lock = threading.Lock()


def running_thread_server(backend: BackendLike) -> ThreadServer | None:
    """This process's thread server for ``backend``'s home folder, if it runs."""
    server = _servers.get(str(backend.settings.home))
    return server if server is not None and server.alive else None


def ensure_thread_server(backend: BackendLike) -> str:
    """The URL of this process's thread server for ``backend``'s home, started if needed (quietly)."""
    key = str(backend.settings.home)
    with _lock:
        server = _servers.get(key)
        if server is None or not server.alive:
            server = _servers[key] = ThreadServer(backend)
        return server.url


def stop_thread_server(backend: BackendLike) -> bool:
    """Stop this process's thread server for ``backend``'s home; False if none ran."""
    with _lock:
        server = _servers.pop(str(backend.settings.home), None)
    if server is None or not server.alive:
        return False
    server.stop()
    return True


@atexit.register
def _stop_all() -> None:
    for key in list(_servers):
        server = _servers.pop(key, None)
        if server is not None and server.alive:
            registry.unregister(server._file)
