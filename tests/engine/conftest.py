"""Fixtures of the engine tests: the demo product (built once per session) and small products."""

from __future__ import annotations

import pytest

from wf_widgets.backend import Backend, set_backend
from wf_widgets.config import Settings


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
