"""Per-thread SQLite connections, as every store in the home folder opens them.

Each thread gets its own connection (autocommit, so writes are single statements or
explicit ``BEGIN IMMEDIATE`` transactions), in WAL mode with ``synchronous=NORMAL`` and a
busy timeout, so many threads and processes can share a file without "database is
locked" errors.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

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
