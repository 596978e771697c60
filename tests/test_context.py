"""_context: the current backend, the factory, and Protocols that match the parts they describe."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

from wf_widgets import _context
from wf_widgets.backend import Backend, set_backend
from wf_widgets.catalog.store import CatalogStore
from wf_widgets.config import Settings
from wf_widgets.delivery.links import Signer
from wf_widgets.delivery.results import ResultStore
from wf_widgets.jobs.runner import Runner
from wf_widgets.jobs.store import JobStore
from wf_widgets.layers import LayerStore
from wf_widgets.storage import FileStorage, S3Storage

PAIRS = [(_context.JobStoreLike, JobStore), (_context.ResultStoreLike, ResultStore), (_context.SignerLike, Signer),
         (_context.CatalogStoreLike, CatalogStore), (_context.LayerStoreLike, LayerStore),
         (_context.RunnerLike, Runner), (_context.BackendLike, Backend), (_context.ObjectStoreLike, FileStorage),
         (_context.ObjectStoreLike, S3Storage)]


def _members(protocol: type) -> dict[str, object]:
    return {name: value for name, value in vars(protocol).items()
            if not name.startswith("_") and (callable(value) or isinstance(value, property))}


@pytest.mark.parametrize("protocol, cls", PAIRS, ids=[f"{p.__name__}-{c.__name__}" for p, c in PAIRS])
def test_each_protocol_describes_its_class(protocol, cls):
    for name, member in _members(protocol).items():
        assert hasattr(cls, name), f"{cls.__name__} has no {name}"
        if isinstance(member, property):
            assert isinstance(getattr(cls, name), property), f"{cls.__name__}.{name} is not a property"
            continue
        wanted = list(inspect.signature(member).parameters)
        got = list(inspect.signature(getattr(cls, name)).parameters)
        assert got[:len(wanted)] == wanted, f"{cls.__name__}.{name}{got} vs {protocol.__name__}{wanted}"


def test_the_current_backend_is_built_once_by_the_factory_and_can_be_replaced(tmp_path):
    previous = set_backend(None)
    try:
        first = _context.current()
        assert _context.current() is first and isinstance(first, Backend)
        mine = Backend(Settings(home=tmp_path / "home"))
        assert _context.set_current(mine) is first
        assert _context.current() is mine and _context.peek() is mine
    finally:
        set_backend(previous)


def test_building_a_backend_touches_no_disk(tmp_path):
    home = tmp_path / "nowhere"
    backend = Backend(Settings(home=home))
    assert backend.settings.home == home.resolve() and not home.exists()
    backend.close()
    assert not home.exists()


def test_without_the_backend_module_there_is_no_factory():
    code = ("import sys; sys.modules['wf_widgets'] = type(sys)('wf_widgets'); sys.modules['wf_widgets'].__path__ = "
            f"[{str(_context.__file__.rsplit('/', 1)[0])!r}]\n"
            "from wf_widgets import _context\n"
            "try:\n    _context.current()\nexcept RuntimeError as e:\n    print(type(e).__name__, e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.startswith("NoBackendFactory No backend: import wf_widgets"), out.stdout + out.stderr
