"""Per-thread SQLite connections, as every store in the home folder opens them.

Each thread gets its own connection (autocommit, so writes are single statements or
explicit ``BEGIN IMMEDIATE`` transactions), in WAL mode with ``synchronous=NORMAL`` and a
busy timeout, so many threads and processes can share a file without "database is
locked" errors.

Schemas were versioned by :func:`migrate`, in ``PRAGMA user_version``: homes made by earlier
versions hold their stores' versions there. The stores now version their schemas through
:meth:`wf_widgets._db.Database.migrate` (a ``schema_version`` table, for SQLite and PostgreSQL
alike), which reads that pragma of a store's own file and keeps it in step; :func:`migrate`
remains what makes such homes (the tests build them with it).

A damaged file or a full disk never surfaces as a raw ``sqlite3.DatabaseError``: every
statement run through these connections (and :func:`migrate`) turns them into
:class:`~wf_widgets.errors.StoreCorrupted` (naming the file and ``wf-widgets doctor
--repair``) and :class:`~wf_widgets.errors.DiskFull` (naming the folder). The WAL is kept
small: ``journal_size_limit`` on every connection, and :meth:`ThreadConnections.checkpoint`
(``wal_checkpoint(TRUNCATE)``) after big writes and at every sweep.

Threads of one process that write to the same file can take turns on a Python lock
(:attr:`ThreadConnections.write_lock`, :meth:`ThreadConnections.write`) instead of
SQLite's busy handler, which sleeps a whole millisecond and more when it finds the file
locked: the lock hands over as soon as the statement before is done. Other processes still
meet SQLite's lock and its busy timeout. :meth:`ThreadConnections.write` runs the
statements of every thread on one connection, whose page cache keeps what they changed.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import Any, NoReturn, Sequence

from ._files import touch_private
from .errors import DiskFull, StoreCorrupted

#: Seconds a connection waits for another writer before giving up.
BUSY_TIMEOUT_S = 30.0
#: Bytes of WAL kept after a checkpoint (SQLite truncates the file down to this).
JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024
#: Seconds a checkpoint waits for readers before settling for a partial one.
CHECKPOINT_TIMEOUT_S = 1.0

# One write lock per database file and process (see the module docstring); a forked child
# starts with none, as a lock held by a thread of its parent would stay held there.
_write_locks: dict[str, threading.Lock] = {}
_write_locks_guard = threading.Lock()


def _write_lock_key(path: Any) -> str:
    return str(Path(path).resolve()) if str(path) != ":memory:" else f":memory:{id(path)}"


def _write_lock(key: str) -> threading.Lock:
    lock = _write_locks.get(key)
    if lock is None:
        with _write_locks_guard:
            lock = _write_locks.setdefault(key, threading.Lock())
    return lock


def write_lock(path: Any) -> threading.Lock:
    """This process's write lock of the database file ``path`` (one per file, whatever opens it)."""
    return _write_lock(_write_lock_key(path))


# Every ThreadConnections of this process: a forked child drops their connections (SQLite's
# rule: a connection must not cross a fork), and keeps the objects alive, unused, for closing
# them would close file descriptors whose POSIX locks SQLite tracks for the child's new ones.
_instances: "weakref.WeakSet[ThreadConnections]" = weakref.WeakSet()
_forked_away: list[sqlite3.Connection] = []


def _forget_write_locks() -> None:
    global _write_locks_guard
    _write_locks_guard = threading.Lock()
    _write_locks.clear()
    for connections in list(_instances):
        connections._forget_after_fork()


os.register_at_fork(after_in_child=_forget_write_locks)


# Primary result codes (the low byte of sqlite_errorcode).
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_NOTADB = 11, 13, 26


def store_error(exc: sqlite3.DatabaseError, path: Any) -> Exception | None:
    """The wf_widgets error for a SQLite error on the file ``path``, or None to keep ``exc``.

    SQLITE_CORRUPT and SQLITE_NOTADB give :class:`StoreCorrupted`, SQLITE_FULL gives
    :class:`DiskFull`; anything else (a locked database, a constraint) is left alone.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or (
            primary is None and ("malformed" in text or "not a database" in text)):
        return StoreCorrupted(
            f"The store {path} is corrupted ({text}). Run `wf-widgets doctor --repair` to move it aside "
            "(a new, empty store is made at next use), or restore it from a backup.", path=path)
    if primary == _SQLITE_FULL or (primary is None and "disk is full" in text):
        return DiskFull.in_folder(Path(path).parent if path is not None else "the home folder")
    return None


class _Connection(sqlite3.Connection):
    """A connection whose ``execute`` and ``executemany`` raise StoreCorrupted / DiskFull instead of raw SQLite errors."""

    wf_path: Any = None

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as exc:
            self._raise(exc)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> sqlite3.Cursor:
        try:
            return super().executemany(sql, seq_of_parameters)
        except sqlite3.DatabaseError as exc:
            self._raise(exc)

    def _raise(self, exc: sqlite3.DatabaseError) -> NoReturn:
        """Raise ``exc`` as :func:`store_error` names it (StoreCorrupted, DiskFull), else as it is."""
        err = store_error(exc, self.wf_path)
        if err is None:
            raise exc
        raise err from exc


class FetchedRows:
    """The rows of a statement, read whole from its cursor (SQLite's or psycopg's); reads as a cursor does."""

    __slots__ = ("rows", "rowcount", "description", "_i")

    def __init__(self, cursor: Any):
        self.description = cursor.description
        self.rows = cursor.fetchall() if cursor.description is not None else []
        self.rowcount = cursor.rowcount
        self._i = 0

    def fetchone(self) -> Any:
        """The next row, or None."""
        if self._i >= len(self.rows):
            return None
        self._i += 1
        return self.rows[self._i - 1]

    def fetchall(self) -> list:
        """The rows not read yet."""
        rows, self._i = self.rows[self._i:], len(self.rows)
        return rows

    def __iter__(self) -> Any:
        return iter(self.fetchall())


class ThreadConnections:
    """The connections of one SQLite file, one per thread.

    Parameters
    ----------
    path : Path
        The database file.
    pragmas : tuple of str
        Extra ``PRAGMA`` statements run on every new connection.
    busy_timeout_s : float
        Seconds to wait for another writer.
    """

    def __init__(self, path: Path, pragmas: tuple[str, ...] = (), busy_timeout_s: float = BUSY_TIMEOUT_S):
        self.path = path
        self._timeout = busy_timeout_s
        self._pragmas = ("journal_mode=WAL", "synchronous=NORMAL", f"busy_timeout={int(busy_timeout_s * 1000)}",
                         f"journal_size_limit={JOURNAL_SIZE_LIMIT}", *pragmas)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[tuple[threading.Thread, sqlite3.Connection]] = []  # (the thread that opened it, it)
        self._write_key = _write_lock_key(path)
        self._writer: sqlite3.Connection | None = None
        _instances.add(self)

    def _forget_after_fork(self) -> None:
        _forked_away.extend(conn for _, conn in self._all)
        self._lock = threading.Lock()
        self._all, self._writer, self._local = [], None, threading.local()

    def get(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open()
        return conn

    def _open(self) -> sqlite3.Connection:
        if str(self.path) != ":memory:":
            touch_private(self.path)  # 0600; SQLite gives its -wal and -shm files the same mode
        try:
            conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None,
                                   check_same_thread=False, factory=_Connection)
        except sqlite3.DatabaseError as exc:
            err = store_error(exc, self.path)
            if err is None:
                raise
            raise err from exc
        conn.wf_path = self.path
        conn.row_factory = sqlite3.Row
        try:
            for pragma in self._pragmas:
                self._pragma(conn, pragma)
        except BaseException:
            conn.close()
            raise
        with self._lock:
            self._all.append((threading.current_thread(), conn))
        return conn

    def _pragma(self, conn: sqlite3.Connection, pragma: str) -> None:
        # Switching a new file to WAL takes an exclusive lock, and SQLite answers a second
        # process doing so at the same moment with SQLITE_BUSY at once, without its busy
        # handler: retry that for as long as the busy timeout allows.
        deadline = time.monotonic() + self._timeout
        pause = 0.001
        while True:
            try:
                conn.execute(f"PRAGMA {pragma}")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    @property
    def write_key(self) -> str:
        """The key of this file's write lock (the resolved path): the same for every store that opens the file."""
        return self._write_key

    @property
    def write_lock(self) -> threading.Lock:
        """Held by a thread of this process while it writes to the file (one statement or a transaction).

        Take it before SQLite's lock (before ``BEGIN IMMEDIATE``), never inside a transaction.
        """
        return _write_lock(self._write_key)

    def write(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor | FetchedRows:
        """Run one writing statement, holding :attr:`write_lock`.

        The statements of every thread go through one connection (the lock serialises
        them): its page cache holds the pages the last writes changed, where each thread's
        own connection would read them back first. The rows of a ``RETURNING`` are read
        under the lock (:class:`FetchedRows`): the statement ends only once they are, and
        the next writer's statement on the connection would cut it short.
        """
        with _write_lock(self._write_key):
            conn = self._writer
            if conn is None:
                conn = self._writer = self._open()
            cur = conn.execute(sql, parameters)
            return cur if cur.description is None else FetchedRows(cur)

    def checkpoint(self, timeout_s: float = CHECKPOINT_TIMEOUT_S) -> tuple[int, int, int]:
        """``PRAGMA wal_checkpoint(TRUNCATE)``: copy the WAL into the file and empty it.

        Waits at most ``timeout_s`` for readers of other connections; if they stay, the
        checkpoint is partial (the first number returned is 1) and the next one finishes it.
        Returns SQLite's (busy, WAL frames, frames checkpointed).
        """
        conn = self.get()
        conn.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
        try:
            return tuple(conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone())
        finally:
            conn.execute(f"PRAGMA busy_timeout={int(self._timeout * 1000)}")

    @property
    def local(self) -> threading.local:
        """Per-thread state beside the connection (a store's open transaction, say)."""
        return self._local

    def close(self) -> None:
        """Close the connections; the next :meth:`get` opens a new one.

        Closed now: this thread's, those of threads that ended, and the writer unless a
        write holds it. A connection another thread may be using this instant (a board's
        poller mid-query) is not closed under it, which would free what its statement uses
        (a crash): it is let go, and closes when that thread lets go of it too.
        """
        with self._lock:
            conns, self._all = self._all, []
            writer, self._writer = self._writer, None
            self._local = threading.local()
        me = threading.current_thread()
        lock = _write_lock(self._write_key)
        for owner, conn in conns:
            if conn is writer:
                if not lock.acquire(blocking=False):
                    continue  # a write is on it
                try:
                    conn.close()
                finally:
                    lock.release()
            elif owner is me or not owner.is_alive():
                try:
                    conn.close()
                except sqlite3.ProgrammingError:  # closed already
                    pass


def migrate(conn: sqlite3.Connection, migrations: Sequence[str]) -> int:
    """Bring a database to the newest schema version; returns the version it had.

    Parameters
    ----------
    conn : sqlite3.Connection
        An autocommit connection (``isolation_level=None``).
    migrations : sequence of str
        SQL scripts, oldest first; script ``i`` moves version ``i`` to ``i + 1``.

    Raises
    ------
    RuntimeError
        If the database was made by a newer version of wf_widgets.
    StoreCorrupted, DiskFull
        If the file is damaged, or the disk is full.
    """
    try:
        return _migrate(conn, migrations)
    except sqlite3.DatabaseError as exc:
        err = store_error(exc, _path(conn))
        if err is None:
            raise
        raise err from exc


def _migrate(conn: sqlite3.Connection, migrations: Sequence[str]) -> int:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == len(migrations):
        return version
    if version > len(migrations):
        raise RuntimeError(f"{_name(conn)} has schema version {version}, newer than this wf_widgets knows "
                           f"({len(migrations)}): upgrade wf_widgets")
    conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see the new version
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for script in migrations[version:]:
            for statement in statements(script):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {len(migrations)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return version


def statements(script: str) -> list[str]:
    """The statements of an SQL script, in order (``executescript()`` would commit a transaction open around them)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def _name(conn: sqlite3.Connection) -> str:
    return _path(conn) or "the database"


def _path(conn: sqlite3.Connection) -> str | None:
    path = getattr(conn, "wf_path", None)
    if path is not None:
        return str(path)
    try:
        row = conn.execute("PRAGMA database_list").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[2] if row and row[2] else None
