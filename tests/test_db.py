"""_db, on each database (SQLite, PostgreSQL): schema versions, the dialect seam, one database for every store."""

from __future__ import annotations

import os
import sqlite3
import threading

import pytest

import wf_widgets as wf
from wf_widgets import _db
from wf_widgets._db import Migration
from wf_widgets.backend import Backend
from wf_widgets.config import Settings
from wf_widgets.errors import DatabaseUnavailable, NotFound
from wf_widgets.server.testing import free_port

#: Two steps: a table (the dialect's 64-bit integer and 8-byte float), then a column and an index.
STEPS = (Migration("CREATE TABLE t (a {int}, r {real});"), "ALTER TABLE t ADD COLUMN b TEXT;\nCREATE INDEX t_b ON t (b);")


@pytest.fixture
def open_db(tmp_path, database):
    """``open_db(store)``: a Database of the test's database (a file of its own for SQLite); closed after."""
    made = []

    def make(store: str = "t") -> _db.Database:
        settings = Settings(home=tmp_path / "home", database_url=database)
        settings.home.mkdir(exist_ok=True)
        db = _db.open_database(settings, store, settings.home / f"{store}.sqlite")
        made.append(db)
        return db

    yield make
    for db in made:
        db.close()


def _table_exists(db, name: str) -> bool:
    return db.read(db.dialect.table_exists(), (name,)).fetchone() is not None


def test_migrate_runs_each_step_once_and_records_the_version(open_db):
    db = open_db()
    assert db.version() is None
    assert db.migrate(STEPS[:1]) == 0
    assert db.migrate(STEPS) == 1
    assert db.migrate(STEPS) == 2
    assert db.version() == 2
    assert db.read("SELECT version FROM schema_version WHERE store = 't'").fetchone()[0] == 2
    assert db.columns("t") == ["a", "r", "b"]
    # 64-bit integers and 8-byte floats in both dialects (PostgreSQL's REAL would round this one).
    db.write("INSERT INTO t (a, r, b) VALUES (?, ?, ?)", (2 ** 40, 0.1 + 0.2, "x"))
    row = db.read("SELECT a, r, b FROM t").fetchone()
    assert tuple(row) == (2 ** 40, 0.1 + 0.2, "x") and row["r"] == 0.1 + 0.2 and dict(row)["b"] == "x"


def test_a_failed_step_leaves_the_old_version(open_db):
    db = open_db()
    with pytest.raises(Exception, match="nope"):
        db.migrate(("CREATE TABLE t (a INTEGER);", "ALTER TABLE nope ADD COLUMN b TEXT;"))
    assert db.version() is None
    assert not _table_exists(db, "t")  # the whole migration rolled back, DDL too


def test_a_store_from_a_newer_version_is_refused(open_db):
    db = open_db()
    db.migrate(STEPS)
    db.write("UPDATE schema_version SET version = 99 WHERE store = 't'")
    with pytest.raises(RuntimeError, match=r"The t store in .* has schema version 99, newer than this wf_widgets knows "
                                           r"\(2\): upgrade wf_widgets"):
        db.migrate(STEPS)


def test_of_processes_migrating_at_once_one_migrates(open_db):
    """Each racer has its own Database (a connection of its own on PostgreSQL): the schema lock lets one migrate."""
    steps = ("CREATE TABLE log (n INTEGER);", "INSERT INTO log (n) VALUES (1);", "INSERT INTO log (n) VALUES (2);")
    dbs = [open_db("racers") for _ in range(6)]
    barrier = threading.Barrier(len(dbs))
    had, errors = [], []

    def migrate(db):
        try:
            barrier.wait()
            had.append(db.migrate(steps))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(db,)) for db in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(had) == [0] + [3] * 5
    assert sorted(r[0] for r in dbs[0].read("SELECT n FROM log").fetchall()) == [1, 2]


def test_a_stores_own_sqlite_file_carries_its_pragma_version_over_and_keeps_it_in_step(tmp_path):
    """Homes made by earlier versions recorded the version in PRAGMA user_version: read once, then kept equal."""
    home = tmp_path / "home"
    home.mkdir()
    conn = sqlite3.connect(home / "t.sqlite", isolation_level=None)
    conn.executescript(STEPS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    own = _db.open_database(Settings(home=home), "t", home / "t.sqlite")
    try:
        assert own.version() is None
        assert own.migrate(STEPS) == 1  # only the second step ran
        assert own.version() == 2 and own.conn().execute("PRAGMA user_version").fetchone()[0] == 2
    finally:
        own.close()
    # A file shared by every store (sqlite:///) has no pragma of one store's: never read.
    shared = tmp_path / "all.sqlite"
    conn = sqlite3.connect(shared, isolation_level=None)
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    db = _db.open_database(Settings(home=home, database_url=f"sqlite:///{shared}"), "t", None)
    try:
        assert db.migrate(STEPS) == 0 and db.version() == 2
        assert db.conn().execute("PRAGMA user_version").fetchone()[0] == 7
    finally:
        db.close()


def test_placeholders_and_percent_signs_reach_postgres_as_written():
    sql = "SELECT '%' || ? FROM t WHERE a LIKE 'x%' AND b = ?"
    assert _db.POSTGRES.sql(sql) == "SELECT '%%' || %s FROM t WHERE a LIKE 'x%%' AND b = %s"
    assert _db.SQLITE.sql(sql) is sql


def test_rows_read_alike_in_both_dialects(open_db):
    db = open_db()
    db.migrate(STEPS)
    db.write("INSERT INTO t (a, r, b) VALUES (1, 2.5, '100%')")
    row = db.read("SELECT a, b FROM t WHERE b LIKE '%\\%' ESCAPE '\\' AND a = ?", (1,)).fetchone()
    assert (row[0], row["b"], dict(row)) == (1, "100%", {"a": 1, "b": "100%"})
    cur = db.write("UPDATE t SET b = ? WHERE a = ? RETURNING b", ("y", 1))
    assert cur.fetchone()[0] == "y" and cur.fetchone() is None
    assert db.write("DELETE FROM t WHERE a = ?", (5,)).rowcount == 0


def test_a_transaction_commits_or_rolls_back_whole_and_nested_ones_join_it(open_db):
    db = open_db()
    db.migrate(STEPS)
    done = []
    with db.transaction() as txn:
        db.write("INSERT INTO t (a) VALUES (1)")
        with db.transaction() as inner:
            assert inner is txn
            db.write("INSERT INTO t (a) VALUES (2)")
        assert db.read("SELECT COUNT(*) FROM t").fetchone()[0] == 2  # reads see the transaction's writes
        txn.on_commit.append(lambda: done.append("commit"))
    with pytest.raises(KeyError):
        with db.transaction() as txn:
            txn.on_rollback.append(lambda: done.append("rollback"))
            db.write("INSERT INTO t (a) VALUES (3)")
            raise KeyError("changed my mind")
    assert sorted(r[0] for r in db.read("SELECT a FROM t").fetchall()) == [1, 2]
    assert done == ["commit", "rollback"]


@pytest.fixture(params=["sqlite-url", "postgresql"])
def shared_url(request, tmp_path):
    """A database URL naming one database for every store: one SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite-url":
        return f"sqlite:///{tmp_path / 'db' / 'all.sqlite'}"
    return request.getfixturevalue("postgres").new_schema_url()


def test_every_store_lives_in_the_one_database_of_the_url(tmp_path, shared_url, make_backend):
    backend = make_backend(home=tmp_path / "home", database_url=shared_url)
    assert (wf.Int(1) + 1).compute() == 2
    wf.catalog.Product(id="org:p", name="p").save()
    layer = backend.layers.put(wf.Int(1).to_json(), {"scales": None})
    # Another process, with another (empty) home, sees the same rows.
    other = Backend(Settings(home=tmp_path / "elsewhere", user="user:alice", database_url=shared_url), sweep=False)
    try:
        assert [r["stage"] for r in other.jobs.list()] == ["SUCCEEDED"]
        assert other.catalog.get_product("org:p")["name"] == "p"
        assert other.layers.get(layer["id"])["graph"] == wf.Int(1).to_json()
        rows = dict(other.jobs.db.read("SELECT store, version FROM schema_version").fetchall())
        assert set(rows) == {"jobs", "catalog", "layers"}
    finally:
        other.close()
    home = backend.settings.home
    assert not (home / "jobs.sqlite").exists() and not (home / "layers.sqlite").exists()
    assert not (home / "catalog" / "catalog.sqlite").exists()


def test_an_unreachable_postgres_is_a_clear_error_without_the_password(tmp_path):
    url = f"postgresql://alice:s3cret@127.0.0.1:{free_port()}/jobs"
    backend = Backend(Settings(home=tmp_path / "home", database_url=url), sweep=False)
    try:
        with pytest.raises(DatabaseUnavailable, match=r"Could not connect to the database postgresql://alice:\*\*\*@127\.0\.0"
                                                      r"\.1:\d+/jobs: .*") as err:
            backend.jobs
        assert "s3cret" not in str(err.value) and err.value.code == "DATABASE_UNAVAILABLE"
        with pytest.raises(DatabaseUnavailable):
            wf.Job.get("a" * 48, backend)
    finally:
        backend.close()


def test_a_missing_job_names_the_database_not_a_home(postgres, make_backend):
    url = postgres.new_schema_url()
    make_backend(database_url=url)
    with pytest.raises(NotFound, match=rf"No job with id '{'a' * 48}' in postgresql://postgres@127\.0\.0\.1"):
        wf.Job.get("a" * 48)


def test_forked_worker_processes_use_connections_of_their_own(make_backend, database, worker_env):
    """A process pool forks the launching process: its workers must not use the parent's connections."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    backend = make_backend(database_url=database)
    backend.jobs.list()  # the parent's connections are open (and its pool, on PostgreSQL) before the fork
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
    try:
        worker = make_backend(home=backend.settings.home, database_url=database, executor=pool)
        worker_env(worker)  # the forked workers build their backend from it
        jobs = [(wf.Int(i) + 1).compute(block=False, backend=worker) for i in range(8)]
        assert [job.result(timeout=120) for job in jobs] == list(range(1, 9))
        assert os.getpid() not in {backend.jobs.get(job.id, graph=False)["pid"] for job in jobs}  # run in the workers
        assert len(backend.jobs.list(stages=["SUCCEEDED"])) == 8
    finally:
        pool.shutdown()


def test_the_embedded_default_never_imports_the_postgresql_driver(tmp_path):
    import subprocess
    import sys

    code = ("import sys, wf_widgets as wf\n"
            f"b = wf.Backend(wf.Settings(home={str(tmp_path / 'home')!r}))\n"
            "wf.set_backend(b)\n"
            "assert (wf.Int(1) + 1).compute() == 2 and b.signer.key\n"
            "print(sorted(m for m in sys.modules if m.startswith('psycopg')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
