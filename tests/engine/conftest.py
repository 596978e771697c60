"""Fixtures of the engine tests: the demo product (built once per session) and small products."""

from __future__ import annotations

import pytest

from wf_widgets.backend import Backend, set_backend
from wf_widgets.config import Settings
from wf_widgets.demo_data import make_demo_data


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory):
    """A home holding the demo product ``sentinel-1:GRD``, owned by ``user:demo`` (public-read)."""
    home = tmp_path_factory.mktemp("demo-home")
    b = Backend(Settings(home=home, user="user:demo"), sweep=False)
    try:
        make_demo_data(b)
    finally:
        b.close()
    return home


def _install(settings: Settings):
    b = Backend(settings, sweep=False)
    previous = set_backend(b)
    return b, previous


@pytest.fixture
def demo_backend(demo_home):
    """``user:alice`` on the demo home, installed as the default backend."""
    b, previous = _install(Settings(home=demo_home, user="user:alice"))
    yield b
    set_backend(previous)
    b.close()


@pytest.fixture
def home_backend(tmp_path):
    """``user:alice`` on an empty home, installed as the default backend."""
    b, previous = _install(Settings(home=tmp_path / "home", user="user:alice"))
    yield b
    set_backend(previous)
    b.close()
