"""``wf-widgets doctor``: check a home folder, and with ``--repair`` fix what can be fixed.

Checks, in order:

- each SQLite store (jobs, catalog, layers): ``PRAGMA quick_check``; a broken one is
  moved aside by ``--repair`` (renamed ``<name>.broken-<UTC time>``, with its ``-wal`` and
  ``-shm``), so a new, empty store is made at next use;
- result files no job row owns (``<home>/results``) and blob files of big graph literals
  no live row uses (``<home>/blobs``): deleted by ``--repair`` (skipped while the job store
  is broken: its rows are what tells an orphan);
- each stored result, through the checks of :data:`RESULT_CHECKS`;
- the signing key: mode 0600 (``--repair`` sets it) and at least 32 bytes;
- free space on the home folder's disk (a warning under :data:`MIN_FREE_BYTES`).

Run it with nothing else using the home folder when repairing: a process that has a
store open keeps using the file that was moved aside.

With ``WF_WIDGETS_DATABASE_URL`` the stores and the signing keys are in that database:
doctor checks a ``sqlite:///`` file as it checks a store's file (``--repair`` leaves it
where it is: the URL names it), and leaves a PostgreSQL database to its own tools.

Doctor never sweeps, and makes nothing that does not exist (a home without a job store has
no rows: every result file is an orphan; no results folder, no signing key is made). It
opens an existing job store as every process does, which brings an older one to the
current schema (its queries need it).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import shutil
import sqlite3
from pathlib import Path
from typing import Callable

from . import _db
from .blobs import BlobStore
from .config import Settings
from .delivery.links import Signer
from .delivery.results import ResultStore
from .errors import WfError
from .jobs.store import JobStore
from .layers import LayerStore
from .storage import Storage

#: The SQLite stores of a home folder: (what, path relative to the home).
STORES: tuple[tuple[str, str], ...] = (
    ("jobs store", "jobs.sqlite"),
    ("catalog store", "catalog/catalog.sqlite"),
    ("layer store", "layers.sqlite"),
)
#: Under this many free bytes on the home folder's disk, doctor warns.
MIN_FREE_BYTES = 1024 ** 3
#: Smallest acceptable signing key, in bytes.
MIN_KEY_BYTES = 32

OK, WARNING, PROBLEM = "ok", "warning", "PROBLEM"


#: Per-result checks: each is called with the ResultStore and a job row (no graph) whose
#: result is stored and not deleted, and returns None when the result is fine, else what
#: is wrong with it: the file is there, of the recorded size and SHA-256 checksum.
RESULT_CHECKS: list[Callable[[ResultStore, dict], str | None]] = [ResultStore.verify]


@dataclasses.dataclass
class Finding:
    """One line of the report.

    Attributes
    ----------
    check : str
        What was checked ("jobs store", "signing key", ...).
    level : str
        ``"ok"``, ``"warning"`` or ``"PROBLEM"``.
    message : str
        What was found.
    repaired : str or None
        What ``--repair`` did about it.
    """

    check: str
    level: str
    message: str
    repaired: str | None = None

    def line(self) -> str:
        text = f"  {self.level:<8} {self.check:<14} {self.message}"
        if self.repaired:
            text += f"\n  {'':<8} {'':<14} repaired: {self.repaired}"
        return text


@dataclasses.dataclass
class Report:
    """What :func:`run_doctor` found (and repaired) in ``home``."""

    home: Path
    repair: bool
    findings: list[Finding] = dataclasses.field(default_factory=list)

    def add(self, check: str, level: str, message: str, repaired: str | None = None) -> Finding:
        finding = Finding(check, level, message, repaired)
        self.findings.append(finding)
        return finding

    @property
    def problems(self) -> list[Finding]:
        """Problems ``--repair`` did not fix."""
        return [f for f in self.findings if f.level == PROBLEM and not f.repaired]

    @property
    def exit_code(self) -> int:
        """1 when a problem remains, else 0 (warnings don't count)."""
        return 1 if self.problems else 0

    def text(self) -> str:
        lines = [f"wf-widgets doctor: {self.home}"] + [f.line() for f in self.findings]
        left, warnings = self.problems, [f for f in self.findings if f.level == WARNING]
        repaired = [f for f in self.findings if f.repaired]
        if left:
            hint = "" if self.repair else "; `wf-widgets doctor --repair` fixes what can be fixed"
            lines.append(f"{len(left)} problem(s) found{hint}.")
        elif repaired:
            lines.append(f"Repaired {len(repaired)} problem(s); nothing else is wrong.")
        else:
            lines.append("No problems found." if not warnings else f"No problems found; {len(warnings)} warning(s).")
        return "\n".join(lines)


def quick_check(path: Path) -> str | None:
    """None if the SQLite file at ``path`` passes ``PRAGMA quick_check``, else what is wrong.

    The file is opened read-only: closing a read-write connection would checkpoint (or
    drop) the WAL of a damaged store, which ``--repair`` must move aside with it.
    """
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0, isolation_level=None)
    except sqlite3.DatabaseError as exc:
        return str(exc)
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
    return None if rows == ["ok"] else "; ".join(rows[:5])


def move_aside(path: Path, now: _dt.datetime) -> Path:
    """Rename a store ``<name>.broken-<time>`` (with its ``-wal`` and ``-shm``); returns the new path."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.broken-{stamp}-{n}")
    for suffix in ("-wal", "-shm"):  # the WAL first: the file alone must never meet another's WAL
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    path.rename(target)
    return target


def _check_stores(settings: Settings, report: Report) -> set[str]:
    which = _db.kind(settings)
    if which == "postgresql":
        report.add("stores", OK, f"in the database {_db.describe(settings)} (check it with PostgreSQL's own tools)")
        return set()
    if which == "sqlite":
        path = _db.sqlite_url_path(settings.database_url)
        problem = quick_check(path) if path.exists() else None
        if problem is None:
            report.add("stores", OK, f"{path}: " + ("integrity ok" if path.exists() else "not made yet"))
            return set()
        report.add("stores", PROBLEM, f"{path} is corrupted: {problem} (restore it from a backup; WF_WIDGETS_DATABASE_URL "
                                      "names it, so --repair leaves it in place)")
        return {"jobs.sqlite", "layers.sqlite"}
    broken = set()
    for what, rel in STORES:
        path = settings.home / rel
        if not path.exists():
            report.add(what, OK, f"{path}: not made yet")
            continue
        problem = quick_check(path)
        if problem is None:
            report.add(what, OK, f"{path}: integrity ok")
            continue
        broken.add(rel)
        finding = report.add(what, PROBLEM, f"{path} is corrupted: {problem}")
        if report.repair:
            target = move_aside(path, _dt.datetime.now(_dt.timezone.utc))
            finding.repaired = f"moved aside to {target.name}; a new, empty store is made at next use"
    return broken


def _check_files(settings: Settings, report: Report, broken: set[str]) -> None:
    """Orphan results and blobs, and the per-result checks (they all read the job rows)."""
    if "jobs.sqlite" in broken:  # its rows are what tells an orphan: every file would look like one
        report.add("results, blobs", WARNING, "not checked: the job store " + (
            "was moved aside (run doctor again to check the files against the new store)" if report.repair
            else "is broken"))
        return
    jobs = JobStore(settings) if JobStore.exists(settings) else None  # none: no row owns anything
    layers = None
    try:
        results = ResultStore(settings)
        orphans = results.orphans(jobs) if jobs is not None else results.names()
        _orphans(report, "results", results.storage, sorted(results.key(n) for n in orphans),
                 "result file(s) no job row owns", results.location)

        bad = []
        stored = jobs.stored_results() if jobs is not None else []
        for row in stored:
            for check in RESULT_CHECKS:
                problem = check(results, row)
                if problem:
                    bad.append(f"job {row['id']}: {problem}")
        if bad:
            more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
            report.add("stored results", PROBLEM, "; ".join(bad[:10]) + more)
        else:
            report.add("stored results", OK, f"{len(stored)} checked")

        if "layers.sqlite" in broken:
            report.add("blobs", WARNING, "not checked: the layer store was just moved aside (run doctor again)")
            return
        kept_since = settings.time() - settings.retention_days * 86400.0
        refs = jobs.blob_refs(kept_since) if jobs is not None else set()
        if LayerStore.exists(settings):
            layers = LayerStore(settings)
            refs |= layers.blob_refs()
        blobs = BlobStore.for_settings(settings)
        _orphans(report, "blobs", blobs.storage, blobs.unreferenced(refs), "graph literal file(s) no live row uses",
                 blobs.location)
    finally:
        if jobs is not None:
            jobs.close()
        if layers is not None:
            layers.close()


def _orphans(report: Report, what: str, storage: Storage, keys: list[str], text: str, folder: str) -> None:
    """Report the objects ``keys`` of ``storage`` (and with ``report.repair``, delete them)."""
    if not keys:
        report.add(what, OK, f"no orphans in {folder}")
        return
    size = 0
    for key in keys:
        try:
            size += storage.head(key).size
        except FileNotFoundError:  # deleted meanwhile
            pass
    finding = report.add(what, PROBLEM, f"{len(keys)} {text} in {folder} ({size} bytes)")
    if report.repair:
        storage.delete_many(keys)
        finding.repaired = f"deleted {len(keys)} file(s)"


def _check_key(settings: Settings, report: Report) -> None:
    if _db.kind(settings) != "embedded":
        report.add("signing key", OK, f"keys in the database {_db.describe(settings)} (`wf-widgets keys rotate` makes a "
                                      "new one)")
        return
    path = Signer(settings).key_path
    if not path.exists():
        report.add("signing key", OK, f"{path}: not made yet (made with the first link)")
        return
    st = path.stat()
    mode = st.st_mode & 0o777
    if mode != 0o600:
        finding = report.add("signing key", PROBLEM,
                             f"{path} has mode {mode:04o}; it must be 0600 (readable by its owner only)")
        if report.repair:
            path.chmod(0o600)
            finding.repaired = "mode set to 0600"
    if st.st_size < MIN_KEY_BYTES:
        report.add("signing key", PROBLEM,
                   f"{path} holds {st.st_size} bytes, fewer than {MIN_KEY_BYTES}: delete it to make a new key "
                   "(links signed with the old one stop working)")
    elif mode == 0o600:
        report.add("signing key", OK, f"{path}: mode 0600, {st.st_size} bytes")


def _check_disk(settings: Settings, report: Report, min_free_bytes: int) -> None:
    free = shutil.disk_usage(settings.home).free
    text = f"{free / 1024 ** 3:.1f} GiB free on the disk of {settings.home}"
    if free < min_free_bytes:
        report.add("disk space", WARNING, f"only {text} (under {min_free_bytes / 1024 ** 3:.1f} GiB): free some space "
                                          "before jobs fail for want of it")
    else:
        report.add("disk space", OK, text)


def run_doctor(settings: Settings | None = None, repair: bool = False,
               min_free_bytes: int = MIN_FREE_BYTES) -> Report:
    """Check (and with ``repair``, fix) the home folder of ``settings``; returns the report.

    Parameters
    ----------
    settings : Settings, optional
        Default :meth:`Settings.from_env`.
    repair : bool
        Move broken stores aside, delete orphans, set the signing key's mode.
    min_free_bytes : int
        Warn when the home folder's disk has less free space.
    """
    settings = settings if settings is not None else Settings.from_env()
    report = Report(settings.home, repair)
    if not settings.home.exists():
        report.add("home", OK, f"{settings.home} does not exist yet: nothing to check")
        return report
    broken = _check_stores(settings, report)
    try:
        _check_files(settings, report, broken)
    except WfError as exc:  # a store damaged in a way quick_check missed, a full disk
        report.add("results", PROBLEM, str(exc))
    _check_key(settings, report)
    _check_disk(settings, report, min_free_bytes)
    return report


def main(repair: bool = False) -> int:
    """Print the report of :func:`run_doctor` for the environment's home; returns the exit status."""
    report = run_doctor(repair=repair)
    print(report.text())
    return report.exit_code

