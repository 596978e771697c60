"""The result store: size and checksum recorded and checked, lost results named, leftovers swept."""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
import subprocess
import sys

import pytest

import wf_widgets as wf
from wf_widgets._files import temp_name
from wf_widgets.backend import Backend
from wf_widgets.catalog import files as catalog_files
from wf_widgets.config import Settings
from wf_widgets.errors import DiskFull, ResultExpired, ResultMissing
from wf_widgets.jobs.store import MIGRATIONS, JobStore
from wf_widgets.server.testing import fetch

HOUR = 3600.0
DAY = 86400.0


def _job(fmt="json"):
    job = (wf.Int(1) + 1).compute(format=fmt, block=False).wait(30)
    assert job.stage == "SUCCEEDED"
    return job


def _path(backend, job):
    return backend.results.resolve(job._row["result_path"])


def test_a_stored_result_records_its_size_and_checksum(make_backend):
    backend = make_backend()
    job = _job("msgpack")
    row = backend.jobs.get(job.id)
    data = _path(backend, job).read_bytes()
    assert row["result_size"] == len(data)
    assert row["result_sha256"] == hashlib.sha256(data).hexdigest()
    assert backend.results.verify(row) is None
    assert [p.name for p in backend.results.root.iterdir()] == [row["result_path"]]  # no temporary left


def test_a_deleted_result_raises_result_missing_not_file_not_found(make_backend, tmp_path):
    backend = make_backend()
    job = _job()
    _path(backend, job).unlink()
    with pytest.raises(ResultMissing, match=rf"The stored result of job {job.id} is missing: its file was deleted "
                                            r"before the result expired\. Compute the result again\."):
        job.result()
    with pytest.raises(ResultExpired, match="is missing"):  # still a ResultExpired for older handlers
        job.result_to_file(tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()
    row = backend.jobs.get(job.id)
    assert row["result_deleted"] == 1 and "is missing" in row["result_problem"]
    assert wf.Job.get(job.id).url  # a link can still be made: it answers 410 "missing"
    r = fetch(wf.Job.get(job.id).url)
    assert r.status == 410 and "is missing" in r.text


def test_a_result_changed_in_place_fails_its_checksum(make_backend):
    backend = make_backend()
    job = _job("msgpack")
    path = _path(backend, job)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # same size: only the checksum can tell
    path.write_bytes(bytes(data))
    assert fetch(job.url).status == 200  # a download checks the size only (a stat per request)
    with pytest.raises(ResultMissing, match="is damaged: its content does not match the SHA-256 checksum"):
        job.result()
    assert fetch(job.url).status == 410


def test_verify_reports_without_changing_anything(make_backend):
    backend = make_backend()
    job = _job()
    row = backend.jobs.get(job.id)
    path = _path(backend, job)
    path.write_bytes(b"")
    assert backend.results.verify(row) == (f"The stored result of job {job.id} is damaged: its file holds 0 bytes, "
                                           "but 1 were written (truncated or overwritten). Compute the result again.")
    path.unlink()
    assert "is missing" in backend.results.verify(row)
    assert backend.jobs.get(job.id)["result_deleted"] == 0  # verify only reports
    backend.settings.now_offset_s = 11 * DAY
    assert backend.results.verify(row) is None  # past its expiry: nothing is promised any more
    assert backend.results.verify({"id": "x", "result_path": None}) is None


def test_the_sweep_finds_damaged_results_and_marks_them(make_backend):
    backend = make_backend()
    intact, truncated, changed = _job(), _job("msgpack"), _job("msgpack")
    with open(_path(backend, truncated), "r+b") as f:
        f.truncate(3)
    data = bytearray(_path(backend, changed).read_bytes())
    data[0] ^= 1
    _path(backend, changed).write_bytes(bytes(data))
    counts = backend.sweep()
    assert counts["damaged"] == 2 and counts["expired"] == 0
    assert backend.jobs.get(intact.id)["result_deleted"] == 0 and intact.result() == b"2"
    for job, what in ((truncated, "holds 3 bytes"), (changed, "SHA-256")):
        row = backend.jobs.get(job.id)
        assert row["result_deleted"] == 1 and what in row["result_problem"]
        assert not _path(backend, job).exists()
        with pytest.raises(ResultMissing, match=what):
            wf.Job.get(job.id).result()
    assert backend.sweep()["damaged"] == 0  # marked once


def test_the_sweep_command_reports_lost_results_and_leftovers(make_backend):
    backend = make_backend()
    job = _job()
    _path(backend, job).unlink()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
    env["WF_WIDGETS_HOME"] = str(backend.settings.home)
    out = subprocess.run([sys.executable, "-m", "wf_widgets.cli", "sweep"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "found 1 missing or damaged result(s)" in out.stdout
    assert "is missing" in backend.jobs.get(job.id)["result_problem"]


def test_leftover_temporary_files_are_swept_after_the_grace_period(make_backend):
    backend = make_backend()
    job = _job()
    # What a writer killed mid-write leaves: a result store temporary, a catalog upload temporary.
    result_tmp = temp_name(backend.results.root / f"{job.id}.json")
    result_tmp.write_bytes(b"half a resu")
    final = catalog_files.resolve(backend.settings.home / "catalog",
                                  catalog_files.image_href("org:my_product_id", "my_image"))
    upload_tmp = catalog_files.temp_path(final)
    upload_tmp.write_bytes(b"II*\x00 half a COG")
    unrelated = final.with_name("notes.tmp")
    unrelated.write_bytes(b"not ours")

    assert backend.sweep()["leftovers"] == 0  # young: a writer may still be at work
    assert result_tmp.exists() and upload_tmp.exists()
    backend.settings.now_offset_s = HOUR + 60  # the clock the sweep uses, against the files' mtimes
    assert backend.sweep()["leftovers"] == 2
    assert not result_tmp.exists() and not upload_tmp.exists()
    assert unrelated.exists() and _path(backend, job).exists() and job.result() == b"2"


def test_a_killed_upload_leaves_a_temporary_that_the_sweep_removes(make_backend):
    backend = make_backend()
    product = wf.catalog.Product(id="org:p", name="p").save()
    wf.catalog.GenericBand(name="b", product_id=product.id, data_type="UInt16", band_index=0).save()
    home = backend.settings.home
    # A real upload in another process, killed (no clean-up runs) right after the COG is written.
    code = (
        "import os, numpy as np, wf_widgets as wf\n"
        "from wf_widgets.catalog import store\n"
        "store.CatalogStore.transaction = lambda self: os._exit(9)\n"
        "img = wf.catalog.Image(name='i', product_id='org:p', cs_code='EPSG:32613',"
        " geotrans=(500000, 10, 0, 4000000, 0, -10))\n"
        "img.upload_ndarray(np.ones((1, 64, 64), 'uint16'))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
    env.update(WF_WIDGETS_HOME=str(home), WF_WIDGETS_USER="user:alice")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    left = [p for p in (home / "catalog" / "files").rglob("*") if p.is_file()]
    assert len(left) == 1 and left[0].name.startswith(".i.tif.") and left[0].name.endswith(".tmp")
    assert backend.sweep()["leftovers"] == 0
    backend.settings.now_offset_s = HOUR + 60
    assert backend.sweep()["leftovers"] == 1
    assert not left[0].exists()


def test_a_job_store_of_the_previous_version_opens_and_old_rows_are_checked_by_size(tmp_path):
    home = tmp_path / "home"
    (home / "results").mkdir(parents=True)
    conn = sqlite3.connect(home / "jobs.sqlite")
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    job_id = "0" * 48
    (home / "results" / f"{job_id}.json").write_bytes(b"2")
    conn.execute("INSERT INTO jobs (id, kind, graph, format, destination, stage, created, updated, result_path,"
                 " result_mimetype, result_size, expires) VALUES (?, 'Int', '{}', '{\"type\": \"json\"}',"
                 " '{\"type\": \"download\"}', 'SUCCEEDED', 1, 1, ?, 'application/json', 1, 1e12)",
                 (job_id, f"{job_id}.json"))
    conn.commit()
    conn.close()
    store = JobStore(Settings(home=home))
    try:
        row = store.get(job_id)
        assert row["result_sha256"] is None and row["result_problem"] is None
        assert store._conn().execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        store.close()
    backend = Backend(Settings(home=home, user="user:alice"), sweep=False)
    try:
        assert backend.results.verify(row) is None
        assert backend.sweep()["damaged"] == 0
        (home / "results" / f"{job_id}.json").write_bytes(b"22")
        assert "holds 2 bytes, but 1 were written" in backend.results.verify(row)
    finally:
        backend.close()


def test_the_launch_sweep_checks_sizes_but_reads_no_file(make_backend):
    backend = make_backend()
    truncated, changed = _job(), _job("msgpack")
    _path(backend, truncated).write_bytes(b"")
    data = bytearray(_path(backend, changed).read_bytes())
    data[0] ^= 1
    _path(backend, changed).write_bytes(bytes(data))
    started = Backend(Settings(home=backend.settings.home, user="user:alice"))
    try:
        started.ensure_swept()  # what its first launch does
        assert started.jobs.get(truncated.id)["result_deleted"] == 1
        assert started.jobs.get(changed.id)["result_deleted"] == 0  # found by the hourly sweep instead
        assert started.sweep()["damaged"] == 1
    finally:
        started.close()


def test_the_sweep_finds_orphans_with_one_query_for_the_whole_folder(make_backend):
    backend = make_backend()
    live, deleted = _job(), _job()
    backend.jobs.mark_deleted(deleted.id)  # marked, but its file stayed (killed between the two steps)
    writing = "b" * 48  # a job being run: its file exists before its row records it
    backend.jobs.create(writing, kind="Int", graph=wf.Int(1).to_json(), geoctx=None, format={"type": "json"},
                        destination={"type": "download"}, claim=True)
    (backend.results.root / f"{writing}.json").write_bytes(b"2")
    orphans = [backend.results.root / f"{i:048x}.json" for i in range(1, 31)]  # files of no job
    for path in orphans:
        path.write_bytes(b"x")
    conn = backend.jobs._conn()
    statements = []
    conn.set_trace_callback(statements.append)
    try:
        assert backend.results.sweep(backend.jobs) == 0  # nothing expired
    finally:
        conn.set_trace_callback(None)
    assert len(statements) == 2, statements  # the expired results; the owners of every file at once
    assert _path(backend, live).exists() and (backend.results.root / f"{writing}.json").exists()
    assert not _path(backend, deleted).exists()
    assert not [p for p in orphans if p.exists()]
# -- written unnamed, read back from memory by the process that wrote it ----------------------------
def test_the_first_read_of_a_result_written_here_needs_no_file_read(make_backend, monkeypatch):
    backend = make_backend()
    job = _job("msgpack")
    opened = []
    real_open = type(backend.results).open
    monkeypatch.setattr(type(backend.results), "open", lambda self, name: (opened.append(name), real_open(self, name))[1])
    assert job.result() == (wf.Int(1) + 1).compute(format="msgpack") and opened == []  # from memory
    assert job.result() == wf.Job.get(job.id).result() and len(opened) == 2  # then from the file, checked


def test_a_result_replaced_by_another_file_is_read_from_the_file(make_backend):
    backend = make_backend()
    job = _job()
    path = _path(backend, job)
    data = path.read_bytes()
    stat = path.stat()
    path.unlink()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))  # a new file, same size: the checksum tells
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # later (file times may be coarse)
    with pytest.raises(ResultMissing, match="does not match the SHA-256 checksum"):
        job.result()


def test_results_are_written_private_and_whole(make_backend):
    backend = make_backend()
    job_id = "ab" * 24
    stored = backend.results.store(job_id, "json", b"[1, 2]")
    path = backend.results.resolve(stored["result_path"])
    assert path.read_bytes() == b"[1, 2]" and stored["result_size"] == 6
    assert stored["result_sha256"] == hashlib.sha256(b"[1, 2]").hexdigest()
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert [p.name for p in backend.results.root.iterdir()] == [path.name]  # nothing else left
    with pytest.raises(FileExistsError):  # never replaces a stored result
        backend.results.store(job_id, "json", b"[3]")
    assert path.read_bytes() == b"[1, 2]"


def test_a_result_write_that_fails_leaves_no_file(make_backend, monkeypatch):
    backend = make_backend()
    backend.results.store("cd" * 24, "json", b"[0]")  # the folder exists
    real_write = os.write

    def half_then_full(fd, data):
        if len(data) > 4:
            real_write(fd, bytes(data[:4]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(DiskFull):
        backend.results.store("ab" * 24, "json", b"[1, 2, 3]")
    monkeypatch.undo()
    assert [p.name for p in backend.results.root.iterdir()] == ["cd" * 24 + ".json"]  # nothing partial left


# -- the same on every object store (file:// and s3://) --------------------------------------------------
def test_results_round_trip_checked_and_first_read_from_memory_on_every_store(make_backend, storage_url,
                                                                              monkeypatch):
    backend = make_backend(storage_url=storage_url)
    job = _job("msgpack")
    row = backend.jobs.get(job.id)
    key = backend.results.key(row["result_path"])
    data = backend.storage.get(key)
    assert row["result_size"] == len(data) and row["result_sha256"] == hashlib.sha256(data).hexdigest()
    assert backend.results.names() == [row["result_path"]] and backend.results.verify(row) is None
    opened = []
    real_open = type(backend.results).open
    monkeypatch.setattr(type(backend.results), "open", lambda self, name: (opened.append(name), real_open(self, name))[1])
    assert job.result() == data and opened == []  # from memory, after a stat (a HEAD) showed the object unchanged
    assert wf.Job.get(job.id).result() == data and opened == [row["result_path"]]  # then from the store, checked
    assert (backend.settings.home / "results").exists() == (storage_url is None)  # nothing local on S3


def test_damaged_and_missing_results_are_lost_on_every_store(make_backend, storage_url):
    backend = make_backend(storage_url=storage_url)
    same_size, shorter, deleted, intact = (_job() for _ in range(4))
    key = {j.id: backend.results.key(j._row["result_path"]) for j in (same_size, shorter, deleted, intact)}
    backend.storage.put(key[same_size.id], b"9")  # "2" before: same size, another checksum
    backend.storage.put(key[shorter.id], b"")
    backend.storage.delete(key[deleted.id])
    rows = {j.id: backend.jobs.get(j.id) for j in (same_size, shorter, deleted, intact)}
    assert backend.results.verify(rows[same_size.id], checksum=False) is None  # by size only: unseen
    assert "does not match the SHA-256 checksum" in backend.results.verify(rows[same_size.id])
    assert "its file holds 0 bytes, but 1 were written" in backend.results.verify(rows[shorter.id], checksum=False)
    assert "its file was deleted before the result expired" in backend.results.verify(rows[deleted.id])
    assert backend.results.check(backend.jobs) == 3
    for job in (same_size, shorter, deleted):
        with pytest.raises(ResultMissing, match=f"The stored result of job {job.id} is"):
            wf.Job.get(job.id).result()
        assert not backend.storage.exists(key[job.id])  # a lost result's object is deleted
    assert wf.Job.get(intact.id).result() == b"2"


def test_the_sweep_deletes_expired_results_and_orphans_on_every_store(make_backend, storage_url):
    backend = make_backend(storage_url=storage_url)
    old, new = _job(), _job()
    backend.jobs._conn().execute("UPDATE jobs SET expires = ? WHERE id = ?", (backend.settings.time() - 1, old.id))
    orphan, other = "results/" + "c" * 48 + ".json", "results/notes.txt"  # of no job; not a result at all
    backend.storage.put(orphan, b"x")
    backend.storage.put(other, b"kept")
    assert backend.results.orphans(backend.jobs) == ["c" * 48 + ".json"]
    assert backend.sweep()["expired"] == 1
    assert sorted(backend.storage.keys("results")) == sorted([backend.results.key(new._row["result_path"]), other])
    assert backend.jobs.get(old.id)["result_deleted"] == 1
    with pytest.raises(ResultExpired, match="expired"):
        wf.Job.get(old.id).result()
