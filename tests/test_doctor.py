"""`wf-widgets doctor`: broken stores, orphan files, the signing key, disk space; `--repair`."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

import wf_widgets as wf
from wf_widgets import blobs as blobs_module
from wf_widgets import doctor
from wf_widgets.backend import Backend, set_backend
from wf_widgets.config import Settings
from wf_widgets.jobs import store as job_store

from .test_sqlite import corrupt


@pytest.fixture
def home(tmp_path):
    """A home with a finished job, a stored result, a map layer and a signing key; no Backend left open."""
    settings = Settings(home=tmp_path / "home")
    backend = Backend(settings)
    previous = set_backend(backend)
    try:
        (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
        backend.signer.key  # noqa: B018 - makes the key
        backend.layers.put((wf.Int(1) + 1).to_json(), {})
        backend.catalog  # noqa: B018 - makes the catalog store
    finally:
        set_backend(previous)
        backend.close()
    return settings.home


def report_of(home, repair=False, **kw):
    return doctor.run_doctor(Settings(home=home), repair=repair, min_free_bytes=kw.pop("min_free_bytes", 0), **kw)


def test_a_healthy_home_has_no_problems(home):
    report = report_of(home)
    assert report.exit_code == 0, report.text()
    text = report.text()
    for line in ("ok       jobs store", "ok       catalog store", "ok       layer store", "ok       signing key",
                 "ok       stored results 1 checked", "ok       disk space"):
        assert line in text
    assert text.endswith("No problems found.")


def test_a_corrupted_store_is_reported_then_moved_aside_and_the_next_compute_works(home, monkeypatch):
    monkeypatch.setattr(job_store, "ORPHAN_GRACE_S", 0.0)  # the old job's file is past its grace (see the end)
    jobs = home / "jobs.sqlite"
    # A process that died while writing leaves its WAL (and shared memory) beside the file.
    crash = ("import os, wf_widgets as wf\n"
             "b = wf.Backend(sweep=False)\n"
             "b.jobs.create('d' * 48, kind='Int', graph=wf.Int(1).to_json(), geoctx=None, format={'type': 'json'},"
             " destination={'type': 'download'})\n"
             "os._exit(0)\n")
    out = subprocess.run([sys.executable, "-c", crash], env=dict(os.environ, WF_WIDGETS_HOME=str(home)),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert (home / "jobs.sqlite-wal").exists() and (home / "jobs.sqlite-shm").exists()
    corrupt(jobs)
    report = report_of(home)
    assert report.exit_code == 1
    assert f"PROBLEM  jobs store     {jobs} is corrupted: file is not a database" in report.text()
    assert "not checked: the job store is broken" in report.text()
    assert "1 problem(s) found; `wf-widgets doctor --repair` fixes what can be fixed." in report.text()

    report = report_of(home, repair=True)
    assert report.exit_code == 0, report.text()
    moved = sorted(p.name for p in home.iterdir() if ".broken-" in p.name)
    assert len(moved) == 3 and moved[0].startswith("jobs.sqlite.broken-")
    assert moved[1:] == [moved[0] + "-shm", moved[0] + "-wal"]
    assert f"repaired: moved aside to {moved[0]}; a new, empty store is made at next use" in report.text()
    assert not jobs.exists() and not (home / "jobs.sqlite-wal").exists() and not (home / "jobs.sqlite-shm").exists()

    backend = Backend(Settings(home=home))
    previous = set_backend(backend)
    try:
        job = (wf.Int(20) + 22).compute(block=False)
        assert job.result(timeout=30) == 42
    finally:
        set_backend(previous)
        backend.close()
    # The old result belongs to no row now: the new backend's start-up sweep deleted it.
    assert [p.name.split(".")[0] for p in (home / "results").iterdir()] == [job.id]
    assert report_of(home).exit_code == 0


def test_orphan_results_and_blobs_are_reported_and_deleted(home):
    results, blob_dir = home / "results", home / "blobs"
    orphan = results / ("c" * 48 + ".json")
    orphan.write_bytes(b"partial")
    blob_dir.mkdir()
    old_blob, young_blob = blob_dir / ("e" * 64), blob_dir / ("f" * 64)
    old_blob.write_bytes(b"[]"), young_blob.write_bytes(b"[]")
    t = time.time() - blobs_module.GRACE_S - 60
    os.utime(old_blob, (t, t))
    report = report_of(home)
    assert report.exit_code == 1
    assert f"PROBLEM  results        1 result file(s) no job row owns in {results} (7 bytes)" in report.text()
    assert f"PROBLEM  blobs          1 graph literal file(s) no live row uses in {blob_dir}" in report.text()
    assert orphan.exists() and old_blob.exists()
    report = report_of(home, repair=True)
    assert report.exit_code == 0 and report.text().count("repaired: deleted 1 file(s)") == 2
    assert not orphan.exists() and not old_blob.exists() and young_blob.exists()
    assert len(list(results.iterdir())) == 1  # the job's own result stays


def test_blobs_of_live_jobs_are_not_orphans(home):
    backend = Backend(Settings(home=home), sweep=False)
    previous = set_backend(backend)
    try:
        wf.Array(np.zeros(20_000)).sum().compute(block=False).wait(60)
    finally:
        set_backend(previous)
        backend.close()
    (blob,) = (home / "blobs").iterdir()
    t = time.time() - blobs_module.GRACE_S - 60
    os.utime(blob, (t, t))
    assert report_of(home).exit_code == 0


def test_the_signing_key_must_be_private_and_long_enough(home):
    key = home / "signing.key"
    key.chmod(0o644)
    report = report_of(home)
    assert f"PROBLEM  signing key    {key} has mode 0644; it must be 0600" in report.text()
    report = report_of(home, repair=True)
    assert "repaired: mode set to 0600" in report.text() and report.exit_code == 0
    assert key.stat().st_mode & 0o777 == 0o600
    key.write_bytes(b"short")
    report = report_of(home, repair=True)
    assert report.exit_code == 1
    assert "holds 5 bytes, fewer than 32: delete it to make a new key" in report.text()


def test_low_disk_space_is_a_warning(home):
    report = report_of(home, min_free_bytes=2 ** 62)
    assert "warning  disk space     only " in report.text() and "free some space" in report.text()
    assert report.exit_code == 0 and report.text().endswith("No problems found; 1 warning(s).")


def test_stored_results_are_checked_for_size_and_checksum(home):
    (result,) = (home / "results").iterdir()
    job_id = result.name.split(".", 1)[0]
    assert "ok       stored results 1 checked" in report_of(home).text()
    data = result.read_bytes()
    result.write_bytes(bytes([data[0] ^ 0xFF]) + data[1:])  # same size, other bytes
    report = report_of(home)
    assert report.exit_code == 1
    assert f"PROBLEM  stored results job {job_id}: The stored result of job {job_id} is damaged" in report.text()
    result.write_bytes(data[:-1])
    assert f"its file holds {len(data) - 1} bytes, but {len(data)} were written" in report_of(home).text()
    result.unlink()
    assert f"The stored result of job {job_id} is missing" in report_of(home).text()


def test_a_home_that_does_not_exist_is_fine(tmp_path):
    report = report_of(tmp_path / "nowhere")
    assert report.exit_code == 0 and "does not exist yet" in report.text()
    assert not (tmp_path / "nowhere").exists()


def test_doctor_makes_no_job_store_to_find_orphans(tmp_path):
    home = tmp_path / "home"
    (home / "results").mkdir(parents=True)
    orphan = home / "results" / ("c" * 48 + ".json")
    orphan.write_bytes(b"partial")
    report = report_of(home)
    assert report.exit_code == 1
    assert f"PROBLEM  results        1 result file(s) no job row owns in {home / 'results'} (7 bytes)" in report.text()
    assert "ok       stored results 0 checked" in report.text()
    assert sorted(p.name for p in home.iterdir()) == ["results"]  # no job store, no key, nothing else made
    report = report_of(home, repair=True)
    assert report.exit_code == 0 and not orphan.exists()
    assert sorted(p.name for p in home.iterdir()) == ["results"]


def test_with_a_database_url_doctor_checks_the_rows_against_the_home_and_leaves_the_database_alone(tmp_path, postgres):
    settings = Settings(home=tmp_path / "home", user="user:alice", database_url=postgres.new_schema_url())
    backend = Backend(settings)
    previous = set_backend(backend)
    try:
        job = (wf.Int(1) + 1).compute(block=False, format="json").wait(30)
        orphan = backend.results.root / ("c" * 48 + ".json")
        orphan.write_bytes(b"x")
    finally:
        set_backend(previous)
        backend.close()
    report = doctor.run_doctor(settings, repair=True)
    lines = report.text()
    assert "in the database postgresql://postgres@127.0.0.1" in lines and "keys in the database" in lines
    assert not (settings.home / "jobs.sqlite").exists() and not (settings.home / "signing.key").exists()
    assert not orphan.exists() and (backend.results.root / f"{job.id}.json").exists()  # the rows told them apart
    assert report.exit_code == 0
