"""Rows this process holds back: the rows of jobs it runs itself, written in groups.

A short job run by a thread of the process that launched it (``compute()``, or the
runner's own thread pool) would cost a write when it is created and another when it ends,
each a commit of its own. Its row is held here instead, and updated in memory, until it is
written with the other held rows in one transaction (one INSERT per row, one commit per
group) by the first of:

- the ticker thread, every :data:`DEFER_INSERT_S`: every row of an ended job, and the rows
  of jobs that have run (or waited to run) that long, so boards see long jobs;
- any statement of a :class:`~wf_widgets.jobs.store.JobStore` on the same database in this
  process (a read or a write; not one inside a transaction, which writes them before it
  begins): this process never reads past a row it holds;
- :data:`MAX_HELD` rows held;
- the close of a store on the database, and the interpreter's exit.

Other processes see a held row :data:`DEFER_INSERT_S` late at most. A process killed
(SIGKILL) loses the rows it held: those of jobs that ended less than
:data:`DEFER_INSERT_S` before (their callers had the results; their stored files are
orphans the sweep deletes, see ``ORPHAN_GRACE_S``), and of jobs it was running, which died
with it. A forked child forgets its parent's held rows: the parent writes them.
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import threading
import time
from typing import Callable, Iterable, Protocol

#: Seconds a held row may wait before the ticker writes it (rows of ended jobs wait one tick at most).
DEFER_INSERT_S = 0.5
#: Held rows past which the thread holding one more writes them all at once.
MAX_HELD = 5000


class Database(Protocol):
    """What writing held rows needs of a database (:class:`wf_widgets._db.Database`)."""

    key: str

    def write_many(self, sql: str, rows: list[tuple]) -> None: ...


@dataclasses.dataclass
class _Held:
    since: float
    values: dict
    ended: bool = False


class HeldRows:
    """The rows held for one database (by every store of this process on it): see the module doc."""

    def __init__(self) -> None:
        # One lock for the rows and their writing: a row is changed before or after it is written, never during.
        self.lock = threading.Lock()
        self.rows: dict[str, _Held] = {}
        self.databases: list[Database] = []  # the open databases rows can be written with

    def hold(self, job_id: str, values: dict) -> None:
        """Hold the row ``values`` (column -> value) of a new job instead of inserting it."""
        with self.lock:
            self.rows[job_id] = _Held(time.monotonic(), values)
            if len(self.rows) >= MAX_HELD:
                self._write_locked(None, None)
        _ticker.start()

    def held(self, job_id: str) -> bool:
        """Whether the row of ``job_id`` is held (not written yet)."""
        return job_id in self.rows

    def end(self, job_id: str, update: Callable[[dict], None]) -> bool:
        """Give a held row its final columns (``update(values)`` changes them in place); it is then
        written at the next tick. False if the row is not held."""
        with self.lock:
            held = self.rows.get(job_id)
            if held is None:
                return False
            update(held.values)
            held.ended = True
            return True

    def write(self, job_ids: Iterable[str] | None = None, older_than_s: float | None = None) -> None:
        """Write held rows: those of ``job_ids`` (None: all), or with ``older_than_s`` those of ended jobs
        and those held at least that long."""
        if not self.rows:
            return
        with self.lock:
            self._write_locked(job_ids, older_than_s)

    def _write_locked(self, job_ids: Iterable[str] | None, older_than_s: float | None) -> None:
        if job_ids is not None:
            ids = [i for i in job_ids if i in self.rows]
        elif older_than_s is not None:
            cutoff = time.monotonic() - older_than_s
            ids = [i for i, h in self.rows.items() if h.ended or h.since <= cutoff]
        else:
            ids = list(self.rows)
        if not ids or not self.databases:
            return
        groups: dict[tuple[str, ...], list[tuple]] = {}
        for job_id in ids:
            values = self.rows[job_id].values
            groups.setdefault(tuple(values), []).append(tuple(values.values()))
        db = self.databases[-1]
        for cols, rows in groups.items():
            sql = f"INSERT INTO jobs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            db.write_many(sql, rows)  # one transaction per group: all of it or none
            for values in rows:
                del self.rows[values[cols.index("id")]]

    def attach(self, db: Database) -> None:
        with self.lock:
            self.databases.append(db)

    def detach(self, db: Database) -> None:
        """Write every held row, then forget ``db`` (a store closes)."""
        with self.lock:
            try:
                self._write_locked(None, None)
            finally:
                self.databases = [d for d in self.databases if d is not db]


_by_database: dict[str, HeldRows] = {}
_registry_lock = threading.Lock()


def held_rows(db: Database) -> HeldRows:
    """The held rows of ``db``'s database (shared by its stores in this process), with ``db`` attached."""
    with _registry_lock:
        held = _by_database.get(db.key)
        if held is None:
            held = _by_database[db.key] = HeldRows()
    held.attach(db)
    return held


class _Ticker:
    """The daemon thread writing held rows every :data:`DEFER_INSERT_S` (one per process, started at the first hold)."""

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def start(self) -> None:
        if self.thread is not None:
            return
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="wf-held-rows", daemon=True)
                self.thread.start()

    @staticmethod
    def _loop() -> None:
        while True:
            time.sleep(DEFER_INSERT_S)
            for held in list(_by_database.values()):
                try:
                    held.write(older_than_s=DEFER_INSERT_S)
                except Exception:  # a lock held past the busy timeout, a full disk: the next tick retries
                    pass


_ticker = _Ticker()


@atexit.register
def write_all() -> None:
    """Write every held row of this process (at exit; errors are left: nothing can report them)."""
    for held in list(_by_database.values()):
        try:
            held.write()
        except Exception:
            pass


def _forget_in_child() -> None:
    # The parent writes its held rows; the child has no ticker (threads do not survive a fork).
    global _registry_lock
    for held in _by_database.values():
        held.lock = threading.Lock()
        held.rows.clear()
    _registry_lock = threading.Lock()
    _ticker.thread = None
    _ticker.lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_in_child)
