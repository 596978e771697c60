"""Schema versions: homes made by earlier versions open, newer ones are refused clearly; damaged files
and full disks give clear errors."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time

import pytest

import wf_widgets as wf
from wf_widgets import _sqlite
from wf_widgets.backend import Backend, set_backend
from wf_widgets.catalog.store import MIGRATIONS as CATALOG_MIGRATIONS
from wf_widgets.config import Settings
from wf_widgets.errors import StoreCorrupted
from wf_widgets.jobs.store import MIGRATIONS as JOB_MIGRATIONS
from wf_widgets.jobs.store import JobStore
from wf_widgets.layers import MIGRATIONS as LAYER_MIGRATIONS


def _conn(path):
    return sqlite3.connect(path, isolation_level=None)


def test_migrate_runs_each_step_once_and_records_the_version(tmp_path):
    conn = _conn(tmp_path / "db.sqlite")
    steps = ("CREATE TABLE t (a INTEGER);", "ALTER TABLE t ADD COLUMN b TEXT;\nCREATE INDEX t_b ON t (b);")
    assert _sqlite.migrate(conn, steps[:1]) == 0
    assert _sqlite.migrate(conn, steps) == 1
    assert _sqlite.migrate(conn, steps) == 2
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert [r[1] for r in conn.execute("PRAGMA table_info(t)")] == ["a", "b"]


def test_a_failed_step_leaves_the_old_version(tmp_path):
    conn = _conn(tmp_path / "db.sqlite")
    with pytest.raises(sqlite3.OperationalError):
        _sqlite.migrate(conn, ("CREATE TABLE t (a INTEGER);", "ALTER TABLE nope ADD COLUMN b TEXT;"))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchone() is None


def test_a_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "db.sqlite"
    conn = _conn(path)
    conn.execute("PRAGMA user_version = 99")
    with pytest.raises(RuntimeError, match=r"db\.sqlite has schema version 99, newer than .*upgrade wf_widgets"):
        _sqlite.migrate(conn, ("CREATE TABLE t (a INTEGER);",))


@pytest.mark.parametrize("migrations", [JOB_MIGRATIONS, CATALOG_MIGRATIONS, LAYER_MIGRATIONS],
                         ids=["jobs", "catalog", "layers"])
def test_first_version_schemas_are_idempotent(tmp_path, migrations):
    # A home made before versioning holds the first schema with user_version 0.
    conn = _conn(tmp_path / "db.sqlite")
    conn.executescript(migrations[0])
    assert _sqlite.migrate(conn, migrations) == 0
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(migrations)


def test_a_job_store_made_before_versioning_keeps_its_rows(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    conn = _conn(home / "jobs.sqlite")
    conn.executescript(JOB_MIGRATIONS[0])
    conn.execute("INSERT INTO jobs (id, kind, graph, format, destination, stage, created, updated)"
                 " VALUES ('a' , 'Int', '{}', '{}', '{}', 'SUCCEEDED', 1, 1)")
    conn.close()
    store = JobStore(Settings(home=home))
    try:
        assert store.get("a", graph=False)["stage"] == "SUCCEEDED"
    finally:
        store.close()


# -- damaged files and full disks: one clear error from every store ----------------------------------------------

def corrupt(path, offset: int = 0, size: int = 8192) -> None:
    """Write garbage over ``size`` bytes of ``path`` from ``offset`` (the first two pages by default)."""
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(b"garbage!" * (size // 8))


@pytest.mark.parametrize("store", ["jobs", "catalog", "layers"])
def test_a_corrupted_store_raises_store_corrupted_naming_the_file_and_the_fix(tmp_path, store):
    settings = Settings(home=tmp_path / "home")
    backend = Backend(settings, sweep=False)
    path = getattr(backend, store).path
    backend.close()
    corrupt(path)
    backend = Backend(settings, sweep=False)
    try:
        with pytest.raises(StoreCorrupted, match=rf"The store {re.escape(str(path))} is corrupted \(file is not a "
                                                 r"database\)\. Run `wf-widgets doctor --repair`") as err:
            getattr(backend, store)
        assert err.value.path == path and err.value.code == "STORE_CORRUPTED"
    finally:
        backend.close()


def test_damage_found_later_by_a_query_is_store_corrupted_too(tmp_path):
    path = tmp_path / "db.sqlite"
    conns = _sqlite.ThreadConnections(path)
    conns.get().execute("CREATE TABLE t (a TEXT)")
    for _ in range(200):
        conns.get().execute("INSERT INTO t VALUES (?)", ("x" * 500,))
    conns.close()
    corrupt(path, offset=3 * 4096, size=4096 * 5)  # table pages, not the header or the schema
    conns = _sqlite.ThreadConnections(path)
    try:
        with pytest.raises(StoreCorrupted, match="malformed"):
            conns.get().execute("SELECT count(*), max(length(a)) FROM t").fetchone()
        conns.get().execute("SELECT 1").fetchone()  # the connection itself stays usable
    finally:
        conns.close()


def test_closing_leaves_a_connection_another_thread_holds_to_that_thread(tmp_path):
    """Closed under a thread mid-query, a connection would free what its statement uses (a crash)."""
    conns = _sqlite.ThreadConnections(tmp_path / "db.sqlite")
    conns.get().execute("CREATE TABLE t (a INTEGER)")
    conns.write("INSERT INTO t VALUES (1)")
    holding, closed, seen = threading.Event(), threading.Event(), []

    def reader():
        conn = conns.get()
        holding.set()
        closed.wait(30)
        seen.append(conn.execute("SELECT a FROM t").fetchone()[0])  # still open: its thread holds it

    thread = threading.Thread(target=reader)
    thread.start()
    assert holding.wait(30)
    mine = conns.get()
    conns.close()
    closed.set()
    thread.join(30)
    assert seen == [1]
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        mine.execute("SELECT 1")  # this thread's: closed now
    assert conns.get().execute("SELECT a FROM t").fetchone()[0] == 1  # a new one
    conns.close()


def test_compute_on_a_corrupted_job_store_gives_the_clear_error(tmp_path):
    settings = Settings(home=tmp_path / "home")
    backend = Backend(settings)
    path = backend.jobs.path
    backend.close()
    corrupt(path)
    with pytest.raises(StoreCorrupted, match="jobs.sqlite is corrupted"):
        Backend(settings).ensure_swept()  # its first launch's sweep reads the job store
    backend = Backend(settings, sweep=False)
    previous = set_backend(backend)
    try:
        with pytest.raises(StoreCorrupted, match="wf-widgets doctor --repair"):
            (wf.Int(1) + 1).compute()
    finally:
        set_backend(previous)
        backend.close()


def test_stores_of_version_1_open_and_keep_their_rows(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    conn = _conn(home / "jobs.sqlite")
    conn.executescript(JOB_MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO jobs (id, kind, graph, format, destination, stage, created, updated, host, pid)"
                 " VALUES ('a', 'Int', '{}', '{}', '{}', 'RUNNING', 1, 1, 'elsewhere', 1)")
    conn.close()
    conn = _conn(home / "layers.sqlite")
    conn.executescript(LAYER_MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO layers (id, name, graph, options, created, updated) VALUES (?, 'l', '{}', '{}', ?, ?)",
                 ("f" * 32, time.time(), time.time()))
    conn.close()
    backend = Backend(Settings(home=home), sweep=False)
    try:
        row = backend.jobs.get("a")
        assert row["stage"] == "RUNNING" and row["pid_start"] is None and row["blobs"] is None
        assert backend.jobs.reap_stale() == 1  # no heartbeat from elsewhere: judged as before
        assert backend.layers.get("f" * 32)["graph"] == {}
        assert backend.jobs._conn().execute("PRAGMA user_version").fetchone()[0] == len(JOB_MIGRATIONS)
    finally:
        backend.close()


def test_a_job_store_of_version_4_gets_the_sweeps_indexes_and_is_swept(tmp_path):
    home = tmp_path / "home"
    (home / "results").mkdir(parents=True)
    conn = _conn(home / "jobs.sqlite")
    _sqlite.migrate(conn, JOB_MIGRATIONS[:4])  # a home made before the sweep's indexes
    insert = ("INSERT INTO jobs (id, kind, graph, format, destination, stage, created, updated, finished, host, pid,"
              " result_path, result_size, expires) VALUES (?, 'Int', '{}', '{\"type\": \"json\"}',"
              " '{\"type\": \"download\"}', ?, 1, 1, ?, 'elsewhere', 1, ?, ?, ?)")
    now = time.time()
    for job_id, stage, expires in (("a" * 48, "SUCCEEDED", now - 60), ("b" * 48, "SUCCEEDED", now + 3600)):
        conn.execute(insert, (job_id, stage, now - 600, f"{job_id}.json", 1, expires))
        (home / "results" / f"{job_id}.json").write_bytes(b"2")
    conn.execute(insert, ("c" * 48, "RUNNING", None, None, None, None))  # no heartbeat from elsewhere: dead
    conn.close()
    backend = Backend(Settings(home=home))
    try:
        backend.ensure_swept()  # its first launch: never swept, so due
        jobs = backend.jobs
        assert jobs._conn().execute("PRAGMA user_version").fetchone()[0] == len(JOB_MIGRATIONS)
        indexes = {r[0] for r in jobs._conn().execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"jobs_unfinished", "jobs_stored_results", "jobs_with_blobs"} <= indexes
        assert jobs.get("a" * 48)["result_deleted"] == 1 and not (home / "results" / f"{'a' * 48}.json").exists()
        assert jobs.get("b" * 48)["result_deleted"] == 0 and (home / "results" / f"{'b' * 48}.json").exists()
        assert jobs.get("c" * 48)["error_code"] == "INTERRUPT"
        assert jobs.last_sweep() == pytest.approx(time.time(), abs=60)
    finally:
        backend.close()
# -- writers of one process take turns on a lock ---------------------------------------------------
def test_the_writers_of_one_process_take_turns_on_one_lock_per_file(tmp_path):
    first, second = JobStore(Settings(home=tmp_path / "a")), JobStore(Settings(home=tmp_path / "a"))
    other = JobStore(Settings(home=tmp_path / "b"))
    try:
        assert first.db.connections.write_lock is second.db.connections.write_lock
        assert other.db.connections.write_lock is not first.db.connections.write_lock
        first.create("a" * 48, kind="Int", graph=wf.Int(1).to_json(), geoctx=None, format={"type": "json"},
                     destination={"type": "download"})
        done = threading.Event()
        writer = threading.Thread(target=lambda: (second.claim("a" * 48), done.set()))
        with first.db.connections.write_lock:  # held: the other store's write waits for it
            writer.start()
            assert not done.wait(0.3)
            assert first.status("a" * 48)["stage"] == "QUEUED"  # reads don't wait
        assert done.wait(30)
        writer.join()
        assert first.status("a" * 48)["stage"] == "PREPARING"
    finally:
        for store in (first, second, other):
            store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_does_not_inherit_a_held_write_lock(tmp_path):
    store = JobStore(Settings(home=tmp_path / "home"))
    try:
        with store.db.connections.write_lock:
            pid = os.fork()
            if pid == 0:  # the child: a lock held by its parent's thread would never be released here
                os._exit(0 if store.db.connections.write_lock.acquire(timeout=10) else 1)
            _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        store.close()
