"""Big graph literals live in blob files, not in rows; the WAL stays small; a full disk is a clear error."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

import wf_widgets as wf
from wf_widgets import blobs as blobs_module
from wf_widgets.errors import DiskFull, JobTransient, ValidationError

MiB = 1024 * 1024


def big_array(seed: int = 0, n: int = 3_000_000) -> wf.Array:
    """A 24 MB float64 array literal (32 MB of base64 in the graph)."""
    return wf.Array(np.arange(n, dtype=np.float64) + seed)


def db_bytes(path) -> int:
    return sum(os.path.getsize(f"{path}{s}") for s in ("", "-wal") if os.path.exists(f"{path}{s}"))


def age(path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_a_big_array_literal_stays_out_of_the_job_row(backend):
    value = big_array().sum()
    assert value.compute() == float(np.arange(3_000_000, dtype=np.float64).sum())  # run here, from the node
    job = big_array().sum().compute(block=False)  # run by the pool, from the row
    assert job.result(timeout=120) == float(np.arange(3_000_000, dtype=np.float64).sum())
    assert db_bytes(backend.jobs.path) < 2 * MiB
    files = list((backend.settings.home / "blobs").iterdir())
    assert len(files) == 1 and files[0].stat().st_size > 24 * MiB
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    raw = backend.jobs._conn().execute("SELECT graph, blobs FROM jobs WHERE id = ?", (job.id,)).fetchone()
    assert len(raw["graph"]) < 4096 and json.loads(raw["blobs"]) == [files[0].name]
    assert {"blob": files[0].name} in [a for n in json.loads(raw["graph"])["nodes"].values() for a in n["args"]]
    assert backend.jobs.get(job.id)["graph"] == value.to_json()  # read back whole


def test_graphs_over_the_literal_limit_are_refused_before_a_job_exists(make_backend):
    backend = make_backend(max_literal_bytes=MiB)
    with pytest.raises(ValidationError, match=r"literals take 1\.\d MiB, more than the 1\.0 MiB .*max_literal_bytes, "
                                              r"WF_WIDGETS_MAX_LITERAL_BYTES") as err:
        wf.Array(np.zeros(100_000)).sum().compute(block=False)
    assert err.value.field == "value"
    assert backend.jobs.list() == []
    assert not (backend.settings.home / "blobs").exists() or not list((backend.settings.home / "blobs").iterdir())
    assert wf.Array(np.zeros(10_000)).sum().compute() == 0.0  # under the limit, in a blob file
    assert len(list((backend.settings.home / "blobs").iterdir())) == 1


def test_the_limit_is_a_setting(tmp_path):
    env = {"WF_WIDGETS_HOME": str(tmp_path), "WF_WIDGETS_MAX_LITERAL_BYTES": "1000"}
    assert wf.Settings.from_env(env).max_literal_bytes == 1000
    assert wf.Settings(home=tmp_path).max_literal_bytes == 256 * MiB
    with pytest.raises(ValidationError, match="WF_WIDGETS_MAX_LITERAL_BYTES must be a number, got 'lots'"):
        wf.Settings.from_env({**env, "WF_WIDGETS_MAX_LITERAL_BYTES": "lots"})


def test_the_sweeper_deletes_blobs_no_live_row_uses(backend):
    expired = big_array(1, 20_000).sum().compute(block=False, format="json")
    live = big_array(2, 20_000).sum().compute(block=False, format="json")
    expired.wait(60), live.wait(60)
    root = backend.settings.home / "blobs"
    (expired_key,), (live_key,) = (backend.jobs.get(j.id)["blobs"] for j in (expired, live))
    orphan_old, orphan_young = root / ("a" * 64), root / ("b" * 64)  # a launch that died before its row
    orphan_old.write_bytes(b"[]"), orphan_young.write_bytes(b"[]")
    for path in (root / expired_key, root / live_key, orphan_old):
        age(path, blobs_module.GRACE_S + 60)
    backend.jobs._conn().execute("UPDATE jobs SET result_deleted = 1 WHERE id = ?", (expired.id,))  # swept
    queries = []
    backend.jobs._conn().set_trace_callback(queries.append)
    backend.sweep()
    backend.jobs._conn().set_trace_callback(None)
    assert sorted(p.name for p in root.iterdir()) == sorted([live_key, orphan_young.name])
    assert len([q for q in queries if "SELECT blobs" in q]) == 1  # one query, not one per blob


def test_layers_keep_big_literals_in_blob_files(backend):
    graph = (big_array(3) * 2).to_json()
    layer = backend.layers.put(graph, {"scales": [[0, 1]]}, name="big")
    assert db_bytes(backend.layers.path) < 2 * MiB
    assert backend.layers.get(layer["id"])["graph"] == graph
    (key,) = backend.layers.get(layer["id"])["blobs"]
    age(backend.settings.home / "blobs" / key, blobs_module.GRACE_S + 60)
    backend.sweep()
    assert (backend.settings.home / "blobs" / key).exists()  # the layer uses it
    backend.layers.delete(layer["id"])
    backend.sweep()
    assert not (backend.settings.home / "blobs" / key).exists()
    with pytest.raises(ValidationError, match="max_literal_bytes"):
        wf.Backend(wf.Settings(home=backend.settings.home, max_literal_bytes=1000), sweep=False).layers.put(graph, {})


def test_sweeps_truncate_the_wal(backend):
    for i in range(30):
        (wf.Int(i) + 1).compute(format="json")
    backend.jobs.write_held()
    wal = f"{backend.jobs.path}-wal"
    assert os.path.getsize(wal) > 0
    backend.sweep()
    assert os.path.getsize(wal) == 0
    assert backend.jobs._conn().execute("PRAGMA journal_size_limit").fetchone()[0] == 4 * MiB


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MiB tmpfs mounted for the test (tests run as root here)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here ({out.stderr.strip()}); the full-disk test needs one")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=True)


def fill(folder, name: str, leave: int) -> None:
    """Write a file in ``folder`` until ``leave`` bytes are free (0: until the disk is full)."""
    chunk = b"\0" * 65536
    with open(folder / name, "wb", buffering=0) as f:
        try:
            while shutil.disk_usage(folder).free > leave:
                f.write(chunk[:max(4096, min(len(chunk), shutil.disk_usage(folder).free - leave))])
        except OSError:
            pass


def test_a_full_disk_is_a_clear_error_and_freeing_space_recovers(small_disk, make_backend):
    home = small_disk / "home"
    backend = make_backend(home=home)
    assert (wf.Int(1) + 1).compute() == 2
    backend.sweep()  # the WAL truncated: new rows need new space

    fill(small_disk, "filler-1", leave=8 * MiB)
    with pytest.raises(DiskFull, match=f"No space left on the disk of {home / 'blobs'}: free some space") as err:
        big_array().sum().compute()
    assert err.value.code == "DISK_FULL" and err.value.errno == 28
    assert list((home / "blobs").iterdir()) == []  # nothing half-written
    assert len(backend.jobs.list()) == 1  # and no job
    assert (wf.Int(2) + 1).compute() == 3  # small jobs still run

    fill(small_disk, "filler-2", leave=256 * 1024)  # room for rows, not for a 1 MB result
    with pytest.raises(JobTransient, match=f"No space left on the disk of {home / 'results'}"):
        (wf.Str("x") * 1_000_000).compute(format="json")
    assert [p.name for p in (home / "results").iterdir() if p.stat().st_size > 100_000] == []

    backend.sweep()
    fill(small_disk, "filler-3", leave=0)
    with pytest.raises(DiskFull, match=f"No space left on the disk of {home}: free some space"):
        (wf.Int(3) + 1).compute()

    for name in ("filler-1", "filler-2", "filler-3"):
        (small_disk / name).unlink()
    assert (wf.Int(4) + 1).compute() == 5  # this process carries on
    assert big_array().sum().compute(block=False).result(timeout=120) == float(np.arange(3_000_000).sum())
    env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
    out = subprocess.run([sys.executable, "-c", "import wf_widgets as wf; print((wf.Int(5) + 1).compute())"],
                         env=dict(env, WF_WIDGETS_HOME=str(home)), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "6", out.stderr  # so does a new one


def test_blobs_live_in_the_object_store_and_are_swept_there(make_backend, storage_url):
    backend = make_backend(storage_url=storage_url)
    value = wf.Array(np.arange(20_000, dtype=np.float64)).sum()
    job = value.compute(block=False)
    assert job.result(timeout=60) == float(np.arange(20_000, dtype=np.float64).sum())  # read back by the worker
    (key,) = backend.jobs.get(job.id)["blobs"]
    assert backend.storage.keys("blobs") == [f"blobs/{key}"] and backend.jobs.get(job.id)["graph"] == value.to_json()
    assert (backend.settings.home / "blobs").exists() == (storage_url is None)  # nothing local on S3
    orphan = "blobs/" + "a" * 64  # a launch that died before its row
    backend.storage.put(orphan, b"[]")
    assert backend.jobs.blobs.sweep(backend.blob_refs()) == 0  # young: spared
    assert backend.jobs.blobs.sweep(backend.blob_refs(), grace_s=-60) == 1  # as if old: deleted
    assert backend.storage.keys("blobs") == [f"blobs/{key}"]  # the live row's stays
    backend.jobs._conn().execute("UPDATE jobs SET result_deleted = 1 WHERE id = ?", (job.id,))
    assert backend.jobs.blobs.sweep(backend.blob_refs(), grace_s=-60) == 1 and backend.storage.keys("blobs") == []
