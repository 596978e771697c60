"""Per-thread SQLite connections, as every store in the home folder opens them.

Each thread gets its own connection (autocommit, so writes are single statements or
explicit ``BEGIN IMMEDIATE`` transactions), in WAL mode with ``synchronous=NORMAL`` and a
busy timeout, so many threads and processes can share a file without "database is
locked" errors.

Schemas are versioned (:func:`migrate`): each store lists its migrations, the first one
creating the tables of the first version (``IF NOT EXISTS``, so homes made before
versioning existed open as version 1), and ``PRAGMA user_version`` records how many ran.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Sequence

from ._files import touch_private

#: Seconds a connection waits for another writer before giving up.
BUSY_TIMEOUT_S = 30.0


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
                         *pragmas)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []

    def get(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if str(self.path) != ":memory:":
                touch_private(self.path)  # 0600; SQLite gives its -wal and -shm files the same mode
            conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            for pragma in self._pragmas:
                conn.execute(f"PRAGMA {pragma}")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @property
    def local(self) -> threading.local:
        """Per-thread state beside the connection (a store's open transaction, say)."""
        return self._local

    def close(self) -> None:
        """Close every connection (any thread's); the next :meth:`get` opens a new one."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.ProgrammingError:  # closed already
                pass
        self._local = threading.local()


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
    """
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
            for statement in _statements(script):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {len(migrations)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return version


def _statements(script: str) -> list[str]:
    # executescript() would commit our transaction; split on statement ends instead.
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
    row = conn.execute("PRAGMA database_list").fetchone()
    return row[2] if row and row[2] else "the database"
