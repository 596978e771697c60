"""Fixtures of the catalog tests: an isolated backend, other users on the same home, helpers."""

from __future__ import annotations

import contextlib

import pytest

from wf_widgets.backend import Backend, set_backend
from wf_widgets.catalog import Product
from wf_widgets.config import Settings

#: Runs a test on every object store: ``file://<home>`` and ``s3://`` (moto's S3 API on 127.0.0.1).
every_store = pytest.mark.parametrize("store_kind", ["file", "s3"], indirect=True)


@pytest.fixture
def store_kind(request):
    """The kind of object store of ``cat``: "file" unless a test is marked :data:`every_store`."""
    return getattr(request, "param", "file")


@pytest.fixture
def cat(tmp_path, store_kind, request):
    """A Backend for user:alice on an empty home, installed as the default."""
    storage_url = request.getfixturevalue("s3_server").new_url() if store_kind == "s3" else None
    backend = Backend(Settings(home=tmp_path / "home", user="user:alice", storage_url=storage_url), sweep=False)
    previous = set_backend(backend)
    yield backend
    set_backend(previous)
    backend.close()


@pytest.fixture
def as_user(cat):
    """``with as_user("user:bob"):`` runs the block as another user of the same catalog."""
    made = []

    @contextlib.contextmanager
    def switch(user: str, **settings):
        backend = Backend(Settings(home=cat.settings.home, user=user, storage_url=cat.settings.storage_url,
                                   **settings), sweep=False)
        made.append(backend)
        previous = set_backend(backend)
        try:
            yield backend
        finally:
            set_backend(previous)

    yield switch
    for backend in made:
        backend.close()


@pytest.fixture
def product(cat):
    """A saved, private product of alice: org:my_product_id."""
    return Product(id="org:my_product_id", name="My product").save()
