"""The catalog's store: every SQL statement of the catalog lives here, for SQLite and PostgreSQL.

In the embedded default ``<home>/catalog/catalog.sqlite`` in WAL mode (readers never wait
for the writer), one connection per thread, a generous busy timeout; with
``WF_WIDGETS_DATABASE_URL``, the database it names (:mod:`wf_widgets._db`). Every write is in
a write transaction (:meth:`wf_widgets._db.Database.transaction`: SQLite's ``BEGIN
IMMEDIATE``, PostgreSQL's ``BEGIN`` and the catalog's advisory lock) so that writers queue
instead of failing with "database is locked" (a deferred transaction that upgrades to a
write lock can fail at once, a busy timeout does not help it), and a check made inside one
still holds at its commit. Lists and dicts are JSON columns, datetimes ISO 8601 text in
UTC. Rows go in and come out as plain dicts of Python values.

Images are found by place and date in SQL (:meth:`CatalogStore.find_images`): each image row
carries the lon/lat box of its grid (``west, south, east, north``; see
:mod:`wf_widgets.geo.bbox`), computed from ``geotrans``, ``cs_code``, ``x_pixels`` and
``y_pixels`` whenever a row is written (rows of homes made before version 2 get theirs when
the store first opens them), with a spatial index over those boxes and an index on
``(product_id, acquired)``. The spatial index is the dialect's
(:meth:`wf_widgets._db.Dialect.box_index`: SQLite's R*Tree, or PostgreSQL's GiST index over the
box columns), and so is the query through it (:meth:`~wf_widgets._db.Dialect.box_select`).

Raster files live under ``<home>/catalog/files`` (see :mod:`wf_widgets.catalog.files`).
:meth:`CatalogStore.transaction` runs callbacks after a commit or a rollback, which the
file moves of an upload hook into, so a record and its file change together.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import json
from pathlib import Path
from typing import Any, Iterator

from .._db import Migration, Transaction, open_database, store_exists
from .._files import private_dir
from ..config import Settings
from ..geo.bbox import WORLD, Box, lonlat_bbox
from .reads import CatalogReads, Identity

BUSY_TIMEOUT_S = 60.0
#: The catalog's file in the home folder's ``catalog`` folder (the embedded default).
FILE_NAME = "catalog.sqlite"

_TEXT, _INT, _JSON, _TIME = "TEXT", "INTEGER", "JSON", "TIME"

#: table -> column -> kind; the first column is the primary key.
_TABLES: dict[str, dict[str, str]] = {
    "products": {
        "id": _TEXT, "name": _TEXT, "description": _TEXT,
        "owners": _JSON, "readers": _JSON, "writers": _JSON,
        "created": _TIME, "modified": _TIME, "attrs": _JSON,
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
        "files": _JSON, "created": _TIME, "modified": _TIME, "attrs": _JSON,
    },
}
_ORDER = {"products": "id", "bands": "band_index, name", "images": "name"}

_SCHEMA = Migration("""
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY, name TEXT, description TEXT,
    owners TEXT NOT NULL, readers TEXT NOT NULL, writers TEXT NOT NULL,
    created TEXT NOT NULL, modified TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bands (
    id TEXT PRIMARY KEY, product_id TEXT NOT NULL REFERENCES products(id),
    name TEXT NOT NULL, type TEXT NOT NULL, band_index {int} NOT NULL, data_type TEXT,
    nodata TEXT, data_range TEXT, display_range TEXT, resolution TEXT, description TEXT,
    attrs TEXT, created TEXT NOT NULL, modified TEXT NOT NULL,
    UNIQUE (product_id, name)
);
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY, product_id TEXT NOT NULL REFERENCES products(id),
    name TEXT NOT NULL, acquired TEXT, cs_code TEXT, geotrans TEXT,
    x_pixels {int}, y_pixels {int}, extra_properties TEXT, files TEXT,
    created TEXT NOT NULL, modified TEXT NOT NULL,
    UNIQUE (product_id, name)
);
CREATE INDEX IF NOT EXISTS bands_by_product ON bands (product_id, band_index);
CREATE INDEX IF NOT EXISTS images_by_product ON images (product_id, name);
""")


#: Version 2: every image's lon/lat box (rows of older homes get theirs at first open:
#: :meth:`CatalogStore._fill_boxes`), the spatial index over them, dates by product.
_V2 = Migration("""
ALTER TABLE images ADD COLUMN west {real};
ALTER TABLE images ADD COLUMN south {real};
ALTER TABLE images ADD COLUMN east {real};
ALTER TABLE images ADD COLUMN north {real};
CREATE INDEX IF NOT EXISTS images_by_acquired ON images (product_id, acquired);
CREATE INDEX IF NOT EXISTS images_without_box ON images (id) WHERE west IS NULL AND geotrans IS NOT NULL;
{images_box_index}""", images_box_index=lambda d: d.box_index("images"))
#: Version 3: the fields of the original client's products and images that have no column of
#: their own (a product's tags, start_datetime, end_datetime, extra_properties; an image's
#: geometry), as JSON; NULL in older rows.
_V3 = Migration("""
ALTER TABLE products ADD COLUMN attrs TEXT;
ALTER TABLE images ADD COLUMN attrs TEXT;
""")
#: Schema migrations, oldest first (see :meth:`wf_widgets._db.Database.migrate`): templates of the
#: dialect's types, and ``{images_box_index}``, the dialect's spatial index of the images. Append, never edit.
MIGRATIONS: tuple[str, ...] = (_SCHEMA, _V2, _V3)
#: The catalog store's name in a shared database (its ``schema_version`` row).
STORE = "catalog"
#: The columns of an image's box, in :data:`~wf_widgets.geo.bbox.WORLD` order.
_BOX = ("west", "south", "east", "north")


def image_box(row: dict[str, Any]) -> tuple[float | None, ...]:
    """The lon/lat box an image row is stored with: None four times without a ``geotrans``.

    An image with a ``geotrans`` whose grid can't be placed (no ``cs_code`` or size, or
    one pyproj can't project) gets :data:`~wf_widgets.geo.bbox.WORLD`: it may be anywhere,
    so every query finds it and the precise test decides, as it did before the index.
    """
    if row.get("geotrans") is None:
        return (None,) * 4
    if None in (row.get("cs_code"), row.get("x_pixels"), row.get("y_pixels")):
        return WORLD
    return lonlat_bbox(row["cs_code"], row["geotrans"], row["x_pixels"], row["y_pixels"])


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


class CatalogStore:
    """Store of products, bands and images (``<home>/catalog``, or the database of ``settings.database_url``).

    Parameters
    ----------
    settings : Settings
        Gives the home folder, the current user and the clock.

    Attributes
    ----------
    settings : Settings
    root : Path
        ``<home>/catalog``.
    path : Path or None
        The SQLite file (None on PostgreSQL).
    db : wf_widgets._db.Database
        Where the rows are.
    files_root : Path
        Folder of the raster files, ``<root>/files``.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = Path(settings.home) / "catalog"
        self.files_root = self.root / "files"
        private_dir(self.files_root)
        self.db = open_database(settings, STORE, self.root / FILE_NAME, busy_timeout_s=BUSY_TIMEOUT_S)
        self.path = self.db.path
        self._read = self.db.read
        try:
            self.db.migrate(MIGRATIONS)
            self._fill_boxes()
        except BaseException:
            self.db.close()
            raise

    @staticmethod
    def exists(settings: Settings) -> bool:
        """Whether ``settings`` may have a catalog already (what reads without one use: opening makes one)."""
        return store_exists(settings, Path(settings.home) / "catalog" / FILE_NAME)

    def as_user(self, settings: Settings) -> "CatalogStore":
        """This store (its connections shared) with the rights of the user of ``settings``.

        What a worker uses to act for the user who launched a job (the access checks read
        ``store.settings``); closing it closes nothing.
        """
        view = copy.copy(self)
        view.settings = settings
        view.close = lambda: None
        return view

    # -- transactions -------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction of this thread; nested calls join it (:meth:`wf_widgets._db.Database.transaction`).

        Yields an object whose ``on_commit`` and ``on_rollback`` lists take callbacks,
        run after the outermost transaction commits, or rolls back (also when the commit
        itself fails).
        """
        with self.db.transaction() as txn:
            yield txn

    def close(self) -> None:
        """Close every connection this store opened (in any thread)."""
        self.db.close()

    # -- generic row access --------------------------------------------------------
    def _get(self, table: str, id: str) -> dict[str, Any] | None:
        cols = _TABLES[table]
        cur = self._read(f"SELECT {', '.join(cols)} FROM {table} WHERE id = ?", (id,))
        row = cur.fetchone()
        return None if row is None else {c: _from_sql(k, v) for (c, k), v in zip(cols.items(), row)}

    def _list(self, table: str, product_id: str | None = None) -> list[dict[str, Any]]:
        cols = _TABLES[table]
        sql = f"SELECT {', '.join(cols)} FROM {table}"
        args: tuple = ()
        if product_id is not None:
            sql, args = sql + " WHERE product_id = ?", (product_id,)
        cur = self._read(sql + f" ORDER BY {_ORDER[table]}", args)
        return [{c: _from_sql(k, v) for (c, k), v in zip(cols.items(), row)} for row in cur.fetchall()]

    @staticmethod
    def _derived(table: str, row: dict[str, Any]) -> dict[str, Any]:
        """Columns computed from a row when it is written (an image's box), not part of the row."""
        return dict(zip(_BOX, image_box(row))) if table == "images" else {}

    def _insert(self, table: str, row: dict[str, Any], replace: bool = False) -> dict[str, Any]:
        cols = _TABLES[table]
        now = self.settings.now()
        row = {**{c: row.get(c) for c in cols}, "created": now, "modified": now}
        derived = self._derived(table, row)
        names = [*cols, *derived]
        # Replacing: an upsert on the id, every column but the id rewritten (a table's other unique
        # key, (product_id, name), is part of its id).
        upsert = (" ON CONFLICT (id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in names[1:])
                  if replace else "")
        with self.transaction():
            self.db.write(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}){upsert}",
                tuple(_to_sql(cols[c], row[c]) for c in cols) + tuple(derived.values()),
            )
        return row

    def _update(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        cols = _TABLES[table]
        names = [c for c in cols if c not in ("id", "created")]
        row = {**{c: row.get(c) for c in cols}, "modified": self.settings.now()}
        derived = self._derived(table, row)
        with self.transaction():
            cur = self.db.write(
                f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in [*names, *derived])} WHERE id = ?",
                tuple(_to_sql(cols[c], row[c]) for c in names) + tuple(derived.values()) + (row["id"],),
            )
            if cur.rowcount != 1:
                raise LookupError(f"no {table[:-1]} {row['id']!r} to update")
            row["created"] = self._get(table, row["id"])["created"]
        return row

    def _delete(self, table: str, id: str) -> bool:
        with self.transaction():
            return self.db.write(f"DELETE FROM {table} WHERE id = ?", (id,)).rowcount == 1

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
            self.db.write("DELETE FROM images WHERE product_id = ?", (id,))
            self.db.write("DELETE FROM bands WHERE product_id = ?", (id,))
            self.db.write("DELETE FROM products WHERE id = ?", (id,))
        return images

    def count_children(self, product_id: str) -> dict[str, int]:
        """Numbers of bands and images of a product."""
        return {
            table: self._read(f"SELECT COUNT(*) FROM {table} WHERE product_id = ?", (product_id,)).fetchone()[0]
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
        cur = self._read("SELECT MAX(band_index) FROM bands WHERE product_id = ?", (product_id,))
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

    def find_images(self, product_id: str, boxes: list[Box] | None = None, start: _dt.datetime | None = None,
                    end: _dt.datetime | None = None) -> list[dict[str, Any]]:
        """The images of a product whose box meets one of ``boxes``, acquired in ``[start, end)``, by name.

        A coarse filter through the indexes: an image is found when its stored lon/lat box
        meets a box asked for (images without a ``geotrans`` have none and are never found
        by place); the caller tests the candidates' footprints precisely.

        Parameters
        ----------
        product_id : str
        boxes : list of (west, south, east, north), optional
            Lon/lat boxes (:func:`wf_widgets.geo.bbox.lonlat_boxes`); None: anywhere.
        start, end : datetime, optional
            Timezone-aware bounds of ``acquired`` (start included, end excluded); with
            either, images without ``acquired`` are left out.
        """
        cols = _TABLES["images"]
        where, args = ["product_id = ?"], [product_id]
        if start is not None:
            where.append("acquired >= ?")
            args.append(_to_sql(_TIME, start))
        if end is not None:
            where.append("acquired < ?")
            args.append(_to_sql(_TIME, end))
        if boxes is None:
            sql = f"SELECT {', '.join(cols)} FROM images WHERE {' AND '.join(where)}"
        elif not boxes:
            return []
        else:
            sql, args = self.db.dialect.box_select("images", list(cols), " AND ".join(where), args, boxes)
        found: dict[str, dict[str, Any]] = {}
        for row in self._read(sql, tuple(args)):
            if row[0] not in found:
                found[row[0]] = {c: _from_sql(k, v) for (c, k), v in zip(cols.items(), row)}
        return sorted(found.values(), key=lambda r: r["name"])

    def page_images(self, product_id: str, *, boxes: list[Box] | None = None, start: _dt.datetime | None = None,
                    end: _dt.datetime | None = None, names: list[str] | None = None, after: str | None = None,
                    limit: int = 100) -> list[dict[str, Any]]:
        """A page of a product's images in name order: at most ``limit`` whose name is after ``after``.

        Through the indexes, so the cost grows with the page and the candidates the filters
        leave, not with the product: the spatial index with ``boxes``, else the index on
        ``(product_id, name)`` (which also answers ``names``); dates by ``acquired``.

        Parameters
        ----------
        product_id : str
        boxes : list of (west, south, east, north), optional
            Lon/lat boxes; an image is a candidate when its stored box meets one (a coarse,
            conservative filter: the caller tests footprints precisely). None: anywhere.
        start, end : datetime, optional
            Timezone-aware bounds of ``acquired``, both included; with either, images without
            ``acquired`` are left out.
        names : list of str, optional
            Only images of these names.
        after : str, optional
            The last name of the previous page (keyset paging).
        limit : int
            Most rows returned.
        """
        cols = _TABLES["images"]
        where, args = ["product_id = ?"], [product_id]
        if after is not None:
            where.append("name > ?")
            args.append(after)
        if start is not None:
            where.append("acquired >= ?")
            args.append(_to_sql(_TIME, start))
        if end is not None:
            where.append("acquired <= ?")
            args.append(_to_sql(_TIME, end))
        if names is not None:
            if not names:
                return []
            where.append(f"name IN ({', '.join('?' * len(names))})")
            args.extend(names)
        if boxes is None:
            sql = f"SELECT {', '.join(cols)} FROM images WHERE {' AND '.join(where)} ORDER BY name LIMIT ?"
        elif not boxes:
            return []
        else:
            inner, args = self.db.dialect.box_select("images", list(cols), " AND ".join(where), args, boxes)
            sql = f"SELECT DISTINCT {', '.join(cols)} FROM ({inner}) AS found ORDER BY name LIMIT ?"
        args.append(int(limit))
        return [{c: _from_sql(k, v) for (c, k), v in zip(cols.items(), row)} for row in self._read(sql, tuple(args))]

    def product_extent(self, product_id: str) -> dict[str, Any]:
        """What a product's images span: ``{"count", "box": (w, s, e, n) or None, "first", "last"}``.

        ``box`` joins the stored (conservative) boxes of the images; ``first`` and ``last`` are
        the earliest and latest ``acquired`` (None without any).
        """
        row = self._read("SELECT COUNT(*), MIN(west), MIN(south), MAX(east), MAX(north), MIN(acquired), "
                         "MAX(acquired) FROM images WHERE product_id = ?", (product_id,)).fetchone()
        box = None if row[1] is None else tuple(float(v) for v in row[1:5])
        return {"count": int(row[0]), "box": box, "first": _from_sql(_TIME, row[5]), "last": _from_sql(_TIME, row[6])}

    def _fill_boxes(self) -> int:
        """Compute the boxes of image rows that have a ``geotrans`` but no box (rows of homes made
        before version 2); returns how many. Idempotent, and one index probe when there are none."""
        missing = "SELECT id, cs_code, geotrans, x_pixels, y_pixels FROM images WHERE west IS NULL AND geotrans IS NOT NULL"
        if self._read(missing + " LIMIT 1").fetchone() is None:
            return 0
        with self.transaction():
            rows = self._read(missing).fetchall()
            for row in rows:
                try:
                    geotrans = json.loads(row["geotrans"])
                except ValueError:  # not JSON: the row can't be placed
                    geotrans = None
                box = WORLD if geotrans is None else image_box(
                    {"cs_code": row["cs_code"], "geotrans": geotrans, "x_pixels": row["x_pixels"],
                     "y_pixels": row["y_pixels"]})
                self.db.write("UPDATE images SET west = ?, south = ?, east = ?, north = ? WHERE id = ?",
                              (*box, row["id"]))
        return len(rows)

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
        return f"CatalogStore({self.db.where!r})"
