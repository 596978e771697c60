"""Fixtures of the server tests: an isolated Backend and the delivery service on 127.0.0.1."""

from __future__ import annotations

import pytest

import wf_widgets as wf
from wf_widgets.backend import Backend
from wf_widgets.config import Settings
from wf_widgets.server import stop_thread_server
from wf_widgets.server.thread import ThreadServer

#: Runs a test on every object store: ``file://<home>`` and ``s3://`` (moto's S3 API on 127.0.0.1).
every_store = pytest.mark.parametrize("store_kind", ["file", "s3"], indirect=True)


@pytest.fixture
def store_kind(request):
    """The kind of object store of ``backend``: "file" unless a test is marked :data:`every_store`."""
    return getattr(request, "param", "file")


@pytest.fixture
def backend(tmp_path, store_kind, request):
    """An isolated Backend (no sweep at start), the default for the test; its thread server is stopped after."""
    storage_url = request.getfixturevalue("s3_server").new_url() if store_kind == "s3" else None
    b = Backend(Settings(home=tmp_path / "home", user="user:alice", email="alice@example.org",
                         storage_url=storage_url), sweep=False)
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


@pytest.fixture
def app_server(backend):
    """Factory: serve ``make_app(backend, base_path)``; returns its base URL. Stopped after the test."""
    servers = []

    def start(base_path="/"):
        s = ThreadServer(backend, register=False, base_path=base_path, kind="standalone")
        servers.append(s)
        return s.url

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def store_result(backend):
    """Factory: a SUCCEEDED job row whose stored result is ``data``; returns its Job.

    For sizes and contents a computation would make slow to produce; the server only
    reads the row and the file, exactly as for a computed result.
    """
    from wf_widgets.jobs.plan import new_job_id

    def make(data: bytes, extension: str = "json", mimetype: str = "application/json") -> wf.Job:
        job_id = new_job_id()
        backend.jobs.create(job_id, kind="Str", graph={}, geoctx=None, format={"type": "json"},
                            destination={"type": "download"})
        stored = backend.results.store(job_id, extension, data)  # result_path, result_size, result_sha256
        expires = backend.settings.time() + backend.settings.retention_days * 86400.0
        backend.jobs.finish(job_id, "SUCCEEDED", result_mimetype=mimetype, expires=expires, **stored)
        return wf.Job.get(job_id)

    return make
