"""The database seam: the stores' SQL runs on SQLite or PostgreSQL through one :class:`Database`.

Where the stores live (``Settings.database_url``, ``WF_WIDGETS_DATABASE_URL``):

* unset, the embedded default: each store in its own SQLite file in the home folder
  (``jobs.sqlite``, ``catalog/catalog.sqlite``, ``layers.sqlite``), as earlier versions made them;
* ``sqlite:///path/file.sqlite``: every store in that one SQLite file;
* ``postgresql://user:password@host:port/database``: PostgreSQL, through one connection pool
  (:mod:`psycopg_pool`) per URL and process, shared by the stores.

Each store keeps ONE copy of its queries, written once in the SQL that SQLite and PostgreSQL
both speak, with ``?`` placeholders (turned into psycopg's ``%s`` here, once per statement
text). Where the two must differ, one method of :class:`Dialect` chooses the dialect's form,
and nothing outside this module (and :mod:`wf_widgets._sqlite`, the SQLite connections) says
anything only one of them understands:

====================  =====================================  =========================================
difference            SQLite                                 PostgreSQL
====================  =====================================  =========================================
column types          ``{real}`` REAL, ``{int}`` INTEGER,    DOUBLE PRECISION (REAL is 4 bytes there),
(:attr:`types`)       ``{blob}`` BLOB                        BIGINT, BYTEA
write transaction     ``BEGIN IMMEDIATE`` (locks the file)   ``BEGIN`` + ``pg_advisory_xact_lock`` of
(:meth:`begin`)                                              the store (its writers queue, as SQLite's)
locking a row read    nothing (the file is locked)           ``SELECT ... FOR UPDATE``
(:meth:`for_update`)
a table exists        ``sqlite_master``                      ``to_regclass``
a JSON list as rows   ``json_each(?)``                       ``json_array_elements_text(?)``
box index             an R*Tree table kept by triggers       a GiST index on ``box(point, point)``
(:meth:`box_index`)   (:meth:`box_select` joins it)          of the four columns (``&&`` tests it)
legacy version        ``PRAGMA user_version`` (read, and     none
                      kept in step for older versions)
====================  =====================================  =========================================

Upserts (``INSERT ... ON CONFLICT (...) DO UPDATE ... RETURNING``) are spelt alike by both
(SQLite 3.35 or newer), so they need no method.

Schemas are versioned per store in a ``schema_version`` table (``store``, ``version``), the
same in both dialects: :meth:`Database.migrate` runs a store's missing migration scripts (the
store's ``MIGRATIONS``, templates of the types above) at its first use, in one transaction.
On PostgreSQL that transaction holds an advisory lock, so of processes starting at once one
migrates and the others then find the schema current. A store's own SQLite file made by an
earlier version recorded its version in ``PRAGMA user_version``: it is read when the store has
no row yet, and kept equal to the version after each migration, so an older wf_widgets still
refuses a home made newer than it knows.

Why plain sqlite3 and psycopg 3, not SQLAlchemy Core 2.x. The job store's two writes per job
(create, finish) were measured both ways (2,000 jobs, medians of 7 runs, on the job store's
own statements; /tmp prototypes, numbers of the machine this was written on)::

    SQLite   sqlite3 as before 62 us/job   this seam over sqlite3 64 us   SQLAlchemy text() 121 us, Core 119 us
    Postgres psycopg, one connection 254 us   psycopg_pool per statement 296 us   SQLAlchemy (its pool) 466 us

SQLAlchemy costs about 28 us per statement on SQLite (twice the whole write) and 100 us on
PostgreSQL, for nothing the stores need: their SQL is hand-written and portable already, and
the differences are the handful above. psycopg (with its pool) is imported only when a
``postgresql://`` URL is used: it takes a quarter of a second to import, which the embedded
default (and ``import wf_widgets``) should not pay.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

from ._sqlite import FetchedRows, ThreadConnections, statements
from .config import Settings
from .errors import DatabaseUnavailable

#: The advisory lock (PostgreSQL) under which every store's migrations run.
SCHEMA_LOCK = "wf_widgets.schema"
#: Most connections of one process's pool per PostgreSQL URL (shared by the stores).
POOL_MAX_SIZE = 16
#: Seconds to wait for a PostgreSQL connection (to connect, or for a free one in the pool).
CONNECT_TIMEOUT_S = 30.0

_SCHEMA_VERSION = "CREATE TABLE IF NOT EXISTS schema_version (store TEXT PRIMARY KEY, version INTEGER NOT NULL)"


def redact(url: str) -> str:
    """``url`` without its password (what messages show)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def lock_key(name: str) -> int:
    """The 64-bit advisory lock key of ``name`` (the same in every process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


# -- dialects: one method per difference ------------------------------------------------------------
class Dialect:
    """What differs between the SQL of SQLite and PostgreSQL (see the module doc): one method each."""

    name = ""
    #: The column types that migration templates name: ``{real}`` (8-byte float), ``{int}`` (64-bit
    #: integer), ``{blob}`` (bytes), ``{number}`` (a number of a column SQLite leaves untyped),
    #: ``{serial}`` (an integer primary key the database counts up).
    types: dict[str, str] = {}

    def sql(self, text: str) -> str:
        """``text`` (``?`` placeholders) as the driver takes it."""
        return text

    def render(self, script: str, **tokens: str) -> str:
        """A migration template with this dialect's types (and ``tokens``) filled in.

        A :class:`Migration` brings its own tokens (each chosen by the dialect); a plain str
        is taken as it is (SQL both dialects speak).
        """
        if isinstance(script, Migration):
            return script.template.format(**self.types, **{k: f(self) for k, f in script.tokens.items()}, **tokens)
        return script.format(**self.types, **tokens) if tokens else script

    def begin(self) -> str:
        """The statement that starts a write transaction."""
        raise NotImplementedError

    def lock(self, name: str) -> tuple[str, tuple] | None:
        """The statement (and its parameters) that makes writers of ``name`` queue inside a transaction, or None."""
        return None

    def for_update(self) -> str:
        """What ends a SELECT whose rows the transaction goes on to change."""
        return ""

    def table_exists(self) -> str:
        """A query with one parameter (a table name) giving a row if the table exists."""
        raise NotImplementedError

    def json_list(self, alias: str) -> str:
        """A FROM item of the strings of a JSON list given as a parameter, one row each, in column ``value``."""
        raise NotImplementedError

    def box_index(self, table: str) -> str:
        """DDL of the index over the boxes ``west, south, east, north`` of ``table``'s rows (see :meth:`box_select`)."""
        raise NotImplementedError

    def box_select(self, table: str, columns: list[str], where: str, args: list[Any],
                   boxes: list[tuple[float, float, float, float]]) -> tuple[str, list[Any]]:
        """A SELECT of ``columns`` of the rows of ``table`` meeting ``where`` whose box meets one of ``boxes``.

        Through the index of :meth:`box_index`. A row meeting two boxes may come once per box.

        Parameters
        ----------
        table : str
        columns : list of str
            Columns of ``table``.
        where : str
            A condition on columns of ``table`` (unqualified), with ``?`` parameters.
        args : list
            The arguments of ``where``.
        boxes : list of (west, south, east, north)
            At least one box, ``west <= east``.
        """
        raise NotImplementedError


class SqliteDialect(Dialect):
    """SQLite's forms (3.35 or newer)."""

    name = "sqlite"
    types = {"real": "REAL", "int": "INTEGER", "blob": "BLOB", "number": "", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT"}
    #: Pragmas of every connection: foreign keys enforced (as PostgreSQL does), and triggers fired by the
    #: rows a statement's conflict resolution deletes (the R*Tree of :meth:`box_index` follows them).
    PRAGMAS = ("foreign_keys=ON", "recursive_triggers=ON")

    def begin(self) -> str:
        return "BEGIN IMMEDIATE"

    def table_exists(self) -> str:
        return "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"

    def json_list(self, alias: str) -> str:
        return f"json_each(?) AS {alias}"

    def box_index(self, table: str) -> str:
        """An R*Tree ``<table>_rtree`` with one entry per row that has a box, keyed by the row's ``rowid``.

        Triggers keep it in step with every insert, update and delete of ``table``, in the
        writing statement's transaction. A delete made by conflict resolution reaches the delete
        trigger (the connections set ``recursive_triggers``); the insert trigger replaces any
        entry already under its rowid, so an entry left by a writer without it never points at
        another row. (SQLite's VACUUM keeps the rowids of such tables; were one to renumber
        them, rebuild the tree from the boxes.) Last, the tree is filled from the rows' boxes.
        """
        tree = f"{table}_rtree"
        return f"""
CREATE VIRTUAL TABLE IF NOT EXISTS {tree} USING rtree(id, west, east, south, north);
CREATE TRIGGER IF NOT EXISTS {tree}_insert AFTER INSERT ON {table} WHEN new.west IS NOT NULL BEGIN
    INSERT OR REPLACE INTO {tree} (id, west, east, south, north)
    VALUES (new.rowid, new.west, new.east, new.south, new.north);
END;
CREATE TRIGGER IF NOT EXISTS {tree}_update AFTER UPDATE OF west, south, east, north ON {table} BEGIN
    DELETE FROM {tree} WHERE id = old.rowid;
    INSERT OR REPLACE INTO {tree} (id, west, east, south, north)
    SELECT new.rowid, new.west, new.east, new.south, new.north WHERE new.west IS NOT NULL;
END;
CREATE TRIGGER IF NOT EXISTS {tree}_delete AFTER DELETE ON {table} BEGIN
    DELETE FROM {tree} WHERE id = old.rowid;
END;
INSERT OR REPLACE INTO {tree} (id, west, east, south, north)
    SELECT rowid, west, east, south, north FROM {table} WHERE west IS NOT NULL;
"""

    def box_select(self, table, columns, where, args, boxes):
        """The tree drives the query (``CROSS JOIN`` fixes the order: without statistics SQLite would
        rather walk another index of ``table`` and probe the tree for each row); one SELECT per box."""
        one = (f"SELECT {', '.join('i.' + c for c in columns)} FROM {table}_rtree AS r CROSS JOIN {table} AS i "
               f"ON i.rowid = r.id WHERE r.west <= ? AND r.east >= ? AND r.south <= ? AND r.north >= ? AND "
               f"({where})")
        params = [v for west, south, east, north in boxes for v in (east, west, north, south, *args)]
        return " UNION ALL ".join([one] * len(boxes)), params


class PostgresDialect(Dialect):
    """PostgreSQL's forms (12 or newer)."""

    name = "postgresql"
    types = {"real": "DOUBLE PRECISION", "int": "BIGINT", "blob": "BYTEA", "number": " DOUBLE PRECISION",
             "serial": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"}

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}

    def sql(self, text: str) -> str:
        out = self._texts.get(text)
        if out is None:  # our SQL has no "?" but placeholders; a "%" must be doubled for psycopg
            out = self._texts[text] = text.replace("%", "%%").replace("?", "%s")
        return out

    def begin(self) -> str:
        return "BEGIN"

    def lock(self, name: str) -> tuple[str, tuple]:
        return "SELECT pg_advisory_xact_lock(?)", (lock_key(name),)

    def for_update(self) -> str:
        return " FOR UPDATE"

    def table_exists(self) -> str:
        return "SELECT 1 WHERE to_regclass(?) IS NOT NULL"

    def json_list(self, alias: str) -> str:
        return f"json_array_elements_text(CAST(? AS json)) AS {alias}(value)"

    def box_index(self, table: str) -> str:
        return (f"CREATE INDEX IF NOT EXISTS {table}_box ON {table} "
                "USING gist (box(point(west, south), point(east, north)));")

    def box_select(self, table, columns, where, args, boxes):
        """One SELECT; the boxes ORed (PostgreSQL combines the index's answers); each row once."""
        meets = " OR ".join(["box(point(west, south), point(east, north)) && box(point(?, ?), point(?, ?))"] * len(boxes))
        sql = f"SELECT {', '.join(columns)} FROM {table} WHERE ({meets}) AND ({where})"
        return sql, [v for box in boxes for v in box] + list(args)


SQLITE = SqliteDialect()
POSTGRES = PostgresDialect()


class Migration(str):
    """One migration script of a store: its text is SQLite's, its :attr:`template` any dialect's.

    As a str it is the script SQLite runs (what homes of earlier versions ran, byte for byte;
    tools and tests that build such homes use it as it is). :meth:`Dialect.render` fills
    :attr:`template` for a dialect: the column types of :attr:`Dialect.types` and ``tokens``,
    each a function of the dialect giving its DDL (``images_box_index=lambda d:
    d.box_index("images")``).
    """

    template: str
    tokens: dict[str, Any]

    def __new__(cls, template: str, **tokens: Any) -> "Migration":
        text = template.format(**SQLITE.types, **{k: f(SQLITE) for k, f in tokens.items()})
        script = super().__new__(cls, text)
        script.template, script.tokens = template, tokens
        return script


# -- transactions --------------------------------------------------------------------------------
class Transaction:
    """An open write transaction of one thread: its connection, and callbacks for its end.

    Attributes
    ----------
    conn : connection
        What every statement of the thread on this database runs on until the end.
    on_commit, on_rollback : list of callable
        Run after the outermost transaction commits, or rolls back (also when the commit
        itself fails).
    """

    def __init__(self, conn: Any):
        self.conn = conn
        self.on_commit: list[Any] = []
        self.on_rollback: list[Any] = []


# The open transaction of each thread, by database (a file, or a URL): the stores sharing one
# database (one SQLite file, one PostgreSQL URL) see each other's, and join them.
_local = threading.local()


def _open(key: str) -> Transaction | None:
    txns = getattr(_local, "txns", None)
    return txns.get(key) if txns else None


def _txns() -> dict[str, Transaction]:
    txns = getattr(_local, "txns", None)
    if txns is None:
        txns = _local.txns = {}
    return txns


# -- databases ------------------------------------------------------------------------------------
class Database:
    """The database of one store: statements, transactions, schema versions.

    Built by :func:`open_database`. Reads and writes are single statements (autocommit)
    unless the thread has a :meth:`transaction` open on this database (by any store):
    then they run in it.

    Attributes
    ----------
    dialect : Dialect
    store : str
        The store's name (its row of ``schema_version``; its writers' lock on PostgreSQL).
    where : str
        What messages name: the file, or the URL without its password.
    path : Path or None
        The SQLite file (None on PostgreSQL).
    """

    dialect: Dialect
    path: Path | None = None

    def __init__(self, store: str, where: str, key: str):
        self.store = store
        self.where = where
        self._key = key

    # Implemented by each kind.
    def read(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run a statement that reads; a cursor (``fetchone``, ``fetchall``, iteration)."""
        raise NotImplementedError

    def write(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement that writes; a cursor (``rowcount``; the rows of a ``RETURNING``)."""
        raise NotImplementedError

    def transaction(self, lock: str | None = "") -> contextlib.AbstractContextManager[Transaction]:
        """A write transaction of this thread; nested calls (from any store of the same database) join it.

        ``lock``: the name whose writers queue while it is open (PostgreSQL's advisory lock;
        SQLite's ``BEGIN IMMEDIATE`` locks the whole file anyway); default the store's name,
        None for none.
        """
        raise NotImplementedError

    def columns(self, table: str) -> list[str]:
        """The columns of ``table``, in order."""
        raise NotImplementedError

    @property
    def key(self) -> str:
        """What names this database in this process (its file, or its URL): the same for every store on it."""
        return self._key

    def in_transaction(self) -> bool:
        """Whether this thread has a transaction open on this database (by any store)."""
        return _open(self._key) is not None

    def write_many(self, statements: Iterable[tuple[str, Sequence[Sequence[Any]]]]) -> None:
        """Run writing statements, each once per row of its parameters, all in one transaction (joining the
        thread's): all of it or none."""
        with self.transaction(lock=None) as txn:
            for sql, rows in statements:
                self._many(txn.conn, sql, rows)

    def _many(self, conn: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    def checkpoint(self) -> None:
        """Keep the database's log small after big writes (SQLite's WAL; nothing on PostgreSQL)."""

    def close(self) -> None:
        """Close this store's connections (a shared pool when its last store closes)."""

    def _legacy_version(self) -> int:
        return 0

    def _record_legacy_version(self, version: int) -> None:
        pass

    # Common to both.
    def version(self) -> int | None:
        """The store's recorded schema version, or None if it has none (no row, or no table yet)."""
        if self.read(self.dialect.table_exists(), ("schema_version",)).fetchone() is None:
            return None
        row = self.read("SELECT version FROM schema_version WHERE store = ?", (self.store,)).fetchone()
        return None if row is None else int(row[0])

    def migrate(self, migrations: Sequence[str]) -> int:
        """Bring the store to the newest schema; returns the version it had.

        Parameters
        ----------
        migrations : sequence of str
            :class:`Migration` scripts (or plain SQL both dialects speak), oldest first;
            script ``i`` moves version ``i`` to ``i + 1``. Each runs statement by statement,
            all in one transaction.

        Raises
        ------
        RuntimeError
            The store was made by a newer version of wf_widgets.
        """
        newest = len(migrations)
        version = self.version()
        if version == newest:
            return version
        with self.transaction(lock=SCHEMA_LOCK):
            self.write(_SCHEMA_VERSION)
            version = self.version()  # again: another process may have migrated meanwhile
            if version is None:
                version = self._legacy_version()
            if version > newest:
                raise RuntimeError(f"The {self.store} store in {self.where} has schema version {version}, newer than "
                                   f"this wf_widgets knows ({newest}): upgrade wf_widgets")
            for script in migrations[version:]:
                for statement in statements(self.dialect.render(script)):
                    self.write(statement)
            self.write("INSERT INTO schema_version (store, version) VALUES (?, ?)"
                       " ON CONFLICT (store) DO UPDATE SET version = excluded.version", (self.store, newest))
            self._record_legacy_version(newest)
        return version

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.store!r}, {self.where!r})"


class SqliteDatabase(Database):
    """A store in a SQLite file (:class:`~wf_widgets._sqlite.ThreadConnections`: one connection per thread,
    this process's writers taking turns on one lock and one connection).

    Parameters
    ----------
    store : str
    path : Path
        The file.
    own_file : bool
        The file is the store's alone (the embedded default): its ``PRAGMA user_version`` is the
        store's version as earlier versions recorded it (read, and kept in step).
    busy_timeout_s : float
        Seconds to wait for another process's writer.
    """

    dialect = SQLITE

    def __init__(self, store: str, path: Path, own_file: bool, busy_timeout_s: float):
        self.connections = ThreadConnections(path, pragmas=SQLITE.PRAGMAS, busy_timeout_s=busy_timeout_s)
        super().__init__(store, str(path), self.connections.write_key)
        self.path = path
        self.own_file = own_file
        self._write = self.connections.write

    def conn(self) -> sqlite3.Connection:
        """This thread's connection (SQLite's own tools: ``EXPLAIN QUERY PLAN``, pragmas)."""
        return self.connections.get()

    def read(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        txn = _open(self._key)
        return (txn.conn if txn is not None else self.connections.get()).execute(sql, params)

    def write(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        txn = _open(self._key)
        if txn is not None:
            return txn.conn.execute(sql, params)
        return self._write(sql, params)

    @contextlib.contextmanager
    def transaction(self, lock: str | None = "") -> Iterator[Transaction]:
        txns = _txns()
        txn = txns.get(self._key)
        if txn is not None:
            yield txn
            return
        conn = self.connections.get()
        with self.connections.write_lock:  # this process's writers first, then SQLite's lock
            txn = txns[self._key] = Transaction(conn)
            try:
                conn.execute(self.dialect.begin())
                try:
                    yield txn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    for undo in reversed(txn.on_rollback):
                        undo()
                    raise
            finally:
                del txns[self._key]
        for done in txn.on_commit:
            done()

    def _many(self, conn: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        conn.executemany(sql, rows)

    def columns(self, table: str) -> list[str]:
        return [d[0] for d in self.read(f"SELECT * FROM {table} LIMIT 0").description]

    def checkpoint(self) -> None:
        self.connections.checkpoint()

    def close(self) -> None:
        self.connections.close()

    def _legacy_version(self) -> int:
        return self.read("PRAGMA user_version").fetchone()[0] if self.own_file else 0

    def _record_legacy_version(self, version: int) -> None:
        if self.own_file:
            self.write(f"PRAGMA user_version = {int(version)}")


# -- PostgreSQL -------------------------------------------------------------------------------------
class Row(tuple):
    """A PostgreSQL row as sqlite3.Row reads: by position, by column name, and ``dict(row)``."""

    __slots__ = ()
    _index: dict[str, int] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            key = self._index[key]
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


_row_classes: dict[tuple[str, ...], type] = {}


def _row_factory(cursor: Any) -> Any:
    """psycopg's row factory: a :class:`Row` class per list of column names."""
    desc = cursor.description
    if desc is None:
        return tuple
    names = tuple(d.name for d in desc)
    cls = _row_classes.get(names)
    if cls is None:
        cls = _row_classes[names] = type("Row", (Row,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})
    return cls


class _Pool:
    """One process's connection pool of a PostgreSQL URL, shared by the stores that use it."""

    def __init__(self, url: str):
        # psycopg is imported only when a postgresql:// URL is used: a quarter of a second, which
        # the embedded default need not pay.
        try:
            import psycopg  # noqa: PLC0415  (heavy, needed only with a postgresql:// URL)
            import psycopg_pool  # noqa: PLC0415  (heavy, needed only with a postgresql:// URL)
        except ImportError as exc:  # pragma: no cover - they are dependencies
            raise DatabaseUnavailable(f"WF_WIDGETS_DATABASE_URL names PostgreSQL but its driver is missing ({exc}): "
                                      "pip install 'psycopg[binary]' psycopg-pool", where=redact(url)) from exc
        self.url = url
        self.refs = 0
        self.errors = (psycopg.Error,)
        try:  # one connection first, for a clear error now rather than a pool timeout later
            psycopg.connect(url, connect_timeout=int(CONNECT_TIMEOUT_S)).close()
        except psycopg.Error as exc:
            raise DatabaseUnavailable(f"Could not connect to the database {redact(url)}: {str(exc).strip()}",
                                      where=redact(url)) from exc
        self.pool = psycopg_pool.ConnectionPool(
            url, min_size=1, max_size=POOL_MAX_SIZE, timeout=CONNECT_TIMEOUT_S, open=True,
            kwargs={"autocommit": True, "row_factory": _row_factory}, name=f"wf_widgets {redact(url)}")

    def close(self) -> None:
        self.pool.close()


_pools: dict[str, _Pool] = {}
_pools_lock = threading.Lock()
_forked_away: list[_Pool] = []


def _pool(url: str) -> _Pool:
    with _pools_lock:
        pool = _pools.get(url)
        if pool is None:
            pool = _pools[url] = _Pool(url)
        pool.refs += 1
        return pool


def _release(pool: _Pool) -> None:
    with _pools_lock:
        pool.refs -= 1
        if pool.refs > 0 or _pools.get(pool.url) is not pool:
            return
        del _pools[pool.url]
    pool.close()


def _forget_pools() -> None:
    # A forked child must not use (nor close: that would end them for the parent too) its parent's
    # connections; it keeps the objects, unused, and opens its own.
    global _pools_lock
    _pools_lock = threading.Lock()
    _forked_away.extend(_pools.values())
    _pools.clear()


os.register_at_fork(after_in_child=_forget_pools)


class PostgresDatabase(Database):
    """A store in PostgreSQL (autocommit connections from the URL's pool; transactions hold one).

    Parameters
    ----------
    store : str
    url : str
        ``postgresql://...`` (libpq's URI: ``?options=-csearch_path%3D<schema>`` picks a schema).
    """

    dialect = POSTGRES

    def __init__(self, store: str, url: str):
        super().__init__(store, redact(url), url)
        self._url = url
        self._pool = _pool(url)
        self._pid = os.getpid()
        self._closed = False

    def _connections(self) -> Any:
        """The pool of this process (a forked child opens its own: the parent's connections are the parent's)."""
        if self._pid != os.getpid():
            self._pid, self._pool = os.getpid(), _pool(self._url)
        return self._pool.pool

    def _run(self, conn: Any, sql: str, params: Sequence[Any]) -> FetchedRows:
        return FetchedRows(conn.execute(POSTGRES.sql(sql), params))

    def read(self, sql: str, params: Sequence[Any] = ()) -> FetchedRows:
        txn = _open(self._key)
        if txn is not None:
            return self._run(txn.conn, sql, params)
        with self._connections().connection() as conn:
            return self._run(conn, sql, params)

    def _many(self, conn: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with conn.cursor() as cur:
            cur.executemany(POSTGRES.sql(sql), rows)

    write = read

    @contextlib.contextmanager
    def transaction(self, lock: str | None = "") -> Iterator[Transaction]:
        txns = _txns()
        txn = txns.get(self._key)
        if txn is not None:
            yield txn
            return
        lock = self.store if lock == "" else lock
        with self._connections().connection() as conn:
            txn = txns[self._key] = Transaction(conn)
            try:
                conn.execute(self.dialect.begin())
                try:
                    if lock is not None:
                        sql, params = self.dialect.lock(lock)
                        self._run(conn, sql, params)
                    yield txn
                    conn.execute("COMMIT")
                except BaseException:
                    try:
                        conn.execute("ROLLBACK")
                    except self._pool.errors:  # the connection is gone: the server rolled back
                        pass
                    for undo in reversed(txn.on_rollback):
                        undo()
                    raise
            finally:
                del txns[self._key]
        for done in txn.on_commit:
            done()

    def columns(self, table: str) -> list[str]:
        return [d.name for d in self.read(f"SELECT * FROM {table} LIMIT 0").description]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._pid == os.getpid():
                _release(self._pool)


# -- where a store is -------------------------------------------------------------------------------
def sqlite_url_path(url: str) -> Path:
    """The file of a ``sqlite:///path`` URL (``sqlite:////abs`` is absolute; ``~`` is expanded)."""
    return Path(url[len("sqlite:///"):]).expanduser().resolve()


def kind(settings: Settings) -> str:
    """``"embedded"`` (SQLite files in the home), ``"sqlite"`` (one SQLite file) or ``"postgresql"``."""
    url = settings.database_url
    if not url:
        return "embedded"
    return "sqlite" if url.lower().startswith("sqlite:") else "postgresql"


def open_database(settings: Settings, store: str, embedded_file: Path | None,
                  busy_timeout_s: float = 30.0) -> Database:
    """The database of ``store`` under ``settings`` (see the module doc); opens nothing yet on SQLite.

    Parameters
    ----------
    settings : Settings
    store : str
        The store's name (``"jobs"``, ``"catalog"``, ...).
    embedded_file : Path or None
        Its own SQLite file in the embedded default; None for a store that lives only in a
        database named by a URL (signing keys, servers).
    busy_timeout_s : float
        SQLite: seconds to wait for another process's writer.

    Raises
    ------
    DatabaseUnavailable
        PostgreSQL can't be reached.
    """
    which = kind(settings)
    if which == "embedded":
        if embedded_file is None:
            raise ValueError(f"The {store} store lives only in a database named by WF_WIDGETS_DATABASE_URL")
        return SqliteDatabase(store, embedded_file, own_file=True, busy_timeout_s=busy_timeout_s)
    if which == "sqlite":
        path = sqlite_url_path(settings.database_url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(store, path, own_file=False, busy_timeout_s=busy_timeout_s)
    return PostgresDatabase(store, settings.database_url)


def store_exists(settings: Settings, embedded_file: Path) -> bool:
    """Whether a store may hold rows already (what reading commands check before opening one).

    The embedded default: its file exists. A SQLite URL: that file exists. PostgreSQL: always
    (the schema is made at first use; reading an empty one is cheap).
    """
    which = kind(settings)
    if which == "embedded":
        return embedded_file.exists()
    if which == "sqlite":
        return sqlite_url_path(settings.database_url).exists()
    return True


def describe(settings: Settings) -> str:
    """Where the stores of ``settings`` are, for messages: the home folder, the file, or the URL (no password)."""
    which = kind(settings)
    if which == "embedded":
        return str(settings.home)
    if which == "sqlite":
        return str(sqlite_url_path(settings.database_url))
    return redact(settings.database_url)
