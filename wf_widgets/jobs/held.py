"""Rows this process holds back: the rows of jobs it runs itself, written in groups.

A short job run by a thread of the process that launched it (``compute()``, or the
runner's own thread pool) would cost a write when it is created and another when it ends,
each a commit of its own. Its row is held here instead, and updated in memory, until it is
written with the other held rows in one transaction (one INSERT per row, one commit per
group) by the first of:

- the ticker thread, every :data:`DEFER_INSERT_S`: every row of an ended job, and the rows
  of jobs that have run (or waited to run) :data:`HOLD_UNENDED_S`, so other processes see
  long jobs and long queues (a burst of short jobs is held whole, and written ended);
- any statement of a :class:`~wf_widgets.jobs.store.JobStore` on the same database in this
  process (a read or a write; not one inside a transaction, which writes them before it
  begins): this process never reads past a row it holds;
- :data:`MAX_HELD` rows held;
- the close of a store on the database, and the interpreter's exit.

Other processes see the row of an ended job :data:`DEFER_INSERT_S` late at most, and the
row of a job running or waiting in this process :data:`HOLD_UNENDED_S` late at most. A process killed
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
from typing import Callable, Iterable, Protocol, Sequence

#: Seconds between the ticker's writes: the rows of ended jobs wait one tick at most.
DEFER_INSERT_S = 0.5
#: Seconds the row of a job running, or queued, in this process is held at most (then written, still unended).
HOLD_UNENDED_S = 2.0
#: Held rows past which the thread holding one more writes them all at once.
MAX_HELD = 5000


class Database(Protocol):
    """What writing held rows needs of a database (:class:`wf_widgets._db.Database`)."""

    key: str

    def write_many(self, statements: Iterable[tuple[str, Sequence[Sequence[object]]]]) -> None: ...


@dataclasses.dataclass
class _Held:
    since: float
    values: dict
    ended: bool = False


class HeldRows:
    """The rows held for one database (by every store of this process on it): see the module doc.

    A row is changed (:meth:`end`) only while held; rows being written are out of the table
    already, and whoever needs them written waits for the writer (:meth:`write`), so the
    threads ending jobs never wait for a group being written.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()  # the table of rows (held briefly)
        self._writing = threading.Lock()  # one writer at a time; held while its group is written
        self.rows: dict[str, _Held] = {}
        self.databases: list[Database] = []  # the open databases rows can be written with

    def pending(self) -> bool:
        """Whether rows are held, or being written (a reader of the store must :meth:`write` first)."""
        return bool(self.rows) or self._writing.locked()

    def hold(self, job_id: str, values: dict) -> None:
        """Hold the row ``values`` (column -> value) of a new job instead of inserting it."""
        with self.lock:
            self.rows[job_id] = _Held(time.monotonic(), values)
            full = len(self.rows) >= MAX_HELD
        if full:
            self.write()
        _ticker.start()

    def held(self, job_id: str) -> bool:
        """Whether the row of ``job_id`` is held (not written, nor being written)."""
        return job_id in self.rows

    def end(self, job_id: str, update: Callable[[dict], None]) -> bool:
        """Give a held row its final columns (``update(values)`` changes them in place); it is then
        written at the next tick. False if the row is not held (written, or being written)."""
        with self.lock:
            held = self.rows.get(job_id)
            if held is None:
                return False
            update(held.values)
            held.ended = True
            return True

    def write(self, job_ids: Iterable[str] | None = None, older_than_s: float | None = None) -> None:
        """Write held rows, and wait for rows being written: those of ``job_ids`` (None: all), or with
        ``older_than_s`` those of ended jobs and those held at least that long.

        A group that fails to be written is held again (and the error raised).
        """
        if not self.pending():
            return
        with self._writing:
            with self.lock:
                batch = self._take(job_ids, older_than_s)
            if not batch:
                return
            try:
                self._insert(batch)
            except BaseException:
                with self.lock:  # nobody changed them meanwhile: they were out of the table
                    for job_id, held in batch.items():
                        self.rows.setdefault(job_id, held)
                raise

    def _take(self, job_ids: Iterable[str] | None, older_than_s: float | None) -> dict[str, _Held]:
        if not self.databases:
            return {}
        if job_ids is not None:
            ids = [i for i in job_ids if i in self.rows]
        elif older_than_s is not None:
            cutoff = time.monotonic() - older_than_s
            ids = [i for i, h in self.rows.items() if h.ended or h.since <= cutoff]
        else:
            ids = list(self.rows)
        return {job_id: self.rows.pop(job_id) for job_id in ids}

    def _insert(self, batch: dict[str, _Held]) -> None:
        groups: dict[tuple[str, ...], list[tuple]] = {}
        for held in batch.values():
            groups.setdefault(tuple(held.values), []).append(tuple(held.values.values()))
        # (Ended rows share their columns, as do rows of running jobs.) One transaction: all of it or none.
        self.databases[-1].write_many(
            (f"INSERT INTO jobs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
            for cols, rows in groups.items())

    def attach(self, db: Database) -> None:
        with self.lock:
            self.databases.append(db)

    def detach(self, db: Database) -> None:
        """Write every held row, then forget ``db`` (a store closes)."""
        try:
            self.write()
        finally:
            with self.lock:
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
        self.at_exit = False

    def start(self) -> None:
        if self.thread is not None:
            return
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="wf-held-rows", daemon=True)
                self.thread.start()
                if not self.at_exit:
                    # Registered now, after the databases were opened: exit handlers run last-registered
                    # first, so the rows are written before a connection pool's own handler closes it.
                    atexit.register(write_all)
                    self.at_exit = True

    @staticmethod
    def _loop() -> None:
        while True:
            time.sleep(DEFER_INSERT_S)
            for held in list(_by_database.values()):
                try:
                    held.write(older_than_s=HOLD_UNENDED_S)
                except Exception:  # a lock held past the busy timeout, a full disk: the next tick retries
                    pass


_ticker = _Ticker()


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
        held.lock, held._writing = threading.Lock(), threading.Lock()
        held.rows.clear()
    _registry_lock = threading.Lock()
    _ticker.thread = None
    _ticker.lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_in_child)
