"""The catalog's SQLite store: every SQL statement of the catalog lives here.

``<home>/catalog/catalog.sqlite`` in WAL mode (readers never wait for the writer), one
connection per thread, a generous busy timeout, and every write in a ``BEGIN IMMEDIATE``
transaction so that writers queue on the database lock instead of failing with
"database is locked" (a deferred transaction that upgrades to a write lock can fail at
once, a busy timeout does not help it). Lists and dicts are JSON columns, datetimes ISO
8601 text in UTC. Rows go in and come out as plain dicts of Python values.

Raster files live under ``<home>/catalog/files`` (see :mod:`wf_widgets.catalog.files`).
:meth:`CatalogStore.transaction` runs callbacks after a commit or a rollback, which the
file moves of an upload hook into, so a record and its file change together.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterator

from .._files import private_dir
from .._sqlite import ThreadConnections, migrate
from ..config import Settings
from .reads import CatalogReads, Identity

BUSY_TIMEOUT_S = 60.0

_TEXT, _INT, _JSON, _TIME = "TEXT", "INTEGER", "JSON", "TIME"

#: table -> column -> kind; the first column is the primary key.
_TABLES: dict[str, dict[str, str]] = {
    "products": {
        "id": _TEXT, "name": _TEXT, "description": _TEXT,
        "owners": _JSON, "readers": _JSON, "writers": _JSON,
        "created": _TIME, "modified": _TIME,
    },
    "bands": {
        "id": _TEXT, "product_id": _TEXT, "name": _TEXT, "type": _TEXT, "band_index": _INT,
        "data_type": _TEXT, "nodata": _JSON, "data_range": _JSON, "display_range": _JSON,
        "resolution": _JSON, "description": _TEXT, "attrs": _JSON,
        "created": _TIME, "modified": _TIME,
    },
    "images": {
        "id": _TEXT, "product_id": _TEXT, "name": _TEXT, "acquired": _TIME, "cs_code": _TEXT,
        "geotrans": _JSON, "x_pixels": _INT, "y_pixels": _INT, "extra_properties": _JSON,
        "files": _JSON, "created": _TIME, "modified": _TIME,
    },
}
_ORDER = {"products": "id", "bands": "band_index, name", "images": "name"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY, name TEXT, description TEXT,
    owners TEXT NOT NULL, readers TEXT NOT NULL, writers TEXT NOT NULL,
    created TEXT NOT NULL, modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bands (
    id TEXT PRIMARY KEY, product_id TEXT NOT NULL REFERENCES products(id),
    name TEXT NOT NULL, type TEXT NOT NULL, band_index INTEGER NOT NULL, data_type TEXT,
    nodata TEXT, data_range TEXT, display_range TEXT, resolution TEXT, description TEXT,
    attrs TEXT, created TEXT NOT NULL, modified TEXT NOT NULL,
    UNIQUE (product_id, name)
);
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY, product_id TEXT NOT NULL REFERENCES products(id),
    name TEXT NOT NULL, acquired TEXT, cs_code TEXT, geotrans TEXT,
    x_pixels INTEGER, y_pixels INTEGER, extra_properties TEXT, files TEXT,
    created TEXT NOT NULL, modified TEXT NOT NULL,
    UNIQUE (product_id, name)
);
CREATE INDEX IF NOT EXISTS bands_by_product ON bands (product_id, band_index);
CREATE INDEX IF NOT EXISTS images_by_product ON images (product_id, name);
"""
#: Schema migrations, oldest first (see :func:`wf_widgets._sqlite.migrate`); append, never edit.
MIGRATIONS: tuple[str, ...] = (_SCHEMA,)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return obj.isoformat()
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _to_sql(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == _JSON:
        return json.dumps(value, default=_json_default)
    if kind == _TIME:
        return value.astimezone(_dt.timezone.utc).isoformat()
    return value


def _from_sql(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == _JSON:
        return json.loads(value)
    if kind == _TIME:
        return _dt.datetime.fromisoformat(value)
    return value


class _Transaction:
    """Callbacks to run once the surrounding transaction commits or rolls back."""

    def __init__(self) -> None:
        self.on_commit: list[Callable[[], None]] = []
        self.on_rollback: list[Callable[[], None]] = []


class CatalogStore:
    """SQLite store of products, bands and images under ``<home>/catalog``.

    Parameters
    ----------
    settings : Settings
        Gives the home folder, the current user and the clock.

    Attributes
    ----------
    settings : Settings
    root : Path
        ``<home>/catalog``.
    path : Path
        The SQLite file.
    files_root : Path
        Folder of the raster files, ``<root>/files``.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = Path(settings.home) / "catalog"
        self.files_root = self.root / "files"
        self.path = self.root / "catalog.sqlite"
        private_dir(self.files_root)
        self._connections = ThreadConnections(self.path, pragmas=("foreign_keys=ON",), busy_timeout_s=BUSY_TIMEOUT_S)
        migrate(self._conn(), MIGRATIONS)

    # -- connections and transactions -----------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[_Transaction]:
        """A write transaction (``BEGIN IMMEDIATE``) of this thread; nested calls join it.

        Yields an object whose ``on_commit`` and ``on_rollback`` lists take callbacks,
        run after the outermost transaction commits, or rolls back (also when the commit
        itself fails).
        """
        conn = self._conn()
        local = self._connections.local
        if getattr(local, "txn", None) is not None:
            yield local.txn
            return
        txn = local.txn = _Transaction()
        try:
            conn.execute("BEGIN IMMEDIATE")
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
            local.txn = None
        for done in txn.on_commit:
            done()

    def close(self) -> None:
        """Close every connection this store opened (in any thread)."""
        self._connections.close()

    # -- generic row access --------------------------------------------------------
    def _get(self, table: str, id: str) -> dict[str, Any] | None:
        cols = _TABLES[table]
        cur = self._conn().execute(f"SELECT {', '.join(cols)} FROM {table} WHERE id = ?", (id,))
        row = cur.fetchone()
        return None if row is None else {c: _from_sql(k, v) for (c, k), v in zip(cols.items(), row)}

    def _list(self, table: str, product_id: str | None = None) -> list[dict[str, Any]]:
        cols = _TABLES[table]
        sql = f"SELECT {', '.join(cols)} FROM {table}"
        args: tuple = ()
        if product_id is not None:
            sql, args = sql + " WHERE product_id = ?", (product_id,)
        cur = self._conn().execute(sql + f" ORDER BY {_ORDER[table]}", args)
        return [{c: _from_sql(k, v) for (c, k), v in zip(cols.items(), row)} for row in cur.fetchall()]

    def _insert(self, table: str, row: dict[str, Any], replace: bool = False) -> dict[str, Any]:
        cols = _TABLES[table]
        now = self.settings.now()
        row = {**{c: row.get(c) for c in cols}, "created": now, "modified": now}
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        with self.transaction():
            self._conn().execute(
                f"{verb} INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                tuple(_to_sql(cols[c], row[c]) for c in cols),
            )
        return row

    def _update(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        cols = _TABLES[table]
        names = [c for c in cols if c not in ("id", "created")]
        row = {**{c: row.get(c) for c in cols}, "modified": self.settings.now()}
        with self.transaction():
            cur = self._conn().execute(
                f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in names)} WHERE id = ?",
                tuple(_to_sql(cols[c], row[c]) for c in names) + (row["id"],),
            )
            if cur.rowcount != 1:
                raise LookupError(f"no {table[:-1]} {row['id']!r} to update")
            row["created"] = self._get(table, row["id"])["created"]
        return row

    def _delete(self, table: str, id: str) -> bool:
        with self.transaction():
            return self._conn().execute(f"DELETE FROM {table} WHERE id = ?", (id,)).rowcount == 1

    # -- products --------------------------------------------------------------------
    def get_product(self, id: str) -> dict[str, Any] | None:
        """The stored product ``id``, or None."""
        return self._get("products", id)

    def list_products(self) -> list[dict[str, Any]]:
        """Every stored product, by id."""
        return self._list("products")

    def insert_product(self, row: dict[str, Any]) -> dict[str, Any]:
        """Store a new product; sets ``created`` and ``modified``; returns the stored row."""
        return self._insert("products", row)

    def update_product(self, row: dict[str, Any]) -> dict[str, Any]:
        """Update a stored product; sets ``modified``; returns the stored row."""
        return self._update("products", row)

    def delete_product(self, id: str) -> list[dict[str, Any]]:
        """Delete a product with its bands and images; returns the deleted image rows."""
        with self.transaction():
            images = self._list("images", id)
            conn = self._conn()
            conn.execute("DELETE FROM images WHERE product_id = ?", (id,))
            conn.execute("DELETE FROM bands WHERE product_id = ?", (id,))
            conn.execute("DELETE FROM products WHERE id = ?", (id,))
        return images

    def count_children(self, product_id: str) -> dict[str, int]:
        """Numbers of bands and images of a product."""
        conn = self._conn()
        return {
            table: conn.execute(f"SELECT COUNT(*) FROM {table} WHERE product_id = ?", (product_id,)).fetchone()[0]
            for table in ("bands", "images")
        }

    # -- bands ---------------------------------------------------------------------
    def get_band(self, id: str) -> dict[str, Any] | None:
        """The stored band ``id``, or None."""
        return self._get("bands", id)

    def list_bands(self, product_id: str) -> list[dict[str, Any]]:
        """The bands of a product, by band_index."""
        return self._list("bands", product_id)

    def next_band_index(self, product_id: str) -> int:
        """One more than the largest band_index of the product (0 for none)."""
        cur = self._conn().execute("SELECT MAX(band_index) FROM bands WHERE product_id = ?", (product_id,))
        top = cur.fetchone()[0]
        return 0 if top is None else top + 1

    def insert_band(self, row: dict[str, Any]) -> dict[str, Any]:
        """Store a new band; returns the stored row."""
        return self._insert("bands", row)

    def update_band(self, row: dict[str, Any]) -> dict[str, Any]:
        """Update a stored band; returns the stored row."""
        return self._update("bands", row)

    def delete_band(self, id: str) -> bool:
        """Delete a band; True if there was one."""
        return self._delete("bands", id)

    # -- images ----------------------------------------------------------------------
    def get_image(self, id: str) -> dict[str, Any] | None:
        """The stored image ``id``, or None."""
        return self._get("images", id)

    def list_images(self, product_id: str) -> list[dict[str, Any]]:
        """The images of a product, by name."""
        return self._list("images", product_id)

    def insert_image(self, row: dict[str, Any], replace: bool = False) -> dict[str, Any]:
        """Store a new image (``replace=True`` replaces one of the same id); returns the stored row."""
        return self._insert("images", row, replace=replace)

    def update_image(self, row: dict[str, Any]) -> dict[str, Any]:
        """Update a stored image's metadata; returns the stored row."""
        return self._update("images", row)

    def delete_image(self, id: str) -> bool:
        """Delete an image record; True if there was one."""
        return self._delete("images", id)

    # -- reads as a user ------------------------------------------------------------
    def reads(self, identity: Identity | None = None) -> CatalogReads:
        """Reads of this catalog with the read checks of ``identity`` (default: the settings' user)."""
        return CatalogReads(self, identity if identity is not None else Identity.of(self.settings))

    def product_bands(self, product_id: str) -> list[str]:
        """The band names of a product the settings' user may read (see :meth:`CatalogReads.product_bands`).

        Raises
        ------
        NotFound, PermissionDenied, ValidationError
            Unknown product (the message lists the readable ids), no read access, no band.
        """
        return self.reads().product_bands(product_id)

    def image_product(self, image_id: str) -> str:
        """The product id of an image the settings' user may read (see :meth:`CatalogReads.image_product`)."""
        return self.reads().image_product(image_id)

    def __repr__(self) -> str:
        return f"CatalogStore({str(self.path)!r})"
