"""The layer store: what the tile server renders, and the errors it met.

A *layer* is an Image graph (JSON) plus its render options (``scales``, ``colormap``,
``checkerboard``), stored by the kernel (a :class:`~wf_widgets.widgets.TileMap`) in
``<home>/layers.sqlite`` (SQLite, WAL mode), or in the database of ``WF_WIDGETS_DATABASE_URL``
(:mod:`wf_widgets._db`), so that every mount of the server (standalone, Jupyter extension,
kernel thread) can render it. A layer id is 128 random bits in hex (32
characters): outside Jupyter it is the only key to the tiles, so it must be unguessable.

Replacing a layer keeps its id and bumps its ``version``: tile URLs carry ``?v=<version>``
and the server's cache is keyed by it, so a replaced layer is never served stale.

Errors met while rendering a tile are rows of ``layer_errors`` (time, z/x/y, message);
the map polls them (:meth:`LayerStore.errors` with the last id it saw) into its log. A
message is what the tile server may answer (:func:`wf_widgets.engine.render.error_text`:
the text of our own errors, a generic message for anything else); given an exception,
:meth:`LayerStore.record_error` stores that.

Layers created more than :data:`KEEP_DAYS` days ago are deleted when a store is opened.

Big literals of a layer's graph are blob files, as for jobs (:mod:`wf_widgets.blobs`): the
row lists them in its ``blobs`` column and :meth:`LayerStore.get` reads them back.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from . import blobs as _blobs
from ._db import Migration, open_database, store_exists
from .config import Settings
from .engine.render import error_text

#: Layers older than this are deleted when a store opens (a map lives as long as its kernel).
KEEP_DAYS = 30.0
#: At most this many error rows are kept per layer (older ones are deleted).
MAX_ERRORS_PER_LAYER = 200

_ID = re.compile(r"^[0-9a-f]{32}$")

_SCHEMA = Migration("""
CREATE TABLE IF NOT EXISTS layers (
    id TEXT PRIMARY KEY,
    name TEXT,
    graph TEXT NOT NULL,
    options TEXT NOT NULL,
    version {int} NOT NULL DEFAULT 1,
    created {real} NOT NULL,
    updated {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS layer_errors (
    n {serial},
    layer_id TEXT NOT NULL,
    version {int} NOT NULL,
    time {real} NOT NULL,
    z {int}, x {int}, y {int},
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS layer_errors_layer ON layer_errors (layer_id, n);
""")
#: Version 2: the blob files of the graph's big literals (JSON list of keys).
_V2 = Migration("""
ALTER TABLE layers ADD COLUMN blobs TEXT;
""")
#: Schema migrations, oldest first (see :meth:`wf_widgets._db.Database.migrate`: templates of the
#: dialect's types); append, never edit.
MIGRATIONS: tuple[str, ...] = (_SCHEMA, _V2)
#: The layer store's file in the home folder (the embedded default).
FILE_NAME = "layers.sqlite"
#: The layer store's name in a shared database (its ``schema_version`` row).
STORE = "layers"
#: A layer whose graph text is longer than this is followed by a WAL checkpoint.
CHECKPOINT_AFTER_BYTES = 1024 * 1024


def new_layer_id() -> str:
    """32 hex characters of :func:`secrets.token_hex` (128 random bits)."""
    return secrets.token_hex(16)


def valid_layer_id(layer_id: Any) -> bool:
    """True for a well-formed layer id (32 lower-case hex characters)."""
    return isinstance(layer_id, str) and bool(_ID.match(layer_id))


class LayerStore:
    """Layers and their render errors in ``<home>/layers.sqlite`` (or the database of ``settings.database_url``).

    Single-statement writes: the kernel writes while the servers read, from any process.

    Parameters
    ----------
    settings : Settings
        Its ``home`` holds the file; its clock stamps the rows.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.db = open_database(settings, STORE, settings.home / FILE_NAME)
        self.path = self.db.path
        self._read = self.db.read
        self._write = self.db.write
        self.blobs = _blobs.BlobStore.for_settings(settings)
        try:
            self.db.migrate(MIGRATIONS)
            self.prune()
        except BaseException:
            self.db.close()
            raise

    @staticmethod
    def exists(settings: Settings) -> bool:
        """Whether ``settings`` may have a layer store already (opening makes one)."""
        return store_exists(settings, settings.home / FILE_NAME)

    def close(self) -> None:
        """Close every connection (any thread's)."""
        self.db.close()

    # -- layers ---------------------------------------------------------------------------
    def put(self, graph: dict, options: dict, name: str | None = None, layer_id: str | None = None) -> dict:
        """Store a layer, new or replacing ``layer_id`` (its version is bumped); returns the row.

        Parameters
        ----------
        graph : dict
            The Image graph (``Value.to_json()``).
        options : dict
            JSON-able render options (``scales``, ``colormap``, ``checkerboard``).
        name : str, optional
            Shown in errors and logs.
        layer_id : str, optional
            Replace this layer (created with this id if it does not exist); default a new id.

        Raises
        ------
        ValidationError
            The graph's literals exceed ``settings.max_literal_bytes``; nothing was stored.
        DiskFull
            No room on the home folder's disk.
        """
        now = self.settings.time()
        if layer_id is None:
            layer_id = new_layer_id()
        elif not valid_layer_id(layer_id):
            raise ValueError(f"Invalid layer id {layer_id!r}: expected 32 hex characters")
        stored, keys = _blobs.externalize(graph, self.blobs, self.settings.max_literal_bytes)
        graph_text = json.dumps(stored)
        self._write(
            "INSERT INTO layers (id, name, graph, options, version, created, updated, blobs)"
            " VALUES (?, ?, ?, ?, 1, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET name = excluded.name, graph = excluded.graph,"
            " options = excluded.options, version = layers.version + 1, updated = excluded.updated,"
            " blobs = excluded.blobs",
            (layer_id, name, graph_text, json.dumps(options), now, now, json.dumps(keys) if keys else None))
        if len(graph_text) > CHECKPOINT_AFTER_BYTES:
            self.checkpoint()
        return self.get(layer_id)

    def checkpoint(self) -> None:
        """Keep the database's log small (SQLite: copy the WAL into the file and truncate it)."""
        self.db.checkpoint()

    def blob_refs(self) -> set[str]:
        """Keys of the blob files the layers use (one query)."""
        rows = self._read("SELECT blobs FROM layers WHERE blobs IS NOT NULL").fetchall()
        return {key for r in rows for key in json.loads(r[0])}

    def get(self, layer_id: str) -> dict | None:
        """The row of ``layer_id`` (``id, name, graph, options, version, created, updated``), or None."""
        if not valid_layer_id(layer_id):
            return None
        row = self._read("SELECT * FROM layers WHERE id = ?", (layer_id,)).fetchone()
        if row is None:
            return None
        d = dict(row)
        d["graph"] = json.loads(d["graph"])
        d["options"] = json.loads(d["options"])
        if d.get("blobs"):
            d["blobs"] = json.loads(d["blobs"])
            d["graph"] = _blobs.resolve(d["graph"], self.blobs)
        return d

    def version(self, layer_id: str) -> int | None:
        """The current version of ``layer_id`` (a cheap query), or None."""
        if not valid_layer_id(layer_id):
            return None
        row = self._read("SELECT version FROM layers WHERE id = ?", (layer_id,)).fetchone()
        return None if row is None else int(row[0])

    def delete(self, *layer_ids: str) -> None:
        """Delete layers and their errors."""
        ids = [i for i in layer_ids if valid_layer_id(i)]
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        self._write(f"DELETE FROM layer_errors WHERE layer_id IN ({marks})", ids)
        self._write(f"DELETE FROM layers WHERE id IN ({marks})", ids)

    def prune(self, keep_days: float = KEEP_DAYS) -> int:
        """Delete layers created more than ``keep_days`` ago; returns how many."""
        cutoff = self.settings.time() - keep_days * 86400.0
        old = [r[0] for r in self._read("SELECT id FROM layers WHERE created < ?", (cutoff,)).fetchall()]
        self.delete(*old)
        return len(old)

    # -- errors ---------------------------------------------------------------------------
    def record_error(self, layer_id: str, version: int, z: int | None, x: int | None, y: int | None,
                     message: str | BaseException) -> None:
        """Add an error row for ``layer_id`` (trimming old rows beyond :data:`MAX_ERRORS_PER_LAYER`).

        ``message`` is a str already fit to show, or the exception (stored as
        :func:`~wf_widgets.engine.render.error_text` gives it: never an unexpected error's text).
        """
        if isinstance(message, BaseException):
            message = error_text(message)
        n = self._write(
            "INSERT INTO layer_errors (layer_id, version, time, z, x, y, message) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " RETURNING n", (layer_id, version, self.settings.time(), z, x, y, message)).fetchone()[0]
        self._write("DELETE FROM layer_errors WHERE layer_id = ? AND n <= ?", (layer_id, n - MAX_ERRORS_PER_LAYER))

    def errors(self, layer_ids: list[str], after: int = 0) -> list[dict]:
        """Error rows of these layers with ``n > after``, oldest first.

        Each row: ``n`` (increasing; pass the last one seen as ``after``), ``layer_id``,
        ``version``, ``time``, ``z``, ``x``, ``y``, ``message``.
        """
        ids = [i for i in layer_ids if valid_layer_id(i)]
        if not ids:
            return []
        rows = self._read(
            f"SELECT * FROM layer_errors WHERE layer_id IN ({','.join('?' * len(ids))}) AND n > ? ORDER BY n",
            (*ids, after)).fetchall()
        return [dict(r) for r in rows]
