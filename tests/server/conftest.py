"""Fixtures of the server tests: an isolated Backend and the delivery service on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading

import pytest
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

import wf_widgets as wf
from wf_widgets.backend import Backend
from wf_widgets.config import Settings
from wf_widgets.server import make_app, stop_thread_server


@pytest.fixture
def backend(tmp_path):
    """An isolated Backend (no sweep at start), the default for the test; its thread server is stopped after."""
    b = Backend(Settings(home=tmp_path / "home", user="user:alice", email="alice@example.org"), sweep=False)
    previous = wf.set_backend(b)
    yield b
    stop_thread_server(b)
    wf.set_backend(previous)
    b.close()


@pytest.fixture
def served(backend):
    """Base URL of the kernel-thread mount of ``backend`` (a real server on 127.0.0.1)."""
    from wf_widgets.server import ensure_thread_server

    return ensure_thread_server(backend)


class AppServer:
    """Any tornado Application on 127.0.0.1 at a free port, on its own loop in a thread."""

    def __init__(self, app):
        self._sockets = bind_sockets(0, "127.0.0.1")
        self.url = f"http://127.0.0.1:{self._sockets[0].getsockname()[1]}"
        self._app = app
        self._started = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self._thread.start()
        self._started.wait(10)

    async def _main(self):
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = HTTPServer(self._app)
        server.add_sockets(self._sockets)
        self._started.set()
        await self._stop.wait()
        server.stop()
        await server.close_all_connections()

    def close(self):
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture
def app_server(backend):
    """Factory: serve ``make_app(backend, base_path)``; returns its base URL. Stopped after the test."""
    servers = []

    def start(base_path="/"):
        s = AppServer(make_app(backend, base_path))
        servers.append(s)
        return s.url

    yield start
    for s in servers:
        s.close()


@pytest.fixture
def store_result(backend):
    """Factory: a SUCCEEDED job row whose stored result is ``data``; returns its Job.

    For sizes and contents a computation would make slow to produce; the server only
    reads the row and the file, exactly as for a computed result.
    """
    from wf_widgets.jobs.compute import new_job_id

    def make(data: bytes, extension: str = "json", mimetype: str = "application/json") -> wf.Job:
        job_id = new_job_id()
        backend.jobs.create(job_id, kind="Str", graph={}, geoctx=None, format={"type": "json"},
                            destination={"type": "download"})
        name, size = backend.results.write(job_id, extension, data)
        expires = backend.settings.time() + backend.settings.retention_days * 86400.0
        backend.jobs.finish(job_id, "SUCCEEDED", result_path=name, result_mimetype=mimetype, result_size=size,
                            expires=expires)
        return wf.Job.get(job_id)

    return make
