"""Shared fixtures: every test runs against an isolated home folder."""

from __future__ import annotations

import os

import pytest

from tests._postgres import ThrowawayPostgres, initdb_path
from tests._workers import worker_environ
from wf_widgets import _context
from wf_widgets.backend import Backend, set_backend
from wf_widgets.config import Settings


@pytest.fixture(autouse=True, scope="session")
def _isolated_environment(tmp_path_factory):
    """Nothing a test does writes outside its temporary folders."""
    home = tmp_path_factory.mktemp("default-home")
    old = {k: os.environ.get(k) for k in os.environ if k.startswith("WF_WIDGETS_")}
    for k in old:
        del os.environ[k]
    os.environ["WF_WIDGETS_HOME"] = str(home)
    previous = set_backend(None)
    yield
    set_backend(previous)
    os.environ.pop("WF_WIDGETS_HOME", None)
    os.environ.update({k: v for k, v in old.items() if v is not None})


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL cluster on 127.0.0.1 for the session (tests/_postgres.py), stopped at its end."""
    if initdb_path() is None:
        pytest.skip("PostgreSQL is not installed (scripts/test installs Debian's postgresql)")
    with ThrowawayPostgres() as pg:
        yield pg


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request):
    """The ``database_url`` of a test run on each database: None (the embedded default, SQLite files in the
    home), then a new, empty schema of the session's PostgreSQL."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres").new_schema_url()


@pytest.fixture
def make_backend(tmp_path):
    """Factory of isolated Backends installed as the default; all closed afterwards."""
    made = []
    previous = _context.peek()

    def factory(**overrides) -> Backend:
        home = overrides.pop("home", tmp_path / f"home{len(made)}")
        executor = overrides.pop("executor", None)
        b = Backend(Settings(home=home, user=overrides.pop("user", "user:alice"), **overrides), executor=executor)
        made.append(b)
        set_backend(b)
        return b

    yield factory
    set_backend(previous)
    for b in made:
        b.close()


@pytest.fixture
def worker_env(monkeypatch):
    """``worker_env(backend)``: this process's environment becomes what a worker running ``backend``'s jobs
    needs, so that the process pools it starts next inherit it (a task carries a job's id alone)."""
    def apply(backend: Backend, home: object = None) -> None:
        for key in [k for k in os.environ if k.startswith("WF_WIDGETS_")]:
            monkeypatch.delenv(key)
        for key, value in worker_environ(backend, home).items():
            monkeypatch.setenv(key, value)

    return apply


@pytest.fixture
def backend(make_backend):
    """An isolated Backend, installed as the default for the test."""
    return make_backend()


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory):
    """A home holding the demo product ``sentinel-1:GRD``, owned by ``user:demo`` (public-read); built once.

    Tests read it as another user; the catalog destination tests work on copies of its
    ``catalog`` folder.
    """
    from wf_widgets.demo_data import make_demo_data

    home = tmp_path_factory.mktemp("demo-home")
    b = Backend(Settings(home=home, user="user:demo"), sweep=False)
    try:
        make_demo_data(b)
    finally:
        b.close()
    return home



@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 API on 127.0.0.1 (a real HTTP server) with the bucket ``wf-test``, for the session.

    ``os.environ`` holds the AWS variables pointing at it (endpoint, dummy credentials,
    region) while it runs; each test uses a prefix of its own (``s3_server.new_url()``).
    """
    from tests._s3 import start_s3, stop_s3

    server, saved = start_s3()
    yield server
    stop_s3(server, saved)


@pytest.fixture(params=["file", "s3"])
def storage_url(request):
    """Each object store a test runs on: None (the default, ``file://<home>``) and a fresh ``s3://`` prefix."""
    if request.param == "file":
        return None
    return request.getfixturevalue("s3_server").new_url()
