"""Everything wf_widgets creates in its home is private: folders 0700, files 0600, under the usual umask."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

import wf_widgets as wf
from wf_widgets import _files
from wf_widgets.server import stop_thread_server
from wf_widgets.server.testing import fetch


@pytest.fixture
def usual_umask():
    """The common umask 022 (files 0644, folders 0755 unless the package says otherwise); restored after."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _modes(home):
    out = {home: stat.S_IMODE(home.stat().st_mode)}
    for folder, dirs, names in os.walk(home):
        for name in dirs + names:
            path = os.path.join(folder, name)
            out[path] = stat.S_IMODE(os.lstat(path).st_mode)
    return out


def test_a_home_in_use_holds_only_private_files_and_folders(usual_umask, make_backend, tmp_path):
    backend = make_backend(home=tmp_path / "new" / "home")
    job = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
    assert fetch(job.url).status == 200  # the signing key, the kernel's server file
    product = wf.catalog.Product(id="org:p", name="p").save()
    wf.catalog.GenericBand(name="b", product_id=product.id, data_type="UInt16", band_index=0).save()
    image = wf.catalog.Image(name="i", product_id=product.id, cs_code="EPSG:32613",
                             geotrans=(500000, 10, 0, 4000000, 0, -10))
    image.upload_ndarray(np.ones((1, 64, 64), "uint16"))
    backend.layers.put({"op": "x"}, {})
    backend.sweep()
    home = backend.settings.home
    modes = _modes(home)
    names = {os.path.relpath(p, home) for p in modes}
    for expected in ("jobs.sqlite", "jobs.sqlite-wal", "signing.key", f"results/{job.id}.json",
                     "catalog/catalog.sqlite", "catalog/files/org:p/i.tif", "layers.sqlite", "servers"):
        assert expected in names, sorted(names)
    wrong = {os.path.relpath(p, home): f"{m:04o}" for p, m in modes.items()
             if m != (0o700 if os.path.isdir(p) else 0o600)}
    assert wrong == {}
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700  # a missing parent made here too
    stop_thread_server(backend)


def test_existing_folders_and_files_keep_their_mode(usual_umask, tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    _files.private_dir(folder / "a" / "b")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert stat.S_IMODE((folder / "a").stat().st_mode) == 0o700
    existing = folder / "db"
    existing.write_bytes(b"x")
    _files.touch_private(existing)
    assert stat.S_IMODE(existing.stat().st_mode) == 0o644 and existing.read_bytes() == b"x"
    assert os.umask(0o022) == 0o022  # the package never changed the process umask


def test_private_dir_refuses_a_file_in_the_way(tmp_path):
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="exists and is not a folder"):
        _files.private_dir(tmp_path / "f")
