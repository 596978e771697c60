"""Rows a process holds back (wf_widgets.jobs.held): written in groups, before any read, at close and at exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest

import wf_widgets as wf
from wf_widgets.jobs.held import HeldRows


def _count(backend, where="1 = 1"):
    """Rows in the store, read past it (no held row written first)."""
    return backend.jobs.db.read(f"SELECT count(*) FROM jobs WHERE {where}").fetchone()[0]


def test_a_process_that_exits_writes_the_rows_it_holds(make_backend, database):
    backend = make_backend(database_url=database)
    code = textwrap.dedent("""
        import wf_widgets as wf
        print(sum(int((wf.Int(i) + 1).compute()) for i in range(25)), flush=True)
    """)
    env = dict(os.environ, WF_WIDGETS_HOME=str(backend.settings.home), WF_WIDGETS_USER=backend.settings.user)
    if database is not None:
        env["WF_WIDGETS_DATABASE_URL"] = database
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(sum(range(1, 26)))
    assert _count(backend, "stage = 'SUCCEEDED'") == 25  # exited at once: written by its exit handler


def test_closing_the_backend_writes_the_rows_it_holds(make_backend):
    backend = make_backend()
    other = make_backend(home=backend.settings.home)  # another store on the same file
    assert (wf.Int(1) + 1).compute(backend=backend) == 2
    [job_id] = backend.jobs._held.rows
    assert backend.jobs.holds(job_id) and _count(other) == 0
    backend.close()
    assert _count(other, "stage = 'SUCCEEDED'") == 1


def test_a_store_on_the_same_database_sees_the_rows_this_process_holds(make_backend):
    backend = make_backend()
    other = make_backend(home=backend.settings.home)
    job = (wf.Int(1) + 1).compute(block=False, backend=backend)
    assert job.result(timeout=30) == 2
    assert other.jobs.status(job.id)["stage"] == "SUCCEEDED"  # one table of held rows per database


class _Failing:
    """A database whose writes fail until told otherwise (records what it was asked to write)."""

    key = "failing"

    def __init__(self):
        self.fail = True
        self.written: list[tuple] = []

    def write_many(self, statements):
        statements = [(sql, list(rows)) for sql, rows in statements]
        if self.fail:
            raise OSError("disk full")
        for _, rows in statements:
            self.written.extend(rows)


def test_a_group_that_fails_to_be_written_is_held_again_and_written_later():
    rows = HeldRows()
    db = _Failing()
    rows.attach(db)
    rows.hold("a", {"id": "a", "stage": "PREPARING"})
    assert rows.end("a", lambda values: values.update(stage="SUCCEEDED"))
    rows.hold("b", {"id": "b", "stage": "QUEUED"})
    with pytest.raises(OSError, match="disk full"):
        rows.write()
    assert sorted(rows.rows) == ["a", "b"] and rows.pending()  # nothing lost
    db.fail = False
    rows.write(older_than_s=3600.0)  # what the ticker writes: ended rows, and rows held that long
    assert db.written == [("a", "SUCCEEDED")] and list(rows.rows) == ["b"]
    assert not rows.end("a", lambda values: None)  # written: no longer changed in memory
    rows.write()
    assert db.written == [("a", "SUCCEEDED"), ("b", "QUEUED")] and not rows.pending()


def test_a_reader_waits_for_a_group_being_written():
    rows = HeldRows()
    entered, release = threading.Event(), threading.Event()

    class Slow:
        key = "slow"
        written: list = []

        def write_many(self, statements):
            entered.set()
            release.wait(30)
            for _, group in statements:
                self.written.extend(group)

    db = Slow()
    rows.attach(db)
    rows.hold("a", {"id": "a"})
    writer = threading.Thread(target=rows.write)
    writer.start()
    assert entered.wait(30)
    assert rows.rows == {} and rows.pending()  # out of the table, not written yet: a reader must wait
    assert not rows.end("a", lambda values: None)  # being written: its end goes to the store (after the write)
    done = threading.Event()
    reader = threading.Thread(target=lambda: (rows.write(), done.set()))
    reader.start()
    assert not done.wait(0.2)  # waits for the group
    release.set()
    writer.join(30)
    reader.join(30)
    assert done.is_set() and db.written == [("a",)] and not rows.pending()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_forgets_the_rows_its_parent_holds(backend):
    assert (wf.Int(1) + 1).compute() == 2
    assert backend.jobs._held.rows
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: nothing held, so nothing written twice
        os.write(write, b"%d" % len(backend.jobs._held.rows))
        os._exit(0)
    os.close(write)
    assert os.read(read, 16) == b"0"
    os.waitpid(pid, 0)
    assert backend.jobs._held.rows  # the parent's are still its own to write
    backend.jobs.write_held()
    assert _count(backend, "stage = 'SUCCEEDED'") == 1
