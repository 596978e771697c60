"""The job store: one SQLite file (WAL mode) in the home folder, shared by every process.

Rows hold everything a worker in another process needs (graph, geocontext, format,
destination) and everything a watcher needs (stage, steps, error, result location,
expiry, host/pid/heartbeat while running, the cancel flag). SQL lives here only.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
from typing import Any, Iterable

from .._sqlite import ThreadConnections, migrate
from ..config import Settings

STAGES = ("QUEUED", "PREPARING", "RUNNING", "SAVING", "SUCCEEDED", "FAILED", "CANCELLED")
ACTIVE = ("PREPARING", "RUNNING", "SAVING")
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
#: A running job whose heartbeat is older than this (and whose worker can't be seen alive) is reaped.
STALE_AFTER_S = 60.0
HOST = socket.gethostname()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    graph TEXT NOT NULL,
    geoctx TEXT,
    format TEXT NOT NULL,
    destination TEXT NOT NULL,
    label TEXT,
    stage TEXT NOT NULL,
    steps_done INTEGER NOT NULL DEFAULT 0,
    steps_total INTEGER NOT NULL DEFAULT 0,
    error_code TEXT NOT NULL DEFAULT 'NONE',
    error_message TEXT,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    updated REAL NOT NULL,
    result_path TEXT,
    result_mimetype TEXT,
    result_size INTEGER,
    result_ref TEXT,
    expires REAL,
    result_deleted INTEGER NOT NULL DEFAULT 0,
    host TEXT,
    pid INTEGER,
    heartbeat REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
"""
#: Schema migrations, oldest first (see :func:`wf_widgets._sqlite.migrate`); append, never edit.
MIGRATIONS: tuple[str, ...] = (
    _SCHEMA,
    # 2: the stored result's SHA-256 checksum, and why a result was lost before its expiry
    # (missing or damaged; see wf_widgets.delivery.results).
    "ALTER TABLE jobs ADD COLUMN result_sha256 TEXT;\nALTER TABLE jobs ADD COLUMN result_problem TEXT;",
)
# No secondary indexes: every index costs each job's insert and finish (about 40 us each
# here). Job ids start with their creation time (jobs.compute.new_job_id), so the primary
# key orders rows by creation for listing; the sweeper's expiry scan runs hourly.
_JSON_COLUMNS = ("graph", "geoctx", "format", "destination", "result_ref")

# In-process wake-ups: Job.wait() sleeps on its job's event, set when the job ends here.
_events: dict[str, threading.Event] = {}
_events_lock = threading.Lock()


def finished_event(job_id: str) -> threading.Event:
    """Event set when job ``job_id`` reaches a terminal stage in this process."""
    with _events_lock:
        return _events.setdefault(job_id, threading.Event())


def forget_event(job_id: str, event: threading.Event) -> None:
    """Drop a waiter's event once it stops waiting (no leak for jobs that ended elsewhere)."""
    with _events_lock:
        if _events.get(job_id) is event:
            del _events[job_id]


def _notify(job_id: str) -> None:
    with _events_lock:
        ev = _events.pop(job_id, None)
    if ev is not None:
        ev.set()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobStore:
    """Rows of jobs in ``<home>/jobs.sqlite``.

    One connection per thread; writes are single statements (atomic on their own) or
    ``BEGIN IMMEDIATE`` transactions, with a 30 s busy timeout, so many threads and
    processes can share the file.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.path = settings.home / "jobs.sqlite"
        self._connections = ThreadConnections(self.path)
        self._conn = self._connections.get
        migrate(self._conn(), MIGRATIONS)
        columns = [r["name"] for r in self._conn().execute("PRAGMA table_info(jobs)")]
        #: Every column but the graph (what status readers fetch).
        self._no_graph = ", ".join(c for c in columns if c != "graph")

    def close(self) -> None:
        self._connections.close()

    # -- rows -----------------------------------------------------------------------------
    @staticmethod
    def _row(row: sqlite3.Row | None) -> dict | None:
        if row is None:
            return None
        d = dict(row)
        for col in _JSON_COLUMNS:
            if d.get(col) is not None:
                d[col] = json.loads(d[col])
        return d

    def create(self, job_id: str, *, kind: str, graph: dict, geoctx: dict | None, format: dict,
               destination: dict, label: str | None = None, claim: bool = False) -> dict:
        """Insert a QUEUED row, or with ``claim`` a PREPARING row this process runs; returns it."""
        now = self.settings.time()
        started = now if claim else None
        row = {"id": job_id, "kind": kind, "graph": graph, "geoctx": geoctx, "format": format,
               "destination": destination, "label": label, "stage": "PREPARING" if claim else "QUEUED",
               "steps_done": 0, "steps_total": 0, "error_code": "NONE", "error_message": None, "created": now,
               "started": started, "finished": None, "updated": now, "result_path": None, "result_mimetype": None,
               "result_size": None, "result_sha256": None, "result_problem": None, "result_ref": None,
               "expires": None, "result_deleted": 0, "host": HOST,
               "pid": os.getpid(), "heartbeat": started, "cancel_requested": 0}
        self._conn().execute(
            "INSERT INTO jobs (id, kind, graph, geoctx, format, destination, label, stage, created, started, updated,"
            " host, pid, heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (job_id, kind, json.dumps(graph), json.dumps(geoctx) if geoctx is not None else None,
             json.dumps(format), json.dumps(destination), label, row["stage"], now, started, now, HOST,
             os.getpid(), started),
        )
        return row

    def get(self, job_id: str, graph: bool = True) -> dict | None:
        """The row of ``job_id`` (without the graph if ``graph`` is False), or None."""
        cols = "*" if graph else self._no_graph
        return self._row(self._conn().execute(f"SELECT {cols} FROM jobs WHERE id = ?", (job_id,)).fetchone())

    def status(self, job_id: str) -> dict | None:
        """The small, often-read columns of a row (no graph)."""
        row = self._conn().execute(
            "SELECT id, stage, steps_done, steps_total, error_code, error_message, cancel_requested, finished,"
            " expires, result_path, result_deleted, updated FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return dict(row) if row is not None else None

    def list(self, limit: int = 50, stages: Iterable[str] | None = None) -> list[dict]:
        """Most recent rows first (without graphs): ids are time-ordered."""
        cols = ("id, kind, label, stage, steps_done, steps_total, error_code, error_message, created, started,"
                " finished, expires, result_deleted, result_size, format, destination, cancel_requested")
        if stages:
            stages = tuple(stages)
            q = f"SELECT {cols} FROM jobs WHERE stage IN ({','.join('?' * len(stages))}) ORDER BY id DESC LIMIT ?"
            rows = self._conn().execute(q, stages + (limit,)).fetchall()
        else:
            rows = self._conn().execute(f"SELECT {cols} FROM jobs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [self._row(r) for r in rows]

    def many(self, job_ids: list[str]) -> dict[str, dict]:
        """Status rows of many jobs in one query (the jobs board polls with this)."""
        out: dict[str, dict] = {}
        for i in range(0, len(job_ids), 500):
            chunk = job_ids[i:i + 500]
            rows = self._conn().execute(
                "SELECT id, kind, label, stage, steps_done, steps_total, error_code, error_message, created, started,"
                f" finished, expires, result_deleted, result_ref, destination, format FROM jobs WHERE id IN "
                f"({','.join('?' * len(chunk))})", chunk).fetchall()
            for r in rows:
                out[r["id"]] = self._row(r)
        return out

    # -- transitions (called by the worker) --------------------------------------------------
    def start(self, job_id: str) -> dict | None:
        """QUEUED -> PREPARING, claiming the job for this process; its row, or None if it wasn't QUEUED."""
        now = self.settings.time()
        row = self._conn().execute(
            "UPDATE jobs SET stage = 'PREPARING', started = ?, updated = ?, heartbeat = ?, host = ?, pid = ?"
            " WHERE id = ? AND stage = 'QUEUED' AND cancel_requested = 0 RETURNING *",
            (now, now, now, HOST, os.getpid(), job_id)).fetchone()
        return self._row(row)

    def progress(self, job_id: str, *, stage: str | None = None, steps_done: int | None = None,
                 steps_total: int | None = None) -> bool:
        """Record progress and the heartbeat; returns True if cancellation was requested."""
        now = self.settings.time()
        sets, params = ["updated = ?", "heartbeat = ?"], [now, now]
        for col, val in (("stage", stage), ("steps_done", steps_done), ("steps_total", steps_total)):
            if val is not None:
                sets.append(f"{col} = ?")
                params.append(val)
        row = self._conn().execute(
            f"UPDATE jobs SET {', '.join(sets)} WHERE id = ? RETURNING cancel_requested", params + [job_id]).fetchone()
        return bool(row and row[0])

    def cancel_requested(self, job_id: str) -> bool:
        row = self._conn().execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return bool(row and row[0])

    def finish(self, job_id: str, stage: str, *, error_code: str = "NONE", error_message: str | None = None,
               steps_done: int | None = None, steps_total: int | None = None, result_path: str | None = None, result_mimetype: str | None = None,
               result_size: int | None = None, result_ref: Any = None, expires: float | None = None,
               result_sha256: str | None = None) -> dict:
        """Move a job to a terminal stage, with its result location or error; returns the row (no graph)."""
        now = self.settings.time()
        row = self._conn().execute(
            "UPDATE jobs SET stage = ?, error_code = ?, error_message = ?, finished = ?, updated = ?,"
            " steps_done = COALESCE(?, steps_done), steps_total = COALESCE(?, steps_total), result_path = ?,"
            " result_mimetype = ?, result_size = ?, result_sha256 = ?, result_ref = ?, expires = ?, heartbeat = NULL"
            f" WHERE id = ? RETURNING {self._no_graph}",
            (stage, error_code, error_message, now, now, steps_done, steps_total, result_path, result_mimetype,
             result_size, result_sha256, json.dumps(result_ref) if result_ref is not None else None, expires,
             job_id)).fetchone()
        _notify(job_id)
        return self._row(row)

    def heartbeat(self, job_ids: list[str]) -> None:
        """Refresh the heartbeat of running jobs (the runner's heartbeat thread)."""
        if job_ids:
            now = self.settings.time()
            self._conn().execute(
                f"UPDATE jobs SET heartbeat = ? WHERE id IN ({','.join('?' * len(job_ids))}) AND heartbeat IS NOT NULL",
                [now] + job_ids)

    # -- requests (called by anyone) ---------------------------------------------------------
    def request_cancel(self, job_id: str) -> bool:
        """Set the cancel flag; a QUEUED job is cancelled at once. False if already finished."""
        now = self.settings.time()
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT stage FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or row[0] in TERMINAL:
                conn.execute("COMMIT")
                return False
            conn.execute("UPDATE jobs SET cancel_requested = 1, updated = ? WHERE id = ?", (now, job_id))
            if row[0] == "QUEUED":
                conn.execute("UPDATE jobs SET stage = 'CANCELLED', error_code = 'NONE', error_message = ?,"
                             " finished = ? WHERE id = ?", ("Cancelled before it started", now, job_id))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if row[0] == "QUEUED":
            _notify(job_id)
        return True

    def reap_stale(self) -> int:
        """Mark jobs whose worker died FAILED with code INTERRUPT; returns how many.

        A worker on this host is dead when its pid is gone; elsewhere, when its heartbeat is
        older than :data:`STALE_AFTER_S`. A QUEUED job is reaped when the process that queued
        it on this host is gone and nothing claimed it. A live worker is never reaped.
        """
        now = self.settings.time()
        rows = self._conn().execute(
            f"SELECT id, stage, host, pid, heartbeat FROM jobs WHERE stage IN ('QUEUED', {', '.join(map(repr, ACTIVE))})"
        ).fetchall()
        dead = []
        for r in rows:
            if r["host"] == HOST and r["pid"] is not None:
                if not pid_alive(r["pid"]):
                    dead.append(r["id"])
            elif r["stage"] != "QUEUED" and (r["heartbeat"] is None or now - r["heartbeat"] > STALE_AFTER_S):
                dead.append(r["id"])
        for job_id in dead:
            self._conn().execute(
                "UPDATE jobs SET stage = 'FAILED', error_code = 'INTERRUPT', error_message = ?, finished = ?,"
                " updated = ?, heartbeat = NULL WHERE id = ? AND stage NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED')",
                ("The job's worker process stopped before the job finished", now, now, job_id))
            _notify(job_id)
        return len(dead)

    def expired(self, now: float) -> list[dict]:
        """Rows whose stored result is past its expiry and not yet deleted."""
        rows = self._conn().execute(
            "SELECT id, result_path FROM jobs WHERE result_deleted = 0 AND expires IS NOT NULL AND expires <= ?",
            (now,)).fetchall()
        return [dict(r) for r in rows]

    def mark_deleted(self, job_id: str) -> None:
        self._conn().execute("UPDATE jobs SET result_deleted = 1 WHERE id = ?", (job_id,))

    def live_results(self, now: float) -> list[dict]:
        """Rows with a stored result that is neither deleted nor past its expiry (what the sweep verifies)."""
        rows = self._conn().execute(
            "SELECT id, result_path, result_size, result_sha256, result_deleted, expires FROM jobs"
            " WHERE result_path IS NOT NULL AND result_deleted = 0 AND (expires IS NULL OR expires > ?)",
            (now,)).fetchall()
        return [dict(r) for r in rows]

    def mark_result_lost(self, job_id: str, note: str) -> bool:
        """Record that a job's result is missing or damaged (``result_deleted = 1``, ``result_problem = note``).

        Returns False if the result was already marked deleted (expired, or lost before).
        """
        row = self._conn().execute(
            "UPDATE jobs SET result_deleted = 1, result_problem = ? WHERE id = ? AND result_deleted = 0 RETURNING id",
            (note, job_id)).fetchone()
        return row is not None
