"""Move a home's state into a database and an object store: ``wf-widgets migrate``.

:func:`migrate` copies, from the stores of ``source`` (the embedded home, typically) to those
of ``target`` (PostgreSQL and S3, typically):

* the rows of the job store (``jobs``), the catalog (``products``, ``bands``, ``images``) and
  the layer store (``layers``), as they are (ids, owners, results' keys, expiries);
* the objects those rows name: stored results (``results/``), catalog rasters
  (``catalog/files/``) and the blob files of big graph literals (``blobs/``), leaving out
  temporaries of killed writers (names starting with ``.``).

Then it verifies: every source row's id is in the target, and every copied object's SHA-256,
read back from the target, is the source's. Rows are inserted with ``ON CONFLICT DO NOTHING``
and objects already in the target with the source's size are not sent again, so a migration
that stopped half-way is resumed by running it again with ``resume=True``; without it a target
holding any row or object is refused (nothing is written). Not copied: the tiles' error log of
map layers, the time of the last sweep, and the home's signing key (the report says how to
keep links made so far valid: ``WF_WIDGETS_SIGNING_KEY`` seeds the target's key table).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from ._db import Database, describe
from .catalog.store import CatalogStore
from .config import Settings
from .errors import ValidationError, WfError
from .jobs.store import JobStore
from .layers import LayerStore
from .storage import Storage, open_storage, sha256_of

#: Tables copied, by store, parents first (images and bands refer to products).
TABLES: dict[str, tuple[str, ...]] = {"jobs": ("jobs",), "catalog": ("products", "bands", "images"),
                                      "layers": ("layers",)}
#: Prefixes of the objects copied.
PREFIXES = ("results", "catalog/files", "blobs")
#: Rows per INSERT batch.
BATCH = 500


class MigrationError(WfError):
    """The target is not empty (and resuming was not asked for), or a verification failed."""


@dataclasses.dataclass
class Report:
    """What :func:`migrate` did.

    Attributes
    ----------
    rows : dict
        Table -> rows in the source.
    copied_rows : dict
        Table -> rows inserted (the others were in the target already).
    objects, copied_objects, copied_bytes : int
        Objects in the source; objects sent (the others were in the target already); their bytes.
    verified_objects : int
        Objects whose SHA-256 read back from the target matched.
    """

    rows: dict[str, int] = dataclasses.field(default_factory=dict)
    copied_rows: dict[str, int] = dataclasses.field(default_factory=dict)
    objects: int = 0
    copied_objects: int = 0
    copied_bytes: int = 0
    verified_objects: int = 0

    def lines(self) -> list[str]:
        """The report as lines of text."""
        out = [f"{table}: {n} row(s), {self.copied_rows.get(table, 0)} copied, all present in the target"
               for table, n in self.rows.items()]
        out.append(f"objects: {self.objects}, {self.copied_objects} copied ({self.copied_bytes} bytes), "
                   f"{self.verified_objects} verified by SHA-256")
        return out


def _stores(settings: Settings, existing_only: bool) -> dict[str, Database]:
    """The databases of the stores of ``settings`` (of the source: only those that exist, so none is made)."""
    kinds = {"jobs": JobStore, "catalog": CatalogStore, "layers": LayerStore}
    dbs: dict[str, Database] = {}
    for name, cls in kinds.items():
        if existing_only and not cls.exists(settings):
            continue
        store = cls(settings)
        if isinstance(store, JobStore):
            store.write_held()  # the rows this process holds (a notebook that computed, then migrates)
        dbs[name] = store.db
    return dbs


def _objects(storage: Storage) -> dict[str, int]:
    """Key -> size of the objects to copy (no temporaries: names starting with '.')."""
    found = {}
    for prefix in PREFIXES:
        try:
            infos = storage.list(prefix)
        except (FileNotFoundError, NotADirectoryError):
            continue
        found.update({info.key: info.size for info in infos if not info.key.rsplit("/", 1)[-1].startswith(".")})
    return found


def _copy_rows(source: Database, target: Database, table: str) -> tuple[int, int]:
    """Insert the rows of ``table`` missing from the target; returns (source rows, inserted)."""
    columns = [c for c in source.columns(table) if c in set(target.columns(table))]
    names = ", ".join(columns)
    before = target.read(f"SELECT count(*) FROM {table}").fetchone()[0]
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))}) ON CONFLICT DO NOTHING"
    count = 0
    batch: list[tuple] = []
    for row in source.read(f"SELECT {names} FROM {table}"):  # streamed from SQLite, not held whole
        batch.append(tuple(row))
        if len(batch) == BATCH:
            count += _insert(target, sql, batch)
    count += _insert(target, sql, batch)
    after = target.read(f"SELECT count(*) FROM {table}").fetchone()[0]
    ids = {row[0] for row in source.read(f"SELECT id FROM {table}").fetchall()}
    present = {row[0] for row in target.read(f"SELECT id FROM {table}").fetchall()}
    missing = ids - present
    if missing:
        raise MigrationError(f"{len(missing)} row(s) of {table} are not in the target after copying "
                             f"(e.g. {sorted(missing)[0]!r})")
    return count, after - before


def _insert(target: Database, sql: str, batch: list[tuple]) -> int:
    """Insert ``batch`` in one transaction, then empty it; returns how many rows it held."""
    with target.transaction():
        for row in batch:
            target.write(sql, row)
    n = len(batch)
    batch.clear()
    return n


def migrate(source: Settings, target: Settings, resume: bool = False,
            progress: Callable[[str], None] | None = None) -> Report:
    """Copy the rows and objects of ``source``'s stores into ``target``'s, then verify them (module doc).

    Parameters
    ----------
    source, target : Settings
        Where from (its ``database_url`` and ``storage_url``, the embedded home when unset) and
        where to.
    resume : bool
        Copy into a target that holds rows or objects already (a migration run before, or
        stopped): what is there is kept, what is missing is copied.
    progress : callable, optional
        Called with a line of text at each step.

    Raises
    ------
    ValidationError
        ``target`` names the same database or store as ``source``.
    MigrationError
        The target is not empty and ``resume`` is False (nothing was written), or a row or an
        object is missing or different in the target after copying.
    """
    say = progress or (lambda line: None)
    if describe(source) == describe(target) or source.storage == target.storage:
        raise ValidationError(f"The target must differ from the source: database {describe(target)}, storage "
                              f"{target.storage}", field="target", value=describe(target))
    sources = _stores(source, existing_only=True)
    targets = _stores(target, existing_only=False)
    src_storage, dst_storage = open_storage(source), open_storage(target)
    try:
        if not resume:
            filled = [table for name in targets for table in TABLES[name]
                      if targets[name].read(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None]
            if filled or _objects(dst_storage):
                what = f"rows in {', '.join(filled)}" if filled else "objects"
                raise MigrationError(f"The target is not empty ({what} in {describe(target)} / {target.storage}); "
                                     "to continue a migration into it, run again with --resume")
        report = Report()
        for name, db in sources.items():
            for table in TABLES[name]:
                report.rows[table], report.copied_rows[table] = _copy_rows(db, targets[name], table)
                say(f"{table}: {report.rows[table]} row(s), {report.copied_rows[table]} copied")
        objects = _objects(src_storage)
        report.objects = len(objects)
        for key, size in sorted(objects.items()):
            if dst_storage.exists(key) and dst_storage.head(key).size == size:
                continue
            dst_storage.put_stream(key, src_storage.iter_chunks(key))  # (put_file would move the source's file)
            report.copied_objects += 1
            report.copied_bytes += size
        say(f"objects: {report.objects}, {report.copied_objects} copied ({report.copied_bytes} bytes)")
        for key in sorted(objects):
            if sha256_of(src_storage.iter_chunks(key)) != sha256_of(dst_storage.iter_chunks(key)):
                raise MigrationError(f"The object {key!r} differs in the target from the source (SHA-256); run again "
                                     "with --resume after deleting it from the target")
            report.verified_objects += 1
        say(f"objects: {report.verified_objects} verified by SHA-256")
        return report
    finally:
        for db in (*sources.values(), *targets.values()):
            db.close()
