"""Schema versions: homes made by earlier versions open, newer ones are refused clearly."""

from __future__ import annotations

import sqlite3

import pytest

from wf_widgets import _sqlite
from wf_widgets.catalog.store import MIGRATIONS as CATALOG_MIGRATIONS
from wf_widgets.config import Settings
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
