"""migrate.py and ``wf-widgets migrate``: an embedded home moved into PostgreSQL + S3 (the real servers)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import wf_widgets as wf
from wf_widgets import migrate as wf_migrate
from wf_widgets.backend import Backend
from wf_widgets.config import Settings
from wf_widgets.migrate import MigrationError, migrate

from .engine._helpers import make_product, upload

TILE = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 16, 0)
BIG = np.arange(20_000, dtype=np.float64)  # a literal big enough for a blob file


@pytest.fixture
def home(make_backend):
    """An embedded home with jobs (a stored result, one with a blob), a catalog image and a map layer."""
    backend = make_backend()
    small = (wf.Int(1) + 1).compute(block=False).wait(60)
    blob = wf.Array(BIG).sum().compute(block=False, format="json").wait(60)
    make_product(backend.catalog, "alice:migrated")
    upload(backend.catalog, "alice:migrated", "img", np.full((1, 16, 16), 7, np.uint16), TILE.crs, TILE.geotrans)
    layer = backend.layers.put(wf.Array(BIG).to_json(), {"opacity": 1.0}, name="big")
    assert {small.stage, blob.stage} == {"SUCCEEDED"} and backend.signer.key  # links signed with the home's key
    return backend, {"small": small.id, "blob": blob.id, "layer": layer["id"]}


@pytest.fixture
def target(postgres, s3_server, tmp_path):
    """Settings naming a fresh PostgreSQL schema and S3 prefix (and an empty home of their own)."""
    return Settings(home=tmp_path / "cluster-home", user="user:alice", database_url=postgres.new_schema_url(),
                    storage_url=s3_server.new_url())


def _objects(storage) -> dict[str, bytes]:
    return {key: storage.get(key) for prefix in ("results", "catalog/files", "blobs") for key in storage.keys(prefix)}


def test_an_embedded_home_moves_into_postgresql_and_s3(home, target, monkeypatch):
    source, ids = home
    monkeypatch.setattr(wf_migrate, "BATCH", 1)  # batches end within the tables too
    report = migrate(source.settings, target)
    assert report.rows == {"jobs": 2, "products": 1, "bands": 1, "images": 1, "layers": 1}
    assert report.copied_rows == report.rows
    expected = _objects(source.storage)
    assert len(expected) >= 4  # two results, the raster, the blob
    assert (report.objects, report.copied_objects, report.verified_objects) == (len(expected),) * 3

    moved = Backend(target, sweep=False)
    try:
        assert _objects(moved.storage) == expected
        assert wf.Job.get(ids["small"], moved).result() == 2
        assert float(wf.Job.get(ids["blob"], moved).result()) == float(BIG.sum())
        image = wf.catalog.Image.get("alice:migrated:img", store=moved.catalog)
        assert np.all(image.ndarray() == 7) and image.file_location.startswith("/vsis3/")
        assert moved.layers.get(ids["layer"])["name"] == "big"
    finally:
        moved.close()


def test_a_target_holding_anything_is_refused_unless_resuming(home, target):
    source, ids = home
    migrate(source.settings, target)
    with pytest.raises(MigrationError, match=r"The target is not empty \(rows in jobs, products, bands, images, "
                                             r"layers in postgresql://.*--resume"):
        migrate(source.settings, target)
    again = migrate(source.settings, target, resume=True)  # idempotent: nothing copied twice
    assert sum(again.copied_rows.values()) == 0 and again.copied_objects == 0 and again.verified_objects == again.objects


def test_an_interrupted_migration_resumes_and_a_damaged_object_is_found(home, target):
    source, ids = home
    migrate(source.settings, target)
    moved = Backend(target, sweep=False)
    try:
        # As if it had stopped half-way: a row and an object not copied yet.
        moved.jobs.db.write("DELETE FROM jobs WHERE id = ?", (ids["small"],))
        result_key = moved.results.key(source.jobs.get(ids["small"])["result_path"])
        moved.storage.delete(result_key)
        report = migrate(source.settings, target, resume=True)
        assert report.copied_rows["jobs"] == 1 and report.copied_objects == 1
        assert wf.Job.get(ids["small"], moved).result() == 2
        # The same size, other bytes: only the checksum tells.
        data = moved.storage.get(result_key)
        moved.storage.put(result_key, bytes(b ^ 0xFF for b in data))
        with pytest.raises(MigrationError, match=f"The object '{result_key}' differs in the target"):
            migrate(source.settings, target, resume=True)
    finally:
        moved.close()


def test_the_target_must_differ_from_the_source(home):
    source, _ = home
    with pytest.raises(wf.errors.ValidationError, match="The target must differ from the source"):
        migrate(source.settings, source.settings)


def test_the_command_migrates_this_home_and_says_what_to_set(home, target):
    source, ids = home
    env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
    env["WF_WIDGETS_HOME"] = str(source.settings.home)
    args = [sys.executable, "-m", "wf_widgets.cli", "migrate", "--to-database", target.database_url,
            "--to-storage", target.storage_url]
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "jobs: 2 row(s), 2 copied" in out.stdout and "verified by SHA-256" in out.stdout
    assert f"WF_WIDGETS_SIGNING_KEY=$(base64 -w0 {source.settings.home / 'signing.key'})" in out.stdout
    refused = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "wf-widgets migrate: The target is not empty" in refused.stderr
    resumed = subprocess.run(args + ["--resume"], env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0 and "jobs: 2 row(s), 0 copied" in resumed.stdout
